"""autograd.grad's is_grads_batched and ctx.set_materialize_grads, against torch."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule
from chainrule import autograd
from tests._torch import torch


def f(lib, x, w):
    return (x @ w).tanh(), (x * x).sum()


def test_is_grads_batched_stacks_one_vjp_per_batch_entry():
    rng = np.random.default_rng(0)
    xa, wa = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    ga, gb = rng.standard_normal((5, 3, 2)), rng.standard_normal((5,))
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(xa, requires_grad=True)
        w = lib.tensor(wa, requires_grad=True)
        y, s = f(lib, x, w)
        results.append(lib.autograd.grad((y, s), (x, w), (lib.tensor(ga), lib.tensor(gb)),
                                          is_grads_batched=True))
    for ours, ref in zip(*results):
        assert ours.shape == tuple(ref.shape)
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)


def test_is_grads_batched_with_create_graph_gives_second_derivatives():
    for lib in (chainrule, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x ** 3
        (g,) = lib.autograd.grad(y, x, lib.eye(2, dtype=lib.float64), is_grads_batched=True,
                                 create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        assert g.tolist() == [[3.0, 0.0], [0.0, 12.0]] and h.tolist() == [6.0, 12.0]


def test_is_grads_batched_needs_a_batch_dimension():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leading batch dimension"):
        autograd.grad((x * 2).sum(), x, chainrule.tensor(1.0), is_grads_batched=True)


class TwoOutputs:
    """A user Function with two outputs whose backward reports what it received."""

    @staticmethod
    def make(lib, materialize):
        seen = []

        class Split(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(materialize)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, ga, gb):
                seen.append((ga is None, gb is None))
                total = ga * 2 if ga is not None else 0
                return total + (gb * 3 if gb is not None else 0)

        return Split, seen


@pytest.mark.parametrize("materialize", [True, False])
def test_set_materialize_grads_decides_between_zeros_and_none(materialize):
    outcomes = []
    for lib in (chainrule, torch):
        Split, seen = TwoOutputs.make(lib, materialize)
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a, _ = Split.apply(x)
        a.sum().backward()
        outcomes.append((seen, x.grad.tolist()))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == [(False, not materialize)]
