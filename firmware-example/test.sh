#!/usr/bin/env bash
# The firmware's CI check (the project's CI calls this). On a fresh Debian machine it installs
# what is missing (qemu-system-arm, binutils-arm-none-eabi, dataset-fashion-mnist, the
# thumbv7em-none-eabihf target, defmt-print), then:
#   1. host tests of the library (golden table vs JSON, fine-tuning, reproducibility hashes);
#   2. builds the firmware, runs it under QEMU (mps2-an386) with a timeout, asserts exit code 0,
#      "golden: N/N within tolerance", every LR range test golden case exact (a pass line per
#      case, N = the case files), the loss improved for all three runs, the run at the lr the
#      on-device range test found reaches at least the hand-chosen run's held-out accuracy (read
#      from the log and compared here), and the device's hashes of the range test and of every
#      run equal the host's (bit-identical);
#   3. builds with --features force-failure and asserts that run FAILS, with a schedule golden
#      miss, an LR range test golden miss and a found-lr run below the hand-chosen one;
#   4. builds without the `expr` feature (expression cases left out) and runs it under QEMU,
#      builds and runs the `minimal` binary (one OneCycleLR, no serde, no expressions);
#   5. prints flash/RAM (arm-none-eabi-size), sched-core's share of flash (code of the linked
#      sched_core:: symbols; its LR range test, sched_core::lr_finder::, counted apart) in all
#      three builds and, without `expr`, with all the library families (with FAMILY_SIZES=1,
#      with each of timm, transformers, optax, keras, fastai too); fails if the schedules' part
#      reaches 18.5 KB without `expr` and without the families, 48 KB with all of them, or 4 KB
#      in `minimal`, and prints the instructions-per-step() table.
set -euo pipefail
cd "$(dirname "$0")"
TIMEOUT="${FIRMWARE_TIMEOUT:-300}"
export QEMU_TIMEOUT="$TIMEOUT"
fail() { echo "test.sh: FAIL: $*" >&2; exit 1; }

# --- prerequisites -----------------------------------------------------------------------------
need_apt=()
command -v qemu-system-arm >/dev/null || need_apt+=(qemu-system-arm)
command -v arm-none-eabi-size >/dev/null || need_apt+=(binutils-arm-none-eabi)
[ -n "${FASHION_MNIST_DIR:-}" ] || [ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] \
  || need_apt+=(dataset-fashion-mnist)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "test.sh: installing ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
rustup target list --installed 2>/dev/null | grep -qx thumbv7em-none-eabihf \
  || rustup target add thumbv7em-none-eabihf
export PATH="$HOME/.cargo/bin:$PATH"
command -v defmt-print >/dev/null || cargo install defmt-print --locked

HOST="$(rustc -vV | sed -n 's/^host: //p')"
ELF=target/thumbv7em-none-eabihf/release/firmware-example
LR_FIND_CASES=$(find ../tests/golden/lr_find/cases -name '*.json' | wc -l)
[ "$LR_FIND_CASES" -gt 0 ] || fail "no LR range test cases in ../tests/golden/lr_find/cases"

# "HAND FOUND": the held-out accuracies (correct of 256) of the hand-chosen OneCycleLR run and of
# the run at the lr the range test found, from a firmware log's comparison line.
lr_find_acc() {
  sed -n 's/.*lr-find vs hand-chosen: .*(hand-chosen) eval_loss=[^ ]* eval_acc=\([0-9]*\)\/[0-9]*; .* eval_acc=\([0-9]*\)\/[0-9]*: .*/\1 \2/p' "$1"
}
# The LR range test golden cases in a log: a pass line for each, and the N/N summary.
lr_find_golden_ok() {
  [ "$(grep -c 'lr-find golden [^ :]*: pass ' "$1")" = "$LR_FIND_CASES" ] &&
    grep -q "lr-find golden: $LR_FIND_CASES/$LR_FIND_CASES exact" "$1"
}

# --- 1. host tests -----------------------------------------------------------------------------
echo "== host tests ($HOST)"
rm -f target/host-repro.txt
cargo test --release --target "$HOST" --locked 2>&1 | tail -n 20
[ -s target/host-repro.txt ] || fail "host tests did not write target/host-repro.txt"

# --- 2. the firmware under QEMU ------------------------------------------------------------------
echo "== firmware under QEMU"
cargo build --release --locked
set +e
cargo run --release --locked > target/firmware.log 2>&1
rc=$?
set -e
cat target/firmware.log
[ "$rc" = 0 ] || fail "firmware exited with $rc (want 0)"
grep -Eq 'golden: ([0-9]+)/\1 within tolerance' target/firmware.log || fail "golden N/N line missing or N differs"
[ "$(grep -c 'finetune .*: improved$' target/firmware.log)" = 3 ] || fail "loss did not improve for all three runs"
lr_find_golden_ok target/firmware.log || fail "LR range test golden: not every one of the $LR_FIND_CASES cases passed"
grep -q 'lr-find: weights restored' target/firmware.log || fail "weights not restored after the range test"
hand="" found=""
read -r hand found < <(lr_find_acc target/firmware.log) || true
[ -n "$found" ] || fail "no 'lr-find vs hand-chosen' line with both accuracies"
[ "$found" -ge "$hand" ] || fail "the found-lr run reached $found/256, below the hand-chosen lr's $hand/256"
grep -q 'all checks passed' target/firmware.log || fail "no 'all checks passed'"
diff <(grep -o 'repro .*' target/firmware.log) target/host-repro.txt \
  || fail "device and host fine-tuning trajectories differ (hashes above)"

# --- 3. the check can fail -----------------------------------------------------------------------
echo "== force-failure build must fail"
set +e
cargo run --release --locked --features force-failure > target/firmware-forced.log 2>&1
frc=$?
set -e
# The forced build's own failure lines, marked so nobody reads them as this script failing.
grep -E 'golden:|finetune .*: (improved|NOT IMPROVED)|lr-find vs|FAILED|MISS' target/firmware-forced.log | sed 's/^/  (expected, forced) /' || true
[ "$frc" != 0 ] || fail "force-failure run exited 0: the check cannot fail"
grep -Eq 'golden: ([0-9]+)/([0-9]+) within' target/firmware-forced.log \
  && ! grep -Eq 'golden: ([0-9]+)/\1 within' target/firmware-forced.log || fail "forced golden miss not reported"
grep -q 'NOT IMPROVED' target/firmware-forced.log || fail "forced loss-check failure not reported"
grep -q "lr-find golden: $((LR_FIND_CASES - 1))/$LR_FIND_CASES exact" target/firmware-forced.log \
  || fail "forced LR range test golden miss not reported"
fhand="" ffound=""
read -r fhand ffound < <(lr_find_acc target/firmware-forced.log) || true
[ -n "$ffound" ] && [ "$ffound" -lt "$fhand" ] && grep -q 'NOT AS GOOD' target/firmware-forced.log \
  || fail "forced worse found-lr run (${ffound:-?}/256 vs ${fhand:-?}/256) not caught"
# Leave the normal build in place (the forced one replaced the ELF).
cargo build --release --locked

# --- 4. without expressions, and the minimal binary ----------------------------------------------
# Own target dir: the feature change would otherwise rebuild the default firmware each time.
NOEXPR_DIR=target/no-expr
NOEXPR_ELF=$NOEXPR_DIR/thumbv7em-none-eabihf/release/firmware-example
MINIMAL_ELF=$NOEXPR_DIR/thumbv7em-none-eabihf/release/minimal
echo "== firmware without the expr feature, and the minimal binary, under QEMU"
cargo build --release --locked --no-default-features --target-dir "$NOEXPR_DIR" --bins
for bin in firmware-example minimal; do
  set +e
  cargo run --release --locked --no-default-features --target-dir "$NOEXPR_DIR" --bin "$bin" > "target/$bin-no-expr.log" 2>&1
  rc=$?
  set -e
  grep -E 'golden:|minimal:|FAILED|error' "target/$bin-no-expr.log" | sed "s/^/  ($bin, no expr) /" || true
  [ "$rc" = 0 ] || fail "$bin without expr exited with $rc (want 0)"
done
grep -Eq 'golden: ([0-9]+)/\1 within tolerance' target/firmware-example-no-expr.log || fail "no-expr golden N/N line missing or N differs"
grep -q 'all checks passed' target/firmware-example-no-expr.log || fail "no-expr firmware: no 'all checks passed'"
lr_find_golden_ok target/firmware-example-no-expr.log || fail "no-expr firmware: LR range test golden cases"
grep -q 'minimal: all checks passed' target/minimal-no-expr.log || fail "minimal: no 'all checks passed'"
# Every library family without expressions, built only (their cases run in the default build
# above); with FAMILY_SIZES=1, each family on its own as well, for README's flash table.
FAMILIES="libraries"
[ "${FAMILY_SIZES:-0}" = 1 ] && FAMILIES="timm transformers optax keras fastai libraries"
for family in $FAMILIES; do
  cargo build -q --release --locked --no-default-features --features "$family" \
    --target-dir "target/family-$family" --bin firmware-example
done

# --- 5. summary --------------------------------------------------------------------------------
echo "== summary"
# Code bytes of the linked symbols of sched-core (its schedules, then its LR range test),
# libm and float parsing/printing in an ELF. (With LTO some sched-core code is inlined into
# its callers and counted there.)
code_bytes() {
  local core=0 lm=0 fl=0 finder=0
  while read -r _ size type name; do
    case "$type" in t|T) ;; *) continue ;; esac
    case "$name" in
      *sched_core::lr_finder::*) finder=$((finder + 16#$size)) ;;
      *sched_core::*) core=$((core + 16#$size)) ;;
      libm::*) lm=$((lm + 16#$size)) ;;
      *dec2flt*|*flt2dec*|*fmt::float*) fl=$((fl + 16#$size)) ;;
    esac
  done < <(arm-none-eabi-nm -C -S --size-sort "$1")
  echo "$core $lm $fl $finder"
}
arm-none-eabi-size -A "$ELF" | grep -E '^(section|\.vector_table|\.text|\.rodata|\.data|\.bss|\.uninit|Total)' || true
arm-none-eabi-size "$ELF"
read -r text data bss _ < <(arm-none-eabi-size "$ELF" | tail -1)
echo "flash: $((text + data)) bytes; static RAM: $((data + bss)) bytes (+ stack, see the log)"
read -r core lm fl finder < <(code_bytes "$ELF")
echo "flash code by symbol: sched-core $core bytes (with expr) + LrFinder $finder bytes, libm $lm bytes, float parsing/printing $fl bytes"
read -r core_noexpr lm_noexpr _ finder_noexpr < <(code_bytes "$NOEXPR_ELF")
read -r noexpr_text noexpr_data _ < <(arm-none-eabi-size "$NOEXPR_ELF" | tail -1)
echo "without expr: sched-core $core_noexpr bytes (limit 18944) + LrFinder $finder_noexpr bytes, libm $lm_noexpr bytes; flash $((noexpr_text + noexpr_data)) bytes"
for family in $FAMILIES; do
  read -r core_family _ < <(code_bytes "target/family-$family/thumbv7em-none-eabihf/release/firmware-example")
  echo "  without expr, with $family: sched-core $core_family bytes (+$((core_family - core_noexpr)))"
  [ "$family" != libraries ] || core_libraries=$core_family
done
read -r core_min lm_min _ < <(code_bytes "$MINIMAL_ELF")
read -r min_text min_data _ < <(arm-none-eabi-size "$MINIMAL_ELF" | tail -1)
echo "minimal: sched-core $core_min bytes (limit 4096), libm $lm_min bytes; whole binary flash $((min_text + min_data)) bytes"
[ "$core_noexpr" -lt 18944 ] || fail "sched-core without expr takes $core_noexpr bytes of flash (limit 18944)"
[ "$core_libraries" -lt 49152 ] || fail "sched-core without expr, with every library family, takes $core_libraries bytes of flash (limit 49152)"
[ "$core_min" -lt 4096 ] || fail "sched-core in the minimal binary takes $core_min bytes of flash (limit 4096)"
grep -E 'stack:' target/firmware.log | tail -1 | sed 's/^INFO  //'
echo "instructions per step() (mean over the steps, max per single step with one-tick = 40 instruction resolution):"
grep -o 'step() instructions: .*' target/firmware.log | sed 's/^step() instructions: /  /'
grep -E 'finetune [^ ]+: eval loss' target/firmware.log | sed 's/^INFO  /  /'
grep -E 'lr-find: [0-9]+ of|lr-find suggest|lr-find vs' target/firmware.log | sed 's/^INFO  /  /'
grep -oE '(lr-find )?golden: .*' target/firmware.log | sed 's/^/  /'
echo "test.sh: OK"
