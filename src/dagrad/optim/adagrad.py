"""torch.optim.Adagrad."""
import numpy as np

from ..tensor import _make
from .optimizer import (
    Optimizer,
    _call_closure,
    _check_fused,
    _check_lr,
    _f,
    _gather_states,
    _get_value,
    _grad_of,
    _real,
    _restore_step_tensors,
    _scalar_state,
    _use_grad_for_differentiable,
)

__all__ = ["Adagrad", "adagrad"]


def _full_like(p, value):
    v = complex(value, value) if p._data.dtype.kind == "c" else value
    return _make(np.full_like(p._data, v))


class Adagrad(Optimizer):
    """Implements the Adagrad algorithm."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        if fused:
            _check_fused(fused, differentiable, foreach)
            self._need_device_dtype_check_for_fused = True
            self._step_supports_amp_scaling = True
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _scalar_state(0.0)
                state["sum"] = _full_like(p, initial_accumulator_value)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
        _restore_step_tensors(self)

    def share_memory(self):
        pass

    def _init_group(self, group, params_with_grad, grads, state_sums, state_steps):
        init = self.defaults["initial_accumulator_value"]
        has_complex = _gather_states(self.state, group["params"], params_with_grad, grads,
                                     state_steps,
                                     [("sum", state_sums, lambda p: _full_like(p, init))])
        return False, has_complex  # (has_sparse_grad, has_complex)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            params_with_grad, grads, state_sums, state_steps = [], [], [], []
            self._init_group(group, params_with_grad, grads, state_sums, state_steps)
            adagrad(params_with_grad, grads, state_sums, state_steps, lr=group["lr"],
                    weight_decay=group["weight_decay"], lr_decay=group["lr_decay"],
                    eps=group["eps"], maximize=group["maximize"])
        return loss


def adagrad(params, grads, state_sums, state_steps, fused=None, grad_scale=None,
            found_inf=None, has_sparse_grad=False, foreach=None, differentiable=False,
            has_complex=False, *, lr, weight_decay, lr_decay, eps, maximize):
    """Functional Adagrad (PyTorch's single-tensor path)."""
    lr, weight_decay = _f(lr), _f(weight_decay)
    for param, grad, state_sum, step_t in zip(params, grads, state_sums, state_steps):
        step_t._data += 1
        step_t._bump()
        step = _get_value(step_t)
        g = _grad_of(grad, param, maximize)
        p = _real(param._data)
        if weight_decay != 0:
            g = g + weight_decay * p
        clr = lr / (1 + (step - 1) * lr_decay)
        s = _real(state_sum._data)
        s += 1 * g * g
        state_sum._bump()
        std = np.sqrt(s)
        std += eps
        p += (-clr) * g / std
        param._bump()
