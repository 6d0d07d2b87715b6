"""chainrule.nn: modules, parameters, initialisers and functional layers (torch.nn).

    import chainrule.nn as nn
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
"""

from chainrule.nn import functional, init, utils  # noqa: F401
from chainrule.nn.modules import *  # noqa: F403
from chainrule.nn.modules import __all__ as _modules_all
from chainrule.nn.parameter import Buffer, Parameter

__all__ = ["Buffer", "Parameter", "functional", "init", "utils", *_modules_all]
