#!/usr/bin/env bash
# In-run pruning, side by side: one population trained four times (no pruning, successive halving,
# predictor with the best graph-only method, predictor with the best baseline) and, for each,
# the compute spent (epochs, wall and CPU time) and the regret: the best final test accuracy of the
# unpruned run minus the best accuracy the pruned run ended with (a finished model's final one, a
# pruned model's at its stop), with a 95% bootstrap interval over configurations (table.py).
#
# Usage: bench/prune/run.sh [JOB.ini] [OUTDIR]     (defaults: jobs/lenet_study.ini, out/bench-prune)
# Environment (each a ';'-separated list of [pruning] keys, see jobs/README.md):
#   HALVING  "first_rung = 1; eta = 3"
#   GRAPH    "method = graph_diff; learner = xgboost"   (the quick study's best graph-only row at k = 2)
#   BASELINE "method = curve; learner = svr"            (its best baseline row at k = 2)
#   PREDICT  "k = 2; quantile = 0.8"                    (both predictor runs)
#   WARMUP   32 (min_finished, every policy); RANKS 2; KEEP=1 reuses finished runs in OUTDIR.
# JOB must have neither a [pruning] nor a [prediction] section: the bench adds a one-row
# [prediction] section so that each run's prediction stage (not what is measured) takes seconds.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
job=${1:-$top/jobs/lenet_study.ini}
out=${2:-$top/out/bench-prune}
ranks=${RANKS:-2}
cnndyn=${CNNDYN:-$top/build/cnndyn}
warmup=${WARMUP:-32}
predict=${PREDICT:-k = 2; quantile = 0.8}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
mkdir -p "$out"

run() { # NAME ["key = value; key = value ..."]
  local name=$1 spec=$out/$1.ini
  if [ -n "${KEEP:-}" ] && [ -f "$out/$name/checkpoints/complete" ]; then return; fi
  rm -rf "${out:?}/$name"
  cp "$job" "$spec"
  printf '\n[prediction]\nmethods = val_acc\nlearners = score\nrepeats = 1\nsubsets = all\n' >> "$spec"
  if [ -n "${2:-}" ]; then printf '\n[pruning]\n%s\n' "$(echo "$2" | tr ';' '\n' | sed 's/^ *//')" >> "$spec"; fi
  echo "== $name: ${2:-no pruning}" >&2
  /usr/bin/time -f "%e %U %S" -o "$out/$name.time" \
    mpirun -n "$ranks" --bind-to none "$cnndyn" run "$spec" --out "$out/$name" --quiet --progress off > "$out/$name.log" 2>&1 \
    || { cat "$out/$name.log"; exit 1; }
}
run none
run halving "policy = halving; min_finished = $warmup; ${HALVING:-first_rung = 1; eta = 3}"
run predictor_graph "policy = predictor; min_finished = $warmup; ${GRAPH:-method = graph_diff; learner = xgboost}; $predict"
run predictor_baseline "policy = predictor; min_finished = $warmup; ${BASELINE:-method = curve; learner = svr}; $predict"

/usr/bin/python3 "$top/bench/prune/table.py" "$out" none halving predictor_graph predictor_baseline
