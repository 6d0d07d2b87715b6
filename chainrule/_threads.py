"""Both cores for the big NumPy kernels: a lazily made thread pool and `split_run`.

NumPy's GEMMs run on all cores through OpenBLAS, but every other kernel (copies, ufuncs)
runs on one. Those release the GIL, so two Python threads each running the same kernel on
half of the data run in parallel. Split on an axis that the kernel treats independently (the
batch, or a flat range of an elementwise pass), every chunk computes exactly what the whole
call would for its elements: the results are bit-identical, whatever the thread count.

A hand-off to a thread costs ~10-30 us, so work smaller than MIN_BYTES runs in the calling
thread. The thread count is the CPUs this process may use, at most MAX_THREADS; set the
environment variable CHAINRULE_NUM_THREADS (e.g. =1: no threads) before importing chainrule
to choose it.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

MAX_THREADS = 4
MIN_BYTES = 256 << 10  # below this, a thread hand-off costs more than half the kernel saves


def _thread_count() -> int:
    """CHAINRULE_NUM_THREADS if set, else the CPUs this process may run on; at most MAX_THREADS."""
    env = os.environ.get("CHAINRULE_NUM_THREADS", "").strip()
    if env:
        if not env.isdigit() or int(env) < 1:
            raise ValueError(f"CHAINRULE_NUM_THREADS must be a positive integer, got {env!r} "
                             "(1 turns chainrule's kernel threads off)")
        return min(int(env), MAX_THREADS)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cpus or 1, MAX_THREADS))


NUM_THREADS = _thread_count()
_pool: list = []  # the executor, made on the first split
if hasattr(os, "register_at_fork"):  # a forked child has none of its parent's threads
    os.register_at_fork(after_in_child=_pool.clear)


class _Local(threading.local):
    busy = False  # this thread runs a chunk: a split inside it runs inline


_local = _Local()


def split_run(fn, n: int, *arrays: np.ndarray, min_bytes: int | None = None) -> None:
    """Run fn(lo, hi) on consecutive chunks that cover range(n) exactly, one per thread (the
    calling thread takes the first), and return when all are done. fn must write disjoint
    parts of its outputs for disjoint chunks. `arrays` (what the call reads and writes) size
    the work: fn(0, n) runs inline when they hold fewer than min_bytes (default MIN_BYTES),
    when one is an ndarray subclass (a chainrule.compile trace records each call in order:
    it must see one thread), or inside a chunk. An exception raised by any chunk reaches the
    caller unchanged, once every chunk has stopped (they write into the caller's arrays)."""
    k = min(NUM_THREADS, n)
    limit = MIN_BYTES if min_bytes is None else min_bytes
    if (k < 2 or _local.busy or any(type(a) is not np.ndarray for a in arrays)
            or sum(a.nbytes for a in arrays) < limit):
        fn(0, n)
        return
    if not _pool:
        _pool.append(ThreadPoolExecutor(MAX_THREADS - 1, thread_name_prefix="chainrule"))
    cuts = [n * i // k for i in range(k + 1)]
    futures = [_pool[0].submit(_chunk, fn, cuts[i], cuts[i + 1]) for i in range(1, k)]
    error = None
    try:
        _chunk(fn, cuts[0], cuts[1])
    except BaseException as e:  # re-raised below, once the workers are done
        error = e
    for f in futures:
        if f.exception() is not None and error is None:
            error = f.exception()
    if error is not None:
        raise error


def split_rows(fn, *arrays, min_bytes: int | None = None) -> None:
    """fn(*parts), each part the same chunk of rows (first axis) of each array, run by
    split_run: elementwise work over arrays of one shape (an optimizer's update). None
    entries are passed as None; 0-d arrays, and a single chunk, get the arrays themselves."""
    given = [a for a in arrays if a is not None]
    n = len(given[0]) if given[0].ndim else 1

    def run(lo, hi):
        if hi - lo == n:
            fn(*arrays)
        else:
            fn(*(None if a is None else a[lo:hi] for a in arrays))

    split_run(run, n, *given, min_bytes=min_bytes)


def _chunk(fn, lo: int, hi: int) -> None:
    _local.busy = True
    try:
        fn(lo, hi)
    finally:
        _local.busy = False
