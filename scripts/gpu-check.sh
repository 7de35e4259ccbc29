#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: builds host-train with `--features cuda` (with the CUDA toolkit
# whose nvcc is on the PATH, or else with scripts/cuda-build.sh's CUDA 13.0 wheels, which need a
# driver from R580 on), runs the PyTorch training-trajectory test on the GPU (it must not skip: every
# fixture, the study's network, [64, 32, 16] and the other optimizers), then a short benchmark on
# --device cuda against PyTorch on the same GPU: one model for 2 epochs in each, alternating, then the
# tutorial's runs for one epoch, printing model-images/s and the peak GPU memory seen by nvidia-smi; and,
# where PYTHON has torch and safetensors, the per-step gradients of the study fixture's sgd-momentum run
# on the GPU against float64 (tests/golden/trajectory/gradient_check.py). A few minutes in all; exits
# non-zero at the end if the trajectory test failed.
#   scripts/gpu-check.sh [SUBSET]      (default 12800 training images)
# CUDA_COMPUTE_CAP defaults to the GPU's (nvidia-smi); set it to build for another.
# PREBUILT=DIR skips the build (for a GPU machine without Rust): DIR holds the `--features cuda` binary
# `host-train` and the trajectory test binary `deps/trajectory` (from `scripts/cuda-build.sh --tests`);
# set LD_LIBRARY_PATH to CUDA 13 libraries if those the binary was linked with are not there.
# PYTHON (default python3): a python with torch for the comparison; without torch it is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
SUBSET=${1:-12800}
TRAJECTORY=0
PYTHON=${PYTHON:-python3}
command -v nvidia-smi > /dev/null || { echo "gpu-check: no nvidia-smi: not a machine with an NVIDIA GPU" >&2; exit 2; }
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader

if [ -n "${PREBUILT:-}" ]; then
  BIN=$PREBUILT/host-train
  echo "== prebuilt: $BIN"
  echo "== training trajectory against PyTorch, on the GPU"
  # The test finds its fixtures at its compile-time CARGO_MANIFEST_DIR and host-train at ../host-train.
  HOST_TRAIN_REQUIRE_CUDA=1 "$PREBUILT/deps/trajectory" cuda_training --nocapture || TRAJECTORY=$?
else
  export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n1 | tr -d .)}
  if ! command -v nvcc > /dev/null; then
    echo "gpu-check: no nvcc on the PATH: the CUDA 13.0 wheels of scripts/cuda-build.sh (built in ~/.cache/sched-cuda/target)"
    eval "$(scripts/cuda-build.sh --env)"
  fi
  BIN=${CARGO_TARGET_DIR:-target}/release/host-train
  echo "== build (--features cuda, compute capability $CUDA_COMPUTE_CAP)"
  cargo build --release -p host-train --features cuda
  echo "== training trajectory against PyTorch, on the GPU"
  HOST_TRAIN_REQUIRE_CUDA=1 cargo test --release -p host-train --features cuda --test trajectory -- cuda_training --nocapture ||
    TRAJECTORY=$?
fi

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"; kill "${SMI:-0}" 2> /dev/null || true' EXIT
# rate FILE: models, train and eval model-images/s of a results.json or pytorch_reference.py's JSON.
rate() { python3 -c "
import json, sys
d = json.load(open(sys.argv[1])); runs = d.get('runs', [d]); k = runs[0].get('fused', 1)
print(len(runs), k * runs[0]['train_images_per_sec'], k * runs[0]['eval_images_per_sec'])" "$1"; }
PT=$("$PYTHON" -c 'import torch' 2> /dev/null && echo 1 || echo "")

echo "== one model for 2 epochs of $SUBSET images on the GPU, alternating: PyTorch, host-train (--fuse 1)"
for r in 1 2; do
  if [ -n "$PT" ]; then
    "$PYTHON" host-train/scripts/pytorch_reference.py --subset "$SUBSET" --epochs 2 --device cuda > "$OUT/pt$r.json"
    read -r _ tr ev <<< "$(rate "$OUT/pt$r.json")"
    printf 'round %s: PyTorch    train %6.0f img/s, eval %6.0f img/s\n' "$r" "$tr" "$ev"
  fi
  HOST_TRAIN_NO_PROGRESS=1 "$BIN" bench --preset tutorial --runs "Constant Learning Rate" --device cuda \
    --epochs 2 --subset "$SUBSET" --fuse 1 --no-plots --out "$OUT/one$r" > /dev/null
  read -r _ tr ev <<< "$(rate "$OUT/one$r/results.json")"
  printf 'round %s: host-train train %6.0f img/s, eval %6.0f img/s\n' "$r" "$tr" "$ev"
done
[ -n "$PT" ] || echo "(no torch in $PYTHON: PyTorch's side skipped)"

echo "== one epoch of the tutorial's runs on the GPU ($SUBSET images)"
nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$OUT/mem.csv" &
SMI=$!
HOST_TRAIN_NO_PROGRESS=1 "$BIN" bench --preset tutorial --device cuda --epochs 1 \
  --subset "$SUBSET" --no-plots --out "$OUT/bench" > /dev/null
kill "$SMI" 2> /dev/null || true
read -r n tr ev <<< "$(rate "$OUT/bench/results.json")"
mem=$(python3 -c "import sys; print(max([int(l) for l in open(sys.argv[1]) if l.strip().isdigit()], default=0))" "$OUT/mem.csv")
printf '%s models: train %.0f model-img/s, eval %.0f model-img/s, peak GPU memory %s MiB\n' "$n" "$tr" "$ev" "$mem"

if "$PYTHON" -c 'import torch, safetensors' 2> /dev/null; then
  echo "== per-step gradients on the GPU against float64 (the study fixture's sgd-momentum run)"
  "$PYTHON" tests/golden/trajectory/gradient_check.py --bin "$BIN" --device cuda --steps 36
fi
[ "$TRAJECTORY" = 0 ] || echo "gpu-check: the trajectory test failed (exit $TRAJECTORY)" >&2
exit "$TRAJECTORY"
