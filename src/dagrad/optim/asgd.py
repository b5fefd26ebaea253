"""torch.optim.ASGD (averaged stochastic gradient descent)."""
from .optimizer import (
    Optimizer,
    _call_closure,
    _check_lr,
    _f,
    _gather_states,
    _get_value,
    _grad_of,
    _one_state,
    _real,
    _restore_step_tensors,
    _scalar_state,
    _to_scalar,
    _use_grad_for_differentiable,
)

__all__ = ["ASGD", "asgd"]


class ASGD(Optimizer):
    """Implements averaged stochastic gradient descent."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        _restore_step_tensors(self, ("eta", "mu"))

    def _init_group(self, group, params_with_grad, grads, mus, axs, etas, state_steps):
        return _gather_states(
            self.state, group["params"], params_with_grad, grads, state_steps,
            [("eta", etas, lambda p: _scalar_state(_f(_to_scalar(group["lr"])))),
             ("mu", mus, _one_state), ("ax", axs, None)])

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            params_with_grad, grads, mus, axs, etas, state_steps = [], [], [], [], [], []
            self._init_group(group, params_with_grad, grads, mus, axs, etas, state_steps)
            asgd(params_with_grad, grads, axs, mus, etas, state_steps, lambd=group["lambd"],
                 lr=group["lr"], t0=group["t0"], alpha=group["alpha"],
                 weight_decay=group["weight_decay"], maximize=group["maximize"])
        return loss


def asgd(params, grads, axs, mus, etas, state_steps, foreach=None, maximize=False,
         differentiable=False, capturable=False, has_complex=False, *, lambd, lr, t0, alpha,
         weight_decay):
    """Functional ASGD (PyTorch's single-tensor path)."""
    lr, weight_decay = _f(lr), _f(weight_decay)
    for i, param in enumerate(params):
        g = _grad_of(grads[i], param, maximize)
        p = _real(param._data)
        ax = _real(axs[i]._data)
        mu, eta, step_t = mus[i], etas[i], state_steps[i]
        step_t._data += 1
        step_t._bump()
        if weight_decay != 0:
            g = g + weight_decay * p
        eta_value = _get_value(eta)
        p *= 1 - lambd * eta_value
        p += (-eta_value) * g
        param._bump()
        if mu.item() != 1:
            ax += (p - ax) * mu._data[()]
        else:
            ax[...] = p
        axs[i]._bump()
        step = _get_value(step_t)
        eta._data[...] = lr / ((1 + lambd * lr * step) ** alpha)
        mu._data[...] = 1 / max(1, step - t0)
        eta._bump()
        mu._bump()
