#!/usr/bin/env bash
# Trains the same network with cnndyn and with PyTorch 1.13 (Debian python3-torch, 1 thread) on
# Fashion-MNIST in one run and prints images/s of both, the ratio and test accuracy. The ratio is
# given twice: over wall time and over each process's CPU time (steadier when the machine is shared).
# Needs `scripts/install-deps.sh --bench` and a build (scripts/build.sh or cmake in build/).
# Usage: bench/train/run.sh [ARCH WIDTH DEPTH BATCH EPOCHS TRAIN_N [SEED]]   (default: lenet5 1 0 64 3 0;
#   SEED seeds both sides' weights and data order, each with its own generator)
#   small VGG: bench/train/run.sh vgg 1 4 64 1 6000;  ResNet-8 width 16: bench/train/run.sh resnet 1 8 64 1 6000
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/scripts/env.sh"
args=("${@:-lenet5 1 0 64 3 0}")
set -- ${args[*]}
bench=$root/build/bench/train/bench_train
[ -x "$bench" ] || { echo "$0: $bench is missing: build first (scripts/build.sh)" >&2; exit 1; }
ours=$("$bench" "$@" | tail -1)
theirs=$(/usr/bin/python3 "$here/torch_train.py" "$@" | tail -1)
echo "$ours"
echo "$theirs"
a=$(echo "$ours" | awk '{print $4}'); b=$(echo "$theirs" | awk '{print $4}')
ac=$(echo "$ours" | awk '{print $12}'); bc=$(echo "$theirs" | awk '{print $8}')
echo "ratio cnndyn/torch images/s: $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", a/b}') wall, $(awk -v a="$ac" -v b="$bc" 'BEGIN{printf "%.2f", a/b}') cpu  ($1 width $2 depth $3 batch $4, $5 epochs)"
