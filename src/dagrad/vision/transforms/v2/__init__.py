"""torchvision.transforms.v2 for dagrad: the v1 classes plus ToImage / ToDtype / ToPureTensor.

Only plain images (PIL or tensors) are handled: no bounding boxes, masks or tv_tensors.
"""
from .. import (
    CenterCrop,
    ColorJitter,
    Compose,
    ConvertImageDtype,
    Grayscale,
    Lambda,
    Normalize,
    Pad,
    PILToTensor,
    RandomCrop,
    RandomHorizontalFlip,
    RandomResizedCrop,
    RandomVerticalFlip,
    Resize,
    ToPILImage,
    ToTensor,
    functional,
)
from ..functional import InterpolationMode

__all__ = ["CenterCrop", "ColorJitter", "Compose", "ConvertImageDtype", "Grayscale", "Lambda",
           "Normalize", "Pad", "PILToTensor", "RandomCrop", "RandomHorizontalFlip",
           "RandomResizedCrop", "RandomVerticalFlip", "Resize", "ToPILImage", "ToTensor",
           "ToImage", "ToDtype", "ToPureTensor", "InterpolationMode", "functional"]


class ToImage:
    """PIL image or HWC ndarray -> (C, H, W) tensor, dtype kept (uint8 stays uint8)."""

    def __call__(self, inpt):
        import numpy as np

        from ....tensor import Tensor, _make
        if isinstance(inpt, Tensor):
            return inpt
        if isinstance(inpt, np.ndarray):
            a = inpt if inpt.ndim == 3 else inpt[:, :, None]
            return _make(np.ascontiguousarray(a.transpose(2, 0, 1)))
        return functional.pil_to_tensor(inpt)

    def __repr__(self):
        return "ToImage()"


class ToDtype:
    """Convert the dtype; with scale=True, rescale values like convert_image_dtype."""

    def __init__(self, dtype, scale=False):
        self.dtype, self.scale = dtype, scale

    def __call__(self, inpt):
        if self.scale:
            return functional.convert_image_dtype(inpt, self.dtype)
        return inpt.to(self.dtype)

    def __repr__(self):
        return f"ToDtype(scale={self.scale})"


class ToPureTensor:
    def __call__(self, inpt):
        return inpt

    def __repr__(self):
        return "ToPureTensor()"
