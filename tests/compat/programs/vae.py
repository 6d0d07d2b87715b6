"""A variational autoencoder in the style of the VAE course labs and pytorch/examples' vae:
an encoder giving the posterior q(z|x) = Normal(mu, sigma), the reparameterised sample
z = mu + sigma * eps, a Bernoulli decoder, and the ELBO written with torch.distributions
(Independent, Bernoulli.log_prob, kl_divergence against the Normal(0, 1) prior); Adam.

The training noise eps comes from a formula, not from rsample(): the libraries' random
streams differ. rsample() itself is checked for what does not depend on the draw (its
shapes, and that its gradients are the reparameterisation's)."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence


def images():
    """Eight 4x4 patterns (bars, a cross, a frame, checkers), 16 pixels of 0 or 1."""
    r = torch.arange(4.0).view(4, 1).expand(4, 4)
    c = torch.arange(4.0).view(1, 4).expand(4, 4)
    shapes = [r == 1, r == 2, c == 1, c == 2, (r == 1) | (c == 2),
              (r == 0) | (r == 3) | (c == 0) | (c == 3), (r + c) % 2 == 0, r == c]
    return torch.stack([s.float() for s in shapes]).view(8, 16)


class VAE(nn.Module):
    def __init__(self, d=16, hidden=24, latent=2):
        super().__init__()
        self.enc = nn.Linear(d, hidden)
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.dec1 = nn.Linear(latent, hidden)
        self.dec2 = nn.Linear(hidden, d)

    def encode(self, x):
        h = F.relu(self.enc(x))
        return Normal(self.mu(h), torch.exp(0.5 * self.logvar(h)))

    def decode(self, z):
        return Independent(Bernoulli(logits=self.dec2(F.relu(self.dec1(z)))), 1)

    def forward(self, x, eps):
        q = self.encode(x)
        z = q.loc + q.scale * eps  # q.rsample() with the noise given
        return q, z, self.decode(z)


def fixed_init(model):
    with torch.no_grad():
        for k, (_, p) in enumerate(sorted(model.named_parameters())):
            n = torch.arange(p.numel(), dtype=torch.float64)
            p.copy_((0.3 * torch.sin(0.83 * n + 0.7 * k)).float().view_as(p))


def noise(step, shape):
    n = torch.arange(math.prod(shape), dtype=torch.float64) + 17 * step
    return (1.2 * torch.sin(2.39996 * n * n)).float().view(shape)  # spread over [-1.2, 1.2]


x = images()
model = VAE()
fixed_init(model)
prior = Normal(torch.zeros(2), torch.ones(2))
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
print("data:", tuple(x.shape), "mean pixel:", round(x.mean().item(), 5))
for step in range(1, 201):
    q, z, p_x = model(x, noise(step, (8, 2)))
    recon = -p_x.log_prob(x)
    kl = kl_divergence(q, prior).sum(-1)
    loss = (recon + kl).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 50 == 0:
        print(f"~step {step} -ELBO {loss.item():.5f} recon {recon.mean().item():.5f} "
              f"KL {kl.mean().item():.5f}")

with torch.no_grad():
    q = model.encode(x)
    analytic = -0.5 * (1 + 2 * q.scale.log() - q.loc**2 - q.scale**2).sum(-1)
    print("KL is the closed form:", torch.allclose(kl_divergence(q, prior).sum(-1), analytic,
                                                  atol=1e-6))
    bce = F.binary_cross_entropy_with_logits(model.decode(q.loc).base_dist.logits, x,
                                             reduction="none").sum(-1)
    print("Bernoulli log_prob is -BCE:", torch.allclose(-model.decode(q.loc).log_prob(x), bce,
                                                        atol=1e-5))
    print("~posterior means:", [round(v, 6) for v in q.loc.flatten().tolist()])
    print("~posterior sigmas:", [round(v, 6) for v in q.scale.flatten().tolist()])
    recon_x = model.decode(q.loc).mean
    print("~reconstruction error:", round(F.mse_loss(recon_x, x).item(), 6))
    print("event and batch shapes:", tuple(model.decode(q.loc).event_shape),
          tuple(model.decode(q.loc).batch_shape), tuple(q.batch_shape))

mu = torch.tensor([0.5, -1.0], requires_grad=True)
sigma = torch.tensor([2.0, 0.5], requires_grad=True)
dist = Normal(mu, sigma)
z = dist.rsample()
z.sum().backward()
print("rsample:", dist.has_rsample, tuple(dist.rsample((5, 3)).shape), z.requires_grad)
print("dz/dmu is 1:", torch.equal(mu.grad, torch.ones(2)),
      "dz/dsigma is eps:", torch.allclose(sigma.grad, ((z - mu) / sigma).detach()))
print("sample has no grad:", dist.sample().requires_grad)
