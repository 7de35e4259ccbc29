//! `schedulefree.SGDScheduleFree(momentum, weight_decay, warmup_steps, r, weight_lr_power)`.

use super::schedule_free::{self, Averaging, Interpolation};
use super::{check, Algorithm, BlockBuffers, State};
use anyhow::Result;
use serde::{Deserialize, Serialize};

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

const Z: usize = 0;

impl Algorithm for SgdScheduleFree {
    const BUFFERS: &'static [&'static str] = &["z"];
    const SCHEDULE_FREE: bool = true;
    const BASE_KIND: Option<&'static str> = Some("SGD");
    type Step = Interpolation;

    fn check(&self) -> Result<()> {
        check::range("momentum", self.momentum, 0.0, true, 1.0)?;
        check::non_negative("weight_decay", self.weight_decay)?;
        schedule_free::check_average(self.r, self.weight_lr_power)
    }

    fn momentum(&self) -> f32 {
        self.momentum
    }

    fn begin_step(&self, state: &mut State, p: &[f32], lr: f32, m: f32) -> Interpolation {
        let averaging = Averaging {
            warmup_steps: self.warmup_steps,
            r: self.r,
            weight_lr_power: self.weight_lr_power,
            weight_decay: self.weight_decay,
        };
        Interpolation::begin(state, Z, p, lr, m, averaging)
    }

    fn update(s: &Interpolation, buffers: BlockBuffers, p: &mut [f32], g: &[f32]) {
        let [z, ..] = buffers;
        let z = z.unwrap();
        for i in 0..p.len() {
            s.apply(&mut p[i], &mut z[i], g[i]);
        }
    }

    fn set_mode(&self, state: &mut State, p: &mut [f32], m: f32, train: bool) {
        schedule_free::set_mode(state, Z, p, m, train);
    }
}
