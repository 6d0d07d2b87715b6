"""The programs in tests/compat/programs/ print the same under PyTorch and `chainrule run`.

Each program is run twice in a fresh interpreter: `python PROGRAM` (real PyTorch; with the
torchvision stand-in of torchvision_stub/ when torchvision itself is not installed) and
`chainrule run PROGRAM`. Lines are compared exactly, except lines starting with `~`: there
the text must match and each number must agree within RTOL / ATOL. Sines and cosines that
build fixed weights may differ in the last float32 bit (NumPy's and PyTorch's libm differ),
so lines that print such values directly are `~` lines too.

Why those tolerances: a `~` line reports float32 training (up to 1000 steps), where the two
libraries round the same sums in different orders. Each op differs by a few float32 ulps
(~1e-7 relative); training these small smooth problems amplifies that at most to ~5e-6
relative (packed_gru.py), and 1e-4 keeps a wide margin while a wrong gradient, a wrong
update rule or a wrong batch shows up at 1e-2 or more. Where a training run amplifies
rounding chaotically, the program says so and avoids it (float64 in tiny_transformer.py,
SGD in char_lstm.py, a larger Adam eps in packed_gru.py) rather than loosening RTOL.
Printed values keep enough decimals (5 or 6) that rounding the last digit the other way
stays within the tolerance.
"""

import importlib.util
import os
import re
import subprocess
import sys

import pytest

from tests._torch import torch  # noqa: F401 - the PyTorch runs need it (skip / CI failure)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PROGRAMS = os.path.join(HERE, "programs")
RTOL, ATOL = 1e-4, 1e-5
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")

PROGRAM_ARGS = {
    "tensor_tour.py": [],
    "autograd_tutorial.py": [],
    "polynomial_fit.py": [],
    "custom_function.py": [],
    "mnist_mlp.py": ["--epochs", "2"],
    "script_boilerplate.py": [],
    "optimizers_rosenbrock.py": [],
    "lr_schedulers.py": [],
    "distributions_tour.py": [],
    "cnn_synthetic.py": [],
    "nn_module_tour.py": [],
    "rnn_regressor.py": [],
    "char_lstm.py": [],
    "packed_gru.py": [],
    "tiny_transformer.py": [],
    "vae.py": [],
    "policy_gradient.py": [],
    "lbfgs_logistic.py": [],
    "autograd_graph.py": [],
}
# Programs whose output differs from PyTorch's in a known way: the test expects the
# difference (strict xfail) and fails when the outputs match, so that the entry is removed.
KNOWN_DIFFERENCES: dict[str, str] = {}


def _run(cmd, extra_path=()):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO, *extra_path]))
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300,
                          cwd=PROGRAMS)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stderr}"
    return done.stdout.splitlines()


def compare_lines(ours: list, theirs: list) -> None:
    """Exact lines, or `~` lines equal as text with numbers within RTOL / ATOL."""
    assert len(ours) == len(theirs), (ours, theirs)
    for a, b in zip(ours, theirs):
        if not b.startswith("~"):
            assert a == b
            continue
        assert NUMBER.sub("#", a) == NUMBER.sub("#", b), (a, b)
        for x, y in zip(NUMBER.findall(a), NUMBER.findall(b)):
            assert float(x) == pytest.approx(float(y), rel=RTOL, abs=ATOL), (a, b)


def test_every_program_is_listed():
    found = sorted(f for f in os.listdir(PROGRAMS) if f.endswith(".py"))
    assert found == sorted(PROGRAM_ARGS)


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_DIFFERENCES[n]))
    if n in KNOWN_DIFFERENCES else n for n in sorted(PROGRAM_ARGS)])
def test_program_prints_what_pytorch_prints(name):
    path = os.path.join(PROGRAMS, name)
    args = PROGRAM_ARGS[name]
    stub = [] if importlib.util.find_spec("torchvision") else [os.path.join(HERE,
                                                                            "torchvision_stub")]
    theirs = _run([sys.executable, path, *args], stub)
    ours = _run([sys.executable, "-m", "chainrule", "run", path, *args])
    assert theirs, "the program printed nothing"
    compare_lines(ours, theirs)


def test_the_comparison_catches_a_difference():
    compare_lines(["a 1", "~loss 1.00001"], ["a 1", "~loss 1.0"])
    with pytest.raises(AssertionError):
        compare_lines(["a 1"], ["a 2"])
    with pytest.raises(AssertionError):
        compare_lines(["~loss 1.01"], ["~loss 1.0"])
    with pytest.raises(AssertionError):
        compare_lines(["~loss: 1.0"], ["~loss 1.0"])


FASHION = """
import torch
from torchvision import datasets, transforms
transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,)),
                                transforms.Lambda(lambda x: x.view(-1))])
test = datasets.FashionMNIST(root=ROOT, train=False, download=False, transform=transform)
loader = torch.utils.data.DataLoader(test, batch_size=1000)
images, labels = next(iter(loader))
print(len(test), tuple(images.shape), labels[:5].tolist(), test.classes[labels[0]])
print(round(images.min().item(), 4), round(images.max().item(), 4))
"""


def test_torchvision_fashion_mnist_with_transforms(tmp_path):
    """torchvision.datasets.FashionMNIST + transforms under `chainrule run` (Debian's
    dataset-fashion-mnist files, which .ci/run installs)."""
    if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
        pytest.skip("Fashion-MNIST files absent (apt-get install dataset-fashion-mnist)")
    script = tmp_path / "fashion.py"
    script.write_text(FASHION.replace("ROOT", repr(str(tmp_path))))
    out = _run([sys.executable, "-m", "chainrule", "run", str(script)])
    assert out == ["10000 (1000, 784) [9, 2, 1, 1, 6] Ankle boot", "-1.0 1.0"]
