"""Learning-rate schedules as courses plot them: the rate at each of 12 epochs."""

import torch


def schedule(make, epochs=12):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = make(opt)
    rates = []
    for _ in range(epochs):
        rates.append(round(opt.param_groups[0]["lr"], 8))
        opt.step()
        sched.step()
    return rates


S = torch.optim.lr_scheduler
print("StepLR", schedule(lambda o: S.StepLR(o, step_size=3, gamma=0.5)))
print("MultiStepLR", schedule(lambda o: S.MultiStepLR(o, milestones=[2, 5, 9], gamma=0.3)))
print("ExponentialLR", schedule(lambda o: S.ExponentialLR(o, gamma=0.9)))
print("CosineAnnealingLR", schedule(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.01)))
print("LambdaLR", schedule(lambda o: S.LambdaLR(o, lambda e: 1 / (e + 1))))
print("LinearLR", schedule(lambda o: S.LinearLR(o, start_factor=0.25, total_iters=4)))
print("OneCycleLR", schedule(lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=12)))
print("CosineAnnealingWarmRestarts",
      schedule(lambda o: S.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2)))
print("SequentialLR", schedule(lambda o: S.SequentialLR(
    o, [S.LinearLR(o, start_factor=0.1, total_iters=3), S.ExponentialLR(o, gamma=0.8)],
    milestones=[3])))

opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
plateau = S.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1)
for val_loss in [1.0, 0.9, 0.95, 0.97, 0.96, 0.5, 0.6, 0.7]:
    plateau.step(val_loss)
    print("plateau", val_loss, opt.param_groups[0]["lr"])
