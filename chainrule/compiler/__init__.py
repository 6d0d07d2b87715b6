"""chainrule.compile: trace a function once, replay it as straight-line NumPy you can read.

    step = chainrule.compile(step)       # or @chainrule.compile, or torch.compile(step)
    step(x, y)                           # first call: runs eagerly and records its kernels
    step(x, y)                           # later calls: one generated Python function
    print(step.code)                     # ... which you can read

How it works (the same idea as torch.compile and jax.jit):

1. **Trace.** The first call runs the function eagerly while a tracer (trace.py) records
   every NumPy kernel that runs - the forward ops, the backward rules the engine calls, the
   gradient accumulation, the optimizer's update - with the op and the user's line each
   belongs to. The arrays are the real ones, so this call's results are eager's results.
2. **Generate.** codegen.py writes the kernels out as one Python function: no Node, no
   Tensor, no engine; temporaries are locals, in-place updates write into the same arrays
   eager writes into, dead temporaries lend their memory to new ones.
3. **Guard.** guards.py writes down what the trace assumed; a later call whose world
   differs (another shape, eval mode, a replaced parameter) traces again, up to
   `cache_size_limit` traces per function, then runs eagerly with one warning.

What is guarded (a change traces again): the arguments' shapes, dtypes, strides,
requires_grad and whether they have a grad_fn; numbers and strings among the arguments,
the referenced globals and closure variables, by value; the identity of the Tensors,
Modules and Optimizers reached from those (and of each Tensor's array that the trace read);
Modules' `training`; optimizers' state keys and hyper-parameters (a float hyper-parameter
that only reaches NumPy calls, such as SGD's or Adam's lr, is read by the replay on each call
instead, so an lr scheduler stepping between calls needs no new trace); whether
each reached Tensor's `.grad` is None; grad mode; no forward-mode level; no tool (anomaly
mode, strict mode, explain) observing the core.

What a replay cannot repeat is not kept: a call that stores new tensors somewhere (an
optimizer making its state on its first step) is a warm-up, traced again on the next call;
a call that changes an optimizer's hyper-parameters (an lr scheduler's step inside the
function) is never replayed. NumPy arrays that no Tensor holds are read by reference; a
second trace checks that they are the program's own (the same objects again).

What is not guarded (as `jax.jit` documents for closures): Python state the function
changes outside tensors (a counter in a list, an iterator's position: an iterator argument
or global is refused), objects reached only through function calls or deeper than eight
attributes, and Tensors that alias each other differently from the traced call. Tensors
reached that way are read as they were when traced.

Graph breaks: reading a value into Python inside the function (`.item()`, `float()`,
`bool()`, `.tolist()`, `.numpy()`, printing a tensor) makes the trace depend on it: with
fullgraph=False the function runs eagerly from then on, after one warning naming the line;
with fullgraph=True that line raises GraphBreak. The library's own checks (`if mask.any()`
inside an op) become checks in the replay that raise if the value differs.

Arguments, as torch.compile's:
    fullgraph  True: a graph break is an error (GraphBreak), not a fall back to eager.
    dynamic    None or False: each trace is specialised to its shapes (a new shape is a new
               trace). True (symbolic shapes) is refused: a trace here is straight-line code
               for one set of shapes.
    mode       None, "default", "reduce-overhead", "max-autotune",
               "max-autotune-no-cudagraphs": all the same here (the replay has no per-op
               overhead left to reduce and no kernels to tune).
    backend    "inductor" (the default) and "aot_eager": trace and replay. "eager": run
               the function as it is (to tell whether a difference comes from the compiler).
               A callable backend is refused: there is no FX graph to hand it.
"""

from __future__ import annotations

import functools

from chainrule.compiler import arrays
from chainrule.compiler.function import CompiledFunction, CompiledModule, cache_size_limit
from chainrule.compiler.trace import GraphBreak

__all__ = ["compile", "reset", "is_compiling", "GraphBreak", "CompiledFunction", "CompiledModule",
           "cache_size_limit"]

MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
BACKENDS = ("inductor", "aot_eager", "eager")


def compile(model=None, *, fullgraph: bool = False, dynamic=None, mode=None, backend="inductor",
            options=None, disable: bool = False):
    """torch.compile: a function or Module whose later calls replay a trace of the first.

    Usable as `compile(fn)`, `@compile` and `@compile(fullgraph=True)`.
    """
    if dynamic:
        raise NotImplementedError(
            "compile(dynamic=True): chainrule traces straight-line code for one set of "
            "shapes; a new shape makes a new trace. Use dynamic=None (the default).")
    if mode not in MODES:
        raise ValueError(f"compile: unknown mode {mode!r}; the modes are "
                         f"{', '.join(repr(m) for m in MODES)}")
    if callable(backend) or backend not in BACKENDS:
        raise ValueError(f"compile: backend {backend!r} is not available; chainrule has "
                         f"{', '.join(repr(b) for b in BACKENDS)} (there is no FX graph to "
                         f"hand a custom backend)")
    if options:
        raise ValueError(f"compile: options {sorted(options)} are inductor settings; "
                         f"chainrule's replay has none")
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic, mode=mode,
                                 backend=backend, disable=disable)
    eager = disable or backend == "eager"
    from chainrule.nn import Module

    if isinstance(model, Module):
        return CompiledModule(model, fullgraph=fullgraph, eager=eager)
    if not callable(model):
        raise TypeError(f"compile expects a function or a Module, got {type(model).__name__}")
    return CompiledFunction(model, fullgraph=fullgraph, eager=eager)


def reset() -> None:
    """Forget every trace of every compiled function (torch.compiler.reset)."""
    for f in list(CompiledFunction.made):
        f.reset()


def is_compiling() -> bool:
    """True while a compiled function is being traced (torch.compiler.is_compiling)."""
    return bool(arrays._active)
