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
while a checkpointed forward runs: nothing is paid outside checkpoint. Custom autograd.Function
nodes drop what `ctx.save_for_backward` stored the same way.

`context_fn` returns two context managers, entered around the forward and around the
recomputation (PyTorch). `create_selective_checkpoint_contexts(policy)` makes such a pair for
selective activation checkpointing: the policy is asked once per op (node) of the forward; as in
PyTorch the outputs of ops whose policy is MUST_SAVE / PREFER_SAVE (or *_CPU_OFFLOAD: everything
is on the host) are kept, and a node whose saved tensors are all such outputs (or inputs of the
region) keeps them instead of being recomputed. dagrad has no dispatcher, so an op is identified by its
node (`MmBackward0` -> "aten.mm.default", comparable with that string, "aten::mm" or "mm"), the
policy gets no op arguments, and when every op is saved the function is not run again at all.

`determinism_check="default"` compares the shape, dtype and device of every recomputed saved
tensor with the original's and raises PyTorch's CheckpointError on a difference; "none" skips
that comparison (a different number of saved tensors is always an error, as in PyTorch).
`debug=True` (or `set_checkpoint_debug_enabled(True)`) adds the ops of both runs, with the user
lines that created them, to that error.
"""
import enum
import types
import warnings

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointPolicy",
           "SelectiveCheckpointContext", "create_selective_checkpoint_contexts",
           "set_checkpoint_early_stop", "set_checkpoint_debug_enabled", "noop_context_fn"]

_DEFAULT_DETERMINISM_MODE = "default"


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


_debug_enabled = [None]


class set_checkpoint_debug_enabled:
    """Context manager: debug mode for every checkpoint call inside (None: use `debug=`)."""

    def __init__(self, enabled):
        self.enabled = enabled

    def __enter__(self):
        self.prev = _debug_enabled[0]
        _debug_enabled[0] = self.enabled
        return self

    def __exit__(self, *a):
        _debug_enabled[0] = self.prev


_debug_tip_msg = """
Tip: To see a more detailed error message, either pass `debug=True` to
`torch.utils.checkpoint.checkpoint(...)` or wrap the code block
with `with torch.utils.checkpoint.set_checkpoint_debug_enabled(True):` to
enable checkpoint\u2011debug mode globally.

If this error occurs under torch.compile with automatic_dynamic_shapes enabled,
it may be because the recomputation selected a different compiled graph than the
forward pass (e.g., a dynamic graph instead of the original static graph).
To fix this, either:
  - Use torch._dynamo.mark_dynamic() to explicitly mark varying dimensions as
    dynamic upfront, avoiding the static-to-dynamic transition.
  - Call torch._C._dynamo.eval_frame._set_lru_cache(False) to disable LRU cache
    reordering, which can change which graph is checked first between forward
    and recompute.
See https://github.com/pytorch/pytorch/issues/166926 for more details and
workaround examples.
"""

_checkpoint_error_template = """ \
An error happened while unpacking tensors; dumping logs of latest computation
because you passed `debug=True` to `torch.utils.checkpoint.checkpoint()`.
Scroll all the way down for guidance on how to navigate these logs.

+~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~+
|        1. Stack traces of the operators that ran in the original forward     |
+------------------------------------------------------------------------------+

{forward_traces}
+~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~+
|        2. Stack traces of the operators that ran during recomputation        |
+------------------------------------------------------------------------------+

{recompute_traces}
+~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~+
|       3. Log of operators in the original forward and recomputation          |
+------------------------------------------------------------------------------+
(Scroll up to correlate stack traces with each operation listed below. This
 helps identify their source in the code.)

IMPORTANT: Differences in "detach" calls between the original forward and the
           recomputation are expected. They are introduced by the checkpointing
           mechanism and can be ignored.

Operations executed during the original forward:

{forward_ops}

Operations executed during recomputation:

{recompute_ops}

+------------------------------------------------------------------------------+
 ERROR: Detected non-determinism while running activation checkpointing

 You are seeing this error because you passed `debug=True` to checkpoint and
 tensors to be saved during the original forward and differ between those saved
 during recomputation. This can happen if different operators were ran in the
 original forward and in the recomputation.

 To identify where the mismatch may be coming from, you can do the following:

 1) Compare the operators ran during original forward and recomputation to
    see where they differ. These operators are printed above in the order they
    were executed.

 2) Review the stack trace for each operator to locate its invocation source.
    Each operator's stack trace is printed in their execution order.

 Note that the logs can be quite long. Here's how they are structured:
 (Tip: you can Ctrl-f for these headers)

 1. Stack traces of the operators that ran in the original forward
 2. Stack traces of the operators that ran during recomputation
 3. Log of operators in the original forward and recomputation
 4. Error message                                             <--- You are here
--------------------------------------------------------------------------------
"""


def _default_meta_extractor(x):
    return {"shape": x.shape, "dtype": x.dtype, "device": x.device}


_allowed_determinism_checks_to_fns = {
    _DEFAULT_DETERMINISM_MODE: _default_meta_extractor,
    "none": lambda _: None,
}


# ---------------------------------------------------------------- selective checkpointing
class CheckpointPolicy(enum.Enum):
    """Whether an op's output is saved or recomputed (PyTorch's enum)."""
    MUST_SAVE = 0
    PREFER_SAVE = 1
    MUST_RECOMPUTE = 2
    PREFER_RECOMPUTE = 3
    MUST_CPU_OFFLOAD = 4
    PREFER_CPU_OFFLOAD = 5


def _policy_from_bool(b):
    return CheckpointPolicy.MUST_SAVE if b else CheckpointPolicy.PREFER_RECOMPUTE


_SAVING = (CheckpointPolicy.MUST_SAVE, CheckpointPolicy.PREFER_SAVE,
           CheckpointPolicy.MUST_CPU_OFFLOAD, CheckpointPolicy.PREFER_CPU_OFFLOAD)


class SelectiveCheckpointContext:
    """Passed to a selective-checkpoint policy function (PyTorch's class)."""

    def __init__(self, *, is_recompute, op_output=None):
        self.is_recompute = is_recompute
        self.op_output = op_output


def _snake(name):
    import re
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


class OpName:
    """The op a node belongs to, as a selective-checkpoint policy sees it: prints as
    "aten.mm.default" and equals that string, "aten::mm", "mm" or another OpName of the op."""
    __slots__ = ("_n",)

    def __init__(self, n):
        self._n = n

    @classmethod
    def of(cls, node):
        import re
        n = type(node).__name__
        n = re.sub(r"Backwards?\d*$", "", n) or n
        return cls(_snake(n))

    def name(self):
        return f"aten::{self._n}"

    def __str__(self):
        return f"aten.{self._n}.default"

    __repr__ = __str__

    def __eq__(self, other):
        if isinstance(other, OpName):
            return other._n == self._n
        if isinstance(other, str):  # "aten.mm.default", "aten.add.Tensor", "aten::mm", "mm"
            if other.startswith("aten::"):
                return other[6:] == self._n
            parts = other.split(".")
            if parts[0] == "aten" and len(parts) in (2, 3):
                return parts[1] == self._n
            return other == self._n
        return NotImplemented

    def __hash__(self):
        return hash(self._n)


class _SACForward:
    """First context of create_selective_checkpoint_contexts: asks the policy about each op
    recorded by the checkpointed forward."""

    def __init__(self, policy_fn, storage):
        self.policy_fn = policy_fn
        self.storage = storage

    def __enter__(self):
        _sac_stack.append(self)
        return self

    def __exit__(self, *a):
        _sac_stack.remove(self)

    def decide(self, node):
        p = self.policy_fn(SelectiveCheckpointContext(is_recompute=False), OpName.of(node))
        if isinstance(p, bool):
            p = _policy_from_bool(p)
        if not isinstance(p, CheckpointPolicy):
            raise TypeError(f"policy_fn must return a CheckpointPolicy or a bool, got {p!r}")
        save = p in _SAVING
        self.storage.append((OpName.of(node), p))
        return save


class _SACRecompute:
    """Second context: around the recomputation (the saved ops' values are kept there)."""

    def __init__(self, storage, allow_cache_entry_mutation=False):
        self.storage = storage
        self.allow_cache_entry_mutation = allow_cache_entry_mutation

    def __enter__(self):
        return self

    def __exit__(self, *a):
        pass


_sac_stack = []


def create_selective_checkpoint_contexts(policy_fn_or_list, allow_cache_entry_mutation=False):
    """Context managers for `checkpoint(..., context_fn=...)` that save the ops a policy picks
    (a function (ctx, op, *args, **kwargs) -> CheckpointPolicy, or a list of ops to save)."""
    if isinstance(policy_fn_or_list, list):
        for op in policy_fn_or_list:
            if not isinstance(op, (OpName, str)):
                raise ValueError(
                    f"Expected op in `op_list` to be an OpOverload but got: {op} "
                    f"of type {type(op)}. ")
        ops = list(policy_fn_or_list)

        def policy_fn(ctx, op, *args, **kwargs):
            if any(op == o for o in ops):
                return CheckpointPolicy.MUST_SAVE
            return CheckpointPolicy.PREFER_RECOMPUTE
    elif callable(policy_fn_or_list):
        policy_fn = policy_fn_or_list
    else:
        raise TypeError("policy_fn_or_list must be either a function or a list of ops.")
    storage = []
    return _SACForward(policy_fn, storage), _SACRecompute(storage, allow_cache_entry_mutation)


# ---------------------------------------------------------------- non-reentrant machinery
def _rng_state():
    import dagrad
    return dagrad.get_rng_state()


def _set_rng_state(s):
    import dagrad
    dagrad.set_rng_state(s)


class _Recorder:
    """Collects the nodes linked while active by wrapping ops._core._where."""

    def __init__(self, sac=None):
        self.nodes = []
        self.sac = sac

    def __enter__(self):
        from ..ops import _core
        self.prev = prev = _core._where
        nodes = self.nodes
        sac = self.sac

        def where(node):
            nodes.append(node)
            if sac is not None:
                node.__dict__["_sac_save"] = sac.decide(node)
            prev(node)
        _core._where = where
        self.prev_flag = _core._anomaly
        _core._anomaly = True  # link then calls _core._where instead of its inlined walk
        return self

    def __exit__(self, *a):
        from ..ops import _core
        _core._where = self.prev
        _core._anomaly = self.prev_flag


def _is_fn_ctx(node):
    from ..autograd.function_api import BackwardCFunction
    return isinstance(node, BackwardCFunction)


def _saved_items(node):
    """What `node` holds for backward: its saved tensors, then its saved output (an array)."""
    items = list(node._saved or ())
    if node.result_data is not None:
        items.append(node.result_data)
    return items


def _meta(item, meta_fn):
    from ..autograd.graph import _Packed
    from ..tensor import Tensor, _make
    if item is None:
        return None
    if type(item) is _Packed:
        p = item.packed
        return meta_fn(p) if isinstance(p, Tensor) else None
    return meta_fn(item if isinstance(item, Tensor) else _make(item))


class _LazySaved(tuple):
    """Stands for a custom Function's saved tensors once dropped: the first truth test
    (ctx.saved_tensors does one) recomputes the region, which puts the real ones back."""

    def __new__(cls, node, frame, n):
        obj = super().__new__(cls, (None,) * n)
        obj.node, obj.frame = node, frame
        return obj

    def _real(self):
        self.frame.recompute()
        s = self.node._saved_ts
        return () if s is self or s is None else s

    def __bool__(self):
        self.frame.recompute()
        s = self.node._saved_ts
        return bool(s) if s is not self else True

    def __iter__(self):
        return iter(self._real())

    def __len__(self):
        return len(self._real())

    def __getitem__(self, i):
        return self._real()[i]


def _strip(node, frame):
    """Drop what `node` saved; its saved()/result() recompute the region on first use."""
    had_saved = bool(node._saved)
    had_result = node.result_data is not None
    if not had_saved and not had_result:
        return False
    if _is_fn_ctx(node):
        n = len(node._saved_ts or ())
        node._saved_ts = node._saved = _LazySaved(node, frame, n)
        return True
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


def _producer_saved(item):
    g = getattr(item, "grad_fn", None)
    return g is not None and g.__dict__.get("_sac_save") is True


def _all_cached(node, items):
    """Selective checkpointing (as PyTorch caches op outputs): a node keeps what it saved when
    each saved tensor is the output of an op the policy saves, or comes from outside the
    region (inputs, leaves, constants); its own saved output needs its own op saved."""
    if node.result_data is not None and not node.__dict__.get("_sac_save"):
        return False
    for it in (node._saved_ts or ()) if _is_fn_ctx(node) else (node._saved or ()):
        g = getattr(it, "grad_fn", None)
        if g is not None and g.__dict__.get("_sac_save") is False:
            return False
    return True


def _op_log(nodes):
    names, traces = [], []
    for n in nodes:
        try:
            nm = n.name()
        except Exception:  # noqa: BLE001 - a log line must not fail
            nm = type(n).__name__
        names.append(nm)
        loc = getattr(n, "_loc", None)
        if loc:
            loc = loc if isinstance(loc, tuple) else (str(loc),)
            traces.append(f"{nm}\n  " + ":".join(str(p) for p in loc))
        else:
            traces.append(nm)
    return "\n".join(names), "\n".join(traces)


class _Frame:
    """One non-reentrant checkpointed call: what is needed to run it again."""

    def __init__(self, fn, args, kwargs, rng, recompute_ctx, meta_fn, debug):
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.rng = rng
        self.recompute_ctx = recompute_ctx
        self.meta_fn = meta_fn
        self.debug = debug
        self.nodes = None
        self.stripped = []   # indices (in self.nodes) of the nodes whose saved values were dropped
        self.metas = []      # metadata of each dropped saved value, in order
        self.counts = []     # how many saved values each dropped node had
        self.done = False

    def strip(self, nodes):
        self.nodes = nodes
        sac = any("_sac_save" in n.__dict__ for n in nodes)
        self.keep = []  # selective checkpointing: outputs of saved ops stay alive
        for i, n in enumerate(nodes):
            items = (list(n._saved_ts or ()) if _is_fn_ctx(n) else _saved_items(n)) \
                if (n._saved or n.result_data is not None) else []
            if sac and _all_cached(n, items):
                continue  # everything it saved is an input or the output of a saved op
            if sac:
                self.keep.extend(it for it in items if _producer_saved(it))
            if _strip(n, self):
                self.stripped.append(i)
                self.counts.append(len(items))
                if self.meta_fn is not None:
                    self.metas.extend(_meta(it, self.meta_fn) for it in items)

    def recompute(self):
        if self.done:
            return
        self.done = True
        import contextlib

        from ..autograd import grad_mode as gm
        prev_rng = None
        if self.rng is not None:
            prev_rng = _rng_state()
            _set_rng_state(self.rng)
        prev = gm.state.enabled
        gm.state.enabled = True
        _recomputing[0] += 1  # checkpoints nested in fn run plainly: their values are needed now
        try:
            with (self.recompute_ctx if self.recompute_ctx is not None
                  else contextlib.nullcontext()):
                with _Recorder() as rec:
                    self.fn(*self.args, **self.kwargs)
        finally:
            _recomputing[0] -= 1
            gm.state.enabled = prev
            if prev_rng is not None:
                _set_rng_state(prev_rng)
        new = rec.nodes
        try:
            self._check(new)
        except CheckpointError as e:
            if self.debug:
                fops, ftr = _op_log(self.nodes)
                rops, rtr = _op_log(new)
                raise CheckpointError(_checkpoint_error_template.format(
                    forward_traces=ftr, recompute_traces=rtr, forward_ops=fops,
                    recompute_ops=rops)) from e
            raise
        old = self.nodes
        for i in self.stripped:
            o, n = old[i], new[i]
            d = o.__dict__
            d.pop("saved", None)
            d.pop("result", None)
            if o._saved is None:  # already freed by a backward without retain_graph
                continue
            if _is_fn_ctx(o):
                o._saved_ts = n._saved_ts
                o._saved = n._saved
                o._vers = n._vers
                continue
            o._saved = n._saved
            o._vers = n._vers
            o.result_data = n.result_data
            o._out_vc = n._out_vc
            o._out_ver = n._out_ver
        self.args = self.kwargs = self.fn = None
        self.keep = None

    def _check(self, new):
        def items(n):
            if _is_fn_ctx(n):
                return list(n._saved_ts or ())
            return _saved_items(n)
        n_old = sum(self.counts)
        idx = [i for i in self.stripped if i < len(new)]
        n_new = sum(len(items(new[i])) for i in idx)
        n_new += sum(len(items(n)) for n in new[len(self.nodes):])
        if n_new > n_old:
            raise CheckpointError(
                "torch.utils.checkpoint: trying to save more tensors during recomputation "
                f"than during the original forward pass.\n{_debug_tip_msg}")
        if n_new < n_old or len(idx) < len(self.stripped):
            raise CheckpointError(
                "torch.utils.checkpoint: A different number of tensors was saved during the "
                "original forward and recomputation.\n"
                f"Number of tensors saved during forward: {n_old}\n"
                f"Number of tensors saved during recomputation: {n_new}.\n{_debug_tip_msg}")
        if self.meta_fn is None:
            return
        diffs = []
        pos = 0
        for i, c in zip(self.stripped, self.counts):
            got = items(new[i])
            if len(got) != c:
                raise CheckpointError(
                    "torch.utils.checkpoint: A different number of tensors was saved during "
                    "the original forward and recomputation.\n"
                    f"Number of tensors saved during forward: {n_old}\n"
                    f"Number of tensors saved during recomputation: {n_new}.\n"
                    f"{_debug_tip_msg}")
            for it in got:
                m = _meta(it, self.meta_fn)
                if m != self.metas[pos]:
                    diffs.append((pos, self.metas[pos], m))
                pos += 1
        if diffs:
            mismatched = "".join(f"tensor at position {p}:\nsaved metadata: {a}\n"
                                 f"recomputed metadata: {b}\n" for p, a, b in diffs)
            raise CheckpointError(
                "torch.utils.checkpoint: Recomputed values for the following tensors have "
                f"different metadata than during the forward pass.\n{mismatched}.\n"
                f"{_debug_tip_msg}")


_recomputing = [0]


def _checkpoint_non_reentrant(fn, preserve_rng_state, args, kwargs, context_fn=noop_context_fn,
                              determinism_check=_DEFAULT_DETERMINISM_MODE, debug=False):
    import contextlib

    from ..autograd import grad_mode as gm
    if _debug_enabled[0] if _debug_enabled[0] is not None else debug:
        if context_fn is not noop_context_fn:
            raise ValueError("debug=True is incompatible with non-default context_fn")
        debug = True
    else:
        debug = False
    if determinism_check in _allowed_determinism_checks_to_fns:
        meta_fn = (None if determinism_check == "none"
                   else _allowed_determinism_checks_to_fns[determinism_check])
    else:
        raise ValueError(
            f"determinism_check should be one of {list(_allowed_determinism_checks_to_fns)}, "
            f"but got {determinism_check}")
    forward_ctx, recompute_ctx = context_fn()
    if not gm.state.enabled or _recomputing[0]:
        return fn(*args, **kwargs)
    rng = _rng_state() if preserve_rng_state else None
    frame = _Frame(fn, args, kwargs, rng, recompute_ctx, meta_fn, debug)
    sac = forward_ctx if isinstance(forward_ctx, _SACForward) else None
    with (forward_ctx if forward_ctx is not None else contextlib.nullcontext()):
        with _Recorder(sac) as rec:
            out = fn(*args, **kwargs)
    frame.strip(rec.nodes)
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
               determinism_check=_DEFAULT_DETERMINISM_MODE, debug=False, early_stop=True,
               preserve_rng_state=True, **kwargs):
    """Run `function(*args)` without keeping its activations; recompute them in backward."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
            "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
            "exception. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.", stacklevel=2)
        use_reentrant = True
    if determinism_check not in _allowed_determinism_checks_to_fns:
        raise ValueError(
            f"determinism_check should be one of {list(_allowed_determinism_checks_to_fns)}, "
            f"but got {determinism_check}")
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError(
                "Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        return _checkpoint_reentrant(function, preserve_rng_state, args)
    return _checkpoint_non_reentrant(function, preserve_rng_state, args, kwargs, context_fn,
                                     determinism_check, debug)


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
