"""chainrule.compile: replays equal eager bit for bit; guards retrace; graph breaks are honest."""

import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.compiler import GraphBreak


def _same(a, b) -> bool:
    return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


def _model(seed=0, dropout=0.3):
    cr.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(8, 3))


def _data(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return (cr.tensor(rng.standard_normal((n, 6)).astype(np.float32)),
            cr.tensor(rng.integers(0, 3, n)))


def _step(model, opt, loss_fn, compiled: bool):
    """A whole training step: zero_grad, forward, backward, update (compiled or not)."""

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return cr.compile(step) if compiled else step


def _train(compiled: bool, opt_cls, steps=12, **opt_args):
    model = _model()
    opt = opt_cls(model.parameters(), **opt_args)

    step = _step(model, opt, F.cross_entropy, compiled)
    x, y = _data()
    losses = [step(x, y).array.copy() for _ in range(steps)]
    return model, opt, losses, step


@pytest.mark.parametrize("opt_cls, args", [
    (cr.optim.SGD, {"lr": 0.1}), (cr.optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    (cr.optim.RMSprop, {"lr": 0.01, "momentum": 0.5}), (cr.optim.Adam, {"lr": 0.01}),
    (cr.optim.AdamW, {"lr": 0.01, "amsgrad": True}), (cr.optim.Adagrad, {"lr": 0.1}),
    (cr.optim.Adamax, {"lr": 0.01}),
])
def test_a_training_step_replays_eager_bit_for_bit(opt_cls, args):
    me, oe, le, _ = _train(False, opt_cls, **args)
    after_eager = cr.rand(4).array
    mc, oc, lc, step = _train(True, opt_cls, **args)
    after_compiled = cr.rand(4).array
    assert step._entries, "the step was never replayed"
    assert all(_same(a, b) for a, b in zip(le, lc))
    for (k, a), b in zip(me.state_dict().items(), mc.state_dict().values()):
        assert _same(a.array, b.array), k
    for pe, pc in zip(me.parameters(), mc.parameters()):
        assert _same(pe.grad.array, pc.grad.array)
        for key, value in oe.state[pe].items():
            other = oc.state[pc][key]
            assert _same(value.array, other.array) if isinstance(value, cr.Tensor) \
                else value == other
    assert _same(after_eager, after_compiled)  # the same random stream was consumed


def _factorise(compiled: bool, steps=20):
    rng = np.random.default_rng(1)
    A = cr.tensor(rng.random((15, 4)))
    U = cr.tensor(rng.random((15, 2)), requires_grad=True)
    V = cr.tensor(rng.random((4, 2)), requires_grad=True)

    def step():
        loss = F.mse_loss(U @ V.t(), A, reduction="sum")
        loss.backward()
        with cr.no_grad():
            U.sub_(0.01 * U.grad)
            V.sub_(0.01 * V.grad)
        U.grad.zero_()
        V.grad.zero_()
        return loss

    step = cr.compile(step) if compiled else step
    losses = [step().item() for _ in range(steps)]
    return U, V, losses, step


def test_manual_updates_under_no_grad_and_its_code_reads_as_the_math():
    Ue, Ve, le, _ = _factorise(False)
    Uc, Vc, lc, step = _factorise(True)
    assert le == lc and _same(Ue.array, Uc.array) and _same(Ve.array, Vc.array)
    code = step.code
    assert len(code.splitlines()) < 60
    for text in ("def replay", "np.matmul", "loss.backward()", "U.sub_(0.01 * U.grad)",
                 "MseLossBackward0", "U_grad.fill(0)", "out=U"):
        assert text in code, text


def test_setitem_decoder_and_in_place_ops_replay():
    def run(compiled):
        cr.manual_seed(0)
        W = cr.randn(3, 2, requires_grad=True)
        X = cr.randn(5, 3)

        def step():
            z = X @ W
            out = cr.zeros(5, 3)
            out[:, 0] = z[:, 0] * 2  # differentiable setitem (the autoencoder's decoder)
            out[:, 1:] = z.sum(1, keepdim=True).exp()
            loss = (out - X).pow(2).mean()
            loss.backward()
            with cr.no_grad():
                W.mul_(0.5).add_(W.grad, alpha=-0.1)
                W.grad = None
            return loss

        step = cr.compile(step) if compiled else step
        return W, [step().item() for _ in range(6)]

    (We, le), (Wc, lc) = run(False), run(True)
    assert le == lc and _same(We.array, Wc.array)


# ---------------------------------------------------------------------------- modules
def test_a_compiled_module_meets_backward_outside_as_one_node():
    def run(compiled):
        model = _model()
        net = cr.compile(model) if compiled else model
        opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x, y = _data()
        for _ in range(6):
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
        return model, net, loss

    me, _, le = run(False)
    mc, net, lc = run(True)
    assert _same(le.array, lc.array)
    assert all(_same(a.array, b.array)
               for a, b in zip(me.state_dict().values(), mc.state_dict().values()))
    node = lc.grad_fn.next_functions[0][0]
    assert node.name() == "CompiledFunctionBackward"
    assert list(net.state_dict())[0] == "_orig_mod.0.weight"
    assert net.training and net.eval() is net and not mc.training
    assert "def forward" in net.code and "def backward" in net.code


def test_double_backward_through_a_compiled_module_is_refused():
    net = cr.compile(nn.Linear(3, 1))
    x = cr.randn(4, 3)
    net(x)  # the traced call
    out = net(x).sum()
    with pytest.raises(RuntimeError, match=r"create_graph=True\) through a compiled"):
        g, = cr.autograd.grad(out, net.weight, create_graph=True)
        g.sum().backward()


def test_create_graph_inside_a_compiled_function_is_traced():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)

    def step():
        y = (x ** 3).sum()
        g, = cr.autograd.grad(y, x, create_graph=True)
        (g.sum()).backward()
        out = x.grad.clone()
        x.grad = None
        return out

    f = cr.compile(step)
    results = [f().array for _ in range(3)]
    assert f._entries and all(_same(r, np.array([6.0, 12.0, 18.0], np.float32)) for r in results)


# ---------------------------------------------------------------------------- guards
def _counting(fn):
    f = cr.compile(fn)
    return f, lambda: len(f._entries)


def test_guard_shape_dtype_and_requires_grad_changes_retrace():
    f, traces = _counting(lambda x: (x * 2).sum())
    f(cr.ones(3))
    f(cr.ones(3))
    assert traces() == 1
    assert f(cr.ones(4)).item() == 8.0 and traces() == 2  # a smaller last batch: one more
    assert f(cr.ones(3, dtype=cr.float64)).dtype == cr.float64 and traces() == 3
    x = cr.ones(3, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f(x)
    assert traces() == 4
    assert f(cr.ones(3)).item() == 6.0 and traces() == 4  # the first trace again


def test_guard_train_eval_and_grad_mode():
    model = _model()
    f, traces = _counting(lambda x: model(x))
    x, _ = _data()
    f(x)
    f(x)
    model.eval()
    eager = model(x).array
    assert _same(f(x).array, eager) and traces() == 2
    with cr.no_grad():
        assert _same(f(x).array, eager)
    assert traces() == 3


def test_guard_grad_none_first_then_steady_state():
    w = cr.ones(3, requires_grad=True)
    f, traces = _counting(lambda: (w * w).sum().backward())
    f()  # .grad is None: the trace creates it
    f()  # .grad exists: accumulation into it, another trace
    f()
    assert traces() == 2 and _same(w.grad.array, np.full(3, 6.0, np.float32))


def test_guard_a_replaced_captured_tensor_retraces():
    holder = {"w": cr.ones(3)}
    f, traces = _counting(lambda x: x * holder["w"])
    x = cr.ones(3)
    f(x)
    f(x)
    holder["w"] = cr.full((3,), 5.0)
    assert f(x).tolist() == [5.0, 5.0, 5.0] and traces() == 2


def test_guard_a_number_closed_over_is_part_of_the_trace():
    lr = [0.5]

    def step(x):
        return x * lr[0]

    f = cr.compile(step)
    f(cr.ones(2))
    lr[0] = 2.0
    assert f(cr.ones(2)).tolist() == [2.0, 2.0]


def test_the_cache_limit_ends_in_eager_with_one_warning(monkeypatch):
    from chainrule.compiler import function

    monkeypatch.setattr(function, "cache_size_limit", 3)
    f = cr.compile(lambda x: x + 1)
    for n in range(1, 4):
        f(cr.ones(n))
    with pytest.warns(UserWarning, match="cache_size_limit=3"):
        assert f(cr.ones(7)).tolist() == [2.0] * 7
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert f(cr.ones(8)).shape == (8,)


# ---------------------------------------------------------------------------- graph breaks
READS = {
    "item": lambda t: t.item(), "float": lambda t: float(t), "bool": lambda t: bool(t > 0),
    "tolist": lambda t: t.tolist(), "numpy": lambda t: t.numpy(), "print": lambda t: str(t),
}


@pytest.mark.parametrize("how", sorted(READS))
def test_a_value_read_runs_eagerly_after_one_warning(how):
    read = READS[how]

    def fn(x):
        y = x.sum()
        read(y)
        return y * 2

    f = cr.compile(fn)
    with pytest.warns(UserWarning, match=r"test_compile.py:\d+"):
        assert f(cr.ones(3)).item() == 6.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert f(cr.ones(3)).item() == 6.0
    assert not f._entries


@pytest.mark.parametrize("how", sorted(READS))
def test_a_value_read_with_fullgraph_raises_naming_the_line(how):
    read = READS[how]

    @cr.compile(fullgraph=True)
    def fn(x):
        y = x.sum()
        read(y)
        return y

    with pytest.raises(GraphBreak, match=r"test_compile.py:\d+"):
        fn(cr.ones(3))


def test_an_error_in_a_replay_names_the_users_line():
    idx = cr.tensor([0, 1])

    def fn(x):
        return x[idx] * 2

    f = cr.compile(fn)
    f(cr.ones(3))
    f(cr.ones(3))
    idx.array[1] = 5  # the index tensor is read by reference: now out of range
    with pytest.raises(IndexError) as info:
        f(cr.ones(3))
    assert any("test_compile.py" in note for note in info.value.__notes__)


def test_a_library_check_that_changes_raises_instead_of_replaying_wrong():
    f = cr.compile(lambda x, y: F.cross_entropy(x, y))
    x = cr.randn(4, 3)
    f(x, cr.tensor([0, 1, 2, 0]))
    with pytest.raises((RuntimeError, IndexError), match="nll_loss|cross_entropy|differs"):
        f(x, cr.tensor([0, 1, 7, 0]))


def test_an_iterator_is_refused_with_the_reason():
    it = iter([cr.ones(2), cr.ones(2)])
    f = cr.compile(lambda: next(it) * 2)
    with pytest.warns(UserWarning, match="iterator"):
        f()


# ---------------------------------------------------------------------------- arguments
def test_decorator_forms_and_torch_values():
    @cr.compile
    def a(x):
        return x + 1

    @cr.compile(mode="reduce-overhead", backend="aot_eager")
    def b(x):
        return x + 1

    assert a(cr.ones(1)).item() == b(cr.ones(1)).item() == 2.0
    eager = cr.compile(lambda x: x + 1, backend="eager")
    eager(cr.ones(1))
    assert eager.code is None  # the eager backend runs the function as it is
    with pytest.raises(NotImplementedError, match="dynamic=True"):
        cr.compile(lambda x: x, dynamic=True)
    with pytest.raises(ValueError, match="backend"):
        cr.compile(lambda x: x, backend="tensorrt")
    with pytest.raises(ValueError, match="mode"):
        cr.compile(lambda x: x, mode="fastest")
    with pytest.raises(ValueError, match="backend"):
        cr.compile(lambda x: x, backend=lambda gm, inputs: gm)
    with pytest.raises(TypeError, match="function or a Module"):
        cr.compile(3)


def test_torch_compile_is_chainrule_compile_under_chainrule_run():
    import chainrule

    assert chainrule.compile(lambda x: x).__class__.__name__ == "CompiledFunction"


def test_reset_forgets_traces_and_is_compiling_is_true_only_while_tracing():
    from chainrule import compiler

    seen = []

    def fn(x, seen=seen):  # (a default argument: not part of what the guards read)
        seen.append(compiler.is_compiling())
        return x + 1

    f = cr.compile(fn)
    f(cr.ones(1))
    f(cr.ones(1))
    assert seen == [True] and len(f._entries) == 1 and not compiler.is_compiling()
    compiler.reset()
    f(cr.ones(1))
    assert seen == [True, True] and len(f._entries) == 1


def test_a_replay_counts_its_in_place_writes_on_the_version():
    w = cr.ones(3, requires_grad=True)

    @cr.compile
    def update():
        with cr.no_grad():
            w.mul_(0.5)

    update()
    update()
    y = (w * w).sum()  # saves w
    update()  # a replay writes w in place
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_numpy_data_picked_by_python_inside_the_function_is_refused():
    import random

    data = np.arange(12.0).reshape(6, 2)

    def step():
        batch = cr.tensor(data[random.randrange(5)])  # a row chosen in Python: not replayable
        return batch.sum()

    f = cr.compile(step)
    f()  # traced; its second call traces again to see whether the array is the same
    with pytest.warns(UserWarning, match="new on each call"):
        f()
    assert f._eager


def test_a_numpy_array_the_program_keeps_is_read_by_reference():
    weights = np.ones(3)
    f = cr.compile(lambda x: x * cr.tensor(weights))
    f(cr.ones(3))
    f(cr.ones(3))
    weights[:] = 4.0  # the replay reads the array as it is now, as eager would
    assert f(cr.ones(3)).tolist() == [4.0, 4.0, 4.0] and len(f._entries) == 1


def test_a_cnn_step_with_batch_norm_dropout_and_adam_replays_bit_for_bit():
    def run(compiled):
        cr.manual_seed(0)
        m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, stride=2), nn.Flatten(),
                          nn.Dropout(0.2), nn.Linear(4, 10), nn.LogSoftmax(dim=1))
        opt = cr.optim.Adam(m.parameters(), lr=0.01)
        rng = np.random.default_rng(0)
        x = cr.tensor(rng.standard_normal((8, 1, 8, 8)).astype(np.float32))
        y = cr.tensor(rng.integers(0, 10, 8))

        step = _step(m, opt, F.nll_loss, compiled)
        losses = [step(x, y).item() for _ in range(8)]
        return m, losses, step

    (me, le, _), (mc, lc, step) = run(False), run(True)
    assert le == lc and step._entries
    assert all(_same(a.array, b.array)
               for a, b in zip(me.state_dict().values(), mc.state_dict().values()))
    assert "as_strided" in step.code


def test_a_step_that_detaches_its_argument_and_returns_the_loss_replays():
    x = cr.randn(20, 2, dtype=cr.float64)

    def step(theta):
        theta = theta.detach().requires_grad_()
        value = (x @ theta).exp().mean()
        g, = cr.autograd.grad(value, theta)
        return value, theta.detach() - 0.1 * g

    f = cr.compile(step)
    theta_e = theta_c = cr.zeros(2, dtype=cr.float64)
    for _ in range(6):
        ve, theta_e = step(theta_e)
        vc, theta_c = f(theta_c)
        assert _same(ve.array, vc.array) and _same(theta_e.array, theta_c.array)
    assert len(f._entries) == 1 and not f._eager


@pytest.mark.parametrize("opt_cls", [cr.optim.SGD, cr.optim.Adam, cr.optim.RMSprop])
def test_an_lr_scheduler_between_calls_needs_no_new_trace(opt_cls):
    def run(compiled):
        model = _model(dropout=0.0)
        opt = opt_cls(model.parameters(), lr=0.05)
        sched = cr.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)

        step = _step(model, opt, F.cross_entropy, compiled)
        x, y = _data()
        for _ in range(5):
            for _ in range(3):
                step(x, y)
            sched.step()
        return model, step

    (me, _), (mc, step) = run(False), run(True)
    assert all(_same(a.array, b.array)
               for a, b in zip(me.state_dict().values(), mc.state_dict().values()))
    assert step._tries <= 3 and "param_groups[0]['lr']" in step.code


def test_a_scheduler_stepped_inside_the_function_is_not_replayed():
    model = _model(dropout=0.0)
    opt = cr.optim.SGD(model.parameters(), lr=0.05)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)

    def step(x, y):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        sched.step()

    f = cr.compile(step)
    x, y = _data()
    with pytest.warns(UserWarning, match="lr scheduler"):
        for _ in range(10):
            f(x, y)
    assert not f._entries and opt.param_groups[0]["lr"] == 0.05 * 0.5 ** 10


def test_an_error_while_tracing_leaves_tensor_and_numpy_as_they_were():
    slot, zeros = cr.Tensor.__dict__["array"], np.zeros

    def fn(x):
        x.exp()  # a kernel recorded before the error
        raise KeyError("from the user's code")

    f = cr.compile(fn)
    with pytest.raises(KeyError, match="user's code"):
        f(cr.ones(2))
    assert cr.Tensor.__dict__["array"] is slot and np.zeros is zeros
    assert type(cr.ones(2).array) is np.ndarray and not cr.compiler.is_compiling()


def test_a_replay_frees_large_temporaries_and_peaks_no_higher_than_eager():
    import tracemalloc

    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    opt = cr.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = cr.randn(256, 256), cr.randint(0, 10, (256,))
    eager, compiled = _step(model, opt, F.cross_entropy, False), \
        _step(model, opt, F.cross_entropy, True)

    def peak(step) -> int:
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            step(x, y)
            return tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()

    for _ in range(3):
        eager(x, y)
        compiled(x, y)
    assert compiled._entries and "del " in compiled.code and "out=t" in compiled.code
    assert peak(compiled) <= 1.05 * peak(eager)
