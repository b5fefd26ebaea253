"""nn.init: distributions (mean/std/bounds), gains, fans, errors; layer default inits."""
import math

import numpy as np
import pytest
import torch
import torch.nn as tnn

import dagrad
import dagrad.nn as nn
from dagrad.nn import init


def arr(t):
    return t.detach().numpy().astype(np.float64)


@pytest.mark.parametrize("nl,param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                      ("tanh", None), ("relu", None), ("leaky_relu", None),
                                      ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain(nl, param):
    assert init.calculate_gain(nl, param) == tnn.init.calculate_gain(nl, param)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        init.calculate_gain("foo")
    with pytest.raises(ValueError, match="negative_slope x not a valid number"):
        init.calculate_gain("leaky_relu", "x")


@pytest.mark.parametrize("shape", [(30, 40), (8, 5, 3, 3), (6, 4, 7)])
def test_fans(shape):
    assert init._calculate_fan_in_and_fan_out(dagrad.empty(shape)) == \
        tnn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_uniform_normal_constant():
    t = dagrad.empty(300, 300)
    init.uniform_(t, -2, 3)
    a = arr(t)
    assert a.min() >= -2 and a.max() < 3 and abs(a.mean() - 0.5) < 0.03
    assert abs(a.std() - 5 / math.sqrt(12)) < 0.02
    init.normal_(t, 1.0, 2.0)
    a = arr(t)
    assert abs(a.mean() - 1) < 0.03 and abs(a.std() - 2) < 0.03
    init.constant_(t, 0.25)
    assert np.all(arr(t) == 0.25)
    init.zeros_(t)
    assert np.all(arr(t) == 0)
    init.ones_(t)
    assert np.all(arr(t) == 1)
    e = dagrad.empty(3, 5)
    init.eye_(e)
    np.testing.assert_array_equal(arr(e), np.eye(3, 5))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(dagrad.empty(3))


def test_init_on_parameter_keeps_leaf_and_grad():
    p = nn.Parameter(dagrad.empty(4, 4))
    init.normal_(p)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nl,a", [("relu", 0), ("leaky_relu", 0), ("leaky_relu", math.sqrt(5)),
                                  ("tanh", 0)])
def test_kaiming(mode, nl, a):
    shape = (128, 64, 3, 3)
    fan = 64 * 9 if mode == "fan_in" else 128 * 9
    std = tnn.init.calculate_gain(nl, a) / math.sqrt(fan)
    t = dagrad.empty(shape)
    init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nl)
    v = arr(t)
    assert abs(v.mean()) < 0.02 * std * 10 and abs(v.std() - std) / std < 0.02
    init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nl)
    v = arr(t)
    bound = math.sqrt(3) * std
    assert v.min() >= -bound and v.max() <= bound
    assert abs(v.std() - std) / std < 0.02


def test_xavier():
    t = dagrad.empty(200, 300)
    init.xavier_uniform_(t, gain=2.0)
    bound = 2.0 * math.sqrt(6 / 500)
    v = arr(t)
    assert v.min() >= -bound and v.max() <= bound
    assert abs(v.std() - bound / math.sqrt(3)) < 0.02 * bound
    init.xavier_normal_(t)
    assert abs(arr(t).std() - math.sqrt(2 / 500)) < 0.02 * math.sqrt(2 / 500)


def test_trunc_normal():
    t = dagrad.empty(400, 400)
    init.trunc_normal_(t, mean=0.5, std=1.0, a=-1.0, b=2.0)
    v = arr(t)
    assert v.min() >= -1.0 and v.max() <= 2.0
    ref = torch.empty(400, 400)
    tnn.init.trunc_normal_(ref, mean=0.5, std=1.0, a=-1.0, b=2.0)
    r = ref.numpy()
    assert abs(v.mean() - r.mean()) < 0.02 and abs(v.std() - r.std()) < 0.02


def test_orthogonal():
    for shape in [(6, 10), (10, 6), (4, 3, 2)]:
        t = dagrad.empty(shape)
        init.orthogonal_(t, gain=2.0)
        m = arr(t).reshape(shape[0], -1)
        if m.shape[0] <= m.shape[1]:
            np.testing.assert_allclose(m @ m.T, 4 * np.eye(m.shape[0]), atol=1e-5)
        else:
            np.testing.assert_allclose(m.T @ m, 4 * np.eye(m.shape[1]), atol=1e-5)


def test_dirac_and_sparse():
    t = dagrad.empty(4, 2, 3, 3)
    init.dirac_(t, groups=2)
    r = torch.empty(4, 2, 3, 3)
    tnn.init.dirac_(r, groups=2)
    np.testing.assert_array_equal(arr(t), r.numpy())
    s = dagrad.empty(10, 6)
    init.sparse_(s, 0.3)
    assert np.all((arr(s) == 0).sum(0) == 3)


def test_seeded_init_reproducible():
    dagrad.manual_seed(5)
    a = arr(nn.Linear(5, 5).weight)
    dagrad.manual_seed(5)
    b = arr(nn.Linear(5, 5).weight)
    np.testing.assert_array_equal(a, b)


def test_layer_defaults():
    bn = nn.BatchNorm2d(5)
    assert np.all(arr(bn.weight) == 1) and np.all(arr(bn.bias) == 0)
    assert np.all(arr(bn.running_var) == 1) and np.all(arr(bn.running_mean) == 0)
    assert bn.num_batches_tracked.dtype == dagrad.int64
    ln = nn.LayerNorm((3, 4))
    assert np.all(arr(ln.weight) == 1) and ln.weight.shape == (3, 4)
    b = nn.Bilinear(20, 30, 40)
    bound = 1 / math.sqrt(20)
    assert arr(b.weight).min() >= -bound and arr(b.weight).max() <= bound
    assert nn.PReLU().weight.item() == 0.25
    r = nn.LSTM(10, 100)
    bound = 1 / math.sqrt(100)
    for p in r.parameters():
        v = arr(p)
        assert v.min() >= -bound and v.max() <= bound
        assert abs(v.std() - bound / math.sqrt(3)) < 0.1 * bound
