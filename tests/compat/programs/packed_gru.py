"""Variable-length sequences through a GRU, as sequence-classification labs batch them:
pad_sequence, pack_padded_sequence (sorted and unsorted), a bidirectional nn.GRU,
pad_packed_sequence, nn.GRUCell stepped by hand, and a classifier of "is the sum of the
sequence positive?" trained with NAdam and clip_grad_value_."""

import math

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence


def sequence(i):
    """Sequence i: length 2..7, values from a formula; label: is the sum positive?"""
    n = 2 + (i * 5) % 6
    t = torch.arange(n, dtype=torch.float64)
    return (torch.sin(1.9 * t + 0.7 * i) + 0.15 * math.cos(0.3 * i)).float().unsqueeze(-1)


def fixed_init(model, scale=0.4):
    with torch.no_grad():
        for k, (_, p) in enumerate(sorted(model.named_parameters())):
            n = torch.arange(p.numel(), dtype=torch.float64)
            p.copy_((scale * torch.sin(0.91 * n + 0.5 * k)).float().view_as(p))


seqs = [sequence(i) for i in range(24)]
lengths = torch.tensor([len(s) for s in seqs])
labels = torch.tensor([float(s.sum() > 0) for s in seqs])
padded = pad_sequence(seqs, batch_first=True)
print("lengths:", lengths.tolist())
print("labels:", labels.tolist())
print("padded:", tuple(padded.shape), padded[1, :, 0].tolist() == seqs[1].flatten().tolist()
      + [0.0] * (padded.size(1) - len(seqs[1])))
print("padding_value:", pad_sequence([torch.ones(2), torch.ones(3)], padding_value=-1.0))

packed = pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False)
print("batch_sizes:", packed.batch_sizes.tolist())
print("sorted lengths:", lengths[packed.sorted_indices].tolist())
print("data:", tuple(packed.data.shape))

gru = nn.GRU(1, 6, batch_first=True, bidirectional=True)
fixed_init(gru)
out, h = gru(packed)
unpacked, out_lengths = pad_packed_sequence(out, batch_first=True)
print("unpacked:", tuple(unpacked.shape), out_lengths.tolist(), "h_n:", tuple(h.shape))
print("padding stays zero:", bool((unpacked[0, lengths[0]:] == 0).all()))
alone, h_alone = gru(seqs[3].unsqueeze(0))
print("packed equals one at a time:", torch.allclose(unpacked[3, :lengths[3]], alone[0],
                                                    atol=1e-6),
      torch.allclose(h[:, 3], h_alone[:, 0], atol=1e-6))

cell = nn.GRUCell(1, 6)
with torch.no_grad():
    cell.weight_ih.copy_(gru.weight_ih_l0)
    cell.weight_hh.copy_(gru.weight_hh_l0)
    cell.bias_ih.copy_(gru.bias_ih_l0)
    cell.bias_hh.copy_(gru.bias_hh_l0)
hx = torch.zeros(1, 6)
for step in seqs[3]:
    hx = cell(step.view(1, 1), hx)
print("GRUCell steps to the forward h_n:", torch.allclose(hx[0], h[0, 3], atol=1e-6))


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(1, 8, batch_first=True)
        self.head = nn.Linear(8, 1)

    def forward(self, padded, lengths):
        _, h = self.gru(pack_padded_sequence(padded, lengths, batch_first=True,
                                             enforce_sorted=False))
        return self.head(h[-1]).squeeze(-1)


model = Classifier()
fixed_init(model, scale=0.3)
# eps 1e-5 rather than 1e-8: an entry whose gradient is at float32 rounding level (~1e-9)
# would get a step of lr * g / (|g| + eps), a tenth of lr decided by rounding, and the two
# runs would drift apart by 1e-4; with 1e-5 they agree to ~5e-6
optimizer = torch.optim.NAdam(model.parameters(), lr=0.01, eps=1e-5)
loss_fn = nn.BCEWithLogitsLoss()
for epoch in range(1, 81):
    logits = model(padded, lengths)
    loss = loss_fn(logits, labels)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_value_(model.parameters(), 0.5)
    optimizer.step()
    if epoch % 20 == 0:
        accuracy = ((logits > 0).float() == labels).float().mean().item()
        print(f"~epoch {epoch} loss {loss.item():.6f} accuracy {accuracy:.4f}")
