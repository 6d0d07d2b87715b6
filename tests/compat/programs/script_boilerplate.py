"""The lines that open and close many modern training scripts: device choice, seeding,
cudnn flags, printing options, a checkpoint written to memory and read back, a timed step."""

import io

import torch
import torch.utils.benchmark as benchmark
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.dataloader import default_collate

if torch.cuda.is_available():
    device = torch.device("cuda")
elif torch.backends.mps.is_available():
    device = torch.device("mps")
else:
    device = torch.device("cpu")
print("device:", device, repr(device))
acc = torch.accelerator.current_accelerator() if torch.accelerator.is_available() else None
print("accelerator:", acc, torch.accelerator.device_count())
print("cuda:", torch.cuda.is_available(), torch.cuda.device_count())
torch.manual_seed(0)
torch.cuda.manual_seed_all(0)
torch.backends.cudnn.deterministic = True
torch.backends.cudnn.benchmark = False
print("cudnn flags:", torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
torch.set_default_device("cpu")
print("default device:", torch.get_default_device())
gpu = torch.device("cuda", 0)
print("a gpu device object:", gpu, gpu.type, gpu.index)

torch.set_printoptions(precision=3, sci_mode=False)
print(torch.tensor([1e-5, 123.456789, 3.0]))
torch.set_printoptions(threshold=10, edgeitems=2)
print(torch.arange(100.0).view(10, 10))
torch.set_printoptions(profile="default")
print(torch.tensor([1e-5, 123.456789, 3.0]))

ds = TensorDataset(torch.arange(12.0).view(6, 2), torch.arange(6))
loader = DataLoader(ds, batch_size=4, num_workers=0, pin_memory=False, drop_last=False)
for xb, yb in loader:
    print("batch:", xb.tolist(), yb.tolist())
print("collate:", default_collate([(1, 2.0), (3, 4.0)]))

model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
with torch.no_grad():
    for k, p in enumerate(model.parameters()):
        p.copy_(torch.linspace(-0.5, 0.5, p.numel()).view_as(p) * (k + 1))
buffer = io.BytesIO()
torch.save({"model": model.state_dict(), "epoch": 3}, buffer)
buffer.seek(0)
checkpoint = torch.load(buffer, map_location="cpu", weights_only=True)
clone = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
clone.load_state_dict(checkpoint["model"])
x = torch.tensor([[0.5, -1.0]])
print("restored:", checkpoint["epoch"], torch.equal(model(x), clone(x)), clone(x).detach())

timer = benchmark.Timer(stmt="model(x)", globals={"model": model, "x": x})
m = timer.timeit(10)
print("timed:", m.number_per_run, len(m.times), m.mean > 0)
zeros = torch.empty(2, 3, dtype=torch.float64, layout=torch.strided,
                    memory_format=torch.contiguous_format)
print("empty:", zeros.shape, zeros.dtype, torch.zeros_like(x, memory_format=torch.preserve_format))
