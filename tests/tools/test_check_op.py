"""autograd.check_op: passes on the built-in ops, and fails - saying where - on wrong rules.

A checker that never fails proves nothing: three custom ops carry the classic mistakes (a rule
0.1% off, a broadcast undone with mean instead of sum, a backward computed on NumPy values so
that it is right once but has no derivative of its own) and each must fail with the op's name,
the variant, and the worst element.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule
import chainrule.nn.functional as F
from chainrule.autograd import check_op
from chainrule.autograd.function import Function, Op
from chainrule.autograd.gradcheck import GradcheckError
from chainrule.tensor import Tensor
from chainrule.tools.check_op import CheckReport, Worst
from tests._functions import SavingMul, double_function, square_function

# ------------------------------------------------------------------ built-in ops pass
# (name, callable, shapes, keyword arguments of check_op)
BUILTINS = [
    ("add", lambda a, b: a + b, [(2, 3), (2, 3)], {}),
    ("sub", lambda a, b: a - b, [(2, 3), (2, 3)], {}),
    ("mul", lambda a, b: a * b, [(2, 3), (2, 3)], {}),
    ("div", lambda a, b: a / b, [(2, 3), (2, 3)], {}),
    ("pow", lambda a, b: a ** b, [(2, 3), (2, 3)], {"domain": (0.5, 1.5)}),
    ("pow scalar", lambda x: x ** 3, [(2, 3)], {}),
    ("maximum", chainrule.maximum, [(2, 3), (2, 3)], {}),
    ("neg", lambda x: -x, [(2, 3)], {}),
    ("abs", lambda x: x.abs(), [(2, 3)], {}),
    ("exp", lambda x: x.exp(), [(2, 3)], {}),
    ("log", lambda x: x.log(), [(2, 3)], {}),
    ("sqrt", lambda x: x.sqrt(), [(2, 3)], {}),
    ("rsqrt", lambda x: x.rsqrt(), [(2, 3)], {}),
    ("reciprocal", lambda x: x.reciprocal(), [(2, 3)], {}),
    ("sin", lambda x: x.sin(), [(2, 3)], {}),
    ("cos", lambda x: x.cos(), [(2, 3)], {}),
    ("tanh", lambda x: x.tanh(), [(2, 3)], {}),
    ("sigmoid", lambda x: x.sigmoid(), [(2, 3)], {}),
    ("relu", lambda x: x.relu(), [(2, 3)], {}),
    ("gelu", F.gelu, [(2, 3)], {}),
    ("softplus", F.softplus, [(2, 3)], {}),
    ("erf", chainrule.erf, [(2, 3)], {}),
    ("clamp", lambda x: x.clamp(-1.0, 1.0), [(2, 3)], {}),
    ("where", lambda a, b: chainrule.where(a > 0, a, b), [(2, 3), (2, 3)], {}),
    ("sum", lambda x: x.sum(), [(2, 3)], {}),
    ("sum dim", lambda x: x.sum(1, keepdim=True), [(2, 3)], {}),
    ("mean", lambda x: x.mean(0), [(2, 3)], {}),
    ("prod", lambda x: x.prod(1), [(2, 3)], {}),
    ("amax", lambda x: x.amax(1), [(2, 3)], {}),
    ("cumsum", lambda x: x.cumsum(0), [(2, 3)], {}),
    ("logsumexp", lambda x: x.logsumexp(1), [(2, 3)], {}),
    ("softmax", lambda x: x.softmax(-1), [(2, 3)], {}),
    ("log_softmax", lambda x: F.log_softmax(x, dim=-1), [(2, 3)], {}),
    ("reshape", lambda x: x.reshape(3, 2), [(2, 3)], {}),
    ("permute", lambda x: x.permute(2, 0, 1), [(2, 1, 3)], {}),
    ("transpose", lambda x: x.t(), [(2, 3)], {}),
    ("expand", lambda x: x.expand(2, 3), [(1, 3)], {}),
    ("flip", lambda x: x.flip(0), [(2, 3)], {}),
    ("tril", lambda x: x.tril(), [(3, 3)], {}),
    ("cat", lambda a, b: chainrule.cat([a, b], 0), [(2, 3), (1, 3)], {}),
    ("getitem", lambda x: x[1:, ::2], [(3, 4)], {}),
    ("matmul", chainrule.matmul, [(2, 3), (3, 2)], {}),
    ("matmul batched", chainrule.matmul, [(2, 2, 3), (3, 2)], {}),
    ("einsum", lambda a, b: chainrule.einsum("ij,jk->ik", a, b), [(2, 3), (3, 2)], {}),
    ("mse_loss", F.mse_loss, [(2, 3), (2, 3)], {}),
    ("linear", F.linear, [(2, 3), (2, 3), (2,)], {}),
    ("conv2d", lambda x, w: F.conv2d(x, w, padding=1), [(1, 2, 3, 3), (2, 2, 2, 2)], {}),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), [(1, 1, 2, 4)], {}),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 2), [(1, 1, 2, 4)], {}),
    ("layer_norm", lambda x: F.layer_norm(x, (3,)), [(2, 3)], {}),
    ("var", lambda x: x.var(1), [(2, 3)], {}),
    ("gather", lambda x, i: x.gather(1, i), [(2, 3), chainrule.tensor([[2, 0], [1, 1]])], {}),
    ("index_select", lambda x, i: x.index_select(0, i), [(3, 2), chainrule.tensor([2, 0, 2])],
     {}),
    ("cross_entropy", F.cross_entropy, [(2, 3), chainrule.tensor([2, 0])], {}),
    ("bce_with_logits", F.binary_cross_entropy_with_logits, [(2, 3), (2, 3)], {}),
    ("norm", lambda x: chainrule.linalg.norm(x), [(2, 3)], {}),
]


def test_builtin_ops_pass():
    failed = []
    for name, fn, shapes, kwargs in BUILTINS:
        report = check_op(fn, *shapes, name=name, **kwargs)
        if not report.passed:
            failed.append(str(report))
        # every variant that ran was checked both ways (a report of only skips proves nothing)
        given = [r for r in report if r.variant == "given"]
        assert [r.check for r in given] == ["forward", "gradcheck", "gradgradcheck"], name
    assert not failed, "\n\n".join(failed)


def test_multi_output_and_constant_arguments():
    # (values, indices): the integer output is not differentiated; a non-shape argument (here
    # an index tensor or a number) is passed through unchanged as a constant
    assert check_op(lambda x: x.max(dim=1), (2, 3)).passed
    idx = chainrule.tensor([0, 2])
    report = check_op(lambda x, i: x[i] * 2.0, (4,), idx)
    assert report.passed, str(report)
    assert check_op(lambda x, k: x * k, (2, 3), 2.5).passed


# ------------------------------------------------------------------ wrong rules fail
class _SinOff(Function):
    """sin whose derivative is 0.1% too large."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.cos() * 1.001


def _mean_to(g, shape):
    """The mistake: undo a broadcast with mean instead of sum (right shape, wrong values)."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and g.shape[lead + i] != 1)
    return g.mean(dim=axes, keepdim=True).reshape(shape) if axes else g


class _MulMeanBroadcast(SavingMul, Function):
    """a * b whose backward folds broadcast axes with mean."""

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _mean_to(g * b, a.shape), _mean_to(g * a, b.shape)


class _SquareFirstOrder(square_function(chainrule)):
    """x * x whose backward is computed on NumPy values: right once, no derivative of its own."""

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return Tensor(g.array * 2 * x.array)


def _failed(report: CheckReport):
    return [(r.variant, r.check) for r in report.failures]


def test_rule_off_by_a_tenth_of_a_percent_fails():
    report = check_op(_SinOff, (3, 4))
    assert not report.passed
    assert {check for _, check in _failed(report)} == {"gradcheck"}
    assert ("given", "gradcheck") in _failed(report)
    worst = report.failures[0].worst
    assert isinstance(worst, Worst)
    assert worst.output.startswith("out[") and worst.input.startswith("x[")
    assert worst.rel_err == pytest.approx(1e-3, rel=1e-3)
    assert worst.analytical == pytest.approx(worst.numerical * 1.001, rel=1e-8)
    text = str(report)
    assert "_SinOff" in text and "FAILED" in text
    assert f"d {worst.output} / d {worst.input}" in text and "rel err 0.001" in text


def test_wrong_broadcast_reduction_fails_only_on_broadcast_variants():
    report = check_op(_MulMeanBroadcast, (3, 4), (3, 4))
    assert not report.passed
    failed = _failed(report)
    assert failed and all(v.startswith("broadcast") and c == "gradcheck" for v, c in failed)
    # both inputs' broadcast variants are caught, each naming the shrunk input
    assert {v for v, _ in failed} == {"broadcast a", "broadcast b"}
    row = next(r for r in report.failures if r.shapes == ((3, 4), (4,)))
    # d out / d b[j] is sum_i a[i, j]; the mean gives a third of it
    assert row.worst.input.startswith("b[")
    assert row.worst.analytical == pytest.approx(row.worst.numerical / 3, rel=1e-6)
    assert all(r.status == "passed" for r in report if r.variant == "given")
    assert "_MulMeanBroadcast" in str(report) and "broadcast b" in str(report)


def test_rule_right_only_to_first_order_fails_gradgradcheck():
    report = check_op(_SquareFirstOrder, (2, 3))
    assert not report.passed
    assert {c for _, c in _failed(report)} == {"gradgradcheck"}
    worst = next(r for r in report.failures if r.variant == "given").worst
    assert worst.output.startswith("grad_x[") and worst.analytical == 0.0
    assert worst.numerical != 0.0
    assert "gradgradcheck" in str(report) and "_SquareFirstOrder" in str(report)


def test_raise_exception_carries_the_report():
    with pytest.raises(GradcheckError, match=r"check_op\(_SinOff\): FAILED") as info:
        check_op(_SinOff, (2,), raise_exception=True)
    assert info.value.report.failures
    assert "worst d out[" in str(info.value)
    assert check_op(lambda x: x.sin(), (2,), raise_exception=True).passed


def test_big_jacobians_are_checked_by_projection():
    report = check_op(_SinOff, (300,))
    row = next(r for r in report.failures if r.variant == "given")
    assert "random projection" in row.detail
    assert check_op(lambda x: x.sin(), (300,)).passed


# ------------------------------------------------------------------ forward checks
def test_shapes_the_op_rejects_are_skipped_not_failed():
    report = check_op(chainrule.matmul, (2, 3), (3, 2))
    assert report.passed
    (skip,) = [r for r in report if r.status == "skipped"]
    assert skip.variant == "0-d" and skip.detail.startswith("not applicable: RuntimeError")
    assert "matmul" in skip.detail


def test_forward_failing_on_the_given_shapes_fails():
    report = check_op(chainrule.matmul, (2, 3), (2, 3))
    assert not report.passed and _failed(report) == [("given", "forward")]
    assert "forward raised RuntimeError" in report.failures[0].detail


class _Detached(double_function(chainrule)):
    pass  # forward computes x * 2 on Tensors the graph does not see: legal inside a Function


class _Mutates(double_function(chainrule)):
    @staticmethod
    def forward(ctx, x):
        x.array[...] = x.array + 1.0
        return x * 2


class _Contiguous(Op):
    """Reads its input as if it were C-contiguous (the bug of a hand-rolled im2col)."""

    @staticmethod
    def forward(ctx, x):
        itemsize = x.itemsize
        strides = tuple(int(np.prod(x.shape[i + 1:])) * itemsize for i in range(x.ndim))
        return np.lib.stride_tricks.as_strided(x, x.shape, strides).copy()

    @staticmethod
    def backward(ctx, g):
        return (g,)


@pytest.mark.parametrize("fn, shapes, variant, message", [
    (lambda x: x.detach() * 2, [(2, 3)], "given", "no output requires grad"),
    (lambda x: (x * 2).float(), [(2, 3)], "given", "float32"),
    (lambda x: x.array, [(2, 3)], "given", "must return a Tensor"),
    (_Mutates, [(2, 3)], "given", "changed its input x in place"),
    (_Contiguous, [(2, 3)], "non-contiguous", "differs between strided and contiguous"),
    (lambda x: x.log(), [(2, 3)], "given", "nan/inf"),
])
def test_forward_problems_are_named(fn, shapes, variant, message):
    kwargs = {"domain": (-1.0, -0.5)} if message == "nan/inf" else {}
    report = check_op(fn, *shapes, **kwargs)
    failed = [r for r in report.failures if r.check == "forward"]
    assert [r.variant for r in failed] == [variant], str(report)
    assert message in failed[0].detail


def test_a_function_whose_forward_detaches_records_a_graph_anyway():
    # a Function's outputs get its node whatever forward does inside: the rule is checked
    assert check_op(_Detached, (2, 3)).passed


# ------------------------------------------------------------------ domains and errors
def test_default_domain_falls_back_to_positive_inputs():
    report = check_op(lambda x: x.sqrt(), (2, 3))
    assert report.passed
    assert any("[0.5, 1.5]" in n for n in report.notes)
    assert not check_op(lambda x: x.sin(), (2, 3)).notes


def test_explicit_domains():
    seen = []

    def sampler(rng, shape):
        seen.append(shape)
        return rng.uniform(2.0, 3.0, shape)

    report = check_op(lambda a, b: (a - 1).log() * b, (2,), (2,), domain=[sampler, (-1, 1)])
    assert report.passed and (2,) in seen
    with pytest.raises(TypeError, match="domain must be"):
        check_op(lambda x: x, (2,), domain="positive")
    with pytest.raises(ValueError, match="2 domains for 1 tensor inputs"):
        check_op(lambda x: x, (2,), domain=[(0, 1), (0, 1)])
    with pytest.raises(ValueError, match="one shape tuple per tensor input"):
        check_op(lambda x: x, 3.0)
    with pytest.raises(TypeError, match="callable"):
        check_op(42, (2,))


def test_variants_cover_broadcast_0d_size1_and_strides():
    report = check_op(lambda a, b: a * b, (2, 3), (2, 3))
    shapes = {(r.variant, r.shapes) for r in report}
    assert ("broadcast a", ((3,), (2, 3))) in shapes
    assert ("broadcast b", ((2, 3), (1, 3))) in shapes
    assert ("broadcast b", ((2, 3), (2, 1))) in shapes
    assert ("broadcast b", ((2, 3), ())) in shapes
    assert ("0-d", ((), ())) in shapes
    assert ("size-1", ((1, 1), (1, 1))) in shapes
    assert ("non-contiguous", ((2, 3), (2, 3))) in shapes
    table = str(report)
    assert table.splitlines()[1].split() == ["variant", "shapes", "check", "status", "detail"]
    assert len(report) == 3 * len(shapes)


class _MulUnreduced(_MulMeanBroadcast):
    """a * b whose backward forgets to undo the broadcast (the engine names the shapes)."""

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, g * a


def test_a_backward_that_raises_fails_with_its_error():
    report = check_op(_MulUnreduced, (2, 3), (2, 3))
    failed = report.failures
    assert failed and all(r.variant.startswith("broadcast") for r in failed)
    assert all(r.detail.startswith("backward raised RuntimeError") for r in failed)
    assert "invalid gradient" in failed[0].detail


def test_report_renders_as_html():
    report = check_op(_SinOff, (2,))
    html = report._repr_html_()
    assert len(report) == 12 and html.count("<tr>") == 1 + 12  # 4 variants x 3 checks
    assert "FAILED" in html and "color:#cf222e" in html


def test_float32_checks_forward_only():
    report = check_op(lambda x: x.sin(), (2, 3), dtype=chainrule.float32)
    assert report.passed and {r.check for r in report} == {"forward"}
    assert any("need float64" in n for n in report.notes)
    with pytest.raises(TypeError, match="floating dtype"):
        check_op(lambda x: x, (2,), dtype=chainrule.int64)
