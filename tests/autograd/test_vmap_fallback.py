"""vmap's per-sample fallback: ops without a batching rule run once per sample of the vmapped level
(that op only), the rest of the function keeps batching; results vs torch.func.vmap."""
import warnings

import numpy as np
import pytest
import torch
import torch.func as tf

import dagrad
import dagrad.func as df
from dagrad.func import _vmap as V
from helpers import assert_close

RNG = np.random.RandomState(0)
X = RNG.randn(4, 3, 3)
W = RNG.randn(3, 3)


def T(lib, a):
    return lib.tensor(np.asarray(a, dtype=np.float64))


def fallbacks(fn):
    """Run fn() and return (result, names of the ops that took the per-sample fallback)."""
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        r = fn()
    names = [str(w.message).split("batching rule for ")[1].split(". Please")[0]
             for w in ws if "performance drop" in str(w.message)]
    return r, names


# ops that have no batching rule today (each test checks the fallback really ran)
NO_RULE = {
    "trace": lambda L: lambda x: L.trace(x) * x,
    "cdist": lambda L: lambda x: L.cdist(x, x * 2),
    "kron": lambda L: lambda x: L.kron(x, x[:1]),
    "diag_embed": lambda L: lambda x: L.diag_embed(x[0]) + x,
    "trapezoid": lambda L: lambda x: L.trapezoid(x, dim=0),
    "pairwise_distance": lambda L: lambda x: L.nn.functional.pairwise_distance(x, x.exp()),
    "searchsorted": lambda L: lambda x: L.searchsorted(x.sort(-1).values, x[:, :1]),
    "linalg_cross": lambda L: lambda x: L.linalg.cross(x, x.flip(0)),
}
# ops that got batching rules with this work (the batch stays a leading dim of one kernel call)
RULES = {
    "tril_triu": lambda L: lambda x: x.tril() + L.triu(x, 1) * 2,
    "linalg_inv_det": lambda L: lambda x: L.linalg.inv(x + 3 * L.eye(3, dtype=x.dtype))
    + L.linalg.det(x) + L.det(x) + L.inverse(x + 3 * L.eye(3, dtype=x.dtype)),
    "logdet_chol_mexp": lambda L: lambda x: L.logdet(x @ x.mT + L.eye(3, dtype=x.dtype))
    + L.linalg.cholesky(x @ x.mT + L.eye(3, dtype=x.dtype)) + L.linalg.matrix_exp(x * 0.1),
    "gamma_family": lambda L: lambda x: L.lgamma(x.abs() + 1) + L.digamma(x.abs() + 1)
    + L.polygamma(1, x.abs() + 1) + L.i0(x),
    "special": lambda L: lambda x: L.special.ndtr(x) + L.special.erfcx(x) + L.special.i1e(x)
    + L.special.xlogy(x.abs(), x.abs() + 1) + L.special.log_ndtr(x) + L.special.entr(x.abs()),
}


@pytest.mark.parametrize("name", sorted(RULES))
def test_new_rules_match_torch_without_fallback(name):
    t = tf.vmap(RULES[name](torch))(T(torch, X))
    d, used = fallbacks(lambda: df.vmap(RULES[name](dagrad))(T(dagrad, X)))
    assert used == []
    assert_close(d, t, atol=1e-8, rtol=1e-8)


@pytest.mark.parametrize("name", sorted(NO_RULE))
def test_fallback_matches_torch_and_a_loop(name):
    t = tf.vmap(NO_RULE[name](torch))(T(torch, X))
    d, used = fallbacks(lambda: df.vmap(NO_RULE[name](dagrad))(T(dagrad, X)))
    assert used, "the function was expected to need the per-sample fallback"
    assert_close(d, t, atol=1e-10, rtol=1e-10)
    f = NO_RULE[name](dagrad)
    loop = dagrad.stack([f(T(dagrad, X[i])) for i in range(X.shape[0])])
    np.testing.assert_allclose(d.numpy(), loop.numpy(), rtol=1e-12, atol=1e-12)


def test_fallback_is_per_op_the_rest_stays_batched():
    """The function body runs once; only the rule-less op loops over the batch."""
    calls = []

    def f(x):
        calls.append(1)
        return dagrad.trace(x.exp() @ x) * x.sin().sum()
    d, used = fallbacks(lambda: df.vmap(f)(T(dagrad, X)))
    assert len(calls) == 1
    assert used == ["trace"]
    t = tf.vmap(lambda x: torch.trace(x.exp() @ x) * x.sin().sum())(T(torch, X))
    assert_close(d, t, atol=1e-10, rtol=1e-10)


def test_composite_ops_batch_through_their_parts():
    """A composite op (built from dispatching ops) needs no fallback: normalize, glu."""
    def mk(L):
        F = L.nn.functional
        return lambda x: F.normalize(x, dim=-1) + F.glu(x.reshape(9)[:8]).sum()
    t = tf.vmap(mk(torch))(T(torch, X))
    d, used = fallbacks(lambda: df.vmap(mk(dagrad))(T(dagrad, X)))
    assert used == []
    assert_close(d, t, atol=1e-10, rtol=1e-10)


def test_fallback_nested_in_dims_out_dims():
    x4 = RNG.randn(2, 4, 3, 3)

    def mk(L, F):
        inner = F.vmap(lambda a, w: L.trace(a.tril() + w) * L.kron(a, w[:1, :1]),
                       in_dims=(0, None))
        return F.vmap(inner, in_dims=(1, None), out_dims=2)
    t = mk(torch, tf)(T(torch, x4), T(torch, W))
    d, used = fallbacks(lambda: mk(dagrad, df)(T(dagrad, x4), T(dagrad, W)))
    assert "trace" in used and "kron" in used
    assert tuple(d.shape) == tuple(t.shape) == (2, 3, 4, 3)
    assert_close(d, t, atol=1e-10, rtol=1e-10)
    # the batched argument as the second operand, the first unbatched
    t = tf.vmap(lambda a: torch.kron(T(torch, W[:2, :2]), a), in_dims=2)(T(torch, X))
    d = df.vmap(lambda a: dagrad.kron(T(dagrad, W[:2, :2]), a), in_dims=2)(T(dagrad, X))
    assert_close(d, t, atol=1e-12)


def _f_loss(L):
    def f(w, x):
        A = L.linalg.inv(x @ w + 4 * L.eye(3, dtype=x.dtype))
        return (L.kron(A, x[:1, :1]).tril() * L.lgamma(x.abs() + 1)).sum() + L.trace(A * w) \
            + L.cdist(A, x).sum()
    return f


def test_vmap_grad_and_jacrev_through_fallback_ops():
    res = []
    for F, L in ((tf, torch), (df, dagrad)):
        w, x = T(L, W), T(L, X)
        res.append((F.vmap(F.grad(_f_loss(L)), in_dims=(None, 0))(w, x),
                    F.vmap(F.grad(_f_loss(L), argnums=1), in_dims=(None, 0))(w, x),
                    F.vmap(F.jacrev(_f_loss(L), argnums=(0, 1)), in_dims=(None, 0))(w, x),
                    F.vmap(F.jacrev(lambda a: L.linalg.inv(a + 4 * L.eye(3, dtype=a.dtype))))(x)))
    assert_close(res[1], res[0], atol=1e-9, rtol=1e-9)
    # per-sample gradients equal a loop of grad
    g = df.vmap(df.grad(_f_loss(dagrad)), in_dims=(None, 0))(T(dagrad, W), T(dagrad, X))
    loop = dagrad.stack([df.grad(_f_loss(dagrad))(T(dagrad, W), T(dagrad, X[i]))
                         for i in range(4)])
    np.testing.assert_allclose(g.numpy(), loop.numpy(), rtol=1e-12, atol=1e-12)


def test_fallback_gradient_float64_finite_differences():
    x = T(dagrad, X).requires_grad_(True)

    def f(x):
        return df.vmap(lambda a: dagrad.kron(dagrad.linalg.inv(a + 4 * dagrad.eye(3, dtype=a.dtype)),
                                             a[:1, :1]) * dagrad.trace(a) + dagrad.cdist(a, a * 2)
                       .sum())(x)
    assert dagrad.autograd.gradcheck(f, (x,))


def test_inplace_ops_through_the_fallback():
    def mk(L):
        def f(x):
            y = x.clone()
            y.clamp_min_(0.1)                                   # no rule: per sample
            y.index_put_((L.tensor([0, 2]),), x[1] * 2)         # no rule: per sample
            z = x.clone()
            z[:, 0] = y[1]                                      # setitem rule
            return y.sin_() + z                                 # sin_: per sample
        return f
    t = tf.vmap(mk(torch))(T(torch, X))
    d, used = fallbacks(lambda: df.vmap(mk(dagrad))(T(dagrad, X)))
    assert {"clamp_min_", "index_put_", "sin_"} <= set(used)
    assert_close(d, t, atol=1e-12)
    # gradients through the in-place fallback
    g = []
    for F, L in ((tf, torch), (df, dagrad)):
        g.append(F.vmap(F.grad(lambda x: mk(L)(x).pow(2).sum()))(T(L, X)))
    assert_close(g[1], g[0], atol=1e-10)


def test_inplace_on_unbatched_self_errors_like_torch():
    msgs = []
    for F, L in ((tf, torch), (df, dagrad)):
        with pytest.raises(RuntimeError) as e:
            F.vmap(lambda x: L.zeros(3, 3, dtype=x.dtype).lerp_(x, 0.5))(T(L, X))
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]
    with pytest.raises(RuntimeError, match=r"aten::clamp_min_\(self, \*extra_args\) is not "):
        df.vmap(lambda x: dagrad.zeros(3, 3, dtype=x.dtype).clamp_min_(x))(T(dagrad, X))


def test_randomness_flag_in_the_fallback():
    x = T(dagrad, X)
    for F, L in ((tf, torch), (df, dagrad)):
        with pytest.raises(RuntimeError, match="randomness error mode"):
            F.vmap(lambda a: a.clone().uniform_())(T(L, X))
        with pytest.raises(RuntimeError, match="randomness error mode"):
            F.vmap(lambda a: L.nn.functional.dropout(a, 0.5))(T(L, X))
    # no randomness in eval mode: no error
    out = df.vmap(lambda a: dagrad.nn.functional.rrelu(a, training=False))(x)
    assert_close(out, torch.nn.functional.rrelu(T(torch, X)))  # (torch cannot vmap rrelu)
    dagrad.manual_seed(0)
    diff = df.vmap(lambda a: a.clone().uniform_(), randomness="different")(x).numpy()
    same = df.vmap(lambda a: a.clone().uniform_(), randomness="same")(x).numpy()
    assert not np.allclose(diff[0], diff[1])
    assert np.all(same == same[0]) and same.min() >= 0 and same.max() < 1
    ones = dagrad.ones(4, 50, dtype=dagrad.float64)
    m = df.vmap(lambda a: dagrad.nn.functional.dropout(a, 0.5), randomness="same")(ones).numpy()
    assert np.all(m == m[0]) and 0 < (m[0] == 0).sum() < 50
    m = df.vmap(lambda a: dagrad.nn.functional.dropout(a, 0.5), randomness="different")(
        ones).numpy()
    assert not np.all(m == m[0])
    r = df.vmap(lambda a: dagrad.nn.functional.rrelu(a, training=True), randomness="same")(
        -dagrad.ones(4, 30, dtype=dagrad.float64)).numpy()
    assert np.all(r == r[0]) and len(np.unique(r[0])) > 1


def test_dynamic_shape_and_non_tensor_results_error_like_torch():
    for name, mk in (("nonzero", lambda L: lambda x: x.nonzero()),
                     ("equal", lambda L: lambda x: x * L.equal(x, x))):
        msgs = []
        for F, L in ((tf, torch), (df, dagrad)):
            with pytest.raises(RuntimeError) as e:
                F.vmap(mk(L))(T(L, X))
            msgs.append(str(e.value))
        assert msgs[0] == msgs[1], name
    # metadata queries are fine
    res = [F.vmap(lambda x: x.to(L.result_type(x, 1.0)) * x.is_contiguous()
                  * (1 + x.storage_offset()))(T(L, X)) for F, L in ((tf, torch), (df, dagrad))]
    assert_close(res[1], res[0])


def test_control_flow_and_item_stay_errors_inside_fallback_functions():
    with pytest.raises(RuntimeError, match="data-dependent control flow"):
        df.vmap(lambda x: dagrad.linalg.det(x) if dagrad.linalg.det(x) > 0 else x.sum())(
            T(dagrad, X))
    with pytest.raises(RuntimeError, match=r"\.item\(\)"):
        df.vmap(lambda x: dagrad.trace(x).item())(T(dagrad, X))


def test_fallback_warning_switch_and_empty_batch():
    assert V._is_vmap_fallback_warning_enabled()
    V._set_vmap_fallback_warning_enabled(False)
    try:
        _, used = fallbacks(lambda: df.vmap(lambda x: dagrad.trace(x))(T(dagrad, X)))
        assert used == []
    finally:
        V._set_vmap_fallback_warning_enabled(True)
    e = df.vmap(lambda x: dagrad.linalg.det(x) + dagrad.trace(x))(T(dagrad, X[:0]))
    assert tuple(e.shape) == (0,)


def test_namespaces_restored_after_fallback_and_errors():
    raw = (dagrad.trace, dagrad.linalg.det, dagrad.Tensor.tril, dagrad.nn.functional.normalize)
    df.vmap(lambda x: dagrad.trace(x) + dagrad.linalg.det(x))(T(dagrad, X))
    with pytest.raises(RuntimeError):
        df.vmap(lambda x: x.nonzero())(T(dagrad, X))
    assert (dagrad.trace, dagrad.linalg.det, dagrad.Tensor.tril,
            dagrad.nn.functional.normalize) == raw
    import dagrad.ops.conv as C
    assert not hasattr(C._conv_tin_op, "_vmap_raw")  # the backward helpers too
    assert not V._levels and not V._patched


def test_tensor_properties_under_vmap_like_torch():
    fns = {"real_imag": lambda L: lambda x: L.complex(x, x * 2).imag + x.real,
           "H_mH": lambda L: lambda x: x.H + x.mH * 2,
           "sizes": lambda L: lambda x: x * (x.itemsize + x.nbytes + x.is_cpu)}
    for name, mk in fns.items():
        t = tf.vmap(mk(torch))(T(torch, X))
        d = df.vmap(mk(dagrad))(T(dagrad, X))
        assert_close(d, t, msg=name)
    msgs = []
    for F, L in ((tf, torch), (df, dagrad)):
        with pytest.raises(RuntimeError) as e:
            F.vmap(lambda x: x.data)(T(L, X))
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


_det = dagrad.linalg.det      # bound before any vmap: swapped while vmapping (module global)
_tdet = torch.linalg.det


def test_ops_bound_before_vmap_still_batch():
    sin = dagrad.sin          # captured by the closure below
    trace = dagrad.trace
    t = tf.vmap(lambda x: _tdet(x) * torch.sin(x) * torch.trace(x))(T(torch, X))
    d, used = fallbacks(lambda: df.vmap(lambda x: _det(x) * sin(x) * trace(x))(T(dagrad, X)))
    assert used == ["trace"]   # sin and det batched by their rules, trace by the fallback
    assert_close(d, t, atol=1e-12)
    assert _det is dagrad.linalg.det and globals()["_det"] is dagrad.linalg.det  # restored


class _Holder:
    op = staticmethod(dagrad.trace)   # reached through an object: not swappable


def test_whole_function_fallback_as_the_last_resort():
    calls = []

    def f(x, w):
        calls.append(1)
        return _Holder.op(x) * (x @ w)
    with pytest.warns(UserWarning, match="running it once per sample"):
        d = df.vmap(f, in_dims=(2, None), out_dims=1)(T(dagrad, X), T(dagrad, W))
    t = tf.vmap(lambda x, w: torch.trace(x) * (x @ w), in_dims=(2, None), out_dims=1)(
        T(torch, X), T(torch, W))
    assert_close(d, t, atol=1e-12)
    assert len(calls) == 1 + 3   # the batched attempt, then once per sample


def test_fill_with_a_batched_value():
    res = [F.vmap(lambda x: x.clone().fill_(x[0, 0]) * 2)(T(L, X))
           for F, L in ((tf, torch), (df, dagrad))]
    assert_close(res[1], res[0])


def test_tensor_lists_as_keywords():
    res = [F.vmap(lambda x: L.stack(tensors=[x, x * 2], dim=1).sum() + L.cat(tensors=[x, x]))(
        T(L, X)) for F, L in ((tf, torch), (df, dagrad))]
    assert_close(res[1], res[0])


def test_whole_function_fallback_keeps_the_randomness_flag():
    def f(x):
        return _Holder.op(x) + dagrad.rand(1, dtype=x.dtype)
    with pytest.warns(UserWarning, match="running it once per sample"):
        with pytest.raises(RuntimeError, match="randomness error mode"):
            df.vmap(f)(T(dagrad, X))
    with pytest.warns(UserWarning, match="running it once per sample"):
        same = df.vmap(f, randomness="same")(T(dagrad, X)).numpy()
        diff = df.vmap(f, randomness="different")(T(dagrad, X)).numpy()
    tr = np.trace(X, axis1=1, axis2=2)
    assert np.allclose(same - tr[:, None], (same - tr[:, None])[0])
    assert not np.allclose(diff - tr[:, None], (diff - tr[:, None])[0])


def test_per_sample_grads_of_a_module_holding_an_op():
    """A module that stores `torch.tanh` as an attribute: the op escapes the swap, the whole
    function runs per sample (warned) and the per-sample gradients are still torch's."""
    rng = np.random.RandomState(3)
    xs, ys = rng.randn(5, 4).astype(np.float32), rng.randn(5, 2).astype(np.float32)
    res = []
    for L, F in ((torch, tf), (dagrad, df)):
        class M(L.nn.Module):
            def __init__(self):
                super().__init__()
                self.l1, self.l2, self.act = L.nn.Linear(4, 8), L.nn.Linear(8, 2), L.tanh

            def forward(self, x):
                return self.l2(self.act(self.l1(x)))
        m = M()
        params = {k: L.tensor(np.random.RandomState(len(k)).randn(*v.shape).astype(np.float32))
                  for k, v in m.named_parameters()}

        def loss(p, x, y):
            return ((F.functional_call(m, p, (x,)) - y) ** 2).sum()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res.append(F.vmap(F.grad(loss), in_dims=(None, 0, 0))(params, L.tensor(xs),
                                                                  L.tensor(ys)))
    for k in res[0]:
        assert_close(res[1][k], res[0][k], atol=1e-5)
