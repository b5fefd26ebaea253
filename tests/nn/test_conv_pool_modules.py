"""Conv / pool / pad / upsample module classes vs torch (the kernels live in dagrad.ops)."""
import numpy as np
import pytest
import torch
import torch.nn as tnn
from nnhelp import copy_weights, run_both

import dagrad
import dagrad.nn as nn

try:
    import dagrad.ops.conv  # noqa: F401
    import dagrad.ops.pool  # noqa: F401
    HAVE_KERNELS = True
except ImportError:
    HAVE_KERNELS = False
needs_kernels = pytest.mark.skipif(not HAVE_KERNELS, reason="conv/pool kernels not available")

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.uniform(-2, 2, shape).astype(np.float32)


CONV2D = [
    dict(), dict(stride=2), dict(padding=1), dict(padding=(1, 2), stride=(2, 1)),
    dict(padding="same"), dict(padding="valid"), dict(dilation=2, padding=2),
    dict(groups=2), dict(bias=False), dict(padding=1, padding_mode="reflect"),
    dict(padding=1, padding_mode="replicate"), dict(padding=2, padding_mode="circular"),
    dict(padding="same", padding_mode="reflect", dilation=2),
]


@pytest.mark.parametrize("kw", CONV2D, ids=[str(k) for k in CONV2D])
def test_conv2d_repr_and_init_shapes(kw):
    tm, dm = tnn.Conv2d(4, 6, 3, **kw), nn.Conv2d(4, 6, 3, **kw)
    assert repr(dm) == repr(tm)
    assert list(dm.state_dict()) == list(tm.state_dict())
    for (k, a), (_, b) in zip(dm.state_dict().items(), tm.state_dict().items()):
        assert tuple(a.shape) == tuple(b.shape), k


@needs_kernels
@pytest.mark.parametrize("kw", CONV2D, ids=[str(k) for k in CONV2D])
def test_conv2d_numerics(kw):
    tm, dm = tnn.Conv2d(4, 6, 3, **kw), nn.Conv2d(4, 6, 3, **kw)
    copy_weights(tm, dm)
    run_both(tm, dm, [rand(2, 4, 7, 8)], atol=1e-4)
    run_both(tm, dm, [rand(4, 6, 5)], atol=1e-4)  # unbatched


@needs_kernels
@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(padding="same"),
                                dict(groups=3, bias=False), dict(padding=2,
                                                                 padding_mode="reflect")])
def test_conv1d(kw):
    tm, dm = tnn.Conv1d(3, 6, 3, **kw), nn.Conv1d(3, 6, 3, **kw)
    assert repr(dm) == repr(tm)
    copy_weights(tm, dm)
    run_both(tm, dm, [rand(2, 3, 11)], atol=1e-4)


@needs_kernels
@pytest.mark.parametrize("kw", [dict(), dict(stride=2), dict(stride=2, padding=1,
                                                             output_padding=1),
                                dict(groups=2, bias=False), dict(dilation=2)])
def test_conv_transpose2d(kw):
    tm, dm = tnn.ConvTranspose2d(4, 6, 3, **kw), nn.ConvTranspose2d(4, 6, 3, **kw)
    assert repr(dm) == repr(tm)
    copy_weights(tm, dm)
    run_both(tm, dm, [rand(2, 4, 5, 4)], atol=1e-4)


@needs_kernels
def test_conv_transpose2d_output_size():
    tm, dm = tnn.ConvTranspose2d(2, 3, 3, stride=2), nn.ConvTranspose2d(2, 3, 3, stride=2)
    copy_weights(tm, dm)
    x = rand(1, 2, 4, 4)
    a = tm(torch.tensor(x), output_size=[10, 10])
    b = dm(dagrad.tensor(x), output_size=[10, 10])
    np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="requested an output size of"):
        dm(dagrad.tensor(x), output_size=[20, 20])


def test_conv_bad_input_messages():
    m = nn.Conv2d(3, 4, 3)
    with pytest.raises(RuntimeError) as e:
        m(dagrad.randn(2, 3))
    with pytest.raises(RuntimeError) as et:
        tnn.Conv2d(3, 4, 3)(torch.randn(2, 3))
    assert str(e.value) == str(et.value)
    with pytest.raises(RuntimeError) as e:
        m(dagrad.randn(1, 5, 8, 8))
    with pytest.raises(RuntimeError) as et:
        tnn.Conv2d(3, 4, 3)(torch.randn(1, 5, 8, 8))
    assert str(e.value) == str(et.value)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)


def test_conv_and_linear_default_init_distribution():
    # kaiming_uniform_(a=sqrt(5)) -> U(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias the same bound
    m = nn.Conv2d(16, 256, 3)
    fan_in = 16 * 9
    bound = 1 / np.sqrt(fan_in)
    w = m.weight.detach().numpy()
    assert w.min() >= -bound and w.max() <= bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.02 * bound
    b = m.bias.detach().numpy()
    assert b.min() >= -bound and b.max() <= bound
    lin = nn.Linear(400, 300)
    w = lin.weight.detach().numpy()
    bound = 1 / np.sqrt(400)
    assert w.min() >= -bound and w.max() <= bound and abs(w.mean()) < 0.05 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.02 * bound


POOLS = [
    ("MaxPool2d", (2,), {}), ("MaxPool2d", (3,), dict(stride=2, padding=1)),
    ("MaxPool2d", (3,), dict(stride=2, ceil_mode=True)),
    ("MaxPool2d", (2,), dict(dilation=2)), ("MaxPool1d", (3,), dict(stride=2, padding=1)),
    ("AvgPool2d", (2,), {}), ("AvgPool2d", (3,), dict(stride=2, padding=1)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, count_include_pad=False)),
    ("AvgPool2d", (3,), dict(stride=2, ceil_mode=True)), ("AvgPool1d", (3,), dict(stride=2)),
    ("AdaptiveAvgPool2d", ((1, 1),), {}), ("AdaptiveAvgPool2d", (3,), {}),
    ("AdaptiveAvgPool2d", ((2, None),), {}), ("AdaptiveAvgPool1d", (4,), {}),
    ("AdaptiveMaxPool2d", ((3, 2),), {}), ("AdaptiveMaxPool2d", (1,), {}),
]


@pytest.mark.parametrize("name,args,kw", POOLS, ids=[f"{p[0]}{i}" for i, p in enumerate(POOLS)])
def test_pool_repr(name, args, kw):
    assert repr(getattr(nn, name)(*args, **kw)) == repr(getattr(tnn, name)(*args, **kw))


@needs_kernels
@pytest.mark.parametrize("name,args,kw", POOLS, ids=[f"{p[0]}{i}" for i, p in enumerate(POOLS)])
def test_pool_numerics(name, args, kw):
    tm, dm = getattr(tnn, name)(*args, **kw), getattr(nn, name)(*args, **kw)
    shape = (2, 3, 9) if "1d" in name else (2, 3, 9, 8)
    run_both(tm, dm, [rand(*shape)])


@needs_kernels
def test_maxpool_return_indices():
    tm, dm = tnn.MaxPool2d(2, return_indices=True), nn.MaxPool2d(2, return_indices=True)
    x = rand(1, 2, 4, 4)
    (to, ti), (do, di) = tm(torch.tensor(x)), dm(dagrad.tensor(x))
    np.testing.assert_array_equal(di.numpy(), ti.numpy())
    np.testing.assert_allclose(do.numpy(), to.numpy())
    y = dm(dagrad.tensor(x, requires_grad=True))[0]
    assert y.grad_fn.name() == "MaxPool2DWithIndicesBackward0"


PADS = [("ZeroPad2d", (2,)), ("ZeroPad2d", ((1, 2, 0, 1),)), ("ConstantPad2d", (1, 3.5)),
        ("ReflectionPad2d", (2,)), ("ReflectionPad2d", ((1, 0, 2, 1),)),
        ("ReplicationPad2d", (1,)), ("ConstantPad1d", ((1, 2), 1.0))]


@pytest.mark.parametrize("name,args", PADS, ids=[f"{p[0]}{i}" for i, p in enumerate(PADS)])
def test_padding_modules(name, args):
    tm, dm = getattr(tnn, name)(*args), getattr(nn, name)(*args)
    assert repr(dm) == repr(tm)
    if HAVE_KERNELS:
        shape = (2, 3, 6) if "1d" in name else (2, 3, 5, 6)
        run_both(tm, dm, [rand(*shape)])


UPS = [dict(scale_factor=2), dict(size=(7, 5)), dict(scale_factor=2, mode="bilinear"),
       dict(scale_factor=1.5, mode="bilinear", align_corners=True),
       dict(size=(3, 9), mode="bilinear")]


@pytest.mark.parametrize("kw", UPS, ids=[str(u) for u in UPS])
def test_upsample(kw):
    tm, dm = tnn.Upsample(**kw), nn.Upsample(**kw)
    assert repr(dm) == repr(tm)
    if HAVE_KERNELS:
        run_both(tm, dm, [rand(2, 3, 4, 6)])


def test_pixel_shuffle():
    tm, dm = tnn.PixelShuffle(2), nn.PixelShuffle(2)
    assert repr(dm) == repr(tm)
    if HAVE_KERNELS:
        run_both(tm, dm, [rand(2, 8, 3, 4)])
        run_both(tnn.PixelUnshuffle(2), nn.PixelUnshuffle(2), [rand(2, 2, 4, 6)])


@needs_kernels
def test_small_cnn_end_to_end_matches_torch():
    def build(n):
        return n.Sequential(
            n.Conv2d(1, 4, 3, padding=1), n.BatchNorm2d(4), n.ReLU(inplace=True),
            n.MaxPool2d(2), n.Conv2d(4, 8, 3, padding=1, bias=False), n.BatchNorm2d(8),
            n.ReLU(), n.AdaptiveAvgPool2d((1, 1)), n.Flatten(), n.Dropout(0.0), n.Linear(8, 3))
    tm, dm = build(tnn), build(nn)
    assert repr(dm) == repr(tm)
    copy_weights(tm, dm)
    x = rand(5, 1, 8, 8)
    t = np.array([0, 1, 2, 1, 0])
    to = tnn.functional.cross_entropy(tm(torch.tensor(x)), torch.tensor(t))
    do = nn.functional.cross_entropy(dm(dagrad.tensor(x)), dagrad.tensor(t))
    np.testing.assert_allclose(do.item(), to.item(), rtol=1e-5)
    to.backward()
    do.backward()
    for (k, p), (_, q) in zip(dm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), atol=1e-5, rtol=1e-4,
                                   err_msg=k)
    for (k, a), (_, b) in zip(dm.state_dict().items(), tm.state_dict().items()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6, err_msg=k)


@needs_kernels
@pytest.mark.parametrize("kw", [dict(), dict(padding=1, stride=2), dict(padding="same"),
                                dict(padding=1, padding_mode="reflect", bias=False)])
def test_conv3d(kw):
    tm, dm = tnn.Conv3d(2, 3, 3, **kw), nn.Conv3d(2, 3, 3, **kw)
    assert repr(dm) == repr(tm)
    copy_weights(tm, dm)
    run_both(tm, dm, [rand(2, 2, 5, 4, 6)], atol=1e-4)


@needs_kernels
@pytest.mark.parametrize("name,args", [("ZeroPad3d", (1,)), ("ConstantPad3d", ((1, 0, 2, 1, 0, 1), 2.0)),
                                       ("ReflectionPad3d", (1,)), ("ReplicationPad3d", (2,)),
                                       ("CircularPad3d", (1,)), ("AdaptiveAvgPool3d", (2,)),
                                       ("AdaptiveAvgPool3d", ((1, 2, 3),))])
def test_3d_modules(name, args):
    tm, dm = getattr(tnn, name)(*args), getattr(nn, name)(*args)
    assert repr(dm) == repr(tm)
    run_both(tm, dm, [rand(2, 2, 4, 5, 6)])
