#!/usr/bin/env bash
# The bench tools' own input checks (they are run by hand, so nobody else sees them fail):
# - bench_train, bench_split, bench_graph and bench_peak end bad input with exactly one line
#   "TOOL: error: ..." naming what is wrong and a non-zero status (usage: 2), and leave no output
#   file; bench_peak measures a rate a core can have, by default on the vectors oneDNN may use;
# - bench/train/shares.sh refuses bad arguments before running anything; with perf usable it also
#   fails on a training window without samples or a run that printed none (a checkout whose
#   bench_train is a script), and on a real run its CPU milliseconds per step match BATCH over
#   bench_train's own CPU-time images/s, and oneDNN's own timing of its primitives fits in the step.
#   From oneDNN 2.6 lines (a fake run) it derives grouped and 1x1 strided convolutions' GFLOP/s as
#   worked out by hand, warns when that run lost the core to others, and it and table.sh stop with one message when bench_peak gives no peak.
# Usage: bench_tools.sh SOURCE_DIR BENCH_TRAIN BENCH_SPLIT BENCH_GRAPH BENCH_PEAK
src=$1 train=$2 split=$3 graph=$4 peak=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"
. "$src/scripts/env.sh"

# STATUS PATTERN COMMAND...: the command exits STATUS with one line on stderr holding PATTERN
one_line() {
  local want=$1 pat=$2 got
  shift 2
  "$@" > /dev/null 2> "$work/err"
  got=$?
  check "[ $got -eq $want ]" "$* exited $got, not $want: $(cat "$work/err")"
  check "[ \$(wc -l < '$work/err') -eq 1 ]" "$*: not one line: $(cat "$work/err")"
  check "grep -q -- '$pat' '$work/err'" "$*: no '$pat' in: $(cat "$work/err")"
  check "! grep -q ': :' '$work/err'" "$*: an empty name in: $(cat "$work/err")"
}
printf '[data]\ntrain_size = 99999999\n' > "$work/bad.ini"
one_line 2 "usage" "$train" vgg 1 4
one_line 1 "bench_train: error: architecture" "$train" nosuch 1 4 64 1 100
one_line 1 "bench_train: error: TRAIN_N 70000: train_size" "$train" vgg 1 4 64 1 70000
one_line 1 "bench_train: error: TRAIN_N -5" "$train" vgg 1 4 64 1 -5
one_line 1 "bench_train: error: batch_size" "$train" vgg 1 4 0 1 100
one_line 2 "usage" "$split"
one_line 1 "bench_split: error: $work/none.ini: cannot read" "$split" "$work/none.ini" "$work/x.bin"
one_line 1 "bench_split: error: $work/bad.ini:2: train_size" "$split" "$work/bad.ini" "$work/x.bin"
check "[ ! -e '$work/x.bin' ]" "bench_split left its output file"
one_line 2 "usage" "$graph"
one_line 2 "usage" "$graph" nonsense
one_line 1 "bench_graph: error: $work/none.npy: cannot open" "$graph" fc "$work/none.npy"
# CDN_BENCH_PRIMITIVES confines oneDNN's lines to the training (no 256-image evaluation batch),
# and without it a user's ONEDNN_VERBOSE still shows the evaluation; the result line stays whole
CDN_BENCH_PRIMITIVES=1 "$train" lenet5 1 0 64 1 128 > "$work/v1" 2> /dev/null
check "grep -q '^onednn_verbose,exec,.*mb64_' '$work/v1' && ! grep -q 'mb256' '$work/v1'" \
  "CDN_BENCH_PRIMITIVES: no training lines, or evaluation lines: $(grep -c mb256 "$work/v1")"
check "grep -q '^cnndyn lenet5 images_per_s [0-9]* test_acc ' '$work/v1'" "CDN_BENCH_PRIMITIVES: no result line"
ONEDNN_VERBOSE=1 "$train" lenet5 1 0 64 1 128 > "$work/v2" 2> /dev/null
check "grep -q '^onednn_verbose,exec,.*mb256' '$work/v2'" "ONEDNN_VERBOSE=1: the evaluation's lines were silenced"
one_line 2 "usage" "$peak" avx1024
one_line 2 "usage" "$peak" sse sse
"$peak" sse > /dev/full 2> "$work/err" # a figure that cannot be written is an error
check "[ $? -eq 1 ] && [ \$(wc -l < '$work/err') -eq 1 ] && grep -q 'bench_peak: error: cannot write' '$work/err'" \
  "bench_peak > /dev/full: $(cat "$work/err")"
rate=$("$peak" sse | awk '$1 == "fp32_peak_gflop_s" && $3 == "isa" && $4 == "sse" { print $2 }')
check "awk -v r='$rate' 'BEGIN { exit !(r >= 1 && r <= 10000) }'" "bench_peak sse: '$rate' GFLOP/s"
# its default follows oneDNN's cap: AVX2 kernels measured against AVX-512's peak look half as good
isa=$(ONEDNN_MAX_CPU_ISA=AVX2 "$peak" | awk '{ print $4 }')
check "[ '$isa' = avx2 ]" "bench_peak under ONEDNN_MAX_CPU_ISA=AVX2 measured '$isa'"
isa=$(env -u ONEDNN_MAX_CPU_ISA DNNL_MAX_CPU_ISA=sse41 "$peak" | awk '{ print $4 }')
check "[ '$isa' = sse ]" "bench_peak under DNNL_MAX_CPU_ISA=sse41 measured '$isa'"

# shares.sh in a checkout of its own whose bench_train is a script recording its arguments; its
# window (unless FAKE_NO_WINDOW) is one second that ended before the process started
fake=$work/checkout
mkdir -p "$fake/bench/train" "$fake/scripts" "$fake/build/bench/train"
cp "$src/bench/train/shares.sh" "$src/bench/train/table.sh" "$src/bench/train/peak.sh" "$fake/bench/train/"
cp "$src/scripts/env.sh" "$fake/scripts/"
cat > "$fake/build/bench/train/bench_train" <<'EOB'
#!/bin/sh
echo "$*" > "$(dirname "$0")/args"
if [ -n "${CDN_BENCH_PRIMITIVES:-}" ]; then cat "$(dirname "$0")/prims"; exit 0; fi
if [ -n "${FAKE_LIVE:-}" ]; then # a window around a real half second of work, for perf to sample
  now() { /usr/bin/python3 -c 'import time; print("%.6f" % time.clock_gettime(time.CLOCK_MONOTONIC))'; }
  t0=$(now); i=0; while [ $i -lt 100000 ]; do i=$((i + 1)); done
  echo "cnndyn training from $t0 to $(now) s (CLOCK_MONOTONIC)" >&2
elif [ -z "${FAKE_NO_WINDOW:-}" ]; then
  echo "cnndyn training from 1.000000 to 2.000000 s (CLOCK_MONOTONIC)" >&2
fi
echo "cnndyn $1 images_per_s 100 test_acc 0.1 mflop_per_image 1 gflop_s 1 cpu_images_per_s 100"
EOB
printf '#!/bin/sh\necho "fp32_peak_gflop_s 100.0 isa fake"\n' > "$fake/build/bench/train/bench_peak"
chmod +x "$fake/build/bench/train/bench_train" "$fake/build/bench/train/bench_peak"
shares() { # STATUS PATTERN ARGS...: shares.sh ARGS exits STATUS with PATTERN on stderr
  local want=$1 pat=$2 got
  shift 2
  rm -f "$fake/build/bench/train/args"
  (cd "$fake" && "$fake/bench/train/shares.sh" "$@") > "$work/out" 2> "$work/err" # in $fake a glob would match
  got=$?
  check "[ $got -eq $want ]" "shares.sh $* exited $got, not $want: $(cat "$work/err")"
  check "grep -q -- '$pat' '$work/err'" "shares.sh $*: no '$pat' in: $(cat "$work/err")"
  [ "$want" -ne 2 ] || check "[ ! -e '$fake/build/bench/train/args' ]" "shares.sh $*: ran bench_train"
}
shares 2 usage vgg
shares 2 usage vgg 1 4 64 6000 7
shares 2 usage ""
shares 2 usage "lenet5 1 0 64 640"
shares 2 TRAIN_N lenet5 1 0 64 abc
shares 2 TRAIN_N lenet5 1 0 64 -5
shares 2 BATCH lenet5 1 0 0 640
shares 2 BATCH lenet5 1 0 x 640
shares 2 WIDTH lenet5 one 0 64 640

if ! perf record -q -o "$work/probe.data" -- true > /dev/null 2>&1; then
  echo "perf is missing or may not sample here: shares.sh's runs not checked (install linux-perf)"
  [ $fail -eq 0 ]
  exit
fi
shares 1 "no perf samples" '*' 1 0 64 640 # reaches bench_train as it is, not globbed
check "[ \"\$(cat '$fake/build/bench/train/args')\" = '* 1 0 64 1 640' ]" "ARCH '*' reached bench_train as: $(cat "$fake/build/bench/train/args")"
shares 1 "no perf samples in the training window" lenet5 1 0 64 640
FAKE_NO_WINDOW=1 shares 1 "printed no training window" lenet5 1 0 64 640
# oneDNN's part from lines as oneDNN 2.6 prints them: a grouped convolution (g2mb8_..., 2 ms:
# 2*8*32*(32/2)*3*3*14*14 = 14.45 MFLOP, so 7 GFLOP/s, 7% of the fake's 100), a 1x1 strided one
# (2*8*32*16*1*1*14*14 = 1.606 MFLOP in 0.1 ms: 16 GFLOP/s) and two reorders without a rate (a weight layout and back)
v='onednn_verbose,exec,cpu,convolution,jit:avx2,'
{ echo 'onednn_verbose,info,oneDNN v2.6.3 (commit N/A)'
  echo "${v}forward_training,src_f32::blocked:aBcd8b:f0 wei_f32::blocked:aBCde8c8b:f0,attr-scratchpad:user ,alg:convolution_direct,g2mb8_ic32oc32_ih14oh14kh3sh1dh0ph1_iw14ow14kw3sw1dw0pw1,2"
  echo "${v}backward_weights,src_f32::blocked:aBcd8b:f0,,alg:convolution_direct,mb8_ic16oc32_ih28oh14kh1sh2dh0ph0_iw28ow14kw1sw2dw0pw0,0.1"
  echo 'onednn_verbose,exec,cpu,reorder,jit:uni,undef,src_f32::blocked:abcd:f0 dst_f32::blocked:Acdb16a:f0,attr-scratchpad:user ,,16x6x5x5,0.05'
  echo 'onednn_verbose,exec,cpu,reorder,jit:uni,undef,src_f32::blocked:Acdb16a:f0 dst_f32::blocked:abcd:f0,,,16x6x5x5,0.05' # a tie: named in order
  echo "cnndyn lenet5 images_per_s 100 test_acc 0.1 mflop_per_image 1 gflop_s 1 cpu_images_per_s 100"
} > "$fake/build/bench/train/prims"
(cd "$fake" && FAKE_LIVE=1 bench/train/shares.sh lenet5 1 0 64 640) > "$work/out" 2> "$work/err"
check "[ $? -eq 0 ]" "shares.sh on the fake's lines failed: $(cat "$work/err")"
check "grep -q '^ *0.20 *90.9% *7 *7%  convolution forward direct g2mb8_ic32oc32_ih14oh14' '$work/out'" "grouped convolution: $(cat "$work/out")"
check "grep -q '^ *0.01 *4.5% *16 *16%  convolution backward_weights direct mb8_ic16oc32_ih28oh14kh1sh2' '$work/out'" "1x1 strided convolution"
# the weights' reorder and its way back: one line each, tied, listed by name
check "[ \"\$(awk '\$5 == \"reorder\" { print \$6, \$7 }' '$work/out' | tr '\\n' ' ')\" = 'Acdb16a->abcd 16x6x5x5 abcd->Acdb16a 16x6x5x5 ' ]" \
  "reorders not apart, or a tie not in name order: $(cat "$work/out")"
check "! grep -q 'of its wall time' '$work/out'" "a warning of time lost to other processes in a run that lost none"
# a primitives run that had the core a quarter of its wall time says so (oneDNN times by the wall)
sed -i 's/images_per_s 100 /images_per_s 25 /' "$fake/build/bench/train/prims"
(cd "$fake" && FAKE_LIVE=1 bench/train/shares.sh lenet5 1 0 64 640) > "$work/out" 2> "$work/err"
check "grep -q 'this run had the core 25% of its wall time' '$work/out'" "no warning of a time-sliced run: $(cat "$work/out")"
# a bench_peak that fails or prints no figure: one message, not a share of 'inf%' and status 0
for body in 'exit 1' 'echo garbage' 'echo fp32_peak_gflop_s 0.0 isa fake'; do
  printf '#!/bin/sh\n%s\n' "$body" > "$fake/build/bench/train/bench_peak"
  (cd "$fake" && FAKE_LIVE=1 bench/train/shares.sh lenet5 1 0 64 640) > "$work/out" 2> "$work/err"
  check "[ $? -eq 1 ] && grep -q 'bench_peak measured no peak' '$work/err'" "bench_peak '$body': $(cat "$work/err" "$work/out")"
  "$fake/bench/train/table.sh" > "$work/out" 2> "$work/err" # before any training
  check "[ $? -eq 1 ] && grep -q 'bench_peak measured no peak' '$work/err'" "table.sh, bench_peak '$body': $(cat "$work/err" "$work/out")"
done

# a real run, when this checkout's build/ holds bench_train: perf's CPU time per step against
# bench_train's CPU-time figure (same process and window; sampling error about 1/sqrt(1000))
if [ -x "$src/build/bench/train/bench_train" ]; then
  # a user's ONEDNN_VERBOSE_TIMESTAMP (a field before each line's own) changes nothing
  out=$(ONEDNN_VERBOSE_TIMESTAMP=1 "$src/bench/train/shares.sh" lenet5 1 0 64 12800)
  check "[ $? -eq 0 ]" "shares.sh lenet5 1 0 64 12800 failed"
  cpu=$(echo "$out" | sed -n 's/.*(\([0-9]*\) by CPU time).*/\1/p')
  total=$(echo "$out" | awk '$1 == "total" { print $2 }')
  echo "$out"
  check "awk -v c='$cpu' -v t='$total' 'BEGIN { r = t / (1e3 * 64 / c); exit !(r > 0.9 && r < 1.1) }'" \
    "$total ms/step by perf against 64 / $cpu CPU images/s"
  # oneDNN's own timing of its primitives: inside the step, and LeNet's second convolution's rate
  # a plausible one (a core does 10-1000 GFLOP/s)
  # (against that run's own wall-time step: perf's total is CPU time, which a shared machine makes
  # smaller than oneDNN's wall-clock sum)
  prims=$(echo "$out" | sed -n "s/^oneDNN's largest primitives by its own timing, in a run of their own (\([0-9.]*\) ms a step.*/\1/p")
  wall=$(echo "$out" | sed -n "s/^oneDNN's largest primitives.* ms a step in all, of its \([0-9.]*\) ms by the wall.*/\1/p")
  rate=$(echo "$out" | awk '$5 == "convolution" && $6 == "forward" { print $3; exit }')
  check "awk -v p='$prims' -v t='$wall' 'BEGIN { exit !(p > 0 && p < t) }'" "oneDNN's $prims ms/step outside 0 .. $wall"
  check "awk -v r='$rate' 'BEGIN { exit !(r >= 10 && r <= 1000) }'" "conv2 forward at '$rate' GFLOP/s"
fi
[ $fail -eq 0 ]
