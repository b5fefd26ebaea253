"""The backward engine: execution in reverse creation order (a topological order).

Iterative throughout (no recursion), so a chain of 100,000 ops backwards without hitting Python's
recursion limit. Each node runs once, after every gradient flowing into it has been summed.
Gradients are reduced to each input's shape and cast to its dtype here, in one place, so no
backward rule deals with broadcasting.
"""
import operator
import sys
from heapq import heappop as _heappop
from heapq import heappush as _heappush

from .. import _dtype as _D
from .function import AccumulateGrad
from .grad_mode import state as _grad_state

_make = None  # set by dagrad.tensor (import cycle)

_getrefcount = sys.getrefcount
_ndarray = None  # numpy.ndarray, set below (keeps the import list short)
_writeable = None
_seq_of = operator.attrgetter("_seq")


class _Capture:
    """Where autograd.grad collects the gradient reaching one of its `inputs`."""
    __slots__ = ("grad",)

    def __init__(self):
        self.grad = None


def _fix(g, meta):
    """Reduce a gradient to its input's shape and dtype (broadcasting and promotion undone)."""
    shape, dt = meta
    if g._data.shape != shape:
        g = g.sum_to_size(shape)
    if g._data.dtype != dt:
        if g._data.dtype.kind == "c" and getattr(dt, "kind", "c") != "c":
            g = g.real  # a real input of a complex op gets the real part, as in PyTorch
        g = g.to(dt)
    return g


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _in_dtype(g, t):
    """autograd.grad's result in its input's float dtype (PyTorch's validate_outputs): a
    bfloat16 input's gradient may arrive as float32 from a NumPy rule's Python-float constant."""
    if g is None:
        return g
    gd, td = g.dtype, t.dtype  # the logical dtypes (g may be a vmap BatchedTensor)
    if gd != td and gd.is_floating_point and td.is_floating_point:
        return g.to(td)
    return g


def _accumulate(node, g, create_graph):
    """AccumulateGrad's work: sum `g` into the leaf's .grad, PyTorch-style."""
    var = node._var()
    if var is None:  # the leaf is gone: nobody can read its .grad
        return
    hooks = getattr(var, "_hooks", None)
    if hooks:
        for fn in list(hooks.values()):
            r = fn(g)
            if r is not None:
                g = r
    if g is None:
        return
    if g._data.dtype != var._data.dtype and g._data.dtype.kind in "fV" and \
            var._data.dtype.kind in "fV":  # PyTorch's validate_outputs: grad in the leaf's dtype
        g = g.to(var._data.dtype)
    old = getattr(var, "_grad", None)
    if old is None:
        if create_graph:
            var._grad = g
        else:
            arr = g._data
            # Steal the buffer only when nothing else can see it (PyTorch checks use_count the
            # same way); otherwise copy, so two leaves never share one .grad array.
            if (arr.base is None and _writeable(arr) and _getrefcount(arr) <= 2
                    and g.grad_fn is None and _getrefcount(g) <= 3):
                var._grad = g
            else:
                var._grad = _make(arr.copy())
    else:
        if create_graph or _grad_state.enabled:
            var._grad = old + g
        else:
            if old._data.shape == g._data.shape and _writeable(old._data):
                old._data += g._data
                if old._vc is not None:
                    old._vc[0] += 1
            else:
                var._grad = old + g
    post = getattr(var, "_post_hooks", None)
    if post:
        for fn in list(post.values()):
            fn(var)


def _needed(roots, targets):
    """Nodes lying on some path from a root to a target (for autograd.grad / backward(inputs=))."""
    memo = {}
    for r in roots:
        if r is None or r in memo:
            continue
        stack = [(r, False)]
        while stack:
            n, done = stack.pop()
            if done:
                memo[n] = n in targets or any(
                    memo.get(m, False) for m, _ in n.next_functions if m is not None)
                continue
            if n in memo:
                continue
            memo[n] = False
            stack.append((n, True))
            for m, _ in n.next_functions:
                if m is not None and m not in memo:
                    stack.append((m, False))
    return {n for n, v in memo.items() if v}


def run_backward(roots, root_grads, keep_graph, create_graph, inputs=None, capture=False):
    """Run the graph from `roots` (list of (node, output_nr)) seeded with `root_grads`.

    inputs: None, or a list of Tensors; with capture=False their .grad is accumulated and nothing
    else is, with capture=True (autograd.grad) their gradients are returned instead.
    """
    if inputs is None and not create_graph:
        return _run_heap(roots, root_grads, keep_graph)
    targets = None
    captures = None
    if inputs is not None:
        targets = {}
        for t in inputs:
            if t.grad_fn is not None:
                key = (t.grad_fn, t._nr)
            else:
                key = (t._get_accumulator(), 0)
            targets.setdefault(key, []).append(t)
        if capture:
            captures = {k: _Capture() for k in targets}
        target_nodes = {k[0] for k in targets}
        needed = _needed([n for n, _ in roots], target_nodes)
    else:
        needed = None

    # 1. collect the reachable nodes. Every node is created after its inputs' nodes, so
    # decreasing creation order (`_seq`) is a topological order: by the time a node runs, every
    # consumer has already added its gradient to the node's buffer. No dependency counts, no heap.
    # An AccumulateGrad is keyed just below its last consumer, so it runs as soon as it is ready,
    # as PyTorch's ready queue runs it.
    order = []
    seen = set()
    stack = []
    for n, _ in roots:
        if n is not None and n not in seen:
            seen.add(n)
            stack.append(n)
    acc_seq = {}
    while stack:
        n = stack.pop()
        order.append(n)
        if captures is not None and type(n) is AccumulateGrad:
            continue
        s = n._seq
        for m, _ in n.next_functions:
            if m is None or (needed is not None and m not in needed):
                continue
            if type(m) is AccumulateGrad:
                k = acc_seq.get(m)
                if k is None or s < k:
                    acc_seq[m] = s
            if m not in seen:
                seen.add(m)
                stack.append(m)
    for m, s in acc_seq.items():
        m._seq = s - 0.5
    order.sort(key=_seq_of, reverse=True)

    if not create_graph:
        return _run_arrays(order, roots, root_grads, keep_graph, targets, captures, needed,
                           inputs)

    # 2. seed the buffers
    buffers = {}
    for (n, nr), g in zip(roots, root_grads):
        if n is None:
            continue
        b = buffers.get(n)
        if b is None:
            buffers[n] = b = [None] * n._n_out
        b[nr] = _add(b[nr], g)

    prev_mode = _grad_state.enabled
    _grad_state.enabled = create_graph
    try:
        for node in order:
            buf = buffers.pop(node, None)
            if buf is None:
                continue  # no gradient reaches this node
            if node._has_pre or captures is not None:
                buf = _pre_process(node, buf, captures)
            if type(node) is AccumulateGrad:
                if buf[0] is not None and captures is None:
                    if targets is None or (node, 0) in targets:
                        _accumulate(node, buf[0], create_graph)
                continue
            nf = node.next_functions
            if needed is not None and not any(m in needed for m, _ in nf):
                continue
            if node._n_out == 1:
                g0 = buf[0]
                if g0 is None:
                    continue
                grads = node.backward(g0)
                if type(grads) is not tuple:
                    grads = (grads,)
                if node._hooks:
                    grads = _post_hooks(node, grads, buf)
            elif any(g is not None for g in buf):
                grads = _call(node, buf)
            else:
                continue
            if not keep_graph and (node._saved or node._out_vc is not None or node._frees):
                node._release()
            _deliver(nf, grads, node._meta, buffers, needed, _fix)
    except Exception as e:  # name the user line that built the failing node (anomaly_mode.py)
        from .anomaly_mode import _on_backward_error
        _on_backward_error(e, locals().get("node"))
        raise
    finally:
        _grad_state.enabled = prev_mode

    if captures is not None:
        return [_in_dtype(captures[_key_of(t)].grad, t) for t in inputs]
    return None


def _run_arrays(order, roots, root_grads, keep_graph, targets, captures, needed, inputs):
    """The first-order path (create_graph=False) of autograd.grad / backward(inputs=...):
    gradients flow as bare arrays, nodes run in the precomputed `order`.

    Nothing here is recorded, so wrapping every intermediate gradient in a Tensor and
    dispatching through Tensor ops only costs time. A node with a NumPy twin of its rule
    (`_np`, checked against the Tensor rule by the tests) runs it directly; any other node gets
    its gradients wrapped and runs its Tensor rule. Hooks see Tensors, as in PyTorch.
    """
    buffers = {}
    for (n, nr), g in zip(roots, root_grads):
        if n is None:
            continue
        b = buffers.get(n)
        if b is None:
            buffers[n] = b = [None] * n._n_out
        a = g._data
        b[nr] = a if b[nr] is None else b[nr] + a
    prev_mode = _grad_state.enabled
    _grad_state.enabled = False
    node = None
    try:
        for node in order:
            buf = buffers.pop(node, None)
            if buf is None:
                continue  # no gradient reaches this node
            if node._has_pre or captures is not None:
                buf = _pre_arrays(node, buf, captures)
            if type(node) is AccumulateGrad:
                if buf[0] is not None and captures is None:
                    if targets is None or (node, 0) in targets:
                        _accumulate_arr(node, buf)
                continue
            nf = node.next_functions
            if needed is not None and not any(m in needed for m, _ in nf):
                continue
            grads = _node_arrays(node, buf)
            if grads is None:
                continue
            buf = None
            if not keep_graph and (node._saved or node._out_vc is not None or node._frees):
                node._release()
            _deliver(nf, grads, node._meta, buffers, needed, _fix_arr)
            grads = None  # drop our reference so AccumulateGrad can adopt a buffer without a copy
    except Exception as e:  # name the user line that built the failing node (anomaly_mode.py)
        from .anomaly_mode import _on_backward_error
        _on_backward_error(e, node)
        raise
    finally:
        _grad_state.enabled = prev_mode
    if captures is not None:
        return [_in_dtype(captures[_key_of(t)].grad, t) for t in inputs]
    return None


def _pre_arrays(node, buf, captures):
    tb = _pre_process(node, [_wrap(a) for a in buf], captures)
    return [t._data if t is not None else None for t in tb]


def _twin_bf16(fast, node, g):
    """A NumPy twin on a bfloat16 gradient, as PyTorch's CPU backward kernels: computed in float32
    and each input's gradient rounded once to bfloat16 (validate_outputs). An input whose dtype
    differs (its _meta entry, or a ToCopy's source dtype) keeps the float32 gradient. The node's
    saved bf16 arrays are read as float32 during the call (restored after)."""
    swapped = []
    rd = getattr(node, "result_data", None)
    if rd is not None and rd.dtype.kind == "V":
        node.result_data = rd.astype(_f32)
    for t in node._saved or ():
        a = getattr(t, "_data", None)
        if a is not None and a.dtype.kind == "V" and all(t is not s for s, _ in swapped):
            swapped.append((t, a))
            t._data = a.astype(_f32)
    try:
        grads = fast(node, g.astype(_f32))
    finally:
        for t, a in swapped:
            t._data = a
        if rd is not None:
            node.result_data = rd
    if type(grads) is not tuple:
        grads = (grads,)
    if getattr(node, "src_dtype", None) is not None:
        return grads
    meta = node._meta
    return tuple([r.astype(g.dtype) if r is not None and r.dtype == _f32 and
                  (meta is None or meta[i] is None) else r for i, r in enumerate(grads)])


# Tensor rules of nodes whose PyTorch backward is one fused kernel (float32 opmath, one
# rounding): for a bfloat16 node they run in float32. Other Tensor rules stay in bf16, one
# rounding per op, as PyTorch's composite formulas (derivatives.yaml) do.
_F32_RULES = frozenset((
    "GeluBackward0 EluBackward0 SoftplusBackward0 HardswishBackward0 HardsigmoidBackward0 "
    "LeakyReluBackward0 MishBackward0 SiluBackward0 HardtanhBackward0 LogSigmoidBackward0 "
    "LogitBackward0 TanhBackward0 SigmoidBackward0 SoftmaxBackward0 LogSoftmaxBackward0 "
    "Relu6Backward0 SoftshrinkBackward0 HardshrinkBackward0 ThresholdBackward0 "
    "NativeLayerNormBackward0 NativeGroupNormBackward0 NativeBatchNormBackward0 BmmBackward0 "
    "MatmulBackward MvBackward0 DotBackward0 EmbeddingBackward0 AvgPool1DBackward0 "
    "AvgPool2DBackward0 AdaptiveAvgPool1DBackward0 AdaptiveAvgPool2DBackward0 "
    "UpsampleLinear1DBackward0 UpsampleBilinear2DBackward0 UpsampleBicubic2DBackward0 "
    "MseLossBackward0 SmoothL1LossBackward0 HuberLossBackward0 BinaryCrossEntropyBackward0 "
    "BinaryCrossEntropyWithLogitsBackward0").split())


def _rule_arrays(node, a):
    r = node.backward(_make(a))
    if type(r) is not tuple:
        r = (r,)
    return tuple([t._data if t is not None else None for t in r])


def _node_arrays(node, buf):
    """Run a (non-AccumulateGrad) node on the array path, after its pre-hooks: post-hooks, twin
    or Tensor rule. One gradient array (or None) per next_function; None when nothing flows."""
    if node._n_out == 1:
        g0 = buf[0]
        if g0 is None:
            return None
        fast = node._np
        if fast is not None and not node._hooks:
            if g0.dtype.kind == "V":  # bfloat16: the twin runs in float32 (PyTorch's opmath)
                return _twin_bf16(fast, node, g0)
            grads = fast(node, g0)
            return grads if type(grads) is tuple else (grads,)
        if g0.dtype.kind == "V" and not node._hooks and type(node).__name__ in _F32_RULES:
            return _twin_bf16(_rule_arrays, node, g0)  # bfloat16: elementwise rule in float32
        tg = _make(g0)
        buf = g0 = None
        r = node.backward(tg)
        if type(r) is not tuple:
            r = (r,)
        if node._hooks:
            r = _post_hooks(node, r, [tg])
        return tuple([t._data if t is not None else None for t in r])
    if any(g is not None for g in buf):
        r = _call(node, [_wrap(a) for a in buf])
        return tuple([t._data if t is not None else None for t in r])
    return None


def _run_heap(roots, root_grads, keep_graph):
    """Plain `backward()` on the array path, without a traversal before it.

    Nodes run in decreasing creation order from a heap holding only the nodes a gradient has
    reached (a node's consumers were all created after it, so all of them have run when it is
    popped). An AccumulateGrad of a leaf without hooks runs at the end (when it runs is not
    observable); one with hooks is scheduled just below its last consumer, as PyTorch's ready
    queue runs it, from one scan of the pending graph (`_acc_keys`).
    """
    buffers = {}
    heap = []
    accs = []
    state = [None, 0]  # [acc key dict or None, tiebreak counter]
    for (n, nr), g in zip(roots, root_grads):
        if n is None:
            continue
        b = buffers.get(n)
        if b is None:
            buffers[n] = b = [None] * n._n_out
            if type(n) is AccumulateGrad:
                _schedule_acc(n, None, heap, accs, state)
            else:
                _heappush(heap, (-n._seq, n))
        a = g._data
        b[nr] = a if b[nr] is None else b[nr] + a
    prev_mode = _grad_state.enabled
    _grad_state.enabled = False
    node = None
    pop = buffers.pop
    get = buffers.get
    heappop = _heappop
    heappush = _heappush
    try:
        while heap:
            node = heappop(heap)[-1]
            buf = pop(node)
            fast = node._np
            if fast is not None and node._plain:
                # the common node: a NumPy twin, no hooks, one output (install() guarantees it)
                grads = buf[0]
                if _D._bf16_np is not None and grads.dtype.kind == "V":  # bfloat16: the rule in float32 (PyTorch's opmath)
                    grads = _twin_bf16(fast, node, grads)
                else:
                    grads = fast(node, grads)
                    if type(grads) is not tuple:
                        grads = (grads,)
            elif type(node) is AccumulateGrad:  # a leaf with hooks, at its exact place
                grads = g = b = old = None  # our references would block adopting the buffer
                if node._has_pre:
                    buf = _pre_arrays(node, buf, None)
                if buf[0] is not None:
                    _accumulate_arr(node, buf)
                continue
            else:
                if node._has_pre:
                    buf = _pre_arrays(node, buf, None)
                grads = _node_arrays(node, buf)
                if grads is None:
                    continue
            buf = None
            if not keep_graph and (node._saved or node._out_vc is not None or node._frees):
                node._release()
            meta = node._meta
            if meta is not None:  # undo broadcasting / promotion, here and nowhere else
                grads = tuple([g if mt is None or g is None else _fix_arr(g, mt)
                               for g, mt in zip(grads, meta)])
            for (m, nr), g in zip(node.next_functions, grads):
                if m is None or g is None:
                    continue
                b = get(m)
                if b is None:
                    if type(m) is AccumulateGrad:
                        buffers[m] = [g]
                        if m._plain:
                            accs.append(m)
                        else:
                            _schedule_acc(m, node, heap, accs, state)
                    else:
                        if m._n_out == 1:
                            buffers[m] = [g]
                        else:
                            b = buffers[m] = [None] * m._n_out
                            b[nr] = g
                        heappush(heap, (-m._seq, m))
                else:
                    old = b[nr]
                    b[nr] = g if old is None else old + g
        grads = g = b = old = node = None  # let AccumulateGrad adopt buffers without a copy
        for node in accs:
            _accumulate_arr(node, pop(node))
    except Exception as e:  # name the user line that built the failing node (anomaly_mode.py)
        from .anomaly_mode import _on_backward_error
        _on_backward_error(e, node)
        raise
    finally:
        _grad_state.enabled = prev_mode


def _schedule_acc(m, cur, heap, accs, state):
    """Push a hooked leaf's AccumulateGrad just below its last consumer still to run."""
    keys = state[0]
    if keys is None:
        keys = state[0] = _acc_keys([e[-1] for e in heap])
    k = keys.get(m)
    if cur is not None and (k is None or cur._seq < k):
        k = cur._seq
    if k is None:  # a root leaf
        k = 0
    state[1] += 1
    _heappush(heap, (-(k - 0.5), state[1], m))


def _acc_keys(pending):
    """For every AccumulateGrad reachable from `pending`: the smallest `_seq` of a consumer."""
    keys = {}
    seen = set(pending)
    stack = list(pending)
    while stack:
        n = stack.pop()
        s = n._seq
        for m, _ in n.next_functions:
            if m is None:
                continue
            if type(m) is AccumulateGrad:
                k = keys.get(m)
                if k is None or s < k:
                    keys[m] = s
            elif m not in seen:
                seen.add(m)
                stack.append(m)
    return keys


def _deliver(nf, grads, meta, buffers, needed, fix):
    """Add each input's gradient to the buffer of the node it flows to (both paths)."""
    i = -1
    for m, nr in nf:
        i += 1
        if m is None:
            continue
        g = grads[i]
        if g is None or (needed is not None and m not in needed):
            continue
        if meta is not None and meta[i] is not None:
            g = fix(g, meta[i])
        b = buffers.get(m)
        if b is None:
            if m._n_out == 1:
                buffers[m] = [g]
            else:
                b = buffers[m] = [None] * m._n_out
                b[nr] = g
        else:
            old = b[nr]
            b[nr] = g if old is None else old + g


def _fix_arr(g, meta):
    """_fix on the array path."""
    shape, dt = meta
    if g.shape != shape:
        g = _sum_to_arr(g, shape)
    if g.dtype != dt:
        if g.dtype.kind == "c" and getattr(dt, "kind", "c") != "c":
            g = g.real
        g = g.astype(dt)
    return g


def _wrap(a):
    return _make(a) if a is not None else None


def _sum_to_arr(g, shape):
    # two reductions, no reshape: the result owns its memory, so AccumulateGrad can adopt it
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


def _accumulate_arr(node, buf):
    """AccumulateGrad on the array path. `buf[0]` is the gradient array."""
    var = node._var()
    if var is None:
        return
    if not node._plain:  # the leaf has hooks (Tensor.register_hook marks its accumulator)
        g = _make(buf[0])
        buf[0] = None
        _accumulate(node, g, False)
        return
    arr = buf[0]
    old = var._grad
    if old is not None:  # the common step after the first: add in place
        od = old._data
        if od.dtype is arr.dtype and type(od) is _ndarray and od.shape == arr.shape and \
                od.flags.writeable:
            od += arr
            if old._vc is not None:
                old._vc[0] += 1
            return
    if arr.dtype != var._data.dtype and arr.dtype.kind in "fV" and var._data.dtype.kind in "fV":
        arr = buf[0] = arr.astype(var._data.dtype)  # validate_outputs: the leaf's dtype (bf16)
    old = var._grad
    if old is None:
        # Adopt the array only when nothing else can see it (PyTorch checks use_count the same
        # way): here it is referenced by buf, by `arr` and by getrefcount's argument.
        base = arr.base
        if base is None:
            if _writeable(arr) and _getrefcount(arr) <= 3:
                var._grad = _make(arr)
                return
        elif (type(base) is _ndarray and base.base is None and base.size == arr.size
              and base.dtype == arr.dtype
              and arr.flags.c_contiguous and base.flags.c_contiguous
              and _getrefcount(arr) <= 3 and _getrefcount(base) <= 3):
            # a whole-array view of a fresh buffer (e.g. the weight gradient of nn.Linear,
            # computed transposed so that TBackward's .T lands on C order, or a convolution's
            # (O, C*kh*kw) weight gradient reshaped to (O, C, kh, kw)): adopt the buffer
            var._grad = _make(base if base.shape == arr.shape else base.reshape(arr.shape))
            return
        var._grad = _make(arr.copy())
    else:
        od = old._data
        if od.shape == arr.shape and _writeable(od) and od.dtype == arr.dtype:
            od += arr
            if old._vc is not None:
                old._vc[0] += 1
        else:
            var._grad = old + _make(arr)


def _key_of(t):
    if t.grad_fn is not None:
        return (t.grad_fn, t._nr)
    return (t._get_accumulator(), 0)


def _pre_process(node, buf, captures):
    """Tensor hooks, retain_grad, node pre-hooks and autograd.grad captures, in PyTorch's order."""
    th = node._tensor_hooks
    if th:
        for nr, hooks in th.items():
            if buf[nr] is None:
                continue
            for fn in list(hooks.values()):
                r = fn(buf[nr])
                if r is not None:
                    buf[nr] = r
    ret = node._retain
    if ret:
        for nr, r in ret.items():
            g = buf[nr]
            t = r.ref()
            if g is None or t is None:
                continue
            if getattr(t, "_grad", None) is None:
                t._grad = g.detach().clone() if not _grad_state.enabled else g.clone()
            else:
                t._grad = t._grad + g
    ph = node._pre_hooks
    if ph:
        for fn in list(ph.values()):
            r = fn(tuple(buf))
            if r is not None:
                buf = list(r)
    if captures is not None:
        for i in range(node._n_out):
            c = captures.get((node, i))
            if c is not None and buf[i] is not None:
                c.grad = _add(c.grad, buf[i])
    return buf


def _post_hooks(node, r, buf):
    for fn in list(node._hooks.values()):
        rr = fn(r, tuple(buf))
        if rr is not None:
            r = tuple(rr)
    return r


def _call(node, buf):
    """Run one node's rule and normalise its result to one gradient per next_function."""
    if node._n_out == 1:
        r = node.backward(buf[0])
    else:
        r = node.backward(*node._materialize(buf))
    if type(r) is not tuple:
        r = (r,)
    hooks = node._hooks
    if hooks:
        for fn in list(hooks.values()):
            rr = fn(r, tuple(buf))
            if rr is not None:
                r = tuple(rr)
    return r


def _init():
    global _ndarray, _writeable, _f32
    from ..backend import np, writeable
    _ndarray = np.ndarray
    _writeable = writeable
    _f32 = np.float32


_init()
