"""ResNet34 (slow) / ResNet50: torch-made checkpoints, train step matching torch."""

import pytest
from _model_helpers import TM, _close, _compare_train_step, _np, _torch_bytes  # noqa: F401


@pytest.mark.slow
def test_resnet34_train_step_matches_torch():
    _compare_train_step("resnet34")


def test_resnet50_train_step_matches_torch():
    # float64: at 64x64 and batch 1, layer4's BatchNorm sees 4 values per channel and float32
    # torch itself is only ~1e-3 from float64 there, so the comparison is made in float64
    _compare_train_step("resnet50", double=True)


