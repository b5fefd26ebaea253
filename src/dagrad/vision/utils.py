"""torchvision.utils: make_grid and save_image."""
import math

import numpy as np

__all__ = ["make_grid", "save_image"]


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
              pad_value=0.0):
    """Arrange a (B, C, H, W) batch (or a list of (C, H, W) images) into one grid image."""
    from ..tensor import Tensor, _make
    if isinstance(tensor, (list, tuple)):
        arr = np.stack([t.detach()._data for t in tensor], 0)
    elif isinstance(tensor, Tensor):
        arr = tensor.detach()._data
    else:
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim == 3:
        if arr.shape[0] == 1:
            arr = np.concatenate((arr, arr, arr), 0)
        arr = arr[None]
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = np.concatenate((arr, arr, arr), 1)
    if normalize:
        arr = arr.astype(arr.dtype if arr.dtype.kind == "f" else np.float32, copy=True)

        def norm(img, low, high):
            np.clip(img, low, high, out=img)
            img -= low
            img /= max(high - low, 1e-5)

        def norm_range(t):
            if value_range is not None:
                norm(t, value_range[0], value_range[1])
            else:
                norm(t, float(t.min()), float(t.max()))
        if scale_each:
            for t in arr:
                norm_range(t)
        else:
            norm_range(arr)
    if arr.shape[0] == 1:
        return _make(arr[0].copy())
    nmaps = arr.shape[0]
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(arr.shape[2] + padding), int(arr.shape[3] + padding)
    from ..backend import get_array_module
    grid = get_array_module(arr).full(
        (arr.shape[1], height * ymaps + padding, width * xmaps + padding), pad_value,
        dtype=arr.dtype)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= nmaps:
                break
            grid[:, y * height + padding: (y + 1) * height,
                 x * width + padding: (x + 1) * width] = arr[k]
            k += 1
    return _make(grid)


def save_image(tensor, fp, format=None, **kwargs):  # noqa: A002
    """Save a tensor (or a batch, through make_grid) as an image file (needs Pillow)."""
    from PIL import Image
    grid = make_grid(tensor, **kwargs)._data
    nd = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    Image.fromarray(nd).save(fp, format=format)
