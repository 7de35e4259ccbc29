//! The spec format: a schedule as data. In JSON (or a TOML table) it is an object whose `kind`
//! is the PyTorch class name and whose other keys are PyTorch's argument names, e.g.
//! `{"kind": "StepLR", "step_size": 2, "gamma": 0.95}`. Omitted arguments take PyTorch's
//! defaults; unknown kinds and keys are errors that list the valid ones.

use crate::cosine::{CosineAnnealingLR, CosineAnnealingWarmRestarts};
use crate::cyclic::CyclicLR;
use crate::error::{at_least_one, Error};
use crate::kind::Kind;
use crate::lambda::LambdaLR;
use crate::modern::{
    CosineWithWarmupLR, InverseSqrtLR, TimmCosineLR, TimmTanhLR, WarmupStableDecayLR,
};
use crate::one_cycle::OneCycleLR;
use crate::plateau::ReduceLROnPlateau;
use crate::recursive::{
    ConstantLR, ExponentialLR, LinearLR, MultiStepLR, MultiplicativeLR, PolynomialLR, StepLR,
};
use crate::swalr::SWALR;
use heapless::Vec;

/// Most children a composite schedule holds. Children live inline (no heap), so this bounds
/// the size of every `Spec` and `Scheduler` (about 3 KB); the study's largest needs 4.
pub const MAX_CHILDREN: usize = 4;

macro_rules! kinds {
    (leaves: $($leaf:ident),* ; composites: $($composite:ident),* $(,)?) => {
        /// Any single (non-composite) schedule: what `SequentialLR`, `ChainedScheduler`,
        /// `SwitchLR` and `WarmupLR` hold as children.
        #[derive(Clone, Debug, PartialEq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize), serde(tag = "kind"))]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[allow(clippy::large_enum_variant, clippy::upper_case_acronyms)]
        pub enum LeafSpec {
            $(
                #[doc = concat!("[`", stringify!($leaf), "`]")]
                $leaf($leaf),
            )*
        }

        /// Any schedule: a leaf, a composite of leaves, or `Fixed` (no scheduler).
        #[derive(Clone, Debug, PartialEq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize), serde(tag = "kind"))]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[allow(clippy::large_enum_variant, clippy::upper_case_acronyms)]
        pub enum Spec {
            $(
                #[doc = concat!("[`", stringify!($leaf), "`]")]
                $leaf($leaf),
            )*
            $(
                #[doc = concat!("[`", stringify!($composite), "`]")]
                $composite($composite),
            )*
            /// No scheduler: the optimizer's lr and momentum never change.
            Fixed,
        }

        /// Each kind's checks and math, in its own file (see `kind.rs`).
        impl LeafSpec {
            /// Checks every parameter.
            pub fn validate(&self) -> Result<(), Error> {
                match self {
                    $(LeafSpec::$leaf(s) => s.validate(),)*
                }
            }

            pub(crate) fn offset(&self) -> Option<f32> {
                match self {
                    $(LeafSpec::$leaf(s) => Kind::offset(s),)*
                }
            }

            pub(crate) fn ratio(&self, from: Option<u32>, to: u32) -> f32 {
                match self {
                    $(LeafSpec::$leaf(s) => Kind::ratio(s, from, to),)*
                }
            }

            pub(crate) fn offset64(&self) -> Option<f64> {
                match self {
                    $(LeafSpec::$leaf(s) => Kind::offset64(s),)*
                }
            }

            pub(crate) fn ratio64(&self, from: Option<u32>, to: u32) -> f64 {
                match self {
                    $(LeafSpec::$leaf(s) => Kind::ratio64(s, from, to),)*
                }
            }

            pub(crate) fn changes_at(&self, t: u32) -> bool {
                match self {
                    $(LeafSpec::$leaf(s) => Kind::changes_at(s, t),)*
                }
            }

            pub(crate) fn absolute(
                &self,
                base: f32,
                t: u32,
            ) -> Option<Result<(f32, Option<f32>), Error>> {
                match self {
                    $(LeafSpec::$leaf(s) => Kind::absolute(s, base, t),)*
                }
            }
        }

        impl LeafSpec {
            /// The PyTorch class name (or this crate's name for the kinds PyTorch lacks).
            pub fn kind(&self) -> &'static str {
                match self {
                    $(LeafSpec::$leaf(_) => stringify!($leaf),)*
                }
            }
        }

        impl Spec {
            /// The `kind` string.
            pub fn kind(&self) -> &'static str {
                match self {
                    Spec::Fixed => "Fixed",
                    $(Spec::$leaf(_) => stringify!($leaf),)*
                    $(Spec::$composite(_) => stringify!($composite),)*
                }
            }

            /// Every `kind`, PyTorch's first.
            pub const KINDS: &'static [&'static str] =
                &[$(stringify!($leaf),)* $(stringify!($composite),)* "Fixed"];

            /// Rust source that builds this spec with sched-core's public types (with the
            /// `serde` feature), for build scripts that read specs on the host and embed them
            /// in a program without serde, as `firmware-example/build.rs` does. The source uses
            /// `?` and calls a `vec` function the including code provides:
            /// `fn vec<T: Clone, const N: usize>(items: &[T]) -> Result<heapless::Vec<T, N>, E>`.
            /// Fails for an `lr_lambda` given as a Rust `fn` (it has no source).
            ///
            /// ```
            /// let spec: sched_core::Spec =
            ///     serde_json::from_str(r#"{"kind": "StepLR", "step_size": 2}"#).unwrap();
            /// let mut code = String::new();
            /// spec.write_rust(&mut code).unwrap();
            /// assert_eq!(code, "sched_core::Spec::from(sched_core::StepLR { step_size: 2, gamma: 0.1, })");
            /// ```
            #[cfg(feature = "serde")]
            pub fn write_rust(&self, out: &mut impl core::fmt::Write) -> core::fmt::Result {
                crate::literal::Literal::write(self, out)
            }

            /// The leaf this spec is, if it is one.
            pub fn as_leaf(&self) -> Option<LeafSpec> {
                match self {
                    $(Spec::$leaf(s) => Some(LeafSpec::$leaf(s.clone())),)*
                    _ => None,
                }
            }
        }

        #[cfg(feature = "serde")]
        impl crate::literal::Literal for LeafSpec {
            fn write(&self, out: &mut dyn core::fmt::Write) -> core::fmt::Result {
                match self {
                    $(LeafSpec::$leaf(s) => {
                        out.write_str("sched_core::LeafSpec::from(")?;
                        crate::literal::Literal::write(s, out)?;
                    })*
                }
                out.write_str(")")
            }
        }

        #[cfg(feature = "serde")]
        impl crate::literal::Literal for Spec {
            fn write(&self, out: &mut dyn core::fmt::Write) -> core::fmt::Result {
                match self {
                    Spec::Fixed => return out.write_str("sched_core::Spec::Fixed"),
                    $(Spec::$leaf(s) => {
                        out.write_str("sched_core::Spec::from(")?;
                        crate::literal::Literal::write(s, out)?;
                    })*
                    $(Spec::$composite(s) => {
                        out.write_str("sched_core::Spec::from(")?;
                        crate::literal::Literal::write(s, out)?;
                    })*
                }
                out.write_str(")")
            }
        }

        /// Reading a spec names the path of a bad value (see `de.rs`).
        #[cfg(feature = "serde")]
        impl crate::de::Tagged for LeafSpec {
            const KINDS: &'static [&'static str] = &[$(stringify!($leaf),)*];
            fn parameters<'de, A: serde::de::MapAccess<'de>>(
                kind: usize,
                map: A,
            ) -> Result<Self, A::Error> {
                let kind = Self::KINDS.get(kind).copied().unwrap_or_default();
                $(if kind == stringify!($leaf) {
                    return crate::de::rest(map).map(LeafSpec::$leaf);
                })*
                Err(serde::de::Error::unknown_variant(kind, Self::KINDS))
            }
        }

        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for LeafSpec {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                crate::de::tagged(d)
            }
        }

        #[cfg(feature = "serde")]
        impl crate::de::Tagged for Spec {
            const KINDS: &'static [&'static str] = Spec::KINDS;
            fn parameters<'de, A: serde::de::MapAccess<'de>>(
                kind: usize,
                map: A,
            ) -> Result<Self, A::Error> {
                let kind = Self::KINDS.get(kind).copied().unwrap_or_default();
                $(if kind == stringify!($leaf) {
                    return crate::de::rest(map).map(Spec::$leaf);
                })*
                $(if kind == stringify!($composite) {
                    return crate::de::rest(map).map(Spec::$composite);
                })*
                crate::de::nothing_more(map).map(|()| Spec::Fixed)
            }
        }

        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for Spec {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                crate::de::tagged(d)
            }
        }

        impl From<LeafSpec> for Spec {
            fn from(leaf: LeafSpec) -> Self {
                match leaf {
                    $(LeafSpec::$leaf(s) => Spec::$leaf(s),)*
                }
            }
        }

        $(
            impl From<$leaf> for LeafSpec {
                fn from(s: $leaf) -> Self {
                    LeafSpec::$leaf(s)
                }
            }
            impl From<$leaf> for Spec {
                fn from(s: $leaf) -> Self {
                    Spec::$leaf(s)
                }
            }
        )*
        $(
            impl From<$composite> for Spec {
                fn from(s: $composite) -> Self {
                    Spec::$composite(s)
                }
            }
        )*
    };
}

kinds!(
    leaves: LambdaLR, MultiplicativeLR, StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR,
        PolynomialLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR,
        ReduceLROnPlateau, SWALR, WarmupStableDecayLR, InverseSqrtLR, TimmCosineLR, TimmTanhLR,
        CosineWithWarmupLR;
    composites: SequentialLR, ChainedScheduler, SwitchLR, WarmupLR,
);

params! {
/// `torch.optim.lr_scheduler.SequentialLR`: child `i` runs from `milestones[i-1]`; at each
/// milestone the next child restarts from its own step 0 (PyTorch's `_update_lr(0)`).
///
/// Built as PyTorch builds it: every child is constructed on the optimizer in order, then the lr
/// is reset to the initial lr and the first child takes its initial step.
pub struct SequentialLR {
    /// 1 to 4 children (ReduceLROnPlateau not allowed, as in PyTorch).
    pub schedulers: Vec<LeafSpec, MAX_CHILDREN>,
    /// `len(schedulers) - 1` strictly increasing steps >= 1.
    pub milestones: Vec<u32, MAX_CHILDREN>,
}
}

params! {
/// `torch.optim.lr_scheduler.ChainedScheduler`: every child steps the same optimizer, in
/// order, at every step; the recursive schedulers compose multiplicatively as in PyTorch.
pub struct ChainedScheduler {
    /// 1 to 4 children (ReduceLROnPlateau not allowed, as in PyTorch).
    pub schedulers: Vec<LeafSpec, MAX_CHILDREN>,
}
}

params! {
/// Several schedulers built up front on one optimizer, only one stepped at a time (not in
/// PyTorch; the study's "Combining Multiple LR Schedulers V2" does this by hand): the `n`-th
/// `step()` (from 1) steps child `i` = number of milestones `<= n`. Unlike `SequentialLR`
/// nothing restarts at a switch: the next child continues from the optimizer's current lr with
/// its own step count, exactly as calling `.step()` on a different PyTorch scheduler does.
pub struct SwitchLR {
    /// 1 to 4 children.
    pub schedulers: Vec<LeafSpec, MAX_CHILDREN>,
    /// `len(schedulers) - 1` strictly increasing step numbers >= 1.
    pub milestones: Vec<u32, MAX_CHILDREN>,
}
}

choice! {
/// Shape of a `WarmupLR` ramp.
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum WarmupShape {
    /// `u`.
    Linear,
    /// `(1 - cos(pi u)) / 2`.
    Cos,
}
}

params! {
/// A warmup in front of any schedule (not in PyTorch): exactly
/// `SequentialLR([LambdaLR(f), schedule], milestones=[warmup_steps])` with
/// `f(t) = start_factor + (1 - start_factor) * w(t / warmup_steps)`, `w` linear or cosine
/// (Goyal et al. 2017; Loshchilov & Hutter's cosine ramp as in optax's `warmup_cosine_decay`).
/// The schedule starts at its own step 0 when the warmup ends.
pub struct WarmupLR {
    /// >= 1.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "crate::de::at_least_one"))]
    pub warmup_steps: u32,
    /// Default `linear`.
    #[cfg_attr(feature = "serde", serde(default = "crate::defaults::f::WARMUP_LR_WARMUP"))]
    pub warmup: WarmupShape,
    /// In [0, 1] (default 0).
    #[cfg_attr(feature = "serde", serde(default = "crate::defaults::f::WARMUP_LR_START_FACTOR"))]
    pub start_factor: f32,
    /// The schedule after the warmup.
    pub schedule: LeafSpec,
}
}

impl WarmupLR {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        at_least_one("WarmupLR", "warmup_steps", self.warmup_steps)?;
        if !(self.start_factor >= 0.0 && self.start_factor <= 1.0) {
            return Err(Error::invalid(
                "WarmupLR",
                "start_factor",
                "must be in [0, 1]",
            ));
        }
        no_plateau("WarmupLR", core::slice::from_ref(&self.schedule))?;
        self.schedule.validate()
    }

    pub(crate) fn factor(&self, t: u32) -> f32 {
        let w = match self.warmup {
            WarmupShape::Linear => t as f32 / self.warmup_steps as f32,
            WarmupShape::Cos => 1.0 - crate::cosine::half_cosine(t, self.warmup_steps),
        };
        self.start_factor + (1.0 - self.start_factor) * w
    }
}

fn no_plateau(kind: &'static str, children: &[LeafSpec]) -> Result<(), Error> {
    if children
        .iter()
        .any(|c| matches!(c, LeafSpec::ReduceLROnPlateau(_)))
    {
        return Err(Error::invalid(
            kind,
            "schedulers",
            "cannot hold ReduceLROnPlateau",
        ));
    }
    Ok(())
}

/// Checks children and `len(children) - 1` strictly increasing milestones >= 1.
pub(crate) fn check_children(
    kind: &'static str,
    children: &[LeafSpec],
    milestones: Option<&[u32]>,
) -> Result<(), Error> {
    if children.is_empty() {
        return Err(Error::invalid(
            kind,
            "schedulers",
            "must hold at least one scheduler",
        ));
    }
    no_plateau(kind, children)?;
    if let Some(milestones) = milestones {
        if milestones.len() + 1 != children.len() {
            return Err(Error::invalid(
                kind,
                "milestones",
                "must have one entry fewer than schedulers",
            ));
        }
        let mut last = 0;
        for &m in milestones {
            if m <= last {
                return Err(Error::invalid(
                    kind,
                    "milestones",
                    "must be strictly increasing and >= 1",
                ));
            }
            last = m;
        }
    }
    children.iter().try_for_each(LeafSpec::validate)
}
