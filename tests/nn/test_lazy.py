"""Lazy modules: repr before/after, shape inference, class swap, init and numerics vs torch."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn as tnn
from nnhelp import copy_weights, run_both

import dagrad
import dagrad.nn as nn

warnings.filterwarnings("ignore", message="Lazy modules are a new feature")

CASES = [
    ("LazyLinear", (5,), {}, (4, 3)),
    ("LazyLinear", (5,), {"bias": False}, (2, 4, 3)),
    ("LazyConv2d", (4, 3), {"padding": 1}, (2, 3, 6, 6)),
    ("LazyConv2d", (4, 3), {"groups": 2, "bias": False}, (2, 6, 5, 5)),
    ("LazyConv1d", (4, 3), {}, (2, 3, 7)),
    ("LazyConvTranspose2d", (4, 3), {"stride": 2}, (2, 3, 4, 4)),
    ("LazyBatchNorm1d", (), {}, (6, 3)),
    ("LazyBatchNorm2d", (), {}, (4, 3, 2, 2)),
    ("LazyBatchNorm2d", (), {"affine": False}, (4, 3, 2, 2)),
    ("LazyBatchNorm2d", (), {"bias": False}, (4, 3, 2, 2)),
    ("LazyInstanceNorm2d", (), {"affine": True}, (2, 3, 4, 4)),
]


@pytest.mark.parametrize("name,args,kw,shape", CASES, ids=[f"{c[0]}{i}" for i, c in
                                                            enumerate(CASES)])
def test_lazy_module(name, args, kw, shape):
    tm, dm = getattr(tnn, name)(*args, **kw), getattr(nn, name)(*args, **kw)
    assert repr(dm) == repr(tm)
    assert dm.has_uninitialized_params()
    x = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
    tm(torch.tensor(x))
    dm(dagrad.tensor(x))
    assert type(dm).__name__ == type(tm).__name__
    assert repr(dm) == repr(tm)
    assert list(dm.state_dict()) == list(tm.state_dict())
    for (k, a), (_, b) in zip(dm.state_dict().items(), tm.state_dict().items()):
        assert tuple(a.shape) == tuple(b.shape), k
    copy_weights(tm, dm)
    run_both(tm, dm, [x], atol=1e-5)


def test_lazy_linear_init_bounds():
    m = nn.LazyLinear(50)
    m(dagrad.ones(2, 400))
    bound = 1 / np.sqrt(400)
    w = m.weight.detach().numpy()
    assert w.min() >= -bound and w.max() <= bound and abs(w.std() - bound / np.sqrt(3)) < 0.05 * bound
    assert isinstance(m.weight, nn.Parameter) and not isinstance(m.weight,
                                                                  nn.UninitializedParameter)
    assert not m._forward_pre_hooks
