//! timm's schedulers (`timm.scheduler`, 1.0.31), each under its class name: kind
//! `"timm.CosineLRScheduler"` is [`CosineLRScheduler`], with the class's constructor arguments
//! and defaults.
//!
//! timm sets the lr from the step number it is given: the lr of optimizer update `t` is the
//! group's lr after `scheduler.step(t)` (or `step_update(t)` with `t_in_epochs=False`), its
//! `_get_lr(t)`, a function of the initial lr (`base_lr`). Every scheduler has timm's linear
//! warmup, `warmup_lr_init + t * (target - warmup_lr_init) / warmup_t` for `t < warmup_t`,
//! where the target is `base_lr` (the tanh schedule's own value at `warmup_t` unless
//! `warmup_prefix`); with `warmup_prefix` the schedule's own steps start after the warmup.
//!
//! timm's noise (`noise_range_t`) draws from a `torch.Generator`, which is not reproduced: a
//! spec that sets it is refused naming it; `noise_pct`, `noise_std`, `noise_seed`, `t_in_epochs`
//! and `initialize` are accepted and change nothing here. Not here: `PlateauLRScheduler` (a
//! metric-driven wrapper of PyTorch's `ReduceLROnPlateau` with timm's warmup and noise).

use crate::cosine::half_cosine_frac;
use crate::error::{at_least_one, non_negative, positive, Error};
use crate::kind::{finite, Kind};
use heapless::Vec;

/// Most `decay_t` milestones of a `MultiStepLRScheduler`.
pub const MAX_DECAY_T: usize = 6;

/// timm's `noise_range_t`: a step from which, or a `[start, end)` range in which, timm adds
/// noise. Only its absence is accepted (see the module's docs).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(untagged)
)]
pub enum NoiseRange {
    /// `noise_range_t=t`: from step `t` on.
    From(u32),
    /// `noise_range_t=[start, end]`.
    Between([u32; 2]),
}

impl crate::schema::SchemaType for Option<NoiseRange> {
    const TYPE: crate::schema::ParamType = crate::schema::ParamType::OptInt;
}

impl crate::schema::Typed<Option<NoiseRange>> {
    pub(crate) const fn value(&self) -> crate::schema::DefaultValue {
        crate::schema::DefaultValue::Null
    }
}

#[cfg(feature = "serde")]
impl crate::literal::Literal for NoiseRange {
    fn write(&self, out: &mut dyn core::fmt::Write) -> core::fmt::Result {
        match self {
            NoiseRange::From(t) => write!(out, "sched_core::timm::NoiseRange::From({t})"),
            NoiseRange::Between([a, b]) => {
                write!(out, "sched_core::timm::NoiseRange::Between([{a}, {b}])")
            }
        }
    }
}

/// The arguments every timm scheduler shares: the warmup, and the noise that is refused.
fn check_common(
    kind: &'static str,
    warmup_lr_init: f32,
    noise_range_t: Option<NoiseRange>,
) -> Result<(), Error> {
    non_negative(kind, "warmup_lr_init", warmup_lr_init)?;
    if noise_range_t.is_some() {
        return Err(Error::invalid(
            kind,
            "noise_range_t",
            "must be null: timm's noise draws from a torch.Generator, which sched-core does not reproduce",
        ));
    }
    Ok(())
}

/// timm's warmup value at `t < warmup_t`, ramping from `init` to `target`.
fn warmup(init: f32, target: f32, warmup_t: u32, t: u32) -> f32 {
    let step = (f64::from(target) - f64::from(init)) / f64::from(warmup_t);
    (f64::from(init) + f64::from(t) * step) as f32
}

/// Where step `t` falls in timm's cycles: `(cycle i, t_curr, t_i)`. For an integer
/// `cycle_mul` the cycles are counted on the integers, exactly; timm's f64 logarithm,
/// `i = floor(log(1 - t / t_initial * (1 - cycle_mul), cycle_mul))`, can round a restart into
/// the cycle before it (`tests/golden/known_reference_bugs.json`). For another `cycle_mul` there
/// is no exact answer to give, and timm's formula is used, in f32 (f64's logarithm and power
/// would cost a device 3 KB of soft-float code).
fn cycle(t: u32, t_initial: u32, cycle_mul: f32) -> (u32, f64, f64) {
    let (t_int, t0_int) = (u64::from(t), u64::from(t_initial.max(1)));
    if cycle_mul == 1.0 {
        return (
            (t_int / t0_int) as u32,
            (t_int % t0_int) as f64,
            t0_int as f64,
        );
    }
    if cycle_mul == libm::floorf(cycle_mul) && cycle_mul <= 1e6 {
        let m = u64::from(cycle_mul as u32);
        let (mut i, mut start, mut len) = (0u32, 0u64, t0_int);
        while t_int >= start + len {
            start += len;
            len = len.saturating_mul(m);
            i += 1;
        }
        return (i, (t_int - start) as f64, len as f64);
    }
    let (t, t0, m) = (t as f32, t_initial as f32, cycle_mul);
    let i = libm::floorf(libm::logf(1.0 - t / t0 * (1.0 - m)) / libm::logf(m));
    let mi = libm::powf(m, i);
    (
        i as u32,
        f64::from(t - (1.0 - mi) / (1.0 - m) * t0),
        f64::from(mi * t0),
    )
}

/// The common shape of timm's cyclic schedulers: after the warmup, in cycle `i`, `lr_min +
/// (base * cycle_decay^i - lr_min) * shape(t_curr, t_i)`, and `lr_min` after `cycle_limit`
/// cycles.
struct Cyclic {
    t_initial: u32,
    lr_min: f32,
    cycle_mul: f32,
    cycle_decay: f32,
    cycle_limit: u32,
    warmup_t: u32,
    warmup_prefix: bool,
}

impl Cyclic {
    fn lr(&self, base: f32, t: u32, shape: impl Fn(f64, f64) -> f32) -> f32 {
        let t = if self.warmup_prefix {
            t - self.warmup_t
        } else {
            t
        };
        let (i, t_curr, t_i) = cycle(t, self.t_initial, self.cycle_mul);
        if i >= self.cycle_limit {
            return self.lr_min;
        }
        let peak = base * libm::powf(self.cycle_decay, i as f32);
        self.lr_min + (peak - self.lr_min) * shape(t_curr, t_i)
    }

    fn check(&self, kind: &'static str) -> Result<(), Error> {
        at_least_one(kind, "t_initial", self.t_initial)?;
        non_negative(kind, "lr_min", self.lr_min)?;
        positive(kind, "cycle_mul", self.cycle_mul)?;
        positive(kind, "cycle_decay", self.cycle_decay)
    }
}

/// A timm scheduler's parameters: its own (declared in its `timm_params!`), then the
/// arguments every timm scheduler takes, declared here once.
macro_rules! timm_params {
    ($(#[$meta:meta])* pub struct $name:ident { $($own:tt)* }) => {
        params! {
        in timm;
        $(#[$meta])*
        pub struct $name {
            $($own)*
            /// warmup length
            pub warmup_t: u32 = 0,
            /// lr at the warmup's start
            pub warmup_lr_init: f32 = 0.0,
            /// timm steps per epoch (no effect here)
            pub t_in_epochs: bool = true,
            /// must be empty: timm's noise is not reproduced
            pub noise_range_t: Option<NoiseRange> = None,
            /// noise bound (no effect here)
            pub noise_pct: f32 = 0.67,
            /// noise deviation (no effect here)
            pub noise_std: f32 = 1.0,
            /// noise seed (no effect here)
            pub noise_seed: u32 = 42,
            /// set the group's initial lr (no effect here)
            pub initialize: bool = true,
        }
        }
    };
}

/// The cyclic part of a timm scheduler with `t_initial`, `lr_min` and the cycle arguments.
macro_rules! cyclic {
    ($s:expr) => {
        Cyclic {
            t_initial: $s.t_initial,
            lr_min: $s.lr_min,
            cycle_mul: $s.cycle_mul,
            cycle_decay: $s.cycle_decay,
            cycle_limit: $s.cycle_limit,
            warmup_t: $s.warmup_t,
            warmup_prefix: $s.warmup_prefix,
        }
    };
}

/// `t_curr^k / t_i^k` and `1 -` it, each in f64 before rounding (so that the end of a long
/// cycle keeps its precision).
fn fraction(t_curr: f64, t_i: f64, k: f32) -> (f32, f32) {
    let p = if k == 1.0 {
        t_curr / t_i
    } else {
        f64::from(libm::powf(t_curr as f32, k) / libm::powf(t_i as f32, k))
    };
    (p as f32, (1.0 - p) as f32)
}

timm_params! {
/// `timm.scheduler.CosineLRScheduler` (SGDR with a decaying peak, a cycle length multiplier and
/// k-decay): in cycle `i` (`t_initial * cycle_mul^i` steps) at step `t_curr` of it,
/// `lr_min + (base_lr * cycle_decay^i - lr_min) * (1 + cos(pi t_curr^k / t_i^k)) / 2`; `lr_min`
/// after `cycle_limit` cycles.
pub struct CosineLRScheduler {
    /// first cycle length
    pub t_initial: u32 as AtLeastOne => "100",
    /// minimum lr
    pub lr_min: f32 = 0.0,
    /// cycle length multiplier
    pub cycle_mul: f32 = 1.0,
    /// peak decay per cycle
    pub cycle_decay: f32 = 1.0,
    /// number of cycles
    pub cycle_limit: u32 = 1,
    /// the schedule starts after the warmup
    pub warmup_prefix: bool = false,
    /// k-decay exponent (Zhang et al. 2020)
    pub k_decay: f32 = 1.0,
}
}

impl CosineLRScheduler {
    const K: &'static str = "timm.CosineLRScheduler";

    pub(crate) fn validate(&self) -> Result<(), Error> {
        cyclic!(self).check(Self::K)?;
        positive(Self::K, "k_decay", self.k_decay)?;
        check_common(Self::K, self.warmup_lr_init, self.noise_range_t)
    }
}

impl Kind for CosineLRScheduler {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let lr = if t < self.warmup_t {
            warmup(self.warmup_lr_init, base, self.warmup_t, t)
        } else {
            cyclic!(self).lr(base, t, |t_curr, t_i| {
                let (p, rest) = fraction(t_curr, t_i, self.k_decay);
                half_cosine_frac(p, rest)
            })
        };
        Some(finite(Self::K, "cycle_mul", lr).map(|lr| (lr, None)))
    }
}

timm_params! {
/// `timm.scheduler.TanhLRScheduler` (Hsueh et al. 2019): in cycle `i` at fraction `r =
/// t_curr / t_i`, `lr_min + (base_lr * cycle_decay^i - lr_min) * (1 - tanh(lb (1 - r) + ub r))
/// / 2`. Unless `warmup_prefix`, the warmup ramps to the schedule's own value at `warmup_t`.
pub struct TanhLRScheduler {
    /// first cycle length
    pub t_initial: u32 as AtLeastOne => "100",
    /// tanh lower bound
    pub lb: f32 = -7.0,
    /// tanh upper bound
    pub ub: f32 = 3.0,
    /// minimum lr
    pub lr_min: f32 = 0.0,
    /// cycle length multiplier
    pub cycle_mul: f32 = 1.0,
    /// peak decay per cycle
    pub cycle_decay: f32 = 1.0,
    /// number of cycles
    pub cycle_limit: u32 = 1,
    /// the schedule starts after the warmup
    pub warmup_prefix: bool = false,
}
}

impl TanhLRScheduler {
    const K: &'static str = "timm.TanhLRScheduler";

    pub(crate) fn validate(&self) -> Result<(), Error> {
        cyclic!(self).check(Self::K)?;
        if !(self.lb.is_finite() && self.ub.is_finite() && self.lb < self.ub) {
            return Err(Error::invalid(Self::K, "lb", "must be finite and < ub"));
        }
        check_common(Self::K, self.warmup_lr_init, self.noise_range_t)
    }

    fn schedule(&self, base: f32, t: u32) -> f32 {
        cyclic!(self).lr(base, t, |t_curr, t_i| {
            let r = (t_curr / t_i) as f32;
            let x = self.lb * (1.0 - r) + self.ub * r;
            // (1 - tanh(x)) / 2 = 1 / (1 + e^(2x)), without the cancellation of 1 - tanh(x).
            1.0 / (1.0 + libm::expf(2.0 * x))
        })
    }
}

impl Kind for TanhLRScheduler {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let w = self.warmup_t;
        let lr = if t < w {
            let target = if self.warmup_prefix {
                base
            } else {
                self.schedule(base, w)
            };
            warmup(self.warmup_lr_init, target, w, t)
        } else {
            self.schedule(base, t)
        };
        Some(finite(Self::K, "cycle_mul", lr).map(|lr| (lr, None)))
    }
}

timm_params! {
/// `timm.scheduler.StepLRScheduler`: `base_lr * decay_rate^floor(t / decay_t)` after the
/// warmup (whose steps, with `warmup_prefix`, its default here, do not count).
pub struct StepLRScheduler {
    /// steps per decay
    ///
    /// f64: timm takes it as a float (`t // decay_t`).
    pub decay_t: f64 => "30",
    /// factor per decay_t steps
    pub decay_rate: f32 = 1.0,
    /// the schedule starts after the warmup
    pub warmup_prefix: bool = true,
}
}

impl StepLRScheduler {
    const K: &'static str = "timm.StepLRScheduler";

    pub(crate) fn validate(&self) -> Result<(), Error> {
        positive(Self::K, "decay_t", self.decay_t)?;
        non_negative(Self::K, "decay_rate", self.decay_rate)?;
        check_common(Self::K, self.warmup_lr_init, self.noise_range_t)
    }
}

impl Kind for StepLRScheduler {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let w = self.warmup_t;
        let lr = if t < w {
            warmup(self.warmup_lr_init, base, w, t)
        } else {
            let t = if self.warmup_prefix { t - w } else { t };
            let decays = libm::floor(f64::from(t) / self.decay_t);
            base * libm::powf(self.decay_rate, decays as f32)
        };
        Some(finite(Self::K, "decay_rate", lr).map(|lr| (lr, None)))
    }
}

timm_params! {
/// `timm.scheduler.MultiStepLRScheduler`: `base_lr * decay_rate^n` after the warmup, with
/// `n = bisect_right(decay_t, t + 1)`: as in timm, each decay takes effect one step before its
/// milestone.
pub struct MultiStepLRScheduler {
    /// steps at which to decay (sorted, as timm bisects them)
    ///
    /// At most [`MAX_DECAY_T`].
    pub decay_t: Vec<u32, MAX_DECAY_T> => "[30, 60]",
    /// factor per milestone
    pub decay_rate: f32 = 1.0,
    /// the schedule starts after the warmup
    pub warmup_prefix: bool = true,
}
}

impl MultiStepLRScheduler {
    const K: &'static str = "timm.MultiStepLRScheduler";

    pub(crate) fn validate(&self) -> Result<(), Error> {
        non_negative(Self::K, "decay_rate", self.decay_rate)?;
        check_common(Self::K, self.warmup_lr_init, self.noise_range_t)
    }
}

/// Python's `bisect.bisect_right(a, x)`, step for step (so that an unsorted list gives what it
/// gives in timm).
fn bisect_right(a: &[u32], x: u64) -> usize {
    let (mut lo, mut hi) = (0, a.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if x < u64::from(a[mid]) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

impl Kind for MultiStepLRScheduler {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let w = self.warmup_t;
        let lr = if t < w {
            warmup(self.warmup_lr_init, base, w, t)
        } else {
            let t = if self.warmup_prefix { t - w } else { t };
            let n = bisect_right(&self.decay_t, u64::from(t) + 1);
            base * libm::powf(self.decay_rate, n as f32)
        };
        Some(Ok((lr, None)))
    }
}

timm_params! {
/// `timm.scheduler.PolyLRScheduler`: in cycle `i` at step `t_curr`, `lr_min + (base_lr *
/// cycle_decay^i - lr_min) * (1 - t_curr^k / t_i^k)^power`; `lr_min` after `cycle_limit` cycles.
pub struct PolyLRScheduler {
    /// first cycle length
    pub t_initial: u32 as AtLeastOne => "100",
    /// power of the polynomial
    pub power: f32 = 0.5,
    /// minimum lr
    pub lr_min: f32 = 0.0,
    /// cycle length multiplier
    pub cycle_mul: f32 = 1.0,
    /// peak decay per cycle
    pub cycle_decay: f32 = 1.0,
    /// number of cycles
    pub cycle_limit: u32 = 1,
    /// the schedule starts after the warmup
    pub warmup_prefix: bool = false,
    /// k-decay exponent
    pub k_decay: f32 = 1.0,
}
}

impl PolyLRScheduler {
    const K: &'static str = "timm.PolyLRScheduler";

    pub(crate) fn validate(&self) -> Result<(), Error> {
        cyclic!(self).check(Self::K)?;
        positive(Self::K, "k_decay", self.k_decay)?;
        check_common(Self::K, self.warmup_lr_init, self.noise_range_t)
    }
}

impl Kind for PolyLRScheduler {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let lr = if t < self.warmup_t {
            warmup(self.warmup_lr_init, base, self.warmup_t, t)
        } else {
            cyclic!(self).lr(base, t, |t_curr, t_i| {
                let (_, rest) = fraction(t_curr, t_i, self.k_decay);
                libm::powf(rest, self.power)
            })
        };
        Some(finite(Self::K, "power", lr).map(|lr| (lr, None)))
    }
}

choice! {
in timm;
/// `WSDLRScheduler.stable_fn`: the lr over the stable phase.
pub enum StableFn {
    /// The base lr.
    Constant = "constant",
    /// `(1 + t / stable_timescale)^-0.5`.
    Rsqrt = "rsqrt",
    /// `(1 + t / stable_timescale)^-stable_power`.
    Power = "power",
}
}

choice! {
in timm;
/// `WSDLRScheduler.decay_fn`, of the decay's fraction `f` done.
pub enum DecayFn {
    /// `1 - f`.
    Linear = "linear",
    /// `1 - sqrt(f)` (Hägele et al. 2024).
    OneMinusSqrt = "1-sqrt",
    /// `(1 + cos(pi f)) / 2`.
    Cosine = "cosine",
    /// `1 - f^decay_power`.
    Power = "power",
    /// `(decay_ratio^f - decay_ratio) / (1 - decay_ratio)`.
    Exp = "exp",
}
}

timm_params! {
/// `timm.scheduler.WSDLRScheduler`: warmup, a stable phase (`stable_fn`), and a decay over the
/// last `decay_t` of the `t_initial` steps after the warmup: with `t_s = t - warmup_t`,
/// `stable = max(base_lr * stable_fn(t_s), lr_min)` and, from `t_s > t_initial - decay_t`,
/// `lr_min + (stable - lr_min) * decay_fn(min((t_s - (t_initial - decay_t)) / decay_t, 1))`.
pub struct WSDLRScheduler {
    /// steps after the warmup
    pub t_initial: u32 as AtLeastOne => "1000",
    /// decay length, in (0, t_initial]
    pub decay_t: u32 as AtLeastOne => "200",
    /// minimum lr
    pub lr_min: f32 = 0.0,
    /// stable phase shape
    pub stable_fn: StableFn = StableFn::Constant,
    /// stable decay timescale (empty: warmup_t)
    pub stable_timescale: Option<f32> = None,
    /// power of the stable decay
    pub stable_power: f32 = 0.5,
    /// decay shape
    pub decay_fn: DecayFn = DecayFn::OneMinusSqrt,
    /// power of the power decay
    pub decay_power: f32 = 0.5,
    /// ratio of the exp decay, in (0, 1)
    pub decay_ratio: f32 = 0.1,
}
}

impl WSDLRScheduler {
    const K: &'static str = "timm.WSDLRScheduler";

    /// `stable_timescale`, or `warmup_t` when it is not given.
    fn timescale(&self) -> f32 {
        self.stable_timescale.unwrap_or(self.warmup_t as f32)
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let k = Self::K;
        at_least_one(k, "t_initial", self.t_initial)?;
        if !(self.decay_t >= 1 && self.decay_t <= self.t_initial) {
            return Err(Error::invalid(k, "decay_t", "must be in (0, t_initial]"));
        }
        non_negative(k, "lr_min", self.lr_min)?;
        if !(self.decay_ratio > 0.0 && self.decay_ratio < 1.0) {
            return Err(Error::invalid(k, "decay_ratio", "must be in (0, 1)"));
        }
        positive(k, "decay_power", self.decay_power)?;
        positive(k, "stable_power", self.stable_power)?;
        if self.stable_fn != StableFn::Constant {
            // A decaying stable_fn divides by it (it defaults to warmup_t).
            positive(k, "stable_timescale", self.timescale())?;
        }
        check_common(k, self.warmup_lr_init, self.noise_range_t)
    }

    fn stable(&self, t_s: u32) -> f32 {
        let power = match self.stable_fn {
            StableFn::Constant => return 1.0,
            StableFn::Rsqrt => 0.5,
            StableFn::Power => self.stable_power,
        };
        libm::powf(1.0 + t_s as f32 / self.timescale(), -power)
    }

    fn decay(&self, done: f32, left: f32) -> f32 {
        match self.decay_fn {
            DecayFn::Linear => left,
            DecayFn::OneMinusSqrt => 1.0 - libm::sqrtf(done),
            DecayFn::Cosine => half_cosine_frac(done, left),
            DecayFn::Power => 1.0 - libm::powf(done, self.decay_power),
            DecayFn::Exp => {
                let r = self.decay_ratio;
                (libm::powf(r, done) - r) / (1.0 - r)
            }
        }
    }
}

impl Kind for WSDLRScheduler {
    fn absolute(&self, base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let w = self.warmup_t;
        if t < w {
            return Some(Ok((warmup(self.warmup_lr_init, base, w, t), None)));
        }
        let t_s = t - w;
        let stable = (base * self.stable(t_s)).max(self.lr_min);
        let start = self.t_initial - self.decay_t;
        if t_s <= start {
            return Some(Ok((stable, None)));
        }
        // The fraction done and left, from integers, capped at 1.
        let d = self.decay_t;
        let into = (t_s - start).min(d);
        let (done, left) = (into as f32 / d as f32, (d - into) as f32 / d as f32);
        let lr = self.lr_min + (stable - self.lr_min) * self.decay(done, left);
        Some(finite(Self::K, "stable_power", lr).map(|lr| (lr, None)))
    }
}
