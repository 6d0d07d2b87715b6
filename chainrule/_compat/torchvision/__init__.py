"""The part of torchvision that course scripts use, on chainrule (reached as `torchvision`
under `chainrule run` or `%load_ext chainrule`):

    from torchvision import datasets, transforms
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train = datasets.MNIST("../data", train=True, download=True, transform=tf)

`datasets.MNIST` / `FashionMNIST` are chainrule.datasets' (verified files, same arguments);
`transforms` has Compose, ToTensor, Normalize and Lambda.
"""

from chainrule._compat.torchvision import datasets, transforms

__version__ = "0.0+chainrule"
__all__ = ["datasets", "transforms"]
