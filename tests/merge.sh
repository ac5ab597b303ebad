#!/usr/bin/env bash
# Part runs and `cnndyn merge` on jobs/smoke.ini (8 models). Usage: merge.sh CNNDYN PROJECT_DIR
#  1. parts 0/3 and 2/3 at 1 rank, 1/3 at 2 ranks, merged at 2 ranks: every CSV equals a whole
#     run's byte for byte; part 2 is stopped by a failure at its first epoch end and resumed
#     with its --part; the wrong --part for a folder is refused; a 2-part run with snapshots has
#     them linked into the merged run, where cnndyn stats reproduces its features.csv.
#  2. bad merges (a part missing, parts overlapping, parts of different job specs, a part
#     unfinished, a non-empty --out): one message, exit 1, no output folder, no temporary left.
set -uo pipefail
cnndyn=$1 top=$2
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
. "$(dirname "$0")/lib.sh"
smoke=$top/jobs/smoke.ini
run() { "$@" > "$W/last.out" 2>&1; }

run mpi 2 "$cnndyn" run "$smoke" --out "$W/whole" --quiet || { cat "$W/last.out"; exit 1; }

# 1. three parts, one of them at 2 ranks; part 2 fails once and is resumed
run mpi 1 "$cnndyn" run "$smoke" --out "$W/p0" --part 0/3 --quiet
check "[ $? -eq 0 ]" "part 0/3: $(cat "$W/last.out")"
run mpi 2 "$cnndyn" run "$smoke" --out "$W/p1" --part 1/3 --quiet
check "[ $? -eq 0 ]" "part 1/3 at 2 ranks: $(cat "$W/last.out")"
check "[ \"\$(cut -d, -f1 '$W/p1/models.csv' | tail -n +2 | tr '\n' ' ')\" = '2 3 4 ' ]" "part 1/3 holds models $(cut -d, -f1 "$W/p1/models.csv" | tail -n +2 | tr '\n' ' ')"
check "[ ! -e '$W/p1/report.csv' ] && [ ! -e '$W/p1/predictions.csv' ]" "a part wrote predictions"
run mpi 1 "$cnndyn" predict "$W/p0" --quiet
check "[ $? -eq 1 ] && grep -q 'is one part of a population' '$W/last.out' && [ ! -e '$W/p0/report.csv' ]" "predict on a part: $(cat "$W/last.out")"
PETSC_OPTIONS='-cnndyn_test_fail_rank 0' run mpi 1 "$cnndyn" run "$smoke" --out "$W/p2" --part 2/3 --quiet
check "[ $? -eq 1 ]" "the failing part did not exit 1: $(cat "$W/last.out")"

# an unfinished part cannot be merged (checked here, while part 2 is unfinished)
run mpi 1 "$cnndyn" merge "$W/p0" "$W/p1" "$W/p2" --out "$W/bad"
rc=$?
check "[ $rc -eq 1 ] && grep -q 'part 2/3 is unfinished' '$W/last.out' && [ ! -e '$W/bad' ]" "merge of an unfinished part: rc $rc: $(cat "$W/last.out")"

run mpi 1 "$cnndyn" run --resume "$W/p2" --part 1/3 --quiet
check "[ $? -eq 1 ] && grep -q 'holds part 2/3; resume it with --part 2/3' '$W/last.out'" "resume with the wrong part: $(cat "$W/last.out")"
run mpi 1 "$cnndyn" run --resume "$W/p2" --quiet
check "[ $? -eq 1 ] && grep -q 'holds part 2/3' '$W/last.out'" "resume of a part without --part: $(cat "$W/last.out")"
run mpi 1 "$cnndyn" run --resume "$W/whole" --part 0/3 --quiet
check "[ $? -eq 1 ] && grep -q 'a run of the whole population' '$W/last.out'" "resume of a whole run with --part: $(cat "$W/last.out")"
run mpi 1 "$cnndyn" run --resume "$W/p2" --part 2/3 --quiet
check "[ $? -eq 0 ] && [ -e '$W/p2/checkpoints/complete' ]" "resume of part 2/3: $(cat "$W/last.out")"

run mpi 2 "$cnndyn" merge "$W/p2" "$W/p0" "$W/p1" --out "$W/merged" --quiet
check "[ $? -eq 0 ]" "merge: $(cat "$W/last.out")"
for f in models.csv curves.csv features.csv predictions.csv report.csv report.md early_stop.csv features_columns.csv job.ini; do
  check "cmp -s '$W/whole/$f' '$W/merged/$f'" "merged vs whole run: $f differs"
done
check "[ \$(tail -n +2 '$W/merged/timing.csv' | wc -l) -eq \$(tail -n +2 '$W/whole/timing.csv' | wc -l) ]" "timing.csv rows"
run mpi 1 "$cnndyn" run --resume "$W/merged" --quiet
check "[ $? -eq 0 ] && grep -q 'this run is complete' '$W/last.out'" "resume of a merged run: $(cat "$W/last.out")"

# snapshots: each part's linked into the merged run, where `cnndyn stats` reads them back into
# exactly the merged features.csv
{ cat "$smoke"; printf '[output]\nsnapshots = true\n'; } > "$W/snap.ini"
for i in 0 1; do
  run mpi 1 "$cnndyn" run "$W/snap.ini" --out "$W/n$i" --part $i/2 --quiet
  check "[ $? -eq 0 ]" "snapshot part $i/2: $(cat "$W/last.out")"
done
run mpi 1 "$cnndyn" merge "$W/n0" "$W/n1" --out "$W/nm" --quiet
check "[ $? -eq 0 ]" "merge with snapshots: $(cat "$W/last.out")"
check "[ \$(ls '$W/nm/snapshots' | wc -l) -eq 8 ] && [ \$(find '$W/nm/snapshots' -type f -links 2 | wc -l) -eq \$(find '$W/n0/snapshots' '$W/n1/snapshots' -type f | wc -l) ]" \
  "merged snapshots: $(ls "$W/nm/snapshots" 2> /dev/null | tr '\n' ' ')"
run mpi 1 "$cnndyn" stats "$W/nm" --out "$W/nm-stats.csv"
check "[ $? -eq 0 ] && cmp -s '$W/nm-stats.csv' '$W/nm/features.csv'" "stats on the merged snapshots differ from its features.csv: $(cat "$W/last.out")"

# 2. bad merges: exit 1, one message, no output folder and no temporary beside it
bad() { # expected-message parts...
  local want=$1
  shift
  run mpi 1 "$cnndyn" merge "$@" --out "$W/out/bad"
  local rc=$?
  check "[ $rc -eq 1 ] && [ \$(grep -c '^cnndyn: error:' '$W/last.out') -eq 1 ] && grep -q -- '$want' '$W/last.out'" \
    "merge $*: rc $rc, expected '$want': $(cat "$W/last.out")"
  check "[ ! -e '$W/out/bad' ] && [ -z \"\$(ls '$W/out' 2> /dev/null)\" ]" "merge $*: left $(ls "$W/out" 2> /dev/null)"
}
bad "model ids 2-4 are in no part given" "$W/p0" "$W/p2"
bad "model ids 0-1 are in two parts" "$W/p0" "$W/p0" "$W/p1" "$W/p2"
run mpi 1 "$cnndyn" run "$smoke" --out "$W/q1" --part 1/2 --quiet # models 4-7: 4 overlaps part 1/3
check "[ $? -eq 0 ]" "part 1/2: $(cat "$W/last.out")"
bad "model id 4 is in two parts: $W/p1 (models 2-4) and $W/q1 (models 4-7)" "$W/p0" "$W/p1" "$W/q1"
sed 's/^seed = 7/seed = 8/' "$smoke" > "$W/seed8.ini"
run mpi 1 "$cnndyn" run "$W/seed8.ini" --out "$W/s2" --part 2/3 --quiet
check "[ $? -eq 0 ]" "part 2/3 of another job: $(cat "$W/last.out")"
bad "s2/job.ini: differs from .*p0/job.ini: the parts are of different job specs" "$W/p0" "$W/p1" "$W/s2"
bad "not a part run (no part.txt" "$W/p0" "$W/p1" "$W/whole"
# parts that pass their own checks but disagree once merged: the message names the output folder
# (the temporary one it was loaded from is gone)
rm -rf "$W/pb" && cp -r "$W/p1" "$W/pb"
awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "label") c = i } NR == 2 { $c = 0.123 } { print }' \
  "$W/p1/models.csv" > "$W/pb/models.csv"
bad "out/bad/models.csv:4: column label: .0.123. is not the model.s final_test_accuracy .* (lines of the merged files" \
  "$W/p0" "$W/pb" "$W/p2"
check "! grep -q 'merge.tmp' '$W/last.out'" "merge names its temporary folder: $(cat "$W/last.out")"
run mpi 2 "$cnndyn" merge "$W/p0" "$W/pb" "$W/p2" --out "$W/out/bad2//" # the same folder, written with slashes
check "[ $? -eq 1 ] && grep -q 'out/bad2/models.csv:4: column label' '$W/last.out' && [ ! -e '$W/out/bad2' ]" \
  "merge --out DIR//: $(cat "$W/last.out")"
mkdir -p "$W/full" && touch "$W/full/x"
run mpi 1 "$cnndyn" merge "$W/p0" "$W/p1" "$W/p2" --out "$W/full"
check "[ $? -eq 1 ] && grep -q 'folder is not empty' '$W/last.out' && [ \"\$(ls '$W/full')\" = x ]" "merge into a non-empty folder: $(cat "$W/last.out")"
run mpi 1 "$cnndyn" run "$smoke" --out "$W/p9" --part 2/9
check "[ $? -eq 1 ] && grep -q 'more parts than the 8 models' '$W/last.out' && [ ! -e '$W/p9' ]" "--part 2/9 of 8 models: $(cat "$W/last.out")"
run "$cnndyn" run "$smoke" --out "$W/p3" --part 3/3
check "[ $? -eq 2 ] && [ ! -e '$W/p3' ]" "--part 3/3 is not a usage error"
run "$cnndyn" merge "$W/p0"
check "[ $? -eq 2 ]" "merge without --out is not a usage error"

echo "merge: $fail failure(s)"
[ $fail -eq 0 ]
