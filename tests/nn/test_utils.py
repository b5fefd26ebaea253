"""nn.utils: clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters."""
import math

import numpy as np
import pytest
import torch
import torch.nn as tnn
from nnhelp import close, copy_weights

import dagrad
import dagrad.nn as nn


def _pair_with_grads():
    tm, dm = tnn.Sequential(tnn.Linear(4, 5), tnn.Linear(5, 3)), nn.Sequential(
        nn.Linear(4, 5), nn.Linear(5, 3))
    copy_weights(tm, dm)
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    (tm(torch.tensor(x)) ** 2).sum().backward()
    (dm(dagrad.tensor(x)) ** 2).sum().backward()
    return tm, dm


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm(norm_type, max_norm):
    tm, dm = _pair_with_grads()
    tn = tnn.utils.clip_grad_norm_(tm.parameters(), max_norm, norm_type)
    dn = nn.utils.clip_grad_norm_(dm.parameters(), max_norm, norm_type)
    close(dn, tn, rtol=1e-5)
    assert dn.dtype == dagrad.float32 and dn.dim() == 0
    for p, q in zip(dm.parameters(), tm.parameters()):
        close(p.grad, q.grad, rtol=1e-5, atol=1e-6)


def test_clip_grad_norm_nonfinite_and_empty():
    p = nn.Parameter(dagrad.ones(2))
    p.grad = dagrad.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    q = nn.Parameter(dagrad.ones(2))
    assert nn.utils.clip_grad_norm_([q], 1.0).item() == 0.0
    r = nn.Parameter(dagrad.ones(2))
    r.grad = dagrad.tensor([3.0, 4.0])
    n = nn.utils.clip_grad_norm_(r, 1.0)
    assert n.item() == 5.0
    np.testing.assert_allclose(r.grad.numpy(), [0.6, 0.8], rtol=1e-5)


def test_clip_grad_value():
    tm, dm = _pair_with_grads()
    tnn.utils.clip_grad_value_(tm.parameters(), 0.7)
    nn.utils.clip_grad_value_(dm.parameters(), 0.7)
    for p, q in zip(dm.parameters(), tm.parameters()):
        close(p.grad, q.grad)
        assert float(p.grad.abs().max()) <= 0.7


def test_parameters_vector_roundtrip():
    tm, dm = _pair_with_grads()
    tv = tnn.utils.parameters_to_vector(tm.parameters())
    dv = nn.utils.parameters_to_vector(dm.parameters())
    close(dv, tv)
    new = np.arange(dv.numel(), dtype=np.float32)
    tnn.utils.vector_to_parameters(torch.tensor(new), tm.parameters())
    nn.utils.vector_to_parameters(dagrad.tensor(new), dm.parameters())
    for p, q in zip(dm.parameters(), tm.parameters()):
        close(p, q)
        assert isinstance(p, nn.Parameter) and p.requires_grad
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        nn.utils.vector_to_parameters([1.0], dm.parameters())


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_old_style(dim):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = tnn.utils.weight_norm(tnn.Linear(3, 4), dim=dim)
        dm = nn.utils.weight_norm(nn.Linear(3, 4), dim=dim)
    assert list(dm.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in dm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    copy_weights(tm, dm)
    from nnhelp import run_both
    run_both(tm, dm, [np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)])
    nn.utils.remove_weight_norm(dm)
    tnn.utils.remove_weight_norm(tm)
    assert list(dm.state_dict()) == list(tm.state_dict())
    close(dm.weight, tm.weight, atol=1e-6)


@pytest.mark.parametrize("dim", [0, 1])
def test_weight_norm_parametrization(dim):
    tm = tnn.utils.parametrizations.weight_norm(tnn.Conv2d(2, 3, 3), dim=dim)
    dm = nn.utils.parametrizations.weight_norm(nn.Conv2d(2, 3, 3), dim=dim)
    assert repr(dm) == repr(tm)
    assert type(dm).__name__ == "ParametrizedConv2d"
    assert list(dm.state_dict()) == list(tm.state_dict())
    copy_weights(tm, dm)
    close(dm.weight, tm.weight, atol=1e-6)
    from nnhelp import run_both
    run_both(tm, dm, [np.random.default_rng(2).standard_normal((2, 2, 5, 5)).astype(np.float32)],
             atol=1e-5)
    nn.utils.parametrize.remove_parametrizations(dm, "weight")
    tnn.utils.parametrize.remove_parametrizations(tm, "weight")
    assert type(dm) is nn.Conv2d and repr(dm) == repr(tm)
    assert list(dm.state_dict()) == list(tm.state_dict())
    close(dm.weight, tm.weight, atol=1e-6)


def test_register_custom_parametrization():
    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

    m = nn.Linear(3, 3)
    nn.utils.parametrize.register_parametrization(m, "weight", Symmetric())
    w = m.weight.detach().numpy()
    np.testing.assert_allclose(w, w.T)
    assert nn.utils.parametrize.is_parametrized(m, "weight")
    m(dagrad.randn(2, 3)).sum().backward()
    assert m.parametrizations.weight.original.grad is not None


@pytest.mark.parametrize("cls,args,shape", [("Linear", (4, 5), (3, 4)),
                                            ("Conv2d", (2, 3, 3), (2, 2, 5, 5))])
def test_spectral_norm_parametrization(cls, args, shape):
    tm = tnn.utils.parametrizations.spectral_norm(getattr(tnn, cls)(*args))
    dm = nn.utils.parametrizations.spectral_norm(getattr(nn, cls)(*args))
    assert repr(dm) == repr(tm)
    assert list(dm.state_dict()) == list(tm.state_dict())
    copy_weights(tm, dm)  # includes the power-iteration vectors _u and _v
    from nnhelp import run_both
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    run_both(tm, dm, [x], atol=1e-5)  # training: one power iteration per forward
    for k, v in tm.state_dict().items():
        close(dm.state_dict()[k], v, atol=1e-5, msg=k)
    tm.eval()
    dm.eval()
    run_both(tm, dm, [x], atol=1e-5)
    w = dm.weight.detach().numpy().reshape(dm.weight.shape[0], -1)
    assert abs(np.linalg.svd(w, compute_uv=False)[0] - 1) < 0.05
