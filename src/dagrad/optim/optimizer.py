"""torch.optim.Optimizer: parameter groups, per-parameter state, state_dict in PyTorch's layout.

Updates are done in NumPy directly on the parameters' arrays (`p._data`), in place, following
PyTorch's single-tensor (foreach=False) code path operation by operation, so trajectories agree
with PyTorch to float rounding. State tensors are dagrad Tensors.
"""
import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from copy import deepcopy
from itertools import chain

import numpy as np

from ..autograd.function import RemovableHandle
from ..autograd.grad_mode import state as _grad_state
from ..backend import contiguous as _contig
from ..tensor import Tensor, _make

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Singleton class representing a required parameter for an Optimizer."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_global_optimizer_pre_hooks = OrderedDict()
_global_optimizer_post_hooks = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    handle = RemovableHandle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook):
    handle = RemovableHandle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def _typename(obj):
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    if module in {"", "builtins"}:
        return qualname
    return f"{module}.{qualname}"


def _get_scalar_dtype(is_fused=None):
    from .. import _dtype as D
    if is_fused:
        return D.float32
    return D.float64 if D.get_default_dtype() == D.float64 else D.float32


def _scalar_state(value=0.0):
    """A 0-d state tensor (step, mu_product) like torch.tensor(0.0, dtype=_get_scalar_dtype())."""
    return _make(np.array(value, dtype=_get_scalar_dtype().np))


def _to_scalar(x):
    if isinstance(x, Tensor) and x.dim() != 0:
        return x.squeeze()
    return x


def _get_value(x):
    return x.item() if isinstance(x, Tensor) else x


def _f(x):
    """A hyperparameter (float or 1-element Tensor) as a Python number."""
    if isinstance(x, Tensor):
        return x.item()
    return x


def _use_grad_for_differentiable(func):
    @functools.wraps(func)
    def _use_grad(self, *args, **kwargs):
        if self.defaults.get("differentiable") or any(
                g.get("differentiable") for g in self.param_groups):
            raise NotImplementedError(
                "dagrad.optim: differentiable=True (differentiating through the optimizer "
                "step) is not supported; updates are done in place in NumPy")
        prev = _grad_state.enabled
        try:
            _grad_state.enabled = bool(self.defaults["differentiable"])
            return func(self, *args, **kwargs)
        finally:
            _grad_state.enabled = prev
    return _use_grad


def _call_closure(closure):
    if closure is None:
        return None
    prev = _grad_state.enabled
    try:
        _grad_state.enabled = True
        return closure()
    finally:
        _grad_state.enabled = prev


def _profile_hook_step(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        self, *_ = args
        for pre_hook in chain(_global_optimizer_pre_hooks.values(),
                              self._optimizer_step_pre_hooks.values()):
            result = pre_hook(self, args, kwargs)
            if result is not None:
                if isinstance(result, tuple) and len(result) == 2:
                    args, kwargs = result
                else:
                    raise RuntimeError(
                        f"{func} must return None or a tuple of (new_args, new_kwargs), but got "
                        f"{result}.")
        out = func(*args, **kwargs)
        for post_hook in chain(self._optimizer_step_post_hooks.values(),
                               _global_optimizer_post_hooks.values()):
            post_hook(self, args, kwargs)
        return out

    wrapper.hooked = True
    return wrapper


# ---------------------------------------------------------------------------- array helpers
def _real(a):
    """View a complex array as real (torch.view_as_real) so updates act on components."""
    if a.dtype.kind == "c":
        return np.atleast_1d(a).view(a.real.dtype)
    return a


def _like_param(arr, param):
    """A fresh state array from a (possibly real-viewed) array, shaped and typed like param."""
    pd = param._data
    if pd.dtype.kind == "c":
        return _contig(arr).view(pd.dtype).reshape(pd.shape)
    return arr


def _lerp_(a, end, weight):
    """a.lerp_(end, weight) with a scalar weight, PyTorch's two-branch formula."""
    w = a.dtype.type(weight)
    if abs(weight) < 0.5:
        a += w * (end - a)
    else:
        a[...] = end - (end - a) * (a.dtype.type(1) - w)


def _grad_of(grad, param, maximize):
    """The gradient array (negated when maximizing), as a real view for complex params."""
    g = grad._data if isinstance(grad, Tensor) else np.asarray(grad)
    if g.dtype != param._data.dtype:
        g = g.astype(param._data.dtype)
    return _real(-g if maximize else g)


def _zeros_like_state(p):
    return _make(np.zeros_like(p._data))


def _one_state(p):
    """A 0-d 1.0 state (NAdam's mu_product, ASGD's mu)."""
    return _scalar_state(1.0)


def _gather_states(state, params, params_with_grad, grads, state_steps, states):
    """The common `_init_group`: parameters that have a .grad, their grads, and their state,
    created on first use as a 0-d `step` plus, in order, each (name, out_list, make) of
    `states` (make(p) gives the initial value; None: zeros like p). Each state's value is
    appended to its out_list (None: kept in the state only). Returns has_complex."""
    has_complex = False
    out = [(name, lst.append) for name, lst, _ in states if lst is not None]
    for p in params:
        g = p.grad
        if g is None:
            continue
        has_complex |= p.is_complex()
        params_with_grad.append(p)
        grads.append(g)
        st = state[p]
        if not st:
            st["step"] = _scalar_state(0.0)
            for name, _, make in states:
                st[name] = _zeros_like_state(p) if make is None else make(p)
        for name, add in out:
            add(st[name])
        state_steps.append(st["step"])
    return has_complex


def _gather_zero_states(state, params, params_with_grad, grads, state_steps, zero_states):
    """_gather_states with zero-initialised states only ({state name: out_list})."""
    return _gather_states(state, params, params_with_grad, grads, state_steps,
                          [(name, lst, None) for name, lst in zero_states.items()])


class Optimizer:
    r"""Base class for all optimizers.

    Args:
        params (iterable): an iterable of Tensors or dicts. Specifies what Tensors should be
            optimized.
        defaults (dict): a dict containing default values of optimization options (used when a
            parameter group doesn't specify them).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _profile_hook_step(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()

        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))

        self.state = defaultdict(dict)
        self.param_groups = []

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]

        for param_group in param_groups:
            self.add_param_group(param_group)

        self._warned_capturable_if_run_uncaptured = True

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self.defaults.setdefault("differentiable", False)

    def __repr__(self):
        format_string = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            format_string += "\n"
            format_string += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    format_string += f"    {key}: {group[key]}\n"
        format_string += ")"
        return format_string

    # ------------------------------------------------------------------ hooks
    def register_step_pre_hook(self, hook):
        handle = RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook):
        handle = RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    def _register(self, store, hook, prepend):
        handle = RemovableHandle(store)
        store[handle.id] = hook
        if prepend:
            store.move_to_end(handle.id, last=False)
        return handle

    def register_state_dict_pre_hook(self, hook, prepend=False):
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------------ state dict
    def state_dict(self):
        r"""Return the state of the optimizer as a dict with entries ``state`` (parameter index
        -> per-parameter state) and ``param_groups`` (options plus parameter indices)."""
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)

        param_mappings = {}
        start_index = 0

        def pack_group(group):
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            param_mappings.update({id(p): i for i, p in enumerate(group["params"], start_index)
                                   if id(p) not in param_mappings})
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(param_mappings[id(k)] if isinstance(k, Tensor) else k): v
                        for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": param_groups}

        for post_hook in self._optimizer_state_dict_post_hooks.values():
            hook_result = post_hook(self, state_dict)
            if hook_result is not None:
                state_dict = hook_result
        return state_dict

    @staticmethod
    def _process_value_according_to_param_policy(param, value, param_id, param_groups,
                                                 key=None):
        fused = capturable = False
        for pg in param_groups:
            if param_id in pg["params"]:
                fused = pg.get("fused", False)
                capturable = pg.get("capturable", False)
                break
        if key == "step":
            if capturable or fused:
                from .. import _dtype as D
                return value.to(dtype=D.float32)
            return value
        if param.is_floating_point():  # PyTorch: the parameter's dtype and device
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(device=param.device)

    def load_state_dict(self, state_dict):
        r"""Load the optimizer state (an object returned by :meth:`state_dict`)."""
        state_dict = state_dict.copy()

        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            hook_result = pre_hook(self, state_dict)
            if hook_result is not None:
                state_dict = hook_result

        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])

        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        param_lens = (len(g["params"]) for g in groups)
        saved_lens = (len(g["params"]) for g in saved_groups)
        if any(p_len != s_len for p_len, s_len in zip(param_lens, saved_lens)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")

        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def _cast(param, value, param_id=None, param_groups=None, key=None):
            if isinstance(value, Tensor):
                return Optimizer._process_value_according_to_param_policy(
                    param, value, param_id, param_groups, key)
            if isinstance(value, dict):
                return {k: _cast(param, v, param_id=param_id, param_groups=param_groups, key=k)
                        for k, v in value.items()}
            if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
                return type(value)(_cast(param, v, param_id=param_id, param_groups=param_groups)
                                   for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast(param, v, param_id=k,
                                     param_groups=state_dict["param_groups"])
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})

        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # ------------------------------------------------------------------ grads
    def zero_grad(self, set_to_none=True):
        r"""Reset the gradients of all optimized Tensors (to None by default)."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        if g.grad_fn is not None:
                            g.detach_()
                        else:
                            g.requires_grad_(False)
                        g.zero_()

    def step(self, closure=None):
        r"""Perform a single optimization step (to be overridden)."""
        raise NotImplementedError

    def add_param_group(self, param_group):
        r"""Add a param group to the Optimizer's `param_groups`."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")

        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            param_group["params"] = list(params)

        extracted_param_tensors = []
        extracted_param_names = []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                extracted_param_names.append(param[0])
                extracted_param_tensors.append(param[1])
            else:
                extracted_param_tensors.append(param)

        param_group["params"] = extracted_param_tensors
        if len(extracted_param_names) != 0:
            if len(extracted_param_names) == len(extracted_param_tensors):
                param_group["param_names"] = extracted_param_names
            else:
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")

        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not self.defaults.get("differentiable", None) and not (
                    param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)

        params = param_group["params"]
        if len(params) != len(set(params)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error; "
                          "see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)

        param_set = set()
        for group in self.param_groups:
            param_set.update(set(group["params"]))
            if ("param_names" in param_group) != ("param_names" in group):
                current_group_txt = ("with names" if "param_names" in param_group
                                     else "without names")
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {current_group_txt} to the optimizer")

        if not param_set.isdisjoint(set(param_group["params"])):
            raise ValueError("some parameters appear in more than one parameter group")

        self.param_groups.append(param_group)


def _check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_fused(fused, differentiable, foreach):
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _restore_step_tensors(opt, extra=()):
    """__setstate__ helper: state['step'] (and `extra` keys) saved as numbers become tensors."""
    for group in opt.param_groups:
        for p in group["params"]:
            p_state = opt.state.get(p, [])
            if len(p_state) != 0:
                for key in ("step",) + tuple(extra):
                    if key in p_state and not isinstance(p_state[key], Tensor):
                        p_state[key] = _scalar_state(float(p_state[key]))
