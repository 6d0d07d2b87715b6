"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

import numpy as np

from chainrule.optim.optimizer import Optimizer, _lr_value, _mix_square

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta (torch.optim.Adadelta).

    update, per parameter p with gradient g (torch's single-tensor order):
        step = step + 1
        g = (-g if maximize else g) + weight_decay * p
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
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        defaults = {
            "lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
            "maximize": maximize, "capturable": capturable, "foreach": foreach,
            "differentiable": differentiable,
        }
        self._check_options(defaults)
        super().__init__(params, defaults)

    def _update(self, p, g, group) -> None:
        lr, rho, eps = _lr_value(group["lr"]), group["rho"], group["eps"]
        a = p.array
        state = self._state(p, "square_avg", "acc_delta")
        s1, s2, s3 = self._buffers(p, 3)
        g = self._prepare_grad(g, a, group, lr, s1, s2)
        v, u = state["square_avg"].array, state["acc_delta"].array
        _mix_square(v, g, rho, s2)
        std = np.sqrt(np.add(v, eps, out=s2), out=s2)
        delta = np.sqrt(np.add(u, eps, out=s3), out=s3)
        delta /= std
        delta *= g
        _mix_square(u, delta, rho, s2)
        delta *= lr
        a -= delta
