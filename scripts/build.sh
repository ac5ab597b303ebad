#!/usr/bin/env bash
# Configures and builds cnndyn in build/ (Release). Extra arguments go to cmake's configure step,
# e.g. scripts/build.sh -DCDN_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j "$(nproc)"
