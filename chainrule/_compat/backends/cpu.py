"""torch.backends.cpu: the one backend chainrule has (NumPy underneath)."""


def get_cpu_capability() -> str:
    return "DEFAULT"
