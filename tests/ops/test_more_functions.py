"""Counting and bucketing functions (bincount, histc, searchsorted, bucketize) vs PyTorch:
values, dtypes, no gradient, and the errors PyTorch raises. Also the default dim of
torch.cross. (The differentiable functions are rows of tests/opspecs.py.)"""

import numpy as np
import pytest

import chainrule
from tests._torch import torch

RNG = np.random.default_rng(14)
SORTED_ROWS = np.sort(RNG.normal(size=(3, 6)), -1)
VALUES = RNG.normal(size=(3, 4))


def _both(fn, *arrays):
    """fn run with chainrule and with torch on the same arrays."""
    ours = fn(chainrule, *[chainrule.tensor(a) for a in arrays])
    theirs = fn(torch, *[torch.tensor(a) for a in arrays])
    return ours, theirs


def _same(ours, theirs) -> None:
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert not ours.requires_grad


CALLS = {
    "bincount": (lambda lib, x: lib.bincount(x), np.array([0, 3, 1, 1, 5])),
    "bincount_minlength": (lambda lib, x: x.bincount(minlength=9), np.array([2, 2, 0])),
    "bincount_empty": (lambda lib, x: lib.bincount(x, minlength=3), np.zeros(0, np.int64)),
    "bincount_float32_weights": (lambda lib, x, w: lib.bincount(x, w), np.array([0, 2, 2]),
                                 np.array([0.5, 1.0, 2.0], np.float32)),
    "bincount_int_weights": (lambda lib, x, w: x.bincount(w), np.array([0, 2, 2]),
                             np.array([1, 2, 3])),
    "histc": (lambda lib, x: lib.histc(x, bins=7), RNG.normal(size=50)),
    "histc_range": (lambda lib, x: x.histc(bins=4, min=-1, max=1),
                    RNG.normal(size=50).astype(np.float32)),
    "histc_constant": (lambda lib, x: x.histc(bins=4), np.ones(3)),
    "searchsorted_rows": (lambda lib, s, v: lib.searchsorted(s, v), SORTED_ROWS, VALUES),
    "searchsorted_right_int32": (lambda lib, s, v: lib.searchsorted(s, v, right=True,
                                                                    out_int32=True),
                                 SORTED_ROWS[0], VALUES),
    "searchsorted_side": (lambda lib, s, v: lib.searchsorted(s, v, side="right"),
                          np.array([1.0, 2.0, 2.0, 3.0]), np.array([2.0, 0.0, 5.0])),
    "searchsorted_ties_left": (lambda lib, s, v: lib.searchsorted(s, v),
                               np.array([1.0, 2.0, 2.0, 3.0]), np.array([2.0, 0.0, 5.0])),
    "searchsorted_sorter": (lambda lib, s, v, o: lib.searchsorted(s, v, sorter=o),
                            np.array([3.0, -1.0, 2.0, 0.5]), np.array([0.0, 2.5, 9.0]),
                            np.array([1, 3, 2, 0])),
    "bucketize": (lambda lib, v, b: lib.bucketize(v, b), np.array([2.0, 0.0, 5.0, 3.0]),
                  np.array([1.0, 2.0, 3.0])),
    "bucketize_right_2d": (lambda lib, v, b: lib.bucketize(v, b, right=True),
                           np.array([[2.0, 0.0], [5.0, 3.0]]), np.array([1.0, 2.0, 3.0])),
    "bucketize_0d_int32": (lambda lib, v, b: lib.bucketize(v, b, out_int32=True),
                           np.array(2.0), np.array([1.0, 2.0, 3.0])),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_values_and_dtype_match_torch(name) -> None:
    fn, *arrays = CALLS[name]
    _same(*_both(fn, *arrays))


@pytest.mark.parametrize("fn", [lambda lib, x: lib.atan2(x, x + 1),
                                lambda lib, x: lib.cumprod(x, 0),
                                lambda lib, x: (x > 1).cumprod(0)],
                         ids=["atan2_int", "cumprod_int32", "cumprod_bool"])
def test_integer_inputs_give_torch_dtypes(fn) -> None:
    """atan2 of integers is float32; cumprod of int32 or bool multiplies in int64."""
    ours, theirs = _both(fn, np.array([1, 2, 3], np.int32))
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_a_python_number_is_searched_as_a_0d_value() -> None:
    ours = chainrule.searchsorted(chainrule.tensor([1.0, 2.0, 3.0]), 2.5)
    theirs = torch.searchsorted(torch.tensor([1.0, 2.0, 3.0]), 2.5)
    _same(ours, theirs)


def test_results_of_a_graph_input_carry_no_gradient() -> None:
    x = chainrule.tensor([0.2, 0.9, 0.4], requires_grad=True)
    assert not chainrule.histc(x, bins=3).requires_grad
    assert not chainrule.bucketize(x, chainrule.tensor([0.5])).requires_grad


BAD = {
    "bincount_negative": (lambda lib, x: lib.bincount(x), RuntimeError,
                          "non-negative integral", np.array([-1, 1])),
    "bincount_2d": (lambda lib, x: lib.bincount(x), RuntimeError, "1-d non-negative",
                    np.array([[1, 2]])),
    "bincount_float": (lambda lib, x: lib.bincount(x), NotImplementedError, "bincount",
                       np.array([1.0, 2.0])),
    "bincount_minlength": (lambda lib, x: lib.bincount(x, minlength=-1), RuntimeError,
                           "minlength should be >= 0", np.array([1, 2])),
    "bincount_weights": (lambda lib, x, w: lib.bincount(x, w), RuntimeError,
                         "weights should be 1-d", np.array([1, 2]), np.array([1.0])),
    "histc_int": (lambda lib, x: lib.histc(x, bins=3), NotImplementedError, "histc",
                  np.array([1, 2])),
    "histc_bins": (lambda lib, x: lib.histc(x, bins=0), RuntimeError, "bins must be > 0",
                   np.array([1.0, 2.0])),
    "histc_range": (lambda lib, x: lib.histc(x, min=3, max=1), RuntimeError,
                    "max must be larger than min", np.array([1.0, 2.0])),
    "searchsorted_opposites": (lambda lib, s, v: lib.searchsorted(s, v, right=True,
                                                                  side="left"),
                               RuntimeError, "side and right can't be set to opposites",
                               np.array([1.0, 2.0]), np.array([1.5])),
    "searchsorted_shapes": (lambda lib, s, v: lib.searchsorted(s, v), RuntimeError,
                            r"boundaries tensor \[1, 3\] and input value tensor \[2\]",
                            np.array([[1.0, 2.0, 3.0]]), np.array([2.0, 1.0])),
    "bucketize_2d": (lambda lib, v, b: lib.bucketize(v, b), RuntimeError,
                     "boundaries tensor must be 1 dimension", np.array([1.0]),
                     np.array([[1.0, 2.0]])),
    "cross_no_size_3": (lambda lib, a, b: lib.cross(a, b), RuntimeError,
                        "no dimension of size 3", np.ones(4), np.ones(4)),
}


@pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim")
@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_calls_raise_what_torch_raises(name) -> None:
    fn, error, match, *arrays = BAD[name]
    with pytest.raises(error):
        fn(torch, *[torch.tensor(a) for a in arrays])
    with pytest.raises(error, match=match):
        fn(chainrule, *[chainrule.tensor(a) for a in arrays])


def test_cross_without_dim_takes_the_first_size_3_dim_and_warns() -> None:
    """As torch.cross with dim=None (deprecated there): dim 0 of a (3, 3) pair."""
    a, b = RNG.normal(size=(3, 3)), RNG.normal(size=(3, 3))
    with pytest.warns(UserWarning, match="without specifying the dim"):
        ours = chainrule.cross(chainrule.tensor(a), chainrule.tensor(b))
    theirs = torch.cross(torch.tensor(a), torch.tensor(b), dim=0)  # torch warns once a process
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
