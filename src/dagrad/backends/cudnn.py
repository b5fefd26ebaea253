"""torch.backends.cudnn: flags scripts set; no cuDNN is used by dagrad."""
enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    return None


def is_acceptable(tensor):
    return False


class flags:
    """Context manager setting the flags for its body (PyTorch's torch.backends.cudnn.flags)."""

    def __init__(self, enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
                 allow_tf32=True):
        self.new = dict(enabled=enabled, benchmark=benchmark, benchmark_limit=benchmark_limit,
                        deterministic=deterministic, allow_tf32=allow_tf32)

    def __enter__(self):
        g = globals()
        self.old = {k: g[k] for k in self.new}
        g.update(self.new)
        return self

    def __exit__(self, *exc):
        globals().update(self.old)
        return False
