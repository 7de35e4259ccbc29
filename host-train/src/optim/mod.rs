//! The optimizers a run trains with, under their references' names, parameters and defaults: one file
//! each, registered in one line of `optimizers!` below.
//!
//! An optimizer is a parameters struct (its reference's keyword arguments, with their defaults) that
//! implements [`Algorithm`]: the rules of its constructor, the scalars of one step (computed once, in
//! f64 where the reference computes a Python float, rounded to f32 where it becomes a tensor scalar),
//! and the element-wise update of one block of parameters. The driver ([`ModelOptimizer::step`]) is
//! shared: it sums each element's gradient chunks in order and runs the blocks on all threads, so an
//! optimizer's results do not depend on the thread count.
//!
//! The lr of every step is sched-core's; so is the momentum slot ([`Algorithm::momentum`]: SGD's
//! `momentum`, Adam's `betas[0]`), which OneCycleLR and CyclicLR cycle as PyTorch does.
//!
//! **Adding an optimizer**: a file here with its parameters struct (`Default` = the reference's
//! defaults, `#[serde(default, deny_unknown_fields)]`) and its `impl Algorithm`, and one line in
//! `optimizers!` naming the module, the type and the reference's class name (a run config's `kind`).

use anyhow::{bail, Result};
use rayon::iter::Either;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

mod adam;
mod check;
mod options;
mod schedule_free;

pub use options::Slot;

/// Registers each optimizer: its module, its parameters type and its `kind` (the reference's class
/// name). Makes the [`Optimizer`] enum a run config names them by, and [`KINDS`].
macro_rules! optimizers {
    ($($module:ident :: $ty:ident = $kind:literal,)*) => {
        $(mod $module; pub use $module::$ty;)*

        /// A run's optimizer (its config's `optimizer = { kind = "...", ... }`).
        #[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "kind")]
        pub enum Optimizer {
            $(#[serde(rename = $kind)] $ty($ty),)*
        }

        /// The `kind` names, in registration order (for errors).
        pub const KINDS: &[&str] = &[$($kind),*];

        impl Optimizer {
            /// The optimizer behind the config, as the driver calls it.
            fn algorithm(&self) -> &dyn Dyn {
                match self {
                    $(Optimizer::$ty(o) => o,)*
                }
            }

            /// The reference's name, e.g. `AdamW`.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Optimizer::$ty(_) => $kind,)*
                }
            }
        }
    };
}

optimizers! {
    sgd::Sgd = "SGD",
    adamw::AdamW = "AdamW",
    sgd_schedule_free::SgdScheduleFree = "SGDScheduleFree",
    adamw_schedule_free::AdamWScheduleFree = "AdamWScheduleFree",
    rmsprop::RmsProp = "RMSprop",
    radam::RAdam = "RAdam",
}

/// What an optimizer is: the rules of its parameters, its per-step scalars and its element-wise
/// update. The driver ([`ModelOptimizer`]) calls it; one implementation per file of this module.
pub trait Algorithm: Copy + Send + Sync + 'static {
    /// Its per-parameter buffers by slot, under the reference's `state` names (checkpoints store
    /// them as `<name>.<parameter>`). At most [`MAX_BUFFERS`].
    const BUFFERS: &'static [&'static str];
    /// Schedule-Free: it keeps the average `x` apart from the point `y` gradients are taken at;
    /// evaluation and checkpoints use `x` ([`Algorithm::set_mode`]).
    const SCHEDULE_FREE: bool = false;
    /// The optimizer it makes schedule-free (`SGD`, `AdamW`), for the report's reference run; `None`
    /// for one that is its own base.
    const BASE_KIND: Option<&'static str> = None;

    /// One step's scalars, computed before the element-wise loop.
    type Step: Sync;

    /// The reference constructor's rules, plus finiteness; errors name `optimizer.<field>`.
    fn check(&self) -> Result<()>;

    /// The value a schedule's momentum cycling drives, as configured (PyTorch's `momentum`, or
    /// `betas[0]` of an optimizer with `betas`).
    fn momentum(&self) -> f32;

    /// The step's scalars at the schedule's `lr` and momentum slot `m`; creates the buffers the
    /// reference would create now (`p`: the parameters before the step).
    fn begin_step(&self, state: &mut State, p: &[f32], lr: f32, m: f32) -> Self::Step;

    /// The update of one block: parameters `p`, their gradient `g`, the buffers' same elements by slot.
    fn update(step: &Self::Step, buffers: BlockBuffers, p: &mut [f32], g: &[f32]);

    /// `optimizer.train()` (`train`) or `optimizer.eval()`: only Schedule-Free's move the parameters.
    fn set_mode(&self, _state: &mut State, _p: &mut [f32], _m: f32, _train: bool) {}
}

/// [`Algorithm`] without its associated types, for the registered enum's dispatch.
trait Dyn: Sync {
    fn check(&self) -> Result<()>;
    fn momentum(&self) -> f32;
    fn buffer_names(&self) -> &'static [&'static str];
    fn schedule_free(&self) -> bool;
    fn base_kind(&self) -> Option<&'static str>;
    fn step(&self, state: &mut State, p: &mut [f32], parts: Parts, lr: f32, m: f32);
    fn set_mode(&self, state: &mut State, p: &mut [f32], m: f32, train: bool);
}

impl<A: Algorithm> Dyn for A {
    fn check(&self) -> Result<()> {
        Algorithm::check(self)
    }
    fn momentum(&self) -> f32 {
        Algorithm::momentum(self)
    }
    fn buffer_names(&self) -> &'static [&'static str] {
        A::BUFFERS
    }
    fn schedule_free(&self) -> bool {
        A::SCHEDULE_FREE
    }
    fn base_kind(&self) -> Option<&'static str> {
        A::BASE_KIND
    }
    fn step(&self, state: &mut State, p: &mut [f32], parts: Parts, lr: f32, m: f32) {
        let step = self.begin_step(state, p, lr, m);
        drive::<A>(&step, &mut state.buffers, p, parts);
        state.scalars.step += 1;
    }
    fn set_mode(&self, state: &mut State, p: &mut [f32], m: f32, train: bool) {
        Algorithm::set_mode(self, state, p, m, train);
        state.scalars.train_mode = train;
    }
}

impl Default for Optimizer {
    /// Plain SGD.
    fn default() -> Self {
        Optimizer::Sgd(Sgd::default())
    }
}

impl Optimizer {
    /// `torch.optim.SGD` with this momentum and its other defaults (what a run's `momentum`, or no
    /// optimizer at all, means).
    pub fn sgd(momentum: f32) -> Self {
        Optimizer::Sgd(Sgd {
            momentum,
            ..Sgd::default()
        })
    }

    /// Parses a run's `optimizer` table; errors are one line naming the field and the valid names.
    pub fn from_toml(value: toml::Value) -> Result<Self> {
        let kind = value
            .get("kind")
            .and_then(|k| k.as_str())
            .map(str::to_owned);
        match kind.as_deref() {
            None => bail!(
                "`optimizer.kind` is missing; expected one of {}",
                KINDS.join(", ")
            ),
            Some(k) if !KINDS.contains(&k) => bail!(
                "`optimizer.kind` = \"{k}\": unknown optimizer; expected one of {}",
                KINDS.join(", ")
            ),
            Some(k) => {
                let opt: Optimizer = value.try_into().map_err(|e: toml::de::Error| {
                    anyhow::anyhow!("`optimizer` ({k}): {}", e.message().trim())
                })?;
                opt.check()?;
                Ok(opt)
            }
        }
    }

    /// The rules of the reference's constructor, plus finiteness.
    pub fn check(&self) -> Result<()> {
        self.algorithm().check()
    }

    /// The optimizer a Schedule-Free one makes schedule-free (`SGD`, `AdamW`); the others' own kind.
    pub fn base_kind(&self) -> &'static str {
        self.algorithm().base_kind().unwrap_or(self.kind())
    }

    /// The value a schedule's momentum cycling drives (PyTorch's `momentum`, or `betas[0]` of an
    /// optimizer with `betas`), as configured.
    pub fn momentum(&self) -> f32 {
        self.algorithm().momentum()
    }

    /// Whether it keeps an average `x` apart from the point `y` gradients are taken at (Schedule-Free):
    /// evaluation and checkpoints use `x`.
    pub fn is_schedule_free(&self) -> bool {
        self.algorithm().schedule_free()
    }

    /// Its per-parameter buffers by slot, under the reference's `state` names.
    pub fn buffer_names(&self) -> &'static [&'static str] {
        self.algorithm().buffer_names()
    }
}

/// The most per-parameter buffers one optimizer keeps.
pub const MAX_BUFFERS: usize = 3;

/// An optimizer's flat buffers over all of a model's parameters, by its [`Algorithm::BUFFERS`] slot;
/// `None` until the reference would create it.
pub type Buffers = [Option<Vec<f32>>; MAX_BUFFERS];

/// One block's slices of the buffers, by slot.
pub type BlockBuffers<'a> = [Option<&'a mut [f32]>; MAX_BUFFERS];

/// One model's optimizer state: its buffers and its scalars.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    pub scalars: Scalars,
    pub buffers: Buffers,
}

/// The optimizer state that is not per parameter (kept in a checkpoint's state.json).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scalars {
    /// Steps taken (PyTorch's `step`, schedulefree's `k`).
    pub step: u64,
    /// Schedule-Free: the sum of the averaging weights, and the largest lr so far (-1 before the first step).
    pub weight_sum: f64,
    pub lr_max: f64,
    /// Schedule-Free: whether the parameters hold `y` (train mode) or `x` (eval mode).
    pub train_mode: bool,
}

impl Default for Scalars {
    fn default() -> Self {
        Self {
            step: 0,
            weight_sum: 0.0,
            lr_max: -1.0,
            train_mode: false,
        }
    }
}

impl State {
    /// Buffer `slot`, created by `init` if it does not exist yet.
    pub fn buffer(&mut self, slot: usize, init: impl FnOnce() -> Vec<f32>) -> &mut Vec<f32> {
        self.buffers[slot].get_or_insert_with(init)
    }

    /// The buffers that exist, under the names of `optimizer`'s slots.
    pub fn named_buffers<'a>(
        &'a self,
        optimizer: &Optimizer,
    ) -> impl Iterator<Item = (&'static str, &'a [f32])> {
        optimizer
            .buffer_names()
            .iter()
            .zip(&self.buffers)
            .filter_map(|(name, b)| b.as_deref().map(|b| (*name, b)))
    }
}

/// `torch.lerp` on one element: `a + w (b - a)` for |w| < 0.5, else `b - (b - a)(1 - w)`.
#[inline(always)]
pub(crate) fn lerp(a: f32, b: f32, w: f32) -> f32 {
    if w.abs() < 0.5 {
        a + w * (b - a)
    } else {
        b - (b - a) * (1.0 - w)
    }
}

/// Elements per block: the sum of a block's gradient chunks stays in cache while it is applied.
const BLOCK: usize = 1024;

/// A buffer of `n` elements cut into the blocks of [`drive`], or `None` for every block where the
/// buffer does not exist (yet).
fn buffer_blocks(
    b: Option<&mut [f32]>,
    n: usize,
) -> impl IndexedParallelIterator<Item = Option<&mut [f32]>> {
    match b {
        Some(b) => {
            assert_eq!(b.len(), n, "a buffer is as long as the parameters");
            Either::Left(b.par_chunks_mut(BLOCK).map(Some))
        }
        None => Either::Right((0..n.div_ceil(BLOCK)).into_par_iter().map(|_| None)),
    }
}

/// A gradient as the chunks the trainer summed it in: chunk `c` of element `i` of the parameters
/// stepped is `all[c * stride + offset + i]` (a param group's elements start at `offset` of a
/// model's `stride`).
#[derive(Clone, Copy)]
pub(crate) struct Parts<'a> {
    all: &'a [f32],
    stride: usize,
    offset: usize,
}

/// The element-wise part of a step: the gradient of every block is the sum, in order, of its
/// chunks in `parts`, and `A::update` applies it.
fn drive<A: Algorithm>(step: &A::Step, buffers: &mut Buffers, p: &mut [f32], parts: Parts) {
    let n = p.len();
    let Parts {
        all,
        stride,
        offset,
    } = parts;
    let chunks = all.len() / stride.max(1);
    // The blocks on all threads (summing the chunks is most of a step's time when few models
    // train): each element's chunks are still summed in order. Every buffer is cut into the same
    // blocks as the parameters, without a per-step allocation.
    let [b0, b1, b2] = buffers
        .each_mut()
        .map(|b| buffer_blocks(b.as_deref_mut(), n));
    (p.par_chunks_mut(BLOCK), b0, b1, b2)
        .into_par_iter()
        .enumerate()
        .for_each(|(i, (p, b0, b1, b2))| {
            let (start, end) = (offset + i * BLOCK, offset + i * BLOCK + p.len());
            let mut g = [0f32; BLOCK];
            let g = &mut g[..end - start];
            g.copy_from_slice(&all[start..end]);
            for c in 1..chunks {
                for (a, b) in g.iter_mut().zip(&all[c * stride + start..c * stride + end]) {
                    *a += b;
                }
            }
            A::update(step, [b0, b1, b2], p, g);
        });
}

/// What the schedules set for one param group's next step: its lr, its momentum slot, and its
/// optimizer with the scheduled hyperparameters in place (`weight_decay`, `betas`, ...).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GroupStep {
    pub lr: f32,
    pub momentum: f32,
    pub optimizer: Optimizer,
}

/// One param group of a model's optimizer: the elements of the flat parameter vector it holds
/// (whole parameters, consecutive) and its state. Its configuration comes with each step
/// ([`GroupStep::optimizer`]).
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerGroup {
    pub params: std::ops::Range<usize>,
    pub state: State,
}

/// One model's optimizer: its kind and its param groups (PyTorch's `param_groups`), each with its
/// own state. A model without groups has one group of every parameter.
#[derive(Clone, Debug)]
pub struct ModelOptimizer {
    /// The run's optimizer (every group's kind; [`GroupStep`] gives each group's options).
    pub config: Optimizer,
    pub groups: Vec<OptimizerGroup>,
}

impl ModelOptimizer {
    /// One group of all `params` parameters, in `state`.
    pub fn new(config: Optimizer, state: State, params: usize) -> Self {
        Self::grouped(
            config,
            vec![OptimizerGroup {
                params: 0..params,
                state,
            }],
        )
    }

    /// Param groups that cover the parameters in order.
    pub fn grouped(config: Optimizer, groups: Vec<OptimizerGroup>) -> Self {
        Self { config, groups }
    }

    /// One step of the optimizer on the flat parameters `p`, whose gradient is the sum, in order, of
    /// the chunks of `parts` (each `p.len()` long), each group `g` as `steps[g]` says.
    pub fn step(&mut self, p: &mut [f32], parts: &[f32], steps: &[GroupStep]) {
        let stride = p.len();
        for (group, s) in self.groups.iter_mut().zip(steps) {
            let parts = Parts {
                all: parts,
                stride,
                offset: group.params.start,
            };
            let p = &mut p[group.params.clone()];
            s.optimizer
                .algorithm()
                .step(&mut group.state, p, parts, s.lr, s.momentum);
        }
    }

    /// Schedule-Free's `optimizer.train()` (`train`: the parameters become `y`, where gradients are
    /// taken) or `optimizer.eval()` (the parameters become the average `x`), each group at its
    /// momentum slot in `steps`; the other optimizers have no modes.
    pub fn set_mode(&mut self, p: &mut [f32], steps: &[GroupStep], train: bool) {
        for (group, s) in self.groups.iter_mut().zip(steps) {
            let p = &mut p[group.params.clone()];
            s.optimizer
                .algorithm()
                .set_mode(&mut group.state, p, s.momentum, train);
        }
    }
}

#[cfg(test)]
mod tests;
