//! optax's schedules (`optax.schedules`, 0.2.8), each under its function's name: kind
//! `"optax.warmup_cosine_decay_schedule"` is [`WarmupCosineDecaySchedule`], with the function's
//! keyword arguments and defaults.
//!
//! An optax schedule is a pure function of the update count: the lr of optimizer update `t` is
//! `schedule(t)`, an absolute value (the optimizer's lr does not scale it; in a `Scheduler`
//! the base lr is ignored). Each formula is in its kind's doc. A dict argument
//! (`boundaries_and_scales`) is a JSON object whose keys are the steps as strings, as JSON
//! writes a Python dict with integer keys: `{"100": 0.5, "200": 0.1}`.
//!
//! Not here: `join_schedules` with arbitrary children (its two uses inside optax,
//! `warmup_*_schedule` and `sgdr_schedule`, are), `inject_hyperparams` and
//! `inject_stateful_hyperparams` (they schedule an optimizer's hyperparameters, not an lr).

use crate::cosine::half_cosine;
use crate::error::{non_negative, Error};
use crate::kind::{finite, Kind};
use heapless::Vec;

/// Most entries of a `boundaries_and_scales` dict.
pub const MAX_BOUNDARIES: usize = 7;

/// Most restarts of an `sgdr_schedule`.
pub const MAX_RESTARTS: usize = 3;

/// A `boundaries_and_scales` dict: `(step, scale)` pairs, in any order, each step once (a key
/// repeated in JSON keeps its last value, as a Python dict does).
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Boundaries(pub Vec<(u32, f32), MAX_BOUNDARIES>);

impl Boundaries {
    /// The pairs sorted by step (what optax iterates).
    fn sorted(&self) -> Vec<(u32, f32), MAX_BOUNDARIES> {
        let mut v = self.0.clone();
        v.sort_unstable_by_key(|&(step, _)| step);
        v
    }

    /// Sets `step`'s scale, replacing an earlier one (a dict's insertion).
    fn insert(&mut self, step: u32, scale: f32) -> Result<(), (u32, f32)> {
        match self.0.iter_mut().find(|(s, _)| *s == step) {
            Some(entry) => {
                entry.1 = scale;
                Ok(())
            }
            None => self.0.push((step, scale)),
        }
    }

    fn validate(&self, kind: &'static str) -> Result<(), Error> {
        for &(_, scale) in &self.0 {
            non_negative(kind, "boundaries_and_scales", scale)?;
        }
        Ok(())
    }
}

impl crate::schema::SchemaType for Option<Boundaries> {
    const TYPE: crate::schema::ParamType = crate::schema::ParamType::StepMap;
}

impl crate::schema::Typed<Option<Boundaries>> {
    pub(crate) const fn value(&self) -> crate::schema::DefaultValue {
        crate::schema::DefaultValue::Null
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Boundaries {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (step, scale) in &self.0 {
            map.serialize_entry(&alloc::format!("{step}"), scale)?;
        }
        map.end()
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Boundaries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> serde::de::Visitor<'de> for Pairs {
            type Value = Boundaries;
            fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
                f.write_str("an object of steps (as strings) to scales, e.g. {\"100\": 0.5}")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Boundaries, A::Error> {
                use serde::de::Error as _;
                let mut out = Boundaries::default();
                while let Some(key) = map.next_key::<alloc::string::String>()? {
                    let step: u32 = key.parse().map_err(|_| {
                        A::Error::custom(format_args!(
                            "key `{key}` is not a step (a non-negative integer)"
                        ))
                    })?;
                    let scale: f32 = map.next_value()?;
                    out.insert(step, scale).map_err(|_| {
                        A::Error::custom(format_args!("has more than {MAX_BOUNDARIES} entries"))
                    })?;
                }
                Ok(out)
            }
        }
        d.deserialize_map(Pairs)
    }
}

#[cfg(feature = "serde")]
impl crate::literal::Literal for Boundaries {
    fn write(&self, out: &mut dyn core::fmt::Write) -> core::fmt::Result {
        out.write_str("sched_core::optax::Boundaries(")?;
        self.0.write(out)?;
        out.write_str(")")
    }
}

/// `polynomial_schedule`'s formula: from `init` to `end` over `steps` updates starting at
/// `begin`, `(init - end) * (1 - c / steps)^power + end` with `c = clip(t - begin, 0, steps)`;
/// `init` throughout when `steps` is 0.
fn polynomial(init: f32, end: f32, power: f32, steps: u32, begin: u32, t: u32) -> f32 {
    if steps == 0 {
        return init;
    }
    let c = t.saturating_sub(begin).min(steps);
    // 1 - c / steps, formed from integers.
    let frac = (steps - c) as f32 / steps as f32;
    let shape = if power == 1.0 {
        frac
    } else {
        libm::powf(frac, power)
    };
    (init - end) * shape + end
}

/// `exponential_decay`'s formula (see [`ExponentialDecay`]).
fn exponential(e: &ExponentialDecay, t: u32) -> f32 {
    let (steps, rate) = (e.transition_steps, e.decay_rate);
    if steps == 0 || rate == 0.0 || t <= e.transition_begin {
        return e.init_value;
    }
    let d = t - e.transition_begin;
    // rate^(d / steps) as rate^q * rate^(r / steps): the whole periods exactly.
    let (q, r) = (d / steps, d % steps);
    let whole = libm::powf(rate, q as f32);
    let v = if e.staircase || r == 0 {
        e.init_value * whole
    } else {
        e.init_value * whole * libm::powf(rate, r as f32 / steps as f32)
    };
    match e.end_value {
        Some(end) if rate < 1.0 => v.max(end),
        Some(end) => v.min(end),
        None => v,
    }
}

/// `cosine_decay_schedule`'s formula (see [`CosineDecaySchedule`]).
fn cosine_decay(init: f32, decay_steps: u32, alpha: f32, exponent: f32, t: u32) -> f32 {
    let c = t.min(decay_steps);
    let cosine = half_cosine(c, decay_steps);
    let shaped = if exponent == 1.0 {
        cosine
    } else {
        libm::powf(cosine, exponent)
    };
    init * ((1.0 - alpha) * shaped + alpha)
}

choice! {
in optax;
/// `piecewise_interpolate_schedule`'s `interpolate_type`.
pub enum Interpolate {
    /// `start + (end - start) * pct`.
    Linear = "linear",
    /// `end + (start - end) * (1 + cos(pi pct)) / 2`.
    Cosine = "cosine",
}
}

/// `piecewise_interpolate_schedule`'s formula over sorted `(step, scale)` pairs: the values are
/// the running products of `init` and the scales; between two boundaries the value moves from
/// one to the next (`pct = (t - b_i) / max(b_{i+1} - b_i, 1)`), from the last boundary on it
/// is the last value.
fn interpolate(kind: Interpolate, init: f32, pairs: &[(u32, f32)], t: u32) -> f32 {
    let (mut start, mut bound) = (init, 0u32);
    for &(next_bound, scale) in pairs {
        let end = start * scale;
        if t >= bound && t < next_bound {
            let (k, size) = (t - bound, (next_bound - bound).max(1));
            return match kind {
                Interpolate::Linear => (end - start) * (k as f32 / size as f32) + start,
                Interpolate::Cosine => end + (start - end) * half_cosine(k, size),
            };
        }
        (start, bound) = (end, next_bound);
    }
    start
}

/// `int(pct * steps)` as Python computes it (f64 product, truncated).
fn at_fraction(pct: f64, steps: u32) -> u32 {
    (pct * f64::from(steps)) as u32
}

/// The one-cycle schedules' dict `{int(pct_start*T): a, ..., T: z}`, as the dict literal builds
/// it (a repeated key keeps its place and takes the later value), sorted.
fn one_cycle(pairs: &[(u32, f32)]) -> Vec<(u32, f32), 3> {
    let mut b = Boundaries::default();
    for &(step, scale) in pairs {
        let _ = b.insert(step, scale);
    }
    let mut out = Vec::new();
    for p in b.sorted() {
        let _ = out.push(p);
    }
    out
}

params! {
in optax;
/// `optax.constant_schedule`: `value` at every step.
pub struct ConstantSchedule {
    /// the value
    pub value: f32 => "0.01",
}
}

impl ConstantSchedule {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        non_negative("optax.constant_schedule", "value", self.value)
    }
}

impl Kind for ConstantSchedule {
    fn absolute(&self, _base: f32, _t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        Some(Ok((self.value, None)))
    }
}

params! {
in optax;
/// `optax.polynomial_schedule`: `(init_value - end_value) * (1 - c / transition_steps)^power +
/// end_value` with `c = clip(t - transition_begin, 0, transition_steps)`; `init_value`
/// throughout when `transition_steps` is 0.
pub struct PolynomialSchedule {
    /// value at the start
    pub init_value: f32 => "0.01",
    /// value at the end
    pub end_value: f32 => "0.0001",
    /// power of the polynomial
    pub power: f32 => "2.0",
    /// steps of the transition
    pub transition_steps: u32 => "100",
    /// steps before the transition starts
    pub transition_begin: u32 = 0,
}
}

impl PolynomialSchedule {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate_values("optax.polynomial_schedule", self.init_value, self.end_value)
    }
}

impl Kind for PolynomialSchedule {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let v = polynomial(
            self.init_value,
            self.end_value,
            self.power,
            self.transition_steps,
            self.transition_begin,
            t,
        );
        Some(finite("optax.polynomial_schedule", "power", v).map(|v| (v, None)))
    }
}

fn validate_values(kind: &'static str, init: f32, end: f32) -> Result<(), Error> {
    non_negative(kind, "init_value", init)?;
    non_negative(kind, "end_value", end)
}

params! {
in optax;
/// `optax.linear_schedule`: [`PolynomialSchedule`] with `power = 1`.
pub struct LinearSchedule {
    /// value at the start
    pub init_value: f32 => "0.01",
    /// value at the end
    pub end_value: f32 => "0.0001",
    /// steps of the transition
    pub transition_steps: u32 => "100",
    /// steps before the transition starts
    pub transition_begin: u32 = 0,
}
}

impl LinearSchedule {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate_values("optax.linear_schedule", self.init_value, self.end_value)
    }
}

impl Kind for LinearSchedule {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let v = polynomial(
            self.init_value,
            self.end_value,
            1.0,
            self.transition_steps,
            self.transition_begin,
            t,
        );
        Some(Ok((v, None)))
    }
}

params! {
in optax;
/// `optax.piecewise_constant_schedule`: `init_value` times the scale of every boundary `<= t`.
pub struct PiecewiseConstantSchedule {
    /// value before the first boundary
    pub init_value: f32 => "0.01",
    /// {step: scale} (JSON object, steps as strings)
    ///
    /// At most [`MAX_BOUNDARIES`] entries, scales >= 0.
    pub boundaries_and_scales: Option<Boundaries> = None => r#"{"100": 0.5, "200": 0.1}"#,
}
}

impl PiecewiseConstantSchedule {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        const K: &str = "optax.piecewise_constant_schedule";
        non_negative(K, "init_value", self.init_value)?;
        self.boundaries_and_scales
            .as_ref()
            .map_or(Ok(()), |b| b.validate(K))
    }
}

impl Kind for PiecewiseConstantSchedule {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let mut v = self.init_value;
        if let Some(b) = &self.boundaries_and_scales {
            for (step, scale) in b.sorted() {
                if t >= step {
                    v *= scale;
                }
            }
        }
        Some(Ok((v, None)))
    }
}

params! {
in optax;
/// `optax.exponential_decay`: `init_value * decay_rate^(d / transition_steps)` with
/// `d = t - transition_begin` (the exponent floored with `staircase`), `init_value` while
/// `d <= 0`; bounded by `end_value` (below when `decay_rate < 1`, above otherwise) when given;
/// `init_value` throughout when `transition_steps` or `decay_rate` is 0.
pub struct ExponentialDecay {
    /// value at the start
    pub init_value: f32 => "0.01",
    /// steps per decay by decay_rate
    pub transition_steps: u32 => "100",
    /// factor per transition_steps
    pub decay_rate: f32 => "0.5",
    /// steps before the decay starts
    pub transition_begin: u32 = 0,
    /// decay in whole periods
    pub staircase: bool = false,
    /// bound of the decay (empty: none)
    pub end_value: Option<f32> = None,
}
}

impl ExponentialDecay {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        const K: &str = "optax.exponential_decay";
        non_negative(K, "init_value", self.init_value)?;
        non_negative(K, "decay_rate", self.decay_rate)?;
        self.end_value
            .map_or(Ok(()), |v| non_negative(K, "end_value", v))
    }
}

impl Kind for ExponentialDecay {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        Some(
            finite(
                "optax.exponential_decay",
                "decay_rate",
                exponential(self, t),
            )
            .map(|v| (v, None)),
        )
    }
}

params! {
in optax;
/// `optax.cosine_decay_schedule`: `init_value * ((1 - alpha) * c^exponent + alpha)` with
/// `c = (1 + cos(pi * min(t, decay_steps) / decay_steps)) / 2`.
pub struct CosineDecaySchedule {
    /// value at the start
    pub init_value: f32 => "0.01",
    /// steps of the decay
    ///
    /// >= 1.
    pub decay_steps: u32 as AtLeastOne => "100",
    /// final value / init_value
    pub alpha: f32 = 0.0,
    /// power of the cosine
    pub exponent: f32 = 1.0,
}
}

impl CosineDecaySchedule {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        const K: &str = "optax.cosine_decay_schedule";
        non_negative(K, "init_value", self.init_value)?;
        crate::error::at_least_one(K, "decay_steps", self.decay_steps)?;
        non_negative(K, "alpha", self.alpha)?;
        crate::error::positive(K, "exponent", self.exponent)
    }
}

impl Kind for CosineDecaySchedule {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let v = cosine_decay(
            self.init_value,
            self.decay_steps,
            self.alpha,
            self.exponent,
            t,
        );
        Some(Ok((v, None)))
    }
}

params! {
in optax;
/// `optax.piecewise_interpolate_schedule`: the values are `init_value` times the running
/// product of the scales of the sorted boundaries; between boundaries `b_i` and `b_{i+1}` the
/// value moves from value `i` to value `i + 1` (linearly or as a half cosine) with
/// `pct = (t - b_i) / max(b_{i+1} - b_i, 1)`; from the last boundary on, the last value.
pub struct PiecewiseInterpolateSchedule {
    /// linear or cosine
    pub interpolate_type: Interpolate => r#""linear""#,
    /// value at step 0
    pub init_value: f32 => "0.01",
    /// {step: scale} (JSON object, steps as strings)
    ///
    /// At most [`MAX_BOUNDARIES`] entries, scales >= 0.
    pub boundaries_and_scales: Option<Boundaries> = None => r#"{"100": 0.5, "200": 0.1}"#,
}
}

impl PiecewiseInterpolateSchedule {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        const K: &str = "optax.piecewise_interpolate_schedule";
        non_negative(K, "init_value", self.init_value)?;
        self.boundaries_and_scales
            .as_ref()
            .map_or(Ok(()), |b| b.validate(K))
    }
}

impl Kind for PiecewiseInterpolateSchedule {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let pairs = self
            .boundaries_and_scales
            .as_ref()
            .map(Boundaries::sorted)
            .unwrap_or_default();
        Some(Ok((
            interpolate(self.interpolate_type, self.init_value, &pairs, t),
            None,
        )))
    }
}

params! {
in optax;
/// `optax.linear_onecycle_schedule`: [`PiecewiseInterpolateSchedule`] (linear) from
/// `peak_value / div_factor` up to `peak_value` at `int(pct_start * T)`, back down at
/// `int(pct_final * T)`, and to `/ final_div_factor` of that at `T`.
pub struct LinearOnecycleSchedule {
    /// T, the cycle's steps
    ///
    /// >= 1.
    pub transition_steps: u32 as AtLeastOne => "100",
    /// peak value
    pub peak_value: f32 => "0.01",
    /// fraction of the cycle rising
    ///
    /// f64 because optax takes `int(pct_start * T)` in Python floats.
    pub pct_start: f64 = 0.3,
    /// fraction of the cycle at which the fall ends
    pub pct_final: f64 = 0.85,
    /// initial value = peak_value / div_factor
    pub div_factor: f32 = 25.0,
    /// final value = initial value / final_div_factor
    pub final_div_factor: f32 = 1e4,
}
}

impl LinearOnecycleSchedule {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        const K: &str = "optax.linear_onecycle_schedule";
        crate::error::at_least_one(K, "transition_steps", self.transition_steps)?;
        non_negative(K, "peak_value", self.peak_value)?;
        non_negative(K, "pct_start", self.pct_start)?;
        non_negative(K, "pct_final", self.pct_final)?;
        crate::error::positive(K, "div_factor", self.div_factor)?;
        crate::error::positive(K, "final_div_factor", self.final_div_factor)
    }
}

impl Kind for LinearOnecycleSchedule {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let steps = self.transition_steps;
        let pairs = one_cycle(&[
            (at_fraction(self.pct_start, steps), self.div_factor),
            (at_fraction(self.pct_final, steps), 1.0 / self.div_factor),
            (steps, 1.0 / self.final_div_factor),
        ]);
        let init = self.peak_value / self.div_factor;
        Some(Ok((
            interpolate(Interpolate::Linear, init, &pairs, t),
            None,
        )))
    }
}

params! {
in optax;
/// `optax.cosine_onecycle_schedule`: [`PiecewiseInterpolateSchedule`] (cosine) from
/// `peak_value / div_factor` up to `peak_value` at `int(pct_start * T)` and down to
/// `peak_value / (div_factor * final_div_factor)` at `T`.
pub struct CosineOnecycleSchedule {
    /// T, the cycle's steps
    ///
    /// >= 1.
    pub transition_steps: u32 as AtLeastOne => "100",
    /// peak value
    pub peak_value: f32 => "0.01",
    /// fraction of the cycle rising
    ///
    /// f64 because optax takes `int(pct_start * T)` in Python floats.
    pub pct_start: f64 = 0.3,
    /// initial value = peak_value / div_factor
    pub div_factor: f32 = 25.0,
    /// final value = initial value / final_div_factor
    pub final_div_factor: f32 = 1e4,
}
}

impl CosineOnecycleSchedule {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        const K: &str = "optax.cosine_onecycle_schedule";
        crate::error::at_least_one(K, "transition_steps", self.transition_steps)?;
        non_negative(K, "peak_value", self.peak_value)?;
        non_negative(K, "pct_start", self.pct_start)?;
        crate::error::positive(K, "div_factor", self.div_factor)?;
        crate::error::positive(K, "final_div_factor", self.final_div_factor)
    }
}

impl Kind for CosineOnecycleSchedule {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let steps = self.transition_steps;
        let pairs = one_cycle(&[
            (at_fraction(self.pct_start, steps), self.div_factor),
            (steps, 1.0 / (self.div_factor * self.final_div_factor)),
        ]);
        let init = self.peak_value / self.div_factor;
        Some(Ok((
            interpolate(Interpolate::Cosine, init, &pairs, t),
            None,
        )))
    }
}

params! {
in optax;
/// `optax.warmup_constant_schedule`: linear from `init_value` to `peak_value` over
/// `warmup_steps`, then `peak_value`.
pub struct WarmupConstantSchedule {
    /// value at step 0
    pub init_value: f32 => "0.0",
    /// value after the warmup
    pub peak_value: f32 => "0.01",
    /// warmup length
    pub warmup_steps: u32 => "10",
}
}

impl WarmupConstantSchedule {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate_values(
            "optax.warmup_constant_schedule",
            self.init_value,
            self.peak_value,
        )
    }
}

impl Kind for WarmupConstantSchedule {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let v = polynomial(
            self.init_value,
            self.peak_value,
            1.0,
            self.warmup_steps,
            0,
            t,
        );
        Some(Ok((v, None)))
    }
}

params! {
in optax;
/// `optax.warmup_cosine_decay_schedule`: linear from `init_value` to `peak_value` over
/// `warmup_steps`, then [`CosineDecaySchedule`] from `peak_value` to `end_value` over
/// `decay_steps - warmup_steps` (`decay_steps` counts the warmup), with `exponent`.
pub struct WarmupCosineDecaySchedule {
    /// value at step 0
    pub init_value: f32 => "0.0",
    /// value after the warmup
    pub peak_value: f32 => "0.01",
    /// warmup length
    pub warmup_steps: u32 => "10",
    /// steps of warmup and decay together
    ///
    /// > warmup_steps.
    pub decay_steps: u32 => "100",
    /// final value
    pub end_value: f32 = 0.0,
    /// power of the cosine
    pub exponent: f32 = 1.0,
}
}

impl WarmupCosineDecaySchedule {
    const K: &'static str = "optax.warmup_cosine_decay_schedule";

    pub(crate) fn validate(&self) -> Result<(), Error> {
        validate_values(Self::K, self.init_value, self.peak_value)?;
        non_negative(Self::K, "end_value", self.end_value)?;
        crate::error::positive(Self::K, "exponent", self.exponent)?;
        if self.decay_steps <= self.warmup_steps {
            return Err(Error::invalid(
                Self::K,
                "decay_steps",
                "must exceed warmup_steps (optax's cosine part needs positive decay_steps)",
            ));
        }
        Ok(())
    }

    fn value(&self, t: u32) -> f32 {
        let w = self.warmup_steps;
        if t < w {
            return polynomial(self.init_value, self.peak_value, 1.0, w, 0, t);
        }
        let alpha = if self.peak_value == 0.0 {
            0.0
        } else {
            self.end_value / self.peak_value
        };
        cosine_decay(
            self.peak_value,
            self.decay_steps - w,
            alpha,
            self.exponent,
            t - w,
        )
    }
}

impl Kind for WarmupCosineDecaySchedule {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        Some(Ok((self.value(t), None)))
    }
}

params! {
in optax;
/// `optax.warmup_exponential_decay_schedule`: linear from `init_value` to `peak_value` over
/// `warmup_steps`, then [`ExponentialDecay`] from `peak_value`, its steps counted from the
/// warmup's end.
pub struct WarmupExponentialDecaySchedule {
    /// value at step 0
    pub init_value: f32 => "0.0",
    /// value after the warmup
    pub peak_value: f32 => "0.01",
    /// warmup length
    pub warmup_steps: u32 => "10",
    /// steps per decay by decay_rate
    pub transition_steps: u32 => "100",
    /// factor per transition_steps
    pub decay_rate: f32 => "0.5",
    /// steps after the warmup before the decay starts
    pub transition_begin: u32 = 0,
    /// decay in whole periods
    pub staircase: bool = false,
    /// bound of the decay (empty: none)
    pub end_value: Option<f32> = None,
}
}

impl WarmupExponentialDecaySchedule {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        const K: &str = "optax.warmup_exponential_decay_schedule";
        validate_values(K, self.init_value, self.peak_value)?;
        non_negative(K, "decay_rate", self.decay_rate)?;
        self.end_value
            .map_or(Ok(()), |v| non_negative(K, "end_value", v))
    }
}

impl Kind for WarmupExponentialDecaySchedule {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let w = self.warmup_steps;
        let v = if t < w {
            polynomial(self.init_value, self.peak_value, 1.0, w, 0, t)
        } else {
            let decay = ExponentialDecay {
                init_value: self.peak_value,
                transition_steps: self.transition_steps,
                decay_rate: self.decay_rate,
                transition_begin: self.transition_begin,
                staircase: self.staircase,
                end_value: self.end_value,
            };
            exponential(&decay, t - w)
        };
        Some(finite("optax.warmup_exponential_decay_schedule", "decay_rate", v).map(|v| (v, None)))
    }
}

params! {
in optax;
/// `optax.sgdr_schedule` (Loshchilov & Hutter's warm restarts): the
/// [`WarmupCosineDecaySchedule`]s of `cosine_kwargs` one after another, each for its
/// `decay_steps`, each from its own step 0; the last one continues past its end.
pub struct SgdrSchedule {
    /// the restarts: warmup_cosine_decay_schedule arguments (JSON list of objects)
    ///
    /// 1 to [`MAX_RESTARTS`] of them.
    pub cosine_kwargs: Vec<WarmupCosineDecaySchedule, MAX_RESTARTS>
        => r#"[{"init_value":0.0,"peak_value":0.01,"warmup_steps":5,"decay_steps":50},{"init_value":0.0,"peak_value":0.005,"warmup_steps":5,"decay_steps":100}]"#,
}
}

impl SgdrSchedule {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.cosine_kwargs.is_empty() {
            return Err(Error::invalid(
                "optax.sgdr_schedule",
                "cosine_kwargs",
                "must hold at least one schedule",
            ));
        }
        self.cosine_kwargs.iter().try_for_each(|s| s.validate())
    }
}

impl Kind for SgdrSchedule {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let mut start = 0u32;
        let last = self.cosine_kwargs.len().saturating_sub(1);
        for (i, s) in self.cosine_kwargs.iter().enumerate() {
            let end = start.saturating_add(s.decay_steps);
            if t < end || i == last {
                return Some(Ok((s.value(t - start), None)));
            }
            start = end;
        }
        Some(Ok((0.0, None)))
    }
}

impl<const N: usize> crate::schema::SchemaType for Vec<WarmupCosineDecaySchedule, N> {
    const TYPE: crate::schema::ParamType = crate::schema::ParamType::Specs;
}
