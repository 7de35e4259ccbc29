//! One scheduler over several param groups, against PyTorch: every case in
//! `tests/golden/groups/` was recorded from a PyTorch SGD with two or three param groups
//! (`tests/golden/generate.py`, `define_group_cases`), with per-group arguments given as lists.
//! Each group's lr and momentum must meet the golden bar (`sched_core::golden`), and the
//! per-group reading, the builder and the step must refuse what PyTorch refuses.

use sched_core::golden::{worst, BAR};
use sched_core::{Curve, GroupScheduler, LambdaLR, Scheduler, Spec, StepLR};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Deserialize)]
struct GroupCase {
    name: String,
    spec: serde_json::Value,
    lr: Vec<f32>,
    momentum: Vec<f32>,
    steps: usize,
    step_every: u32,
    metrics: Option<Vec<f32>>,
    lr_values: Vec<Vec<f64>>,
    momentum_values: Vec<Vec<f64>>,
}

fn cases() -> Vec<GroupCase> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/groups");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        })
        .collect()
}

fn specs(spec: &serde_json::Value, groups: usize) -> Result<Vec<Spec>, serde_json::Error> {
    Spec::for_groups(spec, groups)
}

#[test]
fn every_group_of_every_case_matches_pytorch() {
    let cases = cases();
    assert!(cases.len() >= 14, "{} group cases", cases.len());
    let mut worst_seen = 0.0f64;
    for case in &cases {
        let n = case.lr.len();
        let specs = specs(&case.spec, n).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let s = GroupScheduler::<4>::new(&specs, &case.lr, &case.momentum)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let metrics = case.metrics.as_deref().unwrap_or(&[]);
        let values: Vec<_> = Curve::new(s, case.step_every, metrics)
            .take(case.steps)
            .map(|v| v.unwrap_or_else(|e| panic!("{}: {e}", case.name)))
            .collect();
        for g in 0..n {
            let lrs: Vec<f32> = values.iter().map(|v| v[g].0).collect();
            let moms: Vec<f32> = values.iter().map(|v| v[g].1).collect();
            for (what, expected, actual) in [
                ("lr", &case.lr_values[g], &lrs),
                ("momentum", &case.momentum_values[g], &moms),
            ] {
                let w = worst(expected, actual, &[]);
                assert!(
                    w.error <= BAR,
                    "{} group {g} {what}: error {:.2e} at step {} (PyTorch {}, sched-core {})",
                    case.name,
                    w.error,
                    w.step,
                    w.expected,
                    w.actual
                );
                worst_seen = worst_seen.max(w.error);
            }
        }
    }
    println!("{} group cases, worst error {worst_seen:.1e}", cases.len());
}

/// A group's curve is the one-group scheduler's on that group's lr and per-group values: what
/// makes N schedulers one PyTorch scheduler over N groups.
#[test]
fn each_group_is_the_single_group_schedule_of_its_values() {
    let json = serde_json::json!({
        "kind": "SequentialLR", "milestones": [3],
        "schedulers": [{"kind": "LinearLR", "start_factor": 0.1, "total_iters": 3},
                       {"kind": "OneCycleLR", "max_lr": [0.2, 0.02], "total_steps": 20}]});
    let specs = specs(&json, 2).unwrap();
    let head: Spec = serde_json::from_value(serde_json::json!({
        "kind": "SequentialLR", "milestones": [3],
        "schedulers": [{"kind": "LinearLR", "start_factor": 0.1, "total_iters": 3},
                       {"kind": "OneCycleLR", "max_lr": 0.02, "total_steps": 20}]}))
    .unwrap();
    assert_eq!(specs[1], head);
    let mut groups = GroupScheduler::<2>::new(&specs, &[0.1, 0.01], &[0.9]).unwrap();
    let mut single = Scheduler::from_spec(&head, 0.01, 0.9).unwrap();
    for _ in 0..20 {
        assert_eq!(groups.lr(1), Some(single.lr()));
        assert_eq!(groups.momentum(1), Some(single.momentum()));
        groups.step().unwrap();
        single.step().unwrap();
    }
}

#[test]
fn a_list_needs_one_value_per_group_and_only_where_pytorch_takes_one() {
    let err = |json: serde_json::Value, n| specs(&json, n).unwrap_err().to_string();
    assert_eq!(
        err(
            serde_json::json!({"kind": "CyclicLR", "base_lr": [0.1, 0.2, 0.3], "max_lr": 1.0}),
            2
        ),
        "base_lr: expected 2 values (one per param group), got 3"
    );
    assert_eq!(
        err(
            serde_json::json!({"kind": "ChainedScheduler", "schedulers": [
                {"kind": "ExponentialLR", "gamma": 0.9},
                {"kind": "ReduceLROnPlateau", "min_lr": [0.1]}]}),
            2
        ),
        "schedulers[1].min_lr: expected 2 values (one per param group), got 1"
    );
    // StepLR's gamma is one value in PyTorch too.
    let e = err(
        serde_json::json!({"kind": "StepLR", "step_size": 2, "gamma": [0.1, 0.5]}),
        2,
    );
    assert!(e.starts_with("gamma: invalid type: sequence"), "{e}");
    // One group may still give its value as a list of one.
    let one = specs(&serde_json::json!({"kind": "SWALR", "swa_lr": [0.05]}), 1).unwrap();
    assert_eq!(one.len(), 1);
}

#[test]
fn the_builder_names_what_is_wrong() {
    let step: Spec = StepLR::new(2, 0.5).unwrap().into();
    let e = GroupScheduler::<2>::new(std::slice::from_ref(&step), &[0.1, 0.2, 0.3], &[0.0])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "GroupScheduler: `lrs` must give 1 to N (the capacity) param groups"
    );
    assert!(GroupScheduler::<2>::new(std::slice::from_ref(&step), &[], &[0.0]).is_err());
    let e = GroupScheduler::<4>::new(&[step.clone(), step.clone()], &[0.1; 3], &[0.0]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "GroupScheduler: `specs` must give one spec, or one per param group"
    );
    let e =
        GroupScheduler::<4>::new(std::slice::from_ref(&step), &[0.1; 3], &[0.0, 0.9]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "GroupScheduler: `momenta` must give one momentum, or one per param group"
    );
    let plateau: Spec = serde_json::from_str(r#"{"kind": "ReduceLROnPlateau"}"#).unwrap();
    let e = GroupScheduler::<2>::new(&[step, plateau], &[0.1, 0.1], &[0.0]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "GroupScheduler: `specs` must all need a metric (ReduceLROnPlateau) or none"
    );
    // A group's own error names its parameter.
    let bad =
        GroupScheduler::<2>::new(&[StepLR::new(2, 0.5).unwrap().into()], &[0.1, -1.0], &[0.0]);
    assert_eq!(
        bad.unwrap_err().to_string(),
        "optimizer: `lr` must be >= 0 and finite"
    );
}

/// When one group's step fails, no group steps: the state stays as it was.
#[test]
fn a_failed_step_changes_no_group() {
    let fine: Spec = LambdaLR::new(|t| 1.0 / (t as f32 + 1.0)).into();
    let blows_up: Spec = LambdaLR::new(|t| if t < 2 { 1.0 } else { f32::INFINITY }).into();
    let mut s = GroupScheduler::<2>::new(&[fine, blows_up], &[0.1, 0.1], &[0.0]).unwrap();
    s.step().unwrap();
    let before = s.clone();
    assert_eq!(
        s.step().unwrap_err().to_string(),
        "LambdaLR: `lr_lambda` gave a non-finite value"
    );
    assert_eq!(s, before);
    assert_eq!(s.steps(), 1);
}

/// The state is a plain value: saved mid-run and restored, it continues bit for bit.
#[test]
fn the_state_round_trips_through_serde() {
    let json = serde_json::json!({"kind": "CyclicLR", "base_lr": [0.001, 0.01],
                                  "max_lr": [0.1, 0.05], "step_size_up": 4});
    let specs = specs(&json, 2).unwrap();
    let mut s = GroupScheduler::<2>::new(&specs, &[0.1, 0.01], &[0.9]).unwrap();
    for _ in 0..5 {
        s.step().unwrap();
    }
    let mut restored: GroupScheduler<2> =
        serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    for _ in 0..10 {
        s.step().unwrap();
        restored.step().unwrap();
        assert_eq!(restored, s);
    }
}

/// Groups cost what their schedulers cost: no per-group overhead beyond the count.
#[test]
fn a_group_scheduler_is_its_schedulers() {
    let one = std::mem::size_of::<Scheduler>();
    for (n, size) in [
        (1, std::mem::size_of::<GroupScheduler<1>>()),
        (2, std::mem::size_of::<GroupScheduler<2>>()),
        (4, std::mem::size_of::<GroupScheduler<4>>()),
    ] {
        println!("GroupScheduler<{n}>: {size} B (Scheduler: {one} B)");
        assert!(size <= n * one + 8, "GroupScheduler<{n}>: {size} B");
    }
}

/// Every single-group golden case (PyTorch's and the other libraries'), read as one group of a
/// `GroupScheduler`: the same spec and the same curve, bit for bit.
#[test]
fn one_group_is_the_scheduler_on_every_golden_case() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/cases");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let case: serde_json::Value = serde_json::from_str(&text).unwrap();
        let spec: Spec = serde_json::from_value(case["spec"].clone()).unwrap();
        let groups = specs(&case["spec"], 1).unwrap();
        assert_eq!(
            groups.as_slice(),
            std::slice::from_ref(&spec),
            "{}",
            case["name"]
        );
        let (lr, momentum) = (
            case["lr"].as_f64().unwrap() as f32,
            case["momentum"].as_f64().unwrap() as f32,
        );
        let metrics: Vec<f32> = case["metrics"]
            .as_array()
            .map(|m| m.iter().map(|v| v.as_f64().unwrap() as f32).collect())
            .unwrap_or_default();
        let every = case["step_every"].as_u64().unwrap() as u32;
        let steps = case["steps"].as_u64().unwrap() as usize;
        let (Ok(single), Ok(grouped)) = (
            Scheduler::from_spec(&spec, lr, momentum),
            GroupScheduler::<1>::new(&groups, &[lr], &[momentum]),
        ) else {
            // fastai's kinds need their length (the golden suite fills it in).
            continue;
        };
        let a: Vec<_> = Curve::new(single, every, &metrics).take(steps).collect();
        let b: Vec<_> = Curve::new(grouped, every, &metrics).take(steps).collect();
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                x.as_ref().map(|v| [*v]).ok(),
                y.as_ref().map(|v| [v[0]]).ok()
            );
        }
        n += 1;
    }
    assert!(n >= 250, "{n} cases");
}
