"""The Tensor shell: a backend array plus autograd state.

Kept thin on purpose: the array lives in `_data`, graph membership in `_rg` / `grad_fn` /
`_nr`, the shared in-place version counter in `_vc` (a one-element list, created lazily and
shared with views). Everything else is a rarely set slot read with a default. Ops live in
`dagrad.ops` and are bound as methods at the end of this module.
"""
import warnings
import weakref

from . import _dtype as D
from .autograd import engine as _engine
from .autograd.function import AccumulateGrad
from .backend import np

_new = object.__new__
_ndarray = np.ndarray
_generic = np.generic
# PyTorch's C++ type names / ScalarType names, as its .grad assignment errors print them
_CPP_NAME = {"float32": "float", "float64": "double", "float16": "c10::Half",
             "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
             "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
             "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}
_SCALAR_NAME = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
                "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
_ONE = {}  # dtype -> 0-d one: backward()'s seed is a copy (np.ones costs ~2 us of Python)


def _one_like(d):
    o = _ONE.get(d.dtype)
    if o is None:
        o = _ONE[d.dtype] = np.ones((), d.dtype)
    return o.copy() if d.ndim == 0 else o.reshape(d.shape).copy()


def _ones_dev(d):
    """The backward seed of a device (CuPy) loss: ones, even for a NaN/inf loss."""
    from .backend import get_array_module
    return get_array_module(d).ones_like(d)


def _make(arr):
    """Wrap a backend array as a Tensor that does not require grad (the hot constructor)."""
    if type(arr) is not _ndarray and isinstance(arr, _generic):  # NumPy ops on 0-d give scalars
        arr = np.asarray(arr)
    t = _new(Tensor)
    t._data = arr
    t._rg = False
    t.grad_fn = None
    t._vc = None
    t._nr = 0
    return t


_engine._make = _make


class Size(tuple):
    """torch.Size: a tuple that prints as torch.Size([...])."""
    __slots__ = ()

    def __repr__(self):
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __reduce__(self):
        return (Size, (tuple(self),))


class device:
    """torch.device."""
    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if not isinstance(type, str):
            if isinstance(type, int):
                type, index = "cuda", type
            else:
                raise TypeError(f"device() received an invalid combination of arguments: {type!r}")
        if ":" in type:
            type, idx = type.split(":", 1)
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'")
            index = int(idx)
        known = ("cpu", "cuda", "mps", "meta", "xpu", "hip", "xla", "ipu", "mtia", "privateuseone")
        if type not in known:
            raise RuntimeError(
                "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, "
                "maia, xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone device type at start "
                f"of device string: {type}")
        self.type = type
        self.index = index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))


CPU = device("cpu")


def _describe_for_version(arr):
    names = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
             "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
             "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}
    n = names.get(str(arr.dtype), "Tensor")
    dims = ", ".join(str(s) for s in arr.shape)
    return f"torch.{n} [{dims}]" if arr.ndim else f"torch.{n} []"


class Tensor:
    __slots__ = ("_data", "_rg", "grad_fn", "_vc", "_nr", "_grad", "_base", "_hooks",
                 "_post_hooks", "_accum", "_retains", "_fw", "_name", "__weakref__", "__dict__")

    # Tensors are unhashable by value; identity hashing like PyTorch (hash(t) == id(t))
    def __hash__(self):
        return id(self)
    __array_priority__ = 1000  # so numpy scalars/arrays defer to our reflected operators

    def __new__(cls, *args, **kwargs):
        """The legacy constructor: Tensor(data), Tensor(*sizes) -> float tensor."""
        from .creation import _legacy_tensor
        t = _legacy_tensor(*args, **kwargs)
        if cls is not Tensor:
            t = cls._make_subclass(cls, t)
        return t

    @staticmethod
    def _make_subclass(cls, data, require_grad=False):
        t = _new(cls)
        t._data = data._data
        t._rg = False
        t.grad_fn = None
        t._vc = data._vc
        t._nr = 0
        if require_grad:
            t.requires_grad = True
        return t

    # ------------------------------------------------------------------ autograd state
    @property
    def requires_grad(self):
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if self.grad_fn is not None:
            if value:
                return
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if value and self._data.dtype.kind not in "fcV":  # V: bfloat16
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients")
        self._rg = value

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self._data.dtype.kind not in "fcV" and self.grad_fn is None:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def grad(self):
        if self.grad_fn is not None and not getattr(self, "_retains", False):
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed want "
                "the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the "
                "non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure you "
                "access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for "
                "more information. (Triggered internally at "
                "/__w/pytorch/pytorch/build/aten/src/ATen/core/TensorBody.h:493.)", UserWarning,
                stacklevel=2)
        try:  # an unset slot: getattr's default would build (and drop) an AttributeError
            return self._grad
        except AttributeError:
            return None

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{_CPP_NAME[value.dtype.name]}' "
                    f"to a tensor with grad_dtype '{_SCALAR_NAME[self.dtype.name]}'. The gradient "
                    f"must match the tensor's grad_dtype (defaults to the tensor's dtype). You can "
                    f"set the tensor's grad_dtype attribute with a specific dtype, or None to allow "
                    f"any dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and "
                    f"its gradient may break downstream systems that assume they match.")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._data.shape)}' to a "
                    f"tensor of size '{list(self._data.shape)}'. Please ensure that the gradient "
                    f"and the tensor are the same size")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def retains_grad(self):
        return self.grad_fn is not None and getattr(self, "_retains", False)

    def retain_grad(self):
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or getattr(self, "_retains", False):
            return
        self._retains = True
        fn = self.grad_fn
        if fn._retain is None:
            fn._retain = {}
        fn._retain[self._nr] = _RetainRef(self)
        fn._has_pre = True
        fn._plain = False

    def _get_accumulator(self):
        try:  # set once per leaf: the common case must not build an AttributeError
            acc = self._accum
        except AttributeError:
            acc = None
        if acc is None:
            acc = self._accum = AccumulateGrad(self)
        return acc

    def register_hook(self, hook):
        if not self._rg:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._register_tensor_hook(self._nr, hook)
        from .autograd.function import RemovableHandle
        hooks = getattr(self, "_hooks", None)
        if hooks is None:
            self._hooks = hooks = {}
        self._get_accumulator()._plain = False  # the engine's one check for leaf hooks
        h = RemovableHandle(hooks)
        hooks[h.id] = hook
        return h

    def register_post_accumulate_grad_hook(self, hook):
        if not self._rg:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors")
        from .autograd.function import RemovableHandle
        hooks = getattr(self, "_post_hooks", None)
        if hooks is None:
            self._post_hooks = hooks = {}
        self._get_accumulator()._plain = False
        h = RemovableHandle(hooks)
        hooks[h.id] = hook
        return h

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        fn = self.grad_fn
        if gradient is None and inputs is None and fn is not None:
            d = self._data
            if d.size == 1 and d.dtype.kind in "fV":
                # the common `loss.backward()`: seed with ones, skip argument normalisation
                keep = create_graph if retain_graph is None else retain_graph
                one = _one_like(d) if type(d) is _ndarray else _ones_dev(d)
                _engine.run_backward([(fn, self._nr)], [_make(one)], keep, create_graph)
                return
        from .autograd import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        t = _make(self._data)
        if self._vc is None:
            self._vc = [0]
        t._vc = self._vc
        return t

    def detach_(self):
        if getattr(self, "_base", None) is not None and self.grad_fn is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be called "
                "on these gradients. To fix this error, please refer to the Optimizer.zero_grad() "
                "function in torch/optim/optimizer.py as the solution.")
        self.grad_fn = None
        self._rg = False
        return self

    @property
    def data(self):
        t = _make(self._data)
        return t

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    @property
    def _version(self):
        vc = self._vc
        return vc[0] if vc is not None else 0

    def _bump(self):
        vc = self._vc
        if vc is None:
            self._vc = [1]
        else:
            vc[0] += 1

    def _dtype_for_promotion(self):
        return D.FROM_NP[self._data.dtype], self._data.ndim > 0

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    def dim(self):
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self):
        return self._data.ndim

    def numel(self):
        return int(self._data.size)

    nelement = numel

    @property
    def dtype(self):
        return D.FROM_NP[self._data.dtype]

    @property
    def device(self):
        if type(self._data) is _ndarray:
            return CPU
        return device("cuda", int(self._data.device.id))

    @property
    def is_cuda(self):
        return type(self._data) is not _ndarray

    is_cpu = property(lambda self: type(self._data) is _ndarray)
    is_sparse = False
    is_quantized = False
    is_meta = False
    layout = "torch.strided"

    @property
    def is_floating_point_(self):
        return self._data.dtype.kind in "fV"

    def is_floating_point(self):
        return self._data.dtype.kind in "fV"  # V: ml_dtypes' bfloat16

    def is_complex(self):
        return self._data.dtype.kind == "c"

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return int(self._data.nbytes)

    def stride(self, dim=None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        if dim is None:
            return st
        return st[_wrap_dim(dim, self._data.ndim)]

    def is_contiguous(self, memory_format=None):
        return bool(self._data.flags.c_contiguous)

    def data_ptr(self):
        if type(self._data) is _ndarray:
            return self._data.__array_interface__["data"][0]
        return self._data.data.ptr

    def storage_offset(self):
        base = self._data
        while base.base is not None and isinstance(base.base, type(self._data)):
            base = base.base
        if base is self._data:
            return 0
        return (self.data_ptr() - base.__array_interface__["data"][0]) // self._data.itemsize

    def get_device(self):
        return -1 if type(self._data) is _ndarray else int(self._data.device.id)

    # ------------------------------------------------------------------ conversion
    def item(self):
        d = self._data
        if d.size != 1:
            raise RuntimeError(
                f"a Tensor with {d.size} elements cannot be converted to Scalar")
        return d.reshape(()).item() if type(d) is _ndarray else d.item()

    def tolist(self):
        d = self._data
        if type(d) is not _ndarray:
            d = d.get()
        return d.tolist()

    def numpy(self, force=False):
        if self._rg and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead.")
        if type(self._data) is not _ndarray:
            if force:
                return self._data.get()
            raise TypeError(
                "can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the "
                "tensor to host memory first.")
        if self._data.dtype.kind == "V":
            raise TypeError("Got unsupported ScalarType BFloat16")
        return self._data

    def __array__(self, dtype=None, copy=None):
        if type(self._data) is not _ndarray:
            a = self._data.get()
        else:
            a = self._data
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        n = self._data.size
        if n == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        if n > 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))

    def __float__(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self._data.reshape(()))

    def __int__(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self._data.reshape(()))

    def __complex__(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return complex(self._data.reshape(()))

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError(
                "only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()))

    def __repr__(self, *, tensor_contents=None):
        from ._tensor_str import tensor_repr
        return tensor_repr(self)

    def __format__(self, spec):
        if self._data.ndim == 0 and spec:
            return self.item().__format__(spec)
        return object.__format__(self, spec) if spec else repr(self)

    def __reduce_ex__(self, proto):
        from .serialization import _reduce_tensor
        return _reduce_tensor(self)

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment.  If you were attempting to deepcopy a module, this may "
                "be because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        new = _new(type(self))
        new._data = self._data.copy()
        new._rg = self._rg
        new.grad_fn = None
        new._vc = None
        new._nr = 0
        g = getattr(self, "_grad", None)
        if g is not None:
            new._grad = g.__deepcopy__(memo)
        d = getattr(self, "__dict__", None)
        if d:
            import copy
            new.__dict__.update(copy.deepcopy(d, memo))
        memo[id(self)] = new
        return new

    def __setstate__(self, state):
        pass

    def __dlpack__(self, *args, **kwargs):
        return self._data.__dlpack__(*args, **kwargs)

    # Generic .to(): dtype / device / another tensor
    def to(self, *args, **kwargs):
        from .ops.convert import to
        return to(self, *args, **kwargs)

    def type(self, dtype=None, non_blocking=False):
        from .ops.convert import type_
        return type_(self, dtype)

    def cpu(self):
        if type(self._data) is _ndarray:
            return self
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        return self.to("cuda" if device is None else device)

    def float(self):
        return self.to(D.float32)

    def double(self):
        return self.to(D.float64)

    def half(self):
        return self.to(D.float16)

    def bfloat16(self):
        return self.to(D.bfloat16)

    def long(self):
        return self.to(D.int64)

    def int(self):
        return self.to(D.int32)

    def short(self):
        return self.to(D.int16)

    def char(self):
        return self.to(D.int8)

    def byte(self):
        return self.to(D.uint8)

    def bool(self):
        return self.to(D.bool_)

    def pin_memory(self):
        return self

    def share_memory_(self):
        return self

    def is_pinned(self):
        return False

    def is_shared(self):
        return False

    def untyped_storage(self):
        return _Storage(self)

    def __torch_function__(self, *a, **k):  # pragma: no cover - protocol placeholder
        return NotImplemented


class _Storage:
    __slots__ = ("_t",)

    def __init__(self, t):
        self._t = t

    def data_ptr(self):
        return self._t.data_ptr()

    def nbytes(self):
        return self._t.nbytes

    def size(self):
        return self._t.nbytes


class _RetainRef:
    """Weak handle the engine uses to fill a retained non-leaf .grad."""
    __slots__ = ("ref",)

    def __init__(self, t):
        self.ref = weakref.ref(t)


def _wrap_dim(dim, ndim):
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        lo, hi = -max(ndim, 1), max(ndim, 1) - 1
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})")
    return dim % ndim if ndim else 0


def is_tensor(obj):
    return isinstance(obj, Tensor)
