"""gradcheck / gradgradcheck: compare backward with central finite differences, in float64.

This is the one finite-difference checker: `gradcheck`, `gradgradcheck` and
`autograd.check_op` all call `compare_jacobians`, and differ only in how they report.

For f: inputs -> outputs, the Jacobian J[j, i] = d out_j / d in_i is built twice:
    analytical   row j = backward with upstream gradient e_j (one backward per output element)
    numerical    column i = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)
and compared elementwise: |a - n| <= atol + rtol |n|. The defaults (atol 1e-6, rtol 1e-5) are
tighter than PyTorch's (1e-5, 1e-3): float64 central differences with eps = 1e-6 are good to
~1e-9 relative on smooth functions, and at rtol 1e-3 a rule that is 0.1% off would pass.
Each input is perturbed in place through its own strides, so a strided input is checked as
such. For large inputs, whole Jacobians cost too much, so random projections u^T J v are
compared instead, one input at a time (a wrong rule still shows: a random u and v are
orthogonal to a nonzero error with probability 0), with atol scaled by sqrt(u.size).
A float output that does not require grad claims to be constant: its analytical Jacobian is 0,
and finite differences must agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Jacobians with more entries than this (all outputs by all checked inputs) are compared by
# projections: the full one costs one backward per output element and two forwards per input
# element.
_FULL_LIMIT = 20000


class GradcheckError(RuntimeError):
    """Raised by gradcheck when backward and finite differences disagree."""


@dataclass(frozen=True)
class Mismatch:
    """Where backward and finite differences disagree: the entry that misses the tolerance
    by the widest margin, or the random projection that missed it."""

    output: int | None  # position among the function's outputs (None: a projection over several)
    input: int  # position among the function's inputs
    out_element: tuple | None  # the entry's indices; None for a projection
    in_element: tuple | None
    analytical: float
    numerical: float
    n_bad: int  # entries that differ (1 for a projection)
    n_entries: int  # entries of the whole Jacobian
    block: tuple | None = None  # (analytical, numerical) of the (output, input) block

    @property
    def projected(self) -> bool:
        return self.out_element is None


def _outputs(fn, inputs) -> tuple:
    from chainrule.tensor import Tensor

    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: the function must return Tensors, got "
                            f"{type(o).__name__}")
    return tuple(outs)


def _evaluate(fn, inputs, positions) -> list:
    """The float outputs at `positions`, as float64 arrays, without recording a graph."""
    from chainrule.autograd.grad_mode import no_grad

    with no_grad():
        outs = _outputs(fn, inputs)
    return [outs[j].array.astype(np.float64) for j in positions]


def compare_jacobians(fn, inputs: tuple, diff: list, *, eps: float, atol: float, rtol: float,
                      fast_mode: bool = False, rng=None) -> Mismatch | None:
    """None when fn's backward matches central differences with respect to inputs[diff]."""
    from chainrule.autograd.grad_mode import enable_grad

    with enable_grad():
        outs = _outputs(fn, inputs)
    positions = [j for j, o in enumerate(outs) if o.array.dtype.kind == "f"]
    n_out = sum(outs[j].array.size for j in positions)
    n_in = sum(inputs[k].array.size for k in diff)
    if fast_mode or n_out * n_in > _FULL_LIMIT:
        rng = np.random.default_rng(0) if rng is None else rng
        return _projected(fn, inputs, outs, positions, diff, eps, atol, rtol, rng)
    analytical = _analytical([outs[j] for j in positions], [inputs[k] for k in diff])
    numerical = _numerical(fn, inputs, positions, diff, eps,
                           [outs[j].array.size for j in positions])
    return _worst(analytical, numerical, outs, positions, inputs, diff, atol, rtol)


def _analytical(outs: list, xs: list) -> list:
    """J[j][m]: (outs[j].size, xs[m].size), row r = the backward of the unit vector e_r."""
    from chainrule.autograd import grad as autograd_grad
    from chainrule.tensor import Tensor

    jac = [[np.zeros((o.array.size, x.array.size)) for x in xs] for o in outs]
    for j, o in enumerate(outs):
        if not o.requires_grad:
            continue  # no graph: the function claims this output is constant
        for r in range(o.array.size):
            e = np.zeros(o.array.shape, dtype=o.array.dtype)
            e.reshape(-1)[r] = 1
            grads = autograd_grad(o, xs, grad_outputs=Tensor._make(e, None, 0, False),
                                  retain_graph=True, allow_unused=True)
            for m, g in enumerate(grads):
                if g is not None:
                    jac[j][m][r] = g.array.reshape(-1)
    return jac


def _numerical(fn, inputs: tuple, positions: list, diff: list, eps: float, sizes: list) -> list:
    """J[j][m] by central differences, each input element perturbed in place (any strides)."""
    jac = [[np.zeros((size, inputs[k].array.size)) for k in diff] for size in sizes]
    for m, k in enumerate(diff):
        arr = inputs[k].array
        for i, idx in enumerate(np.ndindex(arr.shape)):
            orig = arr[idx]
            arr[idx] = orig + eps
            plus = _evaluate(fn, inputs, positions)
            arr[idx] = orig - eps
            minus = _evaluate(fn, inputs, positions)
            arr[idx] = orig
            for j in range(len(positions)):
                jac[j][m][:, i] = ((plus[j] - minus[j]) / (2 * eps)).reshape(-1)
    return jac


def _worst(analytical, numerical, outs, positions, inputs, diff, atol, rtol) -> Mismatch | None:
    """The entry whose |a - n| exceeds atol + rtol |n| by the largest factor (nan: the worst)."""
    worst, score, n_bad = None, -1.0, 0
    for jj, j in enumerate(positions):
        for m, k in enumerate(diff):
            a, nu = analytical[jj][m], numerical[jj][m]
            bad = ~np.isclose(a, nu, rtol=rtol, atol=atol, equal_nan=True)
            if not bad.any():
                continue
            n_bad += int(bad.sum())
            margin = np.where(bad, np.abs(a - nu) / (atol + rtol * np.abs(nu)), -1.0)
            margin = np.where(np.isnan(margin), np.inf, margin)
            r, i = np.unravel_index(int(np.argmax(margin)), margin.shape)
            if margin[r, i] > score:
                score = margin[r, i]
                worst = (j, k, _element(r, outs[j].shape), _element(i, inputs[k].shape),
                         float(a[r, i]), float(nu[r, i]), (a, nu))
    if worst is None:
        return None
    n_entries = (sum(outs[j].array.size for j in positions)
                 * sum(inputs[k].array.size for k in diff))
    j, k, out_el, in_el, a, nu, block = worst
    return Mismatch(j, k, out_el, in_el, a, nu, n_bad, n_entries, block)


def _element(flat: int, shape) -> tuple:
    return tuple(int(i) for i in np.unravel_index(flat, tuple(shape)))


def _projected(fn, inputs, outs, positions, diff, eps, atol, rtol, rng,
               trials: int = 3) -> Mismatch | None:
    """For big Jacobians: u^T J v for random u (over all outputs) and v (one input at a time)."""
    from chainrule.autograd import grad as autograd_grad
    from chainrule.tensor import Tensor

    live = [j for j in positions if outs[j].requires_grad]
    xs = [inputs[k] for k in diff]
    n_entries = sum(outs[j].array.size for j in positions) * sum(x.array.size for x in xs)
    for _ in range(trials):
        us = {j: rng.standard_normal(outs[j].shape).astype(outs[j].array.dtype)
              for j in positions}
        grads = [None] * len(xs)
        if live:
            grads = autograd_grad([outs[j] for j in live], xs, grad_outputs=[
                Tensor._make(us[j], None, 0, False) for j in live], retain_graph=True,
                allow_unused=True)
        scale = np.sqrt(sum(u.size for u in us.values()))
        for x, k, g in zip(xs, diff, grads):
            v = rng.standard_normal(x.array.shape)
            analytical = 0.0 if g is None else float(np.sum(g.array * v))
            orig = x.array.copy()
            x.array[...] = orig + eps * v
            plus = _evaluate(fn, inputs, positions)
            x.array[...] = orig - eps * v
            minus = _evaluate(fn, inputs, positions)
            x.array[...] = orig
            numerical = sum(float(np.sum((p - q) / (2 * eps) * us[j]))
                            for p, q, j in zip(plus, minus, positions))
            if not np.isclose(analytical, numerical, rtol=rtol, atol=atol * scale):
                output = positions[0] if len(positions) == 1 else None
                return Mismatch(output, k, None, None, analytical, numerical, 1, n_entries)
    return None


# ---------------------------------------------------------------------------- the public API
def _fail(msg: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


# PyTorch's other keyword arguments, each with the values under which this checker makes the
# check PyTorch's would make. Any other value asks for a check that is not made here (batched
# gradients, forward-mode AD, undefined gradients), so it raises rather than pass silently.
_TORCH_OPTIONS = {
    "nondet_tol": None,  # any value: chainrule's backward is deterministic
    "check_undefined_grad": (False,), "check_grad_dtypes": (False,),
    "check_batched_grad": (False,), "check_batched_forward_grad": (False,),
    "check_forward_ad": (False,), "check_fwd_over_rev": (False,), "check_backward_ad": (True,),
    "check_rev_over_rev": (True,), "gen_non_contig_grad_outputs": (False,),
    "masked": (None, False),
}


def _check_options(label: str, options: dict) -> None:
    for key, value in options.items():
        if key not in _TORCH_OPTIONS:
            raise TypeError(f"gradcheck({label}): unexpected keyword argument {key!r}")
        allowed = _TORCH_OPTIONS[key]
        if allowed is not None and value not in allowed:
            raise NotImplementedError(
                f"gradcheck({label}): {key}={value!r} is not implemented: this gradcheck "
                f"compares backward with central differences only; leave {key} out (or pass "
                f"{allowed[0]!r})")


def _name_of(fn, name):
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type):  # MyOp.apply: name the op, not "Function.apply"
        return name or owner.__qualname__
    return name or getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _message(mm: Mismatch, label: str, atol: float, rtol: float) -> str:
    what = "outputs" if mm.output is None else f"output {mm.output}"
    head = f"Jacobian mismatch for {what} with respect to input {mm.input} of {label}"
    if mm.projected:
        return (f"{head} (random projection u^T J v over {mm.n_entries} Jacobian entries): "
                f"numerical {mm.numerical!r} but analytical {mm.analytical!r}")
    analytical, numerical = mm.block
    return (f"{head}: at (output element {mm.out_element}, input element {mm.in_element}) "
            f"numerical {mm.numerical!r} but analytical {mm.analytical!r} ({mm.n_bad} of "
            f"{mm.n_entries} entries differ; atol={atol}, rtol={rtol})\nnumerical:\n"
            f"{numerical}\nanalytical:\n{analytical}")


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-6, rtol: float = 1e-5,
              raise_exception: bool = True, fast_mode: bool = False, seed: int = 0,
              name: str | None = None, **torch_options) -> bool:
    """True if the gradients of func at inputs match central differences (float64).

    PyTorch's other options are accepted where they ask for no other check (see
    _TORCH_OPTIONS); one that does raises NotImplementedError."""
    from chainrule.tensor import Tensor

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    label = _name_of(func, name)
    _check_options(label, torch_options)
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
    mm = compare_jacobians(func, inputs, diff, eps=eps, atol=atol, rtol=rtol,
                           fast_mode=fast_mode, rng=np.random.default_rng(seed))
    return True if mm is None else _fail(_message(mm, label, atol, rtol), raise_exception)


def first_derivatives(func, n_args: int, diff: list):
    """The map (inputs, upstream) -> autograd.grad(func(inputs), inputs[diff], upstream,
    create_graph=True): what a second-order check differentiates. An unused input's gradient
    is zeros."""
    from chainrule import zeros_like
    from chainrule.autograd import grad as autograd_grad
    from chainrule.autograd.grad_mode import enable_grad

    def first(*args):
        ins, ups = args[:n_args], args[n_args:]
        # finite differences evaluate this under no_grad; the first derivatives still need a
        # graph to differentiate
        with enable_grad():
            res = [o for o in _outputs(func, ins) if o.requires_grad]
            grads = autograd_grad(res, [ins[k] for k in diff], grad_outputs=list(ups),
                                  create_graph=True, allow_unused=True)
        return tuple(zeros_like(ins[k]) if g is None else g for k, g in zip(diff, grads))

    return first


def random_upstream(func, inputs, rng) -> tuple:
    """A random upstream gradient (requiring grad) for each output of func that requires grad."""
    from chainrule.autograd.grad_mode import enable_grad
    from chainrule.tensor import Tensor

    with enable_grad():
        outs = [o for o in _outputs(func, inputs) if o.requires_grad]
    return tuple(Tensor._make(rng.standard_normal(o.array.shape).astype(o.array.dtype), None,
                              0, True) for o in outs)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-6,
                  rtol: float = 1e-5, raise_exception: bool = True, seed: int = 0,
                  name: str | None = None, fast_mode: bool = False, **torch_options) -> bool:
    """gradcheck of the first derivatives: checks the second-order rules (backward of backward).

    The function checked is (inputs, upstream) -> autograd.grad(func(inputs), inputs, upstream,
    create_graph=True); upstream gradients are random unless given.
    """
    from chainrule.tensor import Tensor

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    label = _name_of(func, name)
    _check_options(label, torch_options)
    if grad_outputs is None:
        grad_outputs = random_upstream(func, inputs, np.random.default_rng(seed))
    elif not isinstance(grad_outputs, (tuple, list)):
        grad_outputs = (grad_outputs,)
    diff = [k for k, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    first = first_derivatives(func, len(inputs), diff)
    return gradcheck(first, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, fast_mode=fast_mode, seed=seed,
                     name=f"gradgrad of {label}")
