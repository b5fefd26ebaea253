"""RNN / LSTM / GRU (and cells) vs torch: names, repr, outputs, hidden states, gradients."""
import numpy as np
import pytest
import torch
import torch.nn as tnn
from nnhelp import close, copy_weights, run_both

import dagrad
import dagrad.nn as nn

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


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kw", [dict(), dict(bidirectional=True, num_layers=2),
                                dict(batch_first=True)])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_sequences(cls, kw, enforce_sorted):
    from torch.nn.utils import rnn as TR

    from dagrad.nn.utils import rnn as DR
    tm, dm = getattr(tnn, cls)(3, 4, **kw), getattr(nn, cls)(3, 4, **kw)
    copy_weights(tm, dm)
    bf = kw.get("batch_first", False)
    lengths = [5, 3, 2] if enforce_sorted else [2, 5, 3]
    x = rand(3, 5, 3) if bf else rand(5, 3, 3)
    tx, dx = torch.tensor(x, requires_grad=True), dagrad.tensor(x, requires_grad=True)
    tp = TR.pack_padded_sequence(tx, lengths, batch_first=bf, enforce_sorted=enforce_sorted)
    dp = DR.pack_padded_sequence(dx, lengths, batch_first=bf, enforce_sorted=enforce_sorted)
    close(dp.data, tp.data)
    assert dp.batch_sizes.tolist() == tp.batch_sizes.tolist()
    nd = 2 if kw.get("bidirectional") else 1
    h0 = rand(kw.get("num_layers", 1) * nd, 3, 4)
    th = (torch.tensor(h0), torch.tensor(h0 * 0.5)) if cls == "LSTM" else torch.tensor(h0)
    dh = (dagrad.tensor(h0), dagrad.tensor(h0 * 0.5)) if cls == "LSTM" else dagrad.tensor(h0)
    to, thn = tm(tp, th)
    do, dhn = dm(dp, dh)
    close(do.data, to.data)
    if cls == "LSTM":
        close(dhn[0], thn[0])
        close(dhn[1], thn[1])
        tl = thn[0].sum() + thn[1].sum()
        dl = dhn[0].sum() + dhn[1].sum()
    else:
        close(dhn, thn)
        tl, dl = thn.sum(), dhn.sum()
    tpad, tlen = TR.pad_packed_sequence(to, batch_first=bf, total_length=6)
    dpad, dlen = DR.pad_packed_sequence(do, batch_first=bf, total_length=6)
    close(dpad, tpad)
    assert dlen.tolist() == tlen.tolist()
    g = rand(*tpad.shape)
    ((tpad * torch.tensor(g)).sum() + tl).backward()
    ((dpad * dagrad.tensor(g)).sum() + dl).backward()
    close(dx.grad, tx.grad, 1e-5, 1e-4)
    tp_ = dict(tm.named_parameters())
    for n_, p in dm.named_parameters():
        close(p.grad, tp_[n_].grad, 1e-5, 1e-4, n_)


def test_pack_sequence_helpers():
    from torch.nn.utils import rnn as TR

    from dagrad.nn.utils import rnn as DR
    seqs = [rand(4, 2), rand(2, 2), rand(3, 2)]
    tp = TR.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    dp = DR.pack_sequence([dagrad.tensor(s) for s in seqs], enforce_sorted=False)
    close(dp.data, tp.data)
    for a, b in zip(DR.unpack_sequence(dp), TR.unpack_sequence(tp)):
        close(a, b)
    close(DR.pad_sequence([dagrad.tensor(s) for s in seqs], batch_first=True, padding_value=-1),
          TR.pad_sequence([torch.tensor(s) for s in seqs], batch_first=True, padding_value=-1))
    close(DR.pad_sequence([dagrad.tensor(s) for s in seqs], padding_side="left"),
          TR.pad_sequence([torch.tensor(s) for s in seqs], padding_side="left"))
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        DR.pack_padded_sequence(dagrad.zeros(3, 2, 1), [1, 3])
