"""dagrad.autograd: backward, grad, grad modes, and the graph's node types."""
from .anomaly_mode import (detect_anomaly, is_anomaly_check_nan_enabled,  # noqa: F401
                           is_anomaly_enabled, set_detect_anomaly)
from .engine import run_backward
from .function import AccumulateGrad, Node  # noqa: F401
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled,  # noqa: F401
                        is_inference_mode_enabled, no_grad, set_grad_enabled)

# Loaded on first use (`import dagrad` stays cheap): submodules, and the names taken from them.
_LAZY_MODULES = ("forward_ad", "functional", "graph", "profiler", "function_api")
_LAZY_NAMES = {"GradcheckError": "gradcheck", "gradcheck": "gradcheck",
               "gradgradcheck": "gradcheck", "Function": "function_api",
               "FunctionCtx": "function_api", "InplaceFunction": "function_api",
               "NestedIOFunction": "function_api", "once_differentiable": "function_api"}


def __getattr__(name):
    import importlib
    if name in _LAZY_MODULES:
        mod = importlib.import_module(f".{name}", __name__)
        globals()[name] = mod
        return mod
    src = _LAZY_NAMES.get(name)
    if src is not None:
        mod = importlib.import_module(f".{src}", __name__)
        # bind every name the module provides (importing .gradcheck sets the attribute
        # `gradcheck` to the submodule; the function must win, as with the eager import)
        for n, s in _LAZY_NAMES.items():
            if s == src:
                globals()[n] = getattr(mod, n)
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_MODULES) | set(_LAZY_NAMES))


def _tensors(x):
    from ..tensor import Tensor
    if isinstance(x, Tensor):
        return [x]
    if x is None:
        return []
    return list(x)


def _make_grads(outputs, grads, is_grads_batched=False):
    from ..tensor import Tensor
    from ..creation import ones_like
    out = []
    for i, (o, g) in enumerate(zip(outputs, grads)):
        if g is None:
            if o._rg:
                if o._data.size != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                if o._data.dtype.kind not in "fcV":
                    raise RuntimeError(
                        f"grad can be implicitly created only for real scalar outputs but got "
                        f"{o.dtype}")
                out.append(ones_like(o))
            else:
                out.append(None)
        elif isinstance(g, Tensor):
            if not is_grads_batched and g._data.shape != o._data.shape:
                from ..tensor import Size
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {Size(g._data.shape)} "
                    f"and output[{i}] has a shape of {Size(o._data.shape)}.")
            if g._data.dtype.kind != o._data.dtype.kind and o._data.dtype.kind in "fcV":
                raise RuntimeError(
                    f"For complex Tensors, both grad_output and output are required to have the "
                    f"same dtype. Mismatch in dtype: grad_output[{i}] has a dtype of {g.dtype} "
                    f"and output[{i}] has a dtype of {o.dtype}.")
            if g._data.dtype != o._data.dtype:
                g = g.to(o.dtype)
            out.append(g)
        else:
            raise TypeError(
                f"gradients can be either Tensors or None, but got {type(g).__name__}")
    return out


def _roots(outputs):
    roots = []
    for i, o in enumerate(outputs):
        if o.grad_fn is not None:
            roots.append((o.grad_fn, o._nr))
        elif o._rg:
            roots.append((o._get_accumulator(), 0))
        else:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn")
    return roots


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Compute the sum of gradients of `tensors` w.r.t. graph leaves, into their .grad."""
    outputs = _tensors(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    grads = _tensors(grad_tensors) if grad_tensors is not None else [None] * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(
            f"got {len(grads)} tensors and {len(outputs)} gradients")
    if retain_graph is None:
        retain_graph = create_graph
    roots = _roots(outputs)
    grads = _make_grads(outputs, grads)
    inp = None
    if inputs is not None:
        inp = _tensors(inputs)
        if not inp:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    # non-leaf tensors named in inputs get their .grad populated (as with retain_grad)
    temp = [t for t in (inp or ()) if t.grad_fn is not None and not t.retains_grad]
    for t in temp:
        t.retain_grad()
    try:
        run_backward(roots, grads, retain_graph, create_graph, inputs=inp)
    finally:
        for t in temp:
            t.grad_fn._retain.pop(t._nr, None)
            t._retains = False


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return the gradients of outputs w.r.t. inputs, without touching any .grad."""
    from ..tensor import Tensor
    single = isinstance(inputs, Tensor)
    outs = _tensors(outputs)
    inps = _tensors(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    for t in inps:
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    gos = _tensors(grad_outputs) if grad_outputs is not None else [None] * len(outs)
    if len(gos) != len(outs):
        raise RuntimeError(f"grad_outputs has {len(gos)} tensors but outputs has {len(outs)}")
    if retain_graph is None:
        retain_graph = create_graph
    if is_grads_batched:
        from .functional import _grads_batched
        return _grads_batched(grad, outs, inps, gos, create_graph, allow_unused,
                              materialize_grads, retain_graph)
    roots = _roots(outs)
    gs = _make_grads(outs, gos)
    res = run_backward(roots, gs, retain_graph, create_graph, inputs=inps, capture=True)
    out = []
    for i, (t, g) in enumerate(zip(inps, res)):
        if g is None:
            if materialize_grads:
                from ..creation import zeros_like
                g = zeros_like(t, requires_grad=create_graph)
            elif not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the "
                    f"graph. Set allow_unused=True if this is the desired behavior.")
        out.append(g)
    return tuple(out) if not single else (out[0],)
