"""Peak memory of one run, measured in a fresh process per (library, workload, mode).

    python -m benchmarks.memory WORKLOAD LIB MODE STEPS   # prints {"peak_mb": ...}

The child imports the library, builds the data and the job, then takes its resident set
size as the baseline and runs the job once; the result is the growth of the peak resident
set size over that baseline, in MB. On Linux the peak is reset to the current size at the
baseline (`/proc/self/clear_refs`), so memory freed while loading the data (MNIST's whole
file, before slicing) does not hide the run's own peak, and it is read as the process's
own VmHWM: `ru_maxrss` also counts the peak of the process before `exec` (the forked copy
of the parent), which would report the parent's size. Elsewhere `ru_maxrss` serves.
"""

from __future__ import annotations

import gc
import importlib
import json
import resource
import subprocess
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]


def peak_memory_mb(name: str, lib: str, mode: str, steps: int) -> tuple[float | None, str]:
    """Run the child for one measurement: (peak growth in MB, or None on failure; and the
    child's error output when it failed)."""
    proc = subprocess.run([sys.executable, "-m", "benchmarks.memory", name, lib, mode,
                           str(steps)], cwd=_ROOT, capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return None, proc.stderr.strip()[-2000:]
    return json.loads(lines[-1])["peak_mb"], ""


def _status_kb(field: str) -> int:
    """`field` of /proc/self/status in KB (VmRSS: now, VmHWM: the peak); off Linux, the
    peak so far (ru_maxrss)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # 5: reset the peak RSS to the current RSS
    except OSError:
        pass  # elsewhere the baseline's peak includes the setup's


def measure(name: str, lib_name: str, mode: str, steps: int) -> float:
    """The child's work: growth of the peak RSS over one run of the job, in MB."""
    import chainrule  # noqa: F401 - the data helpers use it in either library's child
    from benchmarks.measure import run_job
    from benchmarks.workloads import WORKLOADS

    spec = WORKLOADS[name]
    lib = importlib.import_module(lib_name)
    if lib_name == "torch":
        lib.set_num_threads(spec.threads)
    compile_fn = lib.compile if mode == "compiled" else None
    job = spec.setup(lib, spec.make(steps), steps)
    gc.collect()
    _reset_peak()
    base = _status_kb("VmRSS")
    run_job(job, compile_fn)
    return (_status_kb("VmHWM") - base) / 1024


def main(argv: list[str]) -> int:
    name, lib_name, mode, steps = argv
    if mode not in ("eager", "compiled"):
        raise SystemExit(f"benchmarks.memory: mode must be 'eager' or 'compiled', got {mode!r}")
    print(json.dumps({"peak_mb": measure(name, lib_name, mode, int(steps))}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
