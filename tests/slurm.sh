#!/usr/bin/env bash
# A private single-node Slurm (DESIGN.md): munged, slurmctld -D -i and slurmd -D with a generated
# slurm.conf, all state in a temporary folder, free ports. Usage: slurm.sh CNNDYN PROJECT_DIR
#  1. slurm/population.sbatch runs the smoke job on 2 tasks: COMPLETED, CSVs equal to mpirun's.
#  2. A job with a 1-minute limit gets Slurm's warning signal, checkpoints, exits 75 and is requeued
#     by the script; released from Slurm's requeue delay, it finishes with the same CSVs.
# Stops exactly the daemons it started. Exit 77 (skipped) only when Slurm cannot start at all.
set -uo pipefail
cnndyn=$1 top=$2
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

# wait_job ID: until it leaves the queue (or is pending for Slurm's requeue delay: released)
job_state() { scontrol show job "$1" 2> /dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
wait_job() {
  for _ in $(seq 240); do
    case $(job_state "$1") in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) return ;; esac
    sleep 0.5
  done
}
smoke=$top/jobs/smoke.ini
export CNNDYN=$cnndyn

mpirun -n 2 --oversubscribe --bind-to none "$cnndyn" run "$smoke" --out "$T/ref" --quiet > "$T/ref.out" 2>&1 ||
  { cat "$T/ref.out"; exit 1; }

# 1. the smoke job on 2 tasks
id=$(sbatch --parsable -n 2 --time=10 -o "$T/j1.out" "$top/slurm/population.sbatch" "$smoke" "$T/o1" --quiet)
wait_job "$id"
check "[ '$(job_state "$id")' = COMPLETED ]" "job $id: $(job_state "$id"): $(cat "$T/j1.out")"
for f in models.csv curves.csv features.csv predictions.csv report.csv; do
  check "cmp -s '$T/ref/$f' '$T/o1/$f'" "sbatch vs mpirun: $f differs"
done
check "[ \$(awk -F, 'NR > 1 { print \$3 }' '$T/o1/timing.csv' | sort -u | wc -l) -eq 2 ]" "sbatch job did not run on 2 ranks"

# 2. a 1-minute limit: the warning (lead 55 s; Slurm looks every ~30 s, so it comes 5-35 s in)
# reaches the ranks while they train (each epoch end paused 4 s: 12 pauses per rank keep the tiny
# job running ~50 s, well past the warning and short of the limit, however fast training gets)
id=$(sbatch --parsable -n 2 --time=1 --signal=USR1@55 --export=ALL,CNNDYN_TEST_EPOCH_PAUSE=4 -o "$T/j2.out" \
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
[ $fail -eq 0 ] || logs
echo "slurm: $fail failure(s)"
[ $fail -eq 0 ]
