"""Autograd mechanics notes: retain_grad, hooks, backward hooks on modules, higher-order grads,
Function extras (needs_input_grad, mark_non_differentiable, set_materialize_grads), anomaly mode."""
import warnings

import torch
import torch.nn as nn

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x * 2
y.retain_grad()
z = (y ** 2).sum()
z.backward()
print(y.grad, x.grad, y.is_leaf, y.requires_grad)
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    q = x * 3
    _ = q.grad
    print(len(w) > 0, "non-leaf" in str(w[0].message) if w else None)

grads = []
a = torch.tensor([0.5, -1.0], requires_grad=True)
b = a.exp()
b.register_hook(lambda g: grads.append(g.clone()))
b.sum().backward()
print(grads, a.grad)

lin = nn.Linear(2, 2)
with torch.no_grad():
    lin.weight.copy_(torch.tensor([[1.0, -1.0], [0.5, 2.0]]))
    lin.bias.zero_()
seen = []
lin.register_full_backward_hook(lambda m, gin, gout: seen.append((gin[0].shape, gout[0])))
lin.register_forward_pre_hook(lambda m, inp: seen.append(("pre", inp[0].shape)))
inp = torch.tensor([[1.0, 2.0]], requires_grad=True)
lin(inp).sum().backward()
print(seen)
print(inp.grad)

t = torch.tensor(1.5, requires_grad=True)
f = t ** 4
g1, = torch.autograd.grad(f, t, create_graph=True)
g2, = torch.autograd.grad(g1, t, create_graph=True)
g3, = torch.autograd.grad(g2, t)
print(g1, g2, g3)
u = torch.tensor([1.0, 2.0], requires_grad=True)
v = torch.tensor([3.0], requires_grad=True)
gu, gv = torch.autograd.grad((u * 2).sum(), [u, v], allow_unused=True)
print(gu, gv)
gu, gv = torch.autograd.grad((u * 2).sum(), [u, v], allow_unused=True, materialize_grads=True)
print(gv)


class Sort(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        values, idx = x.sort()
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(idx)
        return values, idx

    @staticmethod
    def backward(ctx, g, _g_idx):
        idx, = ctx.saved_tensors
        grad = torch.zeros_like(g)
        grad[idx] = g
        return grad


class Scale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        print("needs_input_grad", ctx.needs_input_grad)
        return x * k

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None


s = torch.tensor([3.0, 1.0, 2.0], requires_grad=True)
vals, idx = Sort.apply(s)
print(vals, idx, idx.requires_grad)
(vals * torch.tensor([1.0, 10.0, 100.0])).sum().backward()
print(s.grad)
out = Scale.apply(s, 3.0)
out.sum().backward()
print(s.grad)

with torch.autograd.set_detect_anomaly(True):
    w = torch.tensor([-1.0, 4.0], requires_grad=True)
    r = w.sqrt()
    try:
        r.sum().backward()
        print(w.grad)
    except RuntimeError as e:
        print("anomaly", e)
print(torch.is_anomaly_enabled())

with torch.inference_mode():
    k = torch.ones(2) * 2
print(k.requires_grad, torch.is_inference_mode_enabled())
with torch.enable_grad():
    print(torch.is_grad_enabled())
m = nn.Linear(2, 1)
for p in m.parameters():
    p.requires_grad_(False)
print(m(torch.ones(1, 2)).requires_grad)
