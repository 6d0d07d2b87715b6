"""The graph as data: the one walk over it, and its topological order.

A Node's `_edges` point at the nodes (or leaf Tensors) of its inputs, so the graph is walked
from the outputs down. Every part of chainrule that needs to see a graph - the engine, the
tools (explain, strict, viz) and the labs' drawings - uses these two functions.
"""

from __future__ import annotations

from chainrule.autograd.function import Node


def walk(roots) -> tuple[list, list, dict]:
    """The Nodes and leaves reachable from `roots` (Tensors), each once, and the edge counts.

    nodes:  in the order a breadth-first walk meets them (a node's inputs in argument order)
    leaves: Tensors that require grad at the ends of edges (or roots that are leaves)
    deps:   for each node, how many edges point at it: the gradients it waits for in backward

    Iterative (the list of nodes is the queue), so a graph of any depth is walked without
    recursion.
    """
    nodes, deps, leaves = [], {}, {}  # leaves by id: a Tensor's == is elementwise
    for r in roots:
        fn = r.grad_fn
        if fn is None:
            if r._requires_grad:
                leaves[id(r)] = r
        elif fn not in deps:
            deps[fn] = 0
            nodes.append(fn)
    for node in nodes:  # `nodes` grows while it is read
        for edge in node._edges:
            if edge is None:
                continue
            nxt = edge[0]
            if type(nxt) is not Node:
                leaves[id(nxt)] = nxt
            elif nxt in deps:
                deps[nxt] += 1
            else:
                deps[nxt] = 1
                nodes.append(nxt)
    return nodes, list(leaves.values()), deps


def topological_order(nodes: list, deps: dict) -> list:
    """`nodes` ordered so that every node comes before the nodes its edges point at.

    Kahn's algorithm on the counts from `walk`: a node is placed once every node that
    points at it has been placed. (The walk's own order is not enough: a node reached by
    two paths of different lengths can be met before one of the nodes that uses it.)
    """
    waiting = dict(deps)
    order = [n for n in nodes if waiting[n] == 0]
    for node in order:  # `order` grows while it is read
        for edge in node._edges:
            if edge is not None and type(edge[0]) is Node:
                waiting[edge[0]] -= 1
                if waiting[edge[0]] == 0:
                    order.append(edge[0])
    return order
