"""Random compositions (tests/autograd/test_random_compositions.py), compiled: the replay of
value, gradients and second derivatives equals eager execution bit for bit."""

import warnings

import numpy as np
import pytest

import chainrule
from tests.autograd.test_random_compositions import SEED, make

N_CASES = 80


def program(comp):
    """f(*leaves) -> value, gradients, second derivatives (detached), for chainrule."""
    rng = np.random.default_rng([SEED, comp.index, 7])
    names = list(comp.leaves)
    u = chainrule.tensor(rng.standard_normal(tuple(comp.expr.shape)), requires_grad=True)
    vs = [chainrule.tensor(rng.standard_normal(a.shape)) for a in comp.leaves.values()]

    def f(*xs):
        out = comp.expr.fn(chainrule, dict(zip(names, xs)))
        grads = chainrule.autograd.grad([out], list(xs), [u], create_graph=True,
                                        allow_unused=True)
        s = None
        for g, v in zip(grads, vs):
            if g is not None:
                s = (g * v).sum() if s is None else s + (g * v).sum()
        second = [] if s is None or not s.requires_grad else \
            chainrule.autograd.grad(s, list(xs) + [u], allow_unused=True)
        return tuple(t.detach() for t in [out, *grads, *second] if t is not None)

    return f


def _leaves(comp):
    return [chainrule.tensor(a, requires_grad=True) for a in comp.leaves.values()]


@pytest.mark.parametrize("index", range(N_CASES))
def test_compiled_composition_equals_eager(index: int) -> None:
    comp, _ = make(index)
    f = program(comp)
    eager = [t.array for t in f(*_leaves(comp))]
    compiled = chainrule.compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no graph break may hide in a composition
        for _ in range(3):
            replayed = [t.array for t in compiled(*_leaves(comp))]
    assert compiled._entries, comp.describe()
    assert len(replayed) == len(eager)
    for k, (a, b) in enumerate(zip(eager, replayed)):
        assert a.dtype == b.dtype and np.array_equal(a, b), f"output {k}\n{comp.describe()}"
