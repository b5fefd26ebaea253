"""Script-level features: import styles, torchvision.transforms, __main__, sys.argv."""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.transforms as transforms
from torch import nn as nn2
from torch import optim
from torch.utils.data import DataLoader, Dataset, TensorDataset
from torchvision import transforms as T


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        x = torch.tensor([float(i)])
        return x, x ** 2


def main(argv):
    print("argv:", argv[1:])
    print(nn is nn2, callable(F.relu), optim.SGD.__name__)
    loader = DataLoader(Squares(5), batch_size=2)
    for xb, yb in loader:
        print(xb.shape, yb.view(-1))
    ds = TensorDataset(torch.arange(6.).view(3, 2), torch.tensor([0, 1, 0]))
    print([(x.tolist(), y.tolist()) for x, y in DataLoader(ds, batch_size=3)][0])
    tf = transforms.Compose([transforms.Normalize((0.5,), (0.5,))])
    img = torch.linspace(0, 1, 16).reshape(1, 4, 4)
    print(tf(img))
    print(T.Normalize(mean=[0.5], std=[0.25])(img)[0, 0])
    try:
        import numpy as np
        from PIL import Image
        arr = (np.arange(48, dtype=np.uint8).reshape(4, 4, 3) * 5)
        t = transforms.ToTensor()(Image.fromarray(arr))
        print(t.shape, t.dtype, t[:, 0, 0])
    except ImportError:
        print("no PIL")
    print(hasattr(torch, "__version__"), hasattr(torch, "Tensor"), isinstance(torch.ones(1), torch.Tensor))
    print(torch.is_tensor(torch.ones(1)), torch.cuda.is_available())
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(device, torch.ones(2).to(device).device)
    torch.manual_seed(0)
    print(torch.rand(3).shape)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
