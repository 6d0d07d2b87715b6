"""The distributions under test, each built the same way in chainrule and in torch.

A case is (name, parameters as float64 arrays, build(D, lib, **params) -> distribution, a value
array to score). `lib` is chainrule or torch, `D` its distributions module; the parameters
arrive as leaf tensors of `lib` that require grad, so gradients can be compared.
"""

import numpy as np

rng = np.random.default_rng(0)
M = rng.standard_normal((3, 3))
SPD = M @ M.T + 3 * np.eye(3)


def _spd(lib, m):
    return m @ m.mT + 3 * lib.eye(3, dtype=m.dtype)


def _tril(lib, m):
    # a lower-triangular factor with a positive diagonal (eye * v puts v on the diagonal)
    return m.tril(-1) + lib.eye(3, dtype=m.dtype) * m.diagonal().exp()


CASES = [
    ("normal", {"loc": rng.standard_normal(4), "scale": rng.uniform(0.5, 2, 4)},
     lambda D, lib, loc, scale: D.Normal(loc, scale), rng.standard_normal(4)),
    ("normal_broadcast", {"loc": rng.standard_normal((2, 1)), "scale": rng.uniform(0.5, 2, 3)},
     lambda D, lib, loc, scale: D.Normal(loc, scale), rng.standard_normal((5, 1, 3))),
    ("normal_number_scale", {"loc": rng.standard_normal(3)},
     lambda D, lib, loc: D.Normal(loc, 2.0), rng.standard_normal(3)),
    ("uniform", {"low": rng.uniform(-2, -1, 3), "high": rng.uniform(1, 2, 3)},
     lambda D, lib, low, high: D.Uniform(low, high), rng.uniform(-0.9, 0.9, 3)),
    ("bernoulli_probs", {"probs": rng.uniform(0.1, 0.9, 4)},
     lambda D, lib, probs: D.Bernoulli(probs=probs), np.array([0.0, 1.0, 1.0, 0.0])),
    ("bernoulli_logits", {"logits": np.array([[0.0, 2.5, -30.0], [1.0, -1.0, 40.0]])},
     lambda D, lib, logits: D.Bernoulli(logits=logits), np.array([1.0, 0.0, 0.0])),
    ("categorical_probs", {"probs": rng.uniform(0.1, 1.0, (2, 4))},
     lambda D, lib, probs: D.Categorical(probs=probs), np.array([[3, 0], [1, 2], [0, 0]])),
    ("categorical_logits", {"logits": rng.standard_normal((2, 3, 5))},
     lambda D, lib, logits: D.Categorical(logits=logits), np.array([4, 0, 2])),
    ("mvn_covariance", {"loc": rng.standard_normal(3), "m": M},
     lambda D, lib, loc, m: D.MultivariateNormal(loc, covariance_matrix=_spd(lib, m)),
     rng.standard_normal((2, 3))),
    ("mvn_precision", {"loc": rng.standard_normal((2, 3)), "m": M},
     lambda D, lib, loc, m: D.MultivariateNormal(loc, precision_matrix=_spd(lib, m)),
     rng.standard_normal((2, 3))),
    ("mvn_scale_tril", {"loc": rng.standard_normal(3), "m": M},
     lambda D, lib, loc, m: D.MultivariateNormal(loc, scale_tril=_tril(lib, m)),
     rng.standard_normal(3)),
    ("independent_normal", {"loc": rng.standard_normal((2, 3)), "scale": rng.uniform(0.5, 2, 3)},
     lambda D, lib, loc, scale: D.Independent(D.Normal(loc, scale), 1),
     rng.standard_normal((4, 2, 3))),
]
