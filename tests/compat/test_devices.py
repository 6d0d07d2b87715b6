"""The device names scripts use first (torch.cuda, torch.backends, torch.accelerator,
torch.device, default device), each answering as PyTorch's CPU-only build answers."""

import pytest

import chainrule
from tests._torch import torch

QUERIES = [
    lambda t: t.cuda.is_available(),
    lambda t: t.cuda.device_count(),
    lambda t: t.cuda.is_initialized(),
    lambda t: t.cuda.memory_allocated(),
    lambda t: t.cuda.empty_cache(),
    lambda t: t.cuda.memory_reserved(),
    lambda t: t.cuda.max_memory_reserved(),
    lambda t: t.cuda.max_memory_allocated(),
    lambda t: t.cuda.is_bf16_supported(),
    lambda t: t.cuda.get_arch_list(),
    lambda t: t.backends.mps.is_available(),
    lambda t: t.backends.mps.is_built(),
    lambda t: t.backends.cudnn.is_available(),
    lambda t: t.backends.cudnn.version(),
    lambda t: t.backends.cudnn.enabled,
    lambda t: t.backends.cudnn.deterministic,
    lambda t: t.backends.cudnn.benchmark,
    lambda t: t.backends.cuda.is_built(),
    lambda t: t.backends.cuda.matmul.allow_tf32,
    lambda t: t.accelerator.is_available(),
    lambda t: t.accelerator.device_count(),
    lambda t: t.accelerator.current_accelerator(),
    lambda t: str(t.get_default_device()),
]


@pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
def test_device_queries_answer_as_torch_cpu_build(query):
    assert query(chainrule) == query(torch)


NEED_GPU = [
    (lambda t: t.cuda.synchronize(), AssertionError),
    (lambda t: t.cuda.current_device(), AssertionError),
    (lambda t: t.cuda.get_device_name(0), AssertionError),
    (lambda t: t.cuda.get_device_properties(0), AssertionError),
    (lambda t: t.cuda.initial_seed(), AssertionError),
    (lambda t: t.cuda.get_rng_state(), AssertionError),
    (lambda t: t.cuda.get_device_capability(), AssertionError),
    (lambda t: t.cuda.mem_get_info(), AssertionError),
    (lambda t: t.accelerator.current_device_index(), RuntimeError),
    (lambda t: t.accelerator.synchronize(), RuntimeError),
]


@pytest.mark.parametrize("call,error", NEED_GPU, ids=range(len(NEED_GPU)))
def test_what_needs_a_gpu_raises_torch_type(call, error):
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error, match="chainrule runs on the CPU only"):
        call(chainrule)


def test_cuda_seeding_leaves_the_cpu_stream_alone():
    for t in (torch, chainrule):
        t.manual_seed(0)
        first = t.rand(3).tolist()
        t.manual_seed(0)
        t.cuda.manual_seed(5)
        t.cuda.manual_seed_all(7)
        t.cuda.seed()
        t.cuda.seed_all()
        assert t.rand(3).tolist() == first


def test_cudnn_flags_are_settable():
    cudnn = chainrule.backends.cudnn
    old = cudnn.deterministic, cudnn.benchmark
    try:
        cudnn.deterministic, cudnn.benchmark = True, True
        assert chainrule.backends.cudnn.deterministic is True
        assert chainrule.backends.cudnn.benchmark is True
    finally:
        cudnn.deterministic, cudnn.benchmark = old


@pytest.mark.parametrize("args", [("cuda",), ("cuda:1",), ("cuda", 0), ("mps",), ("cpu",),
                                  ("cpu", 0)])
def test_device_objects_construct_as_torch(args):
    ours, theirs = chainrule.device(*args), torch.device(*args)
    assert repr(ours) == repr(theirs)
    assert str(ours) == str(theirs)
    assert (ours.type, ours.index) == (theirs.type, theirs.index)


@pytest.mark.parametrize("bad", ["foo", "cuda:x", "gpu"])
def test_bad_device_strings_raise_runtime_error(bad):
    with pytest.raises(RuntimeError):
        torch.device(bad)
    with pytest.raises(RuntimeError, match=bad):
        chainrule.device(bad)


def test_device_picked_the_usual_way_is_cpu_and_usable():
    device = chainrule.device("cuda" if chainrule.cuda.is_available() else "cpu")
    assert device == chainrule.device("cpu")
    x = chainrule.ones(2, device=device).to(device)
    assert x.device == device


@pytest.mark.parametrize("move", [
    lambda x: x.to(chainrule.device("cuda")),
    lambda x: x.to("cuda:0"),
    lambda x: x.cuda(),
    lambda x: chainrule.zeros(2, device="cuda"),
])
def test_moving_to_a_gpu_raises_naming_it(move):
    with pytest.raises(RuntimeError, match="CPU only"):
        move(chainrule.ones(2))


def test_default_device():
    chainrule.set_default_device("cpu")
    chainrule.set_default_device(chainrule.device("cpu"))
    chainrule.set_default_device(None)
    assert chainrule.get_default_device() == chainrule.device("cpu")
    with pytest.raises(RuntimeError, match="set_default_device: .*'cuda'"):
        chainrule.set_default_device("cuda")
    assert str(chainrule.get_default_device()) == "cpu"
