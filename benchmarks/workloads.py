"""The workloads, each written once against a `lib` that is either chainrule or torch.

WORKLOADS: training jobs built per run as step functions (see `Workload`), so that the runner
can run each step eagerly or wrapped by `chainrule.compile`. RATIO_WORKLOADS: functions
`(lib, data) -> float` timed against a baseline in the same library. Every job returns a
number (a final loss) so both libraries can be checked to have done the same work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

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


def factorise_setup(lib, d, steps: int, lr: float = 0.01) -> list:
    """W1: the seed's gd_factorise_ad (rank 2, float64): `steps` epochs of gradient descent,
    with the seed's manual update `U -= lr * U.grad` under no_grad."""
    F = lib.nn.functional
    A = lib.tensor(d["A"])

    def step(U, V):
        loss = F.mse_loss(U @ V.t(), A, reduction="sum")
        loss.backward()
        with lib.no_grad():
            U -= lr * U.grad
            V -= lr * V.grad
        U.grad.zero_()
        V.grad.zero_()
        return loss
    U = lib.tensor(d["U"], requires_grad=True)
    V = lib.tensor(d["V"], requires_grad=True)
    return [(step, [(U, V)] * steps)]


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


def iris_mlp_setup(lib, d, steps: int, lr: float = 0.01) -> list:
    """W2: 10 trainings x `steps` epochs of the seed's MLP with scalar shared biases; one step
    function serves every training (the parameters are its arguments)."""
    F = lib.nn.functional
    x = lib.tensor(d["X"])
    y = lib.tensor(d["y"])

    def step(W1, W2, b1, b2):
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
        return loss
    job = []
    for w1, w2 in d["inits"]:
        params = (lib.tensor(w1, requires_grad=True), lib.tensor(w2, requires_grad=True),
                  lib.zeros(1, requires_grad=True), lib.zeros(1, requires_grad=True))
        job.append((step, [params] * steps))
    return job


def autoencoder_data(steps: int = 0) -> dict:
    """W3's inputs: the seed's 100 points, uniform on the unit square then sheared, and one
    shared start (wEncoder 2x1, bEncoder 1, wDecoder 1x2, bDecoder 1x2), float32."""
    rng = np.random.default_rng(4)
    x = rng.random((100, 2), dtype=np.float32)
    x[:, 0] = x[:, 0] + x[:, 1]
    x[:, 1] = 0.5 * x[:, 0] + x[:, 1]
    init = [rng.standard_normal(s).astype(np.float32) for s in ((2, 1), (1,), (1, 2), (1, 2))]
    return {"x": x, "init": init}


def _encoder(x, w, b):
    return x[:, 0] * w[0] + x[:, 1] * w[1] + b


def _decoder(lib, z, w, b):
    x = lib.ones(z.shape[0], 2)  # the seed fills the output column by column
    x[:, 0] = z * w[:, 0] + b[:, 0]
    x[:, 1] = z * w[:, 1] + b[:, 1]
    return x


# The seed's three runs (the lab's momentum for the lines the notebook cuts off)
AUTOENCODER_OPTIMISERS = (("SGD", {}), ("SGD", {"momentum": 0.9}),
                          ("RMSprop", {"momentum": 0.9}))


def _autoencoder_step(lib, opt, params, loss_func):
    wEncoder, bEncoder, wDecoder, bDecoder = params

    def step(x):
        opt.zero_grad()
        y = _decoder(lib, _encoder(x, wEncoder, bEncoder), wDecoder, bDecoder)
        loss = loss_func(y, x)
        loss.backward()
        opt.step()
        return loss
    return step


def autoencoder_setup(lib, d, steps: int, lr: float = 0.01) -> list:
    """W3: the seed's linear autoencoder 2-1-2 (setitem decoder, MSELoss), `steps` steps with
    each of SGD, SGD with momentum and RMSprop, from the same start."""
    x = lib.tensor(d["x"])
    loss_func = lib.nn.MSELoss()
    job = []
    for name, options in AUTOENCODER_OPTIMISERS:
        params = [lib.tensor(p, requires_grad=True) for p in d["init"]]
        opt = getattr(lib.optim, name)(params, lr=lr, **options)
        job.append((_autoencoder_step(lib, opt, params, loss_func), [(x,)] * steps))
    return job


_SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def mnist_or_random(n: int) -> tuple[np.ndarray, np.ndarray, str]:
    """The first n MNIST training images (float32 (n, 1, 28, 28), pixel / 255) and int64
    labels, from ../shared/data/mnist or chainrule's data directory; fixed uniform random
    images and labels of the same shapes when the files are not there."""
    from chainrule.datasets import MNIST

    for root in (_SHARED_MNIST, None):
        try:
            train = MNIST(root, train=True)
        except FileNotFoundError:
            continue
        x = train.data.numpy()[:n].reshape(n, 1, 28, 28).astype(np.float32) / 255
        return x, train.targets.numpy()[:n].copy(), "MNIST"
    rng = np.random.default_rng(5)
    return (rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, n),
            "random (MNIST not found)")


def _initial_state(build) -> dict:
    """A model's initial parameters and buffers as NumPy arrays: `build(chainrule)` under
    seed 0, with PyTorch's default initialisation; both libraries load these."""
    import chainrule

    chainrule.manual_seed(0)
    return {k: v.numpy().copy() for k, v in build(chainrule).state_dict().items()}


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                         nn.Linear(1024, 10))


def mlp_data(steps: int, batch: int = 128) -> dict:
    """W4's inputs: `steps` batches of `batch` flattened images, the MLP's start."""
    x, y, source = mnist_or_random(steps * batch)
    return {"x": x.reshape(-1, 784), "y": y, "batch": batch, "source": source,
            "state": _initial_state(mlp)}


def mlp_flops(batch: int = 128) -> float:
    """W4's GEMM flops per step: forward x W^T for each layer, and in backward the weight
    gradient of each layer and the input gradient of all but the first (x needs none)."""
    layers = ((784, 1024), (1024, 1024), (1024, 10))
    forward = sum(2.0 * batch * i * o for i, o in layers)
    return 3 * forward - 2.0 * batch * 784 * 1024


def cnn(lib, dropout: float = 0.3):
    """Seed 003's Sequential (question 12), layer for layer, the last Dropout included."""
    nn = lib.nn
    return nn.Sequential(
        nn.BatchNorm2d(1),
        nn.Conv2d(1, 32, kernel_size=3, stride=1, padding=1), nn.MaxPool2d(2, 2),
        nn.Conv2d(32, 64, kernel_size=3, stride=1, padding=1), nn.MaxPool2d(2, 2),
        nn.Conv2d(64, 128, kernel_size=3, stride=1, padding=1), nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(1152, 256), nn.Dropout(dropout), nn.ReLU(),
        nn.Linear(256, 64), nn.Dropout(dropout), nn.ReLU(),
        nn.Linear(64, 10), nn.Dropout(dropout),
        nn.LogSoftmax(dim=1))


def cnn_data(steps: int, batch: int = 32, dropout: float = 0.3) -> dict:
    """W5's inputs: `steps` batches of `batch` images, the CNN's start, its dropout rate."""
    x, y, source = mnist_or_random(steps * batch)
    return {"x": x, "y": y, "batch": batch, "source": source, "dropout": dropout,
            "state": _initial_state(cnn)}


def _classifier_job(lib, d, steps: int, model, opt, loss_func) -> list:
    """One training step function (zero_grad, forward, loss, backward, step) and its
    `steps` calls on consecutive batches, in the order of the data. The library's generator
    is seeded, so that every run draws the same dropout masks (a compiled run, the eager
    run's)."""
    model.load_state_dict({k: lib.tensor(v) for k, v in d["state"].items()})
    model.train()
    lib.manual_seed(0)

    def step(x, y):
        opt.zero_grad()
        loss = loss_func(model(x), y)
        loss.backward()
        opt.step()
        return loss
    b = d["batch"]
    calls = [(lib.tensor(d["x"][i * b:(i + 1) * b]), lib.tensor(d["y"][i * b:(i + 1) * b]))
             for i in range(steps)]
    return [(step, calls)]


def mlp_setup(lib, d, steps: int) -> list:
    """W4: MLP 784-1024-1024-10 (ReLU), cross-entropy, SGD lr 0.01 momentum 0.9."""
    model = mlp(lib)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return _classifier_job(lib, d, steps, model, opt, lib.nn.CrossEntropyLoss())


def cnn_setup(lib, d, steps: int) -> list:
    """W5: the seed's CNN in train mode (batch statistics, dropout drawn from each library's
    own generator), NLLLoss, Adam with the seed's lr 1e-4 and L2 weight decay 1e-4."""
    model = cnn(lib, d["dropout"])
    opt = lib.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-4)
    return _classifier_job(lib, d, steps, model, opt, lib.nn.NLLLoss())


@dataclass(frozen=True)
class Workload:
    """A training job timed beside PyTorch. `make(steps)` builds the data once (NumPy, shared
    by both libraries); `setup(lib, data, steps)` builds a fresh job for one run: a list of
    (step, calls), each `step(*args)` one training step returning the loss tensor, run once
    per args tuple in `calls`. The job's result is the sum of each segment's last loss."""

    make: Callable[[int], dict]
    setup: Callable[..., list]
    steps: int
    quick_steps: int
    goals: dict = field(default_factory=dict)  # mode -> goal for the time ratio
    threads: int = 1          # torch.set_num_threads (numpy's OpenBLAS keeps its default)
    flops: float | None = None  # GEMM flops per step, for the fraction of the GEMM peak


WORKLOADS = {
    "W1 factorise (Iris, 1000 epochs)": Workload(
        lambda steps: factorise_data(), factorise_setup, 1000, 100,
        {"eager": 1.0, "compiled": 0.5}),
    "W2 iris-mlp (10 x 100 epochs)": Workload(
        lambda steps: iris_mlp_data(), iris_mlp_setup, 100, 20,
        {"eager": 1.0, "compiled": 0.5}),
    "W3 autoencoder (3 optimisers x 1000)": Workload(
        autoencoder_data, autoencoder_setup, 1000, 100, {"eager": None, "compiled": 0.5}),
    "W4 mlp 784-1024-1024-10 (b128)": Workload(
        mlp_data, mlp_setup, 120, 10, {"eager": 1.1, "compiled": 1.0}, threads=2,
        flops=mlp_flops()),
    "W5 cnn seed 003 (b32, train)": Workload(
        cnn_data, cnn_setup, 80, 10, {"eager": 1.5, "compiled": 1.3}, threads=2),
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
def w2_jvp_compiled(lib, d, calls: int = 200) -> float:
    """w2_jvp through chainrule.compile (its tracing calls included); PyTorch's row is its
    eager func.jvp, for reference (torch.compile of func.jvp is not what is measured)."""
    loss, W1, dW1 = _w2_loss(lib, d), lib.tensor(d["W1"]), lib.tensor(d["dW1"])

    def jvp(W1, dW1):
        return lib.func.jvp(loss, (W1,), (dW1,))

    jvp = lib.compile(jvp) if lib.__name__ == "chainrule" else jvp
    for _ in range(calls):
        _, slope = jvp(W1, dW1)
    return slope.item()


def w2_forward_compiled(lib, d, calls: int = 200) -> float:
    """w2_forward through chainrule.compile (its tracing call included): the baseline that
    w2_jvp_compiled is like-for-like with. PyTorch's row is its eager forward, for reference."""
    loss, W1 = _w2_loss(lib, d), lib.tensor(d["W1"])
    loss = lib.compile(loss) if lib.__name__ == "chainrule" else loss
    for _ in range(calls):
        value = loss(W1)
    return value.item()


RATIO_WORKLOADS = {
    "W2 jvp wrt W1 vs forward loss (200 calls)": (iris_mlp_jvp_data, w2_forward, w2_jvp, 1.5),
    "W2 jvp compiled vs forward loss (200 calls)": (iris_mlp_jvp_data, w2_forward,
                                                     w2_jvp_compiled, 1.5),
    "W2 jvp compiled vs forward compiled (200 calls)": (iris_mlp_jvp_data, w2_forward_compiled,
                                                         w2_jvp_compiled, 1.5),
}
