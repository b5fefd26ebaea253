"""dagrad's benchmark suite (issue 6): each workload in dagrad and PyTorch in the same process.

    python benchmarks/run.py              # everything; writes benchmarks/RESULTS.md (`make bench`)
    python benchmarks/run.py --quick      # small workloads, few repeats (RESULTS-quick.md)
    python benchmarks/run.py --only tiny2,mlp --no-memory
    python benchmarks/run.py --list

Method: every framework's step is built first, warmed up, and its inner loop count calibrated so a
sample lasts about --min-time; then the repeats are interleaved (dagrad, torch, peers, rotated
each round) so machine noise hits all alike; the median per-iteration time is reported, with the
ratio dagrad/PyTorch, GFLOP/s where the FLOPs are known, and the peak RSS of a fresh subprocess
that runs only that framework's workload (VmHWM). Peers (tinygrad, MyGrad, HIPS
autograd, JAX with and without jit, micrograd, hand-written NumPy) run where installed and are
skipped cleanly otherwise; a workload a framework cannot run yet is reported "not available".
"""
import argparse
import datetime
import gc
import importlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SRC = os.path.join(ROOT, "src")
if SRC not in sys.path:
    sys.path.insert(0, SRC)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import workloads as W  # noqa: E402

PEER_MODULES = {"numpy": "numpy", "micrograd": "micrograd", "mygrad": "mygrad",
                "autograd": "autograd", "jax": "jax", "jax-jit": "jax", "tinygrad": "tinygrad"}


# ----------------------------------------------------------------------------- formatting
def fmt_time(s):
    if s is None:
        return "–"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def fmt_mb(mb):
    return "–" if mb is None else (f"{mb / 1024:.2f} GB" if mb >= 1024 else f"{mb:.0f} MB")


def _short(msg, n=90):
    msg = " ".join(str(msg).split())
    return msg if len(msg) <= n else msg[:n - 1] + "…"


# ----------------------------------------------------------------------------- machine
def machine_info():
    info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "platform": platform.platform(), "python": platform.python_version()}
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["cpu"] = cpu
    info["cores"] = os.cpu_count()
    try:
        info["cores_usable"] = len(os.sched_getaffinity(0))
    except AttributeError:
        info["cores_usable"] = os.cpu_count()
    try:
        info["loadavg"] = "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        info["loadavg"] = "?"
    import numpy as np
    info["numpy"] = np.__version__
    blas = []
    try:
        from threadpoolctl import threadpool_info
        for d in threadpool_info():
            if d.get("user_api") == "blas":
                blas.append(f"{d.get('internal_api')} {d.get('version')} "
                            f"({d.get('architecture')}, {d.get('num_threads')} threads, "
                            f"{os.path.basename(d.get('filepath', ''))})")
    except ImportError:
        pass
    if not blas:
        try:
            cfg = np.show_config(mode="dicts")
            b = cfg.get("Build Dependencies", {}).get("blas", {})
            blas.append(f"{b.get('name')} {b.get('version')} (numpy.show_config)")
        except Exception:  # noqa: BLE001
            blas.append("unknown")
    info["blas"] = "; ".join(blas)
    try:
        import torch
        info["torch"] = f"{torch.__version__} ({torch.get_num_threads()} intra-op threads)"
    except ImportError:
        info["torch"] = "not installed"
    try:
        import dagrad
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True).stdout.strip()
        info["dagrad"] = f"{dagrad.__version__} (git {rev or '?'}{', modified' if dirty else ''})"
    except ImportError:
        info["dagrad"] = "not importable"
    peers = {}
    for name in sorted(set(PEER_MODULES.values()) - {"numpy"}):
        try:
            m = importlib.import_module(name)
            peers[name] = getattr(m, "__version__", "installed")
        except Exception:  # noqa: BLE001
            peers[name] = None
    info["peers"] = peers
    return info


def set_threads(n):
    """The same thread budget for NumPy's BLAS (dagrad) and PyTorch, also in subprocesses."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(n)
    except ImportError:
        pass
    try:
        import torch
        torch.set_num_threads(n)
    except ImportError:
        pass


# ----------------------------------------------------------------------------- timing
def _build(w, fw):
    """(step, note): the step after one call (so a broken step is found before timing)."""
    try:
        step = w.build(fw)
        step()
        return step, None
    except W.Unavailable as e:
        return None, f"not available: {_short(e)}"
    except Exception as e:  # noqa: BLE001 - report, never crash the suite
        return None, f"error: {type(e).__name__}: {_short(e)}"


def time_workload(w, fws, repeats, warmup, min_time, log):
    steps, notes = {}, {}
    for fw in fws:
        step, note = _build(w, fw)
        if step is None:
            notes[fw] = note
            if fw in W.MAIN:
                log(f"  {fw}: {note}")
        else:
            steps[fw] = step
    inner = {}
    for fw, step in list(steps.items()):
        try:
            for _ in range(max(0, warmup - 1)):
                step()
            t0 = time.perf_counter()
            step()
            t1 = time.perf_counter() - t0
        except Exception as e:  # noqa: BLE001
            notes[fw] = f"error: {type(e).__name__}: {_short(e)}"
            del steps[fw]
            continue
        inner[fw] = max(1, math.ceil(min_time / max(t1, 1e-9)))
    samples = {fw: [] for fw in steps}
    order = list(steps)
    for r in range(repeats):
        k = r % max(1, len(order))
        for fw in order[k:] + order[:k]:
            if fw not in steps:
                continue
            step, n = steps[fw], inner[fw]
            gc.collect()
            try:
                t0 = time.perf_counter()
                for _ in range(n):
                    step()
                samples[fw].append((time.perf_counter() - t0) / n)
            except Exception as e:  # noqa: BLE001
                notes[fw] = f"error: {type(e).__name__}: {_short(e)}"
                del steps[fw]
    times = {fw: statistics.median(s) for fw, s in samples.items() if s and fw in steps}
    spread = {fw: (min(s), max(s)) for fw, s in samples.items() if s and fw in steps}
    return times, spread, notes, inner


def time_imports(repeats, log):
    """Wall time of `python -c "import X"` in fresh interpreters (median), and bare startup."""
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmds = {"python": "pass", "dagrad": "import dagrad", "torch": "import torch"}
    ok = {}
    for k, c in cmds.items():
        r = subprocess.run([sys.executable, "-c", c], env=env, capture_output=True, text=True)
        ok[k] = r.returncode == 0
        if not ok[k]:
            log(f"  import {k} failed: {_short(r.stderr.strip().splitlines()[-1:] or '?')}")
    samples = {k: [] for k in cmds if ok[k]}
    for r in range(repeats):
        for k in samples:
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", cmds[k]], env=env, capture_output=True)
            samples[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in samples.items()}


def measure_memory(key, fw, timeout):
    """Peak RSS (MB) of a fresh interpreter that runs only this workload in this framework."""
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    try:
        r = subprocess.run([sys.executable, os.path.abspath(__file__), "--_memory", key, fw],
                           env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "memory run timed out"
    for line in reversed(r.stdout.strip().splitlines()):
        if line.startswith("{"):
            d = json.loads(line)
            return d.get("peak_mb"), d.get("error")
    return None, _short(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "no output")


def _peak_rss_mb():
    # VmHWM is this process's own high-water mark; ru_maxrss would carry the parent's over exec
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if sys.platform != "darwin" else rss / 2**20


def _memory_child(key, fw):
    w = W.by_key()[key]
    out = {}
    try:
        step = w.build(fw)
        for _ in range(3):
            step()
    except Exception as e:  # noqa: BLE001
        out["error"] = f"{type(e).__name__}: {_short(e)}"
    out["peak_mb"] = _peak_rss_mb()
    print(json.dumps(out))


# ----------------------------------------------------------------------------- report
def render(info, rows, peer_rows, peers_shown, notes, args, cmd):
    lines = ["# dagrad benchmarks", ""]
    lines.append(f"Generated by `{cmd}` on {info['date']}"
                 + (" (**--quick**: few repeats, heavy workloads skipped)" if args.quick else "")
                 + ".")
    try:
        load1 = float(info["loadavg"].split()[0])
    except (ValueError, IndexError):
        load1 = 0.0
    if load1 > (info["cores_usable"] or 1):
        lines += ["", f"> **Warning**: the machine was busy (load average {load1:.1f} on "
                      f"{info['cores_usable']} cores): times are inflated and noisy, worst for "
                      "multi-threaded BLAS/OpenMP; rerun on an idle machine (or with --threads 1) "
                      "before drawing conclusions."]
    lines += ["", "## Machine", "",
              f"- CPU: {info['cpu']}; {info['cores']} cores ({info['cores_usable']} usable); "
              f"load average at start {info['loadavg']}",
              f"- BLAS (NumPy): {info['blas']}",
              f"- Python {info['python']}, NumPy {info['numpy']}, PyTorch {info['torch']}, "
              f"dagrad {info['dagrad']}",
              "- Peers: " + (", ".join(f"{k} {v}" for k, v in info["peers"].items() if v)
                              or "none installed (`pip install -e '.[bench]'`)"),
              f"- Platform: {info['platform']}", "",
              "## Results", "",
              f"Median time per iteration over {args.repeats} interleaved repeats after "
              f"{args.warmup} warm-up run(s); ratio = dagrad / PyTorch (lower is better). "
              "Peak RSS: a fresh process running only that framework's workload.", "",
              "| workload | dagrad | PyTorch | ratio | target | met | GFLOP/s dagrad / PyTorch "
              "| peak RSS dagrad / PyTorch |",
              "|---|---:|---:|---:|---|:-:|---:|---:|"]
    for r in rows:
        lines.append("| " + " | ".join(r) + " |")
    if peer_rows and peers_shown:
        lines += ["", "## Peers (same process, same method)", "",
                  "| workload | dagrad | PyTorch | " + " | ".join(peers_shown) + " |",
                  "|---|" + "---:|" * (2 + len(peers_shown))]
        for r in peer_rows:
            lines.append("| " + " | ".join(r) + " |")
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


KEEP_MARKER = "<!-- kept by benchmarks/run.py: measurements made by other means -->"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="few repeats, short samples, heavy (224x224) workloads skipped")
    p.add_argument("--only", help="comma-separated workload keys (see --list)")
    p.add_argument("--repeats", type=int, help="timed repeats per framework (default 7; quick 3)")
    p.add_argument("--warmup", type=int, help="warm-up runs (default 3; quick 1)")
    p.add_argument("--min-time", type=float, help="seconds per sample (default 0.2; quick 0.03)")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-RSS subprocesses")
    p.add_argument("--threads", type=int, help="limit BLAS (threadpoolctl) and PyTorch to N "
                                                "threads (default: as installed, all cores)")
    p.add_argument("--no-peers", action="store_true", help="only dagrad and PyTorch")
    p.add_argument("--output", help="markdown file (default benchmarks/RESULTS.md; quick: "
                                    "benchmarks/RESULTS-quick.md); '-' for none")
    p.add_argument("--json", help="also write the raw numbers as JSON here")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    p.add_argument("--_memory", nargs=2, metavar=("KEY", "FW"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._memory:
        _memory_child(*args._memory)
        return 0
    wls = W.workloads()
    if args.list:
        for w in wls:
            print(f"{w.key:15s} {w.title}{'  [heavy]' if w.heavy else ''}")
        return 0
    args.repeats = args.repeats or (3 if args.quick else 7)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    args.min_time = args.min_time or (0.03 if args.quick else 0.2)
    if args.only:
        keys = [k.strip() for k in args.only.split(",") if k.strip()]
        known = {w.key for w in wls}
        bad = [k for k in keys if k not in known]
        if bad:
            p.error(f"unknown workload(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")
        wls = [w for w in wls if w.key in keys]
    elif args.quick:
        wls = [w for w in wls if not w.heavy]
    out = args.output or os.path.join(HERE, "RESULTS-quick.md" if args.quick else "RESULTS.md")
    cmd = "python benchmarks/run.py" + ("" if argv is None and len(sys.argv) == 1 else " "
                                        + " ".join(sys.argv[1:] if argv is None else argv))

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    if args.threads:
        set_threads(args.threads)
    info = machine_info()
    if args.threads:
        info["blas"] += f"; limited to {args.threads} thread(s) by --threads"
    log(f"dagrad benchmarks: {len(wls)} workload(s), repeats={args.repeats}, "
        f"warmup={args.warmup}, min sample {args.min_time}s; {info['cores']} cores, "
        f"load {info['loadavg']}")
    peers = [] if args.no_peers else [
        pn for pn in W.PEERS if pn == "numpy" or info["peers"].get(PEER_MODULES[pn])]
    rows, peer_rows, notes, raw = [], [], [], {"machine": info, "workloads": {}}
    peers_seen = set()
    for w in wls:
        log(f"- {w.key}: {w.title}")
        t_start = time.perf_counter()
        if w.kind == "import":
            t = time_imports(max(args.repeats, 5), log)
            d, tt = t.get("dagrad"), t.get("torch")
            ratio = f"{d / tt:.2f}" if d and tt else "–"
            met = "–" if d is None else ("✅" if d <= 0.2 else "❌")
            rows.append([w.title, fmt_time(d), fmt_time(tt), ratio, w.target[1], met, "–", "–"])
            if "python" in t:
                notes.append(f"import: bare `python -c pass` takes {fmt_time(t['python'])} of "
                             f"each; dagrad alone adds {fmt_time((d or 0) - t['python'])}.")
            raw["workloads"][w.key] = {"times": t}
            continue
        fws = list(W.MAIN) + [pn for pn in peers if pn in w.peers]
        times, spread, wnotes, inner = time_workload(w, fws, args.repeats, args.warmup,
                                                     args.min_time, log)
        d, tt = times.get("dagrad"), times.get("torch")
        ratio = f"{d / tt:.2f}" if d and tt else "–"
        lim = w.target[0] if w.target else None
        met = "–" if not (d and tt and lim) else ("✅" if d / tt <= lim else "❌")
        if w.flops and (d or tt):
            gf = " / ".join(f"{w.flops / x / 1e9:.1f}" if x else "–" for x in (d, tt))
        else:
            gf = "–"
        mem = {}
        if not args.no_memory:
            for fw in W.MAIN:
                if fw in times:
                    mb, err = measure_memory(w.key, fw, timeout=600)
                    mem[fw] = mb
                    if err:
                        notes.append(f"{w.key} memory ({fw}): {err}")
        memcol = "–" if not mem else " / ".join(fmt_mb(mem.get(fw)) for fw in W.MAIN)
        dcell = fmt_time(d) if d else ("n/a" if "dagrad" in wnotes else "–")
        tcell = fmt_time(tt) if tt else ("n/a" if "torch" in wnotes else "–")
        rows.append([w.title, dcell, tcell, ratio, w.target[1] if w.target else "–", met, gf,
                     memcol])
        for fw in W.MAIN:
            if fw in wnotes:
                notes.append(f"{w.key} ({fw}): {wnotes[fw]}")
        src = getattr(w, "info", None)
        if src:
            notes.append(f"{w.key}: model " + "; ".join(f"{k}: {v}" for k, v in src.items()))
        prow = [w.title, fmt_time(d), fmt_time(tt)]
        for pn in peers:
            if pn in times:
                prow.append(fmt_time(times[pn]))
                peers_seen.add(pn)
            elif pn in w.peers:
                prow.append("n/a")
                if pn in wnotes and not wnotes[pn].startswith("not available"):
                    notes.append(f"{w.key} ({pn}): {wnotes[pn]}")
                elif pn in wnotes and "cannot run here" in wnotes[pn]:
                    line = f"{pn}: {wnotes[pn]}"  # installed but unusable: say why, once
                    if line not in notes:
                        notes.append(line)
            else:
                prow.append("–")
        peer_rows.append(prow)
        raw["workloads"][w.key] = {"times": times, "spread": spread, "inner": inner,
                                   "notes": wnotes, "flops": w.flops, "peak_rss_mb": mem}
        log(f"  dagrad {fmt_time(d)}  torch {fmt_time(tt)}  ratio {ratio}  "
            f"({time.perf_counter() - t_start:.1f}s)")
    shown = [pn for pn in peers if pn in peers_seen]
    if shown:
        idx = [3 + peers.index(pn) for pn in shown]
        peer_rows = [r[:3] + [r[i] for i in idx] for r in peer_rows]
    if "numpy" in shown:
        notes.append("numpy column: the tiny graph's forward alone; a hand-written NumPy MLP "
                     "step; a naive im2col conv forward+backward.")
    missing = [pn for pn in W.PEERS if pn != "numpy" and pn not in peers]
    if missing and not args.no_peers:
        notes.append("peers not installed (skipped): " + ", ".join(missing))
    notes.append("GFLOP/s counts matmul/convolution FLOPs only (2 per multiply-add); a training "
                 "step counts forward + weight gradients + input gradients.")
    text = render(info, rows, peer_rows, shown, notes, args, cmd)
    print(text)
    if out != "-":
        # measurements taken by other means (callgrind, the GPU machine) live below a marker
        # and survive a rerun of this script
        kept = ""
        if os.path.exists(out):
            with open(out, encoding="utf-8") as f:
                old = f.read()
            if KEEP_MARKER in old:
                kept = "\n" + old[old.index(KEEP_MARKER):]
        with open(out, "w", encoding="utf-8") as f:
            f.write(text + kept)
        log(f"wrote {os.path.relpath(out)}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
