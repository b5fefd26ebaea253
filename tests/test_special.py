"""dagrad.special against torch.special 2.13: values over wide ranges, dtypes, gradients
(vs torch and float64 gradcheck), node names, top-level aliases (lgamma, digamma, ...)."""
import math
import warnings

import numpy as np
import pytest
import torch

import dagrad
from dagrad.autograd import gradcheck

WIDE = np.concatenate([np.linspace(-40, 40, 161), [1e-3, 0.1, 0.5, 2.5, 7.3, 29.9, 30.1]])
POS = np.concatenate([np.linspace(0.01, 40, 80), [1e-4, 0.5, 1, 2, 3, 100, 1e3]])
GAMMA_DOMAIN = np.concatenate([POS, [-3.5, -2.2, -0.5, -1.1, -0.01]])
UNIT = np.array([1e-10, 1e-4, 0.01, 0.3, 0.5, 0.9, 0.999999, 0.0, 1.0])

VALUES = [
    ("erf", lambda S, x: S.erf(x), WIDE, 1e-6),
    ("erfc", lambda S, x: S.erfc(x), np.linspace(-5, 5, 41), 1e-6),
    ("erfcx", lambda S, x: S.erfcx(x), WIDE, 1e-12),
    ("erfinv", lambda S, x: S.erfinv(x), np.linspace(-0.99, 0.99, 21), 1e-8),
    ("expit", lambda S, x: S.expit(x), WIDE, 1e-12),
    ("logit", lambda S, x: S.logit(x), UNIT, 1e-10),
    ("logit_eps", lambda S, x: S.logit(x, eps=1e-3), UNIT, 1e-10),
    ("entr", lambda S, x: S.entr(x), WIDE, 1e-12),
    ("ndtr", lambda S, x: S.ndtr(x), WIDE, 1e-12),
    ("ndtri", lambda S, x: S.ndtri(x), UNIT, 1e-8),
    ("log_ndtr", lambda S, x: S.log_ndtr(x), WIDE, 1e-11),
    ("i0", lambda S, x: S.i0(x), WIDE, 1e-12),
    ("i0e", lambda S, x: S.i0e(x), WIDE, 1e-12),
    ("i1", lambda S, x: S.i1(x), WIDE, 1e-12),
    ("i1e", lambda S, x: S.i1e(x), WIDE, 1e-12),
    ("gammaln", lambda S, x: S.gammaln(x), GAMMA_DOMAIN, 1e-12),
    ("digamma", lambda S, x: S.digamma(x), GAMMA_DOMAIN, 1e-12),
    ("psi", lambda S, x: S.psi(x), POS, 1e-12),
    ("polygamma1", lambda S, x: S.polygamma(1, x), GAMMA_DOMAIN, 1e-8),
    ("polygamma2", lambda S, x: S.polygamma(2, x), GAMMA_DOMAIN, 1e-10),
    ("polygamma4", lambda S, x: S.polygamma(4, x), POS, 1e-10),
    ("multigammaln", lambda S, x: S.multigammaln(x, 3), POS + 1.0, 1e-12),
    ("zeta", lambda S, x: S.zeta(x, 2.5), np.array([1.5, 2.0, 3.0, 7.5, 0.5, 1.0]), 1e-12),
    ("xlogy", lambda S, x: S.xlogy(x, 2.5), WIDE, 1e-12),
    ("xlog1py", lambda S, x: S.xlog1py(x, x.abs()), WIDE, 1e-12),
    ("sinc", lambda S, x: S.sinc(x), WIDE, 1e-10),
    ("softmax", lambda S, x: S.softmax(x.reshape(-1, 7), 1), WIDE[:161], 1e-12),
    ("log_softmax", lambda S, x: S.log_softmax(x.reshape(-1, 7), 0), WIDE[:161], 1e-12),
    ("logsumexp", lambda S, x: S.logsumexp(x, 0), WIDE, 1e-12),
    ("exp2_expm1_log1p", lambda S, x: S.exp2(x) + S.expm1(x) + S.log1p(x.abs()),
     np.linspace(-5, 5, 21), 1e-12),
    ("round", lambda S, x: S.round(x * 3.3), WIDE, 0),
]


@pytest.mark.parametrize("name,fn,arr,rtol", VALUES, ids=[v[0] for v in VALUES])
@pytest.mark.parametrize("dt", ["float64", "float32"])
def test_values(name, fn, arr, rtol, dt):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = fn(torch.special, torch.tensor(arr.astype(dt)))
        d = fn(dagrad.special, dagrad.tensor(arr.astype(dt)))
    assert str(d.dtype) == str(t.dtype)
    tn, dn = t.numpy().astype(np.float64), d.numpy().astype(np.float64)
    np.testing.assert_array_equal(np.isfinite(dn), np.isfinite(tn), err_msg=name)
    np.testing.assert_array_equal(np.isnan(dn), np.isnan(tn), err_msg=name)
    fin = np.isfinite(tn)
    tol = max(rtol, 2e-6) if dt == "float32" else rtol
    atol = 1e-6 if dt == "float32" else tol * 1e-3  # torch computes float32 tails in float32
    np.testing.assert_allclose(dn[fin], tn[fin], rtol=tol, atol=atol, err_msg=name)


def test_integer_inputs_promote():
    for f in ("entr", "ndtr", "i0", "i1e", "gammaln", "digamma", "erfcx", "log_ndtr"):
        t = getattr(torch.special, f)(torch.tensor([1, 2, 3]))
        d = getattr(dagrad.special, f)(dagrad.tensor([1, 2, 3]))
        assert str(d.dtype) == str(t.dtype), f
        np.testing.assert_allclose(d.numpy(), t.numpy(), rtol=1e-6)


GRADS = [
    ("entr", lambda S, x: S.entr(x), POS[:40]),
    ("ndtr", lambda S, x: S.ndtr(x), np.linspace(-4, 4, 17)),
    ("ndtri", lambda S, x: S.ndtri(x), UNIT[1:6]),
    ("log_ndtr", lambda S, x: S.log_ndtr(x), np.linspace(-30, 8, 20)),
    ("erfcx", lambda S, x: S.erfcx(x), np.linspace(-3, 20, 24)),
    ("i0", lambda S, x: S.i0(x), np.linspace(-35, 35, 15)),
    ("i0e", lambda S, x: S.i0e(x), np.linspace(-35, 35, 15)),
    ("i1", lambda S, x: S.i1(x), np.linspace(-35, 35, 14)),
    ("i1e", lambda S, x: S.i1e(x), np.linspace(-35, 35, 14)),
    ("gammaln", lambda S, x: S.gammaln(x), GAMMA_DOMAIN[:-1]),
    ("digamma", lambda S, x: S.digamma(x), GAMMA_DOMAIN[:-1]),
    ("polygamma2", lambda S, x: S.polygamma(2, x), POS[:30]),
    ("multigammaln", lambda S, x: S.multigammaln(x, 2), POS[:30] + 1),
    ("expit", lambda S, x: S.expit(x), np.linspace(-5, 5, 9)),
    ("xlog1py", lambda S, x: S.xlog1py(x, x * x), np.linspace(-2, 2, 9)),
]


@pytest.mark.parametrize("name,fn,arr", GRADS, ids=[g[0] for g in GRADS])
def test_gradients(name, fn, arr):
    t = torch.tensor(arr, requires_grad=True)
    d = dagrad.tensor(arr, requires_grad=True)
    w = np.linspace(-1, 1, arr.size)
    (fn(torch.special, t) * torch.tensor(w)).sum().backward()
    (fn(dagrad.special, d) * dagrad.tensor(w)).sum().backward()
    np.testing.assert_allclose(d.grad.numpy(), t.grad.numpy(), rtol=1e-7, atol=1e-9,
                               err_msg=name)
    assert fn(dagrad.special, d).grad_fn.name() == fn(torch.special, t).grad_fn.name()
    small = dagrad.tensor(arr[: min(6, arr.size)], requires_grad=True)
    assert gradcheck(lambda x: fn(dagrad.special, x), [small], eps=1e-6, atol=1e-5, rtol=1e-3)


def test_top_level_aliases_and_methods():
    a = np.array([0.3, 1.7, 4.0])
    t, d = torch.tensor(a), dagrad.tensor(a)
    for name in ("lgamma", "digamma", "i0"):
        np.testing.assert_allclose(getattr(dagrad, name)(d).numpy(),
                                   getattr(torch, name)(t).numpy(), rtol=1e-12)
        np.testing.assert_allclose(getattr(d, name)().numpy(), getattr(t, name)().numpy(),
                                   rtol=1e-12)
    np.testing.assert_allclose(dagrad.polygamma(1, d).numpy(), torch.polygamma(1, t).numpy(),
                               rtol=1e-9)
    np.testing.assert_allclose(d.polygamma(2).numpy(), t.polygamma(2).numpy(), rtol=1e-9)
    np.testing.assert_allclose(dagrad.mvlgamma(d + 1, 2).numpy(), torch.mvlgamma(t + 1, 2).numpy(),
                               rtol=1e-12)
    e = d.clone()
    e.lgamma_()
    np.testing.assert_allclose(e.numpy(), torch.lgamma(t).numpy(), rtol=1e-12)


def test_errors_and_edges():
    for lib in (torch, dagrad):
        with pytest.raises(RuntimeError):
            lib.special.multigammaln(lib.tensor([2.0]), 0)
    np.testing.assert_allclose(dagrad.special.multigammaln(dagrad.tensor([0.1, 1.2]), 3).numpy(),
                               torch.special.multigammaln(torch.tensor([0.1, 1.2]), 3).numpy(),
                               rtol=1e-5)
    assert math.isinf(dagrad.special.gammaln(dagrad.tensor(0.0)).item())
    assert dagrad.special.digamma(dagrad.tensor(0.0)).item() == \
        torch.special.digamma(torch.tensor(0.0)).item()
