"""The tracer: run a function eagerly once and record every NumPy kernel it runs.

While `Tracer` is active (a `with` block) it changes four things, and puts them back after:

- `Tensor.array` and `Tensor._grad` become properties: the first read of an array that a
  Tensor held before the trace registers it as an input of the trace and hands out a
  TraceArray (arrays.py) of the same memory; setting `.array` or `._grad` on such a Tensor
  is an effect the replay repeats.
- NumPy's array factories (np.zeros, np.array, ...) and the random Generator's draws are
  recorded like any other kernel, so a fresh array or a dropout mask is made again on replay.
- Tensor methods that read values into Python (`item`, `tolist`, `bool`, `print`) break the
  graph: the replay could not repeat what Python does with the value.
- An observer (autograd/observers.py) names the op and the backward rule that each kernel
  belongs to, for the comments of the generated code.

The result is a `Trace`: a list of `Instr`, one per kernel, over numbered variables.
"""

from __future__ import annotations

import gc
import os
import sys
import types
import weakref

import numpy as np

from chainrule.autograd import grad_mode, graph, observers
from chainrule.compiler import arrays
from chainrule.compiler.arrays import TraceArray, plain
from chainrule.tensor import Tensor

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_LABS = os.path.join(_PKG, "labs") + os.sep
_SKIP = (os.path.dirname(np.__file__) + os.sep, os.path.dirname(os.path.abspath(__file__)))
_view = np.ndarray.view
_asarray = np.asarray  # the tracer's own calls must not be recorded (np.asarray is patched)
_ones = np.ones
_as_strided = np.lib.stride_tricks.as_strided
_SAME_MEMORY = (np.asarray, np.asanyarray, np.ascontiguousarray)  # (the last: if contiguous)
_ARRAY_SLOT = Tensor.__dict__["array"]
_GRAD_SLOT = Tensor.__dict__["_grad"]

# NumPy factories, recorded so that the replay makes each fresh array again
FACTORIES = ("zeros", "ones", "empty", "full", "array", "asarray", "asanyarray",
             "ascontiguousarray", "arange", "eye", "identity", "linspace", "frombuffer",
             "fromiter", "indices", "ix_", "tri", "tril_indices", "triu_indices",
             "diag_indices", "zeros_like", "ones_like", "empty_like", "full_like")
# Tensor methods that hand values to Python: a graph break
READERS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__",
           "__repr__", "__str__", "__format__", "__array__")
# NumPy functions whose Python result depends on shapes only (no value leaves the arrays)
SHAPE_ONLY = {"shape", "ndim", "size", "result_type", "broadcast_shapes", "can_cast",
              "min_scalar_type", "iscomplexobj", "isrealobj", "isscalar", "may_share_memory",
              "shares_memory"}


class GraphBreak(RuntimeError):
    """A compiled function read a tensor's value into Python (fullgraph=True makes it an
    error; otherwise the function runs eagerly from then on)."""


class Ref:
    """A traced variable in an instruction's arguments."""

    __slots__ = ("n",)

    def __init__(self, n: int):
        self.n = n


class Dyn:
    """A hyper-parameter in an instruction's arguments: read from its path on each replay
    (or written as `value` when the trace fixed it)."""

    __slots__ = ("path", "value")

    def __init__(self, path: str, value: float):
        self.path, self.value = path, value


class Instr:
    """One kernel: `out = fn(*args, **kwargs)`; `writes` are the variables it changes in place.

    kind: "call" (a function or method call), "check" (the replay checks that a value read
    by the library is what it was when traced).
    """

    __slots__ = ("kind", "fn", "args", "kwargs", "out", "writes", "op", "site")

    def __init__(self, kind, fn, args, kwargs, out, writes, op, site):
        self.kind, self.fn, self.args, self.kwargs = kind, fn, args, kwargs
        self.out, self.writes, self.op, self.site = out, writes, op, site


class Var:
    """What the trace knows of a variable: its layout and who shares its memory."""

    __slots__ = ("shape", "dtype", "strides", "owns", "group")

    def __init__(self, value, group: int, owns: bool):
        a = _asarray(value)
        self.shape, self.dtype, self.strides = a.shape, a.dtype, a.strides
        self.owns = owns  # fresh memory (not a view of any argument): free to lend when dead
        self.group = group


class Trace:
    """What one traced call leaves: instructions, variables, inputs, effects, result."""

    def __init__(self, tracer: Tracer, result):
        self.instrs = tracer.instrs
        self.vars = tracer.vars
        self.inputs = tracer.input_vars  # [(var, tensor, array)]
        self.dynamic = frozenset(tracer.hyper_read - tracer.hyper_used)  # replay inputs
        self.python_effect = tracer.python_effect
        self.plain_reads = tracer.plain_reads
        self.constants = tracer.constants
        self.seeds = tracer.seeds
        self.grad_sets, self.array_sets = tracer.final_effects()
        self.result = tracer.encode_result(result)
        self.touched = tracer.touched
        self.escaped = tracer.escaped()


def _find_site(depth: int = 2):
    """(the innermost library function running, (file, line) of the user's code)."""
    f = sys._getframe(depth)
    op = inner = None
    while f is not None:
        name = f.f_code.co_filename
        if not name.startswith(_SKIP):
            if name.startswith(_PKG) and not name.startswith(_LABS):
                qualname = f.f_code.co_qualname
                inner = inner or qualname
                if op is None and "." in qualname and "<" not in qualname:
                    op = qualname  # an op's forward or rule, an optimizer's update
            else:
                return op or inner, (name, f.f_lineno)
        f = f.f_back
    return op or inner, None


class Tracer:
    """Records the kernels of one eager call (see the module doc); used as a context manager."""

    def __init__(self, fullgraph: bool, hypers: list = ()):
        self.hypers = hypers  # (param group, key, path) of optimizers' float hyper-parameters
        self.hyper_used: set = set()  # paths whose value Python arithmetic used (fixed)
        self.hyper_read: set = set()  # paths handed to NumPy (replay inputs, if not fixed)
        self.python_effect = None  # what the call changed that a replay cannot repeat
        # NumPy arrays no Tensor holds, read by reference: the program's own (kept between
        # calls), or made during the call by plain NumPy the tracer does not see (a row of a
        # dataset array picked in Python), whose values a replay would freeze. A second trace
        # tells them apart: the program's own are the same objects again.
        self.plain_reads: list = []
        self._outside: list = []
        self.fullgraph = fullgraph
        self.instrs: list[Instr] = []
        self.vars: list[Var] = []
        self.input_vars: list = []
        self.inputs: dict[int, int] = {}  # id(array held before the trace) -> variable
        self.touched: dict[int, Tensor] = {}  # Tensors from before the trace that it used
        self.grad_sets: dict[int, Tensor] = {}
        self.array_sets: dict[int, Tensor] = {}
        self.born: dict[int, weakref.ref] = {}  # Tensors made during the trace
        self.restore: list = []
        self.depth = 0
        # what a TraceArray names as its maker: not the tracer itself, so that an array kept
        # after the trace (a cache) does not keep the tracer and all it saw alive
        self.token = object()
        self.broken = None
        self.node_stack: list = []
        self.node_sites: dict[int, tuple] = {}
        self.seeds: list[int] = []  # placeholders: gradients handed to a joint backward
        self.constants: dict[int, object] = {}  # variables equal on every replay: their value
        self.accounted: set[int] = set()  # born Tensors the replay makes again (effects, result)
        self._undo: list = []

    # ------------------------------------------------------------------ the patches
    def __enter__(self) -> Tracer:
        arrays._active.append(self)
        self._patch(Tensor, "array", property(self._get_array, self._set_array))
        self._patch(Tensor, "_grad", property(_GRAD_SLOT.__get__, self._set_grad))
        for name in READERS:
            self._patch(Tensor, name, self._reader(name, getattr(Tensor, name)))
        for owner, name, fn in _factory_sites():
            self._patch(owner, name, self._factory(fn))
        from chainrule.random import Generator

        self._patch(Generator, "_np", property(lambda g: _Draws(g.__dict__["_np"])))
        self._registration = observers.register(forward=self._forward_seen,
                                                node=self._node_runs)
        self._installed = [(group, key, group[key], self._hyper(group[key], path))
                           for group, key, path in self.hypers]
        for group, key, _, hyper in self._installed:
            group[key] = hyper
        return self

    def _hyper(self, value, path: str):
        if type(value) is tuple:
            return tuple(arrays.Hyper(v, f"{path}[{i}]", self.hyper_used)
                         for i, v in enumerate(value))
        return arrays.Hyper(value, path, self.hyper_used)

    def __exit__(self, *exc) -> None:
        self._registration.remove()
        for group, key, original, hyper in self._installed:
            if group.get(key) is hyper:
                group[key] = original
            else:  # an lr scheduler stepped inside the function: Python state, not kernels
                self.python_effect = f"it changes the optimizer's {key!r} (put the lr " \
                                     f"scheduler's step outside the compiled function)"
        for owner, name, old in reversed(self._undo):
            if type(owner) is dict:  # a module's namespace
                owner[name] = old
            elif old is None:
                delattr(owner, name)
            else:
                setattr(owner, name, old)
        arrays._active.remove(self)
        self._plain_again()

    def _patch(self, owner, name: str, new) -> None:
        if isinstance(owner, types.ModuleType):
            self._undo.append((owner.__dict__, name, owner.__dict__[name]))
            owner.__dict__[name] = new
            return
        self._undo.append((owner, name, owner.__dict__.get(name)))
        setattr(owner, name, new)

    def _reader(self, name: str, method):
        tracer = self

        def read(t, *args, **kwargs):
            if tracer.depth == 0:
                tracer.graph_break(f"Tensor.{name.strip('_')}()", _find_site()[1])
            return method(t, *args, **kwargs)

        read.__name__ = name
        return read

    def _factory(self, fn):
        def factory(*args, **kwargs):
            if sys._getframe(1).f_code.co_filename.startswith(_SKIP[0]):
                return fn(*args, **kwargs)  # NumPy's own use (np.broadcast_shapes' scratch)
            if fn in _SAME_MEMORY:
                a = args[0] if args else kwargs.get("a")
                if type(a) is TraceArray and kwargs.get("dtype", a.dtype) == a.dtype and (
                        fn is not _SAME_MEMORY[-1] or a.flags.c_contiguous) and \
                        len(args) < 2:
                    return a  # the same memory: nothing to record
            return arrays._run(fn, args, kwargs)

        factory.__name__ = fn.__name__
        return factory

    # ---- Tensor.array and Tensor._grad while tracing ----
    def _get_array(self, t):
        a = _ARRAY_SLOT.__get__(t, Tensor)
        if type(a) is TraceArray and a._node is not None and a._node[0] is self.token:
            return a
        return self._input(t, a)

    def _input(self, t, a):
        """The first read of an array held before the trace: an input of the trace."""
        base = _view(a, np.ndarray) if type(a) is TraceArray else a
        n = self.inputs.get(id(base))
        if n is None:
            n = self.inputs[id(base)] = self._new_var(base, ())
            self.input_vars.append((n, t, base))
        traced = self._traced(base, n)
        _ARRAY_SLOT.__set__(t, traced)
        self.touched[id(t)] = t
        self.restore.append((t, a, traced))
        return traced

    def placeholder(self, shape: tuple, dtype) -> TraceArray:
        """An input the replay is handed per call (a gradient arriving from outside)."""
        ones = _ones(shape, dtype)
        n = self._new_var(ones, ())
        self.seeds.append(n)
        return self._traced(ones, n)

    def _set_array(self, t, value) -> None:
        try:
            _ARRAY_SLOT.__get__(t, Tensor)
        except AttributeError:  # a Tensor being made
            self.born[id(t)] = weakref.ref(t)
        else:
            if id(t) not in self.born:
                self.touched[id(t)] = t
                self.array_sets[id(t)] = t
        _ARRAY_SLOT.__set__(t, value)

    def _set_grad(self, t, value) -> None:
        _GRAD_SLOT.__set__(t, value)
        if id(t) not in self.born:
            self.touched[id(t)] = t
            self.grad_sets[id(t)] = t

    # ---- the observers: which op or rule is running ----
    def _forward_seen(self, ctx, outs, args) -> None:
        if ctx._edges:
            self.node_sites[id(ctx)] = _find_site(3)[1]

    def _node_runs(self, node, buf, run):
        self.node_stack.append(node)
        try:
            return run()
        finally:
            self.node_stack.pop()

    # ------------------------------------------------------------------ recording
    def call(self, fn, args: tuple, kwargs: dict):
        """Run fn on plain arrays and record it; return its result as TraceArrays."""
        flat = plain(args)
        self.depth += 1
        try:
            result = fn(*flat, **plain(kwargs))
        finally:
            self.depth -= 1
        for a, p in zip(args, flat):
            if p is result and type(a) is TraceArray and a._node and a._node[0] is self.token:
                return a  # its argument, untouched (astype(copy=False) of the same dtype)
        ins: list = []
        self._outside = []  # the arrays among the arguments that are no traced variable
        enc_args, enc_kwargs = self.encode(args, ins), self.encode(kwargs, ins)
        writes = self._writes(fn, enc_args, enc_kwargs)
        given = kwargs.get("out")
        if writes and self.constants:  # written memory holds a constant no more
            groups = {self.vars[n].group for n in writes}
            self.constants = {k: v for k, v in self.constants.items()
                              if self.vars[k].group not in groups}
        out, wrapped = self._wrap(result, ins) if given is None else (None, result)
        if out is not None and not writes and self._foldable(fn, ins) and \
                not _holds_array((enc_args, enc_kwargs)):
            for n, value in zip(out if type(out) is tuple else (out,), _flat(result)):
                if n is not None:
                    self.constants[n] = value
        if out is None and not writes:
            if result is not None and not isinstance(result, (np.ndarray, np.generic)) and \
                    getattr(fn, "__name__", "") not in SHAPE_ONLY and ins:
                self._check(Instr("call", fn, enc_args, enc_kwargs, None, (), None, None),
                            result)
            return result
        op, site = self._op_and_site()
        self.instrs.append(Instr("call", fn, enc_args, enc_kwargs, out, writes, op, site))
        if given is not None:
            return given[0] if type(given) is tuple and len(given) == 1 else given
        if getattr(fn, "__name__", "") in arrays.WRITES_SELF | arrays.WRITES_FIRST:
            return result
        return wrapped

    def _foldable(self, fn, ins: list) -> bool:
        """Whether fn's result is the same on every replay: computed from constants only
        (the backward's seed, a scale), by a call that neither draws nor leaves memory
        uninitialised. Such results become constants of the replay (codegen)."""
        if fn in _UNFOLDABLE or isinstance(getattr(fn, "__self__", None), np.random.Generator):
            return False
        return all(n in self.constants for n, _ in ins)

    def _writes(self, fn, args, kwargs) -> tuple:
        written = []
        out = kwargs.get("out")
        if out is not None:
            written += [o for o in (out if type(out) is tuple else (out,)) if type(o) is Ref]
        name = getattr(fn, "__name__", "")
        if (name in arrays.WRITES_SELF or name in arrays.WRITES_FIRST) and args and \
                type(args[0]) is Ref:
            written.append(args[0])
        return tuple(o.n for o in written)

    def _wrap(self, r, ins: list):
        """(output pattern, traced result): each array in the result becomes a variable."""
        if isinstance(r, (np.ndarray, np.generic)):
            n = self._new_var(r, ins)
            return n, self._traced(r, n)
        if type(r) in (tuple, list) and any(isinstance(v, np.ndarray) for v in r):
            pattern, values = [], []
            for v in r:
                if isinstance(v, (np.ndarray, np.generic)):
                    n = self._new_var(v, ins)
                    pattern.append(n)
                    values.append(self._traced(v, n))
                else:
                    pattern.append(None)
                    values.append(v)
            return tuple(pattern), type(r)(values)
        return None, r

    def _new_var(self, value, ins) -> int:
        """Name a result. A view of a traced input joins its group (the memory lives as long
        as any of them); a result sharing no memory with any argument owns fresh memory."""
        n = len(self.vars)
        group, owns = n, isinstance(value, np.ndarray)
        if owns:
            for m, a in ins:
                if np.may_share_memory(value, a):
                    group, owns = self.vars[m].group, False
                    break
            owns = owns and not any(np.may_share_memory(value, a) for a in self._outside)
        self.vars.append(Var(value, group, owns))
        return n

    def _traced(self, value, n: int) -> TraceArray:
        t = _view(_asarray(value), TraceArray)
        t._node = (self.token, n)
        return t

    def encode(self, x, ins: list):
        """x with each TraceArray replaced by a Ref (and listed in `ins`)."""
        t = type(x)
        if t is TraceArray:
            node = x._node
            if node is not None and node[0] is self.token:
                ins.append((node[1], _view(x, np.ndarray)))
                return Ref(node[1])
            if node is None:
                self.graph_break("a NumPy call that the tracer cannot record", self._site())
            # else an array that an earlier trace made and the library kept (a cache of
            # index arrays): read by reference, as eager would read it
            return _view(x, np.ndarray)
        if t is tuple or t is list:
            return t(self.encode(v, ins) for v in x)
        if t is dict:
            return {k: self.encode(v, ins) for k, v in x.items()}
        if t is arrays.Hyper:
            self.hyper_read.add(x.path)
            return Dyn(x.path, float.__float__(x))
        if isinstance(x, np.ndarray):
            self._outside.append(x)
            if not _constant(x):
                self.plain_reads.append(x)  # read by reference; a second trace confirms it
        elif isinstance(x, Tensor):
            self.graph_break("a Tensor passed to a NumPy function", self._site())
        return x

    def _op_and_site(self):
        op, site = _find_site(3)
        if self.node_stack:
            node = self.node_stack[-1]
            made = self.node_sites.get(id(node))
            op = f"{node.name()} of {_short(made)}" if made else node.name()
        return op, site

    def _site(self):
        op, site = _find_site(3)
        return site + (op,) if site and op else site

    # ---- values read into Python ----
    def value_read(self, a: TraceArray, how: str, value) -> None:
        """bool() of an array inside the library becomes a check; anything else breaks."""
        op, site = _find_site(3)
        if how == "bool" and op is not None:
            ins: list = []
            ref = self.encode(a, ins)
            self._check(Instr("check", bool, (ref,), {}, None, (), op, site), value)
        else:
            self.graph_break(f"{how}() of a tensor's value", site)

    def _check(self, instr: Instr, expected) -> None:
        instr.kind, instr.out = "check", expected
        instr.op, instr.site = instr.op or _find_site(4)[0], instr.site or _find_site(4)[1]
        self.instrs.append(instr)

    def graph_break(self, what: str, site) -> None:
        where = f"{site[0]}:{site[1]}" if site else "an unknown line"
        if site and len(site) > 2:
            where += f" (in {site[2]})"
        message = (f"{what} at {where}: the trace would depend on the value, so it cannot be "
                   f"replayed")
        if self.fullgraph:
            raise GraphBreak(f"chainrule.compile(fullgraph=True): {message}. Move the read "
                             f"out of the compiled function (return the tensor and read it "
                             f"after the call), or compile with fullgraph=False to run the "
                             f"function eagerly.")
        if self.broken is None:
            self.broken = message

    # ------------------------------------------------------------------ the end
    def _plain_again(self) -> None:
        """Give every Tensor back a plain ndarray (TraceArrays do not outlive the trace)."""
        self._final = {}
        for t, original, traced in self.restore:
            if _ARRAY_SLOT.__get__(t, Tensor) is traced:
                _ARRAY_SLOT.__set__(t, original)
        for ref in list(self.born.values()) + [weakref.ref(t) for t in self.touched.values()]:
            t = ref()
            if t is None:
                continue
            a = _ARRAY_SLOT.__get__(t, Tensor)
            if type(a) is TraceArray:
                if a._node is not None and a._node[0] is self.token:
                    self._final[id(t)] = a._node[1]
                _ARRAY_SLOT.__set__(t, _view(a, np.ndarray))

    def var_of(self, t: Tensor):
        return self._final.get(id(t))

    def final_effects(self):
        """[(tensor, value)] for `._grad` and `.array` set on Tensors from before the trace."""
        grads = []
        for t in self.grad_sets.values():
            g = _GRAD_SLOT.__get__(t, Tensor)
            grads.append((t, self._tensor_value(g)))
        arrays_ = [(t, self.var_of(t)) for t in self.array_sets.values()
                   if self.var_of(t) is not None]  # else it holds its own array again
        return grads, arrays_

    def _tensor_value(self, g):
        """How the replay gets tensor g: None, ("new", var) or ("same", tensor)."""
        if g is None:
            return None
        if id(g) in self.born and self.var_of(g) is not None:
            self.accounted.add(id(g))
            return ("new", self.var_of(g))
        return ("same", g)

    def encode_result(self, r):
        if isinstance(r, Tensor):
            if r.grad_fn is not None:  # the replay returns it without its (spent) history,
                for leaf in graph.walk([r])[1]:  # so the leaves it reaches are not kept
                    self.accounted.add(id(leaf))
            return ("tensor", self._tensor_value(r))
        if type(r) in (tuple, list):
            return (type(r).__name__, [self.encode_result(v) for v in r])
        if r is None or isinstance(r, (bool, int, float, str)):
            return ("value", r)
        return ("object", r)

    def escaped(self) -> int:
        """How many Tensors made by the trace are still alive and not in its effects or
        result: they were stored somewhere the replay cannot repeat (a list, a dict)."""
        gc.collect(0)  # the youngest generation: where a step's short-lived cycles are
        return sum(1 for k, ref in self.born.items()
                   if ref() is not None and k not in self.accounted)


_sites: list = []
_sites_seen = [0]


def _factory_sites() -> list:
    """(module, name, function) for every binding of a factory: NumPy's own, and the
    library's modules that imported one by name (`from numpy.lib.stride_tricks import
    as_strided`). Found again when new modules were imported."""
    if _sites_seen[0] != len(sys.modules):
        originals = {id(getattr(np, n)): getattr(np, n) for n in FACTORIES}
        originals[id(_as_strided)] = _as_strided
        found = [(np, n, getattr(np, n)) for n in FACTORIES]
        found.append((np.lib.stride_tricks, "as_strided", _as_strided))
        for mod_name, module in list(sys.modules.items()):
            if mod_name.startswith("chainrule.") and module is not None and \
                    not mod_name.startswith("chainrule.compiler"):
                found += [(module, k, v) for k, v in vars(module).items()
                          if id(v) in originals and v is originals[id(v)]]
        _sites[:] = found
        _sites_seen[0] = len(sys.modules)
    return _sites


_UNFOLDABLE = {np.empty, np.empty_like, np.frombuffer, np.fromiter}


def _holds_array(x) -> bool:
    """Whether an encoded argument list reads an array by reference or a hyper-parameter
    (either may change between calls: not a constant)."""
    if isinstance(x, np.ndarray) or type(x) is Dyn:
        return True
    if type(x) in (tuple, list):
        return any(_holds_array(v) for v in x)
    if type(x) is dict:
        return any(_holds_array(v) for v in x.values())
    return False


def _flat(result) -> tuple:
    return tuple(result) if type(result) in (tuple, list) else (result,)


def _constant(a: np.ndarray) -> bool:
    """A read-only array whose memory no one can write: a lookup table, safe to keep."""
    while a is not None and isinstance(a, np.ndarray):
        if a.flags.writeable:
            return False
        a = a.base
    return True


def _short(site) -> str:
    return f"{os.path.basename(site[0])}:{site[1]}" if site else "?"


class _Draws:
    """A NumPy Generator whose draws are recorded (dropout masks, randn inside a step)."""

    def __init__(self, rng: np.random.Generator):
        self._rng = rng

    def __getattr__(self, name):
        value = getattr(self._rng, name)
        if not callable(value) or not arrays._active:
            return value
        return lambda *args, **kwargs: arrays._run(value, args, kwargs)


_ = grad_mode  # grad mode is part of what a trace assumes (guards.py reads it)
