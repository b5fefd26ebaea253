"""Printing of tensors of many dtypes and shapes, Parameters and module reprs."""
import torch
import torch.nn as nn

print(torch.tensor([1, 2, 3]))
print(torch.tensor([1., 2., 3.]))
print(torch.tensor([1.5, -2.25, 1e-4]))
print(torch.tensor([1e10, 1.0]))
print(torch.tensor([123456.789, 0.001]))
print(torch.tensor([0.1, 0.2], dtype=torch.float64))
print(torch.tensor([1, 2], dtype=torch.int32))
print(torch.tensor([1, 2], dtype=torch.int8), torch.tensor([3], dtype=torch.uint8))
print(torch.tensor([1, 2], dtype=torch.int16))
print(torch.tensor([True, False]))
print(torch.tensor([1.0, 2.0], dtype=torch.float16))
print(torch.tensor(float("nan")), torch.tensor([float("inf"), -float("inf"), 1.0]))
print(torch.tensor([1.0, float("nan")]))
print(torch.tensor(5), torch.tensor(2.0), torch.tensor(True))
print(torch.zeros(0, 3))
print(torch.zeros(2, 0))
print(torch.arange(2000))
print(torch.arange(2000.0).reshape(40, 50))
print(torch.linspace(0, 1, 7))
print(torch.arange(24).reshape(2, 3, 4))
print(torch.arange(8.).reshape(2, 2, 1, 2))
print(torch.tensor([[1e-8, 1.0], [100.0, 1000.0]]))
print(torch.tensor([0.00001, 0.00002]))
print(torch.tensor([100000.0, 0.5]))
print(torch.tensor([1., 2.], requires_grad=True))
print(torch.tensor([1., 2.], requires_grad=True) * 2)
print(torch.tensor([1., 2.], requires_grad=True).sum())
print(torch.tensor([1., 2.], dtype=torch.float64, requires_grad=True) + 1)
print(torch.complex(torch.tensor([1.0, 2.0]), torch.tensor([0.5, -1.0])))
print(repr(torch.tensor([1, 2])), str(torch.tensor(3.0)))
print(torch.float32, torch.int64, torch.bool, torch.get_default_dtype())
print(torch.tensor([1, 2]).dtype, torch.tensor([1.0]).dtype, torch.tensor(True).dtype)
print(torch.Size([2, 3]), torch.ones(2, 3).size(), torch.ones(2, 3).size(1))
print(torch.ones(2, 3).device, torch.device("cpu"))
print(torch.tensor([1, 2]).to(torch.float64))
print(torch.tensor([1.7, -1.7]).long(), torch.tensor([0, 2]).bool())
print(torch.tensor([[1, 2], [3, 4]]).T)
x = torch.linspace(-1, 1, 6).reshape(2, 3)
print(f"{x.sum().item():.4f}", x[0].tolist())
print(x.shape, x.ndim, x.dim(), x.numel(), x.stride(), x.is_contiguous(), x.T.is_contiguous())

p = nn.Parameter(torch.ones(2))
print(p)
print(nn.Parameter(torch.zeros(2, 2), requires_grad=False))
lin = nn.Linear(3, 2)
print(lin)
print(lin.weight.shape, lin.bias.requires_grad, lin.weight.dtype)
print(nn.Linear(3, 2, bias=False))
model = nn.Sequential(
    nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1),
    nn.BatchNorm2d(16),
    nn.ReLU(inplace=True),
    nn.MaxPool2d(kernel_size=2, stride=2),
    nn.Dropout(p=0.25),
    nn.Flatten(),
    nn.Linear(16 * 4 * 4, 10),
    nn.Softmax(dim=1),
)
print(model)
print(model[0], model[-1])
print(nn.ModuleList([nn.Tanh(), nn.Sigmoid(), nn.GELU(), nn.LeakyReLU(0.2)]))
print(nn.ModuleDict({"a": nn.Identity(), "b": nn.LayerNorm(4)}))
print(nn.Embedding(10, 3), nn.LSTM(4, 8, num_layers=2, batch_first=True), nn.GRU(2, 3))
print(nn.CrossEntropyLoss(), nn.MSELoss(reduction="sum"), nn.Conv1d(2, 4, 3, dilation=2))
print(nn.ConvTranspose2d(4, 2, 2, stride=2), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d((1, 1)))
print(nn.BatchNorm1d(5, momentum=0.2, affine=False), nn.GroupNorm(2, 4), nn.Upsample(scale_factor=2))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
        self.head = nn.Linear(4, 1)
        self.register_buffer("scale", torch.ones(1))

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


b = Block()
print(b)
print([n for n, _ in b.named_modules()])
print([n for n, _ in b.named_buffers()], list(b.state_dict().keys()))
print(type(torch.ones(1)), type(nn.Parameter(torch.ones(1))), type(nn.Linear(1, 1)), type(nn.Conv2d(1, 1, 1)))
print(type(torch.ones(1).dtype), type(torch.ones(1).shape), type(torch.ones(1).device), torch.Tensor)
print(type(torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=0.1)), nn.Module)
