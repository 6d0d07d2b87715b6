"""Every op in tests/opspecs.py, against PyTorch and against finite differences: the one
harness that runs chainrule and PyTorch side by side.

For each row and sample: (1) forward vs PyTorch in float32 and float64; (2) gradcheck in
float64; (3) the gradient vs PyTorch's with a random upstream gradient, in float64 (and float32
for rows with a float32 tolerance); (4) second derivatives vs PyTorch (the gradient of
grad . v with respect to the inputs and to the upstream gradient); (5) gradgradcheck on the
cheapest sample of each row and on every sample marked gradgrad; (6) a fused op against its
composite definition; (7) each bad input raises PyTorch's exception type; (8) forward mode:
the jvp along a random tangent (forward_ad) against torch.func.jvp and against central
differences, in float64; the gradient's tangent (forward-over-reverse H v) against (4); the
jvp's own tangent (forward-over-forward) against torch.func and differences of the jvp.
Meta-tests: every Function class has a row, every row records the classes it names, every
Function class has a jvp rule or a `jvp_reason`, gradcheck catches a rule that is 0.1% off,
a wrong broadcast reduction and a rule that is right only to first order, and the jvp checks
catch a jvp 0.1% off, a missing tangent path and a jvp right only to first order.
"""

from __future__ import annotations

import importlib
import pkgutil
import zlib
from pathlib import Path

import numpy as np
import pytest

import chainrule
from chainrule.autograd.function import Function, Op
from chainrule.autograd.gradcheck import GradcheckError
from chainrule.ops.elementwise import Sin
from tests import opspecs
from tests._functions import SavingMul
from tests._torch import torch
from tests.opspecs import GRADCHECK_TOL, SPECS, Case

# NumPy's RuntimeWarnings (overflow, divide by zero, invalid) would mean a kernel computed
# something it then threw away: no row may emit one (a mark on each test that runs rows: a
# module-wide one would override the meta-test's own filter)
NO_RUNTIME_WARNING = pytest.mark.filterwarnings("error::RuntimeWarning")

CASES = opspecs.cases()
IDS = [c.id for c in CASES]
GRAD_CASES = [c for c in CASES if c.spec.grad and c.sample.shapes]
GRAD_IDS = [c.id for c in GRAD_CASES]


# ---------------------------------------------------------------- helpers
def _flat(out) -> list:
    """An op's result as a flat list of tensors (tuples: split, max(dim), sort, ...)."""
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _inputs(lib, case: Case, dtype, requires_grad: bool) -> list:
    diff = case.spec.diff_of(len(case.sample.shapes))
    return [lib.tensor(a, requires_grad=requires_grad and k in diff)
            for k, a in enumerate(case.arrays(dtype))]


def _call(lib, case: Case, inputs):
    fn = case.spec.fn if lib is chainrule else case.spec.reference()
    return fn(lib, *inputs, **case.kwargs)


def _np(t) -> np.ndarray:
    return t.detach().numpy(force=True) if isinstance(t, torch.Tensor) else np.asarray(t.array)


def _close(actual, expected, rtol, atol, what: str, case: Case) -> None:
    np.testing.assert_allclose(_np(actual), _np(expected), rtol=rtol, atol=atol, equal_nan=True,
                               err_msg=f"{case.id}: {what}")


def _rng(case: Case, salt: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32((case.id + salt).encode()))


def _zeros_for_none(grads, inputs, lib):
    return [lib.zeros_like(x) if g is None else g for g, x in zip(grads, inputs)]


def _first_and_second(lib, case: Case, record: bool = False):
    """Outputs, first derivatives (random upstream) and second derivatives, in float64.

    second = d(sum_i grad_i . v_i) / d(inputs, upstream): the Hessian-vector product and
    the backward's derivative with respect to its upstream gradient. `record` keeps the graph
    of the second derivatives too (for the test that reads which ops were recorded).
    """
    inputs = _inputs(lib, case, np.float64, True)
    diff = [x for x in inputs if x.requires_grad]
    outs = _flat(_call(lib, case, inputs))
    fouts = [o for o in outs if o.requires_grad]
    rng = _rng(case, "upstream")
    ups = [lib.tensor(rng.standard_normal(tuple(o.shape)), requires_grad=True) for o in fouts]
    vs = [lib.tensor(rng.standard_normal(tuple(x.shape)), requires_grad=record) for x in diff]
    if not fouts:
        return outs, [None] * len(diff), [None] * (len(diff))
    grads = lib.autograd.grad(fouts, diff, ups, create_graph=True, allow_unused=True)
    s = None
    for g, v in zip(grads, vs):
        if g is not None:
            term = (g * v).sum()
            s = term if s is None else s + term
    targets = diff + ups
    if s is None or not s.requires_grad:
        second = [None] * len(targets)
    else:
        second = lib.autograd.grad(s, targets, allow_unused=True, create_graph=record)
    return outs, _zeros_for_none(grads, diff, lib), _zeros_for_none(second, targets, lib)


# ---------------------------------------------------------------- (1) forward
@NO_RUNTIME_WARNING
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward(case: Case, dtype) -> None:
    ours = _flat(_call(chainrule, case, _inputs(chainrule, case, dtype, False)))
    ref = _flat(_call(torch, case, _inputs(torch, case, dtype, False)))
    assert len(ours) == len(ref), f"{case.id}: {len(ours)} outputs, PyTorch gives {len(ref)}"
    rtol, atol = case.spec.fwd32 if dtype == np.float32 else case.spec.fwd64
    for k, (o, r) in enumerate(zip(ours, ref)):
        assert isinstance(o, chainrule.Tensor), f"{case.id}: output {k} is {type(o).__name__}"
        assert tuple(o.shape) == tuple(r.shape), f"{case.id}: output {k} shape"
        assert str(o.dtype) == str(r.dtype), f"{case.id}: output {k} dtype"
        _close(o, r, rtol, atol, f"output {k}", case)


# ---------------------------------------------------------------- (2) finite differences
@NO_RUNTIME_WARNING
@pytest.mark.parametrize("case", [c for c in GRAD_CASES if c.spec.gradcheck],
                         ids=[c.id for c in GRAD_CASES if c.spec.gradcheck])
def test_gradcheck(case: Case) -> None:
    inputs = _inputs(chainrule, case, np.float64, True)
    chainrule.autograd.gradcheck(lambda *xs: _call(chainrule, case, xs), inputs, name=case.id,
                                 **GRADCHECK_TOL)


# ---------------------------------------------------------------- (3) gradient vs PyTorch
# float64 for every row; float32 too for rows that give a float32 tolerance
GRAD_VS_TORCH = [(c, np.float64) for c in GRAD_CASES if c.spec.torch_grad] + [
    (c, np.float32) for c in GRAD_CASES if c.spec.torch_grad and c.spec.grad32]


@NO_RUNTIME_WARNING
@pytest.mark.parametrize("case,dtype", GRAD_VS_TORCH,
                         ids=[c.id + ("" if d == np.float64 else "-float32")
                              for c, d in GRAD_VS_TORCH])
def test_grad_vs_torch(case: Case, dtype) -> None:
    ins, refs = _inputs(chainrule, case, dtype, True), _inputs(torch, case, dtype, True)
    ours, ref = _flat(_call(chainrule, case, ins)), _flat(_call(torch, case, refs))
    for k, (o, r) in enumerate(zip(ours, ref)):
        assert o.requires_grad == r.requires_grad, f"{case.id}: output {k} requires_grad"
    rng = _rng(case, "grad")
    ups = [rng.standard_normal(tuple(r.shape)).astype(dtype) for r in ref if r.requires_grad]
    d_ours = [x for x in ins if x.requires_grad]
    d_ref = [x for x in refs if x.requires_grad]
    f_ours = [o for o in ours if o.requires_grad]
    f_ref = [r for r in ref if r.requires_grad]
    g_ours = chainrule.autograd.grad(f_ours, d_ours, [chainrule.tensor(u) for u in ups],
                                     allow_unused=True)
    g_ref = torch.autograd.grad(f_ref, d_ref, [torch.tensor(u) for u in ups], allow_unused=True)
    rtol, atol = case.spec.grad_tol if dtype == np.float64 else case.spec.grad32
    for k, (g, r) in enumerate(zip(_zeros_for_none(g_ours, d_ours, chainrule),
                                   _zeros_for_none(g_ref, d_ref, torch))):
        assert tuple(g.shape) == tuple(r.shape), f"{case.id}: gradient {k} shape"
        assert str(g.dtype) == str(r.dtype), f"{case.id}: gradient {k} dtype"
        _close(g, r, rtol, atol, f"gradient of input {k}", case)


# ---------------------------------------------------------------- (4) second derivatives
@NO_RUNTIME_WARNING
@pytest.mark.parametrize("case", [c for c in GRAD_CASES if c.spec.second_order and
                                  c.spec.torch_grad],
                         ids=[c.id for c in GRAD_CASES if c.spec.second_order and
                              c.spec.torch_grad])
def test_second_derivative_vs_torch(case: Case) -> None:
    _, g_ours, s_ours = _first_and_second(chainrule, case)
    _, g_ref, s_ref = _first_and_second(torch, case)
    rtol, atol = case.spec.grad_tol
    for k, (g, r) in enumerate(zip(g_ours, g_ref)):
        _close(g, r, rtol, atol, f"gradient of input {k} (create_graph=True)", case)
    n = len(g_ours)
    for k, (g, r) in enumerate(zip(s_ours, s_ref)):
        what = f"input {k}" if k < n else f"upstream gradient {k - n}"
        assert tuple(g.shape) == tuple(r.shape), f"{case.id}: second derivative w.r.t. {what}"
        _close(g, r, rtol, atol, f"second derivative w.r.t. {what}", case)


# ---------------------------------------------------------------- (5) gradgradcheck
def _cheap_cases() -> list:
    """The first sample of each row whose inputs have at most 6 elements in all, and every
    sample marked gradgrad=True."""
    out, seen = [], set()
    for c in GRAD_CASES:
        if c.spec.gradcheck and c.sample.gradgrad:
            out.append(c)
        elif not (c.spec.second_order and c.spec.gradcheck):
            continue
        elif c.spec.name not in seen and sum(
                int(np.prod(s, dtype=np.int64)) for s in c.sample.shapes) <= 6:
            out.append(c)
            seen.add(c.spec.name)
    return out


CHEAP = _cheap_cases()


@NO_RUNTIME_WARNING
@pytest.mark.parametrize("case", CHEAP, ids=[c.id for c in CHEAP])
def test_gradgradcheck(case: Case) -> None:
    inputs = _inputs(chainrule, case, np.float64, True)
    chainrule.autograd.gradgradcheck(lambda *xs: _call(chainrule, case, xs), inputs,
                                     name=case.id, **GRADCHECK_TOL)


# ---------------------------------------------------------------- (8) forward mode
# A jvp through chainrule.autograd.forward_ad, in float64, with a random tangent for every
# differentiable input: against torch.func.jvp and against central differences along the
# tangent, (f(x + eps t) - f(x - eps t)) / (2 eps). Every differentiable output must carry a
# tangent. Rows torch.func.jvp cannot check say why in `no_torch_jvp`.
JVP_FD = {"eps": 1e-6, "rtol": 1e-5, "atol": 1e-7}  # as GRADCHECK_TOL, for J t instead of J


def _tangents(case: Case) -> list:
    """(index of the input, its tangent) for each differentiable input."""
    rng = _rng(case, "tangent")
    arrays = case.arrays(np.float64)
    return [(k, rng.standard_normal(arrays[k].shape))
            for k in case.spec.diff_of(len(arrays))]


def _differentiable(case: Case) -> list:
    """Which outputs depend differentiably on the inputs (their requires_grad in a grad run)."""
    return [o.requires_grad for o in _flat(_call(chainrule, case,
                                                  _inputs(chainrule, case, np.float64, True)))]


def jvp_ours(case: Case, shift: dict | None = None) -> list:
    """Each output's tangent (None where it has none) from forward_ad; `shift` moves inputs
    (index -> array added) first."""
    fwad = chainrule.autograd.forward_ad
    xs = [chainrule.tensor(a + (shift or {}).get(k, 0.0))
          for k, a in enumerate(case.arrays(np.float64))]
    with fwad.dual_level():
        for k, t in _tangents(case):
            xs[k] = fwad.make_dual(xs[k], chainrule.tensor(t))
        outs = _flat(_call(chainrule, case, xs))
        return [fwad.unpack_dual(o).tangent for o in outs]


def jvp_torch(case: Case) -> list:
    xs = [torch.tensor(a) for a in case.arrays(np.float64)]
    pairs = _tangents(case)

    def f(*duals):
        args = list(xs)
        for (k, _), d in zip(pairs, duals):
            args[k] = d
        return tuple(_flat(_call(torch, case, args)))

    _, tangents = torch.func.jvp(f, tuple(xs[k] for k, _ in pairs),
                                 tuple(torch.tensor(t) for _, t in pairs))
    return list(tangents)


def jvp_finite_differences(case: Case, eps: float) -> list:
    """(f(x + eps t) - f(x - eps t)) / (2 eps) for each output, with chainrule's forward."""
    sides = []
    for sign in (1.0, -1.0):
        arrays = case.arrays(np.float64)
        for k, t in _tangents(case):
            arrays[k] = arrays[k] + sign * eps * t
        sides.append([_np(o).astype(np.float64)
                      for o in _flat(_call(chainrule, case, [chainrule.tensor(a)
                                                              for a in arrays]))])
    return [chainrule.tensor((p - m) / (2 * eps)) for p, m in zip(*sides)]


def check_jvp(case: Case, against: str) -> None:
    """chainrule's jvp of every differentiable output equals torch's or the finite differences."""
    ours = jvp_ours(case)
    if against == "torch":
        ref, (rtol, atol) = jvp_torch(case), case.spec.grad_tol
    else:
        ref = jvp_finite_differences(case, JVP_FD["eps"])
        rtol, atol = JVP_FD["rtol"], JVP_FD["atol"]
    for k, (diffable, o, r) in enumerate(zip(_differentiable(case), ours, ref)):
        if not diffable:
            continue
        assert o is not None, f"{case.id}: output {k} has no tangent (a missing tangent path)"
        assert tuple(o.shape) == tuple(r.shape), f"{case.id}: tangent {k} shape"
        if against == "torch":
            assert str(o.dtype) == str(r.dtype), f"{case.id}: tangent {k} is {o.dtype}"
        _close(o, r, rtol, atol, f"tangent of output {k} vs {against}", case)


JVP_TORCH = [c for c in GRAD_CASES if not c.spec.no_torch_jvp]
JVP_FINITE = [c for c in GRAD_CASES if c.spec.gradcheck]


@NO_RUNTIME_WARNING
@pytest.mark.parametrize("case", JVP_TORCH, ids=[c.id for c in JVP_TORCH])
def test_jvp_vs_torch(case: Case) -> None:
    check_jvp(case, "torch")


@NO_RUNTIME_WARNING
@pytest.mark.parametrize("case", JVP_FINITE, ids=[c.id for c in JVP_FINITE])
def test_jvp_vs_finite_differences(case: Case) -> None:
    check_jvp(case, "finite differences")


def hvp_forward_over_reverse(case: Case) -> list:
    """The tangent of the gradient (a random upstream u), with the inputs' tangents v:
    d/dv (J^T u) = H_u v, the second derivative `_first_and_second` computes in reverse.
    The jvp rules of the backward's own ops (CrossEntropyGrad, ConvInputGrad, ...) run here."""
    fwad = chainrule.autograd.forward_ad
    plain = _flat(_call(chainrule, case, _inputs(chainrule, case, np.float64, True)))
    rng = _rng(case, "upstream")  # the draws of _first_and_second, in its order
    ups = [chainrule.tensor(rng.standard_normal(tuple(o.shape)))
           for o in plain if o.requires_grad]
    inputs = _inputs(chainrule, case, np.float64, True)
    diff = [x for x in inputs if x.requires_grad]
    vs = [chainrule.tensor(rng.standard_normal(tuple(x.shape))) for x in diff]
    with fwad.dual_level():
        duals = iter([fwad.make_dual(x, v) for x, v in zip(diff, vs)])
        outs = _flat(_call(chainrule, case, [next(duals) if x.requires_grad else x
                                              for x in inputs]))
        grads = chainrule.autograd.grad([o for o in outs if o.requires_grad], diff, ups,
                                        create_graph=True, allow_unused=True)
        tangents = [None if g is None else fwad.unpack_dual(g).tangent for g in grads]
    return _zeros_for_none(tangents, diff, chainrule)


SECOND = [c for c in GRAD_CASES if c.spec.second_order and c.spec.torch_grad]


@NO_RUNTIME_WARNING
@pytest.mark.parametrize("case", SECOND, ids=[c.id for c in SECOND])
def test_jvp_of_the_gradient_vs_torch(case: Case) -> None:
    """Forward-over-reverse: the Hessian-vector product as the gradient's tangent equals
    PyTorch's reverse-over-reverse second derivative."""
    _, _, s_ref = _first_and_second(torch, case)
    hv = hvp_forward_over_reverse(case)
    rtol, atol = case.spec.grad_tol
    for k, (h, r) in enumerate(zip(hv, s_ref)):
        _close(h, r, rtol, atol, f"H v (forward-over-reverse) of input {k}", case)


def _outer_tangents(case: Case) -> list:
    """The second direction w: one array per differentiable input."""
    ws = _rng(case, "outer")
    return [ws.standard_normal(t.shape) for _, t in _tangents(case)]


def jvp_of_jvp_ours(case: Case) -> tuple:
    """Forward-over-forward: the tangent (along w, outer level) of each output's tangent
    (along t, inner level), d2f[t, w]; a jvp rule must itself be made of differentiable ops.
    Also returns the inner tangents."""
    fwad = chainrule.autograd.forward_ad
    xs = [chainrule.tensor(a) for a in case.arrays(np.float64)]
    with fwad.dual_level() as outer:
        for (k, t), w in zip(_tangents(case), _outer_tangents(case)):
            xs[k] = (fwad.make_dual(xs[k], chainrule.tensor(w)), t)
        with fwad.dual_level() as inner:
            args = [fwad.make_dual(x[0], chainrule.tensor(x[1]), level=inner)
                    if isinstance(x, tuple) else x for x in xs]
            outs = _flat(_call(chainrule, case, args))
            tangents = [fwad.unpack_dual(o, level=inner).tangent for o in outs]
        return [None if t is None else fwad.unpack_dual(t, level=outer).tangent
                for t in tangents], tangents


def jvp_of_jvp_finite_differences(case: Case, eps: float) -> list:
    """(J(x + eps w) t - J(x - eps w) t) / (2 eps), from chainrule's first-order jvp."""
    sides = []
    for sign in (1.0, -1.0):
        shift = {k: sign * eps * w for (k, _), w in zip(_tangents(case), _outer_tangents(case))}
        sides.append(jvp_ours(case, shift))
    return [None if p is None else chainrule.tensor((_np(p) - _np(m)) / (2 * eps))
            for p, m in zip(*sides)]


def jvp_of_jvp_torch(case: Case) -> list:
    pairs = _tangents(case)
    xs = [torch.tensor(a) for a in case.arrays(np.float64)]

    def jvp(*primals):
        def f(*duals):
            args = list(xs)
            for (k, _), d in zip(pairs, duals):
                args[k] = d
            return tuple(_flat(_call(torch, case, args)))
        return torch.func.jvp(f, primals, tuple(torch.tensor(t) for _, t in pairs))[1]

    primals = tuple(xs[k] for k, _ in pairs)
    outer = tuple(torch.tensor(w) for w in _outer_tangents(case))
    return list(torch.func.jvp(jvp, primals, outer)[1])


def check_jvp_of_jvp(case: Case, against: str) -> None:
    (ours, firsts) = jvp_of_jvp_ours(case)
    if against == "torch":
        ref, (rtol, atol) = jvp_of_jvp_torch(case), case.spec.grad_tol
    else:
        ref = jvp_of_jvp_finite_differences(case, JVP_FD["eps"])
        rtol, atol = JVP_FD["rtol"], JVP_FD["atol"]
    for k, (diffable, o, first, r) in enumerate(zip(_differentiable(case), ours, firsts, ref)):
        if diffable:
            assert first is not None, f"{case.id}: output {k} has no tangent"
            # no tangent on the tangent: J t does not depend on x (a linear op), so d2f = 0
            _close(chainrule.zeros_like(first) if o is None else o, r, rtol, atol,
                   f"second directional derivative of output {k} vs {against}", case)


JVP2_TORCH = [c for c in SECOND if not (c.spec.no_torch_jvp or c.spec.no_torch_jvp2)]
JVP2_FINITE = [c for c in SECOND if c.spec.gradcheck]


@NO_RUNTIME_WARNING
@pytest.mark.parametrize("case", JVP2_TORCH, ids=[c.id for c in JVP2_TORCH])
def test_jvp_of_the_jvp_vs_torch(case: Case) -> None:
    """Forward-over-forward: the second directional derivative d2f[t, w] equals PyTorch's
    (torch.func.jvp of torch.func.jvp)."""
    check_jvp_of_jvp(case, "torch")


@NO_RUNTIME_WARNING
@pytest.mark.parametrize("case", JVP2_FINITE, ids=[c.id for c in JVP2_FINITE])
def test_jvp_of_the_jvp_vs_finite_differences(case: Case) -> None:
    """d2f[t, w] equals the central difference of chainrule's own jvp along w."""
    check_jvp_of_jvp(case, "finite differences")


def test_rows_without_a_torch_jvp_say_why() -> None:
    """Every differentiable row is checked against torch.func.jvp or states the reason; a row
    whose PyTorch has no derivative at all (torch_grad=False) cannot be."""
    for spec in SPECS:
        if spec.grad and not spec.torch_grad:
            assert spec.no_torch_jvp, f"{spec.name}: torch_grad=False but no no_torch_jvp reason"
        if spec.no_torch_jvp:  # and the reason holds: PyTorch refuses the row's jvp
            assert len(spec.no_torch_jvp) > 15, f"{spec.name}: no_torch_jvp is not a reason"
            with pytest.raises((NotImplementedError, RuntimeError)):
                jvp_torch(opspecs.cases([spec])[0])


@pytest.mark.parametrize("spec", [s for s in SPECS if s.no_torch_jvp2],
                         ids=[s.name for s in SPECS if s.no_torch_jvp2])
def test_rows_without_a_torch_second_jvp_say_why(spec) -> None:
    """A row's no_torch_jvp2 reason holds: on one of its samples PyTorch's jvp of the jvp
    raises or disagrees with chainrule's (which finite differences check)."""
    assert len(spec.no_torch_jvp2) > 15, f"{spec.name}: no_torch_jvp2 is not a reason"
    failures = 0
    for case in opspecs.cases([spec]):
        try:
            check_jvp_of_jvp(case, "torch")
        except (NotImplementedError, RuntimeError, AssertionError):
            failures += 1
    assert failures, f"{spec.name}: PyTorch's jvp of the jvp works: drop its no_torch_jvp2"


# ---------------------------------------------------------------- meta: the table is complete
# Function subclasses that need no row of their own, each with the reason.
ALLOWED_WITHOUT_ROW: dict[str, str] = {
    # an abstract base (the shared zero backward of Sign, Floor, ...): never applied itself
    "ops.elementwise._StepFunction": "abstract base of the piecewise-constant ops",
}


def _modules() -> list:
    mods = []
    for pkg_name in ("chainrule.ops", "chainrule.nn"):
        pkg = importlib.import_module(pkg_name)
        mods.append(pkg)
        for info in pkgutil.walk_packages(pkg.__path__, pkg_name + "."):
            mods.append(importlib.import_module(info.name))
    mods.append(importlib.import_module("chainrule.linalg"))
    return mods


def _function_classes() -> dict:
    found = {}
    for mod in _modules():
        for obj in vars(mod).values():
            if (isinstance(obj, type) and issubclass(obj, Function) and obj not in (Function, Op)
                    and obj.__module__ == mod.__name__):
                found[_key(obj)] = obj
    return found


def _key(cls) -> str:
    return f"{cls.__module__.removeprefix('chainrule.')}.{cls.__qualname__}"


def _declared() -> set:
    return {f for spec in SPECS for f in spec.functions}


def test_every_function_class_has_a_row() -> None:
    found = _function_classes()
    assert len(found) > 40, "the walk over chainrule's op modules found too few classes"
    missing = sorted(set(found) - _declared() - set(ALLOWED_WITHOUT_ROW))
    assert not missing, f"Function classes with no row in tests/opspecs.py: {missing}"


def test_allow_list_names_real_classes() -> None:
    stale = sorted(set(ALLOWED_WITHOUT_ROW) - set(_function_classes()))
    assert not stale, f"ALLOWED_WITHOUT_ROW names classes that no longer exist: {stale}"


def test_declared_functions_exist() -> None:
    found = _function_classes()
    unknown = sorted(f for f in _declared() if f not in found)
    assert not unknown, f"rows name Function classes that do not exist: {unknown}"


def _recorded(tensors) -> set:
    """The Function classes of every node reachable from `tensors`' grad_fns."""
    seen, classes = set(), set()
    stack = [t.grad_fn for t in tensors if t is not None and t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        fn = getattr(node, "_fn", None)
        if fn is not None:
            classes.add(_key(fn))
        stack.extend(nxt for nxt, _ in node.next_functions if nxt is not None)
    return classes


@pytest.mark.parametrize("spec", [s for s in SPECS if s.functions],
                         ids=[s.name for s in SPECS if s.functions])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0 * inf in rows at singular points
def test_row_records_its_functions(spec) -> None:
    """A row's `functions` are really exercised: forward, backward or double backward."""
    recorded = set()
    for case in opspecs.cases([spec]):
        if not case.sample.shapes:
            continue
        if spec.grad:
            outs, grads, second = _first_and_second(chainrule, case, record=True)
            recorded |= _recorded(outs) | _recorded(grads) | _recorded(second)
        else:
            inputs = _inputs(chainrule, case, np.float64, True)
            recorded |= _recorded(_flat(_call(chainrule, case, inputs)))
    missing = sorted(set(spec.functions) - recorded)
    assert not missing, f"row {spec.name} names {missing}, which its samples never record"


# The public ops of the issue: each must keep a row (by row name).
REQUIRED_ROWS = """
add sub mul div pow matmul_op radd_scalar rsub_scalar rmul_scalar rdiv_scalar rpow_scalar neg
abs exp log log1p expm1 sqrt rsqrt square reciprocal sin cos tanh sigmoid relu leaky_relu
softplus gelu erf sign floor ceil round trunc clamp clip clamp_tensor pow_int pow_float
maximum minimum where remainder
sum mean var std prod max min max_dim min_dim amax amin logsumexp norm softmax log_softmax cumsum
reshape view flatten squeeze unsqueeze transpose permute t T mT expand expand_as repeat flip cat
stack split chunk unbind narrow tril triu diag_embed diag_extract diagonal trace
index_int index_slice index_none_ellipsis index_tensor index_list index_bool setitem_basic
setitem_tensor setitem_bool gather scatter_add index_select masked_fill
matmul mm bmm mv dot outer einsum linalg_norm vector_norm
mse_loss l1_loss smooth_l1_loss cross_entropy nll_loss binary_cross_entropy bce_with_logits
linear softmax_F log_softmax_F one_hot to_float32 to_float64 clone
""".split()


def test_required_rows_present() -> None:
    missing = [name for name in REQUIRED_ROWS if name not in opspecs.BY_NAME]
    assert not missing, f"rows missing from tests/opspecs.py: {missing}"


def test_samples_cover_broadcast_0d_and_size_1() -> None:
    for spec in SPECS:
        shapes = [s.shapes for s in spec.samples]
        assert shapes, f"{spec.name} has no samples"
        if spec.family in ("elementwise", "binary", "reduction") and spec.gradcheck:
            flat = [sh for ss in shapes for sh in ss]
            assert any(sh == () or 1 in sh for sh in flat), \
                f"{spec.name}: no 0-d or size-1 sample"
        if spec.family == "binary" and spec.gradcheck:
            assert any(len({sh for sh in ss}) > 1 for ss in shapes), \
                f"{spec.name}: no broadcasting sample"
    assert len(set(IDS)) == len(IDS), "two cases have the same id"


# ---------------------------------------------------------------- fused vs composite
COMPOSITE = [c for c in CASES if c.spec.composite is not None]


@NO_RUNTIME_WARNING
@pytest.mark.parametrize("case", COMPOSITE, ids=[c.id for c in COMPOSITE])
def test_fused_matches_composite(case: Case) -> None:
    """A fused op's value, gradient and second derivative equal its composed definition."""
    results = []
    for fn in (case.spec.fn, case.spec.composite):
        inputs = _inputs(chainrule, case, np.float64, True)
        diff = [x for x in inputs if x.requires_grad]
        out = _flat(fn(chainrule, *inputs, **case.kwargs))[0]
        u = chainrule.tensor(_rng(case, "composite").standard_normal(tuple(out.shape)))
        grads = _zeros_for_none(chainrule.autograd.grad(out, diff, u, create_graph=True,
                                                        allow_unused=True), diff, chainrule)
        total = sum((g * g).sum() for g in grads)
        second = [None] * len(diff)
        if total.requires_grad:
            second = chainrule.autograd.grad(total, diff, allow_unused=True)
        results.append([out, *grads, *_zeros_for_none(second, diff, chainrule)])
    n = len(results[0]) // 2
    for k, (a, b) in enumerate(zip(*results)):
        what = "value" if k == 0 else f"gradient {k - 1}" if k <= n else f"second {k - 1 - n}"
        _close(a, b, 1e-9, 1e-11, f"fused vs composite: {what}", case)


# ---------------------------------------------------------------- bad inputs
ERRORS = [(spec, bad) for spec in SPECS for bad in spec.errors]


@pytest.mark.parametrize("spec,bad", ERRORS,
                         ids=[f"{s.name}-{b.error.__name__}-{b.match[:30]}" for s, b in ERRORS])
def test_bad_input_raises_as_torch(spec, bad) -> None:
    """chainrule raises PyTorch's exception type for the bad call, and says what is wrong."""
    rng = np.random.default_rng(zlib.crc32(spec.name.encode()))
    arrays = [rng.uniform(-2.0, 2.0, shape).astype(np.float32) for shape in bad.shapes]
    with pytest.raises(bad.error, match=bad.match):
        spec.fn(chainrule, *[chainrule.tensor(a) for a in arrays], **bad.kwargs)
    with pytest.raises(bad.error):
        spec.reference()(torch, *[torch.tensor(a) for a in arrays], **bad.kwargs)


# ---------------------------------------------------------------- meta: gradcheck has teeth
class _SinOff(Sin):
    """sin with a derivative 0.1% too large."""

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g * x.cos() * 1.001,)


class _AddMeanBroadcast(Op):
    """a + b with b broadcast, but b's gradient averaged (not summed) over the broadcast axis."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g.mean(0)


class _SinFirstOrder(Op):
    """sin whose backward uses cos(x) as a constant: right once, wrong when differentiated."""

    @staticmethod
    def forward(ctx, x):
        ctx.cos = np.cos(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, g):
        return (g * chainrule.tensor(ctx.cos),)


def _x(*shape, seed=0):
    return chainrule.tensor(np.random.default_rng(seed).uniform(-2, 2, shape),
                            requires_grad=True)


def test_gradcheck_catches_a_rule_off_by_a_tenth_of_a_percent() -> None:
    with pytest.raises(GradcheckError, match="_SinOff"):
        chainrule.autograd.gradcheck(_SinOff.apply, [_x(2, 3)], **GRADCHECK_TOL)
    with pytest.raises(GradcheckError, match="_SinOff"):
        chainrule.autograd.gradcheck(_SinOff.apply, [_x(2, 3)])  # the default tolerances
    with pytest.raises(GradcheckError, match="_SinOff"):  # and by projections
        chainrule.autograd.gradcheck(_SinOff.apply, [_x(80, 80)], **GRADCHECK_TOL)
    assert chainrule.autograd.gradcheck(lambda x: x.sin(), [_x(2, 3)], **GRADCHECK_TOL)


def test_gradcheck_catches_a_wrong_broadcast_reduction() -> None:
    a, b = _x(2, 3), _x(3, seed=1)
    with pytest.raises(GradcheckError, match="input 1"):
        chainrule.autograd.gradcheck(_AddMeanBroadcast.apply, [a, b], **GRADCHECK_TOL)
    assert chainrule.autograd.gradcheck(lambda a, b: a + b, [a, b], **GRADCHECK_TOL)


def test_gradgradcheck_catches_a_rule_right_only_to_first_order() -> None:
    x = _x(2, 3)
    assert chainrule.autograd.gradcheck(_SinFirstOrder.apply, [x], **GRADCHECK_TOL)
    with pytest.raises(GradcheckError):
        chainrule.autograd.gradgradcheck(_SinFirstOrder.apply, [x], **GRADCHECK_TOL)
    assert chainrule.autograd.gradgradcheck(lambda x: x.sin(), [x], **GRADCHECK_TOL)


# ---------------------------------------------------------------- meta: every op has a jvp
def _all_function_classes() -> dict:
    """Every Function subclass defined in a module of the chainrule package."""
    found = {}
    root = Path(chainrule.__file__).parent
    for path in sorted(root.rglob("*.py")):  # by file: chainrule.ops has no __init__.py
        if path.name == "__main__.py":
            continue  # importing it runs the command line
        name = ".".join(("chainrule", *path.relative_to(root).with_suffix("").parts))
        mod = importlib.import_module(name.removesuffix(".__init__"))
        for obj in vars(mod).values():
            if (isinstance(obj, type) and issubclass(obj, Function) and obj not in (Function, Op)
                    and obj.__module__ == mod.__name__):
                found[_key(obj)] = obj
    return found


def test_every_function_class_has_a_jvp_or_a_reason() -> None:
    """Forward mode reaches every op: each Function class (built-in or one of the labs') has a
    `jvp` (its own or a chainrule base class's), or says why not in `jvp_reason`."""
    found = _all_function_classes()
    assert set(_function_classes()) <= set(found), "the package walk missed op modules"
    missing = sorted(key for key, cls in found.items()
                     if cls.jvp is Function.jvp and not getattr(cls, "jvp_reason", ""))
    assert not missing, (f"Function classes with neither a jvp rule nor a jvp_reason = "
                         f"\"...\" class attribute: {missing}")


# ---------------------------------------------------------------- meta: the jvp check has teeth
class _SinJvp(Sin):
    """sin with a right jvp: t cos(x) (the library's own rule, under a name of the test's)."""


class _SinJvpOff(_SinJvp):
    """sin whose jvp is 0.1% too large (its backward is right)."""

    @staticmethod
    def jvp(ctx, t):
        return t * ctx.inputs[0].cos() * 1.001


class _MulJvpOneSided(SavingMul, Op):
    """a * b whose jvp forgets b's tangent: t_a b, not t_a b + a t_b."""

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, g * a

    @staticmethod
    def jvp(ctx, ta, tb):
        return ta * ctx.inputs[1]


class _SinNoTangent(_SinJvp):
    """sin whose jvp gives its output no tangent."""

    @staticmethod
    def jvp(ctx, t):
        return None


def _test_row(op, reference, *shapes) -> Case:
    spec = opspecs.OpSpec(f"test_{op.__name__}", lambda lib, *xs: (
        op.apply(*xs) if lib is chainrule else reference(*xs)), (opspecs.S(*shapes),))
    return opspecs.cases([spec])[0]


@pytest.mark.parametrize("against", ["torch", "finite differences"])
def test_jvp_check_catches_a_rule_off_by_a_tenth_of_a_percent(against) -> None:
    check_jvp(_test_row(_SinJvp, torch.sin, (2, 3)), against)
    with pytest.raises(AssertionError, match=f"tangent of output 0 vs {against}"):
        check_jvp(_test_row(_SinJvpOff, torch.sin, (2, 3)), against)
    with pytest.raises(AssertionError, match=f"tangent of output 0 vs {against}"):
        check_jvp(_test_row(_SinJvpOff, torch.sin, (80, 80)), against)


@pytest.mark.parametrize("against", ["torch", "finite differences"])
def test_jvp_check_catches_a_missing_tangent_path(against) -> None:
    with pytest.raises(AssertionError, match="tangent of output 0"):
        check_jvp(_test_row(_MulJvpOneSided, torch.mul, (2, 3), (3,)), against)
    with pytest.raises(AssertionError, match="output 0 has no tangent"):
        check_jvp(_test_row(_SinNoTangent, torch.sin, (2, 3)), against)


class _SinJvpInNumPy(_SinJvp):
    """sin whose jvp is right but computed in NumPy: a constant to any outer level."""

    @staticmethod
    def jvp(ctx, t):
        return chainrule.tensor(t.array * np.cos(ctx.inputs[0].array))


@pytest.mark.parametrize("against", ["torch", "finite differences"])
def test_jvp_of_jvp_check_catches_a_rule_right_only_to_first_order(against) -> None:
    case = _test_row(_SinJvpInNumPy, torch.sin, (2, 3))
    check_jvp(case, against)
    check_jvp_of_jvp(_test_row(_SinJvp, torch.sin, (2, 3)), against)
    with pytest.raises(AssertionError, match="second directional derivative of output 0"):
        check_jvp_of_jvp(case, against)
