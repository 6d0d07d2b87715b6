"""Tools that watch or read the autograd core: anomaly detection, strict mode, explain, check_op
and graph drawing (viz).

The core (tensor.py, autograd/, ops/) imports none of them. A tool that needs to see ops run or
gradients flow registers an observer (chainrule.autograd.observers); importing this package
publishes the tools' public names on `chainrule.autograd`, where PyTorch users look for them.
"""

from __future__ import annotations

from chainrule import autograd
from chainrule.tools.anomaly import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from chainrule.tools.check_op import check_op
from chainrule.tools.explain import Explanation, Path, explain, paths
from chainrule.tools.strict import StrictModeWarning, is_strict_enabled, strict

_PUBLIC = {
    "detect_anomaly": detect_anomaly,
    "is_anomaly_check_nan_enabled": is_anomaly_check_nan_enabled,
    "is_anomaly_enabled": is_anomaly_enabled,
    "set_detect_anomaly": set_detect_anomaly,
    "check_op": check_op,
    "Explanation": Explanation,
    "Path": Path,
    "explain": explain,
    "paths": paths,
    "StrictModeWarning": StrictModeWarning,
    "is_strict_enabled": is_strict_enabled,
    "strict": strict,
}
for _name, _value in _PUBLIC.items():
    setattr(autograd, _name, _value)
