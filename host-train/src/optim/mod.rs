//! The optimizers a run trains with, under their references' names, parameters and defaults:
//! `torch.optim.SGD`, `torch.optim.AdamW`, and the `schedulefree` package's (1.4) `SGDScheduleFree`
//! and `AdamWScheduleFree` (Defazio et al. 2024, "The Road Less Scheduled").
//!
//! Each update is written once, over flat f32 slices, and both backends (the CPU trainer and candle's
//! CUDA path) call it. The lr of every step is sched-core's; so is the momentum slot (SGD's
//! `momentum`, Adam's `beta1`), which OneCycleLR and CyclicLR cycle as PyTorch does. Scalars are
//! computed in f64 and rounded to f32 where the reference turns a Python float into a tensor scalar.

use anyhow::{bail, Result};
use rayon::iter::Either;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// A run's optimizer (its config's `optimizer = { kind = "...", ... }`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Optimizer {
    /// `torch.optim.SGD(momentum, dampening, nesterov, weight_decay)`.
    #[serde(rename = "SGD")]
    Sgd(Sgd),
    /// `torch.optim.AdamW(betas, eps, weight_decay, amsgrad)`.
    AdamW(AdamW),
    /// `schedulefree.SGDScheduleFree(momentum, weight_decay, warmup_steps, r, weight_lr_power)`.
    #[serde(rename = "SGDScheduleFree")]
    SgdScheduleFree(SgdScheduleFree),
    /// `schedulefree.AdamWScheduleFree(betas, eps, weight_decay, warmup_steps, r, weight_lr_power)`.
    AdamWScheduleFree(AdamWScheduleFree),
}

/// The `kind` names, for errors.
pub const KINDS: [&str; 4] = ["SGD", "AdamW", "SGDScheduleFree", "AdamWScheduleFree"];

/// `torch.optim.SGD`'s parameters (its defaults: all 0 / false).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sgd {
    pub momentum: f32,
    pub dampening: f32,
    pub nesterov: bool,
    pub weight_decay: f32,
}

/// `torch.optim.AdamW`'s parameters (its defaults: weight decay 1e-2).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamW {
    pub betas: [f32; 2],
    pub eps: f32,
    pub weight_decay: f32,
    pub amsgrad: bool,
}

impl Default for AdamW {
    fn default() -> Self {
        Self {
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 1e-2,
            amsgrad: false,
        }
    }
}

/// `schedulefree.SGDScheduleFree`'s parameters (its defaults).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SgdScheduleFree {
    pub momentum: f32,
    pub weight_decay: f32,
    pub warmup_steps: u32,
    pub r: f32,
    pub weight_lr_power: f32,
}

impl Default for SgdScheduleFree {
    fn default() -> Self {
        Self {
            momentum: 0.9,
            weight_decay: 0.0,
            warmup_steps: 0,
            r: 0.0,
            weight_lr_power: 2.0,
        }
    }
}

/// `schedulefree.AdamWScheduleFree`'s parameters (its defaults).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamWScheduleFree {
    pub betas: [f32; 2],
    pub eps: f32,
    pub weight_decay: f32,
    pub warmup_steps: u32,
    pub r: f32,
    pub weight_lr_power: f32,
}

impl Default for AdamWScheduleFree {
    fn default() -> Self {
        Self {
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
            warmup_steps: 0,
            r: 0.0,
            weight_lr_power: 2.0,
        }
    }
}

impl Default for Optimizer {
    /// Today's behaviour: plain SGD.
    fn default() -> Self {
        Optimizer::Sgd(Sgd::default())
    }
}

/// `v` within `[lo, hi)` (or `(lo, hi)` when `lo_open`), else an error naming `optimizer.<field>` and the rule.
fn check_range(field: &str, v: f32, lo: f32, lo_open: bool, hi: f32) -> Result<()> {
    let above = if lo_open { v > lo } else { v >= lo };
    if !(above && v < hi) {
        let open = if lo_open { "(" } else { "[" };
        bail!("`optimizer.{field}` must be in {open}{lo}, {hi}); got {v}");
    }
    Ok(())
}

fn check_non_negative(field: &str, v: f32) -> Result<()> {
    if !(v.is_finite() && v >= 0.0) {
        bail!("`optimizer.{field}` must be >= 0 and finite; got {v}");
    }
    Ok(())
}

fn check_betas(betas: [f32; 2]) -> Result<()> {
    for (i, b) in betas.into_iter().enumerate() {
        check_range(&format!("betas[{i}]"), b, 0.0, false, 1.0)?;
    }
    Ok(())
}

fn check_average(r: f32, weight_lr_power: f32) -> Result<()> {
    if !r.is_finite() {
        bail!("`optimizer.r` must be finite; got {r}");
    }
    check_non_negative("weight_lr_power", weight_lr_power)
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

    /// The rules of the references' constructors (PyTorch's, schedulefree's), plus finiteness.
    pub fn check(&self) -> Result<()> {
        match *self {
            Optimizer::Sgd(o) => {
                check_range("momentum", o.momentum, 0.0, false, 1.0)?;
                check_non_negative("weight_decay", o.weight_decay)?;
                if !o.dampening.is_finite() {
                    bail!("`optimizer.dampening` must be finite; got {}", o.dampening);
                }
                if o.nesterov && (o.momentum <= 0.0 || o.dampening != 0.0) {
                    bail!("`optimizer.nesterov` = true requires a momentum > 0 and zero dampening (PyTorch's rule); got momentum {}, dampening {}", o.momentum, o.dampening);
                }
            }
            Optimizer::AdamW(o) => {
                check_betas(o.betas)?;
                check_non_negative("eps", o.eps)?;
                check_non_negative("weight_decay", o.weight_decay)?;
            }
            Optimizer::SgdScheduleFree(o) => {
                check_range("momentum", o.momentum, 0.0, true, 1.0)?;
                check_non_negative("weight_decay", o.weight_decay)?;
                check_average(o.r, o.weight_lr_power)?;
            }
            Optimizer::AdamWScheduleFree(o) => {
                check_betas(o.betas)?;
                check_non_negative("eps", o.eps)?;
                check_non_negative("weight_decay", o.weight_decay)?;
                check_average(o.r, o.weight_lr_power)?;
            }
        }
        Ok(())
    }

    /// The reference's name, e.g. `AdamW`.
    pub fn kind(&self) -> &'static str {
        match self {
            Optimizer::Sgd(_) => KINDS[0],
            Optimizer::AdamW(_) => KINDS[1],
            Optimizer::SgdScheduleFree(_) => KINDS[2],
            Optimizer::AdamWScheduleFree(_) => KINDS[3],
        }
    }

    /// The optimizer a Schedule-Free one makes schedule-free (`SGD`, `AdamW`); the others' own kind.
    pub fn base_kind(&self) -> &'static str {
        match self {
            Optimizer::Sgd(_) | Optimizer::SgdScheduleFree(_) => KINDS[0],
            Optimizer::AdamW(_) | Optimizer::AdamWScheduleFree(_) => KINDS[1],
        }
    }

    /// The value a schedule's momentum cycling drives (PyTorch's `momentum`, or `betas[0]` of an
    /// optimizer with `betas`), as configured.
    pub fn momentum(&self) -> f32 {
        match *self {
            Optimizer::Sgd(o) => o.momentum,
            Optimizer::SgdScheduleFree(o) => o.momentum,
            Optimizer::AdamW(o) => o.betas[0],
            Optimizer::AdamWScheduleFree(o) => o.betas[0],
        }
    }

    /// Whether it keeps an average `x` apart from the point `y` gradients are taken at (Schedule-Free):
    /// evaluation and checkpoints use `x`.
    pub fn is_schedule_free(&self) -> bool {
        matches!(
            self,
            Optimizer::SgdScheduleFree(_) | Optimizer::AdamWScheduleFree(_)
        )
    }
}

/// The names of the per-parameter buffers an optimizer may keep, as in the reference's `state`.
pub const BUFFERS: [&str; 5] = [
    "momentum_buffer",
    "exp_avg",
    "exp_avg_sq",
    "max_exp_avg_sq",
    "z",
];

/// Flat buffers over all of a model's parameters, by [`BUFFERS`] index; `None` until the reference
/// would create it.
pub type Buffers = [Option<Vec<f32>>; BUFFERS.len()];

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

const MOMENTUM_BUFFER: usize = 0;
const EXP_AVG: usize = 1;
const EXP_AVG_SQ: usize = 2;
const MAX_EXP_AVG_SQ: usize = 3;
const Z: usize = 4;

/// `torch.lerp` on one element: `a + w (b - a)` for |w| < 0.5, else `b - (b - a)(1 - w)`.
#[inline(always)]
fn lerp(a: f32, b: f32, w: f32) -> f32 {
    if w.abs() < 0.5 {
        a + w * (b - a)
    } else {
        b - (b - a) * (1.0 - w)
    }
}

/// Schedule-Free's per-step lr (after warmup) and the weight of the new point in the average `ckp1`;
/// updates `lr_max` and `weight_sum` as the reference does (the step count `k` moves on after the
/// update, in [`ModelOptimizer::step`]).
fn schedule_free_step(
    s: &mut Scalars,
    lr: f32,
    warmup_steps: u32,
    r: f32,
    power: f32,
) -> (f64, f64) {
    let k = s.step as f64;
    let sched = if s.step < warmup_steps as u64 {
        (k + 1.0) / warmup_steps as f64
    } else {
        1.0
    };
    let lr = lr as f64 * sched;
    s.lr_max = lr.max(s.lr_max);
    let weight = (k + 1.0).powf(r as f64) * s.lr_max.powf(power as f64);
    s.weight_sum += weight;
    let ckp1 = if s.weight_sum == 0.0 {
        0.0
    } else {
        weight / s.weight_sum
    };
    (lr, ckp1)
}

impl State {
    fn buffer(&mut self, i: usize, init: impl FnOnce() -> Vec<f32>) -> &mut Vec<f32> {
        self.buffers[i].get_or_insert_with(init)
    }

    /// The buffers that exist, by name.
    pub fn named_buffers(&self) -> impl Iterator<Item = (&'static str, &[f32])> {
        BUFFERS
            .into_iter()
            .zip(&self.buffers)
            .filter_map(|(name, b)| b.as_deref().map(|b| (name, b)))
    }
}

/// Elements per block: the sum of a block's gradient chunks stays in cache while it is applied.
const BLOCK: usize = 1024;

/// One block's slices of the buffers (by [`BUFFERS`] index).
type BlockBuffers<'a> = [Option<&'a mut [f32]>; BUFFERS.len()];

/// One model's optimizer: what the run configured and its state.
#[derive(Clone, Debug)]
pub struct ModelOptimizer {
    pub config: Optimizer,
    pub state: State,
}

/// A buffer of `n` elements cut into the blocks of [`ModelOptimizer::step`], or `None` for every block
/// where the buffer does not exist (yet).
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

impl ModelOptimizer {
    pub fn new(config: Optimizer, state: State) -> Self {
        Self { config, state }
    }

    /// One step of the optimizer on the flat parameters `p`, whose gradient is the sum, in order, of
    /// the chunks of `parts` (each `p.len()` long), at the schedule's `lr` and momentum slot `m`.
    pub fn step(&mut self, p: &mut [f32], parts: &[f32], lr: f32, m: f32) {
        let n = p.len();
        let chunks = parts.len() / n.max(1);
        let st = &mut self.state;
        // Per-step scalars, then the same element-wise update block by block.
        let update = Update::new(&self.config, st, p, lr, m);
        // The blocks on all threads (summing the chunks is most of a step's time when few models
        // train): each element's chunks are still summed in order. Every buffer is cut into the same
        // blocks as the parameters (one name per BUFFERS entry), without a per-step allocation.
        let [b0, b1, b2, b3, b4] = st
            .buffers
            .each_mut()
            .map(|b| buffer_blocks(b.as_deref_mut(), n));
        (p.par_chunks_mut(BLOCK), b0, b1, b2, b3, b4)
            .into_par_iter()
            .enumerate()
            .for_each(|(i, (p, b0, b1, b2, b3, b4))| {
                let (start, end) = (i * BLOCK, i * BLOCK + p.len());
                let mut g = [0f32; BLOCK];
                let g = &mut g[..end - start];
                g.copy_from_slice(&parts[start..end]);
                for c in 1..chunks {
                    for (a, b) in g.iter_mut().zip(&parts[c * n + start..c * n + end]) {
                        *a += b;
                    }
                }
                update.apply([b0, b1, b2, b3, b4], p, g);
            });
        st.scalars.step += 1;
    }

    /// Schedule-Free's `optimizer.train()` (`train`: the parameters become `y`, where gradients are
    /// taken) or `optimizer.eval()` (the parameters become the average `x`), at momentum `m`; the
    /// other optimizers have no modes.
    pub fn set_mode(&mut self, p: &mut [f32], m: f32, train: bool) {
        if self.config.is_schedule_free() && self.state.scalars.train_mode != train {
            if let Some(z) = &self.state.buffers[Z] {
                // y = lerp(x, z, 1 - m), so x = lerp(y, z, 1 - 1/m).
                let m = m as f64;
                let w = (if train { 1.0 - m } else { 1.0 - 1.0 / m }) as f32;
                p.iter_mut().zip(z).for_each(|(p, &z)| *p = lerp(*p, z, w));
            }
        }
        self.state.scalars.train_mode = train;
    }
}

/// One step's scalars, as the reference computes them before its element-wise loop.
enum Update {
    Sgd {
        lr: f32,
        m: f32,
        one_minus_dampening: f32,
        nesterov: bool,
        weight_decay: f32,
        /// The momentum buffer is created from this step's gradient.
        first: bool,
    },
    AdamW {
        decay: f32,
        one_minus_beta1: f32,
        beta2: f32,
        one_minus_beta2: f32,
        bias_correction2_sqrt: f32,
        eps: f32,
        neg_step_size: f32,
        amsgrad: bool,
    },
    ScheduleFree {
        /// AdamW's second moment: beta2, 1 - beta2, 1 - beta2^(k+1), eps.
        adam: Option<(f32, f32, f32, f32)>,
        weight_decay: f32,
        ckp1: f32,
        y_alpha: f32,
        neg_lr: f32,
    },
}

impl Update {
    fn new(config: &Optimizer, st: &mut State, p: &[f32], lr: f32, m: f32) -> Self {
        let n = p.len();
        match *config {
            Optimizer::Sgd(o) => {
                let first = m != 0.0 && st.buffers[MOMENTUM_BUFFER].is_none();
                if first {
                    st.buffer(MOMENTUM_BUFFER, || vec![0.0; n]);
                }
                Update::Sgd {
                    lr,
                    m,
                    one_minus_dampening: (1.0 - o.dampening as f64) as f32,
                    nesterov: o.nesterov,
                    weight_decay: o.weight_decay,
                    first,
                }
            }
            Optimizer::AdamW(o) => {
                st.buffer(EXP_AVG, || vec![0.0; n]);
                st.buffer(EXP_AVG_SQ, || vec![0.0; n]);
                if o.amsgrad {
                    st.buffer(MAX_EXP_AVG_SQ, || vec![0.0; n]);
                }
                let (beta1, beta2) = (m as f64, o.betas[1] as f64);
                let step = (st.scalars.step + 1) as f64;
                let bias_correction1 = 1.0 - beta1.powf(step);
                let bias_correction2 = 1.0 - beta2.powf(step);
                Update::AdamW {
                    decay: (1.0 - lr as f64 * o.weight_decay as f64) as f32,
                    one_minus_beta1: (1.0 - beta1) as f32,
                    beta2: beta2 as f32,
                    one_minus_beta2: (1.0 - beta2) as f32,
                    bias_correction2_sqrt: bias_correction2.sqrt() as f32,
                    eps: o.eps,
                    neg_step_size: (-(lr as f64) / bias_correction1) as f32,
                    amsgrad: o.amsgrad,
                }
            }
            Optimizer::SgdScheduleFree(o) => {
                let average = (o.warmup_steps, o.r, o.weight_lr_power, o.weight_decay);
                Self::schedule_free(st, p, (lr, m), average, None)
            }
            Optimizer::AdamWScheduleFree(o) => {
                st.buffer(EXP_AVG_SQ, || vec![0.0; n]);
                let beta2 = o.betas[1] as f64;
                let bias_correction2 = 1.0 - beta2.powf((st.scalars.step + 1) as f64);
                let adam = (
                    beta2 as f32,
                    (1.0 - beta2) as f32,
                    bias_correction2 as f32,
                    o.eps,
                );
                let average = (o.warmup_steps, o.r, o.weight_lr_power, o.weight_decay);
                Self::schedule_free(st, p, (lr, m), average, Some(adam))
            }
        }
    }

    /// Both Schedule-Free optimizers' step scalars: `(warmup_steps, r, weight_lr_power,
    /// weight_decay)`, and AdamW's second-moment scalars for AdamWScheduleFree.
    fn schedule_free(
        st: &mut State,
        p: &[f32],
        (lr, m): (f32, f32),
        (warmup_steps, r, power, weight_decay): (u32, f32, f32, f32),
        adam: Option<(f32, f32, f32, f32)>,
    ) -> Self {
        st.buffer(Z, || p.to_vec());
        let (lr, ckp1) = schedule_free_step(&mut st.scalars, lr, warmup_steps, r, power);
        Update::ScheduleFree {
            adam,
            weight_decay,
            ckp1: ckp1 as f32,
            y_alpha: (lr * (m as f64 * (1.0 - ckp1) - 1.0)) as f32,
            neg_lr: -lr as f32,
        }
    }

    /// The element-wise update of one block (parameters `p`, gradient `g`, the buffers' same elements).
    fn apply(&self, buffers: BlockBuffers, p: &mut [f32], g: &mut [f32]) {
        let [momentum_buffer, exp_avg, exp_avg_sq, max_exp_avg_sq, z] = buffers;
        match *self {
            Update::Sgd {
                lr,
                m,
                one_minus_dampening,
                nesterov,
                weight_decay,
                first,
            } => {
                let mut buf = momentum_buffer.filter(|_| m != 0.0);
                for i in 0..p.len() {
                    let mut d = g[i];
                    if weight_decay != 0.0 {
                        d += weight_decay * p[i];
                    }
                    if let Some(b) = buf.as_deref_mut() {
                        b[i] = if first {
                            d
                        } else {
                            b[i] * m + one_minus_dampening * d
                        };
                        d = if nesterov { d + m * b[i] } else { b[i] };
                    }
                    p[i] -= lr * d;
                }
            }
            Update::AdamW {
                decay,
                one_minus_beta1,
                beta2,
                one_minus_beta2,
                bias_correction2_sqrt,
                eps,
                neg_step_size,
                amsgrad,
            } => {
                let (m1, m2) = (exp_avg.unwrap(), exp_avg_sq.unwrap());
                let mut max2 = max_exp_avg_sq.filter(|_| amsgrad);
                for i in 0..p.len() {
                    p[i] *= decay;
                    m1[i] = lerp(m1[i], g[i], one_minus_beta1);
                    m2[i] = m2[i] * beta2 + one_minus_beta2 * g[i] * g[i];
                    let v = match max2.as_deref_mut() {
                        Some(mx) => {
                            mx[i] = mx[i].max(m2[i]);
                            mx[i]
                        }
                        None => m2[i],
                    };
                    let denom = v.sqrt() / bias_correction2_sqrt + eps;
                    p[i] += neg_step_size * (m1[i] / denom);
                }
            }
            Update::ScheduleFree {
                adam,
                weight_decay,
                ckp1,
                y_alpha,
                neg_lr,
            } => {
                let z = z.unwrap();
                let mut v = exp_avg_sq;
                for i in 0..p.len() {
                    let mut d = g[i];
                    if let (Some((beta2, one_minus_beta2, bias_correction2, eps)), Some(v)) =
                        (adam, v.as_deref_mut())
                    {
                        v[i] = v[i] * beta2 + one_minus_beta2 * d * d;
                        d /= (v[i] / bias_correction2).sqrt() + eps;
                    }
                    if weight_decay != 0.0 {
                        d += weight_decay * p[i];
                    }
                    p[i] = lerp(p[i], z[i], ckp1);
                    p[i] += y_alpha * d;
                    z[i] += neg_lr * d;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Optimizer> {
        Optimizer::from_toml(toml::from_str::<toml::Table>(text).unwrap().into())
    }

    #[test]
    fn defaults_are_the_references() {
        assert_eq!(
            parse("kind = \"AdamW\"").unwrap(),
            Optimizer::AdamW(AdamW {
                betas: [0.9, 0.999],
                eps: 1e-8,
                weight_decay: 0.01,
                amsgrad: false
            })
        );
        assert_eq!(parse("kind = \"SGD\"").unwrap(), Optimizer::default());
        let sf = parse("kind = \"SGDScheduleFree\"\nwarmup_steps = 100").unwrap();
        assert_eq!(sf.momentum(), 0.9);
        assert!(sf.is_schedule_free());
    }

    #[test]
    fn bad_optimizers_name_the_field_and_the_rule() {
        let err = |t: &str| parse(t).unwrap_err().to_string();
        assert_eq!(
            err("kind = \"Adam\""),
            "`optimizer.kind` = \"Adam\": unknown optimizer; expected one of SGD, AdamW, SGDScheduleFree, AdamWScheduleFree"
        );
        assert!(err("kind = \"AdamW\"\nbeta = [0.9, 0.99]").contains(
            "unknown field `beta`, expected one of `betas`, `eps`, `weight_decay`, `amsgrad`"
        ));
        assert_eq!(
            err("kind = \"AdamW\"\nbetas = [0.9, 1.0]"),
            "`optimizer.betas[1]` must be in [0, 1); got 1"
        );
        assert_eq!(
            err("kind = \"AdamW\"\neps = -1e-8"),
            "`optimizer.eps` must be >= 0 and finite; got -0.00000001"
        );
        assert!(err("kind = \"SGD\"\nnesterov = true")
            .starts_with("`optimizer.nesterov` = true requires a momentum > 0 and zero dampening"));
        assert_eq!(
            err("kind = \"SGDScheduleFree\"\nmomentum = 0.0"),
            "`optimizer.momentum` must be in (0, 1); got 0"
        );
        assert!(err("momentum = 0.9").starts_with("`optimizer.kind` is missing"));
    }

    /// Plain SGD with momentum as PyTorch documents it, on a quadratic, against the update written
    /// out by hand; and the chunks of a gradient are summed before the update.
    #[test]
    fn sgd_follows_its_formula() {
        let mut opt = ModelOptimizer::new(
            Optimizer::Sgd(Sgd {
                momentum: 0.5,
                weight_decay: 0.1,
                ..Sgd::default()
            }),
            State::default(),
        );
        let mut p = [1.0f32, -2.0];
        let (mut pe, mut buf) = ([1.0f32, -2.0], [0.0f32; 2]);
        for step in 0..3 {
            let g = [2.0 * p[0], 2.0 * p[1]];
            // Two chunks of the same gradient's halves.
            let parts = [g[0] / 2.0, g[1] / 2.0, g[0] / 2.0, g[1] / 2.0];
            opt.step(&mut p, &parts, 0.1, 0.5);
            for i in 0..2 {
                let d = 2.0 * pe[i] + 0.1 * pe[i];
                buf[i] = if step == 0 { d } else { buf[i] * 0.5 + d };
                pe[i] -= 0.1 * buf[i];
            }
        }
        assert_eq!(p, pe);
    }

    /// Schedule-Free with constant lr and no warmup: y is the interpolation of x (the uniform
    /// average of the z's) and z, which eval() recovers.
    #[test]
    fn schedule_free_eval_recovers_the_average() {
        let beta = 0.9f32;
        let mut opt = ModelOptimizer::new(
            Optimizer::SgdScheduleFree(SgdScheduleFree::default()),
            State::default(),
        );
        let mut p = [1.0f32];
        opt.set_mode(&mut p, beta, true);
        let mut zs = vec![1.0f64];
        for _ in 0..20 {
            let g = [2.0 * p[0]];
            opt.step(&mut p, &g, 0.1, beta);
            zs.push(opt.state.buffers[Z].as_ref().unwrap()[0] as f64);
        }
        // x_T is the average of z_1..z_T with equal weights (constant lr, r = 0), and
        // y = (1 - beta) z + beta x: eval() turns y into x.
        let x = zs.iter().skip(1).sum::<f64>() / 20.0;
        let mut y = p;
        opt.set_mode(&mut y, beta, false);
        assert!(!opt.state.scalars.train_mode);
        assert!(
            (y[0] as f64 - x).abs() < 1e-5 * x.abs().max(1e-3),
            "{} vs {x}",
            y[0]
        );
        opt.set_mode(&mut y, beta, true);
        assert!((y[0] - p[0]).abs() < 1e-6);
    }
}
