"""chainrule.viz: the graph of seed 004's worked example as DOT text, SVG and PNG; names from
params and Modules; show_values; save(); the `chainrule graph` command."""

import contextlib
import io
import os
import re
import shutil

import pytest

import chainrule
from chainrule import nn, viz
from chainrule.cli import main


@pytest.fixture
def needs_dot():
    """Graphviz's `dot`: skipped when absent on a developer's machine, required in CI."""
    if shutil.which("dot") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Graphviz's `dot` is not installed in CI (apt-get install graphviz)")
        pytest.skip("Graphviz's `dot` is not installed (apt-get install graphviz)")


def worked_example():
    loss, names = viz.worked_example()
    return loss, {k: names[k] for k in ("w0", "w1", "v")}, names


def ids(g):
    return {n.name: n.id for n in g.nodes}


GRAD_EDGES = {
    ("MseLossBackward0", "MulBackward0#0"),  # loss = mse(f, 10), f = v * u
    ("MulBackward0#0", "v"),
    ("MulBackward0#0", "AddBackward0"),  # u = a*w0 + b*w1
    ("AddBackward0", "MulBackward0#1"),
    ("AddBackward0", "MulBackward0#2"),
    ("MulBackward0#1", "w0"),
    ("MulBackward0#2", "w1"),
}


def test_worked_example_nodes_and_edges_in_the_dot_text():
    loss, params, _ = worked_example()
    g = viz.graph(loss, params=params)
    names = ids(g)
    ops = {n.name for n in g.nodes if n.kind == "op"}
    assert ops == {"MseLossBackward0", "MulBackward0#0", "MulBackward0#1", "MulBackward0#2",
                   "AddBackward0"}
    assert {n.name for n in g.nodes if n.kind == "leaf"} == {"w0", "w1", "v"}
    assert {(a, b) for a, b, kind in g.edge_names if kind == "grad"} == GRAD_EDGES
    dot = g.dot
    assert dot.startswith("digraph chainrule {") and dot.rstrip().endswith("}")
    for a, b in GRAD_EDGES:  # every edge is in the text, between the right boxes
        assert re.search(rf"^  {names[a]} -> {names[b]};$", dot, re.M), (a, b)
    assert len(re.findall(r"^  n\d+ -> [nl]\d+;$", dot, re.M)) == len(GRAD_EDGES)
    # op boxes: name, output shape and dtype; leaves by name
    assert f'{names["AddBackward0"]} [label="AddBackward0\\n() float32"' in dot
    assert f'{names["w0"]} [label="w0\\n() float32"' in dot
    # the root is marked and points at the loss's node
    root = [n for n in g.nodes if n.root]
    assert len(root) == 1 and root[0].kind == "output"
    assert f"{root[0].id} -> {names['MseLossBackward0']} [penwidth=2];" in dot
    assert g.source == dot


def test_saved_tensors_and_names_of_intermediates():
    loss, _, names = worked_example()
    g = viz.graph(loss, params=names)  # u, f and loss are named too
    assert "MulBackward0#0\nf: () float32" in g.node("MulBackward0#0").label
    assert g.node("loss").root
    saved = {(a, b) for a, b, kind in g.edge_names if kind == "saved"}
    assert ("MulBackward0#0", "saved: v") in saved and ("MulBackward0#0", "saved: u") in saved
    assert ("MseLossBackward0", "saved: f") in saved
    assert "arrowhead=none" in g.dot
    bare = viz.graph(loss, params=names, show_saved=False)
    assert not [n for n in bare.nodes if n.kind == "saved"]


def test_unnamed_leaves_are_numbered_in_walk_order():
    a = chainrule.tensor(2.0)
    w0 = chainrule.tensor(1.0, requires_grad=True)
    v = chainrule.tensor(1.0, requires_grad=True)
    g = viz.graph(v * (a * w0))
    leaves = {n.name: n for n in g.nodes if n.kind == "leaf"}
    assert set(leaves) == {"leaf0", "leaf1"}
    assert ("MulBackward0#0", "leaf0", "grad") in g.edge_names  # v is met first
    assert ("MulBackward0#1", "leaf1", "grad") in g.edge_names


def test_show_values_prints_small_values_and_gradients():
    loss, params, _ = worked_example()
    loss.backward(retain_graph=True)
    g = viz.graph(loss, params=params, show_values=True)
    assert g.node("w0").label == "w0\n() float32\n= 1.\ngrad = -20."
    assert g.node("v").label.endswith("grad = -50.")
    assert "= 25." in g.node("output").label
    big = chainrule.ones(3, 4, requires_grad=True)
    g = viz.graph((big * 2).sum(), params={"big": big}, show_values=True)
    assert g.node("big").label == "big\n(3, 4) float32"  # 12 elements: no values


def test_module_parameter_names():
    chainrule.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    x = chainrule.randn(5, 3)
    loss = model(x).pow(2).mean()
    g = viz.graph(loss, params=model)
    leaves = {n.name for n in g.nodes if n.kind == "leaf"}
    assert leaves == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert g.node("0.weight").shape == (4, 3)
    assert '"0.weight\\n(4, 3) float32"' in g.dot


def test_many_roots_a_leaf_root_and_a_tensor_without_grad():
    x = chainrule.ones(2, requires_grad=True)
    g = viz.graph([x * 2, x.sum()])
    assert [n.name for n in g.nodes if n.root] == ["output0", "output1"]
    g = viz.graph(x, params={"x": x})
    assert g.edge_names == [("x", "x", "output")]
    g = viz.graph(chainrule.ones(2))
    assert len(g.nodes) == 1 and "requires_grad=False" in g.nodes[0].label
    with pytest.raises(TypeError, match="expected a Tensor"):
        viz.graph([1, 2])
    with pytest.raises(TypeError, match="params"):
        viz.graph(x * 2, params={"x": 1.0})


def test_a_deep_chain_is_drawn_without_recursion():
    x = chainrule.ones(1, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    g = viz.graph(y, show_saved=False)
    assert sum(n.kind == "op" for n in g.nodes) == 5000


def test_names_are_escaped_in_dot():
    x = chainrule.ones(1, requires_grad=True)
    g = viz.graph(x * 2, params={'a "quoted"\\name': x})
    assert '"a \\"quoted\\"\\\\name\\n(1,) float32"' in g.dot


def test_svg_and_png_render(needs_dot):
    loss, params, _ = worked_example()
    g = viz.graph(loss, params=params, show_values=True)
    svg = g.svg()
    assert b"<svg" in svg and b"MseLossBackward0" in svg and b"w0" in svg
    assert g.png().startswith(b"\x89PNG\r\n\x1a\n")
    assert g._repr_svg_() == svg.decode()
    bundle = g._repr_mimebundle_()
    assert bundle["image/svg+xml"] == svg.decode() and bundle["text/plain"] == g.dot


def test_without_dot_a_clear_error_and_text_in_jupyter(monkeypatch):
    loss, params, _ = worked_example()
    g = viz.graph(loss, params=params)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        g.svg()
    with pytest.raises(RuntimeError, match="Graphviz"):
        g.png()
    assert g._repr_svg_() is None
    assert g._repr_mimebundle_() == {"text/plain": g.dot}


def test_save_dot_and_gv_need_no_graphviz(tmp_path, monkeypatch):
    loss, params, _ = worked_example()
    g = viz.graph(loss, params=params)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert g.save(tmp_path / "g.dot").read_text() == g.dot
    g.save(tmp_path / "g.gv")
    assert (tmp_path / "g.gv").read_text() == g.dot
    g.save(tmp_path / "g.txt", format="dot")
    with pytest.raises(ValueError, match=r"\.svg or \.png"):
        g.save(tmp_path / "g.pdf")
    with pytest.raises(RuntimeError, match="Graphviz"):
        g.save(tmp_path / "g.svg")
    assert sorted(os.listdir(tmp_path)) == ["g.dot", "g.gv", "g.txt"]  # no temp files left


def test_save_svg_and_png(tmp_path, needs_dot):
    loss, params, _ = worked_example()
    g = viz.graph(loss, params=params)
    assert g.save(tmp_path / "g.svg").read_bytes() == g.svg()
    assert (g.save(str(tmp_path / "g.png"))).read_bytes().startswith(b"\x89PNG")
    assert sorted(os.listdir(tmp_path)) == ["g.png", "g.svg"]


def test_reachable_as_chainrule_viz():
    assert chainrule.viz.graph is viz.graph


def run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_cli_draws_the_worked_example():
    code, out, _ = run_cli(["graph"])
    assert code == 0 and out.startswith("digraph chainrule {")
    for name in ("MseLossBackward0", "MulBackward0#0", "AddBackward0", '"w0', '"w1', '"v\\n'):
        assert name in out


def test_cli_out_file_and_values(tmp_path):
    code, out, _ = run_cli(["graph", "--values", "--out", str(tmp_path / "g.dot")])
    text = (tmp_path / "g.dot").read_text()
    assert code == 0 and out == ""
    assert "grad = -20." in text and "grad = -30." in text and "grad = -50." in text


def test_cli_svg_out(tmp_path, needs_dot):
    code, _, _ = run_cli(["graph", "--out", str(tmp_path / "g.svg")])
    assert code == 0 and b"<svg" in (tmp_path / "g.svg").read_bytes()


def test_cli_expression():
    code, out, _ = run_cli(["graph", "--expr", "((x @ W).relu() ** 2).sum() + (x * y).mean()"])
    assert code == 0
    for name in ("MmBackward0", "ReluBackward0", "MeanBackward0", '"W\\n(3, 2) float32',
                 '"x\\n(2, 3) float32', '"y\\n(2, 3) float32'):
        assert name in out
    code, _, err = run_cli(["graph", "--expr", "x +"])
    assert code == 2 and "could not evaluate --expr: SyntaxError" in err
    code, _, err = run_cli(["graph", "--expr", "3"])
    assert code == 2 and "must give a Tensor" in err


def test_cli_help_says_the_expression_is_python(capsys):
    with pytest.raises(SystemExit):
        main(["graph", "--help"])
    assert "evaluated as Python" in capsys.readouterr().out
