#!/usr/bin/env bash
# Regenerates docs/learning_curves.png, the figure the README shows, from the quickstart job.
# Usage: docs/make_figure.sh [RUN_DIR]   (RUN_DIR: an existing output of jobs/quickstart.ini;
# without it the job runs first on 2 ranks into a temporary folder, about 2 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
run=${1:-}
if [ -z "$run" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  run=$tmp/q
  mpirun -n 2 --bind-to none build/cnndyn run jobs/quickstart.ini --out "$run" --quiet
fi
/usr/bin/python3 analysis/report.py "$run" --quiet > /dev/null
cp "$run/report/learning_curves.png" docs/learning_curves.png
echo "docs/learning_curves.png"
