"""Smaller modules and utilities vs torch: distances, fold/unfold, channel shuffle, extra losses,
conv/linear + BatchNorm fusion, RReLU eval, functional in-place aliases."""
import numpy as np
import pytest
import torch
import torch.nn as tnn
from nnhelp import close, copy_weights, run_both

import dagrad
import dagrad.nn as nn

RNG = np.random.default_rng(0)


def f32(*shape):
    return RNG.uniform(-1, 1, shape).astype(np.float32)


CASES = [
    ("CosineSimilarity", (), [(3, 4), (3, 4)]),
    ("CosineSimilarity", (0,), [(3, 4), (3, 4)]),
    ("PairwiseDistance", (), [(3, 4), (3, 4)]),
    ("PairwiseDistance", (1.0, 1e-6, True), [(3, 4), (3, 4)]),
    ("ChannelShuffle", (2,), [(2, 4, 3, 3)]),
    ("Unfold", (2,), [(2, 3, 4, 4)]),
    ("Unfold", ((2, 3), 1, 1, 2), [(2, 3, 5, 6)]),
    ("Fold", ((4, 5), 2), [(2, 12, 12)]),
]


@pytest.mark.parametrize("name,args,shapes", CASES, ids=[f"{c[0]}{i}" for i, c in
                                                          enumerate(CASES)])
def test_module_matches_torch(name, args, shapes):
    tm, dm = getattr(tnn, name)(*args), getattr(nn, name)(*args)
    assert repr(dm) == repr(tm)
    run_both(tm, dm, [f32(*s) for s in shapes])


@pytest.mark.parametrize("red", ["none", "mean", "sum"])
def test_multilabel_margin_and_triplet_distance(red):
    t = np.array([[3, 0, -1, 1], [0, 1, 2, 3], [1, -1, 0, 0]])
    run_both(tnn.MultiLabelMarginLoss(reduction=red), nn.MultiLabelMarginLoss(reduction=red),
             [f32(3, 4), t])
    run_both(tnn.TripletMarginWithDistanceLoss(reduction=red, swap=True),
             nn.TripletMarginWithDistanceLoss(reduction=red, swap=True),
             [f32(3, 4), f32(3, 4), f32(3, 4)])


def test_rrelu_eval_and_inplace_aliases():
    run_both(tnn.RReLU().eval(), nn.RReLU().eval(), [f32(3, 4)])
    import torch.nn.functional as TF

    import dagrad.nn.functional as F
    for dn, tn, args in [("selu_", "selu_", ()), ("celu_", "celu_", (0.5,)),
                         ("threshold_", "threshold_", (0.1, 2.0)),
                         ("leaky_relu_", "leaky_relu_", (0.2,)), ("elu_", "elu_", ()),
                         ("hardtanh_", "hardtanh_", ()), ("relu_", "relu_", ())]:
        x = f32(3, 4)
        a, b = dagrad.tensor(x), torch.tensor(x)
        ra, rb = getattr(F, dn)(a, *args), getattr(TF, tn)(b, *args)
        close(a, b, msg=dn)
        assert ra is a and rb is b


def test_fuse_conv_bn_eval_and_linear_bn():
    c, b = tnn.Conv2d(3, 4, 3).eval(), tnn.BatchNorm2d(4).eval()
    with torch.no_grad():
        b.running_mean.uniform_(-1, 1)
        b.running_var.uniform_(1, 2)
        b.weight.uniform_(0.5, 1.5)
    dc, db = nn.Conv2d(3, 4, 3).eval(), nn.BatchNorm2d(4).eval()
    copy_weights(c, dc)
    copy_weights(b, db)
    x = f32(2, 3, 6, 6)
    fused = nn.utils.fuse_conv_bn_eval(dc, db)
    close(fused(dagrad.tensor(x)), b(c(torch.tensor(x))), atol=1e-5)
    close(fused(dagrad.tensor(x)), db(dc(dagrad.tensor(x))), atol=1e-5)
    lin, bn1 = nn.Linear(3, 4).eval(), nn.BatchNorm1d(4).eval()
    bn1.running_var.fill_(2.0)
    fl = nn.utils.fuse_linear_bn_eval(lin, bn1)
    xx = dagrad.tensor(f32(5, 3))
    close(fl(xx), bn1(lin(xx)).detach(), atol=1e-6)


@pytest.mark.parametrize("cls,args,shape", [("LPPool2d", (2, 3), (2, 3, 6, 7)),
                                            ("LPPool2d", (1.5, 2, 1), (2, 3, 6, 7)),
                                            ("LPPool2d", (3, (2, 3), 2), (2, 3, 6, 7)),
                                            ("LPPool1d", (2, 3), (2, 3, 7)),
                                            ("LPPool1d", (1.5, 2, 1), (2, 3, 7))])
def test_lp_pool(cls, args, shape):
    tm, dm = getattr(tnn, cls)(*args), getattr(nn, cls)(*args)
    assert repr(dm) == repr(tm)
    run_both(tm, dm, [RNG.uniform(0.1, 1, shape).astype(np.float32)])


@pytest.mark.parametrize("cls,pool,shape", [("MaxUnpool2d", "MaxPool2d", (1, 2, 4, 4)),
                                            ("MaxUnpool1d", "MaxPool1d", (1, 2, 6))])
def test_max_unpool(cls, pool, shape):
    x = f32(*shape)
    to, ti = getattr(tnn, pool)(2, return_indices=True)(torch.tensor(x))
    do, di = getattr(nn, pool)(2, return_indices=True)(dagrad.tensor(x))
    assert repr(getattr(nn, cls)(2)) == repr(getattr(tnn, cls)(2))
    close(getattr(nn, cls)(2)(do, di), getattr(tnn, cls)(2)(to, ti))


def test_data_parallel_wrapper():
    tm, dm = tnn.DataParallel(tnn.Linear(2, 3)), nn.DataParallel(nn.Linear(2, 3))
    assert repr(dm) == repr(tm)
    assert list(dm.state_dict()) == list(tm.state_dict())
    copy_weights(tm, dm)
    run_both(tm, dm, [f32(4, 2)])


@pytest.mark.parametrize("name,args,shape", [("CrossMapLRN2d", (3,), (2, 5, 3, 3)),
                                             ("LocalResponseNorm", (3,), (2, 5, 3, 3)),
                                             ("LocalResponseNorm", (2, 1e-3, 0.5, 2.0),
                                              (2, 5, 7)),
                                             ("RMSNorm", (4,), (3, 4)),
                                             ("RMSNorm", ((2, 4), 1e-3), (3, 2, 4))])
def test_lrn_rmsnorm(name, args, shape):
    tm, dm = getattr(tnn, name)(*args), getattr(nn, name)(*args)
    assert repr(dm) == repr(tm)
    copy_weights(tm, dm)
    run_both(tm, dm, [RNG.uniform(0.1, 1, shape).astype(np.float32)])


def test_lazy_conv3d():
    tm, dm = tnn.LazyConv3d(2, 2), nn.LazyConv3d(2, 2)
    assert repr(dm) == repr(tm)
    x = f32(1, 3, 4, 4, 4)
    tm(torch.tensor(x))
    dm(dagrad.tensor(x))
    assert repr(dm) == repr(tm)
    copy_weights(tm, dm)
    run_both(tm, dm, [x], atol=1e-5)
