//! `ReduceLROnPlateau`: cut the lr when a metric stops improving.

use crate::error::{non_negative, Error};

choice! {
/// Whether lower or higher metrics are better.
pub enum PlateauMode {
    /// Lower is better (a loss).
    Min = "min",
    /// Higher is better (an accuracy).
    Max = "max",
}
}

choice! {
/// How `threshold` defines a significant improvement.
pub enum ThresholdMode {
    /// Better than `best * (1 -+ threshold)`.
    Rel = "rel",
    /// Better than `best -+ threshold`.
    Abs = "abs",
}
}

params! {
/// `torch.optim.lr_scheduler.ReduceLROnPlateau` with PyTorch's defaults.
///
/// After more than `patience` steps without a significant improvement the lr becomes
/// `max(lr * factor, min_lr)` (skipped when the change is at most `eps`), then `cooldown` steps
/// pass before bad steps count again. Step it with `Scheduler::step_with_metric`.
pub struct ReduceLROnPlateau {
    /// minimize or maximize the metric
    ///
    /// Default `min`.
    pub mode: PlateauMode = PlateauMode::Min,
    /// new_lr = lr * factor
    ///
    /// In (0, 1) (default 0.1).
    pub factor: f32 = 0.1,
    /// bad steps tolerated
    ///
    /// Default 10.
    pub patience: u32 = 10,
    /// significant change
    ///
    /// >= 0 (default 1e-4).
    pub threshold: f32 = 1e-4,
    /// relative or absolute threshold
    ///
    /// Default `rel`.
    pub threshold_mode: ThresholdMode = ThresholdMode::Rel,
    /// steps to wait after a reduction
    ///
    /// Default 0.
    pub cooldown: u32 = 0,
    /// lower bound
    ///
    /// >= 0 (default 0).
    #[per_group = true]
    pub min_lr: f32 = 0.0,
    /// smaller updates are ignored
    ///
    /// >= 0 (default 1e-8).
    pub eps: f32 = 1e-8,
}
}

impl Default for ReduceLROnPlateau {
    fn default() -> Self {
        ReduceLROnPlateau::with_defaults()
    }
}

/// The counters PyTorch keeps between steps.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct PlateauState {
    best: f32,
    num_bad_epochs: u32,
    cooldown_counter: u32,
}

impl ReduceLROnPlateau {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        const K: &str = "ReduceLROnPlateau";
        if !(self.factor > 0.0 && self.factor < 1.0) {
            return Err(Error::invalid(K, "factor", "must be in (0, 1)"));
        }
        non_negative(K, "threshold", self.threshold)?;
        non_negative(K, "min_lr", self.min_lr)?;
        non_negative(K, "eps", self.eps)
    }

    pub(crate) fn start(&self) -> PlateauState {
        let best = match self.mode {
            PlateauMode::Min => f32::INFINITY,
            PlateauMode::Max => f32::NEG_INFINITY,
        };
        PlateauState {
            best,
            num_bad_epochs: 0,
            cooldown_counter: 0,
        }
    }

    fn is_better(&self, a: f32, best: f32) -> bool {
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => a < best * (1.0 - self.threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => a < best - self.threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => a > best * (self.threshold + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => a > best + self.threshold,
        }
    }

    /// One `step(metric)`: updates the counters and returns the new lr.
    pub(crate) fn step(&self, state: &mut PlateauState, lr: f32, metric: f32) -> f32 {
        if self.is_better(metric, state.best) {
            state.best = metric;
            state.num_bad_epochs = 0;
        } else {
            state.num_bad_epochs += 1;
        }
        if state.cooldown_counter > 0 {
            state.cooldown_counter -= 1;
            state.num_bad_epochs = 0;
        }
        if state.num_bad_epochs > self.patience {
            state.cooldown_counter = self.cooldown;
            state.num_bad_epochs = 0;
            let reduced = (lr * self.factor).max(self.min_lr);
            if lr - reduced > self.eps {
                return reduced;
            }
        }
        lr
    }
}

/// Stepped on a metric; its state lives in the scheduler (`leaf.rs`).
impl crate::kind::Kind for ReduceLROnPlateau {}
