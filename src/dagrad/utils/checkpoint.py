"""torch.utils.checkpoint: trade compute for memory by recomputing activations in backward.

Two variants, as in PyTorch:

* `use_reentrant=False` (recommended): the forward runs normally and records its graph, but every
  node created inside the checkpointed function drops what it saved (tensors and saved outputs)
  as soon as the function returns. The first time backward needs one of them, the function is run
  again on the same inputs (with the RNG state restored) and the recomputed nodes' saved values are
  moved onto the original nodes, matched by creation order. Gradients reach everything the
  function used (inputs, closed-over parameters), and `autograd.grad` works.
* `use_reentrant=True`: the forward runs under no_grad inside a custom Function; its backward
  re-runs the function with grad enabled and calls `autograd.backward` on the recomputed graph
  (so parameters inside the function accumulate into `.grad`).

Nodes are collected through the one hook `ops._core.link` already calls (`_where`), swapped only
while a checkpointed forward runs: nothing is paid outside checkpoint.
"""
import types
import warnings

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError",
           "set_checkpoint_early_stop", "noop_context_fn"]


class CheckpointError(RuntimeError):
    pass


def noop_context_fn():
    import contextlib
    return contextlib.nullcontext(), contextlib.nullcontext()


class set_checkpoint_early_stop:
    def __init__(self, enable):
        self.enable = enable

    def __enter__(self):
        return self

    def __exit__(self, *a):
        pass


def _rng_state():
    import dagrad
    return dagrad.get_rng_state()


def _set_rng_state(s):
    import dagrad
    dagrad.set_rng_state(s)


class _Recorder:
    """Collects the nodes linked while active by wrapping ops._core._where."""

    def __init__(self):
        self.nodes = []

    def __enter__(self):
        from ..ops import _core
        self.prev = prev = _core._where
        nodes = self.nodes

        def where(node):
            nodes.append(node)
            prev(node)
        _core._where = where
        self.prev_flag = _core._anomaly
        _core._anomaly = True  # link then calls _core._where instead of its inlined walk
        return self

    def __exit__(self, *a):
        from ..ops import _core
        _core._where = self.prev
        _core._anomaly = self.prev_flag


def _strip(node, frame):
    """Drop what `node` saved; its saved()/result() recompute the region on first use."""
    had_saved = bool(node._saved)
    had_result = node.result_data is not None
    if not had_saved and not had_result:
        return False
    node._saved = ()
    node.result_data = None
    node._np = None  # the engine's NumPy twins read saved arrays directly: use the Tensor rules
    if had_saved:
        node.saved = types.MethodType(_lazy("saved", frame), node)
    if had_result:
        node.result = types.MethodType(_lazy("result", frame), node)
    return True


def _lazy(method, frame):
    def call(self, *args):
        frame.recompute()
        return getattr(self, method)(*args)
    return call


class _Frame:
    """One non-reentrant checkpointed call: what is needed to run it again."""

    def __init__(self, fn, args, kwargs, rng):
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.rng = rng
        self.nodes = None
        self.done = False

    def recompute(self):
        if self.done:
            return
        self.done = True
        import dagrad

        from ..autograd import grad_mode as gm
        prev_rng = None
        if self.rng is not None:
            prev_rng = _rng_state()
            _set_rng_state(self.rng)
        prev = gm.state.enabled
        gm.state.enabled = True
        _recomputing[0] += 1  # checkpoints nested in fn run plainly: their values are needed now
        try:
            with _Recorder() as rec:
                self.fn(*self.args, **self.kwargs)
        finally:
            _recomputing[0] -= 1
            gm.state.enabled = prev
            if prev_rng is not None:
                _set_rng_state(prev_rng)
        new = rec.nodes
        old = self.nodes
        if len(new) != len(old) or any(type(a) is not type(b) for a, b in zip(old, new)):
            raise CheckpointError(
                "torch.utils.checkpoint: Recomputed values for the following tensors have "
                "different metadata than during the forward pass: the recomputation ran "
                f"{len(new)} ops but the original forward ran {len(old)} (the checkpointed "
                "function must be deterministic in the ops it runs).")
        for o, n in zip(old, new):
            d = o.__dict__
            d.pop("saved", None)
            d.pop("result", None)
            if o._saved is None:  # already freed by a backward without retain_graph
                continue
            o._saved = n._saved
            o._vers = n._vers
            o.result_data = n.result_data
            o._out_vc = n._out_vc
            o._out_ver = n._out_ver
        self.args = self.kwargs = self.fn = None
        del dagrad


_recomputing = [0]


def _checkpoint_non_reentrant(fn, preserve_rng_state, args, kwargs):
    from ..autograd import grad_mode as gm
    if not gm.state.enabled or _recomputing[0]:
        return fn(*args, **kwargs)
    rng = _rng_state() if preserve_rng_state else None
    frame = _Frame(fn, args, kwargs, rng)
    with _Recorder() as rec:
        out = fn(*args, **kwargs)
    frame.nodes = rec.nodes
    for n in rec.nodes:
        _strip(n, frame)
    return out


def _checkpoint_reentrant(fn, preserve_rng_state, args):
    from ..autograd.function_api import Function
    from ..tensor import Tensor

    class CheckpointFunction(Function):
        @staticmethod
        def forward(ctx, run_function, preserve, *a):
            ctx.run_function = run_function
            ctx.rng = _rng_state() if preserve else None
            ctx.inputs = []
            ctx.tensor_indices = []
            tensors = []
            for i, x in enumerate(a):
                if isinstance(x, Tensor):
                    tensors.append(x)
                    ctx.tensor_indices.append(i)
                    ctx.inputs.append(None)
                else:
                    ctx.inputs.append(x)
            ctx.save_for_backward(*tensors)
            return run_function(*a)

        @staticmethod
        def backward(ctx, *grads):
            import dagrad
            inputs = list(ctx.inputs)
            for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
                d = t.detach()
                d.requires_grad_(t.requires_grad)
                inputs[i] = d
            prev_rng = None
            if ctx.rng is not None:
                prev_rng = _rng_state()
                _set_rng_state(ctx.rng)
            try:
                with dagrad.enable_grad():
                    outs = ctx.run_function(*inputs)
            finally:
                if prev_rng is not None:
                    _set_rng_state(prev_rng)
            if isinstance(outs, Tensor):
                outs = (outs,)
            pairs = [(o, g) for o, g in zip(outs, grads)
                     if isinstance(o, Tensor) and o.requires_grad and g is not None]
            if not pairs:
                raise RuntimeError(
                    "none of output has requires_grad=True, this checkpoint() is not necessary")
            dagrad.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
            res = tuple(inp.grad if isinstance(inp, Tensor) else None for inp in inputs)
            return (None, None) + res

    return CheckpointFunction.apply(fn, preserve_rng_state, *args)


CheckpointFunction = None  # the reentrant Function class is built per call (see above)


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check="default", debug=False, preserve_rng_state=True, **kwargs):
    """Run `function(*args)` without keeping its activations; recompute them in backward."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
            "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
            "exception. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    if determinism_check not in ("default", "none"):
        raise ValueError(
            f"determinism_check should be one of ['default', 'none'], but got {determinism_check}")
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError(
                "Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        return _checkpoint_reentrant(function, preserve_rng_state, args)
    return _checkpoint_non_reentrant(function, preserve_rng_state, args, kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Split a Sequential (or list of modules/functions) into `segments` checkpointed chunks."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be "
            "passed explicitly. In version 2.9 we will raise an exception if use_reentrant is "
            "not passed. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, functions):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    if hasattr(functions, "children") and not isinstance(functions, (list, tuple)):
        functions = list(functions.children())
    functions = list(functions)
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
