"""MultiheadAttention, with PyTorch's parameter names so that its state dicts load."""

from __future__ import annotations

from chainrule.nn import init
from chainrule.nn.functional import attention as A
from chainrule.nn.modules._utils import factory_dtype, new_parameter
from chainrule.nn.modules.linear import Linear
from chainrule.nn.modules.module import Module


class NonDynamicallyQuantizableLinear(Linear):
    """torch's name for MultiheadAttention.out_proj: a Linear (the name shows in the repr)."""


class MultiheadAttention(Module):
    """out = concat(head_1, ..., head_H) W_o^T + b_o, head_h = softmax(Q_h K_h^T / sqrt(d)) V_h,
    with Q = query W_q^T + b_q, K = key W_k^T + b_k, V = value W_v^T + b_v, d = E / H.

    Parameters as torch: in_proj_weight (3E, E) and in_proj_bias (3E) hold W_q, W_k, W_v and
    their biases stacked; with kdim or vdim != embed_dim they are q_proj_weight (E, E),
    k_proj_weight (E, kdim) and v_proj_weight (E, vdim). out_proj is a Linear(E, E).
    add_bias_kv adds the learned key/value positions bias_k, bias_v (1, 1, E). Initialised as
    torch: xavier_uniform_ projections, zero biases, xavier_normal_ bias_k / bias_v.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        super().__init__()
        dt = factory_dtype(device, dtype)
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError(f"embed_dim must be divisible by num_heads, got "
                                 f"embed_dim={embed_dim} and num_heads={num_heads}")
        self._projection_parameters(dt, bias)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        dtype=dtype)
        if add_bias_kv:
            self.bias_k = new_parameter((1, 1, embed_dim), dt)
            self.bias_v = new_parameter((1, 1, embed_dim), dt)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _projection_parameters(self, dt, bias: bool) -> None:
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = new_parameter((3 * e, e), dt)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = new_parameter((e, e), dt)
            self.k_proj_weight = new_parameter((e, self.kdim), dt)
            self.v_proj_weight = new_parameter((e, self.vdim), dt)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = new_parameter((3 * e,), dt)
        else:
            self.register_parameter("in_proj_bias", None)

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """(attn_output, attn_weights or None): see F.multi_head_attention_forward.

        batch_first=True takes and returns (N, L, E) in place of (L, N, E).
        """
        batched = query.ndim == 3
        dtype = query.array.dtype
        key_padding_mask = A._canonical_mask(key_padding_mask, "key_padding_mask", attn_mask,
                                             "attn_mask", dtype)
        attn_mask = A._canonical_mask(attn_mask, "attn_mask", None, "", dtype, False)
        if self.batch_first and batched:
            query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        out, weights = A.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and batched:
            out = out.transpose(1, 0)
        return out, weights
