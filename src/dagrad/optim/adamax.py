"""torch.optim.Adamax."""
import numpy as np

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

__all__ = ["Adamax", "adamax"]


def _check_betas(eps, betas, weight_decay):
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adamax(Optimizer):
    """Implements the Adamax algorithm (a variant of Adam based on the infinity norm)."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_betas(eps, betas, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        _restore_step_tensors(self)

    def _init_group(self, group, params_with_grad, grads, exp_avgs, exp_infs, state_steps):
        return _gather_zero_states(self.state, group["params"], params_with_grad, grads,
                                   state_steps, {"exp_avg": exp_avgs, "exp_inf": exp_infs})

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            params_with_grad, grads, exp_avgs, exp_infs, state_steps = [], [], [], [], []
            beta1, beta2 = group["betas"]
            self._init_group(group, params_with_grad, grads, exp_avgs, exp_infs, state_steps)
            adamax(params_with_grad, grads, exp_avgs, exp_infs, state_steps, eps=group["eps"],
                   beta1=beta1, beta2=beta2, lr=group["lr"],
                   weight_decay=group["weight_decay"], maximize=group["maximize"])
        return loss


def adamax(params, grads, exp_avgs, exp_infs, state_steps, foreach=None, maximize=False,
           differentiable=False, capturable=False, has_complex=False, *, eps, beta1, beta2,
           lr, weight_decay):
    """Functional Adamax (PyTorch's single-tensor path)."""
    lr, weight_decay = _f(lr), _f(weight_decay)
    for i, param in enumerate(params):
        g = _grad_of(grads[i], param, maximize)
        p = _real(param._data)
        exp_avg = _real(exp_avgs[i]._data)
        exp_inf = _real(exp_infs[i]._data)
        step_t = state_steps[i]
        step_t._data += 1
        step_t._bump()
        if weight_decay != 0:
            g = g + weight_decay * p
        _lerp_(exp_avg, g, 1 - beta1)
        exp_inf *= beta2
        norm = np.abs(g)
        norm += eps
        np.maximum(exp_inf, norm, out=exp_inf)
        exp_avgs[i]._bump()
        exp_infs[i]._bump()
        bias_correction = 1 - beta1 ** _get_value(step_t)
        clr = lr / bias_correction
        p += (-clr) * exp_avg / exp_inf
        param._bump()
