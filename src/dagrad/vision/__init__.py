"""dagrad.vision: torchvision's models, pretrained weights, transforms and datasets.

`dagrad run` serves `import torchvision` from here (`torchvision.models` -> dagrad.vision.models).
Submodules load on first use, so `import dagrad.vision` needs neither Pillow nor dagrad.nn.
"""
import importlib as _importlib

__version__ = "0.1.0"
_SUBMODULES = ("models", "transforms", "datasets", "io", "utils", "ops")


def __getattr__(name):
    if name in _SUBMODULES:
        try:
            mod = _importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as e:
            if e.name == f"{__name__}.{name}":
                raise AttributeError(f"dagrad does not implement torchvision.{name} yet") from None
            raise
        globals()[name] = mod
        return mod
    raise AttributeError(f"module 'dagrad.vision' has no attribute '{name}'")
