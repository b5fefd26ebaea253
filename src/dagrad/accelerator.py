"""torch.accelerator: the current accelerator is CUDA through CuPy when one is visible, else none."""
from . import cuda as _cuda


def is_available():
    return _cuda.is_available()


def device_count():
    return _cuda.device_count()


def current_accelerator(check_available=False):
    if _cuda.is_available():
        from .tensor import device
        return device("cuda")
    return None


def _need():
    if not _cuda.is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")


def current_device_index():
    _need()
    return _cuda.current_device()


current_device_idx = current_device_index


def set_device_index(device):
    _need()
    _cuda.set_device(device)


set_device_idx = set_device_index


def synchronize(device=None):
    _need()
    _cuda.synchronize(device)


def current_stream(device=None):
    _need()
    return _cuda.current_stream(device)


def empty_cache():
    _cuda.empty_cache()


def memory_allocated(device=None):
    return _cuda.memory_allocated(device)


def max_memory_allocated(device=None):
    return _cuda.max_memory_allocated(device)


def memory_reserved(device=None):
    return _cuda.memory_reserved(device)


def reset_peak_memory_stats(device=None):
    _cuda.reset_peak_memory_stats(device)
