"""torch.optim.RMSprop."""
import numpy as np

from .optimizer import (
    Optimizer,
    _call_closure,
    _check_lr,
    _f,
    _gather_states,
    _grad_of,
    _lerp_,
    _real,
    _restore_step_tensors,
    _use_grad_for_differentiable,
)

__all__ = ["RMSprop", "rmsprop"]


class RMSprop(Optimizer):
    """Implements the RMSprop algorithm (centered and momentum variants)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay,
                    "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        _restore_step_tensors(self)

    def _init_group(self, group, params_with_grad, grads, square_avgs, momentum_buffer_list,
                    grad_avgs, state_steps):
        states = [("square_avg", square_avgs, None)]
        if group["momentum"] > 0:
            states.append(("momentum_buffer", momentum_buffer_list, None))
        if group["centered"]:
            states.append(("grad_avg", grad_avgs, None))
        return _gather_states(self.state, group["params"], params_with_grad, grads,
                              state_steps, states)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            params_with_grad, grads, square_avgs, grad_avgs = [], [], [], []
            momentum_buffer_list, state_steps = [], []
            self._init_group(group, params_with_grad, grads, square_avgs,
                             momentum_buffer_list, grad_avgs, state_steps)
            rmsprop(params_with_grad, grads, square_avgs, grad_avgs, momentum_buffer_list,
                    state_steps, lr=group["lr"], alpha=group["alpha"], eps=group["eps"],
                    weight_decay=group["weight_decay"], momentum=group["momentum"],
                    centered=group["centered"], maximize=group["maximize"])
        return loss


def rmsprop(params, grads, square_avgs, grad_avgs, momentum_buffer_list, state_steps,
            foreach=None, maximize=False, differentiable=False, capturable=False,
            has_complex=False, *, lr, alpha, eps, weight_decay, momentum, centered):
    """Functional RMSprop (PyTorch's single-tensor path)."""
    lr, weight_decay = _f(lr), _f(weight_decay)
    for i, param in enumerate(params):
        step = state_steps[i]
        g = _grad_of(grads[i], param, maximize)
        p = _real(param._data)
        square_avg = _real(square_avgs[i]._data)
        step._data += 1
        step._bump()
        if weight_decay != 0:
            g = g + weight_decay * p
        square_avg *= alpha
        square_avg += (1 - alpha) * g * g
        square_avgs[i]._bump()
        if centered:
            grad_avg = _real(grad_avgs[i]._data)
            _lerp_(grad_avg, g, 1 - alpha)
            grad_avgs[i]._bump()
            avg = np.sqrt(square_avg + (-1) * grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += eps
        if momentum > 0:
            buf = _real(momentum_buffer_list[i]._data)
            buf *= momentum
            buf += g / avg
            momentum_buffer_list[i]._bump()
            p += (-lr) * buf
        else:
            p += (-lr) * g / avg
        param._bump()
