"""dagrad.save / dagrad.load: PyTorch's checkpoint formats without PyTorch.

Reads
  * the zip format `torch.save` writes since 1.6 (any archive prefix, little or big byte order,
    shared storages and views, untyped storages of `_rebuild_tensor_v3`),
  * the legacy non-zip format (`_use_new_zipfile_serialization=False`),
  * safetensors files,
and writes the zip format that `torch.load(weights_only=True)` reads back identically.

Unpickling is restricted (`weights_only=True`, the default): only the globals that
`torch.load(weights_only=True)` allows resolve; any other global fails with an
`UnpicklingError` naming it, before anything from the file is called. bfloat16 storages load
bit-exact as torch.bfloat16 (ml_dtypes' NumPy bfloat16; without ml_dtypes an ImportError names
the fix). The NumPy-backed runtime has no float8 / uint16-64: such storages are converted
(float8 to float32, uint16 to int32, uint32 to int64) with a warning.
"""
import codecs
import collections
import copyreg
import io
import json
import os
import pickle
import pickletools
import struct
import warnings
import zipfile

import numpy as np

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals", "save_file", "load_file", "save_safetensors", "load_safetensors",
           "UnpicklingError", "DEFAULT_PROTOCOL"]

UnpicklingError = pickle.UnpicklingError
DEFAULT_PROTOCOL = 2
MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
_ALIGN = 64

# --------------------------------------------------------------------------------- dtypes
# storage class name -> (torch dtype name, on-disk numpy dtype (little endian), itemsize)
_STORAGE_TYPES = {
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16",
    "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16",
    "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool",
    "BFloat16Storage": "bfloat16", "ComplexDoubleStorage": "complex128",
    "ComplexFloatStorage": "complex64", "QInt8Storage": "qint8", "QInt32Storage": "qint32",
    "QUInt8Storage": "quint8", "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4",
}
_DTYPE_TO_STORAGE = {v: k for k, v in _STORAGE_TYPES.items()}

# torch dtype name -> (raw numpy dtype of the bytes, itemsize)
_RAW = {
    "float64": "<f8", "float32": "<f4", "float16": "<f2", "int64": "<i8", "int32": "<i4",
    "int16": "<i2", "int8": "i1", "uint8": "u1", "bool": "?", "complex128": "<c16",
    "complex64": "<c8", "bfloat16": "<u2", "uint16": "<u2", "uint32": "<u4", "uint64": "<u8",
    "complex32": "<f2", "float8_e4m3fn": "u1", "float8_e5m2": "u1", "float8_e4m3fnuz": "u1",
    "float8_e5m2fnuz": "u1", "float8_e8m0fnu": "u1",
}
_NATIVE = {"float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool",
           "complex128", "complex64"}
_CONVERTED = {"uint16": "int32", "uint32": "int64", "uint64": "int64",
              "complex32": "complex64", "float8_e4m3fn": "float32", "float8_e5m2": "float32",
              "float8_e4m3fnuz": "float32", "float8_e5m2fnuz": "float32",
              "float8_e8m0fnu": "float32"}
_UNSUPPORTED = {"qint8", "qint32", "quint8", "quint4x2", "quint2x4", "bits1x8", "bits2x4",
                "bits4x2", "bits8", "bits16", "float4_e2m1fn_x2", "int1", "int2", "int3",
                "int4", "int5", "int6", "int7", "uint1", "uint2", "uint3", "uint4", "uint5",
                "uint6", "uint7"}
_ALL_DTYPE_NAMES = set(_RAW) | _UNSUPPORTED


def _itemsize(name):
    if name == "complex32":
        return 4
    if name in _RAW:
        return np.dtype(_RAW[name]).itemsize
    return 1


def _float8_table(name):
    """float32 values of the 256 codes of a float8 format."""
    codes = np.arange(256, dtype=np.int64)
    if name == "float8_e8m0fnu":
        out = np.ldexp(1.0, codes - 127).astype(np.float64)
        out[255] = np.nan
        return out.astype(np.float32)
    ebits, mbits, bias = {"float8_e4m3fn": (4, 3, 7), "float8_e5m2": (5, 2, 15),
                          "float8_e4m3fnuz": (4, 3, 8), "float8_e5m2fnuz": (5, 2, 16)}[name]
    sign = np.where(codes >> 7, -1.0, 1.0)
    e = (codes >> mbits) & ((1 << ebits) - 1)
    m = codes & ((1 << mbits) - 1)
    normal = sign * np.ldexp(1.0 + m / (1 << mbits), e - bias)
    sub = sign * np.ldexp(m / (1 << mbits), 1 - bias)
    out = np.where(e == 0, sub, normal)
    if name == "float8_e4m3fn":
        out[(codes & 0x7F) == 0x7F] = np.nan
    elif name == "float8_e5m2":
        top = e == (1 << ebits) - 1
        out[top & (m == 0)] = sign[top & (m == 0)] * np.inf
        out[top & (m != 0)] = np.nan
    else:  # fnuz: 0x80 is the only NaN, no negative zero
        out[0x80] = np.nan
    return out.astype(np.float32)


def _convert(raw, name):
    """Array of a dtype NumPy lacks (given as its raw little-endian view) -> dagrad dtype."""
    if name == "bfloat16":
        return (raw.astype(np.uint32) << 16).view(np.float32)
    if name == "uint16":
        return raw.astype(np.int32)
    if name == "uint32":
        return raw.astype(np.int64)
    if name == "uint64":
        if raw.size and raw.max() > np.iinfo(np.int64).max:
            raise RuntimeError("dagrad cannot load a uint64 tensor with values above 2**63 - 1")
        return raw.astype(np.int64)
    if name == "complex32":
        f = raw.astype(np.float32)
        return (f[0::2] + 1j * f[1::2]).astype(np.complex64)
    if name.startswith("float8"):
        return _float8_table(name)[raw]
    raise RuntimeError(f"dagrad cannot load tensors of dtype torch.{name}")


# --------------------------------------------------------------------------- load helpers
class _Global:
    """Stand-in for a torch global (a dtype, a storage class, torch.Size...) read from a file."""
    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __repr__(self):
        return f"<class '{self.module}.{self.name}'>"


class _StorageType(_Global):
    __slots__ = ()

    @property
    def dtype(self):
        return _STORAGE_TYPES.get(self.name)


class _DtypeName(_Global):
    __slots__ = ()


class _LoadedStorage:
    """One storage of a checkpoint: its raw bytes, typed lazily (shared by every view)."""
    __slots__ = ("raw", "dtype", "big", "_typed", "_typed_name", "key", "location")

    def __init__(self, raw, dtype, big, key):
        self.location = "cpu"     # the device it was saved from ('cuda:0'...)
        self.raw = raw            # writable uint8 ndarray
        self.dtype = dtype        # torch dtype name, or None for an UntypedStorage
        self.big = big
        self._typed = None
        self._typed_name = None
        self.key = key

    def typed(self, name):
        if self._typed is not None:
            if name != self._typed_name:
                if _itemsize(name) == _itemsize(self._typed_name) and name in _NATIVE and \
                        self._typed_name in _NATIVE:
                    return self._typed.view(_np_dtype(name))
                raise RuntimeError(
                    f"storage {self.key!r} is viewed as both torch.{self._typed_name} and "
                    f"torch.{name}; dagrad cannot load such a checkpoint")
            return self._typed
        if name in _UNSUPPORTED:
            raise RuntimeError(
                f"dagrad cannot load tensors of dtype torch.{name} (quantized and bit-packed "
                "dtypes are not supported)")
        if name not in _RAW:
            raise RuntimeError(f"dagrad cannot load tensors of unknown dtype {name!r}")
        rawdt = np.dtype(_RAW[name])
        if self.raw.nbytes % rawdt.itemsize:
            raise RuntimeError(
                f"corrupted checkpoint: storage {self.key!r} has {self.raw.nbytes} bytes, not a "
                f"multiple of the element size {rawdt.itemsize} of torch.{name}")
        arr = self.raw.view(rawdt)
        if self.big and rawdt.itemsize > 1:
            if name in ("complex64", "complex128"):
                arr.view(rawdt.str[:1] + "f" + str(rawdt.itemsize // 2)).byteswap(inplace=True)
            else:
                arr.byteswap(inplace=True)
        if name == "bfloat16":  # bit-exact: ml_dtypes' bfloat16 (ImportError naming the fix)
            from . import _dtype as D
            arr = arr.view(D.bf16_np())
        if name in _CONVERTED:
            warnings.warn(
                f"dagrad has no torch.{name}: tensors of that dtype are loaded as "
                f"torch.{_CONVERTED[name]}", UserWarning, stacklevel=4)
            arr = _convert(arr, name)
        self._typed = arr
        self._typed_name = name
        return arr


def _np_dtype(name):
    return np.dtype(_RAW[name]).newbyteorder("=")


def _as_view(storage, offset, size, stride, dtype_name):
    arr = storage.typed(dtype_name)
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride) if stride is not None else None
    if len(size) != (len(stride) if stride is not None else len(size)):
        raise RuntimeError(f"corrupted checkpoint: size {size} and stride {stride} differ in length")
    if any(s < 0 for s in size) or (stride and any(s < 0 for s in stride)) or offset < 0:
        raise RuntimeError(
            f"corrupted checkpoint: negative size, stride or offset ({size}, {stride}, {offset})")
    numel = 1
    for s in size:
        numel *= s
    if numel == 0:
        return np.zeros(size, dtype=arr.dtype)
    if stride is None:
        stride = []
        acc = 1
        for s in reversed(size):
            stride.insert(0, acc)
            acc *= s
        stride = tuple(stride)
    last = offset + sum((s - 1) * st for s, st in zip(size, stride))
    if last >= arr.shape[0]:
        raise RuntimeError(
            f"corrupted checkpoint: a tensor of size {list(size)}, stride {list(stride)} and "
            f"offset {offset} needs {last + 1} elements but its storage {storage.key!r} has "
            f"{arr.shape[0]}")
    item = arr.dtype.itemsize
    return np.ndarray(size, dtype=arr.dtype, buffer=arr, offset=offset * item,
                      strides=tuple(st * item for st in stride))


def _wrap(arr, requires_grad=False):
    from .tensor import _make
    t = _make(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def _storage_dtype(storage):
    if storage.dtype is None:
        raise RuntimeError("corrupted checkpoint: an untyped storage used without a dtype")
    return storage.dtype


def _rebuild_tensor(storage, storage_offset, size, stride):
    if not isinstance(storage, _LoadedStorage):
        raise UnpicklingError("corrupted checkpoint: a tensor without a storage")
    return _located(_wrap(_as_view(storage, storage_offset, size, stride,
                                   _storage_dtype(storage))), storage)


_LOCS = {}  # id(array) -> saved location, for the tensors of the load in progress


def _located(t, storage):
    if storage.location != "cpu":
        _LOCS[id(t._data)] = storage.location
    return t


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    t = _rebuild_tensor(storage, storage_offset, size, stride)
    if requires_grad:
        t.requires_grad = True
    return t


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    if not isinstance(storage, _LoadedStorage):
        raise UnpicklingError("corrupted checkpoint: a tensor without a storage")
    name = dtype.name if isinstance(dtype, _Global) else getattr(dtype, "name", str(dtype))
    t = _located(_wrap(_as_view(storage, storage_offset, size, stride, name)), storage)
    if requires_grad:
        t.requires_grad = True
    return t


def _parameter_class():
    try:
        from .nn.parameter import Parameter
        return Parameter
    except ImportError:  # pragma: no cover - nn not built
        return None


def _rebuild_parameter(data, requires_grad, backward_hooks):
    P = _parameter_class()
    if P is None:
        return _wrap(data._data, requires_grad)
    return P(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    p = _rebuild_parameter(data, requires_grad, backward_hooks)
    if isinstance(state, dict):
        for k, v in state.items():
            setattr(p, k, v)
    return p


def _rebuild_from_type_v2(func, new_type, args, state):
    ret = func(*args)
    from .tensor import Tensor
    if isinstance(new_type, type) and issubclass(new_type, Tensor) and type(ret) is not new_type:
        if new_type.__name__ == "Parameter":
            ret = new_type(ret, ret.requires_grad)
    if state:
        if isinstance(state, tuple) and len(state) == 2:
            state, slots = state
            for k, v in (slots or {}).items():
                setattr(ret, k, v)
        for k, v in (state or {}).items():
            setattr(ret, k, v)
    return ret


def _torch_size(*args):
    from .tensor import Size
    return Size(*args)


def _torch_device(*args):
    from .tensor import device
    return device(*args)


def _torch_tensor(*args):
    from .tensor import Tensor
    return Tensor(*args)


def _get_layout(name):
    return name


def _dtype_global(name):
    from . import _dtype as D
    if name in D._NAMES:
        return D._NAMES[name]
    return _DtypeName("torch", name)


def _allowed_globals():
    rc = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("collections", "Counter"): collections.Counter,
        ("torch.nn.parameter", "Parameter"): _parameter_class() or _rebuild_parameter,
        ("torch.serialization", "_get_layout"): _get_layout,
        ("torch", "Size"): _torch_size,
        ("torch", "Tensor"): _torch_tensor,
        ("torch", "device"): _torch_device,
        ("_codecs", "encode"): codecs.encode,
        ("builtins", "bytearray"): bytearray,
        ("builtins", "set"): set,
        ("builtins", "complex"): complex,
        ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
        ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
        ("torch.storage", "UntypedStorage"): _StorageType("torch.storage", "UntypedStorage"),
        ("torch", "UntypedStorage"): _StorageType("torch", "UntypedStorage"),
    }
    for n in _STORAGE_TYPES:
        rc[("torch", n)] = _StorageType("torch", n)
    for n in _ALL_DTYPE_NAMES:
        rc[("torch", n)] = _dtype_global(n)
    for n in ("per_tensor_affine", "per_tensor_symmetric", "per_channel_affine",
              "per_channel_symmetric", "per_channel_affine_float_qparams"):
        rc[("torch", n)] = _Global("torch", n)
    for n in ("FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor",
              "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"):
        rc[("torch", n)] = _Global("torch", n)
    return rc


_ALLOWED = None
_USER_ALLOWED = {}


def add_safe_globals(safe_globals):
    """Allow extra globals (objects or (object, "module.name") pairs) under weights_only."""
    for g in safe_globals:
        if isinstance(g, tuple):
            obj, full = g
        else:
            obj, full = g, f"{g.__module__}.{g.__qualname__}"
        mod, _, name = full.rpartition(".")
        _USER_ALLOWED[(mod, name)] = obj


def get_safe_globals():
    return list(_USER_ALLOWED.values())


def clear_safe_globals():
    _USER_ALLOWED.clear()


class safe_globals:
    def __init__(self, globs):
        self.globs = globs

    def __enter__(self):
        self.saved = dict(_USER_ALLOWED)
        add_safe_globals(self.globs)

    def __exit__(self, *exc):
        _USER_ALLOWED.clear()
        _USER_ALLOWED.update(self.saved)


_BLOCKED_OPS = {"EXT1", "EXT2", "EXT4", "INST", "OBJ"}


def _unsupported_global(module, name):
    full = f"{module}.{name}"
    if module == "builtins":
        full = name
    return UnpicklingError(
        "Weights only load failed. dagrad.load runs with weights_only=True and allows only what "
        "torch.load(weights_only=True) allows; nothing from the file was executed.\n"
        f"Unsupported global: GLOBAL {full} was not an allowed global by default. Please use "
        f"`dagrad.serialization.add_safe_globals([{full}])` to allowlist this global if you "
        "trust this class/function, or load with weights_only=False if you trust the whole file.")


def _prescan(data):
    """Reject opcodes the restricted unpickler does not route through find_class."""
    try:
        for op, arg, pos in pickletools.genops(data):
            if op.name in _BLOCKED_OPS:
                if op.name in ("INST",):
                    mod, _, name = str(arg).partition(" ")
                    raise _unsupported_global(mod, name)
                raise UnpicklingError(
                    f"Weights only load failed: unsupported pickle opcode {op.name} at byte {pos}")
    except UnpicklingError:
        raise
    except Exception as e:
        raise UnpicklingError(f"corrupted checkpoint: the pickle could not be parsed ({e})") from None


def _fix_name(module, name):
    """Python 2 names in protocol <= 2 pickles (__builtin__.set -> builtins.set)."""
    import _compat_pickle
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, persistent_load, weights_only):
        super().__init__(file, encoding="utf-8")
        self._pl = persistent_load
        self._weights_only = weights_only

    def persistent_load(self, pid):
        return self._pl(pid)

    def find_class(self, module, name):
        global _ALLOWED
        if _ALLOWED is None:
            _ALLOWED = _allowed_globals()
        module, name = _fix_name(module, name)
        key = (module, name)
        if key in _ALLOWED:
            return _ALLOWED[key]
        if key in _USER_ALLOWED:
            return _USER_ALLOWED[key]
        if self._weights_only:
            raise _unsupported_global(module, name)
        if module == "torch" or module.startswith("torch."):
            mod = "dagrad" + module[5:]
            try:
                return super().find_class(mod, name)
            except (ImportError, AttributeError):
                raise UnpicklingError(f"dagrad has no equivalent of {module}.{name}") from None
        if module == "torchvision" or module.startswith("torchvision."):
            return super().find_class("dagrad.vision" + module[11:], name)
        return super().find_class(module, name)


def _unpickle(data, persistent_load, weights_only):
    if weights_only:
        _prescan(data)
    up = _Unpickler(io.BytesIO(data), persistent_load, weights_only)
    try:
        return up.load()
    except UnpicklingError:
        raise
    except (EOFError, ValueError, struct.error, IndexError, KeyError, TypeError) as e:
        raise UnpicklingError(f"corrupted checkpoint: unpickling failed ({type(e).__name__}: {e})") \
            from None


def _pid_storage(pid):
    if not isinstance(pid, tuple) or not pid:
        raise UnpicklingError(f"unsupported persistent id encountered: {pid!r}")
    typename = pid[0].decode("ascii") if isinstance(pid[0], bytes) else pid[0]
    if typename != "storage":
        raise UnpicklingError(f"Unknown saved id type: {typename!r}")
    return pid[1:]


def _storage_type_name(storage_type):
    if isinstance(storage_type, _StorageType):
        return storage_type.dtype  # None for UntypedStorage
    raise UnpicklingError(f"corrupted checkpoint: {storage_type!r} is not a storage type")


# ------------------------------------------------------------------------------ zip format
def _read_zip(zf, weights_only):
    names = zf.namelist()
    pkl = [n for n in names if n == "data.pkl" or n.endswith("/data.pkl")]
    if not pkl:
        if any(n.endswith("constants.pkl") for n in names):
            raise RuntimeError("this file is a TorchScript archive (torch.jit.save); dagrad can "
                               "load only torch.save checkpoints")
        raise RuntimeError("corrupted checkpoint: the zip archive has no data.pkl record")
    pkl = min(pkl, key=len)
    prefix = pkl[: -len("data.pkl")]
    big = False
    if prefix + "byteorder" in names:
        bo = zf.read(prefix + "byteorder").decode("ascii", "replace").strip()
        if bo not in ("little", "big"):
            raise RuntimeError(f"corrupted checkpoint: unknown byteorder {bo!r}")
        big = bo == "big"
    cache = {}

    def persistent_load(pid):
        storage_type, key, location, numel = _pid_storage(pid)[:4]
        key = str(key)
        if key in cache:
            return cache[key]
        dtype = _storage_type_name(storage_type)
        rec = prefix + "data/" + key
        try:
            info = zf.getinfo(rec)
        except KeyError:
            raise RuntimeError(f"corrupted checkpoint: storage record {rec!r} is missing") from None
        nbytes = numel * (_itemsize(dtype) if dtype else 1)
        if info.file_size > max(info.compress_size, 1) * 1100:   # beyond any deflate ratio
            raise RuntimeError(f"corrupted checkpoint: storage record {rec!r} claims "
                               f"{info.file_size} bytes from {info.compress_size} stored bytes")
        if info.file_size != nbytes:
            raise RuntimeError(
                f"corrupted checkpoint: storage record {rec!r} has {info.file_size} bytes, "
                f"expected {nbytes}")
        buf = bytearray(info.file_size)
        with zf.open(info) as fh:
            n = fh.readinto(buf)
        if n != info.file_size:
            raise RuntimeError(f"corrupted checkpoint: storage record {rec!r} is truncated")
        st = _LoadedStorage(np.frombuffer(buf, dtype=np.uint8), dtype, big, key)
        st.location = str(location) if isinstance(location, str) else "cpu"
        cache[key] = st
        return st

    return _unpickle(zf.read(pkl), persistent_load, weights_only)


# --------------------------------------------------------------------------- legacy format
def _read_legacy(f, weights_only):
    data = f.read()
    bio = io.BytesIO(data)

    def plain(x):
        return _unpickle_plain(bio)

    try:
        magic = plain(None)
    except UnpicklingError:
        raise
    except Exception:
        raise RuntimeError("Invalid magic number; corrupt file?") from None
    if magic != MAGIC_NUMBER:
        raise RuntimeError("Invalid magic number; corrupt file?")
    proto = plain(None)
    if proto != PROTOCOL_VERSION:
        raise RuntimeError(f"Invalid protocol version: {proto}")
    sys_info = plain(None)
    little = True if not isinstance(sys_info, dict) else sys_info.get("little_endian", True)
    start = bio.tell()
    # find the end of the main pickle without running it
    try:
        end = start
        for op, arg, pos in pickletools.genops(io.BytesIO(data[start:])):
            if op.name == "STOP":
                end = start + pos + 1
                break
    except Exception as e:
        raise UnpicklingError(f"corrupted checkpoint: the pickle could not be parsed ({e})") from None
    main = data[start:end]
    bio.seek(end)
    try:
        keys = plain(None)
    except Exception:
        raise RuntimeError("corrupted checkpoint: the storage key list is missing") from None
    if not isinstance(keys, list):
        raise RuntimeError("corrupted checkpoint: the storage key list is missing")
    # pass 1: learn each storage's dtype and size (the data follows the pickle)
    info = {}

    def collect(pid):
        rest = _pid_storage(pid)
        storage_type, key, location, numel = rest[:4]
        if len(rest) > 4 and rest[4] is not None:
            raise RuntimeError("legacy storage views are not supported by dagrad")
        dtype = _storage_type_name(storage_type)
        if int(numel) < 0 or int(numel) * _itemsize(dtype) > len(data):
            raise RuntimeError(f"corrupted checkpoint: storage {key!r} claims {numel} elements, "
                               f"more than the {len(data)}-byte file holds")
        info.setdefault(str(key), (dtype, int(numel)))
        return _LoadedStorage(np.zeros(int(numel) * _itemsize(dtype), np.uint8), dtype, False,
                              str(key))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _unpickle(main, collect, weights_only)
    mv = memoryview(data)
    pos = bio.tell()
    storages = {}
    for key in keys:
        key = str(key)
        if key not in info:
            raise RuntimeError(f"corrupted checkpoint: storage key {key!r} not found")
        dtype, numel = info[key]
        if pos + 8 > len(data):
            raise RuntimeError("corrupted checkpoint: the file is truncated")
        (n,) = struct.unpack("<q" if little else ">q", mv[pos:pos + 8])
        pos += 8
        nbytes = n * _itemsize(dtype)
        if n != numel or pos + nbytes > len(data):
            raise RuntimeError("corrupted checkpoint: the file is truncated or a storage size is "
                               "wrong")
        storages[key] = _LoadedStorage(np.frombuffer(bytearray(mv[pos:pos + nbytes]), np.uint8),
                                       dtype, not little, key)
        pos += nbytes

    def persistent_load(pid):
        key = str(_pid_storage(pid)[1])
        if key not in storages:
            raise RuntimeError(f"corrupted checkpoint: storage key {key!r} has no data")
        return storages[key]

    # pass 2: the real objects, viewing the filled storages
    return _unpickle(main, persistent_load, weights_only)


def _unpickle_plain(bio):
    """The small header pickles of the legacy format: plain data only."""
    class _P(pickle.Unpickler):
        def find_class(self, module, name):
            raise _unsupported_global(*_fix_name(module, name))
    return _P(bio).load()


def _materialize(obj):
    """Legacy storages are filled after unpickling; tensors are views, so nothing to do."""
    return obj


# ------------------------------------------------------------------------------- safetensors
_ST_DTYPES = {"BOOL": "bool", "U8": "uint8", "I8": "int8", "I16": "int16", "I32": "int32",
              "I64": "int64", "F16": "float16", "BF16": "bfloat16", "F32": "float32",
              "F64": "float64", "C64": "complex64", "C128": "complex128", "U16": "uint16",
              "U32": "uint32", "U64": "uint64", "F8_E4M3": "float8_e4m3fn",
              "F8_E5M2": "float8_e5m2", "E8M0": "float8_e8m0fnu"}
_ST_NAMES = {v: k for k, v in _ST_DTYPES.items()}


def load_safetensors(data):
    """Parse safetensors bytes -> {name: Tensor} (copies; NumPy-only)."""
    if len(data) < 8:
        raise RuntimeError("corrupted safetensors data: shorter than its 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise RuntimeError("corrupted safetensors data: the header is truncated")
    try:
        header = json.loads(bytes(data[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RuntimeError(f"corrupted safetensors data: invalid header ({e})") from None
    body = memoryview(data)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = _ST_DTYPES.get(info.get("dtype"))
        if dt is None:
            raise RuntimeError(f"safetensors dtype {info.get('dtype')!r} of {name!r} is not "
                               "supported")
        shape = tuple(int(s) for s in info["shape"])
        b, e = info["data_offsets"]
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if not 0 <= b <= e <= len(body) or e - b != count * _itemsize(dt):
            raise RuntimeError(f"corrupted safetensors data: bad data_offsets for {name!r}")
        st = _LoadedStorage(np.frombuffer(bytearray(body[b:e]), np.uint8), dt, False, name)
        out[name] = _wrap(_as_view(st, 0, shape, None, dt))
    return out


def save_safetensors(tensors, metadata=None):
    """{name: Tensor} -> safetensors bytes."""
    from .tensor import Tensor
    items = []
    for k, t in tensors.items():
        if not isinstance(k, str):
            raise TypeError(f"safetensors keys must be str, got {type(k).__name__}")
        if not isinstance(t, Tensor):
            raise TypeError(f"safetensors values must be tensors, got {type(t).__name__} for {k!r}")
        arr = np.ascontiguousarray(t._data if type(t._data) is np.ndarray else t.cpu()._data)
        name = str(arr.dtype) if arr.dtype != np.bool_ else "bool"
        items.append((k, _ST_NAMES[name], arr))
    items.sort(key=lambda x: (-x[2].dtype.itemsize, x[0]))
    header, off = {}, 0
    if metadata:
        header["__metadata__"] = {str(a): str(b) for a, b in metadata.items()}
    for k, code, arr in items:
        header[k] = {"dtype": code, "shape": list(arr.shape), "data_offsets": [off, off + arr.nbytes]}
        off += arr.nbytes
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((-len(hb)) % 8)
    parts = [struct.pack("<Q", len(hb)), hb]
    for _, _, arr in items:
        parts.append(arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes())
    return b"".join(parts)


def save_file(tensors, filename, metadata=None):
    with open(filename, "wb") as fh:
        fh.write(save_safetensors(tensors, metadata))


def load_file(filename, device="cpu"):
    with open(filename, "rb") as fh:
        d = load_safetensors(fh.read())
    if str(device) != "cpu":  # safetensors.torch.load_file(device='cuda')
        d = {k: v.to(f"cuda:{device}" if isinstance(device, int) else device)
             for k, v in d.items()}
    return d


def _looks_like_safetensors(head):
    if len(head) < 10:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return 2 <= n < (1 << 30) and head[8:9] == b"{"


# ------------------------------------------------------------------------------------- load
def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **kwargs):
    """torch.load: read a checkpoint written by torch.save or dagrad.save.

    `weights_only=True` (the default, as in torch >= 2.6) allows only tensors, parameters,
    containers, dtypes, sizes and devices; weights_only=False unpickles anything (only for
    files you trust), mapping torch classes to dagrad's. Tensors load on the CPU;
    `map_location` (a device, a {'from': 'to'} dict or a callable (storage, location) ->
    storage, given each tensor) then moves them, e.g. map_location='cuda'.
    """
    _LOCS.clear()
    try:
        obj = _load(f, pickle_module, weights_only=weights_only, mmap=mmap, **kwargs)
        locs = dict(_LOCS)
    finally:
        _LOCS.clear()
    if map_location is None:
        if not locs:
            return obj
        from .backend import has_cuda
        if not has_cuda():
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() "
                "is False. If you are running on a CPU-only machine, please use torch.load with "
                "map_location=torch.device('cpu') to map your storages to the CPU.")
        map_location = _restore  # back to the device each storage was saved from
    return _map_location(obj, map_location, {}, locs)


def _restore(t, location):
    return t if location == "cpu" else _to_loc(t, location)


def _to_loc(t, tgt):
    from .tensor import device as _dev
    d = _dev(f"cuda:{tgt}" if isinstance(tgt, int) else tgt)
    if d.type == t.device.type:
        return t
    moved = t.detach().to(d)
    if t.__class__.__name__ == "Parameter":
        return type(t)(moved, t.requires_grad)
    if t.requires_grad:
        moved.requires_grad_(True)
    return moved


def _map_location(obj, loc, memo, locs):
    """Move every tensor of a loaded object as torch.load's map_location says (containers are
    updated in place, so an OrderedDict state_dict keeps its _metadata)."""
    from .tensor import Tensor
    from .tensor import device as _dev
    if isinstance(obj, Tensor):
        k = id(obj)
        if k not in memo:
            src = locs.get(id(obj._data), "cpu")  # the saved location
            if isinstance(loc, dict):
                tgt = loc.get(src, loc.get(obj.device.type))
                r = obj if tgt is None else _to_loc(obj, tgt)
            elif callable(loc) and not isinstance(loc, (str, _dev)):
                r = loc(obj, src)
                r = obj if r is None else (_to_loc(obj, r) if isinstance(r, (str, _dev)) else r)
            else:
                r = _to_loc(obj, loc)
            memo[k] = r
        return memo[k]
    if isinstance(obj, dict):
        for k in list(obj):
            obj[k] = _map_location(obj[k], loc, memo, locs)
        return obj
    if isinstance(obj, list):
        for i, v in enumerate(obj):
            obj[i] = _map_location(v, loc, memo, locs)
        return obj
    if isinstance(obj, tuple):
        items = [_map_location(v, loc, memo, locs) for v in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else type(obj)(items)
    if hasattr(obj, "_parameters") and hasattr(obj, "to") and isinstance(loc, (str, int, _dev)):
        return obj.to(f"cuda:{loc}" if isinstance(loc, int) else loc)  # a pickled nn.Module
    return obj


def _load(f, pickle_module=None, *, weights_only=True, mmap=None, **kwargs):
    if weights_only is None:
        weights_only = True
    opened = False
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        if not os.path.exists(path):
            raise FileNotFoundError(f"[Errno 2] No such file or directory: '{path}'")
        fh = open(path, "rb")
        opened = True
    elif isinstance(f, (bytes, bytearray, memoryview)):
        fh = io.BytesIO(bytes(f))
    else:
        fh = f
    try:
        start = fh.tell() if hasattr(fh, "tell") else 0
        head = fh.read(16)
        fh.seek(start)
        if not head:
            raise EOFError("Ran out of input")
        if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
            try:
                zf = zipfile.ZipFile(fh)
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                raise RuntimeError(
                    "corrupted checkpoint: the zip archive cannot be read (truncated or damaged: "
                    f"{e}). PytorchStreamReader failed reading zip archive: failed finding "
                    "central directory") from None
            try:
                with zf:
                    return _read_zip(zf, weights_only)
            except (zipfile.BadZipFile, zlib_error(), EOFError, OSError) as e:
                raise RuntimeError(f"corrupted checkpoint: a zip record cannot be read ({e})") \
                    from None
        if head[:1] == b"\x80":
            return _read_legacy(fh, weights_only)
        if _looks_like_safetensors(head):
            return load_safetensors(fh.read())
        if len(head) >= 8 and _is_tar(fh, start):
            raise RuntimeError("this checkpoint uses PyTorch's legacy .tar format (before 0.4), "
                               "which dagrad does not read; re-save it with torch.save")
        try:  # a protocol-0/1 pickle? (still through the restricted unpickler)
            return _read_legacy(fh, weights_only)
        except UnpicklingError as e:
            if "Unsupported global" in str(e):
                raise
        except Exception:
            pass
        raise UnpicklingError(
            f"invalid load key, {head[:1]!r}: this is not a torch.save checkpoint (neither a zip "
            "archive nor a pickle)")
    finally:
        if opened:
            fh.close()


def zlib_error():
    import zlib
    return zlib.error


def _is_tar(fh, start):
    try:
        fh.seek(start)
        block = fh.read(512)
        fh.seek(start)
        return len(block) == 512 and block[257:262] == b"ustar"
    except Exception:
        return False


# ------------------------------------------------------------------------------------- save
class _G:
    """A torch global written by name (the runtime never imports torch)."""
    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # pragma: no cover - pickle only checks callability
        raise TypeError(f"{self.module}.{self.name} is a placeholder for saving")


_G_CACHE = {}


def _g(module, name):
    k = (module, name)
    if k not in _G_CACHE:
        _G_CACHE[k] = _G(module, name)
    return _G_CACHE[k]


class _StorageRef:
    __slots__ = ("key", "dtype_name", "numel", "location")

    def __init__(self, key, dtype_name, numel, location="cpu"):
        self.key, self.dtype_name, self.numel = key, dtype_name, numel
        self.location = location


class _ParamData:
    """The plain tensor inside a saved Parameter."""
    __slots__ = ("t",)

    def __init__(self, t):
        self.t = t


def _root_array(a):
    """The outermost ndarray of `a`'s base chain that has `a`'s dtype (its storage)."""
    base = a
    while True:
        b = base.base
        if isinstance(b, np.ndarray) and b.dtype == a.dtype:
            base = b
        else:
            return base


class _Pickler(pickle._Pickler):
    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file, protocol):
        super().__init__(file, protocol)
        self.storages = {}      # id(root) -> (key, root, dtype name)
        self.order = []         # (key, bytes-like)
        self._keep = []

    def save_g(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
        self.memoize(obj)

    dispatch[_G] = save_g

    def persistent_id(self, obj):
        if isinstance(obj, _StorageRef):
            return ("storage", _g("torch", _DTYPE_TO_STORAGE[obj.dtype_name]), obj.key,
                    obj.location, obj.numel)
        return None

    def _storage_for(self, arr):
        """(storage ref, element offset, element strides) for an ndarray, sharing storages."""
        from . import _dtype as D
        name = D.from_np(arr.dtype.newbyteorder("=")).name if arr.dtype.byteorder not in "=|" \
            else D.from_np(arr.dtype).name
        item = arr.dtype.itemsize
        root = _root_array(arr)
        ok = (root.dtype == arr.dtype and arr.dtype.isnative and
              (root.flags.c_contiguous or root.flags.f_contiguous) and
              all(s >= 0 and s % item == 0 for s in arr.strides))
        if ok and arr.size:
            start = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
            ok = start >= 0 and start % item == 0
        if not ok or not arr.size:
            c = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("="), copy=False)
            if not c.flags.c_contiguous or c.base is not None and c is arr:
                c = c.copy()
            root, start = c, 0
            self._keep.append(c)
            strides = tuple(s // item for s in c.strides) if c.size else \
                tuple(_contig_strides(c.shape))
            arr = c
        else:
            strides = tuple(s // item for s in arr.strides)
        ent = self.storages.get(id(root))
        if ent is None or ent[2] != name:
            key = str(len(self.order))
            raw = root.ravel(order="K")
            self.order.append((key, raw))
            ent = (key, root, name, root.size)
            if id(root) not in self.storages:
                self.storages[id(root)] = ent
        key, root, _, numel = ent
        return _StorageRef(key, name, numel), start // item, strides

    def reducer_override(self, obj):
        from .tensor import Size, Tensor, device
        if isinstance(obj, Tensor):
            P = _parameter_class()
            if P is not None and isinstance(obj, P):
                return (_g("torch._utils", "_rebuild_parameter"),
                        (_ParamData(obj), bool(obj.requires_grad), collections.OrderedDict()))
            return self._tensor_reduce(obj)
        if isinstance(obj, _ParamData):
            return self._tensor_reduce(obj.t, requires_grad=False)
        if isinstance(obj, Size):
            return (_g("torch", "Size"), (tuple(int(s) for s in obj),))
        if isinstance(obj, device):
            return (_g("torch", "device"), (str(obj),))
        return NotImplemented

    def _tensor_reduce(self, t, requires_grad=None):
        arr = t._data
        loc = "cpu"
        if type(arr) is not np.ndarray:  # a CUDA tensor: its bytes from the host, 'cuda:N'
            loc = f"cuda:{t.device.index}"
            arr = t.cpu()._data
        ref, off, strides = self._storage_for(arr)
        if loc != "cpu":
            ref = _StorageRef(ref.key, ref.dtype_name, ref.numel, loc)
        rg = bool(t.requires_grad) if requires_grad is None else requires_grad
        return (_g("torch._utils", "_rebuild_tensor_v2"),
                (ref, off, tuple(int(s) for s in arr.shape), strides, rg,
                 collections.OrderedDict()))

    def save(self, obj, save_persistent_id=True):
        # a reducer_override returning a _G (dtype) means: write it as a global
        if not isinstance(obj, (_G, str, bytes, int, float, bool, type(None), tuple)):
            from . import _dtype as D
            if isinstance(obj, D.dtype):
                x = self.memo.get(id(obj))
                if x is not None:
                    self.write(self.get(x[0]))
                    return
                self.write(pickle.GLOBAL + f"torch\n{obj.name}\n".encode("utf-8"))
                self.memoize(obj)
                return
        return super().save(obj, save_persistent_id)


def _contig_strides(shape):
    out, acc = [], 1
    for s in reversed(shape):
        out.insert(0, acc)
        acc *= max(s, 1)
    return out


def _aligned_info(zf, name):
    zi = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    zi.compress_type = zipfile.ZIP_STORED
    zi.external_attr = 0o600 << 16
    return zi


def _write_record(zf, name, data):
    zi = _aligned_info(zf, name)
    offset = zf.fp.tell()
    base = offset + 30 + len(name.encode("utf-8")) + 4
    pad = (-base) % _ALIGN
    zi.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
    zf.writestr(zi, data)


def save(obj, f, pickle_module=None, pickle_protocol=DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """torch.save: write `obj` in PyTorch's zip checkpoint format."""
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        base = os.path.splitext(os.path.basename(path))[0] or "archive"
        with open(path, "wb") as fh:
            _save_zip(obj, fh, base, pickle_protocol)
        return
    if not hasattr(f, "write"):
        raise AttributeError(f"'{type(f).__name__}' object has no attribute 'write'")
    _save_zip(obj, f, "archive", pickle_protocol)


def _save_zip(obj, fh, prefix, protocol):
    pbuf = io.BytesIO()
    p = _Pickler(pbuf, protocol)
    p.dump(obj)
    target = fh
    seekable = hasattr(fh, "seekable") and fh.seekable() and hasattr(fh, "tell")
    if not seekable:
        target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        _write_record(zf, f"{prefix}/data.pkl", pbuf.getvalue())
        _write_record(zf, f"{prefix}/.format_version", b"1")
        _write_record(zf, f"{prefix}/.storage_alignment", b"64")
        _write_record(zf, f"{prefix}/byteorder", b"little")
        for key, raw in p.order:
            data = np.ascontiguousarray(raw).view(np.uint8).reshape(-1)
            _write_record(zf, f"{prefix}/data/{key}", memoryview(data))
        _write_record(zf, f"{prefix}/version", b"3\n")
        _write_record(zf, f"{prefix}/.data/serialization_id",
                      "".join(str(int(x)) for x in np.random.randint(0, 10, 40)).encode())
    if target is not fh:
        fh.write(target.getvalue())


# --------------------------------------------------------------- plain pickle / copy support
def _rebuild_from_array(arr, requires_grad, cls, state, device="cpu"):
    from .tensor import Tensor, _make
    if device != "cpu":  # pickled from a CUDA tensor: back to that device (PyTorch)
        from .backend import xp_for
        arr = xp_for("cuda").asarray(arr)
    t = _make(arr)
    if cls is not Tensor:
        P = _parameter_class()
        if P is not None and issubclass(cls, P):
            t = cls(t, requires_grad)
        else:
            t = Tensor._make_subclass(cls, t)
            if requires_grad:
                t.requires_grad = True
    elif requires_grad:
        t.requires_grad = True
    if state:
        for k, v in state.items():
            setattr(t, k, v)
    return t


def _reduce_tensor(t):
    """Tensor.__reduce_ex__ for plain pickle / copy / multiprocessing (not torch's format)."""
    arr = t._data
    if type(arr) is not np.ndarray:
        state = dict(getattr(t, "__dict__", None) or {})
        return (_rebuild_from_array, (t.cpu()._data.copy(), bool(t._rg), type(t), state,
                                      str(t.device)))
    state = dict(getattr(t, "__dict__", None) or {})
    return (_rebuild_from_array, (np.array(arr, copy=True), bool(t._rg), type(t), state))


copyreg.constructor(_rebuild_from_array)
