//! Fine-tuning a softmax classifier head with SGD + momentum under a sched-core schedule.
//!
//! Arithmetic is f32 with `+ - * /` only (Rust never contracts them into FMAs) plus `libm`'s
//! software `expf`/`logf`, in a fixed order: the Cortex-M4F FPU and x86-64 SSE both round every
//! f32 operation per IEEE 754, so the host and the device produce bit-identical trajectories
//! (the host test and test.sh check the hash the device logs).

use crate::data::{CLASSES, EVAL_X, EVAL_Y, FEATURES, INIT_B, INIT_W, TRAIN_X, TRAIN_Y};
use sched_core::defaults::{LR_FINDER_END_LR, LR_FINDER_NUM_ITER, LR_FINDER_START_LR};
use sched_core::{
    CosineAnnealingLR, Error, LrFinder, OneCycleLR, Scheduler, Status, Suggested, Suggestion,
    WarmupLR, WarmupShape,
};

/// Mini-batch size.
pub const BATCH: usize = 16;
/// Passes over the 512 training images.
pub const EPOCHS: usize = 6;
/// Optimizer steps per epoch.
pub const STEPS_PER_EPOCH: usize = TRAIN_X.len() / BATCH;
/// Optimizer steps in a run.
pub const TOTAL_STEPS: usize = STEPS_PER_EPOCH * EPOCHS;
/// The seed of the batch order (xorshift32), the same for every run.
pub const SEED: u32 = 0x2545_f491;

/// OneCycleLR's hand-chosen `max_lr`.
pub const HAND_LR: f32 = 1.0;

/// The schedules the example fine-tunes with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Plan {
    /// 20 steps linear warmup from 0, then cosine to 0; SGD momentum 0.9, peak lr 0.5.
    WarmupCosine,
    /// OneCycleLR(max_lr = [`HAND_LR`]) over the run, cycling momentum 0.95 -> 0.85 -> 0.95.
    OneCycle,
    /// The same OneCycleLR at the `max_lr` an LR range test suggested ([`range_test`]).
    OneCycleFound(f32),
}

impl Plan {
    /// The hand-tuned ones, in the order the firmware runs them.
    pub const ALL: [Plan; 2] = [Plan::WarmupCosine, Plan::OneCycle];

    /// Short name for logs.
    pub fn name(self) -> &'static str {
        match self {
            Plan::WarmupCosine => "warmup+cosine",
            Plan::OneCycle => "one-cycle",
            Plan::OneCycleFound(_) => "one-cycle@lr-find",
        }
    }

    /// The scheduler, bound to `SGD(lr, momentum)` as PyTorch would build it.
    pub fn scheduler(self) -> Result<Scheduler, Error> {
        const WARMUP: u32 = 20;
        match self {
            Plan::WarmupCosine => Scheduler::new(
                WarmupLR {
                    warmup_steps: WARMUP,
                    warmup: WarmupShape::Linear,
                    start_factor: 0.0,
                    schedule: CosineAnnealingLR::new(TOTAL_STEPS as u32 - WARMUP, 0.0)?.into(),
                },
                0.5,
                0.9,
            ),
            Plan::OneCycle => one_cycle(HAND_LR),
            Plan::OneCycleFound(max_lr) => one_cycle(max_lr),
        }
    }
}

/// `OneCycleLR(SGD(lr=max_lr), max_lr, total_steps)`: cycles SGD's momentum 0.95 -> 0.85 -> 0.95.
fn one_cycle(max_lr: f32) -> Result<Scheduler, Error> {
    Scheduler::new(OneCycleLR::new(max_lr, TOTAL_STEPS as u32)?, max_lr, 0.0)
}

/// The model and the optimizer state: weights, gradient and SGD momentum buffers.
#[derive(Clone)]
pub struct Trainer {
    /// Weights, one row per class.
    pub w: [[f32; FEATURES]; CLASSES],
    /// Biases.
    pub b: [f32; CLASSES],
    grad_w: [[f32; FEATURES]; CLASSES],
    grad_b: [f32; CLASSES],
    buf_w: [[f32; FEATURES]; CLASSES],
    buf_b: [f32; CLASSES],
    /// PyTorch creates the momentum buffer from the first gradient.
    has_buf: bool,
}

impl Default for Trainer {
    fn default() -> Self {
        Self::new()
    }
}

/// The parameter arrays of the model: what a range test changes and must give back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// Weights.
    pub w: [[f32; FEATURES]; CLASSES],
    /// Biases.
    pub b: [f32; CLASSES],
}

/// What a pass over a data set gives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Eval {
    /// Mean cross-entropy.
    pub loss: f32,
    /// Correct predictions.
    pub correct: u32,
    /// Samples.
    pub total: u32,
}

/// One epoch's log line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochLog {
    /// 0 = the starting point, before any step.
    pub epoch: u32,
    /// Mean training loss over the epoch's batches (at the starting point: over the train set).
    pub train_loss: f32,
    /// On the 256 held-out test images.
    pub eval: Eval,
    /// lr and momentum of the epoch's last optimizer step (at the starting point: the first).
    pub lr: f32,
    /// See `lr`.
    pub momentum: f32,
}

/// The result of a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// Held-out evaluation before fine-tuning.
    pub before: Eval,
    /// Held-out evaluation after.
    pub after: Eval,
    /// FNV-1a over the bits of every logged number and the final weights: equal hashes on the
    /// host and the device mean bit-identical trajectories.
    pub hash: u32,
}

fn feature(v: u8) -> f32 {
    f32::from(v) * (1.0 / 255.0)
}

fn fnv(hash: &mut u32, x: f32) {
    for byte in x.to_bits().to_le_bytes() {
        *hash ^= u32::from(byte);
        *hash = hash.wrapping_mul(0x0100_0193);
    }
}

/// Deterministic shuffle (xorshift32, Fisher-Yates), the same on every target.
fn shuffle(order: &mut [u16], seed: &mut u32) {
    for i in (1..order.len()).rev() {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 17;
        *seed ^= *seed << 5;
        order.swap(i, (*seed % (i as u32 + 1)) as usize);
    }
}

impl Trainer {
    /// At the starting point.
    pub const fn new() -> Self {
        Trainer {
            w: INIT_W,
            b: INIT_B,
            grad_w: [[0.0; FEATURES]; CLASSES],
            grad_b: [0.0; CLASSES],
            buf_w: [[0.0; FEATURES]; CLASSES],
            buf_b: [0.0; CLASSES],
            has_buf: false,
        }
    }

    /// A copy of the parameters (2 KB, on the caller's stack).
    pub fn params(&self) -> Params {
        Params {
            w: self.w,
            b: self.b,
        }
    }

    /// Back to `params` with a fresh optimizer (no momentum buffer), by copying the arrays:
    /// bit for bit the state the parameters were taken from, when that had not stepped yet.
    pub fn restore(&mut self, params: &Params) {
        self.w = params.w;
        self.b = params.b;
        self.buf_w = [[0.0; FEATURES]; CLASSES];
        self.buf_b = [0.0; CLASSES];
        self.has_buf = false;
    }

    /// Softmax probabilities into `p`; returns the cross-entropy for `label`.
    fn forward(&self, x: &[u8; FEATURES], label: u8, p: &mut [f32; CLASSES]) -> f32 {
        for (c, out) in p.iter_mut().enumerate() {
            let mut z = self.b[c];
            for (w, &v) in self.w[c].iter().zip(x) {
                z += w * feature(v);
            }
            *out = z;
        }
        let max = p
            .iter()
            .fold(f32::NEG_INFINITY, |m, &z| if z > m { z } else { m });
        let mut sum = 0.0;
        for z in p.iter_mut() {
            *z = libm::expf(*z - max);
            sum += *z;
        }
        let zl = p[label as usize];
        for z in p.iter_mut() {
            *z /= sum;
        }
        // -log softmax = log(sum) - (z_label - max)
        libm::logf(sum) - libm::logf(zl)
    }

    /// Loss and accuracy over a data set.
    pub fn evaluate(&self, xs: &[[u8; FEATURES]], ys: &[u8]) -> Eval {
        let mut p = [0.0; CLASSES];
        let (mut loss, mut correct) = (0.0f32, 0u32);
        for (x, &y) in xs.iter().zip(ys) {
            loss += self.forward(x, y, &mut p);
            let best = (0..CLASSES).fold(0, |b, c| if p[c] > p[b] { c } else { b });
            correct += u32::from(best == y as usize);
        }
        Eval {
            loss: loss / xs.len() as f32,
            correct,
            total: xs.len() as u32,
        }
    }

    /// One SGD step on a batch (PyTorch `SGD(momentum=m, dampening=0, nesterov=False)`:
    /// `buf = m * buf + g` (`buf = g` at the first step), `p -= lr * buf`). Returns the batch loss.
    // `c` indexes the probabilities, gradients, buffers and weights in lockstep.
    #[allow(clippy::needless_range_loop)]
    pub fn step(&mut self, batch: &[u16], lr: f32, momentum: f32) -> f32 {
        self.grad_w = [[0.0; FEATURES]; CLASSES];
        self.grad_b = [0.0; CLASSES];
        let mut p = [0.0; CLASSES];
        let mut loss = 0.0;
        let scale = 1.0 / batch.len() as f32;
        for &i in batch {
            let (x, y) = (&TRAIN_X[i as usize], TRAIN_Y[i as usize]);
            loss += self.forward(x, y, &mut p);
            for c in 0..CLASSES {
                let d = (p[c] - if c == y as usize { 1.0 } else { 0.0 }) * scale;
                self.grad_b[c] += d;
                for (g, &v) in self.grad_w[c].iter_mut().zip(x) {
                    *g += d * feature(v);
                }
            }
        }
        let first = !self.has_buf;
        self.has_buf = true;
        for c in 0..CLASSES {
            for k in 0..FEATURES {
                let g = self.grad_w[c][k];
                let buf = if first {
                    g
                } else {
                    momentum * self.buf_w[c][k] + g
                };
                self.buf_w[c][k] = buf;
                self.w[c][k] -= lr * buf;
            }
            let g = self.grad_b[c];
            let buf = if first {
                g
            } else {
                momentum * self.buf_b[c] + g
            };
            self.buf_b[c] = buf;
            self.b[c] -= lr * buf;
        }
        loss * scale
    }
}

/// Fine-tunes `trainer` (normally at its starting point) under `plan`; `log` gets the starting
/// point (epoch 0) and every epoch.
pub fn finetune(
    trainer: &mut Trainer,
    plan: Plan,
    mut log: impl FnMut(&EpochLog),
) -> Result<Outcome, Error> {
    let mut scheduler = plan.scheduler()?;
    let mut hash = 0x811c_9dc5u32;
    let before = trainer.evaluate(&EVAL_X, &EVAL_Y);
    let start = EpochLog {
        epoch: 0,
        train_loss: trainer.evaluate(&TRAIN_X, &TRAIN_Y).loss,
        eval: before,
        lr: scheduler.lr(),
        momentum: scheduler.momentum(),
    };
    let mut record = |entry: &EpochLog, hash: &mut u32| {
        for x in [entry.train_loss, entry.eval.loss, entry.lr, entry.momentum] {
            fnv(hash, x);
        }
        log(entry);
    };
    record(&start, &mut hash);

    let mut order = [0u16; TRAIN_X.len()];
    for (i, o) in order.iter_mut().enumerate() {
        *o = i as u16;
    }
    let mut seed = SEED;
    for epoch in 1..=EPOCHS as u32 {
        shuffle(&mut order, &mut seed);
        let (mut sum, mut last) = (0.0f32, (0.0, 0.0));
        for batch in order.chunks_exact(BATCH) {
            last = (scheduler.lr(), scheduler.momentum());
            sum += trainer.step(batch, last.0, last.1);
            scheduler.step()?;
        }
        let entry = EpochLog {
            epoch,
            train_loss: sum / STEPS_PER_EPOCH as f32,
            eval: trainer.evaluate(&EVAL_X, &EVAL_Y),
            lr: last.0,
            momentum: last.1,
        };
        record(&entry, &mut hash);
    }
    for row in &trainer.w {
        for &w in row {
            fnv(&mut hash, w);
        }
    }
    for &b in &trainer.b {
        fnv(&mut hash, b);
    }
    Ok(Outcome {
        before,
        after: trainer.evaluate(&EVAL_X, &EVAL_Y),
        hash,
    })
}

// ---------------------------------------------------------------------------------------------
// The LR range test before fine-tuning

/// The range test's steps: fastai's default `num_it` (a bit over 3 epochs of 32 batches).
pub const SWEEP_STEPS: u32 = LR_FINDER_NUM_ITER;
/// The finder of [`range_test`], fastai's defaults: 1e-7 to 10, exponential, stop on divergence.
pub type Finder = LrFinder<{ SWEEP_STEPS as usize }>;
/// The rule that picks `max_lr` from the sweep: fastai's default, `valley` (README: why). The
/// `force-failure` build takes Lightning's rule instead, which on this curve picks a point near
/// the start of the sweep (lr 1.9e-6: nothing is learned), to prove that the comparison with the
/// hand-chosen lr fails.
pub const RULE: Suggestion = if cfg!(feature = "force-failure") {
    Suggestion::Lightning
} else {
    Suggestion::Valley
};

/// One step of the sweep.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SweepStep {
    /// From 0.
    pub step: u32,
    /// The lr it trained at.
    pub lr: f32,
    /// The batch loss (before the update, as fastai records it).
    pub loss: f32,
    /// fastai's smoothed loss.
    pub smoothed: f32,
}

/// The result of a range test.
#[derive(Clone, Debug)]
pub struct RangeTest {
    /// The recorded sweep; ask it for any suggestion.
    pub finder: Finder,
    /// FNV-1a over every step's lr, loss and smoothed loss (host and device must agree).
    pub hash: u32,
}

impl RangeTest {
    /// What [`RULE`] suggests.
    pub fn suggested(&self) -> Result<Suggested, Error> {
        self.finder.suggest(RULE)
    }
}

/// fastai's `lr_find` on the head, before fine-tuning with `plan`: SGD at an lr growing from
/// 1e-7 to 10 over [`SWEEP_STEPS`] batches (stopping when the smoothed loss passes 4x its best,
/// or at a loss that is not finite), at the plan's starting momentum (OneCycleLR's 0.95), then
/// the parameters copied back and the optimizer reset. The batches come in the order `seed`
/// shuffles them ([`SEED`]: the batches the fine-tuning run starts with). `log` gets every step.
pub fn range_test(
    trainer: &mut Trainer,
    plan: Plan,
    seed: u32,
    mut log: impl FnMut(&SweepStep),
) -> Result<RangeTest, Error> {
    let momentum = plan.scheduler()?.momentum();
    let mut finder = Finder::new(LR_FINDER_START_LR, LR_FINDER_END_LR, SWEEP_STEPS)?;
    if momentum != 0.0 {
        finder = finder.momentum(momentum)?;
    }
    let start = trainer.params();
    let mut hash = 0x811c_9dc5u32;
    let mut order = [0u16; TRAIN_X.len()];
    for (i, o) in order.iter_mut().enumerate() {
        *o = i as u16;
    }
    let mut seed = seed;
    let mut step = 0;
    'sweep: loop {
        shuffle(&mut order, &mut seed);
        for batch in order.chunks_exact(BATCH) {
            let lr = finder.lr();
            let loss = trainer.step(batch, lr, finder.momentum_value().unwrap_or(0.0));
            let status = finder.observe(loss);
            let smoothed = finder.smoothed_losses().last().copied().unwrap_or(f32::NAN);
            for x in [lr, loss, smoothed] {
                fnv(&mut hash, x);
            }
            log(&SweepStep {
                step,
                lr,
                loss,
                smoothed,
            });
            step += 1;
            if status != Status::Running {
                break 'sweep;
            }
        }
    }
    trainer.restore(&start);
    Ok(RangeTest { finder, hash })
}

/// The check the firmware and test.sh apply to the found-lr run: it reaches at least the
/// hand-chosen run's held-out accuracy.
pub fn as_good(found: &Outcome, hand: &Outcome) -> bool {
    found.after.correct >= hand.after.correct
}

/// The check the firmware and the host test apply to a run: held-out loss fell, accuracy did
/// not drop.
pub fn improved(outcome: &Outcome) -> bool {
    let ok =
        outcome.after.loss < outcome.before.loss && outcome.after.correct >= outcome.before.correct;
    if cfg!(feature = "force-failure") {
        !ok
    } else {
        ok
    }
}
