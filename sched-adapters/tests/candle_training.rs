//! Scheduled in real candle-nn training loops on the CPU: the lr SGD actually applied at every
//! step (recovered from the f64 weight update), and the lr and beta1 AdamW stepped with, are
//! PyTorch's (golden values) and sched-core's; a schedule saved mid-training and put back
//! continues bit-identically; a failing schedule is an error, never a panic.

mod common;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, SGD};
use common::Case;
use sched_adapters::{Scheduled, StepError};
use sched_core::golden::{worst, BAR};
use sched_core::{OneCycleLR, Scheduler, Spec};

const STUDY_ONE_CYCLE: &str = "tutorial_one_cycle_lr_scheduler_batches";

/// Linear regression y = 2 x0 - 3 x1 + 0.5 on eight fixed points, weights and bias in one Var.
struct Regression {
    w: Var,
    x: Tensor,
    y: Tensor,
}

impl Regression {
    fn new(dtype: DType) -> Self {
        let xs: Vec<f64> = (0..8)
            .flat_map(|i| [f64::from(i) / 4.0 - 1.0, f64::from(i * i % 5) / 2.0, 1.0])
            .collect();
        let ys: Vec<f64> = xs
            .chunks(3)
            .map(|x| 2.0 * x[0] - 3.0 * x[1] + 0.5)
            .collect();
        let cpu = &Device::Cpu;
        let tensor = |v: Vec<f64>, shape: (usize, usize)| {
            Tensor::from_vec(v, shape, cpu)
                .unwrap()
                .to_dtype(dtype)
                .unwrap()
        };
        Regression {
            w: Var::from_tensor(&tensor(vec![0.25, 0.25, 0.25], (3, 1))).unwrap(),
            x: tensor(xs, (8, 3)),
            y: tensor(ys, (8, 1)),
        }
    }

    fn loss(&self) -> Tensor {
        let diff = (self.x.matmul(self.w.as_tensor()).unwrap() - &self.y).unwrap();
        diff.sqr().unwrap().mean_all().unwrap()
    }

    fn weights(&self) -> Vec<f64> {
        let w = self.w.as_tensor().to_dtype(DType::F64).unwrap();
        w.flatten_all().unwrap().to_vec1().unwrap()
    }
}

#[test]
fn study_one_cycle_lr_applied_by_sgd_is_pytorchs() {
    let case = Case::load(STUDY_ONE_CYCLE);
    let regression = Regression::new(DType::F64);
    let sgd = SGD::new(vec![regression.w.clone()], case.lr[0]).unwrap();
    let mut optimizer = Scheduled::new(sgd, case.spec()).unwrap();
    let mut reference = case.scheduler();
    let mut applied = Vec::new();
    for step in 0..case.lr.len() {
        let grads = regression.loss().backward().unwrap();
        let g: Vec<f64> = grads
            .get(&regression.w)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let before = regression.weights();
        optimizer.step(&grads).unwrap();
        let after = regression.weights();
        // SGD: w - g * lr, in f64. The recovered lr is exact to the rounding of that product
        // and subtraction.
        let i = (0..3)
            .max_by(|&a, &b| g[a].abs().total_cmp(&g[b].abs()))
            .unwrap();
        let lr = (before[i] - after[i]) / g[i];
        let rounding = 4.0 * f64::EPSILON * (before[i].abs() + (lr * g[i]).abs()) / g[i].abs();
        let expected = f64::from(reference.lr());
        assert!(
            (lr - expected).abs() <= rounding,
            "step {step}: SGD applied {lr}, sched-core {expected}"
        );
        applied.push(lr as f32);
        reference.step().unwrap();
    }
    let w = worst(&case.lr, &applied, &[]);
    assert!(w.error <= BAR, "lr against PyTorch: {w:?}");
}

/// Trains `steps` steps; returns the (lr, beta1) AdamW stepped with at each.
fn train_adamw(
    optimizer: &mut Scheduled<AdamW>,
    regression: &Regression,
    steps: usize,
) -> Vec<(f64, f64)> {
    (0..steps)
        .map(|_| {
            optimizer.backward_step(&regression.loss()).unwrap();
            // Set before the step and untouched by it: what the step used.
            let adamw = optimizer.optimizer();
            (adamw.learning_rate(), adamw.params().beta1)
        })
        .collect()
}

fn adamw(regression: &Regression, lr: f64) -> AdamW {
    let params = ParamsAdamW {
        lr,
        ..ParamsAdamW::default()
    };
    AdamW::new(vec![regression.w.clone()], params).unwrap()
}

#[test]
fn study_one_cycle_lr_and_beta1_used_by_adamw_are_pytorchs() {
    let case = Case::load(STUDY_ONE_CYCLE);
    let regression = Regression::new(DType::F32);
    let mut optimizer =
        Scheduled::with_momentum(adamw(&regression, case.lr[0]), case.spec()).unwrap();
    let used = train_adamw(&mut optimizer, &regression, case.lr.len());

    let lr: Vec<f32> = used.iter().map(|&(lr, _)| lr as f32).collect();
    let beta1: Vec<f32> = used.iter().map(|&(_, b)| b as f32).collect();
    let w = worst(&case.lr, &lr, &[]);
    assert!(w.error <= BAR, "lr against PyTorch: {w:?}");
    let w = worst(&case.momentum, &beta1, &[]);
    assert!(w.error <= BAR, "beta1 against PyTorch's momentum: {w:?}");
    // Exactly sched-core's f32 values.
    let mut reference = case.scheduler();
    for (step, &(lr, beta1)) in used.iter().enumerate() {
        assert_eq!(
            (lr as f32, beta1 as f32),
            (reference.lr(), reference.momentum()),
            "step {step}"
        );
        reference.step().unwrap();
    }
    assert!(regression.weights().iter().all(|w| w.is_finite()));
}

#[test]
fn a_schedule_that_leaves_beta1_alone_leaves_it_exactly() {
    let regression = Regression::new(DType::F32);
    let spec = Spec::from(sched_core::StepLR::new(10, 0.5).unwrap());
    let mut optimizer = Scheduled::with_momentum(adamw(&regression, 0.01), spec).unwrap();
    let used = train_adamw(&mut optimizer, &regression, 30);
    assert!(used.iter().all(|&(_, beta1)| beta1 == 0.9));
    assert_eq!(used[0].0, 0.01); // PyTorch's lr before the first decay, the optimizer's own f64
    assert_eq!(used[29].0, f64::from(0.01f32 * 0.25)); // sched-core's f32 after two decays
}

#[test]
fn schedule_saved_mid_training_continues_bit_identically() {
    let case = Case::load(STUDY_ONE_CYCLE);
    let (total, saved_at) = (400, 150);

    let regression = Regression::new(DType::F32);
    let mut uninterrupted =
        Scheduled::with_momentum(adamw(&regression, case.lr[0]), case.spec()).unwrap();
    let expected = train_adamw(&mut uninterrupted, &regression, total);
    let expected_weights = regression.weights();

    let regression = Regression::new(DType::F32);
    let mut first = Scheduled::with_momentum(adamw(&regression, case.lr[0]), case.spec()).unwrap();
    let mut got = train_adamw(&mut first, &regression, saved_at);
    // A checkpoint: the schedule as sched-core's serde JSON; the same AdamW (candle does not
    // expose its moments) under a new Scheduled built from another schedule.
    let (adamw, scheduler) = first.into_parts();
    let saved = serde_json::to_string(&scheduler).unwrap();
    let mut resumed = Scheduled::with_momentum(adamw, OneCycleLR::new(0.5, 10).unwrap()).unwrap();
    resumed.set_scheduler(serde_json::from_str::<Scheduler>(&saved).unwrap());
    got.extend(train_adamw(&mut resumed, &regression, total - saved_at));

    for (step, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(
            (g.0.to_bits(), g.1.to_bits()),
            (e.0.to_bits(), e.1.to_bits()),
            "step {step}"
        );
    }
    assert_eq!(regression.weights(), expected_weights);
}

#[test]
fn stepping_past_one_cycles_end_is_an_error_and_keeps_the_last_lr() {
    let regression = Regression::new(DType::F32);
    let mut optimizer =
        Scheduled::with_momentum(adamw(&regression, 0.1), OneCycleLR::new(0.1, 300).unwrap())
            .unwrap();
    let mut used = Vec::new();
    for step in 0..320 {
        let result = optimizer.backward_step(&regression.loss());
        // PyTorch allows total_steps scheduler steps and raises on the next.
        match (step < 300, result) {
            (true, Ok(())) => {}
            (false, Err(StepError::Schedule(e))) => {
                assert_eq!(e, sched_core::Error::PastTotalSteps { total_steps: 300 });
                let text = StepError::Schedule(e).to_string();
                assert!(
                    text.starts_with("scheduler step: ") && text.contains("total_steps"),
                    "{text}"
                );
            }
            (_, result) => panic!("step {step}: {result:?}"),
        }
        used.push(optimizer.optimizer().learning_rate());
    }
    // The optimizer stepped every time; past the end with the lr of the last valid step.
    assert!(used[300..].iter().all(|&lr| lr == used[300]));
    assert_eq!(used[300], f64::from(optimizer.scheduler().lr()));
    assert!(regression.weights().iter().all(|w| w.is_finite()));
}
