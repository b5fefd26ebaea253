"""Time per training step against batch size, dagrad vs PyTorch, for the MLP and ResNet18.

    python benchmarks/plot.py                 # writes benchmarks/scaling.png
    python benchmarks/plot.py --quick         # a short sweep (a few batch sizes, 2 repeats)
    python benchmarks/plot.py --hw 224 --resnet-batches 1,2,4,8,16

Same method as run.py (warm-up, interleaved repeats, median) on the same workload code. A reader
sees how cost grows with the work: on a log-log plot, slope 1 is linear scaling, and the gap
between the lines is the per-step overhead that batching amortises.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))
sys.path.insert(0, HERE)

import run as R  # noqa: E402
import workloads as W  # noqa: E402


def sweep(make, batches, flops_of, args, label):
    res = {"dagrad": {}, "torch": {}}
    notes = []
    for b in batches:
        main, _ = make(b)
        w = W.Workload(f"{label}{b}", f"{label} batch {b}", main, flops=flops_of(b))
        times, _, wnotes, _ = R.time_workload(w, list(W.MAIN), args.repeats, args.warmup,
                                              args.min_time, lambda m: None)
        for fw in W.MAIN:
            if fw in times:
                res[fw][b] = times[fw]
            elif fw in wnotes and wnotes[fw] not in notes:
                notes.append(f"{label} ({fw}): {wnotes[fw]}")
        print(f"{label:9s} batch {b:5d}: " + "  ".join(
            f"{fw} {R.fmt_time(times.get(fw))}" for fw in W.MAIN), flush=True)
    return res, notes


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--mlp-batches", help="comma-separated (default 16,32,64,128,256,512,1024)")
    p.add_argument("--resnet-batches", help="comma-separated (default 1,2,4,8,16)")
    p.add_argument("--hw", type=int, default=64, help="ResNet18 input size (default 64)")
    p.add_argument("--repeats", type=int)
    p.add_argument("--output", default=os.path.join(HERE, "scaling.png"))
    args = p.parse_args(argv)
    args.repeats = args.repeats or (2 if args.quick else 5)
    args.warmup = 1 if args.quick else 2
    args.min_time = 0.02 if args.quick else 0.2
    mb = [int(x) for x in (args.mlp_batches or ("16,64,256" if args.quick else
                                                "16,32,64,128,256,512,1024")).split(",")]
    rb = [int(x) for x in (args.resnet_batches or ("1,2" if args.quick else "1,2,4,8,16"))
          .split(",")]
    mlp, n1 = sweep(lambda b: W._mlp(b), mb, W.mlp_flops, args, "MLP")
    res, n2 = sweep(lambda b: W._resnet_train(b, args.hw), rb,
                    lambda b: W.resnet18_flops(b, args.hw, args.hw, train=True), args,
                    "ResNet18")
    for n in n1 + n2:
        print("note:", n)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install matplotlib): no plot written")
        return 1
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    panels = ((axes[0], mlp, "MLP 784-256-128-10: train step (CE + SGD)"),
              (axes[1], res, f"ResNet18: train step (3x{args.hw}x{args.hw}, SGD momentum)"))
    for ax, data, title in panels:
        for fw, style in (("dagrad", "o-"), ("torch", "s--")):
            pts = sorted(data[fw].items())
            if pts:
                ax.plot([b for b, _ in pts], [t * 1e3 for _, t in pts], style,
                        label="PyTorch" if fw == "torch" else fw)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch size")
        ax.set_ylabel("time per step (ms)")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        if any(data.values()):
            ax.legend()
        else:
            ax.text(0.5, 0.5, "not available", ha="center", transform=ax.transAxes)
    info = R.machine_info()
    fig.suptitle(f"dagrad vs PyTorch {info['torch'].split()[0]} on {info['cores']} cores "
                 f"({info['date']})", fontsize=10)
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    print(f"wrote {os.path.relpath(args.output)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
