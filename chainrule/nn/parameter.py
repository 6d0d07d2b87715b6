"""Parameter: a Tensor that a Module registers as learnable; Buffer: one it registers as state."""

from __future__ import annotations

import numpy as np

from chainrule.tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor that requires grad (by default) and that Modules collect in parameters().

    `Parameter(t)` shares t's memory, as `torch.nn.Parameter` does. Ops on a Parameter return
    plain Tensors.
    """

    def __new__(cls, data=None, requires_grad: bool = True):
        if data is None:
            array = np.empty(0, dtype=np.float32)
        elif isinstance(data, Tensor):
            array = data.array
        else:
            raise TypeError(f"Parameter(): data must be a Tensor, got {type(data).__name__} "
                            f"(wrap it with chainrule.tensor(...) first)")
        if requires_grad and array.dtype.kind != "f":
            raise RuntimeError(f"Only Tensors of floating point dtype can require gradients; "
                               f"Parameter() got {np.dtype(array.dtype).name} (pass "
                               f"requires_grad=False, or convert with .float())")
        return cls._make_as(array, None, 0, bool(requires_grad))

    def __init__(self, data=None, requires_grad: bool = True):
        pass  # everything happened in __new__ (Tensor.__init__ would start over)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute.

    `self.stats = nn.Buffer(t, persistent=False)` is `self.register_buffer("stats", t, False)`.
    """

    def __new__(cls, data=None, *, persistent: bool = True):
        array = np.empty(0, dtype=np.float32) if data is None else data.array
        t = cls._make_as(array, None, 0, False)
        t.persistent = persistent
        return t

    def __init__(self, data=None, *, persistent: bool = True):
        pass


def is_lazy(param) -> bool:
    return False
