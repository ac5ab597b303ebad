#!/usr/bin/env bash
# The benchmark table of issue 4 in one command: LeNet-5 (batch 64, 3 epochs, all 60k images),
# small VGG and ResNet-8 width 16 (1 epoch on 6,000 images), each beside PyTorch in the same run
# (run.sh), with images/s, ratio, test accuracy and the fraction of one core's FP32 peak
# (measured by bench_peak at the start of the run) from the analytic FLOPs per image that bench_train prints. Those are
# direct convolution's FLOPs: a network whose convolutions run as Winograd can pass 100%.
# ratio is over wall time, cpu_ratio over each process's CPU time (steadier on a shared machine).
# Usage: bench/train/table.sh [REPEATS]   (default 1; the machine may be shared: repeat)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# with the widest vectors ONEDNN_MAX_CPU_ISA leaves oneDNN (bench_peak reads it)
. "$here/peak.sh"
read_peak "$here/../../build/bench/train/bench_peak"
echo "one core's FP32 peak: $peak GFLOP/s with $isa (bench_peak)"
printf "%-26s %10s %10s %6s %9s %8s %8s %9s %7s\n" network cnndyn_ips torch_ips ratio cpu_ratio acc_ours acc_torch MFLOP/img %peak
for r in $(seq "${1:-1}"); do
  for cfg in "lenet5 1 0 64 3 0" "vgg 1 4 64 1 6000" "resnet 1 8 64 1 6000"; do
    out=$("$here/run.sh" $cfg)
    ours=$(echo "$out" | grep '^cnndyn'); theirs=$(echo "$out" | grep '^torch')
    set -- $cfg
    echo "$ours $theirs" | awk -v name="$1 w$2 d$3 b$4" -v peak=$peak '{
      printf "%-26s %10d %10d %6.2f %9.2f %8.4f %8.4f %9.2f %6.1f%%\n", name, $4, $16, $4/$16, $12/$20, $6, $18, $8, 100*$10/peak }'
  done
done
