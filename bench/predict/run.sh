#!/usr/bin/env bash
# bench/predict: wall time of the prediction stage alone (`cnndyn predict` on a finished run's
# CSVs, no training) at 1 and 2 ranks, on the run grown to N models by copying some of its models
# under new configuration ids (issue target: 200 models in under a minute on 2 ranks).
#   bench/predict/run.sh RUN_DIR JOB.ini [N]    e.g. a run of jobs/lenet_study.ini, N = 200
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ $# -ge 2 ] || { echo "usage: $0 RUN_DIR JOB.ini [N]" >&2; exit 2; }
run=$1 job=$2 n=${3:-200}
. "$root/scripts/env.sh"
work=$(mktemp -d /tmp/cdn_bench_predict.XXXXXX)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$here/grow.py" "$run" "$work" "$n"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in 1 2; do
  /usr/bin/time -f "$r rank(s): %e s wall, %U s user, %M KB peak (one rank)" \
    mpirun -n $r "$root/build/cnndyn" predict "$work" --job "$job" --quiet > "$work/out$r" 2>&1 || { cat "$work/out$r"; exit 1; }
  tail -1 "$work/out$r"
  cp "$work/report.csv" "$work/report$r.csv"
done
cmp -s "$work/report1.csv" "$work/report2.csv" && echo "report.csv identical at 1 and 2 ranks" || echo "report.csv DIFFERS between 1 and 2 ranks"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
