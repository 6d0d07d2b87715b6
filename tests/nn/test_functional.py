"""chainrule.nn.functional against torch.nn.functional: training loops, stability at extreme
logits, activations, and every bad-input path.

The op-by-op comparison of the losses (values, gradients in float32 and float64, second
derivatives, finite differences) is driven by the rows of tests/opspecs.py. Second derivatives
here differentiate sum(grad(out, inputs, g) * v) with respect to the inputs and g.
"""

import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from tests._torch import torch

TF = torch.nn.functional

# NumPy's RuntimeWarnings (overflow, divide by zero, invalid) would mean a kernel computed
# something it then threw away: the fused ops must not emit any.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["none", "mean", "sum"]


def _rng(seed=0):
    return np.random.default_rng(seed)


def _probs(r, shape, axis=-1):
    e = np.exp(r.normal(size=shape))
    return e / e.sum(axis=axis, keepdims=True)


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


# The loss table (every configuration of weights, ignored targets, label smoothing, class
# probabilities and K-dimensional inputs, in every reduction, against PyTorch and finite
# differences) is the rows of tests/opspecs.py; here are whole programs, extreme values and
# errors.


# ---------------------------------------------------------------- the hot paths

def test_fast_and_composed_backward_agree():
    """The NumPy backward (no graph recorded) and the composed one give the same gradient."""
    r = _rng(3)
    x = r.normal(size=(7, 5))
    y = r.integers(0, 5, 7)
    a, b = r.normal(size=(6, 3)), r.normal(size=(6, 3))
    for create_graph in (False, True):
        for reduction in REDUCTIONS:
            xc = cr.tensor(x, requires_grad=True)
            out = F.cross_entropy(xc, cr.tensor(y), reduction=reduction)
            (gx,) = cr.autograd.grad(out, xc, cr.ones(out.shape, dtype=cr.float64),
                                     create_graph=create_graph)
            xt = torch.tensor(x, requires_grad=True)
            ref = torch.autograd.grad(TF.cross_entropy(xt, torch.tensor(y), reduction=reduction)
                                      .sum(), xt)[0]
            np.testing.assert_allclose(gx.array, ref.numpy(), rtol=1e-12, atol=1e-14)
            ac, bc = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
            out = F.mse_loss(ac, bc, reduction=reduction)
            ga, gb = cr.autograd.grad(out, [ac, bc], cr.ones(out.shape, dtype=cr.float64),
                                      create_graph=create_graph)
            scale = 1 / a.size if reduction == "mean" else 1
            np.testing.assert_allclose(ga.array, 2 * (a - b) * scale, rtol=1e-14)
            np.testing.assert_allclose(gb.array, -2 * (a - b) * scale, rtol=1e-14)


def test_matrix_factorisation_step_matches_torch():
    """The course's loop: mse_loss(U @ V.t(), A, reduction='sum'), backward(ones(loss.shape))."""
    r = _rng(4)
    A, U0, V0 = r.normal(size=(15, 4)), r.uniform(size=(15, 2)), r.uniform(size=(4, 2))
    results = []
    for lib, fn in ((cr, F.mse_loss), (torch, TF.mse_loss)):
        U = lib.tensor(U0.copy(), requires_grad=True)
        V = lib.tensor(V0.copy(), requires_grad=True)
        At = lib.tensor(A)
        for _ in range(20):
            loss = fn(U @ V.t(), At, reduction="sum")
            loss.backward(lib.ones(loss.shape, dtype=lib.float64))
            with lib.no_grad():
                U -= 0.01 * U.grad
                V -= 0.01 * V.grad
            U.grad.zero_()
            V.grad.zero_()
        results.append((loss.item(), U.detach().numpy(), V.detach().numpy()))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-11)
    np.testing.assert_allclose(results[0][2], results[1][2], rtol=1e-11)


def test_mlp_training_matches_torch():
    """The Iris-style MLP loop: cross_entropy(relu(x @ W1 + b1) @ W2 + b2, y, 'sum')."""
    r = _rng(5)
    X = r.normal(size=(30, 4)).astype(np.float32)
    y = r.integers(0, 3, 30)
    W1, W2 = r.normal(size=(4, 12)).astype(np.float32), r.normal(size=(12, 3)).astype(np.float32)
    losses = []
    for lib, mod in ((cr, F), (torch, TF)):
        ps = [lib.tensor(W1.copy(), requires_grad=True), lib.tensor(W2.copy(), requires_grad=True),
              lib.zeros(1, requires_grad=True), lib.zeros(1, requires_grad=True)]
        Xt, yt = lib.tensor(X), lib.tensor(y)
        trace = []
        for _ in range(10):
            loss = mod.cross_entropy(mod.relu(Xt @ ps[0] + ps[2]) @ ps[1] + ps[3], yt,
                                     reduction="sum")
            loss.backward()
            with lib.no_grad():
                for p in ps:
                    p -= 0.01 * p.grad
            for p in ps:
                p.grad.zero_()
            trace.append(loss.item())
        losses.append(trace)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)


# ---------------------------------------------------------------- stability

BIG = [1e4, -1e4]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_bce_with_logits_exact_at_extreme_logits(dtype):
    x = np.array([1e4, -1e4, 1e4, -1e4, 1e4, -1e4], dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 0.5], dtype)
    pw = np.array([2.0, 2.0, 2.0, 2.0, 2.0, 2.0], dtype)
    for kw in ({}, {"pos_weight": pw}):
        xc = cr.tensor(x, requires_grad=True)
        out = F.binary_cross_entropy_with_logits(
            xc, cr.tensor(t), reduction="none", **{k: cr.tensor(v) for k, v in kw.items()})
        xt = torch.tensor(x, requires_grad=True)
        ref = TF.binary_cross_entropy_with_logits(
            xt, torch.tensor(t), reduction="none", **{k: torch.tensor(v) for k, v in kw.items()})
        assert np.isfinite(out.array).all()
        np.testing.assert_array_equal(out.array, ref.detach().numpy())
        out.sum().backward()
        ref.sum().backward()
        assert np.isfinite(xc.grad.array).all()
        np.testing.assert_allclose(xc.grad.array, xt.grad.numpy(), rtol=1e-6, atol=0)
    # the exact values: 0 for a confident right answer, |x| for a confident wrong one
    out = F.binary_cross_entropy_with_logits(cr.tensor(x[:4]), cr.tensor(t[:4]), reduction="none")
    np.testing.assert_array_equal(out.array, np.array([0, 0, 1e4, 1e4], dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_exact_at_extreme_logits(dtype, reduction):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]],
                 dtype)
    y = np.array([0, 2, 2, 1])
    xc = cr.tensor(x, requires_grad=True)
    out = F.cross_entropy(xc, cr.tensor(y), reduction=reduction)
    xt = torch.tensor(x, requires_grad=True)
    ref = TF.cross_entropy(xt, torch.tensor(y), reduction=reduction)
    assert np.isfinite(out.array).all()
    np.testing.assert_allclose(out.array, ref.detach().numpy(), rtol=1e-6)
    if reduction == "none":
        ln2, ln3 = np.log(2.0), np.log(3.0)
        np.testing.assert_allclose(out.array, [0.0, ln2, 2e4 + ln2, ln3], rtol=1e-6)
    out.sum().backward()
    ref.sum().backward()
    assert np.isfinite(xc.grad.array).all()
    np.testing.assert_allclose(xc.grad.array, xt.grad.numpy(), rtol=1e-6, atol=1e-7)
    # probability targets go through log_softmax: also finite and exact
    q = np.full_like(x, 1 / 3)
    soft = F.cross_entropy(cr.tensor(x), cr.tensor(q), reduction=reduction)
    soft_ref = TF.cross_entropy(torch.tensor(x), torch.tensor(q), reduction=reduction)
    assert np.isfinite(soft.array).all()
    np.testing.assert_allclose(soft.array, soft_ref.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", ["log_softmax", "softmax", "logsumexp", "sigmoid", "softplus",
                                  "logsigmoid", "silu", "gelu", "elu", "selu", "mish"])
def test_activations_finite_and_exact_at_extremes(dtype, name):
    x = np.array([[1e4, -1e4, 0.5], [-1e4, -1e4, -1e4], [1e4, 1e4, 3.0]], dtype)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    if name == "logsumexp":
        out, ref = xc.logsumexp(1), xt.logsumexp(1)
    elif name in ("log_softmax", "softmax"):
        out, ref = getattr(F, name)(xc, dim=1), getattr(TF, name)(xt, dim=1)
    else:
        out, ref = getattr(F, name)(xc), getattr(TF, name)(xt)
    assert np.isfinite(out.array).all(), name
    np.testing.assert_allclose(out.array, ref.detach().numpy(), rtol=1e-6, atol=0)
    g = _rng(6).normal(size=out.shape).astype(dtype)
    out.backward(cr.tensor(g))
    ref.backward(torch.tensor(g))
    assert np.isfinite(xc.grad.array).all(), name
    np.testing.assert_allclose(xc.grad.array, xt.grad.numpy(), rtol=1e-5, atol=1e-30)


def test_bce_clamps_at_zero_and_one():
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-30, 0.5])
    t = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.5])
    xc, tc = cr.tensor(x, requires_grad=True), cr.tensor(t, requires_grad=True)
    xt, tt = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
    out = F.binary_cross_entropy(xc, tc, reduction="none")
    ref = TF.binary_cross_entropy(xt, tt, reduction="none")
    np.testing.assert_array_equal(out.array, ref.detach().numpy())  # 100 at a wrong 0 or 1
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(xc.grad.array, xt.grad.numpy(), rtol=1e-12)  # finite: 1e-12
    np.testing.assert_array_equal(tc.grad.array, tt.grad.numpy())  # +-inf, as PyTorch


# ---------------------------------------------------------------- edge cases

@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_all_targets_ignored_and_empty_batch(reduction):
    x = _rng(7).normal(size=(3, 4))
    for target, logits in ((np.full(3, -100), x), (np.zeros(0, np.int64), x[:0])):
        for fname in ("cross_entropy", "nll_loss"):
            out = getattr(F, fname)(cr.tensor(logits), cr.tensor(target), reduction=reduction)
            ref = getattr(TF, fname)(torch.tensor(logits), torch.tensor(target),
                                     reduction=reduction)
            np.testing.assert_array_equal(out.array, ref.numpy())  # nan for 'mean'


@pytest.mark.parametrize("fname", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_all_ignored_gradients_match_torch(fname, reduction):
    """Every target ignored: the gradient is 0 (never nan), its derivative in g as PyTorch's."""
    x, y = _rng(23).normal(size=(3, 4)), np.array([1, 1, 1])
    for create_graph in (False, True):
        xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out = getattr(F, fname)(xc, cr.tensor(y), ignore_index=1, reduction=reduction)
        ref = getattr(TF, fname)(xt, torch.tensor(y), ignore_index=1, reduction=reduction)
        g = _rng(24).normal(size=out.shape)
        gc = cr.tensor(g, requires_grad=True)
        gt = torch.tensor(g, requires_grad=True)
        (dc,) = cr.autograd.grad(out, xc, gc, create_graph=create_graph)
        (dt,) = torch.autograd.grad(ref, xt, gt, create_graph=True)
        np.testing.assert_array_equal(dc.array, dt.detach().numpy())  # zeros
        if create_graph:
            v = _rng(25).normal(size=x.shape)
            (hc,) = cr.autograd.grad((dc * cr.tensor(v)).sum(), gc)
            (ht,) = torch.autograd.grad((dt * torch.tensor(v)).sum(), gt)
            np.testing.assert_array_equal(hc.array, ht.numpy())  # nan for 'mean' (0 / 0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ignored_rows_count_for_nothing_even_if_not_finite(reduction):
    logp = np.log(_probs(_rng(21), (3, 4)))
    logp[1, 0] = -np.inf  # the ignored row's target is read as class 0: it must not leak
    logits = _rng(22).normal(size=(3, 4))
    logits[1] = np.inf
    y = np.array([2, -100, 1])
    for fname, x in (("nll_loss", logp), ("cross_entropy", logits)):
        for w in (None, np.array([1.0, 2.0, 0.5, 1.5])):
            kw_c = {} if w is None else {"weight": cr.tensor(w)}
            kw_t = {} if w is None else {"weight": torch.tensor(w)}
            out = getattr(F, fname)(cr.tensor(x), cr.tensor(y), reduction=reduction, **kw_c)
            ref = getattr(TF, fname)(torch.tensor(x), torch.tensor(y), reduction=reduction,
                                     **kw_t)
            assert np.isfinite(out.array).all(), fname
            np.testing.assert_allclose(out.array, ref.numpy(), rtol=1e-12)


def test_zero_dim_regression_losses():
    """criterion(f, torch.tensor(10.0)) on scalars, as the course's first autograd exercise."""
    for fname in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"):
        for reduction in REDUCTIONS:
            w = cr.tensor(1.5, requires_grad=True)
            out = getattr(F, fname)(w * 3.0, cr.tensor(10.0), reduction=reduction)
            out.backward()
            wt = torch.tensor(1.5, requires_grad=True)
            ref = getattr(TF, fname)(wt * 3.0, torch.tensor(10.0), reduction=reduction)
            ref.backward()
            assert out.shape == () and type(out.array) is np.ndarray
            assert type(w.grad.array) is np.ndarray and w.grad.shape == ()
            np.testing.assert_allclose(out.array, ref.detach().numpy(), rtol=1e-6)
            np.testing.assert_allclose(w.grad.array, wt.grad.numpy(), rtol=1e-6)


def test_regression_loss_broadcast_target_warns_like_torch():
    r = _rng(8)
    a, b = r.normal(size=(3, 4)), r.normal(size=(4,))
    for fname in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"):
        ac, bc = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
        at, bt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        with pytest.warns(UserWarning, match="different to the input size"):
            out = getattr(F, fname)(ac, bc)
        with pytest.warns(UserWarning):
            ref = getattr(TF, fname)(at, bt)
        np.testing.assert_allclose(out.array, ref.detach().numpy(), rtol=1e-12)
        out.backward()
        ref.backward()
        np.testing.assert_allclose(bc.grad.array, bt.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(ac.grad.array, at.grad.numpy(), rtol=1e-12)


def test_no_warnings_on_ordinary_calls():
    r = _rng(9)
    x = np.array([[1e4, -1e4, 0.0], [0.0, 1.0, 2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.cross_entropy(cr.tensor(x, requires_grad=True), cr.tensor([0, 1])).backward()
        F.binary_cross_entropy_with_logits(cr.tensor(x, requires_grad=True),
                                           cr.tensor(np.ones_like(x))).backward()
        F.binary_cross_entropy(cr.tensor(np.array([0.0, 1.0]), requires_grad=True),
                               cr.tensor(np.array([1.0, 0.0]))).backward()
        F.mse_loss(cr.tensor(r.normal(size=3)), cr.tensor(r.normal(size=3)))
        F.log_softmax(cr.tensor(x), 1)
        F.kl_div(cr.tensor(np.log(_probs(r, (2, 3)))), cr.tensor(np.zeros((2, 3))),
                 reduction="batchmean")


def test_dtype_promotion_matches_torch():
    r = _rng(10)
    a32, a64 = r.normal(size=(3, 4)).astype(np.float32), r.normal(size=(3, 4))
    i64 = r.integers(0, 3, (3, 4))
    cases = [("mse_loss", a32, a64), ("mse_loss", a64, a32), ("mse_loss", a32, i64),
             ("l1_loss", a32, a64), ("smooth_l1_loss", a32, i64), ("huber_loss", a32, a64),
             ("huber_loss", a64, a32), ("binary_cross_entropy_with_logits", a32, _sig(a64)),
             ("kl_div", a32, np.abs(a64))]
    for fname, a, b in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            out = getattr(F, fname)(cr.tensor(a), cr.tensor(b), reduction="sum")
            ref = getattr(TF, fname)(torch.tensor(a), torch.tensor(b), reduction="sum")
        assert str(out.dtype) == str(ref.dtype), fname
        np.testing.assert_allclose(out.array, ref.numpy(), rtol=1e-5)
    x = r.normal(size=(3, 4)).astype(np.float32)
    out = F.cross_entropy(cr.tensor(x), cr.tensor(_probs(r, (3, 4))))
    ref = TF.cross_entropy(torch.tensor(x), torch.tensor(_probs(r, (3, 4))))
    assert str(out.dtype) == str(ref.dtype) == "torch.float64"


def test_legacy_size_average_and_reduce():
    r = _rng(11)
    a, b = r.normal(size=(3, 4)), r.normal(size=(3, 4))
    for kw, expected in (({"size_average": False}, "sum"), ({"reduce": False}, "none"),
                         ({"size_average": True, "reduce": True}, "mean")):
        with pytest.warns(UserWarning, match=f"reduction='{expected}'"):
            out = F.mse_loss(cr.tensor(a), cr.tensor(b), **kw)
        ref = TF.mse_loss(torch.tensor(a), torch.tensor(b), reduction=expected)
        np.testing.assert_allclose(out.array, ref.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- one_hot

def test_one_hot_matches_torch():
    cases = [(np.array([0, 2, 1, 2]), -1), (np.array([[0, 1], [3, 1]]), 5),
             (np.array(2), -1), (np.zeros(0, np.int64), 3)]
    for t, n in cases:
        out = F.one_hot(cr.tensor(t), n)
        ref = TF.one_hot(torch.tensor(t), n)
        assert out.dtype == cr.int64
        assert out.shape == tuple(ref.shape)
        np.testing.assert_array_equal(out.array, ref.numpy())


# ---------------------------------------------------------------- activations

# Each activation against PyTorch over [-4, 7] (values, float32 and float64 gradients, second
# derivatives, finite differences) is a row of tests/opspecs.py ("<name>_range").


@pytest.mark.parametrize("ndim", [0, 1, 2, 3, 4])
def test_softmax_implicit_dim_warns_like_torch(ndim):
    x = _rng(17).normal(size=(2, 3, 4, 5)[:ndim])
    for name in ("softmax", "log_softmax", "softmin"):
        with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name}"):
            out = getattr(F, name)(cr.tensor(x))
        with pytest.warns(UserWarning):
            ref = getattr(TF, name)(torch.tensor(x))
        np.testing.assert_allclose(out.array, ref.numpy(), rtol=1e-12)


def test_softmax_dtype_argument():
    x = _rng(18).normal(size=(3, 4)).astype(np.float32)
    out = F.softmax(cr.tensor(x), dim=1, dtype=cr.float64)
    ref = TF.softmax(torch.tensor(x), dim=1, dtype=torch.float64)
    assert out.dtype == cr.float64
    np.testing.assert_allclose(out.array, ref.numpy(), rtol=1e-12)


def test_inplace_activations():
    x = _rng(19).normal(size=(3, 4))
    for name in ("relu", "relu6", "elu", "leaky_relu", "hardtanh", "silu"):
        xc = cr.tensor(x)
        out = getattr(F, name)(xc, inplace=True)
        assert out is xc
        np.testing.assert_allclose(xc.array, getattr(TF, name)(torch.tensor(x)).numpy(),
                                   rtol=1e-12)
        leaf = cr.tensor(x, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            getattr(F, name)(leaf, inplace=True)
        a = cr.tensor(x, requires_grad=True)
        h = a * 2.0
        getattr(F, name)(h, inplace=True).sum().backward()
        at = torch.tensor(x, requires_grad=True)
        getattr(TF, name)(at * 2.0, inplace=True).sum().backward()
        np.testing.assert_allclose(a.grad.array, at.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- errors

def _x(*shape, dtype=np.float32):
    return cr.tensor(_rng(20).normal(size=shape).astype(dtype))


ALL_LOSSES = {
    "mse_loss": lambda **kw: F.mse_loss(_x(3, 4), _x(3, 4), **kw),
    "l1_loss": lambda **kw: F.l1_loss(_x(3, 4), _x(3, 4), **kw),
    "smooth_l1_loss": lambda **kw: F.smooth_l1_loss(_x(3, 4), _x(3, 4), **kw),
    "huber_loss": lambda **kw: F.huber_loss(_x(3, 4), _x(3, 4), **kw),
    "nll_loss": lambda **kw: F.nll_loss(_x(3, 4), cr.tensor([0, 1, 2]), **kw),
    "cross_entropy": lambda **kw: F.cross_entropy(_x(3, 4), cr.tensor([0, 1, 2]), **kw),
    "binary_cross_entropy": lambda **kw: F.binary_cross_entropy(
        _x(3, 4).sigmoid(), _x(3, 4).sigmoid(), **kw),
    "binary_cross_entropy_with_logits": lambda **kw: F.binary_cross_entropy_with_logits(
        _x(3, 4), _x(3, 4).sigmoid(), **kw),
    "kl_div": lambda **kw: F.kl_div(_x(3, 4), _x(3, 4).sigmoid(), **kw),
}


@pytest.mark.parametrize("fname", sorted(ALL_LOSSES))
@pytest.mark.parametrize("bad", ["avg", "Mean", None, 1])
def test_bad_reduction_raises_value_error(fname, bad):
    with pytest.raises(ValueError, match="is not a valid value for reduction") as info:
        ALL_LOSSES[fname](reduction=bad)
    assert "'mean'" in str(info.value) and "'none'" in str(info.value)
    assert fname in str(info.value)


def _raises(exc, match, fn, *args, **kwargs):
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


def test_class_target_errors():
    x, y = _x(3, 4), cr.tensor([0, 1, 3])
    for fn in (F.cross_entropy, F.nll_loss):
        _raises(RuntimeError, "expected target dtype to be Long or Byte.*torch.int32", fn, x,
                y.int())
        _raises(RuntimeError, "expected target dtype to be Long or Byte.*torch.float32", fn, x,
                y.float())
        _raises(IndexError, "Target 4 is out of bounds", fn, x, cr.tensor([0, 1, 4]))
        _raises(IndexError, "Target -1 is out of bounds", fn, x, cr.tensor([0, -1, 1]))
        _raises(IndexError, "Target 7 is out of bounds", fn, x, cr.tensor([7, 1, 1]),
                ignore_index=1)
        _raises(ValueError, r"Expected input batch_size \(3\) to match target batch_size \(2\)",
                fn, x, cr.tensor([0, 1]))
        _raises(RuntimeError, "multi-target not supported", fn, x, cr.tensor([[0], [1], [2]]))
        _raises(RuntimeError, r"Expected target size \[2, 3\], got \[2, 4\]", fn, _x(2, 4, 3),
                cr.zeros(2, 4, dtype=cr.int64))
        _raises(RuntimeError, "For 1D input, 1D target must have size 1", fn, _x(4),
                cr.tensor([0, 1]))
        _raises(ValueError, "Expected 1 or more dimensions", fn, _x(), cr.tensor(0))
        _raises(RuntimeError, "weight tensor should be defined either for all 4 classes", fn,
                x, y, weight=cr.ones(3))
        _raises(RuntimeError, "expected scalar type torch.float32 but found torch.float64", fn,
                x, y, weight=cr.ones(4, dtype=cr.float64))
        _raises(RuntimeError, "not differentiable with respect to argument 'weight'", fn, x, y,
                weight=cr.ones(4, requires_grad=True))
        _raises(NotImplementedError, "floating point", fn, cr.ones(3, 4, dtype=cr.int64), y)
        _raises(TypeError, "must be Tensor, not list", fn, x, [0, 1, 3])
        _raises(TypeError, "argument 'input'.*must be Tensor", fn, [[0.0]], y)


def test_cross_entropy_specific_errors():
    x = _x(3, 4)
    _raises(RuntimeError, "label_smoothing must be between", F.cross_entropy, x,
            _x(3, 4).softmax(1), label_smoothing=2.0)
    _raises(RuntimeError, "Expected floating point type for target with class probabilities",
            F.cross_entropy, x, cr.zeros(3, 4, dtype=cr.int64))
    _raises(RuntimeError, "ignore_index is not supported for floating point target",
            F.cross_entropy, x, _x(3, 4).softmax(1), ignore_index=0)


def test_regression_and_binary_loss_errors():
    a = _x(3, 4)
    with pytest.warns(UserWarning, match="different to the input size"):
        _raises(RuntimeError, r"The size of tensor a \(4\) must match the size of tensor b \(3\)",
                F.mse_loss, a, _x(3))
    _raises(NotImplementedError, "expected floating point", F.mse_loss,
            cr.ones(3, dtype=cr.int64), cr.ones(3, dtype=cr.int64))
    p = a.sigmoid()
    _raises(RuntimeError, "Found dtype torch.float64 but expected torch.float32",
            F.binary_cross_entropy, p, p.double())
    _raises(RuntimeError, "all elements of target should be between 0 and 1",
            F.binary_cross_entropy, p, a)
    _raises(RuntimeError, "not differentiable with respect to argument 'weight'",
            F.binary_cross_entropy, p, p, weight=cr.ones(4, requires_grad=True))
    _raises(RuntimeError, "the target must be floating point",
            F.binary_cross_entropy_with_logits, a, cr.ones(3, 4, dtype=cr.int64))
    _raises(RuntimeError, "must match the size of tensor b", F.binary_cross_entropy_with_logits,
            a, p, weight=cr.ones(3))
    _raises(RuntimeError, "not differentiable with respect to argument 'pos_weight'",
            F.binary_cross_entropy_with_logits, a, p, pos_weight=cr.ones(4, requires_grad=True))
    _raises(TypeError, "argument 'target'.*must be Tensor, not float", F.mse_loss, a, 1.0)


def test_other_errors():
    _raises(RuntimeError, "Class values must be non-negative", F.one_hot, cr.tensor([0, -1]))
    _raises(RuntimeError, "Class values must be smaller than num_classes", F.one_hot,
            cr.tensor([0, 5]), 3)
    _raises(RuntimeError, "only applicable to index tensor of type LongTensor", F.one_hot,
            cr.tensor([0.0, 1.0]))
    _raises(RuntimeError, "Can not infer total number of classes from empty tensor", F.one_hot,
            cr.zeros(0, dtype=cr.int64))
    _raises(RuntimeError, "expected weight to have the input's dtype", F.linear, _x(3, 4),
            _x(5, 4, dtype=np.float64))
    _raises(RuntimeError, "approximate argument must be either none or tanh", F.gelu, _x(3),
            approximate="fast")
    _raises(TypeError, "must be Tensor", F.relu, [1.0, 2.0])


def test_functional_is_reachable_from_chainrule_nn():
    import chainrule.nn

    assert chainrule.nn.functional is F
    for name in F.__all__:
        assert callable(getattr(F, name)), name
        assert hasattr(TF, name), name
