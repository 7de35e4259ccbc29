#!/usr/bin/env python3
"""Generate the PyTorch golden files in tests/golden/cases/.

Each case runs a real PyTorch SGD optimizer (one dummy parameter) plus the
scheduler described by the case's spec, and records the learning rate and
momentum in effect for every optimizer step:

    for i in range(steps):
        lrs.append(group["lr"]); moms.append(group["momentum"])
        optimizer.step()
        if (i + 1) % step_every == 0:
            scheduler.step()            # or scheduler.step(metrics[j]) for ReduceLROnPlateau

Usage:  python tests/golden/generate.py [--check]

  --check   regenerate in memory and report files that would change, without writing.

The output is deterministic: running the script twice gives byte-identical files.
Files in cases/ that the script no longer produces are deleted.
See README.md beside this file for the schema.
"""

import argparse
import inspect
import json
import math
import os
import random
import re
import struct
import sys
import warnings
from bisect import bisect_right
from functools import partial

import torch
from torch.optim import lr_scheduler as S
from torch.optim.swa_utils import SWALR

import golden_files

HERE = golden_files.HERE

# ---------------------------------------------------------------------------
# Optional third-party references. The generator prefers the real libraries and
# checks its faithful ports against them bit for bit; without them it uses the
# ports (the output is identical either way).
# ---------------------------------------------------------------------------
LAMBDA_GLOBALS = {
    "min": min,
    "max": max,
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "cos": math.cos,
    "sin": math.sin,
    "pi": math.pi,
    "math": math,
}


def eval_lambda(var, body):
    return eval("lambda " + var + ": " + body, dict(LAMBDA_GLOBALS))


# ---------------------------------------------------------------------------
# Project-only composite kinds.
# ---------------------------------------------------------------------------
class Fixed:
    """No scheduler: the lr never changes."""

    def step(self):
        pass


class SwitchLR:
    """All children built up front; the n-th step() call (n = 1, 2, ...) steps only
    child i, where i = number of milestones <= n.

    Inside PyTorch's composites it is a composite like theirs: `optimizer` and `get_last_lr()`
    (which ChainedScheduler and SequentialLR read), `_schedulers` (so that SequentialLR's
    `recursive_undo` reaches its children, as it does a ChainedScheduler's) and `_initial_step()`
    (LRScheduler's: one step(), which SequentialLR calls on its first child)."""

    def __init__(self, children, milestones):
        assert len(milestones) == len(children) - 1
        self._schedulers = children
        self.milestones = list(milestones)
        self.n = 0
        self.optimizer = children[0].optimizer

    def step(self):
        self.n += 1
        self._schedulers[bisect_right(self.milestones, self.n)].step()

    def _initial_step(self):
        self.step()

    def get_last_lr(self):
        return [g["lr"] for g in self.optimizer.param_groups]


# ---------------------------------------------------------------------------
# build(spec, optimizer)
# ---------------------------------------------------------------------------
DIRECT = {
    "StepLR": S.StepLR,
    "MultiStepLR": S.MultiStepLR,
    "ConstantLR": S.ConstantLR,
    "LinearLR": S.LinearLR,
    "ExponentialLR": S.ExponentialLR,
    "PolynomialLR": S.PolynomialLR,
    "CosineAnnealingLR": S.CosineAnnealingLR,
    "CosineAnnealingWarmRestarts": S.CosineAnnealingWarmRestarts,
    "OneCycleLR": S.OneCycleLR,
    "ReduceLROnPlateau": S.ReduceLROnPlateau,
    "SWALR": SWALR,
}


# The defaults of this project's own kinds (the other libraries' kinds are libraries.py's,
# from their signatures). PyTorch's come from its signatures. Both are written to defaults.json,
# which sched-core's tests/defaults.rs checks the defaults each kind declares against.
PROJECT_DEFAULTS = {
    # This project's own kind (SequentialLR of a LambdaLR warmup and the schedule).
    "WarmupLR": {"warmup": "linear", "start_factor": 0.0},
}
PYTORCH_KINDS = ["LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
                 "PolynomialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR",
                 "ReduceLROnPlateau", "SequentialLR", "ChainedScheduler", "SWALR"]
NOT_PARAMETERS = {"self", "optimizer", "last_epoch", "verbose"}


def signature_defaults(f, names=None):
    sig = inspect.signature(f)
    return {n: p.default for n, p in sig.parameters.items()
            if n not in NOT_PARAMETERS and p.default is not inspect.Parameter.empty and (names is None or n in names)}


def defaults_table():
    """{kind: {parameter: default}}: PyTorch's from its signatures, this project's from
    PROJECT_DEFAULTS."""
    table = {k: signature_defaults(getattr(S, k, DIRECT.get(k)).__init__) for k in PYTORCH_KINDS}
    table.update(PROJECT_DEFAULTS)
    return table


def _kwargs(spec):
    return {k: v for k, v in spec.items() if k != "kind"}


def _base_lr(optimizer):
    g = optimizer.param_groups[0]
    return g.get("initial_lr", g["lr"])


def build(spec, optimizer):
    kind = spec["kind"]
    kw = _kwargs(spec)
    if kind in DIRECT:
        return DIRECT[kind](optimizer, **kw)
    if kind in ("LambdaLR", "MultiplicativeLR"):
        body = kw.pop("lr_lambda")
        # A list: one lambda per param group, as PyTorch takes them.
        f = [eval_lambda("epoch", b) for b in body] if isinstance(body, list) else eval_lambda("epoch", body)
        return getattr(S, kind)(optimizer, f, **kw)
    if kind == "CyclicLR":
        if kw.get("scale_fn") is not None:
            kw["scale_fn"] = eval_lambda("x", kw["scale_fn"])
        return S.CyclicLR(optimizer, **kw)
    if kind == "SequentialLR":
        children = [build(c, optimizer) for c in kw["schedulers"]]
        return S.SequentialLR(optimizer, children, milestones=kw["milestones"])
    if kind == "ChainedScheduler":
        children = [build(c, optimizer) for c in kw["schedulers"]]
        return S.ChainedScheduler(children)
    if kind == "Fixed":
        assert not kw
        return Fixed()
    if kind == "SwitchLR":
        children = [build(c, optimizer) for c in kw["schedulers"]]
        return SwitchLR(children, kw["milestones"])
    if kind == "WarmupLR":
        W = kw["warmup_steps"]
        assert isinstance(W, int) and W >= 1
        d = PROJECT_DEFAULTS[kind]
        s = kw.get("start_factor", d["start_factor"])
        shape = kw.get("warmup", d["warmup"])
        if shape == "linear":
            f = lambda t: s + (1.0 - s) * (t / W)  # noqa: E731
        elif shape == "cos":
            f = lambda t: s + (1.0 - s) * ((1.0 - math.cos(math.pi * (t / W))) / 2.0)  # noqa: E731
        else:
            raise ValueError(shape)
        warm = S.LambdaLR(optimizer, f)
        inner = build(kw["schedule"], optimizer)
        return S.SequentialLR(optimizer, [warm, inner], milestones=[W])
    raise ValueError(f"unknown kind {kind!r}")


# ---------------------------------------------------------------------------
# Running a case
# ---------------------------------------------------------------------------
def make_optimizer(lr, momentum):
    """SGD with one dummy parameter per group; `lr` and `momentum` are lists for a case over
    several param groups (`SGD([{"params": [p0], "lr": lr[0], "momentum": momentum[0]}, ...])`)."""
    if isinstance(lr, list):
        groups = []
        for g_lr, g_mom in zip(lr, momentum, strict=True):
            p = torch.zeros(1, requires_grad=True)
            p.grad = torch.zeros(1)
            groups.append({"params": [p], "lr": g_lr, "momentum": g_mom})
        return torch.optim.SGD(groups, lr=lr[0])
    p = torch.zeros(1, requires_grad=True)
    p.grad = torch.zeros(1)
    return torch.optim.SGD([p], lr=lr, momentum=momentum)


def _rec(group):
    lr, mom = group["lr"], group["momentum"]
    assert not isinstance(lr, torch.Tensor) and not isinstance(mom, torch.Tensor)
    return float(lr), float(mom)


def run_loop(optimizer, stepper, steps, step_every, metrics=None, groups=False):
    """The documented loop. `stepper(j)` performs the j-th scheduler step call. With `groups`,
    each value is the list of every param group's."""
    lrs, moms = [], []
    j = 0
    for i in range(steps):
        values = [_rec(g) for g in optimizer.param_groups]
        if groups:
            lrs.append([lr for lr, _ in values])
            moms.append([mom for _, mom in values])
        else:
            lrs.append(values[0][0])
            moms.append(values[0][1])
        optimizer.step()
        if (i + 1) % step_every == 0:
            if i == steps - 1:
                # The effect of this call is never recorded. It is made like every other
                # call, except that OneCycleLR raises when stepped past total_steps; a
                # case may record up to last_epoch == total_steps, so that error is
                # ignored here (only here).
                try:
                    stepper(j)
                except ValueError as e:
                    if "Tried to step" not in str(e):
                        raise
            else:
                stepper(j)
            j += 1
    if metrics is not None:
        assert j == len(metrics), (j, len(metrics))
    return lrs, moms


def run_case(case):
    spec = json.loads(json.dumps(case["spec"]))  # build from exactly what is written
    opt = make_optimizer(case["lr"], case["momentum"])
    sched = build(spec, opt)
    metrics = case.get("metrics")
    if spec["kind"] == "ReduceLROnPlateau":
        assert metrics is not None
        stepper = lambda j: sched.step(metrics[j])  # noqa: E731
    else:
        assert metrics is None
        stepper = lambda j: sched.step()  # noqa: E731
    lrs, moms = run_loop(opt, stepper, case["steps"], case["step_every"], metrics, isinstance(case["lr"], list))
    if isinstance(case["lr"], list):
        # Stored per group: lr_values[g][i].
        return [list(v) for v in zip(*lrs)], [list(v) for v in zip(*moms)]
    return lrs, moms


# ---------------------------------------------------------------------------
# Metric sequences for ReduceLROnPlateau (seeded, f32-representable)
# ---------------------------------------------------------------------------
def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def metric_seq(kind, n, seed):
    rng = random.Random(seed)
    out = []
    for j in range(n):
        u = rng.random() - 0.5
        if kind == "decreasing":
            v = 2.0 * math.exp(-j / 25.0) + 0.05 + 0.002 * u
        elif kind == "decreasing_then_plateau":
            v = 0.3 + 1.7 * math.exp(-j / 8.0) if j < 40 else 0.3 + 1.7 * math.exp(-40 / 8.0) + 0.01 * u
        elif kind == "plateau_noisy":
            v = 0.5 + 0.3 * math.exp(-j / 6.0) + 0.02 * u
        elif kind == "noisy":
            v = 0.5 + 0.1 * u
        elif kind == "increasing":
            v = 0.1 + 0.01 * j
        elif kind == "accuracy":  # rising then saturating, for mode='max'
            v = 0.9 * (1.0 - math.exp(-j / 12.0)) + 0.01 * u
        elif kind == "noisy_decreasing_abs":
            v = 1.0 - 0.004 * j + 0.03 * u
        else:
            raise ValueError(kind)
        out.append(f32(v))
    return out


def check_plateau_margins(case):
    """Re-run ReduceLROnPlateau's decisions in f64 and require a clear margin on every
    comparison (except exact ties), so an f32 implementation fed the same (f32-exact)
    metrics must take the same decisions."""
    sp = case["spec"]
    mode = sp.get("mode", "min")
    thr = sp.get("threshold", 1e-4)
    tmode = sp.get("threshold_mode", "rel")
    factor = sp.get("factor", 0.1)
    patience = sp.get("patience", 10)
    cooldown = sp.get("cooldown", 0)
    min_lr = sp.get("min_lr", 0.0)
    eps = sp.get("eps", 1e-8)
    best = math.inf if mode == "min" else -math.inf
    bad = cd = 0
    lr = case["lr"]
    REL = 1e-5

    def far(a, b):
        return abs(a - b) > REL * max(abs(a), abs(b), 1e-12)

    for a in case["metrics"]:
        if math.isinf(best):
            better = True
        else:
            if tmode == "rel":
                ref = best * (1.0 - thr) if mode == "min" else best * (thr + 1.0)
            else:
                ref = best - thr if mode == "min" else best + thr
            if a != best:
                assert far(a, ref), (case["name"], a, ref)
            better = a < ref if mode == "min" else a > ref
        if better:
            best, bad = a, 0
        else:
            bad += 1
        if cd > 0:
            cd -= 1
            bad = 0
        if bad > patience:
            new = max(lr * factor, min_lr)
            if lr * factor != min_lr:
                assert far(lr * factor, min_lr), (case["name"], lr, min_lr)
            assert lr - new == 0 or far(lr - new, eps), (case["name"], lr, new, eps)
            if lr - new > eps:
                lr = new
            cd = cooldown
            bad = 0


# ---------------------------------------------------------------------------
# Case definitions
# ---------------------------------------------------------------------------
CASES = []


def case(name, spec, steps, lr=0.1, momentum=0.0, step_every=1, metrics=None):
    assert re.fullmatch(r"[A-Za-z0-9_]+", name), name
    assert all(c["name"] != name for c in CASES), name
    CASES.append(
        dict(name=name, spec=spec, lr=lr, momentum=momentum, steps=steps, step_every=step_every, metrics=metrics)
    )


GROUP_CASES = []


def group_case(name, spec, steps, lr, momentum, step_every=1, metrics=None):
    """A case over several param groups: `lr` and `momentum` give each group's, and the spec
    may give a per-group argument as a list (PyTorch's `max_lr=[...]`)."""
    assert re.fullmatch(r"[A-Za-z0-9_]+", name), name
    assert len(lr) == len(momentum) >= 2, name
    GROUP_CASES.append(
        dict(name=name, spec=spec, lr=lr, momentum=momentum, steps=steps, step_every=step_every, metrics=metrics)
    )


def define_group_cases():
    """Two or three param groups: every argument PyTorch takes per group, as a list, alone and
    inside composites, and schedules that only read each group's own lr."""
    two, mom = [0.1, 0.01], [0.9, 0.8]
    group_case("groups_StepLR", K("StepLR", step_size=3, gamma=0.5), 12, two, mom)
    group_case("groups_CosineAnnealingLR_eta_min", K("CosineAnnealingLR", T_max=10, eta_min=0.001), 25,
               [0.1, 0.05], mom)
    group_case("groups3_CosineAnnealingWarmRestarts", K("CosineAnnealingWarmRestarts", T_0=4, T_mult=2,
               eta_min=0.0005), 30, [0.1, 0.03, 0.01], [0.9, 0.9, 0.0])
    group_case("groups_OneCycleLR_lists", K("OneCycleLR", max_lr=[0.1, 0.01], total_steps=30,
               base_momentum=[0.85, 0.8], max_momentum=[0.95, 0.9]), 30, two, [0.9, 0.9])
    group_case("groups_OneCycleLR_shared_max_lr", K("OneCycleLR", max_lr=0.05, total_steps=20,
               three_phase=True), 20, two, [0.9, 0.5])
    group_case("groups_CyclicLR_lists", K("CyclicLR", base_lr=[0.001, 0.01], max_lr=[0.1, 0.05], step_size_up=4,
               base_momentum=[0.8, 0.7], max_momentum=[0.9, 0.95]), 20, two, [0.9, 0.9])
    group_case("groups_CyclicLR_exp_range", K("CyclicLR", base_lr=[0.001, 0.002], max_lr=[0.01, 0.05],
               step_size_up=3, mode="exp_range", gamma=0.9, cycle_momentum=False), 25, two, mom)
    metrics = metric_seq("plateau_noisy", 30, 7)
    group_case("groups_ReduceLROnPlateau_min_lr", K("ReduceLROnPlateau", factor=0.5, patience=1,
               min_lr=[0.02, 0.0005]), 30, two, mom, metrics=metrics)
    group_case("groups_LambdaLR_lists", K("LambdaLR", lr_lambda=["0.95 ** epoch", "1.0 / (epoch + 1)"]), 15,
               two, mom)
    group_case("groups_MultiplicativeLR_lists", K("MultiplicativeLR", lr_lambda=["0.9", "0.99 if epoch < 5 else 0.5"]),
               12, two, mom)
    group_case("groups_SWALR_lists", K("SWALR", swa_lr=[0.05, 0.5], anneal_epochs=5), 10, two, mom)
    group_case("groups_SequentialLR_OneCycleLR_lists", K("SequentialLR", schedulers=[
        K("LinearLR", start_factor=0.1, total_iters=3), K("OneCycleLR", max_lr=[0.2, 0.02], total_steps=20,
                                                            cycle_momentum=False)], milestones=[3]), 23, two, mom)
    group_case("groups_ChainedScheduler_CyclicLR_lists", K("ChainedScheduler", schedulers=[
        K("CyclicLR", base_lr=[0.01, 0.001], max_lr=[0.1, 0.02], step_size_up=2, cycle_momentum=False),
        K("ExponentialLR", gamma=0.9)]), 15, two, mom)
    group_case("groups_WarmupLR_CosineAnnealingLR", K("WarmupLR", warmup_steps=4, schedule=K(
        "CosineAnnealingLR", T_max=10)), 16, two, mom)


def K(kind, **kw):
    return dict(kind=kind, **kw)


def define_cases():
    # ---- StepLR
    case("StepLR_defaults", K("StepLR", step_size=3), 40)
    case("StepLR_milestone_boundaries", K("StepLR", step_size=5, gamma=0.5), 22)
    case("StepLR_step_size1_gamma099", K("StepLR", step_size=1, gamma=0.99), 300, lr=0.01)
    case("StepLR_momentum09", K("StepLR", step_size=7, gamma=0.9), 100, momentum=0.9)
    # ---- MultiStepLR
    case("MultiStepLR_defaults", K("MultiStepLR", milestones=[10, 25]), 40)
    case("MultiStepLR_milestone_boundaries", K("MultiStepLR", milestones=[1, 4, 5, 9], gamma=0.5), 12)
    case("MultiStepLR_repeated_milestone", K("MultiStepLR", milestones=[3, 3, 7], gamma=0.5), 10)
    # ---- ConstantLR
    case("ConstantLR_defaults", K("ConstantLR"), 10)
    case("ConstantLR_factor05_total_iters3", K("ConstantLR", factor=0.5, total_iters=3), 8, lr=0.05)
    case("ConstantLR_total_iters0", K("ConstantLR", factor=0.25, total_iters=0), 6)
    case("ConstantLR_total_iters1", K("ConstantLR", factor=0.1, total_iters=1), 5)
    # ---- LinearLR
    case("LinearLR_defaults", K("LinearLR"), 10)
    case("LinearLR_start01_total_iters20", K("LinearLR", start_factor=0.1, total_iters=20), 25, lr=0.01)
    case("LinearLR_decay_to_zero", K("LinearLR", start_factor=1.0, end_factor=0.0, total_iters=10), 15)
    case("LinearLR_momentum09", K("LinearLR", start_factor=0.5, end_factor=0.8, total_iters=6), 10, momentum=0.9)
    # ---- ExponentialLR
    case("ExponentialLR_gamma09", K("ExponentialLR", gamma=0.9), 50)
    case("ExponentialLR_gamma0999_long", K("ExponentialLR", gamma=0.999), 3000, lr=0.001)
    case("ExponentialLR_momentum09", K("ExponentialLR", gamma=0.95), 30, momentum=0.9)
    # ---- PolynomialLR
    case("PolynomialLR_defaults", K("PolynomialLR"), 10)
    case("PolynomialLR_power2_total_iters20", K("PolynomialLR", total_iters=20, power=2.0), 30)
    case("PolynomialLR_power05_total_iters7", K("PolynomialLR", total_iters=7, power=0.5), 12, lr=0.02)
    # ---- CosineAnnealingLR (recursive form; run past T_max to 3*T_max)
    case("CosineAnnealingLR_defaults", K("CosineAnnealingLR", T_max=10), 32)
    case("CosineAnnealingLR_eta_min_past_Tmax", K("CosineAnnealingLR", T_max=7, eta_min=0.01), 3 * 7 + 2)
    case("CosineAnnealingLR_Tmax1", K("CosineAnnealingLR", T_max=1, eta_min=0.001), 10)
    case("CosineAnnealingLR_Tmax50_momentum09", K("CosineAnnealingLR", T_max=50, eta_min=0.0), 60, momentum=0.9)
    case("CosineAnnealingLR_Tmax10000", K("CosineAnnealingLR", T_max=10000, eta_min=1e-5), 3 * 10000 + 2, lr=0.01)
    case("CosineAnnealingLR_Tmax100000", K("CosineAnnealingLR", T_max=100000), 100000)
    case("CosineAnnealingLR_Tmax100000_eta_min", K("CosineAnnealingLR", T_max=100000, eta_min=0.001), 100000)
    # ---- CosineAnnealingWarmRestarts
    case("CosineAnnealingWarmRestarts_defaults", K("CosineAnnealingWarmRestarts", T_0=10), 35)
    case("CosineAnnealingWarmRestarts_Tmult2", K("CosineAnnealingWarmRestarts", T_0=5, T_mult=2), 80)
    case(
        "CosineAnnealingWarmRestarts_Tmult1_eta_min",
        K("CosineAnnealingWarmRestarts", T_0=7, T_mult=1, eta_min=0.001),
        50,
        lr=0.05,
    )
    case(
        "CosineAnnealingWarmRestarts_T0_1_Tmult3_eta_min",
        K("CosineAnnealingWarmRestarts", T_0=1, T_mult=3, eta_min=0.0001),
        60,
    )
    # ---- CyclicLR
    case("CyclicLR_defaults", K("CyclicLR", base_lr=0.001, max_lr=0.01), 4500, lr=0.001)
    case("CyclicLR_triangular_short", K("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=5), 40)
    case(
        "CyclicLR_triangular2",
        K("CyclicLR", base_lr=0.001, max_lr=0.1, step_size_up=4, step_size_down=6, mode="triangular2"),
        60,
    )
    case(
        "CyclicLR_exp_range_gamma0999",
        K("CyclicLR", base_lr=0.001, max_lr=0.1, step_size_up=50, mode="exp_range", gamma=0.999),
        400,
    )
    case(
        "CyclicLR_scale_fn_cycle",
        K("CyclicLR", base_lr=0.001, max_lr=0.1, step_size_up=10, scale_fn="0.5 * (1 + sin(x * pi / 2.0))",
          scale_mode="cycle"),
        100,
    )
    case(
        "CyclicLR_scale_fn_iterations",
        K("CyclicLR", base_lr=0.001, max_lr=0.1, step_size_up=10, step_size_down=15, scale_fn="exp(-x / 200.0)",
          scale_mode="iterations"),
        150,
    )
    case(
        "CyclicLR_no_cycle_momentum_momentum09",
        K("CyclicLR", base_lr=0.01, max_lr=0.05, step_size_up=3, step_size_down=7, cycle_momentum=False),
        40,
        momentum=0.9,
    )
    case(
        "CyclicLR_custom_momentum",
        K("CyclicLR", base_lr=0.01, max_lr=0.05, step_size_up=7, base_momentum=0.85, max_momentum=0.95),
        50,
        momentum=0.9,
    )
    # ---- OneCycleLR
    case("OneCycleLR_defaults_total_steps", K("OneCycleLR", max_lr=0.1, total_steps=100), 100)
    case("OneCycleLR_epochs_steps_per_epoch", K("OneCycleLR", max_lr=0.05, epochs=5, steps_per_epoch=30), 150)
    case(
        "OneCycleLR_pct_start025_linear",
        K("OneCycleLR", max_lr=0.1, total_steps=200, pct_start=0.25, anneal_strategy="linear"),
        200,
    )
    case("OneCycleLR_three_phase", K("OneCycleLR", max_lr=0.1, total_steps=120, three_phase=True), 120)
    case(
        "OneCycleLR_three_phase_linear",
        K("OneCycleLR", max_lr=0.1, total_steps=50, three_phase=True, anneal_strategy="linear", pct_start=0.4),
        50,
    )
    case(
        "OneCycleLR_div_factors", K("OneCycleLR", max_lr=0.2, total_steps=90, div_factor=10.0, final_div_factor=100.0),
        90,
    )
    case(
        "OneCycleLR_no_cycle_momentum", K("OneCycleLR", max_lr=0.1, total_steps=80, cycle_momentum=False), 80,
        momentum=0.9,
    )
    case(
        "OneCycleLR_custom_momentum",
        K("OneCycleLR", max_lr=0.1, total_steps=64, base_momentum=0.8, max_momentum=0.9),
        64,
    )
    case("OneCycleLR_total_steps7", K("OneCycleLR", max_lr=0.1, total_steps=7), 7)
    # Records up to last_epoch == total_steps (reachable; one more step() would raise).
    case("OneCycleLR_total_steps10_to_last_epoch_total", K("OneCycleLR", max_lr=0.1, total_steps=10), 11)
    case("OneCycleLR_total_steps4000", K("OneCycleLR", max_lr=0.01, total_steps=4000), 4000)
    # ---- ReduceLROnPlateau (step_every 1; metrics seeded, f32-exact)
    case(
        "ReduceLROnPlateau_defaults_decreasing_then_plateau",
        K("ReduceLROnPlateau"),
        120,
        metrics=metric_seq("decreasing_then_plateau", 120, 1),
    )
    case(
        "ReduceLROnPlateau_defaults_decreasing",
        K("ReduceLROnPlateau"),
        80,
        metrics=metric_seq("decreasing", 80, 2),
    )
    case(
        "ReduceLROnPlateau_patience3_plateau_noisy",
        K("ReduceLROnPlateau", factor=0.5, patience=3),
        100,
        metrics=metric_seq("plateau_noisy", 100, 3),
    )
    case(
        "ReduceLROnPlateau_noisy_patience2_threshold001",
        K("ReduceLROnPlateau", factor=0.8, patience=2, threshold=0.01),
        150,
        metrics=metric_seq("noisy", 150, 4),
    )
    case(
        "ReduceLROnPlateau_max_rel",
        K("ReduceLROnPlateau", mode="max", factor=0.5, patience=2),
        100,
        metrics=metric_seq("accuracy", 100, 5),
    )
    case(
        "ReduceLROnPlateau_min_abs",
        K("ReduceLROnPlateau", threshold_mode="abs", threshold=0.01, patience=4, factor=0.5),
        150,
        metrics=metric_seq("noisy_decreasing_abs", 150, 6),
    )
    case(
        "ReduceLROnPlateau_max_abs_cooldown",
        K("ReduceLROnPlateau", mode="max", threshold_mode="abs", threshold=0.005, patience=5, cooldown=2,
          factor=0.7),
        200,
        metrics=metric_seq("accuracy", 200, 7),
    )
    case(
        "ReduceLROnPlateau_increasing_cooldown5",
        K("ReduceLROnPlateau", factor=0.7, patience=2, cooldown=5),
        80,
        metrics=metric_seq("increasing", 80, 8),
    )
    case(
        "ReduceLROnPlateau_min_lr_reached",
        K("ReduceLROnPlateau", factor=0.5, patience=1, min_lr=0.0124),
        60,
        metrics=metric_seq("increasing", 60, 9),
    )
    case(
        "ReduceLROnPlateau_eps_blocks_update",
        K("ReduceLROnPlateau", factor=0.5, patience=0, eps=0.01),
        60,
        metrics=metric_seq("increasing", 60, 10),
    )
    case(
        "ReduceLROnPlateau_constant_metric_ties",
        K("ReduceLROnPlateau", factor=0.5, patience=4),
        60,
        metrics=[0.25] * 60,
    )
    # ---- LambdaLR
    case("LambdaLR_power095", K("LambdaLR", lr_lambda="0.95 ** epoch"), 50)
    case("LambdaLR_ternary", K("LambdaLR", lr_lambda="1.0 if epoch < 10 else (0.1 if epoch < 20 else 0.01)"), 30)
    case("LambdaLR_min_warmup", K("LambdaLR", lr_lambda="min(1.0, (epoch+1)/5)"), 12)
    case("LambdaLR_exp_cos", K("LambdaLR", lr_lambda="exp(-0.01 * epoch) * 0.5 * (1 + cos(pi * epoch / 40))"), 50)
    case("LambdaLR_inv_sqrt_max", K("LambdaLR", lr_lambda="1.0 / sqrt(max(epoch, 1))"), 30)
    case("LambdaLR_log", K("LambdaLR", lr_lambda="1.0 / (1.0 + log(epoch + 1))"), 30, momentum=0.9)
    # ---- MultiplicativeLR
    case("MultiplicativeLR_constant095", K("MultiplicativeLR", lr_lambda="0.95"), 40)
    case("MultiplicativeLR_ternary", K("MultiplicativeLR", lr_lambda="0.9 if epoch < 10 else 0.99"), 30)
    case("MultiplicativeLR_max_sqrt", K("MultiplicativeLR", lr_lambda="max(0.5, sqrt(1 - 1 / (epoch + 10)))"), 30)
    # ---- SequentialLR
    case(
        "SequentialLR_linear_warmup_cosine",
        K("SequentialLR", schedulers=[K("LinearLR", start_factor=0.1, total_iters=5), K("CosineAnnealingLR", T_max=20)],
          milestones=[5]),
        40,
    )
    case(
        "SequentialLR_constant_exponential",
        K("SequentialLR", schedulers=[K("ConstantLR", factor=0.5, total_iters=3), K("ExponentialLR", gamma=0.9)],
          milestones=[2]),
        20,
    )
    case(
        "SequentialLR_three_children",
        K("SequentialLR",
          schedulers=[K("LinearLR", start_factor=0.25, total_iters=3), K("StepLR", step_size=4, gamma=0.5),
                      K("CosineAnnealingLR", T_max=10, eta_min=0.001)],
          milestones=[3, 10]),
        30,
    )
    case(
        "SequentialLR_then_multiplicative",
        K("SequentialLR", schedulers=[K("LinearLR", start_factor=0.5, total_iters=4),
                                      K("MultiplicativeLR", lr_lambda="0.9")],
          milestones=[6]),
        15,
    )
    # ---- ChainedScheduler
    case(
        "ChainedScheduler_constant_exponential",
        K("ChainedScheduler", schedulers=[K("ConstantLR", factor=0.1, total_iters=2), K("ExponentialLR", gamma=0.9)]),
        15,
        lr=1.0,
    )
    case(
        "ChainedScheduler_step_cosine",
        K("ChainedScheduler", schedulers=[K("StepLR", step_size=5, gamma=0.5), K("CosineAnnealingLR", T_max=10)]),
        35,
    )
    case(
        "ChainedScheduler_linear_step",
        K("ChainedScheduler", schedulers=[K("LinearLR", start_factor=0.25, total_iters=4),
                                          K("StepLR", step_size=3, gamma=0.5)]),
        20,
    )
    # Recursive compositions whose lr crosses eta_min and zero, several thousand steps: PyTorch's
    # recursion drives the lr below eta_min and on through zero (relative precision near the
    # crossings is what these check).
    case(
        "ChainedScheduler_step_cosine_eta_min_through_zero",
        K("ChainedScheduler", schedulers=[K("StepLR", step_size=250, gamma=0.5),
                                          K("CosineAnnealingLR", T_max=300, eta_min=0.02)]),
        4000,
    )
    case(
        "ChainedScheduler_exponential_cosine_eta_min_through_zero",
        K("ChainedScheduler", schedulers=[K("ExponentialLR", gamma=0.999),
                                          K("CosineAnnealingLR", T_max=400, eta_min=0.02)]),
        4000,
    )
    # ---- Project-only kinds
    case("Fixed_lr01", K("Fixed"), 10)
    case("Fixed_momentum09", K("Fixed"), 10, lr=0.003, momentum=0.9)
    case(
        "SwitchLR_small",
        K("SwitchLR",
          schedulers=[K("CosineAnnealingLR", T_max=5, eta_min=0.05), K("CosineAnnealingLR", T_max=5, eta_min=0.01),
                      K("ExponentialLR", gamma=0.9)],
          milestones=[4, 9]),
        20,
    )
    case(
        "SwitchLR_exponential_then_cosine_below_eta_min",
        K("SwitchLR", schedulers=[K("ExponentialLR", gamma=0.995), K("CosineAnnealingLR", T_max=500, eta_min=0.03)],
          milestones=[600]),
        4000,
    )
    case(
        "SwitchLR_step_then_linear",
        K("SwitchLR", schedulers=[K("StepLR", step_size=2, gamma=0.5), K("LinearLR", start_factor=0.5, total_iters=3)],
          milestones=[5]),
        12,
    )
    case(
        "WarmupLR_linear_cosine",
        K("WarmupLR", warmup_steps=5, schedule=K("CosineAnnealingLR", T_max=20)),
        30,
    )
    case(
        "WarmupLR_cos_start01_exponential",
        K("WarmupLR", warmup_steps=8, warmup="cos", start_factor=0.1, schedule=K("ExponentialLR", gamma=0.95)),
        30,
    )
    case(
        "WarmupLR_linear_step_W1",
        K("WarmupLR", warmup_steps=1, warmup="linear", start_factor=0.0, schedule=K("StepLR", step_size=5, gamma=0.5)),
        20,
    )
    # ---- SWALR (torch.optim.swa_utils)
    case("SWALR_cos_defaults", K("SWALR", swa_lr=0.01), 20, lr=0.05)
    case("SWALR_linear_anneal_epochs4", K("SWALR", swa_lr=0.02, anneal_epochs=4, anneal_strategy="linear"), 10)
    case("SWALR_anneal_epochs0", K("SWALR", swa_lr=0.01, anneal_epochs=0), 5)
    case("SWALR_up_to_swa_lr_cos7_momentum09", K("SWALR", swa_lr=0.2, anneal_epochs=7), 12, lr=0.05, momentum=0.9)
    case("SWALR_cos_anneal_epochs1000", K("SWALR", swa_lr=1e-4, anneal_epochs=1000), 1200, lr=0.01)
    case(
        "ChainedScheduler_exponential_SWALR",
        K("ChainedScheduler", schedulers=[K("ExponentialLR", gamma=0.95), K("SWALR", swa_lr=0.01, anneal_epochs=8)]),
        20,
    )
    case(
        "SequentialLR_cosine_then_SWALR",
        K("SequentialLR", schedulers=[K("CosineAnnealingLR", T_max=10),
                                      K("SWALR", swa_lr=0.02, anneal_epochs=5, anneal_strategy="linear")],
          milestones=[8]),
        20,
    )
    case(
        "SwitchLR_cosine_eta_min_then_SWALR",
        K("SwitchLR", schedulers=[K("CosineAnnealingLR", T_max=50, eta_min=0.005), K("SWALR", swa_lr=0.01)],
          milestones=[40]),
        80,
    )
    case("WarmupLR_linear_SWALR", K("WarmupLR", warmup_steps=5, schedule=K("SWALR", swa_lr=0.02, anneal_epochs=5)), 15)
    # ---- Constructor side effects: a scheduler built on a group another one already touched
    # (initial_lr is set by the first, base_lrs and the implicit first step read it).
    case(
        "SwitchLR_step_then_cyclic_built_second",
        K("SwitchLR", schedulers=[K("StepLR", step_size=2, gamma=0.5),
                                  K("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=3)],
          milestones=[6]),
        20,
        lr=0.05,
    )
    case(
        "SwitchLR_cyclic_then_warm_restarts_base_lr",
        K("SwitchLR", schedulers=[K("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=5),
                                  K("CosineAnnealingWarmRestarts", T_0=5)],
          milestones=[10]),
        25,
        lr=0.05,
    )
    case(
        "SwitchLR_step_then_onecycle_built_second",
        K("SwitchLR", schedulers=[K("StepLR", step_size=3, gamma=0.5), K("OneCycleLR", max_lr=0.1, total_steps=20)],
          milestones=[5]),
        24,
    )
    case(
        "ChainedScheduler_exponential_then_cyclic_built_second",
        K("ChainedScheduler", schedulers=[K("ExponentialLR", gamma=0.9),
                                          K("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=4)]),
        20,
        lr=0.05,
        momentum=0.5,
    )
    case(
        "SequentialLR_step_then_cyclic",
        K("SequentialLR", schedulers=[K("StepLR", step_size=2, gamma=0.5),
                                      K("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=3)],
          milestones=[5]),
        20,
        lr=0.05,
    )
    case(
        # A scheduler computed from the lr it is handed (StepLR) after a CyclicLR built first:
        # SequentialLR restarts it from CyclicLR's base_lr (the group's initial_lr), not the
        # optimizer's lr.
        "SequentialLR_cyclic_then_step",
        K("SequentialLR", schedulers=[K("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=3, cycle_momentum=False),
                                      K("StepLR", step_size=3, gamma=0.5)],
          milestones=[7]),
        20,
        lr=0.05,
    )
    case(
        "SequentialLR_cyclic_then_warm_restarts",
        K("SequentialLR", schedulers=[K("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=3, cycle_momentum=False),
                                      K("CosineAnnealingWarmRestarts", T_0=4)],
          milestones=[7]),
        20,
        lr=0.05,
    )
    case(
        "SwitchLR_onecycle_then_cyclic_built_second",
        K("SwitchLR", schedulers=[K("OneCycleLR", max_lr=0.1, total_steps=10),
                                  K("CyclicLR", base_lr=0.001, max_lr=0.01, step_size_up=2)],
          milestones=[8]),
        20,
    )
    case(
        "ChainedScheduler_cyclic_then_onecycle_built_second",
        K("ChainedScheduler", schedulers=[K("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=4),
                                          K("OneCycleLR", max_lr=0.2, total_steps=30)]),
        30,
    )
    define_nested_cases()
    define_pytorch_suite_cases()
    define_tutorial_cases()


# ---------------------------------------------------------------------------
# Nested compositions, as PyTorch 2.15 runs them: a composite inside a ChainedScheduler (stepped
# like any scheduler), and as the first child of a SequentialLR, whose constructor resets the lr,
# decrements every leaf's last_epoch (`recursive_undo`) and calls `_initial_step()` on the child:
# one plain step() of the composite, so its leaves step from last_epoch -1 to 0 outside initial
# mode (ExponentialLR multiplies by gamma there) and a nested SequentialLR's own count runs one
# ahead. A composite as a later child of a SequentialLR raises NotImplementedError at the switch
# (`_update_lr(0)` calls the base class's get_lr), so the spec rejects it. SwitchLR nests as a
# composite like PyTorch's (the class above). PyTorch warns "Detected call of `lr_scheduler.step()`
# before `optimizer.step()`" for the cases with a composite first child: that step is its
# constructor's, as described.
# ---------------------------------------------------------------------------
def define_nested_cases():
    case(
        "ChainedScheduler_chain_in_chain",
        K("ChainedScheduler", schedulers=[
            K("ChainedScheduler", schedulers=[K("StepLR", step_size=3, gamma=0.5), K("ExponentialLR", gamma=0.9)]),
            K("LinearLR", start_factor=0.5, total_iters=4)]),
        15,
    )
    case(
        "ChainedScheduler_sequence_in_chain",
        K("ChainedScheduler", schedulers=[
            K("SequentialLR", schedulers=[K("LinearLR", start_factor=0.1, total_iters=4),
                                          K("CosineAnnealingLR", T_max=10)], milestones=[4]),
            K("ExponentialLR", gamma=0.95)]),
        20,
    )
    case(
        "ChainedScheduler_exponential_then_sequence_cosine_eta_min",
        K("ChainedScheduler", schedulers=[
            K("ExponentialLR", gamma=0.99),
            K("SequentialLR", schedulers=[K("ConstantLR", factor=0.5, total_iters=3),
                                          K("CosineAnnealingLR", T_max=20, eta_min=0.01)], milestones=[5])]),
        40,
    )
    case(
        "SequentialLR_chain_first",
        K("SequentialLR", schedulers=[
            K("ChainedScheduler", schedulers=[K("LinearLR", start_factor=0.25, total_iters=5),
                                              K("ExponentialLR", gamma=0.9)]),
            K("CosineAnnealingLR", T_max=10)], milestones=[6]),
        20,
    )
    case(
        "SequentialLR_chain_first_polynomial_cosine_multiplicative",
        K("SequentialLR", schedulers=[
            K("ChainedScheduler", schedulers=[K("PolynomialLR", total_iters=8, power=2.0),
                                              K("CosineAnnealingLR", T_max=6, eta_min=0.001),
                                              K("MultiplicativeLR", lr_lambda="0.97")]),
            K("StepLR", step_size=2, gamma=0.5)], milestones=[10]),
        16,
    )
    case(
        "SequentialLR_chain_first_cosine_T_max1_step",
        K("SequentialLR", schedulers=[
            K("ChainedScheduler", schedulers=[K("StepLR", step_size=2, gamma=0.5),
                                              K("CosineAnnealingLR", T_max=1, eta_min=0.02)]),
            K("ExponentialLR", gamma=0.8)], milestones=[5]),
        10,
    )
    case(
        "SequentialLR_chain_first_onecycle_cyclic",
        K("SequentialLR", schedulers=[
            K("ChainedScheduler", schedulers=[K("OneCycleLR", max_lr=0.2, total_steps=12),
                                              K("CyclicLR", base_lr=0.01, max_lr=0.05, step_size_up=3)]),
            K("LinearLR", start_factor=1.0, end_factor=0.1, total_iters=5)], milestones=[9]),
        16,
        momentum=0.9,
    )
    case(
        "SequentialLR_sequence_first",
        K("SequentialLR", schedulers=[
            K("SequentialLR", schedulers=[K("ConstantLR", factor=0.5, total_iters=3),
                                          K("ExponentialLR", gamma=0.9)], milestones=[4]),
            K("StepLR", step_size=3, gamma=0.5)], milestones=[8]),
        16,
    )
    case(
        "SequentialLR_sequence_first_milestone1_swalr",
        K("SequentialLR", schedulers=[
            K("SequentialLR", schedulers=[K("ExponentialLR", gamma=0.5),
                                          K("LambdaLR", lr_lambda="1.0 / (epoch + 1)"),
                                          K("SWALR", swa_lr=0.01, anneal_epochs=3)], milestones=[1, 5]),
            K("CosineAnnealingWarmRestarts", T_0=3)], milestones=[9]),
        16,
    )
    case(
        "SwitchLR_chain_then_sequence",
        K("SwitchLR", schedulers=[
            K("ChainedScheduler", schedulers=[K("StepLR", step_size=2, gamma=0.5), K("ExponentialLR", gamma=0.95)]),
            K("SequentialLR", schedulers=[K("LinearLR", start_factor=0.5, total_iters=3),
                                          K("CosineAnnealingLR", T_max=8)], milestones=[3])], milestones=[6]),
        20,
    )
    case(
        "ChainedScheduler_switch_in_chain",
        K("ChainedScheduler", schedulers=[
            K("SwitchLR", schedulers=[K("ExponentialLR", gamma=0.9), K("LinearLR", start_factor=0.5, total_iters=4)],
              milestones=[4]),
            K("StepLR", step_size=5, gamma=0.5)]),
        15,
    )
    case(
        "SequentialLR_switch_first",
        K("SequentialLR", schedulers=[
            K("SwitchLR", schedulers=[K("ExponentialLR", gamma=0.9), K("LinearLR", start_factor=0.5, total_iters=4)],
              milestones=[3]),
            K("ConstantLR", factor=0.5, total_iters=2)], milestones=[8]),
        14,
    )


# ---------------------------------------------------------------------------
# Configurations of PyTorch's own scheduler tests (test/optim/test_lrscheduler.py, class
# TestLRScheduler, whose optimizer is SGD(lr=0.05); the first param group), named after the test.
# A list of schedulers stepped together there is a ChainedScheduler here (which steps its children
# in order, as the list is); "no scheduler" before SWALR is ConstantLR(factor=1), which leaves the
# lr as it is. Not expressible: per-group lists (other groups), step(epoch), last_epoch != -1,
# ReduceLROnPlateau stepped together with another scheduler.
# ---------------------------------------------------------------------------
def define_pytorch_suite_cases():
    def t(name, spec, steps, lr=0.05, **kw):
        case("pytorch_" + name, spec, steps, lr=lr, **kw)

    t("step_lr", K("StepLR", gamma=0.1, step_size=3), 10)
    t("multi_step_lr", K("MultiStepLR", gamma=0.1, milestones=[2, 5, 9]), 10)
    t("constantlr", K("ConstantLR", factor=1.0 / 2, total_iters=5), 10)
    t("linearlr", K("LinearLR", start_factor=1.0 / 2, total_iters=4), 10)
    t("get_last_lr_linearlr", K("LinearLR", start_factor=1.0 / 4, end_factor=3.0 / 5, total_iters=4), 10)
    t("exp_lr", K("ExponentialLR", gamma=0.9), 10)
    t("poly_lr", K("PolynomialLR", power=0.9, total_iters=5), 10)
    t("cos_anneal_lr", K("CosineAnnealingLR", T_max=10, eta_min=1e-10), 10)
    t("closed_form_linearlr", K("LinearLR", start_factor=1.0 / 3, end_factor=0.7, total_iters=4), 20)
    t("closed_form_constantlr", K("ConstantLR", factor=1.0 / 3, total_iters=4), 20)
    t("closed_form_poly_lr", K("PolynomialLR", power=0.9), 20)
    t("closed_form_cos_anneal_lr", K("CosineAnnealingLR", T_max=5, eta_min=1e-10), 20)
    for T_mult in (1, 2, 4):
        t(f"CosineAnnealingWarmRestarts_lr1_T_mult{T_mult}",
          K("CosineAnnealingWarmRestarts", T_0=10, T_mult=T_mult, eta_min=1e-10), 100)
    t("lambda_lr", K("LambdaLR", lr_lambda="0.9 ** epoch"), 10)
    t("multiplicative_lr", K("MultiplicativeLR", lr_lambda="0.9"), 10)

    # ReduceLROnPlateau (lr 0.5); the metrics rounded to f32, as every plateau case's are.
    plateau = [
        ("1", dict(threshold_mode="abs", mode="min", threshold=0.01, patience=5, cooldown=5),
         [10 - i * 0.0167 for i in range(20)]),
        ("2", dict(patience=5, cooldown=0, threshold_mode="abs", mode="min", threshold=0.1),
         [10 - i * 0.0165 for i in range(22)]),
        ("3", dict(mode="max", patience=5, cooldown=5, threshold_mode="abs"), [-0.8] * 2 + [-0.234] * 20),
        ("4", dict(mode="max", patience=3, threshold_mode="rel", threshold=0.1), [1.5 * (1.025**i) for i in range(20)]),
        ("5", dict(mode="max", threshold_mode="rel", threshold=0.1, patience=5, cooldown=5),
         [1.5 * (1.005**i) for i in range(20)]),
        ("6", dict(mode="min", threshold_mode="rel", threshold=0.1), [1.5 * (0.85**i) for i in range(20)]),
        ("7", dict(mode="min", threshold_mode="rel", threshold=0.1, patience=5, cooldown=5),
         [1.0] * 7 + [0.6] + [0.5] * 12),
        ("8", dict(mode="max", threshold_mode="rel", min_lr=0.4, threshold=0.1, patience=5, cooldown=5),
         [1.5 * (1.005**i) for i in range(20)]),
    ]
    for n, kw, metrics in plateau:
        metrics = [f32(m) for m in metrics]
        t(f"reduce_lr_on_plateau{n}", K("ReduceLROnPlateau", **kw), len(metrics), lr=0.5, metrics=metrics)

    # SequentialLR and ChainedScheduler.
    t("sequentiallr1", K("SequentialLR", schedulers=[K("ExponentialLR", gamma=0.8), K("StepLR", gamma=0.1, step_size=4)],
                          milestones=[3]), 19)
    t("sequentiallr2", K("SequentialLR", schedulers=[K("ConstantLR", factor=0.1, total_iters=3),
                                                     K("ExponentialLR", gamma=0.9)], milestones=[3]), 13)
    t("sequentiallr3", K("SequentialLR", schedulers=[K("ConstantLR", factor=0.1, total_iters=3),
                                                     K("ExponentialLR", gamma=0.8), K("StepLR", gamma=0.1, step_size=2)],
                          milestones=[3, 6]), 12)
    t("sequentiallr4", K("SequentialLR", schedulers=[K("ConstantLR", factor=1), K("ConstantLR", factor=0.1)],
                          milestones=[10]), 20, lr=0.1)
    t("sequentiallr_does_not_alias_lr_and_initial_lr",
      K("SequentialLR", schedulers=[K("LinearLR", start_factor=0.1, end_factor=0.8, total_iters=4),
                                    K("LinearLR", start_factor=0.8, end_factor=0.1, total_iters=4)], milestones=[4]),
      8, lr=2.0)
    t("chained_lr1", K("ChainedScheduler", schedulers=[K("StepLR", gamma=0.1, step_size=3)]), 10)
    t("chained_lr2", K("ChainedScheduler", schedulers=[K("LinearLR", start_factor=0.4, total_iters=3)]), 10)
    t("chained_lr3", K("ChainedScheduler", schedulers=[K("LinearLR", start_factor=0.4, total_iters=3),
                                                       K("MultiStepLR", milestones=[4, 8, 10], gamma=0.1)]), 10)
    t("chained_lr4", K("ChainedScheduler", schedulers=[K("ExponentialLR", gamma=0.9),
                                                       K("ConstantLR", factor=0.2, total_iters=4),
                                                       K("StepLR", gamma=0.1, step_size=3)]), 9)
    t("chained_lr5", K("ChainedScheduler", schedulers=[K("PolynomialLR", power=0.9, total_iters=5),
                                                       K("ConstantLR", factor=0.1)]), 10)
    # test_compound_*: two schedulers stepped together.
    cos = K("CosineAnnealingLR", T_max=10, eta_min=1e-10)
    compound = [
        ("step_and_multistep_lr", [K("StepLR", gamma=0.1, step_size=3), K("MultiStepLR", gamma=0.1, milestones=[2, 5, 9])]),
        ("step_and_exp_lr", [K("StepLR", gamma=0.1, step_size=3), K("ExponentialLR", gamma=0.9)]),
        ("exp_and_multistep_lr", [K("MultiStepLR", gamma=0.1, milestones=[2, 5, 9]), K("ExponentialLR", gamma=0.9)]),
        ("exp_and_linearlr", [K("LinearLR", start_factor=0.4, end_factor=0.9, total_iters=4),
                              K("ExponentialLR", gamma=0.9)]),
        ("step_and_constantlr", [K("StepLR", gamma=0.1, step_size=3), K("ConstantLR", factor=0.4, total_iters=4)]),
        ("linearlr_and_multistep_lr", [K("MultiStepLR", gamma=0.1, milestones=[2, 5, 9]),
                                       K("LinearLR", start_factor=0.4, total_iters=4)]),
        ("cosanneal_and_step_lr", [cos, K("StepLR", gamma=0.1, step_size=3)]),
        ("cosanneal_and_multistep_lr", [cos, K("MultiStepLR", gamma=0.1, milestones=[2, 5, 9])]),
        ("cosanneal_and_linearlr", [K("LinearLR", start_factor=0.4, total_iters=4), cos]),
        ("cosanneal_and_exp_lr", [cos, K("ExponentialLR", gamma=0.1)]),
    ]
    for name, children in compound:
        t("compound_" + name, K("ChainedScheduler", schedulers=children), 10)

    # CyclicLR and OneCycleLR with momentum (lr and momentum both in [1, 5] or [1, 25] there).
    cyc = dict(base_lr=1, max_lr=5, cycle_momentum=True, base_momentum=1, max_momentum=5)
    t("cycle_lr_triangular_mode_one_lr", K("CyclicLR", step_size_up=4, mode="triangular", **cyc), 11)
    t("cycle_lr_triangular_mode_one_lr_no_momentum",
      K("CyclicLR", base_lr=1, max_lr=5, step_size_up=4, cycle_momentum=False, mode="triangular"), 11)
    t("cycle_lr_triangular2_mode_one_lr", K("CyclicLR", step_size_up=4, mode="triangular2", **cyc), 22)
    t("cycle_lr_exp_range_mode_one_lr", K("CyclicLR", step_size_up=4, mode="exp_range", gamma=0.9, **cyc), 13)
    t("cycle_lr_triangular_mode_step_size_up_down",
      K("CyclicLR", step_size_up=4, step_size_down=6, mode="triangular", **cyc), 11)
    t("cycle_lr_triangular2_mode_step_size_up_down",
      K("CyclicLR", step_size_up=2, step_size_down=6, mode="triangular2", **cyc), 24)
    t("cycle_lr_exp_range_mode_step_size_up_down",
      K("CyclicLR", step_size_up=2, step_size_down=6, mode="exp_range", gamma=0.9, **cyc), 13)
    one = dict(max_lr=25, base_momentum=1, max_momentum=22, total_steps=10)
    t("onecycle_lr_linear_annealing", K("OneCycleLR", final_div_factor=2, anneal_strategy="linear", **one), 10)
    t("onecycle_lr_linear_annealing_three_phases",
      K("OneCycleLR", div_factor=25, anneal_strategy="linear", pct_start=0.4, final_div_factor=4, three_phase=True,
        **one), 10)
    t("onecycle_lr_cosine_annealing", K("OneCycleLR", final_div_factor=2, **one), 10)

    # SWALR after another scheduler (swa_start = 5: the other steps 5 times, then SWALR).
    t("swalr_no_anneal", K("SwitchLR", schedulers=[K("ConstantLR", factor=1.0), K("SWALR", anneal_epochs=1, swa_lr=0.01)],
                           milestones=[6]), 10)
    t("swalr_cosine_anneal_after_multiplicative",
      K("SwitchLR", schedulers=[K("MultiplicativeLR", lr_lambda="0.9"), K("SWALR", anneal_epochs=5, swa_lr=0.01)],
        milestones=[6]), 15)
    t("swalr_linear_anneal_after_multiplicative",
      K("SwitchLR", schedulers=[K("MultiplicativeLR", lr_lambda="0.9"),
                                K("SWALR", anneal_epochs=4, anneal_strategy="linear", swa_lr=0.01)],
        milestones=[6]), 15)
    # test_cosine_then_cyclic (pytorch#21965): a CyclicLR built after a cosine scheduler on
    # SGD(lr=0.5); the cosine steps while i <= T_max (steps 1..21), the CyclicLR after.
    t("cosine_then_cyclic",
      K("SwitchLR", schedulers=[K("CosineAnnealingLR", T_max=20, eta_min=0.1),
                                K("CyclicLR", base_lr=0.1, max_lr=0.3, step_size_up=1, step_size_down=3)],
        milestones=[22]), 40, lr=0.5)


# ---------------------------------------------------------------------------
# The study's 13 deterministic runs (tests/../shared/seed/tutorial-runs.md)
# ---------------------------------------------------------------------------
EPOCHS, BATCHES = 15, 469
TUTORIAL_STEPS = EPOCHS * BATCHES  # 7035


def tutorial_name(run_name):
    return "tutorial_" + re.sub(r"[^a-z0-9]+", "_", run_name.lower()).strip("_")


TUTORIAL_RUNS = [
    # (run name, per, optimizer lr, spec)
    ("Constant Learning Rate", "batch", 0.001, K("Fixed")),
    ("Step LR Scheduler Epochs", "epoch", 0.001, K("StepLR", step_size=2, gamma=0.95)),
    ("Step LR Scheduler Batches", "batch", 0.001, K("StepLR", step_size=20, gamma=0.99)),
    ("MultiStep LR Scheduler Epochs", "epoch", 0.001, K("MultiStepLR", milestones=[2, 5, 9], gamma=0.95)),
    ("Multiplicative LR Scheduler Epochs", "epoch", 0.001, K("MultiplicativeLR", lr_lambda="0.95")),
    ("Lambda LR Scheduler Epochs", "epoch", 0.001, K("LambdaLR", lr_lambda="0.95**epoch")),
    ("Exponential LR Scheduler Epochs", "epoch", 0.001, K("ExponentialLR", gamma=0.7)),
    ("One Cycle LR Scheduler Batches", "batch", 0.001,
     K("OneCycleLR", max_lr=0.001, steps_per_epoch=BATCHES, epochs=EPOCHS)),
    ("Cyclic LR Scheduler Batches", "batch", 0.001,
     K("CyclicLR", base_lr=0.001 / 3, max_lr=0.001, step_size_up=100, step_size_down=BATCHES - 100)),
    ("Cosine Annealing LR Scheduler Epochs", "epoch", 0.001, K("CosineAnnealingLR", T_max=10, eta_min=0.0001)),
    ("Cosine Annealing With Warm Restarts Scheduler Epochs", "epoch", 0.001,
     K("CosineAnnealingWarmRestarts", T_0=3, T_mult=1, eta_min=0.0001)),
    ("Combining Multiple LR Schedulers Epochs V1", "batch", 0.001,
     K("ChainedScheduler", schedulers=[K("StepLR", step_size=2, gamma=0.95),
                                       K("CosineAnnealingLR", T_max=10, eta_min=0.0001)])),
    ("Combining Multiple LR Schedulers Epochs V2", "batch", 0.003,
     K("SwitchLR", schedulers=[K("CosineAnnealingLR", T_max=2000, eta_min=0.002),
                               K("CosineAnnealingLR", T_max=2000, eta_min=0.001),
                               K("CosineAnnealingLR", T_max=2000, eta_min=0.0005),
                               K("CosineAnnealingLR", T_max=1000, eta_min=0.0001)],
       milestones=[2000, 4001, 6001])),
]


def define_tutorial_cases():
    for run_name, per, lr, spec in TUTORIAL_RUNS:
        case(tutorial_name(run_name), spec, TUTORIAL_STEPS, lr=lr, step_every=(BATCHES if per == "epoch" else 1))


def study_loop(run_name, lr):
    """The study's own training loops (TrainModelInBatchesV1/V2/V3/V5), without the model,
    built with the study's literal constructor calls (lr as a plain float)."""
    p = torch.zeros(1, requires_grad=True)
    p.grad = torch.zeros(1)
    optimizer = torch.optim.SGD(params=[p], lr=lr)
    group = optimizer.param_groups[0]
    lrs, moms = [], []

    def record():
        lrs.append(float(group["lr"]))
        moms.append(float(group["momentum"]))

    L = S
    if run_name == "Constant Learning Rate":  # TrainModelInBatchesV1
        for _ in range(EPOCHS):
            for _ in range(BATCHES):
                record(); optimizer.step()  # noqa: E702
        return lrs, moms
    epoch_scheds = {
        "Step LR Scheduler Epochs": lambda: [L.StepLR(optimizer, step_size=2, gamma=0.95)],
        "MultiStep LR Scheduler Epochs": lambda: [L.MultiStepLR(optimizer, milestones=[2, 5, 9], gamma=0.95)],
        "Multiplicative LR Scheduler Epochs": lambda: [L.MultiplicativeLR(optimizer, lr_lambda=lambda epoch: 0.95)],
        "Lambda LR Scheduler Epochs": lambda: [L.LambdaLR(optimizer, lambda epoch: 0.95**epoch)],
        "Exponential LR Scheduler Epochs": lambda: [L.ExponentialLR(optimizer, gamma=0.7)],
        "Cosine Annealing LR Scheduler Epochs": lambda: [L.CosineAnnealingLR(optimizer, T_max=10, eta_min=0.0001)],
        "Cosine Annealing With Warm Restarts Scheduler Epochs":
            lambda: [L.CosineAnnealingWarmRestarts(optimizer, T_0=3, T_mult=1, eta_min=0.0001)],
    }
    batch_scheds = {
        "Step LR Scheduler Batches": lambda: [L.StepLR(optimizer, step_size=20, gamma=0.99)],
        "One Cycle LR Scheduler Batches":
            lambda: [L.OneCycleLR(optimizer, max_lr=lr, steps_per_epoch=BATCHES, epochs=EPOCHS)],
        "Cyclic LR Scheduler Batches":
            lambda: [L.CyclicLR(optimizer, base_lr=lr / 3, max_lr=lr, step_size_up=100,
                                step_size_down=BATCHES - 100)],
        "Combining Multiple LR Schedulers Epochs V1":
            lambda: [L.StepLR(optimizer, step_size=2, gamma=0.95),
                     L.CosineAnnealingLR(optimizer, T_max=10, eta_min=0.0001)],
    }
    if run_name in epoch_scheds:  # TrainModelInBatchesV2
        schedulers = epoch_scheds[run_name]()
        for _ in range(EPOCHS):
            for _ in range(BATCHES):
                record(); optimizer.step()  # noqa: E702
            for scheduler in schedulers:
                scheduler.step()
        return lrs, moms
    if run_name in batch_scheds:  # TrainModelInBatchesV3
        schedulers = batch_scheds[run_name]()
        for _ in range(EPOCHS):
            for _ in range(BATCHES):
                record(); optimizer.step()  # noqa: E702
                for scheduler in schedulers:
                    scheduler.step()
        return lrs, moms
    if run_name == "Combining Multiple LR Schedulers Epochs V2":  # TrainModelInBatchesV5
        schedulers = [
            L.CosineAnnealingLR(optimizer, T_max=2000, eta_min=0.002),
            L.CosineAnnealingLR(optimizer, T_max=2000, eta_min=0.001),
            L.CosineAnnealingLR(optimizer, T_max=2000, eta_min=0.0005),
            L.CosineAnnealingLR(optimizer, T_max=1000, eta_min=0.0001),
        ]
        steps = 0
        for _ in range(EPOCHS):
            for _ in range(BATCHES):
                record(); optimizer.step()  # noqa: E702
                steps += 1
                if steps < 2000:
                    schedulers[0].step()
                elif steps >= 2000 and steps <= 4000:
                    schedulers[1].step()
                elif steps >= 4000 and steps <= 6000:
                    schedulers[2].step()
                else:
                    schedulers[3].step()
        return lrs, moms
    raise KeyError(run_name)


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only report files that would change")
    ap.add_argument("--only", help="regex: generate only matching cases (no stale-file deletion)")
    args = ap.parse_args()

    torch.set_default_dtype(torch.float32)
    print(f"torch {torch.__version__}", file=sys.stderr)
    define_cases()

    seen_warnings = []
    outputs = {}
    for c in CASES:
        if args.only and not re.search(args.only, c["name"]):
            continue
        if c["spec"]["kind"] == "ReduceLROnPlateau":
            check_plateau_margins(c)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lrs, moms = run_case(c)
        for x in w:
            seen_warnings.append(f"{c['name']}: {x.category.__name__}: {x.message}")
        assert len(lrs) == c["steps"] and all(math.isfinite(v) for v in lrs + moms), c["name"]
        out = dict(c, torch_version=torch.__version__, lr_values=lrs, momentum_values=moms)
        outputs[c["name"]] = golden_files.dumps_case(out, "torch_version")

    define_group_cases()
    group_outputs = {}
    for c in GROUP_CASES:
        if args.only and not re.search(args.only, c["name"]):
            continue
        if c["spec"]["kind"] == "ReduceLROnPlateau":
            for g, lr in enumerate(c["lr"]):
                min_lr = c["spec"]["min_lr"]
                check_plateau_margins(dict(c, lr=lr, spec=dict(c["spec"], min_lr=min_lr[g])))
        lrs, moms = run_case(c)
        assert all(len(v) == c["steps"] and all(math.isfinite(x) for x in v) for v in lrs + moms), c["name"]
        out = dict(c, torch_version=torch.__version__, lr_values=lrs, momentum_values=moms)
        group_outputs[c["name"]] = golden_files.dumps_case(out, "torch_version")

    # The study's runs: the generic build(spec) path must equal the study's own loops.
    for run_name, _per, lr, _spec in TUTORIAL_RUNS:
        name = tutorial_name(run_name)
        if name not in outputs:
            continue
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lrs, moms = study_loop(run_name, lr)
        for x in w:
            seen_warnings.append(f"study loop {run_name}: {x.category.__name__}: {x.message}")
        got = json.loads(outputs[name])
        if got["lr_values"] != lrs or got["momentum_values"] != moms:
            bad = next(i for i in range(len(lrs)) if (got["lr_values"][i], got["momentum_values"][i]) != (lrs[i], moms[i]))
            raise AssertionError(f"{name}: build(spec) differs from the study's loop at step {bad}")
        print(f"checked {name} against the study's own loop", file=sys.stderr)

    for msg in sorted(set(seen_warnings)):
        print("warning:", msg, file=sys.stderr)

    n = golden_files.write(outputs, defaults_table(), lambda name: golden_files.library_of(name) is None,
                           args.check, stale_check=not args.only)
    n += golden_files.write(group_outputs, {}, lambda name: name.startswith("groups"), args.check,
                            stale_check=not args.only, cases_dir=golden_files.GROUPS_DIR)
    if args.check and n:
        sys.exit(1)


if __name__ == "__main__":
    main()
