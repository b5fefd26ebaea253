"""dtypes and PyTorch's type-promotion rules.

A dagrad dtype wraps a NumPy dtype. Promotion follows c10's `promoteTypes` and ATen's
`result_type`: 0-dim tensors and Python scalars only raise the *category* (bool < int < float),
never the width, of the dimensioned operands.
"""
from .backend import np

__all__ = ["dtype", "float16", "float32", "float64", "bfloat16", "int8", "int16", "int32",
           "int64", "uint8", "bool_", "complex64", "complex128"]

BOOL, INT, FLOAT, COMPLEX = 0, 1, 2, 3


class dtype:
    __slots__ = ("name", "np", "category", "itemsize", "is_floating_point", "is_complex",
                 "is_signed", "_rank", "__weakref__")

    def __init__(self, name, npdt, category, rank):
        self.name = name
        self.np = np.dtype(npdt)
        self.category = category
        self.itemsize = self.np.itemsize
        self.is_floating_point = category == FLOAT
        self.is_complex = category == COMPLEX
        self.is_signed = name not in ("uint8", "bool")
        self._rank = rank

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_complex(self):
        return complex128 if self is float64 else complex64

    def to_real(self):
        return float64 if self is complex128 else float32 if self is complex64 else self


bool_ = dtype("bool", np.bool_, BOOL, 0)
uint8 = dtype("uint8", np.uint8, INT, 1)
int8 = dtype("int8", np.int8, INT, 2)
int16 = dtype("int16", np.int16, INT, 3)
int32 = dtype("int32", np.int32, INT, 4)
int64 = dtype("int64", np.int64, INT, 5)
float16 = dtype("float16", np.float16, FLOAT, 6)


_BF16_MISSING = ("torch.bfloat16 needs the optional package ml_dtypes (NumPy has no bfloat16): "
                 "pip install ml_dtypes (or pip install dagrad[bf16])")
_bf16_np = None


def bf16_np():
    """The NumPy bfloat16 dtype of ml_dtypes, imported on first use (it costs ~5 ms, so not at
    `import dagrad`). Without ml_dtypes: an ImportError naming the fix, never a float16 stand-in."""
    global _bf16_np
    if _bf16_np is None:
        try:
            import ml_dtypes
        except ImportError:
            raise ImportError(_BF16_MISSING) from None
        _bf16_np = np.dtype(ml_dtypes.bfloat16)
        FROM_NP[_bf16_np] = bfloat16
    return _bf16_np


class _BFloat16(dtype):
    """torch.bfloat16: stored as ml_dtypes' NumPy bfloat16 (kind 'V'), resolved lazily."""
    __slots__ = ()

    @property
    def np(self):
        return _bf16_np if _bf16_np is not None else bf16_np()

    def __init__(self):
        self.name = "bfloat16"
        self.category = FLOAT
        self.itemsize = 2
        self.is_floating_point = True
        self.is_complex = False
        self.is_signed = True
        self._rank = 6  # same rank as float16: promote_types(bfloat16, float16) is float32


bfloat16 = _BFloat16()
float32 = dtype("float32", np.float32, FLOAT, 7)
float64 = dtype("float64", np.float64, FLOAT, 8)
complex64 = dtype("complex64", np.complex64, COMPLEX, 9)
complex128 = dtype("complex128", np.complex128, COMPLEX, 10)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64, complex64, complex128)
_NAMES = {d.name: d for d in ALL}
_NAMES["bfloat16"] = bfloat16
_NAMES.update(half=float16, float=float32, double=float64, long=int64, int=int32, short=int16,
              cfloat=complex64, cdouble=complex128)
# numpy dtype -> dagrad dtype; keyed by the numpy dtype object (hashable, cheap)
FROM_NP = {d.np: d for d in ALL}


def _by_name(name):
    return _NAMES[name]


def from_np(npdt):
    try:
        return FROM_NP[npdt]
    except KeyError:
        if getattr(npdt, "name", None) == "bfloat16" and _bf16_np is None:
            bf16_np()  # an ml_dtypes array made before dagrad first needed bfloat16
            if npdt in FROM_NP:
                return FROM_NP[npdt]
        raise TypeError(f"dagrad does not support NumPy dtype {npdt}") from None


def is_float_np(npdt):
    """True for a NumPy floating dtype, ml_dtypes' bfloat16 (kind 'V') included."""
    k = npdt.kind
    return k == "f" or (k == "V" and npdt.name == "bfloat16")


if __import__("sys").modules.get("ml_dtypes") is not None:  # already imported: costs nothing
    bf16_np()


class _Default:
    __slots__ = ("dtype", "np")


default = _Default()
default.dtype = float32
default.np = float32.np


def set_default_dtype(d):
    d = to_dtype(d)
    if d not in (float16, bfloat16, float32, float64):
        raise TypeError("only floating-point types are supported as the default type")
    default.dtype = d
    default.np = d.np


def get_default_dtype():
    return default.dtype


def to_dtype(d):
    """Accept a dagrad dtype, a NumPy dtype/type, a Python type, or a name."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return float64
    if d is int:
        return int64
    if d is bool:
        return bool_
    if d is complex:
        return complex128
    if isinstance(d, str):
        try:
            return _NAMES[d.replace("torch.", "")]
        except KeyError:
            raise TypeError(f"invalid dtype name {d!r}") from None
    try:
        return from_np(np.dtype(d))
    except TypeError:
        raise TypeError(f"dtype must be a dagrad dtype, got {d!r}") from None


def can_cast_np(src, dst):
    """PyTorch's canCast for NumPy dtypes: no complex -> real, float -> integral, or
    non-bool -> bool; everything else (narrowing, signed <-> unsigned) is allowed."""
    ks, kd = np.dtype(src).kind, np.dtype(dst).kind
    ks, kd = ("f" if ks == "V" else ks), ("f" if kd == "V" else kd)  # V: ml_dtypes' bfloat16
    if ks == "c" and kd != "c":
        return False
    if ks == "f" and kd in "iub":
        return False
    if ks != "b" and kd == "b":
        return False
    return True


def promote_types(a, b):
    """c10::promoteTypes for two dagrad dtypes."""
    if a is b:
        return a
    ca, cb = a.category, b.category
    if ca != cb:
        hi, lo = (a, b) if ca > cb else (b, a)
        if hi.category == COMPLEX and lo is float64:
            return complex128
        return hi if hi.category != INT or lo.category == BOOL else hi
    if ca == INT:
        return FROM_NP[np.promote_types(a.np, b.np)]
    if a._rank == b._rank:  # float16 and bfloat16 (c10: f2)
        return float32
    return a if a._rank > b._rank else b


def scalar_dtype(s):
    """The dtype a Python scalar takes as a 'wrapped number' in result_type."""
    if isinstance(s, bool):
        return bool_
    if isinstance(s, int):
        return int64
    if isinstance(s, float):
        return default.dtype
    if isinstance(s, complex):
        return complex64 if default.dtype is not float64 else complex128
    d = getattr(s, "dtype", None)
    if d is not None:  # numpy scalar
        return from_np(np.dtype(d))
    raise TypeError(f"unsupported scalar type {type(s).__name__}")


def _combine(higher, lower):
    if higher is None:
        return lower
    if lower is None:
        return higher
    hc = higher.category
    if hc == COMPLEX or (lower.category != COMPLEX and hc == FLOAT):
        return higher
    if lower.category == COMPLEX:
        if hc == FLOAT:  # ATen keeps higher's value type: float32 -> complex64 (float16 would
            return complex128 if higher is float64 else complex64  # be complex32: not offered)
        return lower
    if higher is bool_ or lower.category >= FLOAT:
        return promote_types(higher, lower)
    return higher


def result_type(*args):
    """ATen's result_type over tensors and Python scalars."""
    dim = zero = wrapped = None
    for a in args:
        d = getattr(a, "_dtype_for_promotion", None)
        if d is not None:
            t, nd = d()
            if nd:
                dim = t if dim is None else promote_types(dim, t)
            else:
                zero = t if zero is None else promote_types(zero, t)
        else:
            t = scalar_dtype(a)
            wrapped = t if wrapped is None else promote_types(wrapped, t)
    return _combine(dim, _combine(zero, wrapped))


def finfo_np(d):
    return np.finfo(d.np)
