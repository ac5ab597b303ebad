#!/usr/bin/env bash
# Planted signal through the whole prediction stage. Usage: planted.sh CNNDYN PROJECT_DIR
#   A tiny real run (30 configurations, 2 epochs), then `cnndyn predict` on copies of it whose
#   features.csv has
#   - degree.all.mean replaced by the label plus small noise: the best graph-only row (nested
#     selection) must beat the best baseline, the paired bootstrap interval of the within-fold tau
#     difference entirely above zero, and the summary must say so;
#     pruning by its predictions must lose (almost) nothing at k = 1 and less than random stopping
#     at the same epochs saved (early_stop.csv);
#   - every graph column replaced by pure noise: the interval must not lie above zero, and the
#     graph-only tau interval must include zero;
#   - report.csv's within-fold tau, nested rows included, recomputed from predictions.csv and
#     selection.csv (tests/planted.py);
#   - and at 1 and 2 ranks the report is byte-identical.
set -uo pipefail
cnndyn=$1 top=$2
py=/usr/bin/python3
work=$(mktemp -d)
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"

cat > "$work/job.ini" <<'INI'
[population]
seed = 5
learning_rate = 0.001, 0.0016, 0.0025, 0.004, 0.0063, 0.01, 0.016, 0.025, 0.04, 0.063, 0.1, 0.16, 0.25, 0.4, 0.6
dropout = 0, 0.5
replicates = 1
[data]
train_size = 300
validation_size = 200
test_size = 300
[training]
epochs = 2
[graph]
statistics = degree
[features]
budget = 1
aggregators = mean
[prediction]
methods = degree, val_acc, val_loss
learners = linear, xgboost, score
subsets = all
repeats = 2
INI
mpi 2 "$cnndyn" run "$work/job.ini" --out "$work/run" --quiet > "$work/run.out" 2>&1 || { cat "$work/run.out"; exit 1; }

# plant MODE DIR: rewrite DIR/features.csv (label = models.csv's label column).
plant() {
  $py - "$1" "$2" <<'PY'
import csv, random, sys
mode, d = sys.argv[1], sys.argv[2]
label = {r["model"]: float(r["label"]) for r in csv.DictReader(open(f"{d}/models.csv"))}
rows = list(csv.reader(open(f"{d}/features.csv")))
head, rng = rows[0], random.Random(1)
for r in rows[1:]:
    for j, name in enumerate(head):
        if mode == "label" and name == "degree.all.mean":
            r[j] = "%.9g" % (label[r[0]] + 1e-3 * rng.gauss(0, 1))
        elif mode == "noise" and name.startswith(("degree.", "eigenvector.")):
            r[j] = "%.9g" % rng.gauss(0, 1)
with open(f"{d}/features.csv", "w", newline="") as f:
    csv.writer(f, lineterminator="\n").writerows(rows)
PY
}

# field DIR METHOD METRIC COLUMN: a value of report.csv's headline row at k = 1, subset all.
field() {
  $py - "$1/report.csv" "$2" "$3" "$4" <<'PY'
import csv, sys
p, m, metric, col = sys.argv[1:]
for r in csv.DictReader(open(p)):
    if r["subset"] == "all" and r["method"] == m and r["metric"] == metric and r["epochs"] == "1":
        print(r[col]); break
else:
    print("missing")
PY
}

for mode in label noise; do
  cp -r "$work/run" "$work/$mode"
  plant $mode "$work/$mode"
  mpi 2 "$cnndyn" predict "$work/$mode" > "$work/$mode.out" 2>&1
  check "[ $? -eq 0 ]" "$mode: predict failed: $(tail -5 "$work/$mode.out")"
done
# an outsider re-derives report.csv's within-fold tau (plain and nested rows) from predictions.csv
# and selection.csv
check "$py '$top/tests/planted.py' '$work/label'" "report.csv's within-fold tau not re-derived from predictions.csv"
lo=$(field "$work/label" graph_minus_baseline kendall_tau_within_fold ci_lo)
fam=$(field "$work/label" best_graph kendall_tau_within_fold family)
echo "planted label: difference interval low end $lo"
check "$py -c 'import sys; sys.exit(not float(\"$lo\") > 0)'" "label planted: graph-only minus baseline interval starts at $lo, not above 0"
check "[ '$fam' = graph ]" "label planted: best_graph row's family is '$fam'"
check "grep -q 'verdict: graph-only better' '$work/label.out'" "label planted: the summary does not say graph-only is better"
# pruning by a label-ranking predictor: no regret, so it loses less than random stopping at the same compute
check "$py - '$work/label/early_stop.csv' <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r['epochs'] == '1']
g = [float(r['regret']) for r in rows if r['kind'] == 'equal_compute' and r['predictor'] == 'best_graph']
d = [float(r['regret']) for r in rows if r['kind'] == 'graph_minus' and r['policy'] == 'random']
print('label planted: prune by best graph-only, regret at k = 1 up to', max(g), '; minus random', d)
sys.exit(not (g and max(g) < 0.01 and d and d[0] < 0))
PY" "label planted: pruning by the planted predictor is not regret-free or not below random stopping"
lo=$(field "$work/noise" graph_minus_baseline kendall_tau_within_fold ci_lo)
glo=$(field "$work/noise" best_graph kendall_tau_within_fold ci_lo)
echo "noise: difference interval low end $lo, graph-only tau interval low end $glo"
check "$py -c 'import sys; sys.exit(not float(\"$lo\") <= 0)'" "noise: graph-only minus baseline interval above 0 ($lo)"
check "$py -c 'import sys; sys.exit(not float(\"$glo\") <= 0)'" "noise: graph-only tau interval above 0 ($glo)"
check "! grep -q 'graph-only better' '$work/noise.out'" "noise: the summary calls graph-only better"

# the same report at 1 rank, and `cnndyn predict` reproduces itself
for f in report predictions selection; do cp "$work/label/$f.csv" "$work/label.2.$f.csv"; done
mpi 1 "$cnndyn" predict "$work/label" --quiet > "$work/p1.out" 2>&1
for f in report predictions selection; do
  check "cmp -s '$work/label/$f.csv' '$work/label.2.$f.csv'" "$f.csv differs between 1 and 2 ranks"
done

# A quickstart-like population (16 configurations x 2 seeds; two statistics and five aggregators, so
# the planted column is one of 70 graph columns; labels and validation curves from 1000 images each,
# so the validation baseline is strong, about 0.76): learners that spread their weight over every
# column dilute it among noise or tie the test models (trees), and without the graph family's
# single-column score row (the column each fit picks on its training side, score.c) the tau
# difference's interval was [-0.12, 0.27].
cat > "$work/qs.ini" <<'INI'
[population]
seed = 1
learning_rate = 0.001, 0.00226, 0.0051, 0.0115, 0.026, 0.0588, 0.133, 0.3
dropout = 0, 0.3
replicates = 2
[data]
train_size = 1000
validation_size = 1000
test_size = 1000
[training]
epochs = 3
[features]
budget = 1
[prediction]
methods = graph, val_acc, val_loss
learners = linear, xgboost, score
subsets = all
repeats = 2
INI
mpi 2 "$cnndyn" run "$work/qs.ini" --out "$work/qs" --quiet > "$work/qs.out" 2>&1 || { cat "$work/qs.out"; exit 1; }
ncol=$(head -1 "$work/qs/features.csv" | tr ',' '\n' | grep -c '^degree\.\|^eigenvector\.')
for mode in label noise; do
  cp -r "$work/qs" "$work/qs_$mode"
  plant $mode "$work/qs_$mode"
  mpi 2 "$cnndyn" predict "$work/qs_$mode" > "$work/qs_$mode.out" 2>&1
  check "[ $? -eq 0 ]" "quickstart-like $mode: predict failed: $(tail -5 "$work/qs_$mode.out")"
done
lo=$(field "$work/qs_label" graph_minus_baseline kendall_tau_within_fold ci_lo)
echo "quickstart-like, label planted in 1 of $ncol graph columns: difference interval low end $lo"
check "[ $ncol -ge 60 ]" "quickstart-like: only $ncol graph columns"
check "$py -c 'import sys; sys.exit(not float(\"$lo\") > 0)'" "quickstart-like, label planted: graph-only minus baseline interval starts at $lo, not above 0"
check "grep -q 'verdict: graph-only better' '$work/qs_label.out'" "quickstart-like, label planted: the summary does not say graph-only is better"
lo=$(field "$work/qs_noise" graph_minus_baseline kendall_tau_within_fold ci_lo)
echo "quickstart-like, noise: difference interval low end $lo"
check "$py -c 'import sys; sys.exit(not float(\"$lo\") <= 0)'" "quickstart-like, noise: graph-only minus baseline interval above 0 ($lo)"
check "! grep -q 'graph-only better' '$work/qs_noise.out'" "quickstart-like, noise: the summary calls graph-only better"
[ $fail -eq 0 ]
