"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

import numpy as np

from chainrule.optim.adamax import _lr_value
from chainrule.optim.optimizer import (
    Optimizer,
    _check_flags,
    _check_nonneg,
    _step_tensor,
    _zeros_like,
)
from chainrule.tensor import Tensor

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta (torch.optim.Adadelta).

    update, per parameter p with gradient g (torch's single-tensor order):
        step = step + 1
        g = -g                                          if maximize
        g = g + weight_decay * p                        if weight_decay != 0
        v = rho * v + (1 - rho) * g * g                 square_avg
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta         acc_delta
        p = p - lr * delta
    state:  step (0-d tensor), square_avg (v), acc_delta (u)
    edges:  u starts at 0, so the first steps have size about lr * sqrt(eps)
    foreach: accepted and recorded as in torch; chainrule has one (single-tensor) update
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check_nonneg("learning rate", lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_nonneg("epsilon value", eps)
        _check_nonneg("weight_decay value", weight_decay)
        _check_flags("Adadelta", foreach=foreach, capturable=capturable,
                     differentiable=differentiable)
        defaults = {
            "lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
            "maximize": maximize, "capturable": capturable, "foreach": foreach,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, rho, eps = _lr_value(group["lr"]), group["rho"], group["eps"]
            wd, maximize = group["weight_decay"], group["maximize"]
            for p, g in self._grads(group, "Adadelta"):
                a = p.array
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _zeros_like(a)
                    state["acc_delta"] = _zeros_like(a)
                s1, s2, s3 = self._buffers(p, 3)
                state["step"].array += 1
                if maximize:
                    g = np.negative(g, out=s1)
                if wd != 0:
                    np.multiply(a, wd, out=s2)
                    g = np.add(g, s2, out=s1)
                v, u = state["square_avg"].array, state["acc_delta"].array
                v *= rho
                np.multiply(g, 1 - rho, out=s2)
                s2 *= g
                v += s2
                std = np.sqrt(np.add(v, eps, out=s2), out=s2)
                delta = np.sqrt(np.add(u, eps, out=s3), out=s3)
                delta /= std
                delta *= g
                u *= rho
                np.multiply(delta, 1 - rho, out=s2)
                s2 *= delta
                u += s2
                delta *= lr
                a -= delta
                p._version[0] += 1
        return loss
