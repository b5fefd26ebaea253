"""torch.autograd.profiler: per-op CPU time and call counts, forward and backward.

Zero cost when off: nothing in dagrad checks for a profiler. Entering `profile` replaces, for
its duration, the op functions bound on `Tensor` and in the dagrad namespaces (dagrad,
dagrad.linalg, dagrad.special, dagrad.nn.functional, dagrad.fft) with timing shims, and the
`backward` of every Node class with one that records `autograd::engine::evaluate_function: <Node>`
and `<Node>`; leaving it restores the originals. Ops are named as PyTorch names them
(`aten::mm`...), so the table (`key_averages().table()`) reads like PyTorch's and
`export_chrome_trace` writes a Chrome/Perfetto trace.
"""
import functools
import json
import os
import sys
import threading
import time
import types

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg",
           "emit_nvtx", "emit_itt"]

_state = threading.local()
_active = [None]          # the running profile (one at a time, like PyTorch per thread)
_clock = time.perf_counter_ns

# ---------------------------------------------------------------- op naming
_ATEN = {
    "__add__": "add", "__radd__": "add", "__iadd__": "add_", "__sub__": "sub",
    "__rsub__": "rsub", "__isub__": "sub_", "__mul__": "mul", "__rmul__": "mul",
    "__imul__": "mul_", "__truediv__": "div", "__rtruediv__": "div", "__itruediv__": "div_",
    "__floordiv__": "floor_divide", "__rfloordiv__": "floor_divide", "__mod__": "remainder",
    "__rmod__": "remainder", "__pow__": "pow", "__rpow__": "pow", "__ipow__": "pow_",
    "__matmul__": "matmul", "__rmatmul__": "matmul", "__neg__": "neg", "__abs__": "abs",
    "__invert__": "bitwise_not", "__and__": "bitwise_and", "__or__": "bitwise_or",
    "__xor__": "bitwise_xor", "__lshift__": "__lshift__", "__rshift__": "__rshift__",
    "__eq__": "eq", "__ne__": "ne", "__lt__": "lt", "__le__": "le", "__gt__": "gt",
    "__ge__": "ge", "__getitem__": "index", "__setitem__": "index_put_",
    "__rand__": "bitwise_and", "__ror__": "bitwise_or", "__rxor__": "bitwise_xor",
    "__iand__": "bitwise_and_", "__ior__": "bitwise_or_", "__ixor__": "bitwise_xor_",
    "__ifloordiv__": "floor_divide_", "__imod__": "remainder_",
    "true_divide": "div", "divide": "div", "multiply": "mul", "subtract": "sub",
    "concat": "cat", "concatenate": "cat", "inverse": "linalg_inv", "det": "linalg_det",
}
_NS_PREFIX = {"dagrad.linalg": "linalg_", "dagrad.special": "special_",
              "dagrad.fft": "fft_"}
# namespace functions that are not ops (no event, as PyTorch records none)
_NOT_OPS = {
    "is_tensor", "is_storage", "numel", "get_default_dtype", "set_default_dtype",
    "get_default_device", "set_default_device", "manual_seed", "seed", "initial_seed",
    "get_rng_state", "set_rng_state", "is_grad_enabled", "set_grad_enabled", "no_grad",
    "enable_grad", "inference_mode", "is_inference_mode_enabled", "set_printoptions",
    "get_printoptions", "compile", "save", "load", "use_deterministic_algorithms",
    "are_deterministic_algorithms_enabled", "set_num_threads", "get_num_threads",
    "set_float32_matmul_precision", "get_float32_matmul_precision", "result_type",
    "promote_types", "can_cast", "is_floating_point", "is_complex", "is_nonzero",
    "set_default_tensor_type", "typename", "broadcast_shapes", "is_same_size",
}
_TENSOR_NON_OPS = {
    "size", "dim", "ndimension", "numel", "nelement", "element_size", "stride", "item",
    "tolist", "numpy", "data_ptr", "storage_offset", "is_contiguous", "is_floating_point",
    "is_complex", "get_device", "register_hook", "retain_grad", "backward", "requires_grad_",
    "register_post_accumulate_grad_hook", "untyped_storage", "share_memory_", "pin_memory",
    "is_pinned", "is_shared", "__len__", "__iter__", "__bool__", "__float__", "__int__",
    "__index__", "__complex__", "__repr__", "__format__", "__array__", "__hash__",
    "__reduce__", "__reduce_ex__", "__deepcopy__", "__setstate__", "__dlpack__",
    "__init__", "__new__", "__torch_function__", "_make_subclass", "__getstate__",
    "__dlpack_device__", "__contains__", "dim_order", "is_leaf", "data", "__class_getitem__",
}
_TENSOR_OPS_FROM_TENSOR_PY = {"to", "float", "double", "half", "bfloat16", "long", "int",
                              "short", "char", "byte", "bool", "cpu", "cuda", "type",
                              "detach", "detach_"}


def _aten(attr, module=""):
    n = _ATEN.get(attr)
    if n is None:
        n = attr.strip("_") if attr.startswith("__") else attr
        n = _NS_PREFIX.get(module, "") + n
    return n if "::" in n else "aten::" + n


# ---------------------------------------------------------------- events
def _format_time(time_us):
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def _format_time_share(time_us, total_time_us):
    if total_time_us == 0:
        return "NaN"
    return f"{time_us * 100.0 / total_time_us:.2f}%"


class _Interval:
    __slots__ = ("start", "end")

    def __init__(self, start, end):
        self.start, self.end = start, end

    def elapsed_us(self):
        return self.end - self.start


class FunctionEvent:
    """One recorded call: name, [start, end) in microseconds, children, shapes, stack."""

    is_async = False
    node_id = -1
    overload_name = ""
    device_type = "CPU"
    self_device_time_total = 0
    device_time_total = 0
    self_device_memory_usage = 0
    use_device = None
    count = 1
    flops = 0
    is_legacy = False

    def __init__(self, id, name, thread, start_us, end_us, input_shapes=None, stack=None,  # noqa
                 sequence_nr=-1, is_user_annotation=False, fwd_thread=None, cat="cpu_op"):
        self.id = id
        self.name = name
        self.thread = thread
        self.time_range = _Interval(start_us, end_us)
        self.input_shapes = input_shapes
        self.stack = stack or []
        self.sequence_nr = sequence_nr
        self.is_user_annotation = is_user_annotation
        self.cpu_children = []
        self.cpu_parent = None
        self.fwd_thread = fwd_thread
        self.cat = cat

    @property
    def key(self):
        return self.name

    @property
    def cpu_time_total(self):
        return self.time_range.elapsed_us()

    @property
    def self_cpu_time_total(self):
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def cpu_time(self):
        return self.cpu_time_total

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} "
                f"cpu_time={_format_time(self.cpu_time_total)} "
                f"start_us={self.time_range.start:.3f} end_us={self.time_range.end:.3f} "
                f"input_shapes={self.input_shapes}>")


class FunctionEventAvg:
    """Events with one key (name, and shapes / stack when grouped) summed together."""

    is_async = False
    node_id = -1
    overload_name = ""
    self_device_time_total = 0
    device_time_total = 0
    self_device_memory_usage = 0
    use_device = None
    is_user_annotation = False
    cpu_parent = None
    flops = 0

    def __init__(self):
        self.key = None
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.input_shapes = None
        self.stack = None
        self.cpu_parent = None
        self.node_id = -1

    def add(self, other):
        if self.key is None:
            self.key = other.key
            self.input_shapes = other.input_shapes
            self.stack = other.stack
            self.is_user_annotation = other.is_user_annotation
            self.cpu_parent = other.cpu_parent
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        return self

    def __iadd__(self, other):
        return self.add(other)

    @property
    def cpu_time(self):
        return 0.0 if self.count == 0 else self.cpu_time_total / self.count

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time="
                f"{_format_time(self.self_cpu_time_total)} cpu_time={_format_time(self.cpu_time)}"
                f" input_shapes={self.input_shapes}>")


for _cls in (FunctionEvent, FunctionEventAvg):
    _cls.self_cpu_time_total_str = property(lambda s: _format_time(s.self_cpu_time_total))
    _cls.cpu_time_total_str = property(lambda s: _format_time(s.cpu_time_total))
    _cls.cpu_time_str = property(lambda s: _format_time(s.cpu_time))


class EventList(list):
    """A list of FunctionEvent / FunctionEventAvg with PyTorch's table and trace export."""

    def __init__(self, *args, **kwargs):
        kwargs.pop("use_device", None)
        kwargs.pop("profile_memory", None)
        kwargs.pop("with_flops", None)
        super().__init__(*args)

    @property
    def self_cpu_time_total(self):
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        stats = {}
        order = []
        for e in self:
            k = [e.key]
            if group_by_input_shape:
                k.append(str(e.input_shapes))
            if group_by_stack_n > 0:
                k.append(str(e.stack[:group_by_stack_n]))
            k = tuple(k)
            avg = stats.get(k)
            if avg is None:
                avg = stats[k] = FunctionEventAvg()
                order.append(k)
            avg.add(e)
        out = EventList(stats[k] for k in order)
        for a in out:
            if not group_by_input_shape:
                a.input_shapes = None
            if group_by_stack_n == 0:
                a.stack = None
            elif a.stack is not None:
                a.stack = a.stack[:group_by_stack_n]
        return out

    def total_average(self):
        t = FunctionEventAvg()
        for e in self:
            t.count += e.count
            t.cpu_time_total += e.cpu_time_total
            t.self_cpu_time_total += e.self_cpu_time_total
        t.key = "Total"
        return t

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False, time_unit=None):
        return _build_table(self, sort_by=sort_by, row_limit=row_limit, header=header,
                            max_src_column_width=max_src_column_width,
                            max_name_column_width=max_name_column_width,
                            max_shapes_column_width=max_shapes_column_width,
                            top_level_events_only=top_level_events_only, time_unit=time_unit)

    def __str__(self):
        return self.table()

    def export_chrome_trace(self, path):
        _write_trace(self, path)


def _build_table(events, sort_by=None, header=None, row_limit=100, max_src_column_width=75,
                 max_name_column_width=55, max_shapes_column_width=80,
                 top_level_events_only=False, time_unit=None):
    """PyTorch's profiler table (torch/autograd/profiler_util.py `_build_table`), CPU columns."""
    if len(events) == 0:
        return ""
    has_input_shapes = any(e.input_shapes is not None and len(e.input_shapes) > 0
                           for e in events)
    if sort_by is not None:
        key = sort_by.replace("cuda", "device").replace("xpu", "device")
        events = EventList(sorted(events, key=lambda e: getattr(e, key), reverse=True))
    name_w = max(len(e.key) for e in events) + 4
    if max_name_column_width is not None:
        name_w = min(name_w, max_name_column_width)
    shapes_w = max(len(str(e.input_shapes)) for e in events) + 4
    if max_shapes_column_width is not None:
        shapes_w = min(shapes_w, max_shapes_column_width)
    DEFAULT = 12
    stacks = [e.stack for e in events if e.stack is not None and len(e.stack) > 0]
    has_stack = len(stacks) > 0
    src_w = None
    if has_stack:
        src_w = max(max(len(s) for s in st) for st in stacks) + 4
        if max_src_column_width is not None:
            src_w = min(src_w, max_src_column_width)
    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
               "# of Calls"]
    SP = 2
    fmt, sep, length = [""], [""], [-SP]

    def add_column(padding, text_dir=">"):
        fmt[0] += "{: " + text_dir + str(padding) + "}" + " " * SP
        sep[0] += "-" * padding + " " * SP
        length[0] += padding + SP

    add_column(name_w)
    for _ in headers[1:]:
        add_column(DEFAULT)
    if has_input_shapes:
        headers.append("Input Shapes")
        add_column(shapes_w)
    if has_stack:
        headers.append("Source Location")
        add_column(src_w, text_dir="<")
    row_format, header_sep, line_length = fmt[0], sep[0], length[0]
    result = []

    def append(s):
        result.append(s)
        result.append("\n")

    total_self = sum(e.self_cpu_time_total for e in events)
    if header is not None:
        append("=" * line_length)
        append(header)
    if top_level_events_only:
        append("=" * line_length)
        append("This report only display top-level ops statistics")
    append(header_sep)
    append(row_format.format(*headers))
    append(header_sep)

    def trim_path(path, width):
        if len(path) > width:
            path = path[len(path) - width:]
            if len(path) > 3:
                path = "..." + path[3:]
        return path

    def unit(t_us, default):
        if time_unit == "s":
            return f"{t_us / 1e6:.3f}s"
        if time_unit == "ms":
            return f"{t_us / 1e3:.3f}ms"
        if time_unit == "us":
            return f"{t_us:.3f}us"
        return default

    shown = 0
    for e in events:
        if shown == row_limit:
            break
        if top_level_events_only and e.cpu_parent is not None:
            continue
        shown += 1
        name = e.key
        if max_name_column_width is not None and len(name) >= max_name_column_width - 3:
            name = name[:max_name_column_width - 3] + "..."
        row = [name, _format_time_share(e.self_cpu_time_total, total_self),
               unit(e.self_cpu_time_total, _format_time(e.self_cpu_time_total)),
               _format_time_share(e.cpu_time_total, total_self),
               unit(e.cpu_time_total, _format_time(e.cpu_time_total)),
               unit(e.cpu_time, _format_time(e.cpu_time)), e.count]
        if has_input_shapes:
            row.append(str(e.input_shapes)[:shapes_w])
        if has_stack:
            row.append(trim_path(e.stack[0], src_w) if e.stack else "")
        append(row_format.format(*row))
        if has_stack:
            empty = [""] * (len(headers) - 1)
            for entry in (e.stack or [])[1:]:
                append(row_format.format(*(empty + [trim_path(entry, src_w)])))
            empty.append("")
            append(row_format.format(*empty))
    append(header_sep)
    append(f"Self CPU time total: {unit(total_self, _format_time(total_self))}")
    return "".join(result)


def _write_trace(events, path, base_ns=0, record_shapes=False):
    pid = os.getpid()
    out = []
    for i, e in enumerate(events):
        args = {"External id": i + 1, "Record function id": 0, "Ev Idx": i}
        if not e.is_user_annotation:
            args["Sequence number"] = e.sequence_nr
            args["Fwd thread id"] = 0
        if e.input_shapes is not None:
            args["Input Dims"] = e.input_shapes
        out.append({"ph": "X", "cat": "user_annotation" if e.is_user_annotation else e.cat,
                    "name": e.name, "pid": pid, "tid": e.thread,
                    "ts": e.time_range.start, "dur": e.time_range.elapsed_us(), "args": args})
    doc = {"schemaVersion": 1, "deviceProperties": [], "record_shapes": int(record_shapes),
           "displayTimeUnit": "ms", "baseTimeNanoseconds": base_ns, "traceEvents": out,
           "traceName": os.path.abspath(path) if isinstance(path, str) else ""}
    if hasattr(path, "write"):
        json.dump(doc, path)
    else:
        with open(path, "w") as f:
            json.dump(doc, f)


# ---------------------------------------------------------------- recording
def _stack():
    s = getattr(_state, "stack", None)
    if s is None:
        s = _state.stack = []
    return s


_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _user_stack():
    f = sys._getframe(3)
    out = []
    while f is not None:
        fn = f.f_code.co_filename
        if not fn.startswith(_PKG):
            out.append(f"{fn}({f.f_lineno}): {f.f_code.co_name}")
        f = f.f_back
    return out


def _shapes(args, kwargs):
    from ..tensor import Tensor
    r = []
    for a in args:
        if isinstance(a, Tensor):
            r.append(list(a._data.shape))
        elif isinstance(a, (list, tuple)) and a and all(isinstance(x, Tensor) for x in a):
            r.append([list(x._data.shape) for x in a])
        else:
            r.append([])
    return r


class _Recorder:
    """What a profile collects; shared by the shims while it is active."""

    def __init__(self, record_shapes, with_stack):
        self.record_shapes = record_shapes
        self.with_stack = with_stack
        self.events = []
        self.t0 = _clock()
        self.recording = True

    def begin(self, name, args=None, kwargs=None, user=False, cat="cpu_op"):
        if not self.recording:
            return None
        ev = FunctionEvent(len(self.events), name, threading.get_ident(), _clock() / 1e3,
                           0.0, _shapes(args, kwargs) if (self.record_shapes and args is not
                                                          None) else (
                               [] if self.record_shapes else None),
                           _user_stack() if self.with_stack else None,
                           is_user_annotation=user, cat=cat)
        st = _stack()
        if st:
            ev.cpu_parent = st[-1]
        st.append(ev)
        self.events.append(ev)
        return ev

    def end(self, ev):
        if ev is None:
            return
        ev.time_range.end = _clock() / 1e3
        st = _stack()
        while st and st.pop() is not ev:
            pass
        if ev.cpu_parent is not None:
            ev.cpu_parent.cpu_children.append(ev)


def _shim(fn, name):
    def shim(*args, **kwargs):
        rec = _active[0]
        if rec is None:
            return fn(*args, **kwargs)
        ev = rec.begin(name, args, kwargs)
        try:
            return fn(*args, **kwargs)
        finally:
            rec.end(ev)
    shim.__wrapped__ = fn
    shim.__name__ = getattr(fn, "__name__", name)
    shim.__qualname__ = getattr(fn, "__qualname__", name)
    shim.__doc__ = getattr(fn, "__doc__", None)
    shim._dagrad_profiler_shim = True
    return shim


def _node_classes():
    from .function import Node
    seen, todo = [], [Node]
    while todo:
        c = todo.pop()
        for sub in c.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return seen


def _node_shim(fn):
    """A node's backward, recorded as PyTorch's engine records it (outer evaluate_function)."""
    def shim(self, *grads):
        rec = _active[0]
        if rec is None:
            return fn(self, *grads)
        st = _stack()
        if st and getattr(st[-1], "_node", None) is self:  # super().backward() of the same node
            return fn(self, *grads)
        nm = self.name()
        outer = rec.begin("autograd::engine::evaluate_function: " + nm)
        inner = rec.begin(nm)
        if inner is not None:
            inner._node = self
        try:
            return fn(self, *grads)
        finally:
            rec.end(inner)
            rec.end(outer)
    shim.__wrapped__ = fn
    shim.__name__ = "backward"
    shim._dagrad_profiler_shim = True
    return shim


def _acc_shim(fn):
    def shim(*args, **kwargs):
        rec = _active[0]
        if rec is None:
            return fn(*args, **kwargs)
        st = _stack()
        if st and getattr(st[-1], "_acc", False):
            return fn(*args, **kwargs)
        outer = rec.begin("autograd::engine::evaluate_function: torch::autograd::AccumulateGrad")
        inner = rec.begin("torch::autograd::AccumulateGrad")
        if inner is not None:
            inner._acc = True
        try:
            return fn(*args, **kwargs)
        finally:
            rec.end(inner)
            rec.end(outer)
    shim.__wrapped__ = fn
    shim._dagrad_profiler_shim = True
    return shim


def _op_modules():
    mods = []
    for name in ("dagrad", "dagrad.linalg", "dagrad.special", "dagrad.nn.functional",
                 "dagrad.fft"):
        m = sys.modules.get(name)
        if m is not None:
            mods.append(m)
    return mods


def _is_op_function(fn, name, modname):
    if not isinstance(fn, types.FunctionType) or name.startswith("_") or name in _NOT_OPS:
        return False
    mod = getattr(fn, "__module__", "") or ""
    return mod.startswith(("dagrad.ops", "dagrad.linalg", "dagrad.special", "dagrad.creation",
                           "dagrad.nn.functional", "dagrad.fft")) or (
        modname != "dagrad" and mod == modname)


def _install():
    """Replace op functions with timing shims; return what to restore."""
    from ..tensor import Tensor
    from . import engine
    saved = []
    for attr, fn in list(Tensor.__dict__.items()):
        if not isinstance(fn, types.FunctionType) or attr in _TENSOR_NON_OPS:
            continue
        if getattr(fn, "_dagrad_profiler_shim", False):
            continue
        mod = getattr(fn, "__module__", "") or ""
        if not (mod.startswith(("dagrad.ops", "dagrad.linalg", "dagrad.special")) or
                attr in _TENSOR_OPS_FROM_TENSOR_PY):
            continue
        if attr.startswith("_") and not attr.startswith("__"):
            continue
        saved.append((Tensor, attr, fn))
        setattr(Tensor, attr, _shim(fn, _aten(attr)))
    for m in _op_modules():
        for attr, fn in list(vars(m).items()):
            if getattr(fn, "_dagrad_profiler_shim", False):
                continue
            if _is_op_function(fn, attr, m.__name__):
                saved.append((m, attr, fn))
                setattr(m, attr, _shim(fn, _aten(attr, m.__name__)))
    for cls in _node_classes():
        f = cls.__dict__.get("backward")
        if isinstance(f, types.FunctionType) and not getattr(f, "_dagrad_profiler_shim", False):
            saved.append((cls, "backward", f))
            setattr(cls, "backward", _node_shim(f))
        tw = cls.__dict__.get("_np")
        if tw is not None:  # the engine would call the NumPy twin, not the (timed) rule
            saved.append((cls, "_np", tw))
            cls._np = None
    # leaf accumulation: whichever of the engine's accumulate functions exist (the tensor and
    # the array paths); a nested call (array path falling back to the tensor one) records once
    for attr in ("_accumulate", "_accumulate_arr"):
        fn = getattr(engine, attr, None)
        if fn is None or getattr(fn, "_dagrad_profiler_shim", False):
            continue
        saved.append((engine, attr, fn))
        setattr(engine, attr, _acc_shim(fn))
    return saved


def _uninstall(saved):
    for owner, attr, fn in reversed(saved):
        setattr(owner, attr, fn)


_install_lock = threading.Lock()


class profile:
    """torch.autograd.profiler.profile: a context manager recording op calls and their times."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False,
                 with_flops=False, profile_memory=False, with_stack=False, with_modules=False,
                 use_kineto=False, use_cpu=True, experimental_config=None, acc_events=False,
                 custom_trace_id_callback=None):
        self.enabled = enabled
        self.record_shapes = record_shapes
        self.with_stack = with_stack
        self.profile_memory = profile_memory
        self.with_flops = with_flops
        self.use_device = use_device
        self.entered = False
        self.function_events = None
        self._rec = None
        self._saved = None
        self._t_enter = self._t_exit = None

    # --- lifecycle
    def _start(self):
        with _install_lock:
            if _active[0] is not None:
                raise RuntimeError("Profiler is already enabled on this thread")
            self._rec = _Recorder(self.record_shapes, self.with_stack)
            self._saved = _install()
            _active[0] = self._rec
        self._t_enter = _clock()

    def _stop(self):
        self._t_exit = _clock()
        with _install_lock:
            if _active[0] is self._rec:
                _active[0] = None
            if self._saved is not None:
                _uninstall(self._saved)
                self._saved = None
        self.function_events = EventList(self._rec.events)

    def __enter__(self):
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        self._start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if not self.enabled:
            return False
        self._stop()
        return False

    # --- results
    def _check_finish(self):
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")

    def events(self):
        self._check_finish()
        return self.function_events

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        self._check_finish()
        return self.function_events.key_averages(group_by_input_shape, group_by_stack_n)

    def total_average(self):
        self._check_finish()
        return self.function_events.total_average()

    @property
    def self_cpu_time_total(self):
        self._check_finish()
        return self.function_events.self_cpu_time_total

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False, time_unit=None):
        self._check_finish()
        return self.function_events.table(sort_by, row_limit, max_src_column_width,
                                          max_name_column_width, max_shapes_column_width,
                                          header, top_level_events_only, time_unit)

    def export_chrome_trace(self, path):
        self._check_finish()
        _write_trace(self.function_events, path, self._rec.t0 if self._rec else 0,
                     self.record_shapes)
        return path

    def export_stacks(self, path, metric="self_cpu_time_total"):
        self._check_finish()
        with open(path, "w") as f:
            for e in self.function_events:
                if e.stack:
                    f.write(";".join(reversed(e.stack)) + " " + str(int(getattr(e, metric)))
                            + "\n")

    def __str__(self):
        self._check_finish()
        return str(self.function_events)

    def wall_time_us(self):
        """Microseconds between entering and leaving the context (dagrad extra)."""
        return (self._t_exit - self._t_enter) / 1e3


class record_function:
    """Label a region: a context manager or decorator; an event only while a profiler runs."""

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self._ev = None
        self._rec = None

    def __enter__(self):
        rec = _active[0]
        if rec is not None:
            self._rec = rec
            self._ev = rec.begin(self.name, user=True, cat="user_annotation")
        return self

    def __exit__(self, *exc):
        if self._rec is not None:
            self._rec.end(self._ev)
            self._rec = self._ev = None
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*a, **k):
            with record_function(self.name, self.args):
                return fn(*a, **k)
        return wrapper


class emit_nvtx:
    def __init__(self, enabled=True, record_shapes=False):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


emit_itt = emit_nvtx
