#!/usr/bin/env bash
# Damaged files and a full disk. Usage: faults.sh CASE CNNDYN PROJECT_DIR
#   checkpoint  a flipped byte in a checkpoint or a finished record: the model trains again from
#               scratch with one warning and the CSVs equal an uninterrupted run's; a snapshot
#               left by a run killed before its epoch's checkpoint is written again
#   snapshot    a flipped byte in a snapshot: graph and stats stop with one line naming the file
#   dataset     a data file changed or truncated between a run and its resume: one line naming it
#   diskfull    the output file system fills up mid-run (a small tmpfs): one message, nothing torn,
#               and once there is room the resumed run's CSVs equal an uninterrupted run's
set -uo pipefail
case_=$1 cnndyn=$2 top=$3
work=$(mktemp -d)
mnt=""
trap '[ -n "$mnt" ] && umount "$mnt"; rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"
csvs="models.csv curves.csv features.csv predictions.csv report.csv"
same() { # dirA dirB what
  for f in $csvs; do check "cmp -s '$1/$f' '$2/$f'" "$f differs: $3"; done
}
# Flips the bits of mask in byte offset of file (negative: from the end).
flip() { # file offset mask
  /usr/bin/python3 - "$@" <<'PY'
import sys
path, off, mask = sys.argv[1], int(sys.argv[2]), int(sys.argv[3], 0)
b = bytearray(open(path, "rb").read())
b[off] ^= mask
open(path, "wb").write(b)
PY
}
# Exactly one "cnndyn: error:" line, containing $2, and no traceback.
one_error() { # output-file text
  [ "$(grep -c 'cnndyn: error:' "$1")" -eq 1 ] && grep -q -- "$2" "$1" && ! grep -q 'PETSC ERROR' "$1"
}

# Four models, two epochs, a snapshot per epoch: seconds on one core.
cat > "$work/job.ini" <<'INI'
[population]
seed = 11
learning_rate = 0.01, 0.05
replicates = 2
[data]
train_size = 400
validation_size = 200
test_size = 200
[training]
epochs = 2
[features]
budget = 1
[prediction]
folds = 2
[output]
snapshots = true
INI
run() { # out-file args...: the job's run, quiet, no progress publisher
  local out=$1; shift
  "$@" --quiet --progress off > "$out" 2>&1
}
reference() {
  run "$work/ref.out" "$cnndyn" run "$work/job.ini" --out "$work/ref" || { cat "$work/ref.out"; exit 1; }
}

case $case_ in
checkpoint)
  reference
  # The run stops at its first epoch end (test hook), leaving model 0's checkpoint of epoch 0.
  PETSC_OPTIONS='-cnndyn_test_fail_rank 0' run "$work/k.out" "$cnndyn" run "$work/job.ini" --out "$work/k"
  check "[ -f '$work/k/checkpoints/model-000000.ckpt' ]" "no checkpoint to damage: $(cat "$work/k.out")"
  cp -r "$work/k" "$work/w"
  # one byte in the middle of the network state: a weight or optimiser value, not the header
  size=$(stat -c %s "$work/k/checkpoints/model-000000.ckpt")
  flip "$work/k/checkpoints/model-000000.ckpt" $((size / 2)) 0x40
  run "$work/k2.out" mpi 2 "$cnndyn" run --resume "$work/k"
  check "[ $? -eq 0 ]" "resume over a damaged checkpoint failed: $(cat "$work/k2.out")"
  check "[ \$(grep -c 'warning: .*model-000000.ckpt: damaged (checksum mismatch); model 0 is trained again from scratch' '$work/k2.out') -eq 1 ]" \
    "damaged checkpoint: no single warning: $(cat "$work/k2.out")"
  check "grep -q 'model-000000.ckpt: damaged' '$work'/k/logs/rank-*.log" "damaged checkpoint: not in the rank log"
  same "$work/ref" "$work/k" "damaged checkpoint, resumed"
  check "diff -r '$work/ref/snapshots' '$work/k/snapshots' > /dev/null" "damaged checkpoint: snapshots differ from the reference"

  # A run killed after model 0's epoch-0 snapshot but before its checkpoint: the snapshot is
  # dropped and written again (before: "snapshot already exists").
  rm "$work/w/checkpoints/model-000000.ckpt"
  check "[ -d '$work/w/snapshots/model-000000/epoch-000' ]" "no snapshot of epoch 0 to find again"
  run "$work/w2.out" "$cnndyn" run --resume "$work/w"
  check "[ $? -eq 0 ]" "resume over a snapshot without checkpoint failed: $(cat "$work/w2.out")"
  same "$work/ref" "$work/w" "snapshot without checkpoint, resumed"

  # A finished record damaged after every model finished, before the reports: that model alone
  # trains again (its snapshots too), the others come from their records.
  cp -r "$work/ref" "$work/d"
  rm "$work/d/checkpoints/complete" "$work"/d/*.csv
  flip "$work/d/checkpoints/model-000001.done" 30 0x01
  run "$work/d2.out" mpi 2 "$cnndyn" run --resume "$work/d"
  check "[ $? -eq 0 ]" "resume over a damaged record failed: $(cat "$work/d2.out")"
  check "[ \$(grep -c 'warning: .*model-000001.done: damaged (checksum mismatch); model 1 is trained again' '$work/d2.out') -eq 1 ]" \
    "damaged record: no single warning: $(cat "$work/d2.out")"
  check "[ \$(cat '$work'/d/logs/rank-*.log | grep -c 'model [0-9] epoch 2:') -eq 5 ]" "damaged record: not exactly model 1 trained again"
  same "$work/ref" "$work/d" "damaged record, resumed"
  check "diff -r '$work/ref/snapshots' '$work/d/snapshots' > /dev/null" "damaged record: snapshots differ from the reference"
  ;;
snapshot)
  reference
  snap="$work/ref/snapshots/model-000002/epoch-002"
  check "/usr/bin/python3 -c 'import numpy, sys; a = numpy.load(sys.argv[1]); assert a.shape == (84, 120)' '$snap/fc2.weight.npy'" \
    "numpy does not load a snapshot tensor"
  "$cnndyn" graph "$snap" --export "$work/g.mtx" > "$work/g.out" 2>&1
  check "[ $? -eq 0 ]" "graph of a sound snapshot: $(cat "$work/g.out")"
  # the last byte of a weight: a valid float either way, which only the checksum can tell
  flip "$snap/fc2.weight.npy" -1 0x40
  for cmd in "graph $snap --export $work/g2.mtx" "stats $snap" "stats $work/ref"; do
    mpi 2 "$cnndyn" $cmd > "$work/s.out" 2>&1
    code=$?
    check "[ $code -eq 1 ] && one_error '$work/s.out' 'model-000002/epoch-002/fc2.weight.npy: damaged: its CRC-32 differs from'" \
      "$cmd over a damaged snapshot: exit $code: $(cat "$work/s.out")"
  done
  check "[ ! -e '$work/g2.mtx' ]" "graph wrote an export of a damaged snapshot"
  ;;
dataset)
  # The Fashion-MNIST files, the training labels raw (a changed label is still a valid file)
  mkdir "$work/data"
  cp /usr/share/datasets/fashion-mnist/*.gz "$work/data/"
  gunzip "$work/data/train-labels-idx1-ubyte.gz"
  sed "s#^\[data\]#[data]\ndataset = idx\npath = $work/data#" "$work/job.ini" > "$work/jobd.ini"
  run "$work/ref.out" "$cnndyn" run "$work/jobd.ini" --out "$work/ref" || { cat "$work/ref.out"; exit 1; }
  PETSC_OPTIONS='-cnndyn_test_fail_rank 0' run "$work/k.out" "$cnndyn" run "$work/jobd.ini" --out "$work/k"
  check "[ -f '$work/k/checkpoints/data-checksums.txt' ]" "no data record: $(cat "$work/k.out")"
  labels="$work/data/train-labels-idx1-ubyte"
  cp "$labels" "$work/labels.bak"
  flip "$labels" 5000 0x01
  run "$work/c.out" mpi 2 "$cnndyn" run --resume "$work/k"
  code=$?
  check "[ $code -eq 1 ] && one_error '$work/c.out' 'train-labels-idx1-ubyte: changed since the run started'" \
    "changed labels: exit $code: $(cat "$work/c.out")"
  cp "$work/labels.bak" "$labels"
  cp "$work/data/t10k-images-idx3-ubyte.gz" "$work/images.bak"
  truncate -s 100000 "$work/data/t10k-images-idx3-ubyte.gz"
  run "$work/t.out" "$cnndyn" run --resume "$work/k"
  code=$?
  check "[ $code -eq 1 ] && one_error '$work/t.out' 't10k-images-idx3-ubyte.gz: changed since the run started'" \
    "truncated images: exit $code: $(cat "$work/t.out")"
  check "[ ! -e '$work/k/models.csv' ]" "a refused resume wrote reports"
  cp "$work/images.bak" "$work/data/t10k-images-idx3-ubyte.gz"
  run "$work/r.out" mpi 2 "$cnndyn" run --resume "$work/k"
  check "[ $? -eq 0 ]" "resume with the data restored: $(cat "$work/r.out")"
  same "$work/ref" "$work/k" "data restored, resumed"
  ;;
diskfull)
  reference
  # A tmpfs of half what the run writes: it fills up mid-run.
  need=$(du -sb "$work/ref" | cut -f1)
  mkdir "$work/full"
  if ! mount -t tmpfs -o size=$((need / 2)) tmpfs "$work/full" 2> "$work/mount.out"; then
    echo "SKIP: cannot mount a tmpfs to fill up ($(cat "$work/mount.out")); needs root with CAP_SYS_ADMIN"
    exit 77
  fi
  mnt="$work/full"
  run "$work/f.out" mpi 2 "$cnndyn" run "$work/job.ini" --out "$mnt/r"
  code=$?
  check "[ $code -eq 1 ] && one_error '$work/f.out' 'No space left on device'" "full disk: exit $code: $(cat "$work/f.out")"
  check "[ ! -e '$mnt/r/models.csv' ] && [ -z \"\$(find '$mnt/r' -name '*.tmp.*')\" ]" "full disk: reports or temporary files left"
  check "[ -n \"\$(find '$mnt/r/checkpoints' -name 'model-*')\" ]" "full disk: the run checkpointed nothing before it stopped"
  mount -o remount,size=$((need * 2)) "$mnt"
  run "$work/r.out" mpi 2 "$cnndyn" run --resume "$mnt/r"
  check "[ $? -eq 0 ] && ! grep -q 'warning' '$work/r.out'" "resume once there is room: $(cat "$work/r.out")"
  same "$work/ref" "$mnt/r" "full disk, resumed"
  check "diff -r '$work/ref/snapshots' '$mnt/r/snapshots' > /dev/null" "full disk: snapshots differ from the reference"
  ;;
*) echo "unknown case $case_"; exit 2 ;;
esac
echo "$case_: $fail failure(s)"
[ $fail -eq 0 ]
