"""chainrule.optim: the optimizers and learning-rate schedulers of torch.optim.

    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
        sched.step()

Each optimizer follows torch's single-tensor update formulas in torch's order of operations,
on the parameters' NumPy arrays in place, so runs agree with torch.optim to rounding.
"""

from chainrule.optim import lr_scheduler
from chainrule.optim.adadelta import Adadelta
from chainrule.optim.adagrad import Adagrad
from chainrule.optim.adam import Adam, AdamW
from chainrule.optim.adamax import Adamax
from chainrule.optim.asgd import ASGD
from chainrule.optim.lbfgs import LBFGS
from chainrule.optim.nadam import NAdam
from chainrule.optim.optimizer import Optimizer
from chainrule.optim.radam import RAdam
from chainrule.optim.rmsprop import RMSprop
from chainrule.optim.rprop import Rprop
from chainrule.optim.sgd import SGD

__all__ = ["ASGD", "LBFGS", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam",
           "Optimizer", "RAdam", "RMSprop", "Rprop", "lr_scheduler"]
