"""Timing: one run of a job, alternating repeats of several variants, the GEMM peak."""

from __future__ import annotations

import statistics
import time
import warnings

import numpy as np


def run_job(job: list, compile_fn=None) -> tuple[float, float, int]:
    """Run a job's segments in order: `(result, first_call_s, steps)`.

    Each distinct step function is wrapped once by `compile_fn` when one is given (the
    compiled mode: a segment that reuses a step reuses its compiled form). `first_call_s`
    is the first call of the first segment alone (for a compiled step, the tracing call).
    `result` is the sum of each segment's last loss."""
    wrapped: dict = {}
    result, first_call_s, steps = 0.0, 0.0, 0
    for i, (step, calls) in enumerate(job):
        if compile_fn is not None:
            if step not in wrapped:
                wrapped[step] = compile_fn(step)
            step = wrapped[step]
        rest = calls
        if i == 0:
            t0 = time.perf_counter()
            loss = step(*calls[0])
            first_call_s = time.perf_counter() - t0
            rest = calls[1:]
        for args in rest:
            loss = step(*args)
        result += loss.item()
        steps += len(calls)
    return result, first_call_s, steps


def time_variants(spec, data, steps: int, repeats: int, variants: list) -> dict:
    """Median seconds of `repeats` runs of each variant `(label, lib, compile_fn)`, the
    variants alternating within each repeat so that all see the same machine state; one
    untimed warm-up run of each first. Building a job (`spec.setup`) is not timed.

    Returns label -> {"s", "first_call_s", "result", "steps", "warnings"}: the warnings
    are the distinct messages the runs raised (a compiled step falling back to eager
    says so there)."""
    times: dict = {label: [] for label, _, _ in variants}
    firsts: dict = {label: [] for label, _, _ in variants}
    out: dict = {label: {"warnings": set()} for label, _, _ in variants}
    for repeat in range(repeats + 1):
        for label, lib, compile_fn in variants:
            job = spec.setup(lib, data, steps)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                t0 = time.perf_counter()
                result, first, n = run_job(job, compile_fn)
                elapsed = time.perf_counter() - t0
            out[label]["warnings"].update(str(w.message) for w in caught)
            out[label].update(result=result, steps=n)
            if repeat:  # the first round is the warm-up
                times[label].append(elapsed)
                firsts[label].append(first)
    for label in out:
        out[label]["s"] = statistics.median(times[label])
        out[label]["first_call_s"] = statistics.median(firsts[label])
        out[label]["warnings"] = sorted(out[label]["warnings"])
    return out


def gemm_peak_gflops(n: int = 1024, repeats: int = 10) -> float:
    """This machine's float32 GEMM rate through NumPy (OpenBLAS, its default threads): the
    best of `repeats` n x n products, in GFLOP/s (2 n^3 flops each)."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    c = np.matmul(a, b)  # warm-up: threads, pages of the result
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.matmul(a, b, out=c)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n ** 3 / best / 1e9
