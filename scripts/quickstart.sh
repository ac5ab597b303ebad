#!/usr/bin/env bash
# README command 1: installs the dependencies, builds, and trains the quickstart population
# (jobs/quickstart.ini, Fashion-MNIST) on 2 ranks. Reports go to out/quickstart, the analysis
# page to out/quickstart/report/index.html.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
. scripts/env.sh
out=${1:-out/quickstart}
# A rerun replaces this script's previous output, snapshots and checkpoints included (cnndyn itself
# never deletes them: --force refuses to write over snapshots, and a new run refuses a folder with
# checkpoints, which --resume would continue).
rm -rf "$out/snapshots" "$out/checkpoints"
mpirun -n 2 --bind-to none build/cnndyn run jobs/quickstart.ini --out "$out" --force
# The analysis page: figures of the population, the graphs and the predictions, with the tables.
page=$(/usr/bin/python3 analysis/report.py "$out" --quiet)
echo "Analysis page: $page"
