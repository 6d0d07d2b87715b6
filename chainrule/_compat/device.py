"""torch.set_default_device / get_default_device: the CPU is the one device chainrule has."""

from __future__ import annotations


def get_default_device():
    """Where factories put tensors: always device('cpu') here."""
    from chainrule.tensor import _CPU

    return _CPU


def set_default_device(device) -> None:
    """Accepts 'cpu' (and None, PyTorch's reset); any other device raises at once, naming it,
    rather than at the first factory call as PyTorch's CPU build does."""
    from chainrule._args import check_device

    if device is not None:
        check_device(device, "set_default_device")
