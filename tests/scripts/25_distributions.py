"""torch.distributions as used in RL / VAE tutorials: log_prob, entropy, KL, reparameterised
samples' shapes and gradients (values drawn from the RNG are not printed)."""
import torch
from torch.distributions import Bernoulli, Categorical, Normal, Uniform
from torch.distributions import kl_divergence

mu = torch.tensor([0.0, 1.0], requires_grad=True)
sigma = torch.tensor([1.0, 0.5], requires_grad=True)
dist = Normal(mu, sigma)
print(dist, dist.batch_shape, dist.event_shape)
print(dist.mean, dist.stddev, dist.variance)
x = torch.tensor([0.5, 0.5])
lp = dist.log_prob(x)
print(lp)
print(dist.entropy(), dist.cdf(x), dist.icdf(torch.tensor([0.5, 0.975])))
lp.sum().backward()
print(mu.grad, sigma.grad)
s = dist.rsample((3,))
print(s.shape, s.requires_grad, dist.sample().requires_grad, dist.sample((4, 2)).shape)
print(kl_divergence(Normal(0.0, 1.0), Normal(torch.tensor([0.5, 1.0]), torch.tensor([1.0, 2.0]))))
print(Normal(0.0, 1.0), Normal(0.0, 1.0).log_prob(torch.tensor(0.0)))

logits = torch.tensor([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]], requires_grad=True)
cat = Categorical(logits=logits)
print(cat)
print(cat.probs)
print(cat.logits)
print(cat.log_prob(torch.tensor([1, 2])), cat.entropy(), cat.batch_shape)
action = torch.tensor([2, 0])
loss = -(cat.log_prob(action) * torch.tensor([1.0, -0.5])).sum()
loss.backward()
print(logits.grad)
print(cat.sample().shape, cat.sample((5,)).shape, cat.mode)
c2 = Categorical(probs=torch.tensor([0.2, 0.3, 0.5]))
print(c2, c2.logits, c2.entropy())
print(kl_divergence(c2, Categorical(probs=torch.tensor([1 / 3, 1 / 3, 1 / 3]))))

b = Bernoulli(probs=torch.tensor([0.3, 0.9]))
print(b.log_prob(torch.tensor([1.0, 0.0])), b.entropy(), b.mean, b.variance)
print(b, b.sample().shape)
print(Bernoulli(logits=torch.tensor([0.0, 2.0])).probs)
u = Uniform(torch.tensor([0.0]), torch.tensor([2.0]))
print(u, u.log_prob(torch.tensor([0.5])), u.entropy(), u.mean, u.stddev, u.cdf(torch.tensor([0.5])))
print(u.rsample((2,)).shape)
