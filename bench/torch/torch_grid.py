#!/usr/bin/python3
"""PyTorch's half of bench/torch/compare.sh: trains every model of a cnndyn run's models.csv (same
learning rate, dropout, momentum, batch, epochs) on the split bench_split wrote, with PyTorch's
conventions (its default initialisation, dropout as torchvision's AlexNet: none before the
classifier) or cnndyn's (--conventions cnndyn: Kaiming-normal weights, zero biases, a dropout
before every linear layer). One thread per process; --part I/N trains every N-th model from I.
Writes CSV rows "model,config,replicate,learning_rate,dropout,status,final_test_accuracy,label"
to stdout (label: the accuracy, or chance 1/classes for a diverged model, as cnndyn's label).
Usage: torch_grid.py MODELS.csv SPLIT.bin EPOCHS [--conventions pytorch|cnndyn] [--part I/N]"""
import argparse, csv, math, os, sys
import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
import torch_train as tt  # the network builders and the training epoch bench/train uses
from torch_train import gen


def load_split(path):
    raw = open(path, "rb").read()
    ntr, nte, c, h, w = np.frombuffer(raw, "<i4", 5, 0)
    scale, shift = np.frombuffer(raw, "<f4", 2, 20)
    off, item = 28, int(c * h * w)
    def take(n):
        nonlocal off
        px = np.frombuffer(raw, np.uint8, n * item, off).reshape(n, c, h, w)
        lb = np.frombuffer(raw, np.uint8, n, off + n * item)
        off += n * item + n
        # cdn_batch_fill's float32 arithmetic: p * scale - shift
        return torch.tensor(px.astype(np.float32) * scale - shift), torch.tensor(lb.astype(np.int64))
    xtr, ytr = take(int(ntr))
    xte, yte = take(int(nte))
    return xtr, ytr, xte, yte


def with_dropout(net, p, every):
    """net (a gen.Seq) with nn.Dropout(p) before each hidden linear layer, and before the
    classifier too when every (cnndyn's placement); the dropout before fcN is dropN."""
    fcs = [n for n in net.names if n.startswith("fc")]
    layers = []
    for n in net.names:
        if p > 0 and n in fcs and (every or n != fcs[-1]):
            layers.append(("drop" + n[2:], nn.Dropout(p)))
        layers.append((n, net.mods[n.replace(".", "_")]))
    return gen.Seq(layers)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models"), ap.add_argument("split"), ap.add_argument("epochs", type=int)
    ap.add_argument("--conventions", choices=["pytorch", "cnndyn"], default="pytorch")
    ap.add_argument("--part", default="0/1")
    a = ap.parse_args()
    part, nparts = map(int, a.part.split("/"))
    torch.set_num_threads(1)
    xtr, ytr, xte, yte = load_split(a.split)
    classes = int(max(ytr.max(), yte.max())) + 1
    rows = list(csv.DictReader(open(a.models)))
    out = csv.writer(sys.stdout)
    for r in rows[part::nparts]:
        assert r["architecture"] == "lenet5" and float(r["weight_decay"]) == 0, "LeNet-5 without weight decay only"
        torch.manual_seed(int(r["seed"]) % (1 << 63))  # the weights and the data order
        net = tt.build("lenet5", float(r["width"]), int(r["depth"]))
        if a.conventions == "cnndyn":
            tt.kaiming(net)
        net = with_dropout(net, float(r["dropout"]), a.conventions == "cnndyn")
        opt = torch.optim.SGD(net.parameters(), lr=float(r["learning_rate"]), momentum=float(r["momentum"]))
        status = "ok"
        for e in range(a.epochs):
            _, loss, _ = tt.train_epoch(net, opt, xtr, ytr, int(r["batch_size"]))
            if not math.isfinite(loss) or not all(torch.isfinite(p).all() for p in net.parameters()):
                status = "diverged"
                break
        acc = tt.accuracy(net, xte, yte) if status == "ok" else float("nan")
        out.writerow([r["model"], r["config"], r["replicate"], r["learning_rate"], r["dropout"], status,
                      f"{acc:.6g}", f"{acc if status == 'ok' else 1 / classes:.6g}"])
        sys.stdout.flush()


if __name__ == "__main__":
    main()
