"""utils.data: datasets, samplers, DataLoader - torch's semantics, reproducible under a seed."""

import pytest

import chainrule as cr
from chainrule.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def _ds(n=10):
    return TensorDataset(cr.arange(n * 2.0).reshape(n, 2), cr.arange(n))


def test_tensor_dataset_indexing_and_errors():
    ds = _ds()
    x, y = ds[3]
    assert x.tolist() == [6.0, 7.0] and y.item() == 3 and len(ds) == 10
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(cr.ones(3, 2), cr.ones(4))
    with pytest.raises(TypeError, match="expected a Tensor"):
        TensorDataset([1, 2, 3])


def test_loader_batches_in_order_and_drop_last():
    batches = list(DataLoader(_ds(), batch_size=4))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert batches[0][1].tolist() == [0, 1, 2, 3]
    assert batches[0][0].shape == (4, 2)
    assert len(DataLoader(_ds(), batch_size=4)) == 3
    assert [len(b[1]) for b in DataLoader(_ds(), batch_size=4, drop_last=True)] == [4, 4]
    assert len(DataLoader(_ds(), batch_size=4, drop_last=True)) == 2


def test_shuffle_is_a_permutation_and_reproducible():
    def order(seed):
        g = cr.Generator().manual_seed(seed)
        return [i for _, y in DataLoader(_ds(), batch_size=3, shuffle=True, generator=g)
                for i in y.tolist()]

    a, b, c = order(1), order(1), order(2)
    assert sorted(a) == list(range(10)) and a == b and a != c
    loader = DataLoader(_ds(), batch_size=10, shuffle=True, generator=cr.Generator().manual_seed(0))
    e1, e2 = [next(iter(loader))[1].tolist() for _ in range(2)]
    assert e1 != e2  # a new order every epoch


def test_custom_dataset_collate_and_sampler():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": cr.tensor([float(i)]), "y": i * i, "name": f"s{i}"}

    batch = next(iter(DataLoader(Squares(), batch_size=3)))
    assert batch["x"].shape == (3, 1) and batch["y"].tolist() == [0, 1, 4]
    assert batch["name"] == ["s0", "s1", "s2"]
    got = list(DataLoader(Squares(), sampler=[4, 0], batch_size=1, collate_fn=lambda b: b))
    assert [b[0]["y"] for b in got] == [16, 0]
    assert default_collate([1.5, 2.5]).dtype == cr.float64


def test_subset_concat_random_split():
    ds = _ds()
    sub = Subset(ds, [9, 0])
    assert sub[0][1].item() == 9 and len(sub) == 2
    both = ds + sub
    assert isinstance(both, ConcatDataset) and len(both) == 12 and both[11][1].item() == 0
    with pytest.raises(IndexError):
        both[12]
    parts = random_split(ds, [7, 3], generator=cr.Generator().manual_seed(0))
    idx = sorted(parts[0].indices + parts[1].indices)
    assert idx == list(range(10)) and len(parts[0]) == 7
    assert [len(p) for p in random_split(ds, [0.5, 0.5])] == [5, 5]
    with pytest.raises(ValueError, match="sum of input lengths"):
        random_split(ds, [3, 3])


def test_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(_ds(), batch_size=0)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(_ds(), sampler=SequentialSampler(_ds()), shuffle=True)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(_ds(), batch_sampler=BatchSampler(range(10), 2, False), batch_size=4)
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]
