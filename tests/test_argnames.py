"""torch.* functions accept PyTorch's keyword names for their positional parameters."""
import inspect
import re

import numpy as np
import pytest
import torch

import dagrad
from dagrad._argnames import RENAMES


def test_every_rename_targets_a_real_parameter():
    for name, pairs in RENAMES.items():
        fn = getattr(dagrad, name)
        inner = inspect.unwrap(fn)
        params = inspect.signature(inner).parameters
        for torch_name, ours in pairs:
            assert ours in params, (name, ours)
            doc = (getattr(torch, name).__doc__ or "").strip().split("\n")[0]
            assert re.search(rf"\b{torch_name}\b", doc), (name, torch_name, doc)


X = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], dtype=np.float32)
Y = np.array([[2.0, 1.0, -1.0], [3.0, 0.5, 2.0]], dtype=np.float32)


@pytest.mark.parametrize("name,kwargs", [
    ("add", lambda m: dict(input=m.tensor(X), other=m.tensor(Y), alpha=2)),
    ("sub", lambda m: dict(input=m.tensor(X), other=m.tensor(Y))),
    ("mul", lambda m: dict(input=m.tensor(X), other=m.tensor(Y))),
    ("div", lambda m: dict(input=m.tensor(X), other=m.tensor(Y), rounding_mode="floor")),
    ("pow", lambda m: dict(input=m.tensor(X).abs(), exponent=1.5)),
    ("matmul", lambda m: dict(input=m.tensor(X), other=m.tensor(Y).t())),
    ("sum", lambda m: dict(input=m.tensor(X), dim=1)),
    ("exp", lambda m: dict(input=m.tensor(X))),
    ("clamp", lambda m: dict(input=m.tensor(X), min=0.0)),
    ("transpose", lambda m: dict(input=m.tensor(X), dim0=0, dim1=1)),
    ("gather", lambda m: dict(input=m.tensor(X), dim=1, index=m.tensor([[0, 0], [1, 2]]))),
    ("maximum", lambda m: dict(input=m.tensor(X), other=m.tensor(Y))),
    ("flatten", lambda m: dict(input=m.tensor(X))),
])
def test_keyword_call_matches_torch(name, kwargs):
    d = getattr(dagrad, name)(**kwargs(dagrad))
    t = getattr(torch, name)(**kwargs(torch))
    np.testing.assert_allclose(d.numpy(), t.numpy(), rtol=1e-6)
