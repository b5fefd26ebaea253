"""Walking the autograd DAG: nodes, forward-direction edges, leaf names, captured gradients.

Pure Python and NumPy; the DOT text is built in `_dot.py` from what this module collects.
"""
import sys
import weakref

import numpy as np

from ..autograd.function import AccumulateGrad

# node -> {"in": {input index: (shape, norm)}, "out": {output index: (shape, norm)}}
_GRADS = weakref.WeakKeyDictionary()


def _tensor_type():
    from ..tensor import Tensor
    return Tensor


def as_roots(root):
    """Normalise make_dot's `root` to a list of Tensors, naming the type of anything else."""
    Tensor = _tensor_type()
    if isinstance(root, Tensor):
        return [root]
    if isinstance(root, dict):
        root = list(root.values())
    if isinstance(root, (list, tuple)) and root:
        for i, r in enumerate(root):
            if not isinstance(r, Tensor):
                raise TypeError(
                    f"make_dot(): expected a Tensor or a sequence of Tensors, but element {i} "
                    f"is {type(r).__module__}.{type(r).__qualname__}")
        return list(root)
    raise TypeError(
        f"make_dot(): expected a Tensor or a sequence of Tensors, but got "
        f"{type(root).__module__}.{type(root).__qualname__}")


def walk(fns):
    """Every node reachable from `fns`, in discovery order, and the edges.

    Returns (nodes, edges): edges are (parent, index in parent.next_functions, child, output_nr),
    one per non-None entry of next_functions (duplicates kept: x*x has two edges to x).
    Iterative, so deep graphs do not hit the recursion limit.
    """
    seen = set()
    nodes = []
    edges = []
    stack = [f for f in reversed(fns) if f is not None]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        nodes.append(n)
        nf = getattr(n, "next_functions", ()) or ()
        for i, (m, nr) in enumerate(nf):
            if m is None:
                continue
            edges.append((n, i, m, nr))
        for m, _ in reversed(nf):
            if m is not None and m not in seen:
                stack.append(m)
    return nodes, edges


def root_fn(t):
    if t.grad_fn is not None:
        return t.grad_fn, t._nr
    if t._rg:
        return t._get_accumulator(), 0
    return None, 0


# ----------------------------------------------------------------------------- names
def _module_params(obj, prefix=""):
    """(name, tensor) pairs of an object with PyTorch's named_parameters(), or []."""
    fn = getattr(obj, "named_parameters", None)
    if fn is None or isinstance(obj, type):
        return []
    try:
        return [((prefix + "." + k) if prefix else k, v) for k, v in fn()]
    except Exception:  # noqa: BLE001 - a half-built module must not break drawing
        return []


def collect_names(params, frame):
    """Map id(tensor) -> name from `params` (dict, named pairs, or a Module) and caller locals."""
    Tensor = _tensor_type()
    names = {}
    tensors = {}

    def add(name, t, force):
        if isinstance(t, Tensor) and (force or id(t) not in names):
            names[id(t)] = str(name)
            tensors[id(t)] = t

    if params is not None:
        if hasattr(params, "named_parameters") and not isinstance(params, dict):
            items = _module_params(params)
        elif isinstance(params, dict):
            items = list(params.items())
        else:
            items = list(params)
        for item in items:
            if isinstance(item, Tensor):
                raise TypeError(
                    "make_dot(): params must map names to tensors (a dict, (name, tensor) pairs "
                    "such as model.named_parameters(), or a Module)")
            k, v = item
            add(k, v, True)
    if frame is not None:
        try:
            loc = dict(frame.f_locals)
        except Exception:  # noqa: BLE001
            loc = {}
        # modules first (qualified parameter names), then plain tensor variables win
        for k, v in loc.items():
            if k.startswith("_") or isinstance(v, Tensor):
                continue
            if hasattr(v, "named_parameters") and hasattr(v, "forward"):
                for name, p in _module_params(v):
                    add(name, p, False)
        for k, v in loc.items():
            if not k.startswith("_") and isinstance(v, Tensor):
                add(k, v, params is None or id(v) not in names)
    return names, tensors


def caller_frame(depth):
    try:
        return sys._getframe(depth + 1)
    except ValueError:
        return None


# ----------------------------------------------------------------------------- gradients
def _summary(g, meta=None):
    if g is None:
        return None
    a = g._data if hasattr(g, "_data") else np.asarray(g)
    if meta is not None:
        shape = tuple(meta[0])
        if a.shape != shape:
            # undo broadcasting as the engine does (sum over the broadcast dims)
            lead = a.ndim - len(shape)
            axes = tuple(range(lead)) + tuple(
                lead + i for i, s in enumerate(shape) if s == 1 and a.shape[lead + i] != 1)
            a = a.sum(axis=axes, keepdims=True).reshape(shape) if axes else a.reshape(shape)
    if a.dtype.kind in "fc":
        norm = float(np.sqrt(np.sum(np.abs(a).astype(np.float64) ** 2)))
    else:
        norm = float("nan")
    return tuple(a.shape), norm


def _make_hook(node):
    def hook(grad_inputs, grad_outputs):
        rec = _GRADS.get(node)
        if rec is None:
            rec = _GRADS[node] = {"in": {}, "out": {}}
        meta = node._meta
        for i, g in enumerate(grad_inputs):
            if g is not None:
                rec["in"][i] = _summary(g, meta[i] if meta is not None and i < len(meta)
                                        else None)
        for i, g in enumerate(grad_outputs):
            if g is not None:
                rec["out"][i] = _summary(g)
        return None
    return hook


class GradWatch:
    """Records, during the next backward, the gradient on every edge of a graph.

    Made by `dagrad.viz.watch_grads(root)` *before* calling backward; afterwards
    `make_dot(root, show_grads=True)` labels each edge with the gradient's shape and norm.
    Call `remove()` (or use it as a context manager) to drop the hooks.
    """

    def __init__(self, roots):
        fns = [root_fn(t)[0] for t in roots]
        nodes, _ = walk(fns)
        self._handles = []
        for n in nodes:
            if isinstance(n, AccumulateGrad):
                continue
            _GRADS.pop(n, None)
            self._handles.append(n.register_hook(_make_hook(n)))

    def remove(self):
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def watch_grads(root):
    """Hook every node behind `root` so that the next backward records each edge's gradient."""
    return GradWatch(as_roots(root))


def grads_for(roots, nodes, leaves, grad_outputs=None):
    """The recorded edge gradients; runs a private backward if none were recorded yet.

    The private backward (roots seeded with ones, or `grad_outputs`) keeps the graph and does not
    touch any leaf's .grad: gradients are captured, not accumulated.
    """
    ops = [n for n in nodes if not isinstance(n, AccumulateGrad)]
    if any(n in _GRADS for n in ops) or not ops:
        return _GRADS
    from ..autograd.engine import run_backward
    from ..autograd.function import FREED_MSG
    from ..creation import ones_like
    rs, gs = [], []
    if grad_outputs is None:
        grad_outputs = [None] * len(roots)
    elif isinstance(grad_outputs, _tensor_type()):
        grad_outputs = [grad_outputs]
    for t, g in zip(roots, grad_outputs):
        fn, nr = root_fn(t)
        if fn is None:
            continue
        rs.append((fn, nr))
        gs.append(g if g is not None else ones_like(t))
    if not leaves:
        return _GRADS
    watch = GradWatch(roots)
    try:
        run_backward(rs, gs, keep_graph=True, create_graph=False, inputs=leaves, capture=True)
    except RuntimeError as e:
        if FREED_MSG[:40] in str(e):
            raise RuntimeError(
                "make_dot(show_grads=True): the graph's saved tensors were already freed by a "
                "backward, so its gradients cannot be recomputed. Call "
                "dagrad.viz.watch_grads(root) before backward(), or call "
                "backward(retain_graph=True), or call make_dot before backward.") from None
        raise
    finally:
        watch.remove()
    return _GRADS


# ----------------------------------------------------------------------------- modules
class ModuleRecording:
    """Which autograd nodes were created inside which module's forward.

    Made by `dagrad.viz.record_modules(model)` (a context manager around the forward pass).
    Nodes get increasing sequence numbers as they are created; a forward pre-hook and a forward
    hook on each submodule note the sequence range of its call, so no node is touched.
    """

    def __init__(self, model):
        self.ranges = []      # (start, end, qualified name)
        self.types = {}       # qualified name -> module class name
        self.param_owner = {}  # id(param) -> qualified module name
        self.param_objs = {}   # id(param) -> param
        self._handles = []
        self._stack = []
        from ..autograd.function import _next_seq
        self._seq = _next_seq
        mods = list(model.named_modules())
        for name, m in mods:
            self.types[name] = type(m).__name__
            try:
                for pn, p in m.named_parameters(recurse=False):
                    self.param_owner[id(p)] = name
                    self.param_objs[id(p)] = p
            except TypeError:
                pass
            if not name:
                continue  # the whole model would swallow every node
            self._handles.append(m.register_forward_pre_hook(self._pre(name)))
            self._handles.append(m.register_forward_hook(self._post(name)))
        self.model_type = type(model).__name__

    def _pre(self, name):
        def pre(module, inputs):
            self._stack.append((name, self._seq()))
            return None
        return pre

    def _post(self, name):
        def post(module, inputs, output):
            while self._stack:
                n, start = self._stack.pop()
                if n == name:
                    self.ranges.append((start, self._seq(), name))
                    break
            return None
        return post

    def remove(self):
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self):
        global _LAST_RECORDING
        _LAST_RECORDING = self
        return self

    def __exit__(self, *exc):
        self.remove()

    def assign(self, nodes):
        """node -> innermost module name (nodes created outside every module are absent)."""
        import bisect
        seqs = []
        for n in nodes:
            s = getattr(n, "_seq", None)
            if s is not None and not isinstance(n, AccumulateGrad):
                seqs.append((s, n))
        seqs.sort(key=lambda x: x[0])
        keys = [s for s, _ in seqs]
        out = {}
        depth = {}
        for start, end, name in self.ranges:
            d = name.count(".")
            lo = bisect.bisect_left(keys, start)
            hi = bisect.bisect_left(keys, end)
            for k in range(lo, hi):
                n = seqs[k][1]
                if d >= depth.get(n, -1):
                    out[n] = name
                    depth[n] = d
        return out


_LAST_RECORDING = None


def record_modules(model):
    """Context manager: record which nodes each submodule of `model` creates during its forward.

        with dagrad.viz.record_modules(model):
            loss = criterion(model(x), y)
        dot = dagrad.viz.make_dot(loss, params=model, collapse_modules=True)
    """
    if not hasattr(model, "named_modules"):
        raise TypeError(
            f"record_modules(): expected an nn.Module, got {type(model).__module__}."
            f"{type(model).__qualname__}")
    return ModuleRecording(model)


def last_recording():
    return _LAST_RECORDING
