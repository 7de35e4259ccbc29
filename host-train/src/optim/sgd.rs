//! `torch.optim.SGD(momentum, dampening, nesterov, weight_decay)`.

use super::{check, Algorithm, BlockBuffers, State};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// `torch.optim.SGD`'s parameters (its defaults: all 0 / false).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sgd {
    pub momentum: f32,
    pub dampening: f32,
    pub nesterov: bool,
    pub weight_decay: f32,
}

const MOMENTUM_BUFFER: usize = 0;

/// One step's scalars.
pub struct Step {
    lr: f32,
    m: f32,
    one_minus_dampening: f32,
    nesterov: bool,
    weight_decay: f32,
    /// The momentum buffer is created from this step's gradient.
    first: bool,
}

impl Algorithm for Sgd {
    const BUFFERS: &'static [&'static str] = &["momentum_buffer"];
    type Step = Step;

    fn check(&self) -> Result<()> {
        check::range("momentum", self.momentum, 0.0, false, 1.0)?;
        check::non_negative("weight_decay", self.weight_decay)?;
        check::finite("dampening", self.dampening)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            bail!("`optimizer.nesterov` = true requires a momentum > 0 and zero dampening (PyTorch's rule); got momentum {}, dampening {}", self.momentum, self.dampening);
        }
        Ok(())
    }

    fn momentum(&self) -> f32 {
        self.momentum
    }

    fn begin_step(&self, state: &mut State, p: &[f32], lr: f32, m: f32) -> Step {
        let first = m != 0.0 && state.buffers[MOMENTUM_BUFFER].is_none();
        if first {
            state.buffer(MOMENTUM_BUFFER, || vec![0.0; p.len()]);
        }
        Step {
            lr,
            m,
            one_minus_dampening: (1.0 - self.dampening as f64) as f32,
            nesterov: self.nesterov,
            weight_decay: self.weight_decay,
            first,
        }
    }

    fn update(s: &Step, buffers: BlockBuffers, p: &mut [f32], g: &[f32]) {
        let [momentum_buffer, ..] = buffers;
        let mut buf = momentum_buffer.filter(|_| s.m != 0.0);
        for i in 0..p.len() {
            let mut d = g[i];
            if s.weight_decay != 0.0 {
                d += s.weight_decay * p[i];
            }
            if let Some(b) = buf.as_deref_mut() {
                b[i] = if s.first {
                    d
                } else {
                    b[i] * s.m + s.one_minus_dampening * d
                };
                d = if s.nesterov { d + s.m * b[i] } else { b[i] };
            }
            p[i] -= s.lr * d;
        }
    }
}
