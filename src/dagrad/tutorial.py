"""`dagrad tutorial`: the seed ("A Gentle Introduction to torch.autograd") end to end, in dagrad.

    dagrad tutorial [--out DIR] [--quick]

1. Differentiation in autograd: a, b, Q = 3*a**3 - b**2, the external gradient, the checks
   9*a**2 == a.grad and -2*b == b.grad, the Jacobian and J^T.v; pictures of Q's DAG.
2. Usage: ResNet18 forward, backward and one SGD momentum step on a (1, 3, 64, 64) image, timed.
3. Exclusion from the DAG: requires_grad propagation.
4. Fine-tuning: freeze ResNet18, replace fc, train the head on scikit-learn's digits (upsampled
   to 3x32x32), with a progress bar, loss and test accuracy per epoch and a loss-curve PNG.

Each check prints "✓" or "✗"; the command exits with 1 if any check fails, 2 if --out cannot be
written (reported before any work starts). A section whose pieces are missing (an optional
package, or a part of dagrad) says so and is skipped; the others still run.
"""
import os
import sys
import tempfile
import time


class Skip(Exception):
    """A section cannot run here (a missing package or piece); the message says why."""


class Tutorial:
    def __init__(self, out, quick, stream=None):
        self.out = out
        self.quick = quick
        self.stream = stream or sys.stdout
        self.checks = []      # (description, ok)
        self.files = []
        self.skipped = []
        self.failed = []

    # ------------------------------------------------------------------ printing
    def say(self, *args, **kw):
        print(*args, file=self.stream, flush=True, **kw)

    def heading(self, text):
        self.say()
        self.say(text)
        self.say("=" * len(text))

    def check(self, description, ok):
        ok = bool(ok)
        self.checks.append((description, ok))
        self.say(f"  {'✓' if ok else '✗'} {description}")
        return ok

    def wrote(self, path, what):
        self.files.append(path)
        self.say(f"  wrote {what}: {path}")

    def path(self, name):
        return os.path.join(self.out, name)


def _check_out(out):
    """None if `out` is (or can be made) a writable directory, else the reason."""
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        return f"{e.strerror or e} ({out})"
    if not os.path.isdir(out):
        return f"not a directory ({out})"
    try:
        fd, p = tempfile.mkstemp(dir=out, prefix=".dagrad-write-test-")
        os.close(fd)
        os.unlink(p)
    except OSError as e:
        return f"{e.strerror or e} ({out})"
    return None


def _need(modname, what, how):
    import importlib
    try:
        return importlib.import_module(modname)
    except ImportError as e:
        raise Skip(f"{what} is not available ({e}); {how}") from None


# ---------------------------------------------------------------------------------- section 1
def section_autograd(T):
    import dagrad as torch
    T.heading("1. Differentiation in autograd (seed sections 3-5)")
    a = torch.tensor([2., 3.], requires_grad=True)
    b = torch.tensor([6., 4.], requires_grad=True)
    Q = 3 * a**3 - b**2
    T.say("a = torch.tensor([2., 3.], requires_grad=True)  ->", a)
    T.say("b = torch.tensor([6., 4.], requires_grad=True)  ->", b)
    T.say("Q = 3*a**3 - b**2                               ->", Q)
    T.say("Q.grad_fn =", Q.grad_fn)
    T.say("Q.grad_fn.next_functions =", Q.grad_fn.next_functions)
    T.check("Q.grad_fn is SubBackward0 (the last operation recorded)",
            Q.grad_fn.name() == "SubBackward0")

    # the Jacobian of Q with respect to (a, b), before the graph is consumed
    T.say("\nThe Jacobian of Q = f(a, b):")
    f = lambda a_, b_: 3 * a_**3 - b_**2  # noqa: E731
    try:
        from .autograd.functional import jacobian
        Ja, Jb = jacobian(f, (a, b))
        T.say("  Ja, Jb = torch.autograd.functional.jacobian(f, (a, b))")
    except ImportError:
        T.say("  (dagrad.autograd.functional is not available: building J row by row with "
              "torch.autograd.grad)")
        rows_a, rows_b = [], []
        for i in range(Q.numel()):
            ga, gb = torch.autograd.grad(Q[i], (a, b), retain_graph=True)
            rows_a.append(ga)
            rows_b.append(gb)
        Ja, Jb = torch.stack(rows_a), torch.stack(rows_b)
    T.say("  dQ/da =", Ja)
    T.say("  dQ/db =", Jb)
    T.check("dQ/da = diag(9*a**2)", torch.equal(Ja, torch.diag(9 * a.detach()**2)))
    T.check("dQ/db = diag(-2*b)", torch.equal(Jb, torch.diag(-2 * b.detach())))

    # pictures of the DAG, before backward frees the saved tensors
    _pictures(T, Q, a, b)

    T.say("\nQ is a vector, so backward needs the gradient of Q with respect to itself:")
    external_grad = torch.tensor([1., 1.])
    T.say("  external_grad = torch.tensor([1., 1.]);  Q.backward(gradient=external_grad)")
    Q.backward(gradient=external_grad)
    T.say("  a.grad =", a.grad)
    T.say("  b.grad =", b.grad)
    T.say("  print(9*a**2 == a.grad) ->", 9 * a**2 == a.grad)
    T.say("  print(-2*b == b.grad)   ->", -2 * b == b.grad)
    T.check("9*a**2 == a.grad is tensor([True, True])", bool((9 * a**2 == a.grad).all()))
    T.check("-2*b == b.grad is tensor([True, True])", bool((-2 * b == b.grad).all()))
    T.check("Jᵀ·v equals the gradients (v = external_grad)",
            torch.allclose(Ja.T @ external_grad, a.grad)
            and torch.allclose(Jb.T @ external_grad, b.grad))

    T.say("\nEquivalently, Q.sum().backward() (the sum's gradient is all ones):")
    a2 = a.detach().clone().requires_grad_()
    b2 = b.detach().clone().requires_grad_()
    (3 * a2**3 - b2**2).sum().backward()
    T.check("Q.sum().backward() gives the same gradients",
            torch.equal(a2.grad, a.grad) and torch.equal(b2.grad, b.grad))

    T.say("\nVector calculus: for l = g(Q), autograd computes Jᵀ·v with v = dl/dQ:")
    a3 = a.detach().clone().requires_grad_()
    b3 = b.detach().clone().requires_grad_()
    Q3 = 3 * a3**3 - b3**2
    l = (Q3**2).sum() / 2          # dl/dQ = Q
    v = Q3.detach()
    l.backward()
    T.say("  l = (Q**2).sum()/2, v = dl/dQ = Q =", v)
    T.say("  Jᵀ·v =", Ja.T @ v, "  a.grad =", a3.grad)
    T.check("Jᵀ·v equals dl/da and dl/db (the chain rule)",
            torch.allclose(Ja.T @ v, a3.grad) and torch.allclose(Jb.T @ v, b3.grad))


def _pictures(T, Q, a, b):
    from . import viz
    T.say("\nThe DAG autograd recorded for Q (print_graph walks grad_fn.next_functions):")
    viz.print_graph(Q, params={"a": a, "b": b, "Q": Q}, file=T.stream)
    dot = viz.make_dot(Q, params={"a": a, "b": b, "Q": Q})
    T.wrote(dot.save(T.path("dag.dot")), "the DAG as DOT text")
    try:
        T.wrote(dot.render(T.path("dag.svg")), "the DAG (blue: inputs, grey: operations)")
        T.wrote(dot.render(T.path("dag.png")), "the same as PNG")
        g = viz.make_dot(Q, params={"a": a, "b": b, "Q": Q}, show_grads=True)
        T.wrote(g.render(T.path("dag-grads.svg")),
                "the DAG with the gradient (shape, norm) on each edge")
    except viz.ExecutableNotFound:
        T.say("  (Graphviz's `dot` is not installed, so no SVG/PNG: `apt-get install graphviz`; "
              "dag.dot can be rendered later with `dot -Tsvg dag.dot -o dag.svg`)")


# ---------------------------------------------------------------------------------- section 2
def _weights_state(T, allow_download):
    """(weights enum or None, message)."""
    models = _need("dagrad.vision.models", "dagrad.vision.models",
                   "it is needed for ResNet18")
    W = models.ResNet18_Weights.DEFAULT
    from . import hub
    fname = os.path.basename(W.url)
    mine = os.path.join(hub.get_dir(), "checkpoints", fname)
    try:
        theirs = os.path.join(hub._torch_checkpoints_dir(), fname)
    except Exception:  # noqa: BLE001
        theirs = mine
    for p in (mine, theirs):
        if os.path.exists(p):
            return W, f"pretrained ImageNet weights from the cache ({p})"
    how = (f"to use pretrained weights, run once with network access (they are downloaded to "
           f"{mine}) or copy {fname} there (PyTorch's cache {theirs} is used too)")
    if not allow_download:
        return None, f"random initialisation (--quick: no download attempted); {how}"
    try:
        os.makedirs(os.path.dirname(mine), exist_ok=True)
        m = hub.HASH_REGEX.search(fname)
        hub.download_url_to_file(W.url, mine, m.group(1) if m else None, progress=True,
                                 timeout=5)
        return W, f"pretrained ImageNet weights, downloaded to {mine}"
    except Exception as e:  # noqa: BLE001 - offline is normal here
        msg = (str(e).splitlines()[0].split(". ")[0][:200] if str(e)
               else type(e).__name__)
        return None, f"random initialisation (download failed: {msg}); {how}"


def _resnet18(T, weights, num_classes=None):
    from .vision.models import resnet18
    if weights is not None:
        try:
            return resnet18(weights=weights)
        except Exception as e:  # noqa: BLE001
            T.say(f"  (loading the pretrained weights failed: {e}; using random init)")
    return resnet18()


def section_resnet(T):
    import dagrad as torch
    T.heading("2. Usage: ResNet18 forward, backward and an SGD step (seed section 2)")
    _need("dagrad.nn", "dagrad.nn", "ResNet18 needs it")
    optim = _need("dagrad.optim", "dagrad.optim", "the SGD step needs it")
    weights, msg = _weights_state(T, allow_download=not T.quick)
    T.say(f"  model = resnet18(weights=...): {msg}")
    t0 = time.perf_counter()
    model = _resnet18(T, weights)
    T.say(f"  built in {time.perf_counter() - t0:.2f} s")
    T._weights = weights
    torch.manual_seed(0)
    data = torch.rand(1, 3, 64, 64)
    labels = torch.rand(1, 1000)
    from . import viz
    t0 = time.perf_counter()
    with viz.record_modules(model):
        prediction = model(data)
    t_fwd = time.perf_counter() - t0
    T.say(f"  prediction = model(data)        {t_fwd * 1e3:8.1f} ms   shape "
          f"{tuple(prediction.shape)}")
    loss = (prediction - labels).sum()
    nodes = _count_nodes(loss)
    T.say(f"  loss = (prediction - labels).sum() = {loss.item():.4f}; its graph has {nodes} "
          f"nodes")
    try:
        g = viz.make_dot(loss, params=model, collapse_modules=True)
        T.wrote(g.render(T.path("resnet18-modules.svg")), "ResNet18's DAG, one box per module")
    except viz.ExecutableNotFound:
        T.say("  (Graphviz's `dot` is not installed: no picture of ResNet18's graph)")
    t0 = time.perf_counter()
    loss.backward()
    t_bwd = time.perf_counter() - t0
    T.say(f"  loss.backward()                 {t_bwd * 1e3:8.1f} ms")
    params = list(model.parameters())
    T.check(f"every one of the {len(params)} parameters has a .grad of its own shape",
            all(p.grad is not None and p.grad.shape == p.shape for p in params))
    optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    before = model.conv1.weight.detach().clone()
    grad = model.conv1.weight.grad.detach().clone()
    t0 = time.perf_counter()
    optimizer.step()
    t_step = time.perf_counter() - t0
    T.say(f"  optimizer.step() (SGD, lr=1e-2, momentum=0.9)  {t_step * 1e3:8.1f} ms")
    T.check("the step moved each parameter by -lr * grad (first step: momentum buffer = grad)",
            torch.allclose(model.conv1.weight.detach(), before - 1e-2 * grad, atol=1e-6))
    T.say(f"  one training step: {(t_fwd + t_bwd + t_step) * 1e3:.1f} ms in all")


def _count_nodes(t):
    seen, stack = set(), [t.grad_fn]
    while stack:
        n = stack.pop()
        if n is None or n in seen:
            continue
        seen.add(n)
        stack.extend(m for m, _ in n.next_functions)
    return len(seen)


# ---------------------------------------------------------------------------------- section 3
def section_exclusion(T):
    import dagrad as torch
    T.heading("3. Exclusion from the DAG (seed section 6)")
    x = torch.rand(5, 5)
    y = torch.rand(5, 5)
    z = torch.rand((5, 5), requires_grad=True)
    a = x + y
    b = x + z
    T.say(f"  Does `a` require gradients?: {a.requires_grad}")
    T.say(f"  Does `b` require gradients?: {b.requires_grad}")
    T.check("x + y does not require grad; x + z does (one input requiring grad is enough)",
            a.requires_grad is False and b.requires_grad is True)
    T.check("x + y has no grad_fn (not recorded in the DAG)", a.grad_fn is None)


# ---------------------------------------------------------------------------------- section 4
def _digits(quick):
    datasets = _need("sklearn.datasets", "scikit-learn",
                     "install it (pip install scikit-learn) for the digits data set")
    import numpy as np
    d = datasets.load_digits()
    X = d.images.astype(np.float32) / 16.0            # (1797, 8, 8) in [0, 1]
    y = d.target.astype(np.int64)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(X))
    n_test = 360
    test, train = idx[:n_test], idx[n_test:]
    if quick:
        train, test = train[:256], test[:128]
    # upsample 8x8 -> 32x32 (nearest), 3 channels, ImageNet normalisation
    up = X.repeat(4, axis=1).repeat(4, axis=2)[:, None]
    up = np.repeat(up, 3, axis=1)
    mean = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None]
    std = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]
    up = (up - mean) / std
    return (up[train], y[train]), (up[test], y[test])


def _progress(iterable, total, desc, stream):
    try:
        from tqdm import tqdm
        return tqdm(iterable, total=total, desc=desc, leave=False, file=sys.stderr,
                    ncols=90, mininterval=0.5)
    except ImportError:
        return _TextProgress(iterable, total, desc)


class _TextProgress:
    def __init__(self, it, total, desc):
        self.it, self.total, self.desc = it, total, desc
        self.postfix = ""

    def set_postfix_str(self, s):
        self.postfix = s

    def __iter__(self):
        for i, x in enumerate(self.it):
            yield x
            done = int(20 * (i + 1) / max(1, self.total))
            sys.stderr.write(f"\r{self.desc} [{'#' * done}{'.' * (20 - done)}] {i + 1}/"
                             f"{self.total} {self.postfix}")
            sys.stderr.flush()
        sys.stderr.write("\r" + " " * 70 + "\r")


def section_finetune(T):
    import numpy as np

    import dagrad as torch
    T.heading("4. Fine-tuning: a frozen ResNet18 backbone, a new head (seed section 7)")
    nn = _need("dagrad.nn", "dagrad.nn", "fine-tuning needs it")
    optim = _need("dagrad.optim", "dagrad.optim", "fine-tuning needs it")
    _need("dagrad.vision.models", "dagrad.vision.models", "fine-tuning needs ResNet18")
    (Xtr, ytr), (Xte, yte) = _digits(T.quick)
    T.say(f"  data: scikit-learn's digits, {len(Xtr)} train / {len(Xte)} test images, 8x8 "
          f"upsampled to 3x32x32")
    weights = getattr(T, "_weights", None)
    if not hasattr(T, "_weights"):
        weights, msg = _weights_state(T, allow_download=not T.quick)
        T.say(f"  backbone: {msg}")
    else:
        T.say("  backbone: " + ("pretrained ImageNet weights" if weights is not None
                                else "random initialisation (see section 2)"))
    torch.manual_seed(0)
    model = _resnet18(T, weights)
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(512, 10)
    optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    n_frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    T.say("  for param in model.parameters(): param.requires_grad = False")
    T.say("  model.fc = nn.Linear(512, 10)")
    T.say("  optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)")
    T.say(f"  parameters: {n_train:,} trainable (fc), {n_frozen:,} frozen")
    T.check("only model.fc's weight and bias are trainable",
            [n for n, p in model.named_parameters() if p.requires_grad]
            == ["fc.weight", "fc.bias"])
    model.eval()   # the frozen backbone's BatchNorm layers use their running statistics
    frozen_before = model.layer1[0].conv1.weight.detach().clone()

    # The backbone is frozen and in eval mode, so its output for an image never changes: the
    # first epoch runs the whole model and keeps the 512 features fc receives (a forward hook on
    # fc); later epochs feed those features to fc directly. Same numbers, epochs*x less work.
    T.say("  the backbone is frozen and in eval mode, so its features never change: epoch 1 runs "
          "the whole model, later epochs reuse its features (checked below)")
    cache = {}
    hook = model.fc.register_forward_hook(
        lambda mod, inp, out: cache.__setitem__("x", inp[0].detach()))
    bs = 64
    epochs = 15 if T.quick else 30
    Xtr_t, ytr_t = torch.from_numpy(Xtr), torch.from_numpy(ytr)
    Xte_t, yte_t = torch.from_numpy(Xte), torch.from_numpy(yte)
    feats_tr = [None] * ((len(Xtr) + bs - 1) // bs)
    feats_te = None
    losses, accs, epoch_losses = [], [], []
    gen = torch.Generator().manual_seed(0)
    t_start = time.perf_counter()
    first_batch_checked = False
    for epoch in range(epochs):
        # fixed batches (so features can be cached per batch); their order is shuffled
        order = torch.randperm(len(feats_tr), generator=gen).tolist()
        bar = _progress(order, len(order), f"epoch {epoch + 1}/{epochs}", T.stream)
        tot, cnt = 0.0, 0
        for bi in bar:
            sl = slice(bi * bs, (bi + 1) * bs)
            yb = ytr_t[sl]
            if feats_tr[bi] is None:
                out = model(Xtr_t[sl])
                feats_tr[bi] = cache["x"]
            else:
                out = model.fc(feats_tr[bi])
            loss = nn.functional.cross_entropy(out, yb)
            if not first_batch_checked:
                _finetune_dag(T, loss, model)
            optimizer.zero_grad()
            loss.backward()
            if not first_batch_checked:
                first_batch_checked = True
                T.check("after backward only fc has gradients; frozen parameters' .grad is None",
                        all((p.grad is not None) == p.requires_grad
                            for p in model.parameters()))
            optimizer.step()
            losses.append(loss.item())
            tot += loss.item() * len(yb)
            cnt += len(yb)
            if hasattr(bar, "set_postfix_str"):
                bar.set_postfix_str(f"loss {loss.item():.3f}")
        epoch_losses.append(tot / cnt)
        with torch.no_grad():
            if feats_te is None:
                logits = model(Xte_t)
                feats_te = cache["x"]
            else:
                logits = model.fc(feats_te)
            acc = (logits.argmax(1) == yte_t).float().mean().item()
        accs.append(acc)
        if 1 < epoch + 1 < epochs and (epoch + 1) % 5:
            continue
        T.say(f"  epoch {epoch + 1}/{epochs}: train loss {tot / cnt:.4f}   test accuracy "
              f"{acc * 100:5.1f}%   ({time.perf_counter() - t_start:.1f} s)")
    hook.remove()
    with torch.no_grad():
        direct = model(Xte_t[:8])
        via_cache = model.fc(feats_te[:8])
    # not bit-exact: the convolution algorithm (Winograd, GEMM bands) depends on the batch, as
    # PyTorch's does, so a batch of 8 and the whole test set round differently
    T.check("the cached features give the full model's outputs (to float32 rounding)",
            torch.allclose(direct, via_cache, rtol=1e-4, atol=1e-4))
    T.check("the frozen backbone did not change",
            torch.equal(model.layer1[0].conv1.weight.detach(), frozen_before))
    T.check("training lowered the loss (last epoch < first epoch)",
            epoch_losses[-1] < epoch_losses[0])
    T.check(f"test accuracy {accs[-1] * 100:.1f}% is above chance (10%)", accs[-1] > 0.2)
    _loss_curve(T, losses, accs, len(feats_tr))
    return np


def _finetune_dag(T, loss, model):
    """The fine-tuning loss's DAG: the frozen backbone is not in it, only fc and the loss."""
    from . import viz
    nodes = _count_nodes(loss)
    leaves = sorted(n for n, p in model.named_parameters() if p.requires_grad)
    T.say(f"  the loss's DAG has {nodes} nodes: the frozen backbone recorded nothing; its leaves "
          f"are {', '.join(leaves)}")
    T.check("the fine-tuning DAG is tiny (the backbone's ~130 nodes are excluded)", nodes < 10)
    try:
        g = viz.make_dot(loss, params=model)
        T.wrote(g.render(T.path("finetune-dag.svg")), "the fine-tuning loss's DAG")
    except viz.ExecutableNotFound:
        pass


def _loss_curve(T, losses, accs, per_epoch):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        T.say("  (matplotlib is not installed: no loss curve; pip install matplotlib)")
        return
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ax.plot([i / per_epoch for i in range(1, len(losses) + 1)], losses, lw=1,
            label="train loss (per batch)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax2 = ax.twinx()
    ax2.plot(range(1, len(accs) + 1), [a * 100 for a in accs], "o-", color="tab:green",
             label="test accuracy")
    ax2.set_ylabel("test accuracy (%)")
    ax2.set_ylim(0, 100)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="center right")
    ax.set_title("Fine-tuning ResNet18's head on digits (frozen backbone)", fontsize=10)
    fig.tight_layout()
    p = T.path("loss-curve.png")
    fig.savefig(p, dpi=100)
    plt.close(fig)
    T.wrote(p, "the loss curve")


# ---------------------------------------------------------------------------------- main
SECTIONS = (section_autograd, section_resnet, section_exclusion, section_finetune)


def run(out="dagrad-tutorial", quick=False, stream=None):
    """Run the tutorial; returns the Tutorial (checks, files, skipped and failed sections)."""
    T = Tutorial(out, quick, stream)
    for sec in SECTIONS:
        try:
            sec(T)
        except Skip as e:
            T.skipped.append((sec.__name__, str(e)))
            T.say(f"  [section skipped: {e}]")
        except Exception as e:  # noqa: BLE001 - report, go on with the next section
            import traceback
            T.failed.append((sec.__name__, f"{type(e).__name__}: {e}"))
            T.say(f"  [section failed: {type(e).__name__}: {e}]")
            traceback.print_exc(file=sys.stderr)
    return T


def main(args):
    out = os.path.abspath(getattr(args, "out", None) or "dagrad-tutorial")
    quick = bool(getattr(args, "quick", False))
    err = _check_out(out)
    if err is not None:
        print(f"dagrad tutorial: cannot write to --out directory: {err}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    import dagrad
    print(f"dagrad {dagrad.__version__} tutorial{' (--quick)' if quick else ''}: files go to "
          f"{out}", flush=True)
    T = run(out, quick)
    n_ok = sum(ok for _, ok in T.checks)
    T.heading("Summary")
    T.say(f"  {n_ok}/{len(T.checks)} checks passed in {time.perf_counter() - t0:.1f} s")
    for name, why in T.skipped:
        T.say(f"  skipped {name}: {why}")
    for name, why in T.failed:
        T.say(f"  FAILED {name}: {why}")
    for desc, ok in T.checks:
        if not ok:
            T.say(f"  ✗ {desc}")
    if T.files:
        T.say(f"  files: {', '.join(os.path.basename(f) for f in T.files)} in {out}")
    return 0 if n_ok == len(T.checks) and not T.failed else 1
