"""Convolution / pooling speed: dagrad vs PyTorch (CPU) in the same process, interleaved.

    .venv/bin/python benchmarks/bench_conv.py [--reps 7] [--only conv] [--threads 2] [--cpu]
        [--no-wino]

Prints per workload the median time of each library (after warm-up), their ratio (dagrad/torch;
below 1 means dagrad is faster) and dagrad's GFLOP/s for convolutions. The machine is shared
and noisy: only the ratios measured in one run mean much. `--cpu` times with
time.process_time() (CPU seconds of this process, all its threads: waiting for a core on a busy
machine does not count). `--no-wino` adds a column: dagrad with the Winograd path switched off
(the im2col / shifted-GEMM kernels), run interleaved with the other two.
"""
import argparse
import os
import statistics
import sys
import time

if "--threads" in sys.argv:  # must be set before NumPy loads OpenBLAS
    _n = sys.argv[sys.argv.index("--threads") + 1]
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = _n

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
import dagrad  # noqa: E402
import dagrad.ops.conv as DC  # noqa: E402
import dagrad.ops.pool as DP  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    torch = None


def conv_flops(x, w, stride=1, padding=0):
    N, C, H, W = x
    O, Cg, kh, kw = w
    Ho = (H + 2 * padding - kh) // stride + 1
    Wo = (W + 2 * padding - kw) // stride + 1
    return 2 * N * O * Ho * Wo * Cg * kh * kw


def workloads():
    rng = np.random.default_rng(0)

    def conv(xs, ws, stride=1, padding=0, groups=1, backward=True):
        x = rng.standard_normal(xs).astype(np.float32)
        w = (rng.standard_normal(ws) * 0.05).astype(np.float32)
        b = rng.standard_normal(ws[0]).astype(np.float32)
        fl = conv_flops(xs, ws, stride, padding) * (3 if backward else 1)  # w has C/groups

        def make(lib):
            if lib == "torch":
                tx, tw, tb = (torch.tensor(a, requires_grad=backward) for a in (x, w, b))
                f = F.conv2d
            else:
                tx, tw, tb = (dagrad.tensor(a, requires_grad=backward) for a in (x, w, b))
                f = DC.conv2d

            def run():
                y = f(tx, tw, tb, stride=stride, padding=padding, groups=groups)
                if backward:
                    tx.grad = tw.grad = tb.grad = None
                    y.sum().backward()
            return run
        name = (f"conv2d x{xs} w{ws} s{stride} p{padding}" + (f" g{groups}" if groups > 1 else "")
                + (" fwd+bwd" if backward else " fwd"))
        return name, make, fl

    def pool(kind, xs, backward=True):
        x = rng.standard_normal(xs).astype(np.float32)

        def make(lib):
            if lib == "torch":
                tx = torch.tensor(x, requires_grad=backward)
                mod = F
            else:
                tx = dagrad.tensor(x, requires_grad=backward)
                mod = DP

            def run():
                if kind == "max":
                    y = mod.max_pool2d(tx, 3, 2, 1)
                elif kind == "avg":
                    y = mod.avg_pool2d(tx, 2)
                else:
                    y = mod.adaptive_avg_pool2d(tx, (1, 1))
                if backward:
                    tx.grad = None
                    y.sum().backward()
            return run
        return f"{kind}_pool2d x{xs}" + (" fwd+bwd" if backward else " fwd"), make, 0

    yield conv((8, 64, 56, 56), (64, 64, 3, 3), padding=1)
    yield conv((8, 64, 56, 56), (64, 64, 3, 3), padding=1, backward=False)
    yield conv((8, 3, 64, 64), (64, 3, 7, 7), stride=2, padding=3)
    yield conv((8, 128, 28, 28), (256, 128, 3, 3), stride=2, padding=1)
    yield conv((8, 64, 56, 56), (128, 64, 1, 1), stride=2)
    yield conv((8, 256, 14, 14), (256, 256, 3, 3), padding=1)
    yield conv((8, 128, 28, 28), (128, 128, 3, 3), padding=1)
    yield conv((8, 512, 7, 7), (512, 512, 3, 3), padding=1)
    yield conv((8, 64, 56, 56), (64, 1, 3, 3), padding=1, groups=64)
    yield pool("max", (8, 64, 112, 112))
    yield pool("avg", (8, 64, 56, 56))
    yield pool("adaptive", (8, 512, 7, 7))


_clock = time.perf_counter


def bench(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t0 = _clock()
        fn()
        ts.append(_clock() - t0)
    return statistics.median(ts)


class _NoWino:
    """Context: dagrad's Winograd path off."""
    def __enter__(self):
        self.old = DC._WINO_MIN_C
        DC._WINO_MIN_C = 1 << 62

    def __exit__(self, *exc):
        DC._WINO_MIN_C = self.old


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--only", default="")
    ap.add_argument("--threads", type=int, default=2, help="BLAS / torch threads (both libs)")
    ap.add_argument("--cpu", action="store_true", help="time.process_time instead of wall time")
    ap.add_argument("--no-wino", action="store_true", help="also time dagrad without Winograd")
    a = ap.parse_args()
    global _clock
    if a.cpu:
        _clock = time.process_time
    print(f"# load average {os.getloadavg()}, {'CPU' if a.cpu else 'wall'} time, "
          f"{a.threads} thread(s)")
    if torch is not None:
        torch.set_num_threads(a.threads)
    print(f"{'workload':62s} {'dagrad ms':>10s} {'torch ms':>9s} {'ratio':>6s} {'GFLOP/s':>8s}"
          + (f" {'no-wino ms':>10s} {'ratio':>6s}" if a.no_wino else ""))
    for name, make, fl in workloads():
        if a.only and a.only not in name:
            continue
        d = make("dagrad")
        t = make("torch") if torch is not None else None
        # interleave the two libraries so machine noise hits both alike
        td, tt, tn = [], [], []
        d(), t and t()
        for _ in range(a.reps):
            td.append(bench(d, 1))
            if t:
                tt.append(bench(t, 1))
            if a.no_wino:
                with _NoWino():
                    tn.append(bench(d, 1))
        md = statistics.median(td) * 1e3
        mt = statistics.median(tt) * 1e3 if tt else float("nan")
        gf = fl / (md * 1e-3) / 1e9 if fl else float("nan")
        extra = ""
        if tn:
            mn = statistics.median(tn) * 1e3
            extra = f" {mn:10.2f} {mn / mt:6.2f}"
        print(f"{name:62s} {md:10.2f} {mt:9.2f} {md / mt:6.2f} {gf:8.1f}{extra}", flush=True)


if __name__ == "__main__":
    main()
