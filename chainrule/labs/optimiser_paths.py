"""Why do RMSprop and Adam travel along diagonals? (seed 002's last question)

SGD steps along the negative gradient, -lr * g, so its path follows the landscape: on an
elongated bowl it zig-zags across the steep direction and crawls along the flat one.
RMSprop and Adam divide each coordinate of the step by a running root-mean-square of that
coordinate's gradient. While a gradient keeps its sign and size, g / sqrt(mean(g^2)) is about
+-1 in *every* coordinate, so each coordinate moves by about lr whatever its slope: the step
is lr * (+-1, +-1), a diagonal (Adam's very first step is exactly -lr * sign(g)). The path
turns off the diagonal only when one coordinate's gradient shrinks or flips sign against its
running average, typically when that coordinate has reached the valley floor. The seed's
answer ("an adaptive learning rate ... takes a straight path") is half of it: the rate adapts
per coordinate, and equalising the coordinates' step sizes is what makes the diagonal.

The lab runs SGD, SGD with momentum, RMSprop and Adam from the same start on an
ill-conditioned quadratic and on the Rosenbrock function, draws the paths on contour plots,
and measures how much of each path runs within 10 degrees of a diagonal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import chainrule as torch
import chainrule.optim  # noqa: F401 - makes torch.optim available
from chainrule.labs._core import Result, Table

TITLE = "Optimiser paths: why RMSprop and Adam travel along diagonals"

OPTIMISERS = ("SGD", "SGD momentum", "RMSprop", "Adam")


@dataclass
class Config:
    steps: int = 250
    quadratic_scale: float = 10.0  # f = (x^2 + scale * y^2) / 2: condition number = scale
    quadratic_start: list[float] = field(default_factory=lambda: [-4.0, 3.0])
    # learning rates in the order SGD, SGD momentum, RMSprop, Adam
    quadratic_lr: list[float] = field(default_factory=lambda: [0.05, 0.02, 0.02, 0.05])
    rosenbrock_steps: int = 1500
    rosenbrock_start: list[float] = field(default_factory=lambda: [-1.5, 2.0])
    rosenbrock_lr: list[float] = field(default_factory=lambda: [5e-4, 2e-4, 5e-3, 5e-2])
    momentum: float = 0.9

    @classmethod
    def quick(cls) -> Config:
        return cls(steps=60, rosenbrock_steps=200)


def quadratic(x, y, scale: float = 10.0):
    return 0.5 * (x**2 + scale * y**2)


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def make_optimiser(name: str, params, lr: float, momentum: float = 0.9):
    if name == "SGD":
        return torch.optim.SGD(params, lr=lr)
    if name == "SGD momentum":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    if name == "RMSprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.Adam(params, lr=lr)


def descend(f, start, optimiser: str, lr: float, steps: int, momentum: float = 0.9,
            compile: bool = False):
    """Minimise f(x, y) from `start`; the path as a (steps + 1, 2) tensor. A step's work is
    one function `step` (which `torch.compile` can trace once and replay)."""
    p = torch.tensor(start, dtype=torch.double, requires_grad=True)
    opt = make_optimiser(optimiser, [p], lr, momentum)

    def step(p):
        opt.zero_grad()
        loss = f(p[0], p[1])
        loss.backward()
        opt.step()
        return loss

    if compile:
        step = torch.compile(step)
    path = [p.detach().clone()]
    for _ in range(steps):
        step(p)
        path.append(p.detach().clone())
    return torch.stack(path)


def step_angles(path):
    """The direction of each step, in degrees in (-180, 180] (0 = along +x)."""
    d = path[1:] - path[:-1]
    return [math.degrees(math.atan2(dy, dx)) for dx, dy in d.tolist() if dx or dy]


def diagonal_fraction(path, tolerance: float = 10.0) -> float:
    """Share of the path's length travelled within `tolerance` degrees of a diagonal."""
    steps = (path[1:] - path[:-1]).tolist()
    total = near = 0.0
    for dx, dy in steps:
        length = math.hypot(dx, dy)
        total += length
        if length and abs(math.degrees(math.atan2(dy, dx)) % 90 - 45) <= tolerance:
            near += length
    return near / total if total else float("nan")


def run(config: Config, ctx) -> Result:
    problems = [
        ("quadratic", lambda x, y: quadratic(x, y, config.quadratic_scale),
         config.quadratic_start, config.quadratic_lr, config.steps, (0.0, 0.0)),
        ("Rosenbrock", rosenbrock, config.rosenbrock_start, config.rosenbrock_lr,
         config.rosenbrock_steps, (1.0, 1.0)),
    ]
    results = descend_all(problems, config, ctx)
    fig, axes = ctx.figure(ncols=2, size=(5.5, 4.5))
    for ax, problem in zip(axes, problems):
        plot_paths(ax, problem, results)
    ctx.save(fig, "paths", "Paths of the four optimisers from the same start (black dot) on "
             "contour plots of the ill-conditioned quadratic and of the Rosenbrock function.")
    plot_directions(ctx, results)
    return report(results)


def descend_all(problems, config: Config, ctx) -> dict:
    """Every optimiser on every problem: {(problem, optimiser): path and measurements}."""
    results = {}
    jobs = [(p, i) for p in problems for i in range(len(OPTIMISERS))]
    for (name, f, start, lrs, steps, minimum), i in ctx.progress(jobs, desc="optimisers"):
        path = ctx.train(f"{name}, {OPTIMISERS[i]}", lambda compile, f=f, start=start, i=i,
                         lrs=lrs, steps=steps: descend(f, start, OPTIMISERS[i], lrs[i], steps,
                                                       config.momentum, compile))
        angles = step_angles(path)
        end = path[-1]
        results[(name, OPTIMISERS[i])] = {
            "path": path, "lr": lrs[i], "angles": angles,
            "final_f": f(end[0], end[1]).item(),
            "distance": math.dist(end.tolist(), minimum),
            "first_step_deg": angles[0] if angles else float("nan"),
            "diagonal_fraction": diagonal_fraction(path),
        }
    return results


def plot_paths(ax, problem, results: dict) -> None:
    """One problem's contour plot, zoomed to the paths, with every optimiser's path on it."""
    name, f, start, lrs, steps, minimum = problem
    paths = [results[(name, o)]["path"] for o in OPTIMISERS]
    xs = torch.cat([p[:, 0] for p in paths] + [torch.tensor([minimum[0], start[0]])])
    ys = torch.cat([p[:, 1] for p in paths] + [torch.tensor([minimum[1], start[1]])])
    x0, x1 = xs.min().item() - 0.5, xs.max().item() + 0.5
    y0, y1 = ys.min().item() - 0.5, ys.max().item() + 0.5
    gx, gy = torch.meshgrid(torch.linspace(x0, x1, 300, dtype=torch.double),
                            torch.linspace(y0, y1, 300, dtype=torch.double), indexing="xy")
    z = f(gx, gy)
    levels = torch.logspace(-2, math.log10(z.max().item()), 25).numpy()
    ax.contour(gx.numpy(), gy.numpy(), z.numpy(), levels=levels, cmap="Greys", linewidths=0.6)
    for i, (o, p) in enumerate(zip(OPTIMISERS, paths)):
        p = p.numpy()
        # wide to narrow, so that paths running on top of each other all stay visible
        ax.plot(p[:, 0], p[:, 1], "-", color=f"C{i}", linewidth=3.5 - 0.8 * i, alpha=0.85,
                marker=".", markersize=2.5, label=f"{o} (lr {lrs[i]:g})")
    ax.plot(*minimum, "k*", markersize=12, label="minimum")
    ax.plot(*start, "ko", markersize=5)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title(f"{name}: {steps} steps")
    ax.legend(fontsize=7, loc="best")


def plot_directions(ctx, results: dict) -> None:
    fig, ax = ctx.figure(size=(7.0, 3.8))
    for i, o in enumerate(OPTIMISERS):
        a = results[("quadratic", o)]["angles"]
        ax.plot(range(1, len(a) + 1), a, ".", color=f"C{i}", markersize=4, label=o)
    for d in (-135, -45, 45, 135):
        ax.axhline(d, color="k", linewidth=0.6, linestyle="--")
    ax.set_yticks([-180, -135, -90, -45, 0, 45, 90, 135, 180])
    ax.set_xlabel("step")
    ax.set_ylabel("step direction (degrees)")
    ax.set_title("Quadratic: direction of each step (dashed: the diagonals)")
    ax.legend(fontsize=7, ncol=4)
    ctx.save(fig, "directions", "The direction of every step on the quadratic: RMSprop's and "
             "Adam's sit on the diagonals (+-45, +-135 degrees) for most of the way.")


def report(results: dict) -> Result:
    rows = []
    for (name, o), r in results.items():
        rows.append([name, o, f"{r['lr']:g}", f"{r['first_step_deg']:.1f}",
                     r["diagonal_fraction"], f"{r['final_f']:.2e}", f"{r['distance']:.3f}"])
    table = Table("Paths: share of the path length within 10 degrees of a diagonal",
                  ["function", "optimiser", "lr", "first step (deg)", "on a diagonal",
                   "final f", "distance to minimum"], rows, fmt="{:.2f}",
                  note="Course answer (seed 002): adaptive learning rates take a straight "
                  "path. Measured: a diagonal one, because the per-coordinate normalisation "
                  "makes every coordinate's step about lr.")
    metrics = {f"{name}/{o}": {k: v for k, v in r.items() if k not in ("path", "angles")}
               for (name, o), r in results.items()}
    q = {o: results[("quadratic", o)]["diagonal_fraction"] for o in OPTIMISERS}
    summary = ("share of the path within 10 deg of a diagonal, quadratic: "
               + ", ".join(f"{o} {q[o]:.0%}" for o in OPTIMISERS))
    return Result(summary, metrics, [table])


LISTING = [descend, step_angles, diagonal_fraction]
