//! [`BurnScheduler`]: any sched-core [`Scheduler`] as burn's `LrScheduler`.

use burn_optim::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn_optim::LearningRate;
use sched_core::{Error, Scheduler};
use std::sync::{Arc, Mutex, PoisonError};

/// Record keys. The scheduler's state is its serde JSON (sched-core's `serde` format, which
/// restores bit-identically), packed 8 bytes to a `u64` scalar, since a burn record holds
/// scalars only.
const STARTED: &str = "started";
const STATE_LEN: &str = "state_len";
const STATE_WORD: &str = "state";

/// The error `load_record` keeps when a record holds no state this type saved.
const BAD_RECORD: Error = Error::InvalidParameter {
    schedule: "BurnScheduler",
    parameter: "record",
    rule: "must hold a state saved by BurnScheduler::to_record; the state was left as it was",
};

/// A sched-core [`Scheduler`] as burn's [`LrScheduler`] (burn 0.22).
///
/// burn calls [`step`](LrScheduler::step) before each iteration and passes the lr it returns
/// to `Optimizer::step`: the first call returns the lr the scheduler was built with, each
/// later call advances the schedule once (PyTorch's `scheduler.step()` after the previous
/// optimizer step) and returns the new lr. So the lr of iteration `i` is sched-core's
/// `lr()` after `i` steps, which is PyTorch's `param_groups[0]["lr"]` for that step.
///
/// **Errors.** burn's `step()` cannot return one. When the schedule fails to step (e.g.
/// `OneCycleLR` stepped past `total_steps`, or an lr that would not be finite), sched-core leaves
/// its state as it was, so `step()` returns the last valid lr again and [`error`](Self::error)
/// says why; it never panics.
///
/// **ReduceLROnPlateau.** burn's `step()` takes no metric: push it through a [`MetricFeed`]
/// (from [`metric_feed`](Self::metric_feed), usable after the scheduler has moved into burn's
/// `Learner`); the next `step()` applies every pushed metric in order, then returns the lr.
/// Pushed metrics not yet applied are not part of the record.
///
/// **Momentum.** `OneCycleLR` and `CyclicLR` cycle the momentum (Adam's beta1 in PyTorch);
/// [`momentum`](Self::momentum) gives the value for the iteration `step()` last returned the lr
/// of, for a custom loop whose optimizer takes it.
///
/// **Record.** [`to_record`](LrScheduler::to_record) saves the whole state, and
/// [`load_record`](LrScheduler::load_record) restores it bit-identically. A record this type
/// did not save leaves the state as it was and sets [`error`](Self::error).
///
/// **burn versions.** Written for burn 0.22, whose `LrScheduler` is object safe and records to
/// `LrSchedulerRecord` (named scalars); burn's main (0.23.0-pre.1) has the same trait. burn 0.21
/// had `type Record<B: Backend>`, `to_record::<B>()` and `load_record(self, record) -> Self`.
///
/// ```
/// use burn_optim::lr_scheduler::LrScheduler;
/// use sched_adapters::BurnScheduler;
/// use sched_core::{OneCycleLR, Scheduler};
///
/// let mut s = BurnScheduler::new(Scheduler::new(OneCycleLR::new(0.1, 100)?, 0.1, 0.0)?);
/// assert_eq!((s.step(), s.momentum()), (f64::from(0.1f32 / 25.0), f64::from(0.95f32)));
/// for _ in 0..100 { s.step(); } // PyTorch allows total_steps steps
/// assert!(s.error().is_none());
/// let last = s.lr();
/// assert_eq!(s.step(), last); // one more: the last valid lr again
/// assert_eq!(s.error(), Some(sched_core::Error::PastTotalSteps { total_steps: 100 }));
/// # Ok::<(), sched_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct BurnScheduler {
    scheduler: Scheduler,
    started: bool,
    error: Option<Error>,
    metrics: MetricFeed,
}

/// Where a training loop pushes the metric `ReduceLROnPlateau` steps on (see [`BurnScheduler`]).
/// Clones share one queue.
#[derive(Clone, Debug, Default)]
pub struct MetricFeed(Arc<Mutex<Vec<f32>>>);

impl MetricFeed {
    /// Queues `metric` (PyTorch: `scheduler.step(metric)`) for the next `step()`.
    pub fn push(&self, metric: f32) {
        // A panic elsewhere while holding the lock leaves a plain Vec, still usable.
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(metric);
    }

    fn take(&self) -> Vec<f32> {
        core::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl BurnScheduler {
    /// Wraps `scheduler`, built on the optimizer's lr (and momentum).
    pub fn new(scheduler: Scheduler) -> Self {
        BurnScheduler {
            scheduler,
            started: false,
            error: None,
            metrics: MetricFeed::default(),
        }
    }

    /// The sched-core scheduler, as of the last `step()`.
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    /// The lr `step()` last returned (before the first `step()`, the lr it will return).
    pub fn lr(&self) -> LearningRate {
        f64::from(self.scheduler.lr())
    }

    /// The momentum (Adam's beta1) for the iteration `step()` last returned the lr of.
    pub fn momentum(&self) -> f64 {
        f64::from(self.scheduler.momentum())
    }

    /// Why the last `step()` (or `load_record`) left the state as it was; `None` after a
    /// successful one.
    pub fn error(&self) -> Option<Error> {
        self.error
    }

    /// The queue a loop pushes `ReduceLROnPlateau`'s metric to; it stays shared with this
    /// scheduler after the scheduler moves into burn's `Learner`.
    pub fn metric_feed(&self) -> MetricFeed {
        self.metrics.clone()
    }

    fn advance(&mut self) -> Result<(), Error> {
        // Metrics first, as PyTorch's plateau step at an epoch's end precedes the next
        // iteration; a schedule that takes none reports MetricNotAccepted for each.
        for metric in self.metrics.take() {
            self.scheduler.step_with_metric(metric)?;
        }
        if self.started && !self.scheduler.needs_metric() {
            self.scheduler.step()?;
        }
        Ok(())
    }
}

impl LrScheduler for BurnScheduler {
    fn step(&mut self) -> LearningRate {
        self.error = self.advance().err();
        self.started = true;
        self.lr()
    }

    fn to_record(&self) -> LrSchedulerRecord {
        // Serializing a plain value of f32s, integers and enums into a Vec cannot fail.
        let json = serde_json::to_vec(&self.scheduler).unwrap_or_default();
        let mut record = LrSchedulerRecord::new()
            .with_scalar(STARTED, self.started)
            .with_scalar(STATE_LEN, json.len() as u64);
        for (i, chunk) in json.chunks(8).enumerate() {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            record = record.with_scalar(&format!("{STATE_WORD}.{i}"), u64::from_le_bytes(word));
        }
        record
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        match decode(&record) {
            Some((started, scheduler)) => {
                self.started = started;
                self.scheduler = scheduler;
                self.error = None;
            }
            None => self.error = Some(BAD_RECORD),
        }
    }
}

fn decode(record: &LrSchedulerRecord) -> Option<(bool, Scheduler)> {
    let started = record.scalar::<bool>(STARTED)?;
    let len = usize::try_from(record.scalar::<u64>(STATE_LEN)?).ok()?;
    let mut json = Vec::with_capacity(len.min(1 << 20));
    for i in 0..len.div_ceil(8) {
        let word = record.scalar::<u64>(&format!("{STATE_WORD}.{i}"))?;
        json.extend_from_slice(&word.to_le_bytes());
    }
    json.truncate(len);
    Some((started, serde_json::from_slice(&json).ok()?))
}
