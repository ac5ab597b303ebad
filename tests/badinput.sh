#!/usr/bin/env bash
# Hostile input through the cnndyn executable: each case must stop with one clear message naming
# the file (and line and column where there is one), exit 1, and leave the outputs as they were.
# Usage: badinput.sh CASE CNNDYN PROJECT_DIR
#   runcsv    predict on a run folder whose CSVs were damaged, or with a learner option out of range
#   compare   nothing to compare: one configuration, no method taking the learners, no job.ini
#   resume    a stray checkpoints/complete, and a job.ini edited before --resume
#   snapshot  NaN weights in a snapshot; a quoted architecture name read back
#   cli       an empty job spec, hex floats, an impossible watch endpoint
set -uo pipefail
case_=$1 cnndyn=$2 top=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"

# The smoke job, trained once per case that needs a finished run (seconds).
smoke() { # dest [extra ini text]
  { cat "$top/jobs/smoke.ini"; printf '%b' "${2:-}"; } > "$work/smoke.ini"
  mpi 1 "$cnndyn" run "$work/smoke.ini" --out "$1" --quiet --progress off > "$work/smoke.out" 2>&1 ||
    { cat "$work/smoke.out"; exit 1; }
}

# Runs CNNDYN ARGS..., expects exit 1 and stderr containing TEXT exactly once.
refused() { # what text args...
  local what=$1 text=$2 code
  shift 2
  "$cnndyn" "$@" > "$work/out" 2>&1
  code=$?
  check "[ $code -eq 1 ]" "$what: exit $code, want 1: $(head -c 600 "$work/out")"
  printf '%s\n' "$text" > "$work/needle" # a file: the text may hold quotes
  check "[ \$(grep -cF -f '$work/needle' '$work/out') -eq 1 ]" "$what: no '$text' in: $(head -c 600 "$work/out")"
  check "! grep -q 'PETSC ERROR' '$work/out'" "$what: traceback shown for bad input"
}

case $case_ in
runcsv)
  smoke "$work/r"
  cp "$work/r/report.csv" "$work/report.csv"
  # one damaged copy per case: FILE, a sed script or a command, the message expected
  damage() { # name file sed-script text
    rm -rf "$work/d" && cp -r "$work/r" "$work/d"
    sed -i "$3" "$work/d/$2"
    refused "$1" "$4" predict "$work/d" --quiet
    check "cmp -s '$work/d/report.csv' '$work/report.csv'" "$1: report.csv was rewritten"
  }
  damage "features header only" features.csv '2,$d' "d/features.csv: no row for model 0 epoch 0"
  damage "curves header only" curves.csv '2,$d' "d/curves.csv: no row for model 0 epoch 0"
  damage "duplicate row" curves.csv '3p' "d/curves.csv:4: second row for model 0 epoch 1"
  damage "extra field" features.csv '5s/$/,1/' "d/features.csv:5: "
  damage "dropped feature column" features.csv 's/^\([^,]*,[^,]*,[^,]*\),[^,]*/\1/' "d/features.csv:1: columns missing"
  damage "renamed feature column" features.csv '1s/degree\.all\.mean/degree.all.meen/' "'degree.all.meen' is not a feature cnndyn writes"
  # two columns swapped, names with their values: the same table to the eye, another report to the
  # learners; features_columns.csv holds the run's order
  damage "moved feature columns" features.csv 's/^\([^,]*,[^,]*\),\([^,]*\),\([^,]*\)/\1,\3,\2/' \
    "d/features_columns.csv:2: column 'degree.all.mean', but features.csv's column 3 is"
  damage "unknown status" models.csv '2s/,ok,/,okay,/' "d/models.csv:2: column status: 'okay' is not ok, diverged or pruned"
  damage "config out of range" models.csv '2s/^0,0,/0,99999999999,/' "d/models.csv:2: column config: 99999999999 is outside"
  damage "nan text" curves.csv '3s/,[^,]*$/,nan/' "d/curves.csv:3: column val_accuracy: 'nan' is not a plain decimal number"
  damage "inf text" features.csv '3s/^\([^,]*,[^,]*\),[^,]*/\1,Infinity/' "d/features.csv:3: column degree.all.mean: 'Infinity' is not a plain decimal number"
  damage "hex text" models.csv '2s/,0\.003,/,0x1p-8,/' "d/models.csv:2: column learning_rate: '0x1p-8' is not a plain decimal number"
  damage "models.csv cut short" models.csv '$d' "but models.csv has only 7 models (is models.csv cut short?)"
  damage "no models" models.csv '2,$d' "d/models.csv: no models (header only)"
  # a learner option out of range (docs/cli.md): one message from 2 ranks, exit 1, report.csv as it was
  mpi 2 "$cnndyn" predict "$work/r" --quiet -cnndyn_xgb_rounds 0 > "$work/out" 2>&1
  code=$?
  check "[ $code -eq 1 ] && [ \$(grep -c \"cnndyn: error: -cnndyn_xgb_rounds: '0' is not an integer in \\[1, 10000\\]\" '$work/out') -eq 1 ]" \
    "bad learner option: exit $code: $(head -c 600 "$work/out")"
  check "! grep -q 'PETSC ERROR' '$work/out' && cmp -s '$work/r/report.csv' '$work/report.csv'" "bad learner option: traceback or report rewritten"
  # an architecture in RFC 4180 quotes reads back as the name
  rm -rf "$work/d" && cp -r "$work/r" "$work/d"
  sed -i '2,$s/,lenet5,/,"lenet5",/' "$work/d/models.csv"
  "$cnndyn" predict "$work/d" --quiet > "$work/out" 2>&1
  check "[ $? -eq 0 ] && cmp -s '$work/d/report.csv' '$work/report.csv'" "quoted architecture: $(head -c 600 "$work/out")"
  ;;
compare)
  smoke "$work/r"
  # methods = degree with learners = score: no pair, refused before any work
  refused "no method takes the learners" "--methods/--learners: no method of methods takes any of the learners" \
    predict "$work/r" --methods degree --learners score --quiet
  printf '[population]\nlearning_rate = 0.1, 0.01\n[features]\nbudget = 2\n[prediction]\nmethods = degree\n' > "$work/degree.ini"
  refused "job's methods, option's learners" "--methods/--learners: no method of methods takes any of the learners" \
    predict "$work/r" --job "$work/degree.ini" --learners score --quiet
  # a bad learner option stops `run` before any folder or training (it once trained everything first)
  refused "run with a bad learner option" "-cnndyn_svr_tol: '5' is not a number in" \
    run "$top/jobs/smoke.ini" --out "$work/o_opt" -cnndyn_svr_tol 5
  check "[ ! -e '$work/o_opt' ]" "bad learner option: output folder created"
  # and so does a bad memory option (docs/cli.md), read in the prediction stage's broadcast
  refused "run with a bad memory option" "-cnndyn_shared_table: '2' is not an integer in [0, 1]" \
    run "$top/jobs/smoke.ini" --out "$work/o_mem" -cnndyn_shared_table 2
  check "[ ! -e '$work/o_mem' ]" "bad memory option: output folder created"
  # a method whose statistic the run did not compute: refused, the run's report left as it was
  cp "$work/r/report.csv" "$work/report_before.csv"
  refused "method without its statistic" "--methods: the methods asked for need statistics" \
    predict "$work/r" --methods spectral_diff --quiet
  check "cmp -s '$work/r/report.csv' '$work/report_before.csv'" "method without its statistic: report.csv rewritten"
  # degree methods read the degree columns too (a directed run has none): once accepted, they
  # rewrote report.csv with its header alone (both column files edited, as such a run has them)
  rm -rf "$work/d" && cp -r "$work/r" "$work/d"
  /usr/bin/python3 -c "
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
keep = [i for i, n in enumerate(rows[0]) if not n.startswith('degree.')]
csv.writer(open(sys.argv[1], 'w', newline=''), lineterminator='\\n').writerows([[r[i] for i in keep] for r in rows])

cols = list(csv.reader(open(sys.argv[2])))
csv.writer(open(sys.argv[2], 'w', newline=''), lineterminator='\\n').writerows([r for r in cols if not r[0].startswith('degree.')])
" "$work/d/features.csv" "$work/d/features_columns.csv"
  cp "$work/d/report.csv" "$work/report_before.csv"
  refused "degree method without degree columns" "--methods: the methods asked for need statistics" \
    predict "$work/d" --methods degree_diff --quiet
  check "cmp -s '$work/d/report.csv' '$work/report_before.csv'" "degree method without degree: report.csv rewritten"
  printf '[population]\nlearning_rate = 0.1, 0.01\n[prediction]\nmethods = degree\nlearners = score\n' > "$work/pairs.ini"
  refused "job with no pairs" "pairs.ini:5: learners: no method of [prediction] methods takes any of the learners" \
    run "$work/pairs.ini" --out "$work/o1"
  check "[ ! -e '$work/o1' ]" "no pairs: output folder created"
  # one configuration: refused before training
  printf '[population]\nreplicates = 4\n[training]\nepochs = 3\n' > "$work/one.ini"
  refused "one configuration" "one.ini: the population has one configuration (4 models): nothing to compare" \
    run "$work/one.ini" --out "$work/o2"
  check "[ ! -e '$work/o2' ]" "one configuration: output folder created"
  # a run folder whose models all share one configuration (edited to look so: configuration 0's
  # architecture and hyperparameters on every row, as replicates have; the reader refuses a
  # configuration whose rows differ)
  rm -rf "$work/d" && cp -r "$work/r" "$work/d"
  awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "status") st = i }
                    NR == 2 { for (i = 5; i < st; i++) hp[i] = $i }
                    NR > 1 { $2 = 0; for (i = 5; i < st; i++) $i = hp[i] } { print }' \
    "$work/d/models.csv" > "$work/d/m.csv" && mv "$work/d/m.csv" "$work/d/models.csv"
  refused "one configuration in models.csv" "d/models.csv: all 8 models share one configuration: nothing to compare" \
    predict "$work/d" --job "$top/jobs/smoke.ini" --quiet
  # without DIR/job.ini the budget is the built-in default (3): the message says so and names the
  # file, on a run cut to 2 epochs (its epoch-3 rows dropped)
  rm -f "$work/d/job.ini"
  sed -i 's/^\([0-9]*\),[0-9]*,/\1,\1,/' "$work/d/models.csv"
  # (the final validation columns, which would have to repeat epoch 2's row, are left out: runs
  # from before them are read without)
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "epochs_trained") c = i; if ($i ~ /^final_val_/) drop[i] = 1 } }
           NR > 1 { $c = 2 } { s = ""; for (i = 1; i <= NF; i++) if (!(i in drop)) s = s (s == "" ? "" : ",") $i; print s }' \
    "$work/d/models.csv" > "$work/d/m.csv" && mv "$work/d/m.csv" "$work/d/models.csv"
  for f in curves.csv features.csv; do awk -F, '$2 != 3' "$work/d/$f" > "$work/d/x.csv" && mv "$work/d/x.csv" "$work/d/$f"; done
  refused "default budget" "budget (the built-in default, as $work/d/job.ini is missing; give --budget or --job): 3 is more than the run's 2 epochs" \
    predict "$work/d" --quiet
  ;;
resume)
  smoke "$work/r"
  check "cmp -s '$work/r/job.ini' '$work/r/checkpoints/job.ini'" "checkpoints/job.ini is not the job spec the run started with"
  # a finished run whose reports were removed: resuming writes them again
  cp "$work/r/report.csv" "$work/report.csv"
  rm "$work/r/report.csv" "$work/r/models.csv"
  mpi 1 "$cnndyn" run --resume "$work/r" --quiet --progress off > "$work/out" 2>&1
  check "[ $? -eq 0 ] && cmp -s '$work/r/report.csv' '$work/report.csv' && [ -s '$work/r/models.csv' ]" \
    "complete marker without reports: $(head -c 600 "$work/out")"
  check "grep -q 'checkpoints/complete is there but' '$work/out' && ! grep -q 'this run is complete' '$work/out'" \
    "complete marker without reports: not said"
  # a stray marker in a run stopped before its end: the run goes on (here: starts) instead of
  # saying "complete" with no CSVs
  mkdir -p "$work/s/checkpoints" && cp "$work/r/job.ini" "$work/s/job.ini" && touch "$work/s/checkpoints/complete"
  mpi 1 "$cnndyn" run --resume "$work/s" --quiet --progress off > "$work/out" 2>&1
  check "[ $? -eq 0 ] && cmp -s '$work/s/report.csv' '$work/report.csv'" "stray complete marker: $(head -c 600 "$work/out")"
  # job.ini edited after the run started: named as such, not as a bad checkpoint
  sed -i 's/^epochs = 3/epochs = 4/' "$work/r/job.ini"
  refused "edited job.ini" "r/job.ini: the job spec changed since the run started (it started with $work/r/checkpoints/job.ini)" \
    run --resume "$work/r" --progress off
  ;;
snapshot)
  smoke "$work/r" '\n[output]\nsnapshots = true\n'
  snap="$work/r/snapshots/model-000000/epoch-001"
  "$cnndyn" stats "$snap" --out "$work/nodes.csv" > "$work/out" 2>&1
  check "[ $? -eq 0 ] && [ \$(wc -l < '$work/nodes.csv') -gt 10 ]" "stats on a good snapshot: $(head -c 600 "$work/out")"
  # a run folder with one epoch's snapshot gone: refused, not a features.csv short of a row
  rm -rf "$work/r/snapshots/model-000001/epoch-001"
  refused "missing snapshot epoch" "model-000001: epoch-001 is missing" stats "$work/r" --out "$work/run.csv"
  check "[ ! -e '$work/run.csv' ]" "missing snapshot epoch: features file written"
  # a layer name with a comma and a quote (from the snapshot's model.json) is one RFC 4180 field
  cp -r "$snap" "$work/named"
  rm "$work/named/checksums.txt" # edited on purpose: read as another tool's snapshot (no checksums)
  sed -i 's/"name":\t"conv1"/"name":\t"conv,\\"1"/' "$work/named/model.json"
  "$cnndyn" stats "$work/named" --out "$work/named.csv" > "$work/out" 2>&1
  check "[ $? -eq 0 ] && grep -qF ',\"conv,\"\"1\",' '$work/named.csv'" "layer name not quoted: $(head -c 300 "$work/out") $(sed -n 2p "$work/named.csv")"
  # a NaN in conv1's weights (float32 0x7fc00000, little-endian) after the .npy header, in a snapshot
  # without checksums.txt (another tool's; with it the checksum would refuse the file first)
  rm "$snap/checksums.txt"
  f=$(ls "$snap"/*conv1*weight*.npy | head -1)
  printf '\x00\x00\xc0\x7f' | dd of="$f" bs=1 seek=$(($(stat -c %s "$f") - 4)) conv=notrunc status=none
  refused "NaN weight (stats)" "holds a non-finite value (NaN at index" stats "$snap" --out "$work/nan.csv"
  check "[ ! -e '$work/nan.csv' ]" "NaN weight: nodes file written"
  refused "NaN weight (graph)" "$(basename "$f"): tensor of layer conv1 holds a non-finite value" graph "$snap" --export "$work/g.mtx"
  ;;
cli)
  # a network too big to build is refused with its real size: the weight count of alexnet's fc1 at
  # width 64 once overflowed an int (an outside review: "18446744070842 million parameters")
  printf '[population]\nlearning_rate = 0.1, 0.01\n[training]\narchitecture = alexnet\nwidth = 64\nepochs = 2\n[features]\nbudget = 1\n' > "$work/huge.ini"
  refused "network too big" "GB (31492 million parameters, activations for batches of 256)" \
    run "$work/huge.ini" --out "$work/o_huge"
  check "[ ! -e '$work/o_huge' ]" "network too big: output folder created"
  : > "$work/empty.ini"
  refused "empty job spec" "empty.ini: sets no key (empty, or only comments and section headers): not a job spec" \
    run "$work/empty.ini" --out "$work/o1"
  check "[ ! -e '$work/o1' ]" "empty job spec: output folder created"
  printf '# to do\n[population]\n' > "$work/comments.ini"
  refused "comments only" "comments.ini: sets no key" run "$work/comments.ini" --out "$work/o2"
  sed 's/^learning_rate = .*/learning_rate = 0x1p-4, 0.1/' "$top/jobs/smoke.ini" > "$work/hex.ini"
  refused "hex float" "hex.ini:6: learning_rate: '0x1p-4' is not a plain decimal number" run "$work/hex.ini" --out "$work/o3"
  start=$(date +%s)
  refused "impossible port" "watch tcp://127.0.0.1:99999: has no valid TCP port (1 to 65535)" watch tcp://127.0.0.1:99999 --timeout 5
  took=$(($(date +%s) - start))
  check "[ $took -lt 3 ]" "watch waited $took s on an impossible port"
  for t in inf 0x10 nan; do # strtod took these: inf waited forever
    "$cnndyn" watch tcp://127.0.0.1:5557 --timeout $t > "$work/out" 2>&1
    check "[ $? -eq 2 ] && grep -q \"timeout '$t' is not a positive number\" '$work/out'" "watch --timeout $t accepted"
  done
  # every key in range, the network far too large: refused from its size before anything is allocated
  # (it took 22 GB and hung; ulimit keeps a regression from swapping the machine)
  sed 's/^epochs = 3/epochs = 3\narchitecture = resnet\nwidth = 64\ndepth = 32/' "$top/jobs/smoke.ini" > "$work/huge.ini"
  (ulimit -v 8000000; refused "huge network" "resnet at width 64, depth 32: one network needs" run "$work/huge.ini" --out "$work/o5"
   [ $fail -eq 0 ]) || fail=$((fail + 1))
  check "[ ! -e '$work/o5' ]" "huge network: output folder created"
  "$cnndyn" run "$top/jobs/smoke.ini" --out "$work/o4" --progress tcp://127.0.0.1:70000 > "$work/out" 2>&1
  check "[ $? -eq 2 ] && grep -q 'no valid TCP port' '$work/out'" "run --progress with an impossible port: $(cat "$work/out")"
  ;;
*) echo "unknown case $case_"; exit 2 ;;
esac
[ $fail -eq 0 ]
