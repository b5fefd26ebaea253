"""Elementwise forward kernels: arithmetic, unary math, activations, comparisons, logic."""
import math

from . import derivatives as R
from ._core import (
    _SCALAR_ARRS,
    D,
    Tensor,
    _make,
    arr,
    as_tensor_arg,
    bf16r,
    check_inplace,
    float_array,
    grad_state,
    link,
    np,
    promote_arrays,
    same_device,
    save,
    save_result,
    scalar_arr,
    scalar_operand,
    via_f32,
)

_SCALAR_TYPES = (int, float, bool, complex)


def _shape_err(op, a, b):
    return RuntimeError(
        f"The size of tensor a ({_dimsz(a, b, 0)}) must match the size of tensor b "
        f"({_dimsz(a, b, 1)}) at non-singleton dimension {_baddim(a, b)}")


def _baddim(a, b):
    sa, sb = a.shape, b.shape
    n = max(len(sa), len(sb))
    sa = (1,) * (n - len(sa)) + tuple(sa)
    sb = (1,) * (n - len(sb)) + tuple(sb)
    for i in range(n - 1, -1, -1):
        if sa[i] != sb[i] and sa[i] != 1 and sb[i] != 1:
            return i
    return 0


def _dimsz(a, b, which):
    sa, sb = a.shape, b.shape
    n = max(len(sa), len(sb))
    sa = (1,) * (n - len(sa)) + tuple(sa)
    sb = (1,) * (n - len(sb)) + tuple(sb)
    i = _baddim(a, b)
    return (sa, sb)[which][i]


def _meta2(a, b, xa, xb, r):
    """Per-input (shape, dtype) when the output differs from an input (broadcast/promotion)."""
    rs, rd = r.shape, r.dtype
    ma = None if (xa.shape == rs and a._data.dtype == rd) else (a._data.shape, a._data.dtype)
    mb = None if (xb.shape == rs and b._data.dtype == rd) else (b._data.shape, b._data.dtype)
    if ma is None and mb is None:
        return None
    return (ma, mb)


def _binary_tt(ufunc, a, b, opname):
    xa, xb = promote_arrays(a, b)
    try:
        return xa, xb, ufunc(xa, xb)
    except ValueError:
        raise _shape_err(opname, a, b) from None


def _coerce_other(b):
    if isinstance(b, Tensor):
        return b
    if isinstance(b, _SCALAR_TYPES):
        return b
    if isinstance(b, np.generic):
        return b.item()
    if isinstance(b, (np.ndarray, list, tuple)):
        return as_tensor_arg(b)
    raise TypeError(f"unsupported operand type(s): 'Tensor' and '{type(b).__name__}'")


def _needs_grad(*ts):
    if not grad_state.enabled:
        return False
    for t in ts:
        if t is not None and t._rg:
            return True
    return False


# ---------------------------------------------------------------- add / sub / mul / div
def add(a, b, *, alpha=1, out=None):
    if type(b) is Tensor and alpha == 1 and out is None and type(a) is Tensor:
        xa, xb = a._data, b._data
        if xa.dtype == xb.dtype and xa.shape == xb.shape:
            try:
                res = _make(xa + xb)
            except TypeError:  # NumPy meets CuPy: a CPU scalar moves, else PyTorch's error
                xa, xb = same_device(xa, xb)
                res = _make(xa + xb)
            if (a._rg or b._rg) and grad_state.enabled:
                link(R.AddBackward0(), res, a, b)
            return res
    a = as_tensor_arg(a) if not isinstance(a, Tensor) else a
    b = _coerce_other(b)
    if type(b) is Tensor or isinstance(b, Tensor):
        if alpha != 1:
            if a._data.dtype == np.bool_ and b._data.dtype == np.bool_:
                b = b if alpha else logical_and(b, False)  # bool alpha: truthiness
            elif a._data.dtype.kind == "V" == b._data.dtype.kind and out is None:
                return via_f32(add, a, b, alpha=bf16r(alpha))  # bf16: x + bf16(alpha) * y
            else:
                b = mul(b, alpha)
        xa, xb, r = _binary_tt(np.add, a, b, "add")
        res = _make(r)
        if grad_state.enabled and (a._rg or b._rg):
            n = R.AddBackward0()
            n._meta = _meta2(a, b, xa, xb, r)
            link(n, res, a, b)
        return _out(res, out)
    if a._data.dtype.kind == "V" and type(b) is not complex and out is None:
        # bfloat16: x + bf16(alpha) * bf16(b) in float32, one rounding (PyTorch)
        return via_f32(add, a, bf16r(b), alpha=bf16r(alpha) if alpha != 1 else 1)
    xa, s = scalar_operand(a._data, b * alpha if alpha != 1 else b)
    res = _make(xa + s)
    if a._rg and grad_state.enabled:
        n = R.AddScalarBackward()
        if xa.dtype != a._data.dtype:
            n._meta = ((a._data.shape, a._data.dtype), None)
        link(n, res, a, None)
    return _out(res, out)


def sub(a, b, *, alpha=1, out=None):
    if type(b) is Tensor and alpha == 1 and out is None and type(a) is Tensor:
        xa, xb = a._data, b._data
        if xa.dtype == xb.dtype and xa.shape == xb.shape and xa.dtype.kind != "b":
            try:
                res = _make(xa - xb)
            except TypeError:  # NumPy meets CuPy
                xa, xb = same_device(xa, xb)
                res = _make(xa - xb)
            if (a._rg or b._rg) and grad_state.enabled:
                link(R.SubBackward0(), res, a, b)
            return res
    a = as_tensor_arg(a) if not isinstance(a, Tensor) else a
    b = _coerce_other(b)
    if isinstance(b, Tensor):
        if a._data.dtype == np.bool_ and b._data.dtype == np.bool_:
            raise RuntimeError(
                "Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
                "`^` or `logical_xor()` operator instead.")
        if a._data.dtype == np.bool_ or b._data.dtype == np.bool_:
            raise RuntimeError(
                "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
        if alpha != 1:
            if a._data.dtype.kind == "V" == b._data.dtype.kind and out is None:
                return via_f32(sub, a, b, alpha=bf16r(alpha))  # bf16: x - bf16(alpha) * y
            b = mul(b, alpha)
        xa, xb, r = _binary_tt(np.subtract, a, b, "sub")
        res = _make(r)
        if grad_state.enabled and (a._rg or b._rg):
            n = R.SubBackward0()
            n._meta = _meta2(a, b, xa, xb, r)
            link(n, res, a, b)
        return _out(res, out)
    if a._data.dtype == np.bool_ or isinstance(b, bool):
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    if a._data.dtype.kind == "V" and type(b) is not complex and out is None:
        # bfloat16: x - bf16(alpha) * bf16(b) in float32, one rounding (PyTorch)
        return via_f32(sub, a, bf16r(b), alpha=bf16r(alpha) if alpha != 1 else 1)
    xa, s = scalar_operand(a._data, b * alpha)
    res = _make(xa - s)
    if a._rg and grad_state.enabled:
        n = R.SubScalarBackward()
        if xa.dtype != a._data.dtype:
            n._meta = ((a._data.shape, a._data.dtype), None)
        link(n, res, a, None)
    return _out(res, out)


def rsub(a, b, alpha=1):
    """b - alpha * a (Tensor.__rsub__)."""
    b = _coerce_other(b)
    if isinstance(b, Tensor):
        r = sub(b, a, alpha=alpha)
        if type(r.grad_fn) is R.SubBackward0:
            r.grad_fn.__class__ = _RsubTensorBackward
        return r
    if a._data.dtype == np.bool_ or isinstance(b, bool):
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    if a._data.dtype.kind == "V" and type(b) is not complex:  # bfloat16: PyTorch's bf16 scalar
        return via_f32(rsub, a, bf16r(b), bf16r(alpha) if alpha != 1 else 1)
    xa, s = scalar_operand(a._data, b)
    res = _make(s - xa * alpha if alpha != 1 else s - xa)
    if a._rg and grad_state.enabled:
        n = R.RsubBackward1()
        n.alpha = alpha
        if xa.dtype != a._data.dtype:
            n._meta = ((a._data.shape, a._data.dtype),)
        link(n, res, a)
    return res


_RsubTensorBackward = type("RsubBackward0", (R.SubBackward0,), {})


def mul(a, b, *, out=None):
    if out is None and type(a) is Tensor:
        tb = type(b)
        if tb is Tensor:
            xa, xb = a._data, b._data
            if xa.dtype == xb.dtype and xa.shape == xb.shape:
                try:
                    res = _make(xa * xb)
                except TypeError:  # NumPy meets CuPy
                    xa, xb = same_device(xa, xb)
                    res = _make(xa * xb)
                if (a._rg or b._rg) and grad_state.enabled:
                    n = R.MulBackward0()
                    save(n, a, b)
                    link(n, res, a, b)
                return res
        elif (tb is float or tb is int) and a._data.dtype.kind == "f":
            xa = a._data
            s = _SCALAR_ARRS.get((b, xa.dtype))
            if s is None:
                s = scalar_arr(b, xa.dtype)
            if type(xa) is not np.ndarray:  # CuPy takes no NumPy operand, not even 0-d
                s = b
            res = _make(xa * s)
            if a._rg and grad_state.enabled:
                n = R.MulScalarBackward()
                n.other = b
                n.other_arr = s
                link(n, res, a, None)
            return res
    a = as_tensor_arg(a) if not isinstance(a, Tensor) else a
    b = _coerce_other(b)
    if isinstance(b, Tensor):
        xa, xb, r = _binary_tt(np.multiply, a, b, "mul")
        res = _make(r)
        if grad_state.enabled and (a._rg or b._rg):
            n = R.MulBackward0()
            n._meta = _meta2(a, b, xa, xb, r)
            save(n, a, b)
            link(n, res, a, b)
        return _out(res, out)
    if a._data.dtype.kind == "V" and type(b) is not complex and out is None:  # bfloat16: float32(x) * float32(s), one rounding (PyTorch)
        return via_f32(mul, a, b)
    xa, s = scalar_operand(a._data, b)
    res = _make(xa * s)
    if a._rg and grad_state.enabled:
        n = R.MulScalarBackward()
        n.other = b
        if xa.dtype != a._data.dtype:
            n._meta = ((a._data.shape, a._data.dtype), None)
        link(n, res, a, None)
    return _out(res, out)


class _DivRoundingBackward(R.Node):
    """div with a rounding_mode: piecewise constant, zero gradient for both inputs."""

    def backward(self, g):
        z = g * 0
        return tuple(z if self.needs(i) else None for i in range(len(self.next_functions)))


_DivRoundingBackward.__name__ = "DivBackward2"


def div(a, b, *, rounding_mode=None, out=None):
    a = as_tensor_arg(a) if not isinstance(a, Tensor) else a
    b = _coerce_other(b)
    if rounding_mode is not None and _needs_grad(a, b if isinstance(b, Tensor) else None):
        res = div(a.detach(), b.detach() if isinstance(b, Tensor) else b,
                  rounding_mode=rounding_mode)
        if res._data.dtype.kind in "fcV":
            n = _DivRoundingBackward()
            ins = (a, b) if isinstance(b, Tensor) else (a,)
            n._meta = tuple(None if t._data.shape == res._data.shape and t._data.dtype ==
                            res._data.dtype else (t._data.shape, t._data.dtype) for t in ins)
            link(n, res, *ins)
        return _out(res, out)
    if rounding_mode is not None:
        if rounding_mode == "floor":
            return floor_divide(a, b, out=out)
        if rounding_mode == "trunc":
            if a._data.dtype == np.bool_ and (not isinstance(b, Tensor) and type(b) is bool or
                                               isinstance(b, Tensor) and b._data.dtype == np.bool_):
                raise NotImplementedError("\"div_trunc_cpu\" not implemented for 'Bool'")
            r = true_divide(a, b)
            if a.dtype.category <= D.INT and (not isinstance(b, Tensor) or b.dtype.category
                                              <= D.INT) and not isinstance(b, float):
                return _out(_make(np.trunc(r._data).astype(
                    D.result_type(a, b).np)), out)
            return _out(trunc(r), out)
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'")
    return _out(true_divide(a, b), out)


def true_divide(a, b):
    if isinstance(b, Tensor):
        xa, xb = promote_arrays(a, b)
        if xa.dtype.kind not in "fcV":
            xa = xa.astype(D.default.np)
            xb = xb.astype(D.default.np)
        try:
            with np.errstate(divide="ignore", invalid="ignore"):
                r = xa / xb
        except ValueError:
            raise _shape_err("div", a, b) from None
        res = _make(r)
        if grad_state.enabled and (a._rg or b._rg):
            n = R.DivBackward0()
            n._meta = _meta2(a, b, xa, xb, r)
            save(n, a, b)
            link(n, res, a, b)
        return res
    xd = a._data
    tb = type(b)
    if (tb is float or tb is int) and xd.dtype.kind == "f" and type(a) is Tensor:
        s = _SCALAR_ARRS.get((b, xd.dtype))
        if s is None:
            s = scalar_arr(b, xd.dtype)
        # a cached nonzero finite divisor (no division by zero), and a NumPy x: CuPy takes no
        # NumPy operand, not even 0-d
        if type(s) is np.ndarray and type(xd) is np.ndarray:
            res = _make(xd / s)
            if a._rg and grad_state.enabled:
                n = R.DivScalarBackward()
                n.other = b
                n.other_arr = s
                link(n, res, a, None)
            return res
    if xd.dtype.kind == "V" and type(b) is not complex:  # bfloat16: float32(x) / float32(s), one rounding
        return via_f32(true_divide, a, b)
    if xd.dtype.kind not in "fcV" and not isinstance(b, complex):
        xd = xd.astype(D.default.np)  # before the scalar is cast: uint8 / -3 is -1/3, not 1/253
    xa, s = scalar_operand(xd, b)
    if xa.dtype.kind not in "fcV":
        xa = xa.astype(D.default.np)
    with np.errstate(divide="ignore", invalid="ignore"):
        res = _make(xa / s)
    if a._rg and grad_state.enabled:
        n = R.DivScalarBackward()
        n.other = b
        if xa.dtype != a._data.dtype:
            n._meta = ((a._data.shape, a._data.dtype), None)
        link(n, res, a, None)
    return res


def rdiv(a, b):
    """b / a for a Python scalar b (PyTorch: reciprocal(a) * b -> MulBackward0)."""
    b = _coerce_other(b)
    if isinstance(b, Tensor):
        return true_divide(b, a)
    return mul(reciprocal(a), b)


def _int_division_operands(a, b, kernel):
    """Promoted operands of floor_divide / remainder, with PyTorch's bool and x/0 errors."""
    a = as_tensor_arg(a) if not isinstance(a, Tensor) else a
    b = _coerce_other(b)
    if isinstance(b, Tensor):
        xa, xb = promote_arrays(a, b)
    else:
        xa, xb = scalar_operand(a._data, b)
    if xa.dtype == np.bool_:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    if xa.dtype.kind in "iu" and (bool((xb == 0).any()) if hasattr(xb, "shape") else xb == 0):
        raise RuntimeError("ZeroDivisionError")
    return a, b, xa, xb


def floor_divide(a, b, *, out=None):
    a, b, xa, xb = _int_division_operands(a, b, "div_floor_cpu")
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.floor_divide(xa, xb)
    return _out(_make(r), out)


def remainder(a, b, *, out=None):
    a, b, xa, xb = _int_division_operands(a, b, "remainder_cpu")
    try:
        r = np.remainder(xa, xb)
    except ValueError:
        raise _shape_err("remainder", a, b) from None
    res = _make(r)
    bt = b if isinstance(b, Tensor) else None
    if grad_state.enabled and (a._rg or (bt is not None and bt._rg)):
        # d/da (a - floor(a/b)*b) = 1; d/db = -floor(a/b)
        n = _RemainderBackward()
        if bt is not None:
            n.__class__ = _RemainderBackward1
            n._meta = _meta2(a, bt, xa, xb, r)
            if bt._rg:
                n.q = _make(np.floor_divide(xa, xb))
            link(n, res, a, bt)
        else:
            link(n, res, a)
    return _out(res, out)


class _RemainderBackward(R.Node):
    def backward(self, g):
        if len(self.next_functions) == 2:
            return (g if self.needs(0) else None), (-g * self.q if self.needs(1) else None)
        return g


class _RemainderBackward1(_RemainderBackward):
    pass


_RemainderBackward.__name__ = "RemainderBackward0"
_RemainderBackward1.__name__ = "RemainderBackward1"


def fmod(a, b, *, out=None):
    b = _coerce_other(b)
    if isinstance(b, Tensor):
        xa, xb = promote_arrays(a, b)
    else:
        xa, xb = scalar_operand(a._data, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.fmod(xa, xb)
    res = _make(r)
    bt = b if isinstance(b, Tensor) else None
    if grad_state.enabled and (a._rg or (bt is not None and bt._rg)):
        n = _FmodBackward()
        if bt is not None:
            # d/da = 1; d/db = -trunc(a/b)
            n.__class__ = _FmodBackward1
            n._meta = _meta2(a, bt, xa, xb, r)
            if bt._rg:
                with np.errstate(divide="ignore", invalid="ignore"):
                    n.q = _make(np.trunc(xa / xb))
            link(n, res, a, bt)
        else:
            if r.shape != a._data.shape or r.dtype != a._data.dtype:
                n._meta = ((a._data.shape, a._data.dtype),)
            link(n, res, a)
    return _out(res, out)


class _FmodBackward(_RemainderBackward):
    def backward(self, g):
        return g


class _FmodBackward1(_RemainderBackward):
    pass


_FmodBackward.__name__ = "FmodBackward0"
_FmodBackward1.__name__ = "FmodBackward1"


# ---------------------------------------------------------------- pow
def pow(a, b, *, out=None):  # noqa: A001
    tb = type(b)
    if (tb is int or tb is float) and out is None and type(a) is Tensor:
        xa = a._data
        if xa.dtype.kind in "fV" and (b == 2 or b == 3):
            res = _make(xa * xa if b == 2 else xa * xa * xa)
            if a._rg and grad_state.enabled:
                n = R.PowBackward0()
                n.exponent = b
                save(n, a)
                link(n, res, a)
            return res
    if not isinstance(a, Tensor):
        return _rpow(b, a)
    b = _coerce_other(b)
    if isinstance(b, Tensor):
        xa, xb = promote_arrays(a, b)
        if xa.dtype == np.bool_:
            raise NotImplementedError("\"pow\" not implemented for 'Bool'")
        if xa.dtype.kind in "iu" and np.any(xb < 0):
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            try:
                r = np.power(xa, xb)
            except ValueError:
                raise _shape_err("pow", a, b) from None
        res = _make(r)
        if grad_state.enabled and (a._rg or b._rg):
            n = R.PowBackward1()
            n._meta = _meta2(a, b, xa, xb, r)
            save(n, a, b)
            save_result(n, res)
            link(n, res, a, b)
        return _out(res, out)
    if a._data.dtype.kind in "iub" and type(b) is int and b < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    xa, s = scalar_operand(a._data, b)
    if xa.dtype == np.bool_ and type(s) is bool:  # PyTorch: b ** True is b (bool)
        r = xa.copy() if s else np.ones_like(xa)
    elif s == 2:
        r = xa * xa
    elif s == 3:
        r = xa * xa * xa
    elif s == 0.5 and xa.dtype.kind in "fV":
        r = np.sqrt(xa)
    else:
        r = xa ** s
    res = _make(r)
    if a._rg and grad_state.enabled:
        n = R.PowBackward0()
        n.exponent = b
        if r.dtype != a._data.dtype:  # real base, complex exponent: the engine keeps Re(grad)
            n._meta = ((a._data.shape, a._data.dtype),)
        save(n, a)
        link(n, res, a)
    return _out(res, out)


def _rpow(base, x):
    """base ** x with a Python scalar base (PowBackward2)."""
    if isinstance(base, Tensor):
        return pow(base, x)
    if type(base) is bool and x._data.dtype == np.bool_:
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    xe = x._data
    if isinstance(base, float) and xe.dtype.kind not in "fcV":
        xe = xe.astype(D.default.np)
    xe2, b = scalar_operand(xe, base)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = np.power(np.asarray(b, dtype=xe2.dtype)[()] if xe2.dtype.kind in "fcV" else b, xe2)
    if r.dtype != xe2.dtype and xe2.dtype.kind in "fcV":
        r = r.astype(xe2.dtype)
    res = _make(r)
    if x._rg and grad_state.enabled:
        n = R.PowBackward2()
        n.base = base
        if r.dtype != x._data.dtype:  # complex base, real exponent: the engine keeps Re(grad)
            n._meta = ((x._data.shape, x._data.dtype),)
        save_result(n, res)
        link(n, res, x)
    return res


def square(x):
    return pow(x, 2)


# ---------------------------------------------------------------- unary family
def _unary(np_fn, node_cls, saves, float_only=True, name=None):
    """Build a unary op. saves: 'x' (input), 'out' (result) or None."""
    def op(x, *, out=None):
        if not isinstance(x, Tensor):
            x = as_tensor_arg(x)
        arr = float_array(x) if float_only else x._data
        if arr.dtype.kind == "V":  # bfloat16: computed in float32, rounded once (PyTorch)
            r = np_fn(arr.astype(np.float32)).astype(arr.dtype)
        else:
            r = np_fn(arr)
        res = _make(r)
        if x._rg and grad_state.enabled and node_cls is not None:
            n = node_cls()
            if saves == "x":
                save(n, x)
            elif saves == "out":
                save_result(n, res)
            link(n, res, x)
        if out is not None:
            return _out(res, out)
        return res
    op.__name__ = name or np_fn.__name__
    return op


def _cupyx_special(a):
    """cupyx.scipy.special for a CuPy array (NumPy's frompyfunc fallback cannot run there)."""
    if type(a) is np.ndarray or not type(a).__module__.startswith("cupy"):
        return None
    import cupyx.scipy.special as sp  # noqa: PLC0415
    return sp


def _erf_np(a):
    sp = _cupyx_special(a)
    if sp is not None:
        return sp.erf(a).astype(a.dtype, copy=False)
    try:
        from scipy.special import erf as _e  # noqa: PLC0415
        return _e(a).astype(a.dtype, copy=False)
    except ImportError:
        return _erf_fallback(a)


def _erf_fallback(a):
    # Abramowitz-Stegun 7.1.26 is too coarse for float64; use math.erf elementwise instead.
    f = np.frompyfunc(math.erf, 1, 1)
    return f(a).astype(a.dtype)


def _erfinv_np(a):
    sp = _cupyx_special(a)
    if sp is not None:
        return sp.erfinv(a).astype(a.dtype, copy=False)
    try:
        from scipy.special import erfinv as _e  # noqa: PLC0415
        return _e(a).astype(a.dtype, copy=False)
    except ImportError:
        # Newton iterations from a rational first guess
        y = a.astype(np.float64)
        w = np.log((1.0 - y) * (1.0 + y))  # Winitzki's guess (the sign of w was flipped: NaN)
        x = np.sign(y) * np.sqrt(np.sqrt((2 / (np.pi * 0.147) + w / 2) ** 2 - w / 0.147)
                                 - (2 / (np.pi * 0.147) + w / 2))
        erf = np.frompyfunc(math.erf, 1, 1)
        for _ in range(4):
            err = erf(x).astype(np.float64) - y
            x = x - err / (2 / np.sqrt(np.pi) * np.exp(-x * x))
        return x.astype(a.dtype)


def _rsqrt_np(a):
    return 1 / np.sqrt(a)


def _sigmoid_np(a):
    if a.dtype.kind == "c":  # complex: 1 / (1 + e^-z) (|z| would drop the phase)
        return 1 / (1 + np.exp(-a))
    # exp(-|x|) never overflows; both halves are exact
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


def _exp2_np(a):
    return np.exp2(a)


def _frac_np(a):
    return a - np.trunc(a)


def _sign_np(a):
    return np.sign(a)


def _round_np(a):
    return np.round(a)


exp = _unary(np.exp, R.ExpBackward0, "out", name="exp")
exp2 = _unary(_exp2_np, R.Exp2Backward0, "out", name="exp2")
expm1 = _unary(np.expm1, R.Expm1Backward0, "out", name="expm1")
log = _unary(np.log, R.LogBackward0, "x", name="log")
def _via_f64(fn):
    """float32/float16 through float64 (NumPy's float32 log10/log2 are not correctly rounded:
    log10(100) = 2.0000002 where torch gives 2)."""
    def f(a):
        if a.dtype in (np.float32, np.float16):
            return fn(a.astype(np.float64)).astype(a.dtype)
        return fn(a)
    return f


log2 = _unary(_via_f64(np.log2), R.Log2Backward0, "x", name="log2")
log10 = _unary(_via_f64(np.log10), R.Log10Backward0, "x", name="log10")
log1p = _unary(np.log1p, R.Log1PBackward0, "x", name="log1p")
sqrt = _unary(np.sqrt, R.SqrtBackward0, "out", name="sqrt")
rsqrt = _unary(_rsqrt_np, R.RsqrtBackward0, "out", name="rsqrt")
sin = _unary(np.sin, R.SinBackward0, "x", name="sin")
cos = _unary(np.cos, R.CosBackward0, "x", name="cos")
tan = _unary(np.tan, R.TanBackward0, "out", name="tan")
asin = _unary(np.arcsin, R.AsinBackward0, "x", name="asin")
acos = _unary(np.arccos, R.AcosBackward0, "x", name="acos")
atan = _unary(np.arctan, R.AtanBackward0, "x", name="atan")
sinh = _unary(np.sinh, R.SinhBackward0, "x", name="sinh")
cosh = _unary(np.cosh, R.CoshBackward0, "x", name="cosh")
tanh = _unary(np.tanh, R.TanhBackward0, "out", name="tanh")
asinh = _unary(np.arcsinh, R.AsinhBackward0, "x", name="asinh")
acosh = _unary(np.arccosh, R.AcoshBackward0, "x", name="acosh")
atanh = _unary(np.arctanh, R.AtanhBackward0, "x", name="atanh")
sigmoid = _unary(_sigmoid_np, R.SigmoidBackward0, "out", name="sigmoid")
erf = _unary(_erf_np, R.ErfBackward0, "x", name="erf")
erfc = _unary(lambda a: (1 - _erf_np(a)).astype(a.dtype), R.ErfcBackward0, "x", name="erfc")
erfinv = _unary(_erfinv_np, R.ErfinvBackward0, "out", name="erfinv")
_frac_unary = _unary(_frac_np, R.FracBackward0, None, float_only=False, name="frac")


def frac(x, *, out=None):
    if x._data.dtype.kind in "iub":
        from ..tensor import _SCALAR_NAME
        raise NotImplementedError(
            f"\"frac_cpu\" not implemented for '{_SCALAR_NAME[D.from_np(x._data.dtype).name]}'")
    return _frac_unary(x, out=out)
arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh


def _no_bool(a, kernel):
    if a.dtype == np.bool_:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _int_passthrough(np_fn, node_cls, name):
    """floor/ceil/round/trunc: identity on integer tensors, zero gradient."""
    def op(x, *, out=None):
        if not isinstance(x, Tensor):
            x = as_tensor_arg(x)
        a = x._data
        _no_bool(a, f"{name}_vml_cpu")
        r = a.copy() if a.dtype.kind in "iub" else np_fn(a)
        res = _make(r)
        if x._rg and grad_state.enabled:
            link(node_cls(), res, x)
        return _out(res, out) if out is not None else res
    op.__name__ = name
    return op


floor = _int_passthrough(np.floor, R.FloorBackward0, "floor")
ceil = _int_passthrough(np.ceil, R.CeilBackward0, "ceil")
trunc = _int_passthrough(np.trunc, R.TruncBackward0, "trunc")
fix = trunc


def round(x, *, decimals=0, out=None):  # noqa: A001
    a = x._data
    _no_bool(a, "round_vml_cpu")
    if a.dtype.kind in "iub":
        r = a.copy()
    elif a.dtype == np.float16 and decimals:  # PyTorch scales in float32 (opmath), not half
        r = np.round(a.astype(np.float32), decimals).astype(np.float16)
    else:
        r = np.round(a, decimals)
    res = _make(r)
    if x._rg and grad_state.enabled:
        link(R.RoundBackward0() if decimals == 0 else R.RoundBackward1(), res, x)
    return _out(res, out)


def neg(x, *, out=None):
    a = x._data
    if a.dtype == np.bool_:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead.")
    res = _make(-a)
    if x._rg and grad_state.enabled:
        link(R.NegBackward0(), res, x)
    return _out(res, out)


negative = neg


def abs(x, *, out=None):  # noqa: A001
    _no_bool(x._data, "abs_cpu")
    res = _make(np.abs(x._data))
    if x._rg and grad_state.enabled:
        n = R.AbsBackward0()
        save(n, x)
        link(n, res, x)
    return _out(res, out)


absolute = abs


def sign(x, *, out=None):
    a = x._data
    r = a.copy() if a.dtype == np.bool_ else np.sign(a)
    res = _make(r)
    if x._rg and grad_state.enabled:
        link(R.SignBackward0(), res, x)
    return _out(res, out)


def sgn(x):
    a = x._data
    if a.dtype.kind == "c":
        m = np.abs(a)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(m == 0, 0, a / np.where(m == 0, 1, m)).astype(a.dtype)
    else:
        r = np.sign(a)
    res = _make(r)
    if x._rg and grad_state.enabled:
        n = R.SgnBackward0()
        if a.dtype.kind == "c":  # complex sgn has a gradient
            n.complex = True
            save(n, x)
            save_result(n, res)
        link(n, res, x)
    return res


def reciprocal(x, *, out=None):
    a = float_array(x)
    with np.errstate(divide="ignore"):
        res = _make(1 / a if a.dtype.kind == "c" else np.reciprocal(a))
    if x._rg and grad_state.enabled:
        n = R.ReciprocalBackward0()
        save_result(n, res)
        link(n, res, x)
    return _out(res, out)


def conj(x):
    if x._data.dtype.kind != "c":
        return x
    if x._rg and grad_state.enabled:
        from .extra import complex_conj
        return complex_conj(x)
    return _make(np.conj(x._data))


def logit(x, eps=None):
    a = float_array(x)
    if eps is not None:
        a = np.clip(a, eps, 1 - eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        res = _make(np.log(a / (1 - a)))
    if x._rg and grad_state.enabled:
        n = R.LogitBackward0()
        n.eps = eps
        save(n, x)
        link(n, res, x)
    return res


# ---------------------------------------------------------------- activations
def relu(x, inplace=False):
    a = x._data
    if a.dtype == np.bool_:
        raise RuntimeError("Boolean inputs not supported for relu")
    if inplace:
        return relu_(x)
    r = np.maximum(a, 0)
    res = _make(r.astype(a.dtype, copy=False))
    if x._rg and grad_state.enabled:
        n = R.ReluBackward0()
        save_result(n, res)
        link(n, res, x)
    return res


def _relu_inplace(a):
    if a.size >= 1 << 18 and type(a) is np.ndarray and a.flags.c_contiguous:
        from . import _threads as T  # big maps: split over the conv thread pool
        if T.enabled:
            T.relu_(a)
            return
    np.maximum(a, 0, out=a)


def relu_(x):
    check_inplace(x)
    a = x._data
    if x._rg and grad_state.enabled:
        _relu_inplace(a)
        x._bump()
        n = R.ReluBackward0()
        # the rebased x is the result this node saves
        link(n, x, _shadow(x))
        save_result(n, x)
        return x
    _relu_inplace(a)
    x._bump()
    return x


def _shadow(x):
    """A stand-in carrying x's old graph position, for rebasing an in-place op's history."""
    s = _make(x._data)
    s._rg = x._rg
    s.grad_fn = x.grad_fn
    s._nr = x._nr
    if x.grad_fn is None and x._rg:
        s._accum = getattr(x, "_accum", None)
        s.grad_fn = None
    return s


def leaky_relu(x, negative_slope=0.01, inplace=False):
    x0, x = x, _inplace_src(x, inplace)
    a = x._data
    r = np.where(a > 0, a, a * np.asarray(negative_slope, dtype=a.dtype)[()]).astype(a.dtype)
    res = _make(r)
    if x._rg and grad_state.enabled:
        n = R.LeakyReluBackward0()
        n.slope = negative_slope
        save(n, x)
        link(n, res, x)
    return _maybe_inplace(x0, res, inplace)


def elu(x, alpha=1.0, inplace=False, *, scale=1.0, input_scale=1.0, name="EluBackward0"):
    x0, x = x, _inplace_src(x, inplace)
    a = x._data
    with np.errstate(over="ignore"):
        neg_part = (np.expm1(np.minimum(a, 0) * input_scale) * alpha).astype(a.dtype)
    r = (np.where(a > 0, a, neg_part) * scale).astype(a.dtype)
    res = _make(r)
    if x._rg and grad_state.enabled:
        n = R.EluBackward0()
        n.alpha, n.scale, n.input_scale = alpha, scale, input_scale
        if name != "EluBackward0":
            n.__class__ = _named_node(R.EluBackward0, name)
        save(n, x)
        link(n, res, x)
    return _maybe_inplace(x0, res, inplace)


_NAMED_CACHE = {}


def _named_node(base, name):
    c = _NAMED_CACHE.get((base, name))
    if c is None:
        c = type(name, (base,), {})
        _NAMED_CACHE[(base, name)] = c
    return c


def selu(x, inplace=False):
    return elu(x, 1.6732632423543772848170429916717, inplace,
               scale=1.0507009873554804934193349852946, name="EluBackward0")


def celu(x, alpha=1.0, inplace=False):
    return elu(x, alpha, inplace, input_scale=1.0 / alpha, name="EluBackward0")


def gelu(x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate}")
    a = x._data
    if a.dtype.kind == "V":  # bfloat16: computed in float32, rounded once
        return via_f32(gelu, x, approximate)
    if approximate == "tanh":
        k = a.dtype.type(math.sqrt(2.0 / math.pi))  # NumPy scalars: CuPy takes no 0-d array
        r = 0.5 * a * (1 + np.tanh(k * (a + a.dtype.type(0.044715) * a * a * a)))
    else:
        r = 0.5 * a * (1 + _erf_np(a * a.dtype.type(1 / math.sqrt(2.0))))
    res = _make(r.astype(a.dtype, copy=False))
    if x._rg and grad_state.enabled:
        n = R.GeluBackward0()
        n.approximate = approximate
        save(n, x)
        link(n, res, x)
    return res


def silu(x, inplace=False):
    if not inplace and x._data.dtype.kind == "V":  # bfloat16: float32, rounded once
        return via_f32(silu, x)
    x0, x = x, _inplace_src(x, inplace)
    a = x._data
    res = _make((a * _sigmoid_np(a)).astype(a.dtype, copy=False))
    if x._rg and grad_state.enabled:
        n = R.SiluBackward0()
        save(n, x)
        link(n, res, x)
    return _maybe_inplace(x0, res, inplace)


def _softplus_np(a, beta, threshold):
    bx = a * beta
    with np.errstate(over="ignore"):
        soft = (np.logaddexp(0, bx) / beta).astype(a.dtype)
    return np.where(bx > threshold, a, soft).astype(a.dtype)


def softplus(x, beta=1.0, threshold=20.0):
    a = x._data
    res = _make(_softplus_np(a, beta, threshold))
    if x._rg and grad_state.enabled:
        n = R.SoftplusBackward0()
        n.beta, n.threshold = beta, threshold
        save(n, x)
        link(n, res, x)
    return res


def _nn_softplus(x):
    return softplus(x)


def mish(x, inplace=False):
    if not inplace and x._data.dtype.kind == "V":  # bfloat16: float32, rounded once
        return via_f32(mish, x)
    x0, x = x, _inplace_src(x, inplace)
    a = x._data
    res = _make((a * np.tanh(_softplus_np(a, 1.0, 20.0))).astype(a.dtype))
    if x._rg and grad_state.enabled:
        n = R.MishBackward0()
        save(n, x)
        link(n, res, x)
    return _maybe_inplace(x0, res, inplace)


def hardtanh(x, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    x0, x = x, _inplace_src(x, inplace)
    a = x._data
    res = _make(np.clip(a, min_val, max_val).astype(a.dtype))
    if x._rg and grad_state.enabled:
        n = R.HardtanhBackward0()
        n.min, n.max = min_val, max_val
        save(n, x)
        link(n, res, x)
    return _maybe_inplace(x0, res, inplace)


def relu6(x, inplace=False):
    return hardtanh(x, 0.0, 6.0, inplace)


def hardswish(x, inplace=False):
    x0, x = x, _inplace_src(x, inplace)
    a = x._data
    res = _make((a * np.clip(a + 3, 0, 6) / 6).astype(a.dtype))
    if x._rg and grad_state.enabled:
        n = R.HardswishBackward0()
        save(n, x)
        link(n, res, x)
    return _maybe_inplace(x0, res, inplace)


def hardsigmoid(x, inplace=False):
    x0, x = x, _inplace_src(x, inplace)
    a = x._data
    res = _make((np.clip(a + 3, 0, 6) / 6).astype(a.dtype))
    if x._rg and grad_state.enabled:
        n = R.HardsigmoidBackward0()
        save(n, x)
        link(n, res, x)
    return _maybe_inplace(x0, res, inplace)


def _maybe_inplace(x, res, inplace):
    """Finish an `inplace=True` activation: write the result into x and rebase x's history.

    The node was recorded against x's pre-op state (see `_inplace_src`), so x's old values
    stay available to the rule after they are overwritten here.
    """
    if not inplace:
        return res
    x._data[...] = res._data
    x._bump()
    if res.grad_fn is not None:
        x.grad_fn = res.grad_fn
        x._rg = True
        x._nr = 0
    return x


def _inplace_src(x, inplace):
    """For inplace=True with autograd on: a copy of x holding its old graph position."""
    if not inplace:
        return x
    check_inplace(x)
    if x._rg and grad_state.enabled:
        s = _shadow(x)
        s._data = x._data.copy()
        return s
    return x


# ---------------------------------------------------------------- binary math
def atan2(a, b, *, out=None):
    b = as_tensor_arg(b, like=a)
    xa, xb = promote_arrays(a, b)
    if xa.dtype.kind not in "fcV":
        xa, xb = xa.astype(D.default.np), xb.astype(D.default.np)
    r = np.arctan2(xa, xb)
    res = _make(r)
    if grad_state.enabled and (a._rg or b._rg):
        n = R.Atan2Backward0()
        n._meta = _meta2(a, b, xa, xb, r)
        save(n, a, b)
        link(n, res, a, b)
    return _out(res, out)


arctan2 = atan2


def _minmax(np_fn, node_cls):
    def op(a, b, *, out=None):
        b = as_tensor_arg(b, like=a)
        xa, xb, r = _binary_tt(np_fn, a, b, np_fn.__name__)
        res = _make(r)
        if grad_state.enabled and (a._rg or b._rg):
            n = node_cls()
            n._meta = _meta2(a, b, xa, xb, r)
            save(n, a, b)
            link(n, res, a, b)
        return _out(res, out)
    return op


maximum = _minmax(np.maximum, R.MaximumBackward0)
minimum = _minmax(np.minimum, R.MinimumBackward0)
fmax = _minmax(np.fmax, R.MaximumBackward0)
fmin = _minmax(np.fmin, R.MinimumBackward0)


class _Shaped:
    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape


def where(condition, input=None, other=None, *, out=None):  # noqa: A002
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    c = condition if isinstance(condition, Tensor) else as_tensor_arg(condition)
    if c._data.dtype != np.bool_:
        raise RuntimeError(
            f"where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{c.dtype}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = as_tensor_arg(input)
    if not isinstance(input, Tensor):
        input = _scalar_like(input, other)
    if not isinstance(other, Tensor):
        other = _scalar_like(other, input)
    xa, xb = promote_arrays(input, other)
    try:
        r = np.where(c._data, xa, xb)
    except ValueError:  # PyTorch's message for the first pair that fails, left to right
        try:
            s1 = np.broadcast_shapes(c._data.shape, input._data.shape)
        except ValueError:
            raise _shape_err("where", c, input) from None
        raise _shape_err("where", _Shaped(s1), other) from None
    res = _make(r)
    if grad_state.enabled and (input._rg or other._rg):
        n = R.WhereBackward0()
        ma = None if (xa.shape == r.shape and xa.dtype == input._data.dtype) else (
            input._data.shape, input._data.dtype)
        mb = None if (xb.shape == r.shape and xb.dtype == other._data.dtype) else (
            other._data.shape, other._data.dtype)
        n._meta = (None, ma, mb)
        save(n, c)
        link(n, res, None, input, other)
    return _out(res, out)


def _scalar_like(s, t):
    """A Python scalar operand as a 0-d tensor of the dtype PyTorch's promotion gives it."""
    if isinstance(s, Tensor):
        return s
    sd = D.scalar_dtype(s)
    if t is not None and isinstance(t, Tensor) and sd.category <= t.dtype.category:
        dt = t._data.dtype
        if type(s) is int and dt.kind in "iu" and not np.iinfo(dt).min <= s <= np.iinfo(dt).max:
            return _make(arr(s).astype(dt))  # wraps like PyTorch's cast
        return _make(arr(s, dtype=dt))
    return _make(arr(s, dtype=sd.np))


def lerp(start, end, weight, *, out=None):
    if isinstance(end, Tensor) and end._data.dtype != start._data.dtype:
        from ..tensor import _CPP_NAME
        raise RuntimeError(
            f"expected dtype {_CPP_NAME.get(start.dtype.name)} for `end` but got dtype "
            f"{_CPP_NAME.get(end.dtype.name)}")
    if (isinstance(weight, Tensor) and weight._data.ndim and
            weight._data.dtype != start._data.dtype):
        from ..tensor import _CPP_NAME
        raise RuntimeError(
            f"expected dtype {_CPP_NAME.get(start.dtype.name)} for `weight` but got dtype "
            f"{_CPP_NAME.get(weight.dtype.name)}")
    if not isinstance(weight, Tensor) and start._data.dtype.kind not in "fcV":
        from ..tensor import _SCALAR_NAME
        raise NotImplementedError(
            f"\"lerp_kernel_scalar\" not implemented for '{_SCALAR_NAME.get(start.dtype.name)}'")
    if start._data.dtype.kind == "V" and out is None:  # bfloat16: float32 opmath, one rounding
        return via_f32(lerp, start, end, weight)
    if isinstance(weight, Tensor):
        xs, xe = promote_arrays(start, end)
        w = weight._data
        r = xs + w * (xe - xs)
        res = _make(r.astype(xs.dtype, copy=False))
        if grad_state.enabled and (start._rg or end._rg or weight._rg):
            n = R.LerpBackward1()
            n._meta = tuple(None if t._data.shape == r.shape else (t._data.shape, t._data.dtype)
                            for t in (start, end, weight))
            save(n, start, end, weight)
            link(n, res, start, end, weight)
        return _out(res, out)
    xs, xe = promote_arrays(start, end)
    r = xs + (xe - xs) * np.asarray(weight, dtype=xs.dtype)[()]  # (a NumPy scalar: CuPy)
    res = _make(r.astype(xs.dtype, copy=False))
    if grad_state.enabled and (start._rg or end._rg):
        n = R.LerpBackward0()
        n.weight = weight
        n._meta = _meta2(start, end, xs, xe, r)
        link(n, res, start, end)
    return _out(res, out)


def clamp(x, min=None, max=None, *, out=None):  # noqa: A002
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        lo = as_tensor_arg(min, like=x) if min is not None else None
        hi = as_tensor_arg(max, like=x) if max is not None else None
        a = x._data
        r = a
        if lo is not None:
            r = np.maximum(r, lo._data)
        if hi is not None:
            r = np.minimum(r, hi._data)
        rt = D.result_type(*(t for t in (x, lo, hi) if t is not None)).np  # PyTorch promotes
        res = _make(r.astype(rt, copy=False) if r is not a else a.astype(rt))
        if grad_state.enabled and (x._rg or (lo is not None and lo._rg) or
                                   (hi is not None and hi._rg)):
            n = R.ClampBackward0()
            dummy = x.new_zeros(())
            save(n, x, lo if lo is not None else dummy, hi if hi is not None else dummy)
            n.has_lo, n.has_hi = lo is not None, hi is not None
            n._meta = tuple(None if t is None or (t._data.shape == r.shape and
                                                  t._data.dtype == rt) else
                            (t._data.shape, t._data.dtype) for t in (x, lo, hi))
            link(n, res, x, lo, hi)
        return _out(res, out, "clamp")
    a = x._data
    if a.dtype.kind in "iub" and (isinstance(min, float) or isinstance(max, float)):
        a = a.astype(D.default.np)
    elif a.dtype == np.bool_ and (type(min) is int or type(max) is int):
        a = a.astype(np.int64)  # result_type(bool, int) is int64
    r = np.clip(a, min, max)
    res = _make(r.astype(a.dtype, copy=False))
    if x._rg and grad_state.enabled:
        n = R.ClampBackward1()
        n.min, n.max = min, max
        save(n, x)
        link(n, res, x)
    return _out(res, out, "clamp")


clip = clamp


def _clamp_tensor_bound(x, b, is_min):
    """clamp_min / clamp_max with a Tensor bound: PyTorch's ClampMinBackward1 /
    ClampMaxBackward1 over (x, bound), result in the promoted dtype."""
    xa, ba = promote_arrays(x, b)
    r = np.maximum(xa, ba) if is_min else np.minimum(xa, ba)
    res = _make(r)
    if grad_state.enabled and (x._rg or b._rg):
        n = R.ClampMinBackward1() if is_min else R.ClampMaxBackward1()
        save(n, x, b)
        n._meta = tuple(None if t._data.shape == r.shape and t._data.dtype == r.dtype else
                        (t._data.shape, t._data.dtype) for t in (x, b))
        link(n, res, x, b)
    return res


def clamp_min(x, min):  # noqa: A002
    if isinstance(min, Tensor):
        return _clamp_tensor_bound(x, min, True)
    r = clamp(x, min=min)
    if type(r.grad_fn) is R.ClampBackward1:  # PyTorch's node name for clamp_min(scalar)
        r.grad_fn.__class__ = R.ClampMinBackward0
    return r


def clamp_max(x, max):  # noqa: A002
    if isinstance(max, Tensor):
        return _clamp_tensor_bound(x, max, False)
    r = clamp(x, max=max)
    if type(r.grad_fn) is R.ClampBackward1:
        r.grad_fn.__class__ = R.ClampMaxBackward0
    return r


# ---------------------------------------------------------------- comparisons and logic
def _compare(np_fn, name):
    def op(a, b, *, out=None):
        if not isinstance(a, Tensor):
            a = as_tensor_arg(a)
        b = _coerce_other(b)
        if isinstance(b, Tensor):
            xa, xb = promote_arrays(a, b)
        else:
            xa, xb = scalar_operand(a._data, b)
        try:
            r = np_fn(xa, xb)
        except ValueError:
            raise _shape_err(name, a, b) from None
        return _out(_make(arr(r)), out)
    op.__name__ = name
    return op


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _logical(np_fn, name):
    def op(a, b=None, *, out=None):
        if b is None:
            return _out(_make(np_fn(a._data)), out)
        b = b._data if isinstance(b, Tensor) else b
        return _out(_make(np_fn(a._data, b)), out)
    op.__name__ = name
    return op


logical_and = _logical(np.logical_and, "logical_and")
logical_or = _logical(np.logical_or, "logical_or")
logical_xor = _logical(np.logical_xor, "logical_xor")
logical_not = _logical(np.logical_not, "logical_not")


def _bitwise(np_fn, name):
    def op(a, b=None, *, out=None):
        if not isinstance(a, Tensor):
            a = as_tensor_arg(a)
        if a._data.dtype.kind not in "iub":
            raise NotImplementedError(
                f'"{name}_cpu" not implemented for \'{_pt_name(a._data.dtype)}\'')
        if b is None:
            return _out(_make(np_fn(a._data)), out)
        b = _coerce_other(b)
        if isinstance(b, Tensor):
            if b._data.dtype.kind not in "iub":
                raise NotImplementedError(
                    f'"{name}_cpu" not implemented for \'{_pt_name(b._data.dtype)}\'')
            xa, xb = promote_arrays(a, b)
        else:
            if isinstance(b, float):
                raise NotImplementedError(f'"{name}_cpu" not implemented for \'Float\'')
            xa, xb = scalar_operand(a._data, b)
        return _out(_make(np_fn(xa, xb)), out)
    op.__name__ = name
    return op


def _pt_name(npdt):
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
            "int32": "Int", "bool": "Bool", "uint8": "Byte", "int8": "Char",
            "int16": "Short", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
            "bfloat16": "BFloat16", "complex32": "ComplexHalf"}.get(str(npdt), str(npdt))


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")
bitwise_not = _bitwise(np.invert, "bitwise_not")
bitwise_left_shift = _bitwise(np.left_shift, "lshift")
bitwise_right_shift = _bitwise(np.right_shift, "rshift")


def isnan(x):
    return _make(np.isnan(x._data) if x._data.dtype.kind in "fcV" else
                 np.zeros(x._data.shape, bool))


def isinf(x):
    return _make(np.isinf(x._data) if x._data.dtype.kind in "fcV" else
                 np.zeros(x._data.shape, bool))


def isfinite(x):
    return _make(np.isfinite(x._data) if x._data.dtype.kind in "fcV" else
                 np.ones(x._data.shape, bool))


def isposinf(x):
    return _make(np.isposinf(x._data))


def isneginf(x):
    return _make(np.isneginf(x._data))


def isreal(x):
    return _make(np.isreal(x._data))


def signbit(x):
    return _make(np.signbit(x._data))


# ---------------------------------------------------------------- out= plumbing
_C10_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
               "int32": "int", "int16": "short int", "int8": "signed char",
               "uint8": "unsigned char", "bool": "bool", "complex64": "c10::complex<float>",
               "complex128": "c10::complex<double>"}


def _out(res, out, kind=None):
    """Write `res` into a user-supplied `out=` tensor with PyTorch's resize and dtype rules.

    kind: None (same-kind cast allowed), "cat" (cat/stack's TypeError), "exact" (mm/matmul:
    the dtype must match), "clamp" (clamp's own message)."""
    if out is None:
        return res
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if res._rg and grad_state.enabled:
        raise RuntimeError(
            "add(): functions with out=... arguments don't support automatic differentiation, "
            "but one of the arguments requires grad.")
    rd, od = res._data.dtype, out._data.dtype
    if kind is not None and rd != od:
        if kind == "exact":
            raise RuntimeError(f"Expected out tensor to have dtype {_C10_NAMES.get(str(rd), rd)}"
                               f", but got {_C10_NAMES.get(str(od), od)} instead")
        if kind == "clamp":
            raise RuntimeError(f"Found dtype {_pt_name(od)} but expected {_pt_name(rd)}")
        if kind == "cat" and not np.can_cast(rd, od, casting="same_kind"):
            raise TypeError(f"torch.cat(): input types can't be cast to the desired output type "
                            f"{_pt_name(od)}")
    if rd != od and not np.can_cast(rd, od, casting="same_kind"):
        raise RuntimeError(
            f"result type {_pt_name(rd)} can't be cast to the desired output type "
            f"{_pt_name(od)}")
    if out._data.shape != res._data.shape:
        if out._data.size != 0:
            import warnings
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(out.shape)}, which does not match the required output shape "
                f"{list(res.shape)}. This behavior is deprecated, and in a future PyTorch "
                f"release outputs will not be resized unless they have zero elements. You can "
                f"explicitly reuse an out tensor t by resizing it, inplace, to zero elements "
                f"with t.resize_(0). (Triggered internally at "
                f"/__w/pytorch/pytorch/aten/src/ATen/native/Resize.cpp:30.)", UserWarning,
                stacklevel=3)
        out._data = res._data.astype(od)
    else:
        out._data[...] = res._data
    out._bump()
    return out


# ---------------------------------------------------------------- broadcast errors as PyTorch's
def _torch_broadcast_errors(fn):
    """Turn NumPy's broadcast ValueError into PyTorch's RuntimeError for the first failing pair
    of tensor operands (left to right). Free when nothing fails."""
    def op(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ValueError as e:
            if "broadcast" not in str(e):
                raise
            ts = [t for t in list(args) + list(kwargs.values()) if isinstance(t, Tensor)]
            shape = None
            for t in ts:
                if shape is None:
                    shape = t._data.shape
                    continue
                try:
                    shape = np.broadcast_shapes(shape, t._data.shape)
                except ValueError:
                    raise _shape_err(fn.__name__, _Shaped(shape), t) from None
            raise
    op.__name__ = getattr(fn, "__name__", "op")
    op.__doc__ = fn.__doc__
    op.__wrapped__ = fn
    return op


atan2 = _torch_broadcast_errors(atan2)
arctan2 = atan2
lerp = _torch_broadcast_errors(lerp)
fmod = _torch_broadcast_errors(fmod)
floor_divide = _torch_broadcast_errors(floor_divide)
clamp = _torch_broadcast_errors(clamp)
clip = clamp
logical_and = _torch_broadcast_errors(logical_and)
logical_or = _torch_broadcast_errors(logical_or)
logical_xor = _torch_broadcast_errors(logical_xor)
bitwise_and = _torch_broadcast_errors(bitwise_and)
bitwise_or = _torch_broadcast_errors(bitwise_or)
bitwise_xor = _torch_broadcast_errors(bitwise_xor)
