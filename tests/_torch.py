"""PyTorch, the test oracle: skipped when absent on a developer's machine, required in CI."""

import os

import pytest

if os.environ.get("CI", "").lower() == "true":
    import torch  # noqa: F401 - CI must have the oracle: an ImportError fails the run
else:
    torch = pytest.importorskip("torch")

torch.set_num_threads(1)
