"""Layers vs torch: same weights and inputs give the same outputs and gradients."""
import numpy as np
import pytest
import torch
import torch.nn as tnn
from nnhelp import close, copy_weights, run_both

import dagrad
import dagrad.nn as nn

RNG = np.random.default_rng(0)


def rand(*shape, dtype=np.float32, low=-2, high=2):
    return RNG.uniform(low, high, shape).astype(dtype)


ACTS = [
    ("ReLU", {}), ("ReLU6", {}), ("LeakyReLU", {}), ("LeakyReLU", {"negative_slope": 0.2}),
    ("ELU", {}), ("ELU", {"alpha": 0.5}), ("GELU", {}), ("GELU", {"approximate": "tanh"}),
    ("SiLU", {}), ("Mish", {}), ("Sigmoid", {}), ("Tanh", {}), ("Hardtanh", {}),
    ("Hardtanh", {"min_val": -0.5, "max_val": 2.0}), ("Hardswish", {}), ("Hardsigmoid", {}),
    ("Softplus", {}), ("Softplus", {"beta": 2.0, "threshold": 1.0}), ("Softmax", {"dim": 1}),
    ("Softmax", {"dim": -1}), ("LogSoftmax", {"dim": 1}), ("Softmin", {"dim": 1}),
    ("SELU", {}), ("CELU", {}), ("LogSigmoid", {}), ("Softsign", {}), ("Tanhshrink", {}),
    ("Threshold", {"threshold": 0.1, "value": 20.0}), ("GLU", {}), ("Identity", {}),
    ("Softshrink", {}), ("Hardshrink", {}),
]


@pytest.mark.parametrize("name,kw", ACTS, ids=[f"{n}{i}" for i, (n, _) in enumerate(ACTS)])
@pytest.mark.parametrize("shape", [(4, 6), (2, 4, 3, 2)])
def test_activation(name, kw, shape):
    tm = getattr(tnn, name)(**kw)
    dm = getattr(nn, name)(**kw)
    assert repr(dm) == repr(tm)
    run_both(tm, dm, [rand(*shape)])


@pytest.mark.parametrize("name", ["ReLU", "ReLU6", "LeakyReLU", "ELU", "SiLU", "Mish",
                                  "Hardtanh", "Hardswish", "SELU"])
def test_inplace_activation(name):
    tm, dm = getattr(tnn, name)(inplace=True), getattr(nn, name)(inplace=True)
    assert repr(dm) == repr(tm)
    x = rand(3, 5)
    tx = torch.from_numpy(x.copy()).requires_grad_()
    dx = dagrad.from_numpy(x.copy()).requires_grad_()
    ty = tm(tx * 1)
    dy = dm(dx * 1)
    close(dy, ty)
    g = rand(3, 5)
    ty.backward(torch.from_numpy(g))
    dy.backward(dagrad.from_numpy(g))
    close(dx.grad, tx.grad)


def test_relu_inplace_in_sequential_after_conv_like_op():
    x = dagrad.randn(2, 3, requires_grad=True)
    y = nn.ReLU(inplace=True)(x * 2)
    assert y.grad_fn.name() == "ReluBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (x.detach().numpy() > 0) * 2.0)


def test_prelu():
    for n in (1, 3):
        tm, dm = tnn.PReLU(n), nn.PReLU(n)
        assert repr(dm) == repr(tm)
        copy_weights(tm, dm)
        run_both(tm, dm, [rand(2, 3, 4)])


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 7), (7,), (2, 3, 7), (2, 2, 2, 7)])
def test_linear(bias, shape):
    tm, dm = tnn.Linear(7, 4, bias=bias), nn.Linear(7, 4, bias=bias)
    assert repr(dm) == repr(tm)
    copy_weights(tm, dm)
    run_both(tm, dm, [rand(*shape)])


def test_linear_grad_fn_and_float64():
    m = nn.Linear(3, 2)
    y = m(dagrad.randn(4, 3))
    assert y.grad_fn.name() == "AddmmBackward0"
    assert nn.Linear(3, 2, bias=False)(dagrad.randn(4, 3)).grad_fn.name() == "MmBackward0"
    tm = tnn.Linear(3, 2).double()
    dm = nn.Linear(3, 2).double()
    copy_weights(tm, dm)
    run_both(tm, dm, [rand(4, 3, dtype=np.float64)], atol=1e-12, rtol=1e-10)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied "
                                           r"\(4x5 and 3x2\)"):
        m(dagrad.randn(4, 5))


def test_bilinear():
    tm, dm = tnn.Bilinear(3, 4, 5), nn.Bilinear(3, 4, 5)
    assert repr(dm) == repr(tm)
    copy_weights(tm, dm)
    run_both(tm, dm, [rand(6, 3), rand(6, 4)])


def test_flatten_unflatten():
    for tm, dm in [(tnn.Flatten(), nn.Flatten()), (tnn.Flatten(0, 2), nn.Flatten(0, 2)),
                   (tnn.Unflatten(1, (3, 4)), nn.Unflatten(1, (3, 4)))]:
        assert repr(dm) == repr(tm)
        x = rand(2, 12, 5) if isinstance(tm, tnn.Unflatten) else rand(2, 3, 4, 5)
        run_both(tm, dm, [x])


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 0}, {"padding_idx": -1},
                                {"scale_grad_by_freq": True}, {"max_norm": 1.0}])
def test_embedding(kw):
    tm, dm = tnn.Embedding(10, 4, **kw), nn.Embedding(10, 4, **kw)
    assert repr(dm) == repr(tm)
    copy_weights(tm, dm)
    idx = np.array([[0, 3, 3, 9], [1, 0, 2, 3]], dtype=np.int64)
    run_both(tm, dm, [idx])
    close(dm.weight, tm.weight)  # max_norm renormalises in place
    with pytest.raises(IndexError, match="index out of range in self"):
        dm(dagrad.tensor([10]))


def test_embedding_init_and_padding_zero():
    m = nn.Embedding(1000, 20, padding_idx=3)
    w = m.weight.detach().numpy()
    assert np.all(w[3] == 0)
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02
    e = nn.Embedding.from_pretrained(dagrad.ones(3, 2))
    assert not e.weight.requires_grad


def _bn_pair(cls, n, **kw):
    tm, dm = getattr(tnn, cls)(n, **kw), getattr(nn, cls)(n, **kw)
    with torch.no_grad():
        tm.weight.uniform_(0.5, 1.5) if tm.weight is not None else None
        tm.bias.uniform_(-0.5, 0.5) if tm.bias is not None else None
    copy_weights(tm, dm)
    return tm, dm


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (8, 4)), ("BatchNorm1d", (6, 4, 5)),
                                       ("BatchNorm2d", (5, 4, 3, 3))])
@pytest.mark.parametrize("kw", [{}, {"affine": False}, {"momentum": None},
                                {"track_running_stats": False}, {"eps": 1e-3, "momentum": 0.3},
                                {"bias": False}])
def test_batchnorm_train_then_eval(cls, shape, kw):
    tm, dm = _bn_pair(cls, 4, **kw)
    assert repr(dm) == repr(tm)
    for step in range(3):
        run_both(tm, dm, [rand(*shape) + step], atol=1e-5)
    sd_t, sd_d = tm.state_dict(), dm.state_dict()
    assert list(sd_t) == list(sd_d)
    for k in sd_t:
        close(sd_d[k], sd_t[k], atol=1e-5, msg=k)
    tm.eval()
    dm.eval()
    run_both(tm, dm, [rand(*shape)], atol=1e-5)


def test_batchnorm_grad_fn_and_errors():
    m = nn.BatchNorm2d(3)
    y = m(dagrad.randn(2, 3, 4, 4))
    assert y.grad_fn.name() == "NativeBatchNormBackward0"
    assert m.num_batches_tracked.item() == 1
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        m(dagrad.randn(3, 4, 4))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training, "
                                         r"got input size torch.Size\(\[1, 3\]\)"):
        nn.BatchNorm1d(3)(dagrad.randn(1, 3))
    with pytest.raises(RuntimeError, match="running_mean should contain 5 elements not 3"):
        m(dagrad.randn(2, 5, 4, 4))


def test_batchnorm_double_backward_gradcheck():
    from dagrad.autograd import gradcheck, gradgradcheck
    x = dagrad.randn(4, 3, 2, dtype=dagrad.float64, requires_grad=True)
    w = dagrad.rand(3, dtype=dagrad.float64, requires_grad=True)
    b = dagrad.rand(3, dtype=dagrad.float64, requires_grad=True)
    import dagrad.nn.functional as F
    f = lambda x, w, b: F.batch_norm(x, None, None, w, b, True)  # noqa: E731
    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))
    g = lambda x, w, b: F.layer_norm(x, (3, 2), None, None) * w.reshape(3, 1) + b.reshape(3, 1)  # noqa
    assert gradcheck(g, (x, w, b))
    assert gradgradcheck(g, (x, w, b))


@pytest.mark.parametrize("shape,ns", [((4, 10), 10), ((2, 3, 6), (3, 6)), ((2, 5, 4), 4)])
@pytest.mark.parametrize("kw", [{}, {"elementwise_affine": False}, {"bias": False},
                                {"eps": 1e-2}])
def test_layernorm(shape, ns, kw):
    tm, dm = tnn.LayerNorm(ns, **kw), nn.LayerNorm(ns, **kw)
    assert repr(dm) == repr(tm)
    if tm.weight is not None:
        with torch.no_grad():
            tm.weight.uniform_(0.5, 1.5)
    copy_weights(tm, dm)
    run_both(tm, dm, [rand(*shape)])


@pytest.mark.parametrize("g,c,shape", [(2, 4, (3, 4, 5)), (1, 6, (2, 6, 3, 3)),
                                       (3, 6, (2, 6, 2, 2))])
@pytest.mark.parametrize("affine", [True, False])
def test_groupnorm(g, c, shape, affine):
    tm, dm = tnn.GroupNorm(g, c, affine=affine), nn.GroupNorm(g, c, affine=affine)
    assert repr(dm) == repr(tm)
    if affine:
        with torch.no_grad():
            tm.weight.uniform_(0.5, 1.5)
            tm.bias.uniform_(-1, 1)
    copy_weights(tm, dm)
    run_both(tm, dm, [rand(*shape)])


@pytest.mark.parametrize("kw", [{}, {"affine": True}, {"track_running_stats": True},
                                {"affine": True, "track_running_stats": True}])
def test_instancenorm2d(kw):
    tm, dm = tnn.InstanceNorm2d(3, **kw), nn.InstanceNorm2d(3, **kw)
    assert repr(dm) == repr(tm)
    if tm.weight is not None:
        with torch.no_grad():
            tm.weight.uniform_(0.5, 1.5)
    copy_weights(tm, dm)
    run_both(tm, dm, [rand(2, 3, 4, 4)])
    run_both(tm, dm, [rand(3, 4, 4)])  # unbatched
    for k, v in tm.state_dict().items():
        close(dm.state_dict()[k], v, msg=k)
    tm.eval()
    dm.eval()
    run_both(tm, dm, [rand(2, 3, 4, 4)])


def test_dropout():
    m = nn.Dropout(0.3)
    assert repr(m) == repr(tnn.Dropout(0.3))
    x = dagrad.ones(200, 500, requires_grad=True)
    y = m(x)
    a = y.detach().numpy()
    kept = a != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(a[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), a)
    m.eval()
    assert m(x) is x
    dagrad.manual_seed(3)
    a1 = nn.functional.dropout(dagrad.ones(10, 10)).numpy().copy()
    dagrad.manual_seed(3)
    a2 = nn.functional.dropout(dagrad.ones(10, 10)).numpy()
    np.testing.assert_array_equal(a1, a2)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but "
                                         "got 1.5"):
        nn.Dropout(1.5)
    d2 = nn.Dropout2d(0.5)
    y = d2(dagrad.ones(4, 50, 3, 3)).numpy()
    per_channel = y.reshape(4, 50, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert nn.functional.dropout(x, 0.0) is x
    assert float(nn.functional.dropout(dagrad.ones(3), 1.0).sum()) == 0


def test_functional_misc():
    import torch.nn.functional as TF

    import dagrad.nn.functional as F
    x = rand(4, 5)
    close(F.normalize(dagrad.tensor(x)), TF.normalize(torch.tensor(x)))
    close(F.normalize(dagrad.tensor(x), p=1, dim=0), TF.normalize(torch.tensor(x), p=1, dim=0))
    t = np.array([0, 2, 1, 4])
    close(F.one_hot(dagrad.tensor(t)), TF.one_hot(torch.tensor(t)))
    close(F.one_hot(dagrad.tensor(t), 6), TF.one_hot(torch.tensor(t), 6))
    assert F.one_hot(dagrad.tensor(t)).dtype == dagrad.int64
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes."):
        F.one_hot(dagrad.tensor(t), 3)
    close(F.cosine_similarity(dagrad.tensor(x), dagrad.tensor(x[::-1].copy())),
          TF.cosine_similarity(torch.tensor(x), torch.tensor(x[::-1].copy())))
    close(F.pairwise_distance(dagrad.tensor(x), dagrad.tensor(x * 2)),
          TF.pairwise_distance(torch.tensor(x), torch.tensor(x * 2)))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}, {"include_last_offset": True}])
def test_embedding_bag(mode, kw):
    tm, dm = tnn.EmbeddingBag(10, 3, mode=mode, **kw), nn.EmbeddingBag(10, 3, mode=mode, **kw)
    assert repr(dm) == repr(tm)
    copy_weights(tm, dm)
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 9])
    # with include_last_offset the final offset is the input's end (torch's mean/max
    # otherwise ignore a final offset short of the end)
    offs = np.array([0, 4, 4, 8]) if kw.get("include_last_offset") else np.array([0, 4, 4, 6])
    run_both(tm, dm, [idx, offs])
    run_both(tm, dm, [np.array([[1, 2, 3], [2, 2, 2], [0, 9, 2]])])
    if mode == "sum":
        w = RNG.uniform(0.5, 1.5, 8).astype(np.float32)
        run_both(tm, dm, [idx, offs, w])


def test_batchnorm_eval_graph_unaffected_by_later_running_stat_updates():
    # dagrad keeps the statistics the forward used. (PyTorch's eval-mode kernel instead reads
    # the running buffers again at backward time, so a training step taken in between changes
    # its weight gradient; dagrad deliberately returns the gradient of the computed output.)
    m = nn.BatchNorm1d(3)
    m.running_mean.uniform_(-1, 1)
    m.running_var.uniform_(1, 2)
    rm, rv = m.running_mean.numpy().copy(), m.running_var.numpy().copy()
    x = rand(6, 3)
    m.eval()
    y = m(dagrad.tensor(x))
    m.train()
    m(dagrad.tensor(x + 5))
    assert not np.allclose(m.running_mean.numpy(), rm)
    (y * dagrad.tensor(x)).sum().backward()
    expect = (x * (x - rm) / np.sqrt(rv + 1e-5)).sum(0)
    np.testing.assert_allclose(m.weight.grad.numpy(), expect, rtol=1e-5)
