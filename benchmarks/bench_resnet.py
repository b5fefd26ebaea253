"""dagrad vs PyTorch on the MLP and ResNet18 workloads of issue 6, same process, CPU time.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_resnet.py                 # mlp, r18_64, infer
    python benchmarks/bench_resnet.py --only r18_train --batch 4 --memory    # + peak RSS
    python benchmarks/bench_resnet.py --threads 2                            # both with 2 threads

Meant for a shared, loaded machine: each sample is timed with `time.process_time()` (CPU
seconds of this process, so waiting for a core does not count; with one BLAS/intra-op thread
that is the work itself), dagrad and PyTorch samples are interleaved, and both the minimum and
the median of the samples are printed with their ratios dagrad/PyTorch. `--memory` also runs
each framework's workload alone in a fresh subprocess and reports its peak RSS (VmHWM).
The workloads are benchmarks/workloads.py's, so they match `make bench`. `--no-wino` adds a
third, interleaved column: dagrad with its Winograd convolution path switched off; `--no-fused`
one with the fused, threaded batch-norm / ReLU / in-place-add kernels (ops/_threads.py) off.
With more than one thread use `--wall`: CPU time adds up the threads and hides their gain.

    python benchmarks/bench_resnet.py --threads 2 --wall --no-fused --only r18_infer,r18_train
"""
import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")
for p in (SRC, HERE):
    if p not in sys.path:
        sys.path.insert(0, p)


def _threads_env(n):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


def _workload(key, batch):
    import workloads as W
    if key == "mlp":
        return W._mlp(batch or 128)[0]
    if key == "r18_64":
        return W._resnet_train(batch or 1, 64)[0]
    if key == "r18_train":
        return W._resnet_train(batch or 16, 224)[0]
    if key == "r18_infer":
        return W._resnet_infer(batch or 16, 224)[0]
    raise SystemExit(f"unknown workload {key}")


def _build(key, fw, batch, threads):
    import workloads as W
    lib = W.lib_of(fw)
    if fw == "torch":
        lib.set_num_threads(threads)
    else:
        try:
            from threadpoolctl import threadpool_limits
            threadpool_limits(threads)
        except ImportError:
            pass
    return _workload(key, batch)(lib, fw)


def _peak_child(key, fw, batch, threads, steps):
    step = _build(key, fw, batch, threads)
    for _ in range(steps):
        step()
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                print(json.dumps({"peak_mb": int(line.split()[1]) / 1024}))


def peak_rss(key, fw, batch, threads, steps=3):
    env = dict(os.environ)
    _threads_env(threads)
    r = subprocess.run([sys.executable, os.path.abspath(__file__), "--_child", key, fw,
                        str(batch or 0), str(threads), str(steps)],
                       capture_output=True, text=True, env={**env, **{
                           k: str(threads) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                     "MKL_NUM_THREADS")}})
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line)["peak_mb"]
    print(r.stderr[-2000:], file=sys.stderr)
    return None


def _no_wino(step):
    import dagrad.ops.conv as C

    def run():
        old, C._WINO_MIN_C = C._WINO_MIN_C, 1 << 62
        try:
            step()
        finally:
            C._WINO_MIN_C = old
    return run


def _no_fused(step):
    import dagrad.ops._threads as T

    def run():
        T.enabled = False
        try:
            step()
        finally:
            T.enabled = True
    return run


def bench(key, batch, threads, repeats, min_time, no_wino=False, no_fused=False,
          clock=time.process_time):
    steps = {fw: _build(key, fw, batch, threads) for fw in ("dagrad", "torch")}
    if no_wino:
        steps["no-wino"] = _no_wino(_build(key, "dagrad", batch, threads))
    if no_fused:
        steps["no-fused"] = _no_fused(_build(key, "dagrad", batch, threads))
    inner = {}
    for fw, step in steps.items():
        for _ in range(2):
            step()
        t0 = clock()
        step()
        inner[fw] = max(1, round(min_time / max(clock() - t0, 1e-6)))
    samples = {fw: [] for fw in steps}
    order = list(steps)
    for r in range(repeats):
        for fw in (order if r % 2 == 0 else order[::-1]):
            gc.collect()
            n = inner[fw]
            t0 = clock()
            for _ in range(n):
                steps[fw]()
            samples[fw].append((clock() - t0) / n)
    return samples


def fmt(s):
    return f"{s * 1e3:9.2f} ms" if s < 1 else f"{s:9.3f} s "


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default="mlp,r18_64,r18_infer",
                   help="comma-separated: mlp, r18_64, r18_train, r18_infer")
    p.add_argument("--batch", type=int, help="batch size (default: the issue's)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--min-time", type=float, default=0.3)
    p.add_argument("--memory", action="store_true", help="peak RSS of each in a subprocess")
    p.add_argument("--no-wino", action="store_true",
                   help="also dagrad without Winograd convolutions (interleaved)")
    p.add_argument("--no-fused", action="store_true",
                   help="also dagrad without the fused, threaded batch-norm / ReLU kernels "
                        "(ops/_threads.py; interleaved)")
    p.add_argument("--wall", action="store_true",
                   help="wall time instead of CPU time (needed to see threads' gains)")
    p.add_argument("--_child", nargs=5, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a._child:
        key, fw, batch, threads, steps = a._child
        _threads_env(int(threads))
        _peak_child(key, fw, int(batch) or None, int(threads), int(steps))
        return
    _threads_env(a.threads)
    print(f"threads={a.threads} repeats={a.repeats} load={os.getloadavg()[0]:.1f} "
          f"({'wall' if a.wall else 'CPU'} time per step; min / median)")
    clock = time.perf_counter if a.wall else time.process_time
    for key in a.only.split(","):
        s = bench(key, a.batch, a.threads, a.repeats, a.min_time, a.no_wino, a.no_fused, clock)
        d, t = s["dagrad"], s["torch"]
        line = (f"{key:10s} batch={a.batch or 'default':<7} dagrad {fmt(min(d))} / "
                f"{fmt(statistics.median(d))}   torch {fmt(min(t))} / "
                f"{fmt(statistics.median(t))}   ratio min {min(d) / min(t):.2f} "
                f"median {statistics.median(d) / statistics.median(t):.2f}")
        if "no-wino" in s:
            nw = s["no-wino"]
            line += (f"   no-wino {fmt(min(nw))} / {fmt(statistics.median(nw))} ratio min "
                     f"{min(nw) / min(t):.2f} median "
                     f"{statistics.median(nw) / statistics.median(t):.2f}")
        if "no-fused" in s:
            nf = s["no-fused"]
            line += (f"   no-fused {fmt(min(nf))} / {fmt(statistics.median(nf))} ratio min "
                     f"{min(nf) / min(t):.2f} median "
                     f"{statistics.median(nf) / statistics.median(t):.2f}")
        if a.memory:
            md = peak_rss(key, "dagrad", a.batch, a.threads)
            mt = peak_rss(key, "torch", a.batch, a.threads)
            if md and mt:
                line += f"   peak RSS {md:.0f} / {mt:.0f} MB = {md / mt:.2f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
