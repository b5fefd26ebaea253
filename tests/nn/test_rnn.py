"""RNN / LSTM / GRU (and cells) vs torch: names, repr, outputs, hidden states, gradients."""
import numpy as np
import pytest
import torch
import torch.nn as tnn

import dagrad
import dagrad.nn as nn
from nnhelp import close, copy_weights, run_both

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.uniform(-1, 1, shape).astype(np.float32)


CONFIGS = [dict(), dict(num_layers=2), dict(batch_first=True), dict(bidirectional=True),
           dict(num_layers=2, bidirectional=True, batch_first=True), dict(bias=False)]


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kw", CONFIGS, ids=[str(c) for c in CONFIGS])
def test_recurrent_matches_torch(cls, kw):
    tm, dm = getattr(tnn, cls)(3, 5, **kw), getattr(nn, cls)(3, 5, **kw)
    assert repr(dm) == repr(tm)
    assert [n for n, _ in dm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    copy_weights(tm, dm)
    shape = (2, 4, 3) if kw.get("batch_first") else (4, 2, 3)
    run_both(tm, dm, [rand(*shape)], atol=1e-5)
    # given initial state
    nd = 2 if kw.get("bidirectional") else 1
    h0 = rand(kw.get("num_layers", 1) * nd, 2, 5)
    if cls == "LSTM":
        c0 = rand(*h0.shape)
        to = tm(torch.tensor(rand(*shape) if False else np.ones(shape, np.float32)),
                (torch.tensor(h0), torch.tensor(c0)))
        do = dm(dagrad.ones(shape), (dagrad.tensor(h0), dagrad.tensor(c0)))
        close(do[0], to[0])
        close(do[1][0], to[1][0])
        close(do[1][1], to[1][1])
    else:
        to = tm(torch.ones(shape), torch.tensor(h0))
        do = dm(dagrad.ones(shape), dagrad.tensor(h0))
        close(do[0], to[0])
        close(do[1], to[1])


def test_relu_rnn_unbatched_and_proj_lstm():
    tm, dm = tnn.RNN(3, 4, nonlinearity="relu"), nn.RNN(3, 4, nonlinearity="relu")
    copy_weights(tm, dm)
    run_both(tm, dm, [rand(6, 3)])
    tm, dm = tnn.LSTM(3, 6, proj_size=2, num_layers=2), nn.LSTM(3, 6, proj_size=2, num_layers=2)
    assert repr(dm) == repr(tm)
    assert [n for n, _ in dm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    copy_weights(tm, dm)
    run_both(tm, dm, [rand(5, 2, 3)])
    tm, dm = tnn.GRU(3, 4, 2), nn.GRU(3, 4, 2)
    copy_weights(tm, dm)
    run_both(tm, dm, [rand(5, 3)])  # unbatched


def test_dropout_between_layers_only_in_training():
    m = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    m.eval()
    x = dagrad.randn(5, 2, 3)
    a = m(x)[0].detach().numpy()
    b = m(x)[0].detach().numpy()
    np.testing.assert_array_equal(a, b)
    m.train()
    c = m(x)[0].detach().numpy()
    assert not np.allclose(a, c)


def test_rnn_errors_match_torch():
    cases = [("RNN", dagrad.randn(2, 2, 2, 3), torch.randn(2, 2, 2, 3)),
             ("LSTM", dagrad.randn(2, 2, 2, 3), torch.randn(2, 2, 2, 3)),
             ("GRU", dagrad.randn(2, 2, 2, 3), torch.randn(2, 2, 2, 3)),
             ("GRU", dagrad.randn(5, 2, 2), torch.randn(5, 2, 2))]
    for cls, dx, tx in cases:
        with pytest.raises((ValueError, RuntimeError)) as te:
            getattr(tnn, cls)(3, 4)(tx)
        with pytest.raises(te.type) as de:
            getattr(nn, cls)(3, 4)(dx)
        assert str(de.value) == str(te.value)
    with pytest.raises(RuntimeError) as te:
        tnn.RNN(3, 4)(torch.randn(5, 2, 3), torch.randn(1, 3, 4))
    with pytest.raises(RuntimeError) as de:
        nn.RNN(3, 4)(dagrad.randn(5, 2, 3), dagrad.randn(1, 3, 4))
    assert str(de.value) == str(te.value)
    with pytest.raises(RuntimeError) as te:
        tnn.LSTM(3, 4)(torch.randn(5, 2, 3), (torch.randn(1, 3, 4), torch.randn(1, 2, 4)))
    with pytest.raises(RuntimeError) as de:
        nn.LSTM(3, 4)(dagrad.randn(5, 2, 3), (dagrad.randn(1, 3, 4), dagrad.randn(1, 2, 4)))
    assert str(de.value) == str(te.value)


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells(cls):
    tm, dm = getattr(tnn, cls)(3, 4), getattr(nn, cls)(3, 4)
    assert repr(dm) == repr(tm)
    copy_weights(tm, dm)
    run_both(tm, dm, [rand(2, 3)])
    run_both(tm, dm, [rand(3)])
