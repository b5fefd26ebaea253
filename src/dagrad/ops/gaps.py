"""API gaps found against torch 2.13: renorm, block_diag, addr, cov/corrcoef, diagflat,
slice/select/diagonal_scatter, window functions, unravel_index, combinations, as_strided,
and missing in-place / method aliases (tril_, triu_, addmm_, erfc_, torch.acos_...).

Functions are written in dagrad Tensor ops (so gradients and double backward come from the
existing rules) except renorm and block_diag, which record PyTorch's node names.
"""
import builtins
import itertools
import math

from . import derivatives as R
from ._core import _make, grad_state, link, np
from ..tensor import Tensor

__all__ = ["renorm", "block_diag", "addr", "cov", "corrcoef", "diagflat", "slice_scatter",
           "select_scatter", "diagonal_scatter", "hann_window", "hamming_window",
           "blackman_window", "bartlett_window", "kaiser_window", "unravel_index",
           "combinations", "as_strided", "fill", "split_with_sizes", "empty_strided",
           "frombuffer", "is_same_size", "unsafe_chunk", "unsafe_split",
           "unsafe_split_with_sizes"]


def _rec(*ts):
    return grad_state.enabled and builtins.any(isinstance(t, Tensor) and t._rg for t in ts)


def _dims_except(nd, dim):
    return tuple(i for i in range(nd) if i != dim)


# ---------------------------------------------------------------- renorm
def renorm(input, p, dim, maxnorm, *, out=None):
    """Each slice along `dim` whose p-norm exceeds maxnorm is scaled to norm maxnorm
    (factor maxnorm / (norm + 1e-7), as PyTorch)."""
    x = input
    a = x._data
    if a.dtype.kind not in "fcV":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor "
                           f"as input. Got {_tname(x)}")
    p = builtins.float(p)
    if not p > 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if builtins.float(maxnorm) < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got "
                           f"{builtins.float(maxnorm):g}")
    nd = a.ndim
    if nd <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {nd} dimensions")
    if not -nd <= dim < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, "
                         f"{nd - 1}], but got {dim})")
    dim = dim % nd
    axes = _dims_except(nd, dim)
    n = _norm_arr(a, p, axes)
    mx = a.dtype.type(maxnorm) if a.dtype.kind == "f" else maxnorm
    factor = np.where(n > mx, mx / (n + a.dtype.type(1e-7)), a.dtype.type(1)).astype(a.dtype)
    r = _make(a * factor)
    if _rec(x):
        node = R.RenormBackward0()
        node.p, node.axes, node.maxnorm = p, axes, maxnorm
        from ._core import save
        save(node, x)
        link(node, r, x)
    if out is not None:
        out.copy_(r)
        return out
    return r


def _tname(x):
    return str(x.dtype).replace("torch.", "").capitalize().replace("Int64", "Long").replace(
        "Int32", "Int").replace("Int16", "Short").replace("Int8", "Char").replace(
        "Uint8", "Byte").replace("Float64", "Double").replace("Float32", "Float")


def _norm_arr(a, p, axes):
    aa = np.abs(a)
    if math.isinf(p):
        return aa.max(axis=axes, keepdims=True)
    if p == 2:
        return np.sqrt((aa * aa).sum(axis=axes, keepdims=True))
    if p == 1:
        return aa.sum(axis=axes, keepdims=True)
    return (aa ** p).sum(axis=axes, keepdims=True) ** (1.0 / p)


def _renorm_grad(x, g, p, axes, maxnorm):
    """d/dx of x * f(||x||_p) in Tensor ops (differentiable again)."""
    if math.isinf(p):
        n = x.abs().amax(axes, keepdim=True)
    else:
        n = (x.abs() ** p).sum(axes, keepdim=True) ** (1.0 / p) if p not in (1.0, 2.0) else (
            x.abs().sum(axes, keepdim=True) if p == 1.0 else
            (x * x).sum(axes, keepdim=True).sqrt())
    over = (n > maxnorm).detach()
    ne = n + 1e-7
    f = (maxnorm / ne).where(over, n.new_ones(()))
    s = (g * x).sum(axes, keepdim=True)
    if math.isinf(p):
        dn = x.sgn() * (x.abs() == n).to(x.dtype)
    elif p == 1.0:
        dn = x.sgn()
    elif p == 2.0:
        dn = x / n
    else:
        dn = x.sgn() * x.abs() ** (p - 1) / n ** (p - 1)
    df = (-maxnorm / (ne * ne)).where(over, n.new_zeros(()))
    return g * f + df * s * dn


def _renorm_inplace(x, p, dim, maxnorm):
    from . import inplace
    return inplace(lambda t, *a: renorm(t, *a), "renorm")(x, p, dim, maxnorm)


# ---------------------------------------------------------------- block_diag
def block_diag(*tensors):
    from .._dtype import result_type as _rt  # noqa: F401
    mats = []
    for i, t in enumerate(tensors):
        if t.dim() > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t.dim()} dimensions")
        mats.append(t)
    if not mats:
        from .._dtype import get_default_dtype
        return _make(np.zeros((1, 0), dtype=get_default_dtype().np))
    dt = mats[0]._data.dtype
    for t in mats[1:]:
        dt = np.promote_types(dt, t._data.dtype)
    shapes = []
    for t in mats:
        a = t._data
        shapes.append((1, 1) if a.ndim == 0 else (1, a.shape[0]) if a.ndim == 1 else a.shape)
    R_ = builtins.sum(s[0] for s in shapes)
    C_ = builtins.sum(s[1] for s in shapes)
    xp = type(mats[0]._data)
    out = np.zeros((R_, C_), dtype=dt) if xp is np.ndarray else \
        mats[0]._data.__array_namespace__().zeros((R_, C_), dtype=dt)
    r = c = 0
    spans = []
    for t, (h, w) in zip(mats, shapes):
        out[r:r + h, c:c + w] = t._data.reshape(h, w)
        spans.append((r, h, c, w, t._data.shape, t._data.dtype))
        r += h
        c += w
    res = _make(out)
    if _rec(*mats):
        node = R.BlockDiagBackward0()
        node.spans = spans
        link(node, res, *[t if t._rg else None for t in mats])
    return res


# ---------------------------------------------------------------- composites
def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    if vec1.dim() != 1 or vec2.dim() != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {vec1.dim()}-D"
                           if vec1.dim() != 1 else
                           f"addr: Expected 1-D argument vec2, but got {vec2.dim()}-D")
    o = vec1.outer(vec2)
    if alpha != 1:
        o = o * alpha
    if beta == 0:     # PyTorch ignores input (NaN/inf in it do not propagate)
        r = o + (input * 0).nan_to_num(0.0, 0.0, 0.0)
    elif beta == 1:
        r = input + o
    else:
        r = input * beta + o
    if out is not None:
        out.copy_(r)
        return out
    return r


def cov(input, *, correction=1, fweights=None, aweights=None):
    x = input
    if x.dim() > 2:
        raise ValueError(f"cov(): expected input to have two or fewer dimensions but got an "
                         f"input with {x.dim()} dimensions")
    if x.dim() < 2:
        x = x.reshape(1, -1)
    n_obs = x.shape[1]
    if not x.is_floating_point() and not x.is_complex():
        x = x.to(_default_float())
    w = None
    if fweights is not None:
        w = fweights
    if aweights is not None:
        w = aweights if w is None else w * aweights
    if w is None:
        avg = x.mean(1)
        w_sum = n_obs
        norm_factor = n_obs - correction
    else:
        w = w.to(x.dtype)
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
        if correction == 0:
            norm_factor = w_sum
        elif aweights is None:
            norm_factor = w_sum - correction
        else:
            norm_factor = w_sum - correction * (w * aweights.to(x.dtype)).sum() / w_sum
    if isinstance(norm_factor, Tensor):
        norm_factor = norm_factor.clamp_min(0)
    else:
        norm_factor = builtins.max(norm_factor, 0)
    xm = x - avg.unsqueeze(1)
    xw = xm if w is None else xm * w
    c = xw.mm(xm.t().conj())
    c = c / norm_factor
    return c.squeeze() if input.dim() < 2 or c.shape[0] == 1 else c


def corrcoef(input):
    c = cov(input)
    if c.dim() == 0:
        return c / c
    d = c.diagonal()
    sd = d.sqrt()
    c = c / sd.unsqueeze(1)
    c = c / sd.unsqueeze(0)
    return c.clamp(-1, 1) if not c.is_complex() else c


def _default_float():
    from .._dtype import get_default_dtype
    return get_default_dtype()


def diagflat(input, offset=0):
    from .linalg import diag
    return diag(input.contiguous().reshape(-1), offset)


def _scatter_into(input, src, key):
    out = input.clone()
    out[key] = src
    return out


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    nd = input.dim()
    dim = dim % nd if nd else 0
    key = [slice(None)] * nd
    key[dim] = slice(start, end, step)
    expect = tuple(input[tuple(key)].shape)
    if tuple(src.shape) != expect:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(expect)}")
    return _scatter_into(input, src, tuple(key))


def select_scatter(input, src, dim, index):
    nd = input.dim()
    d = dim % nd
    key = [slice(None)] * nd
    key[d] = index
    expect = tuple(input[tuple(key)].shape)
    if tuple(src.shape) != expect:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(expect)}")
    return _scatter_into(input, src, tuple(key))


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    expect = tuple(input.diagonal(offset, dim1, dim2).shape)
    if tuple(src.shape) != expect:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(expect)}")
    out = input.clone()
    nd = input.dim()
    d1, d2 = dim1 % nd, dim2 % nd
    n = expect[-1]
    i = np.arange(n)
    r = i + builtins.max(-offset, 0)
    c = i + builtins.max(offset, 0)
    # move the two dims last, write the diagonal, move back (all differentiable views)
    perm = [k for k in range(nd) if k not in (d1, d2)] + [d1, d2]
    v = out.permute(*perm)
    v[..., _make(r), _make(c)] = src
    return out


# ---------------------------------------------------------------- windows
def _window(name, window_length, periodic, dtype, requires_grad, fn):
    from .._dtype import get_default_dtype
    from ..creation import tensor
    dtype = dtype or get_default_dtype()
    if not dtype.is_floating_point:
        cname = {"int64": "long int", "int32": "int", "int16": "short int",
                 "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}.get(
            str(dtype).replace("torch.", ""), str(dtype))
        raise RuntimeError(f"{name} expects floating point dtypes, got: TensorOptions(dtype="
                           f"{cname}, device=cpu, layout=Strided (default), requires_grad=false "
                           f"(default), pinned_memory=false, memory_format=(nullopt))")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    if window_length == 0:
        return tensor(np.zeros(0), dtype=dtype, requires_grad=requires_grad)
    if window_length == 1:
        return tensor(np.ones(1), dtype=dtype, requires_grad=requires_grad)
    N = window_length + 1 if periodic else window_length
    w = fn(N)
    if periodic:
        w = w[:-1]
    return tensor(w, dtype=dtype, requires_grad=requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                pin_memory=False, requires_grad=False):
    return hamming_window(window_length, periodic, 0.5, 0.5, dtype=dtype,
                          requires_grad=requires_grad, _name="hann_window")


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, pin_memory=False, requires_grad=False,
                   _name="hamming_window"):
    def f(N):
        k = np.arange(N, dtype=np.float64)
        return alpha - beta * np.cos(2 * math.pi * k / (N - 1))
    return _window(_name, window_length, periodic, dtype, requires_grad, f)


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    pin_memory=False, requires_grad=False):
    def f(N):
        k = np.arange(N, dtype=np.float64)
        return (0.42 - 0.5 * np.cos(2 * math.pi * k / (N - 1)) +
                0.08 * np.cos(4 * math.pi * k / (N - 1)))
    return _window("blackman_window", window_length, periodic, dtype, requires_grad, f)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    pin_memory=False, requires_grad=False):
    def f(N):
        k = np.arange(N, dtype=np.float64)
        return 1 - np.abs(2 * k / (N - 1) - 1)
    return _window("bartlett_window", window_length, periodic, dtype, requires_grad, f)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, pin_memory=False, requires_grad=False):
    def f(N):
        k = np.arange(N, dtype=np.float64)
        r = 2 * k / (N - 1) - 1
        return np.i0(beta * np.sqrt(np.clip(1 - r * r, 0, None))) / np.i0(beta)
    return _window("kaiser_window", window_length, periodic, dtype, requires_grad, f)


# ---------------------------------------------------------------- indices, views
def unravel_index(indices, shape):
    from ..creation import tensor
    a = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if a.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got "
                        f"{'torch.float32' if a.dtype.kind == 'f' else a.dtype}")
    shape = (shape,) if isinstance(shape, (builtins.int, np.integer)) else tuple(shape)
    if builtins.any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got "
                         f"{tuple(shape)}")
    a = a.astype(np.int64)
    out = []
    div = 1
    for s_ in reversed(shape):    # PyTorch wraps out-of-range indices (floor div / mod)
        out.append(tensor((a // div) % s_ if s_ else a * 0))
        div *= s_
    return tuple(reversed(out))


def combinations(input, r=2, with_replacement=False):
    if input.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    n = input.shape[0]
    if r == 0:
        return input.new_empty((0,))
    gen = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    idx = np.array(list(gen(range(n), r)), dtype=np.int64).reshape(-1, r)
    return input.index_select(0, _make(idx.reshape(-1))).reshape(idx.shape)


def as_strided(input, size, stride, storage_offset=None):
    """x.as_strided(...) read from x's elements in row-major order (dagrad tensors expose no
    storage: exact for contiguous tensors, the common case); differentiable via take."""
    size = tuple(builtins.int(s) for s in size)
    stride = tuple(builtins.int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape")
    off = 0 if storage_offset is None else builtins.int(storage_offset)
    idx = off + builtins.sum((np.arange(s).reshape((-1,) + (1,) * (len(size) - i - 1)) * st
                              for i, (s, st) in enumerate(zip(size, stride))),
                             np.zeros((), dtype=np.int64))
    idx = np.broadcast_to(np.asarray(idx, dtype=np.int64), size)
    n = input.numel()
    if idx.size and idx.max() >= n:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {off}, and itemsize {input.element_size()} requiring a "
                           f"storage size of {(builtins.int(idx.max()) + 1) * input.element_size()}"
                           f" are out of bounds for storage of size "
                           f"{n * input.element_size()}")
    return input.reshape(-1).take(_make(np.ascontiguousarray(idx)))


def fill(input, value):
    return input.clone().fill_(value) if not isinstance(value, Tensor) else \
        input * 0 + value


def split_with_sizes(input, split_sizes, dim=0):
    total = builtins.sum(split_sizes)
    if total != input.shape[dim]:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to "
                           f"{input.shape[dim]} (input tensor's size at dimension {dim}), but "
                           f"got split_sizes={list(split_sizes)}")
    return input.split(list(split_sizes), dim)


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    return split_with_sizes(input, split_sizes, dim)


def unsafe_split(input, split_size, dim=0):
    return input.split(split_size, dim)


def unsafe_chunk(input, chunks, dim=0):
    return input.chunk(chunks, dim)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    from ..creation import empty
    return empty(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    from ..creation import tensor
    a = np.frombuffer(buffer, dtype=dtype.np if hasattr(dtype, "np") else dtype, count=count,
                      offset=offset)
    return tensor(a.copy(), dtype=dtype, requires_grad=requires_grad)


def is_same_size(input, other):
    return tuple(input.shape) == tuple(other.shape)


# ---------------------------------------------------------------- method / alias binding
def _alias_method(name):
    def f(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    f.__name__ = name
    return f


_TORCH_INPLACE = ["acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
                  "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "deg2rad_", "erfc_",
                  "exp2_", "gcd_", "i0_", "lcm_", "ldexp_", "logit_", "negative_",
                  "rad2deg_", "sinc_", "xlogy_"]


def _bind():
    from . import inplace, linalg as L
    T = Tensor
    meth = {"renorm": renorm, "addr": addr, "cov": cov, "corrcoef": corrcoef,
            "diagflat": diagflat, "slice_scatter": slice_scatter,
            "select_scatter": select_scatter, "diagonal_scatter": diagonal_scatter,
            "as_strided": as_strided, "split_with_sizes": split_with_sizes,
            "is_same_size": is_same_size, "unsafe_chunk": unsafe_chunk,
            "unsafe_split": unsafe_split, "unsafe_split_with_sizes": unsafe_split_with_sizes}
    for k, v in meth.items():
        if not hasattr(T, k):
            setattr(T, k, v)
    ip = {"tril": L.tril, "triu": L.triu, "renorm": renorm, "addr": addr, "addmm": L.addmm,
          "addmv": L.addmv, "addbmm": L.addbmm, "baddbmm": L.baddbmm,
          "erfc": T.erfc, "absolute": T.abs, "negative": T.neg, "arccosh": T.acosh,
          "arcsinh": T.asinh, "arctanh": T.atanh, "arctan2": T.atan2, "cumprod": T.cumprod,
          "logical_xor": T.logical_xor, "greater": T.gt, "greater_equal": T.ge,
          "less": T.lt, "less_equal": T.le, "not_equal": T.ne,
          "float_power": None}
    for k, fn in ip.items():
        if hasattr(T, k + "_") or fn is None:
            continue
        setattr(T, k + "_", inplace(fn, k))
    if not hasattr(T, "float_power_"):
        def float_power_(x, exponent):
            if x.dtype != _f64():
                raise RuntimeError(f"the base given to float_power_ has dtype "
                                   f"{_tname(x)} but "
                                   f"the operation's result requires dtype Double")
            return x.pow_(exponent)
        T.float_power_ = float_power_
    if not hasattr(T, "swapaxes_"):
        T.swapaxes_ = T.swapdims_ = lambda x, d0, d1: x.transpose_(d0, d1)
    if not hasattr(T, "bernoulli"):
        from ..creation import bernoulli
        T.bernoulli = lambda x, p=None, *, generator=None: (
            bernoulli(x, generator=generator) if p is None else
            bernoulli(x.new_full(tuple(x.shape), builtins.float(p)), generator=generator))
    if not hasattr(T, "multinomial"):
        from ..creation import multinomial
        T.multinomial = multinomial
    if not hasattr(T, "is_nonzero"):
        def is_nonzero(x):
            if x.numel() == 0:
                raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
            if x.numel() > 1:
                raise RuntimeError("Boolean value of Tensor with more than one value is "
                                   "ambiguous")
            return builtins.bool(x.item())
        T.is_nonzero = is_nonzero
    if not hasattr(T, "is_inference"):
        T.is_inference = lambda x: False
    if not hasattr(T, "output_nr"):
        T.output_nr = property(lambda x: x._nr if x.grad_fn is not None else 0)
    if not hasattr(T, "isreal"):
        def isreal(x):
            if x.is_complex():
                return x.imag == 0
            return x.new_ones(tuple(x.shape), dtype=_bool())
        T.isreal = isreal
    if not hasattr(T, "hardshrink"):
        T.hardshrink = lambda x, lambd=0.5: _F().hardshrink(x, lambd)
    if not hasattr(T, "prelu"):
        T.prelu = lambda x, weight: _F().prelu(x, weight)


def _F():
    from ..nn import functional
    return functional


def _f64():
    from .._dtype import float64
    return float64


def _bool():
    from .._dtype import bool_
    return bool_


_bind()
for _n in _TORCH_INPLACE:
    globals()[_n] = _alias_method(_n)
    __all__.append(_n)
