"""`chainrule data ...`: fetch datasets once, and see what is on disk.

    chainrule data download mnist|fashion-mnist [--root DIR] [--mirror URL] [--timeout S]
    chainrule data info [--root DIR]

`download` skips files that already verify, so running it twice costs nothing the second
time. `info` reports, for each dataset file, where it was found and whether it verifies
(content SHA-256), and whether it is the original archive or a re-compressed copy.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from chainrule.datasets import download as dl
from chainrule.datasets.idx import is_gzip


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `data` sub-command (with `download` and `info`) to the chainrule parser."""
    data = subparsers.add_parser(
        "data",
        help="download datasets (MNIST, Fashion-MNIST) and see what is on disk",
        description="Fetch datasets once, verified, for offline use; show what is present.",
    )
    data.set_defaults(handler=lambda args: _help(data))
    actions = data.add_subparsers(dest="data_command", metavar="ACTION")

    down = actions.add_parser(
        "download",
        help="download a dataset's files (skips those already verified)",
        description="Download the four IDX files of a dataset into ROOT/<Dataset>/raw, "
        "verifying each against its known checksum; files that already verify are kept.",
    )
    down.add_argument("dataset", choices=sorted(dl.SPECS), help="which dataset")
    _add_root(down)
    down.add_argument(
        "--mirror",
        action="append",
        metavar="URL",
        help="base URL to fetch from instead of the built-in mirrors (repeatable; tried in "
        "order; file:// works for a local copy)",
    )
    down.add_argument(
        "--timeout",
        type=float,
        default=dl.DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up on a silent mirror after this long (default {dl.DEFAULT_TIMEOUT:g})",
    )
    down.set_defaults(handler=_download)

    info = actions.add_parser(
        "info",
        help="show which dataset files are present, where, and whether they verify",
        description="For each dataset file: where it was found (search order as the "
        "datasets use it) and whether its content checksum verifies.",
    )
    _add_root(info)
    info.set_defaults(handler=_info)
    return data


def _add_root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root",
        metavar="DIR",
        help="data root (default: $CHAINRULE_DATA, else ~/.cache/chainrule)",
    )


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def _download(args) -> int:
    spec = dl.SPECS[args.dataset]
    root = dl.resolve_root(args.root)
    mirrors = tuple(args.mirror) if args.mirror else spec.mirrors
    target = dl.download_dir(spec, root)
    print(f"{spec.folder}: checking {target} (and the other search places)")
    failed = 0
    for f in spec.files:
        status = dl.find_file(spec, f.name, root)
        if status.ok:
            print(f"  ok          {f.name}  already present and verified: {status.path}")
            continue
        if status.path is not None:
            print(f"  replacing   {f.name}: {status.problem}")
        try:
            path = dl.download_file(f, target, mirrors, timeout=args.timeout, progress=True)
        except (dl.DownloadError, OSError) as e:
            print(f"  FAILED      {f.name}: {e}", file=sys.stderr)
            failed += 1
            continue
        print(f"  downloaded  {f.name}  verified: {path}")
    if failed:
        print(f"{failed} of {len(spec.files)} files could not be fetched.", file=sys.stderr)
        return 1
    print(f"{spec.folder} is ready: chainrule.datasets.{spec.folder}(root={str(root)!r})")
    return 0


def _info(args) -> int:
    root = dl.resolve_root(args.root)
    if args.root is not None:
        how = "from --root"
    elif os.environ.get("CHAINRULE_DATA"):
        how = "from $CHAINRULE_DATA"
    else:
        how = "the default; set $CHAINRULE_DATA or pass --root to change it"
    print(f"data root: {root}  ({how})")
    print()
    _iris_info()
    for spec in dl.SPECS.values():
        print()
        _dataset_info(spec, root)
    return 0


def _iris_info() -> None:
    from chainrule.datasets.iris import load_iris_arrays

    try:
        data, _, names = load_iris_arrays()
        print(f"iris: bundled with chainrule, verified ({len(data)} rows, {len(names)} classes)")
    except (ValueError, OSError) as e:
        print(f"iris: BAD bundled file: {e}")


def _dataset_info(spec: dl.DatasetSpec, root: Path) -> None:
    statuses = [dl.find_file(spec, f.name, root) for f in spec.files]
    n_ok = sum(s.ok for s in statuses)
    print(f"{spec.folder}: {n_ok} of {len(statuses)} files present and verified")
    for s in statuses:
        if s.path is None:
            print(f"  MISSING   {s.spec.name}")
        elif s.problem is not None:
            print(f"  BAD       {s.spec.name}  {s.problem}")
        else:
            print(f"  verified  {s.spec.name}  {s.path}{_kind(s)}")
        for other in s.skipped:
            print(f"            passed over {other}")
    parts = sorted(dl.download_dir(spec, root).glob("*.part-*"))
    for p in parts:
        print(f"  leftover partial download (safe to delete): {p}")
    print("  searched: " + ", ".join(str(d) for d in dl.search_dirs(spec, root)))
    if n_ok < len(statuses):
        print(f"  to fetch: chainrule data download {spec.name} --root {root}")


def _kind(status: dl.FileStatus) -> str:
    """Original archive, or a copy with the same IDX content (re-compressed, or extracted)."""
    if status.original_archive is None:
        return ""
    if status.original_archive:
        return "  (the original archive)"
    if is_gzip(status.path):
        return "  (re-compressed archive, same IDX content as the original)"
    return "  (uncompressed IDX, same content as the original)"
