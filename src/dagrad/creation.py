"""Tensor creation and random sampling.

dtype inference follows PyTorch: Python floats become the default dtype (float32), ints int64,
bools bool; NumPy arrays keep their dtype. Random numbers come from NumPy's PCG64, seeded by
`manual_seed`: the API is PyTorch's, the streams are not bit-identical to PyTorch's mt19937.
"""
import numbers
import warnings

from . import _dtype as D
from .backend import BF16_CUDA, np, to_device, xp_for
from .tensor import Tensor, _make
from .tensor import device as _device

_default_device = ["cpu"]


def _xp(device):
    if device is None:
        return xp_for(_default_device[0]) if _default_device[0] != "cpu" else np
    d = _device(device) if not isinstance(device, _device) else device
    return xp_for(d.type)


def _finish(arr, requires_grad, device=None):
    if device is not None or _default_device[0] != "cpu":
        xp = _xp(device)
        if xp is not np:
            arr = to_device(arr, xp)
    t = _make(arr)
    if requires_grad:
        _factory_requires_grad(t)
    return t


def _factory_requires_grad(t):
    if t._data.dtype.kind not in "fcV":  # factories word it with a capital O (PyTorch)
        raise RuntimeError(
            "Only Tensors of floating point and complex dtype can require gradients")
    t.requires_grad = True


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    elif len(size) == 1 and isinstance(size[0], Tensor):
        size = tuple(size[0].tolist()) if size[0].ndim else (int(size[0]),)
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, (int, np.integer)):
            raise TypeError(
                f"empty(): argument 'size' (position 1) must be tuple of ints, but found element "
                f"of type {type(s).__name__} at pos {len(out)}")
        if s < 0:
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _size_kw(size, kw):
    """torch.zeros(size=(2, 3)): the size may also come as a keyword."""
    if kw:
        if set(kw) != {"size"} or size:
            bad = next(k for k in kw if k != "size") if set(kw) != {"size"} else "size"
            raise TypeError(f"got an unexpected keyword argument '{bad}'")
        return (kw["size"],)
    return size


def _dt(dtype, default=None):
    if dtype is None:
        return default if default is not None else D.default.np
    return D.to_dtype(dtype).np


# ---------------------------------------------------------------- from data
def _infer_np(data):
    """Build a NumPy array from nested Python data with PyTorch's dtype inference."""
    if isinstance(data, Tensor):
        return data._data
    if hasattr(data, "__cuda_array_interface__") and hasattr(data, "get"):  # a CuPy array
        return data
    if isinstance(data, np.ndarray):
        if data.dtype.kind == "V":  # an ml_dtypes array: PyTorch refuses it, as from_numpy
            from_numpy(data)
        return data
    if isinstance(data, np.generic):
        return np.asarray(data)
    if isinstance(data, bool):
        return np.asarray(data, dtype=np.bool_)
    if isinstance(data, int):
        if not -(2 ** 63) <= data < 2 ** 63:
            raise ValueError("Overflow when unpacking long long")
        return np.asarray(data, dtype=np.int64)
    if isinstance(data, float):
        return np.asarray(data, dtype=D.default.np)
    if isinstance(data, complex):
        return np.asarray(data, dtype=_default_complex_np())
    if isinstance(data, range):
        data = list(data)
    if data is None:
        raise RuntimeError("Could not infer dtype of NoneType")
    if isinstance(data, (list, tuple)):
        if any(isinstance(e, Tensor) for e in _flat_first(data)):
            data = _tensors_to_lists(data)
        if any(isinstance(e, (np.generic, np.ndarray)) for e in _flat_first(data)):
            return _infer_with_numpy_items(data)
        kind = _scan_kind(data)
        try:
            arr = np.array(data)
        except ValueError as e:
            raise ValueError(
                f"expected sequence of length {_first_len(data)} at dim 1 (got "
                f"{_bad_len(data)})") from e
        if arr.dtype == object:
            raise TypeError(f"can't convert object of type {type(data).__name__} to a tensor")
        if kind == "f":
            return arr.astype(D.default.np)
        if kind == "i":
            return arr.astype(np.int64)
        if kind == "b":
            return arr.astype(np.bool_)
        if kind == "c":
            return arr.astype(_default_complex_np())
        if arr.size == 0:
            return arr.astype(D.default.np)
        return arr
    if hasattr(data, "__array__"):
        return np.asarray(data)
    if isinstance(data, str):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    raise TypeError(
        f"Could not infer dtype of {type(data).__name__}")


def _item_dtype(e):
    """PyTorch's scalar type of one sequence item (NumPy values keep their own dtype)."""
    if isinstance(e, (np.generic, np.ndarray)):
        return D.from_np(np.dtype(e.dtype))
    return D.scalar_dtype(e)


def _infer_with_numpy_items(data):
    """Sequences holding NumPy scalars/arrays: the items' dtypes promote (python floats count
    as the default dtype), as torch.tensor infers them."""
    dt = None
    for e in _flat_first(data):
        if isinstance(e, np.ndarray):
            t = D.from_np(e.dtype)
        elif isinstance(e, (bool, int, float, complex, np.generic)):
            t = _item_dtype(e)
        else:
            raise TypeError(f"new(): invalid data type '{type(e).__name__}'")
        dt = t if dt is None else D.promote_types(dt, t)
    try:
        arr = np.array([np.asarray(e) if isinstance(e, np.ndarray) else e for e in data]
                       if isinstance(data, (list, tuple)) else data)
    except ValueError as e:
        raise ValueError(
            f"expected sequence of length {_first_len(data)} at dim 1 (got "
            f"{_bad_len(data)})") from e
    return arr.astype(dt.np if dt is not None else D.default.np)


def _flat_first(data):
    stack = [data]
    while stack:
        d = stack.pop()
        if isinstance(d, (list, tuple)):
            stack.extend(d)
        else:
            yield d


def _tensors_to_lists(data):
    if isinstance(data, Tensor):
        return data._data.tolist() if data.ndim else data.item()
    if isinstance(data, (list, tuple)):
        return [_tensors_to_lists(d) for d in data]
    return data


def _scan_kind(data):
    kind = None
    rank = {"b": 0, "i": 1, "f": 2, "c": 3}
    for e in _flat_first(data):
        if isinstance(e, bool) or isinstance(e, np.bool_):
            k = "b"
        elif isinstance(e, numbers.Integral):
            k = "i"
        elif isinstance(e, numbers.Real):
            k = "f"
        elif isinstance(e, numbers.Complex):
            k = "c"
        else:
            raise TypeError(f"new(): invalid data type '{type(e).__name__}'")
        if kind is None or rank[k] > rank[kind]:
            kind = k
    return kind


def _first_len(data):
    return len(data[0]) if data and isinstance(data[0], (list, tuple)) else 0


def _bad_len(data):
    if not data or not isinstance(data[0], (list, tuple)):
        return 0
    n = len(data[0])
    for d in data:
        if isinstance(d, (list, tuple)) and len(d) != n:
            return len(d)
    return n


def _default_complex_np():
    """The complex dtype Python complex data takes (PyTorch has none for a bfloat16 default)."""
    if D.default.dtype is D.bfloat16:
        raise RuntimeError("invalid default scalar type for complex")
    return np.complex64 if D.default.np != np.float64 else np.complex128


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    if isinstance(dtype, str):
        raise TypeError("tensor(): argument 'dtype' must be torch.dtype, not str")
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach()."
            "clone() or sourceTensor.detach().clone().requires_grad_(True), rather than "
            "torch.tensor(sourceTensor).", UserWarning, stacklevel=2)
        if device is None and data.is_cuda:  # the copy stays on the source's device (PyTorch)
            device = data.device
    elif device is None and hasattr(data, "__cuda_array_interface__"):  # a CuPy array
        device = "cuda"
    try:
        arr = _infer_np(data)
    except RuntimeError as e:  # complex data under a bfloat16 default: fine with a dtype=
        if dtype is None or str(e) != "invalid default scalar type for complex":
            raise
        arr = np.array(data, dtype=_dt(dtype))
    if type(arr) is not np.ndarray and hasattr(arr, "get"):
        arr = arr.get()
    if (dtype is not None and isinstance(data, (float, complex, list, tuple))
            and arr.dtype.kind in "fcV" and np.dtype(_dt(dtype)).itemsize > arr.dtype.itemsize):
        # Python floats with an explicit wider dtype: convert directly, not via float32
        try:
            arr = np.array(data, dtype=_dt(dtype))
        except (TypeError, ValueError, RuntimeError):
            pass
    arr = np.array(arr, dtype=_dt(dtype, arr.dtype), copy=True)
    return _finish(arr, requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor):
        if dtype is None and device is None:
            return data
        return data.to(dtype=dtype, device=device)
    if isinstance(data, np.ndarray):
        if data.dtype.kind == "V":  # an ml_dtypes array: PyTorch refuses it, as from_numpy
            from_numpy(data)
        arr = data if dtype is None else data.astype(_dt(dtype), copy=False)
        return _finish(arr, False, device)
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(a):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(a).__name__})")
    if not a.dtype.isnative:
        raise ValueError(
            "given numpy array has byte order different from the native byte order. "
            "Conversion between byte orders is currently not supported.")
    if a.dtype not in D.FROM_NP or a.dtype.kind == "V":  # torch refuses ml_dtypes' bfloat16
        raise TypeError(
            f"can't convert np.ndarray of type "
            f"{'ml_dtypes' if a.dtype.kind == 'V' else 'numpy'}.{a.dtype}. The only supported types are: "
            f"float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
            f"uint8, and bool.")
    return _make(a)


def _legacy_tensor(*args, **kwargs):
    """torch.Tensor(...): sizes give an uninitialised float tensor, data gives a float copy."""
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        a = args[0]
        if isinstance(a, Tensor):
            return a
        return _make(np.array(_infer_np(a), dtype=D.default.np))
    if not args:
        return _make(np.empty((0,), dtype=D.default.np))
    return _make(np.empty(_size(args), dtype=D.default.np))


# ---------------------------------------------------------------- filled
def _filled(fill, size, dtype, device, requires_grad, out=None):
    shape = _size(size)
    xp = _xp(device)
    dt = _dt(dtype)
    if xp is not np and dt.kind == "V":  # bfloat16 (ml_dtypes): CuPy has none
        raise TypeError(BF16_CUDA)
    arr = xp.full(shape, fill, dtype=dt) if fill is not None else xp.empty(shape, dtype=dt)
    t = _make(arr)
    if requires_grad:
        _factory_requires_grad(t)
    if out is not None:
        out._data = arr
        return out
    return t


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None,
          pin_memory=False, **size_kw):
    size = _size_kw(size, size_kw)
    if not size:
        raise TypeError('zeros() missing 1 required positional arguments: "size"')
    return _filled(0, size, dtype, device, requires_grad, out)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None,
         pin_memory=False, **size_kw):
    size = _size_kw(size, size_kw)
    if not size:
        raise TypeError('ones() missing 1 required positional arguments: "size"')
    return _filled(1, size, dtype, device, requires_grad, out)


def empty(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None,
          pin_memory=False, memory_format=None, **size_kw):
    size = _size_kw(size, size_kw)
    if not size:
        raise TypeError('empty() missing 1 required positional arguments: "size"')
    return _filled(None, size, dtype, device, requires_grad, out)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None,
         layout=None):
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = D.scalar_dtype(fill_value)
    return _filled(fill_value, (size,) if isinstance(size, int) else (tuple(size),), dtype,
                   device, requires_grad, out)


def _like(x, dtype):
    return x.dtype if dtype is None else dtype


def zeros_like(x, *, dtype=None, device=None, requires_grad=False, memory_format=None,
               layout=None):
    return _filled(0, x.shape, _like(x, dtype), device or x.device, requires_grad)


def ones_like(x, *, dtype=None, device=None, requires_grad=False, memory_format=None,
              layout=None):
    return _filled(1, x.shape, _like(x, dtype), device or x.device, requires_grad)


def empty_like(x, *, dtype=None, device=None, requires_grad=False, memory_format=None,
               layout=None):
    return _filled(None, x.shape, _like(x, dtype), device or x.device, requires_grad)


def full_like(x, fill_value, *, dtype=None, device=None, requires_grad=False,
              memory_format=None, layout=None):
    return _filled(fill_value, x.shape, _like(x, dtype), device or x.device, requires_grad)


def arange(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False,
           out=None, layout=None):
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError(
            "upper bound and lower bound inconsistent with step sign")
    if dtype is None:
        dtype = D.default.dtype if any(isinstance(v, float) for v in vals) else D.int64
    npdt = _dt(dtype)
    import math
    n = max(0, math.ceil((end - start) / step))
    arr = (np.arange(n, dtype=np.float64) * step + start).astype(npdt) if np.dtype(
        npdt).kind in "fV" else np.arange(start, end, step).astype(npdt)
    return _finish(arr[:n], requires_grad, device)


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    if end is None:
        start, end = 0, start
    n = int((end - start) // step) + 1
    arr = (np.arange(n, dtype=np.float64) * step + start).astype(_dt(dtype))
    return _finish(arr, requires_grad, device)


def _fma(a, b, c):
    """a*b + c rounded once (as PyTorch's FMA-compiled CPU kernels): Dekker two-product."""
    split = 134217729.0 if a.dtype == np.float64 else 4097.0
    p = a * b
    ca, cb = a * split, b * split
    ah, bh = ca - (ca - a), cb - (cb - b)
    al, bl = a - ah, b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s = c + p
    bb = s - c
    t = (c - (s - bb)) + (p - bb)
    return s + (t + e)


def _linspace_float(start, end, steps, dt):
    """PyTorch's CPU linspace bit for bit: start + step*i for the first half, end - step*(n-1-i)
    for the second, in the output dtype with one rounding (float16: half arithmetic)."""
    if dt.kind == "c":
        step = (end - start) / (steps - 1) if steps > 1 else 0.0
        i = np.arange(steps, dtype=np.float64)
        arr = np.where(i < steps // 2, start + step * i, end - step * (steps - 1 - i))
        if steps == 1:
            arr[:] = start
        return arr.astype(dt)
    cd = dt.type
    with np.errstate(all="ignore"):
        s, e = cd(start), cd(end)
        if steps <= 1:
            return np.full(steps, s, dt)
        idx = np.arange(steps)
        first = idx < steps // 2
        if dt == np.float16 or dt.kind == "V":  # half / bfloat16 arithmetic
            if dt.kind == "V":  # bfloat16: the step from the float32 (not rounded) ends
                step = cd((np.float32(end) - np.float32(start)) / np.float32(steps - 1))
            else:
                step = cd((np.float32(e) - np.float32(s)) / np.float32(steps - 1))
            st = np.full(steps, step, dt)
            return np.where(first, s + st * idx.astype(dt), e - st * (steps - idx - 1).astype(dt))
        step = (e - s) / cd(steps - 1)
        st = np.full(steps, step, dt)
        lo = _fma(st, idx.astype(dt), np.full(steps, s, dt))
        hi = _fma(-st, (steps - idx - 1).astype(dt), np.full(steps, e, dt))
        return np.where(first, lo, hi)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, out=None,
             layout=None):
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    if isinstance(start, Tensor):
        start = start.item()
    if isinstance(end, Tensor):
        end = end.item()
    npdt = _dt(dtype)
    if np.dtype(npdt).kind in "iu":
        arr = np.linspace(start, end, steps, dtype=np.float64)
        arr = np.trunc(arr).astype(npdt) if True else arr
    else:
        arr = _linspace_float(start, end, steps, np.dtype(npdt))
    return _finish(arr, requires_grad, device)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    lin = linspace(start, end, steps, dtype=D.float64)._data
    return _finish((base ** lin).astype(_dt(dtype)), requires_grad, device)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    if m is None:
        m = n
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    return _finish(np.eye(n, m, dtype=_dt(dtype)), requires_grad, device)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return _finish(np.asarray(s, dtype=_dt(dtype)), requires_grad, device)


def complex_(real, imag):
    if real._rg or imag._rg:  # differentiable: ComplexBackward0
        from .ops.extra import _complex_from
        return _complex_from(real, imag)
    return _make((real._data + 1j * imag._data).astype(
        np.complex64 if real._data.dtype == np.float32 else np.complex128))


def polar(abs_, angle):
    return complex_(abs_ * angle.cos(), abs_ * angle.sin())


def tril_indices(row, col, offset=0, *, dtype=None, device=None):
    r, c = np.tril_indices(row, offset, col)
    return _finish(np.stack([r, c]).astype(_dt(dtype, np.int64)), False, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None):
    r, c = np.triu_indices(row, offset, col)
    return _finish(np.stack([r, c]).astype(_dt(dtype, np.int64)), False, device)


def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
            "argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    ts = list(tensors)
    n = len(ts)
    shape = [t.numel() for t in ts]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    outs = []
    for i, t in enumerate(ts):
        view = [1] * n
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        view[pos] = -1
        outs.append(t.reshape(view).expand(shape))
    return tuple(outs)


def cartesian_prod(*tensors):
    grids = meshgrid(*tensors, indexing="ij")
    from .ops.movement import stack
    if len(grids) == 1:
        return tensors[0]
    return stack([g.reshape(-1) for g in grids], 1)


# ---------------------------------------------------------------- random
class Generator:
    """torch.Generator over NumPy's PCG64."""

    def __init__(self, device="cpu"):
        self.device = _device(device)
        self._seed = 67280421310721
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed):
        seed = int(seed)
        if seed < 0:
            seed &= 0xFFFFFFFFFFFFFFFF
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self):
        s = int.from_bytes(np.random.default_rng().bytes(8), "little") & ((1 << 63) - 1)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        import pickle
        return tensor(list(pickle.dumps(self._rng.bit_generator.state)), dtype=D.uint8)

    def set_state(self, state):
        import pickle
        self._rng.bit_generator.state = pickle.loads(bytes(state.tolist()))
        return self


default_generator = Generator()


def manual_seed(seed):
    default_generator.manual_seed(seed)
    return default_generator


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def _rng(generator):
    return (generator or default_generator)._rng


def _float_dt(dtype, fn, complex_ok=False):
    npdt = _dt(dtype)
    if np.dtype(npdt).kind not in ("fVc" if complex_ok else "fV"):  # V: bfloat16
        from .tensor import _SCALAR_NAME
        name = D.from_np(np.dtype(npdt)).name
        raise NotImplementedError(f'"{fn}" not implemented for \'{_SCALAR_NAME.get(name, name)}\'')
    return npdt


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None,
         layout=None, pin_memory=False, **size_kw):
    size = _size_kw(size, size_kw)
    npdt = _float_dt(dtype, "check_uniform_bounds", True)
    shape = _size(size)
    r = _rng(generator)
    if np.dtype(npdt).kind == "c":  # PyTorch: real and imaginary parts each U[0, 1)
        return _finish(_complex_draw(r.random, shape, npdt, 1.0), requires_grad, device)
    arr = r.random(shape, dtype=np.float32 if npdt == np.float32 else np.float64).astype(
        npdt, copy=False)
    return _finish(arr, requires_grad, device)


def _complex_draw(draw, shape, npdt, scale):
    """A complex array whose (real, imag) pairs are consecutive draws (PyTorch's layout: the
    complex tensor viewed as real), times scale."""
    fdt = np.float32 if npdt == np.complex64 else np.float64
    parts = draw(tuple(shape) + (2,), dtype=fdt)
    if scale != 1.0:
        parts *= fdt(scale)
    return parts.view(npdt)[..., 0]


def rand_like(x, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return rand(x.shape, dtype=dtype or x.dtype, device=device or x.device,
                requires_grad=requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None,
          layout=None, pin_memory=False, **size_kw):
    size = _size_kw(size, size_kw)
    npdt = _float_dt(dtype, "normal_kernel_cpu", True)
    shape = _size(size)
    r = _rng(generator)
    if np.dtype(npdt).kind == "c":  # PyTorch: real and imaginary parts each N(0, 1/2)
        return _finish(_complex_draw(r.standard_normal, shape, npdt, 0.5 ** 0.5), requires_grad,
                       device)
    arr = r.standard_normal(shape, dtype=np.float32 if npdt == np.float32 else
                            np.float64).astype(npdt, copy=False)
    return _finish(arr, requires_grad, device)


def randn_like(x, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    return randn(x.shape, dtype=dtype or x.dtype, device=device or x.device,
                 requires_grad=requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False, out=None, layout=None):
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing 1 required positional arguments: \"size\"")
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    arr = _rng(generator).integers(low, high, _size((size,) if isinstance(size, int) else
                                                    (tuple(size),)), dtype=np.int64)
    return _finish(arr.astype(_dt(dtype, np.int64)), requires_grad, device)


def randint_like(x, low=0, high=None, *, dtype=None, device=None, requires_grad=False,
                 memory_format=None, layout=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, x.shape, dtype=dtype or x.dtype, device=device or x.device,
                   requires_grad=requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False, out=None,
             layout=None):
    arr = _rng(generator).permutation(n).astype(_dt(dtype, np.int64))
    return _finish(arr, requires_grad, device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, out=None,
           device=None, requires_grad=False):
    r = _rng(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        dev = (mean if isinstance(mean, Tensor) else std).device
        if dev.type != "cpu":  # CuPy: drawn on the host (CPU's stream), moved
            def h(v):
                return v.cpu() if isinstance(v, Tensor) else v
            return normal(h(mean), h(std), generator=generator).to(dev)
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        if isinstance(std, Tensor) and (std._data < 0).any():
            raise RuntimeError("normal expects all elements of std >= 0.0")
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        dt = (mean if isinstance(mean, Tensor) else std)._data.dtype
        arr = (r.standard_normal(shape) * s + m).astype(dt)
        return _make(arr)
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    shape = _size((size,) if isinstance(size, int) else (tuple(size or ()),))
    npdt = _dt(dtype)
    if np.dtype(npdt).kind == "c":  # PyTorch: real and imaginary parts each N(mean, std**2 / 2)
        parts = r.standard_normal(tuple(shape) + (2,)) * (std * 0.5 ** 0.5) + mean
        return _finish((parts[..., 0] + 1j * parts[..., 1]).astype(npdt), requires_grad, device)
    arr = (r.standard_normal(shape) * std + mean).astype(npdt)
    return _finish(arr, requires_grad, device)


def bernoulli(x, p=None, *, generator=None):
    if type(x._data) is not np.ndarray:  # CuPy: drawn on the host (CPU's stream), moved
        return bernoulli(x.cpu(), p.cpu() if isinstance(p, Tensor) else p,
                         generator=generator).to(x.device)
    probs = x._data if p is None else np.full(x.shape, p)
    arr = (_rng(generator).random(probs.shape) < probs).astype(x._data.dtype)
    return _make(arr)


def multinomial(probs, num_samples, replacement=False, *, generator=None):
    if type(probs._data) is not np.ndarray:  # CuPy: drawn on the host (CPU's stream), moved
        return multinomial(probs.cpu(), num_samples, replacement, generator=generator).to(
            probs.device)
    p = probs._data.astype(np.float64)
    r = _rng(generator)
    if p.ndim == 1:
        p2 = p[None]
    else:
        p2 = p
    if (p2 < 0).any() or not np.isfinite(p2).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    out = []
    for row in p2:
        s = row.sum()
        if s <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if not replacement and num_samples > (row > 0).sum():
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                               "replacement")
        out.append(r.choice(len(row), num_samples, replace=replacement, p=row / s))
    arr = np.asarray(out, dtype=np.int64)
    return _make(arr[0] if p.ndim == 1 else arr)


def poisson(rates, generator=None):
    if type(rates._data) is not np.ndarray:  # CuPy: drawn on the host, moved
        return poisson(rates.cpu(), generator).to(rates.device)
    return _make(_rng(generator).poisson(rates._data).astype(rates._data.dtype))
