//! Keras' schedules (`keras.optimizers.schedules`, 3.15), each under its class name: kind
//! `"keras.CosineDecayRestarts"` is [`CosineDecayRestarts`], with the class's constructor
//! arguments and defaults (its `name` aside).
//!
//! A Keras schedule is a function of the optimizer's iteration count: the lr of optimizer update
//! `t` is `schedule(t)`, an absolute value (in a `Scheduler` the base lr is ignored). Each
//! formula is in its kind's doc.
//!
//! Keras computes its schedules in float32 (even with float64 as `floatx` and JAX's x64 on, it
//! takes pi and the cosine in float32), and so do these kinds, operation for operation in
//! Keras' order: near the end of a cosine, `1 + cos(pi f)` cancels to a few float32 ulps, and a
//! more exact formula would differ from Keras there by more than the golden bar.

use crate::error::{at_least_one, non_negative, Error};
use crate::kind::{finite, Kind};
use core::f32::consts::PI;
use heapless::Vec;

/// Keras' cosine factor in float32: `0.5 * (1 + cos(pi * f))`.
fn keras_cosine(f: f32) -> f32 {
    0.5 * (1.0 + libm::cosf(PI * f))
}

/// Most boundaries of a `PiecewiseConstantDecay` (it holds one value more).
pub const MAX_PIECES: usize = 7;

/// `decay_rate^(t / decay_steps)` as Keras takes it, in float32 (floored with `staircase`).
fn rate_power(rate: f32, t: u32, steps: u32, staircase: bool) -> f32 {
    let p = t as f32 / steps as f32;
    libm::powf(rate, if staircase { libm::floorf(p) } else { p })
}

params! {
in keras;
/// `keras.optimizers.schedules.ExponentialDecay`: `initial_learning_rate * decay_rate^(t /
/// decay_steps)`, the exponent floored with `staircase`.
pub struct ExponentialDecay {
    /// value at step 0
    pub initial_learning_rate: f32 => "0.01",
    /// steps per decay by decay_rate
    ///
    /// >= 1.
    pub decay_steps: u32 as AtLeastOne => "100",
    /// factor per decay_steps
    pub decay_rate: f32 => "0.5",
    /// decay in whole periods
    pub staircase: bool = false,
}
}

impl ExponentialDecay {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        const K: &str = "keras.ExponentialDecay";
        non_negative(K, "initial_learning_rate", self.initial_learning_rate)?;
        at_least_one(K, "decay_steps", self.decay_steps)?;
        non_negative(K, "decay_rate", self.decay_rate)
    }
}

impl Kind for ExponentialDecay {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let v = self.initial_learning_rate
            * rate_power(self.decay_rate, t, self.decay_steps, self.staircase);
        Some(finite("keras.ExponentialDecay", "decay_rate", v).map(|v| (v, None)))
    }
}

params! {
in keras;
/// `keras.optimizers.schedules.PiecewiseConstantDecay`: `values[0]` while `t <= boundaries[0]`,
/// `values[i + 1]` while `boundaries[i] < t <= boundaries[i + 1]`, `values[-1]` after the last
/// boundary. (Keras sums the value of every range `t` falls in, so unsorted boundaries add
/// values up; so does this.)
pub struct PiecewiseConstantDecay {
    /// steps at which the value changes (after the step)
    pub boundaries: Vec<u32, MAX_PIECES> => "[100, 200]",
    /// one more value than boundaries
    pub values: Vec<f32, { MAX_PIECES + 1 }> => "[0.01, 0.005, 0.001]",
}
}

impl PiecewiseConstantDecay {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        const K: &str = "keras.PiecewiseConstantDecay";
        if self.boundaries.is_empty() || self.values.len() != self.boundaries.len() + 1 {
            return Err(Error::invalid(
                K,
                "values",
                "must have one entry more than boundaries, which must not be empty",
            ));
        }
        self.values
            .iter()
            .try_for_each(|&v| non_negative(K, "values", v))
    }
}

impl Kind for PiecewiseConstantDecay {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let (b, v) = (&self.boundaries, &self.values);
        let (Some(&first), Some(&last), Some(&v_first), Some(&v_last)) =
            (b.first(), b.last(), v.first(), v.last())
        else {
            return Some(Err(Error::invalid(
                "keras.PiecewiseConstantDecay",
                "boundaries",
                "must not be empty",
            )));
        };
        let mut sum = 0.0;
        if t <= first {
            sum += v_first;
        }
        if t > last {
            sum += v_last;
        }
        for (i, pair) in b.windows(2).enumerate() {
            if t > pair[0] && t <= pair[1] {
                sum += v.get(i + 1).copied().unwrap_or(0.0);
            }
        }
        Some(Ok((sum, None)))
    }
}

params! {
in keras;
/// `keras.optimizers.schedules.PolynomialDecay`: `(initial_learning_rate -
/// end_learning_rate) * (1 - t / decay_steps)^power + end_learning_rate` with `t` capped at
/// `decay_steps`; with `cycle`, `decay_steps` grows to the first multiple of itself `>= t`
/// instead (so the decay restarts from a lower peak each cycle).
pub struct PolynomialDecay {
    /// value at step 0
    pub initial_learning_rate: f32 => "0.01",
    /// steps of the decay
    ///
    /// >= 1.
    pub decay_steps: u32 as AtLeastOne => "100",
    /// final value
    pub end_learning_rate: f32 = 1e-4,
    /// power of the polynomial
    pub power: f32 = 1.0,
    /// restart the decay every decay_steps
    pub cycle: bool = false,
}
}

impl PolynomialDecay {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        const K: &str = "keras.PolynomialDecay";
        non_negative(K, "initial_learning_rate", self.initial_learning_rate)?;
        at_least_one(K, "decay_steps", self.decay_steps)?;
        non_negative(K, "end_learning_rate", self.end_learning_rate)
    }
}

impl Kind for PolynomialDecay {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let (step, d) = (t as f32, self.decay_steps as f32);
        let (step, span) = if self.cycle {
            // The first multiple of decay_steps >= t (1 at t = 0).
            let multiplier = if t == 0 { 1.0 } else { libm::ceilf(step / d) };
            (step, d * multiplier)
        } else {
            (step.min(d), d)
        };
        let p = step / span;
        let (init, end) = (self.initial_learning_rate, self.end_learning_rate);
        let v = (init - end) * libm::powf(1.0 - p, self.power) + end;
        Some(finite("keras.PolynomialDecay", "power", v).map(|v| (v, None)))
    }
}

params! {
in keras;
/// `keras.optimizers.schedules.InverseTimeDecay`: `initial_learning_rate / (1 + decay_rate * t
/// / decay_steps)`, the quotient floored with `staircase`.
pub struct InverseTimeDecay {
    /// value at step 0
    pub initial_learning_rate: f32 => "0.01",
    /// steps per unit of decay
    ///
    /// >= 1.
    pub decay_steps: u32 as AtLeastOne => "100",
    /// rate of the decay
    pub decay_rate: f32 => "0.5",
    /// decay in whole periods
    pub staircase: bool = false,
}
}

impl InverseTimeDecay {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        const K: &str = "keras.InverseTimeDecay";
        non_negative(K, "initial_learning_rate", self.initial_learning_rate)?;
        at_least_one(K, "decay_steps", self.decay_steps)?;
        non_negative(K, "decay_rate", self.decay_rate)
    }
}

impl Kind for InverseTimeDecay {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let p = t as f32 / self.decay_steps as f32;
        let p = if self.staircase { libm::floorf(p) } else { p };
        let v = self.initial_learning_rate / (1.0 + self.decay_rate * p);
        Some(Ok((v, None)))
    }
}

params! {
in keras;
/// `keras.optimizers.schedules.CosineDecay`: `initial_learning_rate * ((1 - alpha) * (1 +
/// cos(pi * min(t, decay_steps) / decay_steps)) / 2 + alpha)`. With `warmup_target`, first a
/// linear warmup from `initial_learning_rate` to `warmup_target` over `warmup_steps`, then that
/// decay from `warmup_target`, its steps counted from the warmup's end.
pub struct CosineDecay {
    /// value at step 0
    pub initial_learning_rate: f32 => "0.01",
    /// steps of the decay
    ///
    /// >= 1.
    pub decay_steps: u32 as AtLeastOne => "100",
    /// final value / the decay's start
    pub alpha: f32 = 0.0,
    /// value after the warmup (empty: no warmup)
    pub warmup_target: Option<f32> = None,
    /// warmup length
    pub warmup_steps: u32 = 0,
}
}

impl CosineDecay {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        const K: &str = "keras.CosineDecay";
        non_negative(K, "initial_learning_rate", self.initial_learning_rate)?;
        at_least_one(K, "decay_steps", self.decay_steps)?;
        non_negative(K, "alpha", self.alpha)?;
        if let Some(target) = self.warmup_target {
            non_negative(K, "warmup_target", target)?;
        }
        Ok(())
    }

    /// Keras' `_decay_function` at step `t` (a float32 count) from `from`.
    fn decay(&self, from: f32, t: f32) -> f32 {
        let c = keras_cosine(t / self.decay_steps as f32);
        from * ((1.0 - self.alpha) * c + self.alpha)
    }
}

impl Kind for CosineDecay {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let (init, d, step) = (
            self.initial_learning_rate,
            self.decay_steps as f32,
            t as f32,
        );
        let v = match self.warmup_target {
            None => self.decay(init, step.min(d)),
            Some(target) => {
                let w = self.warmup_steps as f32;
                let step = step.min(d + w);
                if step < w {
                    (target - init) * (step / w) + init
                } else {
                    self.decay(target, step - w)
                }
            }
        };
        Some(Ok((v, None)))
    }
}

params! {
in keras;
/// `keras.optimizers.schedules.CosineDecayRestarts` (SGDR): cosine decays from
/// `initial_learning_rate * m_mul^i` to `alpha` times the initial lr over cycle `i`, of
/// `first_decay_steps * t_mul^i` steps: `initial_learning_rate * ((1 - alpha) * m_mul^i * (1 +
/// cos(pi f)) / 2 + alpha)` at fraction `f` of the cycle.
///
/// The cycle is found as Keras finds it, `i = floor(log(1 - f (1 - t_mul)) / log(t_mul))` with
/// `f = t / first_decay_steps`, in float32.
pub struct CosineDecayRestarts {
    /// value at step 0
    pub initial_learning_rate: f32 => "0.01",
    /// first cycle's length
    ///
    /// >= 1.
    pub first_decay_steps: u32 as AtLeastOne => "100",
    /// cycle length multiplier
    pub t_mul: f32 = 2.0,
    /// peak multiplier per cycle
    pub m_mul: f32 = 1.0,
    /// final value / initial_learning_rate
    pub alpha: f32 = 0.0,
}
}

impl CosineDecayRestarts {
    const K: &'static str = "keras.CosineDecayRestarts";

    pub(crate) fn validate(&self) -> Result<(), Error> {
        non_negative(Self::K, "initial_learning_rate", self.initial_learning_rate)?;
        at_least_one(Self::K, "first_decay_steps", self.first_decay_steps)?;
        crate::error::positive(Self::K, "t_mul", self.t_mul)?;
        crate::error::positive(Self::K, "m_mul", self.m_mul)?;
        non_negative(Self::K, "alpha", self.alpha)
    }

    /// `(cycle index, fraction of the cycle done)` at step `t`, in float32 as Keras finds them.
    fn cycle(&self, t: u32) -> (f32, f32) {
        let f = t as f32 / self.first_decay_steps as f32;
        let m = self.t_mul;
        if m == 1.0 {
            let i = libm::floorf(f);
            return (i, f - i);
        }
        let i = libm::floorf(libm::logf(1.0 - f * (1.0 - m)) / libm::logf(m));
        let done = (1.0 - libm::powf(m, i)) / (1.0 - m);
        (i, (f - done) / libm::powf(m, i))
    }
}

impl Kind for CosineDecayRestarts {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let (i, f) = self.cycle(t);
        let cosine = 0.5 * libm::powf(self.m_mul, i) * (1.0 + libm::cosf(PI * f));
        let v = self.initial_learning_rate * ((1.0 - self.alpha) * cosine + self.alpha);
        Some(finite(Self::K, "m_mul", v).map(|v| (v, None)))
    }
}
