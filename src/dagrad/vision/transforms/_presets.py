"""Preset evaluation transforms attached to pretrained weights (torchvision.transforms._presets)."""
from . import functional as F
from .functional import InterpolationMode

__all__ = ["ImageClassification"]


class ImageClassification:
    """Resize the shorter side to `resize_size`, center-crop `crop_size`, scale to [0, 1] floats
    and normalize with the ImageNet mean and std (PIL images or uint8/float tensors)."""

    def __init__(self, *, crop_size, resize_size=256, mean=(0.485, 0.456, 0.406),
                 std=(0.229, 0.224, 0.225), interpolation=InterpolationMode.BILINEAR,
                 antialias=True):
        self.crop_size = [crop_size]
        self.resize_size = [resize_size]
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = interpolation
        self.antialias = antialias

    def __call__(self, img):
        return self.forward(img)

    def forward(self, img):
        from ... import _dtype as D
        from ...tensor import Tensor
        if not isinstance(img, Tensor):
            img = F.pil_to_tensor(img)
        img = F.resize(img, self.resize_size, interpolation=self.interpolation,
                       antialias=self.antialias)
        img = F.center_crop(img, self.crop_size)
        img = F.convert_image_dtype(img, D.float32)
        img = F.normalize(img, mean=self.mean, std=self.std)
        return img

    def __repr__(self):
        s = self.__class__.__name__ + "("
        s += f"\n    crop_size={self.crop_size}"
        s += f"\n    resize_size={self.resize_size}"
        s += f"\n    mean={self.mean}"
        s += f"\n    std={self.std}"
        s += f"\n    interpolation={self.interpolation}"
        s += "\n)"
        return s

    def describe(self):
        return (
            "Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image "
            "``torch.Tensor`` objects. The images are resized to ``resize_size="
            f"{self.resize_size}`` using ``interpolation={self.interpolation}``, followed by a "
            f"central crop of ``crop_size={self.crop_size}``. Finally the values are first "
            "rescaled to ``[0.0, 1.0]`` and then normalized using ``mean="
            f"{self.mean}`` and ``std={self.std}``.")
