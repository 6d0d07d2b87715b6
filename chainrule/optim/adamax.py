"""Adamax: Adam with the infinity norm of past gradients in place of their RMS."""

from __future__ import annotations

import numpy as np

from chainrule.optim.optimizer import (
    Optimizer,
    _check_flags,
    _check_nonneg,
    _lerp,
    _step_tensor,
    _value,
    _zeros_like,
)
from chainrule.tensor import Tensor

__all__ = ["Adamax"]


def _check_lr(lr) -> None:
    """torch's two learning-rate checks: a 1-element Tensor, then 0 <= lr."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    _check_nonneg("learning rate", lr)


def _lr_value(lr):
    """lr for the update arithmetic. A Tensor lr stays in its own dtype (a NumPy scalar), as
    torch computes with the 0-d tensor: a float32 lr makes lr * (...) float32 there too."""
    return lr.array[()] if isinstance(lr, Tensor) else lr


def _check_betas(betas) -> tuple:
    """torch's check for Adamax, NAdam and RAdam: 0 <= beta < 1 for both entries."""
    betas = tuple(betas)
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas}")
    for i, beta in enumerate(betas):
        if not 0.0 <= _value(beta) < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
    return betas


class Adamax(Optimizer):
    """Adamax (torch.optim.Adamax), the infinity-norm variant of Adam.

    update, per parameter p with gradient g (torch's single-tensor order):
        g = -g                                          if maximize
        step = step + 1
        g = g + weight_decay * p                        if weight_decay != 0
        m = lerp(m, g, 1 - beta1)                       exp_avg
        u = max(beta2 * u, |g| + eps)                   exp_inf
        p = p - (lr / (1 - beta1**step)) * m / u
    state:  step (0-d tensor), exp_avg (m), exp_inf (u)
    edges:  eps enters u before the max, so u >= eps and the division is always defined
    foreach: accepted and recorded as in torch; chainrule has one (single-tensor) update
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_nonneg("epsilon value", eps)
        betas = _check_betas(betas)
        _check_nonneg("weight_decay value", weight_decay)
        _check_flags("Adamax", foreach=foreach, capturable=capturable,
                     differentiable=differentiable)
        defaults = {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, eps = _lr_value(group["lr"]), _value(group["eps"])
            wd = _value(group["weight_decay"])
            beta1, beta2 = (_value(b) for b in group["betas"])
            for p, g in self._grads(group, "Adamax"):
                a = p.array
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _zeros_like(a)
                    state["exp_inf"] = _zeros_like(a)
                s1, s2 = self._buffers(p)
                if group["maximize"]:
                    g = np.negative(g, out=s1)
                step_t = state["step"].array
                step_t += 1
                if wd != 0:
                    np.multiply(a, wd, out=s2)
                    g = np.add(g, s2, out=s1)
                m, u = state["exp_avg"].array, state["exp_inf"].array
                _lerp(m, g, 1 - beta1, s2)
                u *= beta2
                np.abs(g, out=s2)
                s2 += eps
                np.maximum(u, s2, out=u)
                clr = lr / (1 - beta1 ** float(step_t))
                np.multiply(m, clr, out=s1)
                s1 /= u
                a -= s1
                p._version[0] += 1
        return loss
