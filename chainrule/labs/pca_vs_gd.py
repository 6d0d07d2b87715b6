"""PCA against the gradient-descent factor (seed 001 exercise 1.3, seed 000's Figure 1).

SVD writes the mean-centred Iris data as A = U S V^T; the first two columns of U S are the
data projected on the first two principal axes (PCA). Gradient descent's rank-2 factor U_gd
(from `gd_factorise_ad`) is plotted beside them. The seed observes that "a linear rotation
and scaling transformation would map one to the other". This lab measures it: the 2 x 2
matrix M that best maps the PCA scores P onto U_gd (least squares, P M ~ U_gd), how much of
U_gd it leaves unexplained, and the principal angles between the two column spaces.

Why it holds: the loss ||A - U V^T||^2 depends on U and V only through the product U V^T,
and every minimiser spans the same column space as the top-2 principal directions
(Eckart-Young). Gradient descent finds one of the many factorisations U V^T = (P M)(V_2 M^-T)^T,
so U_gd = P M for an invertible M: a general linear map, not necessarily a rotation, and
which M depends on the random start. PCA's extra condition (orthogonal axes ordered by
variance) is what picks one representative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import chainrule as torch
from chainrule.labs._core import Result, Table
from chainrule.labs.factorise import gd_factorise_ad, iris_centred

TITLE = "PCA vs the gradient-descent factor U: one linear map apart"


@dataclass
class Config:
    epochs: int = 1000
    lr: float = 0.01

    @classmethod
    def quick(cls) -> Config:
        return cls()  # about a second already; fewer epochs stop before GD converges


def pca_scores(A, k: int = 2):
    """The data projected on its first k principal axes: A V_k = U_k S_k."""
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    return U[:, :k] * S[:k], U[:, :k]


def best_linear_map(P, U_gd):
    """The M minimising ||P M - U_gd||_F. PCA scores have orthogonal columns (P^T P is
    diagonal), so the normal equations (P^T P) M = P^T U_gd are solved by a division."""
    PtP = (P * P).sum(dim=0)                 # the diagonal of P^T P: the squared singular values
    return (P.t() @ U_gd) / PtP.unsqueeze(1)


def principal_angles(Q1, B):
    """Angles (degrees) between span(Q1) (orthonormal columns) and span(B): arcsin of the
    singular values of the part of B's orthonormal basis that Q1 does not capture."""
    Q2 = torch.linalg.svd(B, full_matrices=False).U
    sines = torch.linalg.svdvals(Q2 - Q1 @ (Q1.t() @ Q2))
    return sorted(math.degrees(math.asin(min(1.0, s))) for s in sines.tolist())


def run(config: Config, ctx) -> Result:
    A, target, names = iris_centred()
    torch.manual_seed(ctx.seed)
    U_gd, V_gd = gd_factorise_ad(A, 2, config.epochs, config.lr)
    P, Q = pca_scores(A)
    m = compare(P, Q, U_gd)
    plot_scores(ctx, P, U_gd, m, target, names)
    return report(m, ((A - U_gd @ V_gd.t()) ** 2).sum().item())


def compare(P, Q, U_gd) -> dict:
    """The map M from the PCA scores P to U_gd, what it misses, and what it does."""
    M = best_linear_map(P, U_gd)
    scales = torch.linalg.svdvals(M).tolist()
    return {"M": M, "residual": ((P @ M - U_gd).norm() / U_gd.norm()).item(),
            "angles": principal_angles(Q, U_gd), "scales": scales,
            "det": (M[0, 0] * M[1, 1] - M[0, 1] * M[1, 0]).item(),
            # how far M is from a rotation-and-uniform-scaling: its singular values' ratio
            "anisotropy": scales[0] / scales[1]}


def plot_scores(ctx, P, U_gd, m: dict, target, names) -> None:
    fig, axes = ctx.figure(ncols=3, size=(4.2, 4.0))
    mapped = P @ m["M"]
    for c, name in enumerate(names):
        sel = (target == c).numpy()
        label = name.replace("Iris-", "")
        axes[0].scatter(P[:, 0].numpy()[sel], P[:, 1].numpy()[sel], s=12, label=label)
        axes[1].scatter(U_gd[:, 0].numpy()[sel], U_gd[:, 1].numpy()[sel], s=12, label=label)
        axes[2].scatter(U_gd[:, 0].numpy()[sel], U_gd[:, 1].numpy()[sel], s=30,
                        facecolors="none", edgecolors=f"C{c}")
        axes[2].scatter(mapped[:, 0].numpy()[sel], mapped[:, 1].numpy()[sel], s=6,
                        color=f"C{c}")
    axes[0].set_title("PCA: data on the first two principal axes")
    axes[0].set_xlabel("PC 1")
    axes[0].set_ylabel("PC 2")
    axes[1].set_title(r"Gradient descent: rows of $\hat U$")
    axes[1].set_xlabel(r"$\hat U_{:,1}$")
    axes[1].set_ylabel(r"$\hat U_{:,2}$")
    axes[2].set_title(rf"$\hat U$ (rings), $P M$ (dots): residual {m['residual']:.0e}")
    axes[2].set_xlabel(r"$\hat U_{:,1}$")
    for ax in axes:
        ax.set_aspect("equal", adjustable="datalim")
    axes[0].legend(fontsize=8)
    ctx.save(fig, "pca_vs_gd", "Rank-2 reduction of Iris: PCA scores, the GD factor U, and "
             "the PCA scores mapped by the least-squares 2x2 matrix M onto U.")


def report(m: dict, gd_loss: float) -> Result:
    M, residual, angles, scales = m["M"], m["residual"], m["angles"], m["scales"]
    table = Table("PCA scores P vs the GD factor U: measured vs the course's observation",
                  ["quantity", "measured", "course"],
                  [["relative residual ||P M - U|| / ||U||", f"{residual:.2e}",
                    "a linear map takes one to the other"],
                   ["principal angles between the subspaces (degrees)",
                    ", ".join(f"{a:.2e}" for a in angles), "-"],
                   ["M", f"[[{M[0, 0]:.3f}, {M[0, 1]:.3f}], [{M[1, 0]:.3f}, {M[1, 1]:.3f}]]",
                    "rotation and scaling"],
                   ["singular values of M (scalings)", ", ".join(f"{s:.3f}" for s in scales),
                    "-"],
                   ["det M (negative: includes a reflection)", f"{m['det']:.4f}", "-"],
                   ["anisotropy s1/s2 (1 for rotation x uniform scale)",
                    f"{m['anisotropy']:.2f}", "-"]])
    metrics = {"residual": residual, "angles_deg": angles, "M": M, "singular_values_M": scales,
               "det_M": m["det"], "gd_loss": gd_loss}
    summary = (f"U_gd = P M up to a relative residual of {residual:.1e}; principal angles "
               f"{angles[0]:.1e} and {angles[1]:.1e} degrees; M scales by "
               f"{scales[0]:.3f} and {scales[1]:.3f}")
    notes = ["The residual is not exactly 0 only because 1000 epochs leave GD slightly short "
             "of the optimum: the column space of U converges to the principal subspace. "
             "M is a general invertible map (its two singular values differ), so \"rotation "
             "and scaling\" is right when the scaling may differ per direction."]
    return Result(summary, metrics, [table], notes)


LISTING = [pca_scores, best_linear_map, principal_angles]
