"""`chainrule run script.py args...`: an unmodified PyTorch program runs on chainrule.

Each test writes a small script to tmp_path and runs it in a fresh interpreter, as a user
would, checking what it prints and its exit status.
"""

import os
import subprocess
import sys
import textwrap
import types

import pytest

import chainrule
from chainrule import _compat

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(tmp_path, source: str, *args, module=False, name="script.py"):
    """Run `source` with `chainrule run` (or `python -m chainrule run`); (rc, stdout, stderr)."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    env = dict(os.environ, PYTHONPATH=REPO)
    if module:
        cmd = [sys.executable, "-m", "chainrule", "run", str(path), *args]
    else:
        cmd = [sys.executable, "-c", "import sys; from chainrule.cli import main; "
               "sys.exit(main())", "run", str(path), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=120)
    return done.returncode, done.stdout, done.stderr


def test_script_sees_python_script_conditions(tmp_path):
    rc, out, err = run(tmp_path, """
        import os, sys
        print(__name__)
        print(sys.argv[1:])
        print(os.path.dirname(os.path.abspath(__file__)) == sys.path[0])
        print(sys.argv[0] == __file__)
    """, "--epochs", "3", "-v")
    assert rc == 0, err
    assert out.split("\n") == ["__main__", "['--epochs', '3', '-v']", "True", "True", ""]


def test_neighbouring_modules_import(tmp_path):
    (tmp_path / "helper.py").write_text("VALUE = 42\n")
    rc, out, err = run(tmp_path, "import helper\nprint(helper.VALUE)\n")
    assert (rc, out) == (0, "42\n"), err


def test_python_dash_m_chainrule_run(tmp_path):
    rc, out, err = run(tmp_path, "import torch\nprint(torch.ones(2).sum().item())\n",
                       module=True)
    assert (rc, out) == (0, "2.0\n"), err


IMPORTS = """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim as optim
    from torch import optim as optim2
    from torch.optim import lr_scheduler
    import torch.optim.lr_scheduler
    from torch.utils.data import DataLoader, TensorDataset
    from torch.utils.data.dataloader import DataLoader as DL2, default_collate
    from torch.utils.data.dataset import Dataset
    from torch.utils.data.sampler import SubsetRandomSampler
    import torch.distributions as D
    from torch.distributions import Normal
    import torch.testing
    import torch.utils.benchmark as benchmark
    import torch.backends.cudnn as cudnn
    import torch.autograd
    from torch.autograd import Function
    from torchvision import datasets, transforms
    import torchvision.transforms as T
    import chainrule
    print(torch is chainrule, nn is chainrule.nn, F is chainrule.nn.functional)
    print(optim is optim2 is chainrule.optim, DL2 is DataLoader is chainrule.utils.data.DataLoader)
    print(lr_scheduler is chainrule.optim.lr_scheduler, T is transforms)
    print(nn.Module is chainrule.nn.Module, Normal is chainrule.distributions.Normal)
    print(torch.cuda.is_available(), torch.backends.mps.is_available(), cudnn.deterministic)
    print(torch.nn.__spec__.name, torch.optim.__name__)
    print(datasets.MNIST is chainrule.datasets.MNIST)
"""


def test_torch_and_its_submodules_are_chainrules(tmp_path):
    rc, out, err = run(tmp_path, IMPORTS)
    assert rc == 0, err
    assert out.split("\n")[:7] == ["True True True", "True True", "True True", "True True",
                                   "False False False", "chainrule.nn chainrule.optim",
                                   "True"]


MISSING = [
    ("torch.foo", "AttributeError: module 'torch' has no attribute 'foo' "
                  "(chainrule does not provide torch.foo)"),
    ("torch.nn.Foo(3)", "AttributeError: module 'torch.nn' has no attribute 'Foo' "
                        "(chainrule does not provide torch.nn.Foo)"),
    ("torch.cuda.foo()", "(chainrule does not provide torch.cuda.foo)"),
    ("import torch.fx", "ModuleNotFoundError: No module named 'torch.fx' "
                        "(chainrule does not provide torch.fx)"),
    ("import torch.nn.quantized", "No module named 'torch.nn.quantized' "
                                  "(chainrule does not provide torch.nn.quantized)"),
    ("from torch.nn import Foo", "(chainrule does not provide torch.nn.Foo)"),
    ("from torchvision.transforms import RandomCrop",
     "(chainrule does not provide torchvision.transforms.RandomCrop)"),
    ("import torchvision.models", "(chainrule does not provide torchvision.models)"),
]


@pytest.mark.parametrize("line,message", MISSING, ids=[m[0] for m in MISSING])
def test_a_missing_name_fails_saying_chainrule_lacks_it(tmp_path, line, message):
    rc, out, err = run(tmp_path, f"import torch\nimport torchvision\nprint('start')\n{line}\n")
    assert rc == 1 and out == "start\n"
    assert message in err
    assert err.startswith("Traceback (most recent call last):")
    assert "runpy" not in err and "chainrule/_compat/run.py" not in err  # starts in the script


def test_exit_status_and_exceptions_pass_through(tmp_path):
    assert run(tmp_path, "import sys\nsys.exit(3)\n")[0] == 3
    assert run(tmp_path, "raise SystemExit\n")[0] == 0
    rc, _, err = run(tmp_path, "import sys\nsys.exit('bad input')\n")
    assert (rc, err) == (1, "bad input\n")
    rc, _, err = run(tmp_path, "def f():\n    raise ValueError('boom')\nf()\n")
    assert rc == 1 and "line 3" in err and "ValueError: boom" in err


def test_missing_script_is_reported(tmp_path):
    done = subprocess.run([sys.executable, "-m", "chainrule", "run", str(tmp_path / "nope.py")],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=REPO))
    assert done.returncode == 2 and "no such file" in done.stderr


def test_seeded_program_prints_the_same_twice(tmp_path):
    src = """
        import torch
        torch.manual_seed(0)
        net = torch.nn.Linear(3, 2)
        print(net(torch.randn(4, 3)).sum().item())
    """
    first, second = run(tmp_path, src), run(tmp_path, src)
    assert first[0] == 0 and first == second


def test_install_refuses_when_the_real_torch_is_loaded():
    code = ("import sys; sys.modules['torch'] = type(sys)('torch'); "
            "import chainrule; chainrule.load_ipython_extension(None)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=REPO))
    assert done.returncode == 1 and "real torch is already imported" in done.stderr


def test_load_ipython_extension_makes_import_torch_chainrule():
    stub = types.SimpleNamespace(user_ns={})  # what IPython passes; chainrule needs nothing
    saved = sys.modules.get("torch")
    sys.modules.pop("torch", None)
    try:
        chainrule.load_ipython_extension(stub)
        import torch.nn
        import torch.utils.data.dataloader

        assert torch.nn is chainrule.nn
        assert torch.utils.data.dataloader.DataLoader is chainrule.utils.data.DataLoader
        with pytest.raises(AttributeError, match=r"chainrule does not provide torch\.nope"):
            torch.nope  # noqa: B018
    finally:
        _compat.uninstall()
        if saved is not None:
            sys.modules["torch"] = saved
    assert "torch" not in sys.modules or sys.modules["torch"] is saved
    assert type(chainrule.nn) is types.ModuleType
    with pytest.raises(AttributeError, match="module 'chainrule.nn' has no attribute 'nope'"):
        chainrule.nn.nope  # noqa: B018
