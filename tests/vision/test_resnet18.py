"""ResNet18: a torch-made checkpoint loads into dagrad; forward, backward of (pred - labels).sum()
and one SGD momentum step match torch; dagrad-made checkpoints load into torch."""
import io

import numpy as np
import torch
from _model_helpers import TM, _close, _compare_train_step, _np, _torch_bytes  # noqa: F401

import dagrad
from dagrad.vision import models as M


def test_resnet18_train_step_matches_torch():
    tm, dm = _compare_train_step("resnet18")
    # eval mode uses the running statistics
    tm.eval()
    dm.eval()
    x = np.random.default_rng(5).random((2, 3, 48, 48), dtype=np.float32)
    # after the step the logits are ~1e4 (a sum loss, lr 1e-2): compare relative to that scale
    _close(dm(dagrad.from_numpy(x)), tm(torch.from_numpy(x)), 1e-3)


def test_dagrad_checkpoint_loads_in_torch():
    dagrad.manual_seed(0)
    dm = M.resnet18(num_classes=10)
    buf = io.BytesIO()
    dagrad.save(dm.state_dict(), buf)
    tm = TM.resnet18(num_classes=10)
    tm.load_state_dict(torch.load(io.BytesIO(buf.getvalue()), weights_only=True))
    dm.eval()
    tm.eval()
    x = np.random.default_rng(1).random((1, 3, 32, 32), dtype=np.float32)
    _close(dm(dagrad.from_numpy(x)), tm(torch.from_numpy(x)), 1e-4)


