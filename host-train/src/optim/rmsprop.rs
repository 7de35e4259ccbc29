//! `torch.optim.RMSprop(alpha, eps, weight_decay, momentum, centered)`, as its default CPU path
//! (`_single_tensor_rmsprop`) computes it.
//!
//! The momentum slot is `momentum`, which OneCycleLR and CyclicLR cycle (PyTorch does so for RMSprop:
//! `momentum` is among its defaults). Its buffer is created at the first step with a momentum > 0, as
//! PyTorch's state is (where PyTorch, whose buffer exists only if the first step had one, would fail
//! on a later step with a momentum > 0, this starts the buffer at zero then).

use super::{check, lerp, Algorithm, BlockBuffers, State};
use anyhow::Result;
use serde::{Deserialize, Serialize};

/// `torch.optim.RMSprop`'s parameters (its defaults: alpha 0.99, eps 1e-8, the others 0 / false).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RmsProp {
    pub alpha: f32,
    pub eps: f32,
    pub weight_decay: f32,
    pub momentum: f32,
    pub centered: bool,
}

impl Default for RmsProp {
    fn default() -> Self {
        Self {
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }
}

const SQUARE_AVG: usize = 0;
const MOMENTUM_BUFFER: usize = 1;
const GRAD_AVG: usize = 2;

/// One step's scalars (Python floats rounded to f32, as the tensor ops take them).
pub struct Step {
    alpha: f32,
    one_minus_alpha: f32,
    eps: f32,
    weight_decay: f32,
    /// The momentum of this step (0: none).
    momentum: f32,
    neg_lr: f32,
    centered: bool,
}

impl Algorithm for RmsProp {
    const BUFFERS: &'static [&'static str] = &["square_avg", "momentum_buffer", "grad_avg"];
    type Step = Step;

    fn check(&self) -> Result<()> {
        check::non_negative("alpha", self.alpha)?;
        check::non_negative("eps", self.eps)?;
        check::non_negative("weight_decay", self.weight_decay)?;
        check::non_negative("momentum", self.momentum)
    }

    fn momentum(&self) -> f32 {
        self.momentum
    }

    fn begin_step(&self, state: &mut State, p: &[f32], lr: f32, m: f32) -> Step {
        let n = p.len();
        state.buffer(SQUARE_AVG, || vec![0.0; n]);
        if m > 0.0 {
            state.buffer(MOMENTUM_BUFFER, || vec![0.0; n]);
        }
        if self.centered {
            state.buffer(GRAD_AVG, || vec![0.0; n]);
        }
        Step {
            alpha: self.alpha,
            one_minus_alpha: (1.0 - self.alpha as f64) as f32,
            eps: self.eps,
            weight_decay: self.weight_decay,
            momentum: m.max(0.0),
            neg_lr: -lr,
            centered: self.centered,
        }
    }

    fn update(s: &Step, buffers: BlockBuffers, p: &mut [f32], g: &[f32]) {
        let [square_avg, momentum_buffer, grad_avg] = buffers;
        let sq = square_avg.unwrap();
        let mut buf = momentum_buffer.filter(|_| s.momentum > 0.0);
        let mut grad_avg = grad_avg.filter(|_| s.centered);
        for i in 0..p.len() {
            let mut g = g[i];
            if s.weight_decay != 0.0 {
                g += s.weight_decay * p[i];
            }
            sq[i] = sq[i] * s.alpha + s.one_minus_alpha * g * g;
            let avg = match grad_avg.as_deref_mut() {
                Some(ga) => {
                    ga[i] = lerp(ga[i], g, s.one_minus_alpha);
                    (sq[i] - ga[i] * ga[i]).sqrt()
                }
                None => sq[i].sqrt(),
            } + s.eps;
            match buf.as_deref_mut() {
                Some(b) => {
                    b[i] = b[i] * s.momentum + g / avg;
                    p[i] += s.neg_lr * b[i];
                }
                None => p[i] += s.neg_lr * g / avg,
            }
        }
    }
}
