"""chainrule.func: function transforms, as torch.func.

    grad(f)(x)                 d f / d x, for a scalar f
    grad_and_value(f)(x)       (d f / d x, f(x))
    vjp(f, x)                  (f(x), u -> u^T J_f(x))          reverse mode
    jvp(f, (x,), (v,))         (f(x), J_f(x) v)                  forward mode
    jacrev(f)(x), jacfwd(f)(x) J_f(x), by rows (vjps) or by columns (jvps)
    hessian(f)(x)              jacfwd(jacrev(f))(x)
    functional_call(m, params, (x,))   the module m as a function of its parameters

A transform takes a function and returns a function, so they compose: grad(grad(f)),
jacfwd(jacrev(f)), jvp(grad(f), ...). Reverse-mode transforms differentiate with autograd.grad
(create_graph=True), forward-mode ones with forward_ad's dual levels. No vmap: where torch
vectorizes over basis vectors (jacrev, jacfwd), these loop over them, with the same values.
"""

from chainrule.func.forward import hessian, jacfwd, jvp
from chainrule.func.functional_call import functional_call
from chainrule.func.reverse import grad, grad_and_value, jacrev, vjp

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
           "vjp"]
