"""torch.backends.cudnn: settable flags (read back as set) and no cuDNN library."""

enabled = True
deterministic = False
benchmark = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    return None
