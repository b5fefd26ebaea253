"""Seed sections 2 and 7: a (small) torchvision model, backward, SGD step, fine-tuning freeze."""
import torch
import torchvision
from torch import nn, optim

model = torchvision.models.resnet18(weights=None, num_classes=10)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.linspace(-0.05, 0.05, p.numel()).reshape(p.shape))
data = torch.sin(torch.arange(1 * 3 * 64 * 64, dtype=torch.float32)).reshape(1, 3, 64, 64)
labels = torch.cos(torch.arange(10, dtype=torch.float32)).reshape(1, 10)
prediction = model(data)
print(prediction.shape)
print(prediction)
loss = (prediction - labels).sum()
print(round(loss.item(), 3))
loss.backward()
print(model.fc.weight.grad.shape, model.conv1.weight.grad is not None)
optim_ = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
before = model.fc.bias.detach().clone()
optim_.step()
print(torch.allclose(model.fc.bias, before - 1e-2 * model.fc.bias.grad))

for param in model.parameters():
    param.requires_grad = False
model.fc = nn.Linear(512, 10)
with torch.no_grad():
    model.fc.weight.copy_(torch.linspace(-0.02, 0.02, 5120).reshape(10, 512))
    model.fc.bias.zero_()
optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
print(sum(p.requires_grad for p in model.parameters()), len(list(model.parameters())))
model.zero_grad()
model(data).sum().backward()
print([n for n, p in model.named_parameters() if p.grad is not None])
print(model.fc)
model.eval()
with torch.no_grad():
    print(model(data))
