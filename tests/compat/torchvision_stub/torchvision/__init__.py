"""A stand-in for torchvision when running tests/compat/programs under real PyTorch on a
machine without torchvision (PyPI's torchvision needs a newer torch than the oracle's 2.13).

It holds only the transforms the programs use, written as torchvision writes them (ToTensor:
uint8 / 255 in float32, channels first; Normalize: subtract, then divide), so the PyTorch
run computes what torchvision would. test_programs.py puts it on the path only when the real
torchvision cannot be imported.
"""

from torchvision import transforms  # noqa: F401
