"""DCGAN-tutorial-style alternating updates (BCELoss, two Adam optimizers, detach) and a VAE
step (reparameterisation with a fixed eps, KL term), with fixed noise instead of randn."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


def det_init(module, scale=0.2):
    with torch.no_grad():
        for i, p in enumerate(module.parameters()):
            p.copy_(scale * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.7 + i).reshape(p.shape))


netG = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(True), nn.Linear(16, 6), nn.Tanh())
netD = nn.Sequential(nn.Linear(6, 16), nn.LeakyReLU(0.2, inplace=True), nn.Dropout(0.0), nn.Linear(16, 1), nn.Sigmoid())
det_init(netG)
det_init(netD)
criterion = nn.BCELoss()
optimizerD = optim.Adam(netD.parameters(), lr=0.0002, betas=(0.5, 0.999))
optimizerG = optim.Adam(netG.parameters(), lr=0.0002, betas=(0.5, 0.999))
real = torch.cos(torch.arange(8 * 6, dtype=torch.float32) / 5).reshape(8, 6)
real_label, fake_label = 1.0, 0.0
for i in range(4):
    noise = torch.sin(torch.arange(8 * 4, dtype=torch.float32) * (i + 1) / 3).reshape(8, 4)
    netD.zero_grad()
    label = torch.full((8,), real_label, dtype=torch.float)
    output = netD(real).view(-1)
    errD_real = criterion(output, label)
    errD_real.backward()
    D_x = output.mean().item()
    fake = netG(noise)
    label.fill_(fake_label)
    output = netD(fake.detach()).view(-1)
    errD_fake = criterion(output, label)
    errD_fake.backward()
    D_G_z1 = output.mean().item()
    errD = errD_real + errD_fake
    optimizerD.step()
    netG.zero_grad()
    label.fill_(real_label)
    output = netD(fake).view(-1)
    errG = criterion(output, label)
    errG.backward()
    D_G_z2 = output.mean().item()
    optimizerG.step()
    print('[%d/%d]\tLoss_D: %.4f\tLoss_G: %.4f\tD(x): %.4f\tD(G(z)): %.4f / %.4f'
          % (i, 4, errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))
print(netG[1].running_mean[:4], netG[1].num_batches_tracked)


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.fc21 = nn.Linear(8, 2)
        self.fc22 = nn.Linear(8, 2)
        self.fc3 = nn.Linear(2, 8)
        self.fc4 = nn.Linear(8, 6)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar, eps):
        std = torch.exp(0.5 * logvar)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x, eps):
        mu, logvar = self.encode(x.view(-1, 6))
        z = self.reparameterize(mu, logvar, eps)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 6), reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


model = VAE()
det_init(model, 0.3)
optimizer = optim.Adam(model.parameters(), lr=1e-3)
data = (real + 1) / 2
eps = torch.cos(torch.arange(16, dtype=torch.float32)).reshape(8, 2)
model.train()
for epoch in range(1, 4):
    optimizer.zero_grad()
    recon_batch, mu, logvar = model(data, eps)
    loss = loss_function(recon_batch, data, mu, logvar)
    loss.backward()
    optimizer.step()
    print('====> Epoch: {} Average loss: {:.4f}'.format(epoch, loss.item() / len(data)))
with torch.no_grad():
    sample = model.decode(torch.linspace(-1, 1, 8).reshape(4, 2))
print(sample)
