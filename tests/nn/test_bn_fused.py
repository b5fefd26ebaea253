"""The fused, threaded batch-norm / ReLU kernels (ops/_threads.py) vs PyTorch, vs dagrad's plain
NumPy code, and float64 finite differences (with the size threshold lowered)."""
import numpy as np
import pytest
import torch

import dagrad
import dagrad.ops._threads as T
from dagrad.ops import derivatives_np as DN

BIG = [(4, 64, 32, 32), (8, 512, 64), (2, 8, 16384), (2, 32, 16, 16, 32)]


def _run(lib, x, gy, w, b, training, affine, rm0, rv0):
    xt = lib.tensor(x, requires_grad=True)
    wt = lib.tensor(w, requires_grad=True) if affine else None
    bt = lib.tensor(b, requires_grad=True) if affine else None
    rm, rv = lib.tensor(rm0.copy()), lib.tensor(rv0.copy())
    y = lib.nn.functional.batch_norm(xt, rm, rv, wt, bt, training=training, momentum=0.3)
    y.backward(lib.tensor(gy))
    out = [y.detach().numpy(), xt.grad.numpy(), rm.numpy(), rv.numpy()]
    if affine:
        out += [wt.grad.numpy(), bt.grad.numpy()]
    return out


@pytest.mark.parametrize("shape", BIG)
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_bn_fused_vs_torch_and_plain(shape, dt, training, affine):
    rng = np.random.default_rng(sum(shape))
    C = shape[1]
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(dt)
    gy = rng.standard_normal(shape).astype(dt)
    w, b = rng.standard_normal(C).astype(dt), rng.standard_normal(C).astype(dt)
    rm0, rv0 = rng.standard_normal(C).astype(dt), (rng.random(C) + 0.5).astype(dt)
    assert T.ok(x) and T.ok_train(x) == (x.size // (shape[0] * shape[1]) >= 1024)
    ref = _run(torch, x, gy, w, b, training, affine, rm0, rv0)
    T.enabled = False
    try:
        plain = _run(dagrad, x, gy, w, b, training, affine, rm0, rv0)
    finally:
        T.enabled = True
    fast = _run(dagrad, x, gy, w, b, training, affine, rm0, rv0)
    tol = 2e-5 if dt == np.float32 else 1e-12
    for f, p, r in zip(fast, plain, ref):
        assert f.dtype == r.dtype and f.shape == r.shape
        scale = np.abs(r).max() + 1e-30
        assert np.abs(f - r).max() <= tol * scale
        # the fused kernels are the same formula: no further from torch than the plain code
        assert np.abs(f - r).max() <= 2 * np.abs(p - r).max() + 4 * np.finfo(dt).eps * scale


def test_bn_fused_module_train_step_grads_and_stats():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 64, 48, 48)).astype(np.float32)
    c = rng.standard_normal(x.shape).astype(np.float32)
    bd, bt = dagrad.nn.BatchNorm2d(64), torch.nn.BatchNorm2d(64)
    for _ in range(2):
        xd, xt = dagrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        (bd(xd) ** 2 * dagrad.tensor(c)).sum().backward()
        (bt(xt) ** 2 * torch.tensor(c)).sum().backward()
        np.testing.assert_allclose(xd.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for a, b in ((bd.running_mean, bt.running_mean), (bd.running_var, bt.running_var),
                 (bd.weight.grad, bt.weight.grad), (bd.bias.grad, bt.bias.grad)):
        b = b.detach().numpy()
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-4, atol=1e-5 * np.abs(b).max())
    assert int(bd.num_batches_tracked) == 2


def test_bn_fused_gradcheck_small_threshold(monkeypatch):
    monkeypatch.setattr(T, "_PAR_MIN", 8)   # the fused path (and the pool) on tiny inputs
    monkeypatch.setattr(T, "_TRAIN_MIN_HW", 1)
    rng = np.random.default_rng(2)
    x = dagrad.tensor(rng.standard_normal((3, 4, 5, 2)), requires_grad=True)
    w = dagrad.tensor(rng.standard_normal(4), requires_grad=True)
    b = dagrad.tensor(rng.standard_normal(4), requires_grad=True)
    assert T.ok(x._data)
    for training in (True, False):
        def f(x, w, b, training=training):
            rm, rv = dagrad.zeros(4, dtype=dagrad.float64), dagrad.ones(4, dtype=dagrad.float64)
            return dagrad.nn.functional.batch_norm(x, rm, rv, w, b, training=training)
        assert dagrad.autograd.gradcheck(f, (x, w, b))


def test_relu_grad_fused():
    rng = np.random.default_rng(3)
    shape = (4, 64, 32, 32)
    g = rng.standard_normal(shape).astype(np.float32)
    r = np.maximum(rng.standard_normal(shape).astype(np.float32), 0)
    r[0, 0, 0, :4] = [0.0, -0.0, np.nan, 1e-40]
    np.testing.assert_array_equal(T.relu_grad(g, r), g * (r > 0))
    x = rng.standard_normal(shape).astype(np.float32)
    xd, xt = dagrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (dagrad.relu(xd * 1) * 3).sum().backward()
    (torch.relu(xt * 1) * 3).sum().backward()
    np.testing.assert_array_equal(xd.grad.numpy(), xt.grad.numpy())
    a = x.copy()
    np.testing.assert_array_equal(T.relu_(a), np.maximum(x, 0))
    assert DN.relu is not None


def test_fused_kernel_error_propagates_from_worker(monkeypatch):
    monkeypatch.setattr(T, "_PAR_MIN", 8)

    def boom(r0, r1):
        if r0 > 0:
            raise ValueError("worker failed")
    with pytest.raises(ValueError, match="worker failed"):
        T._run(boom, 4, 1 << 20)


def _graph(lib, x, y, self_add=False):
    a = lib.tensor(x, requires_grad=True)
    b = lib.tensor(y, requires_grad=True)
    out = a * 2
    if self_add:
        out += out
    else:
        out += b * 3
    (out * out).sum().backward()
    return out.detach().numpy(), a.grad.numpy(), b.grad, out.grad_fn.name() if hasattr(
        out.grad_fn, "name") else type(out.grad_fn).__name__


@pytest.mark.parametrize("self_add", [False, True])
def test_recorded_inplace_add_big(self_add):
    rng = np.random.default_rng(4)
    shape = (4, 64, 32, 32)
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.standard_normal(shape).astype(np.float32)
    d, t = _graph(dagrad, x, y, self_add), _graph(torch, x, y, self_add)
    np.testing.assert_allclose(d[0], t[0], rtol=1e-6)
    np.testing.assert_allclose(d[1], t[1], rtol=1e-6)
    if not self_add:
        np.testing.assert_allclose(d[2].numpy(), t[2].numpy(), rtol=1e-6)
    assert d[3] == t[3] == "AddBackward0"


def test_recorded_inplace_add_errors_like_torch():
    shape = (4, 64, 32, 32)
    for lib in (dagrad, torch):
        leaf = lib.zeros(shape, requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            leaf += lib.ones(shape)
        x = lib.ones(shape, requires_grad=True)
        s = x.sigmoid()                    # saves its result
        s += lib.ones(shape)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            s.sum().backward()
    # an input that does not require grad becomes part of the graph
    a = dagrad.ones(shape)
    w = dagrad.ones(shape, requires_grad=True)
    a += w
    assert a.requires_grad and a.grad_fn is not None and not a.is_leaf
    a.sum().backward()
    assert float(w.grad.sum()) == w.numel()


@pytest.mark.parametrize("xs,ws,stride", [((6, 64, 7, 7), (512, 64, 3, 3), 1),
                                          ((3, 32, 20, 20), (512, 32, 3, 3), 2)])
@pytest.mark.parametrize("split", [False, True])
def test_small_map_conv_column_order_vs_torch(xs, ws, stride, split, monkeypatch):
    """Deep-layer convolutions (fewer output positions than channels) with >= 256 output
    positions build their columns in (C, kh, kw, N, Ho, Wo) order (ops/conv.py _cols_km)."""
    import dagrad.ops.conv as C
    if not split:
        monkeypatch.setattr(C, "_PAR_MIN_FLOPS", 1e30)   # one slice: the whole batch
    rng = np.random.default_rng(5)
    x = rng.standard_normal(xs)
    w = rng.standard_normal(ws) * 0.1
    Ho = (xs[2] + 2 - 3) // stride + 1
    assert C._small(C._P((stride,) * 2, (1,) * 4, (1, 1), 1, 2), 1, xs[0] * Ho * Ho, ws[0], 3, 3)
    assert xs[0] * Ho * Ho >= 256
    gy = rng.standard_normal((xs[0], ws[0], Ho, Ho))
    outs = []
    for lib in (dagrad, torch):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.conv2d(xt, wt, None, stride, 1)
        y.backward(lib.tensor(gy))
        outs.append([y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()])
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10 * np.abs(b).max())
