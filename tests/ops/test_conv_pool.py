"""The convolution and pooling kernels' own choices, which the op table's small rows reach
only by chance: both matmul layouts of convolution (per sample and position-major) on the
MNIST CNN's shapes, windows that tile the input or leave rows over, NaN windows and
non-finite gradients in max pooling. Values and gradients are compared with PyTorch."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.ops import conv as ops
from tests._torch import torch

TF = torch.nn.functional


def _conv_both(x, w, b, **kw):
    """(chainrule, torch) results of conv2d: output, and the gradients of x, w and b for the
    loss sum(out * r) with a fixed r, so every output position weighs differently."""
    r = np.random.default_rng(3).standard_normal(TF.conv2d(torch.tensor(x), torch.tensor(w),
                                                           **kw).shape).astype(x.dtype)
    res = []
    for lib, fn in ((cr, F.conv2d), (torch, TF.conv2d)):
        tx, tw, tb = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        out = fn(tx, tw, tb, **kw)
        (out * lib.tensor(r)).sum().backward()
        res.append([t.detach().numpy().copy() for t in (out, tx.grad, tw.grad, tb.grad)])
    return res


@pytest.mark.parametrize("c, o, hw", [(1, 32, 28), (64, 128, 7)])
def test_conv_layouts_on_the_cnn_shapes_match_torch(c, o, hw):
    """The first layer of the MNIST CNN runs per sample, the third position-major."""
    geo = ops.Geometry(3, 3, 1, 1, 1, 1, 1, 1, 1, 1, hw, hw)
    assert ops._per_sample(geo, (o, c, 3, 3)) == (c == 1)
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s) for s in ((4, c, hw, hw), (o, c, 3, 3), (o,)))
    ours, theirs = _conv_both(x, w, b, padding=1)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a, t, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kw", [{"padding": "same", "dilation": (1, 2), "groups": 2},
                                {"padding": (2, 1), "stride": (2, 3), "groups": 3}],
                         ids=["same-even-kernel-groups", "stride-groups"])
def test_conv_position_major_with_groups_uneven_padding_and_strides(kw):
    """Position-major columns with several groups (their rows side by side in one array), an
    even kernel's uneven 'same' padding, and unequal strides: output and all three gradients."""
    rng = np.random.default_rng(6)
    x, w, b = (rng.standard_normal(s) for s in ((3, 6, 3, 4), (6, 6 // kw["groups"], 4, 2),
                                                 (6,)))
    res = _conv_both(x, w, b, **kw)
    oh, ow = res[0][0].shape[2:]  # the layout is the one this test is for
    assert not ops._per_sample(ops.Geometry(4, 2, 1, 1, 1, 1, 0, 0, 0, 0, oh, ow), w.shape)
    for a, t in zip(*res):
        np.testing.assert_allclose(a, t, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("groups", [1, 2])
def test_conv_transpose_position_major_with_output_padding(groups):
    """conv_transpose2d's forward is ConvInputGrad: per tap products added back in NHWC, here
    with output_padding (the rows and columns no tap reaches stay 0) and groups."""
    rng = np.random.default_rng(7)
    x, w, b = (rng.standard_normal(s) for s in ((2, 4, 2, 3), (4, 6 // groups, 3, 3), (6,)))
    r = rng.standard_normal((2, 6, 6, 9))
    assert not ops._per_sample(ops.Geometry(3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, 3), w.shape)
    res = []
    for lib, fn in ((cr, F.conv_transpose2d), (torch, TF.conv_transpose2d)):
        tx, tw, tb = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        out = fn(tx, tw, tb, stride=(3, 3), padding=1, output_padding=2, groups=groups)
        (out * lib.tensor(r)).sum().backward()
        res.append([t.detach().numpy().copy() for t in (out, tx.grad, tw.grad, tb.grad)])
    for a, t in zip(*res):
        np.testing.assert_allclose(a, t, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("c, o, hw, kw", [(1, 8, 12, {}), (6, 8, 5, {}),
                                           (4, 6, 9, {"groups": 2, "stride": 2})],
                         ids=["per-sample", "position-major", "groups-stride"])
@pytest.mark.parametrize("requires_grad", [False, True], ids=["x only", "x and w"])
def test_conv_without_a_weight_gradient_makes_its_columns_in_blocks(monkeypatch, c, o, hw, kw,
                                                                    requires_grad):
    """With no weight gradient to compute, the forward makes the columns a block of samples
    at a time (here blocks of 2 of 7 samples, the last one short); every output and the input
    gradient still match PyTorch's, and the whole-batch columns are never made."""
    oh = (hw - 1) // kw.get("stride", 1) + 1
    monkeypatch.setattr(ops, "COLS_BLOCK_BYTES", 2 * 8 * c * 9 * oh * oh)  # 2 samples' columns
    made = []
    im2col = ops._im2col
    monkeypatch.setattr(ops, "_im2col", lambda x, *a: made.append(len(x)) or im2col(x, *a))
    rng = np.random.default_rng(5)
    g = kw.get("groups", 1)
    x, w, b = (rng.standard_normal(s) for s in ((7, c, hw, hw), (o, c // g, 3, 3), (o,)))
    tx, tw = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=requires_grad)
    out = F.conv2d(tx, tw, cr.tensor(b), padding=1, **kw)
    assert made == ([7] if requires_grad else [2, 2, 2, 1])
    rx, rw = torch.tensor(x, requires_grad=True), torch.tensor(w)
    ref = TF.conv2d(rx, rw, torch.tensor(b), padding=1, **kw)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10,
                               atol=1e-10)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(tx.grad.numpy(), rx.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("per_sample", [True, False])
def test_conv_double_backward_in_both_layouts(per_sample):
    """Gradient penalty |d sum(conv^2) / dx|^2 differentiated again, with groups and a stride,
    on a shape whose layout is the one asked for."""
    hw = 9 if per_sample else 4
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 4, hw, hw)), rng.standard_normal((6, 2, 2, 3))
    geo = ops.Geometry(2, 3, 1, 1, 1, 1, 1, 1, 0, 0, hw + 1, hw - 2)
    assert ops._per_sample(geo, w.shape) == per_sample
    res = []
    for lib, fn in ((cr, F.conv2d), (torch, TF.conv2d)):
        tx, tw = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = fn(tx, tw, padding=(1, 0), groups=2)
        (gx,) = lib.autograd.grad((y * y).sum(), tx, create_graph=True)
        (gx * gx).sum().backward()
        res.append((tx.grad.numpy().copy(), tw.grad.numpy().copy()))
    for a, t in zip(*res):
        np.testing.assert_allclose(a, t, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("hw", [28, 7])
def test_max_pool_tiles_or_leaves_rows_over(hw):
    """2x2 windows tile a 28x28 input (nothing to zero) and leave the last row and column of a
    7x7 input unread (their gradient is 0)."""
    x = np.random.default_rng(2).permutation(2 * 3 * hw * hw).reshape(2, 3, hw, hw) * 1.0
    g = np.random.default_rng(4).standard_normal((2, 3, hw // 2, hw // 2))
    res = []
    for lib, fn in ((cr, F.max_pool2d), (torch, TF.max_pool2d)):
        t = lib.tensor(x, requires_grad=True)
        out = fn(t, 2)
        out.backward(lib.tensor(g))
        res.append((out.detach().numpy().copy(), t.grad.numpy().copy()))
    for a, t in zip(*res):
        np.testing.assert_array_equal(a, t)


def test_max_pool_nan_window_sends_the_gradient_to_its_last_nan():
    """PyTorch's kernel takes a NaN as the maximum and keeps the last one."""
    nan = np.nan
    x = np.array([[[[1, nan, 5, 2], [3, nan, 4, 0], [nan, 9, 1, 1], [2, 2, 1, 1]]]])
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)):
        res = []
        for lib, fn in ((cr, F.max_pool2d), (torch, TF.max_pool2d)):
            t = lib.tensor(x, requires_grad=True)
            out, idx = fn(t, return_indices=True, **kw)
            out.sum().backward()
            res.append((out.detach().numpy().copy(), idx.numpy().copy(), t.grad.numpy().copy()))
        for a, t in zip(*res):
            np.testing.assert_array_equal(a, t)


def test_max_pool_non_finite_gradient_stays_at_the_argmax():
    """An inf gradient reaches only its window's argmax (inf * 0 would put NaN beside it)."""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    g = np.array([[[[np.inf, 1.0], [-np.inf, np.nan]]]])
    for kw in (dict(kernel_size=2), dict(kernel_size=2, stride=1)):
        res = []
        for lib, fn in ((cr, F.max_pool2d), (torch, TF.max_pool2d)):
            t = lib.tensor(x, requires_grad=True)
            out = fn(t, **kw)
            gg = np.resize(g, out.shape)
            out.backward(lib.tensor(gg))
            res.append(t.grad.numpy().copy())
        np.testing.assert_array_equal(res[0], res[1])
