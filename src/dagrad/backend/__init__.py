"""The only place that imports NumPy or CuPy.

Kernels call NumPy functions; CuPy arrays take part through NumPy's `__array_ufunc__` /
`__array_function__` dispatch, so one kernel serves both. Creation functions ask for the array
module of a device with `xp_for(device)`; code holding an array asks `get_array_module(a)`.
"""
import numpy as np

# PyTorch reports no floating-point warnings (inf/nan results are simply returned). Silencing
# NumPy's once here keeps every kernel free of per-call errstate contexts (~1.5 us each).
np.seterr(all="ignore")

__all__ = ["np", "get_array_module", "xp_for", "cupy", "has_cuda"]

_cupy = None
_cupy_checked = False


def cupy():
    """CuPy, imported on first use; None when it is not installed or has no GPU."""
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy as cp  # noqa: PLC0415
            cp.cuda.runtime.getDeviceCount()
            _cupy = cp
        except Exception:
            _cupy = None
    return _cupy


def has_cuda():
    return cupy() is not None


def get_array_module(a):
    if type(a) is np.ndarray or _cupy is None:
        return np
    return _cupy.get_array_module(a)


def xp_for(device_type):
    if device_type == "cpu":
        return np
    if device_type != "cuda":
        raise RuntimeError(f"PyTorch is not linked with support for {device_type} devices")
    cp = cupy()
    if cp is None:
        raise AssertionError("Torch not compiled with CUDA enabled")  # PyTorch's type and text
    return cp


BF16_CUDA = ("torch.bfloat16 is not supported on device 'cuda' by dagrad: CuPy has no bfloat16 "
             "dtype (keep bfloat16 tensors on the CPU, or use torch.float16 / torch.float32 on "
             "the GPU)")


def to_device(a, xp):
    """The array `a` (NumPy or CuPy) in array module `xp` (NumPy or CuPy). bfloat16 (ml_dtypes,
    NumPy kind 'V') cannot go to CuPy: a TypeError naming the dtype and the device."""
    if xp is np:
        return a if type(a) is np.ndarray else a.get()
    if a.dtype.kind == "V":
        raise TypeError(BF16_CUDA)
    return xp.asarray(a)


def zeros(like, shape, dtype=None):
    """zeros in the array module of `like` (NumPy or CuPy)."""
    xp = np if type(like) is np.ndarray else get_array_module(like)
    return xp.zeros(shape, dtype=like.dtype if dtype is None else dtype)


def scatter_add(out, key, values):
    """out[key] += values with repeated indices accumulating (np.add.at / cupyx.scatter_add)."""
    if type(out) is np.ndarray:
        np.add.at(out, key, values)
    else:
        get_array_module(out).add.at(out, key, values)


def accumulate(ufunc, a, axis):
    """ufunc.accumulate along axis. CuPy implements it for add and multiply only: other ufuncs
    (maximum, logaddexp...) run on a host copy and come back."""
    if type(a) is np.ndarray or ufunc is np.add or ufunc is np.multiply:
        return ufunc.accumulate(a, axis=axis)
    return get_array_module(a).asarray(ufunc.accumulate(a.get(), axis=axis))


def contiguous(a, dtype=None):
    """np.ascontiguousarray for NumPy or CuPy arrays (CuPy does not dispatch it)."""
    if type(a) is np.ndarray:
        return np.ascontiguousarray(a) if dtype is None else np.ascontiguousarray(a, dtype)
    return get_array_module(a).ascontiguousarray(a, dtype)


def writeable(a):
    """NumPy's writeable flag; CuPy arrays have none and are always writeable."""
    return getattr(a.flags, "writeable", True)


def to_numpy(a):
    if type(a) is np.ndarray:
        return a
    return a.get()
