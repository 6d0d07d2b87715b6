"""set_printoptions changes chainrule's tensor repr exactly as it changes PyTorch's."""

import numpy as np
import pytest

import chainrule
from tests._torch import torch

VALUES = [
    np.array([1.123456, -2.5, 3.0], dtype=np.float32),
    np.array([1.0, 2.0, 300.0], dtype=np.float32),
    np.array([1e-5, 1.0, 2.5], dtype=np.float32),
    np.array([123456789.0, 1.5], dtype=np.float64),
    np.arange(2000, dtype=np.int64),
    np.linspace(-3, 3, 1200, dtype=np.float32).reshape(30, 40),
    np.linspace(0, 1, 64, dtype=np.float32).reshape(4, 4, 4),
    np.arange(30, dtype=np.float32) / 7,
    np.array(3.14159, dtype=np.float32),
]

OPTIONS = [
    {},
    {"precision": 2},
    {"precision": 8},
    {"threshold": 5},
    {"threshold": 5, "edgeitems": 1},
    {"linewidth": 40},
    {"sci_mode": True},
    {"sci_mode": False},
    {"sci_mode": True, "precision": 2},
    {"profile": "short"},
    {"profile": "full"},
    {"profile": "short", "precision": 6},
]


@pytest.fixture(autouse=True)
def _restore_defaults():
    yield
    torch.set_printoptions(profile="default")
    chainrule.set_printoptions(profile="default")


@pytest.mark.parametrize("options", OPTIONS, ids=[str(o) for o in OPTIONS])
@pytest.mark.parametrize("k", range(len(VALUES)))
def test_repr_under_printoptions_matches_torch(options, k):
    torch.set_printoptions(**options)
    chainrule.set_printoptions(**options)
    assert repr(chainrule.from_numpy(VALUES[k].copy())) == \
        repr(torch.from_numpy(VALUES[k].copy()))


def test_options_persist_until_changed_and_sci_mode_resets():
    chainrule.set_printoptions(precision=2, sci_mode=True)
    chainrule.set_printoptions(linewidth=60)
    opts = chainrule.get_printoptions()
    assert (opts["precision"], opts["linewidth"], opts["sci_mode"]) == (2, 60, None)


def test_default_profile_restores_the_defaults():
    chainrule.set_printoptions(precision=1, threshold=3, edgeitems=1, linewidth=20)
    chainrule.set_printoptions(profile="default")
    assert repr(chainrule.tensor([1.123456])) == "tensor([1.1235])"


def test_unknown_profile_raises():
    with pytest.raises(ValueError, match="profile must be one of"):
        chainrule.set_printoptions(profile="tiny")
