"""Adadelta, Adamax, NAdam, RAdam, Rprop, ASGD, LBFGS and CyclicLR against torch 2.13.

Optimizers run 100 steps of the problem in tests/optim/_problem.py; after EVERY step the
parameters of both libraries must agree elementwise to RTOL = 1e-12 (measured worst over
these grids: about 1e-13; Rprop and Adamax agree to the bit). The last bits differ because
torch's CPU kernels fuse multiply-adds and its sqrt is not correctly rounded.

LBFGS minimises a convex objective that changes each step (fresh noise, as in a stochastic
setting), f_t(x) = sum(c x**2 / 2 + log(cosh x) / 2 + noise_t x), with one closure per step.
Its configurations are the well-conditioned ones: there, moving torch's own start by one ulp
moves torch's path by under 1e-11, and chainrule stays within LBFGS_RTOL = 1e-10 of torch.
With lr=1 and a long history the same objective is ill-conditioned: torch's path moves by
more than 1e-2 when its start moves by one ulp, and no implementation can do better.
"""

from __future__ import annotations

import copy
import inspect
import itertools
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from tests._torch import torch
from tests.optim._problem import (
    COEF,
    NOISE,
    START,
    STEPS,
    _both_raise,
    _lib,
    _maker,
    _params,
    _rel,
    _set_grads,
)

RTOL = 1e-12
LBFGS_RTOL = 1e-10
NAMES = ["Adadelta", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD", "LBFGS"]


def _values(params):
    return [p.detach().numpy().copy() for p in params]


def _run(lib, make, steps=STEPS, dtype=np.float64, start=0, params=None, opt=None):
    """Step `make`'s optimizer; returns the parameters after every step, and the optimizer."""
    params = _params(lib, dtype) if params is None else params
    opt = make(_lib(lib)[1], params) if opt is None else opt
    history = []
    for t in range(start, start + steps):
        _set_grads(lib, params, t)
        opt.step()
        history.append(_values(params))
    return history, opt


def _assert_paths_close(ours, theirs, rtol=RTOL):
    assert len(ours) == len(theirs)
    for t, (a_step, b_step) in enumerate(zip(ours, theirs)):
        for a, b in zip(a_step, b_step):
            assert a.dtype == b.dtype
            assert _rel(a, b) <= rtol, f"step {t}: relative difference {_rel(a, b):.3e}"
    assert max(np.max(np.abs(a - s)) for a, s in zip(ours[-1], START)) > 1e-3  # it moved


def _assert_state_close(opt, topt, rtol=RTOL):
    """Same state names in the same order, same dtypes and shapes, close values."""
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert sorted(ours["state"]) == sorted(theirs["state"])
    for i, s in ours["state"].items():
        ts = theirs["state"][i]
        assert list(s) == list(ts)
        for k, v in s.items():
            tv = ts[k]
            if isinstance(tv, torch.Tensor):
                assert isinstance(v, cr.Tensor) and repr(v.dtype) == repr(tv.dtype), k
                assert v.shape == tuple(tv.shape), k
                assert _rel(v.numpy(), tv.numpy()) <= rtol, k
            elif isinstance(tv, list):
                assert len(v) == len(tv), k
            else:
                assert v == pytest.approx(tv, rel=rtol), k
    assert ours["param_groups"] == theirs["param_groups"]


# ---------------------------------------------------------------------------------- grids
def _grid(fixed, **options):
    keys = list(options)
    return [dict(fixed, **dict(zip(keys, values)))
            for values in itertools.product(*options.values())]


GRIDS = {
    "Adadelta": _grid({}, lr=[1.0, 0.3], rho=[0.9, 0.5], eps=[1e-6, 1e-3],
                      weight_decay=[0, 0.05], maximize=[False, True]),
    "Adamax": _grid({"lr": 0.02}, betas=[(0.9, 0.999), (0.5, 0.9)], eps=[1e-8, 1e-3],
                    weight_decay=[0, 0.05], maximize=[False, True]),
    "NAdam": _grid({"lr": 0.02}, betas=[(0.9, 0.999), (0.5, 0.9)], weight_decay=[0, 0.05],
                   momentum_decay=[4e-3, 0.1], decoupled_weight_decay=[False, True],
                   maximize=[False, True]),
    "RAdam": _grid({"lr": 0.02}, betas=[(0.9, 0.999), (0.5, 0.9)], eps=[1e-8, 1e-3],
                   weight_decay=[0, 0.05], decoupled_weight_decay=[False, True],
                   maximize=[False, True]),
    "Rprop": _grid({}, lr=[0.01, 0.1], etas=[(0.5, 1.2), (0.3, 1.5)],
                   step_sizes=[(1e-6, 50), (1e-3, 0.05)], maximize=[False, True]),
    "ASGD": _grid({"lr": 0.05}, lambd=[1e-4, 0.05], alpha=[0.75, 0.5], t0=[1e6, 30],
                  weight_decay=[0, 0.05], maximize=[False, True]),
}
CASES = [(name, kw) for name, grid in GRIDS.items() for kw in grid]


def _case_id(name, kw):
    return name + "-" + "-".join(f"{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("name,kw", CASES, ids=[_case_id(n, kw) for n, kw in CASES])
def test_matches_torch_at_every_step(name, kw):
    make = _maker(name, kw)
    ours, opt = _run("cr", make)
    theirs, topt = _run("torch", make)
    _assert_paths_close(ours, theirs)
    _assert_state_close(opt, topt)


def test_grids_cover_every_option():
    assert {n: len(g) for n, g in GRIDS.items()} == {
        "Adadelta": 32, "Adamax": 16, "NAdam": 32, "RAdam": 32, "Rprop": 16, "ASGD": 32}


def test_radam_takes_both_branches_and_asgd_starts_averaging():
    """RAdam's rho_t passes 5 during the run; ASGD with t0=30 averages from step 31 on."""
    beta2 = 0.999
    rho_inf = 2 / (1 - beta2) - 1
    rho = [rho_inf - 2 * s * beta2**s / (1 - beta2**s) for s in range(1, STEPS + 1)]
    assert rho[0] <= 5 < rho[-1]
    _, opt = _run("cr", lambda o, ps: o.ASGD(ps, lr=0.05, t0=30))
    state = opt.state[opt.param_groups[0]["params"][0]]
    assert state["mu"].item() == np.float32(1 / (STEPS - 30))   # float32, as torch keeps it
    assert not np.allclose(state["ax"].numpy(), opt.param_groups[0]["params"][0].detach().numpy())


FLOAT32 = [("Adadelta", dict(weight_decay=0.01)), ("Adamax", dict(lr=0.01)),
           ("NAdam", dict(lr=0.01, weight_decay=0.01)), ("RAdam", dict(lr=0.01)),
           ("Rprop", dict()), ("ASGD", dict(t0=30))]


@pytest.mark.parametrize("name,kw", FLOAT32, ids=[n for n, _ in FLOAT32])
def test_float32_matches_torch(name, kw):
    make = _maker(name, kw)
    ours, opt = _run("cr", make, dtype=np.float32)
    theirs, _ = _run("torch", make, dtype=np.float32)
    for a, b in zip(ours[-1], theirs[-1]):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for s in opt.state.values():   # step counters (and NAdam's mu_product) stay float32
        assert all(v.dtype == cr.float32 for v in s.values())


@pytest.mark.parametrize("name", NAMES[:-1])
def test_param_groups_with_own_options(name):
    extra = {"Adadelta": dict(rho=0.5), "Adamax": dict(betas=(0.5, 0.9)),
             "NAdam": dict(momentum_decay=0.1), "RAdam": dict(weight_decay=0.1),
             "Rprop": dict(etas=(0.3, 1.5)), "ASGD": dict(t0=10)}[name]

    def make(o, ps):
        return getattr(o, name)([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.002,
                                                        **extra}], lr=0.03)

    ours, opt = _run("cr", make)
    theirs, topt = _run("torch", make)
    _assert_paths_close(ours, theirs)
    assert opt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]


# ---------------------------------------------------------------------------------- state_dict
ROUND_TRIP = [("Adadelta", dict(weight_decay=0.01)), ("Adamax", dict(lr=0.01)),
              ("NAdam", dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.1)),
              ("RAdam", dict(lr=0.01)), ("Rprop", dict()), ("ASGD", dict(t0=30))]


def _resumed(lib, make, source):
    """50 steps by `source` ('cr' or 'torch'), its state_dict loaded into a fresh `lib`
    optimizer over copies of the parameters, 50 more steps there. Loading casts the state
    to each parameter's dtype in both libraries (NAdam's mu_product, ASGD's eta and mu become
    float64 here), so the reference for a resumed run is torch resumed the same way."""
    first, opt = _run(source, make, steps=50)
    mod, o = _lib(lib)
    params = [mod.tensor(v, requires_grad=True) for v in first[-1]]
    opt2 = make(o, params)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    rest, _ = _run(lib, make, steps=STEPS - 50, start=50, params=params, opt=opt2)
    return first + rest, opt, opt2


@pytest.mark.parametrize("name,kw", ROUND_TRIP, ids=[n for n, _ in ROUND_TRIP])
def test_state_dict_round_trip_mid_run_continues_like_torch(name, kw):
    make = _maker(name, kw)
    theirs, _, topt = _resumed("torch", make, "torch")
    ours, opt, opt2 = _resumed("cr", make, "cr")
    _assert_paths_close(ours, theirs)
    _assert_state_close(opt2, topt)
    for p, q in zip(opt.param_groups[0]["params"], opt2.param_groups[0]["params"]):
        for k, v in opt.state[p].items():   # the loaded state is a copy
            assert v is not opt2.state[q][k]


@pytest.mark.parametrize("name,kw", ROUND_TRIP, ids=[n for n, _ in ROUND_TRIP])
def test_torch_state_dict_loads_and_continues(name, kw):
    """A torch optimizer's state_dict (torch tensors inside) restores a chainrule run."""
    make = _maker(name, kw)
    theirs, _, _ = _resumed("torch", make, "torch")
    ours, _, opt = _resumed("cr", make, "torch")
    assert all(isinstance(v, cr.Tensor) for s in opt.state.values() for v in s.values())
    _assert_paths_close(ours, theirs)


def test_old_checkpoints_with_number_states_load():
    """Checkpoints that kept step, mu_product, eta and mu as Python numbers still load."""
    for name, keys in (("NAdam", ("step", "mu_product")), ("ASGD", ("step", "eta", "mu"))):
        _, opt = _run("cr", lambda o, ps, n=name: getattr(o, n)(ps), steps=3)
        sd = opt.state_dict()
        for s in sd["state"].values():
            for k in keys:
                s[k] = s[k].item()
        opt2 = getattr(optim, name)(_params("cr"))
        opt2.load_state_dict(sd)
        for s in opt2.state.values():
            assert all(isinstance(s[k], cr.Tensor) and s[k].dtype == cr.float32 for k in keys)


# ---------------------------------------------------------------------------------- API
@pytest.mark.parametrize("name", NAMES)
def test_signature_and_defaults_are_torch_s(name):
    ours = inspect.signature(getattr(optim, name).__init__).parameters.values()
    theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters.values()
    assert [(p.name, p.kind, p.default) for p in ours] == \
        [(p.name, p.kind, p.default) for p in theirs]


@pytest.mark.parametrize("name", NAMES)
def test_repr_and_defaults_dict_match_torch(name):
    opt = getattr(optim, name)(_params("cr"))
    topt = getattr(torch.optim, name)(_params("torch"))
    assert repr(opt) == repr(topt)
    assert opt.defaults == topt.defaults


@pytest.mark.parametrize("name", NAMES[:-1])
def test_foreach_is_accepted_and_gives_the_same_steps(name):
    """foreach picks torch's implementation strategy; chainrule has one, so any value gives
    the same numbers, and torch's foreach=True agrees with them to rounding."""
    base, _ = _run("cr", lambda o, ps: getattr(o, name)(ps), steps=20)
    for foreach in (True, False):
        got, opt = _run("cr", lambda o, ps, f=foreach: getattr(o, name)(ps, foreach=f), steps=20)
        assert opt.param_groups[0]["foreach"] is foreach
        for a, b in zip(got[-1], base[-1]):
            np.testing.assert_array_equal(a, b)
    theirs, _ = _run("torch", lambda o, ps: getattr(o, name)(ps, foreach=True), steps=20)
    for a, b in zip(base[-1], theirs[-1]):   # torch's two ASGD paths differ by 4e-9 here
        assert _rel(a, b) <= 1e-8


@pytest.mark.parametrize("name", NAMES[:-1])
def test_float32_tensor_lr_computes_like_torch(name):
    """torch keeps a Tensor lr a 0-d tensor in the update's scalar arithmetic, so a float32
    lr makes lr * (...) float32; chainrule computes with it in its dtype too."""
    theirs, _ = _run("torch", lambda o, ps: getattr(o, name)(ps, lr=torch.tensor(0.01)))
    ours, _ = _run("cr", lambda o, ps: getattr(o, name)(ps, lr=cr.tensor(0.01)))
    _assert_paths_close(ours, theirs)


def test_step_skips_parameters_without_grad_and_bumps_versions():
    for name in NAMES[:-1]:
        ps = _params("cr")
        opt = getattr(optim, name)(ps)
        _set_grads("cr", ps, 0)
        ps[1].grad = None
        versions = [p._version[0] for p in ps]
        before = _values(ps)
        opt.step()
        assert ps[0]._version[0] == versions[0] + 1 and ps[1] not in opt.state, name
        np.testing.assert_array_equal(ps[1].detach().numpy(), before[1])
        assert ps[0].grad_fn is None and ps[0].is_leaf


# ---------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("make", [
    lambda o, ps: o.Adadelta(ps, lr=-1),
    lambda o, ps: o.Adadelta(ps, rho=1.5),
    lambda o, ps: o.Adadelta(ps, eps=-1e-6),
    lambda o, ps: o.Adadelta(ps, weight_decay=-0.1),
    lambda o, ps: o.Adadelta(ps, lr=cr.tensor([1.0, 2.0]) if o is optim
                             else torch.tensor([1.0, 2.0])),
    lambda o, ps: o.Adamax(ps, lr=-0.1),
    lambda o, ps: o.Adamax(ps, eps=-1.0),
    lambda o, ps: o.Adamax(ps, betas=(1.0, 0.999)),
    lambda o, ps: o.Adamax(ps, betas=(0.9, -0.5)),
    lambda o, ps: o.Adamax(ps, weight_decay=-1),
    lambda o, ps: o.NAdam(ps, lr=-1),
    lambda o, ps: o.NAdam(ps, betas=(0.9, 1.0)),
    lambda o, ps: o.NAdam(ps, momentum_decay=-0.1),
    lambda o, ps: o.NAdam(ps, weight_decay=-0.1),
    lambda o, ps: o.RAdam(ps, lr=-1),
    lambda o, ps: o.RAdam(ps, eps=-1),
    lambda o, ps: o.RAdam(ps, betas=(-0.1, 0.9)),
    lambda o, ps: o.Rprop(ps, lr=-1),
    lambda o, ps: o.Rprop(ps, etas=(1.5, 1.2)),
    lambda o, ps: o.Rprop(ps, etas=(0.5, 0.9)),
    lambda o, ps: o.ASGD(ps, lr=-1),
    lambda o, ps: o.ASGD(ps, weight_decay=-1),
    lambda o, ps: o.LBFGS(ps, lr=-1),
    lambda o, ps: o.LBFGS([{"params": [ps[0]]}, {"params": [ps[1]]}]),
    lambda o, ps: o.Adamax([], lr=0.1),
])
def test_invalid_arguments_raise_like_torch(make):
    _both_raise(make)


@pytest.mark.parametrize("name", NAMES[:-1])
def test_unsupported_flags_are_refused_clearly(name):
    with pytest.raises(NotImplementedError, match=rf"{name}\(differentiable=True\)"):
        getattr(optim, name)(_params("cr"), differentiable=True)
    with pytest.raises(ValueError, match=rf"{name}\(capturable=True\)"):
        getattr(optim, name)(_params("cr"), capturable=True)


def test_lbfgs_unknown_line_search_is_refused_at_step_like_torch():
    def closure():
        return 0.0

    for o, lib in ((optim, "cr"), (torch.optim, "torch")):
        ps = _params(lib)
        opt = o.LBFGS(ps, line_search_fn="backtracking")
        _set_grads(lib, ps, 0)
        with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
            opt.step(closure)


# ---------------------------------------------------------------------------------- LBFGS
def _lbfgs_run(lib, kw, steps=STEPS, params=None, opt=None, start=0, dtype=np.float64):
    """LBFGS on f_t (see the module docstring); returns per-step parameters and losses."""
    mod, o = _lib(lib)
    params = _params(lib, dtype) if params is None else params
    opt = o.LBFGS(params, **kw) if opt is None else opt
    history = []
    for t in range(start, start + steps):
        def closure(t=t):
            opt.zero_grad()
            loss = 0.0
            for i, p in enumerate(params):
                x = p.detach().numpy().astype(np.float64)
                loss += float(np.sum(0.5 * COEF[i] * x * x + 0.5 * np.log(np.cosh(x))
                                     + NOISE[t][i] * x))
                p.grad = mod.tensor((COEF[i] * x + 0.5 * np.tanh(x)
                                     + NOISE[t][i]).astype(dtype))
            return mod.tensor(loss, dtype=mod.float64)

        loss = opt.step(closure)
        history.append((_values(params), float(loss)))
    return history, opt


LBFGS_CASES = [
    dict(lr=0.3, max_iter=3, history_size=2),
    dict(lr=0.3, max_iter=5, history_size=2),
    dict(lr=0.3, max_iter=5, history_size=2, line_search_fn="strong_wolfe"),
    dict(lr=0.3, max_iter=20, history_size=10),
    dict(lr=0.3, max_iter=20, history_size=10, line_search_fn="strong_wolfe"),
    dict(lr=0.3, max_iter=20, history_size=2, line_search_fn="strong_wolfe"),
    dict(lr=1.0, max_iter=3, history_size=2),
    dict(lr=1.0, max_iter=3, history_size=2, line_search_fn="strong_wolfe"),
    dict(lr=0.3, max_iter=8, max_eval=5, tolerance_change=1e-3, history_size=3),
    dict(lr=0.3, max_iter=8, max_eval=6, history_size=2, line_search_fn="strong_wolfe"),
]


@pytest.mark.parametrize("kw", LBFGS_CASES, ids=[_case_id("LBFGS", kw) for kw in LBFGS_CASES])
def test_lbfgs_matches_torch_at_every_step(kw):
    ours, opt = _lbfgs_run("cr", kw)
    theirs, topt = _lbfgs_run("torch", kw)
    _assert_paths_close([h for h, _ in ours], [h for h, _ in theirs], rtol=LBFGS_RTOL)
    assert [loss for _, loss in ours] == pytest.approx([loss for _, loss in theirs], rel=1e-12)
    state, tstate = opt.state[opt._params[0]], topt.state[topt._params[0]]
    # the iteration and evaluation counts agree exactly: every stopping rule fired alike
    assert (state["n_iter"], state["func_evals"]) == (tstate["n_iter"], tstate["func_evals"])
    _assert_state_close(opt, topt, rtol=1e-6)


def test_lbfgs_stopping_rules_fire():
    """max_eval and tolerance_change cut iterations short; a zero gradient stops at once."""
    _, opt = _lbfgs_run("cr", dict(lr=0.3, max_iter=8, max_eval=5, tolerance_change=1e-3,
                                   history_size=3))
    state = opt.state[opt._params[0]]
    assert state["n_iter"] < 8 * STEPS and state["func_evals"] <= 5 * STEPS
    w = cr.tensor([0.0, 0.0], dtype=cr.float64, requires_grad=True)
    opt = optim.LBFGS([w])
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 0.0 and len(calls) == 1
    assert set(opt.state[w]) == {"func_evals", "n_iter"}


def test_lbfgs_state_dict_round_trip_continues_like_torch():
    kw = dict(lr=0.3, max_iter=5, history_size=2, line_search_fn="strong_wolfe")
    theirs, topt = _lbfgs_run("torch", kw)
    first, opt = _lbfgs_run("cr", kw, steps=50)
    params = [cr.tensor(v, requires_grad=True) for v in first[-1][0]]
    opt2 = optim.LBFGS(params, **kw)
    opt2.load_state_dict(opt.state_dict())
    rest, _ = _lbfgs_run("cr", kw, steps=STEPS - 50, params=params, opt=opt2, start=50)
    _assert_paths_close([h for h, _ in first + rest], [h for h, _ in theirs], LBFGS_RTOL)
    # and from torch's own state_dict, which holds 0-d tensors, lists and plain numbers
    tparams = _params("torch")
    _, topt = _lbfgs_run("torch", kw, steps=50, params=tparams)
    params = [cr.tensor(p.detach().numpy().copy(), requires_grad=True) for p in tparams]
    opt3 = optim.LBFGS(params, **kw)
    opt3.load_state_dict(topt.state_dict())
    rest, _ = _lbfgs_run("cr", kw, steps=STEPS - 50, params=params, opt=opt3, start=50)
    _assert_paths_close([h for h, _ in first + rest], [h for h, _ in theirs], LBFGS_RTOL)


def test_lbfgs_float32_and_a_parameter_without_grad():
    kw = dict(lr=0.3, max_iter=5, history_size=2, line_search_fn="strong_wolfe")
    ours, _ = _lbfgs_run("cr", kw, steps=20, dtype=np.float32)
    theirs, _ = _lbfgs_run("torch", kw, steps=20, dtype=np.float32)
    for a, b in zip(ours[-1][0], theirs[-1][0]):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    w = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    frozen = cr.tensor([3.0], dtype=cr.float64, requires_grad=True)
    opt = optim.LBFGS([w, frozen], line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((w - 5) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(w.detach().numpy(), [5.0, 5.0], rtol=1e-6)
    assert frozen.item() == 3.0


def test_lbfgs_fits_a_model_with_backward_like_torch():
    """A course-style closure (zero_grad, forward, backward) on least squares + L2."""
    rng = np.random.default_rng(0)
    xs, ys = rng.standard_normal((20, 3)), rng.standard_normal(20)
    res = {}

    def fit(mod, o):
        w = mod.tensor(np.zeros(3), requires_grad=True)
        x, y = mod.tensor(xs), mod.tensor(ys)
        opt = o.LBFGS([w], lr=1, max_iter=10, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = ((x @ w - y) ** 2).mean() + 0.1 * (w * w).sum()
            loss.backward()
            return loss

        losses = [opt.step(closure).item() for _ in range(3)]
        return w.detach().numpy().copy(), losses

    for lib in ("cr", "torch"):
        res[lib] = fit(*_lib(lib))
    np.testing.assert_allclose(res["cr"][0], res["torch"][0], rtol=1e-10)
    np.testing.assert_allclose(res["cr"][1], res["torch"][1], rtol=1e-12)
    exact = np.linalg.solve(xs.T @ xs / 20 + 0.1 * np.eye(3), xs.T @ ys / 20)
    np.testing.assert_allclose(res["cr"][0], exact, rtol=1e-5)


# ---------------------------------------------------------------------------------- CyclicLR
def _cyclic_trace(lib, kind, kw, steps=120):
    mod, o = _lib(lib)
    ps = [mod.tensor(np.ones(3), requires_grad=True), mod.tensor(np.ones(2), requires_grad=True)]
    groups = [{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.01}]
    opt = o.SGD(groups, lr=0.1, momentum=0.9) if kind == "SGD" else getattr(o, kind)(groups)
    sched = o.lr_scheduler.CyclicLR(opt, **kw)
    rows = []
    for _ in range(steps):
        opt.step()
        sched.step()
        row = [g["lr"] for g in opt.param_groups] + list(sched.get_last_lr())
        for g in opt.param_groups:
            row += [g["momentum"]] if "momentum" in g else list(g["betas"])
        rows.append(row)
    return np.array(rows, dtype=float), sched, opt


class _Halving:
    """A callable-object scale_fn: its __dict__ is saved by state_dict."""

    def __init__(self):
        self.base = 0.5

    def __call__(self, x):
        return self.base ** x


CYCLIC = [
    dict(base_lr=0.01, max_lr=0.1, step_size_up=5),
    dict(base_lr=[0.01, 0.002], max_lr=[0.1, 0.05], step_size_up=4, step_size_down=7,
         mode="triangular2"),
    dict(base_lr=0.01, max_lr=0.1, step_size_up=6, mode="exp_range", gamma=0.97,
         base_momentum=0.5, max_momentum=0.95),
    dict(base_lr=0.01, max_lr=0.1, step_size_up=3, scale_fn=lambda x: 0.9**x,
         scale_mode="iterations"),
    dict(base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=2, scale_fn=_Halving()),
    dict(base_lr=0.01, max_lr=0.1, step_size_up=5, cycle_momentum=False),
]


@pytest.mark.parametrize("kind", ["SGD", "Adam", "NAdam", "RMSprop"])
@pytest.mark.parametrize("i", range(len(CYCLIC)))
def test_cyclic_lr_matches_torch(kind, i):
    kw = CYCLIC[i]
    ours, sched, _ = _cyclic_trace("cr", kind, kw)
    theirs, tsched, _ = _cyclic_trace("torch", kind, kw)
    np.testing.assert_array_equal(ours, theirs)   # the same float arithmetic, to the bit
    sd, tsd = sched.state_dict(), tsched.state_dict()
    assert sd == tsd


def test_cyclic_lr_state_dict_round_trip_and_resume():
    kw = CYCLIC[4]
    theirs, _, _ = _cyclic_trace("torch", "SGD", kw, steps=60)
    ours, sched, opt = _cyclic_trace("cr", "SGD", kw, steps=30)
    sd = sched.state_dict()
    assert sd["_scale_fn_custom"] == {"base": 0.5}
    opt2 = optim.SGD([{"params": [cr.ones(3, requires_grad=True)]},
                      {"params": [cr.ones(2, requires_grad=True)]}], lr=0.1, momentum=0.9)
    opt2.load_state_dict(opt.state_dict())
    fn = _Halving()
    fn.base = 0.1            # overwritten by the saved __dict__
    sched2 = optim.lr_scheduler.CyclicLR(opt2, scale_fn=fn, last_epoch=29, **{
        k: v for k, v in kw.items() if k != "scale_fn"})
    sched2.load_state_dict(sd)
    assert fn.base == 0.5 and "_scale_fn_custom" in sd   # the caller's dict is left whole
    rows = []
    for _ in range(30):
        opt2.step()
        sched2.step()
        rows.append([g["lr"] for g in opt2.param_groups] + list(sched2.get_last_lr())
                    + [g["momentum"] for g in opt2.param_groups])
    np.testing.assert_array_equal(np.vstack([ours, np.array(rows)]), theirs)


def test_cyclic_lr_errors_like_torch():
    for lib in ("cr", "torch"):
        mod, o = _lib(lib)
        ps = [mod.tensor(np.ones(2), requires_grad=True)]
        with pytest.raises(ValueError, match="mode is invalid and scale_fn is None"):
            o.lr_scheduler.CyclicLR(o.SGD(ps, momentum=0.9), 0.01, 0.1, mode="square")
        with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
            o.lr_scheduler.CyclicLR(o.Adagrad(ps), 0.01, 0.1)
        with pytest.raises(TypeError, match="is not an Optimizer"):
            o.lr_scheduler.CyclicLR(ps, 0.01, 0.1)
        with pytest.raises(ValueError):
            o.lr_scheduler.CyclicLR(o.SGD(ps, momentum=0.9), [0.01, 0.02], 0.1)
    opt = optim.Adagrad([cr.ones(2, requires_grad=True)])
    sched = optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=2, cycle_momentum=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()
    assert sched.get_last_lr() == [0.01 + (0.1 - 0.01) * 0.5]
