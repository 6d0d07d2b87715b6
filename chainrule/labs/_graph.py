"""Draw an autograd graph with matplotlib: the grad_fn nodes a `.backward()` walks.

    draw_graph(ax, loss, names={"w0": w0, "u": u, "loss": loss}, grads={...})

Starting from `root.grad_fn`, follow `next_functions` (as PyTorch users do by hand) down to
the leaves (`AccumulateGrad`, which is where `.grad` is written). Nodes are laid out in rows
by their longest distance from the root, so the loss is on top and the leaves at the bottom;
arrows point the way gradients flow. No Graphviz needed.
"""

from __future__ import annotations


def graph_nodes(root):
    """[(key, label, kind, tensor-or-None)], [(from_key, to_key)] and each node's depth."""
    keys, nodes, edges, depth = {}, [], [], {}

    def key_of(fn):
        variable = getattr(fn, "variable", None)
        return ("leaf", id(variable)) if variable is not None else ("fn", id(fn))

    start = root.grad_fn
    if start is None:
        return [], [], {}
    order = [start]
    depth[key_of(start)] = 0
    keys[key_of(start)] = start
    i = 0
    while i < len(order):  # breadth first; a node's depth is its longest path from the root
        fn = order[i]
        i += 1
        k = key_of(fn)
        for nxt, _ in fn.next_functions:
            if nxt is None:
                continue
            nk = key_of(nxt)
            edges.append((k, nk))
            if nk not in keys:
                keys[nk] = nxt
                order.append(nxt)
            depth[nk] = max(depth.get(nk, 0), depth[k] + 1)
    for _ in range(len(order)):  # relax depths until stable (a DAG: at most |V| rounds)
        changed = False
        for a, b in edges:
            if depth[b] < depth[a] + 1:
                depth[b] = depth[a] + 1
                changed = True
        if not changed:
            break
    for k, fn in keys.items():
        leaf = getattr(fn, "variable", None)
        nodes.append((k, fn.name(), "leaf" if leaf is not None else "fn", leaf))
    return nodes, edges, depth


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
