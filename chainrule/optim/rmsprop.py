"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

import numpy as np

from chainrule.optim.optimizer import Optimizer, _lerp, _mix_square, _sub_square, _value

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (torch.optim.RMSprop), with optional momentum and centering.

    update, per parameter p with gradient g (torch's single-tensor order):
        g = (-g if maximize else g) + weight_decay * p
        step = step + 1
        v = alpha * v + (1 - alpha) * g * g        square_avg
        m = lerp(m, g, 1 - alpha)                  grad_avg, if centered
        avg = sqrt(v - m * m) + eps  if centered  else  sqrt(v) + eps
        b = momentum * b + g / avg;  p = p - lr * b     if momentum > 0
        p = p - lr * g / avg                            otherwise
    state:  step, square_avg, momentum_buffer (momentum > 0), grad_avg (centered)
    edges:  eps is added outside the square root, so a zero gradient gives a zero step
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        defaults = {
            "lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
            "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable,
        }
        self._check_options(defaults, "alpha")
        super().__init__(params, defaults)

    def _update(self, p, g, group) -> None:
        lr, alpha, eps = _value(group["lr"]), _value(group["alpha"]), _value(group["eps"])
        momentum, centered = _value(group["momentum"]), group["centered"]
        a = p.array
        averages = ["square_avg"] + (["momentum_buffer"] if momentum > 0 else []) \
            + (["grad_avg"] if centered else [])
        state = self._state(p, *averages)
        s1, s2, *extra = self._buffers(p, 5 if centered else 2)
        g = self._prepare_grad(g, a, group, lr, s1, s2)
        v = state["square_avg"].array
        _mix_square(v, g, alpha, s2)
        if centered:
            m = state["grad_avg"].array
            _lerp(m, g, 1 - alpha, s2)
            avg = np.sqrt(_sub_square(v, m, s2, *extra), out=s2)
        else:
            avg = np.sqrt(v, out=s2)
        avg += eps
        if momentum > 0:
            b = state["momentum_buffer"].array
            b *= momentum
            np.divide(g, avg, out=s2)
            b += s2
            np.multiply(b, lr, out=s2)
            a -= s2
        else:
            np.multiply(g, lr, out=s1)
            s1 /= avg
            a -= s1
