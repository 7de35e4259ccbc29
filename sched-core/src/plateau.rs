//! `ReduceLROnPlateau`: cut the lr when a metric stops improving.

use crate::defaults;
use crate::error::{non_negative, Error};

choice! {
/// Whether lower or higher metrics are better.
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum PlateauMode {
    /// Lower is better (a loss).
    Min,
    /// Higher is better (an accuracy).
    Max,
}
}

choice! {
/// How `threshold` defines a significant improvement.
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ThresholdMode {
    /// Better than `best * (1 -+ threshold)`.
    Rel,
    /// Better than `best -+ threshold`.
    Abs,
}
}

params! {
/// `torch.optim.lr_scheduler.ReduceLROnPlateau` with PyTorch's defaults.
///
/// After more than `patience` steps without a significant improvement the lr becomes
/// `max(lr * factor, min_lr)` (skipped when the change is at most `eps`), then `cooldown` steps
/// pass before bad steps count again. Step it with `Scheduler::step_with_metric`.
pub struct ReduceLROnPlateau {
    /// Default `min`.
    #[cfg_attr(
        feature = "serde",
        serde(default = "crate::defaults::f::REDUCE_LR_ON_PLATEAU_MODE")
    )]
    pub mode: PlateauMode,
    /// In (0, 1) (default 0.1).
    #[cfg_attr(
        feature = "serde",
        serde(default = "crate::defaults::f::REDUCE_LR_ON_PLATEAU_FACTOR")
    )]
    pub factor: f32,
    /// Default 10.
    #[cfg_attr(
        feature = "serde",
        serde(default = "crate::defaults::f::REDUCE_LR_ON_PLATEAU_PATIENCE")
    )]
    pub patience: u32,
    /// >= 0 (default 1e-4).
    #[cfg_attr(
        feature = "serde",
        serde(default = "crate::defaults::f::REDUCE_LR_ON_PLATEAU_THRESHOLD")
    )]
    pub threshold: f32,
    /// Default `rel`.
    #[cfg_attr(
        feature = "serde",
        serde(default = "crate::defaults::f::REDUCE_LR_ON_PLATEAU_THRESHOLD_MODE")
    )]
    pub threshold_mode: ThresholdMode,
    /// Default 0.
    #[cfg_attr(
        feature = "serde",
        serde(default = "crate::defaults::f::REDUCE_LR_ON_PLATEAU_COOLDOWN")
    )]
    pub cooldown: u32,
    /// >= 0 (default 0).
    #[cfg_attr(
        feature = "serde",
        serde(default = "crate::defaults::f::REDUCE_LR_ON_PLATEAU_MIN_LR")
    )]
    pub min_lr: f32,
    /// >= 0 (default 1e-8).
    #[cfg_attr(
        feature = "serde",
        serde(default = "crate::defaults::f::REDUCE_LR_ON_PLATEAU_EPS")
    )]
    pub eps: f32,
}
}

impl Default for ReduceLROnPlateau {
    fn default() -> Self {
        ReduceLROnPlateau {
            mode: defaults::REDUCE_LR_ON_PLATEAU_MODE,
            factor: defaults::REDUCE_LR_ON_PLATEAU_FACTOR,
            patience: defaults::REDUCE_LR_ON_PLATEAU_PATIENCE,
            threshold: defaults::REDUCE_LR_ON_PLATEAU_THRESHOLD,
            threshold_mode: defaults::REDUCE_LR_ON_PLATEAU_THRESHOLD_MODE,
            cooldown: defaults::REDUCE_LR_ON_PLATEAU_COOLDOWN,
            min_lr: defaults::REDUCE_LR_ON_PLATEAU_MIN_LR,
            eps: defaults::REDUCE_LR_ON_PLATEAU_EPS,
        }
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
