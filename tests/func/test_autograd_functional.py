"""chainrule.autograd.functional against torch.autograd.functional."""

from __future__ import annotations

import re

import pytest

import chainrule
from tests._torch import torch
from tests.func._helpers import arrays, check, tensors

A = arrays(2, (3,), (2, 3))


def two_in_two_out(x, w):
    return (w @ x).tanh(), (x * x.sin()).sum() * w


def scalar(x, w):
    return ((w @ x.exp()).sin() ** 2).sum() + (w * w).sum() * x.sum()


def single(x):
    return x.sin() * x.exp()


def F(lib):
    return lib.autograd.functional


@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp_tuple_and_single(create_graph):
    def run(lib):
        x, w = tensors(lib, A)
        v = (lib.tensor(A[0][:2]), lib.tensor(A[1]))
        res = F(lib).vjp(two_in_two_out, (x, w), v, create_graph=create_graph)
        one = F(lib).vjp(single, x, lib.tensor(A[0]), create_graph=create_graph)
        no_v = F(lib).vjp(lambda x: x.sum(), x)
        assert res[1][0].requires_grad is create_graph
        return res, one, no_v
    check(run)


def test_jvp_by_the_double_backward_trick():
    def run(lib):
        x, w = tensors(lib, A)
        res = F(lib).jvp(two_in_two_out, (x, w), (lib.tensor(A[0]), lib.tensor(A[1])))
        return res, F(lib).jvp(single, x, lib.tensor(A[0])), F(lib).jvp(single, x[:1])
    check(run)


@pytest.mark.parametrize("vectorize", [False, True])
def test_jacobian_reverse_mode(vectorize):
    def run(lib):
        x, w = tensors(lib, A)
        return (F(lib).jacobian(two_in_two_out, (x, w), vectorize=vectorize),
                F(lib).jacobian(single, x, vectorize=vectorize),
                F(lib).jacobian(lambda x: (x.sum(), x * 2), x, vectorize=vectorize))
    check(run)


def test_jacobian_create_graph_is_differentiable():
    def run(lib):
        x = lib.tensor(A[0], requires_grad=True)
        jac = F(lib).jacobian(single, x, create_graph=True)
        assert jac.requires_grad
        (g,) = lib.autograd.grad(jac.sum(), x)
        return jac, g
    check(run)


def test_hessian_vhp_hvp():
    def run(lib):
        x, w = tensors(lib, A)
        v = (lib.tensor(A[0]) * 2, lib.tensor(A[1]) * 3)
        return (F(lib).hessian(scalar, (x, w)), F(lib).hessian(lambda x: scalar(x, w), x),
                F(lib).vhp(scalar, (x, w), v), F(lib).hvp(scalar, (x, w), v),
                F(lib).vhp(lambda x: scalar(x, w), x, v[0]),
                F(lib).hvp(lambda x: scalar(x, w), x, v[0], create_graph=True))
    check(run)


def test_independent_input_gives_zeros_or_a_strict_error():
    def f(x, y):
        return x * 2

    def run(lib):
        x, y = lib.tensor(A[0]), lib.tensor(A[0])
        return (F(lib).vjp(f, (x, y), lib.ones(3, dtype=lib.float64)),
                F(lib).jacobian(f, (x, y)), F(lib).hessian(lambda x, y: (x * x).sum(), (x, y)))
    check(run)


STRICT = [
    (lambda F, x: F.vjp(lambda x, y: x * 2, (x, x), x, strict=True),
     "The output of the user-provided function is independent of input 1. This is not allowed "
     "in strict mode."),
    (lambda F, x: F.vjp(lambda x: x.detach(), x, x, strict=True),
     "Output 0 of the user-provided function does not require gradients."),
    (lambda F, x: F.jacobian(lambda x, y: x * 2, (x, x), strict=True),
     "Output 0 of the user-provided function is independent of input 1. This is not allowed "
     "in strict mode."),
    (lambda F, x: F.jvp(lambda x, y: x * 2, (x, x), (x, x), strict=True),
     "The output of the user-provided function is independent of input 1."),
    (lambda F, x: F.vjp(lambda x: x * 2, x, x, strict=True, create_graph=True),
     "The jacobian of the user-provided function is independent of input 0. This is not "
     "allowed in strict mode when create_graph=True."),
    (lambda F, x: F.hessian(lambda x: x.sum(), x, strict=True),
     "jacobian of the user-provided function with respect to input 0 is independent of the "
     "input"),
    (lambda F, x: F.hvp(lambda x: (x * 2).sum(), x, x, strict=True),
     "jacobian of the user-provided function with respect to input 0 is independent"),
    (lambda F, x: F.jacobian(single, x, strict=True, vectorize=True),
     "`strict=True` and `vectorized=True` are not supported together"),
    (lambda F, x: F.jacobian(single, x, strict=True, strategy="forward-mode"),
     '`strict=True` and `strategy="forward-mode"` are not supported together (yet).'),
]


@pytest.mark.parametrize("call, message", STRICT)
def test_strict_mode_errors_as_torch(call, message):
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match=re.escape(message)):
            call(F(lib), lib.tensor(A[0]))


ARGS = [
    (lambda F, x: F.vjp(single, x), RuntimeError, "The vector v can only be None if the "
     "user-provided function returns a single Tensor with a single element."),
    (lambda F, x: F.jvp(single, x), RuntimeError, "The vector v can only be None if the input to "
     "the user-provided function is a single Tensor with a single element."),
    (lambda F, x: F.vjp(single, x, x[:2]), RuntimeError, "v has invalid size: should be "),
    (lambda F, x: F.vjp(lambda x, y: (x, y), (x, x), (x,)), RuntimeError,
     "v is a tuple of invalid length: should be 2 but got 1."),
    (lambda F, x: F.vjp(single, [x]), TypeError, "The inputs given to vjp must be either a Tensor "
     "or a tuple of Tensors but the given inputs has type <class 'list'>."),
    (lambda F, x: F.hessian(single, x), RuntimeError, "The Tensor returned by the function given "
     "to hessian should contain a single element"),
    (lambda F, x: F.vhp(lambda x: (x, x), x, x), RuntimeError, "The function given to vhp should "
     "return a single Tensor"),
    (lambda F, x: F.jacobian(single, x, strategy="sideways"), AssertionError,
     'Expected strategy to be either "forward-mode" or "reverse-mode".'),
    (lambda F, x: F.jacobian(single, x, strategy="forward-mode"), NotImplementedError,
     "is only implemented for `vectorize=True`"),
    (lambda F, x: F.jacobian(single, x, create_graph=True, strategy="forward-mode"),
     NotImplementedError, '`create_graph=True` and `strategy="forward-mode"` are not supported'),
]


@pytest.mark.parametrize("call, error, message", ARGS)
def test_argument_errors_as_torch(call, error, message):
    for lib in (chainrule, torch):
        # (torch's message lacks the space in "is only")
        with pytest.raises(error, match=re.escape(message).replace("is\\ only", "is ?only")):
            call(F(lib), lib.tensor(A[0]))


# forward mode: these use the ops' jvp rules
def test_jacobian_forward_mode():
    def run(lib):
        x, w = tensors(lib, A)
        return (F(lib).jacobian(two_in_two_out, (x, w), vectorize=True, strategy="forward-mode"),
                F(lib).jacobian(single, x, vectorize=True, strategy="forward-mode"))
    check(run)


def test_hessian_with_a_forward_mode_outer_jacobian():
    def f(x, w):
        return ((w @ x.sin()).cos() ** 2).sum() + (w * w).sum() * x.sum()

    def run(lib):
        x, w = tensors(lib, A)
        return F(lib).hessian(f, (x, w), vectorize=True, outer_jacobian_strategy="forward-mode")
    check(run)
