"""torch.optim.RAdam."""
import numpy as np

from .adamax import _check_betas
from .optimizer import (
    Optimizer,
    _call_closure,
    _check_lr,
    _f,
    _gather_zero_states,
    _get_value,
    _grad_of,
    _lerp_,
    _real,
    _restore_step_tensors,
    _use_grad_for_differentiable,
)

__all__ = ["RAdam", "radam"]


class RAdam(Optimizer):
    """Implements the RAdam algorithm (rectified Adam)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _check_lr(lr)
        _check_betas(eps, betas, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("capturable", False)
        _restore_step_tensors(self)

    def _init_group(self, group, params_with_grad, grads, exp_avgs, exp_avg_sqs, state_steps):
        return _gather_zero_states(self.state, group["params"], params_with_grad, grads,
                                   state_steps, {"exp_avg": exp_avgs, "exp_avg_sq": exp_avg_sqs})

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            params_with_grad, grads, exp_avgs, exp_avg_sqs, state_steps = [], [], [], [], []
            beta1, beta2 = group["betas"]
            self._init_group(group, params_with_grad, grads, exp_avgs, exp_avg_sqs,
                             state_steps)
            radam(params_with_grad, grads, exp_avgs, exp_avg_sqs, state_steps, beta1=beta1,
                  beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
                  eps=group["eps"], maximize=group["maximize"],
                  decoupled_weight_decay=group["decoupled_weight_decay"])
        return loss


def radam(params, grads, exp_avgs, exp_avg_sqs, state_steps, decoupled_weight_decay=False,
          foreach=None, capturable=False, differentiable=False, has_complex=False,
          maximize=False, *, beta1, beta2, lr, weight_decay, eps):
    """Functional RAdam (PyTorch's single-tensor path)."""
    lr, weight_decay = _f(lr), _f(weight_decay)
    for i, param in enumerate(params):
        g = _grad_of(grads[i], param, maximize)
        p = _real(param._data)
        exp_avg = _real(exp_avgs[i]._data)
        exp_avg_sq = _real(exp_avg_sqs[i]._data)
        step_t = state_steps[i]
        step_t._data += 1
        step_t._bump()
        step = _get_value(step_t)
        if weight_decay != 0:
            if decoupled_weight_decay:
                p *= 1 - lr * weight_decay
            else:
                g = g + weight_decay * p
        _lerp_(exp_avg, g, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * g * g
        exp_avgs[i]._bump()
        exp_avg_sqs[i]._bump()

        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        bias_corrected_exp_avg = exp_avg / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2

        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            exp_avg_sq_sqrt = np.sqrt(exp_avg_sq)
            exp_avg_sq_sqrt += eps
            adaptive_lr = np.reciprocal(exp_avg_sq_sqrt) * (bias_correction2 ** 0.5)
            p += -1.0 * (bias_corrected_exp_avg * lr * adaptive_lr * rect)
        else:
            p += -1.0 * (bias_corrected_exp_avg * lr)
        param._bump()
