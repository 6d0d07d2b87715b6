"""chainrule.utils, as torch.utils: `data` (Dataset, samplers, DataLoader) and `benchmark`
(Timer, Measurement)."""

from chainrule.utils import benchmark, data

__all__ = ["benchmark", "data"]
