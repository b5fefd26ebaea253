"""API gaps found against torch 2.13: renorm, block_diag, addr, cov/corrcoef, diagflat,
slice/select/diagonal_scatter, window functions, unravel_index, combinations, as_strided,
and missing in-place / method aliases (tril_, triu_, addmm_, erfc_, torch.acos_...).

Functions are written in dagrad Tensor ops (so gradients and double backward come from the
existing rules) except renorm and block_diag, which record PyTorch's node names.
"""
import builtins
import itertools
import math

from ..backend import get_array_module as _gam
from ..tensor import Tensor
from . import derivatives as R
from ._core import _make, grad_state, link, np

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
def _window(name, window_length, periodic, dtype, requires_grad, fn, device=None):
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
        return tensor(np.zeros(0), dtype=dtype, device=device, requires_grad=requires_grad)
    if window_length == 1:
        return tensor(np.ones(1), dtype=dtype, device=device, requires_grad=requires_grad)
    N = window_length + 1 if periodic else window_length
    w = fn(N)
    if periodic:
        w = w[:-1]
    return tensor(w, dtype=dtype, device=device, requires_grad=requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                pin_memory=False, requires_grad=False):
    return hamming_window(window_length, periodic, 0.5, 0.5, dtype=dtype, device=device,
                          requires_grad=requires_grad, _name="hann_window")


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, pin_memory=False, requires_grad=False,
                   _name="hamming_window"):
    def f(N):
        k = np.arange(N, dtype=np.float64)
        return alpha - beta * np.cos(2 * math.pi * k / (N - 1))
    return _window(_name, window_length, periodic, dtype, requires_grad, f, device)


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    pin_memory=False, requires_grad=False):
    def f(N):
        k = np.arange(N, dtype=np.float64)
        return (0.42 - 0.5 * np.cos(2 * math.pi * k / (N - 1)) +
                0.08 * np.cos(4 * math.pi * k / (N - 1)))
    return _window("blackman_window", window_length, periodic, dtype, requires_grad, f, device)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    pin_memory=False, requires_grad=False):
    def f(N):
        k = np.arange(N, dtype=np.float64)
        return 1 - np.abs(2 * k / (N - 1) - 1)
    return _window("bartlett_window", window_length, periodic, dtype, requires_grad, f, device)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, pin_memory=False, requires_grad=False):
    def f(N):
        k = np.arange(N, dtype=np.float64)
        r = 2 * k / (N - 1) - 1
        return np.i0(beta * np.sqrt(np.clip(1 - r * r, 0, None))) / np.i0(beta)
    return _window("kaiser_window", window_length, periodic, dtype, requires_grad, f, device)


# ---------------------------------------------------------------- indices, views
def unravel_index(indices, shape):
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
        out.append(_make((a // div) % s_ if s_ else a * 0))
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
        raise RuntimeError("mismatch in length of strides and shape")
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
    from . import inplace
    from . import linalg as L
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


# ---------------------------------------------------------------- batch 2: torch.* natives
_RED = {0: "none", 1: "mean", 2: "sum"}


def _red(r):
    return _RED.get(r, r) if not isinstance(r, str) else r


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    return _F().binary_cross_entropy_with_logits(input, target, weight, reduction=_red(reduction),
                                                 pos_weight=pos_weight)


def kl_div(input, target, reduction=1, *, log_target=False):
    import warnings
    with warnings.catch_warnings():     # the native op does not warn about 'mean'
        warnings.simplefilter("ignore")
        return _F().kl_div(input, target, reduction=_red(reduction), log_target=log_target)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    return _F().cosine_embedding_loss(input1, input2, target, margin, reduction=_red(reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    return _F().hinge_embedding_loss(input, target, margin, reduction=_red(reduction))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    return _F().margin_ranking_loss(input1, input2, target, margin, reduction=_red(reduction))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return _F().poisson_nll_loss(input, target, log_input, full, eps=eps,
                                 reduction=_red(reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False,
                        reduction=1):
    return _F().triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                    reduction=_red(reduction))


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    return _F().embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                          scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    return _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                           eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
                  eps, cudnn_enabled):
    return _F().instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                              momentum, eps)


def constant_pad_nd(input, pad, value=0):
    return _F().pad(input, list(pad), "constant", value)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode=False):
    return _F().max_pool1d(input, kernel_size, stride if stride not in ((), []) else None,
                           padding, dilation, ceil_mode, return_indices=True)


def dropout_(input, p, train):
    return _F().dropout(input, p, train, inplace=True)


def alpha_dropout_(input, p, train):
    return _F().alpha_dropout(input, p, train, inplace=True)


def feature_dropout(input, p, train):
    return _F()._dropout_impl(input, p, train, False, feature=True)


def feature_dropout_(input, p, train):
    return _F()._dropout_impl(input, p, train, True, feature=True)


def feature_alpha_dropout_(input, p, train):
    return _F()._dropout_impl(input, p, train, True, feature=True, alpha=True)


def _lin(x, w, b):
    y = x.matmul(w.t())
    return y + b if b is not None else y


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return (_lin(input, w_ih, b_ih) + _lin(hx, w_hh, b_hh)).tanh()


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return (_lin(input, w_ih, b_ih) + _lin(hx, w_hh, b_hh)).relu()


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    h, c = hx
    gates = _lin(input, w_ih, b_ih) + _lin(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, -1)
    c2 = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c2.tanh(), c2


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    gi = _lin(input, w_ih, b_ih)
    gh = _lin(hx, w_hh, b_hh)
    ir, iz, in_ = gi.chunk(3, -1)
    hr, hz, hn = gh.chunk(3, -1)
    r = (ir + hr).sigmoid()
    z = (iz + hz).sigmoid()
    n = (in_ + r * hn).tanh()
    return (1 - z) * n + z * hx


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                groups):
    F = _F()
    nd = weight.dim() - 2
    if transposed:
        fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[nd]
        return fn(input, weight, bias, stride, padding, output_padding, groups, dilation)
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nd]
    return fn(input, weight, bias, stride, padding, dilation, groups)


def _put(input, index, source, accumulate=False):
    if index.dtype.is_floating_point or index._data.dtype.kind not in "iu":
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got "
                           f"{str(index.dtype).replace('torch.', '').capitalize()}")
    if index.numel() != source.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {source.numel()}, "
                           f"index.numel() = {index.numel()}")
    n = input.numel()
    idx = index._data.reshape(-1).astype(np.int64)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = builtins.int(idx[np.argmax((idx < -n) | (idx >= n))])
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         f"elements.")
    idx = np.where(idx < 0, idx + n, idx)
    flat = input.reshape(-1)
    out = flat.index_put((_make(idx),), source.reshape(-1).to(input.dtype), accumulate)
    return out.reshape(tuple(input.shape))


def put(input, index, source, accumulate=False):
    return _put(input, index, source, accumulate)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    nd = input.dim()
    if dim is None:
        dims = list(range(nd))
    elif isinstance(dim, (builtins.int, np.integer)):
        dims = [builtins.int(dim) % nd]
    else:
        dims = [builtins.int(d) % nd for d in dim]
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
    if isinstance(spacing, (builtins.int, builtins.float, np.number)):
        sp = [spacing] * len(dims)
    elif isinstance(spacing, Tensor) and spacing.dim() == 0:
        sp = [spacing.item()] * len(dims)
    else:
        sp = list(spacing)
        if len(sp) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or "
                               f"it's spacing and dim arguments to have the same length, but "
                               f"got a spacing argument of length {len(sp)} and a dim "
                               f"argument of length {len(dims)}.")
    x = input if input.is_floating_point() or input.is_complex() else \
        input.to(_default_float())
    outs = []
    for d, s in zip(dims, sp):
        n = input.shape[d]
        if isinstance(s, Tensor) and s.dim() == 1:
            c = s._data.astype(np.float64)
        else:
            c = np.arange(n, dtype=np.float64) * (s.item() if isinstance(s, Tensor)
                                                   else builtins.float(s))
        outs.append(_grad_1d(x, d, c, edge_order))
    return tuple(outs)


def _coef(arr, d, nd, dt, device=None):
    shape = [1] * nd
    shape[d] = -1
    r = _make(arr.reshape(shape).astype(dt))
    return r if device is None else r.to(device)


def _grad_1d(f, d, c, edge_order):
    nd = f.dim()
    dt = f._data.dtype
    n = f.shape[d]
    sl = lambda a, b: f.narrow(d, a, b - a)  # noqa: E731
    hs = c[1:-1] - c[:-2]
    hd = c[2:] - c[1:-1]
    pieces = []
    if edge_order == 1:
        pieces.append((sl(1, 2) - sl(0, 1)) / builtins.float(c[1] - c[0]))
    else:
        dx1, dx2 = c[1] - c[0], c[2] - c[1]
        a = -(2 * dx1 + dx2) / (dx1 * (dx1 + dx2))
        b = (dx1 + dx2) / (dx1 * dx2)
        cc = -dx1 / (dx2 * (dx1 + dx2))
        pieces.append(sl(0, 1) * builtins.float(a) + sl(1, 2) * builtins.float(b) +
                      sl(2, 3) * builtins.float(cc))
    if n > 2:
        a = -hd / (hs * (hs + hd))
        b = (hd - hs) / (hs * hd)
        cc = hs / (hd * (hs + hd))
        dv = f.device
        pieces.append(sl(0, n - 2) * _coef(a, d, nd, dt, dv)
                      + sl(1, n - 1) * _coef(b, d, nd, dt, dv) + sl(2, n) * _coef(cc, d, nd, dt, dv))
    if edge_order == 1:
        pieces.append((sl(n - 1, n) - sl(n - 2, n - 1)) / builtins.float(c[-1] - c[-2]))
    else:
        dx1, dx2 = c[-2] - c[-3], c[-1] - c[-2]
        a = dx2 / (dx1 * (dx1 + dx2))
        b = -(dx2 + dx1) / (dx1 * dx2)
        cc = (2 * dx2 + dx1) / (dx2 * (dx1 + dx2))
        pieces.append(sl(n - 3, n - 2) * builtins.float(a) + sl(n - 2, n - 1) * builtins.float(b)
                      + sl(n - 1, n) * builtins.float(cc))
    from . import movement as _mv
    return _mv.cat(pieces, d) if hasattr(_mv, "cat") else _cat(pieces, d)


def _cat(pieces, d):
    import dagrad
    return dagrad.cat(pieces, d)


def cond(pred, true_fn, false_fn, operands=()):
    p = pred.item() if isinstance(pred, Tensor) else pred
    return true_fn(*operands) if p else false_fn(*operands)


def while_loop(cond_fn, body_fn, carried_inputs):
    vals = tuple(carried_inputs)
    while True:
        c = cond_fn(*vals)
        if not (c.item() if isinstance(c, Tensor) else c):
            return vals
        vals = body_fn(*vals)
        vals = tuple(vals) if isinstance(vals, (tuple, list)) else (vals,)


def _copy_of(fn_name):
    def f(input, *args, **kwargs):
        r = getattr(input, fn_name)(*args, **kwargs)
        if isinstance(r, (tuple, list)):
            return type(r)(t.clone(memory_format=None) if False else t.clone() for t in r)
        return r.clone()
    f.__name__ = fn_name + "_copy"
    return f


_COPIES = ["view", "permute", "t", "transpose", "unsqueeze", "squeeze", "expand", "detach",
           "diagonal", "select", "split", "split_with_sizes", "unbind", "narrow", "unfold",
           "view_as_real", "as_strided"]
for _n in _COPIES:
    if _n == "view_as_real":
        def view_as_real_copy(input):
            import dagrad
            return dagrad.view_as_real(input).clone()
        globals()["view_as_real_copy"] = view_as_real_copy
    else:
        globals()[_n + "_copy"] = _copy_of(_n)
    __all__.append(_n + "_copy")


def alias_copy(input):
    return input.clone()


def slice_copy(input, dim=0, start=None, end=None, step=1):
    key = [slice(None)] * input.dim()
    key[dim] = slice(start, end, step)
    return input[tuple(key)].clone()


__all__ += ["binary_cross_entropy_with_logits", "kl_div", "cosine_embedding_loss",
            "hinge_embedding_loss", "margin_ranking_loss", "poisson_nll_loss",
            "triplet_margin_loss", "embedding", "batch_norm", "instance_norm", "constant_pad_nd",
            "max_pool1d_with_indices", "dropout_", "alpha_dropout_", "feature_dropout",
            "feature_dropout_", "feature_alpha_dropout_", "rnn_tanh_cell", "rnn_relu_cell",
            "lstm_cell", "gru_cell", "convolution", "put", "gradient", "cond", "while_loop",
            "alias_copy", "slice_copy", "addmv_", "conj_physical_"]
addmv_ = _alias_method("addmv_")
conj_physical_ = _alias_method("conj_physical_")


def _bind2():
    from . import inplace
    T = Tensor
    if not hasattr(T, "put"):
        T.put = _put
    if not hasattr(T, "put_"):
        T.put_ = inplace(_put, "put")
    if not hasattr(T, "conj_physical_"):
        T.conj_physical_ = inplace(T.conj_physical, "conj_physical")
    if not hasattr(T, "polygamma_"):
        T.polygamma_ = inplace(lambda x, n: x.polygamma(n), "polygamma")
    if not hasattr(T, "mvlgamma_"):
        T.mvlgamma_ = inplace(lambda x, p: x.mvlgamma(p), "mvlgamma")
    if not hasattr(T, "narrow_copy"):
        T.narrow_copy = lambda x, dim, start, length: x.narrow(dim, start, length).clone()
    if not hasattr(T, "cfloat"):
        T.cfloat = lambda x: x.to(_cdt("complex64"))
    if not hasattr(T, "cdouble"):
        T.cdouble = lambda x: x.to(_cdt("complex128"))
    if not hasattr(T, "new_empty_strided"):
        T.new_empty_strided = lambda x, size, stride, *, dtype=None, device=None, \
            requires_grad=False, **_: x.new_empty(tuple(size), dtype=dtype,
                                                  requires_grad=requires_grad)
    if not hasattr(T, "new"):
        def new(x, *args):
            """Legacy constructor: new(*sizes) / new(Size) -> uninitialised, new(sequence) ->
            data, new(tensor) -> the same data."""
            from ..tensor import Size
            if len(args) == 1 and isinstance(args[0], Tensor):
                return args[0].detach()
            if len(args) == 1 and isinstance(args[0], Size):
                return x.new_empty(tuple(args[0]))
            if len(args) == 1 and isinstance(args[0], (list, tuple)):
                return x.new_tensor(args[0])
            return x.new_empty(tuple(args) if args else (0,))
        T.new = new


def _cdt(name):
    from .. import _dtype
    return getattr(_dtype, name)


_bind2()


# ---------------------------------------------------------------- conv_transpose3d
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-D transposed convolution as a sum over kernel depth of 2-D transposed convolutions
    (depth folded into the batch), each placed at its strided depth offset; composite, so its
    gradients (and double backward) come from conv_transpose2d's."""
    import dagrad

    from . import conv as C
    name = "conv_transpose3d"
    C._check_types(input, weight, bias)
    x, unb = C._batchify(name, input, 3)
    stride = C._tuple(stride, 3, "stride")
    dilation = C._tuple(dilation, 3, "dilation")
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    pp = C._tuple(padding, 3, "padding")
    op = C._tuple(output_padding, 3, "output_padding")
    groups = builtins.int(groups)
    pad = tuple(q for v in pp for q in (v, v))
    C._check_conv(name, x, weight, bias, stride, pad, dilation, groups, 3, transposed=True)
    if builtins.any(op[i] >= stride[i] and op[i] >= dilation[i] for i in range(3)):
        names = ("depth", "height", "width")
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation, but got " +
            " ".join(f"output_padding_{n}: {v}" for n, v in zip(names, op)) + " " +
            " ".join(f"stride_{n}: {v}" for n, v in zip(names, stride)) + " " +
            " ".join(f"dilation_{n}: {v}" for n, v in zip(names, dilation)))
    ks = weight.shape[2:]
    osz = tuple((x.shape[2 + i] - 1) * stride[i] - 2 * pp[i] + dilation[i] * (ks[i] - 1)
                + op[i] + 1 for i in range(3))
    if builtins.any(o <= 0 for o in osz):
        raise RuntimeError(
            f"Given input size per channel: ({' x '.join(map(str, x.shape[2:]))}). Calculated "
            f"output size per channel: ({' x '.join(map(str, osz))}). Output size is too small")
    N, Ci, D, H, W = x.shape
    s0, d0, p0 = stride[0], dilation[0], pp[0]
    xs = x.permute(0, 2, 1, 3, 4).reshape(N * D, Ci, H, W)
    span = (D - 1) * s0 + 1
    full = span + d0 * (ks[0] - 1) + op[0]
    acc = None
    for k in range(ks[0]):
        y = C.conv_transpose2d(xs, weight[:, :, k], None, stride[1:], pp[1:], op[1:], groups,
                               dilation[1:])
        Co, Ho, Wo = y.shape[1:]
        y = y.reshape(N, D, Co, Ho, Wo)
        if s0 > 1:      # insert s0 - 1 zero planes between input depths
            z = y.new_zeros((N, D, s0 - 1, Co, Ho, Wo))
            y = dagrad.cat([y.unsqueeze(2), z], 2).reshape(N, D * s0, Co, Ho, Wo)[:, :span]
        front, back = k * d0, full - span - k * d0
        parts = ([y.new_zeros((N, front, Co, Ho, Wo))] if front else []) + [y] + (
            [y.new_zeros((N, back, Co, Ho, Wo))] if back else [])
        y = dagrad.cat(parts, 1) if len(parts) > 1 else y
        acc = y if acc is None else acc + y
    out = acc[:, p0:p0 + osz[0]].permute(0, 2, 1, 3, 4)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    out = out.contiguous()
    return out.squeeze(0) if unb else out


__all__.append("conv_transpose3d")


# ---------------------------------------------------------------- batch 3
# Functions PyTorch removed in 1.9: they still exist there and raise these messages.
_REMOVED = {
    'matrix_rank': (
        'This function was deprecated since version 1.9 and is now removed.\n'
        'Please use the `torch.linalg.matrix_rank` function instead. The parameter '
        "'symmetric' was renamed in `torch.linalg.matrix_rank()` to 'hermitian'."
    ),
    'solve': (
        'This function was deprecated since version 1.9 and is now removed. '
        '`torch.solve` is deprecated in favor of `torch.linalg.solve`. '
        '`torch.linalg.solve` has its arguments reversed and does not return the LU '
        'factorization.\n'
        '\n'
        'To get the LU factorization see `torch.lu`, which can be used with '
        '`torch.lu_solve` or `torch.lu_unpack`.\n'
        'X = torch.solve(B, A).solution should be replaced with:\n'
        'X = torch.linalg.solve(A, B)'
    ),
    'lstsq': (
        'This function was deprecated since version 1.9 and is now removed. '
        '`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n'
        '`torch.linalg.lstsq` has reversed arguments and does not return the QR '
        'decomposition in the returned tuple (although it returns other information '
        'about the problem).\n'
        '\n'
        'To get the QR decomposition consider using `torch.linalg.qr`.\n'
        '\n'
        'The returned solution in `torch.lstsq` stored the residuals of the solution in '
        'the last m - n columns of the returned value whenever m > n. In '
        "torch.linalg.lstsq, the residuals are in the field 'residuals' of the returned "
        'named tuple.\n'
        '\n'
        'The unpacking of the solution, as in\n'
        'X, _ = torch.lstsq(B, A).solution[:A.size(1)]\n'
        'should be replaced with:\nX = torch.linalg.lstsq(A, B).solution'
    ),
    'eig': (
        'This function was deprecated since version 1.9 and is now removed. '
        '`torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` '
        'rather than real tensors mimicking complex tensors.\n'
        '\n'
        'L, _ = torch.eig(A) should be replaced with:\n'
        'L_complex = torch.linalg.eigvals(A)\n'
        '\n'
        'and\n'
        '\n'
        'L, V = torch.eig(A, eigenvectors=True) should be replaced with:\n'
        'L_complex, V_complex = torch.linalg.eig(A)'
    ),
    'symeig': (
        'This function was deprecated since version 1.9 and is now removed. The default '
        'behavior has changed from using the upper triangular portion of the matrix by '
        'default to using the lower triangular portion.\n'
        '\n'
        'L, _ = torch.symeig(A, upper=upper) should be replaced with:\n'
        "L = torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n"
        '\n'
        'and\n'
        '\n'
        'L, V = torch.symeig(A, eigenvectors=True) should be replaced with:\n'
        "L, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')"
    ),
}


def _removed(name):
    def f(*args, **kwargs):
        raise RuntimeError(_REMOVED[name])
    f.__name__ = name
    return f


matrix_rank = _removed("matrix_rank")
solve = _removed("solve")
lstsq = _removed("lstsq")
eig = _removed("eig")


def lu(A, pivot=True, get_infos=False, out=None):
    """torch.lu (deprecated): linalg.lu_factor_ex's (LU, pivots[, infos])."""
    from .. import linalg
    LU, piv, info = linalg.lu_factor_ex(A, pivot=pivot)
    return (LU, piv, info) if get_infos else (LU, piv)


_BETA_WARNED = [False]


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    if not _BETA_WARNED[0]:     # PyTorch's TORCH_WARN_ONCE
        import warnings
        warnings.warn("index_reduce() is in beta and the API may change at any time.",
                      UserWarning, stacklevel=2)
        _BETA_WARNED[0] = True
    nd = input.dim()
    d = dim % nd if nd else 0
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    if index.dim() > 1:
        raise IndexError("index_reduce_(): Index is supposed to be a vector")
    shape = [1] * source.dim()
    if source.dim():
        shape[d] = -1
    idx = index.reshape(shape).expand(*source.shape) if source.dim() else index.reshape(())
    return input.scatter_reduce(d, idx, source, reduce, include_self=include_self)


def nonzero_static(input, *, size, fill_value=-1):
    from ..creation import tensor
    nz = np.argwhere(input._data)
    nd = input.dim()
    out = _gam(nz).full((size, nd), fill_value, dtype=np.int64)
    k = builtins.min(size, nz.shape[0])
    out[:k] = nz[:k]
    return tensor(out) if type(out) is np.ndarray else _make(out)


def frobenius_norm(input, dim=(), keepdim=False):
    dims = tuple(dim) if not isinstance(dim, builtins.int) else (dim,)
    if not dims:
        dims = None
    return (input.abs() ** 2 if input.is_complex() else input * input).sum(
        dims, keepdim=keepdim).sqrt() if dims is not None else \
        (input.abs() ** 2 if input.is_complex() else input * input).sum().sqrt()


def nuclear_norm(input, dim=None, keepdim=False):
    from .. import linalg
    if dim is None:
        if input.dim() != 2:
            raise RuntimeError(f"nuclear_norm requires a 2-D matrix, but got a {input.dim()}-D "
                               f"tensor")
        return linalg.matrix_norm(input, "nuc", keepdim=keepdim)
    return linalg.matrix_norm(input, "nuc", dim=tuple(dim), keepdim=keepdim)


def _resize_(x, *sizes):
    """In place: x's elements (row-major) become the first ones of the new shape; new ones are
    uninitialised (zeros here). Tensors that require grad cannot be resized, as PyTorch."""
    if len(sizes) == 1 and not isinstance(sizes[0], (builtins.int, np.integer)):
        sizes = tuple(sizes[0])
    sizes = tuple(builtins.int(s) for s in sizes)
    if x.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    n = builtins.int(np.prod(sizes)) if sizes else 1
    a = x._data
    if n == a.size:
        new = a.reshape(sizes).copy() if not a.flags.c_contiguous else a.reshape(sizes)
    else:
        new = _xp_like(a).zeros(n, dtype=a.dtype)
        k = builtins.min(n, a.size)
        new[:k] = a.reshape(-1)[:k]
        new = new.reshape(sizes)
    x._data = new
    return x


def _xp_like(a):
    from ..backend import get_array_module
    return get_array_module(a)


def _map_(x, other, callable):
    """Legacy in-place map: x[i] = callable(x[i], other[i]) (other broadcast to x)."""
    from ..creation import tensor
    a = x._data
    b = np.broadcast_to(other._data, a.shape)
    flat = a.reshape(-1)
    vals = [callable(u, v) for u, v in zip(flat.tolist(), b.reshape(-1).tolist())]
    x.copy_(tensor(np.asarray(vals, dtype=a.dtype).reshape(a.shape)))
    return x


__all__ += ["matrix_rank", "solve", "lstsq", "eig", "lu", "index_reduce", "nonzero_static",
            "frobenius_norm", "nuclear_norm"]


def _bind3():
    from . import inplace
    T = Tensor
    if not hasattr(T, "index_reduce"):
        T.index_reduce = index_reduce
    if not hasattr(T, "index_reduce_"):
        T.index_reduce_ = inplace(index_reduce, "index_reduce")
    if not hasattr(T, "nonzero_static"):
        T.nonzero_static = nonzero_static
    for n in ("solve", "eig", "lstsq"):
        if not hasattr(T, n):
            setattr(T, n, _removed(n))
    if not hasattr(T, "symeig"):
        T.symeig = _removed("symeig")
    if not hasattr(T, "lu"):
        T.lu = lu
    if not hasattr(T, "resize_"):
        T.resize_ = _resize_
    if not hasattr(T, "resize_as_"):
        T.resize_as_ = lambda x, other: _resize_(x, tuple(other.shape))
    if not hasattr(T, "map_"):
        T.map_ = _map_


_bind3()


# ---------------------------------------------------------------- scatter_reduce gradient
def _link_scatter_reduce(res, x, dim, index, src, reduce, include_self):
    """Record ScatterReduceBackward0 for indexing.scatter_reduce's result (PyTorch's formulas,
    FunctionsManual scatter_reduce_backward)."""
    from ._core import save, save_result
    node = R.ScatterReduceBackward0()
    node.dim, node.reduce, node.include_self = dim, reduce, include_self
    node.src_shape = tuple(src.shape)
    save(node, x, index, src)
    save_result(node, res)
    link(node, res, x if x._rg else None, None, src if src._rg else None)


def _scatter_reduce_backward(node, g):
    x, index, src = node.saved()
    result = node.result()
    dim, reduce, include_self = node.dim, node.reduce, node.include_self
    full_src = src
    if tuple(src.shape) != tuple(index.shape):
        src = src[tuple(slice(0, k) for k in index.shape)]
    gs = gsrc = None
    if reduce == "sum":
        gs = g
        gsrc = g.gather(dim, index)
    elif reduce == "prod":
        masked_self = x.masked_fill(x == 0, 1)
        masked_self_result = masked_self.scatter_reduce(dim, index, src, reduce,
                                                        include_self=include_self)
        gs = g * masked_self_result / masked_self
        src_zero = src == 0
        src_num_zeros = x.new_zeros(tuple(x.shape)).scatter_add(
            dim, index, src_zero.to(x.dtype)).gather(dim, index)
        src_single_zero = src_zero & (src_num_zeros == 1)
        masked_src = src.masked_fill(src_single_zero, 1)
        masked_src_result = x.scatter_reduce(dim, index, masked_src, reduce,
                                             include_self=include_self)
        gsrc = (g * masked_src_result).gather(dim, index).where(
            src_single_zero, (g * result).gather(dim, index) / src.masked_fill(src_zero, 1))
    elif reduce == "mean":
        N = g.new_ones(tuple(g.shape)) if include_self else g.new_zeros(tuple(g.shape))
        N = N.scatter_add(dim, index, src.new_ones(tuple(src.shape)))
        N = N.masked_fill(N == 0, 1)
        gs = g / N
        gsrc = g.gather(dim, index) / N.gather(dim, index)
    else:   # amax / amin: the gradient is shared evenly between all the maxima
        value = result.gather(dim, index)
        self_is = (x == result).to(x.dtype)
        src_is = (src == value).to(x.dtype)
        n_dist = self_is.scatter_add(dim, index, src_is)
        gd = g / n_dist
        gs = self_is * gd
        gsrc = src_is * gd.gather(dim, index)
    if not include_self and gs is not None:
        gs = gs.scatter(dim, index, 0)
    if gsrc is not None and tuple(full_src.shape) != tuple(gsrc.shape):
        pads = []
        for k, n in zip(reversed(tuple(gsrc.shape)), reversed(tuple(full_src.shape))):
            pads += [0, n - k]
        gsrc = _F().pad(gsrc, pads)
    return (gs if node.needs(0) else None, None, gsrc if node.needs(2) else None)


# ---------------------------------------------------------------- stft / istft
def _warn(msg):
    import warnings
    warnings.warn(msg, UserWarning, stacklevel=3)


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
         pad_mode="reflect", normalized=False, onesided=None, return_complex=None):
    import dagrad

    from .. import fft as _fft
    if window is None:
        _warn("A window was not provided. A rectangular window will be applied,which is known "
              "to cause spectral leakage. Other windows such as torch.hann_window or "
              "torch.hamming_window are recommended to reduce spectral leakage.To suppress "
              "this warning and use a rectangular window, explicitly set "
              "`window=torch.ones(n_fft, device=<device>)`.")
    if return_complex is None:
        if not (input.is_complex() or (window is not None and window.is_complex())):
            raise RuntimeError("stft requires the return_complex parameter be given for real "
                               "inputs, and will further require that return_complex=True in "
                               "a future PyTorch release.")
        return_complex = True
    if not return_complex:
        _warn("stft with return_complex=False is deprecated. In a future pytorch release, stft "
              "will return complex tensors for all inputs, and return_complex=False will raise "
              "an error.\nNote: you can still call torch.view_as_real on the complex output to "
              "recover the old return format.")
    hop = n_fft // 4 if hop_length is None else builtins.int(hop_length)
    wl = n_fft if win_length is None else builtins.int(win_length)
    if input.dim() not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.dim()}D tensor")
    x = input if input.dim() == 2 else input.unsqueeze(0)
    if center:
        p = n_fft // 2
        x = _F().pad(x.unsqueeze(1), [p, p], mode=pad_mode).squeeze(1)
    L = x.shape[-1]
    if n_fft <= 0 or n_fft > L:
        raise RuntimeError(f"stft: expected 0 < n_fft <= {L}, but got n_fft={n_fft}")
    if hop <= 0:
        raise RuntimeError(f"stft: expected hop_length > 0, but got hop_length={hop}")
    if wl <= 0 or wl > n_fft:
        raise RuntimeError(f"stft: expected 0 < win_length <= n_fft, but got win_length={wl}")
    frames = x.unfold(-1, n_fft, hop)           # (B, n_frames, n_fft)
    if window is not None:
        if window.dim() != 1 or window.shape[0] != wl:
            raise RuntimeError(f"stft: expected a 1D window tensor of size equal to "
                               f"win_length={wl}, but got window with size "
                               f"{list(window.shape)}")
        w = window
        if wl < n_fft:
            left = (n_fft - wl) // 2
            w = _F().pad(w.unsqueeze(0), [left, n_fft - wl - left]).squeeze(0)
        frames = frames * w
    elif wl < n_fft:
        left = (n_fft - wl) // 2
        w = np.zeros(n_fft, dtype=x._data.dtype if x._data.dtype.kind == "f" else np.float32)
        w[left:left + wl] = 1
        frames = frames * _make(w)
    complex_in = frames.is_complex()
    if onesided is None:
        onesided = not complex_in
    norm = "ortho" if normalized else "backward"
    if onesided:
        if complex_in:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        spec = _fft.rfft(frames, dim=-1, norm=norm)
    else:
        spec = _fft.fft(frames, dim=-1, norm=norm)
    spec = spec.transpose(-1, -2)                # (B, freq, n_frames)
    if input.dim() == 1:
        spec = spec.squeeze(0)
    return spec if return_complex else dagrad.view_as_real(spec)


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
          normalized=False, onesided=None, length=None, return_complex=False):
    from .. import fft as _fft
    if window is None:
        _warn("A window was not provided. A rectangular window will be applied.Please provide "
              "the same window used by stft to make the inversion lossless.To suppress this "
              "warning and use a rectangular window, explicitly set "
              "`window=torch.ones(n_fft, device=<device>)`.")
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           "from stft with return_complex=True.")
    hop = n_fft // 4 if hop_length is None else builtins.int(hop_length)
    wl = n_fft if win_length is None else builtins.int(win_length)
    x = input if input.dim() == 3 else input.unsqueeze(0)     # (B, freq, n_frames)
    n_frames = x.shape[-1]
    onesided_arg = onesided
    if onesided is None:
        onesided = x.shape[-2] != n_fft
    spec = x.transpose(-1, -2)                                # (B, n_frames, freq)
    norm = "ortho" if normalized else "backward"
    if onesided:
        frames = _fft.irfft(spec, n_fft, dim=-1, norm=norm)
    else:
        frames = _fft.ifft(spec, n_fft, dim=-1, norm=norm)
        if not return_complex:
            frames = frames.real
    rdt = frames._data.real.dtype if frames.is_complex() else frames._data.dtype
    if window is not None:
        w = window
        if wl < n_fft:
            left = (n_fft - wl) // 2
            w = _F().pad(w.unsqueeze(0), [left, n_fft - wl - left]).squeeze(0)
    else:
        w = np.zeros(n_fft, dtype=rdt)
        left = (n_fft - wl) // 2
        w[left:left + wl] = 1
        w = _make(w).to(frames.device)
    frames = frames * w
    expected = n_fft + hop * (n_frames - 1)
    B = frames.shape[0]
    # overlap-add: fold the frames (B, n_fft, n_frames) into a (1, expected) signal
    y = _F().fold(frames.transpose(1, 2), (1, expected), (1, n_fft), stride=(1, hop))
    y = y.reshape(B, expected)
    w2 = (w * w).detach().cpu()._data  # the window envelope is built on the host
    env = np.zeros(expected, dtype=rdt)
    idx = (np.arange(n_frames)[:, None] * hop + np.arange(n_fft)[None, :]).reshape(-1)
    np.add.at(env, idx, np.tile(w2, n_frames))
    start = n_fft // 2 if center else 0
    end = expected - n_fft // 2 if center else expected
    if length is not None:
        end = start + builtins.int(length)
    stop = builtins.min(end, expected)
    envs = env[start:stop]
    if envs.size and np.abs(envs).min() < 1e-11:
        def b(v):
            return "None" if v is None else str(builtins.int(v))
        tname = {np.dtype(np.complex64): "ComplexFloatType",
                 np.dtype(np.complex128): "ComplexDoubleType"}.get(input._data.dtype, "")
        wname = "None" if window is None else (
            f"torch.{'Double' if window._data.dtype == np.float64 else 'Float'}Tensor"
            f"{{{list(window.shape)}}}")
        raise RuntimeError(
            f"istft(CPU{tname}{list(input.shape)}, n_fft={n_fft}, hop_length={hop}, "
            f"win_length={wl}, window={wname}, center={b(center)}, normalized={b(normalized)}, "
            f"onesided={b(onesided_arg)}, length={b(length)}, "
            f"return_complex={b(return_complex)}) window overlap add min: 1\n[ CPUBoolType{{}} ]")
    y = y[:, start:stop] / _make(envs).to(y.device)
    if end > expected:
        y = _F().pad(y.unsqueeze(1), [0, end - expected]).squeeze(1)
    return y.squeeze(0) if input.dim() == 2 else y


__all__ += ["stft", "istft"]
if not hasattr(Tensor, "stft"):
    Tensor.stft = stft
if not hasattr(Tensor, "istft"):
    Tensor.istft = istft


# ---------------------------------------------------------------- batch 4: small natives
def binomial(count, prob, generator=None):
    """Samples Binomial(count, prob) elementwise (no gradient, as PyTorch)."""
    from ..creation import _rng
    if count.is_cuda:  # CuPy: drawn on the host (CPU's stream), moved
        return binomial(count.cpu(), prob.cpu(), generator).to(count.device)
    c = count._data
    p = prob._data
    if c.dtype.kind not in "fV":
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: "
                         f"{_tname(count)}")
    if p.dtype.kind not in "fV":
        raise ValueError(f"binomial only supports floating-point dtypes for prob, got: "
                         f"{_tname(prob)}")
    out = _rng(generator).binomial(np.broadcast_to(c, np.broadcast_shapes(c.shape, p.shape))
                                   .astype(np.int64),
                                   np.clip(p, 0, 1)).astype(c.dtype)
    return _make(out)


def norm_except_dim(v, pow=2, dim=0):
    if dim == -1:
        return v.norm(pow)
    nd = v.dim()
    dims = tuple(i for i in range(nd) if i != dim % nd)
    return v.norm(pow, dims, keepdim=True) if dims else v.abs()


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False):
    from ..creation import empty
    size = tuple(size)
    if sorted(physical_layout) != list(range(len(size))):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the "
                           f"physical_layout; i.e. len(size) = {len(size)} is not equal to "
                           f"len(physical_layout) = {len(physical_layout)}")
    return empty(size, dtype=dtype, device=device, requires_grad=requires_grad)


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    idx = as_strided(_make(np.arange(input.numel(), dtype=np.int64).reshape(
        tuple(input.shape))), size, stride, storage_offset)._data
    if tuple(src.shape) != tuple(idx.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(idx.shape)}")
    flat = input.reshape(-1).index_put((_make(idx.reshape(-1)),), src.reshape(-1))
    return flat.reshape(tuple(input.shape))


def from_dlpack(ext_tensor):
    a = np.from_dlpack(ext_tensor)
    from ..tensor import _make as mk
    return mk(a)


def to_dlpack(tensor):
    return tensor._data.__dlpack__()


__all__ += ["binomial", "norm_except_dim", "empty_permuted", "as_strided_scatter",
            "from_dlpack", "to_dlpack"]
if not hasattr(Tensor, "as_strided_scatter"):
    Tensor.as_strided_scatter = as_strided_scatter
if not hasattr(Tensor, "dim_order"):
    def dim_order(x, *, ambiguity_check=False):
        """Dimension order from outermost to innermost (dagrad tensors are row-major)."""
        return tuple(range(x.dim()))
    Tensor.dim_order = dim_order


# ---------------------------------------------------------------- igamma / igammac
def _lgamma_arr(a):
    import dagrad
    return dagrad.lgamma(_make(a))._data


def _igamma_arrays(a, x):
    """Regularised lower/upper incomplete gamma P(a, x), Q(a, x) (series for x < a + 1,
    Lentz's continued fraction otherwise), vectorised; PyTorch's edge values."""
    if type(a) is not np.ndarray or type(x) is not np.ndarray:  # CuPy: on host copies
        xp = _gam(a) if type(a) is not np.ndarray else _gam(x)
        P, Q = _igamma_arrays(*(v.get() if hasattr(v, "get") else v for v in (a, x)))
        return xp.asarray(P), xp.asarray(Q)
    a, x = np.broadcast_arrays(a, x)
    dt = a.dtype
    a64, x64 = a.astype(np.float64), x.astype(np.float64)
    P = _gam(a64).full(a64.shape, np.nan)
    Q = _gam(a64).full(a64.shape, np.nan)
    ok = (a64 > 0) & (x64 > 0) & np.isfinite(a64)
    with np.errstate(all="ignore"):
        lx = np.log(np.where(ok, x64, 1.0))
        pref = np.exp(np.where(ok, a64, 1.0) * lx - np.where(ok, x64, 1.0) -
                      _lgamma_arr(np.where(ok, a64, 1.0)))
        ser = ok & (x64 < a64 + 1)
        if ser.any():
            aa, xx = np.where(ser, a64, 1.0), np.where(ser, x64, 0.0)
            ap = aa.copy()
            term = 1.0 / aa
            s = term.copy()
            for _ in range(500):
                ap = ap + 1
                term = term * xx / ap
                s = s + term
                if np.all(np.abs(term) <= np.abs(s) * 1e-17):
                    break
            p = s * pref
            P = np.where(ser, p, P)
            Q = np.where(ser, 1 - p, Q)
        cf = ok & ~ser
        if cf.any():
            aa, xx = np.where(cf, a64, 1.0), np.where(cf, x64, 2.0)
            tiny = 1e-300
            b = xx + 1 - aa
            c = np.full(aa.shape, 1 / tiny)
            d = 1 / b
            h = d.copy()
            for i in range(1, 500):
                an = -i * (i - aa)
                b = b + 2
                d = an * d + b
                d = np.where(np.abs(d) < tiny, tiny, d)
                c = b + an / c
                c = np.where(np.abs(c) < tiny, tiny, c)
                d = 1 / d
                delta = d * c
                h = h * delta
                if np.all(np.abs(delta - 1) <= 1e-16):
                    break
            q = h * pref
            Q = np.where(cf, q, Q)
            P = np.where(cf, 1 - q, P)
    # edges (PyTorch): a == 0 < x -> P = 1; x == 0 < a -> P = 0; x = inf, a > 0 -> P = 1
    P = np.where((a64 == 0) & (x64 > 0), 1.0, P)
    Q = np.where((a64 == 0) & (x64 > 0), 0.0, Q)
    P = np.where((x64 == 0) & (a64 > 0), 0.0, P)
    Q = np.where((x64 == 0) & (a64 > 0), 1.0, Q)
    P = np.where(np.isposinf(x64) & (a64 > 0), 1.0, P)
    Q = np.where(np.isposinf(x64) & (a64 > 0), 0.0, Q)
    return P.astype(dt), Q.astype(dt)


def _igamma(input, other, upper, name):
    a = input if isinstance(input, Tensor) else _make(np.asarray(input))
    x = other if isinstance(other, Tensor) else _make(np.asarray(other))
    da, dx = a._data.dtype, x._data.dtype
    rt = np.result_type(da, dx)
    if rt.kind not in "fV":
        raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                  f"'{_tname(a if da.kind not in 'fV' else x)}'")
    P, Q = _igamma_arrays(a._data.astype(rt), x._data.astype(rt))
    out = _make(Q if upper else P)
    if _rec(a, x):
        node = (R.IgammacBackward0 if upper else R.IgammaBackward0)()
        node.opname = name
        from ._core import save
        save(node, a, x)
        shp = out._data.shape
        node._meta = tuple(((t._data.shape, t._data.dtype) if t._data.shape != shp or
                            t._data.dtype != rt else None) for t in (a, x))
        link(node, out, a if a._rg else None, x if x._rg else None)
    return out


def _igamma_backward(node, g, upper):
    a, x = node.saved()
    if node.needs(0):
        raise NotImplementedError(f"the derivative for '{node.opname}: input' is not "
                                  f"implemented.")
    d = ((a - 1) * x.log() - x - a.lgamma()).exp()
    gx = g * (-d if upper else d)
    return None, gx


def igamma(input, other, *, out=None):
    return _igamma(input, other, False, "igamma")


def igammac(input, other, *, out=None):
    return _igamma(input, other, True, "igammac")


__all__ += ["igamma", "igammac"]
for _n, _f in (("igamma", igamma), ("igammac", igammac)):
    if not hasattr(Tensor, _n):
        setattr(Tensor, _n, _f)
if not hasattr(Tensor, "igamma_"):
    from . import inplace as _inplace
    Tensor.igamma_ = _inplace(igamma, "igamma")
    Tensor.igammac_ = _inplace(igammac, "igammac")
