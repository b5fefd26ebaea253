"""torch.autograd.functional for dagrad: vjp, jvp, jacobian, hessian, vhp, hvp.

A port of PyTorch's pure-Python implementation on top of `autograd.grad`, so the signatures,
return structures and error messages are PyTorch's. `vectorize=True` computes every
vector-Jacobian product in ONE backward pass, as PyTorch does: `autograd.grad(...,
is_grads_batched=True)` runs the engine's Tensor rules on BatchedTensor gradients (see
`_grads_batched`); `strategy="forward-mode"` uses `autograd.forward_ad` (with or without
vectorize).
"""
import dagrad

from . import forward_ad as fwAD

__all__ = ['vjp', 'jvp', 'jacobian', 'hessian', 'hvp', 'vhp']

def _as_tuple_nocheck(x):
    if isinstance(x, tuple):
        return x
    elif isinstance(x, list):
        return tuple(x)
    else:
        return (x,)

def _as_tuple(inp, arg_name=None, fn_name=None):
    if arg_name is None and fn_name is None:
        return _as_tuple_nocheck(inp)
    is_inp_tuple = True
    if not isinstance(inp, tuple):
        inp = (inp,)
        is_inp_tuple = False
    for i, el in enumerate(inp):
        if not isinstance(el, dagrad.Tensor):
            if is_inp_tuple:
                raise TypeError(f'The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but the value at index {i} has type {type(el)}.')
            else:
                raise TypeError(f'The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but the given {arg_name} has type {type(el)}.')
    return (is_inp_tuple, inp)

def _tuple_postprocess(res, to_unpack):
    if isinstance(to_unpack, tuple):
        if len(to_unpack) != 2:
            raise AssertionError('Expected to_unpack tuple to have exactly 2 elements')
        if not to_unpack[1]:
            res = tuple((el[0] for el in res))
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res

def _grad_preprocess(inputs, create_graph, need_graph):
    res = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            if not False:
                res.append(inp.view_as(inp))
            else:
                res.append(inp.clone())
        else:
            res.append(inp.detach().requires_grad_(need_graph))
    return tuple(res)

def _grad_postprocess(inputs, create_graph):
    if isinstance(inputs[0], dagrad.Tensor):
        if not create_graph:
            return tuple((inp.detach() for inp in inputs))
        else:
            return inputs
    else:
        return tuple((_grad_postprocess(inp, create_graph) for inp in inputs))

def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f'v is a tuple of invalid length: should be {len(other)} but got {len(v)}.')
        else:
            raise RuntimeError('The given v should contain a single Tensor.')
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = ''
            if is_other_tuple:
                prepend = f'Entry {idx} in '
            raise RuntimeError(f'{prepend}v has invalid size: should be {el_other.size()} but got {el_v.size()}.')

def _check_requires_grad(inputs, input_type, strict):
    if not strict:
        return
    if input_type not in ['outputs', 'grad_inputs', 'jacobian', 'hessian']:
        raise RuntimeError('Invalid input_type to _check_requires_grad')
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(f'The output of the user-provided function is independent of input {i}. This is not allowed in strict mode.')
        if not inp.requires_grad:
            if input_type == 'hessian':
                raise RuntimeError(f'The hessian of the user-provided function with respect to input {i} is independent of the input. This is not allowed in strict mode. You should ensure that your function is thrice differentiable and that the hessian depends on the inputs.')
            elif input_type == 'jacobian':
                raise RuntimeError(f'While computing the hessian, found that the jacobian of the user-provided function with respect to input {i} is independent of the input. This is not allowed in strict mode. You should ensure that your function is twice differentiable and that the jacobian depends on the inputs (this would be violated by a linear function for example).')
            elif input_type == 'grad_inputs':
                raise RuntimeError(f'The gradient with respect to input {i} is independent of the inputs of the user-provided function. This is not allowed in strict mode.')
            else:
                raise RuntimeError(f'Output {i} of the user-provided function does not require gradients. The outputs must be computed in a differentiable manner from the input when running in strict mode.')

def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None, is_grads_batched=False):
    if not isinstance(outputs, tuple):
        raise AssertionError('Expected outputs to be a tuple')
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    if not isinstance(grad_outputs, tuple):
        raise AssertionError('Expected grad_outputs to be a tuple')
    if len(outputs) != len(grad_outputs):
        raise AssertionError(f'Expected outputs and grad_outputs to have the same length, but got {len(outputs)} and {len(grad_outputs)}')
    new_outputs = ()
    new_grad_outputs = ()
    for out, grad_out in zip(outputs, grad_outputs):
        if out is not None and out.requires_grad:
            new_outputs += (out,)
            new_grad_outputs += (grad_out,)
    if len(new_outputs) == 0:
        return (None,) * len(inputs)
    else:
        return dagrad.autograd.grad(new_outputs, inputs, new_grad_outputs, allow_unused=True, create_graph=create_graph, retain_graph=retain_graph, is_grads_batched=is_grads_batched)

def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    if stage not in ['back', 'back_trick', 'double_back', 'double_back_trick']:
        raise RuntimeError(f"Invalid stage argument '{stage}' to _fill_in_zeros")
    res = ()
    for i, grads_i in enumerate(grads):
        if grads_i is None:
            if strict:
                if stage == 'back':
                    raise RuntimeError(f'The output of the user-provided function is independent of input {i}. This is not allowed in strict mode.')
                elif stage == 'back_trick':
                    raise RuntimeError(f'The gradient with respect to the input is independent of entry {i} in the grad_outputs when using the double backward trick to compute forward mode gradients. This is not allowed in strict mode.')
                elif stage == 'double_back':
                    raise RuntimeError(f'The jacobian of the user-provided function is independent of input {i}. This is not allowed in strict mode.')
                else:
                    raise RuntimeError(f'The hessian of the user-provided function is independent of entry {i} in the grad_jacobian. This is not allowed in strict mode as it prevents from using the double backward trick to replace forward mode AD.')
            grads_i = dagrad.zeros_like(refs[i])
        elif strict and create_graph and (not grads_i.requires_grad):
            if 'double' not in stage:
                raise RuntimeError(f'The jacobian of the user-provided function is independent of input {i}. This is not allowed in strict mode when create_graph=True.')
            else:
                raise RuntimeError(f'The hessian of the user-provided function is independent of input {i}. This is not allowed in strict mode when create_graph=True.')
        res += (grads_i,)
    return res

def vjp(func, inputs, v=None, create_graph=False, strict=False):
    with dagrad.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'vjp')
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, 'outputs of the user-provided function', 'vjp')
        _check_requires_grad(outputs, 'outputs', strict=strict)
        if v is not None:
            _, v = _as_tuple(v, 'v', 'vjp')
            v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
            _validate_v(v, outputs, is_outputs_tuple)
        elif len(outputs) != 1 or outputs[0].nelement() != 1:
            raise RuntimeError('The vector v can only be None if the user-provided function returns a single Tensor with a single element.')
    enable_grad = True if create_graph else dagrad.is_grad_enabled()
    with dagrad.set_grad_enabled(enable_grad):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        vjp = _fill_in_zeros(grad_res, inputs, strict, create_graph, 'back')
    outputs = _grad_postprocess(outputs, create_graph)
    vjp = _grad_postprocess(vjp, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(vjp, is_inputs_tuple))

def jvp(func, inputs, v=None, create_graph=False, strict=False):
    with dagrad.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'jvp')
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        if v is not None:
            _, v = _as_tuple(v, 'v', 'jvp')
            v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
            _validate_v(v, inputs, is_inputs_tuple)
        elif len(inputs) != 1 or inputs[0].nelement() != 1:
            raise RuntimeError('The vector v can only be None if the input to the user-provided function is a single Tensor with a single element.')
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, 'outputs of the user-provided function', 'jvp')
        _check_requires_grad(outputs, 'outputs', strict=strict)
        grad_outputs = tuple((dagrad.zeros_like(out, requires_grad=True) for out in outputs))
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, 'grad_inputs', strict=strict)
    if create_graph:
        with dagrad.enable_grad():
            grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
            jvp = _fill_in_zeros(grad_res, outputs, strict, create_graph, 'back_trick')
    else:
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        jvp = _fill_in_zeros(grad_res, outputs, strict, create_graph, 'back_trick')
    outputs = _grad_postprocess(outputs, create_graph)
    jvp = _grad_postprocess(jvp, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(jvp, is_outputs_tuple))

def _construct_standard_basis_for(tensors, tensor_numels):
    """Row blocks of the identity, one (total_numel, numel_i) block per tensor."""
    from ..backend import np
    from ..tensor import _make
    total_numel = sum(tensor_numels)
    chunks = []
    start = 0
    for t, n in zip(tensors, tensor_numels):
        a = np.zeros((total_numel, n), dtype=t._data.dtype)
        a[np.arange(start, start + n), np.arange(n)] = 1
        start += n
        chunks.append(_make(a).to(t.device))
    return tuple(chunks)


def _loop(fn):
    """fn applied to each index of dim 0 of the tensors in args (pytrees), results stacked."""
    def run(*args):
        from ..func._vmap import _flatten, _unflatten
        from ..tensor import Tensor
        leaves, spec = _flatten(args)
        n = next(x.shape[0] for x in leaves if isinstance(x, Tensor))
        outs = []
        for k in range(n):
            a = _unflatten([x[k] if isinstance(x, Tensor) else x for x in leaves], spec)
            outs.append(fn(*a))
        ol, ospec = _flatten(outs[0])
        cols = [_flatten(o)[0] for o in outs]
        return _unflatten([dagrad.stack([c[i] for c in cols]) for i in range(len(ol))], ospec)
    return run


def _jacfwd(func, inputs, strict=False, vectorize=False):
    if strict:
        raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` are not supported together (yet). Please either set `strict=False` or `strategy="reverse-mode"`.')
    is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'jacobian')
    output_info = []
    if True:  # vectorize=False (NotImplementedError in PyTorch) runs the same code as a loop
        input_numels = tuple((input.numel() for input in inputs))
        tangents = _construct_standard_basis_for(inputs, input_numels)

        def jvp(tangents):
            output_info.clear()
            import contextlib
            with fwAD.dual_level() if fwAD._active_level is None else contextlib.nullcontext():
                dual_inputs = tuple((fwAD.make_dual(input, tangent.view_as(input)) for input, tangent in zip(inputs, tangents)))
                _is_outputs_tuple, dual_outputs = _as_tuple(func(*dual_inputs), 'outputs')
                output_info.append(_is_outputs_tuple)
                jv = []
                primal_outs = []
                for dual_out in dual_outputs:
                    primal, tangent = fwAD.unpack_dual(dual_out)
                    primal_outs.append(primal)
                    if tangent is not None:
                        jv.append(tangent)
                    else:
                        jv.append(dagrad.zeros_like(primal))
                output_info.append(primal_outs)
                return tuple(jv)
        def one_level_loop(t):  # the columns in one dual level (entering one costs ~2 ms)
            with fwAD.dual_level():
                return _loop(jvp)(t)
        # forward-mode tangents are not BatchedTensors in dagrad: vectorize=True runs the
        # columns in one dual level too (no vmap over make_dual)
        outputs_before_split = one_level_loop(tangents)
        is_outputs_tuple, outputs = output_info[:2]
        jacobian_input_output = []
        for jac_output_i, output_i in zip(outputs_before_split, outputs):
            jacobian_output_i_output = []
            for jac, input_j in zip(jac_output_i.split(input_numels, dim=0), inputs):
                jacobian_input_i_output_j = jac.permute(*range(1, jac.ndim), 0).reshape((*output_i.shape, *input_j.shape))
                jacobian_output_i_output.append(jacobian_input_i_output_j)
            jacobian_input_output.append(jacobian_output_i_output)
        return _tuple_postprocess(jacobian_input_output, (is_outputs_tuple, is_inputs_tuple))
    else:
        raise NotImplementedError('Computing Jacobian using forward-AD or forward-over-reverse Hessian isonly implemented for `vectorize=True`.')

def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy='reverse-mode'):
    if strategy not in ('forward-mode', 'reverse-mode'):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function has more outputs than inputs, "forward-mode" tends to be more performant. Otherwise, prefer to use "reverse-mode".')
    if strategy == 'forward-mode':
        if create_graph:
            raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` and `strategy="forward-mode"` are not supported together (yet). Please either set `create_graph=False` or `strategy="reverse-mode"`.')
        return _jacfwd(func, inputs, strict, vectorize)
    with dagrad.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'jacobian')
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, 'outputs of the user-provided function', 'jacobian')
        _check_requires_grad(outputs, 'outputs', strict=strict)
        if vectorize:
            if strict:
                raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not supported together. Please either set `strict=False` or `vectorize=False`.')
            output_numels = tuple((output.numel() for output in outputs))
            grad_outputs = _construct_standard_basis_for(outputs, output_numels)
            flat_outputs = tuple((output.reshape(-1) for output in outputs))

            def vjp(grad_output):
                vj = list(_autograd_grad(flat_outputs, inputs, grad_output,
                                         create_graph=create_graph, is_grads_batched=True))
                for el_idx, vj_el in enumerate(vj):
                    if vj_el is not None:
                        continue
                    vj[el_idx] = dagrad.zeros_like(inputs[el_idx]).expand((sum(output_numels),) + inputs[el_idx].shape)
                return tuple(vj)
            jacobians_of_flat_output = vjp(grad_outputs)
            jacobian_input_output = []
            for jac_input_i, input_i in zip(jacobians_of_flat_output, inputs):
                jacobian_input_i_output = []
                for jac, output_j in zip(jac_input_i.split(output_numels, dim=0), outputs):
                    jacobian_input_i_output_j = jac.view(output_j.shape + input_i.shape)
                    jacobian_input_i_output.append(jacobian_input_i_output_j)
                jacobian_input_output.append(jacobian_input_i_output)
            jacobian_output_input = tuple(zip(*jacobian_input_output))
            jacobian_output_input = _grad_postprocess(jacobian_output_input, create_graph)
            return _tuple_postprocess(jacobian_output_input, (is_outputs_tuple, is_inputs_tuple))
        jacobian = ()
        for i, out in enumerate(outputs):
            jac_i = tuple(([] for _ in range(len(inputs))))
            for j in range(out.nelement()):
                vj = _autograd_grad((out.reshape(-1)[j],), inputs, retain_graph=True, create_graph=create_graph)
                for el_idx, (jac_i_el, vj_el, inp_el) in enumerate(zip(jac_i, vj, inputs)):
                    if vj_el is not None:
                        if strict and create_graph and (not vj_el.requires_grad):
                            msg = f'The jacobian of the user-provided function is independent of input {i}. This is not allowed in strict mode when create_graph=True.'
                            raise RuntimeError(msg)
                        jac_i_el.append(vj_el)
                    else:
                        if strict:
                            msg = f'Output {i} of the user-provided function is independent of input {el_idx}. This is not allowed in strict mode.'
                            raise RuntimeError(msg)
                        jac_i_el.append(dagrad.zeros_like(inp_el))
            jacobian += (tuple((dagrad.stack(jac_i_el, dim=0).view(out.size() + inputs[el_idx].size()) for el_idx, jac_i_el in enumerate(jac_i))),)
        jacobian = _grad_postprocess(jacobian, create_graph)
        return _tuple_postprocess(jacobian, (is_outputs_tuple, is_inputs_tuple))

def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy='reverse-mode'):
    is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'hessian')
    if outer_jacobian_strategy not in ('forward-mode', 'reverse-mode'):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, 'outputs of the user-provided function', 'hessian')
        _check_requires_grad(t_out, 'outputs', strict=strict)
        if is_out_tuple or not isinstance(out, dagrad.Tensor):
            raise RuntimeError('The function given to hessian should return a single Tensor')
        if out.nelement() != 1:
            raise RuntimeError('The Tensor returned by the function given to hessian should contain a single element')
        return out.squeeze()

    def jac_func(*inp):
        if outer_jacobian_strategy == 'forward-mode':
            inp = tuple((t.requires_grad_(True) for t in inp))
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, 'jacobian', strict=strict)
        return jac
    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))

def vhp(func, inputs, v=None, create_graph=False, strict=False):
    with dagrad.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'vhp')
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        if v is not None:
            _, v = _as_tuple(v, 'v', 'vhp')
            v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
            _validate_v(v, inputs, is_inputs_tuple)
        elif len(inputs) != 1 or inputs[0].nelement() != 1:
            raise RuntimeError('The vector v can only be None if the input to the user-provided function is a single Tensor with a single element.')
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, 'outputs of the user-provided function', 'vhp')
        _check_requires_grad(outputs, 'outputs', strict=strict)
        if is_outputs_tuple or not isinstance(outputs[0], dagrad.Tensor):
            raise RuntimeError('The function given to vhp should return a single Tensor')
        if outputs[0].nelement() != 1:
            raise RuntimeError('The Tensor returned by the function given to vhp should contain a single element')
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, 'jacobian', strict=strict)
    enable_grad = True if create_graph else dagrad.is_grad_enabled()
    with dagrad.set_grad_enabled(enable_grad):
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        vhp = _fill_in_zeros(grad_res, inputs, strict, create_graph, 'double_back')
    outputs = _grad_postprocess(outputs, create_graph)
    vhp = _grad_postprocess(vhp, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(vhp, is_inputs_tuple))

def hvp(func, inputs, v=None, create_graph=False, strict=False):
    with dagrad.enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, 'inputs', 'hvp')
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        if v is not None:
            _, v = _as_tuple(v, 'v', 'hvp')
            v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
            _validate_v(v, inputs, is_inputs_tuple)
        elif len(inputs) != 1 or inputs[0].nelement() != 1:
            raise RuntimeError('The vector v can only be None if the input to the user-provided function is a single Tensor with a single element.')
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, 'outputs of the user-provided function', 'hvp')
        _check_requires_grad(outputs, 'outputs', strict=strict)
        if is_outputs_tuple or not isinstance(outputs[0], dagrad.Tensor):
            raise RuntimeError('The function given to hvp should return a single Tensor')
        if outputs[0].nelement() != 1:
            raise RuntimeError('The Tensor returned by the function given to hvp should contain a single element')
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, 'jacobian', strict=strict)
        grad_jac = tuple((dagrad.zeros_like(inp, requires_grad=True) for inp in inputs))
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, 'hessian', strict=strict)
    enable_grad = True if create_graph else dagrad.is_grad_enabled()
    with dagrad.set_grad_enabled(enable_grad):
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        hvp = _fill_in_zeros(grad_res, inputs, strict, create_graph, 'double_back_trick')
    outputs = _grad_postprocess(outputs, create_graph)
    hvp = _grad_postprocess(hvp, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(hvp, is_inputs_tuple))


def _grads_batched(grad, outs, inps, gos, create_graph, allow_unused, materialize_grads,
                   retain_graph):
    """autograd.grad(..., is_grads_batched=True): ONE backward pass over a batch of grad_outputs.

    As PyTorch does (it vmaps its engine), the grad_outputs become BatchedTensors of a new vmap
    level and the engine runs every node's Tensor rule once on them: the rules' ops batch through
    their vmap rules (or the per-sample fallback of the op lacking one), and a node whose rule
    reads a gradient's array itself runs once per sample (that node only). The validation and
    error messages are PyTorch's `_make_grads(is_grads_batched=True)` and vmap's.
    """
    from ..func import _vmap as V
    from ..tensor import Size
    from . import _roots, run_backward
    gos = list(gos)
    for i, (o, g) in enumerate(zip(outs, gos)):
        if g is None:
            if o.requires_grad:
                if o.numel() != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                if not o.is_floating_point():
                    raise RuntimeError(
                        f"grad can be implicitly created only for real scalar outputs but got "
                        f"{o.dtype}")
                gos[i] = dagrad.ones_like(o)
            continue
        if not isinstance(g, dagrad.Tensor):
            raise TypeError(
                f"gradients can be either Tensors or None, but got {type(g).__name__}")
        first = g[0]
        if tuple(first.shape) != tuple(o.shape):
            raise RuntimeError(
                f"If `is_grads_batched=True`, we interpret the first dimension of each "
                f"grad_output as the batch dimension. The sizes of the remaining dimensions are "
                f"expected to match the shape of corresponding output, but a mismatch was "
                f"detected: grad_output[{gos.index(g)}] has a shape of "
                f"{Size(tuple(first.shape)[1:])} and output[{list(outs).index(o)}] has a shape "
                f"of {Size(tuple(o.shape))}. If you only want some tensors in `grad_output` to "
                f"be considered batched, consider using vmap.")
        if o.is_complex() != g.is_complex():
            raise RuntimeError(
                f"For complex Tensors, both grad_output and output are required to have the "
                f"same dtype. Mismatch in dtype: grad_output[{i}] has a dtype of {g.dtype} and "
                f"output[{i}] has a dtype of {o.dtype}.")
    sizes = []
    for g in gos:  # vmap(vjp, in_dims=0)(grad_outputs)
        if g is None:
            raise ValueError(
                f"vmap(vjp, in_dims=0, ...)(<inputs>): Got in_dim=0 for an input but the input "
                f"is of type {type(None)}. We cannot vmap over non-Tensor arguments, please use "
                f"None as the respective in_dim")
        if g.dim() == 0:
            raise ValueError(
                "vmap(vjp, in_dims=0, ...)(<inputs>): Got in_dim=0 for some input, but that "
                "input is a Tensor of dimensionality 0 so expected in_dim to satisfy 0 <= in_dim "
                "< 0.")
        sizes.append(g.shape[0])
    if len(set(sizes)) > 1:
        raise ValueError(
            f"vmap: Expected all tensors to have the same size in the mapped dimension, got "
            f"sizes {sizes} for the mapped dimension")
    bs = sizes[0]
    roots = _roots(outs)
    gos = [g if g.dtype == o.dtype else g.to(o.dtype) for o, g in zip(outs, gos)]
    with V._batch_level(bs) as level:
        saved = _batch_nodes(roots, level, bs, create_graph)
        try:
            res = run_backward(roots, [V._bt(g, level) for g in gos], retain_graph, True,
                               inputs=inps, capture=True)
        finally:
            _restore_nodes(saved)
        out = []
        for i, (t, r) in enumerate(zip(inps, res)):
            if r is None:
                if materialize_grads:
                    r = dagrad.zeros_like(t, requires_grad=create_graph)
                elif not allow_unused:
                    raise RuntimeError(
                        f"The differentiated Tensor at index {i} appears to not have been used "
                        f"in the graph. Set allow_unused=True if this is the desired behavior.")
                out.append(r)
                continue
            v = V._unwrap(r, level)
            if v is None:  # the same for every row (e.g. zeros): broadcast over the batch
                v = V._unwrap(V._expand_to_level(r, level, bs), level)
            out.append(v if create_graph else v.detach())
    return tuple(out)


_MISSING = object()


def _batch_nodes(roots, level, bs, create_graph):
    """Give every node reachable from `roots` a rule runner for batched gradients (an instance
    attribute `backward`, removed by `_restore_nodes`): the class rule runs on BatchedTensors
    (graph recording only with create_graph), with a per-sample loop for a rule that reads a
    gradient's array itself; the broadcasting/dtype fix (`_meta`) is applied here on the logical
    shapes, since the engine's reads the gradient's array."""
    from .function import AccumulateGrad
    seen = set()
    saved = []
    stack = [n for n, _ in roots if n is not None]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        if type(n) is not AccumulateGrad:
            d = n.__dict__
            saved.append((n, d.get("backward", _MISSING), d.get("_meta", _MISSING)))
            n.backward = _batched_rule(n.backward, n._meta, level, bs, create_graph)
            n._meta = None
        for m, _ in n.next_functions:
            if m is not None and m not in seen:
                stack.append(m)
    return saved


def _restore_nodes(saved):
    for n, b, m in saved:
        d = n.__dict__
        if b is _MISSING:
            d.pop("backward", None)
        else:
            d["backward"] = b
        if m is _MISSING:
            d.pop("_meta", None)
        else:
            d["_meta"] = m


def _batched_rule(rule, meta, level, bs, create_graph):
    from ..func import _vmap as V
    from .grad_mode import state

    def unbatchable(e):
        return isinstance(e, V.NoBatchingRule) or str(e).startswith("vmap: It looks like you're")

    def run(*gs):
        prev = state.enabled
        state.enabled = bool(create_graph and prev)
        try:
            try:
                r = rule(*gs)
            except RuntimeError as e:
                if not unbatchable(e):
                    raise
                r = None
                if not state.enabled:
                    # a rule's NumPy fast path for grad-disabled mode read the array: its Tensor-op
                    # path (taken when recording) batches; the recorded graph is dropped
                    state.enabled = True
                    try:
                        r = rule(*gs)
                        r = tuple(g.detach() if g is not None else None for g in (
                            r if type(r) is tuple else (r,)))
                    except RuntimeError as e2:
                        if not unbatchable(e2):
                            raise
                        r = None
                    finally:
                        state.enabled = False
                if r is None:
                    r = _per_sample_rule(rule, gs, level, bs)
            if meta is not None:
                r = r if type(r) is tuple else (r,)
                r = tuple(_fix_logical(g, m) if g is not None and m is not None else g
                          for g, m in zip(r, meta))
        finally:
            state.enabled = prev
        return r
    return run


def _per_sample_rule(rule, gs, level, bs):
    """A node's rule once per row of the batched gradients, the results stacked."""
    from ..func import _vmap as V
    if V._fallback_warning[0]:
        import warnings
        node = getattr(rule, "__self__", None)
        warnings.warn(
            f"There is a performance drop because we have not yet implemented the batching rule "
            f"for {type(node).__name__ if node is not None else rule}. Please file us an issue "
            f"on GitHub so that we can prioritize its implementation.", UserWarning, stacklevel=2)
    rows = []
    for k in range(bs):
        r = rule(*[V._slice(g, level, k) if g is not None else None for g in gs])
        rows.append(r if type(r) is tuple else (r,))
    res = []
    for i in range(len(rows[0])):
        col = [r[i] for r in rows]
        ref = next((c for c in col if c is not None), None)
        if ref is None:
            res.append(None)
            continue
        col = [c if c is not None else dagrad.zeros_like(ref) for c in col]
        res.append(V._bt(V._call("stack", V._orig_fn("stack"), (col, 0), {}), level))
    return tuple(res)


def _fix_logical(g, meta):
    """engine._fix on a (batched) gradient's logical shape: undo broadcasting and promotion."""
    shape, dt = meta
    if tuple(g.shape) != tuple(shape):
        g = g.sum_to_size(tuple(shape))
    want = dt if isinstance(dt, dagrad.dtype) else _from_np(dt)
    if g.dtype != want:
        if g.is_complex() and not want.is_complex:
            g = dagrad.real(g)
        g = g.to(want)
    return g


def _from_np(dt):
    from .._dtype import from_np
    from ..backend import np
    return from_np(np.dtype(dt))


def _grads_batched_loop(grad, outs, inps, gos, create_graph, allow_unused, materialize_grads,
                        retain_graph):
    """The reference: one backward per row of the grad_outputs, stacked (the former
    implementation; tests compare the vectorised pass with it)."""
    n = gos[0].shape[0]
    rows = []
    for k in range(n):
        rows.append(grad(outs, inps, [g[k] if g is not None else None for g in gos],
                         retain_graph=True if k < n - 1 else retain_graph,
                         create_graph=create_graph, allow_unused=allow_unused,
                         materialize_grads=materialize_grads))
    res = []
    for i in range(len(inps)):
        col = [r[i] for r in rows]
        res.append(None if col[0] is None else dagrad.stack(col))
    return tuple(res)
