"""What nn.Module and optim.Optimizer share about hooks (as torch.utils.hooks): the handle
every register_*_hook returns, and the check of what a pre-hook that sees keyword arguments
returns."""

from __future__ import annotations


class RemovableHandle:
    """Returned by the register_*_hook methods: `handle.remove()` unregisters the hook from
    every dict it was put in (a hook dict and, for a module, its flag dicts)."""

    _next_id = 0

    def __init__(self, hooks_dict: dict, *extra_dicts):
        self._dicts = (hooks_dict,) + extra_dicts
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        for d in self._dicts:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def add_hook(hooks: dict, hook, prepend: bool = False, *flags: tuple) -> RemovableHandle:
    """Register hook in the OrderedDict `hooks` (first when prepend). Each flag is (a dict of
    hook ids, whether this hook is in it), as a module keeps with_kwargs and always_call; the
    handle removes the hook from `hooks` and from every flag dict."""
    handle = RemovableHandle(hooks, *(ids for ids, _ in flags))
    hooks[handle.id] = hook
    for ids, on in flags:
        if on:
            ids[handle.id] = True
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def new_args_and_kwargs(result, hook_name: str) -> tuple:
    """The (new_args, new_kwargs) a pre-hook returned, or torch's RuntimeError naming the hook
    when it returned something else (None, meaning no change, is the caller's to skip)."""
    if not (isinstance(result, tuple) and len(result) == 2):
        raise RuntimeError(f"{hook_name} must return None or a tuple of (new_args, new_kwargs), "
                           f"but got {result}.")
    return result
