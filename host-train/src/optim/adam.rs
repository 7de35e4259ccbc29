//! The piece AdamW and RAdam share: Adam's first and second moments (`exp_avg`, `exp_avg_sq`, slots 0
//! and 1), their per-step scalars and bias corrections, and the constructor rules of `betas`, `eps`
//! and `weight_decay`.

use super::{check, lerp, State};
use anyhow::Result;

pub const EXP_AVG: usize = 0;
pub const EXP_AVG_SQ: usize = 1;

/// `betas` each in [0, 1), `eps` and `weight_decay` >= 0 (PyTorch's rules).
pub fn check(betas: [f32; 2], eps: f32, weight_decay: f32) -> Result<()> {
    check::betas(betas)?;
    check::non_negative("eps", eps)?;
    check::non_negative("weight_decay", weight_decay)
}

/// One step's moment scalars, as f32 tensor scalars.
pub struct Moments {
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
}

/// The bias corrections of step `t` (1-based): `1 - beta1^t`, `1 - beta2^t`, in f64 (Python floats).
pub struct BiasCorrections {
    pub first: f64,
    pub second: f64,
}

impl Moments {
    /// Creates the two moment buffers (zeros) if they do not exist; the scalars of this step at
    /// `beta1` (the schedule's momentum slot) and `beta2`, and its bias corrections.
    pub fn begin(state: &mut State, n: usize, beta1: f64, beta2: f64) -> (Self, BiasCorrections) {
        state.buffer(EXP_AVG, || vec![0.0; n]);
        state.buffer(EXP_AVG_SQ, || vec![0.0; n]);
        let t = (state.scalars.step + 1) as f64;
        let moments = Self {
            one_minus_beta1: (1.0 - beta1) as f32,
            beta2: beta2 as f32,
            one_minus_beta2: (1.0 - beta2) as f32,
        };
        let corrections = BiasCorrections {
            first: 1.0 - beta1.powf(t),
            second: 1.0 - beta2.powf(t),
        };
        (moments, corrections)
    }

    /// One element: `exp_avg.lerp_(g, 1 - beta1)`, `exp_avg_sq.mul_(beta2).addcmul_(g, g, 1 - beta2)`.
    #[inline(always)]
    pub fn update(&self, exp_avg: &mut f32, exp_avg_sq: &mut f32, g: f32) {
        *exp_avg = lerp(*exp_avg, g, self.one_minus_beta1);
        *exp_avg_sq = *exp_avg_sq * self.beta2 + self.one_minus_beta2 * g * g;
    }
}
