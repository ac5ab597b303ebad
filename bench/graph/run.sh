#!/usr/bin/env bash
# bench/graph: building graphs and their eigenvector centrality, cnndyn beside scipy on the same
# graphs, in one run.
#   bench/graph/run.sh [BUILD_DIR] [quick] [BEFORE_BUILD_DIR]   (after scripts/install-deps.sh --bench and a build)
# Prints one table: building each graph's matrix (pattern and values; scipy: csr_matrix/bmat and
# coo -> csr) and its eigenvector (scipy: eigsh), our time, scipy's and the ratio, in wall seconds
# and in CPU seconds of the process (on a shared machine the wall time also counts waiting for a
# core; the largest rank's at 2 ranks), and peak memory; the load average before and after. With
# BEFORE_BUILD_DIR (an older build), its figures go in a "before" column of the same run. Then,
# unless "quick", the per-epoch cost of graph + every statistic beside LeNet-5's measured epoch
# time (target 2%) and the small VGG's reference epoch time (target 5%).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
quick=${2:-}
before=${3:-}
bench=$build/bench/graph/bench_graph
py=/usr/bin/python3 # Debian's, which sees python3-scipy
. "$root/scripts/env.sh"
work=$(mktemp -d /tmp/cdn_bench_graph.XXXXXX)
trap 'rm -rf "$work"' EXIT
get() { awk -v k="$2" '$1 == k { print $2 }' "$work/$1"; }

echo "generating inputs in $work ..." >&2
$py "$here/scipy_ref.py" gen "$work"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
runs() { # BENCH TAG: the FC graph at 1 rank, the random graph at 1 and 2 ranks
  mpirun -n 1 "$1" fc "$work/W.npy" > "$work/fc_$2"
  for r in 1 2; do
    mpirun -n $r --oversubscribe "$1" edges "$work/ei.npy" "$work/ej.npy" "$work/w.npy" 1000000 > "$work/rand_$2$r"
  done
}
runs "$bench" ours
[ -n "$before" ] && runs "$before/bench/graph/bench_graph" before
$py "$here/scipy_ref.py" fc "$work" > "$work/fc_scipy"
$py "$here/scipy_ref.py" random "$work" > "$work/rand_scipy"
load1=$(cut -d' ' -f1-3 /proc/loadavg)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
row() { # label, our file (fc_ours, rand_ours1, ...), key stem, scipy file
  local f=$2 k=$3 s=$4 b=- bc
  if [ -n "$before" ]; then # the older bench may not time the CPU of every row
    b=$(get "${f/ours/before}" "${k}_s") bc=$(get "${f/ours/before}" "${k}_cpu_s")
    b=$(awk -v w="$b" -v c="$bc" 'BEGIN { printf(c == "" ? "%.3f" : "%.3f/%.2f", w, c) }')
  fi
  printf '%-50s %11s %8.3f %8.3f %6s | %7.3f %7.3f %6s | %6.0f %6.0f\n' "$1" "$b" "$(get "$f" "${k}_s")" \
    "$(get "$s" "${k}_s")" "$(ratio "$(get "$f" "${k}_s")" "$(get "$s" "${k}_s")")" "$(get "$f" "${k}_cpu_s")" \
    "$(get "$s" "${k}_cpu_s")" "$(ratio "$(get "$f" "${k}_cpu_s")" "$(get "$s" "${k}_cpu_s")")" \
    "$(get "$f" peak_rss_mib)" "$(get "$s" peak_rss_mib)"
}
printf '\n%-50s %11s %8s %8s %6s | %7s %7s %6s | %6s %6s\n' "" "before" "cnndyn" "scipy" "ratio" "cnndyn" "scipy" "ratio" \
  "cnndyn" "scipy"
printf '%-50s %11s %8s %8s %6s | %7s %7s %6s | %6s %6s\n' "work" "wall/CPU s" "wall s" "wall s" "" "CPU s" "CPU s" "" "MiB" "MiB"
row "build, 4096x4096 FC layer graph (8192 n, 16.8M e)" fc_ours fc_build fc_scipy
row "eigenvector, same graph, 1 rank" fc_ours fc_eigenvector fc_scipy
for r in 1 2; do
  row "build, random graph 1M n / 10M e, $r rank(s)" rand_ours$r random_build rand_scipy
  row "eigenvector, same graph, $r rank(s)" rand_ours$r random_eigenvector rand_scipy
done
echo
echo "load average (1, 5, 15 min): $load0 before, $load1 after"
echo "lambda: FC ours $(get fc_ours lambda) scipy $(get fc_scipy lambda); random ours $(get rand_ours2 lambda) scipy $(get rand_scipy lambda)"
echo "FC build split: create (pattern) $(get fc_ours fc_create_s) s, first weights $(get fc_ours fc_set_weights_s) s; a later epoch's weights $(get fc_ours fc_next_epoch_s) s"
[ "$quick" = quick ] && exit 0
mpirun -n 1 "$bench" families > "$work/fam"

# LeNet-5's real epoch (55k Fashion-MNIST images) with every statistic, from a run's timing.csv.
cat > "$work/lenet.ini" <<'INI'
[training]
epochs = 1
[graph]
statistics = degree, eigenvector, pagerank, singular, in_strength, out_strength
[prediction]
folds = 2
[population]
learning_rate = 0.01, 0.02
[features]
budget = 1
INI
mpirun -n 1 "$build/cnndyn" run "$work/lenet.ini" --out "$work/run" --quiet > /dev/null
train=$(awk -F, '$2 == 1 { s += $4; n++ } END { print s / n }' "$work/run/timing.csv")
graph=$(awk -F, '$2 == 1 { s += $5; n++ } END { print s / n }' "$work/run/timing.csv")

echo
echo "per epoch, graph + all 6 statistics x 7 aggregators:"
echo "  LeNet-5: $(get fam lenet_graph_stats_s) s (bench) / $graph s (in the run) against a $train s training epoch: $(awk -v g="$graph" -v t="$train" 'BEGIN { printf "%.2f%%", 100 * g / t }') (target 2%)"
echo "  small VGG (BN): $(get fam vgg_graph_stats_s) s against PyTorch's 87 s reference epoch (cnndyn's own epoch is about 1.3x shorter, bench/train): $(awk -v g="$(get fam vgg_graph_stats_s)" 'BEGIN { printf "%.3f%%", 100 * g / 87 }') (target 5%)"
