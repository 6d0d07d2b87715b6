"""Adam and AdamW: bias-corrected running averages of the gradient and its square."""

from __future__ import annotations

import numpy as np

from chainrule._threads import split_rows
from chainrule.optim.optimizer import Optimizer, _lerp, _mix_square, _value
from chainrule.tensor import Tensor

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam (torch.optim.Adam), with AMSGrad and L2 or decoupled weight decay.

    update, per parameter p with gradient g (torch's single-tensor order):
        g = -g                                          if maximize
        step = step + 1
        p = p * (1 - lr * weight_decay)                 if decoupled_weight_decay (AdamW)
        g = g + weight_decay * p                        elif weight_decay != 0 (L2)
        m = lerp(m, g, 1 - beta1)                       exp_avg
        v = beta2 * v + (1 - beta2) * g * g             exp_avg_sq
        vmax = max(vmax, v);  v_used = vmax  if amsgrad  else  v
        denom = sqrt(v_used) / sqrt(1 - beta2**step) + eps
        p = p - (lr / (1 - beta1**step)) * m / denom
    state:  step (0-d tensor), exp_avg, exp_avg_sq, max_exp_avg_sq (amsgrad)
    edges:  the bias corrections make step 1 move each coordinate by about lr
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and "
                             "foreach=True")
        defaults = {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
            "capturable": capturable, "differentiable": differentiable, "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        self._check_options(defaults)
        betas = defaults["betas"]
        if not (all(isinstance(b, float) for b in betas)
                or all(isinstance(b, Tensor) for b in betas)):
            raise ValueError("betas must be either both floats or both Tensors")
        super().__init__(params, defaults)

    def _update(self, p, g, group) -> None:
        lr, eps = _value(group["lr"]), _value(group["eps"])
        beta1, beta2 = (_value(b) for b in group["betas"])
        a = p.array
        moments = ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if group["amsgrad"] else [])
        state = self._state(p, *moments)
        step_size, bias_correction2_sqrt = _step_scalars(state["step"].array, lr, beta1, beta2,
                                                         a.dtype)

        def rows(a, g, m, v, vmax, s1, s2):  # elementwise: a large p's rows split in threads
            g = self._prepare_grad(g, a, group, lr, s1, s2)
            _lerp(m, g, 1 - beta1, s2)
            _mix_square(v, g, beta2, s2)
            if vmax is not None:
                np.maximum(vmax, v, out=vmax)
                v = vmax
            denom = np.sqrt(v, out=s2)
            denom /= bias_correction2_sqrt
            denom += eps
            np.multiply(m, step_size, out=s1)
            s1 /= denom
            a -= s1

        vmax = state["max_exp_avg_sq"].array if group["amsgrad"] else None
        split_rows(rows, a, g, state["exp_avg"].array, state["exp_avg_sq"].array, vmax,
                   *self._buffers(p))


def _step_scalars(step: np.ndarray, lr, beta1, beta2, dtype) -> tuple:
    """(lr / (1 - beta1**step), sqrt(1 - beta2**step)) as 0-d arrays of the parameters' dtype.

    NumPy operations on the 0-d step counter (no Python number is read out of it, so a
    trace replays them), in float64 as torch's Python arithmetic, rounded once to the
    parameters' dtype as torch rounds a Python scalar operand."""
    t = step.astype(np.float64)
    step_size = np.divide(lr, 1 - np.power(beta1, t))
    return step_size.astype(dtype), np.sqrt(1 - np.power(beta2, t)).astype(dtype)


class AdamW(Adam):
    """Adam with decoupled weight decay (torch.optim.AdamW): p shrinks by lr * weight_decay
    before the Adam step instead of weight_decay * p joining the gradient."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
