"""torch.backends.mps: Apple's GPU backend, absent here as on any CPU-only build."""


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False
