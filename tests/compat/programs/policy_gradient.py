"""A policy-gradient toy in the style of the REINFORCE course labs and pytorch/examples'
reinforce.py: a corridor of 6 cells, a policy network over (left, right), actions drawn
from torch.distributions.Categorical, discounted returns, the surrogate
loss -sum(log_prob * return) with an entropy bonus, and Adam.

The actions are drawn by inverting the Categorical's CDF at fixed quantiles instead of
with .sample(): the libraries' random streams differ, and the same quantiles make both
runs take the same actions. The libraries' probabilities agree to ~1e-7, so a quantile
would have to fall within 1e-7 of a CDF value for an action to differ."""

import torch
import torch.nn as nn
from torch.distributions import Categorical

N_CELLS, GOAL, MAX_STEPS, GAMMA = 6, 5, 12, 0.9


def step_env(state, action):
    """Move left (0) or right (1); the goal pays 1, every other step costs 0.05."""
    nxt = max(0, min(N_CELLS - 1, state + (1 if action == 1 else -1)))
    return nxt, (1.0 if nxt == GOAL else -0.05), nxt == GOAL


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(N_CELLS, 16), nn.Tanh(), nn.Linear(16, 2))

    def forward(self, state):
        return Categorical(logits=self.net(nn.functional.one_hot(state, N_CELLS).float()))


def quantile(k):
    return (k * 0.6180339887498949) % 1.0  # a low-discrepancy sequence in [0, 1)


def draw(dist, u):
    """The action whose CDF interval holds u."""
    return (dist.probs.cumsum(-1) < u).sum(-1).clamp(max=dist.probs.size(-1) - 1)


def run_episode(policy, episode):
    state, log_probs, entropies, rewards = 0, [], [], []
    for t in range(MAX_STEPS):
        dist = policy(torch.tensor(state))
        action = draw(dist, quantile(episode * MAX_STEPS + t))
        log_probs.append(dist.log_prob(action))
        entropies.append(dist.entropy())
        state, reward, done = step_env(state, action.item())
        rewards.append(reward)
        if done:
            break
    return torch.stack(log_probs), torch.stack(entropies), rewards


def discounted(rewards):
    returns, g = [], 0.0
    for r in reversed(rewards):
        g = r + GAMMA * g
        returns.insert(0, g)
    return torch.tensor(returns)


policy = Policy()
with torch.no_grad():
    for k, (_, p) in enumerate(sorted(policy.named_parameters())):
        n = torch.arange(p.numel(), dtype=torch.float64)
        p.copy_((0.4 * torch.sin(1.37 * n + k)).float().view_as(p))
optimizer = torch.optim.Adam(policy.parameters(), lr=0.02)
dist = policy(torch.tensor([0, 3, 5]))
print("initial probs:", dist.probs.shape, dist.batch_shape, dist.event_shape,
      [round(v, 6) for v in dist.probs[:, 1].tolist()])
print("sample shape:", tuple(dist.sample().shape), tuple(dist.sample((4,)).shape))
lengths = []
for episode in range(60):
    log_probs, entropies, rewards = run_episode(policy, episode)
    returns = discounted(rewards)
    loss = -(log_probs * returns).sum() - 0.01 * entropies.sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    lengths.append(len(rewards))
    if episode % 15 == 14:
        print(f"~episode {episode + 1} return {sum(rewards):.4f} loss {loss.item():.6f}")
print("episode lengths:", lengths)
with torch.no_grad():
    right = policy(torch.arange(N_CELLS)).probs[:, 1]
print("~p(right) per cell:", [round(v, 6) for v in right.tolist()])
print("greedy path reaches the goal:", all(
    policy(torch.tensor(s)).probs.argmax().item() == 1 for s in range(GOAL)))
