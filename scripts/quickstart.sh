#!/usr/bin/env bash
# README command 1: installs the dependencies, builds, and trains the quickstart population
# (jobs/quickstart.ini, Fashion-MNIST) on 2 ranks. Reports go to out/quickstart.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
. scripts/env.sh
out=${1:-out/quickstart}
mpirun -n 2 --bind-to none build/cnndyn run jobs/quickstart.ini --out "$out" --force
