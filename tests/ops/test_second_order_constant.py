"""Backward rules whose factor is piecewise constant (relu's mask, maximum's weights, ...).

Two things PyTorch does that such rules must match: (1) under create_graph the gradient of
relu and leaky_relu requires grad even when nothing else in it does (PyTorch's rule reads the
op's output), with a zero second derivative, while clamp's, maximum's and where's do not; (2)
inside a dual level a plain backward (no create_graph) still carries the tangents of the
values it reads, so the gradient flowing through these rules has the right tangent.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

RNG = np.random.default_rng(7)
X = RNG.standard_normal(6)
X[0] = 0.0  # a kink exactly at 0
W = RNG.standard_normal(6)
V = RNG.standard_normal(6)

OPS = {
    "relu": lambda lib, h: lib.relu(h),
    "leaky_relu": lambda lib, h: lib.nn.functional.leaky_relu(h, 0.1),
    "clamp": lambda lib, h: h.clamp(-0.3, 0.4),
    "maximum": lambda lib, h: lib.maximum(h, lib.tensor(W) * 0.5),
    "minimum": lambda lib, h: lib.minimum(h, lib.tensor(W) * 0.5),
    "where": lambda lib, h: lib.where(h > 0, h, h * 3.0),
    "sign": lambda lib, h: h.sign(),
    "abs": lambda lib, h: h.abs(),
    "mse_loss": lambda lib, h: lib.nn.functional.mse_loss(h, lib.tensor(W), reduction="none"),
}


def _np(t, like=None):
    """A Tensor's values (PyTorch's lazy zero tensors included); None: zeros like `like`."""
    if t is None:
        return np.zeros(like.shape)
    return t.numpy(force=True) if isinstance(t, torch.Tensor) else t.detach().numpy()


def _grad_twice(lib, op: str):
    """The gradient of sum(op(x * w)) under create_graph, and whether it requires grad; if it
    does, the gradient of its sum (the second derivative, summed)."""
    x = lib.tensor(X, requires_grad=True)
    (g,) = lib.autograd.grad(OPS[op](lib, x * lib.tensor(W)).sum(), x, create_graph=True)
    second = None
    if g.requires_grad:
        (second,) = lib.autograd.grad(g.sum(), x, allow_unused=True)
    return g, second


@pytest.mark.parametrize("op", sorted(OPS))
def test_create_graph_gradient_requires_grad_as_pytorch(op):
    ours, ours2 = _grad_twice(chainrule, op)
    ref, ref2 = _grad_twice(torch, op)
    np.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), rtol=1e-12)
    assert ours.requires_grad == ref.requires_grad, op
    if ref2 is not None:  # the next grad works and gives PyTorch's second derivative
        np.testing.assert_allclose(_np(ours2, X), _np(ref2), rtol=1e-12, atol=1e-15)


def test_relu_with_constant_weights_has_a_zero_second_derivative():
    """A network that is linear in x but for relu: the Hessian is 0, and asking for it works."""
    x = chainrule.tensor(X, requires_grad=True)
    w = chainrule.tensor(W)
    (g,) = chainrule.autograd.grad((chainrule.relu(x * w) * 2.0).sum(), x, create_graph=True)
    assert g.requires_grad
    (h,) = chainrule.autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(h.numpy(), np.zeros(6))
    np.testing.assert_array_equal(g.detach().numpy(), 2.0 * W * (X * W > 0))


def _tangent_of_passing_gradient(lib, op: str):
    """Forward-over-reverse through a plain backward: the tangent of the gradient that reaches
    h = x * 1 from sum(op(h) * x), caught by a hook on h (x has the tangent V)."""
    fwad = lib.autograd.forward_ad
    caught = {}
    x = lib.tensor(X, requires_grad=True)
    with fwad.dual_level():
        xd = fwad.make_dual(x, lib.tensor(V))
        h = xd * 1.0
        h.register_hook(lambda g: caught.setdefault("g", g))
        (OPS[op](lib, h) * xd).sum().backward()
        g = caught["g"]
        return g.detach().numpy().copy(), fwad.unpack_dual(g).tangent


@pytest.mark.parametrize("op", sorted(OPS))
def test_tangent_flows_through_a_plain_backward(op):
    """The rule helpers (_scale, _mul, _sub) run the op, not bare NumPy, while a dual level is
    active: the upstream gradient's tangent (here from x) reaches the input's gradient."""
    ours, t_ours = _tangent_of_passing_gradient(chainrule, op)
    ref, t_ref = _tangent_of_passing_gradient(torch, op)
    np.testing.assert_allclose(ours, ref, rtol=1e-12)
    assert t_ours is not None, f"{op}: the gradient lost its tangent in a plain backward"
    # (PyTorch gives no tangent where it is zero: sign's zero gradient)
    np.testing.assert_allclose(_np(t_ours), _np(t_ref, X), rtol=1e-12, atol=1e-15)
