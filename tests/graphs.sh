#!/usr/bin/env bash
# The graph tools on a tiny run: `cnndyn stats RUN` recomputes features.csv byte for byte (also on
# a run of two families), features_columns.csv lists its columns, the unrolled export and
# statistics work, `cnndyn predict` reads back a features.csv holding per-block, per-graph and
# per-scope columns (singular, spectral, degree_entropy) and reproduces the run's report, and the
# size guard and a layer statistic per node are refused with one clear line.
cnndyn=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/lib.sh"
cat > "$work/job.ini" <<'INI'
[population]
seed = 3
learning_rate = 0.01, 0.1
[data]
train_size = 300
validation_size = 100
test_size = 100
[training]
epochs = 2
[features]
budget = 1
[prediction]
folds = 2
[graph]
statistics = degree, pagerank, singular, in_strength, spectral, degree_entropy
[output]
snapshots = true
INI
"$cnndyn" run "$work/job.ini" --out "$work/r" --quiet > "$work/out" 2>&1
check "[ $? -eq 0 ]" "run failed: $(cat "$work/out")"
mpirun -n 2 --oversubscribe "$cnndyn" stats "$work/r" --statistics degree,pagerank,singular,in_strength,spectral,degree_entropy --out "$work/f.csv" > "$work/out" 2>&1
check "[ $? -eq 0 ]" "stats over the run failed: $(cat "$work/out")"
check "cmp -s '$work/r/features.csv' '$work/f.csv'" "stats over the run differs from features.csv"
# A population of two families keeps only the shared columns (src/features/layout.c): stats over the
# run (its job.ini says the layout) reproduces them, from the run folder and from snapshots/.
cat > "$work/mixed.ini" <<'INI'
[population]
seed = 5
learning_rate = 0.05
replicates = 2
[data]
train_size = 100
validation_size = 50
test_size = 50
[training]
architecture = lenet5, vgg
width = 0.25
epochs = 1
[features]
budget = 1
[prediction]
folds = 2
[graph]
statistics = degree, eigenvector, spectral, degree_entropy
[output]
snapshots = true
INI
"$cnndyn" run "$work/mixed.ini" --out "$work/m" --quiet > "$work/out" 2>&1
check "[ $? -eq 0 ]" "mixed run failed: $(cat "$work/out")"
"$cnndyn" stats "$work/m" --out "$work/mf.csv" > "$work/out" 2>&1
check "[ $? -eq 0 ] && cmp -s '$work/m/features.csv' '$work/mf.csv'" "stats over the mixed run differs from features.csv: $(cat "$work/out")"
"$cnndyn" stats "$work/m/snapshots" --out "$work/mf2.csv" > "$work/out" 2>&1
check "[ $? -eq 0 ] && cmp -s '$work/m/features.csv' '$work/mf2.csv'" "stats over the mixed run's snapshots/ differs from features.csv: $(cat "$work/out")"
# predict reads the run's CSVs back (every kind of column) and gives the run's report byte for byte
cp -r "$work/r" "$work/rp" && rm "$work/rp/report.csv"
"$cnndyn" predict "$work/rp" --quiet > "$work/out" 2>&1
check "[ $? -eq 0 ] && cmp -s '$work/r/report.csv' '$work/rp/report.csv'" "predict over the run differs from its report: $(cat "$work/out")"
# features_columns.csv names every features.csv column in order, with what it measures
for r in r m; do
  check "[ \"\$(head -1 '$work/$r/features.csv' | cut -d, -f3- | tr ',' '\n')\" = \"\$(tail -n +2 '$work/$r/features_columns.csv' | cut -d, -f1)\" ]" \
    "$r: features_columns.csv does not list features.csv's columns"
done
check "[ \"\$(sed -n 1p '$work/r/features_columns.csv')\" = column,statistic,scope,layer,aggregator ]" "features_columns.csv header"
check "grep -qx 'singular.conv2.value,singular,block,conv2,value' '$work/r/features_columns.csv'" "singular block row"
check "grep -qx 'weights.all.bias.p50,bias,all,,p50' '$work/m/features_columns.csv'" "pooled weights row"
check "grep -qx 'spectral.all.value,spectral,all,,value' '$work/m/features_columns.csv'" "spectral row"
check "grep -qx 'degree_entropy.conv2.value,degree_entropy,group,conv2,value' '$work/r/features_columns.csv'" "degree_entropy row"
check "! grep -q 'degree_entropy.conv2' '$work/m/features_columns.csv'" "a mixed run keeps per-layer entropy"
# analysis/load.py reads a run made before features_columns.csv existed from the names: the same
# schema as cnndyn's own file (it once called degree_entropy's per-group value a block's)
for r in r m; do
  /usr/bin/python3 - "$(dirname "$0")/../analysis" "$work/$r" > "$work/schema.out" 2>&1 <<'PY'
import csv, sys
sys.path.insert(0, sys.argv[1])
import load
rows = list(csv.reader(open(sys.argv[2] + "/features_columns.csv")))
got = load._columns_from_names("features.csv", [r[0] for r in rows[1:]]).values.tolist()
bad = [(g, w) for g, w in zip(got, rows[1:]) if list(g) != w]
print("\n".join(f"{g} != {w}" for g, w in bad[:5]))
sys.exit(1 if bad else 0)
PY
  check "[ $? -eq 0 ]" "$r: analysis/load.py's schema from names differs from features_columns.csv: $(cat "$work/schema.out")"
done
snap="$work/r/snapshots/model-000001/epoch-001"
"$cnndyn" graph "$snap" --export "$work/u.mtx" --unrolled > "$work/out" 2>&1
check "grep -q '8878 nodes, 412960 edges' '$work/out'" "unrolled export: $(cat "$work/out")"
check "[ \"\$(sed -n 2p '$work/u.mtx')\" = '8878 8878 412960' ]" "unrolled mtx header"
"$cnndyn" stats "$snap" --statistics in_strength,out_strength --out "$work/n.csv" > "$work/out" 2>&1
check "[ \"\$(sed -n 1p '$work/n.csv')\" = node,layer,channel,in_strength,out_strength ]" "stats header"
check "[ \$(wc -l < '$work/n.csv') -eq 238 ]" "stats rows"
"$cnndyn" stats "$snap" --statistics singular > "$work/out" 2>&1
check "[ $? -eq 1 ] && grep -q 'singular is a layer statistic' '$work/out'" "singular per node not refused"
# the lists are read as the job spec reads them: the same messages, repeats and empty items refused
"$cnndyn" stats "$snap" --statistics degree,degree > "$work/out" 2>&1
check "[ $? -eq 1 ] && grep -q \"statistics: 'degree' appears twice\" '$work/out'" "--statistics repeat: $(cat "$work/out")"
"$cnndyn" stats "$work/r" --aggregators mean,,max > "$work/out" 2>&1
check "[ $? -eq 1 ] && grep -q 'aggregators: empty item' '$work/out'" "--aggregators empty item: $(cat "$work/out")"
printf '[graph]\nunrolled = true\nmax_edges = 1000\n' > "$work/big.ini"
sed -n '/\[population\]/,/folds/p' "$work/job.ini" >> "$work/big.ini"
"$cnndyn" run "$work/big.ini" --out "$work/b" > "$work/out" 2>&1
check "[ $? -eq 1 ] && grep -q 'more than the limit of 1000 (\[graph\] max_edges)' '$work/out'" "size guard: $(cat "$work/out")"
exit $fail
