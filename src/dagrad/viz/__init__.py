"""dagrad.viz: pictures of the autograd DAG, with no dependency but Graphviz's `dot` to render.

    import dagrad as torch
    from dagrad.viz import make_dot, print_graph

    a = torch.tensor([2., 3.], requires_grad=True)
    b = torch.tensor([6., 4.], requires_grad=True)
    Q = 3*a**3 - b**2
    print_graph(Q)                       # the tree of grad_fn / next_functions in the terminal
    dot = make_dot(Q)                    # leaves named from your variables: a, b
    print(dot.source)                    # DOT text, built without any dependency
    dot.render("dag.svg")                # through Graphviz's `dot` (apt-get install graphviz)
    make_dot(Q, show_grads=True).render("dag-grads.png")   # edges labelled with gradients

In Jupyter a Graph shows inline. For a model: `make_dot(loss, params=model)`; wrap the forward
in `with record_modules(model):` and pass `collapse_modules=True` to draw one box per module.
To label edges with the gradients of *your* backward, call `watch_grads(loss)` before it.
"""
from ._dot import ExecutableNotFound, Graph, make_dot
from ._graph import GradWatch, ModuleRecording, record_modules, watch_grads
from ._text import format_graph, print_graph

__all__ = ["make_dot", "print_graph", "format_graph", "render", "Graph", "watch_grads",
           "record_modules", "GradWatch", "ModuleRecording", "ExecutableNotFound"]


def render(root, path, format=None, **kwargs):  # noqa: A002
    """make_dot(root, **kwargs).render(path, format): draw and render in one call."""
    kwargs.setdefault("names_from_caller", False)
    from ._graph import caller_frame, collect_names
    if kwargs.get("params") is None:
        # names from the caller's variables, as make_dot would see them
        names, named = collect_names(None, caller_frame(1))
        kwargs["params"] = {names[i]: t for i, t in named.items()}
    return make_dot(root, **kwargs).render(path, format=format)
