"""torch.optim.Rprop."""
import numpy as np

from ..tensor import _make
from .optimizer import (
    Optimizer,
    _call_closure,
    _check_lr,
    _f,
    _gather_states,
    _grad_of,
    _real,
    _restore_step_tensors,
    _to_scalar,
    _use_grad_for_differentiable,
)

__all__ = ["Rprop", "rprop"]


class Rprop(Optimizer):
    """Implements the resilient backpropagation algorithm."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        _restore_step_tensors(self)

    def _init_group(self, group, params, grads, prevs, step_sizes, state_steps):
        def step_size(p):
            lr = _f(_to_scalar(group["lr"]))
            return _make(np.full_like(p.grad._data, complex(lr, lr) if p.is_complex() else lr))
        return _gather_states(self.state, group["params"], params, grads, state_steps,
                              [("prev", prevs, None), ("step_size", step_sizes, step_size)])

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            params, grads, prevs, step_sizes, state_steps = [], [], [], [], []
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            self._init_group(group, params, grads, prevs, step_sizes, state_steps)
            rprop(params, grads, prevs, step_sizes, state_steps, step_size_min=step_size_min,
                  step_size_max=step_size_max, etaminus=etaminus, etaplus=etaplus,
                  maximize=group["maximize"])
        return loss


def rprop(params, grads, prevs, step_sizes, state_steps, foreach=None, capturable=False,
          maximize=False, differentiable=False, has_complex=False, *, step_size_min,
          step_size_max, etaminus, etaplus):
    """Functional Rprop (PyTorch's single-tensor path)."""
    for i, param in enumerate(params):
        g = _grad_of(grads[i], param, maximize)
        p = _real(param._data)
        prev = _real(prevs[i]._data)
        step_size = _real(step_sizes[i]._data)
        state_steps[i]._data += 1
        state_steps[i]._bump()
        sign = np.sign(g * prev)
        sign = np.where(sign > 0, etaplus, sign)
        sign = np.where(sign < 0, etaminus, sign)
        sign = np.where(sign == 0, 1, sign)
        step_size *= sign
        np.clip(step_size, step_size_min, step_size_max, out=step_size)
        g = np.where(sign == sign.dtype.type(etaminus), 0, g)
        p += (-1) * np.sign(g) * step_size
        prev[...] = g
        param._bump()
        prevs[i]._bump()
        step_sizes[i]._bump()
