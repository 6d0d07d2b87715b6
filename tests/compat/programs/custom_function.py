"""A custom autograd Function, as in PyTorch's "Defining new autograd Functions": the
Legendre polynomial P3, with its own forward and backward, fitted to sin(x). Also a
straight-through clamp and a Function that saves a non-tensor for backward."""

import math

import torch


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input**2 - 1)


class StraightThroughClamp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.lo, ctx.hi = lo, hi
        return x.clamp(lo, hi)

    @staticmethod
    def backward(ctx, grad):
        return grad, None, None  # the gradient passes as if there were no clamp


dtype = torch.float
x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
y = torch.sin(x)
a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, dtype=dtype, requires_grad=True)
learning_rate = 5e-6
for t in range(1000):
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if t % 200 == 199:
        print(f"~{t} {loss.item():.5f}")
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c, d):
            p -= learning_rate * p.grad
            p.grad = None
print(f"~Result: y = {a.item():.6f} + {b.item():.6f} * P3({c.item():.6f} + {d.item():.6f} x)")

v = torch.tensor([-2.0, -0.5, 0.5, 2.0], requires_grad=True)
out = StraightThroughClamp.apply(v, -1.0, 1.0)
(out * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
print("clamped:", out.detach(), "grad:", v.grad)

u = torch.tensor([0.25, 0.5], requires_grad=True)
w = LegendrePolynomial3.apply(u)
(g,) = torch.autograd.grad(w.sum(), u)
print("P3:", w.detach(), "dP3:", g)
print("gradcheck:", torch.autograd.gradcheck(LegendrePolynomial3.apply,
                                             (torch.tensor([0.3, -0.7], dtype=torch.double,
                                                           requires_grad=True),)))
