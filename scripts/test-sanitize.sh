#!/usr/bin/env bash
# CI step before scripts/test.sh: builds cnndyn with AddressSanitizer and UndefinedBehaviorSanitizer
# (-DCDN_SANITIZE=ON, the Release flags otherwise, with -march=x86-64-v3) in
# build-asan/, and runs the unit tests there: the C test programs, single-process and the 2-rank MPI
# one (ctest label "unit"; the shell tests of whole runs are scripts/test.sh's). Leak detection is
# on: cdn_initialize and cdn_finalize (src/util/error.c) leave out what MPI, PETSc and SLEPc
# allocate while starting and check before MPI_Finalize; tests/lsan.supp names the one leak left, in
# PMIx's progress thread. Any report fails the test
# that produced it. Extra arguments go to ctest (e.g. -R snapshot). For a leak's whole allocation
# stack, rerun its test with ASAN_OPTIONS=fast_unwind_on_malloc=0 (slow: Debian's libraries keep
# no frame pointers).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
scripts/install-deps.sh
# -march=x86-64-v3: our own kernels' AVX2 paths (conv_small.c, pool.c) run here, while
# scripts/test.sh's native build runs their AVX-512 paths on an AVX-512 machine.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Release -DCDN_SANITIZE=ON -DCDN_MARCH=x86-64-v3 >/dev/null
cmake --build build-asan -j "$(nproc)" --target unit_tests # the tests need neither the CLI nor bench/
. scripts/env.sh
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1
export LSAN_OPTIONS=suppressions=$top/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd build-asan
ctest -L unit --output-on-failure --timeout 900 -j2 "$@"
