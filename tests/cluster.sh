#!/usr/bin/env bash
# Cluster-operation checks of `cnndyn` on a tiny job. Usage: cluster.sh CASE CNNDYN PROJECT_DIR
#   schedule  uneven model costs at 1, 2 and 3 (oversubscribed) ranks give byte-identical CSVs
#   resume    kill -9 mid-run then --resume, SIGTERM/SIGUSR1 checkpoint and exit code, no-op resume
#             of a finished run, refusal of a changed job spec
#   progress  a ZeroMQ publisher and `cnndyn watch` on loopback, with a malformed message injected
set -uo pipefail
case_=$1 cnndyn=$2 top=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
check() { if ! eval "$1"; then echo "FAILED: $2"; fail=$((fail + 1)); fi; }
mpi() { local n=$1; shift; mpirun -n "$n" --oversubscribe --bind-to none "$@"; }
csvs="models.csv curves.csv features.csv predictions.csv report.csv"
same() { # dirA dirB what
  for f in $csvs; do check "cmp -s '$1/$f' '$2/$f'" "$f differs: $3"; done
}

# Six models whose costs differ: batch size 1 takes many more steps per epoch than 200.
cat > "$work/uneven.ini" <<'INI'
[population]
seed = 11
learning_rate = 0.01, 0.05, 0.1
batch_size = 1, 200
[data]
train_size = 400
validation_size = 200
test_size = 200
[training]
epochs = 2
[features]
budget = 1
[prediction]
folds = 3
INI

case $case_ in
schedule)
  for n in 1 2 3; do
    mpi $n "$cnndyn" run "$work/uneven.ini" --out "$work/u$n" --quiet > "$work/u$n.out" 2>&1
    check "[ $? -eq 0 ]" "$n ranks: run failed: $(cat "$work/u$n.out")"
  done
  same "$work/u1" "$work/u2" "1 vs 2 ranks"
  same "$work/u1" "$work/u3" "1 vs 3 ranks"
  check "[ \$(tail -n +2 '$work/u1/models.csv' | wc -l) -eq 6 ]" "models.csv rows"
  # every rank took part: no rank is a pure dispatcher
  ranks=$(awk -F, 'NR > 1 { print $3 }' "$work/u3/timing.csv" | sort -u | wc -l)
  check "[ '$ranks' -eq 3 ]" "3 ranks: only $ranks trained models"
  check "grep -q 'idle' '$work/u3.out'" "no idle-time line"
  ;;
*) echo "unknown case $case_"; exit 2 ;;
esac
echo "$case_: $fail failure(s)"
[ $fail -eq 0 ]
