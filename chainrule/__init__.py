"""chainrule: a readable reverse-mode autograd engine on NumPy with the PyTorch API.

    import chainrule as torch

The namespace mirrors `torch`: tensor factories, dtypes, math functions, grad modes,
manual_seed, autograd, linalg, nn, optim, utils.data, save/load.
"""

import sys as _sys

from chainrule import (
    _memory,  # noqa: F401 - glibc's malloc thresholds for large arrays
    autograd,
    dtypes,
    linalg,
)
from chainrule._compat.device import get_default_device, set_default_device
from chainrule._format import get_printoptions, set_printoptions
from chainrule._legacy import (  # the older API: typed classes (below), thread counts
    TYPED_TENSORS,
    TorchVersion,
    get_num_interop_threads,
    get_num_threads,
    set_num_interop_threads,
    set_num_threads,
    tensortype,
    version_module,
)
from chainrule.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from chainrule.creation import (
    arange,
    as_tensor,
    asarray,
    bernoulli,
    channels_last,
    channels_last_3d,
    contiguous_format,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    layout,
    linspace,
    logspace,
    memory_format,
    multinomial,
    normal,
    ones,
    ones_like,
    preserve_format,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    sparse_coo,
    sparse_csr,
    strided,
    tensor,
    zeros,
    zeros_like,
)
from chainrule.dtypes import (
    bool,
    double,
    dtype,
    finfo,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from chainrule.functions import *  # noqa: F403 - the torch.* math functions
from chainrule.functions import (
    broadcast_shapes,
    broadcast_tensors,
    cat,
    cdist,
    column_stack,
    concat,
    concatenate,
    dstack,
    hstack,
    is_tensor,
    meshgrid,
    stack,
    vstack,
    where,
)
from chainrule.linalg import legacy_svd as svd
from chainrule.ops.linalg import vdot
from chainrule.random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from chainrule.serialization import load, save
from chainrule.tensor import Size, Tensor, device

globals().update(TYPED_TENSORS)  # FloatTensor, LongTensor, ... (chainrule/_legacy.py)

# chainrule's own version; it compares as torch.__version__ does (with strings or tuples)
__version__ = TorchVersion("0.1.0")
version = _sys.modules["chainrule.version"] = version_module(__version__)


def is_floating_point(t) -> bool:
    return t.is_floating_point()


def numel(t) -> int:
    return t.numel()


def result_type(a, b) -> dtype:
    from chainrule.dtypes import from_numpy_dtype
    from chainrule.dtypes import result_type as _rt

    return from_numpy_dtype(_rt(a, b))


def promote_types(a: dtype, b: dtype) -> dtype:
    import numpy as _np

    from chainrule.dtypes import category, from_numpy_dtype

    ca, cb = category(a.np), category(b.np)
    # PyTorch: the higher category wins whatever the widths (int32, float16 -> float16)
    if ca != cb:
        return a if ca > cb else b
    return from_numpy_dtype(_np.promote_types(a.np, b.np))


def compile(model=None, **options):
    """torch.compile: trace once, replay as straight-line NumPy (chainrule/compiler)."""
    from chainrule.compiler import compile as _compile

    return _compile(model, **options)


def einsum(equation, *operands):
    from chainrule.ops.einsum import einsum as _einsum

    return _einsum(equation, *operands)


_SUBMODULES = ("nn", "optim", "utils", "datasets", "labs", "distributions", "testing", "func",
               "compiler")
# torch's device modules, answered as PyTorch's CPU build answers them (chainrule._compat)
_COMPAT = ("cuda", "backends", "accelerator")


def __getattr__(name: str):
    # `torch.nn`, `torch.optim`, ...: imported on first use, so `import chainrule` stays quick
    import importlib

    if name in _SUBMODULES or name in _COMPAT:
        path = f"chainrule.{name}" if name in _SUBMODULES else f"chainrule._compat.{name}"
        module = importlib.import_module(path)
        from chainrule._compat import name_modules

        name_modules()  # under `chainrule run`: its modules name missing attributes as torch's
        return module
    raise AttributeError(f"module 'chainrule' has no attribute {name!r} "
                         f"(chainrule does not provide torch.{name})")


def load_ipython_extension(ipython) -> None:
    """`%load_ext chainrule`: from then on the notebook's `import torch` gives chainrule."""
    from chainrule._compat import install

    install()


# The tools (anomaly, strict, explain, check_op, viz) sit above the core: imported last, they
# publish their names on chainrule.autograd; `chainrule.viz` is the graph-drawing tool.
from chainrule import tools  # noqa: E402
from chainrule.tools import viz  # noqa: E402

_sys.modules["chainrule.viz"] = viz
