#!/usr/bin/env bash
# README command 2: installs the dependencies, builds, and runs the whole ctest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
. scripts/env.sh
cd build
# two at a time (2 cores): tests work in their own temporary folders; two runs that both want the
# default progress port get a warning each, nothing else
ctest --output-on-failure --timeout 900 -j2
