"""3-D pooling (ops/pool3d.py) vs torch 2.13: values, indices, gradients, double backward, node
names, errors, nn module reprs; float64 gradcheck; fractional max pooling with fixed samples."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dagrad
import dagrad.nn as dnn
import dagrad.nn.functional as F
from dagrad.autograd import gradcheck, gradgradcheck


def pair(shape, dtype=np.float32, seed=0, distinct=True):
    rng = np.random.default_rng(seed)
    if distinct:   # distinct values: no ties, so argmax positions are unambiguous
        a = rng.permutation(int(np.prod(shape))).reshape(shape).astype(dtype) / 7.0 - 3.0
    else:
        a = rng.standard_normal(shape).astype(dtype)
    return (dagrad.tensor(a.copy(), requires_grad=True),
            torch.tensor(a.copy(), requires_grad=True))


def close(d, t, atol=1e-5, rtol=1e-5):
    assert tuple(d.shape) == tuple(t.shape), (d.shape, t.shape)
    assert str(d.dtype) == str(t.dtype), (d.dtype, t.dtype)
    np.testing.assert_allclose(d.detach().numpy(), t.detach().numpy(), atol=atol, rtol=rtol)


def run_both(dfn, tfn, shape, seed=0, nout=1, distinct=True):
    xd, xt = pair(shape, seed=seed, distinct=distinct)
    od, ot = dfn(xd), tfn(xt)
    if isinstance(ot, tuple):
        for a, b in zip(od, ot):
            close(a, b)
        od, ot = od[0], ot[0]
    else:
        close(od, ot)
    g = np.random.default_rng(seed + 1).standard_normal(tuple(ot.shape)).astype(np.float32)
    od.backward(dagrad.tensor(g))
    ot.backward(torch.tensor(g))
    close(xd.grad, xt.grad)
    assert type(od.grad_fn).__name__ == type(ot.grad_fn).__name__
    return xd, xt


MAX_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=1),
    dict(kernel_size=(2, 3, 1), stride=(1, 2, 1)),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(3, 2, 3), stride=(2, 1, 2), padding=(1, 0, 1), dilation=(1, 2, 1)),
    dict(kernel_size=2, stride=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=2, stride=3, dilation=2, ceil_mode=True),
    dict(kernel_size=(1, 1, 1)),
    dict(kernel_size=[2], stride=[]),
]


@pytest.mark.parametrize("kw", MAX_CASES)
@pytest.mark.parametrize("shape", [(2, 3, 5, 6, 7), (3, 6, 5, 4)])
def test_max_pool3d_vs_torch(kw, shape):
    run_both(lambda x: F.max_pool3d(x, **kw, return_indices=True),
             lambda x: TF.max_pool3d(x, **kw, return_indices=True), shape)
    run_both(lambda x: F.max_pool3d(x, **kw), lambda x: TF.max_pool3d(x, **kw), shape, seed=3)


def test_max_pool3d_ties_and_nan():
    # ties: constant input -> PyTorch keeps the first position of each window
    a = np.ones((1, 2, 4, 4, 4), np.float32)
    od, idd = F.max_pool3d(dagrad.tensor(a), 3, 1, 1, return_indices=True)
    ot, idt = TF.max_pool3d(torch.tensor(a), 3, 1, 1, return_indices=True)
    assert np.array_equal(idd.numpy(), idt.numpy())
    a = np.random.default_rng(0).standard_normal((1, 2, 4, 5, 4)).astype(np.float32)
    a[0, 0, 1, 2, 3] = np.nan
    a[0, 1, 0, 0, 0] = np.nan
    a[0, 1, 1, 1, 1] = np.nan
    od, idd = F.max_pool3d(dagrad.tensor(a), 2, 1, return_indices=True)
    ot, idt = TF.max_pool3d(torch.tensor(a), 2, 1, return_indices=True)
    np.testing.assert_array_equal(od.numpy(), ot.numpy())
    assert np.array_equal(idd.numpy(), idt.numpy())


@pytest.mark.parametrize("dt", [torch.int64, torch.int32, torch.int16, torch.uint8,
                                torch.float64])
def test_max_pool3d_dtypes(dt):
    a = np.random.default_rng(1).integers(0, 50, (2, 2, 4, 5, 6))
    t = torch.tensor(a).to(dt)
    d = dagrad.tensor(t.numpy())
    od, idd = F.max_pool3d(d, 2, 1, 1, return_indices=True)
    ot, idt = TF.max_pool3d(t, 2, 1, 1, return_indices=True)
    assert str(od.dtype) == str(ot.dtype)
    np.testing.assert_array_equal(od.numpy(), ot.numpy())
    np.testing.assert_array_equal(idd.numpy(), idt.numpy())


AVG_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=1, padding=1),
    dict(kernel_size=3, stride=1, padding=1, count_include_pad=False),
    dict(kernel_size=(2, 3, 1), stride=(1, 2, 1), padding=(1, 1, 0)),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=2, stride=2, ceil_mode=True, divisor_override=3),
    dict(kernel_size=(3, 3, 2), stride=(2, 2, 3), ceil_mode=True),
    dict(kernel_size=2, stride=[]),
]


@pytest.mark.parametrize("kw", AVG_CASES)
@pytest.mark.parametrize("shape", [(2, 3, 5, 6, 7), (3, 6, 5, 4)])
def test_avg_pool3d_vs_torch(kw, shape):
    run_both(lambda x: F.avg_pool3d(x, **kw), lambda x: TF.avg_pool3d(x, **kw), shape,
             distinct=False)


def test_avg_pool3d_long_truncates_like_torch():
    a = np.random.default_rng(2).integers(-20, 20, (1, 2, 4, 5, 5))
    for kw in [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1,
                                         count_include_pad=False)]:
        od = F.avg_pool3d(dagrad.tensor(a), **kw)
        ot = TF.avg_pool3d(torch.tensor(a), **kw)
        assert str(od.dtype) == "torch.int64"
        np.testing.assert_array_equal(od.numpy(), ot.numpy())


@pytest.mark.parametrize("osz", [2, (2, 3, 4), (1, 1, 1), (3, None, 2), (5, 6, 7), (4, 5, 3)])
@pytest.mark.parametrize("shape", [(2, 3, 5, 6, 7), (3, 5, 6, 7)])
def test_adaptive_max_pool3d_vs_torch(osz, shape):
    run_both(lambda x: F.adaptive_max_pool3d(x, osz, return_indices=True),
             lambda x: TF.adaptive_max_pool3d(x, osz, return_indices=True), shape)
    run_both(lambda x: F.adaptive_max_pool3d(x, osz), lambda x: TF.adaptive_max_pool3d(x, osz),
             shape, seed=5)


def test_adaptive_max_pool3d_ties_and_nan():
    a = np.zeros((1, 2, 4, 5, 6), np.float32)
    a[0, 0, 1, 2, 3] = np.nan
    a[0, 0, 1, 2, 4] = np.nan
    a[0, 1, 3, 4, 5] = 1.0
    od, idd = F.adaptive_max_pool3d(dagrad.tensor(a), (2, 2, 2), return_indices=True)
    ot, idt = TF.adaptive_max_pool3d(torch.tensor(a), (2, 2, 2), return_indices=True)
    np.testing.assert_array_equal(od.numpy(), ot.numpy())
    np.testing.assert_array_equal(idd.numpy(), idt.numpy())


@pytest.mark.parametrize("osz", [2, (2, 3, 4), (3, None, 1)])
def test_adaptive_avg_pool3d_vs_torch(osz):
    run_both(lambda x: F.adaptive_avg_pool3d(x, osz), lambda x: TF.adaptive_avg_pool3d(x, osz),
             (2, 3, 5, 6, 7), distinct=False)


def test_max_unpool3d_vs_torch():
    xd, xt = pair((2, 3, 4, 6, 6))
    yd, id_ = F.max_pool3d(xd, 2, return_indices=True)
    yt, it = TF.max_pool3d(xt, 2, return_indices=True)
    for kw in [dict(), dict(output_size=(4, 6, 6)), dict(output_size=(2, 3, 5, 7, 7))]:
        ud = F.max_unpool3d(yd, id_, 2, **kw)
        ut = TF.max_unpool3d(yt, it, 2, **kw)
        close(ud, ut)
    g = np.random.default_rng(0).standard_normal(tuple(ut.shape)).astype(np.float32)
    ud.backward(dagrad.tensor(g))
    ut.backward(torch.tensor(g))
    close(xd.grad, xt.grad)
    assert type(ud.grad_fn).__name__ == "MaxUnpool3DBackward0" == type(ut.grad_fn).__name__


@pytest.mark.parametrize("kw", [dict(norm_type=2, kernel_size=2),
                                dict(norm_type=1.5, kernel_size=(2, 3, 2), stride=1),
                                dict(norm_type=3, kernel_size=2, stride=2, ceil_mode=True)])
def test_lp_pool3d_vs_torch(kw):
    a = np.random.default_rng(0).uniform(0.5, 2.0, (2, 2, 5, 5, 6)).astype(np.float32)
    xd, xt = dagrad.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    od, ot = F.lp_pool3d(xd, **kw), TF.lp_pool3d(xt, **kw)
    close(od, ot, atol=1e-4, rtol=1e-4)
    od.sum().backward()
    ot.sum().backward()
    close(xd.grad, xt.grad, atol=1e-4, rtol=1e-4)


def test_lp_pool3d_bad_kernel():
    x = dagrad.randn(1, 1, 4, 4, 4)
    with pytest.raises(ValueError, match=r"not enough values to unpack \(expected 3, got 2\)"):
        F.lp_pool3d(x, 2, (2, 2))


@pytest.mark.parametrize("nd,kw", [
    (2, dict(kernel_size=2, output_size=3)),
    (2, dict(kernel_size=(2, 3), output_size=(4, 3))),
    (2, dict(kernel_size=2, output_ratio=(0.5, 0.4))),
    (3, dict(kernel_size=2, output_size=3)),
    (3, dict(kernel_size=(2, 1, 3), output_size=(3, 4, 2))),
    (3, dict(kernel_size=2, output_ratio=(0.5, 0.6, 0.5))),
    (3, dict(kernel_size=2, output_size=1)),
])
@pytest.mark.parametrize("batched", [True, False])
def test_fractional_max_pool_vs_torch(nd, kw, batched):
    shape = (2, 3) + (7, 8, 6)[3 - nd:] if batched else (3,) + (7, 8, 6)[3 - nd:]
    N = 2 if batched else 1
    samples = np.random.default_rng(4).uniform(0, 1, (N, 3, nd)).astype(np.float32)
    dfn = F.fractional_max_pool2d if nd == 2 else F.fractional_max_pool3d
    tfn = TF.fractional_max_pool2d if nd == 2 else TF.fractional_max_pool3d
    run_both(lambda x: dfn(x, **kw, return_indices=True,
                           _random_samples=dagrad.tensor(samples)),
             lambda x: tfn(x, **kw, return_indices=True,
                           _random_samples=torch.tensor(samples)), shape)


def test_fractional_ratio_errors():
    _err(lambda: F.fractional_max_pool2d(dagrad.randn(1, 4, 4), 2, output_ratio=0.5),
         lambda: TF.fractional_max_pool2d(torch.randn(1, 4, 4), 2, output_ratio=0.5))
    _err(lambda: dnn.FractionalMaxPool3d(2), lambda: torch.nn.FractionalMaxPool3d(2))
    _err(lambda: dnn.FractionalMaxPool2d(2, output_ratio=1.5),
         lambda: torch.nn.FractionalMaxPool2d(2, output_ratio=1.5))
    _err(lambda: dnn.FractionalMaxPool2d(2, 2, 0.5),
         lambda: torch.nn.FractionalMaxPool2d(2, 2, 0.5))


def test_fractional_max_pool_random_samples_shape():
    x = dagrad.randn(2, 3, 8, 8, 8, requires_grad=True)
    y, i = F.fractional_max_pool3d(x, 2, output_size=4, return_indices=True)
    assert tuple(y.shape) == (2, 3, 4, 4, 4) and str(i.dtype) == "torch.int64"
    flat = x.detach().numpy().reshape(2, 3, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, i.numpy().reshape(2, 3, -1), -1),
                                  y.detach().numpy().reshape(2, 3, -1))
    with pytest.raises(ValueError, match="fractional_max_pool3d requires specifying either an "
                                         "output_size or an output_ratio"):
        F.fractional_max_pool3d(x, 2)


def test_double_backward_node_names_and_values():
    xd, xt = pair((2, 2, 4, 6, 6), dtype=np.float64)
    shape_o = {"max": (2, 2, 2, 3, 3), "avg": (2, 2, 2, 3, 3), "amax": (2, 2, 2, 3, 3)}
    fns = {"max": (lambda x: F.max_pool3d(x, 2), lambda x: TF.max_pool3d(x, 2)),
           "avg": (lambda x: F.avg_pool3d(x, 2), lambda x: TF.avg_pool3d(x, 2)),
           "amax": (lambda x: F.adaptive_max_pool3d(x, (2, 3, 3)),
                    lambda x: TF.adaptive_max_pool3d(x, (2, 3, 3)))}
    rng = np.random.default_rng(0)
    for k, (fd, ft) in fns.items():
        g = rng.standard_normal(shape_o[k])
        gd, gt = dagrad.tensor(g, requires_grad=True), torch.tensor(g, requires_grad=True)
        (dxd,) = dagrad.autograd.grad(fd(xd), xd, gd, create_graph=True)
        (dxt,) = torch.autograd.grad(ft(xt), xt, gt, create_graph=True)
        close(dxd, dxt)
        assert type(dxd.grad_fn).__name__ == type(dxt.grad_fn).__name__
        v = rng.standard_normal(tuple(dxt.shape))
        (ggd,) = dagrad.autograd.grad(dxd, gd, dagrad.tensor(v))
        (ggt,) = torch.autograd.grad(dxt, gt, torch.tensor(v))
        close(ggd, ggt)


@pytest.mark.parametrize("fn", [
    lambda x: F.max_pool3d(x, 2, 1, 1),
    lambda x: F.max_pool3d(x, (2, 1, 2), (1, 2, 1), dilation=(2, 1, 1), ceil_mode=True),
    lambda x: F.avg_pool3d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda x: F.avg_pool3d(x, 2, 1, 1, divisor_override=5),
    lambda x: F.adaptive_max_pool3d(x, (2, 3, 2)),
    lambda x: F.adaptive_avg_pool3d(x, (2, 3, 2)),
    lambda x: F.lp_pool3d(x * x + 0.5, 2, 2, 1),
    lambda x: F.fractional_max_pool3d(x, 2, output_size=2,
                                      _random_samples=dagrad.tensor([[[0.3, 0.6, 0.1]]] * 2,
                                                                    dtype=dagrad.float64)),
])
def test_gradcheck_float64(fn):
    a = np.random.default_rng(7).permutation(2 * 4 * 5 * 4).reshape(2, 1, 4, 5, 4) / 10.0
    x = dagrad.tensor(a, requires_grad=True)
    assert gradcheck(fn, (x,), eps=1e-6, atol=1e-5)
    assert gradgradcheck(fn, (x,), eps=1e-6, atol=1e-5)


def _err(dfn, tfn):
    with pytest.raises(Exception) as et:
        tfn()
    with pytest.raises(type(et.value)) as ed:
        dfn()
    assert str(ed.value) == str(et.value)


X5 = np.random.default_rng(0).standard_normal((2, 3, 4, 6, 6)).astype(np.float32)


@pytest.mark.parametrize("call", [
    ("max_pool3d", (np.zeros((3, 4, 5), np.float32), 2), {}),
    ("max_pool3d", (np.zeros((2, 3, 0, 4, 5), np.float32), 2), {}),
    ("max_pool3d", (X5, 2), dict(stride=0)),
    ("max_pool3d", (X5, 2), dict(stride=-1)),
    ("max_pool3d", (X5, -1), {}),
    ("max_pool3d", (X5, 2), dict(dilation=0)),
    ("max_pool3d", (X5, 2), dict(padding=2)),
    ("max_pool3d", (X5, (2, 3, 3)), dict(padding=(1, 1, 2), dilation=2)),
    ("max_pool3d", (X5, (2, 3, 3)), dict(padding=(1, 2, 1), dilation=2)),
    ("max_pool3d", (X5, (2, 2)), {}),
    ("max_pool3d", (X5, 2), dict(stride=(1, 1))),
    ("max_pool3d", (X5, 2), dict(padding=(1, 1))),
    ("max_pool3d", (X5, 2), dict(dilation=(1, 1))),
    ("max_pool3d", (X5, 9), {}),
    ("max_pool3d", (X5.astype(bool), 2), {}),
    ("avg_pool3d", (np.zeros((3, 4, 5), np.float32), 2), {}),
    ("avg_pool3d", (X5, 2), dict(stride=0)),
    ("avg_pool3d", (X5, 2), dict(stride=-1)),
    ("avg_pool3d", (X5, 2), dict(padding=2)),
    ("avg_pool3d", (X5, 5), dict(padding=2, stride=9)),
    ("avg_pool3d", (X5, 9), {}),
    ("avg_pool3d", (X5, (2, 2)), {}),
    ("avg_pool3d", (X5, 2), dict(stride=(1, 1))),
    ("avg_pool3d", (X5, 2), dict(padding=(1, 1))),
    ("avg_pool3d", (X5, 2), dict(divisor_override=0)),
    ("avg_pool3d", (X5.astype(np.int32), 2), {}),
    ("avg_pool3d", (X5.astype(np.float16), 2), {}),
    ("adaptive_max_pool3d", (np.zeros((3, 4), np.float32), 2), {}),
    ("adaptive_max_pool3d", (np.zeros((2, 3, 0, 4, 5), np.float32), 2), {}),
    ("adaptive_max_pool3d", (X5, (2, 2)), {}),
    ("adaptive_max_pool3d", (X5, -1), {}),
    ("adaptive_max_pool3d", (X5.astype(np.int64), 2), {}),
    ("adaptive_avg_pool3d", (np.zeros((3, 4), np.float32), 2), {}),
    ("adaptive_avg_pool3d", (X5, (2, 2)), {}),
])
def test_errors_match_torch(call):
    name, args, kw = call
    a = args[0]
    _err(lambda: getattr(F, name)(dagrad.tensor(a), *args[1:], **kw),
         lambda: getattr(TF, name)(torch.tensor(a), *args[1:], **kw))


def test_max_unpool3d_errors():
    xt = torch.tensor(X5)
    yt, it = TF.max_pool3d(xt, 2, return_indices=True)
    yd, id_ = dagrad.tensor(yt.numpy()), dagrad.tensor(it.numpy())
    _err(lambda: F.max_unpool3d(yd, id_, 2, output_size=(9, 9, 9)),
         lambda: TF.max_unpool3d(yt, it, 2, output_size=(9, 9, 9)))
    _err(lambda: F.max_unpool3d(yd, id_[..., :1], 2), lambda: TF.max_unpool3d(yt, it[..., :1], 2))
    bad = it.clone()
    bad[1, 2, 1, 0, 1] = 1000
    _err(lambda: F.max_unpool3d(yd, dagrad.tensor(bad.numpy()), 2),
         lambda: TF.max_unpool3d(yt, bad, 2))
    bad[1, 2, 1, 0, 1] = -3
    _err(lambda: F.max_unpool3d(yd, dagrad.tensor(bad.numpy()), 2),
         lambda: TF.max_unpool3d(yt, bad, 2))
    _err(lambda: F.max_unpool3d(yd, id_.int(), 2), lambda: TF.max_unpool3d(yt, it.int(), 2))
    _err(lambda: F.max_unpool3d(yd[0, 0], id_[0, 0], 2),
         lambda: TF.max_unpool3d(yt[0, 0], it[0, 0], 2))


MODULES = [
    ("MaxPool3d", (2,), {}),
    ("MaxPool3d", ((2, 3, 1),), dict(stride=1, padding=(1, 1, 0), dilation=2,
                                     return_indices=True, ceil_mode=True)),
    ("AvgPool3d", (2,), {}),
    ("AvgPool3d", ((2, 1, 2),), dict(stride=(1, 2, 1), padding=(1, 0, 1), ceil_mode=True,
                                     count_include_pad=False, divisor_override=3)),
    ("AdaptiveMaxPool3d", (2,), {}),
    ("AdaptiveMaxPool3d", ((2, None, 3),), dict(return_indices=True)),
    ("AdaptiveAvgPool3d", ((1, 2, 3),), {}),
    ("MaxUnpool3d", (2,), {}),
    ("MaxUnpool3d", ((2, 1, 2),), dict(stride=1, padding=1)),
    ("LPPool3d", (2, 2), {}),
    ("LPPool3d", (1.5, (2, 2, 2)), dict(stride=1, ceil_mode=True)),
    ("FractionalMaxPool3d", (2,), dict(output_size=3)),
    ("FractionalMaxPool2d", (2,), dict(output_ratio=0.5)),
]


@pytest.mark.parametrize("spec", MODULES)
def test_module_repr_and_forward(spec):
    name, args, kw = spec
    md = getattr(dnn, name)(*args, **kw)
    mt = getattr(torch.nn, name)(*args, **kw)
    assert repr(md) == repr(mt)
    if name.startswith(("Fractional", "MaxUnpool")):
        return
    a = np.random.default_rng(0).uniform(0.1, 2, (2, 3, 5, 6, 7)).astype(np.float32)
    od, ot = md(dagrad.tensor(a)), mt(torch.tensor(a))
    if isinstance(ot, tuple):
        for u, v in zip(od, ot):
            close(u, v, atol=1e-5)
    else:
        close(od, ot, atol=1e-5)


def test_max_unpool3d_module_roundtrip():
    a = np.random.default_rng(0).standard_normal((2, 3, 4, 6, 6)).astype(np.float32)
    pd, pt = dnn.MaxPool3d(2, return_indices=True), torch.nn.MaxPool3d(2, return_indices=True)
    ud, ut = dnn.MaxUnpool3d(2), torch.nn.MaxUnpool3d(2)
    close(ud(*pd(dagrad.tensor(a))), ut(*pt(torch.tensor(a))))


def test_forward_ad_3d_pools():
    import dagrad.autograd.forward_ad as fwAD
    a = np.random.default_rng(0).permutation(2 * 3 * 4 * 5 * 6).reshape(2, 3, 4, 5, 6) / 10.0
    t = np.random.default_rng(1).standard_normal(a.shape)
    import torch.autograd.forward_ad as tfw
    for fd, ft in [(lambda x: F.max_pool3d(x, 2, 1, 1), lambda x: TF.max_pool3d(x, 2, 1, 1)),
                   (lambda x: F.avg_pool3d(x, 2, 1, 1), lambda x: TF.avg_pool3d(x, 2, 1, 1)),
                   (lambda x: F.adaptive_max_pool3d(x, 3), lambda x: TF.adaptive_max_pool3d(x, 3))]:
        with fwAD.dual_level():
            yd = fd(fwAD.make_dual(dagrad.tensor(a), dagrad.tensor(t)))
            td = fwAD.unpack_dual(yd).tangent
        with tfw.dual_level():
            yt = ft(tfw.make_dual(torch.tensor(a), torch.tensor(t)))
            tt = tfw.unpack_dual(yt).tangent
        close(td, tt)


def _empty_window(sp, k, s, p, d, ceil):
    for i in range(3):
        o = (sp[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1 + (s[i] - 1 if ceil else 0)) // s[i] + 1
        for oo in range(max(o, 0)):
            st = oo * s[i] - p[i]
            if not any(0 <= st + j * d[i] < sp[i] for j in range(k[i])):
                return True
    return False


def test_random_sweep_vs_torch():
    """Random geometries (kernel, stride, padding, dilation, ceil_mode, count_include_pad,
    divisor_override, unbatched): values, indices, gradients, or the same error. Windows lying
    wholly in the padding are skipped (PyTorch's own indices are out of range there)."""
    rng = np.random.default_rng(123)
    compared = 0
    for _ in range(80):
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) + tuple(
            int(v) for v in rng.integers(1, 8, 3))
        if rng.random() < 0.3:
            shape = shape[1:]
        k = tuple(int(v) for v in rng.integers(1, 4, 3))
        s = tuple(int(v) for v in rng.integers(1, 4, 3))
        d = tuple(int(v) for v in rng.integers(1, 3, 3))
        p = tuple(int(rng.integers(0, (d[i] * (k[i] - 1) + 1) // 2 + 1)) for i in range(3))
        ceil = bool(rng.random() < 0.5)
        a = rng.standard_normal(shape)
        for kind in ("max", "avg"):
            kw = dict(kernel_size=k, stride=s, padding=p, ceil_mode=ceil)
            if kind == "max":
                kw.update(dilation=d, return_indices=True)
            else:
                kw.update(count_include_pad=bool(rng.random() < 0.5),
                          divisor_override=None if rng.random() < 0.7 else int(rng.integers(1, 5)),
                          padding=tuple(min(p[i], k[i] // 2) for i in range(3)))
            if _empty_window(shape[-3:], k, s, kw["padding"], d if kind == "max" else (1, 1, 1),
                             ceil):
                continue
            ft, fd = (TF.max_pool3d, F.max_pool3d) if kind == "max" else (TF.avg_pool3d,
                                                                          F.avg_pool3d)
            xt = torch.tensor(a, requires_grad=True)
            xd = dagrad.tensor(a, requires_grad=True)
            try:
                ot = ft(xt, **kw)
            except RuntimeError:
                _err(lambda: fd(xd, **kw), lambda: ft(xt, **kw))
                continue
            od = fd(xd, **kw)
            if kind == "max":
                np.testing.assert_array_equal(od[1].numpy(), ot[1].numpy())
                od, ot = od[0], ot[0]
            np.testing.assert_allclose(od.detach().numpy(), ot.detach().numpy(), atol=1e-12)
            g = rng.standard_normal(tuple(ot.shape))
            od.backward(dagrad.tensor(g))
            ot.backward(torch.tensor(g))
            np.testing.assert_allclose(xd.grad.numpy(), xt.grad.numpy(), atol=1e-12)
            compared += 1
    assert compared > 60


def test_fractional_size_errors():
    x5, x4 = np.random.default_rng(0).standard_normal((2, 5, 5, 5)), \
        np.random.default_rng(1).standard_normal((2, 5, 5))
    s3 = np.random.default_rng(2).uniform(0, 1, (1, 2, 3))
    s2 = np.random.default_rng(3).uniform(0, 1, (1, 2, 2))
    for k, o in [((2, 1, 1), (4, 1, 1)), ((1, 2, 1), (1, 4, 1)), ((1, 1, 2), (1, 1, 4)),
                 ((1, 1, 1), (5, 1, 1)), ((1, 1, 1), (4, 2, 3))]:
        _same3(lambda: F.fractional_max_pool3d(dagrad.tensor(x5), k, o,
                                               _random_samples=dagrad.tensor(s3)),
               lambda: TF.fractional_max_pool3d(torch.tensor(x5), k, o,
                                                _random_samples=torch.tensor(s3)))
    for k, o in [((2, 1), (5, 1)), ((1, 2), (1, 5)), ((3, 3), (4, 4)), ((2, 1), (4, 1))]:
        _same3(lambda: F.fractional_max_pool2d(dagrad.tensor(x4), k, o,
                                               _random_samples=dagrad.tensor(s2)),
               lambda: TF.fractional_max_pool2d(torch.tensor(x4), k, o,
                                                _random_samples=torch.tensor(s2)))
    _err(lambda: F.fractional_max_pool2d(dagrad.randn(5, 5), 2, 2),
         lambda: TF.fractional_max_pool2d(torch.randn(5, 5), 2, 2))
    _err(lambda: F.fractional_max_pool3d(dagrad.randn(5, 5, 5), 2, 2),
         lambda: TF.fractional_max_pool3d(torch.randn(5, 5, 5), 2, 2))


def _same3(dfn, tfn):
    try:
        t = tfn()
    except Exception:
        _err(dfn, tfn)
        return
    close(dfn(), t)
