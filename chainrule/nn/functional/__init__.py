"""chainrule.nn.functional: torch.nn.functional, one module per kind of layer.

    import chainrule.nn.functional as F
    h = F.relu(F.conv2d(x, weight, padding=1))
    loss = F.cross_entropy(logits, target)

The modules mirror chainrule/nn/modules: activation, attention, conv, distance, dropout,
linear, loss, normalization, padding, pooling, sparse (one_hot, embedding), vision
(interpolate, unfold / fold, pixel_shuffle). Signatures, defaults, dtype rules, warnings and
error types are PyTorch 2.13's; the argument checks they share are in _utils.py.
"""

from chainrule.nn.functional.activation import (
    celu,
    elu,
    gelu,
    glu,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    log_softmax,
    logsigmoid,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softmin,
    softplus,
    softsign,
    tanh,
    tanhshrink,
    threshold,
)
from chainrule.nn.functional.attention import (
    multi_head_attention_forward,
    scaled_dot_product_attention,
)
from chainrule.nn.functional.conv import (
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
)
from chainrule.nn.functional.distance import (
    cosine_similarity,
    normalize,
    pairwise_distance,
)
from chainrule.nn.functional.dropout import (
    dropout,
    dropout1d,
    dropout2d,
    dropout3d,
)
from chainrule.nn.functional.linear import (
    bilinear,
    linear,
)
from chainrule.nn.functional.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from chainrule.nn.functional.normalization import (
    batch_norm,
    group_norm,
    instance_norm,
    layer_norm,
)
from chainrule.nn.functional.padding import (
    pad,
)
from chainrule.nn.functional.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from chainrule.nn.functional.sparse import (
    embedding,
    one_hot,
)
from chainrule.nn.functional.vision import (
    fold,
    interpolate,
    pixel_shuffle,
    pixel_unshuffle,
    unfold,
    upsample,
)
from chainrule.tensor import Tensor  # noqa: F401 - torch.nn.functional has it too

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "batch_norm",
    "bilinear", "binary_cross_entropy", "binary_cross_entropy_with_logits", "celu", "conv1d",
    "conv2d", "conv_transpose1d", "conv_transpose2d", "cross_entropy", "dropout", "dropout1d",
    "dropout2d", "dropout3d", "elu", "embedding", "gelu", "glu", "group_norm", "hardsigmoid",
    "hardswish", "hardtanh", "huber_loss", "instance_norm", "kl_div", "l1_loss", "layer_norm",
    "leaky_relu", "linear", "log_softmax", "logsigmoid", "max_pool1d", "max_pool2d", "mish",
    "mse_loss", "nll_loss", "one_hot", "pad", "relu", "relu6", "selu", "sigmoid", "silu",
    "smooth_l1_loss", "softmax", "softmin", "softplus", "softsign", "tanh", "tanhshrink",
    "threshold",
]
__all__ += ["multi_head_attention_forward", "scaled_dot_product_attention"]
__all__ += ["cosine_similarity", "fold", "interpolate", "normalize", "pairwise_distance",
            "pixel_shuffle", "pixel_unshuffle", "unfold", "upsample"]
