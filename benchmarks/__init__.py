"""Side-by-side speed of chainrule and PyTorch: `python -m benchmarks` or `chainrule bench`."""
