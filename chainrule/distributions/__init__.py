"""torch.distributions: Normal, Uniform, Bernoulli, Categorical, MultivariateNormal,
Independent, and kl_divergence.

Parameters are Tensors in the graph, so log_prob, entropy, kl_divergence and (where the law
has one) rsample are differentiable in them. Draws come from chainrule's default generator:
`manual_seed` makes them reproducible (the numbers are not PyTorch's).
"""

from chainrule.distributions import constraints
from chainrule.distributions.bernoulli import Bernoulli
from chainrule.distributions.categorical import Categorical
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.independent import Independent
from chainrule.distributions.kl import kl_divergence, register_kl
from chainrule.distributions.multivariate_normal import MultivariateNormal
from chainrule.distributions.normal import Normal
from chainrule.distributions.uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Independent", "MultivariateNormal",
           "Normal", "Uniform", "constraints", "kl_divergence", "register_kl"]
