#!/usr/bin/env bash
# Does a cnndyn population behave like PyTorch's? Trains one LeNet-5 grid (learning rates
# log-spaced LR_MIN..LR_MAX x dropout rates x seeds; SGD with momentum, constant rate) three times:
# cnndyn with its defaults, cnndyn with PyTorch's conventions (init = pytorch, dropout_placement =
# torchvision), and PyTorch 1.13 (Debian python3-torch, its default initialisation, torchvision's
# dropout placement) on the same training and test images (bench_split). Prints every
# configuration's final test accuracy (mean over seeds) side by side, then for each cnndyn run the
# Spearman correlation and mean absolute difference against PyTorch with bootstrap intervals.
# Defaults are issue 16's grid: 16 rates 1e-4..0.5 x dropout 0,0.2,0.4,0.6,0.8 x 2 seeds, 12k/5k
# train/validation images, all 10k test images, 15 epochs, batch 128, momentum 0.9.
# Usage: bench/torch/compare.sh [--out DIR] [--lrs N] [--lr-min X] [--lr-max X] [--dropouts LIST]
#          [--seeds N] [--train N] [--val N] [--test N] [--epochs N] [--batch N] [--momentum X]
#          [--ranks N] [--jobs N]      (--jobs: PyTorch processes of one thread each)
# Needs a build (scripts/build.sh) and scripts/install-deps.sh --bench. Run it with nice on a shared machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/scripts/env.sh"
out=out/torch_compare lrs=16 lrmin=0.0001 lrmax=0.5 dropouts=0,0.2,0.4,0.6,0.8 seeds=2
train=12000 val=5000 test=0 epochs=15 batch=128 momentum=0.9 ranks=2 jobs=2
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2 ;; --lrs) lrs=$2 ;; --lr-min) lrmin=$2 ;; --lr-max) lrmax=$2 ;; --dropouts) dropouts=$2 ;;
    --seeds) seeds=$2 ;; --train) train=$2 ;; --val) val=$2 ;; --test) test=$2 ;; --epochs) epochs=$2 ;;
    --batch) batch=$2 ;; --momentum) momentum=$2 ;; --ranks) ranks=$2 ;; --jobs) jobs=$2 ;;
    *) echo "$0: unknown argument $1 (see the usage at the top of this script)" >&2; exit 2 ;;
  esac
  shift 2
done
cnndyn=$root/build/cnndyn split=$root/build/bench/torch/bench_split
[ -x "$cnndyn" ] && [ -x "$split" ] || { echo "$0: build first (scripts/build.sh)" >&2; exit 1; }
mkdir -p "$out"
rates=$(awk -v n="$lrs" -v a="$lrmin" -v b="$lrmax" 'BEGIN { for (i = 0; i < n; i++)
  printf "%s%.3g", (i ? ", " : ""), (n > 1 ? a * exp(log(b / a) * i / (n - 1)) : a) }')
budget=$(( epochs < 3 ? epochs : 3 ))
for conv in cnndyn pytorch; do
  { printf '# written by bench/torch/compare.sh\n[population]\nseed = 16\nlearning_rate = %s\n' "$rates"
    printf 'dropout = %s\nmomentum = %s\nbatch_size = %s\nreplicates = %s\n' "${dropouts//,/, }" "$momentum" "$batch" "$seeds"
    printf '[data]\ntrain_size = %s\nvalidation_size = %s\ntest_size = %s\n' "$train" "$val" "$test"
    printf '[training]\nepochs = %s\n' "$epochs"
    [ $conv = pytorch ] && printf 'init = pytorch\ndropout_placement = torchvision\n'
    # the prediction stage is not what is compared: its cheapest form
    printf '[graph]\nstatistics = degree\n[features]\nbudget = %s\n' "$budget"
    printf '[prediction]\nmethods = val_acc\nlearners = score\nrepeats = 1\n'; } > "$out/$conv.ini"
  echo "cnndyn ($conv conventions): $out/$conv" >&2
  start=$(date +%s)
  mpirun -n "$ranks" "$cnndyn" run "$out/$conv.ini" --out "$out/$conv" --force --quiet --progress off >&2
  echo "  $(( $(date +%s) - start )) s" >&2
done
"$split" "$out/pytorch.ini" "$out/split.bin"
echo "PyTorch: $jobs processes over $(( $(wc -l < "$out/pytorch/models.csv") - 1 )) models" >&2
start=$(date +%s)
pids=()
for i in $(seq 0 $(( jobs - 1 ))); do
  /usr/bin/python3 "$here/torch_grid.py" "$out/pytorch/models.csv" "$out/split.bin" "$epochs" --part "$i/$jobs" > "$out/torch.$i.csv" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done # set -e: a failed part stops the script
echo "  $(( $(date +%s) - start )) s" >&2
{ echo "model,config,replicate,learning_rate,dropout,status,final_test_accuracy,label"
  cat "$out"/torch.[0-9]*.csv | sort -t, -k1,1n; } > "$out/torch.csv"
rm -f "$out"/torch.[0-9]*.csv
/usr/bin/python3 "$here/compare.py" "$out/torch.csv" "cnndyn_defaults=$out/cnndyn/models.csv" \
  "pytorch_conventions=$out/pytorch/models.csv" | tee "$out/compare.txt"
