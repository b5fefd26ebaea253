"""Oracle stand-in for torchvision on the torch side of tests/test_scripts.py.

torchvision's wheels do not load beside torch 2.13 here (its C++ ops fail to register), so the
torch run of a script that imports torchvision gets this small plain-torch re-implementation
(models.resnet18 with torchvision's architecture and parameter order, transforms.Compose /
Normalize / ToTensor with torchvision's formulas). Only on PYTHONPATH for the torch run.
"""
from . import models, transforms  # noqa: F401

__version__ = "oracle"
