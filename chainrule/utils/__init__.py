"""chainrule.utils, as torch.utils: `data` holds Dataset (and, later, DataLoader & co)."""

from chainrule.utils import data

__all__ = ["data"]
