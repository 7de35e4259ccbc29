//! [sched-core](https://docs.rs/sched-core)'s PyTorch-exact learning-rate schedules in the Rust
//! training frameworks: burn (feature `burn`) and candle (feature `candle`).
//!
//! - [`BurnScheduler`] (`burn`): any sched-core [`Scheduler`](sched_core::Scheduler) as burn's
//!   `LrScheduler`, with burn's convention (`step()` before each iteration returns that
//!   iteration's lr), a record that restores it bit-identically, a [`MetricFeed`] for
//!   `ReduceLROnPlateau` and the momentum (beta1) for custom loops.
//! - [`Scheduled`] (`candle`): any `candle_nn::Optimizer` whose lr the schedule sets before each
//!   step, and AdamW's beta1 where the schedule cycles momentum ([`Momentum`]).
//!
//! Neither panics on a schedule error: burn's `step()` returns the last valid lr and keeps the
//! error, candle's returns it.
//!
//! burn 0.22 and candle-nn 0.11. sched-core's default `expr` feature is on (Python lambda bodies
//! in specs). The `sched_core` re-export is the sched-core these adapters were built with.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "burn")]
mod burn;
#[cfg(feature = "candle")]
mod candle;

#[cfg(feature = "burn")]
pub use burn::{BurnScheduler, MetricFeed};
#[cfg(feature = "candle")]
pub use candle::{Momentum, Scheduled, StepError};
pub use sched_core;

/// The crate README's examples, run as doctests so that they stay true.
#[cfg(all(doctest, feature = "burn", feature = "candle"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
