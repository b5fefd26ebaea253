"""Helpers shared by the DataLoader: collation and worker information."""
from . import collate  # noqa: F401
from .worker import WorkerInfo, get_worker_info  # noqa: F401
