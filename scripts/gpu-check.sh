#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: builds host-train with `--features cuda` (with the CUDA toolkit
# whose nvcc is on the PATH, or else with scripts/cuda-build.sh's CUDA 13.0 wheels, which need a
# driver from R580 on), runs the PyTorch training-trajectory test on the GPU (it must not skip), then a short
# benchmark: the tutorial's 14 runs for one epoch on --device cuda, printing model-images/s and the peak
# GPU memory seen by nvidia-smi. A few minutes in all.
#   scripts/gpu-check.sh [SUBSET]      (default 12800 training images)
# CUDA_COMPUTE_CAP defaults to the GPU's (nvidia-smi); set it to build for another.
set -euo pipefail
cd "$(dirname "$0")/.."
SUBSET=${1:-12800}
command -v nvidia-smi > /dev/null || { echo "gpu-check: no nvidia-smi: not a machine with an NVIDIA GPU" >&2; exit 2; }
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader
export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n1 | tr -d .)}
if ! command -v nvcc > /dev/null; then
  echo "gpu-check: no nvcc on the PATH: the CUDA 13.0 wheels of scripts/cuda-build.sh (built in ~/.cache/sched-cuda/target)"
  eval "$(scripts/cuda-build.sh --env)"
fi
BIN=${CARGO_TARGET_DIR:-target}/release/host-train

echo "== build (--features cuda, compute capability $CUDA_COMPUTE_CAP)"
cargo build --release -p host-train --features cuda

echo "== training trajectory against PyTorch, on the GPU"
HOST_TRAIN_REQUIRE_CUDA=1 cargo test --release -p host-train --features cuda --test trajectory -- --nocapture

echo "== one epoch of the tutorial's 14 runs on the GPU ($SUBSET images)"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"; kill "${SMI:-0}" 2> /dev/null || true' EXIT
nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$OUT/mem.csv" &
SMI=$!
HOST_TRAIN_NO_PROGRESS=1 "$BIN" bench --preset tutorial --device cuda --epochs 1 \
  --subset "$SUBSET" --no-plots --out "$OUT/bench"
kill "$SMI" 2> /dev/null || true
python3 - "$OUT/bench/results.json" "$OUT/mem.csv" << 'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["runs"]
r = runs[0]
k = r.get("fused", 1)
mem = [int(l) for l in open(sys.argv[2]) if l.strip().isdigit()]
print(f"{len(runs)} models: train {k * r['train_images_per_sec']:.0f} model-img/s, "
      f"eval {k * r['eval_images_per_sec']:.0f} model-img/s, peak GPU memory {max(mem, default=0)} MiB")
PY
