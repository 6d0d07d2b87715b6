"""A character-level LSTM language model, in the style of the char-rnn course labs: a
vocabulary from a text, nn.Embedding, a two-layer nn.LSTM, teacher forcing with
CrossEntropyLoss, SGD with momentum and clip_grad_norm_, a checkpoint written to memory with
torch.save and resumed with torch.load, then greedy generation from a prompt.

SGD rather than the labs' RMSprop or Adam: their first updates are close to lr * sign(grad),
so a last-bit difference in a tiny gradient entry becomes a full step and the two runs
drift apart by 1e-3 within 60 steps; SGD's update is linear in the gradient and the runs
agree to about 1e-6."""

import io

import torch
import torch.nn as nn
import torch.nn.functional as F

text = ("the quick brown fox jumps over the lazy dog. "
        "the lazy dog sleeps while the quick fox runs. ") * 2
chars = sorted(set(text))
stoi = {ch: i for i, ch in enumerate(chars)}
itos = {i: ch for ch, i in stoi.items()}
encoded = torch.tensor([stoi[ch] for ch in text], dtype=torch.long)
print("vocabulary:", len(chars), repr("".join(chars)))
print("encoded:", encoded[:12].tolist(), encoded.dtype)


class CharLSTM(nn.Module):
    def __init__(self, vocab, embed=8, hidden=24, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, idx, state=None):
        out, state = self.lstm(self.embed(idx), state)
        return self.head(out), state


def fixed_init(model):
    """Fixed starting weights (nn.LSTM and nn.Embedding draw them at random)."""
    with torch.no_grad():
        for k, (_, p) in enumerate(sorted(model.named_parameters())):
            n = torch.arange(p.numel(), dtype=torch.float32)
            p.copy_((0.25 * torch.sin(0.61 * n + 1.3 * k)).view_as(p))


def batches(seq_len=20, batch=8):
    """Inputs and targets shifted by one character, from evenly spaced starts."""
    starts = torch.linspace(0, len(encoded) - seq_len - 2, batch).long()
    offsets = torch.arange(seq_len)
    inputs = encoded[starts.unsqueeze(1) + offsets]
    return inputs, encoded[starts.unsqueeze(1) + offsets + 1]


def train(model, optimizer, steps, first=1):
    inputs, targets = batches()
    for step in range(first, first + steps):
        logits, _ = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        if step % 25 == 0:
            print(f"~step {step} loss {loss.item():.5f} perplexity {loss.exp().item():.5f}")


model = CharLSTM(len(chars))
fixed_init(model)
print(model)
print("lstm weights:", [(n, tuple(p.shape)) for n, p in model.lstm.named_parameters()][:4])
optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
train(model, optimizer, 50)

buffer = io.BytesIO()
torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": 50},
           buffer)
buffer.seek(0)
checkpoint = torch.load(buffer)
resumed = CharLSTM(len(chars))
resumed.load_state_dict(checkpoint["model"])
resumed_opt = torch.optim.SGD(resumed.parameters(), lr=0.5, momentum=0.9)
resumed_opt.load_state_dict(checkpoint["optimizer"])
print("checkpoint:", checkpoint["step"], sorted(checkpoint["optimizer"]["state"][0]))
train(model, optimizer, 50, first=51)
train(resumed, resumed_opt, 50, first=51)
print("resumed run equals the uninterrupted one:",
      all(torch.equal(a, b) for a, b in zip(model.parameters(), resumed.parameters())))


@torch.no_grad()
def generate(model, prompt, length=40):
    model.eval()
    idx = torch.tensor([[stoi[ch] for ch in prompt]])
    logits, state = model(idx)
    out = prompt
    for _ in range(length):
        nxt = logits[0, -1].argmax()
        out += itos[nxt.item()]
        logits, state = model(nxt.view(1, 1), state)
    return out


print("generated:", repr(generate(model, "the ")))
h, c = model(torch.tensor([[stoi["t"]]]))[1]
print("state shapes:", tuple(h.shape), tuple(c.shape))
