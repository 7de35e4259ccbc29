#!/usr/bin/env python3
"""The tuned study's run configs, made from its protocol (PROTOCOL.md): stdlib only.

    tune.py lr-find --host-train target/release/host-train --work WORK
        the LR range test of each optimizer (WORK/lr-find-<optimizer>/lr_find.json; skipped where done)
    tune.py grid --work WORK [--epochs 5] > docs/results/tuned-15ep/grid.toml
        every run at v * 3^k, k = -2..2, v = its optimizer's steep suggestion
    tune.py finals --grid GRID_OUT [--epochs 15] > docs/results/tuned-15ep/runs.toml
        every run at the grid lr with the best validation accuracy after the last epoch (ties: the
        smaller lr); prints the choice table on stderr

The grid's bench (resumable):
    host-train bench --config docs/results/tuned-15ep/grid.toml --no-plots --resume --out WORK/grid
"""
import argparse, json, math, os, subprocess, sys

TRAIN, VALIDATION, BATCH, SEED = 60_000, 10_000, 128, 42
STEPS_PER_EPOCH = math.ceil((TRAIN - VALIDATION) / BATCH)
# The grid around the valley suggestion v: v * 3^k.
GRID = [-2, -1, 0, 1, 2]

OPTIMIZERS = {
    "SGD": {"kind": "SGD", "momentum": 0.9},
    "AdamW": {"kind": "AdamW"},
    "SGDScheduleFree": {"kind": "SGDScheduleFree"},
    "AdamWScheduleFree": {"kind": "AdamWScheduleFree"},
}
SCHEDULED = ["SGD", "AdamW"]
SCHEDULES = ["Constant", "StepLR", "CosineAnnealingLR", "OneCycleLR", "WarmupStableDecayLR"]


def warmup(total):
    return max(1, round(0.05 * total))


def schedule(name, lr, total):
    """The spec of schedule `name` over `total` optimizer steps (PROTOCOL.md's table)."""
    if name == "Constant":
        return {"kind": "Fixed"}
    if name == "StepLR":
        return {"kind": "StepLR", "step_size": math.ceil(total / 3), "gamma": 0.1}
    if name == "CosineAnnealingLR":
        return {"kind": "CosineAnnealingLR", "T_max": total}
    if name == "OneCycleLR":
        return {"kind": "OneCycleLR", "max_lr": lr, "total_steps": total}
    if name == "WarmupStableDecayLR":
        w, d = warmup(total), round(0.2 * total)
        return {"kind": "WarmupStableDecayLR", "num_warmup_steps": w, "num_stable_steps": total - w - d,
                "num_decay_steps": d, "warmup_type": "linear", "decay_type": "1-sqrt"}
    raise ValueError(name)


def runs(total):
    """(run name, optimizer name, optimizer table, schedule name) of the 12 runs."""
    out = []
    for opt in SCHEDULED:
        for s in SCHEDULES:
            out.append((f"{opt} + {s}", opt, OPTIMIZERS[opt], s))
    for opt in ["SGDScheduleFree", "AdamWScheduleFree"]:
        out.append((opt, opt, {**OPTIMIZERS[opt], "warmup_steps": warmup(total)}, "Constant"))
    return out


def toml_value(v):
    return json.dumps(v) if not isinstance(v, bool) else str(v).lower()


def inline(table):
    return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in table.items()) + " }"


def config(epochs, entries, comment):
    """A run config of `entries` = [(name, optimizer table, schedule spec, lr)]."""
    lines = [f"# {comment}", f"epochs = {epochs}", f"batch_size = {BATCH}", f"seed = {SEED}",
             f"validation = {VALIDATION}", ""]
    for name, opt, spec, lr in entries:
        lines += ["[[run]]", f'name = "{name}"', f"lr = {lr!r}", f"optimizer = {inline(opt)}",
                  'step = "batch"', f"schedule = {inline(spec)}", ""]
    return "\n".join(lines)


def lr_find(a):
    os.makedirs(a.work, exist_ok=True)
    base = os.path.join(a.work, "lr-find.toml")
    with open(base, "w") as f:
        f.write(config(1, [(opt, table, {"kind": "Fixed"}, 0.1) for opt, table in OPTIMIZERS.items()],
                       "The tuned study's LR range tests: one run per optimizer (its lr is unused)."))
    for opt in OPTIMIZERS:
        out = os.path.join(a.work, f"lr-find-{opt}")
        if os.path.exists(os.path.join(out, "lr_find.json")):
            continue
        subprocess.run([a.host_train, "lr-find", "--config", base, "--run", opt, "--seed", str(SEED),
                        "--out", out], check=True)


# The range test's suggestion the grid is centred on (PROTOCOL.md says why not the valley).
SUGGESTION = "steep"


def centres(work):
    v = {}
    for opt in OPTIMIZERS:
        with open(os.path.join(work, f"lr-find-{opt}", "lr_find.json")) as f:
            v[opt] = json.load(f)["range_test"]["suggestions"][SUGGESTION]["lr"]
    return v


def grid_lr(v, k):
    return float(f"{v * 3.0 ** k:.3g}")


def grid(a):
    v = centres(a.work)
    total = a.epochs * STEPS_PER_EPOCH
    entries = []
    for name, opt, table, s in runs(total):
        for k in GRID:
            lr = grid_lr(v[opt], k)
            entries.append((f"{name} @ {lr:g}", table, schedule(s, lr, total), lr))
    centre_text = ", ".join(f"{o} {x:.3g}" for o, x in v.items())
    print(config(a.epochs, entries,
                 f"The tuned study's lr grid (PROTOCOL.md), made by tune.py grid: {a.epochs} epochs, {SUGGESTION} suggestions {centre_text}."))


def finals(a):
    with open(os.path.join(a.grid, "results.json")) as f:
        results = json.load(f)["runs"]
    by_run = {}
    for r in results:
        name, lr = r["name"].rsplit(" @ ", 1)
        acc = r["epochs"][-1].get("val_accuracy")
        acc = 0.0 if acc is None or math.isnan(acc) else acc
        by_run.setdefault(name, []).append((float(lr), acc))
    total = a.epochs * STEPS_PER_EPOCH
    entries = []
    print("| run | validation accuracy per grid lr | chosen lr |", file=sys.stderr)
    print("|---|---|---:|", file=sys.stderr)
    for name, opt, table, s in runs(total):
        tried = sorted(by_run[name])
        best = max(tried, key=lambda t: (t[1], -t[0]))
        edge = " (grid edge)" if best[0] in (tried[0][0], tried[-1][0]) else ""
        cells = ", ".join(f"{lr:g}: {acc:.4f}" for lr, acc in tried)
        print(f"| {name} | {cells} | {best[0]:g}{edge} |", file=sys.stderr)
        entries.append((name, table, schedule(s, best[0], total), best[0]))
    print(config(a.epochs, entries, "The tuned study's finals (PROTOCOL.md), made by tune.py finals: each run at its chosen lr."))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("lr-find")
    p.add_argument("--host-train", required=True)
    p.add_argument("--work", required=True)
    p = sub.add_parser("grid")
    p.add_argument("--work", required=True)
    p.add_argument("--epochs", type=int, default=5)
    p = sub.add_parser("finals")
    p.add_argument("--grid", required=True)
    p.add_argument("--epochs", type=int, default=15)
    a = ap.parse_args()
    {"lr-find": lr_find, "grid": grid, "finals": finals}[a.cmd](a)


if __name__ == "__main__":
    main()
