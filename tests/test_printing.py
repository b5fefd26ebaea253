"""repr/str of tensors must equal torch 2.13's exactly (same data built in both libraries)."""
import re

import numpy as np
import pytest
import torch

import dagrad

_ADDR = re.compile(r" at 0x[0-9a-f]+")


def _clean(s):
    return _ADDR.sub("", s)


def _build(data, dtype=None):
    arr = np.asarray(data) if dtype is None else np.asarray(data, dtype=dtype)
    return dagrad.from_numpy(arr.copy()), torch.from_numpy(arr.copy())


def _check(d, t):
    assert _clean(repr(d)) == _clean(repr(t)), f"\ndagrad:\n{d!r}\ntorch:\n{t!r}"
    assert _clean(str(d)) == _clean(str(t))


rng = np.random.default_rng(0)

CASES = {
    "int_vec": [1, 2, 3],
    "int_neg": [-10, 200, 3],
    "int_big": [123456789012, -5],
    "int_matrix": np.arange(12).reshape(3, 4),
    "float_vec": np.array([1.5, -2.25, 3.0], np.float32),
    "float_intvalued": np.array([1.0, 2.0, -3.0], np.float32),
    "float_intvalued_big": np.array([1.0, 2e8, -3.0], np.float32),
    "float_sci_small": np.array([1e-5, 2.0, 3.0], np.float32),
    "float_sci_large": np.array([1e10, 1.0], np.float32),
    "float_sci_ratio": np.array([1e-3, 1e3], np.float32),
    "float_tiny": np.array([1e-10, 2e-12], np.float32),
    "float_nan_inf": np.array([np.nan, np.inf, -np.inf, 1.5], np.float32),
    "float_only_nan": np.array([np.nan, np.nan], np.float32),
    "float_only_inf": np.array([np.inf, -np.inf], np.float32),
    "float_zeros": np.zeros(3, np.float32),
    "float_negzero": np.array([-0.0, 0.0, 1.0], np.float32),
    "float_many_digits": np.array([0.123456789, 12345.6789], np.float32),
    "float64_vec": np.array([1.5, -2.25, 3.0]),
    "float64_intvalued": np.array([1.0, 2.0]),
    "float16": np.array([1.5, 2.0, -0.33], np.float16),
    "bool_vec": np.array([True, False, True]),
    "uint8": np.array([1, 255], np.uint8),
    "int8": np.array([1, -128], np.int8),
    "int32": np.array([1, 2], np.int32),
    "int16": np.array([1, 2], np.int16),
    "scalar_float": np.array(3.5, np.float32),
    "scalar_int": np.array(7),
    "scalar_bool": np.array(True),
    "scalar_float64": np.array(2.0),
    "scalar_nan": np.array(np.nan, np.float32),
    "scalar_int32": np.array(7, np.int32),
    "empty_float": np.zeros((0,), np.float32),
    "empty_int": np.zeros((0,), np.int64),
    "empty_2d": np.zeros((2, 0), np.float32),
    "empty_3d": np.zeros((0, 3, 2)),
    "empty_int32": np.zeros((0, 4), np.int32),
    "empty_bool": np.zeros((0,), bool),
    "matrix_float": rng.standard_normal((3, 4)).astype(np.float32),
    "matrix_3d": rng.standard_normal((2, 3, 4)).astype(np.float32),
    "matrix_4d": rng.standard_normal((2, 1, 2, 3)).astype(np.float32),
    "wide_row_wrap": rng.standard_normal(30).astype(np.float32),
    "wide_matrix_wrap": rng.standard_normal((3, 20)).astype(np.float32),
    "wide_int_wrap": np.arange(40) * 1000,
    "wide_3d_wrap": rng.standard_normal((2, 2, 15)).astype(np.float32),
    "summarize_1d": np.arange(2000, dtype=np.float32),
    "summarize_2d": np.arange(1200).reshape(40, 30),
    "summarize_3d": rng.standard_normal((12, 10, 10)).astype(np.float32),
    "summarize_bool": np.arange(1500) % 3 == 0,
    "threshold_edge": np.arange(1000, dtype=np.float32),
    "threshold_edge_plus": np.arange(1001, dtype=np.float32),
    "mixed_scale": np.array([1e-8, 1.0, 1e8], np.float32),
    "small_mixed": np.array([0.001, 0.01, 0.1], np.float32),
    "large_ints_as_float": np.array([123456.0, 7.0], np.float32),
    "float64_sci": np.array([1e-20, 1.0]),
    "float64_precision": np.array([1 / 3, 2 / 3]),
    "neg_float": np.array([-1.5, -0.25], np.float32),
    "int_matrix_neg": np.array([[1, -20], [300, 4]]),
    "complex": np.array([1 + 2j, -0.5 - 1j], np.complex64),
}


@pytest.mark.parametrize("name", list(CASES), ids=list(CASES))
def test_repr_matches_torch(name):
    d, t = _build(CASES[name])
    _check(d, t)


@pytest.mark.parametrize("name", ["float_vec", "matrix_float", "scalar_float", "empty_2d",
                                  "float64_vec", "float_sci_small", "float_nan_inf"])
def test_repr_requires_grad(name):
    d, t = _build(CASES[name])
    d.requires_grad_()
    t.requires_grad_()
    _check(d, t)
    _check(d * 2, t * 2)
    _check(d.sum(), t.sum())
    _check((d * 2).detach(), (t * 2).detach())


def test_repr_grad_fn_suffixes():
    x = np.array([1.0, -2.0, 3.0], np.float32)
    d = dagrad.from_numpy(x.copy()).requires_grad_()
    t = torch.from_numpy(x.copy()).requires_grad_()
    for f in [lambda z: z + 1, lambda z: z.exp(), lambda z: z[1:], lambda z: z.view(3, 1),
              lambda z: z.max(0), lambda z: z.sort(), lambda z: z.relu(), lambda z: z.double(),
              lambda z: z.long(), lambda z: z > 0, lambda z: z.split(2)]:
        _check(f(d), f(t))


def test_repr_float64_and_dtype_suffix_rules():
    for dt in [np.float64, np.float16, np.int32, np.int8, np.uint8, np.int16, np.bool_,
               np.complex128]:
        for data in [[1, 2], [], 5]:
            arr = np.asarray(data, dtype=dt)
            _check(dagrad.from_numpy(arr.copy()), torch.from_numpy(arr.copy()))


def test_default_dtype_changes_suffix():
    old_d, old_t = dagrad.get_default_dtype(), torch.get_default_dtype()
    try:
        dagrad.set_default_dtype(dagrad.float64)
        torch.set_default_dtype(torch.float64)
        _check(dagrad.tensor([1.5, 2.0]), torch.tensor([1.5, 2.0]))
        _check(dagrad.tensor([1.5, 2.0], dtype=dagrad.float32),
               torch.tensor([1.5, 2.0], dtype=torch.float32))
    finally:
        dagrad.set_default_dtype(old_d)
        torch.set_default_dtype(old_t)


@pytest.mark.parametrize("opts", [dict(precision=2), dict(precision=8), dict(threshold=5),
                                  dict(edgeitems=1, threshold=5), dict(linewidth=40),
                                  dict(sci_mode=True), dict(sci_mode=False),
                                  dict(profile="short"), dict(profile="full")])
def test_set_printoptions(opts):
    try:
        dagrad.set_printoptions(**opts)
        torch.set_printoptions(**opts)
        for name in ["float_vec", "matrix_float", "float_sci_small", "wide_row_wrap",
                     "int_matrix", "summarize_2d", "float_many_digits", "mixed_scale",
                     "float_intvalued", "float_intvalued_big", "float_zeros", "float_nan_inf",
                     "scalar_float", "float64_vec", "summarize_3d", "complex"]:
            d, t = _build(CASES[name])
            _check(d, t)
    finally:
        dagrad.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
        dagrad.set_printoptions(sci_mode=None)
        torch.set_printoptions(sci_mode=None)


def test_get_printoptions_default():
    assert dagrad.get_printoptions() == torch._tensor_str.get_printoptions()
    try:
        dagrad.set_printoptions(precision=2, sci_mode=True)
        torch.set_printoptions(precision=2, sci_mode=True)
        assert dagrad.get_printoptions() == torch._tensor_str.get_printoptions()
    finally:
        dagrad.set_printoptions(profile="default", sci_mode=None)
        torch.set_printoptions(profile="default", sci_mode=None)


def test_repr_size_and_dtype_objects():
    assert repr(dagrad.ones(2, 3).shape) == repr(torch.ones(2, 3).shape)
    assert repr(dagrad.Size([])) == repr(torch.Size([]))
    for name in ["float32", "float64", "int64", "bool", "uint8", "float16", "complex64"]:
        assert repr(getattr(dagrad, name)) == repr(getattr(torch, name))
        assert str(getattr(dagrad, name)) == str(getattr(torch, name))
    assert repr(dagrad.device("cpu")) == repr(torch.device("cpu"))
    assert str(dagrad.device("cpu")) == str(torch.device("cpu"))


def test_return_types_repr():
    x = np.array([[1.0, 5.0], [3.0, 2.0]], np.float32)
    d, t = dagrad.from_numpy(x.copy()), torch.from_numpy(x.copy())
    _check(d.max(1), t.max(1))
    _check(d.sort(1), t.sort(1))
    _check(d.topk(1), t.topk(1))


def test_nonfinite_with_requires_grad_and_views():
    x = np.array([[np.inf, 1.0], [2.0, np.nan]], np.float32)
    d, t = dagrad.from_numpy(x.copy()), torch.from_numpy(x.copy())
    _check(d.T, t.T)
    _check(d[:, 1], t[:, 1])


def _random_case(rng):
    nd = int(rng.integers(0, 5))
    shape = tuple(int(s) for s in rng.integers(0, 9 if nd > 2 else 40, nd))
    if np.prod(shape) > 5000:
        shape = shape[:2]
    kind = rng.choice(["f32", "f64", "f16", "i64", "i32", "u8", "b", "c64"])
    a = np.asarray(rng.standard_normal(shape) * 10.0 ** rng.integers(-12, 12))
    if rng.random() < 0.3:
        a = np.round(a)
    if rng.random() < 0.1 and a.size:
        a.flat[rng.integers(0, a.size)] = np.nan
    if rng.random() < 0.1 and a.size:
        a.flat[rng.integers(0, a.size)] = -np.inf
    if rng.random() < 0.1:
        a = np.abs(a)
    dt = {"f32": np.float32, "f64": np.float64, "f16": np.float16, "i64": np.int64,
          "i32": np.int32, "u8": np.uint8, "b": np.bool_, "c64": np.complex64}[kind]
    with np.errstate(all="ignore"):
        if kind in ("i64", "i32", "u8"):
            a = np.clip(np.nan_to_num(a, nan=0, posinf=0, neginf=0), -1e9, 1e9)
        arr = np.asarray(a).astype(dt)
        if kind == "c64":
            arr = np.asarray(a + 1j * (a[::-1] if a.ndim else a)).astype(dt)
    opts = {}
    if rng.random() < 0.25:
        opts = dict(precision=int(rng.integers(1, 8)), linewidth=int(rng.integers(30, 150)),
                    edgeitems=int(rng.integers(1, 5)), threshold=int(rng.integers(5, 2000)))
    return arr, opts


@pytest.mark.parametrize("seed", range(8))
def test_repr_random_fuzz(seed):
    """Random shapes, dtypes, scales, nan/inf and print options: repr equals torch's."""
    rng = np.random.default_rng(seed)
    for _ in range(25):
        arr, opts = _random_case(rng)
        try:
            dagrad.set_printoptions(**opts)
            torch.set_printoptions(**opts)
            _check(dagrad.from_numpy(arr.copy()), torch.from_numpy(arr.copy()))
        finally:
            dagrad.set_printoptions(profile="default")
            torch.set_printoptions(profile="default")
