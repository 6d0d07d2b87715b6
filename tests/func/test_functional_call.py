"""functional_call: a module as a function of its parameters and buffers, against torch.func."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule
from chainrule.func import functional_call
from tests._torch import torch
from tests.func._helpers import arrays, check

X, T = arrays(1, (5, 4), (5, 2))


def mlp(lib):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 2)).double()
    if lib is chainrule:  # the same weights in both
        ref = mlp(torch)
        with chainrule.no_grad():
            for p, q in zip(model.parameters(), ref.parameters()):
                p.copy_(chainrule.tensor(q.detach().numpy()))
    return model


def new_params(lib, model):
    return {k: (v.detach() * 0.5 + 0.1) for k, v in model.named_parameters()}


def test_call_with_other_parameters_and_restore():
    def run(lib):
        model = mlp(lib)
        before = {k: v for k, v in model.named_parameters()}
        params = new_params(lib, model)
        out = functional_call(model, params, (lib.tensor(X),)) if lib is chainrule else \
            torch.func.functional_call(model, params, (torch.tensor(X),))
        assert all(v is before[k] for k, v in model.named_parameters())
        return out, model(lib.tensor(X))
    check(run)


def test_grad_of_the_loss_with_respect_to_a_parameter_dict():
    def run(lib):
        model = mlp(lib)

        def loss(params, x, t):
            return lib.nn.functional.mse_loss(lib.func.functional_call(model, params, (x,)), t)
        return lib.func.grad(loss)(new_params(lib, model), lib.tensor(X), lib.tensor(T))
    check(run)


def test_per_sample_gradients_by_a_loop_over_samples():
    def run(lib):
        model = mlp(lib)
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(params, x, t):
            out = lib.func.functional_call(model, params, (x.unsqueeze(0),))
            return lib.nn.functional.mse_loss(out, t.unsqueeze(0))
        grads = [lib.func.grad(loss)(params, x, t) for x, t in zip(lib.tensor(X), lib.tensor(T))]
        return {k: lib.stack([g[k] for g in grads]) for k in params}
    ours, _ = check(run)
    # the per-sample gradients average to the batch gradient
    model = mlp(chainrule)
    chainrule.nn.functional.mse_loss(model(chainrule.tensor(X)), chainrule.tensor(T)).backward()
    for k, p in model.named_parameters():
        np.testing.assert_allclose(ours[k].mean(0).numpy(), p.grad.numpy(), rtol=1e-10)


def test_buffers_kwargs_and_a_sequence_of_dicts():
    def run(lib):
        lib.manual_seed(0)
        bn = lib.nn.BatchNorm1d(4).double().eval()
        params = {"weight": lib.tensor(X[0]), "bias": lib.tensor(X[1])}
        buffers = {"running_mean": lib.tensor(X[2]), "running_var": lib.tensor(X[3] ** 2)}
        return lib.func.functional_call(bn, (params, buffers), args=(), kwargs={
            "input": lib.tensor(X)})
    check(run)


def test_modules_own_tensors_come_back_after_an_error():
    model = mlp(chainrule)
    before = dict(model.named_parameters())
    with pytest.raises(RuntimeError):
        functional_call(model, new_params(chainrule, model), (chainrule.ones(5, 3),))
    assert all(v is before[k] for k, v in model.named_parameters())
    assert isinstance(model[0].weight, chainrule.nn.Parameter)


def test_tied_weights():
    def run(lib):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 3, bias=False), lib.nn.Linear(3, 3,
                                                                                 bias=False))
        model[0].weight = lib.nn.Parameter(lib.tensor(X[:3, :3], dtype=lib.float32))
        model[1].weight = model[0].weight
        w = lib.ones(3, 3)
        x = lib.tensor(X[:, :3], dtype=lib.float32)
        tied = lib.func.functional_call(model, {"0.weight": w}, x)
        untied = lib.func.functional_call(model, {"0.weight": w}, x, tie_weights=False)
        with pytest.raises(ValueError, match="which are tied"):
            lib.func.functional_call(model, {"0.weight": w, "1.weight": 2 * w}, x)
        return tied, untied
    check(run, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dicts, error, message", [
    ([{"0.weight": 1}, {"0.weight": 2}], ValueError, "appeared in multiple dictionaries"),
    ([{"a": 1}, 3], ValueError, "Expected all elements of parameter_and_buffer_dicts"),
    (3, ValueError, "Expected parameter_and_buffer_dicts to be a dict"),
    ({"0.weight": None, "nope": None}, RuntimeError, "Unexpected key(s): 'nope'."),
    ({"0.weight": None}, RuntimeError, "Missing key(s): '0.bias', '2.bias', '2.weight'."),
])
def test_argument_errors_as_torch(dicts, error, message):
    for lib in (chainrule, torch):
        with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
            lib.func.functional_call(mlp(lib), dicts, (lib.ones(1, 4),), strict=True)
