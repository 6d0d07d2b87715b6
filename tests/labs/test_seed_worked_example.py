"""The worked example of seed 004 (COMP90051 workshop 6, "Autograd"), as the course runs it.

    u = a*w0 + b*w1,  f = v*u,  L = MSE(f, y)   with a=2, b=3, y=10, w0=w1=v=1
    dL/dv = 2(f - y) u = -50,  dL/dw0 = 2(f - y) v a = -20,  dL/dw1 = 2(f - y) v b = -30

and its requires_grad propagation lines (x + y of plain tensors does not require grad;
adding z with requires_grad=True does).
"""

import contextlib
import io

import chainrule
from chainrule.nn import functional as F


def test_gradients_of_the_worked_example():
    """The seed's program (SEED_PROGRAM below) run on chainrule: its values and gradients."""
    _, ns = _run(AS_CHAINRULE)
    assert ns["u"].item() == 5.0 and ns["f"].item() == 5.0 and ns["loss"].item() == 25.0
    w0, w1, v = ns["w0"], ns["w1"], ns["v"]
    assert (w0.grad.item(), w1.grad.item(), v.grad.item()) == (-20.0, -30.0, -50.0)
    assert w0.grad.dtype == chainrule.float32 and w0.grad.shape == ()
    # a, b are constants: no gradient is kept for them
    assert ns["a"].grad is None and ns["b"].grad is None


def test_functional_mse_loss_gives_the_same_gradients():
    w0 = chainrule.tensor(1.0, requires_grad=True)
    w1 = chainrule.tensor(1.0, requires_grad=True)
    v = chainrule.tensor(1.0, requires_grad=True)
    f = v * (chainrule.tensor(2.0) * w0 + chainrule.tensor(3.0) * w1)
    loss = F.mse_loss(f, chainrule.tensor(10.0))
    loss.backward()
    assert [t.grad.item() for t in (w0, w1, v)] == [-20.0, -30.0, -50.0]


def test_requires_grad_propagation_lines():
    """The seed's REPL session, line by line (torch.randn(5, 5) etc.)."""
    x = chainrule.randn(5, 5)  # requires_grad=False by default
    y = chainrule.randn(5, 5)  # requires_grad=False by default
    z = chainrule.randn((5, 5), requires_grad=True)
    a = x + y
    assert a.requires_grad is False
    b = a + z
    assert b.requires_grad is True
    assert not x.requires_grad and not y.requires_grad and z.requires_grad
    assert a.is_leaf and not b.is_leaf and b.grad_fn is not None


# The program from the seed's slide, as printed there (the PDF text joined its lines and
# split `requires_grad` into "requires grad"; both are restored here and nothing else).
SEED_PROGRAM = """\
import torch
a = torch.tensor(2.0)
b = torch.tensor(3.0)
w0 = torch.tensor(1.0, requires_grad = True)
w1 = torch.tensor(1.0, requires_grad = True)
v = torch.tensor(1.0, requires_grad = True)
u = a*w0 + b*w1
f = v*u
print(u, f)
criterion = torch.nn.MSELoss()
loss = criterion(f, torch.tensor(10.0))
print(loss)
loss.backward()
print(w0.grad, w1.grad, v.grad)
"""


AS_CHAINRULE = SEED_PROGRAM.replace("import torch\n", "import chainrule as torch\n")


def _run(source: str) -> tuple[str, dict]:
    """What the program prints, and its variables."""
    out = io.StringIO()
    names = {"__name__": "__seed__"}
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<seed 004>", "exec"), names)
    return out.getvalue(), names


def test_seed_program_runs_unchanged_with_import_chainrule_as_torch():
    ours, _ = _run(AS_CHAINRULE)
    assert ours.splitlines()[-1] == "tensor(-20.) tensor(-30.) tensor(-50.)"
    assert ours.splitlines()[0] == "tensor(5., grad_fn=<AddBackward0>) " \
                                   "tensor(5., grad_fn=<MulBackward0>)"
    from tests._torch import torch  # noqa: F401 - the oracle must be importable

    assert ours == _run(SEED_PROGRAM)[0]  # the same text as PyTorch prints, names included
