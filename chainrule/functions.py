"""The torch.* functions: `torch.exp(x)` is `x.exp()`, plus the ones with several tensors.

The single-tensor functions forward to the Tensor method of the same name after checking that
the first argument is a Tensor (PyTorch raises a TypeError there too).
"""

from __future__ import annotations

import builtins

import numpy as np

from chainrule import dtypes
from chainrule._args import to_axis
from chainrule._legacy import takes_out
from chainrule.ops import shape as shp
from chainrule.tensor import Tensor, as_operand


def _method(name: str):
    method = getattr(Tensor, name)

    def fn(input, *args, **kwargs):  # noqa: A002 - PyTorch's argument name
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        return method(input, *args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.{name}(input, ...) is input.{name}(...)."
    return takes_out(name, fn) if name in OUT_FUNCTIONS else fn


# Each name below is a Tensor method of the same meaning (see tensor.py for its rules).
METHOD_FUNCTIONS = (
    "abs", "absolute", "exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt",
    "square", "reciprocal", "sin", "cos", "tan", "tanh", "sinh", "cosh", "sigmoid", "relu",
    "erf", "sign", "sgn", "floor", "ceil", "trunc", "frac", "round", "clamp", "clip",
    "clamp_min", "clamp_max", "neg", "negative", "add", "sub", "subtract", "mul", "multiply",
    "div", "divide", "true_divide", "floor_divide", "remainder", "pow", "maximum", "minimum",
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
    "not_equal", "equal", "allclose", "isclose", "logical_and", "logical_or", "logical_xor",
    "logical_not", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "nan_to_num",
    "masked_fill", "lerp", "addcmul", "addcdiv", "diff",
    "sum", "nansum", "mean", "nanmean", "var", "std", "prod", "max", "min", "amax", "amin",
    "argmax", "argmin", "logsumexp", "softmax", "log_softmax", "norm", "all", "any",
    "count_nonzero", "cumsum", "cumprod", "atan2", "arctan2",
    "reshape", "flatten", "unflatten", "ravel", "squeeze", "unsqueeze", "transpose",
    "swapaxes", "swapdims", "t", "permute", "movedim", "moveaxis", "broadcast_to",
    "repeat_interleave",
    "tile", "flip", "fliplr", "flipud", "roll", "narrow", "split", "chunk", "tensor_split",
    "unbind", "tril", "triu", "diag", "diagonal", "trace", "gather", "scatter_add", "scatter",
    "index_select", "take_along_dim", "masked_select", "nonzero", "argsort", "sort", "topk",
    "unique", "matmul", "mm", "bmm", "mv", "dot", "inner", "outer", "ger", "detach", "clone",
    "numel", "is_floating_point",
)

# Those that PyTorch gives no `out=` (views, copies, questions about a tensor); every other one
# takes it, the result written into `out` (_legacy.write_out).
NO_OUT = frozenset((
    "allclose", "argsort", "broadcast_to", "chunk", "clone", "count_nonzero", "detach",
    "diagonal", "equal", "flatten", "flip", "fliplr", "flipud", "is_floating_point", "isclose",
    "isfinite", "isinf", "isnan", "masked_fill", "moveaxis", "movedim", "narrow", "numel",
    "permute", "ravel", "relu", "repeat_interleave", "reshape", "roll", "split", "squeeze",
    "swapaxes", "swapdims", "t", "tensor_split", "tile", "trace", "transpose", "unbind",
    "unflatten", "unique", "unsqueeze",
))
OUT_FUNCTIONS = frozenset(METHOD_FUNCTIONS) - NO_OUT

for _name in METHOD_FUNCTIONS:
    globals()[_name] = _method(_name)
del _name


def _tensors(seq, op: str) -> list:
    if isinstance(seq, Tensor) or not isinstance(seq, (list, tuple)):
        raise TypeError(f"{op}(): argument 'tensors' must be a tuple or list of Tensors, got "
                        f"{type(seq).__name__}")
    if len(seq) == 0:
        raise RuntimeError(f"{op}(): expected a non-empty list of Tensors")
    for k, t in enumerate(seq):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected Tensor as element {k} in argument 0, but got "
                            f"{type(t).__name__}")
    return list(seq)


def cat(tensors, dim=0) -> Tensor:
    """Join along an existing dim; all other dims must agree."""
    ts = _tensors(tensors, "cat")
    # PyTorch skips legacy empty 1-D tensors of shape (0,)
    ts = [t for t in ts if not (t.ndim == 1 and t.shape[0] == 0)] or ts[:1]
    ref = ts[0]
    if ref.ndim == 0:
        raise RuntimeError("cat(): zero-dimensional tensor (at position 0) cannot be "
                           "concatenated")
    d = to_axis(dim, ref.ndim, "cat")
    for k, t in enumerate(ts):
        # builtins.any: this module's `any` is torch.any (made from METHOD_FUNCTIONS below)
        if t.ndim != ref.ndim or builtins.any(
                a != b for i, (a, b) in enumerate(zip(t.shape, ref.shape)) if i != d):
            raise RuntimeError(
                f"cat(): Sizes of tensors must match except in dimension {d}. Expected size "
                f"{list(ref.shape)} (apart from dim {d}) but got size {list(t.shape)} for "
                f"tensor number {k} in the list."
            )
    dt = dtypes.result_type(*ts)
    ts = [t if t.array.dtype == dt else t.to(dt) for t in ts]
    return shp.Cat.apply(d, *ts)


concat = concatenate = cat


def stack(tensors, dim=0) -> Tensor:
    """Join along a new dim; all shapes must be equal."""
    ts = _tensors(tensors, "stack")
    for k, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(ts[0].shape)} at entry 0 and {list(t.shape)} at entry {k}")
    d = to_axis(dim, ts[0].ndim + 1, "stack")
    return cat([t.unsqueeze(d) for t in ts], d)


def hstack(tensors) -> Tensor:
    ts = _tensors(tensors, "hstack")
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    ts = [t.reshape(1, -1) if t.ndim < 2 else t for t in _tensors(tensors, "vstack")]
    return cat(ts, 0)


def dstack(tensors) -> Tensor:
    ts = _tensors(tensors, "dstack")
    ts = [t.reshape(1, -1, 1) if t.ndim < 2 else t.unsqueeze(-1) if t.ndim == 2 else t
          for t in ts]
    return cat(ts, 2)


def column_stack(tensors) -> Tensor:
    ts = [t.reshape(-1, 1) if t.ndim < 2 else t for t in _tensors(tensors, "column_stack")]
    return cat(ts, 1)


def where(condition, input=None, other=None) -> Tensor:  # noqa: A002
    """input where condition else other, broadcasting all three; where(cond) gives indices."""
    from chainrule.ops.elementwise import Where

    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    cond = condition.array if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {dtypes.from_numpy_dtype(cond.dtype)}")
    a_t, b_t = isinstance(input, Tensor), isinstance(other, Tensor)
    if not a_t and not b_t:
        input = as_operand(input, Tensor._make(cond, None, 0, False), "where")
        a_t = True
    like = input if a_t else other
    dt = dtypes.result_type(*(v for v in (input, other)))
    shapes = [cond.shape] + [v.array.shape for v in (input, other) if isinstance(v, Tensor)]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise RuntimeError(f"where: condition, input and other must broadcast together, got "
                           f"shapes {[list(s) for s in shapes]}") from None
    a = input.to(dt) if a_t else input
    b = other.to(dt) if b_t else other
    del like
    return Where.apply(cond, a, b)


# torch.cat(tensors, out=r) & co: the result written into r, as for the functions above
cat, stack, hstack, vstack, dstack, column_stack, where = (
    takes_out(f.__name__, f) for f in (cat, stack, hstack, vstack, dstack, column_stack, where))
concat = concatenate = cat


def broadcast_tensors(*tensors):
    shape = np.broadcast_shapes(*(t.array.shape for t in tensors))
    return tuple(t.expand(shape) for t in tensors)


def broadcast_shapes(*shapes):
    from chainrule.tensor import Size

    return Size(np.broadcast_shapes(*shapes))


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel_of(t: Tensor) -> int:
    return t.numel()


def meshgrid(*tensors, indexing="ij"):
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    n = len(ts)
    shape = [t.numel() for t in ts]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, t in enumerate(ts):
        view = [1] * n
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        view[pos] = -1
        out.append(t.reshape(view).expand(shape))
    return tuple(out)


def cdist(x1, x2, p=2.0):
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    from chainrule import linalg

    return linalg.vector_norm(diff, p, dim=-1)


# ---- products and rotations, composed of existing ops (their gradients and jvps come with them)
def _matrices(op: str, *pairs) -> None:
    for name, t, nd in pairs:
        if t.ndim != nd:
            kind = "a matrix" if nd == 2 else "a 3D tensor"
            raise RuntimeError(f"{op}: {name} must be {kind}, got {t.ndim}-D tensor")


def _scaled(t: Tensor, c) -> Tensor:
    return t if c == 1 else t * c


def addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor:  # noqa: A002 - PyTorch's name
    """beta * input + alpha * (mat1 @ mat2); input broadcasts to the product's shape."""
    _matrices("addmm", ("mat1", mat1, 2), ("mat2", mat2, 2))
    prod = _scaled(mat1.mm(mat2), alpha)
    return prod if beta == 0 else _scaled(input, beta) + prod  # beta 0: input is not read


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """beta * input + alpha * (batch1 @ batch2), batch by batch."""
    _matrices("baddbmm", ("batch1", batch1, 3), ("batch2", batch2, 3))
    prod = _scaled(batch1.bmm(batch2), alpha)
    return prod if beta == 0 else _scaled(input, beta) + prod  # beta 0: input is not read


def _cross(a: Tensor, b: Tensor, dim: int) -> Tensor:
    if a.ndim != b.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions "
                           f"(got {a.ndim} and {b.ndim}); unsqueeze the smaller one")
    a, b = broadcast_tensors(a, b)
    if a.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. "
                           f"Got {a.shape[dim]} and {b.shape[dim]}")
    # c_i = a_{i+1} b_{i+2} - a_{i+2} b_{i+1} (indices mod 3): rolls along dim
    return a.roll(-1, dim) * b.roll(-2, dim) - a.roll(-2, dim) * b.roll(-1, dim)


def cross(input, other, dim=None) -> Tensor:  # noqa: A002
    """The cross product of 3-vectors along `dim` (None: the first dimension of size 3)."""
    if dim is None:
        import warnings

        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\n"
                      "Please either pass the dim explicitly or simply use torch.linalg.cross.",
                      UserWarning, stacklevel=2)
        shape = broadcast_shapes(input.shape, other.shape)
        dim = next((d for d, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError(f"cross: no dimension of size 3 in input (shapes "
                               f"{list(input.shape)} and {list(other.shape)}); pass dim")
    return _cross(input, other, dim)


def _linalg_cross(input, other, *, dim=-1) -> Tensor:  # noqa: A002
    """torch.linalg.cross: the cross product along `dim` (default the last)."""
    return _cross(input, other, dim)


def kron(input, other) -> Tensor:  # noqa: A002
    """Kronecker product: out[i * m + j] = a[i] * b[j] along every dimension."""
    n = builtins.max(input.ndim, other.ndim)
    sa = (1,) * (n - input.ndim) + tuple(input.shape)
    sb = (1,) * (n - other.ndim) + tuple(other.shape)
    a = input.reshape([d for s in sa for d in (s, 1)])       # (a0, 1, a1, 1, ...)
    b = other.reshape([d for s in sb for d in (1, s)])       # (1, b0, 1, b1, ...)
    return (a * b).reshape([x * y for x, y in zip(sa, sb)])


def tensordot(a, b, dims=2) -> Tensor:
    """Sum over the last `dims` axes of a and the first of b, or over the axes listed."""
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    da, db = [d % a.ndim for d in da], [d % b.ndim for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError("contracted dimensions need to match, but first has size "
                               f"{a.shape[x]} in dim {x} and second has size {b.shape[y]} "
                               f"in dim {y}")
    fa = [d for d in range(a.ndim) if d not in da]
    fb = [d for d in range(b.ndim) if d not in db]
    k = int(np.prod([a.shape[d] for d in da], dtype=np.int64))
    am = a.permute(*fa, *da).reshape(-1, k)
    bm = b.permute(*db, *fb).reshape(k, -1)
    return am.mm(bm).reshape([a.shape[d] for d in fa] + [b.shape[d] for d in fb])


def rot90(input, k=1, dims=(0, 1)) -> Tensor:  # noqa: A002
    """Rotate by k * 90 degrees in the plane `dims` (from dims[0] towards dims[1])."""
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = (to_axis(d, input.ndim, "rot90") for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} "
                           f"and dim1 = {dims[1]}")
    k %= 4
    if k == 1:
        return input.flip(d1).transpose(d0, d1)
    if k == 2:
        return input.flip(d0, d1)
    if k == 3:
        return input.flip(d0).transpose(d0, d1)
    return input.clone()


def dist(input, other, p=2) -> Tensor:  # noqa: A002
    """The p-norm of input - other (broadcast)."""
    from chainrule import linalg

    return linalg.vector_norm(input - other, p)


# ---- counting and bucketing: integer results, no gradient (NumPy computes them)
def _constant(array) -> Tensor:
    """A result with no history, of the array's own dtype."""
    return Tensor._make(np.asarray(array), None, 0, False)


def bincount(input, weights=None, minlength=0) -> Tensor:  # noqa: A002
    """How often each value 0, 1, ... occurs in a 1-D int tensor (or the sum of its weights)."""
    x = input.numpy()
    if x.dtype.kind not in "biu":
        raise NotImplementedError(f'"bincount_cpu" not implemented for \'{input.dtype}\': '
                                  "bincount counts integers; convert with .long()")
    if x.ndim != 1 or (x < 0).any():
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError(f"minlength should be >= 0, got {minlength}")
    if weights is None:
        return _constant(np.bincount(x, minlength=minlength).astype(np.int64))
    w = weights.detach().numpy()
    if w.ndim != 1 or w.shape[0] != x.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input "
                           f"(got {list(w.shape)} for input {list(x.shape)})")
    dtype = np.float32 if w.dtype == np.float32 else np.float64  # as torch's
    return _constant(np.bincount(x, w, minlength=minlength).astype(dtype))


def histc(input, bins=100, min=0, max=0) -> Tensor:  # noqa: A002
    """Counts in `bins` equal bins over [min, max] (min == max: the data's range)."""
    x = input.detach().numpy()
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"histogram_cpu" not implemented for \'{input.dtype}\': '
                                  "histc takes floating tensors; convert with .float()")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError(f"torch.histc: max must be larger than min (got min={min}, "
                           f"max={max})")
    lo, hi = float(min), float(max)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    counts, _ = np.histogram(x, bins, (lo, hi))
    return _constant(counts.astype(x.dtype))


def _side(op: str, right: bool, side) -> str:
    if side is None:
        return "right" if right else "left"
    if side not in ("left", "right"):
        raise RuntimeError(f"torch.{op}(): side can only be 'left' or 'right' but got {side}")
    if right and side == "left":
        raise RuntimeError(f"torch.{op}(): side and right can't be set to opposites, got side "
                           "of left while right was True")
    return side


def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None,
                 sorter=None) -> Tensor:
    """Where each value would go in the sorted innermost rows to keep them sorted."""
    seq = sorted_sequence.detach().numpy()
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter.numpy(), -1)
    side = _side("searchsorted", right, side)
    v = values.detach().numpy() if isinstance(values, Tensor) else np.asarray(values)
    if seq.ndim == 1:
        out = np.searchsorted(seq, v, side)
    else:
        if seq.shape[:-1] != v.shape[:-1]:
            raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension "
                               "or the first N-1 dimensions of boundaries tensor and input "
                               f"value tensor must match, but we got boundaries tensor "
                               f"{list(seq.shape)} and input value tensor {list(v.shape)}")
        rows = seq.reshape(-1, seq.shape[-1])
        vals = v.reshape(len(rows), -1)
        out = np.stack([np.searchsorted(r, q, side) for r, q in zip(rows, vals)])
        out = out.reshape(v.shape)
    return _constant(np.asarray(out).astype(np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False) -> Tensor:  # noqa: A002
    """The bucket of each input: boundaries[i-1] < x <= boundaries[i] (right: <= x <)."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)
