"""dtype and device conversion: Tensor.to / .type and friends."""
from .. import _dtype as D
from ..backend import BF16_CUDA, np, to_device, xp_for
from ..tensor import Tensor, device
from . import derivatives as R
from ._core import _make, grad_state, link


def _parse_to(args, kwargs):
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {list(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
            dev = a.device
        elif isinstance(a, (D.dtype,)) or (isinstance(a, type) and a in (float, int, bool)):
            dtype = a
        elif isinstance(a, (str, device)) or (isinstance(a, int) and not isinstance(a, bool)):
            dev = a
        elif isinstance(a, bool):
            copy = copy or a
        elif a is None:
            continue
        else:
            try:
                dtype = D.to_dtype(a)
            except TypeError:
                raise TypeError(f"to() received an invalid combination of arguments: {a!r}") \
                    from None
    return (D.to_dtype(dtype) if dtype is not None else None,
            device(dev) if dev is not None else None, copy)


_warned_complex = False


def _complex_to_real(a, npdt):
    """PyTorch warns once per process (a UserWarning), NumPy on every cast (ComplexWarning)."""
    global _warned_complex
    if not _warned_complex:
        import warnings

        from ..autograd.function import _location
        _warned_complex = True
        msg = "Casting complex values to real discards the imaginary part"
        loc = _location()  # the user's line, as PyTorch's warning points at
        if loc is None:
            warnings.warn(msg, UserWarning, stacklevel=2)
        else:
            warnings.warn_explicit(msg, UserWarning, loc[0], loc[1])
    return a.real.astype(npdt)


def cast(x, dt, copy=False):
    """x as dtype dt (differentiable between floating types: ToCopyBackward0)."""
    a = x._data
    if a.dtype == dt.np and not copy:
        return x
    if dt is D.bfloat16 and type(a) is not np.ndarray:
        raise TypeError(BF16_CUDA)
    if a.dtype.kind == "c" and dt.np.kind != "c":
        res = _make(_complex_to_real(a, dt.np))
    else:
        res = _make(a.astype(dt.np))
    if x._rg and grad_state.enabled and dt.category >= D.FLOAT:
        n = R.ToCopyBackward0()
        n.src_dtype = D.from_np(a.dtype)
        link(n, res, x)
    return res


def to(x, *args, **kwargs):
    dt, dev, copy = _parse_to(args, kwargs)
    out = x
    if dev is not None:
        cur = x.device
        if dev.type != cur.type:
            if dev.type not in ("cpu", "cuda"):
                raise RuntimeError(f"PyTorch is not linked with support for {dev.type} devices")
            xp = xp_for(dev.type)
            a = x._data
            moved = to_device(a, xp)
            res = _make(moved)
            if x._rg and grad_state.enabled:
                n = _ToDeviceBackward()
                n.src = cur
                link(n, res, x)
            out = res
    if dt is not None:
        out = cast(out, dt, copy and out is x)
    elif copy and out is x:
        from .movement import clone
        out = clone(x)
    return out


class _ToDeviceBackward(R.Node):
    def backward(self, g):
        return g.to(self.src)


_ToDeviceBackward.__name__ = "ToCopyBackward0"

_TYPE_NAMES = {
    "torch.FloatTensor": D.float32, "torch.DoubleTensor": D.float64,
    "torch.HalfTensor": D.float16, "torch.LongTensor": D.int64, "torch.IntTensor": D.int32,
    "torch.ShortTensor": D.int16, "torch.CharTensor": D.int8, "torch.ByteTensor": D.uint8,
    "torch.BoolTensor": D.bool_, "torch.BFloat16Tensor": D.bfloat16,
}
_NAME_OF = {v.name: k for k, v in _TYPE_NAMES.items()}


def type_(x, dtype=None):
    if dtype is None:
        return _NAME_OF.get(x.dtype.name, "torch.Tensor")
    if isinstance(dtype, str):
        if dtype not in _TYPE_NAMES:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = _TYPE_NAMES[dtype]
    dtype = getattr(dtype, "_dt", dtype)  # a legacy class: x.type(torch.BFloat16Tensor)
    return cast(x, D.to_dtype(dtype))


def type_as(x, other):
    if x.device.type != other.device.type:  # PyTorch: x.type(other.type()), the device too
        return to(x, other.device, other.dtype)
    return cast(x, other.dtype)


_ = np
