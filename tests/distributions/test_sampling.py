"""Draws: shapes and dtypes, seeded reproducibility, moments, and rsample's gradients.

chainrule's random streams are not torch's, so draws are checked against the laws themselves:
a moment of N seeded draws must lie within 5 standard errors of its exact value (a bound a
correct sampler exceeds with probability below 1e-6; a wrong scale or offset misses it by far).
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.distributions as D
from tests._torch import torch

TD = torch.distributions
N = 200_000


def _pair(name):
    """The same distribution in both libraries, batch shape (2, 3) or (2,) + event."""
    p = np.array([[0.1, 0.5, 0.9], [0.3, 0.7, 0.2]])
    spd = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 1.5]])
    make = {
        "normal": lambda M, t: M.Normal(t(np.zeros((2, 3))), t(p + 1)),
        "uniform": lambda M, t: M.Uniform(t(-p), t(p + 1)),
        "bernoulli": lambda M, t: M.Bernoulli(t(p)),
        "categorical": lambda M, t: M.Categorical(t(p)),
        "mvn": lambda M, t: M.MultivariateNormal(t(np.zeros((2, 3))), t(spd)),
    }[name]
    return (make(D, lambda a: cr.tensor(a, dtype=cr.float32)),
            make(TD, lambda a: torch.tensor(a, dtype=torch.float32)))


NAMES = ["normal", "uniform", "bernoulli", "categorical", "mvn"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("sample_shape", [(), (5,), (4, 1)])
def test_sample_shapes_and_dtypes_match_torch(name, sample_shape):
    ours, theirs = _pair(name)
    a, b = ours.sample(sample_shape), theirs.sample(sample_shape)
    assert tuple(a.shape) == tuple(b.shape)
    assert a.dtype.name == str(b.dtype).removeprefix("torch.")
    assert not a.requires_grad
    if theirs.has_rsample:
        assert tuple(ours.rsample(sample_shape).shape) == tuple(b.shape)


def test_manual_seed_makes_draws_reproducible():
    for name in NAMES:
        dist = _pair(name)[0]
        cr.manual_seed(7)
        a = dist.sample((3,))
        cr.manual_seed(7)
        assert cr.equal(a, dist.sample((3,))), name
        assert not cr.equal(a, dist.sample((3,))) or name in ("bernoulli", "categorical"), name


def _within(draws, exact, se, what):
    err = np.abs(draws - exact)
    assert (err <= 5 * se).all(), f"{what}: |error| {err.max():.3g} > 5 SE {(5 * se).max():.3g}"


def test_sample_moments():
    cr.manual_seed(0)
    p = np.array([[0.1, 0.5, 0.9], [0.3, 0.7, 0.2]])
    x = _pair("normal")[0].sample((N,)).numpy().astype(np.float64)
    _within(x.mean(0), 0.0, (p + 1) / N**0.5, "normal mean")
    _within(x.var(0), (p + 1) ** 2, (p + 1) ** 2 * (2 / N) ** 0.5, "normal variance")
    u = _pair("uniform")[0].sample((N,)).numpy().astype(np.float64)
    width = 2 * p + 1
    _within(u.mean(0), 0.5, width / 12**0.5 / N**0.5, "uniform mean")
    assert (u >= -p).all() and (u < p + 1).all()
    b = _pair("bernoulli")[0].sample((N,)).numpy()
    _within(b.mean(0), p, (p * (1 - p) / N) ** 0.5, "bernoulli mean")
    k = _pair("categorical")[0].sample((N,)).numpy()
    probs = p / p.sum(-1, keepdims=True)
    freq = np.stack([(k == j).mean(0) for j in range(3)], -1)
    _within(freq, probs, (probs * (1 - probs) / N) ** 0.5, "categorical frequencies")


def test_mvn_sample_covariance():
    cr.manual_seed(0)
    spd = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 1.5]])
    x = _pair("mvn")[0].sample((N,)).numpy().astype(np.float64)[:, 0]
    cov = x.T @ x / N
    # SE of a sample covariance entry of a Gaussian: sqrt((S_ii S_jj + S_ij^2) / N)
    se = ((np.outer(np.diag(spd), np.diag(spd)) + spd**2) / N) ** 0.5
    _within(cov, spd, se, "mvn covariance")


def test_rsample_gradient_is_the_reparameterised_one():
    """d/d(loc, scale) of sum(w * x^2), x = rsample: equal to torch's for the same eps."""
    cr.manual_seed(3)
    loc = cr.tensor([0.3, -1.0], dtype=cr.float64, requires_grad=True)
    scale = cr.tensor([0.5, 2.0], dtype=cr.float64, requires_grad=True)
    x = D.Normal(loc, scale).rsample((4,))
    w = np.arange(8.0).reshape(4, 2)
    (x.pow(2) * cr.tensor(w)).sum().backward()
    eps = (x.detach().numpy() - loc.detach().numpy()) / scale.detach().numpy()
    tl = torch.tensor([0.3, -1.0], dtype=torch.float64, requires_grad=True)
    ts = torch.tensor([0.5, 2.0], dtype=torch.float64, requires_grad=True)
    ((tl + torch.tensor(eps) * ts).pow(2) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), tl.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(scale.grad.numpy(), ts.grad.numpy(), rtol=1e-12)


def test_rsample_gradients_estimate_the_gradient_of_the_expectation():
    """Mean over N draws of d f(x)/d theta ~ d E[f(x)]/d theta (the pathwise estimator).

    Normal: E[x^2] = loc^2 + scale^2. MVN: E[|x|^2] = |loc|^2 + |L|_F^2. Uniform:
    E[x] = (low + high) / 2. Tolerance 5 standard errors of the per-draw gradients.
    """
    cr.manual_seed(1)
    loc = cr.tensor([0.5, -1.0], dtype=cr.float64, requires_grad=True)
    scale = cr.tensor([1.5, 0.5], dtype=cr.float64, requires_grad=True)
    D.Normal(loc, scale).rsample((N,)).pow(2).mean(0).sum().backward()
    se = 2 * np.array([1.5, 0.5]) * np.sqrt(2 / N) * 2
    _within(loc.grad.numpy(), 2 * loc.detach().numpy(), se, "normal d/dloc")
    _within(scale.grad.numpy(), 2 * scale.detach().numpy(), se, "normal d/dscale")
    tril = cr.tensor([[1.0, 0.0], [0.5, 2.0]], dtype=cr.float64, requires_grad=True)
    mloc = cr.tensor([0.2, 0.1], dtype=cr.float64, requires_grad=True)
    D.MultivariateNormal(mloc, scale_tril=tril).rsample((N,)).pow(2).sum(-1).mean().backward()
    _within(tril.grad.numpy(), 2 * np.tril(tril.detach().numpy()), 20 / N**0.5, "mvn d/dL")
    _within(mloc.grad.numpy(), 2 * mloc.detach().numpy(), 20 / N**0.5, "mvn d/dloc")
    low = cr.tensor(0.0, dtype=cr.float64, requires_grad=True)
    high = cr.tensor(3.0, dtype=cr.float64, requires_grad=True)
    D.Uniform(low, high).rsample((N,)).mean().backward()
    _within(np.array([low.grad.item(), high.grad.item()]), 0.5, 1 / N**0.5, "uniform")


def test_sample_is_outside_the_graph_and_rsample_inside():
    loc = cr.zeros(3, requires_grad=True)
    dist = D.Normal(loc, 1.0)
    assert not dist.sample().requires_grad
    assert dist.rsample().requires_grad
    assert D.Normal(cr.zeros(2, dtype=cr.float64), 1.0).sample().dtype == cr.float64
