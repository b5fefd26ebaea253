"""DAGRAD_FAKE_CUPY=1: put tests/gpu/fakecupy (a CPU stand-in imitating CuPy's strictness:
no implicit host conversion, no NumPy/CuPy mixing, 0-d results) first on sys.path, so that the
GPU tests exercise dagrad's CuPy code paths on a machine without a GPU. Off by default; on a real
GPU machine never set it."""
import os
import sys

if os.environ.get("DAGRAD_FAKE_CUPY") == "1":
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "fakecupy"))
    sys.modules.pop("cupy", None)
