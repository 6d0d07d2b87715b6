"""chainrule.autograd: backward(), grad(), Function, grad modes, gradient checkers."""

from __future__ import annotations

from chainrule.autograd.engine import run_backward
from chainrule.autograd.function import AccumulateGrad, Function, Node
from chainrule.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)


def _seed_grads(outputs, grad_outputs, op: str):
    """One upstream gradient per output: ones for scalars, else the caller must give one."""
    from chainrule.tensor import Tensor

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
            import numpy as np

            g = Tensor._make(np.ones(out.array.shape, out.array.dtype), None, 0, False)
        else:
            if not isinstance(g, Tensor):
                from chainrule import as_tensor

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
    from chainrule.tensor import Tensor

    if x is None:
        return None
    if isinstance(x, Tensor):
        return [x]
    return list(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of `tensors` into the `.grad` of the leaves (or of `inputs`)."""
    outputs = _as_list(tensors)
    grads = _as_list(grad_tensors) or [None] * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(f"backward: got {len(grads)} gradients for {len(outputs)} tensors")
    seeds = _seed_grads(outputs, grads, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    inp = _as_list(inputs)
    if inp is not None:
        if len(inp) == 0:
            raise RuntimeError("backward: 'inputs' argument to backward() cannot be empty.")
        for t in inp:
            if not t.requires_grad:
                raise RuntimeError("backward: One of the differentiated Tensors does not "
                                   "require grad")
    results = run_backward(outputs, seeds, retain_graph, create_graph, inputs=inp,
                           accumulate=True)
    del results


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of `outputs` with respect to `inputs`, returned (nothing is accumulated)."""
    from chainrule.tensor import Tensor

    outs = _as_list(outputs)
    inp = _as_list(inputs)
    single = isinstance(inputs, Tensor)
    if not inp:
        raise RuntimeError("grad: 'inputs' cannot be empty")
    for k, t in enumerate(inp):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs must be Tensors, got {type(t).__name__} at {k}")
        if not t.requires_grad:
            raise RuntimeError(f"grad: One of the differentiated Tensors (input {k}) does not "
                               f"require grad")
    gouts = _as_list(grad_outputs) or [None] * len(outs)
    if len(gouts) != len(outs):
        raise RuntimeError(f"grad: got {len(gouts)} grad_outputs for {len(outs)} outputs")
    seeds = _seed_grads(outs, gouts, "grad")
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    results = run_backward(outs, seeds, retain_graph, create_graph, inputs=inp,
                           allow_unused=allow_unused, accumulate=False)
    if materialize_grads:
        from chainrule import zeros_like

        results = [zeros_like(t) if r is None else r for t, r in zip(inp, results)]
    del single
    return tuple(results)


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
