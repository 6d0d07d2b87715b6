"""Write docs/ops.md, the op reference, from the docstrings of chainrule's Function classes.

    python scripts/gen_ops_doc.py            # or: python -m scripts.gen_ops_doc
    python scripts/gen_ops_doc.py --check    # exit 1 if docs/ops.md is out of date

Every op is one Function class whose docstring is its derivation (forward / backward / jvp /
saved / edges), so the reference is those docstrings, grouped by family (one module of
chainrule.ops), in source order. tests/tools/test_ops_doc.py fails when the file on disk
differs from what this script makes, so the reference cannot drift from the code.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import pkgutil
import re
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "ops.md"

# (module, title) in the order of the reference; op modules not named here follow, by name
FAMILIES = [
    ("chainrule.ops.elementwise", "Elementwise"),
    ("chainrule.ops.reduction", "Reductions"),
    ("chainrule.ops.shape", "Shape"),
    ("chainrule.ops.indexing", "Indexing"),
    ("chainrule.ops.linalg", "Matrix products and linalg"),
    ("chainrule.ops.einsum", "Einsum"),
    ("chainrule.ops.nn", "Fused neural-network ops"),
    ("chainrule.ops.conv", "Convolution, pooling, normalization"),
]

HEADER = """\
# Op reference

Generated from the ops' docstrings by `python scripts/gen_ops_doc.py`: edit the docstrings,
not this file (`tests/tools/test_ops_doc.py` fails when it is out of date).

Every op is one `Function` class. `forward` is the NumPy kernel: it gets arrays (and constant
arguments) and returns an array; `backward` gets the upstream gradient `g` as a Tensor and
returns one gradient per forward argument, computed with chainrule ops, so it is itself
differentiable (second derivatives need no second set of rules). `jvp` is forward mode: it
gets one tangent per input (`tx, ta, tb`: the direction each input moves in) and returns the
output's tangent `t_out`, the directional derivative, also with chainrule ops (so it works
inside a backward pass, forward-over-reverse, and inside another dual level). An op without
one says why (`jvp_reason`). Glossary: `x, a, b` inputs, `out` the output, `g` the upstream
gradient, `gx, ga, gb` the gradients sent to the inputs; `sum_to(g, shape)` folds a broadcast
gradient back onto an input's shape.
"""


def families() -> list:
    """[(module, title, [op classes in source order])] for every family with ops."""
    import chainrule.ops
    from chainrule.autograd.function import Function

    named = [m for m, _ in FAMILIES]
    extra = sorted(f"chainrule.ops.{m.name}" for m in pkgutil.iter_modules(chainrule.ops.__path__)
                   if f"chainrule.ops.{m.name}" not in named)
    titles = dict(FAMILIES)
    result = []
    for name in named + extra:
        module = importlib.import_module(name)
        ops = [c for c in vars(module).values()
               if isinstance(c, type) and issubclass(c, Function) and c.__module__ == name]
        ops.sort(key=_line)
        if ops:
            title = titles.get(name, name.rsplit(".", 1)[1].capitalize())
            result.append((module, title, ops))
    return result


def _line(cls) -> int:
    """Where the class's forward starts (cheap: getsourcelines re-reads the file each time)."""
    fn = cls.__dict__.get("forward")
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    return code.co_firstlineno if code is not None else inspect.getsourcelines(cls)[1]


def all_ops() -> list:
    return [op for _, _, ops in families() for op in ops]


def missing_derivations(ops=None) -> list:
    """Op classes whose docstring has no "backward:" rule (a line, or inline in a one-liner)."""
    return [f"{op.__module__}.{op.__qualname__}" for op in (all_ops() if ops is None else ops)
            if not re.search(r"(^|\s)backward:\s+\S", docstring(op), re.MULTILINE)]


def missing_jvp_rules(ops=None) -> list:
    """Op classes whose docstring has no "jvp:" rule and that state no `jvp_reason`."""
    return [f"{op.__module__}.{op.__qualname__}" for op in (all_ops() if ops is None else ops)
            if not _JVP_LINE.search(docstring(op)) and not getattr(op, "jvp_reason", "")]


_JVP_LINE = re.compile(r"(^|\s)jvp:\s+\S", re.MULTILINE)


def derivation(cls) -> str:
    """The docstring as the reference shows it: with `jvp: none (reason)` for an op that
    states why it has no jvp rule (and whose docstring does not say so itself)."""
    doc = docstring(cls) or "(no docstring)"
    reason = getattr(cls, "jvp_reason", "")
    if reason and not _JVP_LINE.search(doc):
        doc += "\n" + textwrap.fill(f"none ({reason})", width=92,
                                    initial_indent="jvp:       ", subsequent_indent=" " * 11)
    return doc


def docstring(cls) -> str:
    """The class's own docstring (not one inherited from Op), dedented."""
    doc = cls.__dict__.get("__doc__")
    return inspect.cleandoc(doc) if doc else ""


def signature(cls) -> str:
    try:
        params = list(inspect.signature(cls.forward).parameters.values())[1:]  # minus ctx
    except (TypeError, ValueError):
        return "forward(...)"
    return f"forward({', '.join(str(p) for p in params)})"


def _anchor(module, cls) -> str:
    return f"{module.__name__.removeprefix('chainrule.').replace('.', '-')}-{cls.__name__.lower()}"


def _family_anchor(module) -> str:
    return module.__name__.replace(".", "-")


def render() -> str:
    """The whole of docs/ops.md."""
    fams = families()
    lines = [HEADER, "## Contents", ""]
    for module, title, ops in fams:
        links = ", ".join(f"[{c.__name__}](#{_anchor(module, c)})" for c in ops)
        lines.append(f"- [{title}](#{_family_anchor(module)}) (`{module.__name__}`): {links}")
    for module, title, ops in fams:
        summary = (inspect.cleandoc(module.__doc__ or "").split("\n\n")[0]).replace("\n", " ")
        lines += ["", f'<a id="{_family_anchor(module)}"></a>', "", f"## {title}", "",
                  f"`{module.__name__}`: {summary}".rstrip()]
        for cls in ops:
            doc = derivation(cls)
            lines += ["", f'<a id="{_anchor(module, cls)}"></a>', "", f"### {cls.__name__}", "",
                      f"`{module.__name__}.{cls.__name__}` - `{signature(cls)}`", "",
                      "```text", doc, "```"]
    return "\n".join(lines) + "\n"


def write(text: str, path: Path | None = None) -> None:
    """Atomically: a reader never sees half a file."""
    path = OUTPUT if path is None else path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ops.", suffix=".md")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if docs/ops.md is out of date instead of writing it")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else None
        if current != text:
            print("docs/ops.md is out of date: run python scripts/gen_ops_doc.py")
            return 1
        print("docs/ops.md is up to date")
        return 0
    write(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(all_ops())} ops)")
    for name in missing_derivations():
        print(f"warning: {name} has no 'backward:' rule in its docstring", file=sys.stderr)
    for name in missing_jvp_rules():
        print(f"warning: {name} has no 'jvp:' rule in its docstring and no jvp_reason",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    if str(ROOT) not in sys.path:  # run as a file: make the checkout's chainrule importable
        sys.path.insert(0, str(ROOT))
    sys.exit(main())
