"""Logistic regression fitted by several optimizers, as optimization labs compare them:
L-BFGS with its closure (with and without the strong-Wolfe line search), RAdam, NAdam,
Adamax, Adadelta, Rprop and ASGD on the same data from the same start, then the weights
as one vector (parameters_to_vector) and written back (vector_to_parameters).

float64, as L-BFGS fits usually are: its line search compares losses that differ in the
last digits, and the libraries round float32 sums differently."""

import torch
import torch.nn as nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters

torch.set_default_dtype(torch.float64)
n = torch.arange(80.0)
angle = n * 0.61803398875 * 6.283185307179586
radius = 0.3 + (n % 7) / 7
X = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
X = X + torch.stack([(n % 2) * 0.8 - 0.4, (n % 2) * 0.4 - 0.2], dim=1)
y = (n % 2).view(-1, 1)
features = torch.cat([X, X**2, X[:, :1] * X[:, 1:]], dim=1)
print("data:", tuple(features.shape), "positives:", int(y.sum().item()))


def make_model():
    model = nn.Linear(5, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.5, -0.3, 0.2, 0.1, -0.4]]))
        model.bias.fill_(0.1)
    return model


loss_fn = nn.BCEWithLogitsLoss()
OPTIMIZERS = {
    "LBFGS": lambda ps: torch.optim.LBFGS(ps, lr=1, max_iter=20, history_size=10),
    "LBFGS wolfe": lambda ps: torch.optim.LBFGS(ps, lr=1, max_iter=20,
                                                line_search_fn="strong_wolfe"),
    "RAdam": lambda ps: torch.optim.RAdam(ps, lr=0.05),
    "NAdam": lambda ps: torch.optim.NAdam(ps, lr=0.05),
    "Adamax": lambda ps: torch.optim.Adamax(ps, lr=0.05),
    "Adadelta": lambda ps: torch.optim.Adadelta(ps, lr=1.0),
    "Rprop": lambda ps: torch.optim.Rprop(ps, lr=0.01),
    "ASGD": lambda ps: torch.optim.ASGD(ps, lr=0.5, t0=20),
}


def fit(name, make):
    model = make_model()
    optimizer = make(model.parameters())
    calls = 0

    def closure():
        nonlocal calls
        calls += 1
        optimizer.zero_grad()
        loss = loss_fn(model(features), y)
        loss.backward()
        return loss

    for _ in range(5 if name.startswith("LBFGS") else 100):
        optimizer.step(closure)
    with torch.no_grad():
        loss = loss_fn(model(features), y).item()
        accuracy = ((model(features) > 0).double() == y).double().mean().item()
    print(f"~{name:12s} loss {loss:.8f} accuracy {accuracy:.4f} evaluations {calls}")
    return model, optimizer


for name, make in OPTIMIZERS.items():
    model, optimizer = fit(name, make)

vec = parameters_to_vector(model.parameters())
print("~as a vector:", [round(v, 6) for v in vec.tolist()])
vector_to_parameters(torch.zeros_like(vec), model.parameters())
print("written back:", model.weight.tolist(), model.bias.tolist())
state = optimizer.state_dict()["state"]
print("ASGD state:", sorted(state[0]))
