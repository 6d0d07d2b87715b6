"""torch.distributions as VAE and policy-gradient courses use it: log_prob, entropy,
KL divergence, and gradients through rsample's reparameterisation (with fixed noise)."""

import torch
from torch.distributions import Bernoulli, Categorical, Normal, Uniform, kl_divergence

mu = torch.tensor([0.0, 1.0, -2.0], requires_grad=True)
sigma = torch.tensor([1.0, 0.5, 2.0], requires_grad=True)
q = Normal(mu, sigma)
x = torch.tensor([0.5, 0.5, 0.5])
print("normal log_prob:", q.log_prob(x).detach())
print("normal entropy:", q.entropy().detach())
print("normal cdf:", q.cdf(x).detach())
p = Normal(torch.zeros(3), torch.ones(3))
kl = kl_divergence(q, p)
print("KL(q||p):", kl.detach())
kl.sum().backward()
print("dKL/dmu:", mu.grad, "dKL/dsigma:", sigma.grad)

# the reparameterisation: z = mu + sigma * eps, with eps fixed for the comparison
eps = torch.tensor([0.3, -1.2, 0.8])
mu.grad = None
sigma.grad = None
z = mu + sigma * eps
(z**2).sum().backward()
print("reparam grads:", mu.grad, sigma.grad)

logits = torch.tensor([[1.0, 2.0, 0.5], [0.0, 0.0, 3.0]], requires_grad=True)
cat = Categorical(logits=logits)
actions = torch.tensor([1, 2])
print("categorical probs:", cat.probs.detach())
print("categorical log_prob:", cat.log_prob(actions).detach())
print("categorical entropy:", cat.entropy().detach())
loss = -(cat.log_prob(actions) * torch.tensor([1.5, -0.5])).sum()  # REINFORCE's surrogate
loss.backward()
print("policy gradient:", logits.grad)

bern = Bernoulli(probs=torch.tensor([0.2, 0.7]))
print("bernoulli:", bern.log_prob(torch.tensor([1.0, 0.0])), bern.entropy(), bern.mean)
uni = Uniform(torch.tensor([0.0]), torch.tensor([4.0]))
print("uniform:", uni.log_prob(torch.tensor([1.0])), uni.entropy(), uni.mean, uni.variance)
print("categorical KL:", kl_divergence(Categorical(probs=torch.tensor([0.5, 0.5])),
                                       Categorical(probs=torch.tensor([0.9, 0.1]))))
