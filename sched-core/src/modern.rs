//! timm's cosine and tanh schedules without their warmup, under this crate's names (timm's own
//! kinds, with warmup and every argument, are to come). Both are absolute: a formula in
//! `base_lr` and the step.

use crate::cosine::{half_cosine, half_cosine_frac};
use crate::error::{at_least_one, non_negative, positive, Error};

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
