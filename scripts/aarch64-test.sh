#!/usr/bin/env bash
# host-train on aarch64 (ARM: Apple Silicon under Linux, AWS Graviton, Ampere, Raspberry Pi 5), without
# an ARM machine: cross-builds it for aarch64-unknown-linux-gnu with Debian's gcc-aarch64-linux-gnu (the
# linker and the target's C library) and runs its unit tests (the kernels on NEON and on the portable
# path, against the definition) and the PyTorch trajectory test under qemu-aarch64 user
# mode (Debian's qemu-user): the study's network on NEON (QEMU makes a training step ~100 times slower,
# so the portable path and the second network's fixture, both checked natively on x86, are left out
# here). Installs what it needs; prints the time each part took.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
log() { printf '%s aarch64-test: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

TARGET=aarch64-unknown-linux-gnu
if ! command -v aarch64-linux-gnu-gcc > /dev/null || ! command -v qemu-aarch64 > /dev/null; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq gcc-aarch64-linux-gnu qemu-user
fi
rustup target add "$TARGET" > /dev/null

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
# cargo runs the test binaries through it, and assert_cmd the host-train binary they start.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"

start=$SECONDS
cargo test -q -p host-train --target "$TARGET" --no-run
log "cross-build: $((SECONDS - start)) s"
start=$SECONDS
cargo test -q -p host-train --target "$TARGET" --lib -- --nocapture
log "unit tests (kernels on neon and portable) under qemu: $((SECONDS - start)) s"
start=$SECONDS
HOST_TRAIN_TEST_ISAS=neon HOST_TRAIN_TEST_CONVOLUTIONS=winograd cargo test -q -p host-train --target "$TARGET" --test trajectory \
  training_follows_pytorch_step_by_step -- --nocapture
log "PyTorch trajectory test (neon) under qemu: $((SECONDS - start)) s"
