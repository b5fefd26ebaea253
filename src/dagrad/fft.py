"""torch.fft on NumPy's pocketfft: fft/ifft/rfft/irfft/hfft/ihfft, their 2-D and n-D forms,
fftfreq/rfftfreq and fftshift/ifftshift, with gradients (and double backward).

Three primitives carry autograd, recorded under PyTorch's node names:
  _c2c (FftC2CBackward0): scale * DFT (forward sign -, or unnormalised inverse sign +);
      its gradient is _c2c of the opposite direction with the same scale.
  _r2c (FftR2CBackward0): scale * onesided DFT of a real input; gradient =
      real(_c2c(zero-padded grad, inverse)).
  _c2r (FftC2RBackward0): scale * unnormalised inverse real DFT; gradient = _r2c(grad) with the
      non-edge bins doubled (PyTorch's fft_c2r_backward).
"""
import builtins
import math

import numpy as np

from .ops import derivatives as R
from .ops._core import _make, grad_state, link
from .tensor import Tensor

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
           "hfft2", "ihfft2", "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn", "fftfreq",
           "rfftfreq", "fftshift", "ifftshift"]

_C = {np.dtype(np.float32): np.complex64, np.dtype(np.float64): np.complex128,
      np.dtype(np.complex64): np.complex64, np.dtype(np.complex128): np.complex128}


def _rec(x):
    return grad_state.enabled and x._rg


def _cdtype(a):
    return np.dtype(_C.get(a.dtype, np.complex64))


def _rdtype(a):
    return np.dtype(np.float64) if a.dtype in (np.complex128, np.float64) else \
        np.dtype(np.float32)


# ---------------------------------------------------------------- primitives
def _c2c(x, dims, scale, forward):
    a = x._data
    if a.dtype.kind != "c":
        a = a.astype(_cdtype(a))
    n = builtins.int(np.prod([a.shape[d] for d in dims])) if dims else 1
    if forward:
        r = np.fft.fftn(a, axes=dims) if dims else a.copy()
    else:
        r = np.fft.ifftn(a, axes=dims) * n if dims else a.copy()
    if scale != 1:
        r = r * scale
    out = _make(r.astype(a.dtype, copy=False))
    if _rec(x):
        node = R.FftC2CBackward0()
        node.dims, node.scale, node.forward = dims, scale, forward
        link(node, out, x)
    return out


def _r2c(x, dims, scale, onesided=True):
    a = x._data
    if a.dtype.kind not in "f":
        from ._dtype import get_default_dtype
        a = a.astype(get_default_dtype().np)
    if not dims:
        r = a.astype(_cdtype(a))
    elif onesided:
        r = np.fft.rfftn(a, axes=dims)
    else:
        r = np.fft.fftn(a, axes=dims)
    if scale != 1:
        r = r * scale
    out = _make(r.astype(_cdtype(a), copy=False))
    if _rec(x):
        node = R.FftR2CBackward0()
        node.dims, node.scale, node.n_last = dims, scale, a.shape[dims[-1]] if dims else 0
        link(node, out, x)
    return out


def _c2r(x, dims, scale, n_last):
    a = x._data
    if a.dtype.kind != "c":
        a = a.astype(_cdtype(a))
    s = [a.shape[d] for d in dims[:-1]] + [n_last]
    r = np.fft.irfftn(a, s=s, axes=dims) * builtins.int(np.prod(s))
    if scale != 1:
        r = r * scale
    out = _make(r.astype(_rdtype(a), copy=False))
    if _rec(x):
        node = R.FftC2RBackward0()
        node.dims, node.scale, node.n_last = dims, scale, n_last
        link(node, out, x)
    return out


def _c2c_backward(node, g):
    return _c2c(g, node.dims, node.scale, not node.forward)


def _r2c_backward(node, g):
    dims = node.dims
    last = dims[-1]
    have = g.shape[last]
    if have < node.n_last:
        shape = list(g.shape)
        shape[last] = node.n_last - have
        from .ops.movement import cat
        g = cat([g, g.new_zeros(tuple(shape))], last)
    return _c2c(g, dims, node.scale, False).real


def _c2r_backward(node, g):
    dims = node.dims
    gI = _r2c(g, dims, node.scale)
    last = dims[-1]
    half = gI.shape[last]
    double = g.shape[last] - half
    if double > 0:
        w = np.ones(half)
        w[1:1 + double] = 2
        shape = [1] * gI.dim()
        shape[last] = half
        gI = gI * _make(w.reshape(shape).astype(_rdtype(gI._data))).to(gI.device)
    return gI


# ---------------------------------------------------------------- argument handling
def _norm_scale(norm, n, forward):
    if norm is None or norm == "backward":
        return 1.0 if forward else 1.0 / n
    if norm == "forward":
        return 1.0 / n if forward else 1.0
    if norm == "ortho":
        return 1.0 / math.sqrt(n)
    raise RuntimeError(f'Invalid normalization mode: "{norm}"')


def _wrap(d, nd):
    if not -nd <= d < builtins.max(nd, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, "
                         f"{nd - 1}], but got {d})")
    return d % nd


def _resize(x, dims, sizes):
    """Zero-pad or trim x along dims to sizes (differentiable)."""
    for d, s in zip(dims, sizes):
        n = x.shape[d]
        if s < n:
            x = x.narrow(d, 0, s)
        elif s > n:
            shape = list(x.shape)
            shape[d] = s - n
            from .ops.movement import cat
            x = cat([x, x.new_zeros(tuple(shape))], d)
    return x


def _dims_sizes(x, s, dim, name, default_all=True):
    nd = x.dim()
    if dim is None:
        if s is None:
            dims = list(range(nd)) if default_all else [nd - 2, nd - 1]
        else:
            dims = list(range(nd - len(s), nd))
    else:
        dims = [dim] if isinstance(dim, (builtins.int, np.integer)) else list(dim)
        dims = [_wrap(builtins.int(d), nd) for d in dims]
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"{name} dims must be unique")
    if s is None:
        sizes = [None] * len(dims)
    else:
        sizes = list(s)
        if len(sizes) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    return dims, sizes


def _check_n(n, name):
    if n is not None and n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")


def _fftn_c2c(name, input, s, dim, norm, forward, default_all=True):
    dims, sizes = _dims_sizes(input, s, dim, name, default_all)
    sizes = [input.shape[d] if v is None or v == -1 else builtins.int(v)
             for d, v in zip(dims, sizes)]
    for v in sizes:
        _check_n(v, name)
    x = _resize(input, dims, sizes)
    n = builtins.int(np.prod(sizes)) if sizes else 1
    scale = _norm_scale(norm, n, forward)
    if not x.is_complex() and dims:   # a real input: a full (not onesided) r2c, as PyTorch
        out = _r2c(x, tuple(dims), scale, onesided=False)
        if not forward:     # the inverse of a real input: conj of the forward transform
            out = _make(out._data.conj()) if not out.requires_grad else out.conj()
        return out
    return _c2c(x, tuple(dims), scale, forward)


def _fftn_r2c(name, input, s, dim, norm, forward, default_all=True):
    if input.is_complex():
        raise RuntimeError(f"{name} expects a real input tensor, but got "
                           f"{str(input.dtype).replace('torch.', '').capitalize()}")
    dims, sizes = _dims_sizes(input, s, dim, name, default_all)
    sizes = [input.shape[d] if v is None or v == -1 else builtins.int(v)
             for d, v in zip(dims, sizes)]
    for v in sizes:
        _check_n(v, name)
    x = _resize(input, dims, sizes)
    n = builtins.int(np.prod(sizes)) if sizes else 1
    out = _r2c(x, tuple(dims), _norm_scale(norm, n, forward))
    return out if forward else out.conj()


def _fftn_c2r(name, input, s, dim, norm, forward, default_all=True):
    dims, sizes = _dims_sizes(input, s, dim, name, default_all)
    last_n = sizes[-1] if sizes and sizes[-1] not in (None, -1) else \
        2 * (input.shape[dims[-1]] - 1)
    _check_n(last_n, name)
    sizes = [input.shape[d] if v is None or v == -1 else builtins.int(v)
             for d, v in zip(dims[:-1], sizes[:-1])] + [last_n]
    x = _resize(input, dims, sizes[:-1] + [last_n // 2 + 1])
    if not x.is_complex():    # a real input enters as complex (its gradient is the real part)
        from ._dtype import from_np
        x = x.to(from_np(_cdtype(x._data) if x._data.dtype.kind == "f" else
                         np.dtype(np.complex64)))
    if forward:      # hfft: the inverse real transform of conj(x), forward-normalised
        x = x.conj()
    n = builtins.int(np.prod(sizes))
    return _c2r(x, tuple(dims), _norm_scale(norm, n, forward), last_n)


# ---------------------------------------------------------------- public API
def fft(input, n=None, dim=-1, norm=None, *, out=None):
    return _fftn_c2c("fft", input, None if n is None else [n], dim, norm, True)


def ifft(input, n=None, dim=-1, norm=None, *, out=None):
    return _fftn_c2c("ifft", input, None if n is None else [n], dim, norm, False)


def rfft(input, n=None, dim=-1, norm=None, *, out=None):
    return _fftn_r2c("rfft", input, None if n is None else [n], dim, norm, True)


def irfft(input, n=None, dim=-1, norm=None, *, out=None):
    return _fftn_c2r("irfft", input, None if n is None else [n], dim, norm, False)


def hfft(input, n=None, dim=-1, norm=None, *, out=None):
    return _fftn_c2r("hfft", input, None if n is None else [n], dim, norm, True)


def ihfft(input, n=None, dim=-1, norm=None, *, out=None):
    return _fftn_r2c("ihfft", input, None if n is None else [n], dim, norm, False)


def fft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _fftn_c2c("fft2", input, s, dim, norm, True)


def ifft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _fftn_c2c("ifft2", input, s, dim, norm, False)


def rfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _fftn_r2c("rfft2", input, s, dim, norm, True)


def irfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _fftn_c2r("irfft2", input, s, dim, norm, False)


def hfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _fftn_c2r("hfft2", input, s, dim, norm, True)


def ihfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _fftn_r2c("ihfft2", input, s, dim, norm, False)


def fftn(input, s=None, dim=None, norm=None, *, out=None):
    return _fftn_c2c("fftn", input, s, dim, norm, True)


def ifftn(input, s=None, dim=None, norm=None, *, out=None):
    return _fftn_c2c("ifftn", input, s, dim, norm, False)


def rfftn(input, s=None, dim=None, norm=None, *, out=None):
    return _fftn_r2c("rfftn", input, s, dim, norm, True)


def irfftn(input, s=None, dim=None, norm=None, *, out=None):
    return _fftn_c2r("irfftn", input, s, dim, norm, False)


def hfftn(input, s=None, dim=None, norm=None, *, out=None):
    return _fftn_c2r("hfftn", input, s, dim, norm, True)


def ihfftn(input, s=None, dim=None, norm=None, *, out=None):
    return _fftn_r2c("ihfftn", input, s, dim, norm, False)


def fftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    from ._dtype import get_default_dtype
    from .creation import tensor
    dtype = dtype or get_default_dtype()
    return tensor(np.fft.fftfreq(n, d), dtype=dtype, requires_grad=requires_grad)


def rfftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    from ._dtype import get_default_dtype
    from .creation import tensor
    dtype = dtype or get_default_dtype()
    return tensor(np.fft.rfftfreq(n, d), dtype=dtype, requires_grad=requires_grad)


def _shift(input, dim, sign):
    nd = input.dim()
    if dim is None:
        dims = list(range(nd))
    elif isinstance(dim, (builtins.int, np.integer)):
        dims = [builtins.int(dim)]
    else:
        dims = list(dim)
    shifts = [(input.shape[d] // 2) if sign > 0 else -(input.shape[d] // 2) for d in dims]
    return input.roll(shifts, dims)


def fftshift(input, dim=None):
    return _shift(input, dim, 1)


def ifftshift(input, dim=None):
    return _shift(input, dim, -1)


_ = Tensor
