"""`dagrad train`: resuming reproduces the losses exactly; checkpoints load in PyTorch."""
import os

import numpy as np
import pytest
import torch

import dagrad
from dagrad import cli
from dagrad import train as T

ARGS = ["train", "--model", "mlp", "--data", "digits", "--no-progress", "--lr", "0.05",
        "--batch-size", "128", "--limit", "512"]


def _ckpt(path):
    return dagrad.load(str(path), weights_only=True)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    p = tmp_path_factory.mktemp("train") / "full.pth"
    assert cli.main(ARGS + ["--epochs", "3", "--save", str(p)]) == 0
    return p


def test_resume_gives_identical_losses(straight, tmp_path, capsys):
    p = tmp_path / "part.pth"
    assert cli.main(ARGS + ["--epochs", "1", "--save", str(p)]) == 0
    assert _ckpt(p)["epoch"] == 1
    assert cli.main(ARGS + ["--epochs", "3", "--save", str(p), "--resume"]) == 0
    out = capsys.readouterr().out
    assert "resumed from" in out and "1 epoch(s) done" in out
    a, b = _ckpt(straight), _ckpt(p)
    assert a["epoch"] == b["epoch"] == 3
    # bit-identical losses after the resume point (and before it)
    assert a["history"]["batch_loss"] == b["history"]["batch_loss"]
    assert a["history"]["train_loss"] == b["history"]["train_loss"]
    assert a["history"]["val_loss"] == b["history"]["val_loss"]
    for k in a["model"]:
        np.testing.assert_array_equal(a["model"][k].numpy(), b["model"][k].numpy())
    # the run learned something
    assert a["history"]["train_loss"][-1] < a["history"]["train_loss"][0]


def test_resume_from_explicit_path_and_nothing_left(straight, tmp_path, capsys):
    assert cli.main(ARGS + ["--epochs", "3", "--resume", str(straight)]) == 0
    out = capsys.readouterr().out
    assert "nothing to train" in out and "final validation accuracy" in out


def test_checkpoint_loads_in_torch(straight):
    ck = torch.load(str(straight), weights_only=True)
    assert ck["epoch"] == 3 and ck["args"]["model"] == "mlp"
    assert isinstance(ck["rng_state"], torch.Tensor) and ck["rng_state"].dtype == torch.uint8
    tm = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 128), torch.nn.ReLU(),
                             torch.nn.Linear(128, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    tm.load_state_dict(ck["model"])     # strict: same keys and shapes
    dm = T.build_model("mlp", 1, 8, 10)
    dm.load_state_dict(_ckpt(straight)["model"])
    x = np.random.default_rng(1).standard_normal((5, 1, 8, 8)).astype(np.float32)
    with torch.no_grad(), dagrad.no_grad():
        np.testing.assert_allclose(dm(dagrad.from_numpy(x)).numpy(),
                                   tm(torch.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-5)
    # the optimizer state (momentum buffers) loads into torch's SGD
    opt = torch.optim.SGD(tm.parameters(), lr=0.05, momentum=0.9)
    opt.load_state_dict(ck["optimizer"])
    assert len(opt.state) == len(list(tm.parameters()))


def test_missing_dataset_path_is_named(tmp_path, capsys):
    missing = tmp_path / "no-such-folder"
    assert cli.main(["train", "--data", "folder", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"dataset folder not found: {missing}" in err


def test_bad_arguments(tmp_path, capsys):
    assert cli.main(["train", "--data", "folder"]) == 2
    assert "--data folder needs a PATH" in capsys.readouterr().err
    assert cli.main(["train", "--resume", str(tmp_path / "x.pth")]) == 2
    assert "checkpoint to resume not found" in capsys.readouterr().err
    assert cli.main(["train", "--resume"]) == 2
    assert "needs --save" in capsys.readouterr().err
    assert cli.main(["train", "--data", "imagenet"]) == 2
    assert "--data must be 'digits' or 'folder PATH'" in capsys.readouterr().err


def test_atomic_save_keeps_old_checkpoint(tmp_path, monkeypatch):
    p = tmp_path / "c.pth"
    T.save_checkpoint({"epoch": 1, "w": dagrad.ones(3)}, str(p))
    good = p.read_bytes()

    def boom(obj, f, *a, **k):
        f.write(b"partial garbage")
        raise OSError("disk full")
    monkeypatch.setattr(dagrad, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        T.save_checkpoint({"epoch": 2}, str(p))
    assert p.read_bytes() == good
    assert os.listdir(tmp_path) == ["c.pth"]     # no temporary file left behind
    assert torch.load(str(p), weights_only=True)["epoch"] == 1


def test_folder_dataset_with_cnn(tmp_path, capsys):
    from PIL import Image
    rng = np.random.default_rng(0)
    for c, color in (("red", (220, 30, 30)), ("blue", (30, 30, 220))):
        (tmp_path / "imgs" / c).mkdir(parents=True)
        for i in range(10):
            a = np.clip(np.array(color) + rng.integers(-20, 20, (12, 12, 3)), 0, 255)
            Image.fromarray(a.astype(np.uint8)).save(tmp_path / "imgs" / c / f"{i}.png")
    ck = tmp_path / "cnn.pth"
    rc = cli.main(["train", "--model", "cnn", "--data", "folder", str(tmp_path / "imgs"),
                   "--epochs", "2", "--image-size", "16", "--batch-size", "8", "--save",
                   str(ck), "--no-progress"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "16 train / 4 validation images, 3x16x16, 2 classes" in out
    assert "final validation accuracy" in out
    t = torch.load(str(ck), weights_only=True)
    assert t["classes"] == ["blue", "red"] and "0.weight" in t["model"]


@pytest.mark.slow
def test_resnet18_runs(tmp_path, capsys):
    assert cli.main(["train", "--model", "resnet18", "--data", "digits", "--epochs", "1",
                     "--limit", "64", "--batch-size", "32", "--no-progress"]) == 0
    assert "3x32x32" in capsys.readouterr().out
