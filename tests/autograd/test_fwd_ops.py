"""forward_ad tangents of every elementwise op (enumerated), pooling, interpolate, unfold/fold,
pad and linalg.svd/qr cases vs torch.autograd.forward_ad and float64 finite differences."""
import warnings

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfw

import dagrad
import dagrad.autograd.forward_ad as dfw

R = np.random.RandomState(0)
A = R.rand(3, 4) * 0.8 + 0.1
B = R.rand(3, 4) * 0.8 + 0.15
TA = R.randn(3, 4)
TB = R.randn(3, 4)

# not ops on values, or tensors without float results worth checking
_NOT_OPS = {"bfloat16", "half", "float", "backward", "register_hook", "retain_grad",
            "register_post_accumulate_grad_hook", "numpy", "tolist", "item", "cuda", "cpu",
            "pin_memory", "new_empty", "detach", "new_tensor", "data_ptr", "storage_offset",
            "untyped_storage", "apply", "map", "new_full", "new_ones", "new_zeros"}
_RANDOM = {"bernoulli"}
_PIECEWISE = {"remainder", "fmod"}  # jumps inside the sampled range: no finite differences


def _probe(name):
    """'unary' / 'binary' when torch's Tensor.<name>(x) / (x, y) is a same-shape float op."""
    x, y = torch.tensor(A), torch.tensor(B)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kind, call in (("unary", lambda: getattr(x, name)()),
                           ("binary", lambda: getattr(x, name)(y))):
            try:
                o = call()
            except Exception:
                continue
            if isinstance(o, torch.Tensor) and o.dtype == torch.float64 and o.shape == (3, 4):
                return kind
    return None


def _elementwise_cases():
    names = sorted(n for n, f in vars(dagrad.Tensor).items()
                   if callable(f) and not n.startswith("_") and not n.endswith("_")
                   and n not in _NOT_OPS and hasattr(torch.Tensor, n))
    return [(n, k) for n in names for k in [_probe(n)] if k is not None]


ELEMENTWISE = _elementwise_cases()


def _call(lib, name, kind, x, y):
    return getattr(x, name)() if kind == "unary" else getattr(x, name)(y)


def _tangent(lib, F, fn):
    with F.dual_level():
        x = F.make_dual(lib.tensor(A), lib.tensor(TA))
        y = F.make_dual(lib.tensor(B), lib.tensor(TB))
        o = fn(lib, x, y)
        p, t = F.unpack_dual(o)
        return p, t


def test_enumeration_covers_the_elementwise_ops():
    names = {n for n, _ in ELEMENTWISE}
    for n in ("exp", "erfinv", "lgamma", "digamma", "xlogy", "hypot", "logaddexp", "sinc",
              "atan2", "clamp", "maximum", "lerp" if False else "pow", "sgn", "frac", "i0",
              "logit", "nan_to_num", "copysign", "deg2rad", "float_power", "nextafter"):
        assert n in names, n
    assert len(names) > 90


@pytest.mark.parametrize("name,kind", ELEMENTWISE, ids=[n for n, _ in ELEMENTWISE])
def test_elementwise_tangent_matches_torch(name, kind):
    fn = lambda lib, x, y: _call(lib, name, kind, x, y)  # noqa: E731
    try:
        tp, tt = _tangent(torch, tfw, fn)
    except NotImplementedError as e:  # torch has no forward derivative: dagrad raises too
        with pytest.raises(NotImplementedError, match="Trying to use forward AD with"):
            _tangent(dagrad, dfw, fn)
        assert "forward AD" in str(e)
        return
    dp, dt = _tangent(dagrad, dfw, fn)
    if name in _RANDOM:  # different generators: only the (zero) tangent can be compared
        assert dt is not None and tt is not None and not dt.numpy().any() and not tt.numpy().any()
        return
    np.testing.assert_allclose(dp.detach().numpy(), tp.detach().numpy(), rtol=1e-10,
                               equal_nan=True)
    assert dt is not None, f"{name}: no tangent"
    if tt is None:
        tt = torch.zeros_like(tp)
    assert dt.dtype == dagrad.float64
    np.testing.assert_allclose(dt.numpy(), tt.numpy(), rtol=1e-8, atol=1e-10, equal_nan=True)
    if name in _PIECEWISE:
        return
    eps = 1e-6
    f = lambda s: _call(dagrad, name, kind, dagrad.tensor(A + s * TA),  # noqa: E731
                        dagrad.tensor(B + s * TB)).numpy()
    fd = (f(eps) - f(-eps)) / (2 * eps)
    ok = np.isfinite(fd) & np.isfinite(dt.numpy())
    np.testing.assert_allclose(dt.numpy()[ok], fd[ok], rtol=1e-5, atol=1e-6)


F_UNARY = ["gelu", "silu", "mish", "softplus", "elu", "selu", "celu", "leaky_relu", "hardtanh",
           "hardswish", "hardsigmoid", "relu6", "logsigmoid", "softsign", "tanhshrink",
           "softshrink", "hardshrink"]
SPECIAL = ["erfcx", "ndtr", "ndtri", "log_ndtr", "i0e", "i1", "i1e", "expit", "entr", "sinc",
           "xlog1py", "zeta", "bessel_j0", "bessel_j1", "digamma", "gammaln", "psi", "logit"]


def _fn_cases():
    cases = []
    for n in F_UNARY:
        if hasattr(dagrad.nn.functional, n):
            cases.append(("F." + n, lambda lib, x, y, n=n: getattr(lib.nn.functional, n)(
                x * 4 - 2)))
    for n in SPECIAL:
        if hasattr(dagrad.special, n) and hasattr(torch.special, n):
            if n in ("xlog1py", "zeta"):
                cases.append(("special." + n, lambda lib, x, y, n=n: getattr(lib.special, n)(
                    x + 1.5, y)))
            else:
                cases.append(("special." + n, lambda lib, x, y, n=n: getattr(lib.special, n)(
                    x)))
    return cases


FN_CASES = _fn_cases()


@pytest.mark.parametrize("name,fn", FN_CASES, ids=[c[0] for c in FN_CASES])
def test_functional_and_special_tangents(name, fn):
    try:
        tp, tt = _tangent(torch, tfw, fn)
    except NotImplementedError as e:
        with pytest.raises(NotImplementedError) as d:
            _tangent(dagrad, dfw, fn)
        assert str(d.value) == str(e)
        return
    dp, dt = _tangent(dagrad, dfw, fn)
    np.testing.assert_allclose(dp.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-12)
    # torch's hardsigmoid / leaky_relu tangents use float32 constants (1/6, the slope)
    f32 = "hardsig" in name or "leaky" in name
    np.testing.assert_allclose(dt.numpy(), tt.numpy(), rtol=1e-7 if f32 else 1e-8, atol=1e-10)
    eps = 1e-6
    f = lambda s: fn(dagrad, dagrad.tensor(A + s * TA), dagrad.tensor(B + s * TB))  # noqa
    np.testing.assert_allclose(dt.numpy(), ((f(eps) - f(-eps)) / (2 * eps)).numpy(),
                               rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- pooling & co.
def _nf(lib):
    return lib.nn.functional


POOL = {
    "max_pool1d": ((2, 3, 9), lambda L, x: _nf(L).max_pool1d(x, 3, 2, 1)),
    "max_pool1d_ceil_dil": ((2, 3, 10), lambda L, x: _nf(L).max_pool1d(x, 3, 2, 1, 2, True)),
    "max_pool2d": ((2, 3, 7, 7), lambda L, x: _nf(L).max_pool2d(x, 3, 2, 1)),
    "max_pool2d_unbatched": ((3, 6, 6), lambda L, x: _nf(L).max_pool2d(x, 2)),
    "max_pool2d_indices": ((2, 3, 6, 6), lambda L, x: _nf(L).max_pool2d(
        x, 2, return_indices=True)[0]),
    "max_pool3d": ((1, 2, 4, 4, 4), lambda L, x: _nf(L).max_pool3d(x, 2)),
    "avg_pool1d": ((2, 3, 9), lambda L, x: _nf(L).avg_pool1d(x, 3, 2, 1)),
    "avg_pool2d": ((2, 3, 7, 7), lambda L, x: _nf(L).avg_pool2d(x, 3, 2, 1,
                                                               count_include_pad=False)),
    "avg_pool2d_divisor": ((2, 3, 7, 7), lambda L, x: _nf(L).avg_pool2d(
        x, 2, ceil_mode=True, divisor_override=3)),
    "avg_pool3d": ((1, 2, 4, 4, 4), lambda L, x: _nf(L).avg_pool3d(x, 2)),
    "adaptive_avg_pool1d": ((2, 3, 9), lambda L, x: _nf(L).adaptive_avg_pool1d(x, 4)),
    "adaptive_avg_pool2d": ((2, 3, 7, 6), lambda L, x: _nf(L).adaptive_avg_pool2d(x, (3, 2))),
    "adaptive_avg_pool3d": ((1, 2, 5, 4, 4), lambda L, x: _nf(L).adaptive_avg_pool3d(x, 2)),
    "adaptive_max_pool1d": ((2, 3, 9), lambda L, x: _nf(L).adaptive_max_pool1d(x, 4)),
    "adaptive_max_pool2d": ((2, 3, 7, 6), lambda L, x: _nf(L).adaptive_max_pool2d(x, (3, 2))),
    "adaptive_max_pool3d": ((1, 2, 5, 4, 4), lambda L, x: _nf(L).adaptive_max_pool3d(x, 2)),
    "lp_pool1d": ((2, 3, 8), lambda L, x: _nf(L).lp_pool1d(x, 3, 2)),
    "lp_pool2d": ((2, 3, 6, 6), lambda L, x: _nf(L).lp_pool2d(x, 2, 2)),
    "interpolate_nearest": ((2, 3, 4, 4), lambda L, x: _nf(L).interpolate(x, size=(5, 7))),
    "interpolate_bilinear": ((2, 3, 4, 4), lambda L, x: _nf(L).interpolate(
        x, scale_factor=2, mode="bilinear")),
    "interpolate_bilinear_ac": ((2, 3, 4, 4), lambda L, x: _nf(L).interpolate(
        x, size=(6, 5), mode="bilinear", align_corners=True)),
    "interpolate_linear": ((2, 3, 5), lambda L, x: _nf(L).interpolate(x, size=8,
                                                                      mode="linear")),
    "interpolate_bicubic": ((1, 2, 4, 4), lambda L, x: _nf(L).interpolate(
        x, scale_factor=2, mode="bicubic")),
    "interpolate_trilinear": ((1, 2, 3, 3, 3), lambda L, x: _nf(L).interpolate(
        x, scale_factor=2, mode="trilinear")),
    "unfold": ((2, 3, 5, 5), lambda L, x: _nf(L).unfold(x, 2, dilation=1, padding=1,
                                                        stride=2)),
    "fold": ((2, 12, 12), lambda L, x: _nf(L).fold(x, (4, 5), 2)),
    "pad_constant_value": ((2, 3, 4), lambda L, x: _nf(L).pad(x, (1, 2), value=3.0)),
    "pad_reflect": ((2, 3, 4), lambda L, x: _nf(L).pad(x, (1, 2), mode="reflect")),
    "pad_replicate": ((2, 3, 4, 4), lambda L, x: _nf(L).pad(x, (1, 2, 2, 0),
                                                            mode="replicate")),
    "pixel_shuffle": ((1, 8, 2, 3), lambda L, x: _nf(L).pixel_shuffle(x, 2)),
}


@pytest.mark.parametrize("name", sorted(POOL))
def test_pool_and_resampling_tangents(name):
    shape, fn = POOL[name]
    r = np.random.RandomState(1)
    x, t = r.randn(*shape), r.randn(*shape)
    res = []
    for lib, F in ((torch, tfw), (dagrad, dfw)):
        with F.dual_level():
            try:
                o = fn(lib, F.make_dual(lib.tensor(x), lib.tensor(t)))
            except (NotImplementedError, AttributeError) as e:
                if lib is dagrad:
                    pytest.skip(f"dagrad has no {name} yet: {e}")
                raise
            res.append(F.unpack_dual(o))
    (tp, tt), (dp, dt) = res
    np.testing.assert_allclose(dp.numpy(), tp.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dt.numpy(), tt.numpy(), rtol=1e-9, atol=1e-10)
    eps = 1e-6
    f = lambda s: fn(dagrad, dagrad.tensor(x + s * t)).numpy()  # noqa: E731
    np.testing.assert_allclose(dt.numpy(), (f(eps) - f(-eps)) / (2 * eps), rtol=1e-5,
                               atol=1e-6)


# ---------------------------------------------------------------- linalg.svd / qr
def _align(Ut, Ud):
    """Column signs that map dagrad's singular vectors onto torch's (a gauge freedom)."""
    return np.sign(np.sum(Ut * Ud, axis=-2, keepdims=True))


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 5, 3), (2, 3, 5)])
@pytest.mark.parametrize("full", [True, False])
def test_svd_tangents(shape, full):
    r = np.random.RandomState(2)
    a, t = r.randn(*shape), r.randn(*shape)
    res = []
    for lib, F in ((torch, tfw), (dagrad, dfw)):
        with F.dual_level():
            out = lib.linalg.svd(F.make_dual(lib.tensor(a), lib.tensor(t)),
                                 full_matrices=full)
            res.append([[z.numpy() for z in F.unpack_dual(o)] for o in out])
    (Ut, dUt), (St, dSt), (Vht, dVht) = res[0]
    (Ud, dUd), (Sd, dSd), (Vhd, dVhd) = res[1]
    k = St.shape[-1]
    s = _align(Ut[..., :k], Ud[..., :k])          # (..., 1, k)
    np.testing.assert_allclose(Sd, St, rtol=1e-12)
    np.testing.assert_allclose(dSd, dSt, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(dUd[..., :k] * s, dUt[..., :k], rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(dVhd[..., :k, :] * np.swapaxes(s, -1, -2), dVht[..., :k, :],
                               rtol=1e-9, atol=1e-10)
    # the completing columns / rows of full_matrices get zero tangents, as in torch
    np.testing.assert_array_equal(dUd[..., k:], dUt[..., k:])
    np.testing.assert_array_equal(dVhd[..., k:, :], dVht[..., k:, :])
    # the gauge-invariant part against finite differences: d(U S Vh) = dA
    rec = (dUd[..., :k] * Sd[..., None, :]) @ Vhd[..., :k, :] + \
        (Ud[..., :k] * dSd[..., None, :]) @ Vhd[..., :k, :] + \
        (Ud[..., :k] * Sd[..., None, :]) @ dVhd[..., :k, :]
    np.testing.assert_allclose(rec, t, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 5, 3), (2, 3, 5)])
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr_tangents_and_errors(shape, mode):
    r = np.random.RandomState(3)
    a, t = r.randn(*shape), r.randn(*shape)
    res = []
    for lib, F in ((torch, tfw), (dagrad, dfw)):
        with F.dual_level():
            try:
                out = lib.linalg.qr(F.make_dual(lib.tensor(a), lib.tensor(t)), mode=mode)
                res.append([F.unpack_dual(o).tangent.numpy() for o in out])
            except RuntimeError as e:
                res.append(("err", str(e)))
    assert type(res[0]) is type(res[1])
    if isinstance(res[0], tuple):
        assert res[1] == res[0]
        return
    for d, tt in zip(res[1], res[0]):
        np.testing.assert_allclose(d, tt, rtol=1e-9, atol=1e-10)
    eps = 1e-6
    f = lambda s: [z.numpy() for z in dagrad.linalg.qr(  # noqa: E731
        dagrad.tensor(a + s * t), mode=mode)]
    for d, p, m in zip(res[1], f(eps), f(-eps)):
        np.testing.assert_allclose(d, (p - m) / (2 * eps), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- ops without a JVP rule
# (their tangent comes from their reverse-mode rule: J t = d<J^T u, t>/du)
X1, Y1 = R.randn(4, 5), R.randn(4, 5)
COMPOSITE = {
    "bce_with_logits": (lambda L, a, b: L.nn.functional.binary_cross_entropy_with_logits(
        a, b.sigmoid()), (X1, Y1)),
    "baddbmm": (lambda L, a, b, c: L.baddbmm(a, b, c, beta=0.5, alpha=2.0),
                (R.randn(2, 3, 3), R.randn(2, 3, 4), R.randn(2, 4, 3))),
    "logcumsumexp": (lambda L, a: a.logcumsumexp(1), (X1,)),
    "cross_entropy": (lambda L, a: L.nn.functional.cross_entropy(
        a, L.tensor([0, 3, 1, 4]), label_smoothing=0.1), (X1,)),
    "layer_norm": (lambda L, a, w: L.nn.functional.layer_norm(a, (5,), w), (X1, R.randn(5))),
    "group_norm": (lambda L, a: L.nn.functional.group_norm(a, 3), (R.randn(2, 6, 3, 3),)),
    "sdpa": (lambda L, q, k, v: L.nn.functional.scaled_dot_product_attention(q, k, v),
             (R.randn(2, 3, 4), R.randn(2, 3, 4), R.randn(2, 3, 4))),
    "einsum": (lambda L, a, b: L.einsum("ij,kj->ik", a, b), (X1, Y1)),
    "sort_topk": (lambda L, a: a.sort(1)[0][:, :3] + a.topk(3, 1)[0], (X1,)),
    "kthvalue_median": (lambda L, a: a.kthvalue(2, 1)[0] + a.median(1)[0], (X1,)),
    "quantile": (lambda L, a: a.quantile(0.3, 1), (X1,)),
    "polar_real_imag": (lambda L, a, b: L.polar(a.abs() + 0.1, b).real * 2
                        + L.polar(a.abs() + 0.1, b).imag, (X1, Y1)),
    "mH": (lambda L, a, b: a.mH @ b + a.H @ b, (X1, Y1)),
    # elementwise ops of three tensors
    "lerp_tensor_weight": (lambda L, a, b, w: L.lerp(a, b, w), (X1, Y1, R.rand(4, 5))),
    "addcmul": (lambda L, a, b, c: L.addcmul(a, b, c, value=0.3), (X1, Y1, R.randn(4, 5))),
    "addcdiv": (lambda L, a, b, c: L.addcdiv(a, b, c.exp(), value=2), (X1, Y1, R.randn(4, 5))),
    "where": (lambda L, a, b: L.where(a > b, a, b * 2), (X1, Y1)),
    "clamp_tensor_bounds": (lambda L, a, b, c: a.clamp(b - 0.5, b + c.abs()),
                            (X1, Y1, R.randn(4, 5))),
}


@pytest.mark.parametrize("name", sorted(COMPOSITE))
def test_ops_without_jvp_rule_match_torch(name):
    fn, arrs = COMPOSITE[name]
    r = np.random.RandomState(5)
    ts = [r.randn(*a.shape) for a in arrs]
    res = []
    for lib, F in ((torch, tfw), (dagrad, dfw)):
        with F.dual_level():
            o = fn(lib, *[F.make_dual(lib.tensor(a), lib.tensor(t)) for a, t in zip(arrs, ts)])
            res.append(F.unpack_dual(o))
    (tp, tt), (dp, dt) = res
    np.testing.assert_allclose(dp.numpy(), tp.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dt.numpy(), tt.numpy(), rtol=1e-8, atol=1e-10)
    eps = 1e-6
    f = lambda s: fn(dagrad, *[dagrad.tensor(a + s * t) for a, t in  # noqa: E731
                              zip(arrs, ts)]).numpy()
    np.testing.assert_allclose(dt.numpy(), (f(eps) - f(-eps)) / (2 * eps), rtol=1e-5,
                               atol=1e-6)


def test_random_op_without_rule_uses_the_same_mask():
    """dropout(training=True): the tangent uses the primal's mask (the RNG is replayed)."""
    dagrad.manual_seed(0)
    with dfw.dual_level():
        x = dfw.make_dual(dagrad.tensor(X1), dagrad.ones(4, 5, dtype=dagrad.float64))
        y = dagrad.nn.functional.dropout(x, 0.5, training=True)
        p, t = dfw.unpack_dual(y)
    np.testing.assert_array_equal(t.numpy(), (p.numpy() != 0) * 2.0)
    after = dagrad.rand(3)
    dagrad.manual_seed(0)
    dagrad.nn.functional.dropout(dagrad.tensor(X1), 0.5, training=True)
    np.testing.assert_array_equal(dagrad.rand(3).numpy(), after.numpy())  # RNG advanced once


def test_reverse_over_forward_through_a_fallback_op():
    """The fallback keeps the tangent differentiable in the primal (jacrev of a jvp)."""
    res = []
    for lib, F in ((torch, tfw), (dagrad, dfw)):
        x = lib.tensor(X1, requires_grad=True)
        with F.dual_level():
            y = F.make_dual(x * 1, lib.tensor(Y1))
            t = F.unpack_dual(lib.nn.functional.binary_cross_entropy_with_logits(
                y[:, :4], y[:, 1:].sigmoid(), reduction="none") * 2 + lib.baddbmm(
                y[None, :, :4], y[None], y[None].mT)[0]).tangent
        (g,) = lib.autograd.grad((t ** 2).sum(), x)
        res.append((t.detach().numpy(), g.numpy()))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-10)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-9)
