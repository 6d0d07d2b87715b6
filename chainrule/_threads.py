"""Both cores for the big NumPy kernels: lazily started worker threads and `split_run`.

NumPy's GEMMs run on all cores through OpenBLAS, but every other kernel (copies, ufuncs)
runs on one. Those release the GIL, so two Python threads each running the same kernel on
half of the data run in parallel. Split on an axis that the kernel treats independently
(samples, channels, the rows of an elementwise pass), every chunk computes exactly what the
whole call would for its elements: the results are bit-identical, whatever the thread count.

A hand-off to a thread costs 10-80 us (waking an idle CPU), so work on fewer than MIN_BYTES
runs in the calling thread. The thread count is the CPUs this process may use, at most
MAX_THREADS; set the environment variable CHAINRULE_NUM_THREADS before importing chainrule
to choose it (1: no threads, and OpenBLAS's settings are left alone).
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from queue import SimpleQueue

import numpy as np

MAX_THREADS = 4
MIN_BYTES = 2 << 20  # ~0.2-1 ms of work on one core: the hand-off (10-80 us) pays


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
OPENBLAS_TIMEOUT = 16  # OpenBLAS's idle workers spin for 2**16 cycles (~25 us), then sleep


def _openblas_stop_spinning() -> bool:
    """Make NumPy's OpenBLAS put its idle workers to sleep after OPENBLAS_TIMEOUT: by default
    they busy-wait (no yield) for 2**28 cycles, ~0.1 s after every GEMM, on the core that a
    kernel's second chunk needs, which made the split kernels of a training step slower than
    one thread. OpenBLAS reads the timeout from its environment when it starts its threads:
    set it, re-read it, and stop the threads (restarted at the next GEMM, as after a fork).
    Not done when the user set OPENBLAS_THREAD_TIMEOUT, with one thread, or off Linux."""
    if NUM_THREADS < 2 or "OPENBLAS_THREAD_TIMEOUT" in os.environ or \
            not sys.platform.startswith("linux"):
        return False
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.rsplit("/", 1)[-1]}
        libs = [ctypes.CDLL(p) for p in sorted(paths)]
    except OSError:
        return False
    done = False
    for lib in libs:
        if hasattr(lib, "openblas_read_env") and hasattr(lib, "blas_thread_shutdown_"):
            os.environ["OPENBLAS_THREAD_TIMEOUT"] = str(OPENBLAS_TIMEOUT)
            try:
                lib.openblas_read_env()
            finally:
                del os.environ["OPENBLAS_THREAD_TIMEOUT"]
            lib.blas_thread_shutdown_()
            done = True
    return done


OPENBLAS_TUNED = _openblas_stop_spinning()
_tasks: SimpleQueue = SimpleQueue()  # (fn, lo, hi, done) for the workers
_workers: list = []  # started on the first split that needs them
if hasattr(os, "register_at_fork"):  # a forked child has none of its parent's threads
    os.register_at_fork(after_in_child=_workers.clear)


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
    while len(_workers) < k - 1:
        _workers.append(threading.Thread(target=_work, name="chainrule-kernel", daemon=True))
        _workers[-1].start()
    cuts, done = [n * i // k for i in range(k + 1)], SimpleQueue()
    for i in range(1, k):
        _tasks.put((fn, cuts[i], cuts[i + 1], done))
    error = _chunk(fn, cuts[0], cuts[1])
    for _ in range(1, k):  # every chunk reports back, an exception or None
        e = done.get()
        error = error or e
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


def _chunk(fn, lo: int, hi: int) -> BaseException | None:
    """fn(lo, hi) as a chunk (a split inside runs inline); the exception it raised, if any."""
    _local.busy = True
    try:
        fn(lo, hi)
    except BaseException as e:  # handed to split_run's caller, which raises it
        return e
    finally:
        _local.busy = False
    return None


def _work() -> None:
    """A worker thread: run chunks as they come, for ever (a daemon: exit does not wait)."""
    while True:
        fn, lo, hi, done = _tasks.get()
        done.put(_chunk(fn, lo, hi))
