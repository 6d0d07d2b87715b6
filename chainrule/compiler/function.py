"""CompiledFunction and CompiledModule: the cache of traces, their guards and replays."""

from __future__ import annotations

import functools
import inspect
import linecache
import re
import types
import warnings
import weakref
import zlib

import numpy as np

from chainrule.autograd import grad_mode, observers
from chainrule.autograd.function import Function
from chainrule.compiler import codegen
from chainrule.compiler.guards import Walk, guard_source
from chainrule.compiler.trace import GraphBreak, Trace, Tracer
from chainrule.nn import Module
from chainrule.tensor import Tensor

cache_size_limit = 8  # traces per function before it runs eagerly (torch._dynamo's default)


def _T(array) -> Tensor:
    """A Tensor for an array the replay made (no history: the replay has no graph)."""
    if type(array) is not np.ndarray:  # a NumPy scalar (from a full reduction)
        array = np.asarray(array)
    return Tensor._make(array, None, 0, False)


def _expect(value, expected, where: str):
    if value != expected:
        raise RuntimeError(
            f"compiled function: {where} reads a value that differs from the traced call "
            f"({value!r}; traced: {expected!r}), so eager execution would take another branch "
            f"here. Run this call uncompiled to see what it does (compile(..., "
            f"backend='eager')).")
    return value


class _Entry:
    """One trace: its guard, its replay and the generated source."""

    unconfirmed = None  # ids of the NumPy arrays it reads by reference, until confirmed

    def __init__(self, guard, replay, source: str, filename: str, sites: list):
        self.guard, self.replay, self.source = guard, replay, source
        self.filename, self.sites = filename, sites


class CompiledFunction:
    """A function whose calls replay the trace whose guard they pass (module doc)."""

    made: weakref.WeakSet = weakref.WeakSet()  # for compiler.reset()

    def __init__(self, fn, fullgraph: bool = False, eager: bool = False):
        self._fn = fn
        self._fullgraph = fullgraph
        self._disabled = eager  # backend="eager": never traced, whatever reset() does
        self._eager = eager  # True, or the reason it runs eagerly
        self._entries: list[_Entry] = []
        self._tries = 0
        self._why = "its guards kept failing"  # for the cache limit's warning
        functools.update_wrapper(self, fn)
        CompiledFunction.made.add(self)

    def reset(self) -> None:
        """Forget the traces (the next call traces again)."""
        self._entries, self._tries, self._eager = [], 0, self._disabled

    @property
    def code(self) -> str | None:
        """The generated source of the latest trace (None before the first)."""
        return self._entries[-1].source if self._entries else None

    def __get__(self, obj, objtype=None):
        return self if obj is None else types.MethodType(self, obj)

    def __call__(self, *args, **kwargs):
        if self._eager:
            return self._fn(*args, **kwargs)
        for entry in self._entries:
            if entry.guard(args, kwargs):
                if entry.unconfirmed is not None:
                    return self._confirm(entry, args, kwargs)
                return _run(entry, args, kwargs)
        return self._trace(args, kwargs)

    def _confirm(self, entry: _Entry, args, kwargs):
        """Trace a trace's second call: the NumPy arrays it reads by reference must be the
        same objects (kept by the program), not new ones made by untraced NumPy."""
        result, trace = self._traced_call(args, kwargs)
        if trace is None:
            return result
        if [id(a) for a in trace.plain_reads] != entry.unconfirmed:
            self._give_up("it reads NumPy arrays that no Tensor holds and that are new on each "
                          "call (plain NumPy that the tracer does not see, such as a row of a "
                          "dataset array picked in Python): a replay would freeze their "
                          "values; pass such data in as tensors")
        else:
            entry.unconfirmed = None
        return result

    def _trace(self, args, kwargs):
        if self._tries >= cache_size_limit:
            self._give_up(f"it needed more than cache_size_limit={cache_size_limit} traces "
                          f"({self._why})")
            return self._fn(*args, **kwargs)
        if grad_mode._state.dual_levels or observers.forward or observers.node or \
                observers.backward:
            return self._fn(*args, **kwargs)  # forward mode or a tool is on: eager this call
        self._tries += 1
        walk = Walk()
        walk.roots(self._fn, args, kwargs)
        if walk.unguardable:
            self._give_up(walk.unguardable)
            return self._fn(*args, **kwargs)
        result, trace = self._traced_call(args, kwargs, walk)
        if trace is None:
            return result
        entry = None
        if trace.python_effect:
            self._why = trace.python_effect  # not kept: a replay would leave that undone
        elif trace.joint is not None:
            entry = _build_joint(self._fn, trace, walk, trace.joint)
        elif not trace.escaped:  # else a warm-up call (an optimizer making its state)
            entry = _build(self._fn, trace, walk)
        else:
            self._why = "it kept storing new tensors where a replay cannot follow"
        if entry is not None:
            entry.unconfirmed = [id(a) for a in trace.plain_reads] or None
            self._entries.append(entry)
        return result

    def _traced_call(self, args, kwargs, walk: Walk | None = None):
        """(result, trace) of one eager call under the tracer; trace None on a graph break."""
        tracer = Tracer(self._fullgraph, walk.hypers if walk else ())
        with tracer:
            result = self._fn(*args, **kwargs)
            joint = _trace_backward(tracer, result) if _live(result) else None
        if tracer.broken:
            self._give_up(tracer.broken)
            return result, None
        trace = Trace(tracer, result)
        trace.joint = joint
        return result, trace

    def _give_up(self, reason: str) -> None:
        self._eager = reason
        if self._fullgraph:
            raise GraphBreak(f"chainrule.compile(fullgraph=True): {_name(self._fn)}: {reason}")
        warnings.warn(f"chainrule.compile: {_name(self._fn)} runs eagerly from now on: {reason}",
                      stacklevel=4)


def _name(fn) -> str:
    return getattr(fn, "__qualname__", None) or type(fn).__name__


def _run(entry: _Entry, args, kwargs):
    """Replay a trace; an error names the kernel and the user's line it came from."""
    try:
        return entry.replay(args, kwargs)
    except Exception as error:
        tb = error.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != entry.filename:
            tb = tb.tb_next
        if tb is not None:
            op, site = entry.sites[tb.tb_lineno - 2] if tb.tb_lineno - 2 < len(entry.sites) \
                else (None, None)
            where = f"{site[0]}:{site[1]}" if site else "the traced function"
            error.add_note(f"raised by the compiled replay of {where}"
                           + (f" ({op})" if op else ""))
        raise


# ---------------------------------------------------------------------------- building
def _build(fn, trace: Trace, walk: Walk) -> _Entry:
    names, consts, header = _names(fn, trace, walk)
    hypers = _hypers(fn, trace, header, consts)
    keep, footer = _effects(fn, trace, walk, names, consts)
    src = codegen.generate(trace, names, keep, header, footer, "_A, _KW", hypers=hypers)
    consts.update(src.consts)
    text = "\n".join(src.lines) + "\n"
    scope, filename, guard = _load(fn, text, consts, trace, walk)
    return _Entry(guard, scope["replay"], text, filename, [(None, None)] * len(header) + src.sites)


def _load(fn, text: str, consts: dict, trace: Trace, walk: Walk) -> tuple:
    """Run the generated source (its names bound to `consts`) and write the trace's guard:
    (the source's namespace, its file name for tracebacks, the guard)."""
    filename = _source_file(fn, text)
    scope = {"np": np, "_T": _T, "_expect": _expect, **consts}
    exec(_compiled(text, filename), scope)  # noqa: S102 - our own generated code
    read = {id(t): a for _, t, a in trace.inputs if id(t) not in walk.arg_tensors}
    guard_consts: dict = {}
    guard = _guard(fn, guard_source(walk, read, trace.touched, guard_consts, trace.dynamic),
                   guard_consts)
    return scope, filename, guard


def _roots(fn) -> dict:
    """What paths start from: the function's globals, closure cells and bound object."""
    func = fn.__func__ if isinstance(fn, types.MethodType) else fn
    return {"G": getattr(func, "__globals__", {}), "C": getattr(func, "__closure__", None) or (),
            "S": getattr(fn, "__self__", None)}


_ROOT_ARGS = re.compile(r"^(A|KW)\b")  # in the replay the arguments are _A and _KW


def _hypers(fn, trace: Trace, header: list, consts: dict) -> dict:
    """Hyper-parameters the replay reads on each call: a line at its top for each."""
    names: dict[str, str] = {}
    params = _parameters(fn)
    for path in sorted(trace.dynamic):
        names[path] = codegen._unique(_pretty(path, params, fn), consts)
        consts[names[path]] = None  # (reserved; assigned in the replay)
        source = _ROOT_ARGS.sub(r"_\1", path)
        header.append(f"{names[path]} = {source}")
    consts.update(_roots(fn))
    return names


def _guard(fn, expr: str, consts: dict):
    order: dict[str, str] = {}  # o<id> -> o<k>, so that the same guard has the same text
    expr = re.sub(r"\bo\d+\b", lambda m: order.setdefault(m.group(), f"o{len(order)}"), expr)
    consts = {order[k]: v for k, v in consts.items() if k in order}
    scope = {"np": np, "_Tensor": Tensor, "_state": grad_mode._state, "_observers": observers,
             "_ENABLED": grad_mode._state.enabled, **consts, **_roots(fn)}
    exec(_compiled(f"def guard(A, KW):\n    return {expr}\n", "<chainrule.compile guard>"),
         scope)  # noqa: S102
    return scope["guard"]


def _source_file(fn, text: str) -> str:
    """The generated source's file name, registered with linecache so that tracebacks show
    its lines; the same source (the same step of another model) has the same name."""
    filename = f"<chainrule.compile {_name(fn)} {zlib.crc32(text.encode()):08x}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    return filename


@functools.lru_cache(maxsize=64)
def _compiled(text: str, filename: str):
    """Python's compile(), once per source: parsing a long step costs about a millisecond."""
    return compile(text, filename, "exec")


def _names(fn, trace: Trace, walk: Walk):
    """Readable names for the inputs; arguments' arrays are read at the top of the replay."""
    names: dict[int, str] = {}
    consts: dict[str, object] = {}
    header: list[str] = []
    params = _parameters(fn)
    for n, t, array in trace.inputs:
        path = walk.arg_tensors.get(id(t)) or walk.paths.get(id(t))
        name = codegen._unique(_pretty(path, params, fn) if path else f"in{n}",
                               {**consts, **{v: 0 for v in names.values()}})
        names[n] = name
        if id(t) in walk.arg_tensors:
            header.append(f"{name} = _{path}.array")
        else:
            consts[name] = array
    return names, consts, header


def _parameters(fn) -> list:
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, Module) and fn.__name__ == "__call__":
        fn = owner.forward  # a compiled Module: name the arguments as its forward does
    try:
        return list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return []


_ARG, _CELL = re.compile(r"^A\[(\d+)\]"), re.compile(r"^C\[(\d+)\]\.cell_contents")
_SHORTER = [(re.compile(a), b) for a, b in (
    (r"^(G|KW)\['([^']*)'\]", r"\2"), (r"\._(modules|parameters|buffers)\[", "["),
    (r"\._grad", "_grad"), (r"\.param_groups\[\d+\]\['params'\]\[(\d+)\]", r"_p\1"),
    (r"\.param_groups\[\d+\]\['(\w+)'\]", r"_\1"),
    (r"\._?(state|scratch)\[o\d+\]", r"_\1"), (r"^S\b", "self"),
    (r"\.__closure__\[(\d+)\]\.cell_contents", r"_c\1"), (r"\.__defaults__\[(\d+)\]", r"_d\1"),
    (r"\W+", "_"))]


def _pretty(path: str, params: list, fn) -> str:
    """G['W1']._grad -> W1_grad;  S._modules['fc1']._parameters['weight'] -> fc1_weight."""
    func = fn.__func__ if isinstance(fn, types.MethodType) else fn
    free = getattr(getattr(func, "__code__", None), "co_freevars", ())
    path = _ARG.sub(lambda m: params[int(m.group(1))] if int(m.group(1)) < len(params)
                    else f"arg{m.group(1)}", path)
    path = _CELL.sub(lambda m: free[int(m.group(1))], path)
    for pattern, short in _SHORTER:
        path = pattern.sub(short, path)
    return path.strip("_") or "x"


def _effects(fn, trace: Trace, walk: Walk, names: dict, consts: dict):
    """The variables the replay must keep, and the lines that hand them to Tensors."""
    keep: set[int] = set()
    footer: list[str] = []
    held: dict[int, str] = {}
    params = _parameters(fn)

    def tensor(value) -> str:
        if value is None:
            return "None"
        how, x = value
        if how == "new":
            keep.add(x)
            return f"_T({names.get(x, f't{x}')})"
        return _object(x)

    def _object(t) -> str:
        path = walk.arg_tensors.get(id(t))
        if path is not None:
            return "_" + path
        if id(t) not in held:
            hint = _pretty(walk.paths.get(id(t), "obj"), params, fn)
            held[id(t)] = codegen._unique(f"{hint}_t", consts)
            consts[held[id(t)]] = t
        return held[id(t)]

    written = {n for ins in trace.instrs for n in ins.writes}
    for n, t, _ in trace.inputs:  # in-place writes count on the version, as eager's do,
        if n in written and (t._requires_grad or id(t) in walk.arg_tensors):  # where a graph
            # may have saved the tensor (a parameter, an argument; not optimizer state)
            footer.append(f"{_object(t)}._version[0] += 1")
    for t, value in trace.grad_sets:
        footer.append(f"{_object(t)}._grad = {tensor(value)}")
    for t, n in trace.array_sets:
        keep.add(n)
        footer.append(f"{_object(t)}.array = {names.get(n, f't{n}')}")

    def result(r) -> str:
        kind, x = r
        if kind == "tensor":
            return tensor(x)
        if kind in ("tuple", "list"):
            inner = ", ".join(result(v) for v in x)
            return f"({inner},)" if kind == "tuple" and len(x) == 1 else \
                f"({inner})" if kind == "tuple" else f"[{inner}]"
        if kind == "value":
            return repr(x)
        return _object(x)

    footer.append(f"return {result(trace.result)}")
    return keep, footer


# ---------------------------------------------------------------------------- joint mode
def _outputs(result) -> list:
    if isinstance(result, Tensor):
        return [result]
    if type(result) in (tuple, list):
        return [r for r in result if isinstance(r, Tensor)]
    return []


def _live(result) -> bool:
    """Whether the result carries a graph that a backward() outside will run."""
    return any(o._requires_grad and o.grad_fn is not None and not o.grad_fn._freed
               for o in _outputs(result))


class _Joint:
    """What a joint trace knows besides its kernels: where forward ends, what it returns."""

    def __init__(self, split, outputs, differentiable, inputs, grads):
        self.split = split  # instructions before it are forward's, after it backward's
        self.outputs = outputs  # variables of the returned tensors
        self.differentiable = differentiable  # which of them have a grad_fn in eager
        self.inputs = inputs  # the tensors that receive gradients
        self.grads = grads  # the variable of each one's gradient (None: unused)


def _trace_backward(tracer: Tracer, result) -> _Joint:
    """With forward traced, trace the backward from placeholder output gradients to every
    tensor that requires grad (AOTAutograd's joint graph): the replay's one node runs it."""
    from chainrule.autograd.engine import run_backward

    outs = _outputs(result)
    split = len(tracer.instrs)
    live = [o for o in outs if o._requires_grad and o.grad_fn is not None]
    inputs = [t for t in tracer.touched.values() if t._requires_grad]
    seeds = [Tensor._make(tracer.placeholder(o.array.shape, o.array.dtype), None, 0, False)
             for o in live]
    grads = run_backward(live, seeds, retain_graph=True, create_graph=False, inputs=inputs,
                         allow_unused=True, accumulate=False)
    return _Joint(split, [o.array._node[1] for o in outs],
                  [any(o is x for x in live) for o in outs], inputs,
                  [None if g is None else g.array._node[1] for g in grads])


def _build_joint(fn, trace: Trace, walk: Walk, joint: _Joint) -> _Entry:
    """Forward and backward as two generated functions behind one Function (one node)."""
    names, consts, header = _names(fn, trace, walk)
    forward, backward = trace.instrs[:joint.split], trace.instrs[joint.split:]
    ready = {n for n, t, _ in trace.inputs if id(t) in walk.arg_tensors}
    for ins in forward:
        if ins.kind == "call":
            ready.update(n for n in (ins.out if type(ins.out) is tuple else [ins.out])
                         if n is not None)
    needed = {n for ins in backward for n in codegen._refs(ins.args) + codegen._refs(ins.kwargs)}
    saved = sorted((needed | {g for g in joint.grads if g is not None}) & ready)
    for k, n in enumerate(trace.seeds):
        names[n] = f"grad_out{k}"
    out = ", ".join(codegen.Source(trace, names, set()).var(n) for n in joint.outputs)
    keep = set(joint.outputs) | set(saved)
    kept = _tuple(names.get(n, f"t{n}") for n in saved)
    src_f = codegen.generate(trace, names, keep, header, [f"return ({out},), {kept}"],
                             "_A, _KW", forward, "forward")
    grads = ", ".join("None" if g is None else names.get(g, f"t{g}") for g in joint.grads)
    unpack = [f"{kept} = _S", f"{_tuple(f'grad_out{k}' for k in range(len(trace.seeds)))} = _G"]
    src_b = codegen.generate(trace, names, keep | {g for g in joint.grads if g is not None},
                             unpack, [f"return ({grads},)"], "_S, _G", backward, "backward")
    consts.update(src_f.consts)
    consts.update(src_b.consts)
    text = "\n".join(src_f.lines) + "\n\n\n" + "\n".join(src_b.lines) + "\n"
    scope, filename, guard = _load(fn, text, consts, trace, walk)
    graph = _JointGraph(scope["forward"], scope["backward"], joint, walk, trace.result)
    return _Entry(guard, graph.replay, text, filename, [(None, None)] * len(header) + src_f.sites)


def _tuple(names) -> str:
    names = list(names)
    return f"({names[0]},)" if len(names) == 1 else f"({', '.join(names)})"


class _JointGraph:
    """A joint trace's replay: the forward function inside one node whose backward is the
    traced backward function (so `loss.backward()` outside runs it as one step)."""

    def __init__(self, forward, backward, joint: _Joint, walk: Walk, result):
        self.forward, self.backward = forward, backward
        self.differentiable = joint.differentiable
        self.inputs = [(walk.arg_tensors.get(id(t)), t) for t in joint.inputs]
        self.result = result

    def replay(self, args, kwargs):
        tensors = [t if path is None else _argument(path, args, kwargs)
                   for path, t in self.inputs]
        outs = CompiledGraph.apply(*tensors, graph=self, call=(args, kwargs))
        outs = outs if type(outs) is tuple else (outs,)
        kind = self.result[0]
        if kind == "tensor":
            return outs[0]
        return tuple(outs) if kind == "tuple" else list(outs)


def _argument(path: str, args, kwargs):
    """The tensor at a guard path into the arguments: A[0], A[1][2], KW['x']."""
    return eval(path, {"A": args, "KW": kwargs})  # noqa: S307 - a path the Walk wrote


class CompiledGraph(Function):
    """One node for a compiled function's traced forward and backward (AOTAutograd's)."""

    array_forward = True
    grad_fn_name = "CompiledFunctionBackward"
    jvp_reason = ("a compiled function runs eagerly while a forward-mode level is open (its "
                  "guards ask that none is), so this node never carries a tangent")

    @staticmethod
    def forward(ctx, *arrays, graph, call):
        outs, saved = graph.forward(*call)
        ctx.graph, ctx.kept = graph, saved
        still = [o for o, d in zip(outs, graph.differentiable) if not d]
        if still:
            ctx.mark_non_differentiable(*still)
        return outs[0] if len(outs) == 1 else tuple(outs)

    @staticmethod
    def backward(ctx, *grads):
        if grad_mode._state.enabled:
            raise RuntimeError(
                "backward(create_graph=True) through a compiled Module or function: its "
                "backward is traced NumPy code, which records no graph. Call the uncompiled "
                "module (compiled._orig_mod) where you need higher derivatives.")
        seeds = tuple(g.array for g, d in zip(grads, ctx.graph.differentiable) if d)
        result = ctx.graph.backward(ctx.kept, seeds)
        return tuple(None if r is None else _T(r) for r in result)


class CompiledModule(Module):
    """torch.compile(module): the module's calls compiled (OptimizedModule in PyTorch).

    The original module is `_orig_mod` (so state_dict keys start with `_orig_mod.`, as
    PyTorch's); its other attributes, train(), eval(), parameters() pass through.
    """

    def __init__(self, mod: Module, fullgraph: bool = False, eager: bool = False):
        super().__init__()
        self._orig_mod = mod
        self.__dict__["_compiled"] = CompiledFunction(mod.__call__, fullgraph, eager)

    def forward(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    @property
    def code(self) -> str | None:
        return self._compiled.code

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["_orig_mod"], name)
