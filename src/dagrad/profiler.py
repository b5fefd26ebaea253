"""torch.profiler: `profile` (activities, schedule, on_trace_ready, step), `record_function`,
`schedule`, `tensorboard_trace_handler`, built on dagrad.autograd.profiler (CPU only)."""
import enum
import os
import socket
import time

from .autograd.profiler import EventList, record_function  # noqa: F401
from .autograd.profiler import profile as _AutogradProfile

__all__ = ["profile", "record_function", "ProfilerActivity", "ProfilerAction", "schedule",
           "tensorboard_trace_handler", "supported_activities", "EventList"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    CUDA = 2
    XPU = 3
    MTIA = 4
    HPU = 5
    PrivateUse1 = 6


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities():
    return {ProfilerActivity.CPU}


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """PyTorch's schedule: skip_first steps, then cycles of wait / warmup / active steps."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError("Invalid profiler schedule arguments")

    def fn(step):
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait and step < wait:
            pass
        num = wait + warmup + active
        if repeat > 0 and step / num >= repeat:
            return ProfilerAction.NONE
        mod = step % num
        if mod < wait:
            return ProfilerAction.NONE
        if mod < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if mod < num - 1 else ProfilerAction.RECORD_AND_SAVE
    return fn


def _always_record(step):
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """on_trace_ready callback writing `<worker>.<time>.pt.trace.json` into dir_name."""
    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        w = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        name = f"{w}.{time.time_ns() // 1000000}.pt.trace.json"
        path = os.path.join(dir_name, name)
        prof.export_chrome_trace(path)
        if use_gzip:
            import gzip
            import shutil
            with open(path, "rb") as f, gzip.open(path + ".gz", "wb") as g:
                shutil.copyfileobj(f, g)
            os.remove(path)
    return handler


class profile(_AutogradProfile):
    """torch.profiler.profile: CPU activity; with a schedule, records only the active steps and
    calls on_trace_ready at the end of each active cycle."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes=False, profile_memory=False, with_stack=False, with_flops=False,
                 with_modules=False, experimental_config=None, execution_trace_observer=None,
                 acc_events=False, use_cuda=None, custom_trace_id_callback=None):
        super().__init__(record_shapes=record_shapes, with_stack=with_stack,
                         profile_memory=profile_memory, with_flops=with_flops)
        self.activities = set(activities) if activities else supported_activities()
        self.schedule = schedule or _always_record
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self._all_events = []

    def _action(self):
        return self.schedule(self.step_num)

    def start(self):
        self._start()
        self._apply(self._action())

    def stop(self):
        act = self._action()
        self._stop()
        self._collect()
        if self.on_trace_ready is not None and act in (ProfilerAction.RECORD,
                                                       ProfilerAction.RECORD_AND_SAVE):
            self.on_trace_ready(self)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _apply(self, act):
        self._rec.recording = act in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)

    def _collect(self):
        self.function_events = EventList(self._rec.events)

    def step(self):
        prev = self._action()
        self.step_num += 1
        cur = self._action()
        self._apply(cur)
        if prev == ProfilerAction.RECORD_AND_SAVE:
            self._collect()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)
            self._rec.events = []


class _ITT:
    @staticmethod
    def is_available():
        return False


itt = _ITT()
