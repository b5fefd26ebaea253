def skip_init(module_cls, *args, **kwargs):
    """Build the module (dagrad has no meta device: parameters are initialised normally)."""
    return module_cls(*args, **kwargs)
