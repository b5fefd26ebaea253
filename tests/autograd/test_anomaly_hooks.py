"""Anomaly mode, the always-on creation line of every node, and hooks (ordering vs torch)."""
import os
import sys
import warnings

import numpy as np
import pytest
import torch

import dagrad
from dagrad.autograd import anomaly_mode

HERE = os.path.abspath(__file__)


def _line(tag):
    """Line number of the source line of this file containing `# <tag>`."""
    with open(HERE) as f:
        for i, line in enumerate(f, 1):
            if line.rstrip().endswith(f"# {tag}"):
                return i
    raise AssertionError(tag)


def test_every_node_records_user_line():
    x = dagrad.ones(3, requires_grad=True)
    y = x.exp() * 2  # LOC-A
    where = anomaly_mode.location(y.grad_fn)
    assert where == (HERE, _line("LOC-A"), "test_every_node_records_user_line")
    assert anomaly_mode.location(y.grad_fn.next_functions[0][0])[1] == _line("LOC-A")


def _nan_graph(lib):
    x = lib.tensor([0.0, 1.0], requires_grad=True)
    y = x.sqrt()  # NAN-LINE
    z = y * 0
    return x, z


def test_anomaly_nan_reports_op_and_forward_line():
    msgs = []
    for lib in (torch, dagrad):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with lib.autograd.detect_anomaly():
                x, z = _nan_graph(lib)
                with pytest.raises(RuntimeError) as e:
                    z.sum().backward()
        msgs.append(str(e.value))
        texts = [str(m.message) for m in w]
        assert any("Anomaly Detection has been enabled" in t for t in texts)
        fw = [t for t in texts if t.startswith("Error detected in SqrtBackward0")]
        assert fw, texts
        assert f"line {_line('NAN-LINE')}" in fw[0]
    assert msgs[0] == msgs[1] == "Function 'SqrtBackward0' returned nan values in its 0th output."
    notes = getattr(e.value, "__notes__", [])
    assert any(f'line {_line("NAN-LINE")}' in n and "SqrtBackward0" in n for n in notes)


def test_without_anomaly_nan_passes_silently():
    x, z = _nan_graph(dagrad)
    z.sum().backward()
    assert np.isnan(x.grad.numpy()[0])
    assert not dagrad.autograd.is_anomaly_enabled()


def test_set_detect_anomaly_function_and_context():
    assert not dagrad.autograd.is_anomaly_enabled()
    dagrad.autograd.set_detect_anomaly(True)
    try:
        assert dagrad.autograd.is_anomaly_enabled()
        assert dagrad.autograd.is_anomaly_check_nan_enabled()
    finally:
        dagrad.autograd.set_detect_anomaly(False)
    assert not dagrad.autograd.is_anomaly_enabled()
    with dagrad.autograd.set_detect_anomaly(True, check_nan=False):
        assert dagrad.autograd.is_anomaly_enabled()
        assert not dagrad.autograd.is_anomaly_check_nan_enabled()
        x, z = _nan_graph(dagrad)
        z.sum().backward()  # check_nan=False: no error
    assert not dagrad.autograd.is_anomaly_enabled()


def test_version_error_names_the_forward_line_without_anomaly_mode():
    a = dagrad.tensor([1.0, 2.0], requires_grad=True)
    y = a.sigmoid()  # VERSION-LINE
    y.mul_(2)
    with pytest.raises(RuntimeError) as e:
        y.sum().backward()
    # PyTorch's message unchanged, the creation line attached as a note
    assert "modified by an inplace operation" in str(e.value)
    notes = "\n".join(getattr(e.value, "__notes__", []))
    assert f'{HERE}", line {_line("VERSION-LINE")}' in notes
    assert "SigmoidBackward0" in notes


def test_error_in_custom_backward_names_the_apply_line():
    class Bad(dagrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.reshape(5)  # a shape error raised inside backward

    x = dagrad.ones(3, requires_grad=True)
    y = Bad.apply(x)  # APPLY-LINE
    with pytest.raises(RuntimeError) as e:
        y.sum().backward()
    notes = "\n".join(getattr(e.value, "__notes__", []))
    assert f'line {_line("APPLY-LINE")}' in notes and "BadBackward" in notes


def test_location_recorded_inline_for_direct_and_operator_calls():
    """link() records the user's line itself (no call per op): check both an operator and a
    function call land on the line that made them, and that anomaly mode still works."""
    a = dagrad.tensor([2.0, 3.0], requires_grad=True)
    q = a * 3  # LOC-OP
    r = dagrad.exp(a)  # LOC-FN
    assert anomaly_mode.location(q.grad_fn)[1] == _line("LOC-OP")
    assert anomaly_mode.location(r.grad_fn)[1] == _line("LOC-FN")
    with dagrad.autograd.detect_anomaly():
        s = a.sin()  # LOC-ANOMALY
    assert anomaly_mode.location(s.grad_fn)[1] == _line("LOC-ANOMALY")


# ---------------------------------------------------------------- hooks
def _hook_trace(lib):
    log = []
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    z = y.exp()
    y.register_hook(lambda g: log.append(("tensor_hook_y", g.tolist())))
    y.retain_grad()
    y.grad_fn.register_prehook(lambda go: log.append(("prehook_mul", len(go))))
    y.grad_fn.register_hook(lambda gi, go: log.append(("hook_mul", len(gi), len(go))))
    z.grad_fn.register_prehook(lambda go: log.append(("prehook_exp",)))
    z.grad_fn.register_hook(lambda gi, go: log.append(("hook_exp",)))
    h = x.register_hook(lambda g: log.append(("leaf_hook", g.tolist())))
    x.register_post_accumulate_grad_hook(lambda t: log.append(("post_acc", t.grad.tolist())))
    z.sum().backward(retain_graph=True)
    h.remove()
    log.append("second")
    z.sum().backward()
    return [tuple(np.round(v, 2).tolist()) if isinstance(v, list) else v
            for e in log for v in ([e] if isinstance(e, str) else [tuple(
                tuple(np.round(a, 2)) if isinstance(a, list) else a for a in e)])]


def test_hook_ordering_matches_torch():
    assert _hook_trace(dagrad) == _hook_trace(torch)


def test_hooks_modify_gradients():
    for lib in (torch, dagrad):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        y.register_hook(lambda g: g * 10)
        y.grad_fn.register_prehook(lambda go: (go[0] + 1,))
        y.grad_fn.register_hook(lambda gi, go: (gi[0] * 2, gi[1]))
        y.sum().backward()
        if lib is torch:
            tg = x.grad.tolist()
        else:
            dg = x.grad.tolist()
    assert tg == dg


def test_saved_tensors_hooks_pack_unpack():
    for lib in (torch, dagrad):
        log = []

        def pack(t):
            log.append(("pack", tuple(t.shape)))
            return t.detach().clone() * 1

        def unpack(t):
            log.append(("unpack", tuple(t.shape)))
            return t
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = (x * x).exp().sum()  # saved inputs (mul) and a saved output (exp)
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        if lib is torch:
            tres = (log, g.tolist(), gg.tolist())
        else:
            dres = (log, g.tolist(), gg.tolist())
    assert dres[0] == tres[0]  # same pack/unpack calls in the same order
    np.testing.assert_allclose(dres[1], tres[1], rtol=1e-5)
    np.testing.assert_allclose(dres[2], tres[2], rtol=1e-5)


def test_saved_tensors_hooks_inplace_detected_and_save_on_cpu():
    x = dagrad.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    with dagrad.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        y = a * a
    a.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    x = dagrad.tensor([1.0, 2.0], requires_grad=True)
    with dagrad.autograd.graph.save_on_cpu():
        y = (x.sin() * x).sum()
    y.backward()
    xx = torch.tensor([1.0, 2.0], requires_grad=True)
    (xx.sin() * xx).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xx.grad.numpy(), rtol=1e-6)
    from dagrad.ops import _core
    assert _core._saved_hooks is False  # the hot path is back to the free check


def test_saved_tensors_hooks_custom_function():
    log = []

    class Sq(dagrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * g * x

    x = dagrad.tensor([1.0, 3.0], requires_grad=True)
    with dagrad.autograd.graph.saved_tensors_hooks(lambda t: (log.append("p"), t)[1],
                                                   lambda t: (log.append("u"), t)[1]):
        y = Sq.apply(x)
    y.sum().backward()
    assert log == ["p", "u"]
    assert x.grad.tolist() == [2.0, 6.0]


def test_disable_saved_tensors_hooks():
    with dagrad.autograd.graph.disable_saved_tensors_hooks("no hooks here"):
        with pytest.raises(RuntimeError, match="no hooks here"):
            with dagrad.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
