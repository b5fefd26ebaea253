"""print_graph: the DAG as an indented tree of nodes, a compact `grad_fn.next_functions` walk."""
import sys

from ..autograd.function import AccumulateGrad
from . import _graph as G

_UNI = ("├─ ", "└─ ", "│  ", "   ")
_ASCII = ("|- ", "`- ", "|  ", "   ")


def _shape(shape):
    return "(" + ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def format_graph(root, params=None, show_none=False, max_depth=None, ascii=False,  # noqa: A002
                 _frame=None):
    """The tree printed by `print_graph`, as a string."""
    roots = G.as_roots(root)
    names, _ = G.collect_names(params, _frame)
    br, last, bar, blank = _ASCII if ascii else _UNI
    lines = []
    seen = {}

    def label(n):
        if n is None:
            return "None"
        if isinstance(n, AccumulateGrad):
            v = n.variable
            nm = names.get(id(v))
            s = f"AccumulateGrad  {nm + ' ' if nm else ''}{_shape(v._data.shape)} {v._data.dtype}"
            return s
        return n.name()

    for k, t in enumerate(roots):
        fn, nr = G.root_fn(t)
        nm = names.get(id(t))
        head = f"{nm + ' ' if nm else ''}{_shape(t._data.shape)} {t._data.dtype}"
        if fn is None:
            lines.append(f"{head}  (no grad_fn: not part of an autograd graph)")
            continue
        lines.append(f"{head}  <- {label(fn)}" + (f" [output {nr}]" if nr else ""))
        # iterative pre-order walk: (node, output_nr, prefix, is_last, depth)
        stack = []

        def push_children(n, prefix, depth):
            kids = [(m, r) for m, r in (n.next_functions or ())
                    if m is not None or show_none]
            for j in range(len(kids) - 1, -1, -1):
                stack.append((kids[j][0], kids[j][1], prefix, j == len(kids) - 1, depth))

        seen[fn] = len(seen) + 1 if fn not in seen else seen[fn]
        push_children(fn, "", 1)
        while stack:
            n, r, prefix, is_last, depth = stack.pop()
            conn = last if is_last else br
            out = f" [{r}]" if r else ""
            if n is not None and n in seen and not isinstance(n, AccumulateGrad):
                lines.append(f"{prefix}{conn}{label(n)}{out}  (shared, shown above)")
                continue
            lines.append(f"{prefix}{conn}{label(n)}{out}")
            if n is None or isinstance(n, AccumulateGrad):
                continue
            seen[n] = len(seen) + 1
            if max_depth is not None and depth >= max_depth:
                if n.next_functions:
                    lines.append(f"{prefix}{blank if is_last else bar}{last}...")
                continue
            push_children(n, prefix + (blank if is_last else bar), depth + 1)
    return "\n".join(lines)


def print_graph(root, params=None, file=None, show_none=False, max_depth=None):
    """Print the tree of autograd nodes behind `root`, following `next_functions`.

    Each line is a node (PyTorch's name, e.g. `MulBackward0`); leaves are `AccumulateGrad`
    with the leaf's name (from `params` or the caller's variables), shape and dtype. A node
    reached a second time is marked "(shared, shown above)" instead of repeated.
    `show_none=True` also lists the `(None, 0)` entries of inputs that need no gradient.
    """
    file = sys.stdout if file is None else file
    enc = getattr(file, "encoding", None) or "utf-8"
    try:
        "├└│".encode(enc)
        asc = False
    except (UnicodeEncodeError, LookupError):
        asc = True
    text = format_graph(root, params=params, show_none=show_none, max_depth=max_depth,
                        ascii=asc, _frame=G.caller_frame(1))
    print(text, file=file)
