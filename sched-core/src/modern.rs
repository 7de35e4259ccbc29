//! Schedules PyTorch lacks, each following a reference implementation named in its docs. All
//! are absolute: `lr_t = base_lr * factor(t)` or a formula in `base_lr`.

use crate::cosine::{half_cosine, half_cosine_frac};
use crate::error::{at_least_one, non_negative, positive, Error};

choice! {
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
/// Warmup-stable-decay, Hugging Face `transformers.get_wsd_schedule` with its parameters.
///
/// factor(t): warmup `p = t / W` shaped (linear `p`, cosine `(1 - cos(pi p)) / 2`, 1-sqrt
/// `1 - sqrt(1 - p)`) then mapped to `min_lr_ratio + (1 - min_lr_ratio) * shape`; `1` for the
/// `num_stable_steps` after; decay `p = (t - W - S) / D` shaped (linear `1 - p`, cosine
/// `(1 + cos(2 pi num_cycles p)) / 2`, 1-sqrt `1 - sqrt(p)`) and mapped the same way; then
/// `min_lr_ratio`.
pub struct WarmupStableDecayLR {
    /// warmup length
    ///
    /// W.
    pub num_warmup_steps: u32 => "100",
    /// constant phase length
    ///
    /// S.
    pub num_stable_steps: u32 => "500",
    /// decay length
    ///
    /// D.
    pub num_decay_steps: u32 => "400",
    /// warmup shape
    ///
    /// Default `linear`.
    pub warmup_type: WsdShape = WsdShape::Linear,
    /// decay shape
    ///
    /// Default `cosine`.
    pub decay_type: WsdShape = WsdShape::Cosine,
    /// final lr / base lr
    ///
    /// In [0, 1] (default 0).
    pub min_lr_ratio: f32 = 0.0,
    /// cosine decay cycles
    ///
    /// Cosine decay cycles (> 0; default 0.5, a half cosine).
    pub num_cycles: f32 = 0.5,
}
}

impl WarmupStableDecayLR {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        const K: &str = "WarmupStableDecayLR";
        if !(self.min_lr_ratio >= 0.0 && self.min_lr_ratio <= 1.0) {
            return Err(Error::invalid(K, "min_lr_ratio", "must be in [0, 1]"));
        }
        positive(K, "num_cycles", self.num_cycles)
    }

    pub(crate) fn factor(&self, t: u32) -> f32 {
        let (w, s, d) = (
            self.num_warmup_steps,
            self.num_stable_steps,
            self.num_decay_steps,
        );
        let ratio = self.min_lr_ratio;
        let map = |shape: f32| (shape * (1.0 - ratio) + ratio).max(0.0);
        if t < w {
            let (done, left) = (t as f32 / w as f32, (w - t) as f32 / w as f32);
            return map(match self.warmup_type {
                WsdShape::Linear => done,
                WsdShape::Cosine => 1.0 - half_cosine(t, w),
                WsdShape::OneMinusSqrt => 1.0 - libm::sqrtf(left),
            });
        }
        let t = t - w;
        if t < s {
            return 1.0;
        }
        let t = t - s;
        if t < d {
            let d = d.max(1);
            let (done, left) = (t as f32 / d as f32, (d - t) as f32 / d as f32);
            return map(match self.decay_type {
                WsdShape::Linear => left,
                WsdShape::Cosine => {
                    let x = 2.0 * self.num_cycles * done;
                    // (1 + cos(pi x)) / 2 over any number of cycles: fold x into [0, 1].
                    let folded = x - 2.0 * libm::floorf(x / 2.0);
                    let q = if folded > 1.0 { 2.0 - folded } else { folded };
                    if self.num_cycles == 0.5 {
                        half_cosine_frac(done, left)
                    } else {
                        half_cosine_frac(q, 1.0 - q)
                    }
                }
                WsdShape::OneMinusSqrt => 1.0 - libm::sqrtf(done),
            });
        }
        ratio
    }
}

params! {
/// Inverse square root decay after a linear warmup (Vaswani et al. 2017 "Noam"), as Hugging Face
/// `transformers.get_inverse_sqrt_schedule`.
///
/// factor(t) = `t / W` for `t < W`, else `1 / sqrt((t + timescale - W) / timescale)`;
/// `timescale` defaults to `W` (or 10,000 when `W` is 0).
pub struct InverseSqrtLR {
    /// warmup length
    ///
    /// W.
    pub num_warmup_steps: u32 => "100",
    /// decay timescale (empty: num_warmup_steps, or 10000)
    ///
    /// >= 1 when given.
    pub timescale: Option<u32> = None,
}
}

impl InverseSqrtLR {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if let Some(ts) = self.timescale {
            at_least_one("InverseSqrtLR", "timescale", ts)?;
        }
        Ok(())
    }

    pub(crate) fn factor(&self, t: u32) -> f32 {
        let w = self.num_warmup_steps;
        if t < w {
            return t as f32 / w as f32;
        }
        let timescale = self.timescale.unwrap_or(if w == 0 { 10_000 } else { w });
        // (t + timescale - W) is an integer: form it exactly before dividing.
        let shifted = i64::from(t) + i64::from(timescale) - i64::from(w);
        1.0 / libm::sqrtf(shifted as f32 / timescale as f32)
    }
}

params! {
/// A linear warmup, then a cosine decay to 0, as Hugging Face
/// `transformers.get_cosine_schedule_with_warmup` (the usual schedule for fine-tuning a
/// transformer).
///
/// factor(t) = `t / max(1, W)` for `t < W`, else `max(0, (1 + cos(2π · num_cycles · p)) / 2)`
/// with `p = (t - W) / max(1, T - W)`; past `T` the cosine goes on, as in transformers.
///
/// ```
/// use sched_core::{CosineWithWarmupLR, Scheduler};
/// // get_cosine_schedule_with_warmup(SGD(params, lr=0.1), num_warmup_steps=2, num_training_steps=6)
/// let s = Scheduler::new(CosineWithWarmupLR::new(2, 6), 0.1, 0.0)?;
/// assert_eq!(s.lr_at(1), Some(0.05));
/// assert!((s.lr_at(4).unwrap() - 0.05).abs() < 1e-8); // (1 + cos(pi / 2)) / 2
/// assert_eq!(s.lr_at(6), Some(0.0));
/// # Ok::<(), sched_core::Error>(())
/// ```
pub struct CosineWithWarmupLR {
    /// warmup length
    ///
    /// W, the warmup steps.
    pub num_warmup_steps: u32 => "10",
    /// steps of warmup and decay together
    ///
    /// T, the steps of warmup and decay together.
    pub num_training_steps: u32 => "100",
    /// cosine waves over the decay (0.5: down to 0 once)
    ///
    /// Cosine waves over the decay, >= 0: 0.5 falls from the peak to 0 once.
    pub num_cycles: f32 = 0.5,
}
}

impl CosineWithWarmupLR {
    /// Warmup over `num_warmup_steps`, decay to 0 at `num_training_steps`, half a cosine wave.
    pub fn new(num_warmup_steps: u32, num_training_steps: u32) -> Self {
        CosineWithWarmupLR::with_defaults(num_warmup_steps, num_training_steps)
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        crate::error::non_negative("CosineWithWarmupLR", "num_cycles", self.num_cycles)
    }

    pub(crate) fn factor(&self, t: u32) -> f32 {
        let w = self.num_warmup_steps;
        if t < w {
            return t as f32 / w as f32;
        }
        let span = self.num_training_steps.saturating_sub(w).max(1);
        let done = (t - w) as f32 / span as f32;
        // (1 + cos(2 pi num_cycles p)) / 2 in f32 (f64 cos would be soft float on a Cortex-M4F),
        // with x folded into [0, 1] over any number of cycles, and past T.
        let x = 2.0 * self.num_cycles * done;
        let folded = x - 2.0 * libm::floorf(x / 2.0);
        let q = if folded > 1.0 { 2.0 - folded } else { folded };
        half_cosine_frac(q, 1.0 - q)
    }
}

impl crate::kind::Kind for CosineWithWarmupLR {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        Some(Ok((base * self.factor(t), None)))
    }
}

/// Where step `t` falls in timm's cycles: `(cycle index, t within the cycle, cycle length)`,
/// for an integer `cycle_mul`.
pub(crate) fn timm_cycle(t: u32, t_initial: u32, cycle_mul: u32) -> (u32, u32, u32) {
    if cycle_mul == 1 {
        return (t / t_initial, t % t_initial, t_initial);
    }
    let (mut i, mut start, mut len) = (0u32, 0u64, u64::from(t_initial));
    while u64::from(t) >= start + len {
        start += len;
        len = len.saturating_mul(u64::from(cycle_mul));
        i += 1;
    }
    (
        i,
        (u64::from(t) - start) as u32,
        len.min(u64::from(u32::MAX)) as u32,
    )
}

params! {
/// Cosine with restarts as timm's `CosineLRScheduler` (SGDR with a decaying peak and a cycle
/// length multiplier, and k-decay), without its warmup (put a `WarmupLR` in front).
///
/// In cycle `i` (length `t_initial * cycle_mul^i`) at step `c` of it:
/// `lr = lr_min + (base_lr * cycle_decay^i - lr_min) * (1 + cos(pi c^k / T_i^k)) / 2`;
/// after `cycle_limit` cycles, `lr_min`.
pub struct TimmCosineLR {
    /// first cycle length
    ///
    /// First cycle length (>= 1).
    pub t_initial: u32 as AtLeastOne => "100",
    /// minimum lr
    ///
    /// >= 0 (default 0).
    pub lr_min: f32 = 0.0,
    /// cycle length multiplier
    ///
    /// Integer cycle length multiplier (>= 1; default 1).
    pub cycle_mul: u32 as AtLeastOne = 1,
    /// peak decay per cycle
    ///
    /// Peak decay per cycle (> 0; default 1).
    pub cycle_decay: f32 = 1.0,
    /// number of cycles
    ///
    /// Number of cycles (>= 1; default 1).
    pub cycle_limit: u32 as AtLeastOne = 1,
    /// k-decay exponent
    ///
    /// k-decay exponent (> 0; default 1; Zhang et al. 2020).
    pub k_decay: f32 = 1.0,
}
}

impl TimmCosineLR {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        const K: &str = "TimmCosineLR";
        at_least_one(K, "t_initial", self.t_initial)?;
        non_negative(K, "lr_min", self.lr_min)?;
        at_least_one(K, "cycle_mul", self.cycle_mul)?;
        positive(K, "cycle_decay", self.cycle_decay)?;
        at_least_one(K, "cycle_limit", self.cycle_limit)?;
        positive(K, "k_decay", self.k_decay)
    }

    pub(crate) fn lr(&self, base: f32, t: u32) -> f32 {
        let (i, c, len) = timm_cycle(t, self.t_initial, self.cycle_mul);
        if i >= self.cycle_limit {
            return self.lr_min;
        }
        let peak = base * libm::powf(self.cycle_decay, i as f32);
        let shape = if self.k_decay == 1.0 {
            half_cosine(c, len)
        } else {
            let p = libm::powf(c as f32, self.k_decay) / libm::powf(len as f32, self.k_decay);
            half_cosine_frac(p, 1.0 - p)
        };
        self.lr_min + (peak - self.lr_min) * shape
    }
}

params! {
/// Hyperbolic-tangent decay as timm's `TanhLRScheduler` (Hsueh et al. 2019), without warmup.
///
/// In cycle `i` at fraction `r = c / T_i`:
/// `lr = lr_min + (base_lr * cycle_decay^i - lr_min) * (1 - tanh(lb (1 - r) + ub r)) / 2`.
pub struct TimmTanhLR {
    /// first cycle length
    ///
    /// First cycle length (>= 1).
    pub t_initial: u32 as AtLeastOne => "100",
    /// tanh lower bound
    ///
    /// Lower tanh bound (default -7).
    pub lb: f32 = -7.0,
    /// tanh upper bound
    ///
    /// Upper tanh bound (> lb; default 3).
    pub ub: f32 = 3.0,
    /// minimum lr
    ///
    /// >= 0 (default 0).
    pub lr_min: f32 = 0.0,
    /// cycle length multiplier
    ///
    /// Integer cycle length multiplier (>= 1; default 1).
    pub cycle_mul: u32 as AtLeastOne = 1,
    /// peak decay per cycle
    ///
    /// Peak decay per cycle (> 0; default 1).
    pub cycle_decay: f32 = 1.0,
    /// number of cycles
    ///
    /// Number of cycles (>= 1; default 1).
    pub cycle_limit: u32 as AtLeastOne = 1,
}
}

impl TimmTanhLR {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        const K: &str = "TimmTanhLR";
        at_least_one(K, "t_initial", self.t_initial)?;
        if !(self.lb.is_finite() && self.ub.is_finite() && self.lb < self.ub) {
            return Err(Error::invalid(K, "lb", "must be finite and < ub"));
        }
        non_negative(K, "lr_min", self.lr_min)?;
        at_least_one(K, "cycle_mul", self.cycle_mul)?;
        positive(K, "cycle_decay", self.cycle_decay)?;
        at_least_one(K, "cycle_limit", self.cycle_limit)
    }

    pub(crate) fn lr(&self, base: f32, t: u32) -> f32 {
        let (i, c, len) = timm_cycle(t, self.t_initial, self.cycle_mul);
        if i >= self.cycle_limit {
            return self.lr_min;
        }
        let peak = base * libm::powf(self.cycle_decay, i as f32);
        let r = c as f32 / len as f32;
        let x = self.lb * (1.0 - r) + self.ub * r;
        // 1 - tanh(x) = 2 / (1 + e^(2x)), without the cancellation of 1 - tanh(x) as x grows.
        self.lr_min + 0.5 * (peak - self.lr_min) * (2.0 / (1.0 + libm::expf(2.0 * x)))
    }
}

impl crate::kind::Kind for WarmupStableDecayLR {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        Some(Ok((base * self.factor(t), None)))
    }
}

impl crate::kind::Kind for InverseSqrtLR {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        Some(Ok((base * self.factor(t), None)))
    }
}

impl crate::kind::Kind for TimmCosineLR {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        Some(Ok((self.lr(base, t), None)))
    }
}

impl crate::kind::Kind for TimmTanhLR {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        Some(Ok((self.lr(base, t), None)))
    }
}
