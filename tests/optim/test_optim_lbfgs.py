"""dagrad.optim.LBFGS against torch.optim.LBFGS (with and without strong-Wolfe line search)."""
import copy

import numpy as np
import pytest
import torch

import dagrad
import dagrad.optim as dopt


def _setup(dt, ls, **kw):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3)).astype(dt)
    y = rng.standard_normal((20, 1)).astype(dt)
    w0 = rng.standard_normal((3, 1)).astype(dt)
    tw = torch.tensor(w0.copy(), requires_grad=True)
    dw = dagrad.tensor(w0.copy(), requires_grad=True)
    Xt, yt, Xd, yd = torch.tensor(X), torch.tensor(y), dagrad.tensor(X), dagrad.tensor(y)
    to = torch.optim.LBFGS([tw], lr=0.5, line_search_fn=ls, **kw)
    do = dopt.LBFGS([dw], lr=0.5, line_search_fn=ls, **kw)

    def tc():
        to.zero_grad()
        loss = (torch.tanh(Xt @ tw) - yt).pow(2).mean() + (tw ** 4).sum() * 0.01
        loss.backward()
        return loss

    def dc():
        do.zero_grad()
        loss = (dagrad.tanh(Xd @ dw) - yd).pow(2).mean() + (dw ** 4).sum() * 0.01
        loss.backward()
        return loss

    return tw, dw, to, do, tc, dc


@pytest.mark.parametrize("ls", [None, "strong_wolfe"])
@pytest.mark.parametrize("kw", [dict(history_size=5, max_iter=10), dict(max_iter=3),
                                dict(history_size=2, max_iter=7, max_eval=9)])
def test_lbfgs_float64_matches_torch(ls, kw):
    tw, dw, to, do, tc, dc = _setup(np.float64, ls, **kw)
    for _ in range(5):
        lt, ld = to.step(tc), do.step(dc)
        assert isinstance(ld, dagrad.Tensor)
        np.testing.assert_allclose(float(ld.detach()), float(lt.detach()), rtol=1e-12)
        np.testing.assert_allclose(dw.detach().numpy(), tw.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
        ts, ds = to.state[tw], do.state[dw]
        assert list(ds) == list(ts)
        assert (ds["func_evals"], ds["n_iter"]) == (ts["func_evals"], ts["n_iter"])
        assert len(ds["old_dirs"]) == len(ts["old_dirs"])


@pytest.mark.parametrize("ls", [None, "strong_wolfe"])
def test_lbfgs_float32_close_to_torch(ls):
    tw, dw, to, do, tc, dc = _setup(np.float32, ls, history_size=5, max_iter=10)
    for _ in range(3):
        to.step(tc)
        do.step(dc)
        np.testing.assert_allclose(dw.detach().numpy(), tw.detach().numpy(), rtol=1e-5,
                                   atol=5e-6)


def test_lbfgs_state_dict_round_trip_and_errors():
    tw, dw, to, do, tc, dc = _setup(np.float64, None, max_iter=4)
    do.step(dc)
    sd = copy.deepcopy(do.state_dict())
    tsd = to.state_dict()
    assert list(sd["param_groups"][0]) == list(tsd["param_groups"][0])
    dw2 = dagrad.tensor(dw.detach().numpy().copy(), requires_grad=True)
    do2 = dopt.LBFGS([dw2], lr=0.5, max_iter=4)
    do2.load_state_dict(sd)
    X = dagrad.tensor(np.random.default_rng(0).standard_normal((20, 3)))

    def make(w, o):
        def c():
            o.zero_grad()
            loss = (dagrad.tanh(X @ w) ** 2).mean() + (w ** 4).sum() * 0.01
            loss.backward()
            return loss
        return c

    for _ in range(3):
        do.step(make(dw, do))
        do2.step(make(dw2, do2))
        np.testing.assert_array_equal(dw.detach().numpy(), dw2.detach().numpy())
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        dopt.LBFGS([{"params": [dagrad.zeros(1, requires_grad=True)]},
                    {"params": [dagrad.zeros(1, requires_grad=True)]}])
    bad = dopt.LBFGS([dagrad.ones(1, requires_grad=True)], line_search_fn="armijo")
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        p = bad.param_groups[0]["params"][0]

        def c():
            bad.zero_grad()
            loss = (p ** 2).sum()
            loss.backward()
            return loss
        bad.step(c)
