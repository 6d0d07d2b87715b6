"""The problem every optimizer test runs on, in chainrule and in torch alike.

Parameters start from the same float64 arrays; each step both libraries get the gradient of
the same function at their own current parameters, computed in NumPy from the parameter
values (so the optimizer is the only thing compared): g = c * x + sin(3 x) + noise_t, with
c > 0 fixed and noise_t a fixed random array per step.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from tests._torch import torch

STEPS = 100
SHAPES = [(3, 4), (5,)]

_rng = np.random.default_rng(1234)
START = [_rng.standard_normal(s) for s in SHAPES]
COEF = [0.5 + _rng.random(s) for s in SHAPES]
NOISE = [[0.1 * _rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]


def _grad(x: np.ndarray, i: int, t: int) -> np.ndarray:
    return COEF[i] * x + np.sin(3 * x) + NOISE[t % STEPS][i]


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    """Elementwise relative difference; entries below 1e-3 (parameters are O(1)) count
    absolutely, so that a coordinate passing near zero does not inflate the ratio."""
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-3)))


def _lib(name):
    """(tensor module, optim module) of 'cr' or 'torch'."""
    return (cr, optim) if name == "cr" else (torch, torch.optim)


def _params(lib, dtype=np.float64):
    mod, _ = _lib(lib)
    return [mod.tensor(a.astype(dtype), requires_grad=True) for a in START]


def _set_grads(lib, params, t):
    mod, _ = _lib(lib)
    for i, p in enumerate(params):
        x = p.detach().numpy()
        p.grad = mod.tensor(_grad(x.astype(np.float64), i, t).astype(x.dtype))


def _maker(name, kw):
    """make(optim_module, params): the optimizer `name` with options kw, in either library."""
    def make(o, ps):
        return getattr(o, name)(ps, **kw)
    return make


def _both_raise(make, exc=ValueError):
    """Both libraries raise the same exception type with the same message; returns it."""
    with pytest.raises(exc) as ours:
        make(optim, _params("cr"))
    with pytest.raises(exc) as theirs:
        make(torch.optim, _params("torch"))
    assert str(ours.value) == str(theirs.value)
    return str(ours.value)
