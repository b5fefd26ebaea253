"""Creation functions and dtype inference vs torch 2.13; RNG reproducibility."""
import numpy as np
import pytest
import torch

import dagrad


def eq(d, t, exact=True):
    assert isinstance(d, dagrad.Tensor), type(d)
    assert tuple(d.shape) == tuple(t.shape), (tuple(d.shape), tuple(t.shape))
    assert str(d.dtype) == str(t.dtype), (d.dtype, t.dtype)
    assert d.requires_grad == t.requires_grad
    if exact is None:  # uninitialised memory (empty): shape and dtype only
        return
    if exact:
        np.testing.assert_array_equal(d.numpy() if not d.requires_grad else d.detach().numpy(),
                                      t.detach().numpy())
    else:
        np.testing.assert_allclose(d.detach().numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-6)


def same_err(fn):
    with pytest.raises(Exception) as et:
        fn(torch)
    with pytest.raises(Exception) as ed:
        fn(dagrad)
    assert isinstance(ed.value, type(et.value)), (type(ed.value), type(et.value))
    assert str(ed.value) == str(et.value), f"\ndagrad: {ed.value}\ntorch:  {et.value}"


TENSOR_DATA = [1, 1.5, True, [1, 2], [1.0, 2], [True, False], [[1, 2], [3, 4]], [],
               [[]], [1, 2.5, True], [True, 2], np.float64(2.5), np.int32(3), 2 ** 40,
               [np.float32(1.5)], (1, 2), [[1.0], [2.0]], 1 + 2j, [1, 2j]]


@pytest.mark.parametrize("k", range(len(TENSOR_DATA)))
def test_tensor_dtype_inference(k):
    data = TENSOR_DATA[k]
    eq(dagrad.tensor(data), torch.tensor(data))


@pytest.mark.parametrize("dt", ["float64", "int32", "bool", "float16", "uint8", "int8"])
def test_tensor_explicit_dtype(dt):
    for data in [[1.7, -2.0, 0.0], [1, 0, 3], 2.0]:
        try:
            t = torch.tensor(data, dtype=getattr(torch, dt))
        except Exception:
            continue
        eq(dagrad.tensor(data, dtype=getattr(dagrad, dt)), t)


def test_tensor_from_numpy_arrays_and_tensors():
    for a in [np.arange(3, dtype=np.int32), np.ones((2, 2), np.float64), np.array(True)]:
        eq(dagrad.tensor(a), torch.tensor(a))
        eq(dagrad.as_tensor(a), torch.as_tensor(a))
    src_d, src_t = dagrad.ones(2), torch.ones(2)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eq(dagrad.tensor(src_d), torch.tensor(src_t))


def test_tensor_copy_warning_matches():
    import warnings
    msgs = []
    for m in (torch, dagrad):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m.tensor(m.ones(2))
        msgs.append([str(x.message) for x in w if x.category is UserWarning])
    assert msgs[0] == msgs[1]


def test_tensor_requires_grad_and_errors():
    eq(dagrad.tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True))
    same_err(lambda m: m.tensor([[1, 2], [3]]))
    same_err(lambda m: m.tensor("abc"))


def test_from_numpy_shares_memory_and_dtypes():
    a = np.arange(4.0)
    d = dagrad.from_numpy(a)
    a[0] = 9
    assert d[0].item() == 9.0
    d[1] = 7
    assert a[1] == 7
    assert d.dtype == dagrad.float64
    for dt in [np.float32, np.int64, np.int32, np.int16, np.int8, np.uint8, np.bool_, np.float16]:
        x = np.zeros(2, dt)
        assert str(dagrad.from_numpy(x).dtype) == str(torch.from_numpy(x).dtype)
    same_err(lambda m: m.from_numpy([1, 2]))


def test_as_tensor_shares_memory():
    a = np.arange(3.0)
    d = dagrad.as_tensor(a)
    a[0] = 5
    assert d[0].item() == 5.0
    x = dagrad.ones(2)
    assert dagrad.as_tensor(x) is x
    y = dagrad.as_tensor(a, dtype=dagrad.float32)
    a[1] = 8
    assert y[1].item() == 1.0  # a cast copies
    eq(dagrad.as_tensor([1, 2]), torch.as_tensor([1, 2]))


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
def test_filled_factories(name):
    for args, kw in [((2, 3), {}), (((2, 3),), {}), (([2, 3],), {}), ((), {}), ((0,), {}),
                     ((2,), {"dtype": "int64"}), ((2,), {"dtype": "bool"}),
                     ((3,), {"requires_grad": True}), ((dagrad.Size([2, 1]),), {})]:
        kwd = {k: (getattr(dagrad, v) if k == "dtype" else v) for k, v in kw.items()}
        kwt = {k: (getattr(torch, v) if k == "dtype" else v) for k, v in kw.items()}
        targs = tuple(torch.Size(a) if isinstance(a, dagrad.Size) else a for a in args)
        try:
            t = getattr(torch, name)(*targs, **kwt)
        except Exception as e:
            with pytest.raises(type(e)) as ed:
                getattr(dagrad, name)(*args, **kwd)
            assert str(ed.value) == str(e)
            continue
        d = getattr(dagrad, name)(*args, **kwd)
        eq(d, t, exact=None if name == "empty" else True)


def test_full_dtype_inference():
    for v in [1, 1.5, True, 2 ** 40]:
        eq(dagrad.full((2, 2), v), torch.full((2, 2), v))
    eq(dagrad.full((2,), 3, dtype=dagrad.float64), torch.full((2,), 3, dtype=torch.float64))
    eq(dagrad.full([], 2.0), torch.full([], 2.0))


def test_like_factories():
    for a in [np.ones((2, 3), np.int32), np.ones(2, np.float64), np.zeros((0,), np.float32)]:
        d, t = dagrad.from_numpy(a.copy()), torch.from_numpy(a.copy())
        eq(dagrad.zeros_like(d), torch.zeros_like(t))
        eq(dagrad.ones_like(d), torch.ones_like(t))
        eq(dagrad.full_like(d, 7), torch.full_like(t, 7))
        assert dagrad.empty_like(d).shape == d.shape and dagrad.empty_like(d).dtype == d.dtype
        eq(dagrad.zeros_like(d, dtype=dagrad.float16), torch.zeros_like(t, dtype=torch.float16))
        assert dagrad.rand_like(dagrad.ones(2, 3)).shape == (2, 3)
        assert dagrad.randn_like(dagrad.ones(2, 3, dtype=dagrad.float64)).dtype == dagrad.float64
    same_err(lambda m: m.rand_like(m.ones(2, dtype=m.int64)))


@pytest.mark.parametrize("args,kw", [((5,), {}), ((1, 4), {}), ((0, 10, 3), {}), ((1.0, 2.0, 0.25), {}),
                                     ((0, 1, 0.1), {}), ((5,), {"dtype": "float32"}),
                                     ((2.5,), {}), ((10, 0, -2), {}), ((0, 5, 1.5), {}),
                                     ((-1, 1, 0.3), {}), ((3,), {"dtype": "float64"}),
                                     ((0, 0.3, 0.1), {})])
def test_arange(args, kw):
    kwd = {k: getattr(dagrad, v) for k, v in kw.items()}
    kwt = {k: getattr(torch, v) for k, v in kw.items()}
    eq(dagrad.arange(*args, **kwd), torch.arange(*args, **kwt), exact=False)


def test_arange_errors():
    same_err(lambda m: m.arange(0, 5, 0))
    same_err(lambda m: m.arange(5, 0, 1))


@pytest.mark.parametrize("args", [(0, 1, 5), (-2, 3, 1), (0, 1, 0), (1, 10, 4), (0.5, 0.25, 3),
                                  (0, 100, 7)])
def test_linspace_logspace(args):
    eq(dagrad.linspace(*args), torch.linspace(*args), exact=False)
    eq(dagrad.linspace(*args, dtype=dagrad.float64), torch.linspace(*args, dtype=torch.float64),
       exact=False)
    eq(dagrad.logspace(*args), torch.logspace(*args), exact=False)


def test_eye():
    for args in [(3,), (2, 4), (4, 2), (0,)]:
        eq(dagrad.eye(*args), torch.eye(*args))
    eq(dagrad.eye(2, dtype=dagrad.int64), torch.eye(2, dtype=torch.int64))
    eq(dagrad.eye(2, dtype=dagrad.bool), torch.eye(2, dtype=torch.bool))


def test_random_shapes_and_dtypes():
    assert dagrad.rand(2, 3).shape == (2, 3) and dagrad.rand(2, 3).dtype == dagrad.float32
    assert dagrad.randn((4,)).shape == (4,) and dagrad.randn(()).shape == ()
    assert dagrad.rand(2, dtype=dagrad.float64).dtype == dagrad.float64
    r = dagrad.randint(0, 5, (1000,))
    assert r.dtype == dagrad.int64 and r.min().item() >= 0 and r.max().item() <= 4
    assert dagrad.randint(3, (2,)).max().item() < 3
    p = dagrad.randperm(10)
    assert sorted(p.tolist()) == list(range(10)) and p.dtype == dagrad.int64
    u = dagrad.rand(10000)
    assert 0 <= u.min().item() and u.max().item() < 1 and abs(u.mean().item() - 0.5) < 0.02
    n = dagrad.randn(10000, dtype=dagrad.float64)
    assert abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1) < 0.05
    assert dagrad.rand(2, requires_grad=True).requires_grad
    same_err(lambda m: m.randn(2, dtype=m.int64))


def test_normal_variants():
    m = dagrad.normal(2.0, 3.0, size=(20000,))
    assert abs(m.mean().item() - 2.0) < 0.1 and abs(m.std().item() - 3.0) < 0.1
    mt = dagrad.normal(dagrad.zeros(3), dagrad.ones(3))
    assert mt.shape == (3,)
    ms = dagrad.normal(dagrad.full((5000,), 10.0), 0.01)
    assert abs(ms.mean().item() - 10.0) < 0.01


def test_manual_seed_reproducibility():
    dagrad.manual_seed(123)
    a = (dagrad.rand(5), dagrad.randn(3), dagrad.randint(0, 100, (4,)), dagrad.randperm(6))
    dagrad.manual_seed(123)
    b = (dagrad.rand(5), dagrad.randn(3), dagrad.randint(0, 100, (4,)), dagrad.randperm(6))
    for x, y in zip(a, b):
        assert x.tolist() == y.tolist()
    dagrad.manual_seed(124)
    assert dagrad.rand(5).tolist() != a[0].tolist()
    assert dagrad.initial_seed() == 124


def test_generator_objects():
    g1 = dagrad.Generator().manual_seed(7)
    g2 = dagrad.Generator()
    g2.manual_seed(7)
    x = dagrad.rand(4, generator=g1)
    y = dagrad.rand(4, generator=g2)
    assert x.tolist() == y.tolist()
    dagrad.manual_seed(0)
    z = dagrad.rand(4)
    g3 = dagrad.Generator().manual_seed(7)
    dagrad.manual_seed(0)
    dagrad.rand(4, generator=g3)  # a separate stream: does not advance the default one
    assert dagrad.rand(4).tolist() == z.tolist()
    st = g1.get_state()
    a = dagrad.randn(3, generator=g1)
    g1.set_state(st)
    b = dagrad.randn(3, generator=g1)
    assert a.tolist() == b.tolist()
    assert g1.initial_seed() == 7


def test_rng_state_roundtrip():
    s = dagrad.get_rng_state()
    a = dagrad.rand(3)
    dagrad.set_rng_state(s)
    assert dagrad.rand(3).tolist() == a.tolist()


def test_scalar_tensor_and_misc():
    eq(dagrad.scalar_tensor(3), torch.scalar_tensor(3))
    eq(dagrad.scalar_tensor(3, dtype=dagrad.int64), torch.scalar_tensor(3, dtype=torch.int64))
    eq(dagrad.tril_indices(3, 3), torch.tril_indices(3, 3))
    eq(dagrad.triu_indices(3, 4, 1), torch.triu_indices(3, 4, 1))
    a, b = dagrad.meshgrid(dagrad.arange(3), dagrad.arange(2), indexing="ij")
    ta, tb = torch.meshgrid(torch.arange(3), torch.arange(2), indexing="ij")
    eq(a, ta)
    eq(b, tb)


def test_default_dtype():
    assert dagrad.get_default_dtype() == dagrad.float32
    try:
        dagrad.set_default_dtype(dagrad.float64)
        torch.set_default_dtype(torch.float64)
        for f in [lambda m: m.tensor([1.5]), lambda m: m.ones(2), lambda m: m.arange(0.0, 1.0, 0.5),
                  lambda m: m.linspace(0, 1, 3), lambda m: m.tensor([1, 2]),
                  lambda m: m.full((1,), 2.0), lambda m: m.tensor(1j)]:
            eq(f(dagrad), f(torch), exact=False)
        same_err(lambda m: m.set_default_dtype(m.int64))
    finally:
        dagrad.set_default_dtype(dagrad.float32)
        torch.set_default_dtype(torch.float32)


MORE = {
    "tensor_int_dtype_float_data": lambda m: m.tensor([1.7, -1.7], dtype=m.int64),
    "tensor_empty": lambda m: m.tensor([]),
    "tensor_empty2": lambda m: m.tensor([[], []]),
    "linspace_int": lambda m: m.linspace(0, 10, steps=5, dtype=m.int64),
    "arange_half": lambda m: m.arange(1, 2.5, 0.5),
    "arange_float_to_int": lambda m: m.arange(0.5, 4.5, dtype=m.int64),
    "full_like_trunc": lambda m: m.full_like(m.ones(2, dtype=m.int64), 2.5),
    "tensor_np_f32_scalar": lambda m: m.tensor(np.float32(1.5)),
    "tensor_list_np_f64_scalars": lambda m: m.tensor([np.float64(1.5), 2]),
    "tensor_list_np_f16_and_float": lambda m: m.tensor([np.float16(1.5), 2.5]),
    "tensor_list_np_i32_and_int": lambda m: m.tensor([np.int32(1), 2]),
    "tensor_list_of_0d": lambda m: m.tensor([m.tensor(1.5), m.tensor(2.0)]),
    "as_tensor_list_np": lambda m: m.as_tensor([np.array([1, 2]), np.array([3, 4])]),
    "tensor_list_np_f32_arrays": lambda m: m.tensor([np.ones(2, np.float32), np.zeros(2, np.float32)]),
    "tensor_bool_float_mix": lambda m: m.tensor([True, 2.5]),
    "tensor_range": lambda m: m.tensor(range(3)),
    "tensor_none": lambda m: m.tensor(None),
    "tensor_big_int": lambda m: m.tensor(2 ** 63),
    "tensor_dtype_str": lambda m: m.tensor([1], dtype="float32"),
    "tensor_ragged": lambda m: m.tensor([[1, 2], [3]]),
    "from_numpy_bigendian": lambda m: m.from_numpy(np.ones(2, dtype=">f4")),
    "eye_rect_int": lambda m: m.eye(2, 3, dtype=m.int32),
    "arange_neg_step": lambda m: m.arange(5, 0, -1.5),
    "linspace_steps0": lambda m: m.linspace(0, 1, 0),
    "logspace_base": lambda m: m.logspace(0, 2, 3, base=2),
    "scalar_tensor_bool": lambda m: m.scalar_tensor(True),
    "complex_fn": lambda m: m.complex(m.tensor([1.0]), m.tensor([2.0])),
}


@pytest.mark.parametrize("name", list(MORE))
def test_more_creation_cases_repr_or_error_match_torch(name):
    out = []
    for m in (torch, dagrad):
        try:
            out.append(repr(MORE[name](m)))
        except Exception as e:
            out.append(f"{type(e).__name__}: {e}")
    assert out[1] == out[0]
