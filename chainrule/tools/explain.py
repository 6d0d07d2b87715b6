"""A backward pass made visible: what each node received, the rule it applied, what it sent.

    explain(loss)                  -> Explanation: one step per node, in the order backward ran
    explain(loss, accumulate=True) -> the same from a normal backward (`.grad` accumulated)
    paths(loss, leaf)              -> [Path]: the leaf's gradient split into one term per path

`explain` runs the real engine (engine.run_backward) with its `trace_backward` hook set, so
what it shows is what backward does, hooks and all. The rule of a step is the `backward:`
section of the op's docstring (the derivation, in the code's own names). A broadcast undone by
`sum_to` is seen exactly: while recording, its kernel reports the shape it reduced from.

`paths` is the multivariable chain rule term by term: the gradient is pushed from the loss down
each path separately (every node's backward runs, and only the gradient flowing to the next
node on the path is kept), so the contributions add up to the leaf's gradient.

Names: leaves and intermediate tensors are named from `params` (a dict name -> tensor, or a
Module: its `named_parameters()`); other leaves are `leaf0`, `leaf1`, ... in the order a walk
from the loss meets them; an op name seen twice is numbered (`MulBackward0#0`, `MulBackward0#1`).
`chainrule.viz.graph` uses the same names, so a drawing and an explanation can be read together.
"""

from __future__ import annotations

import html
import inspect
import json
import math
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from chainrule import _format, autograd
from chainrule.autograd import _as_list, _seed_grads, engine, grad_mode, graph, observers
from chainrule.autograd.function import Node
from chainrule.ops import shape as shape_ops
from chainrule.tensor import Tensor

SMALL = 6  # tensors with at most this many elements are shown with their values
MAX_PATHS = 10_000


# ---------------------------------------------------------------------------- graph and names
def walk(roots) -> tuple[list, list]:
    """The Nodes and the leaves reachable from `roots`, in the order graph.walk meets them."""
    nodes, leaves, _ = graph.walk(roots)
    return nodes, leaves


def named_tensors(params) -> list:
    """(name, Tensor) pairs from a dict, a Module (`named_parameters()`) or pairs."""
    if params is None:
        return []
    if hasattr(params, "named_parameters") and callable(params.named_parameters):
        pairs = list(params.named_parameters())
    elif hasattr(params, "items"):
        pairs = list(params.items())
    else:
        try:
            pairs = [(name, t) for name, t in params]
        except (TypeError, ValueError):
            raise TypeError(
                f"params must be a dict name -> Tensor, a Module or (name, Tensor) pairs, got "
                f"{type(params).__name__}"
            ) from None
    for name, t in pairs:
        if not isinstance(t, Tensor):
            raise TypeError(f"params[{name!r}] must be a Tensor, got {type(t).__name__}")
    return [(str(name), t) for name, t in pairs]


class Names:
    """Display names of the nodes, leaves and named tensors of the graph below `roots`."""

    def __init__(self, roots, params=None):
        self.nodes, self.leaves = walk(roots)
        self.leaf: dict[int, str] = {}
        self.output: dict[tuple, str] = {}  # (node, output_nr) -> name of a named tensor
        for name, t in named_tensors(params):
            if t.grad_fn is None:
                self.leaf.setdefault(id(t), name)
            else:
                self.output.setdefault((t.grad_fn, t._output_nr), name)
        k = 0
        for leaf in self.leaves:
            if id(leaf) not in self.leaf:
                self.leaf[id(leaf)] = f"leaf{k}"
                k += 1
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[node.name()] = counts.get(node.name(), 0) + 1
        seen: dict[str, int] = {}
        self.node: dict[Node, str] = {}
        for node in self.nodes:
            name = node.name()
            if counts[name] > 1:
                seen[name] = seen.get(name, -1) + 1
                name = f"{name}#{seen[name]}"
            self.node[node] = name

    def of_node(self, node) -> str:
        return self.node.get(node) or node.name()

    def of_edge(self, edge) -> str:
        target = edge[0]
        if isinstance(target, Node):
            return self.of_node(target)
        return self.leaf.get(id(target), "leaf")

    def of_tensor(self, t, default: str = "tensor") -> str:
        if t.grad_fn is None:
            return self.leaf.get(id(t), default)
        named = self.output.get((t.grad_fn, t._output_nr))
        if named is not None:
            return named
        return f"output of {self.of_node(t.grad_fn)}"


# ---------------------------------------------------------------------------- the op's rule
_RULES: dict = {}


def rule_of(fn) -> str:
    """The `backward:` section of an op's docstring (continuation lines included)."""
    rule = _RULES.get(fn)
    if rule is not None:
        return rule
    lines = inspect.cleandoc(fn.__doc__ or "").splitlines()
    found, indent = [], None
    for line in lines:
        stripped = line.strip()
        if indent is None:
            if stripped.startswith("backward:"):
                indent = len(line) - len(line.lstrip())
                found.append(stripped[len("backward:"):].strip())
            continue
        if not stripped or len(line) - len(line.lstrip()) <= indent:
            break  # a blank line or the next section (saved:, edges:, ...)
        found.append(stripped)
    rule = "\n".join(found) if found else f"(no 'backward:' line in {fn.__name__}'s docstring)"
    _RULES[fn] = rule
    return rule


# ---------------------------------------------------------------------------- records
def _encode(v):
    """JSON has no nan/inf: write them as strings (decoded again by _decode)."""
    if isinstance(v, list):
        return [_encode(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def _decode(v):
    if isinstance(v, list):
        return [_decode(x) for x in v]
    if isinstance(v, str) and v in ("nan", "inf", "-inf"):
        return float(v)
    return v


def values_text(array: np.ndarray) -> str:
    """PyTorch's print style on one line: `-20.`, `[1., 2.]`, `[[1., 2.], [3., 4.]]`."""
    text = _format._nested(array, 0, False, _format._Formatter(array))
    return " ".join(part.strip() for part in text.splitlines())


@dataclass
class GradInfo:
    """A gradient as shown: shape and dtype always, values when it has <= SMALL elements."""

    shape: tuple
    dtype: str
    values: object = None  # nested lists (or a number) when small
    tensor: object = field(default=None, repr=False, compare=False)  # the Tensor itself

    @classmethod
    def of(cls, t) -> GradInfo | None:
        if t is None:
            return None
        a = t.array
        values = a.tolist() if a.size <= SMALL else None
        return cls(tuple(a.shape), a.dtype.name, values, t)

    def text(self) -> list[str]:
        lines = [f"{self.shape} {self.dtype}"]
        if self.values is not None:
            lines.append("= " + values_text(np.asarray(self.values, dtype=self.dtype)))
        return lines

    def to_dict(self) -> dict:
        return {"shape": list(self.shape), "dtype": self.dtype, "values": _encode(self.values)}

    @classmethod
    def from_dict(cls, d) -> GradInfo | None:
        if d is None:
            return None
        return cls(tuple(d["shape"]), d["dtype"], _decode(d["values"]))


@dataclass
class Sent:
    """The gradient one node sent to one of its inputs."""

    input: int  # which argument of the op
    to: str  # the next node's name, or the leaf's
    to_kind: str  # "node" or "leaf"
    grad: GradInfo | None  # None: backward returned no gradient for this input
    summed_axes: tuple = ()  # broadcast undone: axes of `summed_from` that were summed
    summed_from: tuple | None = None  # the gradient's shape before sum_to

    def broadcast_text(self) -> str:
        if self.summed_from is None:
            return "-"
        axes = ", ".join(str(a) for a in self.summed_axes)
        word = "axis" if len(self.summed_axes) == 1 else "axes"
        return f"summed {word} {axes} of {self.summed_from}"

    def to_dict(self) -> dict:
        return {
            "input": self.input, "to": self.to, "to_kind": self.to_kind,
            "grad": None if self.grad is None else self.grad.to_dict(),
            "summed_axes": list(self.summed_axes),
            "summed_from": None if self.summed_from is None else list(self.summed_from),
        }

    @classmethod
    def from_dict(cls, d) -> Sent:
        return cls(d["input"], d["to"], d["to_kind"], GradInfo.from_dict(d["grad"]),
                   tuple(d["summed_axes"]),
                   None if d["summed_from"] is None else tuple(d["summed_from"]))


@dataclass
class Step:
    """One node's backward: the gradient(s) it received, its rule, what it sent where."""

    index: int  # 1, 2, ... in the order the engine ran the nodes
    node: str
    output: str | None  # the name of the tensor this node made, if it was named in params
    upstream: list  # GradInfo (or None) per output of the op
    rule: str
    sent: list  # Sent per input that takes part in autograd

    def to_dict(self) -> dict:
        return {
            "index": self.index, "node": self.node, "output": self.output,
            "upstream": [None if g is None else g.to_dict() for g in self.upstream],
            "rule": self.rule, "sent": [s.to_dict() for s in self.sent],
        }

    @classmethod
    def from_dict(cls, d) -> Step:
        return cls(d["index"], d["node"], d["output"],
                   [GradInfo.from_dict(g) for g in d["upstream"]], d["rule"],
                   [Sent.from_dict(s) for s in d["sent"]])


_COLUMNS = ("#", "node", "received (upstream g)", "local rule", "input", "sent to",
            "gradient sent", "broadcast undone")


class Explanation:
    """The record of one backward pass: `steps` in the order run, final `grads` by name.

    str() / table(): an aligned text table; to_dict() / to_json() (and from_dict / from_json);
    in Jupyter an HTML table. Values are shown for tensors of at most 6 elements.
    """

    def __init__(self, root: str, root_info: GradInfo | None, steps: list, grads: dict):
        self.root = root
        self.root_info = root_info
        self.steps = steps
        self.grads = grads  # name -> GradInfo of the final gradient (`.grad` or grad())

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def __getitem__(self, i):
        return self.steps[i]

    def step(self, node: str) -> Step:
        """The step of the node with this display name (e.g. 'AddBackward0')."""
        for s in self.steps:
            if s.node == node:
                return s
        raise KeyError(f"explain: no step for node {node!r}; the steps are "
                       f"{[s.node for s in self.steps]}")

    def sent_to(self, name: str) -> list:
        """Every gradient sent to the leaf or node called `name` (their sum is its gradient)."""
        return [s for step in self.steps for s in step.sent if s.to == name]

    # ---- text
    def _cells(self, step: Step) -> list[list[str]]:
        up = []
        multi = len(step.upstream) > 1
        for k, g in enumerate(step.upstream):
            lines = ["(none)"] if g is None else g.text()
            up += [f"out{k}: {lines[0]}", *lines[1:]] if multi else lines
        inputs, tos, grads, sums = [], [], [], []
        for s in step.sent:
            block = [[str(s.input)], [s.to], ["None"] if s.grad is None else s.grad.text(),
                     [s.broadcast_text()]]
            height = max(len(b) for b in block)
            for col, b in zip((inputs, tos, grads, sums), block):
                col += b + [""] * (height - len(b))
        name = [step.node] + ([f"out: {step.output}"] if step.output else [])
        return [[str(step.index)], name, up, step.rule.splitlines(), inputs, tos, grads, sums]

    def table(self) -> str:
        rows = [self._cells(s) for s in self.steps]
        widths = [len(h) for h in _COLUMNS]
        for row in rows:
            for c, cell in enumerate(row):
                for line in cell:
                    widths[c] = max(widths[c], len(line))
        rule = "  ".join("-" * w for w in widths)
        out = [self._title(), "", "  ".join(h.ljust(w) for h, w in zip(_COLUMNS, widths)).rstrip(),
               rule]
        for row in rows:
            height = max(len(cell) for cell in row)
            for i in range(height):
                out.append("  ".join((cell[i] if i < len(cell) else "").ljust(w)
                                     for cell, w in zip(row, widths)).rstrip())
            out.append(rule)
        if self.grads:
            out.append("gradients:")
            for name, g in self.grads.items():
                out.append(f"  {name}: " + ("None" if g is None else "  ".join(g.text())))
        return "\n".join(out)

    def _title(self) -> str:
        info = "" if self.root_info is None else f" (seed {' '.join(self.root_info.text())})"
        return f"backward from {self.root}: {len(self.steps)} steps{info}"

    __str__ = table

    def __repr__(self) -> str:
        return f"<Explanation of backward from {self.root}: {len(self.steps)} steps>"

    # ---- data
    def to_dict(self) -> dict:
        return {
            "root": self.root,
            "root_grad": None if self.root_info is None else self.root_info.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
            "grads": {k: None if g is None else g.to_dict() for k, g in self.grads.items()},
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, d: dict) -> Explanation:
        return cls(d["root"], GradInfo.from_dict(d["root_grad"]),
                   [Step.from_dict(s) for s in d["steps"]],
                   {k: GradInfo.from_dict(g) for k, g in d["grads"].items()})

    @classmethod
    def from_json(cls, text: str) -> Explanation:
        return cls.from_dict(json.loads(text))

    # ---- Jupyter
    def _repr_html_(self) -> str:
        esc = html.escape

        def lines(cell):
            return "<br>".join(esc(x) for x in cell)

        head = "".join(f"<th style='text-align:left'>{esc(h)}</th>" for h in _COLUMNS)
        body = []
        for step in self.steps:
            c = self._cells(step)
            body.append(
                "<tr style='vertical-align:top'>"
                f"<td>{lines(c[0])}</td><td><b>{lines(c[1])}</b></td>"
                f"<td><code>{lines(c[2])}</code></td>"
                f"<td><pre style='margin:0'>{esc(step.rule)}</pre></td>"
                + "".join(f"<td><code>{lines(col)}</code></td>" for col in c[4:])
                + "</tr>"
            )
        grads = "".join(
            f"<li><b>{esc(k)}</b>: <code>{esc('  '.join(g.text()) if g else 'None')}</code></li>"
            for k, g in self.grads.items())
        return (f"<div class='chainrule-explain'><p>{esc(self._title())}</p>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
                + (f"<p>gradients:</p><ul>{grads}</ul>" if grads else "") + "</div>")


# ---------------------------------------------------------------------------- recording
class _Recorder:
    """A node observer while explain runs: one record per node, with its sum_to calls."""

    def __init__(self):
        self.records = []
        self.sum_tos = []

    def __call__(self, node, buf, run):
        self.sum_tos = []
        in_grads = run()
        self.records.append((node, tuple(buf), tuple(in_grads), self.sum_tos))
        self.sum_tos = []
        return in_grads


@contextmanager
def _recording():
    # Both ways a gradient is summed back to an input's shape - the NumPy path of a plain
    # backward and the SumTo op under create_graph - go through shape._sum_to: wrap it.
    rec = _Recorder()
    kernel = shape_ops._sum_to

    def recording_sum_to(x, shape):
        rec.sum_tos.append((tuple(x.shape), tuple(shape)))
        return kernel(x, shape)

    observing = observers.register(node=rec)
    shape_ops._sum_to = recording_sum_to
    try:
        yield rec
    finally:
        shape_ops._sum_to = kernel
        observing.remove()


def _summed_axes(from_shape: tuple, to_shape: tuple) -> tuple:
    # as SumTo: the prepended axes, then the size-1 axes that broadcasting stretched
    lead = len(from_shape) - len(to_shape)
    return tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(to_shape) if s == 1 and from_shape[lead + i] != 1)


def _steps(rec: _Recorder, names: Names) -> list:
    steps = []
    for index, (node, buf, in_grads, sum_tos) in enumerate(rec.records, 1):
        pending = list(sum_tos)
        sent = []
        for i, edge in enumerate(node._edges):
            if edge is None:
                continue
            g = in_grads[i] if i < len(in_grads) else None
            axes, source = (), None
            if g is not None:
                for k, (src, dst) in enumerate(pending):
                    if dst == g.array.shape:
                        axes, source = _summed_axes(src, dst), src
                        del pending[k]
                        break
            sent.append(Sent(i, names.of_edge(edge),
                             "node" if isinstance(edge[0], Node) else "leaf",
                             GradInfo.of(g), axes, source))
        output = names.output.get((node, 0)) if len(node._out_meta) == 1 else None
        steps.append(Step(index, names.of_node(node), output,
                          [GradInfo.of(g) for g in buf], rule_of(node._fn), sent))
    return steps


def _root_name(t, names: Names) -> str:
    if t.grad_fn is None:
        return names.leaf.get(id(t), "output")
    return names.output.get((t.grad_fn, t._output_nr), "output")


def explain(loss, inputs=None, params=None, gradient=None, accumulate=False) -> Explanation:
    """Run a backward from `loss` and record every step.

    inputs: the tensors whose gradients to collect (default: every leaf that requires grad),
    as autograd.grad. params: names for leaves and intermediate tensors (a dict or a Module);
    a dict or Module given as `inputs` names them too. gradient: the seed, for a non-scalar
    loss. accumulate=False: `.grad` is left untouched and the graph is kept (retain_graph),
    so `loss.backward()` still works afterwards. accumulate=True: the pass is a normal
    `loss.backward(inputs=inputs)`, adding into `.grad` and freeing the graph.
    """
    if inputs is not None and (hasattr(inputs, "items") or hasattr(inputs, "named_parameters")):
        params = named_tensors(inputs) + named_tensors(params)
        inputs = [t for _, t in named_tensors(inputs)]
    names = Names([loss], params)
    seeds = _seed_grads([loss], [gradient], "explain")
    if accumulate:
        with _recording() as rec:
            autograd.backward(loss, gradient, inputs=inputs)
        targets = names.leaves if inputs is None else _as_list(inputs)
        grads = [t.grad for t in targets]
    else:
        targets = list(names.leaves) if inputs is None else _as_list(inputs)
        for k, t in enumerate(targets):
            if not isinstance(t, Tensor) or not t.requires_grad:
                raise RuntimeError(f"explain: input {k} is not a Tensor that requires grad")
        grads = []
        with _recording() as rec:
            if targets:
                grads = engine.run_backward([loss], seeds, True, False, inputs=targets,
                                            accumulate=False)
    infos = {names.of_tensor(t, f"input{k}"): GradInfo.of(g)
             for k, (t, g) in enumerate(zip(targets, grads))}
    return Explanation(_root_name(loss, names), GradInfo.of(seeds[0]), _steps(rec, names), infos)


# ---------------------------------------------------------------------------- paths
@dataclass
class Path:
    """One path from the loss to a leaf and its term of the leaf's gradient."""

    nodes: list  # display names: the loss's node first, the leaf (or target tensor) last
    inputs: list  # the argument slot taken at each node (tells x * x's two paths apart)
    contribution: object  # Tensor with the leaf's shape

    def __str__(self) -> str:
        parts = [self.nodes[0]]
        for slot, name in zip(self.inputs, self.nodes[1:]):
            parts.append(f"-[{slot}]-> {name}")
        a = self.contribution.array
        value = values_text(a) if a.size <= SMALL else f"{tuple(a.shape)} {a.dtype.name}"
        return " ".join(parts) + f"   contribution: {value}"

    def __repr__(self) -> str:
        return f"Path({self})"


def paths(loss, leaf, params=None, gradient=None, max_paths: int = MAX_PATHS) -> list:
    """Every path from `loss` to `leaf` with its contribution; their sum is the leaf's gradient.

    `leaf` may also be an intermediate tensor (the paths then end at the edge into it). Each
    contribution is backward restricted to one path: every node on it runs its backward with
    only that path's gradient and passes on only the part flowing to the next node (tensor
    hooks are not applied: this is the chain rule itself). The graph must still hold its saved
    tensors (call before `loss.backward()`, or after `explain(loss)`, which retains them).
    Raises RuntimeError when more than `max_paths` paths exist (their number can grow
    exponentially with depth). A leaf that `loss` does not depend on has no paths: [].
    """
    if not isinstance(leaf, Tensor):
        raise TypeError(f"paths: leaf must be a Tensor, got {type(leaf).__name__}")
    seed = _seed_grads([loss], [gradient], "paths")[0]
    names = Names([loss], params)
    target = names.of_tensor(leaf, "leaf")
    if loss is leaf:
        return [Path([target], [], seed)]
    if loss.grad_fn is None:
        return []
    walk = _PathWalk(loss, leaf, names, target)
    total = walk.count[loss.grad_fn]
    if total > max_paths:
        raise RuntimeError(
            f"paths: {total} paths lead from {_root_name(loss, names)} to {target}, more than "
            f"max_paths={max_paths} (their number grows exponentially with depth). Use "
            f"autograd.explain(loss) for the node-by-node view, or pass a larger max_paths."
        )
    with grad_mode.no_grad():
        return walk.run(loss, seed)


class _PathWalk:
    """Pushes the gradient down every path from the loss to one target, one path at a time."""

    def __init__(self, loss, leaf, names: Names, target: str):
        self.leaf, self.names, self.target = leaf, names, target
        self.target_node, self.target_nr = leaf.grad_fn, leaf._output_nr
        # count[n]: paths from n to the target; children first, so one pass in reverse order
        self.count = {}
        nodes, _, deps = graph.walk([loss])
        for node in reversed(graph.topological_order(nodes, deps)):
            self.count[node] = 0 if node is self.target_node else sum(
                1 if self.hits(e) else self.count.get(e[0], 0)
                for e in node._edges if e is not None)

    def hits(self, edge) -> bool:
        if self.target_node is None:
            return edge[0] is self.leaf
        return edge[0] is self.target_node and edge[1] == self.target_nr

    def run(self, loss, seed) -> list:
        """Depth first; each stack entry: (node, output_nr, gradient, names, slots so far)."""
        found = []
        stack = [(loss.grad_fn, loss._output_nr, seed, [self.names.of_node(loss.grad_fn)], [])]
        while stack:
            node, nr, g, chain, slots = stack.pop()
            if node is None:  # a finished path
                found.append(Path(chain, slots, g if g is not None else Tensor._make(
                    np.zeros(self.leaf.array.shape, self.leaf.array.dtype), None, 0, False)))
            else:
                stack.extend(reversed(self.step(node, nr, g, chain, slots)))  # argument order
        return found

    def step(self, node, nr: int, g, chain: list, slots: list) -> list:
        """Run one node's backward on this path's gradient; the entries for its next edges."""
        if g is not None:
            buf = [None] * len(node._out_meta)
            buf[nr] = g
            in_grads = engine._call_backward(node, buf)
        else:
            in_grads = ()
        todo = []
        for i, edge in enumerate(node._edges):
            if edge is None:
                continue
            is_hit = self.hits(edge)
            if not is_hit and self.count.get(edge[0], 0) == 0:
                continue
            gi = in_grads[i] if i < len(in_grads) else None
            if gi is not None:
                nxt, nnr = edge
                want = nxt._out_meta[nnr] if isinstance(nxt, Node) else \
                    (nxt.array.shape, nxt.array.dtype)
                gi = engine._check_grad(node, i, gi, *want)
            if is_hit:
                todo.append((None, 0, gi, chain + [self.target], slots + [i]))
            else:
                todo.append((edge[0], edge[1], gi, chain + [self.names.of_node(edge[0])],
                             slots + [i]))
        return todo
