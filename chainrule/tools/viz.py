"""The computation graph of a tensor, drawn: DOT text always, SVG / PNG with Graphviz's `dot`.

    g = chainrule.viz.graph(loss, params={"w0": w0, "w1": w1, "v": v})
    g.dot                      # Graphviz source (no Graphviz needed)
    g.save("graph.svg")        # .dot / .gv / .svg / .png (svg and png run `dot`)
    g                          # in Jupyter: the SVG (the DOT text when `dot` is missing)

What is drawn is the graph `loss.backward()` walks: one box per op node (`MulBackward0`, with
its output's shape and dtype), arrows the way gradients flow (from the root down to the
leaves), the tensors each node saved for backward as small boxes beside it, the leaves by name.
Names come from `params` (a dict name -> tensor, which may also name intermediate tensors, or a
Module: its `named_parameters()`); other leaves are `leaf0`, `leaf1`, ... Node and leaf names
are those of `chainrule.tools.explain`, so the two can be read side by side.

Rendering calls the `dot` program in a subprocess (Debian/Ubuntu: `apt-get install graphviz`);
the Python `graphviz` package is not needed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chainrule.autograd.function import _CONST, _INPUT, _OUTPUT, Node
from chainrule.tensor import Tensor
from chainrule.tools.explain import SMALL, Names, named_tensors, values_text

_INSTALL = ("install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), `brew install "
            "graphviz` (macOS) or `conda install graphviz`; the DOT text is always available as "
            "graph.dot")
_FORMATS = {".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png"}
_STYLE = {
    "op": 'fillcolor="#e8e8e8"',
    "leaf": 'fillcolor="#cfe2ff"',
    "output": 'fillcolor="#d1e7dd", penwidth=2',
    "saved": 'fillcolor="#fff3cd", style="filled,dashed", fontsize=9',
}


@dataclass
class GraphNode:
    id: str  # the DOT id: n0.. ops, l0.. leaves, s0.. saved tensors, out0.. roots
    kind: str  # "op", "leaf", "saved", "output"
    name: str  # MulBackward0, w0, saved: b, loss
    label: str  # the text in the box
    shape: tuple | None = None
    dtype: str | None = None
    root: bool = False


@dataclass
class GraphEdge:
    src: str
    dst: str
    kind: str  # "grad" (op -> its input's node or leaf), "saved", "output" (root -> its node)
    input: int | None = None  # which argument of the op the edge belongs to


def _q(text: str) -> str:
    """A DOT quoted string; newlines become centred line breaks."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _meta(shape, dtype) -> str:
    return f"{tuple(shape)} {np.dtype(dtype).name}"


def _values(array, prefix: str = "= ") -> list[str]:
    return [prefix + values_text(array)] if array.size <= SMALL else []


class Graph:
    """A drawn graph: `.dot` (DOT text), `.svg()` / `.png()` (bytes, via `dot`), `.save(path)`,
    `.nodes` / `.edges` (GraphNode / GraphEdge lists), and rich display in Jupyter."""

    def __init__(self, nodes: list, edges: list):
        self.nodes = nodes
        self.edges = edges
        self.dot = self._to_dot()
        self._rendered: dict[str, bytes] = {}

    @property
    def source(self) -> str:
        return self.dot

    def node(self, name: str) -> GraphNode:
        """The node called `name` (e.g. 'w0', 'AddBackward0')."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"graph: no node named {name!r}; names: {[n.name for n in self.nodes]}")

    @property
    def edge_names(self) -> list:
        """[(from name, to name, kind)]: the edges by the names of their ends."""
        by_id = {n.id: n.name for n in self.nodes}
        return [(by_id[e.src], by_id[e.dst], e.kind) for e in self.edges]

    def _to_dot(self) -> str:
        lines = [
            "digraph chainrule {",
            "  rankdir=TB;",
            '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
            '  edge [fontname="Helvetica", fontsize=9];',
        ]
        for n in self.nodes:
            lines.append(f"  {n.id} [label={_q(n.label)}, {_STYLE[n.kind]}];")
        for e in self.edges:
            attrs = ' [style=dashed, arrowhead=none, color="#b08800"]' if e.kind == "saved" \
                else (" [penwidth=2]" if e.kind == "output" else "")
            lines.append(f"  {e.src} -> {e.dst}{attrs};")
        beside: dict[str, list] = {}
        for e in self.edges:
            if e.kind == "saved":
                beside.setdefault(e.src, []).append(e.dst)
        for src, saved in beside.items():  # saved boxes sit beside their node, not below it
            lines.append(f"  {{rank=same; {src}; {'; '.join(saved)};}}")
        lines.append("}")
        return "\n".join(lines) + "\n"

    # ---- rendering
    def _render(self, fmt: str) -> bytes:
        if fmt not in self._rendered:
            exe = shutil.which("dot")
            if exe is None:
                raise RuntimeError(f"graph.{fmt}(): Graphviz's `dot` program was not found on "
                                   f"PATH; {_INSTALL}")
            try:
                done = subprocess.run([exe, f"-T{fmt}"], input=self.dot.encode("utf-8"),
                                      capture_output=True, timeout=120, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise RuntimeError(f"graph.{fmt}(): running {exe} failed: {exc}") from None
            if done.returncode != 0:
                raise RuntimeError(
                    f"graph.{fmt}(): `dot -T{fmt}` exited with status {done.returncode}: "
                    f"{done.stderr.decode('utf-8', 'replace').strip()}"
                )
            self._rendered[fmt] = done.stdout
        return self._rendered[fmt]

    def svg(self) -> bytes:
        """The drawing as SVG (runs Graphviz's `dot`)."""
        return self._render("svg")

    def png(self) -> bytes:
        """The drawing as PNG (runs Graphviz's `dot`)."""
        return self._render("png")

    def _svg_or_none(self):
        if shutil.which("dot") is None:
            return None
        try:
            return self.svg().decode("utf-8")
        except RuntimeError:  # a broken Graphviz install: show the text rather than fail
            return None

    def _repr_svg_(self):
        return self._svg_or_none()  # None: Jupyter shows the text/plain form instead

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": self.dot}
        svg = self._svg_or_none()
        if svg is not None:
            bundle["image/svg+xml"] = svg
        return bundle

    def __repr__(self) -> str:
        ops = sum(n.kind == "op" for n in self.nodes)
        leaves = sum(n.kind == "leaf" for n in self.nodes)
        return f"<Graph: {ops} op nodes, {leaves} leaves, {len(self.edges)} edges>"

    def save(self, path, format: str | None = None) -> Path:
        """Write the graph to `path`, in the format its suffix names (.dot, .gv, .svg, .png)
        unless `format` ('dot', 'svg', 'png') is given. Atomic: a temp file, then a rename."""
        path = Path(path)
        fmt = format or _FORMATS.get(path.suffix.lower())
        if fmt not in ("dot", "svg", "png"):
            raise ValueError(f"graph.save: cannot tell the format of {str(path)!r}; use a .dot, "
                             f".gv, .svg or .png file name, or pass format='dot'|'svg'|'png'")
        data = self.dot.encode("utf-8") if fmt == "dot" else self._render(fmt)
        directory = path.parent if str(path.parent) else Path(".")
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600; a saved file is shared
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def graph(tensor, params=None, show_values: bool = False, show_saved: bool = True) -> Graph:
    """The autograd graph below `tensor` (or a list of tensors) as a Graph.

    params: names for leaves and intermediate tensors (a dict name -> tensor, or a Module).
    show_values: print the values and `.grad` of tensors with at most 6 elements.
    show_saved: draw what each node saved for backward (shape, and the name when known).
    """
    roots = list(tensor) if isinstance(tensor, (list, tuple)) else [tensor]
    for k, r in enumerate(roots):
        if not isinstance(r, Tensor):
            raise TypeError(f"viz.graph: expected a Tensor (or a list of them), got "
                            f"{type(r).__name__} at {k}")
    build = _Builder(Names(roots, params), params, show_values, show_saved)
    for k, r in enumerate(roots):
        build.output(r, k, len(roots))
    for node in build.names.nodes:
        build.op(node)
    for leaf in build.names.leaves:
        build.leaf(leaf)
    return Graph(build.nodes, build.edges)


class _Builder:
    """Collects a Graph's boxes and arrows: outputs, op nodes (with their saves), leaves."""

    def __init__(self, names: Names, params, show_values: bool, show_saved: bool):
        self.names, self.show_values, self.show_saved = names, show_values, show_saved
        self.nodes, self.edges = [], []
        self.op_id = {node: f"n{k}" for k, node in enumerate(names.nodes)}
        self.leaf_id = {id(leaf): f"l{k}" for k, leaf in enumerate(names.leaves)}
        self.by_id = {id(t): t for _, t in _named(params)}
        self.saved_count = 0

    def tensor_lines(self, t) -> list[str]:
        lines = [_meta(t.array.shape, t.array.dtype)]
        if self.show_values:
            lines += _values(t.array)
            g = t.grad if (t.grad_fn is None or t.retains_grad) else None
            if g is not None:
                lines += _values(g.array, "grad = ")
        return lines

    def output(self, r, k: int, n_roots: int) -> None:
        name = _root_name(r, self.names, k, n_roots)
        label = [name, *self.tensor_lines(r)]
        if not r.requires_grad:
            label.append("(no grad_fn: requires_grad=False)")
        self.nodes.append(GraphNode(f"out{k}", "output", name, "\n".join(label),
                                    tuple(r.array.shape), r.array.dtype.name, root=True))
        target = self.op_id.get(r.grad_fn) if r.grad_fn is not None else \
            self.leaf_id.get(id(r))
        if target is not None:
            self.edges.append(GraphEdge(f"out{k}", target, "output", r._output_nr))

    def op(self, node) -> None:
        nid, meta = self.op_id[node], node._out_meta
        label = [self.names.of_node(node)]
        for nr, (shape, dtype) in enumerate(meta):
            named = self.names.output.get((node, nr))
            text = f"out{nr}: {_meta(shape, dtype)}" if len(meta) > 1 else _meta(shape, dtype)
            label.append(f"{named}: {text}" if named else text)
            t = _find_output(node, nr, self.by_id) if self.show_values and named else None
            if t is not None:
                label += self.tensor_lines(t)[1:]
        if self.show_saved and node._saved is None and node._freed:
            label.append("(saved tensors freed by backward)")
        self.nodes.append(GraphNode(nid, "op", self.names.of_node(node), "\n".join(label),
                                    tuple(meta[0][0]) if meta else None,
                                    meta[0][1].name if meta else None))
        for i, edge in enumerate(node._edges):
            if edge is not None:
                nxt = edge[0]
                dst = self.op_id[nxt] if isinstance(nxt, Node) else self.leaf_id[id(nxt)]
                self.edges.append(GraphEdge(nid, dst, "grad", i))
        if self.show_saved and node._saved:
            for kind, value, _ in node._saved:
                self.saved(nid, kind, value)

    def saved(self, nid: str, kind, value) -> None:
        box = _saved_box(kind, value, self.names, self.show_values)
        if box is None:
            return
        sid = f"s{self.saved_count}"
        self.saved_count += 1
        self.nodes.append(GraphNode(sid, "saved", box[0], "\n".join(box),
                                    *_box_meta(kind, value)))
        self.edges.append(GraphEdge(nid, sid, "saved"))

    def leaf(self, leaf) -> None:
        name = self.names.leaf[id(leaf)]
        self.nodes.append(GraphNode(self.leaf_id[id(leaf)], "leaf", name,
                                    "\n".join([name, *self.tensor_lines(leaf)]),
                                    tuple(leaf.array.shape), leaf.array.dtype.name))


def _named(params) -> list:
    return named_tensors(params)


def _find_output(node, nr, by_id):
    for t in by_id.values():
        if t.grad_fn is node and t._output_nr == nr:
            return t
    return None


def _root_name(t, names: Names, k: int, n: int) -> str:
    if t.grad_fn is None:
        named = names.leaf.get(id(t))
    else:
        named = names.output.get((t.grad_fn, t._output_nr))
    if named is not None:
        return named
    return "output" if n == 1 else f"output{k}"


def _box_meta(kind, value) -> tuple:
    if kind == _INPUT:
        return tuple(value.array.shape), value.array.dtype.name
    if kind == _OUTPUT:
        return tuple(value[0].shape), value[0].dtype.name
    if isinstance(value, np.ndarray):
        return tuple(value.shape), value.dtype.name
    return None, None


def _saved_box(kind, value, names: Names, show_values: bool):
    """The lines of a saved tensor's box, or None for nothing worth drawing (a None slot)."""
    if kind == _INPUT:
        desc = names.of_tensor(value, "input") if value.requires_grad else "input (no grad)"
        lines = [f"saved: {desc}", _meta(value.array.shape, value.array.dtype)]
        array = value.array
    elif kind == _OUTPUT:
        array = value[0]
        lines = [f"saved: output {value[1]}" if value[1] else "saved: output",
                 _meta(array.shape, array.dtype)]
    elif kind == _CONST and isinstance(value, np.ndarray):
        array = value
        lines = ["saved: constant", _meta(array.shape, array.dtype)]
    elif value is None:
        return None
    else:
        text = repr(value)
        return [f"saved: {text[:40] + '...' if len(text) > 40 else text}"]
    if show_values:
        lines += _values(array)
    return lines


# ---------------------------------------------------------------------------- CLI
def worked_example():
    """Seed 004's worked example: u = a*w0 + b*w1, f = v*u, loss = MSE(f, 10).
    Returns (loss, names) with the names of leaves and intermediates for drawing."""
    import chainrule as torch

    a, b = torch.tensor(2.0), torch.tensor(3.0)
    w0 = torch.tensor(1.0, requires_grad=True)
    w1 = torch.tensor(1.0, requires_grad=True)
    v = torch.tensor(1.0, requires_grad=True)
    u = a * w0 + b * w1
    f = v * u
    loss = torch.nn.MSELoss()(f, torch.tensor(10.0))
    return loss, {"w0": w0, "w1": w1, "v": v, "u": u, "f": f, "loss": loss}


def expression_namespace() -> dict:
    """What `chainrule graph --expr` evaluates in: torch (= chainrule) and seeded leaves."""
    import chainrule

    gen = chainrule.Generator().manual_seed(0)
    return {
        "torch": chainrule, "chainrule": chainrule,
        "x": chainrule.randn(2, 3, generator=gen, requires_grad=True),
        "y": chainrule.randn(2, 3, generator=gen, requires_grad=True),
        "W": chainrule.randn(3, 2, generator=gen, requires_grad=True),
    }


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `graph` sub-command to the chainrule parser."""
    p = subparsers.add_parser(
        "graph",
        help="draw an autograd graph (DOT, SVG or PNG)",
        description="Draw the autograd graph of seed 004's worked example (u = a*w0 + b*w1, "
        "f = v*u, MSE to 10), or of a Python expression given with --expr. Prints DOT text, "
        "or writes --out FILE (.dot/.gv/.svg/.png; SVG and PNG need Graphviz's `dot`).",
    )
    p.add_argument(
        "--expr", metavar="PYTHON",
        help="a Python expression, evaluated as Python code (eval) - only run your own input. "
        "Names defined: torch (= chainrule), x and y (2x3) and W (3x2), leaves requiring grad; "
        "e.g. --expr \"((x @ W).relu() ** 2).sum()\"",
    )
    p.add_argument("--out", metavar="FILE", help="write here instead of printing DOT text")
    p.add_argument("--format", choices=("dot", "svg", "png"),
                   help="output format (default: from --out's suffix, else dot)")
    p.add_argument("--values", action="store_true",
                   help="show values and gradients of tensors with at most 6 elements")
    p.add_argument("--no-saved", action="store_true", help="do not draw saved tensors")
    p.set_defaults(handler=_main)
    return p


def _main(args) -> int:
    if args.expr is None:
        loss, params = worked_example()
        if args.values:
            loss.backward(retain_graph=True)
    else:
        ns = expression_namespace()
        params = {k: ns[k] for k in ("x", "y", "W")}
        try:
            loss = eval(args.expr, ns)  # noqa: S307 - the user's own expression, as --help says
        except Exception as exc:  # report any error in the user's expression, then stop
            print(f"chainrule graph: could not evaluate --expr: {type(exc).__name__}: {exc}",
                  file=sys.stderr)
            return 2
        if not isinstance(loss, Tensor):
            print(f"chainrule graph: --expr must give a Tensor, got {type(loss).__name__}",
                  file=sys.stderr)
            return 2
        if args.values and loss.requires_grad and loss.numel() == 1:
            loss.backward(retain_graph=True)
    g = graph(loss, params, show_values=args.values, show_saved=not args.no_saved)
    fmt = args.format
    try:
        if args.out:
            g.save(args.out, fmt)
            print(f"wrote {args.out}", file=sys.stderr)
        elif fmt in (None, "dot"):
            sys.stdout.write(g.dot)
        else:
            sys.stdout.flush()
            sys.stdout.buffer.write(g.svg() if fmt == "svg" else g.png())
            sys.stdout.buffer.flush()
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"chainrule graph: {exc}", file=sys.stderr)
        return 1
    return 0
