#!/usr/bin/env python3
"""Golden cases from the other libraries' own schedules, one library per run (each needs its own
environment, pinned below): transformers (on PyTorch), optax and Keras (on JAX).

Usage:  python tests/golden/libraries.py LIBRARY [--check]

Each case records the lr of optimizer update t = 0..steps-1 as the library means it:
  transformers  the LambdaLR's lr before the (t+1)-th scheduler.step(), as its Trainer steps it
                (SGD, one parameter, momentum recorded as it stays);
  timm          the group's lr after scheduler.step(t) (step_update(t) with t_in_epochs=False);
  fastai        a schedule's value at pos = t / total_steps; for fit_one_cycle, fit_flat_cos and
                fit_sgdr, the lr (and mom) its ParamScheduler set before batch t of a real
                Learner's fit (n_epoch x steps / n_epoch batches; recorder.hps);
  optax, keras  schedule(t), an absolute value: the case's `lr` does not scale it; optax with JAX's
                x64 on (the formula in float64, as PyTorch's cases are in Python floats), Keras in
                its own float32 (which sched-core's Keras kinds reproduce operation by operation).
Cases are written to cases/<library>_<name>.json in the schema of README.md, with `reference`
("optax 0.2.8") in place of `torch_version`, and the library's kinds' argument defaults, from
its own signatures, into defaults.json. Files of this library no longer produced are deleted.
"""

import argparse
import importlib
import inspect
import math
import sys

import golden_files

PINNED = {"transformers": "5.25.0", "optax": "0.2.8", "keras": "3.15.1", "timm": "1.0.31", "fastai": "2.8.12"}

CASES = []


def case(library, name, fn, steps, lr=0.1, **kw):
    name = f"{library}_{name}"
    assert all(c["name"] != name for c in CASES), name
    CASES.append(dict(name=name, fn=fn, spec=dict(kind=f"{library}.{fn}", **kw), lr=lr, momentum=0.0, steps=steps,
                      step_every=1, metrics=None))


def define_transformers():
    t = partial_case("transformers")
    t("constant", "get_constant_schedule", 10)
    t("constant_with_warmup_w5", "get_constant_schedule_with_warmup", 20, num_warmup_steps=5)
    t("constant_with_warmup_w0", "get_constant_schedule_with_warmup", 5, num_warmup_steps=0)
    lin = "get_linear_schedule_with_warmup"
    t("linear_w10_t100", lin, 120, num_warmup_steps=10, num_training_steps=100)
    t("linear_no_warmup", lin, 60, lr=0.05, num_warmup_steps=0, num_training_steps=50)
    t("linear_warmup_past_total", lin, 40, num_warmup_steps=30, num_training_steps=20)
    cos = "get_cosine_schedule_with_warmup"
    t("cosine_w10_t100", cos, 120, num_warmup_steps=10, num_training_steps=100)
    t("cosine_no_warmup_cycles2", cos, 50, num_warmup_steps=0, num_training_steps=40, num_cycles=2.0)
    t("cosine_warmup_past_total", cos, 40, num_warmup_steps=30, num_training_steps=20)
    t("cosine_long", cos, 5000, lr=0.001, num_warmup_steps=500, num_training_steps=5000)
    hard = "get_cosine_with_hard_restarts_schedule_with_warmup"
    t("hard_restarts_w10_t100_cycles3", hard, 120, num_warmup_steps=10, num_training_steps=100, num_cycles=3)
    t("hard_restarts_defaults", hard, 70, num_warmup_steps=0, num_training_steps=60)
    poly = "get_polynomial_decay_schedule_with_warmup"
    t("polynomial_w10_t100", poly, 120, num_warmup_steps=10, num_training_steps=100)
    t("polynomial_power2_lr_end", poly, 60, num_warmup_steps=0, num_training_steps=50, lr_end=0.001, power=2.0)
    t("polynomial_power05", poly, 40, lr=0.02, num_warmup_steps=5, num_training_steps=30, lr_end=1e-4, power=0.5)
    inv = "get_inverse_sqrt_schedule"
    t("inverse_sqrt_w10", inv, 100, num_warmup_steps=10)
    t("inverse_sqrt_timescale50", inv, 200, num_warmup_steps=5, timescale=50)
    t("inverse_sqrt_no_warmup", inv, 100, num_warmup_steps=0)
    mn = "get_cosine_with_min_lr_schedule_with_warmup"
    t("cosine_min_lr_rate", mn, 120, num_warmup_steps=10, num_training_steps=100, min_lr_rate=0.1)
    t("cosine_min_lr_cycles1", mn, 60, num_warmup_steps=0, num_training_steps=50, num_cycles=1.0, min_lr=0.001)
    rate = "get_cosine_with_min_lr_schedule_with_warmup_lr_rate"
    t("cosine_min_lr_lr_rate", rate, 120, num_warmup_steps=10, num_training_steps=100, min_lr_rate=0.1)
    t("cosine_min_lr_warmup_lr_rate", rate, 60, num_warmup_steps=8, num_training_steps=50, min_lr=0.002,
      warmup_lr_rate=0.05)
    t("cosine_min_lr_warmup_w1", rate, 20, num_warmup_steps=1, num_training_steps=15, min_lr_rate=0.0,
      warmup_lr_rate=0.5)
    wsd = "get_wsd_schedule"
    t("wsd_defaults", wsd, 70, num_warmup_steps=10, num_stable_steps=20, num_decay_steps=30)
    t("wsd_cosine_warmup_1sqrt_decay_min_ratio", wsd, 50, num_warmup_steps=12, num_stable_steps=8,
      num_decay_steps=25, warmup_type="cosine", decay_type="1-sqrt", min_lr_ratio=0.1)
    t("wsd_1sqrt_warmup_linear_decay", wsd, 30, num_warmup_steps=7, num_stable_steps=0, num_decay_steps=20,
      warmup_type="1-sqrt", decay_type="linear", min_lr_ratio=0.05)
    t("wsd_cosine_decay_num_cycles1", wsd, 50, num_warmup_steps=0, num_stable_steps=5, num_decay_steps=40,
      num_cycles=1.0, min_lr_ratio=0.2)
    t("wsd_num_training_steps", wsd, 110, num_warmup_steps=10, num_decay_steps=30, num_training_steps=100)
    t("wsd_negative_stable", wsd, 50, num_warmup_steps=10, num_decay_steps=30, num_training_steps=30,
      decay_type="linear")


def partial_case(library):
    return lambda name, fn, steps, **kw: case(library, name, fn, steps, **kw)


def transformers_values(c):
    import torch
    from transformers import optimization

    p = torch.zeros(1, requires_grad=True)
    p.grad = torch.zeros(1)
    opt = torch.optim.SGD([p], lr=c["lr"], momentum=c["momentum"])
    kw = {k: v for k, v in c["spec"].items() if k != "kind"}
    sched = getattr(optimization, c["fn"])(opt, **kw)
    group = opt.param_groups[0]
    lrs, moms = [], []
    for _ in range(c["steps"]):
        lrs.append(float(group["lr"]))
        moms.append(float(group["momentum"]))
        opt.step()
        sched.step()
    return lrs, moms


def transformers_defaults():
    from transformers import optimization

    return {c["spec"]["kind"]: signature_defaults(getattr(optimization, c["fn"])) for c in CASES}


NOT_PARAMETERS = {"self", "optimizer", "last_epoch", "name"}


def signature_defaults(f):
    return {n: p.default for n, p in inspect.signature(f).parameters.items()
            if n not in NOT_PARAMETERS and p.default is not inspect.Parameter.empty
            and p.kind is not inspect.Parameter.VAR_KEYWORD}


def define_optax():
    o = partial_case("optax")
    o("constant", "constant_schedule", 5, value=0.02)
    poly = "polynomial_schedule"
    o("polynomial_power2", poly, 60, init_value=0.1, end_value=0.001, power=2.0, transition_steps=50)
    o("polynomial_begin", poly, 40, init_value=0.05, end_value=0.0, power=0.5, transition_steps=20,
      transition_begin=10)
    o("polynomial_zero_steps", poly, 5, init_value=0.05, end_value=0.0, power=1.0, transition_steps=0)
    o("linear", "linear_schedule", 60, init_value=0.0, end_value=0.1, transition_steps=40, transition_begin=5)
    o("linear_decay", "linear_schedule", 30, init_value=0.1, end_value=0.01, transition_steps=25)
    pc = "piecewise_constant_schedule"
    o("piecewise_constant", pc, 40, init_value=0.1, boundaries_and_scales={"10": 0.5, "25": 0.1})
    o("piecewise_constant_unsorted", pc, 40, init_value=0.1, boundaries_and_scales={"30": 2.0, "5": 0.25})
    o("piecewise_constant_none", pc, 5, init_value=0.1)
    exp = "exponential_decay"
    o("exponential", exp, 100, init_value=0.1, transition_steps=10, decay_rate=0.5)
    o("exponential_staircase_begin", exp, 60, init_value=0.1, transition_steps=7, decay_rate=0.8,
      transition_begin=5, staircase=True)
    o("exponential_end_value", exp, 80, init_value=0.1, transition_steps=10, decay_rate=0.5, end_value=0.01)
    o("exponential_growth_end_value", exp, 50, init_value=0.01, transition_steps=10, decay_rate=2.0, end_value=0.1)
    o("exponential_long", exp, 5000, init_value=0.01, transition_steps=100, decay_rate=0.9)
    cd = "cosine_decay_schedule"
    o("cosine_decay", cd, 120, init_value=0.1, decay_steps=100)
    o("cosine_decay_alpha_exponent", cd, 60, init_value=0.05, decay_steps=50, alpha=0.1, exponent=2.0)
    o("cosine_decay_long", cd, 10000, init_value=0.001, decay_steps=10000)
    pi = "piecewise_interpolate_schedule"
    o("piecewise_interpolate_linear", pi, 50, interpolate_type="linear", init_value=0.1,
      boundaries_and_scales={"10": 0.5, "30": 0.2})
    o("piecewise_interpolate_cosine", pi, 50, interpolate_type="cosine", init_value=0.1,
      boundaries_and_scales={"0": 1.0, "20": 0.1, "40": 2.0})
    o("linear_onecycle", "linear_onecycle_schedule", 120, transition_steps=100, peak_value=0.1)
    o("linear_onecycle_short", "linear_onecycle_schedule", 12, transition_steps=10, peak_value=0.1,
      pct_start=0.29, pct_final=0.7)
    o("cosine_onecycle", "cosine_onecycle_schedule", 120, transition_steps=100, peak_value=0.1)
    o("cosine_onecycle_pct", "cosine_onecycle_schedule", 80, transition_steps=70, peak_value=0.05, pct_start=0.25,
      div_factor=10.0, final_div_factor=100.0)
    o("warmup_constant", "warmup_constant_schedule", 30, init_value=0.0, peak_value=0.1, warmup_steps=10)
    wc = "warmup_cosine_decay_schedule"
    o("warmup_cosine_decay", wc, 120, init_value=0.0, peak_value=0.1, warmup_steps=10, decay_steps=100)
    o("warmup_cosine_decay_end_exponent", wc, 70, init_value=0.001, peak_value=0.05, warmup_steps=5,
      decay_steps=60, end_value=0.005, exponent=0.5)
    we = "warmup_exponential_decay_schedule"
    o("warmup_exponential_decay", we, 80, init_value=0.0, peak_value=0.1, warmup_steps=10, transition_steps=10,
      decay_rate=0.7)
    o("warmup_exponential_decay_staircase_end", we, 80, init_value=0.01, peak_value=0.1, warmup_steps=5,
      transition_steps=8, decay_rate=0.5, transition_begin=3, staircase=True, end_value=0.005)
    o("sgdr", "sgdr_schedule", 200, cosine_kwargs=[
        dict(init_value=0.0, peak_value=0.1, warmup_steps=5, decay_steps=50),
        dict(init_value=0.0, peak_value=0.05, warmup_steps=5, decay_steps=100, end_value=0.001),
    ])
    o("sgdr_three", "sgdr_schedule", 100, cosine_kwargs=[
        dict(init_value=0.01, peak_value=0.1, warmup_steps=0, decay_steps=20),
        dict(init_value=0.01, peak_value=0.1, warmup_steps=2, decay_steps=30, exponent=2.0),
        dict(init_value=0.0, peak_value=0.02, warmup_steps=10, decay_steps=40),
    ])


def optax_values(c):
    import jax
    import jax.numpy as jnp
    import optax

    jax.config.update("jax_enable_x64", True)
    kw = {k: v for k, v in c["spec"].items() if k != "kind"}
    if "boundaries_and_scales" in kw:
        kw["boundaries_and_scales"] = {int(k): v for k, v in kw["boundaries_and_scales"].items()}
    schedule = getattr(optax.schedules, c["fn"])(**kw)
    lrs = [float(schedule(jnp.asarray(t, dtype=jnp.int64))) for t in range(c["steps"])]
    return lrs, [c["momentum"]] * c["steps"]


def optax_defaults():
    import optax

    return {c["spec"]["kind"]: signature_defaults(getattr(optax.schedules, c["fn"])) for c in CASES}


def define_keras():
    k = partial_case("keras")
    k("exponential", "ExponentialDecay", 100, initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5)
    k("exponential_staircase", "ExponentialDecay", 60, initial_learning_rate=0.1, decay_steps=7, decay_rate=0.8,
      staircase=True)
    k("exponential_long", "ExponentialDecay", 5000, initial_learning_rate=0.01, decay_steps=100, decay_rate=0.9)
    k("piecewise", "PiecewiseConstantDecay", 40, boundaries=[10, 25], values=[0.1, 0.05, 0.01])
    k("piecewise_one", "PiecewiseConstantDecay", 10, boundaries=[3], values=[1.0, 0.5])
    k("polynomial", "PolynomialDecay", 120, initial_learning_rate=0.1, decay_steps=100)
    k("polynomial_power2_end", "PolynomialDecay", 60, initial_learning_rate=0.1, decay_steps=50,
      end_learning_rate=0.001, power=2.0)
    k("polynomial_cycle", "PolynomialDecay", 100, initial_learning_rate=0.1, decay_steps=20,
      end_learning_rate=0.01, power=0.5, cycle=True)
    k("inverse_time", "InverseTimeDecay", 100, initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5)
    k("inverse_time_staircase", "InverseTimeDecay", 60, initial_learning_rate=0.1, decay_steps=7, decay_rate=1.0,
      staircase=True)
    k("cosine", "CosineDecay", 120, initial_learning_rate=0.1, decay_steps=100)
    k("cosine_alpha", "CosineDecay", 60, initial_learning_rate=0.05, decay_steps=50, alpha=0.1)
    k("cosine_warmup", "CosineDecay", 130, initial_learning_rate=0.0, decay_steps=100, warmup_target=0.1,
      warmup_steps=20)
    k("cosine_long", "CosineDecay", 10000, initial_learning_rate=0.001, decay_steps=10000)
    k("cosine_restarts", "CosineDecayRestarts", 300, initial_learning_rate=0.1, first_decay_steps=20)
    k("cosine_restarts_m_mul_alpha", "CosineDecayRestarts", 200, initial_learning_rate=0.1, first_decay_steps=15,
      t_mul=1.0, m_mul=0.5, alpha=0.05)
    k("cosine_restarts_t_mul3", "CosineDecayRestarts", 400, initial_learning_rate=0.05, first_decay_steps=10,
      t_mul=3.0, m_mul=0.8)


def keras_values(c):
    import os

    os.environ["KERAS_BACKEND"] = "jax"
    import keras

    # Keras' own precision, float32 (even with float64 as floatx and JAX's x64 on, its schedules
    # take pi and the cosine in float32): sched-core's Keras kinds compute as Keras does.
    kw = {k: v for k, v in c["spec"].items() if k != "kind"}
    schedule = getattr(keras.optimizers.schedules, c["fn"])(**kw)
    lrs = [float(schedule(t)) for t in range(c["steps"])]
    return lrs, [c["momentum"]] * c["steps"]


def keras_defaults():
    import os

    os.environ["KERAS_BACKEND"] = "jax"
    import keras

    return {c["spec"]["kind"]: signature_defaults(getattr(keras.optimizers.schedules, c["fn"]))
            for c in CASES}


def define_timm():
    t = partial_case("timm")
    cos = "CosineLRScheduler"
    t("cosine_t_initial50", cos, 60, t_initial=50)
    t("cosine_cycles_decay", cos, 70, t_initial=20, lr_min=0.0001, cycle_decay=0.5, cycle_limit=3)
    t("cosine_cycle_mul2_k_decay2", cos, 80, t_initial=10, lr_min=0.001, cycle_mul=2, cycle_limit=3, k_decay=2.0)
    t("cosine_cycle_mul3_log_rounding", cos, 730, t_initial=2, lr_min=0.001, cycle_mul=3, cycle_decay=0.9,
      cycle_limit=6)
    t("cosine_cycle_mul15_warmup", cos, 120, t_initial=10, lr_min=0.001, cycle_mul=1.5, cycle_limit=4, warmup_t=5,
      warmup_lr_init=0.0001)
    t("cosine_warmup_prefix", cos, 60, t_initial=40, warmup_t=10, warmup_lr_init=1e-5, warmup_prefix=True)
    t("cosine_long", cos, 5000, lr=0.001, t_initial=4800, lr_min=1e-6, warmup_t=200, t_in_epochs=False)
    tanh = "TanhLRScheduler"
    t("tanh_t_initial50", tanh, 60, t_initial=50)
    t("tanh_cycles_decay", tanh, 70, t_initial=15, lb=-5.0, ub=5.0, lr_min=0.001, cycle_decay=0.8, cycle_limit=4)
    t("tanh_cycle_mul2", tanh, 60, t_initial=8, cycle_mul=2, cycle_limit=3)
    t("tanh_warmup", tanh, 50, t_initial=30, warmup_t=6, warmup_lr_init=0.001)
    t("tanh_warmup_prefix", tanh, 50, t_initial=30, warmup_t=6, warmup_lr_init=0.001, warmup_prefix=True)
    step = "StepLRScheduler"
    t("step", step, 50, decay_t=10, decay_rate=0.5)
    t("step_warmup_float_decay_t", step, 60, decay_t=7.5, decay_rate=0.8, warmup_t=5, warmup_lr_init=0.001)
    t("step_warmup_no_prefix", step, 40, decay_t=10, decay_rate=0.1, warmup_t=5, warmup_prefix=False)
    ms = "MultiStepLRScheduler"
    t("multistep", ms, 50, decay_t=[10, 25, 40], decay_rate=0.5)
    t("multistep_warmup", ms, 50, decay_t=[10, 30], decay_rate=0.1, warmup_t=5, warmup_lr_init=0.001)
    poly = "PolyLRScheduler"
    t("poly", poly, 60, t_initial=50)
    t("poly_power2_cycles", poly, 100, t_initial=20, power=2.0, lr_min=0.001, cycle_decay=0.5, cycle_limit=4)
    t("poly_cycle_mul2_k_decay_warmup", poly, 90, t_initial=10, power=1.0, cycle_mul=2.0, cycle_limit=3,
      k_decay=0.5, warmup_t=4, warmup_lr_init=0.01, warmup_prefix=True)
    wsd = "WSDLRScheduler"
    t("wsd", wsd, 120, t_initial=100, decay_t=20)
    t("wsd_warmup_rsqrt_cosine", wsd, 130, t_initial=100, decay_t=30, lr_min=0.001, stable_fn="rsqrt",
      decay_fn="cosine", warmup_t=10, warmup_lr_init=0.0)
    t("wsd_power_power", wsd, 80, t_initial=60, decay_t=60, stable_fn="power", stable_timescale=20.0,
      stable_power=0.3, decay_fn="power", decay_power=2.0)
    t("wsd_linear", wsd, 50, t_initial=40, decay_t=10, decay_fn="linear", lr_min=0.01)
    t("wsd_exp", wsd, 50, t_initial=40, decay_t=25, decay_fn="exp", decay_ratio=0.05, warmup_t=5)


def timm_values(c):
    import timm.scheduler
    import torch

    p = torch.zeros(1, requires_grad=True)
    p.grad = torch.zeros(1)
    opt = torch.optim.SGD([p], lr=c["lr"], momentum=c["momentum"])
    kw = {k: v for k, v in c["spec"].items() if k != "kind"}
    sched = getattr(timm.scheduler, c["fn"])(opt, **kw)
    group = opt.param_groups[0]
    lrs, moms = [], []
    for t in range(c["steps"]):
        if kw.get("t_in_epochs", True):
            sched.step(t)
        else:
            sched.step_update(t)
        lrs.append(float(group["lr"]))
        moms.append(float(group["momentum"]))
    return lrs, moms


def timm_defaults():
    import timm.scheduler

    return {c["spec"]["kind"]: signature_defaults(getattr(timm.scheduler, c["fn"]).__init__) for c in CASES}


def define_fastai():
    f = partial_case("fastai")
    f("sched_lin", "SchedLin", 50, start=0.001, end=0.1, total_steps=50)
    f("sched_cos", "SchedCos", 100, start=0.1, end=1e-5, total_steps=100)
    f("sched_cos_up", "SchedCos", 40, start=0.0, end=0.05, total_steps=40)
    f("sched_no", "SchedNo", 10, start=0.02, end=0.5, total_steps=10)
    f("sched_exp", "SchedExp", 80, start=1e-5, end=1.0, total_steps=80)
    f("sched_poly", "SchedPoly", 60, start=0.1, end=0.001, power=2.0, total_steps=60)
    cs = "combine_scheds"
    f("combine_lin_cos", cs, 100, pcts=[0.3, 0.7], total_steps=100, scheds=[
        dict(kind="fastai.SchedLin", start=0.001, end=0.1), dict(kind="fastai.SchedCos", start=0.1, end=0.0)])
    f("combine_exp_poly", cs, 90, pcts=[0.5, 0.5], total_steps=90, scheds=[
        dict(kind="fastai.SchedExp", start=1e-4, end=0.1), dict(kind="fastai.SchedPoly", start=0.1, end=0.0, power=0.5)])
    f("combine_one", cs, 30, pcts=[1.0], total_steps=30, scheds=[dict(kind="fastai.SchedNo", start=0.05, end=0.0)])
    f("combined_cos", "combined_cos", 100, pct=0.25, start=0.004, middle=0.1, end=1e-6, total_steps=100)
    f("combined_cos_moms", "combined_cos", 70, pct=0.4, start=0.95, middle=0.85, end=0.95, total_steps=70)
    f("fit_one_cycle", "fit_one_cycle", 100, n_epoch=2, total_steps=100)
    f("fit_one_cycle_args", "fit_one_cycle", 120, lr=0.01, n_epoch=3, lr_max=0.05, div=10.0, div_final=1e4,
      pct_start=0.3, moms=[0.9, 0.8, 0.9], total_steps=120)
    f("fit_flat_cos", "fit_flat_cos", 80, n_epoch=2, total_steps=80)
    f("fit_flat_cos_args", "fit_flat_cos", 90, n_epoch=3, lr=0.02, div_final=100.0, pct_start=0.5, total_steps=90)
    f("fit_sgdr", "fit_sgdr", 140, n_cycles=3, cycle_len=1, total_steps=140)
    f("fit_sgdr_mult3", "fit_sgdr", 130, n_cycles=3, cycle_len=1, lr_max=0.05, cycle_mult=3, total_steps=130)


FASTAI_FITS = {"fit_one_cycle": "n_epoch", "fit_flat_cos": "n_epoch", "fit_sgdr": None}


def fastai_values(c):
    import warnings

    warnings.filterwarnings("ignore")
    import torch
    from fastai.callback import schedule
    from fastai.data.core import DataLoaders
    from fastai.data.load import DataLoader
    from fastai.learner import Learner
    from fastai.losses import MSELossFlat
    from fastai.optimizer import SGD

    kw = {k: v for k, v in c["spec"].items() if k not in ("kind", "total_steps")}
    n = c["steps"]
    if c["fn"] not in FASTAI_FITS:
        if c["fn"] == "combine_scheds":
            make = {k: getattr(schedule, k.split(".")[1]) for k in
                    ("fastai.SchedLin", "fastai.SchedCos", "fastai.SchedNo", "fastai.SchedExp", "fastai.SchedPoly")}
            scheds = [make[s["kind"]](s["start"], s["end"], *([s["power"]] if "power" in s else []))
                      for s in kw["scheds"]]
            f = schedule.combine_scheds(kw["pcts"], scheds)
        else:
            f = getattr(schedule, c["fn"])(**kw)
        return [float(f(t / n)) for t in range(n)], [c["momentum"]] * n
    # A real fit: N = n_epoch x n_iter batches (fit_sgdr's n_epoch from its cycles).
    if c["fn"] == "fit_sgdr":
        m = kw.get("cycle_mult", 2)
        n_epoch = kw["cycle_len"] * (m ** kw["n_cycles"] - 1) // (m - 1)
    else:
        n_epoch = kw["n_epoch"]
    assert n % n_epoch == 0, c["name"]
    data = [(torch.zeros(1), torch.zeros(1))] * (n // n_epoch)
    dls = DataLoaders(DataLoader(data, bs=1, shuffle=False), DataLoader(data[:1], bs=1))
    learn = Learner(dls, torch.nn.Linear(1, 1), loss_func=MSELossFlat(), opt_func=SGD, lr=c["lr"])
    with learn.no_bar(), learn.no_logging():
        if c["fn"] == "fit_sgdr":
            learn.fit_sgdr(kw.pop("n_cycles"), kw.pop("cycle_len"), **kw)
        else:
            getattr(learn, c["fn"])(kw.pop("n_epoch"), **kw)
    hps = learn.recorder.hps
    lrs = [float(v) for v in hps["lr"]]
    moms = [float(v) for v in hps["mom"]] if "mom" in hps else [c["momentum"]] * n
    return lrs, moms


# fit_*'s arguments that are not the schedule's (sched-core does not take them).
FASTAI_NOT_SCHEDULE = {"wd", "cbs", "reset_opt", "start_epoch"}


def fastai_defaults():
    from fastai.callback import schedule
    from fastai.learner import Learner

    out = {}
    for c in CASES:
        f = getattr(Learner, c["fn"]) if c["fn"] in FASTAI_FITS else getattr(schedule, c["fn"])
        d = {k: v for k, v in signature_defaults(f).items() if k not in FASTAI_NOT_SCHEDULE}
        # This crate's own argument, N of pos = t / N.
        out[c["spec"]["kind"]] = dict(d, total_steps=None)
    return out


LIBRARY = {
    "fastai": (define_fastai, fastai_values, fastai_defaults),
    "timm": (define_timm, timm_values, timm_defaults),
    "transformers": (define_transformers, transformers_values, transformers_defaults),
    "optax": (define_optax, optax_values, optax_defaults),
    "keras": (define_keras, keras_values, keras_defaults),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("library", choices=sorted(LIBRARY))
    ap.add_argument("--check", action="store_true", help="only report files that would change")
    args = ap.parse_args()
    lib = args.library
    if lib == "keras":
        import os

        os.environ["KERAS_BACKEND"] = "jax"
    version = importlib.import_module(lib).__version__
    if version != PINNED[lib]:
        sys.exit(f"{lib} {version} is installed; the golden cases are pinned to {PINNED[lib]}")
    define, values, defaults = LIBRARY[lib]
    define()
    outputs = {}
    for c in CASES:
        lrs, moms = values(c)
        assert len(lrs) == c["steps"] and all(math.isfinite(v) for v in lrs + moms), c["name"]
        out = dict(c, reference=f"{lib} {version}", lr_values=lrs, momentum_values=moms)
        outputs[c["name"]] = golden_files.dumps_case(out, "reference")
    n = golden_files.write(outputs, defaults(), lambda name: golden_files.library_of(name) == lib, args.check)
    if args.check and n:
        sys.exit(1)


if __name__ == "__main__":
    main()
