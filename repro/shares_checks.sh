#!/usr/bin/env bash
# Shell-level checks of bench/train/shares.sh (a bench tool, so not a ctest test): bad arguments,
# a training window without samples, a bench_train that prints no window, and (with a build and
# perf) a real run whose CPU milliseconds per step must match BATCH / the CPU-time images/s.
# Usage: repro/shares_checks.sh   (from anywhere; exits 1 on the first failed check)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fake=$(mktemp -d /tmp/cdn_shares_checks.XXXXXX)
trap 'rm -rf "$fake"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A checkout whose bench_train is a script: its window (unless FAKE_NO_WINDOW) is one second that
# ended before the process started, so perf has no sample in it.
mkdir -p "$fake/bench/train" "$fake/scripts" "$fake/build/bench/train"
cp "$root/bench/train/shares.sh" "$fake/bench/train/"
cp "$root/scripts/env.sh" "$fake/scripts/"
cat > "$fake/build/bench/train/bench_train" <<'EOB'
#!/bin/sh
echo "$*" > "$(dirname "$0")/args"
[ -n "${FAKE_NO_WINDOW:-}" ] || echo "cnndyn training from 1.000000 to 2.000000 s (CLOCK_MONOTONIC)" >&2
echo "cnndyn $1 images_per_s 100 test_acc 0.1 mflop_per_image 1 gflop_s 1 cpu_images_per_s 100"
EOB
chmod +x "$fake/build/bench/train/bench_train"
s=$fake/bench/train/shares.sh

expect() { # STATUS PATTERN ARGS...: shares.sh ARGS exits STATUS with PATTERN on stderr
  local want=$1 pat=$2 got
  shift 2
  rm -f "$fake/build/bench/train/args"
  "$s" "$@" > "$fake/out" 2> "$fake/err"
  got=$?
  [ "$got" -eq "$want" ] || fail "shares.sh $* exited $got, not $want: $(cat "$fake/err")"
  grep -q -- "$pat" "$fake/err" || fail "shares.sh $*: no '$pat' in: $(cat "$fake/err")"
  if [ "$want" -eq 2 ] && [ -e "$fake/build/bench/train/args" ]; then fail "shares.sh $*: ran bench_train"; fi
  echo "ok: shares.sh $* -> $got"
}
command -v perf > /dev/null || { echo "perf missing: scripts/install-deps.sh --bench" >&2; exit 1; }
cd "$fake" # a glob would find files here
expect 2 usage vgg
expect 2 usage vgg 1 4 64 6000 7
expect 2 usage ""
expect 2 usage "lenet5 1 0 64 640"
expect 1 "no perf samples" '*' 1 0 64 640 # reaches bench_train as it is (the real one rejects it)
[ "$(cat "$fake/build/bench/train/args")" = "* 1 0 64 1 640" ] || fail "ARCH '*' became: $(cat "$fake/build/bench/train/args")"
expect 2 "TRAIN_N" lenet5 1 0 64 abc
expect 2 "TRAIN_N" lenet5 1 0 64 -5
expect 2 "BATCH" lenet5 1 0 0 640
expect 2 "BATCH" lenet5 1 0 x 640
expect 2 "WIDTH" lenet5 one 0 64 640
expect 1 "no perf samples in the training window" lenet5 1 0 64 640
FAKE_NO_WINDOW=1 expect 1 "printed no training window" lenet5 1 0 64 640

# A real run: perf's CPU time per step against bench_train's own CPU-time figure (same process,
# same window but for perf's sampling error: about 1/sqrt(1000 samples), so 10% is generous).
bench=$root/build/bench/train/bench_train
[ -x "$bench" ] || { echo "skipped the real run: no $bench"; exit 0; }
out=$("$root/bench/train/shares.sh" vgg 1 4 64 640) || fail "real run failed"
echo "$out"
cpu=$(echo "$out" | sed -n 's/.*(\([0-9]*\) by CPU time).*/\1/p')
total=$(echo "$out" | awk '$1 == "total" { print $2 }')
[ -n "$cpu" ] && [ -n "$total" ] || fail "real run: no CPU images/s or total in the output"
awk -v c="$cpu" -v t="$total" 'BEGIN { r = t / (1e3 * 64 / c); exit !(r > 0.9 && r < 1.1) }' ||
  fail "real run: $total ms/step against 64 / $cpu images/s"
echo "ok: $total ms/step, 64 / $cpu images/s = $(awk -v c="$cpu" 'BEGIN { printf "%.2f", 64e3 / c }') ms"
