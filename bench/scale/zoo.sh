#!/usr/bin/env bash
# Zoo scale: a population of N tiny models (LeNet-5 at width 0.25, 1 epoch, 256/128/256 images,
# learning rates drawn log-uniformly) on RANKS ranks, measured: models/hour, the per-model cost
# outside training (scheduling, checkpoints, records, logs), each rank's peak memory (the root's
# against a worker's: what the root holds per model), disk per model, then an extrapolation with
# those measured per-model costs to a 50,000-model zoo on 1,000 ranks.
# Usage: bench/scale/zoo.sh [N] [OUTDIR]    (defaults: 20000, a temporary folder)
# Environment: RANKS (2); CNNDYN, the binary to measure (build/cnndyn). Needs a build
# (scripts/build.sh); run it on a quiet machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/scripts/env.sh"
n=${1:-20000}
out=${2:-$(mktemp -d)}
ranks=${RANKS:-2}
mkdir -p "$out"
cat > "$out/zoo.ini" <<INI
[population]
seed = 5
learning_rate = loguniform(0.001, 0.3)
samples = $n
[data]
train_size = 256
validation_size = 128
test_size = 256
[training]
width = 0.25
epochs = 1
[features]
budget = 1
[prediction]
methods = val_acc
learners = score
repeats = 1
subsets = all
INI
rm -rf "$out/run"
start=$(date +%s.%N)
# each rank under /usr/bin/time: its own peak resident memory
mpirun -n "$ranks" --bind-to none sh -c 'exec /usr/bin/time -f "%M" -o "$0/rss.$OMPI_COMM_WORLD_RANK" "$1" run "$0/zoo.ini" --out "$0/run" --quiet --progress off' \
  "$out" "${CNNDYN:-$root/build/cnndyn}" > "$out/run.out" 2>&1 || { cat "$out/run.out"; exit 1; }
end=$(date +%s.%N)
train=$(sed -n 's/.*training took \([0-9.]*\) s.*/\1/p' "$out/run.out")
/usr/bin/python3 - "$out" "$n" "$ranks" "$start" "$end" "$train" <<'PY'
import csv, os, sys
out, n, ranks, start, end, train = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *map(float, sys.argv[4:])
wall = end - start
rows = list(csv.DictReader(open(f"{out}/run/timing.csv")))
inside = sum(float(r["train_seconds"]) + float(r["graph_seconds"]) for r in rows)  # train + graph + stats
rss = [int(open(f"{out}/rss.{r}").read().split()[-1]) for r in range(ranks)]
disk = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(f"{out}/run") for f in fs)
over = (ranks * train - inside) / n       # rank-seconds per model outside its training and graph
per_model = ranks * train / n             # rank-seconds per model, all in
root_per_model = (rss[0] - max(rss[1:] or [rss[0]])) * 1024 / n
print(f"{n} models on {ranks} ranks: {wall:.1f} s in all, training phase {train:.1f} s; "
      f"{n / train * 3600:,.0f} models/hour while training, {n / wall * 3600:,.0f} with start-up and reports")
print(f"per model: {per_model * 1e3:.1f} rank-ms in all, {over * 1e3:.2f} rank-ms outside training, graph and "
      f"statistics (scheduling, checkpoints, records, logs: {100 * over / per_model:.1f}%)")
print(f"peak memory: root {rss[0] / 1024:.0f} MB, worker {max(rss[1:] or [0]) / 1024:.0f} MB; "
      f"the root's extra: {root_per_model:.0f} bytes per model")
print(f"disk: {disk / 2**20:.1f} MB, {disk / n / 1024:.1f} KB per model")
N, R = 50000, 1000
print(f"extrapolated to {N:,} such models on {R:,} ranks: training phase {N * per_model / R:.2f} s "
      f"(ideal balance; each rank takes {N / R:.0f} models), root memory {(rss[0] * 1024 + (N - n) * root_per_model) / 2**30:.2f} GB, "
      f"disk {N * disk / n / 2**30:.2f} GB")
PY
