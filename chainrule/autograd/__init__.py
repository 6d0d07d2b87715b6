"""chainrule.autograd: backward(), grad(), Function, grad modes, gradient checkers."""

from __future__ import annotations

import numpy as np

from chainrule.autograd.engine import run_backward
from chainrule.autograd.function import AccumulateGrad, Function, Node
from chainrule.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from chainrule.creation import as_tensor, zeros_like
from chainrule.functions import stack
from chainrule.tensor import Tensor


def _seed_grads(outputs, grad_outputs, op: str) -> list:
    """One upstream gradient per output: ones for scalars, else the caller must give one."""
    grads = []
    for k, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(out, Tensor):
            raise TypeError(f"{op}: outputs must be Tensors, got {type(out).__name__}")
        if not out.requires_grad:
            raise RuntimeError(
                f"{op}: element {k} of tensors does not require grad and does not have a "
                f"grad_fn. Make sure a leaf it depends on was created with requires_grad=True "
                f"and that the computation did not run under no_grad()."
            )
        if g is None:
            if out.array.size != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for scalar outputs; this output "
                    f"has shape {list(out.shape)}. Pass gradient= (a tensor of that shape), or "
                    f"reduce first, e.g. out.sum().backward()"
                )
            g = Tensor._make(np.ones(out.array.shape, out.array.dtype), None, 0, False)
        else:
            if not isinstance(g, Tensor):
                g = as_tensor(g, dtype=out.dtype)
            if g.array.shape != out.array.shape:
                raise RuntimeError(
                    f"{op}: Mismatch in shape: grad_output[{k}] has a shape of "
                    f"{list(g.shape)} and output[{k}] has a shape of {list(out.shape)}."
                )
            if g.array.dtype != out.array.dtype:
                g = g.to(out.dtype)
        grads.append(g)
    return grads


def _as_list(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return [x]
    return list(x)


def _check_inputs(inputs: list, op: str) -> None:
    if not inputs:
        raise RuntimeError(f"{op}: 'inputs' argument to {op}() cannot be empty.")
    for k, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: inputs must be Tensors, got {type(t).__name__} at {k}")
        if not t.requires_grad:
            raise RuntimeError(f"{op}: One of the differentiated Tensors (input {k}) does not "
                               f"require grad")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of `tensors` into the `.grad` of the leaves (or of `inputs`)."""
    outputs = _as_list(tensors)
    grads = _as_list(grad_tensors) or [None] * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(f"backward: got {len(grads)} gradients for {len(outputs)} tensors")
    seeds = _seed_grads(outputs, grads, "backward")
    inputs = _as_list(inputs)
    if inputs is not None:
        _check_inputs(inputs, "backward")
    run_backward(outputs, seeds, create_graph if retain_graph is None else retain_graph,
                 create_graph, inputs=inputs, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of `outputs` with respect to `inputs`, returned (nothing is accumulated).

    is_grads_batched=True: each grad_output has a leading batch dimension and the result is
    the stack of one vector-Jacobian product per batch entry (PyTorch computes them with
    vmap; here they are a loop over the batch, with the same values). only_inputs is
    accepted for compatibility: PyTorch ignores it too (deprecated).
    """
    outs = _as_list(outputs)
    inp = _as_list(inputs)
    _check_inputs(inp, "grad")
    gouts = _as_list(grad_outputs) or [None] * len(outs)
    if len(gouts) != len(outs):
        raise RuntimeError(f"grad: got {len(gouts)} grad_outputs for {len(outs)} outputs")
    if allow_unused is None:
        allow_unused = materialize_grads
    if is_grads_batched:
        results = _batched_grad(outs, inp, gouts, retain_graph, create_graph, allow_unused)
    else:
        seeds = _seed_grads(outs, gouts, "grad")
        results = run_backward(outs, seeds, create_graph if retain_graph is None else
                               retain_graph, create_graph, inputs=inp,
                               allow_unused=allow_unused, accumulate=False)
    if materialize_grads:
        results = [zeros_like(t) if r is None else r for t, r in zip(inp, results)]
    return tuple(results)


def _batched_grad(outs, inp, gouts, retain_graph, create_graph, allow_unused) -> list:
    """grad(is_grads_batched=True): one backward per entry of the grad_outputs' first axis."""
    sizes = {g.shape[0] if isinstance(g, Tensor) and g.ndim > 0 else None for g in gouts}
    if len(sizes) != 1 or None in sizes:
        raise RuntimeError(
            "grad: is_grads_batched=True needs every grad_output to be a Tensor with the same "
            f"leading batch dimension; got leading sizes {sorted(map(str, sizes))}")
    (n,) = sizes
    if n == 0:
        raise RuntimeError("grad: is_grads_batched=True got a batch of size 0")
    keep = create_graph if retain_graph is None else retain_graph
    rows = []
    for b in range(n):
        seeds = _seed_grads(outs, [g[b] for g in gouts], "grad")
        rows.append(run_backward(outs, seeds, keep or b < n - 1, create_graph, inputs=inp,
                                 allow_unused=allow_unused, accumulate=False))
    return [None if rows[0][k] is None else stack([row[k] for row in rows])
            for k in range(len(inp))]


from chainrule._legacy import Variable  # noqa: E402, F401 - older programs' autograd.Variable
from chainrule.autograd import functional  # noqa: E402, F401 - torch.autograd.functional
from chainrule.autograd.gradcheck import gradcheck, gradgradcheck  # noqa: E402

# detect_anomaly, strict, explain, paths and check_op are tools (chainrule/tools/): they add
# themselves to this namespace when chainrule is imported, and the core never imports them.
__all__ = [
    "AccumulateGrad", "Explanation", "Function", "Node", "Path", "backward", "check_op",
    "enable_grad", "explain", "grad", "gradcheck", "paths",
    "gradgradcheck", "inference_mode", "is_grad_enabled", "no_grad", "set_grad_enabled",
    "StrictModeWarning", "detect_anomaly", "is_anomaly_check_nan_enabled", "is_anomaly_enabled",
    "is_strict_enabled", "set_detect_anomaly", "strict",
]
