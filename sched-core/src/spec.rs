//! The spec format: a schedule as data. In JSON (or a TOML table) it is an object whose `kind`
//! is the PyTorch class name and whose other keys are PyTorch's argument names, e.g.
//! `{"kind": "StepLR", "step_size": 2, "gamma": 0.95}`. Omitted arguments take PyTorch's
//! defaults; unknown kinds and keys are errors that list the valid ones.

use crate::cosine::{CosineAnnealingLR, CosineAnnealingWarmRestarts};
use crate::cyclic::CyclicLR;
use crate::error::{at_least_one, Error};
#[cfg(feature = "fastai")]
use crate::fastai;
#[cfg(feature = "keras")]
use crate::keras;
use crate::kind::Kind;
use crate::lambda::LambdaLR;
use crate::one_cycle::OneCycleLR;
#[cfg(feature = "optax")]
use crate::optax;
use crate::plateau::ReduceLROnPlateau;
use crate::recursive::{
    ConstantLR, ExponentialLR, LinearLR, MultiStepLR, MultiplicativeLR, PolynomialLR, StepLR,
};
use crate::swalr::SWALR;
#[cfg(feature = "timm")]
use crate::timm;
#[cfg(feature = "transformers")]
use crate::transformers;
use heapless::Vec;

/// Most children a composite schedule holds. Children live inline (no heap), so this and
/// [`MAX_LEAVES`] bound the size of every `Spec` and `Scheduler`; the study's largest needs 4.
pub const MAX_CHILDREN: usize = 4;

/// Most single schedulers in one schedule, counted through nested composites (a `Scheduler`
/// keeps their states in one array of this size).
pub const MAX_LEAVES: usize = 2 * MAX_CHILDREN;

/// A leaf's Rust type: its variant's name, or the type given beside it (a library's kinds live
/// in the library's module, e.g. `transformers::LinearScheduleWithWarmup`).
macro_rules! leaf_type {
    ($leaf:ident) => {
        $leaf
    };
    ($leaf:ident, $ty:ty, $name:literal) => {
        $ty
    };
}

/// A leaf's `kind` string: its variant's name (PyTorch's class), or the library's name given
/// beside it (`"transformers.get_linear_schedule_with_warmup"`).
macro_rules! leaf_name {
    ($leaf:ident) => {
        stringify!($leaf)
    };
    ($leaf:ident, $ty:ty, $name:literal) => {
        $name
    };
}

macro_rules! kinds {
    (
        leaves: $($(#[$lattr:meta])* $leaf:ident $(($lty:ty, $lname:literal))?),* ;
        composites: $($composite:ident),* ;
        nested: $($nested:ident),* $(,)?
    ) => {

        /// Each leaf kind's size, for the test that keeps them within `MultiStepLR`'s.
        #[cfg(test)]
        const LEAF_SIZES: &[(&str, usize)] = &[
            $($(#[$lattr])* (leaf_name!($leaf $(, $lty, $lname)?), core::mem::size_of::<leaf_type!($leaf $(, $lty, $lname)?)>()),)*
        ];

        /// Any single (non-composite) schedule: what `WarmupLR` holds, and what a composite
        /// nested in another holds as children.
        #[derive(Clone, Debug, PartialEq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize), serde(tag = "kind"))]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[allow(clippy::large_enum_variant, clippy::upper_case_acronyms)]
        pub enum LeafSpec {
            $(
                #[doc = concat!("`", leaf_name!($leaf $(, $lty, $lname)?), "`")]
                $(#[$lattr])*
                $(#[cfg_attr(feature = "serde", serde(rename = $lname))])?
                $leaf(leaf_type!($leaf $(, $lty, $lname)?)),
            )*
        }

        /// Any schedule: a leaf, a composite, or `Fixed` (no scheduler).
        #[derive(Clone, Debug, PartialEq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize), serde(tag = "kind"))]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[allow(clippy::large_enum_variant, clippy::upper_case_acronyms)]
        pub enum Spec {
            $(
                #[doc = concat!("`", leaf_name!($leaf $(, $lty, $lname)?), "`")]
                $(#[$lattr])*
                $(#[cfg_attr(feature = "serde", serde(rename = $lname))])?
                $leaf(leaf_type!($leaf $(, $lty, $lname)?)),
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
                    $($(#[$lattr])* LeafSpec::$leaf(s) => s.validate(),)*
                }
            }

            pub(crate) fn offset(&self) -> Option<f32> {
                match self {
                    $($(#[$lattr])* LeafSpec::$leaf(s) => Kind::offset(s),)*
                }
            }

            pub(crate) fn ratio(&self, from: Option<u32>, to: u32) -> f32 {
                match self {
                    $($(#[$lattr])* LeafSpec::$leaf(s) => Kind::ratio(s, from, to),)*
                }
            }

            pub(crate) fn offset64(&self) -> Option<f64> {
                match self {
                    $($(#[$lattr])* LeafSpec::$leaf(s) => Kind::offset64(s),)*
                }
            }

            pub(crate) fn ratio64(&self, from: Option<u32>, to: u32) -> f64 {
                match self {
                    $($(#[$lattr])* LeafSpec::$leaf(s) => Kind::ratio64(s, from, to),)*
                }
            }

            pub(crate) fn ratio_before_first(&self) -> f32 {
                match self {
                    $($(#[$lattr])* LeafSpec::$leaf(s) => Kind::ratio_before_first(s),)*
                }
            }

            pub(crate) fn changes_at(&self, t: u32) -> bool {
                match self {
                    $($(#[$lattr])* LeafSpec::$leaf(s) => Kind::changes_at(s, t),)*
                }
            }

            pub(crate) fn horizon_mut(&mut self) -> Option<&mut Option<u32>> {
                match self {
                    $($(#[$lattr])* LeafSpec::$leaf(s) => Kind::horizon_mut(s),)*
                }
            }

            pub(crate) fn absolute(
                &self,
                base: f32,
                t: u32,
            ) -> Option<Result<(f32, Option<f32>), Error>> {
                match self {
                    $($(#[$lattr])* LeafSpec::$leaf(s) => Kind::absolute(s, base, t),)*
                }
            }
        }

        impl LeafSpec {
            /// The PyTorch class name (or this crate's name for the kinds PyTorch lacks).
            pub fn kind(&self) -> &'static str {
                match self {
                    $($(#[$lattr])* LeafSpec::$leaf(_) => leaf_name!($leaf $(, $lty, $lname)?),)*
                }
            }
        }

        impl Spec {
            /// The `kind` string.
            pub fn kind(&self) -> &'static str {
                match self {
                    Spec::Fixed => "Fixed",
                    $($(#[$lattr])* Spec::$leaf(_) => leaf_name!($leaf $(, $lty, $lname)?),)*
                    $(Spec::$composite(_) => stringify!($composite),)*
                }
            }

            /// Every kind's parameters, in [`Spec::KINDS`] order, as each kind's file declares
            /// them: the table the page builds its form from.
            pub const PARAMS: &'static [(&'static str, &'static [crate::schema::Param])] = &[
                $($(#[$lattr])* (leaf_name!($leaf $(, $lty, $lname)?), <leaf_type!($leaf $(, $lty, $lname)?)>::PARAMS),)*
                $((stringify!($composite), <$composite>::PARAMS),)*
                ("Fixed", &[]),
            ];

            /// Every `kind`, PyTorch's first.
            pub const KINDS: &'static [&'static str] =
                &[$($(#[$lattr])* leaf_name!($leaf $(, $lty, $lname)?),)* $(stringify!($composite),)* "Fixed"];

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

            /// A single schedule's `total_steps`, if its kind has one.
            fn leaf_horizon_mut(&mut self) -> Option<&mut Option<u32>> {
                match self {
                    $($(#[$lattr])* Spec::$leaf(s) => Kind::horizon_mut(s),)*
                    _ => None,
                }
            }

            /// The leaf this spec is, if it is one.
            pub fn as_leaf(&self) -> Option<LeafSpec> {
                match self {
                    $($(#[$lattr])* Spec::$leaf(s) => Some(LeafSpec::$leaf(s.clone())),)*
                    _ => None,
                }
            }
        }

        #[cfg(feature = "serde")]
        impl crate::literal::Literal for LeafSpec {
            fn write(&self, out: &mut dyn core::fmt::Write) -> core::fmt::Result {
                match self {
                    $($(#[$lattr])* LeafSpec::$leaf(s) => {
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
                    $($(#[$lattr])* Spec::$leaf(s) => {
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
            const KINDS: &'static [&'static str] = &[$($(#[$lattr])* leaf_name!($leaf $(, $lty, $lname)?),)*];
            const COMPOSITES: &'static [&'static str] = &[$(stringify!($composite),)*];
            fn parameters<'de, A: serde::de::MapAccess<'de>>(
                kind: usize,
                map: A,
            ) -> Result<Self, A::Error> {
                let kind = Self::KINDS.get(kind).copied().unwrap_or_default();
                $($(#[$lattr])* if kind == leaf_name!($leaf $(, $lty, $lname)?) {
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

        /// Reading a spec names the path of a bad value (see `de.rs`).
        #[cfg(feature = "serde")]
        impl crate::de::Tagged for ChildSpec {
            const KINDS: &'static [&'static str] =
                &[$($(#[$lattr])* leaf_name!($leaf $(, $lty, $lname)?),)* $(stringify!($nested),)*];
            fn parameters<'de, A: serde::de::MapAccess<'de>>(
                kind: usize,
                map: A,
            ) -> Result<Self, A::Error> {
                if kind < <LeafSpec as crate::de::Tagged>::KINDS.len() {
                    return <LeafSpec as crate::de::Tagged>::parameters(kind, map)
                        .map(ChildSpec::Leaf);
                }
                let kind = Self::KINDS.get(kind).copied().unwrap_or_default();
                $(if kind == stringify!($nested) {
                    return crate::de::rest(map).map(ChildSpec::$nested);
                })*
                Err(serde::de::Error::unknown_variant(kind, Self::KINDS))
            }
        }

        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for ChildSpec {
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
                $($(#[$lattr])* if kind == leaf_name!($leaf $(, $lty, $lname)?) {
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
                    $($(#[$lattr])* LeafSpec::$leaf(s) => Spec::$leaf(s),)*
                }
            }
        }

        $(
            impl From<$nested<LeafSpec>> for ChildSpec {
                fn from(s: $nested<LeafSpec>) -> Self {
                    ChildSpec::$nested(s)
                }
            }
            /// A composite of single schedulers as a top-level spec.
            impl From<$nested<LeafSpec>> for Spec {
                fn from(s: $nested<LeafSpec>) -> Self {
                    Spec::$nested(s.into())
                }
            }
        )*
        $(
            $(#[$lattr])*
            impl From<leaf_type!($leaf $(, $lty, $lname)?)> for ChildSpec {
                fn from(s: leaf_type!($leaf $(, $lty, $lname)?)) -> Self {
                    ChildSpec::Leaf(LeafSpec::$leaf(s))
                }
            }
            $(#[$lattr])*
            impl From<leaf_type!($leaf $(, $lty, $lname)?)> for LeafSpec {
                fn from(s: leaf_type!($leaf $(, $lty, $lname)?)) -> Self {
                    LeafSpec::$leaf(s)
                }
            }
            $(#[$lattr])*
            impl From<leaf_type!($leaf $(, $lty, $lname)?)> for Spec {
                fn from(s: leaf_type!($leaf $(, $lty, $lname)?)) -> Self {
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
        ReduceLROnPlateau, SWALR,
        #[cfg(feature = "timm")] TimmCosineLRScheduler(timm::CosineLRScheduler, "timm.CosineLRScheduler"),
        #[cfg(feature = "timm")] TimmTanhLRScheduler(timm::TanhLRScheduler, "timm.TanhLRScheduler"),
        #[cfg(feature = "timm")] TimmStepLRScheduler(timm::StepLRScheduler, "timm.StepLRScheduler"),
        #[cfg(feature = "timm")] TimmMultiStepLRScheduler(timm::MultiStepLRScheduler, "timm.MultiStepLRScheduler"),
        #[cfg(feature = "timm")] TimmPolyLRScheduler(timm::PolyLRScheduler, "timm.PolyLRScheduler"),
        #[cfg(feature = "timm")] TimmWSDLRScheduler(timm::WSDLRScheduler, "timm.WSDLRScheduler"),
        #[cfg(feature = "transformers")] TransformersConstantSchedule(transformers::ConstantSchedule,
            "transformers.get_constant_schedule"),
        #[cfg(feature = "transformers")] TransformersConstantScheduleWithWarmup(transformers::ConstantScheduleWithWarmup,
            "transformers.get_constant_schedule_with_warmup"),
        #[cfg(feature = "transformers")] TransformersLinearScheduleWithWarmup(transformers::LinearScheduleWithWarmup,
            "transformers.get_linear_schedule_with_warmup"),
        #[cfg(feature = "transformers")] TransformersCosineScheduleWithWarmup(transformers::CosineScheduleWithWarmup,
            "transformers.get_cosine_schedule_with_warmup"),
        #[cfg(feature = "transformers")] TransformersCosineWithHardRestartsScheduleWithWarmup(
            transformers::CosineWithHardRestartsScheduleWithWarmup,
            "transformers.get_cosine_with_hard_restarts_schedule_with_warmup"),
        #[cfg(feature = "transformers")] TransformersPolynomialDecayScheduleWithWarmup(transformers::PolynomialDecayScheduleWithWarmup,
            "transformers.get_polynomial_decay_schedule_with_warmup"),
        #[cfg(feature = "transformers")] TransformersInverseSqrtSchedule(transformers::InverseSqrtSchedule,
            "transformers.get_inverse_sqrt_schedule"),
        #[cfg(feature = "transformers")] TransformersCosineWithMinLrScheduleWithWarmup(
            transformers::CosineWithMinLrScheduleWithWarmup,
            "transformers.get_cosine_with_min_lr_schedule_with_warmup"),
        #[cfg(feature = "transformers")] TransformersCosineWithMinLrScheduleWithWarmupLrRate(
            transformers::CosineWithMinLrScheduleWithWarmupLrRate,
            "transformers.get_cosine_with_min_lr_schedule_with_warmup_lr_rate"),
        #[cfg(feature = "transformers")] TransformersWsdSchedule(transformers::WsdSchedule, "transformers.get_wsd_schedule"),
        #[cfg(feature = "optax")] OptaxConstantSchedule(optax::ConstantSchedule, "optax.constant_schedule"),
        #[cfg(feature = "optax")] OptaxPolynomialSchedule(optax::PolynomialSchedule, "optax.polynomial_schedule"),
        #[cfg(feature = "optax")] OptaxLinearSchedule(optax::LinearSchedule, "optax.linear_schedule"),
        #[cfg(feature = "optax")] OptaxPiecewiseConstantSchedule(optax::PiecewiseConstantSchedule, "optax.piecewise_constant_schedule"),
        #[cfg(feature = "optax")] OptaxExponentialDecay(optax::ExponentialDecay, "optax.exponential_decay"),
        #[cfg(feature = "optax")] OptaxCosineDecaySchedule(optax::CosineDecaySchedule, "optax.cosine_decay_schedule"),
        #[cfg(feature = "optax")] OptaxPiecewiseInterpolateSchedule(optax::PiecewiseInterpolateSchedule, "optax.piecewise_interpolate_schedule"),
        #[cfg(feature = "optax")] OptaxLinearOnecycleSchedule(optax::LinearOnecycleSchedule, "optax.linear_onecycle_schedule"),
        #[cfg(feature = "optax")] OptaxCosineOnecycleSchedule(optax::CosineOnecycleSchedule, "optax.cosine_onecycle_schedule"),
        #[cfg(feature = "optax")] OptaxWarmupConstantSchedule(optax::WarmupConstantSchedule, "optax.warmup_constant_schedule"),
        #[cfg(feature = "optax")] OptaxWarmupCosineDecaySchedule(optax::WarmupCosineDecaySchedule, "optax.warmup_cosine_decay_schedule"),
        #[cfg(feature = "optax")] OptaxWarmupExponentialDecaySchedule(optax::WarmupExponentialDecaySchedule, "optax.warmup_exponential_decay_schedule"),
        #[cfg(feature = "optax")] OptaxSgdrSchedule(optax::SgdrSchedule, "optax.sgdr_schedule"),
        #[cfg(feature = "keras")] KerasExponentialDecay(keras::ExponentialDecay, "keras.ExponentialDecay"),
        #[cfg(feature = "keras")] KerasPiecewiseConstantDecay(keras::PiecewiseConstantDecay, "keras.PiecewiseConstantDecay"),
        #[cfg(feature = "keras")] KerasPolynomialDecay(keras::PolynomialDecay, "keras.PolynomialDecay"),
        #[cfg(feature = "keras")] KerasInverseTimeDecay(keras::InverseTimeDecay, "keras.InverseTimeDecay"),
        #[cfg(feature = "keras")] KerasCosineDecay(keras::CosineDecay, "keras.CosineDecay"),
        #[cfg(feature = "keras")] KerasCosineDecayRestarts(keras::CosineDecayRestarts, "keras.CosineDecayRestarts"),
        #[cfg(feature = "fastai")] FastaiSchedLin(fastai::SchedLin, "fastai.SchedLin"),
        #[cfg(feature = "fastai")] FastaiSchedCos(fastai::SchedCos, "fastai.SchedCos"),
        #[cfg(feature = "fastai")] FastaiSchedNo(fastai::SchedNo, "fastai.SchedNo"),
        #[cfg(feature = "fastai")] FastaiSchedExp(fastai::SchedExp, "fastai.SchedExp"),
        #[cfg(feature = "fastai")] FastaiSchedPoly(fastai::SchedPoly, "fastai.SchedPoly"),
        #[cfg(feature = "fastai")] FastaiCombineScheds(fastai::CombineScheds, "fastai.combine_scheds"),
        #[cfg(feature = "fastai")] FastaiCombinedCos(fastai::CombinedCos, "fastai.combined_cos"),
        #[cfg(feature = "fastai")] FastaiFitOneCycle(fastai::FitOneCycle, "fastai.fit_one_cycle"),
        #[cfg(feature = "fastai")] FastaiFitFlatCos(fastai::FitFlatCos, "fastai.fit_flat_cos"),
        #[cfg(feature = "fastai")] FastaiFitSgdr(fastai::FitSgdr, "fastai.fit_sgdr");
    composites: SequentialLR, ChainedScheduler, SwitchLR, WarmupLR;
    nested: SequentialLR, ChainedScheduler, SwitchLR,
);

impl crate::schema::SchemaType for LeafSpec {
    const TYPE: crate::schema::ParamType = crate::schema::ParamType::Spec;
}

impl<const N: usize> crate::schema::SchemaType for Vec<LeafSpec, N> {
    const TYPE: crate::schema::ParamType = crate::schema::ParamType::Specs;
}

impl<const N: usize> crate::schema::SchemaType for Vec<ChildSpec, N> {
    const TYPE: crate::schema::ParamType = crate::schema::ParamType::Specs;
}

/// A child of a composite: a single scheduler, or a composite of single schedulers (nesting
/// is two levels deep at most). In JSON it is a spec like any other, tagged by `kind`.
///
/// Where PyTorch 2.15 accepts a composite child, so does sched-core: anywhere in a
/// `ChainedScheduler`, and as the first child of a `SequentialLR` (a later one would be
/// restarted with `_update_lr(0)`, which raises `NotImplementedError` for a composite, so
/// [`Scheduler::new`](crate::Scheduler::new) rejects it naming its path, e.g.
/// `schedulers[1]`). `SwitchLR`, which never restarts a child, takes a composite anywhere, and
/// nests in the others as PyTorch's composites do.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(tag = "kind"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(clippy::large_enum_variant)]
pub enum ChildSpec {
    /// A [`SequentialLR`] of single schedulers.
    SequentialLR(SequentialLR<LeafSpec>),
    /// A [`ChainedScheduler`] of single schedulers.
    ChainedScheduler(ChainedScheduler<LeafSpec>),
    /// A [`SwitchLR`] of single schedulers.
    SwitchLR(SwitchLR<LeafSpec>),
    /// A single scheduler (its own `kind` tags it).
    #[cfg_attr(feature = "serde", serde(untagged))]
    Leaf(LeafSpec),
}

impl From<LeafSpec> for ChildSpec {
    fn from(leaf: LeafSpec) -> Self {
        ChildSpec::Leaf(leaf)
    }
}

impl ChildSpec {
    /// The `kind` string.
    pub fn kind(&self) -> &'static str {
        match self {
            ChildSpec::Leaf(leaf) => leaf.kind(),
            ChildSpec::SequentialLR(_) => "SequentialLR",
            ChildSpec::ChainedScheduler(_) => "ChainedScheduler",
            ChildSpec::SwitchLR(_) => "SwitchLR",
        }
    }
}

/// Sets a `total_steps` left out.
fn fill(horizon: Option<&mut Option<u32>>, n: u32) {
    if let Some(h) = horizon {
        h.get_or_insert(n);
    }
}

impl ChildSpec {
    fn fill_total_steps(&mut self, n: u32) {
        match self {
            ChildSpec::Leaf(leaf) => fill(leaf.horizon_mut(), n),
            ChildSpec::SequentialLR(s) => s
                .schedulers
                .iter_mut()
                .for_each(|l| fill(l.horizon_mut(), n)),
            ChildSpec::ChainedScheduler(s) => s
                .schedulers
                .iter_mut()
                .for_each(|l| fill(l.horizon_mut(), n)),
            ChildSpec::SwitchLR(s) => s
                .schedulers
                .iter_mut()
                .for_each(|l| fill(l.horizon_mut(), n)),
        }
    }
}

impl Spec {
    /// Reads a spec for an optimizer with `groups` param groups: one spec per group. Where
    /// PyTorch takes one value per group (`OneCycleLR`'s and `CyclicLR`'s lrs and momenta,
    /// `ReduceLROnPlateau`'s `min_lr`, `LambdaLR`'s and `MultiplicativeLR`'s `lr_lambda`,
    /// `SWALR`'s `swa_lr`; [`schema::Param::per_group`](crate::schema::Param::per_group)),
    /// the argument may be a list of `groups` values, also inside a composite; a single value
    /// serves every group. Build them with [`GroupScheduler`](crate::GroupScheduler).
    ///
    /// ```
    /// let json = r#"{"kind": "OneCycleLR", "max_lr": [0.1, 0.01], "total_steps": 100}"#;
    /// let specs = sched_core::Spec::for_groups(&mut serde_json::Deserializer::from_str(json), 2)?;
    /// assert_eq!(specs.len(), 2);
    /// let wrong = sched_core::Spec::for_groups(&mut serde_json::Deserializer::from_str(json), 3);
    /// assert_eq!(
    ///     wrong.unwrap_err().to_string(),
    ///     "max_lr: expected 3 values (one per param group), got 2 at line 1 column 65"
    /// );
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    #[cfg(feature = "serde")]
    pub fn for_groups<'de, D: serde::Deserializer<'de>>(
        d: D,
        groups: usize,
    ) -> Result<alloc::vec::Vec<Spec>, D::Error> {
        crate::de::group_specs(d, groups)
    }

    /// The same spec with `total_steps = n` wherever a schedule that is a function of the run's
    /// progress (fastai's, `pos = t / total_steps`) leaves it out, children included: what
    /// `curve` and the page do with their length. Other schedules are unchanged.
    ///
    /// ```
    /// let spec: sched_core::Spec =
    ///     serde_json::from_str(r#"{"kind": "fastai.SchedCos", "start": 0.1, "end": 0.0}"#).unwrap();
    /// assert!(sched_core::Scheduler::from_spec(&spec, 0.1, 0.0).is_err()); // no N
    /// let s = sched_core::Scheduler::from_spec(&spec.with_total_steps(4), 0.1, 0.0).unwrap();
    /// assert!((s.lr_at(2).unwrap() - 0.05).abs() < 1e-8); // halfway through the cosine
    /// ```
    pub fn with_total_steps(mut self, n: u32) -> Self {
        match &mut self {
            Spec::SequentialLR(s) => s.schedulers.iter_mut().for_each(|c| c.fill_total_steps(n)),
            Spec::ChainedScheduler(s) => {
                s.schedulers.iter_mut().for_each(|c| c.fill_total_steps(n))
            }
            Spec::SwitchLR(s) => s.schedulers.iter_mut().for_each(|c| c.fill_total_steps(n)),
            Spec::WarmupLR(w) => fill(w.schedule.horizon_mut(), n),
            leaf => fill(leaf.leaf_horizon_mut(), n),
        }
        self
    }
}

#[cfg(feature = "serde")]
impl crate::literal::Literal for ChildSpec {
    fn write(&self, out: &mut dyn core::fmt::Write) -> core::fmt::Result {
        match self {
            ChildSpec::Leaf(s) => out
                .write_str("sched_core::ChildSpec::Leaf(")
                .and(s.write(out)),
            ChildSpec::SequentialLR(s) => out
                .write_str("sched_core::ChildSpec::SequentialLR(")
                .and(s.write(out)),
            ChildSpec::ChainedScheduler(s) => out
                .write_str("sched_core::ChildSpec::ChainedScheduler(")
                .and(s.write(out)),
            ChildSpec::SwitchLR(s) => out
                .write_str("sched_core::ChildSpec::SwitchLR(")
                .and(s.write(out)),
        }?;
        out.write_str(")")
    }
}

/// The example children the page's form starts a composite with.
const CHILDREN: &str = r#"[{"kind":"LinearLR","start_factor":0.1,"total_iters":5},{"kind":"CosineAnnealingLR","T_max":10}]"#;

/// A composite's parameters (a generic struct: `params!` declares the others). `C` is
/// [`ChildSpec`] for a top-level composite and [`LeafSpec`] for a nested one.
macro_rules! composite {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                #[doc = $help:literal]
                $(#[doc = $doc:literal])*
                pub $field:ident : $ty:ty => $example:expr
            ),* $(,)?
        }
    ) => {
        #[derive(Clone, Debug, PartialEq)]
        #[cfg_attr(
            feature = "serde",
            derive(serde::Serialize, serde::Deserialize),
            serde(deny_unknown_fields)
        )]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        $(#[$meta])*
        pub struct $name<C = ChildSpec> {
            $( #[doc = $help] $(#[doc = $doc])* pub $field: $ty, )*
        }

        impl $name {
            /// The schema's rows for this kind (see `params!`).
            pub const PARAMS: &'static [crate::schema::Param] = {
                type C = ChildSpec;
                &[$( schema_param!($help, stringify!($field), $ty, [], [$example], []), )*]
            };
        }

        #[cfg(feature = "serde")]
        impl<C: crate::literal::Literal> crate::literal::Literal for $name<C> {
            fn write(&self, out: &mut dyn core::fmt::Write) -> core::fmt::Result {
                write_struct_literal!(out, self, $name, $($field),*)
            }
        }

        /// The same composite as a top-level one (its children as [`ChildSpec`]s).
        impl From<$name<LeafSpec>> for $name<ChildSpec> {
            fn from(s: $name<LeafSpec>) -> Self {
                $name {
                    $( $field: composite!(@convert $field s.$field), )*
                }
            }
        }
    };
    (@convert schedulers $v:expr) => {
        $v.into_iter().map(ChildSpec::Leaf).collect()
    };
    (@convert milestones $v:expr) => {
        $v
    };
}

composite! {
/// `torch.optim.lr_scheduler.SequentialLR`: child `i` runs from `milestones[i-1]`; at each
/// milestone the next child restarts from its own step 0 (PyTorch's `_update_lr(0)`).
///
/// Built as PyTorch builds it: every child is constructed on the optimizer in order, then the lr
/// is reset to the initial lr, every single scheduler's step count is decremented (PyTorch's
/// `recursive_undo`) and the first child takes its initial step. A composite first child takes
/// it as one plain `step()`, so its schedulers step from count -1 to 0 outside PyTorch's initial
/// mode (an `ExponentialLR` there multiplies by `gamma`), and a nested `SequentialLR`'s or
/// `SwitchLR`'s own count runs one ahead, exactly as in PyTorch 2.15.
///
/// **`ReduceLROnPlateau` in a composite** (PyTorch refuses it: `SequentialLR`,
/// `ChainedScheduler` and `WarmupLR` step their children without a metric, PyTorch issue
/// #68978): the composite is stepped with `step_with_metric(m)` (a `Scheduler` holding one
/// `needs_metric()`), and `m` goes to every `ReduceLROnPlateau` that steps in that step; the
/// other schedulers ignore it, and a `step()` that would step a `ReduceLROnPlateau` is
/// `Error::MetricRequired`. A `SequentialLR` (or `WarmupLR`) switching to a `ReduceLROnPlateau`
/// restarts it from its own step 0 as it restarts any child: fresh (best metric, counters and
/// cooldown reset) at the initial lr, taking the switching step's metric as its first. In a
/// `ChainedScheduler` it reduces the lr the children before it set, as the recursive kinds
/// compose; in a `SwitchLR` it goes on from the lr the previous child left.
pub struct SequentialLR {
    /// child specs (JSON list), run one after another; the first may be a composite
    ///
    /// 1 to 4 children.
    pub schedulers: Vec<C, MAX_CHILDREN> => CHILDREN,
    /// steps at which the next child starts
    ///
    /// `len(schedulers) - 1` strictly increasing steps >= 1.
    pub milestones: Vec<u32, MAX_CHILDREN> => "[5]",
}
}

composite! {
/// `torch.optim.lr_scheduler.ChainedScheduler`: every child steps the same optimizer, in
/// order, at every step; the recursive schedulers compose multiplicatively as in PyTorch.
pub struct ChainedScheduler {
    /// child specs (JSON list, composites too), all stepped every step
    ///
    /// 1 to 4 children, composites included (a `ReduceLROnPlateau`: see [`SequentialLR`]).
    pub schedulers: Vec<C, MAX_CHILDREN> => CHILDREN,
}
}

composite! {
/// Several schedulers built up front on one optimizer, only one stepped at a time (not in
/// PyTorch; the study's "Combining Multiple LR Schedulers V2" does this by hand): the `n`-th
/// `step()` (from 1) steps child `i` = number of milestones `<= n`. Unlike `SequentialLR`
/// nothing restarts at a switch: the next child continues from the optimizer's current lr with
/// its own step count, exactly as calling `.step()` on a different PyTorch scheduler does.
///
/// Nested, it is a composite as PyTorch's are: stepped whole by a `ChainedScheduler`, and as a
/// `SequentialLR`'s first child undone and stepped once by its constructor (see
/// [`SequentialLR`]); its children may be composites at any position.
pub struct SwitchLR {
    /// child specs (JSON list, composites too), one stepped at a time
    ///
    /// 1 to 4 children, composites included (a `ReduceLROnPlateau`: see [`SequentialLR`]).
    pub schedulers: Vec<C, MAX_CHILDREN> => CHILDREN,
    /// steps at which the next child takes over
    ///
    /// `len(schedulers) - 1` strictly increasing step numbers >= 1.
    pub milestones: Vec<u32, MAX_CHILDREN> => "[5]",
}
}

choice! {
/// Shape of a `WarmupLR` ramp.
pub enum WarmupShape {
    /// `u`.
    Linear = "linear",
    /// `(1 - cos(pi u)) / 2`.
    Cos = "cos",
}
}

params! {
/// A warmup in front of any schedule (not in PyTorch): exactly
/// `SequentialLR([LambdaLR(f), schedule], milestones=[warmup_steps])` with
/// `f(t) = start_factor + (1 - start_factor) * w(t / warmup_steps)`, `w` linear or cosine
/// (Goyal et al. 2017; Loshchilov & Hutter's cosine ramp as in optax's `warmup_cosine_decay`).
/// The schedule starts at its own step 0 when the warmup ends.
pub struct WarmupLR {
    /// warmup length
    ///
    /// >= 1.
    pub warmup_steps: u32 as AtLeastOne => "5",
    /// ramp shape
    ///
    /// Default `linear`.
    pub warmup: WarmupShape = WarmupShape::Linear,
    /// factor at step 0, in [0, 1]
    ///
    /// In [0, 1] (default 0).
    pub start_factor: f32 = 0.0,
    /// the schedule after the warmup (JSON spec)
    ///
    /// The schedule after the warmup.
    pub schedule: LeafSpec => r#"{"kind":"CosineAnnealingLR","T_max":10}"#,
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

/// The composite kinds, as a `Scheduler` keeps them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum Composite {
    Sequential,
    Chained,
    Switch,
}

impl Composite {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Composite::Sequential => "SequentialLR",
            Composite::Chained => "ChainedScheduler",
            Composite::Switch => "SwitchLR",
        }
    }
}

/// A composite's children, top-level or nested (one type, so that building them is one
/// function and not one per child type).
#[derive(Clone, Copy)]
pub(crate) enum Children<'a> {
    Top(&'a [ChildSpec]),
    Nested(&'a [LeafSpec]),
}

impl Spec {
    /// The composite this spec is, if it is one of PyTorch's (or `SwitchLR`): its kind,
    /// children and milestones.
    pub(crate) fn composite(&self) -> Option<(Composite, Children<'_>, &[u32])> {
        Some(match self {
            Spec::SequentialLR(s) => (
                Composite::Sequential,
                Children::Top(&s.schedulers),
                &s.milestones,
            ),
            Spec::ChainedScheduler(s) => (Composite::Chained, Children::Top(&s.schedulers), &[]),
            Spec::SwitchLR(s) => (
                Composite::Switch,
                Children::Top(&s.schedulers),
                &s.milestones,
            ),
            _ => return None,
        })
    }
}

/// One child: a single scheduler, or a composite with its children and milestones.
pub(crate) enum ChildRef<'a> {
    Leaf(&'a LeafSpec),
    Composite(Composite, &'a [LeafSpec], &'a [u32]),
}

impl<'a> Children<'a> {
    pub(crate) fn len(self) -> usize {
        match self {
            Children::Top(c) => c.len(),
            Children::Nested(c) => c.len(),
        }
    }

    /// (Out of line: each composite check and the build call it.)
    #[inline(never)]
    pub(crate) fn get(self, i: usize) -> Option<ChildRef<'a>> {
        Some(match self {
            Children::Nested(c) => ChildRef::Leaf(c.get(i)?),
            Children::Top(c) => match c.get(i)? {
                ChildSpec::Leaf(leaf) => ChildRef::Leaf(leaf),
                ChildSpec::SequentialLR(s) => {
                    ChildRef::Composite(Composite::Sequential, &s.schedulers, &s.milestones)
                }
                ChildSpec::ChainedScheduler(s) => {
                    ChildRef::Composite(Composite::Chained, &s.schedulers, &[])
                }
                ChildSpec::SwitchLR(s) => {
                    ChildRef::Composite(Composite::Switch, &s.schedulers, &s.milestones)
                }
            },
        })
    }
}

/// Checks the number of children and `len(children) - 1` strictly increasing milestones >= 1
/// (the children themselves are checked as they are built).
pub(crate) fn check_children(
    kind: Composite,
    children: Children<'_>,
    milestones: &[u32],
) -> Result<(), Error> {
    let chained = kind == Composite::Chained;
    let sequential = kind == Composite::Sequential;
    let kind = kind.name();
    if children.len() == 0 {
        return Err(Error::invalid(
            kind,
            "schedulers",
            "must hold at least one scheduler",
        ));
    }
    if sequential {
        // PyTorch restarts a later child with `_update_lr(0)`, which raises for a composite.
        const PATHS: [&str; MAX_CHILDREN] = [
            "schedulers[0]",
            "schedulers[1]",
            "schedulers[2]",
            "schedulers[3]",
        ];
        for (i, path) in PATHS.iter().enumerate().skip(1) {
            if let Some(ChildRef::Composite(..)) = children.get(i) {
                return Err(Error::invalid(
                    kind,
                    path,
                    "must be a single scheduler: PyTorch restarts a later child with `_update_lr(0)`, which raises NotImplementedError for a composite; only the first may be one",
                ));
            }
        }
    }
    if !chained {
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
    Ok(())
}

#[cfg(test)]
mod tests {
    /// A `LeafSpec` is as large as its largest kind, and every `Spec` and `Scheduler` holds
    /// several: no kind may be larger than `MultiStepLR` (its 16 milestones), apart from the
    /// kinds that hold an expression (`expr`), so that a new kind grows neither.
    #[test]
    fn no_kind_is_larger_than_multistep() {
        let limit = core::mem::size_of::<crate::MultiStepLR>();
        for &(kind, size) in super::LEAF_SIZES {
            if ["LambdaLR", "MultiplicativeLR", "CyclicLR"].contains(&kind) {
                continue;
            }
            assert!(
                size <= limit,
                "{kind}: {size} B, over MultiStepLR's {limit} B"
            );
        }
    }
}
