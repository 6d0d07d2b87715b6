"""IterableDataset, ChainDataset and get_worker_info, against torch.utils.data."""

import pytest

import chainrule
from tests._torch import torch


def _stream(t, n=7, with_len=False):
    class Numbers(t.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(n))

    if with_len:
        Numbers.__len__ = lambda self: n
    return Numbers()


def _batches(t, **kwargs):
    loader = t.utils.data.DataLoader(_stream(t, with_len=True), **kwargs)
    return [b.tolist() if hasattr(b, "tolist") else b for b in loader], len(loader)


@pytest.mark.parametrize("kwargs", [{}, {"batch_size": 3}, {"batch_size": 3, "drop_last": True},
                                    {"batch_size": None}, {"batch_size": 7},
                                    {"shuffle": False, "batch_size": 2}])
def test_loader_batches_a_stream_as_torch(kwargs):
    assert _batches(chainrule, **kwargs) == _batches(torch, **kwargs)


@pytest.mark.parametrize("kwargs", [{"shuffle": True}, {"sampler": [0]},
                                    {"batch_sampler": [[0]]}])
def test_orderings_are_refused_as_torch(kwargs):
    with pytest.raises(ValueError) as theirs:
        torch.utils.data.DataLoader(_stream(torch), **kwargs)
    with pytest.raises(ValueError) as ours:
        chainrule.utils.data.DataLoader(_stream(chainrule), **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_length_of_a_stream_without_len_is_a_type_error():
    with pytest.raises(TypeError):
        len(torch.utils.data.DataLoader(_stream(torch), batch_size=2))
    with pytest.raises(TypeError, match="has no len"):
        len(chainrule.utils.data.DataLoader(_stream(chainrule), batch_size=2))


def test_adding_streams_chains_them():
    for t in (torch, chainrule):
        chained = _stream(t, 3) + _stream(t, 2, with_len=True)
        assert isinstance(chained, t.utils.data.ChainDataset)
        assert list(chained) == [0, 1, 2, 0, 1]
    with pytest.raises(TypeError, match="only supports IterableDataset"):
        list(chainrule.utils.data.ChainDataset([chainrule.utils.data.TensorDataset(
            chainrule.ones(2))]))


def test_get_worker_info_is_none_in_the_main_process():
    assert chainrule.utils.data.get_worker_info() is torch.utils.data.get_worker_info() is None


def test_worker_init_fn_with_workers_warns_that_it_is_not_called():
    ds = chainrule.utils.data.TensorDataset(chainrule.arange(4))
    calls = []
    with pytest.warns(UserWarning, match="worker_init_fn is not called"):
        loader = chainrule.utils.data.DataLoader(ds, num_workers=2, worker_init_fn=calls.append)
    assert len(list(loader)) == 4 and calls == []
