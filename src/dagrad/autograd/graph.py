"""torch.autograd.graph: Node, saved-tensor hooks (saved_tensors_hooks, save_on_cpu), edges.

Saved-tensor hooks cost nothing while none is active: `ops._core.save` checks one module flag
(`_core._saved_hooks`) and only then calls `_hooked_save` here, which packs each saved tensor
with the innermost `pack_hook` and gives the node a `saved()` that unpacks on demand.
"""
import types
from collections import namedtuple

from .function import FREED_MSG, Node  # noqa: F401

__all__ = ["Node", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
           "register_multi_grad_hook", "GradientEdge", "get_gradient_edge",
           "increment_version"]

_stack = []           # active (pack, unpack) pairs, innermost last
_disabled = []        # error messages of active disable_saved_tensors_hooks


def _sync():
    from ..ops import _core
    _core._saved_hooks = bool(_stack)


class saved_tensors_hooks:
    """Context manager: every tensor saved for backward inside it goes through pack/unpack."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _disabled:
            raise RuntimeError(_disabled[-1])
        _stack.append((self.pack_hook, self.unpack_hook))
        _sync()
        return self

    def __exit__(self, *args):
        _stack.pop()
        _sync()


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are copied to (pinned) CPU memory and brought back in backward.

    On the NumPy backend every array already is in host memory; the copy still happens (as in
    PyTorch for CPU tensors) so the hooks' semantics are the same.
    """

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack(t):
            return (t.device, t.detach().cpu().clone())

        def unpack(packed):
            dev, t = packed
            return t.to(dev)
        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    def __init__(self, error_message):
        self.error_message = error_message

    def __enter__(self):
        if _stack:
            raise RuntimeError(self.error_message)
        _disabled.append(self.error_message)

    def __exit__(self, *args):
        _disabled.pop()


class _Packed:
    """One saved tensor as its pack hook returned it, plus what is needed to rebuild it."""
    __slots__ = ("packed", "unpack", "vc", "grad_fn", "nr", "rg", "leaf")

    def __init__(self, t, pack, unpack):
        self.unpack = unpack
        if t._vc is None:
            t._vc = [0]
        self.vc = t._vc
        self.grad_fn = t.grad_fn
        self.nr = t._nr
        self.rg = t._rg
        self.leaf = t if (t._rg and t.grad_fn is None) else None
        self.packed = pack(t)

    def get(self):
        from ..tensor import Tensor, _make
        u = self.unpack(self.packed)
        if not isinstance(u, Tensor):
            raise TypeError(
                "Output of saved tensor unpack_hook expected to be a Tensor but got result of "
                f"type {type(u).__name__}")
        r = _make(u._data)
        r._vc = self.vc
        if self.grad_fn is not None:
            r._rg = True
            r.grad_fn = self.grad_fn
            r._nr = self.nr
        elif self.leaf is not None:
            leaf = self.leaf
            leaf._get_accumulator()
            r._rg = True
            r._accum = leaf._accum
        return r


def _pack_all(ts):
    pack, unpack = _stack[-1]
    return tuple(_Packed(t, pack, unpack) if t is not None else None for t in ts)


def _versions(ts):
    return tuple((t._vc[0] if t._vc is not None else 0) if t is not None else 0 for t in ts)


def _hooked_save(node, ts):
    """ops._core.save while hooks are active."""
    node._vers = _versions(ts)
    node._saved = _pack_all(ts)
    node.saved = types.MethodType(_unpack_node_saved, node)
    node._np = None  # the engine's NumPy twin reads saved arrays directly: use the Tensor rule


def _check_and_get(node, items, vers):
    out = []
    for i, it in enumerate(items):
        if it is None:
            out.append(None)
            continue
        if type(it) is _Packed:
            vc = it.vc
            if vc is not None and vc[0] != vers[i]:
                r = it.get()
                node._raise_version(r if r.grad_fn is not None else None, i, vc[0], vers[i],
                                    arr=r._data)
            out.append(it.get())
        else:
            vc = it._vc
            if vc is not None and vc[0] != vers[i]:
                node._raise_version(it, i, vc[0], vers[i])
            out.append(it)
    return tuple(out)


def _unpack_node_saved(node):
    s = node._saved
    if s is None:
        raise RuntimeError(FREED_MSG)
    return _check_and_get(node, s, node._vers)


def _pack_function_saved(ctx, ts, record):
    """ctx.save_for_backward's tensors, packed by the active hooks when the graph is recorded."""
    ctx._vers = _versions(ts)
    items = _pack_all(ts) if (record and _stack) else tuple(ts)
    ctx._saved_ts = items
    ctx._saved = items


def _unpack_function_saved(ctx):
    return _check_and_get(ctx, ctx._saved_ts, ctx._vers)


# ---------------------------------------------------------------- edges and multi-grad hooks
GradientEdge = namedtuple("GradientEdge", ("node", "output_nr"))


def get_gradient_edge(tensor):
    if not tensor._rg:
        raise RuntimeError(
            "It is not possible to get the gradient edge for a Tensor that does not require "
            "gradients")
    if tensor.grad_fn is not None:
        return GradientEdge(tensor.grad_fn, tensor._nr)
    return GradientEdge(tensor._get_accumulator(), 0)


def increment_version(tensor):
    tensor._bump()


class _MultiHandle:
    def __init__(self, handles):
        self.handles = handles

    def remove(self):
        for h in self.handles:
            h.remove()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.remove()


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """Call fn once the gradients of all (mode='all') or any (mode='any') tensors are computed.

    Simplified: grads are collected per backward call through tensor hooks; fn fires when every
    tensor that receives a gradient in this pass has received it (the count of tensors reached
    is not known ahead, so 'all' fires when all listed tensors have got one).
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    n = len(tensors)
    state = {"grads": [None] * n, "count": 0, "fired": False}

    def make(i):
        def hook(g):
            if mode == "any":
                if not state["fired"]:
                    state["fired"] = True
                    fn(g)
                return None
            state["grads"][i] = g
            state["count"] += 1
            if state["count"] == n:
                grads = state["grads"]
                state["grads"] = [None] * n
                state["count"] = 0
                fn(tuple(grads))
            return None
        return hook
    return _MultiHandle([t.register_hook(make(i)) for i, t in enumerate(tensors)])


def _hooked_save_result(node, out):
    """ops._core.save_result while hooks are active: the output goes through pack/unpack too."""
    vc = out._vc
    if vc is None:
        out._vc = vc = [0]
    node._out_vc = vc
    if vc[0]:
        node._out_ver = vc[0]
    pack, unpack = _stack[-1]
    node.result_data = None
    if not node._saved:
        node._saved = (None,) if node._saved == () else node._saved  # so backward frees it
    node.__dict__["_packed_result"] = (pack(out), unpack)
    node.result = types.MethodType(_unpack_result, node)
    node._np = None


def _unpack_result(node):
    from ..tensor import Tensor
    if node._saved is None:
        raise RuntimeError(FREED_MSG)
    packed, unpack = node.__dict__["_packed_result"]
    u = unpack(packed)
    if not isinstance(u, Tensor):
        raise TypeError(
            "Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
            f"{type(u).__name__}")
    return node.saved_result(u._data)
