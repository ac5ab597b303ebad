#!/usr/bin/python3
"""PyTorch's half of bench/train/run.sh: the same network and recipe as bench_train.c (SGD lr 0.01
momentum 0.9, Kaiming-normal weights, zero biases, batch B, one thread), on the same
Fashion-MNIST files normalised by the training split's mean and std. Prints
"torch ARCH images_per_s IPS test_acc ACC cpu_images_per_s C" (C: over the process's CPU time). Usage: torch_train.py ARCH WIDTH DEPTH BATCH EPOCHS TRAIN_N [SEED]
(SEED: torch.manual_seed for the weights and the data order; without it PyTorch's default seeding)
bench/torch/torch_grid.py imports the pieces (build, kaiming, train_epoch, accuracy)."""
import gzip, os, sys, time
import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "torch_ref"))
import gen  # the family definitions the reference test uses

D = "/usr/share/datasets/fashion-mnist"


def idx(name):
    with gzip.open(f"{D}/{name}.gz") as f:
        raw = f.read()
    nd = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * nd).reshape(dims)


def build(arch, width, depth):
    """cnndyn's layer stack of ARCH in torch.nn, with PyTorch's default initialisation."""
    return {"lenet5": lambda: gen.lenet(1, width, 28), "alexnet": lambda: gen.alexnet(1, width, 28),
            "vgg": lambda: gen.vgg(1, width, 28, depth or 4), "resnet": lambda: gen.ResNet(1, width, depth or 8)}[arch]()


def kaiming(net):
    """cnndyn's default initialisation: Kaiming-normal conv and linear weights, zero biases."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def train_epoch(net, opt, x, y, batch):
    """One epoch in an order from torch.randperm; returns (seconds, mean loss, CPU seconds), the loss NaN/inf
    and the epoch cut short when training diverged (as cnndyn stops)."""
    net.train()
    perm = torch.randperm(len(x))
    t0, c0, total = time.perf_counter(), time.process_time(), 0.0
    for s in range(0, len(x), batch):
        i = perm[s:s + batch]
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(x[i]), y[i])
        if not torch.isfinite(loss):
            return time.perf_counter() - t0, float("nan"), time.process_time() - c0
        loss.backward()
        opt.step()
        total += loss.item() * len(i)
    return time.perf_counter() - t0, total / len(x), time.process_time() - c0


def accuracy(net, x, y):
    net.eval()
    with torch.no_grad():
        return sum((net(x[s:s + 1000]).argmax(1) == y[s:s + 1000]).sum().item() for s in range(0, len(x), 1000)) / len(x)


if __name__ == "__main__":
    torch.set_num_threads(1)
    arch, width, depth, batch, epochs, ntrain = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    if len(sys.argv) > 7:
        torch.manual_seed(int(sys.argv[7]))
    xtr, ytr = idx("train-images-idx3-ubyte"), idx("train-labels-idx1-ubyte")
    xte, yte = idx("t10k-images-idx3-ubyte"), idx("t10k-labels-idx1-ubyte")
    if ntrain:
        xtr, ytr = xtr[:ntrain], ytr[:ntrain]
    mean, std = (xtr / 255.0).mean(), (xtr / 255.0).std()
    norm = lambda x: torch.tensor(((x / 255.0 - mean) / std).astype(np.float32)).unsqueeze(1)
    xtr, xte, ytr, yte = norm(xtr), norm(xte), torch.tensor(ytr.astype(np.int64)), torch.tensor(yte.astype(np.int64))
    net = build(arch, width, depth)
    kaiming(net)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    seconds = cpu = 0
    for e in range(epochs):
        dt, loss, dc = train_epoch(net, opt, xtr, ytr, batch)
        seconds, cpu = seconds + dt, cpu + dc
        print(f"torch epoch {e+1} loss {loss:.4f} ({dt:.2f} s)", file=sys.stderr)
    print(f"torch {arch} images_per_s {epochs * len(xtr) / seconds:.0f} test_acc {accuracy(net, xte, yte):.4f} cpu_images_per_s {epochs * len(xtr) / cpu:.0f}")
