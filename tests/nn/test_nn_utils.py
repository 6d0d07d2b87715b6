"""chainrule.nn.utils vs torch.nn.utils: gradient clipping, parameters as a vector, and the
padding and packing of variable-length sequences, with gradients through them.

Clipping compares the returned norm and the clipped gradients to rtol 1e-12 in float64 (the
norms are sums in a different order); padding and packing move values without arithmetic, so
their outputs and gradients are compared exactly.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import utils
from chainrule.nn.utils import rnn
from tests._torch import torch

TU = torch.nn.utils
INF = float("inf")
rng = np.random.default_rng(7)
GRADS = [rng.standard_normal((3, 4)), rng.standard_normal(5), rng.standard_normal((2, 1, 2))]


def _lib(lib):
    return cr if lib == "cr" else torch


def _params_with_grads(lib, grads=GRADS, dtypes=None):
    mod = _lib(lib)
    ps = []
    for i, g in enumerate(grads):
        dt = None if dtypes is None else dtypes[i]
        p = mod.tensor(np.zeros((2,) if g is None else g.shape), dtype=dt, requires_grad=True)
        if g is not None:
            p.grad = mod.tensor(g, dtype=dt)
        ps.append(p)
    return ps


def _np(t):
    return t.detach().numpy()


# ---------------------------------------------------------------------------------- clipping
@pytest.mark.parametrize("norm_type", [0.5, 1, 2, 3.0, INF, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _params_with_grads("cr"), _params_with_grads("torch")
    grads = [p.grad for p in ours]
    n = utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    tn = TU.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(n, cr.Tensor) and n.shape == () and repr(n.dtype) == repr(tn.dtype)
    np.testing.assert_allclose(n.item(), tn.item(), rtol=1e-12)
    for p, q, g in zip(ours, theirs, grads):
        assert p.grad is g                      # scaled in place
        np.testing.assert_allclose(_np(p.grad), _np(q.grad), rtol=1e-12)
    clipped = max_norm < n.item()
    assert clipped == (not np.array_equal(_np(ours[0].grad), GRADS[0]))


def test_clip_grad_norm_float32_mixed_dtypes_and_params_without_grad():
    dts = ["float32", "float64", "float32"]
    ours = _params_with_grads("cr", GRADS[:2] + [None], [getattr(cr, d) for d in dts])
    theirs = _params_with_grads("torch", GRADS[:2] + [None], [getattr(torch, d) for d in dts])
    n = utils.clip_grad_norm_(iter(ours), 0.3)
    tn = TU.clip_grad_norm_(iter(theirs), 0.3)
    assert repr(n.dtype) == repr(tn.dtype) == "torch.float64"
    np.testing.assert_allclose(n.item(), tn.item(), rtol=1e-7)
    for p, q in zip(ours[:2], theirs[:2]):
        assert repr(p.grad.dtype) == repr(q.grad.dtype)
        np.testing.assert_allclose(_np(p.grad), _np(q.grad), rtol=1e-6)
    assert ours[2].grad is None


def test_clip_grad_norm_single_tensor_foreach_and_no_graph():
    for foreach in (None, True, False):
        p = cr.tensor(GRADS[0].copy(), requires_grad=True)
        p.grad = cr.tensor(GRADS[0] * 10)
        version = p.grad._version[0]
        n = utils.clip_grad_norm_(p, 1.0, foreach=foreach)
        t = torch.tensor(GRADS[0].copy(), requires_grad=True)
        t.grad = torch.tensor(GRADS[0] * 10)
        tn = TU.clip_grad_norm_(t, 1.0, foreach=foreach)
        np.testing.assert_allclose(n.item(), tn.item(), rtol=1e-12)
        np.testing.assert_allclose(_np(p.grad), _np(t.grad), rtol=1e-12)
        assert p.grad._version[0] > version and n.grad_fn is None and not n.requires_grad


def test_non_finite_norm_raises_or_scales_like_torch():
    bad = [GRADS[0].copy(), GRADS[1]]
    bad[0][1, 2] = np.inf
    for lib, mod in (("cr", utils), ("torch", TU)):
        with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from "
                                               "`parameters` is non-finite"):
            mod.clip_grad_norm_(_params_with_grads(lib, bad), 1.0, error_if_nonfinite=True)
    ours, theirs = _params_with_grads("cr", bad), _params_with_grads("torch", bad)
    assert utils.clip_grad_norm_(ours, 1.0).item() == INF
    TU.clip_grad_norm_(theirs, 1.0)
    for p, q in zip(ours, theirs):   # inf * 0 gives nan where torch has nan
        np.testing.assert_array_equal(_np(p.grad), _np(q.grad))


def test_empty_inputs_and_the_deprecated_name():
    assert utils.clip_grad_norm_([], 1.0).item() == 0.0
    with pytest.warns(UserWarning, match="`parameters` is an empty generator"):
        utils.clip_grad_norm_((p for p in []), 1.0)
    with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated"):
        n = utils.clip_grad_norm(_params_with_grads("cr"), 1.0)
    tn = TU.get_total_norm([torch.tensor(g) for g in GRADS])
    assert n.item() == pytest.approx(tn.item(), rel=1e-12)
    assert utils.get_total_norm([]).item() == 0.0


def test_get_total_norm_and_clip_grads_with_norm():
    gs = [cr.tensor(g) for g in GRADS]
    total = utils.get_total_norm(gs, norm_type=3)
    assert total.item() == pytest.approx(np.sum(np.abs(np.concatenate(
        [g.ravel() for g in GRADS])) ** 3) ** (1 / 3), rel=1e-12)
    ours = _params_with_grads("cr")
    utils.clip_grads_with_norm_(ours, 0.5, total)
    theirs = _params_with_grads("torch")
    TU.clip_grads_with_norm_(theirs, 0.5, torch.tensor(total.item(), dtype=torch.float64))
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(_np(p.grad), _np(q.grad))


@pytest.mark.parametrize("clip", [0.3, 1, 10.0])
def test_clip_grad_value_matches_torch(clip):
    ours, theirs = _params_with_grads("cr"), _params_with_grads("torch")
    grads = [p.grad for p in ours]
    assert utils.clip_grad_value_(ours, clip) is None
    TU.clip_grad_value_(theirs, clip, foreach=True)
    for p, q, g in zip(ours, theirs, grads):
        assert p.grad is g
        np.testing.assert_array_equal(_np(p.grad), _np(q.grad))
    assert max(np.abs(_np(p.grad)).max() for p in ours) <= clip


# ---------------------------------------------------------------------------------- vectors
def test_parameters_to_vector_and_back_like_torch():
    res = {}
    for lib in ("cr", "torch"):
        mod = _lib(lib)
        ps = [mod.tensor(g, requires_grad=True) for g in GRADS]
        vec = (utils if lib == "cr" else TU).parameters_to_vector(ps)
        (vec * mod.arange(vec.numel(), dtype=mod.float64)).sum().backward()
        new = mod.arange(float(vec.numel()), dtype=mod.float64) * 0.5
        (utils if lib == "cr" else TU).vector_to_parameters(new, ps)
        res[lib] = [_np(vec)] + [_np(p.grad) for p in ps] + [_np(p) for p in ps]
        assert all(p.requires_grad and p.is_leaf for p in ps)
        assert [tuple(p.shape) for p in ps] == [g.shape for g in GRADS]
    for a, b in zip(res["cr"], res["torch"]):
        np.testing.assert_array_equal(a, b)


def test_vector_to_parameters_shares_the_vector_and_checks_its_type():
    p = cr.zeros(2, 2, requires_grad=True)
    vec = cr.arange(4.0)
    utils.vector_to_parameters(vec, [p])
    vec[0] = 9.0
    assert p[0, 0].item() == 9.0               # as torch: the parameter views the vector
    for lib, mod in (("cr", utils), ("torch", TU)):
        ps = [_lib(lib).zeros(2)]
        with pytest.raises(TypeError) as e:
            mod.vector_to_parameters([1.0, 2.0], ps)
        assert str(e.value) == "expected torch.Tensor, but got: list"
        with pytest.raises(TypeError, match="numpy.ndarray"):
            mod.vector_to_parameters(np.zeros(2), ps)


# ---------------------------------------------------------------------------------- padding
LENGTHS = [3, 5, 1, 5]


def _seqs(lib, trailing=(2,), lengths=LENGTHS, seed=0):
    r = np.random.default_rng(seed)
    mod = _lib(lib)
    return [mod.tensor(r.standard_normal((n, *trailing)), requires_grad=True) for n in lengths]


def _weights(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(tuple(shape))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("trailing", [(), (2, 3)])
def test_pad_sequence_values_and_gradients_match_torch(batch_first, padding_side, trailing):
    res = {}
    for lib, mod in (("cr", rnn), ("torch", TU.rnn)):
        seqs = _seqs(lib, trailing)
        out = mod.pad_sequence(seqs, batch_first=batch_first, padding_value=-2.5,
                               padding_side=padding_side)
        (out * _lib(lib).tensor(_weights(out.shape))).sum().backward()
        res[lib] = [_np(out)] + [_np(s.grad) for s in seqs]
    for a, b in zip(res["cr"], res["torch"]):
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_pad_sequence_dtype_tensor_input_and_errors_like_torch():
    a, b = cr.ones(3, 2), cr.ones(2, 2, dtype=cr.float64)
    assert rnn.pad_sequence([a, b]).dtype == cr.float32            # the first one's
    assert rnn.pad_sequence([b, a]).dtype == cr.float64
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(_np(rnn.pad_sequence(cr.tensor(x))),
                                  _np(TU.rnn.pad_sequence(torch.tensor(x))))
    for lib, mod in (("cr", rnn), ("torch", TU.rnn)):
        t = _lib(lib)
        with pytest.raises(RuntimeError, match="received an empty list of sequences"):
            mod.pad_sequence([])
        with pytest.raises(RuntimeError, match="Expected padding_side to be one of left or "
                                               "right, but got middle."):
            mod.pad_sequence([t.ones(2)], padding_side="middle")
        with pytest.raises(RuntimeError, match="Expected iterable for input sequences"):
            mod.pad_sequence(5)
        with pytest.raises(RuntimeError):
            mod.pad_sequence([t.ones(3, 2), t.ones(2, 3)])
    with pytest.raises(RuntimeError, match=r"sequence 1 has shape \[2, 3\]"):
        rnn.pad_sequence([cr.ones(3, 2), cr.ones(2, 3)])


# ---------------------------------------------------------------------------------- packing
def _padded(lib, lengths, batch_first, seed=3):
    data = np.random.default_rng(seed).standard_normal((max(lengths), len(lengths), 2))
    if batch_first:
        data = data.transpose(1, 0, 2).copy()
    return _lib(lib).tensor(data, requires_grad=True)


def _same_packed(p, q):
    np.testing.assert_array_equal(_np(p.data), _np(q.data))
    for a, b in zip(p[1:], q[1:]):
        if b is None:
            assert a is None
        else:
            assert repr(a.dtype) == repr(b.dtype) == "torch.int64"
            np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce_sorted", [
    ([5, 4, 4, 2, 1], True), ([2, 5, 1, 4, 4], False), ([5, 4, 4, 2, 1], False)])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_pack_and_pad_packed_match_torch_with_gradients(batch_first, lengths, enforce_sorted,
                                                        as_tensor):
    res = {}
    for lib, mod in (("cr", rnn), ("torch", TU.rnn)):
        t = _lib(lib)
        x = _padded(lib, lengths, batch_first)
        ls = t.tensor(lengths) if as_tensor else lengths
        packed = mod.pack_padded_sequence(x, ls, batch_first=batch_first,
                                          enforce_sorted=enforce_sorted)
        out, out_lengths = mod.pad_packed_sequence(packed, batch_first=batch_first,
                                                   padding_value=7.0, total_length=6)
        loss = (packed.data * t.tensor(_weights(packed.data.shape))).sum() \
            + (out * t.tensor(_weights(out.shape, seed=2))).sum()
        loss.backward()
        res[lib] = packed, out, out_lengths, x.grad
    (p, out, n, g), (tp, tout, tn, tg) = res["cr"], res["torch"]
    _same_packed(p, tp)
    assert out.shape == tout.shape
    np.testing.assert_array_equal(_np(out), _np(tout))
    assert repr(n.dtype) == "torch.int64" and n.tolist() == tn.tolist() == lengths
    np.testing.assert_array_equal(_np(g), _np(tg))


def test_pack_sequence_unpack_unpad_and_invert_permutation_like_torch():
    ours = rnn.pack_sequence(_seqs("cr"), enforce_sorted=False)
    theirs = TU.rnn.pack_sequence(_seqs("torch"), enforce_sorted=False)
    _same_packed(ours, theirs)
    for a, b in zip(rnn.unpack_sequence(ours), TU.rnn.unpack_sequence(theirs)):
        np.testing.assert_array_equal(_np(a), _np(b))
    padded = rnn.pad_sequence(_seqs("cr"))
    before = _np(padded).copy()
    pieces = rnn.unpad_sequence(padded, cr.tensor(LENGTHS))
    np.testing.assert_array_equal(_np(padded), before)   # the input is left as it is
    for a, b in zip(pieces, _seqs("cr")):
        np.testing.assert_array_equal(_np(a), _np(b))
    perm = [2, 0, 3, 1]
    assert rnn.invert_permutation(cr.tensor(perm)).tolist() == \
        TU.rnn.invert_permutation(torch.tensor(perm)).tolist()
    assert rnn.invert_permutation(None) is None


def test_packing_errors_like_torch():
    for lib, mod in (("cr", rnn), ("torch", TU.rnn)):
        x = _lib(lib).ones(4, 3, 2)
        with pytest.raises(RuntimeError, match="must be sorted in decreasing order when "
                                               "`enforce_sorted` is True"):
            mod.pack_padded_sequence(x, [2, 3, 1])
        with pytest.raises(RuntimeError, match="Length of all samples has to be greater "
                                               "than 0"):
            mod.pack_padded_sequence(x, [3, 2, 0])
        with pytest.raises(RuntimeError, match=r"Expected `len\(lengths\)` to be equal to "
                                               r"batch_size, but got 2 \(batch_size=3\)"):
            mod.pack_padded_sequence(x, [3, 2])
        with pytest.raises(RuntimeError, match="'lengths' argument should be a 1D CPU int64 "
                                               "tensor, but got 2D"):
            mod.pack_padded_sequence(x, [[3, 2, 1]])
        packed = mod.pack_padded_sequence(x, [3, 2, 1])
        with pytest.raises(ValueError, match="Expected total_length to be at least the length "
                                             "of the longest sequence in input, but got "
                                             "total_length=2 and max sequence length being 3"):
            mod.pad_packed_sequence(packed, total_length=2)
    with pytest.raises(RuntimeError, match="a sequence length of 5 exceeds the input's 4 time"):
        rnn.pack_padded_sequence(cr.ones(4, 3, 2), [5, 2, 1])   # torch reads past the end
    with pytest.raises(IndexError, match="needs a time and a batch dimension"):
        rnn.pack_padded_sequence(cr.ones(4), [3])


def test_packed_sequence_is_torch_s_named_tuple():
    packed = rnn.pack_padded_sequence(_padded("cr", [3, 2], False), [3, 2])
    assert isinstance(packed, tuple) and packed._fields == TU.rnn.PackedSequence._fields
    assert packed.sorted_indices is None and packed.unsorted_indices is None
    again = rnn.PackedSequence((packed.data, packed.batch_sizes))
    assert again.data is packed.data and again.batch_sizes is packed.batch_sizes
    sorted_ = rnn.PackedSequence(packed.data, packed.batch_sizes, cr.tensor([1, 0]))
    assert sorted_.unsorted_indices.tolist() == [1, 0]
    as32 = sorted_.float()
    assert as32.data.dtype == cr.float32 and as32.batch_sizes is packed.batch_sizes
    assert sorted_.double() is sorted_          # already float64: torch returns it as is
    assert as32.double().data.dtype == cr.float64
    assert as32.to(cr.float64).sorted_indices is sorted_.sorted_indices
    assert not packed.is_cuda and packed.cpu() is packed
    with pytest.raises(RuntimeError, match="CPU only"):
        packed.cuda()


def test_nn_utils_is_reachable_as_torch_s():
    import chainrule.nn.utils.rnn as rnn_module

    assert cr.nn.utils is utils and cr.nn.utils.rnn is rnn_module
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert callable(cr.nn.utils.clip_grad_norm_)
    for name in ("clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
                 "vector_to_parameters", "get_total_norm", "clip_grads_with_norm_"):
        assert hasattr(TU, name) and hasattr(utils, name)
    for name in TU.rnn.__all__:
        assert hasattr(rnn, name), name
