"""Worker information. dagrad runs DataLoader workers in-process, one after another, in the
order PyTorch's multi-process loader would deliver their results; while a worker's code runs
(worker_init_fn, the dataset's __iter__/__getitem__), get_worker_info() describes it."""

_worker_info = None


class WorkerInfo:
    """Information about the current DataLoader worker (id, num_workers, seed, dataset)."""

    id: int
    num_workers: int
    seed: int
    dataset: object
    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs.keys())
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")
        return super().__setattr__(key, val)

    def __repr__(self):
        items = [f"{k}={getattr(self, k)}" for k in self.__keys]
        return f"{self.__class__.__name__}({', '.join(items)})"


def get_worker_info():
    """The current worker's WorkerInfo, or None in the main process."""
    return _worker_info


class _in_worker:
    def __init__(self, info):
        self.info = info

    def __enter__(self):
        global _worker_info
        self.prev = _worker_info
        _worker_info = self.info

    def __exit__(self, *exc):
        global _worker_info
        _worker_info = self.prev
