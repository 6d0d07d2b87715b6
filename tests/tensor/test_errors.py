"""Bad input: every misuse raises PyTorch's exception type with a message that names the problem.

Each case is a function of the module (`chainrule` or `torch`), so the same misuse runs
against both: chainrule must raise the listed type with a message matching the pattern, and
PyTorch must raise the same type (the check that the type is PyTorch's, not a guess).
"""

import re

import numpy as np
import pytest

import chainrule
from tests._functions import square_function


def _leaf(m, *values):
    return m.tensor(list(values) if values else [1.0, 2.0], requires_grad=True)


def _second_backward(m):
    x = _leaf(m)
    y = (x * x).sum()
    y.backward()
    y.backward()


def _saved_input_modified(m):
    x = _leaf(m)
    y = x * 1
    z = y * y  # saves y
    y.add_(1)
    z.sum().backward()


def _saved_output_modified(m):
    x = _leaf(m)
    y = x.exp()  # saves its output
    y.mul_(2)
    y.sum().backward()


def _modified_through_detach(m):
    x = _leaf(m)
    y = x.exp()
    y.detach().zero_()  # detach() shares the version counter
    y.sum().backward()


def _grad_unused(m):
    x, z = _leaf(m), _leaf(m)
    m.autograd.grad((x * x).sum(), [x, z])


def _grad_twice(m):
    x = _leaf(m)
    y = (x * x).sum()
    m.autograd.grad(y, x)
    m.autograd.grad(y, x)


def _bad_custom(m, wrong_count: bool):
    class Twice(m.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * 2 + b

        @staticmethod
        def backward(ctx, g):
            if wrong_count:
                return (g * 2,)
            return m.ones(3), g

    Twice.apply(_leaf(m), _leaf(m)).sum().backward()


def _custom_saved_after_free(m):
    y = square_function(m).apply(_leaf(m)).sum()
    y.backward()
    y.backward()


def _assign(target, key, value):
    target[key] = value


# (id, misuse, exception type, pattern the chainrule message must match, torch raises the same)
CASES = [
    # shapes
    ("add-shape", lambda m: m.ones(2, 3) + m.ones(3, 2), RuntimeError,
     r"size of tensor a.*must match the size of tensor b", True),
    # recorded and reflected forms too: the shapes are checked after NumPy refuses them
    ("mul-shape-recorded", lambda m: _leaf(m) * m.ones(3), RuntimeError,
     r"mul: The size of tensor a \(2\) must match the size of tensor b \(3\) at "
     r"non-singleton dimension 0 \(shapes \[2\] and \[3\]", True),
    ("rsub-shape", lambda m: m.ones(3).__rsub__(_leaf(m)), RuntimeError,
     r"sub: The size of tensor a \(2\) must match the size of tensor b \(3\) at "
     r"non-singleton dimension 0 \(shapes \[2\] and \[3\]", True),
    # (PyTorch lets zero_ write one value through an expanded tensor; NumPy's view is
    # read-only, so chainrule asks for a clone())
    ("zero-expanded", lambda m: m.ones(1, 3).expand(4, 3).zero_(), RuntimeError,
     r"zero_: unsupported operation: more than one element of the written-to tensor", False),
    ("sub-expanded", lambda m: m.ones(1, 3).expand(4, 3).sub_(m.ones(4, 3)), RuntimeError,
     r"sub_: unsupported operation: more than one element of the written-to tensor", True),
    ("matmul-shape", lambda m: m.ones(2, 3) @ m.ones(2, 3), RuntimeError,
     r"cannot be multiplied \(2x3 and 2x3\)", True),
    ("mm-shape", lambda m: m.ones(2, 3).mm(m.ones(2, 3)), RuntimeError,
     r"cannot be multiplied", True),
    ("dot-size", lambda m: m.ones(3).dot(m.ones(4)), RuntimeError,
     r"inconsistent tensor size.*\[3\].*\[4\]", True),
    ("view-size", lambda m: m.ones(2, 3).view(4), RuntimeError,
     r"shape '\[4\]' is invalid for input of size 6", True),
    ("reshape-size", lambda m: m.ones(2, 3).reshape(5), RuntimeError,
     r"shape '\[5\]' is invalid for input of size 6", True),
    ("view-two-minus-one", lambda m: m.ones(6).view(-1, -1), RuntimeError,
     r"only one dimension can be inferred", True),
    ("expand-size", lambda m: m.ones(2, 3).expand(4, 3), RuntimeError,
     r"expanded size of the tensor \(4\) must match the existing size \(2\)", True),
    ("cat-sizes", lambda m: m.cat([m.ones(2, 3), m.ones(3, 2)]), RuntimeError,
     r"Sizes of tensors must match except in dimension 0", True),
    ("stack-sizes", lambda m: m.stack([m.ones(2, 3), m.ones(3, 2)]), RuntimeError,
     r"stack expects each tensor to be equal size", True),
    ("split-sizes", lambda m: m.ones(6).split([2, 2]), RuntimeError,
     r"split_sizes to sum exactly to 6", True),
    ("setitem-shape", lambda m: _assign(m.ones(3), slice(0, 2), m.ones(3)), RuntimeError,
     r"\[3\].*\[2\]|\[2\].*\[3\]", True),
    ("inplace-broadcast", lambda m: m.ones(3).add_(m.ones(2, 3)), RuntimeError,
     r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]", True),
    ("copy-shape", lambda m: m.ones(3).copy_(m.ones(4)), RuntimeError, r"\[4\].*\[3\]|\(4\)",
     True),
    # backward misuse
    ("backward-non-scalar", lambda m: (_leaf(m) * 2).backward(), RuntimeError,
     r"grad can be implicitly created only for scalar outputs", True),
    ("backward-twice", _second_backward, RuntimeError,
     r"backward through the graph a second time.*retain_graph=True", True),
    ("backward-no-grad", lambda m: (m.tensor([1.0, 2.0]) * 2).sum().backward(), RuntimeError,
     r"element 0 of tensors does not require grad and does not have a grad_fn", True),
    ("backward-under-no-grad", lambda m: _under_no_grad(m), RuntimeError,
     r"does not require grad", True),
    ("backward-gradient-shape", lambda m: (_leaf(m) * 2).backward(m.ones(3)), RuntimeError,
     r"Mismatch in shape: grad_output\[0\] has a shape of .*3.* and output\[0\] has a shape of "
     r".*2", True),
    ("backward-empty-inputs", lambda m: (_leaf(m) * 2).sum().backward(inputs=[]),
     RuntimeError, r"inputs.*cannot be empty", True),
    ("grad-unused-input", _grad_unused, RuntimeError,
     r"not have been used in the graph.*allow_unused=True", True),
    ("grad-input-no-grad", lambda m: m.autograd.grad((_leaf(m) * 2).sum(), m.ones(2)),
     RuntimeError, r"One of the differentiated Tensors.*does not require grad", True),
    ("grad-twice", _grad_twice, RuntimeError, r"a second time", True),
    ("custom-grad-count", lambda m: _bad_custom(m, True), RuntimeError,
     r"TwiceBackward\d? returned an incorrect number of gradients \(expected 2, got 1\)", True),
    ("custom-grad-shape", lambda m: _bad_custom(m, False), RuntimeError,
     r"returned an invalid gradient at index 0 - got \[3\] but expected shape.*\[2\]", True),
    ("custom-saved-freed", _custom_saved_after_free, RuntimeError,
     r"backward through the graph a second time", True),
    # in-place and versions
    ("inplace-leaf-add_", lambda m: _leaf(m).add_(1), RuntimeError,
     r"leaf Variable that requires grad is being used in an in-place operation", True),
    ("inplace-leaf-iadd", lambda m: _iadd(_leaf(m)), RuntimeError,
     r"leaf Variable that requires grad is being used in an in-place operation", True),
    ("inplace-leaf-zero_", lambda m: _leaf(m).zero_(), RuntimeError,
     r"leaf Variable that requires grad", True),
    ("inplace-leaf-setitem", lambda m: _assign(_leaf(m), 0, 5.0), RuntimeError,
     r"leaf Variable that requires grad", True),
    ("inplace-view-of-leaf", lambda m: _leaf(m)[0:1].mul_(2), RuntimeError,
     r"view of a leaf Variable that requires grad", True),
    ("saved-input-modified", _saved_input_modified, RuntimeError,
     r"modified by an inplace operation.*version 1.*version 0|modified by an inplace "
     r"operation.*version 0.*version 1", True),
    ("saved-output-modified", _saved_output_modified, RuntimeError,
     r"modified by an inplace operation.*output 0 of Exp", True),
    ("saved-modified-via-detach", _modified_through_detach, RuntimeError,
     r"modified by an inplace operation", True),
    ("inplace-int-dtype", lambda m: m.ones(3, dtype=m.int64).add_(1.5), RuntimeError,
     r"result type Float can't be cast to the desired output type", True),
    ("inplace-int-div", lambda m: _idiv(m.ones(3, dtype=m.int64)), RuntimeError,
     r"can't be cast to the desired output type", True),
    # requires_grad rules
    ("int-requires-grad", lambda m: m.tensor([1, 2], requires_grad=True), RuntimeError,
     r"floating point", True),
    ("int-requires-grad_", lambda m: m.zeros(2, dtype=m.int64).requires_grad_(), RuntimeError,
     r"floating point", True),
    ("non-leaf-requires-grad-false", lambda m: (_leaf(m) * 2).requires_grad_(False),
     RuntimeError, r"only change requires_grad flags of leaf variables", True),
    ("numpy-requires-grad", lambda m: _leaf(m).numpy(), RuntimeError,
     r"Can't call numpy\(\) on Tensor that requires grad.*detach\(\)", True),
    ("hook-no-grad", lambda m: m.ones(2).register_hook(lambda g: g), RuntimeError,
     r"hook on a tensor that doesn't require gradient", True),
    ("retain-grad-no-grad", lambda m: m.ones(2).retain_grad(), RuntimeError,
     r"can't retain_grad on Tensor that has requires_grad=False", True),
    # data and conversions
    ("ragged-list", lambda m: m.tensor([[1, 2], [3]]), ValueError,
     r"ragged|expected sequence of length", True),
    ("ragged-deep", lambda m: m.tensor([[[1.0], [2.0]], [[3.0]]]), ValueError,
     r"ragged|expected sequence of length", True),
    ("string-data", lambda m: m.tensor("abc"), TypeError, r"str", True),
    ("item-many", lambda m: m.ones(2, 2).item(), RuntimeError,
     r"a Tensor with 4 elements cannot be converted to Scalar", True),
    ("float-many", lambda m: float(m.ones(2)), ValueError,
     r"only one element tensors can be converted to Python scalars", True),
    ("int-many", lambda m: int(m.ones(2)), ValueError,
     r"only one element tensors can be converted", True),
    ("bool-many", lambda m: bool(m.ones(2)), RuntimeError,
     r"Boolean value of Tensor with more than one value is ambiguous", True),
    ("len-0d", lambda m: len(m.tensor(1.0)), TypeError, r"len\(\) of a 0-d tensor", True),
    ("iter-0d", lambda m: iter(m.tensor(1.0)), TypeError, r"iteration over a 0-d tensor", True),
    ("index-float-tensor", lambda m: [1, 2][m.tensor(1.0)], TypeError,
     r"only integer tensors of a single element can be converted to an index", True),
    ("bool-subtract", lambda m: m.tensor([True]) - m.tensor([False]), RuntimeError,
     r"Subtraction, the `-` operator, with two bool tensors is not supported", True),
    ("function-needs-tensor", lambda m: m.exp([1.0, 2.0]), TypeError,
     r"exp\(\): argument 'input' \(position 1\) must be Tensor, not list", True),
    ("mean-int", lambda m: m.arange(3).mean(), RuntimeError,
     r"mean\(\): could not infer output dtype.*floating point", True),
    ("masked-fill-int-mask", lambda m: m.ones(3).masked_fill(m.tensor([1, 0, 1]), 0.0),
     RuntimeError, r"bool", True),
    # dims
    ("sum-dim", lambda m: m.ones(2, 3).sum(2), IndexError,
     r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)", True),
    ("transpose-dim", lambda m: m.ones(2, 3).transpose(0, 2), IndexError,
     r"Dimension out of range", True),
    ("size-dim", lambda m: m.ones(2, 3).size(-3), IndexError,
     r"Dimension out of range.*got -3", True),
    ("unsqueeze-dim", lambda m: m.ones(2, 3).unsqueeze(4), IndexError,
     r"expected to be in range of \[-3, 2\], but got 4", True),
    ("max-dim", lambda m: m.ones(2, 3).max(dim=3), IndexError, r"Dimension out of range", True),
    ("permute-duplicate", lambda m: m.ones(2, 3).permute(0, 0), RuntimeError,
     r"duplicate dims are not allowed", True),
    ("permute-count", lambda m: m.ones(2, 3).permute(0), RuntimeError,
     r"input.dim\(\) = 2 is not equal to len\(dims\) = 1", True),
    ("narrow-range", lambda m: m.ones(3).narrow(0, 2, 5), RuntimeError,
     r"start \(2\) \+ length \(5\) exceeds dimension size \(3\)", True),
    # indices
    ("index-row", lambda m: m.ones(2, 3)[2], IndexError,
     r"index 2 is out of bounds for (axis|dimension) 0 with size 2", True),
    ("index-col", lambda m: m.ones(2, 3)[0, 5], IndexError,
     r"index 5 is out of bounds for (axis|dimension) 1 with size 3", True),
    ("index-negative", lambda m: m.ones(2, 3)[-3], IndexError, r"index -3 is out of bounds",
     True),
    ("index-tensor", lambda m: m.ones(2, 3)[m.tensor([0, 3])], IndexError,
     r"index 3 is out of bounds", True),
    ("index-mask-shape", lambda m: m.ones(2, 2)[m.tensor([True, False, True])], IndexError,
     r"\b3\b.*\b2\b|\b2\b.*\b3\b", True),
    ("index-float", lambda m: m.ones(3)[1.5], IndexError,
     r"only integers, slices \(`:`\), ellipsis \(`...`\), None and long or", True),
    ("index-select-range", lambda m: m.ones(3).index_select(0, m.tensor([5])), IndexError,
     r"out of (bounds|range)", True),
    ("setitem-index-range", lambda m: _assign(m.ones(3), 7, 1.0), IndexError,
     r"index 7 is out of bounds", True),
    # factories
    ("zeros-negative", lambda m: m.zeros(-1), RuntimeError, r"non-negative", True),
    ("zeros-float-size", lambda m: m.zeros(2.5), TypeError, r"float", True),
    ("randint-range", lambda m: m.randint(5, 2, (3,)), RuntimeError,
     r"'from'.*to be less than 'to'", True),
    ("arange-step", lambda m: m.arange(0, 10, 0), RuntimeError, r"step must be nonzero", True),
    ("linspace-steps", lambda m: m.linspace(0, 1, -1), RuntimeError,
     r"number of steps must be (a )?non-negative", True),
    ("eye-negative", lambda m: m.eye(-1), RuntimeError, r"-1", True),
    ("normal-std", lambda m: m.normal(0.0, -1.0, (2,)), RuntimeError,
     r"normal.*expects std >= 0.0", True),
]


def _under_no_grad(m):
    x = _leaf(m)
    with m.no_grad():
        y = (x * 2).sum()
    y.backward()


def _iadd(t):
    t += 1


def _idiv(t):
    t /= 2


IDS = [c[0] for c in CASES]


def test_enough_cases():
    assert len(CASES) >= 30
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_chainrule_raises(case):
    _, misuse, exc, pattern, _ = case
    with pytest.raises(exc, match=pattern) as info:
        misuse(chainrule)
    # never a NumPy error message leaking through unchanged
    assert "numpy" not in str(info.value).lower() or "numpy()" in str(info.value)


@pytest.mark.parametrize("case", [c for c in CASES if c[4]], ids=[c[0] for c in CASES if c[4]])
def test_torch_raises_same_type(case):
    from tests._torch import torch

    _, misuse, exc, _, _ = case
    with pytest.raises(exc):
        misuse(torch)


def _set_attr(obj, name, value):
    setattr(obj, name, value)


@pytest.mark.parametrize("misuse", [
    lambda m: _set_attr(m.tensor([1, 2]), "requires_grad", True),
    lambda m: _set_attr(_leaf(m) * 2, "requires_grad", False),
    lambda m: _set_attr(_leaf(m), "grad", m.ones(3)),
], ids=["int-requires-grad-attr", "non-leaf-requires-grad-attr", "grad-wrong-shape"])
def test_attribute_assignment_is_checked(misuse):
    from tests._torch import torch

    with pytest.raises(RuntimeError):
        misuse(torch)
    with pytest.raises(RuntimeError, match="floating point|leaf|size"):
        misuse(chainrule)


def test_messages_name_shapes():
    """Shape errors say which shapes clashed, so the user can find the bad line."""
    with pytest.raises(RuntimeError) as info:
        chainrule.ones(2, 3) + chainrule.ones(4, 5)
    msg = str(info.value)
    assert re.search(r"2, 3", msg) and re.search(r"4, 5", msg)


def test_no_numpy_exception_types_leak():
    """A NumPy failure deep inside must surface as a torch-style error, not AttributeError."""
    bad = [
        lambda: chainrule.ones(2, 3) * chainrule.ones(3, 2),
        lambda: chainrule.ones(2, 3)[:, 7],
        lambda: chainrule.ones(3).reshape(2, 2),
        lambda: chainrule.tensor([[1.0], [2.0, 3.0]]),
        lambda: chainrule.tensor(np.array(["a"])),
        lambda: chainrule.ones(2).backward(),
    ]
    for f in bad:
        with pytest.raises((RuntimeError, ValueError, TypeError, IndexError)):
            f()
