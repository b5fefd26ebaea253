"""nn.Module MLP trained on a deterministic synthetic dataset with DataLoader."""
import torch
import torch.nn as nn
from torch import optim
from torch.utils.data import DataLoader, TensorDataset


class MLP(nn.Module):
    def __init__(self, in_features=2, hidden=16, classes=3):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def init_(model):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.linspace(-0.5, 0.5, p.numel()).reshape(p.shape) * torch.sin(torch.arange(p.numel()).float()).reshape(p.shape))


def make_data(n=96):
    t = torch.linspace(0, 6.28, n)
    X = torch.stack([torch.sin(t) * (1 + t / 6), torch.cos(t) * (1 + t / 6)], dim=1)
    y = (torch.arange(n) * 3 // n).long()
    return X, y


def main():
    X, y = make_data()
    ds = TensorDataset(X, y)
    print(len(ds), ds[0][0].shape, ds[0][1])
    loader = DataLoader(ds, batch_size=16, shuffle=False)
    for name, opt_cls, kw in [("SGD", optim.SGD, dict(lr=0.1, momentum=0.9)),
                              ("Adam", optim.Adam, dict(lr=0.01))]:
        model = MLP()
        init_(model)
        criterion = nn.CrossEntropyLoss()
        optimizer = opt_cls(model.parameters(), **kw)
        for epoch in range(5):
            running = 0.0
            for xb, yb in loader:
                optimizer.zero_grad()
                loss = criterion(model(xb), yb)
                loss.backward()
                optimizer.step()
                running += loss.item() * xb.size(0)
            print(name, epoch, round(running / len(ds), 4))
        model.eval()
        with torch.no_grad():
            pred = model(X).argmax(dim=1)
            acc = (pred == y).float().mean().item()
        print(name, "accuracy", round(acc, 4))
    print(model)
    print(sum(p.numel() for p in model.parameters() if p.requires_grad))
    for n, p in model.named_parameters():
        print(n, tuple(p.shape))


if __name__ == "__main__":
    main()
