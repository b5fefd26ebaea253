"""gradcheck / gradgradcheck: compare analytical gradients with central finite differences.

Same signatures, return values, warnings and error messages as torch.autograd.gradcheck:
the numerical Jacobian J[i, j] = d out_j / d in_i is computed by perturbing each input element
by +-eps (accumulated in float64); the analytical one by one vector-Jacobian product per output
element through `dagrad.autograd.grad`.
"""
import warnings

import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


_FAILED_NONDET_MSG = """\n
NOTE: If your op relies on non-deterministic operations i.e., it is listed here:
https://pytorch.org/docs/stable/generated/torch.use_deterministic_algorithms.html
this failure might be expected.

If you are adding a new operator, please file an issue and then use one of the
workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck.
If the test
- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck
  with `nondet_tol=<tol>` as a keyword argument.
- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test
  to have `gradcheck_nondet_tol=<tol>`.
- is a Module test (e.g., in common_nn.py), then modify the corresponding
  module_test entry to have `gradcheck_nondet_tol=<tol>`
"""


class GradcheckError(RuntimeError):
    """Raised by gradcheck / gradgradcheck when a check fails (a RuntimeError, as in PyTorch)."""


def _tensor_cls():
    from ..tensor import Tensor
    return Tensor


def _as_tuple(x):
    Tensor = _tensor_cls()
    if isinstance(x, Tensor):
        return (x,)
    if isinstance(x, (tuple, list)):
        return tuple(x)
    return (x,)


def _is_float(t):
    return t._data.dtype.kind in "fc"


def _diff_outputs(outs):
    Tensor = _tensor_cls()
    return [o for o in outs if isinstance(o, Tensor) and o.requires_grad]


def _flat_index(shape, k):
    return np.unravel_index(k, shape) if shape else ()


def _eval(func, inputs):
    # grad mode stays on: func may itself differentiate (gradgradcheck's vjp function)
    return _as_tuple(func(*inputs))


def _real_vec(a):
    """An output as real numbers: complex values as (real parts, imaginary parts)."""
    if type(a) is not np.ndarray and hasattr(a, "get"):  # CuPy: compared on the host
        a = a.get()
    if a.dtype.kind == "c":
        return np.concatenate([a.real.ravel(), a.imag.ravel()]).astype(np.float64)
    return np.asarray(a, dtype=np.float64).ravel().copy()


def _numerical_jacobians(func, inputs, out_idx, out_sizes, eps):
    """{(input i, output o): float64 array (rows, cols)} by central differences. A complex
    input contributes a row per real part then per imaginary part, a complex output a column
    per real part then per imaginary part (the real-valued view PyTorch's Wirtinger check
    reduces to)."""
    Tensor = _tensor_cls()
    jac = {}
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        arr = x._data
        n = arr.size
        units = (1.0, 1j) if arr.dtype.kind == "c" else (1.0,)
        mats = None
        for u, unit in enumerate(units):
            for k in range(n):
                idx = _flat_index(arr.shape, k)
                orig = arr[idx].copy()
                arr[idx] = orig - eps * unit
                lo = _eval(func, inputs)
                lo = [_real_vec(lo[j]._data) for j in out_idx]
                arr[idx] = orig + eps * unit
                hi = _eval(func, inputs)
                hi = [_real_vec(hi[j]._data) for j in out_idx]
                arr[idx] = orig
                if mats is None:
                    mats = [np.zeros((n * len(units), v.size), dtype=np.float64) for v in lo]
                for m, (a, b) in enumerate(zip(lo, hi)):
                    mats[m][u * n + k] = (b - a) / (2 * eps)
        if mats is None:
            mats = [np.zeros((0, s), dtype=np.float64) for s in out_sizes]
        for m, j in enumerate(out_idx):
            jac[(i, j)] = mats[m]
    return jac


def _analytical_jacobians(outputs, diff_inputs, in_idx, out_idx):
    from ..tensor import _make
    from . import grad as _grad
    jac = {}
    for j in out_idx:
        o = outputs[j]
        n = o.numel()
        cplx = o._data.dtype.kind == "c"
        cols = 2 * n if cplx else n
        mats = {i: np.zeros((x.numel() * (2 if x._data.dtype.kind == "c" else 1), cols),
                            dtype=np.float64) for i, x in zip(in_idx, diff_inputs)}
        for c in range(cols):
            z = np.zeros(o._data.shape, dtype=o._data.dtype)
            # grad_output 1 gives the gradient of Re(o_k), 1j that of Im(o_k)
            z.reshape(-1)[c % n] = 1j if c >= n else 1
            go = _make(z).to(o.device)
            gs = _grad(o, diff_inputs, grad_outputs=go, retain_graph=True, allow_unused=True)
            for i, x, g in zip(in_idx, diff_inputs, gs):
                if g is None:
                    continue
                if tuple(g.shape) != tuple(x.shape):
                    raise GradcheckError(
                        "Gradient has incorrect shape: expected " + str(tuple(x.shape)) +
                        " but got " + str(tuple(g.shape)))
                gd = g._data if type(g._data) is np.ndarray else g._data.get()
                if x._data.dtype.kind == "c":
                    mats[i][:, c] = np.concatenate([gd.real.ravel(), gd.imag.ravel()])
                else:
                    mats[i][:, c] = np.asarray(gd.real if gd.dtype.kind == "c" else gd,
                                               dtype=np.float64).ravel()
        for i in in_idx:
            jac[(i, j)] = mats[i]
    return jac


def _jac_tensor(mat, dtype):
    from ..tensor import _make
    return _make(mat.astype(dtype.np, copy=False))


def _fail(msg, raise_exception):
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(func, inputs, *, eps=1e-06, atol=1e-05, rtol=0.001, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False, check_forward_ad=False,
              check_backward_ad=True, fast_mode=False, masked=None):
    """Check the gradients of `func` at `inputs` against central finite differences.

    Returns True on success; on failure raises GradcheckError (or returns False when
    raise_exception=False).
    """
    Tensor = _tensor_cls()
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of them have requires_grad=True.")
    for i in diff_idx:
        x = inputs[i]
        if x._data.dtype not in (np.float64, np.complex128):
            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point or "
                f"complex. This check will likely fail if all the inputs are not of double "
                f"precision floating point or complex. ")
    outputs = _as_tuple(func(*inputs))
    out_idx = [j for j, o in enumerate(outputs) if isinstance(o, Tensor) and o.requires_grad]
    if not check_backward_ad:
        return True
    if not out_idx:
        # nothing differentiable came out: every numerical derivative must vanish
        all_out = [j for j, o in enumerate(outputs) if isinstance(o, Tensor) and _is_float(o)]
        num = _numerical_jacobians(func, inputs, all_out,
                                   [outputs[j].numel() for j in all_out], eps)
        for m in num.values():
            if not np.allclose(m, 0.0, rtol=rtol, atol=atol):
                return _fail("Numerical gradient for function expected to be zero",
                             raise_exception)
        return True
    num = _numerical_jacobians(func, inputs, out_idx, [outputs[j].numel() for j in out_idx], eps)
    diff_inputs = [inputs[i] for i in diff_idx]
    for j in out_idx:  # PyTorch's order: per output, vjps twice (re-entrancy), then compare
        ana = _analytical_jacobians(outputs, diff_inputs, diff_idx, [j])
        ana2 = _analytical_jacobians(outputs, diff_inputs, diff_idx, [j])
        for k, m in ana.items():
            m2 = ana2[k]
            if m.size and not (np.abs(m - m2).max() <= nondet_tol):
                return _fail(
                    "Backward is not reentrant, i.e., running backward with same input and "
                    "grad_output multiple times gives different values, although analytical "
                    "gradient matches numerical gradient."
                    f"The tolerance for nondeterminism was {nondet_tol}." + _FAILED_NONDET_MSG,
                    raise_exception)
        for i in diff_idx:
            a, n = ana[(i, j)], num[(i, j)]
            if not np.allclose(a, n, rtol=rtol, atol=atol, equal_nan=False):
                dt = inputs[i].dtype
                return _fail(
                    f"Jacobian mismatch for output {out_idx.index(j)} with respect to input "
                    f"{diff_idx.index(i)},\nnumerical:{_jac_tensor(n, dt)!r}\n"
                    f"analytical:{_jac_tensor(a, dt)!r}\n", raise_exception)
    from ..tensor import _make
    from . import grad as _grad
    if check_grad_dtypes:
        for j in out_idx:
            gs = _grad(outputs[j], diff_inputs, grad_outputs=outputs[j].detach() * 0 + 1,
                       retain_graph=True, allow_unused=True)
            for i, g in zip(diff_idx, gs):
                if g is not None and g.dtype != inputs[i].dtype:
                    return _fail("Gradient has dtype mismatch", raise_exception)
    # backward must scale with grad_output: zero grad_outputs give zero gradients
    gz = _grad([outputs[j] for j in out_idx], diff_inputs,
               grad_outputs=[_make(np.zeros(outputs[j]._data.shape, outputs[j]._data.dtype)).to(
                   outputs[j].device) for j in out_idx], retain_graph=True, allow_unused=True)
    for gi, di in zip(gz, diff_inputs):
        if gi is None:
            continue
        if not np.allclose(np.abs(gi._data).astype(np.float64), 0.0):
            return _fail("backward not multiplied by grad_output", raise_exception)
        if gi._data.dtype != di._data.dtype:
            return _fail("grad is incorrect type", raise_exception)
        if gi._data.shape != di._data.shape:
            return _fail("grad is incorrect size", raise_exception)
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-06, atol=1e-05, rtol=0.001,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """Check second derivatives: gradcheck of the map (inputs, v) -> vjp(func, inputs, v)."""
    from ..tensor import _make
    from . import grad as _grad
    Tensor = _tensor_cls()
    inputs = _as_tuple(inputs)
    n_in = len(inputs)
    if grad_outputs is None:
        outs = _as_tuple(func(*inputs))
        rng = np.random.default_rng(0)
        grad_outputs = []
        for o in _diff_outputs(outs):
            g = _make(rng.uniform(-9.0, 9.0, o._data.shape).astype(o._data.dtype))
            if gen_non_contig_grad_outputs and g._data.ndim >= 1:
                a = np.empty(g._data.shape + (2,), dtype=g._data.dtype)
                a[..., 0] = g._data
                g = _make(a[..., 0])
            g = g.to(o.device)
            g.requires_grad_(True)
            grad_outputs.append(g)
    else:
        grad_outputs = list(_as_tuple(grad_outputs))
    n_go = len(grad_outputs)

    def new_func(*args):
        ins = args[:n_in]
        gos = args[n_in:n_in + n_go]
        outs = _diff_outputs(_as_tuple(func(*ins)))
        diff_in = [x for x in ins if isinstance(x, Tensor) and x.requires_grad]
        pairs = [(o, g) for o, g in zip(outs, gos) if g is not None]
        gs = _grad([o for o, _ in pairs], diff_in, grad_outputs=[g for _, g in pairs],
                   create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(new_func, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, check_batched_grad=check_batched_grad,
                     fast_mode=fast_mode, masked=masked)
