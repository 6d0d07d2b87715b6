"""A linear autoencoder from 2-D to 1-D and back, and its relation to PCA (seed 002).

The data are the seed's: 100 points uniform on the unit square, then sheared
(x0 <- x0 + x1, then x1 <- 0.5 x0 + x1), so they spread along one direction. The encoder
z = x0 w0 + x1 w1 + b squeezes each point to one number; the decoder maps it back to the
line b_dec + z w_dec (it fills the output column by column, `x[:, 0] = ...`, which autograd
handles by recording the in-place writes). Trained on the mean squared reconstruction
error, the best such autoencoder projects onto the first principal component: its loss
cannot go below PCA's, lambda_2 / 2 (the variance left in the second component, averaged
over the two coordinates), and its directions align with the first principal axis.

As in the notebook, the lab trains with SGD, SGD with momentum and RMSprop for 1000 steps
each, here all three from the same initial weights so that only the optimiser differs, and
puts the notebook's observations beside measurements: the final loss against the PCA
optimum, the angle between the learned directions and the first principal component, how
bumpy each loss curve is, and the encoder/decoder weight ratios the notebook prints (they
are equal in both coordinates exactly when encoder and decoder point the same way).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import chainrule as torch
import chainrule.nn  # noqa: F401 - makes torch.nn available
import chainrule.optim  # noqa: F401 - makes torch.optim available
from chainrule.labs._core import Result, Table

TITLE = "Linear autoencoder 2-D -> 1-D: SGD, momentum, RMSprop vs PCA"

OPTIMISERS = ("SGD", "SGD with momentum", "RMSprop")
COURSE_RATIOS = {"SGD": (0.052501105, 1.36625), "SGD with momentum": (0.8811451, 0.78346264),
                 "RMSprop": (2.523778, 2.5225258)}
COURSE_OBSERVATIONS = {
    "SGD": "loss curve very smooth",
    "SGD with momentum": "bumpy; learns faster than without momentum",
    "RMSprop": "bumpy; reconstruction almost perfectly linear: the best",
}


@dataclass
class Config:
    steps: int = 1000
    lr: float = 0.01
    momentum: float = 0.9            # SGD with momentum (the notebook's line is cut off there)
    rmsprop_momentum: float = 0.9    # the notebook's RMSprop call is cut off at "mome..."
    n: int = 100

    @classmethod
    def quick(cls) -> Config:
        return cls(steps=200)


def make_data(n: int = 100):
    """The notebook's data: uniform on the unit square, then sheared."""
    D = 2
    x = torch.rand(n, D)
    x[:, 0] = x[:, 0] + x[:, 1]
    x[:, 1] = 0.5 * x[:, 0] + x[:, 1]
    return x


def encoder(x, w, b):
    return x[:, 0] * w[0] + x[:, 1] * w[1] + b


def decoder(z, w, b):
    x = torch.ones(z.shape[0], 2)  # the notebook has ones(100, 2)
    x[:, 0] = z * w[:, 0] + b[:, 0]
    x[:, 1] = z * w[:, 1] + b[:, 1]
    return x


def train(x, init, optimiser: str, config: Config, compile: bool = False):
    """The notebook's training loop, from copies of the shared initial weights; a step's work
    is one function `step` (which `torch.compile` can trace once and replay)."""
    wEncoder, bEncoder, wDecoder, bDecoder = (p.clone().requires_grad_() for p in init)
    params = [wEncoder, bEncoder, wDecoder, bDecoder]
    if optimiser == "SGD":
        opt = torch.optim.SGD(params, lr=config.lr)
    elif optimiser == "SGD with momentum":
        opt = torch.optim.SGD(params, lr=config.lr, momentum=config.momentum)
    else:
        opt = torch.optim.RMSprop(params, lr=config.lr, momentum=config.rmsprop_momentum)
    loss_func = torch.nn.MSELoss()

    def step(x):
        opt.zero_grad()
        z = encoder(x, wEncoder, bEncoder)
        y = decoder(z, wDecoder, bDecoder)
        loss = loss_func(y, x)
        loss.backward()
        opt.step()
        return loss

    if compile:
        step = torch.compile(step)
    losses = []
    for i in range(config.steps):  # noqa: B007 - the notebook's loop
        loss = step(x)
        losses.append(loss.item())
    with torch.no_grad():
        y = decoder(encoder(x, wEncoder, bEncoder), wDecoder, bDecoder)
    return {"losses": losses, "y": y, "wEncoder": wEncoder.detach(),
            "wDecoder": wDecoder.detach(), "bEncoder": bEncoder.detach(),
            "bDecoder": bDecoder.detach()}


def pca(x):
    """The first principal axis of x and the least mean squared error of any 1-D linear
    reconstruction: the second eigenvalue of the (biased) covariance, over 2 coordinates."""
    centred = x - x.mean(dim=0)
    U, S, Vh = torch.linalg.svd(centred, full_matrices=False)
    return Vh[0], (S[1] ** 2 / x.numel()).item()


def angle_to(direction, axis) -> float:
    """Angle in degrees between two lines through the origin (0 to 90)."""
    cos = (direction @ axis).abs() / (direction.norm() * axis.norm())
    return math.degrees(math.acos(min(1.0, cos.item())))


def run(config: Config, ctx) -> Result:
    torch.manual_seed(ctx.seed)
    x = make_data(config.n)
    D = 2
    init = (torch.randn(D, 1), torch.randn(1), torch.randn(1, D), torch.randn(1, D))
    pc1, optimum = pca(x)
    runs = {o: ctx.train(o, lambda compile, o=o: train(x, init, o, config, compile))
            for o in ctx.progress(OPTIMISERS, desc="optimisers")}
    plot_losses(ctx, config, runs, optimum)
    plot_reconstructions(ctx, x, runs, pc1)
    return report(config, runs, pc1, optimum)


def plot_losses(ctx, config: Config, runs: dict, optimum: float) -> None:
    fig, ax = ctx.figure(size=(6.5, 4.0))
    for i, (o, r) in enumerate(runs.items()):
        ax.plot(range(1, config.steps + 1), r["losses"], color=f"C{i}", label=o)
    ax.axhline(optimum, color="k", linestyle="--", label=f"PCA optimum ({optimum:.4f})")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("MSE")
    ax.set_title(f"Loss vs steps, lr {config.lr:g}, same initial weights")
    ax.legend(fontsize=8)
    ctx.save(fig, "loss", "Loss of each optimiser against the step; dashed: the least loss "
             "any linear 2-1-2 autoencoder can reach (PCA).")


def plot_reconstructions(ctx, x, runs: dict, pc1) -> None:
    fig, axes = ctx.figure(ncols=3, size=(4.0, 4.0))
    mean = x.mean(dim=0)
    for ax, (o, r) in zip(axes, runs.items()):
        ax.scatter(x[:, 0].numpy(), x[:, 1].numpy(), color="cyan", s=12, label="input")
        ax.scatter(r["y"][:, 0].numpy(), r["y"][:, 1].numpy(), s=8, label="reconstruction")
        w = r["wEncoder"][:, 0]
        ax.plot([0, w[0].item()], [0, w[1].item()], color="C3", label="encoder weights")
        ends = torch.stack([mean - 1.5 * pc1, mean + 1.5 * pc1])
        ax.plot(ends[:, 0].numpy(), ends[:, 1].numpy(), "k--", linewidth=0.8,
                label="first principal axis")
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_title(f"{o}\nencoder {angle_to(w, pc1):.1f} deg off PC1")
    axes[0].legend(fontsize=7)
    ctx.save(fig, "reconstruction", "Input (cyan), reconstruction, the encoder's weight vector "
             "(as the notebook draws it) and the first principal axis through the mean.")


def measure(r: dict, pc1, optimum: float) -> dict:
    """One optimiser's run against PCA: loss, speed, bumpiness, angles, weight ratios."""
    losses = r["losses"]
    w_enc, w_dec = r["wEncoder"][:, 0], r["wDecoder"][0]
    return {"final_loss": losses[-1], "excess": losses[-1] / optimum - 1,
            "steps_to_10pct": next((i + 1 for i, v in enumerate(losses)
                                    if v <= 1.1 * optimum), None),
            "loss_rises": sum(b > a for a, b in zip(losses, losses[1:])),
            "angle_encoder_deg": angle_to(w_enc, pc1), "angle_decoder_deg": angle_to(w_dec, pc1),
            "ratio_enc_dec": (w_enc / w_dec).tolist()}


def report(config: Config, runs: dict, pc1, optimum: float) -> Result:
    rows, metrics = [], {"pca_optimum": optimum}
    for o, r in runs.items():
        m = metrics[o] = measure(r, pc1, optimum)
        within, ratio = m["steps_to_10pct"], m["ratio_enc_dec"]
        rows.append([o, f"{m['final_loss']:.5f}", f"{m['excess']:.1%}",
                     "-" if within is None else str(within), str(m["loss_rises"]),
                     f"{m['angle_encoder_deg']:.2f}", f"{m['angle_decoder_deg']:.2f}",
                     f"{ratio[0]:.3f}, {ratio[1]:.3f}",
                     f"{COURSE_RATIOS[o][0]:.3f}, {COURSE_RATIOS[o][1]:.3f}",
                     COURSE_OBSERVATIONS[o]])
    table = Table(f"After {config.steps} steps; PCA optimum loss {optimum:.5f}",
                  ["optimiser", "final loss", "above optimum", "steps to within 10%",
                   "steps where loss rose", "encoder angle to PC1 (deg)",
                   "decoder angle to PC1 (deg)", "wEnc/wDec per dim", "course wEnc/wDec",
                   "course observation"], rows,
                  note="The course's ratios come from its own random data and weights, so "
                  "only their pattern compares: equal ratios in both dimensions mean encoder "
                  "and decoder are parallel, which the optimum requires.")
    best = min(runs, key=lambda o: runs[o]["losses"][-1])
    summary = (f"PCA optimum {optimum:.4f}; final loss "
               + ", ".join(f"{o} {runs[o]['losses'][-1]:.4f}" for o in OPTIMISERS)
               + f"; best {best}, decoder {metrics[best]['angle_decoder_deg']:.2f} deg off PC1")
    return Result(summary, metrics, [table])


LISTING = [make_data, encoder, decoder, train, pca]
