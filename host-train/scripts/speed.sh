#!/usr/bin/env bash
# Side-by-side speed: the study's CNN in PyTorch (scripts/pytorch_reference.py) and in host-train, run
# alternately ROUNDS times on the same data subset, same machine, same threads. Each round runs:
#   PyTorch, one model | for each kernel path: host-train --fuse 1, one model | host-train, the tutorial's
#   14 runs fused
# and prints the CPU (model name, vector flags), the peak FMA throughput (scripts/fma-peak.sh), train
# and eval images/s (model-images/s for the fused group) as medians, the ratios to PyTorch, each
# trainer's share of the FMA peak (28.3 MFLOP per training image), the fused run's peak memory, and the
# ratios paired round by round (median and range).
#   PYTHON=<a python with torch> host-train/scripts/speed.sh [ROUNDS] [SUBSET] [THREADS]
# ISAS="avx512 avx2" chooses the host-train paths (default: every one this CPU has but portable); an
# entry PATH/CONVOLUTION (e.g. avx512/direct) trains with --convolution CONVOLUTION (default winograd).
# "share of peak" counts the direct convolution's 28.3 MFLOP per image: with Winograd's fewer
# multiplications it is an effective rate, and may pass 100%.
# AVX2_ONLY=1 stands in for an AVX2-only machine on an AVX-512 one: host-train runs --isa avx2 (ISAS may
# add avx2/direct) and PyTorch
# is held to AVX2 as well (ATEN_CPU_CAPABILITY=avx2 for ATen's kernels, ONEDNN_MAX_CPU_ISA=AVX2 for
# oneDNN's convolutions), so neither side uses an AVX-512 instruction.
# Needs: a release build of host-train (cargo build --release -p host-train), python3 with torch + numpy,
# GNU time (/usr/bin/time), cc.
set -euo pipefail
ROUNDS=${1:-3}
SUBSET=${2:-12800}
THREADS=${3:-$(nproc)}
PYTHON=${PYTHON:-python3}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${HOST_TRAIN:-${CARGO_TARGET_DIR:-$HERE/../../target}/release/host-train}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
flags=$(grep -m1 -oE '^(flags|Features)\s*:.*' /proc/cpuinfo || true)
USER_ISAS=${ISAS:-}
if [ -z "${ISAS:-}" ]; then
  ISAS=""
  grep -qw avx512f <<< "$flags" && grep -qw avx512vl <<< "$flags" && ISAS+=" avx512"
  grep -qw avx2 <<< "$flags" && grep -qw fma <<< "$flags" && ISAS+=" avx2"
  [ "$(uname -m)" = aarch64 ] && ISAS+=" neon"
fi
PT_ENV=()
if [ -n "${AVX2_ONLY:-}" ]; then
  ISAS=${USER_ISAS:-avx2}
  PT_ENV=(ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2)
  echo "AVX2_ONLY: host-train --isa avx2 against PyTorch held to AVX2 (${PT_ENV[*]})"
fi
read -r -a isas <<< "$ISAS"
model=$(grep -m1 -E '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || uname -m)
echo "CPU: $model, $(nproc) cores; vector flags: $(grep -oE '\b(avx2|fma|avx512f|avx512vl|asimd)\b' <<< "$flags" | sort -u | tr '\n' ' ')"
peak=$("$HERE/../../scripts/fma-peak.sh" "$THREADS" 3)
echo "$peak"

# num FILE KEY: the first run's KEY, times the run's fused group size for *_per_sec keys.
num() { "$PYTHON" -c "
import json,sys; d=json.load(open(sys.argv[1])); r=d['runs'][0] if 'runs' in d else d
k=sys.argv[2]; print(r[k]*(r.get('fused',1) if k.endswith('per_sec') else 1))" "$@"; }
# Per round, one line of numbers: pytorch train, eval, then per path one train, eval, fused train, eval, MiB.
: > "$TMP/rounds"
for r in $(seq 1 "$ROUNDS"); do
  env "${PT_ENV[@]}" "$PYTHON" "$HERE/pytorch_reference.py" --subset "$SUBSET" --epochs 1 --threads "$THREADS" > "$TMP/pt.json"
  line="$(num "$TMP/pt.json" train_images_per_sec) $(num "$TMP/pt.json" eval_images_per_sec)"
  for entry in "${isas[@]}"; do
    isa=${entry%%/*}
    conv=winograd
    [ "$entry" != "$isa" ] && conv=${entry#*/}
    dir="$isa-$conv-$r"
    HOST_TRAIN_NO_PROGRESS=1 "$BIN" bench --preset tutorial --runs "Constant Learning Rate" --subset "$SUBSET" \
        --epochs 1 --threads "$THREADS" --isa "$isa" --convolution "$conv" --fuse 1 --no-plots --out "$TMP/one-$dir" > /dev/null 2>&1
    HOST_TRAIN_NO_PROGRESS=1 /usr/bin/time -f %M -o "$TMP/mem" "$BIN" bench --preset tutorial --subset "$SUBSET" \
        --epochs 1 --threads "$THREADS" --isa "$isa" --convolution "$conv" --no-plots --out "$TMP/fused-$dir" > /dev/null 2>&1
    line+=" $(num "$TMP/one-$dir/results.json" train_images_per_sec) $(num "$TMP/one-$dir/results.json" eval_images_per_sec)"
    line+=" $(num "$TMP/fused-$dir/results.json" train_images_per_sec) $(num "$TMP/fused-$dir/results.json" eval_images_per_sec)"
    line+=" $(($(tail -n 1 "$TMP/mem") / 1024))"
  done
  echo "$line" >> "$TMP/rounds"
  echo "round $r: $line" >&2
done
"$PYTHON" - "$TMP/rounds" "$SUBSET" "$THREADS" "$peak" "${isas[@]}" <<'PY'
import statistics as s, sys
rows = [[float(x) for x in l.split()] for l in open(sys.argv[1])]
subset, threads, peak_text, isas = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
peak = {l.split()[0]: float(l.split()[1]) for l in peak_text.splitlines() if l.strip()}
col = lambda i: s.median(r[i] for r in rows)
pt_tr, pt_ev = col(0), col(1)
MFLOP = 28.3
share = lambda img_s, isa: f"{img_s * MFLOP / 1e3 / peak[isa]:.0%}" if isa in peak else "?"
widest = max(peak, key=peak.get) if peak else None
print(f"\nmedian of {len(rows)} alternating rounds, {subset} training images, batch 128, {threads} threads"
      f" (share: of the {widest} FMA peak, {peak.get(widest, 0):.0f} GFLOP/s, at {MFLOP} MFLOP per training image):\n")
print("| trainer | train img/s | ratio to PyTorch | share of peak | eval img/s | ratio |")
print("|---|---:|---:|---:|---:|---:|")
print(f"| PyTorch, 1 model | {pt_tr:.0f} | 1.00x | {share(pt_tr, widest)} | {pt_ev:.0f} | 1.00x |")
mem = []
for k, isa in enumerate(isas):
    one_tr, one_ev, fu_tr, fu_ev, m = (col(2 + 5 * k + j) for j in range(5))
    mem.append(f"{isa} {m:.0f} MiB")
    print(f"| host-train `{isa}`, 1 model | {one_tr:.0f} | {one_tr / pt_tr:.2f}x | {share(one_tr, widest)} | {one_ev:.0f} | {one_ev / pt_ev:.2f}x |")
    print(f"| host-train `{isa}`, 14 fused (model-img/s) | {fu_tr:.0f} | {fu_tr / pt_tr:.2f}x | {share(fu_tr, widest)} | {fu_ev:.0f} | {fu_ev / pt_ev:.2f}x |")
print(f"\nfused 14-model process, peak resident memory: {', '.join(mem)}")
# Each round's trainers ran next to that round's PyTorch: the paired ratios show how much of the ratio
# above is one noisy round (a shared machine can halve a rate for a minute).
paired = lambda i, j: sorted(r[i] / r[j] for r in rows)
print("paired per-round ratios to PyTorch (median, range):")
for k, isa in enumerate(isas):
    for what, i in (("1 model", 2 + 5 * k), ("14 fused", 4 + 5 * k)):
        for kind, off, base in (("train", 0, 0), ("eval", 1, 1)):
            p = paired(i + off, base)
            print(f"  {isa} {what} {kind}: {s.median(p):.2f}x ({p[0]:.2f}-{p[-1]:.2f})")
PY
