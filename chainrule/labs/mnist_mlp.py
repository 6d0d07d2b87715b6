"""Multi-layer perceptrons on MNIST: ReLU vs sigmoid, any number of hidden layers, SGD with
momentum (seed 003, questions 9-11).

The assignment builds an MLP in vugrad, swaps its sigmoid for a ReLU (question 9), makes the
hidden layers a list and adds momentum (question 10), and finally trains an MLP in PyTorch
(question 11); its reported validation accuracies run from 95.6% to 98.1%. Here the same
network is written with `chainrule.nn`: `Linear` layers with the chosen activation between
them and `LogSoftmax` on top, trained with `NLLLoss` by minibatch SGD with momentum on the
60,000 training images scaled to [0, 1], one network per activation, and evaluated after
every epoch on the 10,000 held-out test images.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from matplotlib.ticker import MaxNLocator

import chainrule as torch
import chainrule.nn as nn
from chainrule.labs._core import Result, Table
from chainrule.labs._mnist import load_mnist, minibatches

TITLE = "MNIST MLPs: ReLU vs sigmoid, SGD with momentum"

COURSE = [["vugrad MLP, one hidden layer, sigmoid (q9)", 0.972],
          ["vugrad MLP, one hidden layer, ReLU (q9)", 0.956],
          ["vugrad MLP, hidden [1568, 784, 392], ReLU, momentum 0.9 (q10)", 0.977],
          ["PyTorch MLP, hidden [4096, 1024, 128], dropout 0.3, SGD momentum (q11)", 0.981]]


@dataclass
class Config:
    hidden: list[int] = field(default_factory=lambda: [512, 256])
    activations: list[str] = field(default_factory=lambda: ["relu", "sigmoid"])
    epochs: int = 10
    batch_size: int = 128
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 0.0
    dropout: float = 0.0
    train_limit: int | None = None  # use the first N training images (quick runs)
    val_limit: int | None = None

    @classmethod
    def quick(cls) -> Config:
        return cls(hidden=[128], epochs=1, train_limit=2000, val_limit=500)


def make_mlp(hidden, activation: str = "relu", dropout: float = 0.0):
    """784 -> hidden[0] -> ... -> hidden[-1] -> 10, log-probabilities out (question 10)."""
    act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[activation]
    layers, width = [], 784
    for h in hidden:
        layers += [nn.Linear(width, h), act()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = h
    layers += [nn.Linear(width, 10), nn.LogSoftmax(dim=1)]
    return nn.Sequential(*layers)


def train_step(model, opt, compile: bool = False):
    """One minibatch's work (zero_grad, forward, backward, update) as one function of the
    batch that returns the loss; with `compile`, wrapped in torch.compile (traced on its
    first calls, replayed after)."""
    criterion = nn.NLLLoss()

    def step(x, y):
        opt.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return torch.compile(step) if compile else step


def train_epoch(model, step, x, y, batch_size, generator, progress=None):
    """One pass over (x, y) in shuffled minibatches, one `step` each; the mean training
    loss."""
    model.train()
    total, seen = 0.0, 0
    batches = minibatches(len(y), batch_size, generator)
    for idx in (progress(batches) if progress else batches):
        loss = step(x[idx], y[idx])
        total += loss.item() * len(idx)  # read after the step: the step stays one trace
        seen += len(idx)
    return total / seen


def evaluate(model, x, y, batch_size: int = 1000):
    """(mean NLL loss, accuracy) on (x, y), in batches, without building a graph."""
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(y), batch_size):
            out = model(x[i:i + batch_size])
            target = y[i:i + batch_size]
            loss += nn.functional.nll_loss(out, target, reduction="sum").item()
            correct += (out.argmax(dim=1) == target).sum().item()
    return loss / len(y), correct / len(y)


def fit(model, opt, data, config, ctx, label: str, scheduler=None, compile: bool = False):
    """Train for config.epochs, evaluating after each: the per-epoch history."""
    x_tr, y_tr, x_va, y_va = data
    step = train_step(model, opt, compile)
    g = ctx.generator()  # the batch order: the same for every model of the lab
    history = {"train_loss": [], "val_loss": [], "val_acc": [], "seconds": []}
    import time

    epochs = ctx.progress(range(config.epochs), desc=f"{label} epochs", leave=ctx.show_progress)
    for _ in epochs:
        start = time.perf_counter()
        loss = train_epoch(model, step, x_tr, y_tr, config.batch_size, g,
                           lambda it: ctx.progress(it, desc="batches"))
        if scheduler is not None:
            scheduler.step()
        val_loss, val_acc = evaluate(model, x_va, y_va)
        history["train_loss"].append(loss)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        history["seconds"].append(time.perf_counter() - start)
        epochs.set_postfix(loss=f"{loss:.4f}", val_acc=f"{val_acc:.4f}")
    return history


def learned(trained):
    """What a training run learned, for comparing runs: (model, optimizer, history) without
    the history's timings."""
    model, opt, history = trained
    return model, opt, {k: v for k, v in history.items() if k != "seconds"}


def plot_history(ctx, histories: dict, title: str, name: str, caption: str, course=None):
    fig, axes = ctx.figure(ncols=2, size=(5.0, 3.8))
    for i, (label, h) in enumerate(histories.items()):
        epochs = range(1, len(h["val_loss"]) + 1)
        axes[0].plot(epochs, h["train_loss"], "--", color=f"C{i}", label=f"{label}, train")
        axes[0].plot(epochs, h["val_loss"], "-o", color=f"C{i}", markersize=3,
                     label=f"{label}, validation")
        axes[1].plot(epochs, [100 * a for a in h["val_acc"]], "-o", color=f"C{i}",
                     markersize=3, label=label)
    if course is not None:
        axes[1].axhline(100 * course, color="k", linestyle="--", linewidth=0.8,
                        label=f"course {100 * course:.1f}%")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("NLL loss")
    axes[0].set_title(f"{title}: loss")
    axes[0].legend(fontsize=7)
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("validation accuracy (%)")
    axes[1].set_title(f"{title}: accuracy")
    axes[1].legend(fontsize=7)
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    ctx.save(fig, name, caption)


def run(config: Config, ctx) -> Result:
    data = load_mnist(ctx.data_dir, config.train_limit, config.val_limit, flat=True)
    histories, models = {}, {}
    for activation in config.activations:
        def train(compile, activation=activation):
            torch.manual_seed(ctx.seed)  # the same initial weights' stream for each activation
            model = make_mlp(config.hidden, activation, config.dropout)
            opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                  weight_decay=config.weight_decay)
            return model, opt, fit(model, opt, data, config, ctx, activation, compile=compile)

        model, _, histories[activation] = ctx.train(activation, train, same=learned)
        models[activation] = model

    sizes = "-".join(str(s) for s in [784, *config.hidden, 10])
    plot_history(ctx, histories, f"MLP {sizes}", "curves",
                 f"MLP {sizes}, SGD lr {config.lr:g} momentum {config.momentum:g}, batch "
                 f"{config.batch_size}: loss and validation accuracy after each epoch.")
    rows = [[f"chainrule MLP {sizes}, {a}", h["val_acc"][-1], max(h["val_acc"]),
             h["val_loss"][-1], sum(h["seconds"]), None] for a, h in histories.items()]
    rows += [[what, None, None, None, None, acc] for what, acc in COURSE]
    table = Table("Validation accuracy, measured vs course", ["model", "final accuracy",
                  "best accuracy", "final loss", "seconds", "course accuracy"], rows,
                  fmt="{:.4f}",
                  note=f"Training on {len(data[1])} images, validating on {len(data[3])}; "
                  "seconds: training and evaluation time of all epochs.")
    metrics = {a: {**h, "final_val_acc": h["val_acc"][-1], "best_val_acc": max(h["val_acc"])}
               for a, h in histories.items()}
    summary = ", ".join(f"{a} {100 * h['val_acc'][-1]:.2f}%" for a, h in histories.items())
    summary = (f"MLP {sizes}, {config.epochs} epochs: validation accuracy {summary} "
               "(course 95.6% to 98.1%)")
    return Result(summary, metrics, [table])


LISTING = [make_mlp, train_step, train_epoch, evaluate, fit]
