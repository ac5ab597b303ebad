#!/usr/bin/env bash
# Fuzzes every parser of outside input for SECONDS each, one target after the other, with
# libFuzzer + ASan + UBSan (clang). Usage: bench/fuzz/run.sh SECONDS [TARGET...]
# Builds build-fuzz/ on first use (scripts/install-deps.sh --fuzz installs clang's runtime).
# Each target starts from the committed seeds (bench/fuzz/corpus/TARGET) and past crashes
# (bench/fuzz/regressions/TARGET), which are only read; new inputs go to build-fuzz/fuzz/corpus/
# TARGET. A crash, hang or out-of-memory input lands in build-fuzz/fuzz/found/TARGET/ and stops
# that target (libFuzzer stops at the first finding). Prints target, executions, findings; exits
# 1 if anything was found.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=${1:?usage: bench/fuzz/run.sh SECONDS [TARGET...]}
shift
all=($(cd "$here/corpus" && ls -d -- */ | tr -d /)) # a target per folder of committed seeds
targets=("${@:-${all[@]}}")
build=${CDN_FUZZ_BUILD:-$top/build-fuzz}
. "$top/scripts/env.sh"

if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCDN_FUZZ=ON -DCDN_BUILD_TESTS=OFF > /dev/null
fi
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}" > "$build/fuzz-build.log" 2>&1 ||
  { tail -30 "$build/fuzz-build.log"; exit 1; }

# Leaks are not findings: a command that stops on bad input leaves, and the OS reclaims its
# memory. UBSan reports abort, so libFuzzer keeps the input.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
printf '%-10s %10s %12s %8s  %s\n' target seconds executions findings log
status=0
for t in "${targets[@]}"; do
  work=$build/fuzz/corpus/$t found=$build/fuzz/found/$t log=$build/fuzz/$t.log
  mkdir -p "$work" "$found"
  seeds=("$here/corpus/$t")
  [ ! -d "$here/regressions/$t" ] || seeds+=("$here/regressions/$t")
  before=$(ls "$found" | wc -l)
  start=$(date +%s)
  # the seeds and every past crash first (libFuzzer runs its corpus folders before mutating)
  "$build/bench/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$found/" "$work" "${seeds[@]}" > "$log" 2>&1 || true
  execs=$(awk '/stat::number_of_executed_units/ { n = $2 } END { print n + 0 }' "$log")
  new=$(( $(ls "$found" | wc -l) - before ))
  [ "$new" -eq 0 ] || status=1
  printf '%-10s %10d %12d %8d  %s\n' "$t" $(( $(date +%s) - start )) "$execs" "$new" "$log"
done
exit $status
