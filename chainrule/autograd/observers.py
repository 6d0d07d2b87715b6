"""Observers: how tools watch the core without the core knowing any tool.

The core calls three lists of functions; a tool (anomaly detection, strict mode, explain) adds
its functions while it is on and removes them after. With none registered the core pays one
truth test of a list per op, and one per backward pass.

    forward:   f(ctx, outs, args)            after every op, recorded or not; `ctx._edges` is
                                              empty when no Node was recorded
    backward:  f(roots, inputs, accumulate)  before every backward() / autograd.grad() pass
    node:      f(node, grads_in, run)        runs one node's backward: `run()` returns its input
                                              gradients; f returns them (it may check them, or
                                              add a note to an error `run` raised)

The engine calls `node` observers nested, the first registered outermost, so two tools can
watch the same pass.
"""

from __future__ import annotations

forward: list = []
backward: list = []
node: list = []

_LISTS = {"forward": forward, "backward": backward, "node": node}


class Registration:
    """What `register` returns: `.remove()` takes the functions off their lists again."""

    def __init__(self, added: list):
        self._added = added

    def remove(self) -> None:
        for lst, f in self._added:
            if f in lst:
                lst.remove(f)
        self._added = []


def register(**functions) -> Registration:
    """Add observer functions by event name: register(forward=f, node=g)."""
    added = []
    for event, f in functions.items():
        if event not in _LISTS:
            raise ValueError(f"observers.register: unknown event {event!r}; the events are "
                             f"{', '.join(_LISTS)}")
        if f is not None:
            _LISTS[event].append(f)
            added.append((_LISTS[event], f))
    return Registration(added)
