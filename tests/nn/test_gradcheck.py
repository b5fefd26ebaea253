"""float64 finite-difference checks (gradcheck, and gradgradcheck where torch supports it)
for the nn functional ops and layers."""
import pytest

import dagrad
import dagrad.nn as nn
import dagrad.nn.functional as F
from dagrad.autograd import gradcheck, gradgradcheck


def r(*shape, rg=True, low=-1.0, high=1.0):
    return (dagrad.rand(*shape, dtype=dagrad.float64) * (high - low) + low).requires_grad_(rg)


T = dagrad.tensor


CASES = {
    "linear": (lambda x, w, b: F.linear(x, w, b), lambda: (r(4, 3), r(2, 3), r(2))),
    "linear3d": (lambda x, w: F.linear(x, w), lambda: (r(2, 4, 3), r(2, 3))),
    "bilinear": (lambda a, b, w: F.bilinear(a, b, w), lambda: (r(3, 2), r(3, 4), r(5, 2, 4))),
    "group_norm": (lambda x, w, b: F.group_norm(x, 2, w, b), lambda: (r(2, 4, 3), r(4), r(4))),
    "layer_norm_affine": (lambda x, w, b: F.layer_norm(x, (3,), w, b),
                          lambda: (r(4, 3), r(3), r(3))),
    "instance_norm": (lambda x: F.instance_norm(x), lambda: (r(2, 3, 4),)),
    "batch_norm_eval": (lambda x, w, b: F.batch_norm(
        x, dagrad.zeros(3, dtype=dagrad.float64), dagrad.ones(3, dtype=dagrad.float64), w, b,
        False), lambda: (r(4, 3), r(3), r(3))),
    "embedding": (lambda w: F.embedding(T([[0, 2], [2, 1]]), w),
                  lambda: (r(4, 3),)),
    "mse": (lambda a, b: F.mse_loss(a, b), lambda: (r(3, 4), r(3, 4))),
    "l1": (lambda a, b: F.l1_loss(a, b, reduction="sum"), lambda: (r(3, 4), r(3, 4))),
    "smooth_l1": (lambda a, b: F.smooth_l1_loss(a, b, beta=0.5), lambda: (r(3, 4), r(3, 4))),
    "huber": (lambda a, b: F.huber_loss(a, b, delta=0.3), lambda: (r(3, 4), r(3, 4))),
    "bce": (lambda a, b: F.binary_cross_entropy(a, b), lambda: (r(3, 4, low=0.1, high=0.9),
                                                             r(3, 4, rg=False, low=0, high=1))),
    "bce_logits": (lambda a, b: F.binary_cross_entropy_with_logits(
        a, b, pos_weight=T([1.0, 2.0, 0.5, 3.0], dtype=dagrad.float64)),
        lambda: (r(3, 4), r(3, 4, rg=False, low=0, high=1))),
    "kl_div": (lambda a, b: F.kl_div(a, b, reduction="batchmean"),
               lambda: (r(3, 4), r(3, 4, rg=False, low=0.1, high=1))),
    "cosine_emb": (lambda a, b: F.cosine_embedding_loss(a, b, T([1.0, -1.0, 1.0]), margin=0.1),
                   lambda: (r(3, 4), r(3, 4))),
    "ce_weighted_ignore": (lambda x: F.cross_entropy(
        x, T([0, 2, 1, 2]), weight=T([1.0, 2.0, 0.5], dtype=dagrad.float64), ignore_index=1),
        lambda: (r(4, 3),)),
    "ce_smoothing": (lambda x: F.cross_entropy(x, T([0, 2, 1, 2]), label_smoothing=0.2),
                     lambda: (r(4, 3),)),
    "ce_probs": (lambda x, p: F.cross_entropy(x, p), lambda: (r(4, 3), r(4, 3, low=0, high=1))),
    "ce_nd": (lambda x: F.cross_entropy(x, T([[0, 2], [1, 1]]), reduction="none"),
              lambda: (r(2, 3, 2),)),
    "nll": (lambda x: F.nll_loss(x, T([0, 2, 1]), reduction="sum"), lambda: (r(3, 3),)),
    "sdpa": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
             lambda: (r(2, 3, 4), r(2, 3, 4), r(2, 3, 4))),
    "normalize": (lambda x: F.normalize(x, dim=-1), lambda: (r(3, 4),)),
    "glu": (lambda x: F.glu(x), lambda: (r(3, 4),)),
    "logsigmoid": (lambda x: F.logsigmoid(x), lambda: (r(3, 4),)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name):
    fn, make = CASES[name]
    dagrad.manual_seed(0)
    inputs = make()
    assert gradcheck(fn, inputs)
    if name not in ("bce", "l1"):
        assert gradgradcheck(fn, inputs)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_recurrent_gradcheck(cls):
    m = getattr(nn, cls)(2, 3, bidirectional=True).double()
    x = r(3, 2, 2)
    assert gradcheck(lambda x: m(x)[0], (x,))


def test_mha_gradcheck():
    m = nn.MultiheadAttention(4, 2).double()
    q = r(3, 2, 4)
    assert gradcheck(lambda q: m(q, q, q)[0], (q,))
