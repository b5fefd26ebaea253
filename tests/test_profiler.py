"""dagrad.profiler / dagrad.autograd.profiler: counts, times, PyTorch's table layout, record_function,
Chrome trace export, schedules, and zero cost when off (shims installed only while active)."""
import json
import re
import time

import numpy as np
import pytest
import torch

import dagrad
from dagrad.autograd import profiler as aprof
from dagrad.profiler import ProfilerAction, profile, record_function, schedule


def _model(lib, x, w):
    with lib.profiler.record_function("my_block"):
        y = (x @ w).relu().sum()
    y.backward()


def _inputs(lib):
    rng = np.random.default_rng(0)
    return (lib.tensor(rng.standard_normal((4, 3)), requires_grad=True),
            lib.tensor(rng.standard_normal((3, 2)), requires_grad=True))


def test_table_layout_matches_torch():
    tabs = {}
    for lib in (torch, dagrad):
        x, w = _inputs(lib)
        with lib.profiler.profile() as prof:
            _model(lib, x, w)
        tabs[lib.__name__] = prof.key_averages().table(sort_by="cpu_time_total", row_limit=5)
    t_lines, d_lines = tabs["torch"].split("\n"), tabs["dagrad"].split("\n")
    # same separator and header lines, same number of lines, same trailer shape
    assert d_lines[0] == t_lines[0] and d_lines[1] == t_lines[1] and d_lines[2] == t_lines[2]
    assert len(d_lines) == len(t_lines)
    assert d_lines[-3] == t_lines[-3] == "".join("-" * n + "  " for n in [55] + [12] * 6)
    assert re.fullmatch(r"Self CPU time total: [0-9.]+(us|ms|s)", d_lines[-2])
    assert d_lines[-1] == t_lines[-1] == ""
    # a name longer than the 55-character column is cut to 52 + "..." and fills it (as torch)
    row = re.compile(r"\s*\S.*\s+[0-9.]+%\s+[0-9.]+(us|ms|s)\s+[0-9.]+%\s+[0-9.]+(us|ms|s)"
                     r"\s+[0-9.]+(us|ms|s)\s+\d+\s+")
    for ln in d_lines[3:8]:
        assert row.fullmatch(ln), ln
    assert tabs["dagrad"].endswith("\n") is tabs["torch"].endswith("\n")
    # the record_function row is there, with the total time of its block
    assert "my_block" in tabs["dagrad"]


def test_input_shapes_column_matches_torch_header():
    heads = {}
    for lib in (torch, dagrad):
        x, w = _inputs(lib)
        with lib.profiler.profile(record_shapes=True) as prof:
            (x @ w).sum()
        t = prof.key_averages(group_by_input_shape=True).table(row_limit=3)
        heads[lib.__name__] = t.split("\n")[1]
        rows = {ln.split()[0]: ln for ln in t.split("\n")[3:-2] if ln.strip()}
        assert rows["aten::matmul"].rstrip().endswith("[[4, 3], [3, 2]]")
    assert heads["dagrad"].split() == heads["torch"].split()


def test_counts_forward_and_backward():
    x = dagrad.randn(8, 8, requires_grad=True)
    with aprof.profile() as prof:
        with record_function("forward"):
            y = x
            for _ in range(3):
                y = y @ x
            z = (y + 1) + y
        z.sum().backward()
    ka = {e.key: e for e in prof.key_averages()}
    assert ka["aten::matmul"].count == 3
    fwd_adds = [e for e in prof.events() if e.name == "aten::add" and e.cpu_parent is not None
                and e.cpu_parent.name == "forward"]
    assert len(fwd_adds) == 2  # the backward's gradient sums are aten::add too, as in torch
    assert ka["aten::sum"].count >= 1
    assert ka["MmBackward0"].count == 3
    assert ka["autograd::engine::evaluate_function: MmBackward0"].count == 3
    assert ka["AddBackward0"].count == 2
    assert ka["SumBackward0"].count == 1
    assert ka["torch::autograd::AccumulateGrad"].count == 1
    for e in prof.key_averages():
        assert e.self_cpu_time_total <= e.cpu_time_total + 1e-6
        assert e.cpu_time == pytest.approx(e.cpu_time_total / e.count)


def test_backward_node_names_like_torch():
    keys = {}
    for lib in (torch, dagrad):
        x, w = _inputs(lib)
        with lib.autograd.profiler.profile() as prof:
            ((x @ w).relu() * 2).sum().backward()
        keys[lib.__name__] = {e.key for e in prof.key_averages()
                              if e.key.startswith("autograd::engine")}
    assert keys["dagrad"] == keys["torch"]


def test_totals_consistent_with_wall_time():
    a = dagrad.randn(120, 120)
    with aprof.profile() as prof:
        t0 = time.perf_counter()
        for _ in range(40):
            a = (a @ a).tanh()
        wall_us = (time.perf_counter() - t0) * 1e6
    events = prof.events()
    total_self = prof.self_cpu_time_total
    top = sum(e.cpu_time_total for e in events if e.cpu_parent is None)
    assert total_self == pytest.approx(top, rel=1e-6)
    assert total_self <= wall_us * 1.02 + 50
    assert total_self >= 0.5 * wall_us
    assert prof.wall_time_us() >= wall_us
    ka = {e.key: e for e in prof.key_averages()}
    assert ka["aten::matmul"].count == 40 and ka["aten::tanh"].count == 40


def test_nested_events_and_self_time():
    with aprof.profile() as prof:
        with record_function("outer"):
            with record_function("inner"):
                dagrad.ones(3).exp()
    ev = {e.name: e for e in prof.events()}
    inner, outer, exp = ev["inner"], ev["outer"], ev["aten::exp"]
    assert inner.cpu_parent is outer and exp.cpu_parent is inner
    assert outer.time_range.start <= inner.time_range.start <= exp.time_range.start
    assert exp.time_range.end <= inner.time_range.end <= outer.time_range.end
    assert outer.self_cpu_time_total == pytest.approx(
        outer.cpu_time_total - inner.cpu_time_total)


def test_record_function_decorator_and_outside_profiler():
    @record_function("decorated")
    def f(x):
        return x * 2

    assert f(dagrad.ones(2)).tolist() == [2.0, 2.0]  # no profiler: a no-op
    with profile() as prof:
        f(dagrad.ones(2))
        f(dagrad.ones(2))
    ka = {e.key: e for e in prof.key_averages()}
    assert ka["decorated"].count == 2
    assert ka["aten::mul"].count == 2


def test_chrome_trace(tmp_path):
    x, w = _inputs(dagrad)
    with profile(record_shapes=True) as prof:
        _model(dagrad, x, w)
    path = str(tmp_path / "trace.json")
    prof.export_chrome_trace(path)
    with open(path) as f:
        doc = json.load(f)
    evs = doc["traceEvents"]
    names = {e["name"] for e in evs}
    assert {"my_block", "aten::matmul", "aten::relu", "aten::sum", "MmBackward0",
            "autograd::engine::evaluate_function: SumBackward0"} <= names
    for e in evs:
        assert e["ph"] == "X" and e["dur"] >= 0 and isinstance(e["ts"], float)
        assert {"pid", "tid", "cat", "args"} <= set(e)
    blk = next(e for e in evs if e["name"] == "my_block")
    assert blk["cat"] == "user_annotation"
    mm = next(e for e in evs if e["name"] == "aten::matmul")
    assert mm["cat"] == "cpu_op" and mm["args"]["Input Dims"] == [[4, 3], [3, 2]]
    assert blk["ts"] <= mm["ts"] and mm["ts"] + mm["dur"] <= blk["ts"] + blk["dur"] + 1e-3
    assert doc["displayTimeUnit"] == "ms"


def test_zero_cost_when_off_shims_removed():
    T = dagrad.Tensor
    before = {k: T.__dict__[k] for k in ("__add__", "__matmul__", "sum", "relu", "exp")}
    mm, lin = dagrad.matmul, dagrad.linalg.inv
    from dagrad.autograd import engine
    from dagrad.ops import derivatives
    call = engine._accumulate
    mul_bw = derivatives.MulBackward0.__dict__["backward"]
    with aprof.profile():
        assert T.__dict__["__add__"] is not before["__add__"]
        assert dagrad.matmul is not mm
    for k, v in before.items():
        assert T.__dict__[k] is v
    assert dagrad.matmul is mm and dagrad.linalg.inv is lin and engine._accumulate is call
    assert derivatives.MulBackward0.__dict__["backward"] is mul_bw
    # restored even when the body raises
    with pytest.raises(ValueError):
        with aprof.profile():
            raise ValueError("boom")
    assert T.__dict__["__add__"] is before["__add__"]


def test_with_stack_source_location():
    with aprof.profile(with_stack=True) as prof:
        dagrad.ones(2).exp()
    ev = next(e for e in prof.events() if e.name == "aten::exp")
    assert any("test_profiler.py" in s for s in ev.stack)
    t = prof.key_averages(group_by_stack_n=2).table()
    assert "Source Location" in t.split("\n")[1]


def test_sort_and_row_limit():
    with aprof.profile() as prof:
        a = dagrad.randn(50, 50)
        for _ in range(5):
            a = a @ a
        a.sum()
    t = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=2)
    rows = [ln for ln in t.split("\n")[3:] if ln and not ln.startswith("-")
            and not ln.startswith("Self")]
    assert len(rows) == 2
    vals = sorted((e.self_cpu_time_total for e in prof.key_averages()), reverse=True)
    assert rows[0].split()[0] == next(e.key for e in prof.key_averages()
                                      if e.self_cpu_time_total == vals[0])


def test_nested_profilers_refused():
    with aprof.profile():
        with pytest.raises(RuntimeError, match="already enabled"):
            with aprof.profile():
                pass


def test_results_before_finish_refused():
    p = aprof.profile()
    with pytest.raises(RuntimeError, match="didn't finish"):
        p.key_averages()


def test_schedule_and_on_trace_ready(tmp_path):
    s = schedule(wait=1, warmup=1, active=2, repeat=1)
    assert [s(i) for i in range(6)] == [ProfilerAction.NONE, ProfilerAction.WARMUP,
                                        ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE,
                                        ProfilerAction.NONE, ProfilerAction.NONE]
    t = torch.profiler.schedule(wait=1, warmup=1, active=2, repeat=1)
    assert [s(i).name for i in range(6)] == [t(i).name for i in range(6)]
    seen = []

    def ready(p):
        seen.append({e.key: e.count for e in p.key_averages()})
    with profile(schedule=s, on_trace_ready=ready) as prof:
        for _ in range(6):
            with record_function("step"):
                dagrad.ones(2).exp()
            prof.step()
    assert len(seen) == 1
    assert seen[0]["step"] == 2 and seen[0]["aten::exp"] == 2
    handler = dagrad.profiler.tensorboard_trace_handler(str(tmp_path), worker_name="w")
    with profile(on_trace_ready=handler):
        dagrad.ones(2).exp()
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].name.startswith("w.")
    assert json.loads(files[0].read_text())["traceEvents"]
