#!/usr/bin/env bash
# The analysis page on the smoke job's real output. Usage: test_analysis.sh CNNDYN PROJECT_DIR
#   - every figure and index.html written and non-empty, every image the page references exists,
#     the numbers in the page's tables equal report.csv's, the graph drawn is the one
#     `cnndyn graph --export` writes;
#   - the same on a small ResNet run and a run of two families (features_columns.csv read, not
#     names split); old run folders without that file: read, or one clear message;
#   - the same on a synthetic report.csv in issue 8's format (budgets 1..2, repeats), without
#     early_stop.csv (a note instead of the early-stopping figure);
#   - no snapshots: the graph figure is replaced by a note, the page still written;
#   - a malformed or missing CSV: one clear message, exit 1, no page and no temporary folder left;
#   - runs that prune themselves ([pruning], live and shadow): the page builds, counts pruned models
#     as such, and its "Early stopping during the run" section (only there, not on runs without a
#     pruned_epoch or older runs without the column) holds the epochs, shares, bests and regret
#     recomputed here from models.csv and job.ini.
set -uo pipefail
cnndyn=$1 top=$2
py=/usr/bin/python3
report=$top/analysis/report.py
if ! $py -c 'import matplotlib, pandas, numpy' 2>/dev/null; then
  echo "FAILED: Debian's python3-matplotlib, python3-pandas, python3-numpy are missing (scripts/install-deps.sh)"
  exit 1
fi
work=$(mktemp -d)
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"

sed 's/^\[features\]/[output]\nsnapshots = true\n\n[features]/' "$top/jobs/smoke.ini" > "$work/smoke.ini"
mpirun -n 2 --oversubscribe --bind-to none "$cnndyn" run "$work/smoke.ini" --out "$work/s" --quiet \
  > "$work/run.out" 2>&1 || { cat "$work/run.out"; exit 1; }

# page_ok DIR: the page's images exist, are PNGs, and its tables hold exactly report.csv's numbers.
page_ok() {
  $py - "$1" "$top/analysis" <<'PY'
import csv, html.parser, os, sys
d, lib = sys.argv[1], sys.argv[2]
page = os.path.join(d, "report", "index.html")
assert os.path.getsize(page) > 0, "index.html is empty"
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.imgs, self.cells, self.key, self.span = [], {}, None, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img": self.imgs.append(a["src"])
        if tag == "td" and "data-key" in a: self.key = a["data-key"]; self.cells[self.key] = {}
        if tag == "span" and self.key: self.span = a.get("class")
    def handle_endtag(self, tag):
        if tag == "td": self.key = None
        if tag == "span": self.span = None
    def handle_data(self, data):
        if self.key and self.span in ("mean", "std"):
            self.cells[self.key][self.span] = data.replace("±", "").strip()
p = P(); p.feed(open(page).read())
assert p.imgs, "the page shows no image"
for src in p.imgs:
    f = os.path.join(d, "report", src)
    assert os.path.isfile(f), f"{src}: referenced by index.html but missing"
    assert open(f, "rb").read(8) == b"\x89PNG\r\n\x1a\n", f"{src}: not a PNG"
    assert os.path.getsize(f) > 5000, f"{src}: only {os.path.getsize(f)} bytes"
rows = list(csv.DictReader(open(os.path.join(d, "report.csv"))))
def num(s): return float("nan") if s in ("", None) else float(s)
def same(a, b): return (a != a and b != b) or a == b
seen = 0
for r in rows:
    if "mean" in r:
        key = "|".join([r["subset"], r["method"], r["features"], r["learner"], r["task"], r["metric"], r["epochs"]])
        mean, std = r["mean"], r["std"]
    else:
        key = "|".join(["all", r["method"], "", "", "", r["metric"], r["epochs_used"]])
        mean, std = r["value"], ""
    assert key in p.cells, f"report.csv row {key} is not in the page's tables"
    c = p.cells[key]
    assert same(num(c.get("mean")), num(mean)), f"{key}: page shows {c.get('mean')}, report.csv {mean}"
    assert same(num(c.get("std", "")), num(std)), f"{key}: page std {c.get('std')}, report.csv {std}"
    seen += 1
assert seen == len(p.cells) == len(rows), f"{len(rows)} report rows, {len(p.cells)} table cells"
print(f"page ok: {len(p.imgs)} images, {seen} numbers equal to report.csv")
PY
}

# 1. The smoke job's real output (today's report.csv format, snapshots on).
t0=$(date +%s.%N)
$py "$report" "$work/s" --cnndyn "$cnndyn" > "$work/page.out" 2> "$work/page.err"
code=$?
t1=$(date +%s.%N)
check "[ $code -eq 0 ]" "smoke page: exit $code: $(cat "$work/page.err")"
check "[ \"\$(cat '$work/page.out')\" = '$work/s/report/index.html' ]" "smoke page: stdout is not the page's path: $(cat "$work/page.out")"
for f in index.html learning_curves.png grid.png metrics_by_budget.png metrics_detail.png predicted_vs_actual_k2.png \
         layer_statistics.png layer_distributions.png; do
  check "[ -s '$work/s/report/$f' ]" "smoke page: $f missing or empty"
done
check "ls '$work/s/report/' | grep '^graph_model[0-9]*\.png$' > /dev/null" "smoke page: no graph figure although snapshots exist"
check "[ -s '$work/s/report/prune_tradeoff.png' ]" "smoke page: no early-stopping figure from early_stop.csv"
# The headline figures read the rows they draw: families' best with bands, the equal-compute curves.
check "$py - '$work/s' '$top/analysis' <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import load
r, e = load.report(sys.argv[1]), load.early_stop(sys.argv[1])
for m in ('best_graph', 'best_baseline', 'graph_minus_baseline'):
    t = r[(r['method'] == m) & (r['metric'] == 'kendall_tau_within_fold') & (r['subset'] == 'all')]
    assert len(t) == 2 and t['ci_lo'].notna().all(), m
for p in ('successive_halving', 'random'):
    assert ((e['kind'] == 'equal_compute') & (e['policy'] == p)).sum() >= 2, p
assert (e['kind'] == 'graph_minus').any()
PY" "smoke page: report.csv or early_stop.csv lacks the rows the headline figures draw"
check "grep -q 'Early stopping at equal compute' '$work/s/report/index.html' && grep -q 'Every row behind the headlines' '$work/s/report/index.html'" \
  "smoke page: the equal-compute or per-row figure has no section"
check "! grep -q 'Early stopping during the run' '$work/s/report/index.html'" "smoke page: a run without pruning has the in-run early-stopping section"
# An early_stop.csv from before issue 16: the figure is a note, not a failure.
mkdir -p "$work/old" && printf 'epochs,policy,predictor,fraction_stopped,epochs_saved,regret_of_best_kept,family\n1,prune,best_graph,0.5,0.3,0,graph\n' \
  > "$work/old/early_stop.csv"
check "$py - '$work/old' '$top/analysis' <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import load, prediction
from population import Skip
try:
    prediction.prune_tradeoff(load.early_stop(sys.argv[1]), None, '/nonexistent.png')
except Skip as s:
    assert 'before issue 16' in str(s), s
else:
    raise AssertionError('no Skip')
PY" "an early_stop.csv from before issue 16 is not a clear note"
check "page_ok '$work/s'" "smoke page: images or tables"
check "! ls -a '$work/s' | grep '^\.report' > /dev/null" "smoke page: temporary folder left behind"
echo "smoke page took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"

# The graph figures draw cnndyn's own graph: the edges of `cnndyn graph --export`, the node groups
# of `cnndyn stats` (analysis/graph.py calls the executable given by --cnndyn).
snap=$work/s/snapshots/model-000001/epoch-002
"$cnndyn" graph "$snap" --export "$work/g.mtx" > /dev/null 2>&1
check "$py - '$work/s' '$work/g.mtx' '$top/analysis' '$cnndyn' <<'PY'
import sys, numpy as np
sys.path.insert(0, sys.argv[3])
import graph
s = graph.snapshot(sys.argv[4], sys.argv[1], 1, 2)
r, c, w = s.edges()
lines = [l for l in open(sys.argv[2]) if not l.startswith('%')]
m = np.loadtxt(lines[1:])
assert int(lines[0].split()[0]) == len(s.group) and len(w) == len(m), (lines[0], len(s.group), len(w))
assert (r == np.maximum(m[:, 0], m[:, 1]) - 1).all() and (w == m[:, 2]).all()
assert s.names[0] == 'input' and 'conv1' in s.names, s.names
PY" "the page's graph is not cnndyn graph --export's"

# A ResNet run (layer names hold dots) and a run of two families: the page builds with every
# figure, reading features_columns.csv. Old run folders without it: a name without extra dots
# still reads, a ResNet one gets one clear message.
tiny() { # dest architectures
  printf '[population]\nseed = 5\nlearning_rate = 0.05, 0.1\n[data]\ntrain_size = 100\nvalidation_size = 50\ntest_size = 50\n[training]\narchitecture = %s\nwidth = 0.25\nepochs = 1\n[features]\nbudget = 1\n[prediction]\nfolds = 2\n[output]\nsnapshots = true\n' "$2" > "$1.ini"
  mpirun -n 2 --oversubscribe --bind-to none "$cnndyn" run "$1.ini" --out "$1" --quiet > "$1.out" 2>&1 || { cat "$1.out"; exit 1; }
}
tiny "$work/res" resnet
tiny "$work/mix" "lenet5, vgg"
for r in res mix; do
  $py "$report" "$work/$r" --cnndyn "$cnndyn" --quiet > "$work/$r.page" 2>&1
  code=$?
  check "[ $code -eq 0 ]" "$r page: exit $code: $(cat "$work/$r.page")"
  for f in layer_statistics.png layer_distributions.png; do
    check "[ -s '$work/$r/report/$f' ]" "$r page: $f missing or empty"
  done
  check "ls '$work/$r/report/' | grep '^graph_model[0-9]*\.png$' > /dev/null" "$r page: no graph figure"
  check "page_ok '$work/$r'" "$r page: images or tables"
done
check "grep -q 'layer1.0.conv1' '$work/res/features_columns.csv'" "ResNet run: no per-block columns to read"
rm "$work/s/features_columns.csv" "$work/res/features_columns.csv"
$py "$report" "$work/s" --cnndyn "$cnndyn" --quiet > "$work/old.page" 2>&1
check "[ $? -eq 0 ]" "an old LeNet run without features_columns.csv: $(cat "$work/old.page")"
$py "$report" "$work/res" --cnndyn "$cnndyn" --quiet > "$work/old.page" 2>&1
check "[ $? -eq 1 ] && [ \$(wc -l < '$work/old.page') -eq 1 ] && grep -q 'cannot be read without features_columns.csv' '$work/old.page'" \
  "an old ResNet run without features_columns.csv: $(cat "$work/old.page")"
$py "$report" "$work/s" --cnndyn /nonexistent --quiet > "$work/old.page" 2>&1
check "[ $? -eq 1 ] && grep -q 'not an executable' '$work/old.page'" "--cnndyn to nothing: $(cat "$work/old.page")"

# The fallback metrics (used when report.csv lacks a panel's tau or R^2) on hand-computed cases.
check "$py - '$top/analysis' <<'PY'
import math, sys
sys.path.insert(0, sys.argv[1])
from prediction import kendall_tau_b, r2
assert abs(kendall_tau_b([1, 2, 3], [1, 3, 2]) - 1 / 3) < 1e-12
assert abs(kendall_tau_b([1, 1, 2], [1, 2, 3]) - 2 / math.sqrt(2 * 3)) < 1e-12   # a tie in x
assert math.isnan(kendall_tau_b([1, 1], [1, 2]))
assert abs(r2([1, 2, 3], [1, 2, 4]) - 0.5) < 1e-12
PY" "kendall_tau_b or r2 wrong on hand-computed cases"

# 2. Issue 8's report format: budgets 1..2, spread over repeats; no early_stop.csv.
cp -r "$work/s" "$work/t" && rm -rf "$work/t/report" "$work/t/snapshots" "$work/t/early_stop.csv"
# ... and a models.csv from before [pruning]: without pruned_epoch and pruned_test_accuracy.
$py - "$work/t/models.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
keep = [i for i, h in enumerate(rows[0]) if h not in ("pruned_epoch", "pruned_test_accuracy")]
assert len(keep) == len(rows[0]) - 2, rows[0]
csv.writer(open(sys.argv[1], "w", newline=""), lineterminator="\n").writerows([[r[i] for i in keep] for r in rows])
PY
$py - "$work/t" <<'PY'
import csv, os, sys
d = sys.argv[1]
rows = []
for method, feats, learner, base in [("graph", "degree+diff", "xgboost", 0.6), ("graph", "both", "ridge", 0.3),
                                     ("val_acc", "", "", 0.7), ("hyperparameters", "", "xgboost", 0.5)]:
    for k in (1, 2):
        for task, metrics in [("regression", ["kendall_tau", "r2", "regret_top1"]),
                              ("median", ["accuracy", "majority_rate"])]:
            for mt in metrics:
                rows.append(["all", method, feats, learner, k, task, mt, f"{base + 0.05 * k:.4f}", "0.0312"])
with open(os.path.join(d, "report.csv"), "w", newline="") as f:
    w = csv.writer(f); w.writerow("subset method features learner epochs task metric mean std".split()); w.writerows(rows)
models = list(csv.DictReader(open(os.path.join(d, "models.csv"))))
with open(os.path.join(d, "predictions.csv"), "w", newline="") as f:
    w = csv.writer(f); w.writerow("subset method features learner epochs repeat model actual predicted".split())
    for rep in (0, 1):
        for m in models:
            a = float(m["final_test_accuracy"] or 0.1)
            for k in (1, 2):
                w.writerow(["all", "graph", "degree+diff", "xgboost", k, rep, m["model"], a, a * 0.9 + 0.01 * rep])
                w.writerow(["all", "val_acc", "", "", k, rep, m["model"], a, 0.5])
PY
$py "$report" "$work/t" --quiet > "$work/t.out" 2> "$work/t.err"
code=$?
check "[ $code -eq 0 ]" "target-format page: exit $code: $(cat "$work/t.err")"
check "grep -q 'no early_stop.csv' '$work/t/report/index.html'" "target-format page: no note for the missing early_stop.csv"
for f in metrics_detail.png predicted_vs_actual_k2.png; do
  check "[ -s '$work/t/report/$f' ]" "target-format page: $f missing or empty"
done
check "grep -q 'no nested best_graph' '$work/t/report/index.html'" "target-format page: no note for the missing headline rows"
check "page_ok '$work/t'" "target-format page: images or tables"
check "! grep -q 'Early stopping during the run' '$work/t/report/index.html'" "a run from before [pruning]: an in-run early-stopping section"
# No snapshots here: a note instead of the graph figure, and no failure.
check "grep -q 'no snapshots in this run' '$work/t/report/index.html' && ! ls '$work/t/report' | grep graph_model > /dev/null" \
  "no snapshots: no note, or a graph figure anyway"

# 3. Bad input: one line naming the file, exit 1, the previous page kept, nothing temporary left.
bad() { # name dir expected-text
  $py "$report" "$2" > "$work/bad.out" 2>&1
  local code=$?
  check "[ $code -eq 1 ]" "$1: exit $code, want 1: $(cat "$work/bad.out")"
  check "[ \$(wc -l < '$work/bad.out') -eq 1 ] && grep -q -- '$3' '$work/bad.out'" "$1: message: $(cat "$work/bad.out")"
  check "! ls -a '$2' 2>/dev/null | grep '^\.report' > /dev/null" "$1: temporary folder left behind"
}
cp -r "$work/t" "$work/m"
awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "final_test_accuracy") c = i }
                  NR == 4 { $c = "0.7x" } { print }' "$work/t/models.csv" > "$work/m/models.csv"
before=$(cksum < "$work/m/report/index.html")
bad "malformed models.csv" "$work/m" "models.csv: line 4: final_test_accuracy: .0.7x. is not a number"
check "[ \"\$(cksum < '$work/m/report/index.html')\" = '$before' ]" "malformed input: the previous page was changed"
cp "$work/t/models.csv" "$work/m/models.csv"
head -c 200 "$work/t/curves.csv" > "$work/m/curves.csv"
bad "truncated curves.csv" "$work/m" "curves.csv: line"
cp "$work/t/curves.csv" "$work/m/curves.csv" && rm "$work/m/report.csv"
bad "missing report.csv" "$work/m" "report.csv: missing"
printf 'method,metric\ngraph,r2\n' > "$work/m/report.csv"
bad "report.csv without values" "$work/m" "report.csv: line 1: expected a .mean. column"
cp "$work/t/report.csv" "$work/m/report.csv"
awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "status") c = i }
                  NR == 3 { $c = "pruned" } { print }' "$work/t/models.csv" > "$work/m/models.csv"
bad "a pruned model without pruned_epoch" "$work/m" "models.csv: line 3: pruned_epoch: empty for a pruned model"
bad "missing folder" "$work/nonexistent" "nonexistent: not a folder"

# 4. Runs that prune themselves: the smoke job with successive halving, live and in shadow mode
#    (half the images, one repeat, two methods and two learners keep it short; halving still stops
#    two of the eight models).
prune_run() { # name shadow
  { sed -e 's/^\[prediction\]/[prediction]\nrepeats = 1\nlearners = linear, score\nmethods = degree_diff, val_acc/' \
        -e 's/^train_size = .*/train_size = 500/; s/^validation_size = .*/validation_size = 250/; s/^test_size = .*/test_size = 500/' \
        "$top/jobs/smoke.ini"
    printf '\n[pruning]\npolicy = halving\nfirst_rung = 1\neta = 2\nmin_finished = 4\nshadow = %s\n' "$2"
  } > "$work/$1.ini"
  mpi 2 "$cnndyn" run "$work/$1.ini" --out "$work/$1" --quiet > "$work/$1.out" 2>&1 || { cat "$work/$1.out"; exit 1; }
  $py "$report" "$work/$1" --cnndyn "$cnndyn" --quiet > "$work/$1.page" 2>&1
  local code=$?
  check "[ $code -eq 0 ]" "$1 page: exit $code: $(cat "$work/$1.page")"
  check "page_ok '$work/$1'" "$1 page: images or tables"
  check "[ -s '$work/$1/report/early_stopping_run.png' ] && grep -q '<h2>Early stopping during the run</h2>' '$work/$1/report/index.html'" \
    "$1 page: no in-run early-stopping section or figure"
}
# prune_ok DIR [HTML]: the section's numbers equal those recomputed here, with csv alone, from
# DIR/models.csv and DIR/job.ini (default HTML: the page of DIR).
prune_ok() {
  $py - "$1" "${2:-$1/report/index.html}" <<'PY'
import csv, html.parser, re, sys
d, page = sys.argv[1], sys.argv[2]
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.cells, self.key, self.facts, self.dt = {}, None, {}, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td" and "data-cell" in a: self.key = a["data-cell"]; self.cells[self.key] = ""
        if tag == "dt": self.dt = ""
    def handle_endtag(self, tag):
        if tag == "td": self.key = None
    def handle_data(self, data):
        if self.key: self.cells[self.key] += data
        if self.dt == "": self.dt = data
        elif self.dt: self.facts[self.dt] = data; self.dt = None
text = open(page).read()
p = P(); p.feed(text)
ini = open(f"{d}/job.ini").read()
section = lambda name: ini.split(f"[{name}]", 1)[1].split("\n[", 1)[0]
E = int(re.search(r"^epochs\s*=\s*(\d+)", section("training"), re.M).group(1))
policy = re.search(r"^policy\s*=\s*(\w+)", section("pruning"), re.M).group(1)
shadow = re.search(r"^shadow\s*=\s*true", section("pruning"), re.M) is not None
rows = list(csv.DictReader(open(f"{d}/models.csv")))
f = lambda s: float(s) if s else None
full = len(rows) * E
pruned = sum(r["status"] == "pruned" for r in rows)
stopped = [r for r in rows if r["pruned_epoch"]]
assert stopped, "no model has a pruned_epoch: the policy decided nothing"
if shadow:
    assert pruned == 0, "a shadow run has status pruned"
    none_epochs = sum(int(r["epochs_trained"]) for r in rows)
    none_best = max(f(r["final_test_accuracy"]) for r in rows if r["final_test_accuracy"])
else:
    assert pruned > 0 and all(r["status"] == "pruned" for r in stopped), "live run: stopped models not pruned"
    assert f"{pruned} pruned" in p.facts.get("models", ""), p.facts.get("models")
pol_epochs = sum(min(int(r["pruned_epoch"]), int(r["epochs_trained"])) if r["pruned_epoch"] else
                 int(r["epochs_trained"]) for r in rows)
pol_best = max(f(r["pruned_test_accuracy"]) if r["pruned_epoch"] else f(r["final_test_accuracy"]) or -1 for r in rows)
want = {"policy|epochs": str(pol_epochs), "policy|fraction": f"{pol_epochs / full:.4f}",
        "policy|best": f"{pol_best:.4f}"}
if shadow:
    want.update({"none|epochs": str(none_epochs), "none|fraction": f"{none_epochs / full:.4f}",
                 "none|best": f"{none_best:.4f}", "regret": f"{none_best - pol_best:.4f}",
                 "saved": f"{(none_epochs - pol_epochs) / full:.4f}"})
else:
    assert "best accuracy without pruning, and so the regret, are unknown" in text, "live run: no note"
assert p.cells == want, f"page {p.cells}, recomputed {want}"
assert f"{policy} ({'shadow' if shadow else 'live'})" in text, f"the policy's row does not name {policy}"
print(" ".join(f"{k}={v}" for k, v in want.items()))
PY
}
prune_run live false
prune_run shadow true
for r in live shadow; do check "prune_ok '$work/$r' > '$work/$r.nums'" "$r page: the early-stopping numbers"; done
# Shadow mode decides as the live run does: the policy's side reads the same from both pages.
check "[ \"\$(grep -o 'policy|[a-z]*=[^ ]*' '$work/live.nums')\" = \"\$(grep -o 'policy|[a-z]*=[^ ]*' '$work/shadow.nums')\" ]" \
  "the policy's epochs and best differ between the live and the shadow page: $(cat "$work/live.nums") / $(cat "$work/shadow.nums")"
check "grep -q 'pruned' '$work/live/report/index.html' && $py - '$work/shadow' '$top/analysis' <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import load, population
assert population.hyperparameters(load.models(sys.argv[1])) == ['learning_rate'], 'label or pruning columns read as hyperparameters'
PY" "the grid reads label or the pruning columns as hyperparameters"
# A regret that is not zero: the shadow run with its best model stopped at epoch 1 (test accuracy 0.5
# there); the section is rebuilt from that models.csv by the page's own code and checked the same way.
mkdir -p "$work/regret" && cp "$work/shadow/job.ini" "$work/regret/"
$py - "$work/shadow/models.csv" "$work/regret/models.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
best = max((r for r in rows if r["final_test_accuracy"]), key=lambda r: float(r["final_test_accuracy"]))
best["pruned_epoch"], best["pruned_test_accuracy"] = "1", "0.5"
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), fieldnames=list(rows[0]), lineterminator="\n")
w.writeheader(); w.writerows(rows)
PY
$py - "$work/regret" "$top/analysis" > "$work/regret/index.html" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import load, report
from page import Page
models = load.models(sys.argv[1])
page = Page("regret")
report.early_stopping_section(page, lambda *a: None, models, load.pruning(sys.argv[1], models))
print(page.html())
PY
check "prune_ok '$work/regret' '$work/regret/index.html' > '$work/regret.nums' && ! grep -q 'regret=0.0000' '$work/regret.nums'" \
  "a shadow run whose best model the policy stops: regret wrong or zero (numbers below)"
echo "early stopping during the run: live $(cat "$work/live.nums"); shadow $(cat "$work/shadow.nums"); edited $(cat "$work/regret.nums")"

echo "analysis: $fail failure(s)"
[ $fail -eq 0 ]
