"""LSTM over a fixed sequence (sequence models tutorial style)."""
import torch
import torch.nn as nn


def det_init(module, scale=0.2):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.linspace(-scale, scale, p.numel()).reshape(p.shape))


lstm = nn.LSTM(3, 3)
det_init(lstm)
print(lstm)
inputs = [torch.sin(torch.arange(3, dtype=torch.float32) + i).view(1, 3) for i in range(5)]
hidden = (torch.zeros(1, 1, 3), torch.zeros(1, 1, 3))
for i in inputs:
    out, hidden = lstm(i.view(1, 1, -1), hidden)
print(out)
print(hidden)

seq = torch.cat(inputs).view(len(inputs), 1, -1)
hidden = (torch.zeros(1, 1, 3), torch.zeros(1, 1, 3))
out, hidden = lstm(seq, hidden)
print(out)
print(hidden[0])

lstm2 = nn.LSTM(input_size=4, hidden_size=5, num_layers=2, batch_first=True)
det_init(lstm2, 0.3)
x = torch.cos(torch.arange(2 * 6 * 4, dtype=torch.float32) / 7).reshape(2, 6, 4)
out, (h, c) = lstm2(x)
print(out.shape, h.shape, c.shape)
print(out[:, -1])
print(c)
out.sum().backward()
print(lstm2.weight_ih_l0.grad.shape)
print(round(lstm2.weight_hh_l1.grad.abs().sum().item(), 4))

for name, p in lstm2.named_parameters():
    print(name, list(p.shape))

gru = nn.GRU(4, 3, batch_first=True)
det_init(gru)
o, h = gru(x)
print(h)
rnn = nn.RNN(4, 2)
det_init(rnn)
print(rnn(x.transpose(0, 1))[1])
cell = nn.LSTMCell(4, 2)
det_init(cell)
hx, cx = cell(x[:, 0])
print(hx, cx)
emb = nn.Embedding(10, 3)
det_init(emb)
print(emb(torch.tensor([[1, 2, 4], [4, 3, 9]])))
