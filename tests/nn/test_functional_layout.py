"""chainrule.nn.functional as a package: where each function lives, what it exports, and the
argument checks its modules share (one message style, PyTorch's exception types)."""

import ast
import inspect
import pathlib
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from tests._torch import torch

TF = torch.nn.functional
PACKAGE = pathlib.Path(F.__file__).parent

# Where a reader looks for each kind of function: the modules of chainrule/nn/modules.
HOME = {
    "conv": ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"],
    "loss": ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
             "huber_loss", "kl_div", "l1_loss", "mse_loss", "nll_loss", "smooth_l1_loss"],
    "pooling": ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d",
                "max_pool1d", "max_pool2d"],
    "normalization": ["batch_norm", "group_norm", "instance_norm", "layer_norm"],
    "dropout": ["dropout", "dropout1d", "dropout2d", "dropout3d"],
    "linear": ["bilinear", "linear"],
    "sparse": ["embedding", "one_hot"],
    "padding": ["pad"],
}


def test_conv2d_lives_in_a_conv_file_and_cross_entropy_in_a_loss_file():
    assert pathlib.Path(inspect.getsourcefile(F.conv2d)).name == "conv.py"
    assert pathlib.Path(inspect.getsourcefile(F.cross_entropy)).name == "loss.py"


@pytest.mark.parametrize("module", sorted(HOME))
def test_each_function_is_defined_in_the_module_named_for_its_kind(module):
    for name in HOME[module]:
        assert getattr(F, name).__module__ == f"chainrule.nn.functional.{module}", name


def test_every_export_is_defined_in_a_submodule_and_named_explicitly():
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    imported = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            assert all(a.name != "*" for a in node.names), "star import in __init__.py"
            imported.update(a.asname or a.name for a in node.names)
    assert set(F.__all__) <= imported
    for name in F.__all__:
        fn = getattr(F, name)
        assert fn.__module__.startswith("chainrule.nn.functional."), name
        assert hasattr(TF, name), name
    assert F.Tensor is cr.Tensor  # torch.nn.functional.Tensor exists too
    assert nn.functional is F


def test_no_function_in_the_package_is_longer_than_a_screen():
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                assert node.end_lineno - node.lineno < 60, f"{path.name}:{node.name}"


# ------------------------------------------------------------------ shared argument checks

@pytest.mark.parametrize("call", [
    lambda x: F.relu(x),
    lambda x: F.mse_loss(x, cr.zeros(3)),
    lambda x: F.conv2d(x, cr.zeros(1, 1, 1, 1)),
    lambda x: F.max_pool2d(x, 2),
    lambda x: F.layer_norm(x, (3,)),
    lambda x: F.dropout(x),
    lambda x: F.pad(x, (1, 1)),
], ids=["activation", "loss", "conv", "pooling", "normalization", "dropout", "padding"])
def test_a_non_tensor_input_gets_one_message_in_every_module(call):
    with pytest.raises(TypeError, match=r"\w+\(\): argument 'input' \(position 1\) must be "
                                        r"Tensor, not list"):
        call([1.0, 2.0, 3.0])


def test_a_non_tensor_weight_is_named_with_its_position():
    x = cr.zeros(1, 1, 3, 3)
    with pytest.raises(TypeError, match=r"conv2d\(\): argument 'weight' \(position 2\)"):
        F.conv2d(x, [[1.0]])
    with pytest.raises(TypeError, match=r"conv_transpose2d\(\): argument 'bias' \(position 3\)"):
        F.conv_transpose2d(x, cr.zeros(1, 1, 1, 1), [0.0])


@pytest.mark.parametrize("name, args", [
    ("conv1d", lambda x: (x, x)),
    ("max_pool1d", lambda x: (x, 2)),
    ("avg_pool1d", lambda x: (x, 2)),
    ("layer_norm", lambda x: (x, (4,))),
    ("silu", lambda x: (x,)),
    ("logsigmoid", lambda x: (x,)),
])
def test_an_integer_input_raises_not_implemented_error(name, args):
    x = cr.arange(4).reshape(1, 1, 4)
    with pytest.raises(NotImplementedError, match=f"{name}: expected a floating point input, "
                                                  r"got \S*int64"):
        getattr(F, name)(*args(x))


def test_kernel_size_is_checked_by_the_same_rule_in_the_layer_and_the_function():
    with pytest.raises(TypeError, match=r"AvgPool1d\(\): kernel_size must be an int or a tuple "
                                        r"of 1 ints, got 2.5"):
        nn.AvgPool1d(2.5)
    with pytest.raises(TypeError, match=r"avg_pool1d\(\): kernel_size must be an int or a tuple "
                                        r"of 1 ints, got 2.5"):
        F.avg_pool1d(cr.zeros(1, 1, 4), 2.5)
    with pytest.raises(RuntimeError, match=r"Conv2d\(\): stride must either be a single int, "
                                          r"or a tuple of 2"):
        nn.Conv2d(1, 1, 3, stride=(1, 2, 3))


@pytest.mark.parametrize("args", [(3,), ((3,),), ([3], 2, 1)])
def test_avg_pool1d_layer_stores_its_arguments_as_torch(args):
    ours, theirs = nn.AvgPool1d(*args), torch.nn.AvgPool1d(*args)
    assert ours.kernel_size == theirs.kernel_size
    assert ours.stride == theirs.stride
    assert ours.padding == theirs.padding
    x = np.random.default_rng(0).standard_normal((2, 3, 9))
    np.testing.assert_allclose(ours(cr.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy())


@pytest.mark.parametrize("make", [
    lambda: F.mse_loss(cr.zeros(3), cr.zeros(3), size_average=False),
    lambda: F.cross_entropy(cr.zeros(2, 3), cr.tensor([0, 1]), reduce=False),
    lambda: nn.MSELoss(size_average=False),
], ids=["mse_loss", "cross_entropy", "MSELoss"])
def test_legacy_reduction_flags_warn_at_the_callers_line(make):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make()
    (w,) = [w for w in caught if "size_average and reduce" in str(w.message)]
    assert w.filename == __file__


def test_legacy_flags_translate_as_torch():
    x, t = cr.tensor([1.0, 2.0, 4.0]), cr.tensor([0.0, 0.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert F.mse_loss(x, t, size_average=False).item() == 21.0
        assert F.mse_loss(x, t, reduce=False).shape == (3,)
        assert nn.L1Loss(size_average=False).reduction == "sum"
        assert nn.L1Loss(reduce=False).reduction == "none"


def test_a_target_that_does_not_broadcast_is_named_by_the_loss():
    with pytest.raises(RuntimeError, match=r"kl_div: The size of tensor a \(3\) must match the "
                                           r"size of tensor b \(2\)"):
        F.kl_div(cr.zeros(3), cr.zeros(2), reduction="sum")


@pytest.mark.parametrize("name, args, error", [
    ("batch_norm", (None, None, None, None, True), ValueError),
    ("group_norm", (1,), RuntimeError),
    ("instance_norm", (), ValueError),
])
def test_normalisation_of_too_few_dims_names_the_op_and_the_shape(name, args, error):
    x = cr.zeros(3) if name != "instance_norm" else cr.zeros(2, 3)
    with pytest.raises(error, match=rf"{name}: Expected at least \d dimensions \(N, C, \.\.\.\) "
                                    rf"for the input, but got input of shape \[{x.shape[0]}"):
        getattr(F, name)(x, *args)
