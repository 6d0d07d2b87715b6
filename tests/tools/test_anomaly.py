"""detect_anomaly: the first op whose output is NaN or Inf raises in forward, naming the op, the
file and line that called it and the input ranges; a NaN gradient raises in backward, naming
the backward node and the forward site of its op. State comes back after the scope."""

import inspect
import os

import numpy as np
import pytest

import chainrule
from chainrule import autograd
from chainrule.autograd import observers
from chainrule.tools.anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from tests._functions import double_function
from tests._torch import torch

HERE = os.path.basename(__file__)


def _here() -> int:
    """The line number of the caller's next line."""
    return inspect.currentframe().f_back.f_lineno + 1


def _assert_names(err, op: str, line: int) -> str:
    msg = str(err.value)
    assert f"'{op}'" in msg, msg
    assert f'{HERE}", line {line}' in msg, msg
    return msg


def test_log_of_zero_raises_naming_op_line_and_inputs():
    x = chainrule.tensor([0.0, 1.0, 2.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(RuntimeError) as err:
        line = _here()
        chainrule.log(x)
    msg = _assert_names(err, "Log", line)
    assert "-inf" in msg and "chainrule.log(x)" in msg  # the source line is quoted
    assert "input 0: Tensor shape [3], float32, min 0, max 2" in msg
    assert "clamp" in msg  # a hint at the fix


def test_zero_over_zero_raises():
    a = chainrule.tensor(0.0)
    with detect_anomaly(), pytest.raises(RuntimeError) as err:
        line = _here()
        a / a  # untracked (nothing requires grad): checked too
    msg = _assert_names(err, "Div", line)
    assert "nan" in msg


def test_sqrt_of_negative_raises():
    x = chainrule.tensor([4.0, -1.0], dtype=chainrule.float64, requires_grad=True)
    with detect_anomaly(), pytest.raises(RuntimeError) as err:
        line = _here()
        x.sqrt()
    msg = _assert_names(err, "Sqrt", line)
    assert "first at index (1,)" in msg and "min -1, max 4" in msg


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_overflow_raises_and_site_is_the_users_line_not_chainrules():
    model = chainrule.nn.Linear(2, 1)
    with chainrule.no_grad():
        model.weight.fill_(1e30)
    x = chainrule.tensor([[1e30, 1e30]])
    with detect_anomaly(), pytest.raises(RuntimeError) as err:
        line = _here()
        model(x)  # the bad op runs deep inside chainrule.nn; the site is this line
    msg = str(err.value)
    assert f'{HERE}", line {line}' in msg and "inf" in msg and "overflow" in msg


def test_nan_in_the_data_raises_at_the_first_op():
    x = chainrule.tensor([1.0, float("nan")])
    with detect_anomaly(), pytest.raises(RuntimeError) as err:
        line = _here()
        x * 2
    msg = _assert_names(err, "Mul", line)
    assert "1 nan of 2" in msg


def test_inf_that_comes_in_is_passed_on():
    # the attention-mask idiom: -inf is put in on purpose, softmax turns it into 0
    scores = chainrule.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    mask = chainrule.tensor([[False, False, True]])
    with detect_anomaly():
        masked = scores.masked_fill(mask, float("-inf"))
        p = masked.softmax(-1)
        shifted = masked + 1.0
        p.sum().backward()
    assert np.isneginf(shifted.array[0, 2])
    assert np.allclose(p.array, [[0.26894142, 0.73105858, 0.0]])
    assert np.isfinite(scores.grad.array).all()


def test_no_error_and_same_numbers_when_nothing_is_wrong():
    def step():
        chainrule.manual_seed(0)
        model = chainrule.nn.Sequential(chainrule.nn.Linear(3, 4), chainrule.nn.Tanh(),
                                        chainrule.nn.Linear(4, 2))
        x = chainrule.randn(5, 3)
        loss = chainrule.nn.functional.cross_entropy(model(x), chainrule.tensor([0, 1, 1, 0, 1]))
        loss.backward()
        return [loss.array] + [p.grad.array for p in model.parameters()]

    plain = step()
    with detect_anomaly():
        checked = step()
    for a, b in zip(plain, checked):
        assert np.array_equal(a, b)


def test_nan_gradient_raises_naming_backward_node_and_forward_site():
    x = chainrule.tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        line = _here()
        y = x.sqrt()  # derivative 1 / (2 sqrt(x)) is inf at 0 ...
        z = chainrule.where(x > 0, y, chainrule.zeros(2))  # ... times a zero upstream: nan
        with pytest.raises(RuntimeError) as err:
            z.sum().backward()
    msg = str(err.value)
    assert "Function 'SqrtBackward0' returned nan values in its 0th output." in msg
    assert f'{HERE}", line {line}' in msg and "y = x.sqrt()" in msg
    assert "upstream gradient" in msg and "min 0, max 1" in msg


def test_torch_raises_for_the_same_backward():
    x = torch.tensor([0.0, 4.0], requires_grad=True)
    with pytest.warns(UserWarning), torch.autograd.detect_anomaly():
        z = torch.where(x > 0, x.sqrt(), torch.zeros(2))
        with pytest.raises(RuntimeError, match="returned nan values in its 0th output"):
            z.sum().backward()


class NanBackward(double_function(chainrule)):
    @staticmethod
    def backward(ctx, g):
        return g * float("nan")


def test_custom_function_returning_nan():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        line = _here()
        y = NanBackward.apply(x)
        with pytest.raises(RuntimeError) as err:
            y.sum().backward()
    msg = str(err.value)
    assert "Function 'NanBackwardBackward' returned nan values in its 0th output." in msg
    assert f'{HERE}", line {line}' in msg


def test_inf_gradient_is_allowed_and_backward_rules_are_not_checked_as_forward():
    # sqrt'(0) = inf: PyTorch's anomaly mode lets an inf gradient through; only nan raises.
    # The rule's own intermediate g / (2 * out) is inf and must not trip the forward check.
    x = chainrule.tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        x.sqrt().sum().backward()
    assert np.array_equal(x.grad.array, [np.inf, 0.25])


def test_node_created_before_anomaly_mode_says_so():
    x = chainrule.tensor([0.0], requires_grad=True)
    z = chainrule.where(x > 0, x.sqrt(), chainrule.zeros(1))
    with detect_anomaly(), pytest.raises(RuntimeError, match="recorded while anomaly"):
        z.sum().backward()


def test_other_backward_errors_get_the_forward_site_as_a_note():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        h = x * 1
        line = _here()
        y = h.exp()  # saves its output
        y.add_(1)  # ... which is then modified in place
        with pytest.raises(RuntimeError, match="modified by an inplace") as err:
            y.sum().backward()
    notes = "\n".join(getattr(err.value, "__notes__", []))
    assert "ExpBackward0" in notes and f'{HERE}", line {line}' in notes


def test_check_nan_false_records_sites_but_does_not_raise():
    x = chainrule.tensor([0.0], requires_grad=True)
    with detect_anomaly(check_nan=False):
        line = _here()
        y = x.log()
        y.sum().backward()
    assert y.grad_fn._site[1] == line and np.isinf(x.grad.array[0])


def test_state_restored_nesting_and_exceptions():
    assert not is_anomaly_enabled()
    assert not (observers.forward or observers.backward or observers.node)
    with detect_anomaly():
        assert is_anomaly_enabled() and autograd.is_anomaly_enabled()
        with detect_anomaly(check_nan=False):
            assert not autograd.is_anomaly_check_nan_enabled()
        assert autograd.is_anomaly_check_nan_enabled()
        with set_detect_anomaly(False):
            assert not is_anomaly_enabled()
            chainrule.tensor(0.0).log()  # off: no error
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()
    with pytest.raises(RuntimeError), detect_anomaly():
        chainrule.tensor(-1.0).sqrt()
    assert not is_anomaly_enabled()
    assert not (observers.forward or observers.backward or observers.node)


def test_set_detect_anomaly_as_a_call():
    set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
        with pytest.raises(RuntimeError, match="'Log'"):
            chainrule.tensor(0.0).log()
    finally:
        set_detect_anomaly(False)
    assert not is_anomaly_enabled() and not observers.forward


def test_decorator_form():
    @detect_anomaly()
    def f(x):
        assert is_anomaly_enabled()
        return x.log()

    with pytest.raises(RuntimeError) as err:
        f(chainrule.tensor([0.0]))
    assert "'Log'" in str(err.value) and "return x.log()" in str(err.value)
    assert not is_anomaly_enabled()
    assert f(chainrule.tensor([1.0])).item() == 0.0  # reusable
