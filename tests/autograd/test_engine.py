"""The autograd engine against PyTorch: grad modes, backward/grad options, graph shapes, hooks,
retain_grad, custom Functions, gradcheck, in-place ops on views, and a 100,000-op chain.

Most tests run one function twice, with `m` bound to chainrule and then to PyTorch, on the
same NumPy inputs, and compare every gradient bit for bit (or to float64 rounding).
"""

import threading
import time

import numpy as np
import pytest

import chainrule
from tests._functions import square_function
from tests._torch import torch

# PyTorch's own advice about backward(create_graph=True) reference cycles
pytestmark = pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")

BOTH = pytest.mark.parametrize("m", [chainrule, torch], ids=["chainrule", "torch"])


def _np(t):
    return None if t is None else t.detach().numpy().copy()


def _agree(fn, exact=False, rtol=1e-13, atol=1e-14):
    """fn(m) -> a list of tensors (or None); equal under chainrule and PyTorch.

    The default tolerance is a few float64 ulps: NumPy's and PyTorch's libm (exp, tanh) and
    BLAS (matmul) round differently in the last bit; any wrong rule is far above it.
    """
    ours, theirs = fn(chainrule), fn(torch)
    assert len(ours) == len(theirs)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        a = a if a is None or isinstance(a, (bool, int, float)) else _np(a)
        b = b if b is None or isinstance(b, (bool, int, float)) else _np(b)
        if a is None or b is None:
            assert a is None and b is None, k
        elif exact:
            assert np.array_equal(a, b), (k, a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=str(k))


RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((4, 2))
V = RNG.standard_normal(3)


# ---------------------------------------------------------------------------- grad modes
@BOTH
def test_grad_mode_context_managers(m):
    x = m.ones(2, requires_grad=True)
    assert m.is_grad_enabled()
    with m.no_grad():
        assert not m.is_grad_enabled()
        y = x * 2
        with m.enable_grad():
            assert m.is_grad_enabled()
            z = x * 2
        assert not m.is_grad_enabled()
    assert m.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert z.requires_grad and z.grad_fn is not None
    with m.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert m.is_grad_enabled()
    with m.inference_mode():
        assert not m.is_grad_enabled() and not (x * 2).requires_grad
    with m.inference_mode(False):
        assert (x * 2).requires_grad
    m.set_grad_enabled(False)  # also works as a plain call
    try:
        assert not (x * 2).requires_grad
    finally:
        m.set_grad_enabled(True)
    assert (x * 2).requires_grad


@BOTH
def test_grad_mode_restored_after_exception(m):
    with pytest.raises(KeyError):
        with m.no_grad():
            raise KeyError("boom")
    assert m.is_grad_enabled()


@BOTH
def test_grad_mode_decorators(m):
    x = m.ones(2, requires_grad=True)

    def double(t):
        """docstring kept"""
        return t * 2

    # `@deco def f` is f = deco(f): each form, called and bare, as a decorator of double
    no_grad_forms = {"no_grad()": m.no_grad()(double), "no_grad": m.no_grad(double),
                     "inference_mode()": m.inference_mode()(double),
                     "inference_mode": m.inference_mode(double),
                     "set_grad_enabled(False)": m.set_grad_enabled(False)(double)}
    enabled = m.enable_grad()(double)
    assert m.is_grad_enabled()  # decorating changes nothing outside the function
    for form, f in no_grad_forms.items():
        assert not f(x).requires_grad, form
        assert m.is_grad_enabled()
        assert f.__name__ == "double" and f.__doc__ == "docstring kept", form
    called = no_grad_forms["no_grad()"]
    with m.no_grad():
        assert enabled(x).requires_grad
        assert not m.is_grad_enabled()
    # the same decorated function is reusable and nests
    assert not called(called(x)).requires_grad


@BOTH
def test_grad_mode_is_thread_local(m):
    x = m.ones(2, requires_grad=True)
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def worker():
        with m.no_grad():
            seen["worker"] = m.is_grad_enabled()
            inside.set()
            release.wait(10)

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(10)
    try:
        # the worker sits inside no_grad; the main thread still records graphs
        assert m.is_grad_enabled()
        assert (x * 2).requires_grad
    finally:
        release.set()
        t.join()
    assert seen["worker"] is False

    # and a thread started under the main thread's no_grad has grad enabled
    def probe():
        seen["fresh"] = m.is_grad_enabled()

    with m.no_grad():
        t = threading.Thread(target=probe)
        t.start()
        t.join()
    assert seen["fresh"] is True


# ---------------------------------------------------------------------------- requires_grad
@BOTH
def test_requires_grad_propagation(m):
    x = m.tensor(A)
    w = m.tensor(B, requires_grad=True)
    assert not (x * 2).requires_grad
    h = x @ w
    assert h.requires_grad and not h.is_leaf
    assert not h.detach().requires_grad
    assert not m.tensor(A).exp().requires_grad
    assert (x + h.sum()).requires_grad
    # integer results never require grad
    assert not (w > 0).requires_grad and not w.argmax().requires_grad


# ---------------------------------------------------------------------------- backward options
def test_backward_with_gradient_argument():
    def f(m):
        x = m.tensor(A, requires_grad=True)
        y = (x * x).exp()
        y.backward(m.tensor(A[::-1].copy()))
        return [x.grad]
    _agree(f)


def test_backward_of_a_scalar_leaf():
    def f(m):
        x = m.tensor(2.0, requires_grad=True)
        x.backward()
        y = m.tensor(3.0, requires_grad=True)
        y.backward(m.tensor(5.0))
        return [x.grad, y.grad]
    _agree(f)


def test_retain_graph_twice_accumulates():
    def f(m):
        x = m.tensor(A, requires_grad=True)
        y = (x.sin() * x).sum()
        y.backward(retain_graph=True)
        first = x.grad.clone()
        y.backward()
        return [first, x.grad]
    _agree(f)
    ours = f(chainrule)
    assert np.array_equal(_np(ours[1]), 2 * _np(ours[0]))


def test_accumulation_across_two_graphs_and_reset():
    def f(m):
        x = m.tensor(V, requires_grad=True)
        (x * x).sum().backward()
        (x ** 3).sum().backward()
        acc = x.grad.clone()
        x.grad.zero_()
        (x * 4).sum().backward()
        zeroed = x.grad.clone()
        x.grad = None
        x.exp().sum().backward()
        return [acc, zeroed, x.grad]
    _agree(f)


def test_backward_inputs_leaves_and_non_leaves():
    def f(m):
        x = m.tensor(A, requires_grad=True)
        w = m.tensor(B, requires_grad=True)
        h = x @ w
        y = (h.tanh() * h).sum()
        y.backward(inputs=[w], retain_graph=True)
        only_w = w.grad.clone()
        y.backward(inputs=[h])
        return [x.grad, only_w, w.grad, h.grad]
    _agree(f)


def test_backward_inputs_single_tensor():
    def f(m):
        x = m.tensor(V, requires_grad=True)
        z = m.tensor(V, requires_grad=True)
        (x * z).sum().backward(inputs=x)
        return [x.grad, z.grad]
    _agree(f)


def test_autograd_backward_several_roots():
    def f(m):
        x = m.tensor(V, requires_grad=True)
        m.autograd.backward([x * 2, x * x], [m.ones(3, dtype=m.float64), m.tensor(V)])
        return [x.grad]
    _agree(f)


# ---------------------------------------------------------------------------- autograd.grad
def test_grad_returns_tuple_and_leaves_grad_alone():
    def f(m):
        x = m.tensor(A, requires_grad=True)
        w = m.tensor(B, requires_grad=True)
        y = (x @ w).relu().sum()
        gx, gw = m.autograd.grad(y, [x, w])
        (g1,) = m.autograd.grad((x * 3).sum(), x)
        return [gx, gw, g1, x.grad, w.grad, gx.requires_grad]
    _agree(f)


def test_grad_allow_unused_and_grad_outputs():
    def f(m):
        x = m.tensor(V, requires_grad=True)
        z = m.tensor(V, requires_grad=True)
        y = x * x
        gx, gz = m.autograd.grad(y, [x, z], grad_outputs=m.tensor(V[::-1].copy()),
                                 allow_unused=True)
        return [gx, gz]
    _agree(f)


def test_grad_of_non_leaf_input():
    def f(m):
        x = m.tensor(A, requires_grad=True)
        h = x * 2
        y = (h * h).sum()
        (gh,) = m.autograd.grad(y, h)
        return [gh]
    _agree(f)


def test_grad_runs_tensor_hooks_and_retain_grad():
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g * 10)
        (gx,) = m.autograd.grad((x * x).sum(), x)
        h = x * 3
        h.register_hook(lambda g: g * 100)
        h.retain_grad()
        (gh,) = m.autograd.grad((h * h).sum(), h)
        first = h.grad
        (gx2,) = m.autograd.grad((h * h).sum(), x)  # h's own history is still there
        return [gx, gh, first, gx2, h.grad, x.grad]
    _agree(f, exact=True)


def test_hessian_vector_product_with_create_graph():
    def f(m):
        x = m.tensor([0.5, -1.0, 2.0], dtype=m.float64, requires_grad=True)
        v = m.tensor([1.0, 0.5, -2.0], dtype=m.float64)
        y = (x.sin() * x.exp()).sum() + (x[0] * x[1] * x[2]) ** 2 + (x @ x).sqrt()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        assert g.requires_grad
        (hv,) = m.autograd.grad(g, x, grad_outputs=v, retain_graph=True)
        (hv2,) = m.autograd.grad((g * v).sum(), x)
        return [g, hv, hv2]
    _agree(f, exact=False, rtol=1e-13, atol=1e-13)


def test_third_derivative():
    def f(m):
        x = m.tensor([0.3, 1.7], dtype=m.float64, requires_grad=True)
        y = (x.tanh() * x * x).sum()
        (g1,) = m.autograd.grad(y, x, create_graph=True)
        (g2,) = m.autograd.grad(g1.sum(), x, create_graph=True)
        (g3,) = m.autograd.grad(g2.sum(), x)
        return [g1, g2, g3]
    _agree(f, exact=False, rtol=1e-12, atol=1e-12)


def test_backward_create_graph_gives_differentiable_grad():
    def f(m):
        x = m.tensor(V, requires_grad=True)
        (x ** 3).sum().backward(create_graph=True)
        g = x.grad
        assert g.requires_grad
        (gg,) = m.autograd.grad(g.sum(), x)
        return [g, gg]
    _agree(f)


# ---------------------------------------------------------------------------- graph shapes
def test_fan_out_and_diamond():
    def f(m):
        x = m.tensor(2.0, dtype=m.float64, requires_grad=True)
        a = x * 3
        b = x * x
        c = a * b
        d = a + b
        out = c + d + a.exp() * b.sin()
        out.backward()
        return [x.grad]
    _agree(f)


def test_same_tensor_used_many_times():
    def f(m):
        x = m.tensor(A, requires_grad=True)
        y = x + x + x * x + (x @ x.T).sum() + x[0].sum() + x[:, 1].sum()
        y.sum().backward()
        return [x.grad]
    _agree(f)


def test_broadcasting_gradients_reduce_to_input_shapes():
    def f(m):
        a = m.tensor(A, requires_grad=True)  # (3, 4)
        b = m.tensor(A[0], requires_grad=True)  # (4,)
        c = m.tensor(A[:, :1].copy(), requires_grad=True)  # (3, 1)
        s = m.tensor(1.5, dtype=m.float64, requires_grad=True)  # 0-d
        ((a * b - c) / s).sum().backward()
        return [a.grad, b.grad, c.grad, s.grad]
    _agree(f)


def test_detach_blocks_gradient():
    def f(m):
        x = m.tensor(V, requires_grad=True)
        y = x * x.detach() + x.detach().exp()
        y.sum().backward()
        return [x.grad]
    _agree(f)


def test_graph_introspection():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    mul_node, nr = y.grad_fn.next_functions[0]
    assert nr == 0 and mul_node.name() == "MulBackward0"
    (acc, _), (const, _) = mul_node.next_functions
    assert acc.name() == "torch::autograd::AccumulateGrad" and acc.variable is x
    assert const is None


# ---------------------------------------------------------------------------- hooks
def test_hooks_replace_gradients_on_leaves_and_non_leaves():
    def f(m):
        x = m.tensor(V, requires_grad=True)
        w = m.tensor(V[::-1].copy(), requires_grad=True)
        seen = []
        x.register_hook(lambda g: g * 10)
        h = x * w
        h.register_hook(lambda g: seen.append(g.clone()))
        h.register_hook(lambda g: g + 1)  # runs after the first, before w's and x's rules
        (h * h).sum().backward()
        return [x.grad, w.grad, seen[0]]
    _agree(f)


def test_hook_handle_remove():
    def f(m):
        x = m.tensor(V, requires_grad=True)
        handle = x.register_hook(lambda g: g * 100)
        handle.remove()
        y = x * 2
        h2 = y.register_hook(lambda g: g * 0)
        h2.remove()
        (y * x).sum().backward()
        return [x.grad]
    _agree(f)


def test_hook_sees_the_summed_gradient_of_a_fan_out():
    for m in (chainrule, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        calls = []
        y.register_hook(lambda g, calls=calls: calls.append(g.tolist()))
        (y + y * y).sum().backward()
        assert calls == [[7.0, 13.0]], m  # one call, with 1 + 2y


def test_leaf_hook_sees_the_summed_gradient_once():
    """A leaf used twice: its hook runs once, on the total (so clipping clips the total)."""
    def f(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        calls = []
        x.register_hook(lambda g: calls.append(g.clone()) or g.clamp(-3.0, 3.0))
        post = []
        x.register_post_accumulate_grad_hook(lambda t: post.append(t.grad.clone()))
        (x * 2 + x * x).sum().backward()
        assert len(calls) == 1 and len(post) == 1
        return [calls[0], x.grad, post[0]]
    _agree(f, exact=True)


def test_accumulation_adds_the_summed_new_gradient_to_the_old():
    """.grad + (g1 + g2), as PyTorch: in float32, (1 + 1e8) - 1e8 would lose the 1."""
    def f(m):
        x = m.tensor([1.0], requires_grad=True)
        x.sum().backward()
        (x * 1e8 + x * -1e8).sum().backward()
        return [x.grad]
    _agree(f, exact=True)
    assert f(chainrule)[0].tolist() == [1.0]


def test_retain_grad():
    def f(m):
        x = m.tensor(A, requires_grad=True)
        h = x * 3
        h.retain_grad()
        g = h.tanh()
        g.retain_grad()
        y = (g * h).sum()
        y.backward(retain_graph=True)
        first = [h.grad.clone(), g.grad.clone()]
        y.backward()
        x.retain_grad()  # a no-op on a leaf
        return first + [h.grad, g.grad, x.grad, h.retains_grad, x.retains_grad]
    _agree(f)


def test_non_leaf_grad_is_none_without_retain_grad():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    (h * h).sum().backward()
    assert h.grad is None and x.grad is not None


# ---------------------------------------------------------------------------- custom Function
def _cube_class(m, record):
    class Cube(m.autograd.Function):
        """x**3 * k with a differentiable backward (so second derivatives work)."""

        @staticmethod
        def forward(ctx, x, k):
            record["needs"] = ctx.needs_input_grad
            record["grad_enabled_inside"] = m.is_grad_enabled()
            ctx.save_for_backward(x)
            ctx.k = k
            return x ** 3 * k

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2 * ctx.k, None

    return Cube


def test_custom_function_first_and_second_derivatives():
    def f(m):
        record = {}
        cube = _cube_class(m, record)
        x = m.tensor(V, requires_grad=True)
        y = cube.apply(x, 2.0)
        (g,) = m.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = m.autograd.grad(g.sum(), x)
        assert record["needs"] == (True, False)
        assert record["grad_enabled_inside"] is False
        assert y.grad_fn is not None and not y.is_leaf
        return [y, g, h]
    _agree(f)


def test_custom_function_without_grad_inputs_records_nothing():
    for m in (chainrule, torch):
        record = {}
        y = _cube_class(m, record).apply(m.tensor(V), 2.0)
        assert not y.requires_grad and y.grad_fn is None


def test_custom_function_multiple_outputs_and_non_differentiable():
    def f(m):
        class SortWithIndex(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                values, index = x.sort()
                ctx.mark_non_differentiable(index)
                ctx.save_for_backward(index)
                return values, index

            @staticmethod
            def backward(ctx, g_values, g_index):
                (index,) = ctx.saved_tensors
                out = m.zeros_like(g_values)
                out[index] = g_values
                return out

        class ProdSum(m.autograd.Function):
            @staticmethod
            def forward(ctx, a, b, scale):
                ctx.save_for_backward(a, b)
                ctx.scale = scale
                return a * b * scale, a + b

            @staticmethod
            def backward(ctx, g_prod, g_sum):
                a, b = ctx.saved_tensors
                need_a, need_b, need_scale = ctx.needs_input_grad
                assert need_scale is False
                ga = g_prod * b * ctx.scale + g_sum if need_a else None
                gb = g_prod * a * ctx.scale + g_sum if need_b else None
                return ga, gb, None

        x = m.tensor([3.0, 1.0, 2.0], dtype=m.float64, requires_grad=True)
        values, index = SortWithIndex.apply(x)
        assert values.requires_grad and not index.requires_grad
        assert index.dtype == m.int64
        (values * m.tensor([1.0, 10.0, 100.0], dtype=m.float64)).sum().backward()

        a = m.tensor(V, requires_grad=True)
        b = m.tensor(V[::-1].copy())
        p, s = ProdSum.apply(a, b, 0.5)
        assert p.grad_fn is s.grad_fn
        (p.sum() + 2 * s.sum()).backward()
        first = a.grad.clone()
        a.grad = None
        p, s = ProdSum.apply(a, b, 0.5)
        p.sum().backward()  # s unused: its gradient arrives as zeros
        return [x.grad, index, first, a.grad]
    _agree(f)


def test_gradcheck_and_gradgradcheck_pass_on_correct_rules():
    record = {}
    cube = _cube_class(chainrule, record)
    x = chainrule.tensor(V, requires_grad=True)
    w = chainrule.tensor(A, requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda t: cube.apply(t, 2.0), (x,))
    assert chainrule.autograd.gradgradcheck(lambda t: cube.apply(t, 2.0), (x,))
    assert chainrule.autograd.gradcheck(lambda a, b: (a @ b).tanh(),
                                        (w, chainrule.tensor(B, requires_grad=True)))
    assert chainrule.autograd.gradgradcheck(lambda a: (a * a.sin()).sum(1), (w,))


def test_gradcheck_catches_a_rule_one_percent_off_and_tenth_percent_with_tight_rtol():
    almost_square = square_function(chainrule, slope=2 * 1.001)
    x = chainrule.tensor(V + 2.0, requires_grad=True)
    # PyTorch's defaults (rtol=1e-3) let a 0.1% error through; float64 central differences
    # are good to ~1e-9, so a tight rtol exposes it
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        chainrule.autograd.gradcheck(almost_square.apply, (x,), rtol=1e-5, atol=1e-8)
    assert chainrule.autograd.gradcheck(almost_square.apply, (x,), rtol=1e-5, atol=1e-8,
                                        raise_exception=False) is False
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        chainrule.autograd.gradcheck(square_function(chainrule, slope=2 * 1.01).apply, (x,))


def test_gradgradcheck_catches_a_wrong_second_derivative():
    class BadSecond(chainrule.autograd.Function):
        """First derivative right, but its backward is not differentiated correctly."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * (x.detach() ** 2)  # detached: the second derivative is lost

    x = chainrule.tensor(V + 2.0, requires_grad=True)
    assert chainrule.autograd.gradcheck(BadSecond.apply, (x,))
    assert not chainrule.autograd.gradgradcheck(BadSecond.apply, (x,), raise_exception=False)


# ---------------------------------------------------------------------------- in-place and views
def test_seed_decoder_assigns_columns_of_ones():
    """The seed's autoencoder: x = ones(100, 2); x[:, 0] = z * w[:, 0] + b[:, 0]."""
    rng = np.random.default_rng(1)
    data = rng.standard_normal((100, 2)).astype(np.float32)
    params = {k: rng.standard_normal(s).astype(np.float32)
              for k, s in [("we", (2, 1)), ("be", (1,)), ("wd", (1, 2)), ("bd", (1, 2))]}

    def f(m):
        x = m.tensor(data)
        p = {k: m.tensor(v, requires_grad=True) for k, v in params.items()}
        z = x[:, 0] * p["we"][0] + x[:, 1] * p["we"][1] + p["be"]
        y = m.ones(100, 2)
        y[:, 0] = z * p["wd"][:, 0] + p["bd"][:, 0]
        y[:, 1] = z * p["wd"][:, 1] + p["bd"][:, 1]
        assert y.requires_grad and not y.is_leaf
        loss = ((y - x) ** 2).mean()
        loss.backward()
        return [loss, y] + [p[k].grad for k in sorted(p)]
    _agree(f, exact=False, rtol=2e-6, atol=1e-6)


def _partial_assignment(m, y):
    y[0, 1:3] = m.tensor(B[:2, 0].copy(), requires_grad=False) * 5
    y[:, 0] = y[:, 3] + 2  # reads and writes the same tensor


def _assign_from_a_scaled_view_of_itself(m, y):
    y[:, 0] = y[:, 3] * 2


def _column_increment_idiom(m, y):
    y[:, 0] += 1
    y[1] *= 3
    y.clamp_(-1.0, 1.5)


@pytest.mark.parametrize("edit,scale", [(_partial_assignment, 2),
                                        (_assign_from_a_scaled_view_of_itself, 2),
                                        (_column_increment_idiom, 1)],
                         ids=lambda v: getattr(v, "__name__", str(v)).strip("_"))
def test_inplace_edits_of_a_non_leaf_keep_the_old_values_gradient(edit, scale):
    """y = scale * x edited in place, then sum(y * y) backward: the overwritten entries
    pass no gradient to x, the kept ones do."""
    def f(m):
        x = m.tensor(A, requires_grad=True)
        y = x * scale
        edit(m, y)
        (y * y).sum().backward()
        return [x.grad, y]
    _agree(f)


def test_inplace_on_a_view_of_a_non_leaf():
    def f(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        p = x * 2
        q = p.clone()
        q[0].mul_(5)
        (q * m.tensor([1.0, 10.0, 100.0])).sum().backward()
        return [x.grad, q]
    _agree(f)


def test_inplace_ops_on_non_leaf_tensors():
    def f(m):
        x = m.tensor(A, requires_grad=True)
        w = m.tensor(A[::-1].copy(), requires_grad=True)
        y = x.exp()
        z = y * 1  # y itself is saved by exp: modify a copy
        z.add_(w)
        z.sub_(1.5)
        z.mul_(w)
        z.div_(2.0)
        z += x
        z -= w
        z *= 0.5
        z /= w
        z.clamp_(-2, 2)
        z.sum().backward()
        return [x.grad, w.grad, z]
    _agree(f)


def test_inplace_zero_fill_copy_on_non_leaf():
    def f(m):
        x = m.tensor(A, requires_grad=True)
        w = m.tensor(A[0], requires_grad=True)
        y = x * 3
        y[0].zero_()
        y[1].fill_(2.0)
        y[2].copy_(w * w)
        (y * x).sum().backward()
        return [x.grad, w.grad, y]
    _agree(f)


# ---------------------------------------------------------------------------- deep graphs
def test_backward_through_100000_op_chain():
    x = chainrule.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    start = time.process_time()  # CPU time: other processes on the machine do not count
    y.backward()  # iterative: no RecursionError
    elapsed = time.process_time() - start
    expected = np.float32(1.0000001) ** 100_000  # d y / d x = the product of the factors
    assert x.grad.item() == pytest.approx(float(expected), rel=1e-3)
    assert elapsed < 10.0, f"100,000-op backward took {elapsed:.1f} s"


def test_deep_chain_with_autograd_grad():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y + 0.0
    (g,) = chainrule.autograd.grad(y.sum(), x)
    assert g.tolist() == [1.0, 1.0]
