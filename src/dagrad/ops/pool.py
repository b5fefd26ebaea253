"""Pooling, padding, resampling, unfold/fold and pixel (un)shuffle.

Kernels run on NumPy arrays, always in 2-D form (1-D ops get a height of 1). Windows are read as
kh*kw shifted strided slices of one padded buffer, so every op is a handful of whole-array NumPy
calls: max pooling keeps a running maximum and the winning tap per output (int8), and its
backward scatters the gradient tap by tap (no np.add.at). Linear ops come in adjoint pairs
(avg pool / its transpose, take / scatter, unfold / fold, separable matrices / their transposes),
each the other's gradient, so double backward works everywhere.
"""
import builtins
import math

from numpy.lib.stride_tricks import as_strided

from ..backend import contiguous as _contig
from ..backend import get_array_module as _xp
from . import derivatives as R
from ._core import D, _make, grad_state, link, np

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "pad",
           "interpolate", "upsample", "unfold", "fold", "pixel_shuffle", "pixel_unshuffle",
           "max_pool1d_with_indices", "max_pool2d_with_indices", "adaptive_max_pool1d_with_indices",
           "adaptive_max_pool2d_with_indices", "lp_pool1d", "lp_pool2d", "max_unpool1d",
           "max_unpool2d", "affine_grid", "grid_sample", "adaptive_avg_pool3d"]


def _rec(*ts):
    return grad_state.enabled and builtins.any(t is not None and t._rg for t in ts)


def _tuple(v, n, name="kernel_size"):
    if isinstance(v, (builtins.int, np.integer)):
        return (builtins.int(v),) * n
    v = tuple(builtins.int(a) for a in v)
    if len(v) == 1 and n > 1:
        return v * n
    if len(v) != n:
        raise RuntimeError(f"{name} must either be a single int, or a tuple of {n} ints")
    return v


_TORCH_NAMES = {"b": {1: "Bool"}, "u": {1: "Byte"}, "i": {1: "Char", 2: "Short", 4: "Int", 8: "Long"},
                "f": {2: "Half", 4: "Float", 8: "Double"}, "V": {2: "BFloat16"},
                "c": {8: "ComplexFloat", 16: "ComplexDouble"}}


def _dtname(a):
    """PyTorch's C++ scalar-type name of a's dtype ('Long', 'Float', 'ComplexFloat'...)."""
    n = _TORCH_NAMES.get(a.dtype.kind, {}).get(a.dtype.itemsize)
    return n if n is not None else D.from_np(a.dtype).name.capitalize()


# ---------------------------------------------------------------- window geometry
class _G:
    """Sliding-window geometry of a 2-D pool: the padded buffer covers every window."""
    __slots__ = ("k", "s", "p", "d", "H", "W", "Ho", "Wo", "Hp", "Wp")

    def __init__(self, k, s, p, d, H, W, Ho, Wo):
        self.k, self.s, self.p, self.d = k, s, p, d
        self.H, self.W, self.Ho, self.Wo = H, W, Ho, Wo
        self.Hp = builtins.max(H + 2 * p[0], (Ho - 1) * s[0] + d[0] * (k[0] - 1) + 1)
        self.Wp = builtins.max(W + 2 * p[1], (Wo - 1) * s[1] + d[1] * (k[1] - 1) + 1)

    def taps(self):
        kh, kw = self.k
        sh, sw = self.s
        dh, dw = self.d
        he = (self.Ho - 1) * sh + 1
        we = (self.Wo - 1) * sw + 1
        for i in range(kh):
            for j in range(kw):
                yield i * kw + j, (slice(None), slice(None), slice(i * dh, i * dh + he, sh),
                                   slice(j * dw, j * dw + we, sw))

    def padded(self, x, fill):
        N, C = x.shape[:2]
        ph, pw = self.p
        if self.Hp == self.H and self.Wp == self.W:
            return x
        xp = _xp(x).full((N, C, self.Hp, self.Wp), fill, dtype=x.dtype)
        xp[:, :, ph:ph + self.H, pw:pw + self.W] = x
        return xp

    def crop(self, xp):
        ph, pw = self.p
        if self.Hp == self.H and self.Wp == self.W:
            return xp
        c = xp[:, :, ph:ph + self.H, pw:pw + self.W]
        return _contig(c)

    def disjoint(self):
        """Windows never overlap (each input position belongs to at most one window)."""
        return all(self.s[i] >= self.d[i] * (self.k[i] - 1) + 1 for i in range(2))


def _out_size(n, k, s, p, d, ceil):
    o = (n + 2 * p - d * (k - 1) - 1 + ((s - 1) if ceil else 0)) // s + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def _half(v):
    """C++ integer v / 2 (truncates toward zero)."""
    return v // 2 if v >= 0 else -((-v) // 2)


def _pool_geom(x4, k, s, p, d, ceil, nd, shape=None, maxpool=False):
    """Checks and geometry for a pool over x4 (N, C, H, W) (nd: user-facing spatial dims), in
    PyTorch's order (pooling_output_shape per dim, then pool2d_shape_check; a 1-D pool is a 2-D
    one of height 1 and reports as one). shape: the input's shape as PyTorch's message shows it
    (None: x4's); maxpool: max pooling's extra padding check."""
    N, C, H, W = x4.shape
    outs = []
    for i, n in ((0, H), (1, W)):
        if s[i] == 0:
            raise RuntimeError("stride should not be zero")
        if p[i] < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p[i]}")
        if p[i] > _half((k[i] - 1) * d[i] + 1):
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={p[i]}, "
                f"kernel_size={k[i]} and dilation={d[i]}")
        outs.append(_out_size(n, k[i], s[i], p[i], d[i], ceil))
    Ho, Wo = outs
    if k[0] <= 0 or k[1] <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {k[0]} kW: {k[1]}")
    if s[0] <= 0 or s[1] <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {s[0]} dW: {s[1]}")
    if d[0] <= 0 or d[1] <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {d[0]} "
                           f"dilationW: {d[1]}")
    if C == 0 or H == 0 or W == 0:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size "
                           f"for input, but got:{list(x4.shape if shape is None else shape)}")
    if maxpool and (k[1] // 2 < p[1] or k[0] // 2 < p[0]):
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got "
                           f"padW = {p[1]}, padH = {p[0]}, kW = {k[1]}, kH = {k[0]}")
    if Ho < 1 or Wo < 1:
        raise RuntimeError(f"Given input size: ({C}x{H}x{W}). Calculated output size: "
                           f"({C}x{Ho}x{Wo}). Output size is too small")
    return _G(k, s, p, d, H, W, Ho, Wo)


def _to4(x, nd, name):
    """Array view (N, C, H, W) of a pool input; returns (array, restore shape)."""
    a = x._data
    if nd == 2:
        if a.ndim == 4:
            return a, None
        if a.ndim == 3:
            return a[None], a.shape[:0]
    else:
        if a.ndim == 3:
            return a[:, :, None, :], None
        if a.ndim == 2:
            return a[None, :, None, :], a.shape[:0]
    raise RuntimeError(name)


def _from4(y, x, nd):
    """Back to the user's layout: drop the fake batch / height dims."""
    if nd == 1:
        y = y[:, :, 0, :]
    if x.ndim == nd + 1:
        y = y[0]
    return y


# ---------------------------------------------------------------- phase planes
def _phase_taps(geo):
    """For each tap t: (phase (a, b), row offset, col offset) in the stride-phase planes.

    A strided window slice xp[:, :, i*dh::sh, j*dw::sw] is, in the phase plane
    xp[:, :, a::sh, b::sw] (a = i*dh % sh, b = j*dw % sw), a slice with unit steps: whole-array
    NumPy ops on it run on contiguous rows (strided reads are ~10x slower).
    """
    kh, kw = geo.k
    sh, sw = geo.s
    dh, dw = geo.d
    out = []
    for i in range(kh):
        for j in range(kw):
            oi, oj = i * dh, j * dw
            out.append(((oi % sh, oj % sw), oi // sh, oj // sw))
    return out


def _phase_range(a, s, p, n):
    """Rows r of phase a whose padded position a + r*s - p falls inside [0, n)."""
    lo = builtins.max(0, -(-(p - a) // s))
    hi = builtins.max(lo, -(-(n + p - a) // s))
    return lo, hi, a + lo * s - p


def _phase_planes(x4, geo, taps, fill):
    """The stride-phase planes of the padded input, built straight from x (one pass)."""
    sh, sw = geo.s
    if sh == 1 and sw == 1:
        return {(0, 0): geo.padded(x4, fill)}
    N, C = x4.shape[:2]
    planes = {}
    for ph in {t[0] for t in taps}:
        a, b = ph
        P = -(-(geo.Hp - a) // sh)
        Q = -(-(geo.Wp - b) // sw)
        r0, r1, xr = _phase_range(a, sh, geo.p[0], geo.H)
        c0, c1, xc = _phase_range(b, sw, geo.p[1], geo.W)
        pl = _xp(x4).empty((N, C, P, Q), dtype=x4.dtype)
        pl[:, :, :r0] = fill        # fill only the border outside the input
        pl[:, :, r1:] = fill
        pl[:, :, r0:r1, :c0] = fill
        pl[:, :, r0:r1, c1:] = fill
        pl[:, :, r0:r1, c0:c1] = x4[:, :, xr:xr + (r1 - r0 - 1) * sh + 1:sh,
                                    xc:xc + (c1 - c0 - 1) * sw + 1:sw]
        planes[ph] = pl
    return planes


def _phase_zeros(geo, taps, N, C, dtype, xp=np):
    sh, sw = geo.s
    return {ph: xp.zeros((N, C, -(-(geo.Hp - ph[0]) // sh), -(-(geo.Wp - ph[1]) // sw)),
                         dtype=dtype) for ph in {t[0] for t in taps}}


def _unphase(planes, geo, N, C, dtype, out=None):
    """Phase planes of a padded-input gradient -> the (N, C, H, W) input gradient (written
    into `out` when given)."""
    sh, sw = geo.s
    if sh == 1 and sw == 1:
        if out is None:
            return geo.crop(planes[(0, 0)])
        ph, pw = geo.p
        out[...] = planes[(0, 0)][:, :, ph:ph + geo.H, pw:pw + geo.W]
        return out
    full = len(planes) == sh * sw
    if out is not None:
        dx = out
        if not full:
            dx.fill(0)
    else:
        xp = _xp(next(iter(planes.values())))
        dx = (xp.empty if full else xp.zeros)((N, C, geo.H, geo.W), dtype=dtype)
    for (a, b), pl in planes.items():
        r0, r1, xr = _phase_range(a, sh, geo.p[0], geo.H)
        c0, c1, xc = _phase_range(b, sw, geo.p[1], geo.W)
        dx[:, :, xr:xr + (r1 - r0 - 1) * sh + 1:sh, xc:xc + (c1 - c0 - 1) * sw + 1:sw] = \
            pl[:, :, r0:r1, c0:c1]
    return dx


# ---------------------------------------------------------------- max pooling
def _maxpool_arrays(x4, geo):
    """Running max over the taps: (values, winning tap per output as uint8/int32).

    Masked writes (copyto where=) are ~50x slower than arithmetic, so the winning tap is kept
    as tap = maximum(tap, (s > m) * t): taps come in increasing order and a strict improvement
    at tap t always beats every earlier tap."""
    kind = x4.dtype.kind
    fill = -np.inf if kind in "fV" else np.iinfo(x4.dtype).min
    Ho, Wo = geo.Ho, geo.Wo
    taps = _phase_taps(geo)
    planes = _phase_planes(x4, geo, taps, fill)
    nt = len(taps)
    tdt = np.uint8 if nt < 256 else np.int32
    ph, r0, c0 = taps[0]
    m = planes[ph][:, :, r0:r0 + Ho, c0:c0 + Wo].copy()
    tap = np.zeros(m.shape, dtype=tdt)
    upd = np.empty(m.shape, dtype=bool)
    tt = np.empty(m.shape, dtype=tdt)
    for t in range(1, nt):
        ph, r0, c0 = taps[t]
        s = planes[ph][:, :, r0:r0 + Ho, c0:c0 + Wo]
        np.greater(s, m, out=upd)
        np.maximum(m, s, out=m)
        np.multiply(upd, tdt(t), out=tt)
        np.maximum(tap, tt, out=tap)
    if kind in "fV" and np.isnan(m).any():
        return _maxpool_arrays_nan(geo.padded(x4, fill), geo)
    if geo.Hp > geo.H or geo.Wp > geo.W:
        _first_valid_tap(m, tap, geo, fill)
    return m, tap


def _first_valid_tap(m, tap, geo, fill):
    """A window whose real elements all equal the padding value (the dtype's lowest: -inf, 0 for
    uint8) has a padding tap as winner; PyTorch, which never reads padding, reports the window's
    first in-bounds element. Fix those taps in place (tap t = row * kw + col)."""
    bad = m == fill
    if not bad.any():
        return
    np.copyto(tap, np.broadcast_to(_first_taps(geo, tap.dtype), tap.shape), where=bad)


def _first_taps(geo, dtype):
    """(Ho, Wo): each window's first in-bounds tap."""
    first = []
    for o, s, p, d, k, n in ((geo.Ho, geo.s[0], geo.p[0], geo.d[0], geo.k[0], geo.H),
                             (geo.Wo, geo.s[1], geo.p[1], geo.d[1], geo.k[1], geo.W)):
        pos = np.arange(o)[:, None] * s - p + np.arange(k)[None, :] * d
        first.append(np.argmax((pos >= 0) & (pos < n), axis=1))
    return (first[0][:, None] * geo.k[1] + first[1][None, :]).astype(dtype)


def _maxpool_arrays_nan(xp, geo):
    """Exact PyTorch NaN semantics (a NaN wins; the last NaN's position is the index)."""
    taps = geo.taps()
    _, sl = next(taps)
    m = xp[sl].copy()
    nt = geo.k[0] * geo.k[1]
    tap = np.zeros(m.shape, dtype=np.uint8 if nt < 256 else np.int32)
    upd = np.empty(m.shape, dtype=bool)
    for t, sl in taps:
        s = xp[sl]
        np.greater(s, m, out=upd)
        upd |= np.isnan(s)
        np.copyto(m, s, where=upd)
        np.copyto(tap, t, where=upd, casting="unsafe")
    return m, tap


def _flat_indices(tap, geo):
    """PyTorch's indices: flat position h*W + w in the (unpadded) input plane."""
    kh, kw = geo.k
    sh, sw = geo.s
    ph, pw = geo.p
    dh, dw = geo.d
    t = tap.astype(np.int64)
    h = _xp(t).arange(geo.Ho, dtype=np.int64)[:, None] * sh - ph + (t // kw) * dh
    w = _xp(t).arange(geo.Wo, dtype=np.int64)[None, :] * sw - pw + (t % kw) * dw
    return h * geo.W + w


_POOL_PAR_MIN = 1 << 20     # elements below which pools stay on one thread


def _planes_parallel(kernel, arrs, out_shapes, dtypes, work):
    """Run kernel(*channel slices of arrs, out=channel slices of outs) over threads when the
    array is big; kernels are whole-array NumPy (GIL released), memory-bound."""
    from . import conv as _conv
    N, C = arrs[0].shape[:2]
    k = 1
    if work >= _POOL_PAR_MIN and C >= 2:
        st = _conv._par_setup()
        if st and st[2] is not None:
            k = builtins.min(C, st[3])
    outs = [np.empty(sh, dtype=dt) for sh, dt in zip(out_shapes, dtypes)]
    if k == 1:
        kernel(*arrs, outs=outs)
        return outs
    cuts = [C * i // k for i in range(k + 1)]

    def run(i):
        sl = slice(cuts[i], cuts[i + 1])
        kernel(*[a[:, sl] for a in arrs], outs=[o[:, sl] for o in outs])
    list(_conv._par_state[2].map(run, range(k)))
    return outs


def _xp_of(a):
    from ..backend import get_array_module
    return get_array_module(a)


def _maxpool_generic(x4, geo):
    """Running max over the taps for any array module (CuPy): where() instead of out= tricks.
    A NaN wins and the last one's tap is kept, as in PyTorch."""
    xp = _xp_of(x4)
    flt = x4.dtype.kind in "fV"
    xpad = _padded_any(geo, x4, -xp.inf if flt else np.iinfo(x4.dtype).min)
    m = tap = None
    for t, sl in geo.taps():
        s_ = xpad[sl]
        if m is None:
            m = s_.copy()
            tap = xp.zeros(m.shape, dtype=xp.int32)
            continue
        upd = ((s_ > m) | xp.isnan(s_)) if flt else (s_ > m)
        m = xp.where(upd, s_, m)
        tap = xp.where(upd, t, tap)
    if xpad is not x4:  # windows whose real elements all equal the padding: first in-bounds one
        tap = xp.where(m == xpad.dtype.type(-np.inf if flt else np.iinfo(x4.dtype).min),
                       xp.asarray(_first_taps(geo, np.int32)), tap)
    return m, tap


def _padded_any(geo, x, fill):
    if geo.Hp == geo.H and geo.Wp == geo.W:
        return x
    xp = _xp_of(x)
    ph, pw = geo.p
    out = xp.full((x.shape[0], x.shape[1], geo.Hp, geo.Wp), fill, dtype=x.dtype)
    out[:, :, ph:ph + geo.H, pw:pw + geo.W] = x
    return out


def _tap_scatter_generic(g, tap, geo):
    xp = _xp_of(g)
    N, C = g.shape[:2]
    out = xp.zeros((N, C, geo.Hp, geo.Wp), dtype=g.dtype)
    for t, sl in geo.taps():
        out[sl] += g * (tap == t)
    return geo.crop(out)


def _tap_gather_generic(h, tap, geo):
    xp = _xp_of(h)
    hp = _padded_any(geo, h, 0)
    out = xp.zeros(tap.shape, dtype=h.dtype)
    for t, sl in geo.taps():
        out = xp.where(tap == t, hp[sl], out)
    return out


def _maxpool_par(x4, geo):
    if type(x4) is not np.ndarray:
        return _maxpool_generic(x4, geo)
    N, C = x4.shape[:2]

    def kern(x, outs):
        m, tap = _maxpool_arrays(x, geo)
        outs[0][...] = m
        outs[1][...] = tap
    nt = geo.k[0] * geo.k[1]
    shp = (N, C, geo.Ho, geo.Wo)
    return _planes_parallel(kern, [x4], [shp, shp],
                            [x4.dtype, np.uint8 if nt < 256 else np.int32], x4.size)


def _tap_scatter_par(g, tap, geo):
    if type(g) is not np.ndarray:
        return _tap_scatter_generic(g, tap, geo)
    N, C = g.shape[:2]

    def kern(gg, tt, outs):
        _tap_scatter_arr(gg, tt, geo, out=outs[0])
    return _planes_parallel(kern, [g, tap], [(N, C, geo.H, geo.W)], [g.dtype],
                            N * C * geo.H * geo.W)[0]


def _tap_scatter_arr(g, tap, geo, out=None):
    """Adjoint of the max-pool gather: each output gradient goes to its winning position."""
    N, C = g.shape[:2]
    Ho, Wo = geo.Ho, geo.Wo
    taps = _phase_taps(geo)
    planes = _phase_zeros(geo, taps, N, C, g.dtype, _xp(g))
    mask = np.empty(g.shape, dtype=bool)
    tmp = np.empty_like(g)
    for t, (ph, r0, c0) in enumerate(taps):
        np.equal(tap, t, out=mask)
        np.multiply(g, mask, out=tmp)
        planes[ph][:, :, r0:r0 + Ho, c0:c0 + Wo] += tmp
    return _unphase(planes, geo, N, C, g.dtype, out)


def _tap_gather_arr(h, tap, geo):
    """out[o] = h[winning position of o] (the max pool's linearisation at fixed taps)."""
    if type(h) is not np.ndarray:
        return _tap_gather_generic(h, tap, geo)
    hp = geo.padded(h, 0)
    out = np.zeros(tap.shape, dtype=h.dtype)
    mask = np.empty(tap.shape, dtype=bool)
    for t, sl in geo.taps():
        np.equal(tap, t, out=mask)
        np.copyto(out, hp[sl], where=mask)
    return out


def _tap_scatter(g, tap, geo, nd, xshape):
    g4 = g._data.reshape(tap.shape)
    r = _make(_tap_scatter_par(g4, tap, geo).reshape(xshape))
    if _rec(g):
        n = R.MaxPoolScatterBackward()
        n.tap, n.geo, n.nd, n.oshape = tap, geo, nd, g._data.shape
        link(n, r, g)
    return r


def _tap_gather(h, tap, geo, nd, oshape):
    N, C = tap.shape[:2]
    h4 = h._data.reshape(N, C, geo.H, geo.W)
    r = _make(_tap_gather_arr(h4, tap, geo).reshape(oshape))
    if _rec(h):
        n = R.MaxPoolGatherBackward()
        n.tap, n.geo, n.nd = tap, geo, nd
        n.xshape = h._data.shape
        link(n, r, h)
    return r


def _ints1d(v, what, stride=False, check=True):
    """A max_pool1d argument as a tuple of ints (PyTorch's int[1]: an int or a sequence)."""
    if isinstance(v, (builtins.int, np.integer)):
        return (builtins.int(v),)
    v = tuple(builtins.int(a) for a in v)
    if check and len(v) != 1 and not (stride and len(v) == 0):
        raise RuntimeError(f"max_pool1d() argument '{what}' should contain one int (got {len(v)})")
    return v


def _check_max_pool1d(a, kernel_size, stride, padding, dilation, ceil_mode):
    """torch.max_pool1d's own checks (its path without indices), in PyTorch's order."""
    if a.ndim not in (2, 3) or builtins.any(v == 0 for v in a.shape[a.ndim - 2:]):
        raise RuntimeError("max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim "
                           f"batch size for input, but got:{list(a.shape)}")
    k, s, p, d = (_ints1d(v, n, check=False) for v, n in (
        (kernel_size, "kernel_size"), (() if stride is None else stride, "stride"),
        (padding, "padding"), (dilation, "dilation")))
    for v, n, m in ((k, "kernel_size", "an int, list of ints or tuple of ints"),
                    (s, "stride", "None, an int, list of ints, or tuple of ints"),
                    (p, "padding", "an int, list of ints, or tuple of ints"),
                    (d, "dilation", "an int, list of ints or tuple of ints")):
        if len(v) != 1 and not (n == "stride" and len(v) == 0):
            raise RuntimeError(f"max_pool1d() {n} must be {m} of size 1 but got size {len(v)}")
    (k,), (p,), (d,) = k, p, d
    s = s[0] if s else k
    if k <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {k}")
    if s <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {s}")
    if p < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}")
    if p > k // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got "
                           f"padding={p} and kernel_size={k}")
    if d <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {d}")
    o = _out_size(a.shape[-1], k, s, p, d, ceil_mode)
    if o <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {o}")


def _max_pool(name, nd, input, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices):
    """max_pool1d/2d. Integer inputs pool too (forward only), as PyTorch's max_pool2d kernel does;
    torch.max_pool1d's path without indices (max_pool1d_impl) takes floating inputs only."""
    x = input
    a = x._data
    if nd == 1 and not return_indices:
        _check_max_pool1d(a, kernel_size, stride, padding, dilation, ceil_mode)
        if a.dtype.kind not in "fV":
            raise NotImplementedError(f'"max_pool1d_impl" not implemented for \'{_dtname(a)}\'')
    if nd == 2:
        if a.ndim not in (3, 4):
            raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
        k = _tuple(kernel_size, nd)
        s = k if stride is None or (not isinstance(stride, builtins.int) and len(stride) == 0) \
            else _tuple(stride, nd, "stride")
        p = _tuple(padding, nd, "padding")
        d = _tuple(dilation, nd, "dilation")
        shape = a.shape
    else:
        if a.ndim not in (2, 3):
            raise RuntimeError(f"Expected 2 to 3 dimensions, but got {a.ndim}-dimensional tensor "
                               f"for argument #1 'self' (while checking arguments for max_pool1d)")
        k = _ints1d(kernel_size, "kernel_size")
        s = _ints1d(() if stride is None else stride, "stride", True) or k
        p = _ints1d(padding, "padding")
        d = _ints1d(dilation, "dilation")
        k, s, p, d = (1,) + k, (1,) + s, (0,) + p, (1,) + d
        shape = a.shape[:-1] + (1,) + a.shape[-1:]
    x4, _ = _to4(x, nd, name)
    geo = _pool_geom(x4, k, s, p, d, ceil_mode, nd, shape, True)
    if a.dtype.kind not in "fViu":  # V: bfloat16
        raise NotImplementedError(f'"max_pool2d" not implemented for \'{_dtname(a)}\'')
    if nd == 1 and _rec(x):  # PyTorch's graph: Squeeze <- MaxPool2DWithIndices <- Unsqueeze
        r = max_pool2d(x.unsqueeze(-2), k, s, p, d, ceil_mode, return_indices)
        return (r[0].squeeze(-2), r[1].squeeze(-2)) if return_indices else r.squeeze(-2)
    m, tap = _maxpool_par(x4, geo)
    out = _make(_from4(m, a, nd))
    if _rec(x):
        n = R.MaxPool2DWithIndicesBackward0() if nd == 2 else R.MaxPool1DWithIndicesBackward0()
        n.tap, n.geo, n.nd = tap, geo, nd
        n.xshape = a.shape
        link(n, out, x)
    if return_indices:
        return out, _make(_from4(_flat_indices(tap, geo), a, nd))
    return out


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ---------------------------------------------------------------- average pooling
def _avg_divisor(geo, count_include_pad, divisor_override, dtype):
    if divisor_override:
        return dtype.type(divisor_override)

    def per_dim(n, o, k, s, p):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        size = end - start
        cs = np.maximum(start, 0)
        ce = np.minimum(end, n)
        return size, ce - cs
    sh_, ch = per_dim(geo.H, geo.Ho, geo.k[0], geo.s[0], geo.p[0])
    sw_, cw = per_dim(geo.W, geo.Wo, geo.k[1], geo.s[1], geo.p[1])
    div = (sh_[:, None] * sw_[None, :]) if count_include_pad else (ch[:, None] * cw[None, :])
    if np.all(div == div.flat[0]):
        return dtype.type(div.flat[0])
    return div.astype(dtype)


def _avg_fwd_arr(x4, geo, div):
    Ho, Wo = geo.Ho, geo.Wo
    taps = _phase_taps(geo)
    planes = _phase_planes(x4, geo, taps, 0)
    ph, r0, c0 = taps[0]
    acc = planes[ph][:, :, r0:r0 + Ho, c0:c0 + Wo].copy()
    for ph, r0, c0 in taps[1:]:
        acc += planes[ph][:, :, r0:r0 + Ho, c0:c0 + Wo]
    if acc.dtype.kind in "iu":  # C++ integer division truncates toward zero
        xp = np if type(acc) is np.ndarray else _xp_of(acc)
        q = xp.abs(acc) // div
        return xp.where(acc < 0, -q, q).astype(acc.dtype)
    acc /= div
    return acc


def _avg_adj_arr(g4, geo, div):
    gd = g4 / div
    N, C = g4.shape[:2]
    kh, kw = geo.k
    if geo.Hp == geo.H and geo.Wp == geo.W and geo.s == geo.k and \
            geo.H == geo.Ho * kh and geo.W == geo.Wo * kw:
        return _contig(np.broadcast_to(
            gd[:, :, :, None, :, None], (N, C, geo.Ho, kh, geo.Wo, kw))).reshape(
            N, C, geo.H, geo.W)
    Ho, Wo = geo.Ho, geo.Wo
    taps = _phase_taps(geo)
    planes = _phase_zeros(geo, taps, N, C, g4.dtype, _xp(g4))
    for ph, r0, c0 in taps:
        planes[ph][:, :, r0:r0 + Ho, c0:c0 + Wo] += gd
    return _unphase(planes, geo, N, C, g4.dtype)


def _avg_op(x, geo, div, nd, node_cls):
    a = x._data
    r = _make(_from4(_avg_fwd_arr(_reshape4(a, nd), geo, div), a, nd))
    if _rec(x):
        n = node_cls()
        n.geo, n.div, n.nd, n.xshape = geo, div, nd, a.shape
        link(n, r, x)
    return r


def _avg_adj_op(g, geo, div, nd, xshape):
    r = _make(_avg_adj_arr(_reshape4(g._data, nd), geo, div).reshape(xshape))
    if _rec(g):
        n = R.AvgPoolAdjointBackward()
        n.geo, n.div, n.nd = geo, div, nd
        link(n, r, g)
    return r


def _reshape4(a, nd):
    """A pool's (N, C, H, W) / (C, H, W) / (N, C, L) / (C, L) array as (N, C, H, W)."""
    if nd == 1:
        a = a[..., None, :]
    return a[None] if a.ndim == 3 else a


def _avg_pool(name, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    x = input
    a = x._data
    if a.dtype.kind == "V":  # bfloat16: float32 accumulation, one rounding
        from ._core import via_f32
        return via_f32(lambda t: _avg_pool(name, nd, t, kernel_size, stride, padding, ceil_mode,
                                           count_include_pad, divisor_override), x)
    if a.ndim not in (nd + 1, nd + 2):
        if nd == 2:
            raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
        raise RuntimeError(f"avg_pool1d() Expected 2D or 3D input tensor, but got "
                           f"{list(a.shape)}")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    k = _tuple(kernel_size, nd)
    s = k if stride is None or (not isinstance(stride, builtins.int) and len(stride) == 0) \
        else _tuple(stride, nd, "stride")
    p = _tuple(padding, nd, "padding")
    d = (1,) * nd
    if nd == 1:
        k, s, p, d = (1,) + k, (1,) + s, (0,) + p, (1,) + d
    x4, _ = _to4(x, nd, name)
    geo = _pool_geom(x4, k, s, p, d, ceil_mode, nd,
                     a.shape if nd == 2 else a.shape[:-1] + (1,) + a.shape[-1:])
    if a.dtype.kind not in "fV" and a.dtype != np.int64:  # PyTorch pools Long (truncating)
        raise NotImplementedError(f'"avg_pool2d" not implemented for \'{_dtname(a)}\'')
    if nd == 1 and _rec(x):  # PyTorch's graph: Squeeze <- AvgPool2D <- Unsqueeze
        return avg_pool2d(x.unsqueeze(-2), k, s, p, ceil_mode, count_include_pad,
                          divisor_override).squeeze(-2)
    div = _avg_divisor(geo, count_include_pad, divisor_override, a.dtype)
    if type(a) is not np.ndarray and type(div) is np.ndarray:  # CuPy: divisors on the device
        div = _xp(a).asarray(div)
    out = _from4(_avg_fwd_arr(x4, geo, div), a, nd)
    r = _make(out)
    if _rec(x):
        n = R.AvgPool2DBackward0() if nd == 2 else R.AvgPool1DBackward0()
        n.geo, n.div, n.nd, n.xshape = geo, div, nd, a.shape
        link(n, r, x)
    return r


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


# ---------------------------------------------------------------- separable linear maps
def _sep_arr(a, mats):
    """Apply matrices (out_i, in_i) to the last len(mats) axes of a."""
    k = len(mats)
    for i, m in enumerate(mats):
        ax = a.ndim - k + i
        if ax == a.ndim - 1:
            a = a @ m.T
        else:
            a = np.moveaxis(np.moveaxis(a, ax, -1) @ m.T, -1, ax)
    return _contig(a)


def _sep_op(x, mats, node_cls):
    if x._data.dtype.kind == "V":  # bfloat16: float32 accumulation, one rounding
        from ._core import via_f32
        return via_f32(lambda t: _sep_op(t, mats, node_cls), x)
    mats = [m.astype(x._data.dtype, copy=False) for m in mats]
    if type(x._data) is not np.ndarray:  # CuPy: the matrices on the device too
        mats = [_xp(x._data).asarray(m) for m in mats]
    r = _make(_sep_arr(x._data, mats))
    if _rec(x):
        n = node_cls()
        n.mats = mats
        link(n, r, x)
    return r


def _adaptive_avg_matrix(n, o):
    m = np.zeros((o, n))
    for i in range(o):
        s = (i * n) // o
        e = -((-(i + 1) * n) // o)
        m[i, s:e] = 1.0 / (e - s)
    return m


def _check_dtype(name, a):
    if a.dtype.kind not in "fV":
        raise NotImplementedError(f'"{name}" not implemented for \'{_dtname(a)}\'')


def _check_adaptive(name, x, nd, osz, dtype=True):
    a = x._data
    if a.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got "
                           f"{list(a.shape)}")
    for i in range(1, a.ndim):
        if a.shape[i] == 0 and i >= a.ndim - nd:
            raise RuntimeError(
                f"{name}(): Expected input to have non-zero size for non-batch dimensions, "
                f"but input has sizes {list(a.shape)} with dimension {i} being empty")
    if dtype:
        _check_dtype(name.replace("1d", "2d"), a)


def _adaptive_size(output_size, sp, nd):
    if isinstance(output_size, (builtins.int, np.integer)):
        output_size = (builtins.int(output_size),) * nd
    output_size = tuple(sp[i] if v is None else builtins.int(v)
                        for i, v in enumerate(output_size))
    if len(output_size) != nd:
        raise RuntimeError(f"adaptive_avg_pool{nd}d: output_size must be {nd}")
    return output_size


def adaptive_avg_pool2d(input, output_size):
    _check_adaptive("adaptive_avg_pool2d", input, 2, output_size, False)
    sp = input.shape[-2:]
    oh, ow = _adaptive_size(output_size, sp, 2)
    if oh == 1 and ow == 1:  # PyTorch takes the mean here (any dtype mean takes)
        return input.mean((-2, -1), keepdim=True)
    _check_dtype("adaptive_avg_pool2d", input._data)
    return _sep_op(input, [_adaptive_avg_matrix(sp[0], oh), _adaptive_avg_matrix(sp[1], ow)],
                   R.AdaptiveAvgPool2DBackward0)


def adaptive_avg_pool3d(input, output_size):
    _check_adaptive("adaptive_avg_pool3d", input, 3, output_size, False)
    sp = input.shape[-3:]
    osz = _adaptive_size(output_size, sp, 3)
    if osz == (1, 1, 1):
        return input.mean((-3, -2, -1), keepdim=True)
    _check_dtype("adaptive_avg_pool3d_cpu", input._data)
    return _sep_op(input, [_adaptive_avg_matrix(sp[i], osz[i]) for i in range(3)],
                   R.AdaptiveAvgPool3DBackward0)


def adaptive_avg_pool1d(input, output_size):
    _check_adaptive("adaptive_avg_pool1d", input, 1, output_size, False)
    (o,) = _adaptive_size(output_size, input.shape[-1:], 1)
    if o == 1 or _rec(input):  # PyTorch's graph: Squeeze <- AdaptiveAvgPool2D / Mean <- Unsqueeze
        return adaptive_avg_pool2d(input.unsqueeze(-2), (1, o)).squeeze(-2)
    _check_dtype("adaptive_avg_pool2d", input._data)
    return _sep_op(input, [_adaptive_avg_matrix(input.shape[-1], o)],
                   R.AdaptiveAvgPool1DBackward0)


# ---------------------------------------------------------------- adaptive max pooling
def _adaptive_max_arrays(x4, oh, ow):
    N, C, H, W = x4.shape
    out = _xp(x4).empty((N, C, oh, ow), dtype=x4.dtype)
    idx = _xp(x4).empty((N, C, oh, ow), dtype=np.int64)
    for i in range(oh):
        hs, he = (i * H) // oh, -((-(i + 1) * H) // oh)
        for j in range(ow):
            ws, we = (j * W) // ow, -((-(j + 1) * W) // ow)
            win = x4[:, :, hs:he, ws:we].reshape(N, C, -1)
            am = np.argmax(win, axis=-1)
            nanm = np.isnan(win)
            if nanm.any():
                am = np.where(nanm.any(-1), np.argmax(nanm, axis=-1), am)
            out[:, :, i, j] = np.take_along_axis(win, am[..., None], -1)[..., 0]
            ww = we - ws
            idx[:, :, i, j] = (hs + am // ww) * W + ws + am % ww
    return out, idx


def _idx_scatter(g, idx, xshape, nd, node_cls=None, assign=False):
    """Adjoint of gathering each plane of x (its last nd dims flattened) at idx (assign=True:
    max_unpool's forward, where a repeated index keeps the last value)."""
    ga = g._data
    HW = builtins.int(np.prod(xshape[-nd:]))
    planes = builtins.int(np.prod(xshape)) // HW
    flat_idx = idx.reshape(planes, -1) + (_xp(idx).arange(planes, dtype=np.int64) * HW)[:, None]
    if assign:
        r = _xp(ga).zeros(planes * HW, dtype=ga.dtype)
        r[flat_idx.ravel()] = ga.reshape(-1)
        r = r.reshape(xshape)
    else:
        r = np.bincount(flat_idx.ravel(), weights=ga.reshape(-1).astype(np.float64),
                        minlength=planes * HW).astype(ga.dtype).reshape(xshape)
    res = _make(r)
    if _rec(g):
        n = (node_cls or R.IndexScatterBackward)()
        n.idx, n.oshape, n.nd = idx, ga.shape, nd
        link(n, res, g)
    return res


def _idx_gather(h, idx, oshape, nd):
    ha = h._data
    HW = builtins.int(np.prod(ha.shape[-nd:]))
    planes = ha.size // HW
    r = np.take_along_axis(ha.reshape(planes, HW), idx.reshape(planes, -1), 1).reshape(oshape)
    res = _make(r)
    if _rec(h):
        n = R.IndexGatherBackward()
        n.idx, n.xshape, n.nd = idx, ha.shape, nd
        link(n, res, h)
    return res


def _adaptive_max(name, nd, input, output_size, return_indices):
    _check_adaptive(name, input, nd, output_size)
    a = input._data
    x4, _ = _to4(input, nd, name)
    if nd == 2:
        oh, ow = _adaptive_size(output_size, a.shape[-2:], 2)
    else:
        oh, (ow,) = 1, _adaptive_size(output_size, a.shape[-1:], 1)
    if nd == 1 and _rec(input):  # PyTorch's graph: Squeeze <- AdaptiveMaxPool2D <- Unsqueeze
        r = adaptive_max_pool2d(input.unsqueeze(-2), (1, ow), return_indices)
        return (r[0].squeeze(-2), r[1].squeeze(-2)) if return_indices else r.squeeze(-2)
    m, idx = _adaptive_max_arrays(x4, oh, ow)
    out = _make(_from4(m, a, nd))
    idx_u = _from4(idx, a, nd)
    if _rec(input):
        n = R.AdaptiveMaxPool2DBackward0() if nd == 2 else R.AdaptiveMaxPool1DBackward0()
        n.idx, n.xshape, n.nd = idx_u, a.shape, nd
        link(n, out, input)
    if return_indices:
        return out, _make(idx_u)
    return out


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, True)


# ---------------------------------------------------------------- lp pool, max unpool
def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    kh, kw = _tuple(kernel_size, 2)
    out = avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kw * kh).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    out = avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kernel_size).pow(1.0 / norm_type)


def _max_unpool(nd, input, indices, kernel_size, stride, padding, output_size):
    a = input._data
    idx = indices._data
    k = _tuple(kernel_size, nd)
    s = k if stride is None else _tuple(stride, nd, "stride")
    p = _tuple(padding, nd, "padding")
    sp = a.shape[-nd:]
    default = tuple((sp[i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(nd))
    if output_size is None:
        osz = default
    else:
        osz = tuple(builtins.int(v) for v in output_size)[-nd:]
        for i in range(nd):
            lo, hi = default[i] - s[i], default[i] + s[i]
            if not lo < osz[i] < hi:
                raise ValueError(
                    f"invalid output_size \"{list(output_size)}\" (dim {i} must be between "
                    f"{lo} and {hi})")
    if idx.shape != a.shape:
        raise RuntimeError(
            f"Expected shape of indices to be same as that of the input tensor ({list(a.shape)})"
            f" but got indices tensor with shape: {list(idx.shape)}")
    if idx.dtype != np.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: "
                           f"{D.from_np(idx.dtype).name.capitalize()}")
    if a.dtype.kind not in "fV":
        raise NotImplementedError(f'"max_unpool2d" not implemented for \'{_dtname(a)}\'')
    size = builtins.int(np.prod(osz))
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        bad = builtins.int(idx.max() if idx.max() >= size else idx.min())
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{'x'.join(map(str, osz))})")
    xshape = a.shape[:-nd] + osz
    return _idx_scatter(input, idx, xshape, nd,
                        R.MaxUnpool2DBackward0 if nd == 2 else R.MaxUnpool1DBackward0, True)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


# ---------------------------------------------------------------- affine grid
def _base_axis(n, align_corners):
    if n <= 1:
        return np.zeros(max(n, 0))
    v = np.linspace(-1.0, 1.0, n)
    return v if align_corners else v * (n - 1) / n


def affine_grid(theta, size, align_corners=None):
    if align_corners is None:
        align_corners = False
    size = [builtins.int(v) for v in size]
    t = theta._data
    if t.dtype.kind not in "fV":
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) == 4:
        if t.ndim != 3 or t.shape[1:] != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{list(size)}. Got {list(t.shape)}.")
        N, _, H, W = size
        xs, ys = _base_axis(W, align_corners), _base_axis(H, align_corners)
        base = np.stack(np.broadcast_arrays(xs[None, :], ys[:, None], np.ones((H, W))), -1)
        base = base.reshape(1, H * W, 3)
        out_shape = (N, H, W, 2)
    elif len(size) == 5:
        if t.ndim != 3 or t.shape[1:] != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{list(size)}. Got {list(t.shape)}.")
        N, _, Dd, H, W = size
        xs, ys, zs = (_base_axis(W, align_corners), _base_axis(H, align_corners),
                      _base_axis(Dd, align_corners))
        base = np.stack(np.broadcast_arrays(xs[None, None, :], ys[None, :, None],
                                            zs[:, None, None], np.ones((Dd, H, W))), -1)
        base = base.reshape(1, Dd * H * W, 4)
        out_shape = (N, Dd, H, W, 3)
    else:
        raise NotImplementedError(
            f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
            f"respectively. Got size {list(size)}.")
    if builtins.min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {list(size)}")
    if t.shape[0] != N:
        raise ValueError(f"Expected theta batch {t.shape[0]} to match size batch {N}")
    b = _make(base.astype(t.dtype)).to(theta.device)
    return b.matmul(theta.transpose(1, 2)).reshape(out_shape)


# ---------------------------------------------------------------- take along axes (pad, nearest)
def _runs(idx):
    """Split an index map into runs of step +1 / -1 / single:
    (out_start, out_stop, in_start, step)."""
    runs = []
    n = len(idx)
    a = 0
    while a < n:
        b = a + 1
        step = 0
        if b < n and idx[b] - idx[a] in (1, -1):
            step = builtins.int(idx[b] - idx[a])
            while b < n and idx[b] - idx[b - 1] == step:
                b += 1
        runs.append((a, b, builtins.int(idx[a]), step))
        a = b
    return runs


def _take_arr(a, maps):
    for ax, idx in maps:
        a = np.take(a, idx, axis=ax)
    return a


def _take_adj_arr(g, maps, xshape):
    """Adjoint of _take_arr: gradient summed back to the positions it was read from."""
    shapes = [xshape]
    s = list(xshape)
    for ax, idx in maps:
        s[ax] = len(idx)
        shapes.append(tuple(s))
    for (ax, idx), ishape in zip(reversed(maps), reversed(shapes[:-1])):
        n_in = ishape[ax]
        gm = np.moveaxis(g, ax, -1)
        if np.all(np.diff(idx) >= 0) and len(np.unique(idx)) < len(idx):
            uniq, starts = np.unique(idx, return_index=True)
            if type(gm) is not np.ndarray:  # CuPy: device indices
                starts = _xp(gm).asarray(starts)
            red = np.add.reduceat(gm, starts, axis=-1)
            if len(uniq) == n_in:
                out = red
            else:
                out = _xp(gm).zeros(gm.shape[:-1] + (n_in,), dtype=g.dtype)
                out[..., uniq] = red
        else:
            out = _xp(gm).zeros(gm.shape[:-1] + (n_in,), dtype=g.dtype)
            for a0, b0, i0, step in _runs(idx):
                if step == 1:
                    out[..., i0:i0 + (b0 - a0)] += gm[..., a0:b0]
                elif step == -1:
                    lo = i0 - (b0 - a0) + 1
                    out[..., lo:i0 + 1] += gm[..., a0:b0][..., ::-1]
                else:
                    out[..., i0] += gm[..., a0]
        g = np.moveaxis(out, -1, ax)
    return _contig(g)


def _take_op(x, maps, node_cls):
    r = _make(_take_arr(x._data, maps))
    if _rec(x):
        n = node_cls()
        n.maps, n.xshape = maps, x._data.shape
        link(n, r, x)
    return r


def _take_adj_op(g, maps, xshape):
    r = _make(_take_adj_arr(g._data, maps, xshape))
    if _rec(g):
        n = R.TakeAdjointBackward()
        n.maps = maps
        link(n, r, g)
    return r


# ---------------------------------------------------------------- pad
_PAD_HELP = ("Supported combinations for non-constant padding:\n"
             "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
             "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
             "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _constant_pad_arr(a, pads, value):
    nd = len(pads) // 2
    sl = [slice(None)] * a.ndim
    widths = [(0, 0)] * a.ndim
    for i in range(nd):
        ax = a.ndim - 1 - i
        lo, hi = pads[2 * i], pads[2 * i + 1]
        n = a.shape[ax]
        sl[ax] = slice(builtins.max(0, -lo), n - builtins.max(0, -hi))
        widths[ax] = (builtins.max(0, lo), builtins.max(0, hi))
    a = a[tuple(sl)]
    if builtins.any(w != (0, 0) for w in widths):
        out = _xp(a).full(tuple(a.shape[i] + widths[i][0] + widths[i][1] for i in range(a.ndim)),
                          value, dtype=a.dtype)
        out[tuple(slice(w[0], w[0] + a.shape[i]) for i, w in enumerate(widths))] = a
        return out
    return a.copy()


def _constant_pad_op(x, pads, value):
    r = _make(_constant_pad_arr(x._data, pads, value))
    if _rec(x):
        n = R.ConstantPadNdBackward0()
        n.pads = pads
        link(n, r, x)
    return r


def _pad_maps(shape, pads, mode):
    """Per padded axis, the source index of every output position."""
    maps = []
    nd = len(pads) // 2
    for i in range(nd):
        ax = len(shape) - 1 - i
        lo, hi = pads[2 * i], pads[2 * i + 1]
        n = shape[ax]
        j = np.arange(-lo, n + hi)
        if mode == "reflect":
            if n == 1:
                src = np.zeros_like(j)
            else:
                per = 2 * (n - 1)
                m = np.mod(j, per)
                src = np.where(m < n, m, per - m)
        elif mode == "replicate":
            src = np.clip(j, 0, n - 1)
        else:  # circular
            src = np.mod(j, n)
        maps.append((ax, src.astype(np.intp)))
    return maps


def pad(input, pad, mode="constant", value=None):
    x = input
    a = x._data
    pads = tuple(builtins.int(p) for p in pad)
    if len(pads) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pads) // 2 > a.ndim:
        raise RuntimeError(
            f"Padding length should be less than or equal to two times the input dimension but "
            f"got padding length {len(pads)} and input of dimension {a.ndim}")
    if mode == "constant":
        v = 0 if value is None else value
        out_shape = list(a.shape)
        for i in range(len(pads) // 2):
            ax = a.ndim - 1 - i
            out_shape[ax] += pads[2 * i] + pads[2 * i + 1]
            if out_shape[ax] < 0:
                raise RuntimeError(
                    f"The input size {a.shape[ax]}, plus negative padding {pads[2 * i]} and "
                    f"{pads[2 * i + 1]} resulted in a negative output size, which is invalid. "
                    f"Check dimension {ax} of your input.")
        return _constant_pad_op(x, pads, v)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    k = len(pads) // 2
    if not (k in (1, 2, 3) and a.ndim in (k + 1, k + 2)):
        raise NotImplementedError(
            f"Padding size {len(pads)} is not supported for {a.ndim}D input tensor.\n"
            + _PAD_HELP)
    if mode == "reflect":
        for i in range(k):
            ax = a.ndim - 1 - i
            if pads[2 * i] >= a.shape[ax] or pads[2 * i + 1] >= a.shape[ax]:
                raise RuntimeError(
                    f"Argument #4: Padding size should be less than the corresponding input "
                    f"dimension, but got: padding ({pads[2 * i]}, {pads[2 * i + 1]}) at "
                    f"dimension {ax} of input {list(a.shape)}")
    if mode == "circular":
        for i in range(k):
            ax = a.ndim - 1 - i
            if pads[2 * i] > a.shape[ax] or pads[2 * i + 1] > a.shape[ax]:
                raise RuntimeError("Padding value causes wrapping around more than once.")
    if mode == "replicate" and builtins.any(a.shape[a.ndim - 1 - i] == 0 for i in range(k)):
        raise RuntimeError("input tensor must be non-empty for replication padding")
    if builtins.any(q < 0 for q in pads):
        # negative pads crop first (PyTorch pads then narrows; equal for these modes' cores)
        crop = tuple(builtins.min(q, 0) for q in pads)
        x = _constant_pad_op(x, crop, 0)
        pads = tuple(builtins.max(q, 0) for q in pads)
        a = x._data
    maps = _pad_maps(a.shape, pads, mode)
    cls = {"reflect": (R.ReflectionPad1DBackward0, R.ReflectionPad2DBackward0,
                       R.ReflectionPad3DBackward0),
           "replicate": (R.ReplicationPad1DBackward0, R.ReplicationPad2DBackward0,
                         R.ReplicationPad3DBackward0),
           "circular": (R.CircularPadBackward,) * 3}[mode][k - 1]
    return _take_op(x, maps, cls)


# ---------------------------------------------------------------- interpolate
def _nearest_map(n, o, scale, exact):
    if o == n:
        return np.arange(o)
    s = np.float32(1.0 / scale) if scale else np.float32(n / o)
    j = np.arange(o, dtype=np.float32)
    if exact:
        src = np.floor((j + np.float32(0.5)) * s)
    else:
        src = np.floor(j * s)
    return np.minimum(src.astype(np.int64), n - 1).astype(np.intp)


def _linear_matrix(n, o, scale, align_corners):
    m = np.zeros((o, n))
    j = np.arange(o, dtype=np.float64)
    if align_corners:
        s = (n - 1) / (o - 1) if o > 1 else 0.0
        src = j * s
    else:
        s = (1.0 / scale) if scale else n / o
        src = np.maximum((j + 0.5) * s - 0.5, 0.0)
    i0 = np.floor(src).astype(np.int64)
    i0 = np.minimum(i0, n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    lam = src - i0
    lam = np.where(i1 == i0, 0.0, lam)
    m[np.arange(o), i0] += 1 - lam
    m[np.arange(o), i1] += lam
    return m


def _cubic_matrix(n, o, scale, align_corners, A=-0.75):
    """PyTorch's bicubic weights (Keys, A=-0.75; border taps clamped) as an (o, n) matrix."""
    m = np.zeros((o, n))
    j = np.arange(o, dtype=np.float64)
    if align_corners:
        src = j * ((n - 1) / (o - 1) if o > 1 else 0.0)
    else:
        s = (1.0 / scale) if scale else n / o
        src = (j + 0.5) * s - 0.5
    f = np.floor(src)
    t = src - f
    f = f.astype(np.int64)

    def c1(x):
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def c2(x):
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A
    ws = (c2(t + 1), c1(t), c1(1 - t), c2(2 - t))
    rows = np.arange(o)
    for k in range(4):
        np.add.at(m, (rows, np.clip(f - 1 + k, 0, n - 1)), ws[k])
    return m


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    x = input
    a = x._data
    if a.dtype.kind == "V" and mode not in ("nearest", "nearest-exact"):  # bfloat16: float32 math
        from ._core import via_f32
        return via_f32(interpolate, input, size, scale_factor, mode, align_corners,
                       recompute_scale_factor, antialias)
    nd = a.ndim - 2
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if align_corners is None:
        align_corners = False
    if nd < 1:
        raise ValueError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                         f"{a.ndim}D) for the modes: nearest | linear | bilinear | bicubic | "
                         f"trilinear | area | nearest-exact (got {mode})")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    sp = a.shape[2:]
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != nd:
                raise ValueError(
                    f"Input and output must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {list(sp)} and output size of "
                    f"{list(size)}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                    f"format and output size in (o1, o2, ...,oK) format.")
            osz = tuple(builtins.int(v) for v in size)
        else:
            osz = (builtins.int(size),) * nd
        scales = (None,) * nd
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != nd:
                raise ValueError(
                    f"Input and scale_factor must have the same number of spatial dimensions, "
                    f"but got input with spatial dimensions of {list(sp)} and scale_factor of "
                    f"shape {list(scale_factor)}. Please provide input tensor in (N, C, d1, "
                    f"d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
            sf = tuple(builtins.float(v) for v in scale_factor)
        else:
            sf = (builtins.float(scale_factor),) * nd
        osz = tuple(builtins.int(math.floor(builtins.float(sp[i]) * sf[i])) for i in range(nd))
        scales = (None,) * nd if recompute_scale_factor else sf
    else:
        raise ValueError("either size or scale_factor should be defined")
    if antialias:
        raise NotImplementedError("dagrad: interpolate(antialias=True) is not supported")
    if mode in ("nearest", "nearest-exact"):
        maps = [(2 + i, _nearest_map(sp[i], osz[i], scales[i], mode == "nearest-exact"))
                for i in range(nd)]
        cls = {1: R.UpsampleNearest1DBackward0, 2: R.UpsampleNearest2DBackward0,
               3: R.UpsampleNearest3DBackward0}[nd]
        if mode == "nearest-exact":
            cls = {1: R.UpsampleNearestExact1DBackward0, 2: R.UpsampleNearestExact2DBackward0,
                   3: R.UpsampleNearestExact3DBackward0}[nd]
        return _take_op(x, maps, cls)
    if mode == "area":
        if nd == 1:
            return adaptive_avg_pool1d(x, osz)
        if nd == 2:
            return adaptive_avg_pool2d(x, osz)
        return _sep_op(x, [_adaptive_avg_matrix(sp[i], osz[i]) for i in range(nd)],
                       R.AdaptiveAvgPool3DBackward0)
    want = {"linear": 1, "bilinear": 2, "trilinear": 3, "bicubic": 2}.get(mode)
    if want is None:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {a.ndim}D) for the "
            f"modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
            f"(got {mode})")
    if nd != want:
        raise NotImplementedError(f"Got {a.ndim}D input, but {mode} mode needs {want + 2}D input")
    if mode == "bicubic":
        mats = [_cubic_matrix(sp[i], osz[i], scales[i], align_corners) for i in range(nd)]
        return _sep_op(x, mats, R.UpsampleBicubic2DBackward0)
    mats = [_linear_matrix(sp[i], osz[i], scales[i], align_corners) for i in range(nd)]
    cls = {1: R.UpsampleLinear1DBackward0, 2: R.UpsampleBilinear2DBackward0,
           3: R.UpsampleTrilinear3DBackward0}[nd]
    return _sep_op(x, mats, cls)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)


# ---------------------------------------------------------------- unfold / fold
def _unfold_arr(x4, k, d, p, s, Ho, Wo):
    N, C, H, W = x4.shape
    mod = _xp(x4)
    xp = mod.zeros((N, C, H + 2 * p[0], W + 2 * p[1]), dtype=x4.dtype) if any(p) else x4
    if any(p):
        xp[:, :, p[0]:p[0] + H, p[1]:p[1] + W] = x4
    s0, s1, s2, s3 = xp.strides
    shape = (N, C, k[0], k[1], Ho, Wo)
    strides = (s0, s1, s2 * d[0], s3 * d[1], s2 * s[0], s3 * s[1])
    if mod is not np:  # CuPy: its own as_strided (NumPy's would copy to the host)
        return mod.lib.stride_tricks.as_strided(xp, shape, strides).reshape(
            N, C * k[0] * k[1], Ho * Wo)
    v = as_strided(xp, shape, strides, writeable=False)
    return v.reshape(N, C * k[0] * k[1], Ho * Wo)


def _fold_arr(c3, osz, k, d, p, s, Ho, Wo):
    N = c3.shape[0]
    C = c3.shape[1] // (k[0] * k[1])
    H, W = osz
    c = c3.reshape(N, C, k[0], k[1], Ho, Wo)
    out = _xp(c3).zeros((N, C, H + 2 * p[0], W + 2 * p[1]), dtype=c3.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            out[:, :, i * d[0]:i * d[0] + (Ho - 1) * s[0] + 1:s[0],
                j * d[1]:j * d[1] + (Wo - 1) * s[1] + 1:s[1]] += c[:, :, i, j]
    return _contig(out[:, :, p[0]:p[0] + H, p[1]:p[1] + W])


def _blocks(osz, k, d, p, s):
    return tuple((osz[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))


def _unfold_op(x, k, d, p, s):
    a = x._data
    unb = a.ndim == 3
    a4 = a[None] if unb else a
    Ho, Wo = _blocks(a4.shape[2:], k, d, p, s)
    r = _unfold_arr(a4, k, d, p, s, Ho, Wo)
    res = _make(r[0] if unb else r)
    if _rec(x):
        n = R.Im2ColBackward0()
        n.args = (k, d, p, s)
        n.osz = a4.shape[2:]
        link(n, res, x)
    return res


def _fold_op(c, osz, k, d, p, s):
    a = c._data
    unb = a.ndim == 2
    a3 = a[None] if unb else a
    Ho, Wo = _blocks(osz, k, d, p, s)
    r = _fold_arr(a3, osz, k, d, p, s, Ho, Wo)
    res = _make(r[0] if unb else r)
    if _rec(c):
        n = R.Col2ImBackward0()
        n.args = (k, d, p, s)
        link(n, res, c)
    return res


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    a = input._data
    if a.ndim not in (3, 4):
        raise NotImplementedError(
            f"Input Error: Only 3D or 4D input Tensors are supported (got {a.ndim}D)")
    k = _tuple(kernel_size, 2)
    d = _tuple(dilation, 2, "dilation")
    p = _tuple(padding, 2, "padding")
    s = _tuple(stride, 2, "stride")
    sp = a.shape[-2:]
    Ho, Wo = _blocks(sp, k, d, p, s)
    if Ho < 1 or Wo < 1:
        raise RuntimeError(
            f"Given input with spatial size ({sp[0]}, {sp[1]}), kernel_size=({k[0]}, {k[1]}), "
            f"dilation=({d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), calculated shape of the "
            f"array of sliding blocks as ({Ho}, {Wo}), but its components must be at least "
            f"one.")
    return _unfold_op(input, k, d, p, s)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    a = input._data
    if a.ndim not in (2, 3):
        raise NotImplementedError(
            f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
            f"(got {a.ndim}D)")
    osz = _tuple(output_size, 2, "output_size")
    k = _tuple(kernel_size, 2)
    d = _tuple(dilation, 2, "dilation")
    p = _tuple(padding, 2, "padding")
    s = _tuple(stride, 2, "stride")
    cdim = a.shape[-2]
    if cdim % (k[0] * k[1]):
        raise RuntimeError(
            f"Expected size of input's dimension 1 to be divisible by the product of "
            f"kernel_size, but got input.size(1)={cdim} and kernel_size=({k[0]}, {k[1]}).")
    Ho, Wo = _blocks(osz, k, d, p, s)
    if a.shape[-1] != Ho * Wo:
        raise RuntimeError(
            f"Given output_size=({osz[0]}, {osz[1]}), kernel_size=({k[0]}, {k[1]}), "
            f"dilation=({d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), stride=({s[0]}, {s[1]}), "
            f"expected size of input's dimension {a.ndim - 1} to match the calculated number "
            f"of sliding blocks {Ho} * {Wo} = {Ho * Wo}, but got input.size({a.ndim - 1})="
            f"{a.shape[-1]}.")
    return _fold_op(input, osz, k, d, p, s)


# ---------------------------------------------------------------- pixel (un)shuffle
def _shuffle_arr(a, r):
    *lead, C, H, W = a.shape
    c = C // (r * r)
    b = a.reshape(*lead, c, r, r, H, W)
    n = len(lead)
    b = b.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return _contig(b).reshape(*lead, c, H * r, W * r)


def _unshuffle_arr(a, r):
    *lead, C, H, W = a.shape
    b = a.reshape(*lead, C, H // r, r, W // r, r)
    n = len(lead)
    b = b.transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return _contig(b).reshape(*lead, C * r * r, H // r, W // r)


def _shuffle_op(x, r, up):
    res = _make((_shuffle_arr if up else _unshuffle_arr)(x._data, r))
    if _rec(x):
        n = R.PixelShuffleBackward0() if up else R.PixelUnshuffleBackward0()
        n.r = r
        link(n, res, x)
    return res


def pixel_shuffle(input, upscale_factor):
    a = input._data
    r = builtins.int(upscale_factor)
    if a.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {a.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    if a.shape[-3] % (r * r):
        raise RuntimeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor, but input.size(-3)={a.shape[-3]} is not divisible by "
            f"{r * r}")
    return _shuffle_op(input, r, True)


def pixel_unshuffle(input, downscale_factor):
    a = input._data
    r = builtins.int(downscale_factor)
    if a.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {a.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    if a.shape[-2] % r:
        raise RuntimeError(
            f"pixel_unshuffle expects height to be divisible by downscale_factor, but "
            f"input.size(-2)={a.shape[-2]} is not divisible by {r}")
    if a.shape[-1] % r:
        raise RuntimeError(
            f"pixel_unshuffle expects width to be divisible by downscale_factor, but "
            f"input.size(-1)={a.shape[-1]} is not divisible by {r}")
    return _shuffle_op(input, r, False)


# ---------------------------------------------------------------- grid_sample
def _gs_unnormalize(c, size, align_corners):
    if align_corners:
        return (c + 1) * ((size - 1) / 2)
    return ((c + 1) * size - 1) / 2


def _gs_reflect(c, twice_low, twice_high):
    if twice_low == twice_high:
        return c * 0
    mn = twice_low / 2
    span = (twice_high - twice_low) / 2
    c = (c - mn).abs()
    extra = c.fmod(span)
    flips = (c / span).floor()
    even = (flips.fmod(2) == 0)
    from .. import where
    return where(even, extra + mn, (extra * -1) + (span + mn))


def _gs_coords(c, size, padding_mode, align_corners):
    c = _gs_unnormalize(c, size, align_corners)
    if padding_mode == "border":
        c = c.clamp(0, size - 1)
    elif padding_mode == "reflection":
        if align_corners:
            c = _gs_reflect(c, 0, 2 * (size - 1))
        else:
            c = _gs_reflect(c, -1, 2 * size - 1)
        c = c.clamp(0, size - 1)
    return c


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """2-D grid_sample (bilinear / nearest; zeros / border / reflection padding), composed of
    differentiable Tensor ops (gather for the reads), so gradients reach input and grid."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if mode == "bicubic":
        raise NotImplementedError("dagrad: grid_sample(mode='bicubic') is not supported")
    if align_corners is None:
        align_corners = False
    a, gr = input._data, grid._data
    if a.ndim != 4:
        raise NotImplementedError("dagrad: grid_sample supports 4-D input only")
    if gr.ndim != 4 or gr.shape[-1] != 2 or gr.shape[0] != a.shape[0]:
        raise RuntimeError(
            f"grid_sampler(): expected grid to have size 2 in last dimension, but got grid with "
            f"sizes {list(gr.shape)}" if gr.ndim == 4 and gr.shape[-1] != 2 else
            f"grid_sampler(): expected grid and input to have same batch size, but got input "
            f"with sizes {list(a.shape)} and grid with sizes {list(gr.shape)}")
    N, C, H, W = a.shape
    Ho, Wo = gr.shape[1:3]
    ix = _gs_coords(grid[..., 0], W, padding_mode, align_corners)
    iy = _gs_coords(grid[..., 1], H, padding_mode, align_corners)
    flat = input.reshape(N, C, H * W)

    def read(xi, yi):
        """input at integer positions (arrays (N, Ho, Wo)); zero outside."""
        inside = (xi >= 0) & (xi <= W - 1) & (yi >= 0) & (yi <= H - 1)
        idx = (np.clip(yi, 0, H - 1) * W + np.clip(xi, 0, W - 1)).reshape(N, 1, Ho * Wo)
        v = flat.gather(2, _make(_contig(
            np.broadcast_to(idx, (N, C, Ho * Wo))).astype(np.int64)))
        m = _make(inside.reshape(N, 1, Ho * Wo).astype(a.dtype))
        return v * m

    if mode == "nearest":
        xn = np.round(ix._data).astype(np.int64)
        yn = np.round(iy._data).astype(np.int64)
        out = read(xn, yn).reshape(N, C, Ho, Wo)
        if grid._rg and grad_state.enabled:   # PyTorch gives grid a zero gradient here
            out = out + (ix * 0 + iy * 0).reshape(N, 1, Ho, Wo) * 0
        return out
    x0 = np.floor(ix._data).astype(np.int64)
    y0 = np.floor(iy._data).astype(np.int64)
    fx0 = _make(x0.astype(a.dtype))
    fy0 = _make(y0.astype(a.dtype))
    tx = (ix - fx0).reshape(N, 1, Ho * Wo)
    ty = (iy - fy0).reshape(N, 1, Ho * Wo)
    out = (read(x0, y0) * ((1 - tx) * (1 - ty)) + read(x0 + 1, y0) * (tx * (1 - ty))
           + read(x0, y0 + 1) * ((1 - tx) * ty) + read(x0 + 1, y0 + 1) * (tx * ty))
    return out.reshape(N, C, Ho, Wo)
