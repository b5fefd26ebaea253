"""PyTorch-compatibility gaps (third list): integer pooling, complex randn, forward-mode abs on
complex, indexing / clamp / dropout / index_put graphs, the torch shim's version, optimizer
state set-up. Everything is compared with the installed torch 2.13."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from tests.helpers import assert_close, to_dagrad, to_torch

import dagrad
import dagrad.nn.functional as F


def _chain(t):
    """Node names from t.grad_fn down the first non-AccumulateGrad edge."""
    out, f = [], t.grad_fn
    while f is not None:
        out.append(type(f).__name__)
        nxt = [n for n, _ in f.next_functions
               if n is not None and type(n).__name__ != "AccumulateGrad"]
        f = nxt[0] if nxt else None
    return out


def _both(tfn, dfn, *arrays):
    """Run tfn on torch tensors and dfn on dagrad tensors of the same arrays: both succeed with
    equal results (values and dtypes), or both raise the same exception type and message."""
    try:
        t = tfn(*[to_torch(a) for a in arrays])
    except Exception as e:  # noqa: BLE001 - the reference error
        with pytest.raises(type(e)) as ei:
            dfn(*[to_dagrad(a) for a in arrays])
        assert str(ei.value) == str(e)
        return None
    d = dfn(*[to_dagrad(a) for a in arrays])
    rt = {torch.float16: 2e-3, torch.bfloat16: 1e-2}.get(
        (t[0] if isinstance(t, tuple) else t).dtype, 1e-6)
    assert_close(d, t, atol=1e-12, rtol=rt)  # integer results compare exactly
    return d


# ---------------------------------------------------------------- 1. pooling of integer inputs
_DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.int64, np.bool_, np.float16, np.complex64,
           np.float64]
_POOLS = {
    "max_pool1d": lambda M, t: M.max_pool1d(t, 2),
    "max_pool1d_ri": lambda M, t: M.max_pool1d(t, 3, 2, 1, return_indices=True),
    "max_pool1d_ceil": lambda M, t: M.max_pool1d(t, 3, 2, 1, ceil_mode=True,
                                                 return_indices=True),
    "max_pool2d": lambda M, t: M.max_pool2d(t.reshape(2, 3, 2, 4), 2),
    "max_pool2d_ri": lambda M, t: M.max_pool2d(t.reshape(2, 3, 2, 4), 2, 1, 1,
                                               return_indices=True),
    "max_pool2d_dil": lambda M, t: M.max_pool2d(t.reshape(2, 3, 4, 2), 2, 1, 0, dilation=2),
    "max_pool2d_3d": lambda M, t: M.max_pool2d(t.reshape(6, 2, 4), (1, 2), ceil_mode=True),
    "max_pool3d": lambda M, t: M.max_pool3d(t.reshape(1, 3, 2, 2, 4), 2, 1, 1),
    "avg_pool1d": lambda M, t: M.avg_pool1d(t, 3, 2, 1),
    "avg_pool2d": lambda M, t: M.avg_pool2d(t.reshape(2, 3, 2, 4), 2, 1, 1,
                                            count_include_pad=False),
    "avg_pool2d_div": lambda M, t: M.avg_pool2d(t.reshape(2, 3, 2, 4), 2, divisor_override=3),
    "avg_pool3d": lambda M, t: M.avg_pool3d(t.reshape(1, 3, 2, 2, 4), 2, 1, 1),
    "adaptive_avg_pool1d": lambda M, t: M.adaptive_avg_pool1d(t, 3),
    "adaptive_avg_pool1d_1": lambda M, t: M.adaptive_avg_pool1d(t, 1),
    "adaptive_avg_pool2d": lambda M, t: M.adaptive_avg_pool2d(t.reshape(2, 3, 2, 4), 3),
    "adaptive_avg_pool2d_1": lambda M, t: M.adaptive_avg_pool2d(t.reshape(2, 3, 2, 4), 1),
    "adaptive_avg_pool3d": lambda M, t: M.adaptive_avg_pool3d(t.reshape(1, 3, 2, 2, 4), 2),
    "adaptive_avg_pool3d_1": lambda M, t: M.adaptive_avg_pool3d(t.reshape(1, 3, 2, 2, 4), 1),
    "adaptive_max_pool1d": lambda M, t: M.adaptive_max_pool1d(t, 3),
    "adaptive_max_pool2d": lambda M, t: M.adaptive_max_pool2d(t.reshape(2, 3, 2, 4), 3),
    "adaptive_max_pool3d": lambda M, t: M.adaptive_max_pool3d(t.reshape(1, 3, 2, 2, 4), 2),
    "lp_pool1d": lambda M, t: M.lp_pool1d(t, 2, 2),
    "lp_pool2d": lambda M, t: M.lp_pool2d(t.reshape(2, 3, 2, 4), 2, 2),
    "max_unpool1d": lambda M, t: M.max_unpool1d(t[:, :, :2], M.tensor([[[1, 3]] * 3] * 2), 2),
    "max_unpool2d": lambda M, t: M.max_unpool2d(t.reshape(2, 3, 2, 4)[..., :1, :2],
                                                M.tensor([[[[1, 6]]] * 3] * 2), 2),
    "max_unpool3d": lambda M, t: M.max_unpool3d(t.reshape(1, 3, 2, 2, 4)[..., :1, :1, :1],
                                                M.zeros((1, 3, 1, 1, 1), dtype=M.long), 2),
}


class _M:
    """F's namespace plus the tensor helpers the cases use."""
    def __init__(self, lib, func):
        self.lib, self.func = lib, func

    def __getattr__(self, n):
        return getattr(self.func, n) if hasattr(self.func, n) else getattr(self.lib, n)


_TM, _DM = _M(torch, TF), _M(dagrad, F)


@pytest.mark.parametrize("dt", _DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", list(_POOLS))
def test_pool_dtypes_match_torch(name, dt):
    a = (np.arange(48) - 20).reshape(2, 3, 8)
    a = (a % 2).astype(dt) if dt is np.bool_ else a.astype(dt)
    fn = _POOLS[name]
    _both(lambda t: fn(_TM, t), lambda t: fn(_DM, t), a)


@pytest.mark.parametrize("dt", [np.int64, np.int32, np.uint8])
def test_max_pool_modules_int(dt):
    a = np.random.default_rng(0).integers(-50, 200, (2, 3, 6, 5)).astype(dt)
    _both(lambda t: torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)(t),
          lambda t: dagrad.nn.MaxPool2d(3, 2, 1, ceil_mode=True)(t), a)
    _both(lambda t: torch.nn.MaxPool2d(2, return_indices=True)(t),
          lambda t: dagrad.nn.MaxPool2d(2, return_indices=True)(t), a)
    _both(lambda t: torch.nn.MaxPool1d(2)(t[0]), lambda t: dagrad.nn.MaxPool1d(2)(t[0]), a)
    _both(lambda t: torch.nn.MaxPool1d(2, return_indices=True)(t[0]),
          lambda t: dagrad.nn.MaxPool1d(2, return_indices=True)(t[0]), a)
    _both(lambda t: torch.nn.MaxPool3d(2, 1)(t), lambda t: dagrad.nn.MaxPool3d(2, 1)(t), a)
    _both(lambda t: torch.nn.AvgPool2d(2, 1, 1)(t), lambda t: dagrad.nn.AvgPool2d(2, 1, 1)(t), a)


def test_int_max_pool_random_vs_float():
    """Integer max pooling picks the same winners as float64 pooling of the same values
    (values beyond float32's exact range, all windows and indices)."""
    rng = np.random.default_rng(1)
    a = rng.integers(-2**62, 2**62, (3, 4, 9, 7))
    for kw in [dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=(2, 3), dilation=2),
               dict(kernel_size=2, ceil_mode=True)]:
        v, i = F.max_pool2d(to_dagrad(a), return_indices=True, **kw)
        tv, ti = TF.max_pool2d(to_torch(a), return_indices=True, **kw)
        assert v.dtype == dagrad.int64
        np.testing.assert_array_equal(v.numpy(), tv.numpy())
        np.testing.assert_array_equal(i.numpy(), ti.numpy())


_GEOM = [dict(kernel_size=0), dict(kernel_size=-1), dict(kernel_size=(2, 2)),
         dict(kernel_size=2, stride=(1, 1)), dict(kernel_size=2, stride=-1),
         dict(kernel_size=2, stride=0), dict(kernel_size=2, padding=-1),
         dict(kernel_size=2, padding=(1, 1)), dict(kernel_size=2, dilation=0),
         dict(kernel_size=2, dilation=(1, 1)), dict(kernel_size=4, padding=2, dilation=2),
         dict(kernel_size=3, padding=2, dilation=2), dict(kernel_size=2, padding=2),
         dict(kernel_size=7), dict(kernel_size=7, ceil_mode=True), dict(kernel_size=3, dilation=3),
         dict(kernel_size=2, padding=1, stride=4, ceil_mode=True),
         dict(kernel_size=(3, 2), padding=(0, 2), dilation=2), dict(kernel_size=(2, 0), stride=1)]


@pytest.mark.parametrize("kw", _GEOM, ids=str)
@pytest.mark.parametrize("dt", [np.float32, np.int64])
def test_pool_geometry_errors(kw, dt):
    one = {k: (v[0] if isinstance(v, tuple) and k != "kernel_size" else v) for k, v in kw.items()}
    if isinstance(one["kernel_size"], tuple) and 0 in one["kernel_size"]:
        one = None
    a3 = np.zeros((2, 3, 6), dt)
    a4 = np.zeros((2, 3, 6, 6), dt)
    for ri in (False, True):
        _both(lambda t: TF.max_pool2d(t, return_indices=ri, **kw),
              lambda t: F.max_pool2d(t, return_indices=ri, **kw), a4)
        if one is not None:
            _both(lambda t: TF.max_pool1d(t, return_indices=ri, **kw),
                  lambda t: F.max_pool1d(t, return_indices=ri, **kw), a3)
    akw = {k: v for k, v in kw.items() if k != "dilation"}
    _both(lambda t: TF.avg_pool2d(t, **akw), lambda t: F.avg_pool2d(t, **akw), a4)
    if one is not None and not isinstance(one["kernel_size"], tuple):
        akw = {k: v for k, v in one.items() if k != "dilation"}
        _both(lambda t: TF.avg_pool1d(t, **akw), lambda t: F.avg_pool1d(t, **akw), a3)


@pytest.mark.parametrize("shape", [(0, 4, 4), (0, 3, 4, 4), (2, 3, 0, 4), (2, 3, 4, 0, 4), (0, 4),
                                   (0, 3, 4), (4,), (3, 0), (1, 2, 3, 4)])
@pytest.mark.parametrize("dt", [np.float32, np.int64, np.bool_])
def test_pool_shape_errors(shape, dt):
    a = np.zeros(shape, dt)
    for ri in (False, True):
        _both(lambda t: TF.max_pool2d(t, 2, return_indices=ri),
              lambda t: F.max_pool2d(t, 2, return_indices=ri), a)
        _both(lambda t: TF.max_pool1d(t, 2, return_indices=ri),
              lambda t: F.max_pool1d(t, 2, return_indices=ri), a)


_GRAPH_1D = {
    "max_pool1d": lambda M, t: M.max_pool1d(t, 2),
    "max_pool1d_ri": lambda M, t: M.max_pool1d(t, 3, 2, 1, return_indices=True)[0],
    "avg_pool1d": lambda M, t: M.avg_pool1d(t, 3, 2, 1, count_include_pad=False),
    "adaptive_avg_pool1d": lambda M, t: M.adaptive_avg_pool1d(t, 3),
    "adaptive_avg_pool1d_1": lambda M, t: M.adaptive_avg_pool1d(t, 1),
    "adaptive_max_pool1d": lambda M, t: M.adaptive_max_pool1d(t, 3),
    "adaptive_max_pool1d_ri": lambda M, t: M.adaptive_max_pool1d(t, 3, True)[0],
    "lp_pool1d": lambda M, t: M.lp_pool1d(t, 2, 2),
}


@pytest.mark.parametrize("name", list(_GRAPH_1D))
@pytest.mark.parametrize("shape", [(2, 3, 7), (3, 7)])
def test_pool1d_graph_and_grads(name, shape):
    """1-D pools record PyTorch's Squeeze <- <2-D pool> <- Unsqueeze graph; values, indices and
    gradients match, and float64 finite differences agree."""
    fn = _GRAPH_1D[name]
    a = np.random.default_rng(2).standard_normal(shape)
    t, d = to_torch(a, True), to_dagrad(a, True)
    to, do = fn(_TM, t), fn(_DM, d)
    assert _chain(do) == _chain(to)
    assert_close(do, to, atol=1e-12, rtol=1e-12)
    g = np.random.default_rng(3).standard_normal(tuple(to.shape))
    to.backward(to_torch(g))
    do.backward(to_dagrad(g))
    assert_close(d.grad, t.grad, atol=1e-12, rtol=1e-12)
    assert dagrad.autograd.gradcheck(lambda x: fn(_DM, x), (to_dagrad(a, True),))
    if name.startswith("max_pool1d"):
        _, ti = TF.max_pool1d(to_torch(a), 3, 2, 1, return_indices=True)
        _, di = F.max_pool1d(to_dagrad(a, True), 3, 2, 1, return_indices=True)
        assert di.grad_fn is None and not di.requires_grad
        np.testing.assert_array_equal(di.numpy(), ti.numpy())


@pytest.mark.parametrize("dt", [np.uint8, np.int32, np.float32])
def test_max_pool_padding_ties(dt):
    """A window whose real elements all equal the padding value (0 for uint8, -inf for float)
    reports its first in-bounds element, as PyTorch; float gradients go there too."""
    rng = np.random.default_rng(4)
    a = rng.integers(0, 3, (2, 3, 5, 6)).astype(dt)
    if dt is np.float32:
        a[a == 0] = -np.inf
    elif dt is np.int32:
        a[a == 0] = np.iinfo(np.int32).min
    for kw in [dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=2, stride=2,
                                                             ceil_mode=True),
               dict(kernel_size=3, padding=1, dilation=2)]:
        _both(lambda t: TF.max_pool2d(t, return_indices=True, **kw),
              lambda t: F.max_pool2d(t, return_indices=True, **kw), a)
        _both(lambda t: TF.max_pool1d(t[0], return_indices=True, **kw),
              lambda t: F.max_pool1d(t[0], return_indices=True, **kw), a)
    if dt is np.float32:
        t, d = to_torch(a, True), to_dagrad(a, True)
        TF.max_pool2d(t, 3, 2, 1).sum().backward()
        F.max_pool2d(d, 3, 2, 1).sum().backward()
        assert_close(d.grad, t.grad, atol=0, rtol=0)


# ---------------------------------------------------------------- 2. complex rand / randn
def _part_stats(x):
    a = x.detach().numpy() if isinstance(x, dagrad.Tensor) else x.detach().numpy()
    return (a.real.mean(), a.real.var(), a.imag.mean(), a.imag.var(), a.real.min(), a.imag.min(),
            a.real.max(), a.imag.max())


@pytest.mark.parametrize("dt", ["complex64", "complex128"])
@pytest.mark.parametrize("how", ["randn", "rand", "randn_like", "rand_like", "normal",
                                 "normal_", "uniform_"])
def test_complex_random(dt, how):
    """Complex samplers: real and imaginary parts each N(0, 1/2) (randn), U[0, 1) (rand),
    N(mean, std**2 / 2) (normal, normal_), U[a, b) (uniform_), as torch's own draws show."""
    n = 200_000

    def make(M):
        d = getattr(M, dt)
        if how in ("randn", "rand"):
            return getattr(M, how)(n // 2, 2, dtype=d).reshape(-1)
        if how.endswith("_like"):
            return getattr(M, how)(M.zeros(n, dtype=d))
        if how == "normal":
            return M.normal(1.0, 2.0, (n,), dtype=d)
        if how == "normal_":
            return M.empty(n, dtype=d).normal_(1.0, 2.0)
        return M.empty(n, dtype=d).uniform_(-1.0, 3.0)
    torch.manual_seed(0)
    dagrad.manual_seed(0)
    t, d = make(torch), make(dagrad)
    assert str(d.dtype) == str(t.dtype) and tuple(d.shape) == tuple(t.shape)
    ts, ds = _part_stats(t), _part_stats(d)
    tol = [0.02, 0.03, 0.02, 0.03, 0.3, 0.3, 0.3, 0.3]  # means, variances (4 sigma), extremes
    if how.startswith("rand") and not how.startswith("randn") or how == "uniform_":
        tol[4:] = [1e-3] * 4
    for a, b, tl in zip(ds, ts, tol):
        assert abs(a - b) <= tl * max(1.0, abs(b)), (ds, ts)
    # real and imaginary parts are independent draws
    a = d.numpy()
    assert abs(np.corrcoef(a.real, a.imag)[0, 1]) < 0.02


def test_complex_randn_options():
    for M in (torch, dagrad):
        M.manual_seed(3)
        a = M.randn(4, 3, dtype=M.complex64, requires_grad=True)
        assert a.requires_grad and a.grad_fn is None and a.is_leaf
        assert M.randn_like(a).dtype == M.complex64
        assert M.rand_like(a, dtype=M.complex128).dtype == M.complex128
        assert M.randn((), dtype=M.complex128).shape == ()
    dagrad.manual_seed(5)
    x = dagrad.randn(6, dtype=dagrad.complex64)
    dagrad.manual_seed(5)
    np.testing.assert_array_equal(dagrad.randn(6, dtype=dagrad.complex64).numpy(), x.numpy())
    g = dagrad.Generator().manual_seed(1)
    y = dagrad.randn(5, dtype=dagrad.complex128, generator=g)
    g = dagrad.Generator().manual_seed(1)
    z = dagrad.randn(10, dtype=dagrad.float64, generator=g).numpy() * 0.5 ** 0.5
    # PyTorch's layout: consecutive draws are (real, imag) pairs of the float stream
    np.testing.assert_allclose(y.numpy().view(np.float64), z, rtol=1e-15)
    for dt in ("int64", "bool", "uint8"):
        for fn in ("randn", "rand"):
            with pytest.raises(NotImplementedError) as te:
                getattr(torch, fn)(3, dtype=getattr(torch, dt))
            with pytest.raises(NotImplementedError) as de:
                getattr(dagrad, fn)(3, dtype=getattr(dagrad, dt))
            assert str(de.value) == str(te.value)


# ---------------------------------------------------------------- 3. forward-mode abs on complex
@pytest.mark.parametrize("dt", [np.complex128, np.complex64, np.float64])
@pytest.mark.parametrize("how", ["abs", "absolute", "builtin", "composite"])
def test_forward_ad_abs_complex(dt, how):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(7) + (1j * rng.standard_normal(7) if dt != np.float64 else 0)
         ).astype(dt)
    x[0] = 0
    x[1] = 2.5  # real axis
    t = (rng.standard_normal(7) + (1j * rng.standard_normal(7) if dt != np.float64 else 0)
         ).astype(dt)

    def f(M, z):
        if how == "abs":
            return z.abs()
        if how == "absolute":
            return M.absolute(z)
        if how == "builtin":
            return abs(z)
        return (z.abs() * 2 + 1).square().sum()

    def dual(M, fwd):
        with fwd.dual_level():
            y = f(M, fwd.make_dual(M.from_numpy(x.copy()), M.from_numpy(t.copy())))
            p, tg = fwd.unpack_dual(y)
            return p, tg
    tp, tt = dual(torch, torch.autograd.forward_ad)
    dp, dtg = dual(dagrad, dagrad.autograd.forward_ad)
    tol = 1e-5 if dt == np.complex64 else 1e-12
    assert_close(dp, tp, atol=tol, rtol=tol)
    assert_close(dtg, tt, atol=tol, rtol=tol)
    jp, jt = dagrad.func.jvp(lambda z: f(dagrad, z), (dagrad.from_numpy(x.copy()),),
                             (dagrad.from_numpy(t.copy()),))
    assert_close(jt, tt, atol=tol, rtol=tol)
    if dt != np.complex64:  # central difference along t (x[0] = 0 is |.|'s kink: skipped)
        h = 1e-6
        xs = x[1:] if how != "composite" else x
        ts = t[1:] if how != "composite" else t
        if how == "composite":
            xs, ts = xs[1:], ts[1:]
            fd = (np.sum((np.abs(xs + h * ts) * 2 + 1) ** 2)
                  - np.sum((np.abs(xs - h * ts) * 2 + 1) ** 2)) / (2 * h)
            with dagrad.autograd.forward_ad.dual_level():
                y = f(dagrad, dagrad.autograd.forward_ad.make_dual(dagrad.from_numpy(xs.copy()),
                                                                   dagrad.from_numpy(ts.copy())))
                got = dagrad.autograd.forward_ad.unpack_dual(y)[1].item()
            assert abs(got - fd) < 1e-6 * max(1.0, abs(fd))
        else:
            fd = (np.abs(xs + h * ts) - np.abs(xs - h * ts)) / (2 * h)
            np.testing.assert_allclose(dtg.numpy()[1:], fd, atol=1e-7)


# ---------------------------------------------------------------- 4. indexing graphs
_IDX_T1 = np.array([True, False, True, False])
_KEYS = ["[0, 0]", "[0][0]", "[0, 1:3]", "[:, 0]", "[..., 0]", "[None, 0]", "[0]", "[0, 0, 0]",
         "[1:3]", "[1:3, 2]", "[:, 1:3]", "[..., 1:3]", "[None]", "[:, None]", "[0, None]", "[...]",
         "[:]", "[::2]", "[0, ..., 1]", "[-1, -2]", "[:, :, 0]", "[1:3, 1:3]", "[0, :, 2:4]",
         "[None, 0, None, 1]", "[True]", "[0, True]", "[False]", "[:, :]", "[0, :]", "[[0, 1]]",
         "[0, [0, 1]]", "[T(1)]", "[0, T(1)]", "[T(1), T(2)]", "[:, [0, 1], 0]", "[1:, 0]",
         "[..., None]", "[:, ::2]", "[:, 0:100]", "[:, 0:5]", "[:, -5:]", "[:, 0:]", "[:, :5:1]",
         "[:, :-0]", "[..., None, 0]", "[0, None, 1]", "[[0, 1], 0]", "[[0, 1], :, 0]",
         "[[0, 1], 1:3]", "[0, [0, 1], 1:3]", "[None, None]", "[1:3][0]", "[0][1:3]", "[B]",
         "[:, 1:3, [0, 1]]", "[0:4, 0]", "[(0,)]", "[(slice(1, 3),)]", "[(None,)]", "[()]",
         "[np.int64(1), 2]", "[[[0, 1], [2, 3]], 1, 1:4]"]


@pytest.mark.parametrize("key", _KEYS)
def test_getitem_graph_matches_torch(key):
    """Node chain (names, order), values, view-ness and gradients of a[key] as PyTorch's."""
    a = np.random.default_rng(6).standard_normal((4, 5, 6))
    res = {}
    for M in (torch, dagrad):
        x = M.from_numpy(a.copy()).requires_grad_()
        env = {"a": x, "T": lambda v, M=M: M.tensor(v), "B": M.from_numpy(_IDX_T1.copy()),
               "np": np}
        y = eval("a" + key, env)
        g = np.random.default_rng(7).standard_normal(tuple(y.shape))
        (y * M.from_numpy(g)).sum().backward()
        res[M] = (_chain(y), y, x.grad, getattr(y, "_base", None) is x)
    assert res[dagrad][0] == res[torch][0]
    assert_close(res[dagrad][1], res[torch][1], atol=0, rtol=0)
    assert_close(res[dagrad][2], res[torch][2], atol=0, rtol=0)
    assert res[dagrad][3] == res[torch][3]  # a view exactly when PyTorch makes one


@pytest.mark.parametrize("key", ["[0, 0]", "[0, 1:3]", "[None, 0, None, 1]", "[0, [0, 1], 1:3]",
                                 "[True]", "[1:3, 2]"])
def test_getitem_chain_gradcheck(key):
    a = to_dagrad(np.random.default_rng(8).standard_normal((4, 5, 6)), True)
    assert dagrad.autograd.gradcheck(lambda x: eval("x" + key), (a,))
    assert dagrad.autograd.gradgradcheck(lambda x: eval("x" + key) ** 2, (a,))


def test_getitem_chain_views_inplace():
    """In-place writes through a chained view reach the base, and gradients match PyTorch."""
    a = np.random.default_rng(9).standard_normal((4, 5, 6))
    out = {}
    for M in (torch, dagrad):
        w = M.from_numpy(a.copy()).requires_grad_()
        x = w * 1
        v = x[0, 1:3]
        u = x[None, 1, None, 2]
        v.mul_(3)
        u.add_(1)
        z = x[1, :, 0]  # made after the writes
        y = (x ** 2).sum() + (v * 2).sum() + (u ** 3).sum() + z.sum()
        y.backward()
        out[M] = (y, w.grad, x._version, v._version)
    assert_close(out[dagrad][0], out[torch][0], atol=1e-10, rtol=1e-12)
    assert_close(out[dagrad][1], out[torch][1], atol=1e-10, rtol=1e-12)
    assert out[dagrad][2:] == out[torch][2:]


def test_getitem_no_grad_values():
    """Without a graph, one NumPy indexing: same values and view-ness as before."""
    a = np.arange(120.0).reshape(4, 5, 6)
    for key in _KEYS:
        t = eval("x" + key, {"x": torch.from_numpy(a.copy()), "T": torch.tensor,
                             "B": torch.from_numpy(_IDX_T1.copy()), "np": np})
        d = eval("x" + key, {"x": dagrad.from_numpy(a.copy()), "T": dagrad.tensor,
                             "B": dagrad.from_numpy(_IDX_T1.copy()), "np": np})
        assert d.grad_fn is None
        assert_close(d, t, atol=0, rtol=0, msg=key)


# ---------------------------------------------------------------- 5. clamp node names
_CLAMPS = {
    "clamp_min(s)": lambda M, x, lo, hi: x.clamp_min(0.1),
    "clamp_min(T)": lambda M, x, lo, hi: x.clamp_min(lo),
    "clamp_max(s)": lambda M, x, lo, hi: x.clamp_max(0.1),
    "clamp_max(T)": lambda M, x, lo, hi: x.clamp_max(hi),
    "clamp(s,s)": lambda M, x, lo, hi: x.clamp(-0.1, 0.1),
    "clamp(s,None)": lambda M, x, lo, hi: x.clamp(min=-0.1),
    "clamp(None,s)": lambda M, x, lo, hi: x.clamp(max=0.1),
    "clamp(T,T)": lambda M, x, lo, hi: x.clamp(lo, hi),
    "clamp(T,None)": lambda M, x, lo, hi: x.clamp(min=lo),
    "clamp(None,T)": lambda M, x, lo, hi: x.clamp(max=hi),
    "clip(T,T)": lambda M, x, lo, hi: x.clip(lo, hi),
    "torch.clamp_min(T)": lambda M, x, lo, hi: M.clamp_min(x, lo),
    "torch.clamp_max(T)": lambda M, x, lo, hi: M.clamp_max(x, hi),
    "torch.clamp_min(s)": lambda M, x, lo, hi: M.clamp_min(x, 0.2),
    "clamp_min(T0d)": lambda M, x, lo, hi: x.clamp_min(lo[0]),
    "clamp_max(Tbcast)": lambda M, x, lo, hi: x.clamp_max(hi[:1]),
    "clamp_min_(T)": lambda M, x, lo, hi: (x * 1).clamp_min_(lo),
    "clamp_max_(T)": lambda M, x, lo, hi: (x * 1).clamp_max_(hi),
    "clamp_(T,T)": lambda M, x, lo, hi: (x * 1).clamp_(lo, hi),
    "clamp_min_(s)": lambda M, x, lo, hi: (x * 1).clamp_min_(0.0),
}


@pytest.mark.parametrize("lo_rg", [True, False])
@pytest.mark.parametrize("name", list(_CLAMPS))
def test_clamp_nodes_match_torch(name, lo_rg):
    """Node names and edges, values and gradients (ties and NaNs included) as PyTorch."""
    xs = np.array([-0.5, -0.3, 0.0, 0.2, 0.4, 0.7, np.nan, 0.1])
    los = np.array([-0.3, -0.3, 0.1, np.nan, -0.2, 0.5, 0.0, 0.1])
    his = np.array([0.4, 0.0, 0.0, 0.3, 0.4, np.nan, 0.5, 0.2])
    fn = _CLAMPS[name]
    out = {}
    for M in (torch, dagrad):
        x = M.from_numpy(xs.copy()).requires_grad_()
        lo = M.from_numpy(los.copy()).requires_grad_(lo_rg)
        hi = M.from_numpy(his.copy()).requires_grad_(lo_rg)
        y = fn(M, x, lo, hi)
        edges = [None if n is None else type(n).__name__ for n, _ in y.grad_fn.next_functions]
        y.backward(M.from_numpy(np.arange(1.0, 9.0)))
        out[M] = (type(y.grad_fn).__name__, edges, y, x.grad, lo.grad, hi.grad)
    t, d = out[torch], out[dagrad]
    assert d[:2] == t[:2]
    for a, b in zip(d[2:], t[2:]):
        if b is None:
            assert a is None
        else:
            assert_close(a, b, atol=0, rtol=0)


@pytest.mark.parametrize("name", ["clamp_min(T)", "clamp_max(T)", "clamp_max(Tbcast)",
                                  "clamp_min(T0d)"])
def test_clamp_tensor_bound_gradcheck(name):
    rng = np.random.default_rng(10)
    x, lo, hi = (to_dagrad(rng.standard_normal(6), True) for _ in range(3))
    fn = _CLAMPS[name]
    assert dagrad.autograd.gradcheck(lambda a, b, c: fn(dagrad, a, b, c), (x, lo, hi))
    assert dagrad.autograd.gradgradcheck(lambda a, b, c: fn(dagrad, a, b, c) ** 2, (x, lo, hi))


def test_clamp_tensor_bound_promotion():
    cases = [lambda M: M.arange(5).clamp(M.tensor(1.5)),
             lambda M: M.arange(5).clamp(1.5),
             lambda M: M.arange(5).clamp_min(M.tensor(1.5)),
             lambda M: M.arange(5).clamp_max(M.tensor([2.5] * 5, dtype=M.float64)),
             lambda M: M.ones(3).clamp(M.zeros(3, dtype=M.float64)),
             lambda M: M.ones(3).clamp(M.tensor(0.5, dtype=M.float64)),
             lambda M: M.ones(3, dtype=M.float16).clamp_min(M.zeros(3)),
             lambda M: M.arange(5).clamp_(M.tensor(1.5)),
             lambda M: M.arange(5).clamp_min_(M.tensor(1.5))]
    for f in cases:
        _both(lambda: f(torch), lambda: f(dagrad))
    x = dagrad.ones(3, requires_grad=True)
    y = x.clamp_min(dagrad.zeros(3, dtype=dagrad.float64))
    y.sum().backward()
    assert y.dtype == dagrad.float64 and x.grad.dtype == dagrad.float32


# ---------------------------------------------------------------- 6. dropout graphs
_DROPS = {
    "dropout": lambda M, F_, x: F_.dropout(x, 0.3),
    "dropout_eval": lambda M, F_, x: F_.dropout(x, 0.3, training=False),
    "dropout_p0": lambda M, F_, x: F_.dropout(x, 0.0),
    "dropout_p1": lambda M, F_, x: F_.dropout(x, 1.0),
    "dropout_inplace": lambda M, F_, x: F_.dropout(x * 1, 0.3, inplace=True),
    "dropout_empty": lambda M, F_, x: F_.dropout(x[:0], 0.3),
    "dropout1d": lambda M, F_, x: F_.dropout1d(x[0], 0.3),
    "dropout1d_unbatched": lambda M, F_, x: F_.dropout1d(x[0, 0], 0.3),
    "dropout1d_unbatched_eval": lambda M, F_, x: F_.dropout1d(x[0, 0], 0.3, training=False),
    "dropout1d_unbatched_inplace": lambda M, F_, x: F_.dropout1d(x[0, 0] * 1, 0.3, inplace=True),
    "dropout2d": lambda M, F_, x: F_.dropout2d(x, 0.3),
    "dropout2d_p1": lambda M, F_, x: F_.dropout2d(x, 1.0),
    "dropout3d": lambda M, F_, x: F_.dropout3d(x[None], 0.3),
    "dropout3d_unbatched": lambda M, F_, x: F_.dropout3d(x, 0.3),
    "dropout3d_unbatched_p0": lambda M, F_, x: F_.dropout3d(x, 0.0),
    "alpha_dropout": lambda M, F_, x: F_.alpha_dropout(x, 0.3, training=True),
    "alpha_dropout_default": lambda M, F_, x: F_.alpha_dropout(x, 0.3),
    "alpha_dropout_p1": lambda M, F_, x: F_.alpha_dropout(x, 1.0, training=True),
    "alpha_dropout_inplace": lambda M, F_, x: F_.alpha_dropout(x * 1, 0.3, True, True),
    "feature_alpha_dropout": lambda M, F_, x: F_.feature_alpha_dropout(x, 0.3, training=True),
    "feature_alpha_dropout_p1": lambda M, F_, x: F_.feature_alpha_dropout(x, 1.0, True),
    "torch.feature_dropout": lambda M, F_, x: M.feature_dropout(x, 0.3, True),
    "torch.feature_dropout_2d": lambda M, F_, x: M.feature_dropout(x[0, 0], 0.3, True),
    "torch.dropout": lambda M, F_, x: M.dropout(x, 0.3, True),
    "torch.alpha_dropout": lambda M, F_, x: M.alpha_dropout(x, 0.3, True),
    "nn.Dropout": lambda M, F_, x: M.nn.Dropout(0.3)(x),
    "nn.Dropout1d": lambda M, F_, x: M.nn.Dropout1d(0.3)(x[0, 0]),
    "nn.Dropout3d": lambda M, F_, x: M.nn.Dropout3d(0.3)(x),
    "nn.AlphaDropout": lambda M, F_, x: M.nn.AlphaDropout(0.3)(x),
    "nn.FeatureAlphaDropout": lambda M, F_, x: M.nn.FeatureAlphaDropout(0.3)(x),
    "inplace_view_ops": lambda M, F_, x: (x * 1).unsqueeze_(0).squeeze_(0).squeeze_().t_(),
}


@pytest.mark.parametrize("name", list(_DROPS))
def test_dropout_graph_matches_torch(name):
    """Node chain and edges as PyTorch 2.13's CPU path (input * noise: MulBackward0; alpha adds
    AddBackward0; unbatched dropout1d/3d go through Unsqueeze/Squeeze); the gradient is the
    noise (output / input)."""
    a = np.random.default_rng(11).uniform(0.5, 1.5, (6, 5, 4, 3))
    if name == "inplace_view_ops":
        a = a[:, :1, :, :1]
    res = {}
    for M, F_ in ((torch, TF), (dagrad, F)):
        M.manual_seed(0)
        x = M.from_numpy(a.copy()).requires_grad_()
        with np.errstate(all="ignore"):
            y = _DROPS[name](M, F_, x)
        edges = ([None if n is None else type(n).__name__ for n, _ in y.grad_fn.next_functions]
                 if y.grad_fn is not None else None)
        res[M] = (_chain(y), edges, tuple(y.shape), y.dtype)
        if y.requires_grad and y.numel() and name != "inplace_view_ops":
            y.sum().backward()
            g, yv = x.grad.numpy(), y.detach().numpy()
            if "lpha" not in name:  # y = x * noise on the part used, grad = noise there
                np.testing.assert_allclose((g * a).sum(), yv.sum(), rtol=1e-6)
                assert set(np.unique(g)) <= {0.0, 1.0, 1 / 0.7, 1 / np.float64(0.7)}
    assert res[dagrad][:2] == res[torch][:2]
    assert res[dagrad][2] == res[torch][2] and str(res[dagrad][3]) == str(res[torch][3])


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
@pytest.mark.parametrize("dt", ["float32", "float64", "float16"])
def test_dropout_noise_values(p, dt):
    """Kept entries are scaled by exactly PyTorch's 1/(1 - p) (its noise.div_(1 - p)); feature
    dropout drops whole channels; about 1 - p are kept."""
    shape = (64, 32, 9)
    ones_t = torch.ones(shape, dtype=getattr(torch, dt))
    ones_d = dagrad.ones(shape, dtype=getattr(dagrad, dt))
    vt = np.unique(TF.dropout(ones_t, p).numpy())
    vd = np.unique(F.dropout(ones_d, p).numpy())
    np.testing.assert_array_equal(vd, vt)
    kept = (F.dropout(ones_d, p).numpy() != 0).mean()
    assert abs(kept - (1 - p)) < 0.02
    fd = F.dropout1d(ones_d, p).numpy()
    assert (fd == fd[:, :, :1]).all()
    np.testing.assert_array_equal(np.unique(fd), np.unique(TF.dropout1d(ones_t, p).numpy()))


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_statistics(feature):
    """alpha dropout keeps a standard-normal input's mean and variance (values taken: the SELU
    saturation value mapped, as PyTorch's)."""
    a = np.random.default_rng(12).standard_normal((200, 50, 20))
    fn = "feature_alpha_dropout" if feature else "alpha_dropout"
    yd = getattr(F, fn)(to_dagrad(a), 0.2, True).numpy()
    yt = getattr(TF, fn)(to_torch(a), 0.2, True).numpy()
    assert abs(yd.mean() - yt.mean()) < 0.02 and abs(yd.var() - yt.var()) < 0.03
    # dropped entries all take the same value as PyTorch's
    al, p = 1.7580993408473766, 0.2
    k = 1.0 / np.sqrt((al * al * p + 1) * (1 - p))
    dropped = -al * k + al * k * p  # noise 0: b = (0 - 1) * alpha * a + alpha * a * p
    assert np.isclose(yd, dropped).mean() > 0.15
    assert np.isclose(yt, dropped).mean() > 0.15


@pytest.mark.parametrize("case", [
    "F.dropout(torch.arange(5), 0.3)", "F.alpha_dropout(torch.arange(5), 0.3, True)",
    "F.dropout(torch.ones(3, dtype=torch.bool), 0.5)", "F.dropout(torch.arange(5), 0.3, False)",
    "F.dropout2d(torch.ones(5), 0.3)", "F.feature_alpha_dropout(torch.ones(5), 0.3, True)",
    "torch.feature_dropout(torch.ones(5), 0.3, True)", "F.dropout(torch.ones(5), -0.1)",
    "F.dropout1d(torch.ones(2, 3, 4, 5), 0.3)", "F.dropout1d(torch.ones(2, 3, 4, 5), 1.3)",
    "F.alpha_dropout(torch.ones(3), 2.0, True)", "F.dropout(torch.arange(5), 1.0)"])
def test_dropout_errors(case):
    _both(lambda: eval(case, {"F": TF, "torch": torch}),
          lambda: eval(case, {"F": F, "torch": dagrad}))


def test_dropout_warnings():
    for case in ("F.dropout3d(M.ones(3, 4), 0.3)", "F.dropout2d(M.ones(3, 4, 5), 0.3)",
                 "F.dropout2d(M.ones(3, 4), 0.3)"):
        msgs = []
        for M, F_ in ((torch, TF), (dagrad, F)):
            with pytest.warns(UserWarning) as rec:
                eval(case, {"F": F_, "M": M})
            msgs.append([str(w.message) for w in rec])
        assert msgs[0] == msgs[1]


# ---------------------------------------------------------------- 7. index_put graphs
_IDX = np.array([0, 2, 0])
_IDX2 = np.array([1, 3])


def _setitem(y, k, v):
    y[k] = v
    return y


def _iadd(y, k, v):
    y[k] += v
    return y


_PUTS = {
    "index_put_ acc": lambda M, w, v, v1: (w * 1).index_put_((M.tensor(_IDX),), v, accumulate=True),
    "index_put_ noacc": lambda M, w, v, v1: (w * 1).index_put_((M.tensor(_IDX2),), v[:2]),
    "index_put acc": lambda M, w, v, v1: w.index_put((M.tensor(_IDX),), v, accumulate=True),
    "index_put noacc": lambda M, w, v, v1: w.index_put((M.tensor(_IDX2),), v[:2]),
    "index_put_ 2idx": lambda M, w, v, v1: (w * 1).index_put_(
        (M.tensor(_IDX), M.tensor(_IDX)), v1, accumulate=True),
    "index_put_ bcast": lambda M, w, v, v1: (w * 1).index_put_((M.tensor(_IDX),), v1, True),
    "index_put_ 0d": lambda M, w, v, v1: (w * 1).index_put_((M.tensor(1),), v1),
    "index_put_ 0d acc": lambda M, w, v, v1: (w * 1).index_put_((M.tensor(1),), v1, True),
    "index_put_ bool": lambda M, w, v, v1: (w * 1).index_put_((w.detach() > 0,), v1[0]),
    "index_put_ bool acc": lambda M, w, v, v1: (w * 1).index_put_((w.detach() > 0,), v1[0],
                                                                 True),
    "index_put_ list": lambda M, w, v, v1: (w * 1).index_put_([M.tensor(_IDX)], v, True),
    "index_put v only": lambda M, w, v, v1: w.detach().index_put((M.tensor(_IDX),), v, True),
    "index_put_ v only": lambda M, w, v, v1: w.detach().clone().index_put_(
        (M.tensor(_IDX2),), v[:2]),
    "torch.index_put": lambda M, w, v, v1: M.index_put(w, (M.tensor(_IDX),), v, True),
    "torch.index_put_": lambda M, w, v, v1: M.index_put_(w * 1, (M.tensor(_IDX),), v, True),
    "x[idx] += v": lambda M, w, v, v1: _iadd(w * 1, M.tensor(_IDX2), v[:2]),
    "x[idx] = v": lambda M, w, v, v1: _setitem(w * 1, M.tensor(_IDX2), v[:2]),
    "x[0] = v1": lambda M, w, v, v1: _setitem(w * 1, 0, v1),
}


@pytest.mark.parametrize("name", list(_PUTS))
def test_index_put_graph_matches_torch(name):
    rng = np.random.default_rng(13)
    a, b, c = rng.standard_normal((4, 3)), rng.standard_normal((3, 3)), rng.standard_normal(3)
    res = {}
    for M in (torch, dagrad):
        w, v, v1 = (M.from_numpy(t.copy()).requires_grad_() for t in (a, b, c))
        y = _PUTS[name](M, w, v, v1)
        edges = [None if n is None else type(n).__name__ for n, _ in y.grad_fn.next_functions]
        (y * M.from_numpy(np.arange(12.0).reshape(4, 3))).sum().backward()
        res[M] = (_chain(y), edges, y, w.grad, v.grad, v1.grad)
    t, d = res[torch], res[dagrad]
    assert d[:2] == t[:2]
    for x_, y_ in zip(d[2:], t[2:]):
        if y_ is None:
            assert x_ is None
        else:
            assert_close(x_, y_, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("acc", [False, True])
def test_index_put_gradcheck(acc):
    rng = np.random.default_rng(14)
    w, v = to_dagrad(rng.standard_normal((4, 3)), True), to_dagrad(rng.standard_normal(3), True)
    idx = (dagrad.tensor([0, 2, 0] if acc else [0, 2]),)
    assert dagrad.autograd.gradcheck(lambda a, b: a.index_put(idx, b, acc), (w, v))
    assert dagrad.autograd.gradgradcheck(lambda a, b: (a.index_put(idx, b, acc) ** 2), (w, v))
    assert dagrad.autograd.gradcheck(lambda a, b: (a * 1).index_put_(idx, b, acc), (w, v))


@pytest.mark.parametrize("case", [
    "w.index_put_((idx,), M.ones(3, 3, dtype=M.float64), accumulate=True)",
    "w.index_put((idx,), M.ones(3, 3, dtype=M.float64))",
    "w.index_put_((idx,), M.ones(2, 3), accumulate=True)",
    "w.index_put_(idx, M.ones(3, 3))", "w.index_put_((idx,), 1.0)",
    "w.index_put((idx,), 1.0, True)",
    "w.index_put_((idx,), M.ones(3, 3), True)", "w.index_put((M.tensor(1),), M.ones(3))",
    "w.half().index_put_((idx,), M.ones(3, 3, dtype=M.float16) / 3, True)",
    "w.long().index_put((idx,), M.ones(3, 3, dtype=M.long), True)",
])
def test_index_put_values_and_errors(case):
    def run(M):
        w = M.zeros(4, 3)
        idx = M.tensor(_IDX)
        r = eval(case, {"M": M, "w": w, "idx": idx})
        return r, w
    _both(lambda: run(torch), lambda: run(dagrad))


def test_index_put_inplace_version_and_bf16():
    for M in (torch, dagrad):
        x = M.zeros(4)
        v0 = x._version
        x.index_put_((M.tensor([1, 1]),), M.ones(2), accumulate=True)
        assert x._version == v0 + 1 and x.tolist() == [0.0, 2.0, 0.0, 0.0]
    # bfloat16 accumulates in bfloat16, sequentially into x, as PyTorch's CPU kernel
    idx = np.zeros(600, dtype=np.int64)
    t = torch.full((2,), 256.0, dtype=torch.bfloat16).index_put_(
        (torch.from_numpy(idx),), torch.ones(600, dtype=torch.bfloat16), accumulate=True)
    d = dagrad.full((2,), 256.0, dtype=dagrad.bfloat16).index_put_(
        (dagrad.from_numpy(idx),), dagrad.ones(600, dtype=dagrad.bfloat16), accumulate=True)
    assert d.float().tolist() == t.float().tolist()


# ---------------------------------------------------------------- 8. torch.__version__ under the shim
_VERSION_SCRIPT = '''
import torch
import torch.nn as nn
import torch.version
from packaging import version
import dagrad
v = torch.__version__
print(str(v), torch.__name__, dagrad.__version__, torch.version.__version__, torch.version.cuda)
print(version.parse(v) >= version.parse("1.10"), v >= "1.10", v >= (1, 10), v >= (2, 13),
      v < "2.14", v > "2.13.0", v == "2.13.0", v.split("+")[0], v.startswith("2."),
      int(v.split(".")[0]) >= 2, v >= "2.13.0a0", v < "2.13.1.dev0", v == str(v), {v: 1}[str(v)])
print(torch.Tensor is dagrad.Tensor, torch.nn is dagrad.nn, nn.Linear(2, 3).weight.shape)
'''


def test_shim_version(tmp_path):
    """Under `dagrad run`, torch.__version__ is "2.13.0+dagrad<release>": PyTorch's API release
    with dagrad's as a PEP 440 local label (like torch's "2.13.0+cpu"), comparing as a version;
    dagrad.__version__ stays its own."""
    import os
    import subprocess
    import sys
    s = tmp_path / "ver.py"
    s.write_text(_VERSION_SCRIPT)
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    r = subprocess.run([sys.executable, "-m", "dagrad", "run", str(s)], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    exp = f"2.13.0+dagrad{dagrad.__version__}"
    assert lines[0] == f"{exp} dagrad {dagrad.__version__} {exp} None"
    # the same checks on torch 2.13's own "2.13.0+cpu" give the same answers
    tv = torch.__version__
    assert str(tv) == "2.13.0+cpu"
    want = [tv >= "1.10", tv >= "1.10", tv >= (1, 10), tv >= (2, 13), tv < "2.14", tv > "2.13.0",
            tv == "2.13.0", "2.13.0", True, True, tv >= "2.13.0a0", tv < "2.13.1.dev0", True, 1]
    assert lines[1] == " ".join(str(w) for w in want)
    assert lines[2] == "True True torch.Size([3, 2])"
    assert dagrad.__version__ == "0.1.0"


@pytest.mark.parametrize("other", ["1.10", "2", "2.13", "2.13.0", "2.13.0+cpu", "2.13.0+dagrad0.2",
                                   "2.13.0+dagrad0.1.0", "2.13.1", "2.13.0rc1", "2.13.0.post1",
                                   "2.14.0.dev20250101", "3.0a1", (2, 13), (2, 12, 9)])
def test_torch_version_compares_as_pep440(other):
    from packaging.version import InvalidVersion, Version

    from dagrad.torch_shim import TorchVersion
    v = TorchVersion("2.13.0+dagrad0.1.0")
    try:
        o = Version(".".join(map(str, other)) if isinstance(other, tuple) else other)
    except InvalidVersion:
        o = None
    if o is None:  # not a version: compares as a string
        assert (v < other) == (str(v) < other)
        return
    pv = Version(str(v))
    assert (v < other, v <= other, v > other, v >= other, v == other, v != other) == \
        (pv < o, pv <= o, pv > o, pv >= o, pv == o, pv != o)


# ---------------------------------------------------------------- 9. optimizer state set-up
_OPTS = {
    "Adam": dict(lr=0.01), "Adam-ams": ("Adam", dict(lr=0.01, amsgrad=True)),
    "AdamW-ams": ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    "RMSprop": dict(lr=0.01), "RMSprop-mc": ("RMSprop", dict(lr=0.01, momentum=0.9,
                                                              centered=True)),
    "NAdam": dict(lr=0.01), "Rprop": dict(lr=0.01), "Adagrad": dict(lr=0.1),
    "ASGD": dict(lr=0.01), "Adadelta": dict(lr=1.0), "Adamax": dict(lr=0.01),
    "RAdam": dict(lr=0.01),
}


@pytest.mark.parametrize("name", list(_OPTS))
def test_optimizer_state_setup_matches_torch(name):
    """The shared _init_group helper creates PyTorch's state (names, order, dtypes, values)
    and steps as before: parameters and state after 3 steps (one parameter without grad)."""
    cls, kw = _OPTS[name] if isinstance(_OPTS[name], tuple) else (name, _OPTS[name])
    rng = np.random.default_rng(15)
    ws = [rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(2)]
    gs = [[rng.standard_normal(w.shape) for w in ws] for _ in range(3)]
    out = {}
    for M in (torch, dagrad):
        ps = [M.from_numpy(w.copy()).requires_grad_() for w in ws]
        opt = getattr(M.optim, cls)(ps, **kw)
        for step in range(3):
            for p, g in zip(ps[:2], gs[step]):
                p.grad = M.from_numpy(g.copy())
            opt.step()
        out[M] = (ps, [opt.state[p] for p in ps])
    for pd, pt in zip(out[dagrad][0], out[torch][0]):
        assert_close(pd, pt, atol=1e-12, rtol=1e-10)
    for sd, st in zip(out[dagrad][1], out[torch][1]):
        assert list(sd.keys()) == list(st.keys())
        for k in st:
            assert_close(sd[k], st[k], atol=1e-12, rtol=1e-10, msg=k)
