#!/usr/bin/env bash
# bench/predict/memory.sh: the prediction stage's memory on one node, with the results table held
# once by the ranks other than the root (src/results/bcast.c) against a copy on every rank
# (-cnndyn_shared_table 0), in one run. `cnndyn predict` runs on RUN_DIR grown to N models
# (grow.py) at each rank count; every 20 ms the script reads each rank's private memory (RssAnon)
# and its shared mappings (RssShmem) from /proc, and reports the peaks of the node's total (private
# summed over the ranks, shared counted once as the largest any rank maps) and of the shared part.
#   bench/predict/memory.sh RUN_DIR JOB.ini [N] [RANKS...]   (defaults: N = 20000, ranks 2 3 4)
# e.g. a run of jobs/smoke.ini. More ranks than cores are fine: memory, not time, is measured.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ $# -ge 2 ] || { echo "usage: $0 RUN_DIR JOB.ini [N] [RANKS...]" >&2; exit 2; }
run=$1 job=$2 n=${3:-20000}
shift $(($# < 3 ? $# : 3))
ranks=${*:-2 3 4}
. "$root/scripts/env.sh"
work=$(mktemp -d /tmp/cdn_bench_predict_mem.XXXXXX)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$here/grow.py" "$run" "$work" "$n"

# peak node memory (MB) of the cnndyn ranks whose command line names $work, while PID lives
watch_peak() {
  local pid=$1 node=0 shm=0
  while kill -0 "$pid" 2> /dev/null; do
    read -r a s < <(for p in $(pgrep -f -- "$work" || true); do
      [ "$(cat "/proc/$p/comm" 2> /dev/null)" = cnndyn ] || continue
      awk '/^RssAnon:/ { a = $2 } /^RssShmem:/ { s = $2 } END { print a + 0, s + 0 }' "/proc/$p/status" 2> /dev/null
    done | awk '{ a += $1; if ($2 > s) s = $2 } END { print a + 0, s + 0 }')
    [ $((a + s)) -gt "$node" ] && node=$((a + s))
    [ "$s" -gt "$shm" ] && shm=$s
    sleep 0.02
  done
  echo "$((node / 1024)) $((shm / 1024))"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%6s %16s %16s %7s %16s\n' ranks "node MB (copies)" "node MB (shared)" ratio "shared part MB"
for r in $ranks; do
  for shared in 0 1; do
    PETSC_OPTIONS="-cnndyn_shared_table $shared" mpirun -n "$r" --oversubscribe --bind-to none \
      "$root/build/cnndyn" predict "$work" --job "$job" --quiet > "$work/out" 2>&1 &
    pid=$!
    read -r peak shm < <(watch_peak $pid)
    wait $pid || { cat "$work/out"; exit 1; }
    cp "$work/report.csv" "$work/report.$r.$shared.csv"
    eval "peak$shared=$peak shm$shared=$shm"
  done
  cmp -s "$work/report.$r.0.csv" "$work/report.$r.1.csv" || { echo "report.csv differs with the shared table at $r ranks" >&2; exit 1; }
  printf '%6s %16s %16s %7.2f %16s\n' "$r" "$peak0" "$peak1" "$(awk -v a="$peak1" -v b="$peak0" 'BEGIN { print a / b }')" "$shm1"
done
echo "report.csv identical both ways at every rank count"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
