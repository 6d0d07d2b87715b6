"""kl_divergence values and gradients against torch, the infinite cases, unregistered pairs."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.distributions as D
from tests._torch import torch

TD = torch.distributions
rng = np.random.default_rng(5)
SPD = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 1.5]])


def _spd(lib, m):
    return m @ m.mT + lib.eye(3, dtype=m.dtype)


PAIRS = [
    ("normal_normal", {"a": rng.standard_normal((2, 3)), "s": rng.uniform(0.5, 2, 3),
                       "b": rng.standard_normal(3), "t": rng.uniform(0.5, 2, (2, 1))},
     lambda M, lib, a, s, b, t: (M.Normal(a, s), M.Normal(b, t))),
    ("bernoulli_bernoulli", {"p": rng.uniform(0.1, 0.9, 4), "q": rng.standard_normal(4)},
     lambda M, lib, p, q: (M.Bernoulli(probs=p), M.Bernoulli(logits=q))),
    ("categorical_categorical", {"p": rng.uniform(0.1, 1, (2, 4)), "q": rng.standard_normal(4)},
     lambda M, lib, p, q: (M.Categorical(probs=p), M.Categorical(logits=q))),
    ("uniform_uniform", {"a": np.array([0.0, 0.5]), "b": np.array([1.0, 0.7]),
                         "c": np.array([-1.0, 0.2]), "d": np.array([2.0, 3.0])},
     lambda M, lib, a, b, c, d: (M.Uniform(a, b), M.Uniform(c, d))),
    ("uniform_normal", {"a": np.array([0.0, 0.5]), "b": np.array([1.0, 0.7]),
                        "m": rng.standard_normal(2), "s": rng.uniform(0.5, 2, 2)},
     lambda M, lib, a, b, m, s: (M.Uniform(a, b), M.Normal(m, s))),
    ("mvn_mvn", {"m1": rng.standard_normal((2, 3)), "x1": rng.standard_normal((3, 3)),
                 "m2": rng.standard_normal(3), "x2": rng.standard_normal((2, 3, 3))},
     lambda M, lib, m1, x1, m2, x2: (M.MultivariateNormal(m1, covariance_matrix=_spd(lib, x1)),
                                     M.MultivariateNormal(m2, precision_matrix=_spd(lib, x2)))),
]


@pytest.mark.parametrize("pair", PAIRS, ids=[p[0] for p in PAIRS])
def test_kl_values_and_gradients_match_torch(pair):
    _, params, build = pair
    results = []
    for lib, M in ((cr, D), (torch, TD)):
        leaves = {k: lib.tensor(v, dtype=lib.float64, requires_grad=True)
                  for k, v in params.items()}
        kl = M.kl_divergence(*build(M, lib, **leaves))
        w = lib.tensor(np.random.default_rng(0).standard_normal(tuple(kl.shape)))
        (kl * w).sum().backward()
        results.append((kl.detach().numpy(), {k: v.grad.numpy() for k, v in leaves.items()}))
    (ours, our_grads), (theirs, their_grads) = results
    np.testing.assert_allclose(ours, theirs, rtol=1e-11)
    for k in their_grads:
        np.testing.assert_allclose(our_grads[k], their_grads[k], rtol=1e-10, atol=1e-12,
                                   err_msg=k)


def test_kl_infinite_and_zero_cases_match_torch():
    cases = [
        lambda M, t: (M.Bernoulli(t([0.0, 1.0, 0.3, 0.5])), M.Bernoulli(t([0.5, 0.5, 0.0, 1.0]))),
        lambda M, t: (M.Categorical(t([[0.5, 0.5, 0.0], [0.2, 0.8, 0.0]])),
                      M.Categorical(t([[0.5, 0.0, 0.5], [0.3, 0.7, 0.0]]))),
        lambda M, t: (M.Uniform(t([0.0, 0.0]), t([1.0, 1.0])), M.Uniform(t([0.5, -1.0]),
                                                                        t([2.0, 2.0]))),
        lambda M, t: (M.Normal(t([0.0]), t([1.0])), M.Uniform(t([0.0]), t([1.0]))),
    ]
    for make in cases:
        ours = D.kl_divergence(*make(D, cr.tensor)).numpy()
        theirs = TD.kl_divergence(*make(TD, torch.tensor)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
        assert np.isinf(ours).any()


def test_kl_of_a_distribution_with_itself_is_zero():
    for dist in (D.Normal(cr.randn(3), cr.ones(3)), D.Bernoulli(cr.tensor([0.2, 0.6])),
                 D.Categorical(logits=cr.randn(2, 5)),
                 D.MultivariateNormal(cr.zeros(3, dtype=cr.float64),
                                      covariance_matrix=cr.tensor(SPD))):
        assert np.allclose(D.kl_divergence(dist, dist).numpy(), 0.0, atol=1e-6)


def test_unregistered_pair_raises_not_implemented_error_as_torch():
    with pytest.raises(NotImplementedError):
        TD.kl_divergence(TD.Bernoulli(0.3), TD.Normal(0.0, 1.0))
    with pytest.raises(NotImplementedError, match="Bernoulli, q = Normal"):
        D.kl_divergence(D.Bernoulli(0.3), D.Normal(0.0, 1.0))


def test_register_kl_and_subclasses_use_the_parent_rule():
    class MyNormal(D.Normal):
        pass

    p, q = MyNormal(0.0, 1.0), D.Normal(1.0, 2.0)
    assert D.kl_divergence(p, q).item() == pytest.approx(D.kl_divergence(
        D.Normal(0.0, 1.0), q).item())

    class Point(D.Distribution):
        pass

    @D.register_kl(Point, Point)
    def _kl_point(p, q):
        return cr.tensor(0.0)

    assert D.kl_divergence(Point(), Point()).item() == 0.0


def test_mvn_kl_with_different_event_shapes_is_a_value_error():
    p = D.MultivariateNormal(cr.zeros(2), cr.eye(2))
    q = D.MultivariateNormal(cr.zeros(3), cr.eye(3))
    with pytest.raises(ValueError, match="different event shapes"):
        D.kl_divergence(p, q)


def test_independent_matches_torch():
    """Independent(Normal(mu, sigma), 1): shapes, log_prob, entropy, kl and their gradients."""
    rng = np.random.default_rng(3)
    mu, s, x = rng.standard_normal((2, 3)), rng.uniform(0.5, 2, (2, 3)), rng.standard_normal(3)
    out = []
    for lib, M in ((cr, D), (torch, TD)):
        m, sd = lib.tensor(mu, requires_grad=True), lib.tensor(s, requires_grad=True)
        p = M.Independent(M.Normal(m, sd), 1)
        zero = lib.zeros(3, dtype=lib.float64)
        q = M.Independent(M.Normal(zero, zero + 1), 1)
        lp, h, kl = p.log_prob(lib.tensor(x)), p.entropy(), M.kl_divergence(p, q)
        (lp.sum() + 2 * h.sum() + 3 * kl.sum()).backward()
        out.append([tuple(p.batch_shape), tuple(p.event_shape), tuple(p.sample((4,)).shape)]
                   + [t.detach().numpy() for t in (lp, h, kl, m.grad, sd.grad)])
    assert out[0][:3] == out[1][:3] == [(2,), (3,), (4, 2, 3)]
    for a, b in zip(out[0][3:], out[1][3:]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        D.Independent(D.Normal(0.0, 1.0), 1)
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Independent(D.Normal(cr.zeros(2, 2), 1.0), 1),
                        D.Independent(D.Normal(cr.zeros(2, 2), 1.0), 2))
