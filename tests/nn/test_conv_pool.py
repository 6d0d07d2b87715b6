"""Convolution, pooling, normalisation, embedding and dropout: what a row of the op table
cannot say.

The comparisons with PyTorch (outputs, gradients in float32 and float64, second derivatives,
finite differences, bad inputs) over the stride / padding / dilation / groups / ceil_mode
grids are rows of tests/opspecs.py, run by tests/ops/test_ops.py. Here: output layout, double
backward through whole expressions, exact tie-breaking, in-place renormalisation, randomness.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd import gradgradcheck
from tests._torch import torch

TF = torch.nn.functional


def _arrays(shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [None if s is None else rng.standard_normal(s).astype(dtype) for s in shapes]


# ------------------------------------------------------------------------------ convolution
def test_outputs_are_contiguous_so_view_works():
    """Course code flattens conv outputs with x.view(n, -1), which needs PyTorch's layout."""
    x = cr.randn(2, 3, 6, 6)
    for out in (F.conv2d(x, cr.randn(4, 3, 3, 3), padding=1),
                F.conv2d(x, cr.randn(4, 3, 3, 3), cr.randn(4), stride=2),
                F.conv_transpose2d(x, cr.randn(3, 2, 3, 3), stride=2, padding=1),
                F.conv1d(x[:, :, 0], cr.randn(4, 3, 2)),
                F.max_pool2d(x, 2), F.avg_pool2d(x, 3, 2, 1),
                F.batch_norm(x, None, None, training=True)):
        assert out.is_contiguous()
        assert out.view(2, -1).shape[0] == 2


def test_conv_double_backward_matches_torch():
    """A gradient penalty: d/d(x, w) of |d sum(conv(x, w)^2) / dx|^2, through all three ops."""
    x, w = _arrays([(2, 3, 6, 5), (4, 3, 3, 2)], np.float64, seed=5)
    results = []
    for lib, fn in ((cr, F.conv2d), (torch, TF.conv2d)):
        tx, tw = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = fn(tx, tw, stride=(1, 2), padding=1, dilation=(2, 1))
        (gx,) = lib.autograd.grad((y * y).sum(), tx, create_graph=True)
        penalty = (gx * gx).sum()
        penalty.backward()
        results.append((penalty.item(), tx.grad.numpy().copy(), tw.grad.numpy().copy()))
    (p1, x1, w1), (p2, x2, w2) = results
    assert p1 == pytest.approx(p2, rel=1e-12)
    np.testing.assert_allclose(x1, x2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w1, w2, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------- pooling
def test_max_pool_ties_take_the_first_maximum():
    """After a ReLU whole windows are 0: the gradient goes where PyTorch sends it."""
    x = np.array([[[[0, 0, 1, 1], [0, 0, 1, 0], [2, 0, 0, 0], [0, 2, 0, 0]]]], np.float64)
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)):
        cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        F.max_pool2d(cx, **kw).sum().backward()
        TF.max_pool2d(tx, **kw).sum().backward()
        np.testing.assert_array_equal(cx.grad.numpy(), tx.grad.numpy())


def test_pool_double_backward_matches_torch():
    x = _arrays([(2, 2, 6, 6)], np.float64, seed=7)[0]
    res = []
    for lib, mp, ap in ((cr, F.max_pool2d, F.avg_pool2d), (torch, TF.max_pool2d, TF.avg_pool2d)):
        t = lib.tensor(x, requires_grad=True)
        y = (mp(t * t, 3, 1, 1) ** 2).sum() + (ap(t ** 3, 2, 1, 1) ** 2).sum()
        (g,) = lib.autograd.grad(y, t, create_graph=True)
        (g * g).sum().backward()
        res.append(t.grad.numpy().copy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-10)


# ---------------------------------------------------------------------------- normalisation
def test_batch_norm_double_backward_matches_torch():
    x, w, b = _arrays([(4, 3, 3, 2), (3,), (3,)], np.float64, seed=11)
    res = []
    for lib, fn in ((cr, F.batch_norm), (torch, TF.batch_norm)):
        tx, tw, tb = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        y = fn(tx, None, None, tw, tb, True)
        (gx,) = lib.autograd.grad((y ** 3).sum(), tx, create_graph=True)
        (gx * gx).sum().backward()
        res.append([t.grad.numpy().copy() for t in (tx, tw, tb)])
    for a, t in zip(*res):
        np.testing.assert_allclose(a, t, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------------- embedding
def test_embedding_max_norm_and_errors():
    w = _arrays([(6, 4)], np.float64)[0] * 3
    cw, tw = cr.tensor(w.copy()), torch.tensor(w.copy())
    idx = np.array([0, 3, 3, 5])
    out_c = F.embedding(cr.tensor(idx), cw, max_norm=1.5)
    out_t = TF.embedding(torch.tensor(idx), tw, max_norm=1.5)
    np.testing.assert_allclose(out_c.numpy(), out_t.numpy(), rtol=1e-12)
    np.testing.assert_allclose(cw.numpy(), tw.numpy(), rtol=1e-12)  # renormalised in place
    with pytest.raises(IndexError, match="out of range"):
        F.embedding(cr.tensor([6]), cw)
    with pytest.raises(RuntimeError, match="Long, Int"):
        F.embedding(cr.tensor([1.0]), cw)
    assert gradgradcheck(lambda t: F.embedding(cr.tensor(idx), t, padding_idx=3) ** 2,
                         [cr.tensor(w, requires_grad=True)])


# ---------------------------------------------------------------------------------- dropout
def test_dropout_statistics_and_scaling():
    cr.manual_seed(0)
    x = cr.ones(200, 500, requires_grad=True)
    y = F.dropout(x, 0.3)
    kept = y.detach().numpy() != 0
    assert abs(kept.mean() - 0.7) < 0.005
    np.testing.assert_allclose(y.detach().numpy()[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy() != 0, kept)
    assert F.dropout(x, 0.3, training=False) is x
    assert (F.dropout(x, 1.0).detach().numpy() == 0).all()
    z = F.dropout2d(cr.ones(100, 50, 3, 4), 0.5).numpy()
    per_channel = z.reshape(100, 50, -1)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert abs((per_channel[..., 0] == 0).mean() - 0.5) < 0.03
    cr.manual_seed(1)
    a = F.dropout(cr.ones(10, 10), 0.5).numpy()
    cr.manual_seed(1)
    np.testing.assert_array_equal(a, F.dropout(cr.ones(10, 10), 0.5).numpy())
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)


# ----------------------------------------------------------------------------------- errors
def test_conv_errors():
    """The bad calls that the op table's error rows cannot express (mixed dtypes)."""
    x, w = cr.randn(2, 3, 5, 5), cr.randn(4, 3, 3, 3)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.conv2d(x.double(), w)
    with pytest.raises(RuntimeError, match="kernel_size must either be a single int"):
        F.max_pool2d(x, (2, 2, 2))  # (torch raises RuntimeError too)
