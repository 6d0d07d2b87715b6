"""nn.Module as the "Build the Neural Network" tutorial and course labs inspect it:
printing, named parameters, state_dict, containers, train/eval, hooks, apply, requires_grad."""

from collections import OrderedDict

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.linear = nn.Linear(d, d)
        self.norm = nn.LayerNorm(d)
        self.register_buffer("scale", torch.tensor(2.0))

    def forward(self, x):
        return self.norm(torch.relu(self.linear(x))) * self.scale


model = nn.Sequential(OrderedDict([
    ("embed", nn.Linear(3, 4)),
    ("blocks", nn.ModuleList([Block(4), Block(4)])),
    ("head", nn.Linear(4, 2)),
]))


def init(m):
    if isinstance(m, nn.Linear):
        with torch.no_grad():
            k = torch.arange(m.weight.numel(), dtype=torch.float32)
            m.weight.copy_((0.5 * torch.sin(1.7 * k + m.in_features)).view_as(m.weight))
            nn.init.constant_(m.bias, 0.01)


model.apply(init)
print(model)
for name, param in model.named_parameters():
    print(f"~Layer: {name} | Size: {tuple(param.size())} | Values : {param[:1].tolist()}")
print("state_dict:", list(model.state_dict().keys()))
print("buffers:", [n for n, _ in model.named_buffers()])
print("modules:", [n for n, _ in model.named_modules()])
print("children:", [type(c).__name__ for c in model.children()])

seen = []
handle = model.embed.register_forward_hook(lambda m, inp, out: seen.append(tuple(out.shape)))
x = torch.tensor([[1.0, -1.0, 0.5], [0.0, 2.0, -0.5]])
h = model.embed(x)
for block in model.blocks:
    h = block(h)
out = model.head(h)
handle.remove()
model.embed(x)
print("hook saw:", seen)
print("~out:", out.detach().flatten().tolist())
out.sum().backward()
print("~embed grad:", model.embed.weight.grad.flatten().tolist())
model.eval()
print("training flags:", model.training, model.blocks[0].training)
model.train()
print("after train():", model.blocks[1].training)
for p in model.embed.parameters():
    p.requires_grad_(False)
print("trainable:", sum(p.numel() for p in model.parameters() if p.requires_grad))
model.zero_grad()
print("grads cleared:", all(p.grad is None for p in model.parameters()))
clone = nn.Sequential(OrderedDict([
    ("embed", nn.Linear(3, 4)),
    ("blocks", nn.ModuleList([Block(4), Block(4)])),
    ("head", nn.Linear(4, 2)),
]))
print("load_state_dict:", clone.load_state_dict(model.state_dict()))
print("same output:", torch.allclose(clone.head(clone.blocks[1](clone.blocks[0](clone.embed(x)))),
                                     out))
