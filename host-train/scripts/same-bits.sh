#!/usr/bin/env bash
# The same-bits check of a restructuring: trains same-bits.toml (every optimizer, batch and epoch
# stepping, plateau, a range test, a validation split) and prints one digest line per (run, epoch):
# its losses and accuracies as exact decimal f32, and per run a hash of every step's loss, lr and
# momentum. Run it before and after a change and diff the two outputs; timings are left out.
#
#   host-train/scripts/same-bits.sh > before.txt        # at the old commit
#   host-train/scripts/same-bits.sh > after.txt         # at the new one
#   diff before.txt after.txt && echo same bits
#
# Extra arguments go to `bench` (e.g. --isa avx2, --fuse 1, --threads 1): the digest must not change
# with any of them.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
[ -n "${SAME_BITS_KEEP:-}" ] || trap 'rm -rf "$out"' EXIT
cargo build -q --release -p host-train
target/release/host-train bench --config host-train/scripts/same-bits.toml --subset 2560 \
  --test-subset 1000 --no-plots --out "$out/run" "$@" >"$out/log" 2>&1 || { cat "$out/log" >&2; exit 1; }
python3 - "$out/run" <<'PY'
import glob, hashlib, json, os, sys
run = sys.argv[1]
for path in sorted(glob.glob(f"{run}/runs/*/result.json")):
    p = json.load(open(path))
    name = f"{p['name']} seed {p['seed']}:"
    for e in p["epochs"]:
        print(name, " ".join(f"{k}={e[k]!r}" for k in sorted(e)))
    print(name, "final", p["final_accuracy"], p["final_test_loss"], "lr", p["lr"])
    trace = json.dumps([p.get(k) for k in ("trace_loss", "trace_lr", "trace_momentum")])
    print(name, "trace", len(p.get("trace_loss", [])), hashlib.sha256(trace.encode()).hexdigest()[:16])
    state = json.load(open(os.path.join(os.path.dirname(path), "state.json")))
    model = open(os.path.join(os.path.dirname(path), state["model_file"]), "rb").read()
    print(name, "checkpoint", hashlib.sha256(model).hexdigest()[:16])
    lr_find = os.path.join(os.path.dirname(path), "lr_find.json")
    if os.path.exists(lr_find):
        print(name, "lr_find", hashlib.sha256(open(lr_find, "rb").read()).hexdigest()[:16])
PY
