"""torch.backends: the flags scripts set and the queries they ask, as on PyTorch's CPU build.

`torch.backends.cudnn.deterministic = True` and `.benchmark = False` are stored and read back
(they select GPU kernels, and chainrule has one CPU kernel per op, deterministic already);
`torch.backends.mps.is_available()` is False.
"""

from chainrule._compat.backends import cpu, cuda, cudnn, mps

__all__ = ["cpu", "cuda", "cudnn", "mps"]
