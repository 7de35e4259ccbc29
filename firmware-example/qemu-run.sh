#!/usr/bin/env bash
# Cargo runner: runs the firmware ELF on QEMU's mps2-an386 (Cortex-M4F) with semihosting,
# decodes its defmt log with defmt-print, and exits with the firmware's exit code.
# -icount shift=0: one instruction = 1 ns of virtual time, so SysTick counts instructions
# deterministically (the firmware's instructions-per-step() table).
set -uo pipefail
elf="$1"
timeout="${QEMU_TIMEOUT:-600}"
timeout --foreground "$timeout" qemu-system-arm \
  -cpu cortex-m4 -machine mps2-an386 -nographic -monitor none -serial none \
  -icount shift=0 \
  -semihosting-config enable=on,target=native \
  -kernel "$elf" \
  | defmt-print -e "$elf"
status=("${PIPESTATUS[@]}")
qemu=${status[0]}
if [ "$qemu" = 124 ]; then echo "qemu-run.sh: timed out after ${timeout}s" >&2; fi
if [ "${status[1]}" != 0 ]; then echo "qemu-run.sh: defmt-print failed (${status[1]})" >&2; [ "$qemu" = 0 ] && exit 1; fi
exit "$qemu"
