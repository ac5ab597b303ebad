"""Recomputes report.csv's within-fold Kendall tau from predictions.csv and selection.csv, as an
outsider would (docs/prediction.md): every row of the subset `all`, and the nested best_* rows from
the rows that selection.csv says each outer fold chose. Usage: planted.py RUN_DIR. Exit 1 on any
difference above 1e-9."""
import csv, math, sys
from collections import defaultdict

d = sys.argv[1]


def tau_b(a, b):
    s = ta = tb = 0
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            da = (a[i] > a[j]) - (a[i] < a[j])
            db = (b[i] > b[j]) - (b[i] < b[j])
            s += da * db
            ta += da != 0
            tb += db != 0
    if tb == 0:
        return math.nan  # constant labels: the fold is skipped
    return s / math.sqrt(ta * tb) if ta else 0.0  # a constant prediction orders nothing: 0


def within(preds):
    """preds: {(repeat, fold): [(rank_score, actual)]} -> mean over repeats of the mean over folds."""
    per = defaultdict(list)
    for (q, g), v in sorted(preds.items()):
        t = tau_b([x for x, _ in v], [y for _, y in v])
        if not math.isnan(t):
            per[q].append(t)
    means = [sum(v) / len(v) for v in per.values() if v]
    return sum(means) / len(means) if means else math.nan


num = lambda s: float(s) if s != "" else math.nan
rows = defaultdict(lambda: defaultdict(list))  # (method, learner, epochs) -> (repeat, fold) -> pairs
for r in csv.DictReader(open(f"{d}/predictions.csv")):
    if r["subset"] == "all":
        rows[(r["method"], r["learner"], r["epochs_used"])][(int(r["repeat"]), int(r["fold"]))].append(
            (num(r["rank_score"]), num(r["actual"])))
choice = defaultdict(dict)  # (headline, epochs) -> (repeat, fold) -> row key
for r in csv.DictReader(open(f"{d}/selection.csv")):
    if r["subset"] == "all":
        choice[(r["headline"], r["epochs"])][(int(r["repeat"]), int(r["fold"]))] = (r["method"], r["learner"], r["epochs_used"])
bad = checked = nested = 0
for r in csv.DictReader(open(f"{d}/report.csv")):
    if r["subset"] != "all" or r["metric"] != "kendall_tau_within_fold" or r["mean"] == "":
        continue
    if r["learner"] == "nested":
        if r["method"] not in ("best_graph", "best_baseline", "best_hybrid"):
            continue
        ch = choice[(r["method"], r["epochs"])]
        preds = {qg: rows[key][qg] for qg, key in ch.items()}
        nested += 1
    else:
        preds = rows[(r["method"], r["learner"], r["epochs"])]
    t = within(preds)
    checked += 1
    if not abs(t - float(r["mean"])) <= 1e-9:
        bad += 1
        print(f"{r['method']}/{r['learner']} k={r['epochs']}: report.csv {r['mean']}, recomputed {t!r}")
print(f"recomputed within-fold tau of {checked} report.csv rows ({nested} nested) from predictions.csv: "
      f"{checked - bad} agree to 1e-9")
sys.exit(1 if bad or checked == 0 or nested == 0 else 0)
