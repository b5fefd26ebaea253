"""Tensor attributes and methods of the Core issue, each compared with torch 2.13."""
import copy
import pickle

import numpy as np
import pytest
import torch

import dagrad


def both(data, dtype=None, **kw):
    a = np.asarray(data) if dtype is None else np.asarray(data, dtype=dtype)
    return dagrad.from_numpy(a.copy()), torch.from_numpy(a.copy())


def same_err(fd, ft):
    with pytest.raises(Exception) as et:
        ft()
    with pytest.raises(Exception) as ed:
        fd()
    assert isinstance(ed.value, type(et.value)), (type(ed.value), type(et.value))
    assert str(ed.value) == str(et.value), f"\ndagrad: {ed.value}\ntorch:  {et.value}"


def eq(d, t):
    assert isinstance(d, dagrad.Tensor)
    assert tuple(d.shape) == tuple(t.shape) and str(d.dtype) == str(t.dtype), (d, t)
    np.testing.assert_array_equal(d.detach().numpy(), t.detach().numpy())


DATA = [np.arange(6.0, dtype=np.float32).reshape(2, 3), np.array(3.5), np.array([1, 2, 3]),
        np.zeros((0, 2), np.float32), np.array([True, False]), np.ones((2, 1, 3), np.int32)]


@pytest.mark.parametrize("k", range(len(DATA)))
def test_basic_attributes(k):
    d, t = both(DATA[k])
    assert d.shape == t.shape and type(d.shape).__name__ == "Size"
    assert d.size() == t.size() and d.dim() == t.dim() and d.ndim == t.ndim
    assert d.numel() == t.numel() and d.nelement() == t.nelement()
    assert str(d.dtype) == str(t.dtype)
    assert str(d.device) == str(t.device) and d.is_cuda == t.is_cuda
    assert d.tolist() == t.tolist()
    assert d.is_floating_point() == t.is_floating_point()
    assert d.element_size() == t.element_size()
    assert d.is_contiguous() == t.is_contiguous()
    if d.dim():
        assert d.size(0) == t.size(0) and d.size(-1) == t.size(-1)
        assert d.stride() == t.stride()
        assert len(d) == len(t)
    else:
        same_err(lambda: len(d), lambda: len(t))


def test_item_rules():
    for data in [np.array(2.5, np.float32), np.array([7]), np.array([[True]]), np.array(3.0)]:
        d, t = both(data)
        assert d.item() == t.item() and type(d.item()) is type(t.item())
    d, t = both([1.0, 2.0])
    same_err(lambda: d.item(), lambda: t.item())


def test_numpy_conversion_and_errors():
    d = dagrad.ones(2, requires_grad=True)
    t = torch.ones(2, requires_grad=True)
    same_err(lambda: d.numpy(), lambda: t.numpy())
    x = dagrad.ones(3)
    a = x.numpy()
    a[0] = 5
    assert x[0].item() == 5.0  # shares memory, as torch
    assert np.asarray(dagrad.tensor([1.0, 2.0])).tolist() == [1.0, 2.0]
    assert np.array(dagrad.tensor([1, 2])).dtype == np.int64


def test_detach_clone_and_inplace_detach():
    d, t = both([1.0, 2.0], np.float32)
    d.requires_grad_(), t.requires_grad_()
    dc, tc = d.clone(), t.clone()
    assert dc.grad_fn.name() == tc.grad_fn.name()
    dd = d.detach()
    dd[0] = 9.0
    assert d[0].item() == 9.0
    cl = d.detach().clone()
    cl[1] = 7
    assert d[1].item() == 2.0
    y = d * 2
    y.detach_()
    assert y.grad_fn is None and not y.requires_grad and y.is_leaf


@pytest.mark.parametrize("name", ["float", "double", "half", "long", "int", "bool", "short",
                                  "byte", "char"])
def test_cast_methods(name):
    d, t = both([1.7, -2.2, 0.0], np.float32)
    eq(getattr(d, name)(), getattr(t, name)())


@pytest.mark.parametrize("spec", ["float64", "int32", "bool", "float16", "uint8"])
def test_to_dtype(spec):
    d, t = both([1.7, -2.2, 0.0], np.float32)
    eq(d.to(getattr(dagrad, spec)), t.to(getattr(torch, spec)))
    eq(d.to(dtype=getattr(dagrad, spec)), t.to(dtype=getattr(torch, spec)))
    eq(d.type(getattr(dagrad, spec)), t.type(getattr(torch, spec)))


def test_to_same_dtype_returns_self_and_copy():
    d = dagrad.ones(2)
    assert d.to(dagrad.float32) is d
    assert d.to("cpu") is d
    assert d.to(dagrad.float32, copy=True) is not d
    t = torch.ones(2)
    assert (t.to(torch.float32) is t) and (t.to(torch.float32, copy=True) is not t)


def test_to_grad_fn():
    d, t = both([1.0, 2.0], np.float32)
    d.requires_grad_(), t.requires_grad_()
    assert d.double().grad_fn.name() == t.double().grad_fn.name()
    (d.double() * 2).sum().backward()
    (t.double() * 2).sum().backward()
    eq(d.grad, t.grad)


def test_T_mT_contiguous():
    d, t = both(np.arange(6.0).reshape(2, 3))
    eq(d.T, t.T)
    eq(d.mT, t.mT)
    assert d.T.is_contiguous() == t.T.is_contiguous()
    c = d.T.contiguous()
    assert c.is_contiguous() and c.stride() == t.T.contiguous().stride()
    assert d.contiguous() is d
    d3, t3 = both(np.arange(24.0).reshape(2, 3, 4))
    eq(d3.mT, t3.mT)


def test_iter():
    d, t = both(np.arange(6).reshape(3, 2))
    for a, b in zip(d, t):
        eq(a, b)
    assert len(list(d)) == 3
    s0d, s0t = both(np.array(1.0))
    same_err(lambda: list(s0d), lambda: list(s0t))


def test_bool_float_int_index_rules():
    for data in [np.array([1.5]), np.array(0.0), np.array([[2]]), np.array(True)]:
        d, t = both(data)
        assert bool(d) == bool(t)
        assert float(d) == float(t)
        assert int(d) == int(t)
    d, t = both([1.0, 2.0])
    same_err(lambda: bool(d), lambda: bool(t))
    same_err(lambda: float(d), lambda: float(t))
    same_err(lambda: int(d), lambda: int(t))
    di, ti = both(np.array(3))
    assert [10, 20, 30, 40][di] == [10, 20, 30, 40][ti]
    assert range(10)[di.__index__()] == 3
    df, tf = both(np.array(3.0))
    same_err(lambda: [1, 2, 3, 4][df], lambda: [1, 2, 3, 4][tf])
    dv, tv = both(np.array([3]))
    assert [1, 2, 3, 4][dv] == [1, 2, 3, 4][tv]


def test_array_protocol():
    d = dagrad.tensor([[1.0, 2.0]])
    a = np.asarray(d)
    assert a.shape == (1, 2) and a.dtype == np.float32
    assert np.array(d, dtype=np.float64).dtype == np.float64
    r = np.add(np.ones(2), np.asarray(dagrad.ones(2)))
    assert r.tolist() == [2.0, 2.0]


def test_hash_is_identity():
    a, b = dagrad.ones(2), dagrad.ones(2)
    assert hash(a) == id(a) and hash(a) != hash(b)
    s = {a, b, a}
    assert len(s) == 2
    d = {a: 1}
    assert d[a] == 1 and b not in d


def test_requires_grad_and_is_leaf():
    d = dagrad.ones(2)
    assert not d.requires_grad and d.is_leaf
    assert d.requires_grad_() is d and d.requires_grad and d.is_leaf
    y = d * 2
    assert y.requires_grad and not y.is_leaf
    d.requires_grad_(False)
    assert not d.requires_grad
    z = dagrad.ones(2).requires_grad_()
    same_err(lambda: setattr(z * 2, "requires_grad", False),
             lambda: setattr(torch.ones(2, requires_grad=True) * 2, "requires_grad", False))


def test_data_assignable():
    for m in (dagrad, torch):
        x = m.ones(2, requires_grad=True)
        x.data = m.zeros(3)
        assert x.shape == (3,) and x.requires_grad and x.is_leaf
        d = x.data
        assert not d.requires_grad
        d[0] = 5
        assert x[0].item() == 5.0
        y = m.ones(2, requires_grad=True) * 2
        y.data.mul_(3)
        assert y.tolist() == [6.0, 6.0]


def test_copy_and_pickle():
    d = dagrad.tensor([1.0, 2.0])
    c = copy.deepcopy(d)
    c[0] = 7
    assert d[0].item() == 1.0
    p = pickle.loads(pickle.dumps(d))
    assert p.tolist() == [1.0, 2.0] and p.dtype == dagrad.float32
    leaf = dagrad.ones(2, requires_grad=True)
    c2 = copy.deepcopy(leaf)
    assert c2.requires_grad and c2.is_leaf


def test_new_methods_dtype():
    d, t = both([1, 2], np.int32)
    for name, args in [("new_zeros", (2, 3)), ("new_ones", (2,)), ("new_full", ((2,), 5)),
                       ("new_empty", (0,)), ("new_tensor", ([1.5, 2.5],))]:
        rd, rt = getattr(d, name)(*args), getattr(t, name)(*args)
        assert tuple(rd.shape) == tuple(rt.shape) and str(rd.dtype) == str(rt.dtype), name


def test_size_object():
    d, t = both(np.zeros((2, 3, 4)))
    assert d.size() == (2, 3, 4) and d.shape[1:] == t.shape[1:]
    assert repr(d.shape[1:]) == repr(t.shape[1:])
    assert d.shape.numel() == t.shape.numel()
    same_err(lambda: d.size(3), lambda: t.size(3))


def test_inplace_methods_return_self_and_bump_version():
    d = dagrad.ones(3)
    v = d._version
    assert d.add_(1) is d and d.mul_(2) is d and d.zero_() is d and d.fill_(3) is d
    assert d._version == v + 4
    assert d.tolist() == [3.0, 3.0, 3.0]


def test_inplace_dtype_error():
    same_err(lambda: dagrad.ones(2, dtype=dagrad.int64).add_(1.5),
             lambda: torch.ones(2, dtype=torch.int64).add_(1.5))
    same_err(lambda: dagrad.ones(2).add_(dagrad.ones(3, 2)),
             lambda: torch.ones(2).add_(torch.ones(3, 2)))


def test_views_share_storage():
    for m in (dagrad, torch):
        x = m.arange(6.0)
        v = x.view(2, 3)
        v[0, 0] = 10
        x.reshape(3, 2)[2, 1] = 20
        x[1:3].mul_(0)
        x.T
        assert x.tolist() == [10.0, 0.0, 0.0, 3.0, 4.0, 20.0], m
        assert v._base is x if m is torch else True


def test_is_tensor_and_isinstance():
    assert dagrad.is_tensor(dagrad.ones(1)) and not dagrad.is_tensor(np.ones(1))
    assert isinstance(dagrad.ones(1) * 2, dagrad.Tensor)


def test_clone_preserves_strides_like_torch():
    cases = [lambda m: m.ones(2, 3).t(), lambda m: m.ones(2, 3)[:, ::2],
             lambda m: m.ones(3, 1).expand(3, 4), lambda m: m.ones(2, 3, 4).permute(2, 0, 1),
             lambda m: m.ones(2, 3)]
    for f in cases:
        assert f(dagrad).clone().stride() == f(torch).clone().stride()
        assert f(dagrad).contiguous().stride() == f(torch).contiguous().stride()


def test_T_deprecation_warnings_once_like_torch():
    import subprocess
    import sys
    code = ("import warnings, {m}\n"
            "warnings.simplefilter('always')\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    for s in [(), (3,), (2, 3), (2, 3, 4), (), (5,)]:\n"
            "        {m}.ones(s).T\n"
            "print([str(x.message) for x in w])\n")
    outs = [subprocess.run([sys.executable, "-c", code.format(m=m)], capture_output=True,
                           text=True).stdout for m in ("torch", "dagrad")]
    assert outs[0] and outs[1] == outs[0]
