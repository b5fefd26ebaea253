"""dagrad.utils: torch.utils counterparts (data loading lives in dagrad.utils.data)."""
import importlib as _importlib

_SUBMODULES = {"data", "hooks", "checkpoint", "tensorboard", "benchmark", "model_zoo",
               "cpp_extension", "dlpack", "_pytree"}


def __getattr__(name):
    if name in _SUBMODULES:
        try:
            mod = _importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as e:
            if e.name == f"{__name__}.{name}":
                raise AttributeError(f"dagrad does not implement torch.utils.{name} yet") from None
            raise
        globals()[name] = mod
        return mod
    raise AttributeError(f"module 'dagrad.utils' has no attribute '{name}'")
