"""utils.checkpoint: same gradients as without checkpointing (and as torch), lower peak memory."""
import tracemalloc

import numpy as np
import pytest
import torch
import torch.utils.checkpoint as tcp

import dagrad
import dagrad.utils.checkpoint as dcp
from helpers import assert_close

RNG = np.random.RandomState(0)
WS = [RNG.randn(8, 8) * 0.4 for _ in range(6)]
X = RNG.randn(5, 8)


def block(lib, ws):
    def f(x, scale=1.0):
        for w in ws:
            x = (x @ w).tanh() * scale + x.sigmoid()
        return x
    return f


def _grads(lib, mode, reentrant=None):
    ws = [lib.tensor(w, requires_grad=True) for w in WS]
    x = lib.tensor(X, requires_grad=True)
    cp = tcp if lib is torch else dcp
    f1, f2 = block(lib, ws[:3]), block(lib, ws[3:])
    if mode == "plain":
        y = f2(f1(x))
    elif mode == "checkpoint":
        y = cp.checkpoint(f2, cp.checkpoint(f1, x, use_reentrant=reentrant),
                          use_reentrant=reentrant)
    else:
        fns = [lambda t, w=w: (t @ w).tanh() * 1.0 + t.sigmoid() for w in ws]
        y = cp.checkpoint_sequential(fns, 3, x, use_reentrant=reentrant)
    loss = (y ** 2).sum()
    loss.backward()
    return [loss.detach()] + [x.grad] + [w.grad for w in ws]


@pytest.mark.parametrize("reentrant", [False, True])
@pytest.mark.parametrize("mode", ["checkpoint", "sequential"])
def test_gradients_identical(mode, reentrant):
    plain = _grads(dagrad, "plain")
    ck = _grads(dagrad, mode, reentrant)
    for a, b in zip(plain, ck):
        np.testing.assert_array_equal(a.numpy(), b.numpy())  # bit-identical recomputation
    assert_close(ck, _grads(torch, mode, reentrant))


def test_non_reentrant_autograd_grad_and_kwargs():
    ws = [dagrad.tensor(w, requires_grad=True) for w in WS[:2]]
    x = dagrad.tensor(X, requires_grad=True)
    y = dcp.checkpoint(block(dagrad, ws), x, use_reentrant=False, scale=0.5)
    g = dagrad.autograd.grad(y.sum(), [x] + ws)
    y2 = block(dagrad, ws)(x, scale=0.5)
    g2 = dagrad.autograd.grad(y2.sum(), [x] + ws)
    for a, b in zip(g, g2):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_rng_state_preserved_in_recomputation():
    x = dagrad.tensor(X, requires_grad=True)

    def f(t):
        return dagrad.nn.functional.dropout(t.exp(), 0.5, training=True) if hasattr(
            dagrad, "nn") and hasattr(dagrad.nn, "functional") else t.exp() * (
            dagrad.rand(*t.shape, dtype=t.dtype) > 0.5)
    dagrad.manual_seed(3)
    y = dcp.checkpoint(f, x, use_reentrant=False)
    y.sum().backward()
    dagrad.manual_seed(3)
    x2 = dagrad.tensor(X, requires_grad=True)
    f(x2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), x2.grad.numpy())


def test_use_reentrant_warning_like_torch():
    x = dagrad.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed"):
        dcp.checkpoint(lambda t: t.sin(), x)


def _peak(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


@pytest.mark.parametrize("reentrant", [False, True])
def test_peak_memory_lower(reentrant):
    n_layers, batch, n = 16, 1024, 32
    rng = np.random.RandomState(1)
    ws = [dagrad.tensor(rng.randn(n, n) * 0.1, requires_grad=True) for _ in range(n_layers)]
    x0 = dagrad.tensor(rng.randn(batch, n), requires_grad=True)
    layers = [lambda t, w=w: (t @ w).tanh() for w in ws]

    def plain():
        t = x0
        for f in layers:
            t = f(t)
        t.sum().backward()

    def ck():
        dcp.checkpoint_sequential(layers, 4, x0, use_reentrant=reentrant).sum().backward()

    plain()  # warm up
    for w in ws:
        w.grad = None
    p_plain = _peak(plain)
    g_plain = [w.grad.numpy().copy() for w in ws]
    for w in ws:
        w.grad = None
    x0.grad = None
    p_ck = _peak(ck)
    for w, g in zip(ws, g_plain):
        np.testing.assert_allclose(w.grad.numpy(), g, rtol=1e-12)
    act = batch * n * 8
    # plain keeps ~2 activations per layer alive; checkpointing ~ one segment's worth
    assert p_ck < 0.6 * p_plain, (p_ck / act, p_plain / act)
    print(f"peak: plain {p_plain / act:.1f} activations, checkpointed {p_ck / act:.1f}")


def test_nested_non_reentrant_checkpoints():
    def grads(nested):
        ws = [dagrad.tensor(w, requires_grad=True) for w in WS[:4]]
        x = dagrad.tensor(X, requires_grad=True)
        inner = block(dagrad, ws[2:])

        def outer(t):
            t = block(dagrad, ws[:2])(t)
            return dcp.checkpoint(inner, t, use_reentrant=False) if nested else inner(t)
        y = dcp.checkpoint(outer, x, use_reentrant=False) if nested else outer(x)
        (y ** 2).sum().backward()
        return [x.grad] + [w.grad for w in ws]
    for a, b in zip(grads(False), grads(True)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_double_backward_through_non_reentrant_checkpoint():
    x = dagrad.tensor(X[0], requires_grad=True)
    f = lambda t: (t.sin() * t).exp().sum()  # noqa: E731
    (g,) = dagrad.autograd.grad(dcp.checkpoint(f, x, use_reentrant=False), x, create_graph=True)
    (gg,) = dagrad.autograd.grad(g.sum(), x)
    x2 = dagrad.tensor(X[0], requires_grad=True)
    (g2,) = dagrad.autograd.grad(f(x2), x2, create_graph=True)
    (gg2,) = dagrad.autograd.grad(g2.sum(), x2)
    np.testing.assert_allclose(gg.numpy(), gg2.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- custom Functions inside
def _square_fn(lib):
    class Sq(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g
    return Sq


@pytest.mark.parametrize("use_checkpoint", [True, False])
def test_custom_function_saved_tensors_freed_and_recomputed(use_checkpoint):
    """What ctx.save_for_backward kept inside a non-reentrant checkpoint is dropped after the
    forward (the intermediate dies, as in torch) and recomputed for backward."""
    import gc
    import weakref
    res = []
    for lib, cp in ((torch, tcp), (dagrad, dcp)):
        Sq, refs, runs = _square_fn(lib), [], [0]

        def f(x):
            runs[0] += 1
            h = x.sin() * 3
            refs.append(weakref.ref(h))
            return Sq.apply(h).sum()
        x = lib.tensor(X[0], requires_grad=True)
        y = cp.checkpoint(f, x, use_reentrant=False) if use_checkpoint else f(x)
        gc.collect()
        alive = refs[0]() is not None
        y.backward()
        res.append((alive, runs[0], x.grad.numpy().copy()))
    (ta, tr, tg), (da, dr, dg) = res
    assert da == ta == (not use_checkpoint)  # freed only under checkpoint
    assert dr == tr == (2 if use_checkpoint else 1)
    np.testing.assert_allclose(dg, tg, rtol=1e-12)


def test_custom_function_peak_memory_lower():
    Sq = _square_fn(dagrad)
    rng = np.random.RandomState(2)
    x0 = dagrad.tensor(rng.randn(512, 64), requires_grad=True)

    def seg(t):
        for _ in range(4):
            t = Sq.apply(t.tanh())
        return t

    def run(ck):
        t = x0
        for _ in range(4):
            t = dcp.checkpoint(seg, t, use_reentrant=False) if ck else seg(t)
        t.sum().backward()
    run(False)
    x0.grad = None
    p_plain = _peak(lambda: run(False))
    g = x0.grad.numpy().copy()
    x0.grad = None
    p_ck = _peak(lambda: run(True))
    np.testing.assert_array_equal(x0.grad.numpy(), g)
    assert p_ck < 0.6 * p_plain, (p_ck, p_plain)


# ---------------------------------------------------------------- context_fn
def _ctx_log(lib, cp, grad=True):
    import contextlib
    log = []

    @contextlib.contextmanager
    def c(name):
        log.append(name + "+")
        yield
        log.append(name + "-")

    def context_fn():
        log.append("context_fn")
        return c("fwd"), c("rec")
    x = lib.tensor(X[0], requires_grad=True)
    f = lambda t: (t.sin() * t).exp().sum()  # noqa: E731
    if not grad:
        with lib.no_grad():
            cp.checkpoint(f, x, use_reentrant=False, context_fn=context_fn)
        return log
    y = cp.checkpoint(f, x, use_reentrant=False, context_fn=context_fn)
    log.append("backward")
    y.backward()
    return log, x.grad.numpy()


def test_context_fn_entered_around_forward_and_recomputation():
    tl, tg = _ctx_log(torch, tcp)
    dl, dg = _ctx_log(dagrad, dcp)
    # torch stops its recomputation early by raising through the context (no "rec-")
    assert dl[:5] == tl[:5] == ["context_fn", "fwd+", "fwd-", "backward", "rec+"]
    assert dl[5:] == ["rec-"]
    np.testing.assert_allclose(dg, tg, rtol=1e-12)
    assert _ctx_log(dagrad, dcp, grad=False) == _ctx_log(torch, tcp, grad=False) == [
        "context_fn"]


def test_context_fn_errors_like_torch():
    for lib, cp in ((torch, tcp), (dagrad, dcp)):
        x = lib.ones(2, requires_grad=True)
        with pytest.raises(ValueError, match="debug=True is incompatible with non-default "
                                             "context_fn"):
            cp.checkpoint(lambda t: t.sin(), x, use_reentrant=False, debug=True,
                          context_fn=lambda: (None, None))
        with pytest.raises(ValueError, match="only supported when use_reentrant=False"):
            cp.checkpoint(lambda t: t.sin(), x, use_reentrant=True,
                          context_fn=lambda: (None, None))
        with pytest.raises(ValueError, match=r"determinism_check should be one of "
                                             r"\['default', 'none'\], but got x"):
            cp.checkpoint(lambda t: t.sin(), x, use_reentrant=False, determinism_check="x")


# ---------------------------------------------------------------- selective checkpointing
def _sac_run(lib, cp, policy_or_list, W):
    import functools
    import gc
    import weakref
    runs, refs = [0], []
    w = lib.tensor(W, requires_grad=True)

    def f(x):
        runs[0] += 1
        t = (x @ w).tanh()
        refs.append(weakref.ref(t))
        return (t @ w).sigmoid().sum()
    x = lib.tensor(X[:3, :8], requires_grad=True)
    ctx = functools.partial(cp.create_selective_checkpoint_contexts, policy_or_list)
    y = cp.checkpoint(f, x, use_reentrant=False, context_fn=ctx)
    gc.collect()
    kept = refs[0]() is not None
    y.backward()
    return kept, runs[0], x.grad.numpy().copy(), w.grad.numpy().copy()


@pytest.mark.parametrize("saved_op", ["mm", "tanh"])
def test_selective_checkpoint_saves_the_chosen_ops(saved_op):
    """torch caches the outputs of the ops its policy saves: with mm saved, tanh's output (saved
    by the second mm) is still freed and recomputed; with tanh saved its storage stays alive."""
    W = WS[0]
    seen = []

    def policy(ctx, op, *args, **kwargs):
        seen.append(str(op))
        assert isinstance(ctx, dcp.SelectiveCheckpointContext) and ctx.is_recompute is False
        return dcp.CheckpointPolicy.MUST_SAVE if op == f"aten.{saved_op}.default" else \
            dcp.CheckpointPolicy.PREFER_RECOMPUTE
    top = getattr(torch.ops.aten, saved_op).default

    def tpolicy(ctx, op, *args, **kwargs):
        return tcp.CheckpointPolicy.MUST_SAVE if op == top else \
            tcp.CheckpointPolicy.PREFER_RECOMPUTE
    kept, runs, gx, gw = _sac_run(dagrad, dcp, policy, W)
    tkept, truns, tgx, tgw = _sac_run(torch, tcp, tpolicy, W)
    assert seen[:3] == ["aten.mm.default", "aten.tanh.default", "aten.mm.default"]
    # (torch keeps a detached alias of a cached output: the Python object itself dies there)
    assert kept == (saved_op == "tanh") and not tkept
    assert runs == truns == 2  # sigmoid still recomputed
    np.testing.assert_allclose(gx, tgx, rtol=1e-12)
    np.testing.assert_allclose(gw, tgw, rtol=1e-12)
    kept0, _, gx0, _ = _sac_run(dagrad, dcp, lambda c, op, *a, **k: False, W)  # plain
    assert not kept0
    np.testing.assert_array_equal(gx0, gx)


def test_selective_checkpoint_op_list_and_all_saved():
    W = WS[1]
    kept, runs, gx, gw = _sac_run(dagrad, dcp, ["aten.mm.default", "tanh",
                                                "aten::sigmoid"], W)
    _, _, tgx, tgw = _sac_run(torch, tcp, [torch.ops.aten.mm.default], W)
    assert kept
    assert runs == 1  # every op saved: dagrad never runs the function again
    np.testing.assert_allclose(gx, tgx, rtol=1e-12)
    np.testing.assert_allclose(gw, tgw, rtol=1e-12)
    for cp in (tcp, dcp):
        with pytest.raises(ValueError, match="Expected op in `op_list` to be an OpOverload but "
                                             "got: 1 of type <class 'int'>"):
            cp.create_selective_checkpoint_contexts([1])
        with pytest.raises(TypeError, match="policy_fn_or_list must be either a function or a "
                                            "list of ops"):
            cp.create_selective_checkpoint_contexts(3)
    assert [p.value for p in dcp.CheckpointPolicy] == [p.value for p in tcp.CheckpointPolicy]
    assert [p.name for p in dcp.CheckpointPolicy] == [p.name for p in tcp.CheckpointPolicy]


# ---------------------------------------------------------------- determinism check, debug
def _nondeterministic(lib, cp, **kw):
    it = iter([3, 2])

    def g(x):
        n = next(it)
        return (x[:n].sin() * 2).exp().sum()
    x = lib.tensor(np.arange(4.0), requires_grad=True)
    y = cp.checkpoint(g, x, use_reentrant=False, **kw)
    with pytest.raises(Exception) as e:
        y.backward()
    return e


def test_determinism_check_default_raises_torch_error():
    t = _nondeterministic(torch, tcp)
    d = _nondeterministic(dagrad, dcp)
    assert d.type is dcp.CheckpointError and issubclass(d.type, RuntimeError)
    assert str(d.value) == str(t.value)
    assert "saved metadata: {'shape': torch.Size([3]), 'dtype': torch.float64, 'device': " \
           "device(type='cpu')}\nrecomputed metadata: {'shape': torch.Size([2])" in str(d.value)


def test_determinism_check_none_skips_it_like_torch():
    t = _nondeterministic(torch, tcp, determinism_check="none")
    d = _nondeterministic(dagrad, dcp, determinism_check="none")
    assert d.type is t.type is RuntimeError  # not a CheckpointError: the mismatch surfaces later
    assert str(d.value) == str(t.value)


def test_different_number_of_saved_tensors():
    it = iter([True, False])

    def g(x):
        return (x.sin() * x).sum() if next(it) else (x * 2).sum()
    x = dagrad.tensor(X[0], requires_grad=True)
    y = dcp.checkpoint(g, x, use_reentrant=False, determinism_check="none")
    with pytest.raises(dcp.CheckpointError, match="A different number of tensors was saved "
                                                  "during the original forward and "
                                                  "recomputation"):
        y.backward()


def test_debug_lists_the_ops_of_both_runs():
    d = _nondeterministic(dagrad, dcp, debug=True)
    msg = str(d.value)
    assert d.type is dcp.CheckpointError
    assert "ERROR: Detected non-determinism while running activation checkpointing" in msg
    fwd = msg.split("Operations executed during the original forward:")[1]
    assert "SinBackward0" in fwd and "ExpBackward0" in fwd
    assert "test_checkpoint.py" in msg  # the user lines that created the ops
    assert "Recomputed values for the following tensors" in str(d.value.__cause__)
    with dcp.set_checkpoint_debug_enabled(True):
        d2 = _nondeterministic(dagrad, dcp)
    assert "Detected non-determinism" in str(d2.value)


def test_op_names_seen_by_policies():
    from dagrad.utils.checkpoint import OpName
    x = dagrad.ones(2, 2, requires_grad=True)
    ops = {"mm": OpName.of((x @ x).grad_fn), "add": OpName.of(x.add(x).grad_fn),
           "tanh": OpName.of(x.tanh().grad_fn)}
    assert ops["mm"] == "aten.mm.default"
    assert ops["tanh"] == "aten.tanh.default" and str(ops["tanh"]) == "aten.tanh.default"
    assert ops["add"] == "aten.add.Tensor" and ops["add"] == "aten::add" and ops["add"] == "add"
    assert ops["add"] != "aten.mul.Tensor" and ops["add"] != "addmm"
    assert ops["tanh"].name() == "aten::tanh"
    assert len({ops["add"], OpName("add")}) == 1
