"""Tests of the checker itself: chainrule.autograd.gradcheck / gradgradcheck.

A checker that never fails proves nothing, so most tests here feed it a wrong rule and check
that it fails, and that its message says where: the op, the input, the element, both values.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import chainrule
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.autograd.function import Function, Op
from chainrule.autograd.gradcheck import GradcheckError
from chainrule.ops.elementwise import Sin
from tests._functions import SavingMul
from tests.opspecs import GRADCHECK_TOL


def _x(*shape, seed=0, requires_grad=True, dtype=np.float64):
    arr = np.random.default_rng(seed).uniform(-2, 2, shape).astype(dtype)
    return chainrule.tensor(arr, requires_grad=requires_grad)


class _SinWrongAt(Sin):
    """sin whose derivative is wrong at one flat index (ctx.bad), right elsewhere."""

    bad = 5

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        wrong = np.ones(x.array.shape)
        wrong.reshape(-1)[_SinWrongAt.bad] = 1.5
        return (g * x.cos() * chainrule.tensor(wrong),)


class _MulWrongB(SavingMul, Op):
    """a * b whose gradient for b is g * a * 1.01 (input 1 wrong, input 0 right)."""

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, g * a * 1.01


class _Cube(Function):
    """A user-style Function (forward gets Tensors): x ** 3 with a hand-written rule."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x


class _CubeFirstOrder(Function):
    """x ** 3 whose backward treats 3 x^2 as a constant: right once, wrong twice."""

    @staticmethod
    def forward(ctx, x):
        ctx.d = 3 * x.array * x.array
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        return g * chainrule.tensor(ctx.d)


class _Counting:
    """Wraps a function and counts its calls (how many evaluations the checker made)."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0
        self.__qualname__ = getattr(fn, "__qualname__", "counted")

    def __call__(self, *args):
        self.calls += 1
        return self.fn(*args)


# ---------------------------------------------------------------- passes on right rules
@pytest.mark.parametrize("fn, shapes", [
    (lambda x: x.sin(), [(2, 3)]),
    (lambda x: x.exp().sum(1), [(2, 3)]),
    (lambda a, b: a @ b, [(2, 3), (3, 2)]),
    (lambda a, b: a * b + a / (b * b + 1.0), [(2, 3), (3,)]),
    (lambda x: x.softmax(-1), [(2, 3)]),
    (lambda x: (x[0] * x[1:].sum(0), x.tanh()), [(3, 2)]),
    (_Cube.apply, [(4,)]),
], ids=["sin", "exp-sum", "matmul", "broadcast", "softmax", "two-outputs", "user-Function"])
def test_passes_on_correct_rules(fn, shapes) -> None:
    inputs = [_x(*s, seed=k) for k, s in enumerate(shapes)]
    assert gradcheck(fn, inputs, **GRADCHECK_TOL) is True
    assert gradcheck(fn, inputs) is True  # the default tolerances


def test_second_order_passes_on_correct_rules() -> None:
    a, b = _x(2, 3), _x(3, seed=1)
    assert gradgradcheck(lambda a, b: (a.sin() * b).exp(), [a, b], **GRADCHECK_TOL)
    assert gradgradcheck(_Cube.apply, [_x(3)], **GRADCHECK_TOL)


# ---------------------------------------------------------------- fails, and says where
def test_failure_names_op_input_element_and_both_values() -> None:
    x = _x(2, 3)
    with pytest.raises(GradcheckError) as info:
        gradcheck(_SinWrongAt.apply, [x], name="sin_wrong_at_5", **GRADCHECK_TOL)
    msg = str(info.value)
    assert "sin_wrong_at_5" in msg
    assert "input 0" in msg
    assert "input element (1, 2)" in msg, msg  # flat index 5 of shape (2, 3)
    exact = float(np.cos(x.array[1, 2]))
    wrong = exact * 1.5
    numbers = [float(v) for v in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", msg.split("\n")[0])]
    assert any(abs(v - exact) < 1e-6 for v in numbers), msg
    assert any(abs(v - wrong) < 1e-6 for v in numbers), msg


def test_failure_names_the_wrong_input_of_several() -> None:
    a, b = _x(2, 3), _x(2, 3, seed=1)
    with pytest.raises(GradcheckError, match=r"input 1 of _MulWrongB"):
        gradcheck(_MulWrongB.apply, [a, b], **GRADCHECK_TOL)


def test_failure_uses_the_function_name_when_none_is_given() -> None:
    def my_wrong_sin(x):
        return _SinWrongAt.apply(x)

    with pytest.raises(GradcheckError, match="my_wrong_sin"):
        gradcheck(my_wrong_sin, [_x(2, 3)], **GRADCHECK_TOL)


def test_failure_names_the_output_of_several() -> None:
    with pytest.raises(GradcheckError, match="output 1"):
        gradcheck(lambda x: (x.sin(), _SinWrongAt.apply(x)), [_x(2, 3)], **GRADCHECK_TOL)


def test_raise_exception_false_returns_false() -> None:
    assert gradcheck(_SinWrongAt.apply, [_x(2, 3)], raise_exception=False,
                     **GRADCHECK_TOL) is False
    assert gradgradcheck(_CubeFirstOrder.apply, [_x(3)], raise_exception=False,
                         **GRADCHECK_TOL) is False


def test_gradgradcheck_catches_a_rule_right_only_to_first_order() -> None:
    x = _x(3)
    assert gradcheck(_CubeFirstOrder.apply, [x], **GRADCHECK_TOL)
    with pytest.raises(GradcheckError, match="gradgrad of"):
        gradgradcheck(_CubeFirstOrder.apply, [x], **GRADCHECK_TOL)


# ---------------------------------------------------------------- full Jacobian vs projections
def test_small_inputs_get_the_full_jacobian() -> None:
    """One forward per perturbation of every element: 1 + 2 n calls, each element checked."""
    x = _x(2, 3)
    fn = _Counting(lambda x: x.sin())
    assert gradcheck(fn, [x], **GRADCHECK_TOL)
    assert fn.calls == 1 + 2 * x.numel()
    for bad in range(x.numel()):  # a wrong entry anywhere is found, and placed
        _SinWrongAt.bad = bad
        with pytest.raises(GradcheckError) as info:
            gradcheck(_SinWrongAt.apply, [x], **GRADCHECK_TOL)
        where = re.search(r"input element (\([^)]*\))", str(info.value)).group(1)
        assert where == str(tuple(int(i) for i in np.unravel_index(bad, x.shape)))
    _SinWrongAt.bad = 5


def test_big_inputs_get_random_projections() -> None:
    x = _x(80, 80)  # 6400 x 6400 Jacobian entries: projections, not 12,800 evaluations
    fn = _Counting(lambda x: x.sin())
    assert gradcheck(fn, [x], **GRADCHECK_TOL)
    assert fn.calls < 20


@pytest.mark.parametrize("seed", range(4))
def test_a_wrong_rule_on_a_big_input_is_still_caught(seed: int) -> None:
    """One wrong element among 6400 still moves u^T J v beyond the tolerance."""
    _SinWrongAt.bad = int(np.random.default_rng(seed).integers(80 * 80))
    try:
        with pytest.raises(GradcheckError, match="random projection"):
            gradcheck(_SinWrongAt.apply, [_x(80, 80, seed=seed)], seed=seed, **GRADCHECK_TOL)
    finally:
        _SinWrongAt.bad = 5


def test_fast_mode_uses_projections_on_small_inputs_too() -> None:
    fn = _Counting(lambda x: x.sin())
    assert gradcheck(fn, [_x(2, 3)], fast_mode=True, **GRADCHECK_TOL)
    assert fn.calls < 1 + 2 * 6
    with pytest.raises(GradcheckError, match="random projection"):
        gradcheck(_MulWrongB.apply, [_x(2, 3), _x(2, 3, seed=1)], fast_mode=True,
                  **GRADCHECK_TOL)


# ---------------------------------------------------------------- inputs and bad calls
def test_rejects_float32_inputs_with_a_clear_error() -> None:
    x = _x(2, 3, dtype=np.float32)
    with pytest.raises(ValueError, match=r"input 0 is torch\.float32.*float64.*\.double\(\)"):
        gradcheck(lambda x: x.sin(), [x])


def test_rejects_a_call_with_no_input_requiring_grad() -> None:
    with pytest.raises(ValueError, match="requires_grad=True"):
        gradcheck(lambda x: x.sin(), [_x(3, requires_grad=False)])


def test_rejects_a_function_that_returns_no_tensor() -> None:
    with pytest.raises(TypeError, match="must return Tensors"):
        gradcheck(lambda x: 1.0, [_x(3)])


def test_inputs_are_left_as_they_were() -> None:
    x = _x(2, 3)
    before = x.array.copy()
    gradcheck(lambda x: x.exp(), [x], **GRADCHECK_TOL)
    with pytest.raises(GradcheckError):
        gradcheck(_SinWrongAt.apply, [x], **GRADCHECK_TOL)
    gradcheck(lambda x: x.exp().sum(), [_x(80, 80)], **GRADCHECK_TOL)
    assert np.array_equal(x.array, before)


def test_constant_and_unused_inputs() -> None:
    """Inputs without requires_grad are constants; an unused input has a zero gradient."""
    a, b, c = _x(2, 3), _x(3, requires_grad=False), _x(4, seed=2)
    assert gradcheck(lambda a, b, c: a * b, [a, b, c], **GRADCHECK_TOL)
    idx = chainrule.tensor([2, 0])
    assert gradcheck(lambda a, i: a[:, i], [a, idx], **GRADCHECK_TOL)


def test_accepts_a_single_tensor_as_inputs() -> None:
    assert gradcheck(lambda x: x.sin(), _x(3), **GRADCHECK_TOL)


def test_strided_inputs_are_perturbed_through_their_strides() -> None:
    """A transposed, every-other-element view is checked as it is (no contiguous copy)."""
    big = np.random.default_rng(3).uniform(-2, 2, (4, 6))
    x = chainrule.tensor(big, requires_grad=True)
    view = x.detach()[:, ::2].t().requires_grad_()
    assert not view.is_contiguous()
    assert gradcheck(lambda v: (v * v).sin(), [view], **GRADCHECK_TOL)
    with pytest.raises(GradcheckError, match="input element"):
        gradcheck(_SinWrongAt.apply, [view], **GRADCHECK_TOL)


def test_an_output_without_a_graph_must_be_constant() -> None:
    """A float output that does not require grad claims a zero Jacobian: if finite differences
    see it move, the claim is wrong (as PyTorch's gradcheck says too)."""
    x = _x(2, 3)
    assert gradcheck(lambda x: (x.sin(), x.detach() * 0 + 1.0), [x], **GRADCHECK_TOL)
    with pytest.raises(GradcheckError, match="output 1") as info:
        gradcheck(lambda x: (x.sin(), x.detach().cos()), [x], **GRADCHECK_TOL)
    assert "analytical 0.0" in str(info.value)
    # an integer output (argmax indices) is not differentiated at all
    assert gradcheck(lambda x: x.max(dim=1), [x], **GRADCHECK_TOL)


def test_check_op_and_gradcheck_are_one_checker() -> None:
    """check_op's worst element is the entry gradcheck names, with the same two values."""
    from chainrule.autograd import check_op
    from chainrule.autograd.gradcheck import compare_jacobians

    x = _x(2, 3)
    mm = compare_jacobians(_SinWrongAt.apply, (x,), [0], eps=1e-6, atol=1e-6, rtol=1e-5)
    assert (mm.output, mm.input, mm.in_element, mm.n_bad) == (0, 0, (1, 2), 1)
    with pytest.raises(GradcheckError) as info:
        gradcheck(_SinWrongAt.apply, [x])
    assert f"numerical {mm.numerical!r} but analytical {mm.analytical!r}" in str(info.value)
    report = check_op(_SinWrongAt, (2, 3))
    worst = next(r for r in report.failures if r.variant == "given").worst
    assert worst.input == "x[1, 2]" and worst.rel_err == pytest.approx(0.5, rel=1e-6)


def test_pytorch_options_are_honoured_or_refused() -> None:
    """PyTorch's keyword arguments: accepted where they ask for no other check, refused (not
    silently ignored) where they ask for one this checker does not make."""
    x = _x(2, 3)
    assert gradcheck(lambda x: x.sin(), [x], nondet_tol=1e-3, check_batched_grad=False,
                     check_forward_ad=False, check_backward_ad=True, masked=None)
    assert gradgradcheck(lambda x: x.sin(), [x], check_rev_over_rev=True,
                         gen_non_contig_grad_outputs=False)
    with pytest.raises(NotImplementedError, match="check_forward_ad=True is not implemented"):
        gradcheck(lambda x: x.sin(), [x], check_forward_ad=True)
    with pytest.raises(NotImplementedError, match="check_batched_grad"):
        gradgradcheck(lambda x: x.sin(), [x], check_batched_grad=True)
    with pytest.raises(TypeError, match="unexpected keyword argument 'tolerance'"):
        gradcheck(lambda x: x.sin(), [x], tolerance=1e-3)
