"""autograd.functional (jacobian, hessian, vjp, jvp, hvp, vhp) against torch.autograd.functional."""
import numpy as np
import pytest
import torch

import dagrad
from helpers import assert_close


def _t(lib, a):
    return lib.tensor(np.asarray(a, dtype=np.float64))


def vecfun(lib):
    def f(x):
        return lib.stack([x[0] * x[1], x[1].exp() * x[2], x.sin().sum(), (x * x).sum().sqrt()])
    return f


def two_in_two_out(lib):
    def f(x, y):
        return (x * y.tanh()).sum(0), x.sigmoid() @ y
    return f


def mlp_loss(lib, x, target):
    """A 2-layer MLP written from library ops; loss as a function of its parameters."""
    def loss(w1, b1, w2, b2):
        h = (x @ w1 + b1).tanh()
        out = h @ w2 + b2
        return ((out - target) ** 2).mean()
    return loss


RNG = np.random.RandomState(0)
X3 = RNG.randn(3)
A = RNG.randn(3, 2)
B = RNG.randn(2)


def run_both(fn_name, make_f, inputs_np, **kw):
    res = []
    for lib in (torch, dagrad):
        f = make_f(lib)
        if isinstance(inputs_np, tuple):
            inputs = tuple(_t(lib, a) for a in inputs_np)
        else:
            inputs = _t(lib, inputs_np)
        res.append(getattr(lib.autograd.functional, fn_name)(f, inputs, **kw))
    return res


@pytest.mark.parametrize("vectorize", [False, True])
def test_jacobian_vector_function(vectorize):
    t, d = run_both("jacobian", vecfun, X3, vectorize=vectorize)
    assert_close(d, t)


def test_jacobian_tuple_inputs_outputs_structure():
    t, d = run_both("jacobian", two_in_two_out, (A, B))
    assert isinstance(d, tuple) and len(d) == 2 and all(len(x) == 2 for x in d)
    assert_close(d, t)
    t, d = run_both("jacobian", two_in_two_out, (A, B), vectorize=True)
    assert_close(d, t)


def test_jacobian_create_graph_and_strict():
    for lib in (torch, dagrad):
        x = _t(lib, X3).requires_grad_()
        J = lib.autograd.functional.jacobian(vecfun(lib), x, create_graph=True)
        assert J.requires_grad
        if lib is torch:
            tg = lib.autograd.grad(J.sum(), x)[0]
        else:
            dg = lib.autograd.grad(J.sum(), x)[0]
    assert_close(dg, tg)
    msgs = []
    for lib in (torch, dagrad):
        with pytest.raises(RuntimeError) as e:
            lib.autograd.functional.jacobian(lambda x, y: x * 2, (_t(lib, X3), _t(lib, X3)),
                                             strict=True)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]
    t, d = run_both("jacobian", lambda lib: (lambda x, y: x * 2), (X3, X3))
    assert_close(d, t)  # the unused input's block is zeros


def test_jacobian_non_tensor_output_errors():
    msgs = []
    for lib in (torch, dagrad):
        with pytest.raises(TypeError) as e:
            lib.autograd.functional.jacobian(lambda x: 3, _t(lib, X3))
        msgs.append(str(e.value))
        with pytest.raises(TypeError) as e:
            lib.autograd.functional.jacobian(lambda x: (x, 3.0), _t(lib, X3))
        msgs.append(str(e.value))
        with pytest.raises(TypeError) as e:
            lib.autograd.functional.jacobian(lambda x: x, [1.0, 2.0])
        msgs.append(str(e.value))
    assert msgs[:3] == msgs[3:]
    assert "must be either a Tensor or a tuple of Tensors" in msgs[3]


def test_hessian_scalar_function_and_errors():
    def mk(lib):
        return lambda x: (x ** 3).sum() * x[0] + x.exp().prod()
    t, d = run_both("hessian", mk, X3)
    assert_close(d, t)
    t, d = run_both("hessian", lambda lib: (lambda x, y: (x.sin() * y[:3]).sum() ** 2),
                    (X3, RNG.randn(4)))
    assert_close(d, t)
    for lib in (torch, dagrad):
        with pytest.raises(RuntimeError, match="should contain a single element"):
            lib.autograd.functional.hessian(lambda x: x * 2, _t(lib, X3))


def test_hessian_of_mlp_loss_wrt_parameters():
    rng = np.random.RandomState(1)
    xs, ys = rng.randn(5, 3), rng.randn(5, 2)
    params = (rng.randn(3, 4) * 0.5, rng.randn(4) * 0.1, rng.randn(4, 2) * 0.5, rng.randn(2) * 0.1)
    res = []
    for lib in (torch, dagrad):
        loss = mlp_loss(lib, _t(lib, xs), _t(lib, ys))
        ps = tuple(_t(lib, p) for p in params)
        res.append((lib.autograd.functional.jacobian(loss, ps),
                    lib.autograd.functional.hessian(loss, ps)))
    assert_close(res[1][0], res[0][0])
    assert_close(res[1][1], res[0][1], atol=1e-8)
    # a block's shape is param_i.shape + param_j.shape
    assert tuple(res[1][1][0][2].shape) == (3, 4, 4, 2)


@pytest.mark.parametrize("name", ["vjp", "jvp", "vhp", "hvp"])
def test_vector_products(name):
    rng = np.random.RandomState(2)
    if name in ("vjp",):
        v = rng.randn(4)
        mk = vecfun
    elif name == "jvp":
        v = rng.randn(3)
        mk = vecfun
    else:
        v = rng.randn(3)
        mk = lambda lib: (lambda x: (x ** 3).sum() * x[0] + x.exp().prod())  # noqa: E731
    res = []
    for lib in (torch, dagrad):
        res.append(getattr(lib.autograd.functional, name)(mk(lib), _t(lib, X3), _t(lib, v)))
    assert_close(res[1], res[0])


def test_jvp_matches_finite_differences():
    rng = np.random.RandomState(3)
    v = rng.randn(3)
    f = vecfun(dagrad)
    _, jv = dagrad.autograd.functional.jvp(f, _t(dagrad, X3), _t(dagrad, v))
    eps = 1e-6
    fd = (f(_t(dagrad, X3 + eps * v)).numpy() - f(_t(dagrad, X3 - eps * v)).numpy()) / (2 * eps)
    np.testing.assert_allclose(jv.numpy(), fd, rtol=1e-6, atol=1e-8)


def test_vjp_tuple_and_errors():
    rng = np.random.RandomState(4)
    v = (rng.randn(2), rng.randn(3))
    res = []
    for lib in (torch, dagrad):
        f = two_in_two_out(lib)
        res.append(lib.autograd.functional.vjp(f, (_t(lib, A), _t(lib, B)),
                                               tuple(_t(lib, a) for a in v)))
    assert_close(res[1], res[0])
    msgs = []
    for lib in (torch, dagrad):
        with pytest.raises(RuntimeError) as e:
            lib.autograd.functional.vjp(vecfun(lib), _t(lib, X3))
        msgs.append(str(e.value))
        with pytest.raises(RuntimeError) as e:
            lib.autograd.functional.vjp(vecfun(lib), _t(lib, X3), _t(lib, np.ones(3)))
        msgs.append(str(e.value))
    assert msgs[:2] == msgs[2:]
