#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and the CUDA toolkit (nvcc on the PATH): builds host-train with
# `--features cuda`, runs the PyTorch training-trajectory test on the GPU (it must not skip), then a short
# benchmark: the tutorial's 14 runs for one epoch on --device cuda, printing model-images/s and the peak
# GPU memory seen by nvidia-smi. A few minutes in all.
#   scripts/gpu-check.sh [SUBSET]      (default 12800 training images)
# CUDA_COMPUTE_CAP defaults to the GPU's (nvidia-smi); set it to build for another.
set -euo pipefail
cd "$(dirname "$0")/.."
SUBSET=${1:-12800}
command -v nvidia-smi > /dev/null || { echo "gpu-check: no nvidia-smi: not a machine with an NVIDIA GPU" >&2; exit 2; }
command -v nvcc > /dev/null || { echo "gpu-check: nvcc is not on the PATH (the CUDA toolkit)" >&2; exit 2; }
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader
export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n1 | tr -d .)}

echo "== build (--features cuda, compute capability $CUDA_COMPUTE_CAP)"
cargo build --release -p host-train --features cuda

echo "== training trajectory against PyTorch, on the GPU"
HOST_TRAIN_REQUIRE_CUDA=1 cargo test --release -p host-train --features cuda --test trajectory -- --nocapture

echo "== one epoch of the tutorial's 14 runs on the GPU ($SUBSET images)"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"; kill "${SMI:-0}" 2> /dev/null || true' EXIT
nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$OUT/mem.csv" &
SMI=$!
HOST_TRAIN_NO_PROGRESS=1 target/release/host-train bench --preset tutorial --device cuda --epochs 1 \
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
