"""SGD: stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

import numpy as np

from chainrule.optim.optimizer import Optimizer, _check_flags, _check_nonneg, _value
from chainrule.tensor import Tensor

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (torch.optim.SGD).

    update, per parameter p with gradient g (torch's single-tensor order):
        g = -g                                    if maximize
        g = g + weight_decay * p                  if weight_decay != 0
        b = g                                     first step with momentum != 0
        b = momentum * b + (1 - dampening) * g    later steps
        g = g + momentum * b  if nesterov  else  b
        p = p - lr * g
    state:  momentum_buffer (b), only when momentum != 0
    edges:  the buffer starts at the first gradient, so dampening applies from step 2 on
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check_nonneg("learning rate", lr)
        _check_nonneg("momentum value", momentum)
        _check_nonneg("weight_decay value", weight_decay)
        defaults = {
            "lr": lr, "momentum": momentum, "dampening": dampening,
            "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
            "foreach": foreach, "differentiable": differentiable, "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_flags("SGD", foreach=foreach, fused=fused, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr = _value(group["lr"])
            wd = _value(group["weight_decay"])
            momentum = _value(group["momentum"])
            dampening = _value(group["dampening"])
            nesterov, maximize = group["nesterov"], group["maximize"]
            for p, g in self._grads(group, "SGD"):
                a = p.array
                s1, s2 = self._buffers(p)
                d = g
                if maximize:
                    d = np.negative(g, out=s1)
                if wd != 0:
                    np.multiply(a, wd, out=s2)
                    d = np.add(d, s2, out=s1)
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = Tensor._make(d.copy(), None, 0, False)
                        b = buf.array
                    else:
                        b = buf.array
                        b *= momentum
                        if dampening != 0:
                            np.multiply(d, 1 - dampening, out=s2)
                            b += s2
                        else:
                            b += d
                    if nesterov:
                        np.multiply(b, momentum, out=s2)
                        d = np.add(d, s2, out=s1)
                    else:
                        d = b
                np.multiply(d, lr, out=s2)
                a -= s2
                p._version[0] += 1
        return loss
