//! The LR range test (fastai's `lr_find`) on a run's model: what `lr-find` runs, and `bench` for a
//! run whose config says `lr = "find"` or `max_lr = "find"`.

use super::batches::Batches;
use crate::config::Run;
use crate::data::Dataset;
use crate::nn::backend::{self, Backend, Target};
use crate::nn::net::Net;
use crate::nn::StepInput;
use crate::optim::{GroupStep, ModelOptimizer, Optimizer, State};
use anyhow::Result;
use sched_core::LrFinder;

/// The longest range test `host-train` runs (`--iters`).
pub const MAX_ITERS: usize = 10_000;

/// The range test as host-train holds it (about 80 KB: boxed).
pub type Finder = LrFinder<MAX_ITERS>;

/// What a range test trains on.
pub struct Setup<'a> {
    pub data: &'a Dataset,
    pub batch_size: usize,
    pub seed: u64,
    pub file_order: bool,
    pub target: &'a Target,
    pub net: &'a Net,
    /// `--init` weights (else the seed's init).
    pub init: Option<&'a [f32]>,
    /// The run's optimizer (fastai runs `lr_find` with the learner's).
    pub optimizer: Optimizer,
}

/// The momentum a run's first step trains at (OneCycleLR's `max_momentum` when it cycles).
pub fn start_momentum(run: &Run) -> Result<f32> {
    Ok(run.scheduler()?.momentum())
}

/// Trains the run's model from its initial weights, one batch per step at the finder's lr, until
/// the finder stops. Returns the raw loss of every step. Writes nothing.
pub fn range_test(setup: &Setup, finder: &mut Finder) -> Result<Vec<f32>> {
    let net = setup.net.clone();
    let params = match setup.init {
        Some(p) => p.to_vec(),
        None => backend::init_params(&net, setup.seed),
    };
    let optimizer = ModelOptimizer::new(setup.optimizer, State::default(), net.param_count());
    let mut models = Backend::new(setup.target, net, vec![params], vec![optimizer])?;
    // The same batches, in the same order, that training with this seed starts with.
    let train = &setup.data.train;
    let mut batches = Batches::new(train, setup.batch_size, setup.seed, setup.file_order);
    let per_epoch = batches.per_epoch();
    let mut raw = Vec::new();
    let momentum = finder.momentum_value().unwrap_or(0.0);
    let mut loss = [0.0f32];
    let at = |lr| {
        vec![vec![GroupStep {
            lr,
            momentum,
            optimizer: setup.optimizer,
        }]]
    };
    models.train_mode(&at(finder.lr()))?;
    for step in 0.. {
        if finder.status().is_done() {
            break;
        }
        let (x, labels) = batches.get((step / per_epoch) as u32, step % per_epoch);
        let steps = at(finder.lr());
        let input = StepInput {
            x,
            labels,
            steps: &steps,
        };
        models.step(input, &mut loss)?;
        raw.push(loss[0]);
        finder.observe(loss[0]);
    }
    Ok(raw)
}
