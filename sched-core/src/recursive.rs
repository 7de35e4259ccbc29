//! The kinds PyTorch steps recursively by a factor: `lr_t = lr_{t-1} * F(t) / F(t-1)`, where
//! `F` is the closed-form factor relative to the base lr (alone, `lr_t = base_lr * F(t)`), and
//! `MultiplicativeLR`, `lr_t = lr_{t-1} * lr_lambda(t)`. Each kind's parameters, checks and
//! [`Kind`] math are together. (`CosineAnnealingLR`, recursive too, is in `cosine.rs`.)

use crate::error::{at_least_one, positive, Error};
use crate::kind::Kind;
use crate::lambda::LrLambda;
use heapless::Vec;

/// Most milestones a `MultiStepLR` holds.
pub const MAX_MILESTONES: usize = 16;

params! {
/// `torch.optim.lr_scheduler.StepLR`: decays by `gamma` every `step_size` steps.
///
/// `lr_t = base_lr * gamma ^ floor(t / step_size)`.
///
/// ```
/// use sched_core::{Scheduler, StepLR};
/// let mut s = Scheduler::new(StepLR::new(2, 0.5)?, 1.0, 0.0)?;
/// let mut lrs = [0.0; 5];
/// for lr in &mut lrs { *lr = s.lr(); s.step()?; }
/// assert_eq!(lrs, [1.0, 1.0, 0.5, 0.5, 0.25]);
/// # Ok::<(), sched_core::Error>(())
/// ```
pub struct StepLR {
    /// period of decay, in scheduler steps
    ///
    /// Period of decay, in steps (>= 1).
    pub step_size: u32 as AtLeastOne => "2",
    /// multiplicative decay
    ///
    /// Multiplicative decay (> 0; PyTorch default 0.1). f64 so that `gamma ^ n` stays exact
    /// to f32 precision for large `n` (see [`ExponentialLR`]).
    pub gamma: f64 = 0.1,
}
}

impl StepLR {
    /// Checked constructor.
    pub fn new(step_size: u32, gamma: f64) -> Result<Self, Error> {
        let s = StepLR { step_size, gamma };
        s.validate()?;
        Ok(s)
    }
    pub(crate) fn validate(&self) -> Result<(), Error> {
        at_least_one("StepLR", "step_size", self.step_size)?;
        positive("StepLR", "gamma", self.gamma)
    }
}

params! {
/// `torch.optim.lr_scheduler.MultiStepLR`: decays by `gamma` at each milestone.
///
/// `lr_t = base_lr * gamma ^ (number of milestones <= t)`; a repeated milestone counts twice.
pub struct MultiStepLR {
    /// scheduler steps at which to decay
    ///
    /// Steps at which to decay (any order; at most 16).
    pub milestones: Vec<u32, MAX_MILESTONES> => "[2,5,9]",
    /// multiplicative decay
    ///
    /// Multiplicative decay (> 0; PyTorch default 0.1). f64 so that `gamma ^ n` stays exact
    /// to f32 precision for large `n` (see [`ExponentialLR`]).
    pub gamma: f64 = 0.1,
}
}

impl MultiStepLR {
    /// Checked constructor; `milestones` may be unsorted, as in PyTorch.
    pub fn new(milestones: &[u32], gamma: f64) -> Result<Self, Error> {
        let milestones = Vec::from_slice(milestones).map_err(|_| {
            Error::invalid("MultiStepLR", "milestones", "must have at most 16 entries")
        })?;
        let s = MultiStepLR { milestones, gamma };
        s.validate()?;
        Ok(s)
    }
    pub(crate) fn validate(&self) -> Result<(), Error> {
        positive("MultiStepLR", "gamma", self.gamma)
    }
}

params! {
/// `torch.optim.lr_scheduler.ConstantLR`: `factor` times the lr until `total_iters`, then the lr.
pub struct ConstantLR {
    /// factor until total_iters, in (0, 1]
    ///
    /// Factor in (0, 1] (PyTorch default 1/3; PyTorch also takes 0, which makes it divide by zero).
    pub factor: f32 = 1.0 / 3.0,
    /// steps before the lr returns to the base
    ///
    /// Steps before the lr returns to the base (default 5; 0 keeps the factor forever, as
    /// PyTorch's recursion does).
    pub total_iters: u32 = 5,
}
}

impl ConstantLR {
    /// Checked constructor.
    pub fn new(factor: f32, total_iters: u32) -> Result<Self, Error> {
        let s = ConstantLR {
            factor,
            total_iters,
        };
        s.validate()?;
        Ok(s)
    }
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if !(self.factor > 0.0 && self.factor <= 1.0) {
            return Err(Error::invalid("ConstantLR", "factor", "must be in (0, 1]"));
        }
        Ok(())
    }
    pub(crate) fn factor(&self, t: u32) -> f32 {
        if t < self.total_iters || self.total_iters == 0 {
            self.factor
        } else {
            1.0
        }
    }
}

params! {
/// `torch.optim.lr_scheduler.LinearLR`: the factor moves linearly from `start_factor` to
/// `end_factor` over `total_iters` steps.
///
/// `lr_t = base_lr * (start + (end - start) * min(t, total_iters) / total_iters)`.
pub struct LinearLR {
    /// factor at step 0
    ///
    /// In (0, 1] (default 1/3).
    pub start_factor: f32 = 1.0 / 3.0,
    /// factor at total_iters
    ///
    /// In [0, 1] (default 1).
    pub end_factor: f32 = 1.0,
    /// length of the ramp
    ///
    /// >= 1 (default 5).
    pub total_iters: u32 as AtLeastOne = 5,
}
}

impl LinearLR {
    /// Checked constructor.
    pub fn new(start_factor: f32, end_factor: f32, total_iters: u32) -> Result<Self, Error> {
        let s = LinearLR {
            start_factor,
            end_factor,
            total_iters,
        };
        s.validate()?;
        Ok(s)
    }
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if !(self.start_factor > 0.0 && self.start_factor <= 1.0) {
            return Err(Error::invalid(
                "LinearLR",
                "start_factor",
                "must be in (0, 1]",
            ));
        }
        if !(self.end_factor >= 0.0 && self.end_factor <= 1.0) {
            return Err(Error::invalid(
                "LinearLR",
                "end_factor",
                "must be in [0, 1]",
            ));
        }
        at_least_one("LinearLR", "total_iters", self.total_iters)
    }
    pub(crate) fn factor(&self, t: u32) -> f32 {
        let done = t.min(self.total_iters) as f32 / self.total_iters as f32;
        self.start_factor + (self.end_factor - self.start_factor) * done
    }
}

params! {
/// `torch.optim.lr_scheduler.ExponentialLR`: `lr_t = base_lr * gamma ^ t`.
///
/// `gamma` is f64: an f32 `gamma` carries up to 2^-24 of rounding, which `gamma ^ t` multiplies
/// by `t` (4e-5 after 3,000 steps of 0.999). The power is computed in f32 from `gamma`'s f32
/// value and its rounding residual.
pub struct ExponentialLR {
    /// multiplicative decay per step
    ///
    /// > 0.
    pub gamma: f64 => "0.95",
}
}

impl ExponentialLR {
    /// Checked constructor.
    pub fn new(gamma: f64) -> Result<Self, Error> {
        let s = ExponentialLR { gamma };
        s.validate()?;
        Ok(s)
    }
    pub(crate) fn validate(&self) -> Result<(), Error> {
        positive("ExponentialLR", "gamma", self.gamma)
    }
}

params! {
/// `torch.optim.lr_scheduler.PolynomialLR`:
/// `lr_t = base_lr * ((total_iters - min(t, total_iters)) / total_iters) ^ power`.
pub struct PolynomialLR {
    /// steps to reach 0
    ///
    /// >= 1 (default 5).
    pub total_iters: u32 as AtLeastOne = 5,
    /// power of the polynomial
    ///
    /// > 0 (default 1).
    pub power: f32 = 1.0,
}
}

impl PolynomialLR {
    /// Checked constructor.
    pub fn new(total_iters: u32, power: f32) -> Result<Self, Error> {
        let s = PolynomialLR { total_iters, power };
        s.validate()?;
        Ok(s)
    }
    pub(crate) fn validate(&self) -> Result<(), Error> {
        at_least_one("PolynomialLR", "total_iters", self.total_iters)?;
        positive("PolynomialLR", "power", self.power)
    }
}

/// `gamma ^ n` to f32 precision for any `n`: `gamma = hi + lo` with `hi` its f32 value, and
/// `(hi + lo)^n = hi^n * exp(n * ln(1 + lo / hi))`, where `lo / hi` is below 2^-24.
pub(crate) fn powi(gamma: f64, n: u32) -> f32 {
    let hi = gamma as f32;
    let lo = (gamma - f64::from(hi)) as f32;
    let n = n as f32;
    libm::powf(hi, n) * libm::expf(n * (lo / hi))
}

params! {
/// `torch.optim.lr_scheduler.MultiplicativeLR`: `lr_t = lr_{t-1} * lr_lambda(t)` for `t >= 1`.
///
/// The running product is kept in two f32 words (error-free products with `fma`), so a long run
/// does not drift the way a plain f32 product would.
pub struct MultiplicativeLR {
    /// factor applied each step; Python lambda body in `epoch`
    ///
    /// The per-step factor as a function of the step.
    #[per_group = true]
    pub lr_lambda: LrLambda => r#""0.95""#,
}
}

impl MultiplicativeLR {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        Ok(())
    }

    /// From a Rust function of the step.
    pub fn new(f: fn(u32) -> f32) -> Self {
        MultiplicativeLR {
            lr_lambda: LrLambda::Fn(f),
        }
    }
    /// From a Python lambda body in `epoch`, e.g. `"0.95"`.
    #[cfg(feature = "expr")]
    pub fn parse(body: &str) -> Result<Self, Error> {
        Ok(MultiplicativeLR {
            lr_lambda: LrLambda::parse(body)?,
        })
    }
}

/// The product of factors lives in the scheduler's state (`leaf.rs`); nothing closed-form.
impl Kind for MultiplicativeLR {}

impl Kind for StepLR {
    fn offset(&self) -> Option<f32> {
        Some(0.0)
    }
    fn ratio(&self, from: Option<u32>, to: u32) -> f32 {
        let n = |t: u32| t / self.step_size;
        powi(self.gamma, n(to) - from.map_or(0, n))
    }
    fn ratio64(&self, from: Option<u32>, to: u32) -> f64 {
        let n = |t: u32| t / self.step_size;
        powi64(self.gamma, n(to) - from.map_or(0, n))
    }
    fn changes_at(&self, t: u32) -> bool {
        t.is_multiple_of(self.step_size)
    }
}

impl MultiStepLR {
    /// Milestones passed by step `t` (a repeated one counts twice).
    fn passed(&self, t: u32) -> u32 {
        self.milestones.iter().filter(|&&m| m <= t).count() as u32
    }
}

impl Kind for MultiStepLR {
    fn offset(&self) -> Option<f32> {
        Some(0.0)
    }
    fn ratio(&self, from: Option<u32>, to: u32) -> f32 {
        powi(
            self.gamma,
            self.passed(to) - from.map_or(0, |f| self.passed(f)),
        )
    }
    fn ratio64(&self, from: Option<u32>, to: u32) -> f64 {
        let n = self.passed(to) - from.map_or(0, |f| self.passed(f));
        powi64(self.gamma, n)
    }
    fn changes_at(&self, t: u32) -> bool {
        self.milestones.contains(&t)
    }
}

impl Kind for ExponentialLR {
    fn offset(&self) -> Option<f32> {
        Some(0.0)
    }
    fn ratio(&self, from: Option<u32>, to: u32) -> f32 {
        powi(self.gamma, to - from.unwrap_or(0))
    }
    fn ratio64(&self, from: Option<u32>, to: u32) -> f64 {
        powi64(self.gamma, to - from.unwrap_or(0))
    }
    fn ratio_before_first(&self) -> f32 {
        // PyTorch multiplies by gamma outside the initial mode, at step 0 too.
        self.gamma as f32
    }
    fn changes_at(&self, _t: u32) -> bool {
        self.gamma != 1.0
    }
}

impl Kind for ConstantLR {
    fn offset(&self) -> Option<f32> {
        Some(0.0)
    }
    fn ratio(&self, from: Option<u32>, to: u32) -> f32 {
        self.factor(to) / from.map_or(1.0, |f| self.factor(f))
    }
    fn changes_at(&self, t: u32) -> bool {
        t == self.total_iters
    }
}

impl Kind for LinearLR {
    fn offset(&self) -> Option<f32> {
        Some(0.0)
    }
    fn ratio(&self, from: Option<u32>, to: u32) -> f32 {
        self.factor(to) / from.map_or(1.0, |f| self.factor(f))
    }
    fn changes_at(&self, t: u32) -> bool {
        t <= self.total_iters
    }
}

impl Kind for PolynomialLR {
    fn offset(&self) -> Option<f32> {
        Some(0.0)
    }
    fn ratio(&self, from: Option<u32>, to: u32) -> f32 {
        let left = |t: u32| (self.total_iters - t.min(self.total_iters)) as f32;
        let before = from.map_or(self.total_iters as f32, left);
        libm::powf(left(to) / before, self.power)
    }
    fn ratio_before_first(&self) -> f32 {
        // ((1 - 0 / T) / (1 - (-1) / T)) ^ power.
        let t = self.total_iters as f32;
        libm::powf(t / (t + 1.0), self.power)
    }
    // ratio64: the f32 ratio widened (a real power in f64 would link libm's `pow`), as for
    // ConstantLR and LinearLR, whose factors change the lr only for `total_iters` steps.
    fn changes_at(&self, t: u32) -> bool {
        t <= self.total_iters
    }
}

/// `gamma ^ n` in f64 by squaring: at most 64 roundings, about 1e-14 relative for any `n`,
/// without libm's `pow` (the exact mode, `Kind::ratio64`, mostly needs `n` = 0 or 1).
pub(crate) fn powi64(gamma: f64, mut n: u32) -> f64 {
    let (mut base, mut acc) = (gamma, 1.0);
    while n > 0 {
        if n & 1 == 1 {
            acc *= base;
        }
        base *= base;
        n >>= 1;
    }
    acc
}

/// A product of f32 factors held as `hi + lo`, about 48 bits of precision.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Product {
    hi: f32,
    lo: f32,
}

impl Product {
    pub(crate) const ONE: Product = Product { hi: 1.0, lo: 0.0 };

    pub(crate) fn times(self, f: f32) -> Product {
        let p = self.hi * f;
        let err = libm::fmaf(self.hi, f, -p);
        let lo = libm::fmaf(self.lo, f, err);
        let hi = p + lo;
        Product {
            hi,
            lo: lo - (hi - p),
        }
    }

    /// `x * (hi + lo)`, rounded once.
    pub(crate) fn scale(self, x: f32) -> f32 {
        libm::fmaf(x, self.hi, x * self.lo)
    }
}
