"""Per-layer forward wall time of ResNet18, dagrad vs PyTorch, same process, interleaved.

    python benchmarks/bench_layers.py [--mode infer|train] [--batch 16] [--hw 224] [--reps 5]
        [--threads 2] [--no-fused]

Forward pre/post hooks on every leaf module add up the time of each module class (convolutions
by weight shape and stride); the residual additions are not modules and only show in the total.
In train mode the backward pass is in the total only. `--no-fused` runs dagrad with the fused,
threaded batch-norm / ReLU kernels (ops/_threads.py) switched off.
"""
import argparse
import collections
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
for _p in (os.path.join(os.path.dirname(HERE), "src"), HERE):
    sys.path.insert(0, _p)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", default="infer", choices=("infer", "train"))
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--hw", type=int, default=224)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--no-fused", action="store_true")
    a = p.parse_args()
    if a.threads:
        for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[v] = str(a.threads)
    import torch
    import workloads as W

    import dagrad
    import dagrad.ops._threads as T
    if a.threads:
        torch.set_num_threads(a.threads)
    T.enabled = not a.no_fused
    make = W._resnet_infer if a.mode == "infer" else W._resnet_train
    steps = {fw: make(a.batch, a.hw)[0](lib, fw) for fw, lib in (("dagrad", dagrad),
                                                                   ("torch", torch))}

    def model_of(step):
        for c in step.__closure__:
            v = c.cell_contents
            if hasattr(v, "named_modules") and hasattr(v, "forward"):
                return v
    acc = {fw: collections.defaultdict(float) for fw in steps}
    t_in = {}
    for fw, step in steps.items():
        for _, mod in model_of(step).named_modules():
            if list(mod.children()):
                continue
            key = type(mod).__name__
            if key.startswith("Conv"):
                key += f" {tuple(mod.weight.shape)} s{mod.stride[0]}"

            def pre(mod, inp):
                t_in[id(mod)] = time.perf_counter()

            def post(mod, inp, out, fw=fw, key=key):
                acc[fw][key] += time.perf_counter() - t_in[id(mod)]
            mod.register_forward_pre_hook(pre)
            mod.register_forward_hook(post)
    tot = {fw: [] for fw in steps}
    order = list(steps)
    for r in range(a.reps + 1):
        for fw in (order if r % 2 else order[::-1]):
            t0 = time.perf_counter()
            steps[fw]()
            if r:
                tot[fw].append(time.perf_counter() - t0)
        if r == 0:
            for d in acc.values():
                d.clear()
    md, mt = statistics.median(tot["dagrad"]), statistics.median(tot["torch"])
    print(f"ResNet18 {a.mode} ({a.batch},3,{a.hw},{a.hw}) threads={a.threads or 'default'} "
          f"fused={T.enabled} load={os.getloadavg()[0]:.1f}: step median dagrad "
          f"{md * 1e3:.1f} ms [{min(tot['dagrad']) * 1e3:.1f}, {max(tot['dagrad']) * 1e3:.1f}]"
          f", torch {mt * 1e3:.1f} ms [{min(tot['torch']) * 1e3:.1f}, "
          f"{max(tot['torch']) * 1e3:.1f}], ratio {md / mt:.2f}")
    print("forward time per step (mean over reps), ms:")
    keys = sorted(set(acc["dagrad"]) | set(acc["torch"]), key=lambda k: -acc["dagrad"][k])
    for k in keys:
        d, t = acc["dagrad"][k] / a.reps * 1e3, acc["torch"][k] / a.reps * 1e3
        print(f"  {k:36s} dagrad {d:8.2f}  torch {t:8.2f}  diff {d - t:+8.2f}")
    sd = sum(acc["dagrad"].values()) / a.reps * 1e3
    st = sum(acc["torch"].values()) / a.reps * 1e3
    print(f"  {'all modules':36s} dagrad {sd:8.2f}  torch {st:8.2f}  diff {sd - st:+8.2f}")


if __name__ == "__main__":
    main()
