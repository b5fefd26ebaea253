"""Tensor.index_put / index_put_ and torch.zeros(size=...) against PyTorch."""
import numpy as np
import pytest
import torch

import dagrad


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("idx,vshape", [
    (([0, 0, 2], [1, 1, 3]), (3,)), (([0, 2],), (4,)), (([1],), ()), (([2, 0],), (2, 4))])
def test_index_put_values_and_grads(accumulate, idx, vshape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    v = rng.standard_normal(vshape).astype(np.float32)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    out = {}
    for m in (torch, dagrad):
        xt = m.tensor(x, requires_grad=True)
        vt = m.tensor(v, requires_grad=True)
        ind = tuple(m.tensor(i) for i in idx)
        y = (xt * 1).index_put(ind, vt, accumulate=accumulate)
        (y * m.tensor(w)).sum().backward()
        out[m.__name__] = (y.detach().numpy(), xt.grad.numpy(), vt.grad.numpy())
    for a, b in zip(out["dagrad"], out["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_index_put_inplace_and_error():
    for m in (torch, dagrad):
        z = m.zeros(3)
        z.index_put_((m.tensor([1]),), m.tensor(2.0))
        assert z.tolist() == [0.0, 2.0, 0.0]
    with pytest.raises(RuntimeError) as d:
        dagrad.zeros(3).index_put((dagrad.tensor([0]),), dagrad.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError) as t:
        torch.zeros(3).index_put((torch.tensor([0]),), torch.tensor([1.0, 2.0]))
    assert str(d.value) == str(t.value)


@pytest.mark.parametrize("fn", ["zeros", "ones", "empty", "rand", "randn"])
def test_size_keyword(fn):
    assert tuple(getattr(dagrad, fn)(size=(2, 3)).shape) == tuple(
        getattr(torch, fn)(size=(2, 3)).shape)
