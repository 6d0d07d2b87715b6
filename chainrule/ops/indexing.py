"""Indexing: reading (x[key], gather, index_select) and writing (x[key] = v, scatter_add).

Reading is linear in x, so its gradient writes g back where the elements came from; where an
index repeats, the contributions add up (np.add.at). Writing `x[key] = v` is recorded as an
op whose output is "x with the key's region replaced by v": x's gradient is g with that
region zeroed, v's gradient is g[key] (PyTorch's index_put / CopySlices).
"""

from __future__ import annotations

import numpy as np

from chainrule.autograd import grad_mode
from chainrule.autograd.function import Op
from chainrule.ops.shape import sum_to


def _normalize_key(key, shape: tuple):
    """Tensors and lists in an index become ndarrays; bool masks are checked against shape."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    for k in key:
        if isinstance(k, Tensor):
            k = k.array
        elif isinstance(k, list):
            k = np.asarray([e.item() if isinstance(e, Tensor) else e for e in k])
            if k.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        if isinstance(k, np.ndarray):
            if k.dtype.kind == "f":
                raise IndexError(
                    f"tensors used as indices must be long, int, byte or bool tensors, got "
                    f"{k.dtype} (convert with .long())"
                )
            if k.dtype == np.uint8:
                k = k.astype(bool)
        elif isinstance(k, float):
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or "
                             f"bool tensors are valid indices (got float {k})")
        out.append(k)
    return tuple(out)


def _is_basic(key: tuple) -> bool:
    """Ints, slices, None and Ellipsis only: NumPy returns a view and indices never repeat."""
    return all(k is None or k is Ellipsis or isinstance(k, (int, np.integer, slice)) and
               not isinstance(k, bool) for k in key)


def _index(array: np.ndarray, key: tuple, op: str):
    try:
        return array[key]
    except IndexError as e:
        raise IndexError(f"{op}: {e} (indexing a tensor of shape {list(array.shape)} with "
                         f"{_describe(key)})") from None


def _describe(key: tuple) -> str:
    parts = []
    for k in key:
        if isinstance(k, np.ndarray):
            parts.append(f"{k.dtype} array of shape {list(k.shape)}")
        else:
            parts.append(repr(k))
    return "[" + ", ".join(parts) + "]"


def getitem(t, key):
    """x[key]: ints, slices, None, Ellipsis, integer tensors / lists, bool masks."""
    key = _normalize_key(key, t.array.shape)
    return GetItem.apply(t, key)


class GetItem(Op):
    """x[key] (a view when the key is basic).

    forward:   out = x[key]
    backward:  gx = zeros_like(x) with g added at key     # repeated indices accumulate
    jvp:       t_out = tx[key]
    """

    is_view = True
    may_copy = True  # a view for basic keys; advanced indexing copies

    @staticmethod
    def forward(ctx, x, key):
        ctx.in_shape, ctx.dtype, ctx.key = x.shape, x.dtype, key
        if _is_basic(key) and Ellipsis not in key:
            key = key + (Ellipsis,)  # NumPy then returns a 0-d view, not a copied scalar
        return _index(x, key, "index")

    @staticmethod
    def backward(ctx, g):
        return IndexAddZeros.apply(g, ctx.key, ctx.in_shape), None

    @staticmethod
    def jvp(ctx, tx, _):
        return GetItem.apply(tx, ctx.key)


class IndexAddZeros(Op):
    """zeros(shape) with g added at key: the transpose of GetItem.

    forward:   out = zeros(shape); out[key] += g      (np.add.at when indices may repeat)
    backward:  gg = g_out[key]
    jvp:       t_out = zeros(shape); t_out[key] += tg
    """

    @staticmethod
    def forward(ctx, g, key, shape):
        ctx.key = key
        out = np.zeros(shape, dtype=g.dtype)
        if _is_basic(key):
            out[key] = g  # a basic index never repeats an element: plain assignment is exact
        else:
            np.add.at(out, key, g)
        return out

    @staticmethod
    def backward(ctx, g):
        return GetItem.apply(g, ctx.key), None, None

    @staticmethod
    def jvp(ctx, tg, *_):
        return IndexAddZeros.apply(tg, ctx.key, ctx.inputs[2])


def setitem(t, key, value) -> None:
    """x[key] = value: in NumPy under no_grad, else recorded with x's history rebased."""
    key = _normalize_key(key, t.array.shape)
    if isinstance(value, Tensor):
        src = value
    else:
        src = as_operand(value, t, "index_put")
    tracked = recorded(t, src)
    try:
        target_shape = np.empty(t.array.shape, dtype=np.bool_)[key].shape
    except IndexError as e:
        raise IndexError(f"index_put: {e} (assigning into a tensor of shape "
                         f"{list(t.array.shape)})") from None
    try:
        np.broadcast_shapes(src.array.shape, target_shape)
        if np.broadcast_shapes(src.array.shape, target_shape) != target_shape:
            raise ValueError
    except ValueError:
        raise RuntimeError(
            f"index_put: shape mismatch: value tensor of shape {list(src.shape)} cannot be "
            f"broadcast to indexing result of shape {list(target_shape)}"
        ) from None
    if not tracked:
        _writable(t, "index_put")
        t.array[key] = src.array
        t._version[0] += 1
        return
    if src.array.dtype != t.array.dtype:
        src = src.to(t.dtype)
    _inplace_unary(t, lambda old: IndexPut.apply(old, src, key), "index_put")


class IndexPut(Op):
    """x with x[key] replaced by v (v broadcast to the region).

    forward:   out = copy(x); out[key] = v
    backward:  gx = g with g[key] = 0            # those elements of x were overwritten
               gv = sum_to(g[key], v.shape)
    jvp:       t_out = copy(tx); t_out[key] = tv     # zeros for an integer v
    """

    @staticmethod
    def forward(ctx, x, v, key):
        ctx.key, ctx.v_shape = key, v.shape
        out = x.copy()
        out[key] = v
        return out

    @staticmethod
    def backward(ctx, g):
        need_x, need_v = ctx.needs_input_grad[:2]
        gx = gv = None
        if need_x:
            mask = np.ones(g.array.shape, dtype=g.array.dtype)
            mask[ctx.key] = 0
            gx = g * mask
        if need_v:
            gv = sum_to(GetItem.apply(g, ctx.key), ctx.v_shape)
        return gx, gv, None

    @staticmethod
    def jvp(ctx, tx, tv, _):
        return IndexPut.apply(tx, _zeros_for(ctx.inputs[1], tx) if tv is None else tv, ctx.key)


class ViewScatter(Op):
    """base with the region that `view_fn` selects replaced by v (an in-place op on a view).

    forward:   out = copy(base); view_fn(out)[...] = v
    backward:  gbase = g with the view's region zeroed;   gv = view_fn(g)
    jvp:       t_out = copy(tbase); view_fn(t_out)[...] = tv
    """

    @staticmethod
    def forward(ctx, base, v, view_fn):
        ctx.view_fn = view_fn
        out = base.copy()
        with grad_mode.no_grad():
            region = view_fn(Tensor._make(out, None, 0, False)).array
        region[...] = v
        return out

    @staticmethod
    def backward(ctx, g):
        need_base, need_v = ctx.needs_input_grad[:2]
        gbase = gv = None
        if need_base:
            mask = np.ones(g.array.shape, dtype=g.array.dtype)
            with grad_mode.no_grad():
                ctx.view_fn(Tensor._make(mask, None, 0, False)).array[...] = 0
            gbase = g * mask
        if need_v:
            gv = ctx.view_fn(g)
        return gbase, gv, None

    @staticmethod
    def jvp(ctx, tbase, tv, _):
        if tv is None:
            tv = _zeros_for(ctx.inputs[1], tbase)
        return ViewScatter.apply(tbase, tv, ctx.view_fn)


def _zeros_for(v, like):
    """The tangent of an integer tensor written into a float one: zeros of like's dtype."""
    return Tensor._make(np.zeros(v.array.shape, like.array.dtype), None, 0, False)


def _check_index_tensor(index, op: str):
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): index must be a Tensor of dtype int64, got "
                        f"{type(index).__name__}")
    if index.array.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {index.dtype}")
    return index.array.astype(np.int64, copy=False)


def _along_axis_key(index: np.ndarray, axis: int):
    """The fancy-index tuple that picks x[i0, .., index[i], .., in] along `axis`."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[axis] = index
    return tuple(grids)


def gather(t, dim, index):
    """out[i][j] = x[i][index[i][j]] along dim (index has x's number of dims)."""
    idx = _check_index_tensor(index, "gather")
    d = to_axis(dim, t.ndim, "gather")
    if idx.ndim != max(t.ndim, 1) and not (t.ndim == 0 and idx.ndim <= 1):
        raise RuntimeError(f"gather(): Index tensor must have the same number of dimensions as "
                           f"input tensor ({t.ndim}), got {idx.ndim}")
    if t.ndim == 0:
        return t.reshape(1)[idx.reshape(-1)].reshape(idx.shape)
    for i, (a, b) in enumerate(zip(idx.shape, t.array.shape)):
        if i != d and a > b:
            raise RuntimeError(f"gather(): Size does not match at dimension {i} expected index "
                               f"{list(idx.shape)} to be smaller than self {list(t.shape)} apart "
                               f"from dimension {d}")
    size = t.array.shape[d]
    if idx.size and (idx.min() < -size or idx.max() >= size):
        raise IndexError(f"gather(): index {int(idx.max() if idx.max() >= size else idx.min())} "
                         f"is out of bounds for dimension {d} with size {size}")
    key = _along_axis_key(idx % size if size else idx, d)
    return GetItem.apply(t, key)


def scatter_add(t, dim, index, src):
    """out = x; out[i][index[i][j]] += src[i][j] along dim (differentiable in x and src)."""
    idx = _check_index_tensor(index, "scatter_add")
    d = to_axis(dim, t.ndim, "scatter_add")
    src = as_operand(src, t, "scatter_add")
    size = t.array.shape[d] if t.ndim else 1
    if idx.size and (idx.min() < -size or idx.max() >= size):
        raise IndexError(f"scatter_add(): index out of bounds for dimension {d} with size {size}")
    if src.ndim != idx.ndim:
        raise RuntimeError("scatter_add(): index and src must have the same number of dimensions")
    src_part = src[tuple(slice(0, s) for s in idx.shape)] if src.shape != idx.shape else src
    key = _along_axis_key(idx % size, d)
    return t + IndexAddZeros.apply(src_part.to(t.dtype), key, t.array.shape)


def scatter(t, dim, index, src):
    """out = x; out[i][index[i][j]] = src[i][j] along dim (src may be a number)."""
    idx = _check_index_tensor(index, "scatter")
    d = to_axis(dim, t.ndim, "scatter")
    size = t.array.shape[d]
    if idx.size and (idx.min() < -size or idx.max() >= size):
        raise IndexError(f"scatter(): index out of bounds for dimension {d} with size {size}")
    key = _along_axis_key(idx % size, d)
    if isinstance(src, Tensor):
        src = src[tuple(slice(0, s) for s in idx.shape)] if src.shape != idx.shape else src
    else:
        src = as_operand(src, t, "scatter")
    return IndexPut.apply(t, src.to(t.dtype), key)


def index_select(t, dim, index):
    """The slices of x at `index` (a 1-D integer tensor) along dim."""
    idx = _check_index_tensor(index, "index_select")
    if idx.ndim > 1:
        raise IndexError(f"index_select(): Index is supposed to be a vector, got shape "
                         f"{list(idx.shape)}")
    d = to_axis(dim, t.ndim, "index_select")
    if t.ndim == 0:
        return t.reshape(1)[idx.reshape(-1)].reshape(idx.shape) if idx.ndim else t
    return GetItem.apply(t, (slice(None),) * d + (idx.reshape(-1),))


from chainrule._args import to_axis  # noqa: E402
from chainrule.autograd.views import _inplace_unary, _writable, recorded  # noqa: E402
from chainrule.tensor import Tensor, as_operand  # noqa: E402 - tensor.py imports this module
