//! [`Scheduled`]: a candle-nn optimizer whose lr (and AdamW's beta1) a sched-core schedule sets
//! before each step.

use candle_core::backprop::GradStore;
use candle_core::Tensor;
use candle_nn::{AdamW, Optimizer};
use core::fmt;
use sched_core::{Scheduler, Spec};

/// An optimizer whose momentum a schedule can cycle: Adam's beta1, as PyTorch's `OneCycleLR`
/// and `CyclicLR` cycle `betas[0]` on Adam.
pub trait Momentum {
    /// The momentum the next step uses.
    fn momentum(&self) -> f64;
    /// Sets the momentum the next step uses.
    fn set_momentum(&mut self, momentum: f64);
}

impl Momentum for AdamW {
    fn momentum(&self) -> f64 {
        self.params().beta1
    }

    fn set_momentum(&mut self, momentum: f64) {
        let params = candle_nn::ParamsAdamW {
            beta1: momentum,
            ..self.params().clone()
        };
        self.set_params(params);
    }
}

/// Why [`Scheduled::step`] failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum StepError {
    /// The optimizer's step failed; the schedule did not step.
    Optimizer(candle_core::Error),
    /// The optimizer stepped, the schedule could not (e.g. `OneCycleLR` past `total_steps`):
    /// its state is as it was, so the next step uses the same lr again.
    Schedule(sched_core::Error),
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::Optimizer(e) => write!(f, "optimizer step: {e}"),
            StepError::Schedule(e) => write!(f, "scheduler step: {e}"),
        }
    }
}

impl std::error::Error for StepError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StepError::Optimizer(e) => Some(e),
            StepError::Schedule(e) => Some(e),
        }
    }
}

/// A candle-nn [`Optimizer`] driven by a sched-core [`Scheduler`], PyTorch's loop in one call:
/// each [`step`](Self::step) sets the optimizer's lr (f64 of the schedule's f32; and, built
/// [`with_momentum`](Self::with_momentum), its momentum) to the schedule's, steps the
/// optimizer, then steps the schedule (`optimizer.step(); scheduler.step()`).
///
/// The schedule's state is a plain value: save [`scheduler`](Self::scheduler) (with
/// sched-core's `serde` feature, or a clone) and put it back with
/// [`set_scheduler`](Self::set_scheduler) to continue bit-identically. candle's optimizers do
/// not expose their own state (AdamW's moments), which is theirs to save.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// use candle_nn::{AdamW, Optimizer, ParamsAdamW};
/// use sched_adapters::Scheduled;
/// use sched_core::OneCycleLR;
///
/// let w = Var::new(&[1.0f32, -2.0], &Device::Cpu)?;
/// let adamw = AdamW::new(vec![w.clone()], ParamsAdamW::default())?;
/// let mut opt = Scheduled::with_momentum(adamw, OneCycleLR::new(0.01, 100)?)?;
/// for _ in 0..100 {
///     let loss = w.as_tensor().sqr()?.sum_all()?;
///     opt.backward_step(&loss)?; // lr and beta1 of this step, then scheduler.step()
/// }
/// assert_eq!(opt.optimizer().params().beta1, 0.95f32 as f64); // the cycle's end
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Scheduled<O> {
    optimizer: O,
    scheduler: Scheduler,
    /// The optimizer's momentum, built `with_momentum`.
    momentum: Option<MomentumAccess<O>>,
}

/// [`Momentum`]'s two methods, kept where `O: Momentum` is not known.
type MomentumAccess<O> = (fn(&O) -> f64, fn(&mut O, f64));

/// The f64 an optimizer gets for the schedule's f32 `value`: its `current` one where that
/// rounds to `value`, so that a schedule that leaves a value alone (a constant lr, the momentum
/// of a schedule that does not cycle it) leaves the optimizer's f64 exactly as it was.
fn widen(value: f32, current: f64) -> f64 {
    if value == current as f32 {
        current
    } else {
        f64::from(value)
    }
}

impl<O: Optimizer> Scheduled<O> {
    /// Builds `spec` on `optimizer` as PyTorch builds a scheduler on it, from its
    /// `learning_rate()`; the schedule sets only the lr.
    pub fn new(optimizer: O, spec: impl Into<Spec>) -> Result<Self, sched_core::Error> {
        let scheduler = Scheduler::new(spec, optimizer.learning_rate() as f32, 0.0)?;
        Ok(Scheduled {
            optimizer,
            scheduler,
            momentum: None,
        })
    }

    /// Sets the schedule's lr (and momentum) on the optimizer, steps it with `grads`, then
    /// steps the schedule.
    pub fn step(&mut self, grads: &GradStore) -> Result<(), StepError> {
        let lr = widen(self.scheduler.lr(), self.optimizer.learning_rate());
        self.optimizer.set_learning_rate(lr);
        if let Some((get, set)) = self.momentum {
            let momentum = widen(self.scheduler.momentum(), get(&self.optimizer));
            set(&mut self.optimizer, momentum);
        }
        self.optimizer.step(grads).map_err(StepError::Optimizer)?;
        self.scheduler.step().map_err(StepError::Schedule)
    }

    /// `loss.backward()`, then [`step`](Self::step).
    pub fn backward_step(&mut self, loss: &Tensor) -> Result<(), StepError> {
        let grads = loss.backward().map_err(StepError::Optimizer)?;
        self.step(&grads)
    }

    /// The optimizer (its lr and momentum are those of the last step).
    pub fn optimizer(&self) -> &O {
        &self.optimizer
    }

    /// The schedule; its `lr()` and `momentum()` are those the next step uses.
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    /// Replaces the schedule's state, e.g. with one restored from a checkpoint.
    pub fn set_scheduler(&mut self, scheduler: Scheduler) {
        self.scheduler = scheduler;
    }

    /// The optimizer and the schedule.
    pub fn into_parts(self) -> (O, Scheduler) {
        (self.optimizer, self.scheduler)
    }
}

impl<O: Optimizer + Momentum> Scheduled<O> {
    /// As [`new`](Self::new), the schedule built on the optimizer's momentum too, which it
    /// then sets before each step: AdamW's beta1, as PyTorch's `OneCycleLR` and `CyclicLR` cycle
    /// Adam's `betas[0]` (a schedule that does not cycle it leaves it exactly as it was).
    pub fn with_momentum(optimizer: O, spec: impl Into<Spec>) -> Result<Self, sched_core::Error> {
        let scheduler = Scheduler::new(
            spec,
            optimizer.learning_rate() as f32,
            optimizer.momentum() as f32,
        )?;
        Ok(Scheduled {
            optimizer,
            scheduler,
            momentum: Some((<O as Momentum>::momentum, <O as Momentum>::set_momentum)),
        })
    }
}
