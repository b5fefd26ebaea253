"""Transformer modules vs torch (dropout 0, same weights): repr, names, outputs, gradients."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn as tnn
from nnhelp import close, copy_weights

import dagrad
import dagrad.nn as nn

RNG = np.random.default_rng(0)
warnings.filterwarnings("ignore", message="enable_nested_tensor is True")


def rand(*shape):
    return RNG.uniform(-1, 1, shape).astype(np.float32)


@pytest.mark.parametrize("kw", [dict(), dict(norm_first=True), dict(activation="gelu"),
                                dict(batch_first=True)])
def test_encoder_layer(kw):
    tm = tnn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kw)
    dm = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kw)
    assert repr(dm) == repr(tm)
    copy_weights(tm, dm)
    x = rand(3, 5, 8)
    kpm = np.zeros((5, 3) if not kw.get("batch_first") else (3, 5), dtype=bool)
    kpm[0, -1] = True
    if not kw.get("batch_first"):
        kpm = np.zeros((5, 3), dtype=bool)
        kpm[1, -1] = True
    tx, dx = torch.tensor(x, requires_grad=True), dagrad.tensor(x, requires_grad=True)
    tm.train()
    dm.train()
    to = tm(tx, src_key_padding_mask=torch.tensor(kpm))
    do = dm(dx, src_key_padding_mask=dagrad.tensor(kpm))
    close(do, to, 1e-5, 1e-4)
    g = rand(*to.shape)
    to.backward(torch.tensor(g))
    do.backward(dagrad.tensor(g))
    close(dx.grad, tx.grad, 1e-4, 1e-3)
    tp = dict(tm.named_parameters())
    for n, p in dm.named_parameters():
        close(p.grad, tp[n].grad, 1e-4, 1e-3, n)


def test_full_transformer_with_causal_mask():
    tm = tnn.Transformer(8, 2, 2, 1, 16, dropout=0.0)
    dm = nn.Transformer(8, 2, 2, 1, 16, dropout=0.0)
    assert repr(dm) == repr(tm)
    assert list(dm.state_dict()) == list(tm.state_dict())
    copy_weights(tm, dm)
    src, tgt = rand(6, 2, 8), rand(4, 2, 8)
    tmask = tnn.Transformer.generate_square_subsequent_mask(4)
    dmask = nn.Transformer.generate_square_subsequent_mask(4)
    close(dmask, tmask)
    ts, ds = torch.tensor(src, requires_grad=True), dagrad.tensor(src, requires_grad=True)
    to = tm(ts, torch.tensor(tgt), tgt_mask=tmask)
    do = dm(ds, dagrad.tensor(tgt), tgt_mask=dmask)
    close(do, to, 1e-5, 1e-4)
    to.sum().backward()
    do.sum().backward()
    close(ds.grad, ts.grad, 1e-4, 1e-3)


def test_transformer_init_xavier():
    m = nn.Transformer(16, 2, 1, 1, 32)
    w = m.encoder.layers[0].linear1.weight.detach().numpy()
    bound = np.sqrt(6 / (16 + 32))
    assert w.min() >= -bound and w.max() <= bound
    assert m.encoder.layers[0].linear1 is not m.encoder.layers[0].linear2
