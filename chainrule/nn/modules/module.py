"""Module: the base of every layer, as `torch.nn.Module`.

Assigning a Parameter, a Module or a registered buffer to an attribute files it in
`_parameters`, `_modules` or `_buffers` (in assignment order); reading the attribute looks it up
there. Everything else (parameters(), state_dict(), train(), to(), repr, hooks) walks those
three dictionaries, recursively through the submodules.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from chainrule import dtypes
from chainrule._hooks import RemovableHandle, add_hook, new_args_and_kwargs
from chainrule.autograd import grad_mode
from chainrule.nn.parameter import Buffer, Parameter
from chainrule.tensor import Tensor, _row_major


class _IncompatibleKeys(NamedTuple):
    """What load_state_dict returns: the keys it expected but did not get, and the reverse."""

    missing_keys: list
    unexpected_keys: list

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, " \
               f"unexpected_keys={self.unexpected_keys})"

    __str__ = __repr__


def _check_initialised(store, what: str) -> None:
    """Parameters and submodules live in dicts that Module.__init__ makes."""
    if store is None:
        raise AttributeError(f"cannot assign {what} before Module.__init__() call "
                             f"(call super().__init__() first in your __init__)")


def _set_none_only(store: dict, name: str, value, what: str, expected: str) -> None:
    """An existing parameter or child module can be replaced by its own kind (handled by the
    caller) or by None, which keeps its place in `store`."""
    if value is not None:
        raise TypeError(f"cannot assign '{_typename(value)}' as {what} '{name}' "
                        f"({expected} or None expected)")
    store[name] = None


def _typename(value) -> str:
    if isinstance(value, Tensor):
        return "chainrule.Tensor"
    return type(value).__module__ + "." + type(value).__qualname__ \
        if type(value).__module__ != "builtins" else type(value).__qualname__


def _addindent(s: str, spaces: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _check_name(name, kind: str, module) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got: {name}')


class Module:
    """Base class for all layers and models; subclass it and define `forward`.

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)
            def forward(self, x):
                return self.fc(x)
    """

    training: bool
    _version = 1

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments: "
                            f"Module.__init__ takes no arguments (args={args}, kwargs={kwargs})")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = {}
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_pre_hooks_with_kwargs"] = {}
        d["_forward_hooks"] = OrderedDict()
        d["_forward_hooks_with_kwargs"] = {}
        d["_forward_hooks_always_called"] = {}
        d["_backward_hooks"] = OrderedDict()
        d["_backward_pre_hooks"] = OrderedDict()

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  f'"forward" function')

    # --------------------------------------------------------------------- calling
    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if not (d["_forward_hooks"] or d["_forward_pre_hooks"] or d["_backward_hooks"]
                or d["_backward_pre_hooks"]):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args, kwargs):
        for hook_id, hook in list(self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    args, kwargs = new_args_and_kwargs(result, "forward pre-hook")
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        bw = None
        if self._backward_hooks or self._backward_pre_hooks:
            from chainrule.nn.modules._hooks import BackwardHook

            bw = BackwardHook(self)
            args = bw.setup_input(args)
        try:
            output = self.forward(*args, **kwargs)
        except BaseException:
            for hook_id, hook in list(self._forward_hooks.items()):
                if hook_id in self._forward_hooks_always_called:
                    if hook_id in self._forward_hooks_with_kwargs:
                        hook(self, args, kwargs, None)
                    else:
                        hook(self, args, None)
            raise
        for hook_id, hook in list(self._forward_hooks.items()):
            if hook_id in self._forward_hooks_with_kwargs:
                result = hook(self, args, kwargs, output)
            else:
                result = hook(self, args, output)
            if result is not None:
                output = result
        if bw is not None:
            output = bw.setup_output(output)
        return output

    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """hook(module, args) -> None or new args; with_kwargs: hook(module, args, kwargs)."""
        return add_hook(self._forward_pre_hooks, hook, prepend,
                         (self._forward_pre_hooks_with_kwargs, with_kwargs))

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """hook(module, args, output) -> None or a new output (run after forward)."""
        return add_hook(self._forward_hooks, hook, prepend,
                         (self._forward_hooks_with_kwargs, with_kwargs),
                         (self._forward_hooks_always_called, always_call))

    def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """hook(module, grad_input, grad_output) -> None or new grad_input, run when the
        gradients with respect to the module's tensor inputs have been computed."""
        return add_hook(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """hook(module, grad_output) -> None or new grad_output, run before the module's
        backward."""
        return add_hook(self._backward_pre_hooks, hook, prepend)

    # --------------------------------------------------------------------- registration
    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        params, modules, buffers = d.get("_parameters"), d.get("_modules"), d.get("_buffers")
        if isinstance(value, Parameter):
            _check_initialised(params, "parameters")
            self._remove_everywhere(name, keep="_parameters")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            _set_none_only(params, name, value, "parameter", "chainrule.nn.Parameter")
        elif isinstance(value, Module):
            _check_initialised(modules, "module")
            self._remove_everywhere(name, keep="_modules")
            modules[name] = value
        elif modules is not None and name in modules:
            _set_none_only(modules, name, value, "child module", "chainrule.nn.Module")
        elif isinstance(value, Buffer) or (buffers is not None and name in buffers):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                f"(chainrule.nn.Buffer, chainrule.Tensor or None expected)")
            if isinstance(value, Buffer):
                persistent = value.persistent
            else:
                persistent = name not in self._non_persistent_buffers_set
            self._remove_everywhere(name, keep="_buffers")
            self.register_buffer(name, value, persistent)
        else:
            object.__setattr__(self, name, value)

    def _remove_everywhere(self, name: str, keep: str) -> None:
        """Forget `name` everywhere but in `keep`, where the new value replaces it in place
        (so that re-assigning a layer keeps its position in the order)."""
        d = self.__dict__
        d.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            if key != keep:
                d[key].pop(name, None)
        if keep != "_buffers":
            d["_non_persistent_buffers_set"].discard(name)

    def __getattr__(self, name: str):
        d = self.__dict__
        if "_parameters" in d:
            if name in d["_parameters"]:
                return d["_parameters"][name]
            if name in d["_buffers"]:
                return d["_buffers"][name]
            if name in d["_modules"]:
                return d["_modules"][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if name in d.get(key, ()):
                del d[key][name]
                d["_non_persistent_buffers_set"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = itertools.chain(dir(type(self)), self.__dict__, self._parameters, self._modules,
                               self._buffers)
        return sorted(k for k in set(keys) if not k[0].isdigit())

    def register_parameter(self, name: str, param) -> None:
        """Add a Parameter (or None) under `name`; it joins parameters() and state_dict()."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(name, "parameter", self)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is None:
            self._parameters[name] = None
            return
        if not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            f"(chainrule.nn.Parameter or None required)")
        if param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             f"parameters must be created explicitly. To express '{name}' as a "
                             f"function of another Tensor, compute the value in the forward() "
                             f"method.")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Add a Tensor (or None) that is state but not learnable (e.g. running_mean);
        persistent buffers are part of state_dict()."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(name, "buffer", self)
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            f"(chainrule.Tensor or None required)")
        if isinstance(tensor, (Buffer, Parameter)):
            plain = Tensor._make(tensor.array, None, 0, tensor.requires_grad
                                 if isinstance(tensor, Parameter) else False)
            tensor = plain
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module) -> None:
        """Add a child module under `name` (as `self.name = module`)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        _check_name(name, "module", self)
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The submodule at a dotted path such as 'features.0'."""
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not isinstance(mod, Module) or item not in mod._modules:
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}`")
            mod = mod._modules[item]
        return mod

    def get_parameter(self, target: str) -> Parameter:
        return self._get_member(target, "_parameters", "an nn.Parameter")

    def get_buffer(self, target: str) -> Tensor:
        return self._get_member(target, "_buffers", "a buffer")

    def _get_member(self, target: str, store: str, what: str):
        """The entry of `store` that the dotted path `target` names, e.g. 'fc.weight'."""
        path, _, name = target.rpartition(".")
        members = getattr(self.get_submodule(path), store)
        if name not in members:
            raise AttributeError(f"`{name}` is not {what}")
        return members[name]

    # --------------------------------------------------------------------- traversal
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """(dotted name, module) for this module and every descendant, depth first."""
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        memo = set()
        for name, module in self._modules.items():
            if module is not None and module not in memo:
                memo.add(module)
                yield name, module

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, store: str, prefix: str, recurse: bool, remove_duplicate: bool):
        """(dotted name, value) of each module's `store` (_parameters or _buffers)."""
        memo = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, value in getattr(mod, store).items():
                if value is None or (remove_duplicate and id(value) in memo):
                    continue
                if remove_duplicate:
                    memo.add(id(value))
                yield mod_prefix + ("." if mod_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True):
        """(dotted name, Parameter) pairs: 'fc.weight', '0.bias', ... (shared ones once)."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn) -> Module:
        """Call fn on every submodule (children first) and then on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # --------------------------------------------------------------------- modes, grads
    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None (default) or to zeros in place."""
        for p in self.parameters():
            g = p.grad
            if g is None:
                continue
            if set_to_none:
                p.grad = None
            elif g.grad_fn is not None or not g.array.flags.writeable:
                p.grad = Tensor._make(np.zeros_like(g.array), None, 0, False)
            else:
                g.requires_grad = False
                g.array[...] = 0
                g._version[0] += 1

    # --------------------------------------------------------------------- dtype
    def _apply(self, fn) -> Module:
        """Convert every parameter and buffer with fn(array) -> array, in place (the Parameter
        objects stay the same, so optimizers built before still hold them)."""
        for module in self.children():
            module._apply(fn)
        for p in self._parameters.values():
            if p is None:
                continue
            new = fn(p.array)
            if new is not p.array:
                p.array = new
                if p.grad is not None:
                    p.grad = Tensor._make(fn(p.grad.array), None, 0, False)
        for name, b in self._buffers.items():
            if b is not None:
                new = fn(b.array)
                if new is not b.array:
                    self._buffers[name] = Tensor._make(new, None, 0, b.requires_grad)
        return self

    def to(self, *args, **kwargs) -> Module:
        """to(dtype), to(device), to(tensor), to(device, dtype): floating parameters and
        buffers take the dtype; 'cpu' is the only device."""
        target = kwargs.pop("dtype", None)
        dev = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        _row_major(kwargs.pop("memory_format", None), "Module.to()")
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                target = a.dtype
            elif isinstance(a, dtypes.dtype) or a in (float, int, bool):
                target = a
            else:
                dev = a
        if dev is not None:
            from chainrule._args import check_device

            check_device(dev, "Module.to()")
        if target is None:
            return self
        np_dt = dtypes.to_numpy_dtype(target)
        if np_dt.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired "
                            f"dtype={target}")
        return self._apply(lambda a: a.astype(np_dt) if a.dtype.kind == "f" and a.dtype != np_dt
                           else a)

    def float(self) -> Module:
        return self.to(dtypes.float32)

    def double(self) -> Module:
        return self.to(dtypes.float64)

    def half(self) -> Module:
        return self.to(dtypes.float16)

    def type(self, dst_type) -> Module:
        return self.to(dst_type)

    def cpu(self) -> Module:
        return self

    def cuda(self, device=None) -> Module:
        raise RuntimeError("chainrule runs on the CPU only; remove .cuda() or use .to('cpu')")

    def share_memory(self) -> Module:
        return self

    # --------------------------------------------------------------------- state
    def _save_to_state_dict(self, destination, prefix: str, keep_vars: bool) -> None:
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()

    def state_dict(self, *, destination=None, prefix: str = "", keep_vars: bool = False):
        """An OrderedDict name -> tensor of all parameters and persistent buffers, with
        PyTorch's key names ('0.weight', 'bn.running_mean', ...). The tensors are detached
        and share memory with the module's."""
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        persistent = {k: v for k, v in self._buffers.items()
                      if k not in self._non_persistent_buffers_set}
        local_state = {k: v for k, v in itertools.chain(self._parameters.items(),
                                                        persistent.items()) if v is not None}
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if isinstance(value, Tensor):
                array = value.array
            elif isinstance(value, np.ndarray) or hasattr(value, "__array__"):
                array = np.asarray(value)
            else:
                error_msgs.append(f'While copying the parameter named "{key}", expected a Tensor '
                                  f'or an array from checkpoint but received {type(value)}')
                continue
            if param.array.ndim == 0 and array.shape == (1,):
                array = array.reshape(())
            if array.shape != param.array.shape:
                from chainrule.tensor import Size

                error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{Size(array.shape)} from checkpoint, the shape in current "
                                  f"model is {Size(param.array.shape)}.")
                continue
            if assign:
                if name in self._parameters:
                    new = Parameter._make_as(array.astype(param.array.dtype, copy=False)
                                          if array.dtype != param.array.dtype and
                                          array.dtype.kind != "f" else array,
                                          None, 0, param.requires_grad)
                    self._parameters[name] = new
                else:
                    self._buffers[name] = Tensor._make(array, None, 0, False)
                continue
            with grad_mode.no_grad():
                np.copyto(param.array, array, casting="unsafe")
                param._version[0] += 1
        if strict:
            for key in state_dict:
                if not key.startswith(prefix):
                    continue
                rest = key[len(prefix):].split(".", 1)
                if len(rest) > 1:
                    if rest[0] not in self._modules:
                        unexpected_keys.append(key)
                elif rest[0] not in local_state:
                    unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy values from a state dict (Tensors or NumPy arrays) into the parameters and
        buffers. Returns (missing_keys, unexpected_keys); with strict=True either list being
        non-empty raises RuntimeError. A shape mismatch always raises, naming the key and
        both shapes."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing, unexpected, errors = [], [], []
        state_dict = OrderedDict(state_dict)
        meta = {"assign_to_params_buffers": assign}

        def load(module, local, prefix=""):
            module._load_from_state_dict(local, prefix, meta, True, missing, unexpected, errors)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    load(child, {k: v for k, v in local.items() if k.startswith(child_prefix)},
                         child_prefix)

        load(self, state_dict)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)

    # --------------------------------------------------------------------- printing
    def extra_repr(self) -> str:
        """The text inside `Name(...)`; layers override it (e.g. 'in_features=4, ...')."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _addindent(repr(module), 2)
                       for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __setstate__(self, state) -> None:
        self.__dict__.update(state)
