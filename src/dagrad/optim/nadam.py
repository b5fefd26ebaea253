"""torch.optim.NAdam."""
import numpy as np

from .adamax import _check_betas
from .optimizer import (
    Optimizer,
    _call_closure,
    _check_lr,
    _f,
    _gather_states,
    _get_value,
    _grad_of,
    _lerp_,
    _one_state,
    _real,
    _restore_step_tensors,
    _use_grad_for_differentiable,
)

__all__ = ["NAdam", "nadam"]


class NAdam(Optimizer):
    """Implements the NAdam algorithm (Adam with Nesterov momentum)."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_lr(lr)
        _check_betas(eps, betas, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
        _restore_step_tensors(self, ("mu_product",))

    def _init_group(self, group, params_with_grad, grads, exp_avgs, exp_avg_sqs, mu_products,
                    state_steps):
        return _gather_states(self.state, group["params"], params_with_grad, grads, state_steps,
                              [("mu_product", mu_products, _one_state),
                               ("exp_avg", exp_avgs, None), ("exp_avg_sq", exp_avg_sqs, None)])

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            params_with_grad, grads, exp_avgs, exp_avg_sqs = [], [], [], []
            mu_products, state_steps = [], []
            beta1, beta2 = group["betas"]
            self._init_group(group, params_with_grad, grads, exp_avgs, exp_avg_sqs,
                             mu_products, state_steps)
            nadam(params_with_grad, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps,
                  beta1=beta1, beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
                  momentum_decay=group["momentum_decay"], eps=group["eps"],
                  maximize=group["maximize"],
                  decoupled_weight_decay=group["decoupled_weight_decay"])
        return loss


def nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps,
          decoupled_weight_decay=False, foreach=None, capturable=False, differentiable=False,
          has_complex=False, maximize=False, *, beta1, beta2, lr, weight_decay, momentum_decay,
          eps):
    """Functional NAdam (PyTorch's single-tensor path)."""
    lr, weight_decay = _f(lr), _f(weight_decay)
    for i, param in enumerate(params):
        g = _grad_of(grads[i], param, maximize)
        p = _real(param._data)
        exp_avg = _real(exp_avgs[i]._data)
        exp_avg_sq = _real(exp_avg_sqs[i]._data)
        mu_product = mu_products[i]
        step_t = state_steps[i]
        step_t._data += 1
        step_t._bump()
        step = _get_value(step_t)
        bias_correction2 = 1 - beta2 ** step
        if weight_decay != 0:
            if decoupled_weight_decay:
                p *= 1 - lr * weight_decay
            else:
                g = g + weight_decay * p
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product._data *= mu
        mu_product._bump()
        _lerp_(exp_avg, g, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * g * g
        exp_avgs[i]._bump()
        exp_avg_sqs[i]._bump()
        denom = np.sqrt(exp_avg_sq / bias_correction2)
        mu_product_value = _get_value(mu_product)
        mu_product_next = mu_product_value * mu_next
        denom += eps
        p += (-lr * (1.0 - mu) / (1.0 - mu_product_value)) * g / denom
        p += ((-lr * mu_next) / (1.0 - mu_product_next)) * exp_avg / denom
        param._bump()
