"""torch.bfloat16: a real 16-bit brain float (ml_dtypes' NumPy bfloat16), checked against torch 2.13.

Tolerances: torch computes CPU bfloat16 ops in float32 and rounds the result once to bfloat16;
dagrad does the same (ml_dtypes' ufunc loops also go through float32). Elementwise results are
compared to within 1 bfloat16 ulp of torch's (most are bit-identical), reductions / matmul /
softmax / nn layers (different accumulation order) to within a few ulps, stated per test.
"""
import math
import pickle
import subprocess
import sys
import zlib

import numpy as np
import pytest
import torch

import dagrad

ml_dtypes = pytest.importorskip("ml_dtypes")
BF = dagrad.bfloat16


def ulp(x):
    """The bfloat16 spacing at |x| (8 significand bits), floored at the smallest normal."""
    ax = np.maximum(np.abs(np.asarray(x, np.float64)), 2.0 ** -126)
    return 2.0 ** (np.floor(np.log2(ax)) - 7)


def f32(t):
    """A dagrad or torch tensor's values as a float64 NumPy array (via float32)."""
    if isinstance(t, torch.Tensor):
        return t.detach().float().numpy().astype(np.float64)
    return t.detach().float().numpy().astype(np.float64)


def assert_ulps(d, t, n=1, msg="", scale="elem"):
    """|d - t| <= n bfloat16 ulps, per element (scale="elem") or of the largest |t| (scale="max":
    for sums of products, where cancellation leaves small results with large absolute error)."""
    assert str(d.dtype) == str(t.dtype), f"{msg}: dtype {d.dtype} != {t.dtype}"
    assert tuple(d.shape) == tuple(t.shape), msg
    a, b = f32(d), f32(t)
    fin = np.isfinite(b)
    assert np.array_equal(np.isfinite(a), fin), f"{msg}: non-finite pattern differs"
    assert np.array_equal(a[~fin], b[~fin], equal_nan=True), msg
    err = np.abs(a[fin] - b[fin])
    if scale == "max":
        tol = n * ulp(np.abs(b[fin]).max()) if err.size else 0
    else:
        tol = n * ulp(np.maximum(np.abs(a[fin]), np.abs(b[fin])))
    assert np.all(err <= tol), f"{msg}: max error {err.max()} ({(err / tol).max() * n:.2f} ulps)"


def pair(*arrays, grad=False):
    """The same float32 arrays as bfloat16 leaves in dagrad and in torch."""
    ds = [dagrad.from_numpy(np.array(a, np.float32)).bfloat16().requires_grad_(grad) for a in arrays]
    ts = [torch.from_numpy(np.array(a, np.float32)).bfloat16().requires_grad_(grad) for a in arrays]
    return ds, ts


RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _own_rng(request):
    """Each test draws from its own generator, seeded by its name: its inputs do not depend on
    which tests ran before it in the same process (pytest -k, xdist's scheduling)."""
    global RNG
    RNG = np.random.default_rng(zlib.crc32(request.node.name.encode()))


# ---------------------------------------------------------------- the dtype object
def test_dtype_object():
    assert BF is not dagrad.float16 and BF is not dagrad.float32
    assert str(BF) == repr(BF) == "torch.bfloat16"
    assert BF.is_floating_point and not BF.is_complex and BF.is_signed
    assert BF.itemsize == 2
    assert pickle.loads(pickle.dumps(BF)) is BF
    x = dagrad.ones(2, dtype=BF)
    assert x.dtype is BF and x.is_floating_point() and x.element_size() == 2
    assert x.dtype == BF and x.dtype != dagrad.float16


def test_finfo_matches_torch():
    a, b = dagrad.finfo(BF), torch.finfo(torch.bfloat16)
    for k in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(a, k) == getattr(b, k), k
    assert repr(a) == repr(b)


DTS = ["bfloat16", "float16", "float32", "float64", "int64", "int32", "uint8", "bool",
       "complex64", "complex128"]


@pytest.mark.parametrize("other", DTS)
def test_promote_types_and_can_cast(other):
    tb, db = torch.bfloat16, BF
    to, do = getattr(torch, other), getattr(dagrad, other)
    assert str(dagrad.promote_types(db, do)) == str(torch.promote_types(tb, to))
    assert str(dagrad.promote_types(do, db)) == str(torch.promote_types(to, tb))
    assert dagrad.can_cast(db, do) == torch.can_cast(tb, to)
    assert dagrad.can_cast(do, db) == torch.can_cast(to, tb)


@pytest.mark.parametrize("other", DTS)
def test_result_type_and_binary_dtype(other):
    d = dagrad.ones(3, dtype=BF)
    t = torch.ones(3, dtype=torch.bfloat16)
    do, to = dagrad.ones(3, dtype=getattr(dagrad, other)), torch.ones(3, dtype=getattr(torch, other))
    assert str(dagrad.result_type(d, do)) == str(torch.result_type(t, to))
    assert str((d + do).dtype) == str((t + to).dtype)
    assert str((do * d).dtype) == str((to * t).dtype)
    # 0-dim operands only raise the category
    d0, t0 = dagrad.tensor(1, dtype=getattr(dagrad, other)), torch.tensor(1, dtype=getattr(torch, other))
    assert str((d + d0).dtype) == str((t + t0).dtype)
    d0, t0 = dagrad.tensor(1, dtype=BF), torch.tensor(1, dtype=torch.bfloat16)
    assert str((do + d0).dtype) == str((to + t0).dtype)


@pytest.mark.parametrize("s", [2, 2.5, True, 1j, -3])
def test_python_scalar_promotion(s):
    d, t = dagrad.ones(3, dtype=BF), torch.ones(3, dtype=torch.bfloat16)
    assert str(dagrad.result_type(d, s)) == str(torch.result_type(t, s))
    fs = [lambda x: x + s, lambda x: x * s, lambda x: x / s]
    if not isinstance(s, bool):
        fs.append(lambda x: s - x)
    for f in fs:
        assert str(f(d).dtype) == str(f(t).dtype)
    di, ti = dagrad.ones(3, dtype=dagrad.int64), torch.ones(3, dtype=torch.int64)
    assert str((di + dagrad.tensor(1.5, dtype=BF)).dtype) == \
        str((ti + torch.tensor(1.5, dtype=torch.bfloat16)).dtype)


def test_set_default_dtype_bfloat16():
    old = dagrad.get_default_dtype()
    try:
        dagrad.set_default_dtype(BF)
        torch.set_default_dtype(torch.bfloat16)
        try:
            assert dagrad.get_default_dtype() is BF
            assert dagrad.tensor(1.5).dtype is BF and dagrad.ones(2).dtype is BF
            assert dagrad.randn(2).dtype is BF
            assert str((dagrad.ones(2, dtype=dagrad.int64) + 1.5).dtype) == \
                str((torch.ones(2, dtype=torch.int64) + 1.5).dtype)
            assert str(dagrad.arange(3.0).dtype) == str(torch.arange(3.0).dtype)
            assert repr(dagrad.tensor([1.5, 2.0])) == repr(torch.tensor([1.5, 2.0]))
            assert repr(dagrad.tensor([1.5], dtype=dagrad.float32)) == \
                repr(torch.tensor([1.5], dtype=torch.float32))
            for m in (torch, dagrad):  # PyTorch has no complex type for a bfloat16 default
                with pytest.raises(RuntimeError, match="invalid default scalar type for complex"):
                    m.tensor([1j])
                assert str(m.tensor([1j], dtype=m.complex64).dtype) == "torch.complex64"
                assert str((m.ones(2) + 1j).dtype) == "torch.complex64"
        finally:
            torch.set_default_dtype(torch.float32)
    finally:
        dagrad.set_default_dtype(old)


# ---------------------------------------------------------------- creation / conversion
def test_creation_and_conversion():
    vals = [1.0, 2.5, 1 / 3, -1e30, 3e38, 65504.0 * 4, 1e-40]
    d, t = dagrad.tensor(vals, dtype=BF), torch.tensor(vals, dtype=torch.bfloat16)
    assert d.dtype is BF
    # bit-exact rounding (round to nearest even), range of float32 (not float16's 65504)
    np.testing.assert_array_equal(f32(d), f32(t))
    assert np.isfinite(f32(d)[4]) and f32(d)[5] == 262144.0
    for name in ("zeros", "ones", "empty"):
        assert getattr(dagrad, name)(2, 3, dtype=BF).dtype is BF
    np.testing.assert_array_equal(f32(dagrad.full((3,), 3.3, dtype=BF)),
                                  f32(torch.full((3,), 3.3, dtype=torch.bfloat16)))
    np.testing.assert_array_equal(f32(dagrad.arange(0, 300, 7, dtype=BF)),
                                  f32(torch.arange(0, 300, 7, dtype=torch.bfloat16)))
    for a, b, n in [(0, 1, 7), (-3.3, 100.7, 57), (-100, -2, 101)]:
        np.testing.assert_array_equal(f32(dagrad.linspace(a, b, n, dtype=BF)),
                                      f32(torch.linspace(a, b, n, dtype=torch.bfloat16)))
    for fn in ("rand", "randn"):
        r = getattr(dagrad, fn)(1000, dtype=BF)
        assert r.dtype is BF and r.float().std().item() > 0.2
    x = dagrad.tensor([1.0, 2.5, 1 / 3])
    assert x.bfloat16().dtype is BF and x.to(BF).dtype is BF
    assert x.type(dagrad.BFloat16Tensor).dtype is BF and x.type("torch.BFloat16Tensor").dtype is BF
    assert x.bfloat16().type() == "torch.BFloat16Tensor"
    assert isinstance(x.bfloat16(), dagrad.BFloat16Tensor)
    b = x.bfloat16()
    assert b.float().dtype is dagrad.float32 and b.half().dtype is dagrad.float16
    assert b.double().dtype is dagrad.float64 and b.long().dtype is dagrad.int64
    np.testing.assert_array_equal(f32(b), f32(torch.tensor([1.0, 2.5, 1 / 3]).bfloat16()))
    np.testing.assert_array_equal(f32(b.half()), f32(torch.tensor([1.0, 2.5, 1 / 3]).bfloat16().half()))
    assert b.tolist() == torch.tensor([1.0, 2.5, 1 / 3]).bfloat16().tolist()
    assert b[1].item() == 2.5 and isinstance(b[1].item(), float)
    assert dagrad.zeros_like(b).dtype is BF and dagrad.ones_like(x, dtype=BF).dtype is BF


def test_numpy_refuses_bfloat16_like_torch():
    with pytest.raises(TypeError) as tt:
        torch.ones(2, dtype=torch.bfloat16).numpy()
    with pytest.raises(TypeError) as td:
        dagrad.ones(2, dtype=BF).numpy()
    assert str(td.value) == str(tt.value) == "Got unsupported ScalarType BFloat16"
    a = np.ones(2, ml_dtypes.bfloat16)
    with pytest.raises(TypeError):
        torch.from_numpy(a)
    for m in (torch, dagrad):
        for f in (m.from_numpy, m.tensor, m.as_tensor):
            with pytest.raises(TypeError, match="ml_dtypes.bfloat16"):
                f(a)


def test_requires_grad_and_leaf_grad_dtype():
    x = dagrad.randn(3, dtype=BF, requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.dtype is BF
    np.testing.assert_array_equal(f32(x.grad), f32(2 * x.detach()))


def test_printing_like_torch():
    cases = [[1.0, 2.5, 1 / 3], [1e10, 1e-3], [0.0, -0.0, float("inf"), float("nan")], [3.0],
             [[1.5, 2], [3, 4e5]], list(np.linspace(-5, 5, 2000))]
    for v in cases:
        assert repr(dagrad.tensor(v, dtype=BF)) == repr(torch.tensor(v, dtype=torch.bfloat16)), v
    assert repr(dagrad.tensor(2.5, dtype=BF)) == repr(torch.tensor(2.5, dtype=torch.bfloat16))
    assert repr(dagrad.ones(2, dtype=BF, requires_grad=True)) == \
        repr(torch.ones(2, dtype=torch.bfloat16, requires_grad=True))
    assert repr(dagrad.zeros(0, dtype=BF)) == repr(torch.zeros(0, dtype=torch.bfloat16))


# ---------------------------------------------------------------- ops vs torch
UNARY = ["exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "abs", "neg", "relu",
         "exp2", "expm1", "log1p", "log2", "log10", "reciprocal", "erf", "floor", "ceil", "round",
         "trunc", "sign", "square", "atan", "asinh", "sinh", "cosh", "frac"]


@pytest.mark.parametrize("name", UNARY)
def test_unary_forward_backward(name):
    """Forward within 1 bf16 ulp of torch (both: float32 math, one rounding). Gradient within 4
    ulps: dagrad runs each backward rule in float32 and rounds the leaf's gradient once; torch
    rounds every node's gradient to bf16 (and rules reading the bf16-rounded output, e.g.
    tanh's 1 - y**2, amplify that rounding)."""
    x = RNG.uniform(0.1, 3.0, (4, 5)) * RNG.choice([-1, 1], (4, 5))
    if name in ("log", "sqrt", "rsqrt", "log1p", "log2", "log10"):
        x = np.abs(x)
    (d,), (t,) = pair(x, grad=True)
    fd, ft = getattr(dagrad, name)(d), getattr(torch, name)(t)
    assert_ulps(fd, ft, 1, name)
    g = RNG.standard_normal((4, 5))
    (gd,), (gt,) = pair(g)
    if ft.grad_fn is None:
        return
    fd.backward(gd)
    ft.backward(gt)
    assert d.grad.dtype is BF
    # rsqrt: torch's -0.5 * g * y**3 rounds y (bf16) and each product: up to ~6 ulps here
    assert_ulps(d.grad, t.grad, 8 if name == "rsqrt" else 4, name + " grad")


BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "pow": lambda a, b: a.abs() ** b,
          "maximum": lambda a, b: (torch if isinstance(a, torch.Tensor) else dagrad).maximum(a, b),
          "atan2": lambda a, b: (torch if isinstance(a, torch.Tensor) else dagrad).atan2(a, b),
          "scalar": lambda a, b: a * 2.5 + 1 - b / 3}


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_forward_backward_broadcast(name):
    f = BINARY[name]
    a, b = RNG.uniform(0.5, 2, (3, 4)), RNG.uniform(0.5, 2, (4,))
    (da, db), (ta, tb) = pair(a, b, grad=True)
    fd, ft = f(da, db), f(ta, tb)
    assert_ulps(fd, ft, 1, name)
    fd.sum().backward()
    ft.sum().backward()
    assert da.grad.dtype is BF and db.grad.dtype is BF
    assert_ulps(da.grad, ta.grad, 2, name + " grad a")
    assert_ulps(db.grad, tb.grad, 4, name + " grad b (summed over 3 rows)")


_EXACT = {
    "mul_s": lambda a, b: a * 0.3, "div_s": lambda a, b: a / 0.3, "rdiv": lambda a, b: 0.3 / a,
    "mul_int": lambda a, b: a * 257, "add_s": lambda a, b: a + 0.001,
    "sub_s": lambda a, b: a - 0.0123, "rsub": lambda a, b: 1.1 - a, "add_int": lambda a, b: a + 257,
    "add_alpha": lambda a, b: a.add(0.3, alpha=0.7), "sub_alpha": lambda a, b: a.sub(0.3, alpha=0.7),
    "add_t_alpha": lambda a, b: a.add(b, alpha=0.3), "sub_t_alpha": lambda a, b: a.sub(b, alpha=0.3),
    "imul": lambda a, b: a.clone().mul_(0.3), "iadd": lambda a, b: a.clone().add_(0.3),
    "iadd_alpha": lambda a, b: a.clone().add_(b, alpha=0.3), "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b, "div": lambda a, b: a / b, "clamp": lambda a, b: a.clamp(-0.3, 0.7),
    "pow_s": lambda a, b: a.abs() ** 0.3, "maximum": lambda a, b: a.maximum(b),
    "exp": lambda a, b: (a / 1000).exp(), "tanh": lambda a, b: a.tanh(),
    "log": lambda a, b: a.abs().log(), "sqrt": lambda a, b: a.abs().sqrt(),
}


@pytest.mark.parametrize("name", list(_EXACT))
def test_elementwise_bit_exact_on_wide_range(name):
    """On 20000 values spanning e^-8..e^8: bit-identical to torch. PyTorch rounds add/sub's
    Python scalar and alpha to bfloat16 but keeps mul/div's scalar in float32; dagrad follows."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(20000) * np.exp(rng.uniform(-8, 8, 20000))
    y = rng.standard_normal(20000) * np.exp(rng.uniform(-8, 8, 20000))
    (dx, dy), (tx, ty) = pair(x, y)
    rd, rt = _EXACT[name](dx, dy), _EXACT[name](tx, ty)
    assert str(rd.dtype) == str(rt.dtype)
    np.testing.assert_array_equal(f32(rd), f32(rt))


def test_backward_twice_and_double_backward():
    """bf16 rules read their saved tensors as float32 only during the call: the graph can be
    run again (retain_graph) with the same result, saved tensors stay bf16, and double backward
    works (compared with torch)."""
    res = []
    for m in (dagrad, torch):
        x = m.tensor([0.5, -1.25, 2.0, 3.5], dtype=m.bfloat16, requires_grad=True)
        y = (x.tanh() * x.sigmoid()).sum() + (x @ x)
        g1, = m.autograd.grad(y, x, retain_graph=True)
        g2, = m.autograd.grad(y, x, retain_graph=True)
        assert g1.dtype == m.bfloat16 and x.dtype == m.bfloat16
        assert g1.tolist() == g2.tolist()
        gg, = m.autograd.grad((x.tanh() * x).sum(), x, create_graph=True)
        h, = m.autograd.grad(gg.sum(), x)
        res.append((g1.float().tolist(), h.float().tolist(), str(h.dtype)))
    (a1, ah, ad), (b1, bh, bd) = res
    assert ad == bd == "torch.bfloat16"
    np.testing.assert_allclose(a1, b1, rtol=2 ** -7)
    np.testing.assert_allclose(ah, bh, rtol=2 ** -6, atol=2 ** -8)


def test_mixed_dtype_gradients_keep_leaf_dtypes():
    a = dagrad.randn(3, dtype=BF, requires_grad=True)
    b = dagrad.randn(3, dtype=dagrad.float16, requires_grad=True)
    c = dagrad.randn(3, requires_grad=True)
    out = a * b + c
    assert out.dtype is dagrad.float32
    out.sum().backward()
    assert a.grad.dtype is BF and b.grad.dtype is dagrad.float16 and c.grad.dtype is dagrad.float32


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "amax", "amin", "var", "std", "norm",
                                  "logsumexp", "softmax", "log_softmax", "cumsum"])
def test_reductions(name):
    """Reductions accumulate in float32 and round once (as torch's CPU kernels): <= 2 ulps.
    Gradients: within 2 ulps of the largest gradient (cancellation in softmax-like rules)."""
    x = RNG.standard_normal((8, 300)) * 3
    if name == "prod":
        x = RNG.uniform(0.9, 1.1, (8, 30))
    (d,), (t,) = pair(x, grad=True)
    kw = {} if name in ("norm",) else {"dim": 1}
    fd, ft = getattr(d, name)(**kw), getattr(t, name)(**kw)
    if name == "prod":  # torch rounds partial products to bf16 (4 ulps off on some rows);
        exact = getattr(t.detach().double(), name)(**kw)  # dagrad: the float32 product,
        assert_ulps(fd, exact.bfloat16(), 1, "prod vs float64")  # rounded once
        assert_ulps(fd, ft, 6, name)
    else:
        assert_ulps(fd, ft, 2, name)
    full = getattr(d, name)() if name not in ("softmax", "log_softmax", "cumsum", "logsumexp") \
        else None
    if full is not None and name != "prod":
        assert_ulps(full, getattr(t, name)(), 2, name + " full")
    if name == "prod":  # torch's full bf16 prod rounds partial products (13 ulps off on this
        exact = getattr(t.detach().double(), name)()  # input); dagrad: correctly rounded
        assert_ulps(full, exact.bfloat16(), 0, "prod full vs float64")
    w = RNG.standard_normal(ft.shape)
    (wd,), (wt,) = pair(w)
    (fd * wd).sum().backward()
    (ft * wt).sum().backward()
    assert d.grad.dtype is BF
    # prod's rule divides the bf16-rounded product by x: 4 ulps; logsumexp's exp(x - lse) reads
    # the bf16-rounded lse (~8 here: 2**-5 absolute) and torch rounds x - lse first: 8 ulps
    tol = {"prod": 4, "logsumexp": 8}.get(name, 2)
    assert_ulps(d.grad, t.grad, tol, name + " grad", scale="max")


def test_scatter_accumulation_like_torch():
    """scatter_add / scatter_reduce accumulate in float32 in PyTorch (4096 x 1.0078 -> 4128);
    index_add / index_put(accumulate=True) accumulate in bf16 there (-> 512): dagrad matches."""
    res = []
    for m in (dagrad, torch):
        src = (m.ones(4096, dtype=m.bfloat16) * 1.0078125).requires_grad_()
        i = m.zeros(4096, dtype=m.int64)
        z = m.zeros(1, dtype=m.bfloat16)
        outs = [z.scatter_add(0, i, src), z.scatter_reduce(0, i, src, "sum"),
                z.scatter_reduce(0, i, src, "mean"),
                z.scatter_reduce(0, i, src, "amax", include_self=False),
                z.index_add(0, i, src), z.index_put((i,), src, accumulate=True)]
        sum(outs).sum().backward()
        res.append(([o.item() for o in outs], [str(o.dtype) for o in outs], src.grad[:3].tolist(),
                    str(src.grad.dtype)))
    assert res[0] == res[1]


def test_embedding_bag_mean_of_many():
    """embedding_bag in bf16: float32 sums (bf16 index_add accumulation gave -0.256 for -0.918).
    Its gradient is the exact 0.5 (torch 2.13's own bf16 backward gives 0.25 here)."""
    x = np.random.default_rng(0).standard_normal((2, 4096))
    (d,), (t,) = pair(x, grad=True)
    idx = [[0, 1] * 1000]
    od = dagrad.nn.functional.embedding_bag(dagrad.tensor(idx), d)
    ot = torch.nn.functional.embedding_bag(torch.tensor(idx), t)
    assert_ulps(od, ot, 1, "embedding_bag")
    exact = torch.nn.functional.embedding_bag(torch.tensor(idx), t.detach().double())
    assert_ulps(od, exact.bfloat16(), 0, "vs float64")
    od.sum().backward()
    assert d.grad.dtype is BF and np.all(f32(d.grad) == 0.5)


def test_large_pools_and_losses_accumulate_in_float32():
    """avg/adaptive pooling and cross-entropy over thousands of bf16 values: float32 sums (bf16
    accumulation gave 0.0625 for a mean of 1.008 and a cross-entropy of 7.1 for 1.98)."""
    rng = np.random.default_rng(0)
    x = 1 + rng.random(8192) / 64
    X, Y = rng.standard_normal((4096, 5)), rng.integers(0, 5, 4096)
    (dx, dX), (tx, tX) = pair(x, X)
    fs = [lambda m, t, T: m.nn.functional.avg_pool1d(t.reshape(1, 1, -1), 8192),
          lambda m, t, T: m.nn.functional.avg_pool2d(t.reshape(1, 1, 64, 128), 4),
          lambda m, t, T: m.nn.functional.adaptive_avg_pool1d(t.reshape(1, 1, -1), 1),
          lambda m, t, T: m.nn.functional.adaptive_avg_pool2d(t.reshape(1, 2, 64, 64), 3),
          lambda m, t, T: m.nn.functional.cross_entropy(T, m.tensor(Y)),
          lambda m, t, T: m.nn.functional.nll_loss(T.log_softmax(1), m.tensor(Y), reduction="sum")]
    for i, f in enumerate(fs):
        assert_ulps(f(dagrad, dx, dX), f(torch, tx, tX), 1, f"case {i}")
    # weighted cross-entropy: dagrad is the correctly rounded value (torch's bf16 kernel is not)
    w = rng.random(5)
    (dw,), (tw,) = pair(w)
    got = dagrad.nn.functional.cross_entropy(dX, dagrad.tensor(Y), weight=dw)
    exact = torch.nn.functional.cross_entropy(tX.double(), torch.tensor(Y), weight=tw.double())
    assert_ulps(got, exact.bfloat16(), 0, "weighted cross-entropy vs float64")


def test_sum_of_many_is_accumulated_in_float32():
    """ml_dtypes' own add.reduce would round after every step: 4096 ones + 0.01s drift."""
    x = np.full(4096, 1.0 + 1 / 64)
    (d,), (t,) = pair(x)
    assert_ulps(d.sum(), t.sum(), 1, "sum")
    assert_ulps(d.mean(), t.mean(), 1, "mean")
    assert f32(d.sum()) == f32(t.sum())
    # dtype=bfloat16 on a float32 input: cast, then float32 accumulation (was 512 and 0.125)
    xf, xt = dagrad.tensor(x.astype(np.float32)), torch.tensor(x.astype(np.float32))
    for f in (lambda m, v: v.sum(dtype=m.bfloat16), lambda m, v: v.mean(dtype=m.bfloat16),
              lambda m, v: v.sum(0, dtype=m.bfloat16), lambda m, v: v.cumsum(0, dtype=m.bfloat16)):
        assert_ulps(f(dagrad, xf), f(torch, xt), 0, "dtype=bfloat16")


@pytest.mark.parametrize("shapes", [((16, 64), (64, 8)), ((2, 5, 33), (33, 7)), ((40,), (40,)),
                                    ((3, 4, 50), (3, 50, 6))])
def test_matmul(shapes):
    """float32 accumulation, one rounding: within 1 ulp of torch per element, except where
    cancellation leaves a result far below the products' size: 1 ulp of the largest |result|."""
    a, b = RNG.standard_normal(shapes[0]), RNG.standard_normal(shapes[1])
    (da, db), (ta, tb) = pair(a, b, grad=True)
    fd, ft = da @ db, ta @ tb
    assert_ulps(fd, ft, 1, "matmul", scale="max")
    g = RNG.standard_normal(ft.shape)
    (gd,), (gt,) = pair(g)
    fd.backward(gd)
    ft.backward(gt)
    assert da.grad.dtype is BF and db.grad.dtype is BF
    assert_ulps(da.grad, ta.grad, 1, "matmul grad a", scale="max")
    assert_ulps(db.grad, tb.grad, 1, "matmul grad b", scale="max")


def test_matmul_mixed_dtype_error_like_torch():
    with pytest.raises(RuntimeError) as et:
        torch.ones(2, 2, dtype=torch.bfloat16) @ torch.ones(2, 2)
    with pytest.raises(RuntimeError) as ed:
        dagrad.ones(2, 2, dtype=BF) @ dagrad.ones(2, 2)
    assert str(ed.value) == str(et.value)


def test_indexing_movement_and_cat():
    x = RNG.standard_normal((4, 6))
    (d,), (t,) = pair(x, grad=True)
    fs = [lambda m, a: a[1:3, ::2], lambda m, a: a.t().reshape(3, 8), lambda m, a: a[[0, 2]],
          lambda m, a: m.cat([a, a * 2], 0), lambda m, a: m.stack([a, a]).permute(1, 0, 2),
          lambda m, a: m.where(a > 0, a, m.zeros_like(a)), lambda m, a: a.clamp(-0.5, 0.5),
          lambda m, a: a.masked_fill(a < 0, 1.5), lambda m, a: a.flip(0).roll(1, 1)]
    for i, f in enumerate(fs):
        fd, ft = f(dagrad, d), f(torch, t)
        assert_ulps(fd, ft, 0, f"movement {i}")
    assert str((d > 0).dtype) == "torch.bool" and (d > 0).tolist() == (t > 0).tolist()


_INPLACE = {
    "add_s": lambda m, x, f: x.add_(1.5), "mul_s": lambda m, x, f: x.mul_(0.3),
    "mul_f32": lambda m, x, f: x.mul_(f), "div_": lambda m, x, f: x.div_(3),
    "iadd_f32": lambda m, x, f: x.__iadd__(f), "zero_": lambda m, x, f: x.zero_(),
    "fill_": lambda m, x, f: x.fill_(0.1), "clamp_": lambda m, x, f: x.clamp_(0, 1),
    "exp_": lambda m, x, f: x.exp_(), "copy_": lambda m, x, f: x.copy_(f),
    "setitem": lambda m, x, f: x.__setitem__(0, 7.77),
    "setitem_t": lambda m, x, f: x.__setitem__(slice(0, 2), f[:2]),
    "masked_fill_": lambda m, x, f: x.masked_fill_(x > 0, 0.3),
    "sub_": lambda m, x, f: x.sub_(f, alpha=2), "addcmul_": lambda m, x, f: x.addcmul_(f, f, value=3),
    "lerp_": lambda m, x, f: x.lerp_(x * 2, 0.3), "sqrt_": lambda m, x, f: x.abs_().sqrt_(),
    "sigmoid_": lambda m, x, f: x.sigmoid_(),
}


@pytest.mark.parametrize("name", list(_INPLACE))
def test_inplace_ops_bit_exact(name):
    """In-place ops on a bf16 tensor (float32 operands cast in): bf16 result, bit-equal to torch."""
    res = []
    for m in (dagrad, torch):
        x = m.tensor([1.0, 2.5, -3.3, 0.01], dtype=m.bfloat16)
        f = m.tensor([0.1, 0.2, 0.3, -7.0])
        _INPLACE[name](m, x, f)
        assert str(x.dtype) == "torch.bfloat16"
        res.append(x.float().tolist())
    assert res[0] == res[1]


_NO_KERNEL = {
    "quantile": lambda m, t: t.quantile(0.3), "cdist": lambda m, t: m.cdist(t, t),
    "inv": lambda m, t: m.linalg.inv(t[:, :3]), "det": lambda m, t: m.linalg.det(t[:, :3]),
    "svdvals": lambda m, t: m.linalg.svdvals(t),
    "multi_margin": lambda m, t: m.nn.functional.multi_margin_loss(t, m.tensor([1, 2, 0])),
    "multilabel_margin": lambda m, t: m.nn.functional.multilabel_margin_loss(
        t, m.tensor([[1, 2, -1, 0, 0]] * 3)),
    "ctc": lambda m, t: m.nn.functional.ctc_loss(
        t.reshape(3, 1, 5).log_softmax(2), m.tensor([[1, 2]]), m.tensor([3]), m.tensor([2])),
}


@pytest.mark.parametrize("name", list(_NO_KERNEL))
def test_unsupported_ops_raise_like_torch(name):
    """Ops PyTorch's CPU build has no bfloat16 kernel for: same exception type and message."""
    fs = _NO_KERNEL
    (d,), (t,) = pair(RNG.standard_normal((3, 5)))
    with pytest.raises(Exception) as et:
        fs[name](torch, t)
    with pytest.raises(Exception) as ed:
        fs[name](dagrad, d)
    assert type(ed.value) is type(et.value) and str(ed.value) == str(et.value)


# ---------------------------------------------------------------- nn
def test_module_bfloat16_linear_forward_backward():
    """nn.Linear in bf16: output and all gradients within 2 bf16 ulps of torch."""
    tl = torch.nn.Linear(64, 16)
    dl = dagrad.nn.Linear(64, 16)
    dl.load_state_dict({k: dagrad.tensor(v.detach().numpy()) for k, v in tl.state_dict().items()})
    assert dl.bfloat16() is dl
    tl.bfloat16()
    assert dl.weight.dtype is BF and dl.bias.dtype is BF
    x = RNG.standard_normal((10, 64))
    (dx,), (tx,) = pair(x, grad=True)
    yd, yt = dl(dx), tl(tx)
    assert_ulps(yd, yt, 2, "linear")
    g = RNG.standard_normal((10, 16))
    (gd,), (gt,) = pair(g)
    yd.backward(gd)
    yt.backward(gt)
    assert_ulps(dx.grad, tx.grad, 2, "linear dx")
    assert_ulps(dl.weight.grad, tl.weight.grad, 2, "linear dW")
    assert_ulps(dl.bias.grad, tl.bias.grad, 2, "linear db")
    assert dl.weight.grad.dtype is BF


def test_conv2d_forward_backward():
    tc = torch.nn.Conv2d(3, 4, 3, padding=1)
    dc = dagrad.nn.Conv2d(3, 4, 3, padding=1)
    dc.load_state_dict({k: dagrad.tensor(v.detach().numpy()) for k, v in tc.state_dict().items()})
    tc.bfloat16()
    dc.bfloat16()
    x = RNG.standard_normal((2, 3, 8, 8))
    (dx,), (tx,) = pair(x, grad=True)
    yd, yt = dc(dx), tc(tx)
    assert_ulps(yd, yt, 2, "conv2d")
    g = RNG.standard_normal(tuple(yt.shape))
    (gd,), (gt,) = pair(g)
    yd.backward(gd)
    yt.backward(gt)
    assert dc.weight.grad.dtype is BF
    assert_ulps(dx.grad, tx.grad, 2, "conv dx")
    assert_ulps(dc.weight.grad, tc.weight.grad, 3, "conv dW")
    assert_ulps(dc.bias.grad, tc.bias.grad, 2, "conv db")


def test_cnn_train_steps_match_torch():
    """Conv-BN-ReLU-MaxPool-Linear-LayerNorm-GELU-Linear in bf16 (Module.to(bfloat16)), three SGD
    steps on cross-entropy: losses within 1 bf16 ulp, parameters within 4 ulps of their largest
    entry plus 5e-4 (lr 0.1 times a few ulps of O(1) gradient sums: BatchNorm's bias starts at 0,
    and its gradient is a cancelling sum, accumulated in another order than torch's)."""
    def build(m):
        nn = m.nn
        return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 10),
                             nn.LayerNorm(10), nn.GELU(), nn.Linear(10, 5))
    tm, dm = build(torch), build(dagrad)
    dm.load_state_dict({k: dagrad.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    tm.to(torch.bfloat16)
    assert dm.to(BF) is dm
    assert {str(b.dtype) for b in dm.buffers()} == {str(b.dtype) for b in tm.buffers()}
    x, y = np.random.default_rng(5).standard_normal((4, 3, 8, 8)), [1, 0, 4, 2]
    (dx,), (tx,) = pair(x)
    to = torch.optim.SGD(tm.parameters(), lr=0.1)
    do = dagrad.optim.SGD(dm.parameters(), lr=0.1)
    for _ in range(3):
        lt = torch.nn.functional.cross_entropy(tm(tx), torch.tensor(y))
        ld = dagrad.nn.functional.cross_entropy(dm(dx), dagrad.tensor(y))
        assert_ulps(ld.detach(), lt.detach(), 1, "loss")
        for o, loss in ((to, lt), (do, ld)):
            o.zero_grad()
            loss.backward()
            o.step()
    for (n, p), (_, q) in zip(tm.named_parameters(), dm.named_parameters()):
        assert q.grad.dtype is BF and q.dtype is BF
        a, b = f32(q), f32(p)
        assert np.abs(a - b).max() <= 4 * ulp(np.abs(b).max()) + 5e-4, n


def test_small_mlp_trains_in_bfloat16():
    dagrad.manual_seed(0)
    model = dagrad.nn.Sequential(dagrad.nn.Linear(4, 16), dagrad.nn.ReLU(),
                                 dagrad.nn.Linear(16, 1)).bfloat16()
    opt = dagrad.optim.SGD(model.parameters(), lr=0.05)
    x = dagrad.randn(64, 4, dtype=BF)
    y = (x.float() @ dagrad.tensor([[1.0], [-2.0], [0.5], [0.0]])).bfloat16()
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = dagrad.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(p.dtype is BF for p in model.parameters())
    assert losses[-1] < 0.3 * losses[0]


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01)),
                                     ("AdamW", dict(lr=0.01, weight_decay=0.1))])
def test_optimizers_on_bfloat16_parameters(name, kw):
    """5 steps on a bf16 parameter: within 1 bf16 ulp of the largest weight of torch's, state
    tensors bf16 as torch's."""
    w0, x0 = RNG.standard_normal((5, 4)), RNG.standard_normal((8, 5))
    (dw, dx), (tw, tx) = pair(w0, x0)
    dw.requires_grad_()
    tw.requires_grad_()
    do, to = getattr(dagrad.optim, name)([dw], **kw), getattr(torch.optim, name)([tw], **kw)
    for _ in range(5):
        for w, o, x in ((tw, to, tx), (dw, do, dx)):
            o.zero_grad()
            ((x @ w).tanh() ** 2).mean().backward()
            o.step()
    assert dw.dtype is BF
    assert_ulps(dw.detach(), tw.detach(), 1, name, scale="max")
    for k, v in to.state[tw].items():
        assert str(do.state[dw][k].dtype) == str(v.dtype), k


# ---------------------------------------------------------------- serialization
def test_pth_roundtrip_bit_exact_with_torch(tmp_path):
    bits = np.array([0x3F80, 0x4020, 0x3EAB, 0x7F7F, 0x0001, 0x8000, 0xFF80, 0x7FC0, 0x1234],
                    np.uint16)
    t = torch.from_numpy(bits.view(np.int16).copy()).view(torch.bfloat16)
    torch.save({"w": t, "n": 3}, tmp_path / "t.pth")
    got = dagrad.load(str(tmp_path / "t.pth"))
    assert got["w"].dtype is BF and got["n"] == 3
    assert np.array_equal(got["w"]._data.view(np.uint16), bits)
    dagrad.save({"w": got["w"], "v": got["w"][1:4]}, str(tmp_path / "d.pth"))
    back = torch.load(tmp_path / "d.pth")
    assert back["w"].dtype == torch.bfloat16
    assert np.array_equal(back["w"].view(torch.int16).numpy().view(np.uint16), bits)
    assert np.array_equal(back["v"].view(torch.int16).numpy().view(np.uint16), bits[1:4])


def test_pth_views_and_legacy_format(tmp_path):
    x = dagrad.arange(12.0).reshape(3, 4).bfloat16()
    obj = {"t": x.t(), "s": x[:, ::2], "full": x, "p": dagrad.nn.Parameter(x.clone())}
    dagrad.save(obj, str(tmp_path / "v.pth"))
    back = torch.load(tmp_path / "v.pth")
    for k, v in back.items():
        assert v.dtype == torch.bfloat16 and v.float().tolist() == obj[k].float().tolist(), k
    t = torch.tensor([1.5, -2.25, 3e38], dtype=torch.bfloat16)
    torch.save({"w": t, "v": t[::2]}, tmp_path / "leg.pth", _use_new_zipfile_serialization=False)
    d = dagrad.load(str(tmp_path / "leg.pth"))
    assert d["w"].dtype is BF and d["w"].float().tolist() == t.float().tolist()
    assert d["v"].float().tolist() == t[::2].float().tolist()


def test_module_state_dict_bfloat16_roundtrip(tmp_path):
    tl = torch.nn.Linear(5, 3).bfloat16()
    torch.save(tl.state_dict(), tmp_path / "m.pth")
    dl = dagrad.nn.Linear(5, 3).bfloat16()
    dl.load_state_dict(dagrad.load(str(tmp_path / "m.pth")))
    assert np.array_equal(f32(dl.weight), f32(tl.weight))
    dagrad.save(dl.state_dict(), str(tmp_path / "d.pth"))
    sd = torch.load(tmp_path / "d.pth")
    assert sd["weight"].dtype == torch.bfloat16 and torch.equal(sd["weight"], tl.weight.detach())


def test_safetensors_bf16_roundtrip(tmp_path):
    x = dagrad.tensor([1.5, -2.0, 1 / 3, 3e38], dtype=BF)
    dagrad.serialization.save_file({"x": x}, str(tmp_path / "a.safetensors"))
    raw = (tmp_path / "a.safetensors").read_bytes()
    assert b'"BF16"' in raw
    y = dagrad.load(str(tmp_path / "a.safetensors"))["x"]
    assert y.dtype is BF and np.array_equal(y._data.view(np.uint16), x._data.view(np.uint16))
    try:
        from safetensors.torch import load_file
    except ImportError:
        return
    t = load_file(str(tmp_path / "a.safetensors"))["x"]
    assert t.dtype == torch.bfloat16 and t.float().tolist() == x.float().tolist()


# ---------------------------------------------------------------- without ml_dtypes
_NO_ML = """
import sys
sys.modules["ml_dtypes"] = None  # import ml_dtypes -> ImportError
import dagrad
assert str(dagrad.bfloat16) == "torch.bfloat16" and dagrad.bfloat16 is not dagrad.float16
x = dagrad.ones(2)
for f in (lambda: x.to(dagrad.bfloat16), lambda: x.bfloat16(),
          lambda: dagrad.zeros(2, dtype=dagrad.bfloat16),
          lambda: dagrad.tensor([1.0], dtype=dagrad.bfloat16),
          lambda: dagrad.nn.Linear(2, 2).bfloat16(),
          lambda: dagrad.load(sys.argv[1])):
    try:
        f()
    except ImportError as e:
        assert "pip install ml_dtypes" in str(e) and "dagrad[bf16]" in str(e), str(e)
    else:
        raise AssertionError("no error")
print("ok")
"""


def test_without_ml_dtypes_clear_error(tmp_path):
    torch.save({"w": torch.ones(2, dtype=torch.bfloat16)}, tmp_path / "w.pth")
    r = subprocess.run([sys.executable, "-c", _NO_ML, str(tmp_path / "w.pth")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


def test_import_does_not_load_ml_dtypes():
    r = subprocess.run([sys.executable, "-c", "import sys, dagrad; "
                        "print('ml_dtypes' in sys.modules)"], capture_output=True, text=True,
                       timeout=60)
    assert r.stdout.strip() == "False", r.stderr[-2000:]


def test_math_module_helpers():
    assert math.isclose(dagrad.finfo(BF).eps, 2 ** -7)
