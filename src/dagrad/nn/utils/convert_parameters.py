from ...tensor import Tensor, _make


def parameters_to_vector(parameters):
    if isinstance(parameters, Tensor):
        raise TypeError(
            f"expected torch.Tensor, but got: {type(parameters).__name__}")
    from ...ops.movement import cat
    vec = [p.view(-1) for p in parameters]
    return cat(vec)


def vector_to_parameters(vec, parameters):
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    for param in parameters:
        num_param = param.numel()
        param.data = _make(vec._data[pointer:pointer + num_param].copy().reshape(
            param._data.shape).astype(param._data.dtype, copy=False))
        pointer += num_param
