"""torch.utils.benchmark.Timer / Measurement: the same fields and arithmetic as PyTorch's."""

import re
import statistics

import pytest

import chainrule
from chainrule.utils import benchmark
from tests._torch import torch  # noqa: F401 - skips without torch, fails in CI

tbench = pytest.importorskip("torch.utils.benchmark")  # torch is there (tests._torch)


def test_timeit_returns_one_measurement_of_number_runs():
    x = chainrule.ones(4)
    m = benchmark.Timer("x + 1", globals={"x": x}).timeit(50)
    assert m.number_per_run == 50 and len(m.raw_times) == 1
    assert m.times == [m.raw_times[0] / 50]
    assert m.mean == m.median == m.times[0] > 0


def test_torch_is_in_the_globals_unless_given():
    m = benchmark.Timer("torch.ones(2)").timeit(3)
    assert m.mean > 0
    with pytest.raises(NameError):
        benchmark.Timer("y + 1").timeit(1)


def test_blocked_autorange_fills_min_run_time_and_calls_back():
    calls = []
    m = benchmark.Timer("sum(range(50))", setup="import math").blocked_autorange(
        callback=lambda n, t: calls.append((n, t)), min_run_time=0.05)
    assert sum(m.raw_times) >= 0.05
    assert [n for n, _ in calls] == [m.number_per_run] * len(m.raw_times)
    assert m.median == statistics.median(m.times)


def test_measurement_statistics_match_torch():
    raw = [4.0, 1.0, 3.0, 2.0, 10.0]
    ours = benchmark.Measurement(2, raw, stmt="f()")
    spec = tbench.utils.common.TaskSpec(stmt="f()", setup="pass")
    theirs = tbench.Measurement(2, raw, spec)
    assert ours.times == theirs.times
    for name in ("mean", "median", "iqr"):
        assert getattr(ours, name) == pytest.approx(getattr(theirs, name))


@pytest.mark.parametrize("raw", [[4e-6, 1e-6, 3e-6, 2e-6, 10e-6], [1e-3, 1.1e-3],
                                 [2e-9, 2.1e-9, 2.2e-9, 2.5e-9], [5.0]])
def test_repr_has_torchs_layout(raw):
    ours = repr(benchmark.Measurement(10, raw, stmt="f()", label="L", sub_label="S"))
    spec = tbench.utils.common.TaskSpec(stmt="f()", setup="pass", label="L",
                                                       sub_label="S")
    theirs = repr(tbench.Measurement(10, raw, spec))
    strip = re.compile(r"^<.* object at 0x[0-9a-f]+>$", re.M)
    assert strip.sub("", ours) == strip.sub("", theirs)


def test_other_languages_refused():
    with pytest.raises(NotImplementedError, match="language='cpp'"):
        benchmark.Timer("x", language="cpp")
