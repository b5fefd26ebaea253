"""One OpInfo registry of the Core ops: every entry says how to call the op in dagrad and in torch,
on which inputs, over which value domain and dtypes, and which derivative checks apply.

An entry's `op(m, *args, **kwargs)` is written ONCE against a module `m` (dagrad or torch), so the
two libraries run exactly the same call; `dfn` / `tfn` override it where names differ
(activations live in dagrad.ops.elementwise but torch.nn.functional).

A sample's args are specs: a tuple is a random floating input of that shape (requires grad in the
gradient tests), `NC(shape)` the same made non-contiguous (a transposed view of a fresh array),
`Const(array)` a fixed non-differentiable tensor, `ConstList([...])` a list of such tensors,
`Inputs([shape, ...])` a list of random differentiable tensors (cat / stack), and anything else is
passed through unchanged (dims, python scalars, index lists, slices).
"""
import dataclasses
from typing import Any, Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F

import dagrad
import dagrad.ops.elementwise as DE

FLOAT = ("float32", "float64", "float16")
FLOAT_INT = ("float32", "float64", "int64", "float16", "int32", "uint8", "bool")
ALL = ("float32", "float64", "int64", "bool")


@dataclasses.dataclass(frozen=True)
class NC:
    shape: tuple


@dataclasses.dataclass(frozen=True)
class Const:
    value: Any


@dataclasses.dataclass(frozen=True)
class ConstList:
    values: Any


@dataclasses.dataclass(frozen=True)
class Inputs:
    shapes: tuple


@dataclasses.dataclass
class Sample:
    args: tuple
    kwargs: dict = dataclasses.field(default_factory=dict)

    def numel(self):
        n = 0
        for a in self.args:
            if isinstance(a, tuple):
                n += int(np.prod(a))
            elif isinstance(a, NC):
                n += int(np.prod(a.shape))
            elif isinstance(a, Inputs):
                n += sum(int(np.prod(s)) for s in a.shapes)
        return n

    def __repr__(self):
        a = ",".join(repr(x) for x in self.args)
        k = ",".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"({a}{';' + k if k else ''})"


@dataclasses.dataclass
class OpInfo:
    name: str
    op: Callable
    samples: list
    domain: Any = (-2.0, 2.0)       # (low, high) or one (low, high) per floating arg
    dtypes: tuple = FLOAT
    grad: bool = True               # differentiable: compare gradients with torch, gradcheck
    gradgrad: bool = True           # second derivatives supported (gradgradcheck)
    dfn: Optional[Callable] = None  # dagrad override of op(m, ...)
    tfn: Optional[Callable] = None  # torch override
    atol: float = 1e-5
    rtol: float = 1e-4
    gradcheck_max_numel: int = 30
    int_domain: tuple = (-4, 5)
    check_name: bool = True         # compare grad_fn.name() with torch's

    def dagrad_fn(self, *a, **k):
        return (self.dfn or (lambda *x, **y: self.op(dagrad, *x, **y)))(*a, **k)

    def torch_fn(self, *a, **k):
        return (self.tfn or (lambda *x, **y: self.op(torch, *x, **y)))(*a, **k)


# ------------------------------------------------------------------ input construction
def _domain(info, k):
    d = info.domain
    if isinstance(d, list):
        return d[k] if k < len(d) else (-2.0, 2.0)
    return d


def _rand(rng, shape, dtype, low, high, int_domain):
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype in ("int64", "int32", "uint8", "int8"):
        lo, hi = int_domain
        lo = max(lo, int(np.ceil(low)))
        hi = min(hi, int(np.floor(high)) + 1)
        if hi <= lo:
            hi = lo + 1
        return rng.integers(lo, hi, shape).astype(dtype)
    a = rng.uniform(low, high, shape)
    if low < 0 < high:  # keep away from the kinks at 0 of abs / relu / sign
        a = np.where(np.abs(a) < 1e-2, 0.5, a)
    return a.astype(dtype)


def _noncontig(a):
    """The same values as `a`, but a non-contiguous (transposed) view."""
    if a.ndim >= 2:
        b = np.ascontiguousarray(np.swapaxes(a, -1, -2))
        return np.swapaxes(b, -1, -2)
    if a.ndim == 1:
        b = np.empty((a.shape[0], 2), a.dtype)
        b[:, 0] = a
        return b[:, 0]
    return a


def make_numpy_args(info, sample, dtype, seed=0):
    """The sample's args as NumPy values (random floats drawn once, shared by both libraries)."""
    rng = np.random.default_rng(seed)
    out = []
    k = 0
    for a in sample.args:
        if isinstance(a, tuple):
            lo, hi = _domain(info, k)
            out.append(("x", _rand(rng, a, dtype, lo, hi, info.int_domain)))
            k += 1
        elif isinstance(a, NC):
            lo, hi = _domain(info, k)
            out.append(("x", _noncontig(_rand(rng, a.shape, dtype, lo, hi, info.int_domain))))
            k += 1
        elif isinstance(a, Inputs):
            lo, hi = _domain(info, k)
            out.append(("xs", [_rand(rng, s, dtype, lo, hi, info.int_domain) for s in a.shapes]))
            k += 1
        elif isinstance(a, Const):
            out.append(("c", np.asarray(a.value)))
        elif isinstance(a, ConstList):
            out.append(("cs", [np.asarray(v) for v in a.values]))
        else:
            out.append(("p", a))
    return out


def _from_np(m, a):
    if m is torch:
        return torch.from_numpy(a.copy() if a.flags.c_contiguous else a)
    return dagrad.from_numpy(a.copy() if a.flags.c_contiguous else a)


def to_lib(m, np_args, requires_grad=False):
    """Build the call args in module m. Returns (args, list of differentiable leaves)."""
    args, leaves = [], []
    for kind, v in np_args:
        if kind == "x":
            t = _from_np(m, np.array(v, copy=True) if v.flags.c_contiguous else
                         _noncontig_copy(v))
            if requires_grad and v.dtype.kind == "f":
                t.requires_grad_(True)
                leaves.append(t)
            args.append(t)
        elif kind == "xs":
            ts = []
            for a in v:
                t = _from_np(m, np.array(a, copy=True))
                if requires_grad and a.dtype.kind == "f":
                    t.requires_grad_(True)
                    leaves.append(t)
                ts.append(t)
            args.append(ts)
        elif kind == "c":
            args.append(_from_np(m, np.array(v, copy=True)))
        elif kind == "cs":
            args.append([_from_np(m, np.array(a, copy=True)) for a in v])
        else:
            args.append(v)
    return args, leaves


def _noncontig_copy(v):
    """A fresh non-contiguous array equal to v (each library gets its own memory)."""
    if v.ndim >= 2:
        return np.swapaxes(np.ascontiguousarray(np.swapaxes(v, -1, -2)), -1, -2)
    b = np.empty((v.shape[0], 2), v.dtype)
    b[:, 0] = v
    return b[:, 0]


# ------------------------------------------------------------------ shapes
UNARY_SHAPES = [(), (1,), (5,), (3, 4), (2, 3, 4), (0,), (2, 0, 3), NC((3, 4)), NC((2, 3, 4)),
                NC((5,))]
BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (3,)), ((3,), ()),
                 ((), ()), ((1,), (2, 3)), ((0, 3), (3,)), ((2, 0), (1, 0)),
                 (NC((3, 4)), (3, 4)), ((4, 3), NC((4, 3))), (NC((2, 3, 4)), NC((3, 4)))]
SCALARS = [2.5, -1.5, 3, True]


def _u(shapes=UNARY_SHAPES):
    return [Sample((s,)) for s in shapes]


def _b(shapes=BINARY_SHAPES):
    return [Sample(s) for s in shapes]


def _m(name):
    return lambda m, *a, **k: getattr(m, name)(*a, **k)


def _meth(name):
    return lambda m, x, *a, **k: getattr(x, name)(*a, **k)


OPS = []


def add(*a, **k):
    OPS.append(OpInfo(*a, **k))


# ------------------------------------------------------------------ arithmetic
for nm, pyop in [("add", lambda x, y: x + y), ("sub", lambda x, y: x - y),
                 ("mul", lambda x, y: x * y)]:
    add(nm, _m(nm), _b(), dtypes=FLOAT_INT)
    add(f"__{nm}__", lambda m, x, y, f=pyop: f(x, y), _b([((3, 4), (4,)), ((), (3,))]),
        dtypes=FLOAT_INT)
    for s in SCALARS:
        add(f"{nm}_scalar_{s!r}", lambda m, x, s=s, f=pyop: f(x, s), _u(), dtypes=FLOAT_INT)
        add(f"r{nm}_scalar_{s!r}", lambda m, x, s=s, f=pyop: f(s, x), _u(), dtypes=FLOAT_INT)
add("add_alpha", lambda m, x, y: m.add(x, y, alpha=2), _b([((3, 4), (4,))]), dtypes=FLOAT_INT)
add("sub_alpha", lambda m, x, y: m.sub(x, y, alpha=0.5), _b([((3, 4), (4,))]))
add("rsub", lambda m, x, y: m.rsub(x, y), _b([((3, 4), (4,))]))
add("div", _m("div"), _b(), domain=[(-2, 2), (0.5, 2)], dtypes=FLOAT_INT, int_domain=(1, 5))
add("div_neg", _m("div"), _b([((3, 4), (4,))]), domain=[(-2, 2), (-2, -0.5)])
add("__truediv__", lambda m, x, y: x / y, _b([((3, 4), (4,)), ((), (2, 2))]),
    domain=[(-2, 2), (0.5, 2)], dtypes=FLOAT_INT, int_domain=(1, 5))
for s in [2.5, -4, 3]:
    add(f"div_scalar_{s!r}", lambda m, x, s=s: x / s, _u(), dtypes=FLOAT_INT)
    add(f"rdiv_scalar_{s!r}", lambda m, x, s=s: s / x, _u(), domain=(0.5, 2), dtypes=FLOAT_INT,
        int_domain=(1, 5))
for mode in ["trunc", "floor"]:
    add(f"div_{mode}", lambda m, x, y, mode=mode: m.div(x, y, rounding_mode=mode),
        _b([((3, 4), (4,)), ((), (3,))]), domain=[(-5, 5), (0.5, 2)], dtypes=FLOAT_INT,
        int_domain=(1, 5), gradgrad=False)
add("floor_divide", _m("floor_divide"), _b([((3, 4), (4,)), ((), (3,)), ((0,), (1,))]),
    domain=[(-5, 5), (0.7, 2)], dtypes=FLOAT_INT, int_domain=(1, 5), grad=False)
add("__floordiv__", lambda m, x, y: x // y, _b([((3, 4), (4,))]), domain=[(-5, 5), (0.7, 2)],
    dtypes=FLOAT_INT, int_domain=(1, 5), grad=False)
add("floordiv_scalar", lambda m, x: x // 3, _u(), dtypes=FLOAT_INT, grad=False)
add("rfloordiv_scalar", lambda m, x: 7 // x, _u(), domain=(0.7, 3), dtypes=FLOAT_INT,
    int_domain=(1, 5), grad=False)
add("remainder", _m("remainder"), _b([((3, 4), (4,)), ((), (3,)), ((2, 1), NC((3, 2)))]),
    domain=[(-5, 5), (0.7, 2)], dtypes=FLOAT_INT, int_domain=(1, 5))
add("remainder_negdiv", _m("remainder"), _b([((3, 4), (4,))]), domain=[(-5, 5), (-2, -0.7)],
    dtypes=FLOAT_INT, int_domain=(-4, -1))
add("__mod__", lambda m, x, y: x % y, _b([((3, 4), (4,))]), domain=[(-5, 5), (0.7, 2)],
    dtypes=FLOAT_INT, int_domain=(1, 5))
add("mod_scalar", lambda m, x: x % 1.5, _u(), domain=(-5, 5), dtypes=FLOAT_INT)
add("mod_scalar_int", lambda m, x: x % 3, _u(), domain=(-5, 5), dtypes=FLOAT_INT)
# torch 2.13 gives `5 % x` a NotImplemented grad_fn (backward raises): forward only
add("rmod_scalar", lambda m, x: 5 % x, _u(), domain=(0.7, 3), dtypes=FLOAT_INT,
    int_domain=(1, 5), grad=False)
add("pow", _m("pow"), _b(), domain=[(0.5, 2), (-2, 2)])
add("pow_int", _m("pow"), _b([((3, 4), (4,))]), dtypes=("int64",), int_domain=(0, 4), grad=False)
add("__pow__", lambda m, x, y: x ** y, _b([((3, 4), (4,))]), domain=[(0.5, 2), (-2, 2)])
for s in [2, 3, 0.5, -1.5, 0, 1]:
    add(f"pow_scalar_{s!r}", lambda m, x, s=s: x ** s, _u(),
        domain=(0.5, 2) if not float(s).is_integer() or s < 0 else (-2, 2),
        dtypes=FLOAT_INT if (isinstance(s, int) and s >= 0) else FLOAT)
for s in [2, 0.5, 2.5]:
    add(f"rpow_scalar_{s!r}", lambda m, x, s=s: s ** x, _u(), dtypes=FLOAT)
add("pow_int_tensor_float_scalar", lambda m, x: x ** 2.0, _u([(3, 4)]), dtypes=("int64",),
    grad=False)
add("neg", _m("neg"), _u(), dtypes=FLOAT_INT)
add("__neg__", lambda m, x: -x, _u([(3, 4)]), dtypes=FLOAT_INT)
add("abs", _m("abs"), _u(), dtypes=FLOAT_INT)
add("__abs__", lambda m, x: abs(x), _u([(3, 4)]), dtypes=FLOAT_INT)
add("sign", _m("sign"), _u(), dtypes=ALL, gradgrad=True)

# ------------------------------------------------------------------ unary math
POS = (0.1, 3.0)
for nm, dom in [("exp", (-2, 2)), ("exp2", (-2, 2)), ("log", POS), ("log2", POS),
                ("log10", POS), ("log1p", (-0.9, 3)), ("expm1", (-2, 2)), ("sqrt", POS),
                ("rsqrt", POS), ("reciprocal", POS), ("sin", (-3, 3)), ("cos", (-3, 3)),
                ("tan", (-1.3, 1.3)), ("asin", (-0.95, 0.95)), ("acos", (-0.95, 0.95)),
                ("atan", (-3, 3)), ("sinh", (-2, 2)), ("cosh", (-2, 2)), ("tanh", (-3, 3)),
                ("sigmoid", (-4, 4)), ("erf", (-2, 2)), ("square", (-2, 2))]:
    add(nm, _m(nm), _u(), domain=dom, dtypes=ALL if nm != "square" else FLOAT_INT)
    add(f"{nm}_method", _meth(nm), _u([(3, 4), NC((3, 4))]), domain=dom)
add("reciprocal_neg", _m("reciprocal"), _u([(3, 4)]), domain=(-3, -0.2))
add("atan2", _m("atan2"), _b(), domain=[(-2, 2), (-2, 2)])
for nm in ["floor", "ceil", "round", "trunc", "frac"]:
    add(nm, _m(nm), _u(), domain=(-5, 5), dtypes=FLOAT_INT if nm != "frac" else FLOAT)
add("round_decimals", lambda m, x: m.round(x, decimals=2), _u([(3, 4)]), domain=(-5, 5))
add("round_half", _m("round"), [Sample((Const(np.array([0.5, 1.5, 2.5, -0.5, -1.5, 3.0])),))],
    grad=False)

# ------------------------------------------------------------------ activations
ACT = [(3, 4), (), (0,), NC((3, 4)), (2, 3, 4)]
add("relu", _m("relu"), _u(ACT), dtypes=FLOAT_INT)
add("relu_method", _meth("relu"), _u([(3, 4)]), dtypes=FLOAT_INT)
add("leaky_relu", None, _u(ACT), dfn=lambda x: DE.leaky_relu(x), tfn=lambda x: F.leaky_relu(x))
add("leaky_relu_slope", None, _u(ACT), dfn=lambda x: DE.leaky_relu(x, 0.2),
    tfn=lambda x: F.leaky_relu(x, 0.2))
add("elu", None, _u(ACT), dfn=lambda x: DE.elu(x), tfn=lambda x: F.elu(x))
add("elu_alpha", None, _u(ACT), dfn=lambda x: DE.elu(x, alpha=0.5),
    tfn=lambda x: F.elu(x, alpha=0.5))
add("gelu", None, _u(ACT), dfn=lambda x: DE.gelu(x), tfn=lambda x: F.gelu(x))
add("gelu_tanh", None, _u(ACT), dfn=lambda x: DE.gelu(x, approximate="tanh"),
    tfn=lambda x: F.gelu(x, approximate="tanh"))
add("silu", None, _u(ACT), dfn=lambda x: DE.silu(x), tfn=lambda x: F.silu(x))
add("softplus", None, _u(ACT), domain=(-5, 5), dfn=lambda x: DE.softplus(x),
    tfn=lambda x: F.softplus(x))
add("softplus_beta", None, _u(ACT), domain=(-5, 5),
    dfn=lambda x: DE.softplus(x, beta=2.0, threshold=3.0),
    tfn=lambda x: F.softplus(x, beta=2.0, threshold=3.0))
add("hardtanh", None, _u(ACT), dfn=lambda x: DE.hardtanh(x), tfn=lambda x: F.hardtanh(x))
add("hardtanh_bounds", None, _u(ACT), dfn=lambda x: DE.hardtanh(x, -0.5, 1.5),
    tfn=lambda x: F.hardtanh(x, -0.5, 1.5))
add("sigmoid_dagrad_fn", None, _u([(3, 4)]), dfn=lambda x: dagrad.sigmoid(x),
    tfn=lambda x: torch.sigmoid(x))
add("tanh_dagrad_fn", None, _u([(3, 4)]), dfn=lambda x: dagrad.tanh(x),
    tfn=lambda x: torch.tanh(x))

# ------------------------------------------------------------------ clamp / binary selection
add("clamp", lambda m, x: m.clamp(x, -0.5, 0.7), _u(), dtypes=FLOAT_INT)
add("clamp_min", lambda m, x: m.clamp(x, min=-0.5), _u(), dtypes=FLOAT_INT)
add("clamp_max", lambda m, x: x.clamp(max=0.5), _u(), dtypes=FLOAT_INT)
add("clip", lambda m, x: m.clip(x, -0.5, 0.7), _u([(3, 4), NC((3, 4))]))
add("clamp_int_tensor_float_bound", lambda m, x: m.clamp(x, -0.5, 2.5), _u([(3, 4)]),
    dtypes=("int64",), grad=False)
add("clamp_tensor", lambda m, x, lo, hi: m.clamp(x, lo, hi),
    [Sample(((3, 4), (4,), (3, 1))), Sample(((3, 4), (3, 4), (3, 4))),
     Sample(((2, 3), (3,), ()))],
    domain=[(-2, 2), (-1.5, -0.3), (0.3, 1.5)])
# torch's backward refuses when the bounds broadcast the input to a bigger shape: forward only
add("clamp_tensor_bcast_input", lambda m, x, lo, hi: m.clamp(x, lo, hi),
    [Sample(((), (3,), (2, 1)))], domain=[(-2, 2), (-1.5, -0.3), (0.3, 1.5)], grad=False)
add("clamp_tensor_min_only", lambda m, x, lo: m.clamp(x, min=lo), _b([((3, 4), (4,))]))
add("clamp_tensor_max_only", lambda m, x, hi: x.clamp(max=hi), _b([((3, 4), (3, 4))]))
add("clip_tensor", lambda m, x, lo, hi: x.clip(lo, hi), [Sample(((3, 4), (4,), (3, 1)))],
    domain=[(-2, 2), (-1.5, -0.3), (0.3, 1.5)])
add("maximum", _m("maximum"), _b(), dtypes=FLOAT_INT)
add("minimum", _m("minimum"), _b(), dtypes=FLOAT_INT)
add("where", lambda m, c, x, y: m.where(c, x, y),
    [Sample((Const(np.array([[True, False, True, False]] * 3)), (3, 4), (3, 4))),
     Sample((Const(np.array([True, False, True, False])), (3, 1), (4,))),
     Sample((Const(np.array(True)), (), (2, 3))),
     Sample((Const(np.zeros((0, 3), bool)), (3,), (0, 3)))], dtypes=FLOAT_INT)
add("where_scalar", lambda m, c, x: m.where(c, x, 0.5),
    [Sample((Const(np.array([[True, False, True, False]] * 3)), (3, 4)))])
add("where_method", lambda m, c, x, y: x.where(c, y),
    [Sample((Const(np.array([True, False, True, False])), (3, 4), (4,)))])
add("lerp_scalar", lambda m, x, y: m.lerp(x, y, 0.3), _b([((3, 4), (3, 4)), ((3, 4), (4,)),
                                                         ((), (2,))]))
add("lerp_tensor", lambda m, x, y, w: m.lerp(x, y, w),
    [Sample(((3, 4), (3, 4), (3, 4))), Sample(((3, 4), (4,), (3, 1))),
     Sample(((), (2,), ()))], domain=[(-2, 2), (-2, 2), (0, 1)])

# ------------------------------------------------------------------ comparisons and logical
CMP_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((), (3,)), ((0,), (1,)), (NC((3, 4)), (3, 4))]
for nm, f in [("eq", lambda x, y: x == y), ("ne", lambda x, y: x != y),
              ("lt", lambda x, y: x < y), ("le", lambda x, y: x <= y),
              ("gt", lambda x, y: x > y), ("ge", lambda x, y: x >= y)]:
    add(nm, _m(nm), _b(CMP_SHAPES), dtypes=ALL, grad=False)
    add(f"__{nm}__", lambda m, x, y, f=f: f(x, y), _b(CMP_SHAPES[:2]), dtypes=ALL, grad=False)
    add(f"{nm}_scalar", lambda m, x, f=f: f(x, 0.5), _u([(3, 4), ()]), dtypes=ALL, grad=False)
    add(f"{nm}_int_scalar", lambda m, x, f=f: f(x, 1), _u([(3, 4)]), dtypes=ALL, grad=False)
add("eq_ties", lambda m, x, y: m.eq(x, y),
    [Sample((Const(np.array([1.0, 2.0, 3.0])), Const(np.array([1.0, 0.0, 3.0]))))], grad=False)
for nm in ["logical_and", "logical_or", "logical_xor"]:
    add(nm, _m(nm), _b(CMP_SHAPES), dtypes=ALL, grad=False)
add("logical_not", _m("logical_not"), _u(), dtypes=ALL, grad=False)
for nm, f in [("__and__", lambda x, y: x & y), ("__or__", lambda x, y: x | y),
              ("__xor__", lambda x, y: x ^ y)]:
    add(nm, lambda m, x, y, f=f: f(x, y), _b(CMP_SHAPES[:3]), dtypes=("bool", "int64"),
        grad=False)
add("__invert__", lambda m, x: ~x, _u([(3, 4), ()]), dtypes=("bool", "int64"), grad=False)
add("isnan", _m("isnan"), [Sample((Const(np.array([1.0, np.nan, np.inf, -np.inf])),))],
    grad=False)
add("isinf", _m("isinf"), [Sample((Const(np.array([1.0, np.nan, np.inf, -np.inf])),))],
    grad=False)
add("isfinite", _m("isfinite"), [Sample((Const(np.array([1.0, np.nan, np.inf, -np.inf])),))],
    grad=False)

# ------------------------------------------------------------------ reductions
RED = [Sample(((3, 4),)), Sample(((2, 3, 4),)), Sample(((),)), Sample((NC((3, 4)),)),
       Sample(((3, 4),), {"dim": 0}), Sample(((3, 4),), {"dim": -1, "keepdim": True}),
       Sample(((2, 3, 4),), {"dim": (0, 2)}), Sample(((2, 3, 4),), {"dim": (-1, 0),
                                                                      "keepdim": True}),
       Sample((NC((2, 3, 4)),), {"dim": 1}), Sample(((),), {"dim": 0}),
       Sample(((0, 3),), {"dim": 0}), Sample(((1, 3),), {"dim": 0})]
RED_EMPTY_ALL = [Sample(((0, 3),))]
for nm in ["sum", "mean"]:
    add(nm, _m(nm), RED + RED_EMPTY_ALL, dtypes=FLOAT_INT if nm == "sum" else FLOAT)
    add(f"{nm}_method", _meth(nm), RED[:6])
add("sum_bool", _m("sum"), RED[:3], dtypes=("bool",), grad=False)
add("sum_dtype", lambda m, x: m.sum(x, dtype=m.float64), RED[:2])
add("mean_int_error", _m("mean"), RED[:1], dtypes=("int64",), grad=False)
add("prod", _m("prod"), [s for s in RED if not isinstance(s.kwargs.get("dim"), tuple)] + [
    Sample(((4,),)), Sample((Const(np.array([[1.0, 0.0, 2.0], [3.0, 4.0, 0.0]])),))],
    dtypes=FLOAT_INT, domain=(0.5, 1.5))
add("prod_zeros_grad", lambda m, x: m.prod(x * m.tensor([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]],
                                                          dtype=x.dtype), 1),
    [Sample(((2, 3),))])
add("prod_zeros_grad_all", lambda m, x: m.prod(x * m.tensor([1.0, 0.0, 2.0], dtype=x.dtype)),
    [Sample(((3,),))])
REDD = [Sample(((3, 4),), {"dim": 0}), Sample(((3, 4),), {"dim": -1, "keepdim": True}),
        Sample(((2, 3, 4),), {"dim": 1}), Sample((NC((3, 4)),), {"dim": 1}),
        Sample(((),), {"dim": 0})]
for nm in ["max", "min"]:
    add(nm, _m(nm), [Sample(((3, 4),)), Sample(((),)), Sample((NC((2, 3)),))] + REDD,
        dtypes=FLOAT_INT)
    add(f"{nm}_binary", _m(nm), _b([((3, 4), (4,))]), dtypes=FLOAT_INT)
    add(f"{nm}_empty_error", _m(nm), [Sample(((0, 3),))], grad=False)
    add(f"a{nm}", _m(f"a{nm}"), [Sample(((3, 4),)), Sample(((2, 3, 4),), {"dim": (0, 2)}),
                                Sample(((3, 4),), {"dim": -1, "keepdim": True}),
                                Sample(((),))] + REDD[3:], dtypes=FLOAT_INT)
    add(f"a{nm}_ties", _m(f"a{nm}"),
        [Sample((Const(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])),))], grad=False)
    add(f"arg{nm}", _m(f"arg{nm}"), [Sample(((3, 4),)), Sample(((),))] + REDD,
        dtypes=FLOAT_INT, grad=False)
add("max_ties_grad", lambda m, x: m.max(x * 0 + m.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]],
                                                         dtype=x.dtype)),
    [Sample(((2, 3),))], gradgrad=False)
add("amax_ties_grad", lambda m, x: m.amax(x * 0 + m.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]],
                                                           dtype=x.dtype), 1),
    [Sample(((2, 3),))], gradgrad=False)
add("max_dim_ties", lambda m, x: m.max(m.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]],
                                                dtype=x.dtype) + x * 0, 1),
    [Sample(((2, 3),))], gradgrad=False)
add("argmax_ties", _m("argmax"), [Sample((Const(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])),),
                                         {"dim": 1})], grad=False)
VAR = [Sample(((3, 4),)), Sample(((3, 4),), {"dim": 0}), Sample(((2, 3, 4),), {"dim": (0, 2)}),
       Sample(((3, 4),), {"dim": 1, "keepdim": True}), Sample(((3, 4),), {"correction": 0}),
       Sample(((3, 4),), {"dim": 1, "correction": 2}), Sample(((3, 4),), {"unbiased": False}),
       Sample((NC((3, 4)),), {"dim": 1}), Sample(((1, 3),), {"dim": 1})]
for nm in ["var", "std"]:
    add(nm, _m(nm), VAR)
    add(f"{nm}_method", _meth(nm), VAR[:2])
    add(f"{nm}_single", _m(nm), [Sample(((1, 3),), {"dim": 0})], grad=False)
add("logsumexp", _m("logsumexp"), [Sample(((3, 4),), {"dim": 1}), Sample(((3, 4),), {"dim": 0,
                                                                                    "keepdim": True}),
                                   Sample(((2, 3, 4),), {"dim": (0, 2)}), Sample(((),),
                                                                                  {"dim": 0}),
                                   Sample((NC((3, 4)),), {"dim": 1})])
add("logsumexp_large", _m("logsumexp"),
    [Sample((Const(np.array([[1000.0, 1000.0], [-1000.0, 0.0]])),), {"dim": 1})], grad=False)
NORM = [Sample(((3, 4),)), Sample(((3, 4),), {"dim": 1}), Sample(((3, 4),), {"p": 1}),
        Sample(((3, 4),), {"p": 3, "dim": 0}), Sample(((3, 4),), {"p": float("inf")}),
        Sample(((3, 4),), {"p": 2, "dim": 1, "keepdim": True}), Sample(((),)),
        Sample((NC((3, 4)),), {"dim": (0, 1)}), Sample(((2, 3, 4),), {"dim": (1, 2)})]
add("norm", _m("norm"), NORM)
add("norm_method", _meth("norm"), NORM[:4])
add("norm_zero_grad", lambda m, x: (x * 0).norm(), [Sample(((3,),))], gradgrad=False)
CUM = [Sample(((3, 4),), {"dim": 0}), Sample(((3, 4),), {"dim": -1}), Sample(((),), {"dim": 0}),
       Sample((NC((3, 4)),), {"dim": 1}), Sample(((0, 3),), {"dim": 1}),
       Sample(((2, 3, 4),), {"dim": 1})]
add("cumsum", _m("cumsum"), CUM, dtypes=FLOAT_INT)
add("cumsum_method", _meth("cumsum"), CUM[:2])
add("cumsum_bool", _m("cumsum"), CUM[:1], dtypes=("bool",), grad=False)
add("cumprod", _m("cumprod"), CUM, dtypes=FLOAT_INT)
add("cumprod_zero", lambda m, x: m.cumprod(x * m.tensor([1.0, 0.0, 2.0, 3.0],
                                                        dtype=x.dtype), 0),
    [Sample(((4,),))])
ALLANY = [Sample(((3, 4),)), Sample(((3, 4),), {"dim": 0}), Sample(((3, 4),), {"dim": 1,
                                                                              "keepdim": True}),
          Sample(((),)), Sample(((0, 3),)), Sample(((0, 3),), {"dim": 0})]
add("all", _m("all"), ALLANY, dtypes=ALL, grad=False)
add("any", _m("any"), ALLANY, dtypes=ALL, grad=False)
add("all_tuple_dim", _m("all"), [Sample(((2, 3, 4),), {"dim": (0, 2)})], dtypes=("bool",),
    grad=False)
SM = [Sample(((3, 4),), {"dim": 1}), Sample(((3, 4),), {"dim": 0}), Sample(((),), {"dim": 0}),
      Sample(((2, 3, 4),), {"dim": -2}), Sample((NC((3, 4)),), {"dim": -1}),
      Sample(((0, 3),), {"dim": 1})]
add("softmax", _m("softmax"), SM)
add("log_softmax", _m("log_softmax"), SM)
add("softmax_method", _meth("softmax"), SM[:2])
add("softmax_dtype", lambda m, x: m.softmax(x, 1, dtype=m.float64), SM[:1], dtypes=("float32",))
add("softmax_large", lambda m, x: m.softmax(x * 500, 1), SM[:1], domain=(-3, 3))
add("log_softmax_large", lambda m, x: m.log_softmax(x * 500, 1), SM[:1], domain=(-3, 3))

# ------------------------------------------------------------------ movement
add("reshape", lambda m, x: x.reshape(4, 3), _u([(3, 4), NC((3, 4)), (2, 6)]), dtypes=ALL)
add("reshape_fn", lambda m, x: m.reshape(x, (2, -1)), _u([(3, 4), NC((3, 4)), (2, 0)]))
add("reshape_0d", lambda m, x: x.reshape(1, 1), _u([()]))
add("reshape_to_0d", lambda m, x: x.reshape(()), _u([(1,), (1, 1)]))
add("reshape_bad", lambda m, x: x.reshape(5, 3), _u([(3, 4)]), grad=False)
add("view", lambda m, x: x.view(2, 6), _u([(3, 4), (12,)]), dtypes=ALL)
add("view_minus1", lambda m, x: x.view(-1), _u([(3, 4), (), (2, 0)]))
add("view_noncontig_error", lambda m, x: x.view(-1), _u([NC((3, 4))]), grad=False)
add("flatten", _m("flatten"), _u([(2, 3, 4), (), NC((3, 4)), (5,)]))
add("flatten_range", lambda m, x: m.flatten(x, 1), _u([(2, 3, 4), NC((2, 3, 4))]))
add("flatten_range2", lambda m, x: x.flatten(0, 1), _u([(2, 3, 4)]))
add("unflatten", lambda m, x: m.unflatten(x, 1, (2, 2)), _u([(3, 4), NC((3, 4))]))
add("unflatten_neg", lambda m, x: x.unflatten(-1, (2, -1)), _u([(3, 4)]))
add("squeeze", _m("squeeze"), _u([(3, 1, 4, 1), (1,), (), (1, 0)]), dtypes=ALL)
add("squeeze_dim", lambda m, x: m.squeeze(x, 1), _u([(3, 1, 4), (3, 2)]))
add("squeeze_dims", lambda m, x: x.squeeze((0, 2)), _u([(1, 3, 1)]))
add("unsqueeze", lambda m, x: m.unsqueeze(x, 0), _u([(3, 4), (), NC((3, 4))]), dtypes=ALL)
add("unsqueeze_neg", lambda m, x: x.unsqueeze(-1), _u([(3, 4), ()]))
add("permute", lambda m, x: x.permute(2, 0, 1), _u([(2, 3, 4), NC((2, 3, 4))]), dtypes=ALL)
add("permute_fn", lambda m, x: m.permute(x, (1, 0)), _u([(3, 4)]))
add("permute_neg", lambda m, x: x.permute(-1, 0, 1), _u([(2, 3, 4)]))
add("transpose", lambda m, x: m.transpose(x, 0, 1), _u([(3, 4), (2, 3, 4), NC((3, 4))]),
    dtypes=ALL)
add("transpose_neg", lambda m, x: x.transpose(-1, -3), _u([(2, 3, 4)]))
add("t", _m("t"), _u([(3, 4), (4,), ()]))
add("T", lambda m, x: x.T, _u([(3, 4), (4,)]))
add("mT", lambda m, x: x.mT, _u([(3, 4), (2, 3, 4)]))
add("expand", lambda m, x: x.expand(2, 3, 4), _u([(3, 1), (4,), (), (1, 3, 4)]), dtypes=ALL)
add("expand_minus1", lambda m, x: x.expand(2, -1, -1), _u([(3, 4), NC((3, 4))]))
add("expand_as", lambda m, x, y: x.expand_as(y), [Sample(((3, 1), Const(np.zeros((2, 3, 4)))))])
add("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3, 4)), _u([(3, 1), (4,), ()]))
add("broadcast_tensors", lambda m, x, y: m.broadcast_tensors(x, y), _b([((3, 1), (4,))]))
add("repeat", lambda m, x: x.repeat(2, 3), _u([(3, 4), (4,), (), NC((3, 4))]), dtypes=ALL)
add("repeat_more", lambda m, x: x.repeat(2, 1, 2), _u([(3, 4)]))
add("tile", lambda m, x: m.tile(x, (2,)), _u([(3, 4), (4,), ()]), dtypes=FLOAT_INT)
add("tile_more", lambda m, x: x.tile(2, 1, 3), _u([(3, 4)]))
add("flip", lambda m, x: m.flip(x, (0,)), _u([(3, 4), (4,), NC((3, 4))]), dtypes=ALL)
add("flip_many", lambda m, x: x.flip(0, -1), _u([(2, 3, 4)]))
add("fliplr", _m("fliplr"), _u([(3, 4)]))
add("roll", lambda m, x: m.roll(x, 1, 0), _u([(3, 4), (4,), NC((3, 4))]), dtypes=FLOAT_INT)
add("roll_flat", lambda m, x: m.roll(x, 5), _u([(3, 4)]))
add("roll_multi", lambda m, x: x.roll((1, -2), (0, 1)), _u([(3, 4)]))
CAT = [Sample((Inputs(((3, 4), (2, 4))),), {"dim": 0}),
       Sample((Inputs(((3, 4), (3, 2), (3, 1))),), {"dim": 1}),
       Sample((Inputs(((3, 4), (3, 4))),), {"dim": -1}),
       Sample((Inputs(((3,), (0,))),)), Sample((Inputs(((2, 3),)),))]
add("cat", _m("cat"), CAT, dtypes=FLOAT_INT)
add("concat", _m("concat"), CAT[:2])
add("cat_empty_1d", lambda m, x: m.cat([x, m.zeros(0, dtype=x.dtype)]), _u([(3, 4)]))
add("cat_promote", lambda m, x: m.cat([x, m.ones(2, 4, dtype=m.int64)]), _u([(3, 4)]))
add("stack", _m("stack"), [Sample((Inputs(((3, 4), (3, 4))),)),
                           Sample((Inputs(((3, 4), (3, 4), (3, 4))),), {"dim": 1}),
                           Sample((Inputs(((3, 4), (3, 4))),), {"dim": -1}),
                           Sample((Inputs(((), ())),))], dtypes=FLOAT_INT)
add("hstack", _m("hstack"), [Sample((Inputs(((3, 4), (3, 2))),))])
add("vstack", _m("vstack"), [Sample((Inputs(((3, 4), (2, 4))),))])
add("split", lambda m, x: m.split(x, 2), _u([(5, 3), (4, 2)]))
add("split_sections", lambda m, x: x.split([1, 3], 1), _u([(2, 4), NC((3, 4))]))
add("split_partial_use", lambda m, x: x.split(2)[1], _u([(5, 3)]))
add("chunk", lambda m, x: m.chunk(x, 3, 1), _u([(2, 7), (2, 6), (2, 2)]))
add("unbind", lambda m, x: m.unbind(x, 1), _u([(2, 3), NC((3, 4))]))
add("unbind_partial", lambda m, x: x.unbind()[0], _u([(2, 3)]))
add("narrow", lambda m, x: m.narrow(x, 1, 1, 2), _u([(3, 4), NC((3, 4))]))
add("narrow_neg", lambda m, x: x.narrow(-1, -3, 2), _u([(3, 4)]))
add("movedim", lambda m, x: m.movedim(x, 0, -1), _u([(2, 3, 4)]))
add("swapaxes", lambda m, x: x.swapaxes(0, 1), _u([(2, 3, 4)]))
add("contiguous", lambda m, x: x.contiguous(), _u([NC((3, 4)), (3, 4)]))
add("clone", lambda m, x: x.clone(), _u([(3, 4), NC((3, 4)), ()]), dtypes=ALL)

# ------------------------------------------------------------------ indexing
IDX = np.array([2, 0, 2, 1])
GETITEM = [
    ("int", lambda x: x[1]), ("neg_int", lambda x: x[-1]), ("int_int", lambda x: x[1, 2]),
    ("slice", lambda x: x[1:]), ("slice_step", lambda x: x[::2, 1::2]),
    ("slice_neg", lambda x: x[-2:, :-1]), ("slice_empty", lambda x: x[3:1]),
    ("none", lambda x: x[None, :, None]), ("ellipsis", lambda x: x[..., 1]),
    ("ellipsis_none", lambda x: x[..., None]), ("list", lambda x: x[[2, 0, 2]]),
    ("list_2d", lambda x: x[[0, 2, 2], [1, 1, 3]]), ("int_and_list", lambda x: x[1, [0, 0, 3]]),
    ("slice_and_list", lambda x: x[1:, [3, 0, 3]]), ("list_slice_list", lambda x: x[[0, 1], :]),
    ("bool_scalar_none", lambda x: x[None, 1:2, ..., None]),
    ("tuple_empty", lambda x: x[()]),
]
for nm, f in GETITEM:
    add(f"getitem_{nm}", lambda m, x, f=f: f(x), _u([(3, 4), NC((3, 4))]), dtypes=ALL)
add("getitem_int_tensor", lambda m, x, i: x[i], [Sample(((3, 4), Const(IDX[:3]))),
                                               Sample(((3, 4), Const(np.array([[0, 2], [2, 2]]))))])
add("getitem_int_tensor_dim1", lambda m, x, i: x[:, i], [Sample(((3, 4), Const(IDX)))])
add("getitem_two_tensors", lambda m, x, i, j: x[i, j],
    [Sample(((3, 4), Const(np.array([0, 2, 2])), Const(np.array([1, 1, 3])))),
     Sample(((3, 4), Const(np.array([[0], [2]])), Const(np.array([1, 3, 3]))))])
add("getitem_separated_adv", lambda m, x, i: x[i, :, i],
    [Sample(((3, 2, 3), Const(np.array([0, 2, 2]))))])
add("getitem_bool_mask", lambda m, x, k: x[k],
    [Sample(((3, 4), Const(np.array([[True, False, True, True]] * 3)))),
     Sample(((3, 4), Const(np.array([True, False, True])))),
     Sample(((3, 4), Const(np.zeros((3, 4), bool))))])
add("getitem_bool_mask_dim1", lambda m, x, k: x[:, k],
    [Sample(((3, 4), Const(np.array([True, False, True, True]))))])
add("getitem_3d_mix", lambda m, x: x[1, ::2, [0, 3]], _u([(2, 3, 4)]))
add("getitem_0d_tensor_index", lambda m, x, i: x[i], [Sample(((3, 4), Const(np.array(1))))])
add("getitem_neg_tensor_index", lambda m, x, i: x[i], [Sample(((3, 4), Const(np.array([-1, 0]))))])
add("getitem_out_of_range", lambda m, x: x[5], _u([(3, 4)]), grad=False)
add("getitem_repeated_grad", lambda m, x: x[[0, 0, 0, 1]] * 2, _u([(3, 2)]))


def _setitem(key, val):
    def f(m, x, v=None):
        y = x.clone()
        y[key] = v if v is not None else val
        return y
    return f


add("setitem_int_scalar", _setitem(1, 2.5), _u([(3, 4)]), dtypes=FLOAT_INT)
add("setitem_slice_tensor", _setitem((slice(None), slice(1, 3)), None),
    [Sample(((3, 4), (3, 2))), Sample(((3, 4), (2,)))])
add("setitem_list", _setitem([0, 2], None), [Sample(((3, 4), (4,)))])
add("setitem_mask_scalar", lambda m, x: _setitem(x.detach() > 0, 0.0)(m, x), _u([(3, 4)]))
add("setitem_ellipsis", _setitem((Ellipsis, 0), None), [Sample(((2, 3, 4), (2, 3)))])
add("gather", lambda m, x, i: m.gather(x, 1, i),
    [Sample(((3, 4), Const(np.array([[0, 3], [1, 1], [2, 0]])))),
     Sample(((3, 4), Const(np.array([[0, 0, 0, 0], [1, 1, 1, 1]]))), ),
     Sample((NC((3, 4)), Const(np.array([[3], [2], [1]]))))], dtypes=FLOAT_INT)
add("gather_dim0", lambda m, x, i: x.gather(0, i),
    [Sample(((3, 4), Const(np.array([[0, 2, 2, 1], [1, 1, 0, 0]]))))])
SCAT_IDX = np.array([[0, 1], [2, 0], [1, 1]])
add("scatter", lambda m, x, i, s: m.scatter(x, 1, i, s),
    [Sample(((3, 4), Const(np.array([[0, 1], [2, 0], [1, 3]])), (3, 2)))])
add("scatter_value", lambda m, x, i: x.scatter(1, i, 1.5),
    [Sample(((3, 4), Const(SCAT_IDX)))])
add("scatter_add", lambda m, x, i, s: m.scatter_add(x, 1, i, s),
    [Sample(((3, 4), Const(SCAT_IDX), (3, 2)))])
# src bigger than index: torch's backward refuses (invalid gradient shape): forward only
add("scatter_add_big_src", lambda m, x, i, s: m.scatter_add(x, 1, i, s),
    [Sample(((3, 4), Const(SCAT_IDX), (3, 3)))], grad=False)
add("scatter_add_dim0", lambda m, x, i, s: x.scatter_add(0, i, s),
    [Sample(((3, 2), Const(np.array([[0, 1], [0, 2], [0, 0], [2, 1]])), (4, 2)))])
add("index_select", lambda m, x, i: m.index_select(x, 1, i),
    [Sample(((3, 4), Const(IDX))), Sample((NC((3, 4)), Const(np.array([1])))),
     Sample(((3, 4), Const(np.zeros(0, np.int64))))], dtypes=FLOAT_INT)
add("index_select_dim0", lambda m, x, i: x.index_select(0, i),
    [Sample(((3, 4), Const(np.array([2, 2, 0]))))])
add("masked_fill", lambda m, x, k: m.masked_fill(x, k, -1.5),
    [Sample(((3, 4), Const(np.array([[True, False, True, False]] * 3)))),
     Sample(((3, 4), Const(np.array([False, True, True, False])))),
     Sample((NC((3, 4)), Const(np.array(True))))], dtypes=FLOAT_INT)
add("masked_fill_tensor_value", lambda m, x, k, v: x.masked_fill(k, v),
    [Sample(((3, 4), Const(np.array([False, True, True, False])), ()))])
add("masked_select", lambda m, x, k: m.masked_select(x, k),
    [Sample(((3, 4), Const(np.array([[True, False, True, False]] * 3)))),
     Sample(((3, 4), Const(np.array([False, True, True, False]))))], dtypes=FLOAT_INT)
add("take", lambda m, x, i: m.take(x, i),
    [Sample(((3, 4), Const(np.array([0, 11, 5, 5])))), Sample((NC((3, 4)),
                                                               Const(np.array([[1, 2], [-1, 3]]))))],
    dtypes=FLOAT_INT)
add("nonzero", _m("nonzero"),
    [Sample((Const(np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]])),)),
     Sample((Const(np.array(1.5)),)), Sample((Const(np.zeros((0, 2))),)),
     Sample((Const(np.array([True, False, True])),))], grad=False)
add("nonzero_tuple", lambda m, x: m.nonzero(x, as_tuple=True),
    [Sample((Const(np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]])),))], grad=False)
add("topk", lambda m, x: m.topk(x, 2), _u([(3, 4), (5,), NC((3, 4))]), dtypes=FLOAT_INT,
    domain=(-100, 100), int_domain=(-100, 100))
add("topk_smallest", lambda m, x: x.topk(2, dim=0, largest=False), _u([(3, 4)]))
add("sort", _m("sort"), _u([(3, 4), (5,), (), NC((3, 4))]), dtypes=FLOAT_INT)
add("sort_desc", lambda m, x: x.sort(0, descending=True), _u([(3, 4)]))
add("sort_stable_ties", lambda m, x: m.sort(x, stable=True),
    [Sample((Const(np.array([3.0, 1.0, 3.0, 1.0, 2.0])),))], grad=False)
add("argsort", _m("argsort"), _u([(3, 4), (5,), ()]), dtypes=FLOAT_INT, grad=False)
add("argsort_desc", lambda m, x: x.argsort(0, descending=True), _u([(3, 4)]), grad=False)

# ------------------------------------------------------------------ linear algebra
MATMUL = [((3,), (3,)), ((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)),
          ((2, 2, 3), (2, 3, 4)), ((2, 2, 3), (3, 4)), ((3,), (2, 3, 4)), ((2, 2, 3), (3,)),
          ((2, 1, 2, 3), (3, 3, 2)), (NC((2, 3)), NC((3, 4))), ((0, 3), (3, 2)),
          ((2, 0), (0, 3))]
add("matmul", _m("matmul"), _b(MATMUL), dtypes=FLOAT_INT)
add("__matmul__", lambda m, x, y: x @ y, _b(MATMUL[:3]))
add("matmul_0d_error", _m("matmul"), _b([((), (3,))]), grad=False)
add("matmul_mismatch_error", _m("matmul"), _b([((2, 3), (4, 2))]), grad=False)
add("mm", _m("mm"), _b([((2, 3), (3, 4)), (NC((2, 3)), (3, 4)), ((0, 3), (3, 2))]),
    dtypes=FLOAT_INT)
add("bmm", _m("bmm"), _b([((2, 2, 3), (2, 3, 4)), (NC((2, 3, 2)), (2, 2, 4))]))
add("mv", _m("mv"), _b([((2, 3), (3,)), (NC((2, 3)), (3,))]))
add("dot", _m("dot"), _b([((3,), (3,)), ((0,), (0,))]), dtypes=FLOAT_INT)
add("outer", _m("outer"), _b([((3,), (4,)), ((0,), (2,))]))
add("einsum_mm", lambda m, x, y: m.einsum("ij,jk->ik", x, y), _b([((2, 3), (3, 4))]))
add("einsum_batch", lambda m, x, y: m.einsum("bij,bjk->bik", x, y),
    _b([((2, 2, 3), (2, 3, 4))]))
add("einsum_trace", lambda m, x: m.einsum("ii", x), _u([(3, 3)]), check_name=False)
add("einsum_diag", lambda m, x: m.einsum("ii->i", x), _u([(3, 3)]), check_name=False)
add("einsum_sum", lambda m, x: m.einsum("ij->", x), _u([(3, 4)]), check_name=False)
add("einsum_transpose", lambda m, x: m.einsum("ij->ji", x), _u([(3, 4)]), check_name=False)
add("einsum_outer", lambda m, x, y: m.einsum("i,j->ij", x, y), _b([((3,), (4,))]), check_name=False)
add("einsum_ellipsis", lambda m, x, y: m.einsum("...ij,...jk->...ik", x, y),
    _b([((2, 2, 3), (2, 3, 4))]))
add("einsum_list", lambda m, x, y: m.einsum("ij,jk", [x, y]), _b([((2, 3), (3, 4))]))
add("einsum_three", lambda m, x, y, z: m.einsum("ij,jk,kl->il", x, y, z),
    [Sample(((2, 3), (3, 4), (4, 2)))])
add("tensordot", lambda m, x, y: m.tensordot(x, y, 1), _b([((2, 3), (3, 4))]))
add("tensordot_2", lambda m, x, y: m.tensordot(x, y), _b([((2, 3, 4), (3, 4, 5))]))
add("tensordot_dims", lambda m, x, y: m.tensordot(x, y, dims=([1, 0], [0, 2])),
    _b([((3, 2, 4), (2, 5, 3))]))
add("linalg_vector_norm_via_norm", lambda m, x: m.norm(x, 2, -1), _u([(3, 4)]))


# ------------------------------------------------------------------ linalg norms
LNORM = [Sample(((3, 4),)), Sample(((3, 4),), {"dim": 1}), Sample(((4,),), {"ord": 1}),
         Sample(((3, 4),), {"ord": 3, "dim": 0}), Sample(((5,),), {"ord": float("inf")}),
         Sample(((3, 4),), {"dim": (0, 1), "keepdim": True}), Sample((NC((3, 4)),)),
         Sample(((),))]
add("linalg_vector_norm", lambda m, x, **k: m.linalg.vector_norm(x, **k), LNORM)
add("linalg_norm", lambda m, x, **k: m.linalg.norm(x, **k), dtypes=FLOAT[:2], samples=[Sample(((4,),)), Sample(((3, 4),)),
                                                           Sample(((3, 4),), {"dim": 1}),
                                                           Sample(((3, 4),), {"ord": "fro"})])

# ------------------------------------------------------------------ in-place variants
IP_BIN = _b([((3, 4), (4,)), ((3, 4), (3, 4)), ((), ())])
for nm in ["add_", "sub_", "mul_"]:
    add(f"inplace_{nm}", lambda m, x, y, nm=nm: getattr(x * 1, nm)(y), IP_BIN, dtypes=FLOAT_INT)
add("inplace_div_", lambda m, x, y: (x * 1).div_(y), IP_BIN, domain=[(-2, 2), (0.5, 2)])
add("inplace_pow_", lambda m, x: (x * 1).pow_(2), _u([(3, 4)]))
add("inplace_iadd", lambda m, x, y: _iadd(x * 1, y), IP_BIN)
add("inplace_clamp_", lambda m, x: (x * 1).clamp_(-0.5, 0.5), _u([(3, 4), ()]))
add("inplace_relu_", lambda m, x: (x * 1).relu_(), _u([(3, 4)]))
add("inplace_exp_", lambda m, x: (x * 1).exp_(), _u([(3, 4)]))
add("inplace_sigmoid_", lambda m, x: (x * 1).sigmoid_(), _u([(3, 4)]))
add("inplace_neg_", lambda m, x: (x * 1).neg_(), _u([(3, 4)]), dtypes=FLOAT_INT)
add("inplace_masked_fill_", lambda m, x, k: (x * 1).masked_fill_(k, 0.5),
    [Sample(((3, 4), Const(np.array([True, False, True, False]))))])
add("inplace_zero_", lambda m, x, y: (x * 1).zero_() + y, IP_BIN[:1])
add("inplace_copy_", lambda m, x, y: (x * 1).copy_(y), IP_BIN[:2])
add("inplace_chain", lambda m, x, y: (x * 1).mul_(y).add_(x).sin_(), IP_BIN[:2])
add("inplace_add_int_float_error", lambda m, x: x.add_(1.5), _u([(3,)]), dtypes=("int64",),
    grad=False)


def _iadd(a, b):
    a += b
    return a


def get(name):
    for o in OPS:
        if o.name == name:
            return o
    raise KeyError(name)


_names = [o.name for o in OPS]
assert len(_names) == len(set(_names)), [n for n in _names if _names.count(n) > 1]
