"""Reverse-mode transforms: vjp, grad, grad_and_value, jacrev (as torch.func's).

For f: R^n -> R^m at x, reverse mode gives the vector-Jacobian product u^T J_f(x) (one
backward pass per cotangent u). grad is the case m = 1, u = 1: the gradient. jacrev stacks
the m products with the standard basis vectors e_1 .. e_m: the rows of J.
"""

from __future__ import annotations

import functools

from chainrule.autograd.grad_mode import enable_grad, is_grad_enabled
from chainrule.func._pytree import spec_str, tree_flatten, tree_unflatten
from chainrule.func._scope import (
    Scope,
    autograd_grad_or_zeros,
    basis,
    check_outputs,
    plain,
    slice_argnums,
    split_aux,
    track_argnums,
)
from chainrule.functions import split, stack
from chainrule.tensor import Tensor

VJP = "vjp(f, *primals)"


def vjp(func, *primals, has_aux: bool = False):
    """(f(*primals), vjp_fn[, aux]): vjp_fn(u) is u^T J_f at primals, one entry per primal.

    vjp_fn(cotangents, retain_graph=True, create_graph=None) takes cotangents nested as f's
    output; create_graph defaults to whether grad mode is on when vjp_fn is called.
    """
    out, vjp_fn, aux = _vjp(func, primals, None, has_aux)
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def _vjp(func, primals: tuple, argnums, has_aux: bool):
    """vjp with respect to the arguments argnums selects (None: all of them)."""
    with Scope() as scope, enable_grad():
        args, diff = track_argnums(scope, primals, argnums)
        out = func(*args)
        aux = None
        if has_aux:
            out, aux = split_aux(out, VJP)
        flat_out, out_spec = tree_flatten(out)
        _check_outputs(flat_out)
    flat_diff, diff_spec = tree_flatten(diff)

    def vjp_fn(cotangents, retain_graph: bool = True, create_graph: bool | None = None):
        if create_graph is None:
            create_graph = is_grad_enabled()
        flat_ct, ct_spec = tree_flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure "
                f"of outputs to the function. cotangents: {spec_str(ct_spec)}, primal output: "
                f"{spec_str(out_spec)}")
        grads = autograd_grad_or_zeros(flat_out, flat_diff, flat_ct, retain_graph,
                                       create_graph)
        return plain(tree_unflatten(grads, diff_spec))

    return plain(out), vjp_fn, plain(aux)


def _check_outputs(flat_out: list) -> None:
    for o in check_outputs(flat_out, VJP):
        if o.array.dtype.kind not in "fc":
            raise RuntimeError("vjp(f, ...): All outputs of f must be floating-point or complex "
                               f"Tensors, got Tensor with dtype {o.dtype}")


def grad_and_value(func, argnums=0, has_aux: bool = False):
    """A function returning (grad, value): value = f(*args), grad = d value / d args[argnums].

    f must return a scalar Tensor (or (scalar, aux) with has_aux: then the value part is
    (value, aux)). argnums may be an int or a tuple (the gradient is then a tuple); each
    selected argument may be a nest of Tensors (a dict of parameters: a dict of gradients).
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return _grad_and_value(func, argnums, has_aux, args, kwargs)

    return wrapper


def _grad_and_value(func, argnums, has_aux: bool, args: tuple, kwargs: dict):
    api = "grad_and_value(f)(*args)"
    with Scope() as scope, enable_grad():
        args, diff = track_argnums(scope, args, argnums)
        out = func(*args, **kwargs)
        aux = None
        if has_aux:
            out, aux = split_aux(out, api)
        if not isinstance(out, Tensor):
            raise RuntimeError(f"{api}: Expected f(*args) to return a Tensor, got {type(out)}")
        if out.dim() != 0:
            raise RuntimeError(
                f"{api}: Expected f(*args) to return a scalar Tensor, got tensor with "
                f"{out.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?")
        flat_diff, spec = tree_flatten(diff)
        grads = tree_unflatten(autograd_grad_or_zeros([out], flat_diff), spec)
    return plain((grads, (out, aux)) if has_aux else (grads, out))


def grad(func, argnums=0, has_aux: bool = False):
    """A function returning d f(*args) / d args[argnums] (with aux: (grad, aux)).

    The gradient is taken with create_graph=True, so grad composes: grad(grad(f)) is f''.
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = _grad_and_value(func, argnums, has_aux, args, kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def jacrev(func, argnums=0, *, has_aux: bool = False, chunk_size: int | None = None):
    """A function returning the Jacobian of f with respect to args[argnums], row by row.

    Row k of J is e_k^T J: one vjp per entry of f's output (all outputs together), so the
    cost grows with the output's size. The result is nested as output x argnums:
    jac[i][j] has shape out_i.shape + arg_j.shape. PyTorch vectorizes the vjps with vmap
    (in chunks of chunk_size); here they run one after another in a loop, so chunk_size is
    checked but does not change the work (the values are the same).
    """
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args):
        out, vjp_fn, aux = _vjp(func, args, argnums, has_aux)
        flat_out, out_spec = tree_flatten(out)
        flat_primals, primals_spec = tree_flatten(slice_argnums(args, argnums))
        rows = [tree_flatten(vjp_fn(tree_unflatten(e, out_spec)))[0] for e in basis(flat_out)]
        per_output = _rows_to_blocks(rows, flat_out, flat_primals)
        nested = [tree_unflatten(blocks, primals_spec) for blocks in per_output]
        if isinstance(argnums, int):
            nested = [n[0] for n in nested]
        jac = tree_unflatten(nested, out_spec)
        return (jac, aux) if has_aux else jac

    return wrapper


def _rows_to_blocks(rows: list, outs: list, primals: list) -> list:
    """rows[k][j] = d(flat output entry k)/d primal j  ->  blocks[i][j]: out_i x primal_j."""
    numels = [o.numel() for o in outs]
    blocks = [[None] * len(primals) for _ in outs]
    for j, p in enumerate(primals):
        full = stack([r[j] for r in rows]) if rows else p.new_zeros((0, *p.shape))
        for i, (piece, o) in enumerate(zip(split(full, numels), outs)):
            blocks[i][j] = piece.reshape(tuple(o.shape) + tuple(p.shape))
    return blocks
