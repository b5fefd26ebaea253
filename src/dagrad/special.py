"""torch.special on NumPy: error functions, logistic, entropy, normal CDF and its inverse,
log-gamma / digamma / polygamma, modified Bessel i0/i1 (plain and scaled), with gradients.

Log-gamma is Lanczos (g=7, 9 terms), digamma and polygamma are the asymptotic series after the
recurrence shifts the argument past 10, Bessel I0/I1 are power series (|x| <= 30) and the
asymptotic expansion beyond; all vectorised, float64 inside, results in the input's float dtype.
"""
import math

from . import _dtype as D
from .backend import get_array_module as _gam
from .ops import derivatives as R
from .ops._core import Tensor, _make, grad_state, np
from .ops._core import arr as _arr
from .ops.elementwise import _out, erf, erfc, erfinv, exp2, expm1, log1p, logit, round, sigmoid  # noqa: F401
from .ops.extra import _node, sinc, xlog1py, xlogy  # noqa: F401
from .ops.reduce import log_softmax as _log_softmax
from .ops.reduce import logsumexp  # noqa: F401
from .ops.reduce import softmax as _softmax

__all__ = ["erf", "erfc", "erfcx", "erfinv", "expit", "logit", "xlogy", "xlog1py", "entr",
           "ndtr", "ndtri", "log_ndtr", "i0", "i0e", "i1", "i1e", "gammaln", "digamma", "psi",
           "polygamma", "multigammaln", "sinc", "log_softmax", "softmax", "logsumexp", "exp2",
           "expm1", "log1p", "round", "zeta"]

_SQRT2 = math.sqrt(2.0)


def _rec(x):
    return grad_state.enabled and isinstance(x, Tensor) and x._rg


def _fl(x):
    """x as a Tensor and its data as a float array (integral -> default float, like PyTorch)."""
    if not isinstance(x, Tensor):
        from .creation import tensor
        x = tensor(x)
    a = x._data
    dt = a.dtype if a.dtype.kind in "fV" else np.dtype(D.default.np)
    return x, a.astype(np.float64), dt


def _no_half(x, name):
    if isinstance(x, Tensor) and x._data.dtype == np.float16:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Half'")


def expit(x, *, out=None):
    return sigmoid(x, out=out)


def softmax(input, dim, *, dtype=None):  # noqa: A002
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):  # noqa: A002
    return _log_softmax(input, dim, dtype=dtype)


# ---------------------------------------------------------------- entropy, normal distribution
def entr(x, *, out=None):
    x, a, dt = _fl(x)
    with np.errstate(all="ignore"):
        r = np.where(a > 0, -a * np.log(np.where(a > 0, a, 1)), np.where(a == 0, 0.0, -np.inf))
    r = np.where(np.isnan(a), np.nan, r)
    res = _make(_arr(r, dtype=dt))
    if _rec(x):
        _node("SpecialEntrBackward0", lambda n, g: g * -(n.saved()[0].log() + 1), (x,), res,
              saved=(x,))
    return _out(res, out)


def _erf64(a):
    from .ops.elementwise import _erf_np
    return _erf_np(a)


def ndtr(x, *, out=None):
    x, a, dt = _fl(x)
    res = _make(_arr(0.5 * (1.0 + _erf64(a / _SQRT2)), dtype=dt))
    if _rec(x):
        def rule(n, g):
            (v,) = n.saved()
            return g * (v * v * -0.5).exp() * (1.0 / math.sqrt(2 * math.pi))
        _node("MulBackward1", rule, (x,), res, saved=(x,))
    return _out(res, out)


def ndtri(x, *, out=None):
    _no_half(x, "ndtri")
    x, a, dt = _fl(x)
    from .ops.elementwise import _erfinv_np
    with np.errstate(all="ignore"):
        r = _SQRT2 * _erfinv_np(2.0 * a - 1.0)
    res = _make(_arr(r, dtype=dt))
    if _rec(x):
        def rule(n, g):
            r_ = n.result()
            return g * math.sqrt(2 * math.pi) * (r_ * r_ * 0.5).exp()
        _node("SpecialNdtriBackward0", rule, (x,), res, result=True)
    return _out(res, out)


def _log_ndtr_np(a):
    with np.errstate(all="ignore"):
        tp = np.maximum(a, 0.0) / _SQRT2
        big = np.log1p(-0.5 * np.exp(-tp * tp) * _erfcx64(tp))
        # left tail: log(erfc(-x/sqrt2)/2) through the scaled complementary error function
        t = -a / _SQRT2
        small = -t * t + np.log(_erfcx64(t) / 2.0)
        mid = np.log(0.5 * (1.0 + _erf64(a / _SQRT2)))
    return np.where(a < -1.0, small, np.where(a <= 0, mid, big))


def log_ndtr(x, *, out=None):
    _no_half(x, "log_ndtr")
    x, a, dt = _fl(x)
    res = _make(_arr(_log_ndtr_np(a), dtype=dt))
    if _rec(x):
        def rule(n, g):
            (v,) = n.saved()
            r_ = n.result()
            return g * ((v * v * -0.5) - r_).exp() * (1.0 / math.sqrt(2 * math.pi))
        _node("SpecialLogNdtrBackward0", rule, (x,), res, saved=(x,), result=True)
    return _out(res, out)


def _erfcx64(a):
    """exp(x^2) erfc(x): direct for x < 3, continued fraction (Lentz) beyond (no overflow)."""
    a = _arr(a, dtype=np.float64)
    with np.errstate(all="ignore"):
        direct = np.exp(a * a) * (1.0 - _erf64(a))
        x = np.where(a >= 3.0, a, 3.0)
        # erfc(x) exp(x^2) = 1/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...))))
        f = x.copy()
        for k in range(60, 0, -1):
            f = x + (k / 2.0) / f
        cf = 1.0 / (math.sqrt(math.pi) * f)
    return np.where(a >= 3.0, cf, direct)


def erfcx(x, *, out=None):
    _no_half(x, "erfcx")
    x, a, dt = _fl(x)
    res = _make(_arr(_erfcx64(a), dtype=dt))
    if _rec(x):
        def rule(n, g):
            (v,) = n.saved()
            r_ = n.result()
            return g * (v * r_ * 2 - 2.0 / math.sqrt(math.pi))
        _node("SpecialErfcxBackward0", rule, (x,), res, saved=(x,), result=True)
    return _out(res, out)


# ---------------------------------------------------------------- gamma family
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7)


def _lgamma64(a):
    a = _arr(a, dtype=np.float64)
    with np.errstate(all="ignore"):
        refl = a < 0.5
        z = np.where(refl, 1.0 - a, a) - 1.0
        s = _gam(z).full(z.shape, _LANCZOS[0])
        for i in range(1, 9):
            s = s + _LANCZOS[i] / (z + i)
        t = z + 7.5
        lg = 0.5 * math.log(2 * math.pi) + (z + 0.5) * np.log(t) - t + np.log(s)
        sin = np.abs(np.sin(math.pi * a))
        lr = math.log(math.pi) - np.log(sin) - lg
        r = np.where(refl, lr, lg)
        r = np.where((a <= 0) & (a == np.floor(a)), np.inf, r)
        r = np.where((a == 1) | (a == 2), 0.0, r)
    return np.where(np.isnan(a), np.nan, np.where(np.isinf(a), np.inf, r))


_B2K = (1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30, 5.0 / 66, -691.0 / 2730, 7.0 / 6,
        -3617.0 / 510, 43867.0 / 798, -174611.0 / 330)


def _polygamma64(n, a):
    """psi^(n)(x) for n >= 0: recurrence to x >= 10 then the asymptotic series."""
    a = _arr(a, dtype=np.float64)
    with np.errstate(all="ignore"):
        refl = (n == 0) & (a < 0.5)
        x = np.where(refl, 1.0 - a, a)
        acc = np.zeros_like(x)
        sgn = -1.0 if n % 2 == 0 else 1.0  # (-1)^(n+1)
        nf = math.factorial(n)
        for _ in range(10):
            small = x < 10.0
            if not small.any():
                break
            term = (nf / np.power(x, n + 1)) if n else 1.0 / x
            acc = acc + np.where(small, term, 0.0)
            x = np.where(small, x + 1.0, x)
        if n == 0:
            s = np.log(x) - 0.5 / x
            x2 = x * x
            p = 1.0 / x2
            for k, b in enumerate(_B2K, start=1):
                s = s - b / (2 * k) * p
                p = p / x2
            r = s - acc
            r = np.where(refl, r - math.pi / np.tan(math.pi * a), r)
            r = np.where((a <= 0) & (a == np.floor(a)), np.nan, r)
            r = np.where(a == 0, -np.inf, r)  # PyTorch: digamma(0) = -inf
            return r
        # n >= 1: (-1)^(n+1) [ (n-1)!/x^n + n!/(2 x^(n+1)) + sum_k B2k (2k+n-1)!/((2k)! x^(2k+n)) ]
        s = math.factorial(n - 1) / np.power(x, n) + nf / (2.0 * np.power(x, n + 1))
        for k, b in enumerate(_B2K, start=1):
            s = s + b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) / np.power(
                x, 2 * k + n)
        r = sgn * s + (sgn * acc)
        r = np.where((a <= 0) & (a == np.floor(a)), np.nan if n % 2 == 0 else np.inf, r)
        return r


def gammaln(x, *, out=None):
    return lgamma(x, out=out)


def lgamma(x, *, out=None):
    x, a, dt = _fl(x)
    res = _make(_arr(_lgamma64(a), dtype=dt))
    if _rec(x):
        _node("LgammaBackward0", lambda n, g: g * digamma(n.saved()[0]), (x,), res, saved=(x,))
    return _out(res, out)


def digamma(x, *, out=None):
    x, a, dt = _fl(x)
    res = _make(_arr(_polygamma64(0, a), dtype=dt))
    if _rec(x):
        _node("DigammaBackward0", lambda n, g: g * polygamma(1, n.saved()[0]), (x,), res,
              saved=(x,))
    return _out(res, out)


psi = digamma


def polygamma(n, x, *, out=None):
    if not isinstance(n, int) or n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        return digamma(x, out=out)
    x, a, dt = _fl(x)
    res = _make(_arr(_polygamma64(n, a), dtype=dt))
    if _rec(x):
        _node("PolygammaBackward0", lambda nd, g: g * polygamma(n + 1, nd.saved()[0]), (x,),
              res, saved=(x,))
    return _out(res, out)


def multigammaln(x, p, *, out=None):
    x, a, dt = _fl(x)
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    j = -0.5 * _gam(a).arange(p)
    r = _lgamma64(a[..., None] + j).sum(-1) + (p * (p - 1) / 4.0) * math.log(math.pi)
    res = _make(_arr(r, dtype=dt))
    if _rec(x):
        def rule(n, g):
            (v,) = n.saved()
            jj = _make(j.astype(v._data.dtype))
            return g * digamma(v.unsqueeze(-1) + jj).sum(-1)
        _node("MvlgammaBackward0", rule, (x,), res, saved=(x,))
    return _out(res, out)


mvlgamma = multigammaln


def zeta(x, q, *, out=None):
    """Hurwitz zeta(x, q) = sum_k (k + q)^-x: direct sum + Euler-Maclaurin tail (no gradient)."""
    xt = x if isinstance(x, Tensor) else None
    qt = q if isinstance(q, Tensor) else None
    xa = _arr(xt._data if xt is not None else x, dtype=np.float64)
    qa = _arr(qt._data if qt is not None else q, dtype=np.float64)
    N = 12
    with np.errstate(all="ignore"):
        s = sum(np.power(qa + k, -xa) for k in range(N))
        a = qa + N
        tail = np.power(a, 1 - xa) / (xa - 1) + 0.5 * np.power(a, -xa)
        fac = xa * np.power(a, -xa - 1)
        for k, b in enumerate(_B2K[:6], start=1):
            tail = tail + b / math.factorial(2 * k) * fac
            fac = fac * (xa + 2 * k - 1) * (xa + 2 * k) / (a * a)
        r = s + tail
        r = np.where(xa == 1, np.inf, np.where(xa < 1, np.nan, r))
    ref = [t for t in (xt, qt) if t is not None]
    dt = np.result_type(*[t._data.dtype for t in ref]) if ref else np.dtype(D.default.np)
    if dt.kind not in "fV":
        dt = np.dtype(D.default.np)
    return _out(_make(_arr(r, dtype=dt)), out)


# ---------------------------------------------------------------- modified Bessel functions
def _bessel_i64(nu, a, scaled):
    """I_nu(x) (nu in {0, 1}), times exp(-|x|) when scaled."""
    a = _arr(a, dtype=np.float64)
    ax = np.abs(a)
    with np.errstate(all="ignore"):
        xs = np.minimum(ax, 30.0)
        h = (xs / 2.0) ** 2
        term = (xs / 2.0) ** nu / math.factorial(nu)
        ser = term.copy()
        for k in range(1, 80):
            term = term * h / (k * (k + nu))
            ser = ser + term
        if scaled:
            ser = ser * np.exp(-xs)
        xl = np.maximum(ax, 30.0)
        mu = 4.0 * nu * nu
        t = np.ones_like(xl)
        asy = np.ones_like(xl)
        for k in range(1, 20):
            t = t * -(mu - (2 * k - 1) ** 2) / (k * 8.0 * xl)
            asy = asy + t
        asy = asy / np.sqrt(2 * math.pi * xl)
        if not scaled:
            asy = asy * np.exp(xl)
        r = np.where(ax <= 30.0, ser, asy)
    if nu == 1:
        r = np.sign(a) * r
    return r


def _bessel_op(nu, scaled, node_name):
    def op(x, *, out=None):
        x, a, dt = _fl(x)
        res = _make(_arr(_bessel_i64(nu, a, scaled), dtype=dt))
        if _rec(x):
            def rule(n, g):
                (v,) = n.saved()
                if nu == 0 and not scaled:
                    return g * i1(v)
                if nu == 0:
                    return g * (i1e(v) - v.sgn() * i0e(v))
                if not scaled:  # I1' = I0 - I1/x (-> 1/2 at 0)
                    return g * (i0(v) - (i1(v) / v).masked_fill(v == 0, 0.5))
                # i1e' = i0e - i1e (sign(x) + 1/x)
                r_ = i1e(v)
                return g * (i0e(v) - r_ * v.sgn() - (r_ / v).masked_fill(v == 0, 0.5))
            _node(node_name, rule, (x,), res, saved=(x,))
        return _out(res, out)
    return op


i0 = _bessel_op(0, False, "I0Backward0")
i0e = _bessel_op(0, True, "SpecialI0EBackward0")
i1 = _bessel_op(1, False, "SpecialI1Backward0")
i1e = _bessel_op(1, True, "SpecialI1EBackward0")
modified_bessel_i0 = i0
modified_bessel_i1 = i1


def _top_level():
    """torch.* names that live here: lgamma, digamma, polygamma, mvlgamma, i0."""
    return {"lgamma": lgamma, "digamma": digamma, "polygamma": polygamma, "mvlgamma": mvlgamma,
            "i0": i0}


def _bind():
    m = {"lgamma": lgamma, "digamma": digamma, "i0": i0,
         "polygamma": lambda x, n: polygamma(n, x), "mvlgamma": lambda x, p: mvlgamma(x, p)}
    for k, f in m.items():
        if k not in Tensor.__dict__:
            setattr(Tensor, k, f)
    from .ops import inplace
    for k in ("lgamma", "digamma", "i0"):
        if k + "_" not in Tensor.__dict__:
            setattr(Tensor, k + "_", inplace(m[k], k))


_bind()
_ = R


def gammainc(input, other, *, out=None):
    """torch.special.gammainc: the regularised lower incomplete gamma (torch.igamma)."""
    from .ops.gaps import igamma
    return igamma(input, other)


def gammaincc(input, other, *, out=None):
    """torch.special.gammaincc: the regularised upper incomplete gamma (torch.igammac)."""
    from .ops.gaps import igammac
    return igammac(input, other)


__all__ += ["gammainc", "gammaincc"]
