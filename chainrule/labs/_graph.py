"""Draw an autograd graph with matplotlib: the grad_fn nodes a `.backward()` walks.

    draw_graph(ax, loss, names={"w0": w0, "u": u, "loss": loss}, grads={...})

Starting from `root.grad_fn`, follow `next_functions` (as PyTorch users do by hand) down to
the leaves (`AccumulateGrad`, which is where `.grad` is written). Nodes are laid out in rows
by their longest distance from the root, so the loss is on top and the leaves at the bottom;
arrows point the way gradients flow. No Graphviz needed.
"""

from __future__ import annotations

from chainrule.autograd import graph
from chainrule.autograd.function import Node


def graph_nodes(root):
    """[(key, label, kind, tensor-or-None)], [(from_key, to_key)] and each node's depth.

    A node's depth is its longest distance from the root: in topological order (graph.py)
    every node's parents are placed first, so one pass finds it.
    """
    if root.grad_fn is None:
        return [], [], {}
    nodes, leaves, deps = graph.walk([root])

    def key_of(target):
        return ("fn", id(target)) if type(target) is Node else ("leaf", id(target))

    edges, depth = [], {key_of(root.grad_fn): 0}
    for node in graph.topological_order(nodes, deps):
        k = key_of(node)
        for edge in node._edges:
            if edge is not None:
                nk = key_of(edge[0])
                edges.append((k, nk))
                depth[nk] = max(depth.get(nk, 0), depth[k] + 1)
    found = [(key_of(n), n.name(), "fn", None) for n in nodes]
    found += [(key_of(t), "AccumulateGrad", "leaf", t) for t in leaves]
    return found, edges, depth


def draw_graph(ax, root, names: dict | None = None, grads: dict | None = None) -> None:
    """Draw root's graph on `ax`. `names` maps a label to a tensor (leaves, or outputs of
    nodes), `grads` a label to the gradient to print beside it."""
    names = names or {}
    grads = grads or {}
    by_leaf = {id(t): n for n, t in names.items() if t.grad_fn is None}
    by_fn = {id(t.grad_fn): n for n, t in names.items() if t.grad_fn is not None}
    nodes, edges, depth = graph_nodes(root)
    rows: dict[int, list] = {}
    for node in nodes:
        rows.setdefault(depth[node[0]], []).append(node)
    pos = {}
    n_rows = max(rows) + 1 if rows else 1
    for d, row in rows.items():
        for j, node in enumerate(row):
            pos[node[0]] = ((j + 1) / (len(row) + 1), 1 - (d + 0.5) / n_rows)
    for a, b in edges:  # gradients flow from the root (a) towards the leaves (b)
        ax.annotate("", xy=pos[b], xytext=pos[a],
                    arrowprops={"arrowstyle": "-|>", "color": "0.4", "shrinkA": 22,
                                "shrinkB": 22, "linewidth": 1.2})
    for key, label, kind, _ in nodes:
        name = by_leaf.get(key[1]) if kind == "leaf" else by_fn.get(key[1])
        text = label if name is None else f"{name}\n{label}"
        if name is not None and name in grads:
            text += f"\ndL/d{name} = {grads[name]:g}"
        color = "#cfe8cf" if kind == "leaf" else "#d6e4f5"
        ax.text(*pos[key], text, ha="center", va="center", fontsize=8,
                bbox={"boxstyle": "round,pad=0.4", "facecolor": color, "edgecolor": "0.3"})
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
