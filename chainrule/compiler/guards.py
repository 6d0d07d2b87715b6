"""Guards: what a trace assumed about the world, checked before each replay.

Before a function is traced, `Walk` visits what it can reach: its arguments, the globals its
code names, its closure cells, and from those Tensors, Modules, Optimizers, lists, tuples,
dicts and plain objects' attributes (eight levels deep). After the trace, `guard_source`
writes one boolean expression over them, checked in order, cheapest first:

- global modes: grad mode, no forward-mode level open, no tool observing the core;
- arguments: Tensors by shape, dtype, strides, requires_grad and whether they have a
  grad_fn; numbers, strings and None by value; anything else by identity;
- reached objects: identity (the same Module, Parameter, optimizer state Tensor), a Module's
  `training`, an optimizer's hyper-parameters by value and its state's keys, numbers by
  value; a Tensor's requires_grad and whether its `.grad` is None; and for each Tensor whose
  array the trace read, that it still holds that same array.

Not guarded: Python state the function changes outside Tensors (iterators, counters in
lists), objects reached only through function calls or deeper attributes, and tensors
that arguments alias. These are documented in chainrule/compiler/__init__.py.
"""

from __future__ import annotations

import types
import weakref

import numpy as np

from chainrule.tensor import Tensor

_DEPTH = 8
_MAX_ITEMS = 256
_VALUES = (bool, int, float, str, type(None), complex)


class Walk:
    """What the call can reach, with the path to each object and its state at entry."""

    def __init__(self):
        self.entries: list = []  # (path, kind, object, facts at entry)
        self.paths: dict[int, str] = {}  # id(object) -> first path found
        self.arg_tensors: dict[int, str] = {}  # id(Tensor argument) -> its path
        self.hypers: list = []  # (param group, key, path): optimizers' float hyper-parameters
        self.unguardable: str | None = None

    # ---- the roots ----
    def roots(self, fn, args: tuple, kwargs: dict) -> None:
        for i, a in enumerate(args):
            self.argument(a, f"A[{i}]")
        for k, a in kwargs.items():
            self.argument(a, f"KW[{k!r}]")
        if isinstance(fn, types.MethodType):
            self.visit(fn.__self__, "S", 0)
            fn = fn.__func__
        code = getattr(fn, "__code__", None)
        if code is None:
            return
        for name in sorted(_names(code)):
            if name in fn.__globals__:
                self.visit(fn.__globals__[name], f"G[{name!r}]", 0)
        for i, cell in enumerate(fn.__closure__ or ()):
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            self.visit(value, f"C[{i}].cell_contents", 0)

    def argument(self, a, path: str) -> None:
        if isinstance(a, Tensor):
            self.arg_tensors[id(a)] = path
            self.entries.append((path, "arg", a, _tensor_facts(a)))
        elif isinstance(a, _VALUES):
            self.entries.append((path, "value", a, a))
        elif type(a) in (list, tuple) and len(a) <= _MAX_ITEMS:
            self.entries.append((path, "len", a, (type(a), len(a))))
            for i, v in enumerate(a):
                self.argument(v, f"{path}[{i}]")
        else:
            self.visit(a, path, 0)

    # ---- everything reachable ----
    def visit(self, obj, path: str, depth: int) -> None:
        if isinstance(obj, _VALUES):
            self.entries.append((path, "value", obj, obj))
            return
        if isinstance(obj, (types.ModuleType, type, types.BuiltinFunctionType, np.ufunc,
                            np.generic)) or depth > _DEPTH:
            return
        if isinstance(obj, types.FunctionType):
            self._function(obj, path, depth)
            return
        if isinstance(obj, np.ndarray):  # read by reference: guarded by identity
            self.entries.append((path, "is", obj, None))
            return
        if id(obj) in self.paths:  # seen: its facts are checked where it was first found
            self.entries.append((path, "is", obj, None))
            return
        self.paths[id(obj)] = path
        if hasattr(obj, "__next__") and getattr(obj, "__iter__", None) is not None:
            self.unguardable = (f"{path} is an iterator: its position is Python state that a "
                                f"replay cannot follow; pass what it yields as an argument")
            return
        if isinstance(obj, Tensor):
            # held weakly: a gradient the call replaces must be free to go (memory)
            self.entries.append((path, "tensor", weakref.ref(obj), _tensor_facts(obj)))
            if obj._grad is not None:
                self.visit(obj._grad, f"{path}._grad", depth + 1)
            return
        self.entries.append((path, "is", obj, None))
        self._children(obj, path, depth)

    def _children(self, obj, path: str, depth: int) -> None:
        from chainrule.nn import Module
        from chainrule.optim.optimizer import Optimizer

        if isinstance(obj, Module):
            self.entries.append((f"{path}.training", "value", obj.training, obj.training))
            for table in ("_parameters", "_buffers", "_modules"):
                self._items(obj.__dict__.get(table, {}), f"{path}.{table}", depth)
        elif isinstance(obj, Optimizer):
            self._optimizer(obj, path, depth)
        elif type(obj) in (list, tuple):
            self.entries.append((f"len({path})", "value", len(obj), len(obj)))
            for i, v in enumerate(obj[:_MAX_ITEMS]):
                self.visit(v, f"{path}[{i}]", depth + 1)
        elif isinstance(obj, dict):
            self._items(obj, path, depth)
        elif hasattr(obj, "__dict__") and not callable(obj):
            for k, v in list(vars(obj).items())[:_MAX_ITEMS]:
                if k.isidentifier():
                    self.visit(v, f"{path}.{k}", depth + 1)

    def _function(self, fn, path: str, depth: int) -> None:
        """A user's function reached as a value (a lambda kept in an object): what its
        defaults and closure hold. The library's and NumPy's functions are not walked."""
        if fn.__module__ and fn.__module__.split(".")[0] in ("chainrule", "numpy", "torch"):
            return
        for i, v in enumerate(fn.__defaults__ or ()):
            self.visit(v, f"{path}.__defaults__[{i}]", depth + 1)
        for i, cell in enumerate(fn.__closure__ or ()):
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            self.visit(value, f"{path}.__closure__[{i}].cell_contents", depth + 1)

    def _items(self, table: dict, path: str, depth: int) -> None:
        self.entries.append((f"len({path})", "value", len(table), len(table)))
        for k, v in list(table.items())[:_MAX_ITEMS]:
            if isinstance(k, (str, int)):
                self.visit(v, f"{path}[{k!r}]", depth + 1)
            elif isinstance(k, Tensor) and id(k) in self.paths:
                self.visit(v, f"{path}.get({_ref(k)})", depth + 1)

    def _optimizer(self, opt, path: str, depth: int) -> None:
        self.entries.append((f"len({path}.param_groups)", "value", len(opt.param_groups),
                             len(opt.param_groups)))
        for i, group in enumerate(opt.param_groups):
            for j, p in enumerate(group["params"]):
                self.visit(p, f"{path}.param_groups[{i}]['params'][{j}]", depth + 1)
            for k, v in group.items():
                if k != "params":
                    self.visit(v, f"{path}.param_groups[{i}][{k!r}]", depth + 1)
                    if type(v) is float or type(v) is tuple and v and \
                            all(type(b) is float for b in v):
                        self.hypers.append((group, k, f"{path}.param_groups[{i}][{k!r}]"))
        for table in ("state", "_scratch"):
            entries = opt.__dict__.get(table, {})
            for group in opt.param_groups:
                for p in group["params"]:
                    here = f"{path}.{table}.get({_ref(p)}, ())"
                    value = entries.get(p, ())
                    self.entries.append((f"len({here})", "value", len(value), len(value)))
                    if value:
                        self.visit(value, f"{path}.{table}[{_ref(p)}]", depth + 1)


def _ref(obj) -> str:
    """How a guard names an object it holds: a constant `o<id>` bound by guard_source."""
    return f"o{id(obj)}"


def _names(code) -> set:
    """The global names a code object (and the functions defined inside it) refers to."""
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _names(c)
    return names


def _tensor_facts(t: Tensor) -> tuple:
    a = t.array
    return (a.shape, a.dtype, a.strides, t._requires_grad, t.grad_fn is None, t._grad is None)


def guard_source(walk: Walk, read: dict, touched: dict, consts: dict,
                 inputs: frozenset = frozenset()) -> str:
    """The guard's expression: every fact of the walk that the trace's result depends on.

    `read` maps id(Tensor) to the array of it the trace read; `touched` are the Tensors it
    read or changed; `inputs` are the paths of hyper-parameters the replay reads on each
    call (only their type is checked). Objects are bound in `consts` by their `o<id>` names.
    """
    checks = ["_state.enabled is _ENABLED", "not _state.dual_levels",
              "not (_observers.forward or _observers.backward or _observers.node)"]
    for path, kind, obj, facts in walk.entries:
        if kind == "value" and path in inputs:  # a hyper-parameter the replay reads itself
            checks.append(f"type({path}) is float")
            continue
        if kind == "tensor":
            obj = obj()
            if obj is None:  # gone during the call: it was replaced, not read
                checks.append(f"{path} is not None")
                continue
        checks += _checks(path, kind, obj, facts, walk, read, touched, consts)
    return " and ".join(checks)


def _checks(path, kind, obj, facts, walk, read, touched, consts) -> list:
    if kind == "value":
        if obj is None or isinstance(obj, bool):
            return [f"{path} is {obj}"]
        if isinstance(obj, float) and obj != obj:
            return [f"{path} != {path}"]
        return [f"type({path}) is {type(obj).__name__}", f"{path} == {_literal(obj)}"]
    if kind == "len":
        return [f"type({path}) is {facts[0].__name__}", f"len({path}) == {facts[1]}"]
    if kind == "arg":
        shape, dtype, strides, rg, leaf, _ = facts
        return [f"isinstance({path}, _Tensor)", f"{path}.array.shape == {shape!r}",
                f"{path}.array.dtype == np.dtype({str(dtype)!r})",
                f"{path}.array.strides == {strides!r}", f"{path}._requires_grad is {rg}",
                f"({path}.grad_fn is None) is {leaf}"]
    if kind == "tensor" and path.endswith("._grad") and id(obj) not in touched and \
            not facts[3]:
        return [f"{path} is not None"]  # a gradient the call replaces without reading it
    name = _ref(obj)
    consts[name] = obj
    out = [f"{path} is {name}"]
    if kind == "tensor":
        shape, dtype, strides, rg, leaf, no_grad = facts
        out += [f"{name}._requires_grad is {rg}", f"({name}._grad is None) is {no_grad}"]
        if id(obj) in read:
            array = read[id(obj)]
            consts[_ref(array)] = array
            out.append(f"{name}.array is {_ref(array)}")
    return out


def _literal(v) -> str:
    if isinstance(v, float) and v in (float("inf"), float("-inf")):
        return f"float({repr(v)!r})"
    return repr(v)
