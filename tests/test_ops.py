"""Every Core op from the OpInfo registry (tests/opinfo.py) against torch 2.13:

- forward: values, dtype, shape, requires_grad of each output, the exception type when torch
  raises, and that inputs are left untouched; for each dtype the entry lists;
- backward: float64 input gradients vs torch for a random cotangent, and grad_fn names;
- gradcheck / gradgradcheck in float64 with finite differences (small samples);
- dtype promotion of binary ops for every pair of dtypes (tensor/tensor, tensor/0-d tensor,
  tensor/python scalar) and hypothesis-generated broadcasting shapes.
"""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dagrad
from dagrad.autograd import gradcheck, gradgradcheck
from opinfo import OPS, make_numpy_args, to_lib

CASES = [(op, i) for op in OPS for i in range(len(op.samples))]
IDS = [f"{op.name}-{i}" for op, i in CASES]


def _flat(x):
    if isinstance(x, (tuple, list)):
        out = []
        for y in x:
            out.extend(_flat(y))
        return out
    return [x]


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.detach().numpy()


def assert_same(d, t, atol, rtol, msg=""):
    if isinstance(t, (tuple, list)):
        assert isinstance(d, (tuple, list)), f"{msg}: expected a sequence, got {type(d)}"
        assert len(d) == len(t), f"{msg}: {len(d)} outputs != {len(t)}"
        for k, (a, b) in enumerate(zip(d, t)):
            assert_same(a, b, atol, rtol, f"{msg}[{k}]")
        return
    if isinstance(t, torch.Tensor):
        assert isinstance(d, dagrad.Tensor), f"{msg}: expected a Tensor, got {type(d)}"
        assert tuple(d.shape) == tuple(t.shape), f"{msg}: shape {tuple(d.shape)} != {tuple(t.shape)}"
        assert str(d.dtype) == str(t.dtype), f"{msg}: dtype {d.dtype} != {t.dtype}"
        a, b = d.detach().numpy(), t.detach().numpy()
        if b.dtype.kind == "f":
            # float16: torch computes mixed-precision ops in float32 then rounds once; allow 1 ulp
            atol, rtol = (max(atol, 1e-3), max(rtol, 1e-3)) if b.dtype == np.float16 else (atol, rtol)
            np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64),
                                       atol=atol, rtol=rtol, equal_nan=True, err_msg=msg)
        else:
            np.testing.assert_array_equal(a, b, err_msg=msg)
        return
    assert type(d) is type(t) and (d == t or (d != d and t != t)), f"{msg}: {d!r} != {t!r}"


def _run_both(op, sample, dtype, requires_grad=False, seed=0):
    np_args = make_numpy_args(op, sample, dtype, seed)
    snapshot = [(k, np.array(v, copy=True) if k in ("x", "c") else v) for k, v in np_args]
    targs, tleaves = to_lib(torch, np_args, requires_grad)
    dargs, dleaves = to_lib(dagrad, np_args, requires_grad)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tout = op.torch_fn(*targs, **sample.kwargs)
    except Exception as e:  # torch refuses: dagrad must refuse with the same exception type
        with pytest.raises(type(e)):
            op.dagrad_fn(*dargs, **sample.kwargs)
        return None
    dout = op.dagrad_fn(*dargs, **sample.kwargs)
    for (k, v), (k2, v0), da in zip(np_args, snapshot, dargs):
        if k in ("x", "c"):
            np.testing.assert_array_equal(da.detach().numpy(), v0,
                                          err_msg="the op modified its input")
    return tout, dout, tleaves, dleaves


@pytest.mark.parametrize("op,i", CASES, ids=IDS)
def test_forward(op, i):
    sample = op.samples[i]
    for dtype in op.dtypes:
        r = _run_both(op, sample, dtype)
        if r is None:
            continue
        tout, dout, _, _ = r
        assert_same(dout, tout, op.atol, op.rtol, f"{op.name} {sample} {dtype}")


@pytest.mark.parametrize("op,i", [c for c in CASES if c[0].grad],
                         ids=[n for n, c in zip(IDS, CASES) if c[0].grad])
def test_grad_vs_torch(op, i):
    sample = op.samples[i]
    r = _run_both(op, sample, "float64", requires_grad=True)
    if r is None:
        return
    tout, dout, tleaves, dleaves = r
    touts, douts = _flat(tout), _flat(dout)
    assert len(touts) == len(douts)
    rng = np.random.default_rng(1)
    tl, dl = [], []
    for to, do in zip(touts, douts):
        if not isinstance(to, torch.Tensor):
            continue
        assert do.requires_grad == to.requires_grad, f"requires_grad {do.requires_grad}"
        if not to.requires_grad:
            continue
        tn = to.grad_fn.name() if to.grad_fn is not None else None
        dn = do.grad_fn.name() if do.grad_fn is not None else None
        if op.check_name:
            assert dn == tn, f"grad_fn name {dn} != {tn}"
        w = rng.uniform(-1, 1, tuple(to.shape))
        tl.append((to * torch.from_numpy(w)).sum())
        dl.append((do * dagrad.from_numpy(w.copy())).sum())
    if not tl:
        return
    try:
        tg = torch.autograd.grad(tl, tleaves, allow_unused=True)
    except Exception as e:  # torch's backward refuses: so must dagrad's
        with pytest.raises(type(e)):
            dagrad.autograd.grad(dl, dleaves, allow_unused=True)
        return
    dg = dagrad.autograd.grad(dl, dleaves, allow_unused=True)
    for k, (a, b) in enumerate(zip(dg, tg)):
        if b is None:
            assert a is None or not np.any(a.numpy()), f"grad {k} should be None/zero"
            continue
        assert a is not None, f"grad of input {k} is None"
        assert_same(a, b, 1e-8, 1e-6, f"grad of input {k}")


def _func_of_leaves(op, sample, dargs, dleaves):
    """f(*leaves) -> op output(s), the other arguments fixed (for gradcheck)."""
    ids = {id(t): k for k, t in enumerate(dleaves)}

    def sub(a, xs):
        if isinstance(a, list):
            return [sub(b, xs) for b in a]
        if isinstance(a, dagrad.Tensor) and id(a) in ids:
            return xs[ids[id(a)]]
        return a

    def f(*xs):
        out = op.dagrad_fn(*[sub(a, xs) for a in dargs], **sample.kwargs)
        return tuple(o for o in _flat(out) if isinstance(o, dagrad.Tensor)
                     and o.dtype.is_floating_point)
    return f


def _fast_slow(cases, per_op):
    """The first `per_op` cases of each op run by default; the rest are marked slow."""
    seen, out = {}, []
    for op, i in cases:
        k = seen.get(op.name, 0)
        seen[op.name] = k + 1
        marks = () if k < per_op else (pytest.mark.slow,)
        out.append(pytest.param(op, i, marks=marks, id=f"{op.name}-{i}"))
    return out


GC_CASES = [(op, i) for op, i in CASES if op.grad and op.samples[i].numel() <= op.gradcheck_max_numel]


@pytest.mark.parametrize("op,i", _fast_slow(GC_CASES, 4))
def test_gradcheck(op, i):
    sample = op.samples[i]
    np_args = make_numpy_args(op, sample, "float64")
    dargs, dleaves = to_lib(dagrad, np_args, True)
    if not dleaves:
        return
    f = _func_of_leaves(op, sample, dargs, dleaves)
    try:
        f(*dleaves)
    except Exception:  # error cases are covered by test_forward
        return
    assert gradcheck(f, tuple(dleaves), eps=1e-6, atol=1e-5, rtol=1e-3)


GG_CASES = [(op, i) for op, i in GC_CASES if op.gradgrad and op.samples[i].numel() <= 16]


@pytest.mark.parametrize("op,i", _fast_slow(GG_CASES, 2))
def test_gradgradcheck(op, i):
    sample = op.samples[i]
    np_args = make_numpy_args(op, sample, "float64")
    dargs, dleaves = to_lib(dagrad, np_args, True)
    if not dleaves:
        return
    f = _func_of_leaves(op, sample, dargs, dleaves)
    try:
        outs = f(*dleaves)
    except Exception:
        return
    if not any(o.requires_grad for o in outs):
        return
    assert gradgradcheck(f, tuple(dleaves), eps=1e-6, atol=1e-5, rtol=1e-3)


# ------------------------------------------------------------------ dtype promotion
DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]
PROMO_OPS = [("add", lambda a, b: a + b), ("sub", lambda a, b: a - b),
             ("mul", lambda a, b: a * b), ("div", lambda a, b: a / b),
             ("floordiv", lambda a, b: a // b), ("mod", lambda a, b: a % b),
             ("pow", lambda a, b: a ** b), ("eq", lambda a, b: a == b),
             ("lt", lambda a, b: a < b), ("maximum", None), ("atan2", None),
             ("where", None), ("and", lambda a, b: a & b)]


def _vals(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return np.asarray(rng.random(shape) < 0.5)
    if dtype == "uint8":
        return rng.integers(1, 4, shape).astype(dtype)
    if dtype.startswith("int"):
        return rng.integers(1, 4, shape).astype(dtype)
    return rng.uniform(0.5, 2, shape).astype(dtype)


def _apply(m, name, f, a, b):
    if f is not None:
        return f(a, b)
    if name == "where":
        return m.where(m.tensor([True, False, True]), a, b)
    return getattr(m, name)(a, b)


@pytest.mark.parametrize("name,f", PROMO_OPS, ids=[n for n, _ in PROMO_OPS])
def test_dtype_promotion_tensor_tensor(name, f):
    for da in DTYPES:
        for db in DTYPES:
            for sa, sb in [((3,), (3,)), ((3,), ()), ((), (3,))]:
                xa, xb = _vals(da, sa, 0), _vals(db, sb, 1)
                ta, tb = torch.from_numpy(xa.copy()), torch.from_numpy(xb.copy())
                a, b = dagrad.from_numpy(xa.copy()), dagrad.from_numpy(xb.copy())
                msg = f"{name} {da}{sa} {db}{sb}"
                try:
                    t = _apply(torch, name, f, ta, tb)
                except Exception as e:
                    with pytest.raises(type(e)):
                        _apply(dagrad, name, f, a, b)
                    continue
                d = _apply(dagrad, name, f, a, b)
                assert_same(d, t, 1e-6, 1e-5, msg)


@pytest.mark.parametrize("name,f", PROMO_OPS, ids=[n for n, _ in PROMO_OPS])
def test_dtype_promotion_tensor_scalar(name, f):
    for da in DTYPES:
        for s in [True, 2, 1.5, -3]:
            for rev in (False, True):
                xa = _vals(da, (3,), 0)
                ta, a = torch.from_numpy(xa.copy()), dagrad.from_numpy(xa.copy())
                msg = f"{name} {da} {s!r} reversed={rev}"
                if f is None:
                    if name == "where":
                        continue
                    if name == "maximum":  # torch.maximum takes no python scalars
                        continue
                    if name == "atan2":
                        continue
                args_t = (s, ta) if rev else (ta, s)
                args_d = (s, a) if rev else (a, s)
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        t = f(*args_t)
                except Exception as e:
                    with pytest.raises(type(e)):
                        f(*args_d)
                    continue
                d = f(*args_d)
                assert_same(d, t, 1e-6, 1e-5, msg)


# ------------------------------------------------------------------ hypothesis: broadcasting
BCAST_OPS = [lambda m, a, b: a + b, lambda m, a, b: a * b, lambda m, a, b: m.maximum(a, b),
             lambda m, a, b: m.atan2(a, b), lambda m, a, b: m.where(a > 0, a, b)]


@settings(max_examples=int(__import__('os').environ.get('HYP_N', 25)), deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                 min_side=0, max_side=3),
       k=st.integers(0, len(BCAST_OPS) - 1))
def test_broadcasting_hypothesis(shapes, k):
    f = BCAST_OPS[k]
    sa, sb = shapes.input_shapes
    rng = np.random.default_rng(0)
    xa, xb = rng.uniform(-2, 2, sa), rng.uniform(-2, 2, sb)
    ta = torch.from_numpy(xa.copy()).requires_grad_()
    tb = torch.from_numpy(xb.copy()).requires_grad_()
    a = dagrad.from_numpy(xa.copy()).requires_grad_()
    b = dagrad.from_numpy(xb.copy()).requires_grad_()
    t, d = f(torch, ta, tb), f(dagrad, a, b)
    assert_same(d, t, 1e-10, 1e-8)
    w = rng.uniform(-1, 1, tuple(t.shape))
    (t * torch.from_numpy(w)).sum().backward()
    (d * dagrad.from_numpy(w.copy())).sum().backward()
    assert_same(a.grad, ta.grad, 1e-10, 1e-8, "grad a")
    assert_same(b.grad, tb.grad, 1e-10, 1e-8, "grad b")


@settings(max_examples=int(__import__('os').environ.get('HYP_N', 20)), deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
       data=st.data())
def test_reduction_dims_hypothesis(shape, data):
    nd = len(shape)
    dims = data.draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd,
                              unique_by=lambda d: d % nd))
    keep = data.draw(st.booleans())
    name = data.draw(st.sampled_from(["sum", "mean", "amax", "var", "logsumexp", "norm"]))
    x = np.random.default_rng(0).uniform(-2, 2, shape)
    tx = torch.from_numpy(x.copy()).requires_grad_()
    dx = dagrad.from_numpy(x.copy()).requires_grad_()
    if name == "norm":
        try:
            t = tx.norm(dim=tuple(dims), keepdim=keep)
        except RuntimeError as e:
            with pytest.raises(RuntimeError) as ed:
                dx.norm(dim=tuple(dims), keepdim=keep)
            assert str(ed.value) == str(e)
            return
        d = dx.norm(dim=tuple(dims), keepdim=keep)
    else:
        t = getattr(torch, name)(tx, tuple(dims), keepdim=keep)
        d = getattr(dagrad, name)(dx, tuple(dims), keepdim=keep)
    assert_same(d, t, 1e-10, 1e-8)
    t.sum().backward()
    d.sum().backward()
    assert_same(dx.grad, tx.grad, 1e-10, 1e-8, "grad")


def test_registry_covers_core_list():
    names = {o.name for o in OPS}
    core = """add sub mul div floor_divide remainder pow neg abs sign exp exp2 log log2 log10 log1p
    expm1 sqrt rsqrt square reciprocal sin cos tan asin acos atan atan2 sinh cosh tanh sigmoid relu
    leaky_relu elu gelu gelu_tanh silu softplus hardtanh clamp clip clamp_tensor maximum minimum
    where lerp_scalar lerp_tensor erf floor ceil round trunc frac eq ne lt le gt ge logical_and
    logical_or logical_xor logical_not sum mean prod max min amax amin argmax argmin var std
    logsumexp norm cumsum cumprod all any softmax log_softmax reshape view flatten unflatten
    squeeze unsqueeze permute transpose t expand expand_as broadcast_to repeat tile flip roll cat
    stack split chunk unbind narrow getitem_int getitem_slice_step getitem_none getitem_ellipsis
    getitem_bool_mask getitem_int_tensor getitem_list setitem_int_scalar gather scatter
    scatter_add index_select masked_fill masked_select take nonzero topk sort argsort matmul
    __matmul__ mm bmm mv dot outer einsum_mm tensordot""".split()
    missing = [n for n in core if n not in names]
    assert not missing, missing


# ------------------------------------------------------------------ error messages
ERRORS = {
    "add_shapes": lambda m: m.ones(2, 3) + m.ones(4, 3),
    "mul_shapes": lambda m: m.ones(3) * m.ones(2),
    "maximum_shapes": lambda m: m.maximum(m.ones(2, 1), m.ones(3, 2)),
    "where_shapes": lambda m: m.where(m.ones(2, dtype=m.bool), m.ones(3), m.ones(2)),
    "matmul_mismatch": lambda m: m.ones(2, 3) @ m.ones(4, 2),
    "matmul_0d": lambda m: m.matmul(m.ones(()), m.ones(3)),
    "mm_not_matrix": lambda m: m.mm(m.ones(3), m.ones(3, 2)),
    "bmm_batch": lambda m: m.bmm(m.ones(2, 2, 3), m.ones(3, 3, 4)),
    "dot_sizes": lambda m: m.dot(m.ones(3), m.ones(4)),
    "mv_sizes": lambda m: m.mv(m.ones(2, 3), m.ones(4)),
    "dim_out_of_range": lambda m: m.ones(2, 3).sum(2),
    "dim_out_of_range_neg": lambda m: m.ones(2, 3).softmax(-3),
    "dim_repeated": lambda m: m.ones(2, 3).sum((0, 0)),
    "index_out_of_range": lambda m: m.ones(2, 3)[2],
    "index_out_of_range_dim1": lambda m: m.ones(2, 3)[:, 5],
    "too_many_indices": lambda m: m.ones(2, 3)[0, 0, 0],
    "index_list_out_of_range": lambda m: m.ones(2, 3)[[0, 4]],
    "float_index": lambda m: m.ones(2, 3)[m.tensor([0.0])],
    "negative_step": lambda m: m.ones(4)[::-1],
    "mask_shape": lambda m: m.ones(2, 3)[m.ones(3, dtype=m.bool)],
    "view_noncontig": lambda m: m.ones(2, 3).t().view(6),
    "view_bad_size": lambda m: m.ones(2, 3).view(4),
    "reshape_bad_size": lambda m: m.ones(2, 3).reshape(-1, 4),
    "reshape_two_minus1": lambda m: m.ones(2, 3).reshape(-1, -1),
    "cat_dims": lambda m: m.cat([m.ones(2, 3), m.ones(2, 4)]),
    "cat_ndim": lambda m: m.cat([m.ones(2, 3), m.ones(3)], 1),
    "cat_empty_list": lambda m: m.cat([]),
    "stack_shapes": lambda m: m.stack([m.ones(2), m.ones(3)]),
    "expand_bad": lambda m: m.ones(2, 3).expand(3, 3),
    "expand_fewer_dims": lambda m: m.ones(2, 3).expand(3),
    "permute_bad": lambda m: m.ones(2, 3).permute(0, 0),
    "permute_count": lambda m: m.ones(2, 3).permute(0),
    "squeeze_dim": lambda m: m.ones(2, 3).squeeze(2),
    "transpose_dim": lambda m: m.ones(2, 3).transpose(0, 2),
    "t_3d": lambda m: m.ones(2, 3, 4).t(),
    "split_sizes": lambda m: m.ones(5).split([2, 2]),
    "narrow_out": lambda m: m.ones(5).narrow(0, 3, 4),
    "gather_dims": lambda m: m.ones(2, 3).gather(1, m.zeros(2, dtype=m.int64)),
    "gather_index_dtype": lambda m: m.ones(2, 3).gather(1, m.zeros(2, 1)),
    "gather_out_of_range": lambda m: m.ones(2, 3).gather(1, m.tensor([[5], [0]])),
    "index_select_float": lambda m: m.ones(2, 3).index_select(0, m.tensor([0.0])),
    "index_select_2d": lambda m: m.ones(2, 3).index_select(0, m.tensor([[0]])),
    "masked_fill_nonbool": lambda m: m.ones(2).masked_fill(m.ones(2), 0.0),
    "topk_too_big": lambda m: m.ones(3).topk(4),
    "max_empty": lambda m: m.ones(0).max(),
    "argmax_empty": lambda m: m.ones(0).argmax(),
    "amax_empty_dim": lambda m: m.ones(0, 3).amax(0),
    "clamp_none": lambda m: m.ones(2).clamp(),
    "mean_int": lambda m: m.ones(2, dtype=m.int64).mean(),
    "var_int": lambda m: m.ones(2, dtype=m.int64).var(),
    "softmax_int": lambda m: m.ones(2, dtype=m.int64).softmax(0),
    "item_many": lambda m: m.ones(2).item(),
    "neg_bool": lambda m: -m.ones(2, dtype=m.bool),
    "sub_bool": lambda m: m.ones(2, dtype=m.bool) - m.ones(2, dtype=m.bool),
    "int_pow_neg": lambda m: m.tensor([2, 3]) ** -1,
    "div_mode": lambda m: m.div(m.ones(2), 2, rounding_mode="round"),
    "repeat_fewer": lambda m: m.ones(2, 3).repeat(2),
    "flip_dup": lambda m: m.ones(2, 3).flip(0, 0),
    "unflatten_bad": lambda m: m.ones(2, 6).unflatten(1, (4, 2)),
    "einsum_bad": lambda m: m.einsum("ij,jk->ik", m.ones(2, 3), m.ones(4, 2)),
    "scatter_index_dtype": lambda m: m.ones(2, 3).scatter(1, m.zeros(2, 1), 1.0),
    "take_out_of_range": lambda m: m.ones(2, 3).take(m.tensor([6])),
    "inplace_broadcast_out": lambda m: m.ones(3).add_(m.ones(2, 3)),
    "inplace_int_float": lambda m: m.ones(3, dtype=m.int64).mul_(1.5),
    "tensordot_bad": lambda m: m.tensordot(m.ones(2, 3), m.ones(4, 5), 1),
    "lerp_dtype": lambda m: m.lerp(m.ones(2), m.ones(2, dtype=m.float64), 0.5),
    "atan2_shapes": lambda m: m.atan2(m.ones(12), m.ones(3, 4)),
    "lerp_weight_dtype": lambda m: m.lerp(m.ones(1), m.ones(1), m.tensor([1])),
    "lerp_weight_double": lambda m: m.lerp(m.ones(1), m.ones(1), m.ones(1, dtype=m.float64)),
    "int_floordiv_zero": lambda m: m.tensor([1, 2]) // 0,
    "int_mod_zero": lambda m: m.tensor([1, 2]) % 0,
    "lerp_shapes": lambda m: m.lerp(m.ones(12), m.ones(3, 4), 0.3),
    "lerp_weight_shapes": lambda m: m.lerp(m.ones(3, 4), m.ones(4), m.ones(2, 1, 3)),
    "fmod_shapes": lambda m: m.fmod(m.ones(2, 3), m.ones(4, 3)),
    "remainder_shapes": lambda m: m.remainder(m.ones(2, 1), m.ones(3, 2)),
    "floor_divide_shapes": lambda m: m.ones(5) // m.ones(3, 4),
    "logical_and_shapes": lambda m: m.logical_and(m.ones(2), m.ones(3)),
    "bitwise_and_shapes": lambda m: m.ones(2, dtype=m.int64) & m.ones(3, dtype=m.int64),
    "clamp_tensor_shapes": lambda m: m.ones(12).clamp(m.ones(3, 4), m.ones(3, 4)),
    "eq_shapes": lambda m: m.ones(2, 3) == m.ones(3, 2),
    "pow_shapes": lambda m: m.ones(2, 3) ** m.ones(3, 2),
}


@pytest.mark.parametrize("name", list(ERRORS), ids=list(ERRORS))
def test_error_messages_match_torch(name):
    fn = ERRORS[name]
    with pytest.raises(Exception) as et:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(torch)
    with pytest.raises(Exception) as ed:
        fn(dagrad)
    assert isinstance(ed.value, type(et.value)), (type(ed.value), type(et.value), str(ed.value))
    assert str(ed.value) == str(et.value), f"\ndagrad: {ed.value}\ntorch:  {et.value}"


# ------------------------------------------------------------------ hypothesis: indexing keys
def _index_elem(draw, size):
    kind = draw(st.sampled_from(["int", "slice", "list", "none", "tensor", "mask"]))
    if kind == "int":
        return draw(st.integers(-size, size - 1)), 1
    if kind == "slice":
        a = draw(st.one_of(st.none(), st.integers(-size - 1, size + 1)))
        b = draw(st.one_of(st.none(), st.integers(-size - 1, size + 1)))
        c = draw(st.one_of(st.none(), st.integers(1, 3)))
        return slice(a, b, c), 1
    if kind == "list":
        return draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=4)), 1
    if kind == "tensor":
        return ("T", draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=3))), 1
    if kind == "mask":
        return ("M", draw(st.lists(st.booleans(), min_size=size, max_size=size))), 1
    return None, 0


@st.composite
def _index_keys(draw):
    shape = (3, 4, 5)
    key, dim = [], 0
    ell = False
    while dim < len(shape) and draw(st.booleans()):
        if not ell and draw(st.integers(0, 5)) == 0:
            key.append(Ellipsis)
            ell = True
            dim = len(shape) - 1 if dim < len(shape) - 1 else dim
            continue
        k, used = _index_elem(draw, shape[dim])
        key.append(k)
        dim += used
    return key


def _mk_key(m, key):
    out = []
    for k in key:
        if isinstance(k, tuple) and k[0] == "T":
            out.append(m.tensor(k[1]))
        elif isinstance(k, tuple) and k[0] == "M":
            out.append(m.tensor(k[1]))
        else:
            out.append(k)
    return tuple(out)


@settings(max_examples=int(__import__('os').environ.get('HYP_N', 60)), deadline=None)
@given(key=_index_keys())
def test_getitem_hypothesis(key):
    x = np.random.default_rng(0).uniform(-2, 2, (3, 4, 5))
    tx = torch.from_numpy(x.copy()).requires_grad_()
    dx = dagrad.from_numpy(x.copy()).requires_grad_()
    try:
        t = tx[_mk_key(torch, key)]
    except Exception as e:
        with pytest.raises(type(e)):
            dx[_mk_key(dagrad, key)]
        return
    d = dx[_mk_key(dagrad, key)]
    assert_same(d, t, 0, 0, f"key {key}")
    w = np.random.default_rng(1).uniform(-1, 1, tuple(t.shape))
    (t * torch.from_numpy(w)).sum().backward()
    (d * dagrad.from_numpy(w.copy())).sum().backward()
    assert_same(dx.grad, tx.grad, 1e-12, 1e-12, f"grad of key {key}")


@settings(max_examples=int(__import__('os').environ.get('HYP_N', 40)), deadline=None)
@given(key=_index_keys())
def test_setitem_hypothesis(key):
    x = np.random.default_rng(0).uniform(-2, 2, (3, 4, 5))
    tx, dx = torch.from_numpy(x.copy()), dagrad.from_numpy(x.copy())
    try:
        shape = tuple(tx[_mk_key(torch, key)].shape)
    except Exception:
        return
    v = np.random.default_rng(2).uniform(-1, 1, shape[-1:] if shape else ())
    tv = torch.from_numpy(v.copy()).requires_grad_()
    dv = dagrad.from_numpy(v.copy()).requires_grad_()
    ty, dy = tx.clone().requires_grad_(), dx.clone().requires_grad_()
    ty2, dy2 = ty * 1, dy * 1
    try:
        ty2[_mk_key(torch, key)] = tv
    except Exception as e:
        with pytest.raises(type(e)):
            dy2[_mk_key(dagrad, key)] = dv
        return
    dy2[_mk_key(dagrad, key)] = dv
    assert_same(dy2, ty2, 0, 0, f"key {key}")
    w = np.random.default_rng(1).uniform(-1, 1, (3, 4, 5))
    (ty2 * torch.from_numpy(w)).sum().backward()
    (dy2 * dagrad.from_numpy(w.copy())).sum().backward()
    assert_same(dy.grad, ty.grad, 1e-12, 1e-12, f"grad x, key {key}")
    if tv.grad is not None:
        assert_same(dv.grad, tv.grad, 1e-12, 1e-12, f"grad v, key {key}")


def test_var_std_zero_dof_warning_matches_torch():
    for name in ["var", "std"]:
        msgs = []
        for m in (torch, dagrad):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                r = getattr(m.ones(1), name)()
            assert np.isnan(r.item())
            msgs.append([str(x.message) for x in w])
        assert msgs[1] == msgs[0]
