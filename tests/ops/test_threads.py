"""chainrule._threads: split_run's chunks, and the threaded kernels equal to one thread's, bit
for bit (conv, max-pool, SGD and Adam on the MNIST CNN's and MLP's shapes and on odd ones)."""

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import chainrule as torch
from chainrule import _threads
from chainrule._threads import split_rows, split_run


@pytest.fixture
def threads(monkeypatch):
    """Set the thread count (and a zero size threshold, so that every kernel splits); count
    the chunks that ran on the pool's threads."""
    ran = []
    chunk = _threads._chunk

    def spy(fn, lo, hi):
        ran.append((threading.current_thread().name, lo, hi))
        return chunk(fn, lo, hi)

    monkeypatch.setattr(_threads, "_chunk", spy)
    monkeypatch.setattr(_threads, "MIN_BYTES", 0)

    def set_count(n):
        monkeypatch.setattr(_threads, "NUM_THREADS", n)
        ran.clear()
        return ran
    return set_count


def test_chunks_cover_the_range_once(threads):
    threads(3)
    seen, lock = [], threading.Lock()

    def fn(lo, hi):
        with lock:
            seen.append((lo, hi, threading.current_thread().name))

    for n in (3, 7, 10, 1000):
        seen.clear()
        split_run(fn, n, np.zeros(10), min_bytes=0)
        spans = sorted((lo, hi) for lo, hi, _ in seen)
        assert len(spans) == 3 and spans[0][0] == 0 and spans[-1][1] == n
        assert all(a[1] == b[0] and a[0] < a[1] for a, b in zip(spans, spans[1:]))
        first = [name for lo, _, name in seen if lo == 0]
        assert first == [threading.current_thread().name]
        assert all(name == "chainrule-kernel" for lo, _, name in seen if lo > 0)


def test_small_work_subclasses_and_nested_splits_run_inline(threads):
    threads(2)
    calls = []
    split_run(lambda lo, hi: calls.append((lo, hi)), 8, np.zeros(4), min_bytes=1 << 20)
    split_run(lambda lo, hi: calls.append((lo, hi)), 8, np.ma.zeros(1 << 20), min_bytes=0)
    assert calls == [(0, 8), (0, 8)]
    inner = []
    split_run(lambda lo, hi: split_run(lambda a, b: inner.append((lo, a, b)), 4, np.zeros(4),
                                       min_bytes=0), 2, np.zeros(4), min_bytes=0)
    assert sorted(inner) == [(0, 0, 4), (1, 0, 4)]  # each chunk's split ran whole, inline


class Boom(Exception):
    pass


@pytest.mark.parametrize("where", ["worker", "caller"])
def test_a_chunk_error_reaches_the_caller_after_every_chunk_stopped(threads, where):
    threads(2)
    error, finished = Boom("chunk failed"), []

    def fn(lo, hi):
        if (lo > 0) == (where == "worker"):
            raise error
        time.sleep(0.05)
        finished.append(lo)

    with pytest.raises(Boom) as info:
        split_run(fn, 2, np.zeros(4), min_bytes=0)
    assert info.value is error and len(finished) == 1


def test_split_rows_passes_row_chunks_none_and_0d(threads):
    ran = threads(2)
    a, b = np.arange(10.0).reshape(5, 2), np.zeros((5, 2))
    split_rows(lambda x, n, y: np.multiply(x, 2, out=y), a, None, b)
    assert (b == 2 * a).all() and len(ran) == 2
    z = np.zeros(())
    split_rows(lambda x: np.add(x, 1, out=x), z)
    assert z == 1


def test_env_var_sets_the_count_and_1_turns_threads_off():
    code = ("from chainrule import _threads as t; import numpy as np; seen = [];"
            "t.split_run(lambda lo, hi: seen.append((lo, hi)), 8, np.zeros(1 << 20));"
            "print(t.NUM_THREADS, seen)")
    env = dict(os.environ, CHAINRULE_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split(None, 1) == ["1", "[(0, 8)]\n"]
    env["CHAINRULE_NUM_THREADS"] = "two"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert "CHAINRULE_NUM_THREADS must be a positive integer, got 'two'" in out.stderr


# ------------------------------------------------------------------- the threaded kernels
def _same_bits(run, threads, count=3):
    """run() with one thread and with `count`: equal bytes (so -0.0 and NaN payloads too),
    and the second really used the pool."""
    threads(1)
    one = [np.array(r, copy=True) for r in run()]
    ran = threads(count)
    many = [np.array(r, copy=True) for r in run()]
    assert any(name == "chainrule-kernel" for name, *_ in ran), "nothing ran on a thread"
    for a, b in zip(one, many):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


CONVS = [  # (N, C, O, H, W, kwargs): the CNN's three layers and odd geometries
    (32, 1, 32, 28, 28, {"padding": 1}),
    (32, 32, 64, 14, 14, {"padding": 1}),         # position-major layout
    (32, 64, 128, 7, 7, {"padding": 1}),          # position-major layout
    (5, 4, 6, 11, 9, {"stride": 2, "padding": (2, 1), "dilation": 2, "groups": 2}),
    (7, 3, 5, 6, 6, {"stride": (1, 2)}),
]


@pytest.mark.parametrize("n,c,o,h,w,kw", CONVS)
def test_conv_forward_and_backward_same_bits(threads, n, c, o, h, w, kw):
    rng = np.random.default_rng(0)
    g = kw.get("groups", 1)
    x = torch.tensor(rng.standard_normal((n, c, h, w), dtype=np.float32), requires_grad=True)
    wt = torch.tensor(rng.standard_normal((o, c // g, 3, 3), dtype=np.float32),
                      requires_grad=True)
    b = torch.tensor(rng.standard_normal(o, dtype=np.float32), requires_grad=True)

    def run():
        x.grad = wt.grad = b.grad = None
        y = torch.nn.functional.conv2d(x, wt, b, **kw)
        y.backward(torch.tensor(np.cos(np.arange(y.numel(), dtype=np.float32))).reshape(y.shape))
        return y.detach().numpy(), x.grad.numpy(), wt.grad.numpy(), b.grad.numpy()
    _same_bits(run, threads)


POOLS = [  # (N, C, H, W, kwargs): the CNN's three pools, overlapping and padded windows
    (32, 32, 28, 28, {"kernel_size": 2, "stride": 2}),
    (32, 64, 14, 14, {"kernel_size": 2, "stride": 2}),
    (32, 128, 7, 7, {"kernel_size": 2, "stride": 2}),
    (5, 3, 9, 8, {"kernel_size": 3, "stride": 2, "padding": 1}),
    (7, 2, 10, 10, {"kernel_size": 2, "stride": 1, "dilation": 2, "ceil_mode": True}),
]


@pytest.mark.parametrize("n,c,h,w,kw", POOLS)
@pytest.mark.parametrize("special", [False, True])
def test_max_pool_forward_and_backward_same_bits(threads, n, c, h, w, kw, special):
    rng = np.random.default_rng(1)
    xa = rng.integers(-3, 3, (n, c, h, w)).astype(np.float32)  # ties: first winner
    if special:
        xa[-1, -1, :2, :2] = np.nan
    x = torch.tensor(xa, requires_grad=True)

    def run():
        x.grad = None
        y = torch.nn.functional.max_pool2d(x, **kw)
        ga = -np.abs(np.cos(np.arange(y.numel(), dtype=np.float32))).reshape(y.shape)
        if special:  # an inf gradient takes the where() path: +0.0 elsewhere, for all chunks
            ga[0, 0, 0, 0] = np.inf
        y.backward(torch.tensor(ga))
        return y.detach().numpy(), x.grad.numpy()
    _same_bits(run, threads)


OPTIMIZERS = [
    lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9),
    lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9, dampening=0.1, weight_decay=1e-3),
    lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9, nesterov=True, maximize=True),
    lambda ps: torch.optim.Adam(ps, lr=1e-4, weight_decay=1e-4),
    lambda ps: torch.optim.Adam(ps, lr=1e-3, amsgrad=True, maximize=True),
    lambda ps: torch.optim.AdamW(ps, lr=1e-3),
]


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_optimizer_steps_same_bits(threads, make):
    shapes = [(1024, 784), (256, 1152), (128, 64, 3, 3), (7, 3), (5,), ()]

    def run():
        rng = np.random.default_rng(2)
        ps = [torch.nn.Parameter(torch.tensor(rng.standard_normal(s, dtype=np.float32)))
              for s in shapes]
        opt = make(ps)
        for _ in range(3):
            for p in ps:
                p.grad = torch.tensor(rng.standard_normal(p.shape, dtype=np.float32))
            opt.step()
        return [p.detach().numpy() for p in ps]
    _same_bits(run, threads)


OPENBLAS_CODE = (
    "import ctypes, os, numpy as np; from chainrule import _threads as t;"
    "ps = {x.split()[-1] for x in open('/proc/self/maps') if 'openblas' in x.rsplit('/', 1)[-1]};"
    "libs = [ctypes.CDLL(p) for p in ps];"
    "timeouts = [b.openblas_thread_timeout() for b in libs if hasattr(b, 'openblas_read_env')];"
    "a = np.arange(64.0).reshape(8, 8);"
    "print(t.OPENBLAS_TUNED, timeouts, 'OPENBLAS_THREAD_TIMEOUT' in os.environ,"
    " bool((a @ a == np.einsum('ij,jk->ik', a, a)).all()))")


@pytest.mark.skipif(not sys.platform.startswith("linux") or _threads.NUM_THREADS < 2,
                    reason="OpenBLAS is tuned on Linux with more than one thread")
def test_openblas_workers_sleep_soon_unless_the_user_chose():
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_THREAD_TIMEOUT", "CHAINRULE_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", OPENBLAS_CODE], env=env, capture_output=True,
                         text=True)
    if "[]" in out.stdout:
        pytest.skip("NumPy does not use OpenBLAS here")
    assert out.stdout.split() == ["True", f"[{_threads.OPENBLAS_TIMEOUT}]", "False", "True"]
    for extra in ({"OPENBLAS_THREAD_TIMEOUT": "20"}, {"CHAINRULE_NUM_THREADS": "1"}):
        out = subprocess.run([sys.executable, "-c", OPENBLAS_CODE], env=dict(env, **extra),
                             capture_output=True, text=True)
        assert out.stdout.split()[0] == "False", out.stderr
