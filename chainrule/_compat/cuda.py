"""torch.cuda as a CPU-only PyTorch install has it: no GPU, so scripts take their CPU branch.

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")   # -> cpu

The queries answer as PyTorch's CPU build does (`is_available()` False, `device_count()` 0);
seeding is accepted and touches nothing (PyTorch queues the seed for a GPU that never comes,
so the CPU generator's stream is unchanged); what needs a GPU (`synchronize`,
`current_device`, `get_device_name`, ...) raises AssertionError, PyTorch's type for it.
"""

from __future__ import annotations


def _no_gpu(what: str):
    raise AssertionError(f"Torch not compiled with CUDA enabled: chainrule runs on the CPU "
                         f"only, so torch.cuda.{what} has no GPU to use")


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    int(seed)  # PyTorch checks it is a number; the seed waits for a GPU there is not


def manual_seed_all(seed: int) -> None:
    int(seed)


def seed() -> None:
    pass


def seed_all() -> None:
    pass


def empty_cache() -> None:
    pass  # nothing cached: as PyTorch's CPU build, a harmless no-op


def memory_allocated(device=None) -> int:
    return 0


def max_memory_allocated(device=None) -> int:
    return 0


def memory_reserved(device=None) -> int:
    return 0


def max_memory_reserved(device=None) -> int:
    return 0


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def get_arch_list() -> list:
    return []


def synchronize(device=None) -> None:
    _no_gpu("synchronize()")


def current_device() -> int:
    _no_gpu("current_device()")


def get_device_name(device=None) -> str:
    _no_gpu("get_device_name()")


def get_device_properties(device=None):
    _no_gpu("get_device_properties()")


def initial_seed() -> int:
    _no_gpu("initial_seed()")


def get_rng_state(device="cuda"):
    _no_gpu("get_rng_state()")


def get_device_capability(device=None):
    _no_gpu("get_device_capability()")


def mem_get_info(device=None):
    _no_gpu("mem_get_info()")


def reset_peak_memory_stats(device=None) -> None:
    _no_gpu("reset_peak_memory_stats()")
