"""Error handling demos: catching RuntimeError and friends and printing the message."""
import torch
import torch.nn as nn


def show(fn):
    try:
        fn()
    except Exception as e:
        print(type(e).__name__ + ":", e)

show(lambda: torch.ones(2, 3) @ torch.ones(2, 3))
show(lambda: torch.ones(2, 3) + torch.ones(4, 3))
show(lambda: torch.ones(2, 3).view(4, 2))
show(lambda: torch.ones(2, 3).reshape(5))
show(lambda: torch.cat([torch.ones(2, 3), torch.ones(2, 4)]))
show(lambda: torch.stack([torch.ones(2), torch.ones(3)]))
show(lambda: nn.Linear(3, 2)(torch.ones(4, 5)))
show(lambda: torch.ones(2, 3)[2])
show(lambda: torch.ones(2, 3).sum(dim=2))
show(lambda: torch.ones(3).item())
show(lambda: torch.tensor([1.0, 2.0], requires_grad=True).numpy())
show(lambda: torch.tensor([1.0, 2.0], requires_grad=True).backward())
show(lambda: torch.ones(2).backward())
show(lambda: torch.mm(torch.ones(2, 3), torch.ones(3)))
show(lambda: torch.ones(2, 3).transpose(0, 2))
show(lambda: torch.ones(2, 2).T.view(4))
show(lambda: nn.functional.cross_entropy(torch.ones(2, 3), torch.tensor([0, 5])))
show(lambda: torch.tensor([[1, 2], [3]]))

leaf = torch.ones(2, requires_grad=True)
def inplace_leaf():
    leaf.add_(1)
show(inplace_leaf)

def version_bump():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = a.sigmoid()
    c = b * 2
    b.mul_(2)
    c.sum().backward()
    (b * b).sum().backward()
    print("no error")
show(version_bump)

def saved_modified():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = a.exp()
    b.add_(1)
    b.sum().backward()
show(saved_modified)

try:
    torch.zeros(3).view(2, 2)
except RuntimeError as err:
    print("caught:", err)
else:
    print("no error")
finally:
    print("done")
