"""Adagrad: per-coordinate step sizes from the running sum of squared gradients."""

from __future__ import annotations

import numpy as np

from chainrule.optim.optimizer import (
    Optimizer,
    _check_flags,
    _check_nonneg,
    _step_tensor,
    _value,
)
from chainrule.tensor import Tensor

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (torch.optim.Adagrad).

    update, per parameter p with gradient g (torch's single-tensor order):
        step = step + 1
        g = -g                                   if maximize
        g = g + weight_decay * p                 if weight_decay != 0
        clr = lr / (1 + (step - 1) * lr_decay)
        s = s + g * g                            sum
        p = p - clr * g / (sqrt(s) + eps)
    state:  step (0-d tensor), sum (starts at initial_accumulator_value); made at construction
    edges:  with initial_accumulator_value = 0 the first step moves each coordinate by ~lr
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check_nonneg("learning rate", lr)
        _check_nonneg("lr_decay value", lr_decay)
        _check_nonneg("weight_decay value", weight_decay)
        _check_nonneg("initial_accumulator_value value", initial_accumulator_value)
        _check_nonneg("epsilon value", eps)
        _check_flags("Adagrad", foreach=foreach, fused=fused, differentiable=differentiable)
        defaults = {
            "lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable, "fused": fused,
        }
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

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, lr_decay = _value(group["lr"]), _value(group["lr_decay"])
            wd, eps, maximize = _value(group["weight_decay"]), _value(group["eps"]), \
                group["maximize"]
            for p, g in self._grads(group, "Adagrad"):
                a = p.array
                state = self.state[p]
                if len(state) == 0:
                    state = self._init_state(p)
                s1, s2 = self._buffers(p)
                step_t = state["step"].array
                step_t += 1
                step = float(step_t)
                if maximize:
                    g = np.negative(g, out=s1)
                if wd != 0:
                    np.multiply(a, wd, out=s2)
                    g = np.add(g, s2, out=s1)
                clr = lr / (1 + (step - 1) * lr_decay)
                s = state["sum"].array
                np.multiply(g, g, out=s2)
                s += s2
                std = np.sqrt(s, out=s2)
                std += eps
                np.multiply(g, clr, out=s1)
                s1 /= std
                a -= s1
                p._version[0] += 1
        return loss
