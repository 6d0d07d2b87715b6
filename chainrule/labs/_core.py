"""What every lab shares: the run context, the result, `--set` parsing, the report writer.

A lab is a module with

    TITLE = "..."                         # the section heading
    class Config:                         # a dataclass: defaults are the full experiment,
        ...                               #   Config.quick() runs in seconds (for tests)
    def run(config, ctx) -> Result        # the experiment, written in the torch-style API
    LISTING = [fn, ...]                   # optional: functions shown as code in the report

and its module docstring says what it does (it opens the report section). `run` draws its
figures with `ctx.figure()` / `ctx.save()`, wraps its loops in `ctx.progress(...)`, hands
each training loop to `ctx.train(...)` (which also runs it compiled under `--compile`), and
returns the numbers: metrics (for results.json), tables of measured against course-reported
values, and notes. `run_labs` runs labs one after another and writes DIR/report.md,
DIR/<lab>/*.png and DIR/results.json; every write is atomic (temp file + os.replace).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import math
import os
import platform
import sys
import tempfile
import textwrap
import time
import traceback
import types
import typing
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class LabSkipped(Exception):
    """Raised by a lab that cannot run here (e.g. MNIST is not on disk); the message says why
    and how to fix it. The run goes on with the other labs and exits 0."""


class ConfigError(ValueError):
    """A bad `--set key=value`: unknown key or a value of the wrong type."""


# ---------------------------------------------------------------------------------------------
# What a lab returns


@dataclass
class Table:
    """A table of the report. Cells are numbers (formatted with `fmt`) or strings."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    fmt: str = "{:.3f}"
    note: str = ""

    def to_json(self) -> dict:
        return {"title": self.title, "columns": self.columns,
                "rows": [[_jsonable(c) for c in row] for row in self.rows],
                "fmt": self.fmt, "note": self.note}


@dataclass
class Result:
    """What `run` returns: a one-line summary, metrics for results.json, tables, notes.

    Figures are not listed here: `ctx.save` records them as they are written."""

    summary: str
    metrics: dict[str, Any] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# The context a lab runs in


class Context:
    """Where a lab writes, which seed it uses, whether it runs quick, where data lives.

    `seed` seeds everything: labs call `torch.manual_seed(ctx.seed)` and draw data order
    from `ctx.generator()`, so the same seed gives the same numbers. `compile` runs the
    training loops a lab hands to `ctx.train` both eagerly and compiled (see there).
    """

    def __init__(self, lab: str, out_dir: str | os.PathLike, seed: int = 0, quick: bool = False,
                 data_dir: str | os.PathLike | None = None, progress: bool | None = None,
                 compile: bool = False):
        self.lab = lab
        self.compile = bool(compile)
        self.loops: list[dict] = []  # with compile: each training loop's times and verdict
        self.out_dir = Path(out_dir)
        self.lab_dir = self.out_dir / lab
        self.seed = int(seed)
        self.quick = bool(quick)
        self.data_dir = None if data_dir is None else Path(data_dir)
        self.show_progress = _stderr_is_tty() if progress is None else bool(progress)
        self.figures: list[dict] = []

    def generator(self, offset: int = 0):
        """A fresh chainrule.Generator seeded from the run's seed (offset: an independent
        stream for a second purpose, e.g. data order vs initial weights)."""
        import chainrule

        return chainrule.Generator().manual_seed(self.seed * 1_000_003 + offset)

    def train(self, label: str, fn, same=None):
        """`fn(compile)` runs a training loop (compile: wrap its step in torch.compile) and
        returns what it learned.

        Without `self.compile` this is `fn(False)`. With it, the loop runs twice from the same
        random state, eagerly and then compiled; both are timed (the compiled time includes
        tracing), `same(result)` of the two (default: the whole result) is compared bit for
        bit, and the compiled run's result is returned. The lab's report gives the times and
        whether the bits agree."""
        import chainrule

        if not self.compile:
            return fn(False)
        rng = chainrule.get_rng_state()
        start = time.perf_counter()
        eager = fn(False)
        eager_seconds = time.perf_counter() - start
        chainrule.set_rng_state(rng)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            compiled = fn(True)
            compiled_seconds = time.perf_counter() - start
        breaks = sorted({str(w.message) for w in caught if "chainrule.compile" in str(w.message)})
        for w in caught:
            if "chainrule.compile" not in str(w.message):
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)
        pick = same or (lambda result: result)
        self.loops.append({"loop": label, "eager_seconds": round(eager_seconds, 4),
                           "compiled_seconds": round(compiled_seconds, 4),
                           "identical": same_bits(pick(eager), pick(compiled)),
                           "warnings": breaks})
        return compiled

    def progress(self, iterable=None, desc: str = "", total: int | None = None,
                 leave: bool = False, **kwargs):
        """A tqdm progress bar on stderr (a plain iterator when bars are off)."""
        from tqdm.auto import tqdm

        return tqdm(iterable, desc=f"{self.lab}: {desc}" if desc else self.lab, total=total,
                    leave=leave, disable=not self.show_progress, file=sys.stderr,
                    dynamic_ncols=True, **kwargs)

    def figure(self, ncols: int = 1, nrows: int = 1, size: tuple[float, float] = (5.0, 4.0),
               **kwargs):
        """A new matplotlib Figure and its axes (no pyplot, so no display and no global state).

        `size` is one panel's (width, height) in inches."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=True, **kwargs)
        return fig, axes

    def save(self, fig, name: str, caption: str) -> Path:
        """Write `fig` as DIR/<lab>/<name>.png (atomically) and list it in the report."""
        self.lab_dir.mkdir(parents=True, exist_ok=True)
        path = self.lab_dir / f"{name}.png"
        with _atomic(path, "wb") as f:
            fig.savefig(f, format="png", dpi=110, metadata={"Software": None})
        self.figures.append({"name": name, "path": f"{self.lab}/{name}.png",
                             "caption": caption})
        return path


def same_bits(a, b) -> bool:
    """Whether two results hold the same bits: tensors and arrays (dtype, shape and every
    byte), floats (by their bytes: -0.0 is not 0.0, NaN is NaN), Modules and optimizers
    (their state_dict), and lists, tuples and dicts of those."""
    import numpy as np

    if hasattr(a, "state_dict") and callable(a.state_dict):
        return type(a) is type(b) and same_bits(a.state_dict(), b.state_dict())
    if hasattr(a, "detach") and hasattr(a, "array"):  # a chainrule Tensor
        return hasattr(b, "array") and same_bits(a.array, b.array)
    if isinstance(a, (np.ndarray, np.generic, float)):
        a, b = np.asarray(a), np.asarray(b)
        return (a.dtype == b.dtype and a.shape == b.shape
                and np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes())
    if isinstance(a, dict):
        return (isinstance(b, dict) and list(a) == list(b)
                and all(same_bits(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(same_bits(x, y) for x, y in zip(a, b)))
    return type(a) is type(b) and a == b


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


# ---------------------------------------------------------------------------------------------
# --set key=value


def parse_sets(pairs) -> list[tuple[str | None, str, str]]:
    """`["hidden=[256,128]", "mnist-cnn.epochs=3"]` -> [(None, "hidden", "[256,128]"), ...].

    `lab.key=value` sets the key of that lab only; a bare `key=value` sets it in every lab
    being run that has it."""
    out = []
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set {pair!r}: expected key=value (e.g. --set epochs=5 or "
                              f"--set mnist-mlp.hidden=[256,128])")
        lab, dot, name = key.rpartition(".")
        out.append((lab if dot else None, (name if dot else key).replace("-", "_"), value))
    return out


def config_fields(config_cls) -> dict[str, Any]:
    """{field name: its type} of a config dataclass, with string annotations resolved."""
    hints = typing.get_type_hints(config_cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(config_cls)}


def apply_sets(config, sets, lab: str):
    """A copy of `config` with the `--set` values meant for `lab`, converted to field types.

    Raises ConfigError for a key the lab does not have when the key was addressed to it
    (`lab.key=...`); bare keys that it lacks are ignored here (see `check_sets`)."""
    fields = config_fields(type(config))
    changes = {}
    for target, key, raw in sets:
        if target is not None and target != lab:
            continue
        if key not in fields:
            if target is None:
                continue
            raise ConfigError(_unknown(lab, key, fields))
        changes[key] = convert(raw, fields[key], f"{lab}.{key}")
    return dataclasses.replace(config, **changes) if changes else config


def check_sets(sets, configs: dict[str, Any]) -> None:
    """Every bare key must belong to at least one lab being run; `lab.key` needs that lab."""
    for target, key, _ in sets:
        if target is not None:
            if target not in configs:
                raise ConfigError(f"--set {target}.{key}=...: lab {target!r} is not among "
                                  f"those being run ({', '.join(configs)})")
            continue
        if not any(key in config_fields(type(c)) for c in configs.values()):
            lines = [f"  {name}: {', '.join(config_fields(type(c)))}"
                     for name, c in configs.items()]
            raise ConfigError(f"--set {key}=...: no lab being run has a setting {key!r}. "
                              "Valid settings:\n" + "\n".join(lines))


def _unknown(lab, key, fields) -> str:
    return (f"--set {lab}.{key}=...: {lab} has no setting {key!r}; valid settings: "
            f"{', '.join(fields)}")


_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f"}


def convert(raw: str, tp, what: str = "value"):
    """Turn the text of `--set` into a value of type `tp` (int, float, bool, str, list[T],
    tuple[T, ...], T | None); ConfigError with the expected type when it does not fit."""
    text = raw.strip()
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if type(None) in args and text.lower() in ("none", "null", ""):
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return convert(raw, arg, what)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if len(errors) == 1 else
                          f"--set {what}={raw}: expected {type_name(tp)}")
    if origin in (list, tuple):
        inner = args[0] if args else str
        body = text
        if body[:1] in "[(" and body[-1:] in "])":
            body = body[1:-1]
        items = [s.strip() for s in body.split(",") if s.strip()]
        values = [convert(s, inner, what) for s in items]
        return values if origin is list else tuple(values)
    if tp is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ConfigError(f"--set {what}={raw}: expected a bool (true/false)")
    if tp is int:
        try:
            return int(text)
        except ValueError:
            try:
                f = float(text)
            except ValueError:
                f = math.nan
            if math.isfinite(f) and f == int(f):
                return int(f)
            raise ConfigError(f"--set {what}={raw}: expected an int") from None
    if tp is float:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"--set {what}={raw}: expected a float") from None
    if tp is str:
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            return ast.literal_eval(text)
        return text
    raise ConfigError(f"--set {what}: settings of type {type_name(tp)} cannot be set")


def type_name(tp) -> str:
    """`int`, `list[int]`, `float | None`: a field type as one writes it."""
    return tp.__name__ if isinstance(tp, type) else str(tp).replace("typing.", "")


# ---------------------------------------------------------------------------------------------
# Running labs and writing the report


def versions() -> dict[str, str]:
    import matplotlib
    import numpy

    import chainrule

    return {"chainrule": chainrule.__version__, "numpy": numpy.__version__,
            "matplotlib": matplotlib.__version__, "python": platform.python_version(),
            "platform": platform.platform()}


def run_lab(info, config, ctx: Context) -> dict:
    """Run one lab; the record that goes into results.json (status ok / skipped / failed)."""
    import chainrule

    module = info.load()
    record = {"title": module.TITLE, "seed": ctx.seed, "quick": ctx.quick,
              "config": _jsonable(dataclasses.asdict(config)),
              "description": _description(module), "listing": _listing(module)}
    chainrule.manual_seed(ctx.seed)
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        result = module.run(config, ctx)
    except LabSkipped as e:
        record.update(status="skipped", summary=f"skipped: {e}", metrics={}, tables=[],
                      notes=[str(e)], figures=[])
    except Exception as e:  # noqa: BLE001 - one broken lab must not stop the others
        record.update(status="failed", summary=f"failed: {type(e).__name__}: {e}",
                      metrics={}, tables=[], figures=ctx.figures,
                      notes=["```\n" + traceback.format_exc(limit=8) + "```"])
    else:
        record.update(status="ok", summary=result.summary, metrics=_jsonable(result.metrics),
                      tables=[t.to_json() for t in result.tables], notes=list(result.notes),
                      figures=ctx.figures)
    record["seconds"] = round(time.perf_counter() - start, 3)
    # CPU time of all threads: on a busy machine the wall time says more about the neighbours
    record["cpu_seconds"] = round(time.process_time() - cpu_start, 3)
    if ctx.compile:
        loops = ctx.loops
        record["compile"] = {
            "identical": all(loop["identical"] for loop in loops) if loops else None,
            "eager_seconds": round(sum(loop["eager_seconds"] for loop in loops), 3),
            "compiled_seconds": round(sum(loop["compiled_seconds"] for loop in loops), 3),
            "loops": loops}
    return record


def write_outputs(out_dir: Path, records: dict[str, dict], order: list[str],
                  argv: list[str] | None = None) -> None:
    """Merge `records` into DIR/results.json (labs run earlier into DIR are kept) and write
    DIR/report.md from all of them, in registry order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "results.json"
    labs: dict[str, dict] = {}
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(old, dict) and isinstance(old.get("labs"), dict):
                labs = {k: v for k, v in old["labs"].items() if isinstance(v, dict)}
        except (ValueError, OSError):
            labs = {}  # an unreadable old file is replaced, not trusted
    labs.update(records)
    ordered = {name: labs[name] for name in order if name in labs}
    ordered.update({k: v for k, v in labs.items() if k not in ordered})
    results = {"command": "chainrule " + " ".join(argv) if argv else None,
               "versions": versions(), "labs": ordered}
    with _atomic(path, "w") as f:
        json.dump(results, f, indent=1, allow_nan=False)
        f.write("\n")
    with _atomic(out_dir / "report.md", "w") as f:
        f.write(render_report(results))


def render_report(results: dict) -> str:
    labs = results["labs"]
    v = results["versions"]
    lines = [
        "# chainrule labs: the course experiments, reproduced",
        "",
        "Every experiment of the course material (`shared/seeds/`), rerun with chainrule "
        "(`import chainrule as torch`). Each section says what the lab does, puts the "
        "figures the course reports beside the ones measured here, and shows the figures "
        "and the code. Written by `chainrule labs run`; the numbers are in `results.json`.",
        "",
        f"chainrule {v['chainrule']}, NumPy {v['numpy']}, matplotlib {v['matplotlib']}, "
        f"Python {v['python']} on {v['platform']}.",
        "",
        "| lab | status | seconds | result |",
        "|---|---|---:|---|",
    ]
    for name, rec in labs.items():
        quick = " (quick)" if rec.get("quick") else ""
        lines.append(f"| [{name}](#{_anchor(name)}) | {rec.get('status', '?')}{quick} | "
                     f"{rec.get('seconds', 0):.1f} | {_cell(rec.get('summary', ''))} |")
    lines.append("")
    for name, rec in labs.items():
        lines += _render_section(name, rec)
    return "\n".join(lines) + "\n"


def _render_section(name: str, rec: dict) -> list[str]:
    lines = [f'<a id="{_anchor(name)}"></a>', "", f"## {name}: {rec.get('title', '')}", ""]
    if rec.get("description"):
        lines += [rec["description"], ""]
    config = ", ".join(f"{k}={v}" for k, v in (rec.get("config") or {}).items())
    lines += [f"*Status: {rec.get('status')}{' (quick config)' if rec.get('quick') else ''}; "
              f"seed {rec.get('seed')}; {rec.get('seconds', 0):.1f} s. Config: `{config}`*", ""]
    lines += [f"**Result:** {rec.get('summary', '')}", ""]
    if "compile" in rec:
        lines += _render_compile(rec["compile"])
    for t in rec.get("tables", []):
        lines += [f"**{t['title']}**", ""]
        lines.append("| " + " | ".join(t["columns"]) + " |")
        lines.append("|" + "|".join("---" for _ in t["columns"]) + "|")
        for row in t["rows"]:
            lines.append("| " + " | ".join(_fmt(c, t.get("fmt", "{:.3f}")) for c in row) + " |")
        if t.get("note"):
            lines += ["", t["note"]]
        lines.append("")
    for fig in rec.get("figures", []):
        lines += [f"![{fig['caption']}]({fig['path']})", "", f"*{fig['caption']}*", ""]
    for note in rec.get("notes", []):
        lines += [note, ""]
    if rec.get("listing"):
        lines += ["<details><summary>Code</summary>", "", "```python", rec["listing"].rstrip(),
                  "```", "", "</details>", ""]
    return lines


def _render_compile(info: dict) -> list[str]:
    """The --compile line: identical or not, and each training loop's eager and compiled
    times (both runs start from the same random state; compiled includes the tracing)."""
    loops = info.get("loops") or []
    if not loops:
        return ["**Compiled:** this lab has no training loop to compile (it ran eagerly).", ""]
    verdict = "yes" if info["identical"] else "NO"
    eager, compiled = info["eager_seconds"], info["compiled_seconds"]
    lines = [f"**Compiled:** identical to eager: {verdict}. Training loops: eager "
             f"{eager:.2f} s, compiled {compiled:.2f} s (x{eager / max(compiled, 1e-9):.1f}, "
             "tracing included; both runs start from the same random state and their "
             "results are compared bit for bit).", ""]
    if len(loops) > 1 or loops[0]["warnings"] or not loops[0]["identical"]:
        lines += ["| loop | eager (s) | compiled (s) | identical | compiler warnings |",
                  "|---|---:|---:|---|---|"]
        lines += [f"| {_cell(lp['loop'])} | {lp['eager_seconds']:.3f} | "
                  f"{lp['compiled_seconds']:.3f} | {'yes' if lp['identical'] else 'NO'} | "
                  f"{_cell('; '.join(lp['warnings'])) or '-'} |" for lp in loops]
        lines.append("")
    return lines


def _fmt(value, fmt: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return fmt.format(value)
    return _cell(str(value))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _anchor(name: str) -> str:
    return "lab-" + name


def _description(module) -> str:
    return textwrap.dedent(inspect.getdoc(module) or "").strip()


def _listing(module) -> str:
    parts = []
    for obj in getattr(module, "LISTING", ()):
        try:
            parts.append(textwrap.dedent(inspect.getsource(obj)))
        except (OSError, TypeError):
            continue
    return "\n\n".join(parts)


def _jsonable(value):
    """Plain JSON values: tensors and arrays become lists, NaN/inf become None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if hasattr(value, "tolist"):  # numpy scalars/arrays, chainrule tensors
        return _jsonable(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if dataclasses.is_dataclass(value):
        return _jsonable(dataclasses.asdict(value))
    return str(value)


class _atomic:
    """Write to a temp file beside `path`, then os.replace it into place (no torn files)."""

    def __init__(self, path: Path, mode: str):
        self.path = Path(path)
        self.mode = mode

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        kwargs = {} if "b" in self.mode else {"encoding": "utf-8", "newline": "\n"}
        self.file = os.fdopen(fd, self.mode, **kwargs)
        return self.file

    def __exit__(self, exc_type, exc, tb):
        self.file.close()
        if exc_type is None:
            os.chmod(self.tmp, 0o644)  # mkstemp makes it private; a report is for reading
            os.replace(self.tmp, self.path)
        else:
            os.unlink(self.tmp)
        return False
