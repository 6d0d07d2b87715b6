"""Writing your own ops: seed 003's vugrad exercises as `torch.autograd.Function`s.

Each exercise of the assignment (questions 1-9) derives the backward of one operation;
here each becomes a user-defined Function whose docstring is the derivation, in the style
of chainrule's own ops. Every one is checked twice: by `gradcheck` (the analytical
Jacobian against central finite differences, in float64) and against the built-in op that
does the same thing (forward values and the gradient for a random upstream gradient).

Question 8's written answer has an index slip: it gives dy_ij/dx_ik = -x_ik / S_i^2 for
k != j, where the derivative of y_ij = x_ij / S_i is -x_ij / S_i^2. The lab implements the
formula as written too, and gradcheck catches it: that is what gradcheck is for. Questions
5-7 ask about vugrad's graph objects; the table at the end maps each to chainrule's (which
are PyTorch's): `c.value` is `c.data`, `c.source` is `c.grad_fn`, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass

import chainrule as torch
from chainrule.autograd import Function, gradcheck
from chainrule.labs._core import Result, Table

# The exercises derive backward rules; forward mode is the subject of the forward-vs-reverse lab.
BACKWARD_ONLY = "a course exercise in deriving the backward rule (reverse mode only)"

TITLE = "Custom autograd Functions: vugrad's exercises (seed 003, questions 1-9)"


@dataclass
class Config:
    rows: int = 5
    cols: int = 4
    expand_to: int = 16  # question 4 expands a column to 16 columns

    @classmethod
    def quick(cls) -> Config:
        return cls(rows=3, cols=3, expand_to=4)


class Div(Function):
    """Question 1: elementwise division of two matrices of the same shape.

    forward:   out = x / y
    backward:  gx = g / y                 # d out_ij / d x_ij = 1 / y_ij, no other entries
               gy = -g * x / y**2         # d out_ij / d y_ij = -x_ij / y_ij^2
    saved:     x, y
    """

    jvp_reason = BACKWARD_ONLY

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x / y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g / y, -g * x / y**2


class Sigmoid(Function):
    """Question 2: a function f applied elementwise (here the logistic sigmoid).

    forward:   out = 1 / (1 + exp(-x))
    backward:  gx = g * out * (1 - out)   # f'(x) = f(x)(1 - f(x)); elementwise, so the
                                          # Jacobian is diagonal and the product is g * f'(x)
    saved:     out
    """

    jvp_reason = BACKWARD_ONLY

    @staticmethod
    def forward(ctx, x):
        out = 1 / (1 + torch.exp(-x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out * (1 - out)


class MatMul(Function):
    """Question 3: out = X W for X (n, f), W (f, m).

    forward:   out_ij = sum_k X_ik W_kj
    backward:  gX = g @ W.T               # d out_ij / d X_ik = W_kj, summed over j
               gW = X.T @ g               # d out_ij / d W_kj = X_ik, summed over i
    saved:     X, W
    """

    jvp_reason = BACKWARD_ONLY

    @staticmethod
    def forward(ctx, X, W):
        ctx.save_for_backward(X, W)
        return X @ W

    @staticmethod
    def backward(ctx, g):
        X, W = ctx.saved_tensors
        return g @ W.t(), X.t() @ g


class Expand(Function):
    """Question 4: copy a column x (n, 1) into `size` columns: out = x 1 with 1 of shape
    (1, size).

    forward:   out_ij = x_i
    backward:  gx = g @ 1.T = g.sum(dim=1, keepdim=True)   # every copy sends its gradient back
    saved:     nothing
    """

    jvp_reason = BACKWARD_ONLY

    @staticmethod
    def forward(ctx, x, size):
        return x @ torch.ones(1, size, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        return g.sum(dim=1, keepdim=True), None


class RowSum(Function):
    """Question 4's mirror image: the sum of each row, out (n,) from x (n, m).

    forward:   out_i = sum_j x_ij
    backward:  gx_ij = g_i                # d out_i / d x_ij = 1: each entry gets its row's g
    saved:     the number of columns
    """

    jvp_reason = BACKWARD_ONLY

    @staticmethod
    def forward(ctx, x):
        ctx.cols = x.shape[1]
        return x.sum(dim=1)

    @staticmethod
    def backward(ctx, g):
        return g.unsqueeze(1).expand(-1, ctx.cols)


class RowNormalise(Function):
    """Question 8: divide each row by its sum, y_ij = x_ij / S_i with S_i = sum_k x_ik.

    forward:   y = x / S
    backward:  dy_ij / dx_ik = delta_jk / S_i - x_ij / S_i^2, so
               gx_ik = sum_j g_ij dy_ij/dx_ik = g_ik / S_i - (sum_j g_ij y_ij) / S_i
    saved:     y, S
    edges:     a row summing to 0 gives inf / nan, as the division does
    """

    jvp_reason = BACKWARD_ONLY

    @staticmethod
    def forward(ctx, x):
        S = x.sum(dim=1, keepdim=True)
        y = x / S
        ctx.save_for_backward(y, S)
        return y

    @staticmethod
    def backward(ctx, g):
        y, S = ctx.saved_tensors
        return (g - (g * y).sum(dim=1, keepdim=True)) / S


class RowNormaliseAsWritten(RowNormalise):
    """Question 8 as the written answer has it: dy_ij/dx_ik = delta_jk / S_i - x_ik / S_i^2
    (x_ik where x_ij belongs), so gx_ik = g_ik / S_i - x_ik / S_i^2 * sum_j g_ij. Wrong
    unless every row of g is constant; gradcheck says so."""

    @staticmethod
    def backward(ctx, g):
        y, S = ctx.saved_tensors
        x = y * S
        return g / S - x / S**2 * g.sum(dim=1, keepdim=True)


class ReLU(Function):
    """Question 9: out = max(x, 0), elementwise.

    forward:   out = x * (x > 0)
    backward:  gx = g * (x > 0)           # slope 1 where x > 0, 0 where x < 0
    saved:     the mask x > 0
    edges:     at x == 0 the subgradient 0 is used (as torch.relu). The seed's vugrad version
               zeroes `input` in place, which changes the caller's tensor; this one does not.
    """

    jvp_reason = BACKWARD_ONLY

    @staticmethod
    def forward(ctx, x):
        mask = x > 0
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return g * mask


def check(name, custom, builtin, inputs, generator):
    """gradcheck the custom op; compare its value and gradient with the built-in's."""
    passed = gradcheck(custom, inputs, raise_exception=False)
    out = custom(*inputs)
    ref = builtin(*inputs)
    upstream = torch.randn(out.shape, dtype=torch.double, generator=generator)
    grads = torch.autograd.grad(out, inputs, upstream)
    ref_grads = torch.autograd.grad(ref, inputs, upstream)
    forward_err = (out - ref).abs().max().item()
    grad_err = max((a - b).abs().max().item() for a, b in zip(grads, ref_grads))
    return {"op": name, "gradcheck": passed, "forward_err": forward_err, "grad_err": grad_err}


def vugrad_questions():
    """Questions 5-7: vugrad's graph objects and their chainrule (PyTorch) names."""
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = torch.tensor([[5.0, 6.0], [7.0, 8.0]], requires_grad=True)
    c = a + b
    return [
        ["5.1", "c.value", "c.data", c.data.tolist() == [[6.0, 8.0], [10.0, 12.0]]],
        ["5.2", "c.source (the OpNode of the addition)", "c.grad_fn",
         c.grad_fn is not None and c.grad_fn.name().startswith("Add")],
        ["5.3", "c.source.inputs[0] is a", "c.grad_fn.next_functions[0][0].variable is a",
         c.grad_fn.next_functions[0][0].variable is a],
        ["5.4", "a.grad is zeros before backward", "a.grad is None before backward",
         a.grad is None],
        ["6", "Op.forward(context, a, b) returns a + b", "Function.forward(ctx, *args)",
         True],
        ["7", "OpNode.backward calls op.backward(context, *goutputs)",
         "the engine calls Function.backward(ctx, *grads) per node", True],
    ]


def run(config: Config, ctx) -> Result:
    torch.manual_seed(ctx.seed)
    g = ctx.generator()
    n, m = config.rows, config.cols

    def randn(*shape):
        return torch.randn(*shape, dtype=torch.double, generator=g, requires_grad=True)

    def positive(*shape):  # away from the poles of the divisions
        return (torch.rand(*shape, dtype=torch.double, generator=g) + 0.5).requires_grad_()

    def away_from_kink(*shape):  # |x| >= 0.1: finite differences never straddle 0
        x = torch.randn(*shape, dtype=torch.double, generator=g)
        return (x + 0.1 * torch.sign(x)).requires_grad_()

    cases = [
        ("Div (q1)", Div.apply, torch.div, (randn(n, m), positive(n, m))),
        ("Sigmoid (q2)", Sigmoid.apply, torch.sigmoid, (randn(n, m),)),
        ("MatMul (q3)", MatMul.apply, torch.matmul, (randn(n, m), randn(m, n + 1))),
        ("Expand (q4)", lambda x: Expand.apply(x, config.expand_to),
         lambda x: x.expand(-1, config.expand_to), (randn(n, 1),)),
        ("RowSum (q4)", RowSum.apply, lambda x: x.sum(dim=1), (randn(n, m),)),
        ("RowNormalise (q8)", RowNormalise.apply, lambda x: x / x.sum(dim=1, keepdim=True),
         (positive(n, m),)),
        ("RowNormalise as written (q8)", RowNormaliseAsWritten.apply,
         lambda x: x / x.sum(dim=1, keepdim=True), (positive(n, m),)),
        ("ReLU (q9)", ReLU.apply, torch.relu, (away_from_kink(n, m),)),
    ]
    checks = [check(name, fn, ref, inputs, g)
              for name, fn, ref, inputs in ctx.progress(cases, desc="ops")]
    expected = {c["op"]: "as written" not in c["op"] for c in checks}

    fig, ax = ctx.figure(size=(7.0, 3.8))
    errs = [max(c["grad_err"], 1e-18) for c in checks]
    colors = ["C2" if c["gradcheck"] else "C3" for c in checks]
    ax.barh([c["op"] for c in checks], errs, color=colors)
    ax.set_xscale("log")
    ax.set_xlabel("max |custom gradient - built-in gradient| (float64)")
    ax.invert_yaxis()
    ax.set_title("Custom Functions vs built-ins (green: gradcheck passes, red: fails)")
    ctx.save(fig, "gradient_errors", "The largest difference between each custom op's "
             "gradient and the built-in op's, for a random upstream gradient (1e-18 = exact).")

    table = Table("Each op: gradcheck and agreement with the built-in op",
                  ["op", "gradcheck", "expected", "max forward diff", "max gradient diff"],
                  [[c["op"], c["gradcheck"], expected[c["op"]], f"{c['forward_err']:.1e}",
                    f"{c['grad_err']:.1e}"] for c in checks])
    questions = Table("Questions 5-7: vugrad's objects in chainrule",
                      ["question", "vugrad", "chainrule / PyTorch", "checked"],
                      vugrad_questions())
    as_expected = all(c["gradcheck"] == expected[c["op"]] for c in checks)
    correct = [c for c in checks if expected[c["op"]]]
    metrics = {"checks": checks, "all_as_expected": as_expected,
               "max_grad_err_correct_ops": max(c["grad_err"] for c in correct)}
    summary = (f"{sum(c['gradcheck'] for c in correct)}/{len(correct)} ops pass gradcheck and "
               f"match the built-ins (max gradient diff "
               f"{metrics['max_grad_err_correct_ops']:.1e}); q8 as written fails gradcheck: "
               f"{not checks[-2]['gradcheck']}")
    return Result(summary, metrics, [table, questions])


LISTING = [Div, Sigmoid, MatMul, Expand, RowSum, RowNormalise, RowNormaliseAsWritten, ReLU]
