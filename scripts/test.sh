#!/usr/bin/env bash
# Every test of the project, from a fresh Debian machine with rustup: installs what it needs
# (Rust components and targets, Debian packages, npm packages, defmt-print, wasm-bindgen-cli),
# then checks formatting, lints, the host tests (golden suite against PyTorch's values), the
# no_std builds of sched-core for each target and feature set, the firmware under QEMU, the
# WASM page in headless Chromium, host-train cross-built for aarch64 and tested under QEMU, and a
# host-train sweep on a single-node Slurm. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

step "toolchain: rustfmt, clippy, targets"
rustup component add rustfmt clippy >/dev/null
rustup target add wasm32-unknown-unknown thumbv7em-none-eabihf >/dev/null

step "system packages"
need=()
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
if [ ${#need[@]} -gt 0 ]; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}"
fi

step "cargo fmt --check"
cargo fmt --all -- --check
(cd firmware-example && cargo fmt -- --check)
(cd fuzz && cargo fmt -- --check)

step "clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p sched-core --all-targets --all-features -- -D warnings
cargo clippy -p sched-adapters --all-targets --all-features -- -D warnings

step "docs build without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc -q -p sched-core --no-deps --all-features
RUSTDOCFLAGS="-D warnings" cargo doc -q -p sched-adapters --no-deps --all-features
RUSTDOCFLAGS="-D warnings" cargo doc -q -p host-train --no-deps

step "host tests (sched-adapters: burn and candle training loops)"
cargo test --workspace --features sched-adapters/burn,sched-adapters/candle
cargo test -p sched-core --all-features

step "golden suite: max relative error per case against PyTorch and the other libraries"
cargo test -p sched-core --features serde --test golden error_table -- --nocapture

step "sched-core no_std builds, every feature set, thumbv7em-none-eabihf and wasm32-unknown-unknown"
for target in thumbv7em-none-eabihf wasm32-unknown-unknown; do
  for features in "" serde defmt serde,defmt expr expr,serde,defmt libraries serde,libraries; do
    echo "sched-core --target $target --features '$features'"
    cargo build -q -p sched-core --lib --no-default-features --features "$features" --target "$target"
  done
done

step "published crates: cargo publish --dry-run, and each crate's rust-version"
# One invocation packages both: sched-adapters is verified against the packaged sched-core.
# --allow-dirty: the check is that the packages build, also from a tree with local changes.
cargo publish --dry-run --allow-dirty -p sched-core -p sched-adapters
rust_version() {
  cargo metadata --no-deps --format-version 1 |
    python3 -c 'import json, sys; print(next(p["rust_version"] for p in json.load(sys.stdin)["packages"] if p["name"] == sys.argv[1]))' "$1"
}
core_msrv=$(rust_version sched-core)
adapters_msrv=$(rust_version sched-adapters)
rustup toolchain install "$core_msrv" "$adapters_msrv" --profile minimal >/dev/null
for features in --no-default-features --all-features; do
  cargo "+$core_msrv" check -q -p sched-core --lib "$features" --target-dir target/msrv
done
cargo "+$adapters_msrv" check -q -p sched-adapters --lib --all-features --target-dir target/msrv

step "benchmarks compile"
cargo bench -p sched-core --bench step --no-run

step "firmware-example under QEMU"
firmware-example/test.sh
(cd firmware-example && cargo clippy -q --release --bins -- -D warnings)
(cd firmware-example && cargo clippy -q --release --bins --no-default-features --target-dir target/no-expr -- -D warnings)

step "wasm-demo in headless Chromium"
wasm-demo/test.sh
cargo clippy -q -p wasm-demo --target wasm32-unknown-unknown -- -D warnings

step "host-train for aarch64: cross-built; kernel tests (NEON, portable) and the trajectory test (NEON) under qemu-aarch64"
scripts/aarch64-test.sh

step "host-train sweep on a real single-node Slurm (submit, cancel, resubmit, merge)"
host-train/slurm/test.sh

step "host-train --features cuda builds with no GPU (NVIDIA's CUDA 13.0 wheels, scripts/cuda-build.sh)"
scripts/cuda-build.sh

step "all tests passed"
