"""The op table: one row per public op, driving tests/ops/test_ops.py (the one harness that
compares chainrule with PyTorch).

A row names the op, a callable `fn(lib, *inputs, **kwargs)` that runs it with either library
(`lib` is `chainrule` or `torch`, so one lambda serves both), sample input shapes (broadcast
pairs, 0-d and size-1 dims), the domain each input is drawn from (away from kinks, poles and
ties, so that finite differences are meaningful), kwargs, which inputs are differentiable,
tolerances, and `functions`: the Function classes the row exercises ("ops.elementwise.Add" is
chainrule.ops.elementwise.Add). Meta-tests check that every Function class has a row and that
each row really records the classes it names.

A row may also carry `composite`: the op's definition composed of simpler ops (a fused op's
value, gradient and second derivative must equal it), and `errors`: bad inputs, each of which
must raise the exception PyTorch raises for it, with chainrule's message. Forward mode is
checked on every differentiable row; one that torch.func.jvp cannot check (to first or to
second order) says why in `no_torch_jvp` / `no_torch_jvp2`. The functional and
convolution rows cross stride / padding / dilation / groups / ceil_mode on tiny shapes.

Everything a row needs besides its float inputs (index tensors, class targets, masks) is built
inside `fn` from the inputs' shapes, so both libraries see the same constants.
"""

from __future__ import annotations

import importlib
import itertools
import math
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

# ---------------------------------------------------------------- tolerances
# Finite differences in float64 with eps 1e-6: truncation ~1e-12 * f''', round-off
# ~1e-16 * |f| / eps = 1e-10 * |f|; so 1e-5 relative is loose for a right rule and a rule
# that is 0.1% off (tests/test_ops.py checks this) is caught a hundred times over.
GRADCHECK_TOL = {"eps": 1e-6, "atol": 1e-7, "rtol": 1e-5}


# ---------------------------------------------------------------- input domains
def _real(rng, shape):
    return rng.uniform(-2.0, 2.0, shape)


def _small(rng, shape):
    return rng.uniform(-1.0, 1.0, shape)


def _pos(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def _unit(rng, shape):
    return rng.uniform(0.1, 0.9, shape)


def _nonzero(rng, shape):
    """Away from 0: the kink of abs, relu, sign, leaky_relu and the pole of 1/x."""
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape)


def _distinct(rng, shape):
    """Values at least 0.1 apart: no ties for max / min / sort, even after a perturbation."""
    n = int(np.prod(shape, dtype=np.int64))
    values = (rng.permutation(n) - n / 2) * 0.37 + rng.uniform(0.0, 0.05, n)
    return values.reshape(shape)


def _frac(rng, shape):
    """Away from integers and half-integers: floor, ceil, round, trunc are locally constant."""
    whole = rng.integers(-3, 3, shape).astype(np.float64)
    part = rng.uniform(0.1, 0.4, shape) + rng.choice([0.0, 0.5], shape)
    return whole + part


def _frac10(rng, shape):
    """Like _frac, a tenth of it: round(x, decimals=1) is locally constant."""
    return _frac(rng, shape) / 10.0


def _low(rng, shape):
    return rng.uniform(-1.5, -0.3, shape)


def _high(rng, shape):
    return rng.uniform(0.3, 1.5, shape)


def _ties(rng, shape):
    """Few distinct values: ties for max / min / maximum (subgradient choices vs PyTorch)."""
    return rng.choice([-1.0, 0.5, 2.0], shape)


def _kinks(rng, shape):
    """Values at the kinks of abs / relu / sign / clamp(-0.5, 0.5)."""
    return rng.choice([0.0, -0.5, 0.5, 1.5, -1.5], shape)


def _with_zero(rng, shape):
    """Reals with one exact zero (prod's special case)."""
    x = _real(rng, shape)
    if x.size:
        x.reshape(-1)[rng.integers(x.size)] = 0.0
    return x


def _two_zeros(rng, shape):
    x = _real(rng, shape)
    if x.size >= 2:
        x.reshape(-1)[rng.choice(x.size, 2, replace=False)] = 0.0
    return x


def _simplex(rng, shape):
    """Probabilities: positive, summing to 1 along the class axis (1, or 0 for 1-d)."""
    e = np.exp(rng.normal(size=shape))
    return e / e.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)


def _log_simplex(rng, shape):
    return np.log(_simplex(rng, shape))


def _wide(rng, shape):
    """[-4, 7]: both saturations of every activation, moved off their kinks and thresholds."""
    x = rng.uniform(-4.0, 7.0, shape)
    for k in (0.0, 0.1, -0.5, 0.8, 1.0, -1.0, 2.5, 3.0, -3.0, 6.0, 20.0):
        x = np.where(np.abs(x - k) < 0.02, x + 0.05, x)
    return x


DOMAINS: dict[str, Callable] = {
    "real": _real, "small": _small, "pos": _pos, "unit": _unit, "nonzero": _nonzero,
    "distinct": _distinct, "frac": _frac, "frac10": _frac10, "low": _low, "high": _high,
    "ties": _ties, "kinks": _kinks, "with_zero": _with_zero, "two_zeros": _two_zeros,
    "simplex": _simplex, "log_simplex": _log_simplex, "wide": _wide,
}


# ---------------------------------------------------------------- rows
@dataclass(frozen=True)
class Sample:
    """Shapes of the row's inputs, plus kwargs (and an optional domain) for this sample."""

    shapes: tuple
    kwargs: dict = field(default_factory=dict)
    domain: str | tuple | None = None
    gradgrad: bool = False  # run gradgradcheck on this sample too (not only the cheapest)


def S(*shapes, domain=None, gradgrad=False, **kwargs) -> Sample:  # noqa: N802 - a table entry
    return Sample(tuple(shapes), kwargs, domain, gradgrad)


@dataclass(frozen=True)
class Bad:
    """A bad call: fn(lib, *inputs of these shapes, **kwargs) raises `error` in both libraries
    (chainrule's message matches `match`)."""

    shapes: tuple
    kwargs: dict
    error: type
    match: str


def B(error, match, *shapes, **kwargs) -> Bad:  # noqa: N802 - reads as a table entry
    return Bad(tuple(shapes), kwargs, error, match)


@dataclass(frozen=True)
class OpSpec:
    name: str
    fn: Callable                      # fn(lib, *inputs, **kwargs), lib = chainrule or torch
    samples: tuple
    functions: tuple = ()             # Function classes exercised, "ops.shape.Reshape" style
    family: str = "misc"              # elementwise, binary, reduction, shape, indexing, ...
    torch_fn: Callable | None = None  # when the torch spelling differs
    domain: str | tuple = "real"      # one name for all inputs, or one per input
    kwargs: tuple = ({},)             # grid crossed with every sample
    diff: tuple | None = None         # indices of inputs that require grad (None: all)
    grad: bool = True                 # False: forward only (integer outputs, no backward)
    torch_grad: bool = True           # PyTorch has a derivative to compare with
    gradcheck: bool = True            # finite differences apply (False at kinks / float32)
    second_order: bool = True         # compare second derivatives with PyTorch
    fwd32: tuple = (1e-5, 1e-5)       # (rtol, atol) of the float32 forward
    fwd64: tuple = (1e-12, 1e-13)     # (rtol, atol) of the float64 forward
    grad_tol: tuple = (1e-10, 1e-12)  # (rtol, atol) of gradients vs PyTorch
    grad32: tuple | None = None       # (rtol, atol) of float32 gradients vs PyTorch, if compared
    composite: Callable | None = None  # composite(lib, *inputs, **kwargs): the op's definition
    errors: tuple = ()                # Bad calls
    no_torch_jvp: str = ""            # why torch.func.jvp cannot check this row ("": it can)
    no_torch_jvp2: str = ""           # why torch.func.jvp of its jvp cannot ("": it can)

    def reference(self):
        return self.torch_fn or self.fn

    def domain_of(self, k: int, sample: Sample) -> Callable:
        d = sample.domain if sample.domain is not None else self.domain
        name = d if isinstance(d, str) else d[k]
        return DOMAINS[name]

    def diff_of(self, n: int) -> tuple:
        return tuple(range(n)) if self.diff is None else self.diff


@dataclass(frozen=True)
class Case:
    """One (row, sample, kwargs) combination."""

    spec: OpSpec
    sample: Sample
    kwargs: dict

    @property
    def id(self) -> str:
        shapes = ",".join("x".join(map(str, s)) or "0d" for s in self.sample.shapes)
        kw = ",".join(f"{k}={_short(v)}" for k, v in self.kwargs.items())
        return f"{self.spec.name}[{shapes}{'|' + kw if kw else ''}]"

    def arrays(self, dtype=np.float64) -> list:
        """The inputs as NumPy arrays: deterministic per case (seeded by its id)."""
        rng = np.random.default_rng(zlib.crc32(self.id.encode()))
        return [self.spec.domain_of(k, self.sample)(rng, shape).astype(dtype)
                for k, shape in enumerate(self.sample.shapes)]


def _short(v) -> str:
    return v.__name__ if callable(v) else repr(v).replace(" ", "")


def cases(specs=None) -> list:
    out = []
    for spec in specs if specs is not None else SPECS:
        for sample in spec.samples:
            for grid in spec.kwargs:
                out.append(Case(spec, sample, {**grid, **sample.kwargs}))
    return out


def F(lib):  # noqa: N802 - torch.nn.functional is imported as F by everyone
    return importlib.import_module(lib.__name__ + ".nn.functional")


def classes(lib, n, c):
    """Deterministic class-index targets of length n in [0, c)."""
    return lib.tensor([(2 * i + 1) % c for i in range(n)])


# ---------------------------------------------------------------- sample sets
UNARY = (S(()), S((3,)), S((2, 3)), S((2, 1, 3)))
BINARY = (S((3,), (3,)), S((2, 3), (3,)), S((2, 1), (1, 3)), S((), (2, 3)), S((2, 3), ()),
          S((1,), (2, 1, 3)))
REDUCE = (S(()), S((3,)), S((2, 3)), S((2, 3), dim=1), S((2, 3), dim=0, keepdim=True),
          S((2, 1, 3), dim=(0, 2)), S((2, 1, 3), dim=-2, keepdim=True), S((), dim=0))
ALONG = (S((3,), dim=0), S((2, 3), dim=1), S((2, 3), dim=0), S((2, 1, 3), dim=-1),
         S((), dim=0))

EW, SH, RD, IX = "ops.elementwise.", "ops.shape.", "ops.reduction.", "ops.indexing."
LA, LG, NN, ES = "ops.linalg.", "linalg.", "ops.nn.", "ops.einsum."
NN_CONV = "ops.conv."
GETITEM = (IX + "GetItem", IX + "IndexAddZeros")


def _unary(name, fn, fns, domain="real", **kw) -> OpSpec:
    return OpSpec(name, fn, UNARY, fns, "elementwise", domain=domain, **kw)


def _binary(name, fn, fns, domain="real", **kw) -> OpSpec:
    return OpSpec(name, fn, BINARY, fns, "binary", domain=domain, **kw)


def _setitem(key_fn):
    def fn(lib, x, v, *rest):
        y = x.clone()
        y[key_fn(lib, *rest)] = v
        return y
    return fn


def _iadd_view(lib, x, v):
    y = x * 1.0
    y[:, 1] += v
    return y


def _mul_view(lib, x, v):
    y = x.clone()
    y[0].mul_(v)
    return y


def _hooked(lib, x):
    m = lib.nn.Tanh()
    m.register_full_backward_hook(lambda module, grad_in, grad_out: None)
    return m(x)


def _iops(lib, x, y):
    z = x * 1.0
    z += y
    z *= y
    z -= x
    z /= 2.0
    return z


def _norm_composite(x, ord=2, dim=None, keepdim=False):
    """vector_norm from abs, pow, sum and amax / amin: its definition."""
    dims = tuple(range(x.ndim)) if dim is None else dim
    if ord == math.inf:
        return x.abs().amax(dims, keepdim)
    if ord == -math.inf:
        return x.abs().amin(dims, keepdim)
    return (x.abs() ** ord).sum(dims, keepdim) ** (1.0 / ord)


def _reduce(loss, reduction="mean"):
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


def _ce_target(lib, x):
    """Class targets for logits x: (N, C), (C,) or (N, C, d1): deterministic, every class."""
    if x.ndim == 1:
        return lib.tensor(1)
    if x.ndim == 2:
        return classes(lib, x.shape[0], x.shape[1])
    return lib.tensor(np.arange(x.shape[0] * x.shape[2]).reshape(x.shape[0], -1) % x.shape[1])


def _ce_composite(lib, x, label_smoothing=0.0, **kw):
    """cross_entropy as nll_loss of log_softmax; label smoothing mixes in the nll of the
    class-mean log-probability (the same ignore_index, weights and reduction)."""
    c = 1 if x.ndim > 1 else 0
    logp = x.log_softmax(c)
    target = _ce_target(lib, x)
    nll = F(lib).nll_loss(logp, target, **kw)
    if not label_smoothing:
        return nll
    uniform = logp.mean(c, keepdim=True).expand(*logp.shape)
    return (1 - label_smoothing) * nll + label_smoothing * F(lib).nll_loss(uniform, target, **kw)


def _layer_norm_composite(lib, x, w, b, eps=1e-5):
    dims = tuple(range(-w.ndim, 0))
    mean = x.mean(dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dims, keepdim=True)
    return (x - mean) / (var + eps).sqrt() * w + b


def _conv(name: str) -> Callable:
    """F.<name>(x, w, *bias, **kwargs): a sample with two shapes has no bias. PyTorch's
    warning about padding='same' with an even kernel (a padded copy) is silenced."""
    def fn(lib, x, w, *b, **kw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return getattr(F(lib), name)(x, w, *b, **kw)
    return fn


def _grid(**axes) -> list:
    """Every combination of the keyword values: [{'stride': 1, 'padding': 0, ...}, ...]."""
    return [dict(zip(axes, values)) for values in itertools.product(*axes.values())]


def _batch_norm_running(lib, x, w, b):
    """batch_norm in training mode with running statistics: (out, running_mean, running_var)
    after the call, so that the in-place update is compared too."""
    c = x.shape[1]
    mean = lib.linspace(-0.5, 0.5, c, dtype=x.dtype)
    var = lib.linspace(0.5, 1.5, c, dtype=x.dtype)
    out = F(lib).batch_norm(x, mean, var, w, b, True, 0.3, 1e-3)
    return out, mean, var


# the tolerances of the bigger convolution and pooling samples, float32 gradients included
CONV_TOL = {"fwd64": (1e-10, 1e-11), "grad_tol": (1e-10, 1e-11), "grad32": (1e-5, 1e-5)}
CONV2D_GRID = tuple(
    S((2, 4, 7, 6), (6, 4 // kw["groups"], 3, 2), *[(6,)] * bias, **kw)
    for kw in _grid(stride=[1, 2, (2, 1)], padding=[0, 1, (1, 2), "valid", "same"],
                    dilation=[1, (1, 2)], groups=[1, 2])
    for bias in (True, False) if not (kw["padding"] == "same" and kw["stride"] != 1))
CONV1D_GRID = tuple(
    S((2, 4, 9), (6, 4 // kw["groups"], 3), (6,), **kw)
    for kw in _grid(stride=[1, 3], padding=[0, 2, "same", "valid"], dilation=[1, 2],
                    groups=[1, 2]) if not (kw["padding"] == "same" and kw["stride"] != 1))
CONVT_GRID = tuple(
    S((2, 4, 4, 5), (4, 6 // kw["groups"], 3, 2), (6,), **kw)
    for kw in _grid(stride=[1, 2, (3, 2)], padding=[0, 1, (2, 1)], output_padding=[0, 1],
                    dilation=[1, 2], groups=[1, 2])
    if kw["output_padding"] < max(np.max(kw["stride"]), kw["dilation"]))
MAXPOOL_GRID = tuple(
    S((2, 3, 7, 8), **kw)
    for kw in _grid(kernel_size=[2, 3, (2, 3)], stride=[None, 1, 2, (1, 2)], padding=[0, 1],
                    dilation=[1, 2], ceil_mode=[False, True]))
AVGPOOL_GRID = tuple(
    S((2, 3, 7, 8), **kw)
    for kw in _grid(kernel_size=[2, 3, (3, 2)], stride=[None, 2, (1, 2)], padding=[0, 1],
                    ceil_mode=[False, True], count_include_pad=[True, False],
                    divisor_override=[None, 5]))
PAD_CASES = ({"pad": (1, 2), "value": 1.5}, {"pad": (1, 2, -1, 3), "value": 1.5},
             {"pad": (0, 0, 1, 1, 2, 0), "value": 1.5}, {"pad": (2, 1, 1, 3), "mode": "reflect"},
             {"pad": (3, 1, 0, 2), "mode": "replicate"},
             {"pad": (2, 3, 1, 4), "mode": "circular"})


def _loss(name: str, *tensor_kwargs) -> Callable:
    """F.<name>(input, target, **kwargs). Float inputs after those two are passed as the
    keyword arguments named in tensor_kwargs (weight, pos_weight)."""
    def fn(lib, x, y, *extra, **kw):
        with warnings.catch_warnings():  # kl_div's reduction='mean' warns in both libraries
            warnings.filterwarnings("ignore", message="reduction: 'mean' divides")
            return getattr(F(lib), name)(x, y, **dict(zip(tensor_kwargs, extra)), **kw)
    return fn


def _class_loss(name: str, *tensor_kwargs, ignored: bool = False, dtype=np.int64) -> Callable:
    """F.<name>(logits, class targets, **kwargs): targets built from the logits' shape (class
    axis 1, or 0 for 1-d logits) reach every class; with `ignored`, every third target is the
    ignore_index (PyTorch's default -100 when none is given)."""
    def fn(lib, x, *extra, **kw):
        c = x.shape[1] if x.ndim > 1 else x.shape[0]
        shape = (x.shape[0], *x.shape[2:]) if x.ndim > 1 else ()
        t = (7 * np.arange(int(np.prod(shape, dtype=np.int64))) + 1) % c
        if ignored:
            t[::3] = kw.get("ignore_index", -100)
        target = lib.tensor(t.reshape(shape).astype(dtype))
        return getattr(F(lib), name)(x, target, **dict(zip(tensor_kwargs, extra)), **kw)
    return fn


REDUCTIONS = ({"reduction": "none"}, {"reduction": "mean"}, {"reduction": "sum"})
LOSS_TOL = {"fwd32": (2e-5, 2e-6), "fwd64": (1e-10, 1e-12), "grad32": (2e-5, 2e-6)}
# binary_cross_entropy's second derivative, 1 / (p (1 - p))^2, loses digits to cancellation
BCE_TOL = {**LOSS_TOL, "grad_tol": (1e-8, 1e-10)}


def _activation(name: str, *grid, **spec) -> OpSpec:
    """F.<name>(x, **kwargs) for each kwargs of the grid, on a (4, 6) sample over [-4, 7]."""
    return OpSpec(f"{name}_range", lambda lib, x, **kw: getattr(F(lib), name)(x, **kw),
                  (S((4, 6), gradgrad=True),), family="nn", domain="wide",
                  kwargs=grid or ({},), **{**LOSS_TOL, **spec})


PI = math.pi

# Rows whose second-order forward mode PyTorch cannot give (checked: test_ops.py asserts each
# reason still holds); finite differences of chainrule's own jvp check them instead.
NORM_JVP2 = ("PyTorch: torch.func.jvp of the jvp of batch / layer / instance norm is wrong "
             "(it disagrees with central differences of its own jvp)")
ZERO_TENSOR_JVP2 = ("PyTorch: an in-place op on a 0-d tensor whose tangent is a ZeroTensor "
                    "raises 'ZeroTensors are immutable'")
HUBER_JVP2 = "PyTorch: huber_loss_backward has no forward AD"

# ---------------------------------------------------------------- the table
SPECS: list[OpSpec] = [
    # ---- arithmetic: operators and their reflected forms with scalars
    _binary("add", lambda lib, a, b: a + b, (EW + "Add", SH + "SumTo")),
    _binary("add_alpha", lambda lib, a, b: lib.add(a, b, alpha=2.5), (EW + "Add", EW + "Mul")),
    _unary("radd_scalar", lambda lib, x: 2.5 + x, (EW + "Add",)),
    _binary("sub", lambda lib, a, b: a - b, (EW + "Sub",)),
    _unary("rsub_scalar", lambda lib, x: 2.5 - x, (EW + "Sub",)),
    _unary("sub_scalar", lambda lib, x: x - 2.5, (EW + "Sub",)),
    _binary("mul", lambda lib, a, b: a * b, (EW + "Mul",)),
    _unary("rmul_scalar", lambda lib, x: 3.0 * x, (EW + "Mul",)),
    _binary("div", lambda lib, a, b: a / b, (EW + "Div",), ("real", "nonzero")),
    _unary("rdiv_scalar", lambda lib, x: 2.0 / x, (EW + "Div",), "nonzero"),
    _unary("div_scalar", lambda lib, x: x / 4.0, (EW + "Div",)),
    _binary("div_fn", lambda lib, a, b: lib.div(a, b), (EW + "Div",), ("real", "nonzero")),
    _binary("atan2", lambda lib, a, b: lib.atan2(a, b), (EW + "Atan2",), ("real", "nonzero")),
    _binary("arctan2_method", lambda lib, a, b: a.arctan2(b), (EW + "Atan2",),
            ("nonzero", "real")),
    _unary("neg", lambda lib, x: -x, (EW + "Neg",)),
    _unary("neg_fn", lambda lib, x: lib.neg(x), (EW + "Neg",)),
    _binary("pow", lambda lib, a, b: a ** b, (EW + "Pow",), ("pos", "real")),
    _unary("pow_int", lambda lib, x: x ** 3, (EW + "Pow",)),
    _unary("pow_float", lambda lib, x: x ** 2.5, (EW + "Pow",), "pos"),
    _unary("pow_negative", lambda lib, x: lib.pow(x, -1.5), (EW + "Pow",), "pos"),
    _unary("pow_zero", lambda lib, x: x ** 0, (EW + "Pow",)),
    _unary("rpow_scalar", lambda lib, x: 2.0 ** x, (EW + "Pow",)),
    _unary("pow_at_zero", lambda lib, x: x ** 2.0, (EW + "Pow",), "with_zero"),
    _binary("pow_base_zero", lambda lib, a, b: a ** b, (EW + "Pow",), ("with_zero", "pos"),
            gradcheck=False, second_order=False, diff=(1,)),
    _binary("floor_divide", lambda lib, a, b: a // b, (EW + "FloorDivide",), ("real", "pos"),
            torch_grad=False, no_torch_jvp="PyTorch: aten::floor_divide has no forward AD"),
    _binary("remainder", lambda lib, a, b: a % b, (EW + "Remainder",), ("real", "pos")),
    _unary("remainder_scalar", lambda lib, x: lib.remainder(x, 1.5), (EW + "Remainder",)),
    _unary("rremainder_scalar", lambda lib, x: 5.0 % x, (EW + "Remainder",), "pos",
           torch_grad=False,  # PyTorch: "derivative for aten::remainder is not implemented"
           no_torch_jvp="PyTorch: aten::remainder with a Tensor divisor has no forward AD"),
    # ---- unary math
    _unary("abs", lambda lib, x: lib.abs(x), (EW + "Abs",), "nonzero"),
    _unary("exp", lambda lib, x: lib.exp(x), (EW + "Exp",)),
    _unary("exp2", lambda lib, x: lib.exp2(x), (EW + "Pow",)),
    _unary("log", lambda lib, x: lib.log(x), (EW + "Log",), "pos"),
    _unary("log2", lambda lib, x: lib.log2(x), (EW + "Log", EW + "Div"), "pos"),
    _unary("log10", lambda lib, x: lib.log10(x), (EW + "Log", EW + "Div"), "pos"),
    _unary("log1p", lambda lib, x: lib.log1p(x), (EW + "Log1p",), "unit"),
    _unary("expm1", lambda lib, x: lib.expm1(x), (EW + "Expm1",)),
    _unary("sqrt", lambda lib, x: lib.sqrt(x), (EW + "Sqrt",), "pos"),
    _unary("rsqrt", lambda lib, x: lib.rsqrt(x), (EW + "Rsqrt",), "pos"),
    _unary("square", lambda lib, x: lib.square(x), (EW + "Mul",)),
    _unary("reciprocal", lambda lib, x: lib.reciprocal(x), (EW + "Reciprocal",), "nonzero"),
    _unary("sin", lambda lib, x: lib.sin(x), (EW + "Sin",)),
    _unary("cos", lambda lib, x: lib.cos(x), (EW + "Cos",)),
    _unary("tan", lambda lib, x: lib.tan(x), (EW + "Sin", EW + "Cos"), "small"),
    _unary("sinh", lambda lib, x: lib.sinh(x), (EW + "Exp",)),
    _unary("cosh", lambda lib, x: lib.cosh(x), (EW + "Exp",)),
    _unary("tanh", lambda lib, x: lib.tanh(x), (EW + "Tanh",)),
    _unary("sigmoid", lambda lib, x: lib.sigmoid(x), (EW + "Sigmoid",)),
    _unary("sigmoid_far", lambda lib, x: lib.sigmoid(x * 20.0), (EW + "Sigmoid",)),
    _unary("relu", lambda lib, x: lib.relu(x), (EW + "Relu",), "nonzero"),
    _unary("erf", lambda lib, x: lib.erf(x), (EW + "Erf",)),
    _unary("sign", lambda lib, x: lib.sign(x), (EW + "Sign",), "nonzero"),
    _unary("floor", lambda lib, x: lib.floor(x), (EW + "Floor",), "frac"),
    _unary("ceil", lambda lib, x: lib.ceil(x), (EW + "Ceil",), "frac"),
    _unary("round", lambda lib, x: lib.round(x), (EW + "Round",), "frac"),
    _unary("round_decimals", lambda lib, x: lib.round(x, decimals=1), (EW + "Round",),
           "frac10", fwd64=(1e-12, 1e-12)),
    _unary("trunc", lambda lib, x: lib.trunc(x), (EW + "Trunc",), "frac"),
    _unary("frac", lambda lib, x: lib.frac(x), (EW + "Trunc", EW + "Sub"), "frac"),
    _unary("clamp", lambda lib, x, **kw: lib.clamp(x, **kw), (EW + "Clamp",),
           kwargs=({"min": -0.5, "max": 0.8}, {"min": -0.5}, {"max": 0.8})),
    _unary("clip", lambda lib, x: lib.clip(x, -0.5, 0.8), (EW + "Clamp",)),
    _unary("clamp_min", lambda lib, x: x.clamp_min(0.2), (EW + "Clamp",)),
    _unary("clamp_max", lambda lib, x: x.clamp_max(0.2), (EW + "Clamp",)),
    OpSpec("clamp_tensor", lambda lib, x, lo, hi: lib.clamp(x, lo, hi),
           (S((3,), (3,), (3,)), S((2, 3), (3,), (2, 1)), S((2, 3), (), ()),
            S((), (), ())), (EW + "Maximum", EW + "Minimum"), "binary",
           domain=("real", "low", "high")),
    OpSpec("clamp_tensor_min", lambda lib, x, lo: lib.clamp(x, min=lo),
           (S((2, 3), (3,)), S((), ())), (EW + "Maximum",), "binary", domain=("real", "low")),
    _binary("maximum", lambda lib, a, b: lib.maximum(a, b), (EW + "Maximum",)),
    _binary("minimum", lambda lib, a, b: lib.minimum(a, b), (EW + "Minimum",)),
    _binary("max_binary", lambda lib, a, b: lib.max(a, b), (EW + "Maximum",)),
    _binary("min_binary", lambda lib, a, b: lib.min(a, b), (EW + "Minimum",)),
    OpSpec("where", lambda lib, c, a, b: lib.where(c > 0, a, b),
           (S((3,), (3,), (3,)), S((2, 3), (3,), (2, 1)), S((2, 1), (2, 3), ()),
            S((), (), ()), S((1, 3), (2, 1), (1,))), (EW + "Where",), "binary", diff=(1, 2)),
    OpSpec("where_scalar", lambda lib, c, a: lib.where(c > 0, a, 0.5),
           (S((2, 3), (3,)), S((), ())), (EW + "Where",), "binary", diff=(1,)),
    OpSpec("where_method", lambda lib, c, a, b: a.where(c > 0, b),
           (S((2, 3), (2, 3), (3,)), S((), (), ())), (EW + "Where",), "binary", diff=(1, 2)),
    OpSpec("masked_fill", lambda lib, c, x: x.masked_fill(c > 0, 0.5),
           (S((2, 3), (2, 3)), S((3,), (2, 3)), S((), ())), (EW + "Where",), "indexing",
           diff=(1,)),
    OpSpec("masked_fill_tensor", lambda lib, c, x, v: lib.masked_fill(x, c > 0, v),
           (S((2, 3), (2, 3), ()), S((3,), (2, 3), ())), (EW + "Where",), "indexing",
           diff=(1, 2)),
    OpSpec("lerp", lambda lib, a, b, w: lib.lerp(a, b, w),
           (S((3,), (3,), (3,)), S((2, 3), (3,), ()), S((), (), ())),
           (EW + "Add", EW + "Sub", EW + "Mul"), "binary", domain=("real", "real", "unit")),
    OpSpec("lerp_scalar", lambda lib, a, b: lib.lerp(a, b, 0.3), (S((2, 3), (3,)), S((), (1,))),
           (EW + "Add", EW + "Sub", EW + "Mul"), "binary"),
    OpSpec("addcmul", lambda lib, x, a, b: lib.addcmul(x, a, b, value=0.5),
           (S((2, 3), (3,), (2, 1)), S((), (), ())), (EW + "Add", EW + "Mul"), "binary"),
    OpSpec("addcdiv", lambda lib, x, a, b: lib.addcdiv(x, a, b, value=0.5),
           (S((2, 3), (3,), (2, 1)), S((), (), ())), (EW + "Add", EW + "Div"), "binary",
           domain=("real", "real", "nonzero")),
    OpSpec("diff", lambda lib, x, **kw: lib.diff(x, **kw),
           (S((4,)), S((2, 3), dim=0), S((2, 4), n=2)), (IX + "GetItem", EW + "Sub"), "shape"),
    _unary("nan_to_num", lambda lib, x: lib.nan_to_num(x), (EW + "Where",)),
    OpSpec("nansum", lambda lib, x, **kw: lib.nansum(x, **kw), REDUCE[:4],
           (RD + "Sum", EW + "Where"), "reduction"),
    OpSpec("nanmean", lambda lib, x, **kw: lib.nanmean(x, **kw), REDUCE[:4],
           (RD + "Sum", EW + "Where", EW + "Div"), "reduction"),
    # ---- activations (torch.nn.functional)
    _unary("relu_F", lambda lib, x: F(lib).relu(x), (EW + "Relu",), "nonzero"),
    _unary("leaky_relu", lambda lib, x, **kw: F(lib).leaky_relu(x, **kw), (EW + "LeakyRelu",),
           "nonzero", kwargs=({}, {"negative_slope": 0.2})),
    _unary("softplus", lambda lib, x, **kw: F(lib).softplus(x, **kw), (EW + "Softplus",),
           kwargs=({}, {"beta": 2.0}, {"beta": 2.0, "threshold": 1.0})),
    _unary("gelu", lambda lib, x, **kw: F(lib).gelu(x, **kw), (EW + "Gelu",),
           kwargs=({}, {"approximate": "none"}, {"approximate": "tanh"})),
    _unary("sigmoid_F", lambda lib, x: F(lib).sigmoid(x), (EW + "Sigmoid",)),
    _unary("tanh_F", lambda lib, x: F(lib).tanh(x), (EW + "Tanh",)),
    _unary("elu", lambda lib, x, **kw: F(lib).elu(x, **kw), (), "nonzero",
           kwargs=({}, {"alpha": 0.5})),
    _unary("selu", lambda lib, x: F(lib).selu(x), (), "nonzero"),
    _unary("celu", lambda lib, x: F(lib).celu(x, alpha=0.5), (), "nonzero"),
    _unary("silu", lambda lib, x: F(lib).silu(x), ()),
    _unary("mish", lambda lib, x: F(lib).mish(x), ()),
    _unary("hardtanh", lambda lib, x: F(lib).hardtanh(x, -0.8, 0.9), (), "nonzero"),
    _unary("relu6", lambda lib, x: F(lib).relu6(x * 4.0), (), "nonzero"),
    # PyTorch's hardsigmoid backward rounds 1/6 to float32 and has no double backward
    _unary("hardsigmoid", lambda lib, x: F(lib).hardsigmoid(x * 2.0), (), "nonzero",
           grad_tol=(1e-7, 1e-9), second_order=False),
    _unary("hardswish", lambda lib, x: F(lib).hardswish(x * 2.0), (), "nonzero"),
    _unary("logsigmoid", lambda lib, x: F(lib).logsigmoid(x * 10.0), ()),
    _unary("softsign", lambda lib, x: F(lib).softsign(x), (), "nonzero"),
    _unary("tanhshrink", lambda lib, x: F(lib).tanhshrink(x), ()),
    _unary("threshold", lambda lib, x: F(lib).threshold(x, 0.1, -2.0), (), "nonzero"),
    OpSpec("glu", lambda lib, x, **kw: F(lib).glu(x, **kw),
           (S((4,)), S((2, 4), dim=1), S((4, 1), dim=0)), family="nn",
           no_torch_jvp2="PyTorch: aten::glu_jvp has no forward AD"),
    OpSpec("softmin", lambda lib, x, **kw: F(lib).softmin(x, **kw), ALONG[:3], family="nn"),
    # every activation on [-4, 7] (both saturations), away from its kinks; float32 gradients
    _activation("hardtanh", {}, {"min_val": -0.5, "max_val": 0.8}, errors=(
        B(ValueError, "min_val cannot be greater than max_val", (3,), min_val=2.0, max_val=1.0),)),
    _activation("glu", {}, {"dim": 0}, errors=(
        B(RuntimeError, "Halving dimension must be even", (3, 5)),
        B(RuntimeError, "glu does not support scalars", ())),
        no_torch_jvp2="PyTorch: aten::glu_jvp has no forward AD"),
    _activation("softmax", {"dim": 1}, {"dim": 0}, errors=(
        B(IndexError, "Dimension out of range", (3, 4), dim=2),)),
    *(_activation(name, *grid) for name, grid in (
        ("relu", ()), ("relu6", ()), ("leaky_relu", ({"negative_slope": 0.2},)),
        ("elu", ({}, {"alpha": 0.7})), ("selu", ()), ("celu", ({"alpha": 2.0},)), ("silu", ()),
        ("mish", ()), ("gelu", ({}, {"approximate": "tanh"})), ("sigmoid", ()), ("tanh", ()),
        ("softplus", ({}, {"beta": 2.0, "threshold": 5.0})), ("logsigmoid", ()),
        ("hardswish", ()),
        ("softsign", ()), ("tanhshrink", ()), ("threshold", ({"threshold": 0.1, "value": 2.0},)),
        ("log_softmax", ({"dim": -1},)), ("softmin", ({"dim": 1},)))),
    # PyTorch's float64 hardsigmoid backward uses a float32 1/6, and it has no double backward
    _activation("hardsigmoid", grad_tol=(1e-7, 1e-12), second_order=False),
    # ---- kinks, ties and zeros: PyTorch's subgradient choices (no finite differences there)
    _unary("abs_at_zero", lambda lib, x: lib.abs(x), (EW + "Abs",), "kinks", gradcheck=False),
    _unary("relu_at_zero", lambda lib, x: lib.relu(x), (EW + "Relu",), "kinks",
           gradcheck=False),
    _unary("sign_at_zero", lambda lib, x: lib.sign(x), (EW + "Sign",), "kinks",
           gradcheck=False),
    _unary("leaky_relu_at_zero", lambda lib, x: F(lib).leaky_relu(x, 0.2),
           (EW + "LeakyRelu",), "kinks", gradcheck=False),
    _unary("clamp_at_bounds", lambda lib, x: lib.clamp(x, -0.5, 0.5), (EW + "Clamp",),
           "kinks", gradcheck=False),
    _binary("maximum_ties", lambda lib, a, b: lib.maximum(a, b), (EW + "Maximum",), "ties",
            gradcheck=False),
    _binary("minimum_ties", lambda lib, a, b: lib.minimum(a, b), (EW + "Minimum",), "ties",
            gradcheck=False),
    # the second derivative of |x| at 0 is undefined: PyTorch gives nan, chainrule 0
    _unary("norm_at_zero", lambda lib, x: lib.linalg.vector_norm(x * 0.0),
           (LA + "Norm2",), gradcheck=False, second_order=False),
    # ---- reductions
    OpSpec("sum", lambda lib, x, **kw: lib.sum(x, **kw), REDUCE, (RD + "Sum",), "reduction"),
    OpSpec("sum_method", lambda lib, x, **kw: x.sum(**kw), REDUCE[2:7], (RD + "Sum",),
           "reduction"),
    OpSpec("mean", lambda lib, x, **kw: lib.mean(x, **kw), REDUCE, (RD + "Mean",), "reduction"),
    OpSpec("var", lambda lib, x, **kw: lib.var(x, **kw),
           (S((3,)), S((2, 3), dim=1), S((2, 3), dim=0, correction=0),
            S((2, 1, 3), dim=(0, 2), keepdim=True), S((2, 3), unbiased=False),
            S((2, 3), dim=1, correction=2), S((1, 3), dim=1)),
           (RD + "Mean", RD + "Sum", EW + "Sub", EW + "Mul", EW + "Div"), "reduction"),
    OpSpec("std", lambda lib, x, **kw: lib.std(x, **kw),
           (S((3,)), S((2, 3), dim=1), S((2, 3), dim=0, correction=0),
            S((2, 1, 3), dim=(0, 2), keepdim=True), S((2, 3), unbiased=False)),
           (RD + "Mean", RD + "Sum", EW + "Sqrt"), "reduction"),
    OpSpec("prod", lambda lib, x, **kw: lib.prod(x, **kw),
           (S(()), S((3,)), S((2, 3)), S((2, 3), dim=1), S((2, 3), dim=0, keepdim=True),
            S((2, 1, 3), dim=-1), S((1,), dim=0)), (RD + "Prod",), "reduction"),
    OpSpec("prod_zeros", lambda lib, x, **kw: lib.prod(x, **kw),
           (S((3,), domain="with_zero"), S((1,), domain="with_zero"),
            S((2, 3), dim=1, domain="with_zero"),
            S((4,), domain="two_zeros"), S((2, 3), domain="two_zeros"),
            S((3, 2), dim=0, domain="two_zeros")), (RD + "Prod",), "reduction"),
    OpSpec("max", lambda lib, x: lib.max(x), UNARY, (RD + "Amax",), "reduction",
           domain="distinct"),
    OpSpec("min", lambda lib, x: x.min(), UNARY, (RD + "Amax",), "reduction",
           domain="distinct"),
    OpSpec("max_dim", lambda lib, x, **kw: lib.max(x, **kw), ALONG[:4] + (
        S((2, 3), dim=1, keepdim=True),), (IX + "GetItem", SH + "Reshape"), "reduction",
        domain="distinct"),
    OpSpec("min_dim", lambda lib, x, **kw: x.min(**kw), ALONG[:4] + (
        S((2, 3), dim=0, keepdim=True),), (IX + "GetItem",), "reduction", domain="distinct"),
    OpSpec("max_ties", lambda lib, x: lib.max(x), (S((3,)), S((2, 3)), S((2, 2, 3))),
           (RD + "Amax",), "reduction", domain="ties", gradcheck=False),
    OpSpec("amax", lambda lib, x, **kw: lib.amax(x, **kw), REDUCE, (RD + "Amax",),
           "reduction", domain="distinct"),
    OpSpec("amin", lambda lib, x, **kw: lib.amin(x, **kw), REDUCE, (RD + "Amax",),
           "reduction", domain="distinct"),
    OpSpec("amax_ties", lambda lib, x, **kw: lib.amax(x, **kw),
           (S((3,)), S((2, 3), dim=1), S((2, 3), dim=(0, 1)), S((2, 2, 3), dim=0, keepdim=True)),
           (RD + "Amax",), "reduction", domain="ties", gradcheck=False),
    OpSpec("amin_ties", lambda lib, x, **kw: lib.amin(x, **kw),
           (S((2, 3)), S((2, 3), dim=1)), (RD + "Amax",), "reduction", domain="ties",
           gradcheck=False),
    OpSpec("logsumexp", lambda lib, x, **kw: lib.logsumexp(x, **kw),
           (S((3,), dim=0), S((2, 3), dim=1), S((2, 3), dim=0, keepdim=True),
            S((2, 1, 3), dim=(0, 2)), S((), dim=0), S((1,), dim=-1)),
           (RD + "LogSumExp",), "reduction",
           composite=lambda lib, x, dim, keepdim=False: x.exp().sum(dim, keepdim).log()),
    OpSpec("logsumexp_large", lambda lib, x, **kw: lib.logsumexp(x * 400.0, **kw),
           (S((3,), dim=0), S((2, 3), dim=1), S((1, 3), dim=0)), (RD + "LogSumExp",),
           "reduction"),
    OpSpec("softmax", lambda lib, x, **kw: lib.softmax(x, **kw), ALONG, (RD + "Softmax",),
           "reduction",
           composite=lambda lib, x, dim: x.exp() / x.exp().sum(dim, keepdim=True)),
    OpSpec("log_softmax", lambda lib, x, **kw: lib.log_softmax(x, **kw), ALONG,
           (RD + "LogSoftmax",), "reduction",
           composite=lambda lib, x, dim: x.softmax(dim).log()),
    OpSpec("softmax_method", lambda lib, x: x.softmax(-1), (S((2, 3)), S((3, 1))),
           (RD + "Softmax",),
           "reduction"),
    OpSpec("log_softmax_large", lambda lib, x: x.mul(300.0).log_softmax(-1),
           (S((2, 3)), S((1, 3))), (RD + "LogSoftmax",), "reduction"),
    OpSpec("cumsum", lambda lib, x, **kw: lib.cumsum(x, **kw), ALONG, (RD + "Cumsum",),
           "reduction"),
    OpSpec("cumprod", lambda lib, x, **kw: lib.cumprod(x, **kw), ALONG, (RD + "Cumprod",),
           "reduction"),
    OpSpec("cumprod_zeros", lambda lib, x, **kw: x.cumprod(**kw),
           (S((4,), dim=0, domain="with_zero"), S((2, 3), dim=1, domain="with_zero"),
            S((5,), dim=0, domain="two_zeros"), S((3, 2), dim=0, domain="two_zeros"),
            S((2, 4), dim=1, domain="two_zeros"), S((1,), dim=0, domain="with_zero"),
            S((2, 1, 3), dim=-1, domain="two_zeros")), (RD + "Cumprod",), "reduction",
           no_torch_jvp2="PyTorch's cumprod jvp at a zero is right to first order only: its "
                         "jvp of the jvp is half the second derivative there"),
    OpSpec("norm", lambda lib, x, **kw: x.norm(**kw),
           (S(()), S((3,)), S((2, 3)), S((2, 3), p=1), S((2, 3), p=float("inf")),
            S((2, 3), dim=1), S((2, 3), p=3, dim=0, keepdim=True), S((2, 3), p="fro")),
           (LA + "Norm2",), "reduction", domain="distinct"),
    OpSpec("norm_fn", lambda lib, x, **kw: lib.norm(x, **kw),
           (S((2, 3)), S((3,), p=1), S((1, 3), dim=1)),
           (LA + "Norm2", EW + "Abs", RD + "Sum"), "reduction", domain="nonzero"),
    # ---- linear algebra
    OpSpec("addmm", lambda lib, x, a, b, **kw: lib.addmm(x, a, b, **kw),
           (S((2, 3), (2, 4), (4, 3)), S((3,), (2, 4), (4, 3), beta=0.5, alpha=2.0),
            S((2, 1), (2, 4), (4, 3), beta=0), S((), (1, 2), (2, 1))), (LA + "MatMul",),
           "linalg", errors=(B(RuntimeError, "mat1 must be a matrix", (2, 2), (2, 3, 1), (1, 2)),)),
    OpSpec("addmm_method", lambda lib, x, a, b: x.addmm(a, b, alpha=-1.0),
           (S((2, 3), (2, 4), (4, 3)),), (LA + "MatMul",), "linalg"),
    OpSpec("baddbmm", lambda lib, x, a, b, **kw: lib.baddbmm(x, a, b, **kw),
           (S((2, 2, 3), (2, 2, 4), (2, 4, 3)), S((3,), (2, 2, 4), (2, 4, 3), beta=2.0, alpha=0.5)),
           (LA + "MatMul",), "linalg"),
    OpSpec("cross", lambda lib, a, b, **kw: lib.cross(a, b, **kw),
           (S((3,), (3,), dim=0), S((2, 3), (2, 3), dim=1), S((3, 2), (3, 1), dim=0),
            S((4, 3), (1, 3), dim=-1)), family="linalg",
           errors=(B(RuntimeError, "dimension 0 must have length 3. Got 4 and 4", (4, 3), (4, 3),
                     dim=0),)),
    OpSpec("cross_method", lambda lib, a, b: a.cross(b, dim=-1), (S((2, 3), (2, 3)),),
           family="linalg"),
    OpSpec("linalg_cross", lambda lib, a, b: lib.linalg.cross(a, b), (S((2, 3), (1, 3)),),
           family="linalg",
           errors=(B(RuntimeError, "same number of dimensions", (2, 3), (3,)),)),
    OpSpec("kron", lambda lib, a, b: lib.kron(a, b),
           (S((2,), (3,)), S((2, 3), (2, 2)), S((2, 1), (3, 2, 2)), S((), (2,))), family="linalg"),
    OpSpec("tensordot", lambda lib, a, b, **kw: lib.tensordot(a, b, **kw),
           (S((2, 3, 4), (3, 4, 2)), S((2, 3), (3, 2), dims=1), S((2,), (3,), dims=0),
            S((2, 3, 4), (4, 2, 5), dims=([0, 2], [1, 0]))), family="linalg",
           errors=(B(RuntimeError, "contracted dimensions need to match", (2, 3), (4, 5),
                     dims=1),)),
    OpSpec("dist", lambda lib, a, b, **kw: lib.dist(a, b, **kw),
           (S((2, 3), (3,)), S((3,), (3,), p=1), S((2, 3), (2, 3), p=3.0),
            S((4,), (4,), p=float("inf"))), family="linalg", domain="distinct"),
    OpSpec("dist_method", lambda lib, a, b: a.dist(b), (S((2, 3), (2, 3)),), family="linalg"),
    OpSpec("matmul", lambda lib, a, b: lib.matmul(a, b),
           (S((3,), (3,)), S((2, 3), (3,)), S((3,), (3, 2)), S((2, 3), (3, 4)),
            S((2, 2, 3), (3, 4)), S((2, 3), (2, 3, 2)), S((2, 1, 2, 3), (3, 3, 2)),
            S((1, 1), (1, 1)), S((3,), (2, 3, 2))), (LA + "MatMul",), "linalg"),
    OpSpec("matmul_op", lambda lib, a, b: a @ b, (S((2, 3), (3, 2)), S((2, 1, 3), (3,))),
           (LA + "MatMul",), "linalg"),
    OpSpec("mm", lambda lib, a, b: lib.mm(a, b), (S((2, 3), (3, 4)), S((1, 1), (1, 2))),
           (LA + "MatMul",), "linalg"),
    OpSpec("bmm", lambda lib, a, b: lib.bmm(a, b), (S((2, 2, 3), (2, 3, 4)),),
           (LA + "MatMul",), "linalg"),
    OpSpec("mv", lambda lib, a, b: lib.mv(a, b), (S((2, 3), (3,)), S((1, 1), (1,))),
           (LA + "MatMul",), "linalg"),
    OpSpec("dot", lambda lib, a, b: lib.dot(a, b), (S((3,), (3,)), S((1,), (1,))),
           (EW + "Mul", RD + "Sum"), "linalg"),
    OpSpec("outer", lambda lib, a, b: lib.outer(a, b), (S((3,), (2,)), S((1,), (1,))),
           (EW + "Mul",), "linalg"),
    OpSpec("inner", lambda lib, a, b: lib.inner(a, b), (S((3,), (3,)), S((2, 3), (2, 3))),
           (LA + "MatMul",), "linalg"),
    OpSpec("einsum", lambda lib, a, b, eq: lib.einsum(eq, a, b),
           (S((2, 3), (3, 4), eq="ij,jk->ik"), S((2, 2, 3), (2, 3, 2), eq="bij,bjk->bik"),
            S((3,), (3,), eq="i,i->"), S((3,), (2,), eq="i,j->ij"),
            S((2, 3), (2, 3), eq="ij,ij->ij"), S((2, 3), (3,), eq="ij,j->i"),
            S((2, 3), (2, 3), eq="ij,ij"), S((2, 3), (4, 3), eq="ij,kj->ik")),
           (ES + "Einsum",), "linalg"),
    OpSpec("einsum_unary", lambda lib, a, eq: lib.einsum(eq, a),
           (S((3, 3), eq="ii->i"), S((3, 3), eq="ii"), S((2, 3), eq="ij->ji"),
            S((2, 3), eq="ij->"), S((2, 2, 3), eq="...ij->...ji"), S((2, 3), eq="ij->j")),
           (ES + "Einsum",), "linalg"),
    OpSpec("linalg_norm", lambda lib, x, **kw: lib.linalg.norm(x, **kw),
           (S((3,)), S((2, 3)), S((2, 3), ord="fro"), S((2, 3), ord=1), S((2, 3), ord=-1),
            S((2, 3), ord=float("inf")), S((2, 3), ord=float("-inf")), S((2, 3), ord=1, dim=1),
            S((2, 2, 3), dim=(1, 2), keepdim=True), S((3,), ord=3)),
           (LA + "Norm2", RD + "Amax"), "linalg", domain="distinct"),
    OpSpec("vector_norm", lambda lib, x, **kw: lib.linalg.vector_norm(x, **kw),
           (S(()), S((3,)), S((2, 3)), S((2, 3), ord=1), S((2, 3), ord=float("inf")),
            S((2, 3), ord=float("-inf")), S((2, 3), ord=3, dim=1),
            S((2, 3), ord=0.5, dim=0, keepdim=True), S((2, 1, 3), dim=(0, 2))),
           (LA + "Norm2", RD + "Amax", EW + "Abs", EW + "Pow"), "linalg", domain="distinct",
           composite=lambda lib, x, **kw: _norm_composite(x, **kw)),
    OpSpec("vector_norm_ord0", lambda lib, x: lib.linalg.vector_norm(x, 0), (S((2, 3)),),
           (), "linalg", domain="nonzero"),
    OpSpec("svdvals", lambda lib, x: lib.linalg.svdvals(x), (S((3, 2)), S((2, 2, 3))),
           (LA + "SVD",), "linalg", grad=False),
    # ---- shape
    OpSpec("reshape", lambda lib, x, shape: x.reshape(shape),
           (S((2, 3), shape=(3, 2)), S((2, 3), shape=(-1,)), S((), shape=(1, 1)),
            S((2, 1, 3), shape=(6, 1)), S((1,), shape=())), (SH + "Reshape",), "shape"),
    OpSpec("reshape_fn", lambda lib, x: lib.reshape(x, (3, -1)), (S((2, 3)),),
           (SH + "Reshape",), "shape"),
    OpSpec("view", lambda lib, x, shape: x.view(*shape),
           (S((2, 3), shape=(3, 2)), S((2, 3), shape=(-1,)), S((), shape=(1,))),
           (SH + "Reshape",), "shape"),
    OpSpec("view_as", lambda lib, x, y: x.view_as(y), (S((2, 3), (6,)),), (SH + "Reshape",),
           "shape", diff=(0,)),
    OpSpec("flatten", lambda lib, x, **kw: lib.flatten(x, **kw),
           (S(()), S((2, 3)), S((2, 1, 3), start_dim=1), S((2, 1, 3), end_dim=1)),
           (SH + "Reshape",), "shape"),
    OpSpec("unflatten", lambda lib, x: x.unflatten(1, (3, 1)), (S((2, 3)),),
           (SH + "Reshape",), "shape"),
    OpSpec("ravel", lambda lib, x: lib.ravel(x), (S((2, 3)),), (SH + "Reshape",), "shape"),
    OpSpec("squeeze", lambda lib, x, **kw: lib.squeeze(x, **kw),
           (S((2, 1, 3)), S((1, 3), dim=0), S((2, 1, 3), dim=1), S((1, 1), dim=(0, 1)),
            S((2, 3), dim=0), S(())), (SH + "Reshape",), "shape"),
    OpSpec("unsqueeze", lambda lib, x, **kw: lib.unsqueeze(x, **kw),
           (S((), dim=0), S((3,), dim=0), S((2, 3), dim=-1), S((2, 3), dim=1)),
           (SH + "Reshape",), "shape"),
    OpSpec("transpose", lambda lib, x, a, b: lib.transpose(x, a, b),
           (S((2, 3), a=0, b=1), S((2, 1, 3), a=-1, b=0), S((3,), a=0, b=0)),
           (SH + "Permute",), "shape"),
    OpSpec("swapaxes", lambda lib, x: x.swapaxes(0, 1), (S((2, 3)),), (SH + "Permute",),
           "shape"),
    OpSpec("permute", lambda lib, x, dims: x.permute(*dims),
           (S((2, 1, 3), dims=(2, 0, 1)), S((2, 3), dims=(1, 0)), S((1,), dims=(0,))),
           (SH + "Permute",), "shape"),
    OpSpec("movedim", lambda lib, x: lib.movedim(x, 0, -1), (S((2, 1, 3)),),
           (SH + "Permute",), "shape"),
    OpSpec("t", lambda lib, x: lib.t(x), (S((2, 3)), S((3,)), S(())), (SH + "Permute",),
           "shape"),
    OpSpec("T", lambda lib, x: x.T, (S((2, 3)), S((1, 3))), (SH + "Permute",), "shape"),
    OpSpec("mT", lambda lib, x: x.mT, (S((2, 3)), S((2, 1, 3))), (SH + "Permute",), "shape"),
    OpSpec("expand", lambda lib, x, shape: x.expand(*shape),
           (S((3,), shape=(2, 3)), S((2, 1), shape=(2, 3)), S((), shape=(2, 2)),
            S((2, 1), shape=(2, 1, -1, 3))), (SH + "Expand",), "shape"),
    OpSpec("expand_as", lambda lib, x, y: x.expand_as(y), (S((2, 1), (2, 3)),),
           (SH + "Expand",), "shape", diff=(0,)),
    OpSpec("broadcast_to", lambda lib, x: lib.broadcast_to(x, (2, 3)), (S((3,)), S(())),
           (SH + "Expand",), "shape"),
    OpSpec("repeat", lambda lib, x, reps: x.repeat(*reps),
           (S((3,), reps=(2,)), S((2, 3), reps=(2, 1)), S((2, 1), reps=(1, 2, 2)),
            S((), reps=(3,))), (SH + "Reshape", SH + "Expand"), "shape"),
    OpSpec("tile", lambda lib, x: lib.tile(x, (2,)), (S((2, 3)),), (SH + "Expand",), "shape"),
    OpSpec("repeat_interleave", lambda lib, x, **kw: lib.repeat_interleave(x, **kw),
           (S((3,), repeats=2), S((2, 3), repeats=2, dim=1)), GETITEM, "shape"),
    OpSpec("rot90", lambda lib, x, **kw: lib.rot90(x, **kw),
           (S((2, 3)), S((2, 3), k=2), S((2, 3, 4), k=-1, dims=(2, 0)), S((2, 3), k=3, dims=[1, 0]),
            S((2, 3), k=4)), family="shape",
           errors=(B(RuntimeError, "expected total dims >= 2", (3,)),
                   B(RuntimeError, "expected rotation dims to be different", (2, 3), dims=(0, 0)),
                   B(RuntimeError, "expected total rotation dims == 2", (2, 3), dims=(0, 1, 2)))),
    OpSpec("rot90_method", lambda lib, x: x.rot90(1, (1, 0)), (S((2, 3)),), family="shape"),
    OpSpec("flip", lambda lib, x, dims: lib.flip(x, dims),
           (S((3,), dims=(0,)), S((2, 3), dims=(0, 1)), S((2, 1, 3), dims=(-1,))),
           (SH + "Flip",), "shape"),
    OpSpec("roll", lambda lib, x, **kw: lib.roll(x, **kw),
           (S((3,), shifts=1, dims=0), S((2, 3), shifts=(1, -1), dims=(0, 1))), GETITEM,
           "shape"),
    OpSpec("cat", lambda lib, *xs, dim: lib.cat(xs, dim=dim),
           (S((2, 3), (1, 3), dim=0), S((2, 1), (2, 3), (2, 2), dim=-1), S((3,), (1,), dim=0)),
           (SH + "Cat",), "shape"),
    OpSpec("stack", lambda lib, *xs, dim: lib.stack(xs, dim=dim),
           (S((2, 3), (2, 3), dim=0), S((3,), (3,), (3,), dim=1), S((), (), dim=0)),
           (SH + "Cat", SH + "Reshape"), "shape"),
    OpSpec("split", lambda lib, x, **kw: lib.split(x, **kw),
           (S((5,), split_size_or_sections=2), S((2, 3), split_size_or_sections=[1, 2], dim=1)),
           GETITEM, "shape"),
    OpSpec("chunk", lambda lib, x, **kw: lib.chunk(x, **kw),
           (S((5,), chunks=2), S((2, 3), chunks=3, dim=1)), GETITEM, "shape"),
    OpSpec("unbind", lambda lib, x, **kw: lib.unbind(x, **kw),
           (S((3,)), S((2, 3), dim=1)), GETITEM, "shape"),
    OpSpec("narrow", lambda lib, x, **kw: lib.narrow(x, **kw),
           (S((4,), dim=0, start=1, length=2), S((2, 3), dim=1, start=-2, length=2)), GETITEM,
           "shape"),
    OpSpec("tril", lambda lib, x, **kw: lib.tril(x, **kw),
           (S((3, 3)), S((2, 3), diagonal=1), S((2, 3, 3), diagonal=-1)), (SH + "Tri",),
           "shape"),
    OpSpec("triu", lambda lib, x, **kw: lib.triu(x, **kw),
           (S((3, 3)), S((3, 2), diagonal=-1), S((2, 2, 3), diagonal=1)), (SH + "Tri",),
           "shape"),
    OpSpec("diag_embed", lambda lib, x, **kw: lib.diag(x, **kw),
           (S((3,)), S((2,), diagonal=1), S((2,), diagonal=-2), S((1,))), (SH + "Diag",),
           "shape"),
    OpSpec("diag_extract", lambda lib, x, **kw: lib.diag(x, **kw),
           (S((3, 3)), S((2, 3), diagonal=1), S((3, 2), diagonal=-1), S((1, 1))),
           (SH + "Diag", SH + "_DiagEmbed"), "shape"),
    OpSpec("diagonal", lambda lib, x, **kw: lib.diagonal(x, **kw),
           (S((3, 3)), S((2, 3), offset=1), S((2, 2, 3), dim1=1, dim2=2),
            S((2, 3, 2), offset=-1, dim1=0, dim2=2)), (SH + "Diag",), "shape"),
    OpSpec("trace", lambda lib, x: lib.trace(x), (S((3, 3)), S((2, 3)), S((1, 1))),
           (SH + "Diag", RD + "Sum"), "shape"),
    # ---- indexing: reads
    OpSpec("index_int", lambda lib, x, i: x[i],
           (S((3,), i=1), S((2, 3), i=-1), S((2, 1, 3), i=(0, 0, 2))), GETITEM, "indexing"),
    OpSpec("index_slice", lambda lib, x, i: x[i],
           (S((4,), i=slice(1, None)), S((5,), i=slice(None, None, 2)),
            S((2, 3), i=(slice(None), slice(1, 3))), S((2, 3), i=(slice(0, 1), slice(None)))),
           GETITEM, "indexing"),
    OpSpec("index_none_ellipsis", lambda lib, x, i: x[i],
           (S((2, 3), i=(None,)), S((2, 3), i=(slice(None), None)), S((2, 1, 3), i=(..., 0)),
            S((3,), i=(..., None)), S((), i=(None,)), S((), i=(...,)),
            S((2, 1, 3), i=(0, ..., None, slice(1, None)))), GETITEM, "indexing"),
    OpSpec("index_tensor", lambda lib, x: x[lib.tensor([0, 2, 0, 1])], (S((3,)), S((3, 2))),
           GETITEM, "indexing"),
    OpSpec("index_list", lambda lib, x: x[:, [1, 1, 0]], (S((2, 3)), S((2, 2, 1))), GETITEM,
           "indexing"),
    OpSpec("index_tensor_2d", lambda lib, x: x[lib.tensor([[0, 1], [1, 1]])], (S((2, 3)),),
           GETITEM, "indexing"),
    OpSpec("index_pairs", lambda lib, x: x[[0, 1, 1], [2, 0, 2]], (S((2, 3)), S((2, 3, 2))),
           GETITEM, "indexing"),
    OpSpec("index_mixed", lambda lib, x: x[1:, lib.tensor([0, 0])], (S((3, 2)),), GETITEM,
           "indexing"),
    OpSpec("index_bool", lambda lib, x, c: x[c > 0], (S((2, 3), (2, 3)), S((3,), (3,))),
           GETITEM, "indexing", diff=(0,)),
    OpSpec("index_bool_rows", lambda lib, x, c: x[c > 0], (S((3, 2), (3,)),), GETITEM,
           "indexing", diff=(0,)),
    OpSpec("masked_select", lambda lib, x, c: lib.masked_select(x, c > 0),
           (S((2, 3), (2, 3)), S((2, 3), (3,)), S((3,), (2, 3))), GETITEM + (SH + "Expand",),
           "indexing",
           diff=(0,)),
    OpSpec("gather", lambda lib, x, dim: lib.gather(
        x, dim, lib.tensor([[0, 0, 2], [1, 2, 1]] if dim else [[1, 0, 1], [0, 0, 1], [1, 1, 0]])),
        (S((2, 3), dim=1), S((2, 3), dim=0)), GETITEM, "indexing"),
    OpSpec("take_along_dim", lambda lib, x: lib.take_along_dim(x, lib.tensor([[2], [0]]), 1),
           (S((2, 3)),), GETITEM, "indexing"),
    OpSpec("index_select", lambda lib, x, dim: lib.index_select(
        x, dim, lib.tensor([2, 0, 2] if dim == 0 else [1, 1])),
           (S((3, 2), dim=0), S((3, 2), dim=1), S((3,), dim=0)), GETITEM, "indexing"),
    OpSpec("sort", lambda lib, x, **kw: lib.sort(x, **kw),
           (S((3,)), S((2, 3), dim=0), S((2, 3), descending=True)), GETITEM, "indexing",
           domain="distinct"),
    OpSpec("topk", lambda lib, x, **kw: lib.topk(x, 2, **kw),
           (S((3,)), S((2, 3), dim=0), S((2, 3), largest=False)), GETITEM, "indexing",
           domain="distinct"),
    # ---- indexing: writes (x[idx] = v as a function of (x, v))
    OpSpec("setitem_basic", lambda lib, x, v, i: _setitem(lambda lib: i)(lib, x, v),
           (S((2, 3), (3,), i=0), S((2, 3), (2,), i=(slice(None), 1)),
            S((2, 3), (), i=(slice(None), slice(1, None))), S((3,), (1,), i=slice(0, 2)),
            S((2, 1, 3), (2, 3), i=(..., 0, slice(None)))),
           (IX + "IndexPut", IX + "GetItem", EW + "Clone"), "indexing"),
    OpSpec("setitem_tensor", _setitem(lambda lib: lib.tensor([2, 0])),
           (S((3, 2), (2, 2)), S((3, 2), (2,)), S((3,), ())),
           (IX + "IndexPut", IX + "GetItem"), "indexing"),
    OpSpec("setitem_pairs", _setitem(lambda lib: ([0, 1], [2, 0])), (S((2, 3), (2,)),),
           (IX + "IndexPut", IX + "GetItem"), "indexing"),
    OpSpec("setitem_bool", _setitem(lambda lib, c: c > 0), (S((2, 3), (), (2, 3)),),
           (IX + "IndexPut", IX + "GetItem"), "indexing", diff=(0, 1)),
    OpSpec("setitem_scalar", lambda lib, x: _setitem(lambda lib: (0, 1))(lib, x, 0.5),
           (S((2, 3)),), (IX + "IndexPut",), "indexing"),
    OpSpec("inplace_view_add", _iadd_view, (S((2, 3), (2,)), S((3, 3), ())),
           (IX + "ViewScatter", IX + "IndexPut"), "indexing"),
    OpSpec("inplace_view_mul", _mul_view, (S((2, 3), (3,)),), (IX + "ViewScatter",),
           "indexing"),
    OpSpec("inplace_ops", _iops, (S((2, 3), (3,)), S((), ())),
           (EW + "Add", EW + "Mul", EW + "Sub", EW + "Div"), "elementwise",
           domain=("real", "nonzero"), no_torch_jvp2=ZERO_TENSOR_JVP2),
    OpSpec("fill_", lambda lib, x: (x * 2.0).fill_(0.5) + x, UNARY[:3], (EW + "Fill",),
           "elementwise", no_torch_jvp2=ZERO_TENSOR_JVP2),
    OpSpec("zero_", lambda lib, x: (x * 2.0).zero_(), UNARY[:3], (EW + "Fill",),
           "elementwise", no_torch_jvp2=ZERO_TENSOR_JVP2),
    OpSpec("scatter_add", lambda lib, x, src, dim: lib.scatter_add(
        x, dim, lib.tensor([[0, 0], [2, 1]] if dim else [[0, 2], [0, 0]]), src),
        (S((2, 3), (2, 2), dim=1), S((3, 2), (2, 2), dim=0)),
        (IX + "IndexAddZeros", EW + "Add"), "indexing"),
    OpSpec("scatter", lambda lib, x, src: lib.scatter(x, 1, lib.tensor([[2, 0], [1, 2]]), src),
           (S((2, 3), (2, 2)),), (IX + "IndexPut",), "indexing"),
    # ---- dtype and copies
    OpSpec("to_float32", lambda lib, x: x.to(lib.float32), UNARY[:3], (EW + "To",),
           gradcheck=False, fwd64=(1e-7, 1e-7), grad_tol=(1e-6, 1e-7)),
    OpSpec("to_roundtrip", lambda lib, x: x.float().double() * x, UNARY[:3],
           (EW + "To", EW + "Mul"), gradcheck=False),
    OpSpec("to_float64", lambda lib, x: x.to(lib.float64) * 2.0, UNARY[:3], (EW + "Mul",)),
    OpSpec("clone", lambda lib, x: x.clone(), UNARY, (EW + "Clone",)),
    OpSpec("contiguous", lambda lib, x: x.t().contiguous(), (S((2, 3)),),
           (EW + "Clone", SH + "Permute")),
    # ---- nn.functional
    OpSpec("mse_loss", lambda lib, x, y, **kw: F(lib).mse_loss(x, y, **kw),
           (S((3,), (3,)), S((2, 3), (2, 3)), S((), ()), S((4, 5), (4, 5), gradgrad=True)),
           (NN + "MseLoss",),
           "nn", kwargs=({}, {"reduction": "sum"}, {"reduction": "none"}), grad32=(2e-5, 2e-6),
           composite=lambda lib, x, y, **kw: _reduce((x - y) ** 2, **kw)),
    OpSpec("l1_loss", lambda lib, x, y, **kw: F(lib).l1_loss(x, y, **kw),
           (S((3,), (3,)), S((2, 3), (2, 3)), S((), ()), S((3, 4), (3, 4), gradgrad=True)),
           family="nn", kwargs=({}, {"reduction": "sum"}, {"reduction": "none"}), **LOSS_TOL),
    OpSpec("smooth_l1_loss", lambda lib, x, y, **kw: F(lib).smooth_l1_loss(x, y, **kw),
           (S((3,), (3,)), S((2, 3), (2, 3)), S((), ())), family="nn",
           kwargs=({}, {"reduction": "sum", "beta": 0.5}, {"reduction": "none", "beta": 2.0})),
    OpSpec("cross_entropy", lambda lib, x, **kw: F(lib).cross_entropy(x, _ce_target(lib, x),
                                                                       **kw),
           (S((2, 3)), S((4, 3), reduction="sum"), S((4, 3), reduction="none"), S((3,)),
            S((2, 3, 2)), S((4, 3), label_smoothing=0.2), S((4, 3), ignore_index=1),
            S((1, 1))), (NN + "CrossEntropy", NN + "CrossEntropyGrad", NN + "NllLoss"), "nn",
           composite=_ce_composite),
    OpSpec("cross_entropy_weight", lambda lib, x, w, **kw: F(lib).cross_entropy(
        x, classes(lib, x.shape[0], x.shape[1]), weight=w, **kw),
        (S((4, 3), (3,)), S((4, 3), (3,), reduction="sum"),
         S((4, 3), (3,), label_smoothing=0.1)), (NN + "CrossEntropy",), "nn",
        domain=("real", "pos"), diff=(0,)),
    OpSpec("cross_entropy_probs", lambda lib, x, p, **kw: F(lib).cross_entropy(x, p, **kw),
           (S((2, 3), (2, 3)), S((3,), (3,)), S((2, 3), (2, 3), reduction="sum")), family="nn",
           domain=("real", "unit")),
    OpSpec("nll_loss", lambda lib, x, **kw: F(lib).nll_loss(
        x, classes(lib, x.shape[0], x.shape[1]), **kw),
        (S((2, 3)), S((4, 3), reduction="sum"), S((4, 3), reduction="none"),
         S((4, 3), ignore_index=1)), (NN + "NllLoss", NN + "NllLossGrad"), "nn"),
    # every target ignored: 'mean' is 0 / 0 = nan, and PyTorch's gradient is 0 (not nan)
    OpSpec("cross_entropy_all_ignored", lambda lib, x, **kw: F(lib).cross_entropy(
        x, lib.tensor([1, 1]), ignore_index=1, **kw), (S((2, 3)), S((2, 3), reduction="sum")),
        (NN + "CrossEntropy",), "nn", gradcheck=False),
    OpSpec("nll_loss_all_ignored", lambda lib, x, **kw: F(lib).nll_loss(
        x, lib.tensor([1, 1]), ignore_index=1, **kw), (S((2, 3)), S((2, 3), reduction="sum")),
        (NN + "NllLoss",), "nn", gradcheck=False),
    # kept targets whose class weight is 0: 'mean' is 0 / 0 = nan, and so is the gradient
    OpSpec("nll_loss_zero_weight", lambda lib, x, **kw: F(lib).nll_loss(
        x, lib.tensor([1, 1]), weight=lib.tensor([1.0, 0.0, 2.0], dtype=x.dtype), **kw),
        (S((2, 3)),), (NN + "NllLoss",), "nn", gradcheck=False),
    OpSpec("cross_entropy_zero_weight", lambda lib, x, **kw: F(lib).cross_entropy(
        x, lib.tensor([1, 1]), weight=lib.tensor([1.0, 0.0, 2.0], dtype=x.dtype), **kw),
        (S((2, 3)),), (NN + "CrossEntropy",), "nn", gradcheck=False),
    OpSpec("nll_loss_weight", lambda lib, x, w: F(lib).nll_loss(
        x, classes(lib, x.shape[0], x.shape[1]), weight=w), (S((4, 3), (3,)),), (NN + "NllLoss",),
        "nn",
        domain=("real", "pos"), diff=(0,)),
    OpSpec("binary_cross_entropy", lambda lib, p, y, **kw: F(lib).binary_cross_entropy(
        p, y, **kw), (S((3,), (3,)), S((2, 3), (2, 3)), S((), ()), S((3, 4), (3, 4))),
        (NN + "BinaryCrossEntropy",), "nn", domain="unit",
        kwargs=({}, {"reduction": "sum"}, {"reduction": "none"}), **BCE_TOL,
        errors=(B(RuntimeError, "elements of input should be between 0 and 1", (3, 4), (3, 4)),
                B(ValueError, "Using a target size .* that is different to the input size",
                  (3, 4), (4,)))),
    OpSpec("binary_cross_entropy_weight", _loss("binary_cross_entropy", "weight"),
           (S((2, 3), (2, 3), (3,)), S((3, 4), (3, 4), (4,), gradgrad=True)), family="nn",
           domain=("unit", "unit", "pos"), diff=(0, 1), kwargs=REDUCTIONS, **BCE_TOL),
    OpSpec("bce_with_logits", lambda lib, x, y, **kw: F(lib).binary_cross_entropy_with_logits(
        x, y, **kw), (S((3,), (3,)), S((2, 3), (2, 3)), S((), ()),
                      S((3, 4), (3, 4), gradgrad=True)),
        (NN + "BinaryCrossEntropyWithLogits",), "nn", **LOSS_TOL,
        errors=(B(ValueError, r"Target size \(torch.Size\(\[4\]\)\) must be the same as input size",
                  (3, 4), (4,)),),
        domain=("real", "unit"), kwargs=({}, {"reduction": "sum"}, {"reduction": "none"}),
        composite=lambda lib, x, y, **kw: F(lib).binary_cross_entropy(x.sigmoid(), y, **kw)),
    OpSpec("bce_with_logits_large", lambda lib, x, y: F(lib).binary_cross_entropy_with_logits(
        x * 50.0, y), (S((2, 3), (2, 3)),), family="nn", domain=("real", "unit")),
    OpSpec("bce_with_logits_pos_weight", _loss("binary_cross_entropy_with_logits", "pos_weight"),
           (S((2, 3), (2, 3), (3,)), S((3, 4), (3, 4), (4,))), family="nn",
           domain=("real", "unit", "pos"), diff=(0, 1), kwargs=REDUCTIONS, **LOSS_TOL,
           errors=(B(RuntimeError, "must match the size of tensor b", (3, 4), (3, 4), (3,)),)),
    OpSpec("huber_loss", lambda lib, x, y, **kw: F(lib).huber_loss(x, y, **kw),
           (S((2, 3), (2, 3)), S((), ()), S((3,), (3,), delta=0.5, reduction="sum")),
           family="nn", no_torch_jvp2=HUBER_JVP2),
    OpSpec("kl_div", lambda lib, x, y, **kw: F(lib).kl_div(x, y, **kw),
           (S((2, 3), (2, 3), reduction="batchmean"), S((3,), (3,), reduction="sum"),
            S((2, 3), (2, 3), reduction="none", log_target=True)), family="nn",
           domain=("real", "unit")),
    # ---- losses: every reduction of each configuration (weights are constant inputs)
    OpSpec("mse_loss_weight", _loss("mse_loss", "weight"), (S((4, 5), (4, 5), (4, 5)),),
           family="nn", domain=("real", "real", "pos"), diff=(0, 1), kwargs=REDUCTIONS,
           **LOSS_TOL, errors=(B(ValueError, "Weights and input must have the same size",
                                 (3, 4), (3, 4), (4,)),)),
    OpSpec("l1_loss_weight", _loss("l1_loss", "weight"), (S((3, 4), (3, 4), (3, 4)),),
           family="nn", domain=("real", "real", "pos"), diff=(0, 1), kwargs=REDUCTIONS,
           **LOSS_TOL),
    OpSpec("smooth_l1_loss_beta", _loss("smooth_l1_loss"),
           (S((3, 4), (3, 4)), S((3, 4), (3, 4), beta=0.6, gradgrad=True),
            S((3, 4), (3, 4), beta=0.0)), family="nn", kwargs=REDUCTIONS, **LOSS_TOL,
           errors=(B(RuntimeError, "does not support negative values for beta", (3, 4), (3, 4),
                     beta=-1.0),)),
    OpSpec("huber_loss_delta", _loss("huber_loss"), (S((3, 4), (3, 4), delta=0.7),),
           family="nn", kwargs=REDUCTIONS, **LOSS_TOL, no_torch_jvp2=HUBER_JVP2,
           errors=(B(RuntimeError, "does not support non-positive values for delta", (3, 4),
                     (3, 4), delta=0.0),)),
    OpSpec("huber_loss_weight", _loss("huber_loss", "weight"),
           (S((3, 4), (3, 4), (3, 4), delta=1.3, gradgrad=True),), family="nn",
           domain=("real", "real", "pos"), diff=(0, 1), kwargs=REDUCTIONS, **LOSS_TOL,
           no_torch_jvp2=HUBER_JVP2),
    OpSpec("bce_with_logits_weight", _loss("binary_cross_entropy_with_logits", "weight"),
           (S((3, 4), (3, 4), (3, 1)),), family="nn", domain=("real", "unit", "pos"),
           diff=(0, 1), kwargs=REDUCTIONS, **LOSS_TOL),
    OpSpec("bce_with_logits_weight_pos_weight",
           _loss("binary_cross_entropy_with_logits", "weight", "pos_weight"),
           (S((2, 3, 2, 2), (2, 3, 2, 2), (2, 2), (3, 1, 1), gradgrad=True),), family="nn",
           domain=("real", "unit", "pos", "pos"), diff=(0, 1), kwargs=REDUCTIONS, **LOSS_TOL),
    OpSpec("nll_loss_targets", _class_loss("nll_loss"), (S((5, 4)), S((2, 4, 3)), S((4,))),
           family="nn", kwargs=REDUCTIONS, **LOSS_TOL),
    OpSpec("nll_loss_weight_targets", _class_loss("nll_loss", "weight"), (S((5, 4), (4,)),),
           family="nn", domain=("real", "pos"), diff=(0,), kwargs=REDUCTIONS, **LOSS_TOL),
    # every third target is the ignored class (ignore_index, or PyTorch's default -100)
    OpSpec("nll_loss_ignored", _class_loss("nll_loss", ignored=True),
           (S((6, 4), ignore_index=2),), family="nn", kwargs=REDUCTIONS, **LOSS_TOL),
    OpSpec("nll_loss_weight_ignored", _class_loss("nll_loss", "weight", ignored=True),
           (S((6, 4), (4,)), S((2, 4, 3, 2), (4,), ignore_index=1, gradgrad=True)),
           family="nn", domain=("real", "pos"), diff=(0,), kwargs=REDUCTIONS, **LOSS_TOL),
    OpSpec("cross_entropy_targets", _class_loss("cross_entropy"),
           (S((5, 4), gradgrad=True), S((2, 4, 3, 2)), S((4,), gradgrad=True),
            S((5, 4), label_smoothing=0.2), S((5, 4), label_smoothing=-0.1),
            S((4,), label_smoothing=0.4)), family="nn", kwargs=REDUCTIONS, **LOSS_TOL,
           errors=(B(RuntimeError, r"label_smoothing must be between 0.0 and 1.0. Got: 1.5",
                     (3, 4), label_smoothing=1.5),)),
    OpSpec("cross_entropy_uint8_targets", _class_loss("cross_entropy", dtype=np.uint8),
           (S((5, 4)),), family="nn", kwargs=REDUCTIONS, **LOSS_TOL),
    OpSpec("cross_entropy_weight_targets", _class_loss("cross_entropy", "weight"),
           (S((5, 4), (4,)),), family="nn", domain=("real", "pos"), diff=(0,),
           kwargs=REDUCTIONS, **LOSS_TOL,
           errors=(B(RuntimeError, "weight tensor should be defined either for all 4 classes",
                     (3, 4), (3,)),)),
    OpSpec("cross_entropy_ignored", _class_loss("cross_entropy", ignored=True),
           (S((6, 4), ignore_index=3), S((6, 4))), family="nn", kwargs=REDUCTIONS, **LOSS_TOL),
    OpSpec("cross_entropy_weight_ignored", _class_loss("cross_entropy", "weight", ignored=True),
           (S((6, 4), (4,), ignore_index=-1, gradgrad=True),
            S((6, 4), (4,), ignore_index=0, label_smoothing=0.3, gradgrad=True),
            S((2, 4, 3, 2), (4,), ignore_index=2, label_smoothing=0.1, gradgrad=True),
            S((2, 3, 5), (3,), ignore_index=1)), family="nn", domain=("real", "pos"),
           diff=(0,), kwargs=REDUCTIONS, **LOSS_TOL),
    OpSpec("cross_entropy_probs_targets", _loss("cross_entropy"), (S((5, 4), (5, 4)),
                                                                  S((4,), (4,))),
           family="nn", domain=("real", "simplex"), kwargs=REDUCTIONS, **LOSS_TOL),
    OpSpec("cross_entropy_probs_weight", _loss("cross_entropy", "weight"),
           (S((5, 4), (5, 4), (4,), label_smoothing=0.25, gradgrad=True),
            S((2, 4, 3, 2), (2, 4, 3, 2), (4,))), family="nn",
           domain=("real", "simplex", "pos"), diff=(0, 1), kwargs=REDUCTIONS, **LOSS_TOL),
    OpSpec("kl_div_targets", _loss("kl_div"),
           (S((3, 4), (3, 4), gradgrad=True),
            S((3, 4), (3, 4), log_target=True, domain=("log_simplex", "log_simplex"),
              gradgrad=True)), family="nn", domain=("log_simplex", "simplex"),
           kwargs=REDUCTIONS + ({"reduction": "batchmean"},), **LOSS_TOL),
    # ---- convolution and pooling: the base rows name the Functions; the _grid rows cross
    # stride / padding / dilation / groups / ceil_mode on one small shape
    OpSpec("conv2d", _conv("conv2d"),
           (S((1, 1, 3, 3), (2, 1, 2, 2), (2,)), S((2, 1, 3, 3), (1, 1, 2, 2), (1,), padding=1),
            S((1, 1, 4, 4), (1, 1, 2, 2), (1,), stride=2, padding=1),
            S((1, 1, 4, 4), (1, 1, 2, 2), (1,), dilation=2),
            S((1, 2, 3, 3), (2, 1, 2, 2), (2,), groups=2),
            S((3, 6, 5), (4, 3, 3, 3), (4,), padding=1),
            S((2, 4, 5, 4), (4, 2, 3, 2), (4,), stride=(2, 1), padding=1, dilation=(1, 2),
              groups=2, gradgrad=True),
            S((1, 2, 4, 4), (3, 2, 2, 2), padding="same", gradgrad=True)),
           (NN_CONV + "Conv2d", NN_CONV + "ConvInputGrad", NN_CONV + "ConvWeightGrad"), "nn",
           **CONV_TOL,
           errors=(B(RuntimeError, "expected input.*to have 6 channels", (2, 3, 5, 5),
                     (4, 6, 3, 3)),
                   B(RuntimeError, "divisible by 3", (2, 6, 5, 5), (4, 2, 3, 3), groups=3),
                   B(RuntimeError, "Kernel size can't be greater", (2, 3, 5, 5), (4, 3, 7, 7)),
                   B(RuntimeError, "not supported for strided", (2, 3, 5, 5), (4, 3, 3, 3),
                     stride=2, padding="same"),
                   B(RuntimeError, "Invalid padding string", (2, 3, 5, 5), (4, 3, 3, 3),
                     padding="full"),
                   B(RuntimeError, r"4D \(batched\)", (5, 5), (4, 3, 3, 3)),
                   B(RuntimeError, "bias", (2, 3, 5, 5), (4, 3, 3, 3), (3,)))),
    OpSpec("conv2d_grid", _conv("conv2d"), CONV2D_GRID, family="nn", **CONV_TOL),
    OpSpec("conv2d_nobias", lambda lib, x, w: F(lib).conv2d(x, w, stride=(1, 2)),
           (S((1, 2, 3, 4), (1, 2, 2, 2)),), (NN_CONV + "Conv2d",), "nn"),
    OpSpec("conv2d_weight_only", lambda lib, x, w: F(lib).conv2d(x, w, padding=1),
           (S((2, 3, 5, 5), (4, 3, 3, 3)),), family="nn", diff=(1,), **CONV_TOL),
    OpSpec("conv1d", _conv("conv1d"),
           (S((1, 2, 4), (2, 2, 2), (2,)), S((2, 1, 5), (1, 1, 3), (1,), stride=2, padding=1),
            S((3, 6), (4, 3, 2)), S((2, 2, 7), (3, 2, 3), (3,), stride=2, padding=2,
                                    gradgrad=True)),
           (NN_CONV + "Conv2d",), "nn", **CONV_TOL),
    OpSpec("conv1d_grid", _conv("conv1d"), CONV1D_GRID, family="nn", **CONV_TOL),
    OpSpec("conv_transpose2d", _conv("conv_transpose2d"),
           (S((1, 2, 2, 2), (2, 1, 2, 2), (1,)),
            S((1, 1, 2, 2), (1, 2, 2, 2), (2,), stride=2, padding=1),
            S((3, 4, 4), (3, 2, 2, 2), stride=2),
            S((2, 4, 3, 3), (4, 1, 3, 2), (2,), stride=2, padding=1, output_padding=1,
              groups=2, gradgrad=True)),
           (NN_CONV + "ConvInputGrad",), "nn", **CONV_TOL,
           errors=(B(RuntimeError, "output padding must be smaller", (2, 3, 5, 5),
                     (3, 2, 3, 3), stride=2, output_padding=2),)),
    OpSpec("conv_transpose2d_grid", _conv("conv_transpose2d"), CONVT_GRID, family="nn",
           **CONV_TOL),
    OpSpec("conv_transpose1d", _conv("conv_transpose1d"),
           (S((1, 2, 3), (2, 1, 2), (1,), stride=2),
            S((2, 4, 5), (4, 6, 3), (6,), stride=2, padding=1, output_padding=1),
            S((2, 4, 5), (4, 3, 3), (6,), stride=1, padding=0, dilation=3, groups=2),
            S((2, 4, 5), (4, 6, 3), (6,), stride=3, padding=2, output_padding=2, dilation=2)),
           (NN_CONV + "ConvInputGrad",), "nn", **CONV_TOL),
    OpSpec("max_pool2d", lambda lib, x, **kw: F(lib).max_pool2d(x, **kw),
           (S((1, 1, 4, 4), kernel_size=2), S((1, 2, 3, 3), kernel_size=3, stride=1, padding=1),
            S((1, 1, 5, 5), kernel_size=2, ceil_mode=True),
            S((1, 1, 4, 4), kernel_size=2, stride=1, dilation=2),
            S((1, 1, 4, 4), kernel_size=2, return_indices=True),
            S((3, 6, 5), kernel_size=2),
            S((1, 2, 5, 7), kernel_size=3, stride=2, padding=1, ceil_mode=True, gradgrad=True),
            S((1, 2, 5, 7), kernel_size=(2, 3), stride=1, dilation=2, gradgrad=True),
            # windows that tile the padded input exactly (nothing of it is left unread)
            S((2, 2, 6, 4), kernel_size=2, padding=1, gradgrad=True)),
           (NN_CONV + "MaxPool2d", NN_CONV + "_PoolScatter", NN_CONV + "_PoolGather"), "nn",
           domain="distinct", **CONV_TOL,
           errors=(B(RuntimeError, "pad should be at most half", (2, 3, 5, 5), kernel_size=2,
                     padding=2),)),
    # return_indices: the indices are compared too
    OpSpec("max_pool2d_grid", lambda lib, x, **kw: F(lib).max_pool2d(x, **kw,
                                                                     return_indices=True),
           MAXPOOL_GRID, family="nn", domain="distinct", **CONV_TOL),
    OpSpec("max_pool1d", lambda lib, x, **kw: F(lib).max_pool1d(x, **kw),
           (S((1, 2, 4), kernel_size=2), S((2, 1, 5), kernel_size=3, stride=2, padding=1),
            S((2, 3, 9), kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True),
            S((2, 3, 9), kernel_size=2, return_indices=True)),
           (NN_CONV + "MaxPool2d",), "nn", domain="distinct", **CONV_TOL),
    OpSpec("avg_pool2d", lambda lib, x, **kw: F(lib).avg_pool2d(x, **kw),
           (S((1, 1, 4, 4), kernel_size=2), S((1, 2, 3, 3), kernel_size=3, stride=1, padding=1),
            S((1, 1, 3, 3), kernel_size=2, stride=1, padding=1, count_include_pad=False),
            S((1, 1, 5, 5), kernel_size=2, ceil_mode=True),
            S((3, 6, 5), kernel_size=2, padding=1),
            S((1, 2, 5, 7), kernel_size=3, stride=2, padding=1, ceil_mode=True,
              count_include_pad=False, gradgrad=True)),
           (NN_CONV + "AvgPool2d", NN_CONV + "_AvgPoolAdjoint"), "nn", **CONV_TOL,
           errors=(B(RuntimeError, "Output size is too small", (1, 1, 2, 2), kernel_size=3),)),
    OpSpec("avg_pool2d_grid", lambda lib, x, **kw: F(lib).avg_pool2d(x, **kw), AVGPOOL_GRID,
           family="nn", **CONV_TOL),
    OpSpec("avg_pool1d", lambda lib, x, **kw: F(lib).avg_pool1d(x, **kw),
           (S((1, 2, 4), kernel_size=2),
            S((2, 3, 9), kernel_size=4, stride=3, padding=2, count_include_pad=False)),
           (NN_CONV + "AvgPool2d",), "nn", **CONV_TOL),
    OpSpec("adaptive_avg_pool2d", lambda lib, x, **kw: F(lib).adaptive_avg_pool2d(x, **kw),
           (S((1, 1, 4, 4), output_size=2), S((1, 2, 3, 5), output_size=(2, 3)),
            S((1, 1, 3, 3), output_size=1), S((3, 6, 5), output_size=(4, 3)),
            *(S((2, 3, 7, 8), output_size=out)
              for out in (1, 3, (2, 4), (5, None), (7, 8), (4, 1))),
            S((1, 2, 5, 7), output_size=(3, 2), gradgrad=True)), family="nn", **CONV_TOL),
    OpSpec("adaptive_avg_pool1d", lambda lib, x, **kw: F(lib).adaptive_avg_pool1d(x, **kw),
           (S((2, 3, 9), output_size=4),), family="nn", **CONV_TOL),
    # ---- normalisation
    OpSpec("batch_norm", lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b,
                                                                training=True),
           (S((4, 2), (2,), (2,)), S((2, 2, 3), (2,), (2,)), S((2, 2, 1, 2), (2,), (2,)),
            S((2, 4, 1, 3), (4,), (4,), gradgrad=True)),
           (NN_CONV + "Normalize",), "nn", fwd32=(1e-4, 1e-5), grad_tol=(1e-9, 1e-11),
           errors=(B(ValueError, "more than 1 value per channel", (1, 3), (3,), (3,)),),
           no_torch_jvp2=NORM_JVP2),
    # running statistics are updated in place: the row returns them after the call (outputs
    # without a graph, though they depend on x: no finite differences)
    OpSpec("batch_norm_running", _batch_norm_running,
           (S((5, 3), (3,), (3,)), S((4, 3, 6), (3,), (3,)), S((4, 3, 5, 2), (3,), (3,))),
           family="nn", fwd32=(1e-4, 1e-5), grad_tol=(1e-9, 1e-11), grad32=(1e-4, 1e-5),
           gradcheck=False, no_torch_jvp2=NORM_JVP2),
    OpSpec("batch_norm_plain", lambda lib, x, **kw: F(lib).batch_norm(
        x, None, None, **{"training": True, **kw}),
        (S((5, 3)), S((4, 3, 6)), S((4, 3, 5, 2))), family="nn", fwd32=(1e-4, 1e-5),
        grad_tol=(1e-9, 1e-11), grad32=(1e-4, 1e-5), no_torch_jvp2=NORM_JVP2,
        errors=(B(RuntimeError, "running_mean", (4, 3), training=False),)),
    OpSpec("batch_norm_eval", lambda lib, x, m, v, w, b: F(lib).batch_norm(
        x, m, v, w, b, training=False),
        (S((3, 2), (2,), (2,), (2,), (2,)), S((5, 3), (3,), (3,), (3,), (3,)),
         S((4, 3, 6), (3,), (3,), (3,), (3,)), S((4, 3, 5, 2), (3,), (3,), (3,), (3,))),
        family="nn", domain=("real", "real", "pos", "real", "real"), diff=(0, 3, 4),
        grad32=(1e-5, 1e-5)),
    OpSpec("layer_norm", lambda lib, x, w, b, **kw: F(lib).layer_norm(x, tuple(w.shape), w, b,
                                                                      **kw),
           (S((2, 3), (3,), (3,)), S((2, 2, 3), (2, 3), (2, 3)), S((3,), (3,), (3,)),
            S((4, 3, 5, 6), (5, 6), (5, 6), eps=1e-4), S((2, 4, 1, 3), (3,), (3,), gradgrad=True)),
           (NN_CONV + "Normalize",), "nn", fwd32=(1e-4, 1e-5), grad_tol=(1e-9, 1e-11),
           grad32=(1e-4, 1e-5), composite=_layer_norm_composite, no_torch_jvp2=NORM_JVP2,
           errors=(B(RuntimeError, "normalized_shape", (3, 5), (4,), (4,)),)),
    # PyTorch wants a tuple; chainrule also takes an int, as nn.LayerNorm does
    OpSpec("layer_norm_plain", lambda lib, x, shape=(3,): F(lib).layer_norm(x, shape),
           (S((2, 3)), S((4, 6), shape=6)), (NN_CONV + "Normalize",), "nn",
           torch_fn=lambda lib, x, shape=(3,): F(lib).layer_norm(
               x, (shape,) if isinstance(shape, int) else shape),
           fwd32=(1e-4, 1e-5), grad_tol=(1e-9, 1e-11), grad32=(1e-4, 1e-5),
           no_torch_jvp2=NORM_JVP2),
    OpSpec("group_norm", lambda lib, x, w, b, num_groups=2: F(lib).group_norm(x, num_groups,
                                                                             w, b),
           (S((2, 4, 2), (4,), (4,)), S((1, 2, 3), (2,), (2,)),
            S((4, 6, 5, 2), (6,), (6,), num_groups=3), S((2, 4, 1, 3), (4,), (4,), gradgrad=True)),
           (NN_CONV + "Normalize",), "nn", fwd32=(1e-4, 1e-5), grad_tol=(1e-9, 1e-11),
           grad32=(1e-4, 1e-5),
           errors=(B(RuntimeError, "divisible by num_groups", (2, 6, 3), (6,), (6,),
                     num_groups=4),)),
    OpSpec("group_norm_plain", lambda lib, x: F(lib).group_norm(x, 2), (S((3, 4, 7)),),
           family="nn", fwd32=(1e-4, 1e-5), grad_tol=(1e-9, 1e-11), grad32=(1e-4, 1e-5)),
    OpSpec("instance_norm", lambda lib, x: F(lib).instance_norm(x), (S((2, 2, 3)),),
           (NN_CONV + "Normalize",), "nn", fwd32=(1e-4, 1e-5), grad_tol=(1e-9, 1e-11),
           no_torch_jvp2=NORM_JVP2),
    OpSpec("instance_norm_affine", lambda lib, x, w, b: F(lib).instance_norm(x, weight=w,
                                                                             bias=b),
           (S((3, 4, 5, 2), (4,), (4,)),), family="nn", fwd32=(1e-4, 1e-5),
           grad_tol=(1e-9, 1e-11), grad32=(1e-4, 1e-5), no_torch_jvp2=NORM_JVP2),
    # ---- embedding, padding, bilinear
    OpSpec("embedding", lambda lib, w: F(lib).embedding(lib.tensor([[0, 2], [2, 3]]), w),
           (S((4, 3)), S((4, 1))), (NN_CONV + "EmbeddingLookup", NN_CONV + "_EmbeddingGrad"),
           "nn"),
    # padding_idx and scale_grad_by_freq change the gradient on purpose: no finite differences
    OpSpec("embedding_padding_idx", lambda lib, w: F(lib).embedding(
        lib.tensor([[0, 2], [2, 3]]), w, padding_idx=0), (S((4, 3)),),
        (NN_CONV + "EmbeddingLookup", NN_CONV + "_EmbeddingGrad"), "nn", gradcheck=False),
    # PyTorch's double backward of embedding ignores scale_grad_by_freq (chainrule's is the
    # exact adjoint), so second derivatives are not compared
    OpSpec("embedding_scale_grad_by_freq", lambda lib, w: F(lib).embedding(
        lib.tensor([[0, 2], [2, 3]]), w, scale_grad_by_freq=True), (S((4, 3)),),
        (NN_CONV + "EmbeddingLookup", NN_CONV + "_EmbeddingGrad"), "nn", gradcheck=False,
        second_order=False),
    OpSpec("embedding_options", lambda lib, w, **kw: F(lib).embedding(
        lib.tensor([[1, 2, 4, 2], [0, 2, 1, 1]]), w, **kw), (S((5, 3)),), family="nn",
        kwargs=({}, {"padding_idx": 2}, {"padding_idx": -1},
                {"scale_grad_by_freq": True, "padding_idx": 0}),
        gradcheck=False, second_order=False, grad32=(1e-5, 1e-5)),
    OpSpec("pad", lambda lib, x, **kw: F(lib).pad(x, **kw),
           (S((2, 3), pad=(1, 2)), S((2, 3), pad=(1, 0, 0, 2), value=0.5),
            S((2, 3), pad=(-1, 1)), S((1, 2, 3), pad=(1, 1), mode="reflect"),
            S((1, 2, 3), pad=(2, 1), mode="replicate"), S((1, 2, 3), pad=(1, 2),
                                                          mode="circular"),
            S((3, 5), pad=(2, 3), mode="reflect"),
            *(S((2, 3, 4, 5), **kw) for kw in PAD_CASES),
            *(S((1, 2, 4, 5), gradgrad=True, **kw) for kw in PAD_CASES)),
           (NN_CONV + "ConstantPad",), "nn", grad32=(1e-5, 1e-5),
           errors=(B(RuntimeError, "less than the corresponding input dimension", (1, 2, 3),
                     pad=(3, 0), mode="reflect"),
                   B(RuntimeError, "divisible by 2", (2, 3), pad=(1, 2, 3)),
                   B(NotImplementedError, r"3-D \(batched\) input", (2, 3, 4, 5), pad=(2, 3),
                     mode="reflect"))),
    OpSpec("bilinear", lambda lib, x1, x2, w, *b: F(lib).bilinear(x1, x2, w, *b),
           (S((2, 3), (2, 2), (4, 3, 2), (4,)), S((4, 3, 5), (4, 3, 6), (7, 5, 6), (7,)),
            S((4, 5), (4, 6), (2, 5, 6))), family="nn", **CONV_TOL),
    OpSpec("dropout_eval", lambda lib, x: F(lib).dropout(x, 0.5, training=False) * 1.0,
           (S((2, 3)),), family="nn"),
    OpSpec("module_backward_hook", lambda lib, x: _hooked(lib, x), (S((2, 3)),),
           ("nn.modules._hooks._Identity",), "nn"),
    OpSpec("linear", lambda lib, x, w, b: F(lib).linear(x, w, b),
           (S((2, 3), (4, 3), (4,)), S((3,), (2, 3), (2,)), S((2, 1, 3), (2, 3), (2,)),
            S((5, 3), (4, 3), (4,), gradgrad=True), S((2, 5, 3), (4, 3), (4,), gradgrad=True),
            S((3,), (4, 3), (4,), gradgrad=True), S((5, 3), (4, 3), (1,), gradgrad=True),
            S((0, 3), (4, 3), (4,))),
           (NN + "Linear",), "nn", composite=lambda lib, x, w, b: x @ w.T + b, **LOSS_TOL,
           errors=(B(RuntimeError, r"bias of shape \[3\] can't be broadcast", (3, 4), (5, 4),
                     (3,)),)),
    OpSpec("linear_nobias", lambda lib, x, w: F(lib).linear(x, w),
           (S((2, 3), (4, 3)), S((3,), (1, 3)), S((5, 3), (4, 3), gradgrad=True),
            S((5, 3), (3,), gradgrad=True)), (NN + "Linear",), "nn", **LOSS_TOL,
           errors=(B(RuntimeError, r"mat1 and mat2 shapes cannot be multiplied \(3x4 and 3x5\)",
                     (3, 4), (5, 3)),)),
    OpSpec("softmax_F", lambda lib, x, **kw: F(lib).softmax(x, **kw), ALONG[:4],
           (RD + "Softmax",), "nn"),
    OpSpec("log_softmax_F", lambda lib, x, **kw: F(lib).log_softmax(x, **kw), ALONG[:4],
           (RD + "LogSoftmax",), "nn"),
    OpSpec("one_hot", lambda lib, **kw: F(lib).one_hot(lib.tensor([0, 2, 1, 2]), **kw),
           (S(), S(num_classes=4)), family="nn", grad=False),
]

BY_NAME = {spec.name: spec for spec in SPECS}
if len(BY_NAME) != len(SPECS):
    raise RuntimeError("opspecs: two rows have the same name")
