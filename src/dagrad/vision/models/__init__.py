"""torchvision.models for dagrad: ResNet 18-152, VGG-11(-BN), MobileNetV2, AlexNet, weights enums."""
from ._api import (
                   Weights,
                   WeightsEnum,
                   get_model,
                   get_model_builder,
                   get_model_weights,
                   get_weight,
                   list_models,
)
from .alexnet import AlexNet, AlexNet_Weights, alexnet
from .mobilenetv2 import MobileNet_V2_Weights, MobileNetV2, mobilenet_v2
from .resnet import (
                   BasicBlock,
                   Bottleneck,
                   ResNet,
                   ResNet18_Weights,
                   ResNet34_Weights,
                   ResNet50_Weights,
                   ResNet101_Weights,
                   ResNet152_Weights,
                   resnet18,
                   resnet34,
                   resnet50,
                   resnet101,
                   resnet152,
)
from .vgg import VGG, VGG11_BN_Weights, VGG11_Weights, vgg11, vgg11_bn

__all__ = ["Weights", "WeightsEnum", "get_model", "get_model_builder", "get_model_weights",
           "get_weight", "list_models", "AlexNet", "AlexNet_Weights", "alexnet",
           "MobileNetV2", "MobileNet_V2_Weights", "mobilenet_v2", "ResNet", "BasicBlock",
           "Bottleneck", "ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights",
           "ResNet101_Weights", "ResNet152_Weights", "resnet18", "resnet34", "resnet50",
           "resnet101", "resnet152", "VGG", "VGG11_Weights", "VGG11_BN_Weights", "vgg11",
           "vgg11_bn"]
