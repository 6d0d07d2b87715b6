"""benchmarks/: each workload's chainrule and PyTorch forms do the same work, the runner wraps
each step function once in compiled mode, and its rows, table and JSON have their shape."""

import dataclasses
import json
import math

import pytest

import chainrule
from benchmarks import workloads
from benchmarks.__main__ import run, workload_rows
from benchmarks.measure import gemm_peak_gflops, run_job
from benchmarks.memory import peak_memory_mb
from tests._torch import torch

W = {name.split()[0]: (name, spec) for name, spec in workloads.WORKLOADS.items()}


def _both(spec, data, steps):
    return [run_job(spec.setup(lib, data, steps))[0] for lib in (chainrule, torch)]


@pytest.mark.parametrize("key, rtol", [("W1", 1e-10), ("W2", 1e-5), ("W3", 1e-5),
                                       ("W4", 1e-4)])
def test_workload_gives_pytorchs_result(key, rtol):
    _, spec = W[key]
    ours, theirs = _both(spec, spec.make(3), 3)
    assert math.isfinite(ours) and ours == pytest.approx(theirs, rel=rtol)


@pytest.mark.parametrize("name", list(workloads.RATIO_WORKLOADS))
def test_ratio_workloads_give_pytorchs_result(name):
    """Each ratio row's baseline and variant compute what PyTorch's do (the loss, or the
    jvp's directional derivative), compiled or not."""
    make, base, variant, _ = workloads.RATIO_WORKLOADS[name]
    data = make()
    for work in (base, variant):
        ours, theirs = (work(lib, data, calls=2) for lib in (chainrule, torch))
        assert math.isfinite(ours) and ours == pytest.approx(theirs, rel=1e-5), work.__name__


def test_cnn_without_dropout_gives_pytorchs_result():
    # dropout masks come from each library's own generator; at p=0 the runs are the same
    data = workloads.cnn_data(3, dropout=0.0)
    ours, theirs = _both(workloads.WORKLOADS[W["W5"][0]], data, 3)
    assert ours == pytest.approx(theirs, rel=1e-4)


def test_cnn_runs_draw_the_same_dropout_masks():
    spec, data = workloads.WORKLOADS[W["W5"][0]], workloads.cnn_data(2)
    first, second = (run_job(spec.setup(chainrule, data, 2))[0] for _ in range(2))
    assert first == second


def test_both_libraries_start_from_the_same_weights():
    data = workloads.cnn_data(1)
    models = [workloads.cnn(lib) for lib in (chainrule, torch)]
    for lib, model in zip((chainrule, torch), models):
        model.load_state_dict({k: lib.tensor(v) for k, v in data["state"].items()})
    ours, theirs = (m.state_dict() for m in models)
    assert ours.keys() == theirs.keys()
    for k in ours:
        assert (ours[k].numpy() == theirs[k].numpy()).all(), k


def _counting(calls):
    def compile_fn(step):
        calls.append(step)
        return lambda *args: step(*args)
    return compile_fn


@pytest.mark.parametrize("key, n_steps", [("W2", 1), ("W3", 3)])
def test_compiled_mode_wraps_each_step_function_once(key, n_steps):
    _, spec = W[key]
    wrapped = []
    job = spec.setup(chainrule, spec.make(2), 2)
    result, first_call_s, steps = run_job(job, _counting(wrapped))
    assert len(wrapped) == len({step for step, _ in job}) == n_steps
    assert steps == 2 * len(job) and first_call_s > 0
    assert result == pytest.approx(run_job(spec.setup(chainrule, spec.make(2), 2))[0])


def test_rows_of_a_workload_eager_and_compiled():
    name, spec = W["W1"]
    rows = workload_rows(name, spec, (chainrule, torch, _counting([])), 1, True, False, 100.0)
    assert [r["mode"] for r in rows] == ["eager", "compiled"]
    for row in rows:
        assert row["ratio"] == pytest.approx(row["chainrule_s"] / row["torch_s"])
        assert row["steps"] == spec.quick_steps and row["load_average"] >= 0
        assert row["result_chainrule"] == pytest.approx(row["result_torch"], rel=1e-10)
        assert row["meets_goal"] == (row["ratio"] <= spec.goals[row["mode"]])
    assert rows[1]["first_call_eager_steps"] == pytest.approx(
        rows[1]["first_call_s"] / (rows[0]["chainrule_s"] / spec.quick_steps))
    assert "first_call_s" not in rows[0] and rows[1]["same_result_as_eager"] is True


def test_run_prints_the_table_and_writes_the_rows(tmp_path, capsys):
    out = tmp_path / "rows.json"
    rows = run(1, "W1 fact", str(out), quick=True, memory=False)
    assert json.loads(out.read_text()) == json.loads(json.dumps(rows))
    text = capsys.readouterr().out
    assert "GEMM peak" in text and "chainrule s" in text and W["W1"][0] in text
    assert {r["mode"] for r in rows} == {"eager"} | ({"compiled"} if hasattr(
        chainrule, "compile") else set())


def test_w4_reports_its_fraction_of_the_gemm_peak():
    name, spec = W["W4"]
    spec = dataclasses.replace(spec, quick_steps=2)
    (row,) = workload_rows(name, spec, (chainrule, torch, None), 1, True, False, 50.0)
    assert row["gflops_chainrule"] == pytest.approx(
        spec.flops * row["steps"] / row["chainrule_s"] / 1e9)
    assert row["peak_fraction_chainrule"] == pytest.approx(row["gflops_chainrule"] / 50.0)
    assert gemm_peak_gflops(n=64, repeats=2) > 0


def test_peak_memory_child_reports_growth_in_mb():
    mb, error = peak_memory_mb(W["W1"][0], "chainrule", "eager", 10)
    assert error == "" and 0 <= mb < 100
    mb, error = peak_memory_mb(W["W1"][0], "chainrule", "sideways", 10)
    assert mb is None and "mode must be 'eager' or 'compiled'" in error


def test_chainrule_bench_passes_quick_and_no_memory_to_the_runner(monkeypatch):
    import benchmarks.__main__ as bench
    from chainrule.cli import main

    seen = {}
    monkeypatch.setattr(bench, "run", lambda *a, **k: seen.update(args=a, kwargs=k))
    assert main(["bench", "--quick", "--no-memory", "--only", "W1"]) in (0, None)
    assert seen["kwargs"] == {"quick": True, "memory": False} and seen["args"][1] == "W1"
