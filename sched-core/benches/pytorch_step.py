#!/usr/bin/env python3
"""Time PyTorch's `scheduler.step()` per call, for comparison with sched-core's criterion bench.

Usage:  python sched-core/benches/pytorch_step.py [--out table.md] [--repeats 7] [--min-time 0.2]

For every schedule: build SGD (one parameter, lr 0.1) and the scheduler, call
`optimizer.step()` once, untimed (so PyTorch does not warn about the call order), then time
only `scheduler.step()` with timeit: `--repeats` repeats of N calls each, N chosen by
`Timer.autorange()` so that one repeat lasts at least `--min-time` seconds. Reported: the
median over repeats of (repeat time / N), in microseconds. The scheduler keeps advancing
across repeats; horizons (T_max, total_steps, total_iters, ...) are set large so that every
call stays on the schedule's general (formula) path instead of a trivial "past the end" path.
ReduceLROnPlateau is timed as `step(metric)` with the metric from a pre-built cycle of
values (a generator's `next()` is included in its time).
"""

import argparse
import itertools
import platform
import statistics
import sys
import timeit
import warnings

import torch
from torch.optim import lr_scheduler as S

BIG = 10**9


def _optimizer():
    p = torch.zeros(1, requires_grad=True)
    p.grad = torch.zeros(1)
    return torch.optim.SGD([p], lr=0.1, momentum=0.9)


def _metrics():
    # a noisy, slowly decreasing loss: mixes improving and bad epochs
    vals = [1.0 / (1 + 0.01 * j) + 0.02 * ((j * 7919) % 13 - 6) / 6 for j in range(1000)]
    return itertools.cycle(vals)


SCHEDULES = [
    ("StepLR", lambda o: S.StepLR(o, step_size=30, gamma=0.999), None),
    ("MultiStepLR", lambda o: S.MultiStepLR(o, milestones=[30, 80, 1000, 100000], gamma=0.999), None),
    ("ConstantLR", lambda o: S.ConstantLR(o, factor=0.5, total_iters=BIG), None),
    ("LinearLR", lambda o: S.LinearLR(o, start_factor=0.5, total_iters=BIG), None),
    ("ExponentialLR", lambda o: S.ExponentialLR(o, gamma=0.9999999), None),
    ("PolynomialLR", lambda o: S.PolynomialLR(o, total_iters=BIG, power=2.0), None),
    ("CosineAnnealingLR", lambda o: S.CosineAnnealingLR(o, T_max=BIG, eta_min=1e-4), None),
    ("CosineAnnealingWarmRestarts", lambda o: S.CosineAnnealingWarmRestarts(o, T_0=1000, T_mult=2, eta_min=1e-4),
     None),
    ("CyclicLR", lambda o: S.CyclicLR(o, base_lr=0.001, max_lr=0.1, step_size_up=2000), None),
    ("OneCycleLR", lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=BIG), None),
    ("ReduceLROnPlateau", lambda o: S.ReduceLROnPlateau(o, patience=3, factor=0.9, min_lr=1e-6), "metric"),
    ("LambdaLR", lambda o: S.LambdaLR(o, lambda epoch: 1.0 / (1.0 + 1e-4 * epoch)), None),
    ("MultiplicativeLR", lambda o: S.MultiplicativeLR(o, lambda epoch: 0.9999999), None),
    ("SequentialLR", lambda o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.1, total_iters=5), S.CosineAnnealingLR(o, T_max=BIG)], milestones=[5]),
     None),
    ("ChainedScheduler", lambda o: S.ChainedScheduler(
        [S.ConstantLR(o, factor=0.5, total_iters=BIG), S.ExponentialLR(o, gamma=0.9999999)]), None),
]


def time_one(make, kind, repeats, min_time):
    opt = _optimizer()
    sched = make(opt)
    opt.step()  # untimed: marks the optimizer as stepped
    if kind == "metric":
        it = _metrics()
        stmt = lambda: sched.step(next(it))  # noqa: E731
    else:
        stmt = sched.step
    timer = timeit.Timer(stmt)
    number, t = timer.autorange()
    while t < min_time:
        number *= 2
        t = timer.timeit(number)
    times = timer.repeat(repeat=repeats, number=number)
    return statistics.median(times) / number * 1e6, number


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="also write the Markdown table to this path")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per repeat, at least")
    args = ap.parse_args()

    torch.set_num_threads(1)
    rows = []
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for name, make, kind in SCHEDULES:
            us, number = time_one(make, kind, args.repeats, args.min_time)
            rows.append((name, us))
            print(f"{name}: {us:.3f} us/step ({args.repeats} x {number} calls)", file=sys.stderr)
    for x in w:
        print(f"warning: {x.category.__name__}: {x.message}", file=sys.stderr)

    lines = [
        f"PyTorch {torch.__version__}, Python {platform.python_version()}, {platform.machine()}; "
        f"median of {args.repeats} timeit repeats (>= {args.min_time} s each), `scheduler.step()` only.",
        "",
        "| schedule | PyTorch µs/step |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {us:.2f} |" for name, us in rows]
    table = "\n".join(lines) + "\n"
    print(table, end="")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(table)


if __name__ == "__main__":
    main()
