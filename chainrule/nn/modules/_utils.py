"""Helpers shared by the layer modules: parameter and buffer factories, the default init."""

from __future__ import annotations

import numpy as np

from chainrule import dtypes
from chainrule._args import check_device
from chainrule.nn.parameter import Parameter
from chainrule.tensor import Tensor


def factory_dtype(device=None, dtype=None) -> np.dtype:
    """The NumPy dtype for a layer's parameters (device must be 'cpu' or None)."""
    if device is not None:
        check_device(device, "nn layer")
    if dtype is None:
        return dtypes.get_default_dtype().np
    np_dt = dtypes.to_numpy_dtype(dtype)
    if np_dt.kind != "f":
        raise TypeError(f"nn layers need a floating point dtype for their parameters, got "
                        f"{dtype}")
    return np_dt


def new_parameter(shape: tuple, np_dtype: np.dtype) -> Parameter:
    """An uninitialised Parameter (the layer's reset_parameters fills it)."""
    return Parameter._make_as(np.empty(shape, dtype=np_dtype), None, 0, True)


def reset_weight_and_bias(weight: Parameter, bias) -> None:
    """PyTorch's default init of Linear and Conv: weight kaiming_uniform_(a=sqrt(5)), that is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias from the same bound (0 if fan_in is 0)."""
    import math

    from chainrule.nn import init

    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


def new_buffer(values, np_dtype) -> Tensor:
    return Tensor._make(np.array(values, dtype=np_dtype), None, 0, False)

