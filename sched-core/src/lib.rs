//! Every PyTorch learning-rate schedule, `no_std` and allocation-free, in f32 with `libm`,
//! checked step by step against values produced by PyTorch itself.
//!
//! - PyTorch's `torch.optim.lr_scheduler` classes under their own names, with PyTorch's
//!   parameters, defaults and step semantics, including the recursive ones: schedulers chained
//!   on one optimizer compose as in PyTorch, composites nest where PyTorch 2.15 accepts them
//!   ([`ChildSpec`]: two levels deep), and `OneCycleLR` / `CyclicLR` cycle the momentum as they
//!   do on PyTorch's SGD.
//! - Other libraries' schedules under their own names, parameters and step semantics, checked
//!   against values from each library: timm's schedulers in [`timm`] (kind
//!   `"timm.CosineLRScheduler"`, ...), Hugging Face transformers' `get_*_schedule*` functions in
//!   [`transformers`] (`"transformers.get_wsd_schedule"`, ...), optax's `optax.schedules` in
//!   [`optax`] (`"optax.sgdr_schedule"`, ...) and Keras' `keras.optimizers.schedules` in
//!   [`keras`] (`"keras.CosineDecayRestarts"`, ...), and fastai's annealers and `fit_*` schedules
//!   in [`fastai`] (`"fastai.fit_one_cycle"`, ...); each family is a cargo feature.
//!   [`ALIASES`] keeps this crate's earlier names for some of them (`CosineWithWarmupLR`,
//!   `TimmCosineLR`, ...) reading.
//! - Schedules no library has in this form: [`WarmupLR`] and [`SwitchLR`] (the study's "V2"
//!   hand-off between schedulers).
//! - `torch.optim.swa_utils.SWALR` as [`SWALR`], the lr schedule of Stochastic Weight Averaging.
//! - A [`Scheduler`] is a plain value: no heap, `Clone`, serializable with the `serde` feature,
//!   and [`Scheduler::lr_at`] gives any step directly where the math allows.
//!
//! ```
//! use sched_core::{OneCycleLR, Scheduler};
//! // optimizer = SGD(params, lr=0.1); OneCycleLR(optimizer, max_lr=0.1, total_steps=100)
//! let mut s = Scheduler::new(OneCycleLR::new(0.1, 100)?, 0.1, 0.0)?;
//! assert_eq!((s.lr(), s.momentum()), (0.1 / 25.0, 0.95));
//! for _ in 0..29 { s.step()?; }
//! assert_eq!((s.lr(), s.momentum()), (0.1, 0.85));
//! # Ok::<(), sched_core::Error>(())
//! ```
//!
//! Features: `expr` (default: `lr_lambda` and `scale_fn` as Python lambda bodies, [`Expr`];
//! without it they are Rust `fn`s), `serde` (the spec format and state save/restore; the spec's
//! `kind` tag is found by buffering the object, which needs `alloc` while deserializing), `defmt`
//! (`defmt::Format` on the public types).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "serde")]
extern crate alloc;

#[macro_use]
mod macros;

mod aliases;
mod cosine;
mod curve;
mod cyclic;
#[cfg(feature = "serde")]
mod de;
pub mod defaults;
mod error;
#[cfg(feature = "expr")]
mod expr;
#[cfg(feature = "fastai")]
pub mod fastai;
pub mod golden;
mod groups;
#[cfg(feature = "keras")]
pub mod keras;
mod kind;
mod lambda;
mod leaf;
#[cfg(feature = "serde")]
mod literal;
mod lr_find_csv;
mod lr_finder;
mod one_cycle;
#[cfg(feature = "optax")]
pub mod optax;
mod plateau;
mod recursive;
mod scheduler;
pub mod schema;
mod spec;
mod swalr;
#[cfg(feature = "timm")]
pub mod timm;
#[cfg(feature = "transformers")]
pub mod transformers;

pub use aliases::ALIASES;
pub use cosine::{CosineAnnealingLR, CosineAnnealingWarmRestarts};
pub use curve::{Curve, CurveError, Schedule};
pub use cyclic::{CyclicLR, CyclicMode, ScaleFn, ScaleMode};
pub use error::Error;
#[cfg(feature = "expr")]
pub use expr::Expr;
pub use groups::GroupScheduler;
pub use lambda::{LambdaLR, LrLambda};
pub use leaf::ParamGroup;
pub use lr_find_csv::{CsvError, CsvRow, CsvRows};
pub use lr_finder::{LrFinder, Status, Suggested, Suggestion, SweepMode};
pub use one_cycle::{Anneal, OneCycleLR};
pub use plateau::{PlateauMode, ReduceLROnPlateau, ThresholdMode};
pub use recursive::{
    ConstantLR, ExponentialLR, LinearLR, MultiStepLR, MultiplicativeLR, PolynomialLR, StepLR,
    MAX_MILESTONES,
};
pub use scheduler::Scheduler;
pub use spec::{
    ChainedScheduler, ChildSpec, LeafSpec, SequentialLR, Spec, SwitchLR, WarmupLR, WarmupShape,
    MAX_CHILDREN, MAX_LEAVES,
};
pub use swalr::SWALR;
#[cfg(feature = "transformers")]
pub use transformers::WsdShape;

/// The crate README's example, run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
