"""chainrule.save / load: safetensors + JSON, atomic, never pickle; interchange with PyTorch."""

import math
import os
import pickle

import numpy as np
import pytest

import chainrule as cr
from tests._torch import torch


def _state():
    return {
        "fc1.weight": cr.randn(4, 3),
        "fc1.bias": cr.zeros(4, dtype=cr.float64),
        "steps": cr.tensor(7),
        "mask": cr.tensor([True, False]),
    }


def test_round_trip_state_dict(tmp_path):
    sd = _state()
    path = tmp_path / "model.safetensors"
    cr.save(sd, path)
    back = cr.load(path)
    assert list(back) == list(sd)
    for k in sd:
        assert back[k].dtype == sd[k].dtype
        assert np.array_equal(back[k].numpy(), sd[k].numpy())
    back["fc1.weight"].add_(1.0)  # loaded tensors are writable


def test_nested_optimizer_like_state(tmp_path):
    obj = {"state": {0: {"step": cr.tensor(3.0), "exp_avg": cr.ones(2)}, 1: {}},
           "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "params": [0, 1],
                             "name": "g", "nesterov": False, "x": None, "inf": math.inf}]}
    cr.save(obj, tmp_path / "opt.st")
    back = cr.load(tmp_path / "opt.st")
    assert list(back["state"]) == [0, 1]  # int keys survive
    assert back["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["param_groups"][0]["params"] == [0, 1]
    assert back["param_groups"][0]["inf"] == math.inf and back["param_groups"][0]["x"] is None
    assert back["state"][0]["exp_avg"].tolist() == [1.0, 1.0]


def test_files_interchange_with_pytorch(tmp_path):
    from safetensors.torch import load_file, save_file

    sd = _state()
    cr.save(sd, tmp_path / "a.safetensors")
    theirs = load_file(str(tmp_path / "a.safetensors"))
    for k in sd:
        assert np.array_equal(theirs[k].numpy(), sd[k].numpy())
    save_file({"w": torch.arange(6.0).reshape(2, 3), "b": torch.ones(3, dtype=torch.float64)},
              str(tmp_path / "b.safetensors"))
    ours = cr.load(tmp_path / "b.safetensors")
    assert ours["w"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert ours["b"].dtype == cr.float64


def test_pickle_is_refused_and_not_executed(tmp_path):
    class Boom:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(Boom(), protocol=2))
    with pytest.raises(ValueError, match="pickle"):
        cr.load(path)
    assert not (tmp_path / "pwned").exists()
    torch.save({"w": torch.ones(2)}, str(tmp_path / "torch.pt"))
    with pytest.raises(ValueError, match="never unpickles"):
        cr.load(tmp_path / "torch.pt")


def test_truncated_and_garbage_files(tmp_path):
    cr.save(_state(), tmp_path / "ok.st")
    data = (tmp_path / "ok.st").read_bytes()
    (tmp_path / "cut.st").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated|not a valid"):
        cr.load(tmp_path / "cut.st")
    (tmp_path / "junk.st").write_bytes(b"hello world, not a tensor file at all")
    with pytest.raises(ValueError, match="not a valid safetensors"):
        cr.load(tmp_path / "junk.st")
    (tmp_path / "tiny.st").write_bytes(b"abc")
    with pytest.raises(ValueError, match="too short"):
        cr.load(tmp_path / "tiny.st")


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "m.st"
    cr.save({"a": cr.ones(2)}, path)
    before = path.read_bytes()

    def fail(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        cr.save({"a": cr.zeros(2)}, path)
    assert path.read_bytes() == before  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["m.st"]  # no temp file left


def test_unsupported_objects_raise_clear_errors(tmp_path):
    with pytest.raises(TypeError, match="can't store a object"):
        cr.save({"x": object()}, tmp_path / "x.st")
    with pytest.raises(TypeError, match="NumPy array"):
        cr.save({"x": np.ones(2)}, tmp_path / "x.st")
    assert not (tmp_path / "x.st").exists()
