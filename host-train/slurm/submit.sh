#!/usr/bin/env bash
# Submits a host-train sweep to Slurm: an array job of N shards (sweep.sbatch, one `bench --shard I/N`
# per task, logs in OUT/logs/) and a merge job (merge.sbatch, `host-train report` into OUT/all) that
# runs once every shard has succeeded.
#
#   host-train/slurm/submit.sh --shards N --out DIR [--sbatch "EXTRA SBATCH OPTIONS"] -- BENCH ARGUMENTS...
#   host-train/slurm/submit.sh --resubmit I --out DIR      # rerun shard I (after scancel, a node failure,
#                                                          # a time limit); it resumes from its checkpoint
#
# e.g. host-train/slurm/submit.sh --shards 8 --out sweep -- --preset tutorial --seeds 5
# The bench arguments are checked with `host-train bench --dry-run` before anything is submitted.
# HOST_TRAIN names the binary (default: target/release/host-train next to this script's repository).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
HOST_TRAIN=${HOST_TRAIN:-$HERE/../../target/release/host-train}
die() { echo "submit.sh: $*" >&2; exit 2; }
shards="" out="" resubmit="" extra=""
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) shards=${2:-}; shift 2 ;;
    --out) out=${2:-}; shift 2 ;;
    --resubmit) resubmit=${2:-}; shift 2 ;;
    --sbatch) extra=${2:-}; shift 2 ;;
    --) shift; break ;;
    *) die "unknown option '$1' (see the header of $0)" ;;
  esac
done
command -v sbatch > /dev/null || die "sbatch is not on the PATH: run this on a Slurm login node"
[ -n "$out" ] || die "give --out DIR (the sweep folder, on a file system every node sees)"
[ -x "$HOST_TRAIN" ] || die "no host-train binary at $HOST_TRAIN: build it (cargo build --release -p host-train) or set HOST_TRAIN"
HOST_TRAIN=$(cd "$(dirname "$HOST_TRAIN")" && pwd)/$(basename "$HOST_TRAIN")
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)
env=(--export="ALL,HOST_TRAIN=$HOST_TRAIN,SWEEP_OUT=$out")
read -r -a extra_opts <<< "$extra"

if [ -n "$resubmit" ]; then
  [ -f "$out/slurm.env" ] || die "$out has no sweep to resubmit into (no slurm.env)"
  # shellcheck source=/dev/null
  . "$out/slurm.env"
  [[ "$resubmit" =~ ^[0-9]+$ ]] && [ "$resubmit" -lt "$SWEEP_SHARDS" ] ||
    die "--resubmit $resubmit: expected a shard index 0..$((SWEEP_SHARDS - 1))"
  env[0]+=",SWEEP_SHARDS=$SWEEP_SHARDS"
  task=$(sbatch --parsable --array="$resubmit" --output="$out/logs/shard%a.log" --open-mode=append \
    "${env[@]}" "${extra_opts[@]}" "$HERE/sweep.sbatch")
  # The old merge job waits on a task that will never succeed: replace it by one that waits on the new
  # task and on the other shards of the original array.
  scancel "$MERGE_JOB" 2> /dev/null || true
  deps="afterok:$task"
  for ((i = 0; i < SWEEP_SHARDS; i++)); do
    [ "$i" = "$resubmit" ] || deps+=":${ARRAY_JOB}_$i"
  done
  merge=$(sbatch --parsable --dependency="$deps" --output="$out/logs/merge.log" \
    "${env[@]}" "${extra_opts[@]}" "$HERE/merge.sbatch")
  sed -i "s/^MERGE_JOB=.*/MERGE_JOB=$merge/" "$out/slurm.env"
  echo "resubmitted shard $resubmit as job $task; merge job $merge"
  exit 0
fi

[[ "$shards" =~ ^[1-9][0-9]*$ ]] || die "give --shards N (N >= 1 array tasks)"
[ $# -gt 0 ] || die "give the bench arguments after --, e.g. -- --preset tutorial --seeds 3"
for a in "$@"; do
  case "$a" in --out | --shard | --resume | --threads | --no-plots) die "do not pass $a: the shard tasks set it" ;; esac
done
# Check the arguments (config, runs, data, --init, ...) before submitting anything.
"$HOST_TRAIN" bench "$@" --shard "0/$shards" --out "$out/shard0" --dry-run > /dev/null 2> "$out/logs/check.log" ||
  die "host-train bench rejected the arguments: $(grep -m1 . "$out/logs/check.log")"
printf '%s\0' "$@" > "$out/bench.args"
env[0]+=",SWEEP_SHARDS=$shards"
array=$(sbatch --parsable --array="0-$((shards - 1))" --output="$out/logs/shard%a.log" --open-mode=append \
  "${env[@]}" "${extra_opts[@]}" "$HERE/sweep.sbatch")
merge=$(sbatch --parsable --dependency="afterok:$array" --output="$out/logs/merge.log" \
  "${env[@]}" "${extra_opts[@]}" "$HERE/merge.sbatch")
printf 'SWEEP_SHARDS=%s\nARRAY_JOB=%s\nMERGE_JOB=%s\n' "$shards" "$array" "$merge" > "$out/slurm.env"
echo "submitted array job $array ($shards shards) and merge job $merge; results: $out/all/results.md"
