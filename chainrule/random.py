"""Randomness: one seeded NumPy Generator behind manual_seed / rand / randn / ... (decision 7).

The library never draws from NumPy's global state, so a seed fixes every number chainrule
makes. The numbers are not PyTorch's (its Mersenne-Twister streams are its own); tests that
compare with PyTorch copy initial values across instead.
"""

from __future__ import annotations

import numpy as np


class Generator:
    """A random-number stream, as `torch.Generator`: `Generator().manual_seed(0)`."""

    def __init__(self, device: str = "cpu"):
        if str(device) != "cpu":
            raise ValueError(f"Generator: chainrule runs on the CPU only, got device={device!r}")
        self._seed = int(np.random.SeedSequence().entropy % (2**63))
        self._np = np.random.default_rng(self._seed)

    def manual_seed(self, seed) -> Generator:
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
        self._seed = int(seed)
        self._np = np.random.default_rng(self._seed & 0xFFFFFFFFFFFFFFFF)
        return self

    def seed(self) -> int:
        """Re-seed from fresh entropy and return the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % (2**63)))
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return self._np.bit_generator.state

    def set_state(self, state: dict) -> Generator:
        self._np.bit_generator.state = state
        return self

    @property
    def device(self) -> str:
        return "cpu"


default_generator = Generator().manual_seed(0)


def manual_seed(seed) -> Generator:
    """Seed the default generator (every factory without `generator=` draws from it)."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    default_generator.set_state(state)


def numpy_rng(generator: Generator | None = None) -> np.random.Generator:
    """The NumPy Generator to draw from: the given one's, or the default's."""
    if generator is None:
        return default_generator._np
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a chainrule.Generator, got {type(generator).__name__}")
    return generator._np
