"""dagrad.vision.transforms: tensors compared with torch's interpolate / formulas, PIL with Pillow."""
import numpy as np
import pytest
import torch
from PIL import Image, ImageEnhance

import dagrad
from dagrad.vision import transforms as T
from dagrad.vision.transforms import InterpolationMode
from dagrad.vision.transforms import functional as F

RNG = np.random.default_rng(0)


def _np(t):
    return np.asarray(t.detach()._data)


def _img(h=37, w=53, c=3):
    return RNG.random((c, h, w), dtype=np.float32)


@pytest.mark.parametrize("size", [(20, 30), (64, 80), (37, 10), (5, 53)])
@pytest.mark.parametrize("antialias", [True, False])
def test_resize_bilinear_matches_torch(size, antialias):
    x = _img()
    ref = torch.nn.functional.interpolate(torch.from_numpy(x)[None], size=size, mode="bilinear",
                                          align_corners=False, antialias=antialias)[0].numpy()
    got = _np(F.resize(dagrad.from_numpy(x), list(size), antialias=antialias))
    np.testing.assert_allclose(got, ref, atol=1e-5)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bicubic"])
def test_resize_other_modes_match_torch(mode):
    x = _img(37, 53)
    for size in [(20, 30), (70, 90)]:
        kw = {"antialias": True} if mode == "bicubic" else {}
        ref = torch.nn.functional.interpolate(torch.from_numpy(x)[None], size=size, mode=mode,
                                              **kw)[0].numpy()
        got = _np(F.resize(dagrad.from_numpy(x), list(size), interpolation=InterpolationMode(mode)))
        np.testing.assert_allclose(got, ref, atol=1e-5)


def test_resize_shorter_side_batched_and_uint8():
    x = RNG.random((2, 3, 40, 60), dtype=np.float32)
    out = F.resize(dagrad.from_numpy(x), 20)
    assert tuple(out.shape) == (2, 3, 20, 30)
    ref = torch.nn.functional.interpolate(torch.from_numpy(x), size=(20, 30), mode="bilinear",
                                          antialias=True).numpy()
    np.testing.assert_allclose(_np(out), ref, atol=1e-5)
    assert tuple(F.resize(dagrad.from_numpy(x), 20, max_size=25).shape) == (2, 3, 16, 25)
    u = (RNG.random((3, 40, 50)) * 255).astype(np.uint8)
    ref = torch.nn.functional.interpolate(torch.from_numpy(u)[None], size=(17, 23),
                                          mode="bilinear", antialias=True)[0].numpy()
    got = _np(F.resize(dagrad.from_numpy(u), [17, 23]))
    assert got.dtype == np.uint8 and np.abs(got.astype(int) - ref.astype(int)).max() <= 1


def test_resize_pil_uses_pillow():
    arr = (RNG.random((30, 40, 3)) * 255).astype(np.uint8)
    im = Image.fromarray(arr)
    out = T.Resize(15)(im)
    assert out.size == (20, 15)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(im.resize((20, 15), Image.BILINEAR)))


def test_to_tensor_pil_to_tensor_and_ndarray():
    arr = (RNG.random((5, 7, 3)) * 255).astype(np.uint8)
    im = Image.fromarray(arr)
    t = T.ToTensor()(im)
    assert t.dtype == dagrad.float32 and tuple(t.shape) == (3, 5, 7)
    np.testing.assert_allclose(_np(t), arr.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    p = T.PILToTensor()(im)
    assert p.dtype == dagrad.uint8 and _np(p).tolist() == arr.transpose(2, 0, 1).tolist()
    g = T.ToTensor()(Image.fromarray(arr[:, :, 0], "L"))
    assert tuple(g.shape) == (1, 5, 7)
    nd = T.ToTensor()(arr)
    np.testing.assert_allclose(_np(nd), _np(t))
    f = T.ToTensor()(arr.astype(np.float64))
    assert f.dtype == dagrad.float64
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        T.ToTensor()([1, 2])


def test_normalize_values_grad_and_errors():
    x = dagrad.from_numpy(_img(4, 5)).requires_grad_()
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    y = T.Normalize(mean, std)(x)
    ref = (torch.from_numpy(_np(x)) - torch.tensor(mean)[:, None, None]) / \
        torch.tensor(std)[:, None, None]
    np.testing.assert_allclose(_np(y), ref.numpy(), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(_np(x.grad), np.broadcast_to(1 / np.array(std, np.float32)
                                                            [:, None, None], (3, 4, 5)), rtol=1e-6)
    with pytest.raises(TypeError, match="Input tensor should be a float tensor. Got torch.uint8."):
        T.Normalize(mean, std)(dagrad.zeros(3, 2, 2, dtype=dagrad.uint8))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize([0.0], [0.0])(dagrad.zeros(1, 2, 2))
    with pytest.raises(ValueError, match=r"Expected tensor to be a tensor image of size"):
        T.Normalize([0.0], [1.0])(dagrad.zeros(2, 2))
    z = dagrad.ones(3, 2, 2)
    T.Normalize([1.0] * 3, [2.0] * 3, inplace=True)(z)
    assert z.sum().item() == 0.0


def test_center_crop_and_padding_like_torchvision():
    x = dagrad.arange(5 * 6.0).reshape(1, 5, 6)
    c = T.CenterCrop(3)(x)
    # top = round((5 - 3) / 2) = 1, left = round((6 - 3) / 2) = round(1.5) = 2
    assert _np(c).tolist() == _np(x)[:, 1:4, 2:5].tolist()
    big = F.center_crop(x, [7, 8])
    assert tuple(big.shape) == (1, 7, 8) and _np(big)[0, 0].sum() == 0
    assert _np(big)[0, 1:6, 1:7].tolist() == _np(x)[0].tolist()
    im = Image.fromarray((RNG.random((10, 12, 3)) * 255).astype(np.uint8))
    assert T.CenterCrop((4, 6))(im).size == (6, 4)
    assert repr(T.CenterCrop(224)) == "CenterCrop(size=(224, 224))"


def test_random_crop_flip_resized_crop_shapes_and_determinism():
    x = dagrad.from_numpy(_img(20, 30))
    dagrad.manual_seed(3)
    a = T.RandomCrop(8)(x)
    dagrad.manual_seed(3)
    b = T.RandomCrop(8)(x)
    assert tuple(a.shape) == (3, 8, 8) and _np(a).tolist() == _np(b).tolist()
    found = False
    xs = _np(x)
    for i in range(13):
        for j in range(23):
            if np.array_equal(xs[:, i:i + 8, j:j + 8], _np(a)):
                found = True
    assert found
    assert tuple(T.RandomCrop(32, pad_if_needed=True)(x).shape) == (3, 32, 32)
    assert tuple(T.RandomCrop(10, padding=4)(x).shape) == (3, 10, 10)
    with pytest.raises(ValueError, match="Required crop size"):
        T.RandomCrop(40)(x)
    flipped = T.RandomHorizontalFlip(p=1.0)(x)
    assert _np(flipped).tolist() == xs[:, :, ::-1].tolist()
    assert T.RandomHorizontalFlip(p=0.0)(x) is x
    r = T.RandomResizedCrop(16)(x)
    assert tuple(r.shape) == (3, 16, 16)
    im = Image.fromarray((RNG.random((20, 30, 3)) * 255).astype(np.uint8))
    assert T.RandomResizedCrop((9, 11))(im).size == (11, 9)
    assert T.RandomHorizontalFlip(1.0)(im).tobytes() == im.transpose(0).tobytes()


def _torch_blend(a, b, r):
    return (r * a + (1 - r) * b).clamp(0, 1)


def test_color_adjustments_match_torchvision_formulas():
    x = _img(6, 7)
    tx = torch.from_numpy(x)
    gray = (0.2989 * tx[0] + 0.587 * tx[1] + 0.114 * tx[2])[None]
    np.testing.assert_allclose(_np(F.adjust_brightness(dagrad.from_numpy(x), 1.3)),
                               _torch_blend(tx, torch.zeros(()), 1.3).numpy(), atol=1e-6)
    np.testing.assert_allclose(_np(F.adjust_contrast(dagrad.from_numpy(x), 0.6)),
                               _torch_blend(tx, gray.mean(), 0.6).numpy(), atol=1e-6)
    np.testing.assert_allclose(_np(F.adjust_saturation(dagrad.from_numpy(x), 1.7)),
                               _torch_blend(tx, gray, 1.7).numpy(), atol=1e-6)
    # hue 0 and +-0.5 twice are identities; hue keeps value (max channel)
    np.testing.assert_allclose(_np(F.adjust_hue(dagrad.from_numpy(x), 0.0)), x, atol=1e-6)
    h = _np(F.adjust_hue(dagrad.from_numpy(x), 0.25))
    np.testing.assert_allclose(h.max(0), x.max(0), atol=1e-6)
    back = F.adjust_hue(F.adjust_hue(dagrad.from_numpy(x), 0.5), -0.5)
    np.testing.assert_allclose(_np(back), x, atol=1e-5)
    with pytest.raises(ValueError, match=r"hue_factor \(0.7\) is not in \[-0.5, 0.5\]."):
        F.adjust_hue(dagrad.from_numpy(x), 0.7)
    im = Image.fromarray((x.transpose(1, 2, 0) * 255).astype(np.uint8))
    assert F.adjust_brightness(im, 1.5).tobytes() == \
        ImageEnhance.Brightness(im).enhance(1.5).tobytes()
    cj = T.ColorJitter(0.4, 0.4, 0.4, 0.1)
    out = cj(dagrad.from_numpy(x))
    assert tuple(out.shape) == (3, 6, 7) and 0 <= _np(out).min() and _np(out).max() <= 1
    assert cj(im).size == im.size
    with pytest.raises(ValueError, match="If brightness is a single number, it must be non negative."):
        T.ColorJitter(brightness=-1)


def test_compose_lambda_and_reprs():
    tf = T.Compose([T.Resize(8), T.CenterCrop(6), T.Lambda(lambda t: t * 2)])
    out = tf(dagrad.from_numpy(_img(10, 12)))
    assert tuple(out.shape) == (3, 6, 6)
    assert repr(T.Compose([T.ToTensor(), T.Normalize([0.5], [0.5])])) == \
        "Compose(\n    ToTensor()\n    Normalize(mean=[0.5], std=[0.5])\n)"
    assert repr(T.Resize(256)) == \
        "Resize(size=256, interpolation=bilinear, max_size=None, antialias=True)"
    with pytest.raises(TypeError, match="Argument lambd should be callable, got 'int'"):
        T.Lambda(3)


def test_imagenet_preset_transform():
    from dagrad.vision.models import ResNet18_Weights
    tf = ResNet18_Weights.DEFAULT.transforms()
    arr = (RNG.random((300, 400, 3)) * 255).astype(np.uint8)
    out = tf(Image.fromarray(arr))
    assert tuple(out.shape) == (3, 224, 224) and out.dtype == dagrad.float32
    # the same pipeline in torch: resize 256 (antialias bilinear), center crop 224, normalize
    t = torch.from_numpy(arr.transpose(2, 0, 1).copy())
    r = torch.nn.functional.interpolate(t[None].float(), size=(256, 341), mode="bilinear",
                                        antialias=True)[0].round().clamp(0, 255)
    top, left = int(round((256 - 224) / 2)), int(round((341 - 224) / 2))
    c = r[:, top:top + 224, left:left + 224] / 255
    ref = (c - torch.tensor([0.485, 0.456, 0.406])[:, None, None]) / \
        torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    # PIL's uint8 resampling differs from torch's float path by at most one grey level
    assert np.abs(_np(out) - ref.numpy()).max() < 1.5 / 255 / 0.224
    assert "crop_size=[224]" in repr(tf) and "resize_size=[256]" in repr(tf)


def _torch_make_grid(t, nrow=8, padding=2, pad_value=0.0):
    """torchvision.utils.make_grid's layout, written in torch for the comparison."""
    import math
    nmaps = t.size(0)
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(nmaps / xmaps))
    h, w = t.size(2) + padding, t.size(3) + padding
    grid = t.new_full((t.size(1), h * ymaps + padding, w * xmaps + padding), pad_value)
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        grid.narrow(1, y * h + padding, h - padding).narrow(2, x * w + padding,
                                                            w - padding).copy_(t[k])
    return grid


def test_make_grid_and_save_image(tmp_path):
    from dagrad.vision.utils import make_grid, save_image
    x = RNG.random((5, 3, 4, 6), dtype=np.float32)
    g = make_grid(dagrad.from_numpy(x), nrow=2, padding=1, pad_value=0.5)
    np.testing.assert_array_equal(_np(g), _torch_make_grid(torch.from_numpy(x), 2, 1, 0.5).numpy())
    gray = make_grid(dagrad.from_numpy(x[:, :1] * 4), normalize=True)
    assert tuple(gray.shape) == (3, 8, 42) and float(gray.max()) == 1.0
    save_image(dagrad.from_numpy(x), tmp_path / "g.png", nrow=3)
    im = Image.open(tmp_path / "g.png")
    assert im.size == (3 * 8 + 2, 2 * 6 + 2)


def test_transforms_v2_basics():
    from dagrad.vision.transforms import v2
    arr = (RNG.random((6, 5, 3)) * 255).astype(np.uint8)
    tf = v2.Compose([v2.ToImage(), v2.ToDtype(dagrad.float32, scale=True),
                     v2.Normalize([0.5] * 3, [0.5] * 3)])
    out = tf(Image.fromarray(arr))
    ref = (arr.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
    np.testing.assert_allclose(_np(out), ref, rtol=1e-5, atol=1e-6)
    assert v2.ToImage()(arr).dtype == dagrad.uint8
    i16 = Image.fromarray(np.array([[1, 2], [3, 40000]], np.uint16))
    assert T.ToTensor()(i16).dtype == dagrad.int16       # torchvision's I;16 -> int16 mapping
