//! The LR range test (Leslie Smith's; fastai's `Learner.lr_find`, Lightning's `Tuner.lr_find`):
//! train with a learning rate that grows every step, watch the smoothed loss, and suggest an lr
//! from the curve.
//!
//! [`LrFinder`] follows fastai 2.8 exactly, in f32 as fastai's tensors are:
//! - step `i` (from 0) trains at `start_lr * (end_lr / start_lr)^(i / num_iter)`
//!   ([`SweepMode::Exponential`], fastai's `SchedExp`) or
//!   `start_lr + (i / num_iter) * (end_lr - start_lr)` ([`SweepMode::Linear`], Lightning's
//!   `mode="linear"`), computed in f64 as Python does and rounded to f32;
//! - the loss of each step is smoothed as fastai's `AvgSmoothLoss(beta=0.98)`:
//!   `val = lerp(loss, val, beta)`, `smoothed = val / (1 - beta^count)`;
//! - the test stops after `num_iter` steps, when the smoothed loss exceeds 4 times the best
//!   one so far (fastai's `stop_div`), or at the first loss that is not finite;
//! - the suggestions are fastai's `valley`, `steep`, `minimum` and `slide` on the smoothed curve
//!   without its first `num_iter / 10` and last 5 points and cut at the first NaN (fastai's
//!   `lr_find`), and Lightning's steepest-gradient rule (`_LRFinder.suggestion`, skipping the
//!   first 10 points and the last one). See [`Suggestion`].
//!
//! `tests/golden/lr_find/generate.py` runs the real fastai `Learner.lr_find` and Lightning's
//! `suggestion` on recorded curves; `tests/lr_finder.rs` checks the same smoothed losses and the
//! same suggested point for each.

use crate::defaults::{
    LR_FINDER_BETA, LR_FINDER_DIVERGE_FACTOR, LR_FINDER_END_LR, LR_FINDER_MIN_NUM_ITER,
    LR_FINDER_NUM_ITER, LR_FINDER_START_LR,
};
use crate::Error;
use core::fmt;
use heapless::Vec;

const NAME: &str = "LrFinder";

/// How the lr grows from `start_lr` to `end_lr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SweepMode {
    /// `start_lr * (end_lr / start_lr)^(i / num_iter)`: fastai's only mode, Lightning's default.
    #[default]
    Exponential,
    /// `start_lr + (i / num_iter) * (end_lr - start_lr)`.
    Linear,
}

/// Where the range test stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Status {
    /// Train one more step at [`LrFinder::lr`].
    Running,
    /// All `num_iter` steps were taken.
    Finished,
    /// The smoothed loss exceeded 4 times the best one.
    Diverged,
    /// A loss was NaN or infinite.
    NonFiniteLoss,
}

impl Status {
    /// Whether the test is over.
    pub fn is_done(self) -> bool {
        self != Status::Running
    }
}

impl fmt::Display for Status {
    /// `running`, `finished`, `diverged` or `non-finite loss`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Running => "running",
            Status::Finished => "finished",
            Status::Diverged => "diverged",
            Status::NonFiniteLoss => "non-finite loss",
        })
    }
}

/// A rule that picks an lr from the range test's curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Suggestion {
    /// fastai's default: the middle of the longest valley, i.e. of the longest strictly
    /// decreasing subsequence of the smoothed loss (its index + a third + a sixth of its length).
    Valley,
    /// fastai: the lr where the loss falls fastest against `log(lr)`.
    Steep,
    /// fastai: a tenth of the lr at the lowest loss.
    Minimum,
    /// fastai: the interval slide rule (`lr_diff=15`, `thresh=0.005`), walking back from the end
    /// until the loss gradient 15 points apart differs by at most 0.005.
    Slide,
    /// Lightning's `Tuner.lr_find` rule: the steepest negative gradient of the loss against the lr
    /// (numpy-style `gradient` with the lrs as coordinates), skipping the first 10 points and the
    /// last one.
    Lightning,
}

impl Suggestion {
    /// Every suggestion, in the order of their names in [`Suggestion::NAMES`].
    pub const ALL: [Suggestion; 5] = [
        Suggestion::Valley,
        Suggestion::Steep,
        Suggestion::Minimum,
        Suggestion::Slide,
        Suggestion::Lightning,
    ];
    /// Their names, as fastai's functions are called (and `lightning`).
    pub const NAMES: [&'static str; 5] = ["valley", "steep", "minimum", "slide", "lightning"];

    /// fastai's function name, e.g. `"valley"`.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The suggestion of that name, or `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| Self::ALL[i])
    }

    /// The fewest points of the trimmed curve the rule needs (fastai and Lightning raise or
    /// return nothing below this).
    pub fn min_points(self) -> usize {
        match self {
            Suggestion::Valley | Suggestion::Minimum => 1,
            Suggestion::Steep | Suggestion::Lightning => 2,
            Suggestion::Slide => SLIDE_LR_DIFF + 1,
        }
    }
}

impl fmt::Display for Suggestion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A suggested lr and the recorded point it comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Suggested {
    /// The index of the point in [`LrFinder::lrs`] / [`LrFinder::smoothed_losses`].
    pub index: usize,
    /// The suggested lr: the lr of that point (a tenth of it for [`Suggestion::Minimum`]).
    pub lr: f32,
}

/// fastai's `slide(lr_diff=15, thresh=.005)`.
const SLIDE_LR_DIFF: usize = 15;
const SLIDE_THRESH: f32 = 0.005;
/// Lightning's `suggestion(skip_begin=10, skip_end=1)`.
const LIGHTNING_SKIP_BEGIN: usize = 10;
const LIGHTNING_SKIP_END: usize = 1;
/// fastai's `lr_find` drops the last 5 recorded points before suggesting.
const FASTAI_SKIP_END: usize = 5;

/// The LR range test, allocation-free: it records at most `N` points (`num_iter <= N`).
///
/// ```
/// use sched_core::{LrFinder, Status, Suggestion};
/// // fastai: learn.lr_find(start_lr=1e-7, end_lr=10, num_it=100)
/// let mut finder = LrFinder::<100>::new(1e-7, 10.0, 100)?;
/// assert_eq!(finder.lr(), 1e-7);
/// while finder.status() == Status::Running {
///     let lr = finder.lr();
///     // ... one training step at `lr`; here a loss that falls, then explodes past lr = 1:
///     let loss = if lr < 1.0 { 2.0 - 0.1 * libm::log10f(lr / 1e-7) } else { 100.0 * lr };
///     finder.observe(loss);
/// }
/// assert_eq!((finder.status(), finder.lrs().len()), (Status::Diverged, 90));
/// // fastai's lr_find on the same losses suggests the same points.
/// let valley = finder.suggest(Suggestion::Valley)?;
/// assert_eq!((valley.index, valley.lr), (46, 4.786301e-4));
/// let steep = finder.suggest(Suggestion::Steep)?;
/// assert_eq!((steep.index, steep.lr), (83, 0.43651584));
/// # Ok::<(), sched_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct LrFinder<const N: usize> {
    start_lr: f64,
    end_lr: f64,
    num_iter: u32,
    mode: SweepMode,
    stop_div: bool,
    momentum: Option<f32>,
    /// fastai's `AvgSmoothLoss.val` (the unbiased running average times `1 - beta^count`).
    val: f32,
    best: f32,
    status: Status,
    lrs: Vec<f32, N>,
    smoothed: Vec<f32, N>,
}

impl<const N: usize> LrFinder<N> {
    /// A test from `start_lr` to `end_lr` over `num_iter` steps, exponential, stopping on
    /// divergence (fastai's `lr_find(start_lr, end_lr, num_it)`). `0 < start_lr < end_lr`, both
    /// finite; `6 <= num_iter <= N` (fastai runs at least 6 steps).
    pub fn new(start_lr: f64, end_lr: f64, num_iter: u32) -> Result<Self, Error> {
        if !(start_lr.is_finite() && start_lr > 0.0) {
            return Err(Error::invalid(NAME, "start_lr", "must be finite and > 0"));
        }
        if !(end_lr.is_finite() && end_lr > start_lr) {
            return Err(Error::invalid(
                NAME,
                "end_lr",
                "must be finite and > start_lr",
            ));
        }
        if num_iter < LR_FINDER_MIN_NUM_ITER {
            return Err(Error::invalid(
                NAME,
                "num_iter",
                "must be >= 6 (fastai's minimum)",
            ));
        }
        if num_iter as usize > N {
            return Err(Error::invalid(
                NAME,
                "num_iter",
                "must be <= the finder's capacity N",
            ));
        }
        Ok(LrFinder {
            start_lr,
            end_lr,
            num_iter,
            mode: SweepMode::Exponential,
            stop_div: true,
            momentum: None,
            val: 0.0,
            best: f32::INFINITY,
            status: Status::Running,
            lrs: Vec::new(),
            smoothed: Vec::new(),
        })
    }

    /// A finder for a curve recorded elsewhere (another framework's range test, a CSV): feed it
    /// the steps with [`LrFinder::record`]; it smooths, stops and suggests exactly as a test of
    /// `num_iter` steps would. It has no sweep of its own: [`LrFinder::lr`] is NaN.
    pub fn for_recorded(num_iter: u32) -> Result<Self, Error> {
        let mut finder = Self::new(1.0, 2.0, num_iter)?;
        (finder.start_lr, finder.end_lr) = (f64::NAN, f64::NAN);
        Ok(finder)
    }

    /// fastai's defaults: `start_lr=1e-7`, `end_lr=10`, `num_it=100` (needs `N >= 100`).
    pub fn with_defaults() -> Result<Self, Error> {
        Self::new(LR_FINDER_START_LR, LR_FINDER_END_LR, LR_FINDER_NUM_ITER)
    }

    /// The same test with the lr growing as `mode` says.
    pub fn mode(mut self, mode: SweepMode) -> Self {
        self.mode = mode;
        self
    }

    /// Whether to stop when the smoothed loss exceeds 4 times the best (fastai's `stop_div`,
    /// default true). A loss that is not finite stops the test either way.
    pub fn stop_div(mut self, stop_div: bool) -> Self {
        self.stop_div = stop_div;
        self
    }

    /// Train at this momentum throughout (e.g. a one-cycle run's starting momentum, 0.95);
    /// without it, [`LrFinder::momentum`] is `None`: keep the optimizer's own.
    pub fn momentum(mut self, momentum: f32) -> Result<Self, Error> {
        if !(momentum.is_finite() && (0.0..=1.0).contains(&momentum)) {
            return Err(Error::invalid(NAME, "momentum", "must be in [0, 1]"));
        }
        self.momentum = Some(momentum);
        Ok(self)
    }

    /// The momentum to train at, when one was set.
    pub fn momentum_value(&self) -> Option<f32> {
        self.momentum
    }

    /// `num_iter`.
    pub fn num_iter(&self) -> u32 {
        self.num_iter
    }

    /// The lr of step `i` of the sweep (for `i = num_iter` it is `end_lr`).
    pub fn lr_at(&self, i: u32) -> f32 {
        let pos = f64::from(i) / f64::from(self.num_iter);
        let lr = match self.mode {
            SweepMode::Exponential => self.start_lr * libm::pow(self.end_lr / self.start_lr, pos),
            SweepMode::Linear => self.start_lr + pos * (self.end_lr - self.start_lr),
        };
        lr as f32
    }

    /// The lr to train the next step at.
    pub fn lr(&self) -> f32 {
        self.lr_at(self.lrs.len() as u32)
    }

    /// Where the test stands; train while it is [`Status::Running`].
    pub fn status(&self) -> Status {
        self.status
    }

    /// Records the loss of the step just trained at [`LrFinder::lr`]; returns the new status.
    /// After the test is over it records nothing.
    pub fn observe(&mut self, loss: f32) -> Status {
        let lr = self.lr();
        self.record(lr, loss)
    }

    /// Records a step trained at `lr` (of a curve recorded elsewhere) with its raw `loss`;
    /// smoothing and stopping as [`LrFinder::observe`].
    pub fn record(&mut self, lr: f32, loss: f32) -> Status {
        if self.status.is_done() {
            return self.status;
        }
        // fastai's AvgSmoothLoss, as torch computes it in f32: torch.lerp(loss, val, 0.98) is
        // val - (val - loss) * (1 - 0.98) in one fused multiply-add (torch's vectorized lerp),
        // then val / (1 - 0.98**count) with the divisor a Python float that torch rounds to f32.
        // Bit for bit on every golden case; without the fma, 1 ulp off on about 1 step in 20.
        let count = self.lrs.len() as i32 + 1;
        self.val = libm::fmaf(-(self.val - loss), 1.0 - LR_FINDER_BETA as f32, self.val);
        let smoothed = self.val / (1.0 - libm::pow(LR_FINDER_BETA, f64::from(count))) as f32;
        // num_iter <= N, so there is room for every step.
        let _ = self.lrs.push(lr);
        let _ = self.smoothed.push(smoothed);
        if smoothed < self.best {
            self.best = smoothed;
        }
        self.status = if !loss.is_finite() {
            Status::NonFiniteLoss
        } else if self.stop_div && smoothed > LR_FINDER_DIVERGE_FACTOR * self.best {
            Status::Diverged
        } else if self.lrs.len() >= self.num_iter as usize {
            Status::Finished
        } else {
            Status::Running
        };
        self.status
    }

    /// The lr of every recorded step.
    pub fn lrs(&self) -> &[f32] {
        &self.lrs
    }

    /// The smoothed loss of every recorded step.
    pub fn smoothed_losses(&self) -> &[f32] {
        &self.smoothed
    }

    /// The points fastai's suggestions see: from `num_iter / 10` to 5 before the end, and
    /// before the first NaN. A test stopped by a NaN counts as run to `num_iter` (fastai
    /// keeps training on NaN and records it).
    fn fastai_window(&self) -> (usize, usize) {
        let first_nan = self.smoothed.iter().position(|l| l.is_nan());
        let recorded = if first_nan.is_some() && self.status == Status::NonFiniteLoss {
            self.num_iter as usize
        } else {
            self.smoothed.len()
        };
        let end = recorded
            .saturating_sub(FASTAI_SKIP_END)
            .min(first_nan.unwrap_or(usize::MAX))
            .min(self.smoothed.len());
        ((self.num_iter as usize / 10).min(end), end)
    }

    /// The lr `rule` suggests, or [`Error::CurveTooShort`] when the trimmed curve has too few
    /// points for it. Call it at any time; it reads the points recorded so far.
    pub fn suggest(&self, rule: Suggestion) -> Result<Suggested, Error> {
        let (index, lr) = match rule {
            Suggestion::Lightning => self.lightning()?,
            _ => {
                let (start, end) = self.fastai_window();
                let lrs = self.lrs.get(start..end).unwrap_or(&[]);
                let losses = self.smoothed.get(start..end).unwrap_or(&[]);
                if losses.len() < rule.min_points() {
                    return Err(Error::CurveTooShort {
                        suggestion: rule.name(),
                        points: losses.len() as u32,
                        needed: rule.min_points() as u32,
                    });
                }
                let i = match rule {
                    Suggestion::Valley => valley::<N>(losses),
                    Suggestion::Steep => steep(lrs, losses),
                    Suggestion::Minimum => argmin(losses.iter().copied()),
                    _ => slide(losses),
                };
                let lr = if rule == Suggestion::Minimum {
                    // `lrs[losses.argmin()].item() / 10` in Python floats.
                    (f64::from(lrs[i]) / 10.0) as f32
                } else {
                    lrs[i]
                };
                (start + i, lr)
            }
        };
        Ok(Suggested { index, lr })
    }

    /// Lightning's `_LRFinder.suggestion(skip_begin=10, skip_end=1)` on the recorded curve.
    fn lightning(&self) -> Result<(usize, f32), Error> {
        let end = self.smoothed.len().saturating_sub(LIGHTNING_SKIP_END);
        let mut finite =
            (LIGHTNING_SKIP_BEGIN.min(end)..end).filter(|&i| self.smoothed[i].is_finite());
        let too_short = |points| Error::CurveTooShort {
            suggestion: Suggestion::Lightning.name(),
            points,
            needed: Suggestion::Lightning.min_points() as u32,
        };
        let first = finite.next().ok_or(too_short(0))?;
        let second = finite.next().ok_or(too_short(1))?;
        // torch.gradient(losses, spacing=[lrs]): edge_order 1 at the ends, the second-order
        // non-uniform formula inside, each tensor op rounded to f32 in torch's order.
        let (x, y) = (|i: usize| self.lrs[i], |i: usize| self.smoothed[i]);
        let edge = |a: usize, b: usize| (y(b) - y(a)) / (x(b) - x(a));
        let mut min = ArgMin::default();
        min.push(first, edge(first, second));
        let (mut prev, mut cur) = (first, second);
        for next in finite {
            let dx1 = x(cur) - x(prev);
            let dx2 = x(next) - x(cur);
            let a = -dx2 / (dx1 * (dx1 + dx2));
            let b = (dx2 - dx1) / (dx1 * dx2);
            let c = dx1 / (dx2 * (dx1 + dx2));
            min.push(cur, a * y(prev) + b * y(cur) + c * y(next));
            (prev, cur) = (cur, next);
        }
        min.push(cur, edge(prev, cur));
        let i = min.index;
        Ok((i, self.lrs[i]))
    }

    /// Every suggestion, in [`Suggestion::ALL`]'s order.
    pub fn suggestions(&self) -> [Result<Suggested, Error>; 5] {
        Suggestion::ALL.map(|rule| self.suggest(rule))
    }
}

/// torch's `argmin`, fed one value at a time: the first minimum, a NaN counting as the
/// minimum.
#[derive(Default)]
struct ArgMin {
    index: usize,
    value: Option<f32>,
}

impl ArgMin {
    fn push(&mut self, index: usize, v: f32) {
        let replace = match self.value {
            None => true,
            Some(best) => !best.is_nan() && (v < best || v.is_nan()),
        };
        if replace {
            (self.index, self.value) = (index, Some(v));
        }
    }
}

fn argmin(values: impl Iterator<Item = f32>) -> usize {
    let mut min = ArgMin::default();
    values.enumerate().for_each(|(i, v)| min.push(i, v));
    min.index
}

/// fastai's `valley`: the longest strictly decreasing subsequence ending at each point (fastai's
/// O(n^2) dynamic programme, its table on the stack), then the point a third plus a sixth into
/// the longest one.
fn valley<const N: usize>(losses: &[f32]) -> usize {
    let n = losses.len();
    // fastai's `max_start` is -1 when the valley starts at the first point.
    let (mut max_start, mut max_end) = (0isize, 0usize);
    let mut lds = [1u32; N];
    for i in 1..n {
        for j in 0..i {
            if losses[i] < losses[j] && lds[i] < lds[j] + 1 {
                lds[i] = lds[j] + 1;
            }
            if lds[max_end] < lds[i] {
                max_end = i;
                max_start = max_end as isize - lds[max_end] as isize;
            }
        }
    }
    let sections = (max_end as isize - max_start) as f64 / 3.0;
    let idx = max_start + sections as isize + (sections / 2.0) as isize;
    // A negative index counts from the end, as in Python.
    if idx < 0 {
        (idx + n as isize) as usize
    } else {
        idx as usize
    }
}

/// fastai's `steep`: the steepest fall of the loss against `log(lr)`.
fn steep(lrs: &[f32], losses: &[f32]) -> usize {
    argmin(
        (1..losses.len())
            .map(|i| (losses[i] - losses[i - 1]) / (libm::logf(lrs[i]) - libm::logf(lrs[i - 1]))),
    )
}

/// fastai's `slide` with `lr_diff = 15`, `thresh = 0.005`, on numpy's f32 `np.gradient`.
fn slide(losses: &[f32]) -> usize {
    let n = losses.len();
    let gradient = |i: usize| -> f32 {
        if i == 0 {
            losses[1] - losses[0]
        } else if i == n - 1 {
            losses[n - 1] - losses[n - 2]
        } else {
            (losses[i + 1] - losses[i - 1]) / 2.0
        }
    };
    // fastai walks negative indices r = -1, l = -16 back while l >= -n; here as positions.
    let (mut r, mut l) = (n - 1, n - 1 - SLIDE_LR_DIFF);
    let mut local_min = l;
    // `abs(...) > thresh` is false for a NaN, which stops fastai's walk too.
    while libm::fabsf(gradient(r) - gradient(l)) > SLIDE_THRESH {
        local_min = l;
        if l == 0 {
            break;
        }
        r -= 1;
        l -= 1;
    }
    local_min
}
