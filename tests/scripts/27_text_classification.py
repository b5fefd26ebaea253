"""'Text classification with torchtext'-style model: EmbeddingBag with offsets, collate_fn,
SGD + StepLR + clip_grad_norm_, accuracy; plus a GRU encoder/decoder step with teacher forcing."""
import torch
from torch import nn
from torch.utils.data import DataLoader

vocab = {w: i for i, w in enumerate("<unk> the a good bad movie film great awful plot acting".split())}
samples = [(1, "the movie was great"), (0, "awful plot"), (1, "good film good acting"),
           (0, "bad movie"), (1, "great great film"), (0, "the acting was awful bad")]


def text_pipeline(x):
    return [vocab.get(tok, 0) for tok in x.split()]


def collate_batch(batch):
    label_list, text_list, offsets = [], [], [0]
    for _label, _text in batch:
        label_list.append(_label)
        processed_text = torch.tensor(text_pipeline(_text), dtype=torch.int64)
        text_list.append(processed_text)
        offsets.append(processed_text.size(0))
    label_list = torch.tensor(label_list, dtype=torch.int64)
    offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
    text_list = torch.cat(text_list)
    return label_list, text_list, offsets


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super(TextClassificationModel, self).__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
        self.fc = nn.Linear(embed_dim, num_class)
        self.init_weights()

    def init_weights(self):
        initrange = 0.5
        with torch.no_grad():
            self.embedding.weight.copy_(torch.linspace(-initrange, initrange, self.embedding.weight.numel()).reshape(self.embedding.weight.shape))
            self.fc.weight.copy_(torch.cos(torch.arange(self.fc.weight.numel(), dtype=torch.float32)).reshape(self.fc.weight.shape) * initrange)
        self.fc.bias.data.zero_()

    def forward(self, text, offsets):
        embedded = self.embedding(text, offsets)
        return self.fc(embedded)


model = TextClassificationModel(len(vocab), 8, 2)
print(model)
dataloader = DataLoader(samples, batch_size=3, shuffle=False, collate_fn=collate_batch)
label, text, offsets = next(iter(dataloader))
print(label, text, offsets)
criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=5)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
for epoch in range(1, 4):
    model.train()
    total_acc, total_count = 0, 0
    for idx, (label, text, offsets) in enumerate(dataloader):
        optimizer.zero_grad()
        predicted_label = model(text, offsets)
        loss = criterion(predicted_label, label)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
        total_acc += (predicted_label.argmax(1) == label).sum().item()
        total_count += label.size(0)
    scheduler.step()
    print("| epoch {:3d} | accuracy {:8.3f} | lr {:.4f} | loss {:.4f}".format(
        epoch, total_acc / total_count, scheduler.get_last_lr()[0], loss.item()))
model.eval()
with torch.no_grad():
    print(model(torch.tensor(text_pipeline("great film")), torch.tensor([0])).argmax(1).item() + 1)
print(nn.EmbeddingBag(4, 2, mode="max").mode, nn.EmbeddingBag.from_pretrained(torch.eye(3))(torch.tensor([[0, 2]])))


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)

    def forward(self, input):
        return self.gru(self.embedding(input))


class DecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size):
        super().__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)

    def forward(self, encoder_hidden, target_tensor):
        decoder_input = torch.zeros(target_tensor.size(0), 1, dtype=torch.long)
        decoder_hidden = encoder_hidden
        outputs = []
        for i in range(target_tensor.size(1)):
            output, decoder_hidden = self.gru(torch.relu(self.embedding(decoder_input)), decoder_hidden)
            outputs.append(self.out(output))
            decoder_input = target_tensor[:, i].unsqueeze(1)
        return torch.nn.functional.log_softmax(torch.cat(outputs, dim=1), dim=-1), decoder_hidden


enc, dec = EncoderRNN(6, 4), DecoderRNN(4, 5)
for m in (enc, dec):
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.linspace(-0.3, 0.3, p.numel()).reshape(p.shape))
src = torch.tensor([[1, 2, 3], [4, 5, 0]])
tgt = torch.tensor([[1, 2], [3, 4]])
_, h = enc(src)
out, _ = dec(h, tgt)
loss = nn.NLLLoss()(out.view(-1, out.size(-1)), tgt.view(-1))
loss.backward()
print(out.shape, round(loss.item(), 4))
print(enc.gru.weight_hh_l0.grad.norm().round(decimals=4))
