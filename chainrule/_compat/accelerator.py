"""torch.accelerator (how 2025+ scripts pick a device) as PyTorch's CPU build answers it.

    device = torch.accelerator.current_accelerator() if torch.accelerator.is_available() \\
        else torch.device("cpu")
"""

from __future__ import annotations


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def current_accelerator(check_available: bool = False):
    """None: there is no accelerator (PyTorch's CPU build returns None too)."""
    return None


def _none(what: str):
    raise RuntimeError(f"torch.accelerator.{what}: Cannot access accelerator device when none "
                       f"is available (chainrule runs on the CPU only)")


def current_device_index() -> int:
    _none("current_device_index()")


def synchronize(device=None) -> None:
    _none("synchronize()")


def empty_cache() -> None:
    pass
