#!/usr/bin/env bash
# Side by side on this machine, in one run: sched-core's criterion `step` bench and PyTorch's
# `scheduler.step()` (benches/pytorch_step.py), then a table with the ratio.
# Needs a Python with torch: TORCH_PYTHON (default: python3).
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${TORCH_PYTHON:-python3}
out=${1:-target/step-compare.md}
mkdir -p target
"$py" sched-core/benches/pytorch_step.py --out target/pytorch-step.md > /dev/null
cargo bench -q -p sched-core --bench step -- --output-format bencher 2> /dev/null | tee target/sched-core-step.txt > /dev/null
"$py" - "$out" <<'PY'
import re, sys
torch = {}
for line in open("target/pytorch-step.md"):
    m = re.match(r"\|\s*([A-Za-z]+)\s*\|\s*([0-9.]+)\s*\|", line)
    if m:
        torch[m.group(1)] = float(m.group(2))
rows = ["| schedule | sched-core ns/step | PyTorch µs/step | ratio |", "|---|---:|---:|---:|"]
for line in open("target/sched-core-step.txt"):
    m = re.match(r"test step/(\S+)\s+\.\.\. bench:\s+([0-9,.]+) ns/iter", line)
    if not m:
        continue
    name, ns = m.group(1), float(m.group(2).replace(",", ""))
    t = torch.get(name)
    rows.append(f"| {name} | {ns:.1f} | {t:.2f} | {t * 1000 / ns:.0f}x |" if t else f"| {name} | {ns:.1f} | - | - |")
text = "\n".join(rows) + "\n"
open(sys.argv[1], "w").write(text)
print(text)
PY
