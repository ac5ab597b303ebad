#!/usr/bin/python3
"""Writes the PyTorch reference fixtures tests/test_torch_ref.c compares cnndyn against.

Run by hand with Debian's python3-torch (scripts/install-deps.sh --bench installs it):
    /usr/bin/python3 tests/torch_ref/gen.py tests/torch_ref
One small network per family, the layer stacks of docs/graph.md "Architectures" built from torch.nn
with parameters registered in cnndyn's order. The reference is computed in float64 from float32
weights and inputs, so the only rounding left in a comparison is cnndyn's own.

File format (little endian): 8-byte magic "CDNREF1\\0"; arch name (16 bytes, NUL padded); int32
in_c, h, w, depth, optimizer (0 sgd, 1 nesterov, 2 adam), batch, classes, nparam, nstats, steps;
float64 width, lr, momentum, weight_decay; then float32 params[nparam], x[batch*in_c*h*w],
int32 y[batch], float32 logits[batch*classes], float64 loss, float32 grad[nparam],
params_after[nparam], stats_after[nstats] (running mean then variance of each BatchNorm).
The first forward/backward is at the initial parameters; `steps` optimizer steps follow, each on
the same batch in training mode.
"""
import math, struct, sys
import torch
import torch.nn as nn

torch.manual_seed(1234)


def scaled(base, w):
    return max(1, int(math.floor(base * w + 0.5)))


class Seq(nn.Module):
    """Modules applied in order; names as cnndyn's layer names (dots allowed via a dict)."""
    def __init__(self, layers):
        super().__init__()
        self.names = [n for n, _ in layers]
        self.mods = nn.ModuleDict({n.replace(".", "_"): m for n, m in layers})

    def forward(self, x):
        for n in self.names:
            x = self.mods[n.replace(".", "_")](x)
        return x


def head(c_in, hidden, classes):
    layers, relu = [("flatten", nn.Flatten())], 0
    for i, h in enumerate(hidden + [classes]):
        layers.append((f"fc{i+1}", nn.Linear(c_in, h)))
        c_in = h
        if i < len(hidden):
            layers.append((f"relu_h{i}", nn.ReLU()))
    return layers


def lenet(c, w, hw):
    a, b = scaled(6, w), scaled(16, w)
    s = ((hw // 2) - 4) // 2
    return Seq([("conv1", nn.Conv2d(c, a, 5, padding=2)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2, 2)),
                ("conv2", nn.Conv2d(a, b, 5)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2, 2))]
               + head(b * s * s, [scaled(120, w), scaled(84, w)], 10))


def alexnet(c, w, hw):
    ch = [scaled(64, w), scaled(192, w), scaled(384, w), scaled(256, w), scaled(256, w)]
    L, cin, s = [], c, hw
    for i in range(5):
        k, p = (5, 2) if i < 2 else (3, 1)
        L += [(f"conv{i+1}", nn.Conv2d(cin, ch[i], k, padding=p)), (f"relu{i+1}", nn.ReLU())]
        cin = ch[i]
        if i < 2 or i == 4:
            L.append((f"pool{i+1}", nn.MaxPool2d(3, 2, 1)))
            s = (s + 2 - 3) // 2 + 1
    return Seq(L + head(cin * s * s, [scaled(1024, w), scaled(1024, w)], 10))


def vgg(c, w, hw, depth):
    L, cin, s, n = [], c, hw, 0
    for b in range(depth // 2):
        for _ in range(2):
            n += 1
            L += [(f"conv{n}", nn.Conv2d(cin, scaled(32 << b, w), 3, padding=1)), (f"relu{n}", nn.ReLU())]
            cin = scaled(32 << b, w)
        L.append((f"pool{b+1}", nn.MaxPool2d(2, 2)))
        s //= 2
    return Seq(L + head(cin * s * s, [scaled(256, w)], 10))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        # registration order = cnndyn's layer order
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (self.down(x) if self.down is not None else x))


class ResNet(nn.Module):
    def __init__(self, c, w, depth):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(c, scaled(16, w), 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(scaled(16, w))
        blocks, cin = [], scaled(16, w)
        for s in range(3):
            for b in range(n):
                cout = scaled(16 << s, w)
                blocks.append(Block(cin, cout, 2 if s and not b else 1))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, 10)

    def forward(self, x):
        x = self.blocks(torch.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(x.mean((2, 3), keepdim=True), 1))


def write(path, arch, net, c, hw, width, depth, opt, lr, mom, wd, steps=2, batch=4):
    net = net.float()
    for m in net.modules():  # BatchNorm's gamma and beta away from 1 and 0, so a swap would show
        if isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.5, 0.5)
    params = [p.detach().clone() for p in net.parameters()]
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    x = torch.randn(batch, c, hw, hw)
    y = torch.randint(0, 10, (batch,), dtype=torch.int32)
    net = net.double()
    net.train()
    if opt == 2:
        o = torch.optim.Adam(net.parameters(), lr=lr, betas=(mom, 0.999), eps=1e-8, weight_decay=wd)
    else:
        o = torch.optim.SGD(net.parameters(), lr=lr, momentum=mom, weight_decay=wd, nesterov=opt == 1)
    first = None
    for s in range(steps):
        o.zero_grad()
        out = net(x.double())
        loss = nn.functional.cross_entropy(out, y.long())
        loss.backward()
        if first is None:
            first = (out.detach().clone(), loss.item(), [p.grad.detach().clone() for p in net.parameters()])
        o.step()
    flat = lambda ts: torch.cat([t.reshape(-1) for t in ts]).float().numpy().tobytes() if ts else b""
    stats = []
    for m in bns:
        stats += [m.running_mean, m.running_var]
    nparam = sum(p.numel() for p in params)
    nstats = sum(t.numel() for t in stats)
    with open(path, "wb") as f:
        f.write(b"CDNREF1\0" + arch.encode().ljust(16, b"\0"))
        f.write(struct.pack("<10i", c, hw, hw, depth, opt, batch, 10, nparam, nstats, steps))
        f.write(struct.pack("<4d", width, lr, mom, wd))
        f.write(flat(params) + x.numpy().tobytes() + y.numpy().tobytes() + first[0].float().numpy().tobytes())
        f.write(struct.pack("<d", first[1]))
        f.write(flat(first[2]) + flat([p.detach() for p in net.parameters()]) + flat(stats))
    print(f"{path}: {arch} {nparam} parameters, {nstats} statistics, loss {first[1]:.6f}")


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    write(f"{out}/lenet5.bin", "lenet5", lenet(1, 0.3, 28), 1, 28, 0.3, 0, 0, 0.05, 0.9, 5e-4)
    write(f"{out}/alexnet.bin", "alexnet", alexnet(3, 0.0625, 32), 3, 32, 0.0625, 5, 1, 0.02, 0.9, 1e-3)
    write(f"{out}/vgg.bin", "vgg", vgg(1, 0.125, 28, 4), 1, 28, 0.125, 4, 2, 1e-3, 0.9, 1e-4)
    write(f"{out}/resnet.bin", "resnet", ResNet(3, 0.25, 8), 3, 32, 0.25, 8, 0, 0.1, 0.9, 5e-4)
    # width 1: 16, 32 and 64 channels, so on AVX-512 the engine keeps it in nChw16c (docs/design.md,
    # "Engine"; the others are NHWC): Winograd on the layers' buffers, BatchNorm on 16-channel runs
    write(f"{out}/resnet16c.bin", "resnet", ResNet(3, 1, 8), 3, 16, 1, 8, 0, 0.05, 0.9, 5e-4)
