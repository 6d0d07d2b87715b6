"""What every transform shares: argnums, the inputs it differentiates, and its results' cleanup.

Nesting without levels. grad(f)(x) differentiates with respect to a fresh use of x: a view
`x.view_as(x)`, made to require grad when x does not (a new leaf), kept as a non-leaf view
of x when x already does (so an enclosing transform, or the user's own autograd, still sees
the path back to x). Gradients are taken with create_graph=True, so the result is itself
differentiable and grad(grad(f)) is the derivative of a derivative. Taking the derivative
with respect to the view, not to x, keeps an inner transform from also differentiating
through the uses of x that an enclosing function captured (perturbation confusion).

Cleanup. A result is returned detached when nothing outside needs its history: no dual level
is active (its tangents would be dropped) and every leaf its graph reaches was made by a
transform that has finished. Otherwise the result keeps its graph: an enclosing transform,
or the caller's tensors that require grad, depend on it (as torch.func composes with autograd).
"""

from __future__ import annotations

import weakref

import numpy as np

from chainrule.autograd import grad as autograd_grad
from chainrule.autograd import grad_mode
from chainrule.autograd.graph import walk
from chainrule.creation import zeros_like
from chainrule.func._pytree import tree_flatten, tree_map
from chainrule.tensor import Tensor

_made: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # id -> leaf we made
_running: list = []  # the Scopes of the transforms now running, innermost last


class Scope:
    """One transform's run: `track` makes its differentiable inputs, leaving ends the run."""

    def __enter__(self) -> Scope:
        self.leaves = []
        _running.append(self)
        return self

    def __exit__(self, *exc) -> bool:
        _running.remove(self)
        return False

    def track(self, x):
        """A fresh use of x to differentiate with respect to (see the module docstring)."""
        if not isinstance(x, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
        t = x.view_as(x)
        if not t.requires_grad:
            t.requires_grad_()
            self.leaves.append(t)
            _made[id(t)] = t
        return t


def plain(tree):
    """`tree` with each Tensor detached where nothing outside needs its history."""
    if grad_mode._state.dual_levels or not any(
            isinstance(t, Tensor) and t.requires_grad for t in tree_flatten(tree)[0]):
        return tree
    running = {id(leaf) for scope in _running for leaf in scope.leaves}

    def one(t):
        if not isinstance(t, Tensor) or not t.requires_grad:
            return t
        _, leaves, _ = walk([t])
        if all(_made.get(id(x)) is x and id(x) not in running for x in leaves):
            return t.detach()
        return t

    return tree_map(one, tree)


def autograd_grad_or_zeros(outputs, inputs, grad_outputs=None, retain_graph=None,
                           create_graph=True) -> tuple:
    """autograd.grad over the outputs that require grad; zeros for an input none reaches."""
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs:
        return tuple(zeros_like(x) for x in inputs)
    outs, gouts = zip(*pairs)
    grads = autograd_grad(list(outs), list(inputs), list(gouts), retain_graph=retain_graph,
                          create_graph=create_graph, allow_unused=True)
    return tuple(zeros_like(x) if g is None else g for g, x in zip(grads, inputs))


# ------------------------------------------------------------------------------ argnums
def _wrap_argnum(argnum, num_args: int) -> int:
    if not isinstance(argnum, int) or isinstance(argnum, bool):
        raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
    if -num_args <= argnum < num_args:
        return argnum % num_args
    raise RuntimeError(f"Got argnum={argnum}, but only {num_args} positional inputs")


def slice_argnums(args: tuple, argnums, as_tuple: bool = True):
    """The arguments `argnums` selects: (args[i],) or args[i] for an int, a tuple for a tuple."""
    if not isinstance(argnums, (int, tuple)):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    if isinstance(argnums, int):
        i = _wrap_argnum(argnums, len(args))
        return (args[i],) if as_tuple else args[i]
    if len(argnums) == 0:
        raise RuntimeError("argnums must be non-empty")
    wrapped = tuple(_wrap_argnum(a, len(args)) for a in argnums)
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return tuple(args[i] for i in wrapped)


def replace_args(args: tuple, new: tuple, argnums) -> tuple:
    """`args` with the ones slice_argnums(args, argnums) selects replaced by `new`, in order."""
    if isinstance(argnums, int):
        i = _wrap_argnum(argnums, len(args))
        return tuple(new[0] if k == i else a for k, a in enumerate(args))
    index = {_wrap_argnum(a, len(args)): k for k, a in enumerate(argnums)}
    return tuple(new[index[k]] if k in index else a for k, a in enumerate(args))


def track_argnums(scope: Scope, args: tuple, argnums) -> tuple:
    """(args with the selected ones tracked, the tracked ones: args[i] for an int argnums)."""
    if argnums is None:
        diff = tree_map(scope.track, args)
        return diff, diff
    diff = tree_map(scope.track, slice_argnums(args, argnums, as_tuple=False))
    return replace_args(args, diff if isinstance(argnums, tuple) else (diff,), argnums), diff


def basis(tensors: list):
    """The standard basis of the space of all `tensors` together, one vector at a time.

    Vector k is a list of tensors shaped like `tensors`: zeros except a 1 at flat position k
    of their concatenation. Jacobians are built from one vjp or jvp per basis vector.
    """
    for j, t in enumerate(tensors):
        for k in range(t.numel()):
            vector = [np.zeros(x.array.shape, x.array.dtype) for x in tensors]
            vector[j].reshape(-1)[k] = 1
            yield [Tensor._make(v, None, 0, False) for v in vector]


def split_aux(out, api: str):
    """(output, aux) from f's result when has_aux=True, with torch's error otherwise."""
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) "
                           "if has_aux is True")
    for leaf in tree_flatten(out[1])[0]:  # aux: Tensors, nested in tuples, lists and dicts
        if not isinstance(leaf, Tensor):
            raise RuntimeError(f"Expected tensors, got unsupported type {type(leaf)}")
    return out


def check_outputs(flat_out: list, api: str) -> list:
    """f's flattened outputs, with torch's error where f returned nothing or a non-Tensor."""
    if len(flat_out) < 1 or (len(flat_out) == 1 and flat_out[0] is None):
        raise RuntimeError(f"{api}: Expected f to be a function that has non-empty output "
                           f"(got output = {flat_out})")
    for o in flat_out:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got "
                               f"unsupported type {type(o)}")
    return flat_out
