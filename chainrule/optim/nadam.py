"""NAdam: Adam with Nesterov momentum, its momentum coefficient warmed up over the steps."""

from __future__ import annotations

import numpy as np

from chainrule.optim.optimizer import Optimizer, _lerp, _lr_value, _mix_square, _value

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam (torch.optim.NAdam), with L2 or decoupled weight decay.

    update, per parameter p with gradient g (torch's single-tensor order):
        step, maximize, weight decay (L2 or decoupled), m and v as in Adam
        mu_t    = beta1 * (1 - 0.5 * 0.96**(step * momentum_decay))
        mu_next = beta1 * (1 - 0.5 * 0.96**((step + 1) * momentum_decay))
        mu_product = mu_product * mu_t                  (product of all mu so far)
        denom = sqrt(v / (1 - beta2**step)) + eps
        p = p - (lr * (1 - mu_t) / (1 - mu_product)) * g / denom
        p = p - (lr * mu_next / (1 - mu_product * mu_next)) * m / denom
    state:  step, mu_product (0-d tensors of the default float dtype, as torch keeps them:
            float32 unless set_default_dtype(float64)), exp_avg, exp_avg_sq
    edges:  mu_t rises from about beta1/2 towards beta1, so early steps lean on the gradient
    foreach: accepted and recorded as in torch; chainrule has one (single-tensor) update
    """

    _scalar_state = ("step", "mu_product")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        defaults = {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize, "foreach": foreach, "capturable": capturable,
            "differentiable": differentiable,
        }
        self._check_options(defaults, "momentum_decay")
        super().__init__(params, defaults)

    def _update(self, p, g, group) -> None:
        lr, eps = _lr_value(group["lr"]), _value(group["eps"])
        beta1, beta2 = (_value(b) for b in group["betas"])
        a = p.array
        state = self._state(p, "exp_avg", "exp_avg_sq", mu_product=1.0)
        s1, s2, s3 = self._buffers(p, 3)
        step = float(state["step"].array)
        bias_correction2 = 1 - beta2**step
        g = self._prepare_grad(g, a, group, lr, s1, s2)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * group["momentum_decay"])))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * group["momentum_decay"])))
        mu_product = state["mu_product"].array
        mu_product *= mu                     # in the state's own dtype, as torch's mul_
        m, v = state["exp_avg"].array, state["exp_avg_sq"].array
        _lerp(m, g, 1 - beta1, s2)
        _mix_square(v, g, beta2, s2)
        denom = np.divide(v, bias_correction2, out=s2)
        np.sqrt(denom, out=denom)
        denom += eps
        mu_product_next = float(mu_product) * mu_next
        np.multiply(g, lr * (1.0 - mu) / (1.0 - float(mu_product)), out=s3)
        s3 /= denom
        a -= s3
        np.multiply(m, lr * mu_next / (1.0 - mu_product_next), out=s3)
        s3 /= denom
        a -= s3
