//! The golden suite: every case in `tests/golden/cases/` was produced by PyTorch
//! (`tests/golden/generate.py`, PyTorch's version recorded in each file). Each case runs the
//! study's loop (read lr and momentum, optimizer step, every `step_every` steps
//! `scheduler.step()`) on `sched_core` and compares every value.
//!
//! Error metric: `|actual - expected| / max(|expected|, 1e-6 * max |expected| of the case)`, so
//! values that decay to nothing are judged against the scale of the case. Bar: 1e-5. Both are
//! `sched_core::golden`'s, which the page and the firmware use too.
//!
//! On a mismatch the test prints step, expected and actual, and writes the whole actual curve to
//! `target/golden-actual/<case>.csv`. Regenerate the golden files with PyTorch as
//! `tests/golden/README.md` says; never from this crate's output.

use sched_core::golden::{worst as compare, Worst, BAR};
use sched_core::{Curve, Scheduler, Spec};
use serde::Deserialize;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Per-case exceptions, each with the reason. Empty is the goal.
fn tolerance(_case: &str) -> f64 {
    BAR
}

/// Steps where the reference is known to be wrong and sched-core deliberately differs, with the
/// reason: `tests/golden/known_reference_bugs.json`, shared with the firmware and browser checks.
#[derive(Deserialize)]
struct KnownBug {
    case: String,
    step: usize,
    #[allow(dead_code)]
    why: String,
}

fn known_reference_bugs() -> Vec<KnownBug> {
    let path = cases_dir().join("../known_reference_bugs.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[derive(Deserialize)]
pub struct Case {
    pub name: String,
    pub spec: Spec,
    pub lr: f32,
    pub momentum: f32,
    pub steps: usize,
    pub step_every: u32,
    pub metrics: Option<Vec<f32>>,
    pub lr_values: Vec<f64>,
    pub momentum_values: Vec<f64>,
}

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/cases")
}

fn load(name: &str) -> Case {
    let path = cases_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// The metric is sched-core's own (`sched_core::golden`), shared with the page and firmware.

struct Outcome {
    lr: Worst,
    momentum: Worst,
    steps: usize,
}

fn run(case: &Case) -> Result<(Vec<f32>, Vec<f32>), String> {
    let scheduler = Scheduler::from_spec(&case.spec, case.lr, case.momentum)
        .map_err(|e| format!("{}: building the scheduler failed: {e}", case.name))?;
    let metrics = case.metrics.as_deref().unwrap_or(&[]);
    let (mut lrs, mut momenta) = (Vec::new(), Vec::new());
    for (i, value) in Curve::new(scheduler, case.step_every, metrics)
        .take(case.steps)
        .enumerate()
    {
        let (lr, m) = value.map_err(|e| format!("{}: step {i}: {e}", case.name))?;
        lrs.push(lr);
        momenta.push(m);
    }
    Ok((lrs, momenta))
}

fn evaluate(case: &Case) -> Result<Outcome, String> {
    let (lrs, momenta) = run(case)?;
    if lrs.len() != case.steps || case.lr_values.len() != case.steps {
        return Err(format!(
            "{}: {} values for {} steps",
            case.name,
            lrs.len(),
            case.steps
        ));
    }
    let skip: Vec<usize> = known_reference_bugs()
        .into_iter()
        .filter(|b| b.case == case.name)
        .map(|b| b.step)
        .collect();
    Ok(Outcome {
        lr: compare(&case.lr_values, &lrs, &skip),
        momentum: compare(&case.momentum_values, &momenta, &skip),
        steps: case.steps,
    })
}

fn write_actual(case: &Case) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/golden-actual");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{}.csv", case.name));
    if let Ok((lrs, momenta)) = run(case) {
        let mut csv = String::from("step,lr,momentum,expected_lr,expected_momentum\n");
        for i in 0..lrs.len() {
            let _ = writeln!(
                csv,
                "{i},{:.9e},{:.9e},{:.17e},{:.17e}",
                lrs[i], momenta[i], case.lr_values[i], case.momentum_values[i]
            );
        }
        let _ = std::fs::write(&path, csv);
    }
    path
}

fn check(name: &str) {
    let case = load(name);
    let outcome = evaluate(&case).unwrap_or_else(|e| panic!("{e}"));
    let bar = tolerance(name);
    for (what, worst) in [("lr", outcome.lr), ("momentum", outcome.momentum)] {
        if worst.error > bar {
            let path = write_actual(&case);
            panic!(
                "{name}: {what} off by {:.3e} (bar {bar:.0e}) at step {}: expected {:.17e}, actual {:.9e}\n\
                 whole actual curve: {}\nspec: {}",
                worst.error,
                worst.step,
                worst.expected,
                worst.actual,
                path.display(),
                serde_json::to_string(&case.spec).unwrap_or_default(),
            );
        }
    }
}

macro_rules! golden_cases {
    ($($name:ident,)*) => {
        $(
            #[test]
            #[allow(non_snake_case)]
            fn $name() {
                check(stringify!($name));
            }
        )*
        const ALL: &[&str] = &[$(stringify!($name),)*];
    };
}

golden_cases!(
    ChainedScheduler_chain_in_chain,
    ChainedScheduler_constant_exponential,
    ChainedScheduler_cyclic_then_onecycle_built_second,
    ChainedScheduler_exponential_SWALR,
    ChainedScheduler_exponential_cosine_eta_min_through_zero,
    ChainedScheduler_exponential_then_cyclic_built_second,
    ChainedScheduler_exponential_then_sequence_cosine_eta_min,
    ChainedScheduler_linear_step,
    ChainedScheduler_sequence_in_chain,
    ChainedScheduler_step_cosine,
    ChainedScheduler_step_cosine_eta_min_through_zero,
    ChainedScheduler_switch_in_chain,
    ConstantLR_defaults,
    ConstantLR_factor05_total_iters3,
    ConstantLR_total_iters0,
    ConstantLR_total_iters1,
    CosineAnnealingLR_Tmax1,
    CosineAnnealingLR_Tmax10000,
    CosineAnnealingLR_Tmax100000,
    CosineAnnealingLR_Tmax100000_eta_min,
    CosineAnnealingLR_Tmax50_momentum09,
    CosineAnnealingLR_defaults,
    CosineAnnealingLR_eta_min_past_Tmax,
    CosineAnnealingWarmRestarts_T0_1_Tmult3_eta_min,
    CosineAnnealingWarmRestarts_Tmult1_eta_min,
    CosineAnnealingWarmRestarts_Tmult2,
    CosineAnnealingWarmRestarts_defaults,
    CyclicLR_custom_momentum,
    CyclicLR_defaults,
    CyclicLR_exp_range_gamma0999,
    CyclicLR_no_cycle_momentum_momentum09,
    CyclicLR_scale_fn_cycle,
    CyclicLR_scale_fn_iterations,
    CyclicLR_triangular2,
    CyclicLR_triangular_short,
    ExponentialLR_gamma09,
    ExponentialLR_gamma0999_long,
    ExponentialLR_momentum09,
    Fixed_lr01,
    Fixed_momentum09,
    LambdaLR_exp_cos,
    LambdaLR_inv_sqrt_max,
    LambdaLR_log,
    LambdaLR_min_warmup,
    LambdaLR_power095,
    LambdaLR_ternary,
    LinearLR_decay_to_zero,
    LinearLR_defaults,
    LinearLR_momentum09,
    LinearLR_start01_total_iters20,
    MultiStepLR_defaults,
    MultiStepLR_milestone_boundaries,
    MultiStepLR_repeated_milestone,
    MultiplicativeLR_constant095,
    MultiplicativeLR_max_sqrt,
    MultiplicativeLR_ternary,
    OneCycleLR_custom_momentum,
    OneCycleLR_defaults_total_steps,
    OneCycleLR_div_factors,
    OneCycleLR_epochs_steps_per_epoch,
    OneCycleLR_no_cycle_momentum,
    OneCycleLR_pct_start025_linear,
    OneCycleLR_three_phase,
    OneCycleLR_three_phase_linear,
    OneCycleLR_total_steps10_to_last_epoch_total,
    OneCycleLR_total_steps4000,
    OneCycleLR_total_steps7,
    PolynomialLR_defaults,
    PolynomialLR_power05_total_iters7,
    PolynomialLR_power2_total_iters20,
    ReduceLROnPlateau_constant_metric_ties,
    ReduceLROnPlateau_defaults_decreasing,
    ReduceLROnPlateau_defaults_decreasing_then_plateau,
    ReduceLROnPlateau_eps_blocks_update,
    ReduceLROnPlateau_increasing_cooldown5,
    ReduceLROnPlateau_max_abs_cooldown,
    ReduceLROnPlateau_max_rel,
    ReduceLROnPlateau_min_abs,
    ReduceLROnPlateau_min_lr_reached,
    ReduceLROnPlateau_noisy_patience2_threshold001,
    ReduceLROnPlateau_patience3_plateau_noisy,
    SWALR_anneal_epochs0,
    SWALR_cos_anneal_epochs1000,
    SWALR_cos_defaults,
    SWALR_linear_anneal_epochs4,
    SWALR_up_to_swa_lr_cos7_momentum09,
    SequentialLR_chain_first,
    SequentialLR_chain_first_cosine_T_max1_step,
    SequentialLR_chain_first_onecycle_cyclic,
    SequentialLR_chain_first_polynomial_cosine_multiplicative,
    SequentialLR_constant_exponential,
    SequentialLR_cosine_then_SWALR,
    SequentialLR_cyclic_then_step,
    SequentialLR_cyclic_then_warm_restarts,
    SequentialLR_linear_warmup_cosine,
    SequentialLR_sequence_first,
    SequentialLR_sequence_first_milestone1_swalr,
    SequentialLR_step_then_cyclic,
    SequentialLR_switch_first,
    SequentialLR_then_multiplicative,
    SequentialLR_three_children,
    StepLR_defaults,
    StepLR_milestone_boundaries,
    StepLR_momentum09,
    StepLR_step_size1_gamma099,
    SwitchLR_chain_then_sequence,
    SwitchLR_cosine_eta_min_then_SWALR,
    SwitchLR_cyclic_then_warm_restarts_base_lr,
    SwitchLR_exponential_then_cosine_below_eta_min,
    SwitchLR_onecycle_then_cyclic_built_second,
    SwitchLR_small,
    SwitchLR_step_then_cyclic_built_second,
    SwitchLR_step_then_linear,
    SwitchLR_step_then_onecycle_built_second,
    WarmupLR_cos_start01_exponential,
    WarmupLR_linear_SWALR,
    WarmupLR_linear_cosine,
    WarmupLR_linear_step_W1,
    fastai_combine_exp_poly,
    fastai_combine_lin_cos,
    fastai_combine_one,
    fastai_combined_cos,
    fastai_combined_cos_moms,
    fastai_fit_flat_cos,
    fastai_fit_flat_cos_args,
    fastai_fit_one_cycle,
    fastai_fit_one_cycle_args,
    fastai_fit_sgdr,
    fastai_fit_sgdr_mult3,
    fastai_sched_cos,
    fastai_sched_cos_up,
    fastai_sched_exp,
    fastai_sched_lin,
    fastai_sched_no,
    fastai_sched_poly,
    keras_cosine,
    keras_cosine_alpha,
    keras_cosine_long,
    keras_cosine_restarts,
    keras_cosine_restarts_m_mul_alpha,
    keras_cosine_restarts_t_mul3,
    keras_cosine_warmup,
    keras_exponential,
    keras_exponential_long,
    keras_exponential_staircase,
    keras_inverse_time,
    keras_inverse_time_staircase,
    keras_piecewise,
    keras_piecewise_one,
    keras_polynomial,
    keras_polynomial_cycle,
    keras_polynomial_power2_end,
    optax_constant,
    optax_cosine_decay,
    optax_cosine_decay_alpha_exponent,
    optax_cosine_decay_long,
    optax_cosine_onecycle,
    optax_cosine_onecycle_pct,
    optax_exponential,
    optax_exponential_end_value,
    optax_exponential_growth_end_value,
    optax_exponential_long,
    optax_exponential_staircase_begin,
    optax_linear,
    optax_linear_decay,
    optax_linear_onecycle,
    optax_linear_onecycle_short,
    optax_piecewise_constant,
    optax_piecewise_constant_none,
    optax_piecewise_constant_unsorted,
    optax_piecewise_interpolate_cosine,
    optax_piecewise_interpolate_linear,
    optax_polynomial_begin,
    optax_polynomial_power2,
    optax_polynomial_zero_steps,
    optax_sgdr,
    optax_sgdr_three,
    optax_warmup_constant,
    optax_warmup_cosine_decay,
    optax_warmup_cosine_decay_end_exponent,
    optax_warmup_exponential_decay,
    optax_warmup_exponential_decay_staircase_end,
    pytorch_CosineAnnealingWarmRestarts_lr1_T_mult1,
    pytorch_CosineAnnealingWarmRestarts_lr1_T_mult2,
    pytorch_CosineAnnealingWarmRestarts_lr1_T_mult4,
    pytorch_chained_lr1,
    pytorch_chained_lr2,
    pytorch_chained_lr3,
    pytorch_chained_lr4,
    pytorch_chained_lr5,
    pytorch_closed_form_constantlr,
    pytorch_closed_form_cos_anneal_lr,
    pytorch_closed_form_linearlr,
    pytorch_closed_form_poly_lr,
    pytorch_compound_cosanneal_and_exp_lr,
    pytorch_compound_cosanneal_and_linearlr,
    pytorch_compound_cosanneal_and_multistep_lr,
    pytorch_compound_cosanneal_and_step_lr,
    pytorch_compound_exp_and_linearlr,
    pytorch_compound_exp_and_multistep_lr,
    pytorch_compound_linearlr_and_multistep_lr,
    pytorch_compound_step_and_constantlr,
    pytorch_compound_step_and_exp_lr,
    pytorch_compound_step_and_multistep_lr,
    pytorch_constantlr,
    pytorch_cos_anneal_lr,
    pytorch_cosine_then_cyclic,
    pytorch_cycle_lr_exp_range_mode_one_lr,
    pytorch_cycle_lr_exp_range_mode_step_size_up_down,
    pytorch_cycle_lr_triangular2_mode_one_lr,
    pytorch_cycle_lr_triangular2_mode_step_size_up_down,
    pytorch_cycle_lr_triangular_mode_one_lr,
    pytorch_cycle_lr_triangular_mode_one_lr_no_momentum,
    pytorch_cycle_lr_triangular_mode_step_size_up_down,
    pytorch_exp_lr,
    pytorch_get_last_lr_linearlr,
    pytorch_lambda_lr,
    pytorch_linearlr,
    pytorch_multi_step_lr,
    pytorch_multiplicative_lr,
    pytorch_onecycle_lr_cosine_annealing,
    pytorch_onecycle_lr_linear_annealing,
    pytorch_onecycle_lr_linear_annealing_three_phases,
    pytorch_poly_lr,
    pytorch_reduce_lr_on_plateau1,
    pytorch_reduce_lr_on_plateau2,
    pytorch_reduce_lr_on_plateau3,
    pytorch_reduce_lr_on_plateau4,
    pytorch_reduce_lr_on_plateau5,
    pytorch_reduce_lr_on_plateau6,
    pytorch_reduce_lr_on_plateau7,
    pytorch_reduce_lr_on_plateau8,
    pytorch_sequentiallr1,
    pytorch_sequentiallr2,
    pytorch_sequentiallr3,
    pytorch_sequentiallr4,
    pytorch_sequentiallr_does_not_alias_lr_and_initial_lr,
    pytorch_step_lr,
    pytorch_swalr_cosine_anneal_after_multiplicative,
    pytorch_swalr_linear_anneal_after_multiplicative,
    pytorch_swalr_no_anneal,
    timm_cosine_cycle_mul15_warmup,
    timm_cosine_cycle_mul2_k_decay2,
    timm_cosine_cycle_mul3_log_rounding,
    timm_cosine_cycles_decay,
    timm_cosine_long,
    timm_cosine_t_initial50,
    timm_cosine_warmup_prefix,
    timm_multistep,
    timm_multistep_warmup,
    timm_poly,
    timm_poly_cycle_mul2_k_decay_warmup,
    timm_poly_power2_cycles,
    timm_step,
    timm_step_warmup_float_decay_t,
    timm_step_warmup_no_prefix,
    timm_tanh_cycle_mul2,
    timm_tanh_cycles_decay,
    timm_tanh_t_initial50,
    timm_tanh_warmup,
    timm_tanh_warmup_prefix,
    timm_wsd,
    timm_wsd_exp,
    timm_wsd_linear,
    timm_wsd_power_power,
    timm_wsd_warmup_rsqrt_cosine,
    transformers_constant,
    transformers_constant_with_warmup_w0,
    transformers_constant_with_warmup_w5,
    transformers_cosine_long,
    transformers_cosine_min_lr_cycles1,
    transformers_cosine_min_lr_lr_rate,
    transformers_cosine_min_lr_rate,
    transformers_cosine_min_lr_warmup_lr_rate,
    transformers_cosine_min_lr_warmup_w1,
    transformers_cosine_no_warmup_cycles2,
    transformers_cosine_w10_t100,
    transformers_cosine_warmup_past_total,
    transformers_hard_restarts_defaults,
    transformers_hard_restarts_w10_t100_cycles3,
    transformers_inverse_sqrt_no_warmup,
    transformers_inverse_sqrt_timescale50,
    transformers_inverse_sqrt_w10,
    transformers_linear_no_warmup,
    transformers_linear_w10_t100,
    transformers_linear_warmup_past_total,
    transformers_polynomial_power05,
    transformers_polynomial_power2_lr_end,
    transformers_polynomial_w10_t100,
    transformers_wsd_1sqrt_warmup_linear_decay,
    transformers_wsd_cosine_decay_num_cycles1,
    transformers_wsd_cosine_warmup_1sqrt_decay_min_ratio,
    transformers_wsd_defaults,
    transformers_wsd_negative_stable,
    transformers_wsd_num_training_steps,
    tutorial_combining_multiple_lr_schedulers_epochs_v1,
    tutorial_combining_multiple_lr_schedulers_epochs_v2,
    tutorial_constant_learning_rate,
    tutorial_cosine_annealing_lr_scheduler_epochs,
    tutorial_cosine_annealing_with_warm_restarts_scheduler_epochs,
    tutorial_cyclic_lr_scheduler_batches,
    tutorial_exponential_lr_scheduler_epochs,
    tutorial_lambda_lr_scheduler_epochs,
    tutorial_multiplicative_lr_scheduler_epochs,
    tutorial_multistep_lr_scheduler_epochs,
    tutorial_one_cycle_lr_scheduler_batches,
    tutorial_step_lr_scheduler_batches,
    tutorial_step_lr_scheduler_epochs,
);

#[test]
fn every_case_file_has_a_named_test() {
    let mut files: Vec<String> = std::fs::read_dir(cases_dir())
        .expect("tests/golden/cases")
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".json")
                .map(String::from)
        })
        .collect();
    files.sort();
    let mut named: Vec<String> = ALL.iter().map(|s| s.to_string()).collect();
    named.sort();
    assert_eq!(
        files, named,
        "add or remove the case names in golden_cases! to match tests/golden/cases/"
    );
}

/// `Scheduler::at(k)`, where it answers, is PyTorch's value after `k` steps too (not only what
/// stepping gives: the two can share a mistake). Cases that step once per batch without metrics.
#[test]
fn random_access_matches_the_reference() {
    let (mut checked, mut failures) = (0, Vec::new());
    for name in ALL {
        let case = load(name);
        if case.step_every != 1 || case.metrics.is_some() {
            continue;
        }
        let s = Scheduler::from_spec(&case.spec, case.lr, case.momentum).expect("builds");
        let Some(direct) = (0..case.steps as u32)
            .map(|k| s.at(k))
            .collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        let skip: Vec<usize> = known_reference_bugs()
            .into_iter()
            .filter(|b| b.case == case.name)
            .map(|b| b.step)
            .collect();
        let lrs: Vec<f32> = direct.iter().map(|d| d.0).collect();
        let momenta: Vec<f32> = direct.iter().map(|d| d.1).collect();
        checked += 1;
        for (what, worst) in [
            ("lr", compare(&case.lr_values, &lrs, &skip)),
            ("momentum", compare(&case.momentum_values, &momenta, &skip)),
        ] {
            if worst.error > tolerance(name) {
                failures.push(format!(
                    "{name}: at() {what} off by {:.3e} at step {}: expected {:.9e}, actual {:.9e}",
                    worst.error, worst.step, worst.expected, worst.actual
                ));
            }
        }
    }
    println!("at() checked on {checked} cases");
    assert!(checked >= 20, "only {checked} cases answer at()");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Prints the max relative error of every case (run with `--nocapture` to see it) and writes
/// it to `target/golden-report.md`.
#[test]
fn error_table() {
    let mut table = String::from(
        "| case | steps | max rel err lr | max rel err momentum |\n|---|---:|---:|---:|\n",
    );
    let (mut worst, mut worst_case, mut failures) = (0.0f64, String::new(), Vec::new());
    for name in ALL {
        let case = load(name);
        match evaluate(&case) {
            Ok(o) => {
                let _ = writeln!(
                    table,
                    "| {name} | {} | {:.2e} | {:.2e} |",
                    o.steps, o.lr.error, o.momentum.error
                );
                let e = o.lr.error.max(o.momentum.error);
                if e > worst {
                    worst = e;
                    worst_case = name.to_string();
                }
                if e > tolerance(name) {
                    failures.push(name.to_string());
                }
            }
            Err(e) => {
                let _ = writeln!(table, "| {name} | error: {e} | | |");
                failures.push(name.to_string());
            }
        }
    }
    let _ = writeln!(
        table,
        "\n{} cases; worst {worst:.2e} ({worst_case}); bar {BAR:.0e}",
        ALL.len()
    );
    println!("{table}");
    let report = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/golden-report.md");
    let _ = std::fs::write(report, &table);
    assert!(failures.is_empty(), "cases over the bar: {failures:?}");
}

/// Each exception must still be needed: at its step sched-core really differs from the file.
#[test]
fn known_reference_bugs_are_real() {
    for bug in known_reference_bugs() {
        let case = load(&bug.case);
        let (lrs, _) = run(&case).unwrap();
        let worst = compare(
            &case.lr_values[bug.step..=bug.step],
            &lrs[bug.step..=bug.step],
            &[],
        );
        assert!(
            worst.error > BAR,
            "{} step {}: no longer differs; remove it from known_reference_bugs.json",
            bug.case,
            bug.step
        );
    }
}

/// The table of worst errors per kind in `docs/accuracy.md` is this suite's output, not typed: the
/// block between its `generated by` markers must equal what this test computes. After a change in
/// the cases or the numerics, rewrite it with `UPDATE_DOCS=1 cargo test -p sched-core --features
/// serde --test golden docs_error_table_is_current`.
#[test]
fn docs_error_table_is_current() {
    // Kind: the case name's prefix, or a library's kind (`transformers.get_wsd_schedule`); the
    // study's runs (`tutorial_...`) as one row.
    let mut kinds: Vec<(String, usize, f64)> = Vec::new();
    let (mut all, mut worst) = (0usize, 0f64);
    for name in ALL {
        let case = load(name);
        let prefix = name.split('_').next().unwrap_or(name);
        let kind = match prefix {
            "tutorial" => "the study's runs".to_string(),
            "pytorch" => "PyTorch's own scheduler tests".to_string(),
            _ if case.spec.kind().contains('.') => format!("`{}`", case.spec.kind()),
            k => format!("`{k}`"),
        };
        let o = evaluate(&case).unwrap_or_else(|e| panic!("{name}: {e}"));
        let e = o.lr.error.max(o.momentum.error);
        match kinds.iter_mut().find(|k| k.0 == kind) {
            Some(k) => {
                k.1 += 1;
                k.2 = k.2.max(e);
            }
            None => kinds.push((kind, 1, e)),
        }
        all += 1;
        worst = worst.max(e);
    }
    kinds.sort_by(|a, b| a.0.cmp(&b.0));
    let mut table = String::from("| kind | cases | max rel err |\n|---|---:|---:|\n");
    for (kind, n, e) in &kinds {
        let _ = writeln!(table, "| {kind} | {n} | {e:.1e} |");
    }
    let _ = writeln!(table, "| **all** | **{all}** | **{worst:.1e}** |");

    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/accuracy.md");
    let doc = std::fs::read_to_string(&path).expect("docs/accuracy.md");
    let begin = "<!-- generated by: cargo test -p sched-core --features serde --test golden docs_error_table_is_current -->\n";
    let end = "<!-- end generated -->";
    let (Some(a), Some(b)) = (doc.find(begin), doc.find(end)) else {
        panic!("docs/accuracy.md lacks the markers\n{begin}{end}");
    };
    let committed = &doc[a + begin.len()..b];
    if committed != table {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            let new = format!("{}{table}{}", &doc[..a + begin.len()], &doc[b..]);
            std::fs::write(&path, new).expect("write docs/accuracy.md");
        } else {
            panic!(
                "docs/accuracy.md's error table is out of date; rerun with UPDATE_DOCS=1. Now:\n{table}"
            );
        }
    }
}

/// Each alias reads as the kind it names: a case's spec with its `kind` replaced by the alias is
/// the same spec.
#[test]
fn aliases_read_as_their_kinds() {
    for (alias, kind) in sched_core::ALIASES {
        let case = ALL
            .iter()
            .map(|name| load(name))
            .find(|c| c.spec.kind() == *kind)
            .unwrap_or_else(|| panic!("no case of {kind}"));
        let mut json = serde_json::to_value(&case.spec).unwrap();
        json["kind"] = (*alias).into();
        let read: Spec = serde_json::from_value(json).unwrap();
        assert_eq!(read, case.spec, "{alias}");
        assert_eq!(read.kind(), *kind);
    }
}
