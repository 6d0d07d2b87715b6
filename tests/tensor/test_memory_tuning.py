"""chainrule/_memory.py: glibc's malloc thresholds at import, and the opt-out."""

import subprocess
import sys

import pytest

import chainrule  # noqa: F401 - imports _memory
from chainrule import _memory


def _glibc() -> bool:
    import platform

    return sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not _glibc(), reason="the thresholds are glibc's")
def test_importing_chainrule_raises_the_thresholds():
    assert _memory.TUNED is True


@pytest.mark.parametrize("value, tuned", [("0", "False"), ("1", str(_glibc()))])
def test_the_environment_variable_keeps_glibcs_defaults(value, tuned):
    code = "import chainrule._memory as m; print(m.TUNED)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"CHAINRULE_MALLOC_TUNING": value, "PATH": ""}, check=True)
    assert out.stdout.strip() == tuned
