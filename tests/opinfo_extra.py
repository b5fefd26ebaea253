"""OpInfo entries (tests/opinfo.py's registry format) for the ops of ops/extra.py, dagrad.special
and dagrad.linalg: run by tests/test_ops_extra.py through the same forward / gradient / gradcheck /
gradgradcheck checks as the Core registry."""
import math

from opinfo import ALL, FLOAT, FLOAT_INT, NC, Const, OpInfo, Sample, _b, _u  # noqa: F401

EXTRA_OPS = []


def add(*a, **k):
    EXTRA_OPS.append(OpInfo(*a, **k))


B_SMALL = _b([((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (3,)),
              (NC((3, 4)), (3, 4)), ((0, 3), (3,))])
U_SMALL = _u([(), (5,), (3, 4), (2, 3, 4), (0,), NC((3, 4))])
INT = ("int64",)
INT_BOOL = ("int64", "bool")

# ------------------------------------------------------------------ elementwise
add("hypot", lambda m, x, y: m.hypot(x, y), B_SMALL)
add("logaddexp", lambda m, x, y: m.logaddexp(x, y), B_SMALL, domain=(-30, 30))
add("logaddexp2", lambda m, x, y: m.logaddexp2(x, y), B_SMALL)
add("xlogy", lambda m, x, y: m.xlogy(x, y), B_SMALL, domain=[(-2, 2), (0.1, 3)],
    dtypes=FLOAT_INT, int_domain=(1, 5))
add("xlogy_scalar", lambda m, y: m.xlogy(2.0, y), U_SMALL, domain=(0.1, 3))
add("copysign", lambda m, x, y: m.copysign(x, y), B_SMALL, dtypes=FLOAT_INT)
add("sinc", lambda m, x: m.sinc(x), U_SMALL, dtypes=FLOAT_INT)
add("deg2rad", lambda m, x: m.deg2rad(x), U_SMALL, dtypes=FLOAT_INT)
add("rad2deg", lambda m, x: m.rad2deg(x), U_SMALL, dtypes=FLOAT_INT)
add("nan_to_num", lambda m, x: m.nan_to_num(x / x * x, nan=0.5), U_SMALL, check_name=False)
add("heaviside", lambda m, x, y: m.heaviside(x.round(), y), B_SMALL, grad=False)
add("nextafter", lambda m, x, y: m.nextafter(x, y), B_SMALL, grad=False)
add("logit_eps", lambda m, x: m.logit(x, eps=0.05), U_SMALL, domain=(0.0, 1.0))
add("float_power", lambda m, x: m.float_power(x, 3), U_SMALL, dtypes=FLOAT_INT, check_name=False)
add("ldexp", lambda m, x, e: m.ldexp(x, e), [Sample(((3, 4), Const([[1.0, -2.0, 0.0, 3.0]])))],
    check_name=False)
# integer / bitwise
for nm in ("gcd", "lcm"):
    add(nm, lambda m, x, y, nm=nm: getattr(m, nm)(x, y), B_SMALL, dtypes=INT, grad=False,
        int_domain=(-12, 13))
for nm, f in (("bitwise_and", lambda m, x, y: x & y), ("bitwise_or", lambda m, x, y: x | y),
              ("bitwise_xor", lambda m, x, y: x ^ y)):
    add(nm, f, B_SMALL, dtypes=INT_BOOL, grad=False)
add("bitwise_not", lambda m, x: ~x, U_SMALL, dtypes=INT_BOOL, grad=False)
add("shifts", lambda m, x: (x << 2, x >> 1, 1 << x.abs()), U_SMALL, dtypes=INT, grad=False,
    int_domain=(0, 8))
add("remainder_int", lambda m, x: m.remainder(x, -3), U_SMALL, dtypes=INT, grad=False)
add("isnan_isinf_isfinite", lambda m, x: (m.isnan(x / x), m.isinf(1 / x), m.isfinite(x / x)),
    U_SMALL, dtypes=FLOAT_INT, grad=False)
add("isin", lambda m, x, t: m.isin(x, t), [Sample(((3, 4), Const([0, 1, 2]))),
                                           Sample(((5,), Const([3])))],
    dtypes=INT, grad=False, int_domain=(-1, 4))
add("isclose", lambda m, x, y: m.isclose(x, y, atol=0.5), B_SMALL, grad=False)
# ------------------------------------------------------------------ reductions / order stats
RED = [Sample(((3, 4),)), Sample(((2, 3, 4),)), Sample((NC((3, 4)),))]
RED_DIM = [Sample(((3, 4), 1)), Sample(((2, 3, 4), 0)), Sample(((2, 3, 4), -1)),
           Sample((NC((3, 4)), 0))]
add("nansum", lambda m, x: m.nansum(x), RED, check_name=False)
add("nanmean_dim", lambda m, x, d: m.nanmean(x, d), RED_DIM, check_name=False)
add("logcumsumexp", lambda m, x, d: m.logcumsumexp(x, d), RED_DIM, domain=(-20, 20))
add("cummax", lambda m, x, d: tuple(m.cummax(x, d)), RED_DIM)
add("cummin", lambda m, x, d: tuple(m.cummin(x, d)), RED_DIM)
add("median_all", lambda m, x: m.median(x), RED, check_name=False)
add("median_dim", lambda m, x, d: tuple(m.median(x, d)), RED_DIM, check_name=False)
add("nanmedian_dim", lambda m, x, d: tuple(m.nanmedian(x, d, keepdim=True)), RED_DIM,
    check_name=False)
add("mode", lambda m, x, d: tuple(m.mode(x.round(), d)), RED_DIM, grad=False)
add("kthvalue", lambda m, x, d: tuple(m.kthvalue(x, 2, d)), RED_DIM, check_name=False)
add("quantile", lambda m, x, d: m.quantile(x, 0.3, d), RED_DIM, check_name=False)
add("quantile_all", lambda m, x: m.quantile(x, 0.65), RED, check_name=False)
add("nanquantile", lambda m, x, d: m.nanquantile(x, 0.5, d, keepdim=True), RED_DIM,
    check_name=False)
add("aminmax", lambda m, x, d: tuple(m.aminmax(x, dim=d)), RED_DIM, check_name=False)
add("std_mean", lambda m, x, d: tuple(m.std_mean(x, d)), RED_DIM, check_name=False)
add("var_mean", lambda m, x, d: tuple(m.var_mean(x, d, keepdim=True)), RED_DIM,
    check_name=False)
add("diff", lambda m, x, d: m.diff(x, dim=d), RED_DIM, dtypes=FLOAT_INT, check_name=False)
add("diff_n2", lambda m, x: m.diff(x, n=2), RED, check_name=False)
add("trapezoid", lambda m, x, d: m.trapezoid(x, dim=d), RED_DIM, dtypes=FLOAT_INT,
    check_name=False)
add("cumulative_trapezoid", lambda m, x, d: m.cumulative_trapezoid(x, dim=d), RED_DIM,
    check_name=False)
add("count_nonzero", lambda m, x, d: m.count_nonzero(x, d), RED_DIM, dtypes=ALL, grad=False)
add("unique", lambda m, x: m.unique(x, return_inverse=True, return_counts=True), RED,
    dtypes=INT, grad=False, int_domain=(0, 4))
add("bincount", lambda m, x: m.bincount(x), [Sample(((12,),))], dtypes=INT, grad=False,
    int_domain=(0, 6))
add("histc", lambda m, x: m.histc(x, bins=6), RED, grad=False)
# ------------------------------------------------------------------ special
add("special.entr", lambda m, x: m.special.entr(x), U_SMALL, domain=(0.05, 3))
add("special.ndtr", lambda m, x: m.special.ndtr(x), U_SMALL, domain=(-4, 4))
add("special.ndtri", lambda m, x: m.special.ndtri(x), U_SMALL, domain=(0.05, 0.95))
add("special.log_ndtr", lambda m, x: m.special.log_ndtr(x), U_SMALL, domain=(-10, 5))
add("special.erfcx", lambda m, x: m.special.erfcx(x), U_SMALL, domain=(-2, 8))
for nm in ("i0", "i0e", "i1", "i1e"):
    add(f"special.{nm}", lambda m, x, nm=nm: getattr(m.special, nm)(x), U_SMALL,
        domain=(-8, 8))
add("special.gammaln", lambda m, x: m.special.gammaln(x), U_SMALL, domain=(0.1, 6))
add("special.digamma", lambda m, x: m.special.digamma(x), U_SMALL, domain=(0.1, 6))
add("special.polygamma2", lambda m, x: m.special.polygamma(2, x), U_SMALL, domain=(0.3, 6))
add("special.multigammaln", lambda m, x: m.special.multigammaln(x, 2), U_SMALL, domain=(1, 6))
# ------------------------------------------------------------------ linalg
SQ = [Sample(((3, 3),)), Sample(((2, 4, 4),)), Sample((NC((3, 3)),))]


def _wc(m, a):
    return a + 3 * m.eye(a.shape[-1], dtype=a.dtype)


def _spd(m, a):
    return a @ a.mT + a.shape[-1] * m.eye(a.shape[-1], dtype=a.dtype)


add("linalg.inv", lambda m, a: m.linalg.inv(_wc(m, a)), SQ, check_name=False)
add("linalg.det", lambda m, a: m.linalg.det(a), SQ)
add("linalg.slogdet", lambda m, a: tuple(m.linalg.slogdet(_wc(m, a))), SQ)
add("linalg.solve", lambda m, a, b: m.linalg.solve(_wc(m, a), b),
    [Sample(((3, 3), (3, 2))), Sample(((2, 3, 3), (3,))), Sample(((3, 3), (2, 3, 1)))],
    check_name=False)
add("linalg.cholesky", lambda m, a: m.linalg.cholesky(_spd(m, a)), SQ, check_name=False)
add("linalg.eigvalsh", lambda m, a: m.linalg.eigvalsh(a + a.mT), SQ, check_name=False)
add("linalg.svdvals", lambda m, a: m.linalg.svdvals(a), SQ + [Sample(((4, 2),))],
    check_name=False)
add("linalg.pinv", lambda m, a: m.linalg.pinv(a), [Sample(((4, 3),)), Sample(((2, 2, 3),))])
add("linalg.matrix_norm", lambda m, a: m.linalg.matrix_norm(a, "nuc"), SQ, check_name=False)
# Half: PyTorch's own matrix_exp overflows to inf/nan here; dagrad computes in float32
add("linalg.matrix_exp", lambda m, a: m.linalg.matrix_exp(a), SQ, dtypes=("float32", "float64"))
add("linalg.lu_factor", lambda m, a: m.linalg.lu_factor(a)[0], SQ)
add("linalg.cross", lambda m, a, b: m.linalg.cross(a, b), [Sample(((4, 3), (4, 3))),
                                                           Sample(((2, 3), (1, 3)))])
add("linalg.multi_dot", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]),
    [Sample(((2, 3), (3, 4), (4, 2)))], check_name=False)
add("linalg.matrix_power", lambda m, a: m.linalg.matrix_power(a, 3), SQ, check_name=False)
add("cdist", lambda m, a, b: m.cdist(a, b), [Sample(((3, 2), (4, 2))),
                                             Sample(((2, 3, 2), (2, 4, 2)))], check_name=False,
    gradgrad=False)
_ = math
