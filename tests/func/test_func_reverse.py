"""chainrule.func's reverse-mode transforms (grad, grad_and_value, vjp, jacrev) vs torch.func."""

from __future__ import annotations

import re

import pytest

import chainrule
from chainrule import func as cfunc
from tests._torch import torch
from tests.func._helpers import arrays, check, tensors

A = arrays(0, (3,), (3,), (2, 3))


def loss(lib, x, y, w):
    """A scalar of three inputs: each enters nonlinearly."""
    return ((w @ (x * y).sin()).tanh() ** 2).sum() + (x.exp() * y).sum()


def two_outputs(lib, x, y, w):
    return (w @ x).sin(), (x * y).sum()


@pytest.mark.parametrize("argnums", [0, 1, 2, -1, (0, 2), (2, 0, 1)])
def test_grad_with_argnums_int_and_tuple(argnums):
    check(lambda lib: lib.func.grad(lambda *a: loss(lib, *a), argnums)(*tensors(lib, A)))


def test_grad_and_value_and_has_aux():
    def run(lib):
        def f(x, y, w):
            return loss(lib, x, y, w), {"y": (x * y), "n": [w.sum()]}
        g, (value, aux) = lib.func.grad_and_value(f, (0, 1), has_aux=True)(*tensors(lib, A))
        g2, aux2 = lib.func.grad(f, 1, has_aux=True)(*tensors(lib, A))
        return g, value, aux, g2, aux2
    check(run)


def test_grad_of_a_dict_of_tensors_and_kwargs():
    def run(lib):
        def f(params, x, *, scale):
            return scale * ((params["w"] @ x + params["b"]).tanh()).sum()
        params = {"w": lib.tensor(A[2]), "b": lib.tensor(A[0][:2])}
        return lib.func.grad(f)(params, lib.tensor(A[1]), scale=0.5)
    check(run)


def test_grad_results_are_plain_tensors_and_inputs_untouched():
    x, y, w = tensors(chainrule, A)
    g = cfunc.grad(lambda *a: loss(chainrule, *a))(x, y, w)
    assert not g.requires_grad and g.grad_fn is None
    assert not x.requires_grad and x.grad is None


def test_grad_composes_with_autograd_on_inputs_that_require_grad():
    def run(lib):
        x = lib.tensor(A[0], requires_grad=True)
        g = lib.func.grad(lambda x: (x.sin() * x).sum())(x)
        assert g.requires_grad
        g.sum().backward()
        return g, x.grad
    check(run)


def test_grad_of_grad_is_the_second_derivative():
    def run(lib):
        def f(x):
            return (x.sin() * x ** 3).sum()
        d1 = lib.func.grad(f)
        d2 = lib.func.grad(lambda x: d1(x).sum())
        d3 = lib.func.grad(lambda x: d2(x).sum())
        x = lib.tensor(A[0])
        return d1(x), d2(x), d3(x)
    check(run)


def test_nested_grad_does_not_confuse_the_two_variables():
    # d/dx [x * d/dy (x * y + y)] = d/dx [x * (x + 1)] = 2x + 1; an inner grad that also
    # differentiated the captured x would give a different answer
    def run(lib):
        def outer(x):
            inner = lib.func.grad(lambda y: (x * y + y).sum())(x)
            return (x * inner).sum()
        return lib.func.grad(outer)(lib.tensor(A[0]))
    ours, _ = check(run)
    chainrule.testing.assert_close(ours, 2 * chainrule.tensor(A[0]) + 1)


def test_vjp_with_several_inputs_and_outputs():
    def run(lib):
        out, vjp_fn = lib.func.vjp(lambda *a: two_outputs(lib, *a), *tensors(lib, A))
        u = (lib.tensor(A[0][:2]), lib.tensor(1.5, dtype=lib.float64))
        return out, vjp_fn(u)
    check(run)


def test_vjp_has_aux_and_pytree_primals():
    def run(lib):
        def f(p):
            return p["a"] * p["b"][0], p["a"].sum()
        out, vjp_fn, aux = lib.func.vjp(f, {"a": lib.tensor(A[0]), "b": [lib.tensor(A[1])]},
                                        has_aux=True)
        return out, vjp_fn(lib.tensor(A[1])), aux
    check(run)


def test_vjp_fn_create_graph_gives_a_differentiable_result():
    x = chainrule.tensor(A[0], requires_grad=True)
    _, vjp_fn = cfunc.vjp(lambda x: x ** 3, x)
    (g,) = vjp_fn(chainrule.ones(3, dtype=chainrule.float64), create_graph=True)
    (gg,) = chainrule.autograd.grad(g.sum(), x)
    chainrule.testing.assert_close(gg, 6 * x.detach())


@pytest.mark.parametrize("argnums", [0, (0, 1), (2, 0)])
def test_jacrev_several_outputs_and_argnums(argnums):
    check(lambda lib: lib.func.jacrev(lambda *a: two_outputs(lib, *a), argnums)(
        *tensors(lib, A)))


def test_jacrev_has_aux_chunk_size_and_dict_output():
    def run(lib):
        def f(x, w):
            return {"h": (w @ x).tanh(), "s": x.sum() * w}, x.max()
        return lib.func.jacrev(f, (0, 1), has_aux=True, chunk_size=2)(lib.tensor(A[0]),
                                                                        lib.tensor(A[2]))
    check(run)


def test_jacrev_of_jacrev_is_the_hessian():
    check(lambda lib: lib.func.jacrev(lib.func.jacrev(lambda *a: loss(lib, *a), (0, 2)),
                                      (0, 2))(*tensors(lib, A)))


@pytest.mark.parametrize("call, message", [
    (lambda f: f.grad(lambda x: x * 2)(chainrule.ones(3)), "Expected f(*args) to return a "
                                                          "scalar Tensor, got tensor with 1 dims"),
    (lambda f: f.grad(lambda x: (x, 1))(chainrule.ones(3)), "to return a Tensor, got"),
    (lambda f: f.grad(lambda x: x.sum(), has_aux=True)(chainrule.ones(3)),
     "should be a tuple: (output, aux)"),
    (lambda f: f.grad(lambda x: x.sum(), 1)(chainrule.ones(3)), "Got argnum=1, but only 1 "
                                                                "positional inputs"),
    (lambda f: f.grad(lambda x, y: x.sum(), (0, 0))(chainrule.ones(3), chainrule.ones(3)),
     "argnums elements must be unique"),
    (lambda f: f.grad(lambda x: x.sum(), ())(chainrule.ones(3)), "argnums must be non-empty"),
    (lambda f: f.grad(lambda x: x.sum(), [0])(chainrule.ones(3)), "argnums must be int or "
                                                                  "Tuple"),
    (lambda f: f.vjp(lambda x: (x > 0).long(), chainrule.ones(3)), "must be floating-point"),
    (lambda f: f.vjp(lambda x: x, chainrule.ones(3))[1]((chainrule.ones(3),)),
     "Expected pytree structure of cotangents"),
])
def test_errors_as_torch(call, message):
    for lib in (cfunc, _TorchFuncOnTorchTensors()):
        with pytest.raises(RuntimeError, match=re.escape(message)):
            call(lib)


@pytest.mark.parametrize("aux", [1.0, None, [chainrule.ones(1), 2]])
def test_aux_must_hold_only_tensors(aux):
    for lib in (chainrule, torch):
        a = aux if lib is chainrule or not isinstance(aux, list) else [torch.ones(1), 2]
        with pytest.raises(RuntimeError, match="Expected tensors, got unsupported type"):
            lib.func.grad(lambda x, a=a: ((x * x).sum(), a), has_aux=True)(lib.ones(2))
        with pytest.raises(RuntimeError, match="Expected tensors, got unsupported type"):
            lib.func.vjp(lambda x, a=a: (x * x, a), lib.ones(2), has_aux=True)


def test_value_errors_as_torch():
    for lib in (chainrule, torch):
        with pytest.raises(ValueError, match="Thing passed to transform API must be Tensor"):
            lib.func.grad(lambda x: x)(3.0)
        with pytest.raises(ValueError, match="`chunk_size` should be greater than 0"):
            lib.func.jacrev(lambda x: x, chunk_size=0)


class _TorchFuncOnTorchTensors:
    """torch.func with chainrule tensors swapped for torch ones, so one call list serves both."""

    def __getattr__(self, name):
        transform = getattr(torch.func, name)

        def convert(x):
            return torch.tensor(x.numpy()) if isinstance(x, chainrule.Tensor) else x

        def call(fn, *args, **kwargs):
            if name == "vjp":
                out, vjp_fn = transform(fn, *map(convert, args), **kwargs)
                return out, lambda ct: vjp_fn(tuple(map(convert, ct)))
            wrapped = transform(fn, *args, **kwargs)
            return lambda *a: wrapped(*map(convert, a))
        return call
