"""torchvision.transforms' Compose, ToTensor, Normalize and Lambda, on real PyTorch."""

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
        array = pic[:, :, None] if pic.ndim == 2 else pic
        img = torch.from_numpy(np.ascontiguousarray(array.transpose((2, 0, 1))))
        return img.to(dtype=torch.get_default_dtype()).div(255) if img.dtype == torch.uint8 \
            else img


class Normalize:
    def __init__(self, mean, std):
        self.mean, self.std = mean, std

    def __call__(self, tensor):
        mean = torch.as_tensor(self.mean, dtype=tensor.dtype).view(-1, 1, 1)
        std = torch.as_tensor(self.std, dtype=tensor.dtype).view(-1, 1, 1)
        return tensor.sub(mean).div(std)


class Lambda:
    def __init__(self, lambd):
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)
