#!/usr/bin/env bash
# A private single-node Slurm: munged, slurmctld -D -i and slurmd -D with a generated slurm.conf,
# all state in a temporary folder, free ports. Usage: slurm.sh CNNDYN PROJECT_DIR [CASES]
# CASES (default "single requeue"; ctest slurm_array runs "array"):
#  single   slurm/population.sbatch runs the smoke job on 2 tasks: COMPLETED, CSVs equal to mpirun's.
#  requeue  A job with a 1-minute limit gets Slurm's warning signal, checkpoints, exits 75 and is
#           requeued by the script; released from Slurm's requeue delay, it finishes with the same CSVs.
#  array    slurm/population_array.sbatch as a 3-task array (one part each), then
#           slurm/population_merge.sbatch after it (--dependency=afterok): CSVs equal to mpirun's.
# Stops exactly the daemons it started. Exit 77 (skipped) only when Slurm cannot start at all.
set -uo pipefail
cnndyn=$1 top=$2 cases=" ${3:-single requeue} "
want() { [[ $cases == *" $1 "* ]]; }
skip() { echo "SKIPPED: $*"; exit 77; }
for p in /usr/sbin/munged /usr/sbin/slurmctld /usr/sbin/slurmd sbatch squeue scontrol sinfo; do
  command -v "$p" > /dev/null || skip "$p is not installed (scripts/install-deps.sh installs Slurm)"
done
[ "$(id -u)" -eq 0 ] || skip "a private slurmctld/slurmd needs root"
id munge > /dev/null 2>&1 || skip "no munge user"

T=$(mktemp -d /tmp/cnndyn-slurm.XXXXXX)
chmod 755 "$T"
pids=()
stop_daemons() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2> /dev/null
  done
}
trap 'stop_daemons; rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
logs() { for f in "$T"/*.log "$T"/munge/*.log; do echo "== $f"; tail -20 "$f"; done; }

# munged as user munge, on a private socket
mkdir -p "$T/munge" "$T/state" "$T/spool"
chown munge:munge "$T/munge" && chmod 755 "$T/munge" # munged: socket folder open to all, not writable
runuser -u munge -- /usr/sbin/munged --socket="$T/munge/sock" --pid-file="$T/munge/pid" \
  --log-file="$T/munge/munged.log" --seed-file="$T/munge/seed" || skip "munged does not start: $(cat "$T/munge/munged.log" 2>/dev/null)"
for _ in $(seq 50); do [ -s "$T/munge/pid" ] && break; sleep 0.1; done
pids+=("$(cat "$T/munge/pid")")

# at least 2 CPUs for the 2-task jobs (config_overrides lets a 1-core machine oversubscribe);
# nproc --all, since nproc alone obeys OMP_NUM_THREADS
cpus=$(nproc --all)
[ "$cpus" -ge 2 ] || cpus=2
cat > "$T/slurm.conf" <<CONF
ClusterName=cnndyntest
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$T/munge/sock
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=pmix
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
KillWait=5
InactiveLimit=0
MinJobAge=600
JobRequeue=1
SlurmdParameters=config_overrides
NodeName=cnndyn1 NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=cnndyn1 Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$T/slurm.conf
/usr/sbin/slurmctld -D -i -f "$SLURM_CONF" > "$T/slurmctld.out" 2>&1 &
pids+=($!)
/usr/sbin/slurmd -D -N cnndyn1 -f "$SLURM_CONF" > "$T/slurmd.out" 2>&1 &
pids+=($!)
state=
for _ in $(seq 60); do
  state=$(sinfo -h -o %T 2> /dev/null)
  [ "$state" = idle ] && break
  sleep 0.5
done
[ "$state" = idle ] || { logs; skip "the private Slurm did not come up (node state '$state')"; }

# wait_job ID [SECONDS]: until it ends (default 120 s), polling its state; a machine under load
# makes jobs slow, never a test fail by itself while the time lasts
job_state() { scontrol show job "$1" 2> /dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -1; }
wait_job() {
  local until=$((SECONDS + ${2:-120}))
  while [ $SECONDS -lt "$until" ]; do
    case $(job_state "$1") in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | PREEMPTED) return ;; esac
    sleep 1
  done
}
smoke=$top/jobs/smoke.ini
export CNNDYN=$cnndyn

mpirun -n 2 --oversubscribe --bind-to none "$cnndyn" run "$smoke" --out "$T/ref" --quiet > "$T/ref.out" 2>&1 ||
  { cat "$T/ref.out"; exit 1; }

if want single; then
# the smoke job on 2 tasks
id=$(sbatch --parsable -n 2 --time=10 -o "$T/j1.out" "$top/slurm/population.sbatch" "$smoke" "$T/o1" --quiet)
wait_job "$id"
check "[ '$(job_state "$id")' = COMPLETED ]" "job $id: $(job_state "$id"): $(cat "$T/j1.out")"
for f in models.csv curves.csv features.csv predictions.csv report.csv; do
  check "cmp -s '$T/ref/$f' '$T/o1/$f'" "sbatch vs mpirun: $f differs"
done
check "[ \$(awk -F, 'NR > 1 { print \$3 }' '$T/o1/timing.csv' | sort -u | wc -l) -eq 2 ]" "sbatch job did not run on 2 ranks"
fi

if want requeue; then
# a 1-minute limit: the warning (lead 55 s; Slurm looks every ~30 s, so it comes 5-35 s in)
# reaches the ranks while they train (each epoch end paused 4 s: 12 pauses per rank keep the tiny
# job running ~50 s, well past the warning and short of the limit, however fast training gets)
id=$(sbatch --parsable -n 2 --time=1 --signal=USR1@55 --export='ALL,PETSC_OPTIONS=-cnndyn_test_epoch_pause 4' -o "$T/j2.out" \
  "$top/slurm/population.sbatch" "$smoke" "$T/o2" --quiet)
requeued=0
for _ in $(seq 240); do
  s=$(job_state "$id")
  if [ "$s" = PENDING ] && scontrol show job "$id" | grep 'Restarts=[1-9]' > /dev/null; then
    # the script requeued it; once the node has cleaned up after it (releasing earlier gets the
    # job killed with "credential revoked"), skip Slurm's 2-minute requeue delay and give it time
    requeued=1
    for _ in $(seq 60); do [ "$(sinfo -h -o %T)" = idle ] && break; sleep 0.5; done
    sleep 2
    scontrol update JobId="$id" StartTime=now TimeLimit=10
    break
  fi
  case $s in COMPLETED | FAILED | CANCELLED | TIMEOUT) break ;; esac
  sleep 0.5
done
check "[ $requeued -eq 1 ]" "job $id was not requeued after the time-limit warning ($(job_state "$id")): $(cat "$T/j2.out")"
wait_job "$id"
check "[ '$(job_state "$id")' = COMPLETED ]" "requeued job $id: $(job_state "$id"): $(cat "$T/j2.out")"
check "grep -q 'exit code 75' '$T/j2.out' && grep -q 'requeueing' '$T/j2.out'" "no stop with 75 in the job log"
for f in models.csv curves.csv features.csv predictions.csv report.csv; do
  check "cmp -s '$T/ref/$f' '$T/o2/$f'" "time-limited and requeued vs mpirun: $f differs"
done
fi

if want array; then
  # three array tasks of one rank each (two at a time on a 2-CPU node), the merge after them on 2
  aid=$(sbatch --parsable --array=0-2 -n 1 --time=10 -o "$T/a_%a.out" "$top/slurm/population_array.sbatch" "$smoke" "$T/o3" --quiet)
  mid=$(sbatch --parsable --dependency=afterok:"$aid" -n 2 --time=10 -o "$T/m3.out" \
    "$top/slurm/population_merge.sbatch" "$T/o3" --quiet)
  check "[ -n '$aid' ] && [ -n '$mid' ]" "sbatch of the array or the merge failed"
  ok=1
  for i in 0 1 2; do
    wait_job "${aid}_$i" 600
    s=$(job_state "${aid}_$i")
    [ "$s" = COMPLETED ] || ok=0
    check "[ '$s' = COMPLETED ]" "array task ${aid}_$i: $s: $(cat "$T/a_$i.out" 2> /dev/null)"
  done
  check "[ \"\$(cat '$T'/o3.parts/part-*/part.txt | sed -n 's/^models = //p' | tr '\n' ' ')\" = '0-1 2-4 5-7 ' ]" \
    "the array tasks trained $(cat "$T"/o3.parts/part-*/part.txt 2> /dev/null | tr '\n' ' ')"
  if [ $ok -eq 1 ]; then
    wait_job "$mid" 600
  else
    scancel "$mid" # its dependency can never be satisfied
  fi
  check "[ '$(job_state "$mid")' = COMPLETED ]" "merge job $mid: $(job_state "$mid"): $(cat "$T/m3.out" 2> /dev/null)"
  for f in models.csv curves.csv features.csv predictions.csv report.csv; do
    check "cmp -s '$T/ref/$f' '$T/o3/$f'" "array job merged vs mpirun: $f differs"
  done
fi
[ $fail -eq 0 ] || logs
echo "slurm: $fail failure(s)"
[ $fail -eq 0 ]
