"""save / load without pickle: safetensors for the tensors, JSON for everything around them.

A file is a plain safetensors file. Its tensors are named by their path in the saved object
(`fc1.weight` for a module's state dict, `state.0.exp_avg` for an optimizer's), so a model's
file loads in PyTorch with `safetensors.torch.load_file`, and a file PyTorch wrote with
`safetensors.torch.save_file` loads here as a dict of tensors (bfloat16 ones as float32, with a
warning: chainrule has no bfloat16, and float32 holds every bfloat16 value exactly). The
structure (nested dicts, lists, tuples, numbers, strings, the places of the tensors) is JSON in
the file's metadata under the key "chainrule".

Files are untrusted (DESIGN decision 10). Loading never runs code from the file; safetensors
checks the header (its size, its JSON, the tensors' offsets) before anything else reads it, and
the structure record is checked (its size, its nesting depth, then every entry) before it is
used. Every malformed file raises CheckpointError naming the file and the fault.

Saving to a path is atomic: a temporary file in the same directory, renamed over the target only
when complete, removed if anything fails. The file gets the mode the user's umask gives (an
existing file keeps its mode). A temporary left by a killed process is removed by the next save
to the same path. `f` may also be a binary file object (BytesIO, open(..., "wb" / "rb")).
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import stat
import warnings
from collections import OrderedDict

import numpy as np

_META_KEY = "chainrule"
_FORMAT = 1
_MAX_HEADER = 100_000_000  # safetensors' own limit on the header's size
_MAX_DEPTH = 200  # JSON levels in the structure record (a dict level takes 3)


class CheckpointError(ValueError, RuntimeError):
    """A file that is not a checkpoint chainrule can read: truncated, corrupt, crafted, pickle.

    One type for every such fault, so a caller catches one thing. It is a ValueError (the
    file's content is a bad value) and a RuntimeError (what torch.load raises for a corrupt
    file), so code written for either keeps working.
    """


def _encode(obj, path: str, tensors: dict, flat_names: bool):
    """JSON-able structure for obj; tensors go into `tensors` under their path names."""
    from chainrule.dtypes import dtype as Dtype  # noqa: N812
    from chainrule.tensor import Tensor

    if isinstance(obj, Tensor):
        name = path or "tensor"
        if name in tensors:
            raise ValueError(f"save: two tensors would be stored under the name {name!r}")
        a = obj.array  # (np.ascontiguousarray would make a 0-d array 1-d)
        tensors[name] = a if a.flags.c_contiguous else a.copy()
        return {"__tensor__": name}
    if isinstance(obj, np.ndarray):
        raise TypeError(f"save: {path or 'the object'} is a NumPy array; wrap it with "
                        f"chainrule.from_numpy(...) first")
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else {"__float__": repr(v)}
    if isinstance(obj, Dtype):
        return {"__dtype__": obj.name}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int, float, bool)) and k is not None:
                raise TypeError(f"save: dict keys must be str, int, float or bool; got "
                                f"{type(k).__name__} at {path or 'top level'}")
            child = f"{path}.{k}" if path else str(k)
            items.append([k, _encode(v, child, tensors, flat_names)])
        return {"__dict__": items}
    if isinstance(obj, (list, tuple)):
        enc = [_encode(v, f"{path}.{i}" if path else str(i), tensors, flat_names)
               for i, v in enumerate(obj)]
        return {"__tuple__": enc} if isinstance(obj, tuple) else enc
    raise TypeError(
        f"save: can't store a {type(obj).__name__} at {path or 'top level'}; chainrule.save "
        f"takes state dicts: nested dicts / lists / tuples of tensors, numbers, strings, None"
    )


def _decode(node, tensors: dict):
    """The object a checked structure record describes (see _check_structure)."""
    from chainrule import dtypes
    from chainrule.tensor import Tensor

    if isinstance(node, list):
        return [_decode(v, tensors) for v in node]
    if not isinstance(node, dict):
        return node
    ((key, value),) = node.items()
    if key == "__tensor__":
        return Tensor._make(tensors[value], None, 0, False)
    if key == "__dict__":
        return OrderedDict((k, _decode(v, tensors)) for k, v in value)
    if key == "__tuple__":
        return tuple(_decode(v, tensors) for v in value)
    if key == "__float__":
        return float(value)
    return dtypes._by_name(value)


def save(obj, f) -> None:
    """Write `obj` (a state dict, or nested dicts / lists of tensors and plain values) to `f`.

    `f` is a path (written atomically: see the module docstring) or a binary file object.
    """
    from safetensors.numpy import save as st_save

    if not hasattr(f, "write"):
        path = _fspath(f, "save")
    tensors: dict = {}
    structure = _encode(obj, "", tensors, flat_names=True)
    meta = {_META_KEY: json.dumps({"format": _FORMAT, "structure": structure}),
            "format": "pt"}
    payload = st_save(tensors, metadata=meta)
    if hasattr(f, "write"):
        f.write(payload)
    else:
        _write_atomic(path, payload)


def _fspath(f, op: str) -> str:
    try:
        return os.fspath(f)
    except TypeError:
        raise TypeError(f"{op}: expected a path (str or os.PathLike) or a binary file object, "
                        f"got {type(f).__name__}") from None


def _temp_pattern(base: str):
    return re.compile(r"\." + re.escape(base) + r"\.(\d+)\.[0-9a-f]{8}\.tmp")


def _write_atomic(path: str, payload: bytes) -> None:
    """Write to a temporary beside `path`, then rename it over `path`; clean up on failure."""
    directory, base = os.path.split(os.path.abspath(path))
    _remove_stale_temps(directory, base)
    tmp = os.path.join(directory, f".{base}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # 0o666 through the umask: the mode any new file of the user's gets (mkstemp gives 0o600)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        if os.path.exists(path):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))  # overwriting keeps the mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _remove_stale_temps(directory: str, base: str) -> None:
    """Delete temporaries of earlier saves to this path whose process no longer exists."""
    pattern = _temp_pattern(base)
    try:
        names = os.listdir(directory)
    except OSError:
        return  # an unlistable directory: nothing to clean, and the save itself may still work
    for name in names:
        match = pattern.fullmatch(name)
        if match and int(match.group(1)) != os.getpid() and not _alive(int(match.group(1))):
            try:
                os.unlink(os.path.join(directory, name))
            except FileNotFoundError:
                pass  # another process cleaned it first


def _alive(pid: int) -> bool:
    if os.name == "nt":
        return True  # os.kill on Windows terminates the process: never probe there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists but is not ours (PermissionError), or the check is unsupported
    return True


def _check_header(name: str, data: bytes) -> None:
    """A safetensors file is an 8-byte little-endian header length, then a JSON header."""
    n = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
    if 0 < n <= min(len(data) - 8, _MAX_HEADER) and data[8:9] == b"{":
        return
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05") or \
            data[:4] == b"PK\x03\x04":
        raise CheckpointError(
            f"load: {name} looks like a pickle / torch.save zip file. chainrule never unpickles "
            f"(loading a pickle can run arbitrary code). Re-save it as safetensors, e.g. in "
            f"PyTorch: safetensors.torch.save_file(model.state_dict(), 'model.safetensors')"
        )
    if len(data) < 8:
        raise CheckpointError(f"load: {name} is too short ({len(data)} bytes) to be a "
                              f"safetensors file (truncated?)")
    if n > _MAX_HEADER:
        raise CheckpointError(f"load: {name} is not a valid safetensors file: its header claims "
                              f"{n} bytes, over the limit of {_MAX_HEADER}")
    raise CheckpointError(f"load: {name} is not a valid safetensors file: its header claims "
                          f"{n} bytes but the file has {len(data)} (truncated, or not "
                          f"safetensors)")


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Read what `save` wrote (or any safetensors file: then a dict of tensors).

    `f` is a path or a binary file object (read from its current position to the end).
    PyTorch's other arguments are checked, not ignored: `map_location` may name the CPU
    (a string, device, or a dict whose targets are the CPU) or be a function, called as
    PyTorch calls it with each tensor's data and 'cpu'; `weights_only` may be anything, as
    chainrule's files hold only tensors and plain values; `pickle_module`, `mmap=True` and
    unpickler arguments raise, since chainrule never unpickles and reads the file whole.
    """
    from chainrule.tensor import Tensor

    _check_load_options(pickle_module, mmap, pickle_load_args)
    relocate = _map_location(map_location)
    data, name = _read(f)
    _check_header(name, data)
    tensors, meta = _tensors_and_metadata(name, data)
    tensors = {k: relocate(v) for k, v in tensors.items()}
    if _META_KEY not in meta:
        return OrderedDict((k, Tensor._make(v, None, 0, False)) for k, v in tensors.items())
    structure = _parse_record(name, meta[_META_KEY])
    _check_structure(name, structure, tensors)
    return _decode(structure, tensors)


def _check_load_options(pickle_module, mmap, pickle_load_args) -> None:
    if pickle_module is not None:
        raise NotImplementedError(f"load: pickle_module={pickle_module!r} is not supported: "
                                  f"chainrule never unpickles (files are safetensors)")
    if mmap:
        raise NotImplementedError("load: mmap=True is not supported: chainrule reads the "
                                  "whole file into memory; leave mmap unset")
    if pickle_load_args:
        raise NotImplementedError(f"load: unpickler arguments {sorted(pickle_load_args)} are "
                                  f"not supported: chainrule never unpickles")


def _map_location(map_location):
    """What to do with each loaded array: nothing for the CPU; a user function's result."""
    from chainrule._args import check_device

    if callable(map_location):
        return lambda array: np.asarray(map_location(array, "cpu"))
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        if target is not None:
            check_device(target, "load (map_location)")
    return lambda array: array


def _read(f):
    if hasattr(f, "read"):
        data = f.read()
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError("load: the file object must be opened in binary mode ('rb'), "
                            f"got {type(data).__name__} from its read()")
        return bytes(data), repr(getattr(f, "name", None) or f"<{type(f).__name__}>")
    path = _fspath(f, "load")
    with open(path, "rb") as fh:
        return fh.read(), path


# safetensors dtype names -> NumPy (little-endian, as the format stores them)
_DTYPES = {"F16": "<f2", "F32": "<f4", "F64": "<f8", "U8": "u1", "I8": "i1", "I16": "<i2",
           "I32": "<i4", "I64": "<i8", "BOOL": "u1", "BF16": "<u2"}


def _tensors_and_metadata(name: str, data: bytes):
    """The tensors as writable arrays and the header's metadata, safetensors checking first."""
    from safetensors import SafetensorError, deserialize

    try:
        entries = deserialize(data)  # validates the header and every offset before we read
    except (SafetensorError, ValueError, TypeError, OverflowError) as e:
        raise CheckpointError(f"load: {name} is not a valid safetensors file ({e}); it may be "
                              f"truncated or corrupt") from None
    tensors = {k: _array(name, k, v) for k, v in entries}
    header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])
    return tensors, header.get("__metadata__") or {}


def _array(name: str, key: str, entry: dict) -> np.ndarray:
    kind = entry["dtype"]
    if kind not in _DTYPES:
        raise CheckpointError(f"load: {name}: tensor {key!r} has dtype {kind}, which chainrule "
                              f"cannot hold; supported: {', '.join(_DTYPES)}")
    a = np.frombuffer(entry["data"], dtype=_DTYPES[kind]).reshape(entry["shape"])
    if kind == "BOOL":
        return a != 0
    if kind == "BF16":
        warnings.warn(f"load: {name}: tensor {key!r} is bfloat16, which chainrule does not have; "
                      f"loaded as float32 (exact: bfloat16 is float32 with its low 16 bits "
                      f"dropped)", UserWarning, stacklevel=4)
        return (a.astype(np.uint32) << 16).view(np.float32)
    return a.astype(a.dtype.newbyteorder("="), copy=True)  # writable, native order


def _parse_record(name: str, text) -> object:
    """The structure record's JSON, checked for size and nesting before it is parsed."""
    if not isinstance(text, str):
        raise CheckpointError(f"load: {name}: the chainrule structure record is not a string")
    if _too_deep(text.encode("utf-8", "replace"), _MAX_DEPTH):
        raise CheckpointError(f"load: {name}: the chainrule structure record nests deeper "
                              f"than {_MAX_DEPTH} levels (corrupt or crafted file)")
    try:
        info = json.loads(text)
    except ValueError as e:
        raise CheckpointError(f"load: {name}: the chainrule structure record is not valid "
                              f"JSON ({e})") from None
    if not isinstance(info, dict) or "structure" not in info:
        raise CheckpointError(f"load: {name}: the chainrule structure record has no "
                              f"'structure' entry")
    if info.get("format") != _FORMAT:
        raise CheckpointError(f"load: {name}: the chainrule structure record has format "
                              f"{info.get('format')!r}; this chainrule reads format {_FORMAT} "
                              f"(a newer chainrule wrote the file?)")
    return info["structure"]


def _too_deep(text: bytes, limit: int, chunk: int = 1 << 20) -> bool:
    """Whether JSON text nests deeper than `limit`, found without parsing it.

    Brackets count outside strings only; a quote ends a string unless an odd run of
    backslashes precedes it. NumPy scans chunks of `chunk` bytes, carrying the depth, whether
    the chunk starts inside a string, and the backslashes it starts after.
    """
    depth, in_string, run = 0, False, 0
    for start in range(0, len(text), chunk):
        b = np.frombuffer(text, np.uint8, min(chunk, len(text) - start), start)
        idx = np.arange(b.size)
        last_plain = np.maximum.accumulate(np.where(b != ord("\\"), idx, -1))
        before = np.concatenate(([-1], last_plain[:-1]))
        slashes = idx - 1 - before + np.where(before < 0, run, 0)
        quotes = np.cumsum((b == ord('"')) & (slashes % 2 == 0))
        inside = (quotes % 2 == 1) != in_string
        step = (np.isin(b, (ord("["), ord("{"))).astype(np.int64)
                - np.isin(b, (ord("]"), ord("}"))))
        levels = depth + np.cumsum(np.where(inside, 0, step))
        if levels.max() > limit:
            return True
        depth, in_string = int(levels[-1]), bool(inside[-1])
        run = int(slashes[-1] + 1 if b[-1] == ord("\\") else 0)
    return False


_ENTRY_KEYS = ("__tensor__", "__dict__", "__tuple__", "__float__", "__dtype__")


def _check_structure(name: str, structure, tensors: dict) -> None:
    """Every entry of the record is one `_encode` writes; raise CheckpointError at the first not.

    Iterative (an explicit stack), so checking costs no recursion whatever the record holds.
    """
    stack = [(structure, "structure")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(node))
        elif isinstance(node, dict):
            fault = _entry_fault(node, tensors, stack, where)
            if fault:
                raise CheckpointError(f"load: {name}: corrupt chainrule structure record at "
                                      f"{where}: {fault}")


def _entry_fault(node: dict, tensors: dict, stack: list, where: str) -> str | None:
    """What is wrong with one {"__kind__": value} entry (None if nothing); queue its children."""
    from chainrule import dtypes

    if len(node) != 1 or next(iter(node)) not in _ENTRY_KEYS:
        return f"expected one of the keys {', '.join(_ENTRY_KEYS)}, got {sorted(node)[:5]}"
    ((key, value),) = node.items()
    if key == "__tensor__":
        if not isinstance(value, str) or value not in tensors:
            return f"it names a tensor {value!r} that the file does not contain"
    elif key == "__float__":
        if value not in ("inf", "-inf", "nan"):
            return f"{value!r} is not a special float (inf, -inf, nan)"
    elif key == "__dtype__":
        if not isinstance(value, str) or value not in dtypes._NAMES:
            return f"{value!r} is not a dtype name ({', '.join(dtypes._NAMES)})"
    elif not isinstance(value, list):
        return f"{key} holds a {type(value).__name__}, not a list"
    elif key == "__tuple__":
        stack.extend((v, f"{where}[{i}]") for i, v in enumerate(value))
    else:
        for i, item in enumerate(value):
            if not (isinstance(item, list) and len(item) == 2):
                return f"dict item {i} is not a [key, value] pair"
            if isinstance(item[0], (list, dict)):
                return f"dict item {i} has a {type(item[0]).__name__} as its key"
            stack.append((item[1], f"{where}[{item[0]!r}]"))
    return None
