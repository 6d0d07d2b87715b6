"""L-BFGS: quasi-Newton steps from a short history of gradient changes, with an optional
strong-Wolfe line search (torch.optim.LBFGS, ported line by line, on flat NumPy vectors)."""

from __future__ import annotations

import numpy as np

from chainrule.autograd.grad_mode import enable_grad, no_grad
from chainrule.optim.optimizer import Optimizer, _lr_value
from chainrule.tensor import Tensor

__all__ = ["LBFGS"]

# the run's memory, kept in the state of the first parameter under torch's names
_MEMORY = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "prev_loss")


def _wrap(x):
    """NumPy arrays and scalars -> Tensors for the state (torch keeps tensors there)."""
    if isinstance(x, (np.ndarray, np.generic)):
        return Tensor._make(np.asarray(x), None, 0, False)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


def _unwrap(x):
    """The inverse of _wrap: a 0-d Tensor gives a NumPy scalar of its dtype."""
    if isinstance(x, Tensor):
        return x.array[()] if x.array.ndim == 0 else x.array
    if isinstance(x, list):
        return [_unwrap(v) for v in x]
    return x


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimiser of the cubic through (x1, f1, slope g1) and (x2, f2, slope g2), in bounds:
        d1 = g1 + g2 - 3 (f1 - f2) / (x1 - x2);   d2 = sqrt(d1**2 - g1 g2)
        x  = x2 - (x2 - x1) (g2 + d2 - d1) / (g2 - g1 + 2 d2)    (x2 the farther point)
    and the bounds' midpoint when the cubic has no minimum (d1**2 < g1 g2)."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """Line search along d from x: a step t with sufficient decrease (Armijo, c1) and a
    small slope (|g(t).d| <= c2 |g(0).d|). Returns (f_new, g_new, t, function evaluations)."""
    f_new, g_new = obj_func(x, t, d)
    ls = {"evals": 1, "iter": 0, "max": max_ls, "done": False}
    bracket = _bracket(obj_func, x, t, d, f, g, gtd, f_new, g_new, c1, c2, ls)
    return _zoom(obj_func, x, d, f, gtd, bracket, c1, c2, tolerance_change, ls)


def _bracket(obj_func, x, t, d, f, g, gtd, f_new, g_new, c1, c2, ls):
    """Grow t until [t_prev, t] brackets a point meeting the Wolfe conditions (or t does)."""
    gtd_new = np.dot(g_new, d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    while ls["iter"] < ls["max"]:
        if f_new > (f + c1 * t * gtd) or (ls["iter"] > 1 and f_new >= f_prev):
            return [[t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev, gtd_new]]
        if abs(gtd_new) <= -c2 * gtd:
            ls["done"] = True
            return [[t], [f_new], [g_new], None]
        if gtd_new >= 0:
            return [[t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev, gtd_new]]
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new, gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls["evals"] += 1
        gtd_new = np.dot(g_new, d)
        ls["iter"] += 1
    return [[0, t], [f, f_new], [g, g_new], None]     # out of evaluations


def _zoom(obj_func, x, d, f, gtd, bracket, c1, c2, tolerance_change, ls):
    """Shrink the bracket by cubic interpolation until a point meets the Wolfe conditions."""
    b, bf, bg, bgtd = bracket
    d_norm = np.abs(d).max()
    insuf_progress = False
    low, high = (0, 1) if bf[0] <= bf[-1] else (1, 0)
    while not ls["done"] and ls["iter"] < ls["max"]:
        if abs(b[1] - b[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(b[0], bf[0], bgtd[0], b[1], bf[1], bgtd[1])
        # a trial too near an end moves 10% of the bracket inside it, on the second try
        eps = 0.1 * (max(b) - min(b))
        if min(max(b) - t, t - min(b)) < eps:
            if insuf_progress or t >= max(b) or t <= min(b):
                t = max(b) - eps if abs(t - max(b)) < abs(t - min(b)) else min(b) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls["evals"] += 1
        gtd_new = np.dot(g_new, d)
        ls["iter"] += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bf[low]:
            b[high], bf[high], bg[high], bgtd[high] = t, f_new, g_new, gtd_new
            low, high = (0, 1) if bf[0] <= bf[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                ls["done"] = True
            elif gtd_new * (b[high] - b[low]) >= 0:
                b[high], bf[high], bg[high], bgtd[high] = b[low], bf[low], bg[low], bgtd[low]
            b[low], bf[low], bg[low], bgtd[low] = t, f_new, g_new, gtd_new
    return bf[low], bg[low], b[low], ls["evals"]


class LBFGS(Optimizer):
    """L-BFGS (torch.optim.LBFGS): each `step(closure)` runs up to max_iter iterations.

    One iteration, on the parameters flattened into one vector x with gradient g:
        y = g - g_prev,  s = t_prev * d_prev              (when y.s > 1e-10 they join the
                                                           history, at most history_size pairs)
        d = -H g   by the two-loop recursion over the history, with H0 = (y.s / y.y) I
        d = -g                                            on the very first iteration
        t = min(1, 1 / sum|g|) * lr  on the first iteration, lr after
        t = strong_wolfe(x, t, d)                         if line_search_fn == 'strong_wolfe'
        x = x + t d
    stops: max_iter iterations, max_eval closure calls, max|g| <= tolerance_grad,
           g.d > -tolerance_change, max|t d| <= tolerance_change, or a loss change below
           tolerance_change.
    state:  all in the state of the first parameter, with torch's names: func_evals, n_iter,
            al, d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, prev_loss
    closure: re-evaluates the model, calls backward() and returns the loss; it runs with
            grad enabled, several times per step. One parameter group only, as in torch.
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr, "max_iter": max_iter, "max_eval": max_eval,
            "tolerance_grad": tolerance_grad, "tolerance_change": tolerance_change,
            "history_size": history_size, "line_search_fn": line_search_fn,
        }
        self._check_options(defaults)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._params = self.param_groups[0]["params"]

    # -------------------------------------------------------------- flat views
    def _gather_flat_grad(self) -> np.ndarray:
        """All gradients as one new vector (zeros for a parameter without .grad)."""
        return np.concatenate([np.zeros(p.array.size, p.array.dtype) if p.grad is None
                               else p.grad.array.reshape(-1) for p in self._params])

    def _add_grad(self, step_size, update: np.ndarray) -> None:
        """x = x + step_size * update, parameter by parameter."""
        offset = 0
        for p in self._params:
            n = p.array.size
            p.array += update[offset:offset + n].reshape(p.array.shape) * step_size
            p._version[0] += 1
            offset += n

    def _set_param(self, arrays) -> None:
        for p, a in zip(self._params, arrays):
            np.copyto(p.array, a)
            p._version[0] += 1

    def _directional_evaluate(self, closure, x, t, d):
        """(loss, gradient) at x + t d; the parameters go back to x afterwards."""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # -------------------------------------------------------------- the step
    def step(self, closure):
        """Up to max_iter L-BFGS iterations; returns the closure's first loss."""
        with no_grad():
            return self._run(enable_grad()(closure), self.param_groups[0])

    def _run(self, closure, group):
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = closure()
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if np.abs(flat_grad).max() <= group["tolerance_grad"]:
            return orig_loss
        mem = {k: _unwrap(state.get(k)) for k in _MEMORY + ("al",)}
        n_iter = 0
        while n_iter < group["max_iter"]:
            n_iter += 1
            state["n_iter"] += 1
            self._direction(state, mem, flat_grad, group["history_size"])
            if mem["prev_flat_grad"] is None:
                mem["prev_flat_grad"] = flat_grad.copy()
            else:
                np.copyto(mem["prev_flat_grad"], flat_grad)
            mem["prev_loss"] = loss
            lr = _lr_value(group["lr"])
            t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
            mem["t"] = t
            gtd = np.dot(flat_grad, mem["d"])
            if gtd > -group["tolerance_change"]:
                break
            loss, flat_grad, done, ls_evals = self._move(closure, group, mem, loss, flat_grad,
                                                         gtd, n_iter, evals)
            evals += ls_evals
            state["func_evals"] += ls_evals
            if (done or n_iter == group["max_iter"] or evals >= group["max_eval"]
                    or np.abs(mem["d"] * mem["t"]).max() <= group["tolerance_change"]
                    or abs(loss - mem["prev_loss"]) < group["tolerance_change"]):
                break
        for k in _MEMORY:
            state[k] = _wrap(mem[k])
        if mem["al"] is not None:
            state["al"] = _wrap(mem["al"])
        return orig_loss

    def _direction(self, state, mem, flat_grad, history_size) -> None:
        """mem['d'] = -H g from the history (updated with the last step's s and y first)."""
        if state["n_iter"] == 1:
            mem.update(d=-flat_grad, old_dirs=[], old_stps=[], ro=[], H_diag=1)
            return
        y = flat_grad - mem["prev_flat_grad"]
        s = mem["d"] * mem["t"]
        ys = np.dot(y, s)
        old_dirs, old_stps, ro = mem["old_dirs"], mem["old_stps"], mem["ro"]
        if ys > 1e-10:
            if len(old_dirs) == history_size:      # forget the oldest pair
                old_dirs.pop(0)
                old_stps.pop(0)
                ro.pop(0)
            old_dirs.append(y)
            old_stps.append(s)
            ro.append(1.0 / ys)
            mem["H_diag"] = ys / np.dot(y, y)
        if mem["al"] is None:
            mem["al"] = state["al"] = [None] * history_size
        al = mem["al"]
        q = -flat_grad
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = np.dot(old_stps[i], q) * ro[i]
            q -= old_dirs[i] * al[i]
        r = q * mem["H_diag"]
        for i in range(len(old_dirs)):
            be_i = np.dot(old_dirs[i], r) * ro[i]
            r += old_stps[i] * (al[i] - be_i)
        mem["d"] = r

    def _move(self, closure, group, mem, loss, flat_grad, gtd, n_iter, evals):
        """x = x + t d, t from the line search or fixed; returns the new loss and gradient,
        whether the gradient is small enough to stop, and the closure calls made."""
        d, t = mem["d"], mem["t"]
        if group["line_search_fn"] is not None:
            if group["line_search_fn"] != "strong_wolfe":
                raise RuntimeError("only 'strong_wolfe' is supported")
            x_init = [p.array.copy() for p in self._params]

            def obj_func(x, t, d):
                return self._directional_evaluate(closure, x, t, d)

            loss, flat_grad, t, ls_evals = _strong_wolfe(
                obj_func, x_init, t, d, loss, flat_grad, gtd,
                max_ls=group["max_eval"] - evals)
            mem["t"] = t
            self._add_grad(t, d)
            return loss, flat_grad, np.abs(flat_grad).max() <= group["tolerance_grad"], ls_evals
        self._add_grad(t, d)
        if n_iter == group["max_iter"]:   # no use re-evaluating after the last iteration
            return loss, flat_grad, False, 0
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        return loss, flat_grad, np.abs(flat_grad).max() <= group["tolerance_grad"], 1
