"""Forward-mode AD (chainrule.autograd.forward_ad) against torch.autograd.forward_ad.

Most tests run one function with either library (`lib` is chainrule or torch: the forward_ad
API is the same) and compare primals and tangents: level semantics, the errors, tangents
through views, in-place ops and modules. Forward-over-reverse (Hessian-vector products) and
forward-over-forward (second directional derivatives, through nested levels, which
torch.autograd.forward_ad does not support) are compared with torch.func. User Functions
with and without `jvp`, and with `ctx.save_for_forward`, close the file.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule
from tests._functions import double_function
from tests._torch import torch
from tests.opspecs import _iops

LIBS = [chainrule, torch]
RTOL, ATOL = 1e-10, 1e-12


def _fwad(lib):
    return lib.autograd.forward_ad


def _np(t) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True).copy()
    return np.array(t.array, copy=True)


def _rand(*shape, seed=0) -> np.ndarray:
    return np.random.default_rng([seed, *shape]).standard_normal(shape)


def _same(ours, ref, what: str) -> None:
    assert ours is not None, f"{what}: chainrule gives no tangent, PyTorch {ref}"
    assert tuple(ours.shape) == tuple(ref.shape), f"{what}: shape"
    np.testing.assert_allclose(_np(ours), _np(ref), rtol=RTOL, atol=ATOL, err_msg=what)


def _dual_run(lib, fn, primals, tangents):
    """fn(lib, *duals) inside one dual level: (primal, tangent) of each output (tangent None
    where it has none)."""
    fwad = _fwad(lib)
    with fwad.dual_level():
        duals = [fwad.make_dual(lib.tensor(p), lib.tensor(t)) if t is not None else lib.tensor(p)
                 for p, t in zip(primals, tangents)]
        outs = fn(lib, *duals)
        outs = outs if isinstance(outs, tuple) else (outs,)
        return [tuple(fwad.unpack_dual(o)) for o in outs]


def _compare_with_torch(fn, primals, tangents) -> None:
    ours = _dual_run(chainrule, fn, primals, tangents)
    ref = _dual_run(torch, fn, primals, tangents)
    for k, ((p, t), (rp, rt)) in enumerate(zip(ours, ref)):
        _same(p, rp, f"primal {k}")
        if rt is None:
            assert t is None, f"output {k}: chainrule gives a tangent, PyTorch none"
        else:
            _same(t, rt, f"tangent {k}")


# ---------------------------------------------------------------- levels and make_dual
@pytest.mark.parametrize("lib", LIBS, ids=["chainrule", "torch"])
def test_make_dual_and_unpack_dual(lib) -> None:
    fwad = _fwad(lib)
    p, t = lib.tensor(_rand(2, 3)), lib.tensor(_rand(2, 3, seed=1))
    with fwad.dual_level() as level:
        assert level == 0
        x = fwad.make_dual(p, t)
        primal, tangent = fwad.unpack_dual(x)
        assert fwad.unpack_dual(x).tangent is tangent  # a named tuple
        np.testing.assert_array_equal(_np(primal), _np(p))
        np.testing.assert_array_equal(_np(tangent), _np(t))
        assert fwad.unpack_dual(primal).tangent is None  # the primal carries no tangent
        assert fwad.unpack_dual(p).tangent is None       # make_dual leaves its input alone
        assert fwad.unpack_dual(p * 2.0).tangent is None  # ops on plain tensors make none
        y = x * 3.0
        assert fwad.unpack_dual(y).tangent is not None
    assert fwad.unpack_dual(x).tangent is None  # leaving the level drops its tangents
    assert fwad.unpack_dual(y).tangent is None
    assert fwad.unpack_dual(x).primal is x  # outside any level: the tensor itself


def test_a_tensor_keeps_no_tangent_into_a_new_level() -> None:
    fwad = chainrule.autograd.forward_ad
    with fwad.dual_level():
        x = fwad.make_dual(chainrule.ones(3), chainrule.ones(3))
    with fwad.dual_level():
        assert fwad.unpack_dual(x).tangent is None
        assert fwad.unpack_dual(x * 2.0).tangent is None


def test_nested_levels_keep_their_own_tangents() -> None:
    """The inner level's tangents go when it is left; the outer level's stay."""
    fwad = chainrule.autograd.forward_ad
    p = chainrule.tensor(_rand(3))
    with fwad.dual_level() as outer:
        x = fwad.make_dual(p, chainrule.ones(3))
        with fwad.dual_level() as inner:
            assert inner == outer + 1
            xx = fwad.make_dual(x, chainrule.full((3,), 2.0), level=inner)
            y = xx * xx
            t_in = fwad.unpack_dual(y, level=inner).tangent
            t_out = fwad.unpack_dual(y, level=outer).tangent
            np.testing.assert_allclose(_np(t_in), 4.0 * _np(p))     # 2 x * 2
            np.testing.assert_allclose(_np(t_out), 2.0 * _np(p))    # 2 x * 1
            assert fwad.unpack_dual(y).tangent is t_in  # the default: the innermost level
        assert fwad.unpack_dual(y).tangent is not None  # outer's, still there
        np.testing.assert_allclose(_np(fwad.unpack_dual(y).tangent), 2.0 * _np(p))
        with pytest.raises(RuntimeError, match="level 1 is not active"):
            fwad.unpack_dual(y, level=inner)


def test_enter_and_exit_dual_level() -> None:
    fwad = chainrule.autograd.forward_ad
    level = fwad.enter_dual_level()
    try:
        x = fwad.make_dual(chainrule.ones(2), chainrule.ones(2))
        assert fwad.unpack_dual(x * x).tangent is not None
    finally:
        fwad.exit_dual_level(level=level)
    assert fwad.unpack_dual(x).tangent is None
    with pytest.raises(RuntimeError, match="exit_dual_level"):
        fwad.exit_dual_level()


def _error(lib, make):
    fwad = _fwad(lib)
    with pytest.raises(Exception) as info:
        make(lib, fwad)
    return info


@pytest.mark.parametrize("make,match", [
    (lambda lib, fwad: fwad.make_dual(lib.ones(2), lib.ones(2)), "no dual level is active"),
], ids=["outside-a-level"])
def test_make_dual_outside_a_level_raises_as_torch(make, match) -> None:
    ours, ref = _error(chainrule, make), _error(torch, make)
    assert ours.type is ref.type
    assert ours.match(match)


@pytest.mark.parametrize("make,match", [
    (lambda lib, fwad: fwad.make_dual(lib.ones(2), lib.ones(3)),
     r"different size.*tangent \[3\], tensor \[2\]"),
    (lambda lib, fwad: fwad.make_dual(lib.ones(2, dtype=lib.long), lib.ones(2)),
     "floating point"),
    (lambda lib, fwad: fwad.make_dual(lib.ones(2), lib.ones(2, dtype=lib.long)),
     "floating point"),
], ids=["wrong-shape", "integer-primal", "integer-tangent"])
def test_make_dual_bad_input_raises_as_torch(make, match) -> None:
    def inside(lib, fwad):
        with fwad.dual_level():
            make(lib, fwad)
    ours, ref = _error(chainrule, inside), _error(torch, inside)
    assert ours.type is ref.type, f"chainrule raises {ours.type}, PyTorch {ref.type}"
    assert ours.match(match)


# ---------------------------------------------------------------- views
VIEWS = {
    "reshape": lambda lib, x: x.reshape(3, 2),
    "view": lambda lib, x: x.view(-1),
    "transpose": lambda lib, x: x.transpose(0, 1),
    "t": lambda lib, x: x.t(),
    "slice": lambda lib, x: x[:, 1:],
    "int-index": lambda lib, x: x[1],
    "step-slice": lambda lib, x: x[:, ::2],
    "unsqueeze-expand": lambda lib, x: x.unsqueeze(0).expand(4, 2, 3),
    "permute": lambda lib, x: x.reshape(1, 2, 3).permute(2, 0, 1),
    "view-of-view": lambda lib, x: x.t()[1:].reshape(-1) * 2.0,
    "diagonal": lambda lib, x: x[:, :2].diagonal(),
}


@pytest.mark.parametrize("name", VIEWS)
def test_tangent_through_a_view(name) -> None:
    _compare_with_torch(VIEWS[name], [_rand(2, 3)], [_rand(2, 3, seed=1)])


# ---------------------------------------------------------------- in-place ops
def _add_(lib, x, y):
    z = x.clone()
    z.add_(y)
    return z


def _mul_(lib, x, y):
    z = x * 1.0
    z.mul_(y)
    return z


def _mul_plain(lib, x, y):
    z = x.clone()
    z.mul_(2.0)
    return z


def _setitem_dual_value(lib, x, y):
    """A plain tensor gets a tangent by an in-place write of a dual value into it."""
    z = lib.zeros(2, 3, dtype=lib.float64)
    z[1] = y
    return z


def _setitem_into_dual(lib, x, y):
    z = x.clone()
    z[0, 1:] = y[1:] * 3.0
    return z


def _view_of_dual_base(lib, x, y):
    """Writing through a view of a dual base changes the base's tangent."""
    z = x.clone()
    z[1].mul_(y)
    z[:, 0].add_(1.0)
    return z, z[1]


def _view_of_plain_base(lib, x, y):
    base = lib.ones(2, 3, dtype=lib.float64)
    view = base[0]
    view.copy_(y)
    return base, view


INPLACE = {"add_": _add_, "mul_": _mul_, "mul_-scalar": _mul_plain,
           "setitem-dual-value": _setitem_dual_value, "setitem-into-dual": _setitem_into_dual,
           "view-of-dual-base": _view_of_dual_base, "view-of-plain-base": _view_of_plain_base,
           "augmented-assignments": _iops}


@pytest.mark.parametrize("name", INPLACE)
@pytest.mark.parametrize("which", ["both", "x", "y"])
def test_tangent_through_in_place_ops(name, which) -> None:
    tx = _rand(2, 3, seed=2) if which in ("both", "x") else None
    ty = _rand(3, seed=3) if which in ("both", "y") else None
    _compare_with_torch(INPLACE[name], [_rand(2, 3), _rand(3, seed=1) + 2.0], [tx, ty])


# ---------------------------------------------------------------- modules
def _modules(lib):
    lib.manual_seed(0)
    return {
        "linear": lib.nn.Linear(4, 3),
        "mlp": lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 8),
                                 lib.nn.ReLU(), lib.nn.Linear(8, 2), lib.nn.LogSoftmax(-1)),
        "conv2d": lib.nn.Sequential(lib.nn.Conv2d(2, 3, 3, padding=1), lib.nn.Sigmoid(),
                                    lib.nn.Conv2d(3, 2, 2, stride=2)),
    }


INPUT_SHAPES = {"linear": (5, 4), "mlp": (5, 4), "conv2d": (2, 2, 4, 4)}


def _same_weights(ours, ref) -> None:
    for p, q in zip(ours.parameters(), ref.parameters()):
        with chainrule.no_grad():
            p.copy_(chainrule.tensor(q.detach().numpy()))


@pytest.mark.parametrize("name", INPUT_SHAPES)
def test_tangent_through_a_module(name) -> None:
    """The input is dual: J_x(module) v, through every layer's op."""
    ours, ref = _modules(chainrule)[name].double(), _modules(torch)[name].double()
    _same_weights(ours, ref)
    shape = INPUT_SHAPES[name]

    def fn(lib, x):
        return (ours if lib is chainrule else ref)(x)

    _compare_with_torch(fn, [_rand(*shape)], [_rand(*shape, seed=1)])


def test_tangent_with_respect_to_weights_of_linear_and_conv2d() -> None:
    """Dual weights through F.linear and F.conv2d (the jvp with respect to a parameter)."""
    def fn(lib, x, w, b, k):
        fun = lib.nn.functional
        h = fun.linear(x, w, b).tanh().reshape(2, 1, 3, 3)
        return fun.conv2d(h, k, padding=1).sum((1, 2, 3))

    primals = [_rand(2, 4), _rand(9, 4, seed=1), _rand(9, seed=2), _rand(2, 1, 2, 2, seed=3)]
    tangents = [None, _rand(9, 4, seed=4), _rand(9, seed=5), _rand(2, 1, 2, 2, seed=6)]
    _compare_with_torch(fn, primals, tangents)


# ---------------------------------------------------------------- forward-over-reverse
def _f(lib, x, a):
    """A scalar function with a dense Hessian."""
    return (x.sin() * (a @ x)).sum() + (x * x).sum().log() + lib.sigmoid(x).prod()


def test_hessian_vector_product_forward_over_reverse() -> None:
    """The tangent of the gradient: jvp(grad f)(x; v) = H v, in one forward-and-back pass."""
    x0, a, v = _rand(4), _rand(4, 4, seed=1), _rand(4, seed=2)
    fwad = chainrule.autograd.forward_ad
    with fwad.dual_level():
        x = chainrule.tensor(x0, requires_grad=True)
        xd = fwad.make_dual(x, chainrule.tensor(v))
        (g,) = chainrule.autograd.grad(_f(chainrule, xd, chainrule.tensor(a)), x,
                                       create_graph=True)
        g0, hv = fwad.unpack_dual(g)
    ta = torch.tensor(a)
    g_ref, hv_ref = torch.func.jvp(torch.func.grad(lambda x: _f(torch, x, ta)),
                                   (torch.tensor(x0),), (torch.tensor(v),))
    _same(g0, g_ref, "gradient")
    _same(hv, hv_ref, "Hessian-vector product")
    _, hv_rev = torch.autograd.functional.hvp(lambda x: _f(torch, x, ta), torch.tensor(x0),
                                              torch.tensor(v))
    _same(hv, hv_rev, "Hessian-vector product (reverse-over-reverse)")


def test_hessian_vector_product_of_an_mlp_loss_over_its_weights() -> None:
    x, y = _rand(6, 3), np.array([0, 1, 2, 1, 0, 2])
    w1, w2, v1, v2 = _rand(3, 5, seed=1), _rand(5, 3, seed=2), _rand(3, 5, seed=3), \
        _rand(5, 3, seed=4)

    def loss(lib, w1, w2):
        h = lib.tanh(lib.tensor(x) @ w1)
        return lib.nn.functional.cross_entropy(h @ w2, lib.tensor(y))

    fwad = chainrule.autograd.forward_ad
    with fwad.dual_level():
        ps = [chainrule.tensor(w, requires_grad=True) for w in (w1, w2)]
        duals = [fwad.make_dual(p, chainrule.tensor(v)) for p, v in zip(ps, (v1, v2))]
        grads = chainrule.autograd.grad(loss(chainrule, *duals), ps, create_graph=True)
        hvs = [fwad.unpack_dual(g).tangent for g in grads]
    _, refs = torch.func.jvp(torch.func.grad(lambda a, b: loss(torch, a, b), argnums=(0, 1)),
                             (torch.tensor(w1), torch.tensor(w2)),
                             (torch.tensor(v1), torch.tensor(v2)))
    for k, (h, r) in enumerate(zip(hvs, refs)):
        _same(h, r, f"Hessian-vector product, weight {k + 1}")


# ---------------------------------------------------------------- forward-over-forward
def test_second_directional_derivative_forward_over_forward() -> None:
    """Two nested levels: d2f(x)[v, w] = w . (H v), against torch.func.jvp of a jvp."""
    x0, a, v, w = _rand(4), _rand(4, 4, seed=1), _rand(4, seed=2), _rand(4, seed=3)
    fwad = chainrule.autograd.forward_ad
    with fwad.dual_level() as outer:
        x = fwad.make_dual(chainrule.tensor(x0), chainrule.tensor(w), level=outer)
        with fwad.dual_level() as inner:
            xx = fwad.make_dual(x, chainrule.tensor(v), level=inner)
            y = _f(chainrule, xx, chainrule.tensor(a))
            jv = fwad.unpack_dual(y, level=inner).tangent
        first, second = fwad.unpack_dual(jv, level=outer)
    ta = torch.tensor(a)

    def jvp_v(x):
        return torch.func.jvp(lambda x: _f(torch, x, ta), (x,), (torch.tensor(v),))[1]

    first_ref, second_ref = torch.func.jvp(jvp_v, (torch.tensor(x0),), (torch.tensor(w),))
    _same(first, first_ref, "directional derivative along v")
    _same(second, second_ref, "second directional derivative along v, w")


def test_tangent_of_a_tangent_through_a_vector_function() -> None:
    """Forward-over-forward of a vector output: d/dw (J(x) v) for softmax of a matmul."""
    x0, a, v, w = _rand(2, 3), _rand(3, 3, seed=1), _rand(2, 3, seed=2), _rand(2, 3, seed=3)

    def f(lib, x):
        return lib.softmax(x @ lib.tensor(a), dim=-1) * x.exp()

    fwad = chainrule.autograd.forward_ad
    with fwad.dual_level() as outer:
        x = fwad.make_dual(chainrule.tensor(x0), chainrule.tensor(w))
        with fwad.dual_level():
            jv = fwad.unpack_dual(f(chainrule, fwad.make_dual(x, chainrule.tensor(v)))).tangent
        second = fwad.unpack_dual(jv, level=outer).tangent

    def jvp_v(x):
        return torch.func.jvp(lambda x: f(torch, x), (x,), (torch.tensor(v),))[1]

    _, ref = torch.func.jvp(jvp_v, (torch.tensor(x0),), (torch.tensor(w),))
    _same(second, ref, "second directional derivative")


# ---------------------------------------------------------------- user Functions
def _user_functions(lib):
    class Cube(lib.autograd.Function):
        """x^3, with its jvp reading what forward saved for it."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_forward(x)
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3.0 * x * x * g

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return 3.0 * x * x * t

    class ScaledProduct(lib.autograd.Function):
        """(a * b * c, a + b) for a Python float c: two outputs, a None tangent for c."""

        @staticmethod
        def forward(ctx, a, b, c):
            ctx.save_for_forward(a, b)
            ctx.c = c
            return a * b * c, a + b

        @staticmethod
        def backward(ctx, g1, g2):
            raise AssertionError("not called in forward mode")

        @staticmethod
        def jvp(ctx, ta, tb, tc):
            assert tc is None
            a, b = ctx.saved_tensors
            return (ta * b + a * tb) * ctx.c, ta + tb

    class NoJvp(double_function(lib)):
        pass  # the name forward mode's error shows

    return Cube, ScaledProduct, NoJvp


def test_user_function_with_jvp_and_save_for_forward() -> None:
    def fn(lib, x, y):
        cube, product, _ = _user_functions(lib)
        p, s = product.apply(cube.apply(x), y, 0.5)
        return p, s, cube.apply(x).sin()

    _compare_with_torch(fn, [_rand(2, 3), _rand(3, seed=1)], [_rand(2, 3, seed=2),
                                                               _rand(3, seed=3)])
    _compare_with_torch(fn, [_rand(2, 3), _rand(3, seed=1)], [None, _rand(3, seed=3)])


def test_user_function_without_jvp_says_so() -> None:
    fwad = chainrule.autograd.forward_ad
    ref = _user_functions(torch)[2]
    with torch.autograd.forward_ad.dual_level(), pytest.raises(Exception) as torch_error:
        ref.apply(torch.autograd.forward_ad.make_dual(torch.ones(2), torch.ones(2)))
    no_jvp = _user_functions(chainrule)[2]
    with fwad.dual_level():
        x = fwad.make_dual(chainrule.ones(2), chainrule.ones(2))
        with pytest.raises(torch_error.type, match=r"NoJvp has no jvp rule.*forward mode"):
            no_jvp.apply(x)
        assert fwad.unpack_dual(no_jvp.apply(chainrule.ones(2))).tangent is None  # no dual in
    assert no_jvp.apply(x).shape == (2,)  # outside a level, no jvp is needed


def test_user_function_jvp_of_the_wrong_shape_is_refused() -> None:
    class Bad(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            return g

        @staticmethod
        def jvp(ctx, t):
            return t  # the input's shape, not the output's

    fwad = chainrule.autograd.forward_ad
    with fwad.dual_level():
        x = fwad.make_dual(chainrule.ones(3), chainrule.ones(3))
        with pytest.raises(RuntimeError, match=r"Bad.jvp returned an invalid tangent.*\[3\]"):
            Bad.apply(x)


# ---------------------------------------------------------------- inputs without a tangent
ONE_SIDED = {
    "matmul": lambda lib, a, b: a @ b,
    "add_broadcast": lambda lib, a, b: a + b[0],
    "sub": lambda lib, a, b: a - b.T,
    "mul": lambda lib, a, b: a * b.T,
    "div": lambda lib, a, b: a / (b.T * b.T + 1.0),
    "pow": lambda lib, a, b: (a * a + 1.0) ** b.T,
    "atan2": lambda lib, a, b: lib.atan2(a, b.T),
    "maximum": lambda lib, a, b: lib.maximum(a, b.T),
    "where": lambda lib, a, b: lib.where(a > 0, a, b.T),
}


@pytest.mark.parametrize("which", ["a", "b"])
@pytest.mark.parametrize("name", list(ONE_SIDED))
def test_an_input_without_a_tangent_adds_no_term(name, which) -> None:
    """Rules with `materialize_tangents = False` get None for the input without a tangent."""
    ta, tb = _rand(3, 3, seed=2), _rand(3, 3, seed=3)
    _compare_with_torch(lambda lib, a, b: ONE_SIDED[name](lib, a, b),
                        [_rand(3, 3), _rand(3, 3, seed=1)],
                        [ta, None] if which == "a" else [None, tb])


def test_a_first_order_jvp_runs_only_the_functions_own_ops() -> None:
    """With no outer level and nothing requiring grad, the rules compute their tangents in
    NumPy (the rule helpers) and skip the terms of inputs without a tangent: the only ops
    that run are f's own and CrossEntropyGrad, the gradient that cross_entropy's rule dots
    with the tangent (it runs inside that rule, so before cross_entropy's own op is
    reported)."""
    fwad, F = chainrule.autograd.forward_ad, chainrule.nn.functional
    x, w1, w2 = (chainrule.tensor(_rand(*s, seed=k)) for k, s in
                 enumerate([(5, 4), (4, 6), (6, 3)]))
    y = chainrule.tensor([0, 2, 1, 1, 0])
    ran = []
    with fwad.dual_level():
        w = fwad.make_dual(w1, chainrule.tensor(_rand(4, 6, seed=9)))
        reg = chainrule.autograd.observers.register(
            forward=lambda ctx, outs, args: ran.append(ctx._fn.__name__))
        try:
            loss = F.cross_entropy((x @ w + 0.5).relu() @ w2, y)
        finally:
            reg.remove()
        tangent = fwad.unpack_dual(loss).tangent
    assert ran == ["MatMul", "Add", "Relu", "MatMul", "CrossEntropyGrad", "CrossEntropy"]
    tx, tw1, tw2 = (torch.tensor(_rand(*s, seed=k)) for k, s in
                    enumerate([(5, 4), (4, 6), (6, 3)]))
    _, ref = torch.func.jvp(lambda w: torch.nn.functional.cross_entropy(
        (tx @ w + 0.5).relu() @ tw2, torch.tensor([0, 2, 1, 1, 0])), (tw1,),
        (torch.tensor(_rand(4, 6, seed=9)),))
    _same(tangent, ref, "loss tangent")


@pytest.mark.parametrize("lib", LIBS, ids=["chainrule", "torch"])
def test_user_function_without_materialized_tangents_gets_none(lib) -> None:
    """ctx.set_materialize_grads(False): jvp gets None, not zeros, for an input without one."""
    seen = []

    class Product(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.set_materialize_grads(False)
            ctx.save_for_forward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            raise AssertionError("not called in forward mode")

        @staticmethod
        def jvp(ctx, ta, tb):
            seen.append((ta is None, tb is None))
            a, b = ctx.saved_tensors
            return ta * b if tb is None else ta * b + a * tb

    fwad = _fwad(lib)
    with fwad.dual_level():
        a = fwad.make_dual(lib.tensor(_rand(3)), lib.tensor(_rand(3, seed=1)))
        t = fwad.unpack_dual(Product.apply(a, lib.tensor(_rand(3, seed=2)))).tangent
    assert seen == [(False, True)]
    np.testing.assert_allclose(_np(t), _rand(3, seed=1) * _rand(3, seed=2))
