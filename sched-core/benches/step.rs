//! Time per `Scheduler::step()`: one step per criterion iteration, one benchmark per schedule.
//! PyTorch's `scheduler.step()` on the same machine: `benches/pytorch_step.py`.

use criterion::{criterion_group, criterion_main, Criterion};
use sched_core::timm::CosineLRScheduler;
use sched_core::transformers::{InverseSqrtSchedule, WsdSchedule};
use sched_core::*;
use std::hint::black_box;

/// Long horizons so that no schedule runs out (OneCycleLR) or stays in a trivial branch.
const LONG: u32 = u32::MAX / 2;

fn schedules() -> Vec<(&'static str, Spec)> {
    let leaf = |s: LeafSpec| -> Spec { s.into() };
    let mut cyclic = CyclicLR::new(0.001, 0.01).unwrap();
    cyclic.step_size_up = 2000;
    vec![
        ("StepLR", StepLR::new(30, 0.1).unwrap().into()),
        (
            "MultiStepLR",
            MultiStepLR::new(&[30_000, 80_000, 1_000_000], 0.1)
                .unwrap()
                .into(),
        ),
        ("ConstantLR", ConstantLR::new(0.5, LONG).unwrap().into()),
        ("LinearLR", LinearLR::new(0.1, 1.0, LONG).unwrap().into()),
        (
            "ExponentialLR",
            ExponentialLR::new(0.999_999_9).unwrap().into(),
        ),
        ("PolynomialLR", PolynomialLR::new(LONG, 2.0).unwrap().into()),
        (
            "CosineAnnealingLR",
            CosineAnnealingLR::new(100_000, 1e-5).unwrap().into(),
        ),
        (
            "CosineAnnealingWarmRestarts",
            CosineAnnealingWarmRestarts::new(1000, 2, 1e-5)
                .unwrap()
                .into(),
        ),
        ("CyclicLR", cyclic.into()),
        ("OneCycleLR", OneCycleLR::new(0.1, LONG).unwrap().into()),
        (
            "LambdaLR",
            LambdaLR::parse("0.95 ** (epoch / 1000)").unwrap().into(),
        ),
        (
            "MultiplicativeLR",
            MultiplicativeLR::parse("0.9999999").unwrap().into(),
        ),
        (
            "SequentialLR",
            SequentialLR {
                schedulers: [
                    LeafSpec::from(LinearLR::new(0.1, 1.0, 1000).unwrap()),
                    CosineAnnealingLR::new(100_000, 0.0).unwrap().into(),
                ]
                .into_iter()
                .collect(),
                milestones: [1000].into_iter().collect(),
            }
            .into(),
        ),
        (
            // eta_min > 0: the children step in exact mode (f64), as PyTorch.
            "ChainedScheduler",
            ChainedScheduler {
                schedulers: [
                    LeafSpec::from(StepLR::new(2, 0.999_99).unwrap()),
                    CosineAnnealingLR::new(10_000, 1e-4).unwrap().into(),
                ]
                .into_iter()
                .collect(),
            }
            .into(),
        ),
        (
            // The same with eta_min = 0: no offset to cross, the f32 path.
            "ChainedScheduler_eta_min0",
            ChainedScheduler {
                schedulers: [
                    LeafSpec::from(StepLR::new(2, 0.999_99).unwrap()),
                    CosineAnnealingLR::new(10_000, 0.0).unwrap().into(),
                ]
                .into_iter()
                .collect(),
            }
            .into(),
        ),
        (
            "WarmupLR+CosineAnnealingLR",
            WarmupLR {
                warmup_steps: 1000,
                warmup: WarmupShape::Linear,
                start_factor: 0.0,
                schedule: CosineAnnealingLR::new(100_000, 0.0).unwrap().into(),
            }
            .into(),
        ),
        (
            "transformers.get_wsd_schedule",
            leaf(LeafSpec::TransformersWsdSchedule(WsdSchedule {
                num_stable_steps: Some(LONG / 2),
                ..WsdSchedule::with_defaults(1000, LONG / 2)
            })),
        ),
        (
            "transformers.get_inverse_sqrt_schedule",
            leaf(LeafSpec::TransformersInverseSqrtSchedule(
                InverseSqrtSchedule::with_defaults(1000),
            )),
        ),
        (
            "timm.CosineLRScheduler",
            leaf(LeafSpec::TimmCosineLRScheduler(CosineLRScheduler {
                lr_min: 1e-5,
                cycle_mul: 2.0,
                cycle_decay: 0.9,
                cycle_limit: u32::MAX,
                ..CosineLRScheduler::with_defaults(1000)
            })),
        ),
    ]
}

fn step(c: &mut Criterion) {
    let mut group = c.benchmark_group("step");
    for (name, spec) in schedules() {
        let mut scheduler = Scheduler::from_spec(&spec, 0.1, 0.0).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                black_box(&mut scheduler).step().unwrap();
                black_box(scheduler.lr())
            })
        });
    }
    let mut plateau = Scheduler::new(ReduceLROnPlateau::default(), 0.1, 0.0).unwrap();
    let mut metric = 1.0f32;
    group.bench_function("ReduceLROnPlateau", |b| {
        b.iter(|| {
            metric = if metric > 0.5 { metric * 0.999 } else { 1.0 };
            black_box(&mut plateau)
                .step_with_metric(black_box(metric))
                .unwrap();
            black_box(plateau.lr())
        })
    });
    group.finish();
}

criterion_group!(benches, step);
criterion_main!(benches);
