"""`dagrad tutorial --quick`: runs end to end, every printed check is true, files are written."""
import argparse
import contextlib
import io
import os
import shutil
import sys

import pytest

from dagrad import cli, tutorial


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tut") / "out"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = tutorial.main(argparse.Namespace(out=str(out), quick=True))
    return rc, buf.getvalue(), out


def test_quick_tutorial_checks_are_true(quick_run):
    rc, text, out = quick_run
    assert rc == 0, text
    assert "✗" not in text
    checks = [line for line in text.splitlines() if line.strip().startswith("✓")]
    assert len(checks) >= 15
    # the seed's printed results
    assert "print(9*a**2 == a.grad) -> tensor([True, True])" in text
    assert "print(-2*b == b.grad)   -> tensor([True, True])" in text
    assert "a.grad = tensor([36., 81.])" in text
    assert "b.grad = tensor([-12.,  -8.])" in text
    assert "Does `a` require gradients?: False" in text
    assert "Does `b` require gradients?: True" in text
    assert "parameters: 5,130 trainable (fc), 11,176,512 frozen" in text
    assert "epoch 1/" in text and "test accuracy" in text
    assert "the loss's DAG has 6 nodes" in text  # as torch: Nll, LogSoftmax, Addmm, T, 2 leaves
    # the summary counts every check as passed
    n = len(checks)
    assert f"{n}/{n} checks passed" in text
    # nothing skipped or failed in a complete checkout
    assert "[section skipped" not in text and "[section failed" not in text


def test_quick_tutorial_says_how_weights_are_obtained(quick_run):
    _, text, _ = quick_run
    assert ("random initialisation (--quick: no download attempted)" in text
            and "resnet18-f37072fd.pth" in text) or "pretrained ImageNet weights" in text


def test_quick_tutorial_files(quick_run):
    _, text, out = quick_run
    dot = open(out / "dag.dot").read()
    for op in ("PowBackward0", "MulBackward0", "SubBackward0"):
        assert op in dot
    assert f"wrote the DAG as DOT text: {out / 'dag.dot'}" in text
    if shutil.which("dot"):
        assert open(out / "dag.svg").read().lstrip().startswith("<?xml")
        assert open(out / "dag.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"
        assert "one box per module" in text and (out / "resnet18-modules.svg").exists()
    try:
        import matplotlib  # noqa: F401
        assert open(out / "loss-curve.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    except ImportError:
        assert "matplotlib is not installed" in text


@pytest.mark.parametrize("make_bad", ["file", "under_file"])
def test_unwritable_out_is_reported_before_any_work(tmp_path, capsys, make_bad):
    f = tmp_path / "a-file"
    f.write_text("x")
    bad = f if make_bad == "file" else f / "sub"
    rc = cli.main(["tutorial", "--out", str(bad), "--quick"])
    cap = capsys.readouterr()
    assert rc == 2
    assert "cannot write to --out directory" in cap.err and str(bad) in cap.err
    assert cap.out == ""   # nothing ran


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_read_only_out(tmp_path, capsys):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    try:
        assert cli.main(["tutorial", "--out", str(d)]) == 2
        assert "cannot write" in capsys.readouterr().err
    finally:
        d.chmod(0o700)


def test_missing_piece_skips_its_section(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "dagrad.vision.models", None)
    T = tutorial.Tutorial(str(tmp_path), quick=True, stream=io.StringIO())
    with pytest.raises(tutorial.Skip, match="dagrad.vision.models is not available"):
        tutorial.section_resnet(T)


def test_jacobian_fallback_row_by_row(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "dagrad.autograd.functional", None)
    buf = io.StringIO()
    T = tutorial.Tutorial(str(tmp_path), quick=True, stream=buf)
    tutorial.section_autograd(T)
    assert "row by row" in buf.getvalue()
    assert T.checks and all(ok for _, ok in T.checks)


def test_run_reports_missing_sections_and_goes_on(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "dagrad.vision.models", None)
    monkeypatch.setattr(tutorial, "SECTIONS", (tutorial.section_resnet,
                                               tutorial.section_exclusion))
    buf = io.StringIO()
    T = tutorial.run(str(tmp_path), quick=True, stream=buf)
    assert [s for s, _ in T.skipped] == ["section_resnet"]
    assert "[section skipped: dagrad.vision.models is not available" in buf.getvalue()
    assert all(ok for _, ok in T.checks) and len(T.checks) == 2


def test_pretrained_weights_found_in_cache(tmp_path, monkeypatch):
    import numpy as np

    import dagrad
    from dagrad.vision.models import resnet18
    monkeypatch.setenv("DAGRAD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    T = tutorial.Tutorial(str(tmp_path), quick=True, stream=io.StringIO())
    w, msg = tutorial._weights_state(T, allow_download=False)
    assert w is None and "random initialisation" in msg and "resnet18-f37072fd.pth" in msg
    ck = tmp_path / "home" / "hub" / "checkpoints"
    ck.mkdir(parents=True)
    ref = resnet18()
    dagrad.save(ref.state_dict(), str(ck / "resnet18-f37072fd.pth"))
    w, msg = tutorial._weights_state(T, allow_download=False)
    assert w is not None and "pretrained ImageNet weights from the cache" in msg
    m = tutorial._resnet18(T, w)
    np.testing.assert_array_equal(m.fc.weight.detach().numpy(), ref.fc.weight.detach().numpy())
