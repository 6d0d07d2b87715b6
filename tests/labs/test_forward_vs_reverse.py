"""The forward-vs-reverse lab: it runs on its quick config; its Jacobians (n jvps, m vjps)
agree with each other, with central differences and with torch; for extreme shapes the mode
the course predicts executes fewer operations (counted, not timed); the three Hessian-vector
products agree with torch's; Newton's method needs far fewer iterations than gradient
descent; the same seed gives the same numbers."""

import json

import numpy as np
import pytest

import chainrule
from chainrule import labs
from chainrule.labs import forward_vs_reverse as lab
from chainrule.labs._core import Context
from tests._torch import torch


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """The lab on its quick config, once: (record, output directory)."""
    out = tmp_path_factory.mktemp("forward_vs_reverse")
    records = labs.run_labs(["forward-vs-reverse"], out_dir=out, seed=0, quick=True,
                            progress=False, echo=None)
    return records["forward-vs-reverse"], out


def test_quick_run_writes_report_figures_and_json(quick):
    record, out = quick
    assert record["status"] == "ok", record["notes"]
    assert {f["name"] for f in record["figures"]} == {"crossover", "hvp", "newton"}
    for fig in record["figures"]:
        assert (out / fig["path"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "## forward-vs-reverse: " in (out / "report.md").read_text()
    saved = json.loads((out / "results.json").read_text())["labs"]["forward-vs-reverse"]
    assert saved["quick"] is True and len(saved["tables"]) == 3
    assert record["seconds"] < 30


def test_quick_run_jacobians_and_hvps_agree(quick):
    m = quick[0]["metrics"]
    shapes = lab.shapes(lab.Config.quick())
    for name in ("MLP", "chain"):
        assert [(r["sweep"], r["n"], r["m"]) for r in m["jacobians"][name]] == shapes
    assert m["max_forward_vs_reverse"] < 1e-12
    assert m["max_error_fd"] < 1e-7
    assert m["max_hvp_difference"] < 1e-12


def _pair(lib, n: int, m: int, seed: int):
    """The same elementwise-plus-matmul function in chainrule or torch, and a point."""
    rng = np.random.default_rng(seed)
    A, x = lib.tensor(rng.standard_normal((m, n))), lib.tensor(rng.standard_normal(n))

    def f(x):
        u = lib.sin(x) * x + lib.exp(-x * x)
        return lib.tanh(A @ u) * (A @ x)
    return f, x


@pytest.mark.parametrize("n,m", [(1, 5), (3, 3), (6, 2), (4, 1)])
def test_jacobians_agree_with_each_other_fd_and_torch(n, m):
    f, x = _pair(chainrule, n, m, seed=n * 10 + m)
    fwd, rev = lab.jacobian_forward(f, x), lab.jacobian_reverse(f, x)
    assert fwd.shape == rev.shape == (m, n)
    np.testing.assert_allclose(fwd.numpy(), rev.numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(fwd.numpy(), lab.jacobian_fd(f, x).numpy(), atol=1e-8)
    tf, tx = _pair(torch, n, m, seed=n * 10 + m)
    expected = torch.autograd.functional.jacobian(tf, tx).numpy()
    np.testing.assert_allclose(fwd.numpy(), expected, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("maker", ["mlp", "chain"])
def test_lab_functions_jacobians_match_chainrule_func(maker):
    gen = chainrule.Generator().manual_seed(0)
    f = lab.make_mlp(5, 3, 7, gen) if maker == "mlp" else lab.make_chain(5, 3, gen)
    x = chainrule.randn(5, generator=gen, dtype=chainrule.float64)
    expected = chainrule.func.jacrev(f)(x).numpy()
    np.testing.assert_allclose(lab.jacobian_forward(f, x).numpy(), expected, rtol=1e-12,
                               atol=1e-13)
    np.testing.assert_allclose(lab.jacobian_reverse(f, x).numpy(), expected, rtol=1e-12,
                               atol=1e-13)


@pytest.mark.parametrize("maker", ["mlp", "chain"])
def test_crossover_direction_by_counting(maker):
    """n = 1, m = 32: forward mode (1 pass) beats reverse (32); n = 32, m = 1: the opposite."""
    gen = chainrule.Generator().manual_seed(1)

    def costs(n, m):
        """(forward cost, reverse cost) of the Jacobian of a network from R^n to R^m."""
        f = lab.make_mlp(n, m, 8, gen) if maker == "mlp" else lab.make_chain(n, m, gen)
        x = chainrule.randn(n, generator=gen, dtype=chainrule.float64)
        return (lab.count_cost(lab.jacobian_forward, f, x),
                lab.count_cost(lab.jacobian_reverse, f, x))

    fwd, rev = costs(1, 32)  # tall
    assert (fwd["f_calls"], fwd["backward_passes"]) == (1, 0)
    assert (rev["f_calls"], rev["backward_passes"]) == (1, 32)
    assert fwd["ops"] * 4 < rev["ops"]
    fwd, rev = costs(32, 1)  # wide
    assert (fwd["f_calls"], fwd["backward_passes"]) == (32, 0)
    assert (rev["f_calls"], rev["backward_passes"]) == (1, 1)
    assert rev["ops"] * 4 < fwd["ops"]


def test_crossover_in_the_quick_run_is_near_n_equals_m(quick):
    """By operations executed, forward mode wins below the crossover n/m, reverse above."""
    m = quick[0]["metrics"]
    for name, rows in m["jacobians"].items():
        for which in ("n", "m"):
            part = [r for r in rows if r["sweep"] == which]  # in increasing n / m
            assert part[0]["n"] < part[0]["m"] and part[-1]["n"] > part[-1]["m"]
            assert part[0]["ops_forward"] < part[0]["ops_reverse"], (name, which)
            assert part[-1]["ops_reverse"] < part[-1]["ops_forward"], (name, which)
            assert 1 / 8 <= m["crossover_n_over_m"][f"{name}, {which} sweep"]["ops"] <= 8


def test_hvps_agree_with_torch():
    rng = np.random.default_rng(7)
    A, x0, v0 = rng.standard_normal((4, 6)), rng.standard_normal(6), rng.standard_normal(6)

    def g_of(lib):
        At = lib.tensor(A)
        return lambda x: (lib.tanh(At @ x) ** 2).sum() + (x * lib.sin(x)).sum()

    x, v = chainrule.tensor(x0), chainrule.tensor(v0)
    expected = torch.func.jvp(torch.func.grad(g_of(torch)), (torch.tensor(x0),),
                              (torch.tensor(v0),))[1].numpy()
    for name, hvp in lab.HVPS.items():
        np.testing.assert_allclose(hvp(g_of(chainrule), x, v).numpy(), expected, rtol=1e-10,
                                   atol=1e-12, err_msg=name)


def test_full_hessian_cost_grows_with_n_one_pass_products_do_not():
    gen = chainrule.Generator().manual_seed(2)
    costs = {}
    for n in (4, 16):
        mlp = lab.make_mlp(n, 3, 5, gen)

        def g(x, mlp=mlp):
            return (mlp(x) ** 2).sum()
        x, v = (chainrule.randn(n, generator=gen, dtype=chainrule.float64) for _ in range(2))
        costs[n] = {name: lab.count_cost(lambda g, x, h=h, v=v: h(g, x, v), g, x)["ops"]
                    for name, h in lab.HVPS.items()}
    for name in ("forward-over-reverse", "reverse-over-reverse"):
        assert costs[16][name] == costs[4][name], name
    assert costs[16]["full Hessian"] > 3 * costs[4]["full Hessian"]
    assert costs[4]["full Hessian"] > costs[4]["forward-over-reverse"]


def test_newton_needs_far_fewer_iterations_than_gradient_descent(quick):
    m = quick[0]["metrics"]
    assert m["newton_iterations"] is not None and m["newton_iterations"] <= 10
    assert m["gd_iterations"] is None or m["gd_iterations"] >= 20 * m["newton_iterations"]
    losses = m["newton_losses"]
    assert losses[-1] == pytest.approx(m["minimum_loss"], abs=1e-12)


def test_newton_step_is_the_exact_minimiser_of_a_quadratic():
    """On a quadratic the Hessian is exact, so one Newton step lands on the minimum."""
    Q = chainrule.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=chainrule.float64)
    c = chainrule.tensor([1.0, -1.0], dtype=chainrule.float64)

    def loss(theta):
        return 0.5 * theta @ (Q @ theta) - c @ theta
    history = lab.newton(loss, chainrule.zeros(2, dtype=chainrule.float64), 1)
    minimum = -0.5 * float(c.numpy() @ np.linalg.solve(Q.numpy(), c.numpy()))
    assert history[1] == pytest.approx(minimum, abs=1e-14)


def test_same_seed_same_numbers(tmp_path):
    config = lab.Config.quick()
    config.sizes, config.hvp_sizes = [1, 4], [4]
    results = [lab.run(config, Context("forward-vs-reverse", tmp_path / str(i), seed=3,
                                       quick=True, progress=False)).metrics for i in range(2)]
    for key in ("max_error_fd", "max_forward_vs_reverse", "newton_losses", "gd_iterations"):
        assert results[0][key] == results[1][key], key
    rows = [[{k: v for k, v in r.items() if not k.startswith("time")}
             for r in res["jacobians"]["chain"]] for res in results]
    assert rows[0] == rows[1]
