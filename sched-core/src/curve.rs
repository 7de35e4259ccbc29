//! The study's plotting loop as an iterator: the lr and momentum each optimizer step sees.

use crate::{Error, GroupScheduler, Scheduler};
use core::fmt;

/// Why a [`Curve`] stopped: the `scheduler.step()` after optimizer step `step` failed. Its
/// `Display` is the one text of a failed curve, printed by `host-train curve` (after `error: `)
/// and by the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CurveError {
    /// The optimizer step (from 0) after which the scheduler step failed.
    pub step: u32,
    /// How many metrics the curve was given (for `ReduceLROnPlateau`).
    pub metrics: u32,
    /// What failed.
    pub error: Error,
}

impl fmt::Display for CurveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scheduler step after optimizer step {}: ", self.step)?;
        match self.error {
            Error::MetricRequired => write!(
                f,
                "ReduceLROnPlateau needs metric {} but {} were given (one per scheduler step)",
                u64::from(self.metrics) + 1,
                self.metrics
            ),
            e => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for CurveError {}

/// Yields `(lr, momentum)` in effect for optimizer steps 0, 1, 2, ..., calling
/// `scheduler.step()` after every `step_every`-th optimizer step, exactly as
/// `lrs.append(lr); optimizer.step(); if (i + 1) % step_every == 0: scheduler.step()`.
/// `ReduceLROnPlateau` takes its `j`-th metric from `metrics[j]`; when they run out the
/// iterator yields a [`CurveError`] with `Error::MetricRequired` and stops. A failed
/// `scheduler.step()` is reported on the value after it.
///
/// ```
/// use sched_core::{Curve, ExponentialLR, Scheduler};
/// let s = Scheduler::new(ExponentialLR::new(0.5)?, 1.0, 0.0)?;
/// // Per-epoch stepping with 2 batches per epoch.
/// let lrs: Vec<f32> = Curve::new(s, 2, &[]).take(6).map(|r| r.unwrap().0).collect();
/// assert_eq!(lrs, [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]);
/// # Ok::<(), sched_core::Error>(())
/// ```
///
/// Over several param groups ([`GroupScheduler`]) each item holds one `(lr, momentum)` per group.
#[derive(Clone, Debug)]
pub struct Curve<'a, S: Schedule = Scheduler> {
    scheduler: S,
    step_every: u32,
    metrics: &'a [f32],
    optimizer_steps: u32,
    /// An error from the `scheduler.step()` after the last value, reported on the next call.
    pending: Option<CurveError>,
    done: bool,
}

impl<'a, S: Schedule> Curve<'a, S> {
    /// `step_every` of 0 is treated as 1.
    pub fn new(scheduler: S, step_every: u32, metrics: &'a [f32]) -> Self {
        Curve {
            scheduler,
            step_every: step_every.max(1),
            metrics,
            optimizer_steps: 0,
            pending: None,
            done: false,
        }
    }

    /// The scheduler in its current state.
    pub fn scheduler(&self) -> &S {
        &self.scheduler
    }
}

/// What a [`Curve`] steps: a [`Scheduler`] (one param group) or a [`GroupScheduler`].
pub trait Schedule {
    /// The values in effect for one optimizer step: `(lr, momentum)`, or one pair per group.
    type Values;
    /// The values in effect now.
    fn values(&self) -> Self::Values;
    /// Whether a step takes a metric.
    fn needs_metric(&self) -> bool;
    /// How many steps succeeded.
    fn steps(&self) -> u32;
    /// `scheduler.step()`, or `scheduler.step(metric)`.
    fn step_on(&mut self, metric: Option<f32>) -> Result<(), Error>;
}

impl Schedule for Scheduler {
    type Values = (f32, f32);
    fn values(&self) -> (f32, f32) {
        (self.lr(), self.momentum())
    }
    fn needs_metric(&self) -> bool {
        Scheduler::needs_metric(self)
    }
    fn steps(&self) -> u32 {
        Scheduler::steps(self)
    }
    fn step_on(&mut self, metric: Option<f32>) -> Result<(), Error> {
        match metric {
            Some(m) => self.step_with_metric(m),
            None => self.step(),
        }
    }
}

impl<const N: usize> Schedule for GroupScheduler<N> {
    type Values = heapless::Vec<(f32, f32), N>;
    fn values(&self) -> Self::Values {
        let pair = |s: &Scheduler| (s.lr(), s.momentum());
        self.groups().iter().map(pair).collect()
    }
    fn needs_metric(&self) -> bool {
        GroupScheduler::needs_metric(self)
    }
    fn steps(&self) -> u32 {
        GroupScheduler::steps(self)
    }
    fn step_on(&mut self, metric: Option<f32>) -> Result<(), Error> {
        self.step_all(metric)
    }
}

impl<S: Schedule> Iterator for Curve<'_, S> {
    type Item = Result<S::Values, CurveError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if let Some(e) = self.pending.take() {
            self.done = true;
            return Some(Err(e));
        }
        let current = self.scheduler.values();
        self.optimizer_steps = self.optimizer_steps.saturating_add(1);
        if self.optimizer_steps.is_multiple_of(self.step_every) {
            let stepped = if self.scheduler.needs_metric() {
                let j = self.scheduler.steps() as usize;
                match self.metrics.get(j) {
                    Some(&m) => self.scheduler.step_on(Some(m)),
                    None => Err(Error::MetricRequired),
                }
            } else {
                self.scheduler.step_on(None)
            };
            // The value for this optimizer step is still right; the next one cannot be had.
            self.pending = stepped.err().map(|error| CurveError {
                step: self.optimizer_steps - 1,
                metrics: u32::try_from(self.metrics.len()).unwrap_or(u32::MAX),
                error,
            });
        }
        Some(Ok(current))
    }
}
