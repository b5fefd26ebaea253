"""Constructor and functional signatures match torch 2.13 (names and order of parameters)."""
import inspect

import pytest
import torch.nn as tnn
import torch.nn.functional as TF

import dagrad.nn as nn
import dagrad.nn.functional as F

SKIP = {"Parameter", "UninitializedParameter", "UninitializedBuffer", "Buffer", "Module"}
MODULES = sorted(n for n in dir(nn) if isinstance(getattr(nn, n), type) and hasattr(tnn, n)
                 and n not in SKIP)


def _params(fn):
    try:
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]
    except (ValueError, TypeError):
        return None


@pytest.mark.parametrize("name", MODULES)
def test_module_constructor_signature(name):
    t = _params(getattr(tnn, name).__init__)
    d = _params(getattr(nn, name).__init__)
    if t is None:
        pytest.skip("torch signature not inspectable")
    assert [p[0] for p in d] == [p[0] for p in t]
    for (n1, _, d1), (_, _, d2) in zip(d, t):
        if d2 is not inspect.Parameter.empty and not callable(d2):
            assert d1 == d2 or (d1 != d1 and d2 != d2), (n1, d1, d2)


FUNCS = sorted(n for n in dir(F) if not n.startswith("_") and callable(getattr(F, n))
               and hasattr(TF, n) and _params(getattr(TF, n)) is not None
               and inspect.isfunction(getattr(TF, n)))


@pytest.mark.parametrize("name", FUNCS)
def test_functional_signature(name):
    t = _params(getattr(TF, name))
    d = _params(getattr(F, name))
    if [p[0] for p in t] in (["args", "kwargs"], ["input", "args", "kwargs"]):
        pytest.skip("torch signature is generic")
    if [p[0] for p in d] == ["args", "kwargs"]:
        pytest.skip("lazy re-export of a dagrad.ops kernel")
    assert [p[0] for p in d] == [p[0] for p in t]
