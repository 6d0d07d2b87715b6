"""autograd.explain (also with accumulate=True) and autograd.paths: the recorded gradients are
the ones backward accumulates, undone broadcasts are named, and the path contributions add up
to each leaf's gradient."""

import json
import math

import numpy as np
import pytest

import chainrule
from chainrule import autograd, viz
from tests._functions import double_function
from tests._torch import torch


def close(t, expected):
    np.testing.assert_allclose(t.array if hasattr(t, "array") else t, expected, rtol=1e-6,
                               atol=1e-6)


def sent_total(e, name):
    """The sum of every gradient the explanation saw going to `name`."""
    parts = [s.grad.tensor.array for s in e.sent_to(name)]
    return sum(parts[1:], parts[0])


def broadcast_add():
    rng = np.random.default_rng(0)
    xa, ba, ca = (rng.standard_normal(s).astype(np.float32) for s in ((3, 4), (4,), (3, 4)))
    x = chainrule.tensor(xa, requires_grad=True)
    b = chainrule.tensor(ba, requires_grad=True)
    loss = ((x + b) * chainrule.tensor(ca)).sum()
    return (xa, ba, ca), x, b, loss


def test_broadcast_add_records_the_gradients_and_the_summed_axis():
    (xa, ba, ca), x, b, loss = broadcast_add()
    e = autograd.explain(loss, params={"x": x, "b": b}, accumulate=True)
    [to_b] = e.sent_to("b")
    assert to_b.summed_axes == (0,) and to_b.summed_from == (3, 4)
    assert to_b.broadcast_text() == "summed axis 0 of (3, 4)"
    [to_x] = e.sent_to("x")
    assert to_x.summed_from is None and to_x.broadcast_text() == "-"
    close(sent_total(e, "b"), b.grad.array)  # what was sent is what .grad holds
    close(sent_total(e, "x"), x.grad.array)
    close(e.grads["b"].tensor, b.grad.array)
    assert e.grads["b"].values == b.grad.array.tolist()  # 4 elements: values kept
    assert e.grads["x"].values is None  # 12 elements: shape only
    # and .grad is PyTorch's
    tx = torch.tensor(xa, requires_grad=True)
    tb = torch.tensor(ba, requires_grad=True)
    ((tx + tb) * torch.tensor(ca)).sum().backward()
    close(b.grad, tb.grad.numpy())
    close(x.grad, tx.grad.numpy())
    assert "summed axis 0 of (3, 4)" in str(e)


def test_stretched_and_prepended_axes():
    x = chainrule.ones(2, 3, 4, requires_grad=True)
    c = chainrule.ones(3, 1, requires_grad=True)
    d = chainrule.ones(1, 4, requires_grad=True)
    e = autograd.explain(((x + c) * d).sum(), params={"x": x, "c": c, "d": d})
    [to_c] = e.sent_to("c")
    assert to_c.summed_axes == (0, 2) and to_c.summed_from == (2, 3, 4)
    [to_d] = e.sent_to("d")
    assert to_d.summed_axes == (0, 1) and to_d.summed_from == (2, 3, 4)
    close(e.grads["c"].tensor, np.full((3, 1), 8.0))
    close(e.grads["d"].tensor, np.full((1, 4), 12.0))


def test_matmul_explained_without_touching_grad():
    rng = np.random.default_rng(1)
    xa, wa = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    x = chainrule.tensor(xa, requires_grad=True)
    W = chainrule.tensor(wa, requires_grad=True)
    loss = (x @ W).tanh().sum()
    e = autograd.explain(loss, params={"x": x, "W": W})
    assert x.grad is None and W.grad is None  # explain() collects, as autograd.grad
    assert [s.node for s in e] == ["SumBackward0", "TanhBackward0", "MmBackward0"]
    mm = e.step("MmBackward0")
    assert "g @ b.mT" in mm.rule and "a.mT @ g" in mm.rule
    assert [(s.input, s.to, s.summed_from) for s in mm.sent] == [(0, "x", None), (1, "W", None)]
    assert mm.upstream[0].shape == (3, 2) and mm.upstream[0].values == mm.upstream[0].tensor \
        .array.tolist()
    gx, gw = autograd.grad(loss, [x, W], retain_graph=True)
    close(sent_total(e, "x"), gx.array)
    close(sent_total(e, "W"), gw.array)
    loss.backward()  # the graph was retained: backward still works, and agrees
    close(x.grad, sent_total(e, "x"))
    close(W.grad, sent_total(e, "W"))
    tx, tw = torch.tensor(xa, requires_grad=True), torch.tensor(wa, requires_grad=True)
    (tx @ tw).tanh().sum().backward()
    close(W.grad, tw.grad.numpy())


def test_worked_example_trace():
    loss, names = viz.worked_example()
    e = autograd.explain(loss, params=names)
    assert e.root == "loss" and e.root_info.values == 1.0
    assert [s.node for s in e] == ["MseLossBackward0", "MulBackward0#0", "AddBackward0",
                                   "MulBackward0#2", "MulBackward0#1"]
    first = e[0]
    assert first.index == 1 and first.output == "loss" and first.upstream[0].values == 1.0
    assert "sum_to(g * 2 d * scale" in first.rule
    assert [(s.to, s.grad.values) for s in first.sent] == [("MulBackward0#0", -10.0)]
    assert {k: g.values for k, g in e.grads.items()} == {"v": -50.0, "w0": -20.0, "w1": -30.0}
    mul = e.step("MulBackward0#0")
    assert [(s.to, s.grad.values) for s in mul.sent] == [("v", -50.0), ("AddBackward0", -10.0)]
    # the table names the same nodes as the drawing
    drawn = {n.name for n in viz.graph(loss, params=names).nodes if n.kind == "op"}
    assert drawn == {s.node for s in e}


def test_explain_with_accumulate_is_a_normal_backward():
    loss, names = viz.worked_example()
    e = autograd.explain(loss, accumulate=True)
    assert [names[k].grad.item() for k in ("w0", "w1", "v")] == [-20.0, -30.0, -50.0]
    assert set(e.grads) == {"leaf0", "leaf1", "leaf2"}  # unnamed: numbered in walk order
    assert e.grads["leaf0"].values == -50.0  # v is met first
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()  # a normal backward frees the graph
    loss, names = viz.worked_example()
    assert loss.backward() is None  # the plain call is unchanged


def test_explain_with_inputs():
    loss, names = viz.worked_example()
    e = autograd.explain(loss, inputs=[names["w1"]], params=names)
    assert list(e.grads) == ["w1"] and e.grads["w1"].values == -30.0
    e = autograd.explain(loss, inputs={"u": names["u"]})
    assert e.grads["u"].values == -10.0


def test_rule_of_a_function_without_a_docstring():
    class Twice(double_function(chainrule)):
        pass  # a user's Function with no docstring

    x = chainrule.ones(2, requires_grad=True)
    e = autograd.explain(Twice.apply(x).sum())
    assert e.step("TwiceBackward").rule == "(no 'backward:' line in Twice's docstring)"
    close(e.grads["leaf0"].tensor, [2.0, 2.0])


def test_json_round_trip_and_nan():
    (_, _, _), x, b, loss = broadcast_add()
    e = autograd.explain(loss, params={"x": x, "b": b})
    d = e.to_dict()
    assert json.loads(e.to_json()) == d
    back = autograd.Explanation.from_json(e.to_json())
    assert back.to_dict() == d and str(back) == str(e)
    y = chainrule.tensor([-1.0, 4.0], requires_grad=True)
    e = autograd.explain(y.sqrt().sum(), params={"y": y})
    text = e.to_json()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert '"nan"' in text
    g = autograd.Explanation.from_json(text).grads["y"].values
    assert math.isnan(g[0]) and g[1] == 0.25


def test_html_escapes_everything():
    x = chainrule.ones(2, requires_grad=True)
    e = autograd.explain((x * 3).sum(), params={"<script>alert(1)</script>&": x})
    page = e._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;&amp;" in page
    assert page.startswith("<div") and "<table>" in page and "MulBackward0" in page
    assert "sum_to(g * b, a.shape)" in page


def test_text_table_is_aligned():
    loss, names = viz.worked_example()
    text = autograd.explain(loss, params=names).table()
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("#"))
    rule = lines[header + 1]
    starts = [m.start() for m in __import__("re").finditer(r"-+", rule)]
    for col in ("node", "local rule", "sent to", "gradient sent", "broadcast undone"):
        assert lines[header].index(col) in starts  # each header sits on its column
    assert "MulBackward0#0" in text and "w0: () float32  = -20." in text


# ---------------------------------------------------------------------------- paths
def test_paths_of_the_worked_example():
    loss, names = viz.worked_example()
    [p] = autograd.paths(loss, names["w0"], params=names)
    assert p.nodes == ["MseLossBackward0", "MulBackward0#0", "AddBackward0", "MulBackward0#1", "w0"]
    assert p.inputs == [0, 1, 0, 1] and p.contribution.item() == -20.0
    assert str(p) == ("MseLossBackward0 -[0]-> MulBackward0#0 -[1]-> AddBackward0 -[0]-> "
                      "MulBackward0#1 -[1]-> w0   contribution: -20.")
    [p] = autograd.paths(loss, names["v"], params=names)
    assert p.contribution.item() == -50.0
    [p] = autograd.paths(loss, names["u"], params=names)  # an intermediate tensor
    assert p.nodes[-1] == "u" and p.contribution.item() == -10.0
    loss.backward()
    assert names["w0"].grad.item() == -20.0  # paths() kept the graph


def test_paths_of_a_diamond_sum_to_the_gradient():
    rng = np.random.default_rng(2)
    x = chainrule.tensor(rng.standard_normal(3), requires_grad=True)
    h = x * 2.0
    loss = (h * h.sin()).sum()  # h reaches the loss along two paths
    found = autograd.paths(loss, x, params={"x": x, "h": h})
    assert [p.nodes for p in found] == [
        ["SumBackward0", "MulBackward0#0", "MulBackward0#1", "x"],
        ["SumBackward0", "MulBackward0#0", "SinBackward0", "MulBackward0#1", "x"],
    ]
    total = found[0].contribution.array + found[1].contribution.array
    loss.backward()
    close(total, x.grad.array)
    xa = x.detach().array
    close(found[0].contribution, 2 * np.sin(2 * xa))  # d/dh of h * sin(h) holding sin(h)
    close(found[1].contribution, 2 * 2 * xa * np.cos(2 * xa))  # ... holding h


def test_x_times_x_has_two_paths_told_apart_by_slot():
    x = chainrule.tensor([3.0], requires_grad=True)
    found = autograd.paths((x * x).sum(), x)
    assert [p.inputs for p in found] == [[0, 0], [0, 1]]
    assert [p.contribution.item() for p in found] == [3.0, 3.0]


def test_paths_to_an_unused_leaf_and_path_blowup():
    x = chainrule.ones(2, requires_grad=True)
    other = chainrule.ones(2, requires_grad=True)
    assert autograd.paths((x * 2).sum(), other) == []
    y = x
    for _ in range(14):  # each step doubles the paths: 2**14 > 10,000
        y = y + y
    with pytest.raises(RuntimeError, match=r"16384 paths .* max_paths=10000"):
        autograd.paths(y.sum(), x)
    y = x
    for _ in range(6):
        y = y + y
    found = autograd.paths(y.sum(), x)
    assert len(found) == 64
    close(sum(p.contribution.array for p in found), [64.0, 64.0])


def test_paths_need_the_saved_tensors():
    x = chainrule.ones(2, requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        autograd.paths(loss, x)
