"""dagrad.optim.Muon against torch.optim.Muon (bfloat16 Newton-Schulz emulated in float32)."""
import numpy as np
import pytest
import torch
from torch.optim._muon import _zeropower_via_newtonschulz as t_ns

import dagrad
import dagrad.optim as dopt
from dagrad.optim._muon import _zeropower_via_newtonschulz as d_ns

COEF = (3.4445, -4.7750, 2.0315)


@pytest.mark.parametrize("shape,atol", [((4, 6), 2e-3), ((8, 3), 2e-3), ((32, 64), 2e-3),
                                        ((100, 20), 2e-3)])
@pytest.mark.parametrize("kw", [dict(lr=0.02), dict(lr=0.02, nesterov=False,
                                                    adjust_lr_fn="match_rms_adamw"),
                                dict(lr=0.05, weight_decay=0.0, momentum=0.9, ns_steps=3)])
def test_muon_trajectory_matches_torch(shape, atol, kw):
    """Parameters agree to bfloat16 rounding of the orthogonalised update (PyTorch's bf16
    matmul accumulation order differs from float32-then-round); usually far closer."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(shape).astype(np.float32)
    tw = torch.tensor(w0.copy(), requires_grad=True)
    dw = dagrad.tensor(w0.copy(), requires_grad=True)
    to, do = torch.optim.Muon([tw], **kw), dopt.Muon([dw], **kw)
    for _ in range(25):
        g = rng.standard_normal(shape).astype(np.float32)
        tw.grad, dw.grad = torch.tensor(g), dagrad.tensor(g)
        to.step()
        do.step()
        np.testing.assert_allclose(dw.detach().numpy(), tw.detach().numpy(), atol=atol,
                                   rtol=1e-5)
    np.testing.assert_allclose(do.state[dw]["momentum_buffer"].numpy(),
                               to.state[tw]["momentum_buffer"].numpy(), rtol=1e-5, atol=1e-6)
    assert list(do.state_dict()["param_groups"][0]) == list(to.state_dict()["param_groups"][0])


def test_newton_schulz_orthogonalises_like_torch():
    rng = np.random.default_rng(1)
    for shape in [(5, 7), (16, 4), (30, 30)]:
        g = rng.standard_normal(shape).astype(np.float32)
        t = t_ns(torch.tensor(g), COEF, 5, 1e-7).float().numpy()
        d = d_ns(g, COEF, 5, 1e-7)
        np.testing.assert_allclose(d, t, atol=2e-2)
        if shape[0] <= 7:
            np.testing.assert_allclose(d, t, atol=1e-6)


def test_muon_errors_match_torch():
    def both(f):
        with pytest.raises(Exception) as et:
            f(torch, torch.optim)
        with pytest.raises(Exception) as ed:
            f(dagrad, dopt)
        assert type(ed.value) is type(et.value)
        assert str(ed.value) == str(et.value)

    both(lambda m, o: o.Muon([m.zeros(3, requires_grad=True)]))
    both(lambda m, o: o.Muon([m.zeros(2, 2, requires_grad=True)], lr=-1.0))
    both(lambda m, o: o.Muon([m.zeros(2, 2, requires_grad=True)], momentum=-1.0))
    both(lambda m, o: o.Muon([m.zeros(2, 2, requires_grad=True)], adjust_lr_fn="x"))
