"""Lazy modules: parameters whose shapes are inferred from the first input, after which the
module becomes its regular class (LazyLinear -> Linear), as in PyTorch."""
import warnings

from ... import _dtype as D
from ... import creation as C
from ..parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear
from .normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
)

__all__ = ["LazyModuleMixin", "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
           "LazyConvTranspose2d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
           "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d",
           "LazyConvTranspose3d"]


class LazyModuleMixin:
    cls_to_become = None

    def _lazy_setup(self):
        self._initialize_hook = self.register_forward_pre_hook(
            LazyModuleMixin._infer_parameters, with_kwargs=True)

    def has_uninitialized_params(self):
        params = self._parameters.values()
        buffers = self._buffers.values()
        return any(is_lazy(p) for p in list(params) + list(buffers) if p is not None)

    def initialize_parameters(self, *args, **kwargs):
        raise NotImplementedError(
            f"initialize_parameters is not implemented for {self.__class__.__name__}")

    @staticmethod
    def _infer_parameters(module, args, kwargs=None):
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(
                f"module {module._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        delattr(module, "_initialize_hook")
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become


def _quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **k)


def _dt(p):
    return D.from_np(p._data.dtype)


class LazyLinear(LazyModuleMixin, Linear):
    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        _quiet(Linear.__init__, self, 0, 0, False)
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
        self._lazy_setup()

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            self.in_features = input.shape[-1]
            self.weight.materialize((self.out_features, self.in_features), dtype=_dt(
                self.weight))
            if self.bias is not None:
                self.bias.materialize((self.out_features,), dtype=_dt(self.bias))
            self.reset_parameters()


class _LazyConvXdMixin(LazyModuleMixin):
    _n = 2

    def _lazy_conv_init(self, base, out_channels, args, bias, dtype):
        _quiet(base.__init__, self, 0, 0, *args, bias=False)
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
        self._lazy_setup()

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            self.in_channels = input.shape[0 if input.dim() == self._n + 1 else 1]
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            if self.transposed:
                shape = (self.in_channels, self.out_channels // self.groups,
                         *self.kernel_size)
            else:
                shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
            self.weight.materialize(shape, dtype=_dt(self.weight))
            if self.bias is not None:
                self.bias.materialize((self.out_channels,), dtype=_dt(self.bias))
            self.reset_parameters()


class LazyConv1d(_LazyConvXdMixin, Conv1d):
    cls_to_become = Conv1d
    _n = 1

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        self._lazy_conv_init(Conv1d, out_channels, (kernel_size, stride, padding, dilation,
                                                    groups), bias, dtype)
        self.padding_mode = padding_mode


class LazyConv2d(_LazyConvXdMixin, Conv2d):
    cls_to_become = Conv2d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        self._lazy_conv_init(Conv2d, out_channels, (kernel_size, stride, padding, dilation,
                                                    groups), bias, dtype)
        self.padding_mode = padding_mode


class LazyConv3d(_LazyConvXdMixin, Conv3d):
    cls_to_become = Conv3d
    _n = 3

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        self._lazy_conv_init(Conv3d, out_channels, (kernel_size, stride, padding, dilation,
                                                    groups), bias, dtype)
        self.padding_mode = padding_mode


class LazyConvTranspose1d(_LazyConvXdMixin, ConvTranspose1d):
    cls_to_become = ConvTranspose1d
    _n = 1

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None):
        self._lazy_conv_init(ConvTranspose1d, out_channels, (kernel_size, stride, padding,
                                                             output_padding, groups), bias,
                             dtype)
        self.dilation = (dilation,) if isinstance(dilation, int) else tuple(dilation)


class LazyConvTranspose2d(_LazyConvXdMixin, ConvTranspose2d):
    cls_to_become = ConvTranspose2d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None):
        self._lazy_conv_init(ConvTranspose2d, out_channels, (kernel_size, stride, padding,
                                                             output_padding, groups), bias,
                             dtype)
        self.dilation = (dilation, dilation) if isinstance(dilation, int) else tuple(dilation)


class LazyConvTranspose3d(_LazyConvXdMixin, ConvTranspose3d):
    cls_to_become = ConvTranspose3d
    _n = 3

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None):
        self._lazy_conv_init(ConvTranspose3d, out_channels, (kernel_size, stride, padding,
                                                             output_padding, groups), bias,
                             dtype)
        self.dilation = (dilation,) * 3 if isinstance(dilation, int) else tuple(dilation)


class _LazyNormBase(LazyModuleMixin):
    def _lazy_norm_init(self, base, eps, momentum, affine, track_running_stats, dtype,
                        bias=True):
        _quiet(base.__init__, self, 0, eps, momentum, False, False)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if self.affine:
            self.weight = UninitializedParameter(dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(dtype=dtype)
        if self.track_running_stats:
            self.running_mean = UninitializedBuffer(dtype=dtype)
            self.running_var = UninitializedBuffer(dtype=dtype)
            self.num_batches_tracked = C.tensor(0, dtype=D.int64)
        self._lazy_setup()

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            if self.affine:
                self.weight.materialize((self.num_features,), dtype=_dt(self.weight))
                if self.bias is not None:
                    self.bias.materialize((self.num_features,), dtype=_dt(self.bias))
            if self.track_running_stats:
                self.running_mean.materialize((self.num_features,),
                                              dtype=_dt(self.running_mean))
                self.running_var.materialize((self.num_features,),
                                             dtype=_dt(self.running_var))
            self.reset_parameters()


def _make_lazy_norm(name, base, affine_default, trs_default):
    def __init__(self, eps=1e-5, momentum=0.1, affine=affine_default,
                 track_running_stats=trs_default, device=None, dtype=None, *, bias=True):
        self._lazy_norm_init(base, eps, momentum, affine, track_running_stats, dtype, bias)
    return type(name, (_LazyNormBase, base), {"__init__": __init__, "cls_to_become": base})


LazyBatchNorm1d = _make_lazy_norm("LazyBatchNorm1d", BatchNorm1d, True, True)
LazyBatchNorm2d = _make_lazy_norm("LazyBatchNorm2d", BatchNorm2d, True, True)
LazyBatchNorm3d = _make_lazy_norm("LazyBatchNorm3d", BatchNorm3d, True, True)
LazyInstanceNorm1d = _make_lazy_norm("LazyInstanceNorm1d", InstanceNorm1d, True, True)
LazyInstanceNorm2d = _make_lazy_norm("LazyInstanceNorm2d", InstanceNorm2d, True, True)
LazyInstanceNorm3d = _make_lazy_norm("LazyInstanceNorm3d", InstanceNorm3d, True, True)
