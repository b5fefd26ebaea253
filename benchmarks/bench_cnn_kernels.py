"""A/B of dagrad's memory-bound CNN kernels (ops/_threads.py): batch norm forward / backward
and ReLU, fused + threaded ("new") against the plain NumPy code they replace ("old"), on
ResNet18-sized activations. dagrad only (no PyTorch needed), wall time, interleaved repeats.

    python benchmarks/bench_cnn_kernels.py [--reps 15] [--shapes 16,64,112,112 16,128,28,28]
        [--threads 2]

Prints per kernel and shape the median, min and max of each variant and the ratio of the
medians new/old. `--threads 1` runs the new kernels on one thread (fusion alone).
"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))

import numpy as np  # noqa: E402

import dagrad  # noqa: E402
import dagrad.ops._threads as T  # noqa: E402


def cases(shape, rng):
    C = shape[1]
    x = rng.standard_normal(shape).astype(np.float32)
    gy = rng.standard_normal(shape).astype(np.float32)
    r = np.maximum(rng.standard_normal(shape).astype(np.float32), 0)
    bn = dagrad.nn.BatchNorm2d(C)
    xd = dagrad.tensor(x, requires_grad=True)
    gd = dagrad.tensor(gy)

    def bn_train_fwd():
        with dagrad.no_grad():
            bn(xd)

    def bn_train_fwd_bwd():
        xd.grad = None
        bn(xd).backward(gd)

    def bn_eval_fwd():
        bn.eval()
        with dagrad.no_grad():
            bn(xd)
        bn.train()

    from dagrad.ops import derivatives_np as DN

    class _N:                                  # a ReluBackward0 stand-in for the twin
        pass

    def relu_bwd():
        n = _N()
        DN._result = lambda self: r
        try:
            DN.relu(n, gy)
        finally:
            DN._result = _result

    _result = DN._result
    a = x.copy()

    def relu_inplace():
        t = dagrad.tensor(a)
        dagrad.relu_(t)

    return {"bn train fwd": bn_train_fwd, "bn train fwd+bwd": bn_train_fwd_bwd,
            "bn eval fwd": bn_eval_fwd, "relu bwd": relu_bwd, "relu_ fwd": relu_inplace}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--shapes", nargs="+", default=["16,64,112,112", "16,64,56,56",
                                                   "16,128,28,28", "1,64,16,16"])
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--only", default=None, help="comma-separated kernel names (substrings)")
    p.add_argument("--cpu", action="store_true",
                   help="time.process_time (CPU seconds of all threads) instead of wall time")
    a = p.parse_args()
    if a.threads is not None:
        from threadpoolctl import threadpool_limits
        threadpool_limits(a.threads, user_api="blas")
    rng = np.random.default_rng(0)
    clock = time.process_time if a.cpu else time.perf_counter
    print(f"load {os.getloadavg()[0]:.1f}, reps {a.reps}, {'CPU' if a.cpu else 'wall'} ms median [min, max]")
    for s in a.shapes:
        shape = tuple(int(v) for v in s.split(","))
        for name, f in cases(shape, rng).items():
            if a.only and not any(o in name for o in a.only.split(",")):
                continue
            res = {"new": [], "old": []}
            for en in (True, False):
                T.enabled = en
                f()
            for i in range(a.reps):
                for v in (("new", "old") if i % 2 else ("old", "new")):
                    T.enabled = v == "new"
                    t0 = clock()
                    f()
                    res[v].append(clock() - t0)
            T.enabled = True
            mn, mo = statistics.median(res["new"]), statistics.median(res["old"])
            print(f"{name:18s} {s:15s} new {mn * 1e3:8.2f} [{min(res['new']) * 1e3:.2f}, "
                  f"{max(res['new']) * 1e3:.2f}]  old {mo * 1e3:8.2f} "
                  f"[{min(res['old']) * 1e3:.2f}, {max(res['old']) * 1e3:.2f}]  "
                  f"new/old {mn / mo:.2f}", flush=True)


if __name__ == "__main__":
    main()
