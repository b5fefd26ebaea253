"""torch.nn.utils.stateless.functional_call (deprecated alias of torch.func.functional_call)."""
import warnings


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    warnings.warn(
        "This API is deprecated as of PyTorch 2.0 and will be removed in a future version of "
        "PyTorch. Please use torch.func.functional_call instead which is a drop-in replacement.",
        FutureWarning, stacklevel=2)
    from ...func import functional_call as fc
    return fc(module, parameter_and_buffer_dicts, args, kwargs, tie_weights=tie_weights,
              strict=strict)
