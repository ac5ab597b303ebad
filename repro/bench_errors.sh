#!/usr/bin/env bash
# Bad input to the bench tools (cdn_error_exit): each exits non-zero with exactly one line,
# "TOOL: error: ..." naming what is wrong (usage: exit 2). Usage: repro/bench_errors.sh [BUILD_DIR]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
. "$root/scripts/env.sh"
tmp=$(mktemp -d /tmp/cdn_bench_errors.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() { # STATUS PATTERN TOOL ARGS...
  local want=$1 pat=$2 got
  shift 2
  "$build/bench/$1" "${@:2}" > /dev/null 2> "$tmp/err"
  got=$?
  [ "$got" -eq "$want" ] || fail "$* exited $got, not $want: $(cat "$tmp/err")"
  [ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "$*: not one line: $(cat "$tmp/err")"
  grep -q -- "$pat" "$tmp/err" || fail "$*: no '$pat' in: $(cat "$tmp/err")"
  ! grep -q ': :' "$tmp/err" || fail "$*: an empty name in: $(cat "$tmp/err")"
  echo "ok: $* -> $got: $(cat "$tmp/err")"
}
printf '[data]\ntrain_size = 99999999\n' > "$tmp/bad.ini"
expect 2 "usage" train/bench_train vgg 1 4
expect 1 "bench_train: error: architecture" train/bench_train nosuch 1 4 64 1 100
expect 1 "bench_train: error: TRAIN_N 70000: train_size" train/bench_train vgg 1 4 64 1 70000
expect 1 "bench_train: error: TRAIN_N -5" train/bench_train vgg 1 4 64 1 -5
expect 1 "bench_train: error: batch_size" train/bench_train vgg 1 4 0 1 100
expect 2 "usage" torch/bench_split
expect 1 "bench_split: error: $tmp/none.ini: cannot read" torch/bench_split "$tmp/none.ini" "$tmp/x.bin"
expect 1 "bench_split: error: $tmp/bad.ini:2: train_size" torch/bench_split "$tmp/bad.ini" "$tmp/x.bin"
[ ! -e "$tmp/x.bin" ] || fail "bench_split left $tmp/x.bin"
expect 2 "usage" graph/bench_graph
expect 2 "usage" graph/bench_graph nonsense
expect 1 "bench_graph: error: $tmp/none.npy: cannot open" graph/bench_graph fc "$tmp/none.npy"
