"""Run every workload beside PyTorch in one process and print time ratios.

Alternating runs (chainrule, torch, chainrule, ...) so that both see the same machine state;
the median of `--repeats` runs is reported, with ratio = chainrule / torch (below 1: faster).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time


def run(repeats: int = 5, only: str | None = None, out: str | None = None) -> list[dict]:
    import chainrule

    try:
        import torch
    except ImportError:
        print("benchmarks: PyTorch is needed to compare against (pip install torch==2.13.0)",
              file=sys.stderr)
        raise SystemExit(2) from None
    torch.set_num_threads(1)  # the workloads are tiny: threads only add overhead
    from benchmarks.workloads import WORKLOADS

    rows = []
    for name, (make, work, goal) in WORKLOADS.items():
        if only and only not in name:
            continue
        data = make()
        times = {"chainrule": [], "torch": []}
        results = {}
        work(chainrule, data)  # warm-up: imports, caches
        work(torch, data)
        for _ in range(repeats):
            for label, lib in (("chainrule", chainrule), ("torch", torch)):
                t0 = time.perf_counter()
                results[label] = work(lib, data)
                times[label].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) for k, v in times.items()}
        ratio = med["chainrule"] / med["torch"]
        row = {"workload": name, "chainrule_s": med["chainrule"], "torch_s": med["torch"],
               "ratio": ratio, "goal": goal, "meets_goal": ratio <= goal,
               "result_chainrule": results["chainrule"], "result_torch": results["torch"]}
        rows.append(row)
        print(f"{name:40s} chainrule {med['chainrule']:8.3f} s   torch {med['torch']:8.3f} s   "
              f"ratio {ratio:5.2f} (goal <= {goal})   results {results['chainrule']:.6g} / "
              f"{results['torch']:.6g}", flush=True)
    rows += run_ratios(repeats, only)
    if out:
        with open(out, "w") as f:
            json.dump(rows, f, indent=2)
    return rows


def run_ratios(repeats: int = 5, only: str | None = None) -> list[dict]:
    """RATIO_WORKLOADS: each library's variant against its own baseline (ratio = variant /
    baseline, median of `repeats` alternating runs); the goal applies to chainrule's ratio."""
    import torch

    import chainrule
    from benchmarks.workloads import RATIO_WORKLOADS

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
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", help="run workloads whose name contains this text")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    run(args.repeats, args.only, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
