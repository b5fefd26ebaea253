"""vmap over the backward pass: autograd.grad(..., is_grads_batched=True) runs ONE backward with
BatchedTensor grad_outputs; results vs torch's is_grads_batched=True and vs one backward per row;
jacobian / hessian(vectorize=True) built on it."""
import numpy as np
import pytest
import torch

import dagrad
from helpers import assert_close

RNG = np.random.RandomState(0)


def T(lib, a, rg=False):
    return lib.tensor(np.asarray(a, dtype=np.float64), requires_grad=rg)


def F(lib):
    return lib.nn.functional


GRAPHS = {
    "broadcast": (lambda L, x, y: x * y + x / y.exp(), [(3, 2), (2,)]),
    "matmul_relu": (lambda L, x, y: (x @ y).relu(), [(3, 4), (4, 2)]),
    "batched_matmul": (lambda L, x, y: x @ y, [(2, 3, 4), (4, 2)]),
    "reductions": (lambda L, x: L.stack([x.sum(), x.mean(), x.std(), x.max(),
                                         x.logsumexp(0).sum(), x.prod(), x.norm()]), [(3, 4)]),
    "softmax": (lambda L, x: x.softmax(-1) * x.log_softmax(0), [(3, 4)]),
    "indexing": (lambda L, x: x[1:, L.tensor([0, 2])] * x[0, :2].unsqueeze(0), [(3, 4)]),
    "gather_scatter": (lambda L, x: x.gather(1, L.tensor([[0, 1], [2, 3], [1, 1]])).sum(1)
                       + L.zeros(3, 5, dtype=x.dtype).scatter_add(
                           1, L.tensor([[0, 1, 1, 4]] * 3), x)[:, :3].sum(1), [(3, 4)]),
    "cat_cumsum": (lambda L, x, y: L.cat([x, y.t()], 0).cumsum(0), [(3, 2), (2, 4)]),
    "conv_pool": (lambda L, x, w: F(L).max_pool2d(F(L).conv2d(x, w, padding=1), 2)
                  + F(L).avg_pool2d(x[:, :1], 2), [(2, 3, 4, 4), (4, 3, 3, 3)]),
    "conv_variants": (lambda L, x, w, w1: F(L).conv2d(x, w, stride=2, groups=2).sum()
                      + F(L).avg_pool2d(x, 3, 2, 1, count_include_pad=False).sum()
                      + F(L).max_pool2d(x, 3, 2, 1)
                      + F(L).conv1d(x[:, :, 0], w1, padding=1).sum(-1, keepdim=True)[..., None],
                      [(2, 4, 5, 5), (6, 2, 3, 3), (4, 4, 3)]),
    "conv_no_batch_dim": (lambda L, x, w: F(L).conv2d(x, w, padding=1).tanh(),
                          [(3, 4, 4), (2, 3, 3, 3)]),
    "complex": (lambda L, x: L.view_as_real(L.complex(x, x * 2).exp() * (1 + 2j)).sum(-1),
                [(3, 2)]),
    "layer_norm": (lambda L, x, w, b: F(L).layer_norm(x, (4,), w, b), [(3, 4), (4,), (4,)]),
    "batch_norm": (lambda L, x: F(L).batch_norm(x, None, None, training=True), [(4, 3)]),
    "cross_entropy": (lambda L, x: L.stack([F(L).cross_entropy(x, L.tensor([0, 2, 1])),
                                            F(L).nll_loss(x.log_softmax(-1),
                                                          L.tensor([1, 2, 1]))]), [(3, 4)]),
    "mse_bce": (lambda L, x, y: F(L).mse_loss(x, y, reduction="none")
                + F(L).binary_cross_entropy_with_logits(x, y.sigmoid(), reduction="none"),
                [(3, 4), (3, 4)]),
    "linalg": (lambda L, x: L.linalg.inv(x @ x.mT + 3 * L.eye(3, dtype=x.dtype)).tril()
               + L.linalg.det(x), [(3, 3)]),
    "where_sort": (lambda L, x: L.where(x > 0, x.exp(), x ** 2) + x.sort(-1).values
                   * x.topk(2).values.sum(), [(3, 4)]),
    "embedding": (lambda L, w: F(L).embedding(L.tensor([[0, 2], [1, 0]]), w), [(3, 4)]),
    "embedding_freq": (lambda L, w: F(L).embedding(L.tensor([[0, 2], [0, 0]]), w,
                                                    scale_grad_by_freq=True), [(3, 4)]),
    "activations": (lambda L, x: F(L).gelu(x) + F(L).silu(x) + F(L).softplus(x) + F(L).elu(x)
                    + x.tanh() * x.sigmoid(), [(3, 4)]),
    "shapes": (lambda L, x: x.unsqueeze(0).expand(2, 3, 4).reshape(6, 4).permute(1, 0)
               .flip(0).roll(1, 1), [(3, 4)]),
    "einsum_cdist": (lambda L, x, y: L.einsum("ij,kj->ik", x, y) + L.cdist(x, y), [(3, 4),
                                                                                    (2, 4)]),
}


def _grads(L, name, B=5, create_graph=False, batched=True):
    fn, shapes = GRAPHS[name]
    rng = np.random.RandomState(1)
    xs = [T(L, rng.randn(*s), True) for s in shapes]
    out = fn(L, *xs)
    G = T(L, rng.randn(B, *tuple(out.shape)))
    if batched:
        return L.autograd.grad(out, xs, G, is_grads_batched=True, create_graph=create_graph), xs
    rows = [L.autograd.grad(out, xs, G[k], retain_graph=True, create_graph=create_graph)
            for k in range(B)]
    return tuple(L.stack([r[i] for r in rows]) for i in range(len(xs))), xs


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_is_grads_batched_matches_torch_and_the_row_loop(name):
    t, _ = _grads(torch, name)
    d, _ = _grads(dagrad, name)
    assert_close(d, t, atol=1e-10, rtol=1e-10)
    loop, _ = _grads(dagrad, name, batched=False)
    for a, b in zip(d, loop):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)
        assert not a.requires_grad


def test_one_backward_pass_each_rule_runs_once():
    """A custom Function's backward runs once for the whole batch (a loop would run it B times),
    and the graph's nodes are left as they were (no batching wrappers remain)."""
    res = []
    xa, ga = RNG.randn(3), RNG.randn(6, 3)
    for L in (torch, dagrad):
        calls = []

        class Cube(L.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, g):
                calls.append(tuple(g.shape))
                (x,) = ctx.saved_tensors
                return 3 * g * x * x
        x = T(L, xa, True)
        out = Cube.apply(x).sin()
        res.append(L.autograd.grad(out, x, T(L, ga), is_grads_batched=True,
                                   retain_graph=True))
        assert calls == [(3,)]  # one call, with the logical (per-row) shape, as in torch
        if L is dagrad:
            node = out.grad_fn
            seen = [node] + [n for n, _ in node.next_functions if n is not None]
            assert all("backward" not in n.__dict__ for n in seen)
            (g1,) = dagrad.autograd.grad(out, x, dagrad.ones(3, dtype=x.dtype))
            assert g1.shape == (3,)
    assert_close(res[1], res[0], atol=1e-12)


def test_create_graph_double_backward():
    res = []
    xa, wa = RNG.randn(3), RNG.randn(3, 3)
    for L in (torch, dagrad):
        x, w = T(L, xa, True), T(L, wa, True)
        out = (x @ w).tanh() * x.exp()
        G = T(L, np.random.RandomState(2).randn(4, 3))
        (gx, gw) = L.autograd.grad(out, (x, w), G, create_graph=True, is_grads_batched=True)
        assert gx.requires_grad and gw.requires_grad
        h = L.autograd.grad((gx ** 2).sum() + gw.sum(), (x, w))
        res.append((gx, gw, h))
    assert_close(res[1], res[0], atol=1e-10, rtol=1e-10)
    d, _ = _grads(dagrad, "conv_pool", create_graph=True)
    loop, _ = _grads(dagrad, "conv_pool", create_graph=True, batched=False)
    for a, b in zip(d, loop):
        assert a.requires_grad
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-12)


def test_allow_unused_and_materialize_grads():
    for L in (torch, dagrad):
        x, y = T(L, RNG.randn(3), True), T(L, RNG.randn(2), True)
        out = x.sin() * 2
        G = T(L, RNG.randn(4, 3))
        with pytest.raises(RuntimeError, match="index 1 appears to not have been used"):
            L.autograd.grad(out, (x, y), G, retain_graph=True, is_grads_batched=True)
        gx, gy = L.autograd.grad(out, (x, y), G, retain_graph=True, is_grads_batched=True,
                                 allow_unused=True)
        assert gy is None and tuple(gx.shape) == (4, 3)
        gx, gy = L.autograd.grad(out, (x, y), G, retain_graph=True, is_grads_batched=True,
                                 materialize_grads=True)
        # torch's quirk kept: the materialized zeros have the input's (unbatched) shape
        assert tuple(gy.shape) == (2,) and not gy.requires_grad
        gx, gy = L.autograd.grad(out, (x, y), G, is_grads_batched=True, create_graph=True,
                                 materialize_grads=True)
        assert gy.requires_grad and gx.requires_grad


def _messages(make):
    """The error type and message each library raises for make(lib)."""
    out = []
    for L in (torch, dagrad):
        with pytest.raises(Exception) as e:
            make(L)
        out.append((type(e.value).__name__, str(e.value)))
    return out


@pytest.mark.parametrize("case", ["trailing_shape", "rank", "zero_dim", "empty_batch",
                                  "batch_sizes", "none_scalar", "none_no_grad", "none_vector",
                                  "complex", "no_grad_output"])
def test_errors_like_torch(case):
    def make(L):
        x = T(L, RNG.randn(3), True)
        o1, o2 = x.sin() * 2, (x * x).sum()
        g = {"trailing_shape": [(o1,), (T(L, np.ones((4, 2))),)],
             "rank": [(o1,), (T(L, np.ones((4, 3, 1))),)],
             "zero_dim": [(o1,), (T(L, 1.0),)],
             "empty_batch": [(o1,), (T(L, np.ones((0, 3))),)],
             "batch_sizes": [(o1, o2), (T(L, np.ones((4, 3))), T(L, np.ones(5)))],
             "none_scalar": [(o1, o2), (T(L, np.ones((4, 3))), None)],
             "none_no_grad": [(o1, x.detach()), (T(L, np.ones((4, 3))), None)],
             "none_vector": [(o1,), (None,)],
             "complex": [(o1,), (L.ones(4, 3, dtype=L.complex64),)],
             "no_grad_output": [(x.detach() * 2,), (T(L, np.ones((4, 3))),)]}[case]
        L.autograd.grad(g[0], x, g[1], is_grads_batched=True)
    t, d = _messages(make)
    assert d == t


def test_mixed_dtypes_and_multiple_outputs():
    res = []
    a, b, c, e = RNG.randn(3).astype(np.float32), RNG.randn(3), RNG.randn(4, 3), RNG.randn(4)
    for L in (torch, dagrad):
        x = L.tensor(a, requires_grad=True)
        y = T(L, b, True)
        o1, o2 = x.exp(), (y * 2).sum() + (x * y).sum()
        G1, G2 = T(L, c), L.tensor(e.astype(np.float32))
        res.append(L.autograd.grad((o1, o2), (x, y), (G1, G2), is_grads_batched=True))
    assert_close(res[1], res[0], atol=1e-6)


def test_jacobian_and_hessian_vectorized_match_torch_and_the_loop():
    def f(L):
        def fn(x, w):
            return ((x @ w).tanh() * x.sum()).exp(), (w ** 2).sum(0)
        return fn

    xs = (RNG.randn(3), RNG.randn(3, 4))
    res = []
    for L in (torch, dagrad):
        args = tuple(T(L, a) for a in xs)
        res.append((L.autograd.functional.jacobian(f(L), args, vectorize=True),
                    L.autograd.functional.hessian(lambda x, w: f(L)(x, w)[0].sum(), args,
                                                  vectorize=True)))
    assert_close(res[1], res[0], atol=1e-10, rtol=1e-10)
    args = tuple(T(dagrad, a) for a in xs)
    loop = (dagrad.autograd.functional.jacobian(f(dagrad), args),
            dagrad.autograd.functional.hessian(lambda x, w: f(dagrad)(x, w)[0].sum(), args))
    for a, b in zip(_leaves(res[1]), _leaves(loop)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)
    # the function is called once (no re-running it under vmap), as in torch
    calls = []

    def counted(x):
        calls.append(1)
        return x.sin() * x.sum()
    dagrad.autograd.functional.jacobian(counted, T(dagrad, RNG.randn(5)), vectorize=True)
    assert len(calls) == 1


def test_jacobian_vectorized_create_graph():
    res = []
    xa = RNG.randn(4)
    for L in (torch, dagrad):
        x = T(L, xa, True)
        J = L.autograd.functional.jacobian(lambda a: a.sin() * a.sum(), x, create_graph=True,
                                           vectorize=True)
        assert J.requires_grad
        res.append((J, L.autograd.grad(J.sum(), x)))
    assert_close(res[1], res[0], atol=1e-10)


def _leaves(t):
    if isinstance(t, (tuple, list)):
        return [y for x in t for y in _leaves(x)]
    return [t]


def test_func_jacrev_runs_func_once_and_one_backward():
    """func.jacrev (also under vmap) runs f once and gets every row from one batched backward."""
    import torch.func as tf

    import dagrad.func as df
    calls, bwd = [], []
    xa, wa = RNG.randn(5, 3), RNG.randn(3, 4)

    class Sq(dagrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            bwd.append(1)
            (x,) = ctx.saved_tensors
            return 2 * g * x

    def f(w, x):
        calls.append(1)
        return Sq.apply((x @ w).tanh())

    def g(w, x):
        calls.append(1)
        return (x @ w).tanh() ** 2
    d = df.vmap(df.jacrev(g, argnums=(0, 1)), in_dims=(None, 0))(T(dagrad, wa), T(dagrad, xa))
    assert len(calls) == 1
    t = tf.vmap(tf.jacrev(lambda w, x: (x @ w).tanh() ** 2, argnums=(0, 1)), in_dims=(None, 0))(
        T(torch, wa), T(torch, xa))
    assert_close(d, t, atol=1e-10, rtol=1e-10)
    calls.clear()
    bwd.clear()
    d = df.jacrev(f)(T(dagrad, wa), T(dagrad, xa))
    assert len(calls) == 1 and len(bwd) == 1
    assert_close(d, tf.jacrev(lambda w, x: (x @ w).tanh() ** 2)(T(torch, wa), T(torch, xa)),
                 atol=1e-10, rtol=1e-10)


def test_rule_reading_the_gradient_array_runs_per_sample_with_a_warning():
    """EmbeddingBackward0 with scale_grad_by_freq reads the gradient's array: that node alone runs
    once per row (with functorch's performance warning), the result is still exact."""
    with pytest.warns(UserWarning, match="batching rule for EmbeddingBackward0"):
        d, _ = _grads(dagrad, "embedding_freq")
    t, _ = _grads(torch, "embedding_freq")
    assert_close(d, t, atol=1e-12)


def test_non_leaf_inputs_hooks_and_freed_graph_like_torch():
    xa, ga = RNG.randn(3), RNG.randn(4, 3)
    res = []
    for L in (torch, dagrad):
        x = T(L, xa, True)
        h = x.exp()
        o = (h * 2).sin()
        r = L.autograd.grad(o, (h, x), T(L, ga), is_grads_batched=True)
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            L.autograd.grad(o, x, T(L, ga), is_grads_batched=True)
        x = T(L, xa, True)
        h = x.exp()
        seen = []
        h.register_hook(lambda g: seen.append(tuple(g.shape)) or g * 2)
        r2 = L.autograd.grad(h.sin(), x, T(L, ga), is_grads_batched=True)
        assert seen == [(3,)]  # the hook sees one (logical) gradient, as under torch's vmap
        res.append((r, r2))
    assert_close(res[1], res[0], atol=1e-12)


# graphs whose backward still has a per-sample piece: the embedding rule with scale_grad_by_freq
# (it reads the gradient's array)
_PER_SAMPLE = {"embedding_freq": "EmbeddingBackward0"}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_the_batched_backward_is_vectorised(name):
    """No node or op of these graphs loops over the batch (no functorch fallback warning), except
    the documented ones (the fused cross-entropy rule's NumPy fast path is replaced by its
    Tensor-op path)."""
    import warnings
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        _grads(dagrad, name)
    slow = {str(w.message).split("rule for ")[1].split(". Please")[0] for w in ws
            if "performance drop" in str(w.message)}
    assert slow == ({_PER_SAMPLE[name]} if name in _PER_SAMPLE else set())


def test_vectorized_jacobian_gradcheck_float64():
    """The batched backward with create_graph: its result differentiated again matches float64
    finite differences (gradcheck of the vectorized Jacobian, and of a batched vjp)."""
    x = T(dagrad, RNG.randn(4), True)
    w = T(dagrad, RNG.randn(4, 3), True)

    def jac(x, w):
        return dagrad.autograd.functional.jacobian(
            lambda a, b: (a @ b).tanh() * a.sum(), (x, w), create_graph=True, vectorize=True)
    assert dagrad.autograd.gradcheck(jac, (x, w))
    G = T(dagrad, RNG.randn(5, 3))

    def bvjp(x, w):
        out = (x @ w).sin() * w.sum(0)
        return dagrad.autograd.grad(out, (x, w), G, create_graph=True, is_grads_batched=True)
    assert dagrad.autograd.gradcheck(bvjp, (x, w))


@pytest.mark.parametrize("create_graph", [False, True])
def test_equals_the_former_row_loop_implementation(create_graph):
    """autograd.functional._grads_batched_loop (the former is_grads_batched: one backward per
    row) gives the same gradients; unused inputs are None in both."""
    from dagrad.autograd import functional as AF
    for name in ("broadcast", "conv_pool", "conv_variants", "gather_scatter", "linalg"):
        fn, shapes = GRAPHS[name]
        rng = np.random.RandomState(7)
        xs = [T(dagrad, rng.randn(*s), True) for s in shapes]
        unused = T(dagrad, rng.randn(2), True)
        out = fn(dagrad, *xs)
        G = T(dagrad, rng.randn(3, *tuple(out.shape)))
        new = dagrad.autograd.grad(out, xs + [unused], G, is_grads_batched=True, retain_graph=True,
                                   create_graph=create_graph, allow_unused=True)
        old = AF._grads_batched_loop(dagrad.autograd.grad, [out], xs + [unused], [G],
                                     create_graph, True, False, True)
        assert new[-1] is None and old[-1] is None
        for a, b in zip(new[:-1], old[:-1]):
            assert a.requires_grad == b.requires_grad
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-12)
