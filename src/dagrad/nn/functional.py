"""torch.nn.functional: activations, linear, dropout, normalisation, embedding, losses,
attention. Convolution, pooling, padding and interpolation live in dagrad.ops.conv / ops.pool
and are re-exported here through thin wrappers."""
import math
import warnings

import numpy as np

from .. import _dtype as D
from ..autograd.grad_mode import state as _grad_state
from ..backend import get_array_module as _gam
from ..ops import derivatives as _Rd
from ..ops import elementwise as _E
from ..ops import linalg as _L
from ..ops import reduce as _R
from ..ops._core import link, save, save_result
from ..tensor import Tensor, _make

# ---------------------------------------------------------------- conv / pool (lazy re-exports)


_RESOLVED = {}


def _lazy(name):
    """A thin wrapper that finds `name` in dagrad.ops.conv or dagrad.ops.pool at call time."""
    def f(*args, **kwargs):
        fn = _RESOLVED.get(name)
        if fn is None:
            import importlib
            for mod in ("conv", "pool", "pool3d", "gaps"):
                try:
                    m = importlib.import_module(f"dagrad.ops.{mod}")
                except ImportError:
                    continue
                fn = getattr(m, name, None)
                if fn is not None:
                    _RESOLVED[name] = fn
                    break
            if fn is None:
                raise NotImplementedError(f"dagrad.nn.functional.{name} is not available yet")
        return fn(*args, **kwargs)
    f.__name__ = name
    f.__qualname__ = name
    return f


_conv_fn = _pool_fn = _lazy


conv1d = _conv_fn("conv1d")
conv2d = _conv_fn("conv2d")
conv3d = _conv_fn("conv3d")
conv_transpose1d = _conv_fn("conv_transpose1d")
conv_transpose2d = _conv_fn("conv_transpose2d")
unfold = _conv_fn("unfold")
fold = _conv_fn("fold")
max_pool1d = _pool_fn("max_pool1d")
max_pool2d = _pool_fn("max_pool2d")
max_pool1d_with_indices = _pool_fn("max_pool1d_with_indices")
max_pool2d_with_indices = _pool_fn("max_pool2d_with_indices")
avg_pool1d = _pool_fn("avg_pool1d")
avg_pool2d = _pool_fn("avg_pool2d")
adaptive_avg_pool1d = _pool_fn("adaptive_avg_pool1d")
adaptive_avg_pool2d = _pool_fn("adaptive_avg_pool2d")
adaptive_max_pool1d = _pool_fn("adaptive_max_pool1d")
adaptive_max_pool2d = _pool_fn("adaptive_max_pool2d")
adaptive_max_pool2d_with_indices = _pool_fn("adaptive_max_pool2d_with_indices")
max_unpool2d = _pool_fn("max_unpool2d")
pad = _pool_fn("pad")
interpolate = _pool_fn("interpolate")
upsample = _pool_fn("interpolate")
pixel_shuffle = _pool_fn("pixel_shuffle")
pixel_unshuffle = _pool_fn("pixel_unshuffle")
grid_sample = _pool_fn("grid_sample")
affine_grid = _pool_fn("affine_grid")


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------- activations
def relu6(input, inplace=False):
    return _E.relu6(input, inplace)


def elu(input, alpha=1.0, inplace=False):
    return _E.elu(input, alpha, inplace)


def selu(input, inplace=False):
    return _E.selu(input, inplace)


def celu(input, alpha=1.0, inplace=False):
    return _E.celu(input, alpha, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _E.leaky_relu(input, negative_slope, inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    return _E.hardtanh(input, min_val, max_val, inplace)


def hardswish(input, inplace=False):
    return _E.hardswish(input, inplace)


def hardsigmoid(input, inplace=False):
    return _E.hardsigmoid(input, inplace)


def gelu(input, approximate="none"):
    return _E.gelu(input, approximate)


def silu(input, inplace=False):
    return _E.silu(input, inplace)


def mish(input, inplace=False):
    return _E.mish(input, inplace)


def softplus(input, beta=1.0, threshold=20.0):
    return _E.softplus(input, beta, threshold)


def relu_(input):
    return _E.relu_(input)


def relu(input, inplace=False):
    return _E.relu_(input) if inplace else _E.relu(input)


def elu_(input, alpha=1.0):
    return _E.elu(input, alpha, True)


def leaky_relu_(input, negative_slope=0.01):
    return _E.leaky_relu(input, negative_slope, True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return _E.hardtanh(input, min_val, max_val, True)


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def logsigmoid(input):
    return -softplus(-input)


def softsign(input):
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - input.tanh()


def softshrink(input, lambd=0.5):
    return input - input.clamp(-lambd, lambd)


def hardshrink(input, lambd=0.5):
    return input * (input.abs() > lambd).to(input.dtype)


def threshold(input, threshold, value, inplace=False):
    r = _E.where(input > threshold, input, _E._scalar_like(value, input))
    if inplace:
        input.copy_(r)
        return input
    return r


def prelu(input, weight):
    if weight.dim() == 1 and weight.numel() > 1 and input.dim() >= 2:
        w = weight.reshape((1, -1) + (1,) * (input.dim() - 2))
    else:
        w = weight
    return _E.where(input > 0, input, input * w)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    from ..creation import _rng
    a = _rng(None).random(input.shape) * (upper - lower) + lower
    return _E.where(input >= 0, input, input * _make(a.astype(input._data.dtype)).to(input.device))


def glu(input, dim=-1):
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(
            f"Halving dimension must be even, but dimension {dim % input.dim()} is size {n}")
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


def _softmax_dim(name, ndim, stacklevel):
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmax", input.dim(), _stacklevel)
    return _R.softmax(input, dim, dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("softmin", input.dim(), _stacklevel)
    return _R.softmax(-input, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim(), _stacklevel)
    return _R.log_softmax(input, dim, dtype=dtype)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    from ..creation import _rng
    gumbels = _make(-np.log(_rng(None).exponential(size=logits.shape)).astype(
        logits._data.dtype)).to(logits.device)
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if hard:
        index = y_soft.max(dim, keepdim=True)[1]
        y_hard = logits.new_zeros(logits.shape).scatter(dim, index, 1.0)
        return y_hard - y_soft.detach() + y_soft
    return y_soft


# ---------------------------------------------------------------- linear
def _dtype_word(a):
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
            "int32": "Int", "bool": "Bool", "int16": "Short", "int8": "Char",
            "uint8": "Byte", "complex64": "ComplexFloat", "bfloat16": "BFloat16",
            "complex128": "ComplexDouble"}.get(str(a.dtype), str(a.dtype))


def linear(input, weight, bias=None):
    xd = input._data
    if xd.dtype != weight._data.dtype:
        raise RuntimeError(
            f"mat1 and mat2 must have the same dtype, but got {_dtype_word(xd)} and "
            f"{_dtype_word(weight._data)}")
    if xd.ndim == 2 and weight._data.ndim == 2:
        if xd.shape[1] != weight._data.shape[1]:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({xd.shape[0]}x{xd.shape[1]} and "
                f"{weight._data.shape[1]}x{weight._data.shape[0]})")
        if bias is not None:
            return _L.addmm(bias, input, weight.t())
        return _L.mm(input, weight.t())
    if xd.ndim == 1 and weight._data.ndim == 2:
        if xd.shape[0] != weight._data.shape[1]:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied (1x{xd.shape[0]} and "
                f"{weight._data.shape[1]}x{weight._data.shape[0]})")
        x2 = input.reshape(1, -1)
        out = _L.addmm(bias, x2, weight.t()) if bias is not None else _L.mm(x2, weight.t())
        return out.view(weight._data.shape[0])
    if xd.ndim > 2 and weight._data.ndim == 2:
        lead = xd.shape[:-1]
        if xd.shape[-1] != weight._data.shape[1]:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({int(np.prod(lead))}x"
                f"{xd.shape[-1]} and {weight._data.shape[1]}x{weight._data.shape[0]})")
        x2 = input.reshape(-1, xd.shape[-1])
        out = _L.addmm(bias, x2, weight.t()) if bias is not None else _L.mm(x2, weight.t())
        return out.view(*lead, weight._data.shape[0])
    out = _L.matmul(input, weight.t())
    if bias is not None:
        out = out + bias
    return out


def bilinear(input1, input2, weight, bias=None):
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(
            f"bilinear(): input batch dimensions do not match: got {input1.shape[:-1]} and "
            f"{input2.shape[:-1]}")
    from ..ops.linalg import einsum
    out = einsum("...i,oij,...j->...o", input1, weight, input2)
    if bias is not None:
        out = out + bias
    return out


# ---------------------------------------------------------------- dropout
def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


_TORCH_TYPE = {"b": "Bool", "u": "Byte", "i": {1: "Char", 2: "Short", 4: "Int", 8: "Long"}}


def _dropout_impl(input, p, training, inplace, feature=False, alpha=False):
    """PyTorch's _dropout_impl (its CPU path with autograd: input * noise, MulBackward0; alpha:
    (input * noise) + b, AddBackward0). noise is bernoulli(1 - p) / (1 - p) (alpha: its affine
    SELU-preserving version), per (N, C) channel for feature dropout; p == 1 multiplies by 0."""
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    a = input._data
    if p == 1:
        z = _make(np.zeros((), dtype=a.dtype))
        if type(a) is not np.ndarray:
            z = z.to(input.device)
        return input.mul_(z) if inplace else input * z
    if feature:
        if a.ndim < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        shape = a.shape[:2] + (1,) * (a.ndim - 2)
    else:
        shape = a.shape
    dt = a.dtype
    if dt.kind not in "fcV":  # the noise is divided in place by 1 - p
        k = _TORCH_TYPE.get(dt.kind)
        raise RuntimeError("result type Float can't be cast to the desired output type "
                           f"{k[dt.itemsize] if isinstance(k, dict) else k}")
    from ..creation import _rng
    ct = dt if dt.kind in "fc" and dt.itemsize >= 4 else np.dtype(np.float32)  # opmath
    noise = (_rng(None).random(shape) >= p).astype(ct)
    if alpha:
        al = 1.7580993408473766
        k = 1.0 / math.sqrt((al * al * p + 1) * (1 - p))
        b = ((noise - 1) * ct.type(al * k) + ct.type(al * k * p)).astype(dt, copy=False)
        noise = (noise * ct.type(k)).astype(dt, copy=False)
    else:
        noise = (noise / ct.type(1 - p)).astype(dt, copy=False)
    out = _apply_mask(input, noise, inplace)
    if alpha:
        bt = _make(b)
        if type(a) is not np.ndarray:
            bt = bt.to(input.device)
        out = out.add_(bt) if inplace else out + bt
    return out


def _apply_mask(input, mask, inplace):
    m = _make(mask)
    if type(input._data) is not type(mask):  # drawn on the host (CPU-identical): to the device
        m = m.to(input.device)
    if inplace:
        return input.mul_(m)
    return input * m


def dropout(input, p=0.5, training=True, inplace=False):
    return _dropout_impl(input, p, training, inplace)


def _unbatched_feature_dropout(input, p, training, inplace, batched):
    """dropout1d / dropout3d: an unbatched input goes through unsqueeze(0) ... squeeze(0), as
    PyTorch's Python wrappers do (whatever training and p are)."""
    if not batched:
        input = input.unsqueeze_(0) if inplace else input.unsqueeze(0)
    r = _dropout_impl(input, p, training, inplace, feature=True)
    if not batched:
        r = r.squeeze_(0) if inplace else r.squeeze(0)
    return r


def dropout1d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note "
            "that dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs).")
    return _unbatched_feature_dropout(input, p, training, inplace, input.dim() == 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    nd = input.dim()
    if nd not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if nd == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    return _dropout_impl(input, p, training, inplace, feature=True)


def dropout3d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    nd = input.dim()
    if nd not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {nd}-D input to dropout3d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout3d exists to provide "
            "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 4D or 5D inputs).", stacklevel=2)
    return _unbatched_feature_dropout(input, p, training, inplace, nd == 5)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _dropout_impl(input, p, training, inplace, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _dropout_impl(input, p, training, inplace, feature=True, alpha=True)


# ---------------------------------------------------------------- normalisation
def _norm_forward(x, axes, eps, w, b, wshape, waxes, mean=None, var=None, name="BN"):
    """Fused normalisation: (x - mean) * invstd * w + b over `axes`.

    mean/var given (arrays, shape of the reduced stats): eval-mode batch norm with fixed stats.
    Returns (out, batch_mean, batch_var_biased)."""
    from ..ops import derivatives as R
    a = x._data
    for t in (w, b):
        if t is not None and t._data.dtype != a.dtype:
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
    training = mean is None
    fast = None
    if name == "BN" and axes == waxes and axes[0] == 0 and len(axes) == a.ndim - 1:
        from ..ops import _threads as T  # batch norm: fused, cache-blocked, threaded
        if T.enabled and (T.ok_train(a) if training else T.ok(a)):
            wa = w._data if w is not None else None
            ba = b._data if b is not None else None
            if training:
                fast = T.bn_train_fwd(a, wa, ba, eps)
            else:
                invstd = (1.0 / np.sqrt(var + eps)).astype(a.dtype)
                alpha = invstd * wa.reshape(wshape) if wa is not None else invstd
                beta = -(mean * alpha)
                if ba is not None:
                    beta = beta + ba.reshape(wshape)
                out = T.scale_shift(a, alpha.astype(a.dtype, copy=False),
                                    beta.astype(a.dtype, copy=False))
                fast = (out, mean, var, invstd)
    if fast is not None:
        out, m, v, invstd = fast
        m, v = m.reshape(wshape), v.reshape(wshape)
        invstd = invstd.reshape(wshape)
    elif training:
        m = a.mean(axis=axes, keepdims=True)
        xc = a - m
        if a.dtype.char in "fd" and a.ndim <= 26:
            # sum of squares streamed by einsum: no squared temporary
            from ..ops.derivatives_np import _sum_prod
            v = _sum_prod(xc, xc, tuple(axes)).reshape(m.shape) / (a.size // max(m.size, 1))
        else:
            v = np.mean(np.square(xc), axis=axes, keepdims=True)
    else:
        m = mean
        v = var
        xc = None
    if fast is None:
        invstd = (1.0 / np.sqrt(v + eps)).astype(a.dtype)
    if fast is not None:
        pass
    elif xc is None and invstd.shape == tuple(wshape) and a.dtype.char in "fd":
        # fixed statistics (eval-mode batch norm): out = x * alpha + beta with per-channel
        # alpha = invstd * weight, beta = bias - mean * alpha, as PyTorch's CPU kernel: two passes
        alpha = invstd * w._data.reshape(wshape) if w is not None else invstd
        beta = -(m * alpha)
        if b is not None:
            beta = beta + b._data.reshape(wshape)
        out = a * alpha.astype(a.dtype, copy=False)
        out += beta.astype(a.dtype, copy=False)
    else:
        if xc is None:
            xc = a - m
        # xc is a fresh array: normalise in place; with an affine whose weight is constant
        # along the normalised axes (batch norm), scale by invstd * weight in one pass (as
        # PyTorch's CPU kernel folds them)
        out = xc
        if w is not None and invstd.shape == tuple(wshape):
            out *= invstd * w._data.reshape(wshape)
        else:
            out *= invstd
            if w is not None:
                out *= w._data.reshape(wshape)
        if b is not None:
            out += b._data.reshape(wshape)
    out = out.astype(a.dtype, copy=False)
    res = _make(out)
    if _grad_state.enabled and (x._rg or (w is not None and w._rg) or (b is not None and b._rg)):
        n = R.NativeBatchNormBackward0() if name == "BN" else R.NativeLayerNormBackward0()
        n.axes, n.waxes, n.wshape, n.eps, n.training = axes, waxes, wshape, eps, training
        n.mean_arr, n.invstd_arr = m.astype(a.dtype, copy=False), invstd
        n.has_w = w is not None
        if w is not None:
            save(n, x, w)
        else:
            save(n, x)
        link(n, res, x, w, b)
    return res, m, v


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    a = input._data
    if a.dtype.kind == "V":  # bfloat16: float32 opmath, one rounding (running stats stay bf16)
        from ..ops._core import via_f32
        return via_f32(lambda x, w, b: batch_norm(x, running_mean, running_var, w, b, training,
                                                  momentum, eps), input, weight, bias)
    if a.ndim < 2:
        raise ValueError(f"expected 2D or 3D input (got {a.ndim}D input)")
    C = a.shape[1]
    if training:
        size = a.size // C
        if size == 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size "
                f"{input.shape}")
    for nm, t in (("running_mean", running_mean), ("running_var", running_var),
                  ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != C:
            raise RuntimeError(
                f"running_mean should contain {C} elements not {t.numel()}" if nm ==
                "running_mean" else
                f"running_var should contain {C} elements not {t.numel()}" if nm ==
                "running_var" else
                f"The size of tensor a ({t.numel()}) must match the size of tensor b ({C}) at "
                f"non-singleton dimension 1")
    axes = (0,) + tuple(range(2, a.ndim))
    wshape = (1, C) + (1,) * (a.ndim - 2)
    if training or running_mean is None:
        out, m, v = _norm_forward(input, axes, eps, weight, bias, wshape, axes)
        if training and running_mean is not None:
            n = a.size // C
            mm_ = m.reshape(C)
            vv = v.reshape(C) * (n / max(n - 1, 1))
            rm = running_mean._data
            rm *= (1 - momentum)
            rm += (momentum * mm_).astype(rm.dtype)
            running_mean._bump()
            if running_var is not None:
                rv = running_var._data
                rv *= (1 - momentum)
                rv += (momentum * vv).astype(rv.dtype)
                running_var._bump()
        return out
    m = running_mean._data.reshape(wshape).astype(a.dtype)  # a copy: the node keeps it
    v = running_var._data.reshape(wshape).astype(a.dtype, copy=False)
    out, _, _ = _norm_forward(input, axes, eps, weight, bias, wshape, axes, mean=m, var=v)
    return out


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    a = input._data
    if a.dtype.kind == "V":  # bfloat16: float32 opmath, one rounding (running stats stay bf16)
        from ..ops._core import via_f32
        return via_f32(lambda x, w, b: instance_norm(x, running_mean, running_var, w, b,
                                                     use_input_stats, momentum, eps),
                       input, weight, bias)
    N, C = a.shape[:2]
    axes = tuple(range(2, a.ndim))
    if use_input_stats:
        x2 = input
        wshape = (1, C) + (1,) * (a.ndim - 2)
        out, m, v = _norm_forward(x2, axes, eps, weight, bias, wshape, (0,) + axes, name="BN")
        if running_mean is not None:
            n = int(np.prod(a.shape[2:]))
            mm_ = m.reshape(N, C).mean(0)
            vv = (v.reshape(N, C) * (n / max(n - 1, 1))).mean(0)
            rm = running_mean._data
            rm *= (1 - momentum)
            rm += (momentum * mm_).astype(rm.dtype)
            running_mean._bump()
            rv = running_var._data
            rv *= (1 - momentum)
            rv += (momentum * vv).astype(rv.dtype)
            running_var._bump()
        return out
    return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    if input._data.dtype.kind == "V":  # bfloat16: float32 opmath, one rounding
        from ..ops._core import via_f32
        return via_f32(lambda x, w, b: layer_norm(x, normalized_shape, w, b, eps),
                       input, weight, bias)
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    a = input._data
    if tuple(a.shape[a.ndim - k:]) != normalized_shape or a.ndim < k:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size"
            f"{list(input.shape)}")
    axes = tuple(range(a.ndim - k, a.ndim))
    waxes = tuple(range(0, a.ndim - k))
    out, _, _ = _norm_forward(input, axes, eps, weight, bias, normalized_shape, waxes,
                              name="LN")
    return out


def rms_norm(input, normalized_shape, weight=None, eps=None):
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    dims = tuple(range(-len(normalized_shape), 0))
    if input._data.dtype.kind == "V":  # bfloat16: float32 opmath, one rounding (PyTorch)
        from ..ops._core import via_f32
        return via_f32(rms_norm, input, normalized_shape, weight, eps)
    if eps is None:  # PyTorch: the opmath type's epsilon (float32's for float16)
        eps = float(np.finfo(np.float32 if input._data.dtype == np.float16 else
                             input._data.dtype).eps)
    r = input * (input.pow(2).mean(dims, keepdim=True) + eps).rsqrt()
    if weight is not None:
        r = r * weight
    return r


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    a = input._data
    if a.dtype.kind == "V":  # bfloat16: float32 opmath, one rounding
        from ..ops._core import via_f32
        return via_f32(lambda x, w, b: group_norm(x, num_groups, w, b, eps), input, weight, bias)
    if a.ndim < 2:
        raise RuntimeError(
            f"Expected at least 2 dimensions for input tensor but received {a.ndim}")
    N, C = a.shape[:2]
    if C % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(input.shape)} and num_groups={num_groups}")
    from ..ops import derivatives as R
    for t in (weight, bias):
        if t is not None and t._data.dtype != a.dtype:
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
    ag = a.reshape(N, num_groups, -1)
    m = ag.mean(axis=2, keepdims=True)
    xc = ag - m
    v = np.mean(np.square(xc), axis=2, keepdims=True)
    invstd = (1.0 / np.sqrt(v + eps)).astype(a.dtype)
    out = (xc * invstd).reshape(a.shape)
    wshape = (1, C) + (1,) * (a.ndim - 2)
    if weight is not None:
        out *= weight._data.reshape(wshape)
    if bias is not None:
        out += bias._data.reshape(wshape)
    res = _make(out.astype(a.dtype, copy=False))
    if _grad_state.enabled and (input._rg or (weight is not None and weight._rg) or (
            bias is not None and bias._rg)):
        n = R.NativeGroupNormBackward0()
        n.groups, n.eps, n.wshape = num_groups, eps, wshape
        n.waxes = (0,) + tuple(range(2, a.ndim))
        n.mean_arr, n.invstd_arr = m.astype(a.dtype, copy=False), invstd
        n.has_w = weight is not None
        if weight is not None:
            save(n, input, weight)
        else:
            save(n, input)
        link(n, res, input, weight, bias)
    return res


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    dim = input.dim()
    div = input * input
    div = div.unsqueeze(1)
    if dim == 3:
        div = pad(div, (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = input.size()
        div = div.view(sizes[0], 1, sizes[1], sizes[2], -1)
        div = pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = div.reshape(sizes[0], 1, sizes[1] + size - 1, -1)
        div = avg_pool2d(div, (size, 1), stride=1).reshape(sizes[0], 1, sizes[1], -1)
        div = div.squeeze(1).view(sizes)
    div = (div * alpha + k).pow(beta)
    return input / div


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    return input / denom


# ---------------------------------------------------------------- embedding / one_hot
def one_hot(tensor, num_classes=-1):
    a = tensor._data
    if a.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    if a.size and a.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if a.size and a.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = _gam(a).zeros(a.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, a[..., None], 1, axis=-1)
    return _make(out)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    from ..ops import derivatives as R
    idx = input._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got torch.{_type_name(idx)}Tensor instead (while checking arguments "
            "for embedding)")
    num = weight._data.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < num, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -num, "Padding_idx must be within num_embeddings"
            padding_idx = num + padding_idx
    if idx.size and (idx.min() < -num or idx.max() >= num):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _embedding_renorm_(weight, idx, max_norm, norm_type)
    res = _make(weight._data[idx])
    if _grad_state.enabled and weight._rg:
        n = R.EmbeddingBackward0()
        n.idx = idx
        n.num = num
        n.padding_idx = padding_idx
        n.scale_grad_by_freq = scale_grad_by_freq
        link(n, res, weight)
    return res


def _embedding_renorm_(weight, idx, max_norm, norm_type):
    w = weight._data
    u = np.unique(idx.reshape(-1))
    rows = w[u]
    norms = np.linalg.norm(rows, ord=norm_type, axis=1) if norm_type != 2 else np.sqrt(
        (rows * rows).sum(1))
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    w[u] = (rows * scale[:, None]).astype(w.dtype)
    weight._bump()


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    if weight._data.dtype.kind == "V":  # bfloat16: float32 sums, one rounding (PyTorch's kernel)
        from ..ops._core import via_f32
        return via_f32(lambda w, p: embedding_bag(
            input, w, offsets, max_norm, norm_type, scale_grad_by_freq, mode, sparse, p,
            include_last_offset, padding_idx), weight, per_sample_weights)
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, but got {mode}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub.")
    from ..backend import to_numpy as _host  # the bag bookkeeping runs on the host (CuPy too)
    idx = _host(input._data).astype(np.int64)
    num, D = weight.shape
    if padding_idx is not None and padding_idx < 0:
        padding_idx = num + padding_idx
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found "
                             f"offsets of type {type(offsets).__name__}")
        B, L = idx.shape
        flat = idx.reshape(-1)
        bag = np.repeat(np.arange(B), L)
        psw = per_sample_weights.reshape(-1) if per_sample_weights is not None else None
    else:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        offs = _host(offsets._data).astype(np.int64)
        if include_last_offset:
            starts, B = offs[:-1], len(offs) - 1
        else:
            starts, B = offs, len(offs)
        flat = idx
        bag = np.searchsorted(starts, np.arange(flat.size), side="right") - 1
        psw = per_sample_weights
        if include_last_offset:
            keep_range = np.arange(flat.size) < offs[-1]
            flat, bag = flat[keep_range], bag[keep_range]
            if psw is not None:
                psw = psw[_make(np.nonzero(keep_range)[0])]
    valid = np.ones(flat.shape, bool) if padding_idx is None else flat != padding_idx
    vpos = np.nonzero(valid)[0]
    e = embedding(_make(flat[vpos]).to(weight.device), weight, None, max_norm, norm_type,
                  scale_grad_by_freq)
    if psw is not None:
        e = e * psw[_make(vpos).to(psw.device)].unsqueeze(-1)
    vb = bag[vpos]
    counts = np.bincount(vb, minlength=B)
    if mode in ("sum", "mean"):
        out = weight.new_zeros((B, D)).index_add(0, _make(vb.astype(np.int64)).to(e.device), e)
        if mode == "mean":
            out = out / _make(np.maximum(counts, 1).astype(weight._data.dtype)[:, None]).to(
                out.device)
        return out
    from ..ops.movement import stack
    rows = []
    for b in range(B):
        sel = np.nonzero(vb == b)[0]
        rows.append(e[_make(sel).to(e.device)].amax(0) if sel.size else weight.new_zeros(D))
    return stack(rows) if rows else weight.new_zeros((0, D))


def _type_name(a):
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
            "int32": "Int", "bool": "Bool", "int16": "Short", "int8": "Char",
            "uint8": "Byte"}.get(str(a.dtype), str(a.dtype))


# ---------------------------------------------------------------- distances
def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    from ..ops.extra import pairwise_distance as _pd
    return _pd(x1, x2, p, eps, keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    from ..ops.extra import cosine_similarity as _cs
    return _cs(x1, x2, dim, eps)


def pdist(input, p=2):
    from ..linalg import pdist as _pdist
    return _pdist(input, p)


# ---------------------------------------------------------------- losses
_REDUCTIONS = ("none", "mean", "sum")


def _legacy_reduction(size_average, reduce):
    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True
    if size_average and reduce:
        return "mean"
    if reduce:
        return "sum"
    return "none"


def _reduction(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    return reduction


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _warn_size(input, target, name):
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.", stacklevel=3)


def _as_t(x, like):
    if isinstance(x, Tensor):
        return x
    return _E._scalar_like(x, like)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _warn_size(input, target, "mse_loss")
    d = input - target
    loss = d * d
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _warn_size(input, target, "l1_loss")
    loss = (input - target).abs()
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _warn_size(input, target, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = (input - target).abs()
    if beta == 0:
        loss = d
    else:
        loss = _E.where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    _check_reduction(reduction)
    _warn_size(input, target, "huber_loss")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    d = (input - target).abs()
    loss = _E.where(d < delta, d * d * 0.5, (d - 0.5 * delta) * delta)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    loss = (1 + (-target * input).exp()).log()
    return _reduce(loss, reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}) is deprecated. Please ensure they have the same size.")
    a = input._data
    if a.size and (a.min() < 0 or a.max() > 1):
        raise RuntimeError("all elements of input should be between 0 and 1")
    logx = input.log().clamp_min(-100)
    log1mx = (1 - input).log().clamp_min(-100)
    loss = -(target * logx + (1 - target) * log1mx)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    # log(sigmoid(x)) = -softplus(-x); log(1 - sigmoid(x)) = -softplus(x)
    ls_neg = _E.softplus(-input)   # -log(sigmoid(x))
    if pos_weight is not None:
        lw = (pos_weight - 1) * target + 1
        loss = (1 - target) * input + lw * ls_neg
    else:
        loss = (1 - target) * input + ls_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.", stacklevel=2)
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        t = target
        tl = _E.where(t > 0, t, _E._scalar_like(1.0, t)).log()
        loss = t * tl - t * input
    if reduction == "batchmean":
        if input.dim() != 0:
            return loss.sum() / input.shape[0]
        return loss.sum()
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        st = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + st.masked_fill(target <= 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    var = var.clamp(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input1.dim() != input2.dim() or input1.shape != input2.shape:
        raise RuntimeError(
            f"cosine_embedding_loss: Input1 and Input2 must have the same shape, but got "
            f"{input1.shape} and {input2.shape}")
    tdim = target.dim()
    if input1.dim() != tdim + 1:
        raise RuntimeError(
            f"{input1.dim()}D target tensor expects {tdim + 1}D input tensors, but found "
            f"inputs with sizes {list(input1.shape)} and {list(input2.shape)}.")
    EPS = 1e-12
    d = input1.dim() - 1
    prod_sum = (input1 * input2).sum(d)
    mag_square1 = (input1 * input1).sum(d) + EPS
    mag_square2 = (input2 * input2).sum(d) + EPS
    denom = (mag_square1 * mag_square2).sqrt()
    cos = prod_sum / denom
    zeros = cos * 0
    pos = 1 - cos
    neg = (cos - margin).clamp_min(0)
    output_pos = _E.where(target == 1, pos, zeros)
    output_neg = _E.where(target == -1, neg, zeros)
    return _reduce(output_pos + output_neg, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    loss = (-target * (input1 - input2) + margin).clamp_min(0)
    return _reduce(loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    zeros = input * 0
    margin_clamp = (margin - input).clamp_min(0)
    output_margin = _E.where(target != 1, margin_clamp, zeros)
    output_self = _E.where(target != -1, input, zeros)
    return _reduce(output_margin + output_self, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_s = pairwise_distance(positive, negative, p, eps)
        d_neg = _E.minimum(d_neg, d_s)
    return _reduce((d_pos - d_neg + margin).clamp_min(0), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(-1) / input.shape[-1]
    return _reduce(loss, reduction)


def _nll_check(input, target):
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if input.dim() >= 2 and input.shape[0] != target.shape[0] and target.dim() >= 1:
        raise ValueError(
            f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
            f"({target.shape[0]}).")
    if target._data.dtype not in (np.int64, np.uint8):
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {_type_name(target._data)}")


def _get_xp(a):
    from ..backend import get_array_module
    return get_array_module(a)


def _arr(r, dtype):
    from ..ops._core import arr
    return arr(r, dtype)


def _fused_nll(x, t, weight, reduction, ignore_index):
    """NLL over log-probabilities x of shape (C,), (M, C) or (N, C, H, W) (class dim 1), as
    PyTorch's one NllLossBackward0 / NllLoss2DBackward0 node. Computed on an (M, C) layout."""
    from ..ops import derivatives as R
    a = x._data
    xp = np if type(a) is np.ndarray else _get_xp(a)
    nd = a.ndim
    C = a.shape[0 if nd == 1 else 1]
    a2 = a.reshape(1, C) if nd == 1 else a if nd == 2 else xp.moveaxis(a, 1, -1).reshape(-1, C)
    M = a2.shape[0]
    tt = t._data.astype(np.int64, copy=False).reshape(-1)
    valid = tt != ignore_index
    if M and np.any(valid & ((tt < 0) | (tt >= C))):
        bad = tt[valid & ((tt < 0) | (tt >= C))][0]
        raise IndexError(f"Target {bad} is out of bounds.")
    tsafe = np.where(valid, tt, 0)
    lp_t = a2[xp.arange(M), tsafe]
    w = weight._data[tsafe] if weight is not None else xp.ones(M, dtype=a.dtype)
    w = np.where(valid, w, 0).astype(a.dtype)
    losses = -(lp_t * w)
    if reduction == "none":
        out = losses.astype(a.dtype).reshape(t._data.shape)
        coef = w
    elif reduction == "sum":
        out = _arr(losses.sum(), a.dtype)
        coef = w
    else:
        den = w.sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            out = _arr(losses.sum() / den, a.dtype)
            coef = (w / den).astype(a.dtype) if den != 0 else np.zeros_like(w)
    res = _make(out)
    if _grad_state.enabled and x._rg:
        n = R.NllLoss2DBackward0() if nd == 4 else R.NllLossBackward0()
        n.coef = coef
        n.tsafe = tsafe
        n.reduction = reduction
        save(n, x)
        link(n, res, x)
    return res


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    if isinstance(input, Tensor) and input._data.dtype.kind == "V":  # bfloat16: float32 sums
        from ..ops._core import via_f32
        return via_f32(lambda x, w: nll_loss(x, target, w, size_average, ignore_index, reduce,
                                             reduction), input, weight)
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _nll_check(input, target)
    nd = input.dim()
    if nd == 1 and target.dim() == 1:
        target = target.reshape(())
    if nd <= 2 or nd == 4:
        if nd >= 3 and tuple(target.shape[1:]) != tuple(input.shape[2:]):
            raise RuntimeError(f"Expected target size {[input.shape[0]] + list(input.shape[2:])}, "
                               f"got {list(target.shape)}")
        return _fused_nll(input, target, weight, reduction, ignore_index)
    # PyTorch's nll_loss_nd: other ranks go through a (N, C, 1, -1) view and NllLoss2D
    N, C = input.shape[0], input.shape[1]
    rest = tuple(input.shape[2:])
    if tuple(target.shape[1:]) != rest:
        raise RuntimeError(f"Expected target size {[N] + list(rest)}, got {list(target.shape)}")
    out = _fused_nll(input.contiguous().view(N, C, 1, -1), target.contiguous().view(N, 1, -1),
                     weight, reduction, ignore_index)
    return out.view((N,) + rest) if reduction == "none" else out


def _ce_fast(input, target, reduction, ignore_index):
    """cross_entropy's common case in few NumPy calls: (M, C) float32/64 logits, int64 class
    targets all in [0, C), no weight, no smoothing, mean or sum. The same arithmetic as
    log_softmax + nll_loss (so the same numbers, and PyTorch's two nodes); None when the case
    does not apply (the general path then runs, with its checks and errors)."""
    a = input._data
    t = target._data
    if (type(a) is not np.ndarray or a.ndim != 2 or t.ndim != 1 or t.dtype != np.int64 or a.dtype.char not in "fd"
            or a.shape[0] != t.shape[0] or not a.shape[0] or not a.shape[1]):
        return None
    M, C = a.shape
    lo, hi = t.min(), t.max()
    if lo < 0 or hi >= C or lo <= ignore_index <= hi:
        return None
    sh = a - a.max(axis=1, keepdims=True)
    e = np.exp(sh)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(M)
    lse = np.log(s)
    lp_t = sh[rows, t] - lse[:, 0]
    one = a.dtype.type(1)
    if reduction == "sum":
        out = _arr(-lp_t.sum(), a.dtype)
        coef = np.ones(M, dtype=a.dtype)
    else:
        den = a.dtype.type(M)
        out = _arr(-lp_t.sum() / den, a.dtype)
        coef = np.full(M, one / den, dtype=a.dtype)
    res = _make(out)
    if _grad_state.enabled and input._rg:
        # PyTorch's graph: NllLossBackward0 <- LogSoftmaxBackward0 <- input (the softmax kept)
        from ..ops import derivatives as R
        sh -= lse
        lsm = _make(sh)  # log_softmax(input, 1), computed as log_softmax computes it
        ls = R.LogSoftmaxBackward0()
        ls.dim = 1
        e /= s
        ls.probs = e
        save_result(ls, lsm)
        link(ls, lsm, input)
        n = R.NllLossBackward0()
        n.coef = coef
        n.tsafe = t.copy()
        n.reduction = reduction
        save(n, lsm)
        link(n, res, lsm)
    return res


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    if isinstance(input, Tensor) and input._data.dtype.kind == "V":  # bfloat16: float32 sums
        from ..ops._core import via_f32
        return via_f32(lambda x, w: cross_entropy(x, target, w, size_average, ignore_index, reduce,
                                                  reduction, label_smoothing), input, weight)
    if (weight is None and label_smoothing == 0.0 and size_average is None and reduce is None
            and (reduction == "mean" or reduction == "sum")
            and type(input) is Tensor and type(target) is Tensor):
        out = _ce_fast(input, target, reduction, ignore_index)
        if out is not None:
            return out
    reduction = _reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(
            f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    C = input.shape[class_dim]
    if target._data.dtype.kind in "fV" and target.shape == input.shape:
        # class probabilities
        logp = _R.log_softmax(input, class_dim)
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / C
        prod = logp * target
        if weight is not None:
            prod = prod * weight.reshape((C,) + (1,) * (input.dim() - 1 - class_dim))
        if reduction == "none":
            return -prod.sum(class_dim)
        if reduction == "sum":
            return -prod.sum()
        if input.numel() == 0:
            return (-prod.sum()) * float("nan")
        return -prod.sum() / (input.numel() / C)
    _nll_check(input, target)
    logp = _R.log_softmax(input, class_dim)
    if label_smoothing == 0.0:
        return nll_loss(logp, target, weight, None, ignore_index, None, reduction)
    nll = nll_loss(logp, target, weight, None, ignore_index, None, reduction)
    ignore_mask = target == ignore_index
    if weight is not None:
        smooth = -(logp * weight.reshape((C,) + (1,) * (input.dim() - 1 - class_dim))).sum(
            class_dim)
    else:
        smooth = -logp.sum(class_dim)
    smooth = smooth.masked_fill(ignore_mask, 0.0)
    if reduction == "mean":
        keep = ~ignore_mask._data
        if weight is not None:
            den = weight._data[target._data[keep]].sum()
        else:
            den = keep.sum()
        ret = smooth.sum() / float(den)
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    return _mul_s(nll, 1 - label_smoothing) + _mul_s(ret, label_smoothing / C)


def _mul_s(t, s):
    """t * s (a Python number) recorded as PyTorch's C++ composites record it: MulBackward1."""
    r = t * s
    if type(r.grad_fn) is _Rd.MulScalarBackward:
        r.grad_fn.__class__ = _Rd.MulScalarBackward1
    return r


def _no_bf16_kernel(t, kernel):
    """PyTorch's CPU build has no bfloat16 kernel for these ops."""
    if isinstance(t, Tensor) and t._data.dtype.kind == "V":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'BFloat16'")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    _no_bf16_kernel(input, "multi_margin_loss_cpu_kernel")
    reduction = _reduction(size_average, reduce, reduction)
    x = input if input.dim() == 2 else input.unsqueeze(0)
    t = target.reshape(-1)
    xt = x.gather(1, t.unsqueeze(1))
    m = (margin - xt + x).clamp_min(0)
    if p == 2:
        m = m * m
    if weight is not None:
        m = m * weight[t].unsqueeze(1)
    mask = _gam(x._data).ones(x.shape, dtype=x._data.dtype)
    mask[_gam(x._data).arange(x.shape[0]), t._data] = 0
    loss = (m * _make(mask)).sum(1) / x.shape[1]
    if input.dim() == 1:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- attention
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    L, S = query.shape[-2], key.shape[-2]
    scale_factor = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    if enable_gqa and key.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        rep = query.shape[-3] // key.shape[-3]
        key = key.repeat_interleave(rep, -3)
        value = value.repeat_interleave(rep, -3)
    attn = _L.matmul(query, key.transpose(-2, -1)) * scale_factor
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                "is_causal=True")
        causal = np.tril(np.ones((L, S), dtype=bool))
        attn = attn.masked_fill(_make(~causal).to(attn.device), float("-inf"))
    if attn_mask is not None:
        if attn_mask._data.dtype == np.bool_:
            attn = attn.masked_fill(attn_mask.logical_not(), float("-inf"))
        else:
            attn = attn + attn_mask
    attn = attn.softmax(-1)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, True)
    return _L.matmul(attn, value)


def _in_projection_packed(q, k, v, w, b=None):
    E = q.shape[-1]
    if k is v:
        if q is k:
            proj = linear(q, w, b)
            return proj.chunk(3, -1)
        w_q, w_kv = w.split([E, E * 2])
        if b is None:
            b_q = b_kv = None
        else:
            b_q, b_kv = b.split([E, E * 2])
        q_proj = linear(q, w_q, b_q)
        kv_proj = linear(k, w_kv, b_kv)
        k_proj, v_proj = kv_proj.chunk(2, -1)
        return q_proj, k_proj, v_proj
    w_q, w_k, w_v = w.chunk(3)
    if b is None:
        b_q = b_k = b_v = None
    else:
        b_q, b_k, b_v = b.chunk(3)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    if mask is None:
        return None
    if mask._data.dtype == np.bool_:
        z = _gam(mask._data).zeros(mask.shape, dtype=target_type.np)
        z[mask._data] = -np.inf
        return _make(z)
    if mask._data.dtype.kind not in "fV":
        raise AssertionError(
            f"only bool and floating types of {mask_name} are supported")
    return mask


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    is_batched = query.dim() == 3
    if not is_batched:
        query = query.unsqueeze(1)
        key = key.unsqueeze(1)
        value = value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    dt = query.dtype
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", None, "", dt)
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
            "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", dt)
        if key_padding_mask is not None:
            is_causal = False

    if not use_separate_proj_weight:
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        if in_proj_bias is None:
            b_q = b_k = b_v = None
        else:
            b_q, b_k, b_v = in_proj_bias.chunk(3)
        q = linear(query, q_proj_weight, b_q)
        k = linear(key, k_proj_weight, b_k)
        v = linear(value, v_proj_weight, b_v)

    if attn_mask is not None and attn_mask.dim() == 2:
        correct_2d_size = (tgt_len, src_len)
        if tuple(attn_mask.shape) != correct_2d_size:
            raise RuntimeError(
                f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                f"{correct_2d_size}.")
        attn_mask = attn_mask.unsqueeze(0)

    from ..ops.movement import cat
    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))

    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)

    if add_zero_attn:
        zero_attn_shape = (bsz * num_heads, 1, head_dim)
        from ..creation import zeros
        k = cat([k, zeros(zero_attn_shape, dtype=k.dtype)], dim=1)
        v = cat([v, zeros(zero_attn_shape, dtype=v.dtype)], dim=1)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))

    src_len = k.shape[1]
    if key_padding_mask is not None:
        key_padding_mask = key_padding_mask.view(bsz, 1, 1, src_len).expand(
            -1, num_heads, -1, -1).reshape(bsz * num_heads, 1, src_len)
        if attn_mask is None:
            attn_mask = key_padding_mask
        else:
            attn_mask = attn_mask + key_padding_mask

    if not training:
        dropout_p = 0.0

    if need_weights:
        q_scaled = q * math.sqrt(1.0 / float(head_dim))
        if attn_mask is not None:
            attn_output_weights = _L.baddbmm(attn_mask, q_scaled, k.transpose(-2, -1))
        else:
            attn_output_weights = _L.bmm(q_scaled, k.transpose(-2, -1))
        attn_output_weights = attn_output_weights.softmax(-1)
        if dropout_p > 0.0:
            attn_output_weights = dropout(attn_output_weights, p=dropout_p)
        attn_output = _L.bmm(attn_output_weights, v)
        attn_output = attn_output.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        attn_output = linear(attn_output, out_proj_weight, out_proj_bias)
        attn_output = attn_output.view(tgt_len, bsz, attn_output.shape[1])
        attn_output_weights = attn_output_weights.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            attn_output_weights = attn_output_weights.mean(1)
        if not is_batched:
            attn_output = attn_output.squeeze(1)
            attn_output_weights = attn_output_weights.squeeze(0)
        return attn_output, attn_output_weights
    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.view(bsz, num_heads, -1, src_len)
    q = q.view(bsz, num_heads, tgt_len, head_dim)
    k = k.view(bsz, num_heads, src_len, head_dim)
    v = v.view(bsz, num_heads, src_len, head_dim)
    attn_output = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    attn_output = attn_output.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    attn_output = linear(attn_output, out_proj_weight, out_proj_bias)
    attn_output = attn_output.view(tgt_len, bsz, attn_output.shape[1])
    if not is_batched:
        attn_output = attn_output.squeeze(1)
    return attn_output, None


_ = D


# ---------------------------------------------------------------- in-place aliases and extras
def celu_(input, alpha=1.0):
    return _E.celu(input, alpha, True)


def selu_(input):
    return _E.selu(input, True)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, True)


def threshold_(input, threshold_value, value):
    return threshold(input, threshold_value, value, True)


def channel_shuffle(input, groups):
    n, c = input.shape[:2]
    rest = tuple(input.shape[2:])
    return input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(input.shape)


native_channel_shuffle = channel_shuffle
adaptive_max_pool1d_with_indices = _lazy("adaptive_max_pool1d_with_indices")
max_pool3d = _lazy("max_pool3d")
avg_pool3d = _lazy("avg_pool3d")
conv_transpose3d = _lazy("conv_transpose3d")
adaptive_avg_pool3d = _lazy("adaptive_avg_pool3d")


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    _no_bf16_kernel(input, "multilabel_margin_loss_forward_out_frame")
    if input.is_cuda:  # CuPy: the target bookkeeping runs on host copies, back on device
        return multilabel_margin_loss(input.cpu(), target.cpu(), size_average, reduce,
                                      reduction).to(input.device)
    reduction = _reduction(size_average, reduce, reduction)
    x = input if input.dim() == 2 else input.unsqueeze(0)
    t = target._data if target.dim() == 2 else target._data[None]
    N, C = x.shape
    is_target = np.zeros((N, C), dtype=bool)
    tmask = np.zeros((N, C), dtype=x._data.dtype)
    for i in range(N):
        for j in range(C):
            if t[i, j] < 0:
                break
            is_target[i, t[i, j]] = True
            tmask[i, j] = 1
    tsafe = np.where(t >= 0, t, 0)
    xt = x.gather(1, _make(tsafe.astype(np.int64)))  # (N, C): x[target_j]
    margins = (1 - xt.unsqueeze(2) + x.unsqueeze(1)).clamp_min(0)  # (N, j, k)
    mask = tmask[:, :, None] * (~is_target)[:, None, :].astype(x._data.dtype)
    loss = (margins * _make(mask)).sum((1, 2)) / C
    if input.dim() == 1:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = _E.minimum(d_neg, dist(positive, negative))
    return _reduce((d_pos - d_neg + margin).clamp_min(0), reduction)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """Connectionist temporal classification loss: the forward (alpha) recursion in
    probability space, rescaled at every step; gradients come from the recorded ops."""
    if log_probs.is_cuda:  # CuPy: the alignment recursion runs on host copies, back on device
        def h(t):
            return t.cpu() if isinstance(t, Tensor) else t
        return ctc_loss(log_probs.cpu(), h(targets), h(input_lengths), h(target_lengths), blank,
                        reduction, zero_infinity).to(log_probs.device)
    _no_bf16_kernel(log_probs, "ctc_loss_cpu")
    _check_reduction(reduction)
    unbatched = log_probs.dim() == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        if targets.dim() == 1:
            targets = targets.unsqueeze(0)
    T, N, C = log_probs.shape
    il = (input_lengths._data if isinstance(input_lengths, Tensor)
          else np.asarray(input_lengths)).astype(np.int64).reshape(-1)
    tl = (target_lengths._data if isinstance(target_lengths, Tensor)
          else np.asarray(target_lengths)).astype(np.int64).reshape(-1)
    tg = targets._data.astype(np.int64)
    if tg.ndim == 1:  # concatenated targets
        offs = np.concatenate([[0], np.cumsum(tl)[:-1]])
        Lmax = int(tl.max()) if tl.size else 0
        tpad = np.zeros((N, max(Lmax, 1)), np.int64)
        for n in range(N):
            tpad[n, :tl[n]] = tg[offs[n]:offs[n] + tl[n]]
    else:
        tpad = tg if tg.shape[1] else np.zeros((N, 1), np.int64)
    Lmax = int(tl.max()) if tl.size else 0
    S = 2 * Lmax + 1
    ext = np.full((N, S), blank, dtype=np.int64)
    if Lmax:
        ext[:, 1::2] = tpad[:, :Lmax]
    pos = np.arange(S)
    valid = pos[None, :] < (2 * tl + 1)[:, None]
    skip = np.zeros((N, S), bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    dt = log_probs._data.dtype
    validf = _make(valid.astype(dt))
    skipf = _make(skip.astype(dt))
    extt = _make(ext)
    probs = log_probs.exp()
    z1 = _make(np.zeros((N, 1), dt))
    z2 = _make(np.zeros((N, 2), dt))
    from ..ops.movement import cat
    init = np.zeros((N, S), dt)
    init[:, :2] = 1
    a = probs[0].gather(1, extt) * _make(init) * validf
    c = a.sum(1, keepdim=True)
    a = a / c
    logc = c.log().squeeze(1)
    for t in range(1, T):
        active = il > t
        if not active.any():
            break
        s1 = cat([z1, a[:, :-1]], 1)
        s2 = cat([z2, a[:, :-2]], 1) * skipf
        an = (a + s1 + s2) * probs[t].gather(1, extt) * validf
        cn = an.sum(1, keepdim=True)
        act = _make(active[:, None])
        a = _E.where(act, an / cn, a)
        logc = logc + _E.where(_make(active), cn.log().squeeze(1), _make(np.zeros(N, dt)))
    last = _make((2 * tl).astype(np.int64)[:, None])
    prev = _make(np.maximum(2 * tl - 1, 0).astype(np.int64)[:, None])
    has_prev = _make((tl > 0).astype(dt)[:, None])
    final = (a.gather(1, last) + a.gather(1, prev) * has_prev).squeeze(1)
    if zero_infinity:
        bad = _make(~np.isfinite(np.log(np.maximum(final._data, 0)) + logc._data))
        one, zero = _make(np.ones(N, dt)), _make(np.zeros(N, dt))
        final = _E.where(bad, one, final)
        logc = _E.where(bad, zero, logc)
        loss = _E.where(bad, zero, -(logc + final.log()))
    else:
        with np.errstate(divide="ignore"):
            loss = -(logc + final.log())
    if unbatched:
        loss = loss.squeeze(0)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return (loss / _make(np.maximum(tl, 1).astype(dt)).reshape(loss.shape)).mean()



lp_pool1d = _lazy("lp_pool1d")
lp_pool2d = _lazy("lp_pool2d")
max_unpool1d = _lazy("max_unpool1d")
max_pool3d_with_indices = _lazy("max_pool3d_with_indices")
adaptive_max_pool3d = _lazy("adaptive_max_pool3d")
adaptive_max_pool3d_with_indices = _lazy("adaptive_max_pool3d_with_indices")
max_unpool3d = _lazy("max_unpool3d")
lp_pool3d = _lazy("lp_pool3d")
fractional_max_pool2d = _lazy("fractional_max_pool2d")
fractional_max_pool3d = _lazy("fractional_max_pool3d")
fractional_max_pool2d_with_indices = _lazy("fractional_max_pool2d_with_indices")
fractional_max_pool3d_with_indices = _lazy("fractional_max_pool3d_with_indices")


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction="mean", ignore_index=None, label_smoothing=0.0,
                         options=None):
    """cross_entropy(linear(input, linear_weight, linear_bias), target): PyTorch 2.13's
    reference path (`options` only selects chunking there; results are the same)."""
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError(
            "expected linear_weight with dimensionality at least 2, got "
            f"{linear_weight.dim()}")
    num_batches = tuple(input.shape[:-1])
    in_features = input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(
            "expected equal input and linear_weight last dimensions (in_features), "
            f"got {input.shape[-1]} and {linear_weight.shape[-1]}, respectively")
    num_classes = linear_weight.shape[0]
    out_features = tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(
            f"expected linear_bias shape {(num_classes, *out_features)}, got "
            f"{tuple(linear_bias.shape)}")
    if len(out_features) > 0 and len(num_batches) == 0:
        raise RuntimeError(
            f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} "
            f"requires batched input, (N, {in_features}), got unbatched input with shape "
            f"{tuple(input.shape)}")
    logits_shape = (*num_batches, num_classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    ignore_index = ignore_index if ignore_index is not None else -100
    w2 = linear_weight.reshape(-1, in_features)
    b2 = linear_bias.reshape(-1) if linear_bias is not None else None
    logits = linear(input, w2, b2).reshape(logits_shape)
    return cross_entropy(logits, target, weight=weight, ignore_index=ignore_index,
                         reduction=reduction, label_smoothing=label_smoothing)
