"""strict(): each hygiene warning is triggered by its mistake, points at the line of the
mistake, and stays silent on correct code (a whole set of correct training programs)."""

import inspect
import os
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import autograd, nn
from chainrule.autograd import observers
from chainrule.tools.strict import StrictModeWarning, is_strict_enabled, strict

HERE = os.path.abspath(__file__)
RNG = np.random.default_rng(0)
X = chainrule.tensor(RNG.normal(size=(8, 3)).astype(np.float32))
Y = chainrule.tensor(RNG.normal(size=(8, 1)).astype(np.float32))


def _here() -> int:
    return inspect.currentframe().f_back.f_lineno + 1


class _Recorder:
    """Every warning of the block, shown or not (simplefilter('always'))."""

    def __enter__(self):
        self._cm = warnings.catch_warnings(record=True)
        self.all = self._cm.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)

    @property
    def strict(self):
        return [w for w in self.all if issubclass(w.category, StrictModeWarning)]

    def one(self, *words, line=None):
        """The single StrictModeWarning; it contains `words` and points at `line` here."""
        ws = self.strict
        assert len(ws) == 1, [str(w.message) for w in self.all]
        msg = str(ws[0].message)
        for word in words:
            assert word in msg, msg
        if line is not None:
            assert (os.path.abspath(ws[0].filename), ws[0].lineno) == (HERE, line), msg
        return msg


def _mse(model):
    return ((model(X) - Y) ** 2).mean()


# ---------------------------------------------------------------- correct programs: silent
def _training_loop():
    chainrule.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    opt = chainrule.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    with strict(model):
        running = 0.0
        for _ in range(3):
            opt.zero_grad()
            loss = _mse(model)
            loss.backward()
            opt.step()
            running += loss.item()
        with chainrule.no_grad():
            _mse(model)


def _zero_grad_in_place_and_manual_sgd():
    w = chainrule.zeros(3, 1, requires_grad=True)
    b = chainrule.zeros(1, requires_grad=True)
    with strict([w, b]):
        for i in range(3):
            loss = ((X @ w + b - Y) ** 2).mean()
            loss.backward()
            with chainrule.no_grad():
                w -= 0.1 * w.grad
                b -= 0.1 * b.grad
            if i % 2:
                w.grad.zero_()
                b.grad.zero_()
            else:
                w.grad = None
                b.grad = None


def _zero_grad_not_to_none():
    model = nn.Linear(3, 1)
    opt = chainrule.optim.Adam(model.parameters(), lr=0.01)
    with strict(opt):
        for _ in range(3):
            opt.zero_grad(set_to_none=False)
            _mse(model).backward()
            opt.step()


def _micro_batches_allowed():
    model = nn.Linear(3, 1)
    opt = chainrule.optim.SGD(model.parameters(), lr=0.1)
    with strict(model, allow_accumulation=True):
        for _ in range(2):
            opt.zero_grad()
            for part in (slice(0, 4), slice(4, 8)):
                (((model(X[part]) - Y[part]) ** 2).mean() / 2).backward()
            opt.step()


def _two_losses_one_trunk_and_retain_graph():
    model = nn.Linear(3, 2)
    opt = chainrule.optim.SGD(model.parameters(), lr=0.1)
    with strict(model):
        for _ in range(2):
            opt.zero_grad()
            h = model(X)
            h[:, 0].pow(2).mean().backward(retain_graph=True)
            h[:, 1].abs().mean().backward()
            opt.step()
        opt.zero_grad()
        loss = _mse(lambda x: model(x)[:, :1])
        loss.backward(retain_graph=True)
        loss.backward()  # the same graph twice, on purpose


def _rnn_with_detached_state():
    w = chainrule.randn(3, 3, requires_grad=True)
    u = chainrule.randn(3, 3, requires_grad=True)
    opt = chainrule.optim.SGD([w, u], lr=0.01)
    with strict([w, u]):
        h = chainrule.zeros(8, 3)
        for _ in range(3):
            h = h.detach()
            opt.zero_grad()
            for _ in range(2):
                h = (h @ w + X @ u).tanh()
            h.pow(2).mean().backward()
            opt.step()


def _gan_like_two_models():
    g = nn.Linear(3, 3)
    d = nn.Linear(3, 1)
    opt_g = chainrule.optim.SGD(g.parameters(), lr=0.01)
    opt_d = chainrule.optim.SGD(d.parameters(), lr=0.01)
    with strict([g, d]):
        for _ in range(2):
            fake = g(X)
            opt_d.zero_grad()
            (d(X).mean() - d(fake.detach()).mean()).backward()
            opt_d.step()
            opt_g.zero_grad()
            d(fake).mean().backward()
            opt_g.step()


def _autograd_grad_and_gradient_penalty():
    w = chainrule.randn(3, 1, requires_grad=True)
    x = X.clone().requires_grad_()
    with strict([w]):
        for _ in range(2):
            w.grad = None
            out = (x @ w).tanh().sum()
            gx, = autograd.grad(out, x, create_graph=True)
            (out + gx.pow(2).sum()).backward()
            x.grad = None


CORRECT = [_training_loop, _zero_grad_in_place_and_manual_sgd, _zero_grad_not_to_none,
           _micro_batches_allowed, _two_losses_one_trunk_and_retain_graph,
           _rnn_with_detached_state, _gan_like_two_models, _autograd_grad_and_gradient_penalty]


@pytest.mark.parametrize("program", CORRECT, ids=[f.__name__.strip("_") for f in CORRECT])
def test_correct_programs_emit_no_warning_at_all(program):
    with _Recorder() as rec:
        program()
    assert rec.all == [], [str(w.message) for w in rec.all]


# ---------------------------------------------------------------- 1: double counting
def test_forgotten_zero_grad_in_a_training_loop():
    model = nn.Linear(3, 1)
    opt = chainrule.optim.SGD(model.parameters(), lr=0.1)
    with _Recorder() as rec, strict(model):
        for i in range(4):
            loss = _mse(model)
            line = _here()
            loss.backward()
            if i == 1:  # the 2nd step will use old + new: seen at the next backward
                assert rec.strict == []
            opt.step()
    ws = rec.strict
    assert {str(w.message).split("'")[1] for w in ws} == {"weight", "bias"}  # once each
    for w in ws:
        assert "zero_grad()" in str(w.message) and "updated in place" in str(w.message)
        assert (os.path.abspath(w.filename), w.lineno) == (HERE, line)


def test_forgotten_zero_grad_seen_when_the_scope_ends():
    w = chainrule.randn(3, 1, requires_grad=True)
    with _Recorder() as rec:
        line = _here()
        with strict([w]):
            for _ in range(2):
                ((X @ w - Y) ** 2).mean().backward()
                with chainrule.no_grad():
                    w -= 0.1 * w.grad
    rec.one("'w'", "updated in place", line=line)


def test_gan_generator_step_into_a_reset_discriminator_grad_is_silent():
    d = chainrule.randn(3, 1, requires_grad=True)
    with _Recorder() as rec, strict():
        for _ in range(3):
            d.grad = None
            (X @ d).mean().backward()  # discriminator step
            with chainrule.no_grad():
                d -= 0.1 * d.grad
            (X @ d).pow(2).mean().backward()  # generator step: adds into d.grad, never used
    assert rec.all == []


def test_two_graphs_into_one_grad_double_count():
    x = chainrule.tensor(2.0, requires_grad=True)
    with _Recorder() as rec, strict():
        (x ** 2).backward()
        line = _here()
        (x ** 3).backward()
    rec.one("'x'", "double counting", "w.grad = None", line=line)
    assert x.grad.item() == 4.0 + 12.0  # the warning changes nothing


def test_allow_accumulation_still_catches_the_stale_gradient_of_an_update():
    x = chainrule.tensor(2.0, requires_grad=True)
    with _Recorder() as rec, strict(allow_accumulation=True):
        for i in range(3):
            (x ** 2).backward()
            (x ** 3).backward()  # allowed
            if i == 0:
                assert rec.strict == []
            with chainrule.no_grad():
                x -= 0.01 * x.grad
    rec.one("updated in place")


def test_reset_by_none_or_zero_is_silent():
    x = chainrule.tensor(2.0, requires_grad=True)
    with _Recorder() as rec, strict():
        (x ** 2).backward()
        x.grad = None
        (x ** 3).backward()
        x.grad.zero_()
        (x ** 4).backward()
    assert rec.all == []


# ---------------------------------------------------------------- 2: graph outlives the loop
def test_running_loss_kept_as_a_tensor():
    model = nn.Linear(3, 1)
    opt = chainrule.optim.SGD(model.parameters(), lr=0.1)
    with _Recorder() as rec, strict(model):
        running = 0
        for _ in range(3):
            opt.zero_grad()
            loss = _mse(model)
            line = _here()
            running += loss
            loss.backward()
            opt.step()
    rec.one("loss.item()", "earlier backward()", line=line)  # once, not every iteration


def test_running_loss_added_after_backward_is_caught_at_once():
    w = chainrule.randn(3, 1, requires_grad=True)
    with _Recorder() as rec, strict([w]):
        loss = ((X @ w - Y) ** 2).mean()
        loss.backward()
        line = _here()
        total = loss + 0.0
    rec.one("loss.item()", line=line)
    del total


def test_backward_through_a_kept_running_loss():
    w = chainrule.randn(3, 1, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        running = 0
        for _ in range(2):
            w.grad = None
            loss = ((X @ w - Y) ** 2).mean()
            running = running + loss
            loss.backward()
    with _Recorder() as rec, strict(), pytest.raises(RuntimeError, match="second time"):
        line = _here()
        running.backward()  # the loop's backward freed the losses' graphs
    rec.one("already freed", "running_loss", line=line)


def test_hidden_state_carried_across_batches_without_detach():
    w = chainrule.randn(3, 3, requires_grad=True)
    with _Recorder() as rec, strict([w]):
        h = chainrule.zeros(8, 3)
        for i in range(2):
            w.grad = None
            line = _here()
            h = (h @ w + X).tanh()
            if i == 0:
                h.sum().backward()
            else:
                assert len(rec.strict) == 1  # at the op, before any backward fails
                with pytest.raises(RuntimeError, match="second time"):
                    h.sum().backward()
    msg = str(rec.strict[0].message)
    assert "hidden = hidden.detach()" in msg and rec.strict[0].lineno == line


# ---------------------------------------------------------------- 3: silently None gradients
def test_leaf_cut_from_the_graph_warns_at_the_next_backward():
    w1 = chainrule.randn(3, 4, requires_grad=True)
    w2 = chainrule.randn(4, 1, requires_grad=True)
    with _Recorder() as rec, strict():
        for i in range(2):
            w2.grad = None
            use_line = _here()
            h = chainrule.tensor((X @ w1).detach().numpy())  # the path to w1 is cut
            loss = (h @ w2).sum()
            if i == 0:
                loss.backward()
                assert rec.strict == []  # one backward proves nothing yet
            else:
                line = _here()
                loss.backward()
    msg = rec.one("'w1'", "stays None", ".detach()", line=line)
    assert f"line {use_line}" in msg and "MatMul" in msg
    assert w1.grad is None


def test_forgotten_parameter_warns_when_the_scope_ends():
    w = chainrule.randn(3, 1, requires_grad=True)
    b = chainrule.zeros(1, requires_grad=True)
    with _Recorder() as rec:
        line = _here()
        with strict([w, b]):
            loss = ((X @ w - Y) ** 2).mean()  # b forgotten
            loss.backward()
    rec.one("'b'", "forget", line=line)


def test_module_parameter_named_from_the_module():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 1)
            self.unused = nn.Linear(3, 1)

        def forward(self, x):
            return self.fc(x)

    net = Net()
    with _Recorder() as rec, strict(net):
        _mse(net).backward()
    names = sorted(str(w.message).split("'")[1] for w in rec.strict)
    assert names == ["unused.bias", "unused.weight"]


def test_non_leaf_copy_given_to_the_optimizer_is_not_expected():
    # requires_grad leaves not used and not given are not our business
    stray = chainrule.randn(2, requires_grad=True)
    with _Recorder() as rec, strict():
        w = chainrule.randn(3, 1, requires_grad=True)
        ((X @ w) ** 2).mean().backward()
    assert rec.all == []
    del stray


# ---------------------------------------------------------------- the scope itself
def test_state_restored_nesting_and_decorator():
    assert not is_strict_enabled()
    assert not (observers.forward or observers.backward or observers.node)
    with strict():
        assert is_strict_enabled()
        with strict(allow_accumulation=True):
            assert is_strict_enabled()
        assert is_strict_enabled()
    assert not is_strict_enabled()
    assert not (observers.forward or observers.backward or observers.node)

    @strict()
    def twice(x):
        assert is_strict_enabled()
        (x ** 2).backward()
        (x ** 3).backward()

    x = chainrule.tensor(1.0, requires_grad=True)
    with _Recorder() as rec:
        twice(x)
    rec.one("double counting")
    assert not is_strict_enabled()
    with pytest.raises(ValueError), strict():
        raise ValueError
    assert not is_strict_enabled() and not observers.forward


def test_leaf_reached_by_a_later_backward_of_the_same_step_is_fine():
    w = chainrule.randn(3, 1, requires_grad=True)
    v = chainrule.randn(3, 1, requires_grad=True)
    with _Recorder() as rec, strict([w, v]):
        for _ in range(3):
            w.grad = v.grad = None
            z = chainrule.randn(8, 1, requires_grad=True)  # a fresh leaf each step
            a = X @ w + z
            (X @ v).sum().backward()  # does not reach z ...
            a.pow(2).sum().backward()  # ... this one does
    assert rec.all == []
