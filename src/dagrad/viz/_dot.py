"""make_dot: the DAG behind tensors as DOT text, rendered through Graphviz's `dot` when asked."""
import os
import shutil
import subprocess
import tempfile

from ..autograd.function import AccumulateGrad
from . import _graph as G

# colours: the seed's picture has inputs as blue boxes and operations as grey boxes
_LEAF = 'shape=box style="filled" fillcolor="lightblue"'
_FROZEN = 'shape=box style="filled,dashed" fillcolor="white" color="grey40" fontcolor="grey30"'
_OP = 'shape=box style="filled" fillcolor="lightgrey"'
_OUT = 'shape=box style="filled" fillcolor="darkolivegreen1"'
_SAVED = 'shape=box style="filled" fillcolor="orange"'
_MODULE = 'shape=box style="filled,rounded" fillcolor="lightyellow" penwidth=1.5'

_INSTALL_HINT = (
    "Graphviz's `dot` program was not found on PATH; it is needed to render the graph to an "
    "image. Install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), `brew install "
    "graphviz` (macOS), `conda install graphviz`, or see https://graphviz.org/download/. The "
    "DOT text itself is available without it as `.source` (or `.save(path)`).")


class ExecutableNotFound(RuntimeError):
    """Graphviz's `dot` is not installed."""


def _q(s):
    """A DOT double-quoted string; newlines become centred line breaks."""
    s = str(s).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + s.replace("\r", "").replace("\n", "\\n") + '"'


def _shape(shape):
    return "(" + ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _dtype(t):
    return str(t._data.dtype)


def _tensor_label(name, t, extra=None):
    lines = []
    if name:
        lines.append(name)
    lines.append(f"{_shape(t._data.shape)} {_dtype(t)}")
    if extra:
        lines.append(extra)
    return "\n".join(lines)


def _grad_label(rec):
    if rec is None:
        return None
    shape, norm = rec
    return f"{_shape(shape)}\n|g|={norm:.4g}"


def _count(n):
    if n >= 1_000_000:
        return f"{n / 1e6:.2f}M"
    if n >= 10_000:
        return f"{n / 1e3:.1f}k"
    return str(n)


class Graph:
    """A graph drawing: `.source` is DOT text; `render`/`pipe` call Graphviz's `dot`.

    Shows inline in Jupyter (`_repr_svg_`, `_repr_mimebundle_`). `.nodes` and `.edges` hold the
    same content as data: nodes are dicts (id, kind, label, name), edges are
    (source id, target id, kind) in the forward direction (input -> operation).
    """

    def __init__(self, source, nodes, edges):
        self.source = source
        self.nodes = nodes
        self.edges = edges

    def __str__(self):
        return self.source

    def __repr__(self):
        return f"<dagrad.viz.Graph: {len(self.nodes)} nodes, {len(self.edges)} edges>"

    def save(self, path):
        """Write the DOT text to `path`; returns the path."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.source)
        return path

    def pipe(self, format="svg", engine="dot", timeout=120):  # noqa: A002
        """The rendered image as bytes (runs Graphviz)."""
        fmt = str(format).lower()
        if not fmt.isalnum():
            raise ValueError(f"unknown format {format!r}")
        exe = shutil.which(engine)
        if exe is None:
            raise ExecutableNotFound(_INSTALL_HINT)
        r = subprocess.run([exe, f"-T{fmt}"], input=self.source.encode("utf-8"),
                           capture_output=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"Graphviz `{engine} -T{fmt}` failed (exit {r.returncode}): "
                               f"{r.stderr.decode('utf-8', 'replace').strip()}")
        return r.stdout

    def render(self, path, format=None, engine="dot"):  # noqa: A002
        """Render to `path` (format from its extension, or `format`; default svg).

        When `format` is given and `path` does not end with it, `.format` is appended.
        Returns the path written.
        """
        root, ext = os.path.splitext(str(path))
        if format is None:
            format = ext[1:].lower() if ext[1:].lower() in ("svg", "png", "pdf", "jpg", "jpeg",
                                                             "gif", "ps", "eps", "dot", "gv",
                                                             "json") else "svg"
            if not ext or ext[1:].lower() != format:
                path = f"{path}.{format}"
        elif not str(path).lower().endswith("." + format.lower()):
            path = f"{path}.{format}"
        if format in ("dot", "gv"):
            return self.save(path)
        data = self.pipe(format, engine=engine)
        d = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".dagrad-viz-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return str(path)

    def _repr_svg_(self):
        try:
            return self.pipe("svg").decode("utf-8")
        except ExecutableNotFound:
            return None

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        out = {"text/plain": repr(self)}
        svg = self._repr_svg_()
        if svg is not None:
            out["image/svg+xml"] = svg
        else:
            out["text/plain"] = repr(self) + "\n(" + _INSTALL_HINT + ")\n" + self.source
        if include:
            out = {k: v for k, v in out.items() if k in include}
        if exclude:
            out = {k: v for k, v in out.items() if k not in exclude}
        return out


def make_dot(root, params=None, show_saved=False, show_grads=False, collapse_modules=False, *,
             grad_outputs=None, modules=None, names_from_caller=True):
    """Draw the autograd DAG behind `root` (a Tensor or a sequence of Tensors).

    Arrows go in the forward direction: inputs (blue boxes) -> operations (grey boxes, labelled
    with PyTorch's node names such as `MulBackward0`) -> the output (green).

    params: names for leaves: a dict {name: tensor}, (name, tensor) pairs such as
        `model.named_parameters()`, or a Module. Without it, tensors and modules held in the
        caller's local variables name the leaves (`a`, `b`, `fc.weight`...).
        Parameters with requires_grad=False ("frozen") and named tensors that need no grad
        (an input batch `x`) are drawn as dashed white boxes, with a dashed arrow into the
        operation that saved them (or a view of them) for backward; they are not graph edges.
    show_saved: also draw each node's saved tensors (orange) with dotted arrows.
    show_grads: label every edge with the gradient flowing along it (shape and norm). The
        gradients come from the last backward if `watch_grads(root)` was set up before it;
        otherwise make_dot runs its own backward (seeded with ones, or `grad_outputs`) that keeps
        the graph and leaves every `.grad` untouched.
    collapse_modules: True (or a depth, default 1) draws each module as one box. The modules
        come from `record_modules(model)` around the forward pass (or `modules=` that
        recording); without a recording, operations are grouped by the parameter names they use.
    """
    roots = G.as_roots(root)
    frame = G.caller_frame(1) if names_from_caller else None
    names, named = G.collect_names(params, frame)
    del frame
    fns = []
    for t in roots:
        fn, _ = G.root_fn(t)
        fns.append(fn)
    nodes, edges = G.walk(fns)
    grads = None
    if show_grads:
        leaves = [n.variable for n in nodes if isinstance(n, AccumulateGrad)]
        grads = G.grads_for(roots, nodes, leaves, grad_outputs)

    ids = {}
    for k, n in enumerate(nodes):
        ids[n] = f"n{k}"

    # --- module grouping
    group_of = {}
    groups = {}  # name -> dict(type=..., ops=int, params=[tensors])
    note = None
    if collapse_modules is not False and collapse_modules is not None:
        group_of, groups, note = _groups(nodes, names, named, collapse_modules, modules)

    out_nodes = []
    out_edges = []
    lines = ["digraph dagrad {",
             '  graph [rankdir=TB ordering=in fontname="Helvetica"];',
             '  node [fontname="Helvetica" fontsize=11 height=0.2];',
             '  edge [fontname="Helvetica" fontsize=9];']
    if len(nodes) > 400:
        # big graphs (a ResNet's loss): cheaper layout passes, still readable
        lines.append("  graph [nslimit=0.02 nslimit1=0.02 mclimit=0.5 remincross=false];")
    if note:
        lines.append(f"  graph [label={_q(note)} labelloc=b fontsize=10];")

    def rep(n):
        g = group_of.get(n)
        return ("g:" + g) if g is not None else ids[n]

    # groups
    gids = {}
    for k, (gname, info) in enumerate(groups.items()):
        gid = f"m{k}"
        gids["g:" + gname] = gid
        ntr = sum(int(p._data.size) for p in info["params"] if p._rg)
        nfz = sum(int(p._data.size) for p in info["params"] if not p._rg)
        lab = [gname, info["type"]] if info["type"] else [gname]
        lab.append(f"{info['ops']} op" + ("" if info["ops"] == 1 else "s"))
        if ntr or nfz:
            s = f"params: {_count(ntr)} trainable"
            if nfz:
                s += f", {_count(nfz)} frozen"
            lab.append(s)
        style = _MODULE if ntr or not nfz else _MODULE.replace(
            '"filled,rounded" fillcolor="lightyellow"', '"filled,rounded,dashed" fillcolor="white"')
        lines.append(f"  {gid} [label={_q(chr(10).join(lab))} {style} class=\"module\"];")
        out_nodes.append({"id": gid, "kind": "module", "label": "\n".join(lab), "name": gname})

    def gid_of(n):
        r = rep(n)
        return gids.get(r, r)

    # nodes
    for n in nodes:
        if n in group_of:
            continue
        nid = ids[n]
        if isinstance(n, AccumulateGrad):
            v = n.variable
            name = names.get(id(v))
            label = _tensor_label(name, v)
            attrs = _LEAF
            cls = "AccumulateGrad leaf"
            kind = "leaf"
        else:
            name = n.name()
            label = name
            attrs = _OP
            cls = name
            kind = "op"
        lines.append(f"  {nid} [label={_q(label)} {attrs} class={_q(cls)}];")
        out_nodes.append({"id": nid, "kind": kind, "label": label,
                          "name": "AccumulateGrad" if kind == "leaf" else label})

    # edges (forward direction: child -> parent)
    seen_group_edges = {}
    for parent, i, child, nr in edges:
        a, b = gid_of(child), gid_of(parent)
        if a == b:
            continue
        lab = None
        if grads is not None:
            rec = grads.get(parent)
            lab = _grad_label(rec["in"].get(i)) if rec is not None else None
        if child in group_of or parent in group_of:
            key = (a, b)
            if key in seen_group_edges:
                seen_group_edges[key] += 1
                continue
            seen_group_edges[key] = 1
        attr = f" [label={_q(lab)}]" if lab else ""
        lines.append(f"  {a} -> {b}{attr};")
        out_edges.append((a, b, "grad"))

    # frozen / no-grad named tensors that an op saved for backward (the tensor itself, or a
    # view of it such as the transposed weight a Linear layer saves)
    by_array = {}
    for i, t in named.items():
        if not t._rg:
            by_array.setdefault(id(_root_array(t._data)), t)
    frozen_ids = {}
    for n in nodes:
        if isinstance(n, AccumulateGrad) or n in group_of or not by_array:
            continue
        saved = n._saved
        if not saved:
            continue
        seen_here = set()
        for t in saved:
            if t is None or t._rg:
                continue
            hit = named.get(id(t))
            if hit is None or hit._rg:
                hit = by_array.get(id(_root_array(t._data)))
            t = hit
            if t is None or id(t) in seen_here:
                continue
            seen_here.add(id(t))
            fid = frozen_ids.get(id(t))
            if fid is None:
                fid = frozen_ids[id(t)] = f"f{len(frozen_ids)}"
                kind = "frozen" if _is_param(t) else "nograd"
                lab = _tensor_label(names[id(t)], t, "frozen" if kind == "frozen" else
                                    "requires_grad=False")
                lines.append(f"  {fid} [label={_q(lab)} {_FROZEN} class=\"{kind}\"];")
                out_nodes.append({"id": fid, "kind": kind, "label": lab,
                                  "name": names[id(t)]})
            lines.append(f'  {fid} -> {ids[n]} [style=dashed color="grey50" class="nograd"];')
            out_edges.append((fid, ids[n], "nograd"))

    # saved tensors
    if show_saved:
        leaf_of = {id(n.variable): ids[n] for n in nodes
                   if isinstance(n, AccumulateGrad) and n not in group_of}
        k = 0
        for n in nodes:
            if isinstance(n, AccumulateGrad) or n in group_of:
                continue
            saved = list(n._saved or ())
            items = [(None, t) for t in saved if t is not None]
            if n.result_data is not None:
                items.append(("result", n.result_data))
            for tag, t in items:
                if tag is None and id(t) in leaf_of:
                    src = leaf_of[id(t)]
                elif tag is None and id(t) in frozen_ids:
                    continue  # already drawn
                else:
                    src = f"s{k}"
                    k += 1
                    shape = t._data.shape if tag is None else t.shape
                    dt = _dtype(t) if tag is None else str(t.dtype)
                    lab = ("saved result" if tag else "saved") + f"\n{_shape(shape)} {dt}"
                    lines.append(f"  {src} [label={_q(lab)} {_SAVED} class=\"saved\"];")
                    out_nodes.append({"id": src, "kind": "saved", "label": lab, "name": "saved"})
                lines.append(f"  {src} -> {ids[n]} [style=dotted class=\"saved\"];")
                out_edges.append((src, ids[n], "saved"))

    # outputs
    for k, (t, fn) in enumerate(zip(roots, fns)):
        oid = f"o{k}"
        name = names.get(id(t)) or ("output" if len(roots) == 1 else f"output {k}")
        lab = _tensor_label(name, t)
        lines.append(f"  {oid} [label={_q(lab)} {_OUT} class=\"output\"];")
        out_nodes.append({"id": oid, "kind": "output", "label": lab, "name": name})
        if fn is not None:
            glab = None
            if grads is not None and not isinstance(fn, AccumulateGrad):
                rec = grads.get(fn)
                glab = _grad_label(rec["out"].get(t._nr)) if rec is not None else None
            attr = f" [label={_q(glab)}]" if glab else ""
            lines.append(f"  {gid_of(fn)} -> {oid}{attr};")
            out_edges.append((gid_of(fn), oid, "output"))
    lines.append("}")
    return Graph("\n".join(lines) + "\n", out_nodes, out_edges)


def _root_array(a):
    while getattr(a, "base", None) is not None:
        a = a.base
    return a


def _is_param(t):
    return type(t).__name__ == "Parameter"


def _trunc(name, depth):
    return ".".join(name.split(".")[:depth])


def _groups(nodes, names, named, collapse, rec):
    depth = 1
    if isinstance(collapse, G.ModuleRecording):
        rec = collapse
    elif collapse is not True and isinstance(collapse, int):
        if collapse < 1:
            raise ValueError("collapse_modules depth must be >= 1")
        depth = collapse
    if rec is None:
        rec = G.last_recording()
    group_of = {}
    groups = {}
    note = None
    assigned = rec.assign(nodes) if rec is not None else {}
    if assigned:
        for n, mname in assigned.items():
            group_of[n] = _trunc(mname, depth)
        types = rec.types
        owner = rec.param_owner
    else:
        note = ("collapse_modules: no dagrad.viz.record_modules() recording of this forward "
                "pass; operations are grouped by the parameters they use")
        types = {}
        owner = {}
        for i, t in named.items():
            nm = names[i]
            if "." in nm:
                owner[i] = nm.rsplit(".", 1)[0]
        for n in nodes:
            if isinstance(n, AccumulateGrad):
                continue
            for m, _ in n.next_functions:
                if isinstance(m, AccumulateGrad) and id(m.variable) in owner:
                    group_of[n] = _trunc(owner[id(m.variable)], depth)
                    break
    # leaves go into the box of the module owning them
    for n in nodes:
        if isinstance(n, AccumulateGrad):
            o = owner.get(id(n.variable))
            if o:
                group_of[n] = _trunc(o, depth)
    for n, g in group_of.items():
        info = groups.get(g)
        if info is None:
            info = groups[g] = {"type": types.get(g, ""), "ops": 0, "params": []}
        if not isinstance(n, AccumulateGrad):
            info["ops"] += 1
    # parameters (trainable and frozen) of each box, for the counts
    if rec is not None and assigned:
        params = {}
        for pid, o in owner.items():
            params.setdefault(_trunc(o, depth), []).append(pid)
        objs = rec.param_objs
        for g, info in groups.items():
            info["params"] = [objs[p] for p in params.get(g, ())]
    else:
        for i, o in owner.items():
            g = _trunc(o, depth)
            if g in groups:
                groups[g]["params"].append(named[i])
    return group_of, groups, note
