"""Memory-bound kernels of CNN layers (batch norm forward / backward, ReLU), fused and split
over the convolution thread pool (ops/conv.py `_par_setup`).

An activation (N, C, *spatial) is viewed as R = N*C contiguous rows of HW values (the row's
channel is row % C). Each kernel walks its rows in blocks of about `_BLOCK` bytes, so the
temporaries of a fused formula stay in cache and the big arrays are read once per pass instead
of once per NumPy operation; large arrays are split into row ranges run by the pool's threads
(NumPy releases the GIL inside ufuncs and einsum). Per-channel reductions are summed per row in
the array's dtype (pairwise along the row), then across rows in float64.

Every kernel computes the same formula, operation by operation, as the plain NumPy code it
replaces (nn/functional.py `_norm_forward`, derivatives_np.py `native_norm` / `relu`); only
the order of the additions inside the reductions differs (float rounding).
"""
import builtins

import numpy as np

_PAR_MIN = 1 << 18      # elements: below this one thread (a pool hand-off costs ~50 µs)
_BLOCK = 1 << 17        # bytes of one block of rows (its temporaries stay in L2)
enabled = True          # False: callers use their plain NumPy code (A/B measurements)


def _nthreads(size):
    if size < _PAR_MIN:
        return 1
    from .conv import _par_setup
    st = _par_setup()
    if not st or st[2] is None:
        return 1
    return builtins.max(1, builtins.min(st[3], builtins.max(c.num_threads for c in st[1])))


def _run(fn, R, size):
    """fn(r0, r1) over rows 0:R, split into row ranges over the pool's threads."""
    k = builtins.min(_nthreads(size), R)
    if k <= 1:
        fn(0, R)
        return
    from .conv import _par_state
    pool = _par_state[2]
    b = [R * i // k for i in range(k + 1)]
    futs = [pool.submit(fn, b[i], b[i + 1]) for i in range(1, k)]
    try:
        fn(b[0], b[1])
    finally:
        for f in futs:
            f.result()


def _rows_per_block(HW, itemsize):
    return builtins.max(1, _BLOCK // (HW * itemsize))


def ok(a):
    """a is a big (>= _PAR_MIN elements) C-contiguous float32/float64 NumPy array of >= 3
    dims (N, C, *spatial). Smaller ones are faster with the plain NumPy code (one thread,
    fewer Python-level steps: the fused kernels cost 1.3x at 1x64x32x32)."""
    return (type(a) is np.ndarray and a.ndim >= 3 and a.size >= _PAR_MIN
            and a.dtype.char in "fd" and a.flags.c_contiguous)


def ok_train(a):
    """ok(a), and rows long enough for the training-mode kernels: with maps under 32x32 their
    short row reductions cost what the threads save (2 pinned cores, 16x128x28x28: fused
    1.00-1.12x the plain code, 16x64x56x56: 0.64-0.93x)."""
    return ok(a) and a.size // (a.shape[0] * a.shape[1]) >= _TRAIN_MIN_HW


_TRAIN_MIN_HW = 1024


def _chan_sum(rs, N, C):
    return rs.reshape(N, C).sum(0, dtype=np.float64)


def _rowvec(v, N, dt):
    """Per-channel values (C,) as per-row values (N*C, 1)."""
    return np.tile(np.asarray(v, dtype=dt).reshape(-1), N)[:, None]


# ---------------------------------------------------------------- batch norm forward
def bn_train_fwd(a, w, b, eps):
    """Training-mode batch norm of a (N, C, *sp) over all axes but 1, w/b arrays (C,) or
    None: (out, mean, biased var, invstd), the stats as (C,) arrays of a's dtype.
    out = (a - mean) * (invstd * w) + b, as _norm_forward's plain code."""
    N, C = a.shape[:2]
    R = N * C
    HW = a.size // R
    dt = a.dtype
    x = a.reshape(R, HW)
    out = np.empty_like(x)
    cnt = N * HW
    rb = _rows_per_block(HW, a.itemsize)
    rs = np.empty(R, dtype=dt)

    def sums(r0, r1):
        np.add.reduce(x[r0:r1], axis=1, out=rs[r0:r1])
    _run(sums, R, a.size)
    m = (_chan_sum(rs, N, C) / cnt).astype(dt)
    mr = _rowvec(m, N, dt)
    ss = np.empty(R, dtype=dt)

    def squares(r0, r1):
        tmp = np.empty((builtins.min(rb, r1 - r0), HW), dtype=dt)
        for i in range(r0, r1, rb):
            j = builtins.min(r1, i + rb)
            t = tmp[:j - i]
            np.subtract(x[i:j], mr[i:j], out=t)
            ss[i:j] = np.einsum("ij,ij->i", t, t)
    _run(squares, R, a.size)
    v = (_chan_sum(ss, N, C) / cnt).astype(dt)
    invstd = (1.0 / np.sqrt(v + eps)).astype(dt)
    sr = _rowvec(invstd * w if w is not None else invstd, N, dt)
    br = _rowvec(b, N, dt) if b is not None else None

    def norm(r0, r1):
        for i in range(r0, r1, rb):
            j = builtins.min(r1, i + rb)
            o = out[i:j]
            np.subtract(x[i:j], mr[i:j], out=o)
            o *= sr[i:j]
            if br is not None:
                o += br[i:j]
    _run(norm, R, a.size)
    return out.reshape(a.shape), m, v, invstd


def scale_shift(a, alpha, beta):
    """a * alpha + beta with per-channel alpha, beta (C,) (beta may be None): eval-mode batch
    norm, and the eval-mode input gradient."""
    N, C = a.shape[:2]
    R = N * C
    HW = a.size // R
    dt = a.dtype
    x = a.reshape(R, HW)
    out = np.empty_like(x)
    rb = _rows_per_block(HW, a.itemsize)
    ar = _rowvec(alpha, N, dt)
    br = _rowvec(beta, N, dt) if beta is not None else None

    def run(r0, r1):
        for i in range(r0, r1, rb):
            j = builtins.min(r1, i + rb)
            o = out[i:j]
            np.multiply(x[i:j], ar[i:j], out=o)
            if br is not None:
                o += br[i:j]
    _run(run, R, a.size)
    return out.reshape(a.shape)


# ---------------------------------------------------------------- batch norm backward
def bn_bwd(x, g, mean, invstd, w, need_x, need_w, need_b, training=True):
    """Gradients of batch norm for output gradient g, x and g (N, C, *sp) C-contiguous; mean,
    invstd, w: (C,) values (w None without affine); training: the stats came from x itself.
    Returns (gx, gw, gb) like derivatives_np.native_norm (gw, gb as (C,))."""
    if not training and not (need_w or need_b):
        return (scale_shift(g, w * invstd if w is not None else invstd, None) if need_x
                else None), None, None
    N, C = x.shape[:2]
    R = N * C
    HW = x.size // R
    dt = x.dtype
    xr = x.reshape(R, HW)
    gr = g.reshape(R, HW)
    n = N * HW
    rb = _rows_per_block(HW, x.itemsize)
    mr = _rowvec(mean, N, dt)
    ir = _rowvec(invstd, N, dt)
    sg = np.empty(R, dtype=dt)
    sgx = np.empty(R, dtype=dt)

    def sums(r0, r1):
        tmp = np.empty((builtins.min(rb, r1 - r0), HW), dtype=dt)
        np.add.reduce(gr[r0:r1], axis=1, out=sg[r0:r1])
        for i in range(r0, r1, rb):
            j = builtins.min(r1, i + rb)
            t = tmp[:j - i]
            np.subtract(xr[i:j], mr[i:j], out=t)
            t *= ir[i:j]                                   # xhat
            sgx[i:j] = np.einsum("ij,ij->i", gr[i:j], t)
    _run(sums, R, x.size)
    sgc = _chan_sum(sg, N, C).astype(dt)                   # (C,)
    sgxc = _chan_sum(sgx, N, C).astype(dt)
    gw = sgxc.copy() if need_w else None
    gb = sgc.copy() if need_b else None
    gx = None
    if need_x and not training:
        gx = scale_shift(g, w * invstd if w is not None else invstd, None)
    elif need_x:
        kr = _rowvec(sgxc / n, N, dt)
        cr = _rowvec(sgc / n, N, dt)
        wr = _rowvec(w * invstd if w is not None else invstd, N, dt)
        out = np.empty_like(gr)

        def gin(r0, r1):
            tmp = np.empty((builtins.min(rb, r1 - r0), HW), dtype=dt)
            for i in range(r0, r1, rb):
                j = builtins.min(r1, i + rb)
                t = tmp[:j - i]
                np.subtract(xr[i:j], mr[i:j], out=t)
                t *= ir[i:j]                               # xhat
                t *= kr[i:j]
                o = out[i:j]
                np.subtract(gr[i:j], cr[i:j], out=o)
                o -= t
                o *= wr[i:j]
        _run(gin, R, x.size)
        gx = out.reshape(x.shape)
    return gx, gw, gb


# ---------------------------------------------------------------- relu
def relu_(a):
    """In-place max(a, 0) of a C-contiguous array."""
    f = a.reshape(-1)
    n = f.size
    step = _BLOCK // a.itemsize * 8

    def run(r0, r1):
        np.maximum(f[r0 * step:r1 * step], 0, out=f[r0 * step:r1 * step])
    _run(run, -(-n // step), n)
    return a


def relu_grad(g, r):
    """g * (r > 0) for same-shape C-contiguous g and r."""
    dt = np.result_type(g.dtype, np.bool_)
    gf, rf = g.reshape(-1), r.reshape(-1)
    out = np.empty(g.shape, dtype=dt)
    of = out.reshape(-1)
    blk = builtins.max(1, _BLOCK // g.itemsize)
    n = gf.size
    nb = -(-n // blk)

    def run(b0, b1):
        m = np.empty(builtins.min(blk, n), dtype=np.bool_)
        for i in range(b0 * blk, builtins.min(n, b1 * blk), blk):
            j = builtins.min(n, i + blk)
            mm = m[:j - i]
            np.greater(rf[i:j], 0, out=mm)
            np.multiply(gf[i:j], mm, out=of[i:j])
    _run(run, nb, n)
    return out


# ---------------------------------------------------------------- in-place add
def add_(a, b):
    """a += b for same-shape, same-dtype C-contiguous a (b any layout)."""
    f = a.reshape(-1)
    bf = b.reshape(-1)
    n = f.size
    step = _BLOCK // a.itemsize * 8

    def run(r0, r1):
        s = slice(r0 * step, r1 * step)
        np.add(f[s], bf[s], out=f[s])
    _run(run, -(-n // step), n)


def add_recorded(x, other):
    """x += other while autograd records (a ResNet block's `out += identity`): one pass
    into x's buffer instead of the generic in-place path's copy of x, out-of-place add and
    copy back (AddBackward0 saves nothing, so x's old values are not needed). Returns x, or
    None where the generic path must run (views, broadcasting, other dtypes, small)."""
    a, b = x._data, other._data
    if not (type(a) is np.ndarray and a.size >= _PAR_MIN and b.shape == a.shape
            and b.dtype == a.dtype and a.dtype.char in "fd" and a.flags.c_contiguous
            and a.flags.writeable and type(b) is np.ndarray
            and getattr(x, "_base", None) is None and not getattr(x, "_views", None)):
        return None
    from . import derivatives as R
    from ._core import check_inplace, link
    check_inplace(x)
    if np.shares_memory(a, b):
        np.add(a, b, out=a)
    else:
        add_(a, b)
    x._bump()
    link(R.AddBackward0(), x, x, other)   # edges from x's old graph position, then rebased
    x._nr = 0
    return x
