import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "vision"))
from torch_models import resnet18 as _resnet18  # noqa: E402


def resnet18(*, weights=None, progress=True, **kw):
    if weights is not None:
        raise RuntimeError("oracle torchvision has no pretrained weights")
    return _resnet18(**kw)
