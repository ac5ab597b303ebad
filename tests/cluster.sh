#!/usr/bin/env bash
# Cluster-operation checks of `cnndyn` on a tiny job. Usage: cluster.sh CASE CNNDYN PROJECT_DIR
#   schedule  uneven model costs at 1, 2 and 3 (oversubscribed) ranks give byte-identical CSVs
#   resume    kill -9 mid-run then --resume, SIGTERM/SIGUSR1 checkpoint and exit code, no-op resume
#             of a finished run, refusal of a changed job spec
#   failure   a rank that fails mid-run stops every rank promptly with one message; --resume finishes
#   progress  a ZeroMQ publisher and `cnndyn watch` on loopback, with a malformed message injected
#   team      team_size 2 against a team of one (constant, step and cosine schedules, augmentation),
#             one team vs two teams byte for byte, a team size that does not divide the ranks
set -uo pipefail
case_=$1 cnndyn=$2 top=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"
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

# close DIR_A DIR_B WHAT: losses within 1e-3 relative and accuracies within 0.02 (docs/cluster.md, Teams)
close() {
  /usr/bin/python3 - "$1" "$2" <<'PY' || { echo "FAILED: $3: outside the tolerance of team_size 1"; fail=$((fail + 1)); }
import csv, math, sys
a, b = sys.argv[1], sys.argv[2]
bad = 0
for name, cols in (("curves.csv", ("train_loss", "val_loss", "val_accuracy")),
                   ("models.csv", ("final_val_loss", "final_val_accuracy", "final_test_accuracy"))):
    ra, rb = list(csv.DictReader(open(f"{a}/{name}"))), list(csv.DictReader(open(f"{b}/{name}")))
    assert len(ra) == len(rb), name
    for x, y in zip(ra, rb):
        for c in cols:
            if x[c] == y[c]:
                continue
            u, v = float(x[c]), float(y[c])
            tol = 0.02 if "accuracy" in c else 1e-3 * max(1.0, abs(u))
            if abs(u - v) > tol:
                print(f"{name} model {x['model']} {c}: {u} vs {v}")
                bad += 1
sys.exit(bad > 0)
PY
}

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
  # A population this small leaves feature sets with no varying column: learners must cope
  # without handing BLAS empty matrices (OpenBLAS only prints "illegal value" and carries on).
  check "! grep -q 'illegal value' '$work'/u?.out" "a BLAS call got an illegal argument"
  ;;
resume)
  job="$work/uneven.ini"
  mpi 1 "$cnndyn" run "$job" --out "$work/ref" --quiet > "$work/ref.out" 2>&1 || { cat "$work/ref.out"; exit 1; }
  check "[ -f '$work/ref/job.ini' ] && [ -f '$work/ref/checkpoints/complete' ]" "job.ini copy or complete marker missing"

  # kill -9 of the whole job (mpirun and its ranks) while a model is between epochs. Each epoch end
  # waits 0.5 s (test hook, changes no result) so the kill lands mid-model however fast training is.
  PETSC_OPTIONS='-cnndyn_test_epoch_pause 0.5' setsid mpirun -n 2 --oversubscribe --bind-to none -x PETSC_OPTIONS \
    "$cnndyn" run "$job" --out "$work/k" --quiet > "$work/k.out" 2>&1 &
  pid=$!
  for _ in $(seq 400); do ls "$work"/k/checkpoints/*.ckpt > /dev/null 2>&1 && break; sleep 0.02; done
  # Open MPI puts every rank in a process group of its own: killing mpirun's group alone leaves the
  # ranks running until their next blocking MPI call, so kill them by name as a job kill would.
  kill -9 -- -"$pid" $(pgrep -P "$pid") 2> /dev/null
  wait "$pid" 2> /dev/null
  check "[ ! -f '$work/k/models.csv' ]" "killed run finished before the kill: test did not interrupt it"
  mpi 3 "$cnndyn" run --resume "$work/k" --quiet > "$work/k2.out" 2>&1
  check "[ $? -eq 0 ]" "resume after kill -9 failed: $(cat "$work/k2.out")"
  same "$work/ref" "$work/k" "uninterrupted vs killed and resumed on 3 ranks"
  check "grep -q 'resumed after epoch' '$work'/k/logs/*.log" "no model continued from a mid-training checkpoint"
  check "[ -z \"\$(find '$work/k' -name '*.tmp.*')\" ]" "temporary files left behind"

  # SIGTERM: the current epoch finishes, is checkpointed, exit 75; then resume
  PETSC_OPTIONS='-cnndyn_test_epoch_pause 0.3' "$cnndyn" run "$job" --out "$work/t" --quiet > "$work/t.out" 2>&1 &
  pid=$!
  for _ in $(seq 400); do ls "$work"/t/checkpoints/*.ckpt > /dev/null 2>&1 && break; sleep 0.02; done
  kill -TERM "$pid"
  wait "$pid"
  code=$?
  check "[ $code -eq 75 ]" "SIGTERM: exit $code, want 75: $(cat "$work/t.out")"
  check "grep -q 'resume' '$work/t.out'" "SIGTERM: no hint to resume"
  check "[ ! -f '$work/t/models.csv' ]" "SIGTERM: reports written for an unfinished run"
  check "ls '$work'/t/checkpoints/*.ckpt > /dev/null 2>&1 || ls '$work'/t/checkpoints/*.done > /dev/null 2>&1" "SIGTERM: nothing checkpointed"
  mpi 2 "$cnndyn" run "$job" --resume "$work/t" --quiet > "$work/t2.out" 2>&1
  check "[ $? -eq 0 ]" "resume after SIGTERM failed: $(cat "$work/t2.out")"
  same "$work/ref" "$work/t" "uninterrupted vs SIGTERM and resumed"

  # SIGUSR1 (Slurm's --signal) through mpirun reaches every rank: all stop with 75
  PETSC_OPTIONS='-cnndyn_test_epoch_pause 0.3' mpirun -n 2 --oversubscribe --bind-to none -x PETSC_OPTIONS \
    "$cnndyn" run "$job" --out "$work/u" --quiet > "$work/u.out" 2>&1 &
  pid=$!
  for _ in $(seq 400); do ls "$work"/u/checkpoints/*.ckpt > /dev/null 2>&1 && break; sleep 0.02; done
  kill -USR1 "$pid"
  wait "$pid"
  code=$?
  check "[ $code -eq 75 ]" "SIGUSR1 via mpirun: exit $code, want 75: $(cat "$work/u.out")"

  # resuming a finished run changes nothing
  before=$(stat -c %Y.%s "$work/ref/models.csv" "$work/ref/report.csv")
  sleep 1
  mpi 1 "$cnndyn" run --resume "$work/ref" > "$work/n.out" 2>&1
  check "[ $? -eq 0 ] && grep -q 'complete' '$work/n.out'" "no-op resume: $(cat "$work/n.out")"
  check "[ \"$before\" = \"\$(stat -c %Y.%s '$work/ref/models.csv' '$work/ref/report.csv')\" ]" "no-op resume rewrote reports"

  # a job spec that differs from the one the run started with is refused
  sed 's/^epochs = 2/epochs = 3/' "$job" > "$work/changed.ini"
  mpi 2 "$cnndyn" run "$work/changed.ini" --resume "$work/t" > "$work/c.out" 2>&1
  code=$?
  check "[ $code -eq 1 ] && [ \$(grep -c 'differs from' '$work/c.out') -eq 1 ]" "changed spec: exit $code: $(cat "$work/c.out")"
  # a new run over old checkpoints is refused even with --force
  mpi 1 "$cnndyn" run "$job" --out "$work/t" --force > "$work/f.out" 2>&1
  check "[ $? -eq 1 ] && grep -q 'holds checkpoints' '$work/f.out'" "new run over checkpoints: $(cat "$work/f.out")"
  ;;
failure)
  # Rank 1 fails at its first epoch end (test hook: a simulated write failure, as a full disk on
  # its node would give). Rank 0 must stop at its own next epoch end instead of training the rest of
  # the population, every rank must exit 1 with the one message, and no report may be written.
  mpi 1 "$cnndyn" run "$work/uneven.ini" --out "$work/ref" --quiet --progress off > "$work/ref.out" 2>&1 || { cat "$work/ref.out"; exit 1; }
  PETSC_OPTIONS='-cnndyn_test_fail_rank 1 -cnndyn_test_epoch_pause 0.2' timeout 120 mpirun -n 2 --oversubscribe \
    --bind-to none -x PETSC_OPTIONS "$cnndyn" run "$work/uneven.ini" --out "$work/f" --quiet \
    --progress off > "$work/f.out" 2>&1
  code=$?
  check "[ $code -eq 1 ]" "failing rank: exit $code, want 1: $(cat "$work/f.out")"
  check "[ \$(grep -c 'cnndyn: error: rank 1: simulated write failure' '$work/f.out') -eq 1 ]" "failing rank: message not printed exactly once: $(cat "$work/f.out")"
  check "! grep -q 'PETSC ERROR' '$work/f.out'" "failing rank: a traceback for a user-facing error"
  check "[ ! -e '$work/f/models.csv' ] && [ -z \"\$(find '$work/f' -name '*.tmp.*')\" ]" "failing rank: reports or temporary files left"
  check "grep -q 'stopped on request' '$work/f/logs/rank-0.log'" "rank 0 did not stop early: $(cat "$work/f/logs/rank-0.log")"
  mpi 2 "$cnndyn" run --resume "$work/f" --quiet --progress off > "$work/f2.out" 2>&1
  check "[ $? -eq 0 ]" "resume after a rank failure: $(cat "$work/f2.out")"
  same "$work/ref" "$work/f" "uninterrupted vs a rank failure and resume"
  ;;
progress)
  # a free loopback port: the run publishes there, a watcher started first follows it to the end
  port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  ep="tcp://127.0.0.1:$port"
  timeout 60 "$cnndyn" watch "$ep" --timeout 30 > "$work/watch.out" 2>&1 &
  wpid=$!
  sleep 0.3
  mpi 2 "$cnndyn" run "$work/uneven.ini" --out "$work/p" --quiet --progress "$ep" > "$work/p.out" 2>&1
  check "[ $? -eq 0 ]" "run with progress failed: $(cat "$work/p.out")"
  wait $wpid
  code=$?
  check "[ $code -eq 0 ]" "watch exit $code: $(cat "$work/watch.out")"
  check "grep -q 'run finished: 6/6 models done' '$work/watch.out'" "watch did not see the end: $(tail -3 "$work/watch.out")"
  check "[ \$(grep -c ' done (rank ' '$work/watch.out') -eq 6 ]" "watch did not see 6 models finish"
  check "grep -q 'epoch 2: val_acc' '$work/watch.out'" "watch saw no epoch events"
  # with nobody publishing, watch gives up after its timeout and says why
  "$cnndyn" watch "$ep" --timeout 1 > "$work/gone.out" 2>&1
  check "[ $? -eq 1 ] && grep -q 'publisher gone' '$work/gone.out'" "watch without publisher: $(cat "$work/gone.out")"
  ;;
team)
  sed 's/^\[prediction\]/[cluster]\nteam_size = 2\n[prediction]/' "$work/uneven.ini" > "$work/team2.ini"
  mpi 1 "$cnndyn" run "$work/uneven.ini" --out "$work/t1" --quiet --progress off > "$work/t1.out" 2>&1 || { cat "$work/t1.out"; exit 1; }
  for n in 2 4; do
    mpi $n "$cnndyn" run "$work/team2.ini" --out "$work/t2x$n" --quiet --progress off > "$work/t2x$n.out" 2>&1
    check "[ $? -eq 0 ]" "team_size 2 on $n ranks failed: $(cat "$work/t2x$n.out")"
  done
  # the same team size gives the same bytes whatever the number of teams
  same "$work/t2x2" "$work/t2x4" "team_size 2: one team vs two teams"
  # models are led (recorded) by team leaders only: ranks 0 and 2
  check "! awk -F, 'NR > 1 { print \$3 }' '$work/t2x4/timing.csv' | grep -v '^[02]\$' > /dev/null" "two teams: a model recorded by a team member"
  # against a team of one: the documented tolerance (docs/cluster.md, Teams)
  close "$work/t1" "$work/t2x2" "team_size 2"
  # The same steps under every learning-rate schedule and with augmentation: the team runs the one
  # epoch loop of src/nn/train.c. A smaller population keeps this quick; batch size 1 leaves one
  # member an empty slice of every minibatch.
  for variant in step cosine augment; do
    case $variant in
    step) training='schedule = step\nstep_size = 1\ngamma = 0.01' data= ;;
    cosine) training='schedule = cosine' data= ;;
    augment) training= data='augment = true' ;;
    esac
    printf '[population]\nseed = 11\nlearning_rate = 0.05, 0.1\nbatch_size = 1, 50\n[data]\ntrain_size = 200\nvalidation_size = 100\ntest_size = 100\n%b\n[training]\nepochs = 2\n%b\n[features]\nbudget = 1\n' \
      "$data" "$training" > "$work/$variant.ini"
    printf '[cluster]\nteam_size = 2\n' | cat "$work/$variant.ini" - > "$work/${variant}2.ini"
    mpi 1 "$cnndyn" run "$work/$variant.ini" --out "$work/${variant}1" --quiet --progress off > "$work/${variant}1.out" 2>&1
    check "[ $? -eq 0 ]" "$variant: team_size 1 failed: $(cat "$work/${variant}1.out")"
    mpi 2 "$cnndyn" run "$work/${variant}2.ini" --out "$work/${variant}2" --quiet --progress off > "$work/${variant}2.out" 2>&1
    check "[ $? -eq 0 ]" "$variant: team_size 2 failed: $(cat "$work/${variant}2.out")"
    close "$work/${variant}1" "$work/${variant}2" "team_size 2, $variant"
  done
  mpi 3 "$cnndyn" run "$work/team2.ini" --out "$work/t3" --quiet > "$work/t3.out" 2>&1
  code=$?
  check "[ $code -eq 1 ] && grep -q 'team_size: 2 does not divide the 3 ranks' '$work/t3.out' && [ ! -e '$work/t3' ]" "team_size not dividing the ranks: exit $code"
  ;;
*) echo "unknown case $case_"; exit 2 ;;
esac
echo "$case_: $fail failure(s)"
[ $fail -eq 0 ]
