#!/usr/bin/env bash
# README command 2: installs the dependencies, builds, and runs the whole ctest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
. scripts/env.sh
cd build
ctest --output-on-failure --timeout 900
