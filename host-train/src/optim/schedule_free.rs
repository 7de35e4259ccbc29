//! The piece both Schedule-Free optimizers share (the `schedulefree` package, 1.4; Defazio et al.
//! 2024, "The Road Less Scheduled"): the averaging weights of each step, the interpolation of `y`
//! between the average `x` and the iterate `z`, and the switch between train and eval modes.

use super::{check, lerp, Scalars, State};
use anyhow::Result;

/// The averaging parameters: `r` finite, `weight_lr_power` >= 0.
pub fn check_average(r: f32, weight_lr_power: f32) -> Result<()> {
    check::finite("r", r)?;
    check::non_negative("weight_lr_power", weight_lr_power)
}

/// What both take besides the base optimizer's parameters.
#[derive(Clone, Copy)]
pub struct Averaging {
    pub warmup_steps: u32,
    pub r: f32,
    pub weight_lr_power: f32,
    pub weight_decay: f32,
}

/// One step's scalars of the interpolation.
pub struct Interpolation {
    weight_decay: f32,
    ckp1: f32,
    y_alpha: f32,
    neg_lr: f32,
}

/// Schedule-Free's per-step lr (after warmup) and the weight of the new point in the average `ckp1`;
/// updates `lr_max` and `weight_sum` as the reference does (the step count `k` moves on after the
/// update, in the driver).
fn lr_and_weight(s: &mut Scalars, lr: f32, a: Averaging) -> (f64, f64) {
    let k = s.step as f64;
    let sched = if s.step < a.warmup_steps as u64 {
        (k + 1.0) / a.warmup_steps as f64
    } else {
        1.0
    };
    let lr = lr as f64 * sched;
    s.lr_max = lr.max(s.lr_max);
    let weight = (k + 1.0).powf(a.r as f64) * s.lr_max.powf(a.weight_lr_power as f64);
    s.weight_sum += weight;
    let ckp1 = if s.weight_sum == 0.0 {
        0.0
    } else {
        weight / s.weight_sum
    };
    (lr, ckp1)
}

impl Interpolation {
    /// The step's scalars at the schedule's `lr` and momentum `m`; `z` (buffer `z_slot`) starts as
    /// the parameters.
    pub fn begin(
        state: &mut State,
        z_slot: usize,
        p: &[f32],
        lr: f32,
        m: f32,
        a: Averaging,
    ) -> Self {
        state.buffer(z_slot, || p.to_vec());
        let (lr, ckp1) = lr_and_weight(&mut state.scalars, lr, a);
        Self {
            weight_decay: a.weight_decay,
            ckp1: ckp1 as f32,
            y_alpha: (lr * (m as f64 * (1.0 - ckp1) - 1.0)) as f32,
            neg_lr: -lr as f32,
        }
    }

    /// One element: the base optimizer's direction `d` (weight decay at `y` added here) moves `z`,
    /// and `y` moves towards `z` and along `d`.
    #[inline(always)]
    pub fn apply(&self, y: &mut f32, z: &mut f32, mut d: f32) {
        if self.weight_decay != 0.0 {
            d += self.weight_decay * *y;
        }
        *y = lerp(*y, *z, self.ckp1);
        *y += self.y_alpha * d;
        *z += self.neg_lr * d;
    }
}

/// `optimizer.train()` (`train`: the parameters become `y`) or `optimizer.eval()` (they become the
/// average `x`), at momentum `m`: `y = lerp(x, z, 1 - m)`, so `x = lerp(y, z, 1 - 1/m)`.
pub fn set_mode(state: &State, z_slot: usize, p: &mut [f32], m: f32, train: bool) {
    if state.scalars.train_mode == train {
        return;
    }
    if let Some(z) = &state.buffers[z_slot] {
        let m = m as f64;
        let w = (if train { 1.0 - m } else { 1.0 - 1.0 / m }) as f32;
        p.iter_mut().zip(z).for_each(|(p, &z)| *p = lerp(*p, z, w));
    }
}
