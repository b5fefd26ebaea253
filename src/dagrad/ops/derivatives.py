"""The derivatives table: one Node class per primitive op, named as PyTorch names it.

Each rule is written in dagrad Tensor ops, so with create_graph=True the gradient is itself
recorded and can be differentiated again. Rules never undo broadcasting or dtype promotion: the
engine reduces each gradient to its input's shape and dtype (see `autograd.engine._fix`).
Composite ops (softplus as log1p/exp, etc. where PyTorch also decomposes) get no entry.
`self.needs(i)` skips the work for inputs that need no gradient.
"""
import math

from ..autograd.function import FREED_MSG, Node
from ..backend import np


def _named(name):
    """Give a variant class PyTorch's node name (several variants share one name)."""
    def deco(cls):
        cls.__name__ = name
        cls.__qualname__ = name
        return cls
    return deco


# ---------------------------------------------------------------- arithmetic
class AddBackward0(Node):
    alpha = 1

    def backward(self, g):
        return g, (g if self.alpha == 1 else g * self.alpha)


@_named("AddBackward0")
class AddScalarBackward(Node):
    def backward(self, g):
        return g, None


class SubBackward0(Node):
    alpha = 1

    def backward(self, g):
        return g, (-g if self.alpha == 1 else g * -self.alpha)


@_named("SubBackward0")
class SubScalarBackward(Node):
    def backward(self, g):
        return g, None


class RsubBackward1(Node):
    alpha = 1

    def backward(self, g):
        return -g if self.alpha == 1 else g * -self.alpha


class RsubBackward0(Node):
    alpha = 1

    def backward(self, g):
        return (-g if self.alpha == 1 else g * -self.alpha), g


class MulBackward0(Node):
    def backward(self, g):
        a, b = self.saved()
        return (g * b.conj() if self.needs(0) else None,
                g * a.conj() if self.needs(1) else None)


class _SavesScalar(Node):
    """tensor * or / a Python number: PyTorch saves the number as a (wrapped) tensor, so a
    second backward through a freed graph raises its error; the engine frees these nodes too."""
    _frees = True
    other_arr = None  # the number as a 0-d array of the input's float dtype (the twin's operand)

    def _release(self):
        self._saved = None

    def _check(self):
        if self._saved is None:
            raise RuntimeError(FREED_MSG)


@_named("MulBackward0")
class MulScalarBackward(_SavesScalar):
    def backward(self, g):
        self._check()
        o = self.other
        return g * (o.conjugate() if type(o) is complex else o), None


class DivBackward0(Node):
    def backward(self, g):
        a, b = self.saved()
        a, b = a.conj(), b.conj()
        ga = g / b if self.needs(0) else None
        gb = -g * a / (b * b) if self.needs(1) else None
        return ga, gb


@_named("DivBackward0")
class DivScalarBackward(_SavesScalar):
    def backward(self, g):
        self._check()
        o = self.other
        return g / (o.conjugate() if type(o) is complex else o), None


class NegBackward0(Node):
    def backward(self, g):
        return -g


class PowBackward0(Node):
    def backward(self, g):
        (x0,) = self.saved()
        x = x0.conj()
        p = self.exponent
        if p == 0:
            return g * 0
        if p == 1:
            return g
        if p == 2:
            return g * (x * 2)
        if p == 3:
            return g * (x * x * 3)
        return g * (x0 ** (p - 1) * p).conj()


class PowBackward1(Node):
    def backward(self, g):
        a, b = self.saved()
        ga = gb = None
        if self.needs(0):
            ga = g * (b * a ** (b - 1)).masked_fill((b == 0), 0).conj()
        if self.needs(1):
            r = self.result()
            gb = (g * (r * a.log()).conj()).masked_fill((a == 0) & (b >= 0), 0)
        return ga, gb


class PowBackward2(Node):
    def backward(self, g):
        base = self.base
        if isinstance(base, complex) or base > 0:
            f = (math.log(base) if not isinstance(base, complex) else
                 complex(np.log(np.complex128(base))).conjugate())
            return g * self.result().conj() * f
        r = self.result()
        if base == 0:  # PyTorch: 0 where the exponent is >= 0 (finite result), else -inf
            return (g * r * float("-inf")).masked_fill(r.isfinite(), 0)
        return g * r * float("nan")  # log of a negative real base


class Atan2Backward0(Node):
    def backward(self, g):
        a, b = self.saved()
        d = a * a + b * b
        recip = d.reciprocal().masked_fill(d == 0, 0)  # PyTorch: 0 (not nan) at the origin
        return (g * b * recip if self.needs(0) else None,
                g * -a * recip if self.needs(1) else None)


class MaximumBackward0(Node):
    def backward(self, g):
        a, b = self.saved()
        ga = gb = None
        if self.needs(0):
            ga = g * ((a > b).to(g.dtype) + (a == b).to(g.dtype) * 0.5)
        if self.needs(1):
            gb = g * ((b > a).to(g.dtype) + (a == b).to(g.dtype) * 0.5)
        return ga, gb


class MinimumBackward0(Node):
    def backward(self, g):
        a, b = self.saved()
        ga = gb = None
        if self.needs(0):
            ga = g * ((a < b).to(g.dtype) + (a == b).to(g.dtype) * 0.5)
        if self.needs(1):
            gb = g * ((b < a).to(g.dtype) + (a == b).to(g.dtype) * 0.5)
        return ga, gb


@_named("FmaxBackward0")
class FmaxBackward0(MaximumBackward0):
    pass


class WhereBackward0(Node):
    def backward(self, g):
        (c,) = self.saved()
        z = g.new_zeros(())
        return (None,
                g.where(c, z) if self.needs(1) else None,
                z.where(c, g) if self.needs(2) else None)


class LerpBackward0(Node):
    """lerp with a scalar weight."""

    def backward(self, g):
        w = self.weight
        return g * (1 - w), g * w


class LerpBackward1(Node):
    def backward(self, g):
        a, b, w = self.saved()
        return (g * (1 - w) if self.needs(0) else None,
                g * w if self.needs(1) else None,
                g * (b - a) if self.needs(2) else None)


class ClampBackward1(Node):
    """clamp with scalar bounds: gradient passes where min <= x <= max."""

    def backward(self, g):
        (x,) = self.saved()
        m = None
        if self.min is not None:
            m = x >= self.min
        if self.max is not None:
            mx = x <= self.max
            m = mx if m is None else m & mx
        return g if m is None else g * m.to(g.dtype)


class ClampBackward0(Node):
    """clamp with tensor bounds."""

    def backward(self, g):
        x, lo, hi = self.saved()
        if not getattr(self, "has_lo", True):
            lo = None
        if not getattr(self, "has_hi", True):
            hi = None
        # PyTorch's clamp_backward / clamp_backward_min_max (NaNs and min > max included)
        z = g.new_zeros(())
        gx = glo = ghi = None
        if self.needs(0):
            keep = ((x >= lo) & (x <= hi) if lo is not None and hi is not None else
                    x >= lo if lo is not None else x <= hi)
            gx = g.where(keep, z)
        if lo is not None and self.needs(1):
            glo = g.where((x < lo) & (lo < hi) if hi is not None else x < lo, z)
        if hi is not None and self.needs(2):
            ghi = g.where((x > hi) | (hi < lo) if lo is not None else x > hi, z)
        return gx, glo, ghi


class HardtanhBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        return g * ((x > self.min) & (x < self.max)).to(g.dtype)


# ---------------------------------------------------------------- unary math
class ExpBackward0(Node):
    def backward(self, g):
        return g * self.result().conj()


class Exp2Backward0(Node):
    def backward(self, g):
        return g * self.result().conj() * math.log(2.0)


class Expm1Backward0(Node):
    def backward(self, g):
        return g * (self.result().conj() + 1)


class LogBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        return g / x.conj()


class Log2Backward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        x = x.conj()  # complex: the conjugate derivative (PyTorch's convention)
        return g / (x * math.log(2.0))


class Log10Backward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        x = x.conj()  # complex: the conjugate derivative (PyTorch's convention)
        return g / (x * math.log(10.0))


class Log1PBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        x = x.conj()  # complex: the conjugate derivative (PyTorch's convention)
        return g / (x + 1)


class SqrtBackward0(Node):
    def backward(self, g):
        return g / (self.result().conj() * 2)


class RsqrtBackward0(Node):
    def backward(self, g):
        r = self.result().conj()
        return g * (r * r * r) * -0.5


class ReciprocalBackward0(Node):
    def backward(self, g):
        r = self.result().conj()
        return g * -(r * r)


class AbsBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        return g * x.sgn()


class SinBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        x = x.conj()  # complex: the conjugate derivative (PyTorch's convention)
        return g * x.cos()


class CosBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        x = x.conj()  # complex: the conjugate derivative (PyTorch's convention)
        return g * -x.sin()


class TanBackward0(Node):
    def backward(self, g):
        r = self.result().conj()
        return g * (r * r + 1)


class AsinBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        x = x.conj()  # complex: the conjugate derivative (PyTorch's convention)
        return g * (-(x * x) + 1).rsqrt()


class AcosBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        x = x.conj()  # complex: the conjugate derivative (PyTorch's convention)
        return g * -(-(x * x) + 1).rsqrt()


class AtanBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        x = x.conj()  # complex: the conjugate derivative (PyTorch's convention)
        return g / (x * x + 1)


class SinhBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        x = x.conj()  # complex: the conjugate derivative (PyTorch's convention)
        return g * x.cosh()


class CoshBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        x = x.conj()  # complex: the conjugate derivative (PyTorch's convention)
        return g * x.sinh()


class TanhBackward0(Node):
    def backward(self, g):
        r = self.result().conj()
        return g * (-(r * r) + 1)


class AsinhBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        x = x.conj()  # complex: the conjugate derivative (PyTorch's convention)
        return g * (x * x + 1).rsqrt()


class AcoshBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        x = x.conj()  # complex: the conjugate derivative (PyTorch's convention)
        return g * (x * x - 1).rsqrt()


class AtanhBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        x = x.conj()  # complex: the conjugate derivative (PyTorch's convention)
        return g / (-(x * x) + 1)


class SigmoidBackward0(Node):
    def backward(self, g):
        r = self.result().conj()
        return g * (r * (-r + 1))


class LogitBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        eps = self.eps
        d = g / (x * (-x + 1))
        if eps is None:
            return d
        inside = (x >= eps) & (x <= 1 - eps)
        return d * inside.to(d.dtype)


class ErfBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        return g * (-(x * x)).exp() * (2.0 / math.sqrt(math.pi))


class ErfcBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        return g * (-(x * x)).exp() * (-2.0 / math.sqrt(math.pi))


class ErfinvBackward0(Node):
    def backward(self, g):
        r = self.result()
        return g * (r * r).exp() * (math.sqrt(math.pi) / 2.0)


class ZeroGradBackward(Node):
    """Piecewise-constant ops (floor, ceil, round, trunc, sign): zero gradient."""

    def backward(self, g):
        return g * 0


@_named("FloorBackward0")
class FloorBackward0(ZeroGradBackward):
    pass


@_named("CeilBackward0")
class CeilBackward0(ZeroGradBackward):
    pass


@_named("RoundBackward0")
class RoundBackward0(ZeroGradBackward):
    pass


@_named("RoundBackward1")
class RoundBackward1(ZeroGradBackward):
    pass


@_named("TruncBackward0")
class TruncBackward0(ZeroGradBackward):
    pass


@_named("SignBackward0")
class SignBackward0(ZeroGradBackward):
    pass


@_named("SgnBackward0")
class SgnBackward0(ZeroGradBackward):
    """Zero for real input; complex: (g - s Re(g conj(s))) / |z|, 0 at z == 0 (PyTorch's
    sgn_backward)."""

    def backward(self, g):
        if not self.complex:
            return g * 0
        (x,) = self.saved()
        s = self.result()
        a = x.abs()
        zero = a == 0
        return ((g - s * (g * s.conj()).real) / a.masked_fill(zero, 1)).masked_fill(zero, 0)


SgnBackward0.complex = False


class FracBackward0(Node):
    def backward(self, g):
        return g


class CloneBackward0(Node):
    def backward(self, g):
        return g


class AliasBackward0(Node):
    def backward(self, g):
        return g


class ToCopyBackward0(Node):
    def backward(self, g):
        if g.is_complex() and not self.src_dtype.is_complex:
            g = g.real  # PyTorch's _to_copy_backward keeps the real part, silently
        return g.to(self.src_dtype)


# ---------------------------------------------------------------- activations
class ReluBackward0(Node):
    def backward(self, g):
        r = self.result()
        return g * (r > 0).to(g.dtype)


class LeakyReluBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        return g * (x > 0).to(g.dtype).where(x > 0, x.new_full((), self.slope))


class EluBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        a, s, ins = self.alpha, self.scale, self.input_scale
        neg = (x * ins).exp() * (a * s * ins)
        return g * neg.where(x <= 0, x.new_full((), s))


class GeluBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        if self.approximate == "tanh":
            k = math.sqrt(2.0 / math.pi)
            inner = (x + x * x * x * 0.044715) * k
            t = inner.tanh()
            dinner = (x * x * (3 * 0.044715) + 1) * k
            return g * ((t + 1) * 0.5 + x * 0.5 * (-(t * t) + 1) * dinner)
        cdf = ((x * (1 / math.sqrt(2.0))).erf() + 1) * 0.5
        pdf = (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))
        return g * (cdf + x * pdf)


class SiluBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        bf = x.dtype if x._data.dtype.kind == "V" else None  # bfloat16: float32 opmath
        if bf is not None:
            x, g = x.float(), g.float()
        s = x.sigmoid()
        r = g * (s * (x * (-s + 1) + 1))
        return r if bf is None else r.to(bf)


class SoftplusBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        bx = x * self.beta
        s = bx.sigmoid()
        return g * s.where(bx <= self.threshold, s.new_ones(()))


class MishBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        bf = x.dtype if x._data.dtype.kind == "V" else None  # bfloat16: float32 opmath
        if bf is not None:
            x, g = x.float(), g.float()
        sp = x.nn_softplus()
        tsp = sp.tanh()
        r = g * (tsp + x * x.sigmoid() * (-(tsp * tsp) + 1))
        return r if bf is None else r.to(bf)


class HardswishBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        mid = x / 3 + 0.5
        d = mid.where(x < 3, x.new_ones(()))
        d = d.where(x > -3, x.new_zeros(()))
        return g * d


class HardsigmoidBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        return g * ((x > -3) & (x < 3)).to(g.dtype) / 6


# ---------------------------------------------------------------- reductions
def _unsqueeze_dims(g, dims, keepdim):
    if keepdim:
        return g
    for d in dims:
        g = g.unsqueeze(d)
    return g


class SumBackward0(Node):
    def backward(self, g):
        from .movement import expand_to
        return expand_to(g, self.shape)


class SumBackward1(Node):
    def backward(self, g):
        return _unsqueeze_dims(g, self.dims, self.keepdim).expand(self.shape)


class SumToSizeBackward(Node):
    """sum_to_size: the engine's own unbroadcasting reduction."""

    def backward(self, g):
        return g.expand(self.shape)


SumToSizeBackward.__name__ = "SumBackward1"


class MeanBackward0(Node):
    def backward(self, g):
        return g.expand(self.shape) / self.count


class MeanBackward1(Node):
    def backward(self, g):
        return _unsqueeze_dims(g, self.dims, self.keepdim).expand(self.shape) / self.count


class ProdBackward0(Node):
    """prod over all or one dim; handles zeros with exclusive cumulative products."""

    def backward(self, g):
        (x,) = self.saved()
        dim = self.dim
        if dim is None:
            flat = x.reshape(-1)
            gi = _prod_others(flat, 0).reshape(x.shape)
            return g * gi.conj()
        gg = g if self.keepdim else g.unsqueeze(dim)
        return gg * _prod_others(x, dim).conj()


ProdBackward1 = type("ProdBackward1", (ProdBackward0,), {})


def _prod_others(x, dim):
    """For each element, the product of the other elements along `dim` (zero-safe)."""
    n = x.shape[dim]
    if n == 0:
        return x
    ones = x.new_ones(x.shape[:dim] + (1,) + x.shape[dim + 1:])
    left = x.narrow(dim, 0, n - 1).cumprod(dim) if n > 1 else None
    left = ones if left is None else _cat((ones, left), dim)
    rev = x.flip(dim)
    right = rev.narrow(dim, 0, n - 1).cumprod(dim) if n > 1 else None
    right = ones if right is None else _cat((ones, right), dim)
    return left * right.flip(dim)


def _cat(ts, dim):
    from .movement import cat
    return cat(ts, dim)


class AmaxBackward0(Node):
    """amax/amin and full max()/min(): the gradient is split evenly among tied extrema."""

    def backward(self, g):
        (x,) = self.saved()
        r = self.result()
        dims, keep = self.dims, self.keepdim
        r = _unsqueeze_dims(r, dims, keep)
        gg = _unsqueeze_dims(g, dims, keep)
        mask = (x == r).to(g.dtype)
        count = mask.sum(dims, keepdim=True)
        return gg * mask / count


AminBackward0 = type("AminBackward0", (AmaxBackward0,), {})
MaxBackward1 = type("MaxBackward1", (AmaxBackward0,), {})
MinBackward1 = type("MinBackward1", (AmaxBackward0,), {})


class MaxBackward0(Node):
    """max/min/median/mode/kthvalue along a dim (values, indices): gradient goes to the index."""
    _n_out = 2

    def backward(self, g, _gi=None):
        (idx,) = self.saved()
        dim = self.dim
        if not self.shape:  # 0-d input: the value is the input
            return g
        if not self.keepdim:
            g = g.unsqueeze(dim)
            idx = idx.unsqueeze(dim)
        return g.new_zeros(self.shape).scatter(dim, idx, g)

    def _materialize(self, buf):
        return buf


MinBackward0 = type("MinBackward0", (MaxBackward0,), {})


class VarBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        dims, keep = self.dims, self.keepdim
        n = self.count - self.correction
        mu = x.mean(dims, keepdim=True)
        return _unsqueeze_dims(g, dims, keep) * (x - mu) * (2.0 / n if n else math.inf)


class StdBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        dims, keep = self.dims, self.keepdim
        n = self.count - self.correction
        mu = x.mean(dims, keepdim=True)
        r = _unsqueeze_dims(self.result(), dims, keep)
        return (_unsqueeze_dims(g, dims, keep) * (x - mu) / (r * n)).masked_fill(r == 0, 0)


class LogsumexpBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        r = _unsqueeze_dims(self.result(), self.dims, self.keepdim)
        return _unsqueeze_dims(g, self.dims, self.keepdim) * (x - r).exp()


class LinalgVectorNormBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        p, dims, keep = self.ord, self.dims, self.keepdim
        r = _unsqueeze_dims(self.result(), dims, keep)
        gg = _unsqueeze_dims(g, dims, keep)
        if p == 2:
            return gg * x / r.masked_fill(r == 0, 1)
        if p == 1:
            return gg * x.sgn()
        if p == 0:
            return gg * 0 * x
        if p == math.inf or p == -math.inf:
            ax = x.abs()
            mask = (ax == r).to(g.dtype)
            return gg * x.sgn() * mask / mask.sum(dims, keepdim=True)
        ax = x.abs()
        return gg * x.sgn() * ax ** (p - 1) / (r ** (p - 1)).masked_fill(r == 0, 1)


class CumsumBackward0(Node):
    def backward(self, g):
        d = self.dim
        return g.flip(d).cumsum(d).flip(d)


class CumprodBackward0(Node):
    def backward(self, g):
        (x,) = self.saved()
        d = self.dim
        n = x.shape[d] if x.ndim else 1
        if x.ndim == 0:
            return g
        if not bool((x == 0).any()):
            r = self.result().conj()
            return (g * r).flip(d).cumsum(d).flip(d) / x.conj()
        # zero-safe O(n^2) path: d out_k / d x_i = prod_{j<=k, j!=i} x_j
        cols = []
        for i in range(n):
            xi_one = x.narrow(d, i, 1)
            repl = _cat((x.narrow(d, 0, i), xi_one.new_ones(xi_one.shape),
                         x.narrow(d, i + 1, n - i - 1)), d)
            cp = repl.cumprod(d).conj()
            gi = (g.narrow(d, i, n - i) * cp.narrow(d, i, n - i)).sum(d, keepdim=True)
            cols.append(gi)
        return _cat(tuple(cols), d)


class SoftmaxBackward0(Node):
    def backward(self, g):
        y = self.result()
        d = self.dim
        return y * (g - (g * y).sum(d, keepdim=True))


class LogSoftmaxBackward0(Node):
    probs = None  # exp(result), when the forward had it (cross_entropy): the twin skips an exp

    def _release(self):
        Node._release(self)
        self.probs = None

    def backward(self, g):
        y = self.result()
        d = self.dim
        return g - y.exp() * g.sum(d, keepdim=True)


# ---------------------------------------------------------------- shape / movement
class ViewBackward0(Node):
    def backward(self, g):
        return g.reshape(self.shape)


UnsafeViewBackward0 = type("UnsafeViewBackward0", (ViewBackward0,), {})
ReshapeAliasBackward0 = type("ReshapeAliasBackward0", (ViewBackward0,), {})
SqueezeBackward0 = type("SqueezeBackward0", (ViewBackward0,), {})
SqueezeBackward1 = type("SqueezeBackward1", (ViewBackward0,), {})
SqueezeBackward2 = type("SqueezeBackward2", (ViewBackward0,), {})
UnsqueezeBackward0 = type("UnsqueezeBackward0", (ViewBackward0,), {})


class PermuteBackward0(Node):
    def backward(self, g):
        inv = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inv[d] = i
        return g.permute(*inv)


class TransposeBackward0(Node):
    def backward(self, g):
        return g.transpose(self.dim0, self.dim1)


class TBackward0(Node):
    def backward(self, g):
        return g.t()


class ExpandBackward0(Node):
    def backward(self, g):
        return g.sum_to_size(self.shape)


class FlipBackward0(Node):
    def backward(self, g):
        return g.flip(self.dims)


class RollBackward0(Node):
    def backward(self, g):
        return g.roll(tuple(-s for s in self.shifts), self.dims)


class RepeatBackward0(Node):
    def backward(self, g):
        reps, shape = self.repeats, self.shape
        lead = len(reps) - len(shape)
        full = (1,) * lead + tuple(shape)
        inter = []
        for r, s in zip(reps, full):
            inter += [r, s]
        gg = g.reshape(inter)
        gg = gg.sum(tuple(range(0, 2 * len(reps), 2)))
        return gg.reshape(shape)


class CatBackward0(Node):
    def backward(self, g):
        d = self.dim
        out = []
        off = 0
        for i, n in enumerate(self.sizes):
            if n is None:  # a skipped 1-D empty input
                out.append(g.new_zeros((0,)) if self.needs(i) else None)
                continue
            out.append(g.narrow(d, off, n) if self.needs(i) else None)
            off += n
        return tuple(out)


class StackBackward0(Node):
    def backward(self, g):
        return tuple(g.select(self.dim, i) if self.needs(i) else None
                     for i in range(len(self.next_functions)))


class SplitBackward0(Node):
    """split / chunk / unbind: several outputs, one input."""

    def backward(self, *gs):
        d = self.dim
        parts = [gg if gg is not None else _zeros(self.dtype_like, s)
                 for gg, s in zip(gs, self.out_shapes)]
        if self.unbind:
            parts = [p.unsqueeze(d) for p in parts]
        return _cat(tuple(parts), d)

    def _materialize(self, buf):
        return buf


def _zeros(like, shape):
    return like.new_zeros(shape)


SplitWithSizesBackward0 = type("SplitWithSizesBackward0", (SplitBackward0,), {})
UnbindBackward0 = type("UnbindBackward0", (SplitBackward0,), {})


# ---------------------------------------------------------------- indexing
class IndexBackward0(Node):
    """Any __getitem__ (basic or advanced): scatter the gradient back into a zero tensor."""

    def backward(self, g):
        from .indexing import index_put_zeros
        return index_put_zeros(self.shape, self.key, g)


SelectBackward0 = type("SelectBackward0", (IndexBackward0,), {})
SliceBackward0 = type("SliceBackward0", (IndexBackward0,), {})


class IndexPutZerosBackward(Node):
    """Backward of the scatter above: gather the gradient back (double backward of indexing)."""

    def backward(self, g):
        from .indexing import getitem_raw
        return getitem_raw(g, self.key)


IndexPutZerosBackward.__name__ = "IndexPutBackward0"


class IndexPutBackward0(Node):
    """x[key] = v (out of place on the graph): v's gradient is g[key], x's is g with key zeroed."""

    def backward(self, g):
        from .indexing import getitem_raw, setitem_zero
        gx = setitem_zero(g, self.key) if self.needs(0) else None
        gv = getitem_raw(g, self.key) if self.needs(1) else None
        return gx, gv


class GatherBackward0(Node):
    def backward(self, g):
        (idx,) = self.saved()
        return g.new_zeros(self.shape).scatter_add(self.dim, idx, g)


class ScatterBackward0(Node):
    def backward(self, g):
        (idx,) = self.saved()
        d = self.dim
        gs = g.scatter(d, idx, 0) if self.needs(0) else None
        gsrc = g.gather(d, idx) if len(self.next_functions) > 1 and self.needs(1) else None
        return gs, gsrc


ScatterBackward1 = type("ScatterBackward1", (Node,), {
    "backward": lambda self, g: g.scatter(self.dim, self.saved()[0], 0)})


class ScatterAddBackward0(Node):
    def backward(self, g):
        (idx,) = self.saved()
        return g, (g.gather(self.dim, idx) if self.needs(1) else None)


class IndexSelectBackward0(Node):
    def backward(self, g):
        (idx,) = self.saved()
        return g.new_zeros(self.shape).index_add(self.dim, idx, g)


class IndexAddBackward0(Node):
    def backward(self, g):
        (idx,) = self.saved()
        gs = g.index_select(self.dim, idx) if self.needs(1) else None
        if gs is not None and self.alpha != 1:
            gs = gs * self.alpha
        return g, gs


class MaskedFillBackward0(Node):
    def backward(self, g):
        (m,) = self.saved()
        return g.masked_fill(m, 0)


class MaskedFillBackward1(Node):
    def backward(self, g):
        (m,) = self.saved()
        gv = g.where(m, g.new_zeros(())).sum() if self.needs(1) else None
        return g.masked_fill(m, 0), gv


class MaskedSelectBackward0(Node):
    def backward(self, g):
        (m,) = self.saved()
        from .indexing import index_put_zeros
        return index_put_zeros(self.shape, (m._data,), g).sum_to_size(self.in_shape)


class TakeBackward0(Node):
    def backward(self, g):
        (idx,) = self.saved()
        from .indexing import index_put_zeros
        n = 1
        for s in self.shape:
            n *= s
        flat = index_put_zeros((n,), (idx._data % max(n, 1),), g)
        return flat.reshape(self.shape)


class SortBackward0(Node):
    """sort / topk: values gradient scattered to the original positions."""
    _n_out = 2

    def backward(self, g, _gi=None):
        (idx,) = self.saved()
        return g.new_zeros(self.shape).scatter(self.dim, idx, g)

    def _materialize(self, buf):
        return buf


TopkBackward0 = type("TopkBackward0", (SortBackward0,), {})
CummaxBackward0 = type("CummaxBackward0", (Node,), {
    "_n_out": 2,
    "_materialize": lambda self, buf: buf,
    "backward": lambda self, g, _gi=None: g.new_zeros(self.shape).scatter_add(
        self.dim, self.saved()[0], g)})
CumminBackward0 = type("CumminBackward0", (CummaxBackward0,), {})


# ---------------------------------------------------------------- linear algebra
class MmBackward0(Node):
    def backward(self, g):
        a, b = self.saved()
        return (g.mm(b.t().conj()) if self.needs(0) else None,
                a.t().conj().mm(g) if self.needs(1) else None)


class MvBackward0(Node):
    def backward(self, g):
        a, v = self.saved()
        return (g.unsqueeze(1) * v.unsqueeze(0).conj() if self.needs(0) else None,
                a.t().conj().mv(g) if self.needs(1) else None)


class DotBackward0(Node):
    def backward(self, g):
        a, b = self.saved()
        return (g * b.conj() if self.needs(0) else None,
                g * a.conj() if self.needs(1) else None)


class BmmBackward0(Node):
    def backward(self, g):
        a, b = self.saved()
        return (g.bmm(b.transpose(1, 2).conj()) if self.needs(0) else None,
                a.transpose(1, 2).conj().bmm(g) if self.needs(1) else None)


class MatmulBackward(Node):
    """Broadcast batched matmul (>=3-D operands or mixed ranks). The engine sums batch dims."""

    def backward(self, g):
        a, b = self.saved()
        a1, b1 = a.ndim == 1, b.ndim == 1
        A = a.unsqueeze(0) if a1 else a
        B = b.unsqueeze(-1) if b1 else b
        G = g
        if a1:
            G = G.unsqueeze(-2)
        if b1:
            G = G.unsqueeze(-1)
        ga = gb = None
        if self.needs(0):
            ga = G.matmul(B.mT.conj())
            if a1:
                ga = ga.squeeze(-2)
                ga = ga.sum_to_size(a.shape) if ga.shape != a.shape else ga
        if self.needs(1):
            gb = A.mT.conj().matmul(G)
            if b1:
                gb = gb.squeeze(-1)
                gb = gb.sum_to_size(b.shape) if gb.shape != b.shape else gb
        return ga, gb


MatmulBackward.__name__ = "UnsafeViewBackward0"


class AddmmBackward0(Node):
    """bias + x @ w (nn.Linear on 2-D input)."""

    def backward(self, g):
        x, w = self.saved()
        return (g if self.needs(0) else None,
                g.mm(w.t().conj()) if self.needs(1) else None,
                x.t().conj().mm(g) if self.needs(2) else None)


class EinsumBackward(Node):
    def backward(self, g):
        from .linalg import einsum_grad
        ops = self.saved()
        return tuple(einsum_grad(self.specs, self.out_spec, ops, g, i) if self.needs(i)
                     else None for i in range(len(ops)))


EinsumBackward.__name__ = "ViewBackward0"


# ---------------------------------------------------------------- convolution (ops/conv.py)
# Three bilinear primitives (conv, its input gradient = transposed conv, its weight gradient);
# each rule is written with the other two, so double backward works.
def _bias_dims(g):
    return (0,) + tuple(range(2, g.ndim))


class ConvolutionBackward0(Node):
    xp = None

    def backward(self, g):
        from . import conv as C
        x, w = self.saved()
        p = self.p
        gx = C._conv_tin_op(g, w, None, p, self.hw) if self.needs(0) else None
        gw = None
        if self.needs(1):
            xp, self.xp = self.xp, None     # the forward's padded buffer, used once
            gw = C._conv_tw_op(x, g, p, w.shape[2:], xp)
        gb = g.sum(_bias_dims(g)) if self.needs(2) else None
        return gx, gw, gb


@_named("ConvolutionBackward0")
class ConvolutionBackwardTransposed(Node):
    def backward(self, h):
        from . import conv as C
        g, w = self.saved()
        p = self.p
        dg = C._conv_op(h, w, None, p) if self.needs(0) else None
        dw = C._conv_tw_op(h, g, p, w.shape[2:]) if self.needs(1) else None
        db = h.sum(_bias_dims(h)) if self.needs(2) else None
        return dg, dw, db


@_named("ConvolutionBackwardBackward0")
class ConvolutionBackwardWeight(Node):
    def backward(self, k):
        from . import conv as C
        x, g = self.saved()
        p = self.p
        dx = C._conv_tin_op(g, k, None, p, self.hw) if self.needs(0) else None
        dg = C._conv_op(x, k, None, p) if self.needs(1) else None
        return dx, dg


# ---------------------------------------------------------------- torch.linalg (dagrad/linalg.py)
def _LA():
    from .. import linalg
    return linalg


def _eye_t(n, like):
    from ..backend import get_array_module
    from ..tensor import _make
    return _make(get_array_module(like._data).eye(n, dtype=like._data.dtype))


def _multi_out(self, buf):
    return buf


class LinalgInvExBackward0(Node):
    def backward(self, g):
        ai = self.result().mH
        return -(ai @ g @ ai)


class LinalgDetBackward0(Node):
    def backward(self, g):
        (A,) = self.saved()
        d = self.result()
        LA = _LA()
        if bool((d._data != 0).all()):
            return (g * d.conj()).unsqueeze(-1).unsqueeze(-1) * LA.inv(A).mH
        # singular: the adjugate through the SVD, A = U S Vh
        U, S, Vh = LA.svd(A, full_matrices=False)
        from ..tensor import _make
        from ._core import arr
        sgn = _make(arr(np.linalg.det(U._data) * np.linalg.det(Vh._data)))
        adj = (U * _prod_others(S, S.ndim - 1).unsqueeze(-2)) @ Vh
        return (g * sgn).unsqueeze(-1).unsqueeze(-1) * adj.conj()


class LinalgSlogdetBackward0(Node):
    _n_out = 2
    _materialize = _multi_out

    def backward(self, gsign, glog=None):
        if glog is None:
            return None
        (A,) = self.saved()
        return glog.unsqueeze(-1).unsqueeze(-1) * _LA().inv(A).mH


class LinalgSolveExBackward0(Node):
    def backward(self, g):
        (A,) = self.saved()
        X = self.result()
        if self.vec:
            g, X = g.unsqueeze(-1), X.unsqueeze(-1)
        gB = _LA().solve(A.mH, g, left=self.left)
        gA = None
        if self.needs(0):
            gA = -(gB @ X.mH) if self.left else -(X.mH @ gB)
        if self.vec:
            gB = gB.squeeze(-1)
        return gA, (gB if self.needs(1) else None)


class LinalgSolveTriangularBackward0(Node):
    def backward(self, g):
        (A,) = self.saved()
        X = self.result()
        up, left, unit = self.upper, self.left, self.unitriangular
        gB = _LA().solve_triangular(A.mH, g, upper=not up, left=left, unitriangular=unit)
        gA = None
        if self.needs(0):
            gA = -(gB @ X.mH) if left else -(X.mH @ gB)
            gA = gA.triu(1 if unit else 0) if up else gA.tril(-1 if unit else 0)
        return gA, (gB if self.needs(1) else None)


class LinalgCholeskyExBackward0(Node):
    def backward(self, g):
        L = self.result()
        if self.upper:
            L, g = L.mH, g.mH
        LA = _LA()
        gA = (L.mH @ g).tril()
        gA = (gA + gA.tril(-1).mH) * 0.5
        gA = LA.solve_triangular(L.mH, gA, upper=True, left=True)
        return LA.solve_triangular(L, gA, upper=False, left=False)


def _qr_square_bw(gQ, gR, Q, R):
    M = None
    if gR is not None:
        M = gR @ R.mH
    if gQ is not None:
        M = -(Q.mH @ gQ) if M is None else M - Q.mH @ gQ
    X = M.triu()
    d = X.diagonal(0, -2, -1)
    S = X + X.mH - d.real.diag_embed() if d.is_complex() else X + X.mH - d.diag_embed()
    gA = Q @ S
    if gQ is not None:
        gA = gA + gQ
    return _LA().solve_triangular(R.mH, gA, upper=False, left=False)


class LinalgQrBackward0(Node):
    _n_out = 2
    _materialize = _multi_out

    def backward(self, gQ, gR=None):
        if self.mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                "Please use linalg.qr(A, mode='reduced') if you are going to differentiate "
                "through linalg.qr.")
        m, n = self.m, self.k
        if self.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")
        Q, R = self.saved()
        if gQ is None and gR is None:
            return None
        if m >= n:
            return _qr_square_bw(gQ, gR, Q, R)
        # wide: A = Q [R1 | R2] with X = A[:, :m] = Q R1 and R2 = Q^H A[:, m:]
        R1, R2 = R[..., :, :m], R[..., :, m:]
        gR1 = gR[..., :, :m] if gR is not None else None
        gR2 = gR[..., :, m:] if gR is not None else None
        (Aw,) = (Q @ R,)
        Y = Aw[..., :, m:].detach() if not Aw.requires_grad else Aw[..., :, m:]
        gQ2 = gQ
        if gR2 is not None:
            gQ2 = Y @ gR2.mH if gQ2 is None else gQ2 + Y @ gR2.mH
            gY = Q @ gR2
        else:
            gY = (Q @ R2).new_zeros(Y.shape)
        gX = _qr_square_bw(gQ2, gR1, Q, R1)
        return _cat((gX, gY), -1)


class LinalgEighBackward0(Node):
    _n_out = 2
    _materialize = _multi_out

    def backward(self, gL, gV=None):
        L, V = self.saved()
        if gV is None:
            if gL is None:
                return None
            return (V * gL.unsqueeze(-2)) @ V.mH
        VhgV = V.mH @ gV
        VhgV = (VhgV - VhgV.mH) * 0.5
        E = L.unsqueeze(-2) - L.unsqueeze(-1) + _eye_t(L.shape[-1], L)
        inner = VhgV / E
        if gL is not None:
            inner = inner + gL.diag_embed()
        return V @ inner @ V.mH


class LinalgSvdBackward0(Node):
    _n_out = 3
    _materialize = _multi_out

    def backward(self, gU, gS=None, gVh=None):
        U, S, Vh = self.saved()
        m, n = self.m, self.k
        k = S.shape[-1]
        if self.full and m != n:
            U = U[..., :, :k]
            Vh = Vh[..., :k, :]
            gU = gU[..., :, :k] if gU is not None else None
            gVh = gVh[..., :k, :] if gVh is not None else None
        if gU is None and gVh is None:
            if gS is None:
                return None
            return (U * gS.unsqueeze(-2)) @ Vh
        V = Vh.mH
        gV = gVh.mH if gVh is not None else None
        S2 = S * S
        E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + _eye_t(k, S)
        if gU is not None:
            UhgU = U.mH @ gU
            UhgU = UhgU - UhgU.mH
        if gV is not None:
            VhgV = Vh @ gV
            VhgV = VhgV - VhgV.mH
        if gU is not None and gV is not None:
            gA = (UhgU * S.unsqueeze(-2) + S.unsqueeze(-1) * VhgV) / E
        elif gU is not None:
            gA = UhgU / E * S.unsqueeze(-2)
        else:
            gA = S.unsqueeze(-1) * (VhgV / E)
        if gS is not None:
            gA = gA + gS.diag_embed()
        if m > n and gU is not None:
            gA = U @ gA
            gUSinv = gU / S.unsqueeze(-2)
            gA = gA + gUSinv - U @ (U.mH @ gUSinv)
            return gA @ Vh
        if m < n and gV is not None:
            gA = gA @ Vh
            SinvgVh = gVh / S.unsqueeze(-1)
            gA = gA + SinvgVh - (SinvgVh @ V) @ Vh
            return U @ gA
        return U @ gA @ Vh


class LinalgPinvBackward0(Node):
    def backward(self, g):
        (A,) = self.saved()
        P = self.result()
        m, n = A.shape[-2], A.shape[-1]
        Ph, gh = P.mH, g.mH
        if m <= n:
            K = gh @ P
            KPh = K @ Ph
            return -(P @ K).mH + KPh - (A @ P) @ KPh + (Ph @ P) @ (gh - K @ A)
        K = P @ gh
        PhK = Ph @ K
        return -(K @ P).mH + (gh - A @ K) @ P @ Ph + PhK - PhK @ P @ A


class LinalgCrossBackward0(Node):
    def backward(self, g):
        a, b = self.saved()
        LA = _LA()
        return (LA.cross(b.conj(), g, dim=self.dim) if self.needs(0) else None,
                LA.cross(g, a.conj(), dim=self.dim) if self.needs(1) else None)


# ---------------------------------------------------------------- nn: normalisation, losses, embedding
def _norm_stats(self, x):
    """mean/invstd for a fused norm node: recomputed from x (differentiable) when the backward
    is itself recorded, else the arrays saved by the forward."""
    from ..autograd.grad_mode import state as _gs
    from ..tensor import _make
    if self.training and _gs.enabled:
        mean = x.mean(self.axes, keepdim=True)
        var = x.var(self.axes, keepdim=True, correction=0)
        return mean, (var + self.eps).rsqrt()
    return _make(self.mean_arr), _make(self.invstd_arr)


class NativeBatchNormBackward0(Node):
    """Fused normalisation over `axes` with an optional affine (weight, bias) of broadcast shape
    `wshape` reduced over `waxes`. training: the stats came from x itself."""

    def backward(self, g):
        sv = self.saved()
        x = sv[0]
        w = sv[1] if self.has_w else None
        mean, invstd = _norm_stats(self, x)
        xhat = (x - mean) * invstd
        gx = gw = gb = None
        if self.needs(1):
            gw = (g * xhat).sum(self.waxes).reshape(w.shape)
        if self.needs(2):
            gb = g.sum(self.waxes)
            if w is not None:
                gb = gb.reshape(w.shape)
        if self.needs(0):
            gh = g * w.reshape(self.wshape) if w is not None else g
            if self.training:
                ax = self.axes
                gx = (gh - gh.mean(ax, keepdim=True) - xhat * (gh * xhat).mean(ax, keepdim=True)
                      ) * invstd
            else:
                gx = gh * invstd
        return gx, gw, gb


@_named("NativeLayerNormBackward0")
class NativeLayerNormBackward0(NativeBatchNormBackward0):
    pass


class NativeGroupNormBackward0(Node):
    """group_norm: stats per (sample, group) over (C/G, *spatial); per-channel affine."""

    def backward(self, g):
        from ..autograd.grad_mode import state as _gs
        from ..tensor import _make
        sv = self.saved()
        x = sv[0]
        w = sv[1] if self.has_w else None
        shape = x.shape
        N, G = shape[0], self.groups
        xg = x.reshape(N, G, -1)
        if _gs.enabled:
            mean = xg.mean(2, keepdim=True)
            invstd = (xg.var(2, keepdim=True, correction=0) + self.eps).rsqrt()
        else:
            mean, invstd = _make(self.mean_arr), _make(self.invstd_arr)
        xh = (xg - mean) * invstd
        xhat = xh.reshape(shape)
        gx = gw = gb = None
        if self.needs(1):
            gw = (g * xhat).sum(self.waxes)
        if self.needs(2):
            gb = g.sum(self.waxes)
        if self.needs(0):
            gh = (g * w.reshape(self.wshape) if w is not None else g).reshape(N, G, -1)
            gx = ((gh - gh.mean(2, keepdim=True) - xh * (gh * xh).mean(2, keepdim=True))
                  * invstd).reshape(shape)
        return gx, gw, gb


class EmbeddingBackward0(Node):
    def backward(self, g):
        from ..tensor import _make
        idx = self.idx.reshape(-1)
        d = g.shape[-1]
        g2 = g.reshape(-1, d)
        scale = None
        if self.scale_grad_by_freq:
            counts = np.bincount(idx, minlength=self.num)
            scale = (1.0 / counts[idx]).astype(g._data.dtype)
        if self.padding_idx is not None:
            keep = (idx != self.padding_idx).astype(g._data.dtype)
            scale = keep if scale is None else scale * keep
        if scale is not None:
            g2 = g2 * _make(scale[:, None])
        return g.new_zeros((self.num, d)).index_add(0, _make(idx.astype(np.int64)), g2)


class NllLossBackward0(Node):
    """nll_loss over log-probabilities x of shape (C,), (M, C) or (N, C, H, W) (class dim 1);
    tsafe: the M flattened targets (0 where ignored), coef: per-target weight / normaliser."""

    def backward(self, g):
        from ..tensor import _make
        (x,) = self.saved()
        shape = x.shape
        C = shape[0 if len(shape) == 1 else 1]
        M = self.tsafe.shape[0]
        gg = g.reshape(-1) * _make(self.coef)
        g2 = -(gg.unsqueeze(1) * _make(_one_hot_rows(x._data, M, C, self.tsafe)))
        if len(shape) == 1:
            return g2.reshape(C)
        if len(shape) == 4:
            N, _, H, W = shape
            return g2.reshape(N, H, W, C).permute(0, 3, 1, 2)
        return g2


NllLoss2DBackward0 = type("NllLoss2DBackward0", (NllLossBackward0,), {})


def _rows(like, M):
    from ..backend import get_array_module
    return get_array_module(like).arange(M)


def _one_hot_rows(like, M, C, cols):
    from ..backend import zeros
    oh = zeros(like, (M, C))
    oh[_rows(like, M), cols] = 1
    return oh


# ---------------------------------------------------------------- ops/extra.py primitives
class ExtraOpBackward(Node):
    """Backward of the ops/extra.py primitives: `self.rule(self, grad)`, one grad per input.

    ops/extra.py subclasses it under PyTorch's node names (HypotBackward0, SincBackward0...)."""

    def backward(self, g):
        return self.rule(self, g)


# ---------------------------------------------------------------- pooling, padding, resampling
# (ops/pool.py) Every backward is a linear op whose own backward is the forward's linearisation,
# so these rules are differentiable again.
class MaxPool2DWithIndicesBackward0(Node):
    def backward(self, g):
        from . import pool as P
        return P._tap_scatter(g, self.tap, self.geo, self.nd, self.xshape)


class MaxPool1DWithIndicesBackward0(MaxPool2DWithIndicesBackward0):
    pass


@_named("MaxPool2DWithIndicesBackwardBackward0")
class MaxPoolScatterBackward(Node):
    def backward(self, h):
        from . import pool as P
        return P._tap_gather(h, self.tap, self.geo, self.nd, self.oshape)


@_named("MaxPool2DWithIndicesBackward0")
class MaxPoolGatherBackward(Node):
    def backward(self, k):
        from . import pool as P
        return P._tap_scatter(k, self.tap, self.geo, self.nd, self.xshape)


class AvgPool2DBackward0(Node):
    def backward(self, g):
        from . import pool as P
        return P._avg_adj_op(g, self.geo, self.div, self.nd, self.xshape)


class AvgPool1DBackward0(AvgPool2DBackward0):
    pass


@_named("AvgPool2DBackwardBackward0")
class AvgPoolAdjointBackward(Node):
    def backward(self, h):
        from . import pool as P
        return P._avg_op(h, self.geo, self.div, self.nd, AvgPool2DBackward0)


class _SeparableBackward(Node):
    """out = M_1 ... M_k applied to the last k dims; the gradient applies the transposes."""

    def backward(self, g):
        from . import pool as P
        return P._sep_op(g, [m.T for m in self.mats], SeparableAdjointBackward)


@_named("AdaptiveAvgPool2DBackwardBackward0")
class SeparableAdjointBackward(_SeparableBackward):
    pass


class AdaptiveAvgPool1DBackward0(_SeparableBackward):
    pass


class AdaptiveAvgPool2DBackward0(_SeparableBackward):
    pass


class AdaptiveAvgPool3DBackward0(_SeparableBackward):
    pass


class UpsampleLinear1DBackward0(_SeparableBackward):
    pass


class UpsampleBilinear2DBackward0(_SeparableBackward):
    pass


class UpsampleTrilinear3DBackward0(_SeparableBackward):
    pass


class AdaptiveMaxPool2DBackward0(Node):
    def backward(self, g):
        from . import pool as P
        return P._idx_scatter(g, self.idx, self.xshape, self.nd)


class AdaptiveMaxPool1DBackward0(AdaptiveMaxPool2DBackward0):
    pass


@_named("AdaptiveMaxPool2DBackwardBackward0")
class IndexScatterBackward(Node):
    def backward(self, h):
        from . import pool as P
        return P._idx_gather(h, self.idx, self.oshape, self.nd)


@_named("AdaptiveMaxPool2DBackward0")
class IndexGatherBackward(Node):
    def backward(self, k):
        from . import pool as P
        return P._idx_scatter(k, self.idx, self.xshape, self.nd)


class _TakeBackward(Node):
    """out = x taken along axes by index maps (non-constant pads, nearest resampling)."""

    def backward(self, g):
        from . import pool as P
        return P._take_adj_op(g, self.maps, self.xshape)


class ReflectionPad1DBackward0(_TakeBackward):
    pass


class ReflectionPad2DBackward0(_TakeBackward):
    pass


class ReflectionPad3DBackward0(_TakeBackward):
    pass


class ReplicationPad1DBackward0(_TakeBackward):
    pass


class ReplicationPad2DBackward0(_TakeBackward):
    pass


class ReplicationPad3DBackward0(_TakeBackward):
    pass


@_named("CopySlices")
class CircularPadBackward(_TakeBackward):
    pass


class UpsampleNearest1DBackward0(_TakeBackward):
    pass


class UpsampleNearest2DBackward0(_TakeBackward):
    pass


class UpsampleNearest3DBackward0(_TakeBackward):
    pass


class UpsampleNearestExact1DBackward0(_TakeBackward):
    pass


class UpsampleNearestExact2DBackward0(_TakeBackward):
    pass


class UpsampleNearestExact3DBackward0(_TakeBackward):
    pass


@_named("IndexBackward0")
class TakeGenericBackward(_TakeBackward):
    pass


@_named("IndexPutBackward0")
class TakeAdjointBackward(Node):
    def backward(self, h):
        from . import pool as P
        return P._take_op(h, self.maps, TakeGenericBackward)


class ConstantPadNdBackward0(Node):
    def backward(self, g):
        from . import pool as P
        return P._constant_pad_op(g, tuple(-q for q in self.pads), 0)


class Im2ColBackward0(Node):
    def backward(self, g):
        from . import pool as P
        return P._fold_op(g, self.osz, *self.args)


class Col2ImBackward0(Node):
    def backward(self, g):
        from . import pool as P
        return P._unfold_op(g, *self.args)


class PixelShuffleBackward0(Node):
    def backward(self, g):
        from . import pool as P
        return P._shuffle_op(g, self.r, False)


class PixelUnshuffleBackward0(Node):
    def backward(self, g):
        from . import pool as P
        return P._shuffle_op(g, self.r, True)


class UpsampleBicubic2DBackward0(_SeparableBackward):
    pass


class MaxUnpool2DBackward0(IndexScatterBackward):
    pass


MaxUnpool2DBackward0.__name__ = MaxUnpool2DBackward0.__qualname__ = "MaxUnpool2DBackward0"


class MaxUnpool1DBackward0(IndexScatterBackward):
    pass


MaxUnpool1DBackward0.__name__ = MaxUnpool1DBackward0.__qualname__ = "MaxUnpool1DBackward0"


class LinalgLuFactorExBackward0(Node):
    _n_out = 3
    _materialize = _multi_out

    def backward(self, gLU, _gp=None, _gi=None):
        if gLU is None:
            return None
        LU = self.result()
        (A,) = self.saved()
        from ..tensor import _make
        LA = _LA()
        P, L, U = LA.lu_unpack(LU, None, unpack_pivots=False)
        P = _make(LA._perm_matrix(self.perm, LU._data.dtype))
        m, n = A.shape[-2], A.shape[-1]
        k = min(m, n)
        return LA._lu_backward(P, L, U, gLU[..., :, :k].tril(-1), gLU[..., :k, :].triu())


class LinalgLuBackward0(Node):
    _n_out = 3
    _materialize = _multi_out

    def backward(self, gP, gL=None, gU=None):
        if gL is None and gU is None:
            return None
        P, L, U = self.saved()
        return _LA()._lu_backward(P, L, U, gL, gU)


class LinalgMatrixExpBackward0(Node):
    def backward(self, g):
        (A,) = self.saved()
        return _LA()._matrix_exp_frechet(A.mH, g)


class LinalgEigBackward0(Node):
    """torch.linalg.eig / eigvals (PyTorch's linalg_eig_backward, non-Hermitian case)."""
    _n_out = 2
    _materialize = _multi_out

    def backward(self, gL, gV=None):
        L, V = self.saved()
        LA = _LA()
        Vh = V.mH
        if gV is None:
            if gL is None:
                return None
            gA = LA.solve(Vh, gL.unsqueeze(-1) * Vh)
        else:
            VhgV = Vh @ gV
            d = VhgV.diagonal(0, -2, -1)
            im = np.imag(d._data)
            if not np.allclose(im, 0, rtol=1e-2, atol=1e-2):
                raise RuntimeError(
                    "linalg_eig_backward: The eigenvectors in the complex case are specified up "
                    "to multiplication by e^{i phi}. The specified loss function depends on this "
                    "quantity, so it is ill-defined.")
            VhgV = VhgV - Vh @ (V * d.real.unsqueeze(-2))
            Lc = L.conj()
            n = L.shape[-1]
            eye = _eye_t(n, L)
            E = Lc.unsqueeze(-2) - Lc.unsqueeze(-1) + eye
            inner = VhgV / E
            if gL is not None:
                inner = inner * (1 - eye) + gL.diag_embed()
            gA = LA.solve(Vh, inner @ Vh)
        return gA.real if self.real_input else gA


def _pinv_backward(g, P, A):
    """PyTorch's pinv_backward: the gradient of A through P = pinv(A)."""
    m, n = A.shape[-2], A.shape[-1]
    Ph, gh = P.mH, g.mH
    if m <= n:
        K = gh @ P
        KPh = K @ Ph
        return -(P @ K).mH + KPh - (A @ P) @ KPh + (Ph @ P) @ (gh - K @ A)
    K = P @ gh
    PhK = Ph @ K
    return -(K @ P).mH + (gh - A @ K) @ P @ Ph + PhK - PhK @ P @ A


class LinalgLstsqBackward0(Node):
    """torch.linalg.lstsq: PyTorch's linalg_lstsq_backward for the solution (through pinv(A)),
    plus the residuals' gradient (at the optimum: 2 (AX - B) X^H and -2 (AX - B))."""
    _n_out = 2
    _materialize = _multi_out

    def backward(self, gX, gR=None):
        A, B, X = self.saved()
        vec = self.vec
        Bm = B.unsqueeze(-1) if vec else B
        Xm = X.unsqueeze(-1) if vec else X
        gA = gB = None
        if gX is not None:
            gXm = gX.unsqueeze(-1) if vec else gX
            P = _LA().pinv(A)
            if self.needs(0):
                gA = _pinv_backward(gXm @ Bm.mH, P, A)
            if self.needs(1):
                gB = P.mH @ gXm
        if gR is not None and gR.numel() > 0:
            Rm = A @ Xm - Bm
            w = gR.unsqueeze(-1).unsqueeze(-1) if vec else gR.unsqueeze(-2)
            Rw = Rm * w * 2
            if self.needs(0):
                t = Rw @ Xm.mH
                gA = t if gA is None else gA + t
            if self.needs(1):
                gB = -Rw if gB is None else gB - Rw
        if gB is not None and vec:
            gB = gB.squeeze(-1)
        return gA, gB


def _pnorm_weights(diff, r, p):
    """d r / d diff for r = ||diff||_p over the last dim (r keeps that dim as size 1), with
    PyTorch's conventions: 0 where r == 0, and where diff == 0 for p < 1."""
    zero = r == 0
    if p == 0:
        return diff * 0
    if p == 1:
        return diff.sign()
    if p == 2:
        return (diff / r.masked_fill(zero, 1)).masked_fill(zero, 0)
    if p == math.inf:
        return diff.sign() * (diff.abs() == r).to(diff.dtype)
    ad = diff.abs()
    rp = r.masked_fill(zero, 1) ** (p - 1)
    if p < 2:
        w = diff.sign() * ad ** (p - 1) / rp
        if p < 1:
            w = w.masked_fill(diff == 0, 0)
    else:
        w = diff * ad ** (p - 2) / rp
    return w.masked_fill(zero, 0)


class CdistBackward0(Node):
    """torch.cdist's direct path (PyTorch's _cdist_backward, for both inputs)."""

    def backward(self, g):
        x1, x2 = self.saved()
        r = self.result().unsqueeze(-1)
        diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
        gw = g.unsqueeze(-1) * _pnorm_weights(diff, r, self.p)
        return (gw.sum(-2) if self.needs(0) else None,
                -gw.sum(-3) if self.needs(1) else None)


class PdistBackward0(Node):
    """torch.pdist / F.pdist: pairs (i < j) of rows; the gradient is scattered to both rows."""

    def backward(self, g):
        (x,) = self.saved()
        i, j = self.pairs
        diff = x.index_select(0, i) - x.index_select(0, j)
        gw = g.unsqueeze(-1) * _pnorm_weights(diff, self.result().unsqueeze(-1), self.p)
        return x.new_zeros(x.shape).index_add(0, i, gw).index_add(0, j, -gw)


class EuclideanDistBackward0(Node):
    """torch._euclidean_dist (cdist's matrix-product path): PyTorch's _euclidean_dist_backward."""

    def backward(self, g):
        x1, x2 = self.saved()
        res = self.result()
        ratio = g / res
        return (x1 * ratio.sum(-1, keepdim=True) - ratio @ x2 if self.needs(0) else None,
                x2 * ratio.sum(-2).unsqueeze(-1) - ratio.mT @ x1 if self.needs(1) else None)


@_named("NormBackward1")
class NormBackward1(LinalgVectorNormBackward0):
    """torch.norm(x, p, dim) (F.pairwise_distance's norm): the vector-norm rule."""


def _norm_grad(x, r, gg, p, dims):
    """Gradient of r = ||x||_p over dims (r and gg broadcast against x)."""
    if p == 2:
        return gg * x / r.masked_fill(r == 0, 1)
    if p == 1:
        return gg * x.sgn()
    if p == 0:
        return gg * 0 * x
    if p == math.inf or p == -math.inf:
        mask = (x.abs() == r).to(x.dtype)
        return gg * x.sgn() * mask / mask.sum(dims, keepdim=True)
    return gg * x.sgn() * x.abs() ** (p - 1) / (r ** (p - 1)).masked_fill(r == 0, 1)


class DistBackward0(Node):
    """torch.dist(a, b, p): the p-norm of a - b (broadcast); the engine sums broadcast dims."""

    def backward(self, g):
        a, b = self.saved()
        d = a - b
        gd = _norm_grad(d, self.result(), g, self.p, tuple(range(d.ndim)))
        return (gd if self.needs(0) else None, -gd if self.needs(1) else None)


@_named("AddBackward1")
class AddBackward1(AddScalarBackward):
    """tensor + Scalar as PyTorch's C++ composites record it (add.Scalar)."""


@_named("ClampMinBackward0")
class ClampMinBackward0(ClampBackward1):
    """x.clamp_min(scalar) (torch.clamp(min=...) records ClampBackward1)."""


@_named("ClampMaxBackward0")
class ClampMaxBackward0(ClampBackward1):
    """x.clamp_max(scalar)."""


# tensor * Python scalar inside PyTorch's C++ composites (mul.Scalar): same rule, its own name
MulScalarBackward1 = type("MulBackward1", (MulScalarBackward,), {"_frees": False})  # a Scalar


# ---------------------------------------------------------------- 3-D / fractional pooling
# (ops/pool3d.py) Each backward is a linear op whose own backward is the forward's
# linearisation (tap scatter <-> tap gather, flat-index scatter <-> gather, avg <-> adjoint).
class MaxPool3DWithIndicesBackward0(Node):
    def backward(self, g):
        from . import pool3d as P
        return P._tap_scatter(g, self.tap, self.geo, self.xshape)


@_named("MaxPool3DWithIndicesBackwardBackward0")
class MaxPool3DScatterBackward(Node):
    def backward(self, h):
        from . import pool3d as P
        return P._tap_gather(h, self.tap, self.geo, self.oshape)


@_named("MaxPool3DWithIndicesBackward0")
class MaxPool3DGatherBackward(Node):
    def backward(self, k):
        from . import pool3d as P
        return P._tap_scatter(k, self.tap, self.geo, self.xshape)


class AvgPool3DBackward0(Node):
    def backward(self, g):
        from . import pool3d as P
        return P._avg_adj_op(g, self.geo, self.div, self.xshape)


@_named("AvgPool3DBackwardBackward0")
class AvgPool3DAdjointBackward(Node):
    def backward(self, h):
        from . import pool3d as P
        return P._avg_op(h, self.geo, self.div, AvgPool3DBackward0)


class _FlatIdxScatterBackward(Node):
    """The forward scattered g at flat per-plane indices: the gradient gathers."""
    gather_cls = None

    def backward(self, h):
        from . import pool3d as P
        return P._idx_gather(h, self.idx, self.oshape, self.gather_cls, self.nd)


class _FlatIdxGatherBackward(Node):
    """The forward gathered at flat per-plane indices: the gradient scatter-adds."""
    scatter_cls = None

    def backward(self, g):
        from . import pool3d as P
        return P._idx_scatter(g, self.idx, self.xshape, self.scatter_cls, False, self.nd)


class AdaptiveMaxPool3DBackward0(_FlatIdxGatherBackward):
    pass


@_named("AdaptiveMaxPool3DBackwardBackward0")
class AdaptiveMaxPool3DScatterBackward(_FlatIdxScatterBackward):
    gather_cls = AdaptiveMaxPool3DBackward0


AdaptiveMaxPool3DBackward0.scatter_cls = AdaptiveMaxPool3DScatterBackward


class FractionalMaxPool2DBackward0(_FlatIdxGatherBackward):
    pass


@_named("FractionalMaxPool2DBackwardBackward0")
class FractionalMaxPool2DScatterBackward(_FlatIdxScatterBackward):
    gather_cls = FractionalMaxPool2DBackward0


FractionalMaxPool2DBackward0.scatter_cls = FractionalMaxPool2DScatterBackward


class FractionalMaxPool3DBackward0(_FlatIdxGatherBackward):
    pass


@_named("FractionalMaxPool3DBackwardBackward0")
class FractionalMaxPool3DScatterBackward(_FlatIdxScatterBackward):
    gather_cls = FractionalMaxPool3DBackward0


FractionalMaxPool3DBackward0.scatter_cls = FractionalMaxPool3DScatterBackward


class MaxUnpool3DBackward0(_FlatIdxScatterBackward):
    pass


@_named("GatherBackward0")
class MaxUnpool3DGatherBackward(_FlatIdxGatherBackward):
    scatter_cls = MaxUnpool3DBackward0


MaxUnpool3DBackward0.gather_cls = MaxUnpool3DGatherBackward


class CompositeBackward(Node):
    """One node for an op PyTorch records as one (TriangularSolveBackward0,
    CholeskySolveBackward0...) but dagrad composes from differentiable ops: the backward re-runs
    the composite `self.fn` on the saved inputs and differentiates it (create_graph keeps it
    differentiable). linalg._one_node subclasses it under PyTorch's names."""
    _materialize = _multi_out

    def backward(self, *gs):
        from ..autograd import grad as _grad
        from ..autograd.grad_mode import enable_grad
        from ..autograd.grad_mode import state as _gs
        create = _gs.enabled  # grad mode is on inside a rule only under create_graph=True
        ins = self.saved()
        need = [i for i in range(len(ins)) if self.needs(i)]
        with enable_grad():
            xs = list(ins) if create else [
                x.detach().requires_grad_(True) if i in need else x.detach()
                for i, x in enumerate(ins)]
            outs = self.fn(*xs)
            outs = outs if isinstance(outs, tuple) else (outs,)
            pairs = [(o, g) for o, g in zip(outs, gs) if g is not None and o.requires_grad]
            if not pairs or not need:
                return (None,) * len(ins) if len(ins) > 1 else None
            got = _grad([o for o, _ in pairs], [xs[i] for i in need],
                        grad_outputs=[g for _, g in pairs], create_graph=create,
                        allow_unused=True)
        res = [None] * len(ins)
        for i, g in zip(need, got):  # an input this output does not use gets zeros, as torch
            res[i] = g if g is not None else ins[i].detach() * 0
        return tuple(res) if len(ins) > 1 else res[0]


class TraceBackward0(Node):
    def backward(self, g):
        from ..tensor import _make
        n, m = self.shape
        from ..backend import get_array_module
        return g * _make(get_array_module(g._data).eye(n, m, dtype=g._data.dtype))


class DiagonalBackward0(Node):
    def backward(self, g):
        from .linalg import _diagonal_scatter
        return _diagonal_scatter(g, self.shape, self.offset, self.dim1, self.dim2)


class DiagonalBackwardBackward0(Node):
    def backward(self, g):
        from .linalg import diagonal
        return diagonal(g, self.offset, self.dim1, self.dim2)


@_named("CholeskyBackward0")
class CholeskyBackward0(LinalgCholeskyExBackward0):
    """torch.cholesky (deprecated alias): linalg.cholesky's rule."""


# ---------------------------------------------------------------- ops/gaps.py
class RenormBackward0(Node):
    """y = x * f(||x_slice||_p), f = maxnorm / (norm + 1e-7) where norm > maxnorm else 1."""

    def backward(self, g):
        from .gaps import _renorm_grad
        (x,) = self.saved()
        return _renorm_grad(x, g, self.p, self.axes, self.maxnorm)


class BlockDiagBackward0(Node):
    """Each input's gradient is its block of g (cast back to its dtype)."""

    def backward(self, g):
        res = []
        for i, (r, h, c, w, shape, dt) in enumerate(self.spans):
            if not self.needs(i):
                res.append(None)
                continue
            b = g[r:r + h, c:c + w].reshape(shape)
            res.append(b if b._data.dtype == dt else b.to(_dtype_of(dt)))
        return tuple(res) if len(res) > 1 else res[0]


def _dtype_of(npdt):
    from .._dtype import from_np
    return from_np(npdt)


class ScatterReduceBackward0(Node):
    """scatter_reduce(dim, index, src, reduce, include_self) (ops/gaps.py has the rule)."""

    def backward(self, g):
        from .gaps import _scatter_reduce_backward
        return _scatter_reduce_backward(self, g)


# ---------------------------------------------------------------- torch.fft (dagrad/fft.py)
class FftC2CBackward0(Node):
    def backward(self, g):
        from ..fft import _c2c_backward
        return _c2c_backward(self, g)


class FftR2CBackward0(Node):
    def backward(self, g):
        from ..fft import _r2c_backward
        return _r2c_backward(self, g)


class FftC2RBackward0(Node):
    def backward(self, g):
        from ..fft import _c2r_backward
        return _c2r_backward(self, g)


class TrilBackward0(Node):
    def backward(self, g):
        return g.tril(self.k)


class TriuBackward0(Node):
    def backward(self, g):
        return g.triu(self.k)


class IgammaBackward0(Node):
    """igamma(a, x): d/dx = x^(a-1) e^-x / Gamma(a); no derivative in a (as PyTorch)."""

    def backward(self, g):
        from .gaps import _igamma_backward
        return _igamma_backward(self, g, False)


class IgammacBackward0(Node):
    def backward(self, g):
        from .gaps import _igamma_backward
        return _igamma_backward(self, g, True)


class ClampMinBackward1(Node):
    """x.clamp_min(Tensor min): x's gradient where x >= min, min's where x < min (PyTorch's
    formulas: NaN on either side sends nothing)."""

    def backward(self, g):
        x, b = self.saved()
        z = g.new_zeros(())
        return (g.where(x >= b, z) if self.needs(0) else None,
                g.where(x < b, z) if self.needs(1) else None)


class ClampMaxBackward1(Node):
    """x.clamp_max(Tensor max): x's gradient where x <= max, max's where x > max."""

    def backward(self, g):
        x, b = self.saved()
        z = g.new_zeros(())
        return (g.where(x <= b, z) if self.needs(0) else None,
                g.where(x > b, z) if self.needs(1) else None)


@_named("IndexPutBackward0")
class IndexPutAccumulateBackward(Node):
    """x.index_put(indices, values, accumulate=True): x's gradient is g, values' g[indices]."""

    def backward(self, g):
        from .indexing import getitem_raw
        return (g if self.needs(0) else None,
                getitem_raw(g, self.key) if self.needs(1) else None)
