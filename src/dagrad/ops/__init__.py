"""Forward ops by family, bound here as Tensor methods and operators."""
from ..backend import writeable as _bk_writeable
import builtins as _builtins  # `any`/`all` below are shadowed by the reductions

from .. import _dtype as D
from ..backend import np
from ..tensor import Tensor
from . import convert, derivatives_np, elementwise, indexing, linalg, movement, reduce
from ._core import _make, check_inplace, grad_state
from .convert import cast, type_as
from .elementwise import *  # noqa: F401,F403
from .elementwise import _out, _shadow
from .indexing import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .movement import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403

E, I, L, M, Rd = elementwise, indexing, linalg, movement, reduce


# ---------------------------------------------------------------- in-place machinery
def _is_view_of_grad_base(x):
    base = getattr(x, "_base", None)
    return base is not None and base._rg


def _view_positions(b, v):
    """Flat positions in base array b of each element of its view v (None if not derivable)."""
    if not b.flags.c_contiguous or type(b) is not np.ndarray or type(v) is not np.ndarray:
        return None
    it = b.itemsize
    off = v.__array_interface__["data"][0] - b.__array_interface__["data"][0]
    if v.dtype != b.dtype or off % it or _builtins.any(st % it for st in v.strides):
        return None
    ar = np.arange(b.size, dtype=np.int64)
    if v.size == 0:
        return np.zeros(v.shape, dtype=np.int64)
    pos = np.array(np.lib.stride_tricks.as_strided(
        ar[off // it:], v.shape, [st // it * ar.itemsize for st in v.strides]))
    if pos.min() < 0 or pos.max() >= b.size:
        return None
    return pos


class _CopySlicesView(elementwise.R.Node):
    """An in-place op on a view, seen from the base: the view's region is replaced by `r`."""

    def name(self):
        return "torch::autograd::CopySlices"

    def backward(self, g):
        gb = gr = None
        if self.needs(0):
            m = np.ones(self.size, dtype=g._data.dtype)
            m[self.pos.reshape(-1)] = 0
            gb = g * _make(m.reshape(self.shape))
        if self.needs(1):
            gr = g.reshape(-1)[_make(self.pos)]
        return gb, gr


_CopySlicesView.__name__ = "CopySlices"


class _AsStridedBackward(elementwise.R.Node):
    """The view re-read from its (modified) base: scatter the gradient back to its positions."""

    def backward(self, g):
        from .indexing import index_put_zeros
        return index_put_zeros((self.size,), (self.pos.reshape(-1),),
                               g.reshape(-1)).reshape(self.shape)


_AsStridedBackward.__name__ = "AsStridedBackward0"


def _inplace_on_view(x, pos, fn, name):
    """PyTorch's rebase for an in-place op on a view: the base gets a CopySlices node taking the
    op's result for the view's region, the view becomes a strided read of the new base."""
    from ._core import link
    base = x._base
    src = _shadow(x)
    src._data = x._data.copy()
    r = fn(src)
    old_base = _shadow(base)
    _write_into(x, r, name)
    b = base._data
    n = _CopySlicesView()
    n.pos, n.shape, n.size = pos, b.shape, b.size
    rd = r._data
    n._meta = (None, None if rd.shape == pos.shape and rd.dtype == b.dtype else
               (rd.shape, rd.dtype))
    link(n, base, old_base, r if r._rg else None)
    base._nr = 0
    m = _AsStridedBackward()
    m.pos, m.shape, m.size = pos, b.shape, b.size
    link(m, x, base)
    x._nr = 0
    _refresh_views(base, x)
    return x


_SHAPE_INPLACE = ("t", "transpose", "squeeze", "unsqueeze")


def _rebase_view(x, pos):
    """After an in-place op recorded its node on view x, move that history onto x's base."""
    from ._core import link
    base = x._base
    r = _make(x._data)
    r._rg, r.grad_fn, r._nr = True, x.grad_fn, x._nr
    if x.grad_fn is None:  # nothing recorded: the region came from no graph (e.g. fill_)
        r._rg = False
    old_base = _shadow(base)
    b = base._data
    n = _CopySlicesView()
    n.pos, n.shape, n.size = pos, b.shape, b.size
    link(n, base, old_base, r if r._rg else None)
    base._nr = 0
    m = _AsStridedBackward()
    m.pos, m.shape, m.size = pos, b.shape, b.size
    link(m, x, base)
    x._nr = 0
    _refresh_views(base, x)


def _refresh_views(base, skip=None):
    """Views of `base` made before an in-place change re-read it (PyTorch regenerates their
    grad_fn from the version counter): each becomes a strided read of the new base."""
    vs = getattr(base, "_views", None)
    if not vs or base.grad_fn is None:
        return
    from ._core import link
    b = base._data
    alive = []
    for ref in vs:
        s = ref()
        if s is None or s._base is not base:
            continue
        alive.append(ref)
        if s is skip:
            continue
        pos = _view_positions(b, s._data)
        if pos is None:
            continue
        m = _AsStridedBackward()
        m.pos, m.shape, m.size = pos, b.shape, b.size
        link(m, s, base)
        s._nr = 0
    base._views = alive


def _view_rebasing(fn, what):
    """Wrap an in-place method that records history on x alone so views update their base."""
    def method(x, *args, **kwargs):
        base = getattr(x, "_base", None)
        if base is None or not grad_state.enabled:
            out = fn(x, *args, **kwargs)
            if getattr(x, "_views", None) and grad_state.enabled:
                _refresh_views(x)
            return out
        pos = _view_positions(base._data, x._data)
        before = (x.grad_fn, x._rg)
        out = fn(x, *args, **kwargs)
        recorded = (x.grad_fn, x._rg) != before or (x._rg and base._rg)
        if recorded and x._rg:
            if pos is None:
                raise RuntimeError(
                    f"dagrad does not support {what} on this view of a tensor that requires "
                    f"grad yet; apply it to the base tensor instead")
            _rebase_view(x, pos)
        return out
    method.__name__ = getattr(fn, "__name__", what)
    return method


def inplace(op, name):
    """Make `x.<name>_(...)`: PyTorch's in-place variant of an out-of-place op.

    With autograd recording, the op is applied to a copy of x that holds x's old graph
    position, then x's data and history are replaced (the rebase PyTorch performs).
    """
    def method(x, *args, **kwargs):
        check_inplace(x)
        rec = grad_state.enabled and (x._rg or _builtins.any(
            isinstance(a, Tensor) and a._rg for a in args) or _builtins.any(
            isinstance(a, Tensor) and a._rg for a in kwargs.values()))
        if rec:
            if getattr(x, "_base", None) is not None and name not in _SHAPE_INPLACE:
                pos = _view_positions(x._base._data, x._data)
                if pos is None:
                    raise RuntimeError(
                        f"dagrad does not support in-place {name}_() on this view of a tensor "
                        f"that requires grad yet; apply it out of place (y = x.{name}(...)) "
                        f"instead")
                return _inplace_on_view(x, pos, lambda s: op(s, *args, **kwargs), name)
            src = _shadow(x)
            src._data = x._data.copy()
            r = op(src, *args, **kwargs)
        else:
            r = op(x, *args, **kwargs)
        _write_into(x, r, name)
        if rec:
            x.grad_fn = r.grad_fn
            x._rg = r._rg
            x._nr = 0
            if getattr(x, "_views", None):
                _refresh_views(x)
        return x
    method.__name__ = name + "_"
    return method


def _shape_inplace(op, name):
    """t_/transpose_/squeeze_/unsqueeze_: x becomes the view op(x) (new shape, same storage)."""
    def method(x, *args, **kwargs):
        check_inplace(x)
        r = op(x, *args, **kwargs)
        x._data = r._data
        x._bump()
        if r.grad_fn is not None:
            cls = type(r.grad_fn)
            named = _INPLACE_VIEW_NODE.get(cls)
            if named is None and cls.__name__ in _INPLACE_VIEW_NAMES:  # PyTorch's in-place name
                named = _INPLACE_VIEW_NODE[cls] = type(_INPLACE_VIEW_NAMES[cls.__name__],
                                                       (cls,), {})
            if named is not None:
                r.grad_fn.__class__ = named
            x.grad_fn, x._nr, x._rg = r.grad_fn, r._nr, r._rg
        return x
    method.__name__ = name + "_"
    return method


_INPLACE_VIEW_NAMES = {"TBackward0": "TBackward1", "TransposeBackward0": "TransposeBackward1",
                       "SqueezeBackward0": "SqueezeBackward3", "SqueezeBackward1": "SqueezeBackward4",
                       "SqueezeBackward2": "SqueezeBackward5",
                       "UnsqueezeBackward0": "UnsqueezeBackward1"}
_INPLACE_VIEW_NODE = {}


def _write_into(x, r, name):
    a, rd = x._data, r._data
    if rd.dtype != a.dtype and not D.can_cast_np(rd.dtype, a.dtype):
        raise RuntimeError(
            f"result type {E._pt_name(rd.dtype)} can't be cast to the desired "
            f"output type {E._pt_name(a.dtype)}")
    if rd.shape != a.shape:
        raise RuntimeError(
            f"output with shape {list(a.shape)} doesn't match the broadcast shape "
            f"{list(np.broadcast_shapes(a.shape, rd.shape))}")
    if not _bk_writeable(a):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation.")
    if rd is not a:
        a[...] = rd
    x._bump()


def _fast_binary_inplace(ufunc, op, name):
    """add_/sub_/mul_/div_: one NumPy call with out= when nothing is recorded (optimizer steps)."""
    slow = inplace(op, name)

    def method(x, other, *args, **kwargs):
        if (not grad_state.enabled or not x._rg) and not args and not kwargs and (
                not isinstance(other, Tensor) or not (grad_state.enabled and other._rg)):
            a = x._data
            b = other._data if isinstance(other, Tensor) else other
            if _bk_writeable(a) and a.dtype.kind == "f" and (  # bf16: op's own path
                    not isinstance(other, Tensor) or (b.dtype == a.dtype and
                                                      b.shape == np.broadcast_shapes(a.shape,
                                                                                     b.shape)
                                                      or b.ndim <= a.ndim)):
                try:
                    ufunc(a, b, out=a)
                except (ValueError, TypeError):
                    return slow(x, other)
                x._bump()
                return x
        elif name == "add" and type(other) is Tensor and not args and not kwargs:
            from . import _threads  # big recorded `out += identity`: one pass, threaded
            if _threads.enabled and _threads.add_recorded(x, other) is not None:
                return x
        return slow(x, other, *args, **kwargs)
    method.__name__ = name + "_"
    return method


def zero_(x):
    check_inplace(x)
    x._data[...] = 0
    x._bump()
    if x.grad_fn is not None and grad_state.enabled:
        _rebase_const(x)
    return x


def fill_(x, value):
    check_inplace(x)
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value._data.ndim} dimensions.")
        value = value.item()
    x._data[...] = value
    x._bump()
    if x.grad_fn is not None and grad_state.enabled:
        _rebase_const(x)
    return x


class _FillBackward(elementwise.R.Node):
    def backward(self, g):
        return g * 0


_FillBackward.__name__ = "FillBackward0"


def _rebase_const(x):
    from ._core import link
    link(_FillBackward(), x, _shadow(x))


def copy_(x, src, non_blocking=False):
    check_inplace(x)
    if not isinstance(src, Tensor):
        src = _make(np.asarray(src))
    rec = grad_state.enabled and (x._rg or src._rg)
    s = src._data
    try:
        b = np.broadcast_to(s, x._data.shape)
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({x._data.shape[-1] if x._data.ndim else 1}) must match the "
            f"size of tensor b ({s.shape[-1] if s.ndim else 1}) at non-singleton dimension "
            f"{max(x._data.ndim - 1, 0)}") from None
    if type(b) is not type(x._data):
        b = np.asarray(b.get()) if hasattr(b, "get") else b
    if not _bk_writeable(x._data):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation.")
    old = _shadow(x) if rec else None
    x._data[...] = b
    x._bump()
    if rec:
        n = _CopyBackward()
        n.src_dtype = src.dtype
        n._meta = (None, None if s.shape == x._data.shape else (s.shape, s.dtype))
        from ._core import link
        link(n, x, old, src)
        x._nr = 0
    return x


class _CopyBackward(elementwise.R.Node):
    def backward(self, g):
        return (g * 0 if self.needs(0) else None), (g.to(self.src_dtype) if self.needs(1)
                                                    else None)


_CopyBackward.__name__ = "CopyBackwards"
_CopyBackward.name = lambda self: "torch::autograd::CopyBackwards"  # as torch's Node.name()


def _random_inplace(sampler):
    def method(x, *args, generator=None, **kwargs):
        check_inplace(x)
        from .. import creation as C
        rng = C._rng(generator)
        if x._data.dtype.kind == "c" and sampler in _COMPLEX_SAMPLERS:  # PyTorch fills the
            arr = _COMPLEX_SAMPLERS[sampler](rng, x._data.shape + (2,), *args, **kwargs)  # real
            arr = arr[..., 0] + 1j * arr[..., 1]                                          # view
        else:
            arr = sampler(rng, x._data.shape, *args, **kwargs)
        arr = arr.astype(x._data.dtype, copy=False)
        if type(x._data) is not type(arr):  # a CUDA tensor: the host generator's draw moves over
            from ..backend import get_array_module, to_device
            arr = to_device(arr, get_array_module(x._data))
        x._data[...] = arr
        x._bump()
        return x
    return method


def _uniform(rng, shape, a=0.0, b=1.0, **_):
    return rng.random(shape) * (b - a) + a


def _normal(rng, shape, mean=0.0, std=1.0, **_):
    return rng.standard_normal(shape) * std + mean


def _normal_complex_parts(rng, shape, mean=0.0, std=1.0, **_):
    """Real and imaginary parts of a complex normal_: each N(mean, std**2 / 2), as PyTorch."""
    return rng.standard_normal(shape) * (std * 0.5 ** 0.5) + mean


_COMPLEX_SAMPLERS = {_uniform: _uniform, _normal: _normal_complex_parts}


def _random(rng, shape, start=0, end=None, **_):
    if end is None:
        start, end = 0, start if start else 2 ** 24
    return rng.integers(start, end, shape)


def _bernoulli(rng, shape, p=0.5, **_):
    if isinstance(p, Tensor):
        p = p._data
    return (rng.random(shape) < p)


def _exponential(rng, shape, lambd=1.0, **_):
    return rng.exponential(1.0 / lambd, shape)


def _geometric(rng, shape, p, **_):
    return rng.geometric(p, shape)


def _log_normal(rng, shape, mean=1.0, std=2.0, **_):
    return rng.lognormal(mean, std, shape)


def _cauchy(rng, shape, median=0.0, sigma=1.0, **_):
    return median + sigma * rng.standard_cauchy(shape)


def new_tensor(x, data, dtype=None, device=None, requires_grad=False):
    from ..creation import tensor
    return tensor(data, dtype=dtype or x.dtype, device=device or x.device,
                  requires_grad=requires_grad)


def _new_filled(fill):
    def method(x, *size, dtype=None, device=None, requires_grad=False, **_):
        from ..creation import _filled
        return _filled(fill, size, dtype or x.dtype, device or x.device, requires_grad)
    return method


def new_full(x, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    from ..creation import _filled
    return _filled(fill_value, (tuple(size) if not isinstance(size, int) else (size,),),
                   dtype or x.dtype, device or x.device, requires_grad)


def _dunder_getitem(x, key):
    return indexing.getitem(x, key)


def _dunder_setitem(x, key, value):
    indexing.setitem(x, key, value)


def _size_method(x, dim=None):
    return Tensor.size(x, dim)


def _bind():
    T = Tensor
    ops = {
        # arithmetic
        "add": E.add, "sub": E.sub, "subtract": E.sub, "mul": E.mul, "multiply": E.mul,
        "div": E.div, "divide": E.div, "true_divide": E.true_divide,
        "floor_divide": E.floor_divide, "remainder": E.remainder, "fmod": E.fmod,
        "pow": E.pow, "float_power": lambda x, e: E.pow(x.double(), e),
        "square": E.square, "neg": E.neg, "negative": E.neg, "abs": E.abs,
        "absolute": E.abs, "sign": E.sign, "sgn": E.sgn, "reciprocal": E.reciprocal,
        "exp": E.exp, "exp2": E.exp2, "expm1": E.expm1, "log": E.log, "log2": E.log2,
        "log10": E.log10, "log1p": E.log1p, "sqrt": E.sqrt, "rsqrt": E.rsqrt, "sin": E.sin,
        "cos": E.cos, "tan": E.tan, "asin": E.asin, "acos": E.acos, "atan": E.atan,
        "arcsin": E.asin, "arccos": E.acos, "arctan": E.atan, "sinh": E.sinh, "cosh": E.cosh,
        "tanh": E.tanh, "asinh": E.asinh, "acosh": E.acosh, "atanh": E.atanh,
        "arcsinh": E.asinh, "arccosh": E.acosh, "arctanh": E.atanh, "atan2": E.atan2,
        "arctan2": E.atan2, "sigmoid": E.sigmoid, "logit": E.logit, "erf": E.erf,
        "erfc": E.erfc, "erfinv": E.erfinv, "relu": E.relu, "floor": E.floor, "ceil": E.ceil,
        "round": E.round, "trunc": E.trunc, "fix": E.trunc, "frac": E.frac,
        "clamp": E.clamp, "clip": E.clamp, "clamp_min": E.clamp_min, "clamp_max": E.clamp_max,
        "maximum": E.maximum, "minimum": E.minimum, "fmax": E.fmax, "fmin": E.fmin,
        "where": lambda x, cond, other: E.where(cond, x, other), "lerp": E.lerp,
        "conj": E.conj, "nn_softplus": E._nn_softplus,
        # comparison / logic
        "eq": E.eq, "ne": E.ne, "lt": E.lt, "le": E.le, "gt": E.gt, "ge": E.ge,
        "greater": E.gt, "greater_equal": E.ge, "less": E.lt, "less_equal": E.le,
        "not_equal": E.ne, "logical_and": E.logical_and, "logical_or": E.logical_or,
        "logical_xor": E.logical_xor, "logical_not": E.logical_not,
        "bitwise_and": E.bitwise_and, "bitwise_or": E.bitwise_or,
        "bitwise_xor": E.bitwise_xor, "bitwise_not": E.bitwise_not,
        "bitwise_left_shift": E.bitwise_left_shift, "bitwise_right_shift":
            E.bitwise_right_shift, "isnan": E.isnan, "isinf": E.isinf, "isfinite": E.isfinite,
        "isposinf": E.isposinf, "isneginf": E.isneginf, "signbit": E.signbit,
        # reductions
        "sum": Rd.sum, "sum_to_size": Rd.sum_to_size, "mean": Rd.mean, "prod": Rd.prod,
        "max": Rd.max, "min": Rd.min, "amax": Rd.amax, "amin": Rd.amin, "argmax": Rd.argmax,
        "argmin": Rd.argmin, "var": Rd.var, "std": Rd.std, "logsumexp": Rd.logsumexp,
        "norm": Rd.norm, "cumsum": Rd.cumsum, "cumprod": Rd.cumprod, "all": Rd.all,
        "any": Rd.any, "softmax": Rd.softmax, "log_softmax": Rd.log_softmax,
        "count_nonzero": Rd.count_nonzero, "cummax": Rd.cummax, "cummin": Rd.cummin,
        # shape
        "view": M.view, "view_as": M.view_as, "reshape": M.reshape, "reshape_as": M.reshape_as,
        "flatten": M.flatten, "ravel": M.ravel, "unflatten": M.unflatten, "squeeze": M.squeeze,
        "unsqueeze": M.unsqueeze, "permute": M.permute, "transpose": M.transpose,
        "swapaxes": M.transpose, "swapdims": M.transpose, "t": M.t, "movedim": M.movedim,
        "moveaxis": M.movedim, "expand": M.expand, "expand_as": M.expand_as,
        "broadcast_to": M.broadcast_to, "contiguous": M.contiguous, "clone": M.clone,
        "flip": M.flip, "fliplr": M.fliplr, "flipud": M.flipud, "roll": M.roll,
        "repeat": M.repeat, "tile": M.tile, "repeat_interleave": M.repeat_interleave,
        "split": M.split, "tensor_split": M.tensor_split, "chunk": M.chunk, "unbind": M.unbind,
        "narrow": M.narrow, "select": M.select, "diagonal": L.diagonal,
        # indexing
        "gather": I.gather, "scatter": I.scatter, "scatter_add": I.scatter_add,
        "scatter_reduce": I.scatter_reduce, "index_select": I.index_select,
        "index_add": I.index_add, "index_copy": I.index_copy, "index_fill": I.index_fill,
        "masked_fill": I.masked_fill, "masked_select": I.masked_select,
        "masked_scatter": I.masked_scatter, "take": I.take, "take_along_dim": I.take_along_dim,
        "nonzero": I.nonzero, "argwhere": I.argwhere, "sort": I.sort, "argsort": I.argsort,
        "msort": I.msort, "topk": I.topk, "kthvalue": I.kthvalue,
        "index_put": I.index_put, "index_put_": I.index_put_,
        # linear algebra
        "matmul": L.matmul, "mm": L.mm, "bmm": L.bmm, "mv": L.mv, "dot": L.dot,
        "vdot": L.vdot, "inner": L.inner, "outer": L.outer, "ger": L.outer,
        "addmm": L.addmm, "addmv": L.addmv, "baddbmm": L.baddbmm, "addbmm": L.addbmm,
        "kron": L.kron, "trace": L.trace, "tril": L.tril, "triu": L.triu, "diag": L.diag,
        "diag_embed": L.diag_embed,
        # conversion
        "type_as": type_as,
        # creation from a tensor
        "new_tensor": new_tensor, "new_zeros": _new_filled(0), "new_ones": _new_filled(1),
        "new_empty": _new_filled(None), "new_full": new_full,
        "zero_": zero_, "fill_": fill_, "copy_": copy_,
        "uniform_": _random_inplace(_uniform), "normal_": _random_inplace(_normal),
        "random_": _random_inplace(_random), "bernoulli_": _random_inplace(_bernoulli),
        "exponential_": _random_inplace(_exponential),
        "geometric_": _random_inplace(_geometric), "log_normal_": _random_inplace(_log_normal),
        "cauchy_": _random_inplace(_cauchy),
    }
    for name, fn in ops.items():
        setattr(T, name, fn)
    # in-place variants of out-of-place ops
    fast = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide}
    for name in ("add", "sub", "mul", "div"):
        setattr(T, name + "_", _fast_binary_inplace(fast[name], ops[name], name))
    for name in ("pow", "neg", "abs", "sign", "reciprocal", "exp", "expm1", "log", "log2",
                 "log10", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan", "asin", "acos", "atan",
                 "sinh", "cosh", "tanh", "sigmoid", "erf", "floor", "ceil", "round", "trunc",
                 "frac", "clamp", "clip", "clamp_min", "clamp_max", "lerp", "masked_fill",
                 "scatter", "scatter_add", "index_add", "index_fill", "index_copy",
                 "remainder", "fmod", "floor_divide", "atan2", "logit", "square", "exp2",
                 "fix", "true_divide", "multiply", "subtract", "divide", "masked_scatter",
                 "scatter_reduce", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
                 "logical_not", "logical_and", "logical_or", "eq", "ne", "lt", "le", "gt", "ge",
                 "arcsin", "arccos", "arctan", "asinh", "acosh", "atanh", "cumsum",
                 "t", "transpose", "squeeze", "unsqueeze", "erfinv", "sgn"):
        if not hasattr(T, name + "_"):
            setattr(T, name + "_", (_shape_inplace if name in _SHAPE_INPLACE else inplace)(
                ops[name], name))
    T.relu_ = _view_rebasing(E.relu_, "relu_()")
    T.__getitem__ = _dunder_getitem
    T.__setitem__ = _view_rebasing(_dunder_setitem, "item assignment")
    for name in ("zero_", "fill_", "copy_"):
        setattr(T, name, _view_rebasing(getattr(T, name), name + "()"))
    # operators
    T.__add__ = E.add
    T.__radd__ = E.add  # commutative: self + other

    T.__iadd__ = T.add_
    T.__sub__ = E.sub
    T.__rsub__ = lambda x, o: E.rsub(x, o)
    T.__isub__ = T.sub_
    T.__mul__ = E.mul
    T.__rmul__ = E.mul
    T.__imul__ = T.mul_
    T.__truediv__ = E.true_divide_op = lambda x, o: E.div(x, o)
    T.__rtruediv__ = E.rdiv
    T.__itruediv__ = T.div_
    T.__floordiv__ = E.floor_divide
    T.__rfloordiv__ = lambda x, o: E.floor_divide(_scalar_tensor_like(o, x), x)
    T.__ifloordiv__ = T.floor_divide_
    T.__mod__ = E.remainder
    T.__rmod__ = lambda x, o: E.remainder(_scalar_tensor_like(o, x), x)
    T.__imod__ = T.remainder_
    T.__pow__ = E.pow
    T.__rpow__ = lambda x, o: E._rpow(o, x)
    T.__ipow__ = T.pow_
    T.__matmul__ = L.matmul
    T.__rmatmul__ = lambda x, o: L.matmul(o, x)
    T.__neg__ = E.neg
    T.__pos__ = lambda x: x
    T.__abs__ = E.abs
    T.__invert__ = _invert
    T.__and__ = E.bitwise_and
    T.__rand__ = lambda x, o: E.bitwise_and(x, o)
    T.__iand__ = T.bitwise_and_
    T.__or__ = E.bitwise_or
    T.__ror__ = lambda x, o: E.bitwise_or(x, o)
    T.__ior__ = T.bitwise_or_
    T.__xor__ = E.bitwise_xor
    T.__rxor__ = lambda x, o: E.bitwise_xor(x, o)
    T.__ixor__ = T.bitwise_xor_
    T.__lshift__ = E.bitwise_left_shift
    T.__rshift__ = E.bitwise_right_shift
    T.__eq__ = _cmp(E.eq)
    T.__ne__ = _cmp(E.ne)
    T.__lt__ = E.lt
    T.__le__ = E.le
    T.__gt__ = E.gt
    T.__ge__ = E.ge
    T.__hash__ = Tensor.__dict__["__hash__"]  # identity: hash(t) == id(t), as torch
    T.T = property(M.T_prop)
    T.mT = property(M.mT_prop)
    T.H = property(lambda x: M.T_prop(x).conj())
    T.mH = property(lambda x: M.mT_prop(x).conj())
    from .extra import complex_imag, complex_real
    T.real = property(complex_real)
    T.imag = property(complex_imag)


def _invert(x):
    k = x._data.dtype.kind
    if k == "b":
        return E.logical_not(x)
    if k not in "iu":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return E.bitwise_not(x)


def _cmp(fn):
    def op(x, other):
        if other is None or not isinstance(other, (Tensor, int, float, bool, complex,
                                                   np.generic, np.ndarray, list, tuple)):
            return NotImplemented if fn is E.eq else NotImplemented
        return fn(x, other)
    return op


def _scalar_tensor_like(s, x):
    return E._scalar_like(s, x)


_bind()
_ = (cast, _out)
