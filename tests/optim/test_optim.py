"""chainrule.optim vs torch.optim: 100 steps from the same float64 start on the same gradients
(the problem in tests/optim/_problem.py). The option grids are itertools.product over the
issue's options; parameters must agree elementwise to RTOL (the issue asks for 1e-6; we hold
them to 1e-10). Exact bits are out of reach: torch's CPU kernels fuse multiply-adds (add with
alpha, addcmul, lerp) and its sqrt is not correctly rounded, so single steps differ in the last
bit and 100 steps of feedback grow that to the reported worst case. Grids avoid settings whose
100-step runs are chaotic (torch itself moves by >1e-8 when its start moves by one ulp).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from tests._torch import torch
from tests.optim._problem import START, STEPS, _both_raise, _lib, _maker, _params, _rel, _set_grads

RTOL = 1e-10


def _run(lib, make, steps=STEPS, dtype=np.float64):
    params = _params(lib, dtype)
    opt = make(_lib(lib)[1], params)
    for t in range(steps):
        _set_grads(lib, params, t)
        opt.step()
    return [p.detach().numpy().copy() for p in params], opt


def _assert_close(make, rtol=RTOL, dtype=np.float64):
    ours, _ = _run("cr", make, dtype=dtype)
    theirs, _ = _run("torch", make, dtype=dtype)
    for a, b, start in zip(ours, theirs, START):
        assert a.dtype == b.dtype
        if dtype == np.float64:
            assert _rel(a, b) <= rtol, f"relative difference {_rel(a, b):.3e}"
        else:  # float32 rounding differences grow over 100 steps; near-zero entries need atol
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-2)
        assert np.max(np.abs(a - start)) > 1e-3  # the run moved the parameters


# ---------------------------------------------------------------------------------- grids
def _sgd_grid():
    for momentum, dampening, nesterov, wd, maximize in itertools.product(
            [0, 0.9], [0, 0.3], [False, True], [0, 0.05], [False, True]):
        if nesterov and (momentum == 0 or dampening != 0):
            continue
        yield dict(lr=0.05, momentum=momentum, dampening=dampening, nesterov=nesterov,
                   weight_decay=wd, maximize=maximize)


def _rmsprop_grid():
    for alpha, eps, wd, momentum, centered, maximize in itertools.product(
            [0.99, 0.5], [1e-8, 1e-2], [0, 0.05], [0, 0.9], [False, True], [False, True]):
        yield dict(lr=0.005, alpha=alpha, eps=eps, weight_decay=wd, momentum=momentum,
                   centered=centered, maximize=maximize)


def _adam_grid():
    for betas, amsgrad, wd, maximize, decoupled in itertools.product(
            [(0.9, 0.999), (0.3, 0.8)], [False, True], [0, 0.05], [False, True],
            [False, True]):
        yield dict(lr=0.02, betas=betas, amsgrad=amsgrad, weight_decay=wd, maximize=maximize,
                   decoupled_weight_decay=decoupled)


def _adamw_grid():
    for betas, amsgrad, wd, maximize, eps in itertools.product(
            [(0.9, 0.999), (0.3, 0.8)], [False, True], [0, 0.05], [False, True], [1e-8, 1e-3]):
        yield dict(lr=0.02, betas=betas, amsgrad=amsgrad, weight_decay=wd, maximize=maximize,
                   eps=eps)


def _adagrad_grid():
    for lr_decay, wd, init, eps, maximize in itertools.product(
            [0, 0.01], [0, 0.05], [0, 0.1], [1e-10, 1e-3], [False, True]):
        yield dict(lr=0.05, lr_decay=lr_decay, weight_decay=wd, initial_accumulator_value=init,
                   eps=eps, maximize=maximize)


def _ids(grid):
    return ["-".join(f"{k}={v}" for k, v in kw.items() if k != "lr") for kw in grid]


GRIDS = {
    "SGD": list(_sgd_grid()),
    "RMSprop": list(_rmsprop_grid()),
    "Adam": list(_adam_grid()),
    "AdamW": list(_adamw_grid()),
    "Adagrad": list(_adagrad_grid()),
}
CASES = [(name, kw) for name, grid in GRIDS.items() for kw in grid]


@pytest.mark.parametrize("name,kw", CASES,
                         ids=[f"{n}-{i}" for n, g in GRIDS.items() for i in _ids(g)])
def test_matches_torch_over_100_steps(name, kw):
    _assert_close(_maker(name, kw))


def test_grids_cover_every_listed_option():
    assert len(GRIDS["SGD"]) == 20  # 32 minus the 12 nesterov combinations torch refuses
    assert len(GRIDS["RMSprop"]) == 64 and len(GRIDS["Adam"]) == 32
    assert len(GRIDS["AdamW"]) == 32 and len(GRIDS["Adagrad"]) == 32


@pytest.mark.parametrize("name,kw", [
    ("SGD", dict(momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("RMSprop", dict(momentum=0.5, centered=True)),
    ("Adam", dict(amsgrad=True, weight_decay=0.01)),
    ("AdamW", dict()),
    ("Adagrad", dict(lr_decay=0.01)),
])
def test_float32_matches_torch(name, kw):
    _assert_close(lambda o, ps: getattr(o, name)(ps, lr=0.01, **kw), rtol=1e-4,
                  dtype=np.float32)


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adam", "AdamW", "Adagrad"])
def test_param_groups_with_own_options(name):
    extra = {"SGD": dict(momentum=0.5), "RMSprop": dict(momentum=0.3, centered=True),
             "Adam": dict(amsgrad=True), "AdamW": dict(weight_decay=0.1),
             "Adagrad": dict(lr_decay=0.1)}[name]

    def make(o, ps):
        return getattr(o, name)([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.002, **extra}],
                                lr=0.03)

    _assert_close(make)
    _, opt = _run("cr", make, steps=1)
    assert [g["lr"] for g in opt.param_groups] == [0.03, 0.002]


def test_later_param_group_and_params_without_grad():
    """add_param_group mid-run; a parameter whose .grad is None is skipped (state untouched)."""
    res = {}
    for lib in ("cr", "torch"):
        mod, o = _lib(lib)
        ps = _params(lib)
        frozen = mod.tensor(np.ones(3), requires_grad=True)
        opt = o.Adam([ps[0], frozen], lr=0.01)
        for t in range(30):
            _set_grads(lib, ps, t)
            if t == 10:
                opt.add_param_group({"params": [ps[1]], "lr": 0.05, "amsgrad": True})
            if t < 10:
                ps[1].grad = None
            opt.step()
        assert len(opt.state) == 2 and frozen not in opt.state
        res[lib] = [p.detach().numpy().copy() for p in ps + [frozen]]
    for a, b in zip(res["cr"], res["torch"]):
        assert _rel(a, b) <= RTOL


def test_real_backward_loop_matches_torch():
    """A training loop the way courses write it: zero_grad, loss.backward(), step."""
    res = {}
    for lib in ("cr", "torch"):
        mod, o = _lib(lib)
        w = mod.tensor(START[0].copy(), requires_grad=True)
        b = mod.tensor(START[1][:4].copy(), requires_grad=True)
        x = mod.tensor(np.linspace(-1, 1, 12).reshape(3, 4))
        opt = o.SGD([w, b], lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)
        for _ in range(STEPS):
            opt.zero_grad()
            loss = ((x * w + b) ** 2).sum() * 0.5 + mod.sin(w).sum()
            loss.backward()
            opt.step()
        res[lib] = (w.detach().numpy().copy(), b.detach().numpy().copy())
    for a, b in zip(res["cr"], res["torch"]):
        assert _rel(a, b) <= 1e-9


@pytest.mark.parametrize("name,lr,after", [("SGD", 0.1, [0.8, -1.6]),
                                            ("Rprop", 0.5, [0.5, -1.5])])
def test_closure_is_called_with_grad_enabled_and_its_loss_returned(name, lr, after):
    w = cr.tensor([1.0, -2.0], dtype=cr.float64, requires_grad=True)
    opt = getattr(optim, name)([w], lr=lr)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with cr.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0
    np.testing.assert_array_equal(w.detach().numpy(), after)


# ---------------------------------------------------------------------------------- state_dict
@pytest.mark.parametrize("name,kw", [
    ("SGD", dict(momentum=0.9, dampening=0.1)),
    ("RMSprop", dict(momentum=0.9, centered=True, weight_decay=0.01)),
    ("Adam", dict(amsgrad=True, betas=(0.8, 0.99))),
    ("AdamW", dict(amsgrad=True)),
    ("Adagrad", dict(lr_decay=0.01, initial_accumulator_value=0.1)),
])
def test_state_dict_round_trip_mid_run_continues_like_torch(name, kw):
    def make(o, ps):
        return getattr(o, name)([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.003}],
                                lr=0.01, **kw)

    theirs, topt = _run("torch", make)
    params = _params("cr")
    opt = make(optim, params)
    for t in range(50):
        _set_grads("cr", params, t)
        opt.step()
    sd = opt.state_dict()
    # a fresh optimizer over copies of the parameters takes over from the dict
    params2 = [cr.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
    opt2 = make(optim, params2)
    opt2.load_state_dict(sd)
    for t in range(50, STEPS):
        _set_grads("cr", params2, t)
        opt2.step()
    for a, b in zip(params2, theirs):
        assert _rel(a.detach().numpy(), b) <= RTOL
    # the loaded state is a copy: the first optimizer's state did not move on
    for i, p in enumerate(params):
        for k, v in opt.state[p].items():
            assert v is not opt2.state[params2[i]][k]

    # the dict has torch's layout: same group keys, same state names, same values
    ours, tsd = opt2.state_dict(), topt.state_dict()
    assert list(ours) == ["state", "param_groups"]
    assert [set(g) for g in ours["param_groups"]] == [set(g) for g in tsd["param_groups"]]
    for g, tg in zip(ours["param_groups"], tsd["param_groups"]):
        assert {k: v for k, v in g.items()} == {k: v for k, v in tg.items()}
    assert sorted(ours["state"]) == sorted(tsd["state"]) == [0, 1]
    for i in (0, 1):
        s, ts = ours["state"][i], tsd["state"][i]
        assert list(s) == list(ts)
        for k in s:
            assert isinstance(s[k], cr.Tensor)
            assert s[k].dtype.__repr__() == repr(ts[k].dtype)
            assert s[k].shape == tuple(ts[k].shape)
            assert _rel(s[k].numpy(), ts[k].numpy()) <= RTOL


def test_state_dict_shares_ids_across_groups_and_keeps_param_names():
    ps = _params("cr")
    opt = optim.SGD([("w", ps[0]), ("b", ps[1])], lr=0.1, momentum=0.9)
    _set_grads("cr", ps, 0)
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0, 1]
    assert sd["param_groups"][0]["param_names"] == ["w", "b"]
    assert set(sd["state"][0]) == {"momentum_buffer"}
    assert "params" in opt.param_groups[0] and opt.param_groups[0]["params"][0] is ps[0]


def test_load_state_dict_validates_groups():
    ps = _params("cr")
    one = optim.SGD(ps, lr=0.1)
    two = optim.SGD([{"params": [ps[0]]}, {"params": [ps[1]]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        one.load_state_dict(two.state_dict())
    short = optim.SGD([ps[0]], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        one.load_state_dict(short.state_dict())
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        one.load_state_dict({"param_groups": []})


def test_load_state_dict_converts_dtype_and_old_float_step():
    p32 = cr.tensor(np.ones(3, np.float32), requires_grad=True)
    p64 = cr.tensor(np.ones(3), requires_grad=True)
    a = optim.Adam([p64])
    p64.grad = cr.tensor(np.ones(3))
    a.step()
    sd = a.state_dict()
    sd["state"][0]["step"] = 1.0  # checkpoints from before step became a tensor
    b = optim.Adam([p32])
    b.load_state_dict(sd)
    assert b.state[p32]["exp_avg"].dtype == cr.float32
    assert isinstance(b.state[p32]["step"], cr.Tensor) and b.state[p32]["step"].item() == 1.0
    assert b.param_groups[0]["params"][0] is p32


# ---------------------------------------------------------------------------------- behaviour
def test_zero_grad_set_to_none_and_in_place():
    ps = _params("cr")
    opt = optim.SGD(ps, lr=0.1)
    _set_grads("cr", ps, 0)
    g = ps[0].grad
    v = g._version[0]
    opt.zero_grad(set_to_none=False)
    assert ps[0].grad is g and not g.numpy().any() and g._version[0] == v + 1
    opt.zero_grad()
    assert ps[0].grad is None and ps[1].grad is None


def test_step_bumps_version_so_saved_tensor_checks_fire():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    v = w._version[0]
    w.grad = cr.tensor([1.0, 1.0])
    opt.step()
    assert w._version[0] == v + 1
    with pytest.raises(RuntimeError):
        loss.backward()


def test_step_records_no_graph_and_keeps_arrays():
    ps = _params("cr")
    arrays = [p.array for p in ps]
    opt = optim.Adam(ps, lr=0.1)
    _set_grads("cr", ps, 0)
    grads = [p.grad.numpy().copy() for p in ps]
    opt.step()
    for p, a, g in zip(ps, arrays, grads):
        assert p.array is a and p.grad_fn is None and p.is_leaf
        np.testing.assert_array_equal(p.grad.numpy(), g)  # the gradient is left untouched
    assert all(not s.requires_grad for st in opt.state.values() for s in st.values())


def test_scheduler_can_change_hyper_parameters_between_steps():
    for lib in ("cr", "torch"):
        ps = _params(lib)
        opt = _lib(lib)[1].SGD(ps, lr=0.1, momentum=0.0)
        opt.param_groups[0]["momentum"] = 0.9
        opt.param_groups[0]["lr"] = 0.01
        for t in range(5):
            _set_grads(lib, ps, t)
            opt.step()
        if lib == "cr":
            ours = [p.detach().numpy().copy() for p in ps]
    for a, b in zip(ours, ps):
        assert _rel(a, b.detach().numpy()) <= RTOL


def test_tensor_lr_and_step_hooks():
    ps = _params("cr")
    opt = optim.Adam(ps, lr=cr.tensor(0.02, dtype=cr.float64))
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    h2 = opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
    _set_grads("cr", ps, 0)
    opt.step()
    h1.remove()
    h2.remove()
    opt.step()
    assert calls == ["pre", "post"]
    theirs, _ = _run("torch", lambda o, q: o.Adam(q, lr=torch.tensor(0.02, dtype=torch.float64)),
                     steps=1)
    ours = [p.detach().numpy() for p in ps]
    # the second step reused the first gradient; compare the first step alone
    ps1 = _params("cr")
    o1 = optim.Adam(ps1, lr=cr.tensor(0.02, dtype=cr.float64))
    _set_grads("cr", ps1, 0)
    o1.step()
    for a, b in zip(ps1, theirs):
        assert _rel(a.detach().numpy(), b) <= RTOL
    assert not np.array_equal(ours[0], ps1[0].detach().numpy())


def test_step_pre_hook_sees_the_optimizer_first_and_may_replace_the_arguments():
    for o, lib in ((optim, cr), (torch.optim, torch)):
        w = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
        opt = o.SGD([w], lr=0.1)

        def closure(opt=opt, w=w):
            opt.zero_grad()
            loss = (w * w).sum()
            loss.backward()
            return loss

        seen = []
        opt.register_step_post_hook(lambda op, args, kwargs, seen=seen: seen.append(args[0] is op))
        with opt.register_step_pre_hook(lambda op, args, kwargs: ((op, closure), {})):
            assert opt.step().item() == 5.0
        assert seen == [True]
        opt.register_step_pre_hook(lambda op, args, kwargs: args)
        with pytest.raises(RuntimeError, match=r"must return None or a tuple of "
                                               r"\(new_args, new_kwargs\)"):
            opt.step()


def test_repr_and_foreach_fused_flags_accepted():
    ps = _params("cr")
    opt = optim.SGD(ps, lr=0.1, foreach=True)
    assert repr(opt).startswith("SGD (\nParameter Group 0\n    dampening: 0\n")
    assert repr(opt) == repr(torch.optim.SGD(_params("torch"), lr=0.1, foreach=True))
    optim.Adam(ps, fused=True)
    optim.Adagrad(ps, foreach=False)


# ---------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("make", [
    lambda o, ps: o.SGD(ps, lr=-0.1),
    lambda o, ps: o.SGD(ps, momentum=-0.5),
    lambda o, ps: o.SGD(ps, weight_decay=-1e-4),
    lambda o, ps: o.SGD(ps, nesterov=True),
    lambda o, ps: o.SGD(ps, momentum=0.9, dampening=0.1, nesterov=True),
    lambda o, ps: o.RMSprop(ps, eps=-1e-8),
    lambda o, ps: o.RMSprop(ps, alpha=-0.1),
    lambda o, ps: o.RMSprop(ps, momentum=-0.1),
    lambda o, ps: o.Adam(ps, lr=-1.0),
    lambda o, ps: o.Adam(ps, eps=-1.0),
    lambda o, ps: o.Adam(ps, betas=(1.0, 0.999)),
    lambda o, ps: o.Adam(ps, betas=(0.9, -0.1)),
    lambda o, ps: o.Adam(ps, betas=(0, 0.999)),
    lambda o, ps: o.AdamW(ps, weight_decay=-0.1),
    lambda o, ps: o.Adagrad(ps, lr_decay=-0.1),
    lambda o, ps: o.Adagrad(ps, initial_accumulator_value=-1.0),
    lambda o, ps: o.SGD([], lr=0.1),
    lambda o, ps: o.SGD([{"params": ps}, {"params": [ps[0]]}], lr=0.1),
    lambda o, ps: o.SGD([ps[0] * 2], lr=0.1),
    lambda o, ps: o.SGD([("w", ps[0]), ps[1]], lr=0.1),
])
def test_invalid_arguments_raise_like_torch(make):
    _both_raise(make)


def test_type_errors_like_torch():
    msg = _both_raise(lambda o, ps: o.SGD(ps[0], lr=0.1), TypeError)
    assert "iterable of Tensors or dicts" in msg
    _both_raise(lambda o, ps: o.SGD([{"params": set(ps)}], lr=0.1), TypeError)
    _both_raise(lambda o, ps: o.SGD([1.0], lr=0.1), TypeError)
    _both_raise(lambda o, ps: o.SGD(ps).add_param_group([ps[0]]), TypeError)


def test_duplicate_parameter_warns_like_torch():
    p = cr.tensor([1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)


def test_unsupported_flags_are_refused_clearly():
    ps = _params("cr")
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        optim.Adam(ps, differentiable=True)
    with pytest.raises(ValueError, match="capturable=True"):
        optim.RMSprop(ps, capturable=True)
    with pytest.raises(RuntimeError, match="cannot be `True` together"):
        optim.SGD(ps, fused=True, foreach=True)
    with pytest.raises(TypeError, match="learning rate must be a real number"):
        optim.SGD(ps, lr="0.1")


def test_gradient_of_wrong_shape_is_an_error():
    p = cr.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="assigned grad has data of a different size"):
        p.grad = cr.tensor(np.ones(1))  # refused at assignment, as in PyTorch
    p._grad = cr.tensor(np.ones(1))  # forced past the check: the optimizer still refuses
    with pytest.raises(RuntimeError, match=r"shape \[3\] has a gradient of shape \[1\]"):
        optim.SGD([p], lr=0.1).step()


def test_non_leaf_that_retains_grad_is_accepted():
    x = cr.tensor([1.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optim.SGD([y], lr=0.1)


def test_sub_square_rounds_once_like_a_fused_multiply_add():
    from fractions import Fraction

    from chainrule.optim.optimizer import _sub_square

    rng = np.random.default_rng(0)
    m = rng.standard_normal(200)
    v = m * m * (1 + 1e-12 * rng.standard_normal(200))  # v - m*m nearly cancels
    bufs = [np.empty_like(m) for _ in range(4)]
    got = _sub_square(v, m, *bufs)
    exact = np.array([float(Fraction(a) - Fraction(b) * Fraction(b)) for a, b in zip(v, m)])
    np.testing.assert_array_equal(got, exact)
    assert np.any(v - m * m != exact)  # the naive form loses digits here


def test_user_defined_optimizer_on_the_base_class():
    """A course-style custom optimizer: defaults, per-parameter state, torch-style step."""

    class SignSGD(optim.Optimizer):
        def __init__(self, params, lr=0.01):
            super().__init__(params, {"lr": lr})

        @cr.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        self.state[p]["n"] = self.state[p].get("n", 0) + 1
                        p.add_(p.grad.sign(), alpha=-group["lr"])

    w = cr.tensor([1.0, -1.0], dtype=cr.float64, requires_grad=True)
    opt = SignSGD([w], lr=0.25)
    seen = []
    opt.register_step_post_hook(lambda o, a, k: seen.append(True))
    w.grad = cr.tensor([3.0, -0.5], dtype=cr.float64)
    opt.step()
    np.testing.assert_array_equal(w.detach().numpy(), [0.75, -0.75])
    assert seen == [True] and opt.state_dict()["state"] == {0: {"n": 1}}


def test_subclass_without_step_or_update_is_refused_at_step():
    class Empty(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.1})

    w = cr.tensor([1.0], requires_grad=True)
    w.grad = cr.tensor([1.0])
    with pytest.raises(NotImplementedError, match="Empty must define step"):
        Empty([w]).step()


def test_deepcopy_of_an_optimizer_is_independent():
    import copy

    ps = _params("cr")
    opt = optim.Adam(ps, lr=0.1)
    _set_grads("cr", ps, 0)
    opt.step()
    twin = copy.deepcopy(opt)
    twin_p = twin.param_groups[0]["params"][0]
    assert twin_p is not ps[0] and twin.state[twin_p]["exp_avg"] is not opt.state[ps[0]]["exp_avg"]
    twin.step()
    assert not np.array_equal(twin_p.detach().numpy(), ps[0].detach().numpy())


@pytest.mark.parametrize("name,kw", [("SGD", dict(momentum=0.9)),
                                     ("Adam", dict(amsgrad=True)),
                                     ("RMSprop", dict(centered=True, momentum=0.5))])
def test_torch_state_dict_loads_and_continues(name, kw):
    """A torch optimizer's state_dict (torch tensors inside) restores a chainrule run."""
    theirs, _ = _run("torch", lambda o, ps: getattr(o, name)(ps, lr=0.01, **kw))
    tparams = _params("torch")
    topt = getattr(torch.optim, name)(tparams, lr=0.01, **kw)
    for t in range(40):
        _set_grads("torch", tparams, t)
        topt.step()
    params = [cr.tensor(p.detach().numpy().copy(), requires_grad=True) for p in tparams]
    opt = getattr(optim, name)(params, lr=0.5, **kw)
    opt.load_state_dict(topt.state_dict())
    assert opt.param_groups[0]["lr"] == 0.01
    assert all(isinstance(v, cr.Tensor) for s in opt.state.values() for v in s.values())
    for t in range(40, STEPS):
        _set_grads("cr", params, t)
        opt.step()
    for a, b in zip(params, theirs):
        assert _rel(a.detach().numpy(), b) <= RTOL
