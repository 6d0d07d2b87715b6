"""Attention vs torch: F.scaled_dot_product_attention, nn.MultiheadAttention, the transformer
layers and nn.Transformer. Outputs, input gradients and parameter gradients (weights copied
from torch) in float64, every kind of mask, a 5-step training loop, and the errors."""

import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from tests._torch import torch

# torch's hint that nested tensors would speed up its inference: not about the values
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
TOL = dict(rtol=1e-10, atol=1e-12)
RNG = np.random.default_rng(0)


def arr(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def to_cr(v):
    return cr.tensor(v) if isinstance(v, np.ndarray) else v


def to_torch(v):
    return torch.tensor(v) if isinstance(v, np.ndarray) else v


def close(a, b, **tol):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **(tol or TOL))


def backward_both(co, to, seed=1):
    g = np.random.default_rng(seed).standard_normal(tuple(to.shape))
    co.backward(cr.tensor(g))
    to.backward(torch.tensor(g))


# -- scaled_dot_product_attention -------------------------------------------------------------

L, S, E, EV = 4, 6, 5, 3
MASK = RNG.random((L, S)) > 0.4
MASK_DEAD = MASK.copy()
MASK_DEAD[1] = False  # query 1 may attend to no key: output and gradients 0

SDPA_CASES = {
    "plain": {},
    "bool-mask": dict(attn_mask=MASK),
    "bool-mask-dead-row": dict(attn_mask=MASK_DEAD),
    "float-mask": dict(attn_mask=arr(L, S, seed=5)),
    "float-mask-inf-row": dict(attn_mask=np.where(MASK_DEAD, 0.0, -np.inf)),
    "broadcast-mask": dict(attn_mask=arr(3, 1, S, seed=6)),
    "batched-bool-mask": dict(attn_mask=RNG.random((2, 3, L, S)) > 0.3),
    "causal": dict(is_causal=True),
    "scale": dict(scale=0.37),
}


@pytest.mark.parametrize("case", SDPA_CASES)
def test_sdpa_matches_torch(case):
    q, k, v = arr(2, 3, L, E, seed=1), arr(2, 3, S, E, seed=2), arr(2, 3, S, EV, seed=3)
    kw = SDPA_CASES[case]
    cx = [cr.tensor(a, requires_grad=True) for a in (q, k, v)]
    tx = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    co = F.scaled_dot_product_attention(*cx, **{n: to_cr(a) for n, a in kw.items()})
    to = torch.nn.functional.scaled_dot_product_attention(
        *tx, **{n: to_torch(a) for n, a in kw.items()})
    close(co, to)
    backward_both(co, to)
    for c, t in zip(cx, tx):
        close(c.grad, t.grad)
    assert not np.isnan(co.detach().numpy()).any()


@pytest.mark.parametrize("shapes", [((L, E), (S, E), (S, EV)),         # no batch dims
                                    ((2, L, E), (S, E), (S, EV)),      # key, value broadcast
                                    ((3, L, E), (3, L, E), (3, L, E))])
def test_sdpa_shapes_and_causal_square(shapes):
    arrays = [arr(*s, seed=i) for i, s in enumerate(shapes)]
    for causal in (False, True):
        co = F.scaled_dot_product_attention(*map(cr.tensor, arrays), is_causal=causal)
        to = torch.nn.functional.scaled_dot_product_attention(*map(torch.tensor, arrays),
                                                             is_causal=causal)
        close(co, to)


def test_sdpa_float32_and_grouped_query_heads():
    q, k, v = arr(2, 4, L, E, seed=1), arr(2, 2, S, E, seed=2), arr(2, 2, S, EV, seed=3)
    cx = [cr.tensor(a.astype(np.float32), requires_grad=True) for a in (q, k, v)]
    tx = [torch.tensor(a.astype(np.float32), requires_grad=True) for a in (q, k, v)]
    co = F.scaled_dot_product_attention(*cx, enable_gqa=True)
    to = torch.nn.functional.scaled_dot_product_attention(*tx, enable_gqa=True)
    assert co.dtype == cr.float32
    close(co, to, rtol=1e-5, atol=1e-6)
    backward_both(co, to)
    for c, t in zip(cx, tx):
        close(c.grad, t.grad, rtol=1e-5, atol=1e-5)


def test_sdpa_dropout_keeps_or_rescales_each_weight():
    """With value = identity the output is the weights: each one dropped (0) or divided by
    1 - p; about a fraction p dropped; the draw follows chainrule.manual_seed."""
    q, k = cr.tensor(arr(8, 16, E, seed=1)), cr.tensor(arr(8, 32, E, seed=2))
    v = cr.eye(32, dtype=cr.float64)
    w = F.scaled_dot_product_attention(q, k, v).numpy()
    cr.manual_seed(3)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.25).numpy()
    kept = out != 0
    np.testing.assert_allclose(out[kept], w[kept] / 0.75, rtol=1e-12)
    assert abs((~kept).mean() - 0.25) < 0.03
    cr.manual_seed(3)
    np.testing.assert_array_equal(
        F.scaled_dot_product_attention(q, k, v, dropout_p=0.25).numpy(), out)
    assert not F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy().any()


def test_sdpa_and_multi_head_attention_second_derivatives():
    """Composed of differentiable ops: exact first and second derivatives (finite
    differences agree), masks included."""
    q, k, v = (cr.tensor(arr(2, n, 4, seed=i), requires_grad=True)
               for i, n in enumerate((3, 5, 5)))
    mask = cr.tensor(MASK[:3, :5])

    def sdpa(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)

    assert cr.autograd.gradcheck(sdpa, (q, k, v))
    assert cr.autograd.gradgradcheck(sdpa, (q, k, v))
    m = nn.MultiheadAttention(4, 2, kdim=3, vdim=3).double()
    key = cr.tensor(arr(5, 2, 3, seed=4), requires_grad=True)

    def mha(q, key):
        return m(q, key, key, key_padding_mask=cr.tensor(KPM[:2, :5]))[0]

    query = cr.tensor(arr(3, 2, 4, seed=5), requires_grad=True)
    assert cr.autograd.gradcheck(mha, (query, key))
    assert cr.autograd.gradgradcheck(mha, (query, key))


def test_sdpa_errors():
    q, k, v = cr.randn(2, L, E), cr.randn(2, S, E), cr.randn(2, S, EV)
    sdpa = F.scaled_dot_product_attention
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set"):
        sdpa(q, k, v, attn_mask=cr.tensor(MASK), is_causal=True)
    with pytest.raises(RuntimeError, match="at least 2 dimensional"):
        sdpa(cr.randn(E), cr.randn(E), cr.randn(E))
    with pytest.raises(RuntimeError, match="same dtype"):
        sdpa(q, k.double(), v)
    with pytest.raises(RuntimeError, match="attn_mask dtype"):
        sdpa(q, k, v, attn_mask=cr.ones(L, S, dtype=cr.int64))
    with pytest.raises(RuntimeError, match="attn_mask dtype"):
        sdpa(q, k, v, attn_mask=cr.ones(L, S, dtype=cr.float64))
    with pytest.raises(RuntimeError, match="does not broadcast"):
        sdpa(q, k, v, attn_mask=cr.ones(L + 1, S))
    with pytest.raises(RuntimeError, match="must agree on E and S"):
        sdpa(q, cr.randn(2, S, E + 1), v)
    with pytest.raises(RuntimeError, match="must agree on E and S"):
        sdpa(q, k, cr.randn(2, S + 1, EV))
    with pytest.raises(RuntimeError, match="dropout probability"):
        sdpa(q, k, v, dropout_p=1.5)
    with pytest.raises(RuntimeError, match="floating point"):
        sdpa(q.long(), k.long(), v.long())
    with pytest.raises(TypeError, match="argument 'query'"):
        sdpa([1.0], k, v)
    with pytest.raises(RuntimeError, match="must divide the number of heads"):
        sdpa(cr.randn(1, 4, L, E), cr.randn(1, 3, S, E), cr.randn(1, 3, S, E), enable_gqa=True)
    with pytest.raises(IndexError, match="heads dimension"):
        sdpa(cr.randn(L, E), cr.randn(S, E), cr.randn(S, E), enable_gqa=True)


# -- nn.MultiheadAttention --------------------------------------------------------------------

def pair(factory):
    """The module built in chainrule and in torch (float64, eval), torch's weights copied."""
    torch.manual_seed(0)
    tm, cm = factory(torch.nn).double().eval(), factory(nn).double().eval()
    assert [n for n, _ in cm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    result = cm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    return cm, tm


def run_both(cm, tm, inputs, kwargs=None, seed=1):
    """Forward both (the same arrays), backward the same upstream gradient; compare outputs,
    attention weights, input and parameter gradients. NaN must match NaN."""
    kwargs = kwargs or {}
    cx = [cr.tensor(a, requires_grad=True) for a in inputs]
    tx = [torch.tensor(a, requires_grad=True) for a in inputs]
    co = cm(*cx, **{n: to_cr(a) for n, a in kwargs.items()})
    to = tm(*tx, **{n: to_torch(a) for n, a in kwargs.items()})
    if isinstance(to, tuple):
        (co, cw), (to, tw) = co, to
        assert (cw is None) == (tw is None)
        if tw is not None:
            close(cw, tw)
    close(co, to)
    backward_both(co, to, seed)
    for c, t in zip(cx, tx):
        close(c.grad, t.grad)
    tparams = dict(tm.named_parameters())
    for name, p in cm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), **TOL,
                                   err_msg=name)
    return co, to


EMB, HEADS, N = 8, 2, 3
KPM = np.zeros((N, S), bool)
KPM[0, -2:] = True
KPM[2, :1] = True
AMASK = RNG.random((L, S)) > 0.75
CAUSAL = np.triu(np.full((L, L), -np.inf), 1)
QLNE, KSNE = arr(L, N, EMB, seed=1), arr(S, N, EMB, seed=2)

MHA_CASES = {
    "cross": (dict(), [QLNE, KSNE, arr(S, N, EMB, seed=3)], {}),
    "key-padding": (dict(), [QLNE, KSNE, KSNE], dict(key_padding_mask=KPM)),
    "float-key-padding": (dict(), [QLNE, KSNE, KSNE],
                          dict(key_padding_mask=np.where(KPM, -1e9, 0.0))),
    "bool-attn-mask-per-head": (dict(), [QLNE, KSNE, KSNE],
                                dict(attn_mask=AMASK, average_attn_weights=False)),
    "3d-float-attn-mask": (dict(), [QLNE, KSNE, KSNE],
                           dict(attn_mask=arr(N * HEADS, L, S, seed=4))),
    "both-masks-no-weights": (dict(), [QLNE, KSNE, KSNE],
                              dict(attn_mask=AMASK, key_padding_mask=KPM, need_weights=False)),
    "causal-hint": (dict(bias=False), [QLNE, QLNE, QLNE],
                    dict(attn_mask=CAUSAL, is_causal=True, need_weights=False)),
    "kdim-vdim-bias-kv-zero-attn": (
        dict(kdim=3, vdim=5, add_bias_kv=True, add_zero_attn=True),
        [QLNE, arr(S, N, 3, seed=2), arr(S, N, 5, seed=3)],
        dict(key_padding_mask=KPM, attn_mask=AMASK)),
    "batch-first": (dict(batch_first=True), [QLNE.transpose(1, 0, 2), KSNE.transpose(1, 0, 2),
                                             KSNE.transpose(1, 0, 2)], dict(key_padding_mask=KPM)),
    "unbatched": (dict(), [QLNE[:, 0], KSNE[:, 0], KSNE[:, 0]],
                  dict(key_padding_mask=KPM[0], attn_mask=AMASK)),
}


@pytest.mark.parametrize("case", MHA_CASES)
def test_multihead_attention_matches_torch(case):
    options, inputs, kwargs = MHA_CASES[case]
    cm, tm = pair(lambda nn: nn.MultiheadAttention(EMB, HEADS, **options))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's and ours: mismatched mask dtypes
        run_both(cm, tm, inputs, kwargs)


def test_multihead_attention_query_with_no_key():
    """A batch entry whose keys are all padded: NaN with need_weights (a plain softmax), 0
    without (scaled_dot_product_attention), in chainrule as in torch."""
    kpm = KPM.copy()
    kpm[1] = True
    cm, tm = pair(lambda nn: nn.MultiheadAttention(EMB, HEADS))
    for need in (True, False):
        co, cw = cm(*map(cr.tensor, (QLNE, KSNE, KSNE)), key_padding_mask=cr.tensor(kpm),
                    need_weights=need)
        to, tw = tm(*map(torch.tensor, (QLNE, KSNE, KSNE)), key_padding_mask=torch.tensor(kpm),
                    need_weights=need)
        close(co, to)
        assert np.isnan(co.detach().numpy()[:, 1]).all() == need


def test_multihead_attention_parameters_state_dict_and_init():
    m = nn.MultiheadAttention(EMB, HEADS, kdim=3, add_bias_kv=True)
    t = torch.nn.MultiheadAttention(EMB, HEADS, kdim=3, add_bias_kv=True)
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert m.in_proj_weight is None and t.in_proj_weight is None
    assert list(m.state_dict()) == list(t.state_dict())
    t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in m.state_dict().items()})
    plain = nn.MultiheadAttention(EMB, HEADS)
    assert plain.in_proj_weight.shape == (3 * EMB, EMB) and plain.bias_k is None
    assert not plain.in_proj_bias.detach().numpy().any()
    assert not plain.out_proj.bias.detach().numpy().any()
    bound = np.sqrt(6 / (EMB + 3 * EMB))  # xavier_uniform_ of the (3E, E) block
    assert np.abs(plain.in_proj_weight.detach().numpy()).max() <= bound
    assert repr(plain) == repr(torch.nn.MultiheadAttention(EMB, HEADS))


def test_multihead_attention_dropout_in_training_only():
    cm, tm = pair(lambda nn: nn.MultiheadAttention(EMB, HEADS, dropout=0.5))
    x = cr.tensor(QLNE)
    cm.train()
    cr.manual_seed(0)
    a, wa = cm(x, x, x)
    cr.manual_seed(0)
    b, _ = cm(x, x, x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert (wa.detach().numpy() == 0).any()  # per-head weights dropped, then averaged
    cm.eval()
    close(cm(x, x, x)[0], tm(*[torch.tensor(QLNE)] * 3)[0])


def test_multihead_attention_errors():
    with pytest.raises(AssertionError, match="divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match="greater than 0"):
        nn.MultiheadAttention(0, 2)
    m = nn.MultiheadAttention(EMB, HEADS).double()
    x = cr.tensor(QLNE)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="unbatched 2D or batched 3D"):
        m(x[None], x[None], x[None])
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D"):
        m(x, x[:, 0], x[:, 0])
    with pytest.raises(AssertionError, match="only bool and floating types"):
        m(x, x, x, attn_mask=cr.zeros(L, L, dtype=cr.int64))
    with pytest.raises(RuntimeError, match="shape of the 2D attn_mask"):
        m(x, x, x, attn_mask=cr.zeros(L, L + 1, dtype=cr.float64))
    with pytest.raises(RuntimeError, match="shape of the 3D attn_mask"):
        m(x, x, x, attn_mask=cr.zeros(N, L, L, dtype=cr.float64))
    with pytest.raises(AssertionError, match="key_padded_mask"):
        m(x, x, x, key_padding_mask=cr.zeros(N, L + 1, dtype=cr.bool))
    with pytest.raises(AssertionError, match="embedding dimension of 8"):
        y = cr.randn(L, N, 4, dtype=cr.float64)
        m(y, y, y)
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        m(x, x, x, key_padding_mask=cr.zeros(N, L, dtype=cr.bool),
          attn_mask=cr.zeros(L, L, dtype=cr.float64))


# -- transformer layers -----------------------------------------------------------------------

DM, FF = 8, 16


def encoder(norm_first, activation, batch_first=False):
    return lambda nn: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(DM, 2, FF, dropout=0.0, activation=activation,
                                   norm_first=norm_first, batch_first=batch_first),
        2, norm=nn.LayerNorm(DM))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu", "module"])
def test_transformer_encoder_matches_torch(norm_first, activation):
    if activation == "module":  # a callable: a GELU module with the tanh approximation
        cm, tm = pair(lambda nn: nn.TransformerEncoder(nn.TransformerEncoderLayer(
            DM, 2, FF, 0.0, nn.GELU("tanh"), norm_first=norm_first), 2))
    else:
        cm, tm = pair(encoder(norm_first, activation))
    x = arr(L, N, DM, seed=7)
    run_both(cm, tm, [x])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_both(cm, tm, [x], dict(mask=CAUSAL, src_key_padding_mask=KPM[:, :L]))
        run_both(cm, tm, [x], dict(mask=CAUSAL > 0, src_key_padding_mask=KPM[:, :L]))


def test_transformer_encoder_causal_hint_and_batch_first():
    """is_causal=None detects the causal mask; an explicit is_causal=True means causal even
    with another mask (as torch, which then ignores the mask)."""
    cm, tm = pair(encoder(False, "relu", batch_first=True))
    x = arr(N, L, DM, seed=8)
    run_both(cm, tm, [x], dict(mask=CAUSAL))
    co, to = run_both(cm, tm, [x], dict(mask=np.zeros((L, L)), is_causal=True))
    causal = cm(cr.tensor(x), mask=cr.tensor(CAUSAL))
    close(co, causal)
    unbatched = cm(cr.tensor(x[0]), mask=cr.tensor(CAUSAL))
    close(unbatched, causal[0])


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_transformer_encoder_inference_zeroes_padding_as_torch():
    """In inference without gradients torch packs a left-aligned padded batch into a nested
    tensor and returns zeros at the padded positions; chainrule does the same, and returns the
    ordinary values where torch does (gradients on, a mask that is not left-aligned)."""
    cm, tm = pair(lambda nn: nn.TransformerEncoder(nn.TransformerEncoderLayer(
        DM, 2, FF, dropout=0.0, batch_first=True), 2, norm=nn.LayerNorm(DM)))
    x = arr(N, S, DM, seed=9)
    left = np.zeros((N, S), bool)
    left[0, 3:] = True
    left[2, 1:] = True
    for kpm in (left, KPM):
        with cr.no_grad(), torch.no_grad():
            co = cm(cr.tensor(x), src_key_padding_mask=cr.tensor(kpm))
            to = tm(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm))
        close(co, to)
        assert (co.numpy()[kpm] == 0).all() == (kpm is left)
    co, to = run_both(cm, tm, [x], dict(src_key_padding_mask=left))
    assert (co.detach().numpy()[left] != 0).all()


def test_transformer_encoder_nested_tensor_warning_as_torch():
    for layer_kw in (dict(batch_first=False), dict(batch_first=True, norm_first=True),
                     dict(batch_first=True, activation=lambda x: x)):
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            nn.TransformerEncoder(nn.TransformerEncoderLayer(DM, 2, FF, **layer_kw), 1)
        with warnings.catch_warnings(record=True) as want:
            warnings.simplefilter("always")
            torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(DM, 2, FF, **layer_kw),
                                        1)
        assert [str(w.message) for w in got] == [str(w.message) for w in want]
        assert len(got) == 1


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_decoder_and_transformer_match_torch(norm_first):
    cm, tm = pair(lambda nn: nn.TransformerDecoder(nn.TransformerDecoderLayer(
        DM, 2, FF, 0.0, "gelu", norm_first=norm_first), 2, norm=nn.LayerNorm(DM)))
    tgt, memory = arr(L, N, DM, seed=1), arr(S, N, DM, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_both(cm, tm, [tgt, memory], dict(tgt_mask=CAUSAL, memory_key_padding_mask=KPM))
        cm, tm = pair(lambda nn: nn.Transformer(DM, 2, 2, 1, FF, dropout=0.0, batch_first=True,
                                                norm_first=norm_first))
        run_both(cm, tm, [memory.transpose(1, 0, 2), tgt.transpose(1, 0, 2)],
                 dict(tgt_mask=CAUSAL, src_key_padding_mask=KPM,
                      memory_key_padding_mask=KPM, tgt_key_padding_mask=KPM[:, :L]))


def test_generate_square_subsequent_mask():
    for dtype in (None, cr.float64):
        got = nn.Transformer.generate_square_subsequent_mask(4, dtype=dtype)
        want = torch.nn.Transformer.generate_square_subsequent_mask(
            4, dtype=None if dtype is None else torch.float64)
        assert str(got.dtype) == str(want.dtype)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_transformer_init_is_xavier():
    m = nn.Transformer(DM, 2, 1, 1, FF)
    w = m.encoder.layers[0].linear1.weight.detach().numpy()
    assert np.abs(w).max() <= np.sqrt(6 / (DM + FF))
    assert len(m.encoder.layers) == 1 and m.encoder.norm is not None


def test_transformer_training_loop_matches_torch():
    """A tiny causal language model (embedding, 1 encoder layer, linear head), 5 SGD steps:
    every loss and the final parameters equal torch's."""
    def model(nn):
        return nn.ModuleDict({
            "emb": nn.Embedding(11, DM),
            "enc": nn.TransformerEncoder(nn.TransformerEncoderLayer(
                DM, 2, FF, dropout=0.0, batch_first=True), 1),
            "head": nn.Linear(DM, 11)})

    def loss_of(lib, m, tokens, targets, mask):
        h = m["enc"](m["emb"](tokens), mask=mask, is_causal=True)
        return lib.nn.functional.cross_entropy(m["head"](h).reshape(-1, 11), targets.reshape(-1))

    cm, tm = pair(model)
    cm.train()
    tm.train()
    tokens = np.random.default_rng(0).integers(0, 11, (N, L + 1))
    copt = cr.optim.SGD(cm.parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(tm.parameters(), lr=0.1, momentum=0.9)
    cmask = nn.Transformer.generate_square_subsequent_mask(L, dtype=cr.float64)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64)
    for _ in range(5):
        losses = []
        for lib, m, opt, mask in ((cr, cm, copt, cmask), (torch, tm, topt, tmask)):
            opt.zero_grad()
            t = lib.tensor(tokens)
            loss = loss_of(lib, m, t[:, :-1], t[:, 1:], mask)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        np.testing.assert_allclose(losses[0], losses[1], rtol=1e-10)
    tparams = dict(tm.named_parameters())
    for name, p in cm.named_parameters():
        np.testing.assert_allclose(p.detach().numpy(), tparams[name].detach().numpy(),
                                   rtol=1e-9, atol=1e-11, err_msg=name)


def test_transformer_errors():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(DM, 2, activation="tanh")
    m = nn.Transformer(DM, 2, 1, 1, FF)
    with pytest.raises(RuntimeError, match="batch number of src and tgt must be equal"):
        m(cr.randn(S, 2, DM), cr.randn(L, 3, DM))
    with pytest.raises(RuntimeError, match="feature number of src and tgt"):
        m(cr.randn(S, 2, DM), cr.randn(L, 2, DM + 1))
