"""Adamax: Adam with the infinity norm of past gradients in place of their RMS."""

from __future__ import annotations

import numpy as np

from chainrule.optim.optimizer import Optimizer, _lerp, _lr_value, _value

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax (torch.optim.Adamax), the infinity-norm variant of Adam.

    update, per parameter p with gradient g (torch's single-tensor order):
        g = (-g if maximize else g) + weight_decay * p
        step = step + 1
        m = lerp(m, g, 1 - beta1)                       exp_avg
        u = max(beta2 * u, |g| + eps)                   exp_inf
        p = p - (lr / (1 - beta1**step)) * m / u
    state:  step (0-d tensor), exp_avg (m), exp_inf (u)
    edges:  eps enters u before the max, so u >= eps and the division is always defined
    foreach: accepted and recorded as in torch; chainrule has one (single-tensor) update
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        defaults = {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
            "capturable": capturable,
        }
        self._check_options(defaults)
        super().__init__(params, defaults)

    def _update(self, p, g, group) -> None:
        lr, eps = _lr_value(group["lr"]), _value(group["eps"])
        beta1, beta2 = (_value(b) for b in group["betas"])
        a = p.array
        state = self._state(p, "exp_avg", "exp_inf")
        s1, s2 = self._buffers(p)
        g = self._prepare_grad(g, a, group, lr, s1, s2)
        m, u = state["exp_avg"].array, state["exp_inf"].array
        _lerp(m, g, 1 - beta1, s2)
        u *= beta2
        np.abs(g, out=s2)
        s2 += eps
        np.maximum(u, s2, out=u)
        # array arithmetic in float64 (not float(step)): Python's numbers, and chainrule.compile
        # sees the step size as kernels; rounded once to p's dtype, as torch's scalar is
        step = state["step"].array.astype(np.float64)
        bias = (1 - np.power(beta1, step)).astype(np.result_type(lr, 1.0))  # lr's precision
        clr = (lr / bias).astype(a.dtype)
        np.multiply(m, clr, out=s1)
        s1 /= u
        a -= s1
