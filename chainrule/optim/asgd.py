"""ASGD: SGD with a decaying step size and a running (Polyak) average of the iterates."""

from __future__ import annotations

import numpy as np

from chainrule.optim.optimizer import Optimizer, _lr_value, _scalar_dtype

__all__ = ["ASGD"]


def _as_tensor(x):
    """The value torch.as_tensor(x) holds: a Python float is rounded to the default dtype
    (float32 unless set_default_dtype(float64)), whatever dtype eta and mu have."""
    return x if isinstance(x, np.generic) else np.array(x, _scalar_dtype())[()]


class ASGD(Optimizer):
    """Averaged SGD (torch.optim.ASGD); the average ax is kept in the state, p is not replaced.

    update, per parameter p with gradient g (torch's single-tensor order):
        g = (-g if maximize else g) + weight_decay * p
        step = step + 1
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

    _scalar_state = ("step", "eta", "mu")

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        defaults = {
            "lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
            "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
            "capturable": capturable,
        }
        self._check_options(defaults)
        super().__init__(params, defaults)

    def _update(self, p, g, group) -> None:
        lr, lambd, alpha, t0 = _lr_value(group["lr"]), group["lambd"], group["alpha"], group["t0"]
        a = p.array
        state = self._state(p, "ax", eta=lr, mu=1.0)
        s1, s2 = self._buffers(p)
        g = self._prepare_grad(g, a, group, lr, s1, s2)
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
        step = float(state["step"].array)
        eta_t[...] = _as_tensor(lr / ((1 + lambd * lr * step) ** alpha))
        mu_t[...] = _as_tensor(1 / max(1, step - t0))
