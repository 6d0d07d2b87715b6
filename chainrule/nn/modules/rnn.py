"""Recurrent layers: RNN, LSTM, GRU and their one-step cells, as torch.nn's.

A recurrent layer carries a state h_t (and, for the LSTM, a cell state c_t) along a sequence:
each step reads the input x_t and the previous state and returns the new one, and the output
of the layer at step t is h_t. Every step is built from ordinary ops (linear, sigmoid, tanh,
chunk, cat), so the backward pass (backpropagation through time) is the one autograd derives
from the unrolled steps; no op class of its own is needed.

Layout, as torch's. A layer's weights for one direction are

    weight_ih_l{k}  (gates * hidden_size, input size of layer k)   multiplies x_t
    weight_hh_l{k}  (gates * hidden_size, size of h)               multiplies h_{t-1}
    bias_ih_l{k}, bias_hh_l{k}  (gates * hidden_size,)             (bias=True)
    weight_hr_l{k}  (proj_size, hidden_size)                       (LSTM with proj_size > 0)

with the gates stacked in torch's order (LSTM i, f, g, o; GRU r, z, n) and the suffix
`_reverse` for the backward direction of a bidirectional layer, so torch state dicts load.
Layer k > 0 reads the outputs of layer k - 1 (both directions concatenated); with dropout p in
training mode, those outputs are dropped out (not the last layer's).

Sequences are processed step by step in the layout of a PackedSequence: step t holds the
batch_sizes[t] sequences still running (longest first), so a padded (T, B, *) batch is the
special case batch_sizes = [B] * T. When a sequence ends its state is final; the reverse
direction starts each sequence at its own last step from its initial state.
"""

from __future__ import annotations

import math
import numbers
import warnings
from functools import partial

from chainrule.creation import zeros
from chainrule.functions import cat, stack
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.modules._utils import factory_dtype, new_parameter
from chainrule.nn.modules.module import Module
from chainrule.nn.utils.rnn import PackedSequence

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase"]


# --------------------------------------------------------------------------------- one step
# Each step maps (x, state, weights) to the new state, a tuple (h,) or (h, c); weights is
# (w_ih, w_hh, b_ih, b_hh, w_hr) with None for the absent biases / projection.

def _rnn_step(activation, x, state, w):
    """h' = activation(W_ih x + b_ih + W_hh h + b_hh)."""
    w_ih, w_hh, b_ih, b_hh, _ = w
    return (activation(F.linear(x, w_ih, b_ih) + F.linear(state[0], w_hh, b_hh)),)


def _lstm_step(x, state, w):
    """gates = W_ih x + b_ih + W_hh h + b_hh split into i, f, g, o;
    c' = sigmoid(f) * c + sigmoid(i) * tanh(g);  h' = sigmoid(o) * tanh(c')  (then W_hr h')."""
    w_ih, w_hh, b_ih, b_hh, w_hr = w
    h, c = state
    i, f, g, o = (F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)).chunk(4, 1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h = o.sigmoid() * c.tanh()
    return (h if w_hr is None else F.linear(h, w_hr), c)


def _gru_step(x, state, w):
    """r, z from sigmoid(W_i x + b_i + W_h h + b_h); n = tanh(W_in x + b_in + r * (W_hn h +
    b_hn)); h' = (1 - z) * n + z * h."""
    w_ih, w_hh, b_ih, b_hh, _ = w
    h = state[0]
    x_r, x_z, x_n = F.linear(x, w_ih, b_ih).chunk(3, 1)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, 1)
    r = (x_r + h_r).sigmoid()
    z = (x_z + h_z).sigmoid()
    n = (x_n + r * h_n).tanh()
    return ((1 - z) * n + z * h,)


_STEPS = {"RNN_TANH": partial(_rnn_step, F.tanh), "RNN_RELU": partial(_rnn_step, F.relu),
          "LSTM": _lstm_step, "GRU": _gru_step}
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# --------------------------------------------------------------------------------- one pass
def _rows(state, lo, hi=None):
    """Rows lo:hi of every tensor of a state (the state itself when that is all of it)."""
    if lo == 0 and (hi is None or hi == state[0].shape[0]):
        return state
    return tuple(s[lo:hi] for s in state)


def _scan_forward(step, xs, state, w, sizes):
    """Run step over xs[0], xs[1], ...; xs[t] has sizes[t] rows (non-increasing). A sequence
    that ends keeps its last state; sequences end from the back of the batch, so the kept
    pieces, concatenated in reverse order of ending, are the final states in batch order."""
    outs, ended = [], []
    for x, size in zip(xs, sizes):
        if size < state[0].shape[0]:
            ended.append(_rows(state, size))
            state = _rows(state, 0, size)
        state = step(x, state, w)
        outs.append(state[0])
    ended.append(state)
    ended.reverse()
    if len(ended) == 1:
        return outs, state
    return outs, tuple(cat(parts) for parts in zip(*ended))


def _scan_reverse(step, xs, state0, w, sizes):
    """Run step over xs[-1], xs[-2], ...: a sequence joins at its own last step, starting
    from its row of state0. Returns the outputs in time order and the final states."""
    state, outs = _rows(state0, 0, sizes[-1]), []
    for x, size in zip(reversed(xs), reversed(sizes)):
        have = state[0].shape[0]
        if size > have:
            state = tuple(cat([s, s0[have:size]]) for s, s0 in zip(state, state0))
        state = step(x, state, w)
        outs.append(state[0])
    outs.reverse()
    return outs, state


# --------------------------------------------------------------------------------- RNNBase
def _check_options(input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size):
    """The constructor checks of torch.nn.RNNBase, with its exception types."""
    if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) \
            or not 0 <= dropout <= 1:
        raise ValueError(f"dropout should be a number in range [0, 1] representing the "
                         f"probability of an element being zeroed, got {dropout!r}")
    if dropout > 0 and num_layers == 1:
        warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so "
                      f"non-zero dropout expects num_layers greater than 1, but got "
                      f"dropout={dropout} and num_layers={num_layers}", stacklevel=4)
    for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                              ("input_size", input_size, int), ("hidden_size", hidden_size, int)):
        if not isinstance(value, kind):
            raise TypeError(f"{name} should be of type {kind.__name__}, got: "
                            f"{type(value).__name__}")
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size),
                        ("num_layers", num_layers)):
        if value <= 0:
            raise ValueError(f"{name} must be greater than zero, got {value}")
    if proj_size < 0:
        raise ValueError(f"proj_size should be a positive integer or zero to disable "
                         f"projections, got {proj_size}")
    if proj_size >= hidden_size:
        raise ValueError(f"proj_size has to be smaller than hidden_size, got proj_size="
                         f"{proj_size} and hidden_size={hidden_size}")


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters (named and shaped as torch's, see the
    module docstring), their init U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), the checks
    of the input and the initial state, and the loop over layers and directions.

    mode is 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        _check_options(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                       proj_size)
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode} (one of {sorted(_GATES)})")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        self._flat_weights_names = []
        self._all_weights = []
        dt = factory_dtype(device, dtype)
        for layer in range(num_layers):
            for direction in range(self._directions):
                names = self._make_layer(layer, direction, dt)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def _out_size(self) -> int:
        """The size of h: proj_size if the LSTM projects, else hidden_size."""
        return self.proj_size if self.proj_size > 0 else self.hidden_size

    def _make_layer(self, layer: int, direction: int, dt) -> list:
        """Register the parameters of one layer and direction; returns their names."""
        gates = _GATES[self.mode] * self.hidden_size
        fan_in = self.input_size if layer == 0 else self._out_size * self._directions
        shapes = [("weight_ih", (gates, fan_in)), ("weight_hh", (gates, self._out_size))]
        if self.bias:
            shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
        if self.proj_size > 0:
            shapes.append(("weight_hr", (self.proj_size, self.hidden_size)))
        suffix = "_reverse" if direction == 1 else ""
        names = []
        for kind, shape in shapes:
            names.append(f"{kind}_l{layer}{suffix}")
            setattr(self, names[-1], new_parameter(shape, dt))
        return names

    def reset_parameters(self) -> None:
        """Every parameter ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as torch."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """The parameters grouped per layer and direction, in torch's order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """Accepted for torch compatibility: torch packs the weights into one buffer for
        cuDNN; on the CPU (torch's and chainrule's) there is nothing to do."""

    def _weights(self, layer: int, direction: int) -> tuple:
        """(w_ih, w_hh, b_ih, b_hh, w_hr) of one layer and direction, None where absent."""
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        return tuple(getattr(self, kind + suffix, None)
                     for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"))

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False),
                              ("dropout", 0), ("bidirectional", False)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s

    # ----------------------------------------------------------------------------- forward
    def _state_tuple(self, hx):
        """The initial state as a tuple: (h0,) or, for the LSTM, (h0, c0); None if not given."""
        if hx is None:
            return None
        return (hx[0], hx[1]) if self.mode == "LSTM" else (hx,)

    def _state_result(self, state):
        """The final state as forward returns it: h_n, or (h_n, c_n) for the LSTM."""
        return state if self.mode == "LSTM" else state[0]

    def _state_sizes(self) -> list:
        """The last dimension of each state tensor: h (and the LSTM's c)."""
        return [self._out_size, self.hidden_size] if self.mode == "LSTM" else [self._out_size]

    def _check_input(self, input, dims: int) -> None:
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({weight.dtype}). Convert input: input.to({weight.dtype}), or "
                             f"convert model: model.to({input.dtype})")
        if input.dim() != dims:
            raise RuntimeError(f"{type(self).__name__}: input must have {dims} dimensions, got "
                               f"{input.dim()}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{type(self).__name__}: input.size(-1) must be equal to "
                               f"input_size. Expected {self.input_size}, got {input.shape[-1]}")

    def _initial_state(self, state, batch: int, dtype) -> tuple:
        """The given initial state after checking its shapes, or zeros."""
        layers = self.num_layers * self._directions
        expected = [(layers, batch, size) for size in self._state_sizes()]
        if state is None:
            return tuple(zeros(shape, dtype=dtype) for shape in expected)
        for i, (s, shape) in enumerate(zip(state, expected)):
            if tuple(s.shape) != shape:
                which = "hidden" if len(expected) == 1 else f"hidden[{i}]"
                raise RuntimeError(
                    f"{type(self).__name__}: Expected {which} size {shape}, got "
                    f"{list(s.shape)}; the initial state is (num_layers * num_directions, "
                    f"batch, {'hidden_size' if shape[2] == self.hidden_size else 'proj_size'})")
        return state

    def _check_state_dims(self, state, dims: int) -> None:
        """torch's check that an (un)batched input comes with an (un)batched state."""
        if state is None or all(s.dim() == dims for s in state):
            return
        kind = "batched 3-D" if dims == 3 else "unbatched 2-D"
        if len(state) == 1:
            raise RuntimeError(f"For {kind} input, hx should also be {dims}-D but got "
                               f"{state[0].dim()}-D tensor")
        raise RuntimeError(f"For {kind} input, hx and cx should also be {dims}-D but got "
                           f"({state[0].dim()}-D, {state[1].dim()}-D) tensors")

    def forward(self, input, hx=None):
        """(output, h_n), or for the LSTM (output, (h_n, c_n)); output is a PackedSequence
        when input is one. h_n has shape (num_layers * num_directions, batch, H)."""
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, self._state_tuple(hx))
        return self._forward_padded(input, self._state_tuple(hx))

    def _forward_packed(self, packed, state):
        data, batch_sizes, sorted_indices, unsorted_indices = packed
        self._check_input(data, 2)
        sizes = [int(b) for b in batch_sizes.tolist()]
        state = self._initial_state(state, sizes[0], data.dtype)
        if sorted_indices is not None:
            state = tuple(s.index_select(1, sorted_indices) for s in state)
        outs, final = self._run(list(data.split(sizes)), sizes, state)
        if unsorted_indices is not None:
            final = tuple(s.index_select(1, unsorted_indices) for s in final)
        output = PackedSequence(cat(outs), batch_sizes, sorted_indices, unsorted_indices)
        return output, self._state_result(final)

    def _forward_padded(self, input, state):
        name = type(self).__name__
        if input.dim() not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D tensor "
                             f"instead (give (seq_len, batch, input_size), or batch first with "
                             f"batch_first=True, or (seq_len, input_size) for one sequence)")
        batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        self._check_state_dims(state, 3 if batched else 2)
        if not batched:
            input = input.unsqueeze(batch_dim)
            state = None if state is None else tuple(s.unsqueeze(1) for s in state)
        if self.batch_first:
            input = input.transpose(0, 1)
        self._check_input(input, 3)
        steps, batch = input.shape[:2]
        if steps == 0:
            raise RuntimeError(f"{name}: Expected sequence length to be larger than 0 in RNN")
        state = self._initial_state(state, batch, input.dtype)
        outs, final = self._run(list(input.unbind(0)), [batch] * steps, state)
        output = stack(outs)
        if self.batch_first:
            output = output.transpose(0, 1)
        if not batched:
            output = output.squeeze(batch_dim)
            final = tuple(s.squeeze(1) for s in final)
        return output, self._state_result(final)

    def _run(self, xs, sizes, state):
        """All layers and directions over the steps xs (xs[t] has sizes[t] rows): the last
        layer's outputs per step and the final states stacked as (layers * directions, ...)."""
        step = _STEPS[self.mode]
        initial = [s.unbind(0) for s in state]
        finals = [[] for _ in state]
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                xs = [F.dropout(x, self.dropout, True) for x in xs]
            outs = []
            for direction in range(self._directions):
                index = layer * self._directions + direction
                scan = _scan_reverse if direction == 1 else _scan_forward
                out, final = scan(step, xs, tuple(s[index] for s in initial),
                                  self._weights(layer, direction), sizes)
                outs.append(out)
                for kept, s in zip(finals, final):
                    kept.append(s)
            xs = outs[0] if len(outs) == 1 else [cat(pair, 1) for pair in zip(*outs)]
        return xs, tuple(stack(kept) for kept in finals)


def _no_proj_size(kwargs: dict, name: str) -> dict:
    if "proj_size" in kwargs:
        raise ValueError(f"proj_size argument is only supported for LSTM, not RNN or GRU "
                         f"({name} got proj_size={kwargs['proj_size']})")
    return kwargs


class RNN(RNNBase):
    """Elman RNN: for each layer and time step,

        h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)

    (relu instead of tanh with nonlinearity='relu'). Arguments as torch.nn.RNN:
    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None).

    forward(input, h_0=None) -> (output, h_n): input (L, N, H_in) ((N, L, H_in) with
    batch_first, (L, H_in) unbatched, or a PackedSequence); h_0 (D * num_layers, N, H_out),
    zeros if omitted; output (L, N, D * H_out) holds the last layer's h_t.
    """

    def __init__(self, *args, **kwargs):
        _no_proj_size(kwargs, "RNN")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             f"or 'relu'.")
        super().__init__("RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU", *args,
                         **kwargs)


class LSTM(RNNBase):
    """Long short-term memory: for each layer and time step, with W, b split by gate in the
    order i, f, g, o,

        i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
        f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
        g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
        o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)            (then h_t = W_hr h_t with proj_size > 0)

    Arguments as torch.nn.LSTM: LSTM(input_size, hidden_size, num_layers=1, bias=True,
    batch_first=False, dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None).
    forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n)); h has size proj_size if set,
    else hidden_size; c has size hidden_size.
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit: for each layer and time step, with W, b split by gate in the
    order r, z, n,

        r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
        z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
        n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    Arguments and forward as RNN's, without nonlinearity.
    """

    def __init__(self, *args, **kwargs):
        super().__init__("GRU", *args, **_no_proj_size(kwargs, "GRU"))


# --------------------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """One step of a recurrent layer: weight_ih (gates * hidden_size, input_size), weight_hh
    (gates * hidden_size, hidden_size), bias_ih and bias_hh (gates * hidden_size,), all
    ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) as torch."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        dt = factory_dtype(device, dtype)
        self.weight_ih = new_parameter((num_chunks * hidden_size, input_size), dt)
        self.weight_hh = new_parameter((num_chunks * hidden_size, hidden_size), dt)
        if bias:
            self.bias_ih = new_parameter((num_chunks * hidden_size,), dt)
            self.bias_hh = new_parameter((num_chunks * hidden_size,), dt)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _step(self, step, input, state, names: str):
        """Check input (N, input_size) or (input_size,) and the state tensors named `names`
        (each (N, hidden_size) or (hidden_size,), zeros if state is None); run one step."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             f"instead")
        for label, s in zip(names.split(), state or ()):
            if s.dim() not in (1, 2):
                raise ValueError(f"{name}: Expected {label} to be 1D or 2D, got {s.dim()}D "
                                 f"instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
            state = None if state is None else tuple(s.unsqueeze(0) for s in state)
        if state is None:
            state = (zeros(input.shape[0], self.hidden_size, dtype=input.dtype),) * len(
                names.split())
        self._check_shapes(input, state)
        w = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, None)
        out = step(input, state, w)
        return out if batched else tuple(s.squeeze(0) for s in out)

    def _check_shapes(self, input, state) -> None:
        """The checks of torch's cell kernels (RuntimeError)."""
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"{type(self).__name__}: input has inconsistent input_size: got "
                               f"{input.shape[1]} expected {self.input_size}")
        for i, s in enumerate(state):
            if s.shape[0] != input.shape[0]:
                raise RuntimeError(f"{type(self).__name__}: Input batch size {input.shape[0]} "
                                   f"doesn't match hidden{i} batch size {s.shape[0]}")
            if s.shape[1] != self.hidden_size:
                raise RuntimeError(f"{type(self).__name__}: hidden{i} has inconsistent "
                                   f"hidden_size: got {s.shape[1]}, expected {self.hidden_size}")


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (relu with nonlinearity='relu').

    forward(input, hx=None) -> h': input (N, input_size) or (input_size,), hx (N, hidden_size)
    or (hidden_size,), zeros if omitted.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"RNNCell: Unknown nonlinearity: {self.nonlinearity} (use "
                               f"'tanh' or 'relu')")
        step = _STEPS["RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"]
        return self._step(step, input, None if hx is None else (hx,), "hidden")[0]


class LSTMCell(RNNCellBase):
    """One LSTM step, gates in the order i, f, g, o:

        i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh)
        c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
        h' = sigmoid(o) * tanh(c')

    forward(input, (h, c)=None) -> (h', c').
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        state = None if hx is None else tuple(hx)
        return self._step(_lstm_step, input, state, "hx[0] hx[1]")


class GRUCell(RNNCellBase):
    """One GRU step, gates in the order r, z, n:

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    forward(input, hx=None) -> h'.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        return self._step(_gru_step, input, None if hx is None else (hx,), "hidden")[0]
