"""docs/ops.md is generated from the ops' docstrings, and must not drift from them."""

from __future__ import annotations

import re
import subprocess
import sys

from scripts import gen_ops_doc


def test_ops_md_is_up_to_date():
    on_disk = gen_ops_doc.OUTPUT.read_text(encoding="utf-8") if gen_ops_doc.OUTPUT.exists() \
        else ""
    assert on_disk == gen_ops_doc.render(), \
        "docs/ops.md is out of date: run python scripts/gen_ops_doc.py"


def test_every_op_has_a_derivation_docstring():
    missing = gen_ops_doc.missing_derivations()
    assert not missing, f"op classes whose docstring has no 'backward:' line: {missing}"

    from chainrule.autograd.function import Op

    class Bare(Op):
        """Doubles x (but says nothing about its gradient)."""

    class OneLine(Op):
        """-x.      backward: gx = -g"""

    class NoDoc(Op):
        pass

    assert gen_ops_doc.missing_derivations([Bare, OneLine, NoDoc]) == [
        f"{__name__}.{f}.<locals>.{c}" for f, c in
        [("test_every_op_has_a_derivation_docstring", "Bare"),
         ("test_every_op_has_a_derivation_docstring", "NoDoc")]]


def test_every_op_states_its_jvp_rule_or_why_it_has_none():
    """The docstring's jvp: line goes with a jvp method; an op without one says why."""
    from chainrule.autograd.function import Function, Op

    missing = gen_ops_doc.missing_jvp_rules()
    assert not missing, f"op classes with no 'jvp:' line and no jvp_reason: {missing}"
    for op in gen_ops_doc.all_ops():
        has_rule = op.jvp is not Function.jvp
        reason = getattr(op, "jvp_reason", "")
        assert has_rule != bool(reason), f"{op.__name__}: a jvp rule and a jvp_reason, or neither"
        if has_rule:
            assert gen_ops_doc._JVP_LINE.search(gen_ops_doc.docstring(op)), op.__name__

    class Stated(Op):
        """-x.      backward: gx = -g      jvp: t_out = -tx"""

    class Reasoned(Op):
        """x.      backward: gx = g"""

        jvp_reason = "no tangent is defined for this op"

    class Silent(Op):
        """x.      backward: gx = g"""

    assert gen_ops_doc.missing_jvp_rules([Stated, Reasoned, Silent]) == [
        f"{__name__}.test_every_op_states_its_jvp_rule_or_why_it_has_none.<locals>.Silent"]
    assert gen_ops_doc.derivation(Reasoned).endswith(
        "jvp:       none (no tangent is defined for this op)")
    assert gen_ops_doc.derivation(Stated) == gen_ops_doc.docstring(Stated)


def test_reference_covers_every_family_and_op():
    text = gen_ops_doc.render()
    ops = gen_ops_doc.all_ops()
    assert len(ops) > 50
    for module, title, family_ops in gen_ops_doc.families():
        assert f"## {title}" in text
        for op in family_ops:
            assert f"### {op.__name__}\n" in text
            assert f"`{module.__name__}.{op.__name__}` - `{gen_ops_doc.signature(op)}`" in text
    # the derivation itself is there, and the signature is forward's minus ctx
    from chainrule.ops.elementwise import Div

    assert "backward:  ga = sum_to(g / b, a.shape)" in text
    assert "jvp:       t_out = ta / b - tb * out / b" in text
    for op in ops:  # an op without a jvp rule says why in the reference
        if getattr(op, "jvp_reason", ""):
            assert "jvp:       none (" in gen_ops_doc.derivation(op)
            assert gen_ops_doc.derivation(op) in text
    assert gen_ops_doc.signature(Div) == "forward(a, b)"
    # every link in the table of contents has its anchor
    for anchor in re.findall(r"\]\(#([\w-]+)\)", text):
        assert f'<a id="{anchor}"></a>' in text, anchor
    assert gen_ops_doc.render() == text  # deterministic


def test_script_runs_both_ways(tmp_path):
    root = gen_ops_doc.ROOT
    for cmd in ([sys.executable, "scripts/gen_ops_doc.py", "--check"],
                [sys.executable, "-m", "scripts.gen_ops_doc", "--check"]):
        done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "up to date" in done.stdout


def test_check_mode_reports_a_stale_file(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "ops.md"
    stale.write_text("# old\n")
    monkeypatch.setattr(gen_ops_doc, "OUTPUT", stale)
    assert gen_ops_doc.main(["--check"]) == 1
    out = capsys.readouterr().out
    assert "docs/ops.md is out of date: run python scripts/gen_ops_doc.py" in out
    monkeypatch.setattr(gen_ops_doc, "ROOT", tmp_path)
    assert gen_ops_doc.main([]) == 0
    assert stale.read_text() == gen_ops_doc.render()
    assert gen_ops_doc.main(["--check"]) == 0


# A rule is mathematics: how the code makes it fast (a NumPy shortcut) is not part of it.
_SHORTCUT = re.compile(r"numpy|hot path|fast path|no graph is recorded", re.IGNORECASE)


def _rule_sections(doc: str) -> list[str]:
    """The lines of a derivation's backward:, jvp: and saved: sections (continuations
    included)."""
    lines, keep = [], False
    for line in doc.splitlines():
        label = re.match(r"(\w+):\s", line)
        if label:
            keep = label.group(1) in ("backward", "jvp", "saved")
        elif not line.startswith(" "):
            keep = False
            lines += re.findall(r"\s(?:backward|jvp|saved):\s.*", line)  # a one-line docstring
        if keep:
            lines.append(line)
    return lines


def _shortcuts(doc: str) -> list[str]:
    return [line for line in _rule_sections(doc) if _SHORTCUT.search(line)]


def test_rule_sections_are_found_and_shortcuts_flagged():
    doc = ("Some op.\n\nforward:   out = f(x)\nbackward:  gx = g * f'(x)\n"
           "           NumPy directly when no graph is recorded (the hot path)\n"
           "saved:     x\nedges:     x == 0 gives inf as NumPy does\nNumPy's loops are slow.")
    assert _rule_sections(doc) == [
        "backward:  gx = g * f'(x)",
        "           NumPy directly when no graph is recorded (the hot path)", "saved:     x"]
    assert _shortcuts(doc) == ["           NumPy directly when no graph is recorded (the hot path)"]
    assert _rule_sections("-x.      backward: gx = -g") == [" backward: gx = -g"]
    assert _shortcuts("e ** x.  backward: gx = g * out      jvp: t_out = tx * out (NumPy)") != []
    assert _shortcuts("x.\n\njvp:       t_out = tx\n           on the fast path") == [
        "           on the fast path"]
    assert _shortcuts("1 / x.   backward: gx = -g * out * out     saved: out") == []
    assert _shortcuts("x.   backward: gx = g (a fast path when ...)") != []


def test_rules_show_mathematics_only():
    """What explain and docs/ops.md show as an op's rule names no NumPy fast path."""
    from chainrule.tools.explain import rule_of

    ops = gen_ops_doc.all_ops()
    in_docstrings = {op.__name__: _shortcuts(gen_ops_doc.docstring(op)) for op in ops}
    assert not {k: v for k, v in in_docstrings.items() if v}
    assert not [op.__name__ for op in ops if _SHORTCUT.search(rule_of(op))]
    blocks = re.findall(r"```text\n(.*?)```", gen_ops_doc.render(), re.DOTALL)
    assert len(blocks) == len(ops)
    assert not [line for block in blocks for line in _shortcuts(block)]
