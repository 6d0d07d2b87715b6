"""Forward-mode transforms: jvp, jacfwd, hessian (as torch.func's).

For f: R^n -> R^m at x, forward mode gives the Jacobian-vector product J_f(x) v: one pass
of f on dual inputs x + v eps (chainrule.autograd.forward_ad), each op pushing the tangent
along. jacfwd stacks the n products with the basis vectors e_1 .. e_n: the columns of J.
"""

from __future__ import annotations

import functools

from chainrule.autograd import forward_ad
from chainrule.creation import zeros_like
from chainrule.func._pytree import spec_str, tree_flatten, tree_unflatten
from chainrule.func._scope import (
    basis,
    check_outputs,
    plain,
    replace_args,
    slice_argnums,
    split_aux,
)
from chainrule.func.reverse import jacrev
from chainrule.functions import split, stack
from chainrule.tensor import Tensor

JVP = "jvp(f, primals, tangents)"


def jvp(func, primals, tangents, *, strict: bool = False, has_aux: bool = False):
    """(f(*primals), J_f(primals) tangents[, aux]), tangents nested as primals.

    strict=True: an error when an output does not depend on the inputs (its tangent would be
    zeros). Runs in a dual level of its own, so jvps nest (jvp of jvp: second directional
    derivatives) and compose with grad (jvp of grad: a Hessian-vector product).
    """
    return _jvp(func, primals, tangents, None, strict, has_aux)


def _jvp(func, primals, tangents, argnums, strict: bool, has_aux: bool):
    """jvp with respect to the arguments argnums selects (None: all); tangents match them."""
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{JVP}: Expected primals to be a tuple. E.g. it should be valid to "
                           "call f(*primals).")
    diff = primals if argnums is None else slice_argnums(primals, argnums)
    flat_p, p_spec = tree_flatten(diff)
    flat_t, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(
            f"{JVP}: Expected primals and tangents to have the same python structure. For "
            "example, if primals is a tuple of 3 tensors, tangents also must be. Got primals "
            f"with structure {spec_str(p_spec)} and tangents with structure {spec_str(t_spec)}")
    _check_tensors(flat_p, "primals")
    _check_tensors(flat_t, "tangents")
    with forward_ad.dual_level() as level:
        duals = tree_unflatten([forward_ad.make_dual(p, t) for p, t in zip(flat_p, flat_t)],
                               p_spec)
        out = func(*(duals if argnums is None else replace_args(primals, duals, argnums)))
        aux = None
        if has_aux:
            out, aux = split_aux(out, JVP)
        flat_out, spec = tree_flatten(out)
        flat_t = [_tangent(o, level, strict) for o in check_outputs(flat_out, JVP)]
    # the outputs are the primals: leaving the level dropped its tangents from them
    result = (out, tree_unflatten(flat_t, spec))
    return plain((*result, aux) if has_aux else result)


def _check_tensors(flat: list, argname: str) -> None:
    if not flat:
        raise RuntimeError(f"{JVP}: Expected {argname} to contain at least one Tensor.")
    for x in flat:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"{JVP}: Expected {argname} to only contain Tensors, got "
                               f"{type(x)}")


def _tangent(dual, level: int, strict: bool):
    """The tangent of one output; zeros for an output that no input's tangent reaches."""
    tangent = forward_ad.tangent_at(dual, level)
    if tangent is None:
        if strict:
            raise RuntimeError("jvp(f, primals, tangents, strict=True): The output of f is "
                               "independent of the inputs. This is not allowed with "
                               "strict=True.")
        tangent = zeros_like(dual)
    return tangent


def jacfwd(func, argnums=0, has_aux: bool = False, *, randomness: str = "error"):
    """A function returning the Jacobian of f with respect to args[argnums], column by column.

    Column k of J is J e_k: one jvp per entry of the selected arguments (all together), so
    the cost grows with the input's size. Nested as jacrev's: jac[i][j] has shape
    out_i.shape + arg_j.shape. PyTorch vectorizes the jvps with vmap (randomness says how
    random ops behave across the batch); here they run in a loop, one call of f per column,
    so randomness is checked but every value is the same as torch's.
    """
    @functools.wraps(func)
    def wrapper(*args):
        if randomness not in ("error", "different", "same"):
            raise RuntimeError("Only allowed values for randomness are 'error', 'different', "
                               f"or 'same'. Got {randomness}")
        flat_p, p_spec = tree_flatten(slice_argnums(args, argnums))
        columns, aux = [], None
        for e in basis(flat_p):
            result = _jvp(func, args, tree_unflatten(e, p_spec), argnums, False, has_aux)
            flat_t, out_spec = tree_flatten(result[1])
            columns.append(flat_t)
            if has_aux and len(columns) == 1:
                aux = result[2]
        nested = [tree_unflatten(_column_blocks([c[i] for c in columns], o, flat_p), p_spec)
                  for i, o in enumerate(columns[0])]
        if isinstance(argnums, int):
            nested = [n[0] for n in nested]
        jac = tree_unflatten(nested, out_spec)
        return (jac, aux) if has_aux else jac

    return wrapper


def _column_blocks(columns: list, out, primals: list) -> list:
    """The columns d out / d(flat input k), k over all primals -> one block per primal."""
    full = stack(columns, dim=-1)
    pieces = split(full, [p.numel() for p in primals], dim=-1)
    return [piece.reshape(tuple(out.shape) + tuple(p.shape)) for piece, p in
            zip(pieces, primals)]


def hessian(func, argnums=0):
    """A function returning the Hessian of a scalar f: jacfwd(jacrev(f, argnums), argnums).

    Forward-over-reverse: the gradient (reverse mode) is differentiated once more along each
    basis vector (forward mode), H[:, k] = d/d eps grad f(x + eps e_k).
    """
    return jacfwd(jacrev(func, argnums), argnums)
