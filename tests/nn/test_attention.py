"""MultiheadAttention and scaled_dot_product_attention vs torch."""
import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from nnhelp import close, copy_weights

import dagrad
import dagrad.nn as nn
import dagrad.nn.functional as F

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.uniform(-1, 1, shape).astype(np.float32)


def pair(x, rg=True):
    return (torch.tensor(x).requires_grad_(rg and x.dtype.kind == "f"),
            dagrad.tensor(x).requires_grad_(rg and x.dtype.kind == "f"))


@pytest.mark.parametrize("kw", [dict(), dict(is_causal=True), dict(scale=0.3),
                                dict(mask="bool"), dict(mask="float")])
def test_sdpa(kw):
    kw = dict(kw)
    q, k, v = rand(2, 3, 5, 4), rand(2, 3, 6, 4), rand(2, 3, 6, 4)
    if kw.get("is_causal"):
        k, v = rand(2, 3, 5, 4), rand(2, 3, 5, 4)
    mask = kw.pop("mask", None)
    (tq, dq), (tk, dk), (tv, dv) = pair(q), pair(k), pair(v)
    tm = dm = None
    if mask == "bool":
        m = RNG.uniform(0, 1, (5, 6)) > 0.3
        m[:, 0] = True
        tm, dm = torch.tensor(m), dagrad.tensor(m)
    elif mask == "float":
        m = rand(5, 6)
        tm, dm = torch.tensor(m), dagrad.tensor(m)
    to = TF.scaled_dot_product_attention(tq, tk, tv, attn_mask=tm, **kw)
    do = F.scaled_dot_product_attention(dq, dk, dv, attn_mask=dm, **kw)
    close(do, to)
    g = rand(*to.shape)
    to.backward(torch.tensor(g))
    do.backward(dagrad.tensor(g))
    for a, b in ((dq, tq), (dk, tk), (dv, tv)):
        close(a.grad, b.grad, 1e-5, 1e-4)


CONFIGS = [dict(), dict(batch_first=True), dict(bias=False), dict(add_bias_kv=True),
           dict(add_zero_attn=True), dict(kdim=3, vdim=5)]


@pytest.mark.parametrize("kw", CONFIGS, ids=[str(c) for c in CONFIGS])
@pytest.mark.parametrize("need_weights,avg", [(True, True), (True, False), (False, True)])
def test_mha(kw, need_weights, avg):
    tm, dm = tnn.MultiheadAttention(8, 2, **kw), nn.MultiheadAttention(8, 2, **kw)
    assert repr(dm) == repr(tm)
    assert [n for n, _ in dm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    copy_weights(tm, dm)
    bf = kw.get("batch_first", False)
    L, S, N = 4, 5, 3
    kd, vd = kw.get("kdim", 8), kw.get("vdim", 8)
    q = rand(N, L, 8) if bf else rand(L, N, 8)
    k = rand(N, S, kd) if bf else rand(S, N, kd)
    v = rand(N, S, vd) if bf else rand(S, N, vd)
    (tq, dq), (tk, dk), (tv, dv) = pair(q), pair(k), pair(v)
    kpm = np.zeros((N, S), dtype=bool)
    kpm[0, -1] = True
    to, tw = tm(tq, tk, tv, key_padding_mask=torch.tensor(kpm), need_weights=need_weights,
                average_attn_weights=avg)
    do, dw = dm(dq, dk, dv, key_padding_mask=dagrad.tensor(kpm), need_weights=need_weights,
                average_attn_weights=avg)
    close(do, to)
    close(dw, tw)
    g = rand(*to.shape)
    to.backward(torch.tensor(g))
    do.backward(dagrad.tensor(g))
    for a, b in ((dq, tq), (dk, tk), (dv, tv)):
        close(a.grad, b.grad, 1e-5, 1e-4)
    tp = dict(tm.named_parameters())
    for name, p in dm.named_parameters():
        close(p.grad, tp[name].grad, 1e-5, 1e-4, name)


def test_mha_self_attention_causal_mask_and_unbatched():
    tm, dm = tnn.MultiheadAttention(6, 3), nn.MultiheadAttention(6, 3)
    copy_weights(tm, dm)
    x = rand(5, 6)
    mask = np.triu(np.full((5, 5), -np.inf, dtype=np.float32), 1)
    (tx, dx) = pair(x)
    to, tw = tm(tx, tx, tx, attn_mask=torch.tensor(mask))
    do, dw = dm(dx, dx, dx, attn_mask=dagrad.tensor(mask))
    close(do, to)
    close(dw, tw)
    to.sum().backward()
    do.sum().backward()
    close(dx.grad, tx.grad, 1e-5, 1e-4)


def test_mha_init():
    m = nn.MultiheadAttention(64, 4)
    assert np.all(m.in_proj_bias.detach().numpy() == 0)
    assert np.all(m.out_proj.bias.detach().numpy() == 0)
    bound = np.sqrt(6 / (64 + 192))
    w = m.in_proj_weight.detach().numpy()
    assert w.min() >= -bound and w.max() <= bound
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
