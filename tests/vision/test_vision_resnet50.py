"""ResNet34 / ResNet50: torch-made checkpoints load into dagrad and match torch (the full train
steps are slow: dagrad's conv backward on ResNet50 takes ~15 s on this machine)."""
import io

import numpy as np
import pytest
import torch
from _model_helpers import TM, _close, _compare_train_step, _torch_bytes

import dagrad
from dagrad.vision import models as M


@pytest.mark.slow
def test_resnet34_train_step_matches_torch():
    _compare_train_step("resnet34", double=True)   # float32 conv1 grads: ~1% apart (BN, batch 1)


@pytest.mark.slow
def test_resnet50_train_step_matches_torch():
    # float64: at 64x64 and batch 1, layer4's BatchNorm sees 4 values per channel and float32
    # torch itself is only ~1e-3 from float64 there, so the comparison is made in float64
    _compare_train_step("resnet50", double=True)


def test_resnet50_eval_forward_matches_torch():
    torch.manual_seed(0)
    tm = TM.resnet50()
    for m in tm.modules():                      # non-trivial running statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    dm = M.resnet50()
    dm.load_state_dict(dagrad.load(io.BytesIO(_torch_bytes(tm.state_dict()))))
    tm.eval()
    dm.eval()
    x = np.random.default_rng(0).random((1, 3, 64, 64), dtype=np.float32)
    _close(dm(dagrad.from_numpy(x)), tm(torch.from_numpy(x)), 1e-4)
