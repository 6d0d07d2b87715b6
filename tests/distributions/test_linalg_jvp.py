"""Forward mode through the Cholesky and triangular-solve ops: their jvp rules against
torch.func.jvp, and the tangent of their gradient (forward-over-reverse) against torch."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import forward_ad as fwad
from chainrule.distributions._linalg import cholesky, solve_triangular
from tests._torch import torch

rng = np.random.default_rng(5)


def _spd(n: int = 4, batch: tuple = (2,)) -> np.ndarray:
    m = rng.standard_normal(batch + (n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def _cases():
    """(name, chainrule fn, torch fn, inputs): Cholesky, and solves with either triangle and
    batch axes broadcast from either side."""
    tri = rng.standard_normal((4, 4)) + 4 * np.eye(4)
    b = rng.standard_normal((2, 4, 3))
    out = [("cholesky", cholesky, torch.linalg.cholesky, (_spd(),))]
    for upper in (False, True):
        out.append((f"solve_triangular[upper={upper}]",
                    lambda a, b, u=upper: solve_triangular(a, b, upper=u),
                    lambda a, b, u=upper: torch.linalg.solve_triangular(a, b, upper=u),
                    (tri, b) if upper else (np.stack([tri, tri.T]), b[0])))
    return out


CASES = _cases()


def _ours_jvp(fn, arrays, tangents):
    with fwad.dual_level():
        duals = [fwad.make_dual(cr.tensor(a), cr.tensor(t)) for a, t in zip(arrays, tangents)]
        return fwad.unpack_dual(fn(*duals)).tangent.numpy()


@pytest.mark.parametrize("name, ours, theirs, arrays", CASES, ids=[c[0] for c in CASES])
def test_jvp_matches_torch(name, ours, theirs, arrays):
    tangents = [rng.standard_normal(a.shape) for a in arrays]
    _, ref = torch.func.jvp(theirs, tuple(torch.tensor(a) for a in arrays),
                            tuple(torch.tensor(t) for t in tangents))
    np.testing.assert_allclose(_ours_jvp(ours, arrays, tangents), ref.numpy(), rtol=1e-10,
                               atol=1e-12, err_msg=name)


@pytest.mark.parametrize("name, ours, theirs, arrays", CASES, ids=[c[0] for c in CASES])
def test_tangent_of_the_gradient_matches_torch(name, ours, theirs, arrays):
    """jvp(grad f)(x; v) = H v with f = sum(op(x) * op(x)): the backward's own ops carry the
    tangent (forward-over-reverse)."""
    tangents = [rng.standard_normal(a.shape) for a in arrays]
    n = len(arrays)

    def grads(*xs):
        return torch.func.grad(lambda *a: theirs(*a).square().sum(), argnums=tuple(range(n)))(*xs)

    _, refs = torch.func.jvp(grads, tuple(torch.tensor(a) for a in arrays),
                             tuple(torch.tensor(t) for t in tangents))
    with fwad.dual_level():
        leaves = [cr.tensor(a, requires_grad=True) for a in arrays]
        duals = [fwad.make_dual(x, cr.tensor(t)) for x, t in zip(leaves, tangents)]
        gs = cr.autograd.grad(ours(*duals).square().sum(), leaves, create_graph=True)
        hvs = [fwad.unpack_dual(g).tangent.detach().numpy() for g in gs]
    for k, (hv, ref) in enumerate(zip(hvs, refs)):
        np.testing.assert_allclose(hv, ref.numpy(), rtol=1e-9, atol=1e-10,
                                   err_msg=f"{name}: input {k}")
