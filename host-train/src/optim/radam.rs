//! `torch.optim.RAdam(betas, eps, weight_decay, decoupled_weight_decay)` (Liu et al. 2020, "On the
//! Variance of the Adaptive Learning Rate and Beyond"), as its default CPU path
//! (`_single_tensor_radam`) computes it: Adam's moments, and while the variance of the adaptive lr
//! is intractable (`rho_t <= 5`, the first five steps at beta2 0.999) an SGD-with-momentum step on
//! the bias-corrected first moment; after that, Adam's step times the rectification `rect`.
//!
//! The momentum slot is `betas[0]`, which OneCycleLR and CyclicLR cycle.

use super::adam::{self, Moments};
use super::{Algorithm, BlockBuffers, State};
use anyhow::Result;
use serde::{Deserialize, Serialize};

/// `torch.optim.RAdam`'s parameters (its defaults: betas (0.9, 0.999), eps 1e-8, no weight decay).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RAdam {
    pub betas: [f32; 2],
    pub eps: f32,
    pub weight_decay: f32,
    /// AdamW's weight decay (the parameters shrink by `1 - lr weight_decay`) instead of an L2 term
    /// in the gradient.
    pub decoupled_weight_decay: bool,
}

impl Default for RAdam {
    fn default() -> Self {
        Self {
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
        }
    }
}

/// One step's scalars: PyTorch computes them as Python floats (f64); each becomes f32 where a tensor
/// op takes it.
pub struct Step {
    /// `1 - lr weight_decay` (decoupled), else 1.
    decay: f32,
    /// The L2 term's factor (not decoupled), else 0.
    l2: f32,
    moments: Moments,
    bias_correction1: f32,
    lr: f32,
    /// `(sqrt(1 - beta2^t), rect)` once the rectification applies (`rho_t > 5`).
    adaptive: Option<(f32, f32)>,
    eps: f32,
}

impl Algorithm for RAdam {
    const BUFFERS: &'static [&'static str] = &["exp_avg", "exp_avg_sq"];
    type Step = Step;

    fn check(&self) -> Result<()> {
        adam::check(self.betas, self.eps, self.weight_decay)
    }

    fn momentum(&self) -> f32 {
        self.betas[0]
    }

    fn begin_step(&self, state: &mut State, p: &[f32], lr: f32, m: f32) -> Step {
        let beta2 = self.betas[1] as f64;
        let t = (state.scalars.step + 1) as f64;
        let (moments, bias) = Moments::begin(state, p.len(), m as f64, beta2);
        let (bias_correction1, bias_correction2) = (bias.first, bias.second);
        let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
        let rho_t = rho_inf - 2.0 * t * beta2.powf(t) / bias_correction2;
        let adaptive = (rho_t > 5.0).then(|| {
            let rect = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                .powf(0.5);
            (bias_correction2.powf(0.5) as f32, rect as f32)
        });
        let wd = self.weight_decay as f64;
        let decoupled = self.decoupled_weight_decay && wd != 0.0;
        Step {
            decay: if decoupled {
                (1.0 - lr as f64 * wd) as f32
            } else {
                1.0
            },
            l2: if decoupled { 0.0 } else { self.weight_decay },
            moments,
            bias_correction1: bias_correction1 as f32,
            lr,
            adaptive,
            eps: self.eps,
        }
    }

    fn update(s: &Step, buffers: BlockBuffers, p: &mut [f32], g: &[f32]) {
        let [exp_avg, exp_avg_sq, _] = buffers;
        let (m1, m2) = (exp_avg.unwrap(), exp_avg_sq.unwrap());
        for i in 0..p.len() {
            let mut g = g[i];
            if s.decay != 1.0 {
                p[i] *= s.decay;
            }
            if s.l2 != 0.0 {
                g += s.l2 * p[i];
            }
            s.moments.update(&mut m1[i], &mut m2[i], g);
            let m_hat = m1[i] / s.bias_correction1;
            p[i] -= match s.adaptive {
                Some((bias_correction2_sqrt, rect)) => {
                    let adaptive_lr = (1.0 / (m2[i].sqrt() + s.eps)) * bias_correction2_sqrt;
                    m_hat * s.lr * adaptive_lr * rect
                }
                None => m_hat * s.lr,
            };
        }
    }
}
