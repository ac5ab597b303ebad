#!/usr/bin/env bash
# [output] snapshot_format = npz: the same tiny job run with npy folders and with one .npz per
# model gives the same tensors, bit for bit, member by member (read by Debian's numpy.load), the
# same features.csv, and `cnndyn graph` / `cnndyn stats` read an epoch inside the .npz as they read
# its folder, and `cnndyn stats RUN` recomputes features.csv from the archives. A resumed run (killed after its first epoch) ends with the same archive as an
# uninterrupted one, and a truncated or damaged .npz is refused with one line naming it.
cnndyn=$1
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"
job() { # FORMAT
  cat <<INI
[population]
seed = 4
learning_rate = 0.01, 0.1
[data]
train_size = 200
validation_size = 50
test_size = 50
[training]
epochs = 2
[features]
budget = 1
[prediction]
folds = 2
[output]
snapshots = true
snapshot_format = $1
INI
}
job npy > "$work/npy.ini"
job npz > "$work/npz.ini"
for f in npy npz; do
  "$cnndyn" run "$work/$f.ini" --out "$work/$f" --quiet --progress off > "$work/out" 2>&1
  check "[ $? -eq 0 ]" "$f run failed: $(cat "$work/out")"
done
check "cmp -s '$work/npy/features.csv' '$work/npz/features.csv'" "features.csv differs between npy and npz runs"
check "[ -f '$work/npz/snapshots/model-000000.npz' ] && [ ! -e '$work/npz/snapshots/model-000000' ]" "npz run: no model-000000.npz, or a folder beside it"
# Every member equals the npy folder's file of the same path, and nothing is missing either way.
$py - "$work/npy/snapshots" "$work/npz/snapshots" > "$work/cmp" 2>&1 <<'PY'
import glob, os, sys
import numpy as np
npy, npz = sys.argv[1:]
bad = 0
for z in sorted(glob.glob(npz + "/model-*.npz")):
    model = os.path.basename(z)[:-4]
    files = {os.path.relpath(p, os.path.join(npy, model))
             for p in glob.glob(os.path.join(npy, model, "epoch-*", "*")) if not p.endswith("checksums.txt")}
    with np.load(z) as a:
        members = set(a.files)
        for f in files:
            key = f[:-4] if f.endswith(".npy") else f
            if key not in members:
                print("missing", model, f); bad += 1; continue
            if f.endswith(".npy"):
                x, y = np.load(os.path.join(npy, model, f)), a[key]
                if x.dtype != y.dtype or x.shape != y.shape or x.tobytes() != y.tobytes():
                    print("differs", model, f); bad += 1
            elif open(os.path.join(npy, model, f), "rb").read() != bytes(a[key]):
                print("differs", model, f); bad += 1
        extra = members - {f[:-4] if f.endswith(".npy") else f for f in files}
        if extra: print("extra", model, sorted(extra)); bad += 1
print("checked", len(glob.glob(npz + "/model-*.npz")), "models")
sys.exit(1 if bad else 0)
PY
check "[ $? -eq 0 ]" "npz members differ from the npy files: $(cat "$work/cmp")"
# The graph tools on an epoch inside the archive.
"$cnndyn" graph "$work/npy/snapshots/model-000001/epoch-002" --export "$work/a.mtx" > /dev/null 2>&1
"$cnndyn" graph "$work/npz/snapshots/model-000001.npz/epoch-002" --export "$work/b.mtx" > "$work/out" 2>&1
check "[ $? -eq 0 ] && cmp -s '$work/a.mtx' '$work/b.mtx'" "graph export from the npz differs: $(cat "$work/out")"
"$cnndyn" stats "$work/npz/snapshots/model-000000.npz/epoch-001" --out "$work/b.csv" > "$work/out" 2>&1
"$cnndyn" stats "$work/npy/snapshots/model-000000/epoch-001" --out "$work/a.csv" > /dev/null 2>&1
check "[ $? -eq 0 ] && cmp -s '$work/a.csv' '$work/b.csv'" "node statistics from the npz differ: $(cat "$work/out")"
"$cnndyn" stats "$work/npz" --out "$work/f.csv" > "$work/out" 2>&1
check "[ $? -eq 0 ] && cmp -s '$work/npz/features.csv' '$work/f.csv'" "stats over the npz run differs from features.csv: $(cat "$work/out")"
# Resume: a run stopped at its first epoch end (test hook), then resumed, writes the same
# archives; so does one that lost model 0's checkpoint after its epoch-0 snapshot was written (that
# epoch is written again, replacing the member).
PETSC_OPTIONS='-cnndyn_test_fail_rank 0' "$cnndyn" run "$work/npz.ini" --out "$work/res" --quiet --progress off > "$work/out" 2>&1
check "[ -f '$work/res/snapshots/model-000000.npz' ]" "stopped run left no archive: $(cat "$work/out")"
cp -r "$work/res" "$work/res2" && rm -f "$work/res2/checkpoints/model-000000.ckpt"
for r in res res2; do
  "$cnndyn" run --resume "$work/$r" --quiet --progress off > "$work/out" 2>&1
  check "[ $? -eq 0 ]" "resumed npz run ($r) failed: $(cat "$work/out")"
  for m in 000000 000001; do
    check "cmp -s '$work/npz/snapshots/model-$m.npz' '$work/$r/snapshots/model-$m.npz'" "resumed run's ($r) model-$m.npz differs"
  done
done
# Damage: cut short, and one byte of a member flipped; both refused naming the file.
z=$work/npz/snapshots/model-000000.npz
head -c $(($(stat -c %s "$z") - 30)) "$z" > "$work/cut.npz"
mkdir -p "$work/cut" && mv "$work/cut.npz" "$work/cut/model-000000.npz"
"$cnndyn" graph "$work/cut/model-000000.npz/epoch-001" --export "$work/c.mtx" > "$work/out" 2>&1
check "[ $? -ne 0 ] && grep -q 'model-000000.npz: not a .npz or truncated' '$work/out'" "truncated npz not refused clearly: $(cat "$work/out")"
check "[ ! -e '$work/c.mtx' ]" "a refused npz left an output"
cp "$z" "$work/cut/model-000000.npz"
$py - "$work/cut/model-000000.npz" <<'PY'
import sys, zipfile
p = sys.argv[1]
with zipfile.ZipFile(p) as z:
    info = z.getinfo("epoch-001/conv1.weight.npy")
data = bytearray(open(p, "rb").read())
at = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
data[at] ^= 0xFF
open(p, "wb").write(data)
PY
"$cnndyn" graph "$work/cut/model-000000.npz/epoch-001" --export "$work/c.mtx" > "$work/out" 2>&1
check "[ $? -ne 0 ] && grep -q 'epoch-001/conv1.weight.npy: damaged' '$work/out'" "damaged npz member not refused clearly: $(cat "$work/out")"
[ $fail -eq 0 ]
