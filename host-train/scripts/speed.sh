#!/usr/bin/env bash
# Side-by-side speed: the study's CNN in PyTorch (scripts/pytorch_reference.py) and in host-train, run
# alternately ROUNDS times on the same data subset, same machine, same threads. Each round runs:
#   PyTorch, one model | host-train --fuse 1, one model | host-train, the tutorial's 14 runs fused
# and prints train and eval images/s (model-images/s for the fused group), the ratios to PyTorch, and
# the fused run's peak memory (maximum resident set size of the whole process).
#   PYTHON=<venv with torch>/bin/python host-train/scripts/speed.sh [ROUNDS] [SUBSET] [THREADS]
# Needs: a release build of host-train (cargo build --release -p host-train), python3 with torch + numpy,
# GNU time (/usr/bin/time).
set -euo pipefail
ROUNDS=${1:-3}
SUBSET=${2:-12800}
THREADS=${3:-$(nproc)}
PYTHON=${PYTHON:-python3}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${HOST_TRAIN:-${CARGO_TARGET_DIR:-$HERE/../../target}/release/host-train}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pt_tr=(); pt_ev=(); one_tr=(); one_ev=(); fu_tr=(); fu_ev=(); fu_mem=()
# num FILE KEY: the first run's KEY, times the run's fused group size for *_per_sec keys.
num() { "$PYTHON" -c "
import json,sys; d=json.load(open(sys.argv[1])); r=d['runs'][0] if 'runs' in d else d
k=sys.argv[2]; print(r[k]*(r.get('fused',1) if k.endswith('per_sec') else 1))" "$@"; }
for r in $(seq 1 "$ROUNDS"); do
  "$PYTHON" "$HERE/pytorch_reference.py" --subset "$SUBSET" --epochs 1 --threads "$THREADS" > "$TMP/pt.json"
  pt_tr+=("$(num "$TMP/pt.json" train_images_per_sec)"); pt_ev+=("$(num "$TMP/pt.json" eval_images_per_sec)")
  HOST_TRAIN_NO_PROGRESS=1 "$BIN" bench --preset tutorial --runs "Constant Learning Rate" --subset "$SUBSET" \
      --epochs 1 --threads "$THREADS" --fuse 1 --no-plots --out "$TMP/one$r" > /dev/null 2>&1
  one_tr+=("$(num "$TMP/one$r/results.json" train_images_per_sec)"); one_ev+=("$(num "$TMP/one$r/results.json" eval_images_per_sec)")
  HOST_TRAIN_NO_PROGRESS=1 /usr/bin/time -f %M -o "$TMP/mem" "$BIN" bench --preset tutorial --subset "$SUBSET" \
      --epochs 1 --threads "$THREADS" --no-plots --out "$TMP/fused$r" > /dev/null 2>&1
  fu_tr+=("$(num "$TMP/fused$r/results.json" train_images_per_sec)"); fu_ev+=("$(num "$TMP/fused$r/results.json" eval_images_per_sec)")
  fu_mem+=("$(tail -n 1 "$TMP/mem")")
  printf 'round %d: pytorch train %.0f eval %.0f | host-train --fuse 1 train %.0f eval %.0f | fused 14 train %.0f eval %.0f model-img/s, %d MiB\n' "$r" \
      "${pt_tr[-1]}" "${pt_ev[-1]}" "${one_tr[-1]}" "${one_ev[-1]}" "${fu_tr[-1]}" "${fu_ev[-1]}" "$((fu_mem[-1] / 1024))"
done
"$PYTHON" - "${pt_tr[*]}" "${pt_ev[*]}" "${one_tr[*]}" "${one_ev[*]}" "${fu_tr[*]}" "${fu_ev[*]}" "${fu_mem[*]}" "$SUBSET" "$THREADS" <<'PY'
import statistics as s, sys
pt_tr, pt_ev, one_tr, one_ev, fu_tr, fu_ev, mem = ([float(x) for x in a.split()] for a in sys.argv[1:8])
m = s.median
print(f"\nmedian of {len(pt_tr)} alternating rounds, {sys.argv[8]} training images, batch 128, {sys.argv[9]} threads:\n")
print("| | PyTorch 1 model | host-train --fuse 1 | ratio | host-train 14 fused (model-img/s) | ratio |")
print("|---|---:|---:|---:|---:|---:|")
print(f"| train img/s | {m(pt_tr):.0f} | {m(one_tr):.0f} | {m(one_tr)/m(pt_tr):.2f}x | {m(fu_tr):.0f} | {m(fu_tr)/m(pt_tr):.2f}x |")
print(f"| eval img/s | {m(pt_ev):.0f} | {m(one_ev):.0f} | {m(one_ev)/m(pt_ev):.2f}x | {m(fu_ev):.0f} | {m(fu_ev)/m(pt_ev):.2f}x |")
print(f"\nfused 14-model process: peak resident memory {max(mem)/1024:.0f} MiB")
PY
