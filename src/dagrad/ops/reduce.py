"""Reductions: sum, mean, prod, max/min, amax/amin, arg*, var/std, logsumexp, norm, cum*, softmax."""
import builtins
import collections
import math

from ..backend import accumulate as _accumulate
from ..backend import get_array_module as _gam
from . import derivatives as R
from ._core import (
    D,
    Tensor,
    _make,
    arr,
    dims_arg,
    float_array,
    grad_state,
    link,
    link_multi,
    np,
    save,
    save_result,
    via_f32,
    wrap_dim,
)
from .elementwise import _out, _pt_name

_builtin_any = builtins.any
_ndarray = np.ndarray
_add_reduce = np.add.reduce
_NP_INT_SUM = {"b", "i", "u"}

values_indices = collections.namedtuple("torch_return_types", ["values", "indices"])


class _ReturnType(tuple):
    """PyTorch's torch.return_types.*: a tuple with named fields that prints like PyTorch."""
    _fields = ("values", "indices")

    def __new__(cls, values, indices, name="max"):
        t = tuple.__new__(cls, (values, indices))
        t._name = name
        return t

    values = property(lambda self: self[0])
    indices = property(lambda self: self[1])

    def __repr__(self):
        return (f"torch.return_types.{self._name}(\nvalues={self[0]!r},\n"
                f"indices={self[1]!r})")


def _rt(name, fields):
    """A named result tuple (torch.return_types.<name>)."""
    class RT(tuple):
        __slots__ = ()
        _fields = fields

        def __new__(cls, *vals):
            return tuple.__new__(cls, vals)

        def __repr__(self):
            body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
            return f"torch.return_types.{name}(\n{body})"

    for i, f in enumerate(fields):
        setattr(RT, f, property(lambda self, i=i: self[i]))
    RT.__name__ = name
    return RT


MaxRT = _rt("max", ("values", "indices"))
MinRT = _rt("min", ("values", "indices"))
SortRT = _rt("sort", ("values", "indices"))
TopkRT = _rt("topk", ("values", "indices"))
AminmaxRT = _rt("aminmax", ("min", "max"))
KthRT = _rt("kthvalue", ("values", "indices"))
MedianRT = _rt("median", ("values", "indices"))
ModeRT = _rt("mode", ("values", "indices"))
CummaxRT = _rt("cummax", ("values", "indices"))
CumminRT = _rt("cummin", ("values", "indices"))


def _is_bf16(dtype):
    try:
        return D.to_dtype(dtype) is D.bfloat16
    except TypeError:
        return False


def _sum_dtype(a, dtype):
    if dtype is not None:
        return D.to_dtype(dtype).np
    if a.dtype.kind in _NP_INT_SUM:
        return np.int64
    return None


# ---------------------------------------------------------------- out= (PyTorch's messages)
_DIDNT = "      didn't match because some of the keywords were incorrect: "
_SIGS = {
    "sum": (" * (Tensor input, *, torch.dtype dtype = None)\n * (Tensor input, tuple of ints dim, "
            "bool keepdim = False, *, torch.dtype dtype = None, Tensor out = None)\n"),
    "prod": (" * (Tensor input, *, torch.dtype dtype = None)\n * (Tensor input, int dim, bool "
             "keepdim = False, *, torch.dtype dtype = None, Tensor out = None)\n"),
    "mean": (" * (Tensor input, *, torch.dtype dtype = None, Tensor out = None)\n * (Tensor "
             "input, tuple of ints dim, bool keepdim = False, *, torch.dtype dtype = None, Tensor "
             "out = None)\n"),
}


def _combo(name, got, sigs):
    """PyTorch's argument-parser TypeError (positional arguments as given positionally)."""
    return TypeError(f"{name}() received an invalid combination of arguments - got ({got}), but "
                     f"expected one of:\n{sigs}")


def _maxmin_sigs(bad):
    return (f" * (Tensor input, *, Tensor out = None)\n{_DIDNT}{bad}\n * (Tensor input, Tensor "
            f"other, *, Tensor out = None)\n * (Tensor input, int dim, bool keepdim = False, *, "
            f"tuple of Tensors out = None)\n")


def _varmean_sigs(bad):
    return (" * (Tensor input, tuple of ints dim, bool unbiased = True, bool keepdim = False)\n"
            " * (Tensor input, tuple of ints dim = None, *, Number correction = None, bool "
            "keepdim = False)\n * (Tensor input, bool unbiased = True)\n" +
            (f"{_DIDNT}out\n" if bad else ""))


def _no_grad_out(name, res):
    if res._rg and grad_state.enabled:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           f"differentiation, but one of the arguments requires grad.")


def _o(res, out, name, kind=None):
    """out= of a one-output reduction, with PyTorch's op-named messages."""
    if out is None:
        return res
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    _no_grad_out(name, res)
    return _out(res, out, kind)


def _check_tuple_out(name, out):
    if out is not None and not isinstance(out, (tuple, list)):
        raise TypeError(f"{name}(): argument 'out' must be tuple of Tensors, not "
                        f"{type(out).__name__}")


def _o2(r, out, name):
    """out=(values, indices) of a two-output reduction."""
    if out is None:
        return r
    _check_tuple_out(name, out)
    _no_grad_out(name, r[0])
    _out(r[0], out[0])
    _out(r[1], out[1])
    return _out_rt(type(r).__name__, r._fields)(out[0], out[1])


_OUT_RTS = {}


def _out_rt(name, fields):
    """torch.return_types.<name>_out: the result type of the out= variant."""
    rt = _OUT_RTS.get(name)
    if rt is None:
        rt = _OUT_RTS[name] = _rt(name + "_out", fields)
    return rt


_VS_SIGS = (" * (Tensor input, tuple of ints dim, bool unbiased = True, bool keepdim = False, *, "
            "Tensor out = None)\n * (Tensor input, tuple of ints dim = None, *, Number "
            "correction = None, bool keepdim = False, Tensor out = None)\n * (Tensor input, bool "
            "unbiased = True)\n")
_LOGICAL_SIGS = (" * (Tensor input, *, Tensor out = None)\n{bad} * (Tensor input, tuple of ints "
                 "dim = None, bool keepdim = False, *, Tensor out = None)\n * (Tensor input, int "
                 "dim, bool keepdim = False, *, Tensor out = None)\n")


def _tuple_given(out):
    return isinstance(out, (tuple, list))


def _missing_dim(name):
    return TypeError(f'{name}() missing 1 required positional arguments: "dim"')


def sum(x, dim=None, keepdim=False, *, dtype=None, out=None):  # noqa: A001
    a = x._data
    if dim is None and not keepdim and dtype is None and out is None and a.dtype.kind == "f":
        if type(a) is _ndarray:  # one C call to a 0-d array (a.sum() is Python + a scalar)
            res = _make(_add_reduce(a, None, None, None, True).reshape(()))
        else:
            r = a.sum()
            res = _make(arr(r) if type(r) is not type(a) else r)
        if x._rg and grad_state.enabled:
            n = R.SumBackward0()
            n.shape = a.shape
            link(n, res, x)
        return res
    if dtype is not None and out is None and _is_bf16(dtype) and a.dtype.kind != "V":
        x, a, dtype = x.to(D.bfloat16), None, None  # dtype=bfloat16: cast, then as below
        a = x._data
    if a.dtype.kind == "V" and dtype is None and out is None:  # bfloat16: float32 accumulation
        return via_f32(sum, x, dim, keepdim)
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        dim = None
    if out is not None and dim is None:  # torch.sum(x, out=...) needs dim
        if keepdim or dtype is not None:
            raise _missing_dim("sum")
        raise _combo("sum", "Tensor, out=" + type(out).__name__, _SIGS["sum"])
    if out is not None and dtype is None and isinstance(out, Tensor):
        dtype = out.dtype  # PyTorch sums in the out= tensor's dtype
    nd = _sum_dtype(a, dtype)
    if dim is None:
        r = a.sum(dtype=nd)
        if keepdim:
            r = r.reshape((1,) * a.ndim)
        res = _make(arr(r))
        if x._rg and grad_state.enabled:
            if keepdim:
                n = R.SumBackward1()
                n.dims, n.keepdim = tuple(range(a.ndim)), True
            else:
                n = R.SumBackward0()
            n.shape = a.shape
            link(n, res, x)
        return _o(res, out, "sum")
    dims = dims_arg(dim, a.ndim)
    r = a.sum(axis=dims, dtype=nd, keepdims=keepdim)
    res = _make(arr(r))
    if x._rg and grad_state.enabled:
        n = R.SumBackward1()
        n.shape, n.dims, n.keepdim = a.shape, dims, keepdim
        link(n, res, x)
    return _o(res, out, "sum")


def sum_to_size(x, *size):
    """Sum x down to `size` (the engine's unbroadcast, differentiable)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    a = x._data
    shape = tuple(size)
    if a.shape == shape:
        return x
    lead = a.ndim - len(shape)
    if lead < 0 or _builtin_any(s != 1 and s != a.shape[i + lead] for i, s in enumerate(shape)):
        raise RuntimeError(
            f"size {{{list(shape)}}} is not expandable to size {{{list(a.shape)}}}.")
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and a.shape[i + lead] != 1)
    r = a.sum(axis=axes, keepdims=True) if axes else a
    if lead:
        r = r.reshape(shape)
    res = _make(arr(r))
    if x._rg and grad_state.enabled:
        n = R.SumToSizeBackward()
        n.shape = a.shape
        link(n, res, x)
    return res


def mean(x, dim=None, keepdim=False, *, dtype=None, out=None):
    if dtype is not None and out is None and _is_bf16(dtype) and x._data.dtype.kind != "V":
        x, dtype = x.to(D.bfloat16), None  # dtype=bfloat16: cast, then float32 accumulation
    if x._data.dtype.kind == "V" and dtype is None and out is None:  # bfloat16
        return via_f32(mean, x, dim, keepdim)
    if out is not None and not isinstance(out, Tensor):
        raise _combo("mean", ("Tensor, int, " if dim is not None else "Tensor, ") + "out=" +
                     type(out).__name__, _SIGS["mean"])
    if out is not None and (dim is None or isinstance(dim, (list, tuple)) and not dim) \
            and keepdim:
        raise _combo("mean", "Tensor, out=Tensor, keepdim=bool", _SIGS["mean"])
    if out is not None and dtype is None and out._data.dtype.kind in "fcV" and \
            x._data.dtype.kind in "fcV":
        dtype = out.dtype  # computed in the out= tensor's dtype, as PyTorch
    a = x._data
    if dtype is not None:
        a = a.astype(D.to_dtype(dtype).np)
    elif a.dtype.kind not in "fcV":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {_scalar_name(a.dtype)}")
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        dim = None
    if dim is None:
        with np.errstate(invalid="ignore", divide="ignore"):
            r = a.mean(keepdims=keepdim) if a.size else _gam(a).full((), np.nan, a.dtype)
        if keepdim and a.size == 0:
            r = r.reshape((1,) * a.ndim)
        res = _make(arr(r, dtype=a.dtype))
        if x._rg and grad_state.enabled:
            if keepdim:
                n = R.MeanBackward1()
                n.dims, n.keepdim = tuple(range(a.ndim)), True
            else:
                n = R.MeanBackward0()
            n.shape, n.count = a.shape, a.size  # (builtin max is shadowed by the op here)
            link(n, res, x)
        return _o(res, out, "mean")
    dims = dims_arg(dim, a.ndim)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = a.mean(axis=dims, keepdims=keepdim)
    res = _make(arr(r, dtype=a.dtype))
    if x._rg and grad_state.enabled:
        n = R.MeanBackward1()
        cnt = 1
        for d in dims:
            cnt *= a.shape[d]
        n.shape, n.dims, n.keepdim, n.count = a.shape, dims, keepdim, cnt
        link(n, res, x)
    return _o(res, out, "mean")


def prod(x, dim=None, keepdim=False, *, dtype=None, out=None):
    a = x._data
    if dtype is not None and out is None and _is_bf16(dtype) and a.dtype.kind != "V":
        x, dtype = x.to(D.bfloat16), None  # dtype=bfloat16: cast, then float32 accumulation
        a = x._data
    if a.dtype.kind == "V" and dtype is None and out is None:  # bfloat16
        return via_f32(prod, x, dim, keepdim)
    if out is not None and dim is None:
        if keepdim or dtype is not None:
            raise _missing_dim("prod")
        raise _combo("prod", "Tensor, out=" + type(out).__name__, _SIGS["prod"])
    if out is not None and dtype is None and isinstance(out, Tensor):
        dtype = out.dtype  # computed in the out= tensor's dtype, as sum
    nd = _sum_dtype(a, dtype)
    if dim is None:
        res = _make(arr(a.prod(dtype=nd)))
        if x._rg and grad_state.enabled:
            n = R.ProdBackward0()
            n.dim, n.keepdim = None, False
            save(n, x)
            link(n, res, x)
        return res
    d = wrap_dim(dim, a.ndim)
    if not a.ndim:  # a 0-d tensor accepts dim 0 / -1: nothing is reduced
        d = None
    res = _make(arr(a.prod(axis=d, dtype=nd, keepdims=keepdim)))
    if x._rg and grad_state.enabled:
        n = R.ProdBackward1()
        n.dim, n.keepdim = d, keepdim
        save(n, x)
        link(n, res, x)
    return _o(res, out, "prod")


def _scalar_name(npdt):
    from ..tensor import _SCALAR_NAME
    n = D.from_np(npdt).name
    return _SCALAR_NAME.get(n, n)


def _check_nonempty(a, op, dim=None):
    if a.size == 0:
        if dim is None:
            if op in ("argmax", "argmin"):
                raise IndexError(
                    f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")
            raise RuntimeError(
                f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                f"Specify the reduction dim with the 'dim' argument.")
        if a.shape[dim] == 0:
            raise IndexError(
                f"{op}(): Expected reduction dim {dim} to have non-zero size.")


def _amax_like(x, dim, keepdim, np_fn, node_cls, opname):
    a = x._data
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        dims = tuple(range(a.ndim))
    else:
        dims = dims_arg(dim, a.ndim)
    if a.size == 0:
        for d in dims:
            if a.shape[d] == 0:
                raise IndexError(
                    f"{opname}(): Expected reduction dim {d} to have non-zero size.")
    r = np_fn(a, axis=dims, keepdims=keepdim)
    res = _make(arr(r))
    if x._rg and grad_state.enabled:
        n = node_cls()
        n.dims, n.keepdim = dims, keepdim
        save(n, x)
        save_result(n, res)
        link(n, res, x)
    return res


def _exact_dtype_out(x, out):
    if isinstance(out, Tensor) and out._data.dtype != x._data.dtype:
        raise RuntimeError(f"Expected the dtype for input and out to match, but got "
                           f"{_scalar_name(x._data.dtype)} for input's dtype and "
                           f"{_scalar_name(out._data.dtype)} for out's dtype.")


def amax(x, dim=(), keepdim=False, *, out=None):
    if out is None:
        return _amax_like(x, dim, keepdim, np.max, R.AmaxBackward0, "amax")
    _exact_dtype_out(x, out)
    return _o(_amax_like(x, dim, keepdim, np.max, R.AmaxBackward0, "amax"), out, "amax")


def amin(x, dim=(), keepdim=False, *, out=None):
    if out is None:
        return _amax_like(x, dim, keepdim, np.min, R.AminBackward0, "amin")
    _exact_dtype_out(x, out)
    return _o(_amax_like(x, dim, keepdim, np.min, R.AminBackward0, "amin"), out, "amin")


def _max_min(x, dim, keepdim, which, other=None):
    if isinstance(dim, Tensor):  # torch.max(a, b) is maximum
        from .elementwise import maximum, minimum
        return (maximum if which == "max" else minimum)(x, dim)
    a = x._data
    if dim is None:
        if a.size == 0:
            raise RuntimeError(
                f"{which}(): Expected reduction dim to be specified for input.numel() == 0. "
                f"Specify the reduction dim with the 'dim' argument.")
        np_fn = np.max if which == "max" else np.min
        node = R.MaxBackward1 if which == "max" else R.MinBackward1
        r = np_fn(a)
        if a.dtype.kind in "fV" and np.isnan(a).any():
            r = np.full_like(r, np.nan)  # (in r's array module: CuPy too)
        res = _make(arr(r))
        if x._rg and grad_state.enabled:
            n = node()
            n.dims, n.keepdim = tuple(range(a.ndim)), False
            save(n, x)
            save_result(n, res)
            link(n, res, x)
        return res
    d = wrap_dim(dim, a.ndim)
    if a.ndim and a.shape[d] == 0:
        raise IndexError(
            f"{which}(): Expected reduction dim {d} to have non-zero size.")
    ad = a if a.ndim else a.reshape(1)
    idx = (np.argmax if which == "max" else np.argmin)(ad, axis=d if a.ndim else 0,
                                                        keepdims=True)
    vals = np.take_along_axis(ad, idx, axis=d if a.ndim else 0)
    if not keepdim or not a.ndim:
        idx = idx.squeeze(d if a.ndim else 0)
        vals = vals.squeeze(d if a.ndim else 0)
    v = _make(arr(vals))
    i = _make(arr(idx, dtype=np.int64))
    if x._rg and grad_state.enabled:
        n = (R.MaxBackward0 if which == "max" else R.MinBackward0)()
        n.dim, n.keepdim, n.shape = d if a.ndim else 0, keepdim or not a.ndim, a.shape
        save(n, i)
        link_multi(n, (v, None), x)
        n._n_out = 2
    return (MaxRT if which == "max" else MinRT)(v, i)


def _max_min_out(x, dim, keepdim, which, out):
    if isinstance(dim, Tensor):  # torch.max(a, b, out=...) is maximum
        from .elementwise import maximum, minimum
        return (maximum if which == "max" else minimum)(x, dim, out=out)
    if dim is None:
        if keepdim:
            raise _combo(which, "Tensor, out=Tensor, keepdim=bool", _maxmin_sigs("out, keepdim"))
        if not isinstance(out, Tensor):
            raise TypeError(f"{which}(): argument 'out' must be Tensor, not "
                            f"{type(out).__name__}")
        r = _max_min(x, dim, keepdim, which)
        if not np.can_cast(r._data.dtype, out._data.dtype, casting="same_kind"):
            raise RuntimeError(
                "Expected canCast( typeMetaToScalarType(self.dtype()), typeMetaToScalarType("
                "out.dtype())) to be true, but got false.  (Could this error message be "
                "improved?  If so, please report an enhancement request to PyTorch.)")
        return _o(r, out, which)
    if isinstance(out, Tensor) and not keepdim:
        raise _combo(which, "Tensor, int, out=Tensor", _maxmin_sigs("out"))
    _check_tuple_out(which, out)
    return _o2(_max_min(x, dim, keepdim, which), out, which)


def max(x, dim=None, keepdim=False, *, out=None):  # noqa: A001
    if out is not None:
        return _max_min_out(x, dim, keepdim, "max", out)
    return _max_min(x, dim, keepdim, "max")


def min(x, dim=None, keepdim=False, *, out=None):  # noqa: A001
    if out is not None:
        return _max_min_out(x, dim, keepdim, "min", out)
    return _max_min(x, dim, keepdim, "min")


def _arg_extreme(x, dim, keepdim, np_fn, name):
    a = x._data
    if a.dtype == np.bool_:
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is None:
        _check_nonempty(a, name)
        r = arr(np_fn(a), np.int64)
        if keepdim:
            r = r.reshape((1,) * a.ndim)
        return _make(r)
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        return _make(arr(0, dtype=np.int64))
    return _make(arr(np_fn(a, axis=d, keepdims=keepdim), dtype=np.int64))


def argmax(x, dim=None, keepdim=False, *, out=None):
    return _o(_arg_extreme(x, dim, keepdim, np.argmax, "argmax"), out, "argmax", "exact")


def argmin(x, dim=None, keepdim=False, *, out=None):
    return _o(_arg_extreme(x, dim, keepdim, np.argmin, "argmin"), out, "argmin", "exact")


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def _var_std(x, dim, unbiased, keepdim, correction, which):
    if isinstance(dim, bool):  # var(unbiased) positional form
        unbiased, dim = dim, None
    a = x._data
    if a.dtype.kind == "V":  # bfloat16
        return via_f32(_var_std, x, dim, unbiased, keepdim, correction, which)
    if a.dtype.kind not in "fcV":
        raise RuntimeError(
            "std and var only support floating point and complex dtypes")
    c = _correction(unbiased, correction)
    dims = dims_arg(dim, a.ndim) if dim is not None else tuple(range(a.ndim))
    cnt = 1
    for d in dims:
        cnt *= a.shape[d]
    with np.errstate(invalid="ignore", divide="ignore"):
        if cnt - c <= 0:
            import warnings
            warnings.warn(f"{which}(): degrees of freedom is <= 0. Correction should be strictly "
                          f"less than the reduction factor (input numel divided by output numel). "
                          f"(Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/"
                          f"ReduceOps.cpp:1861.)", UserWarning, stacklevel=3)
        v = a.var(axis=dims, ddof=0, keepdims=keepdim) * (cnt / (cnt - c) if cnt - c > 0
                                                          else np.inf)
        if which == "std":
            v = np.sqrt(v)
    res = _make(arr(v, dtype=a.dtype))
    if x._rg and grad_state.enabled:
        n = R.VarBackward0() if which == "var" else R.StdBackward0()
        n.dims, n.keepdim, n.count, n.correction = dims, keepdim, cnt, c
        save(n, x)
        if which == "std":
            save_result(n, res)
        link(n, res, x)
    return res


def _vs_tuple_out(name, dim, out):
    if _tuple_given(out):
        raise _combo(name, ("Tensor, int, " if dim is not None else "Tensor, ") + "out=" +
                     type(out).__name__, _VS_SIGS + ("" if dim is not None else _DIDNT + "out\n"))


def _vs_out_input(x, out):
    """std/var with a float out= of another dtype compute in that dtype, as PyTorch."""
    if isinstance(out, Tensor) and out._data.dtype != x._data.dtype and \
            out._data.dtype.kind == "f" and x._data.dtype.kind == "f":
        return _make(x._data.astype(out._data.dtype))
    return x


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    _vs_tuple_out("var", dim, out)
    if out is not None:
        _no_grad_out("var", x)
        x = _vs_out_input(x, out)
    return _o(_var_std(x, dim, unbiased, keepdim, correction, "var"), out, "var")


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    _vs_tuple_out("std", dim, out)
    if out is not None:
        _no_grad_out("std", x)
        x = _vs_out_input(x, out)
    return _o(_var_std(x, dim, unbiased, keepdim, correction, "std"), out, "std")


def var_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    if out is not None:  # PyTorch has no out= here
        raise _combo("var_mean", ("Tensor, int, " if dim is not None else "Tensor, ") + "out=" +
                     type(out).__name__, _varmean_sigs(dim is None))
    return (var(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim))


def std_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    if out is not None:
        raise _combo("std_mean", ("Tensor, int, " if dim is not None else "Tensor, ") + "out=" +
                     type(out).__name__, _varmean_sigs(dim is None))
    return (std(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim))


def logsumexp(x, dim=None, keepdim=False, *, out=None):
    if out is not None:
        if dim is None:
            raise _missing_dim("logsumexp")
        if isinstance(out, Tensor) and out._data.dtype.kind not in "fcV":
            raise RuntimeError(f"logsumexp(): Expected floating point type for result tensor, but "
                               f"got: {_scalar_name(out._data.dtype)}")
        return _o(logsumexp(x, dim, keepdim), out, "logsumexp")
    if x._data.dtype.kind == "V":  # bfloat16
        return via_f32(logsumexp, x, dim, keepdim)
    a = float_array(x)
    if dim is None:
        dim = tuple(range(a.ndim))
    dims = dims_arg(dim, a.ndim)
    if a.size == 0:
        r = np.log(np.exp(a).sum(axis=dims, keepdims=keepdim))
    else:
        m = np.max(a, axis=dims, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):
            r = np.log(np.exp(a - m).sum(axis=dims, keepdims=True)) + m
        if not keepdim:
            r = r.reshape(tuple(s for i, s in enumerate(a.shape) if i not in dims))
    res = _make(arr(r, dtype=a.dtype))
    if x._rg and grad_state.enabled:
        n = R.LogsumexpBackward0()
        n.dims, n.keepdim = dims, keepdim
        save(n, x)
        save_result(n, res)
        link(n, res, x)
    return res


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    a = x._data
    if a.dtype.kind == "V" and dtype is None:  # bfloat16
        return via_f32(vector_norm, x, ord, dim, keepdim)
    if dtype is not None:
        a = a.astype(D.to_dtype(dtype).np)
    if a.dtype.kind not in "fcV":
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{_pt_name(a.dtype)}")
    dims = dims_arg(dim, a.ndim) if dim is not None else tuple(range(a.ndim))
    ab = np.abs(a)
    if ord == 2:
        r = np.sqrt((ab * ab).sum(axis=dims, keepdims=keepdim))
    elif ord == 1:
        r = ab.sum(axis=dims, keepdims=keepdim)
    elif ord == math.inf:
        r = ab.max(axis=dims, keepdims=keepdim) if a.size else np.zeros(())
    elif ord == -math.inf:
        r = ab.min(axis=dims, keepdims=keepdim)
    elif ord == 0:
        r = (ab != 0).sum(axis=dims, keepdims=keepdim).astype(ab.dtype)
    else:
        r = (ab ** ord).sum(axis=dims, keepdims=keepdim) ** (1.0 / ord)
    res = _make(arr(r, dtype=ab.dtype))
    if x._rg and grad_state.enabled:
        n = R.LinalgVectorNormBackward0()
        n.ord, n.dims, n.keepdim = ord, dims, keepdim
        save(n, x)
        save_result(n, res)
        link(n, res, x)
    return res


def norm(x, p="fro", dim=None, keepdim=False, dtype=None, *, out=None):
    if out is not None:
        return _o(norm(x, p, dim, keepdim, dtype), out, "linalg_vector_norm", "exact")
    if p == "fro" and isinstance(dim, (tuple, list)) and len(dim) > 2:
        raise RuntimeError(
            f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(str(d) for d in dim)}")
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        from .. import linalg
        return linalg.matrix_norm(x, "nuc", dim if dim is not None else (-2, -1), keepdim)
    return vector_norm(x, p, dim, keepdim, dtype=dtype)


def cumsum(x, dim=None, *, dtype=None, out=None):
    if dim is None:
        raise _missing_dim("cumsum")
    a = x._data
    if dtype is not None and out is None and _is_bf16(dtype) and a.dtype.kind != "V":
        x, dtype = x.to(D.bfloat16), None  # dtype=bfloat16: cast, then float32 accumulation
        a = x._data
    if a.dtype.kind == "V" and dtype is None and out is None:  # bfloat16
        return via_f32(cumsum, x, dim)
    if out is not None and dtype is None and isinstance(out, Tensor):
        if out._data.dtype == np.bool_:
            raise NotImplementedError('"cumsum_out_cpu" not implemented for \'Bool\'')
        od = out._data.dtype
        if od.kind in "iu" or od.itemsize > a.dtype.itemsize:
            dtype = out.dtype  # PyTorch computes in the out= dtype (a wider float accumulates)
    d = wrap_dim(dim, a.ndim)
    nd = _sum_dtype(a, dtype)
    r = np.cumsum(a, axis=d, dtype=nd) if a.ndim else a.astype(nd or a.dtype).copy()
    res = _make(r)
    if x._rg and grad_state.enabled:
        n = R.CumsumBackward0()
        n.dim = d
        link(n, res, x)
    return _o(res, out, "cumsum")


def cumprod(x, dim=None, *, dtype=None, out=None):
    if dim is None:
        raise _missing_dim("cumprod")
    a = x._data
    if dtype is not None and out is None and _is_bf16(dtype) and a.dtype.kind != "V":
        x, dtype = x.to(D.bfloat16), None  # dtype=bfloat16: cast, then float32 accumulation
        a = x._data
    if a.dtype.kind == "V" and dtype is None and out is None:  # bfloat16
        return via_f32(cumprod, x, dim)
    if out is not None and dtype is None and isinstance(out, Tensor):
        if out._data.dtype == np.bool_:
            raise NotImplementedError('"cumprod_out_cpu" not implemented for \'Bool\'')
        dtype = out.dtype  # PyTorch computes cumprod in the out= dtype
    d = wrap_dim(dim, a.ndim)
    nd = _sum_dtype(a, dtype)
    r = np.cumprod(a, axis=d, dtype=nd) if a.ndim else a.astype(nd or a.dtype).copy()
    res = _make(r)
    if x._rg and grad_state.enabled:
        n = R.CumprodBackward0()
        n.dim = d
        save(n, x)
        save_result(n, res)
        link(n, res, x)
    return _o(res, out, "cumprod")


def _logical_reduce(np_fn, x, dim, keepdim):
    a = x._data
    if dim is None:
        r = arr(np_fn(a))
    else:
        r = arr(np_fn(a, axis=dims_arg(dim, a.ndim), keepdims=keepdim))
    if a.dtype == np.uint8:  # PyTorch keeps uint8 for all/any of a uint8 tensor
        r = r.astype(np.uint8)
    return _make(r)


def _bool_out(name, out):
    if isinstance(out, Tensor) and out._data.dtype not in (np.bool_, np.uint8):
        raise RuntimeError(f"{name} only supports bool tensor for result, got: "
                           f"{_scalar_name(out._data.dtype)}")


def _logical_tuple_out(name, dim, out):
    if _tuple_given(out):
        raise _combo(name, ("Tensor, int, " if dim is not None else "Tensor, ") + "out=" +
                     type(out).__name__,
                     _LOGICAL_SIGS.format(bad=_DIDNT + "out\n" if dim is not None else ""))


def all(x, dim=None, keepdim=False, *, out=None):  # noqa: A001
    if out is not None:
        _logical_tuple_out("all", dim, out)
        _bool_out("all", out)
        return _o(_logical_reduce(np.all, x, dim, keepdim), out, "all")
    return _logical_reduce(np.all, x, dim, keepdim)


def any(x, dim=None, keepdim=False, *, out=None):  # noqa: A001
    if out is not None:
        _logical_tuple_out("any", dim, out)
        _bool_out("any", out)
        return _o(_logical_reduce(np.any, x, dim, keepdim), out, "any")
    return _logical_reduce(np.any, x, dim, keepdim)


_CNZ_SIGS = (" * (Tensor input, int dim = None)\n{bad} * (Tensor input, tuple of ints dim)\n"
             "{bad}")


def count_nonzero(x, dim=None, *, out=None):
    if out is not None:  # PyTorch has no out= here
        bad = "" if dim is not None else _DIDNT + "out\n"
        raise _combo("count_nonzero", ("Tensor, int, " if dim is not None else "Tensor, ") +
                     "out=" + type(out).__name__, _CNZ_SIGS.format(bad=bad))
    a = x._data
    if dim is None:
        return _make(arr(np.count_nonzero(a), dtype=np.int64))
    return _make(arr(np.count_nonzero(a, axis=dims_arg(dim, a.ndim)), dtype=np.int64))


def _softmax_np(a, d):
    m = a.max(axis=d, keepdims=True)
    e = np.exp(a - m)
    e /= e.sum(axis=d, keepdims=True)
    return e


def _implicit_dim(ndim):
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_int_error(op, a, d):
    from ..tensor import _SCALAR_NAME
    kernel = f"{op}_lastdim_kernel_impl" if d == a.ndim - 1 or a.ndim == 0 else f"{op}_kernel_impl"
    raise NotImplementedError(
        f"\"{kernel}\" not implemented for '{_SCALAR_NAME[D.from_np(a.dtype).name]}'")


def softmax(x, dim=None, _stacklevel=3, dtype=None):
    a = x._data
    if a.dtype.kind == "V" and dtype is None:  # bfloat16
        return via_f32(softmax, x, dim, _stacklevel)
    if dtype is not None:
        a = a.astype(D.to_dtype(dtype).np)
    if dim is None:
        dim = _implicit_dim(a.ndim)
    d = wrap_dim(dim, a.ndim)
    if dtype is None and a.dtype.kind not in "fcV":
        _softmax_int_error("softmax", a, d)
    r = _softmax_np(a, d) if a.ndim else np.ones_like(a)
    res = _make(r)
    if x._rg and grad_state.enabled:
        n = R.SoftmaxBackward0()
        n.dim = d
        save_result(n, res)
        link(n, res, x)
    return res


def log_softmax(x, dim=None, _stacklevel=3, dtype=None):
    a = x._data
    if a.dtype.kind == "V" and dtype is None:  # bfloat16
        return via_f32(log_softmax, x, dim, _stacklevel)
    if dtype is not None:
        a = a.astype(D.to_dtype(dtype).np)
    if dim is None:
        dim = _implicit_dim(a.ndim)
    d = wrap_dim(dim, a.ndim)
    if dtype is None and a.dtype.kind not in "fcV":
        _softmax_int_error("log_softmax", a, d)
    if a.ndim:
        m = a.max(axis=d, keepdims=True)
        s = a - m
        r = s - np.log(np.exp(s).sum(axis=d, keepdims=True))
    else:
        r = np.zeros_like(a)
    res = _make(r)
    if x._rg and grad_state.enabled:
        n = R.LogSoftmaxBackward0()
        n.dim = d
        save_result(n, res)
        link(n, res, x)
    return res


def cummax(x, dim=None, *, out=None):
    if dim is None:
        raise _missing_dim("cummax")
    _check_tuple_out("cummax", out)
    return _o2(_cumext(x, dim, np.maximum, CummaxRT, R.CummaxBackward0), out, "cummax")


def cummin(x, dim=None, *, out=None):
    if dim is None:
        raise _missing_dim("cummin")
    _check_tuple_out("cummin", out)
    return _o2(_cumext(x, dim, np.minimum, CumminRT, R.CumminBackward0), out, "cummin")


def _cumext(x, dim, ufunc, rt, node_cls):
    a = x._data
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        return rt(_make(a.copy()), _make(np.zeros((), np.int64)))
    vals = _accumulate(ufunc, a, d)
    n = a.shape[d]
    ar = _gam(a).arange(n).reshape((-1,) + (1,) * (a.ndim - d - 1))
    # the running extremum's index: last position where the running value was attained
    hit = np.where(a == vals, ar, -1)
    idx = _accumulate(np.maximum, hit, d).astype(np.int64)
    v, i = _make(vals), _make(idx)
    if x._rg and grad_state.enabled:
        nd = node_cls()
        nd.dim, nd.shape = d, a.shape
        save(nd, i)
        link_multi(nd, (v, None), x)
        nd._n_out = 2
    return rt(v, i)
