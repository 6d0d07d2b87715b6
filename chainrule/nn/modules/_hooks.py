"""Full backward hooks: identity ops around a module's call that see the gradients pass.

The module's tensor inputs go through one identity op before forward and its tensor outputs
through another after. In backward the second one fires first: it hands grad_output to the
backward pre-hooks (which may replace it) and records it; the first one then hands
(grad_input, grad_output) to the backward hooks (which may replace grad_input).
"""

from __future__ import annotations

import warnings

from chainrule.autograd import grad_mode
from chainrule.autograd.function import Function
from chainrule.tensor import Tensor


class _Identity(Function):
    """out_i = x_i; backward: gx = on_grads(g) (the hooks' chance to read or replace g).

    jvp:       t_out_i = tx_i          # hooks see gradients only: the tangents pass unchanged
    """

    @staticmethod
    def forward(ctx, on_grads, *xs):
        ctx.on_grads = on_grads
        return xs

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.on_grads(grads))

    @staticmethod
    def jvp(ctx, _, *txs):
        return txs


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
        self.where = ()
        self.inputs_hooked = False

    def setup_input(self, args: tuple) -> tuple:
        where = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        # as PyTorch: grad_input has one entry per positional argument, None for non-Tensors
        self.n_inputs, self.where = len(args), where
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
            warnings.warn("Full backward hook is firing when gradients are computed with respect "
                          "to module outputs since no inputs require gradients.", stacklevel=2)
            for hook in list(module._backward_hooks.values()):
                res = hook(module, (None,) * self.n_inputs, grads)
                if res is not None and not (isinstance(res, tuple)
                                            and all(r is None for r in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
        return grads

    def _input_grads(self, grads: tuple) -> tuple:
        module = self.module
        full = [None] * self.n_inputs
        for i, g in zip(self.where, grads):
            full[i] = g
        full = tuple(full)
        for hook in list(module._backward_hooks.values()):
            full = _replace(hook(module, full, self.grad_output), full, "grad_input")
        return tuple(full[i] for i in self.where)
