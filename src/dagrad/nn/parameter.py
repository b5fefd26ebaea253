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


class UninitializedParameter(Parameter):
    pass


def is_lazy(param):
    return isinstance(param, UninitializedParameter)
