//! `torch.optim.AdamW(betas, eps, weight_decay, amsgrad)`.

use super::adam::{self, Moments};
use super::{Algorithm, BlockBuffers, State};
use anyhow::Result;
use serde::{Deserialize, Serialize};

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

const MAX_EXP_AVG_SQ: usize = 2;

/// One step's scalars.
pub struct Step {
    decay: f32,
    moments: Moments,
    bias_correction2_sqrt: f32,
    eps: f32,
    neg_step_size: f32,
    amsgrad: bool,
}

impl Algorithm for AdamW {
    const BUFFERS: &'static [&'static str] = &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"];
    type Step = Step;

    fn check(&self) -> Result<()> {
        adam::check(self.betas, self.eps, self.weight_decay)
    }

    fn momentum(&self) -> f32 {
        self.betas[0]
    }

    fn begin_step(&self, state: &mut State, p: &[f32], lr: f32, m: f32) -> Step {
        let n = p.len();
        let (moments, bias) = Moments::begin(state, n, m as f64, self.betas[1] as f64);
        if self.amsgrad {
            state.buffer(MAX_EXP_AVG_SQ, || vec![0.0; n]);
        }
        Step {
            decay: (1.0 - lr as f64 * self.weight_decay as f64) as f32,
            moments,
            bias_correction2_sqrt: bias.second.sqrt() as f32,
            eps: self.eps,
            neg_step_size: (-(lr as f64) / bias.first) as f32,
            amsgrad: self.amsgrad,
        }
    }

    fn update(s: &Step, buffers: BlockBuffers, p: &mut [f32], g: &[f32]) {
        let [exp_avg, exp_avg_sq, max_exp_avg_sq] = buffers;
        let (m1, m2) = (exp_avg.unwrap(), exp_avg_sq.unwrap());
        let mut max2 = max_exp_avg_sq.filter(|_| s.amsgrad);
        for i in 0..p.len() {
            p[i] *= s.decay;
            s.moments.update(&mut m1[i], &mut m2[i], g[i]);
            let v = match max2.as_deref_mut() {
                Some(mx) => {
                    mx[i] = mx[i].max(m2[i]);
                    mx[i]
                }
                None => m2[i],
            };
            let denom = v.sqrt() / s.bias_correction2_sqrt + s.eps;
            p[i] += s.neg_step_size * (m1[i] / denom);
        }
    }
}
