"""chainrule.nn's recurrent layers (RNN, LSTM, GRU and the cells) vs torch.nn's.

With torch's weights loaded through its state dict, outputs, final states and the gradients of
a loss w.r.t. the input, the initial states and every parameter are compared in float64 to
rtol 1e-10 (the same formulas, summed in a possibly different order), over layers, directions,
layouts (padded, batch first, packed, unbatched) and initial states. Dropout in training mode
draws from chainrule's generator, so it is checked by its statistics instead of against torch.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn.utils import rnn as cr_rnn
from tests._torch import torch

TOL = dict(rtol=1e-10, atol=1e-12)
T_STEPS, BATCH, FEATURES, HIDDEN = 5, 3, 3, 4
LENGTHS = [4, 2, 5]          # unsorted: packing sorts them and keeps the permutation

# kind -> (class name, constructor keywords)
KINDS = {
    "rnn_tanh": ("RNN", {}),
    "rnn_relu": ("RNN", {"nonlinearity": "relu"}),
    "lstm": ("LSTM", {}),
    "lstm_proj": ("LSTM", {"proj_size": 2}),
    "gru": ("GRU", {}),
}


def _np(t):
    return t.detach().numpy()


def _pair(kind, **options):
    """The same layer in chainrule and torch (float64), torch's state dict loaded into ours."""
    name, extra = KINDS[kind]
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(FEATURES, HIDDEN, **extra, **options).double()
    ours = getattr(cr.nn, name)(FEATURES, HIDDEN, **extra, **options, dtype=cr.float64)
    result = ours.load_state_dict(theirs.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    return ours, theirs


def _state_shapes(layer, batch):
    """The shapes of the initial state tensors (h0,) or (h0, c0); batch None: unbatched."""
    rows = layer.num_layers * (2 if layer.bidirectional else 1)
    lead = (rows,) if batch is None else (rows, batch)
    h = layer.proj_size if getattr(layer, "proj_size", 0) else layer.hidden_size
    sizes = [h, layer.hidden_size] if isinstance(layer, torch.nn.LSTM) else [h]
    return [lead + (s,) for s in sizes]


def _inputs(layer, layout, with_h0, rng):
    """Arrays for one forward: the (padded) input and the initial states (or None)."""
    batch = None if layout == "unbatched" else BATCH
    if layout == "unbatched":
        x = rng.standard_normal((T_STEPS, FEATURES))
    elif layer.batch_first:
        x = rng.standard_normal((BATCH, T_STEPS, FEATURES))
    else:
        x = rng.standard_normal((T_STEPS, BATCH, FEATURES))
    states = [rng.standard_normal(s) for s in _state_shapes(layer, batch)] if with_h0 else None
    return x, states


def _forward(lib, layer, layout, x, states):
    """Run layer on tensors of lib made from the arrays; returns (leaves, padded output,
    final states as a list)."""
    leaves = [lib.tensor(a, requires_grad=True) for a in [x] + (states or [])]
    inp, hx = leaves[0], leaves[1:] or None
    if hx is not None:
        hx = tuple(hx) if len(hx) == 2 else hx[0]
    utils = torch.nn.utils.rnn if lib is torch else cr_rnn
    if layout == "packed":
        inp = utils.pack_padded_sequence(inp, LENGTHS, batch_first=layer.batch_first,
                                         enforce_sorted=False)
    out, final = layer(inp, hx)
    if layout == "packed":
        out, lengths = utils.pad_packed_sequence(out, batch_first=layer.batch_first)
        assert lengths.tolist() == LENGTHS
    final = list(final) if isinstance(final, tuple) else [final]
    return leaves, out, final


def _compare(ours, theirs, layout, x, states):
    """Outputs, final states and gradients of sum(out * r) + sum(h_n * s) (+ c_n) agree."""
    results = {}
    for lib, layer in ((cr, ours), (torch, theirs)):
        leaves, out, final = _forward(lib, layer, layout, x, states)
        results[lib] = leaves, out, final
    weights = [np.random.default_rng(3).standard_normal(tuple(t.shape))
               for t in [results[torch][1]] + results[torch][2]]
    for lib, (_, out, final) in results.items():
        loss = sum(((t * lib.tensor(w)).sum() for t, w in zip([out] + final, weights)),
                   start=lib.tensor(0.0, dtype=lib.float64))
        loss.backward()
    (c_leaves, c_out, c_final), (t_leaves, t_out, t_final) = results[cr], results[torch]
    assert tuple(c_out.shape) == tuple(t_out.shape)
    np.testing.assert_allclose(_np(c_out), _np(t_out), **TOL)
    for a, b in zip(c_final, t_final, strict=True):
        np.testing.assert_allclose(_np(a), _np(b), **TOL)
    for a, b in zip(c_leaves, t_leaves, strict=True):
        np.testing.assert_allclose(_np(a.grad), _np(b.grad), **TOL)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(_np(p.grad), _np(theirs_params[name].grad), **TOL,
                                   err_msg=name)


GRID = list(itertools.product(KINDS, [1, 2], [False, True], [False, True],
                              ["padded", "packed", "unbatched"], [False, True]))


@pytest.mark.parametrize("kind,num_layers,bidirectional,batch_first,layout,with_h0", GRID)
def test_layer_matches_torch(kind, num_layers, bidirectional, batch_first, layout, with_h0):
    ours, theirs = _pair(kind, num_layers=num_layers, bidirectional=bidirectional,
                         batch_first=batch_first)
    rng = np.random.default_rng(num_layers + 2 * bidirectional + 4 * batch_first)
    x, states = _inputs(theirs, layout, with_h0, rng)
    _compare(ours, theirs, layout, x, states)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("layout", ["padded", "packed"])
def test_layer_without_bias_matches_torch(kind, layout):
    ours, theirs = _pair(kind, num_layers=2, bidirectional=True, bias=False)
    assert not any("bias" in name for name, _ in ours.named_parameters())
    rng = np.random.default_rng(11)
    x, states = _inputs(theirs, layout, True, rng)
    _compare(ours, theirs, layout, x, states)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_packed_sorted_sequences_match_torch(kind):
    """enforce_sorted=True: no permutation, sorted_indices None on both sides."""
    ours, theirs = _pair(kind, bidirectional=True)
    x = np.random.default_rng(5).standard_normal((T_STEPS, BATCH, FEATURES))
    outs = []
    for lib, layer in ((cr, ours), (torch, theirs)):
        utils = torch.nn.utils.rnn if lib is torch else cr_rnn
        packed = utils.pack_padded_sequence(lib.tensor(x), [5, 3, 1])
        out, _ = layer(packed)
        assert out.sorted_indices is None and out.unsorted_indices is None
        assert out.batch_sizes.tolist() == [3, 2, 2, 1, 1]
        outs.append(_np(out.data))
    np.testing.assert_allclose(outs[0], outs[1], **TOL)


# ---------------------------------------------------------------------------- parameters
@pytest.mark.parametrize("kind", KINDS)
def test_parameters_are_named_shaped_and_ordered_as_torch(kind):
    ours, theirs = _pair(kind, num_layers=2, bidirectional=True)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours._flat_weights_names == theirs._flat_weights_names
    assert [[tuple(p.shape) for p in group] for group in ours.all_weights] == \
        [[tuple(p.shape) for p in group] for group in theirs.all_weights]
    assert ours.all_weights[3][1] is ours.weight_hh_l1_reverse
    assert repr(ours) == repr(theirs)


def test_positional_arguments_follow_torchs_order():
    """RNN takes nonlinearity fourth; LSTM and GRU go on with bias, batch_first, dropout,
    bidirectional (and proj_size for LSTM)."""
    for name, args in (("RNN", (3, 4, 2, "relu", False, True, 0.25, True)),
                       ("LSTM", (3, 4, 2, False, True, 0.25, True, 2)),
                       ("GRU", (3, 4, 2, False, True, 0.25, True))):
        ours, theirs = getattr(cr.nn, name)(*args), getattr(torch.nn, name)(*args)
        assert repr(ours) == repr(theirs)
        assert (ours.mode, ours.proj_size) == (theirs.mode, theirs.proj_size)
        assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"])
def test_init_is_uniform_within_one_over_sqrt_hidden_from_the_generator(name):
    hidden = 64
    cr.manual_seed(3)
    layer = getattr(cr.nn, name)(16, hidden)
    cr.manual_seed(3)
    again = getattr(cr.nn, name)(16, hidden)
    values = np.concatenate([_np(p).ravel() for p in layer.parameters()])
    bound = 1 / math.sqrt(hidden)
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.99 * bound
    assert abs(values.mean()) < 0.01 * bound and abs(values.std() - bound / math.sqrt(3)) < 0.01
    for p, q in zip(layer.parameters(), again.parameters(), strict=True):
        np.testing.assert_array_equal(_np(p), _np(q))
    assert next(layer.parameters()).dtype == cr.float32      # the default dtype


def test_flatten_parameters_is_accepted_and_changes_nothing():
    ours, theirs = _pair("lstm", num_layers=2)
    before = [p for p in ours.parameters()]
    values = [_np(p).copy() for p in before]
    assert ours.flatten_parameters() is None
    theirs.flatten_parameters()
    assert all(a is b for a, b in zip(before, ours.parameters(), strict=True))
    for p, v in zip(ours.parameters(), values, strict=True):
        np.testing.assert_array_equal(_np(p), v)


def test_to_double_keeps_parameters_and_forward_follows():
    layer = cr.nn.GRU(FEATURES, HIDDEN, num_layers=2)
    params = list(layer.parameters())
    layer.double()
    assert all(a is b for a, b in zip(params, layer.parameters(), strict=True))
    out, h = layer(cr.randn(T_STEPS, BATCH, FEATURES, dtype=cr.float64))
    assert out.dtype == cr.float64 and tuple(h.shape) == (2, BATCH, HIDDEN)


def test_a_module_holding_an_lstm_loads_a_torch_state_dict():
    def build(nn):
        return nn.Sequential(nn.Embedding(7, FEATURES), nn.LSTM(FEATURES, HIDDEN))

    torch.manual_seed(0)
    theirs, ours = build(torch.nn), build(cr.nn)
    ours.load_state_dict(theirs.state_dict())
    for (n, p), (m, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert n == m
        np.testing.assert_array_equal(_np(p), _np(q))


# ---------------------------------------------------------------------------- cells
CELLS = {"rnn_tanh": ("RNNCell", {}), "rnn_relu": ("RNNCell", {"nonlinearity": "relu"}),
         "lstm": ("LSTMCell", {}), "gru": ("GRUCell", {})}


@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_hx", [True, False])
def test_cell_matches_torch(kind, bias, batched, with_hx):
    name, extra = CELLS[kind]
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(FEATURES, HIDDEN, bias=bias, **extra).double()
    ours = getattr(cr.nn, name)(FEATURES, HIDDEN, bias=bias, **extra, dtype=cr.float64)
    ours.load_state_dict(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(2)
    lead = (BATCH,) if batched else ()
    n_states = 2 if name == "LSTMCell" else 1
    arrays = [rng.standard_normal(lead + (FEATURES,))]
    arrays += [rng.standard_normal(lead + (HIDDEN,)) for _ in range(n_states)] if with_hx else []
    grads, outs = [], []
    for lib, cell in ((cr, ours), (torch, theirs)):
        leaves = [lib.tensor(a, requires_grad=True) for a in arrays]
        hx = None if not with_hx else (tuple(leaves[1:]) if n_states == 2 else leaves[1])
        out = cell(leaves[0], hx)
        out = list(out) if isinstance(out, tuple) else [out]
        sum((o * (k + 1.5)).sin().sum() for k, o in enumerate(out)).backward()
        outs.append([_np(o) for o in out])
        grads.append([_np(t.grad) for t in leaves] + [_np(p.grad) for p in cell.parameters()])
    for a, b in zip(outs[0] + grads[0], outs[1] + grads[1], strict=True):
        np.testing.assert_allclose(a, b, **TOL)


def test_cells_step_by_step_equal_the_layer():
    """An LSTMCell looped over time gives the one-layer LSTM's outputs (same weights)."""
    layer = cr.nn.LSTM(FEATURES, HIDDEN, dtype=cr.float64)
    cell = cr.nn.LSTMCell(FEATURES, HIDDEN, dtype=cr.float64)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = cr.randn(T_STEPS, BATCH, FEATURES, dtype=cr.float64)
    out, (h_n, c_n) = layer(x)
    state = None
    for t in range(T_STEPS):
        state = cell(x[t], state)
        np.testing.assert_allclose(_np(state[0]), _np(out[t]), **TOL)
    np.testing.assert_allclose(_np(state[1]), _np(c_n[0]), **TOL)


# ---------------------------------------------------------------------------- dropout
@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
def test_dropout_in_eval_mode_matches_torch(kind):
    ours, theirs = _pair(kind, num_layers=3, dropout=0.5, bidirectional=True)
    ours.eval()
    theirs.eval()
    rng = np.random.default_rng(4)
    x, states = _inputs(theirs, "padded", True, rng)
    _compare(ours, theirs, "padded", x, states)


def _dropout_probe(p, num_layers=2):
    """A relu RNN whose layer 0 outputs y > 0 and whose last layer outputs its input as it is
    (identity input weights, no recurrence): in training the output is dropout(y)."""
    layer = cr.nn.RNN(FEATURES, 8, num_layers=num_layers, nonlinearity="relu", dropout=p,
                      dtype=cr.float64)
    with cr.no_grad():
        for param in layer.parameters():
            param.zero_()
        layer.weight_ih_l0.uniform_(-0.1, 0.1)
        layer.bias_ih_l0.fill_(1.0)
        for k in range(1, num_layers):
            getattr(layer, f"weight_ih_l{k}").copy_(cr.eye(8, dtype=cr.float64))
    return layer


def test_dropout_in_training_drops_between_layers_with_rate_p_and_scale():
    p = 0.3
    layer = _dropout_probe(p)
    x = cr.randn(20, 25, FEATURES, dtype=cr.float64)
    y = _np(layer.eval()(x)[0])
    assert y.min() > 0
    cr.manual_seed(0)
    out = _np(layer.train()(x)[0])
    dropped = out == 0
    np.testing.assert_allclose(out[~dropped], y[~dropped] / (1 - p), rtol=1e-12)
    assert abs(dropped.mean() - p) < 0.04           # 4000 draws: 5.5 standard deviations
    cr.manual_seed(0)
    np.testing.assert_array_equal(_np(layer(x)[0]), out)     # drawn from chainrule's generator
    assert not np.array_equal(_np(layer(x)[0]), out)


def test_dropout_never_touches_the_last_layer():
    """One layer: nothing lies between layers, so training equals eval (and torch warns)."""
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        layer = _dropout_probe(0.5, num_layers=1)
    x = cr.randn(T_STEPS, BATCH, FEATURES, dtype=cr.float64)
    np.testing.assert_array_equal(_np(layer.train()(x)[0]), _np(layer.eval()(x)[0]))
    three = _dropout_probe(0.5, num_layers=3)
    y = _np(three.eval()(x)[0])
    out = _np(three.train()(x)[0])
    kept = out != 0          # dropped twice (after layers 0 and 1): survivors scaled by 1/0.25
    np.testing.assert_allclose(out[kept], y[kept] * 4, rtol=1e-12)


def test_dropout_gradient_flows_through_the_kept_entries_only():
    """out = mask * y / (1 - p) with y_t = relu(W x_t + b) > 0, so d sum(out) / d b[j] counts
    the kept entries of unit j, times 1 / (1 - p)."""
    layer = _dropout_probe(0.5)
    layer.train()
    cr.manual_seed(1)
    out, _ = layer(cr.randn(T_STEPS, BATCH, FEATURES, dtype=cr.float64))
    out.sum().backward()
    kept = (_np(out) != 0).sum(axis=(0, 1))
    assert 0 < kept.sum() < out.numel()
    np.testing.assert_allclose(_np(layer.bias_ih_l0.grad), kept / 0.5, rtol=1e-12)


# ---------------------------------------------------------------------------- errors
def _z(lib, *shape, dtype=None):
    return lib.zeros(shape, dtype=dtype)


def _packed(lib, batch_sizes_lengths):
    utils = torch.nn.utils.rnn if lib is torch else cr_rnn
    return utils.pack_padded_sequence(_z(lib, 5, len(batch_sizes_lengths), 3),
                                      batch_sizes_lengths)


ERRORS = {
    "dropout above 1": lambda lib: lib.nn.RNN(3, 4, num_layers=2, dropout=1.5),
    "dropout a bool": lambda lib: lib.nn.RNN(3, 4, num_layers=2, dropout=True),
    "proj_size for RNN": lambda lib: lib.nn.RNN(3, 4, proj_size=2),
    "proj_size for GRU": lambda lib: lib.nn.GRU(3, 4, proj_size=2),
    "proj_size not below hidden": lambda lib: lib.nn.LSTM(3, 4, proj_size=4),
    "negative proj_size": lambda lib: lib.nn.LSTM(3, 4, proj_size=-1),
    "unknown nonlinearity": lambda lib: lib.nn.RNN(3, 4, nonlinearity="sigmoid"),
    "zero hidden_size": lambda lib: lib.nn.GRU(3, 0),
    "float hidden_size": lambda lib: lib.nn.GRU(3, 4.0),
    "zero num_layers": lambda lib: lib.nn.LSTM(3, 4, num_layers=0),
    "int bias": lambda lib: lib.nn.LSTM(3, 4, bias=1),
    "1-D input": lambda lib: lib.nn.RNN(3, 4)(_z(lib, 3)),
    "4-D input": lambda lib: lib.nn.GRU(3, 4)(_z(lib, 5, 2, 1, 3)),
    "4-D input to LSTM": lambda lib: lib.nn.LSTM(3, 4)(_z(lib, 5, 2, 1, 3)),
    "wrong input_size": lambda lib: lib.nn.RNN(3, 4)(_z(lib, 5, 2, 6)),
    "wrong input_size unbatched": lambda lib: lib.nn.LSTM(3, 4)(_z(lib, 5, 6)),
    "wrong h0 batch": lambda lib: lib.nn.RNN(3, 4)(_z(lib, 5, 2, 3), _z(lib, 1, 3, 4)),
    "wrong h0 layers": lambda lib: lib.nn.GRU(3, 4, num_layers=2)(_z(lib, 5, 2, 3),
                                                                  _z(lib, 1, 2, 4)),
    "h0 missing the direction": lambda lib: lib.nn.GRU(3, 4, bidirectional=True)(
        _z(lib, 5, 2, 3), _z(lib, 1, 2, 4)),
    "2-D h0 for a batch": lambda lib: lib.nn.RNN(3, 4)(_z(lib, 5, 2, 3), _z(lib, 2, 4)),
    "3-D h0 unbatched": lambda lib: lib.nn.GRU(3, 4)(_z(lib, 5, 3), _z(lib, 1, 1, 4)),
    "wrong c0": lambda lib: lib.nn.LSTM(3, 4)(_z(lib, 5, 2, 3), (_z(lib, 1, 2, 4),
                                                                 _z(lib, 1, 2, 3))),
    "c0 of proj size": lambda lib: lib.nn.LSTM(3, 4, proj_size=2)(
        _z(lib, 5, 2, 3), (_z(lib, 1, 2, 2), _z(lib, 1, 2, 2))),
    "2-D (h0, c0) for a batch": lambda lib: lib.nn.LSTM(3, 4)(
        _z(lib, 5, 2, 3), (_z(lib, 2, 4), _z(lib, 2, 4))),
    "3-D (h0, c0) unbatched": lambda lib: lib.nn.LSTM(3, 4)(
        _z(lib, 5, 3), (_z(lib, 1, 1, 4), _z(lib, 1, 1, 4))),
    "LSTM given h0 only": lambda lib: lib.nn.LSTM(3, 4)(_z(lib, 5, 2, 3), (_z(lib, 1, 2, 4),)),
    "input dtype not the weights'": lambda lib: lib.nn.GRU(3, 4)(
        _z(lib, 5, 2, 3, dtype=lib.float64)),
    "empty sequence": lambda lib: lib.nn.RNN(3, 4)(_z(lib, 0, 2, 3)),
    "packed with wrong h0 batch": lambda lib: lib.nn.RNN(3, 4)(_packed(lib, [5, 3]),
                                                               _z(lib, 1, 3, 4)),
    "3-D input to a cell": lambda lib: lib.nn.RNNCell(3, 4)(_z(lib, 1, 2, 3)),
    "3-D hx to a cell": lambda lib: lib.nn.GRUCell(3, 4)(_z(lib, 2, 3), _z(lib, 1, 2, 4)),
    "3-D c to LSTMCell": lambda lib: lib.nn.LSTMCell(3, 4)(_z(lib, 2, 3), (_z(lib, 2, 4),
                                                                         _z(lib, 1, 2, 4))),
    "cell input_size": lambda lib: lib.nn.GRUCell(3, 4)(_z(lib, 2, 5)),
    "cell batch mismatch": lambda lib: lib.nn.LSTMCell(3, 4)(_z(lib, 2, 3), (_z(lib, 3, 4),
                                                                           _z(lib, 3, 4))),
    "cell hidden_size": lambda lib: lib.nn.RNNCell(3, 4)(_z(lib, 2, 3), _z(lib, 2, 5)),
    "LSTMCell c hidden_size": lambda lib: lib.nn.LSTMCell(3, 4)(_z(lib, 2, 3), (_z(lib, 2, 4),
                                                                              _z(lib, 2, 2))),
    "cell nonlinearity": lambda lib: lib.nn.RNNCell(3, 4, nonlinearity="gelu")(_z(lib, 2, 3)),
}


@pytest.mark.parametrize("case", ERRORS)
def test_bad_arguments_raise_torchs_exception_type(case):
    with pytest.raises(Exception) as theirs:
        ERRORS[case](torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as ours:
            ERRORS[case](cr)
    assert type(ours.value) is type(theirs.value), (ours.value, theirs.value)
    assert str(ours.value)


def test_shape_errors_name_the_layer_and_the_shapes():
    with pytest.raises(RuntimeError, match=r"LSTM: Expected hidden\[1\] size \(1, 2, 4\), "
                                           r"got \[1, 2, 3\]"):
        ERRORS["wrong c0"](cr)
    with pytest.raises(RuntimeError, match="GRUCell: input has inconsistent input_size: got 5 "
                                           "expected 3"):
        ERRORS["cell input_size"](cr)
    with pytest.raises(ValueError, match=r"GRU: Expected input to be 2D or 3D, got 4D"):
        ERRORS["4-D input"](cr)


# ---------------------------------------------------------------------------- training
TEXT = "hello world, hello chainrule; the quick brown fox jumps over the lazy dog. " * 2


def _char_model(nn, vocab):
    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, 8)
            self.lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True)
            self.head = nn.Linear(16, vocab)

        def forward(self, x, state=None):
            out, state = self.lstm(self.embed(x), state)
            return self.head(out), state

    return CharLSTM()


def _train_char_lstm(lib, model, ids, vocab, steps=10, batch=4, length=12):
    """Truncated backpropagation through time: windows of `length` characters, the state
    carried (detached) from one window to the next, Adam."""
    opt = lib.optim.Adam(model.parameters(), lr=0.01)
    data = lib.tensor(ids)
    losses, state = [], None
    for step in range(steps):
        start = (step * length) % (len(ids) // batch - length - 1)
        rows = [data[b * (len(ids) // batch) + start:][:length + 1] for b in range(batch)]
        chunk = lib.stack(rows)
        logits, state = model(chunk[:, :-1], state)
        state = tuple(s.detach() for s in state)
        loss = lib.nn.functional.cross_entropy(logits.reshape(-1, vocab),
                                               chunk[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_char_level_lstm_training_gives_torchs_losses():
    chars = sorted(set(TEXT))
    ids = [chars.index(c) for c in TEXT]
    torch.manual_seed(0)
    theirs = _char_model(torch.nn, len(chars)).double()
    ours = _char_model(cr.nn, len(chars)).double()
    ours.load_state_dict(theirs.state_dict())
    ours_losses = _train_char_lstm(cr, ours, ids, len(chars))
    theirs_losses = _train_char_lstm(torch, theirs, ids, len(chars))
    # float64 throughout: the two differ only by summation order, far below 1e-9
    np.testing.assert_allclose(ours_losses, theirs_losses, rtol=1e-9)
    assert ours_losses[-1] < ours_losses[0]
