"""Tensor factories: tensor, zeros, ones, arange, rand, ... as in PyTorch.

Sizes come as varargs `zeros(2, 3)` or one tuple `zeros((2, 3))`; every factory takes
`dtype=` and `requires_grad=` (and `device='cpu'`, the only device). Random factories draw
from the default generator (`manual_seed`) or the `generator=` given.
"""

from __future__ import annotations

import builtins

import numpy as np

from chainrule import dtypes
from chainrule._args import check_device, shape_args, to_array
from chainrule._legacy import check_out_grad, resize_into
from chainrule.random import numpy_rng
from chainrule.tensor import Tensor


class layout:  # noqa: N801
    """How a tensor's elements are stored: chainrule has one, `torch.strided` (dense)."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class memory_format:  # noqa: N801
    """The order of a dense tensor's elements in memory; chainrule's is always row-major,
    `torch.contiguous_format`."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


strided, sparse_coo, sparse_csr = layout("strided"), layout("sparse_coo"), layout("sparse_csr")
contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")


def _check_storage(op: str, layout_=None, pin_memory=False, memory_format_=None,
                   like=False) -> None:
    """PyTorch's storage arguments: the values that describe what chainrule makes anyway
    (dense, unpinned, row-major) pass; any other raises, naming the argument."""
    if layout_ is not None and layout_ is not strided:
        raise NotImplementedError(f"{op}: layout={layout_!r} is not supported: chainrule "
                                  f"tensors are dense (torch.strided)")
    if pin_memory:
        raise RuntimeError(f"{op}: pin_memory=True requires a CUDA or other accelerator "
                           f"backend; no pinned memory allocator is available (chainrule runs "
                           f"on the CPU only)")
    allowed = (None, contiguous_format, preserve_format) if like else (None, contiguous_format)
    if memory_format_ is preserve_format and not like:
        raise RuntimeError(f"{op}: unsupported memory format Preserve (preserve_format is for "
                           f"the *_like factories)")
    if memory_format_ not in allowed:
        raise NotImplementedError(f"{op}: memory_format={memory_format_!r} is not supported: "
                                  f"chainrule tensors are row-major (torch.contiguous_format)")


def _write_out(out, array: np.ndarray, dtype, op: str) -> Tensor:
    """`out=`: the result written into `out` (resized if its shape differs, as PyTorch does)."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if dtype is not None and dtypes.to_numpy_dtype(dtype) != out.array.dtype:
        raise RuntimeError(f"{op}: dtype {dtype} does not match dtype of out parameter "
                           f"({out.dtype})")
    check_out_grad(op, (out,))
    return resize_into(out, array, op, stacklevel=5)  # 5: the frame that called the factory


def _finish(array: np.ndarray, requires_grad: bool, device, op: str) -> Tensor:
    if device is not None:
        check_device(device, op)
    t = Tensor._make(array, None, 0, False)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _np_dtype(dtype, default=None):
    if dtype is None:
        return default
    return dtypes.to_numpy_dtype(dtype)


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of `data` (nested lists, numbers, arrays, Tensors)."""
    _check_storage("tensor", pin_memory=pin_memory)
    if isinstance(data, Tensor):
        array = data.array.copy()
    else:
        # a float dtype given: Python floats go straight to it, not through the default dtype
        target = None if dtype is None else dtypes.to_numpy_dtype(dtype)
        array = np.array(to_array(data, "tensor", target if target is not None
                                  and target.kind == "f" else None), copy=True)
    if dtype is not None:
        array = array.astype(dtypes.to_numpy_dtype(dtype))
    return _finish(array, requires_grad, device, "tensor")


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like tensor(), but shares memory with a NumPy array or Tensor when the dtype allows."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    array = to_array(data, "as_tensor")
    if dtype is not None:
        array = array.astype(dtypes.to_numpy_dtype(dtype), copy=False)
    return _finish(array, False, device, "as_tensor")


asarray = as_tensor


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with the NumPy array (float64 stays float64)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    dtypes.from_numpy_dtype(array.dtype)
    return Tensor._make(array, None, 0, False)


def _fill(op, size, value, dtype, requires_grad, device, default, out=None):
    shape = shape_args(size, op)
    if out is not None:
        dt = _np_dtype(dtype, out.array.dtype if isinstance(out, Tensor) else None)
        return _write_out(out, np.full(shape, value, dtype=dt), dtype, op)
    return _finish(np.full(shape, value, dtype=_np_dtype(dtype, default)), requires_grad,
                   device, op)


def zeros(*size, out=None, dtype=None, layout=None, device=None,
          requires_grad=False) -> Tensor:
    _check_storage("zeros", layout)
    return _fill("zeros", size, 0, dtype, requires_grad, device, dtypes.get_default_dtype().np,
                 out)


def ones(*size, out=None, dtype=None, layout=None, device=None,
         requires_grad=False) -> Tensor:
    _check_storage("ones", layout)
    return _fill("ones", size, 1, dtype, requires_grad, device, dtypes.get_default_dtype().np,
                 out)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None) -> Tensor:
    _check_storage("empty", layout, pin_memory, memory_format)
    # zero-filled: "uninitialised" memory would make programs irreproducible
    return _fill("empty", size, 0, dtype, requires_grad, device, dtypes.get_default_dtype().np,
                 out)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    if dtype is None:
        kind = dtypes.scalar_category(fill_value)
        default = (np.dtype(np.bool_), np.dtype(np.int64),
                   dtypes.get_default_dtype().np)[kind]
    else:
        default = None
    return _fill("full", (size,) if not isinstance(size, (tuple, list)) else tuple(size),
                 fill_value, dtype, requires_grad, device, default)


def _like(t: Tensor, dtype):
    return t.array.shape, _np_dtype(dtype, t.array.dtype)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,  # noqa: A002
               memory_format=None) -> Tensor:
    _check_storage("zeros_like", layout, False, memory_format, like=True)
    shape, dt = _like(input, dtype)
    return _finish(np.zeros(shape, dt), requires_grad, device, "zeros_like")


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,  # noqa: A002
              memory_format=None) -> Tensor:
    _check_storage("ones_like", layout, False, memory_format, like=True)
    shape, dt = _like(input, dtype)
    return _finish(np.ones(shape, dt), requires_grad, device, "ones_like")


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,  # noqa: A002
               pin_memory=False, memory_format=None) -> Tensor:
    _check_storage("empty_like", layout, pin_memory, memory_format, like=True)
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    shape, dt = _like(input, dtype)
    return _finish(np.full(shape, fill_value, dt), requires_grad, device, "full_like")


def rand_like(input, *, dtype=None, generator=None, requires_grad=False) -> Tensor:  # noqa: A002
    return rand(input.shape, dtype=dtype or input.dtype, generator=generator,
                requires_grad=requires_grad)


def randn_like(input, *, dtype=None, generator=None, requires_grad=False) -> Tensor:  # noqa: A002
    return randn(input.shape, dtype=dtype or input.dtype, generator=generator,
                 requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, generator=None) -> Tensor:  # noqa: A002
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype, generator=generator)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """[start, end) by step; integer arguments give int64, any float gives the default float."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if vals[2] == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (vals[1] - vals[0]) * vals[2] < 0:
        raise RuntimeError(f"arange: upper bound and larger bound inconsistent with step sign "
                           f"(start={vals[0]}, end={vals[1]}, step={vals[2]})")
    is_float = any(isinstance(v, float) for v in vals)
    default = dtypes.get_default_dtype().np if is_float else np.dtype(np.int64)
    dt = _np_dtype(dtype, default)
    n = int(np.ceil((vals[1] - vals[0]) / vals[2]))
    array = (vals[0] + np.arange(max(n, 0), dtype=np.float64) * vals[2]) if is_float else \
        np.arange(vals[0], vals[1], vals[2])
    return _finish(array.astype(dt), requires_grad, device, "arange")


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise RuntimeError(f"linspace: number of steps must be a non-negative int, got {steps!r}")
    dt = _np_dtype(dtype, dtypes.get_default_dtype().np)
    start, end = (v.item() if isinstance(v, Tensor) else v for v in (start, end))
    if dt.kind == "f":
        work, start, end = dt, dt.type(start), dt.type(end)
    else:  # PyTorch casts the ends to the integer type and steps in float64
        work, start, end = np.dtype(np.float64), int(start), int(end)
    n = int(steps)
    step = (work.type(end) - work.type(start)) / work.type(max(n - 1, 1))
    # PyTorch's kernel counts up from start for the first half and down from end for the
    # second, each element one fused multiply-add; longdouble stands in for the fma's single
    # rounding, so the values agree to the last bit.
    i = np.arange(n)
    half = n // 2
    wide = np.float16 if work == np.float16 else np.longdouble  # half: every op rounds
    hstep = wide(step)
    array = np.concatenate([wide(start) + hstep * i[:half].astype(wide),
                            wide(end) - hstep * (n - 1 - i[half:]).astype(wide)]).astype(work)
    if n == 1:
        array[0] = start
    return _finish(array.astype(dt), requires_grad, device, "linspace")


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None,
             requires_grad=False) -> Tensor:
    array = np.logspace(float(start), float(end), int(steps), base=base)
    return _finish(array.astype(_np_dtype(dtype, dtypes.get_default_dtype().np)),
                   requires_grad, device, "logspace")


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise RuntimeError(f"eye: n must be a non-negative int, got {n!r}")
    array = np.eye(n, n if m is None else m, dtype=_np_dtype(dtype,
                                                             dtypes.get_default_dtype().np))
    return _finish(array, requires_grad, device, "eye")


def _random_dtype(dtype, op: str):
    dt = _np_dtype(dtype, dtypes.get_default_dtype().np)
    if dt.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point dtype, got {dtype}")
    return dt


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform on [0, 1)."""
    shape = shape_args(size, "rand")
    dt = _random_dtype(dtype, "rand")
    return _finish(numpy_rng(generator).random(shape).astype(dt), requires_grad, device, "rand")


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal."""
    shape = shape_args(size, "randn")
    dt = _random_dtype(dtype, "randn")
    return _finish(numpy_rng(generator).standard_normal(shape).astype(dt), requires_grad,
                   device, "randn")


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False) -> Tensor:
    """Integers uniform on [low, high); randint(high, size) also works."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: size (a tuple) is required, e.g. randint(0, 10, (3,))")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"randint: expects 'from' ({low}) to be less than 'to' ({high})")
    shape = shape_args((size,) if not isinstance(size, (tuple, list)) else (tuple(size),),
                       "randint")
    array = numpy_rng(generator).integers(low, high, shape).astype(
        _np_dtype(dtype, np.dtype(np.int64)))
    return _finish(array, requires_grad, device, "randint")


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise RuntimeError(f"randperm: n must be a non-negative int, got {n!r}")
    array = numpy_rng(generator).permutation(int(n)).astype(_np_dtype(dtype,
                                                                      np.dtype(np.int64)))
    return _finish(array, requires_grad, device, "randperm")


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None,
           requires_grad=False) -> Tensor:
    """Normal samples: scalar mean/std with a size, or elementwise from tensor mean/std."""
    m = mean.array if isinstance(mean, Tensor) else mean
    s = std.array if isinstance(std, Tensor) else std
    if np.any(np.asarray(s) < 0):
        raise RuntimeError(f"normal: expects std >= 0.0, got {std}")
    if size is None:
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        if not shape and not isinstance(mean, Tensor) and not isinstance(std, Tensor):
            raise TypeError("normal: give a size when mean and std are numbers")
    else:
        shape = shape_args((size,) if not isinstance(size, (tuple, list)) else (tuple(size),),
                           "normal")
    default = m.dtype if isinstance(m, np.ndarray) else dtypes.get_default_dtype().np
    array = numpy_rng(generator).normal(m, s, shape).astype(_np_dtype(dtype, default))
    return _finish(array, requires_grad, None, "normal")


def bernoulli(input, p=None, *, generator=None) -> Tensor:  # noqa: A002
    probs = input.array if p is None else np.full(input.array.shape, p)
    draws = numpy_rng(generator).random(probs.shape) < probs
    return Tensor._make(draws.astype(input.array.dtype), None, 0, False)


def multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor:  # noqa: A002
    probs = input.array.astype(np.float64)
    rng = numpy_rng(generator)
    rows = probs.reshape(-1, probs.shape[-1])
    out = np.stack([rng.choice(row.size, num_samples, replace=replacement, p=row / row.sum())
                    for row in rows])
    return Tensor._make(out.reshape(probs.shape[:-1] + (num_samples,)).astype(np.int64),
                        None, 0, False)


del builtins
