"""vmap with batching rules: a BatchedTensor per vmap level, ops acting on the whole batch at once.

A `BatchedTensor` is a Tensor subclass holding `_value`, a tensor whose dim 0 is the batch of
one vmap level, and `_level`. Its *logical* shape (what user code sees) is `_value.shape[1:]`.
Nested vmaps nest wrappers: level 2's value is a level-1 BatchedTensor, so the innermost plain
tensor ("physical") has the batch dims of all levels in front, outermost level first.

Every op called on a BatchedTensor goes through `_call(name, raw, args, kwargs)`: it takes the
highest level present among the arguments, unwraps that level only, applies the op's batching
rule (align ranks for broadcasting, shift `dim` arguments by one, prepend the batch size to
shapes, pad matmul operands, ...) and calls the op again on the unwrapped values (which may still
be BatchedTensors of lower levels: the recursion handles them), then re-wraps the result. The
underlying NumPy kernels therefore run once over the whole batch; no rule loops over it.

Dispatch costs nothing outside vmap: BatchedTensor overrides every Tensor method, and the
`dagrad.*` / `dagrad.nn.functional.*` / `dagrad.linalg.*` / `dagrad.special.*` functions (and the
Tensor methods, for a plain tensor called with a batched argument, and the few helpers backward
rules call by name) are swapped for dispatching versions only while a vmap is running. Ops the
vmapped function bound before (module globals, closure cells) are swapped with them.

An op without a batching rule (or whose rule does not cover the arguments it got) is first run
as is on the BatchedTensors: a composite op built from dispatching ops batches through its parts.
When it reads a BatchedTensor's array (`NoBatchingRule`), the per-sample fallback runs THAT op
once per sample of the vmapped level (each sample may still be batched at lower levels), stacks
the results and re-wraps them, as functorch's slow-path fallback does; the rest of the function
keeps batching. Random ops obey the randomness flag there ('same' replays one draw per sample);
in-place ops update `self` with the stacked per-sample results; ops with data-dependent output
shapes raise PyTorch's error. Each fallback warns like functorch's (on by default, as in PyTorch
2.13; `_set_vmap_fallback_warning_enabled(False)` silences it). Data-dependent Python control flow
and `.item()` stay errors. Only when an array is read outside every dispatching op (a dagrad op
reached through an object) does the whole function run once per sample (warned).

`_batch_level(bs)` opens a level without a function: autograd.grad(..., is_grads_batched=True)
runs the backward pass on BatchedTensor gradients in it (autograd/functional.py).
"""
import contextlib
import functools
import warnings

from ..tensor import Size, Tensor

__all__ = ["vmap", "BatchedTensor", "NoBatchingRule"]


class NoBatchingRule(RuntimeError):
    pass


_CONTROL_FLOW = (
    "vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow. "
    "We don't support that yet, please file an issue at https://github.com/pytorch/pytorch/issues"
    " .")
_ITEM = (
    "vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over calling "
    ".item() on a Tensor, please try to rewrite what you're doing with other operations. If error "
    "is occurring somewhere inside PyTorch internals, please file a bug report.")
_RANDOM = (
    "vmap: called random operation while in randomness error mode. Please either use the 'same' "
    "or 'different' randomness flags on vmap or perform the randomness operation out of vmap")

_levels = []          # active vmap levels: [level, batch size, randomness]
_next_level = [0]


def _is_bt(x):
    return isinstance(x, BatchedTensor)


def _no_data(self):
    raise NoBatchingRule(
        "vmap: an operation without a batching rule was applied to a batched tensor (it read the "
        "tensor's array directly). dagrad's vmap supports the elementwise, reduction, shape, "
        "indexing and matmul ops; rewrite the function with those ops, or call it outside vmap.")


class BatchedTensor(Tensor):
    """A tensor of one vmap level: `_value` has the batch at dim 0."""
    __slots__ = ()

    _data = property(_no_data, lambda self, v: _no_data(self))
    __hash__ = Tensor.__hash__

    @property
    def _rg(self):
        return self._value._rg

    @_rg.setter
    def _rg(self, v):
        self._value._rg = v

    @property
    def grad_fn(self):
        return self._value.grad_fn

    @grad_fn.setter
    def grad_fn(self, v):
        pass

    @property
    def requires_grad(self):
        return self._value.requires_grad

    @requires_grad.setter
    def requires_grad(self, v):
        self._value.requires_grad = v

    def requires_grad_(self, requires_grad=True):
        self._value.requires_grad_(requires_grad)
        return self

    @property
    def shape(self):
        return Size(self._value.shape[1:])

    def size(self, dim=None):
        s = self.shape
        if dim is None:
            return s
        return s[dim]

    def dim(self):
        return len(self._value.shape) - 1

    ndimension = dim

    @property
    def ndim(self):
        return self.dim()

    def numel(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    nelement = numel

    @property
    def dtype(self):
        return self._value.dtype

    @property
    def device(self):
        return self._value.device

    @property
    def is_leaf(self):
        return self._value.is_leaf

    @property
    def grad(self):
        return None

    def is_floating_point(self):
        return self._value.is_floating_point()

    def is_complex(self):
        return self._value.is_complex()

    def __len__(self):
        s = self.shape
        if not s:
            raise TypeError("len() of a 0-d tensor")
        return s[0]

    def __repr__(self):
        return f"BatchedTensor(lvl={self._level}, bdim=0, value=\n{self._value!r}\n)"

    __str__ = __repr__

    def __bool__(self):
        raise RuntimeError(_CONTROL_FLOW)

    def __float__(self):
        raise RuntimeError(_CONTROL_FLOW)

    __int__ = __index__ = __complex__ = __float__

    def item(self):
        raise RuntimeError(_ITEM)

    def tolist(self):
        raise RuntimeError(_ITEM.replace(".item()", ".tolist()"))

    def numpy(self, force=False):
        raise RuntimeError(_ITEM.replace(".item()", ".numpy()"))

    def __array__(self, *a, **k):
        raise RuntimeError(_ITEM.replace(".item()", ".numpy()"))

    def __iter__(self):
        return iter(self.unbind(0))

    def backward(self, *a, **k):
        raise RuntimeError(
            "vmap: backward() called inside vmap is not supported: use dagrad.func.grad / vjp "
            "inside vmap instead")

    @property
    def T(self):
        return _call("permute", _raw_method("permute"),
                     (self, *reversed(range(self.dim()))), {})

    @property
    def mT(self):
        return _call("transpose", _raw_method("transpose"), (self, -2, -1), {})

    @property
    def H(self):
        return self.t().conj()

    @property
    def mH(self):
        return self.mT.conj()

    @property
    def real(self):
        return _bt(self._value.real, self._level)

    @property
    def imag(self):
        return _bt(self._value.imag, self._level)

    @property
    def data(self):
        raise RuntimeError("accessing `data` under vmap transform is not allowed")

    @property
    def itemsize(self):
        return self._value.itemsize

    @property
    def nbytes(self):
        return self.numel() * self._value.itemsize

    @property
    def is_cuda(self):
        return self._value.is_cuda

    @property
    def is_cpu(self):
        return self._value.is_cpu


def _bt(value, level):
    t = object.__new__(BatchedTensor)
    t._value = value
    t._level = level
    t._vc = None
    t._nr = 0
    return t


def _lshape(x):
    """Logical shape of a tensor (BatchedTensor or plain)."""
    return tuple(x.shape)


def _raw_method(name):
    """Tensor.<name> as implemented (not the dispatching wrapper swapped in during vmap)."""
    f = getattr(Tensor, name)
    return getattr(f, "_vmap_raw", f)


# ---------------------------------------------------------------- dispatch
def _max_level(args, kwargs):
    lvl = -1
    for a in args:
        if isinstance(a, BatchedTensor):
            if a._level > lvl:
                lvl = a._level
        elif isinstance(a, (list, tuple)):
            for b in a:
                if isinstance(b, BatchedTensor) and b._level > lvl:
                    lvl = b._level
    for a in kwargs.values():
        if isinstance(a, BatchedTensor):
            if a._level > lvl:
                lvl = a._level
        elif isinstance(a, (list, tuple)):
            for b in a:
                if isinstance(b, BatchedTensor) and b._level > lvl:
                    lvl = b._level
    return lvl


def _bsize(level):
    for lv, b, _ in _levels:
        if lv == level:
            return b
    raise RuntimeError("vmap: a BatchedTensor escaped its vmap level")


def _call(name, raw, args, kwargs):
    """Apply op `name` (plain implementation `raw`) to arguments that may be batched."""
    level = _max_level(args, kwargs)
    if level < 0:
        return raw(*args, **kwargs)
    rule = _RULES.get(name)
    if rule is not None:
        try:
            return rule(name, raw, level, args, dict(kwargs))
        except NoBatchingRule:  # the rule does not cover these arguments
            pass
    elif not _is_inplace(name) and name not in _DYNAMIC and not _is_random(
            name, raw, args, kwargs):
        try:  # a composite op: its parts dispatch (and batch) on their own
            return raw(*args, **kwargs)
        except NoBatchingRule:
            pass
    return _fallback(name, raw, level, args, kwargs)


# ---------------------------------------------------------------- the per-sample fallback
_fallback_warning = [True]


def _set_vmap_fallback_warning_enabled(enabled):
    """Warn on every per-sample fallback (torch._C._functorch's switch; on by default there)."""
    _fallback_warning[0] = bool(enabled)


def _is_vmap_fallback_warning_enabled():
    return _fallback_warning[0]


_INPLACE_DUNDERS = {"__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__",
                    "__imod__", "__ipow__", "__iand__", "__ior__", "__ixor__", "__ilshift__",
                    "__irshift__", "__imatmul__", "__setitem__"}


def _is_inplace(name):
    return name in _INPLACE_DUNDERS or (name.endswith("_") and not name.endswith("__"))


# random ops: the randomness flag decides ('error' raises, 'different' draws per sample,
# 'same' replays one draw for every sample)
_RANDOM_OPS = {"bernoulli_", "uniform_", "normal_", "random_", "exponential_", "geometric_",
               "cauchy_", "log_normal_", "multinomial", "poisson", "bernoulli", "normal",
               "rand_like", "randn_like", "randint_like", "rrelu", "rrelu_", "alpha_dropout",
               "feature_alpha_dropout", "dropout", "dropout1d", "dropout2d", "dropout3d",
               "dropout_",
               "alpha_dropout_", "feature_alpha_dropout_", "gumbel_softmax", "randperm"}
_TRAINING_FLAG = {"rrelu", "rrelu_", "alpha_dropout", "feature_alpha_dropout", "dropout", "dropout1d",
                  "dropout2d", "dropout3d", "alpha_dropout_", "feature_alpha_dropout_"}
# ops whose output shape depends on the data: errors, as in PyTorch
_DYNAMIC = {"nonzero": "aten::nonzero", "argwhere": "aten::nonzero",
            "unique": "aten::_unique2", "unique_consecutive": "aten::unique_consecutive",
            "masked_select": "aten::masked_select", "nonzero_static": None}
_DYNAMIC_MSG = ("vmap: We do not support batching operators that can output dynamic shape. "
                "Attempted to vmap over {}. Please file an issue at "
                "https://github.com/pytorch/pytorch/issues if you need this feature.")


def _is_random(name, raw, args, kwargs):
    if name not in _RANDOM_OPS:
        return False
    if name in _TRAINING_FLAG:
        try:
            a = _bind(raw, args, kwargs)
        except TypeError:
            return True
        return bool(a.get("training", True))
    return True


def _slice(x, level, k):
    """Sample k of the vmapped `level` of x (x itself when it is not batched at that level)."""
    if isinstance(x, BatchedTensor):
        if x._level == level:
            return _call("select", _raw_method("select"), (x._value, 0, k), {})
        return x
    if isinstance(x, (list, tuple)) and any(isinstance(b, BatchedTensor) for b in x):
        vals = [_slice(b, level, k) for b in x]
        return vals if isinstance(x, list) else tuple(vals)
    return x


def _zero_sample(x, level):
    """A stand-in sample (zeros) of x for an empty batch."""
    if isinstance(x, BatchedTensor) and x._level == level:
        v = x._value
        s = _call("sum", _raw_method("sum"), (v, 0), {})
        return _call("to", _raw_method("to"), (s, v.dtype), {})
    if isinstance(x, (list, tuple)) and any(isinstance(b, BatchedTensor) for b in x):
        vals = [_zero_sample(b, level) for b in x]
        return vals if isinstance(x, list) else tuple(vals)
    return x


def _fallback(name, raw, level, args, kwargs):
    """Run op `name` once per sample of `level`, stack the results and re-wrap them."""
    if name in _DYNAMIC:
        raise RuntimeError(_DYNAMIC_MSG.format(_DYNAMIC[name] or name))
    if _fallback_warning[0]:
        warnings.warn(
            f"There is a performance drop because we have not yet implemented the batching rule "
            f"for {name}. Please file us an issue on GitHub so that we can prioritize its "
            f"implementation.", UserWarning, stacklevel=3)
    bs = _bsize(level)
    state = None
    if _is_random(name, raw, args, kwargs):
        mode = _randomness(level)
        if mode == "error":
            raise RuntimeError(_RANDOM)
        if mode == "same":
            import dagrad
            state = dagrad.get_rng_state()
    inplace = _is_inplace(name)
    if inplace:
        sv = _unwrap(args[0], level)
        if sv is None:
            raise RuntimeError(_inplace_msg("index_put_" if name == "__setitem__" else name,
                                            level))
    if bs == 0:
        a0 = tuple(_zero_sample(a, level) for a in args)
        k0 = {k: _zero_sample(v, level) for k, v in kwargs.items()}
        if inplace:
            return args[0] if name != "__setitem__" else None
        r = _call(name, raw, a0, k0)
        return _restack(name, [r], level, empty=True)
    outs = []
    for k in range(bs):
        ak = [_slice(a, level, k) for a in args]
        kk = {n: _slice(v, level, k) for n, v in kwargs.items()}
        if inplace:
            ak[0] = _call("clone", _raw_method("clone"), (ak[0],), {})
        if state is not None:
            import dagrad
            dagrad.set_rng_state(state)
        r = _call(name, raw, tuple(ak), kk)
        outs.append(ak[0] if inplace else r)
    if inplace:
        st = _call("stack", _orig_fn("stack"), (outs, 0), {})
        _call("copy_", _raw_method("copy_"), (sv, st), {})
        return None if name == "__setitem__" else args[0]
    return _restack(name, outs, level)


def _inplace_msg(op, level):
    depth = next((i + 1 for i, (lv, _, _) in enumerate(_levels) if lv == level), 1)
    return (f"vmap: aten::{op}(self, *extra_args) is not possible because there exists a Tensor "
            f"`other` in extra_args that has more elements than `self`. This happened due to "
            f"`other` being vmapped over but `self` not being vmapped over at level {depth}. "
            f"Please try to use out-of-place operators instead of aten::{op}. If said operator "
            f"is being called inside the PyTorch framework, please file a bug report instead.")


# fallback results that are not tensors: metadata the same for every sample; any other
# (a data-dependent bool, a number) cannot be batched, as in PyTorch
_META_RESULTS = {"is_contiguous", "stride", "element_size", "storage_offset", "is_shared",
                 "is_pinned", "get_device", "is_signed", "is_same_size", "dim_order",
                 "is_set_to", "is_inference", "is_conj", "is_neg", "data_ptr", "nbytes",
                 "itemsize", "untyped_storage", "storage", "is_coalesced", "result_type",
                 "can_cast", "promote_types", "is_floating_point", "is_complex", "numel"}


def _restack(name, outs, level, empty=False):
    r0 = outs[0]
    if isinstance(r0, Tensor):
        if not all(isinstance(r, Tensor) for r in outs):
            raise RuntimeError(
                f"Batching rule not implemented for aten::{name}. We could not generate a "
                f"fallback.")
        shape = tuple(r0.shape)
        if any(tuple(r.shape) != shape for r in outs):
            raise RuntimeError(_DYNAMIC_MSG.format("aten::" + name))
        if empty:
            return _expand_to_level(r0, level, 0)
        return _bt(_call("stack", _orig_fn("stack"), (outs, 0), {}), level)
    if isinstance(r0, (tuple, list)):
        vals = [_restack(name, [r[i] for r in outs], level, empty) for i in range(len(r0))]
        if type(r0) is list:
            return vals
        if type(r0) is not tuple and hasattr(r0, "_fields"):
            return type(r0)(*vals)
        return tuple(vals)
    if r0 is None and all(r is None for r in outs):
        return None
    if name in _META_RESULTS:  # about the (logical) tensor, not its values: sample 0's answer
        return r0
    from .._dtype import dtype as _dtype
    from ..tensor import device as _device
    if isinstance(r0, (_dtype, _device, Size, str)) and all(r == r0 for r in outs):
        return r0
    raise RuntimeError(
        f"Batching rule not implemented for aten::{name}. We could not generate a fallback.")


def _orig_fn(name):
    """dagrad.<name> as implemented (not the dispatching wrapper swapped in during vmap)."""
    import dagrad
    f = dagrad.__dict__[name]
    return getattr(f, "_vmap_raw", f)


def _unwrap(x, level):
    """The value of x at `level` (batch at dim 0) or None if x is not batched at that level."""
    if isinstance(x, BatchedTensor) and x._level == level:
        return x._value
    return None


def _wrap_out(r, level):
    if isinstance(r, Tensor):
        return _bt(r, level)
    if isinstance(r, tuple):
        vals = tuple(_wrap_out(x, level) for x in r)
        if type(r) is not tuple and hasattr(r, "_fields"):
            return type(r)(*vals)
        return vals
    if isinstance(r, list):
        return [_wrap_out(x, level) for x in r]
    return r


def _norm_dim(d, ndim):
    if d < 0:
        d += ndim
    if not 0 <= d < max(ndim, 1):
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-max(ndim, 1)}, "
            f"{max(ndim, 1) - 1}], but got {d - ndim if d < 0 else d})")
    return d


def _again(name, raw, args, kwargs):
    """Run the op on unwrapped values: dispatches again if lower levels remain."""
    return _call(name, raw, args, kwargs)


# --- elementwise: align every batched operand to [B, 1.., *logical] of the max logical rank
def _align(level, args, kwargs):
    tensors = [a for a in args if isinstance(a, Tensor)] + [
        a for a in kwargs.values() if isinstance(a, Tensor)]
    rank = max(len(_lshape(t)) for t in tensors)

    def fix(a):
        if not isinstance(a, Tensor):
            return a
        v = _unwrap(a, level)
        if v is None:
            return a
        r = len(v.shape) - 1
        if r < rank:
            v = _call("reshape", _raw_method("reshape"),
                      (v, (v.shape[0],) + (1,) * (rank - r) + tuple(v.shape[1:])), {})
        return v
    return tuple(fix(a) for a in args), {k: fix(v) for k, v in kwargs.items()}


def _rule_elementwise(name, raw, level, args, kwargs):
    a2, k2 = _align(level, args, kwargs)
    return _wrap_out(_again(name, raw, a2, k2), level)


def _rule_inplace(name, raw, level, args, kwargs):
    self = args[0]
    if _unwrap(self, level) is None:
        raise RuntimeError(_inplace_msg(name, level))
    if name == "fill_":
        value = args[1] if len(args) > 1 else kwargs.get("value")
        if isinstance(value, Tensor) and _unwrap(value, level) is not None:
            if value.dim() != 0:
                raise RuntimeError(
                    f"fill_ only supports 0-dimension value tensor but got tensor with "
                    f"{value.dim()} dimensions.")
            full = _call("expand", _raw_method("expand"), (value, tuple(_lshape(self))), {})
            _call("copy_", _raw_method("copy_"), (self, full), {})
            return self
    a2, k2 = _align(level, args, kwargs)
    _again(name, raw, a2, k2)
    return self


# --- dim ops
_TUPLE_DIM_OK = {"sum", "mean", "amax", "amin", "std", "var", "nansum", "nanmean", "all", "any",
                 "count_nonzero", "logsumexp", "norm", "std_mean", "var_mean", "vector_norm"}
_VALUES_ONLY = {"max", "min", "median", "nanmedian"}   # no dim -> a tensor, dim -> (values, indices)
_DIM_POS = {"kthvalue": 2, "topk": 2, "norm": 2, "vector_norm": 2}
_DIM_DEFAULT_LAST = {"sort", "argsort", "kthvalue", "topk", "softmax", "log_softmax", "cumsum",
                     "cumprod", "cummax", "cummin", "logcumsumexp", "mode"}


def _shift(d, ndim):
    if isinstance(d, (tuple, list)):
        return tuple(_norm_dim(int(x), ndim) + 1 for x in d)
    return _norm_dim(int(d), ndim) + 1


def _rule_dim(name, raw, level, args, kwargs):
    self = args[0]
    v = _unwrap(self, level)
    if v is None:  # self unbatched, some other argument batched
        return _rule_elementwise(name, raw, level, args, kwargs)
    ndim = len(v.shape) - 1
    pos = _DIM_POS.get(name, 1)
    args = list(args)
    args[0] = v
    has_pos = len(args) > pos and not isinstance(args[pos], bool)
    if "dim" in kwargs:
        dim = kwargs["dim"]
        where = "kw"
    elif has_pos:
        dim = args[pos]
        where = "pos"
    else:
        dim = None
        where = None
    if dim is None and name in ("softmax", "log_softmax", "softmin") and getattr(
            raw, "__module__", "") == "dagrad.nn.functional":
        # F.softmax(x) without dim: PyTorch's legacy implicit dim (F warns about it)
        dim = 0 if ndim in (0, 1, 3) else 1
        where = "kw"
    if dim is None and name in _DIM_DEFAULT_LAST:
        dim = -1
        where = where or "kw"
    if dim is None:
        if name in _TUPLE_DIM_OK and ndim > 0:
            nd = tuple(range(1, ndim + 1))
        else:
            v2 = _call("reshape", _raw_method("reshape"), (v, (v.shape[0], -1)), {})
            args[0] = v2
            nd = 1
        if where == "pos":
            args[pos] = nd
        else:
            kwargs = dict(kwargs, dim=nd)
        r = _again(name, raw, tuple(args), kwargs)
        if name in _VALUES_ONLY or (name in ("argmax", "argmin") and not kwargs.get("keepdim")):
            if name in _VALUES_ONLY and isinstance(r, tuple):
                r = r[0]
        return _wrap_out(r, level)
    if isinstance(dim, (tuple, list)) and len(dim) == 0 and name in _TUPLE_DIM_OK:
        nd = tuple(range(1, ndim + 1))
    else:
        nd = _shift(dim, ndim)
    if where == "pos":
        args[pos] = nd
    else:
        kwargs = dict(kwargs, dim=nd)
    return _wrap_out(_again(name, raw, tuple(args), kwargs), level)


# --- shape ops
def _sizes(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list, Size)):
        return tuple(args[0])
    return tuple(args)


def _rule_reshape(name, raw, level, args, kwargs):
    v = _unwrap(args[0], level)
    if "shape" in kwargs:
        shape = tuple(kwargs.pop("shape"))
    elif "size" in kwargs:
        shape = tuple(kwargs.pop("size"))
    else:
        shape = _sizes(args[1:])
    return _bt(_again(name, raw, (v, (v.shape[0],) + shape), kwargs), level)


def _rule_expand(name, raw, level, args, kwargs):
    v = _unwrap(args[0], level)
    sizes = _sizes(args[1:]) if "size" not in kwargs else tuple(kwargs.pop("size"))
    r = len(v.shape) - 1
    if len(sizes) > r:
        v = _call("reshape", _raw_method("reshape"),
                  (v, (v.shape[0],) + (1,) * (len(sizes) - r) + tuple(v.shape[1:])), {})
    return _bt(_again(name, raw, (v, (v.shape[0],) + tuple(sizes)), kwargs), level)


def _rule_like_shape(target_name):
    def rule(name, raw, level, args, kwargs):  # expand_as / view_as / reshape_as
        other = args[1]
        shape = tuple(_lshape(other))
        if _unwrap(args[0], level) is None:
            x = args[0]
            # self unbatched, other batched: result is unbatched-shaped as other's logical shape
            return getattr(x, target_name)(*shape)
        return _call(target_name, _raw_method(target_name), (args[0], shape), {})
    return rule


def _rule_permute(name, raw, level, args, kwargs):
    v = _unwrap(args[0], level)
    dims = _sizes(args[1:]) if "dims" not in kwargs else tuple(kwargs.pop("dims"))
    nd = len(v.shape) - 1
    return _bt(_again(name, raw, (v, 0) + tuple(_norm_dim(d, nd) + 1 for d in dims), {}), level)


def _rule_two_dims(name, raw, level, args, kwargs):  # transpose / swapaxes / movedim(int) ...
    v = _unwrap(args[0], level)
    if v is None:
        return _rule_elementwise(name, raw, level, args, kwargs)
    nd = len(v.shape) - 1
    a = list(args[1:])
    d0 = kwargs.pop("dim0", None) if a == [] else a[0]
    d1 = kwargs.pop("dim1", None) if len(a) < 2 else a[1]
    if name in ("movedim", "moveaxis"):
        d0 = kwargs.pop("source", d0)
        d1 = kwargs.pop("destination", d1)
        return _bt(_again(name, raw, (v, _shift(d0, nd), _shift(d1, nd)), kwargs), level)
    return _bt(_again(name, raw, (v, _shift(d0, nd), _shift(d1, nd)), kwargs), level)


def _rule_t(name, raw, level, args, kwargs):
    v = _unwrap(args[0], level)
    if len(v.shape) - 1 < 2:
        return args[0]
    return _bt(_call("transpose", _raw_method("transpose"), (v, 1, 2), {}), level)


def _rule_unsqueeze(name, raw, level, args, kwargs):
    v = _unwrap(args[0], level)
    d = kwargs.pop("dim", None) if len(args) < 2 else args[1]
    nd = len(v.shape) - 1
    return _bt(_again(name, raw, (v, _norm_dim(d, nd + 1) + 1), {}), level)


def _rule_squeeze(name, raw, level, args, kwargs):
    v = _unwrap(args[0], level)
    d = kwargs.pop("dim", None) if len(args) < 2 else args[1]
    nd = len(v.shape) - 1
    if d is None:
        d = tuple(i for i, s in enumerate(v.shape[1:]) if s == 1)
        if not d:
            return args[0]
    return _bt(_again(name, raw, (v, _shift(d, nd)), {}), level)


def _rule_flatten(name, raw, level, args, kwargs):
    v = _unwrap(args[0], level)
    nd = len(v.shape) - 1
    s = kwargs.pop("start_dim", args[1] if len(args) > 1 else 0)
    e = kwargs.pop("end_dim", args[2] if len(args) > 2 else -1)
    if nd == 0:
        return _bt(_call("reshape", _raw_method("reshape"), (v, (v.shape[0], 1)), {}), level)
    return _bt(_again(name, raw, (v, _norm_dim(s, nd) + 1, _norm_dim(e, nd) + 1), {}), level)


def _rule_dim_first_arg(name, raw, level, args, kwargs):
    """Ops whose first argument after self is a dim: narrow, select, unflatten, split, chunk..."""
    v = _unwrap(args[0], level)
    if v is None:
        raise NoBatchingRule(f"vmap: no batching rule for '{name}' with a batched argument")
    nd = len(v.shape) - 1
    args = list(args)
    args[0] = v
    if name in ("split", "chunk", "tensor_split"):
        d = kwargs.pop("dim", args[2] if len(args) > 2 else 0)
        args = args[:2]
        kwargs = dict(kwargs, dim=_shift(d, nd))
    elif name == "unbind":
        d = kwargs.pop("dim", args[1] if len(args) > 1 else 0)
        args = [v, _shift(d, nd)]
    elif name == "diagonal":
        off = kwargs.pop("offset", args[1] if len(args) > 1 else 0)
        d1 = kwargs.pop("dim1", args[2] if len(args) > 2 else 0)
        d2 = kwargs.pop("dim2", args[3] if len(args) > 3 else 1)
        args = [v, off, _shift(d1, nd), _shift(d2, nd)]
    elif name in ("flip",):
        dims = _sizes(args[1:]) if "dims" not in kwargs else tuple(kwargs.pop("dims"))
        args = [v, tuple(_shift(d, nd) for d in dims)]
    elif name == "roll":
        shifts = kwargs.pop("shifts", args[1] if len(args) > 1 else None)
        dims = kwargs.pop("dims", args[2] if len(args) > 2 else None)
        if dims is None:
            flat = _call("reshape", _raw_method("reshape"), (v, (v.shape[0], -1)), {})
            r = _again(name, raw, (flat, shifts, 1), {})
            return _bt(_call("reshape", _raw_method("reshape"), (r, tuple(v.shape)), {}), level)
        args = [v, shifts, _shift(dims, nd)]
    elif name in ("repeat", "tile"):
        reps = _sizes(args[1:])
        if len(reps) > nd:
            v = _call("reshape", _raw_method("reshape"),
                      (v, (v.shape[0],) + (1,) * (len(reps) - nd) + tuple(v.shape[1:])), {})
        elif name == "tile" and len(reps) < nd:
            reps = (1,) * (nd - len(reps)) + reps
        args = [v, (1,) + tuple(reps)]
    elif name == "diff":
        d = kwargs.pop("dim", -1)
        args = args[:2]
        kwargs = dict(kwargs, dim=_shift(d, nd))
    else:  # narrow, select, unflatten, index_select, gather, scatter...
        if "dim" in kwargs:
            kwargs = dict(kwargs, dim=_shift(kwargs["dim"], nd))
        else:
            args[1] = _shift(args[1], nd)
    return _wrap_out(_again(name, raw, tuple(args), kwargs), level)


_ALIGNED_INDEX = ("gather", "scatter", "scatter_add", "take_along_dim", "scatter_reduce")


def _rule_index_like(name, raw, level, args, kwargs):
    """gather/scatter/index_select/take_along_dim: dim shifted; unbatched operands expanded."""
    bs = _bsize(level)
    args = list(args)
    kwargs = dict(kwargs)
    self = args[0]
    if _unwrap(self, level) is None:
        args[0] = _expand_to_level(self, level, bs)

    def batched(a):  # a tensor operand as its value at `level` (expanded when unbatched)
        if _unwrap(a, level) is None:
            a = _expand_to_level(a, level, bs)
        return _unwrap(a, level)
    if name in _ALIGNED_INDEX:  # index and src have self's rank: the batch goes in front
        for i in range(1, len(args)):
            if isinstance(args[i], Tensor):
                args[i] = batched(args[i])
        for k, a in kwargs.items():
            if isinstance(a, Tensor):
                kwargs[k] = batched(a)
    else:  # index_select/index_add/index_copy/index_fill: one 1-D index for every sample
        idx = args[2] if len(args) > 2 else kwargs.get("index")
        if _unwrap(idx, level) is not None:
            raise NoBatchingRule(f"vmap: {name} with a batched index has no batching rule yet")
        for i in range(3, len(args)):
            if isinstance(args[i], Tensor):
                if name not in ("index_add", "index_copy"):
                    if _unwrap(args[i], level) is not None:
                        raise NoBatchingRule(f"vmap: {name} with a batched value")
                    continue
                args[i] = batched(args[i])
        for k in ("source", "value"):
            a = kwargs.get(k)
            if isinstance(a, Tensor):
                if name not in ("index_add", "index_copy"):
                    if _unwrap(a, level) is not None:
                        raise NoBatchingRule(f"vmap: {name} with a batched value")
                    continue
                kwargs[k] = batched(a)
    return _rule_dim_first_arg(name, raw, level, tuple(args), kwargs)


def _expand_to_level(x, level, bs):
    shape = tuple(_lshape(x))
    u = _call("unsqueeze", _raw_method("unsqueeze"), (x, 0), {})
    return _bt(_call("expand", _raw_method("expand"), (u, (bs,) + shape), {}), level)


def _rule_getitem(name, raw, level, args, kwargs):
    self, idx = args[0], args[1]
    v = _unwrap(self, level)
    if not isinstance(idx, tuple):
        idx = (idx,)
    if any(_is_bt(i) and i._level == level for i in idx):
        if v is None:
            v = _unwrap(_expand_to_level(self, level, _bsize(level)), level)
        return _batched_index(level, v, idx)
    if v is None:
        raise NoBatchingRule("vmap: indexing an unbatched tensor with batched indices")
    adv = [k for k, i in enumerate(idx) if isinstance(i, (Tensor, list))]
    if len(adv) > 1 and adv[-1] - adv[0] + 1 != len(adv):
        raise NoBatchingRule(
            "vmap: indexing with advanced indices separated by slices has no batching rule yet")
    return _bt(_again(name, raw, (v, (slice(None),) + idx), {}), level)


def _batched_index(level, v, idx):
    """x[i] where i is batched: an arange over the batch as the leading advanced index."""
    import dagrad
    bs = v.shape[0]
    if len(idx) != 1 or not isinstance(idx[0], Tensor):
        raise NoBatchingRule("vmap: only x[batched_index_tensor] is supported with batched indices")
    i = _unwrap(idx[0], level)  # [B, *ishape]
    ar = dagrad.arange(bs).reshape((bs,) + (1,) * (len(i.shape) - 1))
    return _bt(_call("__getitem__", _raw_method("__getitem__"), (v, (ar, i)), {}), level)


def _rule_index_put_zeros(name, raw, level, args, kwargs):
    """ops.indexing.index_put_zeros(shape, key, g) (the backward of indexing) on a batched g:
    the batch dim is prefixed to the shape and the key."""
    shape, key, g = args
    v = _unwrap(g, level)
    key = key if isinstance(key, tuple) else (key,)
    if v is None or any(_is_bt(k) for k in key):
        raise NoBatchingRule("vmap: index_put_zeros with a batched index")
    arrays = [i for i, k in enumerate(key) if isinstance(k, (Tensor, list)) or (
        getattr(k, "ndim", 0) > 0)]
    if arrays:  # with arrays present, integers are advanced indices too (NumPy's rule)
        adv = [i for i, k in enumerate(key) if i in arrays or (
            isinstance(k, int) and not isinstance(k, bool)) or getattr(k, "ndim", None) == 0]
        if adv[-1] - adv[0] + 1 != len(adv):
            raise NoBatchingRule("vmap: advanced indices separated by slices")
    return _bt(_again(name, raw, ((v.shape[0],) + tuple(shape), (slice(None),) + key, v), {}),
               level)


def _rule_conv_tin(name, raw, level, args, kwargs):
    """conv's input gradient (transposed convolution) for a batched output gradient g of an
    (N, O, *sp) output: the vmap batch folds into N."""
    g, w, b, p, hw = args
    gv = _unwrap(g, level)
    if gv is None or _is_bt(w) or _is_bt(b) or len(gv.shape) - 1 != p.nd + 2:
        raise NoBatchingRule(f"vmap: {name} with these batched arguments")
    shp = tuple(gv.shape)
    r = _again(name, raw, (_reshape(gv, (shp[0] * shp[1],) + shp[2:]), w, b, p, hw), {})
    return _bt(_reshape(r, shp[:2] + tuple(r.shape)[1:]), level)


def _rule_conv_tw(name, raw, level, args, kwargs):
    """conv's weight gradient for a batched output gradient g: the vmap batch folds into the
    output channels (inside each group), each sample's block of the result is its gradient."""
    x, g, p, kshape = args[:4]
    xp = args[4] if len(args) > 4 else kwargs.get("xp")
    gv = _unwrap(g, level)
    if gv is None or _is_bt(x) or len(gv.shape) - 1 != p.nd + 2:
        raise NoBatchingRule(f"vmap: {name} with these batched arguments")
    shp = tuple(gv.shape)                               # (B, N, O, *sp)
    B, N, O, sp = shp[0], shp[1], shp[2], shp[3:]
    G = p.groups
    # output channels regrouped as (group, sample, channel in group): each group of the grouped
    # weight gradient then sees B * O/G channels, sample-major
    g5 = _reshape(gv, (B, N, G, O // G) + sp)
    g5 = _call("permute", _raw_method("permute"), (g5, (1, 2, 0, 3) + tuple(
        range(4, 4 + len(sp)))), {})
    g2 = _reshape(g5, (N, G * B * (O // G)) + sp)
    dw = _again(name, raw, (x, g2, p, kshape, xp), {})  # (G*B*Og, Cg, *k)
    rest = tuple(dw.shape)[1:]
    dw = _reshape(dw, (G, B, O // G) + rest)
    dw = _call("permute", _raw_method("permute"), (dw, (1, 0, 2) + tuple(
        range(3, 3 + len(rest)))), {})
    return _bt(_reshape(dw, (B, O) + rest), level)


def _rule_avg_adj(name, raw, level, args, kwargs):
    """avg-pool's adjoint on a batched gradient: the vmap batch folds into N."""
    g, geo, div, nd, xshape = args
    gv = _unwrap(g, level)
    xshape = tuple(xshape)
    if gv is None:
        raise NoBatchingRule(f"vmap: {name} with these batched arguments")
    shp = tuple(gv.shape)
    if len(shp) - 1 == nd + 2:    # (B, N, C, *sp): B*N images
        r = _again(name, raw, (_reshape(gv, (shp[0] * shp[1],) + shp[2:]), geo, div, nd,
                               (shp[0] * xshape[0],) + xshape[1:]), {})
        return _bt(_reshape(r, (shp[0],) + xshape), level)
    return _bt(_again(name, raw, (gv, geo, div, nd, (shp[0],) + xshape), {}), level)


def _rule_tap_scatter(name, raw, level, args, kwargs):
    """max-pool's adjoint on a batched gradient: the winning taps repeat for every sample."""
    g, tap, geo, nd, xshape = args
    gv = _unwrap(g, level)
    if gv is None or _is_bt(tap):
        raise NoBatchingRule(f"vmap: {name} with these batched arguments")
    bs = gv.shape[0]
    reps = (bs,) + (1,) * (tap.ndim - 1)
    import importlib
    xp = importlib.import_module(type(tap).__module__.split(".")[0])  # numpy or cupy
    tapb = xp.tile(tap, reps)
    return _bt(_again(name, raw, (gv, tapb, geo, nd, (bs,) + tuple(xshape)), {}), level)


def _rule_setitem(name, raw, level, args, kwargs):
    self, idx, val = args
    v = _unwrap(self, level)
    if v is None:
        raise RuntimeError(_inplace_msg("index_put_", level))
    if not isinstance(idx, tuple):
        idx = (idx,)
    if isinstance(val, Tensor) and _unwrap(val, level) is not None:
        target = tuple(_lshape(self[idx]))
        val = _call("expand", _raw_method("expand"), (val, target), {}) if tuple(
            _lshape(val)) != target else val
        val = _unwrap(val, level)
    _again(name, raw, (v, (slice(None),) + idx, val), {})
    return None


# --- matmul family
def _rule_matmul(name, raw, level, args, kwargs):
    a, b = args[0], args[1]
    if name in ("__rmatmul__",):
        a, b = b, a
    ra, rb = len(_lshape(a)), len(_lshape(b))
    if name == "vdot":
        return (a.conj() * b).sum(-1)
    if name == "dot" or name == "inner" and ra == 1 and rb == 1:
        return (a * b).sum(-1)
    if name == "inner":  # contracts the last dims: a.shape[:-1] + b.shape[:-1]
        if ra == 0 or rb == 0:
            return a * b
        k = _lshape(a)[-1]
        r = a.matmul(b.reshape(-1, k).t())
        return r.reshape(tuple(_lshape(a)[:-1]) + tuple(_lshape(b)[:-1]))
    if name in ("outer", "ger"):
        return a.unsqueeze(-1) * b.unsqueeze(-2)
    squeeze = []
    if ra == 1:
        a = a.unsqueeze(0)
        squeeze.append(-2)
    if rb == 1:
        b = b.unsqueeze(-1)
        squeeze.append(-1)
    ra, rb = len(_lshape(a)), len(_lshape(b))
    rank = max(ra, rb)

    def phys(x, r):
        v = _unwrap(x, level)
        if v is None:
            return x
        if r < rank:
            v = _call("reshape", _raw_method("reshape"),
                      (v, (v.shape[0],) + (1,) * (rank - r) + tuple(v.shape[1:])), {})
        return v
    pa, pb = phys(a, ra), phys(b, rb)
    if _unwrap(a, level) is None and ra > 2:
        pa = a  # unbatched: right-aligned broadcasting against [B, 1.., ...] works as is
    r = _bt(_call("matmul", _raw_method("matmul"), (pa, pb), {}), level)
    for d in squeeze:
        r = r.squeeze(d)
    return r


def _rule_linear(name, raw, level, args, kwargs):
    x, w = args[0], args[1]
    b = args[2] if len(args) > 2 else kwargs.get("bias")
    r = x.matmul(w.transpose(-1, -2)) if len(_lshape(w)) > 1 else x.matmul(w)
    if b is not None:
        r = r + b
    return r


def _rule_einsum(name, raw, level, args, kwargs):
    eq = args[0]
    ops = args[1:]
    if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
        ops = tuple(ops[0])
    eq = eq.replace(" ", "")
    lhs, _, rhs = eq.partition("->")
    terms = lhs.split(",")
    used = set(eq)
    letter = next(c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba"
                  if c not in used)
    if "->" not in eq:
        from collections import Counter
        cnt = Counter(c for t in terms for c in t if c.isalpha())
        rhs = "".join(sorted(c for c, n in cnt.items() if n == 1))
    new_terms, vals = [], []
    for t, o in zip(terms, ops):
        v = _unwrap(o, level)
        if v is None:
            new_terms.append(t)
            vals.append(o)
        else:
            new_terms.append(letter + t)
            vals.append(v)
    eq2 = ",".join(new_terms) + "->" + letter + rhs
    return _bt(_again(name, raw, (eq2, *vals), {}), level)


# --- convolutions
def _reshape(v, shape):
    return _call("reshape", _raw_method("reshape"), (v, tuple(shape)), {})


def _movedim(v, a, b):
    return _call("movedim", _raw_method("movedim"), (v, a, b), {})


def _rule_conv(name, raw, level, args, kwargs):
    """conv1d/conv2d: a batched input folds the vmap batch into N; a batched weight (or bias)
    folds it into the channels and runs one grouped convolution (groups * B)."""
    x, w = args[0], args[1]
    b = args[2] if len(args) > 2 else kwargs.get("bias")
    rest = list(args[3:])
    kw = {k: v for k, v in kwargs.items() if k not in ("bias", "groups")}
    groups = kwargs.get("groups", rest[3] if len(rest) > 3 else 1)
    rest = rest[:3]
    nd = 1 if name.endswith("1d") else 2
    xv, wv = _unwrap(x, level), _unwrap(w, level)
    bv = _unwrap(b, level) if isinstance(b, Tensor) else None
    bs = _bsize(level)
    no_n = len(_lshape(x)) == nd + 1          # input without its own batch dim N
    if wv is None and bv is None:
        if no_n:
            return _bt(_again(name, raw, (xv, w, b, *rest), dict(kw, groups=groups)), level)
        shp = tuple(xv.shape)
        out = _again(name, raw, (_reshape(xv, (shp[0] * shp[1],) + shp[2:]), w, b, *rest),
                     dict(kw, groups=groups))
        oshp = tuple(out.shape)
        return _bt(_reshape(out, (shp[0], shp[1]) + oshp[1:]), level)
    if xv is None:
        xv = _unwrap(_expand_to_level(x, level, bs), level)
    if wv is None:
        wv = _unwrap(_expand_to_level(w, level, bs), level)
    if no_n:
        xv = _call("unsqueeze", _raw_method("unsqueeze"), (xv, 1), {})
    shp = tuple(xv.shape)                      # [B, N, C, *sp]
    x2 = _reshape(_movedim(xv, 0, 1), (shp[1], shp[0] * shp[2]) + shp[3:])
    wshp = tuple(wv.shape)                     # [B, O, Cg, *k]
    w2 = _reshape(wv, (wshp[0] * wshp[1],) + wshp[2:])
    b2 = None
    if b is not None:
        if bv is None:
            bv = _unwrap(_expand_to_level(b, level, bs), level)
        b2 = _reshape(bv, (wshp[0] * wshp[1],))
    out = _again(name, raw, (x2, w2, b2, *rest), dict(kw, groups=groups * bs))
    oshp = tuple(out.shape)                    # [N, B*O, *sp']
    out = _movedim(_reshape(out, (oshp[0], bs, wshp[1]) + oshp[2:]), 1, 0)
    if no_n:
        out = _call("squeeze", _raw_method("squeeze"), (out, 1), {})
    return _bt(out, level)


# --- losses: per-sample unreduced loss on the folded batch, then the reduction per sample
_SIG_CACHE = {}


def _bind(raw, args, kwargs):
    import inspect
    sig = _SIG_CACHE.get(raw)
    if sig is None:
        sig = _SIG_CACHE[raw] = inspect.signature(raw)
    b = sig.bind(*args, **kwargs)
    b.apply_defaults()
    return dict(b.arguments)


def _rule_loss(name, raw, level, args, kwargs):
    a = _bind(raw, args, kwargs)
    red = a.get("reduction", "mean")
    if a.get("size_average") is not None or a.get("reduce") is not None:
        raise NoBatchingRule(f"vmap: {name} with the legacy size_average/reduce arguments")
    inp, tgt = a["input"], a["target"]
    bs = _bsize(level)
    xv = _unwrap(inp, level)
    if xv is None:
        xv = _unwrap(_expand_to_level(inp, level, bs), level)
    tv = _unwrap(tgt, level)
    if tv is None:
        tv = _unwrap(_expand_to_level(tgt, level, bs), level)
    if isinstance(xv, BatchedTensor) or isinstance(tv, BatchedTensor):
        raise NoBatchingRule(f"vmap: nested vmap over {name} has no batching rule yet")
    for k, v in a.items():
        if k not in ("input", "target") and isinstance(v, BatchedTensor):
            raise NoBatchingRule(f"vmap: {name} with a batched '{k}' argument")
    a["reduction"] = "none"
    classes = name in ("cross_entropy", "nll_loss") and tv.dtype.is_floating_point is False
    if name in ("cross_entropy", "nll_loss"):
        xs = tuple(xv.shape)
        no_n = len(xs) - 1 == 1            # logical input [C]: the vmap batch plays N
        if no_n:
            a["input"], a["target"] = xv, tv
        else:
            a["input"] = xv.reshape((xs[0] * xs[1],) + xs[2:])
            a["target"] = tv.reshape((xs[0] * xs[1],) + tuple(tv.shape[2:]))
        per = raw(**a)
        per = per.reshape((bs,) + ((1,) if no_n else (xs[1],)) + tuple(per.shape[1:]))
        if red == "none":
            return _bt(per.reshape((bs,)) if no_n else per, level)
        dims = tuple(range(1, per.dim()))
        if red == "sum":
            return _bt(per.sum(dims), level)
        if classes:
            t = tv.reshape(tuple(per.shape))
            w = a.get("weight")
            valid = (t != a.get("ignore_index", -100))
            tt = t.clamp(0) if not hasattr(t, "_value") else t
            den = (w[tt] * valid) if w is not None else valid.to(per.dtype)
            return _bt(per.sum(dims) / den.sum(dims), level)
        return _bt(per.mean(dims), level)
    # elementwise losses: input and target broadcast together
    (xv2, tv2), _ = _align(level, (_bt(xv, level), _bt(tv, level)), {})
    a["input"], a["target"] = xv2, tv2
    if "weight" in a and isinstance(a["weight"], Tensor):
        (_, wv), _ = _align(level, (_bt(xv, level), a["weight"]), {})
        a["weight"] = wv
    per = raw(**a)
    if red == "none":
        return _bt(per, level)
    dims = tuple(range(1, per.dim()))
    if not dims:
        return _bt(per, level)
    if red == "batchmean":  # kl_div: sum / logical size of dim 0
        return _bt(per.sum(dims) / (per.shape[1] if per.dim() > 1 else 1), level)
    return _bt(per.sum(dims) if red == "sum" else per.mean(dims), level)


# --- ops over trailing dims (layer_norm, pad...) and ops with an optional leading N (pooling)
def _rule_trailing(name, raw, level, args, kwargs):
    """Ops acting on the last dims of the first argument: the batch in front is left alone."""
    v = _unwrap(args[0], level)
    if v is None or any(_unwrap(a, level) is not None for a in args[1:]) or any(
            _unwrap(a, level) is not None for a in kwargs.values()):
        raise NoBatchingRule(f"vmap: {name} with batched arguments other than the input")
    return _bt(_again(name, raw, (v,) + tuple(args[1:]), kwargs), level)


_SPATIAL = {"max_pool1d": 1, "avg_pool1d": 1, "max_pool2d": 2, "avg_pool2d": 2,
            "adaptive_avg_pool1d": 1, "adaptive_max_pool1d": 1, "adaptive_avg_pool2d": 2,
            "adaptive_max_pool2d": 2, "interpolate": None, "upsample": None,
            "pixel_shuffle": 2, "pixel_unshuffle": 2, "lp_pool2d": 2, "lp_pool1d": 1}


def _rule_fold_n(name, raw, level, args, kwargs):
    """(N, C, *spatial) ops: the vmap batch is folded into N (or plays N when there is none)."""
    v = _unwrap(args[0], level)
    if v is None or any(_unwrap(a, level) is not None for a in args[1:]):
        raise NoBatchingRule(f"vmap: {name} with batched arguments other than the input")
    sp = _SPATIAL[name]
    nd = len(v.shape) - 1
    has_n = nd == sp + 2 if sp is not None else nd >= 3
    if not has_n:
        return _wrap_out(_again(name, raw, (v,) + tuple(args[1:]), kwargs), level)
    shp = tuple(v.shape)
    r = _again(name, raw, (_reshape(v, (shp[0] * shp[1],) + shp[2:]),) + tuple(args[1:]), kwargs)

    def unfold(t):
        ts = tuple(t.shape)
        return _bt(_reshape(t, (shp[0], shp[1]) + ts[1:]), level)
    if isinstance(r, tuple):
        return tuple(unfold(t) for t in r)
    return unfold(r)


def _rule_embedding(name, raw, level, args, kwargs):
    v = _unwrap(args[0], level)
    if v is None or _unwrap(args[1] if len(args) > 1 else kwargs.get("weight"), level) is not None:
        raise NoBatchingRule("vmap: embedding with a batched weight has no batching rule yet")
    return _bt(_again(name, raw, (v,) + tuple(args[1:]), kwargs), level)


# --- lists of tensors
def _rule_cat(name, raw, level, args, kwargs):
    ts = list(args[0] if args else kwargs.get("tensors", ()))
    dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
    bs = _bsize(level)
    ref = next((t for t in ts if _unwrap(t, level) is not None), None)
    if ref is None or set(kwargs) - {"dim", "tensors"}:
        raise NoBatchingRule(f"vmap: {name} with these arguments")
    nd = len(_lshape(ref)) + (1 if name == "stack" else 0)
    vals = []
    for t in ts:
        v = _unwrap(t, level)
        if v is None:
            v = _unwrap(_expand_to_level(t, level, bs), level)
        vals.append(v)
    return _bt(_again(name, raw, (vals, _norm_dim(dim, nd) + 1), {}), level)


# --- creation / random
def _rule_like(name, raw, level, args, kwargs):
    v = _unwrap(args[0], level)
    return _bt(_again(name, raw, (v,) + tuple(args[1:]), kwargs), level)


def _rule_new(name, raw, level, args, kwargs):
    v = _unwrap(args[0], level)
    return _again(name, raw, (v,) + tuple(args[1:]), kwargs)


def _randomness(level):
    for lv, _, r in _levels:
        if lv == level:
            return r
    return "error"


def _rule_random_like(name, raw, level, args, kwargs):
    mode = _randomness(level)
    if mode == "error":
        raise RuntimeError(_RANDOM)
    if mode == "same":
        shape = tuple(_lshape(args[0]))
        import dagrad
        base = getattr(dagrad, name.replace("_like", ""))
        return base(*shape, dtype=args[0].dtype) if name != "randint_like" else raw(
            dagrad.zeros(shape, dtype=args[0].dtype), *args[1:], **kwargs)
    return _rule_like(name, raw, level, args, kwargs)


def _rule_sum_to_size(name, raw, level, args, kwargs):
    v = _unwrap(args[0], level)
    shape = _sizes(args[1:]) if "size" not in kwargs else tuple(kwargs["size"])
    lead = len(v.shape) - 1 - len(shape)
    if lead > 0:  # logical dims missing from the target: summed first (behind the batch dim)
        v = _call("sum", _raw_method("sum"), (v, tuple(range(1, lead + 1))), {})
    return _bt(_again(name, raw, (v, (v.shape[0],) + tuple(shape)), {}), level)


def _rule_size_query(name, raw, level, args, kwargs):
    return getattr(args[0], name)(*args[1:], **kwargs)


_RULES = {}
ELEMENTWISE = """abs absolute acos acosh angle arccos arccosh arcsin arcsinh arctan arctanh asin
asinh atan atanh ceil clamp clamp_max clamp_min clip cos cosh deg2rad erf erfc erfinv exp exp2
expm1 fix floor frac isfinite isinf isnan isneginf isposinf log log10 log1p log2 logical_not
logit nan_to_num neg negative positive rad2deg reciprocal relu round rsqrt sgn sigmoid sign
signbit sin sinc sinh sqrt square tan tanh trunc bitwise_not float double half bfloat16 long int
short char byte bool clone contiguous detach to type type_as conj nn_softplus add sub mul div
divide true_divide floor_divide fmod remainder pow float_power atan2 arctan2 copysign maximum
minimum fmax fmin hypot logaddexp logaddexp2 xlogy eq ne lt le gt ge greater greater_equal less
less_equal not_equal logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor
heaviside lerp where masked_fill nextafter ldexp gcd lcm isclose rsub multiply subtract celu elu
gelu hardsigmoid hardswish hardtanh leaky_relu mish relu6 selu silu softplus xlog1py dropout
__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __floordiv__
__rfloordiv__ __mod__ __rmod__ __pow__ __rpow__ __neg__ __pos__ __abs__ __eq__ __ne__ __lt__
__le__ __gt__ __ge__ __and__ __or__ __xor__ __invert__ __rand__ __ror__ __rxor__ mse_loss_el
binary_cross_entropy_el sigmoid_ relu_ requires_grad_ detach_""".split()
DIMS = """softmin sum mean prod amax amin max min std var logsumexp softmax log_softmax cumsum cumprod cummax
cummin logcumsumexp argmax argmin norm all any median nanmedian nanmean nansum count_nonzero
var_mean std_mean aminmax mode kthvalue topk sort argsort vector_norm""".split()
for _n in ELEMENTWISE:
    _RULES[_n] = _rule_elementwise
for _n in ("add_", "sub_", "mul_", "div_", "pow_", "clamp_", "neg_", "exp_", "copy_",
           "masked_fill_", "fill_", "zero_", "__iadd__", "__isub__", "__imul__",
           "__itruediv__", "tanh_", "sqrt_", "abs_", "lerp_"):
    _RULES[_n] = _rule_inplace
for _n in DIMS:
    _RULES[_n] = _rule_dim
for _n in ("lgamma", "digamma", "i0", "polygamma", "mvlgamma", "erfcx"):
    _RULES[_n] = _rule_elementwise
for _n in """digamma entr erf erfc erfcx erfinv exp2 expit expm1 gammaln i0 i0e i1 i1e lgamma log1p
        log_ndtr logit modified_bessel_i0 modified_bessel_i1 ndtr ndtri psi round sigmoid sinc
        xlog1py xlogy zeta polygamma multigammaln mvlgamma""".split():
    _RULES["special." + _n] = _rule_elementwise
# ops on the trailing (matrix) dims that accept leading batch dims as they are
for _n in ("tril", "triu", "inverse", "det", "logdet", "matrix_exp", "linalg.inv", "linalg.det",
           "linalg.cholesky", "linalg.matrix_exp"):
    _RULES[_n] = _rule_trailing
for _n in ("reshape", "view"):
    _RULES[_n] = _rule_reshape
_RULES["expand"] = _rule_expand
_RULES["broadcast_to"] = _rule_expand
_RULES["expand_to"] = _rule_expand
_RULES["index_put_zeros"] = _rule_index_put_zeros
for _n in ("complex_real", "complex_imag", "_complex_from"):
    _RULES[_n] = _rule_elementwise
_RULES["_conv_tin_op"] = _rule_conv_tin
_RULES["_conv_tw_op"] = _rule_conv_tw
_RULES["_avg_adj_op"] = _rule_avg_adj
_RULES["_tap_scatter"] = _rule_tap_scatter
_RULES["expand_as"] = _rule_like_shape("expand")
_RULES["view_as"] = _rule_like_shape("view")
_RULES["reshape_as"] = _rule_like_shape("reshape")
_RULES["permute"] = _rule_permute
for _n in ("transpose", "swapaxes", "swapdims", "movedim", "moveaxis"):
    _RULES[_n] = _rule_two_dims
_RULES["t"] = _rule_t
_RULES["unsqueeze"] = _rule_unsqueeze
_RULES["squeeze"] = _rule_squeeze
_RULES["flatten"] = _rule_flatten
for _n in ("narrow", "select", "unflatten", "split", "chunk", "tensor_split", "unbind",
           "diagonal", "flip", "roll", "repeat", "tile", "diff"):
    _RULES[_n] = _rule_dim_first_arg
for _n in ("gather", "scatter", "scatter_add", "index_select", "take_along_dim",
           "scatter_reduce", "index_add", "index_fill", "index_copy"):
    _RULES[_n] = _rule_index_like
_RULES["__getitem__"] = _rule_getitem
_RULES["__setitem__"] = _rule_setitem
for _n in ("matmul", "__matmul__", "__rmatmul__", "mm", "bmm", "mv", "dot", "vdot", "inner",
           "outer", "ger"):
    _RULES[_n] = _rule_matmul
_RULES["linear"] = _rule_linear
_RULES["einsum"] = _rule_einsum
for _n in ("cat", "concat", "concatenate", "stack"):
    _RULES[_n] = _rule_cat
for _n in ("zeros_like", "ones_like", "empty_like", "full_like"):
    _RULES[_n] = _rule_like
for _n in ("new_zeros", "new_ones", "new_empty", "new_full", "new_tensor"):
    _RULES[_n] = _rule_new
for _n in ("rand_like", "randn_like", "randint_like"):
    _RULES[_n] = _rule_random_like
_RULES["sum_to_size"] = _rule_sum_to_size
_RULES["conv1d"] = _RULES["conv2d"] = _rule_conv
for _n in ("layer_norm", "rms_norm", "pad", "one_hot", "logsigmoid", "softsign",
           "tanhshrink", "softshrink", "hardshrink", "threshold"):
    _RULES[_n] = _rule_trailing
for _n in _SPATIAL:
    _RULES[_n] = _rule_fold_n
_RULES["embedding"] = _rule_embedding
for _n in ("cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "soft_margin_loss",
           "kl_div", "poisson_nll_loss"):
    _RULES[_n] = _rule_loss


# ---------------------------------------------------------------- methods of BatchedTensor
def _make_method(name):
    raw = getattr(Tensor, name)

    def method(self, *args, **kwargs):
        return _call(name, raw, (self,) + args, kwargs)
    method.__name__ = name
    return method


_SKIP_METHODS = {"requires_grad_", "__hash__"}
for _n in list(_RULES):
    if _n in _SKIP_METHODS or not hasattr(Tensor, _n):
        continue
    if _n in BatchedTensor.__dict__:
        continue
    setattr(BatchedTensor, _n, _make_method(_n))

# Every other Tensor method dispatches too (rule-less ones reach the per-sample fallback),
# except those about the tensor object itself rather than its values.
_OBJECT_METHODS = {"register_hook", "register_post_accumulate_grad_hook", "retain_grad",
                   "backward", "__format__", "__reduce_ex__", "__deepcopy__", "__setstate__",
                   "__dlpack__", "__torch_function__", "__init__", "__new__", "__getattr__",
                   "__setattr__", "__delattr__", "__getstate__", "__sizeof__", "__del__",
                   "__init_subclass__", "__class_getitem__", "__eq__", "__ne__"}


def _tensor_methods():
    import types
    for n, v in Tensor.__dict__.items():
        if not isinstance(v, types.FunctionType) or n in _OBJECT_METHODS:
            continue
        if n.startswith("_") and not (n.startswith("__") and n.endswith("__")):
            continue
        yield n


for _n in _tensor_methods():
    if _n not in BatchedTensor.__dict__ and _n not in _SKIP_METHODS:
        setattr(BatchedTensor, _n, _make_method(_n))


def _detach(self):
    return _bt(self._value.detach(), self._level)


BatchedTensor.detach = _detach


# ---------------------------------------------------------------- namespace patching
_RANDOM_FNS = ("rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial",
               "poisson")
_patched = []


def _dispatching(name, raw):
    def fn(*args, **kwargs):
        if _max_level(args, kwargs) < 0:
            return raw(*args, **kwargs)
        return _call(name, raw, args, kwargs)
    fn.__name__ = name
    fn.__wrapped__ = raw
    fn._vmap_raw = raw
    return fn


_forbid_random = [0]  # > 0 inside a whole-function loop of a vmap with randomness='error'


def _random_fn(name, raw):
    def fn(*args, **kwargs):
        if not _levels:
            if _forbid_random[0]:
                raise RuntimeError(_RANDOM)
            return raw(*args, **kwargs)
        if _max_level(args, kwargs) >= 0 and name in ("bernoulli", "normal", "poisson",
                                                      "multinomial"):
            lvl = _max_level(args, kwargs)
            mode = _randomness(lvl)
            if mode == "error":
                raise RuntimeError(_RANDOM)
            if mode == "same":  # one draw replayed for every sample
                return _fallback(name, raw, lvl, args, kwargs)
            return _rule_like(name, raw, lvl, args, kwargs)
        level, bs, mode = _levels[-1]
        if mode == "error":
            raise RuntimeError(_RANDOM)
        if mode == "same" or name == "randperm":
            return raw(*args, **kwargs)
        size = _sizes(args) if name in ("rand", "randn") else None
        if size is None:
            return raw(*args, **kwargs)
        return _bt(raw(bs, *size, **kwargs), level)
    fn.__name__ = name
    return fn


def _dropout_fn(raw):
    def fn(x, *args, **kwargs):
        lvl = _max_level((x,), {})
        training = kwargs.get("training", args[1] if len(args) > 1 else True)
        p = kwargs.get("p", args[0] if args else 0.5)
        if lvl < 0:
            if _forbid_random[0] and training and p > 0:
                raise RuntimeError(_RANDOM)
            return raw(x, *args, **kwargs)
        if training and p > 0:
            mode = _randomness(lvl)
            if mode == "error":
                raise RuntimeError(_RANDOM)
            if mode == "same":  # one mask for every sample
                return _fallback("dropout", raw, lvl, (x,) + args, kwargs)
        return _rule_elementwise("dropout", raw, lvl, (x,) + args, kwargs)
    return fn


_wcache = {}  # (owner id, name) -> (raw, wrapper): dispatchers are built once


def _cached(owner, name, raw, make):
    key = (id(owner), name)
    hit = _wcache.get(key)
    if hit is not None and hit[0] is raw:
        return hit[1]
    w = make(name, raw) if make is not _dropout_fn else make(raw)
    _wcache[key] = (raw, w)
    return w


_plan = []  # [(owner, name, raw, wrapper)]: what to swap, computed once and revalidated


def _build_plan():
    import sys
    import types

    import dagrad
    plan = []
    # Tensor methods too, for a plain tensor method called with a batched argument
    # (`x.matmul(batched_w)`); BatchedTensor's own methods are unaffected (defined on it).
    names = set(_RULES) | {n for n in _tensor_methods() if _takes_args(Tensor.__dict__[n])}
    for name in sorted(names - _PLAIN_SELF_ONLY):
        raw = Tensor.__dict__.get(name)
        if isinstance(raw, types.FunctionType) and name != "__hash__":
            plan.append((Tensor, name, raw, _cached(Tensor, name, raw, _dispatching)))
    mods = [dagrad]
    for m in ("dagrad.nn.functional", "dagrad.linalg", "dagrad.special"):
        if sys.modules.get(m) is not None:
            mods.append(sys.modules[m])
    for mod in mods:
        # linalg.* / special.* ops are told apart from same-named Tensor ops (linalg.diagonal's
        # dims are not Tensor.diagonal's): their rules are registered as "linalg.<name>"
        prefix = "" if mod is dagrad or mod.__name__.endswith("functional") else \
            mod.__name__.rsplit(".", 1)[1] + "."
        names = [n for n, v in mod.__dict__.items()
                 if not n.startswith("_") and callable(v) and not isinstance(v, type)
                 and not isinstance(v, types.ModuleType) and n not in _NOT_OPS]
        for name in sorted(set(names) | set(_RANDOM_FNS)):
            raw = mod.__dict__.get(name)
            if raw is None or not callable(raw) or isinstance(raw, type):
                continue
            if name in _RANDOM_FNS:
                new = _cached(mod, name, raw, _random_fn)
            elif name == "dropout":
                new = _cached(mod, name, raw, _dropout_fn)
            elif prefix:
                new = _cached(mod, name, raw, lambda n, r, p=prefix: _dispatching(p + n, r))
            else:
                new = _cached(mod, name, raw, _dispatching)
            plan.append((mod, name, raw, new))
    # dagrad's own helpers that backward rules call by name (batched gradients reach them under
    # autograd.grad(is_grads_batched=True)): their rules spare those nodes the per-sample loop
    for modname, name in _INTERNAL:
        mod = sys.modules.get(modname)
        raw = mod.__dict__.get(name) if mod is not None else None
        if callable(raw):
            plan.append((mod, name, raw, _cached(mod, name, raw, _dispatching)))
    _plan[:] = plan
    _by_raw[1] = {}
    groups = {}
    for owner, name, raw, new in plan:
        g = groups.setdefault(id(owner), (owner, {}, {}))
        g[1][name] = raw
        g[2][name] = new
    _groups[:] = list(groups.values())
    _plan_key[0] = _key()


_plan_key = [None]
# methods that take no tensor argument besides self: no need to dispatch them for a plain self
_PLAIN_SELF_ONLY = {"dim", "size", "numel", "nelement", "ndimension", "element_size", "stride",
                    "is_contiguous", "is_floating_point", "is_complex", "item", "tolist", "numpy",
                    "data_ptr", "storage", "untyped_storage", "get_device", "is_signed",
                    "requires_grad_", "storage_offset", "is_shared", "is_pinned", "dim_order",
                    "__len__", "__iter__", "__bool__", "__float__", "__int__", "__complex__",
                    "__index__", "__repr__", "__array__", "__hash__"}
# callables of the namespaces that are not tensor ops
_NOT_OPS = {"vmap", "compile", "manual_seed", "seed", "initial_seed", "get_rng_state",
            "set_rng_state", "is_grad_enabled", "set_default_dtype", "get_default_dtype",
            "set_printoptions", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
            "is_inference_mode_enabled", "load", "save", "set_default_device"}


def _key():
    import sys
    return tuple(m in sys.modules for m in ("dagrad.nn.functional", "dagrad.linalg",
                                             "dagrad.special") + tuple(m for m, _ in _INTERNAL))


_INTERNAL = (("dagrad.ops.movement", "expand_to"), ("dagrad.ops.movement", "select"),
             ("dagrad.ops.indexing", "index_put_zeros"),
             ("dagrad.ops.linalg", "einsum"), ("dagrad.ops.conv", "_conv_tin_op"),
             ("dagrad.ops.conv", "_conv_tw_op"), ("dagrad.ops.pool", "_avg_adj_op"),
             ("dagrad.ops.pool", "_tap_scatter"), ("dagrad.ops.extra", "complex_real"),
             ("dagrad.ops.extra", "complex_imag"), ("dagrad.ops.extra", "_complex_from"))


def _takes_args(f):
    """Whether a method takes any argument besides self (else a batched one cannot reach it)."""
    code = f.__code__
    return code.co_argcount + code.co_kwonlyargcount > 1 or bool(code.co_flags & 0x0C)


_groups = []  # per owner: (owner, {name: raw}, {name: wrapper}), swapped in one go


def _valid():
    for owner, raws, _ in _groups:
        d = owner.__dict__
        for name, raw in raws.items():
            if d.get(name) is not raw:  # changed since the plan was made
                return False
    return True


def _patch():
    if not _plan or _plan_key[0] != _key() or not _valid():
        _build_plan()
    for owner, raws, news in _groups:
        _patched.append((owner, raws))
        if isinstance(owner, type):
            for name, new in news.items():
                setattr(owner, name, new)
        else:
            owner.__dict__.update(news)


def _swapped(func):
    """vmap(torch.sin), grad(torch.sum) inside vmap: an op object taken before the swap is
    replaced by its dispatching wrapper while vmapping."""
    if not _patched:
        return func
    if _by_raw[0] is not _plan or len(_by_raw[1]) == 0:  # the id -> wrapper map, once a plan
        _by_raw[1] = {id(raw): w for _, _, raw, w in _plan}
        _by_raw[0] = _plan
    return _by_raw[1].get(id(func), func)


_by_raw = [None, {}]


def _unpatch():
    while _patched:
        owner, raws = _patched.pop()
        if isinstance(owner, type):
            for name, raw in raws.items():
                setattr(owner, name, raw)
        else:
            owner.__dict__.update(raws)


# ---------------------------------------------------------------- vmap
def _flatten(tree):
    """Minimal pytree: tensors/values in tuples, lists and dicts."""
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for x in tree:
            lv, sp = _flatten(x)
            leaves += lv
            specs.append(sp)
        return leaves, (type(tree), specs, getattr(tree, "_fields", None))
    if isinstance(tree, dict):
        leaves, specs = [], []
        for k in tree:
            lv, sp = _flatten(tree[k])
            leaves += lv
            specs.append((k, sp))
        return leaves, (dict, specs, None)
    return [tree], None


def _unflatten(leaves, spec):
    it = iter(leaves)

    def build(sp):
        if sp is None:
            return next(it)
        typ, specs, fields = sp
        if typ is dict:
            return {k: build(s) for k, s in specs}
        vals = [build(s) for s in specs]
        if fields is not None:
            return typ(*vals)
        return typ(vals) if typ is list else tuple(vals)
    return build(spec)


def _broadcast_dims(dims, tree, what):
    """Expand an in_dims/out_dims spec to one entry per leaf of `tree`."""
    leaves, spec = _flatten(tree)
    if isinstance(dims, int) or dims is None:
        return [dims] * len(leaves)

    def walk(d, t):
        if isinstance(d, int) or d is None:
            return [d] * len(_flatten(t)[0])
        if isinstance(t, dict) and isinstance(d, dict):
            out = []
            for k in t:
                out += walk(d[k], t[k])
            return out
        if isinstance(t, (tuple, list)) and isinstance(d, (tuple, list)):
            if len(d) != len(t):
                raise ValueError(
                    f"vmap({what}): {what} is not compatible with the structure of the inputs: "
                    f"expected {len(t)} entries but got {len(d)}")
            out = []
            for a, b in zip(d, t):
                out += walk(a, b)
            return out
        raise ValueError(
            f"vmap: {what} is not compatible with the structure of `inputs`. {what} has "
            f"structure {type(d).__name__} but inputs has structure {type(t).__name__}.")
    return walk(dims, tree)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Vectorize `func` over dim `in_dims` of its inputs (PyTorch's torch.func.vmap)."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(
            f"Only allowed values for randomness are 'error', 'different', or 'same'. Got "
            f"{randomness}")
    if not isinstance(in_dims, (int, tuple, list, dict)) and in_dims is not None:
        raise ValueError(
            f"vmap(..., in_dims={in_dims}): expected `in_dims` to be int or a (potentially "
            f"nested) tuple matching the structure of inputs, got: {type(in_dims)}.")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        if isinstance(in_dims, int):
            dims = [in_dims] * len(_flatten(args)[0])
        else:
            if isinstance(in_dims, tuple) and len(in_dims) != len(args):
                raise ValueError(
                    f"vmap(f, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with "
                    f"the structure of `inputs`. in_dims has structure {_struct(in_dims)} but "
                    f"inputs has structure {_struct(args)}.")
            dims = _broadcast_dims(tuple(in_dims) if isinstance(in_dims, list) else in_dims,
                                   args, "in_dims")
        leaves, spec = _flatten(args)
        sizes = []
        for x, d in zip(leaves, dims):
            if d is None:
                continue
            if not isinstance(x, Tensor):
                raise ValueError(
                    f"vmap(f, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input but "
                    f"the input is of type {type(x)}. We cannot vmap over non-Tensor arguments, "
                    f"please use None as the respective in_dim")
            nd = x.dim()
            if not -nd <= d < nd:
                raise ValueError(
                    f"vmap(f, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some input, "
                    f"but that input is a Tensor of dimensionality {nd} so expected in_dim to "
                    f"satisfy -{nd} <= in_dim < {nd}.")
            sizes.append(x.shape[d])
        if not sizes:
            raise ValueError(
                f"vmap(f, in_dims={in_dims}, ...)(<inputs>): at least one input must be a Tensor "
                f"with a non-None in_dim")
        if len(set(sizes)) != 1:
            raise ValueError(
                f"vmap: Expected all tensors to have the same size in the mapped dimension, got "
                f"sizes {sizes} for the mapped dimension")
        bs = sizes[0]
        level = _next_level[0]
        _next_level[0] += 1
        outermost = not _levels
        _levels.append([level, bs, randomness])
        if outermost:
            _patch()
        try:
            new = []
            for x, d in zip(leaves, dims):
                if d is None:
                    new.append(x)
                    continue
                nd = x.dim()
                d = d + nd if d < 0 else d
                v = x if d == 0 else _call("movedim", _raw_method("movedim"), (x, d, 0), {})
                new.append(_bt(v, level))
            f = _swapped(func)
            user = _patch_user(f)
            try:
                out = f(*_unflatten(new, spec), **kwargs)
            except NoBatchingRule:
                out = _FAILED
            finally:
                _unpatch_user(user)
            if out is not _FAILED:
                return _unwrap_outputs(out, level, bs, out_dims)
        finally:
            _levels.pop()
            if outermost:
                _unpatch()
        return _whole_fallback(func, leaves, dims, spec, kwargs, bs, out_dims, randomness)
    return wrapped


_FAILED = object()


def _patch_user(f):
    """Dagrad ops the user's function bound before vmap started (`from dagrad import sin` in its
    module, a function captured by a closure) are swapped for their dispatching versions too."""
    if not _patched:
        return []
    while isinstance(f, functools.partial):
        f = f.func
    f = getattr(f, "__func__", f)
    g = getattr(f, "__globals__", None)
    if not isinstance(g, dict) or str(g.get("__name__", "")).split(".")[0] == "dagrad":
        return []  # dagrad's own functions (a dispatching wrapper, a transform) are left alone
    if _by_raw[1] == {} or _by_raw[0] is not _plan:
        _swapped(None)
    by = _by_raw[1]
    saved = []
    if True:
        for k, v in g.items():
            w = by.get(id(v))
            if w is not None:
                saved.append((g, k, v))
        for g_, k, v in saved:
            g_[k] = by[id(v)]
    for c in getattr(f, "__closure__", None) or ():
        try:
            v = c.cell_contents
        except ValueError:  # an empty cell
            continue
        w = by.get(id(v))
        if w is not None:
            saved.append((c, None, v))
            c.cell_contents = w
    return saved


def _unpatch_user(saved):
    for owner, k, v in reversed(saved):
        if k is None:
            owner.cell_contents = v
        else:
            owner[k] = v


def _whole_fallback(func, leaves, dims, spec, kwargs, bs, out_dims, randomness):
    """The last resort, when the function read a batched tensor's array outside any dispatching
    op (a dagrad op held by an object, a module-level alias in another module...): the whole
    function runs once per sample and the results are stacked (its side effects run again)."""
    warnings.warn(
        "vmap: the function read a batched tensor's data outside dagrad's dispatching ops (e.g. "
        "through a dagrad function bound before vmap started); running it once per sample, "
        "which is slow. Call dagrad ops through their module (dagrad.sin, F.relu) to batch.",
        UserWarning, stacklevel=3)
    state = None
    if randomness == "same":
        import dagrad
        state = dagrad.get_rng_state()
    outs = []
    # randomness='error': random ops still raise inside the loop
    guard = randomness == "error"
    patched_here = guard and not _patched
    if guard:
        _forbid_random[0] += 1
        if patched_here:
            _patch()
    try:
        for k in range(bs):
            xs = [x if d is None else _call("select", _raw_method("select"), (x, d, k), {})
                  for x, d in zip(leaves, dims)]
            if state is not None:
                import dagrad
                dagrad.set_rng_state(state)
            outs.append(func(*_unflatten(xs, spec), **kwargs))
    finally:
        if guard:
            _forbid_random[0] -= 1
            if patched_here:
                _unpatch()
    first, ospec = _flatten(outs[0])
    cols = [_flatten(o)[0] for o in outs]
    odims = _broadcast_dims(out_dims, outs[0], "out_dims") if not isinstance(out_dims, int) \
        else [out_dims] * len(first)
    res = []
    for i, d in enumerate(odims):
        col = [c[i] for c in cols]
        if d is None:
            res.append(col[0])
            continue
        if not isinstance(col[0], Tensor):
            raise ValueError(
                f"vmap(f, ...): `f` must only return Tensors, got type {type(col[0])}. Did you "
                f"mean to set out_dims= to None for output?")
        nd = col[0].dim() + 1
        res.append(_call("stack", _orig_fn("stack"), (col, d + nd if d < 0 else d), {}))
    return _unflatten(res, ospec)


def _struct(x):
    if isinstance(x, tuple):
        return "(" + ", ".join(_struct(a) for a in x) + ("," if len(x) == 1 else "") + ")"
    return "*"


def _unwrap_outputs(out, level, bs, out_dims):
    leaves, spec = _flatten(out)
    dims = _broadcast_dims(out_dims, out, "out_dims") if not isinstance(out_dims, int) else [
        out_dims] * len(leaves)
    res = []
    for x, d in zip(leaves, dims):
        if not isinstance(x, Tensor):
            raise ValueError(
                f"vmap(f, ...): `f` must only return Tensors, got type {type(x)}. Did you mean "
                f"to set out_dims= to None for output?" if d is not None else "")
        v = _unwrap(x, level)
        if d is None:
            if v is not None:
                raise ValueError(
                    "vmap(f, ..., out_dims=None)(<inputs>): Cannot use out_dims=None for an "
                    "output that is batched (varies along the vmapped dimension)")
            res.append(x)
            continue
        if v is None:
            v = _unwrap(_expand_to_level(x, level, bs), level)
        nd = len(v.shape)
        d = d + nd if d < 0 else d
        if d != 0:
            v = _call("movedim", _raw_method("movedim"), (v, 0, d), {})
        res.append(v)
    return _unflatten(res, spec)


@contextlib.contextmanager
def _batch_level(bs, randomness="error"):
    """A vmap level of batch size `bs` without a function (autograd.grad is_grads_batched)."""
    level = _next_level[0]
    _next_level[0] += 1
    outermost = not _levels
    _levels.append([level, bs, randomness])
    if outermost:
        _patch()
    try:
        yield level
    finally:
        _levels.pop()
        if outermost:
            _unpatch()


# ---------------------------------------------------------------- helpers for func transforms
def active_levels():
    return [(lv, b) for lv, b, _ in _levels]


def lift(x, level, bs):
    """x as a BatchedTensor that has `level` (broadcast over the batch when it lacks it)."""
    if isinstance(x, BatchedTensor):
        if x._level == level:
            return x
        if x._level > level:
            return _bt(lift(x._value, level, bs), x._level)
    return _expand_to_level(x, level, bs)


def lift_all(x):
    for lv, b, _ in _levels:
        x = lift(x, lv, b)
    return x


def physical(x):
    while isinstance(x, BatchedTensor):
        x = x._value
    return x


def levels_of(x):
    out = []
    while isinstance(x, BatchedTensor):
        out.append(x._level)
        x = x._value
    return out


def rewrap(phys, levels):
    for lv in reversed(levels):
        phys = _bt(phys, lv)
    return phys
