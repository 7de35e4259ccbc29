//! `OneCycleLR`: warm up to `max_lr`, anneal to far below the start (Smith & Topin 2018).

use crate::cosine::half_cosines;
use crate::error::{at_least_one, non_negative, positive, Error};

choice! {
/// `OneCycleLR.anneal_strategy`.
pub enum Anneal {
    /// Cosine annealing (default).
    Cos = "cos",
    /// Linear annealing.
    Linear = "linear",
}
}

params! {
/// `torch.optim.lr_scheduler.OneCycleLR` with PyTorch's defaults.
///
/// `initial_lr = max_lr / div_factor`, `min_lr = initial_lr / final_div_factor`. Phase 1 goes
/// from `initial_lr` to `max_lr` over `pct_start * total_steps - 1` steps, phase 2 down to
/// `min_lr` at step `total_steps - 1` (with `three_phase`: back to `initial_lr` at
/// `2 * pct_start * total_steps - 2`, then to `min_lr`). Within a phase at fraction `p`:
/// cos `end + (start - end) * (1 + cos(pi p)) / 2`, linear `start + (end - start) * p`. With
/// `cycle_momentum` (default) the momentum runs `max_momentum -> base_momentum ->
/// max_momentum` the same way. Stepping past `total_steps` is an error, as in PyTorch.
pub struct OneCycleLR {
    /// peak lr
    ///
    /// Peak lr (> 0).
    #[per_group = true]
    pub max_lr: f32 => "0.001",
    /// steps in the cycle (or epochs x steps_per_epoch)
    ///
    /// Number of steps in the cycle; or give `epochs` and `steps_per_epoch`.
    pub total_steps: Option<u32> = None => "100",
    /// with steps_per_epoch
    ///
    /// With `steps_per_epoch`, `total_steps = epochs * steps_per_epoch`.
    pub epochs: Option<u32> = None,
    /// with epochs
    ///
    /// With `epochs`.
    pub steps_per_epoch: Option<u32> = None,
    /// fraction of the cycle rising
    ///
    /// Fraction of the cycle spent rising, in (0, 1) (default 0.3).
    pub pct_start: f32 = 0.3,
    /// annealing shape
    ///
    /// Default `cos`.
    pub anneal_strategy: Anneal = Anneal::Cos,
    /// cycle the momentum inversely
    ///
    /// Default true.
    pub cycle_momentum: bool = true,
    /// lower momentum bound
    ///
    /// Default 0.85.
    #[per_group = true]
    pub base_momentum: f32 = 0.85,
    /// upper momentum bound
    ///
    /// Default 0.95.
    #[per_group = true]
    pub max_momentum: f32 = 0.95,
    /// initial_lr = max_lr / div_factor
    ///
    /// Default 25.
    pub div_factor: f32 = 25.0,
    /// min_lr = initial_lr / final_div_factor
    ///
    /// Default 1e4.
    pub final_div_factor: f32 = 1e4,
    /// fast.ai's three phases
    ///
    /// Default false.
    pub three_phase: bool = false,
}
}

/// One phase: from `start` to `end` (lr and momentum) over steps `(from, to]`.
#[derive(Clone, Copy)]
struct Phase {
    from: f32,
    to: f32,
    lr: (f32, f32),
    momentum: (f32, f32),
}

impl OneCycleLR {
    /// PyTorch's defaults with `total_steps`.
    pub fn new(max_lr: f32, total_steps: u32) -> Result<Self, Error> {
        let s = OneCycleLR {
            total_steps: Some(total_steps),
            ..OneCycleLR::with_defaults(max_lr)
        };
        s.validate()?;
        Ok(s)
    }

    /// The cycle length.
    pub fn total(&self) -> Result<u32, Error> {
        const K: &str = "OneCycleLR";
        match (self.total_steps, self.epochs, self.steps_per_epoch) {
            (Some(total), _, _) => {
                at_least_one(K, "total_steps", total)?;
                Ok(total)
            }
            (None, Some(epochs), Some(per_epoch)) => {
                at_least_one(K, "epochs", epochs)?;
                at_least_one(K, "steps_per_epoch", per_epoch)?;
                epochs.checked_mul(per_epoch).ok_or(Error::invalid(
                    K,
                    "epochs",
                    "times steps_per_epoch must fit in u32",
                ))
            }
            _ => Err(Error::invalid(
                K,
                "total_steps",
                "is required, or both epochs and steps_per_epoch",
            )),
        }
    }

    /// The cycle length without the checks of [`OneCycleLR::total`] (at least 1, so that
    /// [`OneCycleLR::at`] never panics on unchecked parameters).
    pub(crate) fn total_steps(&self) -> u32 {
        match (self.total_steps, self.epochs, self.steps_per_epoch) {
            (Some(total), _, _) => total,
            (None, Some(epochs), Some(per_epoch)) => epochs.saturating_mul(per_epoch),
            _ => 1,
        }
        .max(1)
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        const K: &str = "OneCycleLR";
        let total = self.total()?;
        positive(K, "max_lr", self.max_lr)?;
        if !(self.pct_start > 0.0 && self.pct_start < 1.0) {
            return Err(Error::invalid(K, "pct_start", "must be in (0, 1)"));
        }
        positive(K, "div_factor", self.div_factor)?;
        positive(K, "final_div_factor", self.final_div_factor)?;
        non_negative(K, "base_momentum", self.base_momentum)?;
        non_negative(K, "max_momentum", self.max_momentum)?;
        if self.cycle_momentum && self.base_momentum > self.max_momentum {
            return Err(Error::invalid(
                K,
                "base_momentum",
                "must be <= max_momentum",
            ));
        }
        let (phases, n) = self.phases(total);
        let mut from = 0.0;
        for phase in &phases[..n] {
            // A zero-length phase divides by zero in PyTorch.
            if phase.to == from {
                return Err(Error::invalid(
                    K,
                    "pct_start",
                    "gives a phase of zero length for this total_steps",
                ));
            }
            from = phase.to;
        }
        Ok(())
    }

    fn phases(&self, total: u32) -> ([Phase; 3], usize) {
        let initial = self.max_lr / self.div_factor;
        let min = initial / self.final_div_factor;
        let (lo_m, hi_m) = (self.base_momentum, self.max_momentum);
        let rise_end = self.pct_start * total as f32 - 1.0;
        let last = (total - 1) as f32;
        let up = Phase {
            from: 0.0,
            to: rise_end,
            lr: (initial, self.max_lr),
            momentum: (hi_m, lo_m),
        };
        if self.three_phase {
            let fall_end = 2.0 * self.pct_start * total as f32 - 2.0;
            let down = Phase {
                from: rise_end,
                to: fall_end,
                lr: (self.max_lr, initial),
                momentum: (lo_m, hi_m),
            };
            let tail = Phase {
                from: fall_end,
                to: last,
                lr: (initial, min),
                momentum: (hi_m, hi_m),
            };
            ([up, down, tail], 3)
        } else {
            let down = Phase {
                from: rise_end,
                to: last,
                lr: (self.max_lr, min),
                momentum: (lo_m, hi_m),
            };
            ([up, down, down], 2)
        }
    }

    /// `(lr, momentum)` at step `t` (momentum `None` without `cycle_momentum`): what a
    /// [`Scheduler`](crate::Scheduler) of this schedule alone gives after `t` steps, without
    /// the `Scheduler`, whose code serves every kind. For the smallest firmware
    /// (`firmware-example`'s `minimal` binary); past `total_steps` it continues the last phase.
    ///
    /// ```
    /// use sched_core::{OneCycleLR, Scheduler};
    /// let s = OneCycleLR::new(0.1, 100)?;
    /// let mut reference = Scheduler::new(s.clone(), 0.1, 0.0)?;
    /// for t in 0..100 {
    ///     assert_eq!(s.at(t), (reference.lr(), Some(reference.momentum())));
    ///     if t < 99 { reference.step()?; }
    /// }
    /// # Ok::<(), sched_core::Error>(())
    /// ```
    pub fn at(&self, t: u32) -> (f32, Option<f32>) {
        let total = self.total_steps();
        let (phases, n) = self.phases(total);
        let step = t as f32;
        let mut phase = phases[n - 1];
        for (i, p) in phases[..n].iter().enumerate() {
            if step <= p.to || i == n - 1 {
                phase = *p;
                break;
            }
        }
        // p and 1 - p from differences, so the cosine stays accurate at both ends.
        let span = phase.to - phase.from;
        let p = (step - phase.from) / span;
        let rest = (phase.to - step) / span;
        let (h, g) = half_cosines(p, rest);
        let anneal = |(start, end): (f32, f32)| match self.anneal_strategy {
            // PyTorch's `end + (start - end) * (1 + cos(pi p)) / 2`, exact at both ends.
            Anneal::Cos => start * h + end * g,
            // PyTorch's `(end - start) * p + start`, written so each end is exact: at p = 1
            // the f32 form cancels to a few bits when `end` is tiny (min_lr).
            Anneal::Linear => start * rest + end * p,
        };
        (
            anneal(phase.lr),
            self.cycle_momentum.then(|| anneal(phase.momentum)),
        )
    }
}

impl crate::kind::Kind for OneCycleLR {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        Some(Ok(self.at(t)))
    }
}
