"""Autograd, in the style of PyTorch's "A Gentle Introduction to torch.autograd" and
"Automatic Differentiation with torch.autograd" tutorials."""

import torch

x = torch.ones(5)
y = torch.zeros(3)
w = torch.linspace(-1.0, 1.0, 15).reshape(5, 3).requires_grad_()
b = torch.tensor([0.1, -0.2, 0.3], requires_grad=True)
z = torch.matmul(x, w) + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
print("z:", z.detach())  # (grad_fn names are compared by the autograd tests, not here)
print("loss:", loss.detach())
print("has grad_fn:", z.grad_fn is not None, loss.grad_fn is not None, x.grad_fn is None)
loss.backward()
print("w.grad:", w.grad)
print("b.grad:", b.grad)

z = torch.matmul(x, w) + b
print("requires_grad:", z.requires_grad)
with torch.no_grad():
    z = torch.matmul(x, w) + b
print("under no_grad:", z.requires_grad)
z_det = (torch.matmul(x, w) + b).detach()
print("detached:", z_det.requires_grad)

# the classic y = a^3 - b^2 example
a = torch.tensor([2.0, 3.0], requires_grad=True)
c = torch.tensor([6.0, 4.0], requires_grad=True)
Q = 3 * a**3 - c**2
Q.backward(gradient=torch.tensor([1.0, 1.0]))
print("dQ/da:", a.grad, torch.equal(a.grad, 9 * a**2))
print("dQ/dc:", c.grad, torch.equal(c.grad, -2 * c))

# gradients accumulate until zeroed
inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print("first call:", inp.grad)
out.backward(torch.ones_like(out), retain_graph=True)
print("second call:", inp.grad)
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print("after zero_:", inp.grad)

# leaves, non-leaves and retain_grad
u = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
v = u * 2
v.retain_grad()
s = (v * v).sum()
s.backward()
print("leaf:", u.is_leaf, v.is_leaf, "v.grad:", v.grad, "u.grad:", u.grad)

# higher-order: d2/dx2 of x^3 at 2 = 12
t = torch.tensor(2.0, requires_grad=True)
(g,) = torch.autograd.grad(t**3, t, create_graph=True)
(h,) = torch.autograd.grad(g, t)
print("grad, second derivative:", g.item(), h.item())

# a vector-Jacobian product through a non-scalar output
q = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
r = torch.tanh(q) * torch.sigmoid(q)
r.backward(torch.tensor([1.0, 0.1, 0.01]))
print("vjp:", q.grad)
print("~sum of vjp:", q.grad.sum().item())
