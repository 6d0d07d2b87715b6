"""Elementwise ops. Glossary: x, a, b inputs; out the output; g the upstream gradient.

Binary ops broadcast as NumPy does; their backward folds the gradient back onto each input's
shape with `sum_to`. Either input of a binary op may be a Python scalar (a constant: its
gradient is None). Backward rules use chainrule ops, so they are differentiable again.
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.autograd import grad_mode
from chainrule.autograd.function import Op
from chainrule.ops.shape import sum_to


def _shape(v):
    return v.shape if isinstance(v, np.ndarray) else ()


def _scale(g, c):
    """g * c for a constant c (an array such as a bool mask or a local slope, or a float).

    Backward rules do their arithmetic through this helper and `_mul` / `_sub`: with no graph
    being recorded (a plain backward) they compute in NumPy directly, since the result needs
    no history; under create_graph they record the op, so the rule is differentiable again.
    (NumPy hands back a scalar, not an array, for 0-d operands: `np.asarray` makes it one.)
    """
    if _state.enabled:
        return Mul.apply(g, c)
    r = g.array * c
    return Tensor._make(r if type(r) is np.ndarray else np.asarray(r), None, 0, False)


def _mul(a, b):
    """a * b for two Tensors in a backward rule (NumPy directly when nothing is recorded)."""
    if _state.enabled:
        return Mul.apply(a, b)
    r = a.array * b.array
    return Tensor._make(r if type(r) is np.ndarray else np.asarray(r), None, 0, False)


def _sub(a, b):
    """a - b for two Tensors in a backward rule (NumPy directly when nothing is recorded)."""
    if _state.enabled:
        return Sub.apply(a, b)
    r = a.array - b.array
    return Tensor._make(r if type(r) is np.ndarray else np.asarray(r), None, 0, False)


def save_for_each_other(ctx, a, b) -> None:
    """What a product's rule keeps: a if b needs a gradient, b if a does, and both shapes.

    Each factor is needed only for the other's gradient; saving it only then keeps in-place
    edits of the other legal, as in PyTorch (x[:, 0] = x[:, 3] * w works when w needs no
    gradient). The shapes let the rule sum a broadcast gradient back. A call that records
    nothing keeps nothing.
    """
    need = ctx.needs_input_grad
    if need:
        ctx.save_for_backward(a if need[1] else None, b if need[0] else None)
        ctx.shapes = (_shape(a), _shape(b))


def kept_for(ctx, i: int, value):
    """`value` if input i of the call needs a gradient (so a rule keeps only what it uses)."""
    need = ctx.needs_input_grad
    return value if need and need[i] else None


class Add(Op):
    """a + b.

    forward:   out = a + b
    backward:  ga = sum_to(g, a.shape)     gb = sum_to(g, b.shape)
    """

    wraps_numbers = True  # torch wraps a number operand in a Tensor: (None, 0) in next_functions

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return a + b

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (sum_to(g, sa) if need_a else None, sum_to(g, sb) if need_b else None)


class Sub(Op):
    """a - b.

    forward:   out = a - b
    backward:  ga = sum_to(g, a.shape)     gb = sum_to(-g, b.shape)
    """

    wraps_numbers = True  # torch wraps a number operand in a Tensor: (None, 0) in next_functions

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return a - b

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (sum_to(g, sa) if need_a else None, sum_to(-g, sb) if need_b else None)


class Mul(Op):
    """a * b.

    forward:   out = a * b
    backward:  ga = sum_to(g * b, a.shape)     gb = sum_to(g * a, b.shape)
    saved:     b if a needs a gradient, a if b does (so x[:, 0] = x[:, 3] * w stays legal when
               w needs none)
    """

    wraps_numbers = True  # torch wraps a number operand in a Tensor: (None, 0) in next_functions

    @staticmethod
    def forward(ctx, a, b):
        save_for_each_other(ctx, a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (sum_to(g * b, sa) if need_a else None, sum_to(g * a, sb) if need_b else None)


class Div(Op):
    """a / b (true division).

    forward:   out = a / b
    backward:  ga = sum_to(g / b, a.shape)              # d out / d a = 1 / b
               gb = sum_to(-g * a / (b * b), b.shape)   # d out / d b = -a / b**2
    saved:     b; a too if b needs a gradient
    edges:     b == 0 gives inf/nan as NumPy does
    """

    wraps_numbers = True  # torch wraps a number operand in a Tensor: (None, 0) in next_functions

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(kept_for(ctx, 1, a), b)
        ctx.shapes = (_shape(a), _shape(b))
        with np.errstate(divide="ignore", invalid="ignore"):
            return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        ga = sum_to(g / b, sa) if need_a else None
        gb = sum_to(-g * a / (b * b), sb) if need_b else None
        return ga, gb


class Pow(Op):
    """a ** b, for a tensor or scalar base and exponent.

    forward:   out = a ** b
    backward:  ga = sum_to(g * b * a ** (b - 1), a.shape)
               gb = sum_to(g * out * log(a), b.shape)     # where a > 0; 0 where a == 0, b >= 0
    saved:     a, b, out
    edges:     PyTorch's choices: x ** 0 has gradient 0 everywhere (also at x = 0), and the
               exponent's gradient is 0 where the base is 0 and b >= 0 (not nan).
    """

    @staticmethod
    def forward(ctx, a, b):
        if isinstance(a, np.ndarray) and a.dtype.kind in "iu" and np.any(np.asarray(b) < 0):
            raise RuntimeError("pow: Integers to negative integer powers are not allowed.")
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = np.power(a, b)
        if not isinstance(out, np.ndarray):
            out = np.asarray(out)
        ctx.save_for_backward(a, b, out)
        ctx.shapes = (_shape(a), _shape(b))
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if need_a:
            if isinstance(b, (int, float)):
                ga = g * 0.0 if b == 0 else g * (b * a ** (b - 1))
            else:
                ga = (g * b * a ** (b - 1)).where(b != 0, 0.0)
            ga = sum_to(ga, sa)
        if need_b:
            if isinstance(a, (int, float)):
                gb = g * out * (math.log(a) if a > 0 else 0.0 if a == 0 else math.nan)
                if a == 0:
                    gb = gb.where(b < 0, 0.0)
            else:
                # log(0) = -inf; PyTorch masks the 0 * -inf of a == 0, b >= 0 to 0
                with np.errstate(divide="ignore", invalid="ignore"):
                    gb = (g * out * a.log()).where(~((a == 0) & (b >= 0)), 0.0)
            gb = sum_to(gb, sb)
        return ga, gb


class FloorDivide(Op):
    """floor(a / b): piecewise constant, so its gradient is zero (PyTorch: not differentiable).

    forward:   out = floor(a / b)
    backward:  ga = 0, gb = 0
    """

    @staticmethod
    def forward(ctx, a, b):
        if isinstance(b, np.ndarray) and b.dtype.kind in "iu" and np.any(b == 0) or (
                isinstance(b, int) and b == 0 and np.asarray(a).dtype.kind in "iu"):
            raise ZeroDivisionError("floor_divide: integer division by zero")
        ctx.shapes = (_shape(a), _shape(b))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.floor_divide(a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (sum_to(g * 0.0, sa) if need_a else None, sum_to(g * 0.0, sb) if need_b else None)


class Remainder(Op):
    """a mod b with the sign of b (Python's %), as torch.remainder.

    forward:   out = a - floor(a / b) * b
    backward:  ga = g                       gb = -g * floor(a / b)
    saved:     a, b
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.shapes = (_shape(a), _shape(b))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.remainder(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        ga = sum_to(g, sa) if need_a else None
        gb = sum_to(-g * (a / b).floor(), sb) if need_b else None
        return ga, gb


class Neg(Op):
    """-x.      backward: gx = -g"""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return (-g,)


class Reciprocal(Op):
    """1 / x.   backward: gx = -g * out * out     saved: out"""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore"):
            out = np.reciprocal(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return (-g * out * out,)


class Abs(Op):
    """|x|.     backward: gx = g * sign(x)    (subgradient 0 at x = 0, as PyTorch)   saved: x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g * x.sign(),)


class Exp(Op):
    """e ** x.  backward: gx = g * out      saved: out"""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(over="ignore"):
            out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return (g * out,)


class Log(Op):
    """ln x.    backward: gx = g / x        saved: x      edges: log(0) = -inf, log(<0) = nan"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g / x,)


class Log1p(Op):
    """ln(1 + x), accurate for small x.     backward: gx = g / (1 + x)      saved: x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g / (x + 1.0),)


class Expm1(Op):
    """e ** x - 1, accurate for small x.    backward: gx = g * (out + 1)    saved: out"""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(over="ignore"):
            out = np.expm1(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return (g * (out + 1.0),)


class Sqrt(Op):
    """sqrt(x).     backward: gx = g / (2 * out)     saved: out    edges: x = 0 gives inf"""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(invalid="ignore"):
            out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return (g / (out * 2.0),)


class Rsqrt(Op):
    """1 / sqrt(x).     backward: gx = -0.5 * g * out ** 3     saved: out"""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = 1.0 / np.sqrt(x)
        out = out.astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return (g * out * out * out * -0.5,)


class Sin(Op):
    """sin x.   backward: gx = g * cos(x)     saved: x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g * x.cos(),)


class Cos(Op):
    """cos x.   backward: gx = -g * sin(x)    saved: x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (-g * x.sin(),)


class Tanh(Op):
    """tanh x.  backward: gx = g * (1 - out ** 2)     saved: out"""

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return (g * (1.0 - out * out),)


class Sigmoid(Op):
    """1 / (1 + e ** -x), computed without overflow for large |x|.

    forward:   out = exp(-log1p(exp(-x))) for x >= 0, exp(x) / (1 + exp(x)) for x < 0
    backward:  gx = g * out * (1 - out)
    saved:     out
    """

    @staticmethod
    def forward(ctx, x):
        # e ** -|x| never overflows; the two branches are the same function
        z = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z)).astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return (g * out * (1.0 - out),)


class Relu(Op):
    """max(x, 0).   backward: gx = g * (x > 0)   (subgradient 0 at x = 0)   saved: out"""

    @staticmethod
    def forward(ctx, x):
        out = np.maximum(x, 0).astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return (_scale(g, out.array > 0),)  # g * a bool mask keeps g's dtype


class LeakyRelu(Op):
    """x if x > 0 else slope * x.

    backward:  gx = g * where(x > 0, 1, slope)
    saved:     x
    """

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return np.where(x > 0, x, x * negative_slope).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        factor = np.where(x.array > 0, 1.0, ctx.slope).astype(x.array.dtype)
        return _scale(g, factor), None


class Softplus(Op):
    """log(1 + e ** (beta x)) / beta; linear above `threshold` (as PyTorch) for stability.

    forward:   out = x                                   where beta x > threshold
                     (max(bx, 0) + log1p(e ** -|bx|)) / beta  elsewhere (never overflows)
    backward:  gx = g * sigmoid(beta x)   (1 where beta x > threshold)
    saved:     x
    """

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        bx = x * beta
        soft = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / beta
        return np.where(bx > threshold, x, soft).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        bx = x * ctx.beta
        return g * bx.sigmoid().where(bx <= ctx.threshold, 1.0), None, None


_erf = np.frompyfunc(math.erf, 1, 1)


class Erf(Op):
    """The error function.    backward: gx = g * 2 / sqrt(pi) * e ** (-x ** 2)    saved: x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        # NumPy has no erf; math.erf is exact, and applied elementwise it is fast enough for
        # the sizes where erf appears (GELU on small models).
        return np.asarray(_erf(x), dtype=x.dtype)  # a 0-d input gives a Python float

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g * (2.0 / math.sqrt(math.pi)) * (-x * x).exp(),)


class Gelu(Op):
    """x * Phi(x) (exact), or PyTorch's tanh approximation with approximate='tanh'.

    forward:   out = x * 0.5 * (1 + erf(x / sqrt 2))
    backward:  gx = g * (Phi(x) + x * phi(x)),   phi(x) = e ** (-x**2 / 2) / sqrt(2 pi)
               tanh form: u = sqrt(2/pi) (x + 0.044715 x**3),  out = 0.5 x (1 + tanh u)
               gx = g * (0.5 (1 + tanh u) + 0.5 x (1 - tanh(u)**2) du/dx)
    saved:     x
    """

    @staticmethod
    def forward(ctx, x, approximate):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            u = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)
            return (0.5 * x * (1.0 + np.tanh(u))).astype(x.dtype, copy=False)
        return (x * 0.5 * (1.0 + np.asarray(_erf(x / math.sqrt(2.0)), dtype=x.dtype))).astype(
            x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            k = math.sqrt(2.0 / math.pi)
            t = ((x + 0.044715 * x * x * x) * k).tanh()
            du = (1.0 + 3 * 0.044715 * x * x) * k
            return g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du), None
        cdf = 0.5 * (1.0 + (x * (1.0 / math.sqrt(2.0))).erf())
        pdf = (x * x * -0.5).exp() * (1.0 / math.sqrt(2.0 * math.pi))
        return g * (cdf + x * pdf), None


class _StepFunction(Op):
    """Base of the piecewise-constant ops: flat between jumps, so the gradient is 0.

    backward:  gx = 0        (PyTorch's choice at the jumps too: no subgradient)
    """

    @staticmethod
    def backward(ctx, g, *_):
        return (g * 0.0,) + (None,) * (len(ctx._edges) - 1)


class Sign(_StepFunction):
    """sign(x) in {-1, 0, 1}.      forward: out = sign(x)     backward: gx = 0"""

    @staticmethod
    def forward(ctx, x):
        return np.sign(x)


class Floor(_StepFunction):
    """The largest integer <= x.   forward: out = floor(x)    backward: gx = 0"""

    @staticmethod
    def forward(ctx, x):
        return np.floor(x)


class Ceil(_StepFunction):
    """The smallest integer >= x.  forward: out = ceil(x)     backward: gx = 0"""

    @staticmethod
    def forward(ctx, x):
        return np.ceil(x)


class Trunc(_StepFunction):
    """Round toward 0.             forward: out = trunc(x)    backward: gx = 0"""

    @staticmethod
    def forward(ctx, x):
        return np.trunc(x)


class Round(_StepFunction):
    """Round half to even (PyTorch and NumPy agree), to `decimals` places.

    forward:   out = round(x, decimals)
    backward:  gx = 0
    """

    @staticmethod
    def forward(ctx, x, decimals):
        return np.round(x, decimals)


class Clamp(Op):
    """min(max(x, lo), hi) with scalar bounds (tensor bounds compose maximum/minimum).

    backward:  gx = g * (lo <= x <= hi)    (the gradient passes at the bounds, as PyTorch)
    saved:     x
    """

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        out = x
        if lo is not None:
            out = np.maximum(out, lo)
        if hi is not None:
            out = np.minimum(out, hi)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        keep = np.ones(x.array.shape, dtype=bool)
        if ctx.lo is not None:
            keep &= x.array >= ctx.lo
        if ctx.hi is not None:
            keep &= x.array <= ctx.hi
        return _scale(g, keep.astype(x.array.dtype)), None, None


class Maximum(Op):
    """Elementwise max(a, b); ties split the gradient half and half (as PyTorch).

    backward:  ga = sum_to(g * w, a.shape),   gb = sum_to(g * (1 - w), b.shape)
               w = 1 where a > b, 0.5 where a == b, 0 where a < b
    saved:     w (a constant: the rule is piecewise linear)
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        ctx.w = np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0)).astype(np.result_type(a, b))
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        w = ctx.w
        return (sum_to(_scale(g, w), sa) if need_a else None,
                sum_to(_scale(g, 1.0 - w), sb) if need_b else None)


class Minimum(Op):
    """Elementwise min(a, b); ties split the gradient half and half (as PyTorch).

    backward:  ga = sum_to(g * w, a.shape),   gb = sum_to(g * (1 - w), b.shape)
               w = 1 where a < b, 0.5 where a == b, 0 where a > b
    saved:     w (a constant: the rule is piecewise linear)
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        ctx.w = np.where(a < b, 1.0, np.where(a == b, 0.5, 0.0)).astype(np.result_type(a, b))
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        w = ctx.w
        return (sum_to(_scale(g, w), sa) if need_a else None,
                sum_to(_scale(g, 1.0 - w), sb) if need_b else None)


class Where(Op):
    """cond ? a : b, with broadcasting; cond is a bool array (a constant).

    backward:  ga = sum_to(where(cond, g, 0), a.shape),   gb = sum_to(where(cond, 0, g), b.shape)
    """

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = cond
        ctx.shapes = (_shape(a), _shape(b))
        out = np.where(cond, a, b)
        if isinstance(a, np.ndarray) and out.dtype != a.dtype and (
                not isinstance(b, np.ndarray) or b.dtype == a.dtype):
            out = out.astype(a.dtype)
        elif isinstance(b, np.ndarray) and not isinstance(a, np.ndarray) and out.dtype != b.dtype:
            out = out.astype(b.dtype)
        return out

    @staticmethod
    def backward(ctx, g):
        _, need_a, need_b = ctx.needs_input_grad
        sa, sb = ctx.shapes
        cond = ctx.cond
        cond = np.asarray(cond)
        ga = sum_to(_scale(g, cond.astype(g.array.dtype)), sa) if need_a else None
        gb = sum_to(_scale(g, (~cond).astype(g.array.dtype)), sb) if need_b else None
        return None, ga, gb


class To(Op):
    """A dtype cast.     backward: gx = g cast back to x's dtype (float to float only)"""

    grad_fn_name = "ToCopyBackward0"  # PyTorch names the node of .to() after its copy

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.dtype), None


class Clone(Op):
    """A copy with its own memory.      backward: gx = g"""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return (g,)


class Fill(Op):
    """Every element set to a constant (what fill_ and zero_ record).   backward: gx = 0"""

    @staticmethod
    def forward(ctx, x, value):
        return np.full_like(x, value)

    @staticmethod
    def backward(ctx, g):
        return g * 0.0, None


_state = grad_mode._state
from chainrule.tensor import Tensor  # noqa: E402 - tensor.py imports this module
