//! Fine-tuning a softmax classifier head with SGD + momentum under a sched-core schedule.
//!
//! Arithmetic is f32 with `+ - * /` only (Rust never contracts them into FMAs) plus `libm`'s
//! software `expf`/`logf`, in a fixed order: the Cortex-M4F FPU and x86-64 SSE both round every
//! f32 operation per IEEE 754, so the host and the device produce bit-identical trajectories
//! (the host test and test.sh check the hash the device logs).

use crate::data::{CLASSES, EVAL_X, EVAL_Y, FEATURES, INIT_B, INIT_W, TRAIN_X, TRAIN_Y};
use sched_core::{CosineAnnealingLR, Error, OneCycleLR, Scheduler, WarmupLR, WarmupShape};

/// Mini-batch size.
pub const BATCH: usize = 16;
/// Passes over the 512 training images.
pub const EPOCHS: usize = 6;
/// Optimizer steps per epoch.
pub const STEPS_PER_EPOCH: usize = TRAIN_X.len() / BATCH;
/// Optimizer steps in a run.
pub const TOTAL_STEPS: usize = STEPS_PER_EPOCH * EPOCHS;

/// The schedules the example fine-tunes with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// 20 steps linear warmup from 0, then cosine to 0; SGD momentum 0.9, peak lr 0.5.
    WarmupCosine,
    /// OneCycleLR(max_lr = 1.0) over the run, cycling momentum 0.95 -> 0.85 -> 0.95.
    OneCycle,
}

impl Plan {
    /// Both, in the order the firmware runs them.
    pub const ALL: [Plan; 2] = [Plan::WarmupCosine, Plan::OneCycle];

    /// Short name for logs.
    pub fn name(self) -> &'static str {
        match self {
            Plan::WarmupCosine => "warmup+cosine",
            Plan::OneCycle => "one-cycle",
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
            Plan::OneCycle => Scheduler::new(OneCycleLR::new(1.0, TOTAL_STEPS as u32)?, 1.0, 0.0),
        }
    }
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
    let mut seed = 0x2545_f491u32;
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
