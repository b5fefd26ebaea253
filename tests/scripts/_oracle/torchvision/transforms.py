import numpy as np
import torch


class Compose:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img


class ToTensor:
    def __call__(self, pic):
        if isinstance(pic, np.ndarray):
            a = pic if pic.ndim == 3 else pic[:, :, None]
        else:
            a = np.array(pic, copy=True)
            if a.ndim == 2:
                a = a[:, :, None]
        t = torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))
        return t.to(torch.get_default_dtype()).div(255) if t.dtype == torch.uint8 else t


class Normalize:
    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor):
        t = tensor if self.inplace else tensor.clone()
        mean = torch.as_tensor(self.mean, dtype=t.dtype).view(-1, 1, 1)
        std = torch.as_tensor(self.std, dtype=t.dtype).view(-1, 1, 1)
        return t.sub_(mean).div_(std)
