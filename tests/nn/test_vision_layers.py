"""Resampling, rearranging and distance layers vs torch: F.interpolate, unfold / fold,
pixel_shuffle / unshuffle, normalize, cosine_similarity, pairwise_distance and their modules.
Outputs and input gradients in float64 (float32 where torch's index arithmetic is float32),
and the errors, each with torch's exception type."""

import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from tests._torch import torch

TOL = dict(rtol=1e-10, atol=1e-12)


def arr(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def both(fc, ft, arrays, tol=TOL, seed=1, **kwargs):
    """Run the chainrule and the torch function on the same arrays; compare the outputs and
    the gradients of every input for one random upstream gradient."""
    cx = [cr.tensor(a, requires_grad=True) for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    co, to = fc(*cx, **kwargs), ft(*tx, **kwargs)
    assert tuple(co.shape) == tuple(to.shape)
    assert str(co.dtype) == str(to.dtype)
    np.testing.assert_allclose(co.detach().numpy(), to.detach().numpy(), **tol)
    g = np.random.default_rng(seed).standard_normal(tuple(to.shape)).astype(arrays[0].dtype)
    co.backward(cr.tensor(g))
    to.backward(torch.tensor(g))
    for c, t in zip(cx, tx):
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), **tol)
    return co


TF = None if torch is None else torch.nn.functional
X = {3: arr(2, 3, 5, seed=1), 4: arr(2, 3, 5, 7, seed=2), 5: arr(1, 2, 3, 4, 5, seed=3)}
SIZES = {3: (11,), 4: (4, 9), 5: (2, 6, 3)}
MODE_DIMS = [("nearest", 3), ("nearest", 4), ("nearest", 5), ("nearest-exact", 4),
             ("linear", 3), ("bilinear", 4), ("trilinear", 5), ("area", 3), ("area", 4)]


@pytest.mark.parametrize("mode,nd", MODE_DIMS)
@pytest.mark.parametrize("how", ["size", "int-size", "up", "down", "per-dim", "recompute"])
def test_interpolate_matches_torch(mode, nd, how):
    kw = {"size": dict(size=SIZES[nd]), "int-size": dict(size=6), "up": dict(scale_factor=2.5),
          "down": dict(scale_factor=0.6), "per-dim": dict(scale_factor=(1.5,) * (nd - 3) + (2,)),
          "recompute": dict(scale_factor=1.7, recompute_scale_factor=True)}[how]
    both(F.interpolate, TF.interpolate, [X[nd]], mode=mode, **kw)


@pytest.mark.parametrize("mode,nd", [("linear", 3), ("bilinear", 4), ("trilinear", 5)])
@pytest.mark.parametrize("kw", [dict(scale_factor=1.7), dict(scale_factor=0.5), dict(size=1)])
def test_interpolate_align_corners(mode, nd, kw):
    for align in (True, False):
        both(F.interpolate, TF.interpolate, [X[nd]], mode=mode, align_corners=align, **kw)


def test_interpolate_float32_index_arithmetic():
    """torch computes nearest source indices (and float32 linear positions) in float32; an
    odd ratio such as 3 -> 7 picks the same pixels here."""
    x = arr(1, 2, 3, 5, seed=4, dtype=np.float32)
    tol = dict(rtol=1e-6, atol=1e-6)
    for kw in (dict(size=(7, 13)), dict(scale_factor=7 / 3), dict(scale_factor=(1.3, 2.9))):
        both(F.interpolate, TF.interpolate, [x], tol=tol, **kw)
        both(F.interpolate, TF.interpolate, [x], tol=tol, mode="bilinear", **kw)


def test_interpolate_errors():
    x = cr.randn(1, 2, 4, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, size=3, align_corners=True)
    with pytest.raises(ValueError, match="same number of spatial dimensions"):
        F.interpolate(x, size=(3, 3, 3))
    with pytest.raises(ValueError, match="scale_factor must have the same number"):
        F.interpolate(x, scale_factor=(2, 2, 2))
    with pytest.raises(ValueError, match="not meaningful with an explicit size"):
        F.interpolate(x, size=3, recompute_scale_factor=True)
    with pytest.raises(TypeError, match="expected size to be one of int"):
        F.interpolate(x, size=(2.5, 3))
    with pytest.raises(NotImplementedError, match="linear mode needs 3D input"):
        F.interpolate(x, size=3, mode="linear")
    with pytest.raises(NotImplementedError, match="bilinear mode needs 4D input"):
        F.interpolate(cr.randn(1, 2, 4), size=3, mode="bilinear")
    with pytest.raises(NotImplementedError, match="Only 3D, 4D and 5D input"):
        F.interpolate(cr.randn(2, 4), size=3)
    with pytest.raises(NotImplementedError, match="got foo"):
        F.interpolate(x, size=3, mode="foo")
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.interpolate(x, size=3, mode="bicubic")
    with pytest.raises(NotImplementedError, match="antialias"):
        F.interpolate(x, size=3, mode="bilinear", antialias=True)
    with pytest.raises(NotImplementedError, match="not implemented for torch.int64"):
        F.interpolate(x.long(), size=3)
    with pytest.raises(RuntimeError, match="sizes should be greater than 0"):
        F.interpolate(x, scale_factor=0.2)
    with pytest.raises(TypeError, match="argument 'input'"):
        F.interpolate(np.zeros((1, 1, 2)), size=3)


def test_upsample_modules_and_deprecated_function():
    x = arr(1, 2, 3, 4, seed=5)
    cases = [lambda nn: nn.Upsample(scale_factor=2), lambda nn: nn.Upsample(size=(5, 6),
                                                                            mode="bilinear"),
             lambda nn: nn.Upsample(scale_factor=(2, 3), mode="bilinear", align_corners=True),
             lambda nn: nn.UpsamplingNearest2d(scale_factor=2),
             lambda nn: nn.UpsamplingBilinear2d(size=7)]
    for factory in cases:
        cm, tm = factory(nn), factory(torch.nn)
        assert repr(cm) == repr(tm)
        both(cm, tm, [x])
    with pytest.warns(UserWarning, match="upsample is deprecated"):
        out = F.upsample(cr.tensor(x), scale_factor=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = TF.upsample(torch.tensor(x), scale_factor=2)
    np.testing.assert_array_equal(out.numpy(), want.numpy())


# -- unfold / fold ----------------------------------------------------------------------------

BLOCKS = [dict(kernel_size=3), dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=2),
          dict(kernel_size=2, stride=(1, 3), padding=(2, 0)), dict(kernel_size=(5, 7))]


@pytest.mark.parametrize("kw", BLOCKS)
@pytest.mark.parametrize("batched", [True, False])
def test_unfold_and_fold_match_torch(kw, batched):
    x = X[4] if batched else X[4][0]
    both(F.unfold, TF.unfold, [x], **kw)
    cols = TF.unfold(torch.tensor(X[4]), **kw).numpy()
    y = arr(*cols.shape, seed=6)
    both(F.fold, TF.fold, [y if batched else y[0]], output_size=(5, 7), **kw)
    cm, tm = nn.Fold((5, 7), **kw), torch.nn.Fold((5, 7), **kw)
    assert repr(cm) == repr(tm) and repr(nn.Unfold(**kw)) == repr(torch.nn.Unfold(**kw))
    both(cm, tm, [y])


def test_fold_is_the_adjoint_of_unfold():
    """<unfold(x), y> = <x, fold(y)> for every x and y: fold is unfold's transpose."""
    x, y = cr.tensor(arr(2, 3, 6, 5, seed=7)), cr.tensor(arr(2, 3 * 4, 3 * 2, seed=8))
    kw = dict(kernel_size=2, stride=2, padding=(0, 1), dilation=(2, 1))
    lhs = (F.unfold(x, **kw) * y).sum().item()
    rhs = (x * F.fold(y, (6, 5), **kw)).sum().item()
    assert abs(lhs - rhs) < 1e-10 * abs(lhs)


def test_unfold_fold_errors():
    x = cr.randn(1, 3, 5, 5)
    with pytest.raises(RuntimeError, match="components must be at least one"):
        F.unfold(x, 7)
    with pytest.raises(RuntimeError, match="stride should be greater than zero"):
        F.unfold(x, 2, stride=0)
    with pytest.raises(RuntimeError, match="Expected 3D .unbatched. or 4D"):
        F.unfold(cr.randn(5, 5), 3)
    with pytest.raises(NotImplementedError, match="torch.int64"):
        F.unfold(x.long(), 2)
    with pytest.raises(RuntimeError, match="kernel_size must either be a single int, or a tuple "
                                           "of 2 ints"):
        F.unfold(x, (1, 2, 3))  # (torch raises RuntimeError too)
    with pytest.raises(RuntimeError, match="divisible by the product of kernel_size"):
        F.fold(cr.randn(2, 13, 9), (4, 4), 2)
    with pytest.raises(RuntimeError, match="number of sliding blocks 3 \\* 3 = 9"):
        F.fold(cr.randn(2, 12, 8), (4, 4), 2)
    with pytest.raises(RuntimeError, match="Expected 2D .unbatched. or 3D"):
        F.fold(cr.randn(12), (4, 4), 2)


# -- pixel_shuffle ----------------------------------------------------------------------------

@pytest.mark.parametrize("shape,r", [((2, 8, 3, 4), 2), ((9, 2, 2), 3), ((2, 3, 4, 1, 2), 2)])
def test_pixel_shuffle_roundtrip_matches_torch(shape, r):
    x = arr(*shape, seed=9)
    out = both(F.pixel_shuffle, TF.pixel_shuffle, [x], upscale_factor=r)
    both(F.pixel_unshuffle, TF.pixel_unshuffle, [out.detach().numpy()], downscale_factor=r)
    back = F.pixel_unshuffle(out, r)
    np.testing.assert_array_equal(back.detach().numpy(), x)
    for cm, tm in ((nn.PixelShuffle(r), torch.nn.PixelShuffle(r)),
                   (nn.PixelUnshuffle(r), torch.nn.PixelUnshuffle(r))):
        assert repr(cm) == repr(tm)


def test_pixel_shuffle_errors():
    with pytest.raises(RuntimeError, match="divisible by the square of upscale_factor"):
        F.pixel_shuffle(cr.randn(1, 5, 2, 2), 2)
    with pytest.raises(RuntimeError, match="at least 3 dimensions"):
        F.pixel_shuffle(cr.randn(4, 2), 2)
    with pytest.raises(RuntimeError, match="positive upscale_factor"):
        F.pixel_shuffle(cr.randn(1, 4, 2, 2), 0)
    with pytest.raises(RuntimeError, match="height to be divisible by downscale_factor"):
        F.pixel_unshuffle(cr.randn(1, 2, 3, 4), 2)
    with pytest.raises(RuntimeError, match="width to be divisible by downscale_factor"):
        F.pixel_unshuffle(cr.randn(1, 2, 4, 3), 2)


# -- normalize, cosine_similarity, pairwise_distance ------------------------------------------

A, B = arr(3, 4, seed=10), arr(3, 4, seed=11)
A_SMALL = A.copy()
A_SMALL[0] *= 1e-9  # a norm below eps: the clamp decides the value and the gradient


@pytest.mark.parametrize("kw", [{}, dict(p=1, dim=0), dict(p=3.0, dim=-1), dict(eps=1e-3)])
def test_normalize_matches_torch(kw):
    both(F.normalize, TF.normalize, [A_SMALL], **kw)
    if kw.get("p") != 3.0:
        both(F.normalize, TF.normalize, [np.zeros((2, 3))], **kw)


@pytest.mark.xfail(strict=True, reason="linalg.vector_norm: the gradient of a p-norm other "
                   "than 1, 2, inf at x = 0 is NaN (torch: 0)")
@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_normalize_zero_vector_p3():
    both(F.normalize, TF.normalize, [np.zeros((2, 3))], p=3.0)


@pytest.mark.parametrize("arrays,kw", [
    ((A, B), {}),
    ((A_SMALL, B), dict(eps=1e-3)),
    ((arr(2, 1, 4, seed=1), arr(3, 4, seed=2)), dict(dim=-1)),
    ((arr(4, seed=3), arr(4, seed=4)), dict(dim=0)),
])
def test_cosine_similarity_matches_torch(arrays, kw):
    both(F.cosine_similarity, TF.cosine_similarity, list(arrays), **kw)
    cm = nn.CosineSimilarity(**kw)
    both(cm, torch.nn.CosineSimilarity(**kw), list(arrays))


@pytest.mark.parametrize("arrays,kw", [
    ((A, B), {}),
    ((A, B[0]), dict(p=3.0, keepdim=True)),
    ((A, B), dict(p=1.0, eps=0.0)),
    ((A, B), dict(p=float("inf"))),
    ((A[0], B[0]), {}),
    ((A, A), {}),  # zero difference: the eps keeps the 2-norm differentiable
])
def test_pairwise_distance_matches_torch(arrays, kw):
    both(F.pairwise_distance, TF.pairwise_distance, list(arrays), **kw)
    both(nn.PairwiseDistance(**kw), torch.nn.PairwiseDistance(**kw), list(arrays))


def test_distance_dtypes_and_errors():
    mixed = F.cosine_similarity(cr.randn(2, 3), cr.randn(2, 3, dtype=cr.float64))
    assert mixed.dtype == cr.float64
    with pytest.raises(RuntimeError, match="do not broadcast"):
        F.cosine_similarity(cr.randn(2, 4), cr.randn(3, 4))
    with pytest.raises(RuntimeError, match="do not broadcast"):
        F.pairwise_distance(cr.randn(2, 4), cr.randn(3, 4))
    with pytest.raises(RuntimeError, match="common dtype to be floating point"):
        F.cosine_similarity(cr.ones(2, 4, dtype=cr.int64), cr.ones(2, 4, dtype=cr.int64))
    with pytest.raises(IndexError):
        F.cosine_similarity(cr.randn(2, 4), cr.randn(2, 4), dim=2)
    with pytest.raises(TypeError, match="argument 'x2'"):
        F.pairwise_distance(cr.randn(2, 4), [1.0])
    x = cr.randn(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic"):
        F.normalize(x, out=cr.empty(2, 3))
    out = cr.empty(2, 3)
    F.normalize(x.detach(), out=out)
    np.testing.assert_allclose(out.numpy(), F.normalize(x).detach().numpy())


SECOND_ORDER = {
    "bilinear": lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"),
    "nearest": lambda x: F.interpolate(x, size=(4, 7)),
    "unfold": lambda x: F.unfold(x, 2, padding=1),
    "fold": lambda x: F.fold(x.reshape(1, 8, 3), (2, 6), 2, stride=(1, 2)),
    "pixel_shuffle": lambda x: F.pixel_shuffle(x.reshape(1, 4, 3, 2), 2),
    "normalize": lambda x: F.normalize(x),
    "cosine_similarity": lambda x: F.cosine_similarity(x, x.flip(1) + 0.5),
    "pairwise_distance": lambda x: F.pairwise_distance(x, 2 * x + 1, p=3.0),
}


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_first_and_second_derivatives_numerically(name):
    """Composed of differentiable ops, every layer here has exact first and second
    derivatives: both agree with finite differences."""
    x = cr.tensor(arr(1, 2, 3, 4, seed=12), requires_grad=True)
    assert cr.autograd.gradcheck(SECOND_ORDER[name], (x,))
    assert cr.autograd.gradgradcheck(SECOND_ORDER[name], (x,))
