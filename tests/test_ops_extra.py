"""The OpInfo checks of tests/test_ops.py (forward in every dtype, gradients and grad_fn names
vs torch, gradcheck, gradgradcheck) run over tests/opinfo_extra.py's entries."""
import pytest

import test_ops as T
from opinfo_extra import EXTRA_OPS

CASES = [(op, i) for op in EXTRA_OPS for i in range(len(op.samples))]
IDS = [f"{op.name}-{i}" for op, i in CASES]
GRAD = [c for c in CASES if c[0].grad]
GC = [(op, i) for op, i in GRAD if op.samples[i].numel() <= op.gradcheck_max_numel]
GG = [(op, i) for op, i in GC if op.gradgrad and op.samples[i].numel() <= 16]


@pytest.mark.parametrize("op,i", CASES, ids=IDS)
def test_forward(op, i):
    T.test_forward(op, i)


@pytest.mark.parametrize("op,i", GRAD, ids=[f"{o.name}-{i}" for o, i in GRAD])
def test_grad_vs_torch(op, i):
    T.test_grad_vs_torch(op, i)


@pytest.mark.parametrize("op,i", GC, ids=[f"{o.name}-{i}" for o, i in GC])
def test_gradcheck(op, i):
    T.test_gradcheck(op, i)


@pytest.mark.parametrize("op,i", GG, ids=[f"{o.name}-{i}" for o, i in GG])
def test_gradgradcheck(op, i):
    T.test_gradgradcheck(op, i)
