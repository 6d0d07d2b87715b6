"""Adam and AdamW: bias-corrected running averages of the gradient and its square."""

from __future__ import annotations

import numpy as np

from chainrule.optim.optimizer import (
    Optimizer,
    _check_flags,
    _check_nonneg,
    _lerp,
    _step_tensor,
    _value,
    _zeros_like,
)
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
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and "
                                 "foreach=True")
            if lr.numel() != 1:
                raise ValueError("Tensor lr must be 1-element")
        _check_nonneg("learning rate", lr)
        _check_nonneg("epsilon value", eps)
        betas = tuple(betas)
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas}")
        for i, beta in enumerate(betas):
            b = _value(beta)
            if isinstance(b, bool) or not isinstance(b, (int, float)) or not 0.0 <= b < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        _check_nonneg("weight_decay value", weight_decay)
        if not (all(isinstance(b, float) for b in betas)
                or all(isinstance(b, Tensor) for b in betas)):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas):
            if isinstance(beta, Tensor) and beta.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        _check_flags(type(self).__name__, foreach=foreach, fused=fused, capturable=capturable,
                     differentiable=differentiable)
        defaults = {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
            "capturable": capturable, "differentiable": differentiable, "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, eps, wd = _value(group["lr"]), _value(group["eps"]), _value(group["weight_decay"])
            beta1, beta2 = (_value(b) for b in group["betas"])
            amsgrad, maximize = group["amsgrad"], group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            for p, g in self._grads(group, type(self).__name__):
                a = p.array
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = _zeros_like(a)
                    state["exp_avg_sq"] = _zeros_like(a)
                    if amsgrad:
                        state["max_exp_avg_sq"] = _zeros_like(a)
                s1, s2 = self._buffers(p)
                if maximize:
                    g = np.negative(g, out=s1)
                step_t = state["step"].array
                step_t += 1
                if wd != 0:
                    if decoupled:
                        a *= 1 - lr * wd
                    else:
                        np.multiply(a, wd, out=s2)
                        g = np.add(g, s2, out=s1)
                m = state["exp_avg"].array
                v = state["exp_avg_sq"].array
                _lerp(m, g, 1 - beta1, s2)
                v *= beta2
                np.multiply(g, 1 - beta2, out=s2)
                s2 *= g
                v += s2

                step = float(step_t)
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                step_size = lr / bias_correction1
                bias_correction2_sqrt = bias_correction2**0.5
                if amsgrad:
                    vmax = state["max_exp_avg_sq"].array
                    np.maximum(vmax, v, out=vmax)
                    v = vmax
                denom = np.sqrt(v, out=s2)
                denom /= bias_correction2_sqrt
                denom += eps
                np.multiply(m, step_size, out=s1)
                s1 /= denom
                a -= s1
                p._version[0] += 1
        return loss


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
