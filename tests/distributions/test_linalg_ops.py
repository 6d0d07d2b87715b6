"""The Cholesky and triangular-solve ops behind MultivariateNormal: values, gradients, second
derivatives (the backwards are chainrule ops), and the error for a non-positive-definite input."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd.gradcheck import gradcheck, gradgradcheck
from chainrule.distributions._linalg import cholesky, solve_triangular
from tests._torch import torch

rng = np.random.default_rng(2)
M = rng.standard_normal((2, 3, 3))


def _spd(x):
    return x @ x.mT + 3 * cr.eye(3, dtype=x.dtype)


def test_cholesky_value_and_gradient_match_torch():
    a = M @ M.transpose(0, 2, 1) + 3 * np.eye(3)
    g = rng.standard_normal((2, 3, 3))
    ours, theirs = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    lo, lt = cholesky(ours), torch.linalg.cholesky(theirs)
    np.testing.assert_allclose(lo.detach().numpy(), lt.detach().numpy(), rtol=1e-12)
    (lo * cr.tensor(g)).sum().backward()
    (lt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_cholesky_gradcheck_and_gradgradcheck():
    x = cr.tensor(M, requires_grad=True)
    assert gradcheck(lambda x: cholesky(_spd(x)), (x,))
    assert gradgradcheck(lambda x: cholesky(_spd(x)), (x,))


@pytest.mark.parametrize("upper", [False, True])
def test_solve_triangular_matches_torch_and_gradchecks(upper):
    a = np.tril(M[0]) + 3 * np.eye(3) if not upper else np.triu(M[0]) + 3 * np.eye(3)
    b = rng.standard_normal((2, 3, 4))  # batch dims broadcast against a's
    g = rng.standard_normal((2, 3, 4))
    ca, cb = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    x, tx = solve_triangular(ca, cb, upper=upper), torch.linalg.solve_triangular(ta, tb,
                                                                               upper=upper)
    np.testing.assert_allclose(x.detach().numpy(), tx.detach().numpy(), rtol=1e-12)
    (x * cr.tensor(g)).sum().backward()
    (tx * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(ca.grad.numpy(), ta.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cb.grad.numpy(), tb.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert gradgradcheck(lambda a, b: solve_triangular(a, b, upper=upper), (ca, cb))


def test_cholesky_of_a_matrix_that_is_not_positive_definite():
    with pytest.raises(RuntimeError, match="not positive-definite"):
        cholesky(cr.tensor([[1.0, 2.0], [2.0, 1.0]]))


def test_submodules_resolve_from_the_top_level():
    import chainrule.distributions
    import chainrule.testing

    assert cr.distributions is chainrule.distributions
    assert cr.testing is chainrule.testing
    assert cr.distributions.Normal(0.0, 1.0).event_shape == ()
