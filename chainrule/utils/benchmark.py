"""torch.utils.benchmark's Timer and Measurement, for timing a statement in Python.

    t = benchmark.Timer(stmt="x @ x", globals={"x": x})
    m = t.timeit(100)            # one measurement of 100 runs
    m = t.blocked_autorange()    # as many blocks as fit in min_run_time (0.2 s)
    m.mean, m.median, m.times    # seconds per run

A Measurement holds the raw time of each block; `times` divides them by the runs per block.
The statement runs with `torch` in its globals (unless given), as in PyTorch.
"""

from __future__ import annotations

import statistics
import textwrap
import timeit as _timeit

__all__ = ["Measurement", "Timer"]


def _clean(code: str) -> str:
    code = textwrap.dedent(code)
    return (code[1:] if code.startswith("\n") else code).rstrip()


class Measurement:
    """The result of a Timer: `raw_times` are seconds per block of `number_per_run` runs."""

    def __init__(self, number_per_run: int, raw_times: list, stmt: str = "", setup: str = "",
                 label=None, sub_label=None, description=None, num_threads: int = 1):
        self.number_per_run, self.raw_times = number_per_run, list(raw_times)
        self.stmt, self.setup, self.label, self.sub_label = stmt, setup, label, sub_label
        self.description, self.num_threads = description, num_threads

    @property
    def times(self) -> list:
        """Seconds per single run, one entry per block."""
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def _quantile(self, q: float) -> float:
        times = sorted(self.times)  # linear interpolation between order statistics, as torch
        pos = q * (len(times) - 1)
        lo = int(pos)
        hi = min(lo + 1, len(times) - 1)
        return times[lo] + (times[hi] - times[lo]) * (pos - lo)

    @property
    def iqr(self) -> float:
        return self._quantile(0.75) - self._quantile(0.25)

    @property
    def title(self) -> str:
        suffix = f": {self.sub_label}" if self.sub_label else ""
        return (self.label if self.label is not None else self.stmt) + suffix

    def __repr__(self) -> str:
        n = len(self.times)
        unit, scale = _unit(self.median)
        lines = [object.__repr__(self), self.title]
        if self.description:
            lines.append(self.description)
        if self.setup and self.setup != "pass":
            lines.append(f"setup: {self.setup}")
        lines.append(f"  {'Median: ' if n > 1 else ''}{self.median / scale:.2f} {unit}")
        if n >= 4:
            lines.append(f"  IQR:    {self.iqr / scale:.2f} {unit} "
                         f"({self._quantile(0.25) / scale:.2f} to "
                         f"{self._quantile(0.75) / scale:.2f})")
        lines.append(f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs "
                     f"{'per measurement,' if n > 1 else ','} {self.num_threads} thread"
                     f"{'s' if self.num_threads > 1 else ''}")
        lines.extend(self._warnings())
        return "\n".join(lines)

    def meets_confidence(self, threshold: float = 0.1) -> bool:
        return self.iqr / self.median < threshold

    def _warnings(self) -> list:
        """PyTorch's notes on a noisy measurement: an IQR over 10% (25%) of the median."""
        if self.meets_confidence(0.1):
            return []
        why = "This could indicate system fluctuation." if self.meets_confidence(0.25) else \
            "This suggests significant environmental influence."
        return [f"  WARNING: Interquartile range is {self.iqr / self.median * 100:.1f}% "
                f"of the median measurement.\n           {why}"]


def _unit(t: float) -> tuple[str, float]:
    """The unit that puts t in [1, 1000): ns, us, ms or s."""
    import math

    power = math.floor(math.log10(t) / 3) if t > 0 else -3
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(power, "s")
    return unit, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


class Timer:
    """Time `stmt` after running `setup`, both Python source, with `globals` as namespace."""

    def __init__(self, stmt: str = "pass", setup: str = "pass", global_setup: str = "",
                 timer=_timeit.default_timer, globals=None, label=None,  # noqa: A002
                 sub_label=None, description=None, env=None, num_threads: int = 1,
                 language: str = "python"):
        if str(getattr(language, "name", language)).lower() != "python":
            raise NotImplementedError(f"Timer: language={language!r} is not supported: "
                                      f"chainrule times Python statements only")
        if global_setup:
            raise ValueError("Timer: global_setup is for C++ snippets (language='cpp')")
        import chainrule

        namespace = dict(globals or {})
        namespace.setdefault("torch", chainrule)
        self.stmt, self.setup = _clean(stmt), _clean(setup)
        self._timer = _timeit.Timer(self.stmt, self.setup, timer, namespace)
        self._spec = dict(stmt=self.stmt, setup=self.setup, label=label, sub_label=sub_label,
                          description=description, num_threads=num_threads)
        self.env = env

    def _measure(self, number: int) -> float:
        return self._timer.timeit(number)

    def timeit(self, number: int = 1000000) -> Measurement:
        """One block of `number` runs (after one warm-up run)."""
        self._measure(max(int(number // 100), 2))  # warm-up, as PyTorch's timeit
        return Measurement(number, [self._measure(number)], **self._spec)

    def _block_size(self, min_run_time: float) -> int:
        """Runs per block: enough that the timer's own overhead is negligible."""
        overhead = statistics.median(self._measure(0) for _ in range(5))
        number = 1
        while number * 10 <= 2147483647:
            taken = self._measure(number)
            if (overhead / max(taken, 1e-12) <= 1e-4 and taken >= min_run_time / 1000) or \
                    taken > min_run_time:
                break
            number *= 10
        return number

    def _block(self, number: int, raw: list, callback) -> float:
        """Times one block of `number` runs, appends it to raw and shows it to the callback."""
        taken = self._measure(number)
        raw.append(taken)
        if callback is not None:
            callback(number, taken)
        return taken

    def blocked_autorange(self, callback=None, min_run_time: float = 0.2) -> Measurement:
        """Blocks of a fixed size until `min_run_time` seconds have been spent timing."""
        number = self._block_size(min_run_time)
        raw, total = [], 0.0
        while total < min_run_time:
            total += self._block(number, raw, callback)
        return Measurement(number, raw, **self._spec)

    def adaptive_autorange(self, threshold: float = 0.1, *, min_run_time: float = 0.01,
                           max_run_time: float = 10.0, callback=None) -> Measurement:
        """Blocks until the IQR is within `threshold` of the median (or max_run_time)."""
        number = self._block_size(min_run_time=0.05)
        raw, total = [], 0.0
        while total < max_run_time:
            total += self._block(number, raw, callback)
            m = Measurement(number, raw, **self._spec)
            if total >= min_run_time and len(raw) > 3 and m.iqr / m.median < threshold:
                break
        return Measurement(number, raw, **self._spec)
