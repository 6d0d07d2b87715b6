"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

import numpy as np

from chainrule.optim.optimizer import (
    Optimizer,
    _check_flags,
    _check_nonneg,
    _lerp,
    _step_tensor,
    _sub_square,
    _value,
    _zeros_like,
)
from chainrule.tensor import Tensor

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (torch.optim.RMSprop), with optional momentum and centering.

    update, per parameter p with gradient g (torch's single-tensor order):
        g = -g                                     if maximize
        step = step + 1
        g = g + weight_decay * p                   if weight_decay != 0
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
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check_nonneg("learning rate", lr)
        _check_nonneg("epsilon value", eps)
        _check_nonneg("momentum value", momentum)
        _check_nonneg("weight_decay value", weight_decay)
        _check_nonneg("alpha value", alpha)
        _check_flags("RMSprop", foreach=foreach, capturable=capturable,
                     differentiable=differentiable)
        defaults = {
            "lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
            "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, alpha, eps = _value(group["lr"]), _value(group["alpha"]), _value(group["eps"])
            wd, momentum = _value(group["weight_decay"]), _value(group["momentum"])
            centered, maximize = group["centered"], group["maximize"]
            for p, g in self._grads(group, "RMSprop"):
                a = p.array
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["square_avg"] = _zeros_like(a)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_like(a)
                    if centered:
                        state["grad_avg"] = _zeros_like(a)
                s1, s2, *extra = self._buffers(p, 5 if centered else 2)
                if maximize:
                    g = np.negative(g, out=s1)
                state["step"].array += 1
                if wd != 0:
                    np.multiply(a, wd, out=s2)
                    g = np.add(g, s2, out=s1)
                v = state["square_avg"].array
                v *= alpha
                np.multiply(g, 1 - alpha, out=s2)
                s2 *= g
                v += s2
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
                p._version[0] += 1
        return loss
