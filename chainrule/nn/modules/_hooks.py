"""Full backward hooks: identity ops around a module's call that see the gradients pass.

The module's tensor inputs go through one identity op before forward and its tensor outputs
through another after. In backward the second one fires first: it hands grad_output to the
backward pre-hooks (which may replace it) and records it; the first one then hands
(grad_input, grad_output) to the backward hooks (which may replace grad_input).
"""

from __future__ import annotations

from chainrule.autograd import grad_mode
from chainrule.autograd.function import Function
from chainrule.tensor import Tensor


class _Identity(Function):
    """out_i = x_i; backward: gx = on_grads(g) (the hooks' chance to read or replace g)."""

    @staticmethod
    def forward(ctx, on_grads, *xs):
        ctx.on_grads = on_grads
        return xs

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.on_grads(grads))


def _replace(result, grads: tuple, what: str) -> tuple:
    if result is None:
        return grads
    result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    if len(result) != len(grads):
        raise RuntimeError(f"backward hook returned an invalid number of {what} (got "
                           f"{len(result)}, expected {len(grads)})")
    return result


class BackwardHook:
    def __init__(self, module):
        self.module = module
        self.grad_output = None
        self.n_inputs = 0
        self.inputs_hooked = False

    def setup_input(self, args: tuple) -> tuple:
        where = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_inputs = len(where)
        if not grad_mode.is_grad_enabled() or not any(args[i].requires_grad for i in where):
            return args
        self.inputs_hooked = True
        outs = _Identity.apply(self._input_grads, *(args[i] for i in where))
        args = list(args)
        for i, o in zip(where, outs):
            args[i] = o
        return tuple(args)

    def setup_output(self, output):
        single = isinstance(output, Tensor)
        items = (output,) if single else output if isinstance(output, tuple) else None
        if items is None or not grad_mode.is_grad_enabled():
            return output
        where = [i for i, o in enumerate(items) if isinstance(o, Tensor) and o.requires_grad]
        if not where:
            return output
        outs = _Identity.apply(self._output_grads, *(items[i] for i in where))
        items = list(items)
        for i, o in zip(where, outs):
            items[i] = o
        return items[0] if single else tuple(items)

    def _output_grads(self, grads: tuple) -> tuple:
        module = self.module
        for hook in list(module._backward_pre_hooks.values()):
            grads = _replace(hook(module, grads), grads, "grad_output")
        self.grad_output = grads
        if not self.inputs_hooked:  # no input needs a gradient: the hooks run now, with Nones
            for hook in list(module._backward_hooks.values()):
                hook(module, (None,) * self.n_inputs, grads)
        return grads

    def _input_grads(self, grads: tuple) -> tuple:
        module = self.module
        for hook in list(module._backward_hooks.values()):
            grads = _replace(hook(module, grads, self.grad_output), grads, "grad_input")
        return grads
