"""torch.utils.data pieces, gradient clipping, nn.utils helpers and attention layers in eval."""
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    SequentialSampler,
    Subset,
    TensorDataset,
)


def det_init(module, scale=0.1):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.linspace(-scale, scale, p.numel()).reshape(p.shape))


ds = TensorDataset(torch.arange(10.).view(5, 2), torch.arange(5))
sub = Subset(ds, [4, 0, 2])
print(len(sub), sub[0])
cat = ConcatDataset([ds, sub])
print(len(cat), cat[6])
print([b[1].tolist() for b in DataLoader(cat, batch_size=3, drop_last=True)])
print(list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False)))
loader = DataLoader([(np.float32(i), np.array([i, i + 1])) for i in range(4)], batch_size=2)
for a, b in loader:
    print(a, b)
print(next(iter(DataLoader([{"a": 1.5, "b": [1, 2]}, {"a": 2.5, "b": [3, 4]}], batch_size=2))))
print(len(DataLoader(ds, batch_size=2)), len(DataLoader(ds, batch_size=2, drop_last=True)))

model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
det_init(model, 1.0)
x = torch.linspace(-2, 2, 15).reshape(5, 3)
loss = model(x).pow(2).mean()
loss.backward()
total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
print(round(total.item(), 4), round(torch.cat([p.grad.flatten() for p in model.parameters()]).norm().item(), 4))
nn.utils.clip_grad_value_(model.parameters(), clip_value=0.01)
print(model[0].weight.grad)
vec = nn.utils.parameters_to_vector(model.parameters())
print(vec.shape, vec[:5])
nn.utils.vector_to_parameters(vec * 2, model.parameters())
print(model[2].bias)

nn.init.ones_(model[0].weight)
nn.init.zeros_(model[0].bias)
nn.init.eye_(model[2].weight)
print(model[0].weight, model[2].weight)
w = torch.empty(2, 2, 3, 3)
nn.init.dirac_(w)
print(w[0, 0], nn.init.calculate_gain("relu"), nn.init.calculate_gain("leaky_relu", 0.2))

mha = nn.MultiheadAttention(embed_dim=4, num_heads=2, batch_first=True)
det_init(mha)
q = torch.sin(torch.arange(24.)).reshape(2, 3, 4)
out, weights = mha(q, q, q)
print(out)
print(weights)
mask = torch.triu(torch.ones(3, 3, dtype=torch.bool), diagonal=1)
out, weights = mha(q, q, q, attn_mask=mask)
print(weights[0])

layer = nn.TransformerEncoderLayer(d_model=4, nhead=2, dim_feedforward=8, dropout=0.0, batch_first=True)
det_init(layer)
layer.eval()
with torch.no_grad():
    print(layer(q))
enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8, 0.0, batch_first=True), num_layers=2, enable_nested_tensor=False)
det_init(enc, 0.2)
enc.eval()
print(enc(q).shape)
print(torch.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True))
