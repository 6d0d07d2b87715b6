"""An MNIST-style MLP in the style of pytorch/examples' mnist/main.py: torchvision transforms,
a Dataset, DataLoader, Adadelta with StepLR, train and test loops, argparse, device choice.

The images are a small synthetic set of 28x28 uint8 "digits" (a bar whose position and
angle encode the label), so that the program runs anywhere with no download; swap in
`datasets.MNIST('../data', train=True, download=True, transform=transform)` for the real one.
"""

import argparse
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms


class SyntheticDigits(Dataset):
    """n images of 28x28 uint8 pixels; label k draws a bar at angle k*18 degrees."""

    def __init__(self, n, offset=0, transform=None):
        self.n, self.offset, self.transform = n, offset, transform

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        i = i + self.offset
        label = i % 10
        rows, cols = np.mgrid[0:28, 0:28].astype(np.float64) - 13.5
        angle = math.radians(label * 18 + (i * 7) % 11)
        dist = np.abs(rows * math.cos(angle) - cols * math.sin(angle))
        img = np.clip(255 * np.exp(-dist**2 / 4.0) * (1 - ((i * 13) % 17) / 40), 0, 255)
        return self.transform(img.astype(np.uint8)), label


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


def init_weights(model):
    """Fixed starting weights (the example draws them at random)."""
    with torch.no_grad():
        for k, p in enumerate(model.parameters()):
            n = p.numel()
            p.copy_(0.05 * torch.sin(torch.arange(n, dtype=torch.float32) * (0.7 + k)).view_as(p))


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    total = 0.0
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        total += loss.item()
        if batch_idx % args.log_interval == 0:
            print(f"~Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)}]"
                  f"\tLoss: {loss.item():.6f}")
    return total / len(train_loader)


def test(model, device, test_loader):
    model.eval()
    test_loss, correct = 0.0, 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    print(f"~Test set: Average loss: {test_loss:.4f}")
    print(f"Accuracy: {correct}/{len(test_loader.dataset)}")


def main():
    parser = argparse.ArgumentParser(description="PyTorch MNIST-style MLP")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--gamma", type=float, default=0.7)
    parser.add_argument("--log-interval", type=int, default=5)
    args = parser.parse_args()
    use_accel = torch.accelerator.is_available()
    device = torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")
    torch.backends.cudnn.deterministic = True
    kwargs = {"batch_size": args.batch_size, "shuffle": False}  # fixed order: comparable runs
    if torch.cuda.is_available():
        kwargs.update({"num_workers": 1, "pin_memory": True})
    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((0.1307,), (0.3081,))])
    train_loader = DataLoader(SyntheticDigits(320, transform=transform), **kwargs)
    test_loader = DataLoader(SyntheticDigits(100, offset=1000, transform=transform),
                             batch_size=50)
    model = Net().to(device)
    init_weights(model)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        mean_loss = train(args, model, device, train_loader, optimizer, epoch)
        print(f"~epoch {epoch} mean loss {mean_loss:.6f} lr {scheduler.get_last_lr()[0]:.4f}")
        test(model, device, test_loader)
        scheduler.step()
    print("first image:", tuple(train_loader.dataset[0][0].shape),
          round(train_loader.dataset[0][0].mean().item(), 5))


if __name__ == "__main__":
    main()
