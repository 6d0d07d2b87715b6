"""The `chainrule` command line: one parser, a sub-command per area.

Each area's module adds its own sub-parser (`add_parser(subparsers)`) and handles its own
arguments, so this file stays a table of contents.
"""

from __future__ import annotations

import argparse
import sys

from chainrule import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="chainrule: a readable autograd engine with the PyTorch API.",
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    from chainrule.datasets import cli as data_cli

    data_cli.add_parser(subparsers)
    from chainrule import viz

    viz.add_parser(subparsers)
    from chainrule.labs import cli as labs_cli

    labs_cli.add_parser(subparsers)
    from chainrule._compat import run

    run.add_parser(subparsers)
    bench = subparsers.add_parser(
        "bench", help="time workloads beside PyTorch (from a source checkout)",
        description="Run benchmarks/ (python -m benchmarks) from the current source checkout.")
    bench.add_argument("--repeats", type=int, default=5)
    bench.add_argument("--only", help="run workloads whose name contains this text")
    bench.add_argument("--json", help="also write the rows to this JSON file")
    bench.add_argument("--quick", action="store_true",
                       help="each workload's short step count, one repeat")
    bench.add_argument("--no-memory", dest="memory", action="store_false",
                       help="skip the peak-memory processes")
    bench.set_defaults(handler=_bench)
    return parser


def _bench(args) -> int:
    import os

    try:
        import benchmarks.__main__ as bench
    except ImportError:
        sys.path.insert(0, os.getcwd())
        try:
            import benchmarks.__main__ as bench
        except ImportError:
            print("chainrule bench: the benchmarks/ folder ships with the source, not the "
                  "package; run this from a chainrule checkout (or: python -m benchmarks)",
                  file=sys.stderr)
            return 2
    bench.run(args.repeats, args.only, args.json, quick=args.quick, memory=args.memory)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except BrokenPipeError:  # output piped into `head`: stop quietly
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
