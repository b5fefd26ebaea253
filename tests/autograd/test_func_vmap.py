"""dagrad.func (grad, vjp, jvp, jacrev, jacfwd, hessian, functional_call, vmap) vs torch.func."""
import numpy as np
import pytest
import torch
import torch.func as tf

import dagrad
import dagrad.func as df
from helpers import assert_close

RNG = np.random.RandomState(0)
X = RNG.randn(5, 3)
W = RNG.randn(3, 2) * 0.5
Y = RNG.randn(5, 2)


def T(lib, a):
    return lib.tensor(np.asarray(a, dtype=np.float64))


def both(make, *arrays):
    """Run `make(lib, func_module)` on tensors built from arrays, for both libraries."""
    out = []
    for lib, F in ((torch, tf), (dagrad, df)):
        out.append(make(lib, F, *[T(lib, a) for a in arrays]))
    return out


def _loss(lib):
    def loss(w, x, y):
        return (((x @ w).tanh() - y) ** 2).mean()
    return loss


# ---------------------------------------------------------------- vmap rules
VMAP_FNS = {
    "unary": lambda lib: lambda x: x.sin().exp() + x.abs().sqrt(),
    "binary_broadcast": lambda lib: lambda x: x * lib.tensor([1.0, 2.0, 3.0], dtype=x.dtype) - 1,
    "scalar_ops": lambda lib: lambda x: 2 ** x + 1 / (x * x + 1) - (3 - x),
    "reductions": lambda lib: lambda x: lib.stack([x.sum(), x.mean(), x.max(), x.amin(0),
                                                   x.std(), x.logsumexp(0), x.prod()]),
    "reduce_dims": lambda lib: lambda x: x.reshape(3, 1).expand(3, 4).sum(1, keepdim=True),
    "softmax": lambda lib: lambda x: lib.softmax(x, dim=0) * x.cumsum(-1),
    "shape": lambda lib: lambda x: x.unsqueeze(0).expand(2, 3).transpose(0, 1).flatten()[1:4],
    "permute_t": lambda lib: lambda x: (x.reshape(3, 1) @ x.reshape(1, 3)).t().permute(1, 0),
    "indexing": lambda lib: lambda x: x[1:] * x[0] + x[lib.tensor([2, 0])],
    "matmul_vec": lambda lib: lambda x: x @ lib.ones(3, 4, dtype=x.dtype),
    "matmul_left": lambda lib: lambda x: lib.ones(4, 3, dtype=x.dtype) @ x,
    "dot": lambda lib: lambda x: lib.dot(x, x) + x.outer(x).sum(),
    "cat_stack": lambda lib: lambda x: lib.cat([x, lib.zeros(2, dtype=x.dtype)]) + lib.stack(
        [x, x * 2]).sum(0).sum(),
    "where_clamp": lambda lib: lambda x: lib.where(x > 0, x, x * 0.1).clamp(-0.5, 0.5),
    "squeeze": lambda lib: lambda x: x.reshape(1, 3, 1).squeeze().squeeze(0),
    "max_dim": lambda lib: lambda x: x.reshape(3, 1).max(dim=0).values + x.argmax(),
    "einsum": lambda lib: lambda x: lib.einsum("i,j->ij", x, x),
    "zeros_like": lambda lib: lambda x: lib.zeros_like(x) + lib.ones_like(x) * x,
}


@pytest.mark.parametrize("name", sorted(VMAP_FNS))
def test_vmap_rule(name):
    def make(lib, F, x):
        return F.vmap(VMAP_FNS[name](lib))(x)
    t, d = both(make, X)
    assert_close(d, t)
    # and equal to a loop over the batch in dagrad itself
    f = VMAP_FNS[name](dagrad)
    loop = dagrad.stack([f(T(dagrad, X[i])) for i in range(X.shape[0])])
    np.testing.assert_allclose(d.numpy(), loop.numpy(), rtol=1e-12, atol=1e-12)


def test_vmap_in_dims_out_dims_and_multiple_outputs():
    def make(lib, F, x, w):
        f = lambda a, b: (a @ b, a.sum())  # noqa: E731
        return F.vmap(f, in_dims=(1, None), out_dims=(1, 0))(x.t(), w)
    t, d = both(make, X, W)
    assert_close(d, t)


def test_vmap_nested():
    def make(lib, F, x, w):
        inner = F.vmap(lambda a, b: (a * b).sum(), in_dims=(0, None))
        return F.vmap(inner, in_dims=(None, 0))(x, w.t())
    t, d = both(make, X, W)
    assert_close(d, t)
    assert tuple(d.shape) == (2, 5)

    def make2(lib, F, x):
        return F.vmap(F.vmap(lambda a: a.exp() @ a.reshape(3, 1)))(x.reshape(5, 1, 3))
    t, d = both(make2, X)
    assert_close(d, t)


def test_vmap_is_not_a_loop():
    """The function runs once for the whole batch (the kernels see the batch dimension)."""
    calls = []

    def f(x):
        calls.append(1)
        return x.sin()
    df.vmap(f)(T(dagrad, X))
    assert len(calls) == 1


def test_vmap_data_dependent_control_flow_errors():
    def f(x):
        if x.sum() > 0:
            return x
        return -x
    msgs = []
    for F, lib in ((tf, torch), (df, dagrad)):
        with pytest.raises(RuntimeError) as e:
            F.vmap(f)(T(lib, X))
        msgs.append(str(e.value))
        with pytest.raises(RuntimeError, match=r"\.item\(\)"):
            F.vmap(lambda x: x.sum().item())(T(lib, X))
    assert msgs[0] == msgs[1]
    assert "data-dependent control flow" in msgs[1]


def test_vmap_errors_like_torch():
    for F, lib in ((tf, torch), (df, dagrad)):
        with pytest.raises(ValueError, match="same size in the mapped dimension"):
            F.vmap(lambda a, b: a + b)(T(lib, X), T(lib, W))
        with pytest.raises(RuntimeError, match="randomness error mode"):
            F.vmap(lambda a: a + lib.rand(3, dtype=a.dtype))(T(lib, X))
        with pytest.raises(ValueError, match="expected in_dim to satisfy"):
            F.vmap(lambda a: a, in_dims=2)(T(lib, X))
    out = df.vmap(lambda a: a + dagrad.rand(3, dtype=a.dtype), randomness="different")(T(dagrad, X))
    assert not np.allclose(out.numpy()[0] - X[0], out.numpy()[1] - X[1])
    out = df.vmap(lambda a: a + dagrad.rand(3, dtype=a.dtype), randomness="same")(T(dagrad, X))
    np.testing.assert_allclose(out.numpy()[0] - X[0], out.numpy()[1] - X[1])


def test_vmap_namespace_restored():
    raw = dagrad.sum
    df.vmap(lambda a: dagrad.sum(a))(T(dagrad, X))
    assert dagrad.sum is raw


# ---------------------------------------------------------------- transforms
def test_grad_and_value_argnums_has_aux():
    def make(lib, F, w, x, y):
        loss = _loss(lib)
        g = F.grad(loss)(w, x, y)
        g2 = F.grad(loss, argnums=(0, 1))(w, x, y)
        gv = F.grad_and_value(lambda w: (loss(w, x, y), w.sum()), has_aux=True)(w)
        return g, g2, gv
    t, d = both(make, W, X, Y)
    assert_close(d, t)


def test_grad_errors():
    for F, lib in ((tf, torch), (df, dagrad)):
        with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar Tensor"):
            F.grad(lambda x: x * 2)(T(lib, X[0]))


def test_per_sample_gradients_vmap_grad_equal_loop():
    def make(lib, F, w, x, y):
        loss = _loss(lib)
        return F.vmap(F.grad(loss), in_dims=(None, 0, 0))(w, x, y)
    t, d = both(make, W, X, Y)
    assert_close(d, t)
    loss = _loss(dagrad)
    loop = dagrad.stack([df.grad(loss)(T(dagrad, W), T(dagrad, X[i]), T(dagrad, Y[i]))
                         for i in range(X.shape[0])])
    np.testing.assert_allclose(d.numpy(), loop.numpy(), rtol=1e-12, atol=1e-14)


def test_vmap_jacrev_per_sample_jacobians():
    def f(lib):
        return lambda w, x: (x @ w).tanh() * x.sum()

    def make(lib, F, w, x):
        return F.vmap(F.jacrev(f(lib)), in_dims=(None, 0))(w, x)
    t, d = both(make, W, X)
    assert_close(d, t)
    loop = dagrad.stack([df.jacrev(f(dagrad))(T(dagrad, W), T(dagrad, X[i]))
                         for i in range(X.shape[0])])
    np.testing.assert_allclose(d.numpy(), loop.numpy(), rtol=1e-12, atol=1e-14)


def _vecf(lib):
    return lambda x: lib.stack([x[0] * x[1], x[1].exp() * x[2], x.sin().sum(), (x * x).sum()])


def test_jacrev_jacfwd_agree_and_match_torch():
    def make(lib, F, x):
        return F.jacrev(_vecf(lib))(x), F.jacfwd(_vecf(lib))(x)
    (tr, tfw), (dr, dfw) = both(make, X[0])
    assert_close(dr, tr)
    assert_close(dfw, tfw)
    np.testing.assert_allclose(dr.numpy(), dfw.numpy(), rtol=1e-12)


def test_hessian_matches_torch_and_autograd_functional():
    def make(lib, F, x):
        f = lambda x: (x ** 3).sum() * x[0] + x.exp().prod()  # noqa: E731
        return F.hessian(f)(x)
    t, d = both(make, X[0])
    assert_close(d, t)
    f = lambda x: (x ** 3).sum() * x[0] + x.exp().prod()  # noqa: E731
    h2 = dagrad.autograd.functional.hessian(f, T(dagrad, X[0]))
    np.testing.assert_allclose(d.numpy(), h2.numpy(), rtol=1e-12)


def test_vjp_and_jvp():
    rng = np.random.RandomState(5)
    v_out, v_in = rng.randn(4), rng.randn(3)

    def make(lib, F, x, vo, vi):
        out, fn = F.vjp(_vecf(lib), x)
        (g,) = fn(vo)
        o2, jv = F.jvp(_vecf(lib), (x,), (vi,))
        return out, g, o2, jv
    t, d = both(make, X[0], v_out, v_in)
    assert_close(d, t)
    # jvp vs central finite differences
    f = _vecf(dagrad)
    eps = 1e-6
    fd = (f(T(dagrad, X[0] + eps * v_in)).numpy() - f(T(dagrad, X[0] - eps * v_in)).numpy()) / (
        2 * eps)
    np.testing.assert_allclose(d[3].numpy(), fd, rtol=1e-6, atol=1e-8)


def test_mlp_loss_hessian_wrt_params_via_func():
    rng = np.random.RandomState(1)
    xs, ys = rng.randn(4, 3), rng.randn(4, 2)
    w1, w2 = rng.randn(3, 4) * 0.5, rng.randn(4, 2) * 0.5

    def make(lib, F, w1, w2, x, y):
        def loss(w1, w2):
            return (((x @ w1).tanh() @ w2 - y) ** 2).mean()
        return F.hessian(loss, argnums=(0, 1))(w1, w2)
    t, d = both(make, w1, w2, xs, ys)
    assert_close(d, t, atol=1e-8)


def test_functional_call():
    try:
        nn = dagrad.nn
        lin = nn.Linear(3, 2)
    except Exception:
        pytest.skip("dagrad.nn.Linear not available")
    tl = torch.nn.Linear(3, 2)
    params = {"weight": T(dagrad, W.T), "bias": T(dagrad, np.array([0.5, -0.5]))}
    tparams = {"weight": T(torch, W.T), "bias": T(torch, np.array([0.5, -0.5]))}
    d = df.functional_call(lin, params, (T(dagrad, X),))
    t = tf.functional_call(tl, tparams, (T(torch, X),))
    assert_close(d, t)
    assert lin.weight is not params["weight"]  # restored
    # gradients w.r.t. the dict of parameters, per sample
    g = df.vmap(df.grad(lambda p, x: df.functional_call(lin, p, (x,)).sum()),
                in_dims=(None, 0))(params, T(dagrad, X))
    tg = tf.vmap(tf.grad(lambda p, x: tf.functional_call(tl, p, (x,)).sum()),
                 in_dims=(None, 0))(tparams, T(torch, X))
    assert_close(g["weight"], tg["weight"])
    assert_close(g["bias"], tg["bias"])


def test_vmap_conv2d_rules_and_per_sample_grads():
    r = np.random.RandomState(7)
    x, w, b = r.randn(4, 2, 3, 6, 6), r.randn(4, 5, 3, 3, 3), r.randn(4, 5)
    res = []
    for lib, F in ((torch, tf), (dagrad, df)):
        FF = lib.nn.functional
        X, W, B = T(lib, x), T(lib, w), T(lib, b)
        res.append((
            F.vmap(lambda x: FF.conv2d(x, W[0], B[0], padding=1))(X),       # batched input
            F.vmap(lambda w, b: FF.conv2d(X[0], w, b, stride=2))(W, B),     # batched weight
            F.vmap(lambda x, w: FF.conv2d(x, w, None, padding=1))(X, W),    # both
            F.vmap(lambda x: FF.conv2d(x, W[0]))(X[:, 0]),                  # unbatched conv
            F.vmap(F.grad(lambda w, x: FF.conv2d(x, w).tanh().sum()), in_dims=(None, 0))(W[0], X),
        ))
    assert_close(res[1], res[0], atol=1e-8)


LOSSES = {
    "mse": lambda F, x, t, c: F.mse_loss(x, t),
    "l1_sum": lambda F, x, t, c: F.l1_loss(x, t, reduction="sum"),
    "smooth_l1_none": lambda F, x, t, c: F.smooth_l1_loss(x, t, reduction="none"),
    "bce_logits": lambda F, x, t, c: F.binary_cross_entropy_with_logits(x, t.sigmoid()),
    "ce": lambda F, x, t, c: F.cross_entropy(x, c),
    "ce_weight_ignore": lambda F, x, t, c: F.cross_entropy(
        x, c, weight=x.new_tensor([1.0, 2.0, 0.5]), ignore_index=1),
    "ce_probs": lambda F, x, t, c: F.cross_entropy(x, t.softmax(-1)),
    "nll": lambda F, x, t, c: F.nll_loss(x.log_softmax(-1), c, reduction="sum"),
    "kl_batchmean": lambda F, x, t, c: F.kl_div(x.log_softmax(-1), t.softmax(-1),
                                                reduction="batchmean"),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_vmap_losses(name):
    r = np.random.RandomState(11)
    x, t, c = r.randn(4, 5, 3), r.randn(4, 5, 3), r.randint(0, 3, (4, 5))
    res = []
    for lib, F in ((torch, tf), (dagrad, df)):
        FF = lib.nn.functional
        res.append(F.vmap(lambda a, b, k: LOSSES[name](FF, a, b, k))(
            T(lib, x), T(lib, t), lib.tensor(c)))
    assert_close(res[1], res[0])


def test_per_sample_grads_of_an_nn_module():
    """The torch.func tutorial pattern: vmap(grad(loss over functional_call)) on a Sequential."""
    res = []
    for lib, F in ((torch, tf), (dagrad, df)):
        nn = lib.nn
        model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
        r = np.random.RandomState(0)
        params = {k: T(lib, r.randn(*v.shape) * 0.3) for k, v in model.named_parameters()}
        x, y = T(lib, r.randn(6, 3)), lib.tensor(r.randint(0, 2, 6))

        def loss(p, xi, yi):
            out = F.functional_call(model, p, (xi.unsqueeze(0),))
            return nn.functional.cross_entropy(out, yi.unsqueeze(0))
        res.append(F.vmap(F.grad(loss), in_dims=(None, 0, 0))(params, x, y))
    for k in res[0]:
        assert_close(res[1][k], res[0][k])


def test_vmap_nn_functional_rules():
    r = np.random.RandomState(0)
    x, idx, E = r.randn(4, 2, 3, 8, 8), r.randint(0, 10, (4, 6)), r.randn(10, 3)
    res = []
    for lib, F in ((torch, tf), (dagrad, df)):
        FF = lib.nn.functional
        X = T(lib, x)
        res.append((
            F.vmap(lambda a: FF.max_pool2d(a, 2))(X),
            F.vmap(lambda a: FF.avg_pool2d(a[0], 2))(X),
            F.vmap(lambda a: FF.layer_norm(a, (8,)))(X),
            F.vmap(lambda a: FF.pad(a, (1, 1)))(X),
            F.vmap(lambda i: FF.embedding(i, T(lib, E)))(lib.tensor(idx)),
            F.vmap(lambda a: FF.gelu(a) + FF.silu(a) + FF.relu(a) + FF.logsigmoid(a))(X),
            F.vmap(lambda a: FF.softmax(a, dim=-1) + FF.log_softmax(a, -2))(X),
        ))
    assert_close(res[1], res[0], atol=1e-8)


def test_jvp_uses_forward_mode_and_falls_back():
    import dagrad.func as F_
    calls = []
    orig = F_._jvp_forward_ad

    def spy(*a):
        r = orig(*a)
        calls.append(r is not None)
        return r
    F_._jvp_forward_ad = spy
    try:
        x, t = T(dagrad, X[0]), T(dagrad, np.ones(3))
        out, jv = df.jvp(lambda x: (x.sin() * x).sum(), (x,), (t,))
        assert calls == [True]  # true forward mode
        xt = torch.tensor(X[0])
        tj = tf.jvp(lambda x: (x.sin() * x).sum(), (xt,), (torch.ones(3, dtype=torch.float64),))
        assert_close((out, jv), tj)
        # a custom Function without a jvp has no tangent rule: the double-vjp path gives the
        # same as torch's jvp of the same function
        class Sq(dagrad.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * g * x
        out, jv = df.jvp(lambda x: Sq.apply(x).sin(), (x,), (t,))
        assert calls == [True, False]
        tj = tf.jvp(lambda x: (x * x).sin(), (xt,), (torch.ones(3, dtype=torch.float64),))
        assert_close((out, jv), tj)
    finally:
        F_._jvp_forward_ad = orig


def test_model_ensembling_and_plain_method_with_batched_argument():
    res = []
    for lib, F in ((torch, tf), (dagrad, df)):
        r = np.random.RandomState(0)
        models = [lib.nn.Linear(3, 2) for _ in range(4)]
        for m in models:
            for p in m.parameters():
                p.data = T(lib, r.randn(*p.shape))
        params, bufs = F.stack_module_state(models)
        x = T(lib, r.randn(5, 3))
        out = F.vmap(lambda p, b, x: F.functional_call(models[0], (p, b), (x,)),
                     in_dims=(0, 0, None))(params, bufs, x)
        W = T(lib, r.randn(4, 3, 2))
        out2 = F.vmap(lambda w: x.matmul(w) + x[0].dot(w[:, 0]) + x.sum(1, keepdim=True).add(w.sum()))(W)
        res.append((out.detach(), out2))
    assert_close(res[1], res[0])


def test_jacrev_vectorized_multiple_outputs_and_argnums():
    def make(lib, F, w, x):
        f = lambda w, x: ((x @ w).tanh(), (w * w).sum(0))  # noqa: E731
        return F.jacrev(f, argnums=(0, 1))(w, x)
    t, d = both(make, W, X)
    assert_close(d, t)
    # and per sample, inside vmap
    def make2(lib, F, w, x):
        f = lambda w, x: (x @ w).tanh()  # noqa: E731
        return F.vmap(F.jacrev(f), in_dims=(None, 0))(w, x)
    t, d = both(make2, W, X)
    assert_close(d, t)
