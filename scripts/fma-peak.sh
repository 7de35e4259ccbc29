#!/usr/bin/env bash
# Peak f32 FMA throughput of this machine for each vector width it has (scripts/fma-peak.c, built with
# the system cc), on THREADS threads (default: all cores), best of ROUNDS runs, and what it means for the
# study's CNN: one training image is 28.3 MFLOP (forward 4.80 M multiply-adds, weight gradient the same,
# input gradient 4.58 M: conv1 needs none), so peak GFLOP/s / 0.0283 is the bound on training images/s.
#   scripts/fma-peak.sh [THREADS] [ROUNDS]
# Prints one line per width: `<isa> <GFLOP/s> GFLOP/s on <n> threads = <img/s> training images/s at peak`.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
THREADS=${1:-$(nproc)}
ROUNDS=${2:-3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
flags=$(grep -m1 -oE '^(flags|Features)\s*:.*' /proc/cpuinfo || true)
widths=()
case "$(uname -m)" in
  x86_64)
    grep -qw avx512f <<< "$flags" && widths+=("avx512 64 -mavx512f -mfma")
    grep -qw avx2 <<< "$flags" && grep -qw fma <<< "$flags" && widths+=("avx2 32 -mavx2 -mfma")
    ;;
  aarch64) widths+=("neon 16") ;;
esac
for w in "${widths[@]}"; do
  read -r isa bytes cflags <<< "$w"
  # shellcheck disable=SC2086
  cc -O2 -ffp-contract=fast -pthread -DVBYTES="$bytes" $cflags -o "$TMP/$isa" "$HERE/fma-peak.c"
  best=0
  for _ in $(seq "$ROUNDS"); do
    g=$("$TMP/$isa" "$THREADS" | cut -d' ' -f1)
    best=$(python3 -c "print(max($best, $g))")
  done
  python3 -c "print(f'$isa {$best:.1f} GFLOP/s on $THREADS threads = {$best / 0.0283:.0f} training images/s at peak')"
done
