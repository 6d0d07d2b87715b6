"""The older PyTorch API course programs still use, each case run against torch as the oracle:
autograd.Variable, the typed tensor classes and x.type(), `out=` on the torch.* functions, the
warning on reading .grad of a non-leaf, version and thread-count functions."""

import importlib
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import chainrule
from tests._torch import torch

LIBS = (chainrule, torch)


def _same(c, t) -> None:
    assert str(c.dtype) == str(t.dtype)
    assert tuple(c.shape) == tuple(t.shape)
    np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-7)


def _both_raise(fn, error, match=None) -> None:
    """fn(lib) raises `error` under both libraries; chainrule's message matches `match`."""
    with pytest.raises(error):
        fn(torch)
    with pytest.raises(error, match=match):
        fn(chainrule)


# ====================================================================== Variable
def test_variable_returns_a_leaf_tensor_sharing_memory_with_requires_grad_as_given():
    for m in LIBS:
        x = m.tensor([1.0, 2.0])
        v = m.autograd.Variable(x, requires_grad=True)
        assert type(v) is m.Tensor and v.requires_grad and v.is_leaf
        assert isinstance(x, m.autograd.Variable) and not isinstance(3, m.autograd.Variable)
        v.data[0] = 5.0  # `.data` works and shares memory with the wrapped tensor
        assert x.tolist() == [5.0, 2.0]
        (v * v).sum().backward()
        assert v.grad.tolist() == [10.0, 4.0]
        assert not m.autograd.Variable(x).requires_grad


def test_variable_of_a_computed_tensor_is_cut_from_its_graph():
    for m in LIBS:
        y = m.ones(2, requires_grad=True) * 2
        v = m.autograd.Variable(y)
        assert v.grad_fn is None and v.is_leaf and not v.requires_grad


def test_variable_volatile_warns_and_bad_data_raises_as_torch():
    for m in LIBS:
        with pytest.warns(UserWarning, match="volatile"):
            v = m.autograd.Variable(m.ones(2), volatile=True)
        assert not v.requires_grad
        assert m.autograd.Variable().shape == (0,)
    _both_raise(lambda m: m.autograd.Variable([1.0, 2.0]), TypeError, "has to be a tensor")
    _both_raise(lambda m: m.autograd.Variable(m.ones(2, dtype=m.int64), requires_grad=True),
                RuntimeError, "floating point")


# ====================================================================== typed tensor classes
TYPED = ("FloatTensor", "DoubleTensor", "HalfTensor", "ByteTensor", "CharTensor", "ShortTensor",
         "IntTensor", "LongTensor", "BoolTensor")
DTYPES = ("float32", "float64", "float16", "uint8", "int8", "int16", "int32", "int64", "bool")


@pytest.mark.parametrize("name", TYPED)
def test_typed_class_builds_tensors_of_its_dtype(name):
    for data in ([1, 0, 2], [[1.7, -2.7]], np.array([3, 1])):
        if name in ("ByteTensor", "BoolTensor") and np.any(np.asarray(data) < 0):
            continue  # (casting negatives to unsigned: platform-defined in NumPy and torch)
        _same(getattr(chainrule, name)(data), getattr(torch, name)(data))
    c, t = getattr(chainrule, name)(2, 3), getattr(torch, name)(2, 3)
    assert str(c.dtype) == str(t.dtype) and c.shape == (2, 3)
    assert getattr(chainrule, name)(chainrule.Size([4])).shape == (4,)
    assert getattr(chainrule, name)(size=(1, 2)).shape == (1, 2)
    assert getattr(chainrule, name)().shape == (0,)
    assert type(getattr(chainrule, name)([1])) is chainrule.Tensor
    assert str(getattr(chainrule, name).dtype) == str(getattr(torch, name).dtype)


@pytest.mark.parametrize("name", TYPED + ("Tensor",))
@pytest.mark.parametrize("dt", DTYPES)
def test_isinstance_of_a_typed_class_tests_the_dtype_as_torch(name, dt):
    c = chainrule.ones(2, dtype=getattr(chainrule, dt))
    t = torch.ones(2, dtype=getattr(torch, dt))
    assert isinstance(c, getattr(chainrule, name)) == isinstance(t, getattr(torch, name))


def test_typed_class_of_a_tensor_shares_it_and_refuses_another_dtype():
    for m in LIBS:
        x = m.ones(2)
        y = m.FloatTensor(x)
        y[0] = 7.0
        assert x.tolist() == [7.0, 1.0]
    _both_raise(lambda m: m.FloatTensor(m.ones(2, dtype=m.float64)), TypeError, "float64")
    _both_raise(lambda m: m.FloatTensor(3.5), TypeError, "sequence")


def test_bfloat16_tensor_is_refused_naming_the_missing_dtype():
    with pytest.raises(TypeError, match="no bfloat16"):
        chainrule.BFloat16Tensor([1.0])
    with pytest.raises(TypeError, match="no bfloat16"):
        chainrule.ones(2).type(chainrule.BFloat16Tensor)
    assert not isinstance(chainrule.ones(2), chainrule.BFloat16Tensor)


@pytest.mark.parametrize("dt", DTYPES)
def test_type_names_the_typed_class(dt):
    c = chainrule.ones(2, dtype=getattr(chainrule, dt))
    assert c.type() == torch.ones(2, dtype=getattr(torch, dt)).type()


@pytest.mark.parametrize("target", ["LongTensor", "torch.DoubleTensor", "int32", "Tensor"])
def test_type_converts_to_a_class_a_name_or_a_dtype(target):
    def spec(m):
        if target.startswith("torch."):
            return target
        return getattr(m, target)

    for start in ("float32", "int64"):
        c = chainrule.tensor([1.5, 2.0]).to(getattr(chainrule, start))
        t = torch.tensor([1.5, 2.0]).to(getattr(torch, start))
        _same(c.type(spec(chainrule)), t.type(spec(torch), non_blocking=False))


def test_type_to_the_same_dtype_is_the_tensor_and_conversion_is_differentiable():
    for m in LIBS:
        x = m.ones(2)
        assert x.type(m.FloatTensor) is x
        w = m.ones(2, requires_grad=True)
        w.type(m.DoubleTensor).sum().backward()
        assert w.grad.dtype == m.float32 and w.grad.tolist() == [1.0, 1.0]
    _both_raise(lambda m: m.ones(2).type("torch.Foo"), ValueError, "invalid type")
    _both_raise(lambda m: m.ones(2).type(int), ValueError, "invalid type")


def test_tensor_stays_the_class_of_every_tensor():
    for m in LIBS:
        assert m.Tensor([1, 2]).dtype == m.float32  # torch.Tensor(data): float32 as before
        assert isinstance(m.LongTensor([1]), m.Tensor)
        assert m.Tensor(2, 3).shape == (2, 3)


# ====================================================================== out=
x_ = np.array([[0.5, 1.5, 2.0], [1.0, 0.25, 3.0]], np.float32)
y_ = np.array([[2.0, 1.0, 0.5], [0.5, 4.0, 1.0]], np.float32)

OUT_CASES = {
    "add": lambda m, x, y: m.add(x, y, alpha=2, out=m.empty(2, 3)),
    "sub": lambda m, x, y: m.sub(x, y, out=m.empty(2, 3)),
    "mul": lambda m, x, y: m.mul(x, 3, out=m.empty(2, 3)),
    "div": lambda m, x, y: m.div(x, y, out=m.empty(2, 3)),
    "matmul": lambda m, x, y: m.matmul(x, y.t(), out=m.empty(2, 2)),
    "mm": lambda m, x, y: m.mm(x, y.t(), out=m.empty(2, 2)),
    "bmm": lambda m, x, y: m.bmm(x[None], y.t()[None], out=m.empty(1, 2, 2)),
    "pow": lambda m, x, y: m.pow(x, 2, out=m.empty(2, 3)),
    "exp": lambda m, x, y: m.exp(x, out=m.empty(2, 3)),
    "log": lambda m, x, y: m.log(x, out=m.empty(2, 3)),
    "sqrt": lambda m, x, y: m.sqrt(x, out=m.empty(2, 3)),
    "abs": lambda m, x, y: m.abs(-x, out=m.empty(2, 3)),
    "neg": lambda m, x, y: m.neg(x, out=m.empty(2, 3)),
    "sin": lambda m, x, y: m.sin(x, out=m.empty(2, 3)),
    "cos": lambda m, x, y: m.cos(x, out=m.empty(2, 3)),
    "tanh": lambda m, x, y: m.tanh(x, out=m.empty(2, 3)),
    "sigmoid": lambda m, x, y: m.sigmoid(x, out=m.empty(2, 3)),
    "clamp": lambda m, x, y: m.clamp(x, 0.6, 2.0, out=m.empty(2, 3)),
    "sum": lambda m, x, y: m.sum(x, 1, out=m.empty(2)),
    "mean": lambda m, x, y: m.mean(x, 0, out=m.empty(3)),
    "maximum": lambda m, x, y: m.maximum(x, y, out=m.empty(2, 3)),
    "minimum": lambda m, x, y: m.minimum(x, y, out=m.empty(2, 3)),
    "cat": lambda m, x, y: m.cat([x, y], 1, out=m.empty(2, 6)),
    "stack": lambda m, x, y: m.stack([x, y], out=m.empty(2, 2, 3)),
    "where": lambda m, x, y: m.where(x > y, x, y, out=m.empty(2, 3)),
    "eq": lambda m, x, y: m.eq(x, y, out=m.empty(2, 3, dtype=m.bool)),
}


@pytest.mark.parametrize("name", sorted(OUT_CASES))
def test_out_receives_the_result_and_is_returned(name):
    results = {}
    for m in LIBS:
        x, y = m.tensor(x_), m.tensor(y_)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an out of the right shape is never resized
            r = OUT_CASES[name](m, x, y)
        results[m] = r
    _same(results[chainrule], results[torch])


@pytest.mark.parametrize("name", ["max", "min"])
def test_out_of_max_and_min_takes_values_and_indices(name):
    got = {}
    for m in LIBS:
        values, indices = m.empty(0), m.empty(0, dtype=m.int64)
        r = getattr(m, name)(m.tensor(x_), 1, out=(values, indices))
        assert r.values is values and r.indices is indices
        got[m] = r
    for k in range(2):
        _same(got[chainrule][k], got[torch][k])


def test_out_of_another_shape_is_resized_with_torchs_warning_unless_empty():
    for m in LIBS:
        r = m.ones(5)
        with pytest.warns(UserWarning, match="resized"):
            m.add(m.ones(2, 3), 1, out=r)
        assert r.shape == (2, 3) and r.sum().item() == 12.0
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert m.mul(m.ones(2, 3), 2, out=m.empty(0)).shape == (2, 3)


def test_out_dtype_follows_torchs_casting_rules():
    for m in LIBS:
        assert m.add(m.ones(2), 1, out=m.empty(2, dtype=m.float64)).dtype == m.float64
        ints = m.tensor([1, 2])
        assert m.add(ints, ints, out=m.empty(2)).tolist() == [2.0, 4.0]
        assert m.eq(ints, 1, out=m.empty(2)).tolist() == [1.0, 0.0]
    _both_raise(lambda m: m.add(m.ones(2), 1, out=m.empty(2, dtype=m.int64)), RuntimeError,
                "result type Float can't be cast to the desired output type Long")
    _both_raise(lambda m: m.mm(m.ones(2, 2), m.ones(2, 2), out=m.empty(2, 2, dtype=m.float64)),
                RuntimeError, "Expected out tensor to have dtype float, but got double")
    _both_raise(lambda m: m.max(m.ones(2, 2), 1, out=(m.empty(2), m.empty(2, dtype=m.int32))),
                RuntimeError, "dtype long int, but got int")


def test_out_refuses_arguments_that_require_grad_while_grad_mode_is_on():
    def leaf_input(m):
        m.add(m.ones(2, requires_grad=True), 1, out=m.empty(2))

    def leaf_out(m):
        m.mul(m.ones(2), 2, out=m.ones(2, requires_grad=True))

    def in_cat(m):
        m.cat([m.ones(2), m.ones(2, requires_grad=True)], out=m.empty(4))

    for fn in (leaf_input, leaf_out, in_cat):
        _both_raise(fn, RuntimeError, r"functions with out=\.\.\. arguments don't support "
                                      r"automatic differentiation")
        for m in LIBS:
            with m.no_grad():
                fn(m)


def test_out_writes_through_a_view_and_may_alias_an_input():
    for m in LIBS:
        a = m.zeros(4)
        m.add(m.ones(2), 1, out=a[:2])
        assert a.tolist() == [2.0, 2.0, 0.0, 0.0]
        x = m.tensor([1.0, 2.0])
        assert m.mul(x, x, out=x) is x and x.tolist() == [1.0, 4.0]


def test_out_moves_the_version_counter_so_saved_tensors_notice():
    for m in LIBS:
        w = m.ones(2, requires_grad=True)
        x = m.ones(2)
        y = (w * x).sum()  # x is saved for w's gradient
        m.add(m.ones(2), 1, out=x)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()


def test_out_must_be_a_tensor_and_only_torchs_out_functions_take_it():
    _both_raise(lambda m: m.sin(m.ones(2), out=[m.empty(2)]), TypeError, "must be Tensor")
    _both_raise(lambda m: m.max(m.ones(2, 2), 1, out=m.empty(2)), TypeError, "tuple of 2")
    no_out = {"reshape": ([2],), "relu": (), "clone": (), "flip": ([0],)}
    for name, args in no_out.items():
        for m in LIBS:
            getattr(m, name)(m.ones(2), *args)  # the arguments are right: out= is refused
        _both_raise(lambda m, n=name, a=args: getattr(m, n)(m.ones(2), *a, out=m.empty(2)),
                    TypeError, "out")


def test_every_out_function_is_a_torch_function_taking_out():
    from chainrule.functions import METHOD_FUNCTIONS, OUT_FUNCTIONS

    assert OUT_FUNCTIONS <= set(METHOD_FUNCTIONS)
    for name in OUT_FUNCTIONS:
        try:  # torch names any argument it refuses; out= must not be one of them
            getattr(torch, name)(torch.ones(2), out=torch.empty(0), not_an_argument=1)
        except Exception as e:  # noqa: BLE001 - the message is what is checked
            assert "unexpected keyword argument 'out'" not in str(e), name


# ====================================================================== .grad of a non-leaf
def test_reading_grad_of_a_non_leaf_warns_naming_retain_grad():
    for m in LIBS:
        w = m.ones(2, requires_grad=True)
        y = w * 2
        y.sum().backward()
        with pytest.warns(UserWarning, match=r"retain_grad\(\)"):
            assert y.grad is None


def test_leaves_and_retained_non_leaves_read_grad_silently():
    for m in LIBS:
        w = m.ones(2, requires_grad=True)
        y = w * 2
        y.retain_grad()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert w.grad is None and y.grad is None and m.ones(2).grad is None
            y.sum().backward()
            assert y.grad.tolist() == [1.0, 1.0] and w.grad.tolist() == [2.0, 2.0]


# ====================================================================== version, threads, seed
def test_version_is_chainrules_own_and_compares_as_torchs():
    v = chainrule.__version__
    assert isinstance(v, str) and v == "0.1.0" and not v.startswith(torch.__version__[:4])
    for m in LIBS:  # the checks course scripts write: none of them raises
        assert isinstance(m.__version__ >= (1, 0), bool)
        assert isinstance(m.__version__ < "1.8", bool)
        assert m.__version__.split("+")[0][0].isdigit()
        assert m.version.cuda is None
    assert v >= (0, 1) and v < (0, 10) and v > "0.0.9" and v < "0.10" and v == (0, 1)
    assert {v: 1}["0.1.0"] == 1
    # `import torch.version` works under chainrule run: the module is importable by name
    assert importlib.import_module("chainrule.version") is chainrule.version


def test_num_threads_are_recorded_and_bad_counts_refused_as_torch():
    """set_num_threads also sets how many threads chainrule's own kernels split over."""
    from chainrule import _threads

    before, kernel = chainrule.get_num_threads(), _threads.NUM_THREADS
    try:
        chainrule.set_num_threads(3)
        assert chainrule.get_num_threads() == 3
        assert _threads.NUM_THREADS == min(3, _threads.MAX_THREADS)
        chainrule.set_num_threads(1)
        assert _threads.NUM_THREADS == 1
        chainrule.set_num_interop_threads(2)
        assert chainrule.get_num_interop_threads() == 2
    finally:
        chainrule.set_num_threads(before)
        _threads.NUM_THREADS = kernel
    for bad in (0, -1, 2.5):
        with pytest.raises(RuntimeError, match="set_num_threads expects"):
            chainrule.set_num_threads(bad)
        with pytest.raises(RuntimeError):
            torch.set_num_threads(bad)


def test_manual_seed_returns_the_default_generator():
    for m in LIBS:
        g = m.manual_seed(3)
        assert isinstance(g, m.Generator) and g is m.default_generator
        assert g.initial_seed() == 3


# ====================================================================== under chainrule run
LEGACY_PROGRAM = '''
import torch
import torch.version
from torch.autograd import Variable

x = Variable(torch.FloatTensor([[1.0, 2.0]]))
w = Variable(torch.ones(2, 1).type(torch.FloatTensor), requires_grad=True)
r = torch.empty(0)
with torch.no_grad():
    torch.mm(x, w, out=r)
x.mm(w).sum().backward()
torch.set_num_threads(1)
print(r.tolist(), w.grad.type(), torch.LongTensor([1]).type(), torch.version.cuda,
      torch.__version__ >= (0, 1), torch.get_num_threads())
'''


def test_a_program_using_the_older_api_runs_unchanged_under_chainrule_run(tmp_path):
    path = tmp_path / "legacy.py"
    path.write_text(LEGACY_PROGRAM)
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    outputs = []
    for cmd in ([sys.executable, str(path)], [sys.executable, "-m", "chainrule", "run", str(path)]):
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path,
                              env=dict(os.environ, PYTHONPATH=repo))
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    expected = "[[3.0]] torch.FloatTensor torch.LongTensor None True 1\n"
    assert outputs == [expected, expected]


@pytest.mark.parametrize("call", [lambda t, f: t.clone(memory_format=f),
                                  lambda t, f: chainrule.nn.Linear(2, 2).to(memory_format=f)])
def test_memory_format_row_major_passes_and_channels_last_is_refused(call):
    t = chainrule.ones(2, 2)
    for ok in (chainrule.preserve_format, chainrule.contiguous_format):
        call(t, ok)
    with pytest.raises(NotImplementedError, match="channels_last"):
        call(t, chainrule.channels_last)
