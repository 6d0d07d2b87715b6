"""log_prob, entropy, mean, variance, stddev and their gradients against torch.distributions."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.distributions as D
from tests._torch import torch
from tests.distributions._cases import CASES

TD = torch.distributions
IDS = [c[0] for c in CASES]


def _build(case, lib, dists):
    _, params, build, _ = case
    leaves = {k: lib.tensor(v, dtype=lib.float64, requires_grad=True) for k, v in params.items()}
    return build(dists, lib, **leaves), leaves


def _value(case, lib, dist):
    v = case[3]
    if not dist.event_shape and "categorical" in case[0]:
        return lib.tensor(v, dtype=lib.int64)
    return lib.tensor(v, dtype=lib.float64)


def _np(t):
    return t.detach().numpy()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_values_match_torch(case):
    ours, _ = _build(case, cr, D)
    theirs, _ = _build(case, torch, TD)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    np.testing.assert_allclose(_np(ours.log_prob(_value(case, cr, ours))),
                               _np(theirs.log_prob(_value(case, torch, theirs))), rtol=1e-12,
                               atol=1e-13)  # torch loses digits of log sigmoid(30) ~ -9e-14
    for attr in ("mean", "variance", "stddev", "mode"):
        np.testing.assert_allclose(_np(getattr(ours, attr)), _np(getattr(theirs, attr)),
                                   rtol=1e-12, atol=1e-14, err_msg=attr)
    np.testing.assert_allclose(_np(ours.entropy()), _np(theirs.entropy()), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradients_match_torch(case):
    """d/dparams of sum(w1 * log_prob) + sum(w2 * entropy), random weights w1, w2."""
    grads = []
    for lib, dists in ((cr, D), (torch, TD)):
        dist, leaves = _build(case, lib, dists)
        lp, h = dist.log_prob(_value(case, lib, dist)), dist.entropy()
        w1 = lib.tensor(np.random.default_rng(1).standard_normal(tuple(lp.shape)))
        w2 = lib.tensor(np.random.default_rng(2).standard_normal(tuple(h.shape)))
        (lp * w1).sum().add((h * w2).sum()).backward()
        grads.append({k: v.grad.numpy() for k, v in leaves.items()})
    for k in grads[1]:
        np.testing.assert_allclose(grads[0][k], grads[1][k], rtol=1e-10, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float32_values(case):
    """Parameters in float32 give float32 results close to torch's."""
    _, params, build, _ = case
    ours = build(D, cr, **{k: cr.tensor(v, dtype=cr.float32) for k, v in params.items()})
    theirs = build(TD, torch, **{k: torch.tensor(v, dtype=torch.float32)
                                 for k, v in params.items()})
    v = case[3]
    kind = (cr.int64, torch.int64) if "categorical" in case[0] else (cr.float32, torch.float32)
    ours_lp = ours.log_prob(cr.tensor(v, dtype=kind[0]))
    assert ours_lp.dtype == cr.float32 and ours.entropy().dtype == cr.float32
    np.testing.assert_allclose(ours_lp.numpy(), theirs.log_prob(torch.tensor(v, dtype=kind[1])),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.entropy().numpy(), theirs.entropy().numpy(),
                               rtol=1e-5, atol=1e-5)


def test_second_derivative_of_normal_log_prob():
    """log_prob is built from differentiable ops, so create_graph gives the Hessian diagonal."""
    out = []
    for lib, dists in ((cr, D), (torch, TD)):
        scale = lib.tensor([0.7, 1.3], dtype=lib.float64, requires_grad=True)
        lp = dists.Normal(lib.tensor([0.1, -0.2], dtype=lib.float64), scale).log_prob(
            lib.tensor([1.0, 2.0], dtype=lib.float64)).sum()
        (g,) = lib.autograd.grad(lp, scale, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), scale)
        out.append(gg.detach().numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-12)


def test_cdf_and_icdf_match_torch():
    x = np.array([-1.0, 0.3, 2.0])
    ours = D.Normal(cr.tensor([0.0, 0.5, 1.0]), cr.tensor([1.0, 2.0, 0.5])).cdf(cr.tensor(x))
    theirs = TD.Normal(torch.tensor([0.0, 0.5, 1.0]), torch.tensor([1.0, 2.0, 0.5])).cdf(
        torch.tensor(x, dtype=torch.float32))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    u, tu = D.Uniform(-1.0, 3.0), TD.Uniform(-1.0, 3.0)
    np.testing.assert_allclose(u.cdf(cr.tensor([0.0, 2.5])).numpy(),
                               tu.cdf(torch.tensor([0.0, 2.5])).numpy())
    np.testing.assert_allclose(u.icdf(cr.tensor([0.25])).numpy(), tu.icdf(torch.tensor([0.25])))


def test_probs_and_logits_views_match_torch():
    p = np.array([[0.2, 0.3, 0.5], [0.6, 0.4, 0.0]])
    c, tc = D.Categorical(probs=cr.tensor(p)), TD.Categorical(probs=torch.tensor(p))
    np.testing.assert_allclose(c.logits.numpy(), tc.logits.numpy())
    np.testing.assert_allclose(c.entropy().numpy(), tc.entropy().numpy())  # a zero prob
    b, tb = D.Bernoulli(logits=cr.tensor([-3.0, 0.0, 4.0])), TD.Bernoulli(
        logits=torch.tensor([-3.0, 0.0, 4.0]))
    np.testing.assert_allclose(b.probs.numpy(), tb.probs.numpy(), rtol=1e-6)
    assert np.isnan(D.Bernoulli(0.5).mode.item()) and np.isnan(TD.Bernoulli(0.5).mode.item())


def test_enumerate_support_matches_torch():
    b, tb = D.Bernoulli(cr.tensor([0.1, 0.4])), TD.Bernoulli(torch.tensor([0.1, 0.4]))
    assert b.enumerate_support().tolist() == tb.enumerate_support().tolist()
    c = D.Categorical(logits=cr.zeros(2, 3))
    tc = TD.Categorical(logits=torch.zeros(2, 3))
    assert c.enumerate_support().tolist() == tc.enumerate_support().tolist()
    assert c.enumerate_support(expand=False).shape == tc.enumerate_support(expand=False).shape


def test_mvn_matrices_match_torch():
    loc = np.zeros(3)
    spd = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 1.5]])
    for kw in ("covariance_matrix", "precision_matrix", "scale_tril"):
        mat = np.linalg.cholesky(spd) if kw == "scale_tril" else spd
        ours = D.MultivariateNormal(cr.tensor(loc), **{kw: cr.tensor(mat)})
        theirs = TD.MultivariateNormal(torch.tensor(loc), **{kw: torch.tensor(mat)})
        for attr in ("covariance_matrix", "precision_matrix", "scale_tril"):
            np.testing.assert_allclose(getattr(ours, attr).numpy(), getattr(theirs, attr).numpy(),
                                       rtol=1e-12, atol=1e-14, err_msg=f"{kw}: {attr}")


def test_independent_takes_support_and_rsample_from_its_base():
    p = D.Independent(D.Normal(cr.zeros(2, 3), cr.ones(3)), 1)
    assert p.support is p.base_dist.support and p.has_rsample
    assert not D.Independent(D.Bernoulli(probs=cr.full((2, 3), 0.5)), 2).has_rsample


@pytest.mark.parametrize("name", ["support", "mean", "mode", "variance"])
def test_a_distribution_without_a_property_says_which(name):
    class Bare(D.Distribution):
        pass

    with pytest.raises(NotImplementedError, match=f"Bare does not implement {name}"):
        getattr(Bare(), name)
