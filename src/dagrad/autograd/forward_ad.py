"""Forward-mode AD (torch.autograd.forward_ad): dual_level, make_dual, unpack_dual.

A dual tensor is an ordinary Tensor whose `_fw` slot holds `(level, tangent)`. Tangents are
propagated by a table of JVP rules keyed by op name. The ops themselves know nothing about it:
entering `dual_level()` swaps the public `dagrad.*`, `dagrad.nn.functional.*` functions and the
Tensor methods/operators for wrappers that call the op, then (when an argument carries a tangent)
apply the op's rule; leaving the level restores them. With no dual level active nothing is
wrapped, so forward AD costs nothing when unused.

Inside a rule (and inside the op a rule belongs to) wrappers pass straight through (a depth
guard), so rules are written in plain dagrad ops on primals and tangents. A function without a
rule gets its tangent from its reverse-mode rule (J t = d<J^T u, t>/du, the "double vjp"; the
RNG is replayed for random ops; the tangent stays differentiable in the primal). Only when that
rule cannot be differentiated is the function treated as a composite whose inner ops propagate
tangents; if its floating-point output still has none, NotImplementedError is raised (as
PyTorch does for ops without a forward derivative) instead of silently returning no tangent.

In-place ops (x.add_(y), x += y, x[i] = v, copy_, zero_, fill_, masked_fill_, relu_, clamp_,
F.relu(x, inplace=True), ...) give x the tangent of the out-of-place op applied to x's old value.
As in PyTorch a view's tangent is a view of its base's tangent: an in-place op on a view writes
its region of the base's tangent, and once any in-place op ran in the level (`_dirty`) every
view re-reads its base's tangent, so views made earlier (siblings, or made before the base got
a tangent) see the change.
"""
import functools
import math
from collections import namedtuple

__all__ = ["dual_level", "make_dual", "unpack_dual", "enter_dual_level", "exit_dual_level",
           "UnpackedDualTensor"]

_active_level = None      # the current dual level (an int) or None
_next = [0]
_guard = [0]              # > 0 while running an op with a rule or a rule itself
_dirty = [False]          # an in-place op changed a tangent at this level: views re-read bases

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
    _dirty[0] = False


class dual_level:
    """Context manager for forward AD: dual tensors made inside have tangents until it exits."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *args):
        exit_dual_level()


def _tangent(x):
    fw = getattr(x, "_fw", None) if isinstance(x, _T()) else None
    if _dirty[0] and isinstance(x, _T()):
        base = getattr(x, "_base", None)
        if base is not None:  # a view's tangent is the view of its base's tangent (PyTorch)
            bfw = getattr(base, "_fw", None)
            if bfw is not None and bfw[0] == _active_level:
                d = _view_of_tangent(x, base, bfw[1])
                if d is not None:
                    x._fw = (_active_level, d)
                    return d
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
_ZERO_DERIV = {"sign", "sgn", "round", "floor", "ceil", "trunc", "fix", "frac_zero",
               "bernoulli"}  # PyTorch: a random draw's tangent is zero
_LINEAR = """neg negative __neg__ positive __pos__ clone contiguous reshape view view_as reshape_as
flatten unflatten squeeze unsqueeze transpose swapaxes swapdims t permute movedim moveaxis expand
expand_as broadcast_to narrow select __getitem__ diagonal flip fliplr flipud roll repeat tile
cat concat concatenate stack hstack vstack split chunk tensor_split unbind sum mean cumsum
nansum trace tril triu gather take_along_dim index_select diag diag_embed sum_to_size ravel
real conj to float double half type type_as float64 clone_ select_scatter diff
fft ifft rfft irfft hfft ihfft fft2 ifft2 rfft2 irfft2 hfft2 ihfft2 fftn ifftn rfftn irfftn hfftn
ihfftn fftshift ifftshift""".split()  # torch.fft: all real-linear, tangent = f(tangent)
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


def _abs_jvp(args, kwargs, out):
    """|x|: t * sign(x) for real x; Re(conj(sgn(x)) * t) for complex x (PyTorch's rule, 0 at 0)."""
    x = args[0]
    t = _tangent(x)
    if t is None:
        return None
    if x.is_complex():
        return (x.sgn().conj() * t).real
    return t * x.sign()


for _n in ("abs", "absolute", "__abs__"):
    _RULES[_n] = _abs_jvp
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


def _legacy_new_rule(args, kwargs, out):
    """Tensor.new(t): PyTorch aliases a tensor argument, so its tangent comes along."""
    src = args[1] if len(args) == 2 else None
    return _tangent(src) if isinstance(src, _T()) else None


_RULES["new"] = _legacy_new_rule


# ---------------------------------------------------------------- patching
def _has_dual(args, kwargs):
    if _dirty[0]:
        return _has_dual_views(args, kwargs)
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
        if kwargs.get("inplace") is True:
            return _inplace_kw(fn, raw, args, kwargs)
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
        if kwargs.get("inplace") is True:
            return _inplace_kw(fn, raw, args, kwargs)
        # The op's reverse-mode rule gives its tangent (double vjp): it holds however the op is
        # built (NumPy kernels mixed with dagrad ops included). Only when that rule cannot be
        # differentiated do the op's inner dagrad ops carry the tangents (a true composite).
        st0 = _rng_state()
        _guard[0] += 1
        try:
            out = raw(*args, **kwargs)
        finally:
            _guard[0] -= 1
        if not _float_outputs(out):
            return out
        st1 = _rng_state()
        if st1 != st0:
            _rng_restore(st0)  # the op drew random numbers: draw the same ones again
        try:
            ok = _jvp_by_double_vjp(raw, args, kwargs, out)
        except Exception:  # noqa: BLE001 - its backward cannot run: try the composite way
            ok = False
        finally:
            if st1 != st0:
                _rng_restore(st1)
        if ok:
            return out
        if st1 != st0:
            _rng_restore(st0)
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
    return ("dagrad.linalg" in sys.modules, "dagrad.special" in sys.modules)


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
    for pname in ("T", "mT", "H", "mH", "real", "imag"):
        prop = T.__dict__.get(pname)
        if isinstance(prop, property):
            key = (id(T), pname)
            hit = _wcache.get(key)
            if hit is None or hit[0] is not prop:
                getter = prop.fget
                hit = _wcache[key] = (prop, property(_with_rule(pname, getter,
                                                                _linear(getter)),
                                                     prop.fset, prop.fdel, prop.__doc__))
            plan.append((T, pname, prop, hit[1]))
    mods = [dagrad]
    try:
        import dagrad.nn.functional as F  # imported now so that it is wrapped too
        mods.append(F)
    except ImportError:  # pragma: no cover - nn not built
        pass
    SP = sys.modules.get("dagrad.special")
    if SP is not None:
        mods.append(SP)
    try:
        import dagrad.fft as FFT  # imported now so that torch.fft is wrapped too
        mods.append(FFT)
    except ImportError:  # pragma: no cover
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
                rule = _la_override(name, rule)
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


# ---------------------------------------------------------------- views and in-place ops
# PyTorch keeps a view's tangent a view of its base's tangent, and an in-place op updates the
# mutated tensor's tangent in place (through views: the base's tangent changes, and so does every
# other view's). Here a tensor mutated in place gets a fresh tangent owned by it (or, for a view,
# the region of its base's owned tangent is overwritten); from then on (`_dirty`) the tangent of
# any view is re-read from its base's tangent, so views made before the change see it.
def _view_of_tangent(x, base, bt):
    """The region of base tangent `bt` that view x covers of base (None if not derivable)."""
    import numpy as np
    a, b, tb = x._data, base._data, bt._data
    if type(a) is not np.ndarray or type(b) is not np.ndarray or type(tb) is not np.ndarray:
        return None
    if a.dtype != b.dtype or tb.shape != b.shape:
        return None
    if not ((b.flags.c_contiguous and tb.flags.c_contiguous)
            or (b.flags.f_contiguous and tb.flags.f_contiguous)):
        return None
    it = a.itemsize
    off = a.__array_interface__["data"][0] - b.__array_interface__["data"][0]
    if off % it or any(st % it for st in a.strides):
        return None
    from ..tensor import _make
    if a.size == 0:
        return _make(np.zeros(a.shape, dtype=tb.dtype))
    e = off // it
    lo = e + sum(min(0, (n - 1) * (st // it)) for n, st in zip(a.shape, a.strides))
    hi = e + sum(max(0, (n - 1) * (st // it)) for n, st in zip(a.shape, a.strides))
    if lo < 0 or hi >= b.size:
        return None
    flat = tb.ravel(order="K")
    ti = tb.itemsize
    return _make(np.lib.stride_tricks.as_strided(flat[e:], a.shape,
                                                 [st // it * ti for st in a.strides]))


def _own_fw(x):
    fw = getattr(x, "_fw", None)
    return fw[1] if fw is not None and fw[0] == _active_level else None


def _has_dual_views(args, kwargs):
    """_has_dual once an in-place op ran: a view whose base has a tangent is dual too."""
    T = _T()

    def dual(a):
        if isinstance(a, T):
            if _own_fw(a) is not None:
                return True
            b = getattr(a, "_base", None)
            return b is not None and _own_fw(b) is not None
        return type(a) in (list, tuple) and any(dual(b) for b in a)
    return any(dual(a) for a in args) or any(dual(a) for a in kwargs.values())


def _owned(x, arr):
    from ..tensor import _make
    t = _make(arr)
    t.__dict__["_fw_owner"] = id(x)
    return t


def _write_tangent(x, nt):
    """x was changed in place; its new tangent is nt (a Tensor, or None for zero)."""
    import numpy as np
    lvl = _active_level
    a = x._data
    src = nt._data if isinstance(nt, _T()) else 0
    _dirty[0] = True
    if a.dtype.kind not in "fc":
        return
    base = getattr(x, "_base", None)
    if base is not None and type(a) is np.ndarray and type(base._data) is np.ndarray:
        bt = _own_fw(base)
        for fresh in (False, True):
            if fresh or bt is None or bt.__dict__.get("_fw_owner") != id(base) or \
                    not bt._data.flags.writeable:
                arr = np.zeros_like(base._data)
                if bt is not None:
                    arr[...] = bt._data
                bt = _owned(base, arr)
                base._fw = (lvl, bt)
                fresh = True
            d = _view_of_tangent(x, base, bt)
            if d is not None:
                d._data[...] = src
                x._fw = (lvl, d)
                return
            if fresh:
                break
    # not a view: x simply takes the new tangent (never written into later: a view's in-place
    # change copies it into an owned array first), keeping its autograd history
    _guard[0] += 1
    try:
        if nt is None:
            t = _zeros_like(x)
        else:
            t = nt
            if t._data.shape != a.shape:
                t = t.expand(*a.shape)
            if t._data.dtype != a.dtype:
                t = t.to(x.dtype)
    finally:
        _guard[0] -= 1
    x._fw = (lvl, t)


def _snapshot(x):
    """A copy of x's current value carrying its current tangent (the op's 'self' before)."""
    from ..ops.elementwise import _shadow
    s = _shadow(x)  # keeps x's autograd history: tangents stay differentiable
    s._data = x._data.copy()
    t = _tangent(x)
    if t is not None:
        s._fw = (_active_level, t)
    return s


def _inplace_kw(fn, raw, args, kwargs):
    """f(x, ..., inplace=True) on dual tensors: the tangent of f(x, inplace=False) goes into x."""
    x = args[0]
    if not isinstance(x, _T()):
        return raw(*args, **kwargs)
    pre = _snapshot(x)
    ref = fn(pre, *args[1:], **dict(kwargs, inplace=False))
    nt = _tangent(_first(ref))
    _guard[0] += 1
    try:
        out = raw(*args, **kwargs)
    finally:
        _guard[0] -= 1
    _write_tangent(x, nt)
    return out


_IOP = {"__iadd__": "__add__", "__isub__": "__sub__", "__imul__": "__mul__",
        "__itruediv__": "__truediv__", "__ipow__": "__pow__", "__imatmul__": "__matmul__",
        "__ifloordiv__": "__floordiv__", "__imod__": "__mod__", "__iand__": "__and__",
        "__ior__": "__or__", "__ixor__": "__xor__"}
_RANDOM_INPLACE = {"normal_", "uniform_", "bernoulli_", "cauchy_", "exponential_", "geometric_",
                   "log_normal_", "random_"}
_SHAPE_INPLACE = {"t_", "transpose_", "squeeze_", "unsqueeze_", "swapaxes_", "swapdims_"}


def _oop_callable(oop):
    import sys
    for owner in (_T(), sys.modules.get("dagrad"), sys.modules.get("dagrad.nn.functional")):
        f = getattr(owner, oop, None) if owner is not None else None
        if f is not None:
            return f
    return None


def _arg(args, kwargs, i, name, default=None):
    if len(args) > i:
        return args[i]
    return kwargs.get(name, default)


def _guarded(raw, args, kwargs):
    _guard[0] += 1
    try:
        return raw(*args, **kwargs)
    finally:
        _guard[0] -= 1


def _ip_copy(raw, args, kwargs):
    src = _arg(args, kwargs, 1, "src")
    st = _tangent(src) if isinstance(src, _T()) else None
    out = _guarded(raw, args, kwargs)
    _write_tangent(args[0], st)
    return out


def _ip_zero(raw, args, kwargs):
    out = _guarded(raw, args, kwargs)
    _write_tangent(args[0], None)
    return out


def _ip_fill(raw, args, kwargs):
    v = _arg(args, kwargs, 1, "value")
    vt = _tangent(v) if isinstance(v, _T()) else None
    out = _guarded(raw, args, kwargs)
    _write_tangent(args[0], vt)
    return out


def _region_tangent(x, fill_region):
    """x's tangent (or zeros) as a new array-backed Tensor, then `fill_region(tmp)` applied."""
    tx = _tangent(x)
    _guard[0] += 1
    try:
        tmp = tx.to(x.dtype).clone() if tx is not None else _zeros_like(x)
        fill_region(tmp)
    finally:
        _guard[0] -= 1
    return tmp


def _ip_setitem(raw, args, kwargs):
    x, key, value = args[0], args[1], _arg(args, kwargs, 2, "value")
    vt = _tangent(value) if isinstance(value, _T()) else None
    tmp = _region_tangent(x, lambda t: raw(t, key, vt if vt is not None else 0.0))
    out = _guarded(raw, args, kwargs)
    _write_tangent(x, tmp)
    return out


def _ip_fill_diagonal(raw, args, kwargs):
    x = args[0]
    wrap = _arg(args, kwargs, 2, "wrap", False)
    tmp = _region_tangent(x, lambda t: raw(t, 0.0, wrap))
    out = _guarded(raw, args, kwargs)
    _write_tangent(x, tmp)
    return out


def _ip_shape(name):
    oop = name[:-1]

    def h(raw, args, kwargs):
        x = args[0]
        tx = _tangent(x)
        out = _guarded(raw, args, kwargs)
        if tx is not None:
            _guard[0] += 1
            try:
                x._fw = (_active_level, getattr(tx, oop)(*args[1:], **kwargs))
            finally:
                _guard[0] -= 1
        return out
    return h


def _ip_detach(raw, args, kwargs):
    out = _guarded(raw, args, kwargs)
    args[0]._fw = None
    return out


_INPLACE_SPECIAL = {"copy_": _ip_copy, "zero_": _ip_zero, "fill_": _ip_fill,
                    "__setitem__": _ip_setitem, "fill_diagonal_": _ip_fill_diagonal,
                    "detach_": _ip_detach}
for _n in _RANDOM_INPLACE:
    _INPLACE_SPECIAL[_n] = _ip_zero
for _n in _SHAPE_INPLACE:
    _INPLACE_SPECIAL[_n] = _ip_shape(_n)
_INPLACE_PLAIN = {"requires_grad_", "share_memory_", "retain_grad_", "resize_", "set_",
                  "record_stream_"}


def _inplace_dual(name, raw):
    """x.op_(...) on dual tensors: x's tangent becomes the tangent of op(x_before, ...)."""
    special = _INPLACE_SPECIAL.get(name)
    oop = _IOP.get(name, name[:-1])

    @functools.wraps(raw)
    def fn(*args, **kwargs):
        if _guard[0] or not _has_dual(args, kwargs):
            return raw(*args, **kwargs)
        x = args[0] if args else None
        if not isinstance(x, _T()):
            return raw(*args, **kwargs)
        if special is not None:
            return special(raw, args, kwargs)
        pre = _snapshot(x)
        args2 = (pre,) + tuple(pre if a is x else a for a in args[1:])
        kw2 = {k: (pre if v is x else v) for k, v in kwargs.items()}
        rule = _RULES.get(oop)
        if rule is None and oop in _LINEAR:
            f = _oop_callable(oop)
            rule = _linear(getattr(f, "__wrapped__", f)) if f is not None else None
        _guard[0] += 1
        try:
            out = raw(*args, **kwargs)
            nt = rule(args2, kw2, x) if rule is not None else None
        finally:
            _guard[0] -= 1
        if rule is None and oop not in _PASS:
            f = _oop_callable(oop)
            if f is None:
                raise NotImplementedError(
                    f"Trying to use forward AD with {name} that does not support it because it "
                    f"has not been implemented yet.")
            nt = _tangent(_first(f(*args2, **kw2)))
        _write_tangent(x, nt)
        return out
    return fn


# ---------------------------------------------------------------- ops without a rule
def _rng_state():
    from ..creation import default_generator as g
    r = g._rng
    return (r, r.bit_generator.state)


def _rng_restore(st):
    from ..creation import default_generator as g
    g._rng = st[0]
    st[0].bit_generator.state = st[1]


def _float_outputs(out):
    T = _T()
    return any(isinstance(o, T) and o._data.dtype.kind in "fc"
               for o in (out if isinstance(out, (tuple, list)) else (out,)))


def _jvp_by_double_vjp(raw, args, kwargs, out):
    """Tangents of an op that has a (differentiable) reverse-mode rule but no JVP rule: with
    u -> J^T u built with create_graph, J t = d<J^T u, t>/du (the 'double vjp' trick). Returns
    False when the op's backward cannot be differentiated with respect to u."""
    import dagrad

    from .grad_mode import enable_grad
    from .grad_mode import state as _gs
    T = _T()
    pairs = []
    seen = {}
    kept_rg = []
    grad_on = _gs.enabled

    def sub(a):
        if isinstance(a, T) and a._data.dtype.kind in "fc":
            if id(a) in seen:
                return seen[id(a)]
            t = _tangent(a)
            if t is None:
                r = a if (grad_on and a._rg) else a.detach()
            else:  # inputs with autograd history stay in it: the tangent is differentiable
                if grad_on and a._rg:
                    r = a
                    kept_rg.append(a)
                else:
                    r = a.detach().requires_grad_()
                pairs.append((r, t))
            seen[id(a)] = r
            return r
        if type(a) in (list, tuple):
            return type(a)(sub(b) for b in a)
        return a
    _guard[0] += 1
    try:
        a2 = [sub(a) for a in args]
        k2 = {k: sub(v) for k, v in kwargs.items()}
        if not pairs:
            return False
        with enable_grad():
            o2 = raw(*a2, **k2)
            o2s = o2 if isinstance(o2, (tuple, list)) else (o2,)
            outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,))]
            sel = [i for i, o in enumerate(o2s) if isinstance(o, T) and o._data.dtype.kind in
                   "fc" and o.requires_grad]
            if not sel:
                return False
            # J^T u is linear in u: any u will do; ones avoids rules (logcumsumexp) whose
            # derivative in the gradient is undefined at 0
            us = [dagrad.ones_like(o2s[i]).requires_grad_() for i in sel]
            gs = dagrad.autograd.grad([o2s[i] for i in sel], [p for p, _ in pairs],
                                      grad_outputs=us, create_graph=True, allow_unused=True)
            keep = [(g, t) for g, (_, t) in zip(gs, pairs) if g is not None]
            if not keep or any(not g.requires_grad for g, _ in keep):
                return False
            hist = grad_on and (any(t._rg for _, t in pairs) or bool(kept_rg))
            js = dagrad.autograd.grad([g for g, _ in keep], us,
                                      grad_outputs=[t.to(g.dtype) for g, t in keep],
                                      allow_unused=True, create_graph=hist)
        for i, j in zip(sel, js):
            o = outs[i] if i < len(outs) else None
            if isinstance(o, T):
                if j is None:
                    j = _zeros_like(o)
                o._fw = (_active_level, j if hist else j.detach())
    finally:
        _guard[0] -= 1
    return True


# ---------------------------------------------------------------- more rules
def _erfinv_deriv(x, y):
    return (math.sqrt(math.pi) / 2) * (y * y).exp()


def _masked_fill_rule2(args, kwargs, out):
    from .. import ops
    x, mask = args[0], _arg(args, kwargs, 1, "mask")
    v = _arg(args, kwargs, 2, "value")
    tx = _tangent(x)
    tv = _tangent(v) if isinstance(v, _T()) else None
    if tx is None and tv is None:
        return None
    if tx is None:
        tx = _zeros_like(x)
    if tv is None:
        return tx.masked_fill(mask, 0.0)
    return ops.where(mask, tv.to(tx.dtype), tx)


def _fmodlike(trunc):
    def fn(a, b, ta, tb, out, args, kwargs):
        r = ta
        if tb is not None:
            q = (a / b)
            q = q.trunc() if trunc else q.floor()
            r2 = -q * tb
            r = r2 if r is None else r + r2
        return r + _zeros_like(out) if tuple(r.shape) != tuple(out.shape) else r
    return fn


def _maxpool_rule(k):
    """max_pool / adaptive_max_pool: the tangent at each window's argmax (PyTorch's indices are
    flat over the k spatial dimensions of each plane)."""
    def rule(args, kwargs, out):
        x = args[0]
        t = _tangent(x)
        if t is None:
            return None
        raw = rule.raw
        if isinstance(out, tuple):
            vals, idx = out
        else:
            kw = dict(kwargs, return_indices=True)
            a = list(args)
            if raw.__name__.startswith("adaptive"):
                a = a[:2]
            else:
                a = a[:6]
            vals, idx = raw(*a, **kw)
        r = t.flatten(t.dim() - k).gather(-1, idx.flatten(idx.dim() - k))
        return r.reshape(tuple(vals.shape))
    return rule


def _pad_rule(raw):
    def rule(args, kwargs, out):
        x = args[0]
        t = _tangent(x)
        if t is None:
            return None
        a = list(args)
        a[0] = t
        if len(a) > 3:
            a[3] = 0.0
        kw = dict(kwargs)
        if "value" in kw:
            kw["value"] = 0.0
        return raw(*a, **kw)
    return rule


_RULES.update({
    "erfinv": _unary(_erfinv_deriv),
    "masked_fill": _masked_fill_rule2,
    "remainder": _binary(_fmodlike(False)), "__mod__": _binary(_fmodlike(False)),
    "fmod": _binary(_fmodlike(True)),
})
_UNPASS = {"sign", "sgn", "round", "floor", "ceil", "trunc", "fix", "remainder", "__mod__",
           "fmod"}
for _n in ("sgn", "fix"):
    _RULES[_n] = _zero_rule
_PASS = [n for n in _PASS if n not in _UNPASS]
_POOL_LINEAR = """avg_pool1d avg_pool2d avg_pool3d adaptive_avg_pool1d adaptive_avg_pool2d
adaptive_avg_pool3d interpolate upsample upsample_nearest upsample_bilinear unfold fold
pixel_shuffle pixel_unshuffle channel_shuffle native_channel_shuffle""".split()
_MAXPOOL = {"max_pool1d": 1, "max_pool2d": 2, "max_pool3d": 3, "max_pool1d_with_indices": 1,
            "max_pool2d_with_indices": 2, "max_pool3d_with_indices": 3,
            "adaptive_max_pool1d": 1, "adaptive_max_pool2d": 2, "adaptive_max_pool3d": 3,
            "adaptive_max_pool1d_with_indices": 1, "adaptive_max_pool2d_with_indices": 2,
            "adaptive_max_pool3d_with_indices": 3}
_orig_wrapper_for2 = _wrapper_for


def _wrapper_for(name, raw):  # noqa: F811 - in-place ops, pooling, padding
    if name in _INPLACE_PLAIN:
        return None
    if name in _INPLACE_DUNDERS or name in _INPLACE_SPECIAL or (
            name.endswith("_") and not name.startswith("_")):
        return _inplace_dual(name, raw)
    if name in _POOL_LINEAR:
        return _with_rule(name, raw, _linear(raw))
    if name in _MAXPOOL:
        r = _maxpool_rule(_MAXPOOL[name])
        r.raw = raw
        return _with_rule(name, raw, r)
    if name == "pad":
        return _with_rule(name, raw, _pad_rule(raw))
    return _orig_wrapper_for2(name, raw)


def _linear0(raw, pos=None, kw=None):
    """Linear in its floating tensors, with a scalar fill value (args[pos] / kwargs[kw]) that
    becomes 0 in the tangent (scatter(value=), index_fill)."""
    lin = _linear(raw)

    def rule(args, kwargs, out):
        if kwargs.get("reduce") is not None:
            raise NotImplementedError(
                f"Trying to use forward AD with {raw.__name__}(reduce=...) that does not support "
                f"it because it has not been implemented yet.")
        if pos is not None:
            if len(args) > pos and not isinstance(args[pos], _T()):
                args = args[:pos] + (0.0,) + tuple(args[pos + 1:])
            if kw in kwargs and not isinstance(kwargs[kw], _T()):
                kwargs = dict(kwargs, **{kw: 0.0})
        return lin(args, kwargs, out)
    return rule


_LINEAR_IDX = {"scatter": (3, "value"), "index_fill": (3, "value"), "scatter_add": (None, None),
               "index_add": (None, None), "index_copy": (None, None),
               "index_put": (None, None), "masked_scatter": (None, None)}
_orig_wrapper_for3 = _wrapper_for


def _wrapper_for(name, raw):  # noqa: F811 - index/scatter ops
    if name in _LINEAR_IDX:
        return _with_rule(name, raw, _linear0(raw, *_LINEAR_IDX[name]))
    return _orig_wrapper_for3(name, raw)


def _clamp_rule2(args, kwargs, out):
    """clamp(x, min, max): x's tangent inside [min, max]; a tensor bound's tangent where it
    clamps (PyTorch's formula: max wins where min > max)."""
    from .. import ops
    x = args[0]
    lo = kwargs.get("min", args[1] if len(args) > 1 else None)
    hi = kwargs.get("max", args[2] if len(args) > 2 else None)
    tx = _tangent(x)
    tlo = _tangent(lo) if isinstance(lo, _T()) else None
    thi = _tangent(hi) if isinstance(hi, _T()) else None
    if tx is None and tlo is None and thi is None:
        return None
    r = tx if tx is not None else _zeros_like(x)
    if lo is not None:
        r = ops.where(x < lo, tlo if tlo is not None else 0.0, r)
    if hi is not None:
        r = ops.where(x > hi, thi if thi is not None else 0.0, r)
        if lo is not None:
            r = ops.where(lo > hi, thi if thi is not None else 0.0, r)
    return r + _zeros_like(out) if tuple(r.shape) != tuple(out.shape) else r


def _maxmin_rule2(which):
    def rule(args, kwargs, out):
        x = args[0]
        other = args[1] if len(args) > 1 else kwargs.get("other")
        if isinstance(other, _T()):  # max(a, b) == maximum(a, b)
            return _binary(_select_jvp(which))((x, other), {}, out)
        return _maxmin_rule(args, kwargs, out)
    return rule


def _no_fwd(aten):
    def rule(args, kwargs, out):
        raise NotImplementedError(
            f"Trying to use forward AD with aten::{aten} that does not support it.")
    return rule


_RULES.update({
    "clamp": _clamp_rule2, "clip": _clamp_rule2,
    "clamp_min": lambda a, k, o: _clamp_rule2((a[0], a[1] if len(a) > 1 else k.get("min")), {},
                                              o),
    "clamp_max": lambda a, k, o: _clamp_rule2((a[0], None, a[1] if len(a) > 1 else k.get("max")),
                                              {}, o),
    "max": _maxmin_rule2("max"), "min": _maxmin_rule2("min"),
    "nextafter": _binary(lambda a, b, ta, tb, out, args, kwargs: ta if ta is not None
                         else _zeros_like(out)),
    "heaviside": _no_fwd("heaviside"), "floor_divide": _no_fwd("floor_divide"),
    "__floordiv__": _no_fwd("floor_divide"), "__rfloordiv__": _no_fwd("floor_divide"),
})
_PASS = [n for n in _PASS if n not in ("heaviside", "floor_divide", "__floordiv__",
                                       "__rfloordiv__")]


# ---------------------------------------------------------------- linalg.svd / linalg.qr cases
def _la_arg(args, kwargs, i, name, default=None):
    return args[i] if len(args) > i else kwargs.get(name, default)


def _svd_rule(orig):
    """full_matrices=True on a non-square input (PyTorch): the tangents of U's first k columns
    and Vh's first k rows are those of the reduced SVD; the completing ones get zero tangents."""
    def rule(args, kwargs, out):
        A = _la_arg(args, kwargs, 0, "A")
        full = _la_arg(args, kwargs, 1, "full_matrices", True)
        m, n = A._data.shape[-2:]
        if not full or m == n:
            return orig(args, kwargs, out)
        import dagrad
        U, S, Vh = out
        k = S._data.shape[-1]
        Uk, Vhk = U[..., :k], Vh[..., :k, :]
        orig((A,), {"full_matrices": False}, (Uk, S, Vhk))
        dU, dVh = _tangent(Uk), _tangent(Vhk)
        if m > k:
            dU = dagrad.cat([dU, dagrad.zeros(*dU.shape[:-1], m - k, dtype=dU.dtype)], -1)
        if n > k:
            dVh = dagrad.cat([dVh, dagrad.zeros(*dVh.shape[:-2], n - k, n, dtype=dVh.dtype)],
                             -2)
        _set_tangent(U, dU)
        _set_tangent(Vh, dVh)
        return None
    return rule


def _qr_rule(orig):
    """linalg.qr: PyTorch's errors for mode='r' and for mode='complete' on tall inputs; wide
    inputs (m < n): Q, R[:, :m] from A[:, :m] and dR = Q^H (dA - dQ R) (PyTorch's formula)."""
    def rule(args, kwargs, out):
        A = _la_arg(args, kwargs, 0, "A")
        mode = _la_arg(args, kwargs, 1, "mode", "reduced")
        m, n = A._data.shape[-2:]
        if mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                "Please use linalg.qr(A, mode='reduced') if you are going to differentiate "
                "through linalg.qr.")
        if mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when "
                               "mode='complete' and nrows > ncols.")
        if m >= n:
            return orig((A,), {"mode": "reduced"}, out)
        Q, R = out
        dA = _t_or_zero(A)
        A1 = A[..., :m]
        A1._fw = (_active_level, dA[..., :m])
        X = R[..., :m]
        orig((A1,), {"mode": "reduced"}, (Q, X))
        dQ = _tangent(Q)
        _set_tangent(R, Q.mH @ (dA - dQ @ R))
        return None
    return rule


_LA_OVERRIDES = {"svd": _svd_rule, "qr": _qr_rule}


def _la_override(name, rule):
    f = _LA_OVERRIDES.get(name)
    return rule if f is None else f(rule)


def _special_no_fwd(name):
    def rule(args, kwargs, out):
        raise NotImplementedError(
            f"Trying to use forward AD with {name} that does not support it because it has "
            f"not been implemented yet.\nPlease file an issue to PyTorch at "
            f"https://github.com/pytorch/pytorch/issues/new?template=feature-request.yml so "
            f"that we can prioritize its implementation or submit a PR adding the "
            f"implementation to derivatives.yaml")
    return rule


_RULES["zeta"] = _special_no_fwd("special_zeta")


# ---------------------------------------------------------------- activations (closed forms)
def _act(deriv, params=()):
    """F.<activation>(x, *params): tangent = f'(x) * t (deriv(x, y, **params) gives f')."""
    def rule(args, kwargs, out):
        x = args[0]
        t = _tangent(x)
        if t is None:
            return None
        p = {}
        for i, (n, d) in enumerate(params):
            p[n] = args[i + 1] if len(args) > i + 1 else kwargs.get(n, d)
        return t * deriv(x, _first(out), **p)
    return rule


def _w(cond, a, b):
    from .. import ops
    return ops.where(cond, a, b)


def _gelu_d(x, y, approximate="none"):
    if approximate == "tanh":
        k = math.sqrt(2.0 / math.pi)
        th = (k * (x + 0.044715 * x * x * x)).tanh()
        return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * k * (1 + 3 * 0.044715 * x * x)
    return 0.5 * (1 + (x * (1 / math.sqrt(2.0))).erf()) + x * (-0.5 * x * x).exp() / math.sqrt(
        2 * math.pi)


def _silu_d(x, y):
    s = x.sigmoid()
    return s * (1 + x * (1 - s))


def _mish_d(x, y):
    import dagrad.nn.functional as NF
    tsp = NF.softplus(x).tanh()
    return tsp + x * (1 - tsp * tsp) * x.sigmoid()


_SELU_SCALE = 1.0507009873554804934193349852946
_SELU_ALPHA = 1.6732632423543772848170429916717
_RULES.update({
    "gelu": _act(_gelu_d, (("approximate", "none"),)),
    "silu": _act(_silu_d),
    "softplus": _act(lambda x, y, beta=1.0, threshold=20.0: _w(
        x * beta > threshold, 1.0, (x * beta).sigmoid()), (("beta", 1.0), ("threshold", 20.0))),
    "elu": _act(lambda x, y, alpha=1.0: _w(x > 0, 1.0, y + alpha), (("alpha", 1.0),)),
    "selu": _act(lambda x, y: _w(x > 0, _SELU_SCALE, y + _SELU_SCALE * _SELU_ALPHA)),
    "celu": _act(lambda x, y, alpha=1.0: _w(x > 0, 1.0, (x / alpha).exp()), (("alpha", 1.0),)),
    "leaky_relu": _act(lambda x, y, negative_slope=0.01: _w(x > 0, 1.0, negative_slope),
                       (("negative_slope", 0.01),)),
    "hardtanh": _act(lambda x, y, min_val=-1.0, max_val=1.0: ((x > min_val) & (x < max_val))
                     .to(x.dtype), (("min_val", -1.0), ("max_val", 1.0))),
    "relu6": _act(lambda x, y: ((x > 0) & (x < 6)).to(x.dtype)),
    "logsigmoid": _act(lambda x, y: (-x).sigmoid()),
    "softsign": _act(lambda x, y: (1 + x.abs()).square().reciprocal()),
    "hardsigmoid": _act(lambda x, y: ((x > -3) & (x < 3)).to(x.dtype) * (1.0 / 6)),
    "hardswish": _act(lambda x, y: _w(x < -3, 0.0, _w(x <= 3, x / 3 + 0.5, 1.0))),
    "mish": _act(_mish_d),
    "tanhshrink": _act(lambda x, y: x.tanh().square()),
    "softshrink": _act(lambda x, y, lambd=0.5: (x.abs() > lambd).to(x.dtype),
                       (("lambd", 0.5),)),
    "hardshrink": _act(lambda x, y, lambd=0.5: (x.abs() > lambd).to(x.dtype),
                       (("lambd", 0.5),)),
    "threshold": _act(lambda x, y, threshold=0.0, value=0.0: (x > threshold).to(x.dtype),
                      (("threshold", 0.0), ("value", 0.0))),
})
