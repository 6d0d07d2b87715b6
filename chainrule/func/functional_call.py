"""functional_call: run a module with other tensors in place of its parameters and buffers.

    functional_call(model, {"fc.weight": w, "fc.bias": b}, (x,))

is model(x) with model.fc.weight read as w and model.fc.bias as b, so the output is a
function of the given tensors: grad, jacrev, ... can differentiate it with respect to them
(per-sample gradients, meta-learning, ensembles). The module's own tensors are put back
afterwards, also when the call raises.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from chainrule.tensor import Tensor

_MISSING = object()


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """module(*args, **kwargs) with its parameters and buffers replaced by the dicts' tensors.

    parameter_and_buffer_dicts: a dict {dotted name: Tensor}, or a sequence of dicts with
    distinct keys. tie_weights=True: a name sharing its tensor with others in the module
    (tied weights) replaces all of them. strict=True: the names must be exactly the module's.
    args that is not a tuple is the single positional argument.
    """
    tensors = _merged(parameter_and_buffer_dicts)
    if tie_weights:
        tensors = _untied(module, tensors)
    if strict:
        _check_keys(module, tensors)
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    with _swapped(module, tensors):
        return module(*args, **({} if kwargs is None else kwargs))


def _merged(dicts) -> dict:
    if isinstance(dicts, dict):
        return dicts
    if not isinstance(dicts, Sequence):
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
                         f"dicts, but got {type(dicts)}")
    if not all(isinstance(d, dict) for d in dicts):
        raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
    keys = [k for d in dicts for k in d]
    repeated = sorted({k for k in keys if keys.count(k) > 1}, key=keys.index)
    if repeated:
        raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional "
                         "call is ambiguous")
    return {k: v for d in dicts for k, v in d.items()}


def _named_tensors(module) -> dict:
    """Every parameter and buffer by dotted name, tied ones under each of their names."""
    named = dict(module.named_parameters(remove_duplicate=False))
    named.update(module.named_buffers(remove_duplicate=False))
    return named


def _untied(module, tensors: dict) -> dict:
    """`tensors` plus, for a given name of a tied tensor, its other names with the same value."""
    groups: dict[int, set] = {}
    for name, t in _named_tensors(module).items():
        groups.setdefault(id(t), set()).add(name)
    tied = {name: names for names in groups.values() if len(names) > 1 for name in names}
    result = dict(tensors)
    for name in (n for n in tensors if n in tied):
        given = [n for n in tied[name] if n in tensors]
        if len({id(tensors[n]) for n in given}) > 1:
            raise ValueError(f"functional_call got multiple values for keys "
                             f"{sorted(tied[name])}, which are tied. Consider using "
                             "tie_weights=False")
        result.update({n: tensors[name] for n in tied[name]})
    return result


def _check_keys(module, tensors: dict) -> None:
    valid = set(_named_tensors(module))
    missing, unexpected = sorted(valid - set(tensors)), sorted(set(tensors) - valid)
    msgs = []
    if unexpected:
        msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if msgs:
        raise RuntimeError(f"Error(s) in reparametrizing for {module._get_name()}:\n\t"
                           + "\n\t".join(msgs))


@contextlib.contextmanager
def _swapped(module, tensors: dict):
    """Inside: the module reads `tensors`; on the way out (raise or not) its own come back."""
    originals = {}
    try:
        for name, t in tensors.items():
            originals[name] = _swap(module, name, t)
        yield
    finally:
        for name, t in reversed(originals.items()):
            _swap(module, name, t)


def _swap(module, dotted: str, tensor):
    """Put `tensor` at module.<dotted> (a parameter, buffer or plain attribute); return the old."""
    *path, name = dotted.split(".")
    for part in path:
        module = getattr(module, part)
    if tensor is not _MISSING and tensor is not None and not isinstance(tensor, Tensor):
        raise TypeError(f"functional_call: {dotted!r} must be a Tensor, got "
                        f"{type(tensor).__name__}")
    for store in (module._parameters, module._buffers):
        if name in store:
            old = store[name]
            if tensor is _MISSING:
                del store[name]
            else:
                store[name] = tensor
            return old
    old = getattr(module, name, _MISSING)
    if tensor is _MISSING:
        if old is not _MISSING:
            delattr(module, name)
    else:
        object.__setattr__(module, name, tensor)
    return old
