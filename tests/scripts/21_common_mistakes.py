"""The errors beginners hit most, caught and printed (forum/course 'debugging' notebooks)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def show(title, fn):
    try:
        r = fn()
        print(title, "->", r)
    except Exception as e:
        print(title, "->", type(e).__name__ + ":", e)


lin = nn.Linear(4, 2)
conv = nn.Conv2d(3, 8, 3)
show("double input to float layer", lambda: lin(torch.ones(2, 4, dtype=torch.float64)))
show("int input to linear", lambda: lin(torch.ones(2, 4, dtype=torch.int64)))
show("wrong in_channels", lambda: conv(torch.ones(1, 1, 8, 8)))
show("3d input to conv2d ok?", lambda: conv(torch.ones(3, 8, 8)).shape)
show("2d input to conv2d", lambda: conv(torch.ones(8, 8)))
show("kernel bigger than input", lambda: conv(torch.ones(1, 3, 2, 2)))
show("float targets for CE", lambda: F.cross_entropy(torch.ones(2, 3), torch.tensor([0.0, 1.0])))
show("target out of bounds", lambda: F.nll_loss(torch.ones(2, 3), torch.tensor([0, 3])))
show("CE batch mismatch", lambda: F.cross_entropy(torch.ones(2, 3), torch.tensor([0, 1, 2])))
show("mse shape mismatch warns", lambda: F.mse_loss(torch.ones(2, 1), torch.ones(2)).item())
show("embedding index", lambda: nn.Embedding(5, 2)(torch.tensor([5])))
show("embedding float index", lambda: nn.Embedding(5, 2)(torch.tensor([1.0])))
show("view non-contiguous", lambda: torch.ones(2, 3).t().view(6))
show("bool tensor in if", lambda: bool(torch.tensor([True, False])))
show("item of many", lambda: torch.ones(2).item())
show("numpy of grad tensor", lambda: (torch.ones(2, requires_grad=True) * 2).numpy())
show("int requires grad", lambda: torch.tensor([1, 2], requires_grad=True))
show("grad of int", lambda: torch.ones(2, dtype=torch.long).requires_grad_())
show("matmul 1d mismatch", lambda: torch.ones(3) @ torch.ones(4))
show("bmm dims", lambda: torch.bmm(torch.ones(2, 3), torch.ones(2, 3)))
show("cat dim out of range", lambda: torch.cat([torch.ones(2), torch.ones(2)], dim=1))
show("expand bad", lambda: torch.ones(2, 3).expand(4, 3))
show("index dtype", lambda: torch.ones(3)[torch.tensor([0.0])])
show("mixed device name", lambda: torch.ones(2).to("cpu").device.type)
show("softmax no dim", lambda: F.softmax(torch.ones(2, 2), dim=1).sum().item())
show("maxpool too small", lambda: nn.MaxPool2d(2)(torch.ones(1, 1, 1, 1)))
show("bn single value", lambda: nn.BatchNorm1d(3)(torch.ones(1, 3)))
show("lstm wrong input size", lambda: nn.LSTM(4, 2)(torch.ones(5, 1, 3)))
show("state_dict shape", lambda: nn.Linear(2, 2).load_state_dict(nn.Linear(3, 2).state_dict()))
show("optimizer empty", lambda: torch.optim.SGD([], lr=0.1))
show("negative lr", lambda: torch.optim.SGD(lin.parameters(), lr=-1))
show("leaf inplace", lambda: nn.Linear(2, 2).weight.mul_(2))
show("reshape -1 twice", lambda: torch.ones(6).reshape(-1, -1))
show("zero-dim index", lambda: torch.tensor(3.0)[0])
show("stack empty", lambda: torch.stack([]))
show("div by zero int", lambda: torch.tensor([1]) // torch.tensor([0]))
show("float div by zero", lambda: torch.tensor([1.0, -1.0, 0.0]) / 0)
