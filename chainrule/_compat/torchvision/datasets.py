"""torchvision.datasets: MNIST and FashionMNIST, backed by chainrule.datasets.

`MNIST(root, train=True, transform=None, target_transform=None, download=False)` as in
torchvision; files are looked for under `root` (torchvision's `root/MNIST/raw` layout, or the
four files directly in `root`) and checked by checksum before use. An item is
`(image, label)` with the image already a float32 (1, 28, 28) tensor in [0, 1]: what
torchvision's PIL image becomes after `ToTensor()`, which therefore passes it through.
"""

from chainrule.datasets import MNIST, FashionMNIST

__all__ = ["MNIST", "FashionMNIST"]
