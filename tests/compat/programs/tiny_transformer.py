"""A tiny transformer, in the style of the "Language Modeling with nn.Transformer" tutorial
and attention course labs: scaled dot-product attention written by hand and with
F.scaled_dot_product_attention, nn.MultiheadAttention with its averaged attention weights,
a sinusoidal PositionalEncoding, and a causal nn.TransformerEncoder trained to continue a
cycle of tokens, with AdamW, a warm-up LambdaLR and clip_grad_norm_.

Dropout is 0 (its random masks would differ between libraries). The model trains in
float64: while its loss falls fastest, rounding differences between the libraries grow
about 1e3-fold per 10 steps, so float32 runs drift apart by 1e-3; in float64 they agree
to about 1e-11."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def fixed(*shape, scale=0.5, phase=0.0):
    n = torch.arange(math.prod(shape), dtype=torch.float64)
    return (scale * torch.sin(0.73 * n + phase)).float().view(*shape)


def fixed_init(model):
    """Fixed starting weights (the layers draw theirs at random); LayerNorm keeps its
    deterministic ones and zeros."""
    with torch.no_grad():
        for k, (name, p) in enumerate(sorted(model.named_parameters())):
            if ".norm" not in name:
                p.copy_(fixed(*p.shape, scale=0.3, phase=1.1 * k))


# attention by hand, and as the library computes it
q, k, v = fixed(2, 4, 8), fixed(2, 4, 8, phase=1.0), fixed(2, 4, 8, phase=2.0)
scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
mask = torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1)
weights = scores.masked_fill(mask, float("-inf")).softmax(dim=-1)
by_hand = weights @ v
sdpa = F.scaled_dot_product_attention(q, k, v, is_causal=True)
print("~causal weights row 2:", [round(w, 6) for w in weights[0, 2].tolist()])
print("sdpa matches:", torch.allclose(by_hand, sdpa, atol=1e-6), tuple(sdpa.shape))
print("bool mask matches:", torch.allclose(
    sdpa, F.scaled_dot_product_attention(q, k, v, attn_mask=~mask), atol=1e-6))

mha = nn.MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True)
fixed_init(mha)
print("mha parameters:", [(n, tuple(p.shape)) for n, p in mha.named_parameters()])
out, attn = mha(q, k, v, need_weights=True)
print("mha:", tuple(out.shape), tuple(attn.shape), "rows sum to 1:",
      torch.allclose(attn.sum(-1), torch.ones(2, 4)))
print("~mha out[0, 0]:", [round(x, 6) for x in out[0, 0].tolist()])
_, per_head = mha(q, q, q, need_weights=True, average_attn_weights=False,
                  attn_mask=nn.Transformer.generate_square_subsequent_mask(4))
print("per-head weights:", tuple(per_head.shape), "future masked:",
      bool((per_head[..., 0, 1:] == 0).all()))


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=64):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return x + self.pe[: x.size(1)]


class TinyLM(nn.Module):
    def __init__(self, vocab, d_model=16, nhead=2, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.pos = PositionalEncoding(d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=32, dropout=0.0,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, vocab)
        self.d_model = d_model

    def forward(self, idx):
        mask = nn.Transformer.generate_square_subsequent_mask(idx.size(1))
        h = self.pos(self.embed(idx) * math.sqrt(self.d_model))
        return self.head(self.encoder(h, mask=mask, is_causal=True))


torch.set_default_dtype(torch.float64)  # see the docstring
pattern = torch.tensor([0, 1, 2, 3, 4, 5])
data = pattern.repeat(6)
starts = torch.arange(0, 18, 3)
inputs = torch.stack([data[s:s + 12] for s in starts.tolist()])
targets = torch.stack([data[s + 1:s + 13] for s in starts.tolist()])
model = TinyLM(vocab=6)
fixed_init(model)
print("encoder layers:", len(model.encoder.layers), type(model.encoder.layers[0]).__name__)
print("parameters:", sum(p.numel() for p in model.parameters()))
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 10))
for step in range(1, 101):
    logits = model(inputs)
    loss = F.cross_entropy(logits.reshape(-1, 6), targets.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    if step % 20 == 0:
        print(f"~step {step} loss {loss.item():.5f} lr {scheduler.get_last_lr()[0]:.5f}")

model.eval()
with torch.no_grad():
    seq = torch.tensor([[0, 1, 2]])
    for _ in range(9):
        nxt = model(seq)[:, -1].argmax(-1, keepdim=True)
        seq = torch.cat([seq, nxt], dim=1)
    print("continued:", seq[0].tolist())
    accuracy = (model(inputs).argmax(-1) == targets).float().mean().item()
    print("accuracy:", round(accuracy, 4))
