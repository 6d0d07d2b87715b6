"""chainrule.nn modules vs torch.nn: registration, state dicts, modes, hooks, repr, init, and
every layer's outputs and gradients (input and parameters) with weights copied from torch."""

import copy
import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from tests._torch import torch

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-11)}


def copy_weights(cm, tm):
    """Load torch's state dict (as NumPy arrays) into the chainrule module."""
    result = cm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys


def pair(factory, dtype=np.float32):
    """The same layer built in chainrule and torch, torch's weights copied over."""
    torch.manual_seed(0)
    cm, tm = factory(nn), factory(torch.nn)
    if dtype == np.float64:
        cm.double()
        tm.double()
    copy_weights(cm, tm)
    return cm, tm


def run_both(cm, tm, inputs, dtype, grad_inputs=True, seed=1):
    """Forward both on the same arrays, backward the same random upstream gradient, and
    compare outputs, input gradients and parameter gradients (matched by name)."""
    cx = [cr.tensor(a, requires_grad=grad_inputs and a.dtype.kind == "f") for a in inputs]
    tx = [torch.tensor(a, requires_grad=grad_inputs and a.dtype.kind == "f") for a in inputs]
    co, to = cm(*cx), tm(*tx)
    tol = TOL[dtype]
    np.testing.assert_allclose(co.detach().numpy(), to.detach().numpy(), **tol)
    if not to.requires_grad:
        return co, to
    g = np.random.default_rng(seed).standard_normal(tuple(to.shape)).astype(dtype)
    co.backward(cr.tensor(g))
    to.backward(torch.tensor(g))
    for c, t in zip(cx, tx):
        if t.grad is not None:
            np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), **tol)
    tparams = dict(tm.named_parameters())
    for name, p in cm.named_parameters():
        tg = tparams[name].grad
        if tg is None:
            assert p.grad is None, name
        else:
            np.testing.assert_allclose(p.grad.numpy(), tg.numpy(), **tol, err_msg=name)
    return co, to


def arr(shape, dtype, seed=0, positive=False):
    a = np.random.default_rng(seed).standard_normal(shape)
    return (np.abs(a) + 0.1 if positive else a).astype(dtype)


DTYPES = [np.float32, np.float64]

# (factory, input shapes): each layer vs torch in train and eval mode, both dtypes
LAYERS = {
    "Linear": (lambda nn: nn.Linear(5, 3), [(4, 5)]),
    "Linear-3d-nobias": (lambda nn: nn.Linear(5, 3, bias=False), [(2, 4, 5)]),
    "Bilinear": (lambda nn: nn.Bilinear(3, 4, 2), [(5, 3), (5, 4)]),
    "Conv1d": (lambda nn: nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2), [(2, 4, 9)]),
    "Conv2d": (lambda nn: nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2)),
               [(2, 3, 7, 6)]),
    "Conv2d-same-nobias": (lambda nn: nn.Conv2d(2, 4, 4, padding="same", bias=False),
                           [(2, 2, 5, 5)]),
    "Conv2d-reflect": (lambda nn: nn.Conv2d(2, 2, 3, padding=(2, 1), padding_mode="reflect"),
                       [(1, 2, 5, 6)]),
    "Conv2d-circular": (lambda nn: nn.Conv2d(2, 2, 3, padding=1, padding_mode="circular"),
                        [(1, 2, 5, 6)]),
    "Conv2d-replicate-same": (lambda nn: nn.Conv2d(2, 2, 2, padding="same",
                                                   padding_mode="replicate"), [(1, 2, 5, 6)]),
    "ConvTranspose1d": (lambda nn: nn.ConvTranspose1d(4, 2, 3, stride=2, padding=1),
                        [(2, 4, 5)]),
    "ConvTranspose2d": (lambda nn: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1,
                                                      output_padding=1, groups=2),
                        [(2, 4, 3, 4)]),
    "MaxPool2d": (lambda nn: nn.MaxPool2d(3, 2, 1, ceil_mode=True), [(2, 3, 7, 6)]),
    "MaxPool1d": (lambda nn: nn.MaxPool1d(2), [(2, 3, 7)]),
    "AvgPool2d": (lambda nn: nn.AvgPool2d(3, 2, 1, count_include_pad=False), [(2, 3, 7, 6)]),
    "AvgPool1d": (lambda nn: nn.AvgPool1d(3, 2), [(2, 3, 7)]),
    "AdaptiveAvgPool2d": (lambda nn: nn.AdaptiveAvgPool2d((3, 4)), [(2, 3, 7, 6)]),
    "AdaptiveAvgPool1d": (lambda nn: nn.AdaptiveAvgPool1d(2), [(2, 3, 7)]),
    "BatchNorm1d-2d": (lambda nn: nn.BatchNorm1d(3), [(6, 3)]),
    "BatchNorm1d-3d": (lambda nn: nn.BatchNorm1d(3, momentum=0.5), [(4, 3, 5)]),
    "BatchNorm2d": (lambda nn: nn.BatchNorm2d(3), [(4, 3, 3, 2)]),
    "BatchNorm2d-noaffine": (lambda nn: nn.BatchNorm2d(3, affine=False, momentum=None),
                             [(4, 3, 3, 2)]),
    "BatchNorm2d-nostats": (lambda nn: nn.BatchNorm2d(3, track_running_stats=False),
                            [(4, 3, 3, 2)]),
    "LayerNorm": (lambda nn: nn.LayerNorm((3, 4)), [(2, 5, 3, 4)]),
    "LayerNorm-nobias": (lambda nn: nn.LayerNorm(4, bias=False), [(2, 4)]),
    "GroupNorm": (lambda nn: nn.GroupNorm(2, 4), [(3, 4, 2, 5)]),
    "InstanceNorm2d": (lambda nn: nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
                       [(2, 3, 4, 5)]),
    "Dropout": (lambda nn: nn.Dropout(0.0), [(4, 5)]),
    "Embedding": (lambda nn: nn.Embedding(7, 3, padding_idx=1), "idx"),
    "Flatten": (lambda nn: nn.Flatten(), [(2, 3, 4)]),
    "Unflatten": (lambda nn: nn.Unflatten(1, (2, 3)), [(4, 6)]),
    "Identity": (lambda nn: nn.Identity(5, unused=True), [(3, 2)]),
    "ReLU": (lambda nn: nn.ReLU(), [(4, 5)]),
    "LeakyReLU": (lambda nn: nn.LeakyReLU(0.2), [(4, 5)]),
    "Sigmoid": (lambda nn: nn.Sigmoid(), [(4, 5)]),
    "Tanh": (lambda nn: nn.Tanh(), [(4, 5)]),
    "GELU": (lambda nn: nn.GELU(), [(4, 5)]),
    "GELU-tanh": (lambda nn: nn.GELU("tanh"), [(4, 5)]),
    "SiLU": (lambda nn: nn.SiLU(), [(4, 5)]),
    "ELU": (lambda nn: nn.ELU(0.7), [(4, 5)]),
    "Softplus": (lambda nn: nn.Softplus(2.0, 3.0), [(4, 5)]),
    "Softmax": (lambda nn: nn.Softmax(dim=1), [(4, 5)]),
    "LogSoftmax": (lambda nn: nn.LogSoftmax(dim=-1), [(3, 4, 5)]),
    "PReLU": (lambda nn: nn.PReLU(3), [(2, 3, 4)]),
    "Hardtanh": (lambda nn: nn.Hardtanh(-0.5, 0.7), [(4, 5)]),
    "Mish": (lambda nn: nn.Mish(), [(4, 5)]),
    "Dropout2d": (lambda nn: nn.Dropout2d(0.0), [(2, 3, 4, 5)]),
    "Dropout1d": (lambda nn: nn.Dropout1d(0.0), [(2, 3, 4)]),
    "ReLU6": (lambda nn: nn.ReLU6(), [(4, 5)]),
    "SELU": (lambda nn: nn.SELU(), [(4, 5)]),
    "CELU": (lambda nn: nn.CELU(0.6), [(4, 5)]),
    "Hardswish": (lambda nn: nn.Hardswish(), [(4, 5)]),
    "Hardsigmoid": (lambda nn: nn.Hardsigmoid(), [(4, 5)]),
    "Threshold": (lambda nn: nn.Threshold(0.2, -1.0), [(4, 5)]),
    "GLU": (lambda nn: nn.GLU(1), [(4, 6)]),
    "Softmin": (lambda nn: nn.Softmin(0), [(4, 5)]),
    "Softmax2d": (lambda nn: nn.Softmax2d(), [(2, 3, 4, 5)]),
    "LogSigmoid": (lambda nn: nn.LogSigmoid(), [(4, 5)]),
    "Softsign": (lambda nn: nn.Softsign(), [(4, 5)]),
    "Tanhshrink": (lambda nn: nn.Tanhshrink(), [(4, 5)]),
    "Sequential": (lambda nn: nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.BatchNorm1d(6),
                                            nn.Linear(6, 2)), [(5, 4)]),
}


# torch's float64 kernels of these use float32 constants (1/6, 1/alpha): its gradients are
# off by ~1e-8 relative, chainrule's are exact (checked against the formula below)
TORCH_FLOAT32_CONSTANTS = {"CELU", "Hardsigmoid", "Hardswish"}


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name, dtype, mode, monkeypatch):
    factory, shapes = LAYERS[name]
    if name in TORCH_FLOAT32_CONSTANTS and dtype == np.float64:
        monkeypatch.setitem(TOL, np.float64, dict(rtol=1e-7, atol=1e-9))
    cm, tm = pair(factory, dtype)
    cm.train(mode == "train")
    tm.train(mode == "train")
    if shapes == "idx":
        idx = np.array([[0, 1, 6, 1], [3, 3, 2, 0]])
        run_both(cm, tm, [idx], dtype)
    else:
        inputs = [arr(s, dtype, seed=i) for i, s in enumerate(shapes)]
        for step in range(2):  # twice: running statistics feed the second step
            run_both(cm, tm, inputs, dtype, seed=step)
            cm.zero_grad()
            tm.zero_grad()
    for (k, a), (_, b) in zip(cm.state_dict().items(), tm.state_dict().items()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), **TOL[dtype], err_msg=k)


def test_exact_float64_gradients_where_torch_rounds():
    x = cr.tensor([-0.5, -1.3, 0.4, 2.0], dtype=cr.float64, requires_grad=True)
    F.celu(x, 0.6).sum().backward()
    a = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), np.where(a > 0, 1.0, np.exp(a / 0.6)),
                               rtol=1e-15)
    x.grad = None
    F.hardsigmoid(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(np.abs(a) < 3, 1 / 6, 0.0), rtol=1e-15)


def test_conv_transpose_output_size():
    cm, tm = pair(lambda nn: nn.ConvTranspose2d(2, 3, 3, stride=3, padding=1))
    x = arr((1, 2, 3, 4), np.float32)
    for size in ([8, 11], (1, 3, 9, 12), [7, 10]):
        co = cm(cr.tensor(x), output_size=size)
        to = tm(torch.tensor(x), output_size=size)
        np.testing.assert_allclose(co.detach().numpy(), to.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
    with pytest.raises(ValueError, match="requested an output size"):
        cm(cr.tensor(x), output_size=[20, 20])


LOSSES = {
    "MSELoss": (lambda nn, r: nn.MSELoss(reduction=r), "real"),
    "L1Loss": (lambda nn, r: nn.L1Loss(reduction=r), "real"),
    "SmoothL1Loss": (lambda nn, r: nn.SmoothL1Loss(reduction=r, beta=0.5), "real"),
    "HuberLoss": (lambda nn, r: nn.HuberLoss(reduction=r, delta=0.7), "real"),
    "CrossEntropyLoss": (lambda nn, r: nn.CrossEntropyLoss(reduction=r), "class"),
    "CrossEntropyLoss-w": (lambda nn, r: nn.CrossEntropyLoss(
        weight=_lib(nn).tensor([1.0, 2.0, 0.5, 1.5]), ignore_index=2, reduction=r,
        label_smoothing=0.1), "class"),
    "NLLLoss": (lambda nn, r: nn.NLLLoss(reduction=r), "logprob"),
    "NLLLoss-w": (lambda nn, r: nn.NLLLoss(weight=_lib(nn).tensor([1.0, 2.0, 0.5, 1.5]),
                                           ignore_index=0, reduction=r), "logprob"),
    "BCELoss": (lambda nn, r: nn.BCELoss(reduction=r), "prob"),
    "BCEWithLogitsLoss": (lambda nn, r: nn.BCEWithLogitsLoss(
        pos_weight=_lib(nn).tensor([1.0, 2.0, 0.5, 3.0]), reduction=r), "binary"),
}


def _lib(nn_module):
    return cr if nn_module is nn else torch


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_matches_torch(name, dtype, reduction):
    factory, kind = LOSSES[name]
    cm, tm = factory(nn, reduction), factory(torch.nn, reduction)
    if dtype == np.float64:
        cm.double()
        tm.double()
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 4)).astype(dtype)
    if kind == "real":
        target = rng.standard_normal((6, 4)).astype(dtype)
    elif kind in ("class", "logprob"):
        target = rng.integers(0, 4, 6)
        if kind == "logprob":
            x = (x - np.log(np.exp(x).sum(1, keepdims=True))).astype(dtype)
    elif kind == "prob":
        x = (1 / (1 + np.exp(-x))).astype(dtype)
        target = rng.random((6, 4)).astype(dtype)
    else:
        target = rng.integers(0, 2, (6, 4)).astype(dtype)
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    co, to = cm(cx, cr.tensor(target)), tm(tx, torch.tensor(target))
    np.testing.assert_allclose(co.detach().numpy(), to.detach().numpy(), **TOL[dtype])
    g = rng.standard_normal(tuple(to.shape)).astype(dtype)
    co.backward(cr.tensor(g))
    to.backward(torch.tensor(g))
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), **TOL[dtype])


def test_loss_legacy_arguments_and_buffers():
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning):
        assert nn.L1Loss(reduce=False).reduction == "none"
    w = cr.tensor([1.0, 2.0])
    loss = nn.CrossEntropyLoss(weight=w)
    assert loss.weight is w and list(loss.state_dict()) == ["weight"]
    assert repr(loss) == "CrossEntropyLoss()"


# --------------------------------------------------------------------------- the seed's CNN
def seed_cnn(nn):
    return nn.Sequential(
        nn.BatchNorm2d(1), nn.Conv2d(1, 32, 3, padding=1), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(64, 128, 3, padding=1),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1152, 256), nn.Dropout(0.3), nn.ReLU(),
        nn.Linear(256, 64), nn.Dropout(0.3), nn.ReLU(), nn.Linear(64, 10), nn.Dropout(0.3),
        nn.LogSoftmax(dim=1))


def test_seed_cnn_matches_torch():
    """The MNIST CNN of the course: state_dict keys, repr, eval outputs and all gradients of
    the NLL loss (train mode with dropout switched off, so batch norm uses batch stats)."""
    cm, tm = pair(seed_cnn)
    assert list(cm.state_dict()) == list(tm.state_dict())
    assert repr(cm) == repr(tm)
    x = np.random.default_rng(0).random((8, 1, 28, 28)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 10, 8)
    for m in (cm, tm):
        for layer in m:
            if type(layer).__name__ == "Dropout":
                layer.p = 0.0
    cl = F.nll_loss(cm(cr.tensor(x)), cr.tensor(y))
    tl = torch.nn.functional.nll_loss(tm(torch.tensor(x)), torch.tensor(y))
    assert cl.item() == pytest.approx(tl.item(), rel=1e-5)
    cl.backward()
    tl.backward()
    tparams = dict(tm.named_parameters())
    for name, p in cm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), rtol=1e-4,
                                   atol=1e-6, err_msg=name)
    np.testing.assert_allclose(cm[0].running_var.numpy(), tm[0].running_var.numpy(), rtol=1e-5)
    cm.eval()
    tm.eval()
    np.testing.assert_allclose(cm(cr.tensor(x)).detach().numpy(),
                               tm(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------ module machinery
def _net_class(lib):
    """One small network of every kind of member, built from lib.nn (chainrule or torch)."""
    n = lib.nn

    class Net(n.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = n.Linear(4, 3)
            self.bn = n.BatchNorm1d(3)
            self.blocks = n.ModuleList([n.Linear(3, 3), n.Linear(3, 3)])
            self.head = n.Sequential(OrderedDict(act=n.ReLU(), out=n.Linear(3, 2)))
            self.scale = n.Parameter(lib.ones(1))
            self.register_buffer("steps", lib.zeros(()))
            self.register_buffer("cache", lib.zeros(2), persistent=False)
            self.plain = 3

        def forward(self, x):
            x = self.bn(self.fc1(x))
            for b in self.blocks:
                x = b(x)
            return self.head(x) * self.scale

    return Net


Net, TorchNet = _net_class(cr), _net_class(torch)


def test_registration_and_traversal_match_torch():
    net, tnet = Net(), TorchNet()
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in tnet.named_parameters()]
    assert [n for n, _ in net.named_buffers()] == [n for n, _ in tnet.named_buffers()]
    assert [n for n, _ in net.named_modules()] == [n for n, _ in tnet.named_modules()]
    assert [n for n, _ in net.named_children()] == [n for n, _ in tnet.named_children()]
    assert list(net.state_dict()) == list(tnet.state_dict())
    assert len(list(net.parameters())) == 11 and len(list(net.modules())) == 9
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert net.plain == 3 and "plain" not in net._parameters
    assert isinstance(net.fc1.weight, nn.Parameter) and net.fc1.weight.is_leaf
    assert net.get_submodule("head.out") is net.head.out
    assert net.get_parameter("blocks.1.bias") is net.blocks[1].bias
    assert net.get_buffer("bn.running_mean") is net.bn.running_mean
    with pytest.raises(AttributeError, match="`running_mean` is not an nn.Parameter"):
        net.get_parameter("bn.running_mean")
    with pytest.raises(AttributeError, match="`weight` is not a buffer"):
        net.get_buffer("fc1.weight")
    assert "fc1" in dir(net) and "scale" in dir(net)
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, shared)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
    del net.fc1
    assert "fc1" not in net._modules
    with pytest.raises(AttributeError, match="has no attribute 'fc1'"):
        _ = net.fc1


def test_state_dict_is_detached_and_loads_torch_weights():
    net, tnet = Net(), TorchNet()
    sd = net.state_dict()
    assert all(not t.requires_grad and t.grad_fn is None for t in sd.values())
    assert isinstance(sd, OrderedDict)
    result = net.load_state_dict({k: v.numpy() for k, v in tnet.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    x = arr((5, 4), np.float32)
    for mode in (True, False):
        net.train(mode)
        tnet.train(mode)
        np.testing.assert_allclose(net(cr.tensor(x)).detach().numpy(),
                                   tnet(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    # round trip through chainrule tensors, into a fresh model
    other = Net()
    other.load_state_dict(net.state_dict())
    np.testing.assert_array_equal(other.fc1.weight.detach().numpy(),
                                  net.fc1.weight.detach().numpy())


def test_load_state_dict_reports_keys_and_shapes():
    net = Net()
    sd = net.state_dict()
    sd.pop("fc1.bias")
    sd["extra.weight"] = cr.zeros(2)
    sd["fc1.nonsense"] = cr.zeros(2)
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(sd)
    msg = str(err.value)
    assert 'Missing key(s) in state_dict: "fc1.bias"' in msg
    assert '"extra.weight"' in msg and '"fc1.nonsense"' in msg
    assert msg.startswith("Error(s) in loading state_dict for Net")
    missing, unexpected = net.load_state_dict(sd, strict=False)
    assert missing == ["fc1.bias"] and set(unexpected) == {"extra.weight", "fc1.nonsense"}
    bad = net.state_dict()
    bad["fc1.weight"] = cr.zeros(2, 4)
    with pytest.raises(RuntimeError, match=r"size mismatch for fc1.weight: copying a param with "
                                           r"shape torch.Size\(\[2, 4\]\) from checkpoint, the "
                                           r"shape in current model is torch.Size\(\[3, 4\]\)"):
        net.load_state_dict(bad, strict=False)
    with pytest.raises(TypeError, match="dict-like"):
        net.load_state_dict([1, 2])


def test_load_state_dict_copies_in_place_and_assign():
    lin = nn.Linear(2, 2)
    w = lin.weight
    lin.load_state_dict({"weight": np.ones((2, 2)), "bias": np.zeros(2)})
    assert lin.weight is w and w.dtype == cr.float32
    np.testing.assert_array_equal(w.detach().numpy(), np.ones((2, 2)))
    lin.load_state_dict({"weight": cr.full((2, 2), 2.0), "bias": cr.zeros(2)}, assign=True)
    assert lin.weight is not w and isinstance(lin.weight, nn.Parameter)
    assert lin.weight.requires_grad


def test_batchnorm_state_dict_without_num_batches_tracked():
    bn = nn.BatchNorm2d(2)
    sd = bn.state_dict()
    del sd["num_batches_tracked"]
    assert bn.load_state_dict(sd).missing_keys == []


def test_train_eval_zero_grad_requires_grad_apply():
    net = Net()
    assert net.training and net.bn.training
    assert net.eval() is net and not net.bn.training and not net.head.act.training
    net.train()
    assert net.head.out.training
    net(cr.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    grad = net.fc1.weight.grad
    net.zero_grad(set_to_none=False)
    assert net.fc1.weight.grad is grad and (grad.numpy() == 0).all()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen[-1] == "Net" and seen[0] == "Linear"
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_to_float_double_keeps_parameter_objects():
    net = Net()
    w = net.fc1.weight
    assert net.double() is net
    assert net.fc1.weight is w and w.dtype == cr.float64
    assert net.bn.running_mean.dtype == cr.float64
    assert net.bn.num_batches_tracked.dtype == cr.int64
    net(cr.randn(3, 4, dtype=cr.float64)).sum().backward()
    net.float()
    assert w.dtype == cr.float32 and w.grad.dtype == cr.float32
    assert net.to(cr.float64) is net and w.dtype == cr.float64
    assert net.to("cpu") is net
    with pytest.raises(TypeError, match="floating point"):
        net.to(cr.int64)
    with pytest.raises(RuntimeError, match="CPU only"):
        net.cuda()


def test_setattr_rules():
    m = nn.Module()
    m.w = nn.Parameter(cr.zeros(2))
    with pytest.raises(TypeError, match="cannot assign 'chainrule.Tensor' as parameter 'w'"):
        m.w = cr.zeros(2)
    m.w = None
    assert m.w is None and "w" in m._parameters
    m.sub = nn.ReLU()
    with pytest.raises(TypeError, match="as child module 'sub'"):
        m.sub = 3
    m.register_buffer("b", cr.zeros(1))
    m.b = cr.ones(1)
    assert m._buffers["b"].item() == 1
    with pytest.raises(TypeError, match="as buffer 'b'"):
        m.b = 3
    m.buf2 = nn.Buffer(cr.ones(2), persistent=False)
    assert "buf2" in m._buffers and "buf2" not in m.state_dict()
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", cr.zeros(1))
    with pytest.raises(KeyError, match="already exists"):
        m.register_parameter("sub", None)

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(cr.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    with pytest.raises(NotImplementedError, match="missing the required \"forward\""):
        nn.Module()(1)
    q = nn.Parameter(cr.ones(2, requires_grad=True) * 2)  # a Parameter is always a leaf
    assert q.is_leaf and q.requires_grad


def test_parameter():
    t = cr.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert p.requires_grad and p.is_leaf and isinstance(p, cr.Tensor)
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    p.detach()[0] = 5.0
    assert t[0].item() == 5.0  # shares memory
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert type(p * 2) is cr.Tensor
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q.requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(cr.tensor([1, 2]))
    assert nn.Parameter().shape == (0,)


def test_forward_hooks():
    lin = nn.Linear(3, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = lin(cr.randn(4, 3))
    np.testing.assert_allclose(out.detach().numpy(),
                               (lin.bias.detach().numpy() + 1)[None].repeat(4, 0), rtol=1e-6)
    assert calls == [(4, 2)]
    h1.remove()
    h2.remove()
    x = cr.randn(4, 3)
    np.testing.assert_array_equal(lin(x).detach().numpy(), F.linear(x, lin.weight,
                                                                     lin.bias).detach().numpy())
    with lin.register_forward_hook(lambda m, a, kw, o: o * 2, with_kwargs=True):
        assert lin(x).shape == (4, 2)
    assert not lin._forward_hooks


def test_forward_pre_hook_with_kwargs_replaces_args_and_kwargs_like_torch():
    for nnm, lib in ((nn, cr), (torch.nn, torch)):
        lin = nnm.Linear(3, 2)
        with lin.register_forward_pre_hook(lambda m, a, kw: ((a[0] * 0,), kw), with_kwargs=True):
            assert not (lin(lib.ones(1, 3)) - lin.bias).detach().numpy().any()
        lin.register_forward_pre_hook(lambda m, a, kw: a, with_kwargs=True, prepend=True)
        with pytest.raises(RuntimeError, match=r"forward pre-hook must return None or a tuple "
                                               r"of \(new_args, new_kwargs\)"):
            lin(lib.ones(1, 3))


def test_full_backward_hooks_match_torch():
    results = []
    for lib, nnm in ((cr, nn), (torch, torch.nn)):
        torch.manual_seed(0)
        lin = nnm.Linear(3, 2)
        seen = {}

        def pre(m, gout, seen=seen):
            seen["pre"] = gout[0].numpy().copy()

        def post(m, gin, gout, seen=seen):
            seen["gin"] = gin[0].numpy().copy()
            return (gin[0] * 2,)

        lin.register_full_backward_pre_hook(pre)
        lin.register_full_backward_hook(post)
        x = lib.tensor(np.arange(12.0).reshape(4, 3).astype(np.float32), requires_grad=True)
        (lin(x) ** 2).sum().backward()
        results.append((seen, x.grad.numpy().copy()))
    (c, cg), (t, tg) = results
    assert abs(c["pre"]).sum() > 0  # different weights: only check structure and the doubling
    assert c["gin"].shape == t["gin"].shape == (4, 3)
    np.testing.assert_allclose(cg, 2 * c["gin"], rtol=1e-6)
    np.testing.assert_allclose(tg, 2 * t["gin"], rtol=1e-6)


# ------------------------------------------------------------------------------ containers
def test_sequential():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b)
    assert len(seq) == 2 and seq[0] is a and seq[-1] is b
    seq.append(c)
    assert len(seq) == 3 and seq[2] is c and list(seq) == [a, b, c]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    assert list(sub._modules) == ["1", "2"]
    assert seq(cr.randn(5, 2)).shape == (5, 1)
    named = nn.Sequential(OrderedDict(first=a, second=b))
    assert named.first is a and list(named.state_dict()) == ["first.weight", "first.bias"]
    del seq[1]
    assert list(seq._modules) == ["0", "1"] and seq[1] is c
    seq.insert(1, b)
    assert list(seq) == [a, b, c]
    assert seq.pop(1) is b and len(seq) == 2
    with pytest.raises(IndexError, match="out of range"):
        seq[5]
    seq[0] = nn.Identity()
    assert isinstance(seq[0], nn.Identity)
    assert len(seq + nn.Sequential(b)) == 3


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    assert isinstance(layers[-1], nn.Tanh) and len(layers[1:3]) == 2
    layers.insert(0, nn.Identity())
    assert isinstance(layers[0], nn.Identity) and len(layers) == 6
    assert repr(layers) == repr(torch.nn.ModuleList(
        [torch.nn.Identity()] + [torch.nn.Linear(2, 2) for _ in range(3)] +
        [torch.nn.ReLU(), torch.nn.Tanh()]))
    d = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    d["c"] = nn.Tanh()
    assert list(d.keys()) == ["a", "b", "c"] and "b" in d and len(d) == 3
    assert list(d.state_dict()) == ["a.weight", "a.bias"]
    assert d.pop("b") is not None and list(d) == ["a", "c"]
    pl = nn.ParameterList([nn.Parameter(cr.ones(2)), cr.zeros(3)])
    assert len(pl) == 2 and isinstance(pl[1], nn.Parameter)
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
    pd = nn.ParameterDict({"w": cr.ones(2)})
    assert isinstance(pd["w"], nn.Parameter) and list(pd.state_dict()) == ["w"]


REPRS = [
    lambda nn: nn.Conv2d(2, 4, (3, 2), stride=2, padding=1, dilation=2, groups=2, bias=False,
                         padding_mode="reflect"),
    lambda nn: nn.Conv2d(2, 4, 3, padding="same"),
    lambda nn: nn.ConvTranspose2d(2, 4, 3, stride=2, output_padding=1),
    lambda nn: nn.MaxPool2d((2, 3), stride=1, padding=1, dilation=2, ceil_mode=True),
    lambda nn: nn.AvgPool2d(3, 2, 1), lambda nn: nn.AvgPool1d(3),
    lambda nn: nn.AdaptiveAvgPool2d((2, None)),
    lambda nn: nn.BatchNorm2d(3, momentum=None, affine=False), lambda nn: nn.LayerNorm(4),
    lambda nn: nn.GroupNorm(2, 4), lambda nn: nn.Dropout2d(0.2, inplace=True),
    lambda nn: nn.Embedding(10, 3, padding_idx=2, max_norm=1.0, norm_type=1.0,
                            scale_grad_by_freq=True, sparse=True),
    lambda nn: nn.Unflatten(1, (2, 3)), lambda nn: nn.Bilinear(2, 3, 4),
    lambda nn: nn.LeakyReLU(0.2, True), lambda nn: nn.GELU("tanh"), lambda nn: nn.ELU(0.5, True),
    lambda nn: nn.Softplus(), lambda nn: nn.Softmax(dim=1), lambda nn: nn.PReLU(3),
    lambda nn: nn.ModuleDict({"a": nn.ReLU(), "b": nn.Linear(1, 2)}),
    lambda nn: nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1))),
]


@pytest.mark.parametrize("factory", REPRS)
def test_repr_matches_torch(factory):
    assert repr(factory(nn)) == repr(factory(torch.nn))


# -------------------------------------------------------------------------- initialisation
def _bound_stats(t, bound):
    a = t.detach().numpy()
    assert np.abs(a).max() <= bound + 1e-7
    assert np.abs(a).max() > 0.9 * bound  # fills the interval
    assert abs(a.std() - bound / math.sqrt(3)) < 0.05 * bound


def test_layer_initialisation_follows_torch():
    cr.manual_seed(0)
    lin = nn.Linear(400, 300)
    _bound_stats(lin.weight, 1 / math.sqrt(400))
    _bound_stats(lin.bias, 1 / math.sqrt(400))
    conv = nn.Conv2d(16, 64, 5, groups=2)
    _bound_stats(conv.weight, 1 / math.sqrt(8 * 25))
    _bound_stats(conv.bias, 1 / math.sqrt(8 * 25))
    convt = nn.ConvTranspose2d(64, 32, 3)
    _bound_stats(convt.weight, 1 / math.sqrt(32 * 9))
    bil = nn.Bilinear(50, 20, 30)
    _bound_stats(bil.weight, 1 / math.sqrt(50))
    emb = nn.Embedding(500, 40, padding_idx=3)
    w = emb.weight.detach().numpy()
    assert (w[3] == 0).all() and abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02
    bn = nn.BatchNorm2d(5)
    assert (bn.weight.numpy(force=True) == 1).all() and (bn.bias.numpy(force=True) == 0).all()
    assert (bn.running_var.numpy() == 1).all() and bn.num_batches_tracked.item() == 0
    assert lin.weight.dtype == cr.float32
    assert nn.Linear(2, 2, dtype=cr.float64).weight.dtype == cr.float64


def test_init_functions():
    cr.manual_seed(0)
    w = cr.empty(300, 200)
    assert nn.init.xavier_uniform_(w, gain=2.0) is w
    _bound_stats(w, 2.0 * math.sqrt(6 / 500))
    nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    _bound_stats(w, math.sqrt(2) * math.sqrt(3 / 300))
    nn.init.kaiming_normal_(w)
    assert abs(w.numpy().std() - math.sqrt(2 / (1 + 0.01 ** 2)) / math.sqrt(200)) < 0.002
    nn.init.xavier_normal_(w)
    assert abs(w.numpy().std() - math.sqrt(2 / 500)) < 0.002
    nn.init.normal_(w, 2.0, 0.5)
    assert abs(w.numpy().mean() - 2.0) < 0.01 and abs(w.numpy().std() - 0.5) < 0.01
    nn.init.uniform_(w, -3.0, -1.0)
    assert w.numpy().min() >= -3.0 and w.numpy().max() <= -1.0
    nn.init.trunc_normal_(w, std=2.0, a=-1.0, b=1.5)
    assert w.numpy().min() >= -1.0 and w.numpy().max() <= 1.5
    for fn, val in ((nn.init.zeros_, 0), (nn.init.ones_, 1)):
        fn(w)
        assert (w.numpy() == val).all()
    nn.init.constant_(w, 0.25)
    assert (w.numpy() == 0.25).all()
    q = cr.empty(5, 3, 2)
    nn.init.orthogonal_(q, gain=3.0)
    m = q.numpy().reshape(5, 6)
    np.testing.assert_allclose(m @ m.T, 9 * np.eye(5), atol=1e-5)
    e = nn.init.eye_(cr.empty(3, 4))
    np.testing.assert_array_equal(e.numpy(), np.eye(3, 4))
    d = nn.init.dirac_(cr.empty(4, 2, 3, 3), groups=2)
    np.testing.assert_array_equal(d.numpy(), torch.nn.init.dirac_(torch.empty(4, 2, 3, 3),
                                                                   groups=2).numpy())
    for name, param in [("linear", None), ("relu", None), ("tanh", None), ("leaky_relu", 0.2),
                        ("selu", None), ("conv2d", None), ("sigmoid", None)]:
        assert nn.init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        nn.init.calculate_gain("softmax")
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(cr.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        nn.init.kaiming_uniform_(w, mode="fan_avg")
    # in-place on a parameter that requires grad, and the same seed gives the same numbers
    p = nn.Parameter(cr.empty(3, 3))
    cr.manual_seed(5)
    a = nn.init.normal_(p).detach().numpy().copy()
    cr.manual_seed(5)
    np.testing.assert_array_equal(nn.init.normal_(p).detach().numpy(), a)


# -------------------------------------------------------------------------- modes, dropout
def test_batchnorm_running_stats_over_steps_and_eval():
    for momentum in (0.1, None):
        cm, tm = pair(lambda nn, m=momentum: nn.BatchNorm2d(3, momentum=m))
        for step in range(3):
            x = arr((4, 3, 2, 2), np.float32, seed=step) * (step + 1) + step
            cm(cr.tensor(x))
            tm(torch.tensor(x))
        for name in ("running_mean", "running_var"):
            np.testing.assert_allclose(getattr(cm, name).numpy(), getattr(tm, name).numpy(),
                                       rtol=1e-5)
        assert cm.num_batches_tracked.item() == 3
        cm.eval()
        tm.eval()
        run_both(cm, tm, [arr((2, 3, 2, 2), np.float32, seed=9)], np.float32)
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(cr.randn(2, 3))


def test_batchnorm_then_inplace_relu():
    """The normalised output may be overwritten in place (ReLU(inplace=True)): backward must
    not read it back."""
    x = arr((4, 3, 2, 2), np.float64)
    grads = []
    for lib, nnm in ((cr, nn), (torch, torch.nn)):
        model = nnm.Sequential(nnm.BatchNorm2d(3, affine=False), nnm.ReLU(inplace=True)).double()
        t = lib.tensor(x, requires_grad=True)
        (model(t) ** 2 * lib.tensor(x)).sum().backward()
        grads.append(t.grad.numpy().copy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10)


def test_dropout_modules_train_and_eval():
    cr.manual_seed(0)
    x = cr.randn(100, 200)
    drop = nn.Dropout(0.25)
    y = drop(x).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y[kept], x.numpy()[kept] / 0.75, rtol=1e-6)
    drop.eval()
    assert drop(x) is x
    d2 = nn.Dropout2d(0.5)
    z = d2(cr.ones(200, 30, 2, 2)).numpy().reshape(200, 30, 4)
    assert ((z == 0).all(-1) | (z == 2).all(-1)).all()
    d2.eval()
    np.testing.assert_array_equal(d2(cr.ones(2, 3, 2, 2)).numpy(), np.ones((2, 3, 2, 2)))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(-0.1)


def test_layer_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="Invalid padding string"):
        nn.Conv2d(3, 4, 3, padding="full")
    with pytest.raises(ValueError, match="not supported for strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="Only \"zeros\" padding mode"):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(3, 4)
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
        nn.Linear(3, 2)(cr.randn(4, 5))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(cr.randn(2, 3, 4, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Softmax(dim=1)(cr.randn(2, 3))
