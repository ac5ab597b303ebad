# Sourced by shares.sh and table.sh, the one reading of bench_peak's line: `read_peak BENCH_PEAK`
# sets peak (GFLOP/s) and isa, or stops the script with one message; a missing figure would
# otherwise become shares of 'inf%' with status 0.
read_peak() {
  read -r _ peak _ isa < <("$1") || true # its status: the check below
  [[ ${peak:-} =~ ^[0-9]+(\.[0-9]+)?$ && $peak =~ [1-9] ]] ||
    { echo "$0: bench_peak measured no peak ('${peak:-}'): $1 alone shows why" >&2; exit 1; }
}
