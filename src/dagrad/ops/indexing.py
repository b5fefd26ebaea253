"""Indexing: __getitem__/__setitem__, gather/scatter, index_select/add, masks, take, sort, topk."""
import builtins

from .. import backend as _bk
from ..backend import writeable as _bk_writeable
from . import derivatives as R
from ._core import (
    D,
    Tensor,
    _make,
    arr,
    check_inplace,
    grad_state,
    link,
    link_multi,
    np,
    save,
    wrap_dim,
)
from .movement import _as_view

_BASIC = (int, slice, type(None), type(Ellipsis))


def _convert_key(key, shape):
    """Turn a PyTorch index into a NumPy one; report whether it is basic (a view)."""
    if not isinstance(key, tuple):
        if not shape and isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            raise IndexError(
                "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        if not shape and isinstance(key, slice):
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")
        key = (key,)
    out = []
    basic = True
    for k in key:
        if isinstance(k, Tensor):
            a = k._data
            if a.dtype.kind == "b":
                out.append(a)
            elif a.dtype.kind in "iu":
                if a.ndim == 0:  # PyTorch treats a 0-d integer tensor as an int (select)
                    out.append(int(a))
                    continue
                out.append(a.astype(np.int64, copy=False))
            else:
                raise IndexError(
                    "tensors used as indices must be long, int, byte or bool tensors")
            basic = False
        elif isinstance(k, bool):
            out.append(np.asarray(k))
            basic = False
        elif isinstance(k, (int, np.integer)):
            out.append(int(k))
        elif isinstance(k, slice):
            if k.step is not None and k.step <= 0:
                raise ValueError("step must be greater than zero")
            out.append(slice(_idx(k.start), _idx(k.stop), _idx(k.step)))
        elif k is None or k is Ellipsis:
            out.append(k)
        elif isinstance(k, (list, tuple, np.ndarray)):
            a = np.asarray([int(v) if isinstance(v, Tensor) else v for v in k]
                           if isinstance(k, (list, tuple)) else k)
            if a.dtype.kind in "fV":
                raise IndexError(
                    "tensors used as indices must be long, int, byte or bool tensors")
            if a.size == 0:
                a = a.astype(np.int64)
            out.append(a)
            basic = False
        elif hasattr(k, "__index__"):
            out.append(k.__index__())
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                "are valid indices (got " + type(k).__name__ + ")")
    _check_bounds(out, shape)
    if not basic and builtins.any(k is Ellipsis for k in out):
        out = _expand_ellipsis(out, len(shape))
    return tuple(out), basic


def _expand_ellipsis(key, ndim):
    """Replace `...` by explicit ':'s: PyTorch treats advanced indices around an empty ellipsis
    as adjacent, NumPy does not."""
    used = builtins.sum(
        (k.ndim if isinstance(k, np.ndarray) and k.dtype == np.bool_ else 1)
        for k in key if k is not None and k is not Ellipsis)
    i = next(j for j, k in enumerate(key) if k is Ellipsis)
    return list(key[:i]) + [slice(None)] * builtins.max(ndim - used, 0) + [
        k for k in key[i + 1:] if k is not Ellipsis]


def _idx(v):
    if v is None:
        return None
    if isinstance(v, Tensor):
        return int(v)
    return int(v.__index__()) if not isinstance(v, int) else v


def _check_bounds(key, shape):
    """PyTorch's IndexError wording for integer indices out of range."""
    n_explicit = builtins.sum(
        (k.ndim if isinstance(k, np.ndarray) and k.dtype == np.bool_ else 1)
        for k in key if k is not None and k is not Ellipsis)
    if n_explicit > len(shape):
        raise IndexError(
            f"too many indices for tensor of dimension {len(shape)}")
    dim = 0
    for k in key:
        if k is Ellipsis:
            dim = len(shape) - (n_explicit - dim) if False else dim + (len(shape) - n_explicit)
            continue
        if k is None:
            continue
        if isinstance(k, int):
            size = shape[dim]
            if not -size <= k < size:
                raise IndexError(
                    f"index {k} is out of bounds for dimension {dim} with size {size}")
            dim += 1
        elif isinstance(k, np.ndarray):
            if k.dtype == np.bool_:
                if k.ndim and tuple(k.shape) != tuple(shape[dim:dim + k.ndim]):
                    for j, s in enumerate(k.shape):
                        if s != shape[dim + j]:
                            raise IndexError(
                                f"The shape of the mask {list(k.shape)} at index {j} does not "
                                f"match the shape of the indexed tensor {list(shape)} at index "
                                f"{dim + j}")
                dim += k.ndim
            else:
                size = shape[dim]
                if k.size and (k.max() >= size or k.min() < -size):
                    bad = int(k.max()) if k.max() >= size else int(k.min())
                    raise IndexError(
                        f"index {bad} is out of bounds for dimension {dim} with size {size}")
                dim += 1
        else:
            dim += 1


def _split_ints(k):
    """PyTorch applies integer indices first (select) and advanced indices afterwards; NumPy
    treats ints as advanced indices too (which moves dims when they are not adjacent). Split a
    mixed key into (basic key with the ints, advanced key for the remaining dims)."""
    k1, k2 = [], []
    for i in k:
        if isinstance(i, int):
            k1.append(i)
        elif isinstance(i, np.ndarray):
            nd = i.ndim if i.dtype == np.bool_ else 1
            k1.extend([slice(None)] * nd)
            k2.append(i)
        elif i is Ellipsis:
            k1.append(i)
            k2.append(i)
        else:  # slice / None: applied in the first step, the dim stays
            k1.append(i)
            k2.append(slice(None))
    return tuple(k1), tuple(k2)


def getitem(x, key):
    a = x._data
    k, basic = _convert_key(key, a.shape)
    if not (x._rg and grad_state.enabled):  # no graph: one NumPy indexing (two when mixed)
        if not basic and builtins.any(isinstance(i, int) for i in k):
            k1, k2 = _split_ints(k)
            return _getitem_converted(_getitem_converted(x, k1, True), k2, False)
        return _getitem_converted(x, k, basic)
    if basic and type(key) is not tuple:  # a[i], a[i:j], a[None], a[...]: one view op
        cls = (R.SelectBackward0 if type(k[0]) is int else R.SliceBackward0
               if type(k[0]) is slice else _UnsqueezeIndex if k[0] is None else _AliasIndex)
        return _getitem_converted(x, k, True, cls)
    steps, rest = _torch_steps(k, a.shape)
    if basic and len(steps) <= 1:
        return _getitem_converted(x, k, True, steps[0][0] if steps else _AliasIndex)
    y = x
    for cls, sk in steps:
        y = _getitem_converted(y, sk, True, cls)
    return y if basic else _getitem_converted(y, rest, False)


_FULL = slice(None)
_AliasIndex = type("AliasBackward0", (R.IndexBackward0,), {})
_UnsqueezeIndex = type("UnsqueezeBackward0", (R.IndexBackward0,), {})


def _torch_steps(k, shape):
    """PyTorch's decomposition of a tuple index (applySlicing), left to right: each int a
    select, each slice but a full one (start 0, step 1, stop past the end) a slice, each None
    (and a bool scalar) an unsqueeze; then one index with the advanced indices left.
    Returns ([(node class, key on the intermediate result)], advanced key for the result)."""
    steps, rest = [], []
    d = od = 0  # dim in the intermediate result / in x
    for i in k:
        t = type(i)
        if t is int:
            steps.append((R.SelectBackward0, (_FULL,) * d + (i,)))
            od += 1
        elif t is slice:
            if not (i.start in (None, 0) and i.step in (None, 1) and
                    (i.stop is None or i.stop >= shape[od])):
                steps.append((R.SliceBackward0, (_FULL,) * d + (i,)))
            rest.append(_FULL)
            d += 1
            od += 1
        elif i is None:
            steps.append((_UnsqueezeIndex, (_FULL,) * d + (None,)))
            rest.append(_FULL)
            d += 1
        elif i is Ellipsis:
            n = len(shape) - builtins.sum(
                (j.ndim if isinstance(j, np.ndarray) and j.dtype == np.bool_ else 1)
                for j in k if j is not None and j is not Ellipsis)
            rest.extend([_FULL] * n)
            d += n
            od += n
        elif i.dtype == np.bool_ and i.ndim == 0:  # a[True]: unsqueeze, then index by [True]
            steps.append((_UnsqueezeIndex, (_FULL,) * d + (None,)))
            rest.append(i.reshape(1))
            d += 1
        else:
            nd = i.ndim if i.dtype == np.bool_ else 1
            rest.append(i)
            d += nd
            od += nd
    return steps, tuple(rest)


def _getitem_converted(x, k, basic, cls=None):
    a = x._data
    r = a[k]
    if basic:
        out = _as_view(_make(r), x)
    else:
        out = _make(r if not isinstance(r, np.generic) else np.asarray(r))
    if x._rg and grad_state.enabled:
        if cls is None:
            if basic:
                cls = R.SelectBackward0 if builtins.all(isinstance(i, int) for i in k) and len(
                    k) == 1 else R.SliceBackward0
            else:
                cls = R.IndexBackward0
        n = cls()
        n.shape, n.key = a.shape, k
        link(n, out, x)
    return out


class _Split(tuple):
    """A mixed PyTorch key (ints applied first, then advanced indices): a[k1][k2]."""
    __slots__ = ()


def _get(a, k):
    return a[k[0]][k[1]] if type(k) is _Split else a[k]


def _set(a, k, v):
    if type(k) is _Split:
        a[k[0]][k[1]] = v  # a[k1] is a basic-indexing view: writes land in a
    else:
        a[k] = v


def getitem_raw(g, k):
    """g[k] for an already-converted NumPy key (used by backward rules)."""
    a = g._data
    r = _get(a, k)
    out = _make(arr(r) if isinstance(r, np.generic) else r)
    if g._rg and grad_state.enabled:
        n = R.IndexBackward0()
        n.shape, n.key = a.shape, k
        link(n, out, g)
    return out


def _is_basic(k):
    return type(k) is not _Split and builtins.all(isinstance(i, _BASIC) for i in k)


def index_put_arrays(shape, k, ga):
    """zeros(shape) with array ga summed into [k] (duplicates accumulate), NumPy or CuPy."""
    z = _bk.zeros(ga, shape)
    if _is_basic(k):
        z[k] = ga
    elif type(k) is _Split:
        _bk.scatter_add(z[k[0]], k[1], ga)
    else:
        _bk.scatter_add(z, k, ga)
    return z


def index_put_zeros(shape, k, g):
    """zeros(shape) with g summed into [k] (duplicates accumulate): the backward of indexing."""
    res = _make(index_put_arrays(shape, k, g._data))
    if g._rg and grad_state.enabled:
        n = R.IndexPutZerosBackward()
        n.key = k
        link(n, res, g)
    return res


def setitem_zero(g, k):
    a = g._data.copy()
    _set(a, k, 0)
    res = _make(a)
    if g._rg and grad_state.enabled:
        return g * (res != 0).to(g.dtype) if False else _masked_zero(g, k)
    return res


def _masked_zero(g, k):
    m = _bk.get_array_module(g._data).ones(g._data.shape, dtype=bool)
    _set(m, k, False)
    return g * _make(m.astype(g._data.dtype))


class _CopySlices(R.IndexPutBackward0):
    def name(self):
        return "torch::autograd::CopySlices"


_CopySlices.__name__ = "CopySlices"


def setitem(x, key, value):
    check_inplace(x)
    a = x._data
    k, basic = _convert_key(key, a.shape)
    if not basic and builtins.any(isinstance(i, int) for i in k):
        k = _Split(_split_ints(k))  # PyTorch's order: ints select first
    if isinstance(value, Tensor):
        v = value._data
        if v.dtype != a.dtype:
            v = v.astype(a.dtype)
    else:
        v = value
    if not _bk_writeable(a):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation.")
    vt = value if isinstance(value, Tensor) else None
    record = grad_state.enabled and (x._rg or (vt is not None and vt._rg))
    if record:
        from .elementwise import _shadow
        old = _shadow(x)
    try:
        _set(a, k, v)
    except ValueError as e:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(np.shape(v))} cannot be broadcast to "
            f"indexing result of shape {list(np.shape(_get(a, k)))}") from e
    x._bump()
    if record:
        n = R.IndexPutBackward0() if not basic else _CopySlices()
        n.key = k
        if vt is not None and vt._rg:
            vs = np.shape(_get(a, k))
            n._meta = (None, None if vt._data.shape == vs and vt._data.dtype == a.dtype else
                       (vt._data.shape, vt._data.dtype))
        link(n, x, old, vt)
        x._nr = 0


def gather(x, dim, index, *, sparse_grad=False):
    a = x._data
    d = wrap_dim(dim, a.ndim)
    idx = index._data
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")
    if idx.ndim != a.ndim and not (a.ndim == 0 or idx.ndim == 0):
        raise RuntimeError(
            "Index tensor must have the same number of dimensions as input tensor")
    if a.ndim == 0:
        return x.clone()
    n = a.shape[d]
    if idx.size and (idx.max() >= n or idx.min() < -n):
        raise RuntimeError(
            f"index {int(idx.max() if idx.max() >= n else idx.min())} is out of bounds for "
            f"dimension {d} with size {n}")
    sl = tuple(slice(0, s) if i != d else slice(None) for i, s in enumerate(idx.shape))
    res = _make(np.take_along_axis(a[sl], idx, axis=d))
    if x._rg and grad_state.enabled:
        nd = R.GatherBackward0()
        nd.dim, nd.shape = d, a.shape
        save(nd, index)
        link(nd, res, x)
    return res


def _full_index(idx, d):
    grids = np.ogrid[tuple(slice(0, s) for s in idx.shape)]
    grids = list(grids)
    grids[d] = idx
    return tuple(grids)


def scatter(x, dim, index, src=None, value=None, *, reduce=None):
    if src is None and value is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    if src is not None and not isinstance(src, Tensor):
        value, src = src, None
    a = x._data
    d = wrap_dim(dim, a.ndim)
    idx = index._data
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    out = a.copy()
    full = _full_index(idx, d)
    if src is not None:
        s = src._data
        sl = tuple(slice(0, k) for k in idx.shape)
        vals = s[sl].astype(a.dtype, copy=False)
    else:
        vals = np.asarray(value, dtype=a.dtype)
    if reduce is None:
        out[full] = vals
    elif reduce == "add":
        _bk.scatter_add(out, full, vals)
    elif reduce == "multiply":
        _bk.get_array_module(out).multiply.at(out, full, vals)
    else:
        raise RuntimeError(f"reduce argument must be either add or multiply. Got {reduce}")
    res = _make(out)
    if grad_state.enabled and (x._rg or (src is not None and src._rg)):
        if src is not None:
            n = R.ScatterBackward0()
            n.dim = d
            save(n, index)
            if src._data.shape != idx.shape:
                n._meta = (None, (src._data.shape, src._data.dtype))
            link(n, res, x, src)
        else:
            n = R.ScatterBackward1()
            n.dim = d
            save(n, index)
            link(n, res, x)
    return res


def scatter_add(x, dim, index, src):
    a = x._data
    d = wrap_dim(dim, a.ndim)
    idx = index._data
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    out = a.copy() if a.dtype.kind != "V" else a.astype(np.float32)  # bf16: float32 sums
    sl = tuple(slice(0, k) for k in idx.shape)
    _bk.scatter_add(out, _full_index(idx, d), src._data[sl].astype(out.dtype, copy=False))
    res = _make(out if out.dtype == a.dtype else out.astype(a.dtype))
    if grad_state.enabled and (x._rg or src._rg):
        n = R.ScatterAddBackward0()
        n.dim = d
        save(n, index)
        if src._data.shape != idx.shape:
            n._meta = (None, (src._data.shape, src._data.dtype))
        link(n, res, x, src)
    return res


def scatter_reduce(x, dim, index, src, reduce, *, include_self=True):
    a = x._data
    if a.dtype.kind == "V":  # bfloat16: float32 accumulation, one rounding (PyTorch)
        from ._core import via_f32
        return via_f32(lambda t, s: scatter_reduce(t, dim, index, s, reduce,
                                                   include_self=include_self), x, src)
    d = wrap_dim(dim, a.ndim)
    idx = index._data
    full = _full_index(idx, d)
    vals = src._data[tuple(slice(0, k) for k in idx.shape)].astype(a.dtype)
    out = a.copy()
    if reduce == "sum":
        if not include_self:
            out[full] = 0
        _bk.scatter_add(out, full, vals)
    elif reduce == "prod":
        if not include_self:
            out[full] = 1
        _bk.get_array_module(out).multiply.at(out, full, vals)
    elif reduce in ("amax", "amin"):
        uf = np.maximum if reduce == "amax" else np.minimum
        if not include_self:
            out[full] = vals.min() if reduce == "amax" else vals.max()
            out[full] = np.finfo(a.dtype).min if reduce == "amax" and a.dtype.kind in "fV" else \
                out[full]
        getattr(_bk.get_array_module(out), uf.__name__).at(out, full, vals)
    elif reduce == "mean":
        cnt = np.ones_like(a) if include_self else np.zeros_like(a)
        if not include_self:
            out[full] = 0
        _bk.scatter_add(out, full, vals)
        _bk.scatter_add(cnt, full, 1)
        out = np.where(cnt > 0, out / np.maximum(cnt, 1), out).astype(a.dtype)
    else:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    res = _make(out)
    if grad_state.enabled and (x._rg or src._rg):
        from .gaps import _link_scatter_reduce
        _link_scatter_reduce(res, x, d, index, src, reduce, include_self)
    return res


def index_select(x, dim, index):
    a = x._data
    d = wrap_dim(dim, a.ndim)
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    n = a.shape[d] if a.ndim else 1
    if idx.size and (idx.max() >= n or idx.min() < -n):
        raise IndexError(
            "index out of range in self")
    res = _make(np.take(a, idx.reshape(-1), axis=d) if a.ndim else a.reshape(1)[idx])
    if x._rg and grad_state.enabled:
        nd = R.IndexSelectBackward0()
        nd.dim, nd.shape = d, a.shape
        save(nd, index if isinstance(index, Tensor) else _make(idx))
        link(nd, res, x)
    return res


def index_add(x, dim, index, source, *, alpha=1):
    a = x._data
    d = wrap_dim(dim, a.ndim)
    idx = index._data
    out = a.copy()
    src = source._data.astype(a.dtype, copy=False)
    if alpha != 1:
        src = src * alpha
    key = (slice(None),) * d + (idx,)
    _bk.scatter_add(out, key, src)
    res = _make(out)
    if grad_state.enabled and (x._rg or source._rg):
        n = R.IndexAddBackward0()
        n.dim, n.alpha = d, alpha
        save(n, index)
        link(n, res, x, source)
    return res


def index_copy(x, dim, index, source):
    a = x._data.copy()
    d = wrap_dim(dim, a.ndim)
    key = (slice(None),) * d + (index._data,)
    a[key] = source._data
    return _make(a)


def index_fill(x, dim, index, value):
    a = x._data.copy()
    d = wrap_dim(dim, a.ndim)
    key = (slice(None),) * d + (index._data,)
    a[key] = value._data if isinstance(value, Tensor) else value
    return _make(a)


def _cpp_name(npdt):
    from ..tensor import _CPP_NAME
    n = D.from_np(npdt).name
    return _CPP_NAME.get(n, n)


_OVERFLOW_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int32": "int"}


def masked_fill(x, mask, value):
    a = x._data
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(
            f"masked_fill_ only supports boolean masks, but got mask with dtype "
            f"{_cpp_name(m.dtype)}")
    try:
        bshape = np.broadcast_shapes(a.shape, m.shape)
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({a.shape[-1] if a.ndim else 1}) must match the size of "
            f"tensor b ({m.shape[-1] if m.ndim else 1}) at non-singleton dimension "
            f"{builtins.max(a.ndim, m.ndim) - 1}") from None
    if bshape != a.shape:
        raise RuntimeError(
            f"masked_fill: mask of shape {list(m.shape)} is not broadcastable to the input's "
            f"shape {list(a.shape)}")
    vt = value if isinstance(value, Tensor) else None
    if vt is not None:
        if vt._data.ndim != 0:
            raise RuntimeError(
                f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{vt._data.ndim} dimension(s).")
        v = vt._data.astype(a.dtype)
        if type(v) is np.ndarray and type(a) is not np.ndarray:  # a CPU 0-d value, CUDA a
            v = v[()]
    else:
        cname = _OVERFLOW_NAMES.get(a.dtype.name)
        if cname is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
            info = np.iinfo(a.dtype)
            if not info.min <= value <= info.max:
                raise RuntimeError(f"value cannot be converted to type {cname} without overflow")
        v = np.asarray(value).astype(a.dtype)[()]  # a NumPy scalar: CuPy takes no 0-d array
    res = _make(np.where(m, v, a))
    if grad_state.enabled and (x._rg or (vt is not None and vt._rg)):
        mt = mask if isinstance(mask, Tensor) else _make(m)
        if vt is not None and vt._rg:
            n = R.MaskedFillBackward1()
            save(n, mt)
            link(n, res, x, vt)
        else:
            n = R.MaskedFillBackward0()
            save(n, mt)
            link(n, res, x)
    return res


def masked_select(x, mask):
    a = x._data
    m = mask._data
    shape = np.broadcast_shapes(a.shape, m.shape)
    ab = np.broadcast_to(a, shape)
    mb = np.broadcast_to(m, shape)
    res = _make(ab[mb])
    if x._rg and grad_state.enabled:
        n = R.MaskedSelectBackward0()
        n.shape, n.in_shape = shape, a.shape
        save(n, _make(_bk.contiguous(mb)))
        link(n, res, x)
    return res


def masked_scatter(x, mask, source):
    a = x._data.copy()
    m = np.broadcast_to(mask._data, a.shape)
    k = int(m.sum())
    a[m] = source._data.reshape(-1)[:k]
    return _make(a)


def take(x, index):
    a = x._data
    idx = index._data
    if idx.dtype != np.int64:
        from ..tensor import _SCALAR_NAME
        raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                           f"{_SCALAR_NAME.get(D.from_np(idx.dtype).name)}")
    n = a.size
    if idx.size and (idx.max() >= n or idx.min() < -n):
        raise IndexError(
            f"out of range: tried to access index {int(idx.max())} on a tensor of {n} elements.")
    res = _make(a.reshape(-1)[idx])
    if x._rg and grad_state.enabled:
        nd = R.TakeBackward0()
        nd.shape = a.shape
        save(nd, index)
        link(nd, res, x)
    return res


def take_along_dim(x, indices, dim=None):
    if dim is None:
        return take(x.reshape(-1), indices.reshape(-1))
    return gather(x, dim, indices.expand(*[
        s if i == wrap_dim(dim, x._data.ndim) else builtins.max(s, x._data.shape[i])
        for i, s in enumerate(indices._data.shape)]) if False else indices)


def nonzero(x, *, as_tuple=False):
    a = x._data
    if as_tuple:
        if a.ndim == 0:
            return (_make(np.nonzero(a.reshape(1))[0].astype(np.int64)),)
        return tuple(_make(i.astype(np.int64)) for i in np.nonzero(a))
    return _make(np.argwhere(a).astype(np.int64))


def argwhere(x):
    return nonzero(x)


def _sort_idx(a, d, descending, stable=True):
    if descending:
        if a.dtype.kind in "ub":
            key = -(a.astype(np.int64))
        elif a.dtype.kind in "fV":
            key = -a
            key = np.where(np.isnan(a), -np.inf, key)
        else:
            key = -a.astype(np.int64) if a.dtype.kind == "i" else -a
        return np.argsort(key, axis=d, kind="stable")
    return np.argsort(a, axis=d, kind="stable")


_Sort0dBackward = type("SortBackward0", (R.CloneBackward0,), {})


def sort(x, dim=-1, descending=False, stable=False, *, out=None):
    from .reduce import SortRT
    a = x._data
    if a.ndim == 0:
        wrap_dim(dim, 0)
        v = x.clone()
        if v.grad_fn is not None:
            v.grad_fn.__class__ = _Sort0dBackward
        return SortRT(v, _make(np.zeros((), np.int64)))
    d = wrap_dim(dim, a.ndim)
    idx = _sort_idx(a, d, descending)
    vals = np.take_along_axis(a, idx, axis=d)
    v, i = _make(vals), _make(idx.astype(np.int64))
    if x._rg and grad_state.enabled:
        n = R.SortBackward0()
        n.dim, n.shape = d, a.shape
        save(n, i)
        link_multi(n, (v, None), x)
        n._n_out = 2
    return SortRT(v, i)


def argsort(x, dim=-1, descending=False, stable=False):
    a = x._data
    if a.ndim == 0:
        return _make(np.zeros((), np.int64))
    return _make(_sort_idx(a, wrap_dim(dim, a.ndim), descending).astype(np.int64))


def msort(x):
    return sort(x, 0)[0]


def topk(x, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    from .reduce import TopkRT
    a = x._data
    if a.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    d = wrap_dim(dim, a.ndim) if a.ndim else 0
    n = a.shape[d] if a.ndim else 1
    if k > n or k < 0:
        raise RuntimeError("selected index k out of range")
    if a.ndim == 0:
        return TopkRT(x.clone(), _make(np.zeros((), np.int64)))
    idx = _sort_idx(a, d, largest)
    idx = np.take(idx, np.arange(k), axis=d)
    vals = np.take_along_axis(a, idx, axis=d)
    v, i = _make(vals), _make(idx.astype(np.int64))
    if x._rg and grad_state.enabled:
        nd = R.TopkBackward0()
        nd.dim, nd.shape = d, a.shape
        save(nd, i)
        link_multi(nd, (v, None), x)
        nd._n_out = 2
    return TopkRT(v, i)


def kthvalue(x, k, dim=-1, keepdim=False, *, out=None):
    if out is not None:  # out=(values, indices), PyTorch's checks
        from .reduce import _check_tuple_out, _o2
        _check_tuple_out("kthvalue", out)
        return _o2(kthvalue(x, k, dim, keepdim), out, "kthvalue")
    from .reduce import KthRT
    a = x._data
    d = wrap_dim(dim, a.ndim) if a.ndim else 0
    if not 1 <= k <= (a.shape[d] if a.ndim else 1):
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    s = sort(x, d)
    v = s[0].narrow(d, k - 1, 1) if a.ndim else s[0]
    i = s[1].narrow(d, k - 1, 1) if a.ndim else s[1]
    if not keepdim and a.ndim:
        v, i = v.squeeze(d), i.squeeze(d)
    return KthRT(v, i)


_PUT_NAMES = {"b": "Bool", "u": "Byte", "i": {1: "Char", 2: "Short", 4: "Int", 8: "Long"},
              "f": {2: "Half", 4: "Float", 8: "Double"}, "V": "BFloat16",
              "c": {8: "ComplexFloat", 16: "ComplexDouble"}}


def _put_name(dt):
    n = _PUT_NAMES.get(dt.kind, str(dt))
    return n.get(dt.itemsize, str(dt)) if isinstance(n, dict) else n


def _index_put(x, indices, values, accumulate, inplace):
    """x.index_put(_)(indices, values, accumulate) as PyTorch: one IndexPutBackward0 over
    (x, values); x's gradient is g with the written positions zeroed (all of g when
    accumulating), values' is g[indices] (summed over broadcast dims by the engine)."""
    name = "index_put_" if inplace else "index_put"
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{name}(): argument 'indices' (position 1) must be tuple of Tensors, "
                        f"not {type(indices).__name__}")
    if not isinstance(values, Tensor):
        raise TypeError(f"{name}(): argument 'values' (position 2) must be Tensor, not "
                        f"{type(values).__name__}")
    if inplace:
        check_inplace(x)
    a = x._data
    k, basic = _convert_key(tuple(indices), a.shape)
    if not basic and builtins.any(isinstance(i, int) for i in k):
        k = _Split(_split_ints(k))  # PyTorch's order: ints select first
    v = values._data
    shape = np.shape(_get(a, k))
    try:
        vb = np.broadcast_shapes(v.shape, shape)
    except ValueError:
        vb = None
    if vb != tuple(shape):
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(v.shape)} cannot be broadcast to "
            f"indexing result of shape {list(shape)}")
    if v.dtype != a.dtype:
        raise RuntimeError(
            f"Index put requires the source and destination dtypes match, got "
            f"{_put_name(a.dtype)} for the destination and {_put_name(v.dtype)} for the source.")
    record = grad_state.enabled and (x._rg or values._rg)
    if inplace:
        if not _bk_writeable(a):
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers "
                "to a single memory location. Please clone() the tensor before performing the "
                "operation.")
        if record:
            from .elementwise import _shadow
            old = _shadow(x)
        out = a
    else:
        out = a.copy()
    if accumulate:  # repeated indices add up, in x's dtype (PyTorch's CPU kernel)
        vv = v if v.shape == tuple(shape) else _bk.contiguous(np.broadcast_to(v, shape)) \
            if type(v) is np.ndarray else v + _bk.zeros(v, shape)
        if _is_basic(k):
            out[k] += vv
        elif type(k) is _Split:
            _bk.scatter_add(out[k[0]], k[1], vv)
        else:
            _bk.scatter_add(out, k, vv)
    else:
        _set(out, k, v)
    if inplace:
        res = x
        x._bump()
    else:
        res = _make(out)
    if record:
        n = R.IndexPutAccumulateBackward() if accumulate else R.IndexPutBackward0()
        n.key = k
        if values._rg:
            n._meta = (None, None if v.shape == tuple(shape) else (v.shape, v.dtype))
        link(n, res, old if inplace else x, values)
        if inplace:
            x._nr = 0
    return res


def index_put(x, indices, values, accumulate=False):
    """x with x[indices] = values (or += with accumulate=True: repeated indices add up), out of
    place. `indices` is a tuple of index tensors, as in PyTorch."""
    return _index_put(x, indices, values, accumulate, False)


def index_put_(x, indices, values, accumulate=False):
    return _index_put(x, indices, values, accumulate, True)
