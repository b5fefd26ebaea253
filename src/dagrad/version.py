"""torch.version: what the PyTorch build reports (`import torch.version` under `dagrad run`).

__version__ is the torch-like "2.13.0+dagrad<release>" that `torch.__version__` gives under the
shim (dagrad.__version__ stays dagrad's own release); no CUDA / ROCm / XPU toolkit is compiled in.
"""
from .torch_shim import torch_version as _tv

__version__ = str(_tv())
cuda = None
hip = None
rocm = None
xpu = None
debug = False
git_version = "unknown"
