"""The fast paths added for issue 6 (performance) agree with PyTorch exactly where the general
path did: cross_entropy's common case, SGD's chunked momentum update, gradient adoption."""
import numpy as np
import pytest
import torch

import dagrad


def _pair(a, rg=True):
    d = dagrad.from_numpy(a.copy()).requires_grad_(rg)
    t = torch.from_numpy(a.copy()).requires_grad_(rg)
    return d, t


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("M,C", [(1, 1), (5, 3), (128, 10)])
def test_cross_entropy_fast_path(dtype, reduction, M, C):
    rng = np.random.default_rng(M * 31 + C)
    a = (rng.standard_normal((M, C)) * 3).astype(dtype)
    y = rng.integers(0, C, M)
    d, t = _pair(a)
    ld = dagrad.nn.functional.cross_entropy(d, dagrad.from_numpy(y), reduction=reduction)
    lt = torch.nn.functional.cross_entropy(t, torch.from_numpy(y), reduction=reduction)
    assert ld.dtype == dagrad.float32 if dtype == np.float32 else ld.dtype == dagrad.float64
    assert ld.shape == () and ld.grad_fn.name() == lt.grad_fn.name()
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ld.item(), lt.item(), rtol=tol * 10, atol=tol)
    ld.backward()
    lt.backward()
    np.testing.assert_allclose(d.grad.numpy(), t.grad.numpy(), rtol=tol * 10, atol=tol)


def test_cross_entropy_fast_path_falls_back():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 4)).astype(np.float32)
    d, t = _pair(a)
    # ignore_index present among the targets
    y = np.array([0, 1, -100, 3, 2, -100])
    ld = dagrad.nn.functional.cross_entropy(d, dagrad.from_numpy(y))
    lt = torch.nn.functional.cross_entropy(t, torch.from_numpy(y))
    np.testing.assert_allclose(ld.item(), lt.item(), rtol=1e-6)
    ld.backward()
    lt.backward()
    np.testing.assert_allclose(d.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-7)
    # ignore_index inside [0, C)
    y = np.array([0, 1, 2, 3, 2, 1])
    ld = dagrad.nn.functional.cross_entropy(d, dagrad.from_numpy(y), ignore_index=2)
    lt = torch.nn.functional.cross_entropy(t, torch.from_numpy(y), ignore_index=2)
    np.testing.assert_allclose(ld.item(), lt.item(), rtol=1e-6)
    # out-of-range targets: PyTorch's error
    for bad in (4, -1):
        y = np.array([0, 1, 2, bad, 2, 1])
        with pytest.raises(IndexError, match="out of bounds"):
            dagrad.nn.functional.cross_entropy(d, dagrad.from_numpy(y))


def test_cross_entropy_fast_path_saved_state_released():
    d = dagrad.randn(8, 5, requires_grad=True)
    loss = dagrad.nn.functional.cross_entropy(d, dagrad.randint(0, 5, (8,)))
    node = loss.grad_fn.next_functions[0][0]  # LogSoftmaxBackward0 keeps the softmax
    assert node.name() == "LogSoftmaxBackward0" and node.probs is not None
    loss.backward()
    assert node.probs is None  # the softmax saved for backward is dropped once it has run
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


@pytest.mark.parametrize("nesterov,dampening,wd", [(False, 0, 0), (False, 0.1, 0),
                                                    (True, 0, 0), (False, 0, 1e-2)])
def test_sgd_momentum_large_params_match_torch(nesterov, dampening, wd):
    rng = np.random.default_rng(1)
    shapes = [(300, 400), (7,), (3, 70001)]   # above and below the chunking threshold
    ps = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    dp = [dagrad.from_numpy(p.copy()).requires_grad_() for p in ps]
    tp = [torch.from_numpy(p.copy()).requires_grad_() for p in ps]
    kw = dict(lr=0.05, momentum=0.9, nesterov=nesterov, dampening=dampening, weight_decay=wd)
    do, to = dagrad.optim.SGD(dp, **kw), torch.optim.SGD(tp, **kw)
    for step in range(4):
        for a, b in zip(dp, tp):
            g = rng.standard_normal(a.shape).astype(np.float32)
            a.grad = dagrad.from_numpy(g.copy())
            b.grad = torch.from_numpy(g.copy())
        do.step()
        to.step()
        for a, b in zip(dp, tp):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5,
                                       atol=1e-6)
    for a, b in zip(dp, tp):
        np.testing.assert_allclose(do.state[a]["momentum_buffer"].numpy(),
                                   to.state[b]["momentum_buffer"].numpy(), rtol=1e-5, atol=1e-6)


def test_sgd_non_contiguous_param_and_version_bump():
    base = dagrad.randn(400, 300)
    p = base.t().detach().requires_grad_()   # a transposed (F-ordered) parameter
    tp = torch.from_numpy(p.detach().numpy().copy()).requires_grad_()
    opt = dagrad.optim.SGD([p], lr=0.1, momentum=0.5)
    topt = torch.optim.SGD([tp], lr=0.1, momentum=0.5)
    for _ in range(3):
        g = np.random.default_rng(2).standard_normal((300, 400)).astype(np.float32)
        p.grad = dagrad.from_numpy(g.copy())
        tp.grad = torch.from_numpy(g.copy())
        v = p._version
        opt.step()
        topt.step()
        assert p._version == v + 1
    np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_conv_weight_grad_adopted_and_not_shared():
    conv = dagrad.nn.Conv2d(8, 16, 3, padding=1, bias=False)
    conv2 = dagrad.nn.Conv2d(8, 16, 3, padding=1, bias=False)
    x = dagrad.randn(2, 8, 10, 10)
    (conv(x).sum() + conv2(x).sum()).backward()
    g1, g2 = conv.weight.grad, conv2.weight.grad
    assert g1.shape == (16, 8, 3, 3) and g1.is_contiguous()
    assert not np.shares_memory(g1.numpy(), g2.numpy())
    tw = torch.from_numpy(conv.weight.detach().numpy().copy()).requires_grad_()
    torch.nn.functional.conv2d(torch.from_numpy(x.numpy()), tw, padding=1).sum().backward()
    np.testing.assert_allclose(g1.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-4)
    # a second backward accumulates into the adopted buffer
    conv(x).sum().backward()
    np.testing.assert_allclose(conv.weight.grad.numpy(), 2 * tw.grad.numpy(), rtol=1e-4,
                               atol=1e-4)
