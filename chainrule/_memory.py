"""Large temporaries without page faults: glibc's malloc thresholds, set once at import.

A training step allocates and frees the same large arrays every step (im2col columns,
activations, gradients). By default glibc serves allocations above 128 KiB with fresh mmap
regions and returns them on free, so every step pays the kernel to map and zero those pages
again: about 3,500 page faults per step of the course's CNN, 17% of its time. Raising the
mmap threshold to 64 MiB keeps such arrays in malloc's heap, which is reused from step to
step; raising the trim threshold with it keeps glibc from giving the heap back after each
step (setting either alone re-enables glibc's own adjustment of the other). NumPy sets a
memory policy at import in the same spirit (madvise hugepages on Linux).

The cost: up to 256 MiB of freed heap may stay mapped to the process. Set the environment
variable CHAINRULE_MALLOC_TUNING=0 before importing chainrule to keep glibc's defaults.
Elsewhere (macOS, Windows, musl) nothing is changed.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers
MMAP_THRESHOLD = 64 << 20
TRIM_THRESHOLD = 256 << 20


def tune_malloc() -> bool:
    """Raise glibc's mmap and trim thresholds (see the module doc); whether it did."""
    if os.environ.get("CHAINRULE_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith(
            "linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


TUNED = tune_malloc()
