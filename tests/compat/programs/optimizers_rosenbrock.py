"""Optimizers on the Rosenbrock function, the classic comparison plot of optimization
courses: every optimizer starts at (-1.5, 2) and takes 100 steps."""

import torch


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


OPTIMIZERS = {
    "SGD": lambda ps: torch.optim.SGD(ps, lr=1e-4),
    "SGD momentum": lambda ps: torch.optim.SGD(ps, lr=1e-4, momentum=0.9, nesterov=True),
    "Adam": lambda ps: torch.optim.Adam(ps, lr=0.05),
    "AdamW": lambda ps: torch.optim.AdamW(ps, lr=0.05, weight_decay=0.1),
    "Adam amsgrad": lambda ps: torch.optim.Adam(ps, lr=0.05, amsgrad=True),
    "RMSprop": lambda ps: torch.optim.RMSprop(ps, lr=0.01, momentum=0.5),
    "Adagrad": lambda ps: torch.optim.Adagrad(ps, lr=0.5),
    "Adadelta": lambda ps: torch.optim.Adadelta(ps, lr=1.0),
}

for name, make in OPTIMIZERS.items():
    p = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    opt = make([p])
    for _ in range(100):
        opt.zero_grad()
        loss = rosenbrock(p)
        loss.backward()
        opt.step()
    print(f"~{name:13s} loss {rosenbrock(p).item():.8f} at ({p[0].item():.6f}, {p[1].item():.6f})")

# a parameter group with its own learning rate, and the optimizer's state_dict round trip
w = torch.nn.Parameter(torch.tensor([1.0, -1.0]))
b = torch.nn.Parameter(torch.tensor([0.5]))
opt = torch.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
for _ in range(3):
    opt.zero_grad()
    ((w * w).sum() + (b * 3).sum()).backward()
    opt.step()
print("groups:", [g["lr"] for g in opt.param_groups], w.detach(), b.detach())
state = opt.state_dict()
print("state keys:", sorted(state), sorted(state["state"]), sorted(state["state"][0]))
