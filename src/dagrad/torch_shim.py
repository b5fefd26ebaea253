"""Serve `import torch` / `import torchvision` from dagrad (used by `dagrad run`).

A meta-path finder maps `torch` to `dagrad`, `torch.X` to `dagrad.X`, `torchvision` to
`dagrad.vision` and `torchvision.X` to `dagrad.vision.X`. A submodule dagrad lacks fails with
"dagrad does not implement torch.X yet".
"""
import importlib
import importlib.machinery
import sys
import types

TORCH_API_VERSION = "2.13.0"  # the PyTorch release whose API dagrad follows

_ALIASES = {"torch.nn.modules": "dagrad.nn", "torch.utils.data.dataloader": "dagrad.utils.data",
            "torch.utils.data.dataset": "dagrad.utils.data", "torch.autograd.functional":
            "dagrad.autograd.functional", "torch.optim.lr_scheduler": "dagrad.optim.lr_scheduler"}


def _target(name):
    if name in _ALIASES:
        return _ALIASES[name]
    if name == "torch" or name.startswith("torch."):
        return "dagrad" + name[5:]
    if name == "torchvision" or name.startswith("torchvision."):
        return "dagrad.vision" + name[11:]
    return None


class _AliasLoader:  # the loader protocol (importlib.abc costs ~10 ms of `import dagrad`)
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        try:
            mod = importlib.import_module(self.target)
            _hook_module(mod)
            if spec.name == "torch":
                return _torch_module(mod, spec)
            return mod
        except ModuleNotFoundError as e:
            if e.name and (e.name == self.target or self.target.startswith(e.name + ".")):
                torch_name = spec.name
                raise ModuleNotFoundError(
                    f"dagrad does not implement {torch_name} yet", name=spec.name) from None
            raise

    def exec_module(self, module):
        pass


class _Finder:  # the meta-path finder protocol
    def find_spec(self, name, path=None, target=None):
        t = _target(name)
        if t is None:
            return None
        return importlib.machinery.ModuleSpec(name, _AliasLoader(t))


_finder = _Finder()


# ---------------------------------------------------------------- torch.__version__
def _version_key(v):
    """A PEP 440 sort key (release, pre, post, dev, local) of a version string."""
    import re
    m = re.match(r"^\s*v?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d*))?"
                 r"(?:[-_.]?(post|rev|r)[-_.]?(\d*))?(?:[-_.]?(dev)[-_.]?(\d*))?"
                 r"(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$", v, re.I)
    if m is None:
        raise ValueError(f"Invalid version: {v!r}")
    rel = tuple(int(x) for x in m.group(1).split("."))
    while len(rel) > 1 and rel[-1] == 0:  # 2.13 == 2.13.0
        rel = rel[:-1]
    if m.group(2):
        pre = ({"a": 0, "alpha": 0, "b": 1, "beta": 1}.get(m.group(2).lower(), 2),
               int(m.group(3) or 0))
    elif m.group(6) and not m.group(4):
        pre = (-1, 0)  # 1.0.dev0 sorts before 1.0a0
    else:
        pre = (3, 0)
    post = int(m.group(5) or 0) if m.group(4) else -1
    dev = int(m.group(7) or 0) if m.group(6) else 1 << 62
    local = tuple((1, int(p), "") if p.isdigit() else (0, 0, p.lower())
                  for p in re.split(r"[-_.]", m.group(8))) if m.group(8) else ()
    return (rel, pre, post, dev, local)


def _version_text(other):
    if isinstance(other, str):
        return other
    if isinstance(other, (tuple, list)):
        return ".".join(str(v) for v in other)
    if hasattr(other, "release"):  # packaging.version.Version
        return str(other)
    raise TypeError(type(other).__name__)


class TorchVersion(str):
    """`torch.__version__` under `dagrad run`: a str that compares as a PEP 440 version with
    strings, tuples and packaging Versions, as torch.torch_version.TorchVersion does."""

    __slots__ = ()

    def _cmp(self, other, op):
        try:
            a, b = _version_key(self), _version_key(_version_text(other))
        except (TypeError, ValueError):
            return getattr(str, op)(self, other)
        return getattr(tuple, op)((a[0] + (0,) * 16)[:max(len(a[0]), len(b[0]))] + a[1:],
                                  (b[0] + (0,) * 16)[:max(len(a[0]), len(b[0]))] + b[1:])

    def __lt__(self, other):
        return self._cmp(other, "__lt__")

    def __le__(self, other):
        return self._cmp(other, "__le__")

    def __gt__(self, other):
        return self._cmp(other, "__gt__")

    def __ge__(self, other):
        return self._cmp(other, "__ge__")

    def __eq__(self, other):
        return self._cmp(other, "__eq__")

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = str.__hash__


def torch_version():
    """What `torch.__version__` reads under `dagrad run`: PyTorch's API release with dagrad's
    own as a PEP 440 local label, as PyTorch's builds do ("2.13.0+cpu"): version checks
    (packaging's parse, LooseVersion, `>= "1.10"`, `.split("+")[0]`) see 2.13.0, and the text
    says it is dagrad."""
    from . import __version__ as dv
    return TorchVersion(f"{TORCH_API_VERSION}+dagrad{dv}")


class _TorchModule(types.ModuleType):
    """`torch` under `dagrad run`: dagrad's namespace with torch's version. It holds a copy of
    dagrad's globals (plain module lookups, no indirection) and fetches (and keeps) any name
    dagrad makes later; dagrad itself keeps its own __version__."""


_torch_mod = []


def _torch_module(dagrad_mod, spec):
    if _torch_mod:
        return _torch_mod[0]
    m = _TorchModule("torch")
    d = m.__dict__
    d.update(dagrad_mod.__dict__)

    def __getattr__(name):
        v = getattr(dagrad_mod, name)
        d[name] = v
        return v
    d.update(__spec__=spec, __loader__=spec.loader, __getattr__=__getattr__,
             __version__=torch_version())  # __name__ stays "dagrad", as its submodules' do
    _torch_mod.append(m)
    return m


_renamed = []   # [(cls, original __module__)]


def _torch_class_names():
    """While serving `torch`, classes report torch's names: print(type(x)) shows
    <class 'torch.Tensor'>, type(nn.Linear(1, 1)) <class 'torch.nn.modules.linear.Linear'>.
    A class is renamed only where the torch name resolves (through this finder) to the class
    itself, so pickling (torch.save of a whole model) keeps working."""
    import inspect

    import dagrad
    import dagrad.nn
    import dagrad.optim
    for cls in (dagrad.Tensor, dagrad.Size, dagrad.device, type(dagrad.float32)):
        if cls.__module__ != "torch":
            _renamed.append((cls, cls.__module__))
            cls.__module__ = "torch"
    for ns in (dagrad.nn, dagrad.optim, dagrad.nn.parameter):
        for name in dir(ns):
            cls = getattr(ns, name)
            if not inspect.isclass(cls) or not cls.__module__.startswith("dagrad."):
                continue
            mod = sys.modules.get(cls.__module__)
            if mod is None or getattr(mod, cls.__qualname__, None) is not cls:
                continue
            _renamed.append((cls, cls.__module__))
            cls.__module__ = "torch" + cls.__module__[6:]


def _torch_name(modname):
    if modname == "dagrad.vision" or modname.startswith("dagrad.vision."):
        return "torchvision" + modname[13:]
    return "torch" + modname[6:]


def _missing_attr(modname):
    """Module __getattr__ (only reached when a name is absent): a submodule not imported yet
    is imported, as torch's lazy submodules; anything else says what dagrad lacks."""
    def __getattr__(name):
        if name.startswith("__"):
            raise AttributeError(f"module {modname!r} has no attribute {name!r}")
        try:
            return importlib.import_module(f"{modname}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{modname}.{name}":
                raise
        raise AttributeError(f"dagrad does not implement {_torch_name(modname)}.{name} yet")
    __getattr__._dagrad_shim = True
    return __getattr__


_attr_hooked = []


def _hook_module(mod):
    name = getattr(mod, "__name__", "")
    if (name.startswith("dagrad.") and "__getattr__" not in mod.__dict__
            and hasattr(mod, "__path__")):
        mod.__getattr__ = _missing_attr(name)
        _attr_hooked.append(mod)


def install():
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
        if not _renamed:
            _torch_class_names()
        for mod in list(sys.modules.values()):
            _hook_module(mod)


def uninstall():
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    while _renamed:
        cls, mod = _renamed.pop()
        cls.__module__ = mod
    while _attr_hooked:
        m = _attr_hooked.pop()
        if getattr(m.__dict__.get("__getattr__"), "_dagrad_shim", False):
            del m.__getattr__
    for k in [k for k in sys.modules if k == "torch" or k.startswith(("torch.", "torchvision"))]:
        mod = sys.modules[k]
        if getattr(mod, "__name__", "").startswith("dagrad") or mod in _torch_mod:
            del sys.modules[k]


# ---------------------------------------------------------------- torch.* names by composition
# Names common in tutorials that dagrad's modules do not define: constants, legacy typed
# constructors, finfo/iinfo, torch.X aliases of Tensor methods / nn.functional. dagrad/__init__
# adds those it lacks (a name defined elsewhere always wins).
_LEGACY = {"FloatTensor": "float32", "DoubleTensor": "float64", "HalfTensor": "float16",
           "BFloat16Tensor": "bfloat16", "LongTensor": "int64", "IntTensor": "int32",
           "ShortTensor": "int16", "CharTensor": "int8", "ByteTensor": "uint8",
           "BoolTensor": "bool"}
_METHOD_ALIASES = ("multiply", "subtract", "divide", "detach", "real", "imag", "square_",
                   "reciprocal_", "neg_", "negative_", "abs_", "exp_", "log_", "sin_", "cos_",
                   "tanh_", "sigmoid_", "sqrt_", "rsqrt_", "floor_", "ceil_", "round_", "trunc_",
                   "clip_", "clamp_min_", "clamp_max_", "nan_to_num_", "detach_", "fill", "frac_",
                   "erf_", "expm1_", "log1p_", "log2_", "log10_", "tan_", "cosh_", "sinh_", "fix_")
_F_ALIASES = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d",
              "adaptive_avg_pool1d", "adaptive_max_pool1d", "cosine_similarity",
              "pairwise_distance", "pdist", "pixel_shuffle", "pixel_unshuffle",
              "channel_shuffle", "prelu", "hardshrink", "threshold", "threshold_", "rrelu",
              "rrelu_", "celu_", "selu_", "alpha_dropout", "feature_alpha_dropout", "dropout",
              "layer_norm", "group_norm", "rms_norm", "bilinear")


class _LegacyMeta(type):
    def __instancecheck__(cls, obj):
        from .tensor import Tensor
        return isinstance(obj, Tensor) and str(obj.dtype) == "torch." + cls._dt

    def __call__(cls, *args, **kwargs):
        import dagrad
        dt = getattr(dagrad, cls._dt)
        if args and all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            return dagrad.zeros(*args, dtype=dt)
        if len(args) == 1 and isinstance(args[0], (tuple, dagrad.Size)) and all(
                isinstance(a, int) for a in args[0]) and type(args[0]).__name__ == "Size":
            return dagrad.zeros(*args[0], dtype=dt)
        if not args:
            return dagrad.zeros(0, dtype=dt)
        if len(args) == 1:
            a = args[0]
            if isinstance(a, dagrad.Tensor):
                return a.to(dt)
            return dagrad.tensor(a, dtype=dt)
        raise TypeError("new() received an invalid combination of arguments")

    def __repr__(cls):
        return f"<class 'torch.{cls.__name__}'>"


def _legacy_class(name, dt):
    return _LegacyMeta(name, (), {"_dt": dt, "__module__": "torch"})


class finfo:
    """torch.finfo: the machine limits of a floating-point dtype."""

    def __init__(self, type=None):  # noqa: A002
        import numpy as np

        import dagrad
        dt = dagrad.get_default_dtype() if type is None else type
        name = str(dt).replace("torch.", "")
        if name == "bfloat16":
            self.bits, self.eps, self.max, self.min = 16, 0.0078125, 3.3895313892515355e+38, \
                -3.3895313892515355e+38
            self.tiny = self.smallest_normal = 1.1754943508222875e-38
            self.resolution = 0.01
        else:
            if not dt.is_floating_point and not dt.is_complex:
                raise TypeError("torch.finfo() requires a floating point input type. Use "
                                "torch.iinfo to handle 'torch.finfo'")
            f = np.finfo(dt.np)
            self.bits, self.eps, self.max, self.min = f.bits, float(f.eps), float(f.max), \
                float(f.min)
            self.tiny = self.smallest_normal = float(f.tiny)
            self.resolution = 10.0 ** -int(f.precision)
        self.dtype = name

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """torch.iinfo: the limits of an integer dtype."""

    def __init__(self, type):  # noqa: A002
        import numpy as np
        if type.is_floating_point or type.is_complex:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to "
                            "handle 'torch.iinfo'")
        f = np.iinfo(type.np) if str(type) != "torch.bool" else None
        self.bits = f.bits if f else 8
        self.max = int(f.max) if f else 1
        self.min = int(f.min) if f else 0
        self.dtype = str(type).replace("torch.", "")

    def __repr__(self):
        return f"iinfo(min={float(self.min):g}, max={float(self.max):g}, dtype={self.dtype})"


def _rot90(input, k=1, dims=(0, 1)):  # noqa: A002
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    k %= 4
    if k == 1:
        r = input.flip(dims[1]).transpose(dims[0], dims[1])
    elif k == 2:
        r = input.flip(dims)
    elif k == 3:
        r = input.flip(dims[0]).transpose(dims[0], dims[1])
    else:
        r = input.clone()
    if r.grad_fn is not None:
        from .nn.modules.rnn import _rename_node
        _rename_node(r.grad_fn, "Rot90Backward0")
    return r


def _addcmul(input, tensor1, tensor2, *, value=1, out=None):  # noqa: A002
    if out is None and input._data.dtype.kind == "V":  # bfloat16: float32 opmath, one rounding
        from .ops._core import via_f32
        return via_f32(_addcmul, input, tensor1, tensor2, value=value)
    r = input + value * tensor1 * tensor2
    return r if out is None else out.copy_(r)


def _addcdiv(input, tensor1, tensor2, *, value=1, out=None):  # noqa: A002
    if out is None and input._data.dtype.kind == "V":  # bfloat16: float32 opmath, one rounding
        from .ops._core import via_f32
        return via_f32(_addcdiv, input, tensor1, tensor2, value=value)
    r = input + value * tensor1 / tensor2
    return r if out is None else out.copy_(r)


def _split_along(dim, fname, min_dim):
    def f(input, indices_or_sections):  # noqa: A002
        if input.dim() < min_dim:
            raise RuntimeError(
                f"torch.{fname} requires a tensor with at least {min_dim} dimension, but got a "
                f"tensor with {input.dim()} dimensions!")
        d = 0 if (fname == "hsplit" and input.dim() == 1) else dim
        if isinstance(indices_or_sections, int):
            n = input.shape[d]
            if n % indices_or_sections:
                raise RuntimeError(
                    f"torch.{fname} attempted to split along dimension {d}, but the size of "
                    f"the dimension {n} is not divisible by the split_size "
                    f"{indices_or_sections}!")
            return input.split(n // indices_or_sections, d)
        return input.tensor_split(list(indices_or_sections), d)
    f.__name__ = fname
    return f


def _view_as_real(input):  # noqa: A002
    if not input.is_complex():
        raise RuntimeError("view_as_real is only supported for complex tensors")
    import dagrad
    return dagrad.stack([input.real, input.imag], -1)


def _view_as_complex(input):  # noqa: A002
    if input.dim() == 0 or input.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    import dagrad
    return dagrad.complex(input[..., 0], input[..., 1])


def _typename(obj):
    from .tensor import Tensor
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(type(obj), "__module__", "") or ""
    qual = getattr(type(obj), "__qualname__", type(obj).__name__)
    return qual if module in ("", "builtins") else f"{module}.{qual}"


def _compat_names():
    import math

    import dagrad

    from .tensor import Tensor
    names = {"pi": math.pi, "e": math.e, "inf": math.inf, "nan": math.nan, "newaxis": None,
             "finfo": finfo, "iinfo": iinfo, "rot90": _rot90, "addcmul": _addcmul,
             "addcdiv": _addcdiv, "vsplit": _split_along(0, "vsplit", 2),
             "hsplit": _split_along(1, "hsplit", 1), "dsplit": _split_along(2, "dsplit", 3),
             "typename": _typename, "view_as_real": _view_as_real,
             "view_as_complex": _view_as_complex, "is_same_size": lambda a, b: a.shape == b.shape,
             "is_signed": lambda x: x.dtype.is_signed}
    for k, dt in _LEGACY.items():
        names[k] = _legacy_class(k, dt)
    if hasattr(dagrad, "vstack"):
        names["row_stack"] = dagrad.vstack
    try:
        from .autograd import anomaly_mode as _am
        names["is_anomaly_enabled"] = _am.is_anomaly_enabled
        names["is_anomaly_check_nan_enabled"] = _am.is_anomaly_check_nan_enabled
        names["set_anomaly_enabled"] = lambda mode, check_nan=True: _am._apply(mode, check_nan)
    except (ImportError, AttributeError):
        pass
    for m in _METHOD_ALIASES:
        if isinstance(getattr(Tensor, m, None), property):  # torch.real(x) is x.real
            def f(input, _m=m):  # noqa: A002
                return getattr(input, _m)
            f.__name__ = m
            names[m] = f
        elif hasattr(Tensor, m):
            def f(input, *a, _m=m, **k):  # noqa: A002
                return getattr(input, _m)(*a, **k)
            f.__name__ = m
            names[m] = f
    return names


def _lazy_compat(name):
    """torch.vmap and the torch.* aliases of nn.functional, resolved on first use (importing
    dagrad.nn and dagrad.func eagerly would add ~25 ms to `import dagrad`)."""
    if name == "vmap":
        from .func import vmap
        return vmap
    if name in _F_ALIASES:
        from .nn import functional as F
        if hasattr(F, name):
            return getattr(F, name)
    return None


def _unfold(self, dimension, size, step):
    import dagrad
    d = dimension % _imax(self.dim(), 1)
    n = self.shape[d] if self.dim() else 1
    if size > n:
        raise RuntimeError(
            f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    count = (n - size) // step + 1
    idx = (dagrad.arange(count).unsqueeze(1) * step + dagrad.arange(size)).reshape(-1)
    if self.dim() == 0:
        return self.reshape(1)[idx]
    g = self.index_select(d, idx)
    g = g.reshape(tuple(self.shape[:d]) + (count, size) + tuple(self.shape[d + 1:]))
    return g.movedim(d + 1, -1)


def _imax(a, b):
    return a if a > b else b


def _apply_(self, callable):  # noqa: A002
    import numpy as np
    if self.requires_grad and self.is_leaf:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    f = np.frompyfunc(callable, 1, 1)
    from .tensor import _make
    with _no_grad():
        self.copy_(_make(np.asarray(f(self.numpy()), dtype=self.numpy().dtype)))
    return self


def _no_grad():
    import dagrad
    return dagrad.no_grad()


def _fill_diagonal_(self, fill_value, wrap=False):
    import dagrad
    if self.dim() < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.dim() > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    n = min(self.shape)
    if self.dim() == 2 and wrap and self.shape[0] > self.shape[1] + 1:
        rows = [i for i in range(self.shape[0]) if i % (self.shape[1] + 1) < self.shape[1]]
        cols = [i % (self.shape[1] + 1) for i in rows]
        idx = (dagrad.tensor(rows), dagrad.tensor(cols))
    else:
        i = dagrad.arange(n)
        idx = (i,) * self.dim()
    self[idx] = fill_value
    return self


def _Variable(data, requires_grad=False, volatile=False):
    t = data.detach()
    return t.requires_grad_(requires_grad) if requires_grad else t


def _compat_methods():
    """Tensor methods torch has that compose from the above."""
    from . import autograd
    if not hasattr(autograd, "Variable"):
        autograd.Variable = _Variable
    return {"unfold": _unfold, "apply_": _apply_, "fill_diagonal_": _fill_diagonal_,
            "rot90": _rot90, "addcmul": _addcmul, "addcdiv": _addcdiv,
            "addcmul_": lambda s, t1, t2, *, value=1: s.copy_(_addcmul(s, t1, t2, value=value)),
            "addcdiv_": lambda s, t1, t2, *, value=1: s.copy_(_addcdiv(s, t1, t2, value=value)),
            "vsplit": _split_along(0, "vsplit", 2), "hsplit": _split_along(1, "hsplit", 1),
            "dsplit": _split_along(2, "dsplit", 3), "is_signed": lambda s: s.dtype.is_signed}
