"""Arguments that change what an op computes, against PyTorch: scatter's reduce, unique's
dim, storage_offset of views, fill values converted to the tensor's dtype; and the shared
argument checks of chainrule._args (one message style).

Each case is one line of torch code run with chainrule and with PyTorch (tests/tensor/
test_tensor.py's harness), compared by values, dtype, shape and autograd flags.
"""

import numpy as np
import pytest

import chainrule
from chainrule import _args
from tests._torch import torch
from tests.tensor.test_tensor import _same

# torch.scatter(..., reduce=) with a Tensor src warns that it prefers scatter_reduce
pytestmark = pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")

SCATTER = """
r = torch.ones(3).scatter(0, torch.tensor([0, 0, 1]), torch.tensor([2., 3., 4.]), reduce='add')
r = torch.ones(3).scatter(0, torch.tensor([0, 0, 1]), torch.tensor([2., 3., 4.]), reduce='multiply')
r = torch.ones(3).scatter(0, torch.tensor([0, 0, 1]), 2.0, reduce='add')
r = torch.ones(3).scatter(0, torch.tensor([0, 0, 1]), value=2.0, reduce='multiply')
r = torch.arange(3).scatter(0, torch.tensor([0, 0, 1]), 2.5, reduce='add')
i = torch.tensor([[0, 0], [3, 1]]); r = torch.ones(2, 4).scatter_(1, i, 3., reduce='multiply')
i = torch.tensor([[2, 0], [2, 2]]); r = torch.ones(3, 2).scatter(0, i, torch.eye(3), reduce='add')
r = torch.ones(3).scatter(0, torch.tensor([0, 0, 1]), torch.tensor([2., 3., 4.]))
x = torch.ones(3); x.scatter_(0, torch.tensor([0, 0, 1]), torch.ones(3) * 2, reduce='add'); r = x
x = torch.ones(3); x.scatter_(0, torch.tensor([1, 1]), 3., reduce='multiply'); r = x
x = torch.ones(3); r = x.scatter_(0, torch.tensor([2]), 7.) is x, x
x = torch.zeros(3); x.scatter_add_(0, torch.tensor([0, 0, 1]), torch.tensor([2., 3., 4.])); r = x
x = torch.ones(3, requires_grad=True); y = x * 1; y.scatter_(0, torch.tensor([1]), 5.); r = y
x = torch.ones(3, requires_grad=True); y = x * 2; y.scatter_(0, torch.tensor([1]), 5.); r = y.sum()
x = torch.ones(3, requires_grad=True); y = x.detach(); r = y.scatter(0, y.long(), 1., reduce='add')
"""

UNIQUE = """
r = torch.tensor([[1, 2], [0, 5], [1, 2], [0, 1]]).unique(dim=0)
x = torch.tensor([[1, 2], [0, 5], [1, 2], [0, 1]]); r = x.unique(True, True, True, dim=0)
x = torch.tensor([[1, 2], [0, 5], [1, 2], [0, 1]]); r = x.unique(False, True, dim=0)
r = torch.tensor([[1, 2, 1], [0, 5, 0]]).unique(dim=-1, return_counts=True)
x = torch.tensor([[[1., 2.], [1., 2.]], [[3., 4.], [1., 2.]]]); r = x.unique(False, True, dim=1)
x = torch.tensor([[[1., 2.], [1., 2.]], [[3., 4.], [1., 2.]]]); r = torch.unique(x, dim=2)
r = torch.unique(torch.zeros(0, 3), dim=0, return_inverse=True, return_counts=True)
r = torch.unique(torch.tensor([True, False, True]), dim=0, return_counts=True)
r = torch.tensor([3, 1, 3, 2]).unique(sorted=False, return_inverse=True, return_counts=True)
r = torch.tensor([[3, 1], [3, 2]]).unique(return_inverse=True)
r = torch.tensor([[3, 1], [3, 2]]).unique()
"""

STORAGE_OFFSET = """
a = torch.arange(10.); r = a[3:].storage_offset()
a = torch.arange(10.); r = a.storage_offset(), a[:4].storage_offset()
a = torch.arange(10.); r = a.view(2, 5)[1, 2:].storage_offset()
a = torch.arange(10.); r = a.view(2, 5).t()[1].storage_offset()
a = torch.arange(10.); r = a[2:].view(2, 4)[1].storage_offset()
a = torch.arange(10.); r = a[3:].detach().storage_offset()
a = torch.arange(12.).reshape(3, 4); r = [t.storage_offset() for t in a.unbind(0)]
a = torch.arange(12.).reshape(3, 4); r = [t.storage_offset() for t in a.split(2, dim=1)]
a = torch.arange(12.).reshape(3, 4); r = a.narrow(0, 1, 2).storage_offset()
a = torch.arange(10.); r = (a[3:] + 1).storage_offset(), a[3:].clone().storage_offset()
a = torch.arange(10.); r = a[[1, 2]].storage_offset()
a = torch.arange(10.); r = a[4:5].expand(3).storage_offset()
a = torch.arange(10.); r = a.view(2, 5)[:, 1:].reshape(8).storage_offset()
a = torch.arange(10, dtype=torch.int32); r = a[7:].storage_offset()
"""

FILL_VALUES = """
r = torch.arange(4).masked_fill(torch.tensor([False, True, True, False]), 2.7)
r = torch.zeros(3, dtype=torch.bool).masked_fill(torch.tensor([True, False, True]), 5)
r = torch.zeros(2, dtype=torch.float16).masked_fill(torch.tensor([True, False]), 3.14159)
r = torch.zeros(2).masked_fill(torch.tensor([True, False]), float('inf'))
r = torch.zeros(2, dtype=torch.int64).masked_fill(torch.tensor([True, False]), True)
r = torch.zeros(2, dtype=torch.uint8).masked_fill(torch.tensor([True, False]), np.int64(255))
"""

CONSTRUCTION = """
r = torch.Tensor([1, 2])
r = torch.Tensor(2, 3).shape
r = torch.Tensor(torch.tensor([1., 2.])).shape
r = torch.zeros(2, device=torch.device('cpu'))
r = torch.zeros(torch.tensor(2), torch.tensor(3)).shape
r = torch.ones(2, 3).permute(torch.tensor(1), 0).shape
r = torch.tensor([1, 2]).type(), torch.tensor([1.]).type(), torch.tensor([True]).type()
"""


CASES = [line for block in (SCATTER, UNIQUE, STORAGE_OFFSET, FILL_VALUES, CONSTRUCTION)
         for line in block.strip().splitlines()]


@pytest.mark.parametrize("code", CASES)
def test_same_as_torch(code):
    _same(code)


def test_scatter_reduce_under_no_grad():
    def run(m):
        x = m.ones(3, requires_grad=True)
        with m.no_grad():
            return x.scatter(0, m.tensor([0, 0]), 2.0, reduce="multiply")

    ours, theirs = run(chainrule), run(torch)
    assert ours.tolist() == theirs.tolist() == [4.0, 1.0, 1.0]
    assert not ours.requires_grad and not theirs.requires_grad


ERRORS = [
    # (misuse, exception type, pattern of chainrule's message); torch raises the same type
    (lambda m: m.ones(3).scatter(0, m.tensor([0]), 1.0, reduce="sum"), RuntimeError,
     r"scatter\(\): reduce argument must be either add or multiply, got 'sum'"),
    (lambda m: m.ones(3).scatter(0, m.tensor([0, 5]), 1.0, reduce="add"), RuntimeError,
     r"scatter\(\): index 5 is out of bounds for dimension 0 with size 3"),
    (lambda m: m.ones(3).scatter(0, m.tensor([0.0, 1.0]), 1.0, reduce="add"), RuntimeError,
     r"scatter\(\): Expected dtype int64 for index"),
    (lambda m: m.ones(3).scatter(0, m.tensor([[0]]), 1.0, reduce="add"), RuntimeError,
     r"Index tensor must have the same number of dimensions as self tensor \(1\), got 2"),
    (lambda m: m.unique(m.zeros(2, 0), dim=0), RuntimeError,
     r"unique\(\): There are 0 sized dimensions, and they aren't selected"),
    (lambda m: m.unique(m.zeros(2, 3), dim=2), IndexError, r"unique\(\): Dimension out of range"),
    (lambda m: m.zeros(2, dtype=m.uint8).masked_fill(m.tensor([True, False]), 300),
     RuntimeError, r"masked_fill: value cannot be converted to type uint8 without overflow"),
    (lambda m: m.zeros(2).masked_fill(m.tensor([True, False]), 1e40), RuntimeError,
     r"value cannot be converted to type float32 without overflow \(got 1e\+40"),
    (lambda m: m.zeros(2, dtype=m.int64).masked_fill(m.tensor([True, False]), float("nan")),
     RuntimeError, r"value cannot be converted to type int64 without overflow \(got nan"),
    (lambda m: m.ones(3).masked_fill(m.tensor([True, False]), 1.0), RuntimeError,
     r"masked_fill: The size of tensor a \(2\) must match the size of tensor b \(3\)"),
    (lambda m: m.ones(2, 3).permute(0), RuntimeError,
     r"permute\(\): the ordering of dimensions \[0\] does not match the tensor: input.dim\(\) "
     r"= 2 is not equal to len\(dims\) = 1"),
    (lambda m: m.zeros(2.5), TypeError, r"zeros\(\): sizes must be ints, got float \(2.5\)"),
    (lambda m: m.ones(2, 3).sum(dim=2), IndexError,
     r"sum\(\): Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[f"error{i}" for i in range(len(ERRORS))])
def test_errors_as_torch(case):
    misuse, exc, pattern = case
    with pytest.raises(exc, match=pattern):
        misuse(chainrule)
    with pytest.raises(exc):
        misuse(torch)


@pytest.mark.parametrize("which", ["self", "src"])
def test_scatter_reduce_has_no_derivative(which):
    """PyTorch fails at backward ("derivative for aten::scatter is not implemented");
    chainrule refuses the recording op itself, naming the way out."""
    def run(m):
        x = m.ones(3, requires_grad=which == "self")
        src = m.ones(2, requires_grad=which == "src")
        return x.scatter(0, m.tensor([0, 0]), src, reduce="add")

    with pytest.raises(RuntimeError, match=r"scatter\(reduce=...\): the derivative is not "
                                           r"implemented.*scatter_add.*no_grad"):
        run(chainrule)
    with pytest.raises(RuntimeError, match="derivative for aten::scatter is not implemented"):
        run(torch).sum().backward()


def test_storage_offset_counts_elements_not_bytes():
    a = chainrule.arange(20, dtype=chainrule.float64).reshape(4, 5)
    view = a[2, 1:]
    assert view.storage_offset() == 11
    assert view.data_ptr() - a.data_ptr() == 11 * 8


def test_tensor_constructor_makes_one_object_with_the_fields_of_make():
    t = chainrule.Tensor([1.0, 2.0], requires_grad=True)
    assert type(t) is chainrule.Tensor and t.requires_grad and t.is_leaf
    assert t.grad is None and t._version_count == 0


def test_requires_grad_setter_and_method_share_their_checks():
    ints = chainrule.tensor([1, 2])
    for set_flag in (lambda t: setattr(t, "requires_grad", True), lambda t: t.requires_grad_()):
        with pytest.raises(RuntimeError, match="only Tensors of floating point dtype"):
            set_flag(ints)
    y = chainrule.ones(2, requires_grad=True) * 2
    for unset in (lambda t: setattr(t, "requires_grad", False),
                  lambda t: t.requires_grad_(False)):
        with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
            unset(y)
    assert y.requires_grad_() is y and y.requires_grad


# ---------------------------------------------------------------------- chainrule._args itself
def test_check_broadcast_uses_the_one_message_of_broadcast_shapes():
    a, b = np.zeros((2, 3)), np.zeros((4, 3))
    with pytest.raises(RuntimeError) as info:
        _args.check_broadcast(a, b, "add")
    with pytest.raises(RuntimeError) as same:
        _args.broadcast_shapes(a.shape, b.shape, "add")
    assert str(info.value) == str(same.value)
    assert str(info.value).startswith("add: The size of tensor a (2) must match the size of "
                                      "tensor b (4) at non-singleton dimension 0")
    _args.check_broadcast(a, np.zeros((1, 3)), "add")  # broadcastable: no error
    _args.check_broadcast(a, 2.0, "add")  # a scalar always broadcasts


def test_to_axis_and_to_axes():
    assert _args.to_axis(-1, 3, "f") == 2
    assert _args.to_axis(0, 0, "f") == 0 and _args.to_axis(-1, 0, "f") == 0
    assert _args.to_axes((0, -1), 3, "f") == (0, 2)
    assert _args.to_axes([], 3, "f") is None and _args.to_axes(None, 3, "f") is None
    with pytest.raises(TypeError, match=r"f\(\): dim must be an int, got bool"):
        _args.to_axis(True, 3, "f")
    with pytest.raises(RuntimeError, match=r"dim \[0, -3\] appears multiple times"):
        _args.to_axes([0, -3], 3, "f")


def test_shape_args_forms():
    assert _args.shape_args((2, 3), "f") == (2, 3)
    assert _args.shape_args(((2, 3),), "f") == (2, 3)
    assert _args.shape_args((chainrule.Size([2, 3]),), "f") == (2, 3)
    assert _args.shape_args((chainrule.tensor([2, 3]),), "f") == (2, 3)
    assert _args.shape_args((np.int64(2), chainrule.tensor(3)), "f") == (2, 3)
    assert _args.shape_args((2, -1), "f", allow_minus_one=True) == (2, -1)
    with pytest.raises(RuntimeError, match=r"f\(\): sizes must be non-negative"):
        _args.shape_args((2, -1), "f")
    with pytest.raises(TypeError, match=r"sizes must be ints, got bool"):
        _args.shape_args((True, 2), "f")


def test_cast_scalar_converts_as_torch():
    assert _args.cast_scalar(2.7, np.dtype(np.int64), "f") == 2
    assert _args.cast_scalar(5, np.dtype(np.bool_), "f") is True
    assert _args.cast_scalar(np.float64(0.1), np.dtype(np.float16), "f") == 0.0999755859375
    with pytest.raises(RuntimeError, match="value cannot be converted to type int8"):
        _args.cast_scalar(-129, np.dtype(np.int8), "f")


def test_check_device():
    for ok in ("cpu", "cpu:0", chainrule.device("cpu")):
        _args.check_device(ok, "f")
    with pytest.raises(RuntimeError, match=r"f: chainrule runs on the CPU only; device 'cuda:0'"):
        _args.check_device("cuda:0", "f")
