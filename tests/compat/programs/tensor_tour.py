"""A tour of tensors, in the style of PyTorch's "Tensors" tutorial."""

import numpy as np
import torch

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
print("from list:", x_data, x_data.dtype)
np_array = np.array(data)
x_np = torch.from_numpy(np_array)
print("from numpy:", x_np)
x_ones = torch.ones_like(x_data)
print("ones_like:", x_ones)
x_float = torch.zeros_like(x_data, dtype=torch.float)
print("zeros_like float:", x_float)

shape = (2, 3)
print("ones:", torch.ones(shape))
print("zeros:", torch.zeros(shape))
print("full:", torch.full((2, 2), 7.5))
print("arange:", torch.arange(0, 10, 3), torch.arange(0.0, 1.0, 0.25))
print("linspace:", torch.linspace(-1, 1, 5))
print("eye:", torch.eye(3))

tensor = torch.linspace(0, 11, 12).reshape(3, 4)
print(f"Shape of tensor: {tensor.shape}")
print(f"Datatype of tensor: {tensor.dtype}")
print(f"Device tensor is stored on: {tensor.device}")
device = "cuda" if torch.cuda.is_available() else "cpu"
tensor = tensor.to(device)
print("first row:", tensor[0])
print("first column:", tensor[:, 0])
print("last column:", tensor[..., -1])
tensor[:, 1] = 0
print(tensor)
t1 = torch.cat([tensor, tensor, tensor], dim=1)
print("cat:", t1.shape)
print("stack:", torch.stack([tensor, tensor]).shape)

y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
print("matmul:", y1, torch.equal(y1, y2))
z1 = tensor * tensor
print("mul:", z1)
agg = tensor.sum()
print("sum item:", agg.item(), type(agg.item()).__name__)
print("mean/std:", tensor.mean().item(), round(tensor.std().item(), 4))
values, indices = tensor.max(dim=1)
print("max:", values, indices)
print("argmax:", tensor.argmax(dim=0))
tensor.add_(5)
print("add_:", tensor)

t = torch.ones(5)
n = t.numpy()
t.add_(1)
print("numpy shares memory:", n)
n2 = np.ones(5)
t2 = torch.from_numpy(n2)
np.add(n2, 1, out=n2)
print("from_numpy shares memory:", t2)

x = torch.arange(24).view(2, 3, 4)
print("view/permute:", x.permute(2, 0, 1).shape, x.transpose(0, 1).contiguous().view(3, -1).shape)
print("squeeze/unsqueeze:", x.unsqueeze(0).shape, torch.zeros(1, 3, 1).squeeze().shape)
print("where:", torch.where(x[0] > 5, x[0], -x[0]))
print("broadcast:", torch.arange(3).view(3, 1) + torch.arange(4))
print("comparison:", (torch.arange(5) % 2 == 0))
print("float ops:", torch.exp(torch.tensor([0.0, 1.0])), torch.sqrt(torch.tensor([4.0, 2.0])))
print("dtype conversions:", torch.tensor([1.7, -1.7]).long(), torch.tensor([1, 0]).bool())
print("int division:", torch.tensor([7, -7]) // 2, torch.tensor([7.0]) / 2)
torch.set_printoptions(precision=2)
print("precision 2:", torch.tensor([3.14159, 2.71828]))
torch.set_printoptions(profile="default")
print("indexing:", x[1, :, ::2], x[x > 20])
