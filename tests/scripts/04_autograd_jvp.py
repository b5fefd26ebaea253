"""Autograd: vector-Jacobian products, no_grad, detach, retain_graph, torch.autograd.grad."""
import torch

x = torch.linspace(-1, 1, 3, requires_grad=True)
y = x * 2
i = 0
while y.data.norm() < 100:
    y = y * 2
    i += 1
print(y, i)
v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(v)
print(x.grad)

print(x.requires_grad)
print((x ** 2).requires_grad)
with torch.no_grad():
    print((x ** 2).requires_grad)
print(x.requires_grad)
y = x.detach()
print(y.requires_grad)
print(x.eq(y).all())

@torch.no_grad()
def double(t):
    return t * 2
print(double(x).requires_grad)

torch.set_grad_enabled(False)
print((x * 2).requires_grad)
torch.set_grad_enabled(True)
print((x * 2).requires_grad, torch.is_grad_enabled())

w = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
inp = torch.tensor([0.5, -1.0])
out = w @ inp
loss = out.pow(2).sum()
g, = torch.autograd.grad(loss, w, retain_graph=True)
print(g)
loss.backward()
print(w.grad)
try:
    loss.backward()
except RuntimeError as e:
    print("RuntimeError:", str(e).split(".")[0])

x = torch.tensor(2.0, requires_grad=True)
y = x ** 3
dy, = torch.autograd.grad(y, x, create_graph=True)
d2y, = torch.autograd.grad(dy, x)
print(dy, d2y)

from torch.autograd.functional import hessian, jacobian  # noqa: E402


def f(t):
    return t ** 2 + t.sin()
print(jacobian(f, torch.tensor([0.0, 1.0, 2.0])))
print(hessian(lambda t: (t ** 3).sum(), torch.tensor([1.0, 2.0])))

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x.detach().requires_grad_()
(y * 3).sum().backward()
print(x.grad, y.grad)
x.data.mul_(2)
print(x)
h = x.register_hook(lambda g: g * 10)
(x * x).sum().backward()
print(x.grad)
h.remove()
