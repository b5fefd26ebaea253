"""Bad input to layers raises PyTorch's exception type and message."""
import numpy as np
import pytest
import torch
import torch.nn as tnn

import dagrad
import dagrad.nn as nn

CASES = [
    ("Linear", (3, 2), (4, 5)),
    ("Linear", (3, 2), (2, 4, 5)),
    ("BatchNorm1d", (3,), (4, 5)),
    ("BatchNorm1d", (3,), (4, 3, 2, 2)),
    ("BatchNorm2d", (3,), (4, 3, 2)),
    ("BatchNorm2d", (3,), (4, 5, 2, 2)),
    ("LayerNorm", (10,), (4, 5)),
    ("LayerNorm", ((3, 4),), (2, 4, 3)),
    ("GroupNorm", (2, 4), (3, 5, 2)),
    ("InstanceNorm2d", (3,), (2, 3)),
    ("InstanceNorm2d", (3, 1e-5, 0.1, True), (2, 4, 3, 3)),
    ("Conv2d", (3, 4, 3), (2, 3)),
    ("Conv2d", (3, 4, 3), (1, 5, 8, 8)),
    ("Conv1d", (3, 4, 3), (1, 2, 8)),
    ("RNN", (3, 4), (5, 2, 2)),
    ("LSTM", (3, 4), (2, 2, 2, 3)),
]


@pytest.mark.parametrize("cls,args,shape", CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_layer_bad_input_matches_torch(cls, args, shape):
    tm, dm = getattr(tnn, cls)(*args), getattr(nn, cls)(*args)
    x = np.ones(shape, dtype=np.float32)
    with pytest.raises(Exception) as te:
        tm(torch.tensor(x))
    with pytest.raises(Exception) as de:
        dm(dagrad.tensor(x))
    assert de.type is te.type, (de.type, te.type, str(te.value))
    assert str(de.value) == str(te.value)


def test_embedding_bad_index_dtype():
    with pytest.raises(RuntimeError) as te:
        tnn.Embedding(3, 2)(torch.tensor([0.5]))
    with pytest.raises(RuntimeError) as de:
        nn.Embedding(3, 2)(dagrad.tensor([0.5]))
    assert str(de.value) == str(te.value)


def test_loss_shape_errors():
    with pytest.raises(ValueError) as te:
        tnn.BCELoss()(torch.rand(3, 2), torch.rand(3))
    with pytest.raises(ValueError) as de:
        nn.BCELoss()(dagrad.rand(3, 2), dagrad.rand(3))
    assert str(de.value) == str(te.value)
    with pytest.raises(ValueError) as te:
        tnn.BCEWithLogitsLoss()(torch.rand(3, 2), torch.rand(3))
    with pytest.raises(ValueError) as de:
        nn.BCEWithLogitsLoss()(dagrad.rand(3, 2), dagrad.rand(3))
    assert str(de.value) == str(te.value)
    with pytest.raises(RuntimeError) as te:
        tnn.CrossEntropyLoss()(torch.rand(3, 2), torch.rand(3))
    with pytest.raises(RuntimeError) as de:
        nn.CrossEntropyLoss()(dagrad.rand(3, 2), dagrad.rand(3))
    assert str(de.value) == str(te.value)


@pytest.mark.parametrize("cls,args", [("Linear", (3, 2)), ("BatchNorm1d", (3,)),
                                      ("LayerNorm", (3,))])
@pytest.mark.parametrize("dtype", ["float64", "int64"])
def test_dtype_mismatch_matches_torch(cls, args, dtype):
    if dtype == "int64" and cls != "Linear":
        pytest.skip("torch's norm kernels reject integer input with unrelated messages")
    with pytest.raises(RuntimeError) as te:
        getattr(tnn, cls)(*args)(torch.ones(2, 3, dtype=getattr(torch, dtype)))
    with pytest.raises(RuntimeError) as de:
        getattr(nn, cls)(*args)(dagrad.ones(2, 3, dtype=getattr(dagrad, dtype)))
    assert str(de.value) == str(te.value)
