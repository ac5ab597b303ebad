#!/usr/bin/env bash
# Cost of the optional graph summaries (issue 16) against the default statistics: `cnndyn stats
# RUN_DIR` recomputes every snapshot's feature row with each statistics list, ROUNDS times
# interleaved, and prints CPU time per snapshot and its ratio to `degree,eigenvector`. CPU time
# (user + sys) rather than wall time, so other work on a shared machine blurs it less.
# Usage: bench/graph/summaries.sh RUN_DIR [BUILD_DIR] [ROUNDS]   (RUN_DIR: a run with snapshots)
set -euo pipefail
run=${1:?usage: summaries.sh RUN_DIR [BUILD_DIR] [ROUNDS]}
build=${2:-build}
rounds=${3:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sets="degree,eigenvector degree,eigenvector,spectral,degree_entropy degree,eigenvector,singular"
nsnap=$(find "$run" -path '*/model-*/epoch-*' -name model.json | wc -l)
[ "$nsnap" -gt 0 ] || { echo "$run: no snapshots" >&2; exit 1; }
for r in $(seq "$rounds"); do
  for s in $sets; do
    /usr/bin/time -f "$s %U %S" -a -o "$out/t" "$build/cnndyn" stats "$run" --statistics "$s" --out "$out/f.csv"
  done
done
awk -v n="$nsnap" -v ref=degree,eigenvector '{ c[$1] += $2 + $3; k[$1]++ }
  END { printf "%-48s %14s %8s\n", "statistics", "ms/snapshot", "ratio";
        for (s in c) printf "%-48s %14.2f %8.2f\n", s, 1000 * c[s] / k[s] / n, (c[s] / k[s]) / (c[ref] / k[ref]) }' "$out/t"
