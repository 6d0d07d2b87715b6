"""`chainrule run script.py [args...]`: run an unmodified PyTorch program on chainrule.

The script runs as `python script.py args...` would run it: `__name__ == "__main__"`,
`sys.argv == ["script.py", *args]`, its directory first on `sys.path`; the only difference
is that `torch` and `torchvision` are chainrule (see `chainrule._compat`).
"""

from __future__ import annotations

import os
import runpy
import sys
import traceback


def add_parser(subparsers) -> None:
    import argparse

    p = subparsers.add_parser(
        "run", help="run a PyTorch program with `torch` resolving to chainrule",
        description="Run SCRIPT as `python SCRIPT ARGS...` would, with `import torch` (and "
                    "torch.nn, torch.optim, torchvision.datasets/transforms, ...) giving "
                    "chainrule's modules.")
    p.add_argument("script", help="the Python file to run")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to the script")
    p.set_defaults(handler=lambda args: run_script(args.script, args.args))


def run_script(script: str, args: list[str]) -> int:
    """Run `script` with `torch` as chainrule; returns its exit status (1 on an exception,
    whose traceback is printed from the script's first frame, as Python prints it)."""
    if not os.path.isfile(script):
        print(f"chainrule run: no such file: {script}", file=sys.stderr)
        return 2
    from chainrule._compat import install

    install()
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        return _exit_status(e.code)
    except BaseException as e:  # noqa: BLE001 - the script's own failure, reported as Python would
        _note_missing_name(e)
        traceback.print_exception(type(e), e, _from_script(e.__traceback__, script))
        return 1
    return 0


def _from_script(tb, script: str):
    """The traceback from the script's first frame on (this module's and runpy's dropped)."""
    path, start = os.path.abspath(script), tb
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != path:
        tb = tb.tb_next
    return tb if tb is not None else start


def _exit_status(code) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message"): Python prints it and exits with 1
    return 1


def _note_missing_name(e: BaseException) -> None:
    """`from torch.nn import Foo` fails in Python's import code, whose message names the
    chainrule file; a note says plainly that chainrule lacks the name."""
    from chainrule._compat import torch_name

    if isinstance(e, ImportError) and not isinstance(e, ModuleNotFoundError) and \
            (e.name or "").startswith("chainrule") and str(e).count("'") >= 2 and \
            hasattr(e, "add_note"):
        missing = str(e).split("'")[1]
        e.add_note(f"(chainrule does not provide {torch_name(e.name)}.{missing})")
