"""Forward mode through the seed programs (benchmarks/workloads.py's W1 and W2 forms).

W1: the factorisation loss ||A - U V^T||_F^2 (mse_loss, reduction="sum", float64); its
directional derivative along (dU, dV) from forward_ad equals torch.func.jvp's and the inner
product of chainrule's own gradient with (dU, dV). W2: the Iris MLP's loss and logits,
relu(x @ W1 + b1) @ W2 + b2 with scalar biases, differentiated with
respect to W1 along a random direction: equal to torch.func.jvp's (float32 and float64), and
the seed's own `mlp_func` from chainrule.labs.iris_mlp gives the same tangent.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule
from benchmarks.workloads import factorise_data, iris_mlp_data
from chainrule.labs.iris_mlp import mlp_func
from tests._torch import torch


def _np(t) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True)
    return np.asarray(t.array)


def _factorisation_loss(lib, A, U, V):
    return lib.nn.functional.mse_loss(U @ V.t(), A, reduction="sum")


def test_factorisation_loss_directional_derivative() -> None:
    d = factorise_data()
    rng = np.random.default_rng(3)
    dU, dV = rng.standard_normal(d["U"].shape), rng.standard_normal(d["V"].shape)
    fwad = chainrule.autograd.forward_ad
    A = chainrule.tensor(d["A"])
    U = chainrule.tensor(d["U"], requires_grad=True)
    V = chainrule.tensor(d["V"], requires_grad=True)
    with fwad.dual_level():
        loss = _factorisation_loss(chainrule, A, fwad.make_dual(U, chainrule.tensor(dU)),
                                   fwad.make_dual(V, chainrule.tensor(dV)))
        value, slope = fwad.unpack_dual(loss)
    ref_value, ref_slope = torch.func.jvp(
        lambda u, v: _factorisation_loss(torch, torch.tensor(d["A"]), u, v),
        (torch.tensor(d["U"]), torch.tensor(d["V"])), (torch.tensor(dU), torch.tensor(dV)))
    assert slope is not None and slope.shape == ()
    np.testing.assert_allclose(_np(value), _np(ref_value), rtol=1e-12)
    np.testing.assert_allclose(_np(slope), _np(ref_slope), rtol=1e-10)
    gU, gV = chainrule.autograd.grad(_factorisation_loss(chainrule, A, U, V), (U, V))
    inner = float((_np(gU) * dU).sum() + (_np(gV) * dV).sum())
    np.testing.assert_allclose(_np(slope), inner, rtol=1e-10)


def _mlp_loss(lib, x, y, W1, W2, b1, b2):
    logits = lib.relu(x @ W1 + b1) @ W2 + b2
    return lib.nn.functional.cross_entropy(logits, y, reduction="sum"), logits


# float32 as the seed runs it (tolerances of float32 sums over 100 rows), and float64
TOLERANCES = {np.float32: (1e-4, 1e-3), np.float64: (1e-10, 1e-10)}


@pytest.mark.parametrize("dtype", TOLERANCES, ids=["float32", "float64"])
@pytest.mark.parametrize("init", range(3))
def test_iris_mlp_jvp_with_respect_to_w1(init: int, dtype) -> None:
    d = iris_mlp_data()
    w1, w2 = (w.astype(dtype) for w in d["inits"][init])
    direction = np.random.default_rng(init).standard_normal(w1.shape).astype(dtype)
    fwad = chainrule.autograd.forward_ad
    X = d["X"].astype(dtype)
    x, y = chainrule.tensor(X), chainrule.tensor(d["y"])
    b1, b2 = chainrule.zeros(1, dtype=x.dtype), chainrule.zeros(1, dtype=x.dtype)
    W2 = chainrule.tensor(w2)
    with fwad.dual_level():
        W1 = fwad.make_dual(chainrule.tensor(w1), chainrule.tensor(direction))
        loss, logits = _mlp_loss(chainrule, x, y, W1, W2, b1, b2)
        (value, slope), dlogits = fwad.unpack_dual(loss), fwad.unpack_dual(logits).tangent
        seed_dlogits = fwad.unpack_dual(mlp_func(x, W1, W2, b1, b2)).tangent

    tx, ty = torch.tensor(X), torch.tensor(d["y"])
    tb1, tb2, tw2 = torch.zeros(1, dtype=tx.dtype), torch.zeros(1, dtype=tx.dtype), \
        torch.tensor(w2)
    (ref_value, ref_logits), (ref_slope, ref_dlogits) = torch.func.jvp(
        lambda w: _mlp_loss(torch, tx, ty, w, tw2, tb1, tb2), (torch.tensor(w1),),
        (torch.tensor(direction),))
    rtol, atol = TOLERANCES[dtype]
    assert slope is not None and str(slope.dtype) == str(ref_slope.dtype)
    np.testing.assert_allclose(_np(value), _np(ref_value), rtol=rtol)
    np.testing.assert_allclose(_np(slope), _np(ref_slope), rtol=rtol, atol=atol)
    np.testing.assert_allclose(_np(dlogits), _np(ref_dlogits), rtol=rtol, atol=atol)
    np.testing.assert_array_equal(_np(seed_dlogits), _np(dlogits))
