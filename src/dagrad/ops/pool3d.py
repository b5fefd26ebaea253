"""3-D pooling: max_pool3d, avg_pool3d, adaptive_max_pool3d, max_unpool3d, lp_pool3d,
fractional_max_pool2d/3d.

Same design as ops/pool.py: windows are kd*kh*kw strided slices of one padded buffer, so each
op is a handful of whole-array NumPy calls per tap (no per-element Python loops). Max pooling
keeps a running maximum and the winning tap per output; its backward scatters tap by tap and
the scatter's own backward is the gather at the same taps, so double backward works. Average
pooling and its adjoint are each other's gradient. Adaptive / fractional max pooling reduce
separably (W, then H, then D), which picks the lexicographically first maximum as PyTorch's scan
does, and go back through flat per-plane indices.
"""
import builtins
import itertools

from ..backend import contiguous as _contig
from ..backend import get_array_module as _gam
from . import derivatives as R
from ._core import D, _make, grad_state, link, np

__all__ = ["max_pool3d", "max_pool3d_with_indices", "avg_pool3d", "adaptive_max_pool3d",
           "adaptive_max_pool3d_with_indices", "max_unpool3d", "lp_pool3d",
           "fractional_max_pool2d", "fractional_max_pool3d",
           "fractional_max_pool2d_with_indices", "fractional_max_pool3d_with_indices"]

_TORCH_NAMES = {np.dtype(np.bool_): "Bool", np.dtype(np.uint8): "Byte", np.dtype(np.int8): "Char",
                np.dtype(np.int16): "Short", np.dtype(np.int32): "Int",
                np.dtype(np.int64): "Long", np.dtype(np.float16): "Half",
                np.dtype(np.float32): "Float", np.dtype(np.float64): "Double",
                np.dtype(np.complex64): "ComplexFloat", np.dtype(np.complex128): "ComplexDouble"}


def _xp(a):
    """The array module of a (NumPy, or CuPy for GPU arrays)."""
    if type(a) is np.ndarray:
        return np
    from ..backend import get_array_module
    return get_array_module(a)


def _rec(*ts):
    return grad_state.enabled and builtins.any(t is not None and t._rg for t in ts)


def _dtname(a):
    n = _TORCH_NAMES.get(a.dtype)
    if n is None:
        try:
            n = {"bfloat16": "BFloat16"}.get(D.from_np(a.dtype).name, D.from_np(a.dtype).name)
        except Exception:
            n = str(a.dtype)
    return n


def _is_float(a):
    return a.dtype.kind in "fV"


def _triple(v, fn, what, omit=False):
    """PyTorch's max_pool3d / avg_pool3d argument check (one int or a tuple of three)."""
    if isinstance(v, (builtins.int, np.integer)):
        return (builtins.int(v),) * 3
    v = tuple(builtins.int(a) for a in v)
    if len(v) == 1:
        return v * 3
    if len(v) != 3:
        if fn == "max_pool3d":
            mid = {"kernel_size": "must either be a single int",
                   "stride": "must either be omitted, a single int",
                   "padding": "must either be a single int",
                   "dilation": "must be either a single int"}[what]
        else:
            mid = {"kernel_size": "must be a single int",
                   "stride": "must be omitted, a single int",
                   "padding": "must be a single int"}[what]
        raise RuntimeError(f"{fn}: {what} {mid}, or a tuple of three ints")
    return v


# ---------------------------------------------------------------- geometry
def _out_size(n, k, s, p, d, ceil):
    o = (n + 2 * p - d * (k - 1) - 1 + ((s - 1) if ceil else 0)) // s + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


class _G3:
    """Window geometry over the last three dims of (N, C, T, H, W)."""
    __slots__ = ("k", "s", "p", "d", "n", "o", "np_")

    def __init__(self, k, s, p, d, n, o):
        self.k, self.s, self.p, self.d, self.n, self.o = k, s, p, d, n, o
        self.np_ = tuple(builtins.max(n[i] + 2 * p[i], (o[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1)
                         for i in range(3))

    def taps(self):
        """(tap number, slice of the padded buffer) for every kernel offset, in PyTorch's
        scan order (t, h, w)."""
        ext = [(self.o[i] - 1) * self.s[i] + 1 for i in range(3)]
        for t, off in enumerate(itertools.product(*(range(k) for k in self.k))):
            sl = tuple(slice(off[i] * self.d[i], off[i] * self.d[i] + ext[i], self.s[i])
                       for i in range(3))
            yield t, (Ellipsis,) + sl

    def inner(self):
        return (Ellipsis,) + tuple(slice(self.p[i], self.p[i] + self.n[i]) for i in range(3))

    def trivial(self):
        return self.np_ == self.n

    def padded(self, x, fill):
        if self.trivial():
            return x
        xp = _xp(x).full(x.shape[:-3] + self.np_, fill, dtype=x.dtype)
        xp[self.inner()] = x
        return xp

    def crop(self, xp):
        if self.trivial():
            return xp
        return _xp(xp).ascontiguousarray(xp[self.inner()])

    def ntaps(self):
        return self.k[0] * self.k[1] * self.k[2]


def _geom(a, k, s, p, d, ceil, fn):
    if builtins.any(v == 0 for v in s):
        raise RuntimeError("stride should not be zero")
    if builtins.any(v <= 0 for v in k):
        raise RuntimeError(f"kernel size should be greater than zero, but got kT: {k[0]} "
                           f"kH: {k[1]} kW: {k[2]}")
    if builtins.any(v < 0 for v in s):
        raise RuntimeError(f"stride should be greater than zero, but got dT: {s[0]} dH: {s[1]} "
                           f"dW: {s[2]}")
    if builtins.any(v <= 0 for v in d):
        raise RuntimeError(f"dilation should be greater than zero, but got dilationT: {d[0]} "
                           f"dilationH: {d[1]} dilationW: {d[2]}")
    for i in range(3):
        if p[i] < 0:
            raise RuntimeError("pad must be non-negative")
        if p[i] > (d[i] * (k[i] - 1) + 1) // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={p[i]}, "
                f"kernel_size={k[i]} and dilation={d[i]}")
    if builtins.any(p[i] > k[i] // 2 for i in range(3)):    # pool3d_shape_check's own test
        raise RuntimeError(
            f"pad should be smaller than or equal to half of kernel size, but got kT: {k[0]} "
            f"kW: {k[2]} kH: {k[1]} padT: {p[0]} padW: {p[2]} padH: {p[1]}")
    n = a.shape[-3:]
    if fn == "avg_pool3d" and builtins.any(n[i] < k[i] for i in range(3)):
        raise RuntimeError(f"input image (T: {n[0]} H: {n[1]} W: {n[2]}) smaller than kernel "
                           f"size (kT: {k[0]} kH: {k[1]} kW: {k[2]})")
    o = tuple(_out_size(n[i], k[i], s[i], p[i], d[i], ceil) for i in range(3))
    if builtins.any(v < 1 for v in o):
        C = a.shape[-4]
        raise RuntimeError(f"Given input size: ({C}x{n[0]}x{n[1]}x{n[2]}). Calculated output "
                           f"size: ({C}x{o[0]}x{o[1]}x{o[2]}). Output size is too small")
    return _G3(k, s, p, d, n, o)


def _check_input(a, fn):
    if a.ndim not in (4, 5):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
    if fn == "max_pool3d":
        for i in range(a.ndim - 3, a.ndim):
            if a.shape[i] == 0:
                raise RuntimeError(
                    f"max_pool3d_with_indices_out_cpu_template(): Expected input's non-batch "
                    f"dimensions to have positive length, but input has a shape of "
                    f"{list(a.shape)} and non-batch dimension {i - (a.ndim - 3)} has length "
                    f"zero!")
    elif builtins.any(v == 0 for v in a.shape[a.ndim - 4:]):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")


def _stride(stride, k, fn):
    if stride is None or (not isinstance(stride, (builtins.int, np.integer)) and
                          len(stride) == 0):
        return k
    return _triple(stride, fn, "stride")


# ---------------------------------------------------------------- max pooling
def _maxpool_arrays(a, geo):
    """Running max over the taps: (values, winning tap per output). A NaN wins and the last
    NaN's tap is kept (PyTorch's `val > max || isnan(val)` scan)."""
    flt = _is_float(a)
    fill = -np.inf if flt else (np.iinfo(a.dtype).min if a.dtype.kind in "iu" else False)
    xp = geo.padded(a, fill)
    nt = geo.ntaps()
    tdt = np.uint8 if nt < 256 else np.int32
    taps = geo.taps()
    _, sl = next(taps)
    m = xp[sl].copy()
    X = _xp(a)
    tap = X.zeros(m.shape, dtype=tdt)
    upd = X.empty(m.shape, dtype=bool)
    tt = X.empty(m.shape, dtype=tdt)
    for t, sl in taps:
        s = xp[sl]
        np.greater(s, m, out=upd)
        np.maximum(m, s, out=m)
        np.multiply(upd, tdt(t), out=tt)
        np.maximum(tap, tt, out=tap)
    if flt and np.isnan(m).any():
        taps = geo.taps()
        _, sl = next(taps)
        m = xp[sl].copy()
        tap[...] = 0
        for t, sl in taps:
            s = xp[sl]
            np.greater(s, m, out=upd)
            upd |= np.isnan(s)
            np.copyto(m, s, where=upd)
            np.copyto(tap, t, where=upd, casting="unsafe")
    return m, tap


def _flat_indices(tap, geo):
    """PyTorch's indices: t*H*W + h*W + w in the unpadded (T, H, W) volume."""
    t = tap.astype(np.int64)
    kt, kh, kw = geo.k
    offs = (t // (kh * kw), (t // kw) % kh, t % kw)
    res = 0
    for i in range(3):
        shape = [1, 1, 1]
        shape[i] = geo.o[i]
        pos = (_xp(t).arange(geo.o[i], dtype=np.int64) * geo.s[i] - geo.p[i]).reshape(shape) + \
            offs[i] * geo.d[i]
        res = res * geo.n[i] + pos
    return res


def _tap_scatter_arr(g, tap, geo):
    """Adjoint of the max-pool gather: each output gradient goes to its winning position."""
    X = _xp(g)
    gp = X.zeros(g.shape[:-3] + geo.np_, dtype=g.dtype)
    mask = X.empty(g.shape, dtype=bool)
    tmp = X.empty_like(g)
    for t, sl in geo.taps():
        np.equal(tap, t, out=mask)
        np.multiply(g, mask, out=tmp)
        gp[sl] += tmp
    return geo.crop(gp)


def _tap_gather_arr(h, tap, geo):
    hp = geo.padded(h, 0)
    X = _xp(h)
    out = X.zeros(tap.shape, dtype=h.dtype)
    mask = X.empty(tap.shape, dtype=bool)
    for t, sl in geo.taps():
        np.equal(tap, t, out=mask)
        np.copyto(out, hp[sl], where=mask)
    return out


def _tap_scatter(g, tap, geo, xshape):
    r = _make(_tap_scatter_arr(g._data.reshape(tap.shape), tap, geo).reshape(xshape))
    if _rec(g):
        n = R.MaxPool3DScatterBackward()
        n.tap, n.geo, n.oshape = tap, geo, g._data.shape
        link(n, r, g)
    return r


def _tap_gather(h, tap, geo, oshape):
    ha = h._data
    r = _make(_tap_gather_arr(ha.reshape(tap.shape[:-3] + geo.n), tap, geo).reshape(oshape))
    if _rec(h):
        n = R.MaxPool3DGatherBackward()
        n.tap, n.geo, n.xshape = tap, geo, ha.shape
        link(n, r, h)
    return r


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    a = input._data
    _check_input(a, "max_pool3d")
    if a.dtype.kind not in "fViu":
        raise NotImplementedError(f'"max_pool3d" not implemented for \'{_dtname(a)}\'')
    k = _triple(kernel_size, "max_pool3d", "kernel_size")
    s = _stride(stride, k, "max_pool3d")
    p = _triple(padding, "max_pool3d", "padding")
    d = _triple(dilation, "max_pool3d", "dilation")
    geo = _geom(a, k, s, p, d, ceil_mode, "max_pool3d")
    m, tap = _maxpool_arrays(a, geo)
    out = _make(m)
    if _rec(input):
        n = R.MaxPool3DWithIndicesBackward0()
        n.tap, n.geo, n.xshape = tap, geo, a.shape
        link(n, out, input)
    if return_indices:
        return out, _make(_flat_indices(tap, geo))
    return out


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ---------------------------------------------------------------- average pooling
def _avg_divisor(geo, count_include_pad, divisor_override, dtype):
    if divisor_override:
        return builtins.int(divisor_override)
    div = None
    for i in range(3):
        start = np.arange(geo.o[i]) * geo.s[i] - geo.p[i]
        end = np.minimum(start + geo.k[i], geo.n[i] + geo.p[i])
        if count_include_pad:
            c = end - start
        else:
            c = np.minimum(end, geo.n[i]) - np.maximum(start, 0)
        shape = [1, 1, 1]
        shape[i] = geo.o[i]
        c = c.reshape(shape)
        div = c if div is None else div * c
    if np.all(div == div.flat[0]):
        return builtins.int(div.flat[0])
    return div


def _divide(acc, div):
    if acc.dtype.kind in "iu":      # C++ integer division truncates toward zero
        X = _xp(acc)
        if isinstance(div, np.ndarray) and X is not np:
            div = X.asarray(div)
        q = X.abs(acc) // div
        return X.where(acc < 0, -q, q).astype(acc.dtype)
    if isinstance(div, np.ndarray):
        div = div.astype(acc.dtype)
        if type(acc) is not np.ndarray:
            div = _xp(acc).asarray(div)
    acc /= div
    return acc


def _avg_fwd_arr(a, geo, div):
    xp = geo.padded(a, 0)
    taps = geo.taps()
    _, sl = next(taps)
    acc = xp[sl].copy()
    for _, sl in taps:
        acc += xp[sl]
    return _divide(acc, div)


def _avg_adj_arr(g, geo, div):
    gd = _divide(g.copy(), div)
    gp = _xp(g).zeros(g.shape[:-3] + geo.np_, dtype=g.dtype)
    for _, sl in geo.taps():
        gp[sl] += gd
    return geo.crop(gp)


def _avg_op(x, geo, div, node_cls):
    a = x._data
    r = _make(_avg_fwd_arr(a, geo, div))
    if _rec(x):
        n = node_cls()
        n.geo, n.div, n.xshape = geo, div, a.shape
        link(n, r, x)
    return r


def _avg_adj_op(g, geo, div, xshape):
    r = _make(_avg_adj_arr(g._data, geo, div).reshape(xshape))
    if _rec(g):
        n = R.AvgPool3DAdjointBackward()
        n.geo, n.div = geo, div
        link(n, r, g)
    return r


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    a = input._data
    _check_input(a, "avg_pool3d")
    if not (_is_float(a) and a.dtype.itemsize >= 4) and a.dtype != np.int64:
        raise NotImplementedError(
            f'"avg_pool3d_out_frame" not implemented for \'{_dtname(a)}\'')
    k = _triple(kernel_size, "avg_pool3d", "kernel_size")
    s = _stride(stride, k, "avg_pool3d")
    p = _triple(padding, "avg_pool3d", "padding")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    geo = _geom(a, k, s, p, (1, 1, 1), ceil_mode, "avg_pool3d")
    div = _avg_divisor(geo, count_include_pad, divisor_override, a.dtype)
    return _avg_op(input, geo, div, R.AvgPool3DBackward0)


# ---------------------------------------------------------------- flat-index gather / scatter
def _idx_scatter(g, idx, xshape, node_cls, assign=False, nd=3):
    """out (xshape) = per plane, g placed at the flat indices idx over the last nd dims
    (assign=True: a repeated index keeps the last value, as max_unpool)."""
    ga = g._data
    HW = builtins.int(np.prod(xshape[-nd:]))
    planes = builtins.int(np.prod(xshape[:-nd]))
    X = _xp(ga)
    flat = (idx.reshape(planes, -1) + (X.arange(planes, dtype=np.int64) * HW)[:, None]).ravel()
    if assign:
        r = X.zeros(planes * HW, dtype=ga.dtype)
        r[flat] = ga.reshape(-1)
    else:
        r = X.bincount(flat, weights=ga.reshape(-1).astype(np.float64),
                       minlength=planes * HW).astype(ga.dtype)
    res = _make(r.reshape(xshape))
    if _rec(g):
        n = node_cls()
        n.idx, n.oshape, n.xshape, n.nd = idx, ga.shape, xshape, nd
        link(n, res, g)
    return res


def _idx_gather(h, idx, oshape, node_cls, nd=3):
    ha = h._data
    HW = builtins.int(np.prod(ha.shape[-nd:]))
    planes = ha.size // HW
    r = np.take_along_axis(ha.reshape(planes, HW), idx.reshape(planes, -1), 1).reshape(oshape)
    res = _make(r)
    if _rec(h):
        n = node_cls()
        n.idx, n.xshape, n.oshape, n.nd = idx, ha.shape, oshape, nd
        link(n, res, h)
    return res


# ---------------------------------------------------------------- adaptive max pooling
def _argmax_nan(w, axis):
    """argmax along axis with PyTorch's scan: first maximum; a NaN wins (the last NaN)."""
    am = np.argmax(w, axis=axis)
    if w.dtype.kind in "fV":
        nan = np.isnan(w)
        if nan.any():
            X = _xp(w)
            last = w.shape[axis] - 1 - X.argmax(X.flip(nan, axis), axis=axis)
            am = X.where(nan.any(axis), last, am)
    return am


def _separable_max(a, bounds):
    """Max over boxes given per dim as a list of (start, end) windows; reduced W, then H, then
    T. Returns (values, flat index over the input's last 3 dims)."""
    n = a.shape[-3:]
    vals = a
    pos = [None, None, None]       # per dim: index arrays broadcast to the current shape
    for ax in (2, 1, 0):
        axis = vals.ndim - 3 + ax
        outs_v, outs_i = [], []
        for (st, en) in bounds[ax]:
            w = vals[(slice(None),) * axis + (slice(st, en),)]
            am = np.expand_dims(_argmax_nan(w, axis), axis)
            outs_v.append(np.take_along_axis(w, am, axis))
            outs_i.append(am + st)
        new_v = _xp(a).concatenate(outs_v, axis=axis)
        sel = _xp(a).concatenate(outs_i, axis=axis)      # chosen coordinate along ax
        for j in range(3):
            if pos[j] is not None:
                pos[j] = np.take_along_axis(pos[j], sel, axis)
        pos[ax] = sel
        vals = new_v
    flat = (pos[0] * n[1] + pos[1]) * n[2] + pos[2]
    return vals, flat.astype(np.int64)


def _adaptive_bounds(n, o):
    return [((i * n) // o, -((-(i + 1) * n) // o)) for i in range(o)]


def _adaptive_max3(input, output_size, return_indices):
    a = input._data
    if a.ndim not in (4, 5):
        raise RuntimeError(f"adaptive_max_pool3d(): Expected 4D or 5D tensor, but got: "
                           f"{list(a.shape)}")
    for i in range(a.ndim - 3, a.ndim):
        if a.shape[i] == 0:
            raise RuntimeError(
                f"adaptive_max_pool3d(): Expected input to have non-zero size for non-batch "
                f"dimensions, but input has sizes {list(a.shape)} with dimension {i} being "
                f"empty")
    if isinstance(output_size, (builtins.int, np.integer)):
        output_size = (builtins.int(output_size),) * 3
    osz = tuple(a.shape[a.ndim - 3 + i] if v is None else builtins.int(v)
                for i, v in enumerate(output_size))
    if len(osz) != 3:
        raise RuntimeError("adaptive_max_pool3d(): internal error: output_size.size() must be 3")
    if builtins.any(v < 0 for v in osz):
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{builtins.min(osz)}: {list(a.shape[:-3] + osz)}")
    if not _is_float(a):
        raise NotImplementedError(
            f'"adaptive_max_pool3d_cpu" not implemented for \'{_dtname(a)}\'')
    n = a.shape[-3:]
    if builtins.any(v == 0 for v in osz):
        m = np.empty(a.shape[:-3] + osz, dtype=a.dtype)
        idx = np.empty(m.shape, dtype=np.int64)
    else:
        m, idx = _separable_max(a, [_adaptive_bounds(n[i], osz[i]) for i in range(3)])
    out = _make(m)
    if _rec(input):
        nd = R.AdaptiveMaxPool3DBackward0()
        nd.idx, nd.xshape, nd.oshape, nd.nd = idx, a.shape, m.shape, 3
        link(nd, out, input)
    if return_indices:
        return out, _make(idx)
    return out


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max3(input, output_size, return_indices)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max3(input, output_size, True)


# ---------------------------------------------------------------- max unpool, lp pool
def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    a = input._data
    idx = indices._data
    if a.ndim not in (4, 5):
        raise RuntimeError(f"Input to max_unpooling3d should be a 4d or 5d Tensor, but got a "
                           f"tensor with {a.ndim} dimensions.")
    k = _triple(kernel_size, "avg_pool3d", "kernel_size")
    s = k if stride is None else _triple(stride, "avg_pool3d", "stride")
    p = _triple(padding, "avg_pool3d", "padding")
    sp = a.shape[-3:]
    default = tuple((sp[i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(3))
    if output_size is None:
        osz = default
    else:
        osz = tuple(builtins.int(v) for v in output_size)
        if len(osz) == 5 or (len(osz) == 4 and a.ndim == 4):
            osz = osz[-3:]
        if len(osz) != 3:
            raise ValueError(f"output_size should be a sequence containing 3 or 5 elements, "
                             f"but it has a length of '{len(osz)}'")
        for i in range(3):
            lo, hi = default[i] - s[i], default[i] + s[i]
            if not lo < osz[i] < hi:
                raise ValueError(
                    f"invalid output_size \"{output_size}\" (dim {i} must be between "
                    f"{lo} and {hi})")
    if idx.dtype != np.int64:
        raise RuntimeError("elements in indices should be type int64")
    if idx.shape != a.shape:
        raise RuntimeError(
            f"Expected shape of indices to be same as that of the input tensor ({list(a.shape)})"
            f" but got indices tensor with shape: {list(idx.shape)}")
    if not _is_float(a):
        raise NotImplementedError(f'"max_unpool3d" not implemented for \'{_dtname(a)}\'')
    size = builtins.int(np.prod(osz))
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        flat = idx.reshape(-1)
        bad = builtins.int(flat[np.argmax((flat < 0) | (flat >= size))])
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{'x'.join(map(str, osz))})")
    return _idx_scatter(input, idx, a.shape[:-3] + osz, R.MaxUnpool3DBackward0, True)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    if isinstance(kernel_size, (builtins.int, np.integer)):
        kd = kw = kh = builtins.int(kernel_size)
    else:
        kd, kw, kh = kernel_size
    if stride is not None:
        out = avg_pool3d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    else:
        out = avg_pool3d(input.pow(norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kd * kw * kh).pow(1.0 / norm_type)


# ---------------------------------------------------------------- fractional max pooling
def _frac_seq(n, o, k, u):
    """PyTorch's pseudo-random pooling window starts for one dim (samples u in [0, 1), in the
    input's float type as PyTorch computes them)."""
    dt = u.dtype
    alpha = dt.type(n - k) / dt.type(builtins.max(o - 1, 1))
    xp = _gam(u)
    i = xp.arange(o - 1).astype(dt)
    seq = (((i + u[..., None]) * alpha).astype(np.int64) -
           (u[..., None] * alpha).astype(np.int64))
    last = xp.full(seq.shape[:-1] + (1,), n - k, dtype=np.int64)
    return np.concatenate([seq, last], axis=-1)


def _fractional(nd, input, kernel_size, output_size, output_ratio, return_indices,
                _random_samples):
    name = f"fractional_max_pool{nd}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    a = input._data
    k = (builtins.int(kernel_size),) * nd if isinstance(kernel_size, (builtins.int, np.integer)) \
        else tuple(builtins.int(v) for v in kernel_size)
    if output_size is None:
        if nd == 2 and isinstance(output_ratio, (builtins.int, builtins.float)):
            raise TypeError(f"object of type '{type(output_ratio).__name__}' has no len()")
        ratio = (output_ratio,) * nd if isinstance(output_ratio, (builtins.int, builtins.float)) \
            else tuple(output_ratio)
        osz = tuple(builtins.int(a.shape[-nd + i] * ratio[i]) for i in range(nd))
    else:
        osz = (builtins.int(output_size),) * nd if isinstance(output_size,
                                                              (builtins.int, np.integer)) \
            else tuple(builtins.int(v) for v in output_size)
    if a.ndim < nd + 1:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-a.ndim}, "
                         f"{a.ndim - 1}], but got {-(nd + 1)})")
    if a.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{list(a.shape)}")
    batched = a.ndim == nd + 2
    x = a if batched else a[None]
    N, C = x.shape[:2]
    for i in range(nd):
        n = x.shape[2 + i]
        # PyTorch: 2-D needs o + k - 1 <= n, 3-D the strict o + k - 1 < n
        if osz[i] + k[i] - 1 > n or (nd == 3 and osz[i] + k[i] - 1 == n):
            which = ("time", "height", "width")[3 - nd + i]
            where = "fractional_max_pool2d()" if nd == 2 else "fractional_max_pool3d_out()"
            raise RuntimeError(f"{where}: pool {which} {k[i]} too large relative to input "
                               f"{which} {n}")
    if _random_samples is None:
        import dagrad

        from .. import creation as _cr  # noqa: F401 - dagrad's global generator
        samples = dagrad.rand(N, C, nd, dtype=input.dtype, device=input.device)._data
    else:
        samples = _random_samples._data
    if samples.dtype.kind != "f":
        samples = samples.astype(np.float32)
    x3 = x if nd == 3 else x[:, :, None]
    k3 = k if nd == 3 else (1,) + k
    o3 = osz if nd == 3 else (1,) + osz
    n3 = x3.shape[-3:]
    # starts[dim]: (N, C, o); the sample order is (w, h[, t]) as PyTorch reads it
    starts = []
    for j in range(3):
        if nd == 2 and j == 0:
            starts.append(_gam(x).zeros((N, C, 1), dtype=np.int64))
            continue
        sidx = j if nd == 3 else {1: 1, 2: 0}[j]     # 2-D samples are (w, h)
        u = samples[:, :, sidx]
        if type(u) is not type(x):  # samples given on the other device: follow the input
            u = _gam(x).asarray(u) if type(x) is not np.ndarray else u.get()
        starts.append(_frac_seq(n3[j], o3[j], k3[j], u))
    # gather all k-window elements: offsets along each dim, vectorised over (N, C, o...)
    sel = x3
    win_pos = []
    for j in range(3):
        pos = starts[j][..., :, None] + _gam(x).arange(k3[j])  # (N, C, o_j, k_j)
        shape = [N, C, 1, 1, 1, 1, 1, 1]
        shape[2 + j] = o3[j]
        shape[5 + j] = k3[j]
        win_pos.append(pos.reshape(shape))
    NN = _gam(x).arange(N).reshape(N, 1, 1, 1, 1, 1, 1, 1)
    CC = _gam(x).arange(C).reshape(1, C, 1, 1, 1, 1, 1, 1)
    win = sel[NN, CC, win_pos[0], win_pos[1], win_pos[2]]   # (N, C, o0, o1, o2, k0, k1, k2)
    flatw = win.reshape(N, C, o3[0], o3[1], o3[2], -1)
    am = _argmax_nan(flatw, -1)
    vals = np.take_along_axis(flatw, am[..., None], -1)[..., 0]
    kk = (am // (k3[1] * k3[2]), (am // k3[2]) % k3[1], am % k3[2])
    idx = 0
    for j in range(3):
        shape = [N, C, 1, 1, 1]
        shape[2 + j] = o3[j]
        p = starts[j].reshape(shape) + kk[j]
        idx = idx * n3[j] + p
    if nd == 2:
        vals, idx = vals[:, :, 0], idx[:, :, 0]
    if not batched:
        vals, idx = vals[0], idx[0]
    vals = _contig(vals)
    idx = _contig(idx.astype(np.int64))
    out = _make(vals)
    if _rec(input):
        node = (R.FractionalMaxPool3DBackward0 if nd == 3 else R.FractionalMaxPool2DBackward0)()
        node.idx, node.xshape, node.oshape, node.nd = idx, a.shape, vals.shape, nd
        link(node, out, input)
    if return_indices:
        return out, _make(idx)
    return out


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    return _fractional(2, input, kernel_size, output_size, output_ratio, return_indices,
                       _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    return _fractional(3, input, kernel_size, output_size, output_ratio, return_indices,
                       _random_samples)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return _fractional(2, input, kernel_size, output_size, output_ratio, True, _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return _fractional(3, input, kernel_size, output_size, output_ratio, True, _random_samples)
