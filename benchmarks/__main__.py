"""Run every workload beside PyTorch and print time ratios and peak memory.

Each workload runs eagerly and, when `chainrule.compile` exists, with its step function
wrapped by `chainrule.compile`; the ratio is always chainrule / PyTorch eager (below 1:
faster). Runs alternate (chainrule eager, PyTorch, chainrule compiled, ...) so that all see
the same machine state, and the median of `--repeats` runs is reported. Peak memory is the
growth of the peak RSS over one run in a fresh process per library, workload and mode
(benchmarks/memory.py). W1-W3 are tiny: PyTorch runs them on 1 thread; W4 and W5 run
PyTorch on 2 threads; NumPy's OpenBLAS keeps its default throughout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

COLUMNS = (("workload", 36), ("mode", 8), ("chainrule s", 11), ("torch eager s", 13),
           ("ratio", 6), ("goal", 10), ("peak MB cr / torch", 22), ("1st call", 14),
           ("loss chainrule / torch", 24))


def run(repeats: int = 5, only: str | None = None, out: str | None = None, *,
        quick: bool = False, memory: bool = True) -> list[dict]:
    """Time (and measure) the workloads whose name contains `only`; print the table; write
    the rows to `out` as JSON. `quick`: each workload's short step count."""
    import chainrule

    try:
        import torch
    except ImportError:
        print("benchmarks: PyTorch is needed to compare against (pip install torch==2.13.0)",
              file=sys.stderr)
        raise SystemExit(2) from None
    from benchmarks.measure import gemm_peak_gflops
    from benchmarks.workloads import WORKLOADS

    compile_fn = getattr(chainrule, "compile", None)
    peak = gemm_peak_gflops()
    print(f"float32 GEMM peak (np.matmul 1024x1024, best of 10): {peak:.1f} GFLOP/s; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (others' work on "
          "these CPUs slows the 2-thread W4/W5 several-fold: compare rows from a quiet run)")
    if compile_fn is None:
        print("chainrule.compile does not exist here: eager rows only")
    _print_line([name for name, _ in COLUMNS])
    rows = []
    for name, spec in WORKLOADS.items():
        if not only or only in name:
            rows += workload_rows(name, spec, (chainrule, torch, compile_fn), repeats,
                                  quick, memory, peak)
    rows += run_ratios(repeats, only)
    if out:
        with open(out, "w") as f:
            json.dump(rows, f, indent=2)
    return rows


def workload_rows(name: str, spec, libs: tuple, repeats: int, quick: bool, memory: bool,
                  peak: float) -> list[dict]:
    """The eager row and (with a compile function) the compiled row of one workload."""
    from benchmarks.measure import time_variants

    chainrule, torch, compile_fn = libs
    steps = spec.quick_steps if quick else spec.steps
    data = spec.make(steps)
    torch.set_num_threads(spec.threads)
    load = os.getloadavg()[0]
    variants = [("chainrule", chainrule, None), ("torch", torch, None)]
    if compile_fn is not None:
        variants.append(("compiled", chainrule, compile_fn))
    t = time_variants(spec, data, steps, repeats, variants)
    mem = _memory(name, [label for label, _, _ in variants], steps) if memory else {}
    rows = []
    for mode, label in (("eager", "chainrule"), ("compiled", "compiled")):
        if label in t:
            row = _row(name, mode, spec, t[label], t, mem.get(label), mem)
            row.update(steps=steps, threads=spec.threads, data=data.get("source", "fixed"),
                       load_average=load)
            if spec.flops:
                _add_gemm_fraction(row, spec.flops, peak)
            rows.append(row)
            _print_row(row)
    return rows


def _memory(name: str, labels: list[str], steps: int) -> dict:
    from benchmarks.memory import peak_memory_mb

    mem = {}
    for label in labels:
        lib = "torch" if label == "torch" else "chainrule"
        mode = "compiled" if label == "compiled" else "eager"
        mem[label], error = peak_memory_mb(name, lib, mode, steps)
        if error:
            print(f"  peak memory of {lib} {mode} failed:\n{error}", file=sys.stderr)
    return mem


def _row(name: str, mode: str, spec, mine: dict, t: dict, my_mb, mem: dict) -> dict:
    """One table row: time ratio against PyTorch eager and the goals of `mode`."""
    torch_s, eager = t["torch"]["s"], t["chainrule"]
    ratio = mine["s"] / torch_s
    goal = spec.goals.get(mode)
    row = {"workload": name, "mode": mode, "chainrule_s": mine["s"], "torch_s": torch_s,
           "ratio": ratio, "goal": goal, "meets_goal": None if goal is None else ratio <= goal,
           "result_chainrule": mine["result"], "result_torch": t["torch"]["result"],
           "peak_mb_chainrule": my_mb, "peak_mb_torch": mem.get("torch"),
           "warnings": mine["warnings"]}
    ref_mb = mem.get("torch") if mode == "eager" else mem.get("chainrule")
    row["memory_goal"] = "<= torch eager" if mode == "eager" else "<= chainrule eager"
    row["meets_memory_goal"] = (None if my_mb is None or ref_mb is None
                                else my_mb <= ref_mb)
    if mode == "compiled":
        eager_step = eager["s"] / eager["steps"]
        row.update(first_call_s=mine["first_call_s"], first_call_goal=5,
                   first_call_eager_steps=mine["first_call_s"] / eager_step,
                   same_result_as_eager=mine["result"] == eager["result"])
        row["meets_first_call_goal"] = row["first_call_eager_steps"] <= 5
    return row


def _add_gemm_fraction(row: dict, flops: float, peak: float) -> None:
    steps = row["steps"]
    for lib in ("chainrule", "torch"):
        rate = flops * steps / row[f"{lib}_s"] / 1e9
        row[f"gflops_{lib}"] = rate
        row[f"peak_fraction_{lib}"] = rate / peak
    row["gemm_peak_gflops"] = peak


def _mark(ok) -> str:
    return "" if ok is None else " ok" if ok else " MISS"


def _print_row(row: dict) -> None:
    goal = "-" if row["goal"] is None else f"<={row['goal']}{_mark(row['meets_goal'])}"
    cr, tm = row["peak_mb_chainrule"], row["peak_mb_torch"]
    mb = "-" if cr is None or tm is None else f"{cr:.1f} / {tm:.1f}"
    first = "-"
    if row["mode"] == "compiled":
        first = (f"{row['first_call_eager_steps']:.1f}"
                 f"{_mark(row['meets_first_call_goal'])}")
    _print_line([row["workload"], row["mode"], f"{row['chainrule_s']:.3f}",
                 f"{row['torch_s']:.3f}", f"{row['ratio']:.2f}", goal,
                 mb + _mark(row["meets_memory_goal"]), first,
                 f"{row['result_chainrule']:.6g} / {row['result_torch']:.6g}"])
    if "peak_fraction_chainrule" in row:
        print(f"    {row['gflops_chainrule']:.1f} GFLOP/s = "
              f"{100 * row['peak_fraction_chainrule']:.0f}% of GEMM peak "
              f"(torch {100 * row['peak_fraction_torch']:.0f}%)")
    if row.get("same_result_as_eager") is False:
        print(f"    compiled result {row['result_chainrule']!r} differs from eager's")
    if row["data"] != "MNIST" and row["data"] != "fixed":
        print(f"    data: {row['data']}")
    for message in row["warnings"]:
        print(f"    warning: {message}")
    sys.stdout.flush()


def _print_line(cells: list[str]) -> None:
    print("  ".join(f"{c:<{w}}" for c, (_, w) in zip(cells, COLUMNS)).rstrip())


def run_ratios(repeats: int = 5, only: str | None = None) -> list[dict]:
    """RATIO_WORKLOADS: each library's variant against its own baseline (ratio = variant /
    baseline, median of `repeats` alternating runs); the goal applies to chainrule's ratio."""
    import torch

    import chainrule
    from benchmarks.workloads import RATIO_WORKLOADS

    torch.set_num_threads(1)  # the workloads are tiny: threads only add overhead
    rows = []
    for name, (make, base, variant, goal) in RATIO_WORKLOADS.items():
        if only and only not in name:
            continue
        data = make()
        row = {"workload": name, "goal": goal}
        for label, lib in (("chainrule", chainrule), ("torch", torch)):
            times = {"base": [], "variant": []}
            base(lib, data), variant(lib, data)  # warm-up: imports, caches
            for _ in range(repeats):
                for key, work in (("base", base), ("variant", variant)):
                    t0 = time.perf_counter()
                    row[f"result_{label}_{key}"] = work(lib, data)
                    times[key].append(time.perf_counter() - t0)
            med = {k: statistics.median(v) for k, v in times.items()}
            row.update({f"{label}_base_s": med["base"], f"{label}_variant_s": med["variant"],
                        f"{label}_ratio": med["variant"] / med["base"]})
        row["meets_goal"] = row["chainrule_ratio"] <= goal
        rows.append(row)
        print(f"{name:40s} variant / baseline: chainrule {row['chainrule_ratio']:5.2f} "
              f"(goal <= {goal}), torch {row['torch_ratio']:5.2f}   results "
              f"{row['result_chainrule_variant']:.6g} / {row['result_torch_variant']:.6g}",
              flush=True)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, help="runs per measurement (default 5; "
                        "--quick: 1)")
    parser.add_argument("--only", help="run workloads whose name contains this text")
    parser.add_argument("--out", "--json", dest="out",
                        help="also write the rows to this JSON file")
    parser.add_argument("--quick", action="store_true",
                        help="a fast check: each workload's short step count, 1 repeat")
    parser.add_argument("--no-memory", dest="memory", action="store_false",
                        help="skip the peak-memory subprocesses")
    args = parser.parse_args(argv)
    repeats = args.repeats if args.repeats is not None else 1 if args.quick else 5
    run(repeats, args.only, args.out, quick=args.quick, memory=args.memory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
