"""cross_entropy / nll_loss record PyTorch's graph (LogSoftmaxBackward0 -> NllLossBackward0, or
NllLoss2DBackward0 with PyTorch's views for other ranks) and give its values and gradients."""
import numpy as np
import pytest
import torch

import dagrad
from dagrad.autograd import gradcheck

CASES = [((5,), ()), ((4, 5), (4,)), ((4, 5, 3), (4, 3)), ((2, 5, 3, 3), (2, 3, 3)),
         ((2, 5, 2, 2, 2), (2, 2, 2, 2))]
KWARGS = [{}, {"reduction": "none"}, {"reduction": "sum"}, {"weight": True},
          {"ignore_index": 1}, {"label_smoothing": 0.1}]


def _names(fn):
    out, st = [], [fn]
    while st:
        n = st.pop()
        if n is None:
            continue
        out.append(n.name())
        st.extend(m for m, _ in n.next_functions)
    return out


def _run(m, fname, x, t, w, kw):
    kw = dict(kw)
    if kw.pop("weight", None):
        kw["weight"] = m.tensor(w)
    xx = m.tensor(x, requires_grad=True)
    tt = m.tensor(t)
    f = getattr(m.nn.functional, fname)
    inp = xx if fname == "cross_entropy" else m.log_softmax(xx, 0 if x.ndim == 1 else 1)
    out = f(inp, tt, **kw)
    names = _names(out.grad_fn)
    out.sum().backward()
    return out.detach().numpy(), xx.grad.numpy(), names


@pytest.mark.parametrize("kw", KWARGS, ids=lambda k: ",".join(k) or "default")
@pytest.mark.parametrize("shape,tshape", CASES, ids=lambda s: str(s))
@pytest.mark.parametrize("fname", ["cross_entropy", "nll_loss"])
def test_graph_values_grads_like_torch(fname, shape, tshape, kw):
    if fname == "nll_loss" and "label_smoothing" in kw:
        pytest.skip("nll_loss has no label_smoothing")
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape).astype(np.float32)
    t = rng.integers(0, 5, tshape).astype(np.int64)
    w = rng.random(5).astype(np.float32) + 0.5
    to, tg, tn = _run(torch, fname, x, t, w, kw)
    do, dg, dn = _run(dagrad, fname, x, t, w, kw)
    assert dn == tn
    np.testing.assert_allclose(do, to, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dg, tg, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape,tshape", CASES[:4], ids=lambda s: str(s))
def test_gradcheck_and_double_backward(shape, tshape):
    rng = np.random.default_rng(1)
    x = dagrad.tensor(rng.standard_normal(shape), requires_grad=True)
    t = dagrad.tensor(rng.integers(0, 5, tshape).astype(np.int64))
    w = dagrad.tensor(rng.random(5) + 0.5)
    F = dagrad.nn.functional
    assert gradcheck(lambda a: F.cross_entropy(a, t, weight=w), (x,))
    assert gradcheck(lambda a: F.cross_entropy(a, t, reduction="none"), (x,))
    assert dagrad.autograd.gradgradcheck(lambda a: F.cross_entropy(a, t), (x,))


def test_next_functions_walk_like_torch():
    def f(m):
        x = m.ones(3, 4, requires_grad=True)
        loss = m.nn.functional.cross_entropy(x * 2, m.tensor([0, 1, 3]))
        fn = loss.grad_fn
        return [fn.name(), fn.next_functions[0][0].name(),
                fn.next_functions[0][0].next_functions[0][0].name()]
    assert f(dagrad) == f(torch) == ["NllLossBackward0", "LogSoftmaxBackward0", "MulBackward0"]
