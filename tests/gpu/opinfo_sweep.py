"""Sweep every OpInfo entry (tests/opinfo.py, tests/opinfo_extra.py) on device='cuda' vs CPU.

Not a pytest file (it takes minutes and compiles many CuPy kernels): a diagnostic. For each op
and sample (float32) it runs forward and the backward of sum(output) on CPU tensors and on CUDA
tensors built from the same arrays, and prints one line per failure: an exception (with the
innermost dagrad frame), a result or gradient left on the CPU, or values differing beyond the
tolerance. Run on a GPU machine:

    PYTHONPATH=src:tests python tests/gpu/opinfo_sweep.py [name-substring] [dtype]

or on a CPU-only one against the CuPy stand-in: DAGRAD_FAKE_CUPY=1 (tests/gpu/fakecupy).
"""
import os
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
if os.environ.get("DAGRAD_FAKE_CUPY") == "1":
    sys.path.insert(0, os.path.join(HERE, "fakecupy"))

import numpy as np  # noqa: E402

import dagrad  # noqa: E402
from opinfo import OPS, make_numpy_args  # noqa: E402

try:
    from opinfo_extra import EXTRA_OPS  # noqa: E402
except Exception:  # noqa: BLE001
    EXTRA_OPS = []


def build(np_args, dev):
    args, leaves = [], []
    for kind, v in np_args:
        if kind == "x":
            t = dagrad.tensor(np.ascontiguousarray(v), device=dev,
                              requires_grad=v.dtype.kind == "f")
            if t.requires_grad:
                leaves.append(t)
            args.append(t)
        elif kind == "xs":
            ts = [dagrad.tensor(a, device=dev, requires_grad=a.dtype.kind == "f") for a in v]
            leaves += [t for t in ts if t.requires_grad]
            args.append(ts)
        elif kind == "c":
            args.append(dagrad.tensor(np.array(v), device=dev))
        elif kind == "cs":
            args.append([dagrad.tensor(np.array(a), device=dev) for a in v])
        else:
            args.append(v)
    return args, leaves


def run(info, sample, dev, np_args):
    args, leaves = build(np_args, dev)
    out = info.dagrad_fn(*args, **sample.kwargs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    outs = [o for o in outs if isinstance(o, dagrad.Tensor)]
    grads = []
    if info.grad and leaves:
        fl = [o for o in outs if o.is_floating_point() and o.requires_grad]
        if fl:
            loss = sum(o.sum() for o in fl)
            loss.backward()
            grads = [t.grad for t in leaves]
    return outs, grads


def where(e):
    fr = [f for f in traceback.extract_tb(e.__traceback__) if "/dagrad/" in f.filename]
    if not fr:
        return ""
    f = fr[-1]
    return f" at {f.filename.split('src/')[-1]}:{f.lineno}"


def main():
    pat = sys.argv[1] if len(sys.argv) > 1 else ""
    dt = sys.argv[2] if len(sys.argv) > 2 else "float32"
    bad = n = mixed = 0
    for info in OPS + EXTRA_OPS:
        if pat not in info.name or dt not in info.dtypes:
            continue
        for si, sample in enumerate(info.samples):
            n += 1
            np_args = make_numpy_args(info, sample, np.dtype(dt))
            try:
                oc, gc = run(info, sample, "cpu", np_args)
            except Exception:  # noqa: BLE001 (the CPU refuses it too: not a device problem)
                continue
            msg = None
            try:
                og, gg = run(info, sample, "cuda", np_args)
                for k, (c, g) in enumerate(zip(oc + gc, og + gg)):
                    if c is None or g is None:
                        if (c is None) != (g is None):
                            msg = f"result {k}: grad presence differs"
                        continue
                    if g.device.type != "cuda":
                        msg = f"result {k} on {g.device}"
                        break
                    a, b = c.detach().numpy(), g.detach().cpu().numpy()
                    if a.shape != b.shape or a.dtype != b.dtype:
                        msg = f"result {k}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
                        break
                    if a.dtype.kind in "fc" and not np.allclose(b, a, rtol=1e-3, atol=1e-4,
                                                               equal_nan=True):
                        msg = f"result {k}: max diff {np.nanmax(np.abs(a - b))}"
                        break
                    if a.dtype.kind not in "fc" and not np.array_equal(a, b):
                        msg = f"result {k}: values differ"
                        break
            except Exception as e:  # noqa: BLE001
                msg = f"{type(e).__name__}: {str(e).splitlines()[0][:120]}{where(e)}"
                if "same device" in str(e):
                    # the sample itself may build CPU tensors (m.tensor / m.eye / m.ones) that
                    # meet CUDA ones, which PyTorch refuses too: retry with cuda as default
                    dagrad.set_default_device("cuda")
                    try:
                        run(info, sample, "cuda", np_args)
                        mixed += 1
                        msg = None
                    except Exception:  # noqa: BLE001
                        pass
                    finally:
                        dagrad.set_default_device("cpu")
            if msg:
                bad += 1
                print(f"FAIL {info.name}[{si}] {sample!r}: {msg}", flush=True)
    print(f"{bad} failing of {n} samples ({mixed} more mix CPU tensors of the sample itself with "
          "CUDA ones and pass with cuda as the default device)")


if __name__ == "__main__":
    main()
