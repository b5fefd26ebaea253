"""Shape and movement ops. View ops share memory and the version counter with their base."""
import builtins
from weakref import ref as _weakref

from . import derivatives as R
from ._core import D, Tensor, _make, grad_state, link, link_multi, np, wrap_dim
from .elementwise import _out


def _shape_args(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    elif len(args) == 1 and hasattr(args[0], "__len__") and not isinstance(args[0], Tensor):
        args = tuple(args[0])
    return tuple(int(s) for s in args)


def _infer(shape, numel):
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    if neg:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    n = 1
    for s in shape:
        n *= s
    if n != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _as_view(out, x):
    """Mark `out` as a view of x: same version counter, base recorded."""
    vc = x._vc
    if vc is None:
        x._vc = vc = [0]
    out._vc = vc
    base = getattr(x, "_base", None)
    if base is None:
        base = x
    out._base = base
    if base._rg and grad_state.enabled:  # tracked so an in-place op can refresh their history
        vs = getattr(base, "_views", None)
        if vs is None:
            base._views = vs = []
        vs.append(_weakref(out))
    return out


def _view_node(node_cls, out, x, shape):
    n = node_cls()
    n.shape = shape
    link(n, out, x)
    return out


def view(x, *shape):
    if len(shape) == 1 and (isinstance(shape[0], D.dtype) or isinstance(shape[0], type)):
        return view_dtype(x, shape[0])
    a = x._data
    shape = _infer(_shape_args(shape), a.size)
    try:
        r = a.reshape(shape, copy=False)
    except (ValueError, TypeError):
        if not a.flags.c_contiguous:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
            ) from None
        raise
    out = _as_view(_make(r), x)
    if x._rg and grad_state.enabled:
        _view_node(R.ViewBackward0, out, x, a.shape)
    return out


def view_dtype(x, dtype):
    d = D.to_dtype(dtype)
    return _make(x._data.view(d.np))


def reshape(x, *shape):
    a = x._data
    shape = _infer(_shape_args(shape), a.size)
    if shape == a.shape:
        r = a.view()
    else:
        r = a.reshape(shape)
    out = _make(r)
    shared = np.shares_memory(r, a) if r.size else True
    if shared:
        _as_view(out, x)
    if x._rg and grad_state.enabled:  # a copying reshape is PyTorch's _unsafe_view
        _view_node(R.ViewBackward0 if shared else R.UnsafeViewBackward0, out, x, a.shape)
    return out


def view_as(x, other):
    return view(x, other.shape)


def reshape_as(x, other):
    return reshape(x, other.shape)


def flatten(x, start_dim=0, end_dim=-1):
    a = x._data
    if a.ndim == 0:
        return reshape(x, 1)
    s = wrap_dim(start_dim, a.ndim)
    e = wrap_dim(end_dim, a.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return x
    n = 1
    for k in a.shape[s:e + 1]:
        n *= k
    return reshape(x, a.shape[:s] + (n,) + a.shape[e + 1:])


def ravel(x):
    return reshape(x, -1)


def unflatten(x, dim, sizes):
    a = x._data
    d = wrap_dim(dim, a.ndim)
    sizes = tuple(sizes)
    if -1 in sizes:
        known = 1
        for s in sizes:
            if s != -1:
                known *= s
        sizes = tuple(a.shape[d] // known if s == -1 else s for s in sizes)
    n = 1
    for s in sizes:
        n *= s
    if n != a.shape[d]:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({a.shape[d]}) in the input tensor")
    return view(x, a.shape[:d] + sizes + a.shape[d + 1:]) if a.flags.c_contiguous else reshape(
        x, a.shape[:d] + sizes + a.shape[d + 1:])


def squeeze(x, dim=None):
    a = x._data
    if dim is None:
        shape = tuple(s for s in a.shape if s != 1)
        cls = R.SqueezeBackward0
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = {wrap_dim(d, a.ndim) for d in dims} if a.ndim else set()
        shape = tuple(s for i, s in enumerate(a.shape) if not (i in dims and s == 1))
        cls = R.SqueezeBackward1 if isinstance(dim, int) else R.SqueezeBackward2
    out = _as_view(_make(a.reshape(shape)), x)
    if x._rg and grad_state.enabled:
        _view_node(cls, out, x, a.shape)
    return out


def unsqueeze(x, dim):
    a = x._data
    d = wrap_dim(dim, a.ndim + 1)
    out = _as_view(_make(np.expand_dims(a, d)), x)
    if x._rg and grad_state.enabled:
        _view_node(R.UnsqueezeBackward0, out, x, a.shape)
    return out


def permute(x, *dims):
    a = x._data
    dims = _shape_args(dims)
    if len(dims) != a.ndim:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {a.ndim} is not "
            f"equal to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, a.ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    out = _as_view(_make(a.transpose(dims)), x)
    if x._rg and grad_state.enabled:
        n = R.PermuteBackward0()
        n.dims = dims
        link(n, out, x)
    return out


def transpose(x, dim0, dim1):
    a = x._data
    if a.ndim == 0:
        return view(x, ())
    d0, d1 = wrap_dim(dim0, a.ndim), wrap_dim(dim1, a.ndim)
    out = _as_view(_make(np.swapaxes(a, d0, d1)), x)
    if x._rg and grad_state.enabled:
        n = R.TransposeBackward0()
        n.dim0, n.dim1 = d0, d1
        link(n, out, x)
    return out


swapaxes = swapdims = transpose


def t(x):
    a = x._data
    if a.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {a.ndim}D")
    out = _as_view(_make(a.T), x)
    if x._rg and grad_state.enabled:
        link(R.TBackward0(), out, x)
    return out


_T_WARNED = [False, False]  # PyTorch warns once per process (TORCH_WARN_ONCE)


def T_prop(x):
    a = x._data
    if a.ndim != 2:
        k = 0 if a.ndim == 0 else 1
        if not _T_WARNED[k]:
            _T_WARNED[k] = True
            import warnings
            warnings.warn(
                "Tensor.T is deprecated on 0-D tensors. This function is the identity in these "
                "cases. (Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/"
                "TensorShape.cpp:4321.)" if k == 0 else
                "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
                "deprecated and it will throw an error in a future release. Consider `x.mT` to "
                "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` "
                "to reverse the dimensions of a tensor. (Triggered internally at "
                "/__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4314.)",
                UserWarning, stacklevel=2)
    return permute(x, tuple(range(a.ndim - 1, -1, -1)))  # PyTorch: PermuteBackward0 even for 2-D


def mT_prop(x):
    if x._data.ndim < 2:
        raise RuntimeError(
            f"tensor.mT is only supported on matrices or batches of matrices. Got "
            f"{x._data.ndim}-D tensor.")
    return transpose(x, -2, -1)


def movedim(x, source, destination):
    a = x._data
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    src = tuple(wrap_dim(s, a.ndim) for s in src)
    dst = tuple(wrap_dim(s, a.ndim) for s in dst)
    order = [i for i in range(a.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(x, order)


moveaxis = movedim


def _fast_broadcast(a, shape):
    """broadcast_to for a contiguous array: a zero-stride view built directly (np.broadcast_to
    costs ~3 us of Python per call, which dominates small graphs' SumBackward)."""
    lead = len(shape) - a.ndim
    strides = (0,) * lead + tuple(0 if s == 1 and t != 1 else st
                                  for s, t, st in zip(a.shape, shape[lead:], a.strides))
    r = np.ndarray(shape, a.dtype, buffer=a, strides=strides)
    r.flags.writeable = False
    return r


def expand_to(x, shape):
    """expand() for rules: `shape` is a valid target tuple, so no argument checking."""
    a = x._data
    if a.shape == shape:
        return x
    if type(a) is np.ndarray and a.flags.c_contiguous:
        out = _make(_fast_broadcast(a, shape))
    else:
        out = _make(np.broadcast_to(a, shape))
    if x._rg and grad_state.enabled:
        n = R.ExpandBackward0()
        n.shape = a.shape
        link(n, out, x)
    return out


def expand(x, *sizes):
    a = x._data
    if len(sizes) == 1 and type(sizes[0]) is tuple and type(a) is np.ndarray and \
            a.flags.c_contiguous and -1 not in sizes[0] and a.ndim <= len(sizes[0]):
        shape = sizes[0]
        lead = len(shape) - a.ndim
        if all(s == t or s == 1 for s, t in zip(a.shape, shape[lead:])):
            out = _as_view(_make(_fast_broadcast(a, shape) if shape != a.shape else a.view()),
                           x)
            if x._rg and grad_state.enabled:
                n = R.ExpandBackward0()
                n.shape = a.shape
                link(n, out, x)
            return out
    sizes = _shape_args(sizes)
    if len(sizes) < a.ndim:
        raise RuntimeError(
            f"expand({_legacy_type(a)}{{{list(a.shape)}}}, "
            f"size={list(sizes)}): the number of sizes provided ({len(sizes)}) must be greater "
            f"or equal to the number of dimensions in the tensor ({a.ndim})")
    lead = len(sizes) - a.ndim
    shape = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                    f"non-existing dimension {i}")
            shape.append(s)
        else:
            cur = a.shape[i - lead]
            if s == -1:
                shape.append(cur)
            elif cur == 1 or cur == s:
                shape.append(s)
            else:
                raise RuntimeError(
                    f"The expanded size of the tensor ({s}) must match the existing size ({cur}) "
                    f"at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor "
                    f"sizes: {list(a.shape)}")
    shape = tuple(shape)
    if shape == a.shape:
        r = a.view()
    else:
        r = np.broadcast_to(a, shape)
    out = _as_view(_make(r), x)
    if x._rg and grad_state.enabled:
        n = R.ExpandBackward0()
        n.shape = a.shape
        link(n, out, x)
    return out


def expand_as(x, other):
    return expand(x, other.shape)


def broadcast_to(x, size):
    return expand(x, tuple(size))


def broadcast_tensors(*ts):
    if len(ts) == 1 and isinstance(ts[0], (list, tuple)):
        ts = ts[0]
    shape = np.broadcast_shapes(*(t._data.shape for t in ts))
    # as torch: a tensor already of the broadcast shape comes back as itself
    return tuple(t if t._data.shape == shape else expand(t, shape) for t in ts)


def broadcast_shapes(*shapes):
    from ..tensor import Size
    return Size(np.broadcast_shapes(*[tuple(s) if not isinstance(s, int) else (s,)
                                      for s in shapes]))


def contiguous(x, memory_format=None):
    if x._data.flags.c_contiguous:
        return x
    return clone(x, _order="C")


def clone(x, *, memory_format=None, _order="K"):
    # preserve_format (the default) keeps a dense layout's strides, as PyTorch does; an
    # overlapping one (an expanded view: stride 0) is copied contiguous, as PyTorch does
    a = x._data
    if _order == "K" and 0 in a.strides and a.size > 1:
        _order = "C"
    res = _make(a.copy(order=_order))
    if x._rg and grad_state.enabled:
        link(R.CloneBackward0(), res, x)
    return res


def _legacy_type(a):
    from ..tensor import _describe_for_version
    return _describe_for_version(a).split(" ")[0]  # torch.FloatTensor


def flip(x, *dims):
    a = x._data
    dims = _shape_args(dims)
    dims = tuple(wrap_dim(d, a.ndim) for d in dims)
    if len(set(dims)) != len(dims):
        dup = next(d for d in dims if dims.count(d) > 1)
        raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
    res = _make(np.flip(a, dims).copy() if a.ndim else a.copy())
    if x._rg and grad_state.enabled:
        n = R.FlipBackward0()
        n.dims = dims
        link(n, res, x)
    return res


def fliplr(x):
    return flip(x, 1)


def flipud(x):
    return flip(x, 0)


def roll(x, shifts, dims=None):
    a = x._data
    shifts_t = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is None:
        res = _make(np.roll(a.reshape(-1), shifts_t[0]).reshape(a.shape))
        if x._rg and grad_state.enabled:
            n = R.RollBackward0()
            n.shifts, n.dims = shifts_t[:1], None
            link(n, res, x)
        return res
    dims_t = (dims,) if isinstance(dims, int) else tuple(dims)
    dims_t = tuple(wrap_dim(d, a.ndim) for d in dims_t)
    res = _make(np.roll(a, shifts_t, dims_t))
    if x._rg and grad_state.enabled:
        n = R.RollBackward0()
        n.shifts, n.dims = shifts_t, dims_t
        link(n, res, x)
    return res


def repeat(x, *repeats):
    a = x._data
    reps = _shape_args(repeats)
    if len(reps) < a.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor")
    res = _make(np.tile(a, reps))
    if x._rg and grad_state.enabled:
        n = R.RepeatBackward0()
        n.repeats, n.shape = reps, a.shape
        link(n, res, x)
    return res


def tile(x, *dims):
    a = x._data
    reps = _shape_args(dims)
    if len(reps) < a.ndim:
        reps = (1,) * (a.ndim - len(reps)) + reps
    return repeat(x, reps)


def repeat_interleave(x, repeats=None, dim=None, *, output_size=None):
    from .indexing import index_select
    if repeats is None:  # torch.repeat_interleave(repeats_tensor)
        r = x._data
        return _make(np.repeat(np.arange(r.size), r).astype(np.int64))
    a = x._data
    if dim is None:
        x = reshape(x, -1)
        d = 0
    else:
        d = wrap_dim(dim, a.ndim)
    n = x._data.shape[d]
    reps = repeats._data if isinstance(repeats, Tensor) else repeats
    idx = np.repeat(np.arange(n), reps)
    return index_select(x, d, _make(idx.astype(np.int64)))


def _check_cat(ts, d, op):
    nd = ts[0]._data.ndim
    ref = ts[0]._data.shape
    for i, t in enumerate(ts):
        s = t._data.shape
        if t._data.ndim != nd:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {nd} and {t._data.ndim}")
        for k in range(nd):
            if k != d and s[k] != ref[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{ref[k]} but got size {s[k]} for tensor number {i} in the list.")


def cat(tensors, dim=0, *, out=None):
    ts = tuple(tensors)
    if not ts:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for t in ts:
        if not isinstance(t, Tensor):
            raise TypeError(
                f"expected Tensor as element {ts.index(t)} in argument 0, but got "
                f"{type(t).__name__}")
    # legacy: 1-D empty tensors are skipped
    parts = [t for t in ts if not (t._data.ndim == 1 and t._data.size == 0)] or [ts[0]]
    nd = parts[0]._data.ndim
    if nd == 0:
        raise RuntimeError(
            "zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, nd)
    _check_cat(parts, d, "cat")
    dt = parts[0].dtype
    for t in parts[1:]:
        dt = D.promote_types(dt, t.dtype)
    arrs = [t._data if t._data.dtype == dt.np else t._data.astype(dt.np) for t in parts]
    try:
        res = _make(np.concatenate(arrs, axis=d))
    except TypeError:  # NumPy and CuPy arrays: PyTorch's device error
        ha = [type(a) is np.ndarray for a in arrs]
        if builtins.any(ha) and not builtins.all(ha):
            devs = ("cpu", "cuda:0") if ha[0] else ("cuda:0", "cpu")
            raise RuntimeError(
                f"Expected all tensors to be on the same device, but found at least two devices, "
                f"{devs[0]} and {devs[1]}! (when checking argument for argument tensors in "
                f"method wrapper_CUDA_cat)") from None
        raise
    if grad_state.enabled and builtins.any(t._rg for t in parts):
        n = R.CatBackward0()
        n.dim = d
        if len(parts) != len(ts):  # skipped 1-D empties still get a (0,) gradient
            parts = ts
        n.sizes = [t._data.shape[d] if t._data.ndim == nd else None for t in parts]
        n._meta = tuple(None if t._data.dtype == dt.np else (t._data.shape, t._data.dtype)
                        for t in parts)
        link(n, res, *parts)
    return _out(res, out, "cat")


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    ts = tuple(tensors)
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    s0 = ts[0]._data.shape
    for i, t in enumerate(ts):
        if t._data.shape != s0:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(s0)} at entry 0 and "
                f"{list(t._data.shape)} at entry {i}")
    d = wrap_dim(dim, len(s0) + 1)
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = D.promote_types(dt, t.dtype)
    arrs = [t._data if t._data.dtype == dt.np else t._data.astype(dt.np) for t in ts]
    res = _make(np.stack(arrs, axis=d))
    if grad_state.enabled and builtins.any(t._rg for t in ts):
        n = R.StackBackward0()
        n.dim = d
        n._meta = tuple(None if t._data.dtype == dt.np else (t._data.shape, t._data.dtype)
                        for t in ts)
        link(n, res, *ts)
    return _out(res, out, "cat")


def hstack(tensors):
    ts = [atleast_1d(t) for t in tensors]
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1)


def vstack(tensors):
    return cat([atleast_2d(t) for t in tensors], 0)


def dstack(tensors):
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    return cat([reshape(t, -1, 1) if t._data.ndim <= 1 else t for t in tensors], 1)


def atleast_1d(x):
    return reshape(x, 1) if x._data.ndim == 0 else x


def atleast_2d(x):
    if x._data.ndim == 0:
        return reshape(x, 1, 1)
    if x._data.ndim == 1:
        return unsqueeze(x, 0)
    return x


def atleast_3d(x):
    n = x._data.ndim
    if n == 0:
        return reshape(x, 1, 1, 1)
    if n == 1:
        return reshape(x, 1, -1, 1)
    if n == 2:
        return unsqueeze(x, -1)
    return x


def _split_views(x, d, sizes, unbind=False, with_sizes=False):
    a = x._data
    outs = []
    off = 0
    for s in sizes:
        sl = [slice(None)] * a.ndim
        if unbind:
            sl[d] = off
            off += 1
        else:
            sl[d] = slice(off, off + s)
            off += s
        outs.append(_as_view(_make(a[tuple(sl)]), x))
    if x._rg and grad_state.enabled:
        cls = R.UnbindBackward0 if unbind else (
            R.SplitWithSizesBackward0 if with_sizes else R.SplitBackward0)
        n = cls()
        n.dim = d
        n.unbind = unbind
        n.out_shapes = [o._data.shape for o in outs]
        n.dtype_like = _make(a[:0] if a.ndim else a)
        link_multi(n, outs, x)
    return tuple(outs)


def split(x, split_size_or_sections, dim=0):
    a = x._data
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        sizes = [s] * (n // s) + ([n % s] if n % s else []) if s else [0]
    else:
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {d}), but got split_sizes={sizes}")
        return _split_views(x, d, sizes, with_sizes=True)
    return _split_views(x, d, sizes)


def tensor_split(x, indices_or_sections, dim=0):
    a = x._data
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        base, extra = divmod(n, k)
        sizes = [base + 1] * extra + [base] * (k - extra)
    else:
        idx = [0] + list(indices_or_sections) + [n]
        sizes = [builtins.max(0, builtins.min(idx[i + 1], n) - builtins.min(idx[i], n))
                 for i in range(len(idx) - 1)]
    return _split_views(x, d, sizes)


def chunk(x, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    a = x._data
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d]
    s = -(-n // chunks) if n else 0
    if s == 0:
        return _split_views(x, d, [0] * builtins.min(chunks, 1))
    return split(x, s, d)


def unbind(x, dim=0):
    a = x._data
    d = wrap_dim(dim, a.ndim)
    return _split_views(x, d, [1] * a.shape[d], unbind=True)


def narrow(x, dim, start, length):
    a = x._data
    d = wrap_dim(dim, a.ndim)
    if isinstance(start, Tensor):
        start = int(start)
    if start < 0:
        start += a.shape[d]
    if start < 0 or start + length > a.shape[d] or length < 0:
        raise RuntimeError(
            f"start ({start}) + length ({length}) exceeds dimension size ({a.shape[d]}).")
    key = (slice(None),) * d + (slice(start, start + length),)
    from .indexing import getitem
    return getitem(x, key)


def select(x, dim, index):
    a = x._data
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d]
    if not -n <= index < n:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(a.shape)} at "
            f"dimension {d}")
    key = (slice(None),) * d + (index,)
    from .indexing import getitem
    return getitem(x, key)


def diagonal(x, offset=0, dim1=0, dim2=1):
    from .linalg import diagonal as _d
    return _d(x, offset, dim1, dim2)
