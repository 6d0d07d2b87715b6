"""The older PyTorch API that course programs still use, mapped onto chainrule's Tensor.

    Variable(t, requires_grad=True)      torch.autograd.Variable: a leaf tensor (no own class)
    torch.FloatTensor([1, 2])            typed tensor classes: constructors and dtype tests
    x.type(), x.type(torch.LongTensor)   dtype names and conversions by name
    torch.add(x, y, out=r)               `out=`: the result written into r (write_out)
    torch.set_num_threads(4)             recorded; NumPy's BLAS threads are fixed at startup
    torch.__version__ >= (1, 8)          chainrule's own version, compared as torch's is
    torch.version.cuda                   None, as on PyTorch's CPU-only build

None of these is a second tensor class: every tensor is a chainrule.Tensor. The typed classes
and Variable only answer `isinstance` and build tensors, as they do in PyTorch (where
`type(torch.FloatTensor([1.]))` is torch.Tensor as well).
"""

from __future__ import annotations

import importlib.machinery
import os
import types
import warnings

import numpy as np

from chainrule import _threads as kernel_threads
from chainrule import dtypes
from chainrule._args import check_device, shape_args, to_array
from chainrule.autograd import grad_mode
from chainrule.tensor import Size, Tensor


# ====================================================================== Variable
class _VariableMeta(type):
    """`isinstance(x, Variable)` is true for every tensor, as in PyTorch."""

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor)

    def __call__(cls, data=None, requires_grad: bool = False, volatile: bool = False):
        if volatile:
            warnings.warn("volatile has no effect; use `with torch.no_grad():` instead",
                          UserWarning, stacklevel=2)
        if data is None:
            data = Tensor(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}; "
                            f"wrap it with torch.tensor(...) first")
        # PyTorch's Variable(t): a new leaf sharing t's memory, cut from t's graph
        return data.detach().requires_grad_(requires_grad)


class Variable(metaclass=_VariableMeta):
    """torch.autograd.Variable(tensor, requires_grad=False): returns a tensor.

    Since PyTorch 0.4 a Variable is a Tensor; the name remains so that older programs run.
    `Variable(t)` is `t.detach()` (same memory, no history) with requires_grad as given.
    """


Variable.__module__ = "chainrule.autograd"


# ====================================================================== typed tensor classes
class tensortype(type):  # noqa: N801 - PyTorch's name for the typed classes' metaclass
    """The class of torch.FloatTensor & co: calling one builds a Tensor of its dtype, and
    `isinstance(x, torch.FloatTensor)` tests x's dtype."""

    dtype: dtypes.dtype | None = None

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and cls.dtype is not None and \
            obj.array.dtype == cls.dtype.np

    def __call__(cls, *args, device=None, size=None):
        name = cls.__name__
        if cls.dtype is None:
            raise TypeError(f"torch.{name}: chainrule has no {name[:-6].lower()} dtype (NumPy "
                            f"has none); use torch.FloatTensor, or .float() on the values")
        if device is not None:
            check_device(device, name)
        if size is not None:
            args = (*args, *size)
        return Tensor._make(_typed_array(name, cls.dtype, args), None, 0, False)


def _typed_array(name: str, dt: dtypes.dtype, args: tuple) -> np.ndarray:
    """The array of torch.<name>(*args): () empty, sizes uninitialised, or the given values."""
    if not args:
        return np.empty(0, dt.np)
    data = args[0]
    if len(args) > 1 or isinstance(data, (int, np.integer, Size)):
        return np.empty(shape_args(args, name), dt.np)
    if isinstance(data, Tensor):
        if data.array.dtype != dt.np:
            raise TypeError(f"{name}(): expected a tensor of dtype {dt}, got one of {data.dtype}; "
                            f"convert it with .to({dt}) or .type(torch.{name})")
        return data.array  # PyTorch's torch.FloatTensor(t) shares t's memory
    if isinstance(data, (float, bool, complex)):
        raise TypeError(f"{name}(): data must be a sequence (got {type(data).__name__}); "
                        f"write torch.{name}([{data!r}]) for one value")
    return to_array(data, name, dt.np)


def _typed(name: str, dt: dtypes.dtype | None) -> tensortype:
    cls = tensortype(name, (), {"dtype": dt, "is_cuda": False, "is_sparse": False,
                                "__doc__": f"torch.{name}: tensors of dtype {dt}."})
    cls.__module__ = "chainrule"
    return cls


# NumPy has no bfloat16: BFloat16Tensor exists so that code naming it gets a clear error
TYPED_TENSORS = {cls.__name__: cls for cls in (
    _typed("FloatTensor", dtypes.float32), _typed("DoubleTensor", dtypes.float64),
    _typed("HalfTensor", dtypes.float16), _typed("BFloat16Tensor", None),
    _typed("ByteTensor", dtypes.uint8), _typed("CharTensor", dtypes.int8),
    _typed("ShortTensor", dtypes.int16), _typed("IntTensor", dtypes.int32),
    _typed("LongTensor", dtypes.int64), _typed("BoolTensor", dtypes.bool))}


def type_name(np_dtype: np.dtype) -> str:
    """x.type(): 'torch.FloatTensor' for a float32 tensor, ..."""
    for name, cls in TYPED_TENSORS.items():
        if cls.dtype is not None and cls.dtype.np == np_dtype:
            return "torch." + name
    raise TypeError(f"type(): no typed tensor class for NumPy dtype {np_dtype}")


def type_target(spec) -> np.dtype:
    """The NumPy dtype that x.type(spec) converts to: a dtype, a typed class or its name."""
    if spec is Tensor:
        return dtypes.get_default_dtype().np
    if isinstance(spec, str):
        cls = TYPED_TENSORS.get(spec[len("torch."):]) if spec.startswith("torch.") else None
        if cls is None:
            hint = " (chainrule runs on the CPU only)" if ".cuda." in spec else ""
            raise ValueError(f"invalid type: {spec!r}{hint}; expected one of "
                             f"{['torch.' + n for n in TYPED_TENSORS]}")
        spec = cls
    if isinstance(spec, tensortype):
        if spec.dtype is None:
            spec()  # raises the error naming the missing dtype
        return spec.dtype.np
    if isinstance(spec, dtypes.dtype):
        return spec.np
    raise ValueError(f"invalid type: {getattr(spec, '__name__', spec)!r}; pass a dtype "
                     f"(torch.float64), a tensor type (torch.DoubleTensor) or its name")


# ====================================================================== out=
# How PyTorch checks the dtype of `out` against the result's, per function. "cast": the
# result may be cast to a dtype of the same or a higher category (bool < integer < float);
# "any": out's dtype is simply the result's dtype (sum, prod, cumsum take it as dtype=);
# every other function needs out's dtype to equal the result's exactly.
OUT_CAST = frozenset((
    "exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "square",
    "reciprocal", "sin", "cos", "tan", "tanh", "sinh", "cosh", "sigmoid", "erf",
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
    "remainder", "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "greater",
    "greater_equal", "less", "less_equal", "not_equal", "logical_and", "logical_or",
    "logical_xor", "logical_not", "lerp", "addcmul", "addcdiv", "diff", "mean", "nanmean", "var",
    "std", "logsumexp", "outer", "ger", "cat", "concat", "concatenate", "stack", "hstack",
    "vstack", "dstack", "column_stack",
))
OUT_ANY = frozenset(("sum", "nansum", "prod", "cumsum"))

# PyTorch's C++ names of the dtypes, as its messages print them
_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool"}
_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def check_out_grad(op: str, operands) -> None:
    """`out=` records no graph, so PyTorch refuses it while an argument requires grad."""
    if grad_mode._state.enabled and any(isinstance(t, Tensor) and t.requires_grad
                                        for t in operands):
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic "
                           f"differentiation, but one of the arguments requires grad. Call it "
                           f"under torch.no_grad(), or drop out= and assign the result.")


def takes_out(op: str, fn):
    """fn with PyTorch's `out=` keyword added: one wrapper for every torch.<op> that has it."""

    def with_out(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        return write_out(op, out, lambda: fn(*args, **kwargs), (*args, *kwargs.values()))

    with_out.__name__ = with_out.__qualname__ = op
    with_out.__doc__ = fn.__doc__
    with_out.__wrapped__ = fn
    return with_out


def write_out(op: str, out, compute, operands=()):
    """torch.<op>(..., out=out): compute()'s result written into `out` (or each of a tuple of
    outs, for (values, indices) results) and `out` returned. Nothing is recorded for autograd,
    so an operand requiring grad is refused first, as PyTorch does."""
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    flat = [t for v in operands for t in (v if isinstance(v, (tuple, list)) else (v,))]
    check_out_grad(op, (*flat, *outs))
    result = compute()
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{op}(): argument 'out' must be a tuple of {len(result)} Tensors "
                            f"(values, indices), got {type(out).__name__}")
        written = [_write_one(op, o, r.array) for o, r in zip(out, result)]
        return type(result)(result._op, *written)  # (tensor._ReturnType: max, min, sort, ...)
    return _write_one(op, out, result.array)


def _write_one(op: str, out, array: np.ndarray) -> Tensor:
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    have, want = out.array.dtype, array.dtype
    if have != want and op not in OUT_ANY:
        if op not in OUT_CAST:
            raise RuntimeError(f"{op}(): Expected out tensor to have dtype {_C_NAMES[want.name]}"
                               f", but got {_C_NAMES[have.name]} instead")
        if dtypes.category(have) < dtypes.category(want):
            raise RuntimeError(f"{op}(): result type {_SCALAR_NAMES[want.name]} can't be cast to "
                               f"the desired output type {_SCALAR_NAMES[have.name]}")
    return resize_into(out, array, op, stacklevel=5)


def resize_into(out: Tensor, array: np.ndarray, op: str, stacklevel: int = 3) -> Tensor:
    """Copy `array` into `out`, which takes its shape if it has another (PyTorch warns then,
    unless `out` was empty); `out`'s version counter moves, as for any in-place write."""
    if out.array.shape == array.shape:
        out.array[...] = array
    else:
        if out.array.size:
            warnings.warn(
                f"{op}(): An output with one or more elements was resized since it had shape "
                f"{list(out.array.shape)}, which does not match the required output shape "
                f"{list(array.shape)}. Outputs with elements will not be resized in a future "
                f"PyTorch release; pass an out of the right shape, or one with zero elements.",
                UserWarning, stacklevel=stacklevel)
        out.array = array.astype(out.array.dtype)  # a new array: never the result's own memory
    out._version[0] += 1  # shared with its views: saved copies of it see the change
    return out


# ====================================================================== threads
_threads = {"intra": os.cpu_count() or 1, "interop": os.cpu_count() or 1}


def _set_threads(kind: str, op: str, n) -> None:
    if not isinstance(n, int) or isinstance(n, bool):
        raise RuntimeError(f"{op} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{op} expects a positive integer, got {n}")
    _threads[kind] = n


def set_num_threads(n: int) -> None:
    """The threads chainrule's own big kernels split over (im2col, pooling, the optimizers'
    updates: chainrule._threads, at most its MAX_THREADS); get_num_threads() returns n.
    NumPy's BLAS fixes its own thread count when it loads: set OMP_NUM_THREADS (or
    OPENBLAS_NUM_THREADS) before starting Python to change that one."""
    _set_threads("intra", "set_num_threads", n)
    kernel_threads.NUM_THREADS = min(n, kernel_threads.MAX_THREADS)


def get_num_threads() -> int:
    return _threads["intra"]


def set_num_interop_threads(n: int) -> None:
    _set_threads("interop", "set_num_interop_threads", n)


def get_num_interop_threads() -> int:
    return _threads["interop"]


# ====================================================================== version
class TorchVersion(str):
    """chainrule's version string, compared as PyTorch's `torch.__version__` is: by release
    number, against a string or a tuple (`__version__ >= (0, 1)`; '0.10' > '0.9'). The value
    is chainrule's own version, never a claim to be some PyTorch release: a program that
    demands a minimum torch version sees chainrule's and takes its old-version branch."""

    __slots__ = ()

    @staticmethod
    def _release(v) -> tuple | None:
        if isinstance(v, tuple):
            return tuple(v)
        if not isinstance(v, str):
            return None
        parts = []
        for piece in v.split("+")[0].split("."):
            digits = piece[:len(piece) - len(piece.lstrip("0123456789"))]
            if not digits:
                break
            parts.append(int(digits))
            if digits != piece:  # '0rc1': the release stops at the pre-release tag
                break
        return tuple(parts) or None

    def _pair(self, other):
        a, b = self._release(str(self)), self._release(other)
        if a is None or b is None:
            return None
        n = max(len(a), len(b))  # (2,) == (2, 0, 0)
        return a + (0,) * (n - len(a)), b + (0,) * (n - len(b))

    def _compare(self, other, test):
        pair = self._pair(other)
        return NotImplemented if pair is None else test(*pair)

    def __lt__(self, other):
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._compare(other, lambda a, b: a >= b)

    def __eq__(self, other):
        if isinstance(other, tuple):
            return self._compare(other, lambda a, b: a == b)
        return str.__eq__(self, other)

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = str.__hash__


def version_module(version: str) -> types.ModuleType:
    """torch.version: the version and the CUDA/ROCm builds (none: chainrule runs on the CPU)."""
    module = types.ModuleType("chainrule.version", "chainrule's build, as torch.version.")
    module.__spec__ = importlib.machinery.ModuleSpec(module.__name__, None)  # `import` finds it
    module.__version__ = version
    module.cuda = module.hip = module.xpu = None
    module.debug = False
    module.git_version = "unknown"
    return module
