"""Numerical stability at the extremes: log_softmax, logsumexp, sigmoid, softplus at +-1e4.

A naive exp(1e4) overflows to inf and 1 + exp(-1e4) loses everything, so each function must
be computed in its stable form. Values and gradients must be finite, exactly what the
mathematics gives where that is representable, and equal to PyTorch's.
"""

import numpy as np
import pytest

import chainrule
from chainrule.nn import functional as F
from tests._torch import torch

EXTREMES = [-1e4, -1e3, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1e3, 1e4]
DTYPES = ["float32", "float64"]


def _softplus(m, x):
    return (F if m is chainrule else torch.nn.functional).softplus(x)


def _logsigmoid(m, x):
    return (F if m is chainrule else torch.nn.functional).logsigmoid(x)


FUNCTIONS = {
    "sigmoid": lambda m, x: x.sigmoid(),
    "torch.sigmoid": lambda m, x: m.sigmoid(x),
    "softplus": _softplus,
    "logsigmoid": _logsigmoid,
    "log_softmax": lambda m, x: x.reshape(1, -1).log_softmax(1),
    "log_softmax-pairs": lambda m, x: m.stack([x, -x, x * 0], 1).log_softmax(1),
    "logsumexp": lambda m, x: x.reshape(1, -1).logsumexp(1),
    "logsumexp-pairs": lambda m, x: m.stack([x, x, -x], 1).logsumexp(1),
    "softmax": lambda m, x: m.stack([x, -x], 1).softmax(1),
}


def _eval(m, name, values, dtype):
    x = m.tensor(values, dtype=getattr(m, dtype), requires_grad=True)
    y = FUNCTIONS[name](m, x)
    upstream = np.linspace(-1.0, 1.0, y.numel()).reshape(tuple(y.shape)).astype(dtype)
    y.backward(m.tensor(upstream))
    return y.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_finite_and_equal_to_torch(name, dtype):
    ours, ours_grad = _eval(chainrule, name, EXTREMES, dtype)
    theirs, theirs_grad = _eval(torch, name, EXTREMES, dtype)
    assert np.isfinite(ours).all(), ours
    assert np.isfinite(ours_grad).all(), ours_grad
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    # last-bit differences come from exp/log1p in different libms; nothing more is allowed
    tol = {"float32": 2e-7, "float64": 1e-15}[dtype]
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)
    np.testing.assert_allclose(ours_grad, theirs_grad, rtol=tol, atol=tol)


@pytest.mark.parametrize("m", [chainrule, torch], ids=["chainrule", "torch"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_exact_values_at_the_extremes(m, dtype):
    """What the mathematics gives, to the last bit, where it is representable."""
    dt = getattr(m, dtype)
    x = m.tensor([-1e4, 1e4], dtype=dt)
    assert x.sigmoid().tolist() == [0.0, 1.0]
    assert _softplus(m, x).tolist() == [0.0, 1e4]
    assert _logsigmoid(m, x).tolist() == [-1e4, 0.0]
    row = m.tensor([[1e4, 0.0, -1e4]], dtype=dt)
    assert row.log_softmax(1).tolist() == [[0.0, -1e4, -2e4]]
    assert row.softmax(1).tolist() == [[1.0, 0.0, 0.0]]
    assert row.logsumexp(1).tolist() == [1e4]
    # two equal maxima: log(2 e^M) = M + log 2, computed without overflow
    twin = m.tensor([[1e4, 1e4], [-1e4, -1e4]], dtype=dt)
    expected = np.array([1e4, -1e4], dtype=dtype) + np.array(np.log(2.0), dtype=dtype)
    assert twin.logsumexp(1).numpy().tolist() == expected.tolist()
    assert twin.log_softmax(1).numpy().tolist() == \
        [[-np.float64(np.array(np.log(2.0), dtype=dtype))] * 2] * 2


@pytest.mark.parametrize("dtype", DTYPES)
def test_gradients_exact_at_the_extremes(dtype):
    dt = getattr(chainrule, dtype)
    x = chainrule.tensor([-1e4, 1e4], dtype=dt, requires_grad=True)
    x.sigmoid().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]  # sigmoid' = s (1 - s) underflows to exactly 0
    x.grad = None
    _softplus(chainrule, x).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0]  # softplus' = sigmoid
    x.grad = None
    row = x.reshape(1, 2)
    row.logsumexp(1).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0]  # logsumexp' = softmax
    x.grad = None
    x.reshape(1, 2).log_softmax(1)[0, 0].backward()
    assert x.grad.tolist() == [1.0, -1.0]  # d log p_0 = e_0 - softmax


@pytest.mark.parametrize("dtype", DTYPES)
def test_all_large_inputs_in_a_row(dtype):
    """A row of huge, equal-magnitude logits: the max-shift must keep everything finite."""
    values = np.array([[1e4, 1e4 - 1, 1e4 - 2], [-1e4, -1e4 - 1, -1e4 - 2]], dtype=dtype)
    for m in (chainrule,):
        x = m.tensor(values, requires_grad=True)
        ls = x.log_softmax(1)
        lse = x.logsumexp(1)
        (ls.sum() + lse.sum()).backward()
        assert np.isfinite(ls.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all()
        shifted = values - values.max(1, keepdims=True)
        expected = shifted - np.log(np.exp(shifted.astype(np.float64)).sum(1, keepdims=True))
        np.testing.assert_allclose(ls.detach().numpy(), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["sigmoid", "softplus", "log_softmax", "logsumexp"])
def test_gradcheck_near_the_extremes(name):
    """float64 finite differences agree where the function is not flat to rounding."""
    values = chainrule.tensor([-30.0, -5.0, 0.3, 5.0, 30.0], dtype=chainrule.float64,
                              requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda t: FUNCTIONS[name](chainrule, t), (values,))
