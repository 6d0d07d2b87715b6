"""The two factorisation ops a multivariate normal needs: Cholesky and a triangular solve.

Both are primitives with hand-written rules (a composition of elementwise ops cannot express
them); their backwards are written with chainrule ops, so they are differentiable again.
"""

from __future__ import annotations

import numpy as np

from chainrule.autograd.function import Op


class Cholesky(Op):
    """Lower-triangular L with A = L L^T, for symmetric positive-definite A (batched).

    forward:   L = cholesky(A)
    backward:  X  = tril(L^T gL)                       # only tril(gL) matters: L is lower
               Xs = (X + tril(X, -1)^T) / 2            # symmetric, half the diagonal
               gA = L^-T Xs L^-1                       # two triangular solves
               (Murray 2016, "Differentiation of the Cholesky decomposition"; torch's rule)
    jvp:       M = L^-1 tA L^-T;   t_L = L (tril(M) + tril(M, -1)) / 2
               # from tA = tL L^T + L tL^T: L^-1 tL is lower, and M is its sum with its
               # transpose, so its lower part with half the diagonal gives it back (torch's)
    saved:     L
    edges:     A not positive-definite raises RuntimeError, as torch.linalg.cholesky
    """

    @staticmethod
    def forward(ctx, a):
        try:
            lower = np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise RuntimeError(
                f"linalg.cholesky: the factorization could not be completed because the input "
                f"(shape {a.shape}) is not positive-definite"
            ) from None
        ctx.save_for_backward(lower)
        return lower

    @staticmethod
    def backward(ctx, g):
        (lower,) = ctx.saved_tensors
        x = lower.mT.matmul(g).tril()
        x = 0.5 * (x + x.tril(-1).mT)
        y = solve_triangular(lower.mT, x, upper=True)              # Y = L^-T Xs
        return (solve_triangular(lower.mT, y.mT, upper=True).mT,)  # Z L = Y <=> L^T Z^T = Y^T

    @staticmethod
    def jvp(ctx, ta):
        (lower,) = ctx.outputs
        x = solve_triangular(lower, ta, upper=False)                # L^-1 tA
        m = solve_triangular(lower, x.mT, upper=False).mT           # (L^-1 (L^-1 tA)^T)^T
        return lower.matmul(0.5 * (m.tril() + m.tril(-1)))


class SolveTriangular(Op):
    """X = A^-1 B for triangular A (only its lower or upper triangle is read), batched.

    forward:   X = solve(tri(A), B)
    backward:  gB = A^-T gX                      # a solve with A^T, whose triangle is the other
               gA = tri(-gB X^T)                 # dX = -A^-1 dA X; only A's triangle is an input
    jvp:       t_X = solve(tri(A), tB - tri(tA) X)
    saved:     A, X
    """

    @staticmethod
    def forward(ctx, a, b, upper):
        tri = np.triu(a) if upper else np.tril(a)
        shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        out = np.linalg.solve(np.broadcast_to(tri, shape + a.shape[-2:]),
                              np.broadcast_to(b, shape + b.shape[-2:]))
        ctx.save_for_backward(a, out)
        ctx.upper, ctx.shapes = upper, (a.shape, b.shape)
        return out.astype(np.result_type(a, b), copy=False)

    @staticmethod
    def backward(ctx, g):
        from chainrule.ops.shape import sum_to

        a, out = ctx.saved_tensors
        gb = solve_triangular(a.mT, g, upper=not ctx.upper)
        ga = -gb.matmul(out.mT)
        ga = ga.triu() if ctx.upper else ga.tril()
        return sum_to(ga, ctx.shapes[0]), sum_to(gb, ctx.shapes[1]), None

    @staticmethod
    def jvp(ctx, ta, tb, _):
        a, upper, (out,) = ctx.inputs[0], ctx.upper, ctx.outputs
        return solve_triangular(a, tb - (ta.triu() if upper else ta.tril()).matmul(out),
                                upper=upper)


def cholesky(a):
    """torch.linalg.cholesky(a) (lower)."""
    return Cholesky.apply(a)


def solve_triangular(a, b, *, upper: bool):
    """torch.linalg.solve_triangular(a, b, upper=upper) (left=True)."""
    return SolveTriangular.apply(a, b, upper)
