"""Tensor: a NumPy array plus the autograd metadata PyTorch users know.

    array           the ndarray (chainrule's name; `.data` is PyTorch's detached alias)
    requires_grad   whether ops on it record a graph
    grad            the accumulated gradient (leaves, and tensors that `retain_grad()`)
    grad_fn         the Node that made it (None for leaves)

Every method is written out and calls an op's `apply` (no registration by introspection).
Argument handling happens here, once, at the boundary: PyTorch's `dim`/`keepdim` become
NumPy's `axis`/`keepdims` and shapes are checked (the checks are chainrule._args, shared with
the rest of the library), dtypes are promoted by PyTorch's rules (binary_op).
"""

from __future__ import annotations

import builtins
import numbers
import warnings
import weakref

import numpy as np

from chainrule import dtypes
from chainrule._args import (
    cast_scalar,
    check_broadcast,
    check_device,
    infer_shape,
    need_2d,
    nonempty,
    shape_args,
    to_array,
    to_axes,
    to_axis,
    viewable,
)
from chainrule.autograd import grad_mode

_new_object = object.__new__  # (a Tensor is made without running __new__/__init__)

_state = grad_mode._state
_py_scalar = (builtins.int, builtins.float, builtins.bool)


class Tensor:
    """An n-dimensional array that can record the operations done to it.

    `Tensor(data)` follows `torch.Tensor(data)` (float32); prefer `chainrule.tensor(...)`.
    """

    # The fields every tensor sets are slots; the rarely set ones are class-level defaults
    # (instances get their own value in __dict__ when one is set), which keeps `_make` cheap.
    # Every tensor is made by `_make` (ops, factories, and `Tensor(...)` through __new__).
    __slots__ = ("array", "_requires_grad", "_grad", "grad_fn", "_output_nr", "_version",
                 "__weakref__", "__dict__")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operator
    _base = None  # the tensor whose memory this view shares
    _view_spec = None  # how to remake this view from `_base` (views.replay_view)
    _hooks = None
    _post_acc_hooks = None
    _retains_grad = False
    _tangents = None  # forward mode: {dual level: tangent} (autograd.forward_ad)

    def __new__(cls, *args, requires_grad: bool = False):
        if len(args) == 1 and not isinstance(args[0], builtins.int):
            array = to_array(args[0], "Tensor()", dtypes.float32.np)
        else:
            array = np.empty(shape_args(args, "Tensor()"), dtype=np.float32)
        t = cls._make_as(array, None, 0, False)
        if requires_grad:
            t.requires_grad_(True)
        return t

    @staticmethod
    def _make(array: np.ndarray, grad_fn, output_nr: int, requires_grad: bool):
        """A Tensor from its fields (a plain function: ops call it for every result)."""
        t = _new_object(Tensor)
        t.array = array
        t._requires_grad = requires_grad
        t._grad = None
        t.grad_fn = grad_fn
        t._output_nr = output_nr
        t._version = [0]
        return t

    @classmethod
    def _make_as(cls, array: np.ndarray, grad_fn, output_nr: int, requires_grad: bool):
        """`_make` for a subclass (Parameter, Buffer: they share Tensor's layout)."""
        t = Tensor._make(array, grad_fn, output_nr, requires_grad)
        if cls is not Tensor:
            t.__class__ = cls
        return t

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
        g = self._grad
        if g is None and self.grad_fn is not None and not self._retains_grad:
            _warn_non_leaf_grad()
        return g

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
        return self.array.shape[to_axis(dim, self.ndim, "size")]

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
        new = type(self)._make_as(self.array.copy(), None, 0, self.requires_grad)
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
            check_device(dev, "to()")
        if target is None:
            return self.clone() if copy else self
        np_dt = dtypes.to_numpy_dtype(target)
        if np_dt == self.array.dtype:
            return self.clone() if copy else self
        return elementwise.To.apply(self, np_dt)

    def type(self, dtype=None, non_blocking: bool = False):
        """x.type() is 'torch.FloatTensor' & co; x.type(t) converts, t being a dtype, a typed
        class (torch.LongTensor) or its name ('torch.LongTensor')."""
        if dtype is None:
            return _legacy.type_name(self.array.dtype)
        return self.to(_legacy.type_target(dtype))

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
        _row_major(memory_format, "clone")
        return elementwise.Clone.apply(self)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad  # the property's setter checks the value
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
        return binary_op(elementwise.Add, self, other, "add")

    def __radd__(self, other):
        return binary_op(elementwise.Add, self, other, "add", reflected=True)

    def __sub__(self, other):
        _no_bool_sub(self, other)
        return binary_op(elementwise.Sub, self, other, "sub")

    def __rsub__(self, other):
        _no_bool_sub(self, other)
        return binary_op(elementwise.Sub, self, other, "sub", reflected=True)

    def __mul__(self, other):
        return binary_op(elementwise.Mul, self, other, "mul")

    def __rmul__(self, other):
        return binary_op(elementwise.Mul, self, other, "mul", reflected=True)

    def __truediv__(self, other):
        return binary_op(elementwise.Div, self, other, "div", to_float=True)

    def __rtruediv__(self, other):
        return binary_op(elementwise.Div, self, other, "div", reflected=True, to_float=True)

    def atan2(self, other):
        return binary_op(elementwise.Atan2, self, as_operand(other, self, "atan2"), "atan2",
                         to_float=True)

    arctan2 = atan2

    def __floordiv__(self, other):
        return binary_op(elementwise.FloorDivide, self, other, "floor_divide")

    def __rfloordiv__(self, other):
        return binary_op(elementwise.FloorDivide, self, other, "floor_divide", reflected=True)

    def __mod__(self, other):
        return binary_op(elementwise.Remainder, self, other, "remainder")

    def __rmod__(self, other):
        return binary_op(elementwise.Remainder, self, other, "remainder", reflected=True)

    def __pow__(self, exponent):
        return binary_op(elementwise.Pow, self, exponent, "pow")

    def __rpow__(self, base):
        return binary_op(elementwise.Pow, self, base, "pow", reflected=True)

    def __matmul__(self, other):
        return linalg_ops.matmul(self, other if isinstance(other, Tensor) else
                                 as_operand(other, self, "matmul"))

    def __rmatmul__(self, other):
        return as_operand(other, self, "matmul").matmul(self)

    def __neg__(self):
        if self.array.dtype.kind == "b":
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                               "Use the `~` or `logical_not()` operator instead.")
        return elementwise.Neg.apply(self)

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
        return _unary(elementwise.Reciprocal, self, float_only=True)

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
        return _unary(elementwise.Abs, self)

    absolute = abs

    def exp(self):
        return _unary(elementwise.Exp, self, float_only=True)

    def exp2(self):
        return 2.0 ** self.to(_float_of(self))

    def log(self):
        return _unary(elementwise.Log, self, float_only=True)

    def log2(self):
        return self.log() / float(np.log(2.0))

    def log10(self):
        return self.log() / float(np.log(10.0))

    def log1p(self):
        return _unary(elementwise.Log1p, self, float_only=True)

    def expm1(self):
        return _unary(elementwise.Expm1, self, float_only=True)

    def sqrt(self):
        return _unary(elementwise.Sqrt, self, float_only=True)

    def rsqrt(self):
        return _unary(elementwise.Rsqrt, self, float_only=True)

    def sin(self):
        return _unary(elementwise.Sin, self, float_only=True)

    def cos(self):
        return _unary(elementwise.Cos, self, float_only=True)

    def tan(self):
        x = self.to(_float_of(self))
        return x.sin() / x.cos()

    def tanh(self):
        return _unary(elementwise.Tanh, self, float_only=True)

    def sinh(self):
        x = self.to(_float_of(self))
        return (x.exp() - (-x).exp()) * 0.5

    def cosh(self):
        x = self.to(_float_of(self))
        return (x.exp() + (-x).exp()) * 0.5

    def sigmoid(self):
        return _unary(elementwise.Sigmoid, self, float_only=True)

    def relu(self):
        return elementwise.Relu.apply(self)

    def erf(self):
        return _unary(elementwise.Erf, self, float_only=True)

    def sign(self):
        return _unary(elementwise.Sign, self)

    sgn = sign

    def floor(self):
        return self if self.array.dtype.kind != "f" else elementwise.Floor.apply(self)

    def ceil(self):
        return self if self.array.dtype.kind != "f" else elementwise.Ceil.apply(self)

    def trunc(self):
        return self if self.array.dtype.kind != "f" else elementwise.Trunc.apply(self)

    fix = trunc

    def frac(self):
        return self - self.trunc()

    def round(self, *, decimals: int = 0):
        return self if self.array.dtype.kind != "f" else elementwise.Round.apply(self, decimals)

    def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            out = self
            if min is not None:
                out = out.maximum(as_operand(min, self, "clamp"))
            if max is not None:
                out = out.minimum(as_operand(max, self, "clamp"))
            return out
        x = self
        if self.array.dtype.kind != "f" and any(
            isinstance(v, builtins.float) for v in (min, max)
        ):
            x = self.to(dtypes.get_default_dtype())
        return elementwise.Clamp.apply(x, min, max)

    clip = clamp

    def clamp_min(self, min):  # noqa: A002
        return self.clamp(min=min)

    def clamp_max(self, max):  # noqa: A002
        return self.clamp(max=max)

    def maximum(self, other):
        return binary_op(elementwise.Maximum, self, other, "maximum", scalar_ok=False)

    def minimum(self, other):
        return binary_op(elementwise.Minimum, self, other, "minimum", scalar_ok=False)

    def where(self, condition, other):
        """self where condition else other (PyTorch's Tensor.where argument order)."""
        from chainrule import where

        return where(condition, self, other)

    def masked_fill(self, mask, value):
        mask = as_mask(mask, self, "masked_fill")
        if isinstance(value, Tensor):
            if value.ndim != 0:
                raise RuntimeError(
                    f"masked_fill only supports a 0-dimensional value tensor, but got tensor "
                    f"with {value.ndim} dimension(s)"
                )
            return elementwise.Where.apply(mask.array, value.to(self.dtype), self)
        value = cast_scalar(value, self.array.dtype, "masked_fill")
        return elementwise.Where.apply(mask.array, value, self)

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
        return reduction.Sum.apply(x, to_axes(dim, self.ndim, "sum"), keepdim)

    def nansum(self, dim=None, keepdim=False):
        return self.where(~self.isnan(), 0.0).sum(dim, keepdim)

    def mean(self, dim=None, keepdim=False, *, dtype=None):
        x = self if dtype is None else self.to(dtype)
        if x.array.dtype.kind != "f":
            raise RuntimeError(
                f"mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {x.dtype}. Use x.float().mean()"
            )
        return reduction.Mean.apply(x, to_axes(dim, self.ndim, "mean"), keepdim)

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
        return elementwise.Where.apply(zero, 0.0, elementwise.Where.apply(zero, 1.0, v).sqrt())

    def prod(self, dim=None, keepdim=False, *, dtype=None):
        x = self if dtype is None else self.to(dtype)
        if dtype is None and x.array.dtype.kind in "bi" and x.array.dtype != np.int64:
            x = x.to(dtypes.int64)
        if dim is not None and not isinstance(dim, (builtins.int, np.integer)):
            raise TypeError(f"prod(): dim must be an int, got {dim!r}")
        return reduction.Prod.apply(x, to_axes(dim, self.ndim, "prod"), keepdim)

    def max(self, dim=None, keepdim=False):
        return _extreme(self, dim, keepdim, other_ok=True, largest=True)

    def min(self, dim=None, keepdim=False):
        return _extreme(self, dim, keepdim, other_ok=True, largest=False)

    def amax(self, dim=(), keepdim=False):
        nonempty(self, "amax", dim)
        axes = to_axes(dim if dim != () else None, self.ndim, "amax")
        return reduction.Amax.apply(self, axes, keepdim, True)

    def amin(self, dim=(), keepdim=False):
        nonempty(self, "amin", dim)
        axes = to_axes(dim if dim != () else None, self.ndim, "amin")
        return reduction.Amax.apply(self, axes, keepdim, False)

    def argmax(self, dim=None, keepdim=False):
        return _arg_extreme(self, dim, keepdim, np.argmax, "argmax")

    def argmin(self, dim=None, keepdim=False):
        return _arg_extreme(self, dim, keepdim, np.argmin, "argmin")

    def logsumexp(self, dim, keepdim=False):
        x = self if self.array.dtype.kind == "f" else self.to(dtypes.get_default_dtype())
        return reduction.LogSumExp.apply(x, to_axes(dim, self.ndim, "logsumexp"), keepdim)

    def softmax(self, dim, dtype=None):
        x = self if dtype is None else self.to(dtype)
        return reduction.Softmax.apply(_floatify(x, "softmax"), to_axis(dim, self.ndim, "softmax"))

    def log_softmax(self, dim, dtype=None):
        x = self if dtype is None else self.to(dtype)
        return reduction.LogSoftmax.apply(_floatify(x, "log_softmax"),
                                          to_axis(dim, self.ndim, "log_softmax"))

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
        return _nograd(np.all(self.array, axis=to_axes(dim, self.ndim, "all"), keepdims=keepdim))

    def any(self, dim=None, keepdim=False):
        return _nograd(np.any(self.array, axis=to_axes(dim, self.ndim, "any"), keepdims=keepdim))

    def count_nonzero(self, dim=None):
        return _nograd(np.count_nonzero(self.array, axis=to_axes(dim, self.ndim, "count_nonzero"))
                       .astype(np.int64))

    def cumsum(self, dim, *, dtype=None):
        x = self if dtype is None else self.to(dtype)
        return reduction.Cumsum.apply(x, to_axis(dim, self.ndim, "cumsum"))

    def cumprod(self, dim, *, dtype=None):
        x = self if dtype is None else self.to(dtype)
        return reduction.Cumprod.apply(x, to_axis(dim, self.ndim, "cumprod"))

    # compositions written in functions.py (it imports this module, so they are found late)
    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return _functions().addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return _functions().baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def cross(self, other, dim=None):
        return _functions().cross(self, other, dim)

    def kron(self, other):
        return _functions().kron(self, other)

    def rot90(self, k=1, dims=(0, 1)):
        return _functions().rot90(self, k, dims)

    def dist(self, other, p=2):
        return _functions().dist(self, other, p)

    def bincount(self, weights=None, minlength=0):
        return _functions().bincount(self, weights, minlength)

    def histc(self, bins=100, min=0, max=0):  # noqa: A002 - PyTorch's names
        return _functions().histc(self, bins, min, max)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape):
        shape = shape_args(shape, "reshape", allow_minus_one=True)
        return shape_ops.Reshape.apply(self, infer_shape(shape, self.array.size, "reshape", self))

    def view(self, *shape):
        if len(shape) == 1 and (isinstance(shape[0], dtypes.dtype)):
            raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
        shape = shape_args(shape, "view", allow_minus_one=True)
        target = infer_shape(shape, self.array.size, "view", self)
        if not viewable(self.array, target):
            raise RuntimeError(
                f"view size is not compatible with input tensor's size and stride (shape "
                f"{list(self.shape)} -> {list(target)}: at least one dimension spans across two "
                f"contiguous subspaces). Use .reshape(...) instead."
            )
        return shape_ops.Reshape.apply(self, target)

    def view_as(self, other):
        return self.view(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        s = to_axis(start_dim, self.ndim, "flatten")
        e = to_axis(end_dim, self.ndim, "flatten")
        if s > e:
            raise RuntimeError(f"flatten() has invalid args: start_dim ({start_dim}) cannot come "
                               f"after end_dim ({end_dim})")
        shape = self.shape
        return self.reshape(*shape[:s], -1, *shape[e + 1:]) if self.array.size else \
            self.reshape(*shape[:s], int(np.prod(shape[s:e + 1])), *shape[e + 1:])

    def unflatten(self, dim, sizes):
        d = to_axis(dim, self.ndim, "unflatten")
        shape = self.shape
        return self.reshape(*shape[:d], *sizes, *shape[d + 1:])

    def ravel(self):
        return self.reshape(-1)

    def squeeze(self, dim=None):
        shape = self.array.shape
        if dim is None:
            new = tuple(s for s in shape if s != 1)
        else:
            axes = to_axes(dim, self.ndim, "squeeze")
            axes = axes if isinstance(axes, tuple) else (axes,) if axes is not None else ()
            new = tuple(s for i, s in enumerate(shape) if not (i in axes and s == 1))
        # a new view even when nothing is squeezed, as PyTorch (its node names the overload)
        kind = 0 if dim is None else 2 if isinstance(dim, (tuple, list)) else 1
        return _named(shape_ops.Reshape.apply(self, new), f"SqueezeBackward{kind}")

    def unsqueeze(self, dim):
        d = to_axis(dim, self.ndim + 1, "unsqueeze")
        shape = self.array.shape
        return _named(shape_ops.Reshape.apply(self, shape[:d] + (1,) + shape[d:]),
                      "UnsqueezeBackward0")

    def transpose(self, dim0, dim1):
        n = self.ndim
        if n == 0:
            return self
        d0, d1 = to_axis(dim0, n, "transpose"), to_axis(dim1, n, "transpose")
        axes = list(range(n))
        axes[d0], axes[d1] = axes[d1], axes[d0]
        return _named(shape_ops.Permute.apply(self, tuple(axes)), "TransposeBackward0")

    swapaxes = swapdims = transpose

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self.ndim}D; use transpose(dim0, dim1) or .mT")
        return self if self.ndim < 2 else _named(shape_ops.Permute.apply(self, (1, 0)),
                                                 "TBackward0")

    def permute(self, *dims):
        dims = shape_args(dims, "permute", allow_minus_one=True)
        n = self.ndim
        if len(dims) != n:
            raise RuntimeError(f"permute(): the ordering of dimensions {list(dims)} does not "
                               f"match the tensor: input.dim() = {n} is not equal to "
                               f"len(dims) = {len(dims)} (list each of the {n} dims once)")
        axes = tuple(to_axis(d, n, "permute") for d in dims)
        if len(set(axes)) != n:
            raise RuntimeError(f"permute(): duplicate dims are not allowed, got {list(dims)}")
        return shape_ops.Permute.apply(self, axes)

    def movedim(self, source, destination):
        n = self.ndim
        source = source if isinstance(source, (tuple, list)) else (source,)
        destination = destination if isinstance(destination, (tuple, list)) else (destination,)
        src = [to_axis(s, n, "movedim") for s in source]
        dst = [to_axis(d, n, "movedim") for d in destination]
        order = [i for i in range(n) if i not in src]
        for d, s in sorted(zip(dst, src)):
            order.insert(d, s)
        return shape_ops.Permute.apply(self, tuple(order))

    moveaxis = movedim

    def expand(self, *sizes):
        sizes = shape_args(sizes, "expand", allow_minus_one=True)
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
        return self if target == shape else shape_ops.Expand.apply(self, target)

    def expand_as(self, other):
        return self.expand(other.shape)

    def broadcast_to(self, shape):
        return self.expand(shape)

    def repeat(self, *sizes):
        reps = shape_args(sizes, "repeat")
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
        reps = shape_args(dims, "tile")
        reps = (1,) * (self.ndim - len(reps)) + tuple(reps)
        return self.repeat(*reps)

    def repeat_interleave(self, repeats, dim=None):
        if dim is None:
            return self.reshape(-1).repeat_interleave(repeats, 0)
        d = to_axis(dim, self.ndim, "repeat_interleave")
        if isinstance(repeats, Tensor):
            idx = np.repeat(np.arange(self.shape[d]), repeats.array)
        else:
            idx = np.repeat(np.arange(self.shape[d]), repeats)
        return self.index_select(d, Tensor._make(idx, None, 0, False))

    def flip(self, *dims):
        dims = shape_args(dims, "flip", allow_minus_one=True)
        axes = tuple(to_axis(d, self.ndim, "flip") for d in dims)
        return shape_ops.Flip.apply(self, axes)

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
            d = to_axis(d, self.ndim, "roll")
            n = self.shape[d]
            if n == 0:
                continue
            idx = (np.arange(n) - s) % n
            out = out.index_select(d, Tensor._make(idx, None, 0, False))
        return out

    def narrow(self, dim, start, length):
        d = to_axis(dim, self.ndim, "narrow")
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
        d = to_axis(dim, self.ndim, "split")
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
        d = to_axis(dim, self.ndim, "chunk")
        size = self.shape[d]
        step = -(-size // chunks) if size else 1
        return self.split(step, d)

    def tensor_split(self, sections, dim=0):
        d = to_axis(dim, self.ndim, "tensor_split")
        size = self.shape[d]
        if isinstance(sections, builtins.int):
            q, r = divmod(size, sections)
            bounds = np.cumsum([0] + [q + (1 if i < r else 0) for i in range(sections)])
        else:
            bounds = [0] + list(sections) + [size]
        return tuple(self.narrow(d, builtins.int(a), builtins.int(max(b - a, 0)))
                     for a, b in zip(bounds[:-1], bounds[1:]))

    def unbind(self, dim=0):
        d = to_axis(dim, self.ndim, "unbind")
        return tuple(self[(slice(None),) * d + (i,)] for i in range(self.shape[d]))

    def tril(self, diagonal=0):
        need_2d(self, "tril")
        return shape_ops.Tri.apply(self, builtins.int(diagonal), False)

    def triu(self, diagonal=0):
        need_2d(self, "triu")
        return shape_ops.Tri.apply(self, builtins.int(diagonal), True)

    def diag(self, diagonal=0):
        if self.ndim not in (1, 2):
            raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {self.ndim}D")
        return shape_ops.Diag.apply(self, builtins.int(diagonal))

    def diagonal(self, offset=0, dim1=0, dim2=1):
        x = self.movedim((dim1, dim2), (-2, -1)) if (dim1, dim2) != (0, 1) or self.ndim > 2 \
            else self
        if x.ndim == 2:
            return shape_ops.Diag.apply(x, builtins.int(offset))
        n, m = x.shape[-2], x.shape[-1]
        rows = np.arange(max(0, -offset), min(n, m - offset))
        return x[..., rows, rows + offset]

    def trace(self):
        if self.ndim != 2:
            raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {self.ndim}")
        return self.diag().sum()

    def unfold(self, dimension, size, step):
        d = to_axis(dimension, self.ndim, "unfold")
        n = (self.shape[d] - size) // step + 1
        pieces = [self.narrow(d, i * step, size).unsqueeze(d) for i in range(n)]
        from chainrule import cat

        return cat(pieces, d).movedim(d + 1, -1)

    # ------------------------------------------------------------------ indexing
    def __getitem__(self, key):
        out = indexing.getitem(self, key)
        if out.grad_fn is not None:  # PyTorch names the node after the last indexing step
            out.grad_fn._torch_name = _indexing_name(key)
        return out

    def __setitem__(self, key, value):
        indexing.setitem(self, key, value)

    def gather(self, dim, index):
        return indexing.gather(self, dim, index)

    def scatter_add(self, dim, index, src):
        return indexing.scatter_add(self, dim, index, src)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        """out = self with out[index[i][j]][j] = src[i][j] along dim (dim 0 shown).

        reduce='add' / 'multiply' combines each src value with the element instead of
        replacing it (repeated indices all count); src may be a number.
        """
        src = src if src is not None else value
        if reduce is not None:
            return _scatter_reduced(self, dim, index, src, reduce)
        return indexing.scatter(self, dim, index, src)

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        return _inplace_unary(self, lambda x: x.scatter(dim, index, src, value=value,
                                                        reduce=reduce), "scatter_")

    def scatter_add_(self, dim, index, src):
        return _inplace_unary(self, lambda x: x.scatter_add(dim, index, src), "scatter_add_")

    def index_select(self, dim, index):
        return indexing.index_select(self, dim, index)

    def take_along_dim(self, indices, dim=None):
        if dim is None:
            return self.reshape(-1).gather(0, indices.reshape(-1))
        d = to_axis(dim, self.ndim, "take_along_dim")
        if indices.ndim != self.ndim:
            raise RuntimeError(f"take_along_dim(): input and indices should have the same number "
                               f"of dimensions, but got {self.ndim} dimensions for input, and "
                               f"{indices.ndim} dimensions for indices")
        # both broadcast in every dim but `dim`, where each keeps its own size
        sizes = [-1 if k == d else max(a, b) for k, (a, b) in enumerate(zip(self.shape,
                                                                          indices.shape))]
        return self.expand(*sizes).gather(d, indices.expand(*sizes))

    def masked_select(self, mask):
        mask = as_mask(mask, self, "masked_select")
        shape = np.broadcast_shapes(self.array.shape, mask.array.shape)
        return self.expand(shape)[mask.expand(shape)]

    def nonzero(self, *, as_tuple=False):
        idx = np.nonzero(self.array)
        if as_tuple:
            return tuple(Tensor._make(i.astype(np.int64), None, 0, False) for i in idx)
        return Tensor._make(np.stack(idx, axis=1).astype(np.int64) if idx else
                            np.zeros((0, 0), np.int64), None, 0, False)

    def argsort(self, dim=-1, descending=False, stable=False):
        d = to_axis(dim, self.ndim, "argsort")
        a = -self.array if descending else self.array
        return _nograd(np.argsort(a, axis=d, kind="stable").astype(np.int64))

    def sort(self, dim=-1, descending=False, stable=False):
        idx = self.argsort(dim, descending)
        return _ReturnType("sort", self.gather(to_axis(dim, self.ndim, "sort"), idx)
                           if self.ndim else self, idx)

    def topk(self, k, dim=-1, largest=True, sorted=True):  # noqa: A002
        d = to_axis(dim, self.ndim, "topk")
        if not (0 <= k <= self.shape[d]):
            raise RuntimeError(f"topk: k ({k}) is out of range for dimension {dim} of size "
                               f"{self.shape[d]}")
        idx = self.argsort(d, descending=largest).narrow(d, 0, k)
        return _ReturnType("topk", self.gather(d, idx), idx)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
        """The distinct elements in ascending order; with dim, the distinct slices along dim.

        return_inverse adds where each element (slice) of self is in the result, return_counts
        how often each result occurs. sorted=False gives the same order (PyTorch's CPU result).
        """
        if dim is None:
            values, inverse, counts = np.unique(self.array, return_inverse=True,
                                                return_counts=True)
            inverse = inverse.reshape(self.array.shape)
        else:
            d = to_axis(dim, self.ndim, "unique")
            if builtins.any(n == 0 for i, n in enumerate(self.array.shape) if i != d):
                raise RuntimeError(f"unique(): There are 0 sized dimensions, and they aren't "
                                   f"selected, so unique cannot be applied (shape "
                                   f"{list(self.shape)}, dim {dim})")
            values, inverse, counts = np.unique(self.array, return_inverse=True,
                                                return_counts=True, axis=d)
            inverse = inverse.reshape(-1)
        out = [_nograd(values)]
        if return_inverse:
            out.append(_nograd(inverse.astype(np.int64)))
        if return_counts:
            out.append(_nograd(counts.astype(np.int64)))
        return out[0] if len(out) == 1 else tuple(out)

    # ------------------------------------------------------------------ linear algebra
    def matmul(self, other):
        return linalg_ops.matmul(self, as_operand(other, self, "matmul"))

    def mm(self, other):
        return linalg_ops.mm(self, other)

    def bmm(self, other):
        return linalg_ops.bmm(self, other)

    def mv(self, vec):
        return linalg_ops.mv(self, vec)

    def dot(self, other):
        return linalg_ops.dot(self, other)

    def inner(self, other):
        return linalg_ops.inner(self, other)

    def outer(self, other):
        return linalg_ops.outer(self, other)

    ger = outer

    # ------------------------------------------------------------------ activations
    def leaky_relu(self, negative_slope=0.01):
        return elementwise.LeakyRelu.apply(_floatify(self, "leaky_relu"), negative_slope)

    def softplus(self, beta=1.0, threshold=20.0):
        return elementwise.Softplus.apply(_floatify(self, "softplus"), beta, threshold)

    def gelu(self, approximate="none"):
        return elementwise.Gelu.apply(_floatify(self, "gelu"), approximate)

    # ------------------------------------------------------------------ in-place
    def add_(self, other, *, alpha=1):
        return _inplace(self, elementwise.Add, other if alpha == 1 else other * alpha, np.add,
                        "add_")

    def sub_(self, other, *, alpha=1):
        return _inplace(self, elementwise.Sub, other if alpha == 1 else other * alpha, np.subtract,
                        "sub_")

    def mul_(self, other):
        return _inplace(self, elementwise.Mul, other, np.multiply, "mul_")

    def div_(self, other):
        return _inplace(self, elementwise.Div, other, np.true_divide, "div_")

    def pow_(self, exponent):
        return _inplace(self, elementwise.Pow, exponent, np.power, "pow_")

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
        src = as_operand(src, self, "copy_")
        try:
            np.broadcast_shapes(src.array.shape, self.array.shape)
            if np.broadcast_shapes(src.array.shape, self.array.shape) != self.array.shape:
                raise ValueError
        except ValueError:
            raise RuntimeError(
                f"copy_: the source of shape {list(src.shape)} can't be broadcast to the "
                f"destination of shape {list(self.shape)}"
            ) from None
        return _inplace_unary(self, lambda x: elementwise.Where.apply(
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
        """Elements from the start of the memory this tensor shares to its first (3 for a[3:]).

        The memory is that of the array the NumPy view chain starts from (`.base` until it is
        not an ndarray); a tensor with memory of its own has offset 0.
        """
        root = self.array
        while isinstance(root.base, np.ndarray):
            root = root.base
        start = self.array.__array_interface__["data"][0]
        return (start - root.__array_interface__["data"][0]) // self.array.itemsize

    def stride(self, dim=None):
        strides = tuple(s // self.array.itemsize for s in self.array.strides)
        return strides if dim is None else strides[to_axis(dim, self.ndim, "stride")]

    def data_ptr(self) -> int:
        return self.array.__array_interface__["data"][0]

    def apply_(self, fn):
        self.array[...] = np.vectorize(fn)(self.array)
        return self


# ====================================================================== small classes
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
    """A device name, as torch.device: `device("cuda")` and `device("cuda", 1)` construct
    (scripts build them before asking `torch.cuda.is_available()`), but only 'cpu' holds
    tensors: moving a tensor anywhere else raises (see `_args.check_device`)."""

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index  # noqa: A001
        if not isinstance(type, str):
            raise TypeError(f"device() expected a string like 'cpu' or 'cuda:0', "
                            f"got {builtins.type(type).__name__}")
        name, _, number = type.partition(":")
        if name not in _DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at "
                               f"start of device string: {type}")
        if number:
            if index is not None or not number.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = builtins.int(number)
        self.type, self.index = name, index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        # a string compares by name, so `x.device == "cpu"` reads as it looks
        return str(other) == str(self)

    def __hash__(self) -> int:
        return hash(str(self))


_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "mtia", "hpu", "ipu")

_CPU = device("cpu")


def _warn_non_leaf_grad() -> None:
    # PyTorch's warning: backward() fills .grad of leaves only, so this read is likely a mistake
    warnings.warn(
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
        "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
        "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf "
        "Tensor. If you access the non-leaf Tensor by mistake, make sure you access the leaf "
        "Tensor instead.", UserWarning, stacklevel=3)


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


class _ReturnType(tuple):
    """(values, indices), also by name, printed as torch.return_types.<op> is."""

    def __new__(cls, op: str, values, indices):
        result = super().__new__(cls, (values, indices))
        result._op = op
        return result

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self) -> str:
        return f"torch.return_types.{self._op}(\nvalues={self[0]!r},\nindices={self[1]!r})"


# ====================================================================== operands
# Shared with the modules that take tensor arguments (functions, ops/indexing, views).
def as_operand(other, like: Tensor, op: str) -> Tensor:
    """Turn a list / array / scalar into a Tensor operand (no grad).

    A Python number takes the dtype PyTorch gives `like op number` (2.5 beside an int tensor
    is float32, 2 beside a float16 tensor is float16); a NumPy scalar keeps its own dtype.
    """
    if isinstance(other, Tensor):
        return other
    if isinstance(other, (np.ndarray, list, tuple)) or isinstance(other, numbers.Number):
        arr = to_array(other, op)
        if isinstance(other, numbers.Number) and not isinstance(other, np.generic):
            arr = arr.astype(dtypes.result_type(like, other))
        return Tensor._make(arr, None, 0, False)
    raise TypeError(f"{op}(): expected a Tensor, a number or a sequence as the other operand, "
                    f"got {type(other).__name__}")


def as_mask(mask, like: Tensor, op: str) -> Tensor:
    """A bool tensor that broadcasts with `like` (masked_fill, masked_select), checked."""
    mask = as_operand(mask, like, op)
    if mask.array.dtype != np.bool_:
        raise RuntimeError(f"{op}: expected a mask of dtype torch.bool, got {mask.dtype}")
    check_broadcast(mask.array, like.array, op)
    return mask


def _functions():
    from chainrule import functions

    return functions


def binary_op(op, a: Tensor, b, name: str, reflected: bool = False, to_float: bool = False,
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
            b = as_operand(b, a, name)
        elif a.array.dtype.kind != "f" and dtypes.scalar_category(b) > dtypes.category(
                a.array.dtype):
            a = a.to(dtypes.result_type(a, b))
    else:
        b = as_operand(b, a, name)
        return binary_op(op, a, b, name, reflected, to_float)
    if to_float and a.array.dtype.kind != "f":
        fl = dtypes.get_default_dtype()
        a = a.to(fl)
        if isinstance(b, Tensor) and b.array.dtype.kind != "f":
            b = b.to(fl)
    try:  # shapes are checked only when NumPy refuses them (the common case pays nothing)
        return op.apply(b, a) if reflected else op.apply(a, b)
    except ValueError:
        if isinstance(b, Tensor):  # raises, naming both shapes in the order written
            check_broadcast(*((b.array, a.array) if reflected else (a.array, b.array)), name)
        raise


# ====================================================================== method helpers
def _nograd(array) -> Tensor:
    return Tensor._make(np.asarray(array), None, 0, False)


def _raw(x):
    return x.array if isinstance(x, Tensor) else x


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
        check_broadcast(a.array, b.array, name)
        b = b.array
    elif isinstance(b, (list, tuple, np.ndarray)):
        b = as_operand(b, a, name).array
        check_broadcast(a.array, b, name)
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
        check_broadcast(a.array, b, name)
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
    axes = to_axes(dim, t.ndim, name)
    n = t.array.size if axes is None else builtins.int(
        np.prod([t.array.shape[a] for a in (axes if isinstance(axes, tuple) else (axes,))]))
    mean = t.mean(dim if axes is not None else None, keepdim=True)
    sq = (t - mean).square()
    return sq.sum(dim if axes is not None else None, keepdim=keepdim) / max(n - c, 0)


def _extreme(t: Tensor, dim, keepdim: bool, other_ok: bool, largest: bool):
    """max()/min(): of everything, along a dim (values, indices), or elementwise with a tensor."""
    if isinstance(dim, Tensor):
        return t.maximum(dim) if largest else t.minimum(dim)
    name = "max" if largest else "min"
    if dim is None:
        if t.array.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               f"input.numel() == 0.")
        return reduction.Amax.apply(t, None, False, largest, nan_ties=True)
    d = to_axis(dim, t.ndim, name)
    if t.ndim and t.array.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")
    index = _arg_extreme(t, d, True, np.argmax if largest else np.argmin, name)
    values = t.gather(d, index) if t.ndim else t
    if not keepdim and t.ndim:
        values, index = values.squeeze(d), index.squeeze(d)
    return _ReturnType(name, values, index)


def _arg_extreme(t: Tensor, dim, keepdim: bool, fn, name: str) -> Tensor:
    if dim is None:
        if t.array.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               f"input.numel() == 0.")
        out = np.asarray(fn(t.array))
        if keepdim:
            out = out.reshape((1,) * t.ndim)
        return _nograd(out.astype(np.int64))
    d = to_axis(dim, t.ndim, name)
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


def _row_major(memory_format, op: str) -> None:
    """A memory_format argument: the formats that mean row-major pass, others are refused."""
    name = getattr(memory_format, "name", None)
    if memory_format is not None and name not in ("preserve_format", "contiguous_format"):
        raise NotImplementedError(f"{op}: memory_format={memory_format!r} is not supported: "
                                  f"chainrule tensors are row-major (torch.contiguous_format)")


def _named(out: Tensor, name: str) -> Tensor:
    """`out` with its node named as PyTorch names the op that made it (t, squeeze, ...)."""
    if out.grad_fn is not None:
        out.grad_fn._torch_name = name
    return out


def _indexing_name(key) -> str:
    """PyTorch's node for `x[key]`: Index for advanced keys, else the last step's kind."""
    parts = key if isinstance(key, tuple) else (key,)
    if any(isinstance(p, (list, np.ndarray, Tensor)) for p in parts):
        return "IndexBackward0"
    last = [p for p in parts if p is not Ellipsis][-1:] or [slice(None)]
    if last[0] is None:
        return "UnsqueezeBackward0"
    return "SliceBackward0" if isinstance(last[0], slice) else "SelectBackward0"


def _scatter_reduced(t: Tensor, dim, index, src, reduce: str) -> Tensor:
    """scatter(..., reduce=): each src value is added into (multiplies) the element its index
    names, repeated indices included (NumPy's ufunc.at). PyTorch has no derivative for it;
    here a graph that would need one is refused at once rather than at backward."""
    ufunc = {"add": np.add, "multiply": np.multiply}.get(reduce)
    if ufunc is None:
        raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got "
                           f"{reduce!r} (scatter_reduce's 'sum', 'prod', 'mean', 'amax' and "
                           f"'amin' are another op)")
    if _state.enabled and (t._requires_grad or isinstance(src, Tensor) and src._requires_grad):
        raise RuntimeError("scatter(reduce=...): the derivative is not implemented (nor in "
                           "PyTorch); use scatter_add for reduce='add', or run it under "
                           "torch.no_grad()")
    d = to_axis(dim, t.ndim, "scatter")
    if not isinstance(index, Tensor) or index.array.dtype.kind not in "iu":
        raise RuntimeError(f"scatter(): Expected dtype int64 for index, got "
                           f"{getattr(index, 'dtype', type(index).__name__)}")
    idx = index.array
    if idx.ndim != t.ndim:
        raise RuntimeError(f"scatter(): Index tensor must have the same number of dimensions "
                           f"as self tensor ({t.ndim}), got {idx.ndim}")
    if isinstance(src, Tensor):  # only the part of src that index covers is used
        values = src.array[tuple(slice(0, n) for n in idx.shape)]
    else:
        values = np.full(idx.shape, src)
    key = list(np.indices(idx.shape, sparse=True))  # element [i, j] goes to [i, idx[i, j]]
    key[d] = idx
    out = t.array.copy()
    try:
        ufunc.at(out, tuple(key), values.astype(out.dtype))
    except IndexError:
        raise RuntimeError(f"scatter(): index {builtins.int(idx.max())} is out of bounds for "
                         f"dimension {d} with size {t.array.shape[d]}") from None
    return Tensor._make(out, None, 0, False)


# Op families, imported last: they import Tensor from this module. (`shape` and `linalg` are
# names of their own here: Tensor.shape, chainrule.linalg.)
from chainrule import _format, _legacy  # noqa: E402
from chainrule.autograd import engine as _engine  # noqa: E402
from chainrule.ops import elementwise, indexing, reduction  # noqa: E402
from chainrule.ops import linalg as linalg_ops  # noqa: E402
from chainrule.ops import shape as shape_ops  # noqa: E402

# isort: split
from chainrule.autograd.views import (  # noqa: E402 - after the ops it uses
    _fill,
    _fill_random,
    _inplace,
    _inplace_unary,
)
