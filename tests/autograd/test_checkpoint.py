"""utils.checkpoint: same gradients as without checkpointing (and as torch), lower peak memory."""
import tracemalloc

import numpy as np
import pytest
import torch
import torch.utils.checkpoint as tcp

import dagrad
import dagrad.utils.checkpoint as dcp
from helpers import assert_close

RNG = np.random.RandomState(0)
WS = [RNG.randn(8, 8) * 0.4 for _ in range(6)]
X = RNG.randn(5, 8)


def block(lib, ws):
    def f(x, scale=1.0):
        for w in ws:
            x = (x @ w).tanh() * scale + x.sigmoid()
        return x
    return f


def _grads(lib, mode, reentrant=None):
    ws = [lib.tensor(w, requires_grad=True) for w in WS]
    x = lib.tensor(X, requires_grad=True)
    cp = tcp if lib is torch else dcp
    f1, f2 = block(lib, ws[:3]), block(lib, ws[3:])
    if mode == "plain":
        y = f2(f1(x))
    elif mode == "checkpoint":
        y = cp.checkpoint(f2, cp.checkpoint(f1, x, use_reentrant=reentrant),
                          use_reentrant=reentrant)
    else:
        fns = [lambda t, w=w: (t @ w).tanh() * 1.0 + t.sigmoid() for w in ws]
        y = cp.checkpoint_sequential(fns, 3, x, use_reentrant=reentrant)
    loss = (y ** 2).sum()
    loss.backward()
    return [loss.detach()] + [x.grad] + [w.grad for w in ws]


@pytest.mark.parametrize("reentrant", [False, True])
@pytest.mark.parametrize("mode", ["checkpoint", "sequential"])
def test_gradients_identical(mode, reentrant):
    plain = _grads(dagrad, "plain")
    ck = _grads(dagrad, mode, reentrant)
    for a, b in zip(plain, ck):
        np.testing.assert_array_equal(a.numpy(), b.numpy())  # bit-identical recomputation
    assert_close(ck, _grads(torch, mode, reentrant))


def test_non_reentrant_autograd_grad_and_kwargs():
    ws = [dagrad.tensor(w, requires_grad=True) for w in WS[:2]]
    x = dagrad.tensor(X, requires_grad=True)
    y = dcp.checkpoint(block(dagrad, ws), x, use_reentrant=False, scale=0.5)
    g = dagrad.autograd.grad(y.sum(), [x] + ws)
    y2 = block(dagrad, ws)(x, scale=0.5)
    g2 = dagrad.autograd.grad(y2.sum(), [x] + ws)
    for a, b in zip(g, g2):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_rng_state_preserved_in_recomputation():
    x = dagrad.tensor(X, requires_grad=True)

    def f(t):
        return dagrad.nn.functional.dropout(t.exp(), 0.5, training=True) if hasattr(
            dagrad, "nn") and hasattr(dagrad.nn, "functional") else t.exp() * (
            dagrad.rand(*t.shape, dtype=t.dtype) > 0.5)
    dagrad.manual_seed(3)
    y = dcp.checkpoint(f, x, use_reentrant=False)
    y.sum().backward()
    dagrad.manual_seed(3)
    x2 = dagrad.tensor(X, requires_grad=True)
    f(x2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), x2.grad.numpy())


def test_use_reentrant_warning_like_torch():
    x = dagrad.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed"):
        dcp.checkpoint(lambda t: t.sin(), x)


def _peak(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


@pytest.mark.parametrize("reentrant", [False, True])
def test_peak_memory_lower(reentrant):
    n_layers, batch, n = 16, 1024, 32
    rng = np.random.RandomState(1)
    ws = [dagrad.tensor(rng.randn(n, n) * 0.1, requires_grad=True) for _ in range(n_layers)]
    x0 = dagrad.tensor(rng.randn(batch, n), requires_grad=True)
    layers = [lambda t, w=w: (t @ w).tanh() for w in ws]

    def plain():
        t = x0
        for f in layers:
            t = f(t)
        t.sum().backward()

    def ck():
        dcp.checkpoint_sequential(layers, 4, x0, use_reentrant=reentrant).sum().backward()

    plain()  # warm up
    for w in ws:
        w.grad = None
    p_plain = _peak(plain)
    g_plain = [w.grad.numpy().copy() for w in ws]
    for w in ws:
        w.grad = None
    x0.grad = None
    p_ck = _peak(ck)
    for w, g in zip(ws, g_plain):
        np.testing.assert_allclose(w.grad.numpy(), g, rtol=1e-12)
    act = batch * n * 8
    # plain keeps ~2 activations per layer alive; checkpointing ~ one segment's worth
    assert p_ck < 0.6 * p_plain, (p_ck / act, p_plain / act)
    print(f"peak: plain {p_plain / act:.1f} activations, checkpointed {p_ck / act:.1f}")


def test_nested_non_reentrant_checkpoints():
    def grads(nested):
        ws = [dagrad.tensor(w, requires_grad=True) for w in WS[:4]]
        x = dagrad.tensor(X, requires_grad=True)
        inner = block(dagrad, ws[2:])

        def outer(t):
            t = block(dagrad, ws[:2])(t)
            return dcp.checkpoint(inner, t, use_reentrant=False) if nested else inner(t)
        y = dcp.checkpoint(outer, x, use_reentrant=False) if nested else outer(x)
        (y ** 2).sum().backward()
        return [x.grad] + [w.grad for w in ws]
    for a, b in zip(grads(False), grads(True)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_double_backward_through_non_reentrant_checkpoint():
    x = dagrad.tensor(X[0], requires_grad=True)
    f = lambda t: (t.sin() * t).exp().sum()  # noqa: E731
    (g,) = dagrad.autograd.grad(dcp.checkpoint(f, x, use_reentrant=False), x, create_graph=True)
    (gg,) = dagrad.autograd.grad(g.sum(), x)
    x2 = dagrad.tensor(X[0], requires_grad=True)
    (g2,) = dagrad.autograd.grad(f(x2), x2, create_graph=True)
    (gg2,) = dagrad.autograd.grad(g2.sum(), x2)
    np.testing.assert_allclose(gg.numpy(), gg2.numpy(), rtol=1e-12)
