"""dagrad on CuPy, part 2: the features added since tests/gpu/test_cuda.py give the same values
and gradients on device='cuda' as on the CPU.

Every test runs a computation twice, on CPU tensors and on CUDA tensors built from the same
NumPy arrays (or the same seeded model moved with .to('cuda')), and compares. Tolerances are
float32 GPU-vs-CPU ones: 1e-4 relative for elementwise work, 1e-3 where cuBLAS/cuFFT sum in
another order (matmul, conv, fft, whole networks).

Skipped where CuPy or a GPU is missing. Run on a GPU machine with tests/gpu/run_device.sh (or
`PYTHONPATH=src python -m pytest tests/gpu -q`). DAGRAD_GPU_TEST_DEVICE=cpu runs the same tests
with 'cpu' standing in for 'cuda' (it checks the tests themselves, not the GPU backend).
"""
import copy
import io
import os
import pickle

import numpy as np
import pytest

import dagrad
from dagrad.backend import has_cuda

DEV = os.environ.get("DAGRAD_GPU_TEST_DEVICE", "cuda")
pytestmark = pytest.mark.skipif(DEV == "cuda" and not has_cuda(),
                                reason="needs CuPy and a CUDA GPU")

F = dagrad.nn.functional
nn = dagrad.nn
rng = np.random.default_rng(1234)


def f32(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def host(t):
    """A tensor's values as a NumPy array (from either device)."""
    t = t.detach()
    assert t.device.type == DEV or t.device.type == "cpu"
    return t.cpu().numpy()


def close(gpu, cpu, rtol=1e-4, atol=1e-5, what=""):
    assert gpu.device.type == DEV, (what, gpu.device)
    assert gpu.dtype == cpu.dtype, (what, gpu.dtype, cpu.dtype)
    assert tuple(gpu.shape) == tuple(cpu.shape), (what, gpu.shape, cpu.shape)
    np.testing.assert_allclose(host(gpu), host(cpu), rtol=rtol, atol=atol, err_msg=what)


def both(fn, *arrays, consts=(), rtol=1e-4, atol=1e-5, grad=True):
    """fn(*tensors, *consts) on CPU and on DEV: same outputs, and the same gradients of
    sum(outputs) w.r.t. the float tensors. `consts` are arrays passed without requires_grad
    (indices, targets). fn may return a tensor or a tuple of tensors."""
    outs, grads = [], []
    for dev in ("cpu", DEV):
        ts = [dagrad.tensor(a, device=dev, requires_grad=grad and a.dtype.kind == "f")
              for a in arrays]
        cs = [dagrad.tensor(c, device=dev) for c in consts]
        o = fn(*ts, *cs)
        o = o if isinstance(o, (tuple, list)) else (o,)
        outs.append(o)
        if grad:
            loss = sum(x.float().sum() if not x.is_floating_point() else x.sum()
                       for x in o if x.is_floating_point())
            loss.backward()
            grads.append([t.grad for t in ts if t.requires_grad])
    for k, (c, g) in enumerate(zip(*outs)):
        close(g, c, rtol, atol, f"output {k}")
    if grad:
        for k, (c, g) in enumerate(zip(*grads)):
            assert (g is None) == (c is None), f"grad {k}: {g is None} vs {c is None}"
            if c is None:
                continue
            close(g, c, rtol, atol, f"grad {k}")
    return outs


def params_close(m_gpu, m_cpu, rtol=1e-4, atol=1e-5):
    for (n, pg), (_, pc) in zip(m_gpu.named_parameters(), m_cpu.named_parameters()):
        close(pg, pc, rtol, atol, n)


# ---------------------------------------------------------------- bfloat16 (CuPy has none)
def test_bfloat16_on_cuda_raises_clearly():
    pytest.importorskip("ml_dtypes")
    if DEV != "cuda":
        pytest.skip("only meaningful on a real CUDA device")
    for make in (lambda: dagrad.zeros(2, dtype=dagrad.bfloat16, device="cuda"),
                 lambda: dagrad.ones(2, dtype=dagrad.bfloat16).to("cuda"),
                 lambda: dagrad.ones(2, device="cuda").bfloat16(),
                 lambda: dagrad.ones(2, device="cuda").to(dagrad.bfloat16),
                 lambda: dagrad.tensor([1.0, 2.0], dtype=dagrad.bfloat16, device="cuda")):
        with pytest.raises(TypeError, match="bfloat16.*cuda|cuda.*bfloat16"):
            make()
    # the CPU keeps working
    assert dagrad.zeros(2, dtype=dagrad.bfloat16).dtype == dagrad.bfloat16


# ---------------------------------------------------------------- conv (Winograd-sized)
def test_conv2d_winograd_shapes_take_generic_path():
    # 3x3, stride 1, 32 -> 32 channels, N*H*W >= 512: Winograd on the CPU, generic on CuPy
    x, w, b = f32(2, 32, 16, 16), f32(32, 32, 3, 3, scale=0.1), f32(32)
    both(lambda x, w, b: F.conv2d(x, w, b, padding=1), x, w, b, rtol=1e-3, atol=1e-3)


def test_conv_variants():
    x, w = f32(2, 4, 9, 9), f32(6, 2, 3, 3)
    both(lambda x, w: F.conv2d(x, w, stride=2, padding=1, dilation=1, groups=2), x, w,
         rtol=1e-3, atol=1e-4)
    x1, w1 = f32(2, 3, 20), f32(5, 3, 4)
    both(lambda x, w: F.conv1d(x, w, padding=2), x1, w1, rtol=1e-3, atol=1e-4)
    xt, wt = f32(1, 4, 5, 5), f32(4, 3, 3, 3)
    both(lambda x, w: F.conv_transpose2d(x, w, stride=2), xt, wt, rtol=1e-3, atol=1e-4)


# ---------------------------------------------------------------- losses
def test_cross_entropy_graph_and_twins():
    x = f32(8, 5)
    t = rng.integers(0, 5, 8)
    wt = np.abs(f32(5)) + 0.5
    both(lambda x, t: F.cross_entropy(x, t), x, consts=(t,))
    both(lambda x, t: F.cross_entropy(x, t, reduction="none", label_smoothing=0.1), x,
         consts=(t,))
    t2 = t.copy()
    t2[2] = -100
    both(lambda x, w, t: F.cross_entropy(x, t, weight=w), x, consts=(wt, t2))
    # probabilities as target, and a (N, C, d) input
    both(lambda x, p: F.cross_entropy(x, p.softmax(1)), x, f32(8, 5))
    both(lambda x, t: F.cross_entropy(x, t), f32(2, 5, 3), consts=(rng.integers(0, 5, (2, 3)),))
    both(lambda x, t: F.nll_loss(x.log_softmax(1), t), x, consts=(t,))


def test_cross_entropy_graph_names_on_cuda():
    x = dagrad.tensor(f32(4, 3), device=DEV, requires_grad=True)
    loss = F.cross_entropy(x, dagrad.tensor([0, 1, 2, 1], device=DEV))
    assert loss.device.type == DEV
    assert type(loss.grad_fn).__name__ == "NllLossBackward0"
    loss.backward()
    assert x.grad.device.type == DEV


def test_other_losses():
    a, b = f32(6, 4), f32(6, 4)
    both(lambda a, b: F.mse_loss(a, b) + F.l1_loss(a, b) + F.smooth_l1_loss(a, b)
         + F.huber_loss(a, b), a, b)
    both(lambda a, b: F.binary_cross_entropy_with_logits(a, b.sigmoid()), a, b)
    both(lambda a, b: F.binary_cross_entropy(a.sigmoid(), b.sigmoid()), a, b)
    both(lambda a, b: F.kl_div(a.log_softmax(1), b.softmax(1), reduction="batchmean"), a, b)


def test_erf_gelu_special():
    # erf / erfinv run through cupyx.scipy.special on the device (NumPy's fallback cannot)
    x = f32(5, 4)
    both(lambda x: F.gelu(x) + F.gelu(x, approximate="tanh") + dagrad.erf(x), x)
    both(lambda x: dagrad.special.erfinv(x.tanh() * 0.5) + dagrad.erfc(x), x, rtol=1e-4,
         atol=1e-5)
    both(lambda x: F.silu(x) + F.mish(x) + F.softplus(x) + F.elu(x) + F.leaky_relu(x, 0.1)
         + F.hardswish(x) + F.logsigmoid(x), x)


# ---------------------------------------------------------------- pooling
def test_pool2d():
    x = f32(2, 3, 8, 8)
    both(lambda x: F.max_pool2d(x, 2) + F.avg_pool2d(x, 2), x)
    both(lambda x: F.max_pool2d(x, 3, stride=2, padding=1), x)
    both(lambda x: F.adaptive_avg_pool2d(x, (3, 3)) + F.adaptive_max_pool2d(x, (3, 3)), x)


def test_pool3d():
    x = f32(2, 2, 6, 6, 6)
    both(lambda x: F.max_pool3d(x, 2), x)
    both(lambda x: F.avg_pool3d(x, 3, stride=2, padding=1), x)
    both(lambda x: F.max_pool3d(x, 3, stride=2, padding=1), x)
    both(lambda x: F.adaptive_avg_pool3d(x, 2) + F.adaptive_max_pool3d(x, 2), x)
    (oc, ic), (og, ig) = both(lambda x: F.max_pool3d(x, 2, return_indices=True), x)
    assert ig.dtype == dagrad.int64


def test_interpolate_and_pad():
    x = f32(1, 2, 5, 5)
    both(lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), x)
    both(lambda x: F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=False), x)
    both(lambda x: F.pad(x, (1, 2, 0, 1)) + 0, x)
    both(lambda x: F.pad(x, (1, 1, 1, 1), mode="reflect"), x)


# ---------------------------------------------------------------- fft / stft
def test_fft():
    x = f32(4, 16)
    both(lambda x: dagrad.fft.rfft(x).abs(), x, rtol=1e-3, atol=1e-4)
    both(lambda x: dagrad.fft.fft(x).real + dagrad.fft.ifft(x).imag, x, rtol=1e-3, atol=1e-4)
    both(lambda x: dagrad.fft.irfft(dagrad.fft.rfft(x), n=16), x, rtol=1e-3, atol=1e-4)
    both(lambda x: dagrad.fft.fft2(x.reshape(4, 4, 4)).abs(), x, rtol=1e-3, atol=1e-4)
    both(lambda x: dagrad.fft.fftshift(x, dim=1) * 1, x)


def test_stft():
    x = f32(2, 64)

    def fn(x):
        win = dagrad.hann_window(16, device=x.device)
        s = dagrad.stft(x, n_fft=16, hop_length=4, window=win, return_complex=True)
        return s.abs()
    both(fn, x, rtol=1e-3, atol=1e-4)

    def rt(x):
        win = dagrad.hann_window(16, device=x.device)
        s = dagrad.stft(x, n_fft=16, hop_length=4, window=win, return_complex=True)
        return dagrad.istft(s, n_fft=16, hop_length=4, window=win, length=64)
    (c,), (g,) = both(rt, x, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(host(g), x, atol=1e-4)


# ---------------------------------------------------------------- linalg
def test_linalg():
    a = f32(4, 4) + 4 * np.eye(4, dtype=np.float32)
    b = f32(4, 2)
    spd = a @ a.T + np.eye(4, dtype=np.float32)
    tol = dict(rtol=1e-3, atol=1e-4)
    both(lambda a: dagrad.linalg.inv(a), a, **tol)
    both(lambda a, b: dagrad.linalg.solve(a, b), a, b, **tol)
    both(lambda a: dagrad.linalg.det(a) + dagrad.linalg.slogdet(a)[1], a, **tol)
    both(lambda s: dagrad.linalg.cholesky(s), spd, **tol)
    both(lambda a: dagrad.linalg.norm(a) + dagrad.linalg.matrix_norm(a, "fro")
         + dagrad.linalg.vector_norm(a, 3), a, **tol)
    both(lambda s: dagrad.linalg.eigvalsh(s), spd, **tol)
    both(lambda a: dagrad.linalg.svdvals(a), a, **tol)
    # QR: compare R's diagonal magnitudes and Q R = A (signs may differ between LAPACKs)
    for dev in ("cpu", DEV):
        q, r = dagrad.linalg.qr(dagrad.tensor(a, device=dev))
        assert q.device.type == dev
        np.testing.assert_allclose(host(q @ r), a, atol=1e-4)


def test_matmul_family():
    a, b, c = f32(3, 4, 5), f32(3, 5, 2), f32(5)
    tol = dict(rtol=1e-3, atol=1e-4)
    both(lambda a, b: dagrad.bmm(a, b), a, b, **tol)
    both(lambda a, c: a @ c, a, c, **tol)
    both(lambda a, b: dagrad.einsum("bij,bjk->bik", a, b), a, b, **tol)
    both(lambda a, b, c: F.linear(a, b[0].t(), c[:2]), a, b, c, **tol)
    both(lambda a, b: dagrad.baddbmm(a @ b, a, b, beta=0.5, alpha=2.0), a, b, **tol)


# ---------------------------------------------------------------- indexing / scatter (add.at)
def test_indexing_and_scatter():
    x = f32(6, 4)
    idx = np.array([0, 2, 2, 5])
    both(lambda x, i: x[i] * 2, x, consts=(idx,))
    both(lambda x, i: x.index_select(0, i), x, consts=(idx,))
    both(lambda x: x[x > 0] * 3, x)
    both(lambda x, i: dagrad.zeros(6, 4, device=x.device).index_add(0, i, x[:4]), x,
         consts=(idx,))
    gi = rng.integers(0, 4, (6, 3))
    both(lambda x, i: x.gather(1, i), x, consts=(gi,))
    both(lambda x, i: dagrad.zeros(6, 4, device=x.device).scatter_add(1, i, x[:, :3]), x,
         consts=(gi,))
    both(lambda x: x.masked_fill(x < 0, 0.5) + x.clamp(-0.5, 0.5) + dagrad.where(x > 0, x, -x),
         x)
    both(lambda x: x.sort(1)[0] + x.topk(4, 1)[0] + x.cumsum(1) + x.cumprod(1), x)
    # ufunc.accumulate beyond add/multiply is not in CuPy (host round trip)
    both(lambda x: x.cummax(1)[0] + x.cummin(0)[0] + x.logcumsumexp(1), x)
    both(lambda x: x.max(1)[0] + x.min(0)[0].sum() + x.var(1) + x.std(0).sum() + x.norm(), x)


def test_embedding():
    w = f32(10, 4)
    i = np.array([[1, 2, 2], [9, 0, 1]])
    both(lambda w, i: F.embedding(i, w), w, consts=(i,))
    both(lambda w, i: F.embedding(i, w, padding_idx=2), w, consts=(i,))
    both(lambda w, i, o: F.embedding_bag(i, w, o, mode="mean"), w,
         consts=(i.reshape(-1), np.array([0, 2])))
    for dev in ("cpu", DEV):
        dagrad.manual_seed(3)
        emb = nn.Embedding(10, 4).to(dev)
        out = emb(dagrad.tensor(i, device=dev))
        out.sum().backward()
        assert emb.weight.grad.device.type == dev


# ---------------------------------------------------------------- autograd features
def test_vmap():
    x = f32(5, 3)
    both(lambda x: dagrad.vmap(lambda r: (r * r).sum() + r.sin().mean())(x), x)
    both(lambda x, y: dagrad.vmap(lambda a, b: a @ b, in_dims=(0, None))(x, y), x, f32(3, 2),
         rtol=1e-3, atol=1e-4)


def test_grad_is_grads_batched():
    x = f32(3, 4)
    res = []
    for dev in ("cpu", DEV):
        xt = dagrad.tensor(x, device=dev, requires_grad=True)
        y = xt.sin() * 2
        eye = dagrad.eye(12, device=dev).reshape(12, 3, 4)
        (jac,) = dagrad.autograd.grad(y, xt, eye, is_grads_batched=True)
        assert jac.device.type == dev and jac.shape == (12, 3, 4)
        res.append(jac)
    close(res[1], res[0])
    np.testing.assert_allclose(host(res[1]).reshape(12, 12), np.diag(2 * np.cos(x).ravel()),
                               rtol=1e-5, atol=1e-6)


def test_double_backward():
    x = f32(5)
    res = []
    for dev in ("cpu", DEV):
        xt = dagrad.tensor(x, device=dev, requires_grad=True)
        y = (xt ** 3 + xt.tanh()).sum()
        (g,) = dagrad.autograd.grad(y, xt, create_graph=True)
        assert g.requires_grad and g.device.type == dev
        (gg,) = dagrad.autograd.grad(g.sum(), xt)
        res.append((g, gg))
    close(res[1][0], res[0][0])
    close(res[1][1], res[0][1])
    t = np.tanh(x)
    np.testing.assert_allclose(host(res[1][1]), 6 * x - 2 * t * (1 - t * t), rtol=1e-4,
                               atol=1e-5)


def test_jacobian_hessian_functional():
    x = f32(3)
    for dev in ("cpu", DEV):
        xt = dagrad.tensor(x, device=dev)
        h = dagrad.autograd.functional.hessian(lambda v: (v ** 3).sum(), xt)
        assert h.device.type == dev
        np.testing.assert_allclose(host(h), np.diag(6 * x), rtol=1e-5, atol=1e-5)
        j = dagrad.autograd.functional.jacobian(lambda v: v.exp(), xt)
        np.testing.assert_allclose(host(j), np.diag(np.exp(x)), rtol=1e-5, atol=1e-6)


def test_func_transforms_gradcheck_forward_ad_hooks():
    x = rng.standard_normal(4)  # float64
    res = []
    for dev in ("cpu", DEV):
        xt = dagrad.tensor(x, device=dev, requires_grad=True)
        fn = dagrad.func
        jr = fn.jacrev(lambda v: v.sin() * v)(xt)
        jf = fn.jacfwd(lambda v: v.sin() * v)(xt)
        h = fn.hessian(lambda v: (v ** 3).sum())(xt)
        g = fn.vmap(fn.grad(lambda v: (v ** 2).sum()))(xt.detach().reshape(4, 1))
        with dagrad.autograd.forward_ad.dual_level():
            d = dagrad.autograd.forward_ad.make_dual(
                xt.detach(), dagrad.ones(4, device=dev, dtype=dagrad.float64))
            tan = dagrad.autograd.forward_ad.unpack_dual((d.sin() * d).exp()).tangent
        m = (xt.detach()[:2, None] * xt.detach()).requires_grad_()
        assert dagrad.autograd.gradcheck(lambda v: (v.sin() * v.exp()).sum(1), (m,))
        assert dagrad.autograd.gradgradcheck(lambda v: (v.tanh() * v).sum(), (xt,))
        seen = []
        hk = xt.register_hook(lambda gr: seen.append(gr.device.type) or gr * 2)
        (xt * 3).sum().backward()
        hk.remove()
        assert seen == [dev]
        for t in (jr, jf, h, g, tan, xt.grad):
            assert t.device.type == dev
        res.append((jr, jf, h, g, tan, xt.grad))
    for k in range(6):
        close(res[1][k], res[0][k], rtol=1e-10, atol=1e-12, what=str(k))


def test_nan_loss_backward_seed_is_one():
    # a NaN/inf loss still seeds backward with 1 (the CUDA seed was loss * 0 + 1 = NaN)
    x = dagrad.tensor([-1.0, 4.0], device=DEV, requires_grad=True)
    (x.sqrt() + x).sum().backward()
    np.testing.assert_allclose(host(x.grad), [np.nan, 1.25])
    y = dagrad.tensor([0.0, 1.0], device=DEV, requires_grad=True)
    ((1 / y).sum() + y.sum()).backward()   # loss inf
    assert host(y.grad)[1] == pytest.approx(0.0)


def test_checkpoint():
    x = f32(4, 8)
    res = []
    for dev in ("cpu", DEV):
        dagrad.manual_seed(0)
        block = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 8)).to(dev)
        xt = dagrad.tensor(x, device=dev, requires_grad=True)
        y = dagrad.utils.checkpoint.checkpoint(block, xt, use_reentrant=False)
        y.pow(2).sum().backward()
        ref = block(xt.detach()).detach()
        assert y.device.type == dev
        np.testing.assert_allclose(host(y), host(ref), rtol=1e-5, atol=1e-6)
        res.append((y, xt.grad, block[0].weight.grad))
    for k in range(3):
        close(res[1][k], res[0][k], rtol=1e-4, atol=1e-5, what=str(k))


def test_grad_accumulates_over_two_backwards():
    x = f32(3, 2)
    for dev in ("cpu", DEV):
        xt = dagrad.tensor(x, device=dev, requires_grad=True)
        (xt * 3).sum().backward()
        (xt * xt).sum().backward()
        assert xt.grad.device.type == dev
        np.testing.assert_allclose(host(xt.grad), 3 + 2 * x, rtol=1e-6, atol=1e-6)
        xt.grad = None
        y = (xt.exp()).sum()
        y.backward(retain_graph=True)
        y.backward()
        np.testing.assert_allclose(host(xt.grad), 2 * np.exp(x), rtol=1e-5)


def test_inplace_and_version_counter():
    x = f32(4)
    xt = dagrad.tensor(x, device=DEV, requires_grad=True)
    y = xt.exp()
    y.add_(1)            # exp saved its result: backward must refuse
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        xt.mul_(2)
    z = xt * 1
    z.mul_(2).relu_()
    z.sum().backward()
    np.testing.assert_allclose(host(xt.grad), 2.0 * (x > 0), rtol=0, atol=0)
    with dagrad.no_grad():
        xt.add_(1)
    np.testing.assert_allclose(host(xt), x + 1, rtol=1e-6)
    assert xt._version >= 1
    w = dagrad.zeros(3, device=DEV)
    w[1] = 5.0
    w[dagrad.tensor([0, 2], device=DEV)] += 1.0
    np.testing.assert_allclose(host(w), [1.0, 5.0, 1.0])


def test_no_grad_inference_and_tensor_api():
    dagrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.GELU(), nn.LayerNorm(5), nn.Linear(5, 2))
    x = f32(3, 6)
    with dagrad.no_grad():
        ref = model(dagrad.tensor(x))
        model.to(DEV)
        out = model(dagrad.tensor(x, device=DEV))
    assert not out.requires_grad and out.grad_fn is None
    close(out, ref, rtol=1e-4, atol=1e-5)
    with dagrad.inference_mode():
        out2 = model(dagrad.tensor(x).to(DEV))
    close(out2, ref, rtol=1e-4, atol=1e-5)
    # the device follows through the usual constructors
    t = dagrad.tensor(x, device=DEV)
    for u in (dagrad.zeros_like(t), dagrad.ones_like(t), dagrad.rand_like(t),
              dagrad.randn_like(t), dagrad.empty_like(t), dagrad.full_like(t, 2.0),
              t.new_zeros(2), t.new_ones(2), t.new_tensor([1.0]), t.clone(), t.contiguous(),
              t.argmax(1), t.to(dagrad.float64), t.int(), t.half(), t.bool(),
              dagrad.ones(2).type_as(t), dagrad.as_tensor(t), dagrad.stack([t, t]),
              dagrad.where(t > 0)[0], t.nonzero(), t.sort(0, stable=True)[1]):
        assert u.device.type == DEV, u
    assert float(t.sum()) == pytest.approx(float(x.sum()), rel=1e-5)
    assert t[0, 0].item() == pytest.approx(float(x[0, 0]))
    assert t.tolist()[1] == pytest.approx(x[1].tolist())
    assert dagrad.equal(t, t.clone()) and dagrad.allclose(t, t + 1e-9)
    assert (t.cpu() == dagrad.tensor(x)).all()
    assert dagrad.randn(3, 2, device=DEV).device.type == DEV
    assert dagrad.arange(5, device=DEV).sum().item() == 10
    assert dagrad.linspace(0, 1, 5, device=DEV)[4].item() == pytest.approx(1.0)
    if DEV == "cuda":
        with pytest.raises(TypeError, match="cuda"):
            t.numpy()
        assert t.cuda() is t or t.cuda().device.type == "cuda"
        assert t.is_cuda and not t.cpu().is_cuda
        assert "device='cuda:0'" in repr(t)


def test_mixed_devices_raise():
    if DEV != "cuda":
        pytest.skip("needs two device types")
    a = dagrad.ones(3, device="cuda")
    b = dagrad.ones(3)
    for op in (lambda: a + b, lambda: b * a, lambda: a - b, lambda: a @ b.reshape(3, 1) * 0,
               lambda: dagrad.cat([a, b]), lambda: dagrad.where(a > 0, a, b)):
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
            op()
    # a CPU 0-d tensor is fine with a CUDA tensor (PyTorch treats it as a scalar)
    assert (a * dagrad.tensor(2.0)).device.type == "cuda"
    assert (dagrad.tensor(2.0) + a).device.type == "cuda"


# ---------------------------------------------------------------- nn layers
def _twin(make, seed=0):
    dagrad.manual_seed(seed)
    m_cpu = make()
    dagrad.manual_seed(seed)
    m_gpu = make().to(DEV)
    for pg in m_gpu.parameters():
        assert pg.device.type == DEV
    return m_cpu, m_gpu


def _run_twin(m_cpu, m_gpu, *arrays, rtol=1e-4, atol=1e-5, consts=()):
    outs = []
    for m, dev in ((m_cpu, "cpu"), (m_gpu, DEV)):
        ts = [dagrad.tensor(a, device=dev, requires_grad=True) for a in arrays]
        cs = [dagrad.tensor(c, device=dev) for c in consts]
        o = m(*ts, *cs)
        o = o[0] if isinstance(o, tuple) else o
        (o.float() * dagrad.linspace(0.5, 1.5, o.numel(), device=dev).reshape(o.shape)
         ).sum().backward()
        outs.append((o, [t.grad for t in ts]))
    close(outs[1][0], outs[0][0], rtol, atol, "output")
    for k, (gc, gg) in enumerate(zip(outs[0][1], outs[1][1])):
        close(gg, gc, rtol, atol, f"input grad {k}")
    for (n, pc), (_, pg) in zip(m_cpu.named_parameters(), m_gpu.named_parameters()):
        if pc.grad is not None:
            close(pg.grad, pc.grad, rtol, atol, f"{n}.grad")
    return outs


def test_batchnorm_train_eval():
    m_cpu, m_gpu = _twin(lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU()))
    x = f32(4, 3, 6, 6)
    for _ in range(2):
        _run_twin(m_cpu, m_gpu, x, rtol=1e-3, atol=1e-4)
    bc, bg = m_cpu[1], m_gpu[1]
    close(bg.running_mean, bc.running_mean, 1e-4, 1e-5, "running_mean")
    close(bg.running_var, bc.running_var, 1e-4, 1e-5, "running_var")
    assert int(bg.num_batches_tracked) == 2
    m_cpu.eval()
    m_gpu.eval()
    _run_twin(m_cpu, m_gpu, x, rtol=1e-3, atol=1e-4)
    m1c, m1g = _twin(lambda: nn.BatchNorm1d(5))
    _run_twin(m1c, m1g, f32(8, 5))
    n_c, n_g = _twin(lambda: nn.Sequential(nn.GroupNorm(2, 4), nn.InstanceNorm2d(4)))
    _run_twin(n_c, n_g, f32(2, 4, 5, 5))


def test_lstm_gru():
    x = f32(5, 3, 4)   # (T, N, H_in)
    lc, lg = _twin(lambda: nn.LSTM(4, 6, num_layers=2))
    outs = _run_twin(lc, lg, x, rtol=1e-3, atol=1e-5)
    assert outs[1][0].shape == (5, 3, 6)
    gc, gg = _twin(lambda: nn.GRU(4, 6, batch_first=True, bidirectional=True))
    _run_twin(gc, gg, x, rtol=1e-3, atol=1e-5)
    cc, cg = _twin(lambda: nn.LSTMCell(4, 3))
    _run_twin(cc, cg, x[0], rtol=1e-3, atol=1e-5)
    # with an initial state on the device
    lstm_c, lstm_g = _twin(lambda: nn.LSTM(4, 6, batch_first=True))
    h0 = f32(1, 5, 6)
    c0 = f32(1, 5, 6)
    res = []
    for m, dev in ((lstm_c, "cpu"), (lstm_g, DEV)):
        out, (h, c) = m(dagrad.tensor(x, device=dev),
                        (dagrad.tensor(h0, device=dev), dagrad.tensor(c0, device=dev)))
        res.append((out, h, c))
    for k in range(3):
        close(res[1][k], res[0][k], 1e-3, 1e-5, str(k))


def test_attention_and_transformer():
    x = f32(2, 5, 8)
    mc, mg = _twin(lambda: nn.MultiheadAttention(8, 2, batch_first=True))

    class Self(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            return self.m(x, x, x, need_weights=False)[0]
    _run_twin(Self(mc), Self(mg), x, rtol=1e-3, atol=1e-4)
    tc, tg = _twin(lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                                      batch_first=True))
    _run_twin(tc, tg, x, rtol=1e-3, atol=1e-4)
    both(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), x, x * 0.5,
         f32(2, 5, 8), rtol=1e-3, atol=1e-4)


def test_transformer_full():
    tc, tg = _twin(lambda: nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1,
                                          num_decoder_layers=1, dim_feedforward=16,
                                          dropout=0.0, batch_first=True))
    _run_twin(tc, tg, f32(2, 5, 8), f32(2, 4, 8), rtol=1e-3, atol=1e-4)


def test_nn_utilities_and_misc_losses():
    x, y = f32(4, 3), f32(4, 3)
    t = np.array([0, 2, 1, 1])
    both(lambda a, t: a * F.one_hot(t, 3).float(), x, consts=(t,))
    both(lambda a, t: F.multi_margin_loss(a, t), x, consts=(t,))
    both(lambda a, t: F.multilabel_margin_loss(a, t), x,
         consts=(np.array([[0, 1, -1], [2, -1, 0], [1, 0, -1], [0, -1, 1]]),))
    both(lambda a, b: F.triplet_margin_loss(a, b, b.flip(0)) + F.cosine_similarity(a, b).sum()
         + F.poisson_nll_loss(a, b.abs()) + F.gaussian_nll_loss(a, b, b.abs() + 0.1), x, y)
    both(lambda lp, tg, il, tl: F.ctc_loss(lp.log_softmax(2), tg, il, tl), f32(6, 2, 4),
         consts=(np.array([[1, 2], [1, 1]]), np.array([6, 6]), np.array([2, 2])), rtol=1e-4,
         atol=1e-5)
    both(lambda a: dagrad.diag_embed(a.diagonal()) + a.tril() + a.triu(1), f32(3, 3))
    both(lambda a: a + dagrad.bucketize(a, dagrad.tensor([-1.0, 0.0, 1.0], device=a.device)),
         x)
    both(lambda a: dagrad.gradient(a)[0] + dagrad.trapezoid(a).sum() + dagrad.diff(a).sum(),
         f32(3, 5))
    th = np.array([[[1, 0.1, 0], [0.2, 1, 0.1]]], np.float32)
    both(lambda img, th: F.grid_sample(img, F.affine_grid(th, (1, 3, 5, 5), align_corners=False),
                                       align_corners=False), f32(1, 3, 6, 6), th,
         rtol=1e-4, atol=1e-5)
    both(lambda a: nn.LocalResponseNorm(2)(a), f32(2, 3, 4, 4))
    # clip_grad_norm_ scales device gradients; pack/pad sequences keep the device
    res = []
    for dev in ("cpu", DEV):
        w = dagrad.tensor(x * 10, device=dev, requires_grad=True)
        (w * w).sum().backward()
        n = nn.utils.clip_grad_norm_([w], 1.0)
        nn.utils.clip_grad_value_([w], 0.05)
        seq = dagrad.tensor(f32(5, 2, 3) * 0 + 1, device=dev)
        packed = nn.utils.rnn.pack_padded_sequence(seq, [5, 3])
        out, lens = nn.utils.rnn.pad_packed_sequence(packed)
        assert out.device.type == dev
        res.append((w.grad, out, float(n)))
    close(res[1][0], res[0][0])
    close(res[1][1], res[0][1])
    assert res[1][2] == pytest.approx(res[0][2], rel=1e-5)


def test_lazy_modules_masks_and_misc_layers():
    # lazy modules moved to the device materialize there
    for make, shape in ((lambda: nn.LazyLinear(3), (2, 4)),
                        (lambda: nn.LazyConv2d(2, 3), (1, 2, 5, 5)),
                        (lambda: nn.LazyBatchNorm1d(), (4, 3))):
        m = make().to(DEV)
        y = m(dagrad.randn(*shape, device=DEV))
        y.sum().backward()
        for n, p in list(m.named_parameters()) + list(m.named_buffers()):
            assert p.device.type == DEV, n
    # boolean attention masks, the causal mask helper, pooling variants
    x = f32(2, 4, 8)
    mc, mg = _twin(lambda: nn.MultiheadAttention(8, 2, batch_first=True))
    keep = np.array([[False, False, True, False], [False, True, False, False]])
    res = []
    for m, dev in ((mc, "cpu"), (mg, DEV)):
        xt = dagrad.tensor(x, device=dev)
        causal = nn.Transformer.generate_square_subsequent_mask(4, device=dev)
        assert causal.device.type == dev
        o = m(xt, xt, xt, key_padding_mask=dagrad.tensor(keep, device=dev), attn_mask=causal)[0]
        res.append(o)
    close(res[1], res[0], 1e-4, 1e-5)
    x4 = f32(2, 3, 7, 7)
    both(lambda a: F.avg_pool2d(a, 3, 2, 1, count_include_pad=False), x4)
    both(lambda a: F.lp_pool2d(a.abs() + 0.1, 2, 3, 2), x4)
    (oc, ic), (og, ig) = both(lambda a: F.max_pool2d(a, 3, 2, 1, return_indices=True), x4)
    np.testing.assert_array_equal(host(ig), host(ic))
    # AdaptiveLogSoftmaxWithLoss, vector_to_parameters, pad_sequence
    ac, ag = _twin(lambda: nn.AdaptiveLogSoftmaxWithLoss(8, 10, [4, 7]))
    outs = []
    for m, dev in ((ac, "cpu"), (ag, DEV)):
        r = m(dagrad.tensor(x[0], device=dev), dagrad.tensor([0, 5, 9, 3], device=dev))
        r.loss.backward()
        outs.append((r.output, r.loss, m.head.weight.grad))
    for k in range(3):
        close(outs[1][k], outs[0][k], 1e-4, 1e-5, str(k))
    lin = nn.Linear(3, 2).to(DEV)
    vec = nn.utils.parameters_to_vector(lin.parameters())
    nn.utils.vector_to_parameters(vec * 2, lin.parameters())
    assert lin.weight.device.type == DEV
    np.testing.assert_allclose(host(nn.utils.parameters_to_vector(lin.parameters())),
                               host(vec) * 2)
    seqs = [dagrad.ones(3, 2, device=DEV), dagrad.ones(1, 2, device=DEV)]
    padded = nn.utils.rnn.pad_sequence(seqs, batch_first=True)
    assert padded.device.type == DEV and padded.shape == (2, 3, 2)
    assert host(padded).sum() == 8


def test_dropout_on_device():
    x = dagrad.ones(1000, device=DEV, requires_grad=True)
    y = F.dropout(x, 0.5, training=True)
    assert y.device.type == DEV
    v = host(y)
    assert set(np.unique(v)) <= {0.0, 2.0} and 300 < (v == 0).sum() < 700
    y.sum().backward()
    np.testing.assert_array_equal(host(x.grad), v)


# ---------------------------------------------------------------- training
def _train(model, opt, x, y, steps, loss_fn):
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("name,kw", [
    ("Adam", dict(lr=1e-2)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.1)),
    ("Adam", dict(lr=1e-2, amsgrad=True, weight_decay=0.01)),
    ("RMSprop", dict(lr=1e-2, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adamax", dict(lr=1e-2)),
    ("NAdam", dict(lr=1e-2)),
    ("RAdam", dict(lr=1e-2)),
    ("Adadelta", dict(lr=1.0)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    ("Rprop", dict(lr=1e-2)),
    ("ASGD", dict(lr=1e-2)),
    ("Adafactor", dict(lr=1e-2)),
    ("Muon", dict(lr=1e-2)),
    ("LBFGS", dict(lr=0.1, max_iter=3)),
])
def test_optimizers_match_cpu(name, kw):
    x, y = f32(16, 6), rng.integers(0, 3, 16)
    res = []
    for dev in ("cpu", DEV):
        dagrad.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 3)).to(dev)
        params = [p for p in model.parameters() if p.dim() == 2 or name != "Muon"]
        opt = getattr(dagrad.optim, name)(params, **kw)
        X, Y = dagrad.tensor(x, device=dev), dagrad.tensor(y, device=dev)
        if name == "LBFGS":
            def closure():
                opt.zero_grad()
                loss = F.cross_entropy(model(X), Y)
                loss.backward()
                return loss
            losses = [float(opt.step(closure)) for _ in range(2)]
        else:
            losses = _train(model, opt, X, Y, 4, F.cross_entropy)
        for st in opt.state.values():
            for v in st.values():
                if isinstance(v, dagrad.Tensor) and v.ndim > 0:
                    assert v.device.type == dev, (name, v.device)
        res.append((losses, model))
    # Muon rounds its Newton-Schulz iterates to bfloat16: one element on a rounding boundary
    # (a summation-order difference) moves by a bf16 ulp, ~4e-3 relative
    tol = dict(rtol=1e-2, atol=1e-3) if name == "Muon" else dict(rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=tol["rtol"])
    params_close(res[1][1], res[0][1], **tol)


def test_optimizer_state_from_a_cpu_checkpoint_moves_to_the_parameters_device():
    # PyTorch's load_state_dict casts the state to each parameter's dtype AND device
    w = dagrad.zeros(4, requires_grad=True)
    opt = dagrad.optim.Adam([w], lr=0.1)
    w.grad = dagrad.ones(4)
    opt.step()
    w1 = host(w).copy()
    sd = copy.deepcopy(opt.state_dict())           # on the CPU
    wg = dagrad.zeros(4, device=DEV, requires_grad=True)
    og = dagrad.optim.Adam([wg], lr=0.1)
    og.load_state_dict(sd)
    st = og.state[wg]
    assert st["exp_avg"].device.type == DEV and st["exp_avg_sq"].device.type == DEV
    wg.grad = dagrad.ones(4, device=DEV)
    og.step()
    w.grad = dagrad.ones(4)
    opt.step()
    # the same second step from the same state: wg moved from 0 as w moved from w1
    np.testing.assert_allclose(host(wg), host(w) - w1, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(host(st["exp_avg"]), host(opt.state[w]["exp_avg"]), rtol=1e-6)


def test_misc_ops_keep_the_device():
    x = f32(3, 4)
    both(lambda a: dagrad.linalg.householder_product(a, a[0, :3].tanh()), f32(4, 3),
         rtol=1e-4, atol=1e-5)
    both(lambda a: dagrad.special.gammainc(a.abs() + 0.5, a.abs() + 0.2)
         + dagrad.special.gammaincc(a.abs() + 1, a.abs()), x, grad=False)
    for dev in ("cpu", DEV):
        t = dagrad.tensor(np.array([3, 5, 11]), device=dev)
        r, c = dagrad.unravel_index(t, (3, 4))
        nz = dagrad.nonzero_static(dagrad.tensor([0.0, 2.0, 0.0, 1.0], device=dev), size=3)
        u = dagrad.unique_consecutive(dagrad.tensor([1, 1, 2, 2, 3, 1], device=dev),
                                      return_inverse=True, return_counts=True)
        ss = dagrad.searchsorted(dagrad.tensor([1.0, 2.0, 3.0], device=dev),
                                 dagrad.tensor([0.5, 2.5], device=dev))
        b = dagrad.binomial(dagrad.full((3,), 5.0, device=dev), dagrad.full((3,), 0.5, device=dev))
        for v in (r, c, nz, *u, ss, b):
            assert v.device.type == dev, v
        assert r.tolist() == [0, 1, 2] and c.tolist() == [3, 1, 3]
        assert nz.tolist() == [[1], [3], [-1]] and u[0].tolist() == [1, 2, 3, 1]
        assert ss.tolist() == [0, 2]
    if DEV == "cuda":   # torch.tensor / as_tensor of a CuPy array: a CUDA tensor
        import cupy
        c = cupy.arange(4, dtype=cupy.float32)
        assert dagrad.tensor(c).device.type == "cuda" and dagrad.tensor(c).tolist() == [0, 1, 2, 3]


def test_mlp_adam_and_state_dict_round_trip():
    x, y = f32(32, 10), f32(32, 1)
    res = []
    for dev in ("cpu", DEV):
        dagrad.manual_seed(1)
        model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1)).to(dev)
        opt = dagrad.optim.Adam(model.parameters(), lr=1e-3)
        X, Y = dagrad.tensor(x, device=dev), dagrad.tensor(y, device=dev)
        _train(model, opt, X, Y, 5, F.mse_loss)
        sd = copy.deepcopy(opt.state_dict())   # load_state_dict keeps the tensors it is given
        # a fresh optimizer loaded from the state dict continues identically
        dagrad.manual_seed(1)
        model2 = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1)).to(dev)
        model2.load_state_dict(model.state_dict())
        opt2 = dagrad.optim.Adam(model2.parameters(), lr=1e-3)
        opt2.load_state_dict(sd)
        for st in opt2.state.values():
            assert st["exp_avg"].device.type == dev
        l1 = _train(model, opt, X, Y, 2, F.mse_loss)
        l2 = _train(model2, opt2, X, Y, 2, F.mse_loss)
        assert l1 == l2
        for (n, p1), (_, p2) in zip(model.named_parameters(), model2.named_parameters()):
            assert p2.device.type == dev, n
            np.testing.assert_array_equal(host(p2), host(p1), err_msg=n)
        res.append((l1, model))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-4)
    params_close(res[1][1], res[0][1], rtol=1e-4, atol=1e-5)


def test_sgd_momentum_threaded_sizes():
    # > 1M elements: the CPU splits the momentum update across threads; CuPy takes its own path
    res = []
    xa = f32(4, 1200)
    for dev in ("cpu", DEV):
        dagrad.manual_seed(2)
        w = dagrad.randn(1200, 1000).to(dev).requires_grad_()
        b = dagrad.zeros(1000, device=dev, requires_grad=True)
        opt = dagrad.optim.SGD([w, b], lr=0.01, momentum=0.9)
        x = dagrad.tensor(xa, device=dev)
        for _ in range(3):
            opt.zero_grad()
            ((x @ w + b) ** 2).mean().backward()
            opt.step()
        res.append((w, b, opt.state[w]["momentum_buffer"]))
    for k in range(3):
        close(res[1][k], res[0][k], rtol=1e-3, atol=1e-5, what=str(k))


def _rel(a, b):
    return float(np.linalg.norm(a - b) / (np.linalg.norm(b) + 1e-30))


def test_resnet18_train_step_matches_cpu():
    """The seed's training step (ResNet18, one 1x3x64x64 image, loss = sum(pred - labels),
    SGD lr 1e-2 momentum 0.9) on both devices from the same weights. The forward agrees to
    float32 rounding; batch 1 makes the BatchNorm gradients cancellation-heavy (~1e-3 relative
    between two correct float32 implementations, e.g. NumPy's Winograd vs the generic conv), so
    gradients and updates are compared by relative norm per parameter."""
    models = dagrad.vision.models
    dagrad.manual_seed(0)
    m_cpu = models.resnet18()
    m_gpu = models.resnet18()
    m_gpu.load_state_dict(m_cpu.state_dict())
    m_gpu = m_gpu.to(DEV)
    data = np.random.default_rng(5).random((1, 3, 64, 64), dtype=np.float32)
    labels = np.random.default_rng(6).random((1, 1000), dtype=np.float32)
    before = {n: host(p).copy() for n, p in m_cpu.named_parameters()}
    out = {}
    for m, dev in ((m_cpu, "cpu"), (m_gpu, DEV)):
        opt = dagrad.optim.SGD(m.parameters(), lr=1e-2, momentum=0.9)
        x, lab = dagrad.tensor(data, device=dev), dagrad.tensor(labels, device=dev)
        preds, grads = [], None
        for step in range(2):
            opt.zero_grad()
            pred = m(x)
            loss = (pred - lab).sum()
            loss.backward()
            if step == 0:
                grads = {n: host(p.grad).copy() for n, p in m.named_parameters()}
                assert m.conv1.weight.grad.device.type == dev
            opt.step()
            if step == 0:
                first = {n: host(p).copy() for n, p in m.named_parameters()}
            preds.append(pred.detach())
        out[dev] = (preds, grads, first, {n: host(p).copy() for n, p in m.named_parameters()})
    close(out[DEV][0][0], out["cpu"][0][0], rtol=1e-4, atol=1e-4, what="pred 0")
    close(out[DEV][0][1], out["cpu"][0][1], rtol=1e-2, atol=1e-2, what="pred 1")
    for n in before:
        assert _rel(out[DEV][1][n], out["cpu"][1][n]) < 1e-2, (n, "grad")
        d_gpu, d_cpu = out[DEV][2][n] - before[n], out["cpu"][2][n] - before[n]
        assert _rel(d_gpu, d_cpu) < 1e-2, (n, "first update")
        # (the second step starts from weights that differ by that rounding; with batch 1 and
        # lr 1e-2 on a sum of 1000 logits it amplifies it ~10x, so only its prediction is
        # compared, loosely, above)
    for (n, bc), (_, bg) in zip(m_cpu.named_buffers(), m_gpu.named_buffers()):
        assert bg.device.type == DEV
        if bc.is_floating_point():   # running stats include the second forward
            assert _rel(host(bg), host(bc)) < 1e-2, n
        else:
            assert int(bg) == int(bc) == 2, n


def test_finetune_frozen_backbone():
    models = dagrad.vision.models
    dagrad.manual_seed(0)
    model = models.resnet18()
    for p in model.parameters():
        p.requires_grad = False
    model.fc = nn.Linear(512, 10)
    model = model.to(DEV)
    opt = dagrad.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    before = host(model.layer1[0].conv1.weight).copy()
    fc_before = host(model.fc.weight).copy()
    out = model(dagrad.rand(2, 3, 32, 32, device=DEV))
    out.sum().backward()
    opt.step()
    assert model.layer1[0].conv1.weight.grad is None
    np.testing.assert_array_equal(host(model.layer1[0].conv1.weight), before)
    assert not np.allclose(host(model.fc.weight), fc_before)


def test_vision_transforms_and_models_on_device():
    T = dagrad.vision.transforms
    img = np.random.default_rng(8).random((3, 20, 24), dtype=np.float32)
    tf = T.Compose([T.Resize(16), T.CenterCrop(12), T.Normalize([0.5] * 3, [0.2] * 3),
                    T.Pad(1), T.Grayscale()])
    close(tf(dagrad.tensor(img, device=DEV)), tf(dagrad.tensor(img)), rtol=1e-5, atol=1e-5)
    adj = T.functional
    for f in (lambda t: adj.adjust_hue(t, 0.1), lambda t: adj.adjust_contrast(t, 1.3),
              lambda t: adj.adjust_saturation(t, 0.7), lambda t: adj.resize(t, [10, 9])):
        close(f(dagrad.tensor(img, device=DEV)), f(dagrad.tensor(img)), rtol=1e-5, atol=1e-5)
    m = dagrad.vision.models.mobilenet_v2(num_classes=10).to(DEV)
    y = m(dagrad.rand(2, 3, 32, 32, device=DEV))
    y.sum().backward()
    assert y.device.type == DEV and m.features[0][0].weight.grad.device.type == DEV


# ---------------------------------------------------------------- serialization
def test_save_cuda_load_cpu_and_back(tmp_path):
    x = f32(3, 4)
    t = dagrad.tensor(x, device=DEV)
    path = tmp_path / "t.pt"
    dagrad.save({"t": t, "list": [t * 2, 3], "i": dagrad.arange(3, device=DEV)}, path)
    back = dagrad.load(path)                       # back on the device it was saved from
    assert back["t"].device.type == DEV
    np.testing.assert_array_equal(host(back["t"]), x)
    on_cpu = dagrad.load(path, map_location="cpu")
    assert on_cpu["t"].device.type == "cpu" and on_cpu["i"].dtype == dagrad.int64
    np.testing.assert_array_equal(on_cpu["list"][0].numpy(), x * 2)
    assert on_cpu["list"][1] == 3
    # saved on the CPU, loaded to the device
    p2 = tmp_path / "c.pt"
    dagrad.save(dagrad.tensor(x), p2)
    for loc in (DEV, dagrad.device(DEV), {"cpu": DEV}, lambda s, loc: s.to(DEV)):
        r = dagrad.load(p2, map_location=loc)
        assert r.device.type == DEV, loc
        np.testing.assert_array_equal(host(r), x)
    # plain pickle / deepcopy keep the device (PyTorch)
    for r in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t)):
        assert r.device.type == DEV
        np.testing.assert_array_equal(host(r), x)
    # a buffer in memory works the same
    buf = io.BytesIO()
    dagrad.save(t, buf)
    buf.seek(0)
    assert dagrad.load(buf, map_location="cpu").device.type == "cpu"


def test_load_restores_the_saved_device(tmp_path):
    if DEV != "cuda":
        pytest.skip("needs a real device")
    dagrad.save({"g": dagrad.ones(2, device="cuda"), "c": dagrad.ones(2),
                 "p": nn.Parameter(dagrad.ones(3, device="cuda"))}, tmp_path / "g.pt")
    d = dagrad.load(tmp_path / "g.pt")   # each storage back where it was saved from
    assert d["g"].device.type == "cuda" and d["c"].device.type == "cpu"
    assert d["p"].device.type == "cuda" and type(d["p"]).__name__ == "Parameter"
    seen = []
    dagrad.load(tmp_path / "g.pt", map_location=lambda s, loc: seen.append(loc))
    assert sorted(seen) == ["cpu", "cuda:0", "cuda:0"]
    d = dagrad.load(tmp_path / "g.pt", map_location={"cuda:0": "cpu"})
    assert d["g"].device.type == "cpu" and d["p"].device.type == "cpu"


def test_model_state_dict_across_devices(tmp_path):
    dagrad.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(16, 2))
    model = model.to(DEV)
    model(dagrad.rand(2, 3, 4, 4, device=DEV)).sum().backward()
    opt = dagrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    opt.step()
    path = tmp_path / "ckpt.pth"
    dagrad.save({"model": model.state_dict(), "opt": opt.state_dict()}, path)
    ck = dagrad.load(path, map_location="cpu")
    cpu_model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(),
                              nn.Linear(16, 2))
    cpu_model.load_state_dict(ck["model"])
    for (n, a), (_, b) in zip(cpu_model.state_dict().items(), model.state_dict().items()):
        assert a.device.type == "cpu"
        np.testing.assert_array_equal(a.numpy(), host(b), err_msg=n)
    cpu_opt = dagrad.optim.SGD(cpu_model.parameters(), lr=0.1, momentum=0.9)
    cpu_opt.load_state_dict(ck["opt"])
    buf = next(iter(cpu_opt.state.values()))["momentum_buffer"]
    assert buf.device.type == "cpu"
    # and back onto the device via map_location
    ck2 = dagrad.load(path, map_location=DEV)
    assert all(v.device.type == DEV for v in ck2["model"].values())


def test_safetensors_across_devices(tmp_path):
    from dagrad.serialization import load_file, save_file
    x = f32(2, 3)
    save_file({"w": dagrad.tensor(x, device=DEV)}, tmp_path / "w.safetensors")
    on_cpu = load_file(tmp_path / "w.safetensors")
    assert on_cpu["w"].device.type == "cpu"
    on_dev = load_file(tmp_path / "w.safetensors", device=DEV)
    assert on_dev["w"].device.type == DEV
    np.testing.assert_array_equal(host(on_dev["w"]), x)


def test_torch_reads_our_cuda_checkpoint(tmp_path):
    torch = pytest.importorskip("torch")
    x = f32(2, 3)
    path = tmp_path / "for_torch.pt"
    dagrad.save({"w": dagrad.tensor(x, device=DEV)}, path)
    got = torch.load(path, map_location="cpu", weights_only=True)
    np.testing.assert_array_equal(got["w"].numpy(), x)
    if DEV == "cuda" and torch.cuda.is_available():  # torch puts it back on its GPU
        assert torch.load(path, weights_only=True)["w"].is_cuda


# ---------------------------------------------------------------- dagrad.cuda
def test_cuda_module_api():
    if DEV != "cuda":
        pytest.skip("dagrad.cuda needs a real device")
    cuda = dagrad.cuda
    assert cuda.is_available() and cuda.is_initialized()
    assert cuda.device_count() >= 1
    assert cuda.current_device() == 0
    name = cuda.get_device_name(0)
    assert isinstance(name, str) and name
    assert cuda.get_device_name() == name
    major, minor = cuda.get_device_capability()
    assert major >= 3
    props = cuda.get_device_properties(0)
    assert props.name == name and props.total_memory > 0
    assert props.multi_processor_count > 0 and (props.major, props.minor) == (major, minor)
    cuda.manual_seed(1)
    cuda.manual_seed_all(1)
    cuda.seed()
    cuda.seed_all()
    cuda.synchronize()
    cuda.synchronize(0)
    cuda.synchronize("cuda:0")
    base = cuda.memory_allocated()
    big = dagrad.empty(1 << 20, device="cuda")  # 4 MiB
    if "fake" not in getattr(__import__("cupy"), "__version__", ""):  # (tests/gpu/fakecupy)
        assert cuda.memory_allocated() >= base + (4 << 20)
    assert cuda.memory_allocated(0) == cuda.memory_allocated()
    assert cuda.max_memory_allocated() >= cuda.memory_allocated()
    assert cuda.memory_reserved() >= cuda.memory_allocated()
    stats = cuda.memory_stats()
    assert stats["allocated_bytes.all.current"] == cuda.memory_allocated()
    assert isinstance(cuda.memory_summary(), str)
    del big
    cuda.empty_cache()
    cuda.reset_peak_memory_stats()
    cuda.reset_max_memory_allocated()
    free, total = cuda.mem_get_info()
    assert 0 < free <= total
    with cuda.device(0):
        assert cuda.current_device() == 0
    cuda.set_device(0)
    cuda.set_device("cuda:0")
    assert dagrad.device("cuda").type == "cuda"
    assert dagrad.ones(1, device="cuda:0").device == dagrad.device("cuda", 0)
    assert not cuda.is_bf16_supported()
    st = cuda.get_rng_state()
    a = dagrad.randn(3, device="cuda")
    cuda.set_rng_state(st)
    np.testing.assert_array_equal(host(dagrad.randn(3, device="cuda")), host(a))
    cuda.set_rng_state_all(cuda.get_rng_state_all())
    assert isinstance(cuda.initial_seed(), int)


def test_cuda_events_and_streams():
    if DEV != "cuda":
        pytest.skip("needs a real device")
    cuda = dagrad.cuda
    start = cuda.Event(enable_timing=True)
    end = cuda.Event(enable_timing=True)
    start.record()
    x = dagrad.randn(256, 256, device="cuda")
    (x @ x).sum()
    end.record()
    end.synchronize()
    ms = start.elapsed_time(end)
    assert isinstance(ms, float) and ms >= 0
    assert end.query()
    s = cuda.Stream()
    with cuda.stream(s):
        y = dagrad.ones(4, device="cuda") * 2
    s.synchronize()
    assert y.sum().item() == 8
    assert cuda.current_stream() is not None
    cuda.current_stream().synchronize()
    cuda.default_stream().synchronize()


def test_cuda_random_is_seeded():
    a = dagrad.randn(5, device=DEV, generator=None)
    dagrad.manual_seed(7)
    a = dagrad.randn(5, device=DEV)
    b = dagrad.rand(5, device=DEV)
    dagrad.manual_seed(7)
    a2 = dagrad.randn(5, device=DEV)
    b2 = dagrad.rand(5, device=DEV)
    np.testing.assert_array_equal(host(a), host(a2))
    np.testing.assert_array_equal(host(b), host(b2))
    i = dagrad.randint(0, 10, (20,), device=DEV)
    assert i.dtype == dagrad.int64 and i.device.type == DEV
    assert dagrad.randperm(6, device=DEV).sort()[0].tolist() == list(range(6))
    x = dagrad.zeros(100, device=DEV)
    x.normal_(0, 1)
    x.uniform_(2, 3)
    assert x.device.type == DEV and 2 <= x.min().item() and x.max().item() <= 3
    m = dagrad.multinomial(dagrad.tensor([0.0, 1.0, 0.0], device=DEV), 3, replacement=True)
    assert m.tolist() == [1, 1, 1]
    # random ops on device tensors draw the CPU's stream and land on the device
    dagrad.manual_seed(3)
    ref = dagrad.normal(dagrad.zeros(4), dagrad.ones(4))
    dagrad.manual_seed(3)
    got = dagrad.normal(dagrad.zeros(4, device=DEV), dagrad.ones(4, device=DEV))
    close(got, ref, rtol=0, atol=0)
    for u in (dagrad.bernoulli(dagrad.rand(5, device=DEV)), dagrad.poisson(x[:5] + 1),
              F.rrelu(dagrad.ones(3, device=DEV) - 2, training=True),
              F.gumbel_softmax(dagrad.zeros(2, 3, device=DEV)),
              F.dropout2d(dagrad.ones(2, 3, 4, 4, device=DEV), 0.5)):
        assert u.device.type == DEV


def test_distributions_on_device():
    Dn = dagrad.distributions
    res = []
    for dev in ("cpu", DEV):
        dagrad.manual_seed(4)
        mu = dagrad.zeros(3, device=dev, requires_grad=True)
        sd = dagrad.ones(3, device=dev, requires_grad=True)
        d = Dn.Normal(mu, sd)
        x = d.rsample((2,))
        loss = x.sum() + d.log_prob(x.detach()).sum() + d.entropy().sum() \
            + Dn.kl_divergence(d, Dn.Normal(mu.detach() * 0, sd.detach() * 2)).sum()
        loss.backward()
        c = Dn.Categorical(logits=dagrad.tensor([[0.0, 1.0, 2.0]], device=dev))
        u = Dn.Uniform(dagrad.zeros(2, device=dev), dagrad.ones(2, device=dev)).rsample()
        b = Dn.Bernoulli(probs=dagrad.full((4,), 0.5, device=dev)).sample()
        for v in (x, c.sample(), c.log_prob(dagrad.tensor([1], device=dev)), c.entropy(), u, b,
                  d.sample()):
            assert v.device.type == dev
        res.append((x, mu.grad, sd.grad))
    for k in range(3):
        close(res[1][k], res[0][k], what=str(k))
