"""An RNN regressor in the style of the time-series course labs: nn.RNN reads a window of a
noisy-free sine wave and a Linear head predicts the next value; Adam, MSELoss, gradient
clipping with clip_grad_norm_, then a closed-loop forecast that feeds predictions back."""

import math

import torch
import torch.nn as nn


class SineRNN(nn.Module):
    def __init__(self, hidden_size=12, num_layers=2):
        super().__init__()
        self.rnn = nn.RNN(input_size=1, hidden_size=hidden_size, num_layers=num_layers,
                          nonlinearity="tanh", batch_first=True)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x, h0=None):
        out, h = self.rnn(x, h0)
        return self.head(out[:, -1]), h


def fixed_init(model):
    """Fixed starting weights (an RNN draws them from U(-1/sqrt(hidden), 1/sqrt(hidden)))."""
    with torch.no_grad():
        for k, (_, p) in enumerate(sorted(model.named_parameters())):
            n = torch.arange(p.numel(), dtype=torch.float32)
            p.copy_((0.3 * torch.sin(0.37 * n + k)).view_as(p))


def windows(n, length=16):
    """n windows of a sine wave at different phases and the value that follows each."""
    t = torch.arange(length + 1, dtype=torch.float32)
    phase = torch.arange(n, dtype=torch.float32).unsqueeze(1) * (2 * math.pi / n)
    wave = torch.sin(0.4 * t + phase) * (0.8 + 0.1 * torch.cos(phase))
    return wave[:, :-1].unsqueeze(-1), wave[:, -1:]


model = SineRNN()
fixed_init(model)
print(model)
print("parameters:", [(name, tuple(p.shape)) for name, p in model.named_parameters()])
x, y = windows(32)
print("batch:", tuple(x.shape), tuple(y.shape))
out, h = model.rnn(x)
print("rnn output:", tuple(out.shape), "h_n:", tuple(h.shape))
print("last step is h_n:", torch.allclose(out[:, -1], h[-1]))

optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
loss_fn = nn.MSELoss()
for step in range(1, 121):
    optimizer.zero_grad()
    pred, _ = model(x)
    loss = loss_fn(pred, y)
    loss.backward()
    norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
    if step % 30 == 0:
        print(f"~step {step} loss {loss.item():.6f} grad norm {norm.item():.6f}")

model.eval()
with torch.no_grad():
    window = x[:1].clone()
    forecast = []
    for _ in range(8):
        pred, _ = model(window)
        forecast.append(round(pred.item(), 6))
        window = torch.cat([window[:, 1:], pred.view(1, 1, 1)], dim=1)
print("~forecast:", forecast)
t = torch.arange(16, 24, dtype=torch.float32)
print("~truth:   ", [round(v, 6) for v in (0.9 * torch.sin(0.4 * t)).tolist()])
