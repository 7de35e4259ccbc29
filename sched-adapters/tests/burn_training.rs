//! BurnScheduler in a real burn training loop (ndarray backend, f64, autodiff, SGD): the lr SGD
//! actually applied at every step, recovered from the weight update, is PyTorch's (golden
//! values) and sched-core's; a record saved mid-training and loaded into a fresh scheduler
//! continues bit-identically; a failing schedule keeps the last valid lr.

mod common;

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::module::Initializer;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{DType, Device, FloatDType, Tensor, TensorData};
use common::Case;
use sched_adapters::BurnScheduler;
use sched_core::golden::{worst, BAR};
use sched_core::{OneCycleLR, Scheduler};

fn device() -> Device {
    // ndarray is deprecated in burn 0.22 in favour of flex; it is the backend burn's users
    // have run on the CPU so far, and f64 makes the applied lr recoverable from the update.
    #[allow(deprecated)]
    let mut device = Device::ndarray();
    // Configuring twice (a second test in this process) reports AlreadyInitialized: the same f64.
    let _ = device.configure(FloatDType::F64);
    device.autodiff()
}

/// Linear regression y = 2 x0 - 3 x1 + 0.5 on eight fixed points.
struct Regression {
    device: Device,
    model: Linear,
    x: Tensor<2>,
    y: Tensor<2>,
}

impl Regression {
    fn new() -> Self {
        let device = device();
        let xs: Vec<[f64; 2]> = (0..8)
            .map(|i| [f64::from(i) / 4.0 - 1.0, f64::from(i * i % 5) / 2.0])
            .collect();
        let ys: Vec<f64> = xs.iter().map(|x| 2.0 * x[0] - 3.0 * x[1] + 0.5).collect();
        let regression = Regression {
            // Constant weights: two runs of one loop are comparable bit for bit.
            model: LinearConfig::new(2, 1)
                .with_initializer(Initializer::Constant { value: 0.25 })
                .init(&device),
            x: Tensor::from_data(TensorData::new(xs.concat(), [8, 2]), &device),
            y: Tensor::from_data(TensorData::new(ys, [8, 1]), &device),
            device,
        };
        assert_eq!(regression.model.weight.val().dtype(), DType::F64);
        assert_eq!(regression.x.dtype(), DType::F64);
        regression
    }

    fn weights(&self) -> Vec<f64> {
        let mut w = self
            .model
            .weight
            .val()
            .into_data()
            .try_to_vec::<f64>()
            .unwrap();
        if let Some(bias) = &self.model.bias {
            w.extend(bias.val().into_data().try_to_vec::<f64>().unwrap());
        }
        w
    }

    /// One SGD step with `lr`; returns the lr SGD applied, recovered from the update of the
    /// parameter with the largest gradient, and the bound of f64 rounding on that recovery.
    fn train_step(&mut self, optimizer: &mut ModuleOptimizer, lr: f64) -> (f64, f64) {
        let diff = self.model.forward(self.x.clone()) - self.y.clone();
        let loss = (diff.clone() * diff).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let g = grads
            .get::<2>(self.model.weight.id)
            .unwrap()
            .into_data()
            .try_to_vec::<f64>()
            .unwrap();
        let before = self.weights();
        let model = core::mem::replace(&mut self.model, LinearConfig::new(2, 1).init(&self.device));
        self.model = optimizer.step(lr, model, grads);
        let after = self.weights();
        let i = if g[0].abs() >= g[1].abs() { 0 } else { 1 };
        let rounding = 4.0 * f64::EPSILON * (before[i].abs() + (lr * g[i]).abs()) / g[i].abs();
        ((before[i] - after[i]) / g[i], rounding)
    }
}

/// Runs `steps` iterations in burn's order (`lr = scheduler.step()`, then the optimizer step
/// with it); returns (lr applied, its rounding bound, momentum reported) per step.
fn train(
    regression: &mut Regression,
    scheduler: &mut BurnScheduler,
    steps: usize,
) -> Vec<(f64, f64, f64)> {
    let mut optimizer = SgdConfig::new().init();
    (0..steps)
        .map(|_| {
            let lr = scheduler.step();
            assert!(scheduler.error().is_none(), "{:?}", scheduler.error());
            let (applied, rounding) = regression.train_step(&mut optimizer, lr);
            (applied, rounding, scheduler.momentum())
        })
        .collect()
}

#[test]
fn study_one_cycle_lr_applied_by_sgd_and_momentum_are_pytorchs() {
    let case = Case::load("tutorial_one_cycle_lr_scheduler_batches");
    let mut scheduler = BurnScheduler::new(case.scheduler());
    let mut regression = Regression::new();
    let used = train(&mut regression, &mut scheduler, case.lr.len());

    let applied: Vec<f32> = used.iter().map(|&(lr, _, _)| lr as f32).collect();
    let momentum: Vec<f32> = used.iter().map(|&(_, _, m)| m as f32).collect();
    let w = worst(&case.lr, &applied, &[]);
    assert!(w.error <= BAR, "lr against PyTorch: {w:?}");
    let w = worst(&case.momentum, &momentum, &[]);
    assert!(w.error <= BAR, "momentum against PyTorch: {w:?}");

    // And sched-core's own values, stepped on their own: the update recovers them to f64's
    // rounding of one product and one subtraction.
    let mut reference = case.scheduler();
    for (step, &(lr, rounding, m)) in used.iter().enumerate() {
        let expected = f64::from(reference.lr());
        assert!(
            (lr - expected).abs() <= rounding,
            "step {step}: SGD applied {lr}, sched-core {expected}"
        );
        assert_eq!(m, f64::from(reference.momentum()), "step {step}");
        reference.step().unwrap();
    }
}

#[test]
fn record_saved_mid_training_continues_bit_identically() {
    let case = Case::load("tutorial_one_cycle_lr_scheduler_batches");
    let (total, saved_at) = (400, 150);

    let mut regression = Regression::new();
    let mut uninterrupted = BurnScheduler::new(case.scheduler());
    let expected = train(&mut regression, &mut uninterrupted, total);
    let expected_weights = regression.weights();

    let mut regression = Regression::new();
    let mut first = BurnScheduler::new(case.scheduler());
    let mut got = train(&mut regression, &mut first, saved_at);
    // Through burnpack bytes, into a scheduler built from another schedule.
    let bytes = first.to_record().into_bytes().unwrap();
    drop(first);
    let mut resumed =
        BurnScheduler::new(Scheduler::new(OneCycleLR::new(0.5, 10).unwrap(), 0.5, 0.0).unwrap());
    resumed.load_record(LrSchedulerRecord::from_bytes(bytes).unwrap());
    assert!(resumed.error().is_none());
    got.extend(train(&mut regression, &mut resumed, total - saved_at));

    for (step, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g.0.to_bits(), e.0.to_bits(), "lr at step {step}");
        assert_eq!(g.2.to_bits(), e.2.to_bits(), "momentum at step {step}");
    }
    assert_eq!(regression.weights(), expected_weights);
}

#[test]
fn stepping_past_one_cycles_end_keeps_the_last_lr_and_reports_why() {
    let mut regression = Regression::new();
    let mut optimizer = SgdConfig::new().init();
    let mut scheduler =
        BurnScheduler::new(Scheduler::new(OneCycleLR::new(0.1, 300).unwrap(), 0.1, 0.0).unwrap());
    let mut lrs = Vec::new();
    for _ in 0..320 {
        let lr = scheduler.step();
        lrs.push((lr, scheduler.error()));
        regression.train_step(&mut optimizer, lr);
    }
    // The first call returns the initial lr, call k the lr after k - 1 steps: PyTorch allows
    // total_steps steps and raises on the next.
    assert!(lrs[..301].iter().all(|(_, e)| e.is_none()));
    let last = lrs[300].0;
    for (lr, error) in &lrs[301..] {
        assert_eq!(*lr, last);
        assert_eq!(
            *error,
            Some(sched_core::Error::PastTotalSteps { total_steps: 300 })
        );
    }
    assert!(regression.weights().iter().all(|w| w.is_finite()));
}

#[test]
fn a_foreign_record_leaves_the_state_and_says_so() {
    let mut scheduler =
        BurnScheduler::new(Scheduler::new(OneCycleLR::new(0.1, 100).unwrap(), 0.1, 0.0).unwrap());
    for _ in 0..10 {
        scheduler.step();
    }
    let before = scheduler.scheduler().clone();
    scheduler.load_record(LrSchedulerRecord::new().with_scalar("current_iter", 3u64));
    assert_eq!(scheduler.scheduler(), &before);
    let error = scheduler.error().unwrap().to_string();
    assert!(error.contains("record"), "{error}");
    // A truncated state is foreign too.
    let record = scheduler.to_record().with_scalar("state_len", 1u64 << 40);
    scheduler.load_record(record);
    assert_eq!(scheduler.scheduler(), &before);
    assert!(scheduler.error().is_some());
}

#[test]
fn plateau_metric_fed_through_the_loop_is_pytorchs() {
    let case = Case::load("ReduceLROnPlateau_defaults_decreasing_then_plateau");
    let mut scheduler = BurnScheduler::new(case.scheduler());
    let feed = scheduler.metric_feed();
    let mut regression = Regression::new();
    let mut optimizer = SgdConfig::new().init();
    let mut metrics = case.metrics.iter();
    let mut applied = Vec::new();
    for i in 0..case.lr.len() {
        let lr = scheduler.step();
        assert!(scheduler.error().is_none(), "{:?}", scheduler.error());
        applied.push(regression.train_step(&mut optimizer, lr).0 as f32);
        if (i + 1) % case.step_every == 0 {
            feed.push(*metrics.next().unwrap());
        }
    }
    let w = worst(&case.lr, &applied, &[]);
    assert!(w.error <= BAR, "{w:?}");
    assert!(case.lr.first() != case.lr.last(), "the case reduces the lr");
}
