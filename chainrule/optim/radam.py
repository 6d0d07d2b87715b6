"""RAdam: Adam whose adaptive step is switched on gradually, as its variance estimate firms up."""

from __future__ import annotations

import numpy as np

from chainrule.optim.optimizer import Optimizer, _lerp, _lr_value, _mix_square, _value

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam (torch.optim.RAdam), with L2 or decoupled weight decay.

    update, per parameter p with gradient g (torch's single-tensor order):
        step, maximize, weight decay (L2 or decoupled), m and v as in Adam
        m_hat = m / (1 - beta1**step)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * beta2**step / (1 - beta2**step)
        if rho_t > 5:
            rect = sqrt((rho_t - 4) (rho_t - 2) rho_inf / ((rho_inf - 4) (rho_inf - 2) rho_t))
            p = p - m_hat * lr * (sqrt(1 - beta2**step) / (sqrt(v) + eps)) * rect
        else:
            p = p - m_hat * lr                          (plain momentum SGD)
    state:  step (0-d tensor), exp_avg, exp_avg_sq
    edges:  with beta2 = 0.999 the first 5 steps take the momentum branch
    foreach: accepted and recorded as in torch; chainrule has one (single-tensor) update
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        defaults = {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "maximize": maximize, "foreach": foreach, "capturable": capturable,
            "decoupled_weight_decay": decoupled_weight_decay, "differentiable": differentiable,
        }
        self._check_options(defaults)
        super().__init__(params, defaults)

    def _update(self, p, g, group) -> None:
        lr, eps = _lr_value(group["lr"]), _value(group["eps"])
        beta1, beta2 = (_value(b) for b in group["betas"])
        a = p.array
        state = self._state(p, "exp_avg", "exp_avg_sq")
        s1, s2 = self._buffers(p)
        step = float(state["step"].array)
        g = self._prepare_grad(g, a, group, lr, s1, s2)
        m, v = state["exp_avg"].array, state["exp_avg_sq"].array
        _lerp(m, g, 1 - beta1, s2)
        _mix_square(v, g, beta2, s2)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        update = np.divide(m, bias_correction1, out=s1)
        update *= lr
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            adaptive = np.sqrt(v, out=s2)
            adaptive += eps
            np.divide(bias_correction2**0.5, adaptive, out=adaptive)
            update *= adaptive
            update *= ((rho_t - 4) * (rho_t - 2) * rho_inf
                       / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        a -= update
