"""torch.optim.Adafactor (single-tensor path)."""
import numpy as np

from ..backend import get_array_module as _gam
from ..tensor import Tensor, _make
from .optimizer import (
    Optimizer,
    _call_closure,
    _f,
    _grad_of,
    _lerp_,
    _restore_step_tensors,
    _scalar_state,
    _to_scalar,
)

__all__ = ["Adafactor", "adafactor"]


class Adafactor(Optimizer):
    """Implements the Adafactor algorithm (factored second moments for matrices)."""

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
        _restore_step_tensors(self)

    def _init_group(self, group, params_with_grad, grads, row_vars, col_vars, variances,
                    state_steps):
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.is_complex():
                raise RuntimeError("Adafactor does not support complex parameters")
            params_with_grad.append(p)
            grads.append(p.grad)
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _scalar_state(0.0)
                g = p.grad._data
                if g.ndim > 1:
                    row_shape = list(g.shape)
                    row_shape[-1] = 1
                    state["row_var"] = _make(_gam(g).zeros(row_shape, dtype=g.dtype))
                    col_shape = list(g.shape)
                    col_shape[-2] = 1
                    state["col_var"] = _make(_gam(g).zeros(col_shape, dtype=g.dtype))
                else:
                    state["variance"] = _make(np.zeros_like(g))
            row_vars.append(state.get("row_var", None))
            col_vars.append(state.get("col_var", None))
            variances.append(state.get("variance", None))
            state_steps.append(state["step"])
        return False

    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss."""
        from ..autograd.grad_mode import state as grad_state
        loss = _call_closure(closure)
        prev = grad_state.enabled
        grad_state.enabled = False
        try:
            for group in self.param_groups:
                params_with_grad, grads, row_vars, col_vars, variances, state_steps = (
                    [], [], [], [], [], [])
                eps1, eps2 = group["eps"]
                self._init_group(group, params_with_grad, grads, row_vars, col_vars,
                                 variances, state_steps)
                adafactor(params_with_grad, grads, row_vars, col_vars, variances, state_steps,
                          d=group["d"], lr=group["lr"], beta2_decay=group["beta2_decay"],
                          weight_decay=group["weight_decay"], eps1=eps1, eps2=eps2,
                          maximize=group["maximize"])
        finally:
            grad_state.enabled = prev
        return loss


def _norm(a, **kw):
    return np.sqrt(np.sum(a * a, **kw))


def adafactor(params, grads, row_vars, col_vars, variances, state_steps, foreach=None,
              grad_scale=None, found_inf=None, has_complex=False, *, d, lr, beta2_decay,
              weight_decay, eps1, eps2, maximize):
    """Functional Adafactor (PyTorch's single-tensor path)."""
    lr = _f(_to_scalar(lr))
    for i, param in enumerate(params):
        g = _grad_of(grads[i], param, maximize)
        p = param._data
        step_t = state_steps[i]
        row_var, col_var, variance = row_vars[i], col_vars[i], variances[i]
        if eps1 is None:
            eps1 = float(np.finfo(p.dtype).eps)
        step_t._data += 1
        step_t._bump()
        step_float = step_t.item()
        one_minus_beta2_t = step_float ** beta2_decay
        rho_t = min(lr, 1 / (step_float ** 0.5))
        alpha = max(eps2, float(_norm(p)) / (p.size ** 0.5)) * rho_t

        if weight_decay != 0:
            p *= 1 - lr * weight_decay

        if g.ndim > 1:
            row_mean = np.square(_norm(g, axis=-1, keepdims=True)) / g.shape[-1]
            _lerp_(row_var._data, row_mean, one_minus_beta2_t)
            col_mean = np.square(_norm(g, axis=-2, keepdims=True)) / g.shape[-2]
            _lerp_(col_var._data, col_mean, one_minus_beta2_t)
            row_var._bump()
            col_var._bump()
            var_estimate = np.matmul(row_var._data, col_var._data)
            var_estimate /= np.maximum(row_var._data.mean(axis=-2, keepdims=True), eps1)
        else:
            _lerp_(variance._data, g * g, one_minus_beta2_t)
            variance._bump()
            var_estimate = variance._data.copy()
        update = 1 / np.sqrt(np.maximum(var_estimate, eps1 * eps1))
        update *= g
        denom = max(1.0, float(_norm(update)) / ((update.size ** 0.5) * d))
        p += (-alpha / denom) * update
        param._bump()
