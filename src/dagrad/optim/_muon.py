"""torch.optim.Muon: momentum + Newton-Schulz orthogonalisation for 2-D parameters.

PyTorch runs the Newton-Schulz iteration in bfloat16; NumPy has no bfloat16, so each step is
computed in float32 and rounded to bfloat16 (round to nearest even), which reproduces PyTorch's
values to bfloat16 rounding differences (matmul accumulation order).
"""
import math

import numpy as np

from ..backend import contiguous as _contig
from ..tensor import Tensor, _make
from .optimizer import Optimizer, _call_closure, _f, _lerp_, _to_scalar

__all__ = ["Muon"]

EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


def _bf16(x):
    """Round a float array to bfloat16 precision (kept in float32)."""
    x = x.astype(np.float32, copy=False) if hasattr(x, "astype") else np.asarray(x, np.float32)
    shape = x.shape
    x = _contig(x).reshape(-1)
    u = x.view(np.uint32)
    r = ((u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1)))
         & np.uint32(0xFFFF0000))
    out = r.view(np.float32)
    return np.where(np.isnan(x), x, out).reshape(shape)


def _zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    x = _bf16(grad)
    transposed = grad.shape[0] > grad.shape[1]
    if transposed:
        x = x.T
    norm = float(_bf16(max(float(_bf16(np.sqrt(np.sum(x * x)))), float(_bf16(np.float32(eps))))))
    x = _bf16(x / norm)
    for _ in range(ns_steps):
        gram = _bf16(x @ x.T)
        gram_update = _bf16(b * gram + c * (gram @ gram))
        x = _bf16(a * x + gram_update @ x)
    if transposed:
        x = x.T
    return x


def _adjust_lr(lr, adjust_lr_fn, param_shape):
    A, B = param_shape[:2]  # noqa: N806
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        adjusted_ratio = math.sqrt(max(1, A / B))
    elif adjust_lr_fn == "match_rms_adamw":
        adjusted_ratio = 0.2 * math.sqrt(max(A, B))
    else:
        adjusted_ratio = 1.0
    return lr * adjusted_ratio


class Muon(Optimizer):
    """Implements Muon (MomentUm Orthogonalized by Newton-Schulz) for 2-D parameters."""

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS,
                 ns_steps=DEFAULT_NS_STEPS, adjust_lr_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = {"lr": lr, "weight_decay": weight_decay, "momentum": momentum,
                    "nesterov": nesterov, "ns_coefficients": ns_coefficients, "eps": eps,
                    "ns_steps": ns_steps, "adjust_lr_fn": adjust_lr_fn}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError("Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {p.size()}")

    def _init_group(self, group, params_with_grad, grads, muon_momentum_bufs):
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.is_complex():
                raise RuntimeError("Muon does not support complex parameters")
            params_with_grad.append(p)
            grads.append(p.grad)
            state = self.state[p]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = _make(np.zeros_like(p.grad._data))
            muon_momentum_bufs.append(state["momentum_buffer"])
        return False

    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss."""
        from ..autograd.grad_mode import state as grad_state
        loss = _call_closure(closure)
        prev = grad_state.enabled
        grad_state.enabled = False
        try:
            for group in self.param_groups:
                params_with_grad, grads, bufs = [], [], []
                self._init_group(group, params_with_grad, grads, bufs)
                muon(params_with_grad, grads, bufs, lr=group["lr"],
                     weight_decay=group["weight_decay"], momentum=group["momentum"],
                     nesterov=group["nesterov"], ns_coefficients=group["ns_coefficients"],
                     eps=group["eps"], ns_steps=group["ns_steps"],
                     adjust_lr_fn=group["adjust_lr_fn"], has_complex=False)
        finally:
            grad_state.enabled = prev
        return loss


def muon(params, grads, muon_momentum_bufs, *, foreach=None, lr, weight_decay, momentum,
         nesterov, ns_coefficients, ns_steps, eps, adjust_lr_fn, has_complex):
    """Functional Muon (PyTorch's single-tensor path)."""
    if foreach is not None and foreach:
        raise RuntimeError("Foreach is not supported for Muon yet")
    lr = _f(_to_scalar(lr))
    if has_complex:
        raise ValueError("Complex parameters are not supported")
    for i, param in enumerate(params):
        g = grads[i]._data
        if g.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        buf = muon_momentum_bufs[i]
        _lerp_(buf._data, g, 1 - momentum)
        buf._bump()
        if nesterov:
            update = g.copy()
            _lerp_(update, buf._data, momentum)
        else:
            update = buf._data
        update = _zeropower_via_newtonschulz(update, ns_coefficients, ns_steps, eps)
        adjusted_lr = _adjust_lr(lr, adjust_lr_fn, param.shape)
        p = param._data
        p *= 1 - lr * weight_decay
        p += (-adjusted_lr) * update.astype(p.dtype, copy=False)
        param._bump()
