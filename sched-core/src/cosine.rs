//! Cosine annealing. All of them use `(1 + cos(pi * u / T)) / 2`, computed as a square of a
//! cosine or sine of an angle at most pi/4, from integer step differences: near the trough
//! `1 + cos(x)` would cancel to a few significant bits in f32.
//!
//! On [0, pi/4] sine and cosine are short f32 polynomials here rather than `libm::sinf` /
//! `libm::cosf`, whose argument reduction and kernels run in f64: software floating point on a
//! Cortex-M4F, about 600 instructions a call against about 30.

use crate::error::{at_least_one, non_negative, Error};
use core::f32::consts::FRAC_PI_2;

/// `(sin x, cos x)` for `x` in [0, pi/4]: Taylor polynomials to x^9 and x^10, whose truncation
/// error (below 3e-9 relative) is far under f32's half ulp; Horner rounding gives 1-2 ulps.
pub(crate) fn sin_cos_quarter(x: f32) -> (f32, f32) {
    let x2 = x * x;
    let sin = x
        * (1.0
            + x2 * (-1.0 / 6.0
                + x2 * (1.0 / 120.0 + x2 * (-1.0 / 5040.0 + x2 * (1.0 / 362_880.0)))));
    let cos = 1.0
        + x2 * (-0.5
            + x2 * (1.0 / 24.0
                + x2 * (-1.0 / 720.0 + x2 * (1.0 / 40_320.0 + x2 * (-1.0 / 3_628_800.0)))));
    (sin, cos)
}

/// `(1 + cos(pi * u / t)) / 2` for integers; periodic in `u` with period `2t`.
pub(crate) fn half_cosine(u: u32, t: u32) -> f32 {
    let t = u64::from(t.max(1));
    let mut u = u64::from(u) % (2 * t);
    if u > t {
        u = 2 * t - u;
    }
    // (1 + cos(pi u / t)) / 2 = cos^2(pi u / 2t) = sin^2(pi (t - u) / 2t).
    let c = if 2 * u <= t {
        sin_cos_quarter(FRAC_PI_2 * (u as f32 / t as f32)).1
    } else {
        sin_cos_quarter(FRAC_PI_2 * ((t - u) as f32 / t as f32)).0
    };
    c * c
}

/// `sin x` (`cos = false`) or `cos x` for `x` in [0, pi/4], in f64: Taylor polynomials to
/// x^17 and x^18 (truncation below 2e-19, far under f64's half ulp) in Horner form. Short, so
/// that the exact mode (`Kind::ratio64`) does not pull libm's f64 trigonometry onto a device.
fn sin_or_cos_quarter64(x: f64, cos: bool) -> f64 {
    // 1/n! for n = 0..=18.
    const INV_FACT: [f64; 19] = [
        1.0,
        1.0,
        1.0 / 2.0,
        1.0 / 6.0,
        1.0 / 24.0,
        1.0 / 120.0,
        1.0 / 720.0,
        1.0 / 5040.0,
        1.0 / 40_320.0,
        1.0 / 362_880.0,
        1.0 / 3_628_800.0,
        1.0 / 39_916_800.0,
        1.0 / 479_001_600.0,
        1.0 / 6_227_020_800.0,
        1.0 / 87_178_291_200.0,
        1.0 / 1_307_674_368_000.0,
        1.0 / 20_922_789_888_000.0,
        1.0 / 355_687_428_096_000.0,
        1.0 / 6_402_373_705_728_000.0,
    ];
    let x2 = x * x;
    let first = usize::from(!cos); // cos: 1/0!, 1/2!, ...; sin: 1/1!, 1/3!, ...
    let mut sum = 0.0;
    for k in (0..9).rev() {
        let c = INV_FACT[first + 2 * k];
        // Horner: sum_k (-1)^k c_k x2^k.
        sum = if k % 2 == 0 { c } else { -c } + x2 * sum;
    }
    if cos {
        sum
    } else {
        x * sum
    }
}

/// [`half_cosine`] in f64, for the exact mode (`Kind::ratio64`).
pub(crate) fn half_cosine64(u: u32, t: u32) -> f64 {
    let t = u64::from(t.max(1));
    let mut u = u64::from(u) % (2 * t);
    if u > t {
        u = 2 * t - u;
    }
    let half_pi = core::f64::consts::FRAC_PI_2;
    let c = if 2 * u <= t {
        sin_or_cos_quarter64(half_pi * (u as f64 / t as f64), true)
    } else {
        sin_or_cos_quarter64(half_pi * ((t - u) as f64 / t as f64), false)
    };
    c * c
}

/// `((1 + cos(pi p)) / 2, (1 - cos(pi p)) / 2)` for `p` in [0, 1], given `p` and `1 - p` each
/// computed directly; each half is accurate to a few ulps, even where it is tiny.
#[cfg_attr(
    not(any(feature = "timm", feature = "transformers", feature = "fastai")),
    allow(dead_code)
)]
pub(crate) fn half_cosines(p: f32, one_minus_p: f32) -> (f32, f32) {
    let (c, s) = if p <= 0.5 {
        let (s, c) = sin_cos_quarter(FRAC_PI_2 * p);
        (c, s)
    } else {
        sin_cos_quarter(FRAC_PI_2 * one_minus_p)
    };
    (c * c, s * s)
}

/// `(1 + cos(pi * p)) / 2`, see [`half_cosines`].
#[cfg_attr(not(any(feature = "timm", feature = "transformers")), allow(dead_code))]
pub(crate) fn half_cosine_frac(p: f32, one_minus_p: f32) -> f32 {
    half_cosines(p, one_minus_p).0
}

params! {
/// `torch.optim.lr_scheduler.CosineAnnealingLR`:
/// `lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2`.
///
/// Past `T_max` it keeps PyTorch's behaviour: the curve continues as a cosine of period
/// `2 * T_max` (back up to `base_lr` at `2 * T_max`). Chained with other schedulers it follows
/// PyTorch's recursive form `lr_t = eta_min + (lr_{t-1} - eta_min) * ratio(t)`.
///
/// ```
/// use sched_core::{CosineAnnealingLR, Scheduler};
/// let s = Scheduler::new(CosineAnnealingLR::new(4, 0.0)?, 1.0, 0.0)?;
/// assert_eq!(s.lr_at(0), Some(1.0));
/// assert!((s.lr_at(2).unwrap() - 0.5).abs() < 1e-6); // cos^2(pi / 4)
/// assert_eq!(s.lr_at(4), Some(0.0));
/// assert_eq!(s.lr_at(8), Some(1.0)); // past T_max the cosine comes back up, as in PyTorch
/// # Ok::<(), sched_core::Error>(())
/// ```
pub struct CosineAnnealingLR {
    /// half period, in scheduler steps
    ///
    /// Half period in steps (>= 1).
    #[spec = "T_max"]
    pub t_max: u32 as AtLeastOne => "10",
    /// minimum lr
    ///
    /// The lr at the trough (>= 0; default 0). f64, as PyTorch holds it: in a chain that drives
    /// the lr below `eta_min` and through zero, the offset's rounding would show in the lr.
    pub eta_min: f64 = 0.0,
}
}

impl CosineAnnealingLR {
    /// Checked constructor.
    pub fn new(t_max: u32, eta_min: f64) -> Result<Self, Error> {
        let s = CosineAnnealingLR { t_max, eta_min };
        s.validate()?;
        Ok(s)
    }
    pub(crate) fn validate(&self) -> Result<(), Error> {
        at_least_one("CosineAnnealingLR", "T_max", self.t_max)?;
        non_negative("CosineAnnealingLR", "eta_min", self.eta_min)
    }
}

params! {
/// `torch.optim.lr_scheduler.CosineAnnealingWarmRestarts` (SGDR): cosine from the base lr to
/// `eta_min` over `T_i` steps, then a restart; `T_0` first, each next period `T_mult` times longer.
///
/// `lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2`.
pub struct CosineAnnealingWarmRestarts {
    /// first restart period
    ///
    /// First period (>= 1).
    #[spec = "T_0"]
    pub t_0: u32 as AtLeastOne => "3",
    /// period multiplier after each restart
    ///
    /// Period multiplier (>= 1; default 1).
    #[spec = "T_mult"]
    pub t_mult: u32 as AtLeastOne = 1,
    /// minimum lr
    ///
    /// >= 0 (default 0).
    pub eta_min: f32 = 0.0,
}
}

impl CosineAnnealingWarmRestarts {
    /// Checked constructor.
    pub fn new(t_0: u32, t_mult: u32, eta_min: f32) -> Result<Self, Error> {
        let s = CosineAnnealingWarmRestarts {
            t_0,
            t_mult,
            eta_min,
        };
        s.validate()?;
        Ok(s)
    }
    pub(crate) fn validate(&self) -> Result<(), Error> {
        at_least_one("CosineAnnealingWarmRestarts", "T_0", self.t_0)?;
        at_least_one("CosineAnnealingWarmRestarts", "T_mult", self.t_mult)?;
        non_negative("CosineAnnealingWarmRestarts", "eta_min", self.eta_min)
    }

    /// `(T_cur, T_i)` after `t` steps, by whole periods.
    pub(crate) fn position(&self, t: u32) -> (u32, u32) {
        if self.t_mult == 1 {
            return (t % self.t_0, self.t_0);
        }
        let (mut start, mut len) = (0u64, u64::from(self.t_0));
        let t = u64::from(t);
        while t >= start + len {
            start += len;
            len = len.saturating_mul(u64::from(self.t_mult));
        }
        ((t - start) as u32, len.min(u64::from(u32::MAX)) as u32)
    }

    pub(crate) fn lr(&self, base: f32, t_cur: u32, t_i: u32) -> f32 {
        self.eta_min + (base - self.eta_min) * half_cosine(t_cur, t_i)
    }
}

impl crate::kind::Kind for CosineAnnealingLR {
    fn offset(&self) -> Option<f32> {
        // f64 -> f32 is a library call on a Cortex-M4F: skip it for the usual eta_min = 0.
        Some(if self.eta_min.to_bits() == 0 {
            0.0
        } else {
            self.eta_min as f32
        })
    }
    fn offset64(&self) -> Option<f64> {
        Some(self.eta_min)
    }
    fn ratio(&self, from: Option<u32>, to: u32) -> f32 {
        half_cosine(to, self.t_max) / from.map_or(1.0, |f| half_cosine(f, self.t_max))
    }
    fn ratio64(&self, from: Option<u32>, to: u32) -> f64 {
        half_cosine64(to, self.t_max) / from.map_or(1.0, |f| half_cosine64(f, self.t_max))
    }
    fn ratio_before_first(&self) -> f32 {
        // (1 + cos 0) / (1 + cos(-pi / T_max)); T_max = 1 takes PyTorch's additive branch
        // (`leaf.rs`).
        1.0 / half_cosine(1, self.t_max)
    }
}

impl crate::kind::Kind for CosineAnnealingWarmRestarts {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let (t_cur, t_i) = self.position(t);
        Some(Ok((self.lr(base, t_cur, t_i), None)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f64_kernels_are_f64_accurate() {
        for i in 0..=1000 {
            let x = core::f64::consts::FRAC_PI_4 * f64::from(i) / 1000.0;
            let (s, c) = (
                sin_or_cos_quarter64(x, false),
                sin_or_cos_quarter64(x, true),
            );
            assert!(
                (s - x.sin()).abs() <= 2.0 * f64::EPSILON * x.sin(),
                "sin {x}"
            );
            assert!((c - x.cos()).abs() <= 2.0 * f64::EPSILON, "cos {x}");
        }
        for t in [1u32, 3, 10, 300, 100_000] {
            for u in (0..3 * t).step_by((t as usize / 40).max(1)) {
                let x = core::f64::consts::PI * f64::from(u) / f64::from(t);
                let want = (1.0 + x.cos()) / 2.0;
                let got = half_cosine64(u, t);
                assert!(
                    (got - want).abs() <= 8.0 * f64::EPSILON,
                    "F({u}/{t}) = {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn half_cosine_matches_f64_and_keeps_the_trough() {
        for t in [1u32, 2, 3, 10, 1000, 100_000] {
            for u in (0..=2 * t).step_by((t as usize / 50).max(1)) {
                let exact = (1.0 + (core::f64::consts::PI * u as f64 / t as f64).cos()) / 2.0;
                let got = half_cosine(u, t) as f64;
                let tol = 8.0 * f32::EPSILON as f64 * exact.max(1e-30);
                assert!(
                    (got - exact).abs() <= tol.max(1e-12 * exact),
                    "u={u} t={t} exact={exact} got={got}"
                );
            }
        }
        assert_eq!(half_cosine(7, 7), 0.0);
        assert_eq!(half_cosine(0, 7), 1.0);
        assert_eq!(half_cosine(14, 7), 1.0);
    }

    #[test]
    fn quarter_sin_cos_within_two_ulps() {
        for i in 0..=10_000 {
            let x = core::f32::consts::FRAC_PI_4 * i as f32 / 10_000.0;
            let (s, c) = sin_cos_quarter(x);
            let (es, ec) = ((x as f64).sin(), (x as f64).cos());
            let ulp = |v: f64| f64::from(f32::EPSILON) * v.abs().max(f64::from(f32::MIN_POSITIVE));
            assert!(
                (s as f64 - es).abs() <= 2.0 * ulp(es),
                "sin({x}) = {s}, want {es}"
            );
            assert!(
                (c as f64 - ec).abs() <= 2.0 * ulp(ec),
                "cos({x}) = {c}, want {ec}"
            );
        }
    }

    #[test]
    fn warm_restart_positions() {
        let s = CosineAnnealingWarmRestarts::new(3, 2, 0.0).unwrap();
        let got: [(u32, u32); 10] = core::array::from_fn(|t| s.position(t as u32));
        assert_eq!(
            got,
            [
                (0, 3),
                (1, 3),
                (2, 3),
                (0, 6),
                (1, 6),
                (2, 6),
                (3, 6),
                (4, 6),
                (5, 6),
                (0, 12)
            ]
        );
    }
}
