"""The `dagrad` command: run unmodified PyTorch scripts, the tutorial, training."""
import argparse
import sys

from . import torch_shim


def _cmd_run(args):
    torch_shim.install()
    import runpy
    sys.argv = [args.script] + list(args.args)
    # as `python script.py`: the script's directory, not the current one, heads sys.path
    import os
    script_dir = os.path.dirname(os.path.abspath(args.script))
    if sys.path and sys.path[0] in ("", os.getcwd()):
        sys.path[0] = script_dir
    else:
        sys.path.insert(0, script_dir)
    runpy.run_path(args.script, run_name="__main__")
    return 0


def _cmd_seed(args):
    from . import _seed_demo
    _seed_demo.main()
    return 0


def _cmd_tutorial(args):
    try:
        from . import tutorial
    except ImportError:
        from . import _seed_demo
        _seed_demo.main()
        return 0
    return tutorial.main(args)


def main(argv=None):
    p = argparse.ArgumentParser(prog="dagrad", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run a PyTorch script with dagrad serving `import torch`")
    r.add_argument("script")
    r.add_argument("args", nargs=argparse.REMAINDER)
    r.set_defaults(fn=_cmd_run)
    s = sub.add_parser("seed", help="the seed's autograd example")
    s.set_defaults(fn=_cmd_seed)
    t = sub.add_parser("tutorial", help="walk through the seed end to end")
    t.add_argument("--out", default="dagrad-tutorial")
    t.add_argument("--quick", action="store_true")
    t.set_defaults(fn=_cmd_tutorial)
    try:
        from . import train as _train
        _train.add_parser(sub)
    except ImportError:
        pass
    args = p.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
