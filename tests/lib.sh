# Helpers shared by the shell tests (sourced). Each failed check is printed and counted in $fail;
# a script ends with `[ $fail -eq 0 ]` so that ctest sees the result.
# With pipefail, never end a pipeline in `grep -q`: grep exits at the first match, the producer
# then dies of SIGPIPE if it had more to write (cat of two files, say), and the check fails at
# random. Grep files directly, or send grep's output to /dev/null.
fail=0
check() { if ! eval "$1"; then echo "FAILED: $2"; fail=$((fail + 1)); fi; }
# mpirun with as many ranks as asked for, even beyond the machine's cores.
mpi() { local n=$1; shift; mpirun -n "$n" --oversubscribe --bind-to none "$@"; }
