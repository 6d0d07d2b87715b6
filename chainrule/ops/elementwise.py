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
from chainrule.autograd.views import recorded
from chainrule.ops.shape import sum_to


def _shape(v):
    return v.shape if isinstance(v, np.ndarray) else ()


def _rule_op(cls, kernel, a, b):
    """`cls.apply(a, b)` for a rule, or the bare NumPy `kernel` when nothing records.

    Backward and jvp rules do their arithmetic through the helpers below: in a plain backward
    or a first-order jvp (see `recorded`) they compute in NumPy directly, since the result
    needs no history; under create_graph, or with tangents to carry (higher orders), they run
    the op, so the rule is differentiable again. b may be a Tensor or a constant (a mask, a
    slope, a number). (NumPy hands back a scalar for 0-d operands: `np.asarray` makes it an
    array.)
    """
    if recorded(a, b):
        return cls.apply(a, b)
    r = kernel(a.array, b.array if isinstance(b, Tensor) else b)
    return Tensor._make(r if type(r) is np.ndarray else np.asarray(r), None, 0, False)


def _scale(g, c):
    """g * c for a constant c (a bool mask, a local slope, a float) in a backward rule."""
    return _rule_op(Mul, np.multiply, g, c)


def _mul(a, b):
    """a * b for two Tensors in a backward rule."""
    return _rule_op(Mul, np.multiply, a, b)


def _sub(a, b):
    """a - b for two Tensors in a backward rule."""
    return _rule_op(Sub, np.subtract, a, b)


def _add(a, b):
    """a + b for two Tensors in a rule."""
    return _rule_op(Add, np.add, a, b)


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


def _total(ctx, *terms):
    """A jvp's result: the sum of its terms, broadcast to the output's shape.

    A term is None where its argument has no tangent (a Python number, an integer tensor, a
    tensor without one: the rules of the classes with `materialize_tangents = False` get None
    there, so they add no term of zeros); None if no term is left. A term may have only its
    input's shape (the tangent of a broadcast input).
    """
    t = None
    for term in terms:
        if term is not None:
            t = term if t is None else _add(t, term)
    if t is None:
        return None
    shape = ctx.outputs[0].array.shape
    return t if t.array.shape == shape else t.expand(shape)


def _step_of(of, values):
    """A piecewise-constant factor of a rule (relu's mask): `values`, a function of `of`.

    Under create_graph PyTorch's rule reads `of` (threshold_backward(g, out)), so the gradient
    requires grad, with a zero second derivative. Recording values + sign(of) * 0 does the
    same: the factor depends on `of`, with gradient 0. Otherwise it is the constant array.
    """
    if _state.enabled and of.requires_grad:
        return Add.apply(Mul.apply(Sign.apply(of), 0.0), values)
    return values


class Add(Op):
    """a + b.

    forward:   out = a + b
    backward:  ga = sum_to(g, a.shape)     gb = sum_to(g, b.shape)
    jvp:       t_out = ta + tb
    """

    materialize_tangents = False  # jvp: None for an input without a tangent

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

    @staticmethod
    def jvp(ctx, ta, tb):
        return _total(ctx, ta, tb)


class Sub(Op):
    """a - b.

    forward:   out = a - b
    backward:  ga = sum_to(g, a.shape)     gb = sum_to(-g, b.shape)
    jvp:       t_out = ta - tb
    """

    materialize_tangents = False  # jvp: None for an input without a tangent

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

    @staticmethod
    def jvp(ctx, ta, tb):
        return _total(ctx, ta, None if tb is None else -tb)


class Mul(Op):
    """a * b.

    forward:   out = a * b
    backward:  ga = sum_to(g * b, a.shape)     gb = sum_to(g * a, b.shape)
    jvp:       t_out = ta * b + a * tb
    saved:     b if a needs a gradient, a if b does (so x[:, 0] = x[:, 3] * w stays legal when
               w needs none)
    """

    materialize_tangents = False  # jvp: None for an input without a tangent

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

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.inputs
        return _total(ctx, None if ta is None else _mul(ta, b), None if tb is None else _mul(tb, a))


class Div(Op):
    """a / b (true division).

    forward:   out = a / b
    backward:  ga = sum_to(g / b, a.shape)              # d out / d a = 1 / b
               gb = sum_to(-g * a / (b * b), b.shape)   # d out / d b = -a / b**2
    jvp:       t_out = ta / b - tb * out / b
    saved:     b; a too if b needs a gradient
    edges:     b == 0 gives inf/nan as NumPy does
    """

    materialize_tangents = False  # jvp: None for an input without a tangent

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

    @staticmethod
    def jvp(ctx, ta, tb):
        b, out = ctx.inputs[1], ctx.outputs[0]
        return _total(ctx, None if ta is None else ta / b, None if tb is None else -tb * out / b)


class Atan2(Op):
    """atan2(a, b): the angle of the point (b, a), in (-pi, pi].

    forward:   out = arctan2(a, b)
    backward:  ga = sum_to(g * b / r2, a.shape)      gb = sum_to(-g * a / r2, b.shape)
               with r2 = a * a + b * b               # d atan(a / b) = (b da - a db) / r2
    jvp:       t_out = (ta * b - tb * a) / r2
    saved:     a, b
    edges:     at a = b = 0 the gradient is nan (0 / 0), as PyTorch's
    """

    materialize_tangents = False  # jvp: None for an input without a tangent

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.shapes = (_shape(a), _shape(b))
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        g = g / (a * a + b * b)
        return (sum_to(g * b, sa) if need_a else None, sum_to(-g * a, sb) if need_b else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.inputs
        r2 = a * a + b * b
        return _total(ctx, None if ta is None else ta * b / r2,
                      None if tb is None else -tb * a / r2)


class Pow(Op):
    """a ** b, for a tensor or scalar base and exponent.

    forward:   out = a ** b
    backward:  ga = sum_to(g * b * a ** (b - 1), a.shape)
               gb = sum_to(g * out * log(a), b.shape)     # where a > 0; 0 where a == 0, b >= 0
    jvp:       t_out = ta * b * a ** (b - 1) + tb * out * log(a)    (the same edges)
    saved:     a, b, out
    edges:     PyTorch's choices: x ** 0 has gradient 0 everywhere (also at x = 0), and the
               exponent's gradient is 0 where the base is 0 and b >= 0 (not nan).
    """

    materialize_tangents = False  # jvp: None for an input without a tangent

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
        return (sum_to(_pow_da(g, a, b), sa) if need_a else None,
                sum_to(_pow_db(g, a, b, out), sb) if need_b else None)

    @staticmethod
    def jvp(ctx, ta, tb):
        # an input without a tangent adds no term (as in PyTorch), even where its slope is
        # infinite (0 ** -0.5): a zero tangent would make that term 0 * inf = nan
        (a, b), out = ctx.inputs, ctx.outputs[0]
        return _total(ctx, None if ta is None else _pow_da(ta, a, b),
                      None if tb is None else _pow_db(tb, a, b, out))


def _pow_da(g, a, b):
    """g * d(a ** b)/da = g * b * a ** (b - 1), and 0 where b == 0 (also at a == 0)."""
    if isinstance(b, (int, float)):
        return g * 0.0 if b == 0 else g * (b * a ** (b - 1))
    with np.errstate(invalid="ignore"):  # a zero g (a tangent) times the inf of 0 ** (b - 1)
        return (g * b * a ** (b - 1)).where(b != 0, 0.0)


def _pow_db(g, a, b, out):
    """g * d(a ** b)/db = g * out * log(a), and 0 where a == 0 and b >= 0."""
    if isinstance(a, (int, float)):
        gb = g * out * (math.log(a) if a > 0 else 0.0 if a == 0 else math.nan)
        return gb.where(b < 0, 0.0) if a == 0 else gb
    # log(0) = -inf; PyTorch masks the 0 * -inf of a == 0, b >= 0 to 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return (g * out * a.log()).where(~((a == 0) & (b >= 0)), 0.0)


class FloorDivide(Op):
    """floor(a / b): piecewise constant, so its gradient is zero (PyTorch: not differentiable).

    forward:   out = floor(a / b)
    backward:  ga = 0, gb = 0
    jvp:       t_out = 0
    """

    materialize_tangents = False  # jvp: None for an input without a tangent

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

    @staticmethod
    def jvp(ctx, ta, tb):
        return _total(ctx, None if ta is None else ta * 0.0, None if tb is None else tb * 0.0)


class Remainder(Op):
    """a mod b with the sign of b (Python's %), as torch.remainder.

    forward:   out = a - floor(a / b) * b
    backward:  ga = g                       gb = -g * floor(a / b)
    jvp:       t_out = ta - tb * floor(a / b)
    saved:     a, b
    """

    materialize_tangents = False  # jvp: None for an input without a tangent

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

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.inputs
        return _total(ctx, ta, None if tb is None else -tb * (a / b).floor())


class Neg(Op):
    """-x.      backward: gx = -g      jvp: t_out = -tx"""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return (-g,)

    @staticmethod
    def jvp(ctx, tx):
        return -tx


class Reciprocal(Op):
    """1 / x.   backward: gx = -g * out * out     jvp: t_out = -tx * out * out     saved: out"""

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

    @staticmethod
    def jvp(ctx, tx):
        out = ctx.outputs[0]
        return -tx * out * out


class Abs(Op):
    """|x|.

    backward:  gx = g * sign(x)    (subgradient 0 at x = 0, as PyTorch)
    jvp:       t_out = tx * sign(x)
    saved:     x
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g * x.sign(),)

    @staticmethod
    def jvp(ctx, tx):
        x = ctx.inputs[0]
        return tx * x.sign()


class Exp(Op):
    """e ** x.  backward: gx = g * out      jvp: t_out = tx * out      saved: out"""

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

    @staticmethod
    def jvp(ctx, tx):
        out = ctx.outputs[0]
        return tx * out


class Log(Op):
    """ln x.

    backward:  gx = g / x
    jvp:       t_out = tx / x
    saved:     x
    edges:     log(0) = -inf, log(<0) = nan
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g / x,)

    @staticmethod
    def jvp(ctx, tx):
        x = ctx.inputs[0]
        return tx / x


class Log1p(Op):
    """ln(1 + x), accurate for small x.

    backward:  gx = g / (1 + x)
    jvp:       t_out = tx / (1 + x)
    saved:     x
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g / (x + 1.0),)

    @staticmethod
    def jvp(ctx, tx):
        x = ctx.inputs[0]
        return tx / (x + 1.0)


class Expm1(Op):
    """e ** x - 1, accurate for small x.

    backward:  gx = g * (out + 1)
    jvp:       t_out = tx * (out + 1)
    saved:     out
    """

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

    @staticmethod
    def jvp(ctx, tx):
        out = ctx.outputs[0]
        return tx * (out + 1.0)


class Sqrt(Op):
    """sqrt(x).

    backward:  gx = g / (2 * out)
    jvp:       t_out = tx / (2 * out)
    saved:     out
    edges:     x = 0 gives inf
    """

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

    @staticmethod
    def jvp(ctx, tx):
        out = ctx.outputs[0]
        return tx / (out * 2.0)


class Rsqrt(Op):
    """1 / sqrt(x).

    backward:  gx = -0.5 * g * out ** 3
    jvp:       t_out = -0.5 * tx * out ** 3
    saved:     out
    """

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

    @staticmethod
    def jvp(ctx, tx):
        out = ctx.outputs[0]
        return tx * out * out * out * -0.5


class Sin(Op):
    """sin x.   backward: gx = g * cos(x)     jvp: t_out = tx * cos(x)     saved: x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g * x.cos(),)

    @staticmethod
    def jvp(ctx, tx):
        x = ctx.inputs[0]
        return tx * x.cos()


class Cos(Op):
    """cos x.   backward: gx = -g * sin(x)    jvp: t_out = -tx * sin(x)    saved: x"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (-g * x.sin(),)

    @staticmethod
    def jvp(ctx, tx):
        x = ctx.inputs[0]
        return -tx * x.sin()


class Tanh(Op):
    """tanh x.

    backward:  gx = g * (1 - out ** 2)
    jvp:       t_out = tx * (1 - out ** 2)
    saved:     out
    """

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return (g * (1.0 - out * out),)

    @staticmethod
    def jvp(ctx, tx):
        out = ctx.outputs[0]
        return tx * (1.0 - out * out)


class Sigmoid(Op):
    """1 / (1 + e ** -x), computed without overflow for large |x|.

    forward:   out = exp(-log1p(exp(-x))) for x >= 0, exp(x) / (1 + exp(x)) for x < 0
    backward:  gx = g * out * (1 - out)
    jvp:       t_out = tx * out * (1 - out)
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

    @staticmethod
    def jvp(ctx, tx):
        out = ctx.outputs[0]
        return tx * out * (1.0 - out)


class Relu(Op):
    """max(x, 0).

    backward:  gx = g * (x > 0)   (subgradient 0 at x = 0)
    jvp:       t_out = tx * (x > 0)
    saved:     out
    """

    @staticmethod
    def forward(ctx, x):
        out = np.maximum(x, 0).astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        # g * a bool mask keeps g's dtype; (x > 0) == (out > 0)
        return (_scale(g, _step_of(out, out.array > 0)),)

    @staticmethod
    def jvp(ctx, tx):
        return _scale(tx, ctx.outputs[0].array > 0)


class LeakyRelu(Op):
    """x if x > 0 else slope * x.

    backward:  gx = g * where(x > 0, 1, slope)
    jvp:       t_out = tx * where(x > 0, 1, slope)
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
        return _scale(g, _step_of(x, _leaky_slope(ctx, x))), None

    @staticmethod
    def jvp(ctx, tx, _):
        return _scale(tx, _leaky_slope(ctx, ctx.inputs[0]))


def _leaky_slope(ctx, x) -> np.ndarray:
    return np.where(x.array > 0, 1.0, ctx.slope).astype(x.array.dtype)


class Softplus(Op):
    """log(1 + e ** (beta x)) / beta; linear above `threshold` (as PyTorch) for stability.

    forward:   out = x                                   where beta x > threshold
                     (max(bx, 0) + log1p(e ** -|bx|)) / beta  elsewhere (never overflows)
    backward:  gx = g * sigmoid(beta x)   (1 where beta x > threshold)
    jvp:       t_out = tx * sigmoid(beta x)   (tx where beta x > threshold)
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
        return g * _softplus_slope(ctx, x), None, None

    @staticmethod
    def jvp(ctx, tx, *_):
        return tx * _softplus_slope(ctx, ctx.inputs[0])


def _softplus_slope(ctx, x):
    bx = x * ctx.beta
    return bx.sigmoid().where(bx <= ctx.threshold, 1.0)


_erf = np.frompyfunc(math.erf, 1, 1)


class Erf(Op):
    """The error function.

    backward:  gx = g * 2 / sqrt(pi) * e ** (-x ** 2)
    jvp:       t_out = tx * 2 / sqrt(pi) * e ** (-x ** 2)
    saved:     x
    """

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

    @staticmethod
    def jvp(ctx, tx):
        x = ctx.inputs[0]
        return tx * (2.0 / math.sqrt(math.pi)) * (-x * x).exp()


class Gelu(Op):
    """x * Phi(x) (exact), or PyTorch's tanh approximation with approximate='tanh'.

    forward:   out = x * 0.5 * (1 + erf(x / sqrt 2))
    backward:  gx = g * (Phi(x) + x * phi(x)),   phi(x) = e ** (-x**2 / 2) / sqrt(2 pi)
               tanh form: u = sqrt(2/pi) (x + 0.044715 x**3),  out = 0.5 x (1 + tanh u)
               gx = g * (0.5 (1 + tanh u) + 0.5 x (1 - tanh(u)**2) du/dx)
    jvp:       t_out = tx * (Phi(x) + x * phi(x)), or the tanh form's slope as in gx
    saved:     x
    """

    @staticmethod
    def forward(ctx, x, approximate):
        if approximate not in ("none", "tanh"):
            raise RuntimeError(f"gelu: approximate argument must be either none or tanh, got "
                               f"{approximate!r}")
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
        return g * _gelu_slope(x, ctx.approximate), None

    @staticmethod
    def jvp(ctx, tx, _):
        return tx * _gelu_slope(ctx.inputs[0], ctx.approximate)


def _gelu_slope(x, approximate: str):
    """d gelu(x) / dx, exact or of the tanh form."""
    if approximate == "tanh":
        k = math.sqrt(2.0 / math.pi)
        t = ((x + 0.044715 * x * x * x) * k).tanh()
        du = (1.0 + 3 * 0.044715 * x * x) * k
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du
    cdf = 0.5 * (1.0 + (x * (1.0 / math.sqrt(2.0))).erf())
    pdf = (x * x * -0.5).exp() * (1.0 / math.sqrt(2.0 * math.pi))
    return cdf + x * pdf


class _StepFunction(Op):
    """Base of the piecewise-constant ops: flat between jumps, so the gradient is 0.

    backward:  gx = 0        (PyTorch's choice at the jumps too: no subgradient)
    jvp:       t_out = 0
    """

    @staticmethod
    def backward(ctx, g, *_):
        return (g * 0.0,) + (None,) * (len(ctx._edges) - 1)

    @staticmethod
    def jvp(ctx, tx, *_):
        return tx * 0.0


class Sign(_StepFunction):
    """sign(x) in {-1, 0, 1}.      forward: out = sign(x)     backward: gx = 0     jvp: t_out = 0"""

    @staticmethod
    def forward(ctx, x):
        return np.sign(x)


class Floor(_StepFunction):
    """The largest integer <= x.   forward: out = floor(x)    backward: gx = 0    jvp: t_out = 0"""

    @staticmethod
    def forward(ctx, x):
        return np.floor(x)


class Ceil(_StepFunction):
    """The smallest integer >= x.  forward: out = ceil(x)     backward: gx = 0    jvp: t_out = 0"""

    @staticmethod
    def forward(ctx, x):
        return np.ceil(x)


class Trunc(_StepFunction):
    """Round toward 0.             forward: out = trunc(x)    backward: gx = 0    jvp: t_out = 0"""

    @staticmethod
    def forward(ctx, x):
        return np.trunc(x)


class Round(_StepFunction):
    """Round half to even (PyTorch and NumPy agree), to `decimals` places.

    forward:   out = round(x, decimals)
    backward:  gx = 0
    jvp:       t_out = 0
    """

    @staticmethod
    def forward(ctx, x, decimals):
        return np.round(x, decimals)


class Clamp(Op):
    """min(max(x, lo), hi) with scalar bounds (tensor bounds compose maximum/minimum).

    backward:  gx = g * (lo <= x <= hi)    (the gradient passes at the bounds, as PyTorch)
    jvp:       t_out = tx * (lo <= x <= hi)
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
        return _scale(g, _inside(ctx, x.array)), None, None

    @staticmethod
    def jvp(ctx, tx, *_):
        return _scale(tx, _inside(ctx, ctx.inputs[0].array))


def _inside(ctx, x: np.ndarray) -> np.ndarray:
    """1 where lo <= x <= hi (a missing bound: no limit), else 0, in x's dtype."""
    keep = np.ones(x.shape, dtype=bool)
    if ctx.lo is not None:
        keep &= x >= ctx.lo
    if ctx.hi is not None:
        keep &= x <= ctx.hi
    return keep.astype(x.dtype)


class Maximum(Op):
    """Elementwise max(a, b); ties split the gradient half and half (as PyTorch).

    backward:  ga = sum_to(g * w, a.shape),   gb = sum_to(g * (1 - w), b.shape)
               w = 1 where a > b, 0.5 where a == b, 0 where a < b
    jvp:       t_out = ta * w + tb * (1 - w)
    saved:     w (a constant: the rule is piecewise linear)
    """

    materialize_tangents = False  # jvp: None for an input without a tangent

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

    @staticmethod
    def jvp(ctx, ta, tb):
        return _total(ctx, None if ta is None else _scale(ta, ctx.w),
                      None if tb is None else _scale(tb, 1.0 - ctx.w))


class Minimum(Op):
    """Elementwise min(a, b); ties split the gradient half and half (as PyTorch).

    backward:  ga = sum_to(g * w, a.shape),   gb = sum_to(g * (1 - w), b.shape)
               w = 1 where a < b, 0.5 where a == b, 0 where a > b
    jvp:       t_out = ta * w + tb * (1 - w)
    saved:     w (a constant: the rule is piecewise linear)
    """

    materialize_tangents = False  # jvp: None for an input without a tangent

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

    @staticmethod
    def jvp(ctx, ta, tb):
        return _total(ctx, None if ta is None else _scale(ta, ctx.w),
                      None if tb is None else _scale(tb, 1.0 - ctx.w))


class Where(Op):
    """cond ? a : b, with broadcasting; cond is a bool array (a constant).

    backward:  ga = sum_to(where(cond, g, 0), a.shape),   gb = sum_to(where(cond, 0, g), b.shape)
    jvp:       t_out = where(cond, ta, tb)
    """

    materialize_tangents = False  # jvp: None for an input without a tangent

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

    @staticmethod
    def jvp(ctx, _, ta, tb):
        return Where.apply(ctx.cond, 0.0 if ta is None else ta, 0.0 if tb is None else tb)


class To(Op):
    """A dtype cast.

    backward:  gx = g cast back to x's dtype (float to float only)
    jvp:       t_out = tx cast to out's dtype (none for an integer out)
    """

    grad_fn_name = "ToCopyBackward0"  # PyTorch names the node of .to() after its copy

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.dtype), None

    @staticmethod
    def jvp(ctx, tx, _):
        out = ctx.outputs[0]
        return tx.to(out.dtype) if out.is_floating_point() else None


class Clone(Op):
    """A copy with its own memory.      backward: gx = g      jvp: t_out = tx (a copy)"""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return (g,)

    @staticmethod
    def jvp(ctx, tx):
        return tx.clone()  # the output's tangent is its own, as its values are


class Fill(Op):
    """Every element set to a constant (what fill_ and zero_ record).

    backward:  gx = 0
    jvp:       t_out = 0
    """

    @staticmethod
    def forward(ctx, x, value):
        return np.full_like(x, value)

    @staticmethod
    def backward(ctx, g):
        return g * 0.0, None

    @staticmethod
    def jvp(ctx, tx, _):
        return tx * 0.0


_state = grad_mode._state
from chainrule.tensor import Tensor  # noqa: E402 - tensor.py imports this module
