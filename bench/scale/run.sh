#!/usr/bin/env bash
# Population throughput at 1 and 2 ranks on the same job, in one run, and the per-model cost of
# scheduling and gathering. Usage: bench/scale/run.sh [JOB.ini]   (default jobs/quickstart.ini)
# Needs a build (scripts/build.sh). Run it on a quiet machine: it times whole runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/scripts/env.sh"
job=${1:-$root/jobs/quickstart.ini}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Snapshots off: the benchmark is about training and scheduling, not the disk.
sed 's/^snapshots *=.*/snapshots = false/' "$job" > "$work/job.ini"

declare -A rate
for n in 1 2; do
  start=$(date +%s.%N)
  mpirun -n $n --bind-to none "$root/build/cnndyn" run "$work/job.ini" --out "$work/r$n" --quiet --progress off \
    > "$work/r$n.out" 2>&1
  end=$(date +%s.%N)
  models=$(($(wc -l < "$work/r$n/models.csv") - 1))
  rate[$n]=$(awk -v m="$models" -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", m / (b - a) * 3600 }')
  echo "$n rank(s): $models models in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s = ${rate[$n]} models/hour; $(grep 'ranks idle' "$work/r$n.out" | sed 's/^cnndyn: //')"
done
cmp -s "$work/r1/report.csv" "$work/r2/report.csv" && echo "report.csv identical at 1 and 2 ranks" || echo "report.csv DIFFERS"
echo "throughput 2 ranks / 1 rank: $(awk -v a="${rate[2]}" -v b="${rate[1]}" 'BEGIN { printf "%.2f", a / b }')x (target 1.9x)"
for n in 1 2; do mpirun -n $n --bind-to none "$root/build/bench/scale/bench_scale_overhead" 200000 531; done
