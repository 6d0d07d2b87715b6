"""Variable-length sequences for recurrent networks (torch.nn.utils.rnn).

A batch of sequences of different lengths is kept either *padded*, a (T, B, *) tensor
((B, T, *) with batch_first) with filler after each sequence's end, or *packed*: a
PackedSequence whose `data` stacks, time step by time step, the entries of the sequences
still running at that step, longest sequence first:

    lengths 3, 2, 1  ->  data = [a0 b0 c0 | a1 b1 | a2],  batch_sizes = [3, 2, 1]

so an RNN can run step t on data rows of size batch_sizes[t] with no filler. Sequences that
are not sorted by decreasing length are sorted first (enforce_sorted=False): sorted_indices
is that order and unsorted_indices its inverse, which pad_packed_sequence applies to restore
the caller's order. Every function is a gather (one indexing op) on the input, so gradients
flow back to the sequences.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from chainrule import dtypes
from chainrule.creation import full, tensor
from chainrule.functions import cat, sort
from chainrule.tensor import Tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """(data, batch_sizes, sorted_indices, unsorted_indices), laid out as torch's.

    data: (sum of lengths, *) rows, time-major; batch_sizes: int64, the number of sequences
    running at each time step; sorted_indices: the batch order used (None: already sorted);
    unsorted_indices: its inverse. Made by pack_padded_sequence / pack_sequence.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:   # PackedSequence((data, batch_sizes)), as torch allows
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """data.to(...); the index tensors stay int64."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self) -> PackedSequence:
        return self

    def cuda(self, *args, **kwargs) -> PackedSequence:
        return self.to("cuda", *args, **kwargs)

    def double(self) -> PackedSequence:
        return self.to(dtype=dtypes.float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=dtypes.float32)

    def half(self) -> PackedSequence:
        return self.to(dtype=dtypes.float16)

    def long(self) -> PackedSequence:
        return self.to(dtype=dtypes.int64)

    def int(self) -> PackedSequence:
        return self.to(dtype=dtypes.int32)

    def short(self) -> PackedSequence:
        return self.to(dtype=dtypes.int16)

    def char(self) -> PackedSequence:
        return self.to(dtype=dtypes.int8)

    def byte(self) -> PackedSequence:
        return self.to(dtype=dtypes.uint8)

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False


def _int64(a) -> Tensor:
    return tensor(np.asarray(a, dtype=np.int64))


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation q with q[permutation[i]] = i (None for None)."""
    if permutation is None:
        return None
    perm = permutation.array
    out = np.empty_like(perm)
    out[perm] = np.arange(perm.size, dtype=perm.dtype)
    return tensor(out)


def _gather(rows: list, index: np.ndarray, padding_value) -> Tensor:
    """cat(rows + [one filler row])[index]: index picks a row per output position, with
    len(concatenated rows) meaning the filler. One differentiable gather."""
    first = rows[0]
    filler = full((1, *first.shape[1:]), padding_value, dtype=first.dtype)
    return cat([*rows, filler])[tensor(index)]


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of shapes (L_i, *) into (max L, B, *) ((B, max L, *) if batch_first),
    filling with padding_value after each sequence (before it, if padding_side='left').
    The result has the first sequence's dtype, as in torch."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg "
                           f"of type: {type(sequences)}")
    sequences = tuple(sequences)
    if len(sequences) == 0:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    trailing = tuple(sequences[0].shape[1:])
    for i, s in enumerate(sequences):
        if s.dim() == 0 or tuple(s.shape[1:]) != trailing:
            raise RuntimeError(
                f"pad_sequence: every sequence needs the shape (length, *{list(trailing)}) of "
                f"the first; sequence {i} has shape {list(s.shape)}")
    dtype = sequences[0].dtype
    rows = [s if s.dtype == dtype else s.to(dtype) for s in sequences]
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    steps = np.arange(lengths.max(initial=0))[:, None]           # (T, 1)
    if padding_side == "right":
        index = np.where(steps < lengths, starts + steps, lengths.sum())
    else:
        offset = steps - (lengths.max(initial=0) - lengths)       # position inside each sequence
        index = np.where(offset >= 0, starts + offset, lengths.sum())
    return _gather(rows, index.T if batch_first else index, padding_value)


_UNSORTED = ("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
             "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
             "to sidestep this requirement if you do not need ONNX exportability.")


def _lengths(lengths) -> np.ndarray:
    """lengths (a list or a Tensor) as a 1-D int64 array, checked as torch does."""
    arr = np.asarray(lengths.array if isinstance(lengths, Tensor) else lengths).astype(np.int64)
    if arr.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                           f"{arr.ndim}D cpu Long tensor")
    return arr


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded (T, B, *) batch ((B, T, *) with batch_first) whose sequence b has
    lengths[b] valid steps. enforce_sorted=True requires lengths in decreasing order;
    otherwise the batch is sorted first and the order kept in sorted_indices."""
    lengths = _lengths(lengths)
    sorted_indices = None
    if not enforce_sorted:
        order = sort(_int64(lengths), descending=True)
        lengths, sorted_indices = order.values.array, order.indices
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if input.dim() < 2:
        raise IndexError(f"pack_padded_sequence: input needs a time and a batch dimension, "
                         f"got shape {list(input.shape)}")
    steps, batch = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    if lengths.size != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lengths.size} (batch_size={batch})")
    if lengths.size and lengths.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if np.any(np.diff(lengths) > 0):
        raise RuntimeError(_UNSORTED)
    if lengths.size and lengths[0] > steps:
        raise RuntimeError(f"pack_padded_sequence: a sequence length of {lengths[0]} exceeds "
                           f"the input's {steps} time steps")
    running = np.arange(lengths.max(initial=0))[:, None] < lengths   # (T, B): step t of b
    t_idx, b_idx = np.nonzero(running)                               # time-major order
    index = (tensor(b_idx), tensor(t_idx)) if batch_first else (tensor(t_idx), tensor(b_idx))
    return PackedSequence(input[index], _int64(running.sum(axis=1)), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    """The inverse of pack_padded_sequence: (padded, lengths), padded with padding_value to
    total_length steps (default: the longest sequence), in the caller's original order."""
    batch_sizes = sequence.batch_sizes.array
    max_seq_length = batch_sizes.size
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {max_seq_length}")
        max_seq_length = total_length
    batch = int(batch_sizes[0]) if batch_sizes.size else 0
    lengths = (batch_sizes[:, None] > np.arange(batch)).sum(axis=0)
    running = np.arange(max_seq_length)[:, None] < lengths
    index = np.full(running.shape, int(lengths.sum()), dtype=np.int64)
    index[running] = np.arange(int(lengths.sum()))
    if sequence.unsorted_indices is not None:
        order = sequence.unsorted_indices.array
        index, lengths = index[:, order], lengths[order]
    padded = _gather([sequence.data], index.T if batch_first else index, padding_value)
    return padded, _int64(lengths)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """pack_padded_sequence(pad_sequence(sequences), their lengths)."""
    lengths = [v.size(0) for v in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """The list of sequences, each cut to its length (the input is left as it is)."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:int(n)] for seq, n in zip(padded_sequences, _lengths(lengths))]


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences a PackedSequence holds, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
