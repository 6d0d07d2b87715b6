"""Forward mode or reverse mode: which one a Jacobian, a Hessian-vector product and Newton's
method should use.

For f: R^n -> R^m, one forward-mode pass (a jvp) gives one column of the Jacobian, J e_j, and
one reverse-mode pass (a vjp) gives one row, e_i^T J. So the whole Jacobian costs n forward
passes or m backward passes: forward mode wins for few inputs and many outputs, reverse mode
for many inputs and few outputs (a loss: m = 1, which is why training uses reverse mode). The
lab measures this on two functions, a small MLP (x -> W2 tanh(W1 x + b1) + b2) and a plain
chain of elementwise ops and matrix products, over a sweep of n with m fixed and of m with n
fixed. Each Jacobian is computed both ways, with `forward_ad` (n jvps) and with
`autograd.grad` (m vjps), and both are checked against central finite differences. The cost
is measured twice: in seconds, and in operations executed (forward ops, the ops inside the
jvp rules, and the backward nodes run), counted by the core's observers, so that the
crossover does not depend on the machine's load.

Second derivatives combine the modes. A Hessian-vector product H v of a scalar g costs one
forward-over-reverse pass (the jvp of the gradient along v), or one reverse-over-reverse pass
(the gradient of grad(g) . v), while the full Hessian costs n passes before it is multiplied
by v. The lab times the three ways and checks that they agree.

Finally, Newton's method, theta <- theta - H^-1 grad, with the Hessian from
`chainrule.func.hessian` (jacfwd of jacrev: forward over reverse), beside gradient descent
with the course's step size on the course's Iris logistic regression (versicolor vs
virginica, petal length and width, standardised; the logistic-regression lab's split): the
iterations each needs to bring the loss within a tolerance of its minimum.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

import chainrule as torch
import chainrule.nn.functional as F
from chainrule import func
from chainrule.autograd import forward_ad as fwAD
from chainrule.autograd import observers
from chainrule.labs._core import Result, Table
from chainrule.labs.logistic_regression import split

TITLE = "Forward vs reverse mode: Jacobians, Hessian-vector products, Newton's method"


@dataclass
class Config:
    sizes: list[int] = field(default_factory=lambda: [1, 2, 4, 8, 16, 32, 64, 128])
    fixed: int = 16  # the other dimension: m while n sweeps `sizes`, n while m does
    hidden: int = 32  # the MLP's hidden width
    repeats: int = 3  # each timing is the best of this many runs
    fd_step: float = 1e-6  # central differences (f(x + h e_j) - f(x - h e_j)) / 2h
    hvp_sizes: list[int] = field(default_factory=lambda: [4, 16, 64, 128])
    newton_iterations: int = 12
    gd_iterations: int = 6000
    lr: float = 1.0  # the logistic-regression lab's step size
    tolerance: float = 1e-6  # "the same loss": within this of the minimum

    @classmethod
    def quick(cls) -> Config:
        return cls(sizes=[1, 4, 16], fixed=4, hidden=8, repeats=1, hvp_sizes=[4, 16],
                   newton_iterations=10, gd_iterations=1000, tolerance=1e-3)


# ---------------------------------------------------------------------------------------------
# The functions f: R^n -> R^m


def make_mlp(n: int, m: int, hidden: int, generator):
    """x -> W2 tanh(W1 x + b1) + b2, weights scaled so that tanh does not saturate."""
    W1 = torch.randn(hidden, n, generator=generator, dtype=torch.float64) / math.sqrt(n)
    b1 = torch.randn(hidden, generator=generator, dtype=torch.float64) * 0.1
    W2 = torch.randn(m, hidden, generator=generator, dtype=torch.float64) / math.sqrt(hidden)
    b2 = torch.randn(m, generator=generator, dtype=torch.float64) * 0.1

    def mlp(x):
        return W2 @ torch.tanh(W1 @ x + b1) + b2
    return mlp


def make_chain(n: int, m: int, generator):
    """Elementwise ops on R^n, a matrix to R^m, elementwise ops on R^m, a matrix on R^m."""
    A = torch.randn(m, n, generator=generator, dtype=torch.float64) / math.sqrt(n)
    B = torch.randn(m, m, generator=generator, dtype=torch.float64) / math.sqrt(m)

    def chain(x):
        u = torch.sin(x) * x + x
        v = A @ u
        w = torch.exp(-v * v) + v * torch.sigmoid(v)
        return B @ w
    return chain


# ---------------------------------------------------------------------------------------------
# The Jacobian three ways


def jacobian_forward(f, x):
    """n jvps: column j of J is the tangent of f(x) when x carries the tangent e_j."""
    basis = torch.eye(x.shape[0], dtype=x.dtype)
    columns = []
    for j in range(x.shape[0]):
        with fwAD.dual_level():
            y = f(fwAD.make_dual(x, basis[j]))
            columns.append(fwAD.unpack_dual(y).tangent)
    return torch.stack(columns, dim=1)


def jacobian_reverse(f, x):
    """One forward pass, then m vjps: row i of J is the gradient of y_i (cotangent e_i)."""
    x = x.detach().requires_grad_()
    y = f(x)
    basis = torch.eye(y.shape[0], dtype=y.dtype)
    rows = [torch.autograd.grad(y, x, grad_outputs=basis[i], retain_graph=True)[0]
            for i in range(y.shape[0])]
    return torch.stack(rows)


def jacobian_fd(f, x, h: float = 1e-6):
    """Central differences, column by column: error O(h^2) plus rounding O(eps / h)."""
    basis = torch.eye(x.shape[0], dtype=x.dtype)
    with torch.no_grad():
        columns = [(f(x + h * basis[j]) - f(x - h * basis[j])) / (2 * h)
                   for j in range(x.shape[0])]
    return torch.stack(columns, dim=1)


# ---------------------------------------------------------------------------------------------
# Measuring: seconds and counted operations


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def count_cost(jacobian, f, x) -> dict:
    """Run jacobian(f, x) and count what it did: evaluations of f, backward passes, and
    operations (every op applied, including those inside jvp rules, and every backward node
    run), through the core's observers."""
    counts = {"f_calls": 0, "backward_passes": 0, "ops": 0}

    def counted_f(x):
        counts["f_calls"] += 1
        return f(x)

    def on_op(ctx, outs, args):
        counts["ops"] += 1

    def on_backward(roots, inputs, accumulate):
        counts["backward_passes"] += 1

    def on_node(node, grads_in, run):
        counts["ops"] += 1
        return run()

    registration = observers.register(forward=on_op, backward=on_backward, node=on_node)
    try:
        jacobian(counted_f, x)
    finally:
        registration.remove()
    return counts


def max_error(a, b) -> float:
    return float((a - b).abs().max().item())


def measure_jacobian(f, x, config: Config) -> dict:
    """Both Jacobians, their errors against finite differences, their times and costs."""
    fwd, rev = jacobian_forward(f, x), jacobian_reverse(f, x)
    fd = jacobian_fd(f, x, config.fd_step)
    cost_fwd = count_cost(jacobian_forward, f, x)
    cost_rev = count_cost(jacobian_reverse, f, x)
    return {"err_forward_fd": max_error(fwd, fd), "err_reverse_fd": max_error(rev, fd),
            "err_forward_reverse": max_error(fwd, rev),
            "time_forward": best_time(lambda: jacobian_forward(f, x), config.repeats),
            "time_reverse": best_time(lambda: jacobian_reverse(f, x), config.repeats),
            "ops_forward": cost_fwd["ops"], "ops_reverse": cost_rev["ops"],
            "passes_forward": cost_fwd["f_calls"],
            "passes_reverse": cost_rev["backward_passes"]}


SWEEPS = {"n": "n varies, m fixed", "m": "m varies, n fixed"}


def shapes(config: Config) -> list[tuple[str, int, int]]:
    """(sweep, n, m): n sweeps `sizes` with m = fixed, then m sweeps them with n = fixed;
    each sweep in increasing n / m."""
    sizes = sorted(config.sizes)
    return ([("n", k, config.fixed) for k in sizes]
            + [("m", config.fixed, k) for k in reversed(sizes)])


def sweep(config: Config, ctx) -> dict[str, list[dict]]:
    """Every (n, m) for both functions: one row of measurements each."""
    generator = ctx.generator(1)
    builders = {"MLP": lambda n, m: make_mlp(n, m, config.hidden, generator),
                "chain": lambda n, m: make_chain(n, m, generator)}
    rows = {name: [] for name in builders}
    jobs = [(name, *shape) for name in builders for shape in shapes(config)]
    for name, which, n, m in ctx.progress(jobs, desc="Jacobians"):
        f = builders[name](n, m)
        x = torch.randn(n, generator=generator, dtype=torch.float64)
        rows[name].append({"sweep": which, "n": n, "m": m, **measure_jacobian(f, x, config)})
    return rows


def crossover(rows: list[dict], key: str) -> float | None:
    """The n/m at which forward and reverse cost the same (`key`: "time" or "ops"), along
    one sweep, interpolated in log(n/m) and log(cost ratio) between the shapes around it."""
    points = [(math.log(r["n"] / r["m"]), math.log(r[f"{key}_forward"] / r[f"{key}_reverse"]))
              for r in rows]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if y0 <= 0 <= y1 and y1 > y0:
            return math.exp(x0 + (x1 - x0) * (0 - y0) / (y1 - y0))
    return None


# ---------------------------------------------------------------------------------------------
# Hessian-vector products


def hvp_forward_over_reverse(g, x, v):
    """The jvp of the gradient along v: one forward pass through the backward pass."""
    return func.jvp(func.grad(g), (x,), (v,))[1]


def hvp_reverse_over_reverse(g, x, v):
    """The gradient of grad(g)(x) . v: a backward pass through the backward pass."""
    x = x.detach().requires_grad_()
    (gx,) = torch.autograd.grad(g(x), x, create_graph=True)
    return torch.autograd.grad((gx * v).sum(), x)[0]


def hvp_full_hessian(g, x, v):
    """The whole n x n Hessian (n jvps of the gradient), then a matrix-vector product."""
    return func.hessian(g)(x) @ v


HVPS = {"forward-over-reverse": hvp_forward_over_reverse,
        "reverse-over-reverse": hvp_reverse_over_reverse,
        "full Hessian": hvp_full_hessian}


def measure_hvps(config: Config, ctx) -> list[dict]:
    """For each n: g(x) = |mlp(x)|^2 / 2 with mlp: R^n -> R^fixed; H v three ways."""
    generator = ctx.generator(2)
    rows = []
    for n in ctx.progress(config.hvp_sizes, desc="Hessian-vector products"):
        mlp = make_mlp(n, config.fixed, config.hidden, generator)
        x = torch.randn(n, generator=generator, dtype=torch.float64)
        v = torch.randn(n, generator=generator, dtype=torch.float64)
        rows.append(measure_hvp(lambda x, mlp=mlp: (mlp(x) ** 2).sum() / 2, x, v,
                                config.repeats))
    return rows


def measure_hvp(g, x, v, repeats: int) -> dict:
    """Each way's time, operations executed, and largest difference from
    forward-over-reverse."""
    values = {name: hvp(g, x, v) for name, hvp in HVPS.items()}
    row = {"n": x.shape[0]}
    for name, hvp in HVPS.items():
        row[f"time {name}"] = best_time(lambda hvp=hvp: hvp(g, x, v), repeats)
        row[f"ops {name}"] = count_cost(lambda g, x, hvp=hvp: hvp(g, x, v), g, x)["ops"]
        row[f"diff {name}"] = max_error(values[name], values["forward-over-reverse"])
    return row


# ---------------------------------------------------------------------------------------------
# Newton's method vs gradient descent


def logistic_loss(X, y):
    """theta = (w, b) -> the mean binary cross-entropy of sigmoid(X w + b), stably."""
    def loss(theta):
        z = X @ theta[:-1] + theta[-1]
        return (F.softplus(z) - y * z).mean()
    return loss


def newton(loss, theta, iterations: int) -> list[float]:
    """theta <- theta - H^-1 g with H = func.hessian(loss): the losses, start included."""
    history = [loss(theta).item()]
    for _ in range(iterations):
        g, H = func.grad(loss)(theta), func.hessian(loss)(theta)
        # a 3 x 3 system: NumPy solves it (chainrule has no linalg.solve)
        theta = theta - torch.tensor(np.linalg.solve(H.numpy(), g.numpy()))
        history.append(loss(theta).item())
    return history


def gradient_descent(loss, theta, iterations: int, lr: float, compile: bool = False
                     ) -> list[float]:
    """theta <- theta - lr g: the losses, start included. An iteration's work is one function
    `step` (which `torch.compile` can trace once and replay)."""
    def step(theta):
        value = loss(theta)
        (g,) = torch.autograd.grad(value, theta)
        with torch.no_grad():
            theta -= lr * g
        return value

    if compile:
        step = torch.compile(step)
    theta = theta.detach().clone().requires_grad_()
    history = []
    for _ in range(iterations):
        history.append(step(theta).item())
    history.append(loss(theta).item())
    return history


def iterations_to(history: list[float], target: float) -> int | None:
    """The first iteration whose loss is at most target (None: never)."""
    return next((i for i, value in enumerate(history) if value <= target), None)


def compare_optimisers(config: Config, ctx) -> dict:
    X, y, *_ = split([1, 2], [2, 3], 0.3, ctx.generator())
    loss = logistic_loss(X, y)
    start = torch.zeros(X.shape[1] + 1, dtype=X.dtype)
    steps = ctx.progress(total=2, desc="Newton and gradient descent")
    newton_history = newton(loss, start, config.newton_iterations)
    steps.update()
    gd_history = ctx.train("gradient descent", lambda compile: gradient_descent(
        loss, start, config.gd_iterations, config.lr, compile))
    steps.update()
    steps.close()
    minimum = min(newton_history + gd_history)
    target = minimum + config.tolerance
    return {"newton": newton_history, "gd": gd_history, "minimum": minimum, "target": target,
            "newton_iterations": iterations_to(newton_history, target),
            "gd_iterations": iterations_to(gd_history, target)}


# ---------------------------------------------------------------------------------------------
# Figures


def plot_crossover(ctx, rows: dict[str, list[dict]], config: Config) -> None:
    from matplotlib.ticker import FuncFormatter

    fig, axes = ctx.figure(ncols=len(rows), nrows=2, size=(4.8, 3.6))
    ratio_text = FuncFormatter(lambda v, _: f"{v:g}" if v >= 1 else f"1/{1 / v:g}")
    for col, (name, table) in enumerate(rows.items()):
        for row, key, unit in ((0, "time", "seconds"), (1, "ops", "operations executed")):
            ax = axes[row, col]
            for which, style in zip(SWEEPS, ("-", "--")):
                part = [r for r in table if r["sweep"] == which]
                for mode, color, marker in (("forward", "C0", "o"), ("reverse", "C1", "s")):
                    ax.plot([r["n"] / r["m"] for r in part], [r[f"{key}_{mode}"] for r in part],
                            style, color=color, marker=marker, markersize=4,
                            label=f"{mode}, {SWEEPS[which]}")
            ax.axvline(1.0, color="k", linestyle=":", linewidth=1)
            ax.set_xscale("log", base=2)
            ax.xaxis.set_major_formatter(ratio_text)
            ax.set_yscale("log")
            ax.set_xlabel("n / m (inputs / outputs)")
            ax.set_ylabel(unit)
            ax.set_title(f"{name}: Jacobian, {unit}")
            ax.legend(fontsize=6)
    ctx.save(fig, "crossover", "The cost of a Jacobian of f: R^n -> R^m against n / m, for "
             f"the MLP and the elementwise-plus-matmul chain, with m = {config.fixed} (solid) "
             f"or n = {config.fixed} (dashed): top, seconds (best of the repeats); bottom, "
             "operations executed. Forward mode (n jvps) grows with n, reverse mode (m vjps) "
             "with m; they cross near n = m.")


def _label_log_y(ax, xlabel: str, ylabel: str, title: str) -> None:
    """A log-scale y axis (times and gaps span decades), the labels and the legend."""
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)


def plot_hvps(ctx, rows: list[dict]) -> None:
    fig, ax = ctx.figure(size=(5.0, 3.8))
    ns = [r["n"] for r in rows]
    for name, marker in zip(HVPS, ("o-", "s-", "^-")):
        ax.plot(ns, [r[f"time {name}"] for r in rows], marker, label=name)
    ax.set_xscale("log")
    _label_log_y(ax, "n (inputs of g)", "seconds", "Hessian-vector product H v")
    ctx.save(fig, "hvp", "Time of one Hessian-vector product three ways, against the number "
             "of inputs: the full Hessian grows with n, the two one-pass products do not.")


def plot_newton(ctx, opt: dict, config: Config) -> None:
    fig, ax = ctx.figure(size=(5.5, 3.8))
    for name, label in (("newton", "Newton (func.hessian)"),
                        ("gd", f"gradient descent, lr {config.lr:g}")):
        gaps = [max(v - opt["minimum"], 1e-16) for v in opt[name]]
        ax.plot(range(len(gaps)), gaps, label=label)
    ax.axhline(config.tolerance, color="k", linestyle=":", label="tolerance")
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(left=0)
    _label_log_y(ax, "iteration", "loss - minimum", "Iris logistic regression")
    ctx.save(fig, "newton", "Loss above its minimum per iteration: Newton's method against "
             "gradient descent on the logistic-regression lab's data.")


# ---------------------------------------------------------------------------------------------
# The lab


def run(config: Config, ctx) -> Result:
    torch.manual_seed(ctx.seed)
    jac = sweep(config, ctx)
    hvps = measure_hvps(config, ctx)
    opt = compare_optimisers(config, ctx)
    plot_crossover(ctx, jac, config)
    plot_hvps(ctx, hvps)
    plot_newton(ctx, opt, config)
    return report(config, jac, hvps, opt)


def jacobian_table(jac: dict[str, list[dict]]) -> Table:
    rows = []
    for name, table in jac.items():
        for r in table:
            faster = "forward" if r["ops_forward"] < r["ops_reverse"] else "reverse"
            rows.append([name, r["sweep"], r["n"], r["m"], r["time_forward"] * 1e3,
                         r["time_reverse"] * 1e3, r["ops_forward"], r["ops_reverse"], faster,
                         f"{r['err_forward_fd']:.1e}", f"{r['err_reverse_fd']:.1e}"])
    return Table("Jacobians: forward mode (n jvps) against reverse mode (m vjps)",
                 ["f", "sweep", "n", "m", "forward ms", "reverse ms", "forward ops", "reverse ops",
                  "fewer ops", "forward vs FD", "reverse vs FD"], rows, fmt="{:.2f}",
                 note="sweep n: m fixed, n varies; sweep m: n fixed, m varies. ops: operations "
                 "executed (forward ops, including the jvp rules', and backward nodes); FD: the "
                 "largest difference from central differences.")


def hvp_table(hvps: list[dict]) -> Table:
    rows = [[r["n"], name, r[f"time {name}"] * 1e3, r[f"ops {name}"],
             f"{r[f'diff {name}']:.1e}"] for r in hvps for name in HVPS]
    return Table("Hessian-vector products of g(x) = |mlp(x)|^2 / 2",
                 ["n", "way", "ms", "ops", "max difference from forward-over-reverse"], rows,
                 fmt="{:.2f}")


def newton_table(opt: dict, config: Config) -> Table:
    rows = [["Newton (func.hessian)", opt["newton_iterations"], opt["newton"][-1]],
            [f"gradient descent (lr {config.lr:g})", opt["gd_iterations"], opt["gd"][-1]]]
    return Table(f"Iterations to bring the loss within {config.tolerance:g} of its minimum "
                 f"{opt['minimum']:.6f}", ["method", "iterations", "final loss"], rows,
                 fmt="{:.6f}", note=f"-: not reached in {config.gd_iterations} iterations.")


def report(config: Config, jac, hvps, opt) -> Result:
    errors = [r[k] for table in jac.values() for r in table
              for k in ("err_forward_fd", "err_reverse_fd")]
    agree = max(r["err_forward_reverse"] for table in jac.values() for r in table)
    cross = {f"{name}, {which} sweep": {key: crossover([r for r in t if r["sweep"] == which], key)
                                        for key in ("time", "ops")}
             for name, t in jac.items() for which in SWEEPS}
    hvp_diff = max(r[f"diff {name}"] for r in hvps for name in HVPS)
    metrics = {"jacobians": jac, "max_error_fd": max(errors), "max_forward_vs_reverse": agree,
               "crossover_n_over_m": cross, "hvp": hvps, "max_hvp_difference": hvp_diff,
               "newton_iterations": opt["newton_iterations"],
               "gd_iterations": opt["gd_iterations"], "minimum_loss": opt["minimum"],
               "newton_losses": opt["newton"]}
    where = ", ".join(f"{name} n/m = {c['ops']:.2g}" if c["ops"] else f"{name}: none"
                      for name, c in cross.items())
    summary = (f"Jacobians agree (forward vs reverse {agree:.1e}, vs FD {max(errors):.1e}); "
               f"equal operation counts at {where}; H v three ways agree to {hvp_diff:.1e}; Newton "
               f"{opt['newton_iterations']} iterations vs GD {opt['gd_iterations']}")
    return Result(summary, metrics, [jacobian_table(jac), hvp_table(hvps),
                                     newton_table(opt, config)])


LISTING = [jacobian_forward, jacobian_reverse, jacobian_fd, hvp_forward_over_reverse,
           hvp_reverse_over_reverse, hvp_full_hessian, newton]
