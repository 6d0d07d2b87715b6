"""Run the same code with chainrule and with torch, and compare nested results."""

from __future__ import annotations

import numpy as np

import chainrule
from tests._torch import torch

LIBS = (chainrule, torch)


def arrays(seed: int, *shapes) -> list:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def tensors(lib, arrays_, requires_grad=False) -> list:
    return [lib.tensor(a, requires_grad=requires_grad) for a in arrays_]


def assert_same(ours, ref, rtol=1e-10, atol=1e-10) -> None:
    """The same nesting (tuple/list/dict), and close values with equal shapes at the leaves."""
    if isinstance(ref, torch.Tensor):
        assert isinstance(ours, chainrule.Tensor), f"expected a Tensor, got {type(ours)}"
        assert tuple(ours.shape) == tuple(ref.shape)
        np.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), rtol=rtol,
                                   atol=atol)
    elif isinstance(ref, dict):
        assert isinstance(ours, dict) and list(ours) == list(ref)
        for k in ref:
            assert_same(ours[k], ref[k], rtol, atol)
    elif isinstance(ref, (tuple, list)):
        assert type(ours) is type(ref) and len(ours) == len(ref), (type(ours), type(ref))
        for a, b in zip(ours, ref):
            assert_same(a, b, rtol, atol)
    else:
        assert ours == ref


def run_both(fn):
    """(fn(chainrule), fn(torch))."""
    return fn(chainrule), fn(torch)


def check(fn, rtol=1e-10, atol=1e-10):
    """fn(lib) gives the same nested result with chainrule as with torch."""
    ours, ref = run_both(fn)
    assert_same(ours, ref, rtol, atol)
    return ours, ref
