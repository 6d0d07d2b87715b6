"""The layering of the library: the core never imports a tool; tools watch it as observers."""

from __future__ import annotations

import ast
import pathlib

import pytest

import chainrule
from chainrule.autograd import observers

PACKAGE = pathlib.Path(chainrule.__file__).parent
CORE = [PACKAGE / "tensor.py", *sorted((PACKAGE / "autograd").glob("*.py")),
        *sorted((PACKAGE / "ops").glob("*.py"))]
TOOL_MODULES = ("anomaly", "strict", "explain", "check_op", "viz")


def imported_modules(path: pathlib.Path) -> list[str]:
    """Every module an import statement in `path` names (module level and inside functions)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def is_tool(module: str) -> bool:
    parts = module.split(".")
    return parts[:2] == ["chainrule", "tools"] or (
        parts[0] == "chainrule" and any(p in TOOL_MODULES for p in parts[1:]))


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_module_imports_no_tool(path):
    tools = [m for m in imported_modules(path) if is_tool(m)]
    assert tools == [], f"{path.name} imports tool modules {tools}: tools observe the core"


def test_the_import_checker_sees_tool_imports(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from chainrule.tools import explain\n"
                   "from chainrule import viz\n")
    assert sorted(m for m in imported_modules(bad) if is_tool(m)) == [
        "chainrule.tools", "chainrule.tools.explain", "chainrule.viz"]


def test_no_observer_is_registered_outside_a_tool_scope():
    assert observers.forward == [] and observers.backward == [] and observers.node == []
    with chainrule.autograd.detect_anomaly():
        assert observers.forward and observers.node
    assert observers.forward == [] and observers.node == []


def test_node_observers_nest_first_registered_outermost():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    calls = []

    def watcher(tag):
        def observe(node, buf, run):
            calls.append(("enter", tag, node.name()))
            grads = run()
            calls.append(("leave", tag))
            return grads
        return observe

    outer = observers.register(node=watcher("outer"))
    inner = observers.register(node=watcher("inner"))
    try:
        (x * 3).sum().backward()
    finally:
        outer.remove()
        inner.remove()
    assert calls[:4] == [("enter", "outer", "SumBackward0"), ("enter", "inner", "SumBackward0"),
                         ("leave", "inner"), ("leave", "outer")]
    assert x.grad.tolist() == [3.0, 3.0]
    assert observers.node == []


def test_forward_observer_sees_every_op_and_whether_it_was_recorded():
    seen = []
    reg = observers.register(forward=lambda ctx, outs, args: seen.append(
        (ctx._fn.__name__, bool(ctx._edges))))
    try:
        x = chainrule.tensor([1.0], requires_grad=True)
        y = x * 2
        with chainrule.no_grad():
            y + 1
    finally:
        reg.remove()
    assert ("Mul", True) in seen and ("Add", False) in seen


def test_register_rejects_an_unknown_event():
    with pytest.raises(ValueError, match="unknown event 'backwards'"):
        observers.register(backwards=print)
