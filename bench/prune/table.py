"""The pruning bench's table (bench/prune/run.sh): compute and regret of each policy's run against
the run without pruning, with 95% bootstrap intervals over configurations.

Usage: table.py OUTDIR NONE POLICY... (run folders inside OUTDIR; NAME.time and NAME.log beside them)

Regret of a policy = best final test accuracy of the unpruned run - best accuracy the policy's run
ended with (a finished model's final test accuracy, a pruned model's at its stop; a diverged
model's label, chance). A bootstrap resample draws configurations with replacement and recomputes
both bests on the drawn models (decisions are not re-made: they are the run's)."""
import csv
import re
import sys

import numpy as np

B = 2000


def models(path):
    rows = list(csv.DictReader(open(f"{path}/models.csv")))
    cfg = np.array([int(r["config"]) for r in rows])
    done = np.array([int(r["epochs_trained"]) for r in rows])
    ended = []
    for r in rows:
        v = r["pruned_test_accuracy"] if r["status"] == "pruned" else r["label"]
        ended.append(float(v) if v else np.nan)
    return cfg, done, np.array(ended), sum(r["status"] == "pruned" for r in rows)


def times(out, name):
    wall, user, sys_ = (float(x) for x in open(f"{out}/{name}.time").read().split()[-3:])
    m = re.search(r"training took ([0-9.]+) s", open(f"{out}/{name}.log").read())
    return float(m.group(1)) if m else float("nan"), user + sys_


def best(v, w):
    return np.max(np.where(w > 0, np.nan_to_num(v, nan=-1.0), -1.0))


def main():
    out, none, policies = sys.argv[1], sys.argv[2], sys.argv[3:]
    cfg, done0, acc0, _ = models(f"{out}/{none}")
    ncfg = cfg.max() + 1
    rng = np.random.default_rng(2026)
    draws = [np.bincount(rng.integers(0, ncfg, ncfg), minlength=ncfg)[cfg] for _ in range(B)]
    train0, cpu0 = times(out, none)
    regrets, points = {}, {}
    print(f"{'run':<20} {'pruned':>6} {'epochs':>8} {'(share)':>8} {'train s':>8} {'(ratio)':>8} {'CPU s':>8} "
          f"{'best acc':>9} {'regret [95% over configurations]':>34}")
    for name in [none] + policies:
        c, done, acc, npruned = models(f"{out}/{name}")
        assert (c == cfg).all(), f"{name}: not the same population as {none}"
        train, cpu = times(out, name)
        reg = best(acc0, np.ones_like(cfg)) - best(acc, np.ones_like(cfg))
        boot = np.array([best(acc0, w) - best(acc, w) for w in draws])
        regrets[name], points[name] = boot, reg
        lo, hi = np.percentile(boot, [2.5, 97.5])
        print(f"{name:<20} {npruned:>6} {done.sum():>8} {done.sum() / done0.sum():>8.3f} {train:>8.1f} "
              f"{train / train0:>8.3f} {cpu:>8.1f} {best(acc, np.ones_like(cfg)):>9.4f} "
              f"{reg:>12.4f} [{lo:.4f}, {hi:.4f}]")
    if "halving" in policies:
        print("\nregret difference against successive halving (paired resamples; positive: worse than halving)")
        for name in policies:
            if name == "halving":
                continue
            d = regrets[name] - regrets["halving"]
            lo, hi = np.percentile(d, [2.5, 97.5])
            print(f"  {name:<20} {points[name] - points['halving']:+.4f} [{lo:+.4f}, {hi:+.4f}]")


if __name__ == "__main__":
    main()
