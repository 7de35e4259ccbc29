#!/usr/bin/env bash
# Builds host-train with `--features cuda` (candle's CUDA backend) on a machine with no GPU, no NVIDIA
# driver and no CUDA install. The CUDA 13.0 toolchain comes from NVIDIA's Python wheels, pinned
# below, installed once into a venv under $CUDA_TOOLCHAIN (default ~/.cache/sched-cuda/13.0.2, reused
# while the pins are unchanged). The build goes to the user's cache too, ~/.cache/sched-cuda/target
# ($CUDA_TARGET_DIR), apart from the CPU build's target/: a fresh clone (CI's) then rebuilds only what
# changed (host-train and sched-core: 42 s in CI on a 2-core Zen 3) instead of candle's CUDA kernels. About 17 minutes
# from nothing on 2 busy cores, 10 of them nvcc compiling candle's kernels (mostly its quantized/MoE
# ones, which host-train does not use but cannot leave out).
#   scripts/cuda-build.sh          set up (if needed), build $CUDA_TARGET_DIR/release/host-train
#   scripts/cuda-build.sh --tests  the same, then compile its tests too (the CUDA trajectory test among
#                                  them): as long again, since the dev-dependencies change the features
#                                  of serde and syn, and so rebuild candle and rerun its nvcc compiles
#   scripts/cuda-build.sh --env    set up (if needed), print the build's environment for `eval`, stop
#
# Why CUDA 13 wheels: the CUDA 12 wheel nvidia-cuda-nvcc-cu12 (every 12.x release) holds ptxas and
# libnvvm but not nvcc, cicc or the crt headers, so it cannot compile candle's kernels; the CUDA 13
# wheels (nvidia-cuda-nvcc, nvidia-cuda-crt, nvidia-nvvm) are a whole compiler. 13.0 is the oldest
# 13.x: its PTX is loaded by any driver from R580 on (a newer toolkit's PTX needs a newer driver).
#
# CUDA_COMPUTE_CAP (default 90: H100/H200, the GPUs this project is checked on) picks the PTX that
# candle's kernels are compiled to; set, it stops cudaforge from asking nvidia-smi. cudaforge turns 90
# into compute_90a, PTX for Hopper alone; 80 gives compute_80, which every GPU from the A100 on
# (Hopper and Blackwell too) compiles at load time. gpu-check.sh passes the GPU's own.
#
# Linking without a driver: cudarc (candle's CUDA bindings) links libcuda.so, the driver, which no
# wheel ships. A stub libcuda.so with soname libcuda.so.1, defining every cu* function cudarc
# declares, is built into $CU/lib/stubs for the linker only: the binary records NEEDED libcuda.so.1,
# which on a GPU machine is the driver's (no file of that name is in any path the binary searches).
# The binary's RUNPATH is the venv's lib folder, for libcudart/libcublas/libcublasLt/libcurand/
# libnvrtc; on another machine set LD_LIBRARY_PATH to a folder holding CUDA 13 libraries of those names.
# Such a binary does not start at all where there is no driver (libcuda.so.1 not found), even for
# --device cpu: use the ordinary build there.
set -euo pipefail
cd "$(dirname "$0")/.."

WHEELS=(
  nvidia-cuda-nvcc==13.0.88 nvidia-cuda-crt==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-cccl==13.0.85
  nvidia-cuda-runtime==13.0.96 nvidia-cuda-nvrtc==13.0.88 nvidia-cublas==13.1.0.3 nvidia-curand==10.4.0.35
)
CUDA_TOOLCHAIN=${CUDA_TOOLCHAIN:-${XDG_CACHE_HOME:-$HOME/.cache}/sched-cuda/13.0.2}
export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-90}
export CARGO_TARGET_DIR=${CUDA_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sched-cuda/target}
log() { printf '%s cuda-build: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# The toolchain: a venv with the pinned wheels, made into a CUDA_HOME-shaped tree (nvidia/cu13).
VENV=$CUDA_TOOLCHAIN/venv
STAMP=$CUDA_TOOLCHAIN/installed
if [ "$(cat "$STAMP" 2>/dev/null)" != "${WHEELS[*]}" ]; then
  log "installing the CUDA wheels into $VENV"
  start=$SECONDS
  rm -rf "$CUDA_TOOLCHAIN"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-cache-dir --no-deps --only-binary=:all: "${WHEELS[@]}"
  echo "${WHEELS[*]}" > "$STAMP"
  log "wheels installed in $((SECONDS - start)) s ($(du -sh "$VENV" | cut -f1))"
fi
CU=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/nvidia/cu13
# nvcc.profile looks for headers under targets/x86_64-linux/include, as in a toolkit install.
mkdir -p "$CU/targets"
ln -sfn .. "$CU/targets/x86_64-linux"
# The linker's names (-lcublas) for the wheels' versioned libraries.
for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libnvrtc.so.13; do
  [ -e "$CU/lib/$lib" ] || { log "missing $CU/lib/$lib"; exit 1; }
  ln -sfn "$lib" "$CU/lib/${lib%.so.*}.so"
done

export PATH="$CU/bin:$PATH" NVCC="$CU/bin/nvcc" CUDA_HOME="$CU"
unset CUDA_PATH CUDA_ROOT CUDA_TOOLKIT_ROOT_DIR CUDNN_LIB CUDARC_CUDA_VERSION
export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-rpath,$CU/lib"

# The link-time stub of the driver, from the cu* functions of the cudarc that Cargo.lock selects.
CUDARC=$(cargo metadata --format-version 1 --features host-train/cuda --manifest-path Cargo.toml |
  python3 -c 'import json, sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"] == "cudarc"))')
CUDARC=$(dirname "$CUDARC")
if [ "$(cat "$CU/lib/stubs/from" 2>/dev/null)" != "$CUDARC" ]; then
  mkdir -p "$CU/lib/stubs"
  grep -ohE '^pub unsafe fn cu[A-Za-z0-9_]+' "$CUDARC/src/driver/sys/mod.rs" | sed 's/^pub unsafe fn //' |
    sort -u | sed 's/.*/void &(void) {}/' > "$CU/lib/stubs/libcuda-stub.c"
  cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$CU/lib/stubs/libcuda.so" "$CU/lib/stubs/libcuda-stub.c"
  echo "$CUDARC" > "$CU/lib/stubs/from"
  log "driver stub: $(wc -l < "$CU/lib/stubs/libcuda-stub.c") functions from $CUDARC"
fi

if [ "${1:-}" = --env ]; then
  for v in PATH NVCC CUDA_HOME RUSTFLAGS CUDA_COMPUTE_CAP CARGO_TARGET_DIR; do
    printf 'export %s=%q\n' "$v" "${!v}"
  done
  echo "unset CUDA_PATH CUDA_ROOT CUDA_TOOLKIT_ROOT_DIR CUDNN_LIB CUDARC_CUDA_VERSION"
  exit 0
fi

log "$(nvcc --version | tail -n 2 | head -n 1); compute capability $CUDA_COMPUTE_CAP; target dir $CARGO_TARGET_DIR"
start=$SECONDS
cargo build --release -p host-train --features cuda
log "build: $((SECONDS - start)) s"
if [ "${1:-}" = --tests ]; then
  start=$SECONDS
  cargo test --release -p host-train --features cuda --no-run
  log "tests compiled: $((SECONDS - start)) s"
fi

BIN=$CARGO_TARGET_DIR/release/host-train
dynamic=$(readelf -d "$BIN")
grep -E 'NEEDED|RUNPATH|RPATH' <<< "$dynamic" >&2
grep -q 'NEEDED.*\[libcuda\.so\.1\]' <<< "$dynamic" || { log "the binary does not need libcuda.so.1"; exit 1; }
# Every library but the driver resolves (through the RUNPATH); the driver does where there is one.
missing=$(ldd "$BIN" | awk '/not found/ {print $1}' | tr '\n' ' ')
case "$missing" in "" | "libcuda.so.1 ") ;; *) log "unresolved libraries: $missing"; exit 1 ;; esac
# It starts (all its cu* functions are in the stub, so the driver's names are bound) and answers --help.
stub=$(mktemp -d)
trap 'rm -rf "$stub"' EXIT
ln -s "$CU/lib/stubs/libcuda.so" "$stub/libcuda.so.1"
LD_LIBRARY_PATH=$stub "$BIN" --help > /dev/null
log "ok: $BIN ($(du -h "$BIN" | cut -f1))"
