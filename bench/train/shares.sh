#!/usr/bin/env bash
# Where a training step's time goes: profiles bench_train with perf over the training alone (the
# test-set evaluation after it is left out) and prints, per step of BATCH images, the milliseconds
# and share of oneDNN (its JIT kernels: convolutions, pooling, reorders), cnndyn's own kernels
# (the bench_train binary: BatchNorm, add, ReLU, max-pool backward, the optimiser step, and the
# first-layer convolutions of src/nn/conv_small.c on LeNet), OpenBLAS (linear layers) and the rest
# (kernel, libc), then cnndyn's ten largest functions; then, from a second run without perf, oneDNN's
# twelve largest primitives by oneDNN's own timing (its verbose mode: bench_train turns it on for the
# training alone; beside that run's wall-time step, with a note when the run lost over a tenth of
# it to other processes), with a convolution's rate in GFLOP/s counted as a direct convolution's FLOPs
# and as a share of the core's FP32 peak that bench_peak measures (Winograd does fewer FLOPs, so it
# can pass 100%).
# The oneDNN share bounds what work outside oneDNN can still gain: with everything else free, a
# step would take that share of its time (bench/README.md, "What the training targets need").
# Needs perf (package linux-perf: scripts/install-deps.sh --bench) and a build.
# Usage: bench/train/shares.sh [ARCH WIDTH DEPTH BATCH TRAIN_N]   (default: vgg 1 4 64 6000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/scripts/env.sh"
. "$here/peak.sh"
export LC_ALL=C # awk's and perf's figures with one decimal point whatever the user's locale
[ $# -gt 0 ] || set -- vgg 1 4 64 6000
usage() { echo "usage: $0 [ARCH WIDTH DEPTH BATCH TRAIN_N]${1:+ ($1)}" >&2; exit 2; }
[ $# -eq 5 ] || usage
# bench_train reads them with atoi/atof (a typo becomes 0: TRAIN_N all 60000 images, 0 steps here)
[[ $2 =~ ^[0-9]*\.?[0-9]+$ ]] || usage "WIDTH: a number"
[[ $3 =~ ^[0-9]+$ ]] || usage "DEPTH: a whole number"
[[ $4 =~ ^[0-9]+$ && $4 -gt 0 ]] || usage "BATCH: a whole number above 0"
[[ $5 =~ ^[0-9]+$ ]] || usage "TRAIN_N: a whole number (0: all 60000)"
bench=$root/build/bench/train/bench_train
freq=1999
for tool in "$bench" "$root/build/bench/train/bench_peak"; do
  [ -x "$tool" ] || { echo "$0: $tool is missing: build first (scripts/build.sh)" >&2; exit 1; }
done
command -v perf > /dev/null || { echo "$0: perf is missing: scripts/install-deps.sh --bench installs it" >&2; exit 1; }
work=$(mktemp -d /tmp/cdn_shares.XXXXXX)
trap 'rm -rf "$work"' EXIT

if ! CDN_BENCH_WINDOW=1 perf record -q -k CLOCK_MONOTONIC -F $freq -o "$work/perf.data" -- "$bench" "$1" "$2" "$3" "$4" 1 "$5" \
  > "$work/out" 2> "$work/err"; then
  cat "$work/err" >&2
  echo "$0: the profiled run failed (messages above; perf, for a user other than root, may need" \
    "/proc/sys/kernel/perf_event_paranoid at 1 or lower)" >&2
  exit 1
fi
window=$(awk '/^cnndyn training from/ { print $4 "," $6 }' "$work/err")
[ -n "$window" ] || { echo "$0: bench_train printed no training window" >&2; exit 1; }
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "${2:-$work/out}"; } # KEY [FILE]
steps=$(awk -v n="$5" -v b="$4" 'BEGIN { n = n > 0 ? n : 60000; print int((n + b - 1) / b) }')

# ms/step below is CPU time (perf samples a process only while it runs): on a shared machine it
# matches BATCH / the CPU-time figure, not the wall-time one
echo "$1 width $2 depth $3, batch $4, $steps steps; $(field images_per_s) images/s while profiled" \
  "($(field cpu_images_per_s) by CPU time)"
[ "$(id -u)" -eq 0 ] || [ "$(cat /proc/sys/kernel/perf_event_paranoid)" -le 1 ] ||
  echo "(perf_event_paranoid above 1: the kernel's part of a step is not sampled, so not counted)"
perf report -i "$work/perf.data" --time "$window" --no-children --sort dso -F sample,dso --stdio 2> /dev/null |
  awk -v f=$freq -v s="$steps" -v me="$0" '
    /^#/ || NF < 2 { next }
    { d = $2; k = d ~ /^\[JIT\]/ || d ~ /^libdnnl/ ? "oneDNN" : d == "bench_train" ? "cnndyn" : d ~ /^libopenblas/ ? "OpenBLAS" : "other"
      n[k] += $1; t += $1 }
    END {
      if (!t) { print me ": no perf samples in the training window" > "/dev/stderr"; exit 1 }
      printf "%-10s %10s %7s\n", "part", "ms/step", "share"
      split("oneDNN cnndyn OpenBLAS other", o, " ")
      for (i = 1; i <= 4; i++) printf "%-10s %10.2f %6.1f%%\n", o[i], 1e3 * n[o[i]] / f / s, 100 * n[o[i]] / t
      printf "%-10s %10.2f\n", "total", 1e3 * t / f / s
    }'
echo
echo "cnndyn's largest functions (share of the training's samples):"
perf report -i "$work/perf.data" --time "$window" --no-children --dsos bench_train --sort sym -F overhead,sym --stdio \
  2> /dev/null | awk '!/^#/ && NF >= 3 { print "  " $0 }' | sort -rn | head -10

# oneDNN's own timing per primitive, from a run of its own (the verbose mode costs time per call);
# without the timestamp a user's ONEDNN_VERBOSE_TIMESTAMP would put before each line's fields
if ! env -u ONEDNN_VERBOSE_TIMESTAMP -u DNNL_VERBOSE_TIMESTAMP CDN_BENCH_PRIMITIVES=1 "$bench" "$1" "$2" "$3" "$4" 1 "$5" > "$work/prims" 2> "$work/err"; then
  cat "$work/err" >&2
  echo "$0: the run timing oneDNN's primitives failed (messages above)" >&2
  exit 1
fi
# the widest vectors oneDNN may use under ONEDNN_MAX_CPU_ISA: AVX2 kernels against AVX-512's peak
# would look half as good as they are
read_peak "$root/build/bench/train/bench_peak"
echo
# oneDNN times by the wall and bench_peak by CPU time: a run that lost the core to other processes
# shows rates that much low (on this 2-core machine, shared, 18-34% in one run, 56-108% in the next)
sliced=$(awk -v w="$(field images_per_s "$work/prims")" -v c="$(field cpu_images_per_s "$work/prims")" \
  'BEGIN { if (w > 0 && c > 0 && w < 0.9 * c) printf "%.0f", 100 * w / c }')
[ -z "$sliced" ] || echo "(this run had the core $sliced% of its wall time: the rates and shares of the peak" \
  "below are that much too low; run it on a quiet machine)"
# the same run's step by the wall, which oneDNN's own times fall within (perf's ms above are CPU time)
wall_ms=$(awk -v n="$5" -v s="$steps" -v w="$(field images_per_s "$work/prims")" \
  'BEGIN { if (w > 0) printf "%.2f", 1e3 * (n > 0 ? n : 60000) / w / s; else print "?" }')
awk -F, -v s="$steps" -v peak="$peak" -v isa="$isa" -v wall_ms="$wall_ms" -v me="$0" '
  # the number after NAME in the shape, 1 when absent (mb64_ic16oc16_ih28oh28kh3sh1dh0ph1_iw28...)
  function dim(name) { return match(shape, name "[0-9]+") ? substr(shape, RSTART + length(name), RLENGTH - length(name)) + 0 : 1 }
  /^onednn_verbose,exec,/ {
    kind = $4; prop = $6; alg = $(NF - 2); shape = $(NF - 1)
    sub(/^alg:/, "", alg); sub(/^convolution_|^pooling_/, "", alg); sub(/_training$|_inference$/, "", prop)
    if (kind == "reorder") { # its layouts, src->dst: a weight reorder and its way back have one shape
      alg = ""; nm = split($7, md, " ")
      for (m = 1; m <= nm; m++) if (split(md[m], part, ":") >= 4) alg = alg (alg == "" ? "" : "->") part[4]
    }
    key = kind (prop == "undef" ? "" : " " prop) (alg == "" ? "" : " " alg) " " shape
    t[key] += $NF; total += $NF # milliseconds
    if (kind == "convolution")
      flop[key] += 2 * dim("mb") * dim("oc") * dim("ic") / dim("g") * dim("kh") * dim("kw") * dim("oh") * dim("ow")
  }
  END {
    if (!total) { print me ": oneDNN timed no primitive in the training" > "/dev/stderr"; exit 1 }
    printf "oneDNN'"'"'s largest primitives by its own timing, in a run of their own (%.2f ms a step in all, of its %s ms by the wall; peak: one core'"'"'s %.0f GFLOP/s with %s):\n", total / s, wall_ms, peak, isa
    printf "  %8s %7s %8s %6s  %s\n", "ms/step", "share", "GFLOP/s", "peak", "primitive"
    for (k in t) order[++n] = k
    for (i = 1; i <= n; i++)
      for (j = i + 1; j <= n; j++)
        if (t[order[j]] > t[order[i]] || (t[order[j]] == t[order[i]] && order[j] < order[i])) { # ties by name, not hash order
          x = order[i]; order[i] = order[j]; order[j] = x
        }
    for (i = 1; i <= n && i <= 12; i++) {
      k = order[i]
      rate = (k in flop) && t[k] > 0 ? flop[k] / t[k] / 1e6 : -1
      printf "  %8.2f %6.1f%% %8s %6s  %s\n", t[k] / s, 100 * t[k] / total, rate < 0 ? "-" : sprintf("%.0f", rate),
        rate < 0 ? "-" : sprintf("%.0f%%", 100 * rate / peak), k
    }
  }' "$work/prims"
