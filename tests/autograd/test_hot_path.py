"""The training step's hot path stays free of per-call costs that are easy to reintroduce.

An `import` inside a function runs the import machinery on every call (~2 us, more than most
small ops); `saved_tensors`, for one, runs for every node of every backward pass.
"""

import builtins

import chainrule
from chainrule import nn


def _count_imports(step) -> list:
    seen = []
    original = builtins.__import__

    def counting(name, *args, **kwargs):
        seen.append(name)
        return original(name, *args, **kwargs)

    builtins.__import__ = counting
    try:
        step()
    finally:
        builtins.__import__ = original
    return seen


def test_a_training_step_runs_no_import_statement():
    chainrule.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = chainrule.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = chainrule.randn(16, 4), chainrule.randint(0, 3, (16,))
    w = chainrule.randn(4, 3, requires_grad=True)
    b = chainrule.zeros(1, requires_grad=True)

    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y, reduction="sum")
        loss = loss + nn.functional.mse_loss(x @ w + b, chainrule.zeros(16, 3))
        loss.backward()
        opt.step()
        with chainrule.no_grad():
            w.sub_(0.01 * w.grad)
            b.sub_(0.01 * b.grad)
        w.grad.zero_()
        b.grad.zero_()

    step()  # first call: lazy imports of rarely used modules may happen here
    assert _count_imports(step) == []
