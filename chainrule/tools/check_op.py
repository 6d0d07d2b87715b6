"""check_op: one call that checks a user's op - forward, gradient and second derivative.

    report = check_op(MyDiv, (3, 4), (3, 4))        # one shape per input
    print(report)                                   # a table: what passed, the worst failure

Each variant of the sample shapes is run three ways, in float64:
    forward        runs, returns float Tensors that carry a graph, finite values, leaves its
                   inputs unchanged (and, for strided inputs, gives what contiguous ones give)
    gradcheck      the Jacobian from backward equals central differences, entry by entry
    gradgradcheck  the same for the map (inputs, upstream) -> gradients (backward of backward)
Variants: the shapes as given; broadcast ones (of two inputs with equal shapes, one shrunk by
dropping leading axes or setting an axis to 1); all inputs 0-d; all axes of size 1; strided
(non-contiguous) inputs. A variant the op rejects at forward time, or where it has no finite
value (var() of one element), is skipped as "not applicable": an op need not accept every
shape, but one it accepts must differentiate correctly. If the given shapes fail, nothing else
is run.

The Jacobians are gradcheck's (autograd.gradcheck.compare_jacobians, the one checker):
J[j, i] = d out_j / d in_i, analytical row j = backward of e_j, numerical column
i = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps), compared as |a - n| <= atol + rtol |n|, and
a failure here names its worst element by the op's own input names (b[1], grad_x[0, 2]).
Inputs are perturbed in place through their own strides, so strided inputs are checked as such.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass

import numpy as np

from chainrule.autograd.function import Function
from chainrule.autograd.gradcheck import (
    GradcheckError,
    compare_jacobians,
    first_derivatives,
    random_upstream,
)

_PASSED, _FAILED, _SKIPPED = "passed", "failed", "skipped"


@dataclass(frozen=True)
class Worst:
    """The entry of a Jacobian that misses its tolerance by the widest margin."""

    output: str  # e.g. "out[0, 1]"  (for gradgradcheck: "grad_b[1]")
    input: str  # e.g. "b[1]"
    analytical: float
    numerical: float

    @property
    def abs_err(self) -> float:
        return abs(self.analytical - self.numerical)

    @property
    def rel_err(self) -> float:
        return self.abs_err / abs(self.numerical) if self.numerical != 0 else float("inf")

    def __str__(self) -> str:
        return (f"d {self.output} / d {self.input}: analytical {self.analytical:.10g} vs "
                f"numerical {self.numerical:.10g} (abs err {self.abs_err:.3g}, rel err "
                f"{self.rel_err:.3g})")


@dataclass(frozen=True)
class CheckResult:
    """One row of the report: a check of one variant."""

    variant: str
    shapes: tuple
    check: str  # "forward", "gradcheck" or "gradgradcheck"
    status: str  # "passed", "failed" or "skipped"
    detail: str = ""
    worst: Worst | None = None


class CheckReport:
    """What check_op found: `.results` (CheckResult rows), `.passed`, a table as str()."""

    def __init__(self, name: str, results: list, notes: list):
        self.name, self.results, self.notes = name, results, notes

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def failures(self) -> list:
        return [r for r in self.results if r.status == _FAILED]

    def __bool__(self) -> bool:
        return self.passed

    def __iter__(self):
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def summary(self) -> str:
        count = {s: sum(r.status == s for r in self.results) for s in (_PASSED, _FAILED, _SKIPPED)}
        verdict = "passed" if self.passed else "FAILED"
        return (f"check_op({self.name}): {verdict} - {count[_PASSED]} passed, "
                f"{count[_FAILED]} failed, {count[_SKIPPED]} skipped")

    def __str__(self) -> str:
        head = ("variant", "shapes", "check", "status", "detail")
        rows = [(r.variant, _fmt_shapes(r.shapes), r.check, r.status, r.detail)
                for r in self.results]
        widths = [max(len(row[c]) for row in rows + [head]) for c in range(4)]

        def line(row):
            return "  ".join(v.ljust(w) for v, w in zip(row[:4], widths)) + "  " + row[4]

        lines = [self.summary(), line(head).rstrip()]
        lines += [line(row).rstrip() for row in rows]
        lines += [f"note: {n}" for n in self.notes]
        if self.failures:
            lines.append("failures:")
            lines += [f"  {r.variant} {_fmt_shapes(r.shapes)} {r.check}: {r.detail}"
                      for r in self.failures]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """The table in Jupyter, failures in red."""
        from html import escape

        colour = {_PASSED: "#1a7f37", _FAILED: "#cf222e", _SKIPPED: "#6e7781"}
        cells = "".join(
            f"<tr><td>{escape(r.variant)}</td><td><code>{escape(_fmt_shapes(r.shapes))}</code>"
            f"</td><td>{r.check}</td><td style='color:{colour[r.status]}'>{r.status}</td>"
            f"<td>{escape(r.detail)}</td></tr>" for r in self.results)
        notes = "".join(f"<li>{escape(n)}</li>" for n in self.notes)
        return (f"<p><b>{escape(self.summary())}</b></p><table><tr><th>variant</th>"
                f"<th>shapes</th><th>check</th><th>status</th><th>detail</th></tr>{cells}"
                f"</table>" + (f"<ul>{notes}</ul>" if notes else ""))


def check_op(op, *sample_shapes, dtype=None, seed: int = 0, raise_exception: bool = False,
             eps: float | None = None, atol: float | None = None, rtol: float | None = None,
             domain=None, name: str | None = None) -> CheckReport:
    """Check `op` (a Function subclass or a callable taking Tensors) on the sample shapes.

    sample_shapes: one shape tuple per input (`check_op(MyDiv, (3, 4), (3, 4))`); anything
        else (a number, an index Tensor) is passed to the op unchanged, as a constant.
    domain: where inputs are drawn from: (lo, hi), a function (rng, shape) -> ndarray, or a
        list of those per input. By default |x| in [0.5, 1.5] with random signs, or positive
        only when the op gives nan/inf on negative inputs.
    raise_exception: raise GradcheckError (with `.report`) when a check fails.
    eps, atol, rtol: finite-difference step and tolerances (gradcheck's: 1e-6, 1e-6, 1e-5).
    """
    ctx = _context(op, sample_shapes, dtype, seed, eps, atol, rtol, domain, name)
    results, notes = _run_all(ctx, explicit_domain=domain is not None)
    report = CheckReport(ctx.label, results, notes)
    if raise_exception and not report.passed:
        err = GradcheckError(str(report))
        err.report = report
        raise err
    return report


def _context(op, sample_shapes, dtype, seed, eps, atol, rtol, domain, name) -> _Context:
    """The checked call, its inputs and tolerances, after the arguments are validated."""
    from chainrule import dtypes

    np_dtype = np.dtype(np.float64) if dtype is None else dtypes.to_numpy_dtype(dtype)
    if np_dtype.kind != "f":
        raise TypeError(f"check_op: dtype must be a floating dtype, got {dtype}")
    fn = op.apply if isinstance(op, type) and issubclass(op, Function) else op
    if not callable(fn):
        raise TypeError(f"check_op: op must be a Function subclass or a callable, got "
                        f"{type(op).__name__}")
    label = name or _op_name(op)
    slots = [k for k, s in enumerate(sample_shapes) if _is_shape(s)]
    if not slots:
        raise ValueError(f"check_op({label}): give one shape tuple per tensor input, e.g. "
                         f"check_op(op, (3, 4), (3, 4)); got {sample_shapes!r}")
    names = _input_names(op, len(sample_shapes))
    # gradcheck's tolerances unless given
    return _Context(fn, label, sample_shapes, slots, names, np_dtype, seed,
                    1e-6 if eps is None else eps, 1e-6 if atol is None else atol,
                    1e-5 if rtol is None else rtol, _domains(domain, len(slots), label))


def _run_all(ctx: _Context, explicit_domain: bool) -> tuple:
    """(results, notes): the given shapes, then every variant if the given shapes pass."""
    from chainrule.autograd.grad_mode import enable_grad

    shapes = tuple(tuple(int(d) for d in ctx.args[k]) for k in ctx.slots)
    notes, results = [], []
    # the op's warnings are collected into the notes, once each, rather than repeated for
    # every one of the hundreds of evaluations
    with enable_grad(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        given = _run_variant(ctx, 0, "given", shapes, strided=False, required=True)
        if not explicit_domain and given.nonfinite:
            ctx.draw = _domains((0.5, 1.5), len(ctx.slots), ctx.label)
            notes.append("inputs drawn from [0.5, 1.5]: the op gives nan/inf on negative ones")
            caught.clear()
            given = _run_variant(ctx, 0, "given", shapes, strided=False, required=True)
        results += given.rows
        variants = _variants(shapes, ctx) if given.rows[0].status == _PASSED else []
        if not variants and given.rows[0].status != _PASSED:
            notes.append("the other variants were not run: forward fails on the given shapes")
        if ctx.dtype != np.float64:
            notes.append(f"gradients not checked: finite differences need float64, not "
                         f"{ctx.dtype}")
        for n, (variant, vshapes, strided) in enumerate(variants, start=1):
            results += _run_variant(ctx, n, variant, vshapes, strided, required=False).rows
    seen = set()
    for w in caught:
        key = (w.category.__name__, str(w.message))
        if key not in seen:
            seen.add(key)
            notes.append(f"the op warned: {key[0]}: {key[1]}")
    return results, notes


# ---------------------------------------------------------------------------------- inputs
@dataclass
class _Context:
    fn: object
    label: str  # the op's name in the report
    args: tuple  # sample_shapes as given: shapes and constants
    slots: list  # positions of the tensor inputs in args
    names: list  # a name per arg
    dtype: np.dtype
    seed: int
    eps: float
    atol: float
    rtol: float
    draw: list  # a sampler (rng, shape) -> ndarray per tensor input


def _is_shape(s) -> bool:
    return isinstance(s, (tuple, list)) and all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in s)


def _op_name(op) -> str:
    return getattr(op, "__qualname__", None) or getattr(op, "__name__", None) or repr(op)


def _input_names(op, n: int) -> list:
    """The forward's parameter names (a, b), or in0, in1, ... when they cannot be read."""
    target = op.forward if isinstance(op, type) and issubclass(op, Function) else op
    try:
        params = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        params = []
    if isinstance(op, type):
        params = params[1:]  # ctx
    names = [p.name for p in params
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][:n]
    if len(names) < n or len(set(names)) < n or "out" in names:
        return [f"in{k}" for k in range(n)]
    return names


def _signed(rng, shape):
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.5, shape)


def _domains(domain, n: int, label: str) -> list:
    def one(d):
        if d is None:
            return _signed
        if callable(d):
            return d
        if isinstance(d, (tuple, list)) and len(d) == 2 and all(
                isinstance(v, (int, float)) for v in d):
            lo, hi = float(d[0]), float(d[1])
            return lambda rng, shape: rng.uniform(lo, hi, shape)
        raise TypeError(f"check_op({label}): domain must be (lo, hi), a function "
                        f"(rng, shape) -> ndarray, or a list of those per input; got {d!r}")

    if isinstance(domain, list):
        if len(domain) != n:
            raise ValueError(f"check_op({label}): {len(domain)} domains for {n} tensor inputs")
        return [one(d) for d in domain]
    return [one(domain)] * n


def _strided(values: np.ndarray) -> np.ndarray:
    """The same values as a transposed, every-other-element view of a bigger array.

    The gaps hold nan, so an op that reads memory as if it were contiguous shows it.
    """
    big = np.full(values.shape[::-1] + (2,), np.nan, dtype=values.dtype)
    big[..., 0] = values.T
    return big[..., 0].T


def _make_inputs(ctx: _Context, n: int, shapes: tuple, strided: bool) -> tuple:
    from chainrule.tensor import Tensor

    rng = np.random.default_rng([ctx.seed, n])
    args = list(ctx.args)
    for k, shape in zip(ctx.slots, shapes):
        values = np.asarray(ctx.draw[ctx.slots.index(k)](rng, shape), dtype=ctx.dtype)
        if values.shape != shape:
            raise ValueError(f"check_op: the domain function gave shape {values.shape} for "
                             f"shape {shape}")
        if strided and values.ndim:
            values = _strided(values)
        else:
            values = values.copy(order="C")  # (ascontiguousarray makes 0-d arrays 1-d)
        args[k] = Tensor._make(values, None, 0, True)
    return tuple(args)


def _variants(shapes: tuple, ctx: _Context):
    """(name, shapes, strided) for every variant but the given shapes, without repeats."""
    seen = {(shapes, False)}
    out = []

    def add(name, vshapes, strided=False):
        if (vshapes, strided) not in seen:
            seen.add((vshapes, strided))
            out.append((name, vshapes, strided))

    for i, s in enumerate(shapes):
        if not s or not any(t == s for j, t in enumerate(shapes) if j != i):
            continue
        name = ctx.names[ctx.slots[i]]
        alts = [s[d:] for d in range(1, len(s) + 1)]
        alts += [s[:d] + (1,) + s[d + 1:] for d in range(len(s)) if s[d] != 1]
        for alt in alts:
            add(f"broadcast {name}", shapes[:i] + (alt,) + shapes[i + 1:])
    add("0-d", tuple(() for _ in shapes))
    add("size-1", tuple((1,) * len(s) for s in shapes))
    if any(int(np.prod(s)) > 1 for s in shapes):
        add("non-contiguous", shapes, True)
    return out


# ---------------------------------------------------------------------------------- checks
@dataclass
class _Outcome:
    rows: list
    nonfinite: bool = False


def _first_line(err: BaseException, limit: int = 240) -> str:
    text = f"{type(err).__name__}: {err}".strip().splitlines()[0]
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _outputs(result) -> tuple | None:
    from chainrule.tensor import Tensor

    outs = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    return outs if outs and all(isinstance(o, Tensor) for o in outs) else None


def _run_variant(ctx: _Context, n: int, variant: str, shapes: tuple, strided: bool,
                 required: bool) -> _Outcome:
    def row(check, status, detail="", worst=None):
        return CheckResult(variant, shapes, check, status, detail, worst)

    inputs = _make_inputs(ctx, n, shapes, strided)
    before = [inputs[k].array.copy() for k in ctx.slots]
    try:
        outs = _outputs(ctx.fn(*inputs))
    except Exception as err:  # noqa: BLE001 - any error is the op's answer to these shapes
        if required:
            return _Outcome([row("forward", _FAILED, f"forward raised {_first_line(err)}")])
        return _Outcome([row("forward", _SKIPPED, f"not applicable: {_first_line(err)}")])
    problem = None
    nonfinite = False
    if outs is None:
        problem = "forward must return a Tensor or a tuple of Tensors"
    else:
        floats = [o for o in outs if o.array.dtype.kind == "f"]
        if not floats:
            problem = "forward returned no floating-point output"
        elif any(o.array.dtype != ctx.dtype for o in floats):
            problem = (f"forward returned {[str(o.dtype) for o in floats]} for {ctx.dtype} "
                       f"inputs (an output dtype must follow its inputs')")
        elif not any(o.requires_grad for o in floats):
            problem = ("no output requires grad: forward recorded no graph (did it detach, or "
                       "compute on .array / NumPy outside an Op?)")
    if problem is None and strided:  # first: reading the nan gaps also makes nan
        plain = tuple(a.array.copy(order="C") if k in ctx.slots else a
                      for k, a in enumerate(inputs))
        problem = _compare_contiguous(ctx, plain, outs)
    if problem is None and not all(np.isfinite(o.array).all() for o in floats):
        if not required:  # e.g. var() of one element: these shapes have no finite answer
            return _Outcome([row("forward", _SKIPPED, "not applicable: forward gives nan/inf "
                                 "at these shapes")])
        nonfinite = True
        problem = "forward gave nan/inf at these inputs (pass domain=(lo, hi))"
    if problem is None:
        for k, old in zip(ctx.slots, before):
            if not np.array_equal(inputs[k].array, old, equal_nan=True):
                problem = f"forward changed its input {ctx.names[k]} in place"
                break
    if problem is not None:
        return _Outcome([row("forward", _FAILED, problem)], nonfinite)
    rows = [row("forward", _PASSED)]
    if ctx.dtype != np.float64:
        return _Outcome(rows)
    for check in ("gradcheck", "gradgradcheck"):
        try:
            if check == "gradcheck":
                worst, detail = _check_first(ctx, inputs, len(outs))
            else:
                worst, detail = _check_second(ctx, inputs, n)
        except Exception as err:  # noqa: BLE001 - a backward that raises fails the check
            rows.append(row(check, _FAILED, f"backward raised {_first_line(err)}"))
            continue
        rows.append(row(check, _PASSED if detail is None else _FAILED, detail or "", worst))
    return _Outcome(rows)


def _compare_contiguous(ctx: _Context, plain: tuple, outs: tuple) -> str | None:
    from chainrule.autograd.grad_mode import no_grad
    from chainrule.tensor import Tensor

    args = tuple(Tensor._make(a, None, 0, False) if isinstance(a, np.ndarray) else a
                 for a in plain)
    with no_grad():
        ref = _outputs(ctx.fn(*args))
    for j, (o, r) in enumerate(zip(outs, ref)):
        if o.array.shape != r.array.shape or not np.allclose(
                o.array, r.array, rtol=1e-10, atol=1e-12, equal_nan=True):
            return (f"output {j} differs between strided and contiguous inputs of the same "
                    f"values (an op that assumes contiguous memory?)")
    return None


def _check_first(ctx: _Context, inputs: tuple, n_outs: int):
    names = ["out"] if n_outs == 1 else [f"out{j}" for j in range(n_outs)]
    return _jacobian_check(ctx, ctx.fn, inputs, list(ctx.slots), names, ctx.names)


def _check_second(ctx: _Context, inputs: tuple, n: int):
    """gradcheck of (inputs, upstream) -> the gradients of the inputs, built with create_graph."""
    slots = list(ctx.slots)
    ups = random_upstream(ctx.fn, inputs, np.random.default_rng([ctx.seed, n, 2]))
    first = first_derivatives(ctx.fn, len(inputs), slots)
    up_names = ["grad_out"] if len(ups) == 1 else [f"grad_out{j}" for j in range(len(ups))]
    diff = slots + list(range(len(inputs), len(inputs) + len(ups)))
    return _jacobian_check(ctx, first, inputs + ups, diff,
                           [f"grad_{ctx.names[k]}" for k in slots], list(ctx.names) + up_names)


def _jacobian_check(ctx: _Context, fn, inputs: tuple, diff: list, out_names: list,
                    in_names: list):
    """(worst, detail): (None, None) when backward matches finite differences."""
    mm = compare_jacobians(fn, inputs, diff, eps=ctx.eps, atol=ctx.atol, rtol=ctx.rtol,
                           rng=np.random.default_rng([ctx.seed, 7]))
    if mm is None:
        return None, None
    if mm.projected:
        out = ",".join(out_names) if mm.output is None else out_names[mm.output]
        worst = Worst(f"u^T {out}", f"{in_names[mm.input]} v", mm.analytical, mm.numerical)
        return worst, (f"random projection u^T J v of the Jacobian differs (too big to "
                       f"compare entry by entry; use smaller shapes to see the element): "
                       f"{worst}")
    worst = Worst(f"{out_names[mm.output]}{_index(mm.out_element)}",
                  f"{in_names[mm.input]}{_index(mm.in_element)}", mm.analytical, mm.numerical)
    return worst, (f"{mm.n_bad} of {mm.n_entries} Jacobian entries differ (atol={ctx.atol}, "
                   f"rtol={ctx.rtol}); worst {worst}")


def _index(element: tuple) -> str:
    return "[" + ", ".join(map(str, element)) + "]" if element else ""


def _fmt_shapes(shapes: tuple) -> str:
    return ", ".join(str(tuple(s)) for s in shapes)


__all__ = ["CheckReport", "CheckResult", "Worst", "check_op"]
