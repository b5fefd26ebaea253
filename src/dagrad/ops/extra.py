"""The rest of the tensor API ordinary scripts touch: integer and set ops, NaN-aware reductions,
more elementwise math, order statistics, differences and integrals.

Primitives compute with NumPy and, when recording, attach an `ExtraOpBackward` node subclassed
under PyTorch's node name (`HypotBackward0`...) whose rule, written in dagrad ops, sits next to the
forward. Ops PyTorch composes (nansum, quantile, diff, trapezoid...) are compositions here too.
"""
import builtins
import collections
import math

from ..backend import accumulate as _accumulate
from ..backend import contiguous as _contig
from ..backend import get_array_module as _gam
from ..backend import scatter_add as _scatter_add
from . import derivatives as R
from ._core import (
    D,
    Tensor,
    _make,
    as_tensor_arg,
    grad_state,
    link,
    np,
    promote_arrays,
    save,
    save_result,
    wrap_dim,
)
from ._core import arr as _arr
from .elementwise import _out, _pt_name
from .reduce import AminmaxRT, MedianRT, ModeRT, _rt

__all__ = ["gcd", "lcm", "unique", "unique_consecutive", "bincount", "histc", "histogram",
           "histogramdd", "searchsorted", "bucketize", "isin", "nan_to_num", "nansum",
           "nanmean", "allclose", "isclose", "equal", "hypot", "logaddexp", "logaddexp2",
           "xlogy", "sinc", "deg2rad", "rad2deg", "heaviside", "copysign", "nextafter",
           "frexp", "ldexp", "logcumsumexp", "median", "nanmedian", "mode", "quantile",
           "nanquantile", "aminmax", "diff", "trapezoid", "trapz", "cumulative_trapezoid",
           "float_power", "positive", "angle", "xlog1py", "resolve_conj", "resolve_neg",
           "is_conj", "is_neg", "conj_physical", "adjoint"]

_NODES = {}
_HistT = collections.namedtuple("histogram", ["hist", "bin_edges"])
_FrexpT = collections.namedtuple("frexp", ["mantissa", "exponent"])


def _rec(*ts):
    if not grad_state.enabled:
        return False
    for t in ts:
        if isinstance(t, Tensor) and t._rg:
            return True
    return False


def _node(name, rule, inputs, out, saved=(), result=False, **attrs):
    """Record `out` = op(inputs) under a node named `name` whose backward is `rule`."""
    cls = _NODES.get(name)
    if cls is None:
        cls = _NODES[name] = type(name, (R.ExtraOpBackward,), {})
    n = cls()
    n.rule = rule
    for k, v in attrs.items():
        setattr(n, k, v)
    ts = [x if isinstance(x, Tensor) else None for x in inputs]
    rs, rd = out._data.shape, out._data.dtype
    meta = tuple(None if t is None or (t._data.shape == rs and t._data.dtype == rd)
                 else (t._data.shape, t._data.dtype) for t in ts)
    if builtins.any(m is not None for m in meta):
        n._meta = meta
    if saved:
        save(n, *saved)
    if result:
        save_result(n, out)
    link(n, out, *ts)
    return out


def _t(x, like=None):
    if isinstance(x, Tensor):
        return x
    return as_tensor_arg(x, like)


def _float_pair(a, b, name, allow_int=False):
    """Promote two operands; integral inputs are refused (NotImplementedError like PyTorch) or
    computed in the default float dtype."""
    a = _t(a, b if isinstance(b, Tensor) else None)
    b = _t(b, a)
    xa, xb = promote_arrays(a, b)
    if xa.dtype.kind not in "fcV":
        if not allow_int:
            raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                      f"'{_pt_name(xa.dtype)}'")
        xa, xb = xa.astype(D.default.np), xb.astype(D.default.np)
    return a, b, xa, xb


def _float_one(x, name, allow_int=True):
    x = _t(x)
    a = x._data
    if a.dtype.kind not in "fcV":
        if not allow_int:
            raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                      f"'{_pt_name(a.dtype)}'")
        a = a.astype(D.default.np)
    return x, a


# ---------------------------------------------------------------- integer ops
def _int_binary(np_fn, name):
    def op(a, b, *, out=None):
        a = _t(a, b if isinstance(b, Tensor) else None)
        b = _t(b, a)
        xa, xb = promote_arrays(a, b)
        if xa.dtype.kind not in "iu":
            raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                      f"'{_pt_name(xa.dtype)}'")
        return _out(_make(_arr(np_fn(xa, xb))), out)
    op.__name__ = name
    return op


gcd = _int_binary(np.gcd, "gcd")
lcm = _int_binary(np.lcm, "lcm")


# ---------------------------------------------------------------- elementwise math
def hypot(a, b, *, out=None):
    a, b, xa, xb = _float_pair(a, b, "hypot")
    res = _make(np.hypot(xa, xb))
    if _rec(a, b):
        def rule(n, g):
            x, y = n.saved()
            r = n.result()
            return (g * x / r if n.needs(0) else None, g * y / r if n.needs(1) else None)
        _node("HypotBackward0", rule, (a, b), res, saved=(a, b), result=True)
    return _out(res, out)


def logaddexp(a, b, *, out=None):
    a, b, xa, xb = _float_pair(a, b, "logaddexp")
    res = _make(np.logaddexp(xa, xb))
    if _rec(a, b):
        def rule(n, g):
            x, y = n.saved()
            r = n.result()
            return (g * (x - r).exp() if n.needs(0) else None,
                    g * (y - r).exp() if n.needs(1) else None)
        _node("LogaddexpBackward0", rule, (a, b), res, saved=(a, b), result=True)
    return _out(res, out)


def logaddexp2(a, b, *, out=None):
    a, b, xa, xb = _float_pair(a, b, "logaddexp2")
    res = _make(np.logaddexp2(xa, xb))
    if _rec(a, b):
        def rule(n, g):
            x, y = n.saved()
            r = n.result()
            return (g * (x - r).exp2() if n.needs(0) else None,
                    g * (y - r).exp2() if n.needs(1) else None)
        _node("Logaddexp2Backward0", rule, (a, b), res, saved=(a, b), result=True)
    return _out(res, out)


def _xlogy_np(x, y, log_fn):
    with np.errstate(all="ignore"):
        r = x * log_fn(y)
    return np.where((x == 0) & ~np.isnan(y), r.dtype.type(0), r)


def xlogy(a, b, *, out=None):
    k = 1 if not isinstance(a, Tensor) else (2 if not isinstance(b, Tensor) else 0)
    a, b, xa, xb = _float_pair(a, b, "xlogy", allow_int=True)
    res = _make(_arr(_xlogy_np(xa, xb, np.log)))
    if _rec(a, b):
        def rule(n, g):
            x, y = n.saved()
            gx = gy = None
            if n.needs(0):
                gx = xlogy(g, y).masked_fill((x == 0) & (y <= 0), 0)
            if n.needs(1):
                gy = g * x / y
            return gx, gy
        _node(f"XlogyBackward{k}", rule, (a, b), res, saved=(_t(a), _t(b)))
    return _out(res, out)


def xlog1py(a, b, *, out=None):
    k = 1 if not isinstance(a, Tensor) else (2 if not isinstance(b, Tensor) else 0)
    a, b, xa, xb = _float_pair(a, b, "xlog1py", allow_int=True)
    res = _make(_arr(_xlogy_np(xa, xb, np.log1p)))
    if _rec(a, b):
        def rule(n, g):
            x, y = n.saved()
            gx = gy = None
            if n.needs(0):
                gx = xlog1py(g, y).masked_fill((x == 0) & (y <= -1), 0)
            if n.needs(1):
                gy = g * x / (y + 1)
            return gx, gy
        _node(f"SpecialXlog1PyBackward{k}", rule, (a, b), res, saved=(_t(a), _t(b)))
    return _out(res, out)


def sinc(x, *, out=None):
    x, a = _float_one(x, "sinc")
    with np.errstate(all="ignore"):
        res = _make(_arr(np.sinc(a), a.dtype))
    if _rec(x):
        def rule(n, g):
            (v,) = n.saved()
            pv = v * math.pi
            d = ((pv.cos() * pv - pv.sin()) / (pv * v)).masked_fill(v == 0, 0)
            return g * d
        _node("SincBackward0", rule, (x,), res, saved=(x,))
    return _out(res, out)


def _scale_op(factor, name, node):
    def op(x, *, out=None):
        x, a = _float_one(x, name)
        res = _make(_arr(a * a.dtype.type(factor), a.dtype))
        if _rec(x):
            _node(node, lambda n, g: g * factor, (x,), res)
        return _out(res, out)
    op.__name__ = name
    return op


deg2rad = _scale_op(math.pi / 180, "deg2rad", "Deg2RadBackward0")
rad2deg = _scale_op(180 / math.pi, "rad2deg", "Rad2DegBackward0")


def heaviside(x, values, *, out=None):
    x, values = _t(x), _t(values, x)
    a, v = x._data, values._data
    if a.dtype != v.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    if a.dtype.kind == "c":
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    r = np.where(a == 0, v, (a > 0).astype(a.dtype)).astype(a.dtype)
    res = _make(_arr(r))
    if _rec(x, values):
        def rule(n, g):
            raise RuntimeError("derivative for aten::heaviside is not implemented")
        _node("NotImplemented", rule, (x, values), res)
    return _out(res, out)


def copysign(a, b, *, out=None):
    a, b, xa, xb = _float_pair(a, b, "copysign", allow_int=True)
    res = _make(_arr(np.copysign(xa, xb)))
    if _rec(a, b):
        def rule(n, g):
            (x,) = n.saved()
            r = n.result()
            ga = None
            if n.needs(0):
                ga = (g * r / x).masked_fill(x == 0, 0)
            return ga, (g * 0 if n.needs(1) else None)
        _node("CopysignBackward0", rule, (a, b), res, saved=(_t(a),), result=True)
    return _out(res, out)


def nextafter(a, b, *, out=None):
    a, b, xa, xb = _float_pair(a, b, "nextafter")
    res = _make(_arr(np.nextafter(xa, xb)))
    if _rec(a, b):
        _node("NextafterBackward0", lambda n, g: (g * 0 if n.needs(0) else None,
                                                  g * 0 if n.needs(1) else None),
              (a, b), res)
    return _out(res, out)


def frexp(x, *, out=None):
    x = _t(x)
    a = x._data
    if a.dtype.kind not in "fV":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    m, e = np.frexp(a)
    return _FrexpT(_make(_arr(m, a.dtype)), _make(_arr(e, np.int32)))


def ldexp(x, other, *, out=None):
    x, other = _t(x), _t(other)
    if x._data.dtype.kind not in "fcV":
        x = x.to(D.default.dtype)
    from .elementwise import _rpow, mul
    return _out(mul(x, _rpow(2.0, other)), out)


def float_power(x, exponent, *, out=None):
    from .elementwise import pow as _pow
    x = _t(x)
    cplx = x._data.dtype.kind == "c" or (isinstance(exponent, Tensor) and
                                          exponent._data.dtype.kind == "c") or isinstance(
        exponent, complex)
    dt = D.complex128 if cplx else D.float64
    e = exponent.to(dt) if isinstance(exponent, Tensor) else exponent
    return _out(_pow(x.to(dt), e), out)


def positive(x):
    if x._data.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return x


def _view_as_real_rec(x):
    """x viewed as real (..., 2), recorded as PyTorch's ViewAsRealBackward0."""
    a = x._data
    res = _make(a.view(a.real.dtype).reshape(a.shape + (2,)) if a.flags.c_contiguous else
                np.stack([a.real, a.imag], -1))

    def rule(n, g):
        from .movement import select
        return _complex_from(select(g, -1, 0), select(g, -1, 1))
    return _node("ViewAsRealBackward0", rule, (x,), res)


def _complex_from(re, im):
    """re + i im as a complex tensor, differentiable (torch.complex's ComplexBackward0)."""
    r, i = re._data, im._data
    res = _make(_arr(r + 1j * i).astype(np.result_type(r.dtype, i.dtype, np.complex64)))
    if _rec(re, im):
        def rule(n, g):
            return (complex_real(g) if n.needs(0) else None,
                    complex_imag(g) if n.needs(1) else None)
        _node("ComplexBackward0", rule, (re, im), res)
    return res


def complex_real(x):
    """Tensor.real / torch.real: the real part, differentiable for complex input (PyTorch's
    graph: ViewAsRealBackward0 then SelectBackward0)."""
    a = x._data
    if a.dtype.kind != "c":
        return x
    if not _rec(x):
        return _make(a.real)
    from .movement import select
    return select(_view_as_real_rec(x), -1, 0)


def complex_imag(x):
    """Tensor.imag / torch.imag: the imaginary part, differentiable for complex input."""
    a = x._data
    if a.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    if not _rec(x):
        return _make(a.imag)
    from .movement import select
    return select(_view_as_real_rec(x), -1, 1)


def complex_conj(x):
    """conj of a complex tensor, differentiable (ConjBackward0: the gradient is conjugated)."""
    res = _make(np.conj(x._data))
    if _rec(x):
        _node("ConjBackward0", lambda n, g: complex_conj(g), (x,), res)
    return res


def _renamed(t, from_cls, to_cls):
    """Give t's node PyTorch's name for this call site (same rule, another node class)."""
    if type(t.grad_fn) is from_cls:
        t.grad_fn.__class__ = to_cls
    return t


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """F.pairwise_distance: torch.norm(x1 - x2 + eps, p, innermost dim, keepdim), recorded as
    PyTorch records it (SubBackward0, AddBackward1, NormBackward1)."""
    from .. import linalg as LA  # looked up per call: forward AD swaps the public function
    vector_norm = LA.vector_norm
    inner = builtins.max(x1.ndim, x2.ndim) - 1
    s = x1 - x2 + eps
    _renamed(s, R.AddScalarBackward, R.AddBackward1)
    if s.ndim == 0:
        return _renamed(vector_norm(s, p), R.LinalgVectorNormBackward0, R.NormBackward1)
    return _renamed(vector_norm(s, p, inner, keepdim), R.LinalgVectorNormBackward0,
                    R.NormBackward1)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """F.cosine_similarity as PyTorch 2.13 computes it: each input divided by its norm (cloned
    and clamped to eps without recording), then the product summed over dim."""
    from .. import linalg as LA  # looked up per call: forward AD swaps the public function
    from ..autograd.grad_mode import no_grad
    dt = D.result_type(x1, x2)
    if not dt.is_floating_point and not dt.is_complex:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{_pt_name(dt.np)}")
    try:
        shp = tuple(np.broadcast_shapes(x1._data.shape, x2._data.shape))
    except ValueError:
        from .elementwise import _shape_err
        raise _shape_err("cosine_similarity", x1._data, x2._data) from None
    if x1._data.shape != shp or x2._data.shape != shp:
        x1, x2 = x1.expand(*shp), x2.expand(*shp)
    n1 = LA.vector_norm(x1, 2, dim, True).clone()
    n2 = LA.vector_norm(x2, 2, dim, True).clone()
    with no_grad():
        n1.clamp_min_(eps)
        n2.clamp_min_(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def dist(input, other, p=2):  # noqa: A002
    """torch.dist: the p-norm of input - other (broadcast), one DistBackward0 node."""
    if not isinstance(other, Tensor):
        raise TypeError(f"dist(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    try:
        np.broadcast_shapes(input._data.shape, other._data.shape)
    except ValueError:
        from .elementwise import _shape_err
        raise _shape_err("dist", input._data, other._data) from None
    a, b = promote_arrays(input, other)
    if a.dtype.kind not in "fcV":
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. "
                           f"Got {_pt_name(a.dtype)} instead.")
    if _fw_active():
        return (input - other).norm(p)
    d = np.abs(a - b)
    if p == 2:
        r = np.sqrt((d * d).sum())
    elif p == 1:
        r = d.sum()
    elif p == 0:
        r = (d != 0).sum()
    elif p == math.inf:
        r = d.max() if d.size else 0
    elif p == -math.inf:
        r = d.min() if d.size else math.inf
    else:
        r = (d ** p).sum() ** (1.0 / p)
    res = _make(_arr(r, d.dtype))
    if _rec(input, other):
        n = R.DistBackward0()
        n.p = p
        n._meta = ((input._data.shape, input._data.dtype), (other._data.shape,
                                                            other._data.dtype))
        save(n, input, other)
        save_result(n, res)
        link(n, res, input if input._rg else None, other if other._rg else None)
    return res


def resolve_conj(x):
    """dagrad's conj is eager (no conjugate bit): the tensor itself, as PyTorch without the bit."""
    return x


def resolve_neg(x):
    return x


def is_conj(x):
    return False


def is_neg(x):
    return False


def conj_physical(x, *, out=None):
    """conj as a new tensor (ConjPhysicalBackward0); a real tensor is returned as is."""
    if x._data.dtype.kind != "c":
        return _out(x, out) if out is not None else x
    res = _make(np.conj(x._data))
    if _rec(x):
        _node("ConjPhysicalBackward0", lambda n, g: complex_conj(g), (x,), res)
    return _out(res, out)


def adjoint(x):
    """x.mH: the conjugate transpose of the last two dims (TransposeBackward0, ConjBackward0)."""
    if x._data.ndim == 0:
        import warnings
        warnings.warn("adjoint() is deprecated on 0-D tensors. Consider using x.conj(). "
                      "(Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/"
                      "TensorShape.cpp:4390.)", UserWarning, stacklevel=2)
        return x.conj()
    if x._data.ndim == 1:
        raise RuntimeError("tensor.adjoint() is only supported on matrices or batches of "
                           "matrices. Got 1-D tensor.")
    return x.mH


def angle(x, *, out=None):
    a = x._data
    if a.dtype.kind == "c":
        res = _make(np.angle(a))
        if _rec(x):
            def crule(n, g):
                (z,) = n.saved()
                za = z.abs()
                zero = (za == 0)
                den = za * za + zero.to(za.dtype)
                return (g * z / den * 1j).masked_fill(zero, 0)
            _node("AngleBackward0", crule, (x,), res, saved=(x,))
        return _out(res, out)
    r = np.where(a < 0, np.pi, 0.0).astype(a.dtype if a.dtype.kind in "fV" else D.default.np)
    r = np.where(np.isnan(a), a, r) if a.dtype.kind in "fV" else r
    res = _make(_arr(r))
    if _rec(x):
        _node("AngleBackward0", lambda n, g: g * 0, (x,), res)
    return _out(res, out)


# ---------------------------------------------------------------- NaN handling, comparisons
def nan_to_num(x, nan=0.0, posinf=None, neginf=None, *, out=None):
    a = x._data
    if a.dtype.kind not in "fcV":
        return _out(_make(a.copy()), out)
    r = np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)
    res = _make(_arr(r, a.dtype))
    if _rec(x):
        def rule(n, g):
            (v,) = n.saved()
            return g * v.isfinite()
        _node("NanToNumBackward0", rule, (x,), res, saved=(x,))
    return _out(res, out)


def _nan_out_dtype(out, dtype, x):
    """nansum/nanmean compute in the out= tensor's dtype; integer outs are refused."""
    if out is None or not isinstance(out, Tensor) or dtype is not None:
        return dtype
    od = out._data.dtype
    if od.kind in "iu":
        raise NotImplementedError(f"\"nansum_cpu\" not implemented for '{_pt_name(od)}'")
    return out.dtype if od.kind in "fcV" and x._data.dtype.kind in "fcV" else dtype


def nansum(x, dim=None, keepdim=False, *, dtype=None, out=None):
    from .indexing import masked_fill
    from .reduce import _o
    from .reduce import sum as _sum
    dtype = _nan_out_dtype(out, dtype, x)
    a = x._data
    if a.dtype.kind in "fV":
        x = masked_fill(x, _make(np.isnan(a)), 0)
    return _o(_sum(x, dim, keepdim, dtype=dtype) if dim is not None else
              _sum(x, dtype=dtype) if not keepdim else _sum(x, tuple(range(a.ndim)), True,
                                                            dtype=dtype), out, "nansum")


def nanmean(x, dim=None, keepdim=False, *, dtype=None, out=None):
    from .reduce import _no_grad_out, _o
    if out is not None and not isinstance(out, Tensor):
        raise TypeError(f"nanmean(): argument 'out' must be Tensor, not {type(out).__name__}")
    a = x._data
    if out is not None and a.dtype.kind in "biu":
        raise RuntimeError("nanmean(): integral types and 'Bool' are not supported for nanmean, "
                           "even for empty tensors.")
    dtype = _nan_out_dtype(out, dtype, x)
    if out is not None:
        _no_grad_out("nansum", x if x._rg else _make(a))  # PyTorch names its nansum here
    if a.dtype.kind not in "fcV" and dtype is None:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype "
                           f"but got {_pt_name(a.dtype)}")
    cnt = _make(~np.isnan(a))
    from .reduce import sum as _sum
    c = _sum(cnt, dim, keepdim) if dim is not None else (
        _sum(cnt) if not keepdim else _sum(cnt, tuple(range(a.ndim)), True))
    return _o(nansum(x, dim, keepdim, dtype=dtype) / c, out, "nanmean")


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b = _t(a), _t(b, a)
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{_pt_name(a._data.dtype)} did not match {_pt_name(b._data.dtype)}")
    xa, xb = a._data, b._data
    if xa.dtype == np.bool_:
        return _make(_arr(xa == xb))
    with np.errstate(all="ignore"):
        r = np.isclose(xa, xb, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return _make(_arr(r))


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return builtins.bool(isclose(a, b, rtol, atol, equal_nan)._data.all())


def equal(a, b):
    xa, xb = a._data, b._data
    if xa.shape != xb.shape:
        return False
    return builtins.bool(np.array_equal(xa, xb))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    e = elements._data if isinstance(elements, Tensor) else np.asarray(elements)
    t = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    if type(e) is not type(t) and not (isinstance(elements, Tensor)
                                       and isinstance(test_elements, Tensor)):
        xp = _gam(e) if type(e) is not np.ndarray else _gam(t)  # CuPy: a plain value follows
        e, t = xp.asarray(e), xp.asarray(t)
    return _make(_arr(np.isin(e, t, assume_unique=assume_unique, invert=invert)))


# ---------------------------------------------------------------- sets and counting
def _unique_dim_none(a, sorted_, return_inverse, return_counts):
    u, inv, cnt = np.unique(a.reshape(-1), return_inverse=True, return_counts=True)
    outs = [_make(u)]
    if return_inverse:
        outs.append(_make(inv.reshape(a.shape).astype(np.int64)))
    if return_counts:
        outs.append(_make(cnt.astype(np.int64)))
    return outs[0] if len(outs) == 1 else tuple(outs)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa
    a = input._data
    if dim is None:
        return _unique_dim_none(a, sorted, return_inverse, return_counts)
    d = wrap_dim(dim, a.ndim)
    u, inv, cnt = np.unique(a, return_inverse=True, return_counts=True, axis=d)
    outs = [_make(u)]
    if return_inverse:
        outs.append(_make(inv.reshape(-1).astype(np.int64)))
    if return_counts:
        outs.append(_make(cnt.astype(np.int64)))
    return outs[0] if len(outs) == 1 else tuple(outs)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):  # noqa
    a = input._data
    if dim is None:
        flat = a.reshape(-1)
        xp = _gam(a)
        if flat.size == 0:
            new = xp.zeros(0, bool)
        else:
            new = xp.concatenate([xp.ones(1, bool), flat[1:] != flat[:-1]])
        u = flat[new]
        inv = (np.cumsum(new) - 1).reshape(a.shape)
        starts = np.nonzero(new)[0]
        cnt = np.diff(np.append(starts, flat.size))
    else:
        d = wrap_dim(dim, a.ndim)
        m = np.moveaxis(a, d, 0)
        n = m.shape[0]
        if n == 0:
            new = _gam(a).zeros(0, bool)
        else:
            ch = (m[1:] != m[:-1]).reshape(n - 1, -1).any(1)
            new = np.concatenate([_gam(ch).ones(1, bool), ch])
        u = np.moveaxis(m[new], 0, d)
        inv = np.cumsum(new) - 1
        starts = np.nonzero(new)[0]
        cnt = np.diff(np.append(starts, n))
    outs = [_make(_contig(u))]
    if return_inverse:
        outs.append(_make(_arr(inv, np.int64)))
    if return_counts:
        outs.append(_make(_arr(cnt, np.int64)))
    return outs[0] if len(outs) == 1 else tuple(outs)


def bincount(input, weights=None, minlength=0):  # noqa: A002
    a = input._data
    if a.ndim != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if a.dtype.kind not in "iub" or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return _make(np.bincount(a, minlength=minlength).astype(np.int64))
    w = weights._data
    if w.shape != a.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    dt = w.dtype if w.dtype.kind in "fV" else np.float64
    dt = np.float32 if w.dtype == np.float32 else (np.float64 if dt != np.float16 else dt)
    return _make(np.bincount(a, weights=w.astype(np.float64), minlength=minlength).astype(dt))


def histc(input, bins=100, min=0, max=0, *, out=None):  # noqa: A002
    a = input._data
    if a.dtype.kind not in "fV":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_pt_name(a.dtype)}'")
    if bins <= 0:
        raise RuntimeError("torch.histc(): bins must be > 0, but got " + str(bins) + " for bins")
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc(): max must be larger than min")
    h, _ = np.histogram(a[~np.isnan(a)], bins=bins, range=(lo, hi))
    return _out(_make(h.astype(a.dtype)), out)


def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):  # noqa
    a = input._data
    if a.dtype.kind not in "fV":
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{_pt_name(a.dtype)}'")
    if isinstance(bins, Tensor):
        b = bins._data
    else:
        b = int(bins)
        if range is None:
            lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
        else:
            lo, hi = float(range[0]), float(range[1])
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5  # NumPy's rule; PyTorch agrees for constant input
        range = (lo, hi)
    h, edges = np.histogram(a.reshape(-1), bins=b, range=range if not isinstance(b, np.ndarray)
                            else None, weights=None if weight is None else
                            weight._data.reshape(-1), density=density)
    return _HistT(_make(h.astype(a.dtype)), _make(edges.astype(a.dtype)))


def histogramdd(input, bins=10, *, range=None, weight=None, density=False):  # noqa: A002
    a = input._data
    h, edges = np.histogramdd(a.reshape(-1, a.shape[-1]), bins=bins, range=range,
                              weights=None if weight is None else weight._data.reshape(-1),
                              density=density)
    rt = collections.namedtuple("histogramdd", ["hist", "bin_edges"])
    return rt(_make(h.astype(a.dtype)), [_make(e.astype(a.dtype)) for e in edges])


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,  # noqa
                 sorter=None, out=None):
    s = sorted_sequence._data
    scalar = not isinstance(input, Tensor)
    v = np.asarray(input) if scalar else input._data
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        right = side == "right"
    if sorter is not None:
        s = np.take_along_axis(s, sorter._data, axis=-1)
    sd = "right" if right else "left"
    dt = np.int32 if out_int32 else np.int64
    if s.ndim == 1:
        r = np.searchsorted(s, v, side=sd)
    else:
        if s.shape[:-1] != v.shape[:-1]:
            raise RuntimeError(
                f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                f"dimensions of boundaries tensor and input value tensor must match, but we got "
                f"boundaries tensor {list(s.shape)} and input value tensor {list(v.shape)}")
        cmp = np.less_equal if right else np.less
        r = cmp(s[..., None, :], v[..., :, None]).sum(-1)
    return _out(_make(_arr(r, dt)), out)


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):  # noqa: A002
    b = boundaries._data
    if b.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({b.ndim})")
    v = input._data if isinstance(input, Tensor) else np.asarray(input)
    r = np.searchsorted(b, v, side="right" if right else "left")
    return _out(_make(_arr(r, np.int32 if out_int32 else np.int64)), out)


# ---------------------------------------------------------------- cumulative and order stats
def logcumsumexp(x, dim=None, *, out=None):
    if dim is None:
        from .reduce import _missing_dim
        raise _missing_dim("logcumsumexp")
    if out is not None:
        from .reduce import _o
        if isinstance(out, Tensor) and out._data.dtype != x._data.dtype and \
                x._data.dtype.kind in "fcV":
            raise RuntimeError(f"expected scalar_type {_pt_name(x._data.dtype)} but found "
                               f"{_pt_name(out._data.dtype)}")
        return _o(logcumsumexp(x, dim), out, "logcumsumexp")
    a = x._data
    if a.dtype.kind not in "fcV":
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for "
                                  f"'{_pt_name(a.dtype)}'")
    d = wrap_dim(dim, builtins.max(a.ndim, 1))
    if a.ndim == 0:
        res = _make(a.copy())
    else:
        res = _make(_accumulate(np.logaddexp, a, d))
    if _rec(x):
        def rule(n, g):
            (v,) = n.saved()
            r = n.result()
            if v.ndim == 0:
                return g
            dd = n.dim
            # gx_i = sum_{j>=i} g_j exp(x_i - r_j), split by the sign of g for stability
            from .elementwise import where
            low = _make(np.asarray(np.finfo(g._data.dtype).min, dtype=g._data.dtype))
            lag = g.abs().log()
            lg_pos = where(g > 0, lag, low) - r
            lg_neg = where(g < 0, lag, low) - r
            pos = logcumsumexp(lg_pos.flip(dd), dd).flip(dd)
            neg = logcumsumexp(lg_neg.flip(dd), dd).flip(dd)
            return (v + pos).exp() - (v + neg).exp()
        _node("LogcumsumexpBackward0", rule, (x,), res, saved=(x,), result=True, dim=d)
    return _out(res, out)


def _pick(x, idx, d, keepdim, values_data):
    """values = x gathered at idx along d (differentiable through gather)."""
    from .indexing import gather
    it = _make(np.expand_dims(idx, d))
    v = gather(x, d, it)
    if not keepdim:
        v = v.squeeze(d)
    return v


def _median_core(a, d, nan_aware):
    key = a
    order = np.argsort(key, axis=d, kind="stable")
    n = a.shape[d]
    if nan_aware and a.dtype.kind in "fV":
        cnt = (~np.isnan(a)).sum(axis=d, keepdims=True)
        k = np.maximum((cnt - 1) // 2, 0)
    else:
        k = _gam(a).full([1 if i == d else s for i, s in enumerate(a.shape)], (n - 1) // 2)
        if a.dtype.kind in "fV":
            # NaN propagates: the median of a row holding NaN is NaN (first NaN's index)
            hasnan = np.isnan(a).any(axis=d, keepdims=True)
            cnt_ok = (~np.isnan(a)).sum(axis=d, keepdims=True)
            k = np.where(hasnan, cnt_ok, k)
    idx = np.take_along_axis(order, k, axis=d)
    return np.squeeze(idx, d)


def median(x, dim=None, keepdim=False, *, out=None):
    return _median(x, dim, keepdim, False, "median", out)


def nanmedian(x, dim=None, keepdim=False, *, out=None):
    return _median(x, dim, keepdim, True, "nanmedian", out)


NanmedianRT = _rt("nanmedian", ("values", "indices"))


def _fw_active():
    """True while a forward-AD dual level is active: ops then take their composite path, whose
    inner ops carry tangents."""
    from ..autograd import forward_ad
    return forward_ad._active_level is not None


def _evenly_distribute(n, g):
    """PyTorch's evenly_distribute_backward: the gradient is shared by every element equal to
    the result (every NaN when the result is NaN)."""
    (x,) = n.saved()
    r = n.result()
    mask = (x == r).logical_or(x.isnan().logical_and(r.isnan()))
    return mask.to(g.dtype) * (g / mask.sum())


def _value_selecting(n, g):
    """PyTorch's value_selecting_reduction_backward: the gradient goes to the selected index."""
    idx = n.idx
    gg = g
    if not n.keepdim:
        gg = gg.unsqueeze(n.dim)
    from .indexing import scatter
    return scatter(_make(_gam(g._data).zeros(n.shape, g._data.dtype)), n.dim, idx, gg)


def _median_out(name, dim, out):
    if out is None:
        return
    if dim is None:
        raise TypeError(f'{name}() missing 1 required positional arguments: "dim"')
    if isinstance(out, Tensor) or not isinstance(out, (tuple, list)):
        raise TypeError(f"{name}(): argument 'out' must be tuple of Tensors, not "
                        f"{type(out).__name__}")


def _median(x, dim, keepdim, nan_aware, name, out=None):
    _median_out(name, dim, out)
    a = x._data
    node = "Nanmedian" if nan_aware else "Median"
    RT = NanmedianRT if nan_aware else MedianRT
    fw = _fw_active()
    if dim is None:
        if a.size == 0:
            return _make(_gam(a).full((), np.nan, dtype=a.dtype))
        idx = _median_core(a.reshape(-1), 0, nan_aware)
        if fw:
            return _pick(x.reshape(-1), _arr(idx), 0, False, None)
        res = _make(_arr(a.reshape(-1)[int(idx)]))
        if _rec(x):
            _node(node + "Backward0", _evenly_distribute, (x,), res, saved=(x,), result=True)
        return res
    if a.ndim == 0:
        r = RT(x.clone(), _make(_gam(a).zeros((), np.int64)))
        return _tuple_out(r, out, RT)
    d = wrap_dim(dim, a.ndim)
    if a.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    idx = _median_core(a, d, nan_aware)
    ik = np.expand_dims(idx, d)
    ii = _make(_arr(ik if keepdim else idx, np.int64))
    if fw:
        vals = _pick(x, idx, d, keepdim, None)
    else:
        v = np.take_along_axis(a, ik, d)
        vals = _make(_contig(v if keepdim else np.squeeze(v, d)))
        if _rec(x):
            _node(node + "Backward1", _value_selecting, (x,), vals,
                  idx=_make(_arr(ik, np.int64)), dim=d, keepdim=keepdim,
                  shape=a.shape)
    return _tuple_out(RT(vals, ii), out, RT)


def _tuple_out(r, out, RT):
    """Write a (values, indices) result into out=(values, indices), PyTorch-style."""
    from .reduce import _o2
    return _o2(r, out, RT.__name__)


def mode(x, dim=-1, keepdim=False, *, out=None):
    if out is not None:
        from .reduce import _check_tuple_out, _o2
        _check_tuple_out("mode", out)
        return _o2(mode(x, dim, keepdim), out, "mode")
    a = x._data
    if a.ndim == 0:
        return ModeRT(x.clone(), _make(_gam(a).zeros((), np.int64)))
    d = wrap_dim(dim, a.ndim)
    m = np.moveaxis(a, d, -1)
    shp = m.shape[:-1]
    n = m.shape[-1]
    m2 = m.reshape(-1, n)
    rows = m2.shape[0]
    order = np.argsort(m2, axis=-1, kind="stable")
    s = np.take_along_axis(m2, order, -1)
    new = np.ones_like(s, dtype=bool)
    if n > 1:
        new[:, 1:] = s[:, 1:] != s[:, :-1]
    run = np.cumsum(new, axis=1) - 1
    xp = _gam(a)
    lens = xp.zeros((rows, n), np.int64)
    _scatter_add(lens, (xp.repeat(xp.arange(rows), n), run.reshape(-1)), 1)
    cnt = np.take_along_axis(lens, run, 1)
    best = np.argmax(cnt, axis=1)  # first position of the most frequent run: smallest value
    # PyTorch reports the last occurrence of that value
    last = best + np.take_along_axis(cnt, best[:, None], 1)[:, 0] - 1
    idx = order[xp.arange(rows), last].reshape(shp)
    idx_d = np.moveaxis(idx[..., None], -1, d) if keepdim else idx
    vals = _pick(x, idx, d, keepdim, None)
    return ModeRT(vals, _make(_arr(idx_d, np.int64)))


def _quantile(x, q, dim, keepdim, interpolation, nan_aware, name):
    if type(x._data) is not np.ndarray:  # CuPy: the order statistics run on the host
        qc = q.cpu() if isinstance(q, Tensor) else q
        return _quantile(x.cpu(), qc, dim, keepdim, interpolation, nan_aware, name).to(x.device)
    name = "quantile"  # PyTorch's messages say quantile() for nanquantile too
    a = x._data
    if a.dtype.kind != "f" or a.dtype == np.float16:  # not bfloat16 (kind 'V') either
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    scalar_q = not isinstance(q, Tensor)
    if scalar_q:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q:g}")
        qa = np.asarray([float(q)], dtype=a.dtype)
    else:
        qa = q._data
        if qa.dtype != a.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        if qa.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        qa = qa.reshape(-1)
    if ((qa < 0) | (qa > 1)).any():
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    if dim is None:
        xs = x.reshape(-1)
        d = 0
    else:
        d = wrap_dim(dim, builtins.max(a.ndim, 1))
        xs = x if a.ndim else x.reshape(1)
    srt = xs.sort(d).values
    sd = srt._data
    n = sd.shape[d]
    if n == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    nanmask = np.isnan(sd)
    if nan_aware:
        cnt = (~nanmask).sum(axis=d, keepdims=True)
    else:
        cnt = np.full([1 if i == d else s for i, s in enumerate(sd.shape)], n)
    allnan = cnt == 0 if nan_aware else nanmask.any(axis=d, keepdims=True)
    # positions: one slice per q, stacked in front
    qs = qa.reshape((-1,) + (1,) * sd.ndim).astype(np.float64)
    pos = qs * (np.maximum(cnt, 1) - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.ceil(pos).astype(np.int64)
    if interpolation == "lower":
        hi = lo
    elif interpolation == "higher":
        lo = hi
    elif interpolation == "nearest":
        lo = hi = np.round(pos).astype(np.int64)  # round half to even, as PyTorch
    frac = pos - lo
    if interpolation == "midpoint":
        frac = np.where(hi > lo, 0.5, 0.0)
    elif interpolation != "linear":
        frac = np.zeros_like(pos)
    from .indexing import gather
    outs = []
    shape = list(sd.shape)
    for i in builtins.range(qa.shape[0]):
        li = np.broadcast_to(lo[i], shape[:d] + [1] + shape[d + 1:])
        hi_i = np.broadcast_to(hi[i], li.shape)
        vlo = gather(srt, d, _make(np.ascontiguousarray(li)))
        vhi = gather(srt, d, _make(np.ascontiguousarray(hi_i)))
        f = _make(np.ascontiguousarray(np.broadcast_to(frac[i], li.shape)).astype(a.dtype))
        if not scalar_q and interpolation == "linear" and q._rg and grad_state.enabled:
            # the weight depends on q: keep that dependence differentiable
            qi = q.reshape(-1)[i]
            span = _make(np.ascontiguousarray(np.broadcast_to(np.maximum(cnt, 1) - 1, li.shape)
                                              ).astype(a.dtype))
            f = qi * span - _make(li.astype(a.dtype))
        v = vlo + (vhi - vlo) * f
        if allnan.any():
            from .indexing import masked_fill
            v = masked_fill(v, _make(np.ascontiguousarray(np.broadcast_to(allnan, li.shape))),
                            math.nan)
        if dim is None:
            v = v.reshape(())
            if keepdim:
                v = v.reshape((1,) * a.ndim)
        elif not keepdim:
            v = v.squeeze(d) if a.ndim else v.reshape(())
        outs.append(v)
    if scalar_q:
        return outs[0]
    from .movement import stack
    return stack(outs, 0)


_Q_SIGS = (" * (Tensor input, Tensor q, int dim = None, bool keepdim = False, *, str "
           "interpolation = \"linear\", Tensor out = None)\n * (Tensor input, float q, int dim "
           "= None, bool keepdim = False, *, str interpolation = \"linear\", Tensor out = None)\n")


def _quantile_tuple_out(name, q, dim, out):
    if isinstance(out, (tuple, list)):
        from .reduce import _combo
        got = "Tensor, " + ("Tensor" if isinstance(q, Tensor) else type(q).__name__) + \
            (", int" if dim is not None else "") + ", out=" + type(out).__name__
        raise _combo(name, got, _Q_SIGS)


def _quantile_out(res, x, out, name):
    if out is None:
        return res
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out._data.dtype != x._data.dtype:
        raise RuntimeError("quantile() out tensor must be same dtype as the input tensor")
    return _out(res.detach(), out)  # PyTorch's quantile is a composite: out= with grad is fine


def quantile(x, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    _quantile_tuple_out("quantile", q, dim, out)
    return _quantile_out(_quantile(x, q, dim, keepdim, interpolation, False, "quantile"), x,
                         out, "quantile")


def nanquantile(x, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    _quantile_tuple_out("nanquantile", q, dim, out)
    return _quantile_out(_quantile(x, q, dim, keepdim, interpolation, True, "nanquantile"), x,
                         out, "nanquantile")


def aminmax(x, *, dim=None, keepdim=False, out=None):
    if out is not None:
        from .reduce import _check_tuple_out, _o2
        _check_tuple_out("aminmax", out)
        return _o2(aminmax(x, dim=dim, keepdim=keepdim), out, "aminmax")
    from .reduce import amax, amin
    a = x._data
    if a.size == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    if dim is None:
        mn, mx = amin(x), amax(x)
        if keepdim:
            mn, mx = mn.reshape((1,) * a.ndim), mx.reshape((1,) * a.ndim)
        return AminmaxRT(mn, mx)
    return AminmaxRT(amin(x, dim, keepdim), amax(x, dim, keepdim))


# ---------------------------------------------------------------- differences and integrals
def diff(x, n=1, dim=-1, prepend=None, append=None):
    from .movement import cat
    a = x._data
    if a.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = wrap_dim(dim, a.ndim)
    if prepend is not None or append is not None:
        parts = []
        for p in (prepend,):
            if p is not None:
                p = _t(p, x)
                parts.append(p if p._data.ndim else p.expand(
                    *[1 if i == d else s for i, s in enumerate(a.shape)]))
        parts.append(x)
        if append is not None:
            p = _t(append, x)
            parts.append(p if p._data.ndim else p.expand(
                *[1 if i == d else s for i, s in enumerate(a.shape)]))
        x = cat(parts, d)
    for _ in builtins.range(n):
        L = x.shape[d]
        if L == 0:
            break
        hi, lo = x.narrow(d, 1, L - 1), x.narrow(d, 0, L - 1)
        x = hi.logical_xor(lo) if x._data.dtype == np.bool_ else hi - lo
    return x


def _trap_dx(y, x, dx, d):
    if x is not None:
        if isinstance(x, Tensor):
            xd = x
            if xd._data.ndim == 1:
                shape = [1] * y._data.ndim
                shape[d] = xd._data.shape[0]
                xd = xd.reshape(shape)
            return diff(xd, dim=d if x._data.ndim != 1 else d)
        return x
    return 1 if dx is None else dx


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """PyTorch's formulas (aten/native/Integration.cpp), integer arithmetic included."""
    from .reduce import sum as _sum
    a = y._data
    if a.dtype == np.bool_:
        raise RuntimeError("trapezoid: received a bool input for `y`, but bool is not supported")
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d]
    if n == 0:
        z = _sum(y, d)
        return z.to(D.default.dtype) * 0 if a.dtype.kind not in "fcV" else z * 0
    h = _trap_dx(y, x, dx, d)
    if isinstance(h, Tensor):
        return (h * (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1))).sum(d) / 2.0
    ends = y.select(d, 0) + y.select(d, -1)
    return (_sum(y, d) - ends * 0.5) * float(h)


def trapz(y, x=None, *, dx=None, dim=-1):
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    from .reduce import cumsum
    a = y._data
    if a.dtype == np.bool_:
        raise RuntimeError("cumulative_trapezoid: received a bool input for `y`, but bool is not "
                           "supported")
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d]
    h = _trap_dx(y, x, dx, d)
    m = builtins.max(n - 1, 0)
    mid = y.narrow(d, 1, m) + y.narrow(d, 0, m)
    if isinstance(h, Tensor):
        return cumsum(h * mid / 2.0, d)
    return cumsum(mid * (float(h) / 2.0), d)


# ---------------------------------------------------------------- Tensor methods
def _bind():
    m = {"gcd": gcd, "lcm": lcm, "unique": unique, "unique_consecutive": unique_consecutive,
         "bincount": bincount, "histc": histc, "histogram": histogram,
         "nan_to_num": nan_to_num, "nansum": nansum, "nanmean": nanmean,
         "allclose": allclose, "isclose": isclose, "equal": equal, "hypot": hypot,
         "logaddexp": logaddexp, "logaddexp2": logaddexp2, "xlogy": xlogy, "sinc": sinc,
         "deg2rad": deg2rad, "rad2deg": rad2deg, "heaviside": heaviside, "copysign": copysign,
         "nextafter": nextafter, "frexp": frexp, "ldexp": ldexp, "logcumsumexp": logcumsumexp,
         "median": median, "nanmedian": nanmedian, "mode": mode, "quantile": quantile,
         "nanquantile": nanquantile, "aminmax": aminmax, "diff": diff,
         "float_power": float_power, "positive": positive, "angle": angle,
         "isin": lambda x, t, **kw: isin(x, t, **kw), "resolve_conj": resolve_conj,
         "resolve_neg": resolve_neg, "is_conj": is_conj, "is_neg": is_neg,
         "conj_physical": conj_physical, "adjoint": adjoint}
    from .reduce import std_mean, var_mean
    m["std_mean"], m["var_mean"] = std_mean, var_mean
    for k, f in m.items():
        if k not in Tensor.__dict__ or k == "float_power":
            setattr(Tensor, k, f)
    from .elementwise import bitwise_left_shift as _lsh
    from .elementwise import bitwise_right_shift as _rsh
    ops = {"__rlshift__": lambda x, o: _lsh(_t(o, x), x), "__rrshift__": lambda x, o: _rsh(
        _t(o, x), x)}
    for k, f in ops.items():
        if k not in Tensor.__dict__:
            setattr(Tensor, k, f)
    from . import inplace
    if "__ilshift__" not in Tensor.__dict__:
        Tensor.__ilshift__ = inplace(_lsh, "bitwise_left_shift")
        Tensor.__irshift__ = inplace(_rsh, "bitwise_right_shift")
        Tensor.bitwise_left_shift_ = Tensor.__dict__.get("bitwise_left_shift_",
                                                         Tensor.__ilshift__)
        Tensor.bitwise_right_shift_ = Tensor.__dict__.get("bitwise_right_shift_",
                                                          Tensor.__irshift__)
    for k in ("gcd", "lcm", "hypot", "xlogy", "sinc", "deg2rad", "rad2deg", "heaviside",
              "copysign", "nextafter", "ldexp", "logaddexp", "nan_to_num"):
        if k + "_" not in Tensor.__dict__:
            setattr(Tensor, k + "_", inplace(m[k], k))


_bind()
