"""The graph of one snapshot as cnndyn measures it, and drawn. Nothing here re-derives the graph:
`cnndyn graph SNAPSHOT --export` gives the edges (BatchNorm folded, residual blocks and all, docs/graph.md
"The rolled graph") and `cnndyn stats SNAPSHOT` each node's layer, channel, degree and centrality."""
import csv
import os
import re
import shutil
import subprocess
import tempfile

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.collections import LineCollection

from load import InputError
from population import Skip
from style import save

HERE = os.path.dirname(os.path.abspath(__file__))


def find_cnndyn(given=None):
    """The cnndyn executable: --cnndyn, else cnndyn on PATH, else this checkout's build/cnndyn."""
    if given:
        if not (os.path.isfile(given) and os.access(given, os.X_OK)):
            raise InputError(f"--cnndyn {given}: not an executable file")
        return os.path.abspath(given)
    for cand in (shutil.which("cnndyn"), os.path.join(HERE, "..", "build", "cnndyn")):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return os.path.abspath(cand)
    return None


class Snapshot:
    """cnndyn's graph of one snapshot: names (node groups in node order), sizes, group, channel,
    degree, eigenvector (per node, from `cnndyn stats`), and on first use of edges() the edges as
    (rows, cols, weights) with rows > cols, 0-based node ids (from `cnndyn graph --export`).
    Use snapshot() for one object per snapshot: every call of cnndyn starts MPI."""

    def __init__(self, cnndyn, snapdir):
        if cnndyn is None:
            raise Skip("the cnndyn executable was not found (give --cnndyn PATH or put it on PATH): "
                       "the graph figures show cnndyn's own graph")
        self.cnndyn, self.snapdir, self._edges = cnndyn, snapdir, None
        with tempfile.TemporaryDirectory(prefix="cnndyn-graph-") as tmp:
            nodes = os.path.join(tmp, "nodes.csv")
            self._call(["stats", snapdir, "--out", nodes])
            self._read_nodes(nodes)

    def _call(self, args):
        try:
            r = subprocess.run([self.cnndyn] + args, capture_output=True, text=True)
        except OSError as err:
            raise InputError(f"{self.cnndyn}: cannot run: {err}")
        if r.returncode != 0:
            last = (r.stderr.strip().splitlines() or ["no message"])[-1]
            raise InputError(f"{self.snapdir}: cnndyn {args[0]} failed (exit {r.returncode}): {last}")

    def _read_nodes(self, path):
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        self.names, self.group = [], np.zeros(len(rows), dtype=int)
        for v, r in enumerate(rows):
            if not self.names or self.names[-1] != r["layer"]:
                self.names.append(r["layer"])
            self.group[v] = len(self.names) - 1
        self.sizes = np.bincount(self.group, minlength=len(self.names))
        self.channel = np.array([int(r["channel"]) for r in rows])
        self.degree = np.array([float(r["degree"] or "nan") for r in rows])
        self.eigenvector = np.array([float(r["eigenvector"] or "nan") for r in rows])

    def edges(self):
        if self._edges is None:
            with tempfile.TemporaryDirectory(prefix="cnndyn-graph-") as tmp:
                mtx = os.path.join(tmp, "g.mtx")
                self._call(["graph", self.snapdir, "--export", mtx])
                with open(mtx) as f:
                    lines = [ln for ln in f if not ln.startswith("%")]
            n, _, nnz = (int(x) for x in lines[0].split())
            if n != len(self.group):
                raise InputError(f"{self.snapdir}: cnndyn graph gave {n} nodes, cnndyn stats {len(self.group)}")
            m = np.loadtxt(lines[1:], ndmin=2) if nnz else np.zeros((0, 3))
            i, j = m[:, 0].astype(int) - 1, m[:, 1].astype(int) - 1
            self._edges = np.maximum(i, j), np.minimum(i, j), m[:, 2]
        return self._edges


_snapshots = {}


def snapshot(cnndyn, outdir, model, epoch):
    key = (cnndyn, os.path.abspath(outdir), model, epoch)
    if key not in _snapshots:
        _snapshots[key] = Snapshot(cnndyn, snapshot_dir(outdir, model, epoch))
    return _snapshots[key]


def snapshot_dir(outdir, model, epoch):
    return os.path.join(outdir, "snapshots", f"model-{model:06d}", f"epoch-{epoch:03d}")


def snapshot_epochs(outdir, model):
    d = os.path.join(outdir, "snapshots", f"model-{model:06d}")
    if not os.path.isdir(d):
        return []
    return sorted(int(m.group(1)) for m in (re.fullmatch(r"epoch-(\d+)", x) for x in os.listdir(d))
                  if m and os.path.isfile(os.path.join(d, m.group(0), "model.json")))


def _positions(g):
    """x = node group index; a group's nodes spread evenly over [0, 1], centred when few."""
    pos = np.zeros((len(g.group), 2))
    for k, n in enumerate(g.sizes):
        span = min(1.0, 0.08 * n) if n > 1 else 0.0
        ys = np.linspace(0.5 - span / 2, 0.5 + span / 2, n) if n > 1 else np.array([0.5])
        idx = np.flatnonzero(g.group == k)
        pos[idx, 0], pos[idx, 1] = float(k), ys
    return pos


def draw(outdir, model, epochs, outcome, cnndyn, path):
    """One network's graph at the given epochs, side by side, as `cnndyn graph` exports it; outcome:
    how the model ended, in words (population.outcome)."""
    snaps = [snapshot(cnndyn, outdir, model, e) for e in epochs]
    edges = [s.edges() for s in snaps]
    g0 = snaps[0]
    pos = _positions(g0)
    # One width scale per pair of groups, shared by the epochs: weights of different layers differ
    # by orders of magnitude, and the point is to compare epochs.
    pair = lambda rows, cols: g0.group[rows] * len(g0.names) + g0.group[cols]
    scale = {}
    for rows, cols, weights in edges:
        for p, w in zip(pair(rows, cols), weights):
            if np.isfinite(w):
                scale[p] = max(scale.get(p, 0.0), abs(w))
    fig, axes = plt.subplots(1, len(epochs), figsize=(max(6.2, 0.7 * len(g0.names)) * len(epochs), 4.8),
                             squeeze=False)
    for ax, e, (rows, cols, weights) in zip(axes[0], epochs, edges):
        rel = np.array([abs(w) / (scale.get(p) or 1.0) for p, w in zip(pair(rows, cols), weights)])
        rel = np.nan_to_num(rel, nan=0.0)
        segs = np.stack([pos[cols], pos[rows]], axis=1)
        order = np.argsort(rel)               # strongest edges drawn last, on top
        # Thousands of edges between wide layers: fainter there, and opacity rising with the
        # square of the weight, so the strong edges stand out of the mass.
        top = min(0.9, 30.0 / np.sqrt(max(1, len(rel) / max(1, len(scale)))))
        thin = 1.0 if len(rel) < 500 * max(1, len(scale)) else 0.5
        r = rel[order]
        ax.add_collection(LineCollection(segs[order], linewidths=thin * (0.1 + 2.0 * r),
                                         colors=[(0.12, 0.30, 0.60, a) for a in np.clip(top * r ** 2, 0.01, 1)]))
        ax.scatter(pos[:, 0], pos[:, 1], s=max(4, 60 / np.sqrt(max(g0.sizes))), color="#ff7f0e",
                   edgecolor="black", linewidth=0.3, zorder=3)
        ax.set_xticks(range(len(g0.names)), [f"{n}\n{k} node{'s' if k != 1 else ''}"
                                             for n, k in zip(g0.names, g0.sizes)], fontsize=7, rotation=30)
        ax.set_yticks([])
        ax.set_xlim(-0.3, len(g0.names) - 0.7)
        ax.set_ylim(-0.04, 1.04)
        ax.grid(False)
        ax.set_xlabel("node group (input channels, conv output channels, linear neurons)")
        ax.set_title(f"epoch {e}" + (" (initial weights)" if e == 0 else ""))
    fig.suptitle(f"Graph of model {model}, {outcome}: {len(g0.group)} nodes, {len(edges[0][2])} edges "
                 "(cnndyn graph --export)\nedge width and opacity: weight relative to the largest "
                 "between the same two groups (over both epochs)")
    fig.tight_layout()
    save(fig, path)


def check_model_snapshots(outdir, model):
    eps = snapshot_epochs(outdir, model)
    if len(eps) < 2:
        raise Skip("no snapshots in this run (set `[output] snapshots = true` in the job spec to "
                   "draw a network's graph)" if not eps else
                   f"model {model} has a snapshot at one epoch only: nothing to compare")
    return eps


def layer_distributions(outdir, picks, outcomes, cnndyn, path):
    """Per-group distributions of node degree and centrality over epochs, from `cnndyn stats` on
    the snapshots of the best, median and worst model: one box per model and epoch. Models whose
    node groups differ from the best's (another family) are left out: their groups are not the
    same layers. outcomes: how each model ended, in words (population.outcome)."""
    from population import PICK_COLOURS
    have = {name: m for name, m in picks.items() if len(snapshot_epochs(outdir, m)) >= 2}
    if len(have) < len(picks):
        raise Skip("the best, median and worst models have no snapshots (set `[output] snapshots = "
                   "true`); the aggregates from features.csv above show the same statistics")
    data = {}
    for name, m in have.items():
        for ep in snapshot_epochs(outdir, m):
            data[name, ep] = snapshot(cnndyn, outdir, m, ep)
    names = next(iter(data.values())).names
    other = {name for (name, _), s in data.items() if s.names != names}
    have = {name: m for name, m in have.items() if name not in other}
    groups = [g for g in range(len(names)) if names[g] != "input"]   # one input node: no spread
    epochs = sorted({ep for _, ep in data})
    fig, axes = plt.subplots(2, len(groups), figsize=(2.7 * len(groups) + 0.6, 6.4), squeeze=False,
                             sharex=True)
    width = 0.8 / len(have)
    for r, (stat, ylabel) in enumerate([("degree", "weighted degree\n(sum of edge weights)"),
                                        ("eigenvector", "eigenvector centrality\n(largest entry = 1)")]):
        for c, g in enumerate(groups):
            ax = axes[r][c]
            for i, name in enumerate(have):
                vals, pos = [], []
                for ep in epochs:
                    if (name, ep) in data:
                        s = data[name, ep]
                        v = getattr(s, stat)[s.group == g]
                        vals.append(v[np.isfinite(v)])
                        pos.append(ep + (i - (len(have) - 1) / 2) * width)
                col = PICK_COLOURS[name]
                ax.boxplot(vals, positions=pos, widths=width * 0.85, showfliers=False,
                           patch_artist=True, manage_ticks=False,
                           boxprops=dict(facecolor=col, alpha=0.45, edgecolor=col),
                           medianprops=dict(color=col), whiskerprops=dict(color=col),
                           capprops=dict(color=col))
            if r == 0:
                ax.set_title(f"{names[g]} ({int(next(iter(data.values())).sizes[g])} nodes)", fontsize=8)
            if c == 0:
                ax.set_ylabel(ylabel)
            if r == 1:
                ax.set_xlabel("epoch")
            ax.set_xticks(epochs)
    handles = []
    for name, m in have.items():
        handles.append(plt.Rectangle((0, 0), 1, 1, facecolor=PICK_COLOURS[name], alpha=0.45,
                                     label=f"{name}: model {m}, {outcomes[m]}"))
    fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False,
               title="boxes: 25-75% of the group's nodes, line: median, whiskers: 1.5 IQR")
    left = f" ({', '.join(sorted(other))} left out: other layers)" if other else ""
    fig.suptitle(f"Distribution over each node group, per epoch, from cnndyn stats on the snapshots{left}")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    save(fig, path)
