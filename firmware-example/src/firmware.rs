//! The device program (see main.rs).

use core::hint::black_box;
use cortex_m::peripheral::{syst::SystClkSource, SYST};
use cortex_m_rt::entry;
use firmware_example::bringup::{self, code};
use firmware_example::finetune::{self, Outcome, Plan, Trainer};
use firmware_example::golden::{self, CASES};
use firmware_example::lr_find;
use sched_core::{Error, LambdaLR, Scheduler, Suggestion};

#[entry]
fn main() -> ! {
    let mut cp = cortex_m::Peripherals::take().unwrap();
    let stack_floor = paint_stack();
    cp.SYST.set_clock_source(SystClkSource::Core);
    cp.SYST.set_reload(0x00FF_FFFF);
    cp.SYST.clear_current();
    cp.SYST.enable_counter();

    let mut ok = true;
    defmt::info!("sched-core firmware example on Cortex-M4F (QEMU mps2-an386); no heap");

    defmt::info!("stack: {=u32} bytes at entry", stack_used(stack_floor));
    ok &= finetuning();
    defmt::info!(
        "stack: {=u32} bytes after fine-tuning",
        stack_used(stack_floor)
    );
    ok &= golden_table();
    defmt::info!(
        "stack: {=u32} bytes after the golden table",
        stack_used(stack_floor)
    );
    ok &= lr_find_table();
    defmt::info!(
        "stack: {=u32} bytes after the lr-find golden table",
        stack_used(stack_floor)
    );
    // 3. Instructions per step(), deterministic under `qemu -icount shift=0`.
    bench(&mut ok);

    let used = stack_used(stack_floor);
    defmt::info!(
        "stack: {=u32} bytes used at most; size_of Scheduler {=usize} B, GroupScheduler<2> {=usize} B, Spec {=usize} B, Trainer {=usize} B (static), LrFinder<{=usize}> {=usize} B, LrFinder<{=usize}> {=usize} B",
        used, core::mem::size_of::<Scheduler>(), core::mem::size_of::<sched_core::GroupScheduler<2>>(), core::mem::size_of::<sched_core::Spec>(), core::mem::size_of::<Trainer>(),
        finetune::SWEEP_STEPS as usize, core::mem::size_of::<finetune::Finder>(), lr_find::CAPACITY, core::mem::size_of::<lr_find::Finder>()
    );
    if ok {
        defmt::info!("all checks passed");
        bringup::exit(code::OK)
    } else {
        defmt::error!("some check FAILED");
        bringup::exit(code::CHECK_FAILED)
    }
}

/// 1. An LR range test, then fine-tuning on Fashion-MNIST features, one run per schedule,
///    each from the same start: warmup + cosine and OneCycleLR at hand-chosen lrs, then
///    OneCycleLR at the lr the range test suggested.
#[inline(never)]
fn finetuning() -> bool {
    let mut ok = true;
    let trainer = cortex_m::singleton!(TRAINER: Trainer = Trainer::new()).unwrap();
    let start = trainer.params();
    let found = range_test(trainer, &start);
    ok &= found.is_some();
    let mut hand = None;
    let plans = [Plan::WarmupCosine, Plan::OneCycle, Plan::OneCycleFound(0.0)];
    for plan in plans {
        let plan = match (plan, found) {
            (Plan::OneCycleFound(_), Some(lr)) => Plan::OneCycleFound(lr),
            (Plan::OneCycleFound(_), None) => continue,
            (plan, _) => plan,
        };
        trainer.restore(&start);
        let name = plan.name();
        let result = finetune::finetune(trainer, plan, |e| {
            defmt::info!(
                "finetune {=str} epoch {=u32}: train_loss={=f32} eval_loss={=f32} eval_acc={=u32}/{=u32} lr={=f32} momentum={=f32}",
                name, e.epoch, e.train_loss, e.eval.loss, e.eval.correct, e.eval.total, e.lr, e.momentum
            );
        });
        match result {
            Ok(out) => {
                let good = finetune::improved(&out);
                ok &= good;
                defmt::info!(
                    "finetune {=str}: eval loss {=f32} -> {=f32}, accuracy {=u32}/{=u32} -> {=u32}/{=u32}: {=str}",
                    name, out.before.loss, out.after.loss, out.before.correct, out.before.total,
                    out.after.correct, out.after.total, if good { "improved" } else { "NOT IMPROVED" }
                );
                defmt::info!("repro {=str} hash={=u32:#010x}", name, out.hash);
                match plan {
                    Plan::OneCycle => hand = Some(out),
                    Plan::OneCycleFound(lr) => ok &= compare(hand, lr, &out),
                    Plan::WarmupCosine => {}
                }
            }
            Err(e) => {
                ok = false;
                defmt::error!("finetune {=str}: scheduler error {}", name, e);
            }
        }
    }
    ok
}

/// The LR range test before fine-tuning, from `start` (the trainer's parameters); leaves the
/// trainer at `start` again. Returns the suggested `max_lr`, or `None` (logged) when there is
/// none or the parameters did not come back.
#[inline(never)]
fn range_test(trainer: &mut Trainer, start: &finetune::Params) -> Option<f32> {
    let test = finetune::range_test(trainer, Plan::OneCycle, finetune::SEED, |s| {
        // Every 10th step of the sweep (and the hash of all of them below).
        if s.step % 10 == 0 {
            defmt::info!(
                "lr-find step {=u32}: lr={=f32} loss={=f32} smoothed={=f32}",
                s.step,
                s.lr,
                s.loss,
                s.smoothed
            );
        }
    });
    let test = match test {
        Ok(t) => t,
        Err(e) => {
            defmt::error!("lr-find: error {}", e);
            return None;
        }
    };
    let finder = &test.finder;
    let (lrs, smoothed) = (finder.lrs(), finder.smoothed_losses());
    let last = lrs.len().saturating_sub(1);
    defmt::info!(
        "lr-find: {=usize} of {=u32} steps, {} at lr={=f32} smoothed={=f32}; momentum {=?}, no heap",
        lrs.len(),
        finder.num_iter(),
        finder.status(),
        lrs.get(last).copied().unwrap_or(f32::NAN),
        smoothed.get(last).copied().unwrap_or(f32::NAN),
        finder.momentum_value()
    );
    defmt::info!("repro lr-find hash={=u32:#010x}", test.hash);
    let restored = trainer.params() == *start;
    defmt::info!(
        "lr-find: weights {=str}",
        if restored {
            "restored (bit for bit)"
        } else {
            "NOT RESTORED"
        }
    );
    for rule in Suggestion::ALL {
        let mark = if rule == finetune::RULE {
            " <- max_lr"
        } else {
            ""
        };
        match finder.suggest(rule) {
            Ok(s) => defmt::info!(
                "lr-find suggest {=str}: point {=usize} lr={=f32}{=str}",
                rule.name(),
                s.index,
                s.lr,
                mark
            ),
            Err(e) => defmt::info!("lr-find suggest {=str}: none ({})", rule.name(), e),
        }
    }
    match test.suggested() {
        Ok(s) if restored => Some(s.lr),
        Ok(_) => None,
        Err(e) => {
            defmt::error!(
                "lr-find: no {=str} suggestion: {}",
                finetune::RULE.name(),
                e
            );
            None
        }
    }
}

/// The found-lr run against the hand-chosen OneCycleLR run: at least its held-out accuracy.
fn compare(hand: Option<Outcome>, found_lr: f32, found: &Outcome) -> bool {
    let Some(hand) = hand else {
        defmt::error!("lr-find: no hand-chosen run to compare with");
        return false;
    };
    let good = finetune::as_good(found, &hand);
    defmt::info!(
        "lr-find vs hand-chosen: one-cycle max_lr={=f32} (hand-chosen) eval_loss={=f32} eval_acc={=u32}/{=u32}; max_lr={=f32} ({=str}) eval_loss={=f32} eval_acc={=u32}/{=u32}: {=str}",
        finetune::HAND_LR, hand.after.loss, hand.after.correct, hand.after.total,
        found_lr, finetune::RULE.name(), found.after.loss, found.after.correct, found.after.total,
        if good { "as good" } else { "NOT AS GOOD" }
    );
    good
}

/// 2. The golden table.
#[inline(never)]
fn golden_table() -> bool {
    let perturb = if cfg!(feature = "force-failure") {
        1.0 + 1e-4
    } else {
        1.0
    };
    let (mut passed, mut checked) = (0u32, 0u32);
    for (i, case) in CASES.iter().enumerate() {
        // force-failure: perturb the first case only, so the count must come out N-1/N.
        match case.run(if i == 0 { perturb } else { 1.0 }) {
            Ok(v) if v.pass() => {
                passed += 1;
                checked += v.checked;
            }
            Ok(v) => defmt::error!(
                "golden {=str}: MISS lr err {=f64} momentum err {=f64} (worst at step {=u32}; bar {=f64})",
                case.name, v.lr_error, v.momentum_error, v.worst_step, golden::BAR
            ),
            Err(e) => defmt::error!("golden {=str}: error {}", case.name, e),
        }
    }
    defmt::info!(
        "golden: {=u32}/{=usize} within tolerance ({=u32} steps compared, bar {=f64})",
        passed,
        CASES.len(),
        checked,
        golden::BAR
    );
    if !cfg!(feature = "expr") {
        defmt::info!(
            "golden: {=usize} expression cases left out (built without the `expr` feature)",
            golden::NEED_EXPR
        );
    }
    passed == CASES.len() as u32
}

/// 2b. The LR range test golden cases (fastai, Lightning), exact.
#[inline(never)]
fn lr_find_table() -> bool {
    let perturb = if cfg!(feature = "force-failure") {
        1.0 + 1e-4
    } else {
        1.0
    };
    // On the stack: about 2.4 KB, plus valley's table (4 bytes per point) while it suggests.
    let mut finder = match lr_find::CASES[0].finder() {
        Ok(f) => f,
        Err(e) => {
            defmt::error!("lr-find golden: error {}", e);
            return false;
        }
    };
    let mut passed = 0u32;
    for (i, case) in lr_find::CASES.iter().enumerate() {
        // force-failure: perturb the first case's first loss, so the count must come out N-1/N.
        let v = case.run(&mut finder, if i == 0 { perturb } else { 1.0 });
        match v.miss {
            None => {
                passed += 1;
                defmt::info!(
                    "lr-find golden {=str}: pass ({=u32} points, {}, {=u32}/5 suggestions)",
                    case.name,
                    v.points,
                    v.status,
                    v.suggestions
                );
            }
            Some(miss) => defmt::error!(
                "lr-find golden {=str}: MISS {} ({=u32} points, {})",
                case.name,
                miss,
                v.points,
                v.status
            ),
        }
    }
    defmt::info!(
        "lr-find golden: {=u32}/{=usize} exact (lrs, smoothed losses, 5 suggestions each; fastai 2.8, Lightning 2.6)",
        passed,
        lr_find::CASES.len()
    );
    passed == lr_find::CASES.len() as u32
}

// ---------------------------------------------------------------------------------------------
// Instruction counting: SysTick on the core clock, which under `-icount shift=0` advances with
// executed instructions. Instructions per tick are calibrated with a loop of known length.

fn ticks_of(f: impl FnOnce()) -> u32 {
    let start = SYST::get_current();
    f();
    let end = SYST::get_current();
    start.wrapping_sub(end) & 0x00FF_FFFF
}

/// `2 * n` instructions (`subs`, `bne`).
#[inline(never)]
fn spin(n: u32) {
    #[allow(unsafe_code)]
    unsafe {
        core::arch::asm!("2:", "subs {0}, #1", "bne 2b", inout(reg) n => _, options(nomem, nostack));
    }
}

#[inline(never)]
fn nop_step(s: &mut Scheduler, metric: Option<f32>) -> Result<(), Error> {
    black_box((s, metric));
    Ok(())
}

#[inline(never)]
fn one_step(s: &mut Scheduler, metric: Option<f32>) -> Result<(), Error> {
    match metric {
        Some(m) => s.step_with_metric(m),
        None => s.step(),
    }
}

const BENCH_STEPS: u32 = 500;

/// `LambdaLR_exp_cos`'s lambda as a Rust fn in f32 (what an embedded user would write).
fn lambda_native(epoch: u32) -> f32 {
    let e = epoch as f32;
    libm::expf(-0.01 * e) * 0.5 * (1.0 + libm::cosf(core::f32::consts::PI * e / 40.0))
}

/// (label, golden case whose schedule is measured).
const BENCH: &[(&str, &str)] = &[
    ("Fixed", "Fixed_lr01"),
    ("StepLR", "StepLR_step_size1_gamma099"),
    ("MultiStepLR", "MultiStepLR_defaults"),
    ("ConstantLR", "ConstantLR_defaults"),
    ("LinearLR", "LinearLR_start01_total_iters20"),
    ("ExponentialLR", "ExponentialLR_gamma0999_long"),
    ("PolynomialLR", "PolynomialLR_power2_total_iters20"),
    ("CosineAnnealingLR", "CosineAnnealingLR_Tmax10000"),
    (
        "CosineAnnealingWarmRestarts",
        "CosineAnnealingWarmRestarts_Tmult2",
    ),
    ("CyclicLR", "CyclicLR_defaults"),
    ("CyclicLR scale_fn", "CyclicLR_scale_fn_iterations"),
    ("OneCycleLR", "OneCycleLR_total_steps4000"),
    ("LambdaLR", "LambdaLR_exp_cos"),
    ("MultiplicativeLR", "MultiplicativeLR_max_sqrt"),
    ("ReduceLROnPlateau", "ReduceLROnPlateau_max_abs_cooldown"),
    ("SWALR", "SWALR_cos_anneal_epochs1000"),
    ("transformers.get_wsd_schedule", "transformers_wsd_defaults"),
    (
        "transformers.get_inverse_sqrt_schedule",
        "transformers_inverse_sqrt_w10",
    ),
    ("timm.CosineLRScheduler", "timm_cosine_cycles_decay"),
    ("timm.TanhLRScheduler", "timm_tanh_cycles_decay"),
    ("SequentialLR", "SequentialLR_three_children"),
    (
        "ChainedScheduler, a SequentialLR in it",
        "ChainedScheduler_sequence_in_chain",
    ),
    (
        "ChainedScheduler",
        "tutorial_combining_multiple_lr_schedulers_epochs_v1",
    ),
    (
        "SwitchLR",
        "tutorial_combining_multiple_lr_schedulers_epochs_v2",
    ),
    ("WarmupLR", "WarmupLR_linear_cosine"),
];

#[inline(never)]
fn bench(ok: &mut bool) {
    const CAL: u32 = 1_000_000;
    let cal = ticks_of(|| spin(black_box(CAL)));
    if cal == 0 {
        defmt::warn!(
            "step() instructions: SysTick does not advance; run QEMU with -icount shift=0"
        );
        return;
    }
    // Instructions per tick, x1000 (fixed point, to keep the log integer).
    let ipt_milli = (u64::from(2 * CAL) * 1000 + u64::from(cal) / 2) / u64::from(cal);
    let instr = |ticks: u64| ((ticks * ipt_milli + 500) / 1000) as u32;
    defmt::info!("step() instructions: calibration {=u32} ticks for {=u32} instructions ({=u64}.{=u64:03} per tick), {=u32} steps each",
        cal, 2 * CAL, ipt_milli / 1000, ipt_milli % 1000, BENCH_STEPS);

    let mut worst = 0u32;
    // Rows are the golden-case schedules, then a Rust-fn LambdaLR, then the fine-tuning plans.
    #[allow(clippy::needless_range_loop)]
    for row in 0..BENCH.len() + 1 + Plan::ALL.len() {
        // One schedule at a time: a Scheduler is a few KB.
        let (label, built, metrics, steps) = if row < BENCH.len() {
            let (label, name) = BENCH[row];
            match CASES.iter().find(|c| c.name == name) {
                Some(c) => (label, c.scheduler(), c.metrics, BENCH_STEPS),
                // An expression case without the `expr` feature, or a library family's case
                // without its feature.
                None if golden::LEFT_OUT.contains(&name) => continue,
                None => (label, Err(Error::MetricRequired), &[][..], BENCH_STEPS),
            }
        } else if row == BENCH.len() {
            (
                "LambdaLR (Rust fn)",
                Scheduler::new(LambdaLR::new(lambda_native), 0.1, 0.0),
                &[][..],
                BENCH_STEPS,
            )
        } else {
            // The fine-tuning schedules, over their whole run (OneCycleLR stops at total_steps).
            let plan = Plan::ALL[row - BENCH.len() - 1];
            (
                plan.name(),
                plan.scheduler(),
                &[][..],
                finetune::TOTAL_STEPS as u32,
            )
        };
        let Ok(s0) = built else {
            defmt::error!("step() instructions: {=str}: cannot build", label);
            *ok = false;
            continue;
        };
        let metric = |i: u32| {
            if metrics.is_empty() {
                None
            } else {
                Some(metrics[i as usize % metrics.len()])
            }
        };
        // Mean: N steps in one stretch, minus the same loop calling a no-op.
        let mut s = s0.clone();
        let mut failed = false;
        let total = ticks_of(|| {
            for i in 0..steps {
                failed |= one_step(black_box(&mut s), metric(i)).is_err();
            }
        });
        let mut s = s0.clone();
        let base = ticks_of(|| {
            for i in 0..steps {
                failed |= nop_step(black_box(&mut s), black_box(metric(i))).is_err();
            }
        });
        // Max: each step on its own, minus an empty measurement (resolution: one tick).
        let empty = ticks_of(|| {
            let _ = nop_step(black_box(&mut s), None);
        });
        let mut s = s0.clone();
        let mut max = 0;
        for i in 0..steps {
            let m = metric(i);
            let t = ticks_of(|| failed |= one_step(black_box(&mut s), m).is_err());
            max = max.max(t.saturating_sub(empty));
        }
        let mean = instr(u64::from(total.saturating_sub(base))) / steps;
        let max = instr(u64::from(max));
        worst = worst.max(mean);
        if failed {
            *ok = false;
            defmt::error!("step() instructions: {=str}: a step failed", label);
        }
        defmt::info!(
            "step() instructions: {=str}: mean {=u32} max {=u32}",
            label,
            mean,
            max
        );
    }
    defmt::info!(
        "step() instructions: worst mean {=u32} (aim: < 2000)",
        worst
    );
}

// ---------------------------------------------------------------------------------------------
// Stack high-water mark: paint the free stack at start, find the deepest overwritten word.

const PAINT: u32 = 0xDEAD_BEEF;

extern "C" {
    static __sheap: u32;
}

#[inline(never)]
fn paint_stack() -> usize {
    let floor = core::ptr::addr_of!(__sheap) as usize;
    let sp = cortex_m::register::msp::read() as usize;
    let mut p = (floor + 3) & !3;
    while p + 256 < sp {
        #[allow(unsafe_code)]
        unsafe {
            core::ptr::write_volatile(p as *mut u32, PAINT)
        };
        p += 4;
    }
    floor
}

fn stack_used(floor: usize) -> u32 {
    let mut p = (floor + 3) & !3;
    #[allow(unsafe_code)]
    while unsafe { core::ptr::read_volatile(p as *const u32) } == PAINT {
        p += 4;
    }
    extern "C" {
        static _stack_start: u32;
    }
    let top = core::ptr::addr_of!(_stack_start) as usize;
    (top - p) as u32
}
