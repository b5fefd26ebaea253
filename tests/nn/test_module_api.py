"""nn.Module API: registration, iteration, state_dict, load_state_dict, repr, hooks, dtype."""
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn as tnn
from nnhelp import copy_weights

import dagrad
import dagrad.nn as nn


def _model(lib):
    n = lib.nn if lib is torch else nn

    class Net(n.Module):
        def __init__(self):
            super().__init__()
            self.features = n.Sequential(
                n.Conv2d(3, 8, 3, padding=1, bias=False), n.BatchNorm2d(8), n.ReLU(inplace=True),
                n.MaxPool2d(2), n.Conv2d(8, 16, 3, stride=2, padding=1), n.AdaptiveAvgPool2d(1))
            self.blocks = n.ModuleList([n.Linear(16, 16) for _ in range(3)] + [n.GELU()])
            self.heads = n.ModuleDict({"a": n.Linear(16, 4), "b": n.Sequential(
                OrderedDict([("fc", n.Linear(16, 2)), ("act", n.Sigmoid())]))})
            self.norm = n.LayerNorm(16)
            self.emb = n.Embedding(10, 4, padding_idx=0)
            self.drop = n.Dropout(0.2)
            self.flat = n.Flatten()
            self.register_buffer("steps", lib.zeros(1))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)
            self.scale = n.Parameter(lib.ones(1))

        def forward(self, x):
            return x
    return Net()


def test_state_dict_keys_repr_counts_match_torch():
    t, d = _model(torch), _model(dagrad)
    assert list(d.state_dict().keys()) == list(t.state_dict().keys())
    assert repr(d) == repr(t)
    assert [n for n, _ in d.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in d.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in d.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in d.named_children()] == [n for n, _ in t.named_children()]
    assert sum(p.numel() for p in d.parameters()) == sum(p.numel() for p in t.parameters())
    for (kd, vd), (kt, vt) in zip(d.state_dict().items(), t.state_dict().items()):
        assert tuple(vd.shape) == tuple(vt.shape), kd
        assert str(vd.dtype) == str(vt.dtype), kd


def test_state_dict_roundtrip_and_types():
    t, d = _model(torch), _model(dagrad)
    copy_weights(t, d)
    sd = d.state_dict()
    assert isinstance(sd, OrderedDict)
    assert not any(v.requires_grad for v in sd.values())
    assert all(v.requires_grad for k, v in d.state_dict(keep_vars=True).items()
               if k.endswith("weight") and "running" not in k)
    for k, v in t.state_dict().items():
        np.testing.assert_array_equal(sd[k].numpy(), v.numpy())
    assert sd._metadata[""] == {"version": 1}
    assert sd._metadata["features.1"] == {"version": 2}


def test_load_state_dict_errors_match_torch():
    t, d = _model(torch), _model(dagrad)
    tsd = t.state_dict()
    dsd = d.state_dict()
    for sd in (tsd, dsd):
        sd.pop("norm.weight")
        sd.pop("heads.a.bias")
        sd["extra.key"] = sd["steps"]
        sd["foo"] = sd["steps"]
    tsd["blocks.0.weight"] = torch.zeros(3, 16)
    dsd["blocks.0.weight"] = dagrad.zeros(3, 16)
    with pytest.raises(RuntimeError) as et:
        t.load_state_dict(tsd)
    with pytest.raises(RuntimeError) as ed:
        d.load_state_dict(dsd)
    assert str(ed.value) == str(et.value)
    rt = t.load_state_dict(tsd, strict=False) if False else None  # size mismatch raises anyway
    del rt
    tsd.pop("blocks.0.weight")
    dsd.pop("blocks.0.weight")
    rt = t.load_state_dict(tsd, strict=False)
    rd = d.load_state_dict(dsd, strict=False)
    assert repr(rd) == repr(rt)
    assert rd.missing_keys == rt.missing_keys and rd.unexpected_keys == rt.unexpected_keys
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        d.load_state_dict([1, 2])


def test_load_state_dict_numpy_and_missing_num_batches_tracked():
    t = tnn.BatchNorm2d(3)
    d = nn.BatchNorm2d(3)
    t.train()(torch.randn(4, 3, 2, 2))
    sd = {k: v.numpy() for k, v in t.state_dict().items() if k != "num_batches_tracked"}
    r = d.load_state_dict(sd)
    assert repr(r) == "<All keys matched successfully>"
    np.testing.assert_allclose(d.running_mean.numpy(), t.running_mean.numpy())
    assert d.num_batches_tracked.item() == 0


def test_setattr_registration_and_replacement():
    m = nn.Sequential(nn.Linear(4, 4))
    m.fc = nn.Linear(4, 2)
    assert "fc" in m._modules
    for p in m.parameters():
        p.requires_grad = False
    m.fc = nn.Linear(512, 10)
    trainable = [n for n, p in m.named_parameters() if p.requires_grad]
    assert trainable == ["fc.weight", "fc.bias"]
    m.w = nn.Parameter(dagrad.ones(2))
    assert "w" in m._parameters
    with pytest.raises(TypeError, match=r"cannot assign 'torch.FloatTensor' as parameter 'w' "
                                        r"\(torch.nn.Parameter or None expected\)"):
        m.w = dagrad.ones(2)
    m.w = None
    assert m.w is None and "w" in m._parameters
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'fc'"):
        m.fc = 3
    del m.fc
    assert not hasattr(m, "fc")
    with pytest.raises(AttributeError, match="'Sequential' object has no attribute 'nope'"):
        m.nope
    m.register_buffer("b", dagrad.zeros(1))
    m.b = dagrad.ones(1)
    assert "b" in m._buffers and m.b.item() == 1
    m.c = nn.Buffer(dagrad.zeros(2), persistent=False)
    assert "c" in m._buffers and "c" not in m.state_dict()
    with pytest.raises(KeyError):
        m.register_parameter("a.b", None)


def test_shared_parameters_once():
    for lib, n in ((torch, tnn), (dagrad, nn)):
        lin = n.Linear(2, 2)
        s = n.Sequential(lin, lin)
        assert len(list(s.parameters())) == 2
        assert len(list(s.named_parameters(remove_duplicate=False))) == 4
        assert [k for k, _ in s.named_parameters(prefix="m")] == ["m.0.weight", "m.0.bias"]
        assert len(list(s.parameters(recurse=False))) == 0
        assert list(s.state_dict().keys()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_sequential_ops():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    s = nn.Sequential(*layers)
    assert s[0] is layers[0] and s[-1] is layers[2]
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2 and sub[0] is layers[1]
    assert list(sub._modules.keys()) == ["1", "2"]
    s.append(nn.Tanh())
    assert len(s) == 4 and isinstance(s[3], nn.Tanh)
    del s[0]
    assert list(s._modules.keys()) == ["0", "1", "2"]
    with pytest.raises(IndexError, match="index 5 is out of range"):
        s[5]
    s2 = nn.Sequential(OrderedDict([("a", nn.Linear(2, 2)), ("b", nn.ReLU())]))
    assert s2.a is s2[0]
    assert repr(s2) == repr(tnn.Sequential(OrderedDict([("a", tnn.Linear(2, 2)),
                                                        ("b", tnn.ReLU())])))
    ml = nn.ModuleList([nn.ReLU()])
    ml.append(nn.Tanh())
    ml.extend([nn.Sigmoid()])
    ml.insert(0, nn.Identity())
    assert [type(m).__name__ for m in ml] == ["Identity", "ReLU", "Tanh", "Sigmoid"]
    md = nn.ModuleDict({"x": nn.ReLU()})
    md["y"] = nn.Tanh()
    assert list(md.keys()) == ["x", "y"] and "y" in md and len(md) == 2


def test_parameter_containers_repr_and_registration():
    tl = tnn.ParameterList([tnn.Parameter(torch.zeros(2, 3)), tnn.Parameter(torch.zeros(4))])
    dl = nn.ParameterList([nn.Parameter(dagrad.zeros(2, 3)), nn.Parameter(dagrad.zeros(4))])
    assert repr(dl) == repr(tl)
    assert [k for k, _ in dl.named_parameters()] == ["0", "1"]
    dl.append(dagrad.ones(1))
    assert isinstance(dl[2], nn.Parameter)
    td = tnn.ParameterDict({"a": tnn.Parameter(torch.zeros(2, 3))})
    dd = nn.ParameterDict({"a": nn.Parameter(dagrad.zeros(2, 3))})
    assert repr(dd) == repr(td)
    dd["b"] = dagrad.zeros(1)
    assert list(dd.keys()) == ["a", "b"] and isinstance(dd["b"], nn.Parameter)


def test_modulelist_repr_collapses_repeats():
    t = tnn.ModuleList([tnn.Linear(2, 2) for _ in range(3)] + [tnn.ReLU(), tnn.ReLU()])
    d = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU(), nn.ReLU()])
    assert repr(d) == repr(t)
    assert repr(nn.ModuleList()) == repr(tnn.ModuleList())


def test_parameter_basics():
    p = nn.Parameter(dagrad.tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf and isinstance(p, dagrad.Tensor)
    assert repr(p) == repr(tnn.Parameter(torch.tensor([1.0, 2.0])))
    q = nn.Parameter(dagrad.tensor([1.0]), requires_grad=False)
    assert not q.requires_grad
    assert repr(q) == repr(tnn.Parameter(torch.tensor([1.0]), requires_grad=False))
    y = p * 2
    assert type(y) is dagrad.Tensor
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        nn.Parameter(dagrad.tensor([1, 2]))


def test_train_eval_requires_grad_zero_grad_apply():
    m = nn.Sequential(nn.Linear(2, 2), nn.Dropout(), nn.BatchNorm1d(2))
    assert m.training and m[1].training
    m.eval()
    assert not m.training and not m[2].training
    m.train()
    assert m[2].training
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_(True)
    out = m(dagrad.randn(4, 2)).sum()
    out.backward()
    assert m[0].weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert float(m[0].weight.grad.abs().sum()) == 0.0
    m.zero_grad()
    assert m[0].weight.grad is None
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "Dropout", "BatchNorm1d", "Sequential"]
    assert m.get_submodule("2") is m[2]
    with pytest.raises(AttributeError, match="Sequential has no attribute `9`"):
        m.get_submodule("9")


def test_to_dtype_keeps_parameter_identity():
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    w = m[0].weight
    m.double()
    assert m[0].weight is w and w.dtype == dagrad.float64
    assert m[1].running_mean.dtype == dagrad.float64
    assert m[1].num_batches_tracked.dtype == dagrad.int64
    m.to(dagrad.float32)
    assert w.dtype == dagrad.float32
    m.half()
    assert w.dtype == dagrad.float16
    m.float()
    out = m(dagrad.randn(4, 2))
    assert out.dtype == dagrad.float32


def _hook_log(lib):
    n = lib.nn
    log = []
    torch_like = lib

    class Block(n.Module):
        def __init__(self):
            super().__init__()
            self.a = n.Linear(3, 3)
            self.b = n.Linear(3, 2)

        def forward(self, x):
            return self.b(self.a(x).relu())

    m = Block()
    for name, mod in [("a", m.a), ("b", m.b), ("top", m)]:
        mod.register_forward_pre_hook(lambda mod, args, name=name: log.append(f"pre {name}"))
        mod.register_forward_hook(lambda mod, args, out, name=name: log.append(f"fwd {name}"))
        mod.register_full_backward_pre_hook(
            lambda mod, go, name=name: log.append(f"bpre {name} {[tuple(g.shape) for g in go]}"))
        mod.register_full_backward_hook(
            lambda mod, gi, go, name=name: log.append(
                f"bwd {name} {[None if g is None else tuple(g.shape) for g in gi]} "
                f"{[tuple(g.shape) for g in go]}"))
    x = torch_like.randn(4, 3)
    x.requires_grad_(True)
    m(x).sum().backward()
    m.a.weight.grad = None
    # input without grad: grad_input is (None,)
    m(torch_like.randn(4, 3)).sum().backward()
    return log


def test_hooks_fire_in_torch_order():
    assert _hook_log(dagrad) == _hook_log(torch)


def test_hook_return_values_and_removal():
    m = nn.Linear(2, 2)
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: out + 1)
    out = m(dagrad.ones(1, 2))
    np.testing.assert_allclose(out.detach().numpy(), (m.bias + 1).detach().numpy()[None])
    h1.remove()
    h2.remove()
    assert not m._forward_hooks and not m._forward_pre_hooks
    x = dagrad.ones(1, 2, requires_grad=True)
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 3,))
    m(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * m.weight.sum(0).detach().numpy()[None],
                               rtol=1e-6)
    h = m.register_forward_hook(lambda mod, args, kwargs, out: out * 0, with_kwargs=True)
    assert float(m(dagrad.ones(1, 2)).abs().sum()) == 0
    h.remove()
    assert not m._forward_hooks_with_kwargs


def test_extra_repr_nested_custom_module():
    for lib, n in ((torch, tnn), (dagrad, nn)):
        class Inner(n.Module):
            def __init__(self):
                super().__init__()
                self.lin = n.Linear(2, 2)

            def extra_repr(self):
                return "custom=1\nsecond=2"

        class Outer(n.Module):
            def __init__(self):
                super().__init__()
                self.inner = Inner()
                self.seq = n.Sequential(Inner(), n.ReLU())
        if lib is torch:
            expect = repr(Outer())
        else:
            got = repr(Outer())
    assert got == expect


def _hook_log2(lib):
    n = lib.nn
    log = []
    m = n.Bilinear(2, 3, 4)
    m.weight.data = lib.linspace(-0.5, 1, 24).reshape(4, 2, 3)
    m.bias.data = lib.linspace(0, 1, 4)
    m.register_forward_pre_hook(lambda mod, args: log.append("pre A"))
    m.register_forward_pre_hook(lambda mod, args: log.append("pre B"), prepend=True)
    m.register_forward_hook(lambda mod, args, out: log.append("fwd A"))
    m.register_forward_hook(lambda mod, args, out: log.append("fwd B"), prepend=True)
    m.register_forward_pre_hook(
        lambda mod, args, kwargs: log.append(f"prekw {sorted(kwargs)}"), with_kwargs=True)

    def bw(mod, gi, go):
        log.append(f"bwd {[None if g is None else tuple(g.shape) for g in gi]}")
        return (None if gi[0] is None else gi[0] * 2, gi[1])
    m.register_full_backward_hook(bw)
    a = lib.ones(5, 2)
    b = lib.ones(5, 3)
    b.requires_grad_(True)
    out = m(a, b)
    out.sum().backward()
    log.append(f"b.grad {round(float(b.grad.sum()), 4)}")
    a.requires_grad_(True)
    b.grad = None
    m(a, b).sum().backward()
    log.append(f"a.grad {round(float(a.grad.sum()), 4)} b.grad {round(float(b.grad.sum()), 4)}")
    return log


def test_hooks_prepend_kwargs_and_partial_inputs_match_torch():
    assert _hook_log2(dagrad) == _hook_log2(torch)


def test_global_forward_hooks():
    log = []
    h1 = nn.modules.module.register_module_forward_pre_hook(
        lambda m, a: log.append(("pre", type(m).__name__)))
    h2 = nn.register_module_forward_hook(lambda m, a, o: log.append(("fwd", type(m).__name__)))
    try:
        nn.Sequential(nn.ReLU())(dagrad.ones(2))
    finally:
        h1.remove()
        h2.remove()
    assert log == [("pre", "Sequential"), ("pre", "ReLU"), ("fwd", "ReLU"), ("fwd", "Sequential")]
    nn.ReLU()(dagrad.ones(1))
    assert len(log) == 4


def test_get_set_submodule_parameter_buffer_and_assign_load():
    for lib, n in ((torch, tnn), (dagrad, nn)):
        m = n.Sequential(OrderedDict([("block", n.Sequential(n.Linear(2, 3), n.BatchNorm1d(3))),
                                      ("head", n.Linear(3, 1))]))
        assert m.get_parameter("block.0.weight") is m.block[0].weight
        assert m.get_buffer("block.1.running_mean") is m.block[1].running_mean
        with pytest.raises(AttributeError) as e:
            m.get_parameter("block.1.running_mean")
        msgs = getattr(test_get_set_submodule_parameter_buffer_and_assign_load, "msgs", [])
        msgs.append(str(e.value))
        test_get_set_submodule_parameter_buffer_and_assign_load.msgs = msgs
        m.set_submodule("head", n.Linear(3, 2))
        assert m.head.out_features == 2
    a, b = test_get_set_submodule_parameter_buffer_and_assign_load.msgs[-2:]
    assert a == b
    src = nn.Linear(2, 3)
    dst = nn.Linear(2, 3)
    w_before = dst.weight
    dst.load_state_dict(src.state_dict(), assign=True)
    assert dst.weight is not w_before and isinstance(dst.weight, nn.Parameter)
    assert dst.weight.requires_grad
    np.testing.assert_array_equal(dst.weight.detach().numpy(), src.weight.detach().numpy())
    dst2 = nn.Linear(2, 3)
    w2 = dst2.weight
    dst2.load_state_dict(src.state_dict())
    assert dst2.weight is w2  # copied in place


def test_state_dict_and_load_hooks():
    m = nn.Linear(2, 2)
    seen = []
    m.register_state_dict_pre_hook(lambda mod, prefix, keep_vars: seen.append(("pre", prefix)))
    m.register_state_dict_post_hook(
        lambda mod, sd, prefix, meta: seen.append(("post", sorted(sd))))
    m.state_dict()
    assert seen == [("pre", ""), ("post", ["bias", "weight"])]
    loaded = []
    m.register_load_state_dict_post_hook(
        lambda mod, keys: loaded.append((list(keys.missing_keys), list(keys.unexpected_keys))))
    m.load_state_dict({"weight": dagrad.zeros(2, 2)}, strict=False)
    assert loaded == [(["bias"], [])]
    assert float(m.weight.abs().sum()) == 0


def test_non_persistent_buffer_and_buffer_none():
    for lib, n in ((torch, tnn), (dagrad, nn)):
        m = n.Module()
        m.register_buffer("a", lib.ones(2))
        m.register_buffer("b", lib.ones(2), persistent=False)
        m.register_buffer("c", None)
        assert list(m.state_dict()) == ["a"]
        assert [k for k, _ in m.named_buffers()] == ["a", "b"]


def test_forward_hook_always_call_runs_on_error():
    for lib, n in ((torch, tnn), (dagrad, nn)):
        calls = []
        m = n.Linear(2, 2)
        m.register_forward_hook(lambda mod, args, out: calls.append(out is None),
                                always_call=True)
        m.register_forward_hook(lambda mod, args, out: calls.append("plain"))
        with pytest.raises(RuntimeError):
            m(lib.ones(3, 5))
        assert calls == [True]
        m(lib.ones(3, 2))
        assert calls == [True, False, "plain"]
