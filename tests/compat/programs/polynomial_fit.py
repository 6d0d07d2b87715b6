"""Fitting y = sin(x) with a cubic polynomial, four ways, as in PyTorch's "Learning PyTorch
with Examples": tensors with hand-written gradients, autograd, nn + manual updates, nn + optim.
The coefficients start at fixed values (the tutorial draws them at random)."""

import math

import torch

dtype = torch.float
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)
learning_rate = 1e-6

# 1. tensors, gradients by hand
a, b, c, d = (torch.tensor(v, device=device, dtype=dtype) for v in (0.1, -0.2, 0.3, -0.4))
for t in range(500):
    y_pred = a + b * x + c * x**2 + d * x**3
    loss = (y_pred - y).pow(2).sum().item()
    if t % 100 == 99:
        print(f"~manual {t} {loss:.6f}")
    grad_y_pred = 2.0 * (y_pred - y)
    a -= learning_rate * grad_y_pred.sum()
    b -= learning_rate * (grad_y_pred * x).sum()
    c -= learning_rate * (grad_y_pred * x**2).sum()
    d -= learning_rate * (grad_y_pred * x**3).sum()
print(f"~manual result: y = {a.item():.6f} + {b.item():.6f} x + {c.item():.6f} x^2 + "
      f"{d.item():.6f} x^3")

# 2. autograd
a, b, c, d = (torch.tensor(v, dtype=dtype, requires_grad=True) for v in (0.1, -0.2, 0.3, -0.4))
for t in range(500):
    y_pred = a + b * x + c * x**2 + d * x**3
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(f"~autograd {t} {loss.item():.6f}")
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c, d):
            p -= learning_rate * p.grad
            p.grad = None
print(f"~autograd result: {a.item():.6f} {b.item():.6f} {c.item():.6f} {d.item():.6f}")

# 3. nn, updates by hand
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)
model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
with torch.no_grad():
    model[0].weight.copy_(torch.tensor([[-0.2, 0.3, -0.4]]))
    model[0].bias.fill_(0.1)
loss_fn = torch.nn.MSELoss(reduction="sum")
for t in range(500):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    if t % 100 == 99:
        print(f"~nn {t} {loss.item():.6f}")
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad
linear_layer = model[0]
print(f"~nn result: y = {linear_layer.bias.item():.6f} + {linear_layer.weight[:, 0].item():.6f} x"
      f" + {linear_layer.weight[:, 1].item():.6f} x^2 + {linear_layer.weight[:, 2].item():.6f} x^3")

# 4. nn + optim (RMSprop, as the tutorial)
model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
with torch.no_grad():
    model[0].weight.copy_(torch.tensor([[-0.2, 0.3, -0.4]]))
    model[0].bias.fill_(0.1)
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
for t in range(500):
    loss = loss_fn(model(xx), y)
    if t % 100 == 99:
        print(f"~optim {t} {loss.item():.6f}")
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print("~optim result:", [round(v, 6) for v in model[0].weight.flatten().tolist()],
      round(model[0].bias.item(), 6))
print("parameters:", sum(p.numel() for p in model.parameters()))
