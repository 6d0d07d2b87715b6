"""chainrule.func's forward-mode transforms (jvp, jacfwd, hessian) and compositions vs torch.func.

These run the ops' jvp rules: every function here goes through forward mode.
"""

from __future__ import annotations

import re

import pytest

import chainrule
from chainrule import func as cfunc
from tests._torch import torch
from tests.func._helpers import arrays, check, tensors

A = arrays(3, (3,), (3,), (2, 3))


def two_outputs(x, y, w):
    return (w @ (x * y)).sin(), (x.exp() * y).sum()


def scalar(x, y, w):
    """Second derivatives through sin, cos, products and matmul."""
    return ((w @ (x * y).sin()).cos() ** 2).sum() + (x * x * y).sum()


def test_jvp_several_inputs_and_outputs():
    def run(lib):
        return lib.func.jvp(two_outputs, tuple(tensors(lib, A)),
                            tuple(tensors(lib, arrays(4, (3,), (3,), (2, 3)))))
    ours, _ = check(run)
    assert not ours[1][0].requires_grad


def test_jvp_has_aux_and_pytree_primals():
    def run(lib):
        def f(p):
            return p["x"].sin() * p["y"][0], {"aux": p["x"] * 2}
        p = {"x": lib.tensor(A[0]), "y": [lib.tensor(A[1])]}
        t = {"x": lib.tensor(A[1]), "y": [lib.tensor(A[0])]}
        return lib.func.jvp(f, (p,), (t,), has_aux=True)
    check(run)


def test_jvp_of_an_output_independent_of_the_inputs():
    def run(lib):
        x = lib.tensor(A[0])
        return lib.func.jvp(lambda x: (x.sin(), lib.ones(2, dtype=lib.float64)), (x,), (x,))
    check(run)
    message = "The output of f is independent of the inputs. This is not allowed with strict=True."
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match=re.escape(message)):
            lib.func.jvp(lambda x, lib=lib: lib.ones(2), (lib.ones(2),), (lib.ones(2),),
                         strict=True)


@pytest.mark.parametrize("call, message", [
    (lambda lib: lib.func.jvp(lambda x: x, lib.ones(2), (lib.ones(2),)),
     "Expected primals to be a tuple. E.g. it should be valid to call f(*primals)."),
    (lambda lib: lib.func.jvp(lambda x: x, (lib.ones(2),), [lib.ones(2)]),
     "Expected primals and tangents to have the same python structure."),
    (lambda lib: lib.func.jvp(lambda x: x, (), ()),
     "Expected primals to contain at least one Tensor."),
    (lambda lib: lib.func.jvp(lambda x: x, (lib.ones(2),), (1.0,)),
     "Expected tangents to only contain Tensors"),
    (lambda lib: lib.func.jvp(lambda x: x, (lib.ones(2),), (lib.ones(2),), has_aux=True),
     "output of function f should be a tuple: (output, aux) if has_aux is True"),
])
def test_jvp_errors_as_torch(call, message):
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match=re.escape(message)):
            call(lib)


@pytest.mark.parametrize("argnums", [0, 1, (0, 2), (2, 1)])
def test_jacfwd_several_outputs_and_argnums(argnums):
    check(lambda lib: lib.func.jacfwd(two_outputs, argnums)(*tensors(lib, A)))


def test_jacfwd_has_aux_equals_jacrev():
    def run(lib):
        def f(x, w):
            return {"h": (w @ x).sin(), "s": x.sum() * w}, x.max()
        x, w = lib.tensor(A[0]), lib.tensor(A[2])
        fwd = lib.func.jacfwd(f, (0, 1), has_aux=True)(x, w)
        rev = lib.func.jacrev(f, (0, 1), has_aux=True)(x, w)
        return fwd, rev
    ours, _ = check(run)
    chainrule.testing.assert_close(ours[0][0]["h"][1], ours[1][0]["h"][1])
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        cfunc.jacfwd(lambda x: x, randomness="sometimes")(chainrule.ones(2))


@pytest.mark.parametrize("argnums", [0, (0, 2)])
def test_hessian_forward_over_reverse(argnums):
    check(lambda lib: lib.func.hessian(scalar, argnums)(*tensors(lib, A)))


def test_jvp_of_grad_is_a_hessian_vector_product():
    def run(lib):
        x, y, w = tensors(lib, A)
        v = lib.tensor(A[1])
        _, hv = lib.func.jvp(lib.func.grad(lambda x: scalar(x, y, w)), (x,), (v,))
        return hv, lib.func.hessian(scalar)(x, y, w) @ v
    ours, _ = check(run)
    chainrule.testing.assert_close(ours[0], ours[1])


def test_grad_of_jvp_reverse_over_forward():
    def run(lib):
        y, w = lib.tensor(A[1]), lib.tensor(A[2])
        v = lib.tensor(A[0])
        return lib.func.grad(lambda x: lib.func.jvp(lambda x: scalar(x, y, w), (x,), (v,))[1])(
            lib.tensor(A[0]))
    check(run)


def test_jvp_of_jvp_second_directional_derivative():
    def run(lib):
        x, u, v = tensors(lib, arrays(5, (3,), (3,), (3,)))

        def df_u(x):
            return lib.func.jvp(lambda x: (x.sin() * x * x).sum(), (x,), (u,))[1]
        return lib.func.jvp(df_u, (x,), (v,))
    check(run)


def test_jacfwd_of_jacfwd_and_jacfwd_through_a_module():
    def run(lib):
        lib.manual_seed(0)
        lin = lib.nn.Linear(3, 2).double()
        params = {"weight": lib.tensor(A[2]), "bias": lib.tensor(A[0][:2])}

        def f(params, x):
            return lib.func.functional_call(lin, params, (x,)).sin()
        return (lib.func.jacfwd(lib.func.jacfwd(lambda x: x.sin() * x.sum()))(lib.tensor(A[0])),
                lib.func.jacfwd(f)(params, lib.tensor(A[1])))
    check(run)


def test_hessian_through_ops_whose_backward_reads_their_saved_output():
    # exp, tanh and sigmoid save their output for backward: forward-over-reverse needs that
    # saved output's tangent too
    def f(x):
        return (x.exp() * x.tanh()).sum() + x.sigmoid().sum()
    check(lambda lib: (lib.func.hessian(f)(lib.tensor(A[0])),
                       lib.func.jvp(lib.func.grad(f), (lib.tensor(A[0]),), (lib.tensor(A[1]),))))
