"""Identity, Linear, Bilinear."""

from __future__ import annotations

import math

from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.modules._utils import factory_dtype, new_parameter, reset_weight_and_bias
from chainrule.nn.modules.module import Module


def add_weight_and_bias(layer: Module, weight_shape: tuple, out_features: int, bias: bool,
                        dt) -> None:
    """Register layer.weight of weight_shape and layer.bias of shape (out_features,), or a
    None bias when bias is False, both uninitialised: the layer's reset_parameters fills
    them. Shared by Linear, Bilinear and the conv layers."""
    layer.weight = new_parameter(weight_shape, dt)
    if bias:
        layer.bias = new_parameter((out_features,), dt)
    else:
        layer.register_parameter("bias", None)


class Identity(Module):
    """Returns its input unchanged (any constructor arguments are ignored)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x @ weight.T + bias, weight (out_features, in_features).

    Initialised as PyTorch: weight ~ kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)),
    and bias ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        dt = factory_dtype(device, dtype)
        self.in_features = in_features
        self.out_features = out_features
        add_weight_and_bias(self, (out_features, in_features), out_features, bias, dt)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_weight_and_bias(self.weight, self.bias)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, " \
               f"bias={self.bias is not None}"


class Bilinear(Module):
    """y[..., o] = x1[..., i] weight[o, i, j] x2[..., j] + bias[o].

    weight and bias ~ U(-1/sqrt(in1_features), 1/sqrt(in1_features)), as PyTorch.
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        dt = factory_dtype(device, dtype)
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        add_weight_and_bias(self, (out_features, in1_features, in2_features), out_features,
                            bias, dt)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in1_features={self.in1_features}, in2_features={self.in2_features}, " \
               f"out_features={self.out_features}, bias={self.bias is not None}"
