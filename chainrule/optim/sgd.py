"""SGD: stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

import numpy as np

from chainrule._threads import split_rows
from chainrule.optim.optimizer import Optimizer, _value
from chainrule.tensor import Tensor

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (torch.optim.SGD).

    update, per parameter p with gradient g (torch's single-tensor order):
        g = (-g if maximize else g) + weight_decay * p
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
        defaults = {
            "lr": lr, "momentum": momentum, "dampening": dampening,
            "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
            "foreach": foreach, "differentiable": differentiable, "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        self._check_options(defaults)
        super().__init__(params, defaults)

    def _update(self, p, g, group) -> None:
        lr, momentum = _value(group["lr"]), _value(group["momentum"])
        dampening = _value(group["dampening"])
        a = p.array
        s1, s2 = self._buffers(p)
        b, first = None, False
        if momentum != 0:
            state = self.state[p]
            buf = state.get("momentum_buffer")
            if buf is None:
                first = True
                buf = state["momentum_buffer"] = Tensor._make(np.empty_like(a), None, 0, False)
            b = buf.array
        nesterov = group["nesterov"]

        def rows(a, g, b, s1, s2):  # elementwise: the rows of a large p split between threads
            d = self._prepare_grad(g, a, group, lr, s1, s2)
            if b is not None:
                if first:  # the buffer starts as the gradient
                    np.copyto(b, d)
                else:
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

        split_rows(rows, a, g, b, s1, s2)
