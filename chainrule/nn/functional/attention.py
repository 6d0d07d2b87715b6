"""Attention: scaled_dot_product_attention and the forward pass of nn.MultiheadAttention.

Both are compositions of recorded ops (matmul, add, softmax, dropout, linear, reshape), so
their gradients are the chain rule through those ops; no attention-specific backward exists.

    weights = softmax(Q K^T * scale + M)        M: the attention bias (0 or -inf, or a float mask)
    out     = dropout(weights) V
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from chainrule.nn.functional._utils import check_tensor, nograd
from chainrule.nn.functional.dropout import dropout as _dropout
from chainrule.nn.functional.linear import linear


def _check_qkv(query, key, value, op: str) -> None:
    for position, (name, t) in enumerate((("query", query), ("key", key), ("value", value)), 1):
        check_tensor(t, op, name, position)
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(f"{op}: Expected query, key, and value to all be at least 2 "
                           f"dimensional, but got query.dim: {query.ndim} key.dim: {key.ndim} "
                           f"and value.dim: {value.ndim} instead.")
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(f"{op}: Expected query, key, and value to have the same dtype, but "
                           f"got query.dtype: {query.dtype} key.dtype: {key.dtype} and "
                           f"value.dtype: {value.dtype} instead (convert them with .to()).")
    if query.array.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected floating point query, key and value, got "
                           f"{query.dtype} (convert with .float())")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{op}: query (..., L, E), key (..., S, E) and value (..., S, Ev) "
                           f"must agree on E and S, got query {list(query.shape)}, key "
                           f"{list(key.shape)} and value {list(value.shape)}")


def _attention_bias(attn_mask, is_causal: bool, L: int, S: int, dtype, op: str):
    """The additive bias M of the scores: None when nothing is masked.

    A bool mask (True = may attend) becomes 0 / -inf; a float mask is added as it is; is_causal
    is the bool mask tril(ones(L, S)): query i sees keys 0..i.
    """
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(f"{op}: Explicit attn_mask should not be set when "
                               f"is_causal=True (pass one of them)")
        attn_mask = nograd(np.tril(np.ones((L, S), dtype=bool)))
    if attn_mask is None:
        return None
    check_tensor(attn_mask, op, "attn_mask", 4)
    if attn_mask.dtype.is_floating_point and attn_mask.array.dtype != dtype:
        raise RuntimeError(f"{op}: Expected attn_mask dtype to be bool or float or to match "
                           f"query dtype, but got attn_mask.dtype: {attn_mask.dtype} and "
                           f"query.dtype: {np.dtype(dtype).name} instead.")
    if attn_mask.array.dtype == bool:
        return nograd(np.where(attn_mask.array, 0.0, -np.inf).astype(dtype))
    if not attn_mask.dtype.is_floating_point:
        raise RuntimeError(f"{op}: Expected attn_mask dtype to be bool or float or to match "
                           f"query dtype, but got attn_mask.dtype: {attn_mask.dtype}")
    return attn_mask


def _attend(q, k, v, bias, scale: float, dropout_p: float, zero_dead_rows: bool, op: str):
    """(dropout(softmax(q k^T * scale + bias)) v, the softmax weights).

    A row whose bias is -inf everywhere has no key to attend to: softmax would give 0/0. With
    zero_dead_rows its weights (and so its output and gradients) are 0, as in torch's
    scaled_dot_product_attention; without, it is NaN, as in torch's MultiheadAttention with
    need_weights=True.
    """
    scores = q.matmul(k.transpose(-2, -1)) * scale
    if bias is not None:
        try:
            np.broadcast_shapes(bias.array.shape, scores.array.shape)
        except ValueError:
            raise RuntimeError(f"{op}: attn_mask of shape {list(bias.shape)} does not broadcast "
                               f"to the attention scores (..., L, S) of shape "
                               f"{list(scores.shape)}") from None
        scores = scores + bias
    dead = None
    if zero_dead_rows and bias is not None:
        dead_rows = np.isneginf(scores.array).all(-1, keepdims=True)
        if dead_rows.any():
            dead = nograd(dead_rows)
            scores = scores.masked_fill(dead, 0.0)  # a finite row: no NaN in the backward
    weights = scores.softmax(-1)
    if dead is not None:
        weights = weights.masked_fill(dead, 0.0)
    if dropout_p > 0.0:
        weights = _dropout(weights, dropout_p, training=True)
    return weights.matmul(v), weights


def _grouped(key, value, query, op: str) -> tuple:
    """key and value with their heads (dim -3) repeated to match the query's (grouped-query
    attention: each key/value head serves H_q / H_kv consecutive query heads)."""
    if min(query.ndim, key.ndim, value.ndim) < 3:
        raise IndexError(f"{op}: enable_gqa needs a heads dimension (-3): query, key and value "
                         f"of at least 3 dims, got {query.ndim}, {key.ndim} and {value.ndim}")
    hq = query.shape[-3]
    out = []
    for t in (key, value):
        if hq % t.shape[-3]:
            raise RuntimeError(f"{op}: Number of heads in key and value must divide the number "
                               f"of heads in query, got {t.shape[-3]} and {hq}")
        out.append(t.repeat_interleave(hq // t.shape[-3], dim=-3))
    return tuple(out)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(Q K^T * scale + M) V: query (..., L, E), key (..., S, E), value (..., S, Ev).

    scale defaults to 1 / sqrt(E). M: a bool attn_mask keeps the scores where it is True
    (the others get -inf); a float attn_mask is added; is_causal masks keys j > i. Masks and
    leading dims broadcast. A query that may attend to no key gives zeros. Dropout with
    probability dropout_p is applied to the weights whenever dropout_p > 0 (as torch: pass
    0.0 in evaluation), drawn from chainrule's generator.
    """
    op = "scaled_dot_product_attention"
    _check_qkv(query, key, value, op)
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"{op}: dropout probability has to be between 0 and 1, but got "
                           f"{dropout_p}")
    if enable_gqa:
        key, value = _grouped(key, value, query, op)
    L, S = query.shape[-2], key.shape[-2]
    bias = _attention_bias(attn_mask, is_causal, L, S, query.array.dtype, op)
    s = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    return _attend(query, key, value, bias, s, dropout_p, True, op)[0]


# -- nn.MultiheadAttention ------------------------------------------------------------------

def _canonical_mask(mask, name: str, other, other_name: str, dtype, check_other=True):
    """A bool mask (True = masked out) as a float 0 / -inf mask; a float mask unchanged."""
    if mask is None:
        return None
    check_tensor(mask, "multi_head_attention_forward", name)
    if mask.array.dtype != bool and not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {name} are supported, got "
                             f"{mask.dtype}")
    if check_other and other is not None and other.dtype != mask.dtype:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same "
                      f"type for both instead.", stacklevel=3)
    if mask.array.dtype == bool:
        return nograd(np.where(mask.array, -np.inf, 0.0).astype(dtype))
    return mask


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """Whether the call is batched (3-D query); AssertionError for the wrong dims, as torch."""
    if query.ndim not in (2, 3):
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                             f"{query.ndim}-D query tensor")
    batched = query.ndim == 3
    kind = "batched (3-D)" if batched else "unbatched (2-D)"
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(f"For {kind} `query`, expected `key` and `value` to be "
                             f"{query.ndim}-D but found {key.ndim}-D and {value.ndim}-D tensors "
                             f"respectively")
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise AssertionError(f"For {kind} `query`, expected `key_padding_mask` to be `None` or "
                             f"{query.ndim - 1}-D but found {key_padding_mask.ndim}-D tensor "
                             f"instead")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise AssertionError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or "
                             f"3-D but found {attn_mask.ndim}-D tensor instead")
    return batched


def _as_batched(query, key, value, key_padding_mask, attn_mask, num_heads) -> tuple:
    """(batched, query, key, value, key_padding_mask), unbatched inputs given a batch of 1."""
    batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    return batched, query, key, value, key_padding_mask


def _in_projection(query, key, value, w, b, separate) -> tuple:
    """Q = query W_q^T + b_q, K = key W_k^T + b_k, V = value W_v^T + b_v; W_q, W_k, W_v are
    the three row blocks of in_proj_weight, or the separate q/k/v_proj_weight."""
    wq, wk, wv = separate if separate is not None else w.chunk(3)
    bq, bk, bv = (None, None, None) if b is None else b.chunk(3)
    return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)


def _attn_mask_3d(attn_mask, tgt_len: int, src_len: int, bsz_heads: int):
    """attn_mask as (1 or N*num_heads, L, S); RuntimeError for another shape."""
    if attn_mask.ndim == 2:
        if tuple(attn_mask.shape) != (tgt_len, src_len):
            raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should "
                               f"be {(tgt_len, src_len)}.")
        return attn_mask.unsqueeze(0)
    if tuple(attn_mask.shape) != (bsz_heads, tgt_len, src_len):
        raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                           f"{(bsz_heads, tgt_len, src_len)}.")
    return attn_mask


def _append_key(k, v, masks: list, k_extra, v_extra, dim: int):
    """k and v with one more key position (bias_k / bias_v or zeros) along dim; each mask gets
    a column of 0 (that position may be attended to)."""
    from chainrule.functions import cat
    from chainrule.nn.functional.padding import pad
    k, v = cat([k, k_extra], dim), cat([v, v_extra], dim)
    return k, v, [None if m is None else pad(m, (0, 1)) for m in masks]


def _merge_key_padding(attn_mask, key_padding_mask, bsz, num_heads, src_len):
    """The sum of attn_mask and key_padding_mask (N, S), the latter repeated for every head."""
    if key_padding_mask is None:
        return attn_mask
    if tuple(key_padding_mask.shape) != (bsz, src_len):
        raise AssertionError(f"Expected key_padded_mask.shape to be {(bsz, src_len)}, but got "
                             f"{tuple(key_padding_mask.shape)}")
    kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1)
    kpm = kpm.reshape(bsz * num_heads, 1, src_len)
    return kpm if attn_mask is None else attn_mask + kpm


def _check_embed(embed_dim, expected, num_heads, key, value, separate: bool) -> int:
    """The head dimension E / num_heads, after torch's AssertionErrors for the shapes."""
    if embed_dim != expected:
        raise AssertionError(f"was expecting embedding dimension of {expected}, but got "
                             f"{embed_dim}")
    if embed_dim % num_heads:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if separate and tuple(key.shape[:2]) != tuple(value.shape[:2]):
        raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not match "
                             f"value's {tuple(value.shape[:2])}")
    if not separate and key.shape != value.shape:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
    return embed_dim // num_heads


def _split_heads(t, bsz_heads: int, head_dim: int):
    """(S, N, E) -> (N * num_heads, S, head_dim): each head a batch entry of its own."""
    return t.reshape(t.shape[0], bsz_heads, head_dim).transpose(0, 1)


def _heads_attention(q, k, v, attn_mask, is_causal, need_weights, dropout_p, head_dim):
    """Attention of every head; as torch, need_weights uses a plain softmax (a query with no
    key left gives NaN), the other path scaled_dot_product_attention (it gives zeros)."""
    op = "multi_head_attention_forward"
    scale = 1.0 / math.sqrt(head_dim)
    if need_weights:
        return _attend(q, k, v, attn_mask, scale, dropout_p, False, op)
    if is_causal and attn_mask is None:
        attn_mask = _attention_bias(None, True, q.shape[1], k.shape[1], q.array.dtype, op)
    return _attend(q, k, v, attn_mask, scale, dropout_p, True, op)[0], None


def _mha_masks(query, key_padding_mask, attn_mask, is_causal, need_weights) -> tuple:
    """(key_padding_mask, attn_mask, is_causal) as float masks; is_causal only without a
    key_padding_mask and without weights (it then replaces attn_mask, as in torch)."""
    dtype = query.array.dtype
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", attn_mask,
                                       "attn_mask", dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        return None, None, True
    attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", dtype, False)
    return key_padding_mask, attn_mask, is_causal and key_padding_mask is None


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Multi-head attention of query (L, N, E) over key (S, N, Ek) and value (S, N, Ev)
    (or unbatched (L, E), (S, Ek), (S, Ev)).

    Q = query W_q^T + b_q, K and V alike; split E into num_heads heads of d = E / num_heads;
    head_h = softmax(Q_h K_h^T / sqrt(d) + M) V_h; out = concat(heads) W_o^T + b_o.
    M sums attn_mask ((L, S) or (N * num_heads, L, S)) and key_padding_mask (N, S) (bool:
    True = masked out; float: added). bias_k / bias_v append one learned key position,
    add_zero_attn a zero one. Returns (out, weights): weights (N, L, S) averaged over heads,
    (N, num_heads, L, S) with average_attn_weights=False, None with need_weights=False.
    """
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: static_k / static_v are not "
                                  "in chainrule (pass key and value instead)")
    batched, query, key, value, key_padding_mask = _as_batched(
        query, key, value, key_padding_mask, attn_mask, num_heads)
    tgt_len, bsz, embed_dim = query.shape
    key_padding_mask, attn_mask, is_causal = _mha_masks(query, key_padding_mask, attn_mask,
                                                        is_causal, need_weights)
    head_dim = _check_embed(embed_dim, embed_dim_to_check, num_heads, key, value,
                            use_separate_proj_weight)
    separate = (q_proj_weight, k_proj_weight, v_proj_weight) if use_separate_proj_weight \
        else None
    q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate)
    bh = bsz * num_heads
    if attn_mask is not None:
        attn_mask = _attn_mask_3d(attn_mask, tgt_len, key.shape[0], bh)
    masks = [attn_mask, key_padding_mask]
    if (bias_k is None) != (bias_v is None):
        raise AssertionError("bias_k and bias_v must both be set or both be None")
    if bias_k is not None:
        k, v, masks = _append_key(k, v, masks, bias_k.repeat(1, bsz, 1),
                                  bias_v.repeat(1, bsz, 1), 0)
    q, k, v = (_split_heads(t, bh, head_dim) for t in (q, k, v))
    if add_zero_attn:
        zeros = nograd(np.zeros((bh, 1, head_dim), dtype=q.array.dtype))
        k, v, masks = _append_key(k, v, masks, zeros, zeros, 1)
    mask = _merge_key_padding(masks[0], masks[1], bsz, num_heads, k.shape[1])
    out, weights = _heads_attention(q, k, v, mask, is_causal, need_weights,
                                    dropout_p if training else 0.0, head_dim)
    out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    if weights is not None:
        weights = weights.reshape(bsz, num_heads, tgt_len, k.shape[1])
        if average_attn_weights:
            weights = weights.mean(1)
    if not batched:
        out = out.squeeze(1)
        weights = None if weights is None else weights.squeeze(0)
    return out, weights
