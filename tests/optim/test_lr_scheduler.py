"""chainrule.optim.lr_scheduler vs torch.optim.lr_scheduler: learning-rate (and momentum)
sequences over 120+ steps, state_dict contents and round trips, warnings and errors.

Both libraries run the same Python float arithmetic, so sequences are expected to agree to
the last bit; they are compared with rtol 1e-12 as the issue asks.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.optim import lr_scheduler
from tests._torch import torch

STEPS = 120
RTOL = 1e-12


def _mods(lib):
    return (cr, optim) if lib == "cr" else (torch, torch.optim)


def _optimizer(lib, kind="SGD", **kw):
    mod, o = _mods(lib)
    ps = [mod.tensor(np.ones(3), requires_grad=True), mod.tensor(np.ones(2), requires_grad=True)]
    groups = [{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.01}]
    if kind == "SGD":
        return o.SGD(groups, lr=0.1, momentum=0.9, **kw)
    return getattr(o, kind)(groups, lr=0.1, **kw)


def _snapshot(opt, sched):
    groups = opt.param_groups
    row = [g["lr"] for g in groups] + list(sched.get_last_lr())
    for g in groups:
        row += [g["momentum"]] if "momentum" in g else [g["betas"][0], g["betas"][1]]
    return [float(v) for v in row]


def _trace(lib, make, steps=STEPS, kind="SGD", metrics=None):
    opt = _optimizer(lib, kind)
    sched = make(_mods(lib)[1].lr_scheduler, opt)
    rows = [_snapshot(opt, sched)]
    for t in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[t])
        rows.append(_snapshot(opt, sched))
    return np.array(rows), sched, opt


def _assert_same_trace(make, **kw):
    ours, s1, _ = _trace("cr", make, **kw)
    theirs, s2, _ = _trace("torch", make, **kw)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=0)
    assert len(np.unique(ours[:, 0])) > 1  # the schedule did change the lr
    return s1, s2


SCHEDULES = {
    "StepLR": lambda s, o: s.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, milestones=[10, 30, 30, 80], gamma=0.3),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, gamma=0.97),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=25, eta_min=0.001),
    "CosineAnnealingLR-0": lambda s, o: s.CosineAnnealingLR(o, T_max=40),
    "LambdaLR": lambda s, o: s.LambdaLR(o, lambda e: 0.95 ** e),
    "LambdaLR-per-group": lambda s, o: s.LambdaLR(o, [lambda e: 1 / (1 + e),
                                                      lambda e: 0.9 ** (e // 10)]),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, lambda e: 0.98),
    "ConstantLR": lambda s, o: s.ConstantLR(o, factor=0.5, total_iters=10),
    "LinearLR": lambda s, o: s.LinearLR(o, start_factor=0.1, total_iters=20),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, total_iters=50, power=2.0),
    "CosineAnnealingWarmRestarts": lambda s, o: s.CosineAnnealingWarmRestarts(
        o, T_0=10, T_mult=2, eta_min=1e-4),
    "SequentialLR": lambda s, o: s.SequentialLR(
        o, [s.LinearLR(o, start_factor=0.1, total_iters=10), s.CosineAnnealingLR(o, T_max=30)],
        milestones=[10]),
    "ChainedScheduler": lambda s, o: s.ChainedScheduler(
        [s.ExponentialLR(o, gamma=0.99), s.StepLR(o, step_size=15, gamma=0.5)]),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_lr_sequence_matches_torch(name):
    _assert_same_trace(SCHEDULES[name])


ONE_CYCLE = list(itertools.product(["cos", "linear"], [False, True], [False, True],
                                   ["SGD", "Adam", "RMSprop"]))


@pytest.mark.parametrize("anneal,three_phase,cycle_momentum,kind", ONE_CYCLE)
def test_one_cycle_matches_torch(anneal, three_phase, cycle_momentum, kind):
    def make(s, o):
        return s.OneCycleLR(o, max_lr=[1.0, 0.1], total_steps=STEPS, pct_start=0.25,
                            anneal_strategy=anneal, three_phase=three_phase,
                            cycle_momentum=cycle_momentum, base_momentum=0.8,
                            max_momentum=[0.95, 0.9], div_factor=20.0, final_div_factor=1e3)

    _assert_same_trace(make, kind=kind)


def test_one_cycle_from_epochs_and_steps_per_epoch():
    _assert_same_trace(lambda s, o: s.OneCycleLR(o, max_lr=0.5, epochs=10, steps_per_epoch=12))


_rng = np.random.default_rng(7)
METRICS = 1.0 / (1 + 0.05 * np.arange(STEPS)) + 0.02 * _rng.standard_normal(STEPS)
PLATEAU = list(itertools.product(["min", "max"], ["rel", "abs"], [0, 3], [0, [0.02, 0.001]],
                                 [1e-8, 5e-3]))


@pytest.mark.parametrize("mode,threshold_mode,cooldown,min_lr,eps", PLATEAU)
def test_reduce_on_plateau_matches_torch(mode, threshold_mode, cooldown, min_lr, eps):
    def make(s, o):
        return s.ReduceLROnPlateau(o, mode=mode, factor=0.5, patience=3, threshold=0.01,
                                   threshold_mode=threshold_mode, cooldown=cooldown,
                                   min_lr=min_lr, eps=eps)

    metrics = METRICS if mode == "min" else -METRICS
    s1, s2 = _assert_same_trace(make, metrics=[float(m) for m in metrics])
    assert s1.state_dict() == s2.state_dict()


def test_reduce_on_plateau_takes_a_tensor_metric():
    opt = _optimizer("cr")
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    sched.step(cr.tensor(1.0))
    sched.step(cr.tensor(2.0))
    assert sched.get_last_lr() == [0.1 * 0.1, 0.01 * 0.1]


def test_two_chainable_schedulers_compose_like_torch():
    def trace(lib):
        opt = _optimizer(lib)
        s = _mods(lib)[1].lr_scheduler
        a, b = s.StepLR(opt, step_size=10, gamma=0.5), s.ExponentialLR(opt, gamma=0.98)
        c = s.CosineAnnealingLR(opt, T_max=30)
        rows = []
        for _ in range(STEPS):
            opt.step()
            for sched in (a, b, c):
                sched.step()
            rows.append([g["lr"] for g in opt.param_groups] + a.get_last_lr())
        return np.array(rows)

    np.testing.assert_allclose(trace("cr"), trace("torch"), rtol=RTOL, atol=0)


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
                                  "ConstantLR", "LinearLR", "PolynomialLR",
                                  "CosineAnnealingWarmRestarts"])
def test_step_with_epoch_uses_closed_form_like_torch(name):
    """step(epoch) jumps (deprecated, warns); warm restarts take fractional epochs instead."""
    epochs = [0, 1, 2, 5, 9, 3, 30, 31, 80, 81, 7]
    restarts = name == "CosineAnnealingWarmRestarts"

    def trace(lib):
        opt = _optimizer(lib)
        sched = SCHEDULES[name](_mods(lib)[1].lr_scheduler, opt)
        rows = []
        for e in epochs:
            opt.step()
            if restarts:
                sched.step(e + 0.5)
            else:
                with pytest.warns(UserWarning, match="epoch parameter"):
                    sched.step(e)
            rows.append([g["lr"] for g in opt.param_groups] + sched.get_last_lr())
        return np.array(rows)

    np.testing.assert_allclose(trace("cr"), trace("torch"), rtol=RTOL, atol=0)


# ---------------------------------------------------------------------------------- state_dict
STATEFUL = [n for n in SCHEDULES if not n.startswith(("LambdaLR", "MultiplicativeLR"))]


def _comparable(sd):
    """A scheduler state dict with nested children, as plain comparable values."""
    out = {}
    for k, v in sd.items():
        if k == "_schedulers":
            v = [_comparable(c) for c in v]
        out[k] = v
    return out


@pytest.mark.parametrize("name", STATEFUL + ["OneCycleLR", "LambdaLR"])
def test_state_dict_is_torch_s_and_round_trips_mid_run(name):
    make = SCHEDULES.get(name) or (lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=STEPS))
    theirs, _, _ = _trace("torch", make)
    ours1, sched, opt = _trace("cr", make, steps=50)
    np.testing.assert_allclose(ours1, theirs[:51], rtol=RTOL, atol=0)
    sd = sched.state_dict()

    # resume: a new optimizer and scheduler pick up from the two state dicts
    osd = opt.state_dict()
    opt2 = _optimizer("cr")
    sched2 = make(lr_scheduler, opt2)
    opt2.load_state_dict(osd)
    sched2.load_state_dict(sd)
    rows = [_snapshot(opt2, sched2)]
    for _ in range(50, STEPS):
        opt2.step()
        sched2.step()
        rows.append(_snapshot(opt2, sched2))
    np.testing.assert_allclose(np.array(rows), theirs[50:], rtol=RTOL, atol=0)


@pytest.mark.parametrize("name", STATEFUL + ["OneCycleLR"])
def test_state_dict_equals_torch_s_after_steps(name):
    make = SCHEDULES.get(name) or (lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=STEPS))
    _, ours, _ = _trace("cr", make, steps=37)
    _, theirs, _ = _trace("torch", make, steps=37)
    assert _comparable(ours.state_dict()) == _comparable(theirs.state_dict())


def test_lambda_state_dict_keeps_callable_objects_and_drops_functions():
    class Warmup:
        def __init__(self, n):
            self.n = n

        def __call__(self, e):
            return min(1.0, (e + 1) / self.n)

    opt = _optimizer("cr")
    sched = lr_scheduler.LambdaLR(opt, [Warmup(5), lambda e: 1.0])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"n": 5}, None]
    tsd = torch.optim.lr_scheduler.LambdaLR(_optimizer("torch"),
                                            [Warmup(5), lambda e: 1.0]).state_dict()
    assert sd == tsd
    sd["lr_lambdas"][0]["n"] = 10
    sched2 = lr_scheduler.LambdaLR(_optimizer("cr"), [Warmup(5), lambda e: 1.0])
    sched2.load_state_dict(sd)
    assert sched2.lr_lambdas[0].n == 10 and "lr_lambdas" in sd


def test_initial_lr_and_resuming_with_last_epoch():
    opt = _optimizer("cr")
    lr_scheduler.StepLR(opt, step_size=3)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.01]
    # resuming needs initial_lr (restored with the optimizer's state)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(_optimizer("cr"), step_size=3, last_epoch=5)
    with pytest.raises(KeyError):
        torch.optim.lr_scheduler.StepLR(_optimizer("torch"), step_size=3, last_epoch=5)

    def resumed(lib):
        opt = _optimizer(lib)
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"]
        s = _mods(lib)[1].lr_scheduler.CosineAnnealingLR(opt, T_max=20, last_epoch=7)
        rows = []
        for _ in range(30):
            opt.step()
            s.step()
            rows.append(s.get_last_lr())
        return np.array(rows)

    np.testing.assert_allclose(resumed("cr"), resumed("torch"), rtol=RTOL, atol=0)


def test_tensor_lr_is_updated_in_place():
    p = cr.tensor(np.ones(2), requires_grad=True)
    lr = cr.tensor(0.1, dtype=cr.float64)
    opt = optim.Adam([p], lr=lr)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] is lr and lr.item() == 0.05
    assert isinstance(sched.get_last_lr()[0], cr.Tensor)
    assert sched.get_last_lr()[0] is not lr


# ---------------------------------------------------------------------------------- warnings
def test_warns_when_scheduler_steps_before_optimizer():
    opt = _optimizer("cr")
    sched = lr_scheduler.StepLR(opt, step_size=3)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt = _optimizer("cr")
    sched = lr_scheduler.StepLR(opt, step_size=3)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()


def test_get_lr_outside_step_warns():
    sched = lr_scheduler.ExponentialLR(_optimizer("cr"), gamma=0.9)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


# ---------------------------------------------------------------------------------- errors
def _both_raise(make, exc=ValueError):
    with pytest.raises(exc) as ours:
        make(lr_scheduler, _optimizer("cr"))
    with pytest.raises(exc) as theirs:
        make(torch.optim.lr_scheduler, _optimizer("torch"))
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("make", [
    lambda s, o: s.ReduceLROnPlateau(o, factor=1.0),
    lambda s, o: s.ReduceLROnPlateau(o, mode="avg"),
    lambda s, o: s.ReduceLROnPlateau(o, threshold_mode="pct"),
    lambda s, o: s.ReduceLROnPlateau(o, min_lr=[0.1]),
    lambda s, o: s.OneCycleLR(o, max_lr=1.0),
    lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=0),
    lambda s, o: s.OneCycleLR(o, max_lr=1.0, epochs=0, steps_per_epoch=3),
    lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1.5),
    lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="exp"),
    lambda s, o: s.OneCycleLR(o, max_lr=[1.0], total_steps=10),
    lambda s, o: s.LambdaLR(o, [lambda e: 1.0]),
    lambda s, o: s.ConstantLR(o, factor=2.0),
    lambda s, o: s.LinearLR(o, start_factor=0),
    lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda s, o: s.SequentialLR(o, [s.StepLR(o, 3), s.StepLR(o, 4)], milestones=[]),
])
def test_invalid_arguments_raise_like_torch(make):
    _both_raise(make)


def test_one_cycle_past_total_steps_and_without_momentum():
    def past(s, o):
        sched = s.OneCycleLR(o, max_lr=1.0, total_steps=3)
        for _ in range(4):
            o.step()
            sched.step()

    _both_raise(past)

    def adagrad(lib):
        return _mods(lib)[1].lr_scheduler.OneCycleLR(_optimizer(lib, "Adagrad"), max_lr=1.0,
                                                      total_steps=5)

    with pytest.raises(ValueError, match="must support momentum or beta1") as ours:
        adagrad("cr")
    with pytest.raises(ValueError) as theirs:
        adagrad("torch")
    assert str(ours.value) == str(theirs.value)


def test_not_an_optimizer_is_a_type_error():
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        lr_scheduler.StepLR([], step_size=3)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.ReduceLROnPlateau(object())


def test_cosine_closed_form_value():
    opt = _optimizer("cr")
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.0)
    for _ in range(5):
        opt.step()
        sched.step()
    assert math.isclose(sched.get_last_lr()[0], 0.05, rel_tol=1e-12)
