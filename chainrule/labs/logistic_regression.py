"""Logistic regression trained with autograd (seed 004's workshop, second half).

The model is p(y = 1 | x) = sigmoid(w . x + b). Its loss, the mean binary cross-entropy
-[y log p + (1 - y) log(1 - p)], is written in the stable form softplus(z) - y z with
z = w . x + b (the same function, without log(0) for confident predictions). Autograd gives
dL/dw and dL/db, and plain gradient descent follows them. The data are two Iris classes that
no line separates exactly (versicolor vs virginica, petal length and width, standardised),
split 70/30 at random into training and test sets: unlike the perceptron, logistic
regression still converges there, to the boundary of maximum likelihood.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import chainrule as torch
from chainrule.datasets import Iris, iris
from chainrule.labs._core import Result, Table

TITLE = "Logistic regression with autograd on two Iris classes"


@dataclass
class Config:
    classes: list[int] = field(default_factory=lambda: [1, 2])  # versicolor vs virginica
    features: list[int] = field(default_factory=lambda: [2, 3])  # petal length, petal width
    test_fraction: float = 0.3
    epochs: int = 1000
    lr: float = 1.0

    @classmethod
    def quick(cls) -> Config:
        return cls(epochs=200)


def train_logistic_regression(X, y, epochs: int = 1000, lr: float = 1.0, X_test=None,
                              y_test=None, compile: bool = False):
    """Full-batch gradient descent on the mean binary cross-entropy; y in {0, 1}. An epoch's
    work is one function `step` (which `torch.compile` can trace once and replay)."""
    w = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)
    b = torch.zeros(1, dtype=X.dtype, requires_grad=True)

    def step(X, y, w, b):
        z = X @ w + b                           # the logits, one per example
        loss = (z.softplus() - y * z).mean()    # = BCE(sigmoid(z), y), computed stably
        loss.backward()
        with torch.no_grad():
            test_loss = None
            if X_test is not None:  # the test loss of the same (w, b), for the curve
                zt = X_test @ w + b
                test_loss = (zt.softplus() - y_test * zt).mean()
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
        return loss, test_loss

    if compile:
        step = torch.compile(step)
    history = {"train": [], "test": []}
    for _ in range(epochs):
        loss, test_loss = step(X, y, w, b)
        if test_loss is not None:
            history["test"].append(test_loss.item())
        history["train"].append(loss.item())
    return w.detach(), b.detach(), history


def split(classes, features, test_fraction, generator):
    """Two classes, standardised features (training-set statistics), labels 0/1, 70/30."""
    data, target, names = iris()
    keep = (target == classes[0]) | (target == classes[1])
    X = data[keep][:, features]
    y = (target[keep] == classes[1]).double()
    order = torch.randperm(len(y), generator=generator)
    n_test = round(test_fraction * len(y))
    test, train = order[:n_test], order[n_test:]
    mean, std = X[train].mean(dim=0), X[train].std(dim=0)
    X = (X - mean) / std
    return X[train], y[train], X[test], y[test], [names[c] for c in classes], (mean, std)


def accuracy(X, y, w, b) -> float:
    return ((X @ w + b >= 0).double() == y).double().mean().item()


def run(config: Config, ctx) -> Result:
    X, y, Xt, yt, names, (mean, std) = split(config.classes, config.features,
                                             config.test_fraction, ctx.generator())
    w, b, history = ctx.train("gradient descent", lambda compile: train_logistic_regression(
        X, y, config.epochs, config.lr, Xt, yt, compile))
    train_acc, test_acc = accuracy(X, y, w, b), accuracy(Xt, yt, w, b)

    fig, axes = ctx.figure(ncols=2, size=(5.0, 4.0))
    epochs = range(1, len(history["train"]) + 1)
    axes[0].plot(epochs, history["train"], label="training")
    axes[0].plot(epochs, history["test"], label="test")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("mean binary cross-entropy")
    axes[0].set_title(f"Loss (gradient descent, lr {config.lr:g})")
    axes[0].legend()
    ax = axes[1]
    for Xs, ys, marker, what in ((X, y, "o", "train"), (Xt, yt, "x", "test")):
        raw = (Xs * std + mean).numpy()  # back to centimetres for the plot
        for c in (0, 1):
            ax.scatter(raw[ys.numpy() == c, 0], raw[ys.numpy() == c, 1], marker=marker, s=20,
                       color=f"C{c}", label=f"{names[c]} ({what})")
    wn, bn = w.numpy(), b.item()
    s, m = std.numpy(), mean.numpy()
    xs = [raw[:, 0].min() - 0.3, raw[:, 0].max() + 0.3]
    # w . (x - m) / s + b = 0, solved for the second feature in cm
    ax.plot(xs, [m[1] - s[1] / wn[1] * (wn[0] * (x - m[0]) / s[0] + bn) for x in xs], "k-",
            label="p = 0.5")
    ax.set_xlabel(Iris.feature_names[config.features[0]])
    ax.set_ylabel(Iris.feature_names[config.features[1]])
    ax.set_title("Decision boundary")
    ax.legend(fontsize=7)
    ctx.save(fig, "logistic", "Left: training and test loss per epoch. Right: the data and "
             "the boundary sigmoid(w . x + b) = 0.5.")

    table = Table(f"Logistic regression, {' vs '.join(names)}",
                  ["quantity", "measured", "course"],
                  [["final training loss", history["train"][-1], None],
                   ["final test loss", history["test"][-1], None],
                   ["training accuracy", train_acc, None],
                   ["test accuracy", test_acc, None]],
                  note="The workshop trains this model but reports no numbers; the perceptron "
                  "lab shows the same two classes defeating the perceptron.")
    metrics = {"train_accuracy": train_acc, "test_accuracy": test_acc,
               "final_train_loss": history["train"][-1], "final_test_loss": history["test"][-1],
               "w": w, "b": b.item()}
    summary = (f"{' vs '.join(names)}: training accuracy {train_acc:.3f}, test accuracy "
               f"{test_acc:.3f}, loss {history['train'][-1]:.3f}")
    return Result(summary, metrics, [table])


LISTING = [train_logistic_regression, split]
