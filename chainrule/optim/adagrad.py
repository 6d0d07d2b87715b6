"""Adagrad: per-coordinate step sizes from the running sum of squared gradients."""

from __future__ import annotations

import numpy as np

from chainrule.optim.optimizer import Optimizer, _step_tensor, _value
from chainrule.tensor import Tensor

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (torch.optim.Adagrad).

    update, per parameter p with gradient g (torch's single-tensor order):
        step = step + 1
        g = (-g if maximize else g) + weight_decay * p
        clr = lr / (1 + (step - 1) * lr_decay)
        s = s + g * g                            sum
        p = p - clr * g / (sqrt(s) + eps)
    state:  step (0-d tensor), sum (starts at initial_accumulator_value); made at construction
    edges:  with initial_accumulator_value = 0 the first step moves each coordinate by ~lr
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        defaults = {
            "lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable, "fused": fused,
        }
        self._check_options(defaults, "lr_decay", "initial_accumulator_value")
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p: Tensor) -> dict:
        state = self.state[p]
        state["step"] = _step_tensor()
        # torch reads the optimizer-wide default here, not the group's value
        state["sum"] = Tensor._make(
            np.full_like(p.array, self.defaults["initial_accumulator_value"]), None, 0, False)
        return state

    def _update(self, p, g, group) -> None:
        lr, lr_decay, eps = _value(group["lr"]), _value(group["lr_decay"]), _value(group["eps"])
        a = p.array
        state = self.state[p] or self._init_state(p)
        s1, s2 = self._buffers(p)
        step_t = state["step"].array
        step_t += 1
        # float64 array arithmetic (not float(step)): the same numbers as Python floats, and
        # a compiled step (chainrule.compile) sees them as kernels instead of a value read
        step = step_t.astype(np.float64)
        g = self._prepare_grad(g, a, group, lr, s1, s2)
        clr = (lr / (1 + (step - 1) * lr_decay)).astype(a.dtype)  # as torch: a scalar of p's type
        s = state["sum"].array
        np.multiply(g, g, out=s2)
        s += s2
        std = np.sqrt(s, out=s2)
        std += eps
        np.multiply(g, clr, out=s1)
        s1 /= std
        a -= s1
