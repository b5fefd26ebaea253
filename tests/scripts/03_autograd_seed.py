"""Autograd tutorial (seed sections 3-6)."""
import torch

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3*a**3 - b**2
print(Q)
external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)
print(9*a**2 == a.grad)
print(-2*b == b.grad)
print(a.grad, b.grad)
print(str(Q.grad_fn).split(" object at ")[0])
print(type(Q.grad_fn).__name__)
print(Q.grad_fn.next_functions[0][0].__class__.__name__)
print(a.is_leaf, Q.is_leaf, Q.requires_grad)

x = torch.rand(5, 5)
y = torch.rand(5, 5)
z = torch.rand((5, 5), requires_grad=True)
a2 = x + y
print(f"Does `a` require gradients?: {a2.requires_grad}")
b2 = x + z
print(f"Does `b` require gradients?: {b2.requires_grad}")

x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
print(y)
print(y.grad_fn.__class__.__name__)
z = y * y * 3
out = z.mean()
print(z, out)
out.backward()
print(x.grad)

a = torch.tensor([1.0, 2.0], requires_grad=True)
l = (a * a).sum()
l.backward()
print(a.grad)
a.grad.zero_()
(a ** 3).sum().backward()
print(a.grad)
(a ** 3).sum().backward()
print(a.grad)
