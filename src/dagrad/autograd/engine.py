"""The backward engine: execution in reverse creation order (a topological order).

Iterative throughout (no recursion), so a chain of 100,000 ops backwards without hitting Python's
recursion limit. Each node runs once, after every gradient flowing into it has been summed.
Gradients are reduced to each input's shape and cast to its dtype here, in one place, so no
backward rule deals with broadcasting.
"""
import operator
import sys

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


def _sum_to(g, shape):
    return g.sum_to_size(shape)


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
            if not keep_graph and (node._saved or node._out_vc is not None):
                node._release()
            _deliver(nf, grads, node._meta, buffers, needed, _fix)
    except Exception as e:  # name the user line that built the failing node (anomaly_mode.py)
        from .anomaly_mode import _on_backward_error
        _on_backward_error(e, locals().get("node"))
        raise
    finally:
        _grad_state.enabled = prev_mode

    if captures is not None:
        return [captures[_key_of(t)].grad for t in inputs]
    return None


def _run_arrays(order, roots, root_grads, keep_graph, targets, captures, needed, inputs):
    """The first-order path (create_graph=False): gradients flow as bare arrays.

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
                tb = _pre_process(node, [_wrap(a) for a in buf], captures)
                buf = [t._data if t is not None else None for t in tb]
            if type(node) is AccumulateGrad:
                if buf[0] is not None and captures is None:
                    if targets is None or (node, 0) in targets:
                        _accumulate_arr(node, buf)
                continue
            nf = node.next_functions
            if needed is not None and not any(m in needed for m, _ in nf):
                continue
            if node._n_out == 1:
                g0 = buf[0]
                if g0 is None:
                    continue
                fast = node._np
                cls = type(node)
                if fast is not None and not node._hooks and cls.backward is cls._np_rule:
                    grads = fast(g0)
                    if type(grads) is not tuple:
                        grads = (grads,)
                else:
                    tg = _make(g0)
                    r = node.backward(tg)
                    if type(r) is not tuple:
                        r = (r,)
                    if node._hooks:
                        r = _post_hooks(node, r, [tg])
                    grads = tuple([t._data if t is not None else None for t in r])
            elif any(g is not None for g in buf):
                r = _call(node, [_wrap(a) for a in buf])
                grads = tuple([t._data if t is not None else None for t in r])
            else:
                continue
            if not keep_graph and (node._saved or node._out_vc is not None):
                node._release()
            _deliver(nf, grads, node._meta, buffers, needed, _fix_arr)
            # drop our references so AccumulateGrad can adopt a gradient buffer without a copy
            grads = g = g0 = buf = tg = r = None
    except Exception as e:  # name the user line that built the failing node (anomaly_mode.py)
        from .anomaly_mode import _on_backward_error
        _on_backward_error(e, node)
        raise
    finally:
        _grad_state.enabled = prev_mode
    if captures is not None:
        return [captures[_key_of(t)].grad for t in inputs]
    return None


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
    if getattr(var, "_hooks", None) or getattr(var, "_post_hooks", None):
        g = _make(buf[0])
        buf[0] = None
        _accumulate(node, g, False)
        return
    arr = buf[0]
    old = getattr(var, "_grad", None)
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
    global _ndarray, _writeable
    from ..backend import np, writeable
    _ndarray = np.ndarray
    _writeable = writeable


_init()
