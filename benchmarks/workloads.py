"""The benchmark workloads of issue 6, each buildable in dagrad, PyTorch and (where it makes sense)
the peers: tinygrad, MyGrad, HIPS autograd, JAX (jit and not), micrograd and plain NumPy.

A builder returns a zero-argument callable that runs ONE iteration (forward, backward, update...)
and leaves nothing pending (lazy frameworks are forced to finish). It raises `Unavailable` with a
reason when a framework or a piece of it is missing, so the harness reports "not available"
instead of crashing.

dagrad and PyTorch run the very same code: dagrad has PyTorch's API, so each workload is written
once against a module `lib` that is either `dagrad` or `torch`.
"""
import contextlib
import importlib
import math

import numpy as np


class Unavailable(Exception):
    """This framework (or the part of it a workload needs) is not installed / not written yet."""


MAIN = ("dagrad", "torch")
PEERS = ("numpy", "micrograd", "mygrad", "autograd", "jax", "jax-jit", "tinygrad")


def _import(name, what=None):
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise Unavailable(f"{what or name} not installed ({e.__class__.__name__}: {e})") from None


def _tinygrad_tensor():
    """tinygrad's Tensor, or Unavailable where it has no backend to run on (tinygrad 0.14 on a
    machine without its CPU compiler: "no usable devices")."""
    T = _attr(_import("tinygrad"), "Tensor", "tinygrad")
    try:
        T([1.0]).realize()
    except Exception as e:  # tinygrad raises RuntimeError, but any failure means: cannot run
        raise Unavailable(f"tinygrad cannot run here ({type(e).__name__}: {e})") from None
    return T


def _tg_leaf(T, arr):
    """A tinygrad leaf that requires grad (the keyword went away in later releases)."""
    try:
        return T(arr, requires_grad=True)
    except TypeError:
        return T(arr).requires_grad_()


def lib_of(fw):
    return _import(fw)


def _attr(obj, path, fw):
    """obj.a.b.c, or Unavailable naming what is missing."""
    cur = obj
    for part in path.split("."):
        try:
            cur = getattr(cur, part)
        except (AttributeError, ImportError) as e:
            raise Unavailable(f"{fw}.{path} is not available ({e})") from None
    return cur


# ----------------------------------------------------------------------------- FLOP counts
def mlp_flops(batch, sizes=(784, 256, 128, 10), train=True):
    """Matmul FLOPs (2 per multiply-add) of the MLP: forward, and for training the two backward
    GEMMs per layer (no input gradient for the first layer)."""
    fwd = sum(2 * batch * a * b for a, b in zip(sizes[:-1], sizes[1:]))
    if not train:
        return fwd
    return 3 * fwd - 2 * batch * sizes[0] * sizes[1]


def conv_flops(n, c, h, w, o, k, stride=1, pad=0, train=False, input_grad=True):
    ho = (h + 2 * pad - k) // stride + 1
    wo = (w + 2 * pad - k) // stride + 1
    f = 2 * n * o * ho * wo * c * k * k
    if train:
        f *= 3 if input_grad else 2
    return f, ho, wo


def resnet18_flops(batch, h, w, train=False):
    """Convolution and fc FLOPs of torchvision's ResNet18 (BN/ReLU/pooling/adds ignored).

    A train step counts forward + weight gradients + input gradients (none for the first conv).
    """
    total = 0
    mult = 3 if train else 1

    def conv(c, hh, ww, o, k, s, p, first=False):
        nonlocal total
        f, ho, wo = conv_flops(batch, c, hh, ww, o, k, s, p)
        total += f * ((2 if first else 3) if train else 1)
        return ho, wo

    hh, ww = conv(3, h, w, 64, 7, 2, 3, first=True)
    hh, ww = (hh + 2 - 3) // 2 + 1, (ww + 2 - 3) // 2 + 1  # maxpool 3/2/1
    c = 64
    for planes, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        for b in range(2):
            s = stride if b == 0 else 1
            h1, w1 = conv(c, hh, ww, planes, 3, s, 1)
            conv(planes, h1, w1, planes, 3, 1, 1)
            if s != 1 or c != planes:
                conv(c, hh, ww, planes, 1, s, 0)
            hh, ww, c = h1, w1, planes
    total += 2 * batch * 512 * 1000 * mult
    return total


# ----------------------------------------------------------------------------- ResNet18
def resnet18_model(lib, fw):
    """(model, where it came from): the library's own ResNet18 when it has one, else a
    definition with torchvision's exact architecture written against PyTorch's nn API."""
    if fw == "dagrad":
        try:
            from dagrad.vision.models import resnet18
            return resnet18(), "dagrad.vision.models.resnet18"
        except ImportError:
            pass
    elif fw == "torch":
        try:
            from torchvision.models import resnet18
            return resnet18(), "torchvision.models.resnet18"
        except ImportError:
            pass
    return _resnet18_def(lib, fw), "benchmarks/workloads.py ResNet18 (torchvision's architecture)"


def _resnet18_def(lib, fw):
    nn = _attr(lib, "nn", fw)
    for name in ("Module", "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "AdaptiveAvgPool2d",
                 "Linear", "Sequential"):
        _attr(nn, name, fw + ".nn")

    class BasicBlock(nn.Module):
        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = downsample

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            return self.relu(out)

    class ResNet18(nn.Module):
        def __init__(self, num_classes=1000):
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            self.layer1 = self._layer(64, 1)
            self.layer2 = self._layer(128, 2)
            self.layer3 = self._layer(256, 2)
            self.layer4 = self._layer(512, 2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, num_classes)

        def _layer(self, planes, stride):
            down = None
            if stride != 1 or self.inplanes != planes:
                down = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                                     nn.BatchNorm2d(planes))
            blocks = [BasicBlock(self.inplanes, planes, stride, down), BasicBlock(planes, planes)]
            self.inplanes = planes
            return nn.Sequential(*blocks)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(lib.flatten(self.avgpool(x), 1))

    return ResNet18()


# ----------------------------------------------------------------------------- workloads
class Workload:
    def __init__(self, key, title, build, flops=None, heavy=False, target=None, quick=True,
                 peers=None, kind="step", batch=None):
        self.key = key
        self.title = title
        self._build = build
        self.flops = flops
        self.heavy = heavy
        self.target = target     # (max ratio dagrad/torch, text)
        self.peers = peers or {}
        self.kind = kind         # "step" (timed in process) or "import" (timed in subprocesses)
        self.batch = batch

    def build(self, fw):
        if fw in MAIN:
            return self._build(lib_of(fw), fw)
        b = self.peers.get(fw)
        if b is None:
            raise Unavailable(f"no {fw} version of this workload")
        return b()


# --- tiny graph: Q = 3*a**3 - b**2; Q.sum().backward()
def _tiny(n):
    A = np.linspace(1.0, 3.0, n).astype(np.float32)
    B = np.linspace(6.0, 4.0, n).astype(np.float32)

    def main(lib, fw):
        a = lib.tensor(A.tolist(), requires_grad=True)
        b = lib.tensor(B.tolist(), requires_grad=True)

        def step():
            a.grad = None
            b.grad = None
            Q = 3 * a**3 - b**2
            Q.sum().backward()
        return step

    def numpy_fwd():
        a, b = A.copy(), B.copy()

        def step():
            return 3 * a**3 - b**2
        return step

    def micrograd():
        Value = _attr(_import("micrograd.engine", "micrograd"), "Value", "micrograd")
        a = [Value(float(v)) for v in A]
        b = [Value(float(v)) for v in B]

        def step():
            for v in a + b:
                v.grad = 0.0
            q = [3 * x**3 - y**2 for x, y in zip(a, b)]
            s = q[0]
            for t in q[1:]:
                s = s + t
            s.backward()
        return step

    def mygrad():
        mg = _import("mygrad")
        a = mg.tensor(A)
        b = mg.tensor(B)

        def step():
            Q = 3 * a**3 - b**2
            Q.sum().backward()
        return step

    def hips():
        ag = _import("autograd", "autograd (HIPS)")
        anp = _import("autograd.numpy", "autograd (HIPS)")
        g = ag.grad(lambda a, b: anp.sum(3 * a**3 - b**2), argnum=(0, 1))
        a, b = A.copy(), B.copy()
        return lambda: g(a, b)

    def jax_(jit):
        def build():
            jax = _import("jax")
            jnp = _import("jax.numpy", "jax")
            g = jax.grad(lambda a, b: jnp.sum(3 * a**3 - b**2), argnums=(0, 1))
            if jit:
                g = jax.jit(g)
            a, b = jnp.asarray(A), jnp.asarray(B)

            def step():
                ga, gb = g(a, b)
                ga.block_until_ready()
            return step
        return build

    def tinygrad():
        T = _tinygrad_tensor()
        a = _tg_leaf(T, A)
        b = _tg_leaf(T, B)

        def step():
            Q = 3 * a**3 - b**2
            Q.sum().backward()
            a.grad.realize()
            b.grad.realize()
            a.grad = b.grad = None
        return step

    return main, {"numpy": numpy_fwd, "micrograd": micrograd, "mygrad": mygrad,
                  "autograd": hips, "jax": jax_(False), "jax-jit": jax_(True),
                  "tinygrad": tinygrad}


# --- MLP 784-256-128-10, ReLU, cross-entropy, SGD step
def _mlp(batch=128):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch, 784)).astype(np.float32)
    Y = rng.integers(0, 10, batch)
    sizes = (784, 256, 128, 10)
    W = [(rng.standard_normal((o, i)) / math.sqrt(i)).astype(np.float32)
         for i, o in zip(sizes[:-1], sizes[1:])]
    Bs = [np.zeros(o, np.float32) for o in sizes[1:]]

    def main(lib, fw):
        nn = _attr(lib, "nn", fw)
        F = _attr(nn, "functional", fw + ".nn")
        cross_entropy = _attr(F, "cross_entropy", fw + ".nn.functional")
        SGD = _attr(lib, "optim.SGD", fw)
        model = _attr(nn, "Sequential", fw + ".nn")(
            _attr(nn, "Linear", fw + ".nn")(784, 256), nn.ReLU(),
            nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
        x = lib.from_numpy(X.copy())
        y = lib.from_numpy(Y.copy())
        opt = SGD(model.parameters(), lr=0.01)

        def step():
            opt.zero_grad()
            loss = cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        return step

    def numpy_hand():
        w = [a.copy() for a in W]
        bb = [a.copy() for a in Bs]
        x = X.copy()
        onehot = np.eye(10, dtype=np.float32)[Y]

        def step():
            h1 = np.maximum(x @ w[0].T + bb[0], 0)
            h2 = np.maximum(h1 @ w[1].T + bb[1], 0)
            z = h2 @ w[2].T + bb[2]
            z = z - z.max(1, keepdims=True)
            e = np.exp(z)
            p = e / e.sum(1, keepdims=True)
            g = (p - onehot) / batch
            gw2, gb2 = g.T @ h2, g.sum(0)
            g = (g @ w[2]) * (h2 > 0)
            gw1, gb1 = g.T @ h1, g.sum(0)
            g = (g @ w[1]) * (h1 > 0)
            gw0, gb0 = g.T @ x, g.sum(0)
            for p_, g_ in zip(w + bb, (gw0, gw1, gw2, gb0, gb1, gb2)):
                p_ -= 0.01 * g_
        return step

    def _loss(xnp):
        def loss(params, x, onehot):
            w0, w1, w2, b0, b1, b2 = params
            h = xnp.maximum(x @ w0.T + b0, 0)
            h = xnp.maximum(h @ w1.T + b1, 0)
            z = h @ w2.T + b2
            z = z - xnp.max(z, axis=1, keepdims=True)
            lse = xnp.log(xnp.sum(xnp.exp(z), axis=1))
            return xnp.mean(lse - xnp.sum(z * onehot, axis=1))
        return loss

    def hips():
        ag = _import("autograd", "autograd (HIPS)")
        anp = _import("autograd.numpy", "autograd (HIPS)")
        g = ag.grad(_loss(anp))
        params = [a.copy() for a in W + Bs]
        onehot = np.eye(10, dtype=np.float32)[Y]

        def step():
            gs = g(params, X, onehot)
            for p_, g_ in zip(params, gs):
                p_ -= 0.01 * g_
        return step

    def jax_(jit):
        def build():
            jax = _import("jax")
            jnp = _import("jax.numpy", "jax")
            loss = _loss(jnp)

            def update(params, x, onehot):
                gs = jax.grad(loss)(params, x, onehot)
                return [p_ - 0.01 * g_ for p_, g_ in zip(params, gs)]
            if jit:
                update = jax.jit(update)
            state = {"p": [jnp.asarray(a) for a in W + Bs]}
            x = jnp.asarray(X)
            onehot = jnp.asarray(np.eye(10, dtype=np.float32)[Y])

            def step():
                state["p"] = update(state["p"], x, onehot)
                state["p"][0].block_until_ready()
            return step
        return build

    def mygrad():
        mg = _import("mygrad")
        params = [mg.tensor(a.copy()) for a in W + Bs]
        onehot = np.eye(10, dtype=np.float32)[Y]

        def step():
            w0, w1, w2, b0, b1, b2 = params
            h = mg.maximum(mg.matmul(X, w0.T) + b0, 0)
            h = mg.maximum(mg.matmul(h, w1.T) + b1, 0)
            z = mg.matmul(h, w2.T) + b2
            z = z - mg.max(z, axis=1, keepdims=True)
            loss = mg.mean(mg.log(mg.sum(mg.exp(z), axis=1)) - mg.sum(z * onehot, axis=1))
            loss.backward()
            for p_ in params:
                p_.data -= 0.01 * p_.grad
        return step

    def tinygrad():
        T = _tinygrad_tensor()
        SGD = _attr(_import("tinygrad.nn.optim", "tinygrad"), "SGD", "tinygrad.nn.optim")
        params = [_tg_leaf(T, a.copy()) for a in W + Bs]
        opt = SGD(params, lr=0.01)
        x = T(X)
        y = T(Y.astype(np.int32))

        def step():
            with (T.train() if hasattr(T, "train") else contextlib.nullcontext()):
                w0, w1, w2, b0, b1, b2 = params
                z = ((x.dot(w0.T) + b0).relu().dot(w1.T) + b1).relu().dot(w2.T) + b2
                loss = z.sparse_categorical_crossentropy(y)
                opt.zero_grad()
                loss.backward()
                opt.step()
        return step

    peers = {"numpy": numpy_hand, "autograd": hips, "jax": jax_(False), "jax-jit": jax_(True),
             "mygrad": mygrad, "tinygrad": tinygrad}
    return main, peers


# --- conv2d x(8,64,56,56) w(64,64,3,3) pad 1, forward + backward
def _conv(n=8, c=64, hw=56, o=64, k=3):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, c, hw, hw)).astype(np.float32)
    Wt = (rng.standard_normal((o, c, k, k)) / math.sqrt(c * k * k)).astype(np.float32)
    G = rng.standard_normal((n, o, hw, hw)).astype(np.float32)

    def main(lib, fw):
        conv2d = getattr(lib, "conv2d", None)
        if conv2d is None:
            conv2d = _attr(lib, "nn.functional.conv2d", fw)
        x = lib.from_numpy(X.copy()).requires_grad_()
        w = lib.from_numpy(Wt.copy()).requires_grad_()
        g = lib.from_numpy(G.copy())

        def step():
            x.grad = None
            w.grad = None
            y = conv2d(x, w, padding=1)
            y.backward(g)
        return step

    def numpy_im2col():
        from numpy.lib.stride_tricks import sliding_window_view
        x, w, gy = X.copy(), Wt.copy(), G.copy()

        def step():
            xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
            cols = np.ascontiguousarray(sliding_window_view(xp, (k, k), axis=(2, 3)))
            y = np.tensordot(cols, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)
            del y
            gw = np.tensordot(gy, cols, axes=([0, 2, 3], [0, 2, 3]))
            dcols = np.tensordot(gy, w, axes=([1], [0]))        # (N, H, W, C, kh, kw)
            gxp = np.zeros_like(xp)
            for i in range(k):
                for j in range(k):
                    gxp[:, :, i:i + hw, j:j + hw] += dcols[..., i, j].transpose(0, 3, 1, 2)
            return gw, gxp[:, :, 1:-1, 1:-1]
        return step

    return main, {"numpy": numpy_im2col}


# --- ResNet18 train step (seed: forward, (pred - labels).sum(), backward, SGD momentum)
def _resnet_train(batch, hw):
    rng = np.random.default_rng(0)
    X = rng.random((batch, 3, hw, hw), dtype=np.float32)
    L = rng.random((batch, 1000), dtype=np.float32)
    info = {}

    def main(lib, fw):
        SGD = _attr(lib, "optim.SGD", fw)
        model, src = resnet18_model(lib, fw)
        info[fw] = src
        model.train()
        x = lib.from_numpy(X.copy())
        labels = lib.from_numpy(L.copy())
        opt = SGD(model.parameters(), lr=1e-2, momentum=0.9)

        def step():
            opt.zero_grad()
            loss = (model(x) - labels).sum()
            loss.backward()
            opt.step()
        return step

    return main, info


def _resnet_infer(batch, hw):
    rng = np.random.default_rng(0)
    X = rng.random((batch, 3, hw, hw), dtype=np.float32)
    info = {}

    def main(lib, fw):
        model, src = resnet18_model(lib, fw)
        info[fw] = src
        model.eval()
        x = lib.from_numpy(X.copy())

        def step():
            with lib.no_grad():
                model(x)
        return step

    return main, info


def _import_workload(lib, fw):
    raise Unavailable("timed in subprocesses")


def workloads():
    out = []
    for n in (2, 64):
        main, peers = _tiny(n)
        out.append(Workload(f"tiny{n}", f"tiny graph Q, a,b shape ({n},)", main, peers=peers,
                            target=(0.30, "≤ 0.30")))
    main, peers = _mlp(128)
    out.append(Workload("mlp", "MLP 784-256-128-10, batch 128, CE + SGD step", main,
                        flops=mlp_flops(128), peers=peers, target=(0.90, "≤ 0.90"), batch=128))
    main, peers = _conv()
    out.append(Workload("conv", "conv2d x(8,64,56,56) w(64,64,3,3) pad 1, fwd+bwd", main,
                        flops=conv_flops(8, 64, 56, 56, 64, 3, 1, 1, train=True)[0],
                        peers=peers, target=(1.00, "≤ 1.00")))
    main, info = _resnet_train(1, 64)
    w = Workload("r18_train_64", "ResNet18 train step (1,3,64,64)", main,
                 flops=resnet18_flops(1, 64, 64, train=True), target=(1.20, "≤ 1.20"))
    w.info = info
    out.append(w)
    main, info = _resnet_train(16, 224)
    w = Workload("r18_train_224", "ResNet18 train step (16,3,224,224)", main,
                 flops=resnet18_flops(16, 224, 224, train=True), heavy=True,
                 target=(1.20, "≤ 1.20 time and memory"))
    w.info = info
    out.append(w)
    main, info = _resnet_infer(16, 224)
    w = Workload("r18_infer_224", "ResNet18 inference (eval, no_grad) (16,3,224,224)", main,
                 flops=resnet18_flops(16, 224, 224, train=False), heavy=True,
                 target=(1.10, "≤ 1.10"))
    w.info = info
    out.append(w)
    out.append(Workload("import", "`python -c \"import X\"`", _import_workload, kind="import",
                        target=(None, "dagrad ≤ 0.2 s")))
    return out


def by_key():
    return {w.key: w for w in workloads()}
