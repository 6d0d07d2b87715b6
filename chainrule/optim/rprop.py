"""Rprop: per-coordinate step sizes that grow while the gradient keeps its sign."""

from __future__ import annotations

import numpy as np

from chainrule.optim.optimizer import Optimizer, _step_tensor, _value, _zeros_like
from chainrule.tensor import Tensor

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Resilient backpropagation (torch.optim.Rprop): only the gradient's sign is used.

    update, per parameter p with gradient g (torch's single-tensor order):
        g = -g                                          if maximize
        step = step + 1
        s = sign(g * prev)
        eta = etaplus if s > 0,  etaminus if s < 0,  1 if s == 0
        step_size = clamp(step_size * eta, step_size_min, step_size_max)
        g = 0                                           where eta == etaminus (sign flipped)
        p = p - sign(g) * step_size
        prev = g
    state:  step (0-d tensor), prev (last gradient used), step_size (starts at lr)
    edges:  after a sign flip the coordinate rests one step (g = 0), so it is not shrunk twice
    foreach: accepted and recorded as in torch; chainrule has one (single-tensor) update
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        etas = tuple(etas)
        defaults = {
            "lr": lr, "etas": etas, "step_sizes": tuple(step_sizes), "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable, "capturable": capturable,
        }
        self._check_options(defaults)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, defaults)

    def _update(self, p, g, group) -> None:
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        a = p.array
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            state["prev"] = _zeros_like(a)
            lr = _value(group["lr"])
            state["step_size"] = Tensor._make(np.full_like(a, lr), None, 0, False)
        s1, s2 = self._buffers(p)
        if group["maximize"]:
            g = np.negative(g, out=s1)
        state["step"].array += 1
        prev, step_size = state["prev"].array, state["step_size"].array
        sign = np.sign(np.multiply(g, prev, out=s2), out=s2)
        sign[sign > 0] = etaplus
        sign[sign < 0] = etaminus
        sign[sign == 0] = 1
        step_size *= sign
        np.clip(step_size, step_size_min, step_size_max, out=step_size)
        np.copyto(prev, g)
        prev[sign == etaminus] = 0
        np.sign(prev, out=s1)
        s1 *= step_size
        a -= s1
