"""Model architectures (keys, shapes, parameter counts, init), weights enums, registry and
bad-input messages."""
import io

import numpy as np
import pytest
import torch
from _model_helpers import TM, _close, _compare_train_step, _np, _torch_bytes  # noqa: F401

import dagrad
from dagrad.vision import models as M


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50", "resnet101"])
def test_resnet_state_dict_keys_shapes_and_param_counts(name):
    dm = getattr(M, name)()
    weights = M.get_model_weights(name).DEFAULT
    assert sum(p.numel() for p in dm.parameters()) == weights.meta["num_params"]
    if hasattr(TM, name):
        tsd = getattr(TM, name)().state_dict()
        dsd = dm.state_dict()
        assert list(dsd) == list(tsd)
        for k in tsd:
            assert tuple(dsd[k].shape) == tuple(tsd[k].shape), k
            assert str(dsd[k].dtype) == str(tsd[k].dtype), k


def test_resnet18_init_like_torchvision():
    dagrad.manual_seed(0)
    m = M.resnet18()
    w = _np(m.conv1.weight)
    fan_out = 64 * 7 * 7
    assert abs(w.std() - np.sqrt(2.0 / fan_out)) < 0.1 * np.sqrt(2.0 / fan_out)
    assert _np(m.bn1.weight).tolist() == [1.0] * 64 and _np(m.bn1.bias).tolist() == [0.0] * 64
    bound = 1 / np.sqrt(512)
    assert np.abs(_np(m.fc.weight)).max() <= bound and np.abs(_np(m.fc.weight)).max() > 0.9 * bound
    z = M.resnet18(zero_init_residual=True)
    assert float(z.layer1[0].bn2.weight.abs().sum()) == 0.0


@pytest.mark.parametrize("name,params", [("mobilenet_v2", 3504872), ("alexnet", 61100840)])
def test_other_models_keys_and_param_counts(name, params):
    m = M.get_model(name)
    assert sum(p.numel() for p in m.parameters()) == params
    keys = list(m.state_dict())
    if name == "mobilenet_v2":
        assert keys[:6] == ["features.0.0.weight", "features.0.1.weight", "features.0.1.bias",
                            "features.0.1.running_mean", "features.0.1.running_var",
                            "features.0.1.num_batches_tracked"]
        assert "features.1.conv.0.0.weight" in keys and "features.1.conv.1.weight" in keys
        assert "features.2.conv.0.0.weight" in keys and "features.2.conv.3.weight" in keys
        assert "features.18.0.weight" in keys and keys[-2:] == ["classifier.1.weight",
                                                                "classifier.1.bias"]
    else:
        assert keys == ["features.0.weight", "features.0.bias", "features.3.weight",
                        "features.3.bias", "features.6.weight", "features.6.bias",
                        "features.8.weight", "features.8.bias", "features.10.weight",
                        "features.10.bias", "classifier.1.weight", "classifier.1.bias",
                        "classifier.4.weight", "classifier.4.bias", "classifier.6.weight",
                        "classifier.6.bias"]


def test_mobilenet_v2_forward_matches_a_torch_build():
    dagrad.manual_seed(0)
    dm = M.mobilenet_v2(num_classes=7, width_mult=0.5)
    dm.eval()
    x = np.random.default_rng(2).random((1, 3, 32, 32), dtype=np.float32)
    out = dm(dagrad.from_numpy(x))
    assert tuple(out.shape) == (1, 7)
    # the same network assembled from the dagrad module tree in torch, via the state dict
    sd = {k: torch.from_numpy(np.array(_np(v))) for k, v in dm.state_dict().items()}
    ref = _torch_mobilenet_from_dagrad(dm)
    ref.load_state_dict(sd)
    ref.eval()
    _close(out, ref(torch.from_numpy(x)), 1e-4)


def _torch_mobilenet_from_dagrad(dm):
    """A torch nn.Module mirroring dagrad's MobileNetV2 module tree (mapped class by class)."""
    def conv(m):
        return torch.nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding,
                               groups=m.groups, bias=m.bias is not None)

    def mirror(m):
        cls = type(m).__name__
        if cls == "Conv2d":
            return conv(m)
        if cls == "BatchNorm2d":
            return torch.nn.BatchNorm2d(m.num_features)
        if cls == "ReLU6":
            return torch.nn.ReLU6()
        if cls == "Dropout":
            return torch.nn.Dropout(m.p)
        if cls == "Linear":
            return torch.nn.Linear(m.in_features, m.out_features)
        if cls in ("Sequential", "Conv2dNormActivation"):
            return torch.nn.Sequential(*[mirror(c) for c in m])
        if cls == "InvertedResidual":
            r = _Res(mirror(m.conv), m.use_res_connect)
            return r
        raise AssertionError(cls)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = mirror(dm.features)
            self.classifier = mirror(dm.classifier)

        def forward(self, x):
            x = torch.nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
            return self.classifier(torch.flatten(x, 1))

    return Net()


class _Res(torch.nn.Module):
    def __init__(self, conv, res):
        super().__init__()
        self.conv, self.res = conv, res

    def forward(self, x):
        return x + self.conv(x) if self.res else self.conv(x)


def test_alexnet_and_vgg_forward_shapes():
    dagrad.manual_seed(0)
    a = M.alexnet(num_classes=5)
    a.eval()
    assert tuple(a(dagrad.rand(1, 3, 63, 63)).shape) == (1, 5)
    with pytest.raises(RuntimeError, match=r"alexnet expects images of at least 63x63 pixels, "
                                           r"got input of shape \[1, 3, 40, 40\]"):
        a(dagrad.rand(1, 3, 40, 40))


@pytest.mark.slow
def test_vgg11_bn_param_count_and_keys():
    m = M.vgg11_bn()
    assert sum(p.numel() for p in m.parameters()) == 132868840
    keys = list(m.state_dict())
    assert keys[:2] == ["features.0.weight", "features.0.bias"]
    assert "features.1.running_mean" in keys and keys[-1] == "classifier.6.bias"


# --------------------------------------------------------------------------- weights enums
def test_weights_enums_match_torchvision():
    W = M.ResNet18_Weights
    assert W.DEFAULT is W.IMAGENET1K_V1 and repr(W.DEFAULT) == "ResNet18_Weights.IMAGENET1K_V1"
    assert W.DEFAULT.url == "https://download.pytorch.org/models/resnet18-f37072fd.pth"
    m = W.DEFAULT.meta
    assert m["num_params"] == 11689512 and len(m["categories"]) == 1000
    assert m["categories"][0] == "tench" and m["categories"][207] == "golden retriever"
    assert m["categories"][999] == "toilet tissue"
    assert m["_metrics"]["ImageNet-1K"] == {"acc@1": 69.758, "acc@5": 89.078}
    assert M.ResNet50_Weights.DEFAULT is M.ResNet50_Weights.IMAGENET1K_V2
    assert M.ResNet50_Weights.IMAGENET1K_V1.url.endswith("resnet50-0676ba61.pth")
    assert M.ResNet34_Weights.DEFAULT.url.endswith("resnet34-b627a593.pth")
    assert M.ResNet101_Weights.IMAGENET1K_V2.url.endswith("resnet101-cd907fc2.pth")
    assert M.ResNet152_Weights.IMAGENET1K_V1.url.endswith("resnet152-394f9c45.pth")
    assert M.VGG11_BN_Weights.DEFAULT.url.endswith("vgg11_bn-6002323d.pth")
    assert M.MobileNet_V2_Weights.DEFAULT.url.endswith("mobilenet_v2-7ebf99e0.pth")
    assert M.AlexNet_Weights.DEFAULT.url.endswith("alexnet-owt-7be5be79.pth")
    assert M.get_weight("ResNet18_Weights.IMAGENET1K_V1") is W.IMAGENET1K_V1
    assert M.get_model_weights("resnet50") is M.ResNet50_Weights
    assert M.list_models() == ["alexnet", "mobilenet_v2", "resnet101", "resnet152", "resnet18",
                               "resnet34", "resnet50", "vgg11", "vgg11_bn"]
    assert M.list_models(include="resnet*", exclude="*50") == ["resnet101", "resnet152",
                                                               "resnet18", "resnet34"]
    assert W.verify("IMAGENET1K_V1") is W.IMAGENET1K_V1
    assert W.verify("ResNet18_Weights.DEFAULT") is W.IMAGENET1K_V1
    t = W.DEFAULT.transforms()
    assert t.crop_size == [224] and t.resize_size == [256]
    assert M.ResNet50_Weights.DEFAULT.transforms().resize_size == [232]


def test_bad_weights_names_and_types():
    with pytest.raises(KeyError) as ei:
        M.resnet18(weights="IMAGENET1K_V3")
    assert "'IMAGENET1K_V1', 'DEFAULT'" in str(ei.value)
    with pytest.raises(TypeError, match="expected ResNet18_Weights but received "
                                        "ResNet34_Weights"):
        M.resnet18(weights=M.ResNet34_Weights.DEFAULT)
    with pytest.raises(ValueError, match="Unknown model resnet7"):
        M.get_model("resnet7")
    with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 1000 but got "
                                         "10 instead."):
        M.resnet18(weights="DEFAULT", num_classes=10)


def test_wrong_input_names_model_and_shapes():
    m = M.resnet18(num_classes=4)
    with pytest.raises(RuntimeError, match=r"resnet18 expects input of shape \(N, 3, H, W\), got "
                                           r"\[1, 4, 32, 32\]"):
        m(dagrad.rand(1, 4, 32, 32))
    with pytest.raises(RuntimeError, match=r"got \[3, 32, 32\]; add the batch dimension"):
        m(dagrad.rand(3, 32, 32))
    with pytest.raises(RuntimeError, match="channels-last"):
        m(dagrad.rand(1, 32, 32, 3))


def test_mismatched_checkpoint_keys_are_listed():
    torch.manual_seed(0)
    sd = TM.resnet18(num_classes=10).state_dict()
    sd.pop("layer1.0.conv1.weight")
    sd["extra.weight"] = torch.ones(1)
    m = M.resnet18()
    with pytest.raises(RuntimeError) as ei:
        m.load_state_dict(dagrad.load(io.BytesIO(_torch_bytes(sd))))
    msg = str(ei.value)
    assert "Error(s) in loading state_dict for ResNet" in msg
    assert 'Missing key(s) in state_dict: "layer1.0.conv1.weight"' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in msg
    assert "size mismatch for fc.weight" in msg


