"""torch.cuda on dagrad: a GPU backend exists only through CuPy with a visible device.

Without one, `is_available()` is False, `device_count()` 0, the bookkeeping calls PyTorch allows
on a CPU-only build (manual_seed, empty_cache, memory_allocated...) are no-ops, and the calls
that need a device raise PyTorch's AssertionError "Torch not compiled with CUDA enabled".
"""
from .backend import cupy as _cupy
from .backend import has_cuda as _has_cuda

_NOT_COMPILED = "Torch not compiled with CUDA enabled"
_current = [0]
_peak = [0]


def _lazy_init():
    if not _has_cuda():
        raise AssertionError(_NOT_COMPILED)
    return _cupy()


def is_available():
    return _has_cuda()


def device_count():
    if not _has_cuda():
        return 0
    return int(_cupy().cuda.runtime.getDeviceCount())


def is_initialized():
    return _has_cuda()


def init():
    _lazy_init()


def current_device():
    cp = _lazy_init()
    return int(cp.cuda.Device().id)


def _index(device):
    if device is None:
        return current_device()
    if isinstance(device, int):
        return device
    from .tensor import device as _dev
    d = _dev(device) if not isinstance(device, _dev) else device
    return d.index if d.index is not None else current_device()


def set_device(device):
    cp = _lazy_init()
    i = _index(device)
    cp.cuda.Device(i).use()
    _current[0] = i


def synchronize(device=None):
    cp = _lazy_init()
    cp.cuda.Device(_index(device)).synchronize()


class _CudaDeviceProperties:
    """torch.cuda.get_device_properties' object, filled from CuPy's property dict (its raw
    CUDA names are kept as the `raw` attribute)."""

    def __init__(self, raw):
        name = raw.get("name", b"")
        self.name = name.decode() if isinstance(name, bytes) else str(name)
        self.major = int(raw.get("major", 0))
        self.minor = int(raw.get("minor", 0))
        self.total_memory = int(raw.get("totalGlobalMem", 0))
        self.multi_processor_count = int(raw.get("multiProcessorCount", 0))
        self.is_integrated = int(raw.get("integrated", 0))
        self.is_multi_gpu_board = int(raw.get("isMultiGpuBoard", 0))
        self.L2_cache_size = int(raw.get("l2CacheSize", 0))
        self.warp_size = int(raw.get("warpSize", 32))
        self.max_threads_per_multi_processor = int(raw.get("maxThreadsPerMultiProcessor", 0))
        self.raw = raw

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // (1024 * 1024)}MB, "
                f"multi_processor_count={self.multi_processor_count}, "
                f"L2_cache_size={self.L2_cache_size // (1024 * 1024)}MB)")


def get_device_properties(device=None):
    cp = _lazy_init()
    return _CudaDeviceProperties(cp.cuda.runtime.getDeviceProperties(_index(device)))


def get_device_name(device=None):
    return get_device_properties(device).name


def get_device_capability(device=None):
    props = get_device_properties(device)
    return (props.major, props.minor)


def get_arch_list():
    return []


def is_bf16_supported(including_emulation=True):
    return False


def manual_seed(seed):
    cp = _cupy() if _has_cuda() else None
    if cp is not None:
        cp.random.seed(int(seed))


manual_seed_all = manual_seed


def seed():
    pass


seed_all = seed


def get_rng_state(device="cuda"):
    """dagrad draws every random number of a CUDA tensor from the host generator (then copies
    it to the device), so the CUDA RNG state is that generator's state (a uint8 CPU tensor)."""
    _lazy_init()
    from . import get_rng_state as _host_state
    return _host_state()


def set_rng_state(new_state, device="cuda"):
    _lazy_init()
    from . import set_rng_state as _host_set
    _host_set(new_state)


def get_rng_state_all():
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state_all(new_states):
    for st in new_states[:1]:
        set_rng_state(st)


def initial_seed():
    _lazy_init()
    from . import initial_seed as _host_initial
    return _host_initial()


def empty_cache():
    if _has_cuda():
        _cupy().get_default_memory_pool().free_all_blocks()


def memory_allocated(device=None):
    if not _has_cuda():
        return 0
    return int(_cupy().get_default_memory_pool().used_bytes())


def max_memory_allocated(device=None):
    if not _has_cuda():
        return 0
    _peak[0] = max(_peak[0], memory_allocated(device))
    return _peak[0]


def memory_reserved(device=None):
    if not _has_cuda():
        return 0
    return int(_cupy().get_default_memory_pool().total_bytes())


max_memory_reserved = memory_reserved


def reset_peak_memory_stats(device=None):
    _peak[0] = memory_allocated(device)


reset_max_memory_allocated = reset_peak_memory_stats


def reset_accumulated_memory_stats(device=None):
    pass


def memory_stats(device=None):
    """The keys of torch.cuda.memory_stats that CuPy's memory pool can answer (current and
    peak allocated / reserved bytes; the peak is sampled when asked, as max_memory_allocated)."""
    if not _has_cuda():
        return {}
    cur, res = memory_allocated(device), memory_reserved(device)
    return {"allocated_bytes.all.current": cur,
            "allocated_bytes.all.peak": max_memory_allocated(device),
            "reserved_bytes.all.current": res,
            "reserved_bytes.all.peak": res,
            "active_bytes.all.current": cur,
            "num_alloc_retries": 0, "num_ooms": 0}


def memory_summary(device=None, abbreviated=False):
    st = memory_stats(device)
    mib = 1024 * 1024
    lines = ["|" + "=" * 75 + "|",
             "|{:^75}|".format("PyTorch CUDA memory summary (dagrad on CuPy's memory pool)"),
             "|" + "=" * 75 + "|"]
    for k in ("allocated_bytes.all.current", "allocated_bytes.all.peak",
              "reserved_bytes.all.current"):
        lines.append(f"| {k:<40}{st.get(k, 0) / mib:>30.1f} MiB |")
    lines.append("|" + "=" * 75 + "|")
    return "\n".join(lines) + "\n"


def set_per_process_memory_fraction(fraction, device=None):
    cp = _lazy_init()
    if not 0 <= fraction <= 1:
        raise ValueError(f"Invalid fraction value: {fraction}. Allowed range: 0~1")
    total = cp.cuda.runtime.memGetInfo()[1]
    cp.get_default_memory_pool().set_limit(size=int(total * fraction))


def mem_get_info(device=None):
    cp = _lazy_init()
    free, total = cp.cuda.runtime.memGetInfo()
    return (int(free), int(total))


def current_stream(device=None):
    cp = _lazy_init()
    return cp.cuda.get_current_stream()


def ipc_collect():
    _lazy_init()


class device:
    """Context manager selecting a CUDA device (a no-op on a CPU-only machine, as in PyTorch)."""

    def __init__(self, device):
        self.idx = device if isinstance(device, int) or device is None else _index_safe(device)
        self.prev = -1

    def __enter__(self):
        if _has_cuda() and self.idx is not None and self.idx >= 0:
            self.prev = current_device()
            set_device(self.idx)
        return self

    def __exit__(self, *exc):
        if self.prev >= 0:
            set_device(self.prev)
        return False


def _index_safe(d):
    from .tensor import device as _dev
    dd = _dev(d) if not isinstance(d, _dev) else d
    return dd.index if dd.index is not None else -1


def default_stream(device=None):
    cp = _lazy_init()
    return cp.cuda.Stream.null


class Stream:
    """torch.cuda.Stream(device=None, priority=0): a CuPy stream (a context manager, with
    synchronize(), query(), wait_event(), record_event())."""

    def __new__(cls, device=None, priority=0, **kwargs):
        if not _has_cuda():
            raise RuntimeError("torch.cuda.Stream requires CUDA support")
        s = _cupy().cuda.Stream(non_blocking=False, priority=int(priority) if priority else None)
        return s


class Event:
    """torch.cuda.Event(enable_timing=False, blocking=False, interprocess=False) over a CuPy
    event: record(stream), synchronize(), query(), wait(stream), elapsed_time(end) in ms."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        if not _has_cuda():
            raise RuntimeError("Tried to instantiate dummy base class Event")
        self._event = _cupy().cuda.Event(block=blocking, disable_timing=not enable_timing,
                                         interprocess=interprocess)

    def record(self, stream=None):
        self._event.record(stream)

    def synchronize(self):
        self._event.synchronize()

    def query(self):
        return bool(self._event.done)

    def wait(self, stream=None):
        (stream if stream is not None else _cupy().cuda.get_current_stream()).wait_event(
            self._event)

    def elapsed_time(self, end_event):
        return float(_cupy().cuda.get_elapsed_time(self._event, end_event._event))


def stream(s):
    import contextlib
    return contextlib.nullcontext() if s is None else s


class GradScaler:
    """torch.cuda.amp.GradScaler without a GPU: disabled (scale 1.0), as PyTorch disables it."""

    def __init__(self, init_scale=65536.0, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True, device="cuda"):
        import warnings
        if enabled and not is_available():
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.", UserWarning, stacklevel=2)
            enabled = False
        self._enabled = enabled
        self._scale = float(init_scale)

    def is_enabled(self):
        return self._enabled

    def scale(self, outputs):
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(o * self._scale for o in outputs)
        return outputs * self._scale

    def unscale_(self, optimizer):
        if not self._enabled:
            return
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.grad._data = p.grad._data / self._scale

    def step(self, optimizer, *args, **kwargs):
        if self._enabled:
            self.unscale_(optimizer)
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        if new_scale is not None and self._enabled:
            self._scale = float(new_scale)

    def get_scale(self):
        return self._scale if self._enabled else 1.0

    def state_dict(self):
        return {"scale": self._scale} if self._enabled else {}

    def load_state_dict(self, state_dict):
        if "scale" in state_dict:
            self._scale = float(state_dict["scale"])


class autocast:
    """torch.cuda.amp.autocast: disabled without CUDA (a no-op context manager / decorator)."""

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        import warnings
        if enabled and not is_available():
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                          UserWarning, stacklevel=2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        return fn


class _Amp:
    GradScaler = GradScaler
    autocast = autocast


amp = _Amp()
