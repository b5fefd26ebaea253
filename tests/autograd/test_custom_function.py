"""autograd.Function vs torch.autograd.Function: same user code, same values, grads and errors."""
import numpy as np
import pytest
import torch

import dagrad
from helpers import assert_close, to_dagrad, to_torch


def _both():
    """The same custom Functions written against each library."""
    out = {}
    for lib in (torch, dagrad):
        F = lib.autograd.Function

        class MyExp(F):
            @staticmethod
            def forward(ctx, x):
                r = x.exp()
                ctx.save_for_backward(r)
                return r

            @staticmethod
            def backward(ctx, g):
                (r,) = ctx.saved_tensors
                return g * r

        class Scale(F):
            # non-tensor argument, setup_context style
            @staticmethod
            def forward(x, k, y):
                return x * k + y * y

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, k, y = inputs
                ctx.k = k
                ctx.save_for_backward(y)

            @staticmethod
            def backward(ctx, g):
                (y,) = ctx.saved_tensors
                return g * ctx.k, None, 2 * g * y

        class Cube(F):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 3 * g * x * x

        class SplitTwo(F):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(True)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, ga, gb):
                return ga * 2 + gb * 3

        class NoMat(F):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, ga, gb):
                ctx.seen = (ga is None, gb is None)
                g = 0
                if ga is not None:
                    g = g + ga * 2
                if gb is not None:
                    g = g + gb * 3
                return g

        class AddOneInplace(F):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g

        class ArgMaxSort(F):
            @staticmethod
            def forward(ctx, x):
                v, i = x.sort()
                ctx.mark_non_differentiable(i)
                ctx.save_for_backward(i)
                return v, i

            @staticmethod
            def backward(ctx, gv, gi):
                (i,) = ctx.saved_tensors
                return gv.new_zeros(gv.shape).scatter(0, i, gv)

        class Once(F):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @lib.autograd.function.once_differentiable if lib is torch else \
                dagrad.autograd.once_differentiable
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * g * x

        class WrongCount(F):
            @staticmethod
            def forward(ctx, x, y):
                return x + y

            @staticmethod
            def backward(ctx, g):
                return (g,)

        class WrongShape(F):
            @staticmethod
            def forward(ctx, x):
                return x.sum()

            @staticmethod
            def backward(ctx, g):
                return g.expand(7)

        class GradForNonTensor(F):
            @staticmethod
            def forward(ctx, x, k):
                return x * k

            @staticmethod
            def backward(ctx, g):
                return g, g

        out[lib.__name__] = dict(locals())
    return out["torch"], out["dagrad"]


T, D = _both()


def _pair(shape=(4,), dtype=np.float64, seed=0):
    a = np.random.RandomState(seed).randn(*shape).astype(dtype)
    return to_torch(a, True), to_dagrad(a, True)


def test_forward_backward_and_node_name():
    tx, dx = _pair()
    ty = T["MyExp"].apply(tx)
    dy = D["MyExp"].apply(dx)
    assert_close(dy, ty)
    assert dy.grad_fn.name() == ty.grad_fn.name() == "MyExpBackward"
    assert type(dy.grad_fn).__name__ == "MyExpBackward"
    ty.sum().backward()
    dy.sum().backward()
    assert_close(dx.grad, tx.grad)
    assert dy.grad_fn.next_functions[0][0] is dx._get_accumulator()


def test_setup_context_non_tensor_arg_and_needs_input_grad():
    tx, dx = _pair()
    ty_, dy_ = _pair(seed=1)
    out_t = T["Scale"].apply(tx, 2.5, ty_)
    out_d = D["Scale"].apply(dx, 2.5, dy_)
    assert_close(out_d, out_t)
    (out_t ** 2).sum().backward()
    (out_d ** 2).sum().backward()
    assert_close(dx.grad, tx.grad)
    assert_close(dy_.grad, ty_.grad)
    assert out_d.grad_fn.needs_input_grad == out_t.grad_fn.needs_input_grad == (True, False, True)
    y2 = dagrad.tensor([1.0, 2.0, 3.0, 4.0], dtype=dagrad.float64)
    o = D["Scale"].apply(dx, 2.0, y2)
    assert o.grad_fn.needs_input_grad == (True, False, False)
    assert len(o.grad_fn.next_functions) == 2  # one edge per tensor input


def test_no_grad_and_no_requires_grad_outputs():
    x = dagrad.ones(3, dtype=dagrad.float64)
    y = D["MyExp"].apply(x)
    assert not y.requires_grad and y.grad_fn is None
    _, dx = _pair()
    with dagrad.no_grad():
        y = D["MyExp"].apply(dx)
    assert not y.requires_grad


def test_double_backward_through_custom_function():
    tx, dx = _pair()
    for lib, x, fns in ((torch, tx, T), (dagrad, dx, D)):
        y = fns["Cube"].apply(x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        if lib is torch:
            tg, tgg = g, gg
        else:
            dg, dgg = g, gg
    assert_close(dg, tg)
    assert_close(dgg, tgg)
    np.testing.assert_allclose(dgg.numpy(), 6 * dx.detach().numpy())


def test_gradcheck_custom_function():
    _, dx = _pair((3,))
    assert dagrad.autograd.gradcheck(D["Cube"].apply, (dx,))
    assert dagrad.autograd.gradgradcheck(D["Cube"].apply, (dx,))


def test_multiple_outputs_materialize_grads():
    tx, dx = _pair()
    ta, tb = T["SplitTwo"].apply(tx)
    da, db = D["SplitTwo"].apply(dx)
    ta.sum().backward()  # gb is materialised as zeros
    da.sum().backward()
    assert_close(dx.grad, tx.grad)
    _, dx2 = _pair()
    a, b = D["NoMat"].apply(dx2)
    (a * 1).sum().backward()
    assert a.grad_fn.seen == (False, True)
    np.testing.assert_allclose(dx2.grad.numpy(), 2.0)


def test_mark_dirty():
    for lib, fns in ((torch, T), (dagrad, D)):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        x = a * 2  # non-leaf: can be modified in place
        v0 = x._version
        y = fns["AddOneInplace"].apply(x)
        assert y is x
        assert x._version > v0
        assert y.grad_fn.name() == "AddOneInplaceBackward"
        (y * y).sum().backward()
        if lib is torch:
            tgrad, tval = a.grad, y.detach()
        else:
            dgrad, dval = a.grad, y.detach()
    assert_close(dval, tval)
    assert_close(dgrad, tgrad)
    leaf_t = torch.ones(2, requires_grad=True)
    leaf_d = dagrad.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError) as et:
        T["AddOneInplace"].apply(leaf_t)
    with pytest.raises(RuntimeError) as ed:
        D["AddOneInplace"].apply(leaf_d)
    assert str(et.value) == str(ed.value)


def test_mark_non_differentiable():
    tx, dx = _pair()
    tv, ti = T["ArgMaxSort"].apply(tx)
    dv, di = D["ArgMaxSort"].apply(dx)
    assert not di.requires_grad and not ti.requires_grad
    assert dv.requires_grad
    (tv * torch.arange(4.0, dtype=torch.float64)).sum().backward()
    (dv * dagrad.arange(4.0, dtype=dagrad.float64)).sum().backward()
    assert_close(dx.grad, tx.grad)


def test_once_differentiable():
    tx, dx = _pair()
    for lib, x, fns in ((torch, tx, T), (dagrad, dx, D)):
        y = (fns["Once"].apply(x) * x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        assert g.requires_grad
        with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was "
                                               "marked with @once_differentiable"):
            g.sum().backward()
    y = D["Once"].apply(dx).sum()
    (g,) = dagrad.autograd.grad(y, dx)
    np.testing.assert_allclose(g.numpy(), 2 * dx.detach().numpy())


def test_saved_tensor_version_check():
    msgs = []
    for lib, fns in ((torch, T), (dagrad, D)):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        x = a * 1
        y = fns["Cube"].apply(x)
        x.mul_(2)
        with pytest.raises(RuntimeError) as e:
            y.sum().backward()
        msgs.append(str(e.value))
    assert msgs[0].split(", which is")[0] == msgs[1].split(", which is")[0]
    assert "is at version 1; expected version 0 instead" in msgs[1]


def test_saved_tensors_freed():
    for lib, fns in ((torch, T), (dagrad, D)):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = fns["MyExp"].apply(x)
        y.sum().backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second"):
            y.sum().backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second"):
            y.grad_fn.saved_tensors


def test_errors_match_torch():
    for name, make in (("WrongCount", lambda lib: (lib.ones(2, requires_grad=True),
                                                   lib.ones(2, requires_grad=True))),
                       ("WrongShape", lambda lib: (lib.ones(3, requires_grad=True),)),
                       ("GradForNonTensor", lambda lib: (lib.ones(2, requires_grad=True), 2.0))):
        msgs = []
        for lib, fns in ((torch, T), (dagrad, D)):
            args = make(lib)
            with pytest.raises(RuntimeError) as e:
                fns[name].apply(*args).sum().backward()
            msgs.append(str(e.value))
        assert msgs[0] == msgs[1], name


def test_returns_input_unchanged_is_new_tensor():
    for lib in (torch, dagrad):
        class Ident(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 2
        x = lib.ones(3, requires_grad=True)
        y = Ident.apply(x)
        assert y is not x
        assert y.grad_fn.name() == "IdentBackward"
        y.sum().backward()
        assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_instantiating_warns_and_legacy_call_errors():
    with pytest.warns(DeprecationWarning):
        f = D["MyExp"]()
    with pytest.raises(RuntimeError, match="Legacy autograd function"):
        f(dagrad.ones(1))


def test_custom_function_under_vmap_errors_like_torch():
    import torch.func as tf

    import dagrad.func as df
    msgs = []
    for lib, F in ((torch, tf), (dagrad, df)):
        class Old(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2

        class New(lib.autograd.Function):
            @staticmethod
            def forward(x):
                return x * 2

            @staticmethod
            def setup_context(ctx, inputs, output):
                pass

            @staticmethod
            def backward(ctx, g):
                return g * 2
        for C in (Old, New):
            with pytest.raises(RuntimeError) as e:
                F.vmap(C.apply)(lib.ones(2, 3))
            msgs.append(str(e.value))
    assert msgs[:2] == msgs[2:]


def test_generate_vmap_rule_forward_and_per_sample_grads():
    import torch.func as tf

    import dagrad.func as df
    res = []
    x_np = np.random.RandomState(0).randn(4, 3)
    for lib, F in ((torch, tf), (dagrad, df)):
        class Cube(lib.autograd.Function):
            generate_vmap_rule = True

            @staticmethod
            def forward(x, k):
                return x ** 3 * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.save_for_backward(inputs[0])
                ctx.k = inputs[1]

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 3 * g * x * x * ctx.k, None
        x = lib.tensor(x_np)
        res.append((
            F.vmap(lambda r: Cube.apply(r, 2.0))(x),
            F.vmap(F.grad(lambda r: Cube.apply(r, 2.0).sum()))(x),
            # unbatched input of the Function: its gradient is per sample, not summed
            F.vmap(F.grad(lambda w, r: (Cube.apply(w, 2.0) * r).sum()), in_dims=(None, 0))(
                x[0], x),
            F.vmap(F.vmap(lambda r: Cube.apply(r, 0.5)))(x.reshape(2, 2, 3)),
        ))
    assert_close(res[1], res[0])
