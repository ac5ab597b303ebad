#!/usr/bin/env bash
# In-run pruning ([pruning], src/run/prune.c) on a tiny population. Usage: prune.sh CASE CNNDYN
#   halving    live at 1 and 2 ranks byte for byte; shadow mode makes the same decisions and trains
#              everyone exactly as without pruning; a pruned model's rows are the unpruned run's up
#              to its stop; `cnndyn watch` shows pruned models
#   predictor  fitted during the run (method + learner) and saved (model = FILE): 1 and 2 ranks byte
#              for byte, shadow decisions equal live ones
#   resume     kill -9 during a pruned run, resumed on 3 ranks: the uninterrupted run's CSVs
#   refuse     a saved predictor of another width or family, and --part, refused before any folder
#   review14_* an outside review's findings, each failing before its fix: signal (a stop while a
#              model waits for the warm-up changed a later decision), refuse (halving without a
#              validation set; model = FILE with learner), reader (models.csv rows that contradict
#              pruning), family (an in-run fit on one family stopped another), diverged_warmup (a
#              fit on diverged warm-up models stopped nearly everyone). The analysis page of a
#              pruned run is tested by analysis_page (tests/test_analysis.sh).
set -uo pipefail
case_=$1 cnndyn=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"
csvs="models.csv curves.csv features.csv predictions.csv report.csv early_stop.csv selection.csv"
same() { for f in $csvs; do check "cmp -s '$1/$f' '$2/$f'" "$f differs: $3"; done; }
run() { # RANKS JOB OUT [options]: fails the test when cnndyn fails
  local n=$1 job=$2 out=$3
  shift 3
  mpi "$n" "$cnndyn" run "$job" --out "$out" --quiet --progress off "$@" > "$out.out" 2>&1
  check "[ $? -eq 0 ]" "$n ranks, $(basename "$job"): run failed: $(cat "$out.out")"
}
# column NAME FILE: that column of a CSV, with the model id, as "model value" lines
column() { awk -F, -v c="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next } { print $1, $k }' "$2"; }

# 24 models, 4 epochs: halving's rungs at epochs 1 and 2 (eta 2), the first 4 models kept.
cat > "$work/base.ini" <<'INI'
[population]
seed = 11
learning_rate = 0.001, 0.003, 0.01, 0.03, 0.1, 0.3
dropout = 0, 0.5
replicates = 2
[data]
train_size = 600
validation_size = 300
test_size = 500
[training]
epochs = 4
[features]
budget = 2
[prediction]
folds = 4
repeats = 1
INI
with() { cp "$work/base.ini" "$work/$1.ini"; printf '[pruning]\n%s\n' "$2" >> "$work/$1.ini"; }
halving_keys="policy = halving
first_rung = 1
eta = 2
min_finished = 4"
# same_decisions LIVE SHADOW WHAT: shadow mode decided as live mode did, at the same accuracies
same_decisions() {
  for c in pruned_epoch pruned_test_accuracy; do
    check "diff <(column $c '$1/models.csv') <(column $c '$2/models.csv') > /dev/null" "$3: shadow's $c differs from live's"
  done
}

# pruned_ok RUN: some but not all models pruned, each at a decision epoch, kept ones untouched
pruned_ok() {
  local n
  n=$(grep -c ',pruned,' "$1/models.csv")
  check "[ '$n' -ge 1 ] && [ '$n' -le 20 ]" "$1: $n models pruned, want 1..20 (the first 4 are never stopped)"
  check "! column pruned_epoch '$1/models.csv' | awk '\$2 != \"\" && \$2 != 1 && \$2 != 2' | grep -q ." \
    "$1: a model pruned outside the decision epochs $2"
}

case $case_ in
halving)
  run 1 "$work/base.ini" "$work/none"
  with halving "$halving_keys"
  with shadow "$halving_keys
shadow = true"
  port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  timeout 120 "$cnndyn" watch "tcp://127.0.0.1:$port" --timeout 60 > "$work/watch.out" 2>&1 &
  wpid=$!
  sleep 0.3
  run 2 "$work/halving.ini" "$work/h2" --progress "tcp://127.0.0.1:$port"
  wait $wpid
  run 1 "$work/halving.ini" "$work/h1"
  run 2 "$work/shadow.ini" "$work/s2"
  same "$work/h1" "$work/h2" "halving: 1 vs 2 ranks"
  pruned_ok "$work/h2" "1, 2"
  npruned=$(grep -c ',pruned,' "$work/h2/models.csv")
  check "grep -q 'pruned (rank ' '$work/watch.out' && grep -q ' $npruned pruned' '$work/watch.out'" \
    "watch did not show the $npruned pruned models: $(tail -3 "$work/watch.out")"
  check "grep -q 'were pruned during the run' '$work/h2/report.md'" "report.md does not say pruned models are left out"
  # a predictor saved from a pruned run fits on the finished models (and says so); scoring a pruned
  # run gives pruned models a score and no actual class (it failed: "model 3 has no final accuracy")
  mpi 1 "$cnndyn" predict "$work/h2" --methods val_loss --learners score --budget 1 --save "$work/h2.predictor" \
    --quiet > "$work/save.out" 2>&1
  check "[ $? -eq 0 ] && grep -q \"$npruned models pruned during the run are left out\" '$work/save.out'" \
    "predict --save on a pruned run: $(cat "$work/save.out")"
  mpi 1 "$cnndyn" predict "$work/h2" --model "$work/h2.predictor" --quiet > "$work/score.out" 2>&1
  check "[ $? -eq 0 ] && [ \$(grep -c ',\$' '$work/h2/scores.csv') -eq $npruned ]" \
    "predict --model on a pruned run: $(cat "$work/score.out")"
  # shadow: the same decisions and stop accuracies, and every model trained as without pruning
  same_decisions "$work/h2" "$work/s2" halving
  check "! grep -q ',pruned,' '$work/s2/models.csv'" "shadow mode stopped a model"
  for f in curves.csv features.csv; do
    check "cmp -s '$work/none/$f' '$work/s2/$f'" "shadow mode's $f differs from the run without pruning"
    # a live-pruned model's rows are the unpruned run's, up to its stop
    check "[ -z \"\$(comm -23 <(sort '$work/h2/$f') <(sort '$work/none/$f'))\" ]" "live pruning changed rows of $f"
  done
  ;;
predictor)
  run 1 "$work/base.ini" "$work/none"
  mpi 1 "$cnndyn" predict "$work/none" --methods val_loss --learners score --budget 1 --save "$work/vl.predictor" \
    --quiet > "$work/save.out" 2>&1
  check "[ $? -eq 0 ]" "predict --save failed: $(cat "$work/save.out")"
  with fitted "policy = predictor
method = degree_diff
learner = xgboost
k = 1
min_finished = 8"
  with fitted_shadow "policy = predictor
shadow = true
method = degree_diff
learner = xgboost
k = 1
min_finished = 8"
  with saved "policy = predictor
model = $work/vl.predictor
quantile = 0.6
min_finished = 6"
  for j in fitted saved; do
    run 1 "$work/$j.ini" "$work/${j}1"
    run 2 "$work/$j.ini" "$work/${j}2"
    same "$work/${j}1" "$work/${j}2" "predictor ($j): 1 vs 2 ranks"
    pruned_ok "$work/${j}2" "1"
  done
  run 2 "$work/fitted_shadow.ini" "$work/fs2"
  same_decisions "$work/fitted2" "$work/fs2" predictor
  # the run decides with its own copy: a changed file cannot change a resumed run's decisions
  check "cmp -s '$work/vl.predictor' '$work/saved2/checkpoints/pruning.predictor'" "no copy of the saved predictor in the run"
  ;;
resume)
  with halving "$halving_keys"
  with fitted "policy = predictor
method = val_acc
learner = score
k = 1
min_finished = 8"
  for j in halving fitted; do
    run 1 "$work/$j.ini" "$work/${j}_ref"
    # each epoch end waits 0.3 s (a test hook that changes no result) so the kill lands mid-run
    PETSC_OPTIONS='-cnndyn_test_epoch_pause 0.3' setsid mpirun -n 2 --oversubscribe --bind-to none -x PETSC_OPTIONS \
      "$cnndyn" run "$work/$j.ini" --out "$work/$j" --quiet --progress off > "$work/$j.out" 2>&1 &
    pid=$!
    for _ in $(seq 600); do [ "$(ls "$work/$j/checkpoints/" 2> /dev/null | grep -c '\.done')" -ge 10 ] && break; sleep 0.05; done
    kill -9 -- -"$pid" $(pgrep -P "$pid") 2> /dev/null
    wait "$pid" 2> /dev/null
    check "[ ! -f '$work/$j/models.csv' ]" "$j: the run finished before the kill: test did not interrupt it"
    mpi 3 "$cnndyn" run --resume "$work/$j" --quiet --progress off > "$work/$j.resume.out" 2>&1
    check "[ $? -eq 0 ]" "$j: resume after kill -9 failed: $(cat "$work/$j.resume.out")"
    same "$work/${j}_ref" "$work/$j" "$j: uninterrupted vs killed and resumed on 3 ranks"
  done
  ;;
refuse)
  run 1 "$work/base.ini" "$work/none"
  sed 's/^budget = 2/budget = 2\naggregators = mean/' "$work/base.ini" > "$work/narrow.ini"
  run 1 "$work/narrow.ini" "$work/narrow"
  mpi 1 "$cnndyn" predict "$work/narrow" --methods degree_diff --learners xgboost --budget 1 --save "$work/narrow.predictor" \
    --quiet > /dev/null 2>&1
  mpi 1 "$cnndyn" predict "$work/none" --methods curve --learners svr --budget 1 --save "$work/lenet.predictor" \
    --quiet > /dev/null 2>&1
  with width "policy = predictor
model = $work/narrow.predictor"
  sed 's/^epochs = 4/epochs = 4\narchitecture = lenet5, vgg\nwidth = 0.25/' "$work/base.ini" > "$work/family.ini"
  printf '[pruning]\npolicy = predictor\nmodel = %s\n' "$work/lenet.predictor" >> "$work/family.ini"
  with part "policy = halving"
  for j in width family part; do
    extra=""
    [ $j = part ] && extra="--part 0/2"
    mpi 2 "$cnndyn" run "$work/$j.ini" --out "$work/$j" --quiet --progress off $extra > "$work/$j.out" 2>&1
    code=$?
    check "[ $code -eq 1 ] && [ ! -e '$work/$j' ]" "$j: exit $code (want 1) or an output folder was made: $(cat "$work/$j.out")"
  done
  check "grep -q 'fitted on 21 input columns' '$work/width.out'" "width: $(grep error "$work/width.out")"
  check "grep -q 'vgg' '$work/family.out'" "family: $(grep error "$work/family.out")"
  check "[ \$(grep -c 'cannot prune' '$work/part.out') -eq 1 ]" "part: $(grep error "$work/part.out")"
  ;;
review14_signal)
  # A stop (Slurm's SIGUSR1) while a predictor-policy model waits for the first min_finished models
  # to finish: the waiting model must not publish a score it has not computed. Seed 18821 orders
  # the models so that positions 0-2 are narrow (fast), 3 (model 14) medium, 4 (model 7) narrow and
  # 5 (model 22) wide (slow): the signal comes while model 14 trains its last epoch, model 7 waits
  # and model 22 is still in epoch 1, which ends after model 14 finished and then decides.
  cat > "$work/sig.ini" <<'INI'
[population]
seed = 18821
learning_rate = 0.003, 0.01, 0.03, 0.1
replicates = 2
[data]
train_size = 3000
validation_size = 300
test_size = 500
[training]
epochs = 2
width = 0.5, 2, 4
[features]
budget = 1
[prediction]
folds = 4
repeats = 1
[pruning]
policy = predictor
method = val_acc
learner = score
k = 1
min_finished = 4
quantile = 0.25
INI
  run 3 "$work/sig.ini" "$work/sig_ref"
  mpirun -n 3 --oversubscribe --bind-to none "$cnndyn" run "$work/sig.ini" --out "$work/sig" --quiet --progress off \
    > "$work/sig.out" 2>&1 &
  pid=$!
  for _ in $(seq 3000); do grep -qs '^model 14 epoch 1:' "$work"/sig/logs/rank-*.log && break; sleep 0.02; done
  kill -USR1 "$pid"
  wait "$pid"
  code=$?
  check "[ $code -eq 75 ]" "signal: exit $code, want 75: $(tail -3 "$work/sig.out")"
  mpi 2 "$cnndyn" run --resume "$work/sig" --quiet --progress off > "$work/sig.resume.out" 2>&1
  check "[ $? -eq 0 ]" "signal: resume failed: $(cat "$work/sig.resume.out")"
  same "$work/sig_ref" "$work/sig" "stopped while a model waited for the warm-up, resumed"
  ;;
review14_refuse)
  # halving decides on validation accuracy: without a validation set every score is NaN, all tie,
  # and every model past min_finished was stopped (exit 0); model = FILE takes no learner
  run 1 "$work/base.ini" "$work/none"
  mpi 1 "$cnndyn" predict "$work/none" --methods val_loss --learners score --budget 1 --save "$work/vl.predictor" \
    --quiet > /dev/null 2>&1
  sed 's/^validation_size = 300/validation_size = 0/' "$work/base.ini" > "$work/noval.ini"
  printf '[pruning]\npolicy = halving\nmin_finished = 4\n' >> "$work/noval.ini"
  with modellearner "policy = predictor
model = $work/vl.predictor
learner = xgboost"
  for j in noval modellearner; do
    mpi 1 "$cnndyn" run "$work/$j.ini" --out "$work/$j" --quiet --progress off > "$work/$j.out" 2>&1
    code=$?
    check "[ $code -eq 1 ] && [ ! -e '$work/$j' ]" "$j: exit $code (want 1, no folder): $(grep -c ',pruned,' "$work/$j/models.csv" 2> /dev/null) pruned"
  done
  ;;
review14_reader)
  # models.csv rows that contradict [pruning]'s meaning, fed to cnndyn predict: each must be refused
  with halving "policy = halving
first_rung = 1
eta = 2
min_finished = 4"
  run 1 "$work/halving.ini" "$work/h"
  # edit DIR NAME AWK: a copy of run h with models.csv rewritten by AWK (f[NAME] = column index)
  edit() {
    cp -r "$work/h" "$work/$1"
    awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) f[$i] = i } '"$2"' { print }' "$work/h/models.csv" > "$work/$1/models.csv"
    mpi 1 "$cnndyn" predict "$work/$1" --quiet > "$work/$1.out" 2>&1
    local code=$?
    check "[ $code -eq 1 ]" "$1: exit $code, want 1 (refused): $(grep -m1 error "$work/$1.out")"
  }
  # a pruned model relabelled ok with a final accuracy: an ok model trained fewer epochs than the run
  edit unpruned 'NR > 1 && $f["status"] == "pruned" && !done { $f["status"] = "ok"; $f["final_test_accuracy"] = "0.9"; $f["label"] = "0.9"; $f["pruned_epoch"] = ""; $f["pruned_test_accuracy"] = ""; done = 1 }'
  # pruned at the last epoch: no decision is made there (decisions come before the last epoch)
  edit lastepoch 'NR > 1 && $f["status"] == "ok" && !done { $f["status"] = "pruned"; $f["pruned_epoch"] = $f["epochs_trained"]; $f["pruned_test_accuracy"] = $f["final_test_accuracy"]; $f["final_test_accuracy"] = ""; $f["label"] = ""; done = 1 }'
  # a pruned model's diverged_epoch is not read at all
  edit divepoch 'NR > 1 && $f["status"] == "pruned" && !done { $f["diverged_epoch"] = "xyz"; done = 1 }'
  ;;
review14_family)
  # Seed 8 puts four lenet5 models first: the predictor fitted on them has no family column and has
  # seen no vgg; a saved predictor like it is refused ("fitted on lenet5 models only"), but the one
  # fitted during the run stopped vgg models
  sed -e 's/^seed = 11/seed = 8/' -e 's/^epochs = 4/epochs = 3\narchitecture = lenet5, vgg\nwidth = 0.25/' \
    -e 's/^dropout = 0, 0.5//' -e 's/^learning_rate = .*/learning_rate = 0.003, 0.01, 0.03, 0.1/' -e 's/^budget = 2/budget = 1/' \
    "$work/base.ini" > "$work/fam.ini"
  printf '[pruning]\npolicy = predictor\nmethod = curve\nlearner = svr\nk = 1\nmin_finished = 4\n' >> "$work/fam.ini"
  mpi 2 "$cnndyn" run "$work/fam.ini" --out "$work/fam" --quiet --progress off > "$work/fam.out" 2>&1
  code=$?
  check "[ $code -eq 1 ] || ! grep -q ',vgg,.*,pruned,' '$work/fam/models.csv'" \
    "exit $code: a predictor fitted on lenet5 models only stopped vgg models: $(grep -c ',vgg,.*,pruned,' "$work/fam/models.csv")"
  ;;
review14_diverged_warmup)
  # Seed 624 puts four models with learning rate >= 3 and init_scale 10 first: all diverge at epoch
  # 1, so the predictor is fitted on four chance labels and NaN inputs, predicts one constant, all
  # later models tie, and ties count against the later model: 19 of the 20 models that reach k are
  # stopped at quantile 0.5 (good ones too), exit 0, no warning
  cat > "$work/div.ini" <<'INI'
[population]
seed = 624
learning_rate = 0.001, 0.01, 0.1, 3, 10
init_scale = 1, 10
dropout = 0, 0.5
replicates = 2
[data]
train_size = 300
validation_size = 100
test_size = 200
[training]
epochs = 6
[features]
budget = 2
[prediction]
folds = 4
repeats = 1
[pruning]
policy = predictor
method = degree_diff
learner = svr
k = 2
min_finished = 4
INI
  mpi 2 "$cnndyn" run "$work/div.ini" --out "$work/div" --quiet --progress off > "$work/div.out" 2>&1
  code=$?
  reached=$(awk -F, 'NR > 1 && $16 >= 2' "$work/div/models.csv" 2> /dev/null | wc -l)
  npruned=$(grep -c ',pruned,' "$work/div/models.csv" 2> /dev/null)
  check "[ $code -ne 0 ] || [ \"\$npruned\" -le \$(( reached * 3 / 4 )) ]" \
    "exit $code: a predictor fitted on diverged models only stopped $npruned of the $reached models that reached k = 2"
  ;;
esac
[ $fail -eq 0 ]
