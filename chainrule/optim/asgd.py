"""ASGD: SGD with a decaying step size and a running (Polyak) average of the iterates."""

from __future__ import annotations

import numpy as np

from chainrule.optim.adamax import _check_lr, _lr_value
from chainrule.optim.optimizer import (
    Optimizer,
    _check_flags,
    _check_nonneg,
    _scalar_dtype,
    _step_tensor,
    _value,
    _zeros_like,
)
from chainrule.tensor import Tensor

__all__ = ["ASGD"]


def _as_tensor(x):
    """The value torch.as_tensor(x) holds: a Python float is rounded to the default dtype
    (float32 unless set_default_dtype(float64)), whatever dtype eta and mu have."""
    return x if isinstance(x, np.generic) else np.array(x, _scalar_dtype())[()]


class ASGD(Optimizer):
    """Averaged SGD (torch.optim.ASGD); the average ax is kept in the state, p is not replaced.

    update, per parameter p with gradient g (torch's single-tensor order):
        g = -g                                          if maximize
        step = step + 1
        g = g + weight_decay * p                        if weight_decay != 0
        p = p * (1 - lambd * eta)                       decay
        p = p - eta * g
        ax = ax + mu * (p - ax)  if mu != 1  else  p    average of the iterates
        eta = lr / (1 + lambd * lr * step)**alpha       next step size
        mu = 1 / max(1, step - t0)                      averaging starts after t0 steps
    state:  step, eta, mu (0-d tensors of the default float dtype, as torch keeps them; the
            new eta and mu are rounded to float32, unless set_default_dtype(float64), even
            after load_state_dict has made them float64, as torch's as_tensor does), ax
    edges:  before step t0 the "average" is the last iterate (mu = 1)
    foreach: accepted and recorded as in torch; chainrule has one (single-tensor) update
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_nonneg("weight_decay value", weight_decay)
        _check_flags("ASGD", foreach=foreach, capturable=capturable,
                     differentiable=differentiable)
        defaults = {
            "lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
            "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _after_load(self) -> None:
        super()._after_load()
        for s in self.state.values():  # checkpoints that kept eta and mu as numbers
            if isinstance(s, dict):
                for key in ("eta", "mu"):
                    if key in s and not isinstance(s[key], Tensor):
                        s[key] = Tensor._make(np.array(s[key], _scalar_dtype()), None, 0, False)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, lambd = _lr_value(group["lr"]), group["lambd"]
            alpha, t0, wd = group["alpha"], group["t0"], _value(group["weight_decay"])
            for p, g in self._grads(group, "ASGD"):
                a = p.array
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["eta"] = _step_tensor(lr)
                    state["mu"] = _step_tensor(1.0)
                    state["ax"] = _zeros_like(a)
                s1, s2 = self._buffers(p)
                if group["maximize"]:
                    g = np.negative(g, out=s1)
                step_t = state["step"].array
                step_t += 1
                if wd != 0:
                    np.multiply(a, wd, out=s2)
                    g = np.add(g, s2, out=s1)
                eta_t, mu_t = state["eta"].array, state["mu"].array
                eta = float(eta_t)
                a *= 1 - lambd * eta
                np.multiply(g, eta, out=s2)
                a -= s2
                ax = state["ax"].array
                if float(mu_t) != 1:
                    np.subtract(a, ax, out=s2)
                    s2 *= mu_t
                    ax += s2
                else:
                    np.copyto(ax, a)
                step = float(step_t)
                eta_t[...] = _as_tensor(lr / ((1 + lambd * lr * step) ** alpha))
                mu_t[...] = _as_tensor(1 / max(1, step - t0))
                p._version[0] += 1
        return loss
