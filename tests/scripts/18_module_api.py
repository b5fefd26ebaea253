"""Module API from the 'Build the neural network' and 'Optimizing parameters' tutorials:
hooks, apply/init, state_dict printing, optimizer repr, train/eval, collate of dicts."""
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(4 * 4, 8),
            nn.ReLU(),
            nn.Linear(8, 8),
            nn.ReLU(),
            nn.Linear(8, 3),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def init_weights(m):
    if isinstance(m, nn.Linear):
        torch.nn.init.constant_(m.weight, 0.05)
        m.bias.data.fill_(0.01)


model = NeuralNetwork()
model.apply(init_weights)
print(model)
X = torch.cos(torch.arange(2 * 4 * 4, dtype=torch.float32)).reshape(2, 4, 4)
logits = model(X)
pred_probab = nn.Softmax(dim=1)(logits)
y_pred = pred_probab.argmax(1)
print(f"Predicted class: {y_pred}")
print(logits)
print(f"Model structure: {model}\n\n")
for name, param in model.named_parameters():
    print(f"Layer: {name} | Size: {param.size()} | Values : {param[:2]} \n")

print(model.state_dict()["linear_relu_stack.4.bias"])
print([n for n, _ in model.named_children()], len(list(model.modules())))

acts = {}
def hook(mod, inp, out):
    acts[type(mod).__name__] = out.detach()
h = model.linear_relu_stack[1].register_forward_hook(hook)
model(X)
print(acts)
h.remove()
model(X * 2)
print(acts["ReLU"].shape)

optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
print(optimizer)
print(torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4))
loss_fn = nn.CrossEntropyLoss()
y = torch.tensor([0, 2])
for t in range(3):
    loss = loss_fn(model(X), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(f"loss: {loss.item():>7f}")
print(model.linear_relu_stack[0].weight.grad[0, :4].sign())
optimizer.zero_grad()
print(model.linear_relu_stack[0].weight.grad)


class DictDS(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return {"x": torch.full((2,), float(i)), "y": i % 2, "name": f"s{i}"}


for batch in DataLoader(DictDS(), batch_size=3):
    print(batch)

model.eval()
print(model.training, all(not m.training for m in model.modules()))
model.requires_grad_(False)
print(any(p.requires_grad for p in model.parameters()))
print(sum(p.numel() for p in model.parameters()))
print(model.linear_relu_stack[0].weight.dtype, model.double().linear_relu_stack[0].weight.dtype)
print(nn.Linear(2, 2).to(torch.float64).weight.dtype)
print(model.linear_relu_stack[4].extra_repr())
