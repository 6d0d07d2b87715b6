"""einsum: sums of products over named indices ("subscripts"), as torch.einsum.

`einsum(equation, *operands)` checks the equation against the operands once, here at the
boundary, and hands the `Einsum` op a canonical equation: no `...` (each ellipsis dim gets a
fresh letter), an explicit output, and every letter of one size in all operands (a size-1 dim
that broadcasts is squeezed away, so that operand simply lacks the letter). The op's backward
is then einsum again: the gradient of operand i contracts g with the other operands into
operand i's subscripts.
"""

from __future__ import annotations

import functools
import math
import string

import numpy as np

from chainrule import dtypes
from chainrule.autograd.function import Op
from chainrule.ops.shape import Expand, Reshape

_LETTERS = string.ascii_letters
_VALID = frozenset(_LETTERS)
_BLAS_WORK = 1 << 15  # product of index sizes above which a two-operand einsum pays for BLAS


def einsum(equation, *operands):
    """torch.einsum(equation, *operands), einsum(equation, [operands]) or the sublist form
    einsum(op0, sublist0, op1, sublist1, ..., [sublist_out])."""
    from chainrule.tensor import Tensor

    if isinstance(equation, Tensor):
        equation, operands = _from_sublists((equation, *operands))
    elif not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' (position 1) must be str, not "
                        f"{type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for k, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): expected Tensor as element {k} in argument 1, but got "
                            f"{type(t).__name__}")
    canonical, squeezed = _canonical(equation, tuple(t.array.shape for t in operands))
    dt = operands[0].array.dtype
    if any(t.array.dtype != dt for t in operands):
        dt = dtypes.result_type(*operands)
    tensors = []
    for t, shape in zip(operands, squeezed):
        if t.array.dtype != dt:
            t = t.to(dt)
        if shape is not None:
            t = Reshape.apply(t, shape)
        tensors.append(t)
    return Einsum.apply(canonical, *tensors)


class Einsum(Op):
    """einsum over a canonical equation "ab,bc->ac" (explicit output, consistent sizes).

    forward:   out = np.einsum(equation, *xs)
    backward:  gx_i = einsum(g, xs[j != i] -> subscripts of x_i)    # the product rule, termwise
               a letter repeated in x_i ('ii', a diagonal) is renamed and tied to its first
               occurrence by an identity tensor (eye), which embeds the diagonal; a letter only
               in x_i was summed away, so its gradient is g broadcast along it (expand)
    jvp:       t_out = sum_i einsum(xs with x_i replaced by t_i)     # the product rule again
    saved:     xs
    """

    @staticmethod
    def forward(ctx, equation, *xs):
        ctx.ins, ctx.out, contracts = _split(equation)
        ctx.save_for_backward(*xs)
        out = np.einsum(equation, *xs, optimize=len(xs) > 2 or contracts and _big(ctx.ins, xs))
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        elif len(xs) == 1 and np.may_share_memory(out, xs[0]):
            out = out.copy()  # einsum returns views for transposes and diagonals
        return out

    @staticmethod
    def backward(ctx, g):
        xs = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return (None,) + tuple(_operand_grad(ctx, g, xs, i) if needs[i + 1] else None
                               for i in range(len(xs)))

    @staticmethod
    def jvp(ctx, _, *ts):
        equation, *xs = ctx.inputs
        out = None
        for i, t in enumerate(ts):
            if t is not None:  # None: an integer operand (no tangent)
                term = Einsum.apply(equation, *xs[:i], t, *xs[i + 1:])
                out = term if out is None else out + term
        return out


@functools.lru_cache(maxsize=512)
def _split(equation: str) -> tuple:
    """("ab,bc->ac") -> (["ab", "bc"], "ac", whether two operands contract with no batch letter).

    Only such a pair is a matrix product that BLAS can do (np.einsum's optimize path).
    """
    lhs, out = equation.split("->")
    ins = lhs.split(",")
    contracts = len(ins) == 2 and bool(set(ins[0]) & set(ins[1]) - set(out)) and not (
        set(ins[0]) & set(ins[1]) & set(out))
    return ins, out, contracts


def _big(ins, xs) -> bool:
    # np.einsum's own loops beat the path search and BLAS dispatch on small problems
    if xs[0].size * xs[1].size < _BLAS_WORK:
        return False
    sizes = {c: n for subs, x in zip(ins, xs) for c, n in zip(subs, x.shape)}
    return math.prod(sizes.values()) >= _BLAS_WORK


def _operand_grad(ctx, g, xs, i: int):
    """d(sum(g * out)) / d xs[i], as one einsum (plus an expand for letters only in xs[i])."""
    ins, used = ctx.ins, set("".join(ctx.ins)) | set(ctx.out)
    pool = (c for c in _LETTERS if c not in used)
    target, groups = [], {}
    for c in ins[i]:
        if c in groups:  # a repeated letter: a fresh name, tied back by an eye below
            fresh = next(pool, None)
            if fresh is None:
                raise NotImplementedError(
                    f"einsum backward: the equation {','.join(ins)}->{ctx.out} uses too many "
                    f"letters to name the diagonal of operand {i} (52 at most)")
            groups[c].append(fresh)
            target.append(fresh)
        else:
            groups[c] = [c]
            target.append(c)
    terms = [ctx.out] + [s for j, s in enumerate(ins) if j != i]
    args = [g] + [x for j, x in enumerate(xs) if j != i]
    for c, names in groups.items():
        if len(names) > 1:
            terms.append("".join(names))
            size = xs[i].array.shape[ins[i].index(c)]
            args.append(_delta(size, len(names), g.array.dtype))
    have = set("".join(terms))
    kept = "".join(c for c in target if c in have)
    if len(args) == 1 and kept == terms[0]:
        gx = g
    else:
        gx = Einsum.apply(",".join(terms) + "->" + kept, *args)
    shape = xs[i].array.shape
    if len(kept) < len(target):
        gx = Reshape.apply(gx, tuple(n if c in have else 1 for c, n in zip(target, shape)))
        gx = Expand.apply(gx, shape)
    return gx


def _delta(n: int, rank: int, dtype) -> np.ndarray:
    """The identity tensor of `rank` axes of size n: 1 where all indices are equal."""
    d = np.zeros((n,) * rank, dtype=dtype)
    d[(np.arange(n),) * rank] = 1
    return d


# ---------------------------------------------------------------- parsing and checking
def _terms(equation: str):
    """Split into input terms and the output term (None when implicit), with their offsets."""
    arrow = equation.find("->")
    lhs, rhs = (equation, None) if arrow < 0 else (equation[:arrow], equation[arrow + 2:])
    terms, start = [], 0
    for part in lhs.split(","):
        terms.append((part, start))
        start += len(part) + 1
    return terms, (None if rhs is None else (rhs, arrow + 2))


def _labels(term: str, start: int, what: str) -> list:
    """The letters of one term in order, with None where the ellipsis stands."""
    labels, i = [], 0
    while i < len(term):
        c = term[i]
        if c == ".":
            if None in labels:
                raise RuntimeError(f"einsum(): found '.' for {what} for which an ellipsis was "
                                   f"already found")
            if term[i:i + 3] != "...":
                raise RuntimeError(f"einsum(): found '.' for {what} that is not part of any "
                                   f"ellipsis (...)")
            labels.append(None)
            i += 3
            continue
        if c not in _VALID and not c.isspace():
            raise RuntimeError(f"einsum(): invalid subscript given at index {start + i} in the "
                               f"equation string, subscripts must be in [a-zA-Z]")
        if not c.isspace():
            labels.append(c)
        i += 1
    return labels


@functools.lru_cache(maxsize=512)
def _canonical(equation: str, shapes: tuple) -> tuple:
    """The canonical equation for Einsum, and per operand the shape to squeeze it to (or None).

    Canonical: every ellipsis spelled out in letters, the output given explicitly, and no
    size-1 dim that broadcasts. Cached: a training loop calls einsum with the same equation
    and shapes every step.
    """
    parsed, rhs = _operand_labels(equation, shapes)
    named = set(c for labels in parsed for c in labels if c is not None)
    ell_letters = _ellipsis_letters(equation, parsed, shapes, named)
    subs, sizes, count = _expand(parsed, shapes, ell_letters)
    out = _output(rhs, named, ell_letters, count)
    terms, squeezed = _drop_broadcast_dims(subs, shapes, sizes)
    return ",".join(terms) + "->" + out, squeezed


def _operand_labels(equation: str, shapes: tuple):
    """Each input term's labels (see `_labels`), checked against the number of operands."""
    terms, rhs = _terms(equation)
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation")
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                           "equation")
    return [_labels(term, start, f"operand {k}") for k, (term, start) in enumerate(terms)], rhs


def _ellipsis_letters(equation: str, parsed: list, shapes: tuple, named: set) -> list:
    """Letters unused by the equation, one per dim of the widest ellipsis; each term's letter
    count is checked against its operand's number of dims."""
    ell = 0
    for k, (labels, shape) in enumerate(zip(parsed, shapes)):
        n = len(labels) - (None in labels)
        if None not in labels and n != len(shape):
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({n}) does not match the "
                f"number of dimensions ({len(shape)}) for operand {k} and no ellipsis was given")
        if n > len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) is "
                               f"more than the number of dimensions ({len(shape)}) for operand "
                               f"{k}")
        if None in labels:
            ell = max(ell, len(shape) - n)
    free = [c for c in _LETTERS if c not in named]
    if ell > len(free):
        raise RuntimeError(f"einsum(): the equation {equation!r} needs {len(named) + ell} "
                           f"distinct subscripts; at most 52 are supported")
    return free[:ell]


def _expand(parsed: list, shapes: tuple, ell_letters: list):
    """Each operand's letters with its ellipsis spelled out (the ellipses right-aligned, as
    in broadcasting), every letter's broadcast size, and how many operand dims use it."""
    subs, sizes, count = [], {}, {}
    for k, (labels, shape) in enumerate(zip(parsed, shapes)):
        width = len(shape) - (len(labels) - 1) if None in labels else 0
        letters = []
        for c in labels:
            letters.extend(ell_letters[len(ell_letters) - width:] if c is None else [c])
        seen = {}
        for c, n in zip(letters, shape):
            count[c] = count.get(c, 0) + 1
            if c in seen and seen[c] != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {k} but "
                                   f"the sizes don't match, {n} != {seen[c]}")
            seen[c] = n
            _check_broadcast(c, n, sizes.get(c), k, ell_letters)
            if sizes.get(c) in (None, 1):
                sizes[c] = n
        subs.append(letters)
    return subs, sizes, count


def _check_broadcast(c: str, n: int, prev, k: int, ell_letters: list) -> None:
    """Size n of letter c in operand k against the size `prev` seen before (None: first)."""
    if prev is None or n == prev or 1 in (n, prev):
        return
    if c in ell_letters:
        raise RuntimeError(
            f"einsum(): dimension {ell_letters.index(c)} covered by ellipsis in "
            f"operand {k} has size {n} which does not broadcast with previously "
            f"seen ellipsis with size {prev} for the respective dimension")
    raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which "
                       f"does not broadcast with previously seen size {prev}")


def _drop_broadcast_dims(subs: list, shapes: tuple, sizes: dict):
    """Drop each size-1 dim that broadcasts against a larger one (the operand is constant
    along it): the operands' terms, and per operand the squeezed shape (None: unchanged)."""
    squeezed, terms = [], []
    for letters, shape in zip(subs, shapes):
        keep = [sizes[c] == n for c, n in zip(letters, shape)]
        if all(keep):
            squeezed.append(None)
            terms.append("".join(letters))
        else:
            squeezed.append(tuple(n for n, kept in zip(shape, keep) if kept))
            terms.append("".join(c for c, kept in zip(letters, keep) if kept))
    return terms, tuple(squeezed)


def _output(rhs, named: set, ell_letters: list, count: dict) -> str:
    if rhs is None:  # implicit: the ellipsis dims, then letters used once, in ASCII order
        return "".join(ell_letters) + "".join(sorted(c for c in named if count[c] == 1))
    labels = _labels(rhs[0], rhs[1], "output")
    out = []
    for c in labels:
        if c is None:
            out.extend(ell_letters)
            continue
        if c not in named:
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation "
                               f"for any input operand")
        if c in out:
            raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the "
                               f"output")
        out.append(c)
    return "".join(out)


def _from_sublists(args) -> tuple:
    """einsum(op0, [0, 1], op1, [1, 2], [0, 2]) -> ('AB,BC->AC', (op0, op1))."""
    out = None
    if len(args) % 2:
        args, out = args[:-1], args[-1]
    operands, lists = args[0::2], args[1::2]
    terms = [_sublist(s) for s in lists]
    equation = ",".join(terms) + ("" if out is None else "->" + _sublist(out))
    return equation, tuple(operands)


def _sublist(sub) -> str:
    if not isinstance(sub, (list, tuple)):
        raise TypeError(f"einsum(): a sublist must be a list of ints in [0, 52) or Ellipsis, "
                        f"got {type(sub).__name__}")
    parts = []
    for s in sub:
        if s is Ellipsis:
            parts.append("...")
        elif isinstance(s, (int, np.integer)) and not isinstance(s, bool) and 0 <= s < 52:
            parts.append(chr(ord("A") + s) if s < 26 else chr(ord("a") + s - 26))
        else:
            raise RuntimeError(f"einsum(): subscript in subscript list is not within the valid "
                               f"range [0, 52), got {s!r}")
    return "".join(parts)
