"""PyTorch's arguments of the factories, load and DataLoader are named and checked: a value
that means what chainrule does anyway is accepted (with PyTorch's result), any other raises
naming the argument. Nothing is swallowed by a `**kwargs`."""

import inspect
import io
import warnings

import numpy as np
import pytest

import chainrule
from chainrule.utils.data import DataLoader, RandomSampler, TensorDataset
from tests._torch import torch


@pytest.mark.parametrize("name", ["empty", "zeros", "ones", "zeros_like", "ones_like",
                                  "empty_like", "load"])
def test_no_catch_all_keyword_arguments_where_torch_has_none(name):
    fn = chainrule.load if name == "load" else getattr(chainrule, name)
    kinds = {p.name: p.kind for p in inspect.signature(fn).parameters.values()}
    extra = [n for n, k in kinds.items() if k is inspect.Parameter.VAR_KEYWORD]
    assert extra in ([], ["pickle_load_args"])  # load's is torch's own, and it raises


def test_dataloader_signature_is_torchs():
    ours = inspect.signature(chainrule.utils.data.DataLoader.__init__).parameters
    theirs = inspect.signature(torch.utils.data.DataLoader.__init__).parameters
    assert list(ours) == list(theirs)


ACCEPTED = [
    "torch.empty(2, 3, layout=torch.strided)",
    "torch.empty(2, memory_format=torch.contiguous_format)",
    "torch.empty(2, pin_memory=False)",
    "torch.zeros(2, layout=torch.strided)",
    "torch.ones(2, layout=torch.strided)",
    "torch.zeros_like(torch.ones(2, 3), memory_format=torch.preserve_format)",
    "torch.ones_like(torch.ones(2, 3), memory_format=torch.contiguous_format, "
    "layout=torch.strided)",
    "torch.empty_like(torch.ones(2, 3), memory_format=torch.preserve_format, pin_memory=False)",
]


@pytest.mark.parametrize("code", ACCEPTED)
def test_values_chainrule_honours_give_torchs_result(code):
    ours = eval(code, {"torch": chainrule})
    theirs = eval(code, {"torch": torch})
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype)
    if "empty" not in code:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


REFUSED = [
    ("torch.empty(2, pin_memory=True)", RuntimeError, "pin_memory=True"),
    ("torch.tensor([1.0], pin_memory=True)", RuntimeError, "pin_memory=True"),
    ("torch.empty(2, memory_format=torch.preserve_format)", RuntimeError, "Preserve"),
    ("torch.empty(2, layout=torch.sparse_coo)", NotImplementedError, "layout=torch.sparse_coo"),
    ("torch.zeros(2, layout=torch.sparse_coo)", NotImplementedError, "layout="),
    ("torch.empty(1, 2, 2, 2, memory_format=torch.channels_last)", NotImplementedError,
     "memory_format=torch.channels_last"),
    ("torch.zeros_like(torch.ones(1, 2, 2, 2), memory_format=torch.channels_last)",
     NotImplementedError, "memory_format=torch.channels_last"),
    ("torch.empty_like(torch.ones(2), layout=torch.sparse_coo)", NotImplementedError,
     "layout="),
]


@pytest.mark.parametrize("code,error,match", REFUSED)
def test_values_chainrule_cannot_honour_raise_naming_them(code, error, match):
    with pytest.raises(error, match=match):
        eval(code, {"torch": chainrule})


def test_out_of_a_factory_is_written_and_returned():
    for t in (torch, chainrule):
        same = t.ones(2, 3)
        assert t.zeros(2, 3, out=same) is same
        resized = t.ones(5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns when it resizes a non-empty out
            t.ones(2, 2, out=resized)
        ints = t.full((3,), 7)
        t.zeros(3, out=ints)
        assert same.tolist() == [[0.0] * 3] * 2
        assert resized.tolist() == [[1.0, 1.0], [1.0, 1.0]]
        assert ints.tolist() == [0, 0, 0] and str(ints.dtype) == "torch.int64"


def test_out_with_another_dtype_or_requiring_grad_raises():
    with pytest.raises(RuntimeError, match="does not match dtype of out"):
        chainrule.zeros(2, out=chainrule.ones(2, dtype=chainrule.int64), dtype=chainrule.float32)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        chainrule.zeros(2, out=chainrule.ones(2, requires_grad=True))


# --- load ---

def _saved() -> io.BytesIO:
    buf = io.BytesIO()
    chainrule.save({"w": chainrule.arange(3.0)}, buf)
    buf.seek(0)
    return buf


@pytest.mark.parametrize("map_location", [None, "cpu", "cpu:0", chainrule.device("cpu"),
                                          {"cuda:0": "cpu"}])
def test_load_accepts_cpu_map_locations(map_location):
    assert chainrule.load(_saved(), map_location=map_location)["w"].tolist() == [0, 1, 2]


def test_load_calls_a_map_location_function_as_torch_does():
    seen = []

    def relocate(storage, location):
        seen.append(location)
        return storage

    assert chainrule.load(_saved(), map_location=relocate)["w"].tolist() == [0, 1, 2]
    assert seen == ["cpu"]


@pytest.mark.parametrize("weights_only", [None, True, False])
def test_load_weights_only_any_value(weights_only):
    assert chainrule.load(_saved(), weights_only=weights_only)["w"].shape == (3,)


@pytest.mark.parametrize("kwargs,error,match", [
    ({"map_location": "cuda"}, RuntimeError, "'cuda' is not available"),
    ({"map_location": {"cpu": "cuda:0"}}, RuntimeError, "'cuda:0'"),
    ({"mmap": True}, NotImplementedError, "mmap=True"),
    ({"pickle_module": io}, NotImplementedError, "pickle_module="),
    ({"encoding": "latin1"}, NotImplementedError, "encoding"),
])
def test_load_refuses_what_it_cannot_honour(kwargs, error, match):
    with pytest.raises(error, match=match):
        chainrule.load(_saved(), **kwargs)


# --- DataLoader ---

def _data(t):
    return t.utils.data.TensorDataset(t.arange(10.0))


BAD_LOADER = [
    {"num_workers": -1},
    {"timeout": -1},
    {"prefetch_factor": 2},
    {"persistent_workers": True},
    {"multiprocessing_context": "spawn"},
    {"num_workers": 2, "prefetch_factor": -1},
]


@pytest.mark.parametrize("kwargs", BAD_LOADER, ids=[str(k) for k in BAD_LOADER])
def test_dataloader_worker_options_checked_as_torch(kwargs):
    with pytest.raises(ValueError) as theirs:
        torch.utils.data.DataLoader(_data(torch), **kwargs)
    with pytest.raises(ValueError) as ours:
        DataLoader(_data(chainrule), **kwargs)
    assert str(ours.value).split()[:2] == str(theirs.value).split()[:2]


GOOD_LOADER = [
    {"num_workers": 2, "batch_size": 3},
    {"num_workers": 2, "prefetch_factor": 4, "persistent_workers": True, "timeout": 5},
    {"num_workers": 1, "multiprocessing_context": "spawn", "in_order": False},
    {"batch_size": 4, "drop_last": True},
]


@pytest.mark.parametrize("kwargs", GOOD_LOADER, ids=[str(k) for k in GOOD_LOADER])
def test_dataloader_with_workers_gives_torchs_batches(kwargs):
    theirs = [b[0].tolist() for b in torch.utils.data.DataLoader(_data(torch), **kwargs)]
    ours = [b[0].tolist() for b in DataLoader(_data(chainrule), **kwargs)]
    assert ours == theirs


def test_dataloader_pin_memory_warns_as_torch():
    with pytest.warns(UserWarning, match="no accelerator is found"):
        loader = DataLoader(_data(chainrule), pin_memory=True)
    assert len(list(loader)) == 10


def test_dataloader_module_paths():
    from chainrule.utils.data import dataloader, dataset, sampler

    assert dataloader.DataLoader is DataLoader
    assert dataloader.default_collate is chainrule.utils.data.default_collate
    assert dataset.TensorDataset is TensorDataset
    assert sampler.RandomSampler is RandomSampler


# --- RandomSampler draws lazily ---

def test_random_sampler_with_huge_num_samples_starts_at_once():
    sampler = RandomSampler(range(5), replacement=True, num_samples=10**10)
    loader = DataLoader(range(5), batch_size=4, sampler=sampler)
    it = iter(loader)
    first = [next(it) for _ in range(3)]  # would need 74 GiB if drawn up front
    assert len(loader) == 10**10 // 4
    assert all(0 <= int(v) < 5 for b in first for v in b.tolist())


def test_random_sampler_without_replacement_chains_permutations_lazily():
    sampler = RandomSampler(range(4), num_samples=10**12)
    it = iter(sampler)
    drawn = [next(it) for _ in range(12)]
    for k in range(3):
        assert sorted(drawn[4 * k:4 * k + 4]) == [0, 1, 2, 3]


def test_random_sampler_stream_is_the_seeded_one():
    # small cases: the same indices as one draw of num_samples from the seeded generator
    from chainrule.random import numpy_rng

    g = chainrule.Generator().manual_seed(3)
    expected = numpy_rng(chainrule.Generator().manual_seed(3)).integers(0, 7, 50).tolist()
    assert list(RandomSampler(range(7), True, 50, generator=g)) == expected
    g = chainrule.Generator().manual_seed(3)
    rng = numpy_rng(chainrule.Generator().manual_seed(3))
    expected = rng.permutation(7).tolist() + rng.permutation(7)[:3].tolist()
    assert list(RandomSampler(range(7), num_samples=10, generator=g)) == expected


def test_random_sampler_lengths_and_empty_dataset():
    assert len(list(RandomSampler(range(3), True, 2500))) == 2500
    with pytest.raises(ValueError, match="num_samples=0"):
        RandomSampler(range(0))
    with pytest.raises(ValueError, match="num_samples=0"):
        torch.utils.data.RandomSampler(range(0))
