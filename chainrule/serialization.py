"""save / load without pickle: safetensors for the tensors, JSON for everything around them.

A file is a plain safetensors file. Its tensors are named by their path in the saved object
(`fc1.weight` for a module's state dict, `state.0.exp_avg` for an optimizer's), so a model's
file loads in PyTorch with `safetensors.torch.load_file`, and a file PyTorch wrote with
`safetensors.torch.save_file` loads here as a dict of tensors. The structure (nested dicts,
lists, tuples, numbers, strings, the places of the tensors) is JSON in the file's metadata
under the key "chainrule".

Loading never runs code from the file (DESIGN decision 10): a pickle, a truncated file or
garbage is rejected with a clear error. Saving is atomic: a temp file in the same directory,
renamed over the target only when complete.
"""

from __future__ import annotations

import json
import math
import os
import tempfile

import numpy as np

_META_KEY = "chainrule"
_FORMAT = 1


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
    from chainrule import dtypes
    from chainrule.tensor import Tensor

    if isinstance(node, list):
        return [_decode(v, tensors) for v in node]
    if isinstance(node, dict):
        if "__tensor__" in node:
            name = node["__tensor__"]
            if name not in tensors:
                raise ValueError(f"load: the file's structure names a tensor {name!r} that the "
                                 f"file does not contain (corrupt file?)")
            return Tensor._make(tensors[name], None, 0, False)
        if "__dict__" in node:
            from collections import OrderedDict

            return OrderedDict((k, _decode(v, tensors)) for k, v in node["__dict__"])
        if "__tuple__" in node:
            return tuple(_decode(v, tensors) for v in node["__tuple__"])
        if "__float__" in node:
            return float(node["__float__"])
        if "__dtype__" in node:
            return dtypes._by_name(node["__dtype__"])
        raise ValueError(f"load: unknown entry {sorted(node)} in the file's structure")
    return node


def save(obj, f) -> None:
    """Write `obj` (a state dict, or nested dicts / lists of tensors and plain values) to `f`.

    `f` is a path; the file is written atomically (a temp file renamed into place), so an
    interrupted save never leaves a half-written file under the real name.
    """
    from safetensors.numpy import save as st_save

    path = os.fspath(f)
    tensors: dict = {}
    structure = _encode(obj, "", tensors, flat_names=True)
    meta = {_META_KEY: json.dumps({"format": _FORMAT, "structure": structure}),
            "format": "pt"}
    payload = st_save(tensors, metadata=meta)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _check_header(path: str, data: bytes) -> None:
    """A safetensors file is an 8-byte little-endian header length, then a JSON header."""
    n = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
    if 0 < n <= len(data) - 8 and data[8:9] == b"{":
        return
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05") or \
            data[:4] == b"PK\x03\x04":
        raise ValueError(
            f"load: {path} looks like a pickle / torch.save zip file. chainrule never unpickles "
            f"(loading a pickle can run arbitrary code). Re-save it as safetensors, e.g. in "
            f"PyTorch: safetensors.torch.save_file(model.state_dict(), 'model.safetensors')"
        )
    if len(data) < 8:
        raise ValueError(f"load: {path} is too short ({len(data)} bytes) to be a safetensors "
                         f"file (truncated?)")
    raise ValueError(f"load: {path} is not a valid safetensors file: its header claims "
                     f"{n} bytes but the file has {len(data)} (truncated, or not safetensors)")


def load(f, map_location=None, weights_only=True, **_ignored):
    """Read what `save` wrote (or any safetensors file: then a dict of tensors)."""
    from safetensors import SafetensorError
    from safetensors.numpy import load as st_load

    path = os.fspath(f)
    with open(path, "rb") as fh:
        data = fh.read()
    _check_header(path, data)
    try:
        header_len = int.from_bytes(data[:8], "little")
        header = json.loads(data[8:8 + header_len].decode("utf-8"))
        # safetensors hands out read-only views of `data`: copy so tensors can be updated
        tensors = {k: np.array(v) for k, v in st_load(data).items()}
    except (SafetensorError, UnicodeDecodeError, json.JSONDecodeError, ValueError) as e:
        raise ValueError(f"load: {path} is not a valid safetensors file ({e}); it may be "
                         f"truncated or corrupt") from None
    meta = header.get("__metadata__") or {}
    if _META_KEY not in meta:
        from collections import OrderedDict

        from chainrule.tensor import Tensor

        return OrderedDict((k, Tensor._make(v, None, 0, False)) for k, v in tensors.items())
    try:
        info = json.loads(meta[_META_KEY])
        structure = info["structure"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise ValueError(f"load: {path} has a corrupt chainrule structure record ({e})") from None
    return _decode(structure, tensors)
