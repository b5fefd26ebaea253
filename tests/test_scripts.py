"""Unmodified PyTorch scripts (tests/scripts/NN_*.py) print the same stdout under real torch
(`python script.py`) and under `python -m dagrad run script.py`.

Scripts use no random streams (dagrad's RNG differs from torch's): data and weights come from
arange/linspace/sin. Floats printed as Python numbers are rounded in the script; tensors are
printed with torch's default formatting, which dagrad must match exactly.

torchvision is not loadable beside torch 2.13 here, so the torch run gets
tests/scripts/_oracle/torchvision (plain-torch resnet18 and transforms) on PYTHONPATH.
The script runs happen once, in a module-scoped fixture: one torch and one dagrad process,
in parallel, each forking a child per script (tests/scripts/_runner.py); the `dagrad run`
command line itself is checked by the test_run_* tests below.
"""
import difflib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "tests" / "scripts"
ORACLE = SCRIPTS / "_oracle"
PY = sys.executable
ARGS = ["a1", "--flag", "x y"]
TIMEOUT = 120

SCRIPT_FILES = sorted(p.name for p in SCRIPTS.glob("[0-9][0-9]_*.py"))

# script name -> reason; each is xfail(strict=True): fix dagrad, then delete the entry
XFAIL = {}


def _env(extra_path=None):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if extra_path:
        env["PYTHONPATH"] = str(extra_path)
    env["PYTHONHASHSEED"] = "0"
    return env


def _run(cmd, extra_path=None, cwd=SCRIPTS):
    p = subprocess.run(cmd, cwd=cwd, env=_env(extra_path), capture_output=True, text=True,
                       timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Both runs of every script: torch and dagrad in parallel, each importing once and forking
    a child per script (tests/scripts/_runner.py)."""
    out = {}
    procs = {}
    paths = [str(SCRIPTS / s) for s in SCRIPT_FILES]
    for mode, extra in (("torch", ORACLE), ("dagrad", ROOT / "src")):
        d = tmp_path_factory.mktemp(mode)
        procs[mode] = (d, subprocess.Popen(
            [PY, str(SCRIPTS / "_runner.py"), mode, str(d), *paths, "--", *ARGS],
            cwd=SCRIPTS, env=_env(extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    for mode, (d, p) in procs.items():
        log = p.communicate(timeout=300)[0].decode(errors="replace")
        for s in SCRIPT_FILES:
            f = d / s
            rc_file = Path(str(f) + ".rc")
            if not rc_file.exists():
                out[(s, mode)] = (-1, "", f"runner did not finish {s}:\n{log[-3000:]}")
                continue
            out[(s, mode)] = (int(rc_file.read_text()), Path(str(f) + ".out").read_text(),
                              Path(str(f) + ".err").read_text())
    return out


def _params():
    out = []
    for s in SCRIPT_FILES:
        marks = [pytest.mark.xfail(strict=True, reason=XFAIL[s])] if s in XFAIL else []
        out.append(pytest.param(s, marks=marks, id=s[:-3]))
    return out


def test_corpus_present():
    assert len(SCRIPT_FILES) >= 15, SCRIPT_FILES


@pytest.mark.parametrize("script", _params())
def test_script_same_output(results, script):
    rc_t, out_t, err_t = results[(script, "torch")]
    assert rc_t == 0, f"torch run failed (the script itself is broken):\n{err_t[-3000:]}"
    rc_d, out_d, err_d = results[(script, "dagrad")]
    diff = "".join(difflib.unified_diff(out_t.splitlines(True), out_d.splitlines(True),
                                        "torch", "dagrad", n=1))
    assert out_d == out_t and rc_d == 0, (
        f"dagrad run rc={rc_d}\n--- stdout diff ---\n{diff[-4000:]}\n--- stderr ---\n{err_d[-3000:]}")


# ------------------------------------------------------------------ `dagrad run` behaviour
def test_cli_run_matches_the_in_process_runner(results):
    """The real `python -m dagrad run` command line prints what the forked runner printed."""
    script = "05_mlp_training.py"
    rc, out, err = _run([PY, "-m", "dagrad", "run", str(SCRIPTS / script), *ARGS], ROOT / "src")
    assert rc == 0, err
    assert out == results[(script, "torch")][1]


def _dagrad_snippet(tmp_path, code, *args, name="snippet.py"):
    """Runs the script from another directory (sys.path[0] must be the script's, as python's)."""
    (tmp_path / "elsewhere").mkdir(exist_ok=True)
    f = tmp_path / name
    f.write_text(textwrap.dedent(code))
    return _run([PY, "-m", "dagrad", "run", str(f), *args], ROOT / "src", cwd=tmp_path / "elsewhere")


def test_run_missing_attribute_message(tmp_path):
    import torch

    import dagrad
    name = next(n for n in ("view_as_real", "stft", "pdist", "bartlett_window", "lobpcg",
                            "fbgemm_linear_fp16_weight")
                if hasattr(torch, n) and not hasattr(dagrad, n))
    rc, out, err = _dagrad_snippet(tmp_path, f"""
        import torch
        try:
            torch.{name}
        except AttributeError as e:
            print(type(e).__name__, e)
        torch.{name}
        """)
    assert out == f"AttributeError dagrad does not implement torch.{name} yet\n"
    assert rc == 1 and f"AttributeError: dagrad does not implement torch.{name} yet" in err


def test_run_missing_submodule_message(tmp_path):
    import importlib.util
    name = next(n for n in ("distributed", "fx", "onnx", "export", "quantization", "ao")
                if importlib.util.find_spec(f"dagrad.{n}") is None)
    rc, out, err = _dagrad_snippet(tmp_path, f"""
        import torch
        try:
            import torch.{name}
        except ImportError as e:
            print(type(e).__name__, e)
        from torch import nn
        print(nn.Linear.__name__)
        try:
            torch.nn.utils.no_such_thing
        except AttributeError as e:
            print(e)
        print(torch.nn.utils.rnn.pad_sequence([torch.ones(2)]).shape)
        """)
    assert rc == 0, err
    assert out == (f"ModuleNotFoundError dagrad does not implement torch.{name} yet\nLinear\n"
                   "dagrad does not implement torch.nn.utils.no_such_thing yet\n"
                   "torch.Size([2, 1])\n")


def test_run_argv_main_file_exit_code_and_sibling_import(tmp_path):
    (tmp_path / "helper_mod.py").write_text("import torch\nK = torch.ones(2).sum().item()\n")
    rc, out, err = _dagrad_snippet(tmp_path, """
        import os, sys
        import torch
        from helper_mod import K
        def main():
            print(sys.argv[1:], os.path.basename(sys.argv[0]), os.path.basename(__file__), K)
            return 3
        if __name__ == "__main__":
            sys.exit(main())
        """, "--lr", "0.1", "pos arg", name="prog.py")
    assert out == "['--lr', '0.1', 'pos arg'] prog.py prog.py 2.0\n", err
    assert _run([PY, str(tmp_path / "prog.py"), "--lr", "0.1", "pos arg"],
                cwd=tmp_path / "elsewhere")[0] == 3
    assert rc == 3


def test_run_uncaught_error_traceback(tmp_path):
    rc, out, err = _dagrad_snippet(tmp_path, """
        import torch
        print("before")
        torch.ones(2, 3) @ torch.ones(2, 3)
        """)
    assert rc == 1 and out == "before\n"
    assert ("RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"
            in err.splitlines()[-1])


def test_run_torch_is_dagrad_only_inside(tmp_path):
    rc, out, err = _dagrad_snippet(tmp_path, """
        import torch, torch.nn as nn, torch.nn.functional as F, torchvision
        from torch.utils.data import DataLoader
        import torchvision.transforms as T
        print(torch.__name__.split(".")[0], nn.__name__, F.__name__, DataLoader.__module__.split(".")[0],
              torchvision.__name__, T.__name__)
        print(torch.nn is nn, torch.nn.functional is F, torch.utils.data.DataLoader is DataLoader)
        """)
    assert rc == 0, err
    assert out.splitlines()[0].split() == ["dagrad", "dagrad.nn", "dagrad.nn.functional", "dagrad",
                                           "dagrad.vision", "dagrad.vision.transforms"]
    assert out.splitlines()[1] == "True True True"


def test_bfloat16_prints_like_torch(tmp_path):
    code = "import torch\nprint(torch.tensor([1.0, 2.5, 1/3], dtype=torch.bfloat16))\n"
    f = tmp_path / "bf16.py"
    f.write_text(code)
    want = _run([PY, str(f)], cwd=tmp_path)[1]
    got = _run([PY, "-m", "dagrad", "run", str(f)], ROOT / "src", cwd=tmp_path)[1]
    assert got == want
