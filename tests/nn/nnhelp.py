"""Shared helpers for the nn tests: copy a torch module's weights into a dagrad module and
compare outputs and gradients."""
import numpy as np
import torch

import dagrad


def copy_weights(tm, dm):
    """Load torch module tm's state into dagrad module dm through NumPy arrays."""
    sd = {k: dagrad.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    r = dm.load_state_dict(sd)
    assert repr(r) == "<All keys matched successfully>"


def close(d, t, atol=1e-5, rtol=1e-4, msg=""):
    if t is None:
        assert d is None, msg
        return
    assert d is not None, msg
    a = d.detach().numpy() if isinstance(d, dagrad.Tensor) else np.asarray(d)
    b = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    assert a.shape == b.shape, f"{msg}: shape {a.shape} != {b.shape}"
    np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), atol=atol, rtol=rtol,
                               err_msg=msg, equal_nan=True)


def run_both(tm, dm, inputs, atol=1e-5, rtol=1e-4, grad=True, out_index=None, upstream_seed=1):
    """Run torch module tm and dagrad module dm (same weights) on NumPy `inputs`; compare the
    outputs, the input gradients and the parameter gradients."""
    tin, din = [], []
    for x in inputs:
        x = np.asarray(x)
        rg = grad and x.dtype.kind == "f"
        t = torch.from_numpy(x.copy()).requires_grad_(rg)
        d = dagrad.from_numpy(x.copy()).requires_grad_(rg)
        tin.append(t)
        din.append(d)
    to = tm(*tin)
    do = dm(*din)
    if out_index is not None:
        to, do = to[out_index], do[out_index]
    if isinstance(to, tuple):
        touts, douts = list(to), list(do)
    else:
        touts, douts = [to], [do]
    flat_t, flat_d = [], []
    for a, b in zip(touts, douts):
        if isinstance(a, tuple):
            flat_t += list(a)
            flat_d += list(b)
        else:
            flat_t.append(a)
            flat_d.append(b)
    for i, (a, b) in enumerate(zip(flat_d, flat_t)):
        close(a, b, atol, rtol, f"output {i}")
    if not grad:
        return
    rng = np.random.default_rng(upstream_seed)
    tl, dl = 0, 0
    for a, b in zip(flat_d, flat_t):
        if not b.requires_grad:
            continue
        g = rng.standard_normal(tuple(b.shape)).astype(b.detach().numpy().dtype)
        tl = tl + (b * torch.from_numpy(g)).sum()
        dl = dl + (a * dagrad.from_numpy(g)).sum()
    if isinstance(tl, int):
        return
    tl.backward()
    dl.backward()
    for i, (a, b) in enumerate(zip(din, tin)):
        if b.requires_grad:
            close(a.grad, b.grad, atol * 10, rtol * 10, f"input grad {i}")
    tp = dict(tm.named_parameters())
    for name, p in dm.named_parameters():
        close(p.grad, tp[name].grad, atol * 10, rtol * 10, f"grad of {name}")
