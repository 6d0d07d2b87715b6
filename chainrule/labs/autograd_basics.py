"""Autograd by hand and by machine: the workshop's worked example (seed 004).

With data a = 2, b = 3, target y = 10 and weights initialised to w0 = w1 = v = 1, the model is
u = a*w0 + b*w1, f = v*u, and the loss is the mean squared error L = (f - y)^2. The chain
rule by hand gives dL/dv = 2(f - y) u = -50, dL/dw0 = 2(f - y) v a = -20 and
dL/dw1 = 2(f - y) v b = -30. The lab runs the workshop's code unchanged, draws the graph
that `loss.backward()` walks, and puts the hand-derived gradients beside autograd's. It also
reproduces the workshop's table of how `requires_grad` propagates: an op's output requires
grad exactly when one of its inputs does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import chainrule as torch
import chainrule.nn  # noqa: F401 - makes torch.nn available
from chainrule.labs._core import Result, Table
from chainrule.labs._graph import draw_graph

TITLE = "Autograd basics: the worked example u = a*w0 + b*w1, f = v*u"

COURSE = {"w0": -20.0, "w1": -30.0, "v": -50.0}


@dataclass
class Config:
    a: float = 2.0
    b: float = 3.0
    y: float = 10.0
    init: float = 1.0  # w0 = w1 = v = init

    @classmethod
    def quick(cls) -> Config:
        return cls()  # already instant


def worked_example(a=2.0, b=3.0, y=10.0, init=1.0):
    """The workshop's listing (seed 004), with the tensors returned to look at."""
    a = torch.tensor(a)
    b = torch.tensor(b)
    w0 = torch.tensor(init, requires_grad=True)
    w1 = torch.tensor(init, requires_grad=True)
    v = torch.tensor(init, requires_grad=True)
    u = a * w0 + b * w1
    f = v * u
    criterion = torch.nn.MSELoss()
    loss = criterion(f, torch.tensor(y))
    u.retain_grad()  # added: keep dL/du and dL/df (non-leaves) for the drawing
    f.retain_grad()
    loss.backward()
    return {"a": a, "b": b, "w0": w0, "w1": w1, "v": v, "u": u, "f": f, "loss": loss}


def worked_step(a, b, w0, w1, v, y):
    """The worked example's forward and backward pass as one function, for torch.compile."""
    u = a * w0 + b * w1
    f = v * u
    criterion = torch.nn.MSELoss()
    loss = criterion(f, y)
    loss.backward()
    return loss


def compiled_worked_example(a=2.0, b=3.0, y=10.0, init=1.0):
    """torch.compile(worked_step), called twice on fresh leaves: the first call traces, the
    second replays the generated code. Returns the code, each line's value in the replay
    ({line number: array}) and the replay's gradients."""
    step = torch.compile(worked_step)
    data = (torch.tensor(a), torch.tensor(b))
    for call in range(2):
        w0, w1, v = (torch.tensor(init, requires_grad=True) for _ in range(3))
        args = (*data, w0, w1, v, torch.tensor(y))
        if call == 0:
            step(*args)
        else:
            values = line_values(step, args)
    return {"code": step.code, "values": values,
            "grads": {"w0": w0.grad.item(), "w1": w1.grad.item(), "v": v.grad.item()}}


def line_values(step, args) -> dict[int, object]:
    """Call the compiled `step` and keep what each assignment of its generated code computed,
    {line number: a copy of the value}, by watching the replay with sys.settrace (the hook
    debuggers use)."""
    import sys

    import numpy as np

    targets = {n: m.group(1) for n, line in enumerate(step.code.splitlines(), 1)
               if (m := re.match(r"\s+(\w+) = ", line))}
    prefix = f"<chainrule.compile {step.__qualname__} "
    values, last = {}, [None]

    def watch(frame, event, arg):
        if last[0] in targets and targets[last[0]] in frame.f_locals:
            values[last[0]] = np.array(frame.f_locals[targets[last[0]]], copy=True)
        last[0] = frame.f_lineno if event == "line" else None
        return watch

    def calls(frame, event, arg):
        return watch if frame.f_code.co_filename.startswith(prefix) else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        step(*args)
    finally:
        sys.settrace(previous)
    return values


def annotated(code: str, values: dict) -> str:
    """The generated code with the value each line computed (one-element values) after it."""
    lines = code.splitlines()
    width = max(len(line) for line in lines)
    return "\n".join(f"{line:<{width}}  => {values[n].item():g}"
                     if n in values and values[n].size == 1 else line
                     for n, line in enumerate(lines, 1))


def gradient_lines(code: str, values: dict, params) -> list[list]:
    """For each leaf whose .grad the replay sets: the line of the generated code that
    computes the gradient (following the copy into .grad back to its source) and its value."""
    lines = code.splitlines()
    where = {m.group(1): n for n, line in enumerate(lines, 1)
             if (m := re.match(r"\s+(\w+) = ", line))}
    rows = []
    for line in lines:
        m = re.match(r"\s+_A\[(\d+)\]\._grad = _T\((\w+)\)", line)
        if not m:
            continue
        name = m.group(2)
        while (copy := re.search(r"= np\.array\((\w+), copy=True\)", lines[where[name] - 1])):
            name = copy.group(1)
        n = where[name]
        text = lines[n - 1].split("#")[0].strip()
        rows.append([int(m.group(1)), text, values[n].item()])
    return [[f"dL/d{params[i]}", text, value] for i, text, value in sorted(rows)]


def hand_gradients(a, b, y, init):
    """The chain rule, term by term, as on the workshop's slide."""
    w0 = w1 = v = init
    u = a * w0 + b * w1
    f = v * u
    dL_df = 2 * (f - y)  # d/df (f - y)^2
    return {"w0": dL_df * v * a, "w1": dL_df * v * b, "v": dL_df * u, "u": dL_df * v,
            "f": dL_df}


def requires_grad_table():
    """The autograd-mechanics example: does the result require grad?"""
    x = torch.randn(5, 5)  # requires_grad=False by default
    y = torch.randn(5, 5)  # requires_grad=False by default
    z = torch.randn((5, 5), requires_grad=True)
    a = x + y
    b = a + z
    return [("x", "randn(5, 5)", x, False), ("y", "randn(5, 5)", y, False),
            ("z", "randn((5, 5), requires_grad=True)", z, True),
            ("a", "x + y", a, False), ("b", "a + z", b, True)]


def run(config: Config, ctx) -> Result:
    torch.manual_seed(ctx.seed)
    t = worked_example(config.a, config.b, config.y, config.init)
    hand = hand_gradients(config.a, config.b, config.y, config.init)
    auto = {k: t[k].grad.item() for k in ("w0", "w1", "v", "u", "f")}
    default = (config.a, config.b, config.y, config.init) == (2.0, 3.0, 10.0, 1.0)

    grads = Table("Gradients: by hand, by autograd, and as the course reports them",
                  ["gradient", "chain rule", "by hand", "autograd", "course"],
                  [["dL/dw0", "2(f - y) * v * a", hand["w0"], auto["w0"],
                    COURSE["w0"] if default else None],
                   ["dL/dw1", "2(f - y) * v * b", hand["w1"], auto["w1"],
                    COURSE["w1"] if default else None],
                   ["dL/dv", "2(f - y) * u", hand["v"], auto["v"],
                    COURSE["v"] if default else None],
                   ["dL/du", "2(f - y) * v", hand["u"], auto["u"], None],
                   ["dL/df", "2(f - y)", hand["f"], auto["f"], None]], fmt="{:g}")
    values = Table("Forward values", ["tensor", "value", "requires_grad", "is_leaf", "grad_fn"],
                   [[k, t[k].item(), t[k].requires_grad, t[k].is_leaf, str(t[k].grad_fn)]
                    for k in ("a", "b", "w0", "w1", "v", "u", "f", "loss")], fmt="{:g}")
    rg = requires_grad_table()
    propagation = Table("requires_grad propagation (PyTorch's autograd-mechanics example)",
                        ["tensor", "made by", "requires_grad", "expected (course)"],
                        [[n, expr, bool(x.requires_grad), want] for n, expr, x, want in rg])

    fig, ax = ctx.figure(size=(6.0, 5.0))
    draw_graph(ax, t["loss"], names={k: t[k] for k in ("w0", "w1", "v", "u", "f", "loss")},
               grads={**auto, "loss": 1.0})
    ax.set_title("The graph loss.backward() walks (gradients flow down the arrows)")
    ctx.save(fig, "graph", "The autograd graph of the worked example: grad_fn nodes (blue) "
             "and the leaves whose .grad is written (green), with dL/d(node).")

    compiled = compiled_worked_example(config.a, config.b, config.y, config.init)
    params = ["a", "b", "w0", "w1", "v", "y"]  # worked_step's arguments
    code_table = Table("The same gradients from the compiled replay (torch.compile)",
                       ["gradient", "line of the generated code", "value"],
                       gradient_lines(compiled["code"], compiled["values"], params),
                       fmt="{:g}",
                       note="`step = torch.compile(worked_step)`: the first call traced the "
                       "kernels that ran, the second replayed the code below, written out of "
                       "them: the forward pass, then the backward pass as straight-line NumPy.")
    code_note = ("**The compiled step** (`print(step.code)`; after `=>`, the value the line "
                 "computed in the replay):\n\n```python\n"
                 + annotated(compiled["code"], compiled["values"]) + "\n```")

    match = all(abs(hand[k] - auto[k]) < 1e-12 for k in hand)
    propagation_ok = all(bool(x.requires_grad) == want for _, _, x, want in rg)
    metrics = {"grads": auto, "hand": hand, "loss": t["loss"].item(), "u": t["u"].item(),
               "f": t["f"].item(), "hand_equals_autograd": match,
               "requires_grad_as_expected": propagation_ok, "compiled_grads": compiled["grads"]}
    summary = (f"autograd dL/dw0, dL/dw1, dL/dv = {auto['w0']:g}, {auto['w1']:g}, "
               f"{auto['v']:g}; by hand {hand['w0']:g}, {hand['w1']:g}, {hand['v']:g}"
               + (" (course -20, -30, -50)" if default else ""))
    return Result(summary, metrics, [grads, values, propagation, code_table], [code_note])


LISTING = [worked_example, hand_gradients, requires_grad_table, worked_step]
