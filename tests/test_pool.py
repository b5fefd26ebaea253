"""Pooling, padding, resampling, unfold/fold, pixel (un)shuffle vs torch.nn.functional."""
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import dagrad
from dagrad.autograd import gradcheck, gradgradcheck
from dagrad.ops import pool as P
from helpers import check_op


def both(name, *args, **kw):
    """(torch_fn, dagrad_fn) calling F.<name> / pool.<name> with the same arguments."""
    return (lambda *t: getattr(F, name)(*t, *args, **kw),
            lambda *d: getattr(P, name)(*d, *args, **kw))


def run(name, shape, *args, seed=0, **kw):
    t, d = both(name, *args, **kw)
    return check_op([shape], t, d, seed=seed)


def gc(fn, *shapes, gg=True, seed=0):
    rng = np.random.default_rng(seed)
    ins = [dagrad.tensor(rng.standard_normal(s), dtype=dagrad.float64, requires_grad=True)
           for s in shapes]
    assert gradcheck(fn, ins)
    if gg:
        assert gradgradcheck(fn, ins)


def err(fn_t, fn_d, x):
    with pytest.raises(Exception) as et:
        fn_t(torch.from_numpy(x))
    with pytest.raises(type(et.value)) as ed:
        fn_d(dagrad.from_numpy(x))
    assert str(ed.value) == str(et.value)


# ---------------------------------------------------------------- max pool
@pytest.mark.parametrize("shape,args,kw", [
    ((2, 3, 8, 8), (2,), {}),
    ((2, 3, 9, 7), (3, 2, 1), {}),                       # ResNet's stem pool
    ((2, 3, 10, 9), (3,), dict(stride=2, padding=1, dilation=2)),
    ((2, 3, 9, 9), ((3, 2),), dict(stride=(2, 1), padding=(1, 0), ceil_mode=True)),
    ((1, 2, 7, 7), (2,), dict(ceil_mode=True)),
    ((3, 8, 8), (2, 2), {}),                             # unbatched
    ((2, 4, 6, 6), (3, 1, 1), {}),                       # overlapping windows
    ((2, 3, 10, 9), (2,), dict(stride=3)),               # gaps between windows
    ((2, 3, 11, 10), ((3, 2),), dict(stride=(3, 2), padding=1, dilation=(2, 3), ceil_mode=True)),
])
def test_max_pool2d(shape, args, kw):
    run("max_pool2d", shape, *args, **kw)
    t, d = both("max_pool2d", *args, return_indices=True, **kw)
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    vt, it = t(torch.from_numpy(x))
    vd, id_ = d(dagrad.from_numpy(x))
    np.testing.assert_array_equal(vd.numpy(), vt.numpy())
    np.testing.assert_array_equal(id_.numpy(), it.numpy())
    assert id_.dtype == dagrad.int64


def test_max_pool_ties_and_nan():
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 1, 1] = np.nan
    for xx in (x, np.zeros_like(x)):
        vt, it = F.max_pool2d(torch.from_numpy(xx), 2, return_indices=True)
        vd, id_ = P.max_pool2d(dagrad.from_numpy(xx), 2, return_indices=True)
        np.testing.assert_array_equal(vd.numpy(), vt.numpy())
        np.testing.assert_array_equal(id_.numpy(), it.numpy())
    # ties: the gradient goes to the first maximum only, like PyTorch
    check_op([(1, 2, 4, 4)], lambda a: F.max_pool2d(a.round(), 3, 1, 1),
             lambda a: P.max_pool2d(a.round(), 3, 1, 1), low=-1, high=1)


@pytest.mark.parametrize("shape,args,kw", [
    ((2, 3, 10), (2,), {}),
    ((2, 3, 11), (3, 2, 1), dict(dilation=1, ceil_mode=True)),
    ((3, 9), (3,), dict(stride=1, padding=1)),
])
def test_max_pool1d(shape, args, kw):
    run("max_pool1d", shape, *args, **kw)


def test_max_pool_gradcheck():
    gc(lambda x: P.max_pool2d(x, 3, 2, 1), (1, 2, 5, 6))
    gc(lambda x: P.max_pool1d(x, 2), (2, 2, 6))


def test_max_pool_grad_fn_and_errors():
    x = dagrad.randn(1, 2, 4, 4, requires_grad=True)
    assert P.max_pool2d(x, 2).grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    err(lambda a: F.max_pool2d(a, 3, padding=2), lambda a: P.max_pool2d(a, 3, padding=2),
        np.zeros((1, 6, 8, 8), np.float32))
    err(lambda a: F.max_pool2d(a, 3), lambda a: P.max_pool2d(a, 3),
        np.zeros((1, 6, 2, 2), np.float32))
    err(lambda a: F.max_pool2d(a, 3), lambda a: P.max_pool2d(a, 3), np.zeros((6, 2), np.float32))


# ---------------------------------------------------------------- avg pool
@pytest.mark.parametrize("shape,args,kw", [
    ((2, 3, 8, 8), (2,), {}),
    ((2, 3, 9, 7), (3, 2, 1), {}),
    ((2, 3, 9, 7), (3, 2, 1), dict(count_include_pad=False)),
    ((2, 3, 9, 8), ((3, 2),), dict(stride=(2, 3), padding=(1, 1), ceil_mode=True)),
    ((2, 3, 9, 8), ((3, 2),), dict(stride=(2, 3), padding=(1, 1), ceil_mode=True,
                                   count_include_pad=False)),
    ((2, 3, 9, 8), (3,), dict(divisor_override=4)),
    ((2, 3, 10, 9), (2,), dict(stride=3)),
    ((2, 3, 10, 9), ((2, 3),), dict(stride=(3, 4), padding=1, ceil_mode=True)),
    ((3, 6, 6), (2,), {}),
])
def test_avg_pool2d(shape, args, kw):
    run("avg_pool2d", shape, *args, **kw)


@pytest.mark.parametrize("shape,args,kw", [
    ((2, 3, 10), (2,), {}),
    ((2, 3, 11), (3, 2, 1), dict(ceil_mode=True, count_include_pad=False)),
    ((3, 9), (4,), dict(stride=3, padding=2)),
])
def test_avg_pool1d(shape, args, kw):
    run("avg_pool1d", shape, *args, **kw)


def test_avg_pool_gradcheck():
    gc(lambda x: P.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), (1, 2, 6, 5))
    x = dagrad.randn(1, 2, 4, 4, requires_grad=True)
    assert P.avg_pool2d(x, 2).grad_fn.name() == "AvgPool2DBackward0"


# ---------------------------------------------------------------- adaptive pools
@pytest.mark.parametrize("shape,osz", [
    ((2, 3, 8, 8), (1, 1)), ((2, 3, 7, 9), (3, 4)), ((2, 3, 8, 8), 4), ((3, 5, 7), (2, None)),
    ((2, 3, 5, 5), (7, 7)),
])
def test_adaptive_avg_pool2d(shape, osz):
    run("adaptive_avg_pool2d", shape, osz)


@pytest.mark.parametrize("shape,osz", [((2, 3, 10), 3), ((3, 7), 4), ((2, 3, 8), 1)])
def test_adaptive_avg_pool1d(shape, osz):
    run("adaptive_avg_pool1d", shape, osz)


@pytest.mark.parametrize("shape,osz", [((2, 3, 8, 8), (1, 1)), ((2, 3, 7, 9), (3, 4)),
                                       ((3, 5, 7), 2), ((1, 2, 4, 4), (6, 5))])
def test_adaptive_max_pool2d(shape, osz):
    run("adaptive_max_pool2d", shape, osz)
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    vt, it = F.adaptive_max_pool2d(torch.from_numpy(x), osz, return_indices=True)
    vd, id_ = P.adaptive_max_pool2d(dagrad.from_numpy(x), osz, return_indices=True)
    np.testing.assert_array_equal(vd.numpy(), vt.numpy())
    np.testing.assert_array_equal(id_.numpy(), it.numpy())


def test_adaptive_max_pool1d():
    run("adaptive_max_pool1d", (2, 3, 10), 4)


def test_adaptive_gradcheck():
    gc(lambda x: P.adaptive_avg_pool2d(x, (3, 2)), (1, 2, 5, 5))
    gc(lambda x: P.adaptive_max_pool2d(x, (3, 2)), (1, 2, 5, 5))
    x = dagrad.randn(1, 2, 5, 5, requires_grad=True)
    assert P.adaptive_avg_pool2d(x, 3).grad_fn.name() == "AdaptiveAvgPool2DBackward0"
    assert P.adaptive_avg_pool2d(x, 1).grad_fn.name() == "MeanBackward1"
    assert P.adaptive_max_pool2d(x, 3).grad_fn.name() == "AdaptiveMaxPool2DBackward0"


# ---------------------------------------------------------------- pad
@pytest.mark.parametrize("shape,pads,mode,value", [
    ((2, 3, 5, 6), (1, 2), "constant", None),
    ((2, 3, 5, 6), (1, 2, 0, 3), "constant", 1.5),
    ((2, 3, 5, 6), (1, -2, -1, 3, 1, 1), "constant", None),
    ((2, 3, 5, 6), (1, 1, 1, 1, 1, 1, 1, 1), "constant", None),
    ((7,), (2, 3), "constant", None),
    ((2, 3, 5, 6), (2, 1, 3, 4), "reflect", None),
    ((3, 5, 6), (2, 1, 3, 4), "reflect", None),
    ((2, 3, 6), (5, 2), "reflect", None),
    ((3, 6), (1, 2), "reflect", None),
    ((2, 2, 3, 4, 5), (1, 2, 2, 1, 1, 0), "reflect", None),
    ((2, 3, 5, 6), (2, 1, 3, 4), "replicate", None),
    ((2, 3, 6), (7, 2), "replicate", None),
    ((2, 2, 3, 4, 5), (1, 2, 2, 1, 1, 4), "replicate", None),
    ((2, 3, 5, 6), (2, 1, 3, 5), "circular", None),
    ((2, 3, 6), (6, 2), "circular", None),
    ((2, 3, 5, 6), (-1, 2, 1, -2), "circular", None),
    ((2, 3, 5, 6), (-1, 2, 1, -2), "replicate", None),
])
def test_pad(shape, pads, mode, value):
    kw = {} if value is None else {"value": value}
    run("pad", shape, pads, mode, **kw)


def test_pad_gradcheck_and_names():
    gc(lambda x: P.pad(x, (2, 1, 1, 2), "reflect"), (1, 2, 4, 4))
    gc(lambda x: P.pad(x, (2, 1, -1, 2)), (1, 2, 4, 4))
    gc(lambda x: P.pad(x, (2, 1), "circular"), (2, 4))
    x = dagrad.randn(1, 2, 4, 4, requires_grad=True)
    assert P.pad(x, (1, 1)).grad_fn.name() == "ConstantPadNdBackward0"
    assert P.pad(x, (1, 1, 1, 1), "reflect").grad_fn.name() == "ReflectionPad2DBackward0"
    assert P.pad(x, (1, 1, 1, 1), "replicate").grad_fn.name() == "ReplicationPad2DBackward0"


def test_pad_errors():
    z = np.zeros((1, 6, 8, 8), np.float32)
    err(lambda a: F.pad(a, (4, 4), mode="reflect"), lambda a: P.pad(a, (4, 4), mode="reflect"), z)
    err(lambda a: F.pad(a, (1, 1, 1)), lambda a: P.pad(a, (1, 1, 1)), z)
    err(lambda a: F.pad(a, (9, 9, 1, 1), "reflect"), lambda a: P.pad(a, (9, 9, 1, 1), "reflect"), z)
    err(lambda a: F.pad(a, (9, 9, 1, 1), "circular"),
        lambda a: P.pad(a, (9, 9, 1, 1), "circular"), z)
    err(lambda a: F.pad(a, (1, 1), "reflect"), lambda a: P.pad(a, (1, 1), "reflect"),
        np.zeros(8, np.float32))


# ---------------------------------------------------------------- interpolate
@pytest.mark.parametrize("shape,kw", [
    ((2, 3, 5, 6), dict(scale_factor=2)),
    ((2, 3, 5, 6), dict(scale_factor=(1.5, 0.7))),
    ((2, 3, 5, 6), dict(size=(7, 4))),
    ((2, 3, 5, 6), dict(size=(10, 3), mode="nearest-exact")),
    ((2, 3, 7), dict(scale_factor=3)),
    ((2, 3, 7), dict(size=5)),
    ((2, 3, 5, 6), dict(scale_factor=2, mode="bilinear")),
    ((2, 3, 5, 6), dict(scale_factor=2, mode="bilinear", align_corners=True)),
    ((2, 3, 5, 6), dict(size=(3, 9), mode="bilinear")),
    ((2, 3, 5, 6), dict(size=(3, 9), mode="bilinear", align_corners=True)),
    ((2, 3, 5, 6), dict(scale_factor=1.7, mode="bilinear")),
    ((2, 3, 5, 6), dict(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True)),
    ((2, 3, 7), dict(scale_factor=2.5, mode="linear")),
    ((2, 3, 7), dict(size=4, mode="linear", align_corners=True)),
    ((2, 3, 7, 9), dict(size=(3, 4), mode="area")),
    ((1, 2, 3, 4, 5), dict(scale_factor=2)),
    ((1, 2, 3, 4, 5), dict(size=(4, 3, 7), mode="trilinear")),
])
def test_interpolate(shape, kw):
    run("interpolate", shape, **kw)


def test_interpolate_gradcheck_and_errors():
    gc(lambda x: P.interpolate(x, scale_factor=2, mode="bilinear"), (1, 2, 3, 3))
    gc(lambda x: P.interpolate(x, size=(5, 4)), (1, 2, 3, 3))
    x = dagrad.randn(1, 2, 4, 4, requires_grad=True)
    assert P.interpolate(x, scale_factor=2).grad_fn.name() == "UpsampleNearest2DBackward0"
    assert P.interpolate(x, scale_factor=2, mode="bilinear").grad_fn.name() == \
        "UpsampleBilinear2DBackward0"
    z = np.zeros((1, 2, 3, 3), np.float32)
    err(lambda a: F.interpolate(a, scale_factor=2, align_corners=True),
        lambda a: P.interpolate(a, scale_factor=2, align_corners=True), z)
    err(lambda a: F.interpolate(a), lambda a: P.interpolate(a), z)
    err(lambda a: F.interpolate(a, size=4, scale_factor=2),
        lambda a: P.interpolate(a, size=4, scale_factor=2), z)
    err(lambda a: F.interpolate(a, scale_factor=2, mode="bilinear"),
        lambda a: P.interpolate(a, scale_factor=2, mode="bilinear"), z[0])


# ---------------------------------------------------------------- unfold / fold / pixel shuffle
@pytest.mark.parametrize("shape,args,kw", [
    ((2, 3, 6, 7), (2,), {}),
    ((2, 3, 6, 7), ((3, 2),), dict(dilation=(1, 2), padding=1, stride=(2, 1))),
    ((3, 5, 5), (3,), dict(padding=1)),
])
def test_unfold(shape, args, kw):
    run("unfold", shape, *args, **kw)


@pytest.mark.parametrize("shape,args,kw", [
    ((2, 12, 30), ((6, 7), 2), {}),
    ((2, 18, 21), ((6, 7), (3, 2)), dict(dilation=(1, 2), padding=1, stride=(2, 1))),
    ((27, 25), ((5, 5), 3), dict(padding=1)),
])
def test_fold(shape, args, kw):
    run("fold", shape, *args, **kw)


def test_unfold_fold_gradcheck_and_errors():
    gc(lambda x: P.unfold(x, 2, padding=1, stride=2), (1, 2, 4, 3))
    gc(lambda x: P.fold(x, (4, 3), 2, padding=1, stride=2), (1, 8, 6))
    err(lambda a: F.fold(a, (3, 3), 2), lambda a: P.fold(a, (3, 3), 2),
        np.zeros((1, 12, 5), np.float32))


@pytest.mark.parametrize("shape,r", [((2, 8, 3, 4), 2), ((9, 2, 3), 3), ((2, 2, 18, 2, 2), 3)])
def test_pixel_shuffle(shape, r):
    run("pixel_shuffle", shape, r)


@pytest.mark.parametrize("shape,r", [((2, 2, 6, 4), 2), ((1, 6, 9), 3), ((2, 2, 2, 6, 6), 3)])
def test_pixel_unshuffle(shape, r):
    run("pixel_unshuffle", shape, r)


def test_pixel_shuffle_gradcheck_and_errors():
    gc(lambda x: P.pixel_shuffle(x, 2), (1, 4, 2, 3))
    x = dagrad.randn(1, 4, 2, 2, requires_grad=True)
    assert P.pixel_shuffle(x, 2).grad_fn.name() == "PixelShuffleBackward0"
    err(lambda a: F.pixel_shuffle(a, 2), lambda a: P.pixel_shuffle(a, 2),
        np.zeros((1, 3, 3, 3), np.float32))
    err(lambda a: F.pixel_unshuffle(a, 2), lambda a: P.pixel_unshuffle(a, 2),
        np.zeros((1, 3, 3, 3), np.float32))


def test_float64_kept():
    x = dagrad.randn(1, 2, 6, 6, dtype=dagrad.float64)
    for f in (lambda a: P.max_pool2d(a, 2), lambda a: P.avg_pool2d(a, 2),
              lambda a: P.adaptive_avg_pool2d(a, 3), lambda a: P.pad(a, (1, 1, 1, 1), "reflect"),
              lambda a: P.interpolate(a, scale_factor=2, mode="bilinear")):
        assert f(x).dtype == dagrad.float64


# ---------------------------------------------------------------- extras used by dagrad.nn
@pytest.mark.parametrize("kw", [dict(scale_factor=2), dict(size=(7, 3)),
                                dict(scale_factor=1.5, align_corners=True),
                                dict(size=(4, 9), align_corners=True)])
def test_interpolate_bicubic(kw):
    run("interpolate", (2, 3, 5, 6), mode="bicubic", **kw)


def test_lp_pool():
    check_op([(2, 3, 8, 7)], lambda a: F.lp_pool2d(a, 2, 2), lambda a: P.lp_pool2d(a, 2, 2),
             low=0.1, high=2)
    check_op([(2, 3, 8, 7)], lambda a: F.lp_pool2d(a, 3, (3, 2), stride=2, ceil_mode=True),
             lambda a: P.lp_pool2d(a, 3, (3, 2), stride=2, ceil_mode=True), low=0.1, high=2)
    check_op([(2, 3, 9)], lambda a: F.lp_pool1d(a, 2, 3, 2), lambda a: P.lp_pool1d(a, 2, 3, 2),
             low=0.1, high=2)


@pytest.mark.parametrize("shape,k,s,p,osz", [((2, 3, 8, 8), 2, None, 0, None),
                                             ((2, 3, 9, 8), 3, 2, 1, (9, 8)),
                                             ((2, 3, 9, 9), 2, 2, 0, (9, 9))])
def test_max_unpool2d(shape, k, s, p, osz):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    yt, it = F.max_pool2d(torch.from_numpy(x), k, s, p, return_indices=True)
    yd, id_ = P.max_pool2d(dagrad.from_numpy(x), k, s, p, return_indices=True)
    check_op([], lambda a: F.max_unpool2d(a, it, k, s, p, osz),
             lambda a: P.max_unpool2d(a, id_, k, s, p, osz), inputs=[yt.numpy()])
    yd.requires_grad_(True)
    assert P.max_unpool2d(yd, id_, k, s, p, osz).grad_fn.name() == "MaxUnpool2DBackward0"


def test_max_unpool1d():
    x = np.random.default_rng(0).standard_normal((2, 3, 10)).astype(np.float32)
    yt, it = F.max_pool1d(torch.from_numpy(x), 2, return_indices=True)
    yd, id_ = P.max_pool1d(dagrad.from_numpy(x), 2, return_indices=True)
    check_op([], lambda a: F.max_unpool1d(a, it, 2), lambda a: P.max_unpool1d(a, id_, 2),
             inputs=[yt.numpy()])


def test_adaptive_max_with_indices():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 5)).astype(np.float32)
    vt, it = F.adaptive_max_pool2d_with_indices(torch.from_numpy(x), (3, 2))
    vd, id_ = P.adaptive_max_pool2d_with_indices(dagrad.from_numpy(x), (3, 2))
    np.testing.assert_array_equal(vd.numpy(), vt.numpy())
    np.testing.assert_array_equal(id_.numpy(), it.numpy())


@pytest.mark.parametrize("size,ac", [((2, 3, 4, 5), False), ((2, 3, 4, 5), True),
                                     ((2, 1, 3, 4, 5), False), ((2, 1, 1, 4, 1), True)])
def test_affine_grid(size, ac):
    th = (2, 2, 3) if len(size) == 4 else (2, 3, 4)
    check_op([th], lambda t: F.affine_grid(t, size, align_corners=ac),
             lambda t: P.affine_grid(t, size, align_corners=ac))


def test_max_unpool_invalid_index_error():
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 8)).astype(np.float32)
    yt, it = F.max_pool2d(torch.from_numpy(x), 3, 2, 1, return_indices=True)
    yd, id_ = P.max_pool2d(dagrad.from_numpy(x), 3, 2, 1, return_indices=True)
    with pytest.raises(RuntimeError) as et:
        F.max_unpool2d(yt, it, 3, 2, 1)
    with pytest.raises(RuntimeError) as ed:
        P.max_unpool2d(yd, id_, 3, 2, 1)
    # torch scans the planes in parallel, so which invalid index it names varies run to run:
    # compare the message's form, and that the index named is one of the invalid ones
    pat = r"Found an invalid max index: (\d+) \(output volumes are of size 9x7\)"
    mt, md = re.fullmatch(pat, str(et.value)), re.fullmatch(pat, str(ed.value))
    assert mt and md
    bad = set(it.numpy().ravel()[it.numpy().ravel() >= 63].tolist())
    assert int(md.group(1)) in bad and int(mt.group(1)) in bad


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("ac", [False, True])
def test_grid_sample(mode, padding_mode, ac):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 5, 6)).astype(np.float32)
    g = rng.uniform(-1.3, 1.3, (2, 4, 7, 2)).astype(np.float32)
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=ac)
    check_op([], lambda a, b: F.grid_sample(a, b, **kw), lambda a, b: P.grid_sample(a, b, **kw),
             inputs=[x, g], atol=1e-5, grad_atol=1e-3)


@pytest.mark.parametrize("shape,args", [((2, 5, 9, 8), (3, 2, 1)), ((1, 3, 7, 7), (2, 1)),
                                        ((2, 4, 10, 9), (2,))])
def test_max_pool_channel_parallel(shape, args, monkeypatch):
    """Channel slices over threads (forced on for small arrays) match torch."""
    monkeypatch.setattr(P, "_POOL_PAR_MIN", 0)
    run("max_pool2d", shape, *args)


@pytest.mark.parametrize("shape,osz", [((2, 3, 5, 6, 7), (2, 3, 4)), ((3, 4, 4, 4), 1),
                                       ((1, 2, 4, 5, 6), (None, 2, 3))])
def test_adaptive_avg_pool3d(shape, osz):
    run("adaptive_avg_pool3d", shape, osz)


@pytest.mark.parametrize("k,s,p,d,ceil", [(3, 2, 1, 1, False), (2, 2, 0, 1, True), (3, 1, 1, 2, False)])
def test_generic_max_pool_paths_equal_tuned_ones(k, s, p, d, ceil):
    """The any-module (CuPy) max-pool paths, run on NumPy, equal the tuned kernels."""
    x = np.random.default_rng(1).standard_normal((2, 3, 9, 8)).astype(np.float32)
    x4 = x
    geo = P._pool_geom(x4, (k, k), (s, s), (p, p), (d, d), ceil, 2)
    m1, t1 = P._maxpool_par(x4, geo)
    m2, t2 = P._maxpool_generic(x4, geo)
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_array_equal(t1.astype(np.int64), t2.astype(np.int64))
    g = np.random.default_rng(2).standard_normal(m1.shape).astype(np.float32)
    np.testing.assert_allclose(P._tap_scatter_par(g, t1, geo), P._tap_scatter_generic(g, t1, geo),
                               rtol=1e-6, atol=1e-6)
    h = np.random.default_rng(3).standard_normal(x.shape).astype(np.float32)
    np.testing.assert_array_equal(P._tap_gather_arr(h, t1, geo), P._tap_gather_generic(h, t1, geo))
