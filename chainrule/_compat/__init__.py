"""Running unmodified PyTorch programs: `torch` and `torchvision` imports resolve to chainrule.

    chainrule run train.py --epochs 3        # or: python -m chainrule run train.py ...
    %load_ext chainrule                      # in a notebook, before `import torch`

`install()` puts a finder first on `sys.meta_path`. It answers for `torch`, `torch.X...` and
`torchvision...` with the chainrule module of the same path (`torch.nn.functional` is
`chainrule.nn.functional`), or with one of the stand-ins below where the path differs
(`torch.cuda` is `chainrule._compat.cuda`). The module handed back is the very object chainrule
imported, never a second copy, so `torch.nn.Module is chainrule.nn.Module` and `isinstance`
works across both names.

A name chainrule lacks fails where the program asks for it, saying so:
`import torch.fx` raises ModuleNotFoundError "No module named 'torch.fx' (chainrule does not
provide torch.fx)", and `torch.nn.Foo` raises AttributeError "module 'torch.nn' has no attribute
'Foo' (chainrule does not provide torch.nn.Foo)".
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types

# torch paths whose chainrule module lives elsewhere; the longest matching prefix wins, and
# every other `torch.X` is `chainrule.X`.
ALIASES = {
    "torch": "chainrule",
    "torch.cuda": "chainrule._compat.cuda",
    "torch.backends": "chainrule._compat.backends",
    "torch.accelerator": "chainrule._compat.accelerator",
    "torchvision": "chainrule._compat.torchvision",
}


def chainrule_name(torch_name: str) -> str | None:
    """`torch.nn.functional` -> `chainrule.nn.functional`; None for a name not torch's."""
    for prefix in sorted(ALIASES, key=len, reverse=True):
        if torch_name == prefix or torch_name.startswith(prefix + "."):
            return ALIASES[prefix] + torch_name[len(prefix):]
    return None


def torch_name(module_name: str) -> str:
    """The name a program knows a chainrule module by: `chainrule.nn` -> `torch.nn`."""
    for prefix, target in sorted(ALIASES.items(), key=lambda kv: len(kv[1]), reverse=True):
        if module_name == target or module_name.startswith(target + "."):
            return prefix + module_name[len(target):]
    return module_name


class _NamedModule(types.ModuleType):
    """The class a chainrule module takes when a program reaches it as torch: a failed
    attribute lookup (after the module's own `__getattr__`) says chainrule lacks the name."""

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):  # probes such as __path__, __wrapped__
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        full = torch_name(self.__name__)
        raise AttributeError(f"module {full!r} has no attribute {name!r} "
                             f"(chainrule does not provide {full}.{name})")


class _ExistingModule(importlib.abc.Loader):
    """Loads a torch name by handing back the chainrule module already imported."""

    def __init__(self, module: types.ModuleType):
        self.module, self.spec = module, module.__spec__

    def create_module(self, spec):
        return self.module

    def exec_module(self, module) -> None:
        # Already executed when chainrule imported it. The import system has just set
        # __spec__ to the torch-named spec: chainrule's own is put back, so that the module
        # keeps one identity (reload, find_spec and relative imports see `chainrule.X`).
        module.__spec__ = self.spec


class TorchFinder(importlib.abc.MetaPathFinder):
    """Finds `torch...` and `torchvision...` among chainrule's modules."""

    def find_spec(self, fullname, path=None, target=None):
        target_name = chainrule_name(fullname)
        if target_name is None:
            return None
        try:
            found = importlib.util.find_spec(target_name)
        except ModuleNotFoundError:  # a parent of it is missing, or is no package
            found = None
        if found is None:
            raise ModuleNotFoundError(
                f"No module named {fullname!r} (chainrule does not provide {fullname})",
                name=fullname)
        module = importlib.import_module(target_name)
        name_modules()
        is_package = hasattr(module, "__path__")
        return importlib.util.spec_from_loader(fullname, _ExistingModule(module),
                                               is_package=is_package)


def name_modules() -> None:
    """Give every chainrule module imported so far the class that names missing attributes
    by their torch name. Called on install, on each torch import, and when chainrule imports
    a submodule on first use (`torch.nn` reached as an attribute)."""
    if _FINDER not in sys.meta_path:
        return
    for name, module in list(sys.modules.items()):
        if name.startswith("chainrule") and type(module) is types.ModuleType:
            module.__class__ = _NamedModule


_FINDER = TorchFinder()


def install() -> None:
    """Make `import torch` (and its submodules, and torchvision) give chainrule's modules.

    Raises RuntimeError when the real torch is already imported: the two would mix, and a
    tensor from one handed to the other fails far from the cause."""
    loaded = sys.modules.get("torch")
    if loaded is not None and not getattr(loaded, "__name__", "").startswith("chainrule"):
        raise RuntimeError(
            "chainrule cannot stand in for torch: the real torch is already imported in this "
            "process. Load chainrule first (restart the kernel and run `%load_ext chainrule` "
            "before `import torch`, or start the script with `chainrule run`).")
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    import chainrule

    name_modules()
    sys.modules["torch"] = chainrule


def uninstall() -> None:
    """Undo install(): `torch` names are no longer chainrule's (used by the tests)."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name, module in list(sys.modules.items()):
        if getattr(module, "__name__", "").startswith("chainrule"):
            if chainrule_name(name) is not None:
                del sys.modules[name]
            elif type(module) is _NamedModule:
                module.__class__ = types.ModuleType
