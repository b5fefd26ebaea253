"""Forward-mode AD (torch.autograd.forward_ad): dual_level, make_dual, unpack_dual.

A dual tensor is an ordinary Tensor whose `_fw` slot holds `(level, tangent)`. Tangents are
propagated by a table of JVP rules keyed by op name. The ops themselves know nothing about it:
entering `dual_level()` swaps the public `dagrad.*`, `dagrad.nn.functional.*` functions and the
Tensor methods/operators for wrappers that call the op, then (when an argument carries a tangent)
apply the op's rule; leaving the level restores them. With no dual level active nothing is
wrapped, so forward AD costs nothing when unused.

Inside a rule (and inside the op a rule belongs to) wrappers pass straight through (a depth
guard), so rules are written in plain dagrad ops on primals and tangents. A function without a
rule is treated as a composite: its inner ops propagate tangents; if its floating-point output
still has none while an input had one, NotImplementedError is raised (as PyTorch does for ops
without a forward derivative) instead of silently returning a zero tangent.
"""
import functools
import math
from collections import namedtuple

__all__ = ["dual_level", "make_dual", "unpack_dual", "enter_dual_level", "exit_dual_level",
           "UnpackedDualTensor"]

_active_level = None      # the current dual level (an int) or None
_next = [0]
_guard = [0]              # > 0 while running an op with a rule or a rule itself

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])


def _T():
    from ..tensor import Tensor
    return Tensor


def enter_dual_level():
    global _active_level
    if _active_level is not None:
        raise RuntimeError(
            "Nested forward mode AD is not supported at the moment")
    _active_level = _next[0]
    _next[0] += 1
    _patch()
    return _active_level


def exit_dual_level(*, level=None):
    global _active_level
    if level is None:
        level = _active_level
    if level != _active_level:
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created. This "
            "is not supported.")
    _unpatch()
    _active_level = None


class dual_level:
    """Context manager for forward AD: dual tensors made inside have tangents until it exits."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *args):
        exit_dual_level()


def _tangent(x):
    fw = getattr(x, "_fw", None) if isinstance(x, _T()) else None
    if fw is None or fw[0] != _active_level:
        return None
    return fw[1]


def _alias(x):
    """A new tensor sharing x's data, version counter and autograd history, without tangent."""
    from ..tensor import _make
    t = _make(x._data)
    if x._vc is None:
        x._vc = [0]
    t._vc = x._vc
    t._rg = x._rg
    t.grad_fn = x.grad_fn
    t._nr = x._nr
    if x.grad_fn is None and x._rg:
        x._get_accumulator()
        t._accum = x._accum
    return t


def make_dual(tensor, tangent, *, level=None):
    """A view of `tensor` carrying `tangent` as its forward gradient at the current level."""
    if level is None:
        level = _active_level
    if level is None:
        raise RuntimeError(
            "make_dual: trying to create a dual Tensor for forward AD but no level exists, make "
            "sure to enter_dual_level() first.")
    T = _T()
    if not isinstance(tensor, T) or not isinstance(tangent, T):
        raise TypeError("make_dual(): expected tensor and tangent to be Tensors")
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(
            f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(
            f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if tuple(tensor.shape) != tuple(tangent.shape):
        raise RuntimeError(
            f"Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} "
            f"while the given forward gradient is of size {list(tangent.shape)}.")
    d = _alias(tensor)
    d._fw = (level, tangent)
    return d


def unpack_dual(tensor, *, level=None):
    """(primal, tangent): the primal as a view without tangent; tangent None if there is none."""
    T = _T()
    if not isinstance(tensor, T):
        return UnpackedDualTensor(tensor, None)
    t = _tangent(tensor)
    if t is None:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(_alias(tensor), t)


# ---------------------------------------------------------------- JVP rules
def _zeros_like(x):
    from ..creation import zeros_like
    return zeros_like(x)


def _t_or_zero(x):
    t = _tangent(x)
    if t is None:
        return _zeros_like(x)
    return t


def _is_float(x):
    return isinstance(x, _T()) and x._data.dtype.kind in "fc"


def _linear(raw):
    """Ops linear in their floating tensor arguments: tangent = op(tangents)."""
    def rule(args, kwargs, out):
        def sub(a):
            if _is_float(a):
                return _t_or_zero(a)
            if isinstance(a, (list, tuple)) and any(_is_float(b) for b in a):
                return type(a)(_t_or_zero(b) if _is_float(b) else b for b in a)
            return a
        return raw(*[sub(a) for a in args], **{k: sub(v) for k, v in kwargs.items()})
    return rule


def _unary(deriv):
    """Elementwise f(x): tangent = f'(x) * t (deriv(x, out) gives f')."""
    def rule(args, kwargs, out):
        x = args[0]
        t = _tangent(x)
        if t is None:
            return None
        return t * deriv(x, _first(out))
    return rule


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def _sumdims(g, like):
    """Sum a broadcast tangent back is never needed forward: broadcasting is forward-natural."""
    return g


def _binary(fn):
    def rule(args, kwargs, out):
        a = args[0]
        b = args[1] if len(args) > 1 else kwargs.get("other")
        ta = _tangent(a) if isinstance(a, _T()) else None
        tb = _tangent(b) if isinstance(b, _T()) else None
        if ta is None and tb is None:
            return None
        return fn(a, b, ta, tb, _first(out), args, kwargs)
    return rule


def _add_jvp(sign):
    def fn(a, b, ta, tb, out, args, kwargs):
        alpha = kwargs.get("alpha", 1)
        r = None
        if ta is not None:
            r = ta
        if tb is not None:
            tb2 = tb * (sign * alpha) if (sign * alpha) != 1 else tb
            r = tb2 if r is None else r + tb2
        return r + _zeros_like(out) if tuple(r.shape) != tuple(out.shape) else r
    return fn


def _mul_jvp(a, b, ta, tb, out, args, kwargs):
    r = None
    if ta is not None:
        r = ta * b
    if tb is not None:
        r2 = a * tb
        r = r2 if r is None else r + r2
    return r


def _div_jvp(a, b, ta, tb, out, args, kwargs):
    r = None
    if ta is not None:
        r = ta / b
    if tb is not None:
        r2 = -out * tb / b
        r = r2 if r is None else r + r2
    return r


def _pow_jvp(a, b, ta, tb, out, args, kwargs):
    from .. import ops
    r = None
    if ta is not None:
        if isinstance(b, _T()):
            r = ta * b * a ** (b - 1)
        elif b == 0:
            r = ta * 0
        else:
            r = ta * (b * a ** (b - 1))
    if tb is not None:
        la = ops.log(a) if isinstance(a, _T()) else math.log(a)
        r2 = tb * out * la
        r = r2 if r is None else r + r2
    return r


def _rpow_jvp(a, b, ta, tb, out, args, kwargs):  # out = b ** a
    from .. import ops
    return ta * out * (ops.log(b) if isinstance(b, _T()) else math.log(b))


def _rsub_jvp(a, b, ta, tb, out, args, kwargs):  # out = b - a
    r = None if ta is None else -ta
    if tb is not None:
        r = tb if r is None else r + tb
    return r


def _rdiv_jvp(a, b, ta, tb, out, args, kwargs):  # out = b / a
    r = None if ta is None else -out * ta / a
    if tb is not None:
        r2 = tb / a
        r = r2 if r is None else r + r2
    return r


def _matmul_jvp(a, b, ta, tb, out, args, kwargs):
    r = None
    if ta is not None:
        r = ta @ b
    if tb is not None:
        r2 = a @ tb
        r = r2 if r is None else r + r2
    return r


def _rmatmul_jvp(a, b, ta, tb, out, args, kwargs):  # out = b @ a
    return _matmul_jvp(b, a, tb, ta, out, args, kwargs)


def _select_jvp(op):
    def fn(a, b, ta, tb, out, args, kwargs):
        from .. import ops
        ta = ta if ta is not None else (_zeros_like(a) if isinstance(a, _T()) else 0)
        tb = tb if tb is not None else (_zeros_like(b) if isinstance(b, _T()) else 0)
        mask = (a >= b) if op == "max" else (a <= b)
        return ops.where(mask, ta, tb) + _zeros_like(out)
    return fn


def _atan2_jvp(a, b, ta, tb, out, args, kwargs):
    den = a * a + b * b
    r = None
    if ta is not None:
        r = ta * b / den
    if tb is not None:
        r2 = -tb * a / den
        r = r2 if r is None else r + r2
    return r


def _where_rule(args, kwargs, out):
    from .. import ops
    cond, a, b = args[0], args[1], args[2]
    ta = _tangent(a) if isinstance(a, _T()) else None
    tb = _tangent(b) if isinstance(b, _T()) else None
    if ta is None and tb is None:
        return None
    ta = ta if ta is not None else (_zeros_like(a) if isinstance(a, _T()) else 0.0)
    tb = tb if tb is not None else (_zeros_like(b) if isinstance(b, _T()) else 0.0)
    return ops.where(cond, ta, tb) + _zeros_like(out)


def _clamp_rule(args, kwargs, out):
    x = args[0]
    t = _tangent(x)
    if t is None:
        return None
    lo = kwargs.get("min", args[1] if len(args) > 1 else None)
    hi = kwargs.get("max", args[2] if len(args) > 2 else None)
    m = None
    if lo is not None:
        m = x >= lo
    if hi is not None:
        m2 = x <= hi
        m = m2 if m is None else m & m2
    return t if m is None else t * m


def _masked_fill_rule(args, kwargs, out):
    x, mask = args[0], args[1]
    t = _tangent(x)
    if t is None:
        return None
    return t.masked_fill(mask, 0.0)


def _dim_kw(args, kwargs, pos=1):
    if "dim" in kwargs:
        return kwargs["dim"]
    if len(args) > pos and not isinstance(args[pos], bool):
        return args[pos]
    return None


def _keep(args, kwargs, pos=2):
    if "keepdim" in kwargs:
        return kwargs["keepdim"]
    return args[pos] if len(args) > pos else False


def _maxmin_rule(args, kwargs, out):
    x = args[0]
    t = _tangent(x)
    if t is None:
        return None
    if len(args) > 1 and isinstance(args[1], _T()):  # max(a, b) == maximum
        return _select_jvp("max")(x, args[1], t, _tangent(args[1]), out, args, kwargs)
    dim = _dim_kw(args, kwargs)
    if dim is None:  # full reduction: the tangent at the (first) extremal element
        vals = out
        m = (x == vals)
        cnt = m.sum()
        return (t * m).sum() / cnt
    vals, idx = out
    keep = _keep(args, kwargs)
    i = idx if keep else idx.unsqueeze(dim)
    r = t.gather(dim, i)
    return r if keep else r.squeeze(dim)


def _amaxmin_rule(args, kwargs, out):
    x = args[0]
    t = _tangent(x)
    if t is None:
        return None
    dim = _dim_kw(args, kwargs)
    keep = _keep(args, kwargs)
    if dim is None:
        dim = tuple(range(x.dim()))
    outk = out if keep else _unsq(out, dim, x.dim())
    m = (x == outk)
    return (t * m).sum(dim, keepdim=keep) / m.sum(dim, keepdim=keep)


def _unsq(y, dim, ndim):
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    dims = sorted(d % ndim for d in dims)
    for d in dims:
        y = y.unsqueeze(d)
    return y


def _prod_rule(args, kwargs, out):
    x = args[0]
    t = _tangent(x)
    if t is None:
        return None
    dim = _dim_kw(args, kwargs)
    if dim is None:
        return (t * out / x).sum()
    keep = _keep(args, kwargs)
    outk = out if keep else out.unsqueeze(dim)
    r = (t * outk / x).sum(dim, keepdim=True)
    return r if keep else r.squeeze(dim)


def _var_like(std):
    def rule(args, kwargs, out):
        x = args[0]
        t = _tangent(x)
        if t is None:
            return None
        dim = _dim_kw(args, kwargs)
        corr = kwargs.get("correction", None)
        if corr is None:
            unb = kwargs.get("unbiased", args[1] if len(args) > 1 and isinstance(args[1], bool)
                             else True)
            corr = 1 if unb else 0
        keep = kwargs.get("keepdim", False)
        dims = tuple(range(x.dim())) if dim is None else dim
        mu = x.mean(dims, keepdim=True)
        n = x.numel() if dim is None else _count(x, dims)
        dv = (2.0 / (n - corr)) * ((x - mu) * (t - t.mean(dims, keepdim=True))).sum(
            dims, keepdim=keep)
        if std:
            return dv / (2 * out)
        return dv
    return rule


def _count(x, dims):
    dims = (dims,) if isinstance(dims, int) else dims
    n = 1
    for d in dims:
        n *= x.shape[d]
    return n


def _logsumexp_rule(args, kwargs, out):
    x = args[0]
    t = _tangent(x)
    if t is None:
        return None
    dim = _dim_kw(args, kwargs)
    keep = _keep(args, kwargs)
    outk = out if keep else _unsq(out, dim, x.dim())
    return ((x - outk).exp() * t).sum(dim, keepdim=keep)


def _softmax_rule(log):
    def rule(args, kwargs, out):
        x = args[0]
        t = _tangent(x)
        if t is None:
            return None
        dim = _dim_kw(args, kwargs)
        if log:
            p = out.exp()
            return t - (p * t).sum(dim, keepdim=True)
        return out * (t - (out * t).sum(dim, keepdim=True))
    return rule


def _norm_rule(args, kwargs, out):
    x = args[0]
    t = _tangent(x)
    if t is None:
        return None
    p = kwargs.get("p", args[1] if len(args) > 1 else "fro")
    if p not in (2, 2.0, "fro", None):
        raise NotImplementedError(
            f"Trying to use forward AD with norm(p={p}) that does not support it because it "
            f"has not been implemented yet.")
    dim = kwargs.get("dim", args[2] if len(args) > 2 else None)
    keep = kwargs.get("keepdim", args[3] if len(args) > 3 else False)
    if dim is None:
        return (x * t).sum() / out
    outk = out if keep else _unsq(out, dim, x.dim())
    return (x * t).sum(dim, keepdim=keep) / (outk if keep else out)


def _linear_fn_rule(args, kwargs, out):
    x, w = args[0], args[1]
    b = args[2] if len(args) > 2 else kwargs.get("bias")
    tx, tw = _tangent(x), _tangent(w)
    tb = _tangent(b) if b is not None else None
    r = None
    if tx is not None:
        r = tx @ w.t() if w.dim() > 1 else tx @ w
    if tw is not None:
        r2 = x @ tw.t() if w.dim() > 1 else x @ tw
        r = r2 if r is None else r + r2
    if tb is not None:
        r = tb + _zeros_like(out) if r is None else r + tb
    return r


def _cumprod_rule(args, kwargs, out):
    x = args[0]
    t = _tangent(x)
    if t is None:
        return None
    dim = _dim_kw(args, kwargs)
    return (t / x).cumsum(dim) * out


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_UNARY = {
    "exp": lambda x, y: y,
    "exp2": lambda x, y: y * _LN2,
    "expm1": lambda x, y: y + 1,
    "log": lambda x, y: x.reciprocal(),
    "log2": lambda x, y: (x * _LN2).reciprocal(),
    "log10": lambda x, y: (x * _LN10).reciprocal(),
    "log1p": lambda x, y: (x + 1).reciprocal(),
    "sin": lambda x, y: x.cos(),
    "cos": lambda x, y: -x.sin(),
    "tan": lambda x, y: 1 + y * y,
    "sinh": lambda x, y: x.cosh(),
    "cosh": lambda x, y: x.sinh(),
    "tanh": lambda x, y: 1 - y * y,
    "asin": lambda x, y: (1 - x * x).rsqrt(),
    "arcsin": lambda x, y: (1 - x * x).rsqrt(),
    "acos": lambda x, y: -(1 - x * x).rsqrt(),
    "arccos": lambda x, y: -(1 - x * x).rsqrt(),
    "atan": lambda x, y: (1 + x * x).reciprocal(),
    "arctan": lambda x, y: (1 + x * x).reciprocal(),
    "asinh": lambda x, y: (x * x + 1).rsqrt(),
    "arcsinh": lambda x, y: (x * x + 1).rsqrt(),
    "acosh": lambda x, y: (x * x - 1).rsqrt(),
    "arccosh": lambda x, y: (x * x - 1).rsqrt(),
    "atanh": lambda x, y: (1 - x * x).reciprocal(),
    "arctanh": lambda x, y: (1 - x * x).reciprocal(),
    "sigmoid": lambda x, y: y * (1 - y),
    "sqrt": lambda x, y: 0.5 / y,
    "rsqrt": lambda x, y: -0.5 * y * y * y,
    "reciprocal": lambda x, y: -y * y,
    "abs": lambda x, y: x.sign(),
    "absolute": lambda x, y: x.sign(),
    "relu": lambda x, y: (x > 0).to(x.dtype),
    "square": lambda x, y: 2 * x,
    "erf": lambda x, y: (2.0 / math.sqrt(math.pi)) * (-x * x).exp(),
    "erfc": lambda x, y: (-2.0 / math.sqrt(math.pi)) * (-x * x).exp(),
    "sinc": None,
    "__abs__": lambda x, y: x.sign(),
}
_ZERO_DERIV = {"sign", "sgn", "round", "floor", "ceil", "trunc", "fix", "frac_zero"}
_LINEAR = """neg negative __neg__ positive __pos__ clone contiguous reshape view view_as reshape_as
flatten unflatten squeeze unsqueeze transpose swapaxes swapdims t permute movedim moveaxis expand
expand_as broadcast_to narrow select __getitem__ diagonal flip fliplr flipud roll repeat tile
cat concat concatenate stack hstack vstack split chunk tensor_split unbind sum mean cumsum
nansum trace tril triu gather take_along_dim index_select diag diag_embed sum_to_size ravel
real conj to float double half type type_as float64 clone_ select_scatter diff""".split()
_PASS = """size dim ndimension numel nelement item tolist numpy shape eq ne lt le gt ge __eq__
__ne__ __lt__ __le__ __gt__ __ge__ greater greater_equal less less_equal not_equal logical_and
logical_or logical_xor logical_not isnan isinf isfinite isneginf isposinf isclose allclose equal
argmax argmin argsort sign_ zeros_like ones_like empty_like full_like rand_like randn_like
randint_like new_zeros new_ones new_empty new_full new_tensor detach detach_ requires_grad_
register_hook retain_grad backward is_floating_point is_complex element_size stride
is_contiguous data_ptr storage_offset get_device cpu cuda long int bool short char byte
__bool__ __float__ __int__ __index__ __len__ __iter__ __repr__ __format__ __hash__ __array__
__reduce_ex__ __deepcopy__ __setstate__ __dlpack__ bitwise_and bitwise_or bitwise_xor
bitwise_not __and__ __or__ __xor__ __invert__ count_nonzero nonzero argwhere bincount histc
unique unique_consecutive searchsorted bucketize is_tensor sort_indices all any __contains__
type_as_ floor_divide __floordiv__ __rfloordiv__ remainder __mod__ __rmod__ fmod
sign sgn round floor ceil trunc fix heaviside signbit""".split()

_RULES = {}
for _n, _d in _UNARY.items():
    if _d is not None:
        _RULES[_n] = _unary(_d)
_BIN = {
    "add": _add_jvp(1), "__add__": _add_jvp(1), "__radd__": _add_jvp(1),
    "sub": _add_jvp(-1), "subtract": _add_jvp(-1), "__sub__": _add_jvp(-1),
    "__rsub__": _rsub_jvp, "rsub": _rsub_jvp,
    "mul": _mul_jvp, "multiply": _mul_jvp, "__mul__": _mul_jvp, "__rmul__": _mul_jvp,
    "div": _div_jvp, "divide": _div_jvp, "true_divide": _div_jvp, "__truediv__": _div_jvp,
    "__rtruediv__": _rdiv_jvp, "rdiv": _rdiv_jvp,
    "pow": _pow_jvp, "__pow__": _pow_jvp, "float_power": _pow_jvp, "__rpow__": _rpow_jvp,
    "matmul": _matmul_jvp, "__matmul__": _matmul_jvp, "__rmatmul__": _rmatmul_jvp,
    "mm": _matmul_jvp, "bmm": _matmul_jvp, "mv": _matmul_jvp, "dot": _matmul_jvp,
    "inner": _matmul_jvp, "vdot": _matmul_jvp,
    "maximum": _select_jvp("max"), "fmax": _select_jvp("max"),
    "minimum": _select_jvp("min"), "fmin": _select_jvp("min"),
    "atan2": _atan2_jvp, "arctan2": _atan2_jvp,
}
for _n, _f in _BIN.items():
    _RULES[_n] = _binary(_f)
_RULES.update({
    "where": _where_rule, "clamp": _clamp_rule, "clip": _clamp_rule,
    "clamp_min": lambda a, k, o: _clamp_rule((a[0], a[1] if len(a) > 1 else k.get("min")), {},
                                             o),
    "clamp_max": lambda a, k, o: _clamp_rule((a[0], None, a[1] if len(a) > 1 else k.get("max")),
                                             {}, o),
    "masked_fill": _masked_fill_rule,
    "max": _maxmin_rule, "min": _maxmin_rule, "amax": _amaxmin_rule, "amin": _amaxmin_rule,
    "prod": _prod_rule, "var": _var_like(False), "std": _var_like(True),
    "logsumexp": _logsumexp_rule, "softmax": _softmax_rule(False),
    "log_softmax": _softmax_rule(True), "norm": _norm_rule, "linear": _linear_fn_rule,
    "cumprod": _cumprod_rule,
    "outer": _binary(lambda a, b, ta, tb, out, args, kwargs: (
        (ta.outer(b) if ta is not None else 0) + (a.outer(tb) if tb is not None else 0))),
})


def _zero_rule(args, kwargs, out):
    o = _first(out)
    if not _is_float(o):
        return None
    return _zeros_like(o)


for _n in _ZERO_DERIV:
    _RULES[_n] = _zero_rule


# ---------------------------------------------------------------- patching
def _has_dual(args, kwargs):
    lvl = _active_level
    for a in args:
        fw = getattr(a, "_fw", None)
        if fw is not None and fw[0] == lvl:
            return True
        if type(a) in (list, tuple):
            for b in a:
                fw = getattr(b, "_fw", None)
                if fw is not None and fw[0] == lvl:
                    return True
    for a in kwargs.values():
        fw = getattr(a, "_fw", None)
        if fw is not None and fw[0] == lvl:
            return True
    return False


def _set_tangent(out, tan):
    if tan is None:
        return
    o = _first(out)
    if isinstance(o, _T()) and o._data.dtype.kind in "fc":
        if tan._data.shape != o._data.shape:
            tan = tan.expand(*o._data.shape) if tan._data.ndim <= o._data.ndim else tan
        if tan._data.dtype != o._data.dtype:
            tan = tan.to(o.dtype)
        o._fw = (_active_level, tan)


def _with_rule(name, raw, rule):
    @functools.wraps(raw)
    def fn(*args, **kwargs):
        if _guard[0] or not _has_dual(args, kwargs):
            return raw(*args, **kwargs)
        _guard[0] += 1
        try:
            out = raw(*args, **kwargs)
            tan = rule(args, kwargs, out)
        finally:
            _guard[0] -= 1
        if isinstance(out, (list, tuple)) and name in ("split", "chunk", "tensor_split",
                                                         "unbind"):
            for o, t in zip(out, tan):
                _set_tangent(o, t)
            return out
        _set_tangent(out, tan)
        return out
    return fn


def _composite(name, raw):
    @functools.wraps(raw)
    def fn(*args, **kwargs):
        if _guard[0] or not _has_dual(args, kwargs):
            return raw(*args, **kwargs)
        out = raw(*args, **kwargs)
        o = _first(out)
        if isinstance(o, _T()) and o._data.dtype.kind in "fc" and _tangent(o) is None:
            raise NotImplementedError(
                f"Trying to use forward AD with {name} that does not support it because it has "
                f"not been implemented yet.\nPlease file an issue to PyTorch at "
                f"https://github.com/pytorch/pytorch/issues/new?template=feature-request.yml so "
                f"that we can prioritize its implementation.")
        return out
    return fn


_INPLACE_DUNDERS = {"__iadd__", "__isub__", "__imul__", "__itruediv__", "__ipow__",
                    "__imatmul__", "__ifloordiv__", "__imod__", "__setitem__"}


def _inplace_refused(name, raw):
    """In-place ops have no tangent rules yet: refuse them on dual tensors instead of leaving a
    stale tangent behind (plain tensors and dagrad's own internals are unaffected)."""
    @functools.wraps(raw)
    def fn(*args, **kwargs):
        if _guard[0] or not _has_dual(args, kwargs):
            return raw(*args, **kwargs)
        raise NotImplementedError(
            f"dagrad: forward AD through the in-place operation {name} is not implemented yet; "
            f"use the out-of-place form")
    return fn


_patched = []
_NOT_OPS = ("dagrad.autograd", "dagrad.func", "dagrad.utils", "dagrad.optim", "dagrad.cli",
            "dagrad.viz", "dagrad.vision", "dagrad.serialization", "dagrad.hub")
_T_PROPS = ("T", "mT")


def _wrapper_for(name, raw):
    if name in _PASS or name.startswith("_") and name not in _RULES and not (
            name.startswith("__") and name.endswith("__")):
        return None
    if (name.endswith("_") and not name.startswith("__")) or name in _INPLACE_DUNDERS:
        return _inplace_refused(name, raw)
    if name in _RULES:
        return _with_rule(name, raw, _RULES[name])
    if name in _LINEAR:
        return _with_rule(name, raw, _linear(raw))
    if name.startswith("__"):
        return None
    return _composite(name, raw)


_wcache = {}  # (owner id, name) -> (raw, wrapper): wrappers are built once, then only swapped


def _cached_wrapper(owner, name, raw):
    key = (id(owner), name)
    hit = _wcache.get(key)
    if hit is not None and hit[0] is raw:
        return hit[1]
    w = _wrapper_for(name, raw)
    _wcache[key] = (raw, w)
    return w


_plan = []      # [(owner, name, raw, wrapper)]: computed once, revalidated, then swapped
_plan_key = [None]


def _plan_state():
    import sys
    return ("dagrad.linalg" in sys.modules,)


def _build_plan():
    import sys
    import types

    import dagrad
    plan = []
    T = _T()
    for name, raw in list(T.__dict__.items()):
        if not isinstance(raw, types.FunctionType):
            continue
        w = _cached_wrapper(T, name, raw)
        if w is not None:
            plan.append((T, name, raw, w))
    for pname in ("T", "mT"):
        prop = T.__dict__.get(pname)
        if isinstance(prop, property):
            key = (id(T), pname)
            hit = _wcache.get(key)
            if hit is None or hit[0] is not prop:
                getter = prop.fget
                hit = _wcache[key] = (prop, property(_with_rule(pname, getter,
                                                                _linear(getter))))
            plan.append((T, pname, prop, hit[1]))
    mods = [dagrad]
    try:
        import dagrad.nn.functional as F  # imported now so that it is wrapped too
        mods.append(F)
    except ImportError:  # pragma: no cover - nn not built
        pass
    seen = set()
    for mod in mods:
        for name, raw in list(mod.__dict__.items()):
            if name.startswith("_") or not isinstance(raw, types.FunctionType):
                continue
            m = getattr(raw, "__module__", "") or ""
            if not m.startswith("dagrad.") or m.startswith(_NOT_OPS):
                continue
            w = _cached_wrapper(mod, name, raw)
            if w is not None:
                plan.append((mod, name, raw, w))
                seen.add((id(mod), name))
    LA = sys.modules.get("dagrad.linalg")
    if LA is not None and hasattr(LA, "_forward_ad_rules"):
        for mod, table in LA._forward_ad_rules():  # torch.linalg JVPs live in dagrad/linalg.py
            for name, rule in table.items():
                cur = mod.__dict__.get(name)
                if cur is None:
                    continue
                if (id(mod), name) in seen:  # replace the generic wrapper planned above
                    plan = [e for e in plan if not (e[0] is mod and e[1] == name)]
                key = (id(mod), "linalg:" + name)
                hit = _wcache.get(key)
                if hit is None or hit[0] is not cur:
                    hit = _wcache[key] = (cur, _with_rule(
                        name, getattr(cur, "__wrapped__", cur), rule))
                plan.append((mod, name, cur, hit[1]))
    _plan[:] = plan
    _plan_key[0] = _plan_state()


def _patch():
    if not _plan or _plan_key[0] != _plan_state():
        _build_plan()
    for owner, name, raw, _ in _plan:
        if owner.__dict__.get(name) is not raw:  # something changed since the plan was made
            _build_plan()
            break
    for owner, name, raw, w in _plan:
        _patched.append((owner, name, raw))
        setattr(owner, name, w)


def _unpatch():
    while _patched:
        obj, name, raw = _patched.pop()
        setattr(obj, name, raw)


# ---------------------------------------------------------------- custom Functions
def _function_jvp(cls, ctx, args, outs):
    if not _has_dual(args, {}):
        return
    from .function_api import Function
    if cls.jvp is Function.jvp:
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            "forward mode AD.")
    tans = [(_tangent(a) if _is_float(a) else None) for a in args]
    _guard[0] += 1
    try:
        r = cls.jvp(ctx, *tans)
    finally:
        _guard[0] -= 1
    if not isinstance(r, tuple):
        r = (r,)
    for o, t in zip(outs, r):
        if t is not None:
            _set_tangent(o, t)


# ---------------------------------------------------------------- convolutions
def _conv_rule(args, kwargs, out):
    """conv(x, w, b): bilinear in (x, w), additive in b."""
    x, w = args[0], args[1]
    b = args[2] if len(args) > 2 else kwargs.get("bias")
    rest = tuple(args[3:])
    kw = {k: v for k, v in kwargs.items() if k != "bias"}
    raw = _conv_rule.current
    tx, tw = _tangent(x), _tangent(w)
    tb = _tangent(b) if b is not None else None
    r = None
    if tx is not None or tb is not None:
        r = raw(tx if tx is not None else _zeros_like(x), w, tb, *rest, **kw)
    if tw is not None:
        r2 = raw(x, tw, None, *rest, **kw)
        r = r2 if r is None else r + r2
    return r


def _conv_with_rule(name, raw):
    def rule(args, kwargs, out):
        _conv_rule.current = raw
        return _conv_rule(args, kwargs, out)
    return _with_rule(name, raw, rule)


_CONV_NAMES = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d")
_orig_wrapper_for = _wrapper_for


def _wrapper_for(name, raw):  # noqa: F811 - conv ops get their bilinear rule
    if name in _CONV_NAMES:
        return _conv_with_rule(name, raw)
    return _orig_wrapper_for(name, raw)
