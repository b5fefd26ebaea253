"""torch.distributions, a first subset: Normal, Categorical, Bernoulli, Uniform and
kl_divergence between two Normals / two Categoricals. Formulas as PyTorch's; argument
validation (validate_args) is not implemented."""
import math

__all__ = ["Distribution", "Normal", "Categorical", "Bernoulli", "Uniform", "kl_divergence"]


def _t():
    import dagrad
    return dagrad


def _broadcast_all(*values):
    t = _t()
    ref = next((v for v in values if isinstance(v, t.Tensor)), None)
    dtype = ref.dtype if ref is not None else t.get_default_dtype()
    dev = ref.device if ref is not None else None
    vs = [v if isinstance(v, t.Tensor) else t.tensor(float(v), dtype=dtype, device=dev)
          for v in values]
    return t.broadcast_tensors(*vs)


def _size(shape):
    return _t().Size(tuple(shape))


class Distribution:
    arg_constraints = {}
    has_rsample = False

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = _size(batch_shape)
        self._event_shape = _size(event_shape)

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=()):
        return _size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def sample(self, sample_shape=()):
        with _t().no_grad():
            return self.rsample(sample_shape)

    def sample_n(self, n):
        return self.sample((n,))

    @property
    def stddev(self):
        return self.variance.sqrt()

    def perplexity(self):
        return self.entropy().exp()

    def __repr__(self):
        parts = []
        for p in self.arg_constraints:
            if p in self.__dict__:
                v = self.__dict__[p]
                shown = (v.item() if v.dim() == 0 else v) if v.numel() == 1 else v.size()
                parts.append(f"{p}: {shown}")
        return type(self).__name__ + "(" + ", ".join(parts) + ")"


class Normal(Distribution):
    arg_constraints = {"loc": None, "scale": None}
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _broadcast_all(loc, scale)
        super().__init__(self.loc.shape, (), validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def rsample(self, sample_shape=()):
        t = _t()
        shape = self._extended_shape(sample_shape)
        eps = t.randn(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + eps * self.scale

    def sample(self, sample_shape=()):
        t = _t()
        shape = self._extended_shape(sample_shape)
        with t.no_grad():
            return t.normal(self.loc.expand(shape), self.scale.expand(shape))

    def log_prob(self, value):
        var = self.scale ** 2
        log_scale = self.scale.log()
        return -((value - self.loc) ** 2) / (2 * var) - log_scale - math.log(
            math.sqrt(2 * math.pi))

    def cdf(self, value):
        return 0.5 * (1 + _t().erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value):
        return self.loc + self.scale * _t().erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + _t().log(self.scale)


def _clamp_probs(probs):
    eps = _t().finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


class Categorical(Distribution):
    arg_constraints = {"probs": None, "logits": None}

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError(
                "Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
            param = self.probs
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
            param = self.logits
        self._param = param
        self._num_events = param.size(-1)
        super().__init__(param.shape[:-1], (), validate_args)

    def __getattr__(self, name):
        # lazy properties, cached in __dict__ (and then shown by repr) as PyTorch's
        if name == "logits":
            v = _clamp_probs(self.__dict__["probs"]).log()
        elif name == "probs":
            v = _t().nn.functional.softmax(self.__dict__["logits"], dim=-1)
        else:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        self.__dict__[name] = v
        return v

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def mean(self):
        t = _t()
        return t.full(self._extended_shape(), math.nan, dtype=self.probs.dtype,
                      device=self.probs.device)

    @property
    def mode(self):
        return self.probs.argmax(dim=-1)

    @property
    def variance(self):
        t = _t()
        return t.full(self._extended_shape(), math.nan, dtype=self.probs.dtype,
                      device=self.probs.device)

    def sample(self, sample_shape=()):
        t = _t()
        sample_shape = _size(sample_shape)
        probs_2d = self.probs.reshape(-1, self._num_events)
        n = 1
        for s in sample_shape:
            n *= s
        with t.no_grad():
            samples_2d = t.multinomial(probs_2d, n, True).T
        return samples_2d.reshape(self._extended_shape(sample_shape))

    def log_prob(self, value):
        t = _t()
        value = value.long().unsqueeze(-1)
        value, log_pmf = t.broadcast_tensors(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self):
        t = _t()
        min_real = t.finfo(self.logits.dtype).min
        logits = t.clamp(self.logits, min=min_real)
        p_log_p = logits * self.probs
        return -p_log_p.sum(-1)


class Bernoulli(Distribution):
    arg_constraints = {"probs": None, "logits": None}

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError(
                "Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = _broadcast_all(probs)
            param = self.probs
        else:
            (self.logits,) = _broadcast_all(logits)
            param = self.logits
        super().__init__(param.shape, (), validate_args)

    def __getattr__(self, name):
        t = _t()
        if name == "logits":
            ps = _clamp_probs(self.__dict__["probs"])
            v = t.log(ps) - t.log1p(-ps)
        elif name == "probs":
            v = t.sigmoid(self.__dict__["logits"])
        else:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        self.__dict__[name] = v
        return v

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        mode[self.probs == 0.5] = math.nan
        return mode

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        t = _t()
        shape = self._extended_shape(sample_shape)
        with t.no_grad():
            return t.bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        logits, value = _broadcast_all(self.logits, value)
        return -_t().nn.functional.binary_cross_entropy_with_logits(logits, value,
                                                                     reduction="none")

    def entropy(self):
        return _t().nn.functional.binary_cross_entropy_with_logits(self.logits, self.probs,
                                                                   reduction="none")


class Uniform(Distribution):
    arg_constraints = {"low": None, "high": None}
    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = _broadcast_all(low, high)
        super().__init__(self.low.shape, (), validate_args)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return math.nan * self.high

    @property
    def stddev(self):
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=()):
        t = _t()
        shape = self._extended_shape(sample_shape)
        rand = t.rand(shape, dtype=self.low.dtype, device=self.low.device)
        return self.low + rand * (self.high - self.low)

    def log_prob(self, value):
        t = _t()
        lb = self.low.le(value).type_as(self.low)
        ub = self.high.gt(value).type_as(self.low)
        return t.log(lb.mul(ub)) - t.log(self.high - self.low)

    def cdf(self, value):
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return _t().log(self.high - self.low)


def kl_divergence(p, q):
    t = _t()
    if isinstance(p, Normal) and isinstance(q, Normal):
        var_ratio = (p.scale / q.scale).pow(2)
        t1 = ((p.loc - q.loc) / q.scale).pow(2)
        return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())
    if isinstance(p, Categorical) and isinstance(q, Categorical):
        r = p.probs * (p.logits - q.logits)
        r = t.where((q.probs == 0).expand_as(r), t.tensor(math.inf, dtype=r.dtype, device=r.device),
                    r)
        r = t.where((p.probs == 0).expand_as(r), t.tensor(0.0, dtype=r.dtype, device=r.device), r)
        return r.sum(-1)
    raise NotImplementedError(
        f"No KL(p || q) is implemented for {type(p).__name__} and {type(q).__name__} in dagrad")


class kl:  # torch.distributions.kl module namespace
    kl_divergence = staticmethod(kl_divergence)
