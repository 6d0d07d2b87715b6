"""gradcheck / gradgradcheck: compare backward with central finite differences, in float64.

For f: inputs -> outputs, the Jacobian J[j, i] = d out_j / d in_i is built twice:
    analytical   row j = backward with upstream gradient e_j (one backward per output element)
    numerical    column i = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)
and compared elementwise: |a - n| <= atol + rtol |n|. The defaults (atol 1e-6, rtol 1e-5) are
tighter than PyTorch's (1e-5, 1e-3): float64 central differences with eps = 1e-6 are good to
~1e-9 relative on smooth functions, and at rtol 1e-3 a rule that is 0.1% off would pass.
For large inputs, whole Jacobians cost
too much, so random projections u^T J v are compared instead (a wrong rule still shows:
a random u and v are orthogonal to a nonzero error with probability 0).
"""

from __future__ import annotations

import numpy as np

_FULL_LIMIT = 4096  # Jacobians with more entries than this are checked by projections


class GradcheckError(RuntimeError):
    """Raised by gradcheck when backward and finite differences disagree."""


def _outputs(fn, inputs):
    from chainrule.tensor import Tensor

    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: the function must return Tensors, got "
                            f"{type(o).__name__}")
    return tuple(outs)


def _numeric_outputs(fn, inputs):
    from chainrule.autograd.grad_mode import no_grad

    with no_grad():
        return [o.array.astype(np.float64).copy() for o in _outputs(fn, inputs)]


def _fail(msg: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


def _name_of(fn, name):
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type):  # MyOp.apply: name the op, not "Function.apply"
        return name or owner.__qualname__
    return name or getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _where(flat_index, shape) -> tuple:
    return tuple(int(i) for i in np.unravel_index(flat_index, shape))


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-6, rtol: float = 1e-5,
              raise_exception: bool = True, fast_mode: bool = False, seed: int = 0,
              name: str | None = None, **_ignored) -> bool:
    """True if the gradients of func at inputs match central differences (float64)."""
    from chainrule.autograd import grad as autograd_grad
    from chainrule.tensor import Tensor

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    label = _name_of(func, name)
    diff = [k for k, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError(f"gradcheck({label}): no input requires grad; create at least one "
                         f"with requires_grad=True")
    for k in diff:
        if inputs[k].array.dtype != np.float64:
            raise ValueError(
                f"gradcheck({label}): input {k} is {inputs[k].dtype}; finite differences need "
                f"float64 inputs (use .double())"
            )
    outs = _outputs(func, inputs)
    rng = np.random.default_rng(seed)
    for j, out in enumerate(outs):
        if not out.requires_grad:
            continue
        for k in diff:
            x = inputs[k]
            entries = out.array.size * x.array.size
            if not fast_mode and entries <= _FULL_LIMIT:
                ok = _check_full(func, inputs, outs, j, k, eps, atol, rtol, label,
                                 raise_exception, autograd_grad)
            else:
                ok = _check_projected(func, inputs, outs, j, k, eps, atol, rtol, label,
                                      raise_exception, autograd_grad, rng)
            if not ok:
                return False
    return True


def _analytical_row(outs, j, x, upstream, autograd_grad):
    from chainrule.tensor import Tensor

    g = Tensor._make(upstream, None, 0, False)
    (gx,) = autograd_grad(outs[j], x, grad_outputs=g, retain_graph=True, allow_unused=True)
    return np.zeros(x.array.shape) if gx is None else gx.array.astype(np.float64)


def _check_full(func, inputs, outs, j, k, eps, atol, rtol, label, raise_exception, agrad):
    out, x = outs[j], inputs[k]
    n_out, n_in = out.array.size, x.array.size
    analytical = np.zeros((n_out, n_in))
    for r in range(n_out):
        e = np.zeros(out.array.size, dtype=out.array.dtype)
        e[r] = 1
        analytical[r] = _analytical_row(outs, j, x, e.reshape(out.array.shape), agrad).ravel()
    numerical = np.zeros((n_out, n_in))
    flat = x.array.reshape(-1)  # a view: writing it perturbs the input in place
    if not np.shares_memory(flat, x.array):
        raise ValueError(f"gradcheck({label}): input {k} must be contiguous")
    for i in range(n_in):
        orig = flat[i]
        flat[i] = orig + eps
        plus = _numeric_outputs(func, inputs)[j]
        flat[i] = orig - eps
        minus = _numeric_outputs(func, inputs)[j]
        flat[i] = orig
        numerical[:, i] = ((plus - minus) / (2 * eps)).ravel()
    bad = ~np.isclose(analytical, numerical, rtol=rtol, atol=atol, equal_nan=True)
    if bad.any():
        r, i = np.argwhere(bad)[np.argmax(np.abs(analytical - numerical)[bad])]
        return _fail(
            f"Jacobian mismatch for output {j} with respect to input {k} of {label}: at "
            f"(output element {_where(r, out.array.shape)}, input element "
            f"{_where(i, x.array.shape)}) numerical {float(numerical[r, i])!r} but "
            f"analytical {float(analytical[r, i])!r} ({int(bad.sum())} of {bad.size} entries "
            f"differ; atol={atol}, rtol={rtol})\nnumerical:\n{numerical}\n"
            f"analytical:\n{analytical}", raise_exception)
    return True


def _check_projected(func, inputs, outs, j, k, eps, atol, rtol, label, raise_exception, agrad,
                     rng, trials: int = 3):
    out, x = outs[j], inputs[k]
    for _ in range(trials):
        u = rng.standard_normal(out.array.shape).astype(out.array.dtype)
        v = rng.standard_normal(x.array.shape)
        analytical = float(np.sum(_analytical_row(outs, j, x, u, agrad) * v))
        orig = x.array.copy()
        x.array[...] = orig + eps * v
        plus = _numeric_outputs(func, inputs)[j]
        x.array[...] = orig - eps * v
        minus = _numeric_outputs(func, inputs)[j]
        x.array[...] = orig
        numerical = float(np.sum((plus - minus) / (2 * eps) * u))
        if not np.isclose(analytical, numerical, rtol=rtol, atol=atol * np.sqrt(u.size)):
            return _fail(
                f"Jacobian mismatch for output {j} with respect to input {k} of {label} "
                f"(random projection u^T J v over {out.array.size}x{x.array.size} entries): "
                f"numerical {numerical!r} but analytical {analytical!r}", raise_exception)
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-6,
                  rtol: float = 1e-5, raise_exception: bool = True, seed: int = 0,
                  name: str | None = None, fast_mode: bool = False, **_ignored) -> bool:
    """gradcheck of the first derivatives: checks the second-order rules (backward of backward).

    The function checked is (inputs, upstream) -> autograd.grad(func(inputs), inputs, upstream,
    create_graph=True); upstream gradients are random unless given.
    """
    from chainrule.autograd import grad as autograd_grad
    from chainrule.tensor import Tensor

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    label = _name_of(func, name)
    outs = _outputs(func, inputs)
    rng = np.random.default_rng(seed)
    if grad_outputs is None:
        grad_outputs = tuple(
            Tensor._make(rng.standard_normal(o.array.shape), None, 0, True)
            for o in outs if o.requires_grad
        )
    else:
        grad_outputs = tuple(grad_outputs) if isinstance(grad_outputs, (tuple, list)) \
            else (grad_outputs,)
    diff = [k for k, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    n = len(inputs)

    def first_derivatives(*args):
        from chainrule.autograd.grad_mode import enable_grad

        ins, ups = args[:n], args[n:]
        # gradcheck evaluates this under no_grad for finite differences; the first
        # derivatives still need a graph to differentiate
        with enable_grad():
            res = _outputs(func, ins)
            res = [o for o in res if o.requires_grad]
            grads = autograd_grad(res, [ins[k] for k in diff], grad_outputs=list(ups),
                                  create_graph=True, allow_unused=True)
        from chainrule import zeros_like

        return tuple(zeros_like(ins[k]) if g is None else g for k, g in zip(diff, grads))

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, fast_mode=fast_mode, seed=seed,
                     name=f"gradgrad of {label}")
