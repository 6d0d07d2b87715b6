"""torchvision.transforms: Compose, ToTensor, Normalize and Lambda, as torchvision computes them.

Each is a callable object, so `transform=Compose([...])` works with chainrule's datasets and
with any Dataset that calls it. Values agree with torchvision's bit for bit: ToTensor divides
uint8 pixels by 255 in float32, Normalize subtracts the mean then divides by the std in the
image's dtype.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Compose", "Lambda", "Normalize", "ToTensor"]


class Compose:
    """Apply the transforms in order: `Compose([ToTensor(), Normalize(m, s)])(img)`."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class ToTensor:
    """An image as a float tensor of shape (C, H, W).

    A NumPy array (H, W) or (H, W, C), or a PIL image, becomes (C, H, W); uint8 values are
    divided by 255 (float32), other dtypes keep their values, as torchvision does. A chainrule
    tensor passes through unchanged: chainrule's MNIST already yields the tensor that
    torchvision's ToTensor makes from its PIL image, so a script's `ToTensor()` step keeps
    working.
    """

    def __call__(self, pic):
        from chainrule.tensor import Tensor

        if isinstance(pic, Tensor):
            return pic
        if hasattr(pic, "getbands"):  # a PIL image: its pixels as an array
            pic = np.asarray(pic)
        if not isinstance(pic, np.ndarray):
            raise TypeError(f"ToTensor: pic should be a PIL Image, ndarray or chainrule "
                            f"Tensor, got {type(pic).__name__}")
        if pic.ndim not in (2, 3):
            raise ValueError(f"ToTensor: pic should be 2 or 3 dimensional (H, W[, C]), got "
                             f"{pic.ndim} dimensions")
        array = pic[:, :, None] if pic.ndim == 2 else pic
        array = np.ascontiguousarray(array.transpose(2, 0, 1))
        if array.dtype == np.uint8:
            array = array.astype(np.float32) / np.float32(255)
        from chainrule import from_numpy

        return from_numpy(array)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """`(image - mean) / std` per channel, for a float tensor (..., C, H, W)."""

    def __init__(self, mean, std, inplace: bool = False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor):
        from chainrule import as_tensor
        from chainrule.tensor import Tensor

        if not isinstance(tensor, Tensor):
            raise TypeError(f"Normalize: input should be a Tensor, got {type(tensor).__name__}")
        if not tensor.is_floating_point():
            raise TypeError(f"Normalize: input tensor should be a float tensor, got "
                            f"{tensor.dtype}")
        if tensor.ndim < 3:
            raise ValueError(f"Normalize: expected a tensor image of shape (..., C, H, W), "
                             f"got shape {tuple(tensor.shape)}")
        mean = as_tensor(np.asarray(self.mean), dtype=tensor.dtype)
        std = as_tensor(np.asarray(self.std), dtype=tensor.dtype)
        if bool((std == 0).any()):
            raise ValueError(f"Normalize: std evaluated to zero after conversion to "
                             f"{tensor.dtype}, leading to division by zero (std={self.std})")
        mean, std = mean.reshape(-1, 1, 1), std.reshape(-1, 1, 1)
        if self.inplace:
            return tensor.sub_(mean).div_(std)
        return (tensor - mean) / std

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class Lambda:
    """A user function as a transform: `Lambda(lambda x: x.view(-1))`."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
