#!/usr/bin/python3
"""bench/torch/compare.sh's last step: PyTorch's final test accuracies against cnndyn's, config by
config (mean over the seeds of a configuration, since the two frameworks' seeds are unrelated),
for each cnndyn run given. Prints the table, then per run the Spearman rank correlation and the
mean absolute difference, each with a 95% bootstrap interval over configurations (2,000 resamples,
seeded), and for two runs the paired interval of the difference in Spearman.
Usage: compare.py TORCH.csv NAME=MODELS.csv [NAME=MODELS.csv]"""
import csv, sys, warnings
from collections import defaultdict
import numpy as np
from scipy.stats import spearmanr


def by_config(path):
    acc, hp = defaultdict(list), {}
    for r in csv.DictReader(open(path)):
        acc[int(r["config"])].append(float(r["label"]))
        hp[int(r["config"])] = (float(r["learning_rate"]), float(r["dropout"]))
    return {c: np.mean(v) for c, v in acc.items()}, hp


def stats(t, c, idx):
    return spearmanr(t[idx], c[idx]).correlation, np.mean(np.abs(t[idx] - c[idx]))


def main():
    warnings.simplefilter("ignore")  # a resample of tied accuracies has no rank correlation: NaN, skipped
    torch_acc, hp = by_config(sys.argv[1])
    runs = [(a.split("=", 1)[0], by_config(a.split("=", 1)[1])[0]) for a in sys.argv[2:]]
    configs = sorted(torch_acc)
    for name, acc in runs:
        assert sorted(acc) == configs, f"{name}: not the configurations PyTorch trained"
    t = np.array([torch_acc[c] for c in configs])
    cs = [np.array([acc[c] for c in configs]) for _, acc in runs]
    print(f"{'config':>6} {'lr':>9} {'dropout':>7} {'pytorch':>8} " + " ".join(f"{n:>16}" for n, _ in runs))
    for i, c in enumerate(configs):
        print(f"{c:6d} {hp[c][0]:9.3g} {hp[c][1]:7.2g} {t[i]:8.4f} " + " ".join(f"{x[i]:16.4f}" for x in cs))
    rng = np.random.default_rng(16)
    boots = [rng.integers(0, len(t), len(t)) for _ in range(2000)]
    full = np.arange(len(t))
    res = []
    for (name, _), x in zip(runs, cs):
        s, m = stats(t, x, full)
        b = np.array([stats(t, x, i) for i in boots])
        res.append(b[:, 0])
        lo, hi = np.nanpercentile(b, [2.5, 97.5], axis=0)
        print(f"{name}: {len(t)} configurations, Spearman {s:.3f} [{lo[0]:.3f}, {hi[0]:.3f}], "
              f"mean |difference| {m:.3f} [{lo[1]:.3f}, {hi[1]:.3f}]")
    if len(runs) == 2:
        d = stats(t, cs[1], full)[0] - stats(t, cs[0], full)[0]
        lo, hi = np.nanpercentile(res[1] - res[0], [2.5, 97.5])
        print(f"Spearman {runs[1][0]} - {runs[0][0]}: {d:+.3f} [{lo:+.3f}, {hi:+.3f}] (paired bootstrap over configurations)")


if __name__ == "__main__":
    main()
