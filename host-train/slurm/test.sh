#!/usr/bin/env bash
# host-train's Slurm sweep on a real Slurm: brings up a single-node cluster on this machine (Debian's
# slurm-wlm and munge; a generated munge key, slurmctld and slurmd with a minimal slurm.conf in a temp
# folder, no cgroups), then
#   1. submits a sweep (3 runs x 2 seeds, 3 array tasks, 2 epochs on 6,400 images) with submit.sh, waits
#      for its merge job, and checks the merged results equal an unsharded bench of the same pairs;
#   2. submits it again, cancels array task 1 once it has saved a checkpoint (scancel), resubmits that
#      task with submit.sh --resubmit, and checks the merged results are still equal;
#   3. checks that submit.sh refuses bad bench arguments, and a machine without sbatch, before submitting.
# Stops every daemon it started, by pid, on success and on failure. Needs root (CI runs as root) and a
# release build of host-train (it builds one).
set -euo pipefail
cd "$(dirname "$0")/../.."
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
step() { printf '\n--- slurm test: %s\n' "$*"; }

if ! command -v slurmctld > /dev/null || ! command -v munged > /dev/null; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq slurm-wlm munge > /dev/null
fi
cargo build -q --release -p host-train
export HOST_TRAIN=$PWD/target/release/host-train

T=$(mktemp -d /tmp/host-train-slurm.XXXXXX)
pids=()
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do as_root kill "$p" 2> /dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do as_root kill -0 "$p" 2> /dev/null || break; sleep 0.1; done
  done
  [ $rc = 0 ] || { echo "slurm test failed; logs:"; tail -n 20 "$T"/*.log "$T"/sweep*/logs/*.log 2> /dev/null || true; }
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT

step "munge and a one-node Slurm in $T"
mkdir -p "$T/state" "$T/spool" "$T/munge"
# Our own munge key, socket and daemon: nothing of the machine's is touched.
head -c 1024 /dev/urandom > "$T/munge/munge.key"
chmod 400 "$T/munge/munge.key"
as_root munged --force --key-file="$T/munge/munge.key" --socket="$T/munge/socket" \
  --pid-file="$T/munge/munged.pid" --log-file="$T/munge/munged.log" --seed-file="$T/munge/seed"
for _ in $(seq 50); do [ -s "$T/munge/munged.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$T/munge/munged.pid")")
host=$(hostname)
cat > "$T/slurm.conf" << CONF
ClusterName=hosttrain
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge/socket
CredType=cred/munge
SlurmctldPort=16817
SlurmdPort=16818
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
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=2 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$T/slurm.conf
as_root env SLURM_CONF="$SLURM_CONF" slurmctld
as_root env SLURM_CONF="$SLURM_CONF" slurmd
for f in slurmctld slurmd; do
  for _ in $(seq 100); do [ -s "$T/$f.pid" ] && break; sleep 0.1; done
  [ -s "$T/$f.pid" ] || { echo "$f did not start"; exit 1; }
  pids+=("$(cat "$T/$f.pid")")
done
for _ in $(seq 100); do sinfo -h -o %t 2> /dev/null | grep -qx idle && break; sleep 0.2; done
sinfo

wait_job() { # wait_job JOBID: until it has left the queue
  for _ in $(seq 1500); do squeue -h -j "$1" 2> /dev/null | grep -q . || return 0; sleep 0.2; done
  echo "job $1 still queued after 300 s"; squeue; exit 1
}
ARGS=(--preset tutorial --runs "Constant Learning Rate" "One Cycle LR Scheduler Batches" "Cyclic LR Scheduler Batches"
  --seeds 2 --epochs 2 --subset 6400 --test-subset 1000)
compare() { # compare DIR_A DIR_B: the learned part of every result is equal
  python3 - "$1/results.json" "$2/results.json" << 'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
key = lambda r: (r["name"], r["seed"])
learned = lambda d: sorted((key(r), r["epochs"], r["final_accuracy"]) for r in d["runs"])
assert len(a["runs"]) == 6, len(a["runs"])
assert learned(a) == learned(b), "merged sweep differs from the unsharded bench"
assert not b["missing"], b["missing"]
print(f"equal: {len(a['runs'])} pairs, final accuracies {sorted(r['final_accuracy'] for r in a['runs'])}")
PY
}

step "the unsharded reference"
HOST_TRAIN_NO_PROGRESS=1 "$HOST_TRAIN" bench "${ARGS[@]}" --threads 1 --no-plots --out "$T/reference" 2> "$T/reference.log"

step "1. a sweep of 3 array tasks and its merge job"
host-train/slurm/submit.sh --shards 3 --out "$T/sweep1" -- "${ARGS[@]}"
. "$T/sweep1/slurm.env"
wait_job "$MERGE_JOB"
compare "$T/reference" "$T/sweep1/all"
ls "$T/sweep1/logs"

step "2. cancel array task 1 mid-run, resubmit it"
host-train/slurm/submit.sh --shards 3 --out "$T/sweep2" -- "${ARGS[@]}"
. "$T/sweep2/slurm.env"
for _ in $(seq 3000); do
  ls "$T"/sweep2/shard1/runs/*/state.json > /dev/null 2>&1 && break
  sleep 0.1
done
scancel "${ARRAY_JOB}_1"
wait_job "${ARRAY_JOB}_1"
[ ! -f "$T/sweep2/shard1/results.json" ] || { echo "task 1 finished before the cancel: nothing was tested"; exit 1; }
echo "task 1 cancelled after $(ls "$T"/sweep2/shard1/runs/*/state.json | wc -l) checkpoint(s)"
host-train/slurm/submit.sh --resubmit 1 --out "$T/sweep2"
. "$T/sweep2/slurm.env"
wait_job "$MERGE_JOB"
grep -q "task 1/3 .*: --resume" "$T/sweep2/logs/shard1.log" || { echo "the resubmitted task did not resume"; exit 1; }
compare "$T/reference" "$T/sweep2/all"

step "3. bad input is refused before anything is submitted"
before=$(squeue -h | wc -l)
if out=$(host-train/slurm/submit.sh --shards 3 --out "$T/bad" -- --preset tutorial --runs nope 2>&1); then
  echo "accepted an unknown run"; exit 1
fi
echo "$out" | grep -q "unknown run" || { echo "unexpected: $out"; exit 1; }
mkdir -p "$T/no-slurm"
ln -s "$(command -v dirname)" "$T/no-slurm/dirname"
if out=$(PATH=$T/no-slurm "$BASH" host-train/slurm/submit.sh --shards 3 --out "$T/bad" -- --preset tutorial 2>&1); then
  echo "ran without sbatch"; exit 1
fi
echo "$out" | grep -q "sbatch is not on the PATH" || { echo "unexpected: $out"; exit 1; }
[ "$(squeue -h | wc -l)" = "$before" ] || { echo "something was submitted"; exit 1; }
step "passed"
