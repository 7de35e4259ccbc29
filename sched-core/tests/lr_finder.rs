//! `LrFinder` against the real fastai `Learner.lr_find` and Lightning's `_LRFinder.suggestion`,
//! from the cases `tests/golden/lr_find/generate.py` writes: the same lrs, the same smoothed
//! losses, the same stop, and the same suggested point for every rule.
//!
//! Tolerances:
//! - lrs: exact (f64 as Python computes them, rounded to f32 as fastai's tensors hold them);
//! - smoothed losses: exact. fastai smooths in f32 tensors; LrFinder does the same f32 operations
//!   in torch's order (with its fused multiply-add), so any difference is a bug. Exactness matters:
//!   `steep` on a flat curve picks its point from the last bits of the smoothed losses.
//! - suggestions: the same index, and the same lr exactly (as f32).

use sched_core::{LrFinder, Status, Suggestion, SweepMode};
use serde_json::Value;
use std::path::PathBuf;

const SMOOTHED_BAR: f64 = 0.0;

fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        v => v.as_f64().expect("a number"),
    }
}

fn cases() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/lr_find/cases");
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (p.file_stem().unwrap().to_string_lossy().into_owned(), v)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        out.len() >= 10,
        "expected the golden lr_find cases in {}",
        dir.display()
    );
    out
}

/// Runs the case's range test on `LrFinder`, feeding its losses one step at a time.
pub fn run(case: &Value) -> LrFinder<512> {
    let mode = match case["mode"].as_str().unwrap() {
        "linear" => SweepMode::Linear,
        _ => SweepMode::Exponential,
    };
    let mut finder = LrFinder::<512>::new(
        case["start_lr"].as_f64().unwrap(),
        case["end_lr"].as_f64().unwrap(),
        case["num_iter"].as_u64().unwrap() as u32,
    )
    .unwrap()
    .mode(mode)
    .stop_div(case["stop_div"].as_bool().unwrap());
    for loss in case["losses"].as_array().unwrap() {
        if finder.observe(num(loss) as f32).is_done() {
            break;
        }
    }
    finder
}

#[test]
fn lr_finder_matches_fastai_and_lightning() {
    let mut failures = Vec::new();
    let mut worst = 0.0f64;
    for (name, case) in cases() {
        let finder = run(&case);
        let expected = &case["expected"];
        let lrs: Vec<f32> = expected["lrs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| num(v) as f32)
            .collect();
        let smoothed: Vec<f64> = expected["smoothed"]
            .as_array()
            .unwrap()
            .iter()
            .map(num)
            .collect();
        let n = finder.lrs().len();
        // fastai keeps training on a NaN loss; LrFinder stops at it. Every point fastai recorded
        // after ours must then be NaN.
        let stopped_on_nan = finder.status() == Status::NonFiniteLoss
            && finder.smoothed_losses().last().is_some_and(|l| l.is_nan());
        if n != lrs.len() && !(stopped_on_nan && smoothed[n..].iter().all(|l| l.is_nan())) {
            failures.push(format!("{name}: recorded {n} points, fastai {}", lrs.len()));
            continue;
        }
        if finder.lrs() != &lrs[..n] {
            failures.push(format!("{name}: lrs differ"));
        }
        for (i, (&ours, &reference)) in finder.smoothed_losses().iter().zip(&smoothed).enumerate() {
            let ours = f64::from(ours);
            if ours.is_nan() && reference.is_nan() || ours == reference {
                continue;
            }
            let error = (ours - reference).abs() / reference.abs().max(f64::MIN_POSITIVE);
            worst = worst.max(error);
            if error.is_nan() || error > SMOOTHED_BAR {
                failures.push(format!(
                    "{name}: smoothed loss {i}: {ours} vs fastai {reference}"
                ));
            }
        }
        for rule in Suggestion::ALL {
            let reference = &expected["suggestions"][rule.name()];
            match (finder.suggest(rule), reference) {
                (Err(_), Value::Null) => {}
                (Ok(s), Value::Object(r)) => {
                    let (index, lr) = (
                        r["index"].as_u64().unwrap() as usize,
                        r["lr"].as_f64().unwrap() as f32,
                    );
                    if (s.index, s.lr) != (index, lr) {
                        failures.push(format!(
                            "{name}: {rule}: point {} lr {:e}, reference point {index} lr {lr:e}",
                            s.index, s.lr
                        ));
                    }
                }
                (ours, reference) => {
                    failures.push(format!("{name}: {rule}: {ours:?}, reference {reference}"))
                }
            }
        }
    }
    println!("worst smoothed-loss error {worst:e}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn defaults_are_fastais() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/lr_find/defaults.json");
    let d: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    use sched_core::defaults::*;
    assert_eq!(d["start_lr"].as_f64(), Some(LR_FINDER_START_LR));
    assert_eq!(d["end_lr"].as_f64(), Some(LR_FINDER_END_LR));
    assert_eq!(d["num_iter"].as_u64(), Some(u64::from(LR_FINDER_NUM_ITER)));
    assert_eq!(d["beta"].as_f64(), Some(LR_FINDER_BETA));
    assert_eq!(
        d["lightning_early_stop_threshold"].as_f64(),
        Some(f64::from(LR_FINDER_DIVERGE_FACTOR))
    );
}

mod never_panics {
    use proptest::prelude::*;
    use sched_core::{LrFinder, Suggestion};

    fn loss() -> impl Strategy<Value = f32> {
        prop_oneof![
            8 => 0.0f32..10.0,
            1 => Just(f32::NAN),
            1 => Just(f32::INFINITY),
            1 => Just(-1.0e30f32),
            1 => any::<f32>(),
        ]
    }

    proptest! {
        /// Any arguments, any losses, any recorded lrs (duplicates, zeros, NaN): a result or a
        /// typed error, never a panic.
        #[test]
        fn any_curve(start in prop_oneof![1e-9f64..1e-2, any::<f64>()], end in prop_oneof![1e-2f64..100.0, any::<f64>()], num_iter in 0u32..80,
                     stop_div in any::<bool>(), losses in prop::collection::vec(loss(), 0..80),
                     lrs in prop::collection::vec(prop_oneof![Just(0.0f32), Just(1.0f32), any::<f32>()], 0..80)) {
            let Ok(finder) = LrFinder::<64>::new(start, end, num_iter) else { return Ok(()) };
            let mut observed = finder.clone().stop_div(stop_div);
            let mut recorded = finder;
            for (i, &loss) in losses.iter().enumerate() {
                observed.observe(loss);
                recorded.record(lrs.get(i).copied().unwrap_or(0.5), loss);
            }
            for rule in Suggestion::ALL {
                let _ = observed.suggest(rule);
                let _ = recorded.suggest(rule);
            }
        }
    }
}
