"""torch.nn.Parameter, Buffer and UninitializedParameter stand-ins."""
from ..tensor import Tensor, _make

_new = object.__new__


class Parameter(Tensor):
    """A Tensor that a Module registers as a parameter: a leaf, requires_grad=True by default."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from ..creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            from ..creation import tensor
            data = tensor(data)
        t = _new(cls)
        t._data = data._data
        t._rg = False
        t.grad_fn = None
        if data._vc is None:
            data._vc = [0]
        t._vc = data._vc
        t._nr = 0
        t.requires_grad = requires_grad
        return t

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, proto):
        try:
            return super().__reduce_ex__(proto)
        except Exception:  # pragma: no cover - serialization not available
            return (Parameter, (_make(self._data.copy()), self._rg))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        new = Parameter(_make(self._data.copy()), self._rg)
        g = getattr(self, "_grad", None)
        if g is not None:
            new._grad = g.__deepcopy__(memo)
        memo[id(self)] = new
        return new


class _BufferMeta(type):
    def __instancecheck__(cls, obj):
        if cls is Buffer:
            return isinstance(obj, Tensor) and getattr(obj, "_is_buffer", False)
        return type.__instancecheck__(cls, obj)


class Buffer(metaclass=_BufferMeta):
    """torch.nn.Buffer: wraps a tensor so assigning it to a Module registers a buffer."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            from ..creation import empty
            data = empty(0)
        t = _make(data._data)
        if data._vc is None:
            data._vc = [0]
        t._vc = data._vc
        t._rg = data._rg and data.grad_fn is None
        t._is_buffer = True
        t.persistent = persistent
        return t


class UninitializedTensorMixin:
    """A placeholder for a lazy module's parameter/buffer until its shape is known."""
    cls_to_become = Parameter

    def materialize(self, shape, device=None, dtype=None):
        import numpy as _np

        from .. import _dtype as D
        if isinstance(shape, int):
            shape = (shape,)
        npdt = (dtype or D.get_default_dtype()).np if dtype is not None or \
            self._data.dtype.kind not in "fV" else self._data.dtype
        xp = _np
        if device is not None:  # an explicit device, else the one the placeholder was moved to
            from ..backend import xp_for
            from ..tensor import device as _dev
            xp = xp_for("cuda" if isinstance(device, int) else _dev(device).type)
        elif type(self._data) is not _np.ndarray:
            from ..backend import get_array_module
            xp = get_array_module(self._data)
        self._data = xp.empty(tuple(shape), dtype=npdt)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually "
            "happens in `load_state_dict` when trying to load an uninitialized parameter into "
            "an initialized one. Call `forward` to initialize the parameters before accessing "
            "their attributes.")

    def __repr__(self):
        return f"<{self.__class__.__name__}>"


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        from ..creation import empty
        return Parameter.__new__(cls, empty(0, dtype=dtype), requires_grad)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None):
        from ..creation import empty
        t = _new(cls)
        t._data = empty(0, dtype=dtype)._data
        t._rg = False
        t.grad_fn = None
        t._vc = None
        t._nr = 0
        return t

    def __init__(self, requires_grad=False, device=None, dtype=None):
        pass


def is_lazy(param):
    return isinstance(param, UninitializedTensorMixin)
