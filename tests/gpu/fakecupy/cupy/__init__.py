"""A CPU stand-in for CuPy, for checking dagrad's CuPy code paths on a machine with no GPU.

NOT CuPy: a wrapper over NumPy arrays that imitates the parts of CuPy's behaviour that break
NumPy-first code: `type(a) is numpy.ndarray` is False; `numpy.asarray(a)` / `np.array(a)` /
`np.ascontiguousarray(a)` raise TypeError (CuPy forbids implicit device-to-host copies); NumPy
ufuncs and functions dispatch here through __array_ufunc__ / __array_function__; mixing a NumPy
array into a ufunc or function raises TypeError; reductions and integer indexing return 0-d
arrays, not NumPy scalars; arrays have .get(), .device.id and no flags.writeable.

Used by tests/gpu/conftest.py when DAGRAD_FAKE_CUPY=1. Passing under it proves nothing about a
real GPU; failing under it usually points at a real CuPy incompatibility.
"""
import numpy as _np

__version__ = "0.0-fake"
_HOST = _np.ndarray
_NO_CUPY_FUNCS = {"eig", "eigvals", "lu_factor"}  # NumPy functions CuPy does not implement
_AT_OK = {"add", "subtract", "maximum", "minimum", "bitwise_and", "bitwise_or", "bitwise_xor"}
_INDEX_FUNCS = {"take", "take_along_axis"}
_CMP = {"greater", "greater_equal", "less", "less_equal", "equal", "not_equal"}


def _err_host(x):
    return TypeError(f"Unsupported type {type(x)}")


def _un(x, strict=True):
    """Unwrap fake arrays (recursively through lists/tuples); reject host arrays if strict."""
    if type(x) is ndarray:
        return x._a
    if isinstance(x, _HOST):
        if strict:
            raise _err_host(x)
        return x
    if type(x) in (list, tuple):
        return type(x)(_un(v, strict) for v in x)
    if type(x) is dict:
        return {k: _un(v, strict) for k, v in x.items()}
    return x


def _wr(x):
    """Wrap results: arrays and NumPy scalars become fake arrays (CuPy returns 0-d arrays)."""
    if isinstance(x, _HOST):
        return ndarray(x)
    if isinstance(x, _np.generic):
        return ndarray(_np.asarray(x))
    if type(x) is tuple or (isinstance(x, tuple) and hasattr(x, "_fields")):
        return tuple(_wr(v) for v in x)
    if type(x) is list:
        return [_wr(v) for v in x]
    return x


class _Flags:
    def __init__(self, a):
        self.c_contiguous = a.flags.c_contiguous
        self.f_contiguous = a.flags.f_contiguous
        self.owndata = a.flags.owndata

    def __getitem__(self, k):
        return {"C_CONTIGUOUS": self.c_contiguous, "F_CONTIGUOUS": self.f_contiguous,
                "OWNDATA": self.owndata}[k]


class Device:
    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)

    def use(self):
        pass

    def synchronize(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False

    def __eq__(self, o):
        return isinstance(o, Device) and o.id == self.id

    def __hash__(self):
        return self.id


class ndarray:
    __slots__ = ("_a", "__weakref__")
    __array_priority__ = 100

    def __init__(self, a, dtype=None):
        if not isinstance(a, _HOST):          # cupy.ndarray(shape, dtype)
            a = _np.empty(a, dtype if dtype is not None else _np.float64)
        if a.dtype.kind == "V" or a.dtype.kind == "O":
            raise ValueError(f"Unsupported dtype {a.dtype}")
        self._a = a

    # --- no implicit host conversion
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use "
                        "`.get()` to construct a NumPy array explicitly.")

    def get(self, stream=None, order="C", out=None, blocking=True):
        return _np.array(self._a, order=order)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc.__name__ in _CMP:
            inputs = tuple(x.item() if isinstance(x, _HOST) and x.ndim == 0 else x
                           for x in inputs)
        name = ufunc.__name__
        if method == "at":
            if name not in _AT_OK:
                raise NotImplementedError(f"`cupy_{name}.at` is not supported yet")
            ins = (_un(inputs[0]),) + _un(inputs[1:], strict=False)  # core.array(index/value)
            ufunc.at(*ins, **kwargs)
            return None
        if method in ("reduce", "accumulate") and name not in ("add", "multiply"):
            raise NotImplementedError(f"`cupy_{name}.{method}` is not supported yet")
        if method == "reduceat" and name != "add":
            raise NotImplementedError(f"`cupy_{name}.reduceat` is not supported yet")
        ins = _un(inputs)
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = _un(out)
        res = getattr(ufunc, method)(*ins, **kwargs)
        if method == "at":
            return None
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wr(res)

    def __array_function__(self, func, types, args, kwargs):
        if func.__name__ in _NO_CUPY_FUNCS:
            return NotImplemented
        if func.__name__ in _INDEX_FUNCS:  # CuPy copies host index arrays (core.array)
            args = (_un(args[0]),) + _un(args[1:], strict=False)
        else:
            args = _un(args)
        res = func(*args, **_un(kwargs))
        if "out" in kwargs and kwargs["out"] is not None:
            return kwargs["out"]
        return _wr(res)

    # --- attributes
    shape = property(lambda s: s._a.shape)
    dtype = property(lambda s: s._a.dtype)
    ndim = property(lambda s: s._a.ndim)
    size = property(lambda s: s._a.size)
    strides = property(lambda s: s._a.strides)
    itemsize = property(lambda s: s._a.itemsize)
    nbytes = property(lambda s: s._a.nbytes)
    T = property(lambda s: ndarray(s._a.T))
    mT = property(lambda s: ndarray(_np.swapaxes(s._a, -1, -2)))
    flags = property(lambda s: _Flags(s._a))
    device = property(lambda s: Device(0))
    __cuda_array_interface__ = property(lambda s: {
        "shape": s._a.shape, "typestr": s._a.dtype.str, "data": (0, False), "version": 3})
    base = property(lambda s: None if s._a.base is None or not isinstance(s._a.base, _HOST)
                    else ndarray(s._a.base))

    @property
    def real(self):
        return ndarray(self._a.real)

    @real.setter
    def real(self, v):
        self._a.real = _un(v)

    @property
    def imag(self):
        return ndarray(self._a.imag)

    @imag.setter
    def imag(self, v):
        self._a.imag = _un(v)

    def __getattr__(self, name):
        if name.startswith("__"):  # no __array_interface__ / __array_struct__ (CuPy has none)
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if not callable(attr):
            return _wr(attr)

        def method(*args, **kwargs):
            return _wr(attr(*_un(args), **_un(kwargs)))
        return method

    def item(self, *args):
        return self._a.item(*args)

    def tolist(self):
        return self._a.tolist()

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (ndarray(self._a[i]) for i in range(len(self._a)))

    def __bool__(self):
        return bool(self._a)

    def __int__(self):
        return int(self._a)

    def __float__(self):
        return float(self._a)

    def __complex__(self):
        return complex(self._a)

    def __repr__(self):
        return repr(self._a)

    def __str__(self):
        return str(self._a)

    def __format__(self, spec):
        return format(self._a, spec)

    def __copy__(self):
        return ndarray(self._a.copy())

    def __deepcopy__(self, memo):
        return ndarray(self._a.copy())

    def __reduce__(self):
        return (ndarray, (self._a.copy(),))

    def __getitem__(self, key):
        return _wr(self._a[_un(key, strict=False)])

    def __setitem__(self, key, value):
        self._a[_un(key, strict=False)] = _un(value, strict=False)

    def __dlpack__(self, *a, **k):
        raise TypeError("fake cupy: no dlpack")


def _binop(name):
    ufunc_op = getattr(_np.ndarray, name)

    def op(self, other):
        if isinstance(other, _HOST):
            if name in ("__eq__", "__ne__"):
                pass
            raise _err_host(other)
        o = other._a if type(other) is ndarray else other
        if name.startswith("__i"):
            ufunc_op(self._a, o)
            return self
        r = ufunc_op(self._a, o)
        if r is NotImplemented:
            return r
        return _wr(r)
    op.__name__ = name
    return op


for _n in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
           "xor", "lshift", "rshift", "divmod"):
    for _p in ("__%s__", "__r%s__", "__i%s__"):
        _name = _p % _n
        if hasattr(_np.ndarray, _name):
            setattr(ndarray, _name, _binop(_name))
for _name in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
    setattr(ndarray, _name, _binop(_name))
ndarray.__hash__ = None
for _name in ("__neg__", "__pos__", "__abs__", "__invert__"):
    setattr(ndarray, _name, (lambda nm: lambda self: _wr(getattr(self._a, nm)()))(_name))


# ---------------------------------------------------------------- module functions
def asarray(a, dtype=None, order=None, blocking=False):
    if type(a) is ndarray:
        return a if dtype is None or a.dtype == dtype else ndarray(a._a.astype(dtype))
    return ndarray(_np.array(a, dtype=dtype, order=order or "K"))


def array(a, dtype=None, copy=True, order="K", subok=False, ndmin=0, blocking=False):
    return ndarray(_np.array(_un(a, strict=False), dtype=dtype, copy=True, order=order,
                             ndmin=ndmin))


def ascontiguousarray(a, dtype=None):
    return ndarray(_np.ascontiguousarray(_un(a, strict=False), dtype=dtype))


def asfortranarray(a, dtype=None):
    return ndarray(_np.asfortranarray(_un(a, strict=False), dtype=dtype))


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    return a.get() if type(a) is ndarray else _np.asarray(a)


def get_array_module(*args):
    for a in args:
        if type(a) is ndarray:
            return _this
    return _np


class _UFunc:
    def __init__(self, uf):
        self._uf = uf
        self.__name__ = uf.__name__

    def __call__(self, *args, **kwargs):
        out = kwargs.get("out")
        r = self._uf(*_un(args), **_un(kwargs))
        return out if out is not None else _wr(r)

    def __getattr__(self, name):
        m = getattr(self._uf, name)
        if not callable(m):
            return m

        uname = self._uf.__name__
        if name == "at" and uname not in _AT_OK:
            raise NotImplementedError(f"`cupy_{uname}.at` is not supported yet")
        if name in ("reduce", "accumulate") and uname not in ("add", "multiply"):
            raise NotImplementedError(f"`cupy_{uname}.{name}` is not supported yet")

        def method(*args, **kwargs):
            out = kwargs.get("out")
            if name == "at":
                m(_un(args[0]), *_un(args[1:], strict=False), **kwargs)
                return None
            r = m(*_un(args), **_un(kwargs))
            return out if out is not None else _wr(r)
        return method


def _wrap_func(f):
    def fn(*args, **kwargs):
        out = kwargs.get("out")
        r = f(*_un(args), **_un(kwargs))
        return out if out is not None else _wr(r)
    fn.__name__ = getattr(f, "__name__", "f")
    return fn


class _Sub:
    """cupy.fft / cupy.linalg / cupy.lib.stride_tricks..."""

    def __init__(self, mod):
        self._mod = mod

    def __getattr__(self, name):
        if name in _NO_CUPY_FUNCS:
            raise AttributeError(name)
        v = getattr(self._mod, name)
        if isinstance(v, _np.ufunc):
            return _UFunc(v)
        if callable(v) and not isinstance(v, type):
            return _wrap_func(v)
        if type(v).__name__ == "module":
            return _Sub(v)
        return v


_this_sub = _Sub(_np)


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(_this_sub, name)


fft = _Sub(_np.fft)
linalg = _Sub(_np.linalg)
lib = _Sub(_np.lib)


class _Pool:
    def used_bytes(self):
        return 0

    def total_bytes(self):
        return 0

    def free_all_blocks(self):
        pass

    def set_limit(self, size=None, fraction=None):
        pass


_pool = _Pool()


def get_default_memory_pool():
    return _pool


def get_default_pinned_memory_pool():
    return _pool


class _Random:
    def seed(self, s=None):
        pass

    def __getattr__(self, name):
        return _wrap_func(getattr(_np.random, name))


random = _Random()


class _Runtime:
    @staticmethod
    def getDeviceCount():
        return 1

    @staticmethod
    def getDeviceProperties(i):
        return {"name": b"Fake CuPy GPU", "major": 9, "minor": 0, "totalGlobalMem": 1 << 34,
                "multiProcessorCount": 132, "l2CacheSize": 1 << 25, "warpSize": 32}

    @staticmethod
    def memGetInfo():
        return (1 << 33, 1 << 34)

    @staticmethod
    def runtimeGetVersion():
        return 13000

    @staticmethod
    def driverGetVersion():
        return 13000


class Event:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.done = True

    def record(self, stream=None):
        pass

    def synchronize(self):
        pass


class Stream:
    null = None

    def __init__(self, null=False, non_blocking=False, ptds=False, priority=None):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False

    def synchronize(self):
        pass

    def wait_event(self, e):
        pass

    @property
    def done(self):
        return True


Stream.null = Stream(null=True)


class _Cuda:
    runtime = _Runtime()
    Device = Device
    Event = Event
    Stream = Stream

    @staticmethod
    def get_current_stream(device_id=-1):
        return Stream.null

    @staticmethod
    def get_elapsed_time(a, b):
        return 0.0


cuda = _Cuda()

import sys as _sys  # noqa: E402

_this = _sys.modules[__name__]
