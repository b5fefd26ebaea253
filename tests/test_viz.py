"""dagrad.viz: DOT text has exactly PyTorch's nodes and edges; rendering; gradients on edges."""
import io
import re
import shutil
import xml.etree.ElementTree as ET
from collections import Counter

import numpy as np
import pytest
import torch

import dagrad
from dagrad import viz

HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz `dot` not installed")

_NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)".*?class="([^"]*)"')
_EDGE = re.compile(r"^\s*(\w+) -> (\w+)(.*);$")


def parse_dot(src):
    """(nodes: id -> (first label line, class), edges: list of (src, dst, attrs))."""
    nodes, edges = {}, []
    for line in src.splitlines():
        m = _EDGE.match(line)
        if m:
            edges.append((m.group(1), m.group(2), m.group(3)))
            continue
        m = _NODE.match(line)
        if m:
            nodes[m.group(1)] = (m.group(2).split("\\n")[0], m.group(3))
    return nodes, edges


def dot_graph_edges(src):
    """The autograd edges of a DOT text as a multiset of (parent name, child name)."""
    nodes, edges = parse_dot(src)

    def nm(i):
        label, cls = nodes[i]
        return "AccumulateGrad" if cls.startswith("AccumulateGrad") else label

    out = Counter()
    for a, b, attrs in edges:
        if nodes[b][1] == "output" or "nograd" in attrs or "saved" in attrs:
            continue
        out[(nm(b), nm(a))] += 1
    names = Counter(nm(i) for i, (_, cls) in nodes.items()
                    if cls not in ("output", "frozen", "nograd", "saved", "module"))
    return out, names


def torch_graph_edges(roots):
    seen, stack, edges, names = set(), [r.grad_fn for r in roots], Counter(), Counter()
    while stack:
        n = stack.pop()
        if n is None or n in seen:
            continue
        seen.add(n)
        names[n.name().replace("torch::autograd::", "")] += 1
        for m, _ in n.next_functions:
            if m is not None:
                edges[(n.name(), m.name().replace("torch::autograd::", ""))] += 1
                stack.append(m)
    return edges, names


def _q(lib, a, b):
    return [3 * a**3 - b**2]


def _square(lib, a, b):
    return [a * a + a]


def _shared(lib, a, b):
    c = a.exp()
    return [(c * b + c.sin()).sum()]


def _broadcast(lib, a, b):
    return [(a.reshape(2, 1) * b.reshape(1, 2)).mean(dim=0).tanh()]


def _two_roots(lib, a, b):
    c = a * b
    return [c.sum(), (c - a).pow(2)]


def _matmul(lib, a, b):
    return [((a.unsqueeze(1) @ b.unsqueeze(0)) @ b).relu().sum()]


@pytest.mark.parametrize("fn", [_q, _square, _shared, _broadcast, _two_roots, _matmul])
def test_dot_has_torchs_nodes_and_edges(fn):
    A, B = [2.0, 3.0], [6.0, 4.0]
    ta = torch.tensor(A, requires_grad=True)
    tb = torch.tensor(B, requires_grad=True)
    da = dagrad.tensor(A, requires_grad=True)
    db = dagrad.tensor(B, requires_grad=True)
    t_roots = fn(torch, ta, tb)
    d_roots = fn(dagrad, da, db)
    want_edges, want_names = torch_graph_edges(t_roots)
    g = viz.make_dot(d_roots if len(d_roots) > 1 else d_roots[0])
    got_edges, got_names = dot_graph_edges(g.source)
    assert got_edges == want_edges
    assert got_names == want_names
    # one output box per root, fed by the root's grad_fn
    nodes, edges = parse_dot(g.source)
    outs = [i for i, (_, c) in nodes.items() if c == "output"]
    assert len(outs) == len(d_roots)
    assert sorted(nodes[a][0] for a, b, _ in edges if b in outs) == sorted(
        r.grad_fn.name() for r in d_roots)


def test_seed_q_picture_labels_and_styles():
    a = dagrad.tensor([2., 3.], requires_grad=True)
    b = dagrad.tensor([6., 4.], requires_grad=True)
    Q = 3 * a**3 - b**2
    g = viz.make_dot(Q)
    src = g.source
    assert src.startswith("digraph")
    # leaves named after the caller's variables, with shape and dtype, as blue boxes
    assert re.search(r'\[label="a\\n\(2,\) float32" [^\]]*fillcolor="lightblue"', src)
    assert re.search(r'\[label="b\\n\(2,\) float32" [^\]]*fillcolor="lightblue"', src)
    assert re.search(r'\[label="Q\\n\(2,\) float32" [^\]]*class="output"', src)
    for op in ("PowBackward0", "MulBackward0", "SubBackward0"):
        assert re.search(rf'\[label="{op}" [^\]]*fillcolor="lightgrey"', src)
    # forward direction: a -> PowBackward0 -> MulBackward0 -> SubBackward0 -> Q
    nodes, edges = parse_dot(src)
    by = {v[0]: k for k, v in nodes.items() if v[0] in ("a", "Q", "SubBackward0")}
    assert any(s == by["a"] and nodes[d][0] == "PowBackward0" for s, d, _ in edges)
    assert any(s == by["SubBackward0"] and d == by["Q"] for s, d, _ in edges)
    assert {n["kind"] for n in g.nodes} == {"op", "leaf", "output"}
    assert "7 nodes" in repr(g)


def test_params_names_override_locals():
    x = dagrad.tensor([1., 2.], requires_grad=True)
    y = (x * 2).sum()
    src = viz.make_dot(y, params={"weights": x}).source
    assert 'label="weights\\n(2,) float32"' in src
    src = viz.make_dot(y, params=[("w0", x)]).source
    assert 'label="w0\\n(2,) float32"' in src
    # names_from_caller=False and no params: shape only
    src = viz.make_dot(y, names_from_caller=False).source
    assert 'label="(2,) float32"' in src
    with pytest.raises(TypeError, match="params must map names"):
        viz.make_dot(y, params=[x])


def test_frozen_parameter_drawn_differently():
    x = dagrad.tensor([1., 2., 3.], requires_grad=True)
    w = dagrad.tensor([0.5, -1., 2.])  # frozen: requires_grad=False
    y = (x * w).sum()
    g = viz.make_dot(y, params={"x": x, "w": w})
    nodes, edges = parse_dot(g.source)
    frozen = [k for k, (lab, cls) in nodes.items() if cls == "nograd"]
    assert [nodes[k][0] for k in frozen] == ["w"]
    assert re.search(r'label="w\\n\(3,\) float32\\nrequires_grad=False" [^\]]*dashed', g.source)
    # the dashed edge goes into the multiplication that saved w
    (src, dst, attrs), = [e for e in edges if e[0] == frozen[0]]
    assert nodes[dst][0] == "MulBackward0" and "dashed" in attrs
    # and the trainable x stays a blue leaf
    assert re.search(r'label="x\\n\(3,\) float32" [^\]]*lightblue', g.source)
    # the autograd edges are still exactly torch's
    tx = torch.tensor([1., 2., 3.], requires_grad=True)
    ty = (tx * torch.tensor([0.5, -1., 2.])).sum()
    assert dot_graph_edges(g.source)[0] == torch_graph_edges([ty])[0]


def _grad_labels(src):
    nodes, edges = parse_dot(src)
    out = {}
    for a, b, attrs in edges:
        m = re.search(r'label="\(([\d, ]*),?\)\\n\|g\|=([\d.e+-]+)"', attrs)
        if m:
            out.setdefault((nodes[a][0], nodes[b][0]), []).append(float(m.group(2)))
    return out


def test_show_grads_labels_match_torch_gradients():
    A, B = np.array([2., 3.]), np.array([6., 4.])
    a = dagrad.tensor(A, requires_grad=True)
    b = dagrad.tensor(B, requires_grad=True)
    Q = 3 * a**3 - b**2
    labels = _grad_labels(viz.make_dot(Q, show_grads=True).source)
    # make_dot's own backward keeps the graph and does not touch .grad
    assert a.grad is None and b.grad is None
    ta = torch.tensor(A, requires_grad=True)
    tb = torch.tensor(B, requires_grad=True)
    tq = 3 * ta**3 - tb**2
    tq.backward(torch.ones(2))
    np.testing.assert_allclose(labels[("a", "PowBackward0")], [ta.grad.norm().item()],
                               rtol=1e-3)
    np.testing.assert_allclose(labels[("b", "PowBackward0")], [tb.grad.norm().item()],
                               rtol=1e-3)
    np.testing.assert_allclose(labels[("SubBackward0", "Q")], [np.sqrt(2)], rtol=1e-3)
    # d(3*p)/dp = 3 for p = a**3: the edge PowBackward0 -> MulBackward0 carries 3*ones
    np.testing.assert_allclose(labels[("PowBackward0", "MulBackward0")], [3 * np.sqrt(2)],
                               rtol=1e-3)
    # the graph is still usable afterwards
    Q.backward(dagrad.ones(2))
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy())


def test_show_grads_broadcast_edge_has_input_shape():
    a = dagrad.tensor([[1., 2., 3.]], requires_grad=True)   # (1, 3)
    b = dagrad.tensor([[1.], [2.]], requires_grad=True)     # (2, 1)
    y = (a * b).sum()
    src = viz.make_dot(y, show_grads=True).source
    assert re.search(r'-> \w+ \[label="\(1, 3\)\\n\|g\|=', src)   # reduced to a's shape
    assert re.search(r'-> \w+ \[label="\(2, 1\)\\n\|g\|=', src)
    ta = torch.tensor([[1., 2., 3.]], requires_grad=True)
    tb = torch.tensor([[1.], [2.]], requires_grad=True)
    (ta * tb).sum().backward()
    labels = _grad_labels(src)
    np.testing.assert_allclose(labels[("a", "MulBackward0")], [ta.grad.norm().item()],
                               rtol=1e-3)
    np.testing.assert_allclose(labels[("b", "MulBackward0")], [tb.grad.norm().item()],
                               rtol=1e-3)


def test_watch_grads_records_the_users_backward():
    a = dagrad.tensor([2., 3.], requires_grad=True)
    b = dagrad.tensor([6., 4.], requires_grad=True)
    Q = 3 * a**3 - b**2
    with viz.watch_grads(Q):
        Q.backward(gradient=dagrad.tensor([1., 2.]))   # the graph is freed after this
    labels = _grad_labels(viz.make_dot(Q, show_grads=True).source)
    np.testing.assert_allclose(labels[("a", "PowBackward0")],
                               [np.linalg.norm(a.grad.numpy())], rtol=1e-3)
    np.testing.assert_allclose(labels[("SubBackward0", "Q")], [np.sqrt(5)], rtol=1e-3)


def test_show_grads_after_freed_backward_says_what_to_do():
    a = dagrad.tensor([2., 3.], requires_grad=True)
    Q = (a * a).sum()
    Q.backward()
    with pytest.raises(RuntimeError, match="watch_grads"):
        viz.make_dot(Q, show_grads=True)


def test_show_saved_draws_saved_tensors():
    a = dagrad.tensor([2., 3.], requires_grad=True)
    y = a.exp().sum()    # ExpBackward0 saves its result
    src = viz.make_dot(y, show_saved=True).source
    nodes, edges = parse_dot(src)
    saved = [k for k, (_, c) in nodes.items() if c == "saved"]
    assert saved
    assert any(s in saved and nodes[d][0] == "ExpBackward0" and "dotted" in at
               for s, d, at in edges)
    # the saved-tensor edges do not change the autograd edges
    ta = torch.tensor([2., 3.], requires_grad=True)
    assert dot_graph_edges(src)[0] == torch_graph_edges([ta.exp().sum()])[0]


@pytest.mark.parametrize("bad, name", [(3, "builtins.int"), (np.ones(2), "numpy.ndarray"),
                                       ("Q", "builtins.str"), (None, "NoneType")])
def test_non_tensor_root_names_the_type(bad, name):
    with pytest.raises(TypeError, match=re.escape(name)):
        viz.make_dot(bad)
    with pytest.raises(TypeError, match=re.escape(name)):
        viz.print_graph(bad)


def test_non_tensor_in_a_list_names_the_element():
    a = dagrad.tensor([2., 3.], requires_grad=True)
    with pytest.raises(TypeError, match=r"element 1 is builtins\.float"):
        viz.make_dot([a * 2, 1.5])


def test_tensor_without_graph():
    x = dagrad.ones(3)
    g = viz.make_dot(x)
    assert [n["kind"] for n in g.nodes] == ["output"]
    buf = io.StringIO()
    viz.print_graph(x, file=buf)
    assert "no grad_fn" in buf.getvalue()


@needs_dot
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_render_formats(tmp_path, fmt):
    a = dagrad.tensor([2., 3.], requires_grad=True)
    b = dagrad.tensor([6., 4.], requires_grad=True)
    Q = 3 * a**3 - b**2
    g = viz.make_dot(Q, show_grads=True)
    p = g.render(tmp_path / f"dag.{fmt}")
    assert p == str(tmp_path / f"dag.{fmt}")
    data = open(p, "rb").read()
    if fmt == "svg":
        root = ET.fromstring(data)
        assert root.tag.endswith("svg")
        text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
        for word in ("PowBackward0", "MulBackward0", "SubBackward0", "a", "b", "Q"):
            assert word in text.split()
    elif fmt == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert data[:5] == b"%PDF-"
    # format given without extension: appended
    p2 = g.render(tmp_path / "dag2", format=fmt)
    assert p2.endswith(f"dag2.{fmt}")


@needs_dot
def test_jupyter_reprs():
    a = dagrad.tensor([2., 3.], requires_grad=True)
    g = viz.make_dot((a * a).sum())
    assert g._repr_svg_().lstrip().startswith("<?xml")
    b = g._repr_mimebundle_()
    assert "image/svg+xml" in b and "text/plain" in b


def test_missing_dot_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    a = dagrad.tensor([2., 3.], requires_grad=True)
    g = viz.make_dot((a * a).sum())
    with pytest.raises(viz.ExecutableNotFound, match="apt-get install graphviz"):
        g.render(tmp_path / "x.svg")
    assert not (tmp_path / "x.svg").exists()
    assert g._repr_svg_() is None
    b = g._repr_mimebundle_()
    assert "image/svg+xml" not in b and "digraph" in b["text/plain"]
    # the DOT text needs no Graphviz
    assert g.save(tmp_path / "x.dot") and open(tmp_path / "x.dot").read() == g.source


def test_print_graph_tree():
    a = dagrad.tensor([2., 3.], requires_grad=True)
    b = dagrad.tensor([6., 4.], requires_grad=True)
    Q = 3 * a**3 - b**2
    buf = io.StringIO()
    viz.print_graph(Q, file=buf)
    assert buf.getvalue() == (
        "Q (2,) float32  <- SubBackward0\n"
        "├─ MulBackward0\n"
        "│  └─ PowBackward0\n"
        "│     └─ AccumulateGrad  a (2,) float32\n"
        "└─ PowBackward0\n"
        "   └─ AccumulateGrad  b (2,) float32\n")
    buf = io.StringIO()
    viz.print_graph(Q, file=buf, show_none=True)
    assert "│  └─ None\n" in buf.getvalue()   # MulBackward0's edge for the constant 3


def test_print_graph_shared_node_once():
    a = dagrad.tensor([2., 3.], requires_grad=True)
    c = a.exp()
    y = (c * c.sin()).sum()
    text = viz.format_graph(y)
    assert text.count("ExpBackward0") == 2
    assert text.count("(shared, shown above)") == 1
    assert text.count("AccumulateGrad") == 1
    # ascii form
    assert "`- " in viz.format_graph(y, ascii=True)


def test_deep_graph_walks_without_recursion():
    x = dagrad.tensor([1.0], requires_grad=True)
    h = x
    for _ in range(5000):
        h = h * 1.0001
    g = viz.make_dot(h)
    assert sum(1 for n in g.nodes if n["kind"] == "op") == 5000
    text = viz.format_graph(h, max_depth=3)
    assert text.splitlines()[-1].strip().endswith("...")


# ----------------------------------------------------------------------------- modules
class _Handle:
    def __init__(self, d, k):
        self.d, self.k = d, k

    def remove(self):
        self.d.pop(self.k, None)


class _Mod:
    """The slice of nn.Module's API that record_modules uses (dagrad.nn may not exist yet)."""

    def __init__(self, **children):
        self._children = children
        self._params = {}
        self._pre, self._post = {}, {}

    def named_modules(self, prefix=""):
        yield prefix, self
        for k, m in self._children.items():
            yield from m.named_modules(f"{prefix}.{k}" if prefix else k)

    def named_parameters(self, prefix="", recurse=True):
        for k, p in self._params.items():
            yield (f"{prefix}.{k}" if prefix else k), p
        if recurse:
            for k, m in self._children.items():
                yield from m.named_parameters(f"{prefix}.{k}" if prefix else k)

    def register_forward_pre_hook(self, fn):
        k = object()
        self._pre[k] = fn
        return _Handle(self._pre, k)

    def register_forward_hook(self, fn):
        k = object()
        self._post[k] = fn
        return _Handle(self._post, k)

    def __call__(self, x):
        for f in list(self._pre.values()):
            f(self, (x,))
        y = self.forward(x)
        for f in list(self._post.values()):
            f(self, (x,), y)
        return y


class _Lin(_Mod):
    def __init__(self, i, o, frozen=False):
        super().__init__()
        self._params = {"weight": dagrad.randn(o, i, requires_grad=not frozen),
                        "bias": dagrad.zeros(o, requires_grad=not frozen)}

    def forward(self, x):
        return x @ self._params["weight"].t() + self._params["bias"]


class _Block(_Mod):
    def __init__(self, n):
        super().__init__(a=_Lin(n, n), b=_Lin(n, n))

    def forward(self, x):
        return (self._children["b"](self._children["a"](x).relu()) + x).relu()


class _Net(_Mod):
    def __init__(self):
        super().__init__(stem=_Lin(4, 8, frozen=True), block=_Block(8), head=_Lin(8, 3))

    def forward(self, x):
        c = self._children
        return c["head"](c["block"](c["stem"](x)))


def test_collapse_modules_one_box_per_module():
    net = _Net()
    x = dagrad.randn(5, 4)
    with viz.record_modules(net):
        loss = net(x).pow(2).mean()
    full = viz.make_dot(loss, params=net)
    g = viz.make_dot(loss, params=net, collapse_modules=True)
    boxes = {n["name"]: n["label"] for n in g.nodes if n["kind"] == "module"}
    # the stem is frozen: its ops need no grad, so it is not part of the graph at all
    assert set(boxes) == {"block", "head"}
    assert "_Block" in boxes["block"] and "params: 144 trainable" in boxes["block"]
    assert "params: 27 trainable" in boxes["head"]
    # no parameter leaf is left outside its box, the loss ops stay visible
    assert not [n for n in g.nodes if n["kind"] == "leaf"]
    ops = sorted(n["label"] for n in g.nodes if n["kind"] == "op")
    assert ops == ["MeanBackward0", "PowBackward0"]
    # block -> head -> PowBackward0 -> MeanBackward0 -> output
    ids = {n["label"].split("\n")[0]: n["id"] for n in g.nodes}
    assert (ids["block"], ids["head"], "grad") in g.edges
    assert (ids["head"], ids["PowBackward0"], "grad") in g.edges
    assert len(g.nodes) < len(full.nodes)
    # depth 2: the block's two linears become boxes of their own
    g2 = viz.make_dot(loss, params=net, collapse_modules=2)
    names2 = {n["name"] for n in g2.nodes if n["kind"] == "module"}
    assert {"block.a", "block.b", "head"} <= names2
    # hooks were removed when the recording ended
    assert not net._children["head"]._pre and not net._children["head"]._post


def test_collapse_modules_without_recording_groups_by_parameter_names():
    head = _Lin(3, 2)
    x = dagrad.randn(4, 3)
    loss = head(x).sum()
    g = viz.make_dot(loss, params=dict(head.named_parameters(prefix="head")),
                     collapse_modules=True, modules=None)
    src = g.source
    if viz._graph.last_recording() is not None:
        assert "collapse_modules" in src or any(n["kind"] == "module" for n in g.nodes)
    assert any(n["kind"] == "module" and n["name"] == "head" for n in g.nodes)


def test_record_modules_rejects_non_module():
    with pytest.raises(TypeError, match="expected an nn.Module, got builtins.int"):
        viz.record_modules(3)


def test_render_function(tmp_path):
    if not HAVE_DOT:
        pytest.skip("Graphviz `dot` not installed")
    w = dagrad.tensor([1., 2.], requires_grad=True)
    p = viz.render((w * w).sum(), tmp_path / "g.svg")
    assert "w" in open(p).read()


@pytest.mark.slow
@needs_dot
def test_big_graph_renders_in_seconds(tmp_path):
    import time
    ws = [dagrad.randn(8, requires_grad=True) for _ in range(600)]
    h = dagrad.randn(8)
    for w in ws:
        h = (h * w).tanh() + h
    g = viz.make_dot(h.sum())
    assert len(g.nodes) > 2400
    t = time.perf_counter()
    g.render(tmp_path / "big.svg")
    assert time.perf_counter() - t < 30


def test_real_nn_modules_collapse_and_frozen_layer():
    nn = pytest.importorskip("dagrad.nn")
    torch_nn = torch.nn
    dagrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    for p in model[2].parameters():
        p.requires_grad = False          # freeze the last layer
    x = dagrad.randn(5, 4)
    with viz.record_modules(model):
        loss = model(x).sum()
    g = viz.make_dot(loss, params=model)
    # the frozen Linear's weight is drawn (dashed) into the op that saved it
    frozen = [n for n in g.nodes if n["kind"] == "frozen"]
    assert [n["name"] for n in frozen] == ["2.weight"]
    assert "frozen" in frozen[0]["label"]
    # the input x (no grad, saved by the first Linear) is drawn dashed too, as no-grad input
    assert [n["name"] for n in g.nodes if n["kind"] == "nograd"] == ["x"]
    leaves = sorted(n["label"].split("\n")[0] for n in g.nodes if n["kind"] == "leaf")
    assert leaves == ["0.bias", "0.weight"]
    # the same graph as torch builds
    tm = torch_nn.Sequential(torch_nn.Linear(4, 8), torch_nn.ReLU(), torch_nn.Linear(8, 3))
    for p in tm[2].parameters():
        p.requires_grad = False
    tl = tm(torch.randn(5, 4)).sum()
    assert dot_graph_edges(g.source)[0] == torch_graph_edges([tl])[0]
    # one box per module: "0" (trainable), "1" (ReLU), "2" (frozen: 0 trainable)
    c = viz.make_dot(loss, params=model, collapse_modules=True)
    boxes = {n["name"]: n["label"] for n in c.nodes if n["kind"] == "module"}
    assert set(boxes) == {"0", "1", "2"}
    assert "Linear" in boxes["0"] and "params: 40 trainable" in boxes["0"]
    assert "ReLU" in boxes["1"]
    assert "params: 0 trainable, 27 frozen" in boxes["2"]


def test_resnet18_graph_is_torchs_and_renders_fast(tmp_path):
    """The ResNet18 loss of the seed: same nodes and edges as torch's (same architecture)."""
    import importlib.util
    import os
    import time
    pytest.importorskip("dagrad.nn")
    models = pytest.importorskip("dagrad.vision.models")
    spec = importlib.util.spec_from_file_location(
        "_bench_workloads", os.path.join(os.path.dirname(__file__), "..", "benchmarks",
                                         "workloads.py"))
    wl = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(wl)
    tm = wl._resnet18_def(torch, "torch")   # torchvision's architecture, in torch
    dm = models.resnet18()
    tl = (tm(torch.rand(1, 3, 64, 64)) - torch.rand(1, 1000)).sum()
    with viz.record_modules(dm):
        dl = (dm(dagrad.rand(1, 3, 64, 64)) - dagrad.rand(1, 1000)).sum()
    g = viz.make_dot(dl, params=dm)
    got_edges, got_names = dot_graph_edges(g.source)
    want_edges, want_names = torch_graph_edges([tl])
    assert got_names == want_names
    assert got_edges == want_edges
    leaves = {n["label"].split("\n")[0] for n in g.nodes if n["kind"] == "leaf"}
    assert {"conv1.weight", "layer4.1.bn2.bias", "fc.weight"} <= leaves and len(leaves) == 62
    c = viz.make_dot(dl, params=dm, collapse_modules=True)
    assert {n["name"] for n in c.nodes if n["kind"] == "module"} == {
        "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool",
        "fc"}
    if HAVE_DOT:
        t = time.perf_counter()
        g.render(tmp_path / "r18.svg")
        c.render(tmp_path / "r18c.svg")
        assert time.perf_counter() - t < 20
