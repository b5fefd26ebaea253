"""torchvision.transforms.functional for dagrad: PIL images (Pillow, imported lazily) and tensors.

Tensor images are (..., C, H, W). Resizing tensors follows ATen's CPU kernels
(`upsample_bilinear2d` with and without antialias, `upsample_nearest2d`), so results match
`torch.nn.functional.interpolate` / torchvision to float rounding.
"""
import numbers
import sys
from enum import Enum

import numpy as np

__all__ = ["InterpolationMode", "to_tensor", "pil_to_tensor", "to_pil_image", "normalize",
           "resize", "center_crop", "crop", "pad", "hflip", "vflip", "resized_crop",
           "adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue",
           "rgb_to_grayscale", "convert_image_dtype", "get_dimensions", "get_image_size",
           "get_image_num_channels"]


class InterpolationMode(Enum):
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


def _pil():
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is an optional extra
        raise ImportError("PIL images need Pillow: pip install pillow") from None
    return Image


def _is_pil(img):
    mod = type(img).__module__
    if not mod.startswith("PIL."):
        return False
    return hasattr(img, "mode") and hasattr(img, "size")


def _is_tensor(img):
    from ...tensor import Tensor
    return isinstance(img, Tensor)


def _check_img(img):
    if not (_is_tensor(img) or _is_pil(img)):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")


def _wrap(arr):
    from ...backend import contiguous
    from ...tensor import _make
    return _make(contiguous(arr))


def _like(a, h):
    """A host weight array h in a's array module (CuPy: copied to the device)."""
    if type(a) is np.ndarray:
        return h
    from ...backend import get_array_module
    return get_array_module(a).asarray(h)


def get_dimensions(img):
    if _is_tensor(img):
        s = img.shape
        c = 1 if len(s) == 2 else s[-3]
        return [c, s[-2], s[-1]]
    if _is_pil(img):
        c = len(img.getbands())
        return [c, img.height, img.width]
    raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")


def get_image_size(img):
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img):
    return get_dimensions(img)[0]


# ------------------------------------------------------------------------------ conversion
def to_tensor(pic):
    """PIL image or HWC ndarray -> float CHW tensor in [0, 1] (uint8 inputs are divided by 255)."""
    from ..._dtype import get_default_dtype
    if not (_is_pil(pic) or isinstance(pic, np.ndarray)):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        if pic.ndim == 2:
            pic = pic[:, :, None]
        arr = np.ascontiguousarray(pic.transpose(2, 0, 1))
        if arr.dtype == np.uint8:
            return _wrap(arr.astype(get_default_dtype().np) / np.float32(255))
        return _wrap(arr.copy())
    types = {"I": np.int32, "I;16" if sys.byteorder == "little" else "I;16B": np.int16,
             "F": np.float32}
    arr = np.array(pic, types.get(pic.mode, np.uint8), copy=True)
    if pic.mode == "1":
        arr = 255 * arr
    if arr.ndim == 2:
        arr = arr[:, :, None]
    arr = arr.reshape(pic.size[1], pic.size[0], len(pic.getbands())).transpose(2, 0, 1)
    if arr.dtype == np.uint8:
        return _wrap(arr.astype(get_default_dtype().np) / np.float32(255))
    return _wrap(arr)


def pil_to_tensor(pic):
    if not _is_pil(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    arr = np.array(pic, copy=True)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return _wrap(arr.transpose(2, 0, 1))


def to_pil_image(pic, mode=None):
    Image = _pil()
    if _is_tensor(pic):
        arr = pic.detach()._data
        if arr.ndim == 2:
            arr = arr[None]
        if arr.ndim != 3:
            raise ValueError(f"pic should be 2/3 dimensional. Got {arr.ndim} dimensions.")
        if arr.dtype.kind == "f" and mode != "F":
            arr = (arr * 255).astype(np.uint8)
        arr = arr.transpose(1, 2, 0)
    elif isinstance(pic, np.ndarray):
        arr = pic if pic.ndim == 3 else pic[:, :, None]
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if arr.shape[2] == 1:
        arr = arr[:, :, 0]
        if mode is None:
            mode = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16",
                    np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(arr.dtype)
    elif mode is None:
        mode = {2: "LA", 3: "RGB", 4: "RGBA"}.get(arr.shape[2])
    if mode in ("RGB", "RGBA", "LA", "L"):
        arr = arr.astype(np.uint8)
        return Image.fromarray(arr, mode if mode != "L" or arr.ndim == 2 else None)
    return Image.fromarray(arr)


def convert_image_dtype(image, dtype=None):
    from ... import _dtype as D
    dtype = D.float32 if dtype is None else dtype
    arr = image._data
    if arr.dtype == dtype.np:
        return image
    if arr.dtype.kind == "f":
        if dtype.is_floating_point:
            return _wrap(arr.astype(dtype.np))
        eps = 1e-3
        maxv = np.iinfo(dtype.np).max
        return _wrap((arr * (maxv + 1.0 - eps)).astype(dtype.np))
    inmax = np.iinfo(arr.dtype).max
    if dtype.is_floating_point:
        return _wrap(arr.astype(dtype.np) / dtype.np.type(inmax))
    outmax = np.iinfo(dtype.np).max
    if inmax > outmax:
        factor = (inmax + 1) // (outmax + 1)
        return _wrap((arr // factor).astype(dtype.np))
    factor = (outmax + 1) // (inmax + 1)
    return _wrap(arr.astype(dtype.np) * factor)


# ----------------------------------------------------------------------------- normalize
def normalize(tensor, mean, std, inplace=False):
    from ...tensor import Tensor
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got "
                         f"tensor.size() = {tensor.size()}")
    dt = tensor._data.dtype
    m = np.asarray(mean._data if isinstance(mean, Tensor) else mean, dtype=dt)
    s = np.asarray(std._data if isinstance(std, Tensor) else std, dtype=dt)
    if (s == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to "
                         "division by zero.")
    if m.ndim == 1:
        m = m.reshape(-1, 1, 1)
    if s.ndim == 1:
        s = s.reshape(-1, 1, 1)
    mt, st = _wrap(_like(tensor._data, m)), _wrap(_like(tensor._data, s))
    if inplace:
        return tensor.sub_(mt).div_(st)
    return (tensor - mt) / st


# ------------------------------------------------------------------------------- resizing
def _aa_weights(in_size, out_size, kind, antialias):
    """Per-output-pixel (start index, weights) as ATen computes them."""
    scale = in_size / out_size
    if kind == "bilinear":
        interp, filt = 2, lambda x: np.clip(1.0 - np.abs(x), 0.0, None)
    else:
        a = -0.5

        def filt(x):
            x = np.abs(x)
            return np.where(x < 1.0, ((a + 2.0) * x - (a + 3.0)) * x * x + 1,
                            np.where(x < 2.0, (((x - 5) * x + 8) * x - 4) * a, 0.0))
        interp = 4
    support = (interp * 0.5) * scale if (scale >= 1.0 and antialias) else interp * 0.5
    invscale = 1.0 / scale if (scale >= 1.0 and antialias) else 1.0
    i = np.arange(out_size, dtype=np.float64)
    center = scale * (i + 0.5)
    xmin = np.maximum((center - support + 0.5).astype(np.int64), 0)
    xmax = np.minimum((center + support + 0.5).astype(np.int64), in_size)
    xsize = xmax - xmin
    width = int(xsize.max()) if out_size else 0
    j = np.arange(width)
    w = filt((j[None, :] + xmin[:, None] - center[:, None] + 0.5) * invscale)
    w = np.where(j[None, :] < xsize[:, None], w, 0.0)
    tot = w.sum(1, keepdims=True)
    w = np.where(tot != 0, w / np.where(tot == 0, 1, tot), 0.0)
    idx = np.minimum(xmin[:, None] + j[None, :], in_size - 1)
    return idx, w


def _resize_axis_aa(arr, axis, out_size, kind, antialias):
    in_size = arr.shape[axis]
    idx, w = _aa_weights(in_size, out_size, kind, antialias)
    a = np.moveaxis(arr, axis, -1)
    g = a[..., idx]                         # (..., out, width)
    r = (g * _like(a, w.astype(a.dtype))).sum(-1)
    return np.moveaxis(r, -1, axis)


def _resize_axis_linear(arr, axis, out_size):
    in_size = arr.shape[axis]
    scale = in_size / out_size
    src = (np.arange(out_size) + 0.5) * scale - 0.5
    src = np.maximum(src, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    i1 = np.minimum(i0 + 1, in_size - 1)
    lam = _like(arr, (src - i0).astype(arr.dtype))
    a = np.moveaxis(arr, axis, -1)
    r = a[..., i0] * (1 - lam) + a[..., i1] * lam
    return np.moveaxis(r, -1, axis)


def _resize_axis_nearest(arr, axis, out_size, exact):
    in_size = arr.shape[axis]
    scale = in_size / out_size
    if exact:
        src = np.floor((np.arange(out_size) + 0.5) * scale).astype(np.int64)
    else:
        src = np.floor(np.arange(out_size) * np.float32(scale)).astype(np.int64)
    src = np.minimum(src, in_size - 1)
    return np.take(arr, src, axis=axis)


def _resize_array(arr, h, w, mode, antialias):
    if mode in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT):
        exact = mode is InterpolationMode.NEAREST_EXACT
        return _resize_axis_nearest(_resize_axis_nearest(arr, -2, h, exact), -1, w, exact)
    kind = {InterpolationMode.BILINEAR: "bilinear", InterpolationMode.BICUBIC: "bicubic"}.get(mode)
    if kind is None:
        raise ValueError(f"Interpolation mode {mode} is not supported for tensors; use "
                         "nearest, nearest-exact, bilinear or bicubic")
    orig = arr.dtype
    work = arr.astype(np.float32) if orig.kind != "f" else arr
    if kind == "bilinear" and not antialias:
        r = _resize_axis_linear(_resize_axis_linear(work, -1, w), -2, h)
    elif kind == "bicubic" and not antialias:
        raise NotImplementedError("bicubic tensor resizing needs antialias=True in dagrad")
    else:
        r = _resize_axis_aa(_resize_axis_aa(work, -1, w, kind, antialias), -2, h, kind, antialias)
    if orig.kind != "f":
        info = np.iinfo(orig)
        r = np.clip(np.round(r), info.min, info.max)
    return r.astype(orig)


def _output_size(h, w, size, max_size):
    if isinstance(size, numbers.Number):
        size = [size]
    size = list(size)
    if len(size) == 1:
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = size[0], int(size[0] * long / short)
        if max_size is not None:
            if max_size <= size[0]:
                raise ValueError(
                    f"max_size = {max_size} must be strictly greater than the requested size for "
                    f"the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)
    if max_size is not None:
        raise ValueError("max_size should only be passed if size specifies the length of the "
                         "smaller edge, i.e. size should be an int or a sequence of length 1 in "
                         "torchscript mode.")
    return size[0], size[1]


_PIL_MODES = {InterpolationMode.NEAREST: 0, InterpolationMode.NEAREST_EXACT: 0,
              InterpolationMode.BILINEAR: 2, InterpolationMode.BICUBIC: 3,
              InterpolationMode.BOX: 4, InterpolationMode.HAMMING: 5,
              InterpolationMode.LANCZOS: 1}


def _interp(mode):
    if isinstance(mode, int):
        inv = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR,
               3: InterpolationMode.BICUBIC, 4: InterpolationMode.BOX,
               5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}
        return inv[mode]
    if isinstance(mode, str):
        return InterpolationMode(mode)
    return mode


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    _check_img(img)
    interpolation = _interp(interpolation)
    if isinstance(size, (list, tuple)) and len(size) not in (1, 2):
        raise ValueError(f"Size must be an int or a 1 or 2 element tuple/list, not a {len(size)} "
                         "element tuple/list")
    _, h, w = get_dimensions(img)
    oh, ow = _output_size(h, w, size, max_size)
    if (oh, ow) == (h, w):
        return img
    if _is_pil(img):
        return img.resize((ow, oh), _PIL_MODES[interpolation])
    arr = img._data
    squeeze = arr.ndim == 2
    if squeeze:
        arr = arr[None]
    out = _resize_array(arr, oh, ow, interpolation, bool(antialias))
    return _wrap(out[0] if squeeze else out)


def crop(img, top, left, height, width):
    _check_img(img)
    if _is_pil(img):
        return img.crop((left, top, left + width, top + height))
    _, h, w = get_dimensions(img)
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        arr = img._data
        pads = [max(-left, 0), max(-top, 0), max(right - w, 0), max(bottom - h, 0)]
        region = arr[..., max(top, 0):min(bottom, h), max(left, 0):min(right, w)]
        cfg = [(0, 0)] * (arr.ndim - 2) + [(pads[1], pads[3]), (pads[0], pads[2])]
        return _wrap(np.pad(region, cfg))
    return _wrap(img._data[..., top:bottom, left:right].copy())


def center_crop(img, output_size):
    _check_img(img)
    if isinstance(output_size, numbers.Number):
        output_size = (int(output_size), int(output_size))
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    _, h, w = get_dimensions(img)
    th, tw = output_size
    if tw > w or th > h:
        padding = [(tw - w) // 2 if tw > w else 0, (th - h) // 2 if th > h else 0,
                   (tw - w + 1) // 2 if tw > w else 0, (th - h + 1) // 2 if th > h else 0]
        img = pad(img, padding, fill=0)
        _, h, w = get_dimensions(img)
        if tw == w and th == h:
            return img
    top = int(round((h - th) / 2.0))
    left = int(round((w - tw) / 2.0))
    return crop(img, top, left, th, tw)


def pad(img, padding, fill=0, padding_mode="constant"):
    _check_img(img)
    if isinstance(padding, numbers.Number):
        padding = [int(padding)] * 4
    padding = list(padding)
    if len(padding) == 1:
        padding = padding * 4
    elif len(padding) == 2:
        padding = [padding[0], padding[1], padding[0], padding[1]]
    elif len(padding) != 4:
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a "
                         f"{len(padding)} element tuple")
    left, top, right, bottom = padding
    if _is_pil(img):
        arr = np.asarray(img)
        cfg = [(top, bottom), (left, right)] + [(0, 0)] * (arr.ndim - 2)
        out = _np_pad(arr, cfg, fill, padding_mode)
        Image = _pil()
        res = Image.fromarray(out, img.mode if img.mode in ("L", "RGB", "RGBA", "LA") else None)
        if img.mode == "P":
            res.putpalette(img.getpalette())
        return res
    arr = img._data
    cfg = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
    return _wrap(_np_pad(arr, cfg, fill, padding_mode))


def _np_pad(arr, cfg, fill, mode):
    if mode == "constant":
        return np.pad(arr, cfg, mode="constant", constant_values=fill if fill is not None else 0)
    npmode = {"edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}.get(mode)
    if npmode is None:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    return np.pad(arr, cfg, mode=npmode)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR,
                 antialias=True):
    img = crop(img, top, left, height, width)
    return resize(img, size, interpolation, antialias=antialias)


def hflip(img):
    _check_img(img)
    if _is_pil(img):
        return img.transpose(0)  # FLIP_LEFT_RIGHT
    return _wrap(img._data[..., ::-1].copy())


def vflip(img):
    _check_img(img)
    if _is_pil(img):
        return img.transpose(1)  # FLIP_TOP_BOTTOM
    return _wrap(img._data[..., ::-1, :].copy())


# ------------------------------------------------------------------------------ colour
def _bound(arr):
    return 1.0 if arr.dtype.kind == "f" else float(np.iinfo(arr.dtype).max)


def _blend(a, b, ratio):
    bound = _bound(a)
    r = ratio * a.astype(np.float32 if a.dtype.kind != "f" else a.dtype) + \
        (1.0 - ratio) * b
    r = np.clip(r, 0, bound)
    return r.astype(a.dtype)


def _gray(arr):
    if arr.shape[-3] == 1:
        return arr
    r, g, b = arr[..., 0, :, :], arr[..., 1, :, :], arr[..., 2, :, :]
    work = arr.dtype if arr.dtype.kind == "f" else np.float32
    l_img = (0.2989 * r.astype(work) + 0.587 * g.astype(work) + 0.114 * b.astype(work))
    if arr.dtype.kind != "f":
        l_img = np.floor(l_img)  # torchvision truncates via .to(uint8)
    return l_img.astype(arr.dtype)[..., None, :, :]


def rgb_to_grayscale(img, num_output_channels=1):
    if _is_pil(img):
        out = img.convert("L")
        if num_output_channels == 3:
            out = _pil().merge("RGB", [out, out, out])
        return out
    g = _gray(img._data)
    if num_output_channels == 3:
        g = np.repeat(g, 3, axis=-3)
    return _wrap(g)


def _pil_enhance(img, name, factor):
    from PIL import ImageEnhance
    return getattr(ImageEnhance, name)(img).enhance(factor)


def adjust_brightness(img, brightness_factor):
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    _check_img(img)
    if _is_pil(img):
        return _pil_enhance(img, "Brightness", brightness_factor)
    a = img._data
    return _wrap(_blend(a, np.zeros((), np.float32), brightness_factor))


def adjust_contrast(img, contrast_factor):
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    _check_img(img)
    if _is_pil(img):
        return _pil_enhance(img, "Contrast", contrast_factor)
    a = img._data
    work = a.dtype if a.dtype.kind == "f" else np.float32
    mean = _gray(a).astype(work).mean(axis=(-3, -2, -1), keepdims=True)
    return _wrap(_blend(a, mean, contrast_factor))


def adjust_saturation(img, saturation_factor):
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    _check_img(img)
    if _is_pil(img):
        return _pil_enhance(img, "Color", saturation_factor)
    a = img._data
    if a.shape[-3] == 1:
        return img
    return _wrap(_blend(a, _gray(a).astype(np.float32), saturation_factor))


def _rgb2hsv(img):
    r, g, b = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    maxc, minc = img.max(axis=-3), img.min(axis=-3)
    eqc = maxc == minc
    cr = maxc - minc
    ones = np.ones_like(maxc)
    s = cr / np.where(eqc, ones, maxc)
    cr_div = np.where(eqc, ones, cr)
    rc, gc, bc = (maxc - r) / cr_div, (maxc - g) / cr_div, (maxc - b) / cr_div
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = np.mod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return np.stack((h, s, maxc), axis=-3)


def _hsv2rgb(img):
    h, s, v = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int64) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    mask = i[..., None, :, :] == _like(i, np.arange(6).reshape(-1, 1, 1))
    a1 = np.stack((v, q, p, p, t, v), axis=-3)
    a2 = np.stack((t, v, v, q, p, p), axis=-3)
    a3 = np.stack((p, p, t, v, v, q), axis=-3)
    a4 = np.stack((a1, a2, a3), axis=-4)
    return np.einsum("...ijk,...xijk->...xjk", mask.astype(img.dtype), a4)


def adjust_hue(img, hue_factor):
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    _check_img(img)
    if _is_pil(img):
        Image = _pil()
        mode = img.mode
        if mode in {"L", "1", "I", "F"}:
            return img
        h, s, v = img.convert("HSV").split()
        np_h = np.array(h, dtype=np.uint8)
        with np.errstate(over="ignore"):
            np_h += np.uint8(int(hue_factor * 255) % 256)
        h = Image.fromarray(np_h, "L")
        return Image.merge("HSV", (h, s, v)).convert(mode)
    a = img._data
    if a.shape[-3] == 1:
        return img
    orig = a.dtype
    work = a.astype(np.float32) / 255.0 if orig.kind != "f" else a
    hsv = _rgb2hsv(work)
    hsv[..., 0, :, :] = np.mod(hsv[..., 0, :, :] + hue_factor, 1.0)
    out = _hsv2rgb(hsv)
    if orig.kind != "f":
        out = (out * 255.0).astype(orig)
    return _wrap(out.astype(orig))
