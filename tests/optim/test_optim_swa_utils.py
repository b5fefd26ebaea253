"""dagrad.optim.swa_utils against torch.optim.swa_utils: SWA/EMA averages, SWALR, update_bn."""
import numpy as np
import pytest
import torch

import dagrad
import dagrad.nn as dnn
from dagrad.optim import swa_utils as dswa

tswa = torch.optim.swa_utils


def _models():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                             torch.nn.Linear(4, 2))
    dm = dnn.Sequential(dnn.Linear(3, 4), dnn.BatchNorm1d(4), dnn.Linear(4, 2))
    dm.load_state_dict({k: dagrad.tensor(v.detach().numpy().copy())
                        for k, v in tm.state_dict().items()})
    return tm, dm


def _perturb(tm, dm, k):
    rng = np.random.default_rng(k)
    with torch.no_grad():
        for (_, tp), (_, dp) in zip(tm.named_parameters(), dm.named_parameters()):
            delta = rng.standard_normal(tuple(tp.shape)).astype(np.float32)
            tp.add_(torch.from_numpy(delta))
            dp._data += delta
    x = rng.standard_normal((8, 3)).astype(np.float32)
    tm(torch.from_numpy(x))  # updates BN running stats in train mode
    dm(dagrad.from_numpy(x))


@pytest.mark.parametrize("kind", ["swa", "ema_multi", "ema_fn", "swa_fn", "use_buffers"])
def test_averaged_model_matches_torch(kind):
    tm, dm = _models()
    kw_t, kw_d = {}, {}
    if kind == "ema_multi":
        kw_t["multi_avg_fn"] = tswa.get_ema_multi_avg_fn(0.9)
        kw_d["multi_avg_fn"] = dswa.get_ema_multi_avg_fn(0.9)
    elif kind == "ema_fn":
        kw_t["avg_fn"] = tswa.get_ema_avg_fn(0.8)
        kw_d["avg_fn"] = dswa.get_ema_avg_fn(0.8)
    elif kind == "swa_fn":
        kw_t["avg_fn"] = tswa.get_swa_avg_fn()
        kw_d["avg_fn"] = dswa.get_swa_avg_fn()
    elif kind == "use_buffers":
        kw_t["use_buffers"] = kw_d["use_buffers"] = True
    ta, da = tswa.AveragedModel(tm, **kw_t), dswa.AveragedModel(dm, **kw_d)
    assert isinstance(da, dnn.Module)
    assert list(da.state_dict()) == list(ta.state_dict())
    for k in range(6):
        _perturb(tm, dm, k)
        ta.update_parameters(tm)
        da.update_parameters(dm)
        tsd, dsd = ta.state_dict(), da.state_dict()
        for key, v in tsd.items():
            np.testing.assert_allclose(dsd[key].numpy(), v.numpy(), rtol=1e-5, atol=1e-6,
                                       err_msg=f"{kind} {k} {key}")
    x = np.random.default_rng(9).standard_normal((5, 3)).astype(np.float32)
    ta.eval()
    da.eval()
    np.testing.assert_allclose(da(dagrad.from_numpy(x)).detach().numpy(),
                               ta(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_update_bn_matches_torch():
    tm, dm = _models()
    rng = np.random.default_rng(1)
    data = [rng.standard_normal((6, 3)).astype(np.float32) for _ in range(4)]
    tm.eval()
    dm.eval()
    tswa.update_bn([(torch.from_numpy(x), 0) for x in data], tm)
    dswa.update_bn([(dagrad.from_numpy(x), 0) for x in data], dm)
    assert dm.training is False
    for key, v in tm.state_dict().items():
        np.testing.assert_allclose(dm.state_dict()[key].numpy(), v.numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=key)


@pytest.mark.parametrize("kw", [dict(swa_lr=0.05), dict(swa_lr=[0.05, 0.01], anneal_epochs=3,
                                                       anneal_strategy="linear"),
                                dict(swa_lr=0.02, anneal_epochs=0)])
def test_swalr_matches_torch(kw):
    topt = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)]},
                            {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.5}], lr=1.0)
    dopt = dagrad.optim.SGD([{"params": [dagrad.zeros(1, requires_grad=True)]},
                             {"params": [dagrad.zeros(1, requires_grad=True)], "lr": 0.5}],
                            lr=1.0)
    ts, ds = tswa.SWALR(topt, **kw), dswa.SWALR(dopt, **kw)
    for _ in range(15):
        topt.step()
        dopt.step()
        ts.step()
        ds.step()
        np.testing.assert_allclose(ds.get_last_lr(), ts.get_last_lr(), rtol=1e-13)
    assert list(ds.state_dict()) == list(ts.state_dict())


def test_errors_match_torch():
    for f in [lambda m: m.get_ema_avg_fn(1.5), lambda m: m.get_ema_multi_avg_fn(-0.1)]:
        with pytest.raises(ValueError) as et:
            f(tswa)
        with pytest.raises(ValueError) as ed:
            f(dswa)
        assert str(ed.value) == str(et.value)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    dopt = dagrad.optim.SGD([dagrad.zeros(1, requires_grad=True)], lr=1.0)
    for kw in [dict(anneal_strategy="exp"), dict(anneal_epochs=-1)]:
        with pytest.raises(ValueError) as et:
            tswa.SWALR(topt, 0.1, **kw)
        with pytest.raises(ValueError) as ed:
            dswa.SWALR(dopt, 0.1, **kw)
        assert str(ed.value) == str(et.value)
