#!/usr/bin/env bash
# Installs every Debian package cnndyn needs. Idempotent: packages already
# present are skipped, so a second run costs a dpkg query and nothing else.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  openmpi-bin libopenmpi-dev
  libpetsc-real-dev libslepc-real-dev
  libzmq3-dev libopenblas-dev zlib1g-dev libcjson-dev
  liblinear-dev libsvm-dev libxgboost-dev libdnnl-dev
  dataset-fashion-mnist
  python3-numpy python3-matplotlib python3-pandas
  slurmctld slurmd slurm-client munge
)

# --bench: also what the benchmarks and fixture generators need (bench/train, bench/graph,
# tests/torch_ref/gen.py; perf for bench/train/shares.sh); never part of the default install, so CI
# stays lean.
bench_packages=(python3-torch python3-scipy linux-perf)
# --fuzz: clang with libFuzzer's runtime and clang's OpenMP, for bench/fuzz/run.sh.
fuzz_packages=(clang libclang-rt-14-dev libomp-dev)
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=("${bench_packages[@]}") ;;
    --fuzz) packages+=("${fuzz_packages[@]}") ;;
    *) echo "install-deps: unknown option '$arg' (known: --bench, --fuzz)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
apt_opts=(-y -q -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
echo "install-deps: installing ${missing[*]}"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update
$sudo env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}"
