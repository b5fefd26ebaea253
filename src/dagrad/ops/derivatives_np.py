"""NumPy twins of the hottest rules in derivatives.py, for the engine's first-order path.

`derivatives.py` stays the one definition of every gradient (in Tensor ops, so it can be
differentiated again). A first-order backward (create_graph=False) records nothing, so for the
rules that dominate small graphs and training steps the engine calls the twin here instead,
arrays in and arrays out: no Tensor wrapping, no op dispatch. tests/test_derivatives_np.py runs
every twin against its Tensor rule on random inputs (shapes, broadcasting, dtypes).
"""
import math

from ..backend import contiguous as _contig
from ..backend import get_array_module, np, zeros
from . import derivatives as R
from ._core import scalar_arr
from .movement import _fast_broadcast

_ndarray = np.ndarray
_empty = np.empty
_prod = math.prod


def _saved(node):
    s = node._saved
    if s:  # the common case inline: no version changed since the forward
        vers = node._vers
        if len(s) == 1:
            t = s[0]
            vc = t._vc
            if vc is None or vc[0] == vers[0]:
                return (t._data,)
        elif len(s) == 2:
            t, u = s
            vc, vu = t._vc, u._vc
            if (vc is None or vc[0] == vers[0]) and (vu is None or vu[0] == vers[1]):
                return t._data, u._data
    return [t._data for t in node.saved()]  # raises PyTorch's freed / modified errors


def _result(node):
    """The saved output's array, after the freed / version checks `Node.result` does."""
    vc = node._out_vc
    if node._saved is None or (vc is not None and vc[0] != node._out_ver):
        node.result()  # raises PyTorch's freed-graph or in-place-modification error
    return node.result_data


def _needs(node, i):
    return node.next_functions[i][0] is not None


def _conj(a):
    return a.conj() if a.dtype.kind == "c" else a


def _broadcast(g, shape):
    if g.shape == shape:
        return g
    if g.ndim == 0 and type(g) is _ndarray and _prod(shape) <= 65536:
        r = _empty(shape, g.dtype)  # a small filled array is cheaper than building a view
        r.fill(g)                   # (~2 us: np.full is Python, a strided view ~5 us)
        return r
    if type(g) is _ndarray and g.flags.c_contiguous:
        return _fast_broadcast(g, shape)
    return np.broadcast_to(g, shape)


def _unsqueeze(g, dims, keepdim):
    if keepdim:
        return g
    for d in dims:
        g = np.expand_dims(g, d)
    return g


def add(self, g):
    return g, (g if self.alpha == 1 else g * self.alpha)


def add_scalar(self, g):
    return g, None


def sub(self, g):
    return g, (-g if self.alpha == 1 else g * -self.alpha)


def rsub1(self, g):
    return -g if self.alpha == 1 else g * -self.alpha


def mul(self, g):
    a, b = _saved(self)
    return (g * _conj(b) if _needs(self, 0) else None,
            g * _conj(a) if _needs(self, 1) else None)


def mul_scalar(self, g):
    if self._saved is None:
        self._check()
    o = self.other_arr
    if o is None:
        o = self.other
        o = o.conjugate() if type(o) is complex else o
    return g * o, None


def div(self, g):
    a, b = _saved(self)
    if a.dtype.kind == "c" or b.dtype.kind == "c":
        a, b = a.conj(), b.conj()
    ga = g / b if _needs(self, 0) else None
    gb = -g * a / (b * b) if _needs(self, 1) else None
    return ga, gb


def div_scalar(self, g):
    if self._saved is None:
        self._check()
    o = self.other_arr
    if o is None:
        o = self.other
        o = o.conjugate() if type(o) is complex else o
    return g / o, None


def neg(self, g):
    return -g


def pow0(self, g):
    (x0,) = _saved(self)
    x = x0.conj() if x0.dtype.kind == "c" else x0
    p = self.exponent
    if p == 0:
        return g * 0
    if p == 1:
        return g
    if p == 2:
        return g * (x + x)  # 2x exactly, without NumPy's per-call conversion of a Python 2
    if p == 3:
        return g * (x * x * (scalar_arr(3, x.dtype) if type(x) is np.ndarray else 3))
    return g * _conj(x0 ** (p - 1) * p)


def exp(self, g):
    r = _result(self)
    return g * (r.conj() if r.dtype.kind == "c" else r)


def log(self, g):
    (x,) = _saved(self)
    return g / (x.conj() if x.dtype.kind == "c" else x)


def sqrt(self, g):
    r = _result(self)
    return g / ((r.conj() if r.dtype.kind == "c" else r) * 2)


def tanh(self, g):
    r = _result(self)
    if r.dtype.kind == "c":
        r = r.conj()
    return g * (1 - r * r)


def sigmoid(self, g):
    r = _result(self)
    if r.dtype.kind == "c":
        r = r.conj()
    return g * (r * (1 - r))


def relu(self, g):
    r = _result(self)
    if g.size >= 1 << 18 and type(g) is np.ndarray and g.shape == r.shape:
        from . import _threads as T  # big maps: cache-blocked, threaded
        if T.enabled and g.flags.c_contiguous and r.flags.c_contiguous:
            return T.relu_grad(g, r)
    return g * (r > 0)


def sum0(self, g):
    return _broadcast(g, self.shape)


def sum1(self, g):
    return _broadcast(_unsqueeze(g, self.dims, self.keepdim), self.shape)


def mean0(self, g):
    return _broadcast(g / self.count, self.shape)


def mean1(self, g):
    return _broadcast(_unsqueeze(g, self.dims, self.keepdim) / self.count, self.shape)


def view(self, g):
    return g.reshape(self.shape)


def permute(self, g):
    inv = [0] * len(self.dims)
    for i, d in enumerate(self.dims):
        inv[d] = i
    return g.transpose(inv)


def transpose(self, g):
    return np.swapaxes(g, self.dim0, self.dim1)


def t(self, g):
    return g.T


def expand(self, g):
    from ..autograd.engine import _sum_to_arr
    return _sum_to_arr(g, self.shape)


def identity(self, g):
    return g


def to_copy(self, g):
    dt = self.src_dtype.np
    if g.dtype.kind == "c" and np.dtype(dt).kind != "c":
        g = g.real  # PyTorch's _to_copy_backward keeps the real part, silently
    return g.astype(dt)


def _right_grad(a, g, b):
    """a.T @ g, laid out like b: when b is a transposed view (nn.Linear's weight.t()), compute
    (g.T @ a).T so the gradient that reaches the weight through TBackward is C-ordered."""
    if b.flags.f_contiguous and not b.flags.c_contiguous:
        return (g.T @ a).T
    return a.T @ g


def mm(self, g):
    a, b = _saved(self)
    if a.dtype.kind == "c" or b.dtype.kind == "c":
        a, b = a.conj(), b.conj()
    return (g @ b.T if _needs(self, 0) else None,
            _right_grad(a, g, b) if _needs(self, 1) else None)


def addmm(self, g):
    x, w = _saved(self)
    if x.dtype.kind == "c" or w.dtype.kind == "c":
        x, w = x.conj(), w.conj()
    return (g if _needs(self, 0) else None,
            g @ w.T if _needs(self, 1) else None,
            _right_grad(x, g, w) if _needs(self, 2) else None)


def softmax(self, g):
    y = _result(self)
    return y * (g - (g * y).sum(self.dim, keepdims=True))


def log_softmax(self, g):
    y = _result(self)
    p = self.probs
    return g - (np.exp(y) if p is None else p) * g.sum(self.dim, keepdims=True)


def nll_loss(self, g):
    (x,) = _saved(self)
    shape = x.shape
    if len(shape) == 2:
        M, C = shape
    else:
        C = shape[0 if len(shape) == 1 else 1]
        M = self.tsafe.shape[0]
    out = zeros(x, (M, C))
    out[get_array_module(x).arange(M), self.tsafe] = -(g.reshape(-1) * self.coef).astype(
        x.dtype, copy=False)
    if len(shape) == 1:
        return out.reshape(C)
    if len(shape) == 4:
        N, _, H, W = shape
        return _contig(out.reshape(N, H, W, C).transpose(0, 3, 1, 2))
    return out


def _sum_prod(a, b, axes):
    """(a * b).sum(axes) without the product temporary (einsum streams both operands)."""
    s = "abcdefghijklmnopqrstuvwxyz"[:a.ndim]
    keep = "".join(c for i, c in enumerate(s) if i not in axes)
    return np.einsum(f"{s},{s}->{keep}", a, b)


def native_norm(self, g):
    """NativeBatchNormBackward0 / NativeLayerNormBackward0 with the forward's saved stats."""
    sv = _saved(self)
    x = sv[0]
    w = sv[1] if self.has_w else None
    mean, invstd = self.mean_arr, self.invstd_arr
    axes, waxes = tuple(self.axes), tuple(self.waxes)
    if axes == waxes and axes[0] == 0 and len(axes) == x.ndim - 1:
        from . import _threads as T  # batch norm: fused, cache-blocked, threaded
        if (T.enabled and (T.ok_train(x) if self.training else T.ok(x))
                and type(g) is np.ndarray and g.flags.c_contiguous
                and g.shape == x.shape and g.dtype == x.dtype):
            return T.bn_bwd(x, g, mean.reshape(-1), invstd.reshape(-1), w, _needs(self, 0),
                            _needs(self, 1), _needs(self, 2), self.training)
    xhat = x - mean
    xhat *= invstd
    gx = gw = gb = None
    if _needs(self, 1):
        gw = _sum_prod(g, xhat, waxes).reshape(w.shape)
    if _needs(self, 2):
        gb = g.sum(waxes)
        if w is not None:
            gb = gb.reshape(w.shape)
    if _needs(self, 0):
        wb = w.reshape(self.wshape) if w is not None else None
        if not self.training:
            gx = g * (wb * invstd) if wb is not None else g * invstd
        elif axes == waxes:
            # batch norm: weight and stats are constant along the reduced axes, so
            # mean(g*w) = w*sum(g)/n and mean(g*w*xhat) = w*sum(g*xhat)/n
            n = x.size // mean.size
            sg = g.sum(axes, keepdims=True)
            sgx = (gw if gw is not None else _sum_prod(g, xhat, axes)).reshape(mean.shape)
            xhat *= sgx / n
            gx = g - sg / n
            gx -= xhat
            gx *= (wb * invstd) if wb is not None else invstd
        else:
            gh = g * wb if wb is not None else g
            m1 = gh.mean(axes, keepdims=True)
            m2 = _sum_prod(gh, xhat, axes)
            m2 = m2.reshape(m1.shape) / (x.size // m1.size)
            xhat *= m2
            gx = gh - m1
            gx -= xhat
            gx *= invstd
    return gx, gw, gb


def index(self, g):
    from .indexing import index_put_arrays
    return index_put_arrays(self.shape, self.key, g)


TWINS = {
    "AddBackward0": (R.AddBackward0, add),
    "AddScalarBackward": (R.AddScalarBackward, add_scalar),
    "SubBackward0": (R.SubBackward0, sub),
    "SubScalarBackward": (R.SubScalarBackward, add_scalar),
    "RsubBackward1": (R.RsubBackward1, rsub1),
    "MulBackward0": (R.MulBackward0, mul),
    "MulScalarBackward": (R.MulScalarBackward, mul_scalar),
    "DivBackward0": (R.DivBackward0, div),
    "DivScalarBackward": (R.DivScalarBackward, div_scalar),
    "NegBackward0": (R.NegBackward0, neg),
    "PowBackward0": (R.PowBackward0, pow0),
    "ExpBackward0": (R.ExpBackward0, exp),
    "LogBackward0": (R.LogBackward0, log),
    "SqrtBackward0": (R.SqrtBackward0, sqrt),
    "TanhBackward0": (R.TanhBackward0, tanh),
    "SigmoidBackward0": (R.SigmoidBackward0, sigmoid),
    "ReluBackward0": (R.ReluBackward0, relu),
    "SumBackward0": (R.SumBackward0, sum0),
    "SumBackward1": (R.SumBackward1, sum1),
    "MeanBackward0": (R.MeanBackward0, mean0),
    "MeanBackward1": (R.MeanBackward1, mean1),
    "ViewBackward0": (R.ViewBackward0, view),
    "PermuteBackward0": (R.PermuteBackward0, permute),
    "TransposeBackward0": (R.TransposeBackward0, transpose),
    "TBackward0": (R.TBackward0, t),
    "ExpandBackward0": (R.ExpandBackward0, expand),
    "CloneBackward0": (R.CloneBackward0, identity),
    "ToCopyBackward0": (R.ToCopyBackward0, to_copy),
    "MmBackward0": (R.MmBackward0, mm),
    "AddmmBackward0": (R.AddmmBackward0, addmm),
    "SoftmaxBackward0": (R.SoftmaxBackward0, softmax),
    "LogSoftmaxBackward0": (R.LogSoftmaxBackward0, log_softmax),
    "IndexBackward0": (R.IndexBackward0, index),
    "NllLossBackward0": (R.NllLossBackward0, nll_loss),
    "NllLoss2DBackward0": (R.NllLoss2DBackward0, nll_loss),
    "NativeBatchNormBackward0": (R.NativeBatchNormBackward0, native_norm),
}


def install():
    for cls, fn in TWINS.values():
        # only single-output rules (the engine's fast path hands a twin one gradient array);
        # a subclass overriding `backward` drops the twin (Node.__init_subclass__)
        if cls._n_out == 1:
            cls._np = staticmethod(fn)
            cls._np_rule = cls.backward


_ = math
install()
