"""chainrule.testing.assert_close and finfo / iinfo against torch's."""

import numpy as np
import pytest

import chainrule as cr
from tests._torch import torch


def _outcome(fn, *args, **kwargs):
    """(exception type or None, message) of one call."""
    try:
        fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return type(e), str(e)
    return None, ""


def _both(make, **kwargs):
    """Run the same comparison through chainrule and torch; the outcomes must be equal."""
    ours = _outcome(cr.testing.assert_close, *make(cr), **kwargs)
    theirs = _outcome(torch.testing.assert_close, *make(torch), **kwargs)
    return ours, theirs


CASES = {
    "float32 close": lambda m: (m.tensor([1.0, 2.0, 3.0]), m.tensor([1.0, 2.0 + 1e-6, 3.0])),
    "float32 far": lambda m: (m.tensor([1.0, 2.0, 3.0]), m.tensor([1.0, 2.1, 3.0])),
    "float64 far": lambda m: (m.tensor([[1.0, 0.0], [3.0, 4.0]], dtype=m.float64),
                              m.tensor([[1.0, 1e-3], [3.0, 4.5]], dtype=m.float64)),
    "float16": lambda m: (m.tensor([1.0, 2.0], dtype=m.float16),
                          m.tensor([1.0005, 2.2], dtype=m.float16)),
    "int equal": lambda m: (m.tensor([1, 2, 3]), m.tensor([1, 2, 3])),
    "int differ": lambda m: (m.tensor([1, 2, 3]), m.tensor([1, 4, 0])),
    "int ratio": lambda m: (m.tensor([1, 2, 4]), m.tensor([1, 3, 3])),
    "bool differ": lambda m: (m.tensor([True, False]), m.tensor([True, True])),
    "0-d": lambda m: (m.tensor(1.5), m.tensor(1.6)),
    "nan": lambda m: (m.tensor([float("nan"), 1.0]), m.tensor([float("nan"), 1.0])),
    "inf": lambda m: (m.tensor([float("inf")]), m.tensor([float("inf")])),
    "-inf": lambda m: (m.tensor([float("inf")]), m.tensor([float("-inf")])),
    "expected zero": lambda m: (m.tensor([1.0, 0.0]), m.tensor([0.0, 0.0])),
    "shape": lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.0, 3.0])),
    "dtype": lambda m: (m.tensor([1.0]), m.tensor([1.0], dtype=m.float64)),
    "floats": lambda m: (1.0, 1.1),
    "ints": lambda m: (1, 2),
    "int vs float": lambda m: (1, 1.0),
    "bools": lambda m: (True, False),
    "nones": lambda m: (None, None),
    "tensor vs number": lambda m: (m.tensor(1.0), 1.0),
    "strings": lambda m: ("a", "a"),
    "list item": lambda m: ([m.tensor(1.0), 2.0], [m.tensor(1.0), 2.5]),
    "nested": lambda m: ({"a": [m.ones(2), {"b": m.zeros(2)}]},
                         {"a": [m.ones(2), {"b": m.ones(2)}]}),
    "lengths": lambda m: ([1.0, 2.0], [1.0, 2.0, 3.0]),
    "keys": lambda m: ({"a": 1.0, "b": 2.0}, {"a": 1.0, "c": 2.0}),
    "tuple vs list": lambda m: ((1.0,), [1.0]),
    "numpy arrays": lambda m: (np.array([1.0, 2.0]), np.array([1.0, 2.5])),
    "tensor vs numpy": lambda m: (m.tensor([1.0]), np.array([1.0])),
    "empty": lambda m: (m.tensor([]), m.tensor([])),
}


@pytest.mark.parametrize("name", list(CASES))
def test_assert_close_matches_torch(name):
    ours, theirs = _both(CASES[name])
    assert ours[0] is theirs[0]
    assert ours[1].replace("chainrule.tensor.Tensor", "torch.Tensor") == theirs[1]


@pytest.mark.parametrize("kwargs", [
    {"rtol": 0.2, "atol": 0.0}, {"rtol": 0.0, "atol": 0.05}, {"rtol": 0.2}, {"atol": 0.1},
    {"equal_nan": True}, {"check_dtype": False}, {"msg": "custom message"},
])
def test_assert_close_options_match_torch(kwargs):
    def make(m):
        return (m.tensor([1.0, float("nan"), 3.0]),
                m.tensor([1.1, float("nan"), 3.0], dtype=m.float64))

    ours, theirs = _both(make, **kwargs)
    assert ours == theirs


def test_assert_close_check_dtype_false_promotes_and_keeps_the_looser_tolerance():
    for make in (lambda m: (m.tensor([1.0]), m.tensor([1.000001], dtype=m.float64)),
                 lambda m: (m.tensor([1, 2]), m.tensor([1.0, 2.5]))):
        ours, theirs = _both(make, check_dtype=False)
        assert ours == theirs


def test_assert_close_callable_msg_gets_the_generated_message():
    seen = []
    with pytest.raises(AssertionError, match="^wrapped$"):
        cr.testing.assert_close(cr.tensor([1.0]), cr.tensor([2.0]),
                                msg=lambda m: seen.append(m) or "wrapped")
    assert seen[0].startswith("Tensor-likes are not close!")


def test_assert_close_accepts_parameters_and_module_outputs():
    lin = cr.nn.Linear(2, 2)
    cr.testing.assert_close(lin.weight, lin.weight.detach().clone())
    with pytest.raises(TypeError):
        cr.testing.assert_close(lin.weight, lin.weight.detach(), allow_subclasses=False)


@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo_matches_torch(name):
    ours, theirs = cr.finfo(getattr(cr, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert repr(ours) == repr(theirs)


def test_finfo_default_is_the_default_dtype():
    assert cr.finfo().dtype == "float32"
    cr.set_default_dtype(cr.float64)
    try:
        assert cr.finfo().eps == torch.finfo(torch.float64).eps
    finally:
        cr.set_default_dtype(cr.float32)
    assert cr.finfo(cr.randn(2).dtype).eps == torch.finfo(torch.float32).eps


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_torch(name):
    ours, theirs = cr.iinfo(getattr(cr, name)), torch.iinfo(getattr(torch, name))
    for attr in ("bits", "max", "min", "dtype"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert repr(ours) == repr(theirs)


def test_finfo_and_iinfo_refuse_the_other_kind_as_torch():
    for lib in (cr, torch):
        with pytest.raises(TypeError, match="requires a floating point"):
            lib.finfo(lib.int32)
        with pytest.raises(TypeError, match="requires an integer"):
            lib.iinfo(lib.float32)
        with pytest.raises(TypeError, match="bool is not supported"):
            lib.iinfo(lib.bool)
