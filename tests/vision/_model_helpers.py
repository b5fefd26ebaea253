"""Shared helpers of the vision model tests."""
import io
import os
import sys

import numpy as np
import torch

import dagrad
from dagrad.vision import models as M

sys.path.insert(0, os.path.dirname(__file__))
import torch_models as TM  # noqa: E402,F401


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach()._data)


def _torch_bytes(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _close(a, b, tol):
    a, b = _np(a), _np(b)
    scale = max(float(np.abs(b).max()), 1.0)
    np.testing.assert_allclose(a, b, rtol=0, atol=tol * scale)


def _compare_train_step(name, size=64, double=False):
    torch.manual_seed(0)
    tm = getattr(TM, name)()
    dm = getattr(M, name)()
    if double:
        tm.double()
        dm.double()
    res = dm.load_state_dict(dagrad.load(io.BytesIO(_torch_bytes(tm.state_dict()))))
    assert list(res.missing_keys) == [] and list(res.unexpected_keys) == []
    rng = np.random.default_rng(0)
    dt = np.float64 if double else np.float32
    x = rng.random((1, 3, size, size)).astype(dt)
    labels = rng.random((1, 1000)).astype(dt)
    # the seed's section 2: forward, (pred - labels).sum().backward(), SGD(lr=1e-2, momentum=0.9)
    pt = tm(torch.from_numpy(x))
    pd = dm(dagrad.from_numpy(x))
    _close(pd, pt, 1e-4)
    (pt - torch.from_numpy(labels)).sum().backward()
    (pd - dagrad.from_numpy(labels)).sum().backward()
    tp, dp = dict(tm.named_parameters()), dict(dm.named_parameters())
    assert list(tp) == list(dp)
    for k in tp:
        _close(dp[k].grad, tp[k].grad, 1e-3)
    for k, v in tm.state_dict().items():       # BatchNorm running stats updated alike
        _close(dm.state_dict()[k], v, 1e-4)
    topt = torch.optim.SGD(tm.parameters(), lr=1e-2, momentum=0.9)
    dopt = dagrad.optim.SGD(dm.parameters(), lr=1e-2, momentum=0.9)
    topt.step()
    dopt.step()
    for k in tp:
        _close(dp[k], tp[k], 1e-4)
    return tm, dm


