"""Helpers every op module shares: argument coercion, promotion, node linking.

`link(node, out, *inputs)` is the one place a forward op joins the graph: it sets the node's
edges and sequence number and marks the output. Ops call it only when grad mode is on and some
input requires grad, so graph-free code never pays for it.
"""
import sys

from .. import _dtype as D
from ..autograd.anomaly_mode import _where
from ..autograd.function import _PKG_DIR, _next_seq
from ..autograd.grad_mode import state as grad_state
from ..backend import get_array_module, np
from ..tensor import Tensor, _make, _wrap_dim

__all__ = ["np", "D", "Tensor", "_make", "grad_state", "link", "edge", "as_tensor_arg",
           "promote_arrays", "float_array", "wrap_dim", "dims_arg", "save", "NO_EDGE",
           "scalar_operand", "scalar_arr", "check_inplace", "is_scalar"]

NO_EDGE = (None, 0)
_NO_INPUT = object()  # link()'s "argument not given" (None means an input without an edge)
_saved_hooks = False  # set by autograd.graph while saved_tensors_hooks are active
_anomaly = False      # True while _where is hooked (anomaly mode, checkpoint's recorder):
#                       link then calls _where instead of its inlined location walk
_getframe = sys._getframe
_getattr = getattr
_last_user_code = None  # link(): the code object of the last user frame found
_PKG = _PKG_DIR
_ndarray = np.ndarray
_SCALARS = (int, float, bool, complex)


def edge(t):
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._nr)
    if t._rg:
        return (_getattr(t, "_accum", None) or t._get_accumulator(), 0)
    return NO_EDGE


def link(node, out, a=_NO_INPUT, b=_NO_INPUT, *rest):
    """Attach `node` as out's grad_fn with one edge per input (None inputs get no edge).

    Also records where in user code the node was made (`node._loc`: the code object and
    instruction offset of the first frame outside dagrad; the line is derived only when an
    error needs it). Inlined here rather than called: a call per op was most of its cost.
    `edge()` is inlined, and the one- and two-input calls pack no argument tuple, for the same
    reason."""
    global _last_user_code
    if b is _NO_INPUT:
        if a is _NO_INPUT:
            node.next_functions = ()
        elif a is None:
            node.next_functions = (NO_EDGE,)
        else:
            fn = a.grad_fn
            if fn is not None:
                node.next_functions = ((fn, a._nr),)
            elif a._rg:
                node.next_functions = ((_getattr(a, "_accum", None) or a._get_accumulator(), 0),)
            else:
                node.next_functions = (NO_EDGE,)
    elif not rest:
        if a is None:
            ea = NO_EDGE
        else:
            fn = a.grad_fn
            if fn is not None:
                ea = (fn, a._nr)
            elif a._rg:
                ea = (_getattr(a, "_accum", None) or a._get_accumulator(), 0)
            else:
                ea = NO_EDGE
        if b is None:
            eb = NO_EDGE
        else:
            fn = b.grad_fn
            if fn is not None:
                eb = (fn, b._nr)
            elif b._rg:
                eb = (_getattr(b, "_accum", None) or b._get_accumulator(), 0)
            else:
                eb = NO_EDGE
        node.next_functions = (ea, eb)
    else:
        node.next_functions = tuple([edge(t) if t is not None else NO_EDGE
                                     for t in (a, b) + rest])
    node._seq = _next_seq()
    if _anomaly:
        _where(node)
    else:
        try:
            f = _getframe(2)  # 0: link, 1: the op, 2: the op's caller
            c = f.f_code
            if c is not _last_user_code:  # consecutive ops mostly come from one user function
                while c.co_filename.startswith(_PKG):
                    f = f.f_back
                    c = f.f_code
                _last_user_code = c
            node._loc = (c, f.f_lasti)
        except (ValueError, AttributeError):  # no user frame on the stack
            pass
    out._rg = True
    out.grad_fn = node
    return out


def link_multi(node, outs, *inputs):
    node.next_functions = tuple(edge(t) if t is not None else NO_EDGE for t in inputs)
    node._seq = _next_seq()
    _where(node)
    node._n_out = len(outs)
    if len(outs) != 1:
        node._np = None
    for i, o in enumerate(outs):
        if o is None:
            continue
        o._rg = True
        o.grad_fn = node
        o._nr = i
    return outs


def save(node, *ts):
    """Save input tensors for backward, recording their versions."""
    if _saved_hooks:  # autograd.graph.saved_tensors_hooks active (a module flag: free otherwise)
        from ..autograd.graph import _hooked_save
        return _hooked_save(node, ts)
    node._saved = ts
    if len(ts) == 1:
        vc = ts[0]._vc
        node._vers = (vc[0] if vc is not None else 0,)
    else:
        node._vers = tuple([t._vc[0] if t._vc is not None else 0 for t in ts])


def save_result(node, out):
    """Mark `out` (an output) as saved: its version counter is watched, its array kept."""
    if _saved_hooks:  # autograd.graph.saved_tensors_hooks active (a module flag: free otherwise)
        from ..autograd.graph import _hooked_save_result
        return _hooked_save_result(node, out)
    vc = out._vc
    if vc is None:
        out._vc = vc = [0]
    node._out_vc = vc
    if vc[0]:
        node._out_ver = vc[0]
    node.result_data = out._data


def arr(r, dtype=None):
    """NumPy reductions return scalars; keep everything a (0-d) array, in the array's own
    module (NumPy or CuPy: np.asarray would pull a CuPy result back to the host and fail)."""
    if isinstance(r, np.generic) or not hasattr(r, "astype"):
        return np.asarray(r, dtype=dtype)
    if dtype is not None and r.dtype != dtype:
        return r.astype(dtype)
    return r


_SCALAR_ARRS = {}


def scalar_arr(v, dt):
    """Python number `v` as a read-only 0-d array of floating dtype `dt`, or `v` itself where
    that could differ from NumPy's own conversion. NumPy converts a Python operand on every call
    (~1 us on a small array); a 0-d operand of the array's own dtype costs half and gives the
    same value. Zero (-0.0 == 0.0 would share a key), NaN, huge values and ints beyond 2**24 are
    not cached."""
    key = (v, dt)
    r = _SCALAR_ARRS.get(key)
    if r is not None:
        return r
    if type(v) is int:
        ok = 0 < abs(v) <= 16777216
    else:
        ok = type(v) is float and 1e-30 < abs(v) < 1e30
    if not ok or dt.kind != "f" or dt.itemsize < 4:
        return v
    r = np.array(v, dt)
    r.flags.writeable = False
    if len(_SCALAR_ARRS) < 4096:
        _SCALAR_ARRS[key] = r
    return r


def is_scalar(x):
    return isinstance(x, _SCALARS)


def bf16r(v):
    """A Python number rounded to bfloat16 (PyTorch wraps add/sub's scalar and alpha as bf16)."""
    return float(D.bf16_np().type(v))


def via_f32(fn, *args, **kw):
    """Run op `fn` with every bfloat16 Tensor argument's array widened to float32, then round
    its Tensor result(s) once to bfloat16: PyTorch's CPU bfloat16 kernels (matmul, reductions,
    softmax, conv) accumulate in float32 (ml_dtypes' own loops would round at every step).
    Nodes keep their bfloat16 inputs (arrays restored after the call), so gradients are bf16."""
    swapped = []
    for t in args:
        if isinstance(t, Tensor) and t._data.dtype.kind == "V" and \
                all(t is not s for s, _ in swapped):
            swapped.append((t, t._data))
    if not swapped:
        return fn(*args, **kw)
    bf = swapped[0][1].dtype
    for t, a in swapped:
        t._data = a.astype(np.float32)
    try:
        r = fn(*args, **kw)
    finally:
        for t, a in swapped:
            t._data = a
    for o in (r if isinstance(r, tuple) else (r,)):
        if isinstance(o, Tensor) and o._data.dtype == np.float32:
            old = o._data
            o._data = old.astype(bf)
            n = o.grad_fn
            if n is not None and getattr(n, "result_data", None) is old:
                n.result_data = o._data
    return r


def as_tensor_arg(x, like=None):
    """Coerce an operand (Tensor, Python scalar, NumPy value, list) to a Tensor."""
    if isinstance(x, Tensor):
        return x
    from ..creation import tensor as _tensor
    if isinstance(x, _SCALARS) and like is not None:
        d = D.scalar_dtype(x)
        dt = D.result_type(like, x).np if d.category > like.dtype.category else like._data.dtype
        if type(x) is int and dt.kind in "iu":
            info = np.iinfo(dt)
            if not info.min <= x <= info.max:  # wraps like PyTorch's cast (-3 -> 253 for uint8)
                return _dev_like(_make(np.asarray(x).astype(dt)), like)
        return _dev_like(_make(np.asarray(x, dtype=dt)), like)
    return _tensor(x)


def _dev_like(t, like):
    """A Python scalar's 0-d tensor on `like`'s device (its saved copy meets device arrays in
    backward rules too)."""
    if type(like._data) is np.ndarray:
        return t
    return _make(get_array_module(like._data).asarray(t._data))


def scalar_operand(x, s):
    """Prepare array `x` and Python scalar `s` for a NumPy op with PyTorch's result dtype."""
    k = x.dtype.kind
    ts = type(s)
    if ts is float:
        if k in "fc":
            return x, s
        if k == "V":  # bfloat16 (ml_dtypes): a bare Python float would promote to float32
            return x, x.dtype.type(s)
        x = x.astype(D.default.np)
        return x, (x.dtype.type(s) if x.dtype.kind == "V" else s)  # default dtype bfloat16
    if ts is int:
        if k == "b":
            return x.astype(np.int64), s
        if k in "iu":
            info = np.iinfo(x.dtype)
            if not info.min <= s <= info.max:
                s = np.array(s).astype(x.dtype)[()]  # wraps like PyTorch's cast (a scalar)
        return x, s
    if ts is bool:
        return x, s
    if ts is complex:
        if k == "c":
            return x, s
        return x.astype(np.complex64 if x.dtype != np.float64 else np.complex128), s
    if isinstance(s, np.generic):
        return scalar_operand(x, s.item())
    raise TypeError(f"unsupported operand type {ts.__name__}")


def same_device(xa, xb):
    """A NumPy and a CuPy operand: a 0-d host one goes to the device (PyTorch lets CPU scalars
    meet CUDA tensors); otherwise PyTorch's RuntimeError."""
    ha, hb = type(xa) is np.ndarray, type(xb) is np.ndarray
    if ha and not hb and xa.ndim == 0:
        return get_array_module(xb).asarray(xa), xb
    if hb and not ha and xb.ndim == 0:
        return xa, get_array_module(xa).asarray(xb)
    if ha != hb:
        dev = ("cpu", "cuda:0") if ha else ("cuda:0", "cpu")
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least "
                           f"two devices, {dev[0]} and {dev[1]}!")
    return xa, xb


def promote_arrays(a, b):
    """Arrays of two tensors cast to PyTorch's result dtype (fast path: same dtype)."""
    xa, xb = a._data, b._data
    if type(xa) is not type(xb):
        xa, xb = same_device(xa, xb)
    if xa.dtype == xb.dtype:
        return xa, xb
    rt = D.result_type(a, b).np
    if xa.dtype != rt:
        xa = xa.astype(rt)
    if xb.dtype != rt:
        xb = xb.astype(rt)
    return xa, xb


def float_array(x):
    """x's array, cast to the default float dtype when it is integral or bool (exp(int) -> float)."""
    d = x._data
    if d.dtype.kind not in "fcV":  # V: bfloat16
        return d.astype(D.default.np)
    return d


def wrap_dim(dim, ndim):
    return _wrap_dim(dim, ndim)


def dims_arg(dim, ndim):
    """Normalise an int / tuple / None `dim` to a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        d = _wrap_dim(int(dim), ndim)
        return (d,) if ndim else ()  # a 0-d tensor accepts dim 0 / -1: nothing to reduce
    ds = tuple(_wrap_dim(int(d), ndim) for d in dim)
    if not ndim:
        return ()
    if len(set(ds)) != len(ds):
        raise RuntimeError(f"dim {ds[0]} appears multiple times in the list of dims")
    if not ds:
        return tuple(range(ndim))
    return tuple(sorted(ds))


def check_inplace(t):
    """Refuse in-place ops PyTorch refuses, before anything is mutated."""
    if t._rg and grad_state.enabled:
        if t.grad_fn is None:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation.")
        base = getattr(t, "_base", None)
        if base is not None and base.grad_fn is None and base._rg:
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place "
                "operation.")
