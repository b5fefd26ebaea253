"""End to end: linear regression trained with dagrad autograd + dagrad.optim (+ DataLoader)."""
import numpy as np
import torch

import dagrad
import dagrad.optim as dopt
from dagrad.utils.data import DataLoader, TensorDataset


def _problem(n=256, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    w_true = rng.standard_normal((d, 1)).astype(np.float32)
    b_true = np.float32(0.7)
    y = (X @ w_true + b_true + 0.01 * rng.standard_normal((n, 1))).astype(np.float32)
    return X, y, w_true, b_true


def test_linear_regression_sgd_converges():
    X, y, w_true, b_true = _problem()
    Xd, yd = dagrad.from_numpy(X), dagrad.from_numpy(y)
    w = dagrad.zeros(5, 1, requires_grad=True)
    b = dagrad.zeros(1, requires_grad=True)
    opt = dopt.SGD([w, b], lr=0.1, momentum=0.9)
    first = None
    for _ in range(200):
        opt.zero_grad()
        loss = ((Xd @ w + b - yd) ** 2).mean()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 1e-3 < first
    np.testing.assert_allclose(w.detach().numpy(), w_true, atol=5e-3)
    np.testing.assert_allclose(b.item(), b_true, atol=5e-3)


def test_minibatch_training_with_dataloader_and_scheduler_converges():
    X, y, w_true, b_true = _problem(seed=1)
    ds = TensorDataset(dagrad.from_numpy(X), dagrad.from_numpy(y))
    loader = DataLoader(ds, batch_size=32, shuffle=True,
                        generator=dagrad.Generator().manual_seed(0))
    w = dagrad.zeros(5, 1, requires_grad=True)
    b = dagrad.zeros(1, requires_grad=True)
    opt = dopt.Adam([w, b], lr=0.1)
    sched = dopt.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    for _ in range(30):
        for xb, yb in loader:
            opt.zero_grad()
            loss = ((xb @ w + b - yb) ** 2).mean()
            loss.backward()
            opt.step()
        sched.step()
    assert sched.get_last_lr() == [0.1 * 0.5 ** 3]
    np.testing.assert_allclose(w.detach().numpy(), w_true, atol=2e-2)
    np.testing.assert_allclose(b.item(), b_true, atol=2e-2)


def test_training_loop_trajectory_equals_torch():
    """Same data, same init: dagrad autograd + optimizer follow torch's trajectory."""
    X, y, _, _ = _problem(n=64, seed=2)
    rng = np.random.default_rng(3)
    w0 = (0.1 * rng.standard_normal((5, 1))).astype(np.float32)
    for name, kw in [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
                     ("AdamW", dict(lr=0.05)), ("RMSprop", dict(lr=0.01, centered=True))]:
        tw = torch.tensor(w0.copy(), requires_grad=True)
        tb = torch.zeros(1, requires_grad=True)
        dw = dagrad.tensor(w0.copy(), requires_grad=True)
        db = dagrad.zeros(1, requires_grad=True)
        topt = getattr(torch.optim, name)([tw, tb], foreach=False, **kw)
        do = getattr(dopt, name)([dw, db], **kw)
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        Xd, yd = dagrad.from_numpy(X), dagrad.from_numpy(y)
        for step in range(25):
            topt.zero_grad()
            do.zero_grad()
            tl = ((Xt @ tw + tb - yt) ** 2).mean()
            dl = ((Xd @ dw + db - yd) ** 2).mean()
            tl.backward()
            dl.backward()
            topt.step()
            do.step()
            np.testing.assert_allclose(dw.detach().numpy(), tw.detach().numpy(), rtol=1e-5,
                                       atol=1e-6, err_msg=f"{name} step {step}")
            np.testing.assert_allclose(db.detach().numpy(), tb.detach().numpy(), rtol=1e-5,
                                       atol=1e-6)


def test_checkpoint_interchange_with_torch(tmp_path):
    """torch.save'd optimizer + scheduler state resumes in dagrad on torch's path, and back."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(4).astype(np.float32)
    tw = torch.tensor(w0.copy(), requires_grad=True)
    to = torch.optim.Adam([tw], lr=0.1, foreach=False)
    ts = torch.optim.lr_scheduler.StepLR(to, 2)
    for k in range(3):
        tw.grad = torch.ones(4) * k
        to.step()
        ts.step()
    f = tmp_path / "ck.pt"
    torch.save({"opt": to.state_dict(), "sched": ts.state_dict(), "w": tw.detach()}, f)
    ck = dagrad.load(f)
    assert isinstance(ck["opt"]["state"][0]["exp_avg"], dagrad.Tensor)
    dw = ck["w"].clone().requires_grad_(True)
    do = dopt.Adam([dw], lr=0.1)
    ds = dopt.lr_scheduler.StepLR(do, 2)
    do.load_state_dict(ck["opt"])
    ds.load_state_dict(ck["sched"])
    for k in range(3, 8):
        tw.grad = torch.ones(4) * k
        dw.grad = dagrad.ones(4) * k
        to.step()
        do.step()
        ts.step()
        ds.step()
        np.testing.assert_allclose(dw.detach().numpy(), tw.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
        assert ds.get_last_lr() == ts.get_last_lr()
    f2 = tmp_path / "ck2.pt"
    dagrad.save({"opt": do.state_dict(), "sched": ds.state_dict()}, f2)
    ck2 = torch.load(f2)
    to2 = torch.optim.Adam([tw], lr=0.1, foreach=False)
    to2.load_state_dict(ck2["opt"])
    assert to2.state_dict()["state"][0]["step"].item() == 8.0
    assert ck2["sched"] == ts.state_dict()
