"""Devices and defaults against PyTorch 2.13 (a CPU-only build, as dagrad is without CuPy+GPU):
torch.device / Tensor.device / to(device), torch.cuda, torch.backends, torch.accelerator,
set_default_device / set_default_dtype honoured by every creation function.
"""
import pickle

import numpy as np
import pytest
import torch

import dagrad

GPU = dagrad.cuda.is_available()
nogpu = pytest.mark.skipif(GPU, reason="checks the CPU-only behaviour")


@pytest.fixture
def restore_defaults():
    yield
    dagrad.set_default_dtype(dagrad.float32)
    dagrad.set_default_device(None)
    torch.set_default_dtype(torch.float32)
    torch.set_default_device(None)


def _both(fn):
    out = []
    for lib in (torch, dagrad):
        try:
            out.append(("ok", fn(lib)))
        except Exception as e:  # noqa: BLE001
            out.append((type(e).__name__, str(e)))
    return out


# ---------------------------------------------------------------- availability
@nogpu
@pytest.mark.parametrize("expr", [
    "cuda.is_available()", "cuda.device_count()", "cuda.is_initialized()",
    "cuda.is_bf16_supported()", "cuda.get_arch_list()", "cuda.memory_allocated()",
    "cuda.max_memory_allocated()", "cuda.memory_reserved()", "cuda.manual_seed(0)",
    "cuda.manual_seed_all(1)", "cuda.empty_cache()", "cuda.seed()",
    "backends.mps.is_available()", "backends.mps.is_built()", "backends.cudnn.is_available()",
    "backends.cudnn.enabled", "backends.cudnn.benchmark", "backends.cudnn.deterministic",
    "backends.cudnn.version()", "backends.cuda.is_built()", "backends.cuda.matmul.allow_tf32",
    "accelerator.is_available()", "accelerator.device_count()",
    "accelerator.current_accelerator()", "get_default_device()", "cuda.device(0).idx",
])
def test_cpu_only_values(expr):
    t, d = _both(lambda L: eval("L." + expr))  # noqa: S307
    assert t[0] == d[0] == "ok", (t, d)
    tv, dv = t[1], d[1]
    assert str(dv) == str(tv)


@nogpu
@pytest.mark.parametrize("expr", [
    "cuda.current_device()", "cuda.synchronize()", "cuda.get_device_name()",
    "cuda.get_device_properties(0)", "cuda.get_device_capability()", "cuda.init()",
    "cuda.mem_get_info()", "cuda.current_stream()", "cuda.Stream()", "cuda.Event()",
    "ones(2).to('cuda')", "ones(2).to('cuda:0')", "ones(2).cuda()",
    "ones(2).to(device=device('cuda'))", "zeros(2, device='cuda')",
    "tensor([1.0], device='cuda')", "randn(2, device='cuda')", "arange(3, device='cuda')",
    "ones(2).to('mps')", "ones(2).to('xla')", "accelerator.current_device_index()",
    "accelerator.synchronize()", "device('cuda:x')", "device('nope')",
])
def test_cpu_only_errors(expr):
    t, d = _both(lambda L: eval("L." + expr))  # noqa: S307
    assert t[0] != "ok", t
    assert d[0] == t[0], (t, d)
    assert d[1] == t[1]


def test_device_objects():
    for lib in (torch, dagrad):
        x = lib.ones(2)
        assert x.device == lib.device("cpu") and str(x.device) == "cpu"
        assert x.device.type == "cpu" and x.device.index is None
        assert x.to("cpu") is x
        assert x.cpu() is x
        assert x.is_cuda is False
        assert x.get_device() == -1
        y = x.to(lib.device("cpu"), lib.float64)
        assert y.dtype == lib.float64
        assert lib.device("cuda", 1).index == 1 and str(lib.device("cuda:1")) == "cuda:1"
        assert repr(lib.device("cuda:1")) == "device(type='cuda', index=1)"
        assert lib.device("cpu") == lib.device("cpu") and lib.device("cuda:0") != lib.device(
            "cuda:1")
        assert pickle.loads(pickle.dumps(lib.device("cuda:2"))) == lib.device("cuda:2")
        assert {lib.device("cpu"): 1}[lib.device("cpu")] == 1
        z = lib.zeros(2, device=lib.device("cpu"))
        assert z.device.type == "cpu"


def test_cudnn_flags_settable_and_context():
    import dagrad.backends.cudnn as cudnn
    old = cudnn.benchmark
    cudnn.benchmark = True
    assert dagrad.backends.cudnn.benchmark is True
    cudnn.benchmark = old
    with cudnn.flags(enabled=False, deterministic=True):
        assert cudnn.enabled is False and cudnn.deterministic is True
    assert cudnn.enabled is True and cudnn.deterministic is False


# ---------------------------------------------------------------- defaults honoured everywhere
CREATORS = [
    ("tensor_float", lambda L: L.tensor([1.5, 2.0])),
    ("tensor_int", lambda L: L.tensor([1, 2])),
    ("tensor_scalar", lambda L: L.tensor(3.0)),
    ("as_tensor", lambda L: L.as_tensor([1.5])),
    ("zeros", lambda L: L.zeros(2, 3)),
    ("ones", lambda L: L.ones((2,))),
    ("empty", lambda L: L.empty(2)),
    ("full_float", lambda L: L.full((2,), 1.5)),
    ("full_int", lambda L: L.full((2,), 7)),
    ("arange_float", lambda L: L.arange(0, 1, 0.25)),
    ("arange_int", lambda L: L.arange(4)),
    ("linspace", lambda L: L.linspace(0, 1, 5)),
    ("logspace", lambda L: L.logspace(0, 1, 3)),
    ("eye", lambda L: L.eye(3)),
    ("rand", lambda L: L.rand(2)),
    ("randn", lambda L: L.randn(2, 2)),
    ("randint", lambda L: L.randint(0, 5, (3,))),
    ("randperm", lambda L: L.randperm(4)),
    ("normal", lambda L: L.normal(0.0, 1.0, size=(2,))),
    ("zeros_like_int", lambda L: L.zeros_like(L.tensor([1, 2]))),
    ("ones_like_float", lambda L: L.ones_like(L.tensor([1.0]))),
    ("scalar_tensor", lambda L: L.scalar_tensor(2)),
    ("empty_like", lambda L: L.empty_like(L.zeros(2))),
    ("rand_like", lambda L: L.rand_like(L.zeros(2))),
    ("int_to_float_op", lambda L: L.tensor([1, 2]) / 2),
    ("int_exp", lambda L: L.exp(L.tensor([1, 2]))),
    ("mean_int_err_free", lambda L: L.tensor([1, 2]).float()),
    ("sqrt_int", lambda L: L.sqrt(L.tensor(4))),
    ("int_times_float", lambda L: L.tensor([1, 2]) * 0.5),
    ("tensor_ctor", lambda L: L.Tensor([1, 2])),
    ("new_zeros", lambda L: L.tensor([1.0]).new_zeros(2)),
    ("complex", lambda L: L.tensor([1 + 2j])),
]


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("name,fn", CREATORS, ids=[c[0] for c in CREATORS])
def test_default_dtype_honoured(name, fn, dt, restore_defaults):
    torch.set_default_dtype(getattr(torch, dt))
    dagrad.set_default_dtype(getattr(dagrad, dt))
    t, d = fn(torch), fn(dagrad)
    assert str(d.dtype) == str(t.dtype), (name, d.dtype, t.dtype)
    assert tuple(d.shape) == tuple(t.shape)
    assert d.device.type == "cpu"
    assert dagrad.get_default_dtype() == getattr(dagrad, dt)


@pytest.mark.parametrize("name,fn", CREATORS, ids=[c[0] for c in CREATORS])
def test_default_device_cpu(name, fn, restore_defaults):
    dagrad.set_default_device("cpu")
    assert str(dagrad.get_default_device()) == "cpu"
    assert fn(dagrad).device == dagrad.device("cpu")


@nogpu
@pytest.mark.parametrize("name,fn", [c for c in CREATORS if not c[0].endswith("_like")
                                     and c[0] not in ("int_to_float_op", "int_exp",
                                                      "mean_int_err_free", "sqrt_int",
                                                      "int_times_float", "new_zeros",
                                                      "tensor_ctor", "normal")],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_default_device_cuda_refused(name, fn, restore_defaults):
    torch.set_default_device("cuda")
    dagrad.set_default_device("cuda")
    assert dagrad.get_default_device().type == "cuda"
    t, d = _both(fn)
    assert t[0] == "AssertionError", t
    assert d == t


def test_set_default_dtype_refuses_int(restore_defaults):
    t, d = _both(lambda L: L.set_default_dtype(L.int64))
    assert t[0] == d[0] == "TypeError"


def test_default_dtype_in_ops(restore_defaults):
    dagrad.set_default_dtype(dagrad.float64)
    x = dagrad.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    assert x.grad.dtype == dagrad.float64
    assert dagrad.nn.Linear(2, 2).weight.dtype == dagrad.float64 if hasattr(
        dagrad, "nn") and hasattr(dagrad.nn, "Linear") else True
    assert dagrad.linalg.inv(dagrad.eye(2)).dtype == dagrad.float64
    assert dagrad.hypot(dagrad.tensor([3]), dagrad.tensor([4.0])).dtype == dagrad.float64
    np.testing.assert_allclose(dagrad.linspace(0, 1, 3).numpy(), [0, 0.5, 1])


@nogpu
def test_amp_shims_disabled_without_gpu():
    x = dagrad.tensor([1.0, 2.0], requires_grad=True)
    opt = dagrad.optim.SGD([x], lr=0.1)
    with pytest.warns(UserWarning, match="CUDA is not available"):
        s = dagrad.cuda.amp.GradScaler()
    assert s.is_enabled() is False and s.get_scale() == 1.0 and s.state_dict() == {}
    loss = (x * x).sum()
    assert s.scale(loss) is loss
    s.scale(loss).backward()
    s.step(opt)
    s.update()
    np.testing.assert_allclose(x.detach().numpy(), [0.8, 1.6])
    with pytest.warns(UserWarning, match="Disabling autocast"):
        with dagrad.cuda.amp.autocast():
            pass
