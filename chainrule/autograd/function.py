"""Function: one differentiable op. Node: the record of one call of it (its ctx and grad_fn).

A Function has two static methods:

    forward(ctx, *args, **kwargs)  -> output(s)       runs the op
    backward(ctx, *grads)          -> one grad per forward argument (None where there is none)

`backward` works on Tensors with chainrule's own ops, so it is itself differentiable: a
backward run under `create_graph=True` records a graph of its own, which gives second and
higher derivatives with no second set of rules.

Users subclass `Function` as in PyTorch: `forward` receives the Tensors (with grad disabled)
and returns Tensors. The built-in ops subclass `Op`, whose `forward` receives and returns
NumPy arrays - the kernel - because wrapping every intermediate in a Tensor would cost time
and say nothing. Both share `apply`, the ctx and the engine.
"""

from __future__ import annotations

import numpy as np

from chainrule.autograd import grad_mode, observers

_state = grad_mode._state

# kinds of saved values, resolved once when `apply` returns
_INPUT, _OUTPUT, _CONST = 0, 1, 2


class Node:
    """The ctx handed to forward/backward and the `grad_fn` of the outputs, in one object.

    Set while the graph is built and then only read during backward (decision 1): the edges to
    the inputs' nodes (or to leaf Tensors), what forward saved, the outputs' shapes and dtypes.
    Users may set attributes on it (`ctx.alpha = alpha`) as on PyTorch's ctx.
    """

    # Defaults live on the class so that making a Node (once per op call) sets one attribute.
    _edges = ()
    needs_input_grad = ()
    _to_save = None
    _saved = None
    _freed = False
    _out_meta = ()
    _non_diff = None
    _hooks = None  # {output_nr: [hook]} for hooks on non-leaf tensors
    _retained = None  # {output_nr: weakref to the tensor} for retain_grad()
    _post_hooks = None
    _site = None  # where the op was called (anomaly mode)
    _materialize = True  # set_materialize_grads: zeros for outputs that got no gradient
    _for_forward = None  # save_for_forward: what a user Function's jvp reads
    inputs = outputs = None  # the op's arguments and outputs while its jvp runs
    _not_tensors = ()  # positions of arguments that were not Tensors (for next_functions)
    _torch_name = None  # PyTorch's name for this call's node, when the op serves several

    def __init__(self, fn):
        self._fn = fn

    # ---- what forward may call ----
    def save_for_backward(self, *values) -> None:
        """Keep inputs, outputs or intermediate arrays for backward (checked for in-place edits)."""
        self._to_save = values

    def mark_non_differentiable(self, *outputs) -> None:
        """Outputs (e.g. argmax indices) that never require grad."""
        self._non_diff = outputs

    def save_for_forward(self, *values) -> None:
        """Keep values for `jvp` (forward mode); there `ctx.saved_tensors` returns them."""
        self._for_forward = values

    def set_materialize_grads(self, value: bool) -> None:
        """False: backward gets None (not zeros) for an output that received no gradient."""
        self._materialize = bool(value)

    @property
    def saved_tensors(self) -> tuple:
        """The saved values as Tensors; raises if the graph was freed or a value was modified."""
        if self._for_forward is not None and self.outputs is not None:  # inside jvp
            return tuple(self._for_forward)
        saved = self._saved
        if saved is None:
            if self._freed:
                raise RuntimeError(
                    f"Trying to backward through the graph a second time (or to access the saved "
                    f"tensors of {self.name()} after they were freed). Saved intermediate values "
                    f"of the graph are freed when you call .backward() or autograd.grad(). "
                    f"Specify retain_graph=True if you need to backward through the graph a "
                    f"second time or if you need to access saved tensors after calling backward."
                )
            return ()
        out = []
        for kind, value, version in saved:
            if kind == _INPUT:
                if value._version[0] != version:
                    raise RuntimeError(
                        f"one of the variables needed for gradient computation has been modified "
                        f"by an inplace operation: [{self.name()}] saved a tensor of shape "
                        f"{list(value.shape)} at version {version}, but it is now at version "
                        f"{value._version[0]}. Use an out-of-place op (x = x + y instead of "
                        f"x += y), or clone() the tensor before modifying it."
                    )
                out.append(value)
            elif kind == _OUTPUT:
                array, nr, cell, live = value
                if cell[0] != version:
                    raise RuntimeError(
                        f"one of the variables needed for gradient computation has been modified "
                        f"by an inplace operation: the output {nr} of {self.name()} is at version "
                        f"{cell[0]}; expected version {version}. Clone the output before "
                        f"modifying it in place."
                    )
                t = Tensor._make(array, self, nr, True)
                if live is not None:  # forward-over-reverse: the output's tangents too
                    t._tangents = live._tangents
                out.append(t)
            elif isinstance(value, np.ndarray):
                out.append(Tensor._make(value, None, 0, False))
            else:
                out.append(value)
        return tuple(out)

    # ---- PyTorch's grad_fn API ----
    def name(self) -> str:
        """PyTorch's name of this node: `MulBackward0` for a built-in op (the torch op's name
        when it differs: `Function.grad_fn_name`), `MyFnBackward` for a user's Function."""
        if self._torch_name is not None:  # set by the method that made it (t, squeeze, ...)
            return self._torch_name
        fn = self._fn
        name = fn.grad_fn_name
        if name is None:
            return fn.__name__ + ("Backward0" if fn.array_forward else "Backward")
        return name(self) if callable(name) else name

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def next_functions(self) -> tuple:
        """((node or AccumulateGrad or None, output_nr), ...), one per Tensor argument.

        None marks a Tensor that needs no gradient; arguments that were not Tensors (a shape,
        a dim) have no entry, except a binary op's number, which PyTorch wraps in a Tensor.
        """
        skip = () if self._fn.wraps_numbers else self._not_tensors
        result = []
        for i, edge in enumerate(self._edges):
            if i in skip:
                continue
            if edge is None:
                result.append((None, 0))
            elif isinstance(edge[0], Node):
                result.append(edge)
            else:
                result.append((AccumulateGrad(edge[0]), 0))
        return tuple(result)

    @property
    def metadata(self) -> dict:
        if not hasattr(self, "_metadata"):
            self._metadata = {}
        return self._metadata

    def register_hook(self, hook):
        """hook(grad_inputs, grad_outputs) after this node's backward (may return new grads).

        Returns a handle whose `.remove()` unregisters the hook, as PyTorch's.
        """
        from chainrule.tensor import _RemovableHandle

        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(hook)
        return _RemovableHandle(self._post_hooks, hook)


_new_node = object.__new__


class AccumulateGrad:
    """The graph's end at a leaf: what `next_functions` shows for a leaf Tensor."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"  # (PyTorch's C++ class name)

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"

    @property
    def next_functions(self) -> tuple:
        return ()


class Function:
    """Base class of differentiable ops; subclass it and call `YourOp.apply(...)`.

    `forward(ctx, *args)` gets the arguments as given, Tensors included (grad disabled inside),
    and returns a Tensor or a tuple of Tensors. `backward(ctx, *grads)` gets one gradient per
    output and returns one per forward argument (None for non-Tensors or inputs with no grad).
    """

    array_forward = False  # Op (the built-ins) sets True: forward runs on ndarrays
    # is_view: the output is a view of input 0 (shares its memory and version counter);
    # may_copy: only when NumPy could make a view (reshape, basic indexing), checked per call
    is_view = False
    may_copy = False
    grad_fn_name = None  # PyTorch's node name if not `<class>Backward0` (or a function of it)
    wraps_numbers = False  # a number argument shows in next_functions as (None, 0), as torch
    # forward mode: a float Tensor input without a tangent reaches `jvp` as zeros (PyTorch's
    # default); False: as None, for rules that add only the terms that exist
    materialize_tangents = True

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("subclasses of Function must implement forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("subclasses of Function must implement backward(ctx, ...)")

    @staticmethod
    def jvp(ctx, *tangents):
        """Forward mode: the outputs' tangents from one tangent per input (see forward_ad)."""
        raise NotImplementedError(
            f"{ctx._fn.__name__} has no jvp rule, so it cannot be used in forward mode AD "
            f"(forward_ad.dual_level, func.jvp, func.jacfwd). Define "
            f"`jvp(ctx, *tangents)` on the Function: it returns the output's tangent, the "
            f"directional derivative of forward along the input tangents.")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward; if grad is enabled and an input requires grad, record a Node.

        The one path every op takes, built-in or user-defined: find the inputs' arrays and
        the edges to their nodes, run forward, wrap the outputs (with this Node as their
        grad_fn when recorded), then tell the observers.
        """
        ctx = _new_node(Node)  # Node(cls) without the cost of calling __init__
        ctx._fn = cls
        if _state.enabled:
            raw, tracking = _find_edges(ctx, args)
        else:
            raw, tracking = [], False
            for a in args:
                raw.append(a.array if isinstance(a, Tensor) else a)
        if cls.array_forward:
            result = cls.forward(ctx, *raw, **kwargs)
        else:
            raw = args  # a user Function's forward sees (and saves) the Tensors themselves
            result = _tensor_forward(cls, ctx, args, kwargs)
        if not tracking and type(result) is np.ndarray and not (cls.is_view or observers.forward):
            out = Tensor._make(result, None, 0, False)  # nothing to record, share or report
            if _state.dual_levels:
                forward_ad.push_tangents(cls, ctx, args, (out,))
            return out
        outs = _outputs(ctx, args, raw, result, tracking)
        if cls.is_view:
            _share_version(cls, args, outs)
        if _state.dual_levels:  # forward mode: push the inputs' tangents through `jvp`
            forward_ad.push_tangents(cls, ctx, args, outs)
        if observers.forward:
            for observe in observers.forward:
                observe(ctx, outs, args)
        return outs if type(result) is tuple else outs[0]


def _find_edges(ctx, args) -> tuple:
    """The inputs' arrays, and whether any needs a gradient; if so, set ctx's edges.

    One pass over the arguments: an input that requires grad gets an edge to its node
    (`(grad_fn, output_nr)`), or to itself if it is a leaf; every other argument gets None.
    """
    raw = []
    needs = []
    edges = []
    not_tensors = []
    tracking = False
    for a in args:
        if isinstance(a, Tensor):
            raw.append(a.array)
            if a._requires_grad:
                tracking = True
                needs.append(True)
                fn = a.grad_fn
                edges.append((fn, a._output_nr) if fn is not None else (a, 0))
                continue
        else:
            not_tensors.append(len(raw))
            raw.append(a)
        needs.append(False)
        edges.append(None)
    if tracking:
        ctx.needs_input_grad = tuple(needs)
        ctx._edges = edges
        if not_tensors:
            ctx._not_tensors = not_tensors
    return raw, tracking


def _tensor_forward(cls, ctx, args, kwargs):
    """A user Function's forward: it gets the Tensors, with grad disabled inside."""
    if not ctx.needs_input_grad:
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
    prev = _state.enabled
    _state.enabled = False
    try:
        result = cls.forward(ctx, *args, **kwargs)
    finally:
        _state.enabled = prev
    for o in result if type(result) is tuple else (result,):
        if not isinstance(o, Tensor):
            raise TypeError(
                f"{cls.__name__}.forward must return a Tensor or a tuple of Tensors, "
                f"got {type(o).__name__}"
            )
    return result


def _wrap(r, ctx, i: int, tracking: bool):
    """Output `i` of forward as a Tensor, with `ctx` as its grad_fn when it is differentiable.

    An output is differentiable when the op is recorded, it is floating point and forward did
    not mark it non-differentiable (integer outputs such as argmax never get a grad_fn, as in
    PyTorch). NumPy reductions return NumPy scalars: a Tensor always holds an ndarray.
    """
    arr = r if type(r) is np.ndarray else r.array if isinstance(r, Tensor) else np.asarray(r)
    diff = tracking and arr.dtype.kind == "f" and not (
        ctx._non_diff and any(r is o for o in ctx._non_diff))
    return Tensor._make(arr, ctx if diff else None, i, diff)


def _outputs(ctx, args, raw, result, tracking: bool) -> tuple:
    """Forward's result as Tensors; when recorded, ctx keeps their shapes and its saves."""
    if type(result) is tuple:
        produced = result
        outs = tuple([_wrap(r, ctx, i, tracking) for i, r in enumerate(result)])
    else:
        produced = (result,)
        outs = (_wrap(result, ctx, 0, tracking),)
    if tracking:
        ctx._out_meta = tuple([(o.array.shape, o.array.dtype) for o in outs]) \
            if len(outs) > 1 else ((outs[0].array.shape, outs[0].array.dtype),)
        if ctx._to_save is not None:
            ctx._saved = _resolve_saved(ctx._to_save, args, raw, produced, outs)
            ctx._to_save = None
    return outs


class Op(Function):
    """Base of the built-in ops: `forward` is the NumPy kernel (arrays in, array out)."""

    array_forward = True


def _resolve_saved(values, args, raw, out_objs, outs) -> tuple:
    """Turn what forward saved into (kind, value, version) records, matched by identity."""
    saved = []
    for v in values:
        if v is None:
            saved.append((_CONST, None, 0))
            continue
        for i, r in enumerate(raw):
            if r is v and isinstance(args[i], Tensor):
                t = args[i]
                saved.append((_INPUT, t, t._version[0]))
                break
        else:
            for i, o in enumerate(out_objs):
                if o is v:
                    t = outs[i]
                    # in forward mode the output itself, whose tangents backward will need
                    live = t if _state.dual_levels else None
                    saved.append((_OUTPUT, (t.array, i, t._version, live), t._version[0]))
                    break
            else:
                if isinstance(v, Tensor):
                    saved.append((_CONST, v.array, 0))
                else:
                    saved.append((_CONST, v, 0))
    return tuple(saved)


from chainrule.tensor import Tensor  # noqa: E402 - tensor.py imports this module first

# isort: split
from chainrule.autograd import forward_ad  # noqa: E402 - after Tensor
from chainrule.autograd.views import _share_version  # noqa: E402 - after Tensor
