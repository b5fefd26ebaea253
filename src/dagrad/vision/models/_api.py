"""Weights, WeightsEnum and the model registry (torchvision.models._api)."""
import fnmatch
import sys
import warnings
from dataclasses import dataclass
from enum import Enum
from functools import partial
from inspect import signature
from typing import Any, Callable, Dict, get_args

__all__ = ["WeightsEnum", "Weights", "get_model", "get_model_builder", "get_model_weights",
           "get_weight", "list_models", "register_model"]


@dataclass
class Weights:
    """url, the constructor of the preset transforms, and meta (categories, metrics...)."""
    url: str
    transforms: Callable
    meta: Dict[str, Any]

    def __eq__(self, other):
        if not isinstance(other, Weights):
            return NotImplemented
        if self.url != other.url or self.meta != other.meta:
            return False
        if isinstance(self.transforms, partial) and isinstance(other.transforms, partial):
            return (self.transforms.func == other.transforms.func
                    and self.transforms.args == other.transforms.args
                    and self.transforms.keywords == other.transforms.keywords)
        return self.transforms == other.transforms


class WeightsEnum(Enum):
    """Parent of every model's weights enum; values are `Weights`."""

    @classmethod
    def verify(cls, obj):
        if obj is not None:
            if type(obj) is str:
                name = obj.replace(cls.__name__ + ".", "")
                try:
                    obj = cls[name]
                except KeyError:
                    valid = ", ".join(f"'{k}'" for k in cls.__members__)
                    raise KeyError(f"Unknown weights '{obj}' for {cls.__name__}; valid names "
                                   f"are {valid} (or None)") from None
            elif not isinstance(obj, cls):
                raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but "
                                f"received {obj.__class__.__name__}.")
        return obj

    def get_state_dict(self, *args, **kwargs):
        from ...hub import load_state_dict_from_url
        return load_state_dict_from_url(self.url, *args, **kwargs)

    def __repr__(self):
        return f"{self.__class__.__name__}.{self._name_}"

    @property
    def url(self):
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self):
        return self.value.meta


def get_weight(name):
    try:
        enum_name, value_name = name.split(".")
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    models = sys.modules[__name__.rsplit(".", 1)[0]]
    cls = getattr(models, enum_name, None)
    if not (isinstance(cls, type) and issubclass(cls, WeightsEnum)):
        raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be "
                         "retrieved.")
    return cls.verify(value_name)


def get_model_weights(name):
    model = get_model_builder(name) if isinstance(name, str) else name
    return _get_enum_from_fn(model)


def _get_enum_from_fn(fn):
    sig = signature(fn)
    if "weights" not in sig.parameters:
        raise ValueError("The method is missing the 'weights' argument.")
    ann = sig.parameters["weights"].annotation
    if isinstance(ann, str):
        ann = getattr(sys.modules[fn.__module__], ann.replace("Optional[", "").rstrip("]"), None)
    if isinstance(ann, type) and issubclass(ann, WeightsEnum):
        return ann
    for t in get_args(ann):
        if isinstance(t, type) and issubclass(t, WeightsEnum):
            return t
    raise ValueError("The WeightsEnum class for the specific method couldn't be retrieved. Make "
                     "sure the typing info is correct.")


BUILTIN_MODELS = {}


def register_model(name=None):
    def wrapper(fn):
        key = name if name is not None else fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        BUILTIN_MODELS[key] = fn
        return fn
    return wrapper


def list_models(module=None, include=None, exclude=None):
    all_models = {k for k, v in BUILTIN_MODELS.items()
                  if module is None or v.__module__.rsplit(".", 1)[0] == module.__name__}
    if include:
        models = set()
        if isinstance(include, str):
            include = [include]
        for f in include:
            models |= set(fnmatch.filter(all_models, f))
    else:
        models = all_models
    if exclude:
        if isinstance(exclude, str):
            exclude = [exclude]
        for f in exclude:
            models -= set(fnmatch.filter(all_models, f))
    return sorted(models)


def get_model_builder(name):
    name = name.lower()
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name}; available models: "
                         f"{', '.join(sorted(BUILTIN_MODELS))}") from None


def get_model(name, **config):
    return get_model_builder(name)(**config)


# ------------------------------------------------------------------------------ helpers
def _ovewrite_named_param(kwargs, param, new_value):
    if param in kwargs:
        if kwargs[param] != new_value:
            raise ValueError(f"The parameter '{param}' expected value {new_value} but got "
                             f"{kwargs[param]} instead.")
    else:
        kwargs[param] = new_value


def _legacy_pretrained(kwargs, weights, default, fn_name):
    """torchvision's handle_legacy_interface: pretrained=True -> DEFAULT weights (warned)."""
    if "pretrained" in kwargs:
        pretrained = kwargs.pop("pretrained")
        if weights is not None:
            raise ValueError("The parameter 'pretrained' is deprecated; pass only 'weights'.")
        warnings.warn("The parameter 'pretrained' is deprecated since 0.13 and may be removed in "
                      "the future, please use 'weights' instead.", UserWarning, stacklevel=3)
        if pretrained:
            warnings.warn(
                "Arguments other than a weight enum or `None` for 'weights' are deprecated since "
                "0.13 and may be removed in the future. The current behavior is equivalent to "
                f"passing `weights={default!r}`. You can also use `weights={type(default).__name__}"
                ".DEFAULT` to get the most up-to-date weights.", UserWarning, stacklevel=3)
            return default
    return weights


def _check_input(model, x):
    """Wrong channel count / too-small images fail naming the model and the shapes."""
    from ...tensor import Tensor
    name = getattr(model, "_arch", None) or type(model).__name__
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} expects a Tensor image batch of shape (N, C, H, W), got "
                        f"{type(x).__name__}")
    shape = tuple(x.shape)
    cin = getattr(model, "_in_channels", 3)
    if x.ndim != 4 or shape[1] != cin:
        if x.ndim == 3 and shape[0] == cin:
            hint = f"; add the batch dimension with x.unsqueeze(0) -> (1, {cin}, H, W)"
        elif x.ndim == 4 and shape[-1] == cin:
            hint = "; the input looks channels-last (N, H, W, C): use x.permute(0, 3, 1, 2)"
        else:
            hint = ""
        raise RuntimeError(f"{name} expects input of shape (N, {cin}, H, W), got "
                           f"{list(shape)}{hint}")
    mh, mw = getattr(model, "_min_size", (1, 1))
    if shape[2] < mh or shape[3] < mw:
        raise RuntimeError(f"{name} expects images of at least {mh}x{mw} pixels, got input of "
                           f"shape {list(shape)}")
