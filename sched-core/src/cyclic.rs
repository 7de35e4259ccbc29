//! `CyclicLR`: triangular cycles between `base_lr` and `max_lr`, with momentum cycled inversely.

use crate::error::{at_least_one, non_negative, positive, Error};
#[cfg(feature = "expr")]
use crate::expr::Expr;

choice! {
/// `CyclicLR.mode`.
pub enum CyclicMode {
    /// Constant amplitude.
    Triangular = "triangular",
    /// Amplitude halves every cycle.
    Triangular2 = "triangular2",
    /// Amplitude scaled by `gamma ^ iteration`.
    ExpRange = "exp_range",
}
}

choice! {
/// `CyclicLR.scale_mode`: what `scale_fn` is evaluated at.
pub enum ScaleMode {
    /// The cycle number (from 1).
    Cycle = "cycle",
    /// The step.
    Iterations = "iterations",
}
}

/// A `scale_fn` given as a Python lambda body in the variable `x`.
#[cfg(feature = "expr")]
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ScaleFn(pub Expr);

/// A `scale_fn` needs the `expr` feature: without it there is none (`scale_fn` is always
/// `None`).
#[cfg(not(feature = "expr"))]
#[derive(Clone, Debug, PartialEq)]
pub enum ScaleFn {}

#[cfg(all(feature = "defmt", not(feature = "expr")))]
impl defmt::Format for ScaleFn {
    fn format(&self, _: defmt::Formatter) {
        match *self {}
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for ScaleFn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[cfg(feature = "expr")]
        return crate::expr::serialize_expr(&self.0, s);
        #[cfg(not(feature = "expr"))]
        {
            let _ = s;
            match *self {}
        }
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for ScaleFn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[cfg(feature = "expr")]
        return crate::expr::deserialize_expr(d, "x").map(ScaleFn);
        #[cfg(not(feature = "expr"))]
        return crate::de::no_expr(d);
    }
}

params! {
/// `torch.optim.lr_scheduler.CyclicLR` (Smith 2017), with PyTorch's defaults.
///
/// With `total = step_size_up + step_size_down`, `pos = t mod total`, `cycle = t / total + 1`:
/// `scale = pos / up` while rising, `(total - pos) / down` while falling, and
/// `lr = base_lr + (max_lr - base_lr) * scale * scale_fn(cycle or t)`. With `cycle_momentum`
/// (the default) the momentum goes the other way, `max_momentum - (max_momentum -
/// base_momentum) * scale * scale_fn(..)`, as PyTorch does on SGD: it also sets the optimizer's
/// lr to `base_lr` and its momentum to `max_momentum` when built.
pub struct CyclicLR {
    /// lower bound of the cycle
    ///
    /// Lower lr bound (> 0).
    #[per_group = true]
    pub base_lr: f32 => "0.0001",
    /// upper bound of the cycle
    ///
    /// Upper lr bound (>= base_lr).
    #[per_group = true]
    pub max_lr: f32 => "0.001",
    /// steps rising
    ///
    /// Steps from base to max (>= 1; default 2000).
    pub step_size_up: u32 as AtLeastOne = 2000,
    /// steps falling (empty: step_size_up)
    ///
    /// Steps from max back to base (default: `step_size_up`).
    pub step_size_down: Option<u32> = None,
    /// amplitude policy
    ///
    /// Default `triangular`.
    pub mode: CyclicMode = CyclicMode::Triangular,
    /// exp_range decay
    ///
    /// For `exp_range` (> 0; default 1); f64 as in [`crate::ExponentialLR`].
    pub gamma: f64 = 1.0,
    /// custom amplitude, Python lambda body in `x` (overrides mode)
    ///
    /// A custom amplitude scale, a Python lambda body in `x`; overrides `mode`.
    pub scale_fn: Option<ScaleFn> = None,
    /// what scale_fn's x counts
    ///
    /// Used only with `scale_fn` (PyTorch ignores it otherwise); default `cycle`.
    pub scale_mode: ScaleMode = ScaleMode::Cycle,
    /// cycle the momentum inversely
    ///
    /// Cycle the optimizer's momentum (default true).
    pub cycle_momentum: bool = true,
    /// lower momentum bound
    ///
    /// Default 0.8.
    #[per_group = true]
    pub base_momentum: f32 = 0.8,
    /// upper momentum bound
    ///
    /// Default 0.9.
    #[per_group = true]
    pub max_momentum: f32 = 0.9,
}
}

impl CyclicLR {
    /// PyTorch's defaults for everything but the bounds.
    pub fn new(base_lr: f32, max_lr: f32) -> Result<Self, Error> {
        let s = CyclicLR::with_defaults(base_lr, max_lr);
        s.validate()?;
        Ok(s)
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        const K: &str = "CyclicLR";
        positive(K, "base_lr", self.base_lr)?;
        positive(K, "max_lr", self.max_lr)?;
        if self.base_lr > self.max_lr {
            return Err(Error::invalid(K, "base_lr", "must be <= max_lr"));
        }
        at_least_one(K, "step_size_up", self.step_size_up)?;
        if let Some(down) = self.step_size_down {
            at_least_one(K, "step_size_down", down)?;
        }
        positive(K, "gamma", self.gamma)?;
        non_negative(K, "base_momentum", self.base_momentum)?;
        non_negative(K, "max_momentum", self.max_momentum)?;
        if self.cycle_momentum && self.base_momentum > self.max_momentum {
            return Err(Error::invalid(
                K,
                "base_momentum",
                "must be <= max_momentum",
            ));
        }
        Ok(())
    }

    /// `(lr, momentum)` at step `t`; the momentum is `None` without `cycle_momentum`.
    pub(crate) fn at(&self, t: u32) -> (f32, Option<f32>) {
        let up = u64::from(self.step_size_up);
        let down = u64::from(self.step_size_down.unwrap_or(self.step_size_up));
        let total = up + down;
        let pos = u64::from(t) % total;
        let cycle = (u64::from(t) / total + 1) as f32;
        let scale = if pos <= up {
            pos as f32 / up as f32
        } else {
            (total - pos) as f32 / down as f32
        };
        let amplitude = match (&self.scale_fn, self.mode) {
            #[cfg(feature = "expr")]
            (Some(ScaleFn(f)), _) => match self.scale_mode {
                ScaleMode::Cycle => f.eval(f64::from(cycle)) as f32,
                ScaleMode::Iterations => f.eval(f64::from(t)) as f32,
            },
            #[cfg(not(feature = "expr"))]
            (Some(never), _) => match *never {},
            (None, CyclicMode::Triangular) => 1.0,
            (None, CyclicMode::Triangular2) => libm::powf(0.5, cycle - 1.0),
            (None, CyclicMode::ExpRange) => crate::recursive::powi(self.gamma, t),
        };
        let lr = self.base_lr + (self.max_lr - self.base_lr) * scale * amplitude;
        let momentum = self.cycle_momentum.then_some(
            self.max_momentum - (self.max_momentum - self.base_momentum) * scale * amplitude,
        );
        (lr, momentum)
    }
}

impl crate::kind::Kind for CyclicLR {
    fn absolute(&self, _base: f32, t: u32) -> Option<Result<(f32, Option<f32>), Error>> {
        let (lr, momentum) = self.at(t);
        Some(crate::kind::finite("CyclicLR", "scale_fn", lr).map(|lr| (lr, momentum)))
    }
}

impl crate::schema::SchemaType for Option<ScaleFn> {
    const TYPE: crate::schema::ParamType = crate::schema::ParamType::OptExpr;
}

impl crate::schema::Typed<Option<ScaleFn>> {
    pub(crate) const fn value(&self) -> crate::schema::DefaultValue {
        crate::schema::DefaultValue::Null
    }
}
