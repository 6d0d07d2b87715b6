"""Tensor: a NumPy array plus the autograd metadata PyTorch users know.

    array           the ndarray (chainrule's name; `.data` is PyTorch's detached alias)
    requires_grad   whether ops on it record a graph
    grad            the accumulated gradient (leaves, and tensors that `retain_grad()`)
    grad_fn         the Node that made it (None for leaves)

Every method is written out and calls an op's `apply` (no registration by introspection).
Argument handling happens here, once, at the boundary: PyTorch's `dim`/`keepdim` become
NumPy's `axis`/`keepdims`, dtypes are promoted by PyTorch's rules, shapes are checked with
messages that name the op.
"""

from __future__ import annotations

import builtins
import numbers
import weakref

import numpy as np

from chainrule import dtypes
from chainrule.autograd import grad_mode

_state = grad_mode._state
_py_scalar = (builtins.int, builtins.float, builtins.bool)


class Tensor:
    """An n-dimensional array that can record the operations done to it.

    `Tensor(data)` follows `torch.Tensor(data)` (float32); prefer `chainrule.tensor(...)`.
    """

    # The fields every tensor sets are slots; the rarely set ones are class-level defaults
    # (instances get their own value in __dict__ when one is set), which keeps `_make` cheap.
    __slots__ = ("array", "_requires_grad", "_grad", "grad_fn", "_output_nr", "_version",
                 "__weakref__", "__dict__")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operator
    _base = None  # the tensor whose memory this view shares
    _view_spec = None  # how to remake this view from `_base` (views.replay_view)
    _hooks = None
    _post_acc_hooks = None
    _retains_grad = False

    def __init__(self, *args, requires_grad: bool = False):
        if len(args) == 1 and not isinstance(args[0], builtins.int):
            array = _to_array(args[0], "Tensor()", dtypes.float32.np)
        else:
            array = np.empty(_shape_args(args, "Tensor()"), dtype=np.float32)
        Tensor._init(self, array, None, 0, False)
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, array: np.ndarray, grad_fn, output_nr: int, requires_grad: bool):
        t = object.__new__(cls)
        t.array = array
        t._requires_grad = requires_grad
        t._grad = None
        t.grad_fn = grad_fn
        t._output_nr = output_nr
        t._version = [0]
        return t

    def _init(self, array, grad_fn, output_nr, requires_grad):
        self.array = array
        self._requires_grad = requires_grad
        self._grad = None
        self.grad_fn = grad_fn
        self._output_nr = output_nr
        self._version = [0]

    # ------------------------------------------------------------------ autograd fields
    @property
    def requires_grad(self) -> bool:
        """Whether ops on this tensor record a graph (set it on leaves only)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = builtins.bool(value)
        if value and self.array.dtype.kind != "f":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients; this one is "
                f"{self.dtype} (convert with .float() first)"
            )
        if self.grad_fn is not None and not value:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to "
                "use a computed variable in a subgraph that doesn't require differentiation "
                "use var_no_grad = var.detach()."
            )
        self._requires_grad = value

    @property
    def grad(self):
        """The gradient accumulated by backward() (None until then)."""
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got "
                                f"{type(value).__name__}")
            if value.array.shape != self.array.shape:
                raise RuntimeError(f"assigned grad has data of a different size: the tensor is "
                                   f"{list(self.shape)}, the grad {list(value.shape)}")
            if value.array.dtype != self.array.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: the tensor "
                                   f"is {self.dtype}, the grad {value.dtype}")
        self._grad = value

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> Size:
        return Size(self.array.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self.array.shape)
        return self.array.shape[_dim(dim, self.ndim, "size")]

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.from_numpy_dtype(self.array.dtype)

    @property
    def device(self) -> device:
        return _CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def ndim(self) -> int:
        return self.array.ndim

    def dim(self) -> int:
        return self.array.ndim

    ndimension = dim

    def numel(self) -> int:
        return self.array.size

    nelement = numel

    def element_size(self) -> int:
        return self.array.itemsize

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def is_floating_point(self) -> bool:
        return self.array.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return self.array.flags.c_contiguous

    def contiguous(self) -> Tensor:
        return self if self.array.flags.c_contiguous else self.clone()

    @property
    def data(self) -> Tensor:
        """A Tensor sharing this one's memory with no history (PyTorch's `.data`)."""
        return Tensor._make(self.array, None, 0, False)

    @data.setter
    def data(self, other: Tensor) -> None:
        if not isinstance(other, Tensor):
            raise TypeError(f".data must be set to a Tensor, got {type(other).__name__}")
        self.array = other.array

    @property
    def T(self) -> Tensor:  # noqa: N802
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:  # noqa: N802
        if self.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                               f"Got {self.ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def H(self) -> Tensor:  # noqa: N802 - real tensors: the conjugate transpose is the transpose
        return self.t()

    @property
    def mH(self) -> Tensor:  # noqa: N802
        return self.mT

    # ------------------------------------------------------------------ conversion
    def item(self):
        if self.array.size != 1:
            raise RuntimeError(
                f"a Tensor with {self.array.size} elements cannot be converted to Scalar; "
                f"item() needs exactly one element (index it first, e.g. x[0].item())"
            )
        return self.array.reshape(()).item()

    def tolist(self):
        return self.array.tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self.requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self.array

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and np.dtype(dtype) != self.array.dtype:
            return self.array.astype(dtype)
        return self.array.copy() if copy else self.array

    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        if self.array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def _scalar_value(self, what: str):
        if self.array.size != 1:
            raise ValueError(  # PyTorch's type here
                f"{what}: only one element tensors can be converted to Python scalars; this one "
                f"has shape {list(self.shape)}"
            )
        return self.array.reshape(()).item()

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous (shape "
                f"{list(self.shape)}); use .any() or .all()"
            )
        return builtins.bool(self.array.reshape(()))

    def __float__(self) -> float:
        return builtins.float(self._scalar_value("float()"))

    def __int__(self) -> int:
        return builtins.int(self._scalar_value("int()"))

    def __index__(self) -> int:
        if self.array.dtype.kind not in "iub" or self.array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.array.reshape(()))

    def __hash__(self) -> int:
        return id(self)

    def __format__(self, spec: str) -> str:
        if self.array.ndim == 0:
            return format(self.array.item(), spec)
        return object.__format__(self, spec) if not spec else format(self.array.item(), spec)

    def __repr__(self) -> str:
        return _format.tensor_repr(self)

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        raise TypeError(
            "chainrule Tensors are not pickled: use chainrule.save / chainrule.load "
            "(safetensors + JSON), which cannot run code when a file is loaded"
        )

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol; call .detach() first"
            )
        new = type(self)._make(self.array.copy(), None, 0, self.requires_grad)
        if self.grad is not None:
            new.grad = self.grad.clone()
        memo[id(self)] = new
        return new

    # ------------------------------------------------------------------ dtype and copies
    def to(self, *args, **kwargs) -> Tensor:
        """to(dtype), to(device), to(device, dtype), to(other): only 'cpu' is a device here."""
        target = kwargs.pop("dtype", None)
        dev = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        copy = kwargs.pop("copy", False)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                target = a.dtype
            elif isinstance(a, (dtypes.dtype, np.dtype)) or a in (builtins.float, builtins.int,
                                                                  builtins.bool):
                target = a
            else:
                dev = a
        if dev is not None:
            _check_device(dev, "to()")
        if target is None:
            return self.clone() if copy else self
        np_dt = dtypes.to_numpy_dtype(target)
        if np_dt == self.array.dtype:
            return self.clone() if copy else self
        return ew.To.apply(self, np_dt)

    def type(self, dtype=None):
        if dtype is None:
            return "torch." + {"f": "", "i": "", "u": "", "b": ""}[self.array.dtype.kind] + \
                _TYPE_NAMES[self.array.dtype.name]
        return self.to(dtype)

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        return self.to(dtypes.float16)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool)

    def cpu(self) -> Tensor:
        return self

    def cuda(self, *args, **kwargs):
        raise RuntimeError("chainrule runs on the CPU only; remove .cuda() or use .to('cpu')")

    def detach(self) -> Tensor:
        """The same values, cut from the graph (memory and version counter are shared)."""
        t = Tensor._make(self.array.view(), None, 0, False)
        t._version = self._version
        return t

    def detach_(self) -> Tensor:
        if self._base is not None:
            raise RuntimeError("detach_() can't be called on a view; use detach() instead")
        self.grad_fn = None
        self._requires_grad = False
        return self

    def clone(self, *, memory_format=None) -> Tensor:
        return ew.Clone.apply(self)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.array.dtype.kind != "f":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients; this one is "
                f"{self.dtype} (convert with .float() first)"
            )
        if not self.is_leaf:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach()."
                )
            return self
        self.requires_grad = requires_grad
        return self

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` (or only `inputs`').

        (`autograd.explain(self, accumulate=True)` runs the same pass and shows each step.)
        """
        if gradient is None and inputs is None and self.grad_fn is not None and \
                self.array.size == 1:
            # the common `loss.backward()`: skip the general argument handling
            seed = np.array(1, self.array.dtype)  # (np.ones is slower: Python-level)
            if seed.shape != self.array.shape:
                seed = seed.reshape(self.array.shape)
            seed = Tensor._make(seed, None, 0, False)
            _engine.run_backward([self], [seed], create_graph if retain_graph is None else
                                 retain_graph, create_graph)
            return
        from chainrule.autograd import backward as _backward

        _backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def retain_grad(self) -> None:
        """Keep `.grad` on this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None:
            return
        node = self.grad_fn
        if node._retained is None:
            node._retained = {}
        node._retained[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook) -> _RemovableHandle:
        """hook(grad) runs when this tensor's gradient is computed; a returned value replaces it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
            return _RemovableHandle(self._hooks, hook)
        node = self.grad_fn
        if node._hooks is None:
            node._hooks = {}
        hooks = node._hooks.setdefault(self._output_nr, [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook) -> _RemovableHandle:
        """hook(tensor) runs after `.grad` of this leaf has been accumulated."""
        if not self.is_leaf:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._post_acc_hooks is None:
            self._post_acc_hooks = []
        self._post_acc_hooks.append(hook)
        return _RemovableHandle(self._post_acc_hooks, hook)

    @property
    def _version_count(self) -> int:
        return self._version[0]

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return _binary(ew.Add, self, other, "add")

    def __radd__(self, other):
        return _binary(ew.Add, self, other, "add", reflected=True)

    def __sub__(self, other):
        _no_bool_sub(self, other)
        return _binary(ew.Sub, self, other, "sub")

    def __rsub__(self, other):
        _no_bool_sub(self, other)
        return _binary(ew.Sub, self, other, "sub", reflected=True)

    def __mul__(self, other):
        return _binary(ew.Mul, self, other, "mul")

    def __rmul__(self, other):
        return _binary(ew.Mul, self, other, "mul", reflected=True)

    def __truediv__(self, other):
        return _binary(ew.Div, self, other, "div", to_float=True)

    def __rtruediv__(self, other):
        return _binary(ew.Div, self, other, "div", reflected=True, to_float=True)

    def __floordiv__(self, other):
        return _binary(ew.FloorDivide, self, other, "floor_divide")

    def __rfloordiv__(self, other):
        return _binary(ew.FloorDivide, self, other, "floor_divide", reflected=True)

    def __mod__(self, other):
        return _binary(ew.Remainder, self, other, "remainder")

    def __rmod__(self, other):
        return _binary(ew.Remainder, self, other, "remainder", reflected=True)

    def __pow__(self, exponent):
        return _binary(ew.Pow, self, exponent, "pow")

    def __rpow__(self, base):
        return _binary(ew.Pow, self, base, "pow", reflected=True)

    def __matmul__(self, other):
        return la.matmul(self, other if isinstance(other, Tensor) else
                         _as_operand(other, self, "matmul"))

    def __rmatmul__(self, other):
        return _as_operand(other, self, "matmul").matmul(self)

    def __neg__(self):
        if self.array.dtype.kind == "b":
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                               "Use the `~` or `logical_not()` operator instead.")
        return ew.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return self.abs()

    def __invert__(self):
        if self.array.dtype.kind == "f":
            raise TypeError("~ (bitwise_not) is only defined on integer and bool tensors")
        return Tensor._make(np.invert(self.array), None, 0, False)

    def __and__(self, other):
        return _logical(np.bitwise_and, self, other, "bitwise_and")

    __rand__ = __and__

    def __or__(self, other):
        return _logical(np.bitwise_or, self, other, "bitwise_or")

    __ror__ = __or__

    def __xor__(self, other):
        return _logical(np.bitwise_xor, self, other, "bitwise_xor")

    __rxor__ = __xor__

    def add(self, other, *, alpha=1):
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, *, alpha=1):
        return self - (other if alpha == 1 else other * alpha)

    subtract = sub

    def mul(self, other):
        return self * other

    multiply = mul

    def div(self, other, *, rounding_mode=None):
        if rounding_mode is None:
            return self / other
        if rounding_mode == "floor":
            return self // other
        if rounding_mode == "trunc":
            return (self / other).trunc()
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got "
                         f"{rounding_mode!r}")

    divide = true_divide = div

    def floor_divide(self, other):
        return self // other

    def remainder(self, other):
        return self % other

    def pow(self, exponent):
        return self ** exponent

    def neg(self):
        return -self

    negative = neg

    def reciprocal(self):
        return _unary(ew.Reciprocal, self, float_only=True)

    def square(self):
        return self * self

    # ------------------------------------------------------------------ comparisons
    def __eq__(self, other):
        return _compare(np.equal, self, other, "eq")

    def __ne__(self, other):
        return _compare(np.not_equal, self, other, "ne")

    def __lt__(self, other):
        return _compare(np.less, self, other, "lt")

    def __le__(self, other):
        return _compare(np.less_equal, self, other, "le")

    def __gt__(self, other):
        return _compare(np.greater, self, other, "gt")

    def __ge__(self, other):
        return _compare(np.greater_equal, self, other, "ge")

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__
    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

    def equal(self, other) -> bool:
        """True when shapes and all values are equal (a Python bool, as torch.equal)."""
        return self.shape == other.shape and builtins.bool(np.array_equal(self.array, other.array))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
        return builtins.bool(np.allclose(self.array, _raw(other), rtol, atol, equal_nan))

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
        return _nograd(np.isclose(self.array, _raw(other), rtol, atol, equal_nan))

    def logical_and(self, other):
        return _nograd(np.logical_and(self.array, _raw(other)))

    def logical_or(self, other):
        return _nograd(np.logical_or(self.array, _raw(other)))

    def logical_xor(self, other):
        return _nograd(np.logical_xor(self.array, _raw(other)))

    def logical_not(self):
        return _nograd(np.logical_not(self.array))

    def isnan(self):
        return _nograd(np.isnan(self.array))

    def isinf(self):
        return _nograd(np.isinf(self.array))

    def isfinite(self):
        return _nograd(np.isfinite(self.array))

    def isposinf(self):
        return _nograd(np.isposinf(self.array))

    def isneginf(self):
        return _nograd(np.isneginf(self.array))

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return self.where(self.isfinite(), _nograd(np.nan_to_num(
            self.array, nan=nan, posinf=posinf, neginf=neginf)))

    # ------------------------------------------------------------------ elementwise math
    def abs(self):
        return _unary(ew.Abs, self)

    absolute = abs

    def exp(self):
        return _unary(ew.Exp, self, float_only=True)

    def exp2(self):
        return 2.0 ** self.to(_float_of(self))

    def log(self):
        return _unary(ew.Log, self, float_only=True)

    def log2(self):
        return self.log() / float(np.log(2.0))

    def log10(self):
        return self.log() / float(np.log(10.0))

    def log1p(self):
        return _unary(ew.Log1p, self, float_only=True)

    def expm1(self):
        return _unary(ew.Expm1, self, float_only=True)

    def sqrt(self):
        return _unary(ew.Sqrt, self, float_only=True)

    def rsqrt(self):
        return _unary(ew.Rsqrt, self, float_only=True)

    def sin(self):
        return _unary(ew.Sin, self, float_only=True)

    def cos(self):
        return _unary(ew.Cos, self, float_only=True)

    def tan(self):
        x = self.to(_float_of(self))
        return x.sin() / x.cos()

    def tanh(self):
        return _unary(ew.Tanh, self, float_only=True)

    def sinh(self):
        x = self.to(_float_of(self))
        return (x.exp() - (-x).exp()) * 0.5

    def cosh(self):
        x = self.to(_float_of(self))
        return (x.exp() + (-x).exp()) * 0.5

    def sigmoid(self):
        return _unary(ew.Sigmoid, self, float_only=True)

    def relu(self):
        return ew.Relu.apply(self)

    def erf(self):
        return _unary(ew.Erf, self, float_only=True)

    def sign(self):
        return _unary(ew.Sign, self)

    sgn = sign

    def floor(self):
        return self if self.array.dtype.kind != "f" else ew.Floor.apply(self)

    def ceil(self):
        return self if self.array.dtype.kind != "f" else ew.Ceil.apply(self)

    def trunc(self):
        return self if self.array.dtype.kind != "f" else ew.Trunc.apply(self)

    fix = trunc

    def frac(self):
        return self - self.trunc()

    def round(self, *, decimals: int = 0):
        return self if self.array.dtype.kind != "f" else ew.Round.apply(self, decimals)

    def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            out = self
            if min is not None:
                out = out.maximum(_as_operand(min, self, "clamp"))
            if max is not None:
                out = out.minimum(_as_operand(max, self, "clamp"))
            return out
        x = self
        if self.array.dtype.kind != "f" and any(
            isinstance(v, builtins.float) for v in (min, max)
        ):
            x = self.to(dtypes.get_default_dtype())
        return ew.Clamp.apply(x, min, max)

    clip = clamp

    def clamp_min(self, min):  # noqa: A002
        return self.clamp(min=min)

    def clamp_max(self, max):  # noqa: A002
        return self.clamp(max=max)

    def maximum(self, other):
        return _binary(ew.Maximum, self, other, "maximum", scalar_ok=False)

    def minimum(self, other):
        return _binary(ew.Minimum, self, other, "minimum", scalar_ok=False)

    def where(self, condition, other):
        """self where condition else other (PyTorch's Tensor.where argument order)."""
        from chainrule import where

        return where(condition, self, other)

    def masked_fill(self, mask, value):
        mask = _as_mask(mask, self, "masked_fill")
        if isinstance(value, Tensor):
            if value.ndim != 0:
                raise RuntimeError(
                    f"masked_fill only supports a 0-dimensional value tensor, but got tensor "
                    f"with {value.ndim} dimension(s)"
                )
            return ew.Where.apply(mask.array, value.to(self.dtype), self)
        return ew.Where.apply(mask.array, _cast_scalar(value, self.array.dtype), self)

    def lerp(self, end, weight):
        return self + (end - self) * weight

    def addcmul(self, tensor1, tensor2, *, value=1):
        return self + value * tensor1 * tensor2

    def addcdiv(self, tensor1, tensor2, *, value=1):
        return self + value * tensor1 / tensor2

    def diff(self, n=1, dim=-1):
        out = self
        for _ in range(n):
            length = out.shape[dim]
            out = out.narrow(dim, 1, length - 1) - out.narrow(dim, 0, length - 1)
        return out

    # ------------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim=False, *, dtype=None):
        x = self if dtype is None else self.to(dtype)
        if dtype is None and x.array.dtype.kind in "bi" and x.array.dtype != np.int64:
            x = x.to(dtypes.int64)  # PyTorch sums integers and bools in int64
        return red.Sum.apply(x, _axes(dim, self.ndim, "sum"), keepdim)

    def nansum(self, dim=None, keepdim=False):
        return self.where(~self.isnan(), 0.0).sum(dim, keepdim)

    def mean(self, dim=None, keepdim=False, *, dtype=None):
        x = self if dtype is None else self.to(dtype)
        if x.array.dtype.kind != "f":
            raise RuntimeError(
                f"mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {x.dtype}. Use x.float().mean()"
            )
        return red.Mean.apply(x, _axes(dim, self.ndim, "mean"), keepdim)

    def nanmean(self, dim=None, keepdim=False):
        keep = ~self.isnan()
        return self.nansum(dim, keepdim) / keep.sum(dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _var(self, dim, unbiased, keepdim, correction, "var")

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        v = _var(self, dim, unbiased, keepdim, correction, "std")
        zero = np.asarray(v.array == 0)
        if not zero.any():
            return v.sqrt()
        # PyTorch's std gradient is 0 where std is 0 (not sqrt's infinite slope times 0 = NaN)
        return ew.Where.apply(zero, 0.0, ew.Where.apply(zero, 1.0, v).sqrt())

    def prod(self, dim=None, keepdim=False, *, dtype=None):
        x = self if dtype is None else self.to(dtype)
        if dtype is None and x.array.dtype.kind in "bi" and x.array.dtype != np.int64:
            x = x.to(dtypes.int64)
        if dim is not None and not isinstance(dim, (builtins.int, np.integer)):
            raise TypeError(f"prod(): dim must be an int, got {dim!r}")
        return red.Prod.apply(x, _axes(dim, self.ndim, "prod"), keepdim)

    def max(self, dim=None, keepdim=False):
        return _extreme(self, dim, keepdim, other_ok=True, largest=True)

    def min(self, dim=None, keepdim=False):
        return _extreme(self, dim, keepdim, other_ok=True, largest=False)

    def amax(self, dim=(), keepdim=False):
        _nonempty(self, "amax", dim)
        return red.Amax.apply(self, _axes(dim if dim != () else None, self.ndim, "amax"),
                              keepdim, True)

    def amin(self, dim=(), keepdim=False):
        _nonempty(self, "amin", dim)
        return red.Amax.apply(self, _axes(dim if dim != () else None, self.ndim, "amin"),
                              keepdim, False)

    def argmax(self, dim=None, keepdim=False):
        return _arg_extreme(self, dim, keepdim, np.argmax, "argmax")

    def argmin(self, dim=None, keepdim=False):
        return _arg_extreme(self, dim, keepdim, np.argmin, "argmin")

    def logsumexp(self, dim, keepdim=False):
        x = self if self.array.dtype.kind == "f" else self.to(dtypes.get_default_dtype())
        return red.LogSumExp.apply(x, _axes(dim, self.ndim, "logsumexp"), keepdim)

    def softmax(self, dim, dtype=None):
        x = self if dtype is None else self.to(dtype)
        return red.Softmax.apply(_floatify(x, "softmax"), _dim(dim, self.ndim, "softmax"))

    def log_softmax(self, dim, dtype=None):
        x = self if dtype is None else self.to(dtype)
        return red.LogSoftmax.apply(_floatify(x, "log_softmax"),
                                    _dim(dim, self.ndim, "log_softmax"))

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        from chainrule import linalg

        x = self if dtype is None else self.to(dtype)
        if p == "fro" or p is None:
            p = 2
        if isinstance(dim, (builtins.int, np.integer)):
            dim = (dim,)
        if dim is None:
            return linalg.vector_norm(x.reshape(-1), p, 0, keepdim=False) if not keepdim \
                else linalg.vector_norm(x, p, tuple(range(x.ndim)), keepdim=True)
        return linalg.vector_norm(x, p, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return _nograd(np.all(self.array, axis=_axes(dim, self.ndim, "all"), keepdims=keepdim))

    def any(self, dim=None, keepdim=False):
        return _nograd(np.any(self.array, axis=_axes(dim, self.ndim, "any"), keepdims=keepdim))

    def count_nonzero(self, dim=None):
        return _nograd(np.count_nonzero(self.array, axis=_axes(dim, self.ndim, "count_nonzero"))
                       .astype(np.int64))

    def cumsum(self, dim, *, dtype=None):
        x = self if dtype is None else self.to(dtype)
        return red.Cumsum.apply(x, _dim(dim, self.ndim, "cumsum"))

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape):
        shape = _shape_args(shape, "reshape", allow_minus_one=True)
        return shp.Reshape.apply(self, _infer_shape(shape, self.array.size, "reshape", self))

    def view(self, *shape):
        if len(shape) == 1 and (isinstance(shape[0], dtypes.dtype)):
            raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
        shape = _shape_args(shape, "view", allow_minus_one=True)
        target = _infer_shape(shape, self.array.size, "view", self)
        if not _viewable(self.array, target):
            raise RuntimeError(
                f"view size is not compatible with input tensor's size and stride (shape "
                f"{list(self.shape)} -> {list(target)}: at least one dimension spans across two "
                f"contiguous subspaces). Use .reshape(...) instead."
            )
        return shp.Reshape.apply(self, target)

    def view_as(self, other):
        return self.view(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        s = _dim(start_dim, self.ndim, "flatten")
        e = _dim(end_dim, self.ndim, "flatten")
        if s > e:
            raise RuntimeError(f"flatten() has invalid args: start_dim ({start_dim}) cannot come "
                               f"after end_dim ({end_dim})")
        shape = self.shape
        return self.reshape(*shape[:s], -1, *shape[e + 1:]) if self.array.size else \
            self.reshape(*shape[:s], int(np.prod(shape[s:e + 1])), *shape[e + 1:])

    def unflatten(self, dim, sizes):
        d = _dim(dim, self.ndim, "unflatten")
        shape = self.shape
        return self.reshape(*shape[:d], *sizes, *shape[d + 1:])

    def ravel(self):
        return self.reshape(-1)

    def squeeze(self, dim=None):
        shape = self.array.shape
        if dim is None:
            new = tuple(s for s in shape if s != 1)
        else:
            axes = _axes(dim, self.ndim, "squeeze")
            axes = axes if isinstance(axes, tuple) else (axes,) if axes is not None else ()
            new = tuple(s for i, s in enumerate(shape) if not (i in axes and s == 1))
        return self if new == shape else shp.Reshape.apply(self, new)

    def unsqueeze(self, dim):
        d = _dim(dim, self.ndim + 1, "unsqueeze")
        shape = self.array.shape
        return shp.Reshape.apply(self, shape[:d] + (1,) + shape[d:])

    def transpose(self, dim0, dim1):
        n = self.ndim
        if n == 0:
            return self
        d0, d1 = _dim(dim0, n, "transpose"), _dim(dim1, n, "transpose")
        if d0 == d1:
            return self
        axes = list(range(n))
        axes[d0], axes[d1] = axes[d1], axes[d0]
        return shp.Permute.apply(self, tuple(axes))

    swapaxes = swapdims = transpose

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self.ndim}D; use transpose(dim0, dim1) or .mT")
        return self if self.ndim < 2 else shp.Permute.apply(self, (1, 0))

    def permute(self, *dims):
        dims = _shape_args(dims, "permute", allow_minus_one=True)
        n = self.ndim
        if len(dims) != n:
            raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input "
                               f"does not match the length of the desired ordering of "
                               f"dimensions i.e. input.dim() = {n} is not equal to "
                               f"len(dims) = {len(dims)}")
        axes = tuple(_dim(d, n, "permute") for d in dims)
        if len(set(axes)) != n:
            raise RuntimeError(f"permute(): duplicate dims are not allowed, got {list(dims)}")
        return shp.Permute.apply(self, axes)

    def movedim(self, source, destination):
        n = self.ndim
        src = [_dim(s, n, "movedim") for s in (source if isinstance(source, (tuple, list))
                                               else (source,))]
        dst = [_dim(d, n, "movedim") for d in (destination if isinstance(destination, (tuple,
                                                                                      list))
                                               else (destination,))]
        order = [i for i in range(n) if i not in src]
        for d, s in sorted(zip(dst, src)):
            order.insert(d, s)
        return shp.Permute.apply(self, tuple(order))

    moveaxis = movedim

    def expand(self, *sizes):
        sizes = _shape_args(sizes, "expand", allow_minus_one=True)
        shape = self.array.shape
        if len(sizes) < len(shape):
            raise RuntimeError(
                f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal "
                f"to the number of dimensions in the tensor ({len(shape)})"
            )
        lead = len(sizes) - len(shape)
        target = []
        for i, s in enumerate(sizes):
            if i < lead:
                if s < 0:
                    raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing "
                                       f"dimension {i}")
                target.append(s)
                continue
            cur = shape[i - lead]
            if s == -1 or s == cur:
                target.append(cur)
            elif cur == 1:
                target.append(s)
            else:
                raise RuntimeError(
                    f"The expanded size of the tensor ({s}) must match the existing size ({cur}) "
                    f"at non-singleton dimension {i}. Target sizes: {list(sizes)}. "
                    f"Tensor sizes: {list(shape)}"
                )
        target = tuple(target)
        return self if target == shape else shp.Expand.apply(self, target)

    def expand_as(self, other):
        return self.expand(other.shape)

    def broadcast_to(self, shape):
        return self.expand(shape)

    def repeat(self, *sizes):
        reps = _shape_args(sizes, "repeat")
        if len(reps) < self.ndim:
            raise RuntimeError(
                f"Number of dimensions of repeat dims ({len(reps)}) can not be smaller than "
                f"number of dimensions of tensor ({self.ndim})"
            )
        shape = (1,) * (len(reps) - self.ndim) + self.array.shape
        x = self.reshape(shape)
        # (a, b) repeated (r, s): view as (1, a, 1, b), expand to (r, a, s, b), merge pairs
        inter = []
        for s in shape:
            inter += [1, s]
        big = []
        for r, s in zip(reps, shape):
            big += [r, s]
        return x.reshape(inter).expand(big).reshape(tuple(r * s for r, s in zip(reps, shape)))

    def tile(self, *dims):
        reps = _shape_args(dims, "tile")
        reps = (1,) * (self.ndim - len(reps)) + tuple(reps)
        return self.repeat(*reps)

    def repeat_interleave(self, repeats, dim=None):
        if dim is None:
            return self.reshape(-1).repeat_interleave(repeats, 0)
        d = _dim(dim, self.ndim, "repeat_interleave")
        if isinstance(repeats, Tensor):
            idx = np.repeat(np.arange(self.shape[d]), repeats.array)
        else:
            idx = np.repeat(np.arange(self.shape[d]), repeats)
        return self.index_select(d, Tensor._make(idx, None, 0, False))

    def flip(self, *dims):
        dims = _shape_args(dims, "flip", allow_minus_one=True)
        axes = tuple(_dim(d, self.ndim, "flip") for d in dims)
        return shp.Flip.apply(self, axes)

    def fliplr(self):
        return self.flip(1)

    def flipud(self):
        return self.flip(0)

    def roll(self, shifts, dims=None):
        if dims is None:
            return self.reshape(-1).roll(shifts, 0).reshape(self.shape)
        shifts = shifts if isinstance(shifts, (tuple, list)) else (shifts,)
        dims = dims if isinstance(dims, (tuple, list)) else (dims,)
        out = self
        for s, d in zip(shifts, dims):
            d = _dim(d, self.ndim, "roll")
            n = self.shape[d]
            if n == 0:
                continue
            idx = (np.arange(n) - s) % n
            out = out.index_select(d, Tensor._make(idx, None, 0, False))
        return out

    def narrow(self, dim, start, length):
        d = _dim(dim, self.ndim, "narrow")
        size = self.shape[d]
        start = builtins.int(start)
        if start < 0:
            start += size
        if not (0 <= start <= size) or length < 0 or start + length > size:
            raise RuntimeError(
                f"narrow(): start ({start}) + length ({length}) exceeds dimension size "
                f"({size}) of dim {dim}"
            )
        key = (slice(None),) * d + (slice(start, start + length),)
        return self[key]

    def split(self, split_size_or_sections, dim=0):
        d = _dim(dim, self.ndim, "split")
        size = self.shape[d]
        if isinstance(split_size_or_sections, (builtins.int, np.integer)):
            step = builtins.int(split_size_or_sections)
            if step <= 0 and size > 0:
                raise RuntimeError(f"split expects split_size be non-negative, but got "
                                   f"split_size={step}")
            sizes = [min(step, size - i) for i in range(0, size, step)] if size else [0]
        else:
            sizes = [builtins.int(s) for s in split_size_or_sections]
            if builtins.sum(sizes) != size:
                raise RuntimeError(
                    f"split_with_sizes expects split_sizes to sum exactly to {size} (input "
                    f"tensor's size at dimension {dim}), but got split_sizes={sizes}"
                )
        out, start = [], 0
        for s in sizes:
            out.append(self.narrow(d, start, s))
            start += s
        return tuple(out)

    def chunk(self, chunks, dim=0):
        if chunks <= 0:
            raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
        d = _dim(dim, self.ndim, "chunk")
        size = self.shape[d]
        step = -(-size // chunks) if size else 1
        return self.split(step, d)

    def tensor_split(self, sections, dim=0):
        d = _dim(dim, self.ndim, "tensor_split")
        size = self.shape[d]
        if isinstance(sections, builtins.int):
            q, r = divmod(size, sections)
            bounds = np.cumsum([0] + [q + (1 if i < r else 0) for i in range(sections)])
        else:
            bounds = [0] + list(sections) + [size]
        return tuple(self.narrow(d, builtins.int(a), builtins.int(max(b - a, 0)))
                     for a, b in zip(bounds[:-1], bounds[1:]))

    def unbind(self, dim=0):
        d = _dim(dim, self.ndim, "unbind")
        return tuple(self[(slice(None),) * d + (i,)] for i in range(self.shape[d]))

    def tril(self, diagonal=0):
        _need_2d(self, "tril")
        return shp.Tri.apply(self, builtins.int(diagonal), False)

    def triu(self, diagonal=0):
        _need_2d(self, "triu")
        return shp.Tri.apply(self, builtins.int(diagonal), True)

    def diag(self, diagonal=0):
        if self.ndim not in (1, 2):
            raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {self.ndim}D")
        return shp.Diag.apply(self, builtins.int(diagonal))

    def diagonal(self, offset=0, dim1=0, dim2=1):
        x = self.movedim((dim1, dim2), (-2, -1)) if (dim1, dim2) != (0, 1) or self.ndim > 2 \
            else self
        if x.ndim == 2:
            return shp.Diag.apply(x, builtins.int(offset))
        n, m = x.shape[-2], x.shape[-1]
        rows = np.arange(max(0, -offset), min(n, m - offset))
        return x[..., rows, rows + offset]

    def trace(self):
        if self.ndim != 2:
            raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {self.ndim}")
        return self.diag().sum()

    def unfold(self, dimension, size, step):
        d = _dim(dimension, self.ndim, "unfold")
        n = (self.shape[d] - size) // step + 1
        pieces = [self.narrow(d, i * step, size).unsqueeze(d) for i in range(n)]
        from chainrule import cat

        return cat(pieces, d).movedim(d + 1, -1)

    # ------------------------------------------------------------------ indexing
    def __getitem__(self, key):
        return ix.getitem(self, key)

    def __setitem__(self, key, value):
        ix.setitem(self, key, value)

    def gather(self, dim, index):
        return ix.gather(self, dim, index)

    def scatter_add(self, dim, index, src):
        return ix.scatter_add(self, dim, index, src)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return ix.scatter(self, dim, index, src if src is not None else value)

    def index_select(self, dim, index):
        return ix.index_select(self, dim, index)

    def take_along_dim(self, indices, dim=None):
        if dim is None:
            return self.reshape(-1).gather(0, indices.reshape(-1))
        d = _dim(dim, self.ndim, "take_along_dim")
        if indices.ndim != self.ndim:
            raise RuntimeError(f"take_along_dim(): input and indices should have the same number "
                               f"of dimensions, but got {self.ndim} dimensions for input, and "
                               f"{indices.ndim} dimensions for indices")
        # both broadcast in every dim but `dim`, where each keeps its own size
        sizes = [-1 if k == d else max(a, b) for k, (a, b) in enumerate(zip(self.shape,
                                                                          indices.shape))]
        return self.expand(*sizes).gather(d, indices.expand(*sizes))

    def masked_select(self, mask):
        mask = _as_mask(mask, self, "masked_select")
        shape = np.broadcast_shapes(self.array.shape, mask.array.shape)
        return self.expand(shape)[mask.expand(shape)]

    def nonzero(self, *, as_tuple=False):
        idx = np.nonzero(self.array)
        if as_tuple:
            return tuple(Tensor._make(i.astype(np.int64), None, 0, False) for i in idx)
        return Tensor._make(np.stack(idx, axis=1).astype(np.int64) if idx else
                            np.zeros((0, 0), np.int64), None, 0, False)

    def argsort(self, dim=-1, descending=False, stable=False):
        d = _dim(dim, self.ndim, "argsort")
        a = -self.array if descending else self.array
        return _nograd(np.argsort(a, axis=d, kind="stable").astype(np.int64))

    def sort(self, dim=-1, descending=False, stable=False):
        idx = self.argsort(dim, descending)
        return _SortResult(self.gather(_dim(dim, self.ndim, "sort") if self.ndim else 0, idx)
                           if self.ndim else self, idx)

    def topk(self, k, dim=-1, largest=True, sorted=True):  # noqa: A002
        d = _dim(dim, self.ndim, "topk")
        if not (0 <= k <= self.shape[d]):
            raise RuntimeError(f"topk: k ({k}) is out of range for dimension {dim} of size "
                               f"{self.shape[d]}")
        idx = self.argsort(d, descending=largest).narrow(d, 0, k)
        return _SortResult(self.gather(d, idx), idx)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa
        res = np.unique(self.array, return_inverse=return_inverse, return_counts=return_counts)
        if not (return_inverse or return_counts):
            return _nograd(res)
        res = list(res)
        out = [_nograd(res[0])]
        if return_inverse:
            out.append(_nograd(res[1].reshape(self.array.shape).astype(np.int64)))
        if return_counts:
            out.append(_nograd(res[-1].astype(np.int64)))
        return tuple(out)

    # ------------------------------------------------------------------ linear algebra
    def matmul(self, other):
        return la.matmul(self, _as_operand(other, self, "matmul"))

    def mm(self, other):
        return la.mm(self, other)

    def bmm(self, other):
        return la.bmm(self, other)

    def mv(self, vec):
        return la.mv(self, vec)

    def dot(self, other):
        return la.dot(self, other)

    def inner(self, other):
        return la.inner(self, other)

    def outer(self, other):
        return la.outer(self, other)

    ger = outer

    # ------------------------------------------------------------------ activations
    def leaky_relu(self, negative_slope=0.01):
        return ew.LeakyRelu.apply(_floatify(self, "leaky_relu"), negative_slope)

    def softplus(self, beta=1.0, threshold=20.0):
        return ew.Softplus.apply(_floatify(self, "softplus"), beta, threshold)

    def gelu(self, approximate="none"):
        return ew.Gelu.apply(_floatify(self, "gelu"), approximate)

    # ------------------------------------------------------------------ in-place
    def add_(self, other, *, alpha=1):
        return _inplace(self, ew.Add, other if alpha == 1 else other * alpha, np.add, "add_")

    def sub_(self, other, *, alpha=1):
        return _inplace(self, ew.Sub, other if alpha == 1 else other * alpha, np.subtract,
                        "sub_")

    def mul_(self, other):
        return _inplace(self, ew.Mul, other, np.multiply, "mul_")

    def div_(self, other):
        return _inplace(self, ew.Div, other, np.true_divide, "div_")

    def pow_(self, exponent):
        return _inplace(self, ew.Pow, exponent, np.power, "pow_")

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def clamp_(self, min=None, max=None):  # noqa: A002
        return _inplace_unary(self, lambda x: x.clamp(min, max), "clamp_")

    clip_ = clamp_

    def neg_(self):
        return _inplace_unary(self, lambda x: -x, "neg_")

    def abs_(self):
        return _inplace_unary(self, lambda x: x.abs(), "abs_")

    def exp_(self):
        return _inplace_unary(self, lambda x: x.exp(), "exp_")

    def log_(self):
        return _inplace_unary(self, lambda x: x.log(), "log_")

    def sqrt_(self):
        return _inplace_unary(self, lambda x: x.sqrt(), "sqrt_")

    def sigmoid_(self):
        return _inplace_unary(self, lambda x: x.sigmoid(), "sigmoid_")

    def tanh_(self):
        return _inplace_unary(self, lambda x: x.tanh(), "tanh_")

    def relu_(self):
        return _inplace_unary(self, lambda x: x.relu(), "relu_")

    def masked_fill_(self, mask, value):
        return _inplace_unary(self, lambda x: x.masked_fill(mask, value), "masked_fill_")

    def addcmul_(self, tensor1, tensor2, *, value=1):
        return _inplace_unary(self, lambda x: x.addcmul(tensor1, tensor2, value=value),
                              "addcmul_")

    def addcdiv_(self, tensor1, tensor2, *, value=1):
        return _inplace_unary(self, lambda x: x.addcdiv(tensor1, tensor2, value=value),
                              "addcdiv_")

    def lerp_(self, end, weight):
        return _inplace_unary(self, lambda x: x.lerp(end, weight), "lerp_")

    def fill_(self, value):
        return _fill(self, value, "fill_")

    def zero_(self):
        return _fill(self, 0, "zero_")

    def copy_(self, src, non_blocking=False):
        src = _as_operand(src, self, "copy_")
        try:
            np.broadcast_shapes(src.array.shape, self.array.shape)
            if np.broadcast_shapes(src.array.shape, self.array.shape) != self.array.shape:
                raise ValueError
        except ValueError:
            raise RuntimeError(
                f"copy_: the source of shape {list(src.shape)} can't be broadcast to the "
                f"destination of shape {list(self.shape)}"
            ) from None
        return _inplace_unary(self, lambda x: ew.Where.apply(
            True, src.to(x.dtype).expand(x.shape), x), "copy_")

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        from chainrule.random import numpy_rng

        return _fill_random(self, numpy_rng(generator).uniform(a, b, self.array.shape),
                            "uniform_")

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        from chainrule.random import numpy_rng

        return _fill_random(self, numpy_rng(generator).normal(mean, std, self.array.shape),
                            "normal_")

    def bernoulli_(self, p=0.5, *, generator=None):
        from chainrule.random import numpy_rng

        return _fill_random(self, numpy_rng(generator).random(self.array.shape) < p,
                            "bernoulli_")

    def exponential_(self, lambd=1.0, *, generator=None):
        from chainrule.random import numpy_rng

        return _fill_random(self, numpy_rng(generator).exponential(1.0 / lambd,
                                                                   self.array.shape),
                            "exponential_")

    # ------------------------------------------------------------------ odds and ends
    def new_tensor(self, data, dtype=None, requires_grad=False):
        from chainrule import tensor

        return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, requires_grad=False):
        from chainrule import zeros

        return zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False):
        from chainrule import ones

        return ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False):
        from chainrule import full

        return full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad=False):
        from chainrule import empty

        return empty(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def type_as(self, other):
        return self.to(other.dtype)

    def share_memory_(self):
        return self

    def pin_memory(self):
        return self

    def storage_offset(self) -> int:
        return 0

    def stride(self, dim=None):
        strides = tuple(s // self.array.itemsize for s in self.array.strides)
        return strides if dim is None else strides[_dim(dim, self.ndim, "stride")]

    def data_ptr(self) -> int:
        return self.array.__array_interface__["data"][0]

    def apply_(self, fn):
        self.array[...] = np.vectorize(fn)(self.array)
        return self


# ====================================================================== helpers
class Size(tuple):
    """torch.Size: a tuple of ints that prints as PyTorch's."""

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


class device:  # noqa: N801
    """Only 'cpu' exists here; `device('cpu')` compares equal to the string 'cpu'."""

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index  # noqa: A001
        if str(type).split(":")[0] != "cpu":
            raise RuntimeError(f"chainrule runs on the CPU only; device {type!r} is not available")
        self.type = "cpu"
        self.index = index

    def __repr__(self) -> str:
        return "device(type='cpu')"

    def __str__(self) -> str:
        return "cpu"

    def __eq__(self, other) -> bool:
        return str(other) == "cpu"

    def __hash__(self) -> int:
        return hash("cpu")


_CPU = device("cpu")

_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
               "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


def _check_device(dev, op: str) -> None:
    if isinstance(dev, device):
        return
    if isinstance(dev, str) and dev.split(":")[0] == "cpu":
        return
    raise RuntimeError(f"{op}: chainrule runs on the CPU only; device {dev!r} is not available")


class _RemovableHandle:
    """What register_hook returns: `.remove()` takes the hook out again."""

    __slots__ = ("_list", "_hook")

    def __init__(self, hooks: list, hook):
        self._list, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._list:
            self._list.remove(self._hook)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _SortResult(tuple):
    """(values, indices), also by name, as torch.return_types."""

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self) -> str:
        return f"torch.return_types(values={self[0]!r}, indices={self[1]!r})"


def _nograd(array) -> Tensor:
    return Tensor._make(np.asarray(array), None, 0, False)


def _raw(x):
    return x.array if isinstance(x, Tensor) else x


def _to_array(data, op: str, default_float: np.dtype | None = None) -> np.ndarray:
    """Nested lists / scalars / arrays / Tensors to an ndarray, with a clear error if ragged."""
    if isinstance(data, Tensor):
        return data.array
    if isinstance(data, np.ndarray):
        arr = data
    elif isinstance(data, np.generic):  # a NumPy scalar keeps its dtype, as in PyTorch
        arr = np.asarray(data)
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
            data = [d.array if isinstance(d, Tensor) else _to_array(d, op) if isinstance(
                d, (list, tuple)) else d for d in data]
        try:
            arr = np.array(data)
        except ValueError as e:
            raise ValueError(
                f"{op}: the nested sequence is ragged (sublists of different lengths) and "
                f"can't form a tensor; every row must have the same length ({e})"
            ) from None
        if arr.dtype == object:
            raise TypeError(
                f"{op}: can't build a tensor from an object of type {type(data).__name__} "
                f"(elements must be numbers or bools in nested lists of equal length)"
            )
        if arr.dtype.kind == "f" and default_float is None:
            arr = arr.astype(dtypes.get_default_dtype().np)
    if arr.dtype.kind in "US":
        raise TypeError(f"{op}: can't convert strings to a tensor")
    if default_float is not None:
        arr = arr.astype(default_float)
    if arr.dtype.kind == "u" and arr.dtype != np.uint8:
        arr = arr.astype(np.int64)
    if arr.dtype not in dtypes._FROM_NUMPY:
        dtypes.from_numpy_dtype(arr.dtype)  # raises the TypeError naming the dtype
    return arr


def _shape_args(args, op: str, allow_minus_one: bool = False) -> tuple:
    """Shapes as varargs `f(2, 3)` or one sequence `f((2, 3))`; every size an int."""
    if len(args) == 1 and isinstance(args[0], (tuple, list, Size)):
        args = tuple(args[0])
    elif len(args) == 1 and isinstance(args[0], Tensor) and args[0].ndim == 1:
        args = tuple(args[0].tolist())
    out = []
    for a in args:
        if isinstance(a, Tensor):
            a = a.__index__()
        if not isinstance(a, (builtins.int, np.integer)) or isinstance(a, builtins.bool):
            raise TypeError(f"{op}(): sizes must be ints, got {type(a).__name__} ({a!r}) in "
                            f"{list(args)}")
        a = builtins.int(a)
        if a < 0 and not (allow_minus_one and a == -1):
            raise RuntimeError(f"{op}(): sizes must be non-negative, got {list(args)}")
        out.append(a)
    return tuple(out)


def _infer_shape(shape: tuple, numel: int, op: str, t: Tensor) -> tuple:
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred (-1), got {list(shape)}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel} "
                               f"({op} of a tensor of shape {list(t.shape)})")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel} "
                           f"({op} of a tensor of shape {list(t.shape)})")
    return shape


def _viewable(array: np.ndarray, shape: tuple) -> bool:
    if array.flags.c_contiguous:
        return True
    try:
        v = array.view()
        v.shape = shape  # NumPy raises when this would need a copy
        return True
    except AttributeError:
        return False


def _dim(dim, ndim: int, op: str) -> int:
    """A PyTorch dim (negative counts from the end) as a NumPy axis, checked."""
    if not isinstance(dim, (builtins.int, np.integer)) or isinstance(dim, builtins.bool):
        raise TypeError(f"{op}(): dim must be an int, got {type(dim).__name__} ({dim!r})")
    n = max(ndim, 1)  # PyTorch lets 0-d tensors use dim 0 / -1
    if not -n <= dim < n:
        raise IndexError(f"{op}(): Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    return builtins.int(dim) % n if ndim else 0


def _axes(dim, ndim: int, op: str):
    """dim=None | int | tuple of ints to NumPy's axis (None, int or tuple), checked."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        if len(dim) == 0:
            return None
        axes = tuple(_dim(d, ndim, op) for d in dim)
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"{op}(): dim {list(dim)} appears multiple times in the list of "
                               f"dims")
        return axes if ndim else None
    axis = _dim(dim, ndim, op)  # checked on 0-d tensors too: only dim 0 / -1 is valid there
    return axis if ndim else None


def _float_of(t: Tensor):
    return t.dtype if t.array.dtype.kind == "f" else dtypes.get_default_dtype()


def _floatify(t: Tensor, op: str) -> Tensor:
    if t.array.dtype.kind == "f":
        return t
    return t.to(dtypes.get_default_dtype())


def _unary(op, t: Tensor, float_only: bool = False):
    if float_only and t.array.dtype.kind != "f":
        t = t.to(dtypes.get_default_dtype())  # PyTorch: exp(int tensor) is float32
    return op.apply(t)


def _need_2d(t: Tensor, op: str) -> None:
    if t.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got {t.ndim}")


def _as_operand(other, like: Tensor, op: str) -> Tensor:
    """Turn a list / array / scalar into a Tensor operand (no grad)."""
    if isinstance(other, Tensor):
        return other
    if isinstance(other, (np.ndarray, list, tuple)) or isinstance(other, numbers.Number):
        arr = _to_array(other, op)
        if isinstance(other, numbers.Number) and not isinstance(other, np.generic):
            arr = arr.astype(dtypes.result_type(like, other)) if True else arr
        return Tensor._make(arr, None, 0, False)
    raise TypeError(f"{op}(): expected a Tensor, a number or a sequence as the other operand, "
                    f"got {type(other).__name__}")


def _as_mask(mask, like: Tensor, op: str) -> Tensor:
    mask = _as_operand(mask, like, op)
    if mask.array.dtype != np.bool_:
        raise RuntimeError(f"{op}: expected a mask of dtype torch.bool, got {mask.dtype}")
    try:
        np.broadcast_shapes(mask.array.shape, like.array.shape)
    except ValueError:
        raise RuntimeError(
            f"{op}: the mask of shape {list(mask.shape)} can't be broadcast to the tensor of "
            f"shape {list(like.shape)}") from None
    return mask


def _cast_scalar(value, np_dtype):
    if isinstance(value, np.generic):
        value = value.item()
    return value


def _broadcast_check(a: np.ndarray, b, op: str) -> None:
    if isinstance(b, np.ndarray) and a.shape != b.shape:
        # aligned from the right, each pair of sizes must agree or contain a 1
        for x, y in zip(reversed(a.shape), reversed(b.shape)):
            if x != y and x != 1 and y != 1:
                break
        else:
            return
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise RuntimeError(
                f"{op}: the size of tensor a ({list(a.shape)}) must match the size of tensor b "
                f"({list(b.shape)}) at every non-singleton dimension (shapes broadcast from "
                f"the right; use reshape/unsqueeze to line them up)"
            ) from None


def _binary(op, a: Tensor, b, name: str, reflected: bool = False, to_float: bool = False,
            scalar_ok: bool = True):
    """Promote dtypes as PyTorch does, check broadcasting, run `op` (reflected: b op a)."""
    if isinstance(b, Tensor):
        aa, ba = a.array, b.array
        if aa.dtype != ba.dtype:
            dt = dtypes.result_type(a, b)
            if aa.dtype != dt:
                a = a.to(dt)
            if ba.dtype != dt:
                b = b.to(dt)
    elif type(b) is float or type(b) is builtins.int or isinstance(b, (numbers.Number,
                                                                        np.generic)):
        if isinstance(b, np.generic):
            b = b.item()  # NumPy scalars count as Python scalars, as in PyTorch
        if not scalar_ok:
            b = _as_operand(b, a, name)
        elif a.array.dtype.kind != "f" and dtypes.scalar_category(b) > dtypes.category(
                a.array.dtype):
            a = a.to(dtypes.result_type(a, b))
    else:
        b = _as_operand(b, a, name)
        return _binary(op, a, b, name, reflected, to_float)
    if to_float and a.array.dtype.kind != "f":
        fl = dtypes.get_default_dtype()
        a = a.to(fl)
        if isinstance(b, Tensor) and b.array.dtype.kind != "f":
            b = b.to(fl)
    try:  # shapes are checked only when NumPy refuses them (the common case pays nothing)
        return op.apply(b, a) if reflected else op.apply(a, b)
    except ValueError:
        if isinstance(b, Tensor):  # raises, naming both shapes in the order written
            _broadcast_check(*((b.array, a.array) if reflected else (a.array, b.array)), name)
        raise


def _no_bool_sub(a: Tensor, b) -> None:
    b_bool = isinstance(b, (builtins.bool, np.bool_)) or (
        isinstance(b, Tensor) and b.array.dtype == np.bool_)
    if a.array.dtype == np.bool_ and b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if a.array.dtype == np.bool_ or b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


def _compare(fn, a: Tensor, b, name: str) -> Tensor:
    if isinstance(b, Tensor):
        _broadcast_check(a.array, b.array, name)
        b = b.array
    elif isinstance(b, (list, tuple, np.ndarray)):
        b = _as_operand(b, a, name).array
        _broadcast_check(a.array, b, name)
    elif not isinstance(b, (numbers.Number, np.generic)):
        if name == "eq":
            return False
        if name == "ne":
            return True
        raise TypeError(f"{name}(): can't compare a Tensor with {type(b).__name__}")
    return Tensor._make(fn(a.array, b), None, 0, False)


def _logical(fn, a: Tensor, b, name: str) -> Tensor:
    b = _raw(b) if isinstance(b, Tensor) else b
    if a.array.dtype.kind == "f" or (isinstance(b, np.ndarray) and b.dtype.kind == "f"):
        raise TypeError(f"{name}: only integer and bool tensors are supported, got {a.dtype}")
    if isinstance(b, np.ndarray):
        _broadcast_check(a.array, b, name)
    return Tensor._make(fn(a.array, b), None, 0, False)


def _var(t: Tensor, dim, unbiased, keepdim, correction, name: str) -> Tensor:
    """var = sum((x - mean)^2) / (N - correction), as a composition (two-pass, like PyTorch)."""
    if isinstance(dim, builtins.bool):
        dim, unbiased = None, dim  # var(x, False): PyTorch's var(input, unbiased) overload
    if isinstance(unbiased, (builtins.int, tuple, list)) and not isinstance(unbiased,
                                                                            builtins.bool):
        dim, unbiased = unbiased, None  # var(x, 0): a dim given positionally
    if unbiased is not None and correction is not None:
        raise RuntimeError(f"{name}: pass either unbiased or correction, not both")
    c = correction if correction is not None else (0 if unbiased is False else 1)
    if t.array.dtype.kind != "f":
        raise RuntimeError(f"{name}(): expected a floating point tensor, got {t.dtype}")
    axes = _axes(dim, t.ndim, name)
    n = t.array.size if axes is None else builtins.int(
        np.prod([t.array.shape[a] for a in (axes if isinstance(axes, tuple) else (axes,))]))
    mean = t.mean(dim if axes is not None else None, keepdim=True)
    sq = (t - mean).square()
    return sq.sum(dim if axes is not None else None, keepdim=keepdim) / max(n - c, 0)


def _nonempty(t: Tensor, name: str, dim=None) -> None:
    if t.array.size == 0 and (dim is None or dim == ()):
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() "
                           f"== 0. Specify the reduction dim with the 'dim' argument.")


def _extreme(t: Tensor, dim, keepdim: bool, other_ok: bool, largest: bool):
    """max()/min(): of everything, along a dim (values, indices), or elementwise with a tensor."""
    from chainrule.ops.reduction import MinMaxResult

    if isinstance(dim, Tensor):
        return t.maximum(dim) if largest else t.minimum(dim)
    name = "max" if largest else "min"
    if dim is None:
        if t.array.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               f"input.numel() == 0.")
        return red.Amax.apply(t, None, False, largest, nan_ties=True)
    d = _dim(dim, t.ndim, name)
    if t.ndim and t.array.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")
    index = _arg_extreme(t, d, True, np.argmax if largest else np.argmin, name)
    values = t.gather(d, index) if t.ndim else t
    if not keepdim and t.ndim:
        values, index = values.squeeze(d), index.squeeze(d)
    return MinMaxResult(values, index)


def _arg_extreme(t: Tensor, dim, keepdim: bool, fn, name: str) -> Tensor:
    if dim is None:
        if t.array.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               f"input.numel() == 0.")
        out = np.asarray(fn(t.array))
        if keepdim:
            out = out.reshape((1,) * t.ndim)
        return _nograd(out.astype(np.int64))
    d = _dim(dim, t.ndim, name)
    if t.ndim == 0:
        return _nograd(np.zeros((), np.int64))
    if t.array.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")
    a = t.array
    if a.dtype.kind == "f" and np.isnan(a).any():
        # PyTorch treats NaN as the extreme value, like np.nanargmax's opposite
        out = np.argmax(np.isnan(a), axis=d)
        has = np.isnan(a).any(axis=d)
        out = np.where(has, out, fn(a, axis=d))
    else:
        out = fn(a, axis=d)
    out = out.astype(np.int64)
    if keepdim:
        out = np.expand_dims(out, d)
    return _nograd(out)


# Op families, imported last: they import Tensor from this module.
from chainrule import _format  # noqa: E402
from chainrule.autograd import engine as _engine  # noqa: E402
from chainrule.ops import elementwise as ew  # noqa: E402
from chainrule.ops import indexing as ix  # noqa: E402
from chainrule.ops import linalg as la  # noqa: E402
from chainrule.ops import reduction as red  # noqa: E402
from chainrule.ops import shape as shp  # noqa: E402

# isort: split
from chainrule.autograd.views import (  # noqa: E402 - after the ops it uses
    _fill,
    _fill_random,
    _inplace,
    _inplace_unary,
)
