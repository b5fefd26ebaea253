"""ResNet18: a torch-made checkpoint loads into dagrad; forward, backward of (pred - labels).sum()
and one SGD momentum step match torch."""

import numpy as np
import torch
from _model_helpers import TM, _close, _compare_train_step, _np, _torch_bytes  # noqa: F401

import dagrad


def test_resnet18_train_step_matches_torch():
    tm, dm = _compare_train_step("resnet18")
    # eval mode uses the running statistics
    tm.eval()
    dm.eval()
    x = np.random.default_rng(5).random((2, 3, 48, 48), dtype=np.float32)
    # after the step the logits are ~1e4 (a sum loss, lr 1e-2): compare relative to that scale
    _close(dm(dagrad.from_numpy(x)), tm(torch.from_numpy(x)), 1e-3)
