//! The network as a list of layers ([`net`], [`layers`]), its CPU trainer ([`cpu`], on
//! [`crate::kernels`]), where models train ([`backend`]: that trainer, or candle's tensors on CUDA),
//! and its parameters as `state_dict` tensors ([`tensors`]).

pub mod backend;
pub mod cpu;
pub mod layers;
pub mod net;
pub mod tensors;

/// One fused step's inputs: a batch (`x`, NCHW, and its `labels`), and each model's lr and momentum
/// slot from its own schedule.
#[derive(Clone, Copy, Debug)]
pub struct StepInput<'a> {
    pub x: &'a [f32],
    pub labels: &'a [u32],
    pub lr: &'a [f32],
    pub momentum: &'a [f32],
}
