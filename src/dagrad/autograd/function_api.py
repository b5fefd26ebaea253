"""torch.autograd.Function: user-defined ops with their own backward.

`MyFn.apply(*args)` runs `MyFn.forward` without recording, then (when some tensor input requires
grad and grad mode is on) links one node of class `MyFnBackward` to the outputs. That node *is* the
`ctx` object passed to forward/backward, as in PyTorch: it subclasses both the engine's `Node` and
`FunctionCtx`. Both styles are supported: `forward(ctx, *args)` and
`forward(*args)` + `setup_context(ctx, inputs, output)`.
"""
import functools

from . import grad_mode as _gm
from .function import FREED_MSG, Node, _next_seq

__all__ = ["Function", "FunctionCtx", "BackwardCFunction", "once_differentiable",
           "InplaceFunction", "NestedIOFunction"]


def _Tensor():
    from ..tensor import Tensor
    return Tensor


class FunctionCtx:
    """The methods forward/setup_context may call on ctx."""
    _to_save = None
    _dirty = ()
    _non_diff = ()
    materialize_grads = True

    def save_for_backward(self, *tensors):
        T = _Tensor()
        for t in tensors:
            if t is not None and not isinstance(t, T):
                raise TypeError(
                    "save_for_backward can only save variables, but argument "
                    f"{tensors.index(t)} is of type {type(t).__name__}")
        self._to_save = tensors

    def save_for_forward(self, *tensors):
        self._saved_fw = tensors

    def mark_dirty(self, *args):
        self._dirty = args

    def mark_non_differentiable(self, *args):
        self._non_diff = args

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)


class BackwardCFunction(Node, FunctionCtx):
    """Base of every `<Name>Backward` node class made for a custom Function."""
    _forward_cls = None
    _in_kinds = ()          # per forward argument: True when it is a Tensor (has an edge)
    _out_meta = ()          # per output: (shape, numpy dtype) or None for non-tensor outputs
    needs_input_grad = ()
    _saved_ts = ()          # what save_for_backward stored

    def __init__(self):
        pass

    # ctx.saved_tensors, version-checked like every saved tensor
    @property
    def saved_tensors(self):
        if self._saved is None:
            raise RuntimeError(FREED_MSG)
        if not self._saved_ts:
            return ()
        from .graph import _unpack_function_saved
        return _unpack_function_saved(self)

    saved_variables = saved_tensors

    def _materialize(self, buf):
        return buf

    def _release(self):
        if self._saved:
            self._saved = None
            self._saved_ts = None

    def backward(self, *grads):
        cls = self._forward_cls
        if self.materialize_grads:
            from ..creation import zeros
            grads = tuple(
                zeros(m[0], dtype=_dt(m[1])) if g is None and m is not None else g
                for g, m in zip(grads, self._out_meta))
        if getattr(cls.backward, "_once_differentiable", False) or not _gm.state.enabled:
            r = cls.backward(self, *grads)
        else:
            r = cls.backward(self, *grads)
        if type(r) is not tuple:
            r = (r,)
        kinds = self._in_kinds
        n = len(kinds)
        if len(r) != n:
            if len(r) > n and all(g is None for g in r[n:]):
                r = r[:n]
            else:
                raise RuntimeError(
                    f"function {self.name()} returned an incorrect number of gradients (expected "
                    f"{n}, got {len(r)})")
        out = []
        T = _Tensor()
        metas = self._in_meta
        j = 0
        for i, (g, is_t) in enumerate(zip(r, kinds)):
            if not is_t:
                if g is not None:
                    raise RuntimeError(
                        f"function {self.name()} returned a gradient different than None at "
                        f"position {i + 1}, but the corresponding forward input was not a "
                        f"Variable")
                continue
            if g is not None:
                if not isinstance(g, T):
                    raise TypeError(
                        f"expected Tensor or None as the gradient of input {i} of {self.name()}, "
                        f"got {type(g).__name__}")
                shape, dt = metas[j]
                gshape = tuple(g.shape)  # logical (a BatchedTensor under is_grads_batched)
                if gshape != shape:
                    if _expandable(shape, gshape):
                        g = g.sum_to_size(shape)
                    else:
                        from ..tensor import Size
                        raise RuntimeError(
                            f"Function {self.name()} returned an invalid gradient at index {j} - "
                            f"got {list(Size(gshape))} but expected shape compatible "
                            f"with {list(Size(shape))}") from None
                if g.dtype != _dt(dt):
                    g = g.to(_dt(dt))
            out.append(g)
            j += 1
        return tuple(out)


def _expandable(shape, target):
    """Whether `shape` broadcasts to `target` (so a gradient of `target` can be summed to it)."""
    if len(shape) > len(target):
        return False
    for a, b in zip(reversed(shape), reversed(target)):
        if a != b and a != 1:
            return False
    return True


def _dt(npdt):
    from .. import _dtype as D
    return D.from_np(npdt)


class FunctionMeta(type):
    """Gives every Function subclass its node class, named `<Name>Backward`."""

    def __init__(cls, name, bases, attrs):
        backward_fn = type(name + "Backward", (BackwardCFunction,), {"_forward_cls": cls})
        backward_fn.__qualname__ = name + "Backward"
        cls._backward_cls = backward_fn
        super().__init__(name, bases, attrs)


class _SingleLevelFunction(metaclass=FunctionMeta):
    pass


class Function(_SingleLevelFunction):
    """Base class for user-defined differentiable operations (PyTorch's autograd.Function)."""
    generate_vmap_rule = False

    def __init__(self, *args, **kwargs):
        import warnings
        warnings.warn(
            f"{type(self)} should not be instantiated. Methods on autograd functions are all "
            "static, so you should invoke them on the class itself. Instantiating an autograd "
            "function will raise an error in a future version of PyTorch.", DeprecationWarning,
            stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @staticmethod
    def forward(*args, **kwargs):
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            "forward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        return _apply(cls, args, kwargs)

    @staticmethod
    def vmap(info, in_dims, *args):
        raise NotImplementedError(
            "To use autograd.Function with vmap, you must either override the vmap staticmethod "
            "or set generate_vmap_rule=True.")


def _uses_setup_context(cls):
    return cls.setup_context is not Function.setup_context


def _apply(cls, args, kwargs):
    T = _Tensor()
    for a in args:
        if type(a).__name__ == "BatchedTensor":
            if cls.generate_vmap_rule and _uses_setup_context(cls):
                return _apply_batched(cls, args, kwargs)
            _check_vmap(cls)
    ctx = cls._backward_cls()
    enabled = _gm.state.enabled
    kinds = tuple(isinstance(a, T) for a in args)
    needs = tuple(k and enabled and a._rg for a, k in zip(args, kinds))
    ctx.needs_input_grad = needs
    record = any(needs)
    prev = _gm.state.enabled
    _gm.state.enabled = False
    try:
        if _uses_setup_context(cls):
            outputs = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, outputs)
        else:
            outputs = cls.forward(ctx, *args, **kwargs)
    finally:
        _gm.state.enabled = prev
    single = not isinstance(outputs, tuple)
    outs = (outputs,) if single else outputs
    dirty = ctx._dirty
    non_diff = ctx._non_diff
    new_outs = []
    input_ids = {id(a) for a, k in zip(args, kinds) if k}
    for o in outs:
        if isinstance(o, T) and id(o) in input_ids and not _contains(dirty, o):
            # an input returned as is becomes a new tensor (a view) with this node as history
            a = o
            o = _alias(a)
        new_outs.append(o)
    outs = tuple(new_outs)
    if record:
        from ..ops._core import NO_EDGE, edge
        for d in dirty:
            if d._rg and d.grad_fn is None:
                raise RuntimeError(
                    "a leaf Variable that requires grad has been used in an in-place operation.")
        ctx.next_functions = tuple(edge(a) if k else NO_EDGE for a, k in zip(args, kinds)
                                   if k)
        ctx._in_kinds = kinds
        ctx._in_meta = tuple((a._data.shape, a._data.dtype) for a, k in zip(args, kinds) if k)
        ctx._seq = _next_seq()
        _location_fn(ctx)
        ctx._n_out = len(outs)
        metas = []
        for i, o in enumerate(outs):
            if not isinstance(o, T):
                metas.append(None)
                continue
            metas.append((o._data.shape, o._data.dtype))
            if _contains(non_diff, o) or o._data.dtype.kind not in "fcV":
                o._rg = False
                continue
            if _contains(dirty, o):
                o._bump() if o._vc is None else None
            o._rg = True
            o.grad_fn = ctx
            o._nr = i
        ctx._out_meta = tuple(metas)
    else:
        for o in outs:
            if isinstance(o, T) and _contains(non_diff, o):
                o._rg = False
    # saved tensors: recorded after outputs are linked, so saving an output keeps its history
    ts = ctx._to_save
    if ts is not None:
        from .graph import _pack_function_saved
        _pack_function_saved(ctx, ts, record)
        ctx._to_save = None
    from . import forward_ad as _fad
    if _fad._active_level is not None:
        _fad._function_jvp(cls, ctx, args, outs)
    return outs[0] if single else outs


def _check_vmap(cls):
    """A custom Function applied to batched tensors (inside dagrad.func.vmap)."""
    if not cls.generate_vmap_rule and cls.vmap is Function.vmap:
        raise RuntimeError(
            "In order to use an autograd.Function with functorch transforms (vmap, grad, jvp, "
            "jacrev, ...), it must override the setup_context staticmethod. For more details, "
            "please see https://pytorch.org/docs/main/notes/extending.func.html"
            if not _uses_setup_context(cls) else
            f"You tried to vmap over {cls.__name__}, but it does not have vmap support. Please "
            "override and implement the vmap staticmethod or set generate_vmap_rule=True. For "
            "more details, please see https://pytorch.org/docs/main/notes/extending.func.html")
    raise NotImplementedError(
        f"dagrad: {cls.__name__}: a custom vmap staticmethod is not supported yet; set "
        "generate_vmap_rule=True (forward and backward are then vmapped).")


def _apply_batched(cls, args, kwargs):
    """generate_vmap_rule=True: apply, at the highest vmap level present, a Function whose forward
    is vmap(cls.forward) and whose backward is vmap(cls.backward) over the physical batch."""
    from ..func import _vmap as V
    level = V._max_level(args, {})
    batched = [V._unwrap(a, level) is not None for a in args]
    vals = [V._unwrap(a, level) if b else a for a, b in zip(args, batched)]
    in_dims = tuple(0 if b else None for b in batched)
    T = _Tensor()
    state = {}

    class _Batched(Function):
        generate_vmap_rule = True  # lower vmap levels (nested vmap) batch this one again

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*[t for t in state["saved"] if t is not None])

        @staticmethod
        def forward(*vs):
            inner = cls._backward_cls()
            inner.needs_input_grad = tuple(isinstance(a, T) and a.requires_grad for a in args)

            def f(*a):
                if _uses_setup_context(cls):
                    out = cls.forward(*a, **kwargs)
                    cls.setup_context(inner, a, out)
                else:
                    out = cls.forward(inner, *a, **kwargs)
                lvl = V._levels[-1][0]
                saved = inner._to_save or ()
                state["saved_batched"] = [V._unwrap(t, lvl) is not None if t is not None
                                          else False for t in saved]
                state["saved"] = [V._unwrap(t, lvl) if (t is not None and V._unwrap(t, lvl)
                                                        is not None) else t for t in saved]
                state["single"] = not isinstance(out, tuple)
                return out
            outs = V.vmap(f, in_dims=in_dims)(*vs)
            state["inner"] = inner
            return outs

        @staticmethod
        def backward(ctx, *gs):
            inner = state["inner"]
            saved = list(state["saved"])
            it = iter(ctx.saved_tensors)
            saved = [next(it) if t is not None else None for t in saved]
            sb = state["saved_batched"]
            nones = {}

            def b(*a):
                grads, sv = a[:len(gs)], a[len(gs):]
                proxy = cls._backward_cls()
                for k, v in inner.__dict__.items():
                    if k not in ("_to_save", "_saved", "_saved_ts", "_vers", "next_functions"):
                        proxy.__dict__[k] = v
                svi = iter(sv)
                full = tuple(next(svi) if t is not None else None for t in saved)
                proxy._saved_ts = proxy._saved = full
                proxy._vers = tuple(0 for _ in full)
                r = cls.backward(proxy, *grads)
                r = r if isinstance(r, tuple) else (r,)
                out = []
                for i, g in enumerate(r):
                    if g is None and i < len(args) and isinstance(args[i], T):
                        nones[i] = True
                        g = dagrad_zeros(args[i].shape, args[i].dtype)
                    out.append(g)
                return tuple(g for g, a in zip(out, args) if isinstance(a, T))
            sv_in = [t for t in saved if t is not None]
            sv_dims = tuple(0 if flag else None for t, flag in zip(saved, sb) if t is not None)
            res = V.vmap(b, in_dims=(0,) * len(gs) + sv_dims)(*gs, *sv_in)
            res = iter(res)
            final = []
            for i, (a, bt) in enumerate(zip(args, batched)):
                if not isinstance(a, T):
                    final.append(None)
                    continue
                g = next(res)
                if nones.get(i):
                    g = None
                elif not bt:
                    g = g.sum(0)
                final.append(g)
            return tuple(final)

    _Batched.__name__ = cls.__name__
    _Batched._backward_cls.__name__ = cls._backward_cls.__name__
    out = _Batched.apply(*vals)
    if isinstance(out, tuple):
        return tuple(V._bt(o, level) for o in out)
    return V._bt(out, level)


def dagrad_zeros(shape, dtype):
    from ..creation import zeros
    return zeros(tuple(shape), dtype=dtype)


def _location_fn(node):
    from ..ops import _core
    _core._where(node)


def _contains(seq, t):
    for s in seq:
        if s is t:
            return True
    return False


def _alias(a):
    from ..tensor import _make
    t = _make(a._data)
    if a._vc is None:
        a._vc = [0]
    t._vc = a._vc
    return t


def once_differentiable(fn):
    """Run a backward under no_grad: its result cannot itself be differentiated."""
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with _gm.no_grad():
            outputs = fn(ctx, *args)
        if not _gm.state.enabled:
            return outputs
        T = _Tensor()
        requires = any(isinstance(a, T) and a._rg for a in args)
        if not requires:
            return outputs
        outs = outputs if isinstance(outputs, tuple) else (outputs,)
        err = _DelayedError(
            "trying to differentiate twice a function that was marked with "
            "@once_differentiable", len(outs))
        res = err._apply(*outs)
        return res if isinstance(outputs, tuple) else res[0]
    wrapper._once_differentiable = True
    return wrapper


class _DelayedErrorNode(Node):
    def backward(self, *grads):
        raise RuntimeError(self.msg)

    def _materialize(self, buf):
        return buf


class _DelayedError:
    def __init__(self, msg, n):
        self.msg = msg
        self.n = n

    def _apply(self, *outs):
        from ..ops._core import edge
        from ..tensor import _make
        T = _Tensor()
        node = _DelayedErrorNode()
        node.msg = self.msg
        node.next_functions = tuple(edge(o) if isinstance(o, T) else (None, 0) for o in outs)
        node._seq = _next_seq()
        node._n_out = len(outs)
        res = []
        for i, o in enumerate(outs):
            if isinstance(o, T):
                r = _make(o._data)
                r._rg = True
                r.grad_fn = node
                r._nr = i
                res.append(r)
            else:
                res.append(o)
        return tuple(res)


_DelayedErrorNode.__name__ = "DelayedError"
_DelayedErrorNode.__qualname__ = "DelayedError"


class InplaceFunction(Function):
    def __init__(self, inplace=False):
        self.inplace = inplace


class NestedIOFunction(Function):
    pass


# keep `_location` importable from here for code that wants where a Function node was created
__all__.append("_location")
