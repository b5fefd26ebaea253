"""Run many scripts after importing torch (or dagrad's shim) once: one forked child per script.

    python _runner.py torch|dagrad OUTDIR SCRIPT... -- ARG...

Child i writes OUTDIR/<script>.out / .err / .rc. In dagrad mode the child runs
`dagrad.cli.main(["run", script, *args])`, i.e. exactly what `python -m dagrad run` does after
interpreter start-up. Importing once and forking keeps tests/test_scripts.py fast (importing
torch costs seconds).
"""
import os
import signal
import sys
import traceback

TIMEOUT = 100


def _warm_torch():
    """First use of torch.optim (dynamo imports), DataLoader, save/load costs seconds: pay it
    once in the parent. Tiny tensors only (no intra-op thread pool before the forks)."""
    import io

    import torch
    import torch.nn.functional  # noqa: F401
    from torch.utils.data import DataLoader, TensorDataset
    m = torch.nn.Linear(2, 2)
    for opt in (torch.optim.SGD(m.parameters(), lr=0.1), torch.optim.Adam(m.parameters())):
        m(torch.ones(1, 2)).sum().backward()
        opt.step()
        torch.optim.lr_scheduler.StepLR(opt, 1).step()
    for _ in DataLoader(TensorDataset(torch.ones(4, 2)), batch_size=2):
        pass
    f = io.BytesIO()
    torch.save(m.state_dict(), f)
    f.seek(0)
    torch.load(f)


def main():
    mode, outdir, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    sep = rest.index("--") if "--" in rest else len(rest)
    scripts, args = rest[:sep], rest[sep + 1:]
    if mode == "torch":
        _warm_torch()
    else:
        import dagrad  # noqa: F401
        import dagrad.nn  # noqa: F401
        from dagrad import cli
    base_path = list(sys.path)
    for script in scripts:
        name = os.path.basename(script)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                fo = os.open(os.path.join(outdir, name + ".out"), os.O_WRONLY | os.O_CREAT, 0o644)
                fe = os.open(os.path.join(outdir, name + ".err"), os.O_WRONLY | os.O_CREAT, 0o644)
                os.dup2(fo, 1)
                os.dup2(fe, 2)
                signal.alarm(TIMEOUT)
                sys.path[:] = [os.path.dirname(os.path.abspath(script))] + base_path
                try:
                    if mode == "torch":
                        import runpy
                        sys.argv = [script, *args]
                        runpy.run_path(script, run_name="__main__")
                        code = 0
                    else:
                        code = cli.main(["run", script, *args]) or 0
                except SystemExit as e:
                    c = e.code
                    code = 0 if c is None else (c if isinstance(c, int) else 1)
                    if not isinstance(c, (int, type(None))):
                        print(c, file=sys.stderr)
                except BaseException:
                    traceback.print_exc()
                    code = 1
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        rc = os.waitstatus_to_exitcode(status)
        with open(os.path.join(outdir, name + ".rc"), "w") as f:
            f.write(str(rc))


if __name__ == "__main__":
    main()
