"""A model's parameters as one flat vector, and back (torch.nn.utils.convert_parameters)."""

from __future__ import annotations

from chainrule.functions import cat
from chainrule.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters) -> Tensor:
    """cat([p.view(-1) for p in parameters]): differentiable, so gradients reach each p."""
    return cat([param.view(-1) for param in parameters])


def _typename(obj) -> str:
    """torch.typename: 'list', 'numpy.ndarray', ..."""
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module in (None, "builtins") else f"{module}.{name}"


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Make each parameter's data the next numel() entries of vec, in order (shared memory,
    as torch's `param.data = ...`; no gradient is recorded)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    pointer = 0
    for param in parameters:
        num_param = param.numel()
        param.data = vec[pointer:pointer + num_param].view_as(param).data
        pointer += num_param
