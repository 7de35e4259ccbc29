//! The network as a list of layers ([`net`], [`layers`]), its CPU trainer ([`cpu`], on
//! [`crate::kernels`]), where models train ([`backend`]: that trainer, or candle's tensors on CUDA),
//! and its parameters as `state_dict` tensors ([`tensors`]).

pub mod backend;
pub mod cpu;
pub mod layers;
pub mod net;
pub mod tensors;

use crate::optim::GroupStep;

/// One fused step's inputs: a batch (`x`, NCHW, and its `labels`), and for each model what its
/// schedules set for each of its param groups (lr, momentum slot, scheduled hyperparameters).
#[derive(Clone, Copy, Debug)]
pub struct StepInput<'a> {
    pub x: &'a [f32],
    pub labels: &'a [u32],
    pub steps: &'a [Vec<GroupStep>],
}
