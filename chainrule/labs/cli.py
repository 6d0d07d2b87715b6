"""`chainrule labs ...`: list the labs, run them, write the report.

    chainrule labs list
    chainrule labs run NAME [NAME...]|all [--out DIR] [--seed N] [--quick] [--data-dir DIR]
                                         [--set key=value ...] [--no-progress]
                                         [--compile]
    chainrule labs config NAME [--quick]       # the settings --set can change, with defaults
"""

from __future__ import annotations

import argparse
import dataclasses
import sys


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `labs` sub-command (with `list`, `run` and `config`) to the chainrule parser."""
    labs = subparsers.add_parser(
        "labs",
        help="reproduce the course experiments: report, figures, results.json",
        description="Rerun every experiment of the course material and write a report with "
        "measured figures beside the course-reported ones.",
    )
    labs.set_defaults(handler=lambda args: _help(labs))
    actions = labs.add_subparsers(dest="labs_command", metavar="ACTION")

    lst = actions.add_parser("list", help="name, summary, seconds (full / --quick), data",
                             description="List the labs with the time each takes here.")
    lst.set_defaults(handler=_list)

    run = actions.add_parser(
        "run", help="run labs and write DIR/report.md, DIR/<lab>/*.png, DIR/results.json",
        description="Run labs (registry order) and write the report. Labs already in DIR's "
        "results.json from an earlier run stay in the report. MNIST labs are skipped, with "
        "a message, when the data is not found.")
    run.add_argument("names", nargs="+", metavar="NAME", help="lab names, or: all")
    run.add_argument("--out", default="report", metavar="DIR",
                     help="output directory (default: report)")
    run.add_argument("--seed", type=int, default=0, help="seed for everything (default 0)")
    run.add_argument("--quick", action="store_true",
                     help="small configs: every lab in seconds (for tests and a first look)")
    run.add_argument("--data-dir", metavar="DIR",
                     help="where MNIST is looked for (default: $CHAINRULE_DATA or "
                     "~/.cache/chainrule)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets",
                     help="change a setting, e.g. --set epochs=5, --set hidden=[256,128], "
                     "--set mnist-cnn.lr=3e-4 (repeatable; see `chainrule labs config NAME`)")
    run.add_argument("--no-progress", action="store_true", help="no progress bars")
    run.add_argument("--compile", action="store_true",
                     help="also run each training loop with its step compiled "
                     "(chainrule.compile): the report gives both times and whether the "
                     "results are identical bit for bit")
    run.set_defaults(handler=_run)

    cfg = actions.add_parser("config", help="show a lab's settings and their defaults",
                             description="The settings of a lab that --set can change.")
    cfg.add_argument("name", metavar="NAME")
    cfg.add_argument("--quick", action="store_true", help="show the --quick values")
    cfg.set_defaults(handler=_config)
    return labs


def _help(parser) -> int:
    parser.print_help()
    return 0


def _list(args) -> int:
    from chainrule.labs import LABS

    print(f"{'NAME':<20} {'FULL':>7} {'QUICK':>6}  {'DATA':<15} WHAT")
    for info in LABS.values():
        print(f"{info.name:<20} {_secs(info.seconds):>7} {_secs(info.seconds_quick):>6}  "
              f"{info.data:<15} {info.summary}")
    print("\nTimes measured on a 2-core CPU. Without MNIST on disk the MNIST labs are "
          "skipped; get it with: chainrule data download mnist")
    return 0


def _secs(s: float) -> str:
    if s < 10:
        return f"{s:.1f} s"
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.0f} min"


def _run(args) -> int:
    from chainrule.labs import ConfigError, run_labs

    argv = ["labs", "run", *args.names, "--out", args.out, "--seed", str(args.seed)]
    argv += ["--quick"] if args.quick else []
    argv += ["--data-dir", args.data_dir] if args.data_dir else []
    for s in args.sets:
        argv += ["--set", s]
    argv += ["--compile"] if args.compile else []
    try:
        records = run_labs(args.names, out_dir=args.out, seed=args.seed, quick=args.quick,
                           data_dir=args.data_dir, sets=args.sets,
                           progress=False if args.no_progress else None, argv=argv,
                           compile=args.compile)
    except (ConfigError, ValueError) as e:
        print(f"chainrule labs run: {e}", file=sys.stderr)
        return 2
    differ = [name for name, r in records.items() if (r.get("compile") or {}).get("identical")
              is False]
    if differ:
        print(f"chainrule labs run --compile: compiled results differ from eager in "
              f"{', '.join(differ)} (see the report)", file=sys.stderr)
    failed = [name for name, r in records.items() if r["status"] == "failed"]
    skipped = [name for name, r in records.items() if r["status"] == "skipped"]
    print(f"\nreport: {args.out}/report.md ({len(records) - len(failed) - len(skipped)} ran"
          + (f", {len(skipped)} skipped" if skipped else "")
          + (f", {len(failed)} failed: {', '.join(failed)}" if failed else "") + ")")
    return 1 if failed or differ else 0


def _config(args) -> int:
    from chainrule.labs import LABS
    from chainrule.labs._core import config_fields, type_name

    if args.name not in LABS:
        print(f"chainrule labs config: unknown lab {args.name!r}; valid: {', '.join(LABS)}",
              file=sys.stderr)
        return 2
    cls = LABS[args.name].load().Config
    config = cls.quick() if args.quick else cls()
    types = config_fields(cls)
    for f in dataclasses.fields(config):
        print(f"{f.name} = {getattr(config, f.name)!r}    ({type_name(types[f.name])})")
    return 0
