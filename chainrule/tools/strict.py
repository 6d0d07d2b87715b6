"""strict(): opt-in hygiene warnings for the three silent autograd mistakes.

    with chainrule.tools.strict(model):         # or @strict(), strict(), strict(optimizer)
        for x, y in loader: ...

Each warning is a `StrictModeWarning` (a UserWarning) that says what went wrong and how to fix
it, shown at the line of your code that triggered it, once per tensor or per line.

1. Double counting. backward() adds into `.grad`. Before it does, each leaf's `.grad` is
   checked against what an earlier backward() of this scope wrote there, when it was not
   reset since (reset: `.grad = None`, or a `.grad` of all zeros - `zero_grad()` in either
   mode, `grad.zero_()`):
     - the earlier backward went through a different graph (the two graphs share no node)
       and the leaf was not changed since: `y.backward(); z.backward()` gives
       `x.grad == dy/dx + dz/dx`, the classic "why did it double". Accumulating over
       micro-batches on purpose is the same pattern: say so with
       `strict(allow_accumulation=True)`.
     - the leaf was updated in place since (an optimizer step, `w -= lr * w.grad`): the new
       gradient is added onto the old weights' gradient. That is reported once an update has
       used the sum (at the next backward(), or when the scope ends) - the forgotten
       `zero_grad()` of a training loop - and not before: a GAN's generator step adds into the
       discriminator's `.grad`, which is reset before the discriminator uses it.
   A second backward through the same graph (`retain_graph=True`), or through graphs that share
   nodes (two losses on one trunk), is deliberate and stays silent.
2. A graph that outlives its iteration. Every recorded op checks its tensor inputs: an input
   whose node, or one of the nodes it was computed from, was already freed by a backward()
   is a tensor kept from an earlier iteration (`running_loss += loss`, a hidden state carried
   across batches, a list of losses). Each new op on it keeps the old graph alive and longer.
   backward() also warns when the graph it walks contains nodes an earlier backward freed.
   Only ops whose output carries a graph on are checked (`loss < best` after backward is fine).
3. A gradient that is silently None. The leaves that requires_grad and took part in a
   recorded op in this scope, plus the parameters given to `strict(params)` (a Module, an
   optimizer, a dict of tensors or a list of them), are expected to get a gradient. One that
   no backward() / autograd.grad() of the scope has reached is reported by the second
   backward() after its first use (a GAN backpropagates through its two models in turn, so
   the first backward alone proves nothing) or when the scope ends: the path from it to the
   loss was cut (.detach(), .item() and a new tensor, an op under no_grad, argmax), or a
   parameter was forgotten in the forward pass.

The state is process-global (like the anomaly flag); scopes nest, and an inner scope's options
apply inside it. Off, the cost is one `is not None` test per recorded op and per backward();
on, a walk over the graph per backward and a few dictionary lookups per op.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
import weakref

from chainrule.autograd import graph, observers
from chainrule.autograd.function import Node
from chainrule.tensor import Tensor
from chainrule.tools.anomaly import _is_internal, format_site, user_site


class StrictModeWarning(UserWarning):
    """A likely autograd mistake, reported by chainrule.tools.strict()."""


def _warn(message: str) -> None:
    """warnings.warn, attributed to the innermost line of code outside chainrule."""
    f, level = sys._getframe(1), 2
    while f is not None and _is_internal(f.f_code.co_filename):
        f, level = f.f_back, level + 1
    warnings.warn(message, StrictModeWarning, stacklevel=level)


class _Group:
    """A set of backward passes whose graphs share nodes (union-find)."""

    __slots__ = ("parent",)

    def __init__(self):
        self.parent = None


def _find(g: _Group) -> _Group:
    root = g
    while root.parent is not None:
        root = root.parent
    while g.parent is not None and g.parent is not root:
        g.parent, g = root, g.parent
    return root


class _Leaf:
    """What strict mode knows about one leaf tensor."""

    __slots__ = ("ref", "name", "expected", "use", "since", "reached", "group", "version",
                 "polluted", "warned")

    def __init__(self, ref, name):
        self.ref = ref
        self.name = name
        self.expected = False  # given to strict(params)
        self.use = None  # (op name, site) of the first recorded op that took it
        self.since = 0  # how many backward passes the scope had run by then
        self.reached = False  # some backward / grad of the scope reached it
        self.group = None  # the graph group of the backward that last wrote its .grad
        self.version = 0  # its version counter then
        self.polluted = None  # its version when a backward added onto a stale .grad
        self.warned = set()


class _State:
    def __init__(self):
        self.leaves: dict[int, _Leaf] = {}
        self.sites: set = set()  # lines already warned about (graph outliving iterations)
        self.allow_accumulation: list[bool] = []
        self.n_backward = 0
        self.observing = None  # the observers.Registration while the scope is on

    def leaf(self, t, name=None) -> _Leaf:
        key = id(t)
        rec = self.leaves.get(key)
        if rec is not None and rec.ref() is t:
            return rec
        leaves = self.leaves

        def gone(ref, key=key):
            old = leaves.get(key)
            if old is not None and old.ref is ref:
                del leaves[key]

        rec = leaves[key] = _Leaf(weakref.ref(t, gone), name)
        return rec


_state: _State | None = None


def _guess_name(t) -> str | None:
    """The name your code knows the tensor by, looked up in the innermost frame outside
    chainrule (only when a warning is about to be shown)."""
    f = sys._getframe(1)
    while f is not None and _is_internal(f.f_code.co_filename):
        f = f.f_back
    if f is None:
        return None
    for scope in (f.f_locals, f.f_globals):
        for name, value in scope.items():
            if value is t:
                return name
    return None


def _describe_leaf(rec: _Leaf, t) -> str:
    name = rec.name or _guess_name(t)
    what = f"'{name}'" if name else "a leaf tensor"
    return f"{what} (shape {list(t.shape)}, {t.dtype})"


# ---------------------------------------------------------------- 2: graphs outliving a loop
def _carries_freed_graph(node: Node) -> bool:
    if node._freed:
        return True
    for e in node._edges:
        if e is not None and isinstance(e[0], Node) and e[0]._freed:
            return True
    return False


def _op_hook(ctx, outs, args) -> None:
    """A forward observer: after each op; only recorded ops (with edges) are checked."""
    if not ctx._edges:
        return
    st = _state
    for i, a in enumerate(args):
        if not isinstance(a, Tensor) or not a._requires_grad:
            continue
        fn = a.grad_fn
        if fn is None:
            rec = st.leaf(a)
            if rec.use is None:
                rec.use = (ctx._fn.__name__, user_site(2))
                rec.since = st.n_backward
        elif _carries_freed_graph(fn) and any(o.grad_fn is ctx for o in outs):
            site = user_site(2)
            if site in st.sites:
                continue
            st.sites.add(site)
            _warn(
                f"strict: {ctx._fn.__name__} takes an input (argument {i}, shape "
                f"{list(a.shape)}, made by {fn.name()}) whose graph an earlier backward() "
                f"already went through and freed. It is a tensor kept from an earlier "
                f"iteration: every op on it keeps the old graphs alive and makes the graph "
                f"longer, iteration after iteration, and a backward through it fails or "
                f"counts old losses again. Fixes: keep a running total as a number "
                f"(running_loss += loss.item(), or loss.detach()); detach a state carried "
                f"across batches (hidden = hidden.detach()); store loss.item() in lists. To "
                f"backpropagate through a graph twice on purpose, pass retain_graph=True to "
                f"the first backward().\nAt {format_site(site)}"
            )


# ---------------------------------------------------------------- backward: 1, 2 and 3
def _graph_group(nodes) -> _Group:
    """The group of this backward: joins every earlier group whose graph shares a node."""
    found = []
    for n in nodes:
        g = n.__dict__.get("_strict_graph")
        if g is not None:
            g = _find(g)
            if all(g is not f for f in found):
                found.append(g)
    cur = found[0] if found else _Group()
    for g in found[1:]:
        g.parent = cur
    for n in nodes:
        n._strict_graph = cur
    return cur


def _backward_hook(roots, inputs, accumulate: bool) -> None:
    """A backward observer: before each backward() / autograd.grad()."""
    st = _state
    nodes, leaf_list, _ = graph.walk(roots)
    leaves = {id(t): t for t in leaf_list}
    freed = any(n._freed for n in nodes)
    if freed:
        site = user_site(2)
        if site not in st.sites:
            st.sites.add(site)
            _warn(
                f"strict: this backward goes through nodes that an earlier backward() already "
                f"freed: its graph holds the graphs of earlier iterations, from a tensor kept "
                f"across iterations (running_loss += loss) or a state carried across batches "
                f"without .detach(). Keep totals as numbers (loss.item()) and detach carried "
                f"state. To backpropagate through one graph twice on purpose, pass "
                f"retain_graph=True to the first backward().\nAt {format_site(site)}"
            )
    group = _graph_group(nodes)
    for t in leaves.values():
        st.leaf(t).reached = True
    if accumulate:
        targets = leaves.values() if inputs is None else \
            [t for t in inputs if t.grad_fn is None and id(t) in leaves]
        for t in targets:
            _check_accumulation(st, st.leaf(t), t, group)
    _check_unreached(st, final=False)
    st.n_backward += 1


def _check_accumulation(st: _State, rec: _Leaf, t, group: _Group) -> None:
    """Before a backward adds into t.grad: is it double counting?

    A gradient added onto one from before an in-place update of t is stale, but harmless
    until an update uses it (a GAN's generator step adds into the discriminator's .grad,
    which is reset before the discriminator's next step): that is reported when t has been
    updated again with the sum still in .grad ("polluted" holds t's version at the time).
    """
    g = t._grad
    version = t._version[0]
    if g is None or rec.group is None or not g.array.any():  # nothing held, or a reset
        rec.polluted = None
    else:
        if rec.polluted is not None and version != rec.polluted:
            _warn_stale_used(rec, t)
        if version != rec.version:
            rec.polluted = version
        elif _find(rec.group) is not group and not st.allow_accumulation[-1] \
                and "accumulated" not in rec.warned:
            rec.warned.add("accumulated")
            _warn(
                f"strict: backward() adds into the .grad of {_describe_leaf(rec, t)}, which "
                f"still holds the gradient from the backward() of another graph, with no "
                f"zero_grad() between: .grad becomes the sum of both gradients (the classic "
                f"double counting). Reset it first (w.grad = None, w.grad.zero_(), "
                f"optimizer.zero_grad()), or sum the losses and call backward() once. If you "
                f"accumulate over micro-batches on purpose, use "
                f"strict(allow_accumulation=True)."
            )
    rec.group = group
    rec.version = version


def _warn_stale_used(rec: _Leaf, t) -> None:
    if "stale" in rec.warned:
        return
    rec.warned.add("stale")
    _warn(
        f"strict: {_describe_leaf(rec, t)} was updated in place (an optimizer step, "
        f"w -= lr * w.grad) with a .grad that still held the gradient from before its previous "
        f"update: the gradients were not reset between steps, so every backward() added onto "
        f"the old sum and each step counts old gradients again. Reset them before each "
        f"backward(): optimizer.zero_grad() (or model.zero_grad(), w.grad = None, "
        f"w.grad.zero_())."
    )


def _check_unreached(st: _State, final: bool) -> None:
    """Warn for expected leaves no backward reached. Before the scope ends, only for those
    in use before the previous backward: a later backward of the same step may reach them."""
    for rec in list(st.leaves.values()):
        t = rec.ref()
        if t is None or rec.reached or "unreached" in rec.warned or not t._requires_grad \
                or t.grad_fn is not None or (rec.use is None and not rec.expected) \
                or not final and rec.since >= st.n_backward:
            continue
        rec.warned.add("unreached")
        if rec.use is not None:
            op, site = rec.use
            _warn(
                f"strict: {_describe_leaf(rec, t)} requires grad and takes part in the "
                f"computation, but no backward() reached it: its .grad stays None and an "
                f"optimizer skips it without a word. The path from it to the loss is cut "
                f"after it is used: by .detach(), by .item() / .numpy() / .tolist() / float() "
                f"and a new tensor made from the value, by torch.tensor(t) (a copy without "
                f"history), by an op under no_grad(), or by a non-differentiable op (argmax, "
                f"a comparison, a cast to an integer dtype). If it is not meant to be "
                f"trained, call requires_grad_(False) on it.\n"
                f"First used by {op} at {format_site(site)}"
            )
        else:
            _warn(
                f"strict: {_describe_leaf(rec, t)} requires grad, but no op used it and no "
                f"backward() reached it: its .grad stays None and an optimizer skips it "
                f"without a word. Did the forward pass forget it (a bias created but never "
                f"added), or compute with a copy of it (w.double(), w.to(...), w * 1 give a new "
                f"non-leaf tensor; the optimizer holds the original)? If it is not meant to be "
                f"trained, call requires_grad_(False) on it."
            )


def _check_at_exit(st: _State) -> None:
    for rec in list(st.leaves.values()):
        t = rec.ref()
        if t is not None and rec.polluted is not None and t._version[0] != rec.polluted \
                and t._grad is not None and t._grad.array.any():
            _warn_stale_used(rec, t)
    _check_unreached(st, final=True)


# ---------------------------------------------------------------- the context manager
def _named(params):
    """(name, tensor) pairs from a Module, an optimizer, a dict, a tensor or an iterable."""
    if params is None:
        return []
    if isinstance(params, Tensor):
        return [(None, params)]
    if hasattr(params, "named_parameters"):
        return list(params.named_parameters())
    if hasattr(params, "param_groups"):  # an optimizer: names are guessed when warning
        return [(None, p) for group in params.param_groups for p in group["params"]]
    if isinstance(params, dict):
        return list(params.items())
    out = []
    for p in params:
        if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
            out.append(p)
        elif isinstance(p, Tensor):
            out.append((None, p))
        else:
            out.extend(_named(p))
    return out


class strict(contextlib.ContextDecorator):
    """Hygiene warnings for the scope (see the module docstring); a context manager and, as
    `@strict()`, a decorator.

    params: tensors that must get a gradient (a Module, an optimizer, a dict or a list of
        tensors); used to report a parameter that the forward pass never touched.
    allow_accumulation: accumulating over several graphs without zero_grad is intended (then
        only accumulation across an in-place update warns).
    """

    def __init__(self, params=None, *, allow_accumulation: bool = False):
        self.params = params
        self.allow_accumulation = allow_accumulation
        self._outer: list[bool] = []  # a stack: the same object may be re-entered

    def __enter__(self):
        global _state
        outer = _state is None
        if outer:
            _state = _State()
            _state.observing = observers.register(forward=_op_hook, backward=_backward_hook)
        self._outer.append(outer)
        _state.allow_accumulation.append(bool(self.allow_accumulation))
        for name, p in _named(self.params):
            if p.requires_grad and p.grad_fn is None:
                rec = _state.leaf(p, name)
                rec.name = rec.name or name
                if not rec.expected and rec.use is None:
                    rec.since = _state.n_backward
                rec.expected = True
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        global _state
        st = _state
        st.allow_accumulation.pop()
        if self._outer.pop():
            _state = None
            st.observing.remove()
            if exc_type is None:
                _check_at_exit(st)
        return False


def is_strict_enabled() -> bool:
    """Whether a strict() scope is active."""
    return _state is not None
