"""Every loss vs torch: values and gradients, every reduction and option."""
import numpy as np
import pytest
import torch
import torch.nn as tnn
from nnhelp import close

import dagrad
import dagrad.nn as nn

RNG = np.random.default_rng(0)
REDS = ["none", "mean", "sum"]


def both(x, rg=True):
    x = np.asarray(x)
    rg = rg and x.dtype.kind == "f"
    return (torch.from_numpy(x.copy()).requires_grad_(rg),
            dagrad.from_numpy(x.copy()).requires_grad_(rg))


def check(tloss, dloss, arrays, atol=1e-5, rtol=1e-4, rg=None):
    rg = rg or [True] * len(arrays)
    pairs = [both(a, r) for a, r in zip(arrays, rg)]
    to = tloss(*[p[0] for p in pairs])
    do = dloss(*[p[1] for p in pairs])
    close(do, to, atol, rtol, "loss")
    assert str(do.dtype) == str(to.dtype)
    g = RNG.standard_normal(tuple(to.shape)).astype(np.float32 if to.dtype == torch.float32
                                                    else np.float64)
    to.backward(torch.from_numpy(g))
    do.backward(dagrad.from_numpy(g))
    for i, (t, d) in enumerate(pairs):
        if t.requires_grad:
            close(d.grad, t.grad, atol * 10, rtol * 10, f"grad {i}")
    assert repr(dloss) == repr(tloss)


def f32(*shape, low=-2, high=2):
    return RNG.uniform(low, high, shape).astype(np.float32)


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("name,kw", [("MSELoss", {}), ("L1Loss", {}), ("SmoothL1Loss", {}),
                                     ("SmoothL1Loss", {"beta": 0.5}),
                                     ("SmoothL1Loss", {"beta": 0.0}), ("HuberLoss", {}),
                                     ("HuberLoss", {"delta": 0.3}), ("SoftMarginLoss", {})])
@pytest.mark.parametrize("shape", [(6,), (4, 5), (2, 3, 4)])
def test_regression_losses(name, kw, red, shape):
    check(getattr(tnn, name)(reduction=red, **kw), getattr(nn, name)(reduction=red, **kw),
          [f32(*shape), f32(*shape)], rg=[True, name != "SoftMarginLoss"])


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("kw", [{}, {"weight": True}, {"ignore_index": 1},
                                {"label_smoothing": 0.1},
                                {"weight": True, "label_smoothing": 0.2, "ignore_index": 0},
                                {"weight": True, "ignore_index": 2}])
@pytest.mark.parametrize("shape", [(7, 4), (3, 4, 5), (2, 4, 3, 2), (4,)])
def test_cross_entropy_indices(red, kw, shape):
    kw = dict(kw)
    C = shape[0] if len(shape) == 1 else shape[1]
    w = RNG.uniform(0.5, 2, C).astype(np.float32) if kw.pop("weight", False) else None
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    tgt = RNG.integers(0, C, tshape)
    tl = tnn.CrossEntropyLoss(weight=None if w is None else torch.tensor(w), reduction=red, **kw)
    dl = nn.CrossEntropyLoss(weight=None if w is None else dagrad.tensor(w), reduction=red, **kw)
    check(tl, dl, [f32(*shape) * 3, tgt])


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("kw", [{}, {"weight": True}, {"label_smoothing": 0.3},
                                {"weight": True, "label_smoothing": 0.1}])
@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3)])
def test_cross_entropy_probabilities(red, kw, shape):
    kw = dict(kw)
    C = shape[1]
    w = RNG.uniform(0.5, 2, C).astype(np.float32) if kw.pop("weight", False) else None
    p = RNG.uniform(0, 1, shape).astype(np.float32)
    p = p / p.sum(1, keepdims=True)
    tl = tnn.CrossEntropyLoss(weight=None if w is None else torch.tensor(w), reduction=red, **kw)
    dl = nn.CrossEntropyLoss(weight=None if w is None else dagrad.tensor(w), reduction=red, **kw)
    check(tl, dl, [f32(*shape), p])


def test_cross_entropy_float64_and_gradcheck_and_grad_fn():
    import dagrad.nn.functional as F
    from dagrad.autograd import gradcheck, gradgradcheck
    x = dagrad.randn(5, 3, dtype=dagrad.float64, requires_grad=True)
    t = dagrad.tensor([0, 2, 1, 1, 0])
    assert F.cross_entropy(x, t).grad_fn.name() == "NllLossBackward0"
    assert gradcheck(lambda x: F.cross_entropy(x, t), (x,))
    assert gradgradcheck(lambda x: F.cross_entropy(x, t), (x,))
    assert gradcheck(lambda x: F.nll_loss(x.log_softmax(1), t, reduction="sum"), (x,))


def test_cross_entropy_errors():
    ce = nn.CrossEntropyLoss()
    with pytest.raises(IndexError, match="Target 5 is out of bounds."):
        ce(dagrad.randn(2, 3), dagrad.tensor([0, 5]))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(2\) to match target "
                                         r"batch_size \(3\)."):
        ce(dagrad.randn(2, 3), dagrad.tensor([0, 1, 2]))


def test_all_ignored_mean_is_nan():
    t = tnn.CrossEntropyLoss(ignore_index=0)(torch.randn(2, 3), torch.tensor([0, 0]))
    d = nn.CrossEntropyLoss(ignore_index=0)(dagrad.randn(2, 3), dagrad.tensor([0, 0]))
    assert np.isnan(t.item()) and np.isnan(d.item())


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("kw", [{}, {"weight": True}, {"ignore_index": 2}])
@pytest.mark.parametrize("shape", [(6, 3), (2, 3, 4)])
def test_nll_loss(red, kw, shape):
    kw = dict(kw)
    C = shape[1]
    w = RNG.uniform(0.5, 2, C).astype(np.float32) if kw.pop("weight", False) else None
    tgt = RNG.integers(0, C, (shape[0],) + shape[2:])
    tl = tnn.NLLLoss(weight=None if w is None else torch.tensor(w), reduction=red, **kw)
    dl = nn.NLLLoss(weight=None if w is None else dagrad.tensor(w), reduction=red, **kw)
    check(tl, dl, [f32(*shape), tgt])


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce(red, weighted):
    w = f32(4, 3, low=0.5, high=2) if weighted else None
    tl = tnn.BCELoss(weight=None if w is None else torch.tensor(w), reduction=red)
    dl = nn.BCELoss(weight=None if w is None else dagrad.tensor(w), reduction=red)
    x = RNG.uniform(0.02, 0.98, (4, 3)).astype(np.float32)
    check(tl, dl, [x, RNG.uniform(0, 1, (4, 3)).astype(np.float32)])
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        dl(dagrad.tensor([1.5]), dagrad.tensor([1.0]))


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("kw", [{}, {"weight": True}, {"pos_weight": True},
                                {"weight": True, "pos_weight": True}])
def test_bce_with_logits(red, kw):
    w = f32(3, low=0.5, high=2) if kw.get("weight") else None
    pw = f32(3, low=0.5, high=3) if kw.get("pos_weight") else None
    tl = tnn.BCEWithLogitsLoss(weight=None if w is None else torch.tensor(w), reduction=red,
                               pos_weight=None if pw is None else torch.tensor(pw))
    dl = nn.BCEWithLogitsLoss(weight=None if w is None else dagrad.tensor(w), reduction=red,
                              pos_weight=None if pw is None else dagrad.tensor(pw))
    check(tl, dl, [f32(5, 3) * 10, RNG.uniform(0, 1, (5, 3)).astype(np.float32)])


@pytest.mark.parametrize("red", REDS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(red, log_target):
    x = np.log(RNG.dirichlet(np.ones(5), 4).astype(np.float32))
    t = RNG.dirichlet(np.ones(5), 4).astype(np.float32)
    t[0, 0] = 0.0
    if log_target:
        t = np.log(t + 1e-3).astype(np.float32)
    check(tnn.KLDivLoss(reduction=red, log_target=log_target),
          nn.KLDivLoss(reduction=red, log_target=log_target), [x, t], rg=[True, log_target])


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("margin", [0.0, 0.3])
def test_cosine_embedding(red, margin):
    y = np.array([1, -1, 1, -1, 1], dtype=np.float32)
    check(tnn.CosineEmbeddingLoss(margin=margin, reduction=red),
          nn.CosineEmbeddingLoss(margin=margin, reduction=red), [f32(5, 4), f32(5, 4), y])


@pytest.mark.parametrize("red", REDS)
def test_other_losses(red):
    y = np.array([1, -1, 1, -1], dtype=np.float32)
    check(tnn.MarginRankingLoss(0.2, reduction=red), nn.MarginRankingLoss(0.2, reduction=red),
          [f32(4), f32(4), y])
    check(tnn.HingeEmbeddingLoss(reduction=red), nn.HingeEmbeddingLoss(reduction=red),
          [f32(4, 3), np.array([[1, -1, 1]] * 4, dtype=np.float32)])
    check(tnn.PoissonNLLLoss(reduction=red), nn.PoissonNLLLoss(reduction=red),
          [f32(4, 3), RNG.uniform(0, 3, (4, 3)).astype(np.float32)])
    check(tnn.MultiLabelSoftMarginLoss(reduction=red), nn.MultiLabelSoftMarginLoss(reduction=red),
          [f32(4, 3), RNG.integers(0, 2, (4, 3)).astype(np.float32)])
    check(tnn.TripletMarginLoss(reduction=red), nn.TripletMarginLoss(reduction=red),
          [f32(4, 3), f32(4, 3), f32(4, 3)])
    check(tnn.MultiMarginLoss(reduction=red), nn.MultiMarginLoss(reduction=red),
          [f32(4, 3), np.array([0, 2, 1, 1])])


def test_bad_reduction():
    with pytest.raises(ValueError, match="bogus is not a valid value for reduction"):
        nn.MSELoss(reduction="bogus")(dagrad.ones(2), dagrad.ones(2))


def test_mse_size_warning():
    with pytest.warns(UserWarning, match="Using a target size"):
        nn.MSELoss()(dagrad.ones(2, 1), dagrad.ones(2))


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("concat", [False, True])
def test_ctc_loss(red, concat):
    T, N, C = 12, 3, 5
    x = RNG.standard_normal((T, N, C)).astype(np.float32)
    tgt = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [4, 4, 4, 1]])
    tl, il = np.array([3, 2, 4]), np.array([12, 9, 11])
    if concat:
        tgt = np.concatenate([tgt[i, :tl[i]] for i in range(N)])
    tx, dx = torch.tensor(x, requires_grad=True), dagrad.tensor(x, requires_grad=True)
    to = tnn.CTCLoss(reduction=red)(tx.log_softmax(2), torch.tensor(tgt), torch.tensor(il),
                                    torch.tensor(tl))
    do = nn.CTCLoss(reduction=red)(dx.log_softmax(2), dagrad.tensor(tgt), dagrad.tensor(il),
                                   dagrad.tensor(tl))
    close(do, to, 1e-5, 1e-4)
    to.sum().backward()
    do.sum().backward()
    close(dx.grad, tx.grad, 1e-5, 1e-4)


def test_ctc_loss_impossible_and_unbatched():
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    tgt = np.array([1, 1, 2])  # needs 4 frames (a blank between the repeats)
    for zi in (False, True):
        tx, dx = torch.tensor(x, requires_grad=True), dagrad.tensor(x, requires_grad=True)
        to = tnn.CTCLoss(reduction="sum", zero_infinity=zi)(
            tx.log_softmax(1), torch.tensor(tgt), torch.tensor(3), torch.tensor(3))
        do = nn.CTCLoss(reduction="sum", zero_infinity=zi)(
            dx.log_softmax(1), dagrad.tensor(tgt), dagrad.tensor(3), dagrad.tensor(3))
        close(do, to)
        if zi:
            to.backward()
            do.backward()
            close(dx.grad, tx.grad)
    x = RNG.standard_normal((6, 4)).astype(np.float32)
    tx, dx = torch.tensor(x, requires_grad=True), dagrad.tensor(x, requires_grad=True)
    to = tnn.CTCLoss()(tx.log_softmax(1), torch.tensor([1, 2]), torch.tensor(6),
                       torch.tensor(2))
    do = nn.CTCLoss()(dx.log_softmax(1), dagrad.tensor([1, 2]), dagrad.tensor(6),
                      dagrad.tensor(2))
    close(do, to)
    to.backward()
    do.backward()
    close(dx.grad, tx.grad, 1e-5, 1e-4)


def test_adaptive_log_softmax_with_loss():
    tm = tnn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10], div_value=2.0)
    dm = nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10], div_value=2.0)
    assert repr(dm) == repr(tm)
    assert list(dm.state_dict()) == list(tm.state_dict())
    from nnhelp import copy_weights
    copy_weights(tm, dm)
    x = RNG.standard_normal((6, 8)).astype(np.float32)
    t = np.array([0, 3, 5, 12, 19, 9])
    tx, dx = torch.tensor(x, requires_grad=True), dagrad.tensor(x, requires_grad=True)
    to, do = tm(tx, torch.tensor(t)), dm(dx, dagrad.tensor(t))
    close(do.output, to.output)
    close(do.loss, to.loss)
    to.loss.backward()
    do.loss.backward()
    close(dx.grad, tx.grad, 1e-5, 1e-4)
    for (k, p), (_, q) in zip(dm.named_parameters(), tm.named_parameters()):
        close(p.grad, q.grad, 1e-5, 1e-4, k)
    close(dm.log_prob(dagrad.tensor(x)), tm.log_prob(torch.tensor(x)))
    assert dm.predict(dagrad.tensor(x)).tolist() == tm.predict(torch.tensor(x)).tolist()
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 19\]"):
        dm(dx, dagrad.tensor([0, 1, 2, 3, 4, 25]))


@pytest.mark.parametrize("kw", [dict(), dict(bias=True, reduction="sum"),
                                dict(out_features=(2,), bias=True),
                                dict(ignore_index=1, label_smoothing=0.1)])
def test_linear_cross_entropy(kw):
    kw = dict(kw)
    tm, dm = tnn.LinearCrossEntropyLoss(4, 3, **kw), nn.LinearCrossEntropyLoss(4, 3, **kw)
    assert repr(dm) == repr(tm)
    assert list(dm.state_dict()) == list(tm.state_dict())
    from nnhelp import copy_weights, run_both
    copy_weights(tm, dm)
    of = kw.get("out_features", ())
    t = RNG.integers(0, 3, (5,) + of)
    run_both(tm, dm, [f32(5, 4), t])
