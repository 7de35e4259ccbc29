#!/usr/bin/env bash
# The main job: trains the study's CNN on the real Fashion-MNIST under the study's 14 LR
# schedules (host-train bench --preset tutorial), from a fresh Debian machine with rustup:
# installs the data set when missing, builds in release mode, and passes
# any extra arguments on (e.g. --epochs 3 --seeds 2 --out runs/quick; see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need=()
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || [ -n "${FASHION_MNIST_DIR:-}" ] || need+=(dataset-fashion-mnist)
if [ ${#need[@]} -gt 0 ]; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}"
fi

cargo build --release -p host-train
exec target/release/host-train bench --preset tutorial "$@"
