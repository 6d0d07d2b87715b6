"""validate_args: each bad parameter or value raises what torch raises (mostly ValueError)."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.distributions as D
from tests._torch import torch

TD = torch.distributions
NOT_PD = [[1.0, 2.0], [2.0, 1.0]]

BAD = [  # (what, make(M, t)) where t makes a float tensor; each must raise in both libraries
    ("negative scale", lambda M, t: M.Normal(t([0.0, 1.0]), t([1.0, -1.0]))),
    ("nan loc", lambda M, t: M.Normal(t([float("nan")]), t([1.0]))),
    ("low >= high", lambda M, t: M.Uniform(t([0.0, 1.0]), t([1.0, 1.0]))),
    ("probs > 1", lambda M, t: M.Bernoulli(probs=t([0.5, 1.5]))),
    ("probs and logits", lambda M, t: M.Bernoulli(probs=t([0.5]), logits=t([0.0]))),
    ("neither", lambda M, t: M.Bernoulli()),
    ("negative class prob", lambda M, t: M.Categorical(probs=t([0.5, -0.1, 0.6]))),
    ("0-d probs", lambda M, t: M.Categorical(probs=t(1.0))),
    ("not positive definite", lambda M, t: M.MultivariateNormal(t([0.0, 0.0]), t(NOT_PD))),
    ("scale_tril upper", lambda M, t: M.MultivariateNormal(t([0.0, 0.0]),
                                                           scale_tril=t([[1.0, 1.0], [0.0, 1.0]]))),
    ("two matrices", lambda M, t: M.MultivariateNormal(t([0.0]), t([[1.0]]),
                                                       scale_tril=t([[1.0]]))),
    ("0-d loc", lambda M, t: M.MultivariateNormal(t(0.0), t([[1.0]]))),
    ("bernoulli value 0.5", lambda M, t: M.Bernoulli(t([0.3])).log_prob(t([0.5]))),
    ("class out of range", lambda M, t: M.Categorical(t([0.3, 0.7])).log_prob(t([2.0]))),
    ("outside uniform", lambda M, t: M.Uniform(0.0, 1.0).log_prob(t([1.5]))),
    ("value not a tensor", lambda M, t: M.Normal(0.0, 1.0).log_prob(0.5)),
    ("wrong event shape", lambda M, t: M.MultivariateNormal(t([0.0, 0.0]), t([[1.0, 0], [0, 1]]))
     .log_prob(t([1.0, 2.0, 3.0]))),
    ("not broadcastable", lambda M, t: M.Normal(t([0.0, 1.0]), 1.0).log_prob(t([1.0, 2.0, 3.0]))),
]


@pytest.mark.parametrize("make", [b[1] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_arguments_raise_the_same_error_type_as_torch(make):
    with pytest.raises(Exception) as theirs:
        make(TD, torch.tensor)
    with pytest.raises(type(theirs.value)) as ours:
        make(D, cr.tensor)
    assert str(ours.value)


def test_messages_name_the_parameter_constraint_and_values():
    with pytest.raises(ValueError, match=r"Expected parameter scale \(Tensor of shape \(2,\)\) "
                                         r"of distribution Normal.*GreaterThan\(lower_bound=0.0\)"):
        D.Normal(cr.tensor([0.0, 1.0]), cr.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"within the support \(Boolean\(\)\)"):
        D.Bernoulli(cr.tensor([0.3])).log_prob(cr.tensor([0.5]))


def test_validate_args_false_skips_the_checks():
    d = D.Normal(cr.tensor([0.0]), cr.tensor([-1.0]), validate_args=False)
    assert np.isnan(d.log_prob(cr.tensor([0.0])).item())
    td = TD.Normal(torch.tensor([0.0]), torch.tensor([-1.0]), validate_args=False)
    assert np.isnan(td.log_prob(torch.tensor([0.0])).item())
    assert D.Bernoulli(cr.tensor([0.3]), validate_args=False).log_prob(
        cr.tensor([0.5])).shape == (1,)


def test_set_default_validate_args():
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(0.0, -1.0)  # accepted
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")


def test_rsample_of_discrete_laws_and_int_sample_shape():
    for M, t in ((D, cr.tensor), (TD, torch.tensor)):
        for dist in (M.Bernoulli(t([0.3])), M.Categorical(t([0.3, 0.7]))):
            assert not dist.has_rsample
            with pytest.raises(NotImplementedError):
                dist.rsample()
    with pytest.raises(TypeError, match=r"write \(5,\)"):
        D.Normal(0.0, 1.0).sample(5)


def test_repr_matches_torch():
    assert repr(D.Normal(0.0, 1.0)) == repr(TD.Normal(0.0, 1.0))
    assert repr(D.Normal(cr.zeros(2), cr.ones(2))) == repr(TD.Normal(torch.zeros(2),
                                                                     torch.ones(2)))
    assert repr(D.Categorical(logits=cr.zeros(3))) == repr(TD.Categorical(
        logits=torch.zeros(3)))
