#!/usr/bin/env bash
# bench/graph: cnndyn's graph statistics beside scipy's eigsh on the same graphs, in one run.
#   bench/graph/run.sh [BUILD_DIR]        (after scripts/install-deps.sh --bench and a build)
# Prints one table: our time, scipy's, the ratio (target: at most 0.5), and peak memory; then the
# per-epoch cost of graph + every statistic beside LeNet-5's measured epoch time (target 2%) and
# the small VGG's reference epoch time from DESIGN.md (target 5%).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
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
mpirun -n 1 "$root/build/cnndyn" run "$work/lenet.ini" --out "$work/run" --quiet > /dev/null
train=$(awk -F, '$2 == 1 { s += $4; n++ } END { print s / n }' "$work/run/timing.csv")
graph=$(awk -F, '$2 == 1 { s += $5; n++ } END { print s / n }' "$work/run/timing.csv")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
printf '\n%-52s %10s %10s %8s %12s %12s\n' "work" "cnndyn s" "scipy s" "ratio" "cnndyn MiB" "scipy MiB"
printf '%-52s %10.3f %10.3f %8s %12.0f %12.0f\n' "eigenvector, 4096x4096 FC layer (8192 n, 16.8M e), 1 rank" \
  "$(get fc_ours fc_eigenvector_s)" "$(get fc_scipy fc_eigenvector_s)" \
  "$(ratio "$(get fc_ours fc_eigenvector_s)" "$(get fc_scipy fc_eigenvector_s)")" \
  "$(get fc_ours peak_rss_mib)" "$(get fc_scipy peak_rss_mib)"
for r in 1 2; do
  printf '%-52s %10.3f %10.3f %8s %12.0f %12.0f\n' "eigenvector, random 1M nodes / 10M edges, $r rank(s)" \
    "$(get rand_ours$r random_eigenvector_s)" "$(get rand_scipy random_eigenvector_s)" \
    "$(ratio "$(get rand_ours$r random_eigenvector_s)" "$(get rand_scipy random_eigenvector_s)")" \
    "$(get rand_ours$r peak_rss_mib)" "$(get rand_scipy peak_rss_mib)"
done
echo
echo "lambda: FC ours $(get fc_ours lambda) scipy $(get fc_scipy lambda); random ours $(get rand_ours2 lambda) scipy $(get rand_scipy lambda)"
echo "graph build (FC): create $(get fc_ours fc_create_s) s, set weights $(get fc_ours fc_set_weights_s) s; random assembly at 2 ranks $(get rand_ours2 random_assemble_s) s"
echo
echo "per epoch, graph + all 6 statistics x 7 aggregators:"
echo "  LeNet-5: $(get fam lenet_graph_stats_s) s (bench) / $graph s (in the run) against a $train s training epoch: $(awk -v g="$graph" -v t="$train" 'BEGIN { printf "%.2f%%", 100 * g / t }') (target 2%)"
echo "  small VGG (BN): $(get fam vgg_graph_stats_s) s against PyTorch's 87 s epoch (DESIGN.md; cnndyn's own epoch is about 1.3x shorter, bench/train): $(awk -v g="$(get fam vgg_graph_stats_s)" 'BEGIN { printf "%.3f%%", 100 * g / 87 }') (target 5%)"
