"""pytest plugin: run an existing CPU test suite with CUDA tensors (a diagnostic, not a test).

    PYTHONPATH=src:tests/gpu python -m pytest -p cuda_default_plugin tests/nn -q --tb=no

sets cuda as dagrad's default device, makes dagrad.from_numpy return CUDA tensors and
Tensor.numpy() copy CUDA tensors to the host, so the suite's comparisons with torch run on the
GPU. Failures that are about the device (CuPy's TypeErrors for host arrays, PyTorch's
same-device error) are grouped by the innermost dagrad line and written to
$CUDA_SITES (default /tmp/cuda_default_sites.txt); other failures are expected noise (tests
that check CPU-only kernels, reprs, devices). With DAGRAD_FAKE_CUPY=1 it uses the CPU stand-in
tests/gpu/fakecupy instead of CuPy. Found with it (fake): lazy modules, attention masks,
pooling indices/divisors, AdaptiveLogSoftmaxWithLoss, vector_to_parameters, pad_sequence.
"""
import collections
import os
import sys
import traceback

if os.environ.get("DAGRAD_FAKE_CUPY") == "1":
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fakecupy"))

import dagrad  # noqa: E402
from dagrad.tensor import Tensor  # noqa: E402

_SITES = collections.Counter()
_FIRST = {}
_MARKERS = ("Implicit conversion", "Unsupported type", "same device")


def pytest_configure(config):
    if not dagrad.cuda.is_available():
        raise RuntimeError("cuda_default_plugin: dagrad sees no CUDA device (CuPy)")
    dagrad.set_default_device("cuda")
    numpy_ = Tensor.numpy
    from_numpy = dagrad.from_numpy

    def _numpy(self, force=False):
        return numpy_(self.cpu() if self.is_cuda else self, force)

    Tensor.numpy = _numpy
    dagrad.from_numpy = lambda a: from_numpy(a).cuda()


def pytest_runtest_makereport(item, call):
    if call.excinfo is None or not any(m in str(call.excinfo.value) for m in _MARKERS):
        return
    fr = [f for f in traceback.extract_tb(call.excinfo.tb) if "/dagrad/" in f.filename]
    if fr:
        f = fr[-1]
        key = (f"{f.filename.split('src/')[-1]}:{f.lineno} {(f.line or '').strip()[:90]} "
               f"[{type(call.excinfo.value).__name__}]")
        _SITES[key] += 1
        _FIRST.setdefault(key, item.nodeid)


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("CUDA_SITES", "/tmp/cuda_default_sites.txt")
    with open(path, "w") as fh:
        for k, n in _SITES.most_common():
            fh.write(f"{n}\t{k}\t{_FIRST[k]}\n")
    print(f"\ncuda_default_plugin: {len(_SITES)} device-related failure sites -> {path}")
