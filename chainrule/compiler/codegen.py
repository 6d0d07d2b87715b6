"""From a Trace to the source of one Python function of NumPy calls, and that function.

The source reads as the step's math, in order: a comment line for each statement of the
user's code that ran kernels (file:line and the line itself), then one line per kernel with
the op or rule it belongs to. Names come from where the arrays live (`W1`, `W1_grad`,
`model_fc1_weight`); temporaries are `t0, t1, ...`.

Buffers: a ufunc whose result is a temporary writes into the memory of a temporary whose
last use has passed, when one of the same shape, dtype and layout is free (`out=`): the
same arithmetic into memory the replay already has, so a replay allocates little.
"""

from __future__ import annotations

import linecache
import math
import os

import numpy as np

from chainrule.compiler.trace import Dyn, Ref, Trace


class Source:
    """Names, constants and lines of the generated function, built by `generate`."""

    def __init__(self, trace: Trace, names: dict, keep: set):
        self.trace = trace
        self.names = dict(names)  # variable -> name
        self.consts: dict[str, object] = {}
        self.const_ids: dict[int, str] = {}
        self.keep = keep  # variables that must keep their own memory (results, effects)
        self.lines: list[str] = []
        self.sites: list = []  # per line of the body: (op, site) it came from
        self.hypers: dict[str, str] = {}  # path of a hyper-parameter -> its name

    # ---- names ----
    def var(self, n: int) -> str:
        name = self.names.get(n)
        if name is None:
            name = self.names[n] = f"t{n}"
        return name

    def const(self, obj, hint: str = "c") -> str:
        name = self.const_ids.get(id(obj))
        if name is None:
            name = _unique(hint, self.consts)
            self.consts[name] = obj
            self.const_ids[id(obj)] = name
        return name

    # ---- values ----
    def value(self, x) -> str:
        if type(x) is Ref:
            return self.var(x.n)
        if type(x) is Dyn:  # a hyper-parameter: read on each call, unless the trace fixed it
            return self.hypers.get(x.path) or self.value(x.value)
        if x is None or x is Ellipsis or isinstance(x, (bool, str)):
            return "..." if x is Ellipsis else repr(x)
        if isinstance(x, int):
            return repr(int(x))
        if isinstance(x, float):
            return repr(x) if math.isfinite(x) else f"float({repr(x)!r})"
        if type(x) is tuple:
            inner = ", ".join(self.value(v) for v in x)
            return f"({inner},)" if len(x) == 1 else f"({inner})"
        if type(x) is list:
            return "[" + ", ".join(self.value(v) for v in x) + "]"
        if type(x) is dict:
            return "{" + ", ".join(f"{k!r}: {self.value(v)}" for k, v in x.items()) + "}"
        if type(x) is slice:
            return f"slice({self.value(x.start)}, {self.value(x.stop)}, {self.value(x.step)})"
        return self._numpy_value(x)

    def _numpy_value(self, x) -> str:
        if isinstance(x, np.dtype):
            return f"np.dtype({str(x)!r})"
        if isinstance(x, type) and issubclass(x, np.generic) and getattr(np, x.__name__, 0) is x:
            return f"np.{x.__name__}"
        if x is float or x is int or x is bool or x is complex:
            return x.__name__
        if isinstance(x, np.generic) and repr(x).startswith("np.") and \
                np.isfinite(x if x.dtype.kind in "fc" else 0):
            return repr(x)
        return self.const(x)

    def index(self, key) -> str:
        """A subscript as written: a[0, 1:3, ..., None]."""
        parts = key if type(key) is tuple else (key,)
        out = []
        for k in parts:
            if type(k) is slice:
                s = "" if k.start is None else self.value(k.start)
                s += ":" + ("" if k.stop is None else self.value(k.stop))
                if k.step is not None:
                    s += ":" + self.value(k.step)
                out.append(s)
            else:
                out.append(self.value(k))
        text = ", ".join(out)
        return text + "," if type(key) is tuple and len(key) == 1 else text

    def function(self, fn) -> str:
        name = getattr(fn, "__name__", None)
        owner = getattr(fn, "__self__", None)
        if isinstance(owner, np.ufunc) and getattr(np, owner.__name__, None) is owner:
            return f"np.{owner.__name__}.{name}"
        if owner is not None and not isinstance(owner, type(np)) and name:
            return f"{self.const(owner, type(owner).__name__.lower())}.{name}"
        for path, module in (("np", np), ("np.linalg", np.linalg), ("np.fft", np.fft),
                             ("np.lib.stride_tricks", np.lib.stride_tricks)):
            if name and getattr(module, name, None) is fn:
                return f"{path}.{name}"
        return self.const(fn, name or "fn")

    # ---- one instruction ----
    def call(self, ins, out_name: str | None) -> str:
        fn, args, kwargs = ins.fn, ins.args, dict(ins.kwargs)
        if out_name is not None:
            kwargs["out"] = _OutName(out_name)
        elif type(kwargs.get("out")) is tuple and len(kwargs["out"]) == 1:
            kwargs["out"] = kwargs["out"][0]
        if getattr(np.ndarray, getattr(fn, "__name__", "-"), None) is fn:  # a method
            return self._method(fn.__name__, args, kwargs)
        if fn in _AS_METHOD and args and type(args[0]) is Ref and not kwargs:
            return self._method(fn.__name__, args, kwargs)  # (np.swapaxes' wrapper: ~2 us)
        params = [self.value(a) for a in args]
        params += [f"{k}={v.text if type(v) is _OutName else self.value(v)}"
                   for k, v in kwargs.items()]
        return f"{self.function(fn)}({', '.join(params)})"

    def _method(self, name: str, args, kwargs) -> str:
        obj = self.value(args[0])
        if name == "__getitem__":
            return f"{obj}[{self.index(args[1])}]"
        if name == "__setitem__":
            return f"{obj}[{self.index(args[1])}] = {self.value(args[2])}"
        params = [self.value(a) for a in args[1:]]
        params += [f"{k}={self.value(v)}" for k, v in kwargs.items()]
        return f"{obj}.{name}({', '.join(params)})"

    def pattern(self, out) -> str:
        if type(out) is tuple:
            names = [self.var(n) if n is not None else "_" for n in out]
            return ", ".join(names) + ("," if len(names) == 1 else "")
        return self.var(out)


# NumPy functions that call the array's method of the same name: written as the method
_AS_METHOD = {np.swapaxes, np.transpose, np.reshape, np.ravel, np.squeeze}


class _OutName:
    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def _unique(hint: str, taken) -> str:
    base = "".join(c if c.isalnum() or c == "_" else "_" for c in hint) or "c"
    if base[0].isdigit():
        base = "_" + base
    name, k = base, 1
    while name in taken or name in ("np", "_T", "_expect", "_A", "_KW"):
        name, k = f"{base}_{k}", k + 1
    return name


# ---------------------------------------------------------------------------- liveness
def last_uses(trace: Trace, instrs: list) -> dict:
    """group -> index of the last instruction that reads or writes a variable of it."""
    last: dict[int, int] = {}
    for i, ins in enumerate(instrs):
        for n in _refs(ins.args) + _refs(ins.kwargs) + list(ins.writes):
            last[trace.vars[n].group] = i
    return last


def _refs(x) -> list:
    if type(x) is Ref:
        return [x.n]
    if type(x) in (tuple, list):
        return [n for v in x for n in _refs(v)]
    if type(x) is dict:
        return [n for v in x.values() for n in _refs(v)]
    if type(x) is slice:
        return _refs((x.start, x.stop, x.step))
    return []


def _reusable(ins, trace: Trace, keep: set) -> bool:
    """A plain ufunc call whose result is a temporary with its own memory."""
    n = ins.out
    return (type(n) is int and isinstance(ins.fn, np.ufunc) and "out" not in ins.kwargs
            and n not in keep and trace.vars[n].owns and trace.vars[n].group == n)


# ---------------------------------------------------------------------------- the body
def generate(trace: Trace, names: dict, keep: set, header: list[str], footer: list[str],
             params: str, instrs: list | None = None, name: str = "replay",
             hypers: dict | None = None) -> Source:
    """The source of `def name(params):` with the kernels (the trace's, or `instrs`)."""
    src = Source(trace, names, keep)
    src.hypers = hypers or {}
    instrs = trace.instrs if instrs is None else instrs
    kept = {trace.vars[n].group for n in keep}
    folded = _fold(src, trace, instrs, kept)
    run = [live and not (ins.kind == "call" and ins.out is not None and all(
        n is None or n in folded for n in _outs(ins)))
        for ins, live in zip(instrs, _needed(trace, instrs, kept))]
    buffers, drops = _plan(trace, instrs, run, keep, kept)
    shown = None
    body: list[str] = list(header)
    for i, ins in enumerate(instrs):
        if ins.site != shown and ins.site is not None:
            shown = ins.site
            body.append(_statement(ins.site))
            src.sites.append((None, ins.site))
        if not run[i]:
            continue  # unused, or a constant computed once when traced
        buffer = buffers.get(i)
        line = _line(src, ins, None if buffer is None else src.var(buffer))
        body.append(f"{line}  # {ins.op}" if ins.op else line)
        src.sites.append((ins.op, ins.site))
        if i in drops:
            body.append("del " + ", ".join(src.var(n) for n in drops[i]))
            src.sites.append((ins.op, ins.site))
    src.lines = [f"def {name}({params}):"] + ["    " + b for b in body + footer]
    return src


_DROP_BYTES = 1 << 16  # smaller temporaries stay until the replay returns (fewer lines)
# A freed temporary lends its memory to a result made at most this many kernels later: held
# longer, it would keep memory that eager gives back (and the allocator hands to others)
_REUSE_WINDOW = 4


def _plan(trace: Trace, instrs: list, run: list, keep: set, kept: set) -> tuple:
    """Memory of the replay's temporaries, in one pass over the kernels:

    buffers: instruction -> the temporary whose memory its result reuses (its last use has
             passed; same shape, dtype and strides): the ufunc writes there with out=;
    drops:   instruction -> names to `del` after it: a large block of memory whose last
             user it was and that no later result reuses, freed as eager would free it.
    """
    ends: dict[int, list] = {}
    for group, end in last_uses(trace, instrs).items():
        if group not in kept:
            ends.setdefault(end, []).append(group)
    block: dict[int, int] = {}  # group -> the variable whose memory it lives in
    users: dict[int, list] = {}  # block -> every variable bound to its memory
    free: dict[tuple, list] = {}
    buffers: dict[int, int] = {}
    last_free: dict[int, int] = {}  # block -> the instruction after which it was last freed
    for i, ins in enumerate(instrs):
        if not run[i]:
            continue
        outs = [n for n in _outs(ins) if n is not None] if ins.kind == "call" else []
        if _reusable(ins, trace, keep):
            v = trace.vars[ins.out]
            pool = free.get((v.shape, v.dtype, v.strides))
            if pool and i - last_free[pool[-1]] <= _REUSE_WINDOW:
                buffers[i] = block[ins.out] = pool.pop()
        for n in outs:
            g = trace.vars[n].group
            if g == n and trace.vars[n].owns and n not in block:
                block[n] = n
            if g in block:
                users.setdefault(block[g], []).append(n)
        for g in ends.get(i, ()):
            if g in block and block[g] not in kept:
                v = trace.vars[g]
                free.setdefault((v.shape, v.dtype, v.strides), []).append(block[g])
                last_free[block[g]] = i
    drops: dict[int, list] = {}
    for b, i in last_free.items():
        if b not in buffers.values() or max(k for k, v in buffers.items() if v == b) < i:
            v = trace.vars[b]
            if int(np.prod(v.shape)) * v.dtype.itemsize >= _DROP_BYTES:
                drops.setdefault(i, []).extend(sorted(set(users[b])))
    return buffers, drops


def _outs(ins) -> tuple:
    return ins.out if type(ins.out) is tuple else (ins.out,)


def _needed(trace: Trace, instrs: list, kept: set) -> list:
    """Which kernels the replay runs: those whose results are used (or handed out), those
    that write memory, check a value or draw random numbers (the stream must advance)."""
    live_groups = set(kept)
    needed = [False] * len(instrs)
    for i in range(len(instrs) - 1, -1, -1):
        ins = instrs[i]
        outs = [n for n in _outs(ins) if n is not None] if ins.kind == "call" else []
        if (ins.kind == "check" or ins.writes or not outs
                or isinstance(getattr(ins.fn, "__self__", None), np.random.Generator)
                or any(trace.vars[n].group in live_groups for n in outs)):
            needed[i] = True
            for n in _refs(ins.args) + _refs(ins.kwargs):
                live_groups.add(trace.vars[n].group)
    return needed


def _fold(src: Source, trace: Trace, instrs: list, kept: set) -> set:
    """Name the trace's constants that no kernel writes and the replay does not hand out:
    the replay reads them as values instead of computing them again."""
    written = {trace.vars[n].group for ins in instrs for n in ins.writes}
    folded = set()
    for n, value in trace.constants.items():
        group = trace.vars[n].group
        if group in written or group in kept:
            continue
        if isinstance(value, np.ndarray):
            value = value.copy()
            value.flags.writeable = False
        scalar = value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value
        if isinstance(scalar, np.generic) and src.value(scalar).startswith("np."):
            src.names[n] = src.value(scalar)  # as written: np.float64(2.0)
        else:
            src.names[n] = src.const(value, f"k{n}")
        folded.add(n)
    return folded


def _line(src: Source, ins, buffer: str | None) -> str:
    if ins.kind == "check":
        call = src.call(ins, None)
        where = f"{ins.op} at {_where(ins.site)}"
        return f"_expect({call}, {ins.out!r}, {where!r})"
    call = src.call(ins, buffer)
    if ins.out is None:
        return call
    return f"{src.pattern(ins.out)} = {call}"


def _where(site) -> str:
    return f"{os.path.basename(site[0])}:{site[1]}" if site else "?"


def _statement(site) -> str:
    text = linecache.getline(site[0], site[1]).strip()
    return f"# {_where(site)}: {text}" if text else f"# {_where(site)}"
