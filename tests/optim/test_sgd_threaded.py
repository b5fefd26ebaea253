"""SGD with momentum on a step large enough to be split across threads gives torch's values."""
import numpy as np
import torch

import dagrad
from dagrad.optim import sgd as S


def test_threaded_momentum_matches_torch():
    rng = np.random.default_rng(0)
    shapes = [(700, 900), (512, 512, 3, 3)[:2], (1000,), (300, 2000)]
    init = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    total = sum(a.size for a in init)
    assert total >= S._PAR_MIN
    dp = [dagrad.nn.Parameter(dagrad.tensor(a)) for a in init]
    tp = [torch.nn.Parameter(torch.tensor(a)) for a in init]
    do = dagrad.optim.SGD(dp, lr=0.05, momentum=0.9)
    to = torch.optim.SGD(tp, lr=0.05, momentum=0.9)
    for step in range(3):
        grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        for p, g in zip(dp, grads):
            p.grad = dagrad.tensor(g)
        for p, g in zip(tp, grads):
            p.grad = torch.tensor(g)
        do.step()
        to.step()
    for a, b in zip(dp, tp):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-7)
    for a, b in zip(dp, tp):
        np.testing.assert_allclose(do.state[a]["momentum_buffer"].numpy(),
                                   to.state[b]["momentum_buffer"].numpy(), rtol=1e-6, atol=1e-7)


def test_split_covers_every_element_once():
    n = S._PAR_MIN * 3 + 17
    p = np.zeros(n, np.float32)
    b = np.ones(n, np.float32)
    g = np.ones(n, np.float32)
    S._momentum_all([(p, b, g), (p[:5].copy(), b[:5].copy(), g[:5].copy())], 0.5, 1.0)
    np.testing.assert_array_equal(b, np.full(n, 1.5, np.float32))   # b = b*0.5 + g
    np.testing.assert_array_equal(p, np.full(n, -1.5, np.float32))  # p += -lr*b
