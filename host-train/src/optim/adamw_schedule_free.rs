//! `schedulefree.AdamWScheduleFree(betas, eps, weight_decay, warmup_steps, r, weight_lr_power)`.

use super::schedule_free::{self, Averaging, Interpolation};
use super::{adam, Algorithm, BlockBuffers, State};
use anyhow::Result;
use serde::{Deserialize, Serialize};

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

const Z: usize = 0;
const EXP_AVG_SQ: usize = 1;

/// One step's scalars: the interpolation's, and Adam's second moment (beta2, 1 - beta2,
/// 1 - beta2^(k+1), eps).
pub struct Step {
    interpolation: Interpolation,
    beta2: f32,
    one_minus_beta2: f32,
    bias_correction2: f32,
    eps: f32,
}

impl Algorithm for AdamWScheduleFree {
    const BUFFERS: &'static [&'static str] = &["z", "exp_avg_sq"];
    const SCHEDULE_FREE: bool = true;
    const BASE_KIND: Option<&'static str> = Some("AdamW");
    type Step = Step;

    fn check(&self) -> Result<()> {
        adam::check(self.betas, self.eps, self.weight_decay)?;
        schedule_free::check_average(self.r, self.weight_lr_power)
    }

    fn momentum(&self) -> f32 {
        self.betas[0]
    }

    fn begin_step(&self, state: &mut State, p: &[f32], lr: f32, m: f32) -> Step {
        state.buffer(EXP_AVG_SQ, || vec![0.0; p.len()]);
        let beta2 = self.betas[1] as f64;
        let bias_correction2 = 1.0 - beta2.powf((state.scalars.step + 1) as f64);
        let averaging = Averaging {
            warmup_steps: self.warmup_steps,
            r: self.r,
            weight_lr_power: self.weight_lr_power,
            weight_decay: self.weight_decay,
        };
        Step {
            interpolation: Interpolation::begin(state, Z, p, lr, m, averaging),
            beta2: beta2 as f32,
            one_minus_beta2: (1.0 - beta2) as f32,
            bias_correction2: bias_correction2 as f32,
            eps: self.eps,
        }
    }

    fn update(s: &Step, buffers: BlockBuffers, p: &mut [f32], g: &[f32]) {
        let [z, v, _] = buffers;
        let (z, v) = (z.unwrap(), v.unwrap());
        for i in 0..p.len() {
            let d = g[i];
            v[i] = v[i] * s.beta2 + s.one_minus_beta2 * d * d;
            let d = d / ((v[i] / s.bias_correction2).sqrt() + s.eps);
            s.interpolation.apply(&mut p[i], &mut z[i], d);
        }
    }

    fn set_mode(&self, state: &mut State, p: &mut [f32], m: f32, train: bool) {
        schedule_free::set_mode(state, Z, p, m, train);
    }
}
