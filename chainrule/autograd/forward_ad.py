"""Forward-mode AD: dual tensors carry a tangent, and every op pushes it forward.

    with forward_ad.dual_level():
        x = forward_ad.make_dual(x0, v)          # x0 with tangent v
        y = f(x)                                  # every op computes y's tangent too
        y0, jv = forward_ad.unpack_dual(y)        # jv = J_f(x0) @ v

Reverse mode runs the chain rule from the output back (one pass gives a gradient: a row of
the Jacobian); forward mode runs it alongside the computation (one pass gives J v: a column,
or any directional derivative). Each op states its own piece in a `jvp` rule beside its
`backward`: `jvp(ctx, *tangents)` gets one tangent per input (zeros for a Tensor input
without one, or None where the class sets `materialize_tangents = False` and adds only the
terms that exist; None for a non-Tensor argument) and returns the output's tangent (None:
the output has none), written with chainrule ops. So the tangent computation is itself
differentiable: inside a backward pass it gives forward-over-reverse (Hessian-vector
products), and inside another dual level it gives forward-over-forward.

Levels nest. A tangent belongs to one level; while an op's rule computes the tangent of
level L, level L is hidden (its tangents are first order: the rule must not see them), and
the outer levels stay active, so the new tangent gets its own tangents there. Leaving a level
drops every tangent it made, as PyTorch does.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import NamedTuple

import numpy as np

from chainrule.autograd import grad_mode

_state = grad_mode._state  # _state.dual_levels: the active levels, innermost last
_made: dict[int, dict] = {}  # level -> {id: weakref} of the tensors holding its tangents


class UnpackedDualTensor(NamedTuple):
    primal: object
    tangent: object


class dual_level(contextlib.ContextDecorator):
    """A scope in which tensors may carry tangents; entering returns the level's number."""

    def __enter__(self) -> int:
        self.level = len(_state.dual_levels)
        _state.dual_levels = (*_state.dual_levels, self.level)
        _made[self.level] = {}  # (by id: Tensor's == is elementwise, so no WeakSet)
        return self.level

    def __exit__(self, *exc) -> bool:
        level = self.level
        for ref in _made.pop(level).values():
            t = ref()
            if t is not None and t._tangents and level in t._tangents:
                ts = t._tangents
                t._tangents = None if len(ts) == 1 else {k: v for k, v in ts.items()
                                                         if k != level}
        _hide(level)
        return False


def enter_dual_level() -> int:
    """Enter a new dual level (as `dual_level().__enter__()`); leave it with exit_dual_level."""
    scope = dual_level()
    _open.append(scope)
    return scope.__enter__()


def exit_dual_level(*, level: int | None = None) -> None:
    if not _open or (level is not None and _open[-1].level != level):
        raise RuntimeError(f"exit_dual_level: level {level} is not the innermost open level "
                           f"entered with enter_dual_level()")
    _open.pop().__exit__(None, None, None)


_open: list = []


def _level(level, op: str) -> int:
    if not _state.dual_levels:
        raise RuntimeError(f"{op}: no dual level is active; call it inside "
                           f"`with forward_ad.dual_level():`")
    if level is None:
        return _state.dual_levels[-1]
    if level not in _state.dual_levels:
        raise RuntimeError(f"{op}: dual level {level} is not active (active: "
                           f"{list(_state.dual_levels)})")
    return level


def make_dual(tensor, tangent, *, level: int | None = None):
    """A view of `tensor` whose tangent (at `level`, default the innermost) is `tangent`."""
    level = _level(level, "make_dual")
    for name, t in (("tensor", tensor), ("tangent", tangent)):
        if not isinstance(t, Tensor):
            raise TypeError(f"make_dual: {name} must be a Tensor, got {type(t).__name__}")
    if tangent.shape != tensor.shape:
        raise RuntimeError(
            f"make_dual: trying to set a forward gradient that has a different size than that "
            f"of the original Tensor: tangent {list(tangent.shape)}, tensor "
            f"{list(tensor.shape)}")
    if tensor.array.dtype.kind != "f" or tangent.array.dtype.kind != "f":
        raise ValueError(f"make_dual: expected floating point tensors, got {tensor.dtype} and "
                         f"{tangent.dtype} (only floating point values have tangents)")
    dual = _view(tensor, level)
    _set_tangent(dual, level, tangent if tangent.array.dtype == tensor.array.dtype else
                 tangent.to(tensor.dtype))
    return dual


def unpack_dual(tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """(primal, tangent): a view of `tensor` without the level's tangent, and the tangent."""
    if not _state.dual_levels:
        return UnpackedDualTensor(tensor, None)
    level = _level(level, "unpack_dual")
    return UnpackedDualTensor(_view(tensor, level), tangent_at(tensor, level))


def tangent_at(tensor, level: int):
    """The tangent `tensor` carries at `level`, or None."""
    return tensor._tangents.get(level) if tensor._tangents else None


def _view(tensor, level: int):
    """A view of `tensor` (as view_as) that carries no tangent at `level`: made with the level
    hidden, it keeps the tangents of the other levels."""
    active = _hide(level)
    try:
        return Reshape.apply(tensor, tensor.array.shape)
    finally:
        _state.dual_levels = active


def _hide(level: int) -> tuple:
    """Make `level` inactive (ops neither read nor make its tangents); returns the active
    levels to restore."""
    active = _state.dual_levels
    _state.dual_levels = () if active == (level,) else tuple(k for k in active if k != level)
    return active


def _set_tangent(t, level: int, tangent) -> None:
    t._tangents = {**t._tangents, level: tangent} if t._tangents else {level: tangent}
    _made[level][id(t)] = weakref.ref(t)


def push_tangents(cls, ctx, args: tuple, outs: tuple) -> None:
    """After an op ran: for each active level some input has a tangent at, run the op's jvp.

    Called by Function.apply only while a dual level is active.
    """
    for level in _state.dual_levels:
        tangents, found, missing = _tangents_at(args, level)
        if not found:
            continue
        if missing and cls.materialize_tangents and ctx._materialize:
            tangents = [_zeros_if_missing(a, t) for a, t in zip(args, tangents)]
        ctx.inputs, ctx.outputs = args, outs
        active = _hide(level)  # (not a `with` block: a generator per op costs more)
        try:
            result = cls.jvp(ctx, *tangents)
        finally:
            _state.dual_levels = active
            ctx.inputs = ctx.outputs = None  # (the outputs hold ctx: leave no cycle behind)
        if type(result) is not tuple:
            result = (result,)
        for nr, t in enumerate(result[:len(outs)]):
            out = outs[nr]
            if t is not None and out.array.dtype.kind == "f":
                _set_tangent(out, level, _checked(cls, nr, out, t))


def _tangents_at(args: tuple, level: int) -> tuple[list, bool, bool]:
    """(each argument's tangent at `level` or None, whether some Tensor has one, whether some
    Tensor has none): one pass."""
    tangents, found, missing = [], False, False
    for a in args:
        t = None
        if isinstance(a, Tensor):
            if a._tangents:
                t = a._tangents.get(level)
            if t is None:
                missing = True
            else:
                found = True
        tangents.append(t)
    return tangents, found, missing


def _zeros_if_missing(a, t):
    """A jvp's tangent for input a: t, or zeros for a float Tensor without one.

    A Function's jvp gets zeros there (PyTorch's default; `ctx.set_materialize_grads(False)`
    gives None instead). A rule that adds only the terms that exist sets the class attribute
    `materialize_tangents = False` and gets None: no arithmetic on zeros.
    """
    if t is None and isinstance(a, Tensor) and a.array.dtype.kind == "f":
        return Tensor._make(np.zeros_like(a.array), None, 0, False)
    return t


def _tangent_of(a, level: int):
    """An input's tangent at `level`: its own, zeros for a Tensor without one, else None."""
    if not isinstance(a, Tensor):
        return None
    return _zeros_if_missing(a, tangent_at(a, level))


def _checked(cls, nr: int, out, t):
    """The tangent t that cls.jvp returned for output nr: checked, in the output's dtype."""
    if type(t) is Tensor and t.array.shape == out.array.shape and \
            t.array.dtype == out.array.dtype:
        return t  # the usual case, on every op's push: one test
    if not isinstance(t, Tensor) or t.array.shape != out.array.shape:
        got = list(t.array.shape) if isinstance(t, Tensor) else type(t).__name__
        raise RuntimeError(
            f"{cls.__name__}.jvp returned an invalid tangent for output {nr}: got {got}, "
            f"expected a Tensor of shape {list(out.array.shape)} (one tangent per output, "
            f"with the output's shape)")
    return t if t.array.dtype == out.array.dtype else t.to(out.dtype)


from chainrule.tensor import Tensor  # noqa: E402 - tensor.py imports function.py first

# isort: split
from chainrule.ops.shape import Reshape  # noqa: E402 - after Tensor
