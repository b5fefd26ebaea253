"""torch.optim.Adadelta."""
import numpy as np

from .optimizer import (
    Optimizer,
    _call_closure,
    _check_lr,
    _f,
    _gather_zero_states,
    _grad_of,
    _real,
    _restore_step_tensors,
    _use_grad_for_differentiable,
)

__all__ = ["Adadelta", "adadelta"]


class Adadelta(Optimizer):
    """Implements the Adadelta algorithm."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        _restore_step_tensors(self)

    def _init_group(self, group, params_with_grad, grads, square_avgs, acc_deltas, state_steps):
        return _gather_zero_states(self.state, group["params"], params_with_grad, grads,
                                   state_steps, {"square_avg": square_avgs, "acc_delta": acc_deltas})

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            params_with_grad, grads, square_avgs, acc_deltas, state_steps = [], [], [], [], []
            self._init_group(group, params_with_grad, grads, square_avgs, acc_deltas,
                             state_steps)
            adadelta(params_with_grad, grads, square_avgs, acc_deltas, state_steps,
                     lr=group["lr"], rho=group["rho"], eps=group["eps"],
                     weight_decay=group["weight_decay"], maximize=group["maximize"])
        return loss


def adadelta(params, grads, square_avgs, acc_deltas, state_steps, capturable=False,
             foreach=None, differentiable=False, has_complex=False, *, lr, rho, eps,
             weight_decay, maximize):
    """Functional Adadelta (PyTorch's single-tensor path)."""
    lr, weight_decay = _f(lr), _f(weight_decay)
    for param, grad, sq_t, acc_t, step in zip(params, grads, square_avgs, acc_deltas,
                                               state_steps):
        step._data += 1
        step._bump()
        g = _grad_of(grad, param, maximize)
        p = _real(param._data)
        if weight_decay != 0:
            g = g + weight_decay * p
        square_avg = _real(sq_t._data)
        acc_delta = _real(acc_t._data)
        square_avg *= rho
        square_avg += (1 - rho) * g * g
        std = np.sqrt(square_avg + eps)
        delta = np.sqrt(acc_delta + eps)
        delta /= std
        delta *= g
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        sq_t._bump()
        acc_t._bump()
        p += (-lr) * delta
        param._bump()
