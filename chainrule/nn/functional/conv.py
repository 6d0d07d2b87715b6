"""Convolutions: conv1d, conv2d and their transposes.

Arguments are checked here, once, with PyTorch's rules and messages; the kernels are the ops in
`chainrule.ops.conv`. 1-D forms run the 2-D kernels on a unit H axis; unbatched inputs get a
unit batch axis (`batched`).
"""

from __future__ import annotations

import numbers

from chainrule.nn.functional._utils import (
    batched,
    check_float,
    check_tensor,
    reshape_to,
    same_dtype,
    spatial,
)
from chainrule.ops import conv as ops
from chainrule.tensor import Tensor


def _conv_geometry(x4: Tensor, w4: Tensor, stride, padding, dilation, op: str) -> ops.Geometry:
    (kh, kw), (h, w) = w4.array.shape[2:], x4.array.shape[2:]
    sh, sw = stride
    dh, dw = dilation
    if min(stride) <= 0:
        raise RuntimeError(f"{op}: non-positive stride is not supported, got stride={stride}")
    if min(dilation) <= 0:
        raise RuntimeError(f"{op}: dilation should be greater than zero, got {dilation}")
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise RuntimeError(f"{op}: padding='same' is not supported for strided "
                                   f"convolutions (stride={stride}); pad explicitly instead")
            th, tw = dh * (kh - 1), dw * (kw - 1)  # odd totals put the extra row after
            pads = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        else:
            raise RuntimeError(f"{op}: Invalid padding string {padding!r}, should be one of "
                               f"'valid' or 'same'")
    else:
        ph, pw = padding
        if ph < 0 or pw < 0:
            raise RuntimeError(f"{op}: negative padding is not supported, got {padding}")
        pads = (ph, ph, pw, pw)
    hp, wp = h + pads[0] + pads[1], w + pads[2] + pads[3]
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if eh > hp or ew > wp:
        raise RuntimeError(
            f"{op}: Calculated padded input size per channel: ({hp} x {wp}). Kernel size: "
            f"({eh} x {ew}). Kernel size can't be greater than actual input size")
    return ops.Geometry(kh, kw, sh, sw, dh, dw, *pads, (hp - eh) // sh + 1, (wp - ew) // sw + 1)


def _operands(nd, op, input, weight, bias, groups, layout: str) -> tuple:
    """(x4, w4, restore): the checked input and weight in the 2-D kernels' 4-D form."""
    check_tensor(input, op)
    check_tensor(weight, op, "weight", 2)
    if bias is not None:
        check_tensor(bias, op, "bias", 3)
    check_float(input, op)
    same_dtype(op, input, ("weight", weight), ("bias", bias))
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{op}: weight must be {nd + 2}-D {layout}, got shape "
                           f"{list(weight.shape)}")
    if not isinstance(groups, numbers.Integral) or groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got {groups}")
    x4, restore = batched(input, nd, op)
    shape = weight.array.shape
    w4 = weight if nd == 2 else reshape_to(weight, shape[:2] + (1,) + shape[2:])
    return x4, w4, restore


def _conv(nd, op, input, weight, bias, stride, padding, dilation, groups):
    x4, w4, restore = _operands(nd, op, input, weight, bias, groups,
                                "(out_channels, in_channels/groups, *kernel)")
    o, cg = weight.array.shape[:2]
    if o % groups:
        raise RuntimeError(f"{op}: Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size "
                           f"{list(weight.shape)} instead")
    if x4.array.shape[1] != cg * groups:
        raise RuntimeError(
            f"{op}: Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(input.shape)} to have {cg * groups} channels, but got "
            f"{x4.array.shape[1]} channels instead")
    if bias is not None and bias.array.shape != (o,):
        raise RuntimeError(f"{op}: Given weight of size {list(weight.shape)}, expected bias "
                           f"to be 1-dimensional with {o} elements, but got bias of size "
                           f"{list(bias.shape)} instead")
    stride = spatial(stride, nd, 1, "stride", op)
    dilation = spatial(dilation, nd, 1, "dilation", op)
    if not isinstance(padding, str):
        padding = spatial(padding, nd, 0, "padding", op)
    geo = _conv_geometry(x4, w4, stride, padding, dilation, op)
    return restore(ops.Conv2d.apply(x4, w4, bias, geo, int(groups)))


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation over (N, C, L) or (C, L); padding may be 'same' or 'valid'."""
    return _conv(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation over (N, C, H, W) or (C, H, W); padding may be 'same' or 'valid'."""
    return _conv(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


def _transpose_geometry(x4, w4, stride, padding, output_padding, dilation, nd, op) -> tuple:
    """(geometry of the conv whose input gradient this is, out_h, out_w)."""
    n = nd
    stride = spatial(stride, nd, 1, "stride", op)
    padding = spatial(padding, nd, 0, "padding", op)
    output_padding = spatial(output_padding, nd, 0, "output_padding", op)
    dilation = spatial(dilation, nd, 1, "dilation", op)
    if min(stride) <= 0 or min(dilation) <= 0 or min(padding) < 0 or min(output_padding) < 0:
        raise RuntimeError(f"{op}: stride and dilation must be positive and padding and "
                           f"output_padding non-negative, got stride={stride[-n:]}, "
                           f"padding={padding[-n:]}, output_padding={output_padding[-n:]}, "
                           f"dilation={dilation[-n:]}")
    for s, d, p in zip(stride, dilation, output_padding):
        if p >= s and p >= d:
            raise RuntimeError(f"{op}: output padding must be smaller than either stride or "
                               f"dilation, but got output_padding={output_padding[-n:]}, "
                               f"stride={stride[-n:]}, dilation={dilation[-n:]}")
    (kh, kw), (h, w) = w4.array.shape[2:], x4.array.shape[2:]
    out_h = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + output_padding[0] + 1
    out_w = (w - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + output_padding[1] + 1
    if out_h <= 0 or out_w <= 0:
        raise RuntimeError(f"{op}: Given input size per channel: {[h, w][-n:]}. Calculated "
                           f"output size per channel: {[out_h, out_w][-n:]}. Output size is "
                           f"too small")
    geo = ops.Geometry(kh, kw, stride[0], stride[1], dilation[0], dilation[1], padding[0],
                       padding[0], padding[1], padding[1], h, w)
    return geo, out_h, out_w


def _conv_transpose(nd, op, input, weight, bias, stride, padding, output_padding, groups,
                    dilation):
    x4, w4, restore = _operands(nd, op, input, weight, bias, groups,
                                "(in_channels, out_channels/groups, *kernel)")
    cin, og = weight.array.shape[:2]
    if x4.array.shape[1] != cin or cin % groups:
        raise RuntimeError(
            f"{op}: Given transposed=1, weight of size {list(weight.shape)}, expected "
            f"input{list(input.shape)} to have {cin} channels (divisible by groups={groups}), "
            f"but got {x4.array.shape[1]} channels instead")
    if bias is not None and bias.array.shape != (og * groups,):
        raise RuntimeError(f"{op}: expected bias of shape [{og * groups}], got "
                           f"{list(bias.shape)}")
    geo, out_h, out_w = _transpose_geometry(x4, w4, stride, padding, output_padding, dilation,
                                            nd, op)
    out_shape = (x4.array.shape[0], og * groups, out_h, out_w)
    out = ops.ConvInputGrad.apply(x4, w4, out_shape, geo, int(groups))
    if bias is not None:
        out = out + reshape_to(bias, (1, og * groups, 1, 1))
    return restore(out)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The transpose (adjoint) of conv1d; weight is (in_channels, out_channels/groups, k)."""
    return _conv_transpose(1, "conv_transpose1d", input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The transpose (adjoint) of conv2d; weight is (in_channels, out_channels/groups, kh, kw)."""
    return _conv_transpose(2, "conv_transpose2d", input, weight, bias, stride, padding,
                           output_padding, groups, dilation)
