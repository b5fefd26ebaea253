"""Tensors tutorial: arithmetic, in-place ops, numpy bridge."""
import torch

tensor = torch.linspace(-1, 2, 12).reshape(3, 4)
y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
y3 = torch.rand_like(y1)
torch.matmul(tensor, tensor.T, out=y3)
print(y1)
print(torch.equal(y1, y2), torch.allclose(y1, y3))

z1 = tensor * tensor
z2 = tensor.mul(tensor)
z3 = torch.rand_like(tensor)
torch.mul(tensor, tensor, out=z3)
print(z1)
print(torch.equal(z1, z3))

agg = tensor.sum()
agg_item = agg.item()
print(round(agg_item, 4), type(agg_item))

print(f"{tensor} \n")
tensor.add_(5)
print(tensor)
tensor.mul_(2).sub_(1)
print(tensor)
tensor.clamp_(min=9.5, max=11)
print(tensor)

t = torch.ones(5)
print(f"t: {t}")
n = t.numpy()
print(f"n: {n}")
t.add_(1)
print(f"t: {t}")
print(f"n: {n}")

import numpy as np  # noqa: E402

n = np.ones(5)
t = torch.from_numpy(n)
np.add(n, 1, out=n)
print(f"t: {t}")
print(f"n: {n}")

a = torch.arange(6, dtype=torch.float64).reshape(2, 3)
print(a / 3)
print(a // 4, a % 4)
print(a ** 2, 2 ** a)
print(-a, abs(-a))
print(torch.exp(a), torch.log1p(a))
print(torch.sqrt(a), torch.sin(a).round(decimals=2))
print(a.int() / 2)
print(torch.tensor([1, 2, 3]) / torch.tensor([2, 2, 2]))
print(torch.tensor([1, 2, 3]) // 2)
print(torch.tensor([True, False]) & torch.tensor([True, True]))
print((a > 2).sum(), (a > 2).any(), (a > 2).all())
print(a.tolist())
print(torch.tensor([1.5, 2.5]).numpy().dtype)
b = a.clone()
b[0, 0] = 100
print(a[0, 0].item(), b[0, 0].item())
print(torch.max(a, dim=1))
print(torch.cumsum(a, 0))
print(a.std(), a.var(dim=1))
print(a.norm(), torch.dist(a, torch.zeros_like(a)))
