"""Convolutions (conv1d, conv2d, conv_transpose1d/2d), unfold/fold and pixel (un)shuffle.

Kernels work on NumPy arrays in float32/float64, always viewed as 2-D convolutions (1-D ones get
a height of 1). The input is moved once into a zero-padded channels-last (NHWC) buffer; the
im2col matrix is an `as_strided` view (G, N, Ho, Wo, kh, kw, Cg) of that buffer reshaped (one
copy) to (G, N, Ho*Wo, kh*kw*Cg), and the convolution is one batched GEMM that writes NCHW
directly. The weight gradient is one GEMM over the same columns; the input gradient is a GEMM
followed by col2im as kh*kw shifted strided adds. 1x1 convolutions are plain NCHW GEMMs.
3x3 stride-1 convolutions with enough channels and outputs use Winograd F(2x2, 3x3) for all
three (see the Winograd section); CuPy and other array modules use the generic `_gen_*` loops.

Three differentiable primitives, all bilinear, make double backward work:
  conv(x, w)            y = x * w                      (node ConvolutionBackward0)
  conv_tin(g, w)        the input gradient of conv = transposed convolution
  conv_tw(x, g)         the weight gradient of conv
and each one's gradients are written with the other two.
"""
import builtins

from numpy.lib.stride_tricks import as_strided

from . import derivatives as R
from ._core import D, Tensor, _make, grad_state, link, np, save

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d"]


# ---------------------------------------------------------------- parameters
class _P:
    """Convolution geometry in 2-D form (1-D convolutions use height 1)."""
    __slots__ = ("stride", "pad", "dil", "groups", "nd")

    def __init__(self, stride, pad, dil, groups, nd):
        self.stride = stride      # (sh, sw)
        self.pad = pad            # (top, bottom, left, right)
        self.dil = dil            # (dh, dw)
        self.groups = groups
        self.nd = nd              # 1 or 2 spatial dims of the user-facing tensors

    def out_hw(self, H, W, kh, kw):
        sh, sw = self.stride
        t, b, l, r = self.pad
        dh, dw = self.dil
        return ((H + t + b - dh * (kh - 1) - 1) // sh + 1,
                (W + l + r - dw * (kw - 1) - 1) // sw + 1)


def _tuple(v, n, name="value"):
    if isinstance(v, (builtins.int, np.integer)):
        return (builtins.int(v),) * n
    v = tuple(builtins.int(a) for a in v)
    if len(v) == 1 and n > 1:
        return v * n
    if len(v) != n:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} "
                           f"values to match the convolution dimensions, but got {name}="
                           f"{list(v)}")
    return v


def _as4(a, nd):
    """Array of a 1-D conv (N, C, L) viewed as (N, C, 1, L)."""
    return a[:, :, None, :] if nd == 1 else a


def _from4(a, nd):
    return a[:, :, 0, :] if nd == 1 else a


# ---------------------------------------------------------------- array kernels
def _padded_nhwc(x, p, kh, kw, Ho, Wo):
    """x (N, C, H, W) -> zero-padded (N, Hp, Wp, C) covering every window."""
    N, C, H, W = x.shape
    t, b, l, r = p.pad
    sh, sw = p.stride
    dh, dw = p.dil
    Hp = builtins.max(H + t + b, (Ho - 1) * sh + dh * (kh - 1) + 1)
    Wp = builtins.max(W + l + r, (Wo - 1) * sw + dw * (kw - 1) + 1)
    xh = x.transpose(0, 2, 3, 1)
    if Hp == H and Wp == W and t == 0 and l == 0:
        return np.ascontiguousarray(xh)
    xp = np.empty((N, Hp, Wp, C), dtype=x.dtype)
    # zero only the border, then copy the interior once
    if t:
        xp[:, :t] = 0
    if Hp > t + H:
        xp[:, t + H:] = 0
    if l:
        xp[:, t:t + H, :l] = 0
    if Wp > l + W:
        xp[:, t:t + H, l + W:] = 0
    xp[:, t:t + H, l:l + W] = xh
    return xp


_CHUNK = 1 << 20      # bytes of im2col columns built at a time (stays in cache for the GEMM)
_TMP = 1 << 20        # bytes of one shifted-GEMM result in the input gradient


def _nb(N, per_image, target):
    return builtins.max(1, builtins.min(N, target // builtins.max(1, per_image)))


def _cols(xp, n0, n1, c0, c1, p, kh, kw, Ho, Wo, h0=0, h1=None):
    """im2col of images n0:n1, output rows h0:h1, channels c0:c1 of the padded NHWC buffer:
    (nb*rows*Wo, kh*kw*Cg)."""
    sh, sw = p.stride
    dh, dw = p.dil
    h1 = Ho if h1 is None else h1
    v = xp[n0:n1, h0 * sh:, :, c0:c1]
    s0, s1, s2, s3 = v.strides
    c = as_strided(v, (n1 - n0, h1 - h0, Wo, kh, kw, c1 - c0),
                   (s0, s1 * sh, s2 * sw, s1 * dh, s2 * dw, s3), writeable=False)
    return c.reshape((n1 - n0) * (h1 - h0) * Wo, kh * kw * (c1 - c0))


def _blocks(N, Ho, Wo, K, itemsize):
    """(n0, n1, h0, h1) pieces whose columns stay near _CHUNK bytes: whole images grouped when
    small, row bands of one image when one image's columns are bigger."""
    per_row = Wo * K * itemsize
    if Ho * per_row <= _CHUNK:
        nb = _nb(N, Ho * per_row, _CHUNK)
        return [(n0, builtins.min(N, n0 + nb), 0, Ho) for n0 in range(0, N, nb)]
    rows = builtins.max(1, _CHUNK // per_row)
    return [(n, n + 1, h0, builtins.min(Ho, h0 + rows)) for n in range(N)
            for h0 in range(0, Ho, rows)]


def _is_pointwise(p, kh, kw):
    return kh == 1 and kw == 1 and not any(p.pad)


def _wmat(w, G):
    """Weight (O, Cg, kh, kw) -> (G, Og, kh*kw*Cg) matching the column order."""
    O, Cg, kh, kw = w.shape
    if kh == 1 and kw == 1:
        return w.reshape(G, O // G, Cg)
    return w.reshape(G, O // G, Cg, kh, kw).transpose(0, 1, 3, 4, 2).reshape(G, O // G, -1)


def _hw_padded(p, H, W, kh, kw, Ho, Wo):
    t, b, l, r = p.pad
    sh, sw = p.stride
    dh, dw = p.dil
    return (builtins.max(H + t + b, (Ho - 1) * sh + dh * (kh - 1) + 1),
            builtins.max(W + l + r, (Wo - 1) * sw + dw * (kw - 1) + 1))


def _shifted(p, i, j, Ho, Wo):
    """Index of the padded-buffer positions tap (i, j) reads for every output position."""
    sh, sw = p.stride
    dh, dw = p.dil
    return (slice(i * dh, i * dh + (Ho - 1) * sh + 1, sh),
            slice(j * dw, j * dw + (Wo - 1) * sw + 1, sw))


# small spatial size, many channels (deep layers): the weight outweighs the columns, so the
# columns take PyTorch's (C, kh, kw) order and the weight is used as stored, never transposed
def _small(p, G, M, O, kh, kw):
    return G == 1 and kh * kw > 1 and M < O


def _padded_nchw(x, p, kh, kw, Ho, Wo):
    """x zero-padded to the extent the windows read (x itself when none is needed)."""
    N, C, H, W = x.shape
    t, b, l, r = p.pad
    Hp, Wp = _hw_padded(p, H, W, kh, kw, Ho, Wo)
    if Hp == H and Wp == W:
        return x
    xp = np.zeros((N, C, Hp, Wp), dtype=x.dtype)
    xp[:, :, t:t + H, l:l + W] = x
    return xp


def _cols_nchw(x, p, kh, kw, Ho, Wo):
    N, C = x.shape[:2]
    xp = _padded_nchw(x, p, kh, kw, Ho, Wo)
    s0, s1, s2, s3 = xp.strides
    sh, sw = p.stride
    dh, dw = p.dil
    v = as_strided(xp, (N, Ho, Wo, C, kh, kw),
                   (s0, s2 * sh, s3 * sw, s1, s2 * dh, s3 * dw), writeable=False)
    return v.reshape(N * Ho * Wo, C * kh * kw)


def _cols_km(x, p, kh, kw, Ho, Wo):
    """The columns of _cols_nchw transposed, (C*kh*kw, N*Ho*Wo), built in that order: the copy
    runs along output rows instead of 3-tap kernel rows (2.5x faster at 8x512x7x7)."""
    N, C = x.shape[:2]
    xp = _padded_nchw(x, p, kh, kw, Ho, Wo)
    s0, s1, s2, s3 = xp.strides
    sh, sw = p.stride
    dh, dw = p.dil
    v = as_strided(xp, (C, kh, kw, N, Ho, Wo),
                   (s1, s2 * dh, s3 * dw, s0, s2 * sh, s3 * sw), writeable=False)
    return v.reshape(C * kh * kw, N * Ho * Wo)


def _small_fwd(x, w, p, Ho, Wo):
    N = x.shape[0]
    O = w.shape[0]
    cols = _cols_km(x, p, w.shape[2], w.shape[3], Ho, Wo)
    # (O, K) @ (K, M): streams the weight row by row, 2x faster than (M, K) @ (K, O) at M = 4
    out = w.reshape(O, -1) @ cols                         # (O, M)
    if N == 1:
        return out.reshape(1, O, Ho, Wo)
    return np.ascontiguousarray(out.reshape(O, N, Ho, Wo).transpose(1, 0, 2, 3))


def _small_bwd_weight(x, g, p, kh, kw):
    N, O, Ho, Wo = g.shape
    gm = np.ascontiguousarray(g.reshape(N, O, Ho * Wo).transpose(1, 0, 2)).reshape(O, -1)
    if N * Ho * Wo >= 256:    # (ResNet18's 7x7 maps: 0.93x; at 64x64 px the (M, K) copy wins)
        return (gm @ _cols_km(x, p, kh, kw, Ho, Wo).T).reshape(O, x.shape[1], kh, kw)
    cols = _cols_nchw(x, p, kh, kw, Ho, Wo)
    return (gm @ cols).reshape(O, x.shape[1], kh, kw)


def _small_bwd_input(g, w, p, H, W):
    N, O, Ho, Wo = g.shape
    _, C, kh, kw = w.shape
    if N * Ho * Wo >= 256:
        # columns in (C, kh, kw, N, Ho, Wo) order: the kh*kw shifted adds run along output
        # rows instead of gathering every 9th value (ResNet18's 7x7 maps)
        gm = np.ascontiguousarray(g.reshape(N, O, Ho * Wo).transpose(1, 0, 2)).reshape(O, -1)
        dc = (w.reshape(O, -1).T @ gm).reshape(C, kh, kw, N, Ho, Wo)
        t, b, l, r = p.pad
        Hp, Wp = _hw_padded(p, H, W, kh, kw, Ho, Wo)
        dxp = np.zeros((C, N, Hp, Wp), dtype=g.dtype)
        for i in range(kh):
            for j in range(kw):
                si, sj = _shifted(p, i, j, Ho, Wo)
                dxp[:, :, si, sj] += dc[:, i, j]
        return np.ascontiguousarray(dxp[:, :, t:t + H, l:l + W].transpose(1, 0, 2, 3))
    gm = g.reshape(N, O, Ho * Wo).transpose(0, 2, 1).reshape(-1, O)
    dc = (gm @ w.reshape(O, -1)).reshape(N, Ho, Wo, C, kh, kw).transpose(0, 3, 1, 2, 4, 5)
    t, b, l, r = p.pad
    Hp, Wp = _hw_padded(p, H, W, kh, kw, Ho, Wo)
    dxp = np.zeros((N, C, Hp, Wp), dtype=g.dtype)
    for i in range(kh):
        for j in range(kw):
            si, sj = _shifted(p, i, j, Ho, Wo)
            dxp[:, :, si, sj] += dc[..., i, j]
    return np.ascontiguousarray(dxp[:, :, t:t + H, l:l + W])


def _conv_fwd_seq(x, w, p, keep=None):
    """conv(x, w) as (N, O, Ho, Wo); `keep` (a list) receives the padded NHWC buffer."""
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    G = p.groups
    Og = O // G
    Ho, Wo = p.out_hw(H, W, kh, kw)
    HW = Ho * Wo
    if Cg == 1 and G > 1 and kh * kw > 1:
        return _dw_fwd(x, w, p, Ho, Wo)
    if _wino_ok(p, N, G, kh, kw, Cg, O, Ho, Wo, x.dtype):
        return _wino_fwd(x, _wino_U(w, _WINO_M), O, p.pad, _WINO_M, Ho, Wo, keep)
    if _small(p, G, N * HW, O, kh, kw):
        return _small_fwd(x, w, p, Ho, Wo)
    wm = _wmat(w, G)                                   # (G, Og, K)
    if _is_pointwise(p, kh, kw):
        sh, sw = p.stride
        if sh != 1 or sw != 1:
            x = x[:, :, ::sh, ::sw][:, :, :Ho, :Wo]
        xs = x.reshape(N, G, Cg, HW)
        if G == 1:
            out = np.matmul(wm[0], xs[:, 0])           # (N, O, HW)
        else:
            out = np.matmul(wm, xs).reshape(N, O, HW)
        return out.reshape(N, O, Ho, Wo)
    xp = _padded_nhwc(x, p, kh, kw, Ho, Wo)
    if keep is not None:
        keep.append(xp)
    K = kh * kw * Cg
    out = np.empty((N, O, HW), dtype=x.dtype)
    blocks = _blocks(N, Ho, Wo, K, x.itemsize)
    for gi in range(G):
        wgT = wm[gi].T
        o0, o1 = gi * Og, (gi + 1) * Og
        for n0, n1, h0, h1 in blocks:
            cols = _cols(xp, n0, n1, gi * Cg, (gi + 1) * Cg, p, kh, kw, Ho, Wo, h0, h1)
            # (rows, K) @ (K, Og) is the faster GEMM orientation; transpose in cache after
            r = cols @ wgT
            out[n0:n1, o0:o1, h0 * Wo:h1 * Wo] = r.reshape(n1 - n0, -1, Og).transpose(0, 2, 1)
    return out.reshape(N, O, Ho, Wo)


def _flat_ok(p, G, Cg):
    """Stride-1 convolutions use flat shifted GEMMs over the padded buffer (no im2col)."""
    return p.stride == (1, 1) and Cg >= 16


def _gext(g, Hp, Wp):
    """g (N, O, Ho, Wo) -> (N*Hp*Wp, O) channels-last, zero outside the valid outputs."""
    N, O, Ho, Wo = g.shape
    ge = np.empty((N, Hp, Wp, O), dtype=g.dtype)
    if Hp > Ho:
        ge[:, Ho:] = 0
    if Wp > Wo:
        ge[:, :Ho, Wo:] = 0
    ge[:, :Ho, :Wo] = g.transpose(0, 2, 3, 1)
    return ge.reshape(-1, O)


def _conv_bwd_input_seq(g, w, p, H, W):
    """Input gradient of conv (= transposed convolution of g with w) for an input of H x W."""
    N, O, Ho, Wo = g.shape
    _, Cg, kh, kw = w.shape
    G = p.groups
    Og = O // G
    C = Cg * G
    if Cg == 1 and G > 1 and kh * kw > 1:
        return _dw_bwd_input(g, w, p, H, W)
    if _wino_ok(p, N, G, kh, kw, Cg, O, H, W, g.dtype) and builtins.max(p.pad) <= 2:
        # a 3x3 correlation of g, padded by 2 - pad, with the flipped, transposed kernel
        return _wino_fwd(g, _wino_U(w, _WINO_M, flip=True), C,
                         tuple(2 - q for q in p.pad), _WINO_M, H, W)
    if _small(p, G, N * Ho * Wo, O, kh, kw):
        return _small_bwd_input(g, w, p, H, W)
    if _is_pointwise(p, kh, kw):
        wm = _wmat(w, G)
        gs = g.reshape(N, G, Og, Ho * Wo)
        sh, sw = p.stride
        if G == 1:
            dx = np.matmul(wm[0].T, gs[:, 0])          # (N, C, HW)
        else:
            dx = np.matmul(wm.transpose(0, 2, 1), gs)  # (N, G, Cg, HW)
        dx = dx.reshape(N, C, Ho, Wo)
        if sh == 1 and sw == 1 and Ho == H and Wo == W:
            return dx
        full = np.zeros((N, C, H, W), dtype=g.dtype)
        full[:, :, :(Ho - 1) * sh + 1:sh, :(Wo - 1) * sw + 1:sw] = dx
        return full
    t, b, l, r = p.pad
    Hp, Wp = _hw_padded(p, H, W, kh, kw, Ho, Wo)
    if _flat_ok(p, G, Cg):
        # row r of the flat padded buffer receives ge[r - offset(i, j)] @ w[:, :, i, j]
        # Images are taken a few at a time (~1 MB of rows) so tmp and dxf stay in cache; a
        # valid output's shifted row never leaves its own image, so chunks are independent.
        ge = _gext(g, Hp, Wp)
        T = ge.shape[0]
        dxf = np.zeros((T, C), dtype=g.dtype)
        P = Hp * Wp
        nb = _nb(N, P * builtins.max(C, O) * g.itemsize, _CHUNK)
        tmp = np.empty((nb * P, Cg), dtype=g.dtype)
        dh, dw = p.dil
        wt = [[[np.ascontiguousarray(w[gi * Og:(gi + 1) * Og, :, i, j]) for j in range(kw)]
               for i in range(kh)] for gi in range(G)]
        for n0 in range(0, N, nb):
            R0, R1 = n0 * P, builtins.min(N, n0 + nb) * P
            for gi in range(G):
                c0, c1 = gi * Cg, (gi + 1) * Cg
                a = ge[R0:R1, gi * Og:(gi + 1) * Og]
                for i in range(kh):
                    for j in range(kw):
                        o = i * dh * Wp + j * dw
                        L = R1 - R0 - o
                        np.matmul(a[:L], wt[gi][i][j], out=tmp[:L])
                        if G == 1:
                            dxf[R0 + o:R1] += tmp[:L]
                        else:
                            dxf[R0 + o:R1, c0:c1] += tmp[:L]
        return np.ascontiguousarray(
            dxf.reshape(N, Hp, Wp, C)[:, t:t + H, l:l + W].transpose(0, 3, 1, 2))
    gT = np.ascontiguousarray(g.transpose(0, 2, 3, 1))   # (N, Ho, Wo, O)
    dxp = np.zeros((N, Hp, Wp, C), dtype=g.dtype)
    HW = Ho * Wo
    fused = Cg >= 32
    if fused:
        # kh*kw GEMMs (rows, Og) @ (Og, Cg), each added at its shifted place
        wst = w.reshape(G, Og, Cg, kh, kw).transpose(0, 3, 4, 1, 2)   # (G, kh, kw, Og, Cg)
        nb = _nb(N, HW * Cg * g.itemsize, _TMP)
    else:
        wm = _wmat(w, G)                                              # (G, Og, K)
        nb = _nb(N, HW * kh * kw * Cg * g.itemsize, _CHUNK)
    for gi in range(G):
        c0, c1 = gi * Cg, (gi + 1) * Cg
        for n0 in range(0, N, nb):
            n1 = builtins.min(N, n0 + nb)
            a = gT[n0:n1, :, :, gi * Og:(gi + 1) * Og].reshape(-1, Og)
            d = dxp[n0:n1, :, :, c0:c1]
            if fused:
                tmp = np.empty((a.shape[0], Cg), dtype=g.dtype)
                for i in range(kh):
                    for j in range(kw):
                        np.matmul(a, wst[gi, i, j], out=tmp)
                        si, sj = _shifted(p, i, j, Ho, Wo)
                        d[:, si, sj] += tmp.reshape(n1 - n0, Ho, Wo, Cg)
            else:
                dc = (a @ wm[gi]).reshape(n1 - n0, Ho, Wo, kh, kw, Cg)
                for i in range(kh):
                    for j in range(kw):
                        si, sj = _shifted(p, i, j, Ho, Wo)
                        d[:, si, sj] += dc[:, :, :, i, j]
    return np.ascontiguousarray(dxp[:, t:t + H, l:l + W].transpose(0, 3, 1, 2))


def _conv_bwd_weight_seq(x, g, p, kh, kw, xp=None):
    """Weight gradient (O, Cg, kh, kw) of conv(x, w) for output gradient g (xp: x's padded
    channels-last buffer when the forward kept it)."""
    N, C, H, W = x.shape
    _, O, Ho, Wo = g.shape
    G = p.groups
    Cg = C // G
    Og = O // G
    HW = Ho * Wo
    if Cg == 1 and G > 1 and kh * kw > 1:
        return _dw_bwd_weight(x, g, p, kh, kw)
    if _wino_ok(p, N, G, kh, kw, Cg, O, Ho, Wo, x.dtype):
        return _wino_bwd_weight(x, g, p.pad, _WINO_M, xp)
    if _small(p, G, N * HW, O, kh, kw):
        return _small_bwd_weight(x, g, p, kh, kw)
    if _is_pointwise(p, kh, kw):
        gs = g.reshape(N, G, Og, HW)
        sh, sw = p.stride
        if sh != 1 or sw != 1:
            x = x[:, :, ::sh, ::sw][:, :, :Ho, :Wo]
        xs = x.reshape(N, G, Cg, HW)
        if G == 1:
            dw = _bsum(gs[:, 0], xs[:, 0].transpose(0, 2, 1))   # (O, C)
        else:
            dw = np.matmul(gs, xs.transpose(0, 1, 3, 2)).sum(0)  # (G, Og, Cg)
        return dw.reshape(O, Cg, 1, 1)
    if xp is None or isinstance(xp, _WinoBuf):     # (a Winograd forward's buffer: not ours)
        xp = _padded_nhwc(x, p, kh, kw, Ho, Wo)
    if _flat_ok(p, G, Cg):
        # dW[:, :, i, j] = (flat buffer shifted by offset(i, j))^T @ ge: no im2col copy
        Hp, Wp = xp.shape[1:3]
        ge = _gext(g, Hp, Wp)
        xf = xp.reshape(-1, C)
        dh, dw_ = p.dil
        # (O, kh, kw, Cg) written tap by tap (row-strided GEMM output), then one transpose
        # whose inner loops run over kh*kw, 3x cheaper than from a (kh, kw, Cg, O) layout
        # chunks of ~1 MB of rows (cache-resident across the kh*kw taps), summed
        res = np.zeros((O, kh, kw, Cg), dtype=x.dtype)
        P = Hp * Wp
        nb = _nb(N, P * builtins.max(C, O) * x.itemsize, _CHUNK)
        tmp = np.empty((Og, Cg), dtype=x.dtype)
        for n0 in range(0, N, nb):
            R0, R1 = n0 * P, builtins.min(N, n0 + nb) * P
            for gi in range(G):
                a = ge[R0:R1, gi * Og:(gi + 1) * Og]
                for i in range(kh):
                    for j in range(kw):
                        o = i * dh * Wp + j * dw_
                        np.matmul(a[:R1 - R0 - o].T, xf[R0 + o:R1, gi * Cg:(gi + 1) * Cg],
                                  out=tmp)
                        res[gi * Og:(gi + 1) * Og, i, j] += tmp
        return np.ascontiguousarray(res.transpose(0, 3, 1, 2))
    K = kh * kw * Cg
    dw = np.zeros((G, Og, K), dtype=x.dtype)
    g3 = g.reshape(N, O, HW)
    for gi in range(G):
        for n0, n1, h0, h1 in _blocks(N, Ho, Wo, K, x.itemsize):
            cols = _cols(xp, n0, n1, gi * Cg, (gi + 1) * Cg, p, kh, kw, Ho, Wo, h0, h1)
            gg = g3[n0:n1, gi * Og:(gi + 1) * Og, h0 * Wo:h1 * Wo]
            if n1 - n0 == 1:
                dw[gi] += gg[0] @ cols
            else:
                dw[gi] += np.ascontiguousarray(gg.transpose(1, 0, 2)).reshape(Og, -1) @ cols
    return dw.reshape(G, Og, kh, kw, Cg).transpose(0, 1, 4, 2, 3).reshape(O, Cg, kh, kw)


def _bsum(a, b):
    """sum_n a[n] @ b[n] as ONE GEMM (the batch folds into the reduction)."""
    if a.shape[0] == 1:
        return a[0] @ b[0]
    aa = a.transpose(1, 0, 2).reshape(a.shape[1], -1)
    bb = b.reshape(-1, b.shape[-1])
    return aa @ bb


# ---------------------------------------------------------------- Winograd F(m x m, 3 x 3)
# 3x3 stride-1 undilated ungrouped convolutions (and their input and weight gradients) as
# a*a = (m+2)^2 batched GEMMs over transformed tiles instead of 9 GEMMs' worth of FLOPs: F(2x2)
# does 16 multiplies per 4 outputs (2.25x fewer), F(4x4) 36 per 16 (4x fewer). The input (a
# few images at a time) is copied once into a zero-padded (H, W, N, C) buffer; tiles are then
# transformed band by band (a few rows of tiles, ~1 MB, cache-resident for the GEMM): both 1-D
# transforms are small matrices applied with np.matmul on overlapping strided windows, the
# a*a GEMMs are one batched np.matmul, the output transform two more, then one copy per image
# back to NCHW. The input gradient is the same computation on g (padded by 2 - pad) with the
# flipped, transposed kernel; the weight gradient sums (A g A^T)^T V over tiles.
_WINO_M = 2            # tile size m. F(4x4) is faster (layer1-size fwd+bwd ~0.8x of F(2x2)) but
#                        its float32 error is 10-15x torch's (F(2x2): 1.2-1.5x): a ResNet18
#                        train step vs torch at 128-224 px misses the vision tests' tolerances
#                        by 9-47x with it; F(2x2) and the GEMM path stay at 0.01-0.03 of them
_WINO_BAND = 1 << 20   # bytes of transformed tiles per band (the GEMM reads U once per band)
_WINO_MIN_C = 32       # fewer in or out channels: the transforms outweigh the GEMM savings
_WINO_MIN_NHW = 512    # fewer output positions (in one batch slice): the kernel transform and
#                        the small GEMMs outweigh the savings (ResNet18's 7x7 and smaller maps)
_WM = {}


def _wmats(m, dt):
    """(BT, G, AT) of Winograd F(m x m, 3 x 3): BT and AT in dtype dt, G in float64."""
    key = (m, np.dtype(dt).str)
    r = _WM.get(key)
    if r is None:
        if m == 2:
            BT = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
            G = [[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]]
            AT = [[1, 1, 1, 0], [0, 1, -1, -1]]
        else:
            BT = [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                  [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]
            G = [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
                 [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]]
            AT = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
                  [0, 1, -1, 8, -8, 1]]
        r = _WM[key] = (np.array(BT, dt), np.array(G, np.float64), np.array(AT, dt))
    return r


def _wino_ok(p, N, G, kh, kw, Cg, O, Ho, Wo, dt):
    return (kh == 3 and kw == 3 and G == 1 and p.stride == (1, 1) and p.dil == (1, 1)
            and dt in (np.float32, np.float64)
            and Cg >= _WINO_MIN_C and O >= _WINO_MIN_C and N * Ho * Wo >= _WINO_MIN_NHW)


def _wino_U(w, m, flip=False):
    """Transformed kernel G w G^T of w (O, C, 3, 3), one GEMM with kron(G, G): as (a*a, C, O)
    for the forward; flip: of the flipped kernel w[:, :, ::-1, ::-1], the one of the input
    gradient, as (a*a, O, C). The forward's is C-contiguous for small kernels (the GEMMs run
    up to 1.3x faster; transposing w costs more than that from 128x256 channels on)."""
    K = _wmats(m, w.dtype)[1]
    K = np.kron(K, K).astype(w.dtype)                  # (a*a, 9)
    O, C = w.shape[:2]
    if flip:
        return (K[:, ::-1] @ w.reshape(O * C, 9).T).reshape(-1, O, C)
    if C * O > 1 << 15:
        return (K @ w.reshape(O * C, 9).T).reshape(-1, O, C).transpose(0, 2, 1)
    wt = np.ascontiguousarray(w.transpose(1, 0, 2, 3)).reshape(C * O, 9)
    return (K @ wt.T).reshape(-1, C, O)


def _wino_bands(th, tw, N, Cmax, it, a, ubytes):
    per = a * a * tw * N * Cmax * it
    return builtins.max(1, builtins.min(th, builtins.max(_WINO_BAND, 2 * ubytes) // per))


class _WinoBuf:
    """The padded channels-last input buffers (one per image group) of a Winograd forward,
    kept for the weight gradient (so the im2col path can tell it from its own buffer)."""
    __slots__ = ("a", "m")

    def __init__(self, m):
        self.a = {}
        self.m = m


_WINO_NC = 256    # images are taken a few at a time, about this many images x channels: the
#                   channels-last copies and the transforms' strides stay short (per image,
#                   N=16 costs 1.3x N=4 at 64 channels, 56x56)


def _wino_groups(N, C, th, tw):
    """Image groups (n0, n1): several images per group only where the maps are large (small
    maps keep the whole batch, so the GEMMs have rows enough to reuse the kernel)."""
    k = N if th * tw < 64 else builtins.max(1, _WINO_NC // C)
    return [(n0, builtins.min(N, n0 + k)) for n0 in range(0, N, k)]


def _wino_pad(x, pads, m, th, tw):
    """x (N, C, H, W) -> zero-padded (th*m + 2, tw*m + 2, N, C), image by image (2-3x faster
    than one 4-D transposing copy)."""
    N, C, H, W = x.shape
    t, _, l, _ = pads
    Hp, Wp = th * m + 2, tw * m + 2
    B = np.empty((Hp, Wp, N, C), dtype=x.dtype)
    r0, r1 = builtins.min(t, Hp), builtins.min(Hp, t + H)    # rows of x inside the buffer
    c1 = builtins.min(Wp, l + W)
    B[:r0] = 0
    B[r1:] = 0
    B[r0:r1, :l] = 0
    B[r0:r1, c1:] = 0
    if r1 > r0 and c1 > l:
        for n in range(N):
            B[r0:r1, l:c1, n] = x[n, :, :r1 - t, :c1 - l].transpose(1, 2, 0)
    return B


def _wino_in(B, m, t0, nb, tw):
    """Transformed input tiles of tile rows t0:t0+nb of the padded buffer B (Hp, Wp, N, C):
    V (a*a, nb*tw*N, C)."""
    _, Wp, N, C = B.shape
    BT = _wmats(m, B.dtype)[0]
    a = m + 2
    it = B.itemsize
    NC = N * C
    st = B.strides
    R = np.matmul(BT, as_strided(B[t0 * m:], (nb, a, Wp * NC), (m * st[0], st[0], it)))
    rs = R.strides
    V = np.empty((a, a, nb, tw, NC), dtype=B.dtype)
    np.matmul(BT, as_strided(R, (nb, a, tw, a, NC), (rs[0], rs[1], m * NC * it, NC * it, it)),
              out=V.transpose(2, 0, 3, 1, 4))
    return V.reshape(a * a, nb * tw * N, C)


def _wino_fwd(x, U, O, pads, m, Ho, Wo, keep=None):
    """3x3 stride-1 correlation of x (N, C, H, W) zero-padded by pads (top, bottom, left,
    right) with the transformed kernel U (a*a, C, O): (N, O, Ho, Wo). `keep`
    (a list) receives the padded input buffer."""
    N, C, H, W = x.shape
    th, tw = -(-Ho // m), -(-Wo // m)
    out = np.empty((N, O, Ho, Wo), dtype=x.dtype)
    kb = None
    if keep is not None:
        kb = _WinoBuf(m)
        keep.append(kb)
    for n0, n1 in _wino_groups(N, C, th, tw):
        B = _wino_pad(x[n0:n1], pads, m, th, tw)
        if kb is not None:
            kb.a[n0, n1] = B
        _wino_fwd_group(B, U, O, m, Ho, Wo, out[n0:n1])
    return out


def _wino_fwd_group(B, U, O, m, Ho, Wo, out):
    _, _, N, C = B.shape
    dt = B.dtype
    AT = _wmats(m, dt)[2]
    a = m + 2
    th, tw = -(-Ho // m), -(-Wo // m)
    NO = N * O
    tb = _wino_bands(th, tw, N, builtins.max(C, O), B.itemsize, a, U.nbytes)
    for t0 in range(0, th, tb):
        nb = builtins.min(th, t0 + tb) - t0
        V = _wino_in(B, m, t0, nb, tw)
        M = np.matmul(V, U).reshape(a, a, nb, tw, NO)                   # (a*a, P, O)
        Q = np.matmul(AT, M.transpose(0, 2, 3, 1, 4))                    # (a, nb, tw, m, NO)
        Y = np.empty((nb, m, tw, m, N, O), dtype=dt)
        np.matmul(AT, Q.transpose(1, 2, 3, 0, 4),
                  out=Y.reshape(nb, m, tw, m, NO).transpose(0, 2, 3, 1, 4))
        h0 = t0 * m
        h1 = builtins.min(Ho, h0 + nb * m)
        Y = Y.reshape(nb * m, tw * m, N, O)
        for n in range(N):
            out[n, :, h0:h1] = Y[:h1 - h0, :Wo, n].transpose(2, 0, 1)


def _wino_bwd_weight(x, g, pads, m, xb=None):
    """Weight gradient (O, C, 3, 3) of the 3x3 stride-1 conv of x padded by pads, for the
    output gradient g (N, O, Ho, Wo): dU = sum over tiles of (A g A^T)^T V, then G^T dU G.
    xb: the forward's kept _WinoBuf, if any."""
    N, C, H, W = x.shape
    _, O, Ho, Wo = g.shape
    dt = x.dtype
    a = m + 2
    th, tw = -(-Ho // m), -(-Wo // m)
    dU = [None]          # (a*a, O, C), the first product stored as is (no zero-fill and add)
    for n0, n1 in _wino_groups(N, C, th, tw):
        B = xb.a.get((n0, n1)) if isinstance(xb, _WinoBuf) and xb.m == m else None
        if B is None or B.shape != (th * m + 2, tw * m + 2, n1 - n0, C):
            B = _wino_pad(x[n0:n1], pads, m, th, tw)
        _wino_bwd_weight_group(B, g[n0:n1], m, dU)
    dU = dU[0]
    K = np.kron(_wmats(m, dt)[1], _wmats(m, dt)[1]).astype(dt)           # (a*a, 9)
    return (dU.reshape(a * a, O * C).T @ K).reshape(O, C, 3, 3)


def _wino_bwd_weight_group(B, g, m, dU):
    _, _, N, C = B.shape
    _, O, Ho, Wo = g.shape
    dt = B.dtype
    A = np.ascontiguousarray(_wmats(m, dt)[2].T)                         # (a, m)
    a = m + 2
    th, tw = -(-Ho // m), -(-Wo // m)
    NO = N * O
    tb = _wino_bands(th, tw, N, builtins.max(C, O), B.itemsize, a, a * a * O * C * B.itemsize)
    gb = np.zeros((tb * m, tw * m, N, O), dtype=dt)
    for t0 in range(0, th, tb):
        nb = builtins.min(th, t0 + tb) - t0
        V = _wino_in(B, m, t0, nb, tw)
        h0 = t0 * m
        h1 = builtins.min(Ho, h0 + nb * m)
        Yb = gb[:nb * m]
        if h1 - h0 < nb * m:
            Yb[h1 - h0:] = 0           # rows past the output (the zero columns stay zero)
        for n in range(N):
            Yb[:h1 - h0, :Wo, n] = g[n, :, h0:h1].transpose(1, 2, 0)
        Q = np.matmul(A, Yb.reshape(nb, m, tw, m, NO))                   # (nb, m, tw, a, NO)
        dM = np.empty((a, a, nb, tw, NO), dtype=dt)
        np.matmul(A, Q.transpose(0, 2, 3, 1, 4), out=dM.transpose(2, 3, 1, 0, 4))
        r = np.matmul(dM.reshape(a * a, nb * tw * N, O).transpose(0, 2, 1), V)
        if dU[0] is None:
            dU[0] = r
        else:
            dU[0] += r


# depthwise (one input channel per group): shifted multiply-adds on NCHW, no GEMM
def _padded_nchw(x, p, kh, kw, Ho, Wo):
    N, C, H, W = x.shape
    t, b, l, r = p.pad
    Hp, Wp = _hw_padded(p, H, W, kh, kw, Ho, Wo)
    xp = np.zeros((N, C, Hp, Wp), dtype=x.dtype)
    xp[:, :, t:t + H, l:l + W] = x
    return xp


def _dw_fwd(x, w, p, Ho, Wo):
    N, C = x.shape[:2]
    O, _, kh, kw = w.shape
    m = O // C
    xp = _padded_nchw(x, p, kh, kw, Ho, Wo)
    if m > 1:
        xp = np.repeat(xp, m, axis=1)
    out = np.zeros((N, O, Ho, Wo), dtype=x.dtype)
    tmp = np.empty_like(out)
    for i in range(kh):
        for j in range(kw):
            si, sj = _shifted(p, i, j, Ho, Wo)
            np.multiply(xp[:, :, si, sj], w[:, 0, i, j][:, None, None], out=tmp)
            out += tmp
    return out


def _dw_bwd_input(g, w, p, H, W):
    N, O, Ho, Wo = g.shape
    _, _, kh, kw = w.shape
    C = p.groups
    m = O // C
    t, b, l, r = p.pad
    Hp, Wp = _hw_padded(p, H, W, kh, kw, Ho, Wo)
    dxp = np.zeros((N, C, Hp, Wp), dtype=g.dtype)
    for i in range(kh):
        for j in range(kw):
            si, sj = _shifted(p, i, j, Ho, Wo)
            c = g * w[:, 0, i, j][:, None, None]
            if m > 1:
                c = c.reshape(N, C, m, Ho, Wo).sum(2)
            dxp[:, :, si, sj] += c
    return np.ascontiguousarray(dxp[:, :, t:t + H, l:l + W])


def _dw_bwd_weight(x, g, p, kh, kw):
    N, C, H, W = x.shape
    _, O, Ho, Wo = g.shape
    m = O // C
    xp = _padded_nchw(x, p, kh, kw, Ho, Wo)
    dw = np.empty((O, 1, kh, kw), dtype=x.dtype)
    g5 = g.reshape(N, C, m, Ho * Wo)
    for i in range(kh):
        for j in range(kw):
            si, sj = _shifted(p, i, j, Ho, Wo)
            xs = xp[:, :, si, sj].reshape(N, C, 1, Ho * Wo)
            dw[:, 0, i, j] = np.einsum("ncmk,ncmk->cm", g5, np.broadcast_to(
                xs, g5.shape)).reshape(O) if m > 1 else np.einsum(
                "nck,nck->c", g5[:, :, 0], xs[:, :, 0])
    return dw


# ---------------------------------------------------------------- batch parallelism
# OpenBLAS's own threads synchronise badly on a busy machine and leave every copy around the
# GEMM single-threaded. Big convolutions instead split the batch over a few Python threads
# (NumPy releases the GIL in copies and GEMMs), each calling single-threaded BLAS.
_PAR_MIN_FLOPS = 2e7
_par_state = None
_par_pid = None


def _par_setup():
    global _par_state, _par_pid
    import os
    if _par_state is not None and _par_pid != os.getpid():
        _par_state = None       # forked child: the parent's worker threads do not exist here
    if _par_state is None:
        _par_pid = os.getpid()
        try:
            import os
            from concurrent.futures import ThreadPoolExecutor

            from threadpoolctl import ThreadpoolController
            ctl = ThreadpoolController()
            blas = [c for c in ctl.lib_controllers if c.user_api == "blas"]
            try:
                ncpu = len(os.sched_getaffinity(0))
            except AttributeError:  # pragma: no cover
                ncpu = os.cpu_count() or 1
            nmax = builtins.min(8, ncpu)
            _par_state = (ctl, blas, ThreadPoolExecutor(nmax) if nmax > 1 else None, nmax) \
                if blas else False
        except Exception:  # threadpoolctl missing: BLAS threads only
            _par_state = False
    return _par_state


def _par_workers(N, flops):
    """How many batch slices to run in parallel (1: run sequentially with BLAS threads)."""
    if N < 2 or flops < _PAR_MIN_FLOPS:
        return 1
    st = _par_setup()
    if not st or st[2] is None:
        return 1
    nthreads = builtins.max(c.num_threads for c in st[1])   # honours set_num_threads
    return builtins.max(1, builtins.min(N, st[3], nthreads))


_BLAS_MT_MIN_FLOPS = 1e7   # below this one GEMM thread beats OpenBLAS's thread hand-offs (idle 2-core
#                            machine: ResNet18 at 64x64, ~2e7 FLOP convs, is 15% faster threaded)


class _Blas1:
    """Context: single-threaded BLAS for small sequential convolutions (no-op without
    threadpoolctl)."""
    __slots__ = ("lim",)

    def __enter__(self):
        st = _par_setup()
        self.lim = st[0].limit(limits=1, user_api="blas") if st else None
        return self

    def __exit__(self, *exc):
        if self.lim is not None:
            self.lim.__exit__(*exc)


def _seq(fn, flops, *args):
    if flops >= _BLAS_MT_MIN_FLOPS:
        return fn(*args)
    with _Blas1():
        return fn(*args)


def _par_map(fn, parts):
    ctl, _, pool, _ = _par_state
    with ctl.limit(limits=1, user_api="blas"):
        return list(pool.map(fn, parts))


def _slices(N, k):
    b = [N * i // k for i in range(k + 1)]
    return [(b[i], b[i + 1]) for i in range(k)]


def _flops(N, O, Cg, kh, kw, HW):
    return 2.0 * N * O * Cg * kh * kw * HW


# ---------------------------------------------------------------- any array module (CuPy)
# The kernels above are tuned for NumPy on a CPU (cache-sized bands, BLAS threads). On another
# array module the same three primitives are a loop over kernel offsets: one batched matrix
# product per offset on strided slices of the padded input, which is what a GPU does well.
def _gen_xp(a):
    from ..backend import get_array_module
    return get_array_module(a)


def _gen_pad(x, p):
    t, b, l, r = p.pad
    xp = _gen_xp(x)
    return xp.pad(x, ((0, 0), (0, 0), (t, b), (l, r)))


def _gen_slice(i, j, p, Ho, Wo):
    sh, sw = p.stride
    dh, dw = p.dil
    return (slice(None), slice(None), slice(i * dh, i * dh + sh * (Ho - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (Wo - 1) + 1, sw))


def _gen_fwd(x, w, p):
    xp = _gen_xp(x)
    N, C = x.shape[:2]
    O, Cg, kh, kw = w.shape
    G = p.groups
    Ho, Wo = p.out_hw(x.shape[2], x.shape[3], kh, kw)
    xpad = _gen_pad(x, p)
    out = xp.zeros((N, G, O // G, Ho, Wo), dtype=x.dtype)
    wg = w.reshape(G, O // G, Cg, kh, kw)
    for i in range(kh):
        for j in range(kw):
            xs = xpad[_gen_slice(i, j, p, Ho, Wo)].reshape(N, G, Cg, Ho, Wo)
            out += xp.einsum("ngchw,goc->ngohw", xs, wg[..., i, j])
    return out.reshape(N, O, Ho, Wo)


def _gen_bwd_input(g, w, p, H, W):
    xp = _gen_xp(g)
    N, O, Ho, Wo = g.shape
    _, Cg, kh, kw = w.shape
    G = p.groups
    t, b, l, r = p.pad
    dxp = xp.zeros((N, G * Cg, H + t + b, W + l + r), dtype=g.dtype)
    gg = g.reshape(N, G, O // G, Ho, Wo)
    wg = w.reshape(G, O // G, Cg, kh, kw)
    for i in range(kh):
        for j in range(kw):
            d = xp.einsum("ngohw,goc->ngchw", gg, wg[..., i, j]).reshape(N, G * Cg, Ho, Wo)
            dxp[_gen_slice(i, j, p, Ho, Wo)] += d
    return dxp[:, :, t:t + H, l:l + W]


def _gen_bwd_weight(x, g, p, kh, kw):
    xp = _gen_xp(x)
    N, O, Ho, Wo = g.shape
    G = p.groups
    Cg = x.shape[1] // G
    xpad = _gen_pad(x, p)
    gg = g.reshape(N, G, O // G, Ho, Wo)
    dw = xp.zeros((G, O // G, Cg, kh, kw), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            xs = xpad[_gen_slice(i, j, p, Ho, Wo)].reshape(N, G, Cg, Ho, Wo)
            dw[..., i, j] = xp.einsum("ngchw,ngohw->goc", xs, gg)
    return dw.reshape(O, Cg, kh, kw)


def _conv_fwd(x, w, p, keep=None):
    if type(x) is not np.ndarray:
        return _gen_fwd(x, w, p)
    N = x.shape[0]
    O, Cg, kh, kw = w.shape
    Ho, Wo = p.out_hw(x.shape[2], x.shape[3], kh, kw)
    fl = _flops(N, O, Cg, kh, kw, Ho * Wo)
    k = _par_workers(N, fl)
    if k == 1:
        return _seq(_conv_fwd_seq, fl, x, w, p, keep)
    out = np.empty((N, O, Ho, Wo), dtype=x.dtype)
    parts = _slices(N, k)
    kept = [None] * k

    def run(i):
        a, b = parts[i]
        kk = [] if keep is not None else None
        out[a:b] = _conv_fwd_seq(x[a:b], w, p, kk)
        if kk:
            kept[i] = kk[0]
    _par_map(run, range(k))
    if keep is not None and all(v is not None for v in kept):
        keep.append(kept)
    return out


def _conv_bwd_input(g, w, p, H, W):
    if type(g) is not np.ndarray:
        return _gen_bwd_input(g, w, p, H, W)
    N, O, Ho, Wo = g.shape
    _, Cg, kh, kw = w.shape
    fl = _flops(N, O, Cg, kh, kw, Ho * Wo)
    k = _par_workers(N, fl)
    if k == 1:
        return _seq(_conv_bwd_input_seq, fl, g, w, p, H, W)
    dx = np.empty((N, Cg * p.groups, H, W), dtype=g.dtype)
    parts = _slices(N, k)

    def run(ab):
        dx[ab[0]:ab[1]] = _conv_bwd_input_seq(g[ab[0]:ab[1]], w, p, H, W)
    _par_map(run, parts)
    return dx


def _conv_bwd_weight(x, g, p, kh, kw, xp=None):
    if type(x) is not np.ndarray:
        return _gen_bwd_weight(x, g, p, kh, kw)
    N, O, Ho, Wo = g.shape
    Cg = x.shape[1] // p.groups
    fl = _flops(N, O, Cg, kh, kw, Ho * Wo)
    k = _par_workers(N, fl)
    if k == 1:
        if isinstance(xp, list):
            xp = None
        return _seq(_conv_bwd_weight_seq, fl, x, g, p, kh, kw, xp)
    parts = _slices(N, k)
    xps = xp if isinstance(xp, list) and len(xp) == k else [None] * k

    def run(i):
        a, b = parts[i]
        return _conv_bwd_weight_seq(x[a:b], g[a:b], p, kh, kw, xps[i])
    res = _par_map(run, range(k))
    out = res[0]
    for r in res[1:]:
        out += r
    return out


# ---------------------------------------------------------------- differentiable primitives
def _conv_op(x, w, b, p):
    """y = conv(x, w) + b: tensors of 3-D (1-D conv) or 4-D shape."""
    nd = p.nd
    xa, wa = x._data, w._data
    bf = xa.dtype if xa.dtype.kind == "V" else None  # bfloat16: float32 accumulation
    if bf is not None:
        xa, wa = xa.astype(np.float32), wa.astype(np.float32)
    rec = grad_state.enabled and (x._rg or w._rg or (b is not None and b._rg))
    keep = [] if rec and w._rg else None
    y = _conv_fwd(_as4(xa, nd), _as4(wa, nd), p, keep)
    if b is not None:
        y += b._data.reshape(1, -1, 1, 1)
    res = _make(_from4(y, nd) if bf is None else _from4(y, nd).astype(bf))
    if rec:
        n = R.ConvolutionBackward0()
        n.p = p
        n.hw = xa.shape[2:]
        if keep:
            n.xp = keep[0]      # an array, or one array per parallel batch slice
        save(n, x, w)
        link(n, res, x, w, b)
    return res


def _conv_tin_op(g, w, b, p, hw):
    """Transposed convolution: the input gradient of conv(., w) at input size hw (+ bias)."""
    nd = p.nd
    ga, wa = g._data, w._data
    bf = ga.dtype if ga.dtype.kind == "V" else None  # bfloat16: float32 accumulation
    if bf is not None:
        ga, wa = ga.astype(np.float32), wa.astype(np.float32)
    H, W = (1, hw[0]) if nd == 1 else hw
    y = _conv_bwd_input(_as4(ga, nd), _as4(wa, nd), p, H, W)
    if b is not None:
        y += b._data.reshape(1, -1, 1, 1)
    res = _make(_from4(y, nd) if bf is None else _from4(y, nd).astype(bf))
    if grad_state.enabled and (g._rg or w._rg or (b is not None and b._rg)):
        n = R.ConvolutionBackwardTransposed()
        n.p = p
        save(n, g, w)
        link(n, res, g, w, b)
    return res


def _conv_tw_op(x, g, p, kshape, xp=None):
    """Weight gradient of conv(x, .) for output gradient g (kshape: the kernel's spatial size;
    xp: x's padded channels-last buffer if the forward kept it)."""
    nd = p.nd
    xa, ga = x._data, g._data
    bf = xa.dtype if xa.dtype.kind == "V" else None  # bfloat16: float32 accumulation
    if bf is not None:
        xa, ga = xa.astype(np.float32), ga.astype(np.float32)
    kh, kw = (1, kshape[0]) if nd == 1 else kshape
    dw = _conv_bwd_weight(_as4(xa, nd), _as4(ga, nd), p, kh, kw, xp)
    res = _make(_from4(dw, nd) if bf is None else _from4(dw, nd).astype(bf))
    if grad_state.enabled and (x._rg or g._rg):
        n = R.ConvolutionBackwardWeight()
        n.p = p
        n.hw = xa.shape[2:]
        save(n, x, g)
        link(n, res, x, g)
    return res


# ---------------------------------------------------------------- checks
def _dt_name(dt):
    return {np.float32: "Float", np.float64: "Double", np.float16: "Half"}.get(
        np.dtype(dt).type, "BFloat16" if np.dtype(dt).kind == "V" else
        D.from_np(dt).name.capitalize())


def _check_types(x, w, b):
    if not isinstance(x, Tensor):
        raise TypeError(f"conv2d() received an invalid combination of arguments - got "
                        f"({type(x).__name__}, ...)")
    xd, wd = x._data.dtype, w._data.dtype
    if xd != wd:
        raise RuntimeError(f"expected scalar type {_dt_name(xd)} but found {_dt_name(wd)}")
    if xd.kind not in "fV":
        raise RuntimeError(f'"slow_conv2d_cpu" not implemented for \'{_dt_name(xd)}\''
                           if xd.kind in "iub" else
                           f"expected scalar type Float but found {_dt_name(xd)}")
    if b is not None and b._data.dtype != xd:
        raise RuntimeError(f"Input type ({D.from_np(xd).name}) and bias type "
                           f"({D.from_np(b._data.dtype).name}) should be the same")


def _check_conv(name, x, w, b, stride, pad, dil, groups, nd, transposed=False):
    """PyTorch's shape checks; returns nothing, raises RuntimeError."""
    xs, ws = x.shape, w.shape
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dil):
        raise RuntimeError("dilation should be greater than zero")
    if any(q < 0 for q in pad):
        raise RuntimeError("negative padding is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if len(ws) != nd + 2:
        raise RuntimeError(
            "weight should have at least three dimensions" if len(ws) < 3 else
            f"Expected {nd + 2}-dimensional input for {nd + 2}-dimensional weight {list(ws)}, "
            f"but got {len(xs)}-dimensional input of size {list(xs)} instead")
    if not transposed:
        if ws[0] % groups:
            raise RuntimeError(
                f"Given groups={groups}, expected weight to be divisible by {groups} at "
                f"dimension 0, but got weight of size [{list(ws)}] instead")
        if xs[1] != ws[1] * groups:
            raise RuntimeError(
                f"Given groups={groups}, weight of size {list(ws)}, expected input{list(xs)} to "
                f"have {ws[1] * groups} channels, but got {xs[1]} channels instead")
        if b is not None and (b.ndim != 1 or b.shape[0] != ws[0]):
            raise RuntimeError(
                f"Given weight of size {list(ws)}, expected bias to be 1-dimensional with "
                f"{ws[0]} elements, but got bias of size {list(b.shape)} instead")
        sp = xs[2:]
        padded = [sp[i] + pad[2 * i] + pad[2 * i + 1] for i in range(nd)]
        eff = [dil[i] * (ws[2 + i] - 1) + 1 for i in range(nd)]
        if any(padded[i] < eff[i] for i in range(nd)):
            raise RuntimeError(
                f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
                f"Kernel size: ({' x '.join(map(str, eff))}). Kernel size can't be greater "
                f"than actual input size")
    else:
        if xs[1] != ws[0]:
            raise RuntimeError(
                f"Given transposed=1, weight of size {list(ws)}, expected input{list(xs)} to "
                f"have {ws[0]} channels, but got {xs[1]} channels instead")
        if ws[0] % groups:
            raise RuntimeError(
                f"Given groups={groups}, expected weight to be divisible by {groups} at "
                f"dimension 0, but got weight of size [{list(ws)}] instead")
        if b is not None and (b.ndim != 1 or b.shape[0] != ws[1] * groups):
            raise RuntimeError(
                f"Given transposed=1, weight of size {list(ws)}, expected bias to be "
                f"1-dimensional with {ws[1] * groups} elements, but got bias of size "
                f"{list(b.shape)} instead")


def _batchify(name, x, nd):
    """Unbatched input -> batched; returns (x, was_unbatched)."""
    if x.ndim == nd + 1:
        return x.unsqueeze(0), True
    if x.ndim != nd + 2:
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got "
            f"input of size: {list(x.shape)}")
    return x, False


# ---------------------------------------------------------------- public API
def _convnd(name, nd, input, weight, bias, stride, padding, dilation, groups):
    _check_types(input, weight, bias)
    x, unb = _batchify(name, input, nd)
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    ks = weight.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pad = (0,) * (2 * nd)
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pad = []
            for i in range(nd):
                total = dilation[i] * (ks[i] - 1) if i < len(ks) else 0
                pad += [total // 2, total - total // 2]
            pad = tuple(pad)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        pp = _tuple(padding, nd, "padding")
        pad = tuple(q for v in pp for q in (v, v))
    groups = builtins.int(groups)
    _check_conv(name, x, weight, bias, stride, pad, dilation, groups, nd)
    if nd == 1:
        p = _P((1, stride[0]), (0, 0) + pad, (1, dilation[0]), groups, 1)
    else:
        p = _P(stride, pad, dilation, groups, 2)
    out = _conv_op(x, weight, bias, p)
    return out.squeeze(0) if unb else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(name, nd, input, weight, bias, stride, padding, output_padding, groups,
                      dilation):
    _check_types(input, weight, bias)
    x, unb = _batchify(name, input, nd)
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    pp = _tuple(padding, nd, "padding")
    op = _tuple(output_padding, nd, "output_padding")
    groups = builtins.int(groups)
    pad = tuple(q for v in pp for q in (v, v))
    _check_conv(name, x, weight, bias, stride, pad, dilation, groups, nd, transposed=True)
    for i in range(nd):
        if op[i] >= stride[i] and op[i] >= dilation[i]:
            raise RuntimeError(
                f"output padding must be smaller than either stride or dilation, but got "
                f"output_padding_{'height' if (nd == 2 and i == 0) else 'width'}: {op[i]} "
                f"stride_{'height' if (nd == 2 and i == 0) else 'width'}: {stride[i]} "
                f"dilation_{'height' if (nd == 2 and i == 0) else 'width'}: {dilation[i]}")
    ks = weight.shape[2:]
    osz = tuple((x.shape[2 + i] - 1) * stride[i] - 2 * pp[i] + dilation[i] * (ks[i] - 1)
                + op[i] + 1 for i in range(nd))
    if any(o <= 0 for o in osz):
        raise RuntimeError(
            f"Given input size per channel: ({' x '.join(map(str, x.shape[2:]))}). Calculated "
            f"output size per channel: ({' x '.join(map(str, osz))}). Output size is too small")
    # the conv whose input gradient this is: weight (Cin, Cout/G, k...) = (O, Cg, k...)
    if nd == 1:
        p = _P((1, stride[0]), (0, 0) + pad, (1, dilation[0]), groups, 1)
    else:
        p = _P(stride, pad, dilation, groups, 2)
    out = _conv_tin_op(x, weight, bias, p, osz)
    return out.squeeze(0) if unb else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transposend("conv_transpose1d", 1, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transposend("conv_transpose2d", 2, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution as a sum over kernel depth of 2-D convolutions (depth folded into the
    batch); composite, so its gradients (and double backward) come from conv2d's."""
    _check_types(input, weight, bias)
    x, unb = _batchify("conv3d", input, 3)
    stride = _tuple(stride, 3, "stride")
    dilation = _tuple(dilation, 3, "dilation")
    ks = weight.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pad = (0,) * 6
        elif padding == "same":
            if any(v != 1 for v in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pad = []
            for i in range(3):
                total = dilation[i] * (ks[i] - 1) if i < len(ks) else 0
                pad += [total // 2, total - total // 2]
            pad = tuple(pad)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        pp = _tuple(padding, 3, "padding")
        pad = tuple(q for v in pp for q in (v, v))
    groups = builtins.int(groups)
    _check_conv("conv3d", x, weight, bias, stride, pad, dilation, groups, 3)
    from .pool import pad as _pad
    N, C, Dd, H, W = x.shape
    kd = ks[0]
    if pad[0] or pad[1]:
        x = _pad(x, (0, 0, 0, 0, pad[0], pad[1]))
    Dp = Dd + pad[0] + pad[1]
    Do = (Dp - dilation[0] * (kd - 1) - 1) // stride[0] + 1
    hwpad = (pad[2], pad[3], pad[4], pad[5])
    sym = pad[2] == pad[3] and pad[4] == pad[5]
    if not sym:
        x = _pad(x, (hwpad[2], hwpad[3], hwpad[0], hwpad[1]))
    out = None
    for k in range(kd):
        d0 = k * dilation[0]
        xs = x[:, :, d0:d0 + (Do - 1) * stride[0] + 1:stride[0]]
        xs = xs.permute(0, 2, 1, 3, 4).reshape(N * Do, C, xs.shape[3], xs.shape[4])
        y = conv2d(xs, weight[:, :, k], None, stride[1:], (pad[2], pad[4]) if sym else 0,
                   dilation[1:], groups)
        out = y if out is None else out + y
    out = out.reshape(N, Do, out.shape[1], out.shape[2], out.shape[3]).permute(0, 2, 1, 3, 4)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    out = out.contiguous()
    return out.squeeze(0) if unb else out
