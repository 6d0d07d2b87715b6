"""The labs: every experiment of the course material, reproduced by one command.

    chainrule labs list
    chainrule labs run all --out report            # report.md, <lab>/*.png, results.json
    chainrule labs run factorise iris-mlp --quick --seed 1 --set epochs=50
    chainrule labs run all --quick --compile        # training loops also run compiled

From Python:

    from chainrule import labs
    records = labs.run_labs(["factorise"], out_dir="report", quick=True)

Each lab is a module here, written in the torch-style API (`import chainrule as torch`) so
that it reads as a worked example: a config dataclass (defaults = the full experiment,
`Config.quick()` runs in seconds), `run(config, ctx) -> Result`, and an entry in `LABS`
below with the time it takes on a 2-core laptop-class CPU. See `_core` for the framework.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from chainrule.labs._core import (
    ConfigError,
    Context,
    LabSkipped,
    Result,
    Table,
    apply_sets,
    check_sets,
    parse_sets,
    run_lab,
    write_outputs,
)

__all__ = ["LABS", "LabInfo", "run_labs", "resolve_names", "Context", "Result", "Table",
           "LabSkipped", "ConfigError"]


@dataclass(frozen=True)
class LabInfo:
    """A registry entry: what the lab is, how long it takes here, what data it needs."""

    name: str
    module: str
    summary: str
    seconds: float        # full config, wall time on the 2-core development machine when idle
    seconds_quick: float  # Config.quick(); both include drawing the figures
    data: str

    def load(self):
        return importlib.import_module(f"chainrule.labs.{self.module}")

    @property
    def needs_mnist(self) -> bool:
        return "MNIST" in self.data


LABS: dict[str, LabInfo] = {info.name: info for info in [
    LabInfo("factorise", "factorise",
            "gd_factorise_ad on mean-centred Iris vs truncated SVD, ranks 1-3 (seeds 000/001)",
            2.0, 1.0, "Iris (bundled)"),
    LabInfo("pca-vs-gd", "pca_vs_gd",
            "PCA scores vs the GD factor U: the linear map between them, principal angles",
            1.0, 1.0, "Iris (bundled)"),
    LabInfo("iris-mlp", "iris_mlp",
            "the seed's 4-12-3 MLP with shared scalar biases, 100 trainings: median accuracy",
            5.5, 1.0, "Iris (bundled)"),
    LabInfo("autoencoder", "autoencoder",
            "2-D -> 1-D linear autoencoder: SGD vs momentum vs RMSprop, against PCA (seed 002)",
            3.5, 1.5, "generated"),
    LabInfo("optimiser-paths", "optimiser_paths",
            "why RMSprop and Adam travel along diagonals: paths on a quadratic and Rosenbrock",
            3.5, 1.2, "generated"),
    LabInfo("autograd-basics", "autograd_basics",
            "the worked example u = a*w0 + b*w1, f = v*u: graph, hand vs autograd gradients",
            0.2, 0.2, "none"),
    LabInfo("perceptron", "perceptron",
            "the perceptron algorithm on two Iris classes: mistakes per epoch, boundary",
            1.2, 0.8, "Iris (bundled)"),
    LabInfo("logistic-regression", "logistic_regression",
            "logistic regression trained with autograd on two Iris classes",
            1.4, 0.7, "Iris (bundled)"),
    LabInfo("custom-ops", "custom_ops",
            "vugrad's exercises as autograd.Functions, checked by gradcheck and the built-ins",
            0.4, 0.3, "none"),
    LabInfo("mnist-mlp", "mnist_mlp",
            "MLPs on MNIST, ReLU vs sigmoid, SGD with momentum (seed 003 q9-11)",
            40.0, 1.5, "MNIST"),
    LabInfo("mnist-cnn", "mnist_cnn",
            "the seed's CNN, BatchNorm, Dropout, Adam + weight decay (seed 003 q12); 5 epochs",
            195.0, 3.5, "MNIST"),
    LabInfo("forward-vs-reverse", "forward_vs_reverse",
            "Jacobians by n jvps vs m vjps (the crossover), Hessian-vector products three ways, "
            "Newton vs GD on Iris", 8.0, 2.0, "Iris (bundled)"),
]}


def resolve_names(names) -> list[str]:
    """Lab names (or `all`) in registry order; ValueError naming the valid ones."""
    names = list(names)
    if not names or "all" in names:
        return list(LABS)
    unknown = [n for n in names if n not in LABS]
    if unknown:
        raise ValueError(f"unknown lab{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(unknown)}; valid: all, {', '.join(LABS)}")
    return [n for n in LABS if n in names]


def default_data_dir() -> Path:
    return Path(os.environ.get("CHAINRULE_DATA") or Path.home() / ".cache" / "chainrule")


def make_configs(names, quick: bool = False, sets=()) -> dict:
    """The config of each lab: full (or quick) defaults with `--set` values applied."""
    parsed = parse_sets(sets)
    configs = {}
    for name in names:
        cfg_cls = LABS[name].load().Config
        configs[name] = cfg_cls.quick() if quick else cfg_cls()
    check_sets(parsed, configs)
    return {name: apply_sets(cfg, parsed, name) for name, cfg in configs.items()}


def run_labs(names=("all",), out_dir="report", seed: int = 0, quick: bool = False,
             data_dir=None, sets=(), progress: bool | None = None, echo=print,
             argv=None, compile: bool = False) -> dict[str, dict]:
    """Run labs and write DIR/report.md, DIR/<lab>/*.png, DIR/results.json.

    Returns {lab: record} (status "ok", "skipped" or "failed", metrics, tables, seconds).
    With `compile`, each training loop runs eagerly and then with its step compiled
    (`chainrule.compile`); the record's "compile" entry gives both times and whether the
    results are identical bit for bit (`Context.train`).
    Raises ValueError / ConfigError for unknown labs or bad `sets` before anything runs."""
    names = resolve_names(names)
    configs = make_configs(names, quick, sets)
    out = Path(out_dir)
    data = Path(data_dir) if data_dir is not None else default_data_dir()
    records = {}
    for name in names:
        ctx = Context(name, out, seed=seed, quick=quick, data_dir=data, progress=progress,
                      compile=compile)
        record = run_lab(LABS[name], configs[name], ctx)
        records[name] = record
        if echo is not None:
            echo(f"{name:<20} {record['status']:<8} {record['seconds']:7.1f} s  "
                 f"{record['summary']}{_compiled(record)}")
            if record["status"] == "failed":
                print(record["notes"][0], file=sys.stderr)
    write_outputs(out, records, list(LABS), argv)
    return records


def _compiled(record: dict) -> str:
    """The end of a lab's line when it ran with compile: the verdict and both times."""
    info = record.get("compile")
    if not info or not info["loops"]:
        return ""
    return (f" [compiled: identical {'yes' if info['identical'] else 'NO'}, eager "
            f"{info['eager_seconds']:.2f} s, compiled {info['compiled_seconds']:.2f} s]")
