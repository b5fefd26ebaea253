"""Autograd engine semantics, each checked against torch 2.13 doing the same thing."""
import threading
import warnings

import numpy as np
import pytest
import torch

import dagrad


def both(fn):
    """Run fn(module) for torch and dagrad; return (torch result, dagrad result)."""
    return fn(torch), fn(dagrad)


def arr(t):
    return None if t is None else np.asarray(t.detach().numpy(), dtype=np.float64)


def same(a, b, tol=1e-6):
    if a is None or b is None:
        assert a is None and b is None, (a, b)
        return
    np.testing.assert_allclose(arr(b), arr(a), rtol=tol, atol=tol)


def errmsg(fn, m):
    with pytest.raises(Exception) as e:
        fn(m)
    return type(e.value), str(e.value)


def same_error(fn):
    te, tm = errmsg(fn, torch)
    de, dm = errmsg(fn, dagrad)
    assert issubclass(de, te), (de, te)
    assert dm == tm, f"\ndagrad: {dm}\ntorch:  {tm}"


# ------------------------------------------------------------------ graph shapes
def test_diamond():
    def f(m):
        x = m.tensor([1.5, -2.0, 3.0], requires_grad=True)
        a = x * 2
        b = a.sin()
        c = a.exp()
        (b * c).sum().backward()
        return x.grad
    same(*both(f))


def test_tensor_used_many_times():
    def f(m):
        x = m.tensor([0.5, 1.0, 2.0], requires_grad=True)
        y = x * x * x + x.sin() * x - x / (x + 1) + x[0] * x[1:].sum()
        y.sum().backward()
        return x.grad
    same(*both(f))


def test_multiple_outputs_partial_use():
    def f(m):
        x = m.arange(12.0).reshape(3, 4).requires_grad_()
        a, b, c = x.split([1, 2, 1], 1)
        (a * 2 + c).sum().backward()
        return x.grad
    same(*both(f))


def test_leaf_accumulation_across_calls():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        for k in range(3):
            (x * (k + 1)).sum().backward()
        return x.grad
    same(*both(f))


def test_grad_not_aliased_between_leaves():
    for m in (torch, dagrad):
        a = m.ones(3, requires_grad=True)
        b = m.ones(3, requires_grad=True)
        (a + b).sum().backward()
        a.grad.mul_(2)
        assert b.grad.tolist() == [1.0, 1.0, 1.0], m
        assert a.grad.tolist() == [2.0, 2.0, 2.0], m


def test_external_gradient_not_aliased():
    for m in (torch, dagrad):
        x = m.ones(3, requires_grad=True)
        g = m.ones(3)
        (x * 1).backward(g)
        x.grad.add_(1)
        assert g.tolist() == [1.0, 1.0, 1.0], m
        y = m.ones(3, requires_grad=True)
        g2 = m.full((3,), 2.0)
        y.backward(g2)  # a leaf as root: its grad is the external gradient's values
        y.grad.add_(1)
        assert g2.tolist() == [2.0, 2.0, 2.0], m


def test_detach_and_shared_storage():
    for m in (torch, dagrad):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        d = x.detach()
        assert not d.requires_grad and d.grad_fn is None and d.is_leaf
        d[0] = 5.0
        assert x[0].item() == 5.0, m
        y = (x * 2).detach_()
        assert y.grad_fn is None and not y.requires_grad


def test_deep_chain_no_recursion():
    x = dagrad.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]


def test_deep_chain_of_different_ops():
    x = dagrad.tensor([0.5, 0.25], requires_grad=True)
    y = x
    for i in range(20_000):
        y = (y + 1) - 1 if i % 2 else y.reshape(2) * 1
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


# ------------------------------------------------------------------ hooks
def _hooks_run(m):
    log = []
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    h1 = y.register_hook(lambda g: log.append(("y1", g.tolist())))
    y.register_hook(lambda g: g * 10)
    y.register_hook(lambda g: log.append(("y3", g.tolist())))
    x.register_hook(lambda g: log.append(("x", g.tolist())))
    y.sum().backward(retain_graph=True)
    h1.remove()
    x.grad = None
    y.sum().backward()
    return log, x.grad.tolist()


def test_tensor_hooks_order_return_and_remove():
    t, d = both(_hooks_run)
    assert d == t


def test_hook_on_leaf_replaces_grad():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g * 0 + 7)
        (x * 2).sum().backward()
        return x.grad
    same(*both(f))


def test_hook_on_tensor_not_requiring_grad():
    same_error(lambda m: m.ones(2).register_hook(lambda g: g))


def test_post_accumulate_grad_hook():
    def f(m):
        log = []
        x = m.tensor([1.0, 2.0], requires_grad=True)
        x.register_post_accumulate_grad_hook(lambda p: log.append(p.grad.tolist()))
        (x * 2).sum().backward()
        return log
    t, d = both(f)
    assert d == t


# ------------------------------------------------------------------ retain_grad / .grad warnings
def test_retain_grad():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        z = (y * y).sum()
        z.backward()
        return y.grad
    same(*both(f))


def test_non_leaf_grad_warning():
    msgs = []
    for m in (torch, dagrad):
        x = m.tensor([1.0], requires_grad=True)
        y = x * 2
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            assert y.grad is None
        assert len(w) == 1 and w[0].category is UserWarning
        msgs.append(str(w[0].message))
    assert msgs[1] == msgs[0]


def test_leaf_grad_no_warning():
    x = dagrad.tensor([1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is None
        y = x * 2
        y.retain_grad()
        assert y.grad is None


# ------------------------------------------------------------------ retain_graph
def test_backward_twice_error():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward()
        y.backward()
    same_error(f)


def test_backward_twice_retain_graph():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad
    same(*both(f))


def test_nodes_without_saved_tensors_rerun_silently():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = (x + 1).sum()
        y.backward()
        y.backward()
        return x.grad
    same(*both(f))


def test_saved_tensor_access_after_free():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward()
        y.backward()
    same_error(f)


# ------------------------------------------------------------------ grad modes
def test_no_grad_inside_enable_grad_and_back():
    for m in (torch, dagrad):
        x = m.ones(2, requires_grad=True)
        with m.no_grad():
            assert not (x * 2).requires_grad
            with m.enable_grad():
                assert (x * 2).requires_grad
            assert not (x * 2).requires_grad
        with m.enable_grad():
            with m.no_grad():
                assert not m.is_grad_enabled()
            assert m.is_grad_enabled()


def test_set_grad_enabled_forms():
    for m in (torch, dagrad):
        x = m.ones(2, requires_grad=True)
        with m.set_grad_enabled(False):
            assert not (x * 2).requires_grad
        assert (x * 2).requires_grad
        m.set_grad_enabled(False)
        try:
            assert not m.is_grad_enabled()
        finally:
            m.set_grad_enabled(True)

        @m.set_grad_enabled(False)
        def f():
            return (x * 2).requires_grad
        assert f() is False
        assert m.is_grad_enabled()


def test_no_grad_decorator_and_inference_mode():
    for m in (torch, dagrad):
        x = m.ones(2, requires_grad=True)

        @m.no_grad()
        def f():
            return (x * 2)

        @m.inference_mode()
        def g():
            assert m.is_inference_mode_enabled()
            return x * 2

        assert not f().requires_grad
        r = g()
        assert not r.requires_grad
        assert not m.is_inference_mode_enabled()
        with m.inference_mode():
            assert not m.is_grad_enabled()
            with m.inference_mode(False):  # torch: grad mode back on, inference mode off
                assert m.is_grad_enabled()
                assert not m.is_inference_mode_enabled()
        assert m.is_grad_enabled()


def test_grad_mode_is_thread_local():
    res = {}

    def worker():
        res["worker"] = dagrad.is_grad_enabled()
        x = dagrad.ones(2, requires_grad=True)
        res["rg"] = (x * 2).requires_grad

    with dagrad.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert not dagrad.is_grad_enabled()
    assert res == {"worker": True, "rg": True}


def test_requires_grad_under_no_grad_leaf_ops():
    with dagrad.no_grad():
        x = dagrad.ones(2, requires_grad=True)
        assert x.requires_grad and x.is_leaf
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None


# ------------------------------------------------------------------ in-place / versions
def test_version_counter_error_message():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        y.exp()   # saves its result (this graph is not backwarded)
        w = y * y     # saves y
        y.add_(1)
        w.sum().backward()
    same_error(f)


def test_version_counter_error_on_saved_output():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        z = x.exp()
        z.mul_(2)
        z.sum().backward()
    same_error(f)


def test_version_counter_values():
    for m in (torch, dagrad):
        x = m.ones(3)
        v0 = x._version
        x.add_(1)
        x[0] = 2
        v = x.view(3)
        v.mul_(2)
        assert x._version - v0 == 3, m
        assert v._version == x._version


def test_inplace_on_leaf_requiring_grad():
    same_error(lambda m: m.ones(2, requires_grad=True).add_(1))
    same_error(lambda m: m.ones(2, requires_grad=True).mul_(2))


def test_inplace_on_leaf_under_no_grad_ok():
    def f(m):
        x = m.ones(2, requires_grad=True)
        with m.no_grad():
            x.mul_(3)
        (x * x).sum().backward()
        return x.grad
    same(*both(f))


def test_inplace_on_non_leaf_backward():
    def f(m):
        x = m.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x * 2
        y.mul_(3)
        y.add_(x)
        y.relu_()
        y.sum().backward()
        return x.grad, y.grad_fn.name()
    (tg, tn), (dg, dn) = both(f)
    same(tg, dg)
    assert dn == tn


# ------------------------------------------------------------------ autograd.grad
def test_autograd_grad_basic_and_grad_outputs():
    def f(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * x
        (g,) = m.autograd.grad(y, x, grad_outputs=m.tensor([1.0, 0.5, -1.0]))
        return g, x.grad
    (tg, tx), (dg, dx) = both(f)
    same(tg, dg)
    assert tx is None and dx is None


def test_autograd_grad_allow_unused():
    def f(m):
        x = m.tensor([1.0], requires_grad=True)
        z = m.tensor([1.0], requires_grad=True)
        y = (x * 2).sum()
        return m.autograd.grad(y, [x, z], allow_unused=True)
    (t1, t2), (d1, d2) = both(f)
    same(t1, d1)
    assert t2 is None and d2 is None

    def g(m):
        x = m.tensor([1.0], requires_grad=True)
        z = m.tensor([1.0], requires_grad=True)
        m.autograd.grad((x * 2).sum(), [x, z])
    same_error(g)

    def h(m):
        x = m.tensor([1.0], requires_grad=True)
        z = m.tensor([1.0], requires_grad=True)
        return m.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)[1]
    same(*both(h))


def test_autograd_grad_create_graph_double_backward():
    def f(m):
        x = m.tensor([0.5, 1.5], requires_grad=True)
        y = (x ** 3).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        assert g.requires_grad
        (h,) = m.autograd.grad(g.sum(), x)
        g2 = m.autograd.grad((x.sin() * x).sum(), x, create_graph=True)[0]
        g2.sum().backward()
        return g, h, x.grad
    t, d = both(f)
    for a, b in zip(t, d):
        same(a, b)


def test_autograd_grad_does_not_touch_leaf_grads():
    x = dagrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    dagrad.autograd.grad(y, x)
    assert x.grad is None


def test_autograd_grad_input_not_requiring_grad():
    same_error(lambda m: m.autograd.grad((m.ones(2, requires_grad=True) * 2).sum(), m.ones(2)))


def test_backward_inputs():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        z = m.tensor([3.0, 4.0], requires_grad=True)
        (x * z).sum().backward(inputs=[x])
        return x.grad, z.grad
    (tx, tz), (dx, dz) = both(f)
    same(tx, dx)
    assert tz is None and dz is None


def test_backward_inputs_non_leaf():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        (y * y).sum().backward(inputs=[y])
        return y.grad, x.grad
    (ty, tx), (dy, dx) = both(f)
    same(ty, dy)
    assert tx is None and dx is None


def test_implicit_grad_scalar_error():
    same_error(lambda m: (m.ones(2, requires_grad=True) * 2).backward())


def test_implicit_grad_on_integer_output():
    same_error(lambda m: m.autograd.grad(m.ones(2, requires_grad=True).sum().long(),
                                         m.ones(2, requires_grad=True)))


def test_mismatch_in_shape_error():
    same_error(lambda m: (m.ones(2, requires_grad=True) * 2).backward(m.ones(3)))


def test_element_does_not_require_grad_error():
    same_error(lambda m: m.ones(2).sum().backward())
    same_error(lambda m: m.autograd.grad(m.ones(2).sum(), m.ones(2, requires_grad=True)))


def test_set_requires_grad_on_non_leaf_error():
    def f(m):
        y = m.ones(2, requires_grad=True) * 2
        y.requires_grad = False
    same_error(f)


def test_requires_grad_on_integer_tensor_error():
    same_error(lambda m: m.ones(2, dtype=m.int64).requires_grad_())
    same_error(lambda m: m.tensor([1, 2], requires_grad=True))


def test_grad_assignment_checks():
    def f(m):
        x = m.ones(2, requires_grad=True)
        x.grad = m.ones(3)
    same_error(f)

    def g(m):
        x = m.ones(2, requires_grad=True)
        x.grad = m.ones(2, dtype=m.float64)
    same_error(g)


def test_grad_fn_graph_structure():
    def f(m):
        x = m.tensor([1.0], requires_grad=True)
        y = m.tensor([2.0])
        z = x * y + x.exp()
        fn = z.grad_fn
        names = [fn.name()] + [(n.name() if n is not None else None, i)
                               for n, i in fn.next_functions]
        leaf = fn.next_functions[0][0].next_functions[0][0]
        return names, leaf.name(), leaf.variable is x
    t, d = both(f)
    assert d == t


def test_zero_grad_set_to_none_semantics():
    for m in (torch, dagrad):
        x = m.ones(2, requires_grad=True)
        (x * 2).sum().backward()
        g = x.grad
        x.grad = None
        (x * 3).sum().backward()
        assert x.grad.tolist() == [3.0, 3.0] and g.tolist() == [2.0, 2.0]


def test_backward_under_no_grad_still_works():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        with m.no_grad():
            y.backward()
        return x.grad
    same(*both(f))


def test_grad_of_integer_tensor_ops_none():
    def f(m):
        x = m.tensor([1.0, 2.5], requires_grad=True)
        i = x.argmax()
        y = x[i] * 2
        y.backward()
        return x.grad
    same(*both(f))


# ------------------------------------------------------------------ gradcheck / gradgradcheck
def _wrong_fn(m):
    return lambda x: x.detach() * 2 + x  # analytical 1, numerical 3


def test_gradcheck_passes_and_returns_true():
    x = dagrad.tensor([0.3, -1.2, 2.0], dtype=dagrad.float64, requires_grad=True)
    y = dagrad.tensor([[0.5, 1.5]], dtype=dagrad.float64, requires_grad=True)
    assert dagrad.autograd.gradcheck(lambda a, b: (a[:, None] * b).tanh(), (x, y)) is True
    assert dagrad.autograd.gradgradcheck(lambda a, b: (a[:, None] * b).tanh(), (x, y)) is True


def test_gradcheck_error_message_matches_torch():
    msgs = []
    for m in (torch, dagrad):
        x = m.tensor([0.3, -1.2, 2.0], dtype=m.float64, requires_grad=True)
        with pytest.raises(RuntimeError) as e:
            m.autograd.gradcheck(_wrong_fn(m), (x,))
        assert type(e.value).__name__ == "GradcheckError"
        msgs.append(str(e.value))
    assert msgs[1] == msgs[0]
    x = dagrad.tensor([0.3], dtype=dagrad.float64, requires_grad=True)
    assert dagrad.autograd.gradcheck(_wrong_fn(dagrad), (x,), raise_exception=False) is False
    assert issubclass(dagrad.autograd.GradcheckError, RuntimeError)


def test_gradcheck_numerical_zero_and_no_input_errors():
    for m in (torch, dagrad):
        x = m.tensor([0.3, 1.0], dtype=m.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="Numerical gradient for function expected to be "
                                               "zero"):
            m.autograd.gradcheck(lambda a: a.detach() * 2, (x,))
    same_error(lambda m: m.autograd.gradcheck(lambda a: a * 2,
                                              (m.tensor([1.0], dtype=m.float64),)))


def test_gradcheck_float32_warning_matches_torch():
    msgs = []
    for m in (torch, dagrad):
        x = m.tensor([0.3, 1.0], requires_grad=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m.autograd.gradcheck(lambda a: a * 2, (x,), eps=1e-2, atol=1e-2,
                                 raise_exception=False)
        msgs.append([str(x.message) for x in w if x.category is UserWarning])
    assert msgs[1] == msgs[0] and msgs[0]


def test_gradgradcheck_catches_wrong_double_backward():
    class Sq(dagrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x.detach()  # first derivative right, second derivative lost

    x = dagrad.tensor([0.5, -1.5], dtype=dagrad.float64, requires_grad=True)
    assert dagrad.autograd.gradcheck(Sq.apply, (x,))
    with pytest.raises(dagrad.autograd.GradcheckError, match="Jacobian mismatch"):
        dagrad.autograd.gradgradcheck(Sq.apply, (x,))


def test_gradcheck_multiple_outputs_and_int_outputs_ignored():
    x = dagrad.tensor([[0.3, -1.2], [2.0, 0.1]], dtype=dagrad.float64, requires_grad=True)
    assert dagrad.autograd.gradcheck(lambda a: a.max(1), (x,))
    assert dagrad.autograd.gradcheck(lambda a: (a.sin(), a.argmax()), (x,))


def test_retain_grad_sees_hooked_gradient_in_either_order():
    def f(m, first):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        if first == "retain":
            y.retain_grad()
            y.register_hook(lambda g: g * 10)
        else:
            y.register_hook(lambda g: g * 10)
            y.retain_grad()
        (y * y).sum().backward()
        return y.grad, x.grad
    for first in ("retain", "hook"):
        (ty, tx), (dy, dx) = f(torch, first), f(dagrad, first)
        same(ty, dy)
        same(tx, dx)


def test_inplace_on_view_of_non_leaf():
    def f(m):
        x = m.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        y = x * 2
        v = y[1:3]
        v.mul_(10)
        y.sum().backward()
        return x.grad, y.grad_fn.name()
    (tg, tn), (dg, dn) = both(f)
    same(tg, dg)
    assert dn == tn


def test_setitem_on_non_leaf_then_backward():
    def f(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = m.tensor([5.0], requires_grad=True)
        y = x * 2
        y[1] = w[0] * 3
        (y * y).sum().backward()
        return x.grad, w.grad
    (tx, tw), (dx, dw) = both(f)
    same(tx, dx)
    same(tw, dw)


def test_inplace_on_view_of_leaf_error():
    def f(m):
        x = m.ones(3, requires_grad=True)
        x[0:2].mul_(2)
    same_error(f)


def test_modified_view_of_saved_tensor_error():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = (y * y).sum()
        y[0:1].add_(1)
        z.backward()
    same_error(f)


VIEW_INPLACE = {
    "mul_": lambda v, w: v.mul_(10),
    "add_tensor": lambda v, w: v.add_(w),
    "iadd": lambda v, w: v.__iadd__(w),
    "relu_": lambda v, w: v.relu_(),
    "zero_": lambda v, w: v.zero_(),
    "fill_": lambda v, w: v.fill_(3.0),
    "copy_": lambda v, w: v.copy_(w),
    "setitem": lambda v, w: v.__setitem__(0, w[1]),
    "clamp_": lambda v, w: v.clamp_(-1, 5),
    "exp_": lambda v, w: v.exp_(),
    "masked_fill_": lambda v, w: v.masked_fill_(v > 4, 0.5),
}


@pytest.mark.parametrize("view", ["slice", "t", "select", "view", "unsqueeze", "view_of_view"])
@pytest.mark.parametrize("name", list(VIEW_INPLACE))
def test_inplace_on_views_of_non_leaf(name, view):
    def f(m):
        x = m.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], requires_grad=True)
        w = m.tensor([0.5, 1.5], requires_grad=True)
        y = x * 2
        v = {"slice": lambda: y[:, 1:3], "t": lambda: y.t()[1:],
             "select": lambda: y[1, :2], "view": lambda: y.view(3, 2)[1],
             "unsqueeze": lambda: y[0].unsqueeze(0)[:, :2],
             "view_of_view": lambda: y[1][1:]}[view]()
        ww = w if tuple(v.shape)[-1:] == (2,) else w[:1]
        VIEW_INPLACE[name](v, ww)
        wt = m.arange(6.0).reshape(2, 3) - 2
        out = (y * wt).sum() + (v * v).sum()
        out.backward()
        return x.grad, w.grad, y.grad_fn.name(), y.detach().clone()
    (tx, tw, tn, ty), (dx, dw, dn, dy) = both(f)
    same(ty, dy)
    same(tx, dx)
    same(tw, dw)
    assert dn == tn


SIBLING = {
    "sibling_view_mul_": lambda m, y: y[1:3].mul_(10),
    "base_mul_": lambda m, y: y.mul_(3),
    "base_setitem": lambda m, y: y.__setitem__(1, 5.0),
    "base_zero_": lambda m, y: y.zero_(),
    "sibling_setitem": lambda m, y: y[1:].__setitem__(0, 7.0),
    "sibling_copy_": lambda m, y: y[1:].copy_(m.tensor([1.0, 2.0])),
}


@pytest.mark.parametrize("name", list(SIBLING))
def test_views_made_before_an_inplace_change_see_it(name):
    def f(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        a = y[0:2]
        SIBLING[name](m, y)
        (a * a).sum().backward()
        return x.grad, a.grad_fn.name(), a.detach().clone()
    (tg, tn, ta), (dg, dn, da) = both(f)
    same(ta, da)
    same(tg, dg)
    assert dn == tn


def test_gradcheck_signatures_match_torch():
    import inspect
    for name in ("gradcheck", "gradgradcheck"):
        sd = inspect.signature(getattr(dagrad.autograd, name))
        st = inspect.signature(getattr(torch.autograd, name))
        assert [(p.name, p.kind, p.default) for p in sd.parameters.values()] == \
            [(p.name, p.kind, p.default) for p in st.parameters.values()], name


SPECIAL_POINTS = {
    "abs0": (lambda m, x: x.abs(), [0.0, -1.0, 2.0]),
    "relu0": (lambda m, x: m.relu(x), [0.0, -1.0, 2.0]),
    "sqrt0": (lambda m, x: x.sqrt(), [0.0, 4.0]),
    "pow_half0": (lambda m, x: x ** 0.5, [0.0, 4.0]),
    "pow0_0": (lambda m, x: x ** 0, [0.0, 4.0]),
    "pow_tensor_0": (lambda m, x: m.pow(x, x), [0.0, 2.0]),
    "rpow_base0": (lambda m, x: 0.0 ** x, [-1.0, 0.0, 2.0]),
    "rpow_negative_base": (lambda m, x: (-2.0) ** x, [1.0, 2.0, 0.5]),
    "amax_ties": (lambda m, x: x.amax(), [1.0, 3.0, 3.0]),
    "max_ties": (lambda m, x: x.max(), [1.0, 3.0, 3.0]),
    "min_ties_dim": (lambda m, x: x.reshape(1, 3).min(1).values, [1.0, 1.0, 3.0]),
    "clamp_boundary": (lambda m, x: x.clamp(0.0, 1.0), [0.0, 1.0, 0.5, 2.0]),
    "norm_at_zero": (lambda m, x: (x * 0).norm(), [1.0, 2.0]),
    "norm1_at_zero": (lambda m, x: (x * 0).norm(1), [1.0, 2.0]),
    "norm_inf_ties": (lambda m, x: x.norm(float("inf")), [2.0, -2.0, 1.0]),
    "std_of_constant": (lambda m, x: (x * 0 + 1).std(), [1.0, 2.0]),
    "prod_two_zeros": (lambda m, x: x.prod(), [0.0, 0.0, 2.0]),
    "prod_one_zero": (lambda m, x: x.prod(), [0.0, 3.0, 2.0]),
    "cumprod_zeros": (lambda m, x: x.cumprod(0), [2.0, 0.0, 3.0, 0.0, 5.0]),
    "where_nan_branch": (lambda m, x: m.where(x > 0, x.log(), x), [-1.0, 2.0]),
    "log0": (lambda m, x: x.log(), [0.0, 1.0]),
    "div0": (lambda m, x: 1 / x, [0.0, 1.0]),
    "atan2_origin": (lambda m, x: m.atan2(x, x * 0), [0.0, 1.0]),
    "maximum_ties": (lambda m, x: m.maximum(x, x * 1), [1.0, 2.0]),
    "sort_ties": (lambda m, x: x.sort().values * m.tensor([1.0, 2.0, 3.0], dtype=m.float64),
                  [1.0, 1.0, 0.0]),
    "logsumexp_inf": (lambda m, x: (x * float("inf")).logsumexp(0), [1.0, -1.0]),
    "sigmoid_saturated": (lambda m, x: (x * 1000).sigmoid(), [1.0, -1.0]),
    "index_repeated": (lambda m, x: x[[0, 0, 1, 1, 1]], [1.0, 2.0]),
    "scatter_duplicates": (lambda m, x: m.zeros(2, dtype=m.float64).scatter_add(
        0, m.tensor([0, 0]), x), [1.0, 2.0]),
}


@pytest.mark.parametrize("name", list(SPECIAL_POINTS))
def test_gradients_at_special_points_match_torch(name):
    f, data = SPECIAL_POINTS[name]
    res = []
    for m in (torch, dagrad):
        x = m.tensor(data, dtype=m.float64, requires_grad=True)
        y = f(m, x)
        w = m.tensor(np.linspace(0.5, 1.5, y.numel()).reshape(tuple(y.shape)), dtype=m.float64)
        (y * w).sum().backward()
        res.append((repr(y.detach()), repr(x.grad), y.grad_fn.name()))
    assert res[1] == res[0]


# ------------------------------------------------------------------ random programs vs torch
_UN = [lambda m, x: x.sin(), lambda m, x: x.tanh(), lambda m, x: (x * x + 1).log(), lambda m, x: x.sigmoid(),
      lambda m, x: x.exp().clamp(max=5), lambda m, x: x.abs() + 0.1, lambda m, x: x.relu(), lambda m, x: x * 2 - 1,
      lambda m, x: x.softmax(-1), lambda m, x: x.log_softmax(0) if x.dim() else x, lambda m, x: x.cumsum(-1) if x.dim() else x,
      lambda m, x: x.t() if x.dim() == 2 else x, lambda m, x: x.flip(0) if x.dim() else x,
      lambda m, x: x.sum(-1, keepdim=True) if x.dim() else x, lambda m, x: x.mean(0) if x.dim() else x,
      lambda m, x: x.reshape(-1), lambda m, x: x.unsqueeze(0), lambda m, x: x[..., :1] if x.dim() else x,
      lambda m, x: x.amax(-1) if x.dim() else x, lambda m, x: x.pow(2), lambda m, x: x.clone(),
      lambda m, x: x.expand(2, *x.shape), lambda m, x: x.transpose(0, -1) if x.dim() else x,
      lambda m, x: x.roll(1, 0) if x.dim() else x, lambda m, x: x.std(-1, keepdim=True) if x.dim() and x.shape[-1] > 1 else x,
      lambda m, x: x.norm(dim=-1) if x.dim() else x, lambda m, x: x.repeat(2, *([1] * (x.dim()))) if True else x,
      lambda m, x: m.where(x > 0, x, x * 0.5), lambda m, x: (x * 1).mul_(2).add_(1), lambda m, x: x.view(-1)[::2] if x.is_contiguous() else x,
      ]
_BIN = [lambda m, a, b: a + b, lambda m, a, b: a * b, lambda m, a, b: a - b, lambda m, a, b: a / (b.abs() + 1),
       lambda m, a, b: m.maximum(a, b), lambda m, a, b: m.atan2(a, b + 3), lambda m, a, b: m.lerp(a, b, 0.3)]


@pytest.mark.parametrize("seed", range(4))
def test_random_programs_values_and_grads_match_torch(seed):
    """Random chains of unary/binary/view/reduction/in-place ops over broadcasting leaves:
    values and both leaves' gradients equal torch's (errors: same type)."""
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (3, 1), (1, 4), ()]
    for _ in range(30):
        ia, ib = rng.integers(0, len(shapes), 2)
        xa, xb = rng.uniform(-2, 2, shapes[ia]), rng.uniform(-2, 2, shapes[ib])
        prog = [(int(rng.integers(0, 3)), int(rng.integers(0, len(_UN))),
                 int(rng.integers(0, len(_BIN)))) for _ in range(rng.integers(2, 7))]
        res = []
        for m in (torch, dagrad):
            a = m.tensor(xa, dtype=m.float64, requires_grad=True)
            b = m.tensor(xb, dtype=m.float64, requires_grad=True)
            try:
                vals = [a, b]
                for kind, u, bi in prog:
                    if kind < 2:
                        vals.append(_UN[u](m, vals[-1]))
                    else:
                        vals.append(_BIN[bi](m, vals[-1], vals[int(u % (len(vals) - 1))]))
                out = vals[-1]
                w = m.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)),
                             dtype=m.float64)
                ((out * w).sum() + vals[-2].sum()).backward()
                res.append(("ok", arr(out), arr(a.grad), arr(b.grad)))
            except Exception as e:
                res.append(("err", type(e), str(e)))
        (t, d) = res
        assert t[0] == d[0], (prog, t, d)
        if t[0] == "err":
            assert issubclass(d[1], t[1]) and d[2] == t[2], (prog, t, d)
            continue
        for x, y in zip(t[1:], d[1:]):
            if x is None or y is None:
                assert x is None and y is None, prog
            else:
                np.testing.assert_allclose(y, x, rtol=1e-9, atol=1e-9, err_msg=str(prog))


def test_gradcheck_nondeterministic_backward_message_matches_torch():
    msgs = []
    for m in (torch, dagrad):
        calls = [0]

        class Noisy(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                calls[0] += 1
                return g * (2 + (1e-3 if calls[0] % 2 else 0.0))

        x = m.tensor([0.5], dtype=m.float64, requires_grad=True)
        with pytest.raises(RuntimeError) as e:
            m.autograd.gradcheck(Noisy.apply, (x,), atol=1e-2)
        msgs.append(str(e.value))
        calls[0] = 0
        assert m.autograd.gradcheck(Noisy.apply, (x,), atol=1e-2, nondet_tol=1e-2)
    assert msgs[1] == msgs[0]


def test_gradcheck_backward_not_multiplied_by_grad_output():
    msgs = []
    for m in (torch, dagrad):
        class Bad(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 0 + 2

        x = m.tensor([0.5, 1.0], dtype=m.float64, requires_grad=True)
        with pytest.raises(RuntimeError) as e:
            m.autograd.gradcheck(Bad.apply, (x,))
        msgs.append(str(e.value))
    assert msgs[1] == msgs[0]


def test_bare_decorators_and_generators_like_torch():
    def f(m):
        x = m.ones(2, requires_grad=True)
        res = []
        for deco in ["no_grad", "inference_mode", "enable_grad"]:
            @getattr(m, deco)
            def g():
                return (x * 2).requires_grad, m.is_grad_enabled()
            with m.no_grad():
                res.append(g())

        @m.no_grad()
        def gen():
            yield m.is_grad_enabled()
            yield m.is_grad_enabled()
            return 5
        it = gen()
        res.append((next(it), m.is_grad_enabled(), next(it)))
        with pytest.raises(StopIteration) as e:
            next(it)
        res.append(e.value.value)
        return res
    t, d = both(f)
    assert d == t


@pytest.mark.parametrize("expr", [
    lambda a, b, c: a * b,
    lambda a, b, c: a * b + c * a,
    lambda a, b, c: torch_or_dagrad_stack(a, b, c),
    lambda a, b, c: a + b * c,
    lambda a, b, c: (a * 2).exp() + (b * c).sin() * a,
])
def test_leaf_hook_order_and_sums_like_torch(expr):
    """Hooked leaves run once each, with the summed gradient, in PyTorch's order (the engine
    schedules a hooked AccumulateGrad just below its last consumer; hook-free ones run last)."""
    def f(m):
        a, b, c = (m.tensor([1.0, 2.0], requires_grad=True) for _ in range(3))
        d = m.tensor([0.5, 1.5], requires_grad=True)  # hook-free leaf in the same graph
        log = []
        for name, t in zip("abc", (a, b, c)):
            t.register_hook(lambda g, name=name: log.append((name, g.tolist())))
        a.register_post_accumulate_grad_hook(lambda t: log.append(("post a", t.grad.tolist())))
        (expr(a, b, c) * d).sum().backward()
        return log, [None if t.grad is None else t.grad.tolist() for t in (a, b, c, d)]
    (tl, tg), (dl, dg) = both(f)
    assert [x[0] for x in dl] == [x[0] for x in tl]
    np.testing.assert_allclose(np.array([x[1] for x in dl]), np.array([x[1] for x in tl]),
                               rtol=1e-6)
    for x, y in zip(dg, tg):
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_allclose(x, y, rtol=1e-6)


def torch_or_dagrad_stack(a, b, c):
    m = torch if isinstance(a, torch.Tensor) else dagrad
    return m.stack([a, b, c]).sum(0)


def test_accumulate_grad_prehook_runs_once_with_the_sum():
    def f(m):
        w = m.tensor([1.0, 2.0], requires_grad=True)
        y = w * 3
        acc = y.grad_fn.next_functions[0][0]
        seen = []
        acc.register_prehook(lambda gs: seen.append(gs[0].tolist()))
        (y * w + w).sum().backward()
        return seen, w.grad.tolist()
    (ts, tg), (ds, dg) = both(f)
    assert ds == ts and dg == tg


@pytest.mark.parametrize("name,f", [
    ("mul_scalar", lambda x: x * 2), ("div_scalar", lambda x: x / 2), ("add_scalar", lambda x: x + 2),
    ("rdiv", lambda x: 2 / x), ("sum", lambda x: x.sum()), ("relu", lambda x: x.relu()),
    ("view", lambda x: x.view(2, 1)), ("imul", lambda x: x.clone().mul_(3)),
])
def test_second_backward_through_freed_graph_like_torch(name, f):
    """PyTorch saves the Python number of x * 2 and x / 2 as a tensor: reusing the freed graph
    raises; nodes that save nothing (x + 2, sum, view) run again."""
    def run(m):
        x = m.ones(2, requires_grad=True)
        y = f(x).sum()
        y.backward()
        try:
            y.backward()
        except RuntimeError as e:
            return "error", str(e)
        return "ok", x.grad.tolist()
    t, d = run(torch), run(dagrad)
    assert d == t
