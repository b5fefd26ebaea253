"""torch.optim.lr_scheduler usage."""
import torch
from torch import nn, optim
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    StepLR,
)

model = nn.Linear(2, 1)
with torch.no_grad():
    model.weight.copy_(torch.tensor([[0.3, -0.2]]))
    model.bias.fill_(0.1)
X = torch.linspace(-1, 1, 20).reshape(10, 2)
y = X.sum(1, keepdim=True) * 0.5

optimizer = optim.SGD(model.parameters(), lr=0.1)
scheduler = StepLR(optimizer, step_size=3, gamma=0.5)
for epoch in range(8):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(X), y)
    loss.backward()
    optimizer.step()
    scheduler.step()
    print(epoch, round(loss.item(), 5), scheduler.get_last_lr())

for cls, kw in [(ExponentialLR, dict(gamma=0.9)), (CosineAnnealingLR, dict(T_max=5)),
                (LambdaLR, dict(lr_lambda=lambda e: 1 / (e + 1))),
                (MultiStepLR, dict(milestones=[2, 4], gamma=0.1))]:
    opt = optim.SGD(model.parameters(), lr=1.0)
    sch = cls(opt, **kw)
    lrs = []
    for _ in range(6):
        opt.step()
        sch.step()
        lrs.append(round(opt.param_groups[0]["lr"], 6))
    print(cls.__name__, lrs)

opt = optim.Adam(model.parameters(), lr=0.01)
sch = OneCycleLR(opt, max_lr=0.1, total_steps=10)
lrs = []
for _ in range(10):
    opt.step()
    sch.step()
    lrs.append(round(sch.get_last_lr()[0], 6))
print(lrs)

opt = optim.SGD(model.parameters(), lr=1.0)
sch = ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1)
for v in [1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.6, 0.7]:
    sch.step(v)
    print(opt.param_groups[0]["lr"])
print(scheduler.state_dict()["last_epoch"], scheduler.state_dict()["base_lrs"])
