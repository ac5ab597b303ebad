#!/usr/bin/env bash
# Transfer splits end to end: a population of two families at two widths
# (tests/data/jobs/good_transfer.ini) at 1 and 2 ranks gives byte-identical CSVs, a features.csv of
# whole-graph columns only, and report.csv rows for heldout_lenet5, heldout_vgg and wide with finite
# metrics and no std. Usage: transfer.sh CNNDYN PROJECT_DIR
set -uo pipefail
cnndyn=$1 top=$2 job=$2/tests/data/jobs/good_transfer.ini
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"

mpi 1 "$cnndyn" run "$job" --out "$work/r1" --quiet > "$work/r1.out" 2>&1 || { cat "$work/r1.out"; exit 1; }
mpi 2 "$cnndyn" run "$job" --out "$work/r2" > "$work/r2.out" 2>&1 || { cat "$work/r2.out"; exit 1; }
for f in models.csv curves.csv features.csv predictions.csv report.csv report.md early_stop.csv; do
  check "cmp -s '$work/r1/$f' '$work/r2/$f'" "$f differs between 1 and 2 ranks"
done
# models.csv names each model's family and width: 2 x 2 shapes, 4 models each
check "[ \"\$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[\$i] = i; next } { print \$c[\"architecture\"] \"@\" \$c[\"width\"] }' '$work/r1/models.csv' | sort | uniq -c | awk '{ printf \"%s %s \", \$1, \$2 }')\" = '4 lenet5@0.25 4 lenet5@0.75 4 vgg@0.25 4 vgg@0.75 ' ]" \
  "models.csv architecture/width: $(head -2 "$work/r1/models.csv")"
# two families: whole-graph and pooled columns only
check "head -1 '$work/r1/features.csv' | tr ',' '\n' | tail -n +3 | awk -F. '\$2 != \"all\" { exit 1 }'" "features.csv has per-layer columns: $(head -1 "$work/r1/features.csv")"
check "head -1 '$work/r1/features.csv' | grep ',degree.all.mean,.*,weights.all.weight.std,' > /dev/null" "features.csv lacks degree.all.mean or weights.all.weight.std"
# every transfer subset, graph methods and baselines, with a finite tau and no std
for s in heldout_lenet5 heldout_vgg wide; do
  for ml in degree,linear graph_diff,xgboost weights,svr val_acc,score hparams,xgboost; do
    m=${ml%,*} l=${ml#*,}
    check "awk -F'\"' '{ split(\$1, a, \",\"); split(\$3, b, \",\") }
           a[1] == \"$s\" && a[2] == \"$m\" && b[2] == \"$l\" && b[5] == \"kendall_tau\" && b[6] != \"\" && b[6] + 0 >= -1 && b[6] + 0 <= 1 && b[7] == \"\" { ok = 1 }
           END { exit !ok }' '$work/r1/report.csv'" "report.csv: no finite $s $m/$l kendall_tau without std"
  done
  check "grep -q '^### kendall_tau, subset $s (higher is better; one split' '$work/r1/report.md'" "report.md has no $s table"
  check "grep -q '^subset $s (fitted on 8 models, tested on the other 8' '$work/r2.out'" "stdout has no $s summary"
done
# a split predicts its test side only: the widest models, 8 per comparison row
check "awk -F, '\$1 == \"wide\" && \$2 == \"val_acc\" { n++ } END { exit n != 8 }' '$work/r1/predictions.csv'" "predictions.csv: wide val_acc rows"
wide_ids=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } $c["width"] == 0.75 { print $1 }' "$work/r1/models.csv" | tr '\n' ' ')
pred_ids=$(awk -F, '$1 == "wide" && $2 == "val_acc" { print $5 }' "$work/r1/predictions.csv" | tr '\n' ' ')
check "[ '$wide_ids' = '$pred_ids' ]" "predictions.csv: the wide split tests models $pred_ids, not the width-0.75 models $wide_ids"
# cnndyn predict on the CSVs alone: the same report, and --subsets picks subsets
cp "$work/r1/report.csv" "$work/report.run.csv"
mpi 2 "$cnndyn" predict "$work/r1" --job "$job" --quiet > "$work/p.out" 2>&1
check "[ $? -eq 0 ] && cmp -s '$work/r1/report.csv' '$work/report.run.csv'" "predict changed report.csv: $(cat "$work/p.out")"
mpi 1 "$cnndyn" predict "$work/r1" --job "$job" --subsets wide,heldout --methods val_acc --quiet > "$work/p.out" 2>&1
check "[ $? -eq 0 ] && [ \"\$(cut -d, -f1 '$work/r1/report.csv' | sort -u | tr '\n' ' ')\" = 'heldout_lenet5 heldout_vgg subset wide ' ]" \
  "predict --subsets wide,heldout: $(cut -d, -f1 "$work/r1/report.csv" | sort -u | tr '\n' ' ') $(cat "$work/p.out")"
[ $fail -eq 0 ]
