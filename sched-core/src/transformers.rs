//! Hugging Face transformers' schedules (`transformers.optimization`, 5.25), each under its
//! function's name: kind `"transformers.get_linear_schedule_with_warmup"` is
//! [`LinearScheduleWithWarmup`], with the function's keyword arguments and defaults.
//!
//! Every one is a `LambdaLR` whose lambda is a factor of the optimizer's initial lr, so the lr
//! of optimizer update `t` is `base_lr * factor(t)`: the group's lr before the `(t+1)`-th
//! `scheduler.step()`, as transformers' `Trainer` steps it after every update. Each factor is
//! in its kind's doc, with `W = num_warmup_steps`, `T = num_training_steps` and the warmup
//! `t / max(1, W)` for `t < W` unless said otherwise.
//!
//! `get_reduce_on_plateau_schedule(optimizer, **kwargs)` is PyTorch's `ReduceLROnPlateau(optimizer,
//! **kwargs)`, and its kind is that kind's alias. Not here: `get_scheduler` (it dispatches on a
//! name to the functions here: use the kind), `get_adafactor_schedule` (it reads Adafactor's own
//! internal lr, no schedule of its own) and `get_greedy_schedule` (GreedyLR, a metric-driven
//! scheduler with its own state: not yet).

use crate::cosine::half_cosine_frac;
use crate::error::{non_negative, positive, Error};
use crate::kind::{finite, Kind};

/// The linear warmup all of them share: `t / max(1, W)`.
fn warmup(t: u32, w: u32) -> f32 {
    t as f32 / w.max(1) as f32
}

/// `(1 + cos(2 pi c p)) / 2` in f32 for `c` cycles at progress `p = k / span >= 0`, with
/// `2 c p` folded into [0, 1] so that the cosine is taken where f32 resolves it. When `2 c` is
/// an integer (half a wave, one, ...), the fold is done on the integers, so that `1 - q` near
/// the end of a long decay is exact rather than a difference of two roundings.
fn cosine_cycles(cycles: f32, k: u64, span: u64) -> f32 {
    let twice = 2.0 * cycles;
    if twice == libm::floorf(twice) && twice <= 1e6 && span > 0 {
        let n = (twice as u64).saturating_mul(k) % (2 * span);
        let n = if n > span { 2 * span - n } else { n };
        return half_cosine_frac(n as f32 / span as f32, (span - n) as f32 / span as f32);
    }
    let x = twice * (k as f32 / span.max(1) as f32);
    let folded = x - 2.0 * libm::floorf(x / 2.0);
    let q = if folded > 1.0 { 2.0 - folded } else { folded };
    half_cosine_frac(q, 1.0 - q)
}

/// `max(1, T - W)` as transformers divides by it (`T - W` may be negative there).
fn decay_span(w: u32, t_total: u32) -> u64 {
    (i64::from(t_total) - i64::from(w)).max(1) as u64
}

params! {
in transformers;
/// `transformers.get_constant_schedule`: factor 1.
pub struct ConstantSchedule {}
}

impl ConstantSchedule {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        Ok(())
    }
}

impl Kind for ConstantSchedule {
    fn absolute(&self, base: f32, _t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        Some(Ok((base, None)))
    }
}

params! {
in transformers;
/// `transformers.get_constant_schedule_with_warmup`: the warmup, then 1.
pub struct ConstantScheduleWithWarmup {
    /// warmup length
    pub num_warmup_steps: u32 => "10",
}
}

impl ConstantScheduleWithWarmup {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        Ok(())
    }
}

impl Kind for ConstantScheduleWithWarmup {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let w = self.num_warmup_steps;
        Some(Ok((if t < w { base * warmup(t, w) } else { base }, None)))
    }
}

params! {
in transformers;
/// `transformers.get_linear_schedule_with_warmup`: the warmup, then
/// `max(0, (T - t) / max(1, T - W))`, down to 0 at `T` and 0 after.
pub struct LinearScheduleWithWarmup {
    /// warmup length
    pub num_warmup_steps: u32 => "10",
    /// steps of warmup and decay together
    pub num_training_steps: u32 => "100",
}
}

impl LinearScheduleWithWarmup {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        Ok(())
    }
}

impl Kind for LinearScheduleWithWarmup {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let (w, total) = (self.num_warmup_steps, self.num_training_steps);
        let factor = if t < w {
            warmup(t, w)
        } else {
            // (T - t) is an integer: form it exactly before dividing.
            ((i64::from(total) - i64::from(t)) as f32 / decay_span(w, total) as f32).max(0.0)
        };
        Some(Ok((base * factor, None)))
    }
}

params! {
in transformers;
/// `transformers.get_cosine_schedule_with_warmup` (the usual schedule for fine-tuning a
/// transformer): the warmup, then `max(0, (1 + cos(2π · num_cycles · p)) / 2)` with
/// `p = (t - W) / max(1, T - W)`; past `T` the cosine goes on, as in transformers.
///
/// ```
/// use sched_core::{transformers::CosineScheduleWithWarmup, Scheduler};
/// // get_cosine_schedule_with_warmup(SGD(params, lr=0.1), num_warmup_steps=2, num_training_steps=6)
/// let s = Scheduler::new(CosineScheduleWithWarmup::with_defaults(2, 6), 0.1, 0.0)?;
/// assert_eq!(s.lr_at(1), Some(0.05));
/// assert!((s.lr_at(4).unwrap() - 0.05).abs() < 1e-8); // (1 + cos(pi / 2)) / 2
/// assert_eq!(s.lr_at(6), Some(0.0));
/// # Ok::<(), sched_core::Error>(())
/// ```
pub struct CosineScheduleWithWarmup {
    /// warmup length
    pub num_warmup_steps: u32 => "10",
    /// steps of warmup and decay together
    pub num_training_steps: u32 => "100",
    /// cosine waves over the decay (0.5: down to 0 once)
    pub num_cycles: f32 = 0.5,
}
}

impl CosineScheduleWithWarmup {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        non_negative(
            "transformers.get_cosine_schedule_with_warmup",
            "num_cycles",
            self.num_cycles,
        )
    }

    /// The factor of the cosine schedules, `min_lr_rate + (1 - min_lr_rate) * cos(...)`.
    fn factor(&self, t: u32, min_lr_rate: f32) -> f32 {
        let (w, total) = (self.num_warmup_steps, self.num_training_steps);
        if t < w {
            return warmup(t, w);
        }
        let c = cosine_cycles(self.num_cycles, u64::from(t - w), decay_span(w, total));
        (c * (1.0 - min_lr_rate) + min_lr_rate).max(0.0)
    }
}

impl Kind for CosineScheduleWithWarmup {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        Some(Ok((base * self.factor(t, 0.0), None)))
    }
}

params! {
in transformers;
/// `transformers.get_cosine_with_hard_restarts_schedule_with_warmup`: the warmup, then
/// `num_cycles` half cosines from 1 to 0, each restarting at 1: with `p` as in
/// [`CosineScheduleWithWarmup`], `(1 + cos(π · ((num_cycles · p) mod 1))) / 2`, and 0 from `T`.
pub struct CosineWithHardRestartsScheduleWithWarmup {
    /// warmup length
    pub num_warmup_steps: u32 => "10",
    /// steps of warmup and decay together
    pub num_training_steps: u32 => "100",
    /// number of hard restarts (cosine cycles)
    pub num_cycles: f32 = 1.0,
}
}

impl CosineWithHardRestartsScheduleWithWarmup {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        non_negative(
            "transformers.get_cosine_with_hard_restarts_schedule_with_warmup",
            "num_cycles",
            self.num_cycles,
        )
    }
}

impl Kind for CosineWithHardRestartsScheduleWithWarmup {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let (w, total) = (self.num_warmup_steps, self.num_training_steps);
        if t < w {
            return Some(Ok((base * warmup(t, w), None)));
        }
        let (k, span) = (u64::from(t - w), decay_span(w, total));
        if k >= span {
            return Some(Ok((0.0, None)));
        }
        let c = self.num_cycles;
        let (x, rest) = if c == libm::floorf(c) && c <= 1e6 {
            // An integer number of cycles: (c k mod span) / span, exactly.
            let n = (c as u64 * k) % span;
            (n as f32 / span as f32, (span - n) as f32 / span as f32)
        } else {
            let x = c * (k as f32 / span as f32);
            let x = x - libm::floorf(x);
            (x, 1.0 - x)
        };
        Some(Ok((base * half_cosine_frac(x, rest), None)))
    }
}

params! {
in transformers;
/// `transformers.get_polynomial_decay_schedule_with_warmup` (BERT's): the warmup, then from
/// the initial lr to `lr_end` as `(lr_init - lr_end) * (1 - (t - W) / (T - W))^power + lr_end`,
/// and `lr_end` after `T`. As in transformers the initial lr must exceed `lr_end`.
pub struct PolynomialDecayScheduleWithWarmup {
    /// warmup length
    pub num_warmup_steps: u32 => "10",
    /// steps of warmup and decay together
    pub num_training_steps: u32 => "100",
    /// the final lr (absolute)
    pub lr_end: f32 = 1e-7,
    /// power of the polynomial
    pub power: f32 = 1.0,
}
}

impl PolynomialDecayScheduleWithWarmup {
    const K: &'static str = "transformers.get_polynomial_decay_schedule_with_warmup";

    pub(crate) fn validate(&self) -> Result<(), Error> {
        non_negative(Self::K, "lr_end", self.lr_end)?;
        if !self.power.is_finite() {
            return Err(Error::invalid(Self::K, "power", "must be finite"));
        }
        Ok(())
    }
}

impl Kind for PolynomialDecayScheduleWithWarmup {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let (w, total, end) = (self.num_warmup_steps, self.num_training_steps, self.lr_end);
        if base.partial_cmp(&end) != Some(core::cmp::Ordering::Greater) {
            return Some(Err(Error::invalid(
                Self::K,
                "lr_end",
                "must be smaller than the initial lr",
            )));
        }
        let lr = if t < w {
            base * warmup(t, w)
        } else if t > total {
            end
        } else if total == w {
            // transformers divides by T - W = 0 here (ZeroDivisionError).
            return Some(Err(Error::invalid(
                Self::K,
                "num_training_steps",
                "must differ from num_warmup_steps (transformers divides by their difference)",
            )));
        } else {
            let remaining = (total - t) as f32 / (total - w) as f32;
            (base - end) * libm::powf(remaining, self.power) + end
        };
        Some(finite(Self::K, "power", lr).map(|lr| (lr, None)))
    }
}

params! {
in transformers;
/// `transformers.get_inverse_sqrt_schedule` (Vaswani et al. 2017 "Noam", as big_vision): the
/// warmup, then `1 / sqrt((t + timescale - W) / timescale)`; `timescale` defaults to `W` (or
/// 10,000 when `W` is 0).
pub struct InverseSqrtSchedule {
    /// warmup length
    pub num_warmup_steps: u32 => "100",
    /// decay timescale (empty: num_warmup_steps, or 10000)
    ///
    /// >= 1 when given.
    pub timescale: Option<u32> = None,
}
}

impl InverseSqrtSchedule {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if let Some(ts) = self.timescale {
            crate::error::at_least_one("transformers.get_inverse_sqrt_schedule", "timescale", ts)?;
        }
        Ok(())
    }
}

impl Kind for InverseSqrtSchedule {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let w = self.num_warmup_steps;
        if t < w {
            return Some(Ok((base * warmup(t, w), None)));
        }
        let timescale = self.timescale.unwrap_or(if w == 0 { 10_000 } else { w });
        // (t + timescale - W) is an integer: form it exactly before dividing.
        let shifted = i64::from(t) + i64::from(timescale) - i64::from(w);
        let factor = 1.0 / libm::sqrtf(shifted as f32 / timescale as f32);
        Some(Ok((base * factor, None)))
    }
}

/// `min_lr` or `min_lr_rate` (exactly one), as the ratio to the initial lr.
fn min_lr_rate(
    kind: &'static str,
    min_lr: Option<f32>,
    rate: Option<f32>,
    base: f32,
) -> Result<f32, Error> {
    match (min_lr, rate) {
        (Some(_), Some(_)) => Err(Error::invalid(
            kind,
            "min_lr",
            "only one of min_lr or min_lr_rate may be set",
        )),
        (Some(min_lr), None) => Ok(min_lr / base),
        (None, Some(rate)) => Ok(rate),
        (None, None) => Err(Error::invalid(
            kind,
            "min_lr",
            "one of min_lr or min_lr_rate must be set",
        )),
    }
}

fn check_min_lr(kind: &'static str, min_lr: Option<f32>, rate: Option<f32>) -> Result<(), Error> {
    if let Some(v) = min_lr {
        non_negative(kind, "min_lr", v)?;
    }
    if let Some(v) = rate {
        non_negative(kind, "min_lr_rate", v)?;
    }
    min_lr_rate(kind, min_lr, rate, 1.0).map(|_| ())
}

params! {
in transformers;
/// `transformers.get_cosine_with_min_lr_schedule_with_warmup`: as
/// [`CosineScheduleWithWarmup`], the cosine mapped onto `[min_lr_rate, 1]`:
/// `c * (1 - min_lr_rate) + min_lr_rate`. Exactly one of `min_lr` (absolute, divided by the
/// initial lr) and `min_lr_rate` is given.
pub struct CosineWithMinLrScheduleWithWarmup {
    /// warmup length
    pub num_warmup_steps: u32 => "10",
    /// steps of warmup and decay together
    pub num_training_steps: u32 => "100",
    /// cosine waves over the decay (0.5: down to the minimum once)
    pub num_cycles: f32 = 0.5,
    /// the minimum lr (or give min_lr_rate)
    pub min_lr: Option<f32> = None,
    /// the minimum lr / initial lr (or give min_lr)
    pub min_lr_rate: Option<f32> = None => "0.1",
}
}

impl CosineWithMinLrScheduleWithWarmup {
    const K: &'static str = "transformers.get_cosine_with_min_lr_schedule_with_warmup";

    pub(crate) fn validate(&self) -> Result<(), Error> {
        non_negative(Self::K, "num_cycles", self.num_cycles)?;
        check_min_lr(Self::K, self.min_lr, self.min_lr_rate)
    }
}

impl Kind for CosineWithMinLrScheduleWithWarmup {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let rate = match min_lr_rate(Self::K, self.min_lr, self.min_lr_rate, base) {
            Ok(rate) => rate,
            Err(e) => return Some(Err(e)),
        };
        let cosine = CosineScheduleWithWarmup {
            num_warmup_steps: self.num_warmup_steps,
            num_training_steps: self.num_training_steps,
            num_cycles: self.num_cycles,
        };
        Some(Ok((base * cosine.factor(t, rate), None)))
    }
}

params! {
in transformers;
/// `transformers.get_cosine_with_min_lr_schedule_with_warmup_lr_rate`: as
/// [`CosineWithMinLrScheduleWithWarmup`], one step ahead: the warmup is `(t + 1) / max(1, W)`,
/// or `warmup_lr_rate + (1 - warmup_lr_rate) * t / max(1, W - 1)` when `warmup_lr_rate` is
/// given, and the cosine's progress is `(t - W + 1) / max(1, T - W)`.
pub struct CosineWithMinLrScheduleWithWarmupLrRate {
    /// warmup length
    pub num_warmup_steps: u32 => "10",
    /// steps of warmup and decay together
    pub num_training_steps: u32 => "100",
    /// cosine waves over the decay (0.5: down to the minimum once)
    pub num_cycles: f32 = 0.5,
    /// the minimum lr (or give min_lr_rate)
    pub min_lr: Option<f32> = None,
    /// the minimum lr / initial lr (or give min_lr)
    pub min_lr_rate: Option<f32> = None => "0.1",
    /// the first warmup step's lr / initial lr (empty: 1 / num_warmup_steps)
    pub warmup_lr_rate: Option<f32> = None,
}
}

impl CosineWithMinLrScheduleWithWarmupLrRate {
    const K: &'static str = "transformers.get_cosine_with_min_lr_schedule_with_warmup_lr_rate";

    pub(crate) fn validate(&self) -> Result<(), Error> {
        non_negative(Self::K, "num_cycles", self.num_cycles)?;
        if let Some(v) = self.warmup_lr_rate {
            non_negative(Self::K, "warmup_lr_rate", v)?;
        }
        check_min_lr(Self::K, self.min_lr, self.min_lr_rate)
    }
}

impl Kind for CosineWithMinLrScheduleWithWarmupLrRate {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let rate = match min_lr_rate(Self::K, self.min_lr, self.min_lr_rate, base) {
            Ok(rate) => rate,
            Err(e) => return Some(Err(e)),
        };
        let (w, total) = (self.num_warmup_steps, self.num_training_steps);
        let factor = if t < w {
            match self.warmup_lr_rate {
                None => (t + 1) as f32 / w.max(1) as f32,
                Some(r) => r + (1.0 - r) * t as f32 / (w - 1).max(1) as f32,
            }
        } else {
            let c = cosine_cycles(self.num_cycles, u64::from(t - w + 1), decay_span(w, total));
            (c * (1.0 - rate) + rate).max(0.0)
        };
        Some(Ok((base * factor, None)))
    }
}

choice! {
in transformers;
/// Shape of a WSD warmup or decay.
pub enum WsdShape {
    /// Straight line.
    Linear = "linear",
    /// Half cosine.
    Cosine = "cosine",
    /// `1 - sqrt(p)` (Hägele et al. 2024).
    OneMinusSqrt = "1-sqrt",
}
}

params! {
in transformers;
/// Warmup-stable-decay, `transformers.get_wsd_schedule`.
///
/// factor(t): warmup `p = t / max(1, W)` shaped (linear `p`, cosine `(1 - cos(pi p)) / 2`, 1-sqrt
/// `1 - sqrt(1 - p)`) then mapped to `min_lr_ratio + (1 - min_lr_ratio) * shape`; `1` for the
/// `S` stable steps after; decay `p = (t - W - S) / max(1, D)` shaped (linear `1 - p`, cosine
/// `(1 + cos(2 pi num_cycles p)) / 2`, 1-sqrt `1 - sqrt(p)`) and mapped the same way; then
/// `min_lr_ratio`. `S` is `num_stable_steps`, or `num_training_steps - W - D` when only that is
/// given (one of the two is required; given both, `num_stable_steps` is used, as transformers
/// does after a warning).
pub struct WsdSchedule {
    /// warmup length
    pub num_warmup_steps: u32 => "100",
    /// decay length
    pub num_decay_steps: u32 => "400",
    /// all steps (stable = this - warmup - decay), or give num_stable_steps
    pub num_training_steps: Option<u32> = None,
    /// constant phase length (or give num_training_steps)
    pub num_stable_steps: Option<u32> = None => "500",
    /// warmup shape
    pub warmup_type: WsdShape = WsdShape::Linear,
    /// decay shape
    pub decay_type: WsdShape = WsdShape::Cosine,
    /// final lr / base lr
    ///
    /// In [0, 1].
    pub min_lr_ratio: f32 = 0.0,
    /// cosine decay cycles
    ///
    /// > 0; 0.5 is a half cosine.
    pub num_cycles: f32 = 0.5,
}
}

impl WsdSchedule {
    const K: &'static str = "transformers.get_wsd_schedule";

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if !(self.min_lr_ratio >= 0.0 && self.min_lr_ratio <= 1.0) {
            return Err(Error::invalid(Self::K, "min_lr_ratio", "must be in [0, 1]"));
        }
        if self.num_stable_steps.is_none() && self.num_training_steps.is_none() {
            return Err(Error::invalid(
                Self::K,
                "num_stable_steps",
                "or num_training_steps must be given",
            ));
        }
        positive(Self::K, "num_cycles", self.num_cycles)
    }

    /// The stable phase's length (transformers' Python int may be negative).
    fn stable(&self) -> i64 {
        match (self.num_stable_steps, self.num_training_steps) {
            (Some(s), _) => i64::from(s),
            (None, Some(total)) => {
                i64::from(total)
                    - i64::from(self.num_warmup_steps)
                    - i64::from(self.num_decay_steps)
            }
            (None, None) => 0,
        }
    }

    pub(crate) fn factor(&self, t: u32) -> f32 {
        let (w, d) = (self.num_warmup_steps, self.num_decay_steps);
        let ratio = self.min_lr_ratio;
        let map = |shape: f32| (shape * (1.0 - ratio) + ratio).max(0.0);
        if t < w {
            let (done, left) = (t as f32 / w as f32, (w - t) as f32 / w as f32);
            return map(match self.warmup_type {
                WsdShape::Linear => done,
                WsdShape::Cosine => 1.0 - crate::cosine::half_cosine(t, w),
                WsdShape::OneMinusSqrt => 1.0 - libm::sqrtf(left),
            });
        }
        let into_stable = i64::from(t) - i64::from(w);
        let stable = self.stable();
        if into_stable < stable {
            return 1.0;
        }
        let into_decay = into_stable - stable;
        if into_decay < i64::from(d) {
            let span = d.max(1) as f32;
            let done = into_decay as f32 / span;
            let left = (i64::from(d.max(1)) - into_decay) as f32 / span;
            return map(match self.decay_type {
                WsdShape::Linear => left,
                WsdShape::Cosine => {
                    cosine_cycles(self.num_cycles, into_decay as u64, u64::from(d.max(1)))
                }
                WsdShape::OneMinusSqrt => 1.0 - libm::sqrtf(done),
            });
        }
        ratio
    }
}

impl Kind for WsdSchedule {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        Some(Ok((base * self.factor(t), None)))
    }
}
