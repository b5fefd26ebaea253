"""dagrad: PyTorch's API on NumPy, with a define-by-run reverse-mode autodiff engine.

`import dagrad as torch` gives the torch namespace: tensors, dtypes, creation and random
functions, the ops, grad modes, and the submodules (autograd, nn, optim, utils, linalg...).
"""
import importlib as _importlib

from . import _dtype
from ._dtype import (bfloat16, bool_ as bool, complex64, complex128, float16,  # noqa: A004
                     float32, float64, get_default_dtype, int8, int16, int32, int64,
                     set_default_dtype, uint8)
from ._tensor_str import get_printoptions, set_printoptions
from .autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                                 is_inference_mode_enabled, no_grad, set_grad_enabled)
from .creation import (Generator, arange, as_tensor, asarray, bernoulli, cartesian_prod,
                       default_generator, empty, empty_like, eye, from_numpy, full, full_like,
                       get_rng_state, initial_seed, linspace, logspace, manual_seed, meshgrid,
                       multinomial, normal, ones, ones_like, poisson, rand, rand_like, randint,
                       randint_like, randn, randn_like, randperm, scalar_tensor, seed,
                       set_rng_state, tensor, tril_indices, triu_indices, zeros, zeros_like)
from .creation import complex_ as complex  # noqa: A004
from .creation import polar
from .creation import range_ as range  # noqa: A004
from .ops import *  # noqa: F401,F403
from .ops import _bind  # noqa: F401
from .ops.gaps import *  # noqa: F401,F403 - API gaps (renorm, block_diag, windows...)
from .ops.convert import type_as  # noqa: F401
from .tensor import Size, Tensor, device, is_tensor

half, float, double = float16, float32, float64  # noqa: A001
long, int, short = int64, int32, int16  # noqa: A001
cfloat, cdouble = complex64, complex128
chalf = complex64
uint16 = uint32 = uint64 = int64  # NumPy-backed stand-ins are not offered: see _dtype
del uint16, uint32, uint64
dtype = _dtype.dtype
strided = "torch.strided"
contiguous_format = channels_last = preserve_format = "memory_format"

__version__ = "0.1.0"

_SUBMODULES = {"autograd", "nn", "optim", "utils", "linalg", "func", "vision", "viz", "hub",
               "serialization", "cuda", "backends", "testing", "profiler", "special", "fft",
               "distributions", "jit", "onnx", "random", "cli", "accelerator", "mps", "amp",
               "library", "export", "compiler", "overrides", "types", "multiprocessing",
               "sparse", "masked", "quantization", "ao", "distributed", "cpu", "version"}


def __getattr__(name):
    if name in _SUBMODULES:
        try:
            mod = _importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as e:
            if e.name == f"{__name__}.{name}":
                raise AttributeError(f"dagrad does not implement torch.{name} yet") from None
            raise
        globals()[name] = mod
        return mod
    if name.startswith("__"):
        raise AttributeError(name)
    shim = globals().get("_torch_shim")
    v = shim._lazy_compat(name) if shim is not None else None
    if v is not None:
        globals()[name] = v
        return v
    raise AttributeError(f"dagrad does not implement torch.{name} yet")


def numel(x):
    return x.numel()


def is_floating_point(x):
    return x.is_floating_point()


def is_complex(x):
    return x.is_complex()


def is_nonzero(x):
    if x.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(x)


def dist(input, other, p=2):  # noqa: A002
    """torch.dist: the p-norm of input - other (broadcast), one DistBackward0 node."""
    from .ops.extra import dist as _dist
    return _dist(input, other, p)


Tensor.dist = dist


def result_type(a, b):
    return _dtype.result_type(a, b)


def promote_types(a, b):
    return _dtype.promote_types(a, b)


def can_cast(from_, to):
    return _dtype.can_cast_np(from_.np, to.np)


def is_storage(obj):
    return False


def get_default_device():
    from .creation import _default_device
    return device(_default_device[0])


def set_default_device(dev):
    from .creation import _default_device
    _default_device[0] = "cpu" if dev is None else device(dev).type


def set_default_tensor_type(t):
    set_default_dtype({"torch.FloatTensor": float32, "torch.DoubleTensor": float64}.get(
        t if isinstance(t, str) else getattr(t, "__name__", ""), float32))


def use_deterministic_algorithms(mode, *, warn_only=False):
    pass


def are_deterministic_algorithms_enabled():
    return True


def set_num_threads(n):
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(n)
    except ImportError:
        pass


def get_num_threads():
    try:
        from threadpoolctl import threadpool_info
        info = threadpool_info()
        import builtins
        return builtins.max((i.get("num_threads", 1) for i in info), default=1)
    except ImportError:
        import os
        return os.cpu_count() or 1


def set_float32_matmul_precision(p):
    pass


def get_float32_matmul_precision():
    return "highest"


def compile(model=None, **kwargs):  # noqa: A001
    """No compiler: returns the model unchanged (so scripts calling torch.compile run)."""
    if model is None:
        return lambda m: m
    return model


def clamp_(x, min=None, max=None):  # noqa: A002
    return x.clamp_(min, max)


def relu_(x):
    return x.relu_()


def save(obj, f, *args, **kwargs):
    from .serialization import save as _save
    return _save(obj, f, *args, **kwargs)


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **kw):
    from .serialization import load as _load
    return _load(f, map_location=map_location, weights_only=weights_only, **kw)


# torch.linalg (the submodule, not ops.linalg's matmul family) and its torch.* aliases
linalg = _importlib.import_module(".linalg", __name__)
globals().update(linalg._top_level())
from .ops.extra import *  # noqa: F401,F403,E402
special = _importlib.import_module(".special", __name__)
globals().update(special._top_level())
# torch.* names composed from the above (constants, legacy FloatTensor..., finfo/iinfo, aliases):
# only those nothing else defined
from . import torch_shim as _torch_shim  # noqa: E402
globals().update({k: v for k, v in _torch_shim._compat_names().items() if k not in globals()})
for _k, _v in _torch_shim._compat_methods().items():
    if not hasattr(Tensor, _k):
        setattr(Tensor, _k, _v)
del _k, _v


def _accept_torch_argument_names():
    """torch.add(input=x, other=y): where a dagrad function names its positional parameters
    differently from PyTorch (a, b vs input, other), accept PyTorch's keywords too. Only the
    torch.* functions are wrapped; operators and Tensor methods keep their direct binding."""
    import functools

    from ._argnames import RENAMES
    g = globals()

    def accepting(fn, ren):
        @functools.wraps(fn)
        def call(*args, **kwargs):
            if kwargs:
                for t in ren.keys() & kwargs.keys():
                    kwargs[ren[t]] = kwargs.pop(t)
            return fn(*args, **kwargs)
        return call

    for name, pairs in RENAMES.items():
        fn = g.get(name)
        if fn is not None and callable(fn):
            g[name] = accepting(fn, dict(pairs))


_accept_torch_argument_names()
