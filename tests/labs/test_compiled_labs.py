"""The labs' training loops compiled (chainrule.compile) against eager: 50 steps of each loop
on a small slice, from the same random state, must give the same bits (every parameter, every
loss, the optimizer state) and must really replay (no graph break, no fall back to eager).
Also `labs run --compile`: the report's verdict and times, and the autograd-basics lab's
generated code with the worked example's gradients in it."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import chainrule as torch
from chainrule import labs
from chainrule.cli import main
from chainrule.labs import (
    autoencoder,
    autograd_basics,
    factorise,
    forward_vs_reverse,
    iris_mlp,
    logistic_regression,
    mnist_cnn,
    mnist_mlp,
    optimiser_paths,
)
from chainrule.labs._core import Context, same_bits

MNIST_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"
HAVE_MNIST = (MNIST_DIR / "train-images-idx3-ubyte.gz").exists()
STEPS = 50


def both(train):
    """train(compile) eagerly, then compiled from the same random state: (eager result,
    compiled result, the compiler's warnings during the compiled run)."""
    torch.manual_seed(0)
    eager = train(False)
    torch.manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled = train(True)
    return eager, compiled, [str(w.message) for w in caught if "chainrule.compile" in
                             str(w.message)]


def check(train):
    eager, compiled, breaks = both(train)
    assert same_bits(eager, compiled)
    assert breaks == []
    return eager


def test_same_bits_is_strict():
    assert same_bits([torch.tensor([1.0, float("nan")]), {"a": 0.5}],
                     [torch.tensor([1.0, float("nan")]), {"a": 0.5}])
    assert not same_bits(torch.tensor([0.0]), torch.tensor([-0.0]))
    assert not same_bits(torch.tensor([1.0]), torch.tensor([1.0], dtype=torch.double))
    assert not same_bits(torch.tensor([1.0, 2.0], dtype=torch.double),
                         torch.tensor([1.0, np.nextafter(2.0, 3.0)], dtype=torch.double))
    assert not same_bits([1.0, 2.0], [1.0])
    assert not same_bits({"a": 1.0}, {"b": 1.0})
    a, b = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    assert same_bits(a, a) and not same_bits(a, b)


def test_factorise():
    A, _, _ = factorise.iris_centred()

    def train(compile):
        losses = []
        U, V = factorise.gd_factorise_ad(A, 2, STEPS, 0.01, losses, compile)
        return U, V, losses

    U, V, losses = check(train)
    assert len(losses) == STEPS and losses[-1] < losses[0]


def test_iris_mlp_one_compiled_step_serves_every_training():
    data, targets, *_ = iris_mlp.iris_split(torch.Generator().manual_seed(0))

    def train(compile):
        step = torch.compile(iris_mlp.sgd_step) if compile else iris_mlp.sgd_step
        first = iris_mlp.sgd_mlp(data, targets, STEPS, step=step)
        second = iris_mlp.sgd_mlp(data, targets, 10, 0.05, step=step)
        return first, second, step

    eager, compiled, breaks = both(train)
    assert same_bits(eager[:2], compiled[:2]) and breaks == []
    assert len(compiled[2]._entries) <= 2  # lr is part of the trace's guard: 0.01, 0.05


def test_autoencoder_setitem_decoder_three_optimisers():
    x = autoencoder.make_data(40)
    init = (torch.randn(2, 1), torch.randn(1), torch.randn(1, 2), torch.randn(1, 2))
    config = autoencoder.Config(steps=STEPS)
    for o in autoencoder.OPTIMISERS:
        run = check(lambda compile, o=o: autoencoder.train(x, init, o, config, compile))
        assert len(run["losses"]) == STEPS


def test_optimiser_paths_four_optimisers():
    for i, o in enumerate(optimiser_paths.OPTIMISERS):
        lr = optimiser_paths.Config().rosenbrock_lr[i]
        path = check(lambda compile, o=o, lr=lr: optimiser_paths.descend(
            optimiser_paths.rosenbrock, [-1.5, 2.0], o, lr, STEPS, 0.9, compile))
        assert path.shape == (STEPS + 1, 2)


def test_logistic_regression_with_and_without_test_loss():
    X, y, Xt, yt, *_ = logistic_regression.split([1, 2], [2, 3], 0.3,
                                                 torch.Generator().manual_seed(0))
    _, _, history = check(lambda compile: logistic_regression.train_logistic_regression(
        X, y, STEPS, 1.0, Xt, yt, compile))
    assert len(history["train"]) == len(history["test"]) == STEPS
    check(lambda compile: logistic_regression.train_logistic_regression(
        X, y, STEPS, 1.0, compile=compile))


def test_forward_vs_reverse_gradient_descent():
    X, y, *_ = logistic_regression.split([1, 2], [2, 3], 0.3, torch.Generator().manual_seed(0))
    loss = forward_vs_reverse.logistic_loss(X, y)
    start = torch.zeros(X.shape[1] + 1, dtype=X.dtype)
    history = check(lambda compile: forward_vs_reverse.gradient_descent(
        loss, start, STEPS, 1.0, compile))
    assert len(history) == STEPS + 1 and history[-1] < history[0]


def mnist_fit(config, make):
    """train(compile) for an MNIST lab: the model `make()` builds, fit for one epoch of
    STEPS minibatches of config's slice."""
    data = mnist_mlp.load_mnist(MNIST_DIR, config.train_limit, config.val_limit,
                                flat=make is not mnist_cnn.make_cnn)
    ctx = Context("test", "unused", progress=False)

    def train(compile):
        model = make()
        opt = (torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
               if make is mnist_cnn.make_cnn else
               torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
        return mnist_mlp.learned((model, opt, mnist_mlp.fit(model, opt, data, config, ctx,
                                                            "test", compile=compile)))
    return train


@pytest.mark.skipif(not HAVE_MNIST, reason="MNIST not in ../shared/data/mnist")
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_mnist_mlp_with_dropout(activation):
    config = mnist_mlp.Config(hidden=[32], epochs=1, batch_size=16, train_limit=16 * STEPS,
                              val_limit=50)
    model, opt, history = check(mnist_fit(config, lambda: mnist_mlp.make_mlp(
        [32], activation, dropout=0.2)))
    assert len(opt.state_dict()["state"]) == 4  # momentum buffers of two Linear layers


@pytest.mark.skipif(not HAVE_MNIST, reason="MNIST not in ../shared/data/mnist")
def test_mnist_cnn_batchnorm_dropout_adam_train_mode():
    config = mnist_cnn.Config(epochs=1, batch_size=2, train_limit=2 * STEPS, val_limit=10)
    model, opt, history = check(mnist_fit(config, mnist_cnn.make_cnn))
    assert int(model[0].num_batches_tracked) == STEPS  # batch norm in train mode every step


def test_labs_run_compile_reports_verdict_and_times(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["labs", "run", "factorise", "autograd-basics", "--quick", "--compile",
                 "--set", "epochs=50", "--out", str(out), "--no-progress"]) == 0
    assert "[compiled: identical yes, eager" in capsys.readouterr().out
    results = json.loads((out / "results.json").read_text())
    assert results["command"].endswith("--compile")
    info = results["labs"]["factorise"]["compile"]
    assert info["identical"] is True and [lp["loop"] for lp in info["loops"]] == ["rank 2"]
    assert info["eager_seconds"] > 0 and info["compiled_seconds"] > 0
    assert results["labs"]["autograd-basics"]["compile"]["loops"] == []
    report = (out / "report.md").read_text()
    assert "**Compiled:** identical to eager: yes. Training loops: eager" in report
    assert "no training loop to compile" in report


def test_labs_run_without_compile_records_nothing_about_it(tmp_path):
    records = labs.run_labs(["factorise"], out_dir=tmp_path, quick=True, sets=["epochs=20"],
                            progress=False, echo=None)
    assert "compile" not in records["factorise"]
    assert "Compiled" not in (tmp_path / "report.md").read_text()


def test_context_train_reports_a_difference():
    ctx = Context("test", "unused", progress=False, compile=True)
    result = ctx.train("loop", lambda compile: torch.tensor([1.0 if compile else 2.0]))
    assert ctx.loops[0]["identical"] is False and result.item() == 1.0
    lines = labs._core._render_compile({"identical": False, "eager_seconds": 1.0,
                                        "compiled_seconds": 0.5, "loops": ctx.loops})
    assert "identical to eager: NO" in lines[0] and "| loop |" in lines[2]


def test_autograd_basics_shows_the_compiled_worked_example():
    compiled = autograd_basics.compiled_worked_example()
    assert compiled["grads"] == {"w0": -20.0, "w1": -30.0, "v": -50.0}
    rows = autograd_basics.gradient_lines(compiled["code"], compiled["values"],
                                          ["a", "b", "w0", "w1", "v", "y"])
    assert [(r[0], r[2]) for r in rows] == [("dL/dw0", -20.0), ("dL/dw1", -30.0),
                                           ("dL/dv", -50.0)]
    for _, line, _ in rows:
        assert line in compiled["code"] and "np.multiply" in line
    text = autograd_basics.annotated(compiled["code"], compiled["values"])
    assert sum(line.endswith("=> -20") for line in text.splitlines()) >= 1
    assert np.array_equal(compiled["values"][min(compiled["values"])], 2.0)  # a = 2
