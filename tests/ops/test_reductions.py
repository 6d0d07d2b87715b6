"""Reductions, softmax / log_softmax, cumsum and einsum, against PyTorch (the oracle).

For each op: the forward in float32 and float64 over dim=None / int / negative / tuple and
keepdim both ways, 0-d and size-1 inputs; the gradient for a random upstream gradient; the
second derivatives (torch.autograd.grad with create_graph=True, then a second grad, with
respect to the input and to the upstream gradient); gradcheck / gradgradcheck in float64;
and the edges each op documents: zeros for prod, ties and NaN for max / min / amax / amin,
+-1e4 and infinities for logsumexp / softmax / log_softmax.
"""

from __future__ import annotations

import functools
import warnings
from operator import methodcaller

import numpy as np
import pytest

import chainrule
from chainrule.autograd import gradcheck, gradgradcheck
from tests._torch import torch

F32, F64 = np.float32, np.float64
TOL = {F32: dict(rtol=2e-5, atol=2e-6), F64: dict(rtol=1e-10, atol=1e-12)}
TOL2 = {F32: dict(rtol=2e-4, atol=2e-5), F64: dict(rtol=1e-9, atol=1e-11)}
SHAPE = (2, 3, 4)
DIMS = [None, 0, 1, -1, (0, 2), (-1, 0)]


def randn(shape, dtype=F64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def assert_same(c, t, **tol):
    """Same shape, same dtype, same values (NaN where torch has NaN)."""
    t = t.detach()
    if t._is_zerotensor():  # what some torch second derivatives return; numpy() refuses it
        t = torch.zeros(t.shape, dtype=t.dtype)
    assert tuple(c.shape) == tuple(t.shape), (tuple(c.shape), tuple(t.shape))
    assert str(c.dtype) == str(t.dtype), (c.dtype, t.dtype)
    np.testing.assert_allclose(np.asarray(c.detach().numpy(), dtype=F64),
                               t.detach().numpy().astype(F64), equal_nan=True, **tol)


def compare(fc, ft, *arrays, second=True, tol=None, tol2=None, seed=1):
    """fc(chainrule tensors) against ft(torch tensors): value, gradient, second derivatives."""
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(a) for a in arrays]
    dtype = next((a.dtype.type for a in arrays if a.dtype.kind == "f"), F64)
    tol, tol2 = tol or TOL[dtype], tol2 or TOL2[dtype]
    floats = [a.dtype.kind == "f" for a in arrays]
    cs = [chainrule.tensor(a, requires_grad=f) for a, f in zip(arrays, floats)]
    ts = [torch.tensor(a, requires_grad=f) for a, f in zip(arrays, floats)]
    co, to = fc(*cs), ft(*ts)
    assert_same(co, to, **tol)
    if not to.requires_grad:
        assert not co.requires_grad
        return
    cx = [c for c, f in zip(cs, floats) if f]
    tx = [t for t, f in zip(ts, floats) if f]
    u = rng.standard_normal(tuple(to.shape)).astype(dtype)
    cu, tu = chainrule.tensor(u, requires_grad=True), torch.tensor(u, requires_grad=True)
    cg = chainrule.autograd.grad(co, cx, cu, create_graph=second)
    tg = torch.autograd.grad(to, tx, tu, create_graph=second)
    for a, b in zip(cg, tg):
        assert_same(a, b, **tol)
    if not second:
        return
    ws = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t in tx]
    c_total = sum((g * chainrule.tensor(w)).sum() for g, w in zip(cg, ws))
    t_total = sum((g * torch.tensor(w)).sum() for g, w in zip(tg, ws))
    c2 = chainrule.autograd.grad(c_total, cx + [cu], allow_unused=True)
    t2 = torch.autograd.grad(t_total, tx + [tu], allow_unused=True)
    for a, b, ref in zip(c2, t2, tx + [tu]):
        a = chainrule.zeros_like(chainrule.tensor(ref.detach().numpy())) if a is None else a
        b = torch.zeros_like(ref) if b is None else b
        assert_same(a, b, **tol2)


def check_grads(fn, *arrays):
    """gradcheck and gradgradcheck in float64 (finite differences)."""
    xs = tuple(chainrule.tensor(np.asarray(a, F64), requires_grad=True) for a in arrays)
    assert gradcheck(fn, xs)
    assert gradgradcheck(fn, xs)


def _kw(dim):
    return {} if dim is None else {"dim": dim}


# ---------------------------------------------------------------- sum / mean / amax / amin / ...
REDUCTIONS = {
    "sum": lambda x, dim, k: x.sum(**_kw(dim), keepdim=k) if dim is not None else
    (x.sum() if not k else x.sum(tuple(range(x.ndim)), keepdim=True)),
    "mean": lambda x, dim, k: x.mean(**_kw(dim), keepdim=k) if dim is not None else
    (x.mean() if not k else x.mean(tuple(range(x.ndim)), keepdim=True)),
    "amax": lambda x, dim, k: x.amax(**_kw(dim), keepdim=k),
    "amin": lambda x, dim, k: x.amin(**_kw(dim), keepdim=k),
    "logsumexp": lambda x, dim, k: x.logsumexp(tuple(range(x.ndim)) if dim is None else dim,
                                               keepdim=k),
    "var": lambda x, dim, k: x.var(dim, keepdim=k),
    "std": lambda x, dim, k: x.std(dim, keepdim=k),
    "norm": lambda x, dim, k: x.norm(dim=dim, keepdim=k),
    "nansum": lambda x, dim, k: x.nansum(tuple(range(x.ndim)) if dim is None else dim,
                                         keepdim=k),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
def test_reduction_vs_torch(name, dim, keepdim, dtype):
    f = REDUCTIONS[name]
    compare(lambda x: f(x, dim, keepdim), lambda x: f(x, dim, keepdim), randn(SHAPE, dtype))


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("shape,dim", [((), None), ((), 0), ((), -1), ((1,), 0), ((1, 1), None),
                                       ((3, 1), 1), ((1, 3), -1), ((1, 3), (0, 1))], ids=str)
def test_reduction_0d_and_size1(name, shape, dim):
    f = REDUCTIONS[name]
    if name in ("var", "std"):  # one element leaves N - 1 = 0 degrees of freedom: use N
        f = lambda x, d, k: getattr(x, name)(d, keepdim=k, correction=0)  # noqa: E731
    x = randn(shape) + 3.0  # away from 0, where norm has its kink
    # std of one element is 0 and its gradient 0 (as torch); torch's derivative of that 0
    # with respect to the upstream gradient is NaN (a 0 / 0 in its rule), ours is 0
    second = name != "std" or x.size > f(chainrule.tensor(x), dim, True).numel()
    for keepdim in (False, True):
        g = functools.partial(lambda t, k: f(t, dim, k), k=keepdim)
        compare(g, g, x, second=second)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, True), ((0, -1), False)], ids=str)
def test_reduction_gradcheck(name, dim, keepdim):
    f = REDUCTIONS[name]
    check_grads(lambda x: f(x, dim, keepdim), randn((2, 3, 2), seed=3))


# ---------------------------------------------------------------- prod
PROD_DIMS = [None, 0, 1, -1]


@pytest.mark.parametrize("dim", PROD_DIMS, ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
def test_prod_vs_torch(dim, keepdim, dtype):
    x = randn(SHAPE, dtype) + dtype(0.5)
    if dim is None:
        compare(lambda t: t.prod(), lambda t: t.prod(), x)
    else:
        compare(lambda t: t.prod(dim, keepdim), lambda t: t.prod(dim, keepdim), x)


# slices with no zero, one zero, two zeros, three zeros
PROD_ZEROS = np.array([[[1.5, 0.0, 2.0, -3.0], [0.0, 0.0, 1.25, 2.0], [0.0, 2.0, 0.0, 0.0]],
                       [[0.5, -1.5, 2.0, 1.75], [3.0, 0.0, 0.0, 0.75], [-2.0, 0.0, 1.5, 1.0]]])


@pytest.mark.parametrize("dim", PROD_DIMS, ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
def test_prod_with_zeros_vs_torch(dim, keepdim, dtype):
    x = PROD_ZEROS.astype(dtype)
    if dim is None:
        compare(lambda t: t.prod(), lambda t: t.prod(), x)
        compare(lambda t: t.prod(), lambda t: t.prod(), x[1, 0])  # one zero
        compare(lambda t: t.prod(), lambda t: t.prod(), x[1, 1])  # two zeros
    else:
        compare(lambda t: t.prod(dim, keepdim), lambda t: t.prod(dim, keepdim), x)


def test_prod_zero_gradient_pattern():
    x = chainrule.tensor([2.0, 0.0, 3.0, 4.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero on the way
        x.prod().backward()
    assert x.grad.tolist() == [0.0, 24.0, 0.0, 0.0]  # nonzero only at the zero
    y = chainrule.tensor([2.0, 0.0, 3.0, 0.0], requires_grad=True)
    y.prod().backward()
    assert y.grad.tolist() == [0.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("row", [[1.5, 0.0, 2.0, -3.0], [0.0, 0.0, 1.25, 2.0],
                                 [0.0, 2.0, 0.0, 0.0], [0.5, -1.5, 2.0, 1.75]], ids=str)
def test_prod_hessian_vs_torch(row):
    x = np.array(row)
    h_c = _hessian(lambda t: t.prod(), chainrule.tensor(x, requires_grad=True), chainrule)
    h_t = torch.autograd.functional.hessian(lambda t: t.prod(), torch.tensor(x)).numpy()
    np.testing.assert_allclose(h_c, h_t, rtol=1e-12, atol=1e-12)


def _hessian(f, x, lib):
    (g,) = lib.autograd.grad(f(x), x, create_graph=True)
    rows = []
    for i in range(x.numel()):
        (h,) = lib.autograd.grad(g[i], x, retain_graph=True, allow_unused=True)
        rows.append(np.zeros(x.shape) if h is None else h.numpy())
    return np.stack(rows)


@pytest.mark.parametrize("dim", PROD_DIMS, ids=str)
def test_prod_gradcheck(dim):
    f = (lambda t: t.prod()) if dim is None else (lambda t: t.prod(dim))
    check_grads(f, randn((2, 3, 2), seed=5) + 0.5)
    check_grads(f, PROD_ZEROS[:, :, :3])
    if dim in (None, 0, -1):
        check_grads(f, PROD_ZEROS[1, 1])


@pytest.mark.parametrize("shape,dim", [((), None), ((), 0), ((1,), 0), ((3, 1), 1), ((1, 3), 0)],
                         ids=str)
@pytest.mark.parametrize("value", [0.0, 2.5])
def test_prod_0d_and_size1(shape, dim, value):
    x = np.full(shape, value)
    for keepdim in (False, True):
        if dim is None:
            compare(lambda t: t.prod(), lambda t: t.prod(), x)
        else:
            g = functools.partial(lambda t, k: t.prod(dim, k), k=keepdim)
            compare(g, g, x)


def test_prod_integer_and_empty():
    a = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int32)
    compare(lambda t: t.prod(1), lambda t: t.prod(1), a)
    compare(lambda t: t.prod(), lambda t: t.prod(), a > 2)
    compare(lambda t: t.prod(1), lambda t: t.prod(1), np.ones((2, 0)))


# ---------------------------------------------------------------- amax / amin / max / min
TIES = np.array([[[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 2.0], [0.0, -4.0, 5.0, -4.0]],
                 [[3.0, 1.0, 0.0, 3.0], [7.0, 1.0, 7.0, 7.0], [-1.0, -1.0, 6.0, 6.0]]])


@pytest.mark.parametrize("op", ["amax", "amin"])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
def test_amax_amin_ties_vs_torch(op, dim, keepdim, dtype):
    f = REDUCTIONS[op]
    compare(lambda x: f(x, dim, keepdim), lambda x: f(x, dim, keepdim), TIES.astype(dtype))


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
def test_max_min_all_ties_vs_torch(op, dtype):
    compare(lambda x: getattr(x, op)(), lambda x: getattr(x, op)(), TIES.astype(dtype))
    compare(lambda x: getattr(x, op)(), lambda x: getattr(x, op)(), randn(SHAPE, dtype))
    compare(lambda x: getattr(x, op)(), lambda x: getattr(x, op)(), np.array(2.0, dtype))


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1, 2])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("data", ["ties", "random"])
def test_max_min_dim_named_tuple_vs_torch(op, dim, keepdim, data):
    x = TIES if data == "ties" else randn(SHAPE)
    c = getattr(chainrule.tensor(x), op)(dim, keepdim)
    t = getattr(torch.tensor(x), op)(dim, keepdim)
    assert isinstance(c, tuple) and len(c) == 2
    values, indices = c
    assert values is c.values and indices is c.indices and c[0] is c.values
    assert_same(c.values, t.values, rtol=0, atol=0)
    assert_same(c.indices, t.indices, rtol=0, atol=0)
    cf = chainrule.max if op == "max" else chainrule.min
    tf = torch.max if op == "max" else torch.min
    assert_same(cf(chainrule.tensor(x), dim=dim, keepdim=keepdim).indices,
                tf(torch.tensor(x), dim=dim, keepdim=keepdim).indices, rtol=0, atol=0)
    compare(lambda a: getattr(a, op)(dim, keepdim).values,
            lambda a: getattr(a, op)(dim, keepdim).values, x)


def test_max_min_0d_and_size1():
    for op in ("max", "min"):
        for x in (np.array(1.5), np.array([1.5]), np.array([[1.5], [2.5]])):
            c, t = getattr(chainrule.tensor(x), op)(0), getattr(torch.tensor(x), op)(0)
            assert_same(c.values, t.values, rtol=0, atol=0)
            assert_same(c.indices, t.indices, rtol=0, atol=0)
            compare(lambda a, op=op: getattr(a, op)(-1, True).values,
                    lambda a, op=op: getattr(a, op)(-1, True).values, x)


def test_max_min_elementwise_with_tensor():
    a, b = TIES[0], TIES[1]
    compare(lambda x, y: x.max(y), lambda x, y: x.max(y), a, b)
    compare(lambda x, y: chainrule.min(x, y), lambda x, y: torch.min(x, y), a, b)


def test_nan_propagates_like_torch():
    x = np.array([[1.0, np.nan, np.nan], [1.0, 2.0, 2.0], [3.0, np.nan, 0.0]])
    for op in ("amax", "amin"):
        f, g = methodcaller(op, 1), methodcaller(op)
        compare(f, f, x, second=False)
        compare(g, g, x, second=False)
    for op in ("max", "min"):  # no dim: the NaNs share the gradient (torch.max())
        compare(methodcaller(op), methodcaller(op), x, second=False)
        c, t = getattr(chainrule.tensor(x), op)(1), getattr(torch.tensor(x), op)(1)
        assert_same(c.values, t.values, rtol=0, atol=0)
        assert_same(c.indices, t.indices, rtol=0, atol=0)
        assert_same(getattr(chainrule.tensor(x), "arg" + op)(1),
                    getattr(torch.tensor(x), "arg" + op)(1), rtol=0, atol=0)


@pytest.mark.parametrize("op", ["amax", "amin"])
@pytest.mark.parametrize("dim", [None, 1, (0, 2)], ids=str)
def test_amax_gradcheck(op, dim):
    f = REDUCTIONS[op]
    check_grads(lambda x: f(x, dim, False), randn((2, 3, 2), seed=7))


def test_amax_errors_like_torch():
    for op in ("amax", "amin"):
        with pytest.raises(IndexError, match="non-zero size"):
            getattr(chainrule.zeros(0, 3), op)(0)
        with pytest.raises(RuntimeError):
            getattr(chainrule.zeros(0, 3), op)()
        with pytest.raises(IndexError):
            getattr(chainrule.zeros(2, 3), op)(2)
    assert_same(chainrule.zeros(0, 3).amax(1), torch.zeros(0, 3).amax(1), rtol=0, atol=0)
    with pytest.raises(RuntimeError):
        chainrule.zeros(0).max()
    with pytest.raises(IndexError):
        chainrule.zeros(2, 0).max(1)


# ---------------------------------------------------------------- argmax / argmin / all / any
@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("data", ["ties", "random", "int"])
def test_argmax_argmin_vs_torch(op, dim, keepdim, data):
    x = {"ties": TIES, "random": randn(SHAPE, F32), "int": TIES.astype(np.int64)}[data]
    c = getattr(chainrule.tensor(x), op)(dim, keepdim)
    t = getattr(torch.tensor(x), op)(dim, keepdim)
    assert_same(c, t, rtol=0, atol=0)
    assert not c.requires_grad


def test_argmax_0d():
    assert_same(chainrule.tensor(3.0).argmax(), torch.tensor(3.0).argmax(), rtol=0, atol=0)
    assert_same(chainrule.tensor(3.0).argmin(0), torch.tensor(3.0).argmin(0), rtol=0, atol=0)


ALL_ANY_DATA = {
    "float": np.array([[0.0, 1.5, -2.0], [0.0, 0.0, 0.0]]),
    "int": np.array([[1, 2, 3], [0, 4, 5]]),
    "bool": np.array([[True, True], [False, True], [False, False]]),
}


@pytest.mark.parametrize("op", ["all", "any"])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("data", sorted(ALL_ANY_DATA))
def test_all_any_vs_torch(op, dim, keepdim, data):
    x = ALL_ANY_DATA[data]
    if dim is None:
        c, t = getattr(chainrule.tensor(x), op)(), getattr(torch.tensor(x), op)()
    else:
        c, t = getattr(chainrule.tensor(x), op)(dim, keepdim), getattr(torch.tensor(x), op)(
            dim, keepdim)
    assert_same(c, t, rtol=0, atol=0)
    assert_same(getattr(chainrule, op)(chainrule.tensor(x[:0])),
                getattr(torch, op)(torch.tensor(x[:0])), rtol=0, atol=0)


# ---------------------------------------------------------------- var / std / norm
@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0")
@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2)], ids=str)
@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("keepdim", [False, True])
def test_var_std_correction_vs_torch(op, dim, correction, keepdim):
    x = randn(SHAPE, seed=11)
    n = np.prod([SHAPE[d] for d in np.atleast_1d(dim)]) if dim is not None else x.size
    # N - correction <= 0: torch warns and its inf/NaN gradient is not a rule worth matching
    f = lambda t: getattr(t, op)(dim, correction=correction, keepdim=keepdim)  # noqa: E731
    if n > correction:
        compare(f, f, x)
    else:
        assert_same(f(chainrule.tensor(x)), f(torch.tensor(x)))


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("unbiased", [True, False])
def test_var_std_unbiased_vs_torch(op, unbiased):
    x = randn(SHAPE, seed=12)
    compare(lambda t: getattr(t, op)(unbiased=unbiased), lambda t: getattr(t, op)(
        unbiased=unbiased), x)
    compare(lambda t: getattr(t, op)(unbiased), lambda t: getattr(t, op)(unbiased), x)
    compare(lambda t: getattr(t, op)(1, unbiased), lambda t: getattr(t, op)(1, unbiased), x)
    compare(lambda t: getattr(t, op)(1, unbiased, True), lambda t: getattr(t, op)(
        1, unbiased, True), x)
    compare(lambda t: getattr(chainrule, op)(t, (0, 1), unbiased=unbiased),
            lambda t: getattr(torch, op)(t, (0, 1), unbiased=unbiased), x)
    compare(lambda t: getattr(t, op)(1, unbiased, True), lambda t: getattr(t, op)(
        1, unbiased, True), x.astype(F32))


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_gradcheck(op):
    for kwargs in ({}, {"dim": 1, "correction": 0}, {"dim": (0, 2), "unbiased": False}):
        check_grads(lambda t, kwargs=kwargs: getattr(t, op)(**kwargs), randn((2, 3, 2), seed=13))


@pytest.mark.parametrize("p", [2, 1, 3, float("inf"), "fro"], ids=str)
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2)], ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
def test_norm_vs_torch(p, dim, keepdim):
    if p == "fro" and dim is not None and not isinstance(dim, tuple):
        dim = (dim,)
    x = randn(SHAPE, seed=17)
    x[0, 0, 0] = 2.0  # no ties for the inf norm
    compare(lambda t: t.norm(p, dim, keepdim), lambda t: t.norm(p, dim, keepdim), x)


# ---------------------------------------------------------------- logsumexp
@pytest.mark.filterwarnings("ignore:invalid value encountered")  # inf - inf, as torch's NaN
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
def test_logsumexp_extremes_vs_torch(dtype):
    inf = np.inf
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [-inf, -inf, -inf], [inf, 1.0, 2.0],
                  [-inf, 0.0, 1.0], [1e4, 1e4, 1e4]], dtype=dtype)
    c = chainrule.tensor(x).logsumexp(1)
    assert_same(c, torch.tensor(x).logsumexp(1), **TOL[dtype])
    assert c[2].item() == -inf and c[3].item() == inf
    assert np.isfinite(c.numpy()[[0, 1, 4, 5]]).all()
    compare(lambda t: t.logsumexp(1), lambda t: t.logsumexp(1), x, second=False)
    compare(lambda t: t.logsumexp(1, True), lambda t: t.logsumexp(1, True), x[[0, 1, 4, 5]])
    compare(lambda t: t.logsumexp(0), lambda t: t.logsumexp(0), x[[0, 1, 5]])


def test_logsumexp_0d_int_and_empty():
    compare(lambda t: t.logsumexp(0), lambda t: t.logsumexp(0), np.array(2.5))
    compare(lambda t: t.logsumexp(-1, True), lambda t: t.logsumexp(-1, True), np.array(2.5))
    compare(lambda t: t.logsumexp(1), lambda t: t.logsumexp(1), np.array([[1, 2, 3]]),
            tol=TOL[F32])
    compare(lambda t: t.logsumexp(1), lambda t: t.logsumexp(1), np.zeros((2, 0)))
    compare(lambda t: t.logsumexp(0), lambda t: t.logsumexp(0), np.zeros((2, 0)))


# ---------------------------------------------------------------- softmax / log_softmax
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1, 2])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
def test_softmax_vs_torch(op, dim, dtype):
    compare(lambda t: getattr(t, op)(dim), lambda t: getattr(t, op)(dim), randn(SHAPE, dtype))
    compare(lambda t: getattr(chainrule, op)(t, dim), lambda t: getattr(torch, op)(t, dim),
            randn(SHAPE, dtype, seed=4))


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
def test_softmax_extremes_vs_torch(op, dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4 - 1, 1e4 - 2],
                  [-np.inf, 0.0, 1.0]], dtype=dtype)
    c = getattr(chainrule.tensor(x), op)(1)
    assert_same(c, getattr(torch.tensor(x), op)(1), **TOL[dtype])
    finite = c.numpy()[:3]
    assert np.isfinite(finite).all()
    if op == "softmax":
        np.testing.assert_allclose(c.numpy().sum(1), 1.0, rtol=1e-6)
        assert c[0, 0].item() == 1.0 and c[0, 1].item() == 0.0 and c[3, 0].item() == 0.0
    else:
        assert c[0, 0].item() == 0.0 and c[0, 1].item() == -2e4 and c[3, 0].item() == -np.inf
    compare(lambda t: getattr(t, op)(1), lambda t: getattr(t, op)(1), x)
    compare(lambda t: getattr(t, op)(0), lambda t: getattr(t, op)(0), x[:3])


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_nan_rows_like_torch(op):
    x = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [1.0, 2.0]])
    assert_same(getattr(chainrule.tensor(x), op)(1), getattr(torch.tensor(x), op)(1))


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_0d_size1_int_and_dtype(op):
    compare(lambda t: getattr(t, op)(0), lambda t: getattr(t, op)(0), np.array(3.0))
    compare(lambda t: getattr(t, op)(1), lambda t: getattr(t, op)(1), np.array([[3.0], [1.0]]))
    compare(lambda t: getattr(t, op)(0), lambda t: getattr(t, op)(0), np.array([[3.0, 1.0]]))
    c = getattr(chainrule.tensor(randn((2, 3), F32)), op)(1, dtype=chainrule.float64)
    assert c.dtype == chainrule.float64
    assert getattr(chainrule.tensor([[1, 2]]), op)(1).dtype == chainrule.float32
    for shape in ((2, 0), (0, 3)):
        compare(lambda t: getattr(t, op)(1), lambda t: getattr(t, op)(1), np.zeros(shape))


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, -1])
def test_softmax_gradcheck(op, dim):
    check_grads(lambda t: getattr(t, op)(dim), randn((3, 4), seed=19))


def test_fused_matches_composite():
    x = chainrule.tensor(randn((3, 5), seed=21), requires_grad=True)
    fused = [x.softmax(1), x.log_softmax(1), x.logsumexp(1)]
    e = (x - x.amax(1, keepdim=True)).exp()
    composite = [e / e.sum(1, keepdim=True), (e / e.sum(1, keepdim=True)).log(),
                 (x.exp().sum(1)).log()]
    for a, b in zip(fused, composite):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
        u = chainrule.tensor(randn(tuple(a.shape), seed=22))
        (ga,) = chainrule.autograd.grad(a, x, u, retain_graph=True)
        (gb,) = chainrule.autograd.grad(b, x, u, retain_graph=True)
        np.testing.assert_allclose(ga.numpy(), gb.numpy(), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- cumsum
@pytest.mark.parametrize("dim", [0, 1, -1, 2])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
def test_cumsum_vs_torch(dim, dtype):
    compare(lambda t: t.cumsum(dim), lambda t: t.cumsum(dim), randn(SHAPE, dtype))
    compare(lambda t: chainrule.cumsum(t, dim=dim), lambda t: torch.cumsum(t, dim=dim),
            randn(SHAPE, dtype, seed=2))


def test_cumsum_0d_size1_ints_and_dtype():
    compare(lambda t: t.cumsum(0), lambda t: t.cumsum(0), np.array(2.5))
    compare(lambda t: t.cumsum(-1), lambda t: t.cumsum(-1), np.array([[2.5], [1.0]]))
    compare(lambda t: t.cumsum(0), lambda t: t.cumsum(0), np.array([[2.5, 1.0]]))
    compare(lambda t: t.cumsum(0), lambda t: t.cumsum(0), np.array([1, 2, 3], np.int32))
    compare(lambda t: t.cumsum(0), lambda t: t.cumsum(0), np.array([True, False, True]))
    compare(lambda t: t.cumsum(1, dtype=chainrule.float64 if isinstance(t, chainrule.Tensor)
                               else torch.float64),
            lambda t: t.cumsum(1, dtype=torch.float64), randn((2, 3), F32))


@pytest.mark.parametrize("dim", [0, 1])
def test_cumsum_gradcheck(dim):
    check_grads(lambda t: t.cumsum(dim), randn((3, 4), seed=23))


# ---------------------------------------------------------------- errors
def test_reduction_errors_like_torch():
    x = chainrule.zeros(2, 3)
    for call in (lambda: x.sum(2), lambda: x.amax(-3), lambda: x.softmax(2),
                 lambda: x.cumsum(5), lambda: x.logsumexp(3), lambda: x.prod(2),
                 lambda: x.argmax(2)):
        with pytest.raises(IndexError, match="out of range"):
            call()
    with pytest.raises(RuntimeError, match="multiple times"):
        x.sum((0, 0))
    with pytest.raises(RuntimeError, match="floating point"):
        chainrule.tensor([1, 2]).var()
    with pytest.raises(RuntimeError, match="mean"):
        chainrule.tensor([1, 2]).mean()


# ---------------------------------------------------------------- einsum
EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),  # matmul
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit output
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),  # batch matmul
    ("ij,kj->ik", [(2, 3), (4, 3)]),  # a transposed operand
    ("ji,jk->ki", [(3, 2), (3, 4)]),  # transposes in and out
    ("i,j->ij", [(3,), (4,)]),  # outer
    ("i,i->", [(3,), (3,)]),  # dot
    ("ij,ij->ij", [(2, 3), (2, 3)]),  # elementwise
    ("ii", [(3, 3)]),  # trace
    ("ii->", [(3, 3)]),
    ("ii->i", [(3, 3)]),  # diagonal
    ("iii->i", [(2, 2, 2)]),
    ("ii,i->i", [(3, 3), (3,)]),
    ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
    ("bii->bi", [(2, 3, 3)]),
    ("ij->ji", [(2, 3)]),  # transpose
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),  # a letter only in the operand: summed, then expanded back
    ("ij,j->", [(2, 3), (3,)]),
    ("...ij,...jk", [(2, 2, 3), (3, 4)]),  # ellipsis, broadcast
    ("...ij,...jk->...ik", [(5, 1, 2, 3), (4, 3, 2)]),
    ("...ij,...jk->ik", [(2, 2, 3), (3, 4)]),  # ellipsis summed away
    ("b...,b...->b", [(2, 3, 4), (2, 3, 4)]),
    ("...ij->...ji", [(2, 1, 2, 3)]),
    ("i...i", [(3, 2, 3)]),
    ("...", [(2, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),  # three operands
    ("i,i,i->", [(3,), (3,), (3,)]),
    ("ij,jk,ki->", [(2, 3), (3, 4), (4, 2)]),
    ("bi,bi->b", [(3, 1), (1, 4)]),  # size-1 dims broadcast
    ("i,i->i", [(3,), (1,)]),
    ("Ab,ba", [(2, 3), (3, 2)]),  # uppercase sorts first in the implicit output
    ("ba,A", [(2, 3), (4,)]),
    (" i j , j k -> i k ", [(2, 3), (3, 4)]),  # spaces are ignored
    ("", [()]),  # 0-d
    ("i,->i", [(3,), ()]),
    ("ij,ij->", [(0, 3), (0, 3)]),  # empty
]


@pytest.mark.parametrize("equation,shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
def test_einsum_vs_torch(equation, shapes, dtype):
    arrays = [randn(s, dtype, seed=k) for k, s in enumerate(shapes)]
    compare(lambda *ts: chainrule.einsum(equation, *ts),
            lambda *ts: torch.einsum(equation, *ts), *arrays)


@pytest.mark.parametrize("equation,shapes", EINSUM_CASES[:-3] + [EINSUM_CASES[-2]],
                         ids=[c[0] for c in EINSUM_CASES[:-3] + [EINSUM_CASES[-2]]])
def test_einsum_gradcheck(equation, shapes):
    check_grads(lambda *ts: chainrule.einsum(equation, *ts),
                *[randn(s, seed=10 + k) for k, s in enumerate(shapes)])


def test_einsum_operand_forms():
    a, b = randn((2, 3)), randn((3, 4))
    ref = torch.einsum("ij,jk->ik", torch.tensor(a), torch.tensor(b))
    ca, cb = chainrule.tensor(a), chainrule.tensor(b)
    assert_same(chainrule.einsum("ij,jk->ik", [ca, cb]), ref)
    assert_same(chainrule.einsum("ij,jk->ik", (ca, cb)), ref)
    assert_same(chainrule.einsum(ca, [0, 1], cb, [1, 2], [0, 2]), ref)
    assert_same(chainrule.einsum(ca, [0, 1], cb, [1, 2]), ref)
    x = randn((2, 3, 4))
    assert_same(chainrule.einsum(chainrule.tensor(x), [Ellipsis, 0], [Ellipsis]),
                torch.einsum(torch.tensor(x), [Ellipsis, 0], [Ellipsis]))


def test_einsum_dtypes():
    i, f = np.array([1, 2]), np.array([1.5, 2.5], F32)
    assert_same(chainrule.einsum("i,j->ij", chainrule.tensor(i), chainrule.tensor(i)),
                torch.einsum("i,j->ij", torch.tensor(i), torch.tensor(i)), rtol=0, atol=0)
    assert_same(chainrule.einsum("i,j->ij", chainrule.tensor(i), chainrule.tensor(f)),
                torch.einsum("i,j->ij", torch.tensor(i), torch.tensor(f)))


def test_einsum_output_owns_its_memory():
    x = chainrule.tensor(randn((3, 3)))
    for eq in ("ij->ji", "ii->i", "ij->ij", "..."):
        y = chainrule.einsum(eq, x)
        assert not np.shares_memory(y.numpy(), x.numpy())


def test_einsum_diagonal_gradient_embeds():
    x = chainrule.tensor(randn((3, 3)), requires_grad=True)
    chainrule.einsum("ii->i", x).sum().backward()
    assert x.grad.tolist() == np.eye(3).tolist()
    x.grad = None
    chainrule.einsum("ii", x).backward()
    assert x.grad.tolist() == np.eye(3).tolist()


EINSUM_ERRORS = [
    ("ij,jk", [(2, 3)], "fewer operands"),
    ("ij", [(2, 3), (3, 4)], "more operands"),
    ("ij,jk->ik", [(2, 3), (4, 5)], "subscript j has size 4 for operand 1"),
    ("ijk,jk->ik", [(2, 3), (3, 4)], r"number of subscripts in the equation \(3\) does not"),
    ("...ijk", [(2, 3)], r"\(3\) is more than the number of dimensions \(2\)"),
    ("i1,jk->ik", [(2, 3), (3, 4)], "invalid subscript given at index 1"),
    ("ij->ik->", [(2, 3)], "invalid subscript given at index 6"),
    ("ij-", [(2, 3)], "invalid subscript given at index 2"),
    ("ij,jk->ii", [(2, 3), (3, 4)], "output subscript i appears more than once"),
    ("ij,jk->q", [(2, 3), (3, 4)], "output subscript q does not appear"),
    ("ii", [(2, 3)], "subscript i is repeated for operand 0 but the sizes don't match"),
    ("....ij", [(2, 3)], "ellipsis was already found"),
    ("i.j", [(2, 3)], "not part of any ellipsis"),
    ("ij->i..", [(2, 3)], "not part of any ellipsis"),
    ("...ij,...jk", [(5, 2, 3), (4, 3, 4)], "covered by ellipsis in operand 1"),
    ("->", [(2, 3)], r"number of subscripts in the equation \(0\)"),
]


@pytest.mark.parametrize("equation,shapes,message", EINSUM_ERRORS,
                         ids=[e[0] for e in EINSUM_ERRORS])
def test_einsum_errors_like_torch(equation, shapes, message):
    with pytest.raises(RuntimeError, match=message):
        chainrule.einsum(equation, *[chainrule.zeros(*s) for s in shapes])
    with pytest.raises(RuntimeError):
        torch.einsum(equation, *[torch.zeros(*s) for s in shapes])


def test_einsum_type_errors():
    x = chainrule.zeros(2, 3)
    with pytest.raises(TypeError, match="must be str"):
        chainrule.einsum(3, x)
    with pytest.raises(TypeError, match="expected Tensor as element 1"):
        chainrule.einsum("ij,jk", x, np.zeros((3, 4)))
    with pytest.raises(RuntimeError, match="valid range"):
        chainrule.einsum(x, [0, 99])
