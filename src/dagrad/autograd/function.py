"""Graph nodes: the base `Node` every backward rule derives from, and `AccumulateGrad`.

A Node is created by a differentiable op when some input requires grad. It holds
`next_functions` (one `(node, output_nr)` edge per differentiable input, `(None, 0)` for inputs
that need no gradient) and whatever its rule needs. Nodes carry no `__slots__` on purpose: the
rarely used attributes (hooks, metadata, freed flags) live as class-level defaults, so creating a
node only writes the few attributes an op sets.
"""
import itertools
import sys
import weakref

from .grad_mode import state as _grad_state

_next_seq = itertools.count().__next__

FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward."
)


class RemovableHandle:
    __slots__ = ("_store", "_key", "id")
    _ids = itertools.count()

    def __init__(self, store, key=None):
        self._store = store
        self.id = next(RemovableHandle._ids)
        self._key = key

    def remove(self):
        store = self._store
        if isinstance(store, dict):
            store.pop(self.id, None)
        self._store = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _location():
    """(filename, lineno, function) of the first frame outside dagrad: where the user built a node."""
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        f = f.f_back
    if f is None:
        return None
    return (f.f_code.co_filename, f.f_lineno, f.f_code.co_name)


_PKG_DIR = __file__.rsplit("/autograd/", 1)[0] + "/"


class Node:
    # Defaults shared by every node; an instance only stores what differs.
    _saved = ()         # tensors the rule needs; None once freed
    _vers = ()          # their version counters' values when saved
    _meta = None        # per input: (shape, numpy dtype), set by ops that broadcast or promote
    _n_out = 1
    _pre_hooks = None   # {handle id: fn(grad_outputs)}
    _hooks = None       # {handle id: fn(grad_inputs, grad_outputs)}
    _tensor_hooks = None  # {output_nr: {handle id: fn(grad)}}
    _retain = None      # {output_nr: Tensor whose .grad is retained}
    _out_vc = None      # version counter of a saved output
    result_data = None  # a saved output's array
    _out_ver = 0        # the saved output's version when saved
    _loc = None         # where in user code this node was created
    _anomaly_tb = None
    _metadata = None
    _has_pre = False    # any tensor hook, retain_grad or pre-hook: the engine's one check
    _np = None          # optional NumPy twin of `backward`, a staticmethod (node, grad array)
    #                     -> grad arrays: the engine's first-order path calls it; tests check it
    #                     equals the rule. Set to None on a node to force the Tensor rule.
    _np_rule = None     # the `backward` the twin mirrors
    _plain = True       # no hook of any kind registered: the engine's fast path may run it
    _frees = False      # release() after backward even with nothing in _saved (scalar mul/div)

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if "backward" in cls.__dict__:  # a new rule: the inherited twin no longer mirrors it
            cls._np = None

    # --- PyTorch's public Node API ---
    def name(self):
        return type(self).__name__

    @property
    def metadata(self):
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def register_hook(self, fn):
        if self._hooks is None:
            self._hooks = {}
        h = RemovableHandle(self._hooks)
        self._hooks[h.id] = fn
        self._plain = False
        return h

    def register_prehook(self, fn):
        if self._pre_hooks is None:
            self._pre_hooks = {}
        h = RemovableHandle(self._pre_hooks)
        self._pre_hooks[h.id] = fn
        self._has_pre = True
        self._plain = False
        return h

    def _register_tensor_hook(self, nr, fn):
        if self._tensor_hooks is None:
            self._tensor_hooks = {}
        d = self._tensor_hooks.setdefault(nr, {})
        h = RemovableHandle(d)
        d[h.id] = fn
        self._has_pre = True
        self._plain = False
        return h

    def __call__(self, *grads):
        out = self.backward(*grads)
        return out

    def __repr__(self):
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    # --- saved tensors ---
    def saved(self):
        """The saved tensors, after checking they were neither freed nor modified in place."""
        s = self._saved
        if s is None:
            raise RuntimeError(FREED_MSG)
        for t, v in zip(s, self._vers):
            vc = t._vc
            if vc is not None and vc[0] != v:
                self._raise_version(t, s.index(t), vc[0], v)
        return s

    def saved_result(self, arr):
        """Rebuild a saved output as a Tensor whose grad_fn is this node (so it is differentiable)."""
        from ..tensor import _make
        vc = self._out_vc
        if vc is not None and vc[0] != self._out_ver:
            self._raise_version(None, "result", vc[0], self._out_ver, arr=arr)
        t = _make(arr)
        if _grad_state.enabled:
            t._rg = True
            t.grad_fn = self
        return t

    def _raise_version(self, t, i, now, expected, arr=None):
        from ..tensor import _describe_for_version
        a = arr if arr is not None else t._data
        desc = _describe_for_version(a)
        import re
        if t is not None and t.grad_fn is not None:  # PyTorch names the op: MulBackward0 -> Mul
            who = f"output {t._nr} of {re.sub(r'Backward[0-9]*$', '', t.grad_fn.name())}"
        elif t is not None:
            who = "a leaf Variable"
        else:
            who = f"output 0 of {re.sub(r'Backward[0-9]*$', '', self.name())}"
        msg = (f"one of the variables needed for gradient computation has been modified by an "
               f"inplace operation: [{desc}], which is {who}, is at version {now}; expected "
               f"version {expected} instead. Hint: enable anomaly detection to find the operation "
               f"that failed to compute its gradient, with "
               f"torch.autograd.set_detect_anomaly(True, check_nan=False).")
        raise RuntimeError(msg)

    def result(self):
        """The op's own output, saved by `save_result` (rebuilt, differentiable)."""
        if self._saved is None:
            raise RuntimeError(FREED_MSG)
        return self.saved_result(self.result_data)

    def needs(self, i):
        """Whether input i needs a gradient (PyTorch's needs_input_grad)."""
        return self.next_functions[i][0] is not None

    def _release(self):
        if self._saved or self._out_vc is not None:
            self._saved = None
            self.result_data = None

    def _materialize(self, buf):
        """Gradients of a multi-output node's outputs; None where an output got none (rules of
        multi-output nodes handle None, or override this to build zeros of the right shape)."""
        return buf

    # subclasses implement: backward(self, grad) -> grad or tuple of grads (one per input)
    def backward(self, *grads):
        raise NotImplementedError(f"{self.name()} has no backward rule")


class AccumulateGrad(Node):
    """The sink of a leaf that requires grad: sums incoming gradients into `variable.grad`."""

    def __init__(self, variable):
        # The leaf holds its accumulator strongly and the accumulator holds the leaf weakly:
        # no reference cycle, and the accumulator lives exactly as long as the leaf (PyTorch
        # recreates it for every graph; that costs ~0.5 us per leaf per step in Python).
        self._var = weakref.ref(variable)
        try:  # the engine reads variable._grad directly
            variable._grad
        except AttributeError:
            variable._grad = None
        self.next_functions = ()
        self._seq = sys.maxsize

    @property
    def variable(self):
        return self._var()

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"

    def name(self):
        return "torch::autograd::AccumulateGrad"


def seq():
    return _next_seq()


_FUNCTION_API = ("Function", "FunctionCtx", "once_differentiable", "BackwardCFunction",
                 "InplaceFunction", "NestedIOFunction")


def __getattr__(name):
    """torch.autograd.function.Function / once_differentiable live in function_api.py."""
    if name in _FUNCTION_API:
        from . import function_api
        return getattr(function_api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
