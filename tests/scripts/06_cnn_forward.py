"""A small CNN forward in eval mode on a fixed input."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(4, 8, kernel_size=3)
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(8 * 2 * 2, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = F.relu(self.conv2(x))
        x = torch.flatten(x, 1)
        x = self.dropout(x)
        return self.fc(x)


net = Net()
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.linspace(-0.1, 0.1, p.numel()).reshape(p.shape))
    net.bn1.running_mean.copy_(torch.tensor([0.01, -0.02, 0.03, 0.0]))
    net.bn1.running_var.copy_(torch.tensor([1.0, 0.5, 2.0, 1.5]))
print(net)
net.eval()
x = torch.sin(torch.arange(2 * 1 * 8 * 8, dtype=torch.float32)).reshape(2, 1, 8, 8)
out = net(x)
print(out.shape)
print(out)
print(out.argmax(1))
print(F.softmax(out, dim=1).sum(1).round(decimals=4))
print(net.training, net.dropout.training)
net.train()
print(net.bn1.training)
print(net.bn1.num_batches_tracked)
y = net.bn1(net.conv1(x))
print(net.bn1.num_batches_tracked)
print(net.bn1.running_mean)
print(y.mean(dim=(0, 2, 3)).abs().max() < 1e-5)
loss = net.fc(torch.ones(1, 32)).sum()
loss.backward()
print(net.fc.weight.grad.shape, net.fc.bias.grad)
print(nn.AvgPool2d(2)(x).shape, nn.AdaptiveAvgPool2d((1, 1))(x).shape)
print(nn.Sequential(nn.Conv2d(1, 2, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten())(x).shape)
