"""chainrule.save / load: safetensors + JSON, atomic, never pickle; interchange with PyTorch."""

import io
import json
import math
import os
import pickle
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule.serialization import CheckpointError
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


# --- untrusted files: every malformed one raises CheckpointError naming the file ---

def _crafted(path, record, tensors=None):
    """A safetensors file whose chainrule structure record is `record` (a str or a JSON-able)."""
    from safetensors.numpy import save_file

    text = record if isinstance(record, str) else json.dumps(record)
    save_file(tensors if tensors is not None else {"w": np.ones(2, np.float32)}, str(path),
              metadata={"chainrule": text, "format": "pt"})
    return path


def _record(structure, fmt=1):
    return {"format": fmt, "structure": structure}


CRAFTED = {  # each crafted record, what a reader without checks raises on it, the fault named
    "dict of an int": (_record({"__dict__": 5}), "not a list"),  # 'int' is not iterable
    "short dict item": (_record({"__dict__": [[1]]}), "not a \\[key, value\\] pair"),
    "list as a key": (_record({"__dict__": [[[1], 2]]}), "list as its key"),  # unhashable
    "unknown dtype": (_record({"__dtype__": "float1024"}), "'float1024' is not a dtype"),
    "bad float": (_record({"__float__": "one"}), "'one' is not a special float"),
    "missing tensor": (_record({"__tensor__": "nope"}), "tensor 'nope' that the file"),
    "tensor name a list": (_record({"__tensor__": ["w"]}), "tensor \\['w'\\]"),
    "tuple of an int": (_record({"__tuple__": 3}), "__tuple__ holds a int"),
    "unknown keys": (_record({"a": 1, "b": 2}), "expected one of the keys"),
    "empty entry": (_record([1, {}]), "at structure\\[1\\]: expected one of the keys"),
    "deep in a dict": (_record({"__dict__": [["k", [{"__float__": 1}]]]}),
                       "at structure\\['k'\\]\\[0\\]"),
    "not JSON": ("{{{", "not valid JSON"),
    "huge integer": ("1" * 5000, "not valid JSON"),
    "not an object": ("[1, 2]", "no 'structure' entry"),
    "no structure": ({"format": 1}, "no 'structure' entry"),
    "newer format": (_record([], fmt=2), "format 2; this chainrule reads format 1"),
    "nested 100,000 deep": ("[" * 100_000 + "]" * 100_000, "nests deeper than"),
    "deep inside strings is fine, outside not": (
        '{"format": 1, "structure": ["[[[[\\"\\\\", ' + "[" * 300 + "]" * 300 + "]}",
        "nests deeper than"),
}


@pytest.mark.parametrize("name", list(CRAFTED))
def test_crafted_structure_records_raise_one_clear_error(tmp_path, name):
    record, fault = CRAFTED[name]
    path = _crafted(tmp_path / "crafted.st", record)
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match=fault) as info:
        cr.load(path)
    assert str(path) in str(info.value)
    assert time.perf_counter() - start < 2.0  # bounded: checked before it is parsed


def test_checkpoint_error_is_a_value_error_and_a_runtime_error(tmp_path):
    path = _crafted(tmp_path / "c.st", _record({"__dtype__": "float1024"}))
    for kind in (ValueError, RuntimeError):
        with pytest.raises(kind):
            cr.load(path)


def _raw(path, header: bytes, body: bytes = b""):
    path.write_bytes(len(header).to_bytes(8, "little") + header + body)
    return path


@pytest.mark.parametrize("header", [
    b"{" + b'"a":{' * 100_000 + b"1" + b"}" * 100_001,
    b'{"w": 5}',
    b'{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}',  # past the end
    b'{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, '
    b'"__metadata__": {"chainrule": 5}}',  # metadata values must be strings
    b'{"w": {"dtype": "float1024", "shape": [2], "data_offsets": [0, 8]}}',
    b'{"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}',
    b"{\xff\xfe}",
], ids=["nested 100,000 deep", "entry not an object", "offsets past the end",
        "metadata not a string", "unknown dtype", "negative shape", "not UTF-8"])
def test_malformed_safetensors_headers_are_refused_before_parsing(tmp_path, header):
    path = _raw(tmp_path / "h.st", header, b"\0" * 8)
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match="not a valid safetensors") as info:
        cr.load(path)
    assert str(path) in str(info.value)
    assert time.perf_counter() - start < 2.0


def test_header_size_over_the_limit_is_refused(tmp_path):
    path = tmp_path / "big.st"
    path.write_bytes((200_000_000).to_bytes(8, "little") + b"{" + b" " * 100)
    with pytest.raises(CheckpointError, match="over the limit"):
        cr.load(path)


def test_bfloat16_from_pytorch_loads_as_float32_with_a_warning(tmp_path):
    from safetensors.torch import save_file

    w = torch.tensor([[1.5, -2.25], [3.0e38, 1e-3]], dtype=torch.bfloat16)
    save_file({"w": w, "b": torch.ones(2)}, str(tmp_path / "bf16.safetensors"))
    with pytest.warns(UserWarning, match="'w' is bfloat16.*loaded as float32"):
        back = cr.load(tmp_path / "bf16.safetensors")
    assert back["w"].dtype == cr.float32 and back["b"].dtype == cr.float32
    assert back["w"].numpy().tolist() == w.float().tolist()  # exact


def test_dtypes_chainrule_lacks_are_refused_by_name(tmp_path):
    from safetensors.numpy import save_file

    save_file({"u": np.arange(3, dtype=np.uint16)}, str(tmp_path / "u16.st"))
    with pytest.raises(CheckpointError, match="'u' has dtype U16"):
        cr.load(tmp_path / "u16.st")


def test_bool_bytes_other_than_0_and_1_load_as_canonical_true(tmp_path):
    header = b'{"m": {"dtype": "BOOL", "shape": [3], "data_offsets": [0, 3]}}'
    back = cr.load(_raw(tmp_path / "b.st", header, b"\x00\x01\x07"))
    assert back["m"].numpy().view(np.uint8).tolist() == [0, 1, 1]  # the bytes NumPy expects


# --- saving: file modes, temporaries, file objects ---

@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_new_files_get_the_mode_the_umask_gives(tmp_path, umask):
    old = os.umask(umask)
    try:
        cr.save({"a": cr.ones(2)}, tmp_path / "m.st")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.st").stat().st_mode) == 0o666 & ~umask


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600])
def test_overwriting_keeps_the_existing_mode(tmp_path, mode):
    path = tmp_path / "m.st"
    cr.save({"a": cr.ones(2)}, path)
    path.chmod(mode)
    old = os.umask(0o077)
    try:
        cr.save({"a": cr.zeros(2)}, path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert cr.load(path)["a"].tolist() == [0.0, 0.0]


def test_a_failed_write_leaves_no_temporary(tmp_path, monkeypatch):
    def fail(fd):
        raise OSError("no space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="no space"):
        cr.save({"a": cr.ones(2)}, tmp_path / "m.st")
    assert list(tmp_path.iterdir()) == []


def test_a_temporary_left_by_a_killed_process_is_removed_by_the_next_save(tmp_path):
    path = tmp_path / "m.st"
    # a child that hangs between writing its temporary and renaming it, then is killed
    code = ("import os, sys, time; import chainrule as cr; os.fsync = lambda fd: time.sleep(60);"
            " cr.save({'a': cr.ones(3)}, sys.argv[1])")
    child = subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=os.getcwd())
    deadline = time.time() + 60
    while not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):
        assert time.time() < deadline and child.poll() is None, "the child wrote no temporary"
        time.sleep(0.05)
    child.kill()
    child.wait()
    assert [p.name.startswith(".m.st.") for p in tmp_path.iterdir()] == [True]
    cr.save({"a": cr.zeros(2)}, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.st"]


def test_a_temporary_of_a_live_process_is_left_alone(tmp_path):
    other = tmp_path / f".m.st.{os.getppid()}.0123abcd.tmp"  # our parent: alive
    other.write_bytes(b"in progress")
    cr.save({"a": cr.ones(1)}, tmp_path / "m.st")
    assert other.exists()


def test_save_and_load_with_file_objects(tmp_path):
    buf = io.BytesIO()
    sd = _state()
    cr.save(sd, buf)
    buf.seek(0)
    back = cr.load(buf)
    assert list(back) == list(sd) and back["fc1.weight"].tolist() == sd["fc1.weight"].tolist()
    from safetensors.torch import load as torch_load

    assert torch_load(buf.getvalue())["steps"].item() == 7  # the bytes are a safetensors file
    with open(tmp_path / "f.st", "wb") as f:
        cr.save({"x": cr.arange(3)}, f)
    with open(tmp_path / "f.st", "rb") as f:
        assert cr.load(f)["x"].tolist() == [0, 1, 2]
    with open(tmp_path / "f.st", encoding="latin-1") as f, pytest.raises(TypeError,
                                                                          match="binary mode"):
        cr.load(f)


def test_torch_reads_what_chainrule_saves_to_a_file_object_and_back():
    buf = io.BytesIO()
    cr.save({"w": cr.ones(2, 2)}, buf)
    from safetensors.torch import load, save

    assert load(buf.getvalue())["w"].sum().item() == 4.0
    theirs = io.BytesIO(save({"w": torch.full((2,), 3.0)}))
    assert cr.load(theirs)["w"].tolist() == [3.0, 3.0]


def test_malformed_file_objects_name_themselves():
    buf = io.BytesIO(b"garbage, not a checkpoint")
    with pytest.raises(CheckpointError, match="<BytesIO>"):
        cr.load(buf)


def test_save_and_load_refuse_other_targets():
    with pytest.raises(TypeError, match="save: expected a path"):
        cr.save({"a": cr.ones(1)}, 42)
    with pytest.raises(TypeError, match="load: expected a path"):
        cr.load(3.5)


def _reference_depth(text: str) -> int:
    """The deepest bracket level outside strings, by a plain character loop."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def test_depth_scan_agrees_with_a_character_loop_across_chunk_boundaries():
    from chainrule.serialization import _too_deep

    rng = np.random.default_rng(0)
    inside = ["a", "[", "}", "\\\\", '\\"', "{{"]
    outside = ["[", "{", "]", "}", ",", "1"]
    for _ in range(200):
        parts = []
        for _ in range(rng.integers(1, 30)):
            if rng.random() < 0.3:
                parts.append('"' + "".join(rng.choice(inside, rng.integers(0, 6))) + '"')
            else:
                parts.append(str(rng.choice(outside)))
        text = "".join(parts)
        deepest = _reference_depth(text)
        for chunk in (1, 2, 3, 7, 1 << 20):
            for limit in {max(deepest - 1, 0), deepest}:
                assert _too_deep(text.encode(), limit, chunk) == (deepest > limit), (text, chunk)


def test_brackets_inside_names_do_not_count_as_nesting(tmp_path):
    obj = {"[" * 500: cr.ones(1), "{" * 300 + '"\\': [1, 2]}
    cr.save(obj, tmp_path / "names.st")
    back = cr.load(tmp_path / "names.st")
    assert list(back) == list(obj) and back["[" * 500].tolist() == [1.0]
