#!/usr/bin/env bash
# Byte identity of two builds on every shipped job: each jobs/*.ini cut to smoke size
# (smoke_variant.py) is run by both builds on 2 ranks, and every CSV and snapshot is compared.
# For refactors that must change no result ("behaviour unchanged": run it before merging one).
# Usage: bench/identity/run.sh OLD_BUILD_DIR NEW_BUILD_DIR [WORK_DIR]
# Exit 0 when every job's outputs are identical; the differing files are listed otherwise.
# timing.csv (wall clock) and logs are not compared.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
old=$(cd "$1" && pwd) new=$(cd "$2" && pwd) work=${3:-$(mktemp -d)}
mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
bad=0
for job in "$top"/jobs/*.ini; do
  name=$(basename "$job" .ini)
  /usr/bin/python3 "$top/bench/identity/smoke_variant.py" "$job" > "$work/$name.ini"
  for b in old new; do
    dir=$old
    [ $b = new ] && dir=$new
    rm -rf "$work/$name.$b"
    if ! mpirun -n 2 --bind-to none --oversubscribe "$dir/cnndyn" run "$work/$name.ini" --out "$work/$name.$b" --quiet \
      --progress off > "$work/$name.$b.out" 2>&1; then
      echo "$name: the $b build failed: $(tail -3 "$work/$name.$b.out")"
      bad=1
      continue 2
    fi
  done
  diffs=$(cd "$work/$name.old" && find . -type f ! -name timing.csv ! -path './logs/*' ! -path './checkpoints/*' |
    sort | while read -r f; do cmp -s "$f" "$work/$name.new/$f" || echo "$f"; done)
  n=$(tail -n +2 "$work/$name.old/models.csv" | wc -l)
  if [ -n "$diffs" ]; then echo "$name ($n models): DIFFERS: $diffs"; bad=1
  else echo "$name ($n models): identical ($(cd "$work/$name.old" && find . -type f ! -path './logs/*' | wc -l) files)"; fi
done
exit $bad
