"""Hooks against PyTorch: tensor hooks, retain_grad, post-accumulate hooks, Node hooks and
module forward / backward hooks.

Each scenario is one function of the library (`chainrule` or `torch`, the same code for both)
that returns a log - call order, arguments' shapes, gradient values - and the two logs must be
equal: same calls, same counts, same arguments, same numbers.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule
from tests._torch import torch

A = np.array([[0.5, -1.25, 2.0], [1.5, 0.25, -0.75]])
B = np.array([[1.0, 2.0, -0.5], [-1.5, 0.75, 0.5]])
W = np.array([[0.3, -0.2, 0.1], [0.5, 0.4, -0.6]])
BIAS = np.array([0.05, -0.1])


def _plain(v):
    """A log entry with tensors turned into arrays (and grad_fn objects into their names)."""
    if isinstance(v, (chainrule.Tensor, torch.Tensor)):
        return np.array(v.detach().numpy(), dtype=np.float64)
    if isinstance(v, (tuple, list)):
        return type(v)(_plain(x) for x in v)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, torch.Size):
        return tuple(v)
    return v


def _same(a, b, where="log"):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), (where, a, b)
        assert a.shape == b.shape, (where, a.shape, b.shape)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=where)
    elif isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b), (where, a, b)
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), (where, a.keys(), b.keys())
        for k in a:
            _same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, float):  # e.g. loss.item(): BLAS may round a matmul differently
        assert a == pytest.approx(b, rel=1e-12, abs=1e-14), (where, a, b)
    else:
        assert a == b, (where, a, b)


def _agree(scenario):
    """Run scenario(lib) with both libraries; their logs must match."""
    ours, theirs = _plain(scenario(chainrule)), _plain(scenario(torch))
    _same(ours, theirs)
    return ours


def _t(m, array, requires_grad=True):
    return m.tensor(np.array(array, dtype=np.float64), requires_grad=requires_grad)


# ---------------------------------------------------------------------- Tensor.register_hook
def test_leaf_hook_replaces_the_gradient():
    def f(m):
        x = _t(m, A)
        log = []
        x.register_hook(lambda g: log.append(("hook", g.clone())) or g * 10)
        (x * _t(m, B, False)).sum().backward()
        return log + [("grad", x.grad)]

    log = _agree(f)
    np.testing.assert_array_equal(log[-1][1], 10 * B)


def test_non_leaf_hook_replaces_what_flows_on():
    def f(m):
        x, w = _t(m, A), _t(m, B)
        log = []
        h = x * w
        h.register_hook(lambda g: log.append(("first", g.clone())))  # None: g unchanged
        h.register_hook(lambda g: g * 0 + 1)  # the rules of x and w see all ones
        h.register_hook(lambda g: log.append(("third", g.clone())))
        (h * h).sum().backward()
        return log + [x.grad, w.grad, h.is_leaf]

    log = _agree(f)
    np.testing.assert_array_equal(log[-3], B)  # d(x * w)/dx with the hooked g = 1


def test_hook_removal_by_handle_and_context():
    def f(m):
        x = _t(m, A)
        calls = []
        keep = x.register_hook(lambda g: calls.append("keep"))
        gone = x.register_hook(lambda g: calls.append("gone") or g * 100)
        y = x * 2
        y_gone = y.register_hook(lambda g: g * 0)
        gone.remove()
        y_gone.remove()
        gone.remove()  # removing twice is harmless
        y.sum().backward()
        keep.remove()
        (x * 2).sum().backward()
        return [calls, x.grad]

    log = _agree(f)
    assert log[0] == ["keep"]


def test_hooks_see_the_summed_gradient_once():
    def f(m):
        x = _t(m, [1.0, -2.0, 3.0])
        y = x * 3
        calls = []
        y.register_hook(lambda g: calls.append(("y", g.clone())))
        x.register_hook(lambda g: calls.append(("x", g.clone())) or g.clamp(-5.0, 5.0))
        (y + y * y + x * x).sum().backward()
        return [calls, x.grad]

    log = _agree(f)
    assert [name for name, _ in log[0]] == ["y", "x"]


def test_hooks_under_autograd_grad_and_retain_graph():
    def f(m):
        x = _t(m, A)
        h = x.exp()
        calls = []
        h.register_hook(lambda g: calls.append("h") or g * 2)
        x.register_hook(lambda g: calls.append("x") or g + 1)
        y = (h * h).sum()
        (gx,) = m.autograd.grad(y, x, retain_graph=True)
        (gh,) = m.autograd.grad(y, h, retain_graph=True)
        y.backward()
        return [calls, gx, gh, x.grad]

    _agree(f)


def test_register_hook_errors():
    for m in (chainrule, torch):
        x = _t(m, A, requires_grad=False)
        with pytest.raises(RuntimeError, match="doesn't require gradient"):
            x.register_hook(lambda g: g)


# ---------------------------------------------------------------------- retain_grad
def test_retain_grad_keeps_non_leaf_gradients_and_accumulates():
    def f(m):
        x = _t(m, A)
        h = x * 3
        t = h.tanh()
        h.retain_grad()
        t.retain_grad()
        t.register_hook(lambda g: g * 2)  # retain_grad sees the hooked value (it runs last)
        y = (t * h).sum()
        y.backward(retain_graph=True)
        first = [h.grad.clone(), t.grad.clone()]
        y.backward()
        x.retain_grad()  # a no-op on a leaf
        return first + [h.grad, t.grad, x.grad, h.retains_grad, x.retains_grad,
                        (x * 2).retains_grad]

    log = _agree(f)
    np.testing.assert_allclose(log[2], 2 * log[0])


def test_retain_grad_registered_before_a_hook_still_sees_the_hooked_gradient():
    def f(m):
        x = _t(m, A)
        h = x * 2
        h.retain_grad()
        h.register_hook(lambda g: g * 5)
        h.sum().backward()
        return [h.grad, x.grad]

    _agree(f)


# ---------------------------------------------------------------------- post-accumulate hooks
def test_post_accumulate_grad_hook_runs_after_accumulation_with_the_tensor():
    def f(m):
        x = _t(m, [1.0, 2.0])
        log = []

        def hook(t):
            log.append((t is x, t.grad.clone()))

        x.register_post_accumulate_grad_hook(hook)
        x.register_hook(lambda g: log.append(("pre", g.clone())) or g * 2)
        (x * x + x).sum().backward()  # one call although x feeds two ops
        (x * 3).sum().backward()  # .grad holds the sum when the hook runs
        return log + [x.grad]

    log = _agree(f)
    assert len(log) == 5 and log[1][0] is True


def test_optimizer_step_in_a_post_accumulate_hook():
    """The use case: update each parameter as soon as its gradient is complete."""
    def f(m):
        w = _t(m, W)
        b = _t(m, BIAS)
        x = _t(m, A, requires_grad=False)
        lr = 0.1

        def sgd(p):
            with m.no_grad():
                p -= lr * p.grad
            p.grad = None

        for p in (w, b):
            p.register_post_accumulate_grad_hook(sgd)
        losses = []
        for _ in range(3):
            loss = ((x @ w.t() + b) ** 2).mean()
            loss.backward()
            losses.append(loss.item())
        return [losses, w, b, w.grad, b.grad]

    log = _agree(f)
    assert log[0][2] < log[0][0] and log[3] is None


def test_post_accumulate_grad_hook_errors_and_removal():
    for m in (chainrule, torch):
        x = _t(m, A)
        with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered"
                                               " on non-leaf tensors"):
            (x * 2).register_post_accumulate_grad_hook(lambda t: None)
        calls = []
        handle = x.register_post_accumulate_grad_hook(lambda t, calls=calls: calls.append(1))
        x.sum().backward()
        handle.remove()
        x.sum().backward()
        assert calls == [1], m


# ---------------------------------------------------------------------- Node hooks
def test_node_hook_sees_grad_inputs_and_grad_outputs():
    def f(m):
        x, w = _t(m, A), _t(m, B)
        y = x * w
        z = y.sin()
        log = []

        def on_mul(grad_inputs, grad_outputs):
            log.append(("mul", list(grad_inputs), list(grad_outputs)))

        def on_sin(grad_inputs, grad_outputs):
            log.append(("sin", list(grad_inputs), list(grad_outputs)))
            return (grad_inputs[0] * 2,)  # replaces what flows into y

        handle = y.grad_fn.register_hook(on_mul)
        z.grad_fn.register_hook(on_sin)
        (z * 3).sum().backward(retain_graph=True)
        handle.remove()
        (z * 3).sum().backward()
        return log + [x.grad, w.grad]

    log = _agree(f)
    assert [entry[0] for entry in log[:-2]] == ["sin", "mul", "sin"]


def test_node_hook_on_an_op_with_a_constant_argument():
    def f(m):
        x = _t(m, A)
        y = x * 2.0
        log = []
        y.grad_fn.register_hook(lambda gi, go: log.append(
            [None if g is None else g.clone() for g in gi]))
        y.sum().backward()
        return log + [len(y.grad_fn.next_functions), y.grad_fn.next_functions[1][0]]

    _agree(f)


# ---------------------------------------------------------------------- module hooks
def _linear(m):
    lin = m.nn.Linear(3, 2).double()
    with m.no_grad():
        lin.weight.copy_(m.tensor(W))
        lin.bias.copy_(m.tensor(BIAS))
    return lin


def test_forward_pre_hook_and_forward_hook():
    def f(m):
        lin = _linear(m)
        log = []

        def pre(module, args):
            log.append(("pre", module is lin, len(args), args[0].shape))
            return (args[0] * 2,)

        def post(module, args, output):
            log.append(("post", args[0], output.clone()))
            return output + 1

        def pre_kw(module, args, kwargs):
            log.append(("pre_kw", sorted(kwargs)))

        h1 = lin.register_forward_pre_hook(pre)
        h2 = lin.register_forward_hook(post)
        lin.register_forward_pre_hook(pre_kw, with_kwargs=True)
        out = lin(_t(m, A, requires_grad=False))
        h1.remove()
        h2.remove()
        plain = lin(_t(m, A, requires_grad=False))
        return log + [out, plain]

    log = _agree(f)
    assert [e[0] for e in log[:-2]] == ["pre", "pre_kw", "post", "pre_kw"]


def test_full_backward_hooks_get_the_same_arguments_as_torch():
    def f(m):
        lin = _linear(m)
        log = []

        def pre(module, grad_output):
            log.append(("pre", list(grad_output)))

        def hook(module, grad_input, grad_output):
            log.append(("hook", module is lin, list(grad_input), list(grad_output)))

        lin.register_full_backward_pre_hook(pre)
        handle = lin.register_full_backward_hook(hook)
        x = _t(m, A)
        (lin(x) ** 2).sum().backward()
        handle.remove()
        (lin(x) ** 2).sum().backward()
        return log + [x.grad, lin.weight.grad, lin.bias.grad]

    log = _agree(f)
    assert [e[0] for e in log[:-3]] == ["pre", "hook", "pre"]
    assert log[1][2][0].shape == (2, 3)  # grad_input: the gradient of the module's input


def test_full_backward_hook_can_replace_grad_input():
    def f(m):
        lin = _linear(m)
        lin.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 3,))
        lin.register_full_backward_pre_hook(lambda mod, go: (go[0] + 1,))
        x = _t(m, A)
        (lin(x).tanh()).sum().backward()
        return [x.grad, lin.weight.grad, lin.bias.grad]

    _agree(f)


def test_full_backward_hook_when_the_input_needs_no_gradient():
    def f(m):
        lin = _linear(m)
        log = []
        handle = lin.register_full_backward_hook(
            lambda mod, gi, go: log.append((list(gi), list(go))))
        x = _t(m, A, requires_grad=False)
        with pytest.warns(UserWarning, match="Full backward hook is firing when gradients are "
                                             "computed with respect to module outputs"):
            (lin(x) ** 2).sum().backward()
        handle.remove()
        lin.register_full_backward_hook(lambda mod, gi, go: (go[0],))
        with pytest.raises(RuntimeError, match="should always return None"), \
                pytest.warns(UserWarning):
            (lin(x) ** 2).sum().backward()
        return log + [lin.weight.grad]

    log = _agree(f)
    assert log[0][0] == [None]


def test_backward_hooks_of_nested_modules_run_in_reverse_order():
    def f(m):
        first, second = _linear(m), m.nn.Tanh()
        net = m.nn.Sequential(first, second)
        order = []
        for name, mod in (("first", first), ("second", second), ("net", net)):
            mod.register_forward_hook(lambda mod, a, o, name=name: order.append(("fwd", name)))
            mod.register_full_backward_hook(
                lambda mod, gi, go, name=name: order.append(("bwd", name, gi[0].shape,
                                                             go[0].shape)))
        x = _t(m, A)
        net(x).sum().backward()
        return [order, x.grad]

    log = _agree(f)
    # the container's input hook sits before first's in the graph, so it fires last
    assert [e[:2] for e in log[0]] == [("fwd", "first"), ("fwd", "second"), ("fwd", "net"),
                                       ("bwd", "second"), ("bwd", "first"), ("bwd", "net")]


def test_module_hook_with_two_inputs_and_a_non_tensor_argument():
    class Scale(chainrule.nn.Module):
        def forward(self, a, k, b):
            return a * k + b

    class TorchScale(torch.nn.Module):
        def forward(self, a, k, b):
            return a * k + b

    def f(m):
        mod = Scale() if m is chainrule else TorchScale()
        log = []
        mod.register_full_backward_hook(lambda md, gi, go: log.append((list(gi), list(go))))
        a, b = _t(m, A), _t(m, B)
        (mod(a, 2.0, b) ** 2).sum().backward()
        return log + [a.grad, b.grad]

    log = _agree(f)
    assert len(log[0][0]) == 3 and log[0][0][1] is None  # one per argument, None for k


def test_hooks_with_create_graph_apply_to_both_passes():
    def f(m):
        x = _t(m, [0.5, -1.0, 2.0])
        calls = []
        x.register_hook(lambda g: calls.append(g.clone()) or g * 2)
        y = (x ** 3).sum()
        (gx,) = m.autograd.grad(y, x, create_graph=True)
        gx.sum().backward()
        return [calls, gx, x.grad]

    _agree(f)


def _two_outputs(m):
    class Split(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            return ga * 2 + gb * 3

    return Split


def test_hooks_on_the_outputs_of_a_two_output_op():
    def f(m):
        x = _t(m, A)
        a, b = _two_outputs(m).apply(x)
        calls = []
        a.register_hook(lambda g: calls.append(("a", g.clone())) or g * 10)
        b.register_hook(lambda g: calls.append(("b", None if g is None else g.clone())))
        b.retain_grad()
        (a * a).sum().backward(retain_graph=True)  # b got no gradient: its hook sees None
        first = [list(calls), x.grad.clone(), b.grad]
        (a + b).sum().backward()
        return first + [calls, x.grad, b.grad]

    log = _agree(f)
    assert [name for name, _ in log[0]] == ["a", "b"] and log[0][1][1] is None
    assert log[2] is None  # retain_grad keeps None when no gradient arrived
