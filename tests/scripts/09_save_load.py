"""Saving and loading a model's state_dict to a temporary directory."""
import os
import tempfile

import torch
from torch import nn, optim


class TheModelClass(nn.Module):
    def __init__(self):
        super(TheModelClass, self).__init__()
        self.fc1 = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.fc2 = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.bn(self.fc1(x))))


model = TheModelClass()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.linspace(-0.1, 0.1, p.numel()).reshape(p.shape))
optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

print("Model's state_dict:")
for param_tensor in model.state_dict():
    print(param_tensor, "\t", model.state_dict()[param_tensor].size())

print("Optimizer's state_dict:")
for var_name in optimizer.state_dict():
    print(var_name, "\t", optimizer.state_dict()[var_name])

x = torch.linspace(-1, 1, 8).reshape(2, 4)
model(x).sum().backward()
optimizer.step()

with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "model.pt")
    torch.save(model.state_dict(), path)
    model2 = TheModelClass()
    print(model2.load_state_dict(torch.load(path, weights_only=True)))
    model2.eval()
    model.eval()
    print(torch.equal(model(x), model2(x)))
    print(model2(x))

    ckpt = os.path.join(d, "ckpt.tar")
    torch.save({"epoch": 3, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(), "loss": 0.25}, ckpt)
    checkpoint = torch.load(ckpt)
    model3 = TheModelClass()
    opt3 = optim.SGD(model3.parameters(), lr=0.5)
    model3.load_state_dict(checkpoint["model_state_dict"])
    opt3.load_state_dict(checkpoint["optimizer_state_dict"])
    print(checkpoint["epoch"], checkpoint["loss"], opt3.param_groups[0]["lr"])
    print(sorted(opt3.state_dict()["state"].keys()))

    t = {"a": torch.arange(4), "b": [torch.tensor(1.5), torch.ones(2, dtype=torch.float64)]}
    p2 = os.path.join(d, "t.pt")
    torch.save(t, p2)
    print(torch.load(p2))

    sd = model.state_dict()
    del sd["fc2.bias"]
    res = model2.load_state_dict(sd, strict=False)
    print(res.missing_keys, res.unexpected_keys)
    try:
        model2.load_state_dict(sd)
    except RuntimeError as e:
        print(type(e).__name__, str(e).splitlines()[0])

print(model.fc1.state_dict())
print(optimizer.state_dict())
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "entire_model.pt")
    torch.save(model, path)
    whole = torch.load(path, weights_only=False)
    whole.eval()
    print(type(whole).__name__, torch.equal(whole(x), model(x)))
    torch.save(torch.arange(3), path)
    print(torch.load(path, map_location="cpu"), torch.load(path, map_location=torch.device("cpu")))
