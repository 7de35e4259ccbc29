#!/usr/bin/env bash
# Side-by-side speed: the study's CNN in PyTorch (scripts/pytorch_reference.py) and in host-train, run
# alternately ROUNDS times on the same data subset; prints train and eval images/s and the ratios.
#   PYTHON=/root/torch-venv/bin/python host-train/scripts/speed.sh [ROUNDS] [SUBSET] [THREADS]
# Needs: a release build of host-train (cargo build --release -p host-train), python3 with torch + numpy.
set -euo pipefail
ROUNDS=${1:-3}
SUBSET=${2:-12800}
THREADS=${3:-$(nproc)}
PYTHON=${PYTHON:-python3}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${HOST_TRAIN:-${CARGO_TARGET_DIR:-$HERE/../../target}/release/host-train}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pt_tr=(); pt_ev=(); ht_tr=(); ht_ev=()
num() { "$PYTHON" -c "import json,sys; d=json.load(open(sys.argv[1])); d=d['runs'][0] if 'runs' in d else d; print(d[sys.argv[2]])" "$@"; }
for r in $(seq 1 "$ROUNDS"); do
  "$PYTHON" "$HERE/pytorch_reference.py" --subset "$SUBSET" --epochs 1 --threads "$THREADS" > "$TMP/pt.json"
  pt_tr+=("$(num "$TMP/pt.json" train_images_per_sec)"); pt_ev+=("$(num "$TMP/pt.json" eval_images_per_sec)")
  HOST_TRAIN_NO_PROGRESS=1 "$BIN" bench --preset tutorial --runs "Constant Learning Rate" --subset "$SUBSET" \
      --epochs 1 --threads "$THREADS" --out "$TMP/ht$r" > /dev/null 2>&1
  ht_tr+=("$(num "$TMP/ht$r/results.json" train_images_per_sec)"); ht_ev+=("$(num "$TMP/ht$r/results.json" eval_images_per_sec)")
  printf 'round %d: pytorch train %.0f eval %.0f | host-train train %.0f eval %.0f img/s\n' "$r" \
      "${pt_tr[-1]}" "${pt_ev[-1]}" "${ht_tr[-1]}" "${ht_ev[-1]}"
done
"$PYTHON" - "${pt_tr[*]}" "${pt_ev[*]}" "${ht_tr[*]}" "${ht_ev[*]}" "$SUBSET" "$THREADS" <<'PY'
import statistics as s, sys
pt_tr, pt_ev, ht_tr, ht_ev = ([float(x) for x in a.split()] for a in sys.argv[1:5])
m = s.median
print(f"\nmedian of {len(pt_tr)} alternating rounds, {sys.argv[5]} training images, batch 128, {sys.argv[6]} threads:\n")
print("| | PyTorch img/s | host-train img/s | host-train / PyTorch |")
print("|---|---|---|---|")
print(f"| train | {m(pt_tr):.0f} | {m(ht_tr):.0f} | {m(ht_tr)/m(pt_tr):.2f}x |")
print(f"| eval (test set, batch 256) | {m(pt_ev):.0f} | {m(ht_ev):.0f} | {m(ht_ev)/m(pt_ev):.2f}x |")
PY
