"""one_hot and embedding: functionals over integer class or row indices."""

from __future__ import annotations

import numpy as np

from chainrule.autograd import grad_mode
from chainrule.nn.functional._utils import check_tensor, nograd
from chainrule.ops import conv as ops
from chainrule.tensor import Tensor


def one_hot(tensor, num_classes=-1):
    """int64 tensor of shape (*, num_classes) with a 1 at each class index and 0 elsewhere."""
    check_tensor(tensor, "one_hot", "tensor")
    t = tensor.array
    if t.dtype != np.int64:
        raise RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor "
                           f"(int64), got {tensor.dtype}; use tensor.long()")
    if num_classes == -1:
        if t.size == 0:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty "
                               "tensor. Pass num_classes.")
        num_classes = int(t.max()) + 1
    if t.size and t.min() < 0:
        raise RuntimeError(f"one_hot: Class values must be non-negative, got {int(t.min())}.")
    if t.size and (num_classes < 0 or t.max() >= num_classes):
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes "
                           f"({num_classes}), got {int(t.max())}.")
    return nograd((t[..., None] == np.arange(num_classes)).astype(np.int64))


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of weight picked by the integer tensor input (gradients are dense, also with
    sparse=True); padding_idx's row gets no gradient; max_norm renormalises the rows used."""
    op = "embedding"
    check_tensor(weight, op, "weight", 2)
    idx = input.array if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        got = input.dtype if isinstance(input, Tensor) else idx.dtype
        raise RuntimeError(f"{op}: Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {got} instead (use "
                           f".long())")
    if weight.ndim != 2:
        raise RuntimeError(f"{op}: 'weight' must be 2-D, got shape {list(weight.shape)}")
    n = weight.array.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.min() if idx.min() < 0 else idx.max())
        raise IndexError(f"{op}: index {bad} is out of range for a table of {n} rows (index out "
                         f"of range in self)")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"{op}: padding_idx must be within num_embeddings ({n}), got "
                             f"{padding_idx}")
        padding_idx = padding_idx % n
    if max_norm is not None:
        rows = np.unique(idx)
        with grad_mode.no_grad():
            w = weight.array
            norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
            big = norms > max_norm
            w[rows[big]] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(w.dtype)
            weight._version[0] += 1
    return ops.EmbeddingLookup.apply(weight, np.array(idx, dtype=np.intp), padding_idx,
                                     bool(scale_grad_by_freq))
