"""Pretrained weights through the hub cache (torch's cache reused, old checkpoints without
num_batches_tracked)."""

import io

import numpy as np
import pytest
import torch
from _model_helpers import TM, _close, _compare_train_step, _np, _torch_bytes  # noqa: F401

import dagrad
from dagrad.vision import models as M


# ------------------------------------------------------------ pretrained weights via the cache
@pytest.fixture()
def homes(tmp_path, monkeypatch):
    from dagrad import hub
    monkeypatch.setenv("DAGRAD_HOME", str(tmp_path / "dagrad_home"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setattr(hub, "_hub_dir", None)
    return tmp_path


@pytest.mark.parametrize("drop_tracked", [False, True])
def test_pretrained_resnet18_from_torch_cache(homes, drop_tracked):
    torch.manual_seed(1)
    tm = TM.resnet18()
    sd = tm.state_dict()
    if drop_tracked:   # old checkpoints (like torchvision's file) lack num_batches_tracked
        sd = {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}
    folder = homes / "torch_home" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.save(sd, folder / "resnet18-f37072fd.pth")
    dm = M.resnet18(weights=M.ResNet18_Weights.DEFAULT)
    tm.load_state_dict(sd)
    tm.eval()
    dm.eval()
    x = np.random.default_rng(3).random((1, 3, 64, 64), dtype=np.float32)
    _close(dm(dagrad.from_numpy(x)), tm(torch.from_numpy(x)), 1e-4)
    assert dm.bn1.num_batches_tracked.item() == tm.bn1.num_batches_tracked.item()
    dm2 = M.resnet18(weights="IMAGENET1K_V1", progress=False)
    _close(dm2.fc.weight, tm.fc.weight, 0)


def test_pretrained_true_legacy_argument(homes):
    torch.manual_seed(1)
    folder = homes / "dagrad_home" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.save(TM.resnet18().state_dict(), folder / "resnet18-f37072fd.pth")
    with pytest.warns(UserWarning, match="'pretrained' is deprecated"):
        m = M.resnet18(pretrained=True)
    assert m.fc.weight.shape == (1000, 512)


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


