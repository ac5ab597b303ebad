# Helpers shared by the shell tests (sourced). Each failed check is printed and counted in $fail;
# a script ends with `[ $fail -eq 0 ]` so that ctest sees the result.
fail=0
check() { if ! eval "$1"; then echo "FAILED: $2"; fail=$((fail + 1)); fi; }
# mpirun with as many ranks as asked for, even beyond the machine's cores.
mpi() { local n=$1; shift; mpirun -n "$n" --oversubscribe --bind-to none "$@"; }
