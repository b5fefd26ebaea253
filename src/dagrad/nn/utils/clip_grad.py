import math
import warnings

import numpy as np

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor, _make

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        parameters = list(parameters)
    return parameters, [p._grad for p in parameters if getattr(p, "_grad", None) is not None]


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    else:
        tensors = list(tensors)
    norm_type = float(norm_type)
    if len(tensors) == 0:
        return _make(np.asarray(0.0, dtype=np.float32))
    dt = tensors[0]._data.dtype
    if norm_type == math.inf:
        total = max(float(np.abs(t._data).max()) if t._data.size else 0.0 for t in tensors)
    elif norm_type == -math.inf:
        total = min(float(np.abs(t._data).min()) for t in tensors)
    else:
        norms = [float(np.linalg.norm(t._data.reshape(-1).astype(np.float64), ord=norm_type))
                 for t in tensors]
        total = float(np.linalg.norm(np.asarray(norms), ord=norm_type))
    total_norm = _make(np.asarray(total, dtype=dt))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
            "by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return total_norm


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    _, grads = _grads(parameters)
    if len(grads) == 0:
        return
    clip_coef = float(max_norm) / (float(total_norm) + 1e-6)
    clip_coef_clamped = min(clip_coef, 1.0)
    with no_grad():
        for g in grads:
            g._data *= np.asarray(clip_coef_clamped, dtype=g._data.dtype)[()]  # (CuPy: scalar)
            g._bump()


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    parameters, grads = _grads(parameters)
    if len(grads) == 0:
        return _make(np.asarray(0.0, dtype=np.float32))
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
        "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    clip_value = float(clip_value)
    _, grads = _grads(parameters)
    with no_grad():
        for g in grads:
            np.clip(g._data, -clip_value, clip_value, out=g._data)
            g._bump()
