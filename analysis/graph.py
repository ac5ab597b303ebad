"""The rolled graph of one snapshot, computed in numpy as README "The graph" defines it, and drawn."""
import json
import os
import re

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.collections import LineCollection

from load import InputError
from population import Skip
from style import save


def layers(snapdir):
    """Node groups and edge blocks of a snapshot: (names, sizes, blocks), where blocks[j] is the
    (sizes[j+1] x sizes[j]) matrix of edge weights between group j and group j+1."""
    try:
        with open(os.path.join(snapdir, "model.json")) as f:
            spec = json.load(f)
        names, sizes, blocks = ["input"], [int(spec["input"][0])], []
        for layer in spec["layers"]:
            kind = layer["type"]
            if kind not in ("conv2d", "linear"):
                continue
            w = np.load(os.path.join(snapdir, layer["weight"])).astype(np.float64)
            if kind == "conv2d":
                # Conv edge (o, i): Frobenius norm of the kernel slice W[o, i, :, :].
                e = np.sqrt((w ** 2).sum(axis=(2, 3)))
            elif w.shape[1] == sizes[-1]:
                e = np.abs(w)                       # linear edge: |w|
            else:
                # Flatten edge (o, c): L2 norm of the H*W weights joining neuron o to channel c.
                if w.shape[1] % sizes[-1]:
                    raise InputError(f"{snapdir}: {layer['name']}: {w.shape[1]} inputs do not split "
                                     f"over {sizes[-1]} channels")
                e = np.sqrt((w.reshape(w.shape[0], sizes[-1], -1) ** 2).sum(axis=2))
            if e.shape[1] != sizes[-1]:
                raise InputError(f"{snapdir}: {layer['name']}: weight shape {w.shape} does not follow "
                                 f"{sizes[-1]} nodes of {names[-1]}")
            names.append(layer["name"])
            sizes.append(e.shape[0])
            blocks.append(e)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as err:
        raise InputError(f"{snapdir}: cannot read the snapshot: {err}")
    return names, sizes, blocks


def edge_list(snapdir):
    """All edges as (row, col, weight) with row > col, node ids as `cnndyn graph` numbers them
    (input channels first, then each layer's outputs in order)."""
    names, sizes, blocks = layers(snapdir)
    offs = np.concatenate([[0], np.cumsum(sizes)])
    rows, cols, vals = [], [], []
    for j, e in enumerate(blocks):
        o, i = np.meshgrid(np.arange(e.shape[0]), np.arange(e.shape[1]), indexing="ij")
        rows.append((o + offs[j + 1]).ravel())
        cols.append((i + offs[j]).ravel())
        vals.append(e.ravel())
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), int(offs[-1])


def snapshot_epochs(outdir, model):
    d = os.path.join(outdir, "snapshots", f"model-{model:06d}")
    if not os.path.isdir(d):
        return []
    return sorted(int(m.group(1)) for m in (re.fullmatch(r"epoch-(\d+)", x) for x in os.listdir(d))
                  if m and os.path.isfile(os.path.join(d, m.group(0), "model.json")))


def _positions(sizes):
    """x = layer index; nodes of a layer spread evenly over [0, 1], centred when few."""
    pos = []
    for j, n in enumerate(sizes):
        span = min(1.0, 0.08 * n) if n > 1 else 0.0
        ys = np.linspace(0.5 - span / 2, 0.5 + span / 2, n) if n > 1 else np.array([0.5])
        pos.append(np.column_stack([np.full(n, float(j)), ys]))
    return pos


def draw(outdir, model, epochs, accuracy, path):
    """One network's rolled graph at the given epochs, side by side."""
    snaps = [layers(os.path.join(outdir, "snapshots", f"model-{model:06d}", f"epoch-{e:03d}"))
             for e in epochs]
    names, sizes = snaps[0][0], snaps[0][1]
    pos = _positions(sizes)
    # One width scale per pair of layers, shared by the epochs: weights of different layers differ
    # by orders of magnitude, and the point is to compare epochs.
    scale = [max(float(np.nanmax(s[2][j])) if np.isfinite(s[2][j]).any() else 0.0 for s in snaps)
             or 1.0 for j in range(len(sizes) - 1)]
    fig, axes = plt.subplots(1, len(epochs), figsize=(6.2 * len(epochs), 4.8), squeeze=False)
    for ax, e, (_, _, blocks) in zip(axes[0], epochs, snaps):
        for j, w in enumerate(blocks):
            rel = np.nan_to_num(w / scale[j], nan=0.0).ravel()
            o, i = np.meshgrid(np.arange(w.shape[0]), np.arange(w.shape[1]), indexing="ij")
            segs = np.stack([pos[j][i.ravel()], pos[j + 1][o.ravel()]], axis=1)
            order = np.argsort(rel)               # strongest edges drawn last, on top
            # Thousands of edges between wide layers: fainter there, and opacity rising with the
            # square of the weight, so the strong edges stand out of the mass.
            top = min(0.9, 30.0 / np.sqrt(len(rel)))
            thin = 1.0 if len(rel) < 500 else 0.5
            r = rel[order]
            lc = LineCollection(segs[order], linewidths=thin * (0.1 + 2.0 * r),
                                colors=[(0.12, 0.30, 0.60, a) for a in np.clip(top * r ** 2, 0.01, 1)])
            ax.add_collection(lc)
        for j, p in enumerate(pos):
            ax.scatter(p[:, 0], p[:, 1], s=max(4, 60 / np.sqrt(len(p))), color="#ff7f0e",
                       edgecolor="black", linewidth=0.3, zorder=3)
        ax.set_xticks(range(len(names)), [f"{n}\n{s} node{'s' if s != 1 else ''}" for n, s in zip(names, sizes)], fontsize=8)
        ax.set_yticks([])
        ax.set_xlim(-0.3, len(names) - 0.7)
        ax.set_ylim(-0.04, 1.04)
        ax.grid(False)
        ax.set_xlabel("layer (nodes: input channels, conv output channels, linear neurons)")
        ax.set_title(f"epoch {e}" + (" (initial weights)" if e == 0 else ""))
    acc = f", final test accuracy {accuracy:.3f}" if accuracy is not None and np.isfinite(accuracy) else ""
    n_edges = sum(b.size for b in snaps[0][2])
    fig.suptitle(f"Rolled graph of model {model}{acc}: {sum(sizes)} nodes, {n_edges} edges\n"
                 "edge width and opacity: weight relative to the largest in the same pair of layers "
                 "(over both epochs)")
    fig.tight_layout()
    save(fig, path)


def check_model_snapshots(outdir, model):
    eps = snapshot_epochs(outdir, model)
    if len(eps) < 2:
        raise Skip("no snapshots in this run (set `[output] snapshots = true` in the job spec to "
                   "draw a network's graph)" if not eps else
                   f"model {model} has a snapshot at one epoch only: nothing to compare")
    return eps


def node_statistics(snapdir):
    """Per-node weighted degree and eigenvector centrality of a snapshot's graph, by the README's
    conventions: centrality is the eigenvector of the largest real eigenvalue of the symmetric
    adjacency matrix, signed so its entries sum to a non-negative number, scaled so its largest
    entry is 1; a graph without edges or with all-zero weights gives 1 for every node, weights
    that are not finite give NaN. Returns (group names, group of each node, degree, centrality)."""
    names, sizes, blocks = layers(snapdir)
    n = sum(sizes)
    offs = np.concatenate([[0], np.cumsum(sizes)])
    a = np.zeros((n, n))
    for j, e in enumerate(blocks):
        a[offs[j + 1]:offs[j + 2], offs[j]:offs[j + 1]] = e
    a = a + a.T
    group = np.repeat(np.arange(len(sizes)), sizes)
    degree = a.sum(axis=1)
    if not np.isfinite(a).all():
        return names, group, degree, np.full(n, np.nan)
    top = np.abs(a).max()
    if top == 0:
        return names, group, degree, np.ones(n)
    _, vecs = np.linalg.eigh(a / top)        # ascending eigenvalues: the last is the largest real
    v = vecs[:, -1]
    if v.sum() < 0:
        v = -v
    return names, group, degree, v / v.max()


def layer_distributions(outdir, picks, accuracy, path):
    """Per-layer distributions of node degree and centrality over epochs, from the snapshots of the
    best, median and worst model, computed here with numpy: one box per model and epoch."""
    from population import PICK_COLOURS
    have = {name: m for name, m in picks.items() if len(snapshot_epochs(outdir, m)) >= 2}
    if len(have) < len(picks):
        raise Skip("the best, median and worst models have no snapshots (set `[output] snapshots = "
                   "true`); the aggregates from features.csv above show the same statistics")
    data = {}
    for name, m in have.items():
        for ep in snapshot_epochs(outdir, m):
            d = os.path.join(outdir, "snapshots", f"model-{m:06d}", f"epoch-{ep:03d}")
            data[name, ep] = node_statistics(d)
    names = next(iter(data.values()))[0]
    groups = [g for g in range(len(names)) if names[g] != "input"]   # one input node: no spread
    epochs = sorted({ep for _, ep in data})
    fig, axes = plt.subplots(2, len(groups), figsize=(2.7 * len(groups) + 0.6, 6.4), squeeze=False,
                             sharex=True)
    width = 0.8 / len(have)
    for r, (stat, ylabel) in enumerate([(2, "weighted degree\n(sum of edge weights)"),
                                        (3, "eigenvector centrality\n(largest entry = 1)")]):
        for c, g in enumerate(groups):
            ax = axes[r][c]
            for i, name in enumerate(have):
                vals, pos = [], []
                for ep in epochs:
                    if (name, ep) in data:
                        s = data[name, ep]
                        v = s[stat][s[1] == g]
                        vals.append(v[np.isfinite(v)])
                        pos.append(ep + (i - (len(have) - 1) / 2) * width)
                col = PICK_COLOURS[name]
                ax.boxplot(vals, positions=pos, widths=width * 0.85, showfliers=False,
                           patch_artist=True, manage_ticks=False,
                           boxprops=dict(facecolor=col, alpha=0.45, edgecolor=col),
                           medianprops=dict(color=col), whiskerprops=dict(color=col),
                           capprops=dict(color=col))
            if r == 0:
                ax.set_title(f"{names[g]} ({int((data[next(iter(data))][1] == g).sum())} nodes)")
            if c == 0:
                ax.set_ylabel(ylabel)
            if r == 1:
                ax.set_xlabel("epoch")
            ax.set_xticks(epochs)
    handles = []
    for name, m in have.items():
        acc = accuracy.get(m, float("nan"))
        acc_t = f"{acc:.3f}" if np.isfinite(acc) else "diverged"
        handles.append(plt.Rectangle((0, 0), 1, 1, facecolor=PICK_COLOURS[name], alpha=0.45,
                                     label=f"{name}: model {m}, final accuracy {acc_t}"))
    fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False,
               title="boxes: 25-75% of the layer's nodes, line: median, whiskers: 1.5 IQR")
    fig.suptitle("Distribution over each layer's nodes, per epoch, from the snapshots")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    save(fig, path)
