"""Fake cupyx.scipy.special: erf / erfinv of fake CuPy arrays, computed with NumPy."""
import math

import cupy as _cp
import numpy as _np


def _need(a):
    if type(a) is not _cp.ndarray:
        raise TypeError(f"Unsupported type {type(a)}")
    return a._a


def erf(a):
    x = _need(a)
    return _cp.ndarray(_np.frompyfunc(math.erf, 1, 1)(x).astype(x.dtype))


def erfinv(a):
    x = _need(a).astype(_np.float64)
    w = _np.log((1.0 - x) * (1.0 + x))
    y = _np.sign(x) * _np.sqrt(_np.sqrt((2 / (_np.pi * 0.147) + w / 2) ** 2 - w / 0.147)
                               - (2 / (_np.pi * 0.147) + w / 2))
    f = _np.frompyfunc(math.erf, 1, 1)
    for _ in range(4):
        y = y - (f(y).astype(_np.float64) - x) / (2 / _np.sqrt(_np.pi) * _np.exp(-y * y))
    return _cp.ndarray(y.astype(a.dtype))
