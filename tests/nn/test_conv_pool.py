"""Convolution, pooling, normalisation, embedding, padding and dropout functionals vs PyTorch.

Each case builds chainrule and torch tensors from the same NumPy arrays, compares the output,
then backpropagates the same random upstream gradient and compares every input's gradient.
Shapes are tiny: the grids cover stride / padding / dilation / groups, not sizes.
"""

import itertools
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.nn import _functional_layers as F
from tests._torch import torch

TF = torch.nn.functional
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-11)}
DTYPES = [np.float32, np.float64]


def _arrays(shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [None if s is None else rng.standard_normal(s).astype(dtype) for s in shapes]


def compare(fn_cr, fn_torch, shapes, dtype=np.float64, seed=0, grad=True, **kwargs):
    """Outputs and gradients (random upstream) of fn(*inputs, **kwargs) agree with torch."""
    arrays = _arrays(shapes, dtype, seed)
    cx = [None if a is None else cr.tensor(a, requires_grad=grad) for a in arrays]
    tx = [None if a is None else torch.tensor(a, requires_grad=grad) for a in arrays]
    co, to = fn_cr(*cx, **kwargs), fn_torch(*tx, **kwargs)
    assert tuple(co.shape) == tuple(to.shape), (co.shape, to.shape)
    assert co.dtype == getattr(cr, str(to.dtype).split(".")[1])
    np.testing.assert_allclose(co.detach().numpy(), to.detach().numpy(), **TOL[dtype])
    if not grad:
        return co, to
    g = np.random.default_rng(seed + 1).standard_normal(tuple(to.shape)).astype(dtype)
    co.backward(cr.tensor(g))
    to.backward(torch.tensor(g))
    for i, (c, t) in enumerate(zip(cx, tx)):
        if c is not None:
            np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), **TOL[dtype],
                                       err_msg=f"gradient of input {i}")
    return co, to


# ------------------------------------------------------------------------------ convolution
CONV2D_GRID = [
    dict(stride=s, padding=p, dilation=d, groups=g, bias=b)
    for s, p, d, g, b in itertools.product(
        [1, 2, (2, 1)], [0, 1, (1, 2), "valid", "same"], [1, (1, 2)], [1, 2], [True, False])
    if not (p == "same" and s != 1)
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cfg", CONV2D_GRID, ids=lambda c: "-".join(map(str, c.values())))
def test_conv2d_grid(cfg, dtype):
    cfg = dict(cfg)
    g = cfg["groups"]
    bias = cfg.pop("bias")
    shapes = [(2, 4, 7, 6), (6, 4 // g, 3, 2), (6,) if bias else None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: 'same' with an even kernel copies the input
        compare(F.conv2d, TF.conv2d, shapes, dtype, **cfg)


CONV1D_GRID = [
    dict(stride=s, padding=p, dilation=d, groups=g)
    for s, p, d, g in itertools.product([1, 3], [0, 2, "same", "valid"], [1, 2], [1, 2])
    if not (p == "same" and s != 1)
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cfg", CONV1D_GRID, ids=lambda c: "-".join(map(str, c.values())))
def test_conv1d_grid(cfg, dtype):
    compare(F.conv1d, TF.conv1d, [(2, 4, 9), (6, 4 // cfg["groups"], 3), (6,)], dtype, **cfg)


CONVT_GRID = [
    dict(stride=s, padding=p, output_padding=op, dilation=d, groups=g)
    for s, p, op, d, g in itertools.product([1, 2, (3, 2)], [0, 1, (2, 1)], [0, 1], [1, 2],
                                            [1, 2])
    if op < max(np.max(s), d)
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cfg", CONVT_GRID, ids=lambda c: "-".join(map(str, c.values())))
def test_conv_transpose2d_grid(cfg, dtype):
    g = cfg["groups"]
    compare(F.conv_transpose2d, TF.conv_transpose2d, [(2, 4, 4, 5), (4, 6 // g, 3, 2), (6,)],
            dtype, **cfg)


@pytest.mark.parametrize("cfg", [dict(stride=2, padding=1, output_padding=1),
                                 dict(stride=1, padding=0, dilation=3, groups=2),
                                 dict(stride=3, padding=2, output_padding=2, dilation=2)])
def test_conv_transpose1d(cfg):
    g = cfg.get("groups", 1)
    for dtype in DTYPES:
        compare(F.conv_transpose1d, TF.conv_transpose1d, [(2, 4, 5), (4, 6 // g, 3), (6,)],
                dtype, **cfg)


def test_unbatched_inputs():
    compare(F.conv2d, TF.conv2d, [(3, 6, 5), (4, 3, 3, 3), (4,)], padding=1)
    compare(F.conv1d, TF.conv1d, [(3, 6), (4, 3, 2)])
    compare(F.conv_transpose2d, TF.conv_transpose2d, [(3, 4, 4), (3, 2, 2, 2)], stride=2)
    compare(F.max_pool2d, TF.max_pool2d, [(3, 6, 5)], kernel_size=2)
    compare(F.avg_pool2d, TF.avg_pool2d, [(3, 6, 5)], kernel_size=2, padding=1)
    compare(F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d, [(3, 6, 5)], output_size=(4, 3))


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


def test_conv_only_weight_requires_grad():
    x, w = _arrays([(2, 3, 5, 5), (4, 3, 3, 3)], np.float64)
    cw, tw = cr.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    F.conv2d(cr.tensor(x), cw, padding=1).sum().backward()
    TF.conv2d(torch.tensor(x), tw, padding=1).sum().backward()
    np.testing.assert_allclose(cw.grad.numpy(), tw.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("fn,shapes,kw", [
    (F.conv2d, [(2, 4, 5, 4), (4, 2, 3, 2), (4,)],
     dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2)),
    (F.conv2d, [(1, 2, 4, 4), (3, 2, 2, 2), None], dict(padding="same")),
    (F.conv1d, [(2, 2, 7), (3, 2, 3), (3,)], dict(stride=2, padding=2)),
    (F.conv_transpose2d, [(2, 4, 3, 3), (4, 1, 3, 2), (2,)],
     dict(stride=2, padding=1, output_padding=1, groups=2)),
])
def test_conv_gradcheck_and_gradgradcheck(fn, shapes, kw):
    arrays = _arrays(shapes, np.float64, seed=3)
    inputs = [cr.tensor(a, requires_grad=True) for a in arrays if a is not None]

    def f(*xs):
        return fn(*xs, **kw) if len(xs) == 3 else fn(*xs, None, **kw)

    assert gradcheck(f, inputs)
    assert gradgradcheck(f, inputs)


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
MAXPOOL_GRID = [
    dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=c)
    for k, s, p, d, c in itertools.product([2, 3, (2, 3)], [None, 1, 2, (1, 2)], [0, 1],
                                           [1, 2], [False, True])
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cfg", MAXPOOL_GRID, ids=lambda c: "-".join(map(str, c.values())))
def test_max_pool2d_grid(cfg, dtype):
    compare(F.max_pool2d, TF.max_pool2d, [(2, 3, 7, 8)], dtype, **cfg)
    _, ci = F.max_pool2d(cr.tensor(_arrays([(2, 3, 7, 8)], dtype)[0]), return_indices=True,
                         **cfg)
    _, ti = TF.max_pool2d(torch.tensor(_arrays([(2, 3, 7, 8)], dtype)[0]), return_indices=True,
                          **cfg)
    np.testing.assert_array_equal(ci.numpy(), ti.numpy())


def test_max_pool_ties_take_the_first_maximum():
    """After a ReLU whole windows are 0: the gradient goes where PyTorch sends it."""
    x = np.array([[[[0, 0, 1, 1], [0, 0, 1, 0], [2, 0, 0, 0], [0, 2, 0, 0]]]], np.float64)
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)):
        compare(F.max_pool2d, TF.max_pool2d, [x.shape], **kw)
        cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        F.max_pool2d(cx, **kw).sum().backward()
        TF.max_pool2d(tx, **kw).sum().backward()
        np.testing.assert_array_equal(cx.grad.numpy(), tx.grad.numpy())


AVGPOOL_GRID = [
    dict(kernel_size=k, stride=s, padding=p, ceil_mode=c, count_include_pad=i,
         divisor_override=o)
    for k, s, p, c, i, o in itertools.product([2, 3, (3, 2)], [None, 2, (1, 2)], [0, 1],
                                              [False, True], [True, False], [None, 5])
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cfg", AVGPOOL_GRID, ids=lambda c: "-".join(map(str, c.values())))
def test_avg_pool2d_grid(cfg, dtype):
    compare(F.avg_pool2d, TF.avg_pool2d, [(2, 3, 7, 8)], dtype, **cfg)


@pytest.mark.parametrize("out", [1, 3, (2, 4), (5, None), (7, 8), (4, 1)])
def test_adaptive_avg_pool2d(out):
    for dtype in DTYPES:
        compare(F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d, [(2, 3, 7, 8)], dtype,
                output_size=out)


def test_pool1d():
    for dtype in DTYPES:
        compare(F.max_pool1d, TF.max_pool1d, [(2, 3, 9)], dtype, kernel_size=3, stride=2,
                padding=1, dilation=1, ceil_mode=True)
        compare(F.avg_pool1d, TF.avg_pool1d, [(2, 3, 9)], dtype, kernel_size=4, stride=3,
                padding=2, count_include_pad=False)
        compare(F.adaptive_avg_pool1d, TF.adaptive_avg_pool1d, [(2, 3, 9)], dtype,
                output_size=4)
    _, ci = F.max_pool1d(cr.tensor(_arrays([(2, 3, 9)], np.float64)[0]), 2, return_indices=True)
    _, ti = TF.max_pool1d(torch.tensor(_arrays([(2, 3, 9)], np.float64)[0]), 2,
                          return_indices=True)
    np.testing.assert_array_equal(ci.numpy(), ti.numpy())


@pytest.mark.parametrize("fn,kw", [
    (F.max_pool2d, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (F.max_pool2d, dict(kernel_size=(2, 3), stride=1, dilation=2)),
    (F.avg_pool2d, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                        count_include_pad=False)),
    (F.adaptive_avg_pool2d, dict(output_size=(3, 2))),
])
def test_pool_gradcheck_and_gradgradcheck(fn, kw):
    # distinct values spaced well apart: finite differences never cross a max-pool tie
    x = np.random.default_rng(0).permutation(70).reshape(1, 2, 5, 7).astype(np.float64) / 7
    xt = cr.tensor(x, requires_grad=True)
    assert gradcheck(lambda t: fn(t, **kw), [xt])
    assert gradgradcheck(lambda t: fn(t, **kw), [xt])


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
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (4, 3, 5, 2)])
def test_batch_norm_training_and_running_stats(shape, dtype):
    c = shape[1]
    rm, rv = _arrays([(c,), (c,)], dtype, seed=9)
    rv = np.abs(rv) + 0.5
    crm, crv = cr.tensor(rm.copy()), cr.tensor(rv.copy())
    trm, trv = torch.tensor(rm.copy()), torch.tensor(rv.copy())
    compare(lambda x, w, b: F.batch_norm(x, crm, crv, w, b, True, 0.3, 1e-3),
            lambda x, w, b: TF.batch_norm(x, trm, trv, w, b, True, 0.3, 1e-3),
            [shape, (c,), (c,)], dtype)
    np.testing.assert_allclose(crm.numpy(), trm.numpy(), **TOL[dtype])
    np.testing.assert_allclose(crv.numpy(), trv.numpy(), **TOL[dtype])
    # eval mode: the running statistics
    compare(lambda x, w, b: F.batch_norm(x, crm, crv, w, b, False),
            lambda x, w, b: TF.batch_norm(x, trm, trv, w, b, False),
            [shape, (c,), (c,)], dtype)
    compare(lambda x: F.batch_norm(x, None, None, training=True),
            lambda x: TF.batch_norm(x, None, None, training=True), [shape], dtype)


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


def test_norm_gradcheck_and_gradgradcheck():
    x, w, b = (cr.tensor(a, requires_grad=True)
               for a in _arrays([(2, 4, 1, 3), (4,), (4,)], np.float64, seed=2))
    for f in (lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
              lambda x, w, b: F.group_norm(x, 2, w, b),
              lambda x, w, b: F.layer_norm(x, (3,), w[:3], b[:3])):
        assert gradcheck(f, [x, w, b])
        assert gradgradcheck(f, [x, w, b])


@pytest.mark.parametrize("dtype", DTYPES)
def test_layer_group_instance_norm(dtype):
    compare(lambda x, w, b: F.layer_norm(x, (5, 6), w, b, 1e-4),
            lambda x, w, b: TF.layer_norm(x, (5, 6), w, b, 1e-4),
            [(4, 3, 5, 6), (5, 6), (5, 6)], dtype)
    compare(lambda x: F.layer_norm(x, 6), lambda x: TF.layer_norm(x, (6,)), [(4, 6)], dtype)
    compare(lambda x, w, b: F.group_norm(x, 3, w, b), lambda x, w, b: TF.group_norm(x, 3, w, b),
            [(4, 6, 5, 2), (6,), (6,)], dtype)
    compare(lambda x: F.group_norm(x, 2), lambda x: TF.group_norm(x, 2), [(3, 4, 7)], dtype)
    compare(lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
            lambda x, w, b: TF.instance_norm(x, weight=w, bias=b),
            [(3, 4, 5, 2), (4,), (4,)], dtype)


def test_norm_errors():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(cr.randn(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(cr.randn(3, 5), (4,))
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(cr.randn(2, 6, 3), 4)
    with pytest.raises(RuntimeError, match="running_mean"):
        F.batch_norm(cr.randn(4, 3), None, None, training=False)


# ------------------------------------------------------------------- embedding, pad, bilinear
@pytest.mark.parametrize("kw", [dict(), dict(padding_idx=2), dict(padding_idx=-1),
                                dict(scale_grad_by_freq=True, padding_idx=0)])
def test_embedding(kw):
    idx = np.array([[1, 2, 4, 2], [0, 2, 1, 1]])
    for dtype in DTYPES:
        compare(lambda w: F.embedding(cr.tensor(idx), w, **kw),
                lambda w: TF.embedding(torch.tensor(idx), w, **kw), [(5, 3)], dtype)


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


@pytest.mark.parametrize("mode,pad", [("constant", (1, 2)), ("constant", (1, 2, -1, 3)),
                                      ("constant", (0, 0, 1, 1, 2, 0)), ("reflect", (2, 1, 1, 3)),
                                      ("replicate", (3, 1, 0, 2)), ("circular", (2, 3, 1, 4))])
def test_pad(mode, pad):
    kw = dict(mode=mode) if mode != "constant" else dict(value=1.5)
    for dtype in DTYPES:
        compare(lambda x: F.pad(x, pad, **kw), lambda x: TF.pad(x, pad, **kw), [(2, 3, 4, 5)],
                dtype)
    xt = cr.tensor(_arrays([(1, 2, 4, 5)], np.float64)[0], requires_grad=True)
    assert gradgradcheck(lambda t: F.pad(t, pad, **kw) ** 2, [xt])


def test_pad_errors():
    with pytest.raises(RuntimeError, match="less than the corresponding input dimension"):
        F.pad(cr.randn(1, 2, 3), (3, 0), mode="reflect")
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(cr.randn(2, 3), (1, 2, 3))
    with pytest.raises(NotImplementedError, match="3-D \\(batched\\) input"):
        F.pad(cr.randn(2, 3, 4, 5), (2, 3), mode="reflect")  # PyTorch refuses it too
    compare(lambda x: F.pad(x, (2, 3), mode="reflect"),
            lambda x: TF.pad(x, (2, 3), mode="reflect"), [(3, 5)])


def test_bilinear():
    for dtype in DTYPES:
        compare(F.bilinear, TF.bilinear, [(4, 3, 5), (4, 3, 6), (7, 5, 6), (7,)], dtype)
        compare(F.bilinear, TF.bilinear, [(4, 5), (4, 6), (2, 5, 6), None], dtype)


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
    x, w = cr.randn(2, 3, 5, 5), cr.randn(4, 3, 3, 3)
    with pytest.raises(RuntimeError, match="expected input.*to have 6 channels"):
        F.conv2d(x, cr.randn(4, 6, 3, 3))
    with pytest.raises(RuntimeError, match="divisible by 3"):
        F.conv2d(cr.randn(2, 6, 5, 5), cr.randn(4, 2, 3, 3), groups=3)
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        F.conv2d(x, cr.randn(4, 3, 7, 7))
    with pytest.raises(RuntimeError, match="not supported for strided"):
        F.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(RuntimeError, match="Invalid padding string"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(RuntimeError, match="same dtype"):
        F.conv2d(x.double(), w)
    with pytest.raises(RuntimeError, match="4D \\(batched\\)"):
        F.conv2d(cr.randn(5, 5), w)
    with pytest.raises(RuntimeError, match="bias"):
        F.conv2d(x, w, cr.randn(3))
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        F.conv_transpose2d(x, cr.randn(3, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.avg_pool2d(cr.randn(1, 1, 2, 2), 3)
    with pytest.raises(TypeError, match="kernel_size"):
        F.max_pool2d(x, (2, 2, 2))
