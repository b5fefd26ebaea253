"""Every NumPy twin (ops/derivatives_np.py) must equal its Tensor rule (ops/derivatives.py).

The twins serve the engine's first-order path; the Tensor rules serve create_graph=True. Both
paths are run on the same graphs and must give the same gradients, dtypes included.
"""
import numpy as np
import pytest

import dagrad
from dagrad.ops import derivatives_np as T

rng = np.random.default_rng(0)


def _grads(fn, inputs, create_graph):
    xs = [dagrad.tensor(a, requires_grad=True) for a in inputs]
    out = fn(*xs)
    w = dagrad.tensor(np.random.default_rng(123).standard_normal(out.shape)
                      .astype(out.dtype.np))
    (out * w).sum().backward(create_graph=create_graph)
    return [x.grad for x in xs], w


CASES = {
    "add": (lambda x, y: x + y, [(3, 4), (4,)]),
    "add_alpha": (lambda x, y: dagrad.add(x, y, alpha=2.5), [(3, 4), (3, 4)]),
    "add_scalar": (lambda x: x + 2.0, [(3,)]),
    "sub": (lambda x, y: x - y, [(2, 3), (2, 1)]),
    "sub_scalar": (lambda x: x - 1, [(3,)]),
    "rsub": (lambda x: 1 - x, [(3,)]),
    "mul": (lambda x, y: x * y, [(2, 3), (3,)]),
    "mul_scalar": (lambda x: 3 * x, [(4,)]),
    "div": (lambda x, y: x / (y.abs() + 1), [(2, 3), (2, 3)]),
    "div_scalar": (lambda x: x / 4, [(4,)]),
    "neg": (lambda x: -x, [(4,)]),
    "pow2": (lambda x: x ** 2, [(4,)]),
    "pow3": (lambda x: x ** 3, [(4,)]),
    "pow_frac": (lambda x: (x.abs() + 1) ** 1.7, [(4,)]),
    "exp": (lambda x: x.exp(), [(4,)]),
    "log": (lambda x: (x.abs() + 1).log(), [(4,)]),
    "sqrt": (lambda x: (x.abs() + 1).sqrt(), [(4,)]),
    "tanh": (lambda x: x.tanh(), [(4,)]),
    "sigmoid": (lambda x: x.sigmoid(), [(4,)]),
    "relu": (lambda x: x.relu(), [(5,)]),
    "sum": (lambda x: x.sum() * x, [(3,)]),
    "sum_big": (lambda x: x.sum() * x, [(5000,)]),
    "sum_dim": (lambda x: x.sum(1), [(3, 4)]),
    "sum_keep": (lambda x: x.sum((0, 2), keepdim=True), [(2, 3, 4)]),
    "mean": (lambda x: x.mean() * x, [(3, 2)]),
    "mean_dim": (lambda x: x.mean(0), [(3, 2)]),
    "view": (lambda x: x.view(6, 2), [(3, 4)]),
    "permute": (lambda x: x.permute(2, 0, 1), [(2, 3, 4)]),
    "transpose": (lambda x: x.transpose(0, 2), [(2, 3, 4)]),
    "t": (lambda x: x.t(), [(2, 3)]),
    "expand": (lambda x: x.expand(3, 2, 4), [(2, 1)]),
    "clone": (lambda x: x.clone(), [(3,)]),
    "to_double": (lambda x: x.double(), [(3,)]),
    "mm": (lambda x, y: x @ y, [(2, 3), (3, 4)]),
    "addmm": (lambda b, x, w: dagrad.addmm(b, x, w), [(4,), (2, 3), (3, 4)]),
    "softmax": (lambda x: x.softmax(1), [(2, 5)]),
    "log_softmax": (lambda x: x.log_softmax(0), [(4, 3)]),
    "index_basic": (lambda x: x[1:, ::2], [(3, 4)]),
    "index_adv_repeat": (lambda x: x[[0, 0, 2]], [(3, 4)]),
    "cross_entropy": (lambda x: dagrad.nn.functional.cross_entropy(
        x, dagrad.tensor([2, 0, 4, 4])), [(4, 5)]),
    "batch_norm_train": (lambda x, w, b: dagrad.nn.functional.batch_norm(
        x * 3 + 1, None, None, w, b, training=True), [(4, 3, 5, 2), (3,), (3,)]),
    "batch_norm_train_1d": (lambda x, w, b: dagrad.nn.functional.batch_norm(
        x, dagrad.zeros(3), dagrad.ones(3), w, b, training=True), [(6, 3), (3,), (3,)]),
    "batch_norm_eval": (lambda x, w, b: dagrad.nn.functional.batch_norm(
        x, dagrad.zeros(3) + 0.5, dagrad.ones(3) * 2, w, b, training=False),
        [(4, 3, 5), (3,), (3,)]),
    "batch_norm_no_affine": (lambda x: dagrad.nn.functional.batch_norm(
        x, None, None, training=True), [(4, 3, 5)]),
    "layer_norm": (lambda x, w, b: dagrad.nn.functional.layer_norm(x, (4, 5), w, b),
                   [(3, 4, 5), (4, 5), (4, 5)]),
    "layer_norm_no_affine": (lambda x: dagrad.nn.functional.layer_norm(x, (5,)),
                             [(3, 4, 5)]),
    "cross_entropy_sum": (lambda x: dagrad.nn.functional.cross_entropy(
        x, dagrad.tensor([1, 0, 2]), reduction="sum"), [(3, 3)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_twin_matches_tensor_rule(name):
    fn, shapes = CASES[name]
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    first, _ = _grads(fn, inputs, create_graph=False)   # twins (array path)
    second, _ = _grads(fn, inputs, create_graph=True)   # Tensor rules
    for a, b in zip(first, second):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_every_twin_is_exercised():
    names = {cls.__name__ for cls, _ in T.TWINS.values()}
    assert "MulBackward0" in names and len(T.TWINS) >= 30


def test_twin_not_inherited_by_overriding_subclass():
    from dagrad.ops import derivatives as R

    class Custom(R.MulBackward0):
        def backward(self, g):
            return g * 0, None

    assert Custom._np is None and R.MulBackward0._np is not None


def test_sum_to_size_refuses_sizes_it_cannot_reach():
    import torch
    for shape, size in [((7,), (3,)), ((2, 7), (3, 7)), ((2,), (1, 2, 3))]:
        with pytest.raises(RuntimeError) as d:
            dagrad.ones(*shape).sum_to_size(*size)
        with pytest.raises(RuntimeError) as t:
            torch.ones(*shape).sum_to_size(*size)
        assert str(d.value) == str(t.value)
