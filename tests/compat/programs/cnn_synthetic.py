"""A small CNN in the style of the CIFAR-10 tutorial: Conv2d, BatchNorm2d, MaxPool2d,
Dropout (switched off: its random mask would differ between libraries), SGD with momentum
and weight decay, CrossEntropyLoss, on 8x8 synthetic images (stripes whose direction is the
class) with fixed starting weights."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(4, 8, 3)
        self.fc1 = nn.Linear(8 * 2 * 2, 16)
        self.dropout = nn.Dropout(0.25)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = F.relu(self.conv2(x))
        x = torch.flatten(x, 1)
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)


def images(n):
    k = torch.arange(n)
    rows = torch.arange(8.0).view(1, 8, 1)
    cols = torch.arange(8.0).view(1, 1, 8)
    phase = (k % 5).float().view(-1, 1, 1) * 0.3
    horizontal = torch.sin(rows * 1.3 + phase).expand(n, 8, 8)
    vertical = torch.sin(cols * 1.3 + phase).expand(n, 8, 8)
    diagonal = torch.sin((rows + cols) * 0.9 + phase)
    label = k % 3
    x = torch.where((label == 0).view(-1, 1, 1), horizontal,
                    torch.where((label == 1).view(-1, 1, 1), vertical, diagonal))
    return x.unsqueeze(1), label


net = Net()
with torch.no_grad():
    for i, p in enumerate(net.parameters()):
        p.copy_(0.3 * torch.cos(torch.arange(p.numel(), dtype=torch.float32) * (1.1 + i))
                .view_as(p))
print(net)
print("parameters:", sum(p.numel() for p in net.parameters() if p.requires_grad))
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
x, y = images(60)
net.train()
net.dropout.eval()  # dropout off: its random mask would differ between the two libraries
for epoch in range(12):
    for start in range(0, 60, 20):
        inputs, labels = x[start:start + 20], y[start:start + 20]
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
    if epoch % 3 == 2:
        print(f"~[{epoch + 1}] loss: {loss.item():.6f}")
net.eval()
with torch.no_grad():
    test_x, test_y = images(30)
    _, predicted = torch.max(net(test_x + 0.05), 1)
    print("correct:", (predicted == test_y).sum().item(), "of", test_y.size(0))
print("~running mean:", [round(v, 5) for v in net.bn1.running_mean.tolist()])
print("conv1 out shape:", tuple(net.conv1(x[:2]).shape), "pool:", tuple(net.pool(x[:2]).shape))
