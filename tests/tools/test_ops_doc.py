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
