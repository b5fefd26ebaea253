"""autograd.forward_ad vs torch.autograd.forward_ad, finite differences and reverse mode."""
import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfw

import dagrad
import dagrad.autograd.forward_ad as dfw
from helpers import assert_close

RNG = np.random.RandomState(0)
A = RNG.rand(3, 4) + 0.5       # positive: log/sqrt/pow are defined
V = RNG.randn(3, 4)
B = RNG.randn(4, 2)
VB = RNG.randn(4, 2)

FNS = {
    "unary": lambda lib, x: x.exp() + x.log() + x.sqrt() + x.sin() * x.cos() + x.tanh(),
    "unary2": lambda lib, x: x.sigmoid() + x.rsqrt() + x.reciprocal() + x.abs() + x.relu()
    + x.square() + x.log1p() + x.expm1() + x.atan() + x.sinh() + x.erf(),
    "arith": lambda lib, x: (x * 3 - 1) / (x + 2) + 2 ** x + x ** 2.5 + 1 / x - (5 - x),
    "pow_tensor": lambda lib, x: x ** x,
    "reduce": lambda lib, x: lib.stack([x.sum(), x.mean(), x.prod(), x.std(), x.var(),
                                        x.logsumexp((0, 1)), x.norm(), x.max(), x.amin()]),
    "reduce_dim": lambda lib, x: x.sum(1) + x.mean(1) + x.max(1).values + x.std(1)
    + x.logsumexp(1) + x.prod(1) + x.amax(1),
    "softmax": lambda lib, x: lib.softmax(x, 1) + lib.log_softmax(x, 0) + x.cumsum(1),
    "shape": lambda lib, x: x.t().reshape(2, 6).transpose(0, 1).flatten().unsqueeze(0)
    .expand(2, 12).permute(1, 0).contiguous()[3:7].squeeze(),
    "index": lambda lib, x: x[1] * x[:, 2].sum() + x[lib.tensor([0, 2])].sum(0)[:3].sum(),
    "cat": lambda lib, x: lib.cat([x, x * 2], 1).sum(0)[:4] + lib.stack([x, -x]).sum((0, 1)),
    "where_clamp": lambda lib, x: lib.where(x > 1, x, x * x).clamp(0.6, 1.2) + lib.maximum(
        x, x.t().t() * 0.9),
    "gather": lambda lib, x: x.gather(1, lib.tensor([[0, 1], [2, 3], [1, 1]])),
}


def _run(lib, F, name, a, v):
    with F.dual_level():
        x = F.make_dual(lib.tensor(a), lib.tensor(v))
        y = FNS[name](lib, x)
        p, t = F.unpack_dual(y)
    return p, t


@pytest.mark.parametrize("name", sorted(FNS))
def test_tangents_match_torch_and_finite_differences(name):
    tp, tt = _run(torch, tfw, name, A, V)
    dp, dt = _run(dagrad, dfw, name, A, V)
    assert_close(dp, tp)
    assert_close(dt, tt, atol=1e-8)
    f = lambda a: FNS[name](dagrad, dagrad.tensor(a)).numpy()  # noqa: E731
    eps = 1e-6
    fd = (f(A + eps * V) - f(A - eps * V)) / (2 * eps)
    np.testing.assert_allclose(dt.numpy(), fd, rtol=1e-5, atol=1e-6)


def test_matmul_two_duals_and_linear():
    res = []
    for lib, F in ((torch, tfw), (dagrad, dfw)):
        with F.dual_level():
            x = F.make_dual(lib.tensor(A), lib.tensor(V))
            w = F.make_dual(lib.tensor(B), lib.tensor(VB))
            y = (x @ w).tanh() + x.matmul(lib.tensor(B))
            res.append(F.unpack_dual(y))
    assert_close(res[1].primal, res[0].primal)
    assert_close(res[1].tangent, res[0].tangent)


def test_unpack_dual_api_and_errors():
    with pytest.raises(RuntimeError, match="no level exists"):
        dfw.make_dual(dagrad.ones(2), dagrad.ones(2))
    with dfw.dual_level():
        x = dfw.make_dual(dagrad.ones(2, dtype=dagrad.float64),
                          dagrad.tensor([1.0, 2.0], dtype=dagrad.float64))
        u = dfw.unpack_dual(x)
        assert u._fields == ("primal", "tangent")
        assert dfw.unpack_dual(u.primal).tangent is None
        assert dfw.unpack_dual(dagrad.ones(2)).tangent is None
        with pytest.raises(RuntimeError, match="different size"):
            dfw.make_dual(dagrad.ones(2), dagrad.ones(3))
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            with dfw.dual_level():
                pass
        y = x * 2
    assert dfw.unpack_dual(y).tangent is None  # tangents end with their level
    raw = dagrad.Tensor.__mul__
    with dfw.dual_level():
        pass
    assert dagrad.Tensor.__mul__ is raw  # nothing stays wrapped


def test_forward_and_reverse_jacobians_agree():
    def f(x):
        return dagrad.stack([x[0] * x[1], x[1].exp() * x[2], x.sin().sum(), (x * x).sum().sqrt()])
    x = dagrad.tensor(RNG.randn(3))
    jr = dagrad.autograd.functional.jacobian(f, x)
    jf = dagrad.autograd.functional.jacobian(f, x, strategy="forward-mode", vectorize=True)
    jf2 = dagrad.autograd.functional.jacobian(f, x, strategy="forward-mode")
    np.testing.assert_allclose(jf.numpy(), jr.numpy(), rtol=1e-12)
    np.testing.assert_allclose(jf2.numpy(), jr.numpy(), rtol=1e-12)
    tj = torch.autograd.functional.jacobian(
        lambda x: torch.stack([x[0] * x[1], x[1].exp() * x[2], x.sin().sum(),
                               (x * x).sum().sqrt()]),
        torch.tensor(x.numpy()), strategy="forward-mode", vectorize=True)
    np.testing.assert_allclose(jf.numpy(), tj.numpy(), rtol=1e-12)


def test_custom_function_jvp():
    class Cube(dagrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_forward(x)
            ctx.x = x
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            return 3 * g * ctx.x ** 2

        @staticmethod
        def jvp(ctx, t):
            return 3 * ctx.x ** 2 * t

    with dfw.dual_level():
        x = dfw.make_dual(dagrad.tensor([1.0, 2.0]), dagrad.tensor([1.0, 1.0]))
        y = Cube.apply(x) * 2
        assert dfw.unpack_dual(y).tangent.tolist() == [6.0, 24.0]


def test_op_without_forward_rule_raises_like_torch():
    for lib, F in ((torch, tfw), (dagrad, dfw)):
        with F.dual_level():
            x = F.make_dual(lib.tensor([1.0, 2.0]), lib.tensor([1.0, 1.0]))
            with pytest.raises(NotImplementedError,
                               match="Trying to use forward AD with aten::heaviside that does "
                                     "not support it"):
                lib.heaviside(x, lib.tensor([0.5, 0.5]))
            with pytest.raises(NotImplementedError, match="aten::floor_divide"):
                x // 2


def test_no_cost_when_unused():
    """Outside a dual level the ops are the plain functions (no wrapper at all)."""
    import dagrad.ops.elementwise as E
    assert dagrad.Tensor.sin is E.sin or dagrad.Tensor.sin.__name__ == "sin"
    assert not hasattr(dagrad.Tensor.sin, "__wrapped__")


def test_conv2d_tangent():
    r = np.random.RandomState(3)
    x, w, b = r.randn(2, 3, 6, 6), r.randn(4, 3, 3, 3), r.randn(4)
    tx, tw, tb = r.randn(*x.shape), r.randn(*w.shape), r.randn(4)
    res = []
    for lib, F in ((torch, tfw), (dagrad, dfw)):
        with F.dual_level():
            X = F.make_dual(lib.tensor(x), lib.tensor(tx))
            W = F.make_dual(lib.tensor(w), lib.tensor(tw))
            B = F.make_dual(lib.tensor(b), lib.tensor(tb))
            res.append(F.unpack_dual(lib.nn.functional.conv2d(X, W, B, padding=1, stride=2)))
    assert_close(res[1].tangent, res[0].tangent, atol=1e-9)


def test_inplace_on_dual_updates_tangent_plain_tensors_unaffected():
    with dfw.dual_level():
        x = dfw.make_dual(dagrad.ones(2), dagrad.ones(2))
        y = x * 2
        y.add_(1)
        y += x
        y[0] = 3.0
        assert dfw.unpack_dual(y).tangent.tolist() == [0.0, 3.0]
        z = dagrad.zeros(2)
        z.add_(1)
        z[0] = 5.0  # plain tensors are unaffected
        assert z.tolist() == [5.0, 1.0] and dfw.unpack_dual(z).tangent is None
