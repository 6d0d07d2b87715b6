"""The graph autograd records, as PyTorch's autograd tutorials print it: each result's
grad_fn, walked through next_functions back to the AccumulateGrad of the leaves;
is_leaf, requires_grad, retain_grad, hooks on tensors and in-place updates.

Nodes are printed by name() (printing the node itself adds its address, which differs
from run to run)."""

import torch
import torch.nn.functional as F


def name(fn):
    return None if fn is None else fn.name()


def walk(fn, depth=0, seen=None):
    """Print the graph below fn, each node once, skipping the None of inputs without grad."""
    seen = set() if seen is None else seen
    print("  " * depth + name(fn))
    if fn in seen:
        return
    seen.add(fn)
    for child, _ in fn.next_functions:
        if child is not None:
            walk(child, depth + 1, seen)


x = torch.ones(1, 5)  # (the tutorial has a vector; a 1 x 5 matrix keeps the graph to mm)
y = torch.zeros(1, 3)
w = torch.tensor([[0.1, -0.2, 0.3]] * 5, requires_grad=True)
b = torch.tensor([0.1, -0.2, 0.3], requires_grad=True)
z = torch.matmul(x, w) + b
loss = F.binary_cross_entropy_with_logits(z, y)
print(f"Gradient function for z = {name(z.grad_fn)}")
print(f"Gradient function for loss = {name(loss.grad_fn)}")
print("leaf grad_fn:", w.grad_fn, w.is_leaf, z.is_leaf, z.requires_grad)
walk(loss.grad_fn)

a = torch.tensor([2.0, 3.0], requires_grad=True)
c = torch.tensor([6.0, 4.0], requires_grad=True)
Q = 3 * a**3 - c**2
walk(Q.grad_fn)
print("first edge:", name(Q.grad_fn.next_functions[0][0]))

u = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
for expr, out in [("exp", u.exp()), ("sin*cos", u.sin() * u.cos()), ("tanh", torch.tanh(u)),
                  ("relu", F.relu(u)), ("sigmoid", torch.sigmoid(u)), ("sum", u.sum()),
                  ("mean", u.mean()), ("div", u / 2), ("neg", -u), ("pow", u.pow(2)),
                  ("view", u.view(3, 1)), ("t", u.view(3, 1).t()), ("index", u[1:]),
                  ("cat", torch.cat([u, u])), ("softmax", u.softmax(0)),
                  ("clone", u.clone())]:
    print(f"{expr:8s} {name(out.grad_fn)}")

v = u * 2
v.retain_grad()
hooked = []
v.register_hook(lambda g: hooked.append(g.tolist()))
s = (v * v).sum()
s.backward()
print("retain_grad:", v.grad, "hook saw:", hooked, "u.grad:", u.grad)

leaf = torch.tensor([1.0, 2.0], requires_grad=True)
out = leaf * 3
out.add_(1)
print("in-place keeps a grad_fn:", out.grad_fn is not None, out.requires_grad)
out.sum().backward()
print("through add_:", leaf.grad)
detached = out.detach()
print("detached:", detached.grad_fn, detached.requires_grad, detached.is_leaf)
with torch.no_grad():
    print("under no_grad:", (leaf * 2).grad_fn, (leaf * 2).requires_grad)
