"""The workloads, each written once against a `lib` that is either chainrule or torch.

Each workload is a function `(lib, data) -> float` that runs the whole job and returns a
number (a final loss) so both libraries can be checked to have done the same work.
"""

from __future__ import annotations

import numpy as np


def _iris_features() -> np.ndarray:
    from chainrule.datasets import load_iris_arrays

    data, _, _ = load_iris_arrays()
    return data


def factorise_data():
    """W1's inputs: mean-centred Iris and fixed uniform starts for U (150x2) and V (4x2)."""
    A = _iris_features()
    A = A - A.mean(axis=0)
    rng = np.random.default_rng(0)
    return {"A": A, "U": rng.random((150, 2)), "V": rng.random((4, 2))}


def factorise(lib, d, epochs: int = 1000, lr: float = 0.01) -> float:
    """W1: the seed's gd_factorise_ad (rank 2, float64, 1000 epochs of gradient descent)."""
    F = lib.nn.functional
    A = lib.tensor(d["A"])
    U = lib.tensor(d["U"], requires_grad=True)
    V = lib.tensor(d["V"], requires_grad=True)
    for _ in range(epochs):
        loss = F.mse_loss(U @ V.t(), A, reduction="sum")
        loss.backward()
        with lib.no_grad():
            U -= lr * U.grad
            V -= lr * V.grad
        U.grad.zero_()
        V.grad.zero_()
    return loss.item()


def iris_mlp_data():
    """W2's inputs: the seed's Iris preparation (normalised, 100 train rows) and 10 inits."""
    from chainrule.datasets import load_iris_arrays

    X, y, _ = load_iris_arrays()
    rng = np.random.default_rng(1)
    order = rng.permutation(150)
    X, y = X[order].astype(np.float32), y[order]
    X = (X - X.mean(axis=0)) / X.var(axis=0, ddof=1)
    inits = [(rng.standard_normal((4, 12)).astype(np.float32),
              rng.standard_normal((12, 3)).astype(np.float32)) for _ in range(10)]
    return {"X": X[:100], "y": y[:100], "inits": inits}


def iris_mlp(lib, d, epochs: int = 100, lr: float = 0.01) -> float:
    """W2: 10 trainings x 100 epochs of the seed's MLP with scalar shared biases."""
    F = lib.nn.functional
    x = lib.tensor(d["X"])
    y = lib.tensor(d["y"])
    total = 0.0
    for w1, w2 in d["inits"]:
        W1 = lib.tensor(w1, requires_grad=True)
        W2 = lib.tensor(w2, requires_grad=True)
        b1 = lib.zeros(1, requires_grad=True)
        b2 = lib.zeros(1, requires_grad=True)
        for _ in range(epochs):
            logits = lib.relu(x @ W1 + b1) @ W2 + b2
            loss = F.cross_entropy(logits, y, reduction="sum")
            loss.backward()
            with lib.no_grad():
                W1 -= lr * W1.grad
                W2 -= lr * W2.grad
                b1 -= lr * b1.grad
                b2 -= lr * b2.grad
            for p in (W1, W2, b1, b2):
                p.grad.zero_()
        total += loss.item()
    return total


WORKLOADS = {
    "W1 factorise (Iris, 1000 epochs)": (factorise_data, factorise, 1.0),
    "W2 iris-mlp (10 x 100 epochs)": (iris_mlp_data, iris_mlp, 1.0),
}


def iris_mlp_jvp_data():
    """W2's data, its first initialisation, and a fixed direction dW1 for W1."""
    d = iris_mlp_data()
    w1, w2 = d["inits"][0]
    dw1 = np.random.default_rng(2).standard_normal(w1.shape).astype(np.float32)
    return {"X": d["X"], "y": d["y"], "W1": w1, "W2": w2, "dW1": dw1}


def _w2_loss(lib, d):
    """W2's loss as a function of W1 alone (W2 and the scalar biases fixed)."""
    x, y, W2 = lib.tensor(d["X"]), lib.tensor(d["y"]), lib.tensor(d["W2"])
    b1, b2 = lib.zeros(1), lib.zeros(1)

    def loss(W1):
        logits = lib.relu(x @ W1 + b1) @ W2 + b2
        return lib.nn.functional.cross_entropy(logits, y, reduction="sum")
    return loss


def w2_forward(lib, d, calls: int = 200) -> float:
    """W2's loss, `calls` times: the plain forward pass (nothing requires grad)."""
    loss, W1 = _w2_loss(lib, d), lib.tensor(d["W1"])
    for _ in range(calls):
        value = loss(W1)
    return value.item()


def w2_jvp(lib, d, calls: int = 200) -> float:
    """The jvp of W2's loss with respect to W1 along dW1 (func.jvp), `calls` times."""
    loss, W1, dW1 = _w2_loss(lib, d), lib.tensor(d["W1"]), lib.tensor(d["dW1"])
    for _ in range(calls):
        _, slope = lib.func.jvp(loss, (W1,), (dW1,))
    return slope.item()


# Workloads timed against a baseline in the same library: name -> (make, baseline, variant,
# goal for chainrule's variant / baseline time; torch's ratio is printed for reference)
RATIO_WORKLOADS = {
    "W2 jvp wrt W1 vs forward loss (200 calls)": (iris_mlp_jvp_data, w2_forward, w2_jvp, 1.5),
}
