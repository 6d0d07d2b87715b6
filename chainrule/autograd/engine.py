"""The backward engine: reverse-mode accumulation over the graph, without recursion.

1. Walk the graph from the roots with an explicit stack and count, for every Node, how many
   edges point at it (its dependencies): a node may run only when all the gradients flowing
   into it have arrived.
2. Process ready nodes: sum the gradients that arrived for each output (fan-out), run the
   Function's backward, check every returned gradient against its input's shape, and send it
   along the edge - to the next Node's buffer, or into a leaf's `.grad`.

Everything mutable (counts, buffers) lives in this call, not in the nodes (DESIGN decision 1),
so two backward passes never see each other's state.
"""

from __future__ import annotations

import numpy as np

from chainrule.autograd import grad_mode
from chainrule.autograd.function import Node
from chainrule.tensor import Tensor  # complete by now: function.py imports it first

_state = grad_mode._state


def _hooked(hooks, grad):
    for hook in hooks:
        new = hook(grad)
        if new is not None:
            grad = new
    return grad


def _check_grad(node: Node, i: int, grad, edge):
    """A returned gradient must match its input in shape; dtype is cast as PyTorch does."""
    if not isinstance(grad, Tensor):
        raise TypeError(
            f"function {node.name()} returned a gradient of type {type(grad).__name__} at "
            f"index {i}; expected a Tensor or None"
        )
    target, nr = edge
    if isinstance(target, Node):
        shape, dtype = target._out_meta[nr]
    else:
        shape, dtype = target.array.shape, target.array.dtype
    if grad.array.shape != shape:
        raise RuntimeError(
            f"function {node.name()} returned an invalid gradient at index {i} - got "
            f"{list(grad.array.shape)} but expected shape {list(shape)}. A backward must return "
            f"one gradient per input with the input's shape (reduce broadcast axes with sum_to)."
        )
    if grad.array.dtype != dtype:
        grad = grad.to(dtype)
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


def _pend(leaf_grads: dict, leaf, grad) -> None:
    entry = leaf_grads.get(id(leaf))
    if entry is None:
        leaf_grads[id(leaf)] = [leaf, grad]
    else:
        entry[1] = entry[1] + grad


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


def _zeros_for(meta):
    shape, dtype = meta
    return Tensor._make(np.zeros(shape, dtype), None, 0, False)


def run_backward(roots, grads, retain_graph: bool, create_graph: bool, inputs=None,
                 allow_unused: bool = True, accumulate: bool = True):
    """Backpropagate `grads` from `roots` (Tensors).

    accumulate=True: add into `.grad` of leaves (or only of `inputs`, if given) - backward().
    accumulate=False: return the gradients of `inputs` instead - autograd.grad().
    """
    if strict_backward is not None:
        strict_backward(roots, inputs, accumulate)
    # Targets: leaves (keyed by id) and interior tensors (keyed by their node's output).
    capture_leaf = capture_node = None
    results = []
    if inputs is not None:
        capture_leaf, capture_node = {}, {}
        for k, t in enumerate(inputs):
            if t.grad_fn is None:
                capture_leaf[id(t)] = k
            else:
                capture_node[(t.grad_fn, t._output_nr)] = k
        results = [None] * len(inputs)

    # Pass 1: dependency counts over the Nodes reachable from the roots.
    deps: dict[Node, int] = {}
    stack = []
    for r in roots:
        fn = r.grad_fn
        if fn is not None and fn not in deps:
            deps[fn] = 0
            stack.append(fn)
    order = [] if inputs is not None else None  # discovery order, for the `needed` pass
    while stack:
        node = stack.pop()
        if order is not None:
            order.append(node)
        for edge in node._edges:
            if edge is not None:
                nxt = edge[0]
                if type(nxt) is Node:
                    if nxt in deps:
                        deps[nxt] += 1
                    else:
                        deps[nxt] = 1
                        stack.append(nxt)

    # With `inputs`, run only nodes that lead to one of them (PyTorch does the same).
    needed = None
    if inputs is not None:
        needed = set()
        target_nodes = {key[0] for key in capture_node}
        leaf_ids = set(capture_leaf)
        # `order` is DFS discovery order, which can list a node before one of its parents
        # (two paths to it); a topological order (Kahn) is needed to go bottom-up in one pass.
        pending = dict(deps)
        topo = [n for n in order if pending[n] == 0]
        for node in topo:  # topo grows while it is walked
            for edge in node._edges:
                if edge is not None and isinstance(edge[0], Node):
                    pending[edge[0]] -= 1
                    if pending[edge[0]] == 0:
                        topo.append(edge[0])
        # A target's own node is captured from its buffer, not run (unless it leads on to
        # another input): as in PyTorch, grad(y, h) neither computes nor frees h's history.
        for node in reversed(topo):  # parents before children: go bottom-up
            for edge in node._edges:
                if edge is None:
                    continue
                nxt = edge[0]
                if (nxt in needed or nxt in target_nodes) if isinstance(nxt, Node) \
                        else (id(nxt) in leaf_ids):
                    needed.add(node)
                    break

    # Seed the buffers with the root gradients.
    buffers: dict[Node, list] = {}
    for r, g in zip(roots, grads):
        fn = r.grad_fn
        if fn is None:  # a leaf root: its gradient is the seed itself
            if inputs is None or id(r) in capture_leaf:
                if accumulate:
                    _accumulate(r, g, create_graph)
                else:
                    k = capture_leaf[id(r)]
                    results[k] = g if results[k] is None else results[k] + g
            continue
        buf = buffers.setdefault(fn, [None] * len(fn._out_meta))
        nr = r._output_nr
        buf[nr] = g if buf[nr] is None else buf[nr] + g

    # Gradients reaching a leaf along several edges are summed first; its hooks and `.grad`
    # then see the sum once (PyTorch's AccumulateGrad), so a clipping hook clips the total.
    leaf_grads: dict[int, list] = {}
    ready = [n for n in deps if deps[n] == 0]
    prev_mode = _state.enabled
    _state.enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            buf = buffers.pop(node, None)
            if buf is None:
                buf = [None] * len(node._out_meta)
            if node._hooks is not None or node._retained is not None:
                _tensor_hooks(node, buf, create_graph)
            if capture_node:
                for nr in range(len(buf)):
                    k = capture_node.get((node, nr))
                    if k is not None and buf[nr] is not None:
                        results[k] = buf[nr]
            if (needed is None or node in needed) and (
                    buf[0] is not None if len(buf) == 1 else any(g is not None for g in buf)):
                if anomaly_backward is not None:
                    in_grads = anomaly_backward(node, buf)
                else:
                    in_grads = _call_backward(node, buf)
                if trace_backward is not None:
                    trace_backward(node, buf, in_grads)
            else:
                in_grads = ()
            # free only what this pass needed: grad(y, h) leaves h's own history usable
            if not retain_graph and (needed is None or node in needed):
                node._saved = None
                node._freed = True
            if not in_grads:  # nothing flows on, but the nodes below still count us as done
                for edge in node._edges:
                    if edge is not None and type(edge[0]) is Node:
                        nxt = edge[0]
                        deps[nxt] -= 1
                        if deps[nxt] == 0:
                            ready.append(nxt)
                continue
            # (_call_backward checked: one gradient per edge, extra entries None)
            for i, (edge, g) in enumerate(zip(node._edges, in_grads)):
                if edge is None:
                    continue
                nxt, nr = edge
                if type(nxt) is Node:
                    if g is not None:
                        shape, dtype = nxt._out_meta[nr]
                        if g.array.shape != shape or g.array.dtype != dtype:
                            g = _check_grad(node, i, g, edge)
                        nbuf = buffers.get(nxt)
                        if nbuf is None:
                            nbuf = buffers[nxt] = [None] * len(nxt._out_meta)
                        nbuf[nr] = g if nbuf[nr] is None else nbuf[nr] + g
                    left = deps[nxt] - 1
                    deps[nxt] = left
                    if left == 0:
                        ready.append(nxt)
                elif g is not None:
                    if g.array.shape != nxt.array.shape or g.array.dtype != nxt.array.dtype:
                        g = _check_grad(node, i, g, edge)
                    if inputs is None:
                        _pend(leaf_grads, nxt, g)
                    else:
                        k = capture_leaf.get(id(nxt))
                        if k is None:
                            continue
                        if accumulate:
                            _pend(leaf_grads, nxt, g)
                        else:
                            results[k] = g if results[k] is None else results[k] + g
        for leaf, g in leaf_grads.values():
            _accumulate(leaf, g, create_graph)
        if not accumulate:  # grad() runs a leaf's hooks on what it returns, as PyTorch
            for k in capture_leaf.values():
                if results[k] is not None and inputs[k]._hooks:
                    results[k] = _hooked(inputs[k]._hooks, results[k])
    finally:
        _state.enabled = prev_mode

    if accumulate and capture_node:  # backward(inputs=[non-leaf]) fills their .grad too
        for (node, nr), k in capture_node.items():
            if results[k] is not None and not (node._retained and nr in node._retained):
                _accumulate(inputs[k], results[k], create_graph)
    if not accumulate and not allow_unused:
        for k, r in enumerate(results):
            if r is None:
                raise RuntimeError(
                    f"One of the differentiated Tensors (input {k}, shape "
                    f"{list(inputs[k].shape)}) appears to not have been used in the graph. "
                    f"Set allow_unused=True if this is the desired behavior."
                )
    if not accumulate and not create_graph:
        results = [None if r is None else r.detach() for r in results]
    return results


def _call_backward(node: Node, buf: list):
    """Run the node's Function.backward with one gradient per output; check what it returns."""
    if len(buf) == 1:
        result = node._fn.backward(node, buf[0])
    else:
        buf = [g if g is not None else _zeros_for(node._out_meta[i]) for i, g in enumerate(buf)]
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


# set by chainrule.autograd.anomaly while detect_anomaly is on
anomaly_backward = None
# set by chainrule.autograd.strict while strict() is on: (roots, inputs, accumulate), first
strict_backward = None
# set by chainrule.autograd.explain while it records a backward: (node, grads in, grads out)
trace_backward = None
