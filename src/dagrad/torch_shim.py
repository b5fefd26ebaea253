"""Serve `import torch` / `import torchvision` from dagrad (used by `dagrad run`).

A meta-path finder maps `torch` to `dagrad`, `torch.X` to `dagrad.X`, `torchvision` to
`dagrad.vision` and `torchvision.X` to `dagrad.vision.X`. A submodule dagrad lacks fails with
"dagrad does not implement torch.X yet".
"""
import importlib
import importlib.abc
import importlib.util
import sys

_ALIASES = {"torch.nn.modules": "dagrad.nn", "torch.utils.data.dataloader": "dagrad.utils.data",
            "torch.utils.data.dataset": "dagrad.utils.data", "torch.autograd.functional":
            "dagrad.autograd.functional", "torch.optim.lr_scheduler": "dagrad.optim.lr_scheduler"}


def _target(name):
    if name in _ALIASES:
        return _ALIASES[name]
    if name == "torch" or name.startswith("torch."):
        return "dagrad" + name[5:]
    if name == "torchvision" or name.startswith("torchvision."):
        return "dagrad.vision" + name[11:]
    return None


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        try:
            return importlib.import_module(self.target)
        except ModuleNotFoundError as e:
            if e.name and (e.name == self.target or self.target.startswith(e.name + ".")):
                torch_name = spec.name
                raise ModuleNotFoundError(
                    f"dagrad does not implement {torch_name} yet", name=spec.name) from None
            raise

    def exec_module(self, module):
        pass


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        t = _target(name)
        if t is None:
            return None
        return importlib.util.spec_from_loader(name, _AliasLoader(t))


_finder = _Finder()


def install():
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def uninstall():
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for k in [k for k in sys.modules if k == "torch" or k.startswith(("torch.", "torchvision"))]:
        mod = sys.modules[k]
        if getattr(mod, "__name__", "").startswith("dagrad"):
            del sys.modules[k]
