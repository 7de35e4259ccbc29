#!/usr/bin/env bash
# Side-by-side training speed per optimizer: the study's CNN in PyTorch (scripts/pytorch_reference.py
# --optimizer, with torch.optim / the schedulefree package) and in host-train (one model, --fuse 1, the
# fastest kernel path), each optimizer alternating PyTorch and host-train, ROUNDS times, on the same data
# subset, machine and threads. Prints the CPU and the medians of train and eval images/s with the ratios.
#   PYTHON=<a python with torch, numpy, schedulefree> host-train/scripts/optimizer-speed.sh [ROUNDS] [SUBSET] [THREADS]
# Needs a release build of host-train (cargo build --release -p host-train).
set -euo pipefail
ROUNDS=${1:-3}
SUBSET=${2:-12800}
THREADS=${3:-$(nproc)}
PYTHON=${PYTHON:-python3}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${HOST_TRAIN:-${CARGO_TARGET_DIR:-$HERE/../../target}/release/host-train}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# name|optimizer table (JSON, also valid TOML inline-table values once ':' becomes '=')|lr
OPTIMIZERS=(
  'SGD|{"kind": "SGD", "momentum": 0.9}|0.01'
  'AdamW|{"kind": "AdamW"}|0.001'
  'SGDScheduleFree|{"kind": "SGDScheduleFree"}|0.1'
  'AdamWScheduleFree|{"kind": "AdamWScheduleFree"}|0.001'
)
model=$(grep -m1 -E '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || uname -m)
echo "CPU: $model, $(nproc) cores; vector flags: $(grep -m1 -oE '^(flags|Features)\s*:.*' /proc/cpuinfo | grep -oE '\b(avx2|fma|avx512f|avx512vl|asimd)\b' | sort -u | tr '\n' ' ')"
num() { "$PYTHON" -c "import json,sys; d=json.load(open(sys.argv[1])); r=d['runs'][0] if 'runs' in d else d; print(r[sys.argv[2]])" "$@"; }
: > "$TMP/rounds"
for r in $(seq 1 "$ROUNDS"); do
  for entry in "${OPTIMIZERS[@]}"; do
    IFS='|' read -r name table lr <<< "$entry"
    "$PYTHON" "$HERE/pytorch_reference.py" --subset "$SUBSET" --epochs 1 --threads "$THREADS" --lr "$lr" \
        --optimizer "$table" > "$TMP/pt.json"
    printf 'epochs = 1\nbatch_size = 128\nseed = 42\n\n[[run]]\nname = "%s"\nlr = %s\noptimizer = %s\nstep = "batch"\nschedule = { kind = "Fixed" }\n' \
        "$name" "$lr" "$(sed 's/": /" = /g; s/"\([a-z_]*\)" =/\1 =/g' <<< "$table")" > "$TMP/$name.toml"
    HOST_TRAIN_NO_PROGRESS=1 "$BIN" bench --config "$TMP/$name.toml" --subset "$SUBSET" --epochs 1 \
        --threads "$THREADS" --fuse 1 --no-plots --out "$TMP/ht-$name-$r" > /dev/null 2>&1
    echo "$name $(num "$TMP/pt.json" train_images_per_sec) $(num "$TMP/pt.json" eval_images_per_sec) $(num "$TMP/ht-$name-$r/results.json" train_images_per_sec) $(num "$TMP/ht-$name-$r/results.json" eval_images_per_sec) $(num "$TMP/ht-$name-$r/results.json" kernels)" | tee -a "$TMP/rounds" >&2
  done
done
"$PYTHON" - "$TMP/rounds" "$SUBSET" "$THREADS" <<'PY'
import statistics as s, sys
rows = [l.split() for l in open(sys.argv[1])]
names = list(dict.fromkeys(r[0] for r in rows))
print(f"\nmedian of {len(rows) // len(names)} alternating rounds, {sys.argv[2]} training images, batch 128, {sys.argv[3]} threads, one model:\n")
print("| optimizer | PyTorch train img/s | host-train train img/s | ratio | PyTorch eval img/s | host-train eval img/s | ratio | kernels |")
print("|---|---:|---:|---:|---:|---:|---:|---|")
for n in names:
    mine = [r for r in rows if r[0] == n]
    m = [s.median(float(r[i]) for r in mine) for i in range(1, 5)]
    print(f"| {n} | {m[0]:.0f} | {m[2]:.0f} | {m[2] / m[0]:.2f}x | {m[1]:.0f} | {m[3]:.0f} | {m[3] / m[1]:.2f}x | {mine[0][5]} |")
PY
