"""The perceptron training algorithm of the workshop (seed 004), on two Iris classes.

Starting from w = 0, the perceptron looks at one example at a time, predicts
sgn(w . x) (with sgn(0) = +1, as the slide's f(s)), and on a mistake moves w towards the
example: w <- w + eta * y * x. The bias is the weight of a constant feature 1. If the two
classes can be split by a line, the perceptron convergence theorem says this stops making
mistakes after finitely many updates; if they cannot, it never settles. The lab shows both:
setosa vs versicolor (separable) converges, counting the mistakes of every pass over the
data until a pass with none; versicolor vs virginica (not separable in these features)
still makes mistakes after the last of `max_epochs` passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import chainrule as torch
from chainrule.datasets import Iris, iris
from chainrule.labs._core import Result, Table

TITLE = "The perceptron algorithm on two Iris classes"


@dataclass
class Config:
    classes: list[int] = field(default_factory=lambda: [0, 1])  # setosa vs versicolor
    features: list[int] = field(default_factory=lambda: [0, 2])  # sepal length, petal length
    lr: float = 1.0  # eta; with w0 = 0 it only scales w, so the mistakes do not depend on it
    max_epochs: int = 100
    show_nonseparable: bool = True  # also run versicolor vs virginica, which never converges

    @classmethod
    def quick(cls) -> Config:
        return cls(max_epochs=20)


def perceptron(X, y, max_epochs: int = 100, lr: float = 1.0):
    """The workshop's Perceptron(w0 = 0), one pass over the data per epoch.

    X: (n, d) features, y: (n,) labels in {-1, +1}. Returns w (d + 1,) with the bias last,
    and the number of mistakes in each epoch (the last one is 0 if it converged)."""
    n, d = X.shape
    X = torch.cat([X, torch.ones(n, 1, dtype=X.dtype)], dim=1)  # bias = weight of feature 1
    w = torch.zeros(d + 1, dtype=X.dtype)
    mistakes = []
    for _ in range(max_epochs):
        errors = 0
        for x_t, y_t in zip(X, y.tolist()):
            y_hat = 1 if torch.dot(w, x_t).item() >= 0 else -1
            if y_hat != y_t:
                w = w + lr * y_t * x_t
                errors += 1
        mistakes.append(errors)
        if errors == 0:  # a clean pass: every example is on the right side
            break
    return w, mistakes


def two_classes(classes, features, generator):
    """The rows of two Iris classes, the chosen features, labels -1 / +1, in random order."""
    data, target, names = iris()
    keep = (target == classes[0]) | (target == classes[1])
    X = data[keep][:, features]
    y = torch.where(target[keep] == classes[1], 1, -1)
    order = torch.randperm(len(y), generator=generator)  # the order examples arrive in
    return X[order], y[order], [names[c] for c in classes]


def run(config: Config, ctx) -> Result:
    pairs = [list(config.classes)]
    if config.show_nonseparable and sorted(config.classes) != [1, 2]:
        pairs.append([1, 2])
    runs = []
    for classes in ctx.progress(pairs, desc="class pairs"):
        X, y, names = two_classes(classes, config.features, ctx.generator())
        w, mistakes = perceptron(X, y, config.max_epochs, config.lr)
        Xb = torch.cat([X, torch.ones(len(y), 1, dtype=X.dtype)], dim=1)
        pred = torch.where(Xb @ w >= 0, 1, -1)
        acc = (pred == y).double().mean().item()
        runs.append({"names": names, "X": X, "y": y, "w": w, "mistakes": mistakes,
                     "converged": mistakes[-1] == 0, "accuracy": acc})

    fig, axes = ctx.figure(ncols=2, size=(5.0, 4.0))
    for r in runs:
        axes[0].plot(range(1, len(r["mistakes"]) + 1), r["mistakes"], marker=".",
                     label=" vs ".join(r["names"]))
    axes[0].set_xlabel("epoch (one pass over the data)")
    axes[0].set_ylabel("mistakes (= updates of w)")
    axes[0].set_title("Mistakes per epoch")
    axes[0].legend(fontsize=8)
    _boundary(axes[1], runs[0], config.features)
    ctx.save(fig, "perceptron", "Left: mistakes in each pass. Right: the learned boundary "
             f"w . x = 0 for {' vs '.join(runs[0]['names'])}.")
    if len(runs) > 1:
        fig, ax = ctx.figure(size=(5.0, 4.0))
        _boundary(ax, runs[1], config.features)
        ctx.save(fig, "nonseparable", "The boundary after the last epoch on classes that no "
                 "line separates: the perceptron keeps moving it.")

    rows = [[" vs ".join(r["names"]), len(r["mistakes"]), r["mistakes"][0], r["mistakes"][-1],
             r["converged"], r["accuracy"],
             "converges (separable)" if i == 0 else "-"] for i, r in enumerate(runs)]
    table = Table("Perceptron runs", ["classes", "epochs", "mistakes in epoch 1",
                                      "mistakes in last epoch", "converged",
                                      "training accuracy", "course"], rows)
    first = runs[0]
    metrics = {" vs ".join(r["names"]): {"epochs": len(r["mistakes"]),
                                         "mistakes": r["mistakes"], "converged": r["converged"],
                                         "accuracy": r["accuracy"], "w": r["w"]} for r in runs}
    summary = (f"{' vs '.join(first['names'])}: "
               + (f"converged after {len(first['mistakes'])} epochs "
                  f"({sum(first['mistakes'])} updates)" if first["converged"]
                  else f"not converged in {len(first['mistakes'])} epochs"))
    if len(runs) > 1:
        r = runs[1]
        summary += (f"; {' vs '.join(r['names'])}: "
                    + ("converged" if r["converged"] else
                       f"{r['mistakes'][-1]} mistakes in epoch {len(r['mistakes'])}"))
    return Result(summary, metrics, [table])


def _boundary(ax, r, features) -> None:
    X, y, w = r["X"].numpy(), r["y"].numpy(), r["w"].numpy()
    for label, marker, name in ((-1, "o", r["names"][0]), (1, "^", r["names"][1])):
        ax.scatter(X[y == label, 0], X[y == label, 1], marker=marker, s=18, label=name)
    xs = [X[:, 0].min() - 0.2, X[:, 0].max() + 0.2]
    if abs(w[1]) > 1e-12:  # w0 x0 + w1 x1 + b = 0  ->  x1 = -(w0 x0 + b) / w1
        ax.plot(xs, [-(w[0] * x + w[2]) / w[1] for x in xs], "k-", label="w . x = 0")
    ax.set_ylim(X[:, 1].min() - 0.3, X[:, 1].max() + 0.3)
    ax.set_xlabel(Iris.feature_names[features[0]])
    ax.set_ylabel(Iris.feature_names[features[1]])
    ax.set_title(" vs ".join(r["names"]))
    ax.legend(fontsize=8)


LISTING = [perceptron, two_classes]
