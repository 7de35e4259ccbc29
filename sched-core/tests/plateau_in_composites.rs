//! `ReduceLROnPlateau` inside `SequentialLR`, `ChainedScheduler`, `SwitchLR` and `WarmupLR`,
//! which PyTorch refuses (its composites step their children without a metric; PyTorch issue
//! #68978). The semantics (see `SequentialLR`'s docs): the metric goes to every
//! `ReduceLROnPlateau` that steps; a switch to one restarts it fresh at the initial lr, taking
//! that step's metric first; in a chain it reduces what the children before it set. With no
//! reference to compare against, each case is checked against the same schedule assembled by
//! hand from single schedulers.

use sched_core::*;

const METRICS: [f32; 16] = [
    1.0, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0.6, 0.6, 0.6,
];

fn plateau() -> ReduceLROnPlateau {
    ReduceLROnPlateau {
        patience: 1,
        factor: 0.5,
        ..ReduceLROnPlateau::default()
    }
}

/// The children of a composite of single schedulers.
fn children(leaves: [LeafSpec; 2]) -> heapless::Vec<ChildSpec, MAX_CHILDREN> {
    leaves.into_iter().map(ChildSpec::Leaf).collect()
}

/// The lr before each of `METRICS.len()` steps with the metrics, and after the last.
fn lrs(mut s: Scheduler) -> Vec<f32> {
    let mut out = vec![s.lr()];
    for m in METRICS {
        s.step_with_metric(m).unwrap();
        out.push(s.lr());
    }
    out
}

/// A ReduceLROnPlateau alone from `lr`, stepped with `METRICS[from..]`: its lrs.
fn plateau_alone(lr: f32, from: usize) -> Vec<f32> {
    let mut s = Scheduler::new(plateau(), lr, 0.0).unwrap();
    let mut out = Vec::new();
    for &m in &METRICS[from..] {
        s.step_with_metric(m).unwrap();
        out.push(s.lr());
    }
    out
}

#[test]
fn sequential_switches_to_a_fresh_plateau_at_the_initial_lr() {
    let warm = LinearLR::new(0.1, 1.0, 5).unwrap();
    let spec = SequentialLR {
        schedulers: children([LeafSpec::from(warm.clone()), plateau().into()]),
        milestones: [5].into_iter().collect(),
    };
    let s = Scheduler::new(spec, 0.1, 0.0).unwrap();
    assert!(s.needs_metric());
    let got = lrs(s);
    // Steps 0..4: LinearLR's (the metrics are ignored).
    let linear = Scheduler::new(warm, 0.1, 0.0).unwrap();
    for (k, lr) in got.iter().enumerate().take(5) {
        assert_eq!(*lr, linear.lr_at(k as u32).unwrap(), "step {k}");
    }
    // From step 5: a ReduceLROnPlateau built at lr 0.1, stepped with the 5th metric on.
    assert_eq!(&got[5..], &plateau_alone(0.1, 4)[..]);
    assert!(
        got[5..].windows(2).any(|w| w[1] < w[0]),
        "it reduces: {got:?}"
    );
}

#[test]
fn chained_plateau_reduces_what_the_children_before_it_set() {
    let spec = ChainedScheduler {
        schedulers: children([
            LeafSpec::from(ExponentialLR::new(0.9).unwrap()),
            plateau().into(),
        ]),
    };
    let got = lrs(Scheduler::new(spec, 0.1, 0.0).unwrap());
    // lr_k = 0.1 * 0.9^k * (the plateau's reductions by step k).
    let alone = plateau_alone(0.1, 0);
    for k in 1..got.len() {
        let want = 0.9f64.powi(k as i32) * f64::from(alone[k - 1]);
        let rel = (f64::from(got[k]) - want).abs() / want;
        assert!(rel < 1e-6, "step {k}: {} vs {want}", got[k]);
    }
    assert!(alone.last() < Some(&0.1), "the plateau reduced: {alone:?}");
}

#[test]
fn switch_hands_the_plateau_the_lr_its_previous_child_left() {
    let spec = SwitchLR {
        schedulers: children([
            LeafSpec::from(StepLR::new(1, 0.5).unwrap()),
            plateau().into(),
        ]),
        milestones: [3].into_iter().collect(),
    };
    let got = lrs(Scheduler::new(spec, 0.1, 0.0).unwrap());
    assert_eq!(&got[..3], &[0.1, 0.05, 0.025]);
    // Not restarted: the plateau goes on from 0.025 with the 3rd metric on.
    assert_eq!(&got[3..], &plateau_alone(0.025, 2)[..]);
}

#[test]
fn warmup_ends_on_a_fresh_plateau() {
    let spec = WarmupLR {
        warmup_steps: 3,
        warmup: WarmupShape::Linear,
        start_factor: 0.0,
        schedule: plateau().into(),
    };
    let got = lrs(Scheduler::new(spec, 0.1, 0.0).unwrap());
    assert_eq!(&got[..3], &[0.0, 0.1 / 3.0, 0.2 / 3.0]);
    assert_eq!(&got[3..], &plateau_alone(0.1, 2)[..]);
}

#[test]
fn a_step_without_the_metric_is_refused_and_changes_nothing() {
    let spec = SequentialLR {
        schedulers: children([
            LeafSpec::from(StepLR::new(1, 0.5).unwrap()),
            plateau().into(),
        ]),
        milestones: [2].into_iter().collect(),
    };
    let mut s = Scheduler::new(spec, 0.1, 0.0).unwrap();
    s.step().unwrap(); // StepLR's step: no metric needed
    let before = s.clone();
    assert_eq!(s.step(), Err(Error::MetricRequired)); // the switch to the plateau
    assert_eq!(s, before);
    s.step_with_metric(1.0).unwrap();
    assert_eq!(s.lr(), 0.1); // restarted at the initial lr
                             // A schedule without a ReduceLROnPlateau takes no metric.
    let mut plain = Scheduler::new(StepLR::new(1, 0.5).unwrap(), 0.1, 0.0).unwrap();
    assert_eq!(plain.step_with_metric(1.0), Err(Error::MetricNotAccepted));
}
