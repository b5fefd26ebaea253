"""dagrad on CuPy: the same computations on device='cuda' and on the CPU give the same numbers.

Skipped where CuPy or a GPU is missing (CI, this project's development machines); run on a GPU
machine with `PYTHONPATH=src python -m pytest tests/gpu -q`.
"""
import numpy as np
import pytest

import dagrad
from dagrad.backend import has_cuda

pytestmark = pytest.mark.skipif(not has_cuda(), reason="needs CuPy and a CUDA GPU")


def both(fn, *arrays, grad=True):
    """Run fn on CPU tensors and on CUDA tensors built from the same arrays; compare."""
    cpu = [dagrad.tensor(a, requires_grad=grad) for a in arrays]
    gpu = [dagrad.tensor(a, device="cuda", requires_grad=grad) for a in arrays]
    oc, og = fn(*cpu), fn(*gpu)
    assert og.device.type == "cuda"
    np.testing.assert_allclose(og.detach().cpu().numpy(), oc.detach().numpy(), rtol=1e-4,
                               atol=1e-5)
    if grad:
        oc.sum().backward()
        og.sum().backward()
        for c, g in zip(cpu, gpu):
            assert g.grad.device.type == "cuda"
            np.testing.assert_allclose(g.grad.cpu().numpy(), c.grad.numpy(), rtol=1e-4,
                                       atol=1e-5)


def test_is_available():
    assert dagrad.cuda.is_available()
    assert dagrad.cuda.device_count() >= 1


def test_creation_and_transfer():
    x = dagrad.ones(2, 3, device="cuda")
    assert x.device == dagrad.device("cuda", 0)
    assert x.to("cpu").device.type == "cpu"
    y = dagrad.arange(6).to("cuda")
    assert y.is_cuda and y.sum().item() == 15
    assert "device='cuda:0'" in repr(x)


def test_seed_example_on_gpu():
    a = dagrad.tensor([2., 3.], requires_grad=True, device="cuda")
    b = dagrad.tensor([6., 4.], requires_grad=True, device="cuda")
    Q = 3 * a**3 - b**2
    Q.backward(gradient=dagrad.tensor([1., 1.], device="cuda"))
    assert (9 * a**2 == a.grad).all().item()
    assert (-2 * b == b.grad).all().item()


rng = np.random.default_rng(0)
A = rng.standard_normal((4, 5)).astype(np.float32)
B = rng.standard_normal((5,)).astype(np.float32)
C = rng.standard_normal((5, 3)).astype(np.float32)


@pytest.mark.parametrize("name,fn,args", [
    ("broadcast_arith", lambda x, y: (x * y + y / 2 - x ** 2).exp(), (A, B)),
    ("unary", lambda x: x.tanh() + x.sigmoid() + x.abs().sqrt() + x.sin(), (A,)),
    ("reductions", lambda x: x.sum(1) + x.mean(1) + x.amax(1) + x.logsumexp(1), (A,)),
    ("softmax", lambda x: x.log_softmax(1) * x.softmax(1), (A,)),
    ("matmul", lambda x, y: x @ y, (A, C)),
    ("shape", lambda x: x.t().reshape(2, 10).permute(1, 0)[3:, :].flip(0), (A,)),
    ("indexing", lambda x: x[[0, 0, 2], 1:4], (A,)),
    ("cat", lambda x: dagrad.cat([x, x * 2], 1), (A,)),
])
def test_ops_match_cpu(name, fn, args):
    both(fn, *args)


def test_mlp_train_step_matches_cpu():
    nn = dagrad.nn
    out = {}
    for dev in ("cpu", "cuda"):
        dagrad.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)).to(dev)
        opt = dagrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x = dagrad.tensor(A[:, :4].repeat(2, 1), device=dev)
        y = dagrad.tensor([0, 1, 2, 1], device=dev)
        for _ in range(3):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        out[dev] = (loss.item(), [p.detach().cpu().numpy() for p in model.parameters()])
    assert abs(out["cpu"][0] - out["cuda"][0]) < 1e-4
    for a, b in zip(out["cpu"][1], out["cuda"][1]):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


def test_conv2d_matches_cpu():
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    both(lambda a, b: dagrad.nn.functional.conv2d(a, b, padding=1).relu(), x, w)


def test_resnet18_forward_backward_on_gpu():
    model = dagrad.vision.models.resnet18().to("cuda")
    x = dagrad.rand(1, 3, 64, 64, device="cuda")
    out = model(x)
    assert out.shape == (1, 1000) and out.device.type == "cuda"
    out.sum().backward()
    assert model.conv1.weight.grad.device.type == "cuda"
