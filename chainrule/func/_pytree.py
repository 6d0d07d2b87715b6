"""Pytrees: nested tuples, lists and dicts of Tensors, flattened to a list and rebuilt.

The transforms take and return such nests ("a dict of parameters", "a tuple of outputs"):
they work on the flat list of leaves and rebuild the nest around their results. A spec is a
plain tuple, so two nests have the same structure exactly when their specs are equal.
"""

from __future__ import annotations

_LEAF = ("*",)


def tree_flatten(tree) -> tuple[list, tuple]:
    """(leaves in order, spec): tuples, lists and dicts are containers, all else a leaf."""
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for child in tree:
            child_leaves, spec = tree_flatten(child)
            leaves += child_leaves
            specs.append(spec)
        kind = type(tree) if _is_namedtuple(tree) else ("list" if isinstance(tree, list)
                                                         else "tuple")
        return leaves, (kind, None, tuple(specs))
    if isinstance(tree, dict):
        leaves, specs = [], []
        for value in tree.values():
            child_leaves, spec = tree_flatten(value)
            leaves += child_leaves
            specs.append(spec)
        return leaves, ("dict", tuple(tree), tuple(specs))
    return [tree], _LEAF


def tree_unflatten(leaves, spec):
    """The nest of `spec` with `leaves` (in tree_flatten's order) at its ends."""
    it = iter(leaves)
    return _build(it, spec)


def _build(it, spec):
    if spec == _LEAF:
        return next(it)
    kind, keys, children = spec
    values = [_build(it, child) for child in children]
    if kind == "dict":
        return dict(zip(keys, values))
    if kind == "list":
        return values
    return tuple(values) if kind == "tuple" else kind(*values)


def tree_map(fn, tree):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def spec_str(spec) -> str:
    """A spec as text for error messages: (*, [*, *]) is a tuple of a leaf and a 2-list."""
    if spec == _LEAF:
        return "*"
    kind, keys, children = spec
    parts = [spec_str(c) for c in children]
    if kind == "dict":
        return "{" + ", ".join(f"{k!r}: {p}" for k, p in zip(keys, parts)) + "}"
    if kind == "list":
        return "[" + ", ".join(parts) + "]"
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")
