"""The backward engine: reverse-mode accumulation over the graph, without recursion.

`run_backward` is the whole algorithm, in one loop:

1. Count, for every Node reachable from the roots, how many edges point at it (graph.walk):
   a node may run only when every gradient flowing into it has arrived.
2. Seed the roots' buffers with the incoming gradients.
3. Take a ready node, run its Function's backward on the gradients summed in its buffer
   (fan-out is a sum), and send each returned gradient along its edge: into the next Node's
   buffer, or towards a leaf's `.grad`. A node whose last gradient arrives becomes ready.

The helpers beside it each do one named part: `_Targets` prunes the graph to the nodes that
lead to `inputs=` and captures their gradients (for `autograd.grad`), `_LeafSink` sums what
reaches each leaf before accumulating it once (PyTorch's AccumulateGrad), `_tensor_hooks`
runs the hooks of non-leaf tensors. Everything mutable (counts, buffers) lives in this call,
not in the nodes, so two backward passes never see each other's state.

Tools watch the engine through `observers` (chainrule/autograd/observers.py): `backward`
observers see each pass before it starts, `node` observers wrap each node's backward.
"""

from __future__ import annotations

import functools

import numpy as np

from chainrule.autograd import forward_ad, grad_mode, graph, observers
from chainrule.autograd.function import Node
from chainrule.tensor import Tensor  # complete by now: function.py imports it first

_state = grad_mode._state


def run_backward(roots, grads, retain_graph: bool, create_graph: bool, inputs=None,
                 allow_unused: bool = True, accumulate: bool = True):
    """Backpropagate `grads` from `roots` (Tensors).

    accumulate=True: add into `.grad` of leaves (or only of `inputs`, if given) - backward().
    accumulate=False: return the gradients of `inputs` instead - autograd.grad().
    """
    for observe in observers.backward:
        observe(roots, inputs, accumulate)
    nodes, _, deps = graph.walk(roots)
    targets = None if inputs is None else _Targets(inputs, nodes, deps)
    sink = _LeafSink(targets, accumulate)
    buffers = _seed(roots, grads, sink)
    ready = [n for n in nodes if deps[n] == 0]
    prev_mode, _state.enabled = _state.enabled, create_graph  # backward records iff create_graph
    try:
        while ready:
            node = ready.pop()
            buf = buffers.pop(node, None) or [None] * len(node._out_meta)
            if node._hooks is not None or node._retained is not None:
                _tensor_hooks(node, buf, create_graph)
            runs = targets is None or targets.capture(node, buf)
            if runs and (buf[0] is not None if len(buf) == 1 else _any(buf)):
                in_grads = _call_backward(node, buf) if not observers.node else \
                    _observed(node, buf)
            else:
                in_grads = ()
            if runs and not retain_graph:  # grad(y, h) leaves h's own history usable
                node._saved = None
                node._freed = True
            _send(node, in_grads, buffers, deps, ready, sink)
        sink.accumulate(create_graph)
    finally:
        _state.enabled = prev_mode
    return sink.results(create_graph, allow_unused)


def _send(node: Node, in_grads, buffers: dict, deps: dict, ready: list, sink) -> None:
    """Send each input gradient along its edge; a node whose last edge reports is ready.

    A gradient for a node is summed into that node's buffer (fan-out), one for a leaf goes
    to the sink. An edge with no gradient still counts as done for the node it points at.
    """
    for i, edge in enumerate(node._edges):
        if edge is None:
            continue
        g = in_grads[i] if i < len(in_grads) else None
        nxt, nr = edge
        if type(nxt) is not Node:
            if g is not None:
                if g.array.shape != nxt.array.shape or g.array.dtype != nxt.array.dtype:
                    g = _check_grad(node, i, g, nxt.array.shape, nxt.array.dtype)
                sink.send(nxt, g)
            continue
        if g is not None:
            if (g.array.shape, g.array.dtype) != nxt._out_meta[nr]:
                g = _check_grad(node, i, g, *nxt._out_meta[nr])
            nbuf = buffers.get(nxt) or buffers.setdefault(nxt, [None] * len(nxt._out_meta))
            nbuf[nr] = g if nbuf[nr] is None else nbuf[nr] + g
        deps[nxt] -= 1
        if deps[nxt] == 0:
            ready.append(nxt)


def _any(buf: list) -> bool:
    return any(g is not None for g in buf)


def _seed(roots, grads, sink: _LeafSink) -> dict:
    """The first buffers: each root's gradient at its node's output (a leaf root: the sink)."""
    buffers: dict[Node, list] = {}
    for r, g in zip(roots, grads):
        fn = r.grad_fn
        if fn is None:  # a leaf root: its gradient is the seed itself
            sink.send(r, g)
            continue
        buf = buffers.setdefault(fn, [None] * len(fn._out_meta))
        nr = r._output_nr
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    return buffers


class _Targets:
    """`inputs=`: which nodes lead to them, and the gradients captured on the way.

    A leaf input is captured when gradients reach it; an interior tensor's gradient is
    read from its node's buffer when that node is taken from the ready list. As in PyTorch,
    only nodes that lead to an input run, and a target's own node is captured, not run
    (unless it leads on to another input): grad(y, h) neither computes nor frees h's history.
    """

    def __init__(self, inputs: list, nodes: list, deps: dict):
        self.inputs = inputs
        self.results = [None] * len(inputs)
        self.leaf = {}  # id(leaf tensor) -> position in inputs
        self.node = {}  # (node, output_nr) -> position in inputs
        for k, t in enumerate(inputs):
            if t.grad_fn is None:
                self.leaf[id(t)] = k
            else:
                self.node[(t.grad_fn, t._output_nr)] = k
        self.needed = self._needed(nodes, deps)

    def _needed(self, nodes: list, deps: dict) -> set:
        """The nodes with a path to a target: children first, one pass up the order."""
        needed = set()
        target_nodes = {node for node, _ in self.node}
        for node in reversed(graph.topological_order(nodes, deps)):
            for edge in node._edges:
                if edge is None:
                    continue
                nxt = edge[0]
                if (nxt in needed or nxt in target_nodes) if type(nxt) is Node \
                        else id(nxt) in self.leaf:
                    needed.add(node)
                    break
        return needed

    def capture(self, node: Node, buf: list) -> bool:
        """Keep the gradients of target outputs of `node`; whether `node` must run."""
        if self.node:
            for nr, g in enumerate(buf):
                k = self.node.get((node, nr))
                if k is not None and g is not None:
                    self.results[k] = g
        return node in self.needed


class _LeafSink:
    """Where gradients reaching leaves go: summed per leaf first, then accumulated once.

    Gradients reaching a leaf along several edges are summed before its hooks and `.grad`
    see them (PyTorch's AccumulateGrad), so a clipping hook clips the total. With `inputs=`,
    only the inputs collect; for autograd.grad (accumulate=False) they are returned instead.
    """

    def __init__(self, targets: _Targets | None, accumulate: bool):
        self.targets = targets
        self.accumulating = accumulate
        self.pending: dict[int, list] = {}  # id(leaf) -> [leaf, summed gradient]

    def send(self, leaf, g) -> None:
        t = self.targets
        if t is not None:
            k = t.leaf.get(id(leaf))
            if k is None:
                return
            if not self.accumulating:
                t.results[k] = g if t.results[k] is None else t.results[k] + g
                return
        entry = self.pending.get(id(leaf))
        if entry is None:
            self.pending[id(leaf)] = [leaf, g]
        else:
            entry[1] = entry[1] + g

    def accumulate(self, create_graph: bool) -> None:
        for leaf, g in self.pending.values():
            _accumulate(leaf, g, create_graph)
        t = self.targets
        if t is not None and not self.accumulating:  # grad() runs a leaf's hooks on its result
            for k in t.leaf.values():
                if t.results[k] is not None and t.inputs[k]._hooks:
                    t.results[k] = _hooked(t.inputs[k]._hooks, t.results[k])

    def results(self, create_graph: bool, allow_unused: bool) -> list:
        """What run_backward returns: the inputs' gradients (autograd.grad), else []."""
        t = self.targets
        if t is None:
            return []
        if self.accumulating:  # backward(inputs=[non-leaf]) fills their .grad too
            for (node, nr), k in t.node.items():
                if t.results[k] is not None and not (node._retained and nr in node._retained):
                    _accumulate(t.inputs[k], t.results[k], create_graph)
            return []
        if not allow_unused:
            for k, r in enumerate(t.results):
                if r is None:
                    raise RuntimeError(
                        f"One of the differentiated Tensors (input {k}, shape "
                        f"{list(t.inputs[k].shape)}) appears to not have been used in the "
                        f"graph. Set allow_unused=True if this is the desired behavior.")
        if create_graph:
            return t.results
        return [None if r is None else _detached(r) for r in t.results]


def _detached(r):
    """A returned gradient cut from the graph; in forward mode it keeps its tangents."""
    d = r.detach()
    for level, tangent in (r._tangents or {}).items():
        forward_ad._set_tangent(d, level, tangent)
    return d


def _observed(node: Node, buf: list):
    """The node's input gradients, through the registered `node` observers.

    Observers nest, the first registered outermost: each gets (node, buf, run) and returns
    what `run()` returns, so it can look at the gradients, check them or annotate an error.
    """
    run = functools.partial(_call_backward, node, buf)
    for observe in reversed(observers.node):  # built inside out (no closure cycle keeps buf)
        run = functools.partial(observe, node, buf, run)
    return run()


def _call_backward(node: Node, buf: list):
    """Run the node's Function.backward with one gradient per output; check what it returns.

    An output that received no gradient gets zeros, unless the Function asked for None
    (ctx.set_materialize_grads(False)).
    """
    if len(buf) == 1:
        result = node._fn.backward(node, buf[0])
    else:
        if node._materialize:
            buf = [g if g is not None else _zeros_for(node._out_meta[i])
                   for i, g in enumerate(buf)]
        result = node._fn.backward(node, *buf)
    if type(result) is not tuple:
        result = (result,)
    if not node._fn.array_forward:  # a user's Function (the built-in ops' rules are tested)
        _check_result(node, result)
    if node._post_hooks:
        for hook in node._post_hooks:
            new = hook(result, tuple(buf))
            if new is not None:
                result = tuple(new)
    return result


def _zeros_for(meta):
    shape, dtype = meta
    return Tensor._make(np.zeros(shape, dtype), None, 0, False)


def _check_result(node: Node, result: tuple) -> None:
    """One gradient (a Tensor or None) per forward input; extra entries must be None."""
    n = len(node._edges)
    if len(result) != n and (len(result) < n or any(r is not None for r in result[n:])):
        raise RuntimeError(
            f"function {node.name()} returned an incorrect number of gradients "
            f"(expected {n}, got {len(result)})"
        )
    for r in result:
        if r is not None and not isinstance(r, Tensor):
            raise TypeError(
                f"function {node.name()} returned a {type(r).__name__} as a gradient; "
                f"backward must return Tensors (or None)"
            )


def _check_grad(node: Node, i: int, grad, shape: tuple, dtype):
    """A returned gradient must match its input in shape; dtype is cast as PyTorch does."""
    if type(grad) is Tensor and grad.array.shape == shape and grad.array.dtype == dtype:
        return grad
    if not isinstance(grad, Tensor):
        raise TypeError(
            f"function {node.name()} returned a gradient of type {type(grad).__name__} at "
            f"index {i}; expected a Tensor or None"
        )
    if grad.array.shape != shape:
        raise RuntimeError(
            f"function {node.name()} returned an invalid gradient at index {i} - got "
            f"{list(grad.array.shape)} but expected shape {list(shape)}. A backward must return "
            f"one gradient per input with the input's shape (reduce broadcast axes with sum_to)."
        )
    return grad.to(dtype) if grad.array.dtype != dtype else grad


def _hooked(hooks, grad):
    for hook in hooks:
        new = hook(grad)
        if new is not None:
            grad = new
    return grad


def _accumulate(leaf, grad, create_graph: bool) -> None:
    """Add `grad` into `leaf.grad`, running the leaf's hooks first."""
    if leaf._hooks:
        grad = _hooked(leaf._hooks, grad)
    old = leaf._grad
    if old is None:
        if create_graph:
            leaf._grad = grad
        else:
            # A fresh array: the same gradient array may reach several leaves (e.g. from add).
            leaf._grad = Tensor._make(np.array(grad.array, copy=True), None, 0, False)
    elif create_graph or old._requires_grad:
        leaf._grad = old + grad
    else:
        old.array += grad.array
    if leaf._post_acc_hooks:
        for hook in leaf._post_acc_hooks:
            hook(leaf)


def _tensor_hooks(node: Node, buf: list, create_graph: bool) -> None:
    """Hooks and retain_grad() of the non-leaf tensors that `node` produced."""
    # As PyTorch: when a multi-output node runs, the hooks of all its outputs run, with None
    # for an output that got no gradient.
    live = len(buf) > 1 and any(g is not None for g in buf)
    for nr in range(len(buf)):
        if buf[nr] is None and not live:
            continue
        if node._hooks and nr in node._hooks:
            buf[nr] = _hooked(node._hooks[nr], buf[nr])
        if buf[nr] is None:
            continue
        if node._retained and nr in node._retained:
            t = node._retained[nr]()
            if t is not None:
                g = buf[nr]
                if t.grad is None:
                    t._grad = g if create_graph else g.detach().clone()
                else:  # out of place, as PyTorch's retain_grad: an old .grad is not changed
                    t._grad = t.grad + g
