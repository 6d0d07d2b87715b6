"""Optimizer: parameter groups, per-parameter state, state_dict, zero_grad, step hooks.

`Optimizer.step` visits every parameter that has a gradient and calls the subclass's
`_update(p, g, group)`, which changes the parameter's ndarray in place (`p.array`) in
PyTorch's single-tensor (foreach=False) order of operations, so results agree with
`torch.optim` to rounding. Updates record no graph: they touch arrays, not Tensors, and `step`
bumps each parameter's version counter so that a backward which saved the old values notices
the change. What several optimizers share is written once here: the checks of lr, eps, betas,
momentum and weight_decay (`_check_options`), the state made on a parameter's first step
(`_state`), maximize and weight decay (`_prepare_grad`), and the in-place arithmetic they
have in common (`_lerp`, `_mix_square`, `_sub_square`).

State tensors carry torch's names (`momentum_buffer`, `exp_avg`, `step`, ...) so that
`state_dict()` has the shape PyTorch users know:

    {'state': {0: {'step': tensor(3.), 'exp_avg': tensor([...]), ...}, 1: {...}},
     'param_groups': [{'lr': 0.001, ..., 'params': [0, 1]}]}
"""

from __future__ import annotations

import functools
import numbers
import warnings
from collections import OrderedDict, defaultdict
from copy import deepcopy
from itertools import chain

import numpy as np

from chainrule import dtypes
from chainrule._hooks import RemovableHandle, add_hook, new_args_and_kwargs
from chainrule.autograd.grad_mode import enable_grad
from chainrule.tensor import Tensor

__all__ = [
    "Optimizer",
    "register_optimizer_step_post_hook",
    "register_optimizer_step_pre_hook",
    "required",
]


class _RequiredParameter:
    """A default that a parameter group must override (torch.optim.optimizer.required)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

_global_pre_hooks: OrderedDict = OrderedDict()
_global_post_hooks: OrderedDict = OrderedDict()


def register_optimizer_step_pre_hook(hook) -> RemovableHandle:
    """hook(optimizer, args, kwargs) runs before every optimizer's step."""
    return add_hook(_global_pre_hooks, hook)


def register_optimizer_step_post_hook(hook) -> RemovableHandle:
    """hook(optimizer, args, kwargs) runs after every optimizer's step."""
    return add_hook(_global_post_hooks, hook)


def _hooked_step(step):
    """Wrap a subclass's `step` with the step hooks, as torch's profile_hook_step does: a hook
    sees step's arguments with the optimizer first, hook(optimizer, (optimizer, *args),
    kwargs), and a pre-hook may return new ones in that form."""

    @functools.wraps(step)
    def wrapper(*args, **kwargs):
        self = args[0]
        for hook in chain(_global_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                args, kwargs = new_args_and_kwargs(result, str(step))
        out = step(*args, **kwargs)
        # read by lr_scheduler to warn about scheduler.step() before optimizer.step()
        self._opt_called = True
        for hook in chain(self._optimizer_step_post_hooks.values(), _global_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    wrapper._hooked = True
    return wrapper


def _typename(obj) -> str:
    return obj.type() if isinstance(obj, Tensor) else type(obj).__qualname__


def _param_list(params) -> list:
    """A group's 'params' as a list: one Tensor, or an ordered iterable (a set's order
    changes between runs, so it is refused)."""
    if isinstance(params, Tensor):
        return [params]
    if isinstance(params, set):
        raise TypeError(
            "optimizer parameters need to be organized in ordered collections, but the "
            "ordering of tensors in sets will change between runs. Please use a list "
            "instead."
        )
    return list(params)


def _split_named(params: list) -> tuple[list, list]:
    """(tensors, names) from a list whose items are tensors or (name, tensor) pairs."""
    tensors, names = [], []
    for param in params:
        if isinstance(param, tuple):
            names.append(param[0])
            tensors.append(param[1])
        else:
            tensors.append(param)
    return tensors, names


def _check_tensors(tensors: list) -> None:
    for param in tensors:
        if not isinstance(param, Tensor):
            raise TypeError("optimizer can only optimize Tensors, but one of the params "
                            "is " + _typename(param))
        if not (param.is_leaf or param.retains_grad):
            raise ValueError("can't optimize a non-leaf Tensor")


def _scalar_dtype() -> np.dtype:
    """dtype of the `step` counters: float64 under set_default_dtype(float64), else float32."""
    return np.dtype(np.float64) if dtypes.get_default_dtype() == dtypes.float64 \
        else np.dtype(np.float32)


def _step_tensor(value: float = 0.0) -> Tensor:
    return Tensor._make(np.array(value, dtype=_scalar_dtype()), None, 0, False)


def _zeros_like(a: np.ndarray) -> Tensor:
    return Tensor._make(np.zeros_like(a), None, 0, False)


def _value(x):
    """A hyper-parameter as a Python number (a 1-element Tensor lr is allowed, as in torch)."""
    if isinstance(x, Tensor):
        if x.numel() != 1:
            raise ValueError(f"a Tensor hyper-parameter must have 1 element, got shape "
                             f"{list(x.shape)}")
        return x.item()
    return x


def _check_nonneg(what: str, value) -> None:
    """Raise torch's `ValueError("Invalid <what>: <value>")` unless 0 <= value."""
    v = _value(value)
    if not isinstance(v, numbers.Real) or isinstance(v, bool):
        raise TypeError(f"{what} must be a real number, got {type(value).__name__} {value!r}")
    if not 0.0 <= v:
        raise ValueError(f"Invalid {what}: {value}")


def _check_lr(lr) -> None:
    """torch's two learning-rate checks: a Tensor lr has 1 element, and 0 <= lr."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    _check_nonneg("learning rate", lr)


def _check_betas(betas) -> tuple:
    """torch's check of the Adam family's betas: 0 <= beta < 1 for both entries."""
    betas = tuple(betas)
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas}")
    for i, beta in enumerate(betas):
        if not 0.0 <= _value(beta) < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
    return betas


def _lr_value(lr):
    """lr for the update arithmetic. A Tensor lr stays in its own dtype (a NumPy scalar), as
    torch computes with the 0-d tensor: a float32 lr makes lr * (...) float32 there too."""
    return lr.array[()] if isinstance(lr, Tensor) else lr


_FLAGS = ("foreach", "fused", "capturable", "differentiable")


def _check_flags(name: str, *, foreach=None, fused=None, capturable=False,
                 differentiable=False) -> None:
    """Accept torch's implementation switches; refuse the ones chainrule cannot honour."""
    if differentiable:
        raise NotImplementedError(
            f"{name}(differentiable=True) is not supported: chainrule's optimizers update "
            f"parameter arrays in place without recording a graph; leave differentiable=False"
        )
    if capturable:
        raise ValueError(
            f"{name}(capturable=True) is for CUDA graph capture and chainrule runs on the CPU "
            f"only; leave capturable=False"
        )
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


class Optimizer:
    """Base class of all optimizers.

    params: an iterable of Tensors, of (name, Tensor) pairs, or of dicts (parameter groups,
    each with a 'params' entry and optional per-group options). `defaults` fills the options a
    group leaves out.
    """

    # state entries kept as 0-d tensors of the default float dtype (see _after_load)
    _scalar_state: tuple = ("step",)

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        self._scratch: dict = {}
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_hooked", False):
            cls.step = _hooked_step(step)

    def __repr__(self) -> str:
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    def __getstate__(self) -> dict:
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_optimizer_step_pre_hooks", OrderedDict())
        self.__dict__.setdefault("_optimizer_step_post_hooks", OrderedDict())
        self.__dict__.setdefault("_scratch", {})
        # checkpoints from older versions may lack options added since
        for group in self.param_groups:
            for name, default in self.defaults.items():
                if default is not required:
                    group.setdefault(name, default)
        self._after_load()

    def _after_load(self) -> None:
        """Old checkpoints keep `step` (and the other `_scalar_state` entries) as numbers;
        make them the 0-d tensors torch uses."""
        for s in self.state.values():
            if isinstance(s, dict):
                for key in self._scalar_state:
                    if key in s and not isinstance(s[key], Tensor):
                        s[key] = _step_tensor(float(s[key]))

    def _check_options(self, defaults: dict, *nonnegative: str) -> None:
        """torch's checks and messages for the options optimizers share, where `defaults` has
        them: lr, eps, betas (made a tuple), momentum, weight_decay and each option named in
        `nonnegative` (>= 0), then the implementation flags. Called before any parameter is
        read, as torch checks its arguments first."""
        _check_lr(defaults["lr"])
        if "eps" in defaults:
            _check_nonneg("epsilon value", defaults["eps"])
        if "betas" in defaults:
            defaults["betas"] = _check_betas(defaults["betas"])
        for key in ("momentum", "weight_decay", *nonnegative):
            if key in defaults:
                _check_nonneg(f"{key} value", defaults[key])
        _check_flags(type(self).__name__, **{key: value for key, value in defaults.items()
                                             if key in _FLAGS})

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict) -> None:
        """Add a group (a dict with 'params' and optional options) to `param_groups`."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        if "params" not in param_group:
            raise KeyError("a parameter group must have a 'params' entry, e.g. "
                           "{'params': model.parameters(), 'lr': 0.1}")
        tensors, names = _split_named(_param_list(param_group["params"]))
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some "
                                 "param names are missing")
            param_group["param_names"] = names
        _check_tensors(tensors)
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        if len({id(p) for p in tensors}) != len(tensors):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, "
                "this will cause an error; see github.com/pytorch/pytorch/issues/40967 for "
                "more information", stacklevel=3)
        self._check_disjoint(param_group)
        self.param_groups.append(param_group)

    def _check_disjoint(self, param_group: dict) -> None:
        """A new group shares no parameter with the groups before it, and names its
        parameters exactly when they do."""
        seen: set[int] = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {txt} to the optimizer")
        if any(id(p) in seen for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")

    # ------------------------------------------------------------------ gradients
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's `.grad`: to None (default), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if g.grad_fn is not None:
                    g.detach_()
                else:
                    g.requires_grad = False
                if g.array.flags.writeable:
                    g.array.fill(0)
                else:  # an expanded (read-only) gradient someone assigned
                    g.array = np.zeros(g.array.shape, g.array.dtype)
                g._version[0] += 1

    def _grads(self, group: dict, name: str) -> list:
        """(param, grad array) for the group's parameters that have a gradient."""
        out = []
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            if g.array.shape != p.array.shape:
                raise RuntimeError(
                    f"{name}.step: a parameter of shape {list(p.shape)} has a gradient of "
                    f"shape {list(g.shape)}; .grad must have its parameter's shape"
                )
            out.append((p, g.array))
        return out

    def _buffers(self, p: Tensor, n: int = 2) -> list:
        """n scratch arrays shaped like p, reused across steps (not part of the state).

        They are kept in Tensors, as every array the library holds between steps, so that
        `chainrule.compile` sees each read and write of them (it records `.array` reads)."""
        bufs = self._scratch.get(p)
        a = p.array
        if bufs is None or bufs[0].array.shape != a.shape or bufs[0].array.dtype != a.dtype:
            bufs = self._scratch[p] = []
        while len(bufs) < n:
            bufs.append(Tensor._make(np.empty_like(a), None, 0, False))
        return [b.array for b in bufs[:n]]

    @staticmethod
    def _closure(closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _state(self, p: Tensor, *zeros: str, **scalars: float) -> dict:
        """p's state, with this step counted in `step`. It is filled on p's first step in
        torch's order: `step` (a 0-d counter from 0), a 0-d tensor of the counter's dtype per
        entry of `scalars` (name=initial value), then an array of zeros shaped like p per name
        in `zeros`."""
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            for name, value in scalars.items():
                state[name] = _step_tensor(value)
            for name in zeros:
                state[name] = _zeros_like(p.array)
        state["step"].array += 1
        return state

    @staticmethod
    def _prepare_grad(g: np.ndarray, a: np.ndarray, group: dict, lr, out: np.ndarray,
                      tmp: np.ndarray) -> np.ndarray:
        """The gradient an update reads, from g and the parameter's array a (torch's order):
            g = -g                               if maximize
            a = a * (1 - lr * weight_decay)      if decoupled_weight_decay (AdamW's form)
            g = g + weight_decay * a             elif weight_decay != 0    (L2)
        The result is g itself or `out`; `tmp` is scratch; both are shaped like a."""
        if group["maximize"]:
            g = np.negative(g, out=out)
        wd = _value(group.get("weight_decay", 0))
        if wd != 0:
            if group.get("decoupled_weight_decay", False):
                a *= 1 - lr * wd
            else:
                np.multiply(a, wd, out=tmp)
                g = np.add(g, tmp, out=out)
        return g

    @_hooked_step
    def step(self, closure=None):
        """Update the parameters once: `_update(p, g, group)` for each parameter p that has
        a gradient (g its array), then bump p's version counter. closure() re-evaluates the
        loss first; its value is returned."""
        loss = self._closure(closure)
        for group in self.param_groups:
            for p, g in self._grads(group, type(self).__name__):
                self._update(p, g, group)
                p._version[0] += 1
        return loss

    def _update(self, p: Tensor, g: np.ndarray, group: dict) -> None:
        """One parameter's update, in place on p.array: each optimizer writes its own."""
        raise NotImplementedError(f"{type(self).__name__} must define step() or _update()")

    # ------------------------------------------------------------------ hooks
    def register_step_pre_hook(self, hook) -> RemovableHandle:
        """hook(optimizer, args, kwargs) -> None or (args, kwargs), run before step(); args
        are step's positional arguments with the optimizer first, as in torch."""
        return add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook) -> RemovableHandle:
        """hook(optimizer, args, kwargs), run after step()."""
        return add_hook(self._optimizer_step_post_hooks, hook)

    # ------------------------------------------------------------------ state_dict
    def state_dict(self) -> dict:
        """{'state': {index: {name: Tensor}}, 'param_groups': [{..., 'params': [index]}]}.

        Parameters are numbered in group order; the state tensors are the live ones (as in
        torch: save or copy the dict before stepping on if a snapshot is wanted).
        """
        index: dict[int, int] = {}
        start = 0

        def pack(group: dict) -> dict:
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack(g) for g in self.param_groups]
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v
                 for k, v in self.state.items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a dict made by `state_dict()`: groups and parameter counts must match.

        State tensors are copied (converted to each parameter's dtype; `step` keeps its own),
        so the loaded optimizer shares no memory with the dict it came from.
        """
        if not isinstance(state_dict, dict) or "state" not in state_dict \
                or "param_groups" not in state_dict:
            raise ValueError("load_state_dict expects a dict with 'state' and 'param_groups' "
                             "entries, as made by Optimizer.state_dict()")
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)}) than the optimizer ({len(groups)})"
            )
        for i, (g, s) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group: group {i} has {len(s['params'])} parameters in the "
                    f"state dict and {len(g['params'])} in the optimizer"
                )
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def cast(param: Tensor, value, key=None):
            if isinstance(value, Tensor) or (hasattr(value, "__array__")
                                             and not isinstance(value, (int, float, bool))):
                # arrays from elsewhere (NumPy, a torch checkpoint) become Tensors too
                arr = np.asarray(value.array if isinstance(value, Tensor) else value)
                dt = arr.dtype if key == "step" or param.array.dtype.kind != "f" \
                    else param.array.dtype
                return Tensor._make(np.array(arr, dtype=dt, copy=True), None, 0, False)
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return value

        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = cast(id_map[k], v)
            else:
                state[k] = v

        param_groups = []
        for g, ng in zip(groups, saved_groups):
            ng["params"] = g["params"]
            if "param_names" in g and "param_names" not in ng:
                ng["param_names"] = g["param_names"]
            param_groups.append(ng)
        self.__setstate__({"state": state, "param_groups": param_groups})


def _lerp(out: np.ndarray, end: np.ndarray, weight: float, tmp: np.ndarray) -> None:
    """out = lerp(out, end, weight) in place, in torch's two-branch form.

    |weight| < 0.5:  out + weight * (end - out)        (exact at weight = 0)
    otherwise:       end - (end - out) * (1 - weight)  (exact at weight = 1)
    """
    np.subtract(end, out, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        out += tmp
    else:
        tmp *= 1 - weight
        np.subtract(end, tmp, out=out)


def _mix_square(v: np.ndarray, g: np.ndarray, beta: float, tmp: np.ndarray) -> None:
    """v = beta * v + (1 - beta) * g * g in place: a running average of the squared gradient
    (torch's v.mul_(beta).addcmul_(g, g, value=1 - beta))."""
    v *= beta
    np.multiply(g, 1 - beta, out=tmp)
    tmp *= g
    v += tmp


_SPLIT = {np.dtype(np.float64): 134217729.0, np.dtype(np.float32): 4097.0}  # 2**ceil(p/2) + 1


def _sub_square(v: np.ndarray, m: np.ndarray, out: np.ndarray, t1: np.ndarray,
                t2: np.ndarray, t3: np.ndarray) -> np.ndarray:
    """out = v - m * m with one rounding, as torch's fused addcmul(v, m, m, value=-1).

    Centered RMSprop takes sqrt(v - m*m) where the two nearly cancel; rounding m*m first
    would leave the difference with few correct digits. Dekker's exact product does not:
        p = fl(m*m),  m = hi + lo (Veltkamp split),  e = ((hi*hi - p) + 2*hi*lo) + lo*lo
    gives m*m = p + e exactly, and v - p is exact when v and p are within a factor of 2.
    """
    np.multiply(m, m, out=out)
    np.multiply(m, _SPLIT.get(m.dtype, 134217729.0), out=t1)
    np.subtract(t1, m, out=t2)
    np.subtract(t1, t2, out=t1)          # hi
    np.subtract(m, t1, out=t2)           # lo
    np.multiply(t1, t1, out=t3)
    t3 -= out
    t1 *= t2
    t1 *= 2
    t3 += t1
    t2 *= t2
    t3 += t2                             # e
    np.subtract(v, out, out=out)
    out -= t3
    return out
