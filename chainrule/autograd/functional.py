"""chainrule.autograd.functional: derivatives of a whole function at a point, as torch's.

    vjp(f, x, v)        (f(x), v^T J_f(x))            one backward pass
    jvp(f, x, v)        (f(x), J_f(x) v)              the double-backward trick (below)
    jacobian(f, x)      J_f(x): one backward per output entry (or one jvp per input entry)
    hessian(f, x)       the Jacobian of the gradient, for a scalar f
    vhp(f, x, v)        (f(x), v^T H)                 backward of the gradient
    hvp(f, x, v)        (f(x), H v)                   the double-backward trick on the gradient

Inputs and outputs are a Tensor or a tuple of Tensors; a result follows the same convention
(a tuple when the inputs, or outputs, were a tuple). Each function differentiates fresh
copies of the inputs, so the result is detached unless create_graph=True asks for a graph.
strict=True turns an input that the output does not depend on (mathematically a zero block)
into an error.

The double-backward trick: the vjp u -> J^T u is linear in u, so differentiating J^T u with
respect to u along v gives J v: forward mode out of two reverse passes.

vectorize=True: PyTorch batches the backward passes with vmap; here they run in a loop (the
same values), and the argument keeps PyTorch's checks (strict and vectorize exclude each other;
strategy="forward-mode" requires vectorize=True, as in PyTorch).
"""

from __future__ import annotations

import numpy as np

from chainrule.autograd import forward_ad
from chainrule.autograd import grad as autograd_grad
from chainrule.autograd.grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from chainrule.creation import zeros_like
from chainrule.functions import stack
from chainrule.tensor import Tensor

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


# --------------------------------------------------------------------------- utilities
def _as_tuple(inp, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    """(whether inp was a tuple, inp as a tuple of Tensors)."""
    is_tuple = isinstance(inp, tuple)
    inp = inp if is_tuple else (inp,)
    for i, el in enumerate(inp):
        if not isinstance(el, Tensor):
            where = (f"the value at index {i} has type {type(el)}" if is_tuple else
                     f"the given {arg_name} has type {type(el)}")
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but {where}.")
    return is_tuple, inp


def _tuple_postprocess(res, to_unpack):
    """Undo _as_tuple: to_unpack is one flag, or (outputs were a tuple, inputs were a tuple)."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """New Tensor objects for the inputs: differentiable views when the caller's graph must
    reach through (create_graph and the input requires grad), detached copies otherwise."""
    return tuple(x.view_as(x) if create_graph and x.requires_grad else
                 x.detach().requires_grad_(need_graph) for x in inputs)


def _grad_postprocess(inputs: tuple, create_graph: bool) -> tuple:
    if isinstance(inputs[0], Tensor):
        return inputs if create_graph else tuple(x.detach() for x in inputs)
    return tuple(_grad_postprocess(x, create_graph) for x in inputs)


def _validate_v(v: tuple, other: tuple, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {el_other.size()} but "
                               f"got {el_v.size()}.")


_NOT_REQUIRING_GRAD = {
    "hessian": "The hessian of the user-provided function with respect to input {i} is "
               "independent of the input. This is not allowed in strict mode. You should ensure "
               "that your function is thrice differentiable and that the hessian depends on the "
               "inputs.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided "
                "function with respect to input {i} is independent of the input. This is not "
                "allowed in strict mode. You should ensure that your function is twice "
                "differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example).",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the "
                   "user-provided function. This is not allowed in strict mode.",
    "outputs": "Output {i} of the user-provided function does not require gradients. The "
               "outputs must be computed in a differentiable manner from the input when running "
               "in strict mode.",
}


def _check_requires_grad(inputs: tuple, input_type: str, strict: bool) -> None:
    """strict mode: every tensor of `inputs` (of kind input_type) must carry a graph."""
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if not inp.requires_grad:
            raise RuntimeError(_NOT_REQUIRING_GRAD[input_type].format(i=i))


def _autograd_grad(outputs: tuple, inputs: tuple, grad_outputs=None, create_graph=False,
                   retain_graph=None) -> tuple:
    """autograd.grad over the outputs that require grad; None for an input none reaches."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs, gouts = zip(*pairs)
    return autograd_grad(list(outs), list(inputs), list(gouts), allow_unused=True,
                         create_graph=create_graph, retain_graph=retain_graph)


_NO_GRAD_MSG = {
    "back": "The output of the user-provided function is independent of input {i}. This is not "
            "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
                   "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} "
                         "in the grad_jacobian. This is not allowed in strict mode as it "
                         "prevents from using the double backward trick to replace forward mode "
                         "AD.",
}


def _fill_in_zeros(grads: tuple, refs: tuple, strict: bool, create_graph: bool,
                   stage: str) -> tuple:
    """None gradients become zeros (the true value), or strict-mode errors naming the stage."""
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_NO_GRAD_MSG[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               "create_graph=True.")
        res.append(g)
    return tuple(res)


def _prepare(func, inputs, v, fn_name: str, create_graph: bool, strict: bool,
             v_of: str) -> tuple:
    """Shared opening of vjp/jvp/vhp/hvp: fresh inputs, checked v, and (for vjp) outputs.

    v_of is "outputs" (v matches f's outputs: vjp) or "inputs" (the others).
    Returns (is_inputs_tuple, inputs, v, is_outputs_tuple, outputs).
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    if v_of == "inputs":
        v = _checked_v(v, inputs, is_inputs_tuple, fn_name, create_graph, "input to")
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                          fn_name)
    _check_requires_grad(outputs, "outputs", strict=strict)
    if v_of == "outputs":
        v = _checked_v(v, outputs, is_outputs_tuple, fn_name, create_graph, "output of")
    return is_inputs_tuple, inputs, v, is_outputs_tuple, outputs


def _checked_v(v, other: tuple, is_other_tuple: bool, fn_name: str, create_graph: bool,
               side: str):
    """v as a tuple shaped like `other`; None is allowed when `other` is one 1-element Tensor."""
    if v is not None:
        _, v = _as_tuple(v, "v", fn_name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, other, is_other_tuple)
        return v
    if len(other) != 1 or other[0].nelement() != 1:
        if side == "output of":
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
        raise RuntimeError("The vector v can only be None if the input to the user-provided "
                           "function is a single Tensor with a single element.")
    return None


def _last_grad(outs, wrt, v, like, stage: str, create_graph: bool, strict: bool):
    """The last autograd.grad of vjp, jvp, vhp and hvp: v^T d outs / d wrt, zeros filled in
    shaped like `like`; it records a graph where create_graph asks for one."""
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(outs, wrt, v, create_graph=create_graph)
        return _fill_in_zeros(grad_res, like, strict, create_graph, stage)


def _results(outputs, is_out_tuple: bool, result, is_result_tuple: bool, create_graph: bool):
    """(func's outputs, the product), each unnested where the user gave a single Tensor."""
    return (_tuple_postprocess(_grad_postprocess(outputs, create_graph), is_out_tuple),
            _tuple_postprocess(_grad_postprocess(result, create_graph), is_result_tuple))


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product at `inputs`, shaped like the inputs.

    v is shaped like func's output (it may be omitted for a 1-element output: v = 1).
    """
    with enable_grad():
        is_in_tuple, inputs, v, is_out_tuple, outputs = _prepare(
            func, inputs, v, "vjp", create_graph, strict, v_of="outputs")
    result = _last_grad(outputs, inputs, v, inputs, "back", create_graph, strict)
    return _results(outputs, is_out_tuple, result, is_in_tuple, create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, shaped like func's output.

    By the double-backward trick: g(u) = J^T u is linear in u (u: zeros that require grad),
    and the vjp of g with v is d(v^T J^T u)/du = J v. (chainrule.func.jvp uses forward mode.)
    """
    with enable_grad():
        is_in_tuple, inputs, v, is_out_tuple, outputs = _prepare(
            func, inputs, v, "jvp", create_graph, strict, v_of="inputs")
        grad_outputs = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)
    result = _last_grad(grad_inputs, grad_outputs, v, outputs, "back_trick", create_graph, strict)
    return _results(outputs, is_out_tuple, result, is_out_tuple, create_graph)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of func at inputs: jac[i][j] = d output_i / d input_j.

    jac[i][j] has shape output_i.shape + input_j.shape (unnested where func's inputs or
    outputs are a single Tensor). strategy="reverse-mode": one backward pass per output entry
    (row by row); "forward-mode": one forward-mode pass per input entry (column by column),
    cheaper when the inputs are fewer than the outputs.
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
            'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.')
        return _jacfwd(func, inputs, strict, vectorize)
    with enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_out_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                          "jacobian")
        _check_requires_grad(outputs, "outputs", strict=strict)
        if vectorize and strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are "
                "not supported together. Please either set `strict=False` or `vectorize=False`.")
        jac = tuple(_jacobian_rows(i, out, inputs, create_graph, strict)
                    for i, out in enumerate(outputs))
        jac = _grad_postprocess(jac, create_graph)
        return _tuple_postprocess(jac, (is_out_tuple, is_in_tuple))


def _jacobian_rows(i: int, out, inputs: tuple, create_graph: bool, strict: bool) -> tuple:
    """d out / d input_j for every j, one backward pass per entry of `out` (a row of J each)."""
    rows = tuple([] for _ in inputs)
    for k in range(out.nelement()):
        vj = _autograd_grad((out.reshape(-1)[k],), inputs, retain_graph=True,
                            create_graph=create_graph)
        for j, (row, g, inp) in enumerate(zip(rows, vj, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is independent "
                                       f"of input {j}. This is not allowed in strict mode.")
                g = zeros_like(inp)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f"The jacobian of the user-provided function is independent "
                                   f"of input {i}. This is not allowed in strict mode when "
                                   "create_graph=True.")
            row.append(g)
    return tuple(stack(row).reshape(tuple(out.shape) + tuple(inp.shape)) if row else
                 inp.new_zeros(tuple(out.shape) + tuple(inp.shape))
                 for row, inp in zip(rows, inputs))


def _jacfwd(func, inputs, strict: bool, vectorize: bool):
    """jacobian(strategy="forward-mode"): column k of J is the tangent of f along e_k."""
    if strict:
        raise RuntimeError(
            "torch.autograd.functional.jacobian: `strict=True` and `strategy=\"forward-mode\"` "
            "are not supported together (yet). Please either set `strict=False` or "
            "`strategy=\"reverse-mode\"`.")
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    if not vectorize:
        raise NotImplementedError(
            "Computing Jacobian using forward-AD or forward-over-reverse Hessian is only "
            "implemented for `vectorize=True`.")
    columns, outputs, is_out_tuple = [], None, False
    for j, inp in enumerate(inputs):
        for k in range(inp.nelement()):
            with forward_ad.dual_level():
                duals = tuple(forward_ad.make_dual(x, _unit(x, k if m == j else None))
                              for m, x in enumerate(inputs))
                is_out_tuple, outs = _as_tuple(func(*duals), "outputs", "jacobian")
                pairs = [forward_ad.unpack_dual(o) for o in outs]
            outputs = [p for p, _ in pairs]
            columns.append([zeros_like(p) if t is None else t for p, t in pairs])
    numels = np.cumsum([0] + [x.nelement() for x in inputs])
    # lists, not tuples, for tuple inputs or outputs: as PyTorch returns them in this mode
    jac = [[_stacked_columns([c[i] for c in columns[numels[j]:numels[j + 1]]], out, inp)
            for j, inp in enumerate(inputs)] for i, out in enumerate(outputs)]
    return _tuple_postprocess(jac, (is_out_tuple, is_in_tuple))


def _unit(x, k):
    """A tangent for x: zeros, with a 1 at flat position k (none when k is None)."""
    e = np.zeros(x.array.shape, x.array.dtype)
    if k is not None:
        e.reshape(-1)[k] = 1
    return Tensor._make(e, None, 0, False)


def _stacked_columns(columns: list, out, inp):
    """Columns d out / d inp_flat[k] -> the block of shape out.shape + inp.shape."""
    if not columns:
        return out.new_zeros(tuple(out.shape) + tuple(inp.shape))
    return stack(columns, dim=-1).reshape(tuple(out.shape) + tuple(inp.shape))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar func: H[i][j] = d^2 f / d input_i d input_j.

    The Jacobian of the gradient: the inner Jacobian (the gradient) is always reverse mode,
    with create_graph=True so that it can be differentiated again; the outer one uses
    outer_jacobian_strategy. H[i][j] has shape input_i.shape + input_j.shape.
    """
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict=strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.nelement() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        return out.squeeze()

    def jac_func(*inp):
        if outer_jacobian_strategy == "forward-mode":
            # the inner jacobian keeps (create_graph) only inputs that require grad
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_in_tuple, is_in_tuple))


def _scalar_output(outputs: tuple, is_out_tuple: bool, fn_name: str) -> None:
    if is_out_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                           "contain a single element")


def _prepare_gradient(func, inputs, v, fn_name: str, create_graph: bool, strict: bool):
    """_prepare for vhp and hvp, plus the gradient of the scalar func, kept differentiable."""
    is_in_tuple, inputs, v, is_out_tuple, outputs = _prepare(
        func, inputs, v, fn_name, create_graph, strict, v_of="inputs")
    _scalar_output(outputs, is_out_tuple, fn_name)
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict=strict)
    return is_in_tuple, inputs, v, is_out_tuple, outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar func: the vjp of the gradient with v."""
    with enable_grad():
        is_in_tuple, inputs, v, is_out_tuple, outputs, jac = _prepare_gradient(
            func, inputs, v, "vhp", create_graph, strict)
    result = _last_grad(jac, inputs, v, inputs, "double_back", create_graph, strict)
    return _results(outputs, is_out_tuple, result, is_in_tuple, create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar func, by the double-backward trick on the gradient.

    H v = d/du (v^T H^T u) where H^T u is the vjp of the gradient with u; for a twice
    continuously differentiable func H is symmetric and hvp equals vhp.
    """
    with enable_grad():
        is_in_tuple, inputs, v, is_out_tuple, outputs, jac = _prepare_gradient(
            func, inputs, v, "hvp", create_graph, strict)
        grad_jac = tuple(zeros_like(x, requires_grad=True) for x in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)
    result = _last_grad(double_back, grad_jac, v, inputs, "double_back_trick", create_graph, strict)
    return _results(outputs, is_out_tuple, result, is_in_tuple, create_graph)
