//! The LR range test golden cases (`tests/golden/lr_find/cases/*.json`, written by the real
//! fastai 2.8 `Learner.lr_find` and Lightning 2.6's `suggestion`), as a `const` table generated
//! by `build.rs`, checked on the device exactly as `sched-core/tests/lr_finder.rs` checks them
//! on the host:
//!
//! - each case's raw losses go through [`LrFinder::observe`] until the test is over;
//! - the recorded lrs and smoothed losses must equal fastai's bit for bit (a NaN equals a NaN).
//!   fastai keeps training on a NaN loss and records NaNs up to `num_iter`; the finder stops at
//!   the first one, so fewer points are accepted only then, with every point fastai recorded
//!   after ours a NaN;
//! - every rule must suggest the same point (index) and the same lr (as f32), or fail where the
//!   reference raised or returned nothing.
//!
//! `sched_core::golden`'s relative-error metric does not apply here: the bar is exact, and NaN
//! must equal NaN. Stored as f32 as the host test reads them (fastai's smoothed losses are f32
//! tensors; `build.rs` checks that storing them loses nothing).

// The table holds recorded losses such as 2.302585 (ln 10: a uniform guess over 10 classes),
// which are data, not approximations of a constant.
#![allow(clippy::approx_constant)]

use sched_core::{LrFinder, Status, Suggestion, SweepMode};

/// A point a rule suggests.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(target_os = "none", derive(defmt::Format))]
pub struct Point {
    /// Its index in the recorded curve.
    pub index: u32,
    /// The suggested lr.
    pub lr: f32,
}

/// One range test and what fastai and Lightning made of it.
#[derive(Clone, Copy, Debug)]
pub struct LrFindCase {
    /// File name without `.json`.
    pub name: &'static str,
    /// The range test's arguments.
    pub start_lr: f64,
    /// See `start_lr`.
    pub end_lr: f64,
    /// See `start_lr`.
    pub num_iter: u32,
    /// See `start_lr`.
    pub mode: SweepMode,
    /// See `start_lr`.
    pub stop_div: bool,
    /// The raw loss of each step (the test may stop before using them all).
    pub losses: &'static [f32],
    /// fastai's `Recorder.lrs`.
    pub lrs: &'static [f32],
    /// fastai's `Recorder.losses` (smoothed).
    pub smoothed: &'static [f32],
    /// Per rule, in [`Suggestion::ALL`]'s order: the reference's point, `None` where it failed.
    pub suggestions: [Option<Point>; 5],
}

include!(concat!(env!("OUT_DIR"), "/lr_find.rs"));

/// The finder the cases run on: room for the longest case.
pub type Finder = LrFinder<CAPACITY>;

/// The first difference from the reference.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(target_os = "none", derive(defmt::Format))]
pub enum Miss {
    /// The case's arguments were refused.
    Arguments,
    /// A different number of points (not explained by a stop at a NaN).
    Points {
        /// Recorded here.
        ours: u32,
        /// Recorded by fastai.
        reference: u32,
    },
    /// A different lr at a point.
    Lr {
        /// The point.
        index: u32,
        /// Ours.
        ours: f32,
        /// fastai's.
        reference: f32,
    },
    /// A different smoothed loss at a point.
    Smoothed {
        /// The point.
        index: u32,
        /// Ours.
        ours: f32,
        /// fastai's.
        reference: f32,
    },
    /// A rule suggested another point, or failed where the reference did not (or the reverse).
    Suggestion {
        /// The rule.
        rule: Suggestion,
        /// Ours (`None`: an error).
        ours: Option<Point>,
        /// The reference's.
        reference: Option<Point>,
    },
}

/// How a case went.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict {
    /// Points recorded.
    pub points: u32,
    /// Why the test stopped.
    pub status: Status,
    /// Suggestions that matched (a point, or an error where the reference has none).
    pub suggestions: u32,
    /// The first difference, if any.
    pub miss: Option<Miss>,
}

impl Verdict {
    /// Everything matched.
    pub fn pass(&self) -> bool {
        self.miss.is_none()
    }
}

fn same(a: f32, b: f32) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

impl LrFindCase {
    /// The finder with the case's arguments.
    pub fn finder(&self) -> Result<Finder, sched_core::Error> {
        Ok(Finder::new(self.start_lr, self.end_lr, self.num_iter)?
            .mode(self.mode)
            .stop_div(self.stop_div))
    }

    /// Feeds the case's losses through a finder (`perturb` multiplies the first loss: 1.0
    /// normally, the `force-failure` build uses it to prove a miss is caught) and compares.
    /// The finder is the caller's, so that it can live outside the stack.
    pub fn run(&self, finder: &mut Finder, perturb: f32) -> Verdict {
        let mut v = Verdict {
            points: 0,
            status: Status::Running,
            suggestions: 0,
            miss: None,
        };
        *finder = match self.finder() {
            Ok(f) => f,
            Err(_) => {
                v.miss = Some(Miss::Arguments);
                return v;
            }
        };
        for (i, &loss) in self.losses.iter().enumerate() {
            let loss = if i == 0 { loss * perturb } else { loss };
            if finder.observe(loss).is_done() {
                break;
            }
        }
        let (lrs, smoothed) = (finder.lrs(), finder.smoothed_losses());
        let n = lrs.len();
        (v.points, v.status) = (n as u32, finder.status());
        let stopped_on_nan =
            v.status == Status::NonFiniteLoss && smoothed.last().is_some_and(|l| l.is_nan());
        if n != self.lrs.len()
            && !(stopped_on_nan
                && n < self.smoothed.len()
                && self.smoothed[n..].iter().all(|l| l.is_nan()))
        {
            v.miss = Some(Miss::Points {
                ours: n as u32,
                reference: self.lrs.len() as u32,
            });
            return v;
        }
        if let Some(i) = (0..n).find(|&i| lrs[i] != self.lrs[i]) {
            v.miss = Some(Miss::Lr {
                index: i as u32,
                ours: lrs[i],
                reference: self.lrs[i],
            });
            return v;
        }
        if let Some(i) = (0..n).find(|&i| !same(smoothed[i], self.smoothed[i])) {
            v.miss = Some(Miss::Smoothed {
                index: i as u32,
                ours: smoothed[i],
                reference: self.smoothed[i],
            });
            return v;
        }
        for (rule, &reference) in Suggestion::ALL.iter().zip(&self.suggestions) {
            let ours = finder.suggest(*rule).ok().map(|s| Point {
                index: s.index as u32,
                lr: s.lr,
            });
            if ours == reference {
                v.suggestions += 1;
            } else if v.miss.is_none() {
                v.miss = Some(Miss::Suggestion {
                    rule: *rule,
                    ours,
                    reference,
                });
            }
        }
        v
    }
}
