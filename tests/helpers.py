"""Test helpers: run the same op in dagrad and in PyTorch and compare values and gradients.

`check_op(shapes, torch_fn, dagrad_fn)` is the one-line-per-op habit borrowed from tinygrad's
helper_test_op: inputs are generated once in NumPy, fed to both libraries, and the forward values,
dtypes and every input gradient are compared.
"""
import numpy as np
import torch

import dagrad


def to_torch(x, requires_grad=False):
    t = torch.from_numpy(np.array(x, copy=True))
    if requires_grad:
        t.requires_grad_(True)
    return t


def to_dagrad(x, requires_grad=False):
    t = dagrad.from_numpy(np.array(x, copy=True))
    if requires_grad:
        t.requires_grad_(True)
    return t


def assert_close(d, t, atol=1e-5, rtol=1e-4, check_dtype=True, msg=""):
    """Compare a dagrad result (Tensor / tuple / scalar) with a torch one."""
    if isinstance(t, (tuple, list)):
        assert isinstance(d, (tuple, list)), f"{msg}: expected a sequence, got {type(d)}"
        assert len(d) == len(t), msg
        for a, b in zip(d, t):
            assert_close(a, b, atol, rtol, check_dtype, msg)
        return
    if isinstance(t, torch.Tensor):
        assert isinstance(d, dagrad.Tensor), f"{msg}: expected Tensor, got {type(d)}"
        assert tuple(d.shape) == tuple(t.shape), f"{msg}: shape {tuple(d.shape)} != {tuple(t.shape)}"
        if check_dtype:
            assert str(d.dtype) == str(t.dtype), f"{msg}: dtype {d.dtype} != {t.dtype}"
        np.testing.assert_allclose(d.detach().numpy().astype(np.float64) if d.dtype.is_floating_point
                                   else d.detach().numpy(),
                                   t.detach().numpy().astype(np.float64) if t.dtype.is_floating_point
                                   else t.detach().numpy(),
                                   atol=atol, rtol=rtol, err_msg=msg, equal_nan=True)
        return
    assert d == t or (isinstance(t, float) and abs(d - t) <= atol + rtol * abs(t)), \
        f"{msg}: {d} != {t}"


def check_op(shapes, torch_fn, dagrad_fn=None, low=-2.0, high=2.0, dtype=np.float32, grad=True,
             atol=1e-5, rtol=1e-4, grad_atol=None, grad_rtol=None, inputs=None, seed=0):
    """Forward and backward of torch_fn vs dagrad_fn on random inputs of `shapes`."""
    dagrad_fn = dagrad_fn or torch_fn
    rng = np.random.default_rng(seed)
    if inputs is None:
        inputs = [rng.uniform(low, high, s).astype(dtype) for s in shapes]
    tin = [to_torch(x, grad) for x in inputs]
    din = [to_dagrad(x, grad) for x in inputs]
    tout = torch_fn(*tin)
    dout = dagrad_fn(*din)
    assert_close(dout, tout, atol, rtol, msg="forward")
    if grad:
        touts = tout if isinstance(tout, (tuple, list)) else [tout]
        douts = dout if isinstance(dout, (tuple, list)) else [dout]
        tl = sum((o.float() * to_torch(np.linspace(-1, 1, o.numel()).reshape(tuple(o.shape))
                                       .astype(np.float32))).sum()
                 for o in touts if o.requires_grad)
        dl = sum((o.float() * to_dagrad(np.linspace(-1, 1, o.numel()).reshape(tuple(o.shape))
                                        .astype(np.float32))).sum()
                 for o in douts if o.requires_grad)
        if isinstance(tl, int):
            return dout
        tl.backward()
        dl.backward()
        for i, (a, b) in enumerate(zip(din, tin)):
            if b.grad is None:
                assert a.grad is None or np.allclose(a.grad.numpy(), 0), f"grad {i} should be None"
                continue
            assert a.grad is not None, f"grad of input {i} is None"
            assert_close(a.grad, b.grad, grad_atol or atol * 10, grad_rtol or rtol * 10,
                         msg=f"grad of input {i}")
    return dout
