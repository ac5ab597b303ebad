#!/usr/bin/python3
"""PyTorch's half of bench/train/run.sh: the same network and recipe as bench_train.c (SGD lr 0.01
momentum 0.9, Kaiming-normal weights, zero biases, batch B, one thread), on the same
Fashion-MNIST files normalised by the training split's mean and std. Prints
"torch ARCH images_per_s IPS test_acc ACC". Usage: torch_train.py ARCH WIDTH DEPTH BATCH EPOCHS TRAIN_N [SEED]
(SEED: torch.manual_seed for the weights and the data order; without it PyTorch's default seeding)"""
import gzip, os, sys, time
import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "torch_ref"))
import gen  # the family definitions the reference test uses

torch.set_num_threads(1)
arch, width, depth, batch, epochs, ntrain = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
if len(sys.argv) > 7:
    torch.manual_seed(int(sys.argv[7]))
D = "/usr/share/datasets/fashion-mnist"


def idx(name):
    with gzip.open(f"{D}/{name}.gz") as f:
        raw = f.read()
    nd = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * nd).reshape(dims)


xtr, ytr = idx("train-images-idx3-ubyte"), idx("train-labels-idx1-ubyte")
xte, yte = idx("t10k-images-idx3-ubyte"), idx("t10k-labels-idx1-ubyte")
if ntrain:
    xtr, ytr = xtr[:ntrain], ytr[:ntrain]
mean, std = (xtr / 255.0).mean(), (xtr / 255.0).std()
norm = lambda x: torch.tensor(((x / 255.0 - mean) / std).astype(np.float32)).unsqueeze(1)
xtr, xte, ytr, yte = norm(xtr), norm(xte), torch.tensor(ytr.astype(np.int64)), torch.tensor(yte.astype(np.int64))

net = {"lenet5": lambda: gen.lenet(1, width, 28), "alexnet": lambda: gen.alexnet(1, width, 28),
       "vgg": lambda: gen.vgg(1, width, 28, depth or 4), "resnet": lambda: gen.ResNet(1, width, depth or 8)}[arch]()
for m in net.modules():
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        if m.bias is not None:
            nn.init.zeros_(m.bias)
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
seconds = 0
for e in range(epochs):
    net.train()
    perm = torch.randperm(len(xtr))
    t0 = time.perf_counter()
    for s in range(0, len(xtr), batch):
        i = perm[s:s + batch]
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(xtr[i]), ytr[i])
        loss.backward()
        opt.step()
    seconds += time.perf_counter() - t0
    print(f"torch epoch {e+1} loss {loss.item():.4f} ({time.perf_counter() - t0:.2f} s)", file=sys.stderr)
net.eval()
with torch.no_grad():
    acc = sum((net(xte[s:s + 1000]).argmax(1) == yte[s:s + 1000]).sum().item() for s in range(0, len(xte), 1000)) / len(xte)
print(f"torch {arch} images_per_s {epochs * len(xtr) / seconds:.0f} test_acc {acc:.4f}")
