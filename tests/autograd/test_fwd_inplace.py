"""forward_ad through in-place ops (incl. views), vs torch.autograd.forward_ad and float64
finite differences."""
import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfw

import dagrad
import dagrad.autograd.forward_ad as dfw

R = np.random.RandomState(0)
X = R.rand(3, 4) * 0.8 + 0.1
Y = R.rand(3, 4) * 0.8 + 0.1
TX = R.randn(3, 4)
TY = R.randn(3, 4)


def _outs(o):
    return list(o) if isinstance(o, (tuple, list)) else [o]


def _run(lib, F, fn):
    with F.dual_level():
        x = F.make_dual(lib.tensor(X), lib.tensor(TX))
        y = F.make_dual(lib.tensor(Y), lib.tensor(TY))
        res = []
        for o in _outs(fn(lib, x, y)):
            p, t = F.unpack_dual(o)
            res.append((p.detach().numpy().copy(),
                        None if t is None else t.detach().numpy().copy()))
    return res


def _fd(fn, eps=1e-6):
    def ev(s):
        return [o.detach().numpy().copy() for o in _outs(
            fn(dagrad, dagrad.tensor(X + s * TX), dagrad.tensor(Y + s * TY)))]
    return [(a - b) / (2 * eps) for a, b in zip(ev(eps), ev(-eps))]


def _f64(lib):
    return lib.float64


CASES = {
    "add_alpha": lambda L, x, y: (x * 1).add_(y, alpha=2),
    "mul_broadcast": lambda L, x, y: (x * 1).mul_(y[0]),
    "sub_div_pow": lambda L, x, y: (x * 1).sub_(y).div_(y + 1).pow_(2),
    "iadd_imul": lambda L, x, y: (lambda z: z.__imul__(y).__iadd__(x))(x.clone()),
    "self_alias": lambda L, x, y: (lambda z: z.mul_(z))(x * 1),
    "unary_chain": lambda L, x, y: (x * 1).exp_().sin_().sqrt_().tanh_().sigmoid_(),
    "relu_": lambda L, x, y: (x - 0.5).relu_(),
    "clamp_": lambda L, x, y: (x * 1).clamp_(0.3, 0.7),
    "clamp_tensor": lambda L, x, y: (x * 1).clamp_(min=y * 0.5, max=y),
    "erfinv_": lambda L, x, y: (x * 0.9).erfinv_(),
    "copy_": lambda L, x, y: L.zeros(3, 4, dtype=_f64(L)).copy_(y),
    "copy_broadcast": lambda L, x, y: (x * 1).copy_(y[1]),
    "copy_plain_src": lambda L, x, y: (x * 1).copy_(L.ones(3, 4, dtype=_f64(L))),
    "zero_": lambda L, x, y: (x * 1).zero_() + y,
    "fill_": lambda L, x, y: (x * 1).fill_(2.0),
    "fill_dual": lambda L, x, y: (x * 1).fill_(y[0, 0]),
    "setitem": lambda L, x, y: _setitem(x * 1, (slice(0, 2), 1), y[0, :2]),
    "setitem_plain_target": lambda L, x, y: _setitem(L.zeros(3, 4, dtype=_f64(L)),
                                                     (slice(None), 2), y[:, 0]),
    "setitem_scalar": lambda L, x, y: _setitem(x * 1, (0, 0), 5.0),
    "setitem_mask": lambda L, x, y: _setitem(x * 1, x > 0.5, y[x > 0.5]),
    "setitem_adv": lambda L, x, y: _setitem(x * 1, L.tensor([2, 0]), y[:2]),
    "masked_fill_": lambda L, x, y: (x * 1).masked_fill_(x > 0.5, 1.5),
    "masked_fill_dual": lambda L, x, y: (x * 1).masked_fill_(x > 0.5, y[0, 0]),
    "addcmul_": lambda L, x, y: (x * 1).addcmul_(y, x, value=0.5),
    "addcdiv_": lambda L, x, y: (x * 1).addcdiv_(y, x + 1, value=0.5),
    "lerp_": lambda L, x, y: (x * 1).lerp_(y, 0.3),
    "index_add_": lambda L, x, y: (x * 1).index_add_(0, L.tensor([0, 2]), y[:2], alpha=2),
    "index_copy_": lambda L, x, y: (x * 1).index_copy_(1, L.tensor([3, 0]), y[:, :2]),
    "index_fill_": lambda L, x, y: (x * 1).index_fill_(1, L.tensor([1]), 2.0),
    "index_put_": lambda L, x, y: (x * 1).index_put_((L.tensor([0, 2]),), y[0],
                                                    accumulate=True),
    "scatter_": lambda L, x, y: (x * 1).scatter_(1, L.tensor([[0], [1], [2]]), y[:, :1]),
    "scatter_value": lambda L, x, y: (x * 1).scatter_(1, L.tensor([[0], [1], [2]]), 2.0),
    "scatter_add_": lambda L, x, y: (x * 1).scatter_add_(0, L.tensor([[0, 1, 2, 0]]), y[:1]),
    "masked_scatter_": lambda L, x, y: (x * 1).masked_scatter_(x > 0.5, y),
    "fill_diagonal_": lambda L, x, y: (x * 1).fill_diagonal_(2.0),
    "t_": lambda L, x, y: (x * 1).t_().mul_(y.t()),
    "transpose_squeeze_": lambda L, x, y: (x * 1).unsqueeze_(0).transpose_(1, 2).squeeze_(0),
    "F_relu_inplace": lambda L, x, y: L.nn.functional.relu(x - 0.5, inplace=True),
    "F_elu_": lambda L, x, y: L.nn.functional.elu_(x - 0.5),
    "F_hardtanh_inplace": lambda L, x, y: L.nn.functional.hardtanh(x * 3 - 1, inplace=True),
    "F_leaky_relu_": lambda L, x, y: L.nn.functional.leaky_relu_(x - 0.5, 0.25),
    "remainder_": lambda L, x, y: (x * 1).remainder_(0.3),
    "floor_": lambda L, x, y: (x * 5).floor_() + x,
    # views: the base's tangent, the view's and a sibling view's all follow
    "view_mul_add": lambda L, x, y: _view_ops(x * 1, y),
    "view_of_plain_base": lambda L, x, y: _plain_base(L, y),
    "view_made_before_base_changed": lambda L, x, y: _base_changed(L, y),
    "view_chain": lambda L, x, y: _view_chain(x * 1, y),
    "view_transposed": lambda L, x, y: _view_t(x * 1, y),
}


def _setitem(z, k, v):
    z[k] = v
    return z


def _view_ops(b, y):
    v, w = b[0], b[:, 1]
    v.mul_(y[0])
    v.add_(y[1])
    return b, w, v


def _plain_base(L, y):
    b = L.zeros(3, 4, dtype=_f64(L))
    w = b[:, 1]
    b[0].copy_(y[0])
    return b, w, b[:, 2]


def _base_changed(L, y):
    b = L.zeros(3, 4, dtype=_f64(L))
    v0 = b[0]
    b.add_(y)
    return v0, b[1], b


def _view_chain(b, y):
    v = b.view(12)[2:10].view(2, 4)
    v[1].mul_(y[0])
    return b, v


def _view_t(b, y):
    v = b.t()
    v[1:3].add_(y.t()[1:3])
    return b, v


FD_ONLY = {"self_alias"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_inplace_tangent_matches_torch_and_fd(name):
    fn = CASES[name]
    d = _run(dagrad, dfw, fn)
    if name in FD_ONLY:  # torch reads the already-updated tangent of an aliased argument
        for (_, dt), fd in zip(d, _fd(fn)):
            np.testing.assert_allclose(dt, fd, rtol=1e-5, atol=1e-6)
        return
    t = _run(torch, tfw, fn)
    assert len(t) == len(d)
    for (tp, tt), (dp, dt) in zip(t, d):
        np.testing.assert_allclose(dp, tp, rtol=1e-12, atol=1e-12)
        assert dt is not None
        tt = np.zeros_like(tp) if tt is None else tt
        np.testing.assert_allclose(dt, tt, rtol=1e-10, atol=1e-10)
    if name in ("floor_", "remainder_"):
        return  # piecewise: finite differences may straddle a jump
    for (_, dt), fd in zip(d, _fd(fn)):
        np.testing.assert_allclose(dt, fd, rtol=1e-5, atol=1e-6)


def test_random_inplace_gives_zero_tangent():
    for lib, F in ((torch, tfw), (dagrad, dfw)):
        with F.dual_level():
            x = F.make_dual(lib.tensor(X), lib.tensor(TX)) * 1
            x.normal_()
            assert np.all(F.unpack_dual(x).tangent.numpy() == 0)
            x.uniform_()
            assert np.all(F.unpack_dual(x).tangent.numpy() == 0)


def test_inplace_dtype_and_error_as_torch():
    for lib, F in ((torch, tfw), (dagrad, dfw)):
        with F.dual_level():
            y = F.make_dual(lib.ones(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64))
            g = lib.zeros(3, dtype=lib.long)
            with pytest.raises(RuntimeError, match="result type Double can't be cast to the "
                                                   "desired output type Long"):
                g.add_(y)
            with pytest.raises(NotImplementedError, match="aten::floor_divide"):
                (y * 1).floor_divide_(2.0)


def test_inplace_keeps_autograd_working():
    """Reverse mode through a dual in-place op: torch's gradients of the primal, and of the
    tangent (reverse over forward)."""
    res = []
    for lib, F in ((torch, tfw), (dagrad, dfw)):
        w = lib.tensor(X, requires_grad=True)
        with F.dual_level():
            x = F.make_dual(w * 1, lib.tensor(TX))
            x.mul_(lib.tensor(Y)).sin_()
            x[0] = 1.0
            p, t = F.unpack_dual(x)
        g1, = lib.autograd.grad(p.sum(), w, retain_graph=True)
        g2, = lib.autograd.grad((t * t).sum(), w)
        res.append((g1.numpy(), g2.numpy(), t.detach().numpy()))
    for a, b in zip(res[1], res[0]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_no_dirty_state_leaks_out_of_level():
    with dfw.dual_level():
        x = dfw.make_dual(dagrad.tensor(X), dagrad.tensor(TX)) * 1
        x.add_(1)
    assert dfw._dirty[0] is False
    assert dfw.unpack_dual(x).tangent is None


def test_shape_inplace_ops_match_torch_reverse_mode():
    """Core fix: t_/transpose_/squeeze_/unsqueeze_ change the tensor's shape in place (they
    failed on a shape check before); gradients, grad_fn and the version bump as torch."""
    res = []
    for lib in (torch, dagrad):
        w = lib.tensor(X, requires_grad=True)
        a = w * 1
        v0 = a._version
        a.t_()
        a.unsqueeze_(1).transpose_(0, 2).squeeze_(1)
        shape, bumped = tuple(a.shape), a._version > v0
        (a * lib.tensor(Y)).sum().backward()
        res.append((shape, bumped, w.grad.numpy()))
        b = lib.ones(2, 3)
        b.t_()
        assert tuple(b.shape) == (3, 2)
    assert res[0][:2] == res[1][:2] == ((3, 4), True)
    np.testing.assert_array_equal(res[1][2], res[0][2])
