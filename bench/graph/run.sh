#!/usr/bin/env bash
# bench/graph: building graphs and their eigenvector centrality, cnndyn beside scipy on the same
# graphs, in one run.
#   bench/graph/run.sh [BUILD_DIR] [quick]   (after scripts/install-deps.sh --bench and a build)
# Prints one table: building each graph's matrix (pattern and values; scipy: csr_matrix/bmat and
# coo -> csr) and its eigenvector (scipy: eigsh), our time, scipy's, the ratio, and peak memory
# of the process; then, unless "quick", the per-epoch cost of graph + every statistic beside
# LeNet-5's measured epoch time (target 2%) and the small VGG's reference epoch time (target 5%).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
quick=${2:-}
bench=$build/bench/graph/bench_graph
py=/usr/bin/python3 # Debian's, which sees python3-scipy
. "$root/scripts/env.sh"
work=$(mktemp -d /tmp/cdn_bench_graph.XXXXXX)
trap 'rm -rf "$work"' EXIT
get() { awk -v k="$2" '$1 == k { print $2 }' "$work/$1"; }

echo "generating inputs in $work ..." >&2
$py "$here/scipy_ref.py" gen "$work"
mpirun -n 1 "$bench" fc "$work/W.npy" > "$work/fc_ours"
$py "$here/scipy_ref.py" fc "$work" > "$work/fc_scipy"
for r in 1 2; do
  mpirun -n $r --oversubscribe "$bench" edges "$work/ei.npy" "$work/ej.npy" "$work/w.npy" 1000000 > "$work/rand_ours$r"
done
$py "$here/scipy_ref.py" random "$work" > "$work/rand_scipy"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
row() { # label, our file, our key, scipy file, scipy key
  printf '%-58s %9.3f %9.3f %7s %11.0f %10.0f\n' "$1" "$(get "$2" "$3")" "$(get "$4" "$5")" \
    "$(ratio "$(get "$2" "$3")" "$(get "$4" "$5")")" "$(get "$2" peak_rss_mib)" "$(get "$4" peak_rss_mib)"
}
printf '\n%-58s %9s %9s %7s %11s %10s\n' "work" "cnndyn s" "scipy s" "ratio" "cnndyn MiB" "scipy MiB"
row "build, 4096x4096 FC layer graph (8192 n, 16.8M e), 1 rank" fc_ours fc_build_s fc_scipy fc_build_s
row "eigenvector, same graph, 1 rank" fc_ours fc_eigenvector_s fc_scipy fc_eigenvector_s
for r in 1 2; do
  row "build, random graph 1M nodes / 10M edges, $r rank(s)" rand_ours$r random_build_s rand_scipy random_build_s
  row "eigenvector, same graph, $r rank(s)" rand_ours$r random_eigenvector_s rand_scipy random_eigenvector_s
done
echo
echo "lambda: FC ours $(get fc_ours lambda) scipy $(get fc_scipy lambda); random ours $(get rand_ours2 lambda) scipy $(get rand_scipy lambda)"
echo "FC build split: create (pattern) $(get fc_ours fc_create_s) s, first weights $(get fc_ours fc_set_weights_s) s; a later epoch's weights $(get fc_ours fc_next_epoch_s) s"
echo "CPU seconds of the builds (user + system; the wall times above include waiting for a shared core):"
echo "  FC ours $(get fc_ours fc_build_cpu_s) scipy $(get fc_scipy fc_build_cpu_s); random ours $(get rand_ours1 random_build_cpu_s) (1 rank), $(get rand_ours2 random_build_cpu_s) (2 ranks, the busier rank) scipy $(get rand_scipy random_build_cpu_s)"
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
